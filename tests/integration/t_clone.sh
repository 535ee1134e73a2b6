#!/usr/bin/env bash
# Description: cp (copy_file_range) between objects shares their pages copy-on-write: no new swap, each side's later writes stay its own, and clones survive a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

used() { sed -n 's/^used: //p' "$MNT/.pagerfs/swap"; }

src=$MNT/original
: >"$src" && truncate -s 8M "$src" || fail "cannot create $src"
must "write 8M and msync" pfs_client write "$src" 0 8M 31 --msync
before=$(used)

# coreutils cp (9.x) copies with copy_file_range: the daemon clones whole pages.
must "cp clones" cp "$MNT/original" "$MNT/copy"
must "the copy reads the same" pfs_client verify "$MNT/copy" 0 8M 31
must_pages "$MNT/copy" 'zero=0 file=0 swap=2048' "the copy"
sync "$MNT/copy"
after=$(used)
[ "$after" = "$before" ] || fail "clone used more swap: $before bytes before, $after after (pages were copied, not shared)"

# Copy-on-write: writes to either side never show in the other.
must "write the copy's first 1M" pfs_client write "$MNT/copy" 0 1M 32 --msync
must "write the original's last 1M" pfs_client write "$src" 7M 1M 33 --msync
must "original keeps its first 1M" pfs_client verify "$src" 0 1M 31
must "copy keeps the original's last 1M" pfs_client verify "$MNT/copy" 7M 1M 31
must "copy has its own first 1M" pfs_client verify "$MNT/copy" 0 1M 32
must "original has its own last 1M" pfs_client verify "$src" 7M 1M 33

pfs_remount "$STORE" "$MNT"
must "after remount: copy" pfs_client verify "$MNT/copy" 1M 6M 31
must "after remount: original" pfs_client verify "$src" 0 1M 31
must "remove the original" rm "$src"
must "the copy outlives it" pfs_client verify "$MNT/copy" 1M 6M 31
pfs_stop "$MNT"
