#!/usr/bin/env bash
# Description: ftruncate grows an object with zero pages (no swap charged) and shrinks it by releasing the pages beyond the new end (usage drops, a partial last page keeps only its head); the result survives a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

P=$PFS_PAGE
# usage of the root control: frames charged to it and everything below, as bytes.
root_usage() {
	local u
	must_xget u "$MNT" usage
	case $u in '' | *[!0-9]*) fail "user.pagerfs.usage of the root reads '$u', not a number of bytes" ;; esac
	printf '%s' "$u"
}
must_usage() { # EXPECTED-BYTES-ABOVE-BASE WHAT
	local u
	u=$(root_usage) || exit 1
	[ "$((u - u0))" -eq "$1" ] || fail "$2: root usage is $u bytes, $((u - u0)) above the start; expected $1"
}
must_size() {
	[ "$(fsize "$o")" -eq "$1" ] || fail "$2: $o is $(fsize "$o") bytes, expected $1"
}

o=$MNT/obj
: >"$o" || fail "cannot create $o"
u0=$(root_usage) || exit 1

# Growing adds zero pages: nothing is charged for them.
truncate -s 64K "$o" || fail "truncate -s 64K"
must_size 65536 "grown to 64K"
must_pages "$o" 'zero=16 file=0 swap=0' "grown to 64K"
truncate -s 1M "$o" || fail "truncate -s 1M"
must_size 1048576 "grown to 1M"
must_pages "$o" 'zero=256 file=0 swap=0' "grown to 1M"
must "grown object reads as zeros" pfs_client verify "$o" 0 1M 0
must_usage 0 "zero pages after growing"

must "write 1M and msync" pfs_client write "$o" 0 1M 21 --msync
must_pages "$o" 'zero=0 file=0 swap=256' "after writing 1M"
must_usage 1048576 "after writing 1M"

# Shrinking to 300000 bytes keeps pages 0..73 (the last one partly) and
# releases the other 182 pages and their frames.
KEEP=300000 KEEP_PAGES=74
truncate -s $KEEP "$o" || fail "truncate -s $KEEP"
must_size $KEEP "shrunk"
must_pages "$o" "zero=0 file=0 swap=$KEEP_PAGES" "shrunk to $KEEP bytes"
must_usage $((KEEP_PAGES * P)) "shrunk to $KEEP bytes (182 pages released)"
must "kept part (mmap)" pfs_client verify "$o" 0 $KEEP 21
must "kept part (read)" pfs_client verify "$o" 0 $KEEP 21 --pread
[ "$(wc -c <"$o")" -eq $KEEP ] || fail "read() returns $(wc -c <"$o") bytes of a $KEEP-byte object"

# Growing again: what was released comes back as zeros, the partial page's tail too.
truncate -s 1M "$o" || fail "truncate -s 1M again"
must_size 1048576 "grown again"
must_pages "$o" "zero=$((256 - KEEP_PAGES)) file=0 swap=$KEEP_PAGES" "grown again"
must_usage $((KEEP_PAGES * P)) "grown again (growing charges nothing)"
must "kept part after growing again" pfs_client verify "$o" 0 $KEEP 21
must "released range is zeros" pfs_client verify "$o" $KEEP $((1048576 - KEEP)) 0
drop_caches
must "released range is zeros after dropping the cache" pfs_client verify "$o" $KEEP $((1048576 - KEEP)) 0 --pread

pfs_remount "$STORE" "$MNT"
must_size 1048576 "after remount"
must_pages "$o" "zero=$((256 - KEEP_PAGES)) file=0 swap=$KEEP_PAGES" "after remount"
must_usage $((KEEP_PAGES * P)) "after remount"
must "kept part after remount" pfs_client verify "$o" 0 $KEEP 21
must "released range after remount" pfs_client verify "$o" $KEEP $((1048576 - KEEP)) 0

# A large sparse grow is only a size; shrinking to 0 releases everything.
truncate -s 1G "$o" || fail "truncate -s 1G"
must_size 1073741824 "grown to 1G"
must_usage $((KEEP_PAGES * P)) "grown to 1G"
must "last page of the 1G object is zeros" pfs_client verify "$o" $((1073741824 - P)) $P 0
truncate -s 0 "$o" || fail "truncate -s 0"
must_size 0 "shrunk to 0"
must_usage 0 "shrunk to 0"
truncate -s 64K "$o" || fail "truncate -s 64K after 0"
must_pages "$o" 'zero=16 file=0 swap=0' "grown from 0"
must "grown from 0 reads zeros" pfs_client verify "$o" 0 64K 0
pfs_stop "$MNT"
