#!/usr/bin/env bash
# Description: after another process punches a range (fallocate PUNCH_HOLE|KEEP_SIZE), a process that already had the object mapped with those pages faulted in sees the range's initial contents (zeros, or a heap's backing bytes) and the rest unchanged
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

# 1. An anonymous object: the range becomes zeros.
o=$MNT/anon
: >"$o" && truncate -s 1M "$o" || fail "cannot create $o"
must "write 1M and msync" pfs_client write "$o" 0 1M 51 --msync
pfs_hold_expect IN "$o" 256K 256K 51 0
pfs_hold_expect RO --ro "$o" 256K 256K 51 0
pfs_hold_expect OUT "$o" 512K 512K 51 51
must "punch [256K, 512K)" pfs_client punch "$o" 256K 256K
pfs_release "$IN" verify
pfs_release "$RO" verify
pfs_release "$OUT" verify

# 2. A heap backed by a file (pattern 52 at the same offsets): the range
# becomes the backing's bytes again.
B=$PFS_T/data.bin
gen_file "$B" 256K 52
h=$MNT/heap
: >"$h" || fail "cannot create $h"
must "backing" xset "$h" backing "$B"
must "type heap" xset "$h" type heap
must "flags persist" xset "$h" flags persist
must "write the heap and msync" pfs_client write "$h" 0 256K 53 --msync
pfs_hold_expect HIN "$h" 64K 64K 53 52
pfs_hold_expect HOUT "$h" 128K 128K 53 53
must "punch the heap's [64K, 128K)" pfs_client punch "$h" 64K 64K
pfs_release "$HIN" verify
pfs_release "$HOUT" verify
must "a new reader of the heap: backing bytes" pfs_client verify "$h" 64K 64K 52
must "a new reader of the heap: written head" pfs_client verify "$h" 0 64K 53
pfs_stop "$MNT"
