#!/usr/bin/env bash
# Description: fallocate(PUNCH_HOLE|KEEP_SIZE) of whole pages of a heap with a backing range returns them to the backing file's bytes (and zeros past the backing), frees their swap, never writes the backing file, also across remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

# Backing: 72K of pattern 41; the object maps its range from 8K (64K long),
# then grows to 128K of zeros.
B=$PFS_T/data.bin
gen_file "$B" 72K 41
cp "$B" "$PFS_T/data.orig"
BOFF=8192 SIZE=131072
o=$MNT/heap
: >"$o" || fail "cannot create $o"
must "backing" xset "$o" backing "$B:$BOFF:64K"
must "type heap" xset "$o" type heap
must "flags persist" xset "$o" flags persist
truncate -s $SIZE "$o" || fail "truncate -s $SIZE"
must_pages "$o" 'zero=16 file=16 swap=0' "fresh heap"
must "fresh heap: backing bytes" pfs_client mapcmp "$o" 0 64K "$B" $BOFF
must "fresh heap: zeros after the backing" pfs_client verify "$o" 64K 64K 0

must "write all 128K and msync" pfs_client write "$o" 0 $SIZE 42 --msync
must_pages "$o" 'zero=0 file=0 swap=32' "written"

# Pages 4..11 lie in the backing; pages 14..17 straddle its end.
must "punch [16K, 48K)" pfs_client punch "$o" 16K 32K
must "punch [56K, 72K)" pfs_client punch "$o" 56K 16K
[ "$(fsize "$o")" -eq $SIZE ] || fail "KEEP_SIZE: the heap is $(fsize "$o") bytes after the punches"
must_pages "$o" 'zero=2 file=10 swap=20' "after the punches"

check() {
	must "$1: written head" pfs_client verify "$o" 0 16K 42
	must "$1: [16K, 48K) is the backing again" pfs_client mapcmp "$o" 16K 32K "$B" $((BOFF + 16384))
	must "$1: [16K, 48K) is the backing again (read)" \
		cmp -s <(dd if="$o" bs=4096 skip=4 count=8 status=none) <(dd if="$B" bs=4096 skip=6 count=8 status=none)
	must "$1: written between" pfs_client verify "$o" 48K 8K 42
	must "$1: [56K, 64K) is the backing again" pfs_client mapcmp "$o" 56K 8K "$B" $((BOFF + 57344))
	must "$1: [64K, 72K) is zeros again" pfs_client verify "$o" 64K 8K 0
	must "$1: written tail" pfs_client verify "$o" 72K 56K 42
	cmp -s "$B" "$PFS_T/data.orig" || fail "$1: the backing file changed"
}
check "after the punches"
drop_caches
check "after dropping the cache"
pfs_remount "$STORE" "$MNT"
must_pages "$o" 'zero=2 file=10 swap=20' "after remount"
check "after remount"
pfs_stop "$MNT"
