#!/usr/bin/env bash
# Description: invalid user.pagerfs.* values get EINVAL, refused changes EPERM or EBUSY, read-only attributes cannot be set, and the object is left exactly as it was
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

obj=$MNT/obj
: >"$obj" && truncate -s 64K "$obj" || fail "cannot create $obj"
must_xget t0 "$obj" type
must_xget f0 "$obj" flags
must_xget id0 "$obj" id

must_err "type bogus" 'Invalid argument' xset "$obj" type bogus
must_err "flags bogus" 'Invalid argument' xset "$obj" flags persist,bogus
gen_file "$PFS_T/x" 8192 100
must_err "backing with a bad offset" 'Invalid argument' xset "$obj" backing "$PFS_T/x:notanumber"
must_err "backing with a bad length" 'Invalid argument' xset "$obj" backing "$PFS_T/x:0:-5"
must_xget t "$obj" type
[ "$t" = "$t0" ] || fail "refused changes left type '$t' (was '$t0')"
must_xget f "$obj" flags
[ "$f" = "$f0" ] || fail "refused changes left flags '$f' (was '$f0')"
# A backing file that does not exist cannot be opened: refused (which errno
# is not spelled out: ENOENT or EINVAL), nothing changes.
if xset "$obj" backing "$PFS_T/no-such-file" 2>/dev/null; then
	fail "backing set to a file that does not exist"
fi
if b=$(xget "$obj" backing 2>/dev/null) && [ -n "$b" ]; then
	fail "a refused backing left backing '$b'"
fi

# Once the object has paged-out data, type and backing may not change.
must "write and msync" pfs_client write "$obj" 0 16K 101 --msync
B=$PFS_T/b.bin
gen_file "$B" 16K 102
must_err "type change with paged-out data" 'Operation not permitted|Device or resource busy' xset "$obj" type code
must_err "backing change with paged-out data" 'Operation not permitted|Device or resource busy' xset "$obj" backing "$B"
must_xget t "$obj" type
[ "$t" = "$t0" ] || fail "a refused type change left type '$t'"
must "contents after refused changes" pfs_client verify "$obj" 0 16K 101
must "zeros after refused changes" pfs_client verify "$obj" 16K 48K 0
# flags stay writable.
must "flags persist (rw)" xset "$obj" flags persist

# pages and id are read-only.
must_xget p0 "$obj" pages
if xset "$obj" pages "zero=1 file=0 swap=0" 2>/dev/null; then
	fail "setting user.pagerfs.pages succeeded (read-only)"
fi
if xset "$obj" id 12345 2>/dev/null; then
	fail "setting user.pagerfs.id succeeded (read-only)"
fi
must_xget p "$obj" pages
[ "$p" = "$p0" ] || fail "pages changed from '$p0' to '$p' after a refused set"
must_xget id "$obj" id
[ "$id" = "$id0" ] || fail "id changed from '$id0' to '$id' after a refused set"
pfs_stop "$MNT"
