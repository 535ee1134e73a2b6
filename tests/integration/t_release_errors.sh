#!/usr/bin/env bash
# Description: bad fallocate requests change nothing: a zero length gets EINVAL, modes other than PUNCH_HOLE|KEEP_SIZE (zero range, collapse, insert) EOPNOTSUPP, a punch past the end keeps the size and every byte, and one straddling the end releases only what lies inside
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr fallocate
pfs_setup
pfs_start "$STORE" "$MNT"

o=$MNT/obj
SIZE=1048576
: >"$o" && truncate -s $SIZE "$o" || fail "cannot create $o"
must "write 1M and msync" pfs_client write "$o" 0 $SIZE 81 --msync
unchanged() {
	[ "$(fsize "$o")" -eq $SIZE ] || fail "$1: the object is $(fsize "$o") bytes, expected $SIZE"
	must_pages "$o" 'zero=0 file=0 swap=256' "$1"
	must "$1: contents" pfs_client verify "$o" 0 $SIZE 81
}

must_err "punch with length 0" 'Invalid argument' pfs_client punch "$o" 4096 0
unchanged "after a zero-length punch"
must_err "fallocate --zero-range" 'Operation not supported' fallocate -z -o 64K -l 64K "$o"
unchanged "after a refused zero range"
must_err "fallocate --collapse-range" 'Operation not supported' fallocate -c -o 64K -l 64K "$o"
unchanged "after a refused collapse"
must_err "fallocate --insert-range" 'Operation not supported' fallocate -i -o 64K -l 64K "$o"
unchanged "after a refused insert"

# Entirely past the end: nothing to release (fallocate(2) and tmpfs: success;
# an error is accepted too), and nothing may change, not even the size.
if ! out=$(pfs_client punch "$o" 2M 64K 2>&1); then
	printf '%s\n' "$out" | grep -q 'EINVAL' || fail "punch past the end failed with something other than EINVAL: $out"
fi
unchanged "after a punch past the end"
# Growing now must not reveal anything the punch stored beyond the end.
truncate -s 3M "$o" || fail "truncate -s 3M"
must "grown after a punch past the end: zeros" pfs_client verify "$o" 1M 2M 0
must "grown after a punch past the end: contents" pfs_client verify "$o" 0 1M 81
truncate -s $SIZE "$o" || fail "truncate -s $SIZE"
unchanged "shrunk back"

# Straddling the end: [768K, 1.5M) releases [768K, 1M); the size stays.
must "punch [768K, 1.5M)" pfs_client punch "$o" 768K 768K
[ "$(fsize "$o")" -eq $SIZE ] || fail "KEEP_SIZE: the object is $(fsize "$o") bytes after a punch across its end"
must_pages "$o" 'zero=64 file=0 swap=192' "after a punch across the end"
must "kept before the punch" pfs_client verify "$o" 0 768K 81
must "punched up to the end" pfs_client verify "$o" 768K 256K 0
pfs_stop "$MNT"
