#!/usr/bin/env bash
# Description: user.pagerfs.quota splits a guarantee off the parent (ENOSPC when the parent cannot spare it, nothing changed), removexattr and rm -r of a directory tree (with quota children and data) give the guarantee back, and quotas survive a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT" -o swap_max=64M
M=1048576

# The root guarantees the whole swap store (its quota reads that many bytes).
must_xget R "$MNT" quota
case $R in '' | *[!0-9]*) fail "the root's quota reads '$R', not bytes" ;; esac
[ "$R" -gt $((48 * M)) ] && [ "$R" -le $((64 * M)) ] ||
	fail "with swap_max=64M the root guarantees $R bytes"
quota_is() { # DIR BYTES WHAT
	local v
	must_xget v "$1" quota
	[ "$(to_bytes "$v")" = "$2" ] || fail "$3: quota of $1 reads '$v', expected $2"
}
no_quota() { # DIR WHAT
	local v
	if v=$(xget "$1" quota 2>&1); then
		fail "$2: $1 has quota '$v', expected none"
	fi
	printf '%s' "$v" | grep -q 'No such attribute' || fail "$2: reading the quota of $1: $v"
}

a=$MNT/a c=$MNT/c
mkdir "$a" "$c" || fail "mkdir"
no_quota "$a" "a new directory shares its parent's frames"
must "a: quota 40M" xset "$a" quota 40M
quota_is "$a" $((40 * M)) "a"
# The root has R - 40M left to give.
must_err "c: one page more than the root can spare" 'No space left on device' \
	xset "$c" quota $((R - 40 * M + 4096))
no_quota "$c" "after a refused quota"
must "c: quota 16M" xset "$c" quota 16M

# A child's guarantee comes out of its parent's, not the root's.
b=$a/b
mkdir "$b" || fail "mkdir $b"
must_err "b: more than a has" 'No space left on device' xset "$b" quota 41M
no_quota "$b" "after a refused quota"
quota_is "$a" $((40 * M)) "a after its child was refused"
must "b: quota 8M" xset "$b" quota 8M
quota_is "$b" $((8 * M)) "b"

# Data in the tree: objects in a and in b.
: >"$a/x" && truncate -s 1M "$a/x" || fail "cannot create a/x"
: >"$b/y" && truncate -s 1M "$b/y" || fail "cannot create a/b/y"
must "write a/x" pfs_client write "$a/x" 0 1M 121 --msync
must "write a/b/y" pfs_client write "$b/y" 0 1M 122 --msync

# c cannot grow by 40M while a holds its guarantee...
must_err "c: 56M while a holds 40M" 'No space left on device' xset "$c" quota 56M
quota_is "$c" $((16 * M)) "c after a refused change"

pfs_remount "$STORE" "$MNT" -o swap_max=64M
quota_is "$a" $((40 * M)) "a after remount"
quota_is "$b" $((8 * M)) "b after remount"
quota_is "$c" $((16 * M)) "c after remount"
must_err "c: 56M while a holds 40M, after remount" 'No space left on device' xset "$c" quota 56M

# ...but can once the tree under a is gone.
must "rm -r a (objects, a quota child)" rm -r "$a"
[ -e "$a" ] && fail "$a still exists after rm -r"
must "c: 56M after a is gone" xset "$c" quota 56M
quota_is "$c" $((56 * M)) "c"
must_xget u "$MNT" usage
[ "$u" = 0 ] || fail "after rm -r the root's usage is $u bytes, expected 0 (a's objects freed)"

# removexattr returns c to sharing and its guarantee to the root: all of R is free again.
must "removexattr quota of c" setfattr -x user.pagerfs.quota "$c"
no_quota "$c" "after removexattr"
d=$MNT/d
mkdir "$d" || fail "mkdir $d"
must "d: the whole root guarantee" xset "$d" quota "$R"
quota_is "$d" "$R" "d"
pfs_remount "$STORE" "$MNT" -o swap_max=64M
no_quota "$c" "c after remount"
quota_is "$d" "$R" "d after remount"
[ -e "$a" ] && fail "$a is back after remount"
pfs_stop "$MNT"
