#!/usr/bin/env bash
# Description: fallocate PUNCH_HOLE returns a range to its initial contents (zeros, or the backing bytes of a heap) and frees its swap, also across remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd fallocate
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/obj
: >"$obj" && truncate -s 1M "$obj" || fail "cannot create $obj"
must "write 1M" pfs_client write "$obj" 0 1M 211 --msync
# fallocate -p is PUNCH_HOLE|KEEP_SIZE.
must "punch 256K..512K" fallocate -p -o 256K -l 256K "$obj"
[ "$(fsize "$obj")" -eq 1048576 ] || fail "punching changed the size to $(fsize "$obj")"
check() {
	must "$1: before the hole" pfs_client verify "$obj" 0 256K 211
	must "$1: the hole is zeros" pfs_client verify "$obj" 256K 256K 0
	must "$1: after the hole" pfs_client verify "$obj" 512K 512K 211
}
check "after punching"
if command -v getfattr >/dev/null; then
	must_pages "$obj" "zero=64 file=0 swap=192" "after punching 64 pages"
fi

# A heap with backing: a punched range shows the backing bytes again.
if command -v setfattr >/dev/null; then
	B=$PFS_T/init.bin
	gen_file "$B" 64K 212
	h=$MNT/heap
	: >"$h" || fail "cannot create $h"
	must "backing" xset "$h" backing "$B"
	must "type heap, persist" xset "$h" type heap
	must "flags persist" xset "$h" flags persist
	must "write over the backing" pfs_client write "$h" 0 64K 213 --msync
	must "punch 16K..32K" fallocate -p -o 16K -l 16K "$h"
	must "the punched range is the backing's again" pfs_client mapcmp "$h" 16K 16K "$B" 16K
	must "the rest keeps the writes (head)" pfs_client verify "$h" 0 16K 213
	must "the rest keeps the writes (tail)" pfs_client verify "$h" 32K 32K 213
fi
drop_caches
check "after dropping the page cache"
pfs_remount "$STORE" "$MNT"
check "after remount"
if command -v setfattr >/dev/null; then
	must "heap's punched range after remount" pfs_client mapcmp "$h" 16K 16K "$B" 16K
fi
pfs_stop "$MNT"
