#!/usr/bin/env bash
# Description: code+debug is the backing range made writable: writes page out to swap, never to the file, and the object reverts to the file's contents at last close
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

B=$PFS_T/prog.bin
gen_file "$B" 32K 61
cp "$B" "$PFS_T/prog.orig"
obj=$MNT/prog
: >"$obj" || fail "cannot create $obj"
must "backing" xset "$obj" backing "$B"
must "type code" xset "$obj" type code
must "flags debug" xset "$obj" flags debug
must_xget f "$obj" flags
has_flag "$f" debug || fail "flags read '$f' after setting debug"
[ "$(fsize "$obj")" -eq 32768 ] || fail "code+debug object is $(fsize "$obj") bytes, expected the file's 32768"
must "contents = backing file" pfs_client mapcmp "$obj" 0 32K "$B" 0

# A holder keeps the object open so the writer's close is not the last one.
pfs_hold H "$obj"
must "write through mmap (writable with debug)" pfs_client write "$obj" 4096 8192 62 --msync
must "another process sees the write" pfs_client verify "$obj" 4096 8192 62
must "the rest is still the file" pfs_client mapcmp "$obj" 0 4096 "$B" 0
must "the rest is still the file (tail)" pfs_client mapcmp "$obj" 12288 20480 "$B" 12288
cmp -s "$B" "$PFS_T/prog.orig" || fail "writing a code+debug object changed its backing file (page-out must go to swap)"
must_pages "$obj" "file=6 swap=2" "two pages paged out to swap"
drop_caches
must "the write after a page-in from swap" pfs_client verify "$obj" 4096 8192 62

# Last close: the object reverts to the backing contents.
pfs_release "$H"
eventually 10 "code+debug reverts to the file's contents at last close" \
	pfs_client mapcmp "$obj" 0 32K "$B" 0
cmp -s "$B" "$PFS_T/prog.orig" || fail "the backing file changed"
pfs_stop "$MNT"
