#!/usr/bin/env bash
# Description: after fork, parent and child share one MAP_SHARED mapping: each sees the other's writes, and the object lives until the last of them closes
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/forked
: >"$obj" && truncate -s 256K "$obj" || fail "cannot create $obj"
# Parent writes even pages, child odd ones; each checks all, both msync; the
# parent unmaps and closes first, the child checks again (mapping, read(),
# a new mapping) after that.
must "fork-share on a persistent object" pfs_client fork-share "$obj" 31
must "after fork-share" pfs_client verify "$obj" 0 256K 31
pfs_remount "$STORE" "$MNT"
must "after remount" pfs_client verify "$obj" 0 256K 31

# The same with a non-persistent heap: the parent's close is not the last
# close (the child still holds the mapping), so the object must not revert
# while the child checks it; it reverts only after the child has gone.
if command -v setfattr >/dev/null; then
	heap=$MNT/forked-heap
	: >"$heap" && truncate -s 256K "$heap" || fail "cannot create $heap"
	must "type heap (not persistent)" xset "$heap" type heap
	must_xget f "$heap" flags
	has_flag "$f" persist && fail "explicit type heap still has flags '$f' (INTERFACE: persistent only with persist)"
	must "fork-share on a non-persistent heap" pfs_client fork-share "$heap" 32
	eventually 10 "the heap reverts to zeros after the child, the last user, closed" \
		pfs_client verify "$heap" 0 256K 0
else
	pfs_log "setfattr missing: non-persistent part skipped"
fi
pfs_stop "$MNT"
