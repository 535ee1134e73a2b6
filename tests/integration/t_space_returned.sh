#!/usr/bin/env bash
# Description: swap space freed by rm goes back to the file system while the mount is idle; space a rewrite reuses keeps its data through the punch and a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
# A short interval: the idle tick that punches comes within seconds.
pfs_start "$STORE" "$MNT" -o commit_interval=1

# Allocated bytes of every swap file in the store.
swap_bytes() { local n=0 f; for f in "$STORE"/swap.*; do n=$((n + $(stat -c '%b * %B' "$f"))); done; echo "$n"; }

a=$MNT/a
: >"$a" && truncate -s 32M "$a" || fail "cannot create $a"
must "write a" pfs_client write "$a" 0 32M 181 --msync
[ "$(swap_bytes)" -ge $((32 << 20)) ] || fail "32 MiB paged out but the swap files hold $(swap_bytes) bytes"

# Rewrites: each msync replaces the frames of the one before. The freed
# ones are reused or punched a commit later, never while they hold data.
for seed in 182 183 184; do
	must "rewrite a ($seed)" pfs_client write "$a" 0 32M "$seed" --msync
done
# Two versions' worth of swap was written; once idle, the store holds one
# version (32 MiB) and at most a little slack.
held_at_most() { [ "$(swap_bytes)" -le "$1" ]; }
wait_until 15 held_at_most $((40 << 20)) ||
	fail "after rewrites and 15 s idle the swap files hold $(swap_bytes) bytes for 32 MiB of data"
drop_caches
must "a after rewrites and punches" pfs_client verify "$a" 0 32M 184

rm "$a" || fail "rm $a"
wait_until 15 held_at_most $((8 << 20)) ||
	fail "rm of the only object: swap files still hold $(swap_bytes) bytes after 15 s"

b=$MNT/b
: >"$b" && truncate -s 16M "$b" || fail "cannot create $b"
must "write b into the punched space" pfs_client write "$b" 0 16M 185 --msync
pfs_remount "$STORE" "$MNT" -o commit_interval=1
must "b after a remount" pfs_client verify "$b" 0 16M 185
pfs_stop "$MNT"
