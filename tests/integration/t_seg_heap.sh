#!/usr/bin/env bash
# Description: heap objects: backing range then zeros, writes to swap; at last close they revert to that image unless persist, which keeps them across closes and remounts
# Timeout: 180
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

# Initialised data: a backing file whose size is not a page multiple, so the
# object's third page is part file, part zeros.
B=$PFS_T/data.bin
gen_file "$B" 10000 71
cp "$B" "$PFS_T/data.orig"
SIZE=65536

# make_heap NAME [persist]: heap with backing B, grown to SIZE.
make_heap() {
	: >"$1" || fail "cannot create $1"
	must "backing on $1" xset "$1" backing "$B"
	must "type heap on $1" xset "$1" type heap
	if [ "${2:-}" = persist ]; then
		must "flags persist on $1" xset "$1" flags persist
	fi
	# INTERFACE: "An object given a type explicitly ... is persistent only
	# with persist": setting the type explicitly drops the implicit persist
	# of open(O_CREAT). (Our reading of that sentence.)
	must_xget f "$1" flags
	if [ "${2:-}" = persist ]; then
		has_flag "$f" persist || fail "$1: flags '$f' after setting persist"
	else
		has_flag "$f" persist && fail "$1: explicit type heap without persist, but flags read '$f'"
	fi
	truncate -s $SIZE "$1" || fail "truncate -s $SIZE $1"
}

# initial_image NAME WHAT: the backing's bytes, then zeros to SIZE.
initial_image() {
	must "$2: backing bytes" pfs_client mapcmp "$1" 0 10000 "$B" 0
	must "$2: zeros after the backing" pfs_client verify "$1" 10000 $((SIZE - 10000)) 0
}
is_initial_image() {
	"$MMAP_CLIENT" mapcmp "$1" 0 10000 "$B" 0 && "$MMAP_CLIENT" verify "$1" 10000 $((SIZE - 10000)) 0
}

# 1. Heap with backing, not persistent.
h1=$MNT/h1
make_heap "$h1"
[ "$(fsize "$h1")" -eq $SIZE ] || fail "h1 is $(fsize "$h1") bytes after truncate -s $SIZE"
initial_image "$h1" "fresh heap"
pfs_hold H "$h1"
must "write over the backing part" pfs_client write "$h1" 0 16K 72 --msync
must "write in the zero part" pfs_client write "$h1" 32K 8K 73 --msync
must "while open: first write" pfs_client verify "$h1" 0 16K 72
must "while open: second write" pfs_client verify "$h1" 32K 8K 73
must "while open: zeros" pfs_client verify "$h1" 16K 16K 0
cmp -s "$B" "$PFS_T/data.orig" || fail "writing a heap changed its backing file (page-out must go to swap)"
must_pages "$h1" "swap=6" "six pages paged out to swap"
drop_caches
must "while open, after page-in from swap" pfs_client verify "$h1" 0 16K 72
pfs_release "$H"
# AMBIGUOUS: "reverts to its initial image" is read as the contents; the size
# the client set with ftruncate (the heap's brk) is kept.
eventually 10 "a heap without persist reverts to its initial image at last close" is_initial_image "$h1"
cmp -s "$B" "$PFS_T/data.orig" || fail "the backing file changed"

# 2. Heap with backing and persist: kept across closes and remounts.
h2=$MNT/h2
make_heap "$h2" persist
must "write one page" pfs_client write "$h2" 4096 4096 74 --msync
persist_image() {
	must "$1: backing before" pfs_client mapcmp "$h2" 0 4096 "$B" 0
	must "$1: written page" pfs_client verify "$h2" 4096 4096 74
	must "$1: backing after" pfs_client mapcmp "$h2" 8192 1808 "$B" 8192
	must "$1: zeros" pfs_client verify "$h2" 10000 $((SIZE - 10000)) 0
}
sleep 1 # let the writer's last close reach the daemon: nothing may revert
persist_image "persistent heap after its last close"

# 3. Heap without backing, not persistent: zeros, and zeros again after last close.
h3=$MNT/h3
: >"$h3" || fail "cannot create $h3"
must "type heap" xset "$h3" type heap
truncate -s 32K "$h3" || fail "truncate $h3"
must "anonymous heap starts as zeros" pfs_client verify "$h3" 0 32K 0
must "write it" pfs_client write "$h3" 0 32K 75 --msync
eventually 10 "an anonymous heap without persist is zeros again after its last close" \
	pfs_client verify "$h3" 0 32K 0

# After a restart: persist kept its data; the others show their initial image.
pfs_remount "$STORE" "$MNT"
persist_image "persistent heap after remount"
must_xget f "$h2" flags
has_flag "$f" persist || fail "h2 lost persist across remount: flags '$f'"
# Only unlink destroys an object, so h1 and h3 still exist, as initial images.
[ -e "$h1" ] || fail "h1 (heap without persist) vanished across remount"
initial_image "$h1" "heap without persist after remount"
must "anonymous heap after remount" pfs_client verify "$h3" 0 32K 0
cmp -s "$B" "$PFS_T/data.orig" || fail "the backing file changed"
pfs_stop "$MNT"
