#!/usr/bin/env bash
# Description: fallocate(PUNCH_HOLE|KEEP_SIZE) on an anonymous object returns the range to zeros (partial pages too), frees its frames (usage drops), keeps the size and every byte outside the range, also across remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

P=$PFS_PAGE
root_usage() {
	local u
	must_xget u "$MNT" usage
	case $u in '' | *[!0-9]*) fail "user.pagerfs.usage of the root reads '$u', not a number of bytes" ;; esac
	printf '%s' "$u"
}

o=$MNT/obj
SIZE=1048576
: >"$o" && truncate -s $SIZE "$o" || fail "cannot create $o"
u0=$(root_usage) || exit 1
must "write 1M and msync" pfs_client write "$o" 0 $SIZE 31 --msync
must_pages "$o" 'zero=0 file=0 swap=256' "written"

# Whole pages: 64 pages at 256K.
must "punch [256K, 512K)" pfs_client punch "$o" 256K 256K
[ "$(fsize "$o")" -eq $SIZE ] || fail "KEEP_SIZE: the object is $(fsize "$o") bytes after the punch"
must_pages "$o" 'zero=64 file=0 swap=192' "after punching 64 pages"
u=$(root_usage) || exit 1
[ "$((u - u0))" -eq $((192 * P)) ] || fail "after punching 64 of 256 written pages the root's usage is $((u - u0)) bytes above the start, expected $((192 * P))"
must "punched range is zeros" pfs_client verify "$o" 256K 256K 0
must "before the range" pfs_client verify "$o" 0 256K 31
must "after the range" pfs_client verify "$o" 512K 512K 31

# Partial pages at both ends: [600000, 700000) covers part of page 146,
# whole pages 147..169 and part of page 170; bytes outside the range stay.
must "punch [600000, 700000)" pfs_client punch "$o" 600000 100000
must "partial punch: zeros" pfs_client verify "$o" 600000 100000 0
must "partial punch: head of its first page" pfs_client verify "$o" 512K $((600000 - 524288)) 31
must "partial punch: tail of its last page" pfs_client verify "$o" 700000 $((SIZE - 700000)) 31
# A range inside one page.
must "punch 100 bytes inside page 0" pfs_client punch "$o" 1000 100
must "inside page 0: zeros" pfs_client verify "$o" 1000 100 0
must "inside page 0: before" pfs_client verify "$o" 0 1000 31
must "inside page 0: after" pfs_client verify "$o" 1100 $((262144 - 1100)) 31
drop_caches
must "punched range after dropping the cache" pfs_client verify "$o" 256K 256K 0 --pread
must "partial punch after dropping the cache" pfs_client verify "$o" 600000 100000 0 --pread

pfs_remount "$STORE" "$MNT"
[ "$(fsize "$o")" -eq $SIZE ] || fail "after remount the object is $(fsize "$o") bytes"
must "after remount: page 0 head" pfs_client verify "$o" 0 1000 31
must "after remount: page 0 hole" pfs_client verify "$o" 1000 100 0
must "after remount: up to the whole-page hole" pfs_client verify "$o" 1100 $((262144 - 1100)) 31
must "after remount: whole-page hole" pfs_client verify "$o" 256K 256K 0
must "after remount: before the partial hole" pfs_client verify "$o" 512K $((600000 - 524288)) 31
must "after remount: partial hole" pfs_client verify "$o" 600000 100000 0
must "after remount: the rest" pfs_client verify "$o" 700000 $((SIZE - 700000)) 31
u=$(root_usage) || exit 1
# Pages 146 and 170 keep some bytes; the 23 whole pages 147..169 are freed.
[ "$((u - u0))" -le $(((192 - 23) * P)) ] || fail "after remount the root's usage is $((u - u0)) bytes above the start; the whole pages punched at 600000 were not freed (expected at most $(((192 - 23) * P)))"

# Punching an all-zero range of a fresh object changes nothing.
z=$MNT/fresh
: >"$z" && truncate -s 64K "$z" || fail "cannot create $z"
must "punch a fresh object" pfs_client punch "$z" 0 64K
must_pages "$z" 'zero=16 file=0 swap=0' "punched fresh object"
must "fresh object still zeros" pfs_client verify "$z" 0 64K 0
pfs_stop "$MNT"
