#!/usr/bin/env bash
# Description: copy_file_range of a range between objects and within one object shares whole pages copy-on-write (no new swap), copies unaligned ranges, leaves the rest of the destination alone, is seen by a process that already had the destination mapped, and survives a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

used() { sed -n 's/^used: //p' "$MNT/.pagerfs/swap"; }
copy() { # SRC SOFF DST DOFF LEN: must copy exactly LEN bytes
	local out
	out=$(pfs_client copy-range "$@" 2>&1) || fail "copy-range $*: $out"
	[ "$out" = "copied $(to_bytes "$5")" ] || fail "copy-range $*: '$out', expected 'copied $(to_bytes "$5")'"
}

# Plain files with the patterns, to compare ranges at other offsets.
gen_file "$PFS_T/ref71" 1M 71
gen_file "$PFS_T/ref72" 1M 72
src=$MNT/src dst=$MNT/dst
: >"$src" && truncate -s 1M "$src" || fail "cannot create $src"
: >"$dst" && truncate -s 1M "$dst" || fail "cannot create $dst"
must "write src" pfs_client write "$src" 0 1M 71 --msync
must "write dst" pfs_client write "$dst" 0 1M 72 --msync
sync "$src" "$dst"
u0=$(used)

# Whole pages, at different offsets: src [128K, 384K) -> dst [256K, 512K).
copy "$src" 128K "$dst" 256K 256K
must "dst [256K, 512K) is src [128K, 384K)" pfs_client mapcmp "$dst" 256K 256K "$PFS_T/ref71" 128K
must "dst before the range" pfs_client verify "$dst" 0 256K 72
must "dst after the range" pfs_client verify "$dst" 512K 512K 72
[ "$(fsize "$dst")" -eq 1048576 ] || fail "dst is $(fsize "$dst") bytes after the clone"
must_pages "$dst" 'zero=0 file=0 swap=256' "dst after the clone"
sync "$dst"
u1=$(used)
[ "$u1" -le "$u0" ] || fail "a 256K clone of whole pages used more swap: $u0 bytes before, $u1 after (pages were copied, not shared)"

# Copy-on-write both ways.
must "rewrite src [128K, 384K)" pfs_client write "$src" 128K 256K 73 --msync
must "dst keeps the cloned bytes" pfs_client mapcmp "$dst" 256K 256K "$PFS_T/ref71" 128K
must "rewrite dst [256K, 320K)" pfs_client write "$dst" 256K 64K 74 --msync
must "src keeps its new bytes" pfs_client verify "$src" 128K 256K 73
must "dst's other cloned pages" pfs_client mapcmp "$dst" 320K 192K "$PFS_T/ref71" 192K

# A process holding dst mapped (pages faulted in) sees a clone over them.
pfs_hold_expect HM "$dst" 768K 128K 72 71
copy "$src" 768K "$dst" 768K 128K
pfs_release "$HM" verify

# Within one object, ranges not overlapping: src [0, 64K) -> src [512K, 576K).
copy "$src" 0 "$src" 512K 64K
must "src [512K, 576K) is its [0, 64K)" pfs_client mapcmp "$src" 512K 64K "$PFS_T/ref71" 0
must "rewrite src [0, 64K)" pfs_client write "$src" 0 64K 75 --msync
must "the clone within src is its own" pfs_client mapcmp "$src" 512K 64K "$PFS_T/ref71" 0

# Unaligned (offsets not congruent modulo a page): bytes are copied.
cat "$src" >"$PFS_T/src.snap" || fail "snapshot src"
copy "$src" 1000 "$dst" 5000 10000
must "dst [5000, 15000) is src [1000, 11000)" pfs_client mapcmp "$dst" 5000 10000 "$PFS_T/src.snap" 1000
must "dst before the unaligned copy" pfs_client verify "$dst" 0 5000 72
must "dst after the unaligned copy" pfs_client mapcmp "$dst" 15000 $((262144 - 15000)) "$PFS_T/ref72" 15000

pfs_remount "$STORE" "$MNT"
must "after remount: dst head" pfs_client verify "$dst" 0 5000 72
must "after remount: dst unaligned copy" pfs_client mapcmp "$dst" 5000 10000 "$PFS_T/src.snap" 1000
must "after remount: dst rewritten page run" pfs_client verify "$dst" 256K 64K 74
must "after remount: dst cloned pages" pfs_client mapcmp "$dst" 320K 192K "$PFS_T/ref71" 192K
must "after remount: dst untouched middle" pfs_client verify "$dst" 512K 256K 72
must "after remount: dst clone over a mapping" pfs_client mapcmp "$dst" 768K 128K "$PFS_T/ref71" 768K
must "after remount: src clone within itself" pfs_client mapcmp "$src" 512K 64K "$PFS_T/ref71" 0
must "after remount: src rewritten head" pfs_client verify "$src" 0 64K 75
pfs_stop "$MNT"
