#!/usr/bin/env bash
# Description: with allow_other, ordinary permission checks apply to directories (memory controls): an unprivileged uid cannot create, remove, rename or set a quota in another user's 0755 directory, cannot enter a 0700 one, cannot remove another's object from a sticky 1777 one, and the refused requests change nothing
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd setpriv setfattr getfattr
# shellcheck disable=SC2016 # $1 is the inner shell's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd "$1"' sh "${PFS_TMPROOT:-/tmp}" 2>/dev/null; then
	export PFS_TMPROOT=/tmp # nobody must reach the mount
fi
pfs_setup
chmod 755 "$PFS_T" || fail "chmod $PFS_T"
mkdir -m 755 "$PFS_T/bin" && install -m 755 "$MMAP_CLIENT" "$PFS_T/bin/mmap_client" || fail "cannot install the client for nobody"
NC=$PFS_T/bin/mmap_client
nb() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
pfs_start "$STORE" "$MNT" -o allow_other -o swap_max=64M
nb test -r "$MNT/.pagerfs/status" || fail "nobody cannot reach $MNT"

# A root 0755 directory with a world-writable object in it.
d=$MNT/d
mkdir -m 755 "$d" || fail "mkdir $d"
: >"$d/o" && truncate -s 64K "$d/o" && chmod 666 "$d/o" || fail "cannot create $d/o"
must "write d/o" pfs_client write "$d/o" 0 64K 161 --msync
listing() { (cd "$1" && find . -mindepth 1 | sort | tr '\n' ' '); }
before=$(listing "$d")
must_err "nobody creates in d" 'Permission denied' nb sh -c ": >'$d/new'"
must_err "nobody mkdirs in d" 'Permission denied' nb mkdir "$d/sub"
must_err "nobody removes d/o" 'Permission denied' nb rm -f "$d/o"
must_err "nobody renames d/o" 'Permission denied' nb mv "$d/o" "$d/o2"
must_err "nobody removes d" 'Permission denied' nb rmdir "$d"
must_err "nobody chmods d" 'Operation not permitted' nb chmod 777 "$d"
must_err "nobody sets d's quota" 'Permission denied|Operation not permitted' nb setfattr -n user.pagerfs.quota -v 1M "$d"
[ "$(listing "$d")" = "$before" ] || fail "d holds '$(listing "$d")' after the refused changes, was '$before'"
[ "$(stat -c %a "$d")" = 755 ] || fail "d's mode is $(stat -c %a "$d") after a refused chmod"
if v=$(xget "$d" quota 2>/dev/null); then
	fail "d has quota '$v' after a refused set"
fi
must "nobody lists d" nb ls "$d"
# The object's own mode decides about its contents.
must "nobody writes the 0666 object in d" nb "$NC" write "$d/o" 0 4K 162 --msync
must "nobody's write" pfs_client verify "$d/o" 0 4K 162

# A 0700 directory: no lookup, no listing.
c=$MNT/closed
mkdir -m 700 "$c" || fail "mkdir $c"
: >"$c/o" && truncate -s 4K "$c/o" && chmod 666 "$c/o" || fail "cannot create $c/o"
must_err "nobody lists closed" 'Permission denied' nb ls "$c"
must_err "nobody opens closed/o" 'EACCES' nb "$NC" verify "$c/o" 0 4K 0
must_err "nobody stats closed/o" 'Permission denied' nb stat "$c/o"

# A sticky world-writable directory: anyone creates, only owners remove.
t=$MNT/tmp
mkdir -m 1777 "$t" || fail "mkdir $t"
: >"$t/roots" && chmod 666 "$t/roots" || fail "cannot create $t/roots"
must "nobody creates in tmp" nb truncate -s 4K "$t/mine"
must "nobody mkdirs in tmp" nb mkdir "$t/nd"
[ "$(stat -c %u "$t/nd")" = 65534 ] || fail "nobody's directory is owned by $(stat -c %u "$t/nd")"
must_err "nobody removes root's object from tmp" 'Operation not permitted' nb rm -f "$t/roots"
must_err "nobody renames root's object in tmp" 'Operation not permitted' nb mv "$t/roots" "$t/x"
[ -e "$t/roots" ] || fail "root's object in tmp is gone"
must "nobody removes its own" nb rm "$t/mine"
must "nobody removes its own directory" nb rmdir "$t/nd"

pfs_remount "$STORE" "$MNT" -o allow_other -o swap_max=64M
[ "$(stat -c '%a %u' "$d")" = "755 0" ] || fail "after remount d is '$(stat -c '%a %u' "$d")'"
[ "$(stat -c '%a %u' "$c")" = "700 0" ] || fail "after remount closed is '$(stat -c '%a %u' "$c")'"
[ "$(stat -c '%a %u' "$t")" = "1777 0" ] || fail "after remount tmp is '$(stat -c '%a %u' "$t")'"
must_err "after remount: nobody creates in d" 'Permission denied' nb sh -c ": >'$d/new'"
must_err "after remount: nobody lists closed" 'Permission denied' nb ls "$c"
must_err "after remount: nobody removes root's object from tmp" 'Operation not permitted' nb rm -f "$t/roots"
pfs_stop "$MNT"
