#!/usr/bin/env bash
# Description: read()/write() and MAP_SHARED mappings of one object agree, in one process and across processes, before and after page-in and remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/rw
P=$PFS_PAGE
: >"$obj" && truncate -s 64K "$obj" || fail "cannot create $obj"

# One process: pwrite into a mapped page, a store seen by pread, a partial
# pwrite into a dirty mapped page, then msync and fsync.
must "coherence in one process" pfs_client coherence "$obj" 41
# Across processes: write() by one, mmap by another, and the reverse.
must "pwrite by one process" pfs_client write "$obj" $((4 * P)) $((4 * P)) 43 --pwrite
must "mmap store by another" pfs_client write "$obj" $((8 * P)) $((4 * P)) 44
# The shell's own write(2): dd of a generated pattern, not truncating.
"$MMAP_CLIENT" gen $((12 * P)) $((2 * P)) 45 |
	dd of="$obj" bs=$P seek=12 conv=notrunc status=none || fail "dd into $obj"
# Appending through write() grows the object; the mapping then covers it.
"$MMAP_CLIENT" gen 65536 8192 46 >>"$obj" || fail "append to $obj"
[ "$(fsize "$obj")" -eq 73728 ] || fail "after appending 8K the object is $(fsize "$obj") bytes, expected 73728"

layout() {
	local how=()
	[ -n "${2:-}" ] && how=("$2")
	must "$1: pages 0-1" pfs_client verify "$obj" 0 $((2 * P)) 41 "${how[@]}"
	must "$1: page 2 head" pfs_client verify "$obj" $((2 * P)) 50 42 "${how[@]}"
	must "$1: page 2 pwrite" pfs_client verify "$obj" $((2 * P + 50)) 100 41 "${how[@]}"
	must "$1: page 2 tail" pfs_client verify "$obj" $((2 * P + 150)) $((P - 150)) 42 "${how[@]}"
	must "$1: page 3" pfs_client verify "$obj" $((3 * P)) $P 41 "${how[@]}"
	must "$1: pwrite by another process" pfs_client verify "$obj" $((4 * P)) $((4 * P)) 43 "${how[@]}"
	must "$1: mmap store by another process" pfs_client verify "$obj" $((8 * P)) $((4 * P)) 44 "${how[@]}"
	must "$1: dd" pfs_client verify "$obj" $((12 * P)) $((2 * P)) 45 "${how[@]}"
	must "$1: zeros" pfs_client verify "$obj" $((14 * P)) $((2 * P)) 0 "${how[@]}"
	must "$1: appended" pfs_client verify "$obj" 65536 8192 46 "${how[@]}"
}
cmp_dd() {
	"$MMAP_CLIENT" gen $((8 * P)) $((4 * P)) 44 | cmp - <(dd if="$obj" bs=$P skip=8 count=4 status=none) ||
		fail "$1: cat/dd of the mmap-written range differs from what was written"
}
layout "through mmap" ""
layout "through read()" --pread
cmp_dd "through dd"
drop_caches
layout "after dropping the page cache, mmap" ""
drop_caches
layout "after dropping the page cache, read()" --pread
pfs_remount "$STORE" "$MNT"
layout "after remount, read()" --pread
layout "after remount, mmap" ""
cmp_dd "after remount, dd"
pfs_stop "$MNT"
