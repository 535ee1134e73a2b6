#!/usr/bin/env bash
# Description: a resize that cannot be done changes nothing: a size beyond the largest object gets EFBIG, a directory cannot be truncated, and the object keeps its size, pages and bytes
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

o=$MNT/obj
: >"$o" && truncate -s 256K "$o" || fail "cannot create $o"
must "write 128K and msync" pfs_client write "$o" 0 128K 101 --msync
must_xget u0 "$MNT" usage
unchanged() {
	local u
	[ "$(fsize "$o")" -eq 262144 ] || fail "$1: the object is $(fsize "$o") bytes, expected 262144"
	must_pages "$o" 'zero=32 file=0 swap=32' "$1"
	must "$1: written part" pfs_client verify "$o" 0 128K 101
	must "$1: zero part" pfs_client verify "$o" 128K 128K 0
	must_xget u "$MNT" usage
	[ "$u" = "$u0" ] || fail "$1: the root's usage is $u bytes, was $u0"
}

# pagerfs keeps objects up to 2^52 bytes; 8 PiB is beyond.
must_err "truncate -s 8192T" 'File too large' truncate -s 8192T "$o"
unchanged "after a refused grow"
must_err "truncate -s 4503599627370497 (2^52 + 1)" 'File too large' truncate -s 4503599627370497 "$o"
unchanged "after a refused grow just past the limit"
pfs_remount "$STORE" "$MNT"
unchanged "after remount"

mkdir "$MNT/dir" || fail "mkdir"
must_err "truncate a directory" 'Is a directory' truncate -s 0 "$MNT/dir"
[ -d "$MNT/dir" ] || fail "the directory is gone after a refused truncate"
pfs_stop "$MNT"
