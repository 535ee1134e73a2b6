#!/usr/bin/env bash
# Description: kill -9 of the daemon while clients page out, then remount: every page whose msync was acknowledged holds that version or a later one
# Timeout: 420
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

# Two objects, two writers: runs of 64 pages (256K page-outs) over 8 MiB,
# and runs of 4 pages over 2 MiB. Each writer msyncs a run, then appends
# "PAGE VERSION" for each page to its log (outside the mount) and fsyncs
# the log: the log lists exactly what msync acknowledged.
A=$MNT/a; AP=2048; ALOG=$PFS_T/a.log
B=$MNT/b; BP=512; BLOG=$PFS_T/b.log
: >"$A" && : >"$B" || fail "cannot create the objects"

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

for cycle in 1 2 3; do
	a0=$(lines "$ALOG") b0=$(lines "$BLOG")
	pfs_bg WA "$MMAP_CLIENT" loop-write "$A" $AP "$ALOG" 64
	pfs_bg WB "$MMAP_CLIENT" loop-write "$B" $BP "$BLOG" 4
	# Wait for acknowledgements, then a little longer (a different moment
	# in the write/msync/commit cycle each time), then kill -9.
	acked() { [ "$(lines "$ALOG")" -ge $((a0 + 640)) ] && [ "$(lines "$BLOG")" -ge $((b0 + 40)) ]; }
	wait_until 60 acked || fail "cycle $cycle: msync acknowledged too little in 60 s (a: $(($(lines "$ALOG") - a0)) pages, b: $(($(lines "$BLOG") - b0)) pages)"
	sleep "0.$((RANDOM % 9 + 1))"
	kill -0 "$WA" 2>/dev/null || fail "cycle $cycle: writer a stopped before the kill"
	kill -0 "$WB" 2>/dev/null || fail "cycle $cycle: writer b stopped before the kill"
	pfs_kill9 "$MNT"
	kill -KILL "$WA" "$WB" 2>/dev/null
	wait "$WA" "$WB" 2>/dev/null
	pfs_log "cycle $cycle: killed with $(($(lines "$ALOG") - a0)) + $(($(lines "$BLOG") - b0)) page versions acknowledged"
	pfs_start "$STORE" "$MNT"
	must "cycle $cycle: object a after kill -9" pfs_client check-log "$A" $AP "$ALOG"
	must "cycle $cycle: object b after kill -9" pfs_client check-log "$B" $BP "$BLOG"
done

# And after a clean restart too.
pfs_remount "$STORE" "$MNT"
must "object a after a clean remount" pfs_client check-log "$A" $AP "$ALOG"
must "object b after a clean remount" pfs_client check-log "$B" $BP "$BLOG"
pfs_stop "$MNT"
