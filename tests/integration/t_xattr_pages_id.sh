#!/usr/bin/env bash
# Description: user.pagerfs.pages counts zero, file and swap pages of the page map and user.pagerfs.id is a stable, distinct id, both across remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd getfattr setfattr
pfs_setup
pfs_start "$STORE" "$MNT"

a=$MNT/a
b=$MNT/b
: >"$a" && truncate -s 1M "$a" || fail "cannot create $a"
: >"$b" || fail "cannot create $b"
must_pages "$a" "zero=256 file=0 swap=0" "fresh 1M object"
must_pages "$b" "zero=0 file=0 swap=0" "empty object"
for pg in 0 5 9; do
	must "write page $pg" pfs_client write "$a" $((pg * 4096)) 4096 $((110 + pg)) --msync
done
must_pages "$a" "zero=253 file=0 swap=3" "three pages written and msynced"

must_xget ida "$a" id
must_xget idb "$b" id
printf '%s' "$ida" | grep -Eq '^(0x)?[0-9a-fA-F]+$' || fail "id '$ida' is not a number"
[ "$ida" != "$idb" ] || fail "two objects share the id '$ida'"

# A file-backed (code) object: its pages are file pages.
B=$PFS_T/b.bin
gen_file "$B" 20480 120
c=$MNT/c
: >"$c" || fail "cannot create $c"
must "backing" xset "$c" backing "$B"
must "type code" xset "$c" type code
must_pages "$c" "zero=0 file=5 swap=0" "code object on a 5-page file"

# A 1 TiB sparse object costs nothing and counts as zeros.
t=$MNT/tera
truncate -s 1T "$t" || fail "truncate -s 1T $t"
must_pages "$t" "zero=268435456 file=0 swap=0" "1 TiB sparse object"

pfs_remount "$STORE" "$MNT"
must_pages "$a" "zero=253 file=0 swap=3" "after remount"
must_xget id "$a" id
[ "$id" = "$ida" ] || fail "id of a changed from '$ida' to '$id' across remount"
must_xget id "$b" id
[ "$id" = "$idb" ] || fail "id of b changed from '$idb' to '$id' across remount"
must_pages "$t" "zero=268435456 file=0 swap=0" "1 TiB object after remount"
for pg in 0 5 9; do
	must "page $pg after remount" pfs_client verify "$a" $((pg * 4096)) 4096 $((110 + pg))
done
pfs_stop "$MNT"
