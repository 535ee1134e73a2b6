#!/usr/bin/env bash
# Description: with allow_other, only an object's owner (or root) may change its type or backing: an unprivileged uid gets EPERM even on a world-writable object of another user (EACCES on a 0644 one), the object is left exactly as it was, and the owner itself may change them
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd setpriv setfattr getfattr
# shellcheck disable=SC2016 # $1 is the inner shell's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd "$1"' sh "${PFS_TMPROOT:-/tmp}" 2>/dev/null; then
	export PFS_TMPROOT=/tmp # nobody must reach the mount and the backing files
fi
pfs_setup
chmod 755 "$PFS_T" || fail "chmod $PFS_T"
mkdir -m 755 "$PFS_T/bin" && install -m 755 "$MMAP_CLIENT" "$PFS_T/bin/mmap_client" || fail "cannot install the client for nobody"
NC=$PFS_T/bin/mmap_client
nb() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
pfs_start "$STORE" "$MNT" -o allow_other
nb test -r "$MNT/.pagerfs/status" || fail "nobody cannot reach $MNT"

# A backing file everyone may read.
B=$PFS_T/world.bin
gen_file "$B" 64K 181
chmod 644 "$B"
t=$MNT/tmp
mkdir -m 1777 "$t" || fail "mkdir $t"

# root's objects: one world-writable (the kernel lets nobody write its
# attributes, so the daemon's ownership check is what refuses), one 0644.
for n in rw ro; do
	: >"$t/$n" && truncate -s 64K "$t/$n" || fail "cannot create $t/$n"
	must "write $n" pfs_client write "$t/$n" 0 16K 182 --msync
	must "release $n's pages" pfs_client punch "$t/$n" 0 64K # no paged-out data: type and backing are changeable
done
chmod 666 "$t/rw" && chmod 644 "$t/ro" || fail chmod
snap() { # FILE: everything a refused change must leave alone
	printf '%s|%s|%s|%s|%s' "$(xget "$1" type 2>&1)" "$(xget "$1" flags 2>&1)" \
		"$(xget "$1" backing 2>&1)" "$(xget "$1" pages 2>&1)" "$(stat -c '%s %a %u' "$1")"
}
for n in rw ro; do
	s0=$(snap "$t/$n")
	[ "$n" = rw ] && want='Operation not permitted' || want='Permission denied|Operation not permitted'
	must_err "nobody sets $n's type to code" "$want" nb setfattr -n user.pagerfs.type -v code "$t/$n"
	must_err "nobody sets $n's type to stack" "$want" nb setfattr -n user.pagerfs.type -v stack "$t/$n"
	must_err "nobody sets $n's backing" "$want" nb setfattr -n user.pagerfs.backing -v "$B" "$t/$n"
	must_err "nobody sets $n's backing with a range" "$want" nb setfattr -n user.pagerfs.backing -v "$B:4096:8192" "$t/$n"
	s=$(snap "$t/$n")
	[ "$s" = "$s0" ] || fail "$n changed after refused type/backing changes: '$s0' -> '$s'"
	must "$n still reads as zeros" pfs_client verify "$t/$n" 0 64K 0
done

# root may change them on any object; the owner on its own.
must "root sets rw's backing" xset "$t/rw" backing "$B"
must "rw shows the backing" pfs_client verify "$t/rw" 0 64K 181
mine=$t/mine
must "nobody creates an object" nb truncate -s 0 "$mine"
must "the owner sets its backing" nb setfattr -n user.pagerfs.backing -v "$B" "$mine"
must "the owner sets its type" nb setfattr -n user.pagerfs.type -v heap "$mine"
must "the owner sets persist" nb setfattr -n user.pagerfs.flags -v persist "$mine"
must_xget v "$mine" type
[ "$v" = heap ] || fail "nobody's object has type '$v' after the owner set heap"
must "the owner's object shows its backing" nb "$NC" verify "$mine" 0 64K 181
pfs_stop "$MNT"
