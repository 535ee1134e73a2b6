#!/usr/bin/env bash
# Description: backing files are opened with the requesting caller's uid, gid and supplementary groups: an unprivileged uid cannot back an object with a root-only file, a file in a directory it cannot search, or a group file without that group, nor open root's object backed by a root-only file; with the group it can; refusals change nothing
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
GRP=4242 # a group nobody is not in (setpriv adds it on request)
nb() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nbg() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --groups=$GRP "$@"; }
pfs_start "$STORE" "$MNT" -o allow_other
nb test -r "$MNT/.pagerfs/status" || fail "nobody cannot reach $MNT"

F=$PFS_T/files
mkdir -m 755 "$F" "$F/hidden" && chmod 700 "$F/hidden" || fail "mkdir $F"
gen_file "$F/secret" 64K 191 && chmod 600 "$F/secret"
gen_file "$F/group" 64K 192 && chgrp $GRP "$F/group" && chmod 640 "$F/group"
gen_file "$F/hidden/f" 64K 193 && chmod 644 "$F/hidden/f"
gen_file "$F/world" 64K 194 && chmod 644 "$F/world"
nb cat "$F/secret" >/dev/null 2>&1 && fail "nobody can read a 0600 root file directly: the test means nothing"
nb cat "$F/group" >/dev/null 2>&1 && fail "nobody can read the group file without the group"
nb cat "$F/hidden/f" >/dev/null 2>&1 && fail "nobody can reach a file in a 0700 directory"
nbg cat "$F/group" >/dev/null || fail "nobody cannot read the group file with group $GRP"

t=$MNT/tmp
mkdir -m 1777 "$t" || fail "mkdir $t"
o=$t/mine
must "nobody creates an object" nb truncate -s 0 "$o"
snap() {
	printf '%s|%s|%s|%s' "$(xget "$o" type 2>&1)" "$(xget "$o" backing 2>&1)" \
		"$(xget "$o" pages 2>&1)" "$(stat -c %s "$o")"
}
s0=$(snap)
for f in secret hidden/f group; do
	must_err "nobody backs its object with $f" 'Permission denied' \
		nb setfattr -n user.pagerfs.backing -v "$F/$f" "$o"
	must_err "nobody backs its object with a range of $f" 'Permission denied' \
		nb setfattr -n user.pagerfs.backing -v "$F/$f:4096:8192" "$o"
	s=$(snap)
	[ "$s" = "$s0" ] || fail "a refused backing on $f changed the object: '$s0' -> '$s'"
done

# Supplementary groups count: with group GRP the same request is granted.
must "nobody with group $GRP backs its object with the group file" \
	nbg setfattr -n user.pagerfs.backing -v "$F/group" "$o"
must "nobody with group $GRP reads it through pagerfs" nbg "$NC" verify "$o" 0 64K 192
must "nobody with group $GRP reads it with cat" nbg cmp -s "$o" "$F/group"
# Without the group, opening the object means opening the group file: refused.
# (Wait until the object is closed, so its next open opens the backing again.)
must_xget id "$o" id
closed() { ! grep -q "^$id " "$MNT/.pagerfs/opens"; }
wait_until 10 closed || fail "object $id still listed open in .pagerfs/opens"
must_err "nobody without the group opens it" 'EACCES' nb "$NC" verify "$o" 0 4K 192
must_err "nobody without the group cats it" 'Permission denied' nb cat "$o"

# root's object, world-readable, backed by the root-only file: root reads it,
# nobody may not, although the object's own mode would let it.
r=$MNT/rootobj
: >"$r" || fail "cannot create $r"
must "root backs its object with the secret" xset "$r" backing "$F/secret"
chmod 644 "$r" || fail "chmod 644 $r"
must "root reads its object" pfs_client verify "$r" 0 64K 191
must_xget rid "$r" id
closed_r() { ! grep -q "^$rid " "$MNT/.pagerfs/opens"; }
wait_until 10 closed_r || fail "object $rid still listed open in .pagerfs/opens"
must_err "nobody opens root's object backed by the secret" 'EACCES' nb "$NC" verify "$r" 0 4K 191
must_err "nobody cats root's object backed by the secret" 'Permission denied' nb cat "$r"
must "root still reads its object" pfs_client verify "$r" 0 64K 191

# A file everyone can read works for nobody too.
w=$t/world
must "nobody creates another object" nb truncate -s 0 "$w"
must "nobody backs it with a world-readable file" nb setfattr -n user.pagerfs.backing -v "$F/world" "$w"
must "nobody reads it" nb "$NC" verify "$w" 0 64K 194
pfs_stop "$MNT"
