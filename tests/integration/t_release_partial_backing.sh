#!/usr/bin/env bash
# Description: fallocate(PUNCH_HOLE|KEEP_SIZE) of a byte range that is not page-aligned in a backed heap: whole pages return to the backing file's bytes (their initial contents), the punched part of a partial edge page reads as zeros (as the kernel itself zeroes it in its cache, and tmpfs does), the rest of each page untouched
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

B=$PFS_T/data.bin
gen_file "$B" 64K 43
o=$MNT/heap
: >"$o" || fail "cannot create $o"
must "backing" xset "$o" backing "$B"
must "type heap" xset "$o" type heap
must "flags persist" xset "$o" flags persist
[ "$(fsize "$o")" -eq 65536 ] || fail "the heap is $(fsize "$o") bytes, expected its backing's 65536"
must "write all 64K and msync" pfs_client write "$o" 0 64K 44 --msync

# Inside one page, then across a page boundary: [20000, 30000) holds the
# whole pages 5 and 6 ([20480, 28672)) and partial edges on each side.
must "punch [5000, 5100)" pfs_client punch "$o" 5000 100
must "punch [20000, 30000)" pfs_client punch "$o" 20000 10000
check() {
	must "$1: written bytes before" pfs_client verify "$o" 0 5000 44
	must "$1: [5000, 5100), a partial page, reads as zeros" pfs_client verify "$o" 5000 100 0
	must "$1: written bytes between" pfs_client verify "$o" 5100 $((20000 - 5100)) 44
	must "$1: [20000, 20480), a partial edge, reads as zeros" pfs_client verify "$o" 20000 480 0
	must "$1: [20480, 28672), whole pages, is the backing's bytes" \
		pfs_client mapcmp "$o" 20480 8192 "$B" 20480
	must "$1: [28672, 30000), a partial edge, reads as zeros" pfs_client verify "$o" 28672 1328 0
	must "$1: written bytes after" pfs_client verify "$o" 30000 $((65536 - 30000)) 44
}
# The kernel's view (it zeroes punched partial pages in its cache and drops
# the whole ones) and the daemon's (after the cache is dropped) must agree.
check "as the kernel shows it right after"
drop_caches
check "after the punches (cache dropped)"
pfs_remount "$STORE" "$MNT"
check "after remount"
pfs_stop "$MNT"
