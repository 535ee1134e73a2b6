#!/usr/bin/env bash
# Description: many processes faulting the same pages at once (mmap and read()) while others page out elsewhere in the object all see the right bytes
# Timeout: 240
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/obj
: >"$obj" && truncate -s 128M "$obj" || fail "cannot create $obj"
must "write the first 64M" pfs_client write "$obj" 0 64M 181 --msync
drop_caches

# Six readers of the same 64M (every page-in is raced by the others) and two
# writers paging out the other half at the same time.
pids=()
for i in 1 2 3 4; do
	pfs_bg p pfs_client verify "$obj" 0 64M 181
	pids+=("$p")
done
for i in 1 2; do
	pfs_bg p pfs_client verify "$obj" 0 64M 181 --pread
	pids+=("$p")
done
pfs_bg p pfs_client write "$obj" 64M 32M 182 --msync
pids+=("$p")
pfs_bg p pfs_client write "$obj" 96M 32M 183 --msync
pids+=("$p")
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] || fail "$bad of ${#pids[@]} concurrent clients failed (their messages are above)"

check() {
	must "$1: first half" pfs_client verify "$obj" 0 64M 181
	must "$1: writer 1" pfs_client verify "$obj" 64M 32M 182
	must "$1: writer 2" pfs_client verify "$obj" 96M 32M 183
}
check "after the concurrent run"
pfs_remount "$STORE" "$MNT"
# Cold, and again raced: two readers of everything at once.
pfs_bg r1 pfs_client verify "$obj" 64M 32M 182
pfs_bg r2 pfs_client verify "$obj" 64M 32M 182 --pread
wait "$r1" || fail "concurrent cold reader 1 failed"
wait "$r2" || fail "concurrent cold reader 2 failed"
check "after remount"
pfs_stop "$MNT"
