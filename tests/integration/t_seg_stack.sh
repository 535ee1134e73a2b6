#!/usr/bin/env bash
# Description: stack objects are zero-filled, sized by maxsize with the top at the end of the file, and are dead and freed at last close unless persist
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

MAX=262144
s1=$MNT/stack1
: >"$s1" || fail "cannot create $s1"
must "type stack" xset "$s1" type stack
must "maxsize 256K" xset "$s1" maxsize 256K
must_xget m "$s1" maxsize
[ "$(to_bytes "$m")" = $MAX ] || fail "maxsize reads '$m' after setting 256K"
# INTERFACE: "its size is maxsize and its top is the end of the file".
[ "$(fsize "$s1")" -eq $MAX ] || fail "stack object is $(fsize "$s1") bytes, expected maxsize $MAX"
must_err "maxsize bogus is refused" 'Invalid argument' xset "$s1" maxsize bogus
must_xget m "$s1" maxsize
[ "$(to_bytes "$m")" = $MAX ] || fail "a refused maxsize changed it to '$m'"

# Grow down: the top page first, then pages further down.
pfs_hold H "$s1"
must "touch the top page" pfs_client write "$s1" $((MAX - 4096)) 4096 81 --msync
must "grow down to the middle" pfs_client write "$s1" $((MAX / 2)) 8192 82 --msync
must "top page" pfs_client verify "$s1" $((MAX - 4096)) 4096 81
must "middle pages" pfs_client verify "$s1" $((MAX / 2)) 8192 82
must "zeros below" pfs_client verify "$s1" 0 $((MAX / 2)) 0
must "zeros between" pfs_client verify "$s1" $((MAX / 2 + 8192)) $((MAX / 2 - 8192 - 4096)) 0
must_pages "$s1" "swap=3" "three pages paged out"
drop_caches
must "top page after page-in from swap" pfs_client verify "$s1" $((MAX - 4096)) 4096 81

# Last close: dead and freed. What a dead stack looks like afterwards is not
# spelled out (AMBIGUOUS): we accept the name gone, or flags showing 'dead';
# either way its old contents must never be readable again.
pfs_release "$H"
dead_or_gone() {
	[ -e "$s1" ] || return 0
	f=$(xget "$s1" flags) && has_flag "$f" dead
}
wait_until 10 dead_or_gone || fail "after its last close the stack's flags are '$(xget "$s1" flags 2>&1)', expected 'dead'"
if [ -e "$s1" ]; then
	if out=$("$MMAP_CLIENT" verify "$s1" $((MAX - 4096)) 4096 81 2>&1); then
		fail "a dead stack still shows its old top page"
	fi
	pfs_log "dead stack: $out"
	must_pages "$s1" "swap=0" "a dead stack's swap is freed"
fi

# With persist: kept across closes and remounts.
s2=$MNT/stack2
: >"$s2" || fail "cannot create $s2"
must "type stack" xset "$s2" type stack
must "maxsize 64K" xset "$s2" maxsize 65536
must "flags persist" xset "$s2" flags persist
[ "$(fsize "$s2")" -eq 65536 ] || fail "stack2 is $(fsize "$s2") bytes, expected 65536"
must "write the top page" pfs_client write "$s2" 61440 4096 83 --msync
sleep 1 # the writer's last close reaches the daemon
must_xget f "$s2" flags
has_flag "$f" dead && fail "a persistent stack is dead after its last close (flags '$f')"
must "persistent stack after last close" pfs_client verify "$s2" 61440 4096 83
pfs_remount "$STORE" "$MNT"
[ "$(fsize "$s2")" -eq 65536 ] || fail "after remount stack2 is $(fsize "$s2") bytes"
must "persistent stack after remount: top" pfs_client verify "$s2" 61440 4096 83
must "persistent stack after remount: zeros" pfs_client verify "$s2" 0 61440 0
must_xget t "$s2" type
[ "$t" = stack ] || fail "after remount stack2 has type '$t'"
pfs_stop "$MNT"
