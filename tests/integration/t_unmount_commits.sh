#!/usr/bin/env bash
# Description: unmounting (fusermount3 -u, umount, pagerctl umount) commits everything pending and the daemon exits 0, even with the commit timer off
# Timeout: 180
. "$(dirname "$0")/lib.sh"
pfs_setup
# commit_interval=0: commits only on fsync/unmount/pressure, so nothing below
# is durable until the unmount commits it.
OPTS=(-o commit_interval=0)
pfs_start "$STORE" "$MNT" "${OPTS[@]}"

obj=$MNT/obj
: >"$obj" && truncate -s 1M "$obj" || fail "cannot create $obj"
must "mmap write, no msync" pfs_client write "$obj" 0 512K 141
must "write(), no fsync" pfs_client write "$obj" 512K 64K 142 --pwrite
truncate -s 10000 "$MNT/new" || fail "create a second object"
pfs_stop "$MNT" fusermount3
pfs_start "$STORE" "$MNT" "${OPTS[@]}"
must "mmap write committed by fusermount3 -u" pfs_client verify "$obj" 0 512K 141
must "write() committed by fusermount3 -u" pfs_client verify "$obj" 512K 64K 142
[ "$(fsize "$MNT/new")" -eq 10000 ] || fail "an object created before the unmount is $(fsize "$MNT/new" 2>&1) after it"

if [ "$(id -u)" -eq 0 ]; then
	must "mmap write, no msync" pfs_client write "$obj" 640K 128K 143
	pfs_stop "$MNT" umount
	pfs_start "$STORE" "$MNT" "${OPTS[@]}"
	must "mmap write committed by umount" pfs_client verify "$obj" 640K 128K 143
else
	pfs_log "not root: umount(8) case skipped"
fi

PAGERCTL=${PAGERCTL:-$BUILDDIR/pagerctl}
if [ -x "$PAGERCTL" ]; then
	must "mmap write, no msync" pfs_client write "$obj" 768K 128K 144
	pid=${PFS_PID[$MNT]}
	must "pagerctl umount" timeout 60 "$PAGERCTL" umount "$MNT"
	pfs_is_mounted "$MNT" && fail "still mounted after pagerctl umount"
	wait_until 60 sh -c "! kill -0 $pid" || fail "pagerfsd still running after pagerctl umount"
	wait "$pid"
	rc=$?
	unset "PFS_PID[$MNT]"
	[ "$rc" -eq 0 ] || fail "pagerfsd exited $rc after pagerctl umount (expected 0)"
	pfs_start "$STORE" "$MNT" "${OPTS[@]}"
	must "mmap write committed by pagerctl umount" pfs_client verify "$obj" 768K 128K 144
else
	pfs_log "no pagerctl at $PAGERCTL: pagerctl umount case skipped"
fi
must "everything, at the end" pfs_client verify "$obj" 0 512K 141
pfs_stop "$MNT"
