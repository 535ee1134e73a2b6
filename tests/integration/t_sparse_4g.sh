#!/usr/bin/env bash
# Description: a 4 GiB sparse object with scattered writes (and a 1 TiB one, for offsets past 32 bits) keeps every page right through page-in, a full scan and remount
# Timeout: 900
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"
big=$MNT/big
tera=$MNT/tera
N=3000
: >"$big" || fail "cannot create $big"
# scatter: N random pages (plus the first and last) written through one
# MAP_SHARED mapping of the whole object, msync, then checked through a new
# mapping: each written page, its neighbour and a random other page.
must "scattered writes over 4 GiB" pfs_client scatter "$big" 4G $N 161
[ "$(fsize "$big")" -eq 4294967296 ] || fail "the object is $(fsize "$big") bytes, expected 4 GiB"
distinct=$("$MMAP_CLIENT" scatter "$big" 4G $N 161 --verify-only | sed -n 's/^distinct=//p')
[ -n "$distinct" ] || fail "verify-only pass failed"
if command -v getfattr >/dev/null; then
	must_pages "$big" "zero=$((1048576 - distinct)) file=0 swap=$distinct" "4 GiB object with $distinct pages written"
fi
drop_caches
must "after dropping the page cache" pfs_client scatter "$big" 4G $N 161 --verify-only

: >"$tera" || fail "cannot create $tera"
must "scattered writes over 1 TiB" pfs_client scatter "$tera" 1T 300 162

pfs_remount "$STORE" "$MNT"
# Every page of the 4 GiB object, in order, through a mapping: far more
# than any cache of the daemon's.
PFS_CLIENT_TIMEOUT=600 must "full scan after remount" pfs_client scatter "$big" 4G $N 161 --verify-only --scan
must "1 TiB object after remount" pfs_client scatter "$tera" 1T 300 162 --verify-only
pfs_stop "$MNT"
