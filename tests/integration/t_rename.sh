#!/usr/bin/env bash
# Description: rename moves an object with its pages and attributes (also over an existing name, which that object's destruction frees), and the new names survive remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

a=$MNT/a
b=$MNT/b
: >"$a" && truncate -s 256K "$a" || fail "cannot create $a"
: >"$b" && truncate -s 128K "$b" || fail "cannot create $b"
must "write a" pfs_client write "$a" 0 256K 231 --msync
must "write b" pfs_client write "$b" 0 128K 232 --msync
mkdir "$MNT/dir" || fail "mkdir $MNT/dir"
mv "$a" "$MNT/dir/a2" || fail "mv a dir/a2"
[ -e "$a" ] && fail "a still exists after mv"
must "a under its new name" pfs_client verify "$MNT/dir/a2" 0 256K 231
# Over an existing name: b replaces dir/a2.
mv "$b" "$MNT/dir/a2" || fail "mv b over dir/a2"
[ "$(fsize "$MNT/dir/a2")" -eq 131072 ] || fail "after mv b over dir/a2 the object is $(fsize "$MNT/dir/a2") bytes, expected b's 131072"
must "b under a's old name" pfs_client verify "$MNT/dir/a2" 0 128K 232
pfs_remount "$STORE" "$MNT"
[ -e "$a" ] && fail "a is back after remount"
[ -e "$b" ] && fail "b is back after remount"
must "renamed object after remount" pfs_client verify "$MNT/dir/a2" 0 128K 232
n=$(find "$MNT" -mindepth 1 ! -name .pagerfs ! -path "$MNT/.pagerfs/*" | wc -l)
[ "$n" -eq 2 ] || fail "after remount the mount holds $n entries, expected dir and dir/a2: $(find "$MNT" -mindepth 1 -printf '%P ')"
pfs_stop "$MNT"
