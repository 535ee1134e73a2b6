#!/usr/bin/env bash
# Description: 1 GiB written through a mapping with no msync reaches swap by the kernel's own write-back (dirty throttling, munmap) and reads back after remount
# Timeout: 420
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/big
: >"$obj" && truncate -s 1G "$obj" || fail "cannot create $obj"
PFS_CLIENT_TIMEOUT=300 must "write 1 GiB, no msync" pfs_client write "$obj" 0 1G 191
PFS_CLIENT_TIMEOUT=300 must "read it back" pfs_client verify "$obj" 0 1G 191
pfs_remount "$STORE" "$MNT"
if command -v getfattr >/dev/null; then
	must_pages "$obj" "zero=0 file=0 swap=262144" "1 GiB written"
fi
PFS_CLIENT_TIMEOUT=300 must "1 GiB after remount (page-ins from swap)" pfs_client verify "$obj" 0 1G 191
pfs_stop "$MNT"
