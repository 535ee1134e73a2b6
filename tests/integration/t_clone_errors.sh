#!/usr/bin/env bash
# Description: bad copy_file_range requests change nothing: onto itself or an overlapping range of one object gets EINVAL, a source offset at or past the end copies 0 bytes, a destination beyond the largest object gets EFBIG, a range running past the source's end is cut there
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

src=$MNT/src dst=$MNT/dst
: >"$src" && truncate -s 1M "$src" || fail "cannot create $src"
: >"$dst" && truncate -s 1M "$dst" || fail "cannot create $dst"
must "write src" pfs_client write "$src" 0 1M 91 --msync
must "write dst" pfs_client write "$dst" 0 1M 92 --msync
must_xget u0 "$MNT" usage
unchanged() {
	local u
	[ "$(fsize "$src")" -eq 1048576 ] || fail "$1: src is $(fsize "$src") bytes"
	[ "$(fsize "$dst")" -eq 1048576 ] || fail "$1: dst is $(fsize "$dst") bytes"
	must_pages "$src" 'zero=0 file=0 swap=256' "$1: src"
	must_pages "$dst" 'zero=0 file=0 swap=256' "$1: dst"
	must "$1: src contents" pfs_client verify "$src" 0 1M 91
	must "$1: dst contents" pfs_client verify "$dst" 0 1M 92
	must_xget u "$MNT" usage
	[ "$u" = "$u0" ] || fail "$1: the root's usage is $u bytes, was $u0"
}
copied() { # EXPECTED-BYTES ARGS...: copy-range must succeed and copy exactly that many
	local want=$1 out
	shift
	out=$(pfs_client copy-range "$@" 2>&1) || fail "copy-range $*: $out"
	[ "$out" = "copied $want" ] || fail "copy-range $*: '$out', expected 'copied $want'"
}

must_err "onto itself" 'Invalid argument' pfs_client copy-range "$src" 0 "$src" 0 64K
unchanged "after a clone onto itself"
must_err "overlapping ranges of one object" 'Invalid argument' pfs_client copy-range "$src" 0 "$src" 32K 64K
must_err "overlapping ranges of one object, backwards" 'Invalid argument' pfs_client copy-range "$src" 32K "$src" 0 64K
unchanged "after overlapping clones"

copied 0 "$src" 2M "$dst" 0 64K
copied 0 "$src" 1M "$dst" 0 64K
unchanged "after clones from past the source's end"

# A destination beyond the largest object pagerfs keeps (2^52 bytes).
must_err "destination offset too large" 'File too large' \
	pfs_client copy-range "$src" 0 "$dst" 8192T 64K
unchanged "after a clone to a destination too far out"

# Running past the source's end: only what the source has is copied.
copied 65536 "$src" 960K "$dst" 0 128K
[ "$(fsize "$dst")" -eq 1048576 ] || fail "dst is $(fsize "$dst") bytes after a clipped clone"
must "dst [0, 64K) is src's last 64K" pfs_client mapcmp "$dst" 0 64K "$src" 983040
must "dst beyond the clipped clone" pfs_client verify "$dst" 64K 960K 92
must "src after being cloned" pfs_client verify "$src" 0 1M 91
pfs_stop "$MNT"
