#!/usr/bin/env bash
# Description: processes sharing an object MAP_SHARED see each other's writes at once and after page-in, and the data survives remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/shared-by-two
: >"$obj" && truncate -s 1M "$obj" || fail "cannot create $obj"

# Process A maps the object before anything is written, and keeps it.
pfs_hold A "$obj" 0 256K 21
# Process B writes through its own mapping; C checks through a third one.
must "B writes 256K and msyncs" pfs_client write "$obj" 0 256K 21 --msync
must "C sees B's writes" pfs_client verify "$obj" 0 256K 21
# A checks through the mapping it made before B wrote.
pfs_release "$A" verify

# Two writers at once on disjoint ranges, then each range checked by others.
pfs_bg W1 pfs_client write "$obj" 256K 384K 22 --msync
pfs_bg W2 pfs_client write "$obj" 640K 384K 23 --msync
wait "$W1" || fail "concurrent writer 1 failed"
wait "$W2" || fail "concurrent writer 2 failed"
check() {
	must "$1: range 1" pfs_client verify "$obj" 0 256K 21 ${2:+"$2"}
	must "$1: range 2" pfs_client verify "$obj" 256K 384K 22 ${2:+"$2"}
	must "$1: range 3" pfs_client verify "$obj" 640K 384K 23 ${2:+"$2"}
}
check "concurrent writers (mmap)" ""
check "concurrent writers (read)" --pread
# Clean pages dropped from the kernel's cache: the next reads are page-ins.
drop_caches
check "after dropping the page cache" ""
pfs_remount "$STORE" "$MNT"
check "after remount" ""
pfs_stop "$MNT"
