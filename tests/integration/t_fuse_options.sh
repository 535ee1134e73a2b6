#!/usr/bin/env bash
# Description: FUSE mount options pass through (max_read limits READs, noatime), and page-outs of every alignment (mmap write-back, unaligned write(2)) read back exactly
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT" -o max_read=131072,noatime
grep -q "max_read=131072" /proc/mounts || fail "max_read is not among the mount's options: $(grep "$MNT" /proc/mounts)"

obj=$MNT/obj
: >"$obj" && truncate -s 4M "$obj" || fail "cannot create $obj"
must "4M written through mmap and msynced" pfs_client write "$obj" 0 4M 31 --msync
drop_caches
must "read back after a page-in in 128K READs" pfs_client verify "$obj" 0 4M 31
must "read back with pread" pfs_client verify "$obj" 0 4M 31 --pread

# write(2) at offsets and lengths that are not page multiples.
ref=$PFS_T/ref
cp "$obj" "$ref" || fail "cp to $ref"
head -c 10000 /dev/urandom >"$PFS_T/bytes"
for seek in 1 4095 8193 100000; do
	dd if="$PFS_T/bytes" of="$obj" bs=1 seek=$seek conv=notrunc status=none || fail "dd into $obj at $seek"
	dd if="$PFS_T/bytes" of="$ref" bs=1 seek=$seek conv=notrunc status=none || fail "dd into $ref at $seek"
done
cmp "$obj" "$ref" || fail "unaligned writes read back differently"
drop_caches
cmp "$obj" "$ref" || fail "unaligned writes read back differently after a page-in"
pfs_remount "$STORE" "$MNT" -o max_read=131072
cmp "$obj" "$ref" || fail "contents differ after a remount"
pfs_stop "$MNT"
