#!/usr/bin/env bash
# Description: after a shrink and a regrow by another process, a process that already had the object mapped (pages faulted in) sees zeros beyond the shrink point and its kept pages unchanged
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

# hold_expect VAR FILE OFF LEN BEFORE AFTER: a process that maps FILE, reads
# the range (checking BEFORE) and holds it mapped; stop it with pfs_release
# (verify: the same mapping must then show AFTER).
hold_expect() {
	local var=$1 out
	shift
	out=$PFS_T/hold-expect.$RANDOM.out
	"$MMAP_CLIENT" hold-expect "$@" >"$out" 2>&1 &
	PFS_BG+=("$!")
	printf -v "$var" '%s' "$!"
	for _ in $(seq 100); do
		grep -q '^holding' "$out" && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	fail "hold-expect $*: $(tail -n 2 "$out" | tr '\n' ' ')"
}

o=$MNT/obj
SIZE=1048576 KEEP=300000
: >"$o" && truncate -s $SIZE "$o" || fail "cannot create $o"
must "write 1M and msync" pfs_client write "$o" 0 $SIZE 22 --msync

# Two holders read the tail they will lose (one read-write, one read-only
# mapping), one the head it keeps.
hold_expect TAIL "$o" $KEEP $((SIZE - KEEP)) 22 0
hold_expect HEAD "$o" 0 $KEEP 22 22
hold_expect RO --ro "$o" $KEEP $((SIZE - KEEP)) 22 0

truncate -s $KEEP "$o" || fail "truncate -s $KEEP"
truncate -s $SIZE "$o" || fail "truncate -s $SIZE"
[ "$(fsize "$o")" -eq $SIZE ] || fail "$o is $(fsize "$o") bytes after growing back"

pfs_release "$TAIL" verify
pfs_release "$HEAD" verify
pfs_release "$RO" verify

must "a new reader: kept part" pfs_client verify "$o" 0 $KEEP 22
must "a new reader: zeros beyond" pfs_client verify "$o" $KEEP $((SIZE - KEEP)) 0
pfs_stop "$MNT"
