#!/usr/bin/env bash
# Description: with swap_max, page-outs beyond the cap fail with ENOSPC at msync, ranges reserved by fallocate still page out, and nothing stored before is lost
# Timeout: 180
. "$(dirname "$0")/lib.sh"
pfs_require_cmd fallocate
pfs_setup
OPTS=(-o swap_max=32M)
pfs_start "$STORE" "$MNT" "${OPTS[@]}"

a=$MNT/reserved
b=$MNT/greedy
: >"$a" && truncate -s 8M "$a" || fail "cannot create $a"
# fallocate(0): reserve swap for the whole range (INTERFACE: later page-outs
# of it cannot fail).
must "fallocate reserves 8M" fallocate -o 0 -l 8M "$a"
[ "$(fsize "$a")" -eq 8388608 ] || fail "fallocate changed the size to $(fsize "$a")"

: >"$b" && truncate -s 64M "$b" || fail "cannot create $b"
must "8M within the cap" pfs_client write "$b" 0 8M 201 --msync
# 8M reserved + 8M stored + 48M more > 32M: msync must report ENOSPC.
must_err "page-outs past swap_max" 'ENOSPC' pfs_client write "$b" 8M 48M 202 --msync
# The reservation holds: all of a pages out.
must "the reserved range pages out in full" pfs_client write "$a" 0 8M 203 --msync
must "what b stored before is intact" pfs_client verify "$b" 0 8M 201
must "a's data" pfs_client verify "$a" 0 8M 203

pfs_remount "$STORE" "$MNT" "${OPTS[@]}"
must "after remount: b's first 8M" pfs_client verify "$b" 0 8M 201
must "after remount: a" pfs_client verify "$a" 0 8M 203
# Freeing space makes room again.
rm "$b" || fail "rm $b"
c=$MNT/after
: >"$c" && truncate -s 8M "$c" || fail "cannot create $c"
wait_until 10 pfs_client write "$c" 0 8M 204 --msync ||
	fail "after removing the object that filled swap, 8M still cannot be paged out"
must "new object after space was freed" pfs_client verify "$c" 0 8M 204
pfs_stop "$MNT"
