#!/usr/bin/env bash
# Description: prefetch= reads swap ahead of processes that read objects in order: two streams at once read back exactly, pages rewritten after being read ahead read back new, prefetch=0 reads nothing ahead, and a bad value is refused
# Timeout: 180
. "$(dirname "$0")/lib.sh"
pfs_setup
stat_of() { sed -n "s/^$1: //p" "$MNT/.pagerfs/stats"; }

pfs_start "$STORE" "$MNT"
a=$MNT/a b=$MNT/b
for f in "$a" "$b"; do
	: >"$f" && truncate -s 64M "$f" || fail "cannot create $f"
done
must "64M of a written and msynced" pfs_client write "$a" 0 64M 41 --msync
must "64M of b written and msynced" pfs_client write "$b" 0 64M 42 --msync

# A fresh mount has nothing cached: every page comes from swap.
pfs_remount "$STORE" "$MNT"
drop_caches
pfs_bg bpid pfs_client verify "$b" 0 64M 42
must "a read in order beside b" pfs_client verify "$a" 0 64M 41
wait "$bpid" || fail "b read in order beside a: wrong bytes or an error (see above)"
read_ahead=$(stat_of "pages prefetched")
used=$(stat_of "prefetched pages used")
pfs_log "pages prefetched $read_ahead, used $used"
[ "${read_ahead:-0}" -gt 0 ] || fail "two objects read in order, but no page was read ahead"
[ "${used:-0}" -gt 0 ] || fail "pages were read ahead, but no page-in used one"
[ "$(stat_of "errors checksum")" = 0 ] || fail "checksum errors: $(stat_of "errors checksum")"

# Read the head of a in order, so the daemon reads past it; then rewrite what
# it read ahead, drop the kernel's copy, and read that range again.
pfs_remount "$STORE" "$MNT"
drop_caches
must "the first 8M of a" pfs_client verify "$a" 0 8M 41
must "rewrite 8M-16M of a" pfs_client write "$a" 8M 8M 43 --msync
drop_caches
must "the rewritten range reads new, not what was read ahead" pfs_client verify "$a" 8M 8M 43
must "the rest of a is unchanged" pfs_client verify "$a" 16M 48M 41
pfs_remount "$STORE" "$MNT"
must "a after a remount: head" pfs_client verify "$a" 0 8M 41
must "a after a remount: rewritten range" pfs_client verify "$a" 8M 8M 43

# Off: the same stream reads nothing ahead.
pfs_remount "$STORE" "$MNT" -o prefetch=0
drop_caches
must "b read in order with prefetch=0" pfs_client verify "$b" 0 64M 42
[ "$(stat_of "pages prefetched")" = 0 ] || fail "prefetch=0, yet $(stat_of "pages prefetched") pages were read ahead"
pfs_stop "$MNT"

# Bad values are usage errors (exit 2) and mount nothing.
for v in 33M 1X -1 ""; do
	out=$("$PAGERFSD" -f -o "prefetch=$v" "$STORE" "$MNT" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "prefetch=$v: exit status $rc, expected 2 (output: $out)"
	case $out in *prefetch*) ;; *) fail "prefetch=$v: the message does not name the option: $out" ;; esac
	pfs_is_mounted "$MNT" && fail "prefetch=$v mounted $MNT"
done
pfs_log "prefetch=33M, 1X, -1 and an empty value were refused"
