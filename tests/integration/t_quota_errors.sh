#!/usr/bin/env bash
# Description: bad quota requests get EINVAL (malformed or negative size, on an object) or ENOSPC (more than the parent has), usage cannot be set, a directory with objects cannot be rmdir'ed, and none of them changes the quota or the usage
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT" -o swap_max=64M

q=$MNT/q
mkdir "$q" || fail "mkdir $q"
no_quota() {
	local v
	if v=$(xget "$q" quota 2>&1); then
		fail "$1: $q has quota '$v', expected none"
	fi
}
quota_is() {
	local v
	must_xget v "$q" quota
	[ "$(to_bytes "$v")" = "$1" ] || fail "$2: quota reads '$v', expected $1"
}
bad_values() { # WHAT: every malformed value is EINVAL
	local v
	for v in abc 12Q -1M 1M5 '' ' 1M' 1MM 99999999999999999999999T; do
		must_err "$1: quota '$v'" 'Invalid argument' xset "$q" quota "$v"
	done
}

bad_values "without a quota"
no_quota "after malformed values"
must_err "quota larger than the whole store" 'No space left on device' xset "$q" quota 1T
no_quota "after a quota larger than the store"

must "quota 2M" xset "$q" quota 2M
bad_values "with a quota of 2M"
quota_is 2097152 "after malformed values"
must_err "raise the quota beyond the parent" 'No space left on device' xset "$q" quota 1T
quota_is 2097152 "after a refused raise"

# Quota is a directory's attribute; usage is read-only.
o=$q/obj
: >"$o" && truncate -s 64K "$o" || fail "cannot create $o"
must "write 64K" pfs_client write "$o" 0 64K 141 --msync
must_err "quota on an object" 'Invalid argument|Operation not supported|Operation not permitted' xset "$o" quota 1M
if v=$(xget "$o" quota 2>/dev/null); then
	fail "an object has quota '$v' after a refused set"
fi
must_xget u0 "$q" usage
[ "$u0" = 65536 ] || fail "usage of $q is '$u0', expected 65536"
must_err "set usage" 'Operation not permitted|Permission denied|Invalid argument' xset "$q" usage 0
must_err "remove usage" 'Operation not permitted|Permission denied|No such attribute' setfattr -x user.pagerfs.usage "$q"
must_xget u "$q" usage
[ "$u" = "$u0" ] || fail "usage changed from $u0 to '$u' after refused changes"

must_err "rmdir a directory with an object" 'Directory not empty' rmdir "$q"
[ -d "$q" ] || fail "$q is gone after a refused rmdir"
quota_is 2097152 "after a refused rmdir"
must "object after a refused rmdir" pfs_client verify "$o" 0 64K 141
pfs_remount "$STORE" "$MNT" -o swap_max=64M
quota_is 2097152 "after remount"
must_xget u "$q" usage
[ "$u" = "$u0" ] || fail "after remount usage is '$u', expected $u0"
pfs_stop "$MNT"
