#!/usr/bin/env bash
# Description: a persistent object written through mmap (with and without msync) survives unmount and remount, size changes included
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/obj
small=$MNT/small

# open(O_CREAT) makes a persistent anonymous object: heap, persist, zero-filled.
: >"$obj" || fail "cannot create $obj with open(O_CREAT)"
[ "$(fsize "$obj")" -eq 0 ] || fail "a new object is $(fsize "$obj") bytes, expected 0"
truncate -s 1M "$obj" || fail "truncate -s 1M $obj"
[ "$(fsize "$obj")" -eq 1048576 ] || fail "after truncate -s 1M the object is $(fsize "$obj") bytes"
must "a new object reads as zeros" pfs_client verify "$obj" 0 1M 0
must "write 256K through mmap, msync" pfs_client write "$obj" 0 256K 11 --msync
# No msync: munmap and close hand the dirty pages to the daemon, unmount commits them.
must "write 128K through mmap, no msync" pfs_client write "$obj" 512K 128K 12

# truncate -s on a new name makes one too; a size that is not a page multiple.
truncate -s 10000 "$small" || fail "truncate -s 10000 $small"
must "write the partial last page" pfs_client write "$small" 0 10000 13 --msync

if command -v getfattr >/dev/null; then
	must_xget t "$obj" type
	[ "$t" = heap ] || fail "an object made by open(O_CREAT) has type '$t', expected heap"
	must_xget f "$obj" flags
	has_flag "$f" persist || fail "an object made by open(O_CREAT) has flags '$f', expected persist"
	must_xget f "$small" flags
	has_flag "$f" persist || fail "an object made by truncate -s has flags '$f', expected persist"
fi

check_all() {
	[ "$(fsize "$obj")" -eq 1048576 ] || fail "$1: $obj is $(fsize "$obj") bytes, expected 1048576"
	[ "$(fsize "$small")" -eq 10000 ] || fail "$1: $small is $(fsize "$small") bytes, expected 10000"
	must "$1: msynced range" pfs_client verify "$obj" 0 256K 11
	must "$1: zeros between" pfs_client verify "$obj" 256K 256K 0
	must "$1: range written without msync" pfs_client verify "$obj" 512K 128K 12
	must "$1: zeros after" pfs_client verify "$obj" 640K 384K 0
	must "$1: partial-page object" pfs_client verify "$small" 0 10000 13
	must "$1: partial-page object, read()" pfs_client verify "$small" 0 10000 13 --pread
}

check_all "before unmount"
pfs_remount "$STORE" "$MNT"
check_all "after remount"

# Shrink then grow: the released tail must come back as zeros, also after a restart.
truncate -s 128K "$obj" || fail "truncate -s 128K $obj"
truncate -s 1M "$obj" || fail "truncate -s 1M $obj"
must "after shrink and grow" pfs_client verify "$obj" 0 128K 11
must "tail after shrink and grow is zeros" pfs_client verify "$obj" 128K 896K 0
pfs_remount "$STORE" "$MNT"
[ "$(fsize "$obj")" -eq 1048576 ] || fail "after shrink, grow and remount $obj is $(fsize "$obj") bytes"
must "kept part after remount" pfs_client verify "$obj" 0 128K 11
must "released tail is zeros after remount" pfs_client verify "$obj" 128K 896K 0
must "other object after second remount" pfs_client verify "$small" 0 10000 13
pfs_stop "$MNT"
