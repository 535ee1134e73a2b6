#!/usr/bin/env bash
# Description: after a shrink and a regrow by another process, a process that already had the object mapped (pages faulted in) sees zeros beyond the shrink point and its kept pages unchanged
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

o=$MNT/obj
SIZE=1048576 KEEP=300000
: >"$o" && truncate -s $SIZE "$o" || fail "cannot create $o"
must "write 1M and msync" pfs_client write "$o" 0 $SIZE 22 --msync

# Two holders read the tail they will lose (one read-write, one read-only
# mapping), one the head it keeps.
pfs_hold_expect TAIL "$o" $KEEP $((SIZE - KEEP)) 22 0
pfs_hold_expect HEAD "$o" 0 $KEEP 22 22
pfs_hold_expect RO --ro "$o" $KEEP $((SIZE - KEEP)) 22 0

truncate -s $KEEP "$o" || fail "truncate -s $KEEP"
truncate -s $SIZE "$o" || fail "truncate -s $SIZE"
[ "$(fsize "$o")" -eq $SIZE ] || fail "$o is $(fsize "$o") bytes after growing back"

pfs_release "$TAIL" verify
pfs_release "$HEAD" verify
pfs_release "$RO" verify

must "a new reader: kept part" pfs_client verify "$o" 0 $KEEP 22
must "a new reader: zeros beyond" pfs_client verify "$o" $KEEP $((SIZE - KEEP)) 0
pfs_stop "$MNT"
