#!/usr/bin/env bash
# Description: a second pagerfsd on a store already in use is refused (non-zero exit, clear message, no mount) and the first mount carries on unaffected
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"
obj=$MNT/obj
: >"$obj" && truncate -s 64K "$obj" || fail "cannot create $obj"
must "write on the first mount" pfs_client write "$obj" 0 64K 151 --msync

# second LABEL STORE-PATH [-f]: start a second daemon on the store; it must
# refuse, quickly, and mount nothing.
second() {
	local label=$1 store=$2 fg=${3:-} mnt2 log rc
	mnt2=$PFS_T/mnt-$label
	log=$PFS_T/second-$label.log
	mkdir -p "$mnt2"
	timeout 20 "$PAGERFSD" ${fg:+"$fg"} "$store" "$mnt2" >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	if pfs_is_mounted "$mnt2"; then
		pfs_lazy_unmount "$mnt2"
		fail "$label: a second daemon on the store in use mounted $mnt2 (exit $rc)"
	fi
	[ "$rc" -ne 124 ] || fail "$label: the second daemon was still running after 20 s instead of refusing"
	[ "$rc" -ne 0 ] || fail "$label: the second daemon exited 0; a refusal must exit non-zero"
	if [ -n "$fg" ]; then
		# A clear message: says the store is in use (or names it).
		grep -Eiq 'in use|already|lock|running|busy' "$log" || grep -Fq "$store" "$log" ||
			fail "$label: refused (exit $rc), but its message does not say why: '$(head -c 200 "$log")'"
	fi
	pfs_log "$label: refused with exit $rc"
}
second foreground "$STORE" -f
# Daemonising must not hide the refusal: the check comes before the fork
# (our reading; the message may go to syslog then).
second background "$STORE"
# The same store under another name.
ln -s "$STORE" "$PFS_T/store-link"
second symlink "$PFS_T/store-link" -f

pfs_daemon_alive "$MNT" || fail "the first daemon died when the second was refused"
pfs_is_mounted "$MNT" || fail "the first mount is gone"
must "first mount: old data" pfs_client verify "$obj" 0 64K 151
must "first mount: new write" pfs_client write "$obj" 0 32K 152 --msync
must "first mount: new data" pfs_client verify "$obj" 0 32K 152
pfs_remount "$STORE" "$MNT"
must "after remount" pfs_client verify "$obj" 0 32K 152
must "after remount, second half" pfs_client verify "$obj" 32K 32K 151
pfs_stop "$MNT"
