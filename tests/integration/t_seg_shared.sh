#!/usr/bin/env bash
# Description: a shared object is its backing file: page-outs (mmap or write) land in the file at the same offsets, and the file is synced at last close
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

B=$PFS_T/shared.bin
gen_file "$B" 20000 91
cp "$B" "$PFS_T/shared.orig"
O=$PFS_T/shared.orig
obj=$MNT/shm
: >"$obj" || fail "cannot create $obj"
must "backing" xset "$obj" backing "$B"
must "type shared" xset "$obj" type shared
# "the backing file itself": same size, same bytes.
[ "$(fsize "$obj")" -eq 20000 ] || fail "shared object is $(fsize "$obj") bytes, its file 20000"
must "contents = the file" pfs_client mapcmp "$obj" 0 20000 "$B" 0

pfs_hold H "$obj"
must "store through mmap, msync" pfs_client write "$obj" 4096 8192 92 --msync
# After msync the bytes are in the file (read directly, outside the mount).
must "the file holds the mmap write" pfs_client verify "$B" 4096 8192 92 --pread
must "file before the write unchanged" pfs_client mapcmp "$B" 0 4096 "$O" 0
must "file after the write unchanged" pfs_client mapcmp "$B" 12288 $((20000 - 12288)) "$O" 12288
must "write() and fsync" pfs_client write "$obj" 16384 100 93 --pwrite --msync
must "the file holds the write()" pfs_client verify "$B" 16384 100 93 --pread
# The last, partial page: a page-out must not extend the file.
must "store into the partial last page" pfs_client write "$obj" 19000 1000 94 --msync
must "the file holds the partial-page write" pfs_client verify "$B" 19000 1000 94 --pread
[ "$(fsize "$B")" -eq 20000 ] || fail "page-out of the partial last page made the backing file $(fsize "$B") bytes (was 20000)"
must_xget p "$obj" pages
printf '%s' "$p" | grep -q 'swap=0' || fail "a shared object paged out to swap: pages '$p'"
pfs_release "$H"

# Last close: backing synced and closed; the object still shows the file.
sleep 1
must "file after last close: mmap write" pfs_client verify "$B" 4096 8192 92 --pread
must "file after last close: partial page" pfs_client verify "$B" 19000 1000 94 --pread
[ "$(fsize "$B")" -eq 20000 ] || fail "backing file is $(fsize "$B") bytes after last close"
must "reopened object = the file" pfs_client mapcmp "$obj" 0 20000 "$B" 0
pfs_stop "$MNT"
