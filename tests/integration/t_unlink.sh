#!/usr/bin/env bash
# Description: unlink destroys an object (also across remount); a name made again is a new, empty object; a process holding the unlinked object keeps it until it closes
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

a=$MNT/a
: >"$a" && truncate -s 64K "$a" || fail "cannot create $a"
must "write" pfs_client write "$a" 0 64K 171 --msync
rm "$a" || fail "rm $a"
[ -e "$a" ] && fail "$a still exists after rm"
: >"$a" || fail "cannot create $a again"
[ "$(fsize "$a")" -eq 0 ] || fail "a new object under an old name is $(fsize "$a") bytes"
truncate -s 64K "$a" || fail "truncate $a"
must "a new object under an old name is zeros" pfs_client verify "$a" 0 64K 0

# Unlinked while mapped: as on tmpfs (DESIGN: "where it is silent, build
# what a user of tmpfs ... would expect"; object.h: "open handles keep
# working until released"), the holder keeps its pages.
b=$MNT/b
: >"$b" && truncate -s 64K "$b" || fail "cannot create $b"
must "write b" pfs_client write "$b" 0 64K 172 --msync
pfs_hold H "$b" 0 64K 172
rm "$b" || fail "rm $b while it is mapped"
[ -e "$b" ] && fail "$b still listed after rm"
drop_caches
pfs_release "$H" verify

pfs_remount "$STORE" "$MNT"
[ -e "$b" ] && fail "$b is back after remount"
[ "$(fsize "$a")" -eq 65536 ] || fail "after remount $a is $(fsize "$a") bytes"
must "the new a after remount" pfs_client verify "$a" 0 64K 0
n=$(find "$MNT" -mindepth 1 -maxdepth 1 ! -name .pagerfs | wc -l)
[ "$n" -eq 1 ] || fail "after remount the mount holds $n names, expected only a: $(find "$MNT" -mindepth 1 -maxdepth 1 -printf '%f ')"
pfs_stop "$MNT"
