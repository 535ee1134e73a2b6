#!/usr/bin/env bash
# Description: a directory with user.pagerfs.quota 1M: page-outs beyond it fail with ENOSPC seen by msync, earlier data stays intact (also after remount), pages already charged can be rewritten, and exactly the quota fits but not a page more
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT" -o swap_max=64M

q=$MNT/q
mkdir "$q" || fail "mkdir $q"
must "quota 1M" xset "$q" quota 1M
must_xget v "$q" quota
[ "$(to_bytes "$v")" = 1048576 ] || fail "quota reads '$v' after setting 1M"
usage_is() { # BYTES WHAT
	local u
	must_xget u "$q" usage
	[ "$u" = "$1" ] || fail "$2: usage of $q is '$u', expected $1"
}
usage_at_most() {
	local u
	must_xget u "$q" usage
	case $u in '' | *[!0-9]*) fail "$2: usage of $q is '$u', not bytes" ;; esac
	[ "$u" -le "$1" ] || fail "$2: usage of $q is $u bytes, more than its quota $1"
}

o=$q/obj
: >"$o" && truncate -s 2M "$o" || fail "cannot create $o"
usage_is 0 "empty object"
must "first 512K (within the quota)" pfs_client write "$o" 0 512K 111 --msync
usage_is 524288 "after 512K"

# 1.5M more cannot fit in the 512K left: msync must report ENOSPC.
must_err "1.5M more, beyond the quota" 'ENOSPC' pfs_client write "$o" 512K 1536K 112 --msync
usage_at_most 1048576 "after the refused page-out"
must "the first 512K is intact" pfs_client verify "$o" 0 512K 111
# Rewriting pages that are already charged needs nothing more.
must "rewrite [256K, 512K) (already charged)" pfs_client write "$o" 256K 256K 113 --msync
usage_at_most 1048576 "after the rewrite"

pfs_remount "$STORE" "$MNT" -o swap_max=64M
must_xget v "$q" quota
[ "$(to_bytes "$v")" = 1048576 ] || fail "after remount the quota reads '$v'"
must "after remount: the first data" pfs_client verify "$o" 0 256K 111
must "after remount: the rewritten data" pfs_client verify "$o" 256K 256K 113
usage_at_most 1048576 "after remount"

# From a known state: exactly the quota fits, one page more does not.
truncate -s 0 "$o" && truncate -s 2M "$o" || fail "cannot empty $o"
usage_is 0 "after emptying the object"
must "exactly 1M" pfs_client write "$o" 0 1M 114 --msync
usage_is 1048576 "at the quota"
must_err "one page beyond the quota" 'ENOSPC' pfs_client write "$o" 1M 4096 115 --msync
usage_is 1048576 "after the refused page"
must "the 1M at the quota is intact" pfs_client verify "$o" 0 1M 114
pfs_remount "$STORE" "$MNT" -o swap_max=64M
must "after remount: the 1M at the quota" pfs_client verify "$o" 0 1M 114
usage_is 1048576 "after remount"
pfs_stop "$MNT"
