#!/usr/bin/env bash
# Description: objects are charged to the directory they live in; user.pagerfs.usage counts a directory and its children; a sharing child (plain mkdir) has no quota of its own and counts against its quota ancestor's limit; unlink gives the usage back
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT" -o swap_max=64M
K=1024

usage_is() { # DIR BYTES WHAT
	local u
	must_xget u "$1" usage
	[ "$u" = "$2" ] || fail "$3: usage of ${1#"$PFS_T"/} is '$u', expected $2"
}
mkobj() { # PATH SIZE SEED
	: >"$1" && truncate -s "$2" "$1" || fail "cannot create $1"
	must "write $1" pfs_client write "$1" 0 "$2" "$3" --msync
}

a=$MNT/a s=$MNT/a/s
mkdir "$a" "$s" || fail "mkdir"
must "a: quota 4M" xset "$a" quota 4M
if v=$(xget "$s" quota 2>/dev/null); then
	fail "a plain mkdir has quota '$v'; it should share its parent's frames"
fi
usage_is "$MNT" 0 "empty root"
usage_is "$a" 0 "empty a"

mkobj "$MNT/z" 128K 131
mkobj "$a/x" 256K 132
mkobj "$s/y" 512K 133
usage_is "$s" $((512 * K)) "s holds y"
usage_is "$a" $((768 * K)) "a holds x and, through s, y"
usage_is "$MNT" $((896 * K)) "the root holds everything"

# s shares a's frames: its pages count against a's 4M. 768K + 3.5M > 4M.
: >"$s/big" && truncate -s 3584K "$s/big" || fail "cannot create s/big"
must_err "3.5M in the sharing child, beyond a's quota" 'ENOSPC' pfs_client write "$s/big" 0 3584K 134 --msync
must_xget u "$a" usage
[ "$u" -le $((4096 * K)) ] || fail "a's usage is $u bytes, beyond its 4M quota"
# The root has room: the limit is a's, not the store's.
mkobj "$MNT/z2" 3584K 135
must "y is intact" pfs_client verify "$s/y" 0 512K 133
rm "$s/big" || fail "rm s/big"
usage_is "$a" $((768 * K)) "a after removing the refused object"

# unlink gives the usage back, to every level.
rm "$a/x" || fail "rm a/x"
usage_is "$a" $((512 * K)) "a after rm x"
usage_is "$MNT" $((128 * K + 3584 * K + 512 * K)) "root after rm a/x"

pfs_remount "$STORE" "$MNT" -o swap_max=64M
usage_is "$s" $((512 * K)) "s after remount"
usage_is "$a" $((512 * K)) "a after remount"
usage_is "$MNT" $((128 * K + 3584 * K + 512 * K)) "root after remount"
if xset "$a" usage 0 2>/dev/null; then
	fail "setting user.pagerfs.usage succeeded (read-only)"
fi
usage_is "$a" $((512 * K)) "a after a refused set of usage"
pfs_stop "$MNT"
