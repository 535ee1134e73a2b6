#!/usr/bin/env bash
# Description: a code object shows its backing file range read-only (writes get EROFS), is cached at last close and reused by the next code object on the range, and a new code object on a changed file sees the change
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

# The backing file lives outside the mount: 64K of pattern 51.
B=$PFS_T/text.bin
gen_file "$B" 64K 51
cp "$B" "$PFS_T/text.orig"
OFF=8192 LEN=20480

# make_code NAME: an object whose backing is B's range [OFF, OFF+LEN), then type code.
# (Backing is set first: a heap with backing is a valid object on its own; a
# code object without backing would be an odd intermediate state.)
make_code() {
	: >"$1" || fail "cannot create $1"
	must "backing on $1" xset "$1" backing "$B:$OFF:$LEN"
	must "type code on $1" xset "$1" type code
}

text=$MNT/text
make_code "$text"
must_xget t "$text" type
[ "$t" = code ] || fail "type reads '$t' after setting code"
must_xget b "$text" backing
case $b in "$B"*) ;; *) fail "backing reads '$b', expected $B:$OFF:$LEN" ;; esac
# INTERFACE: contents = the backing range. A code object cannot be resized
# (write: EROFS), so its size must be the range's length. (Our reading: the
# table does not say "size" in so many words.)
[ "$(fsize "$text")" -eq "$LEN" ] || fail "code object is $(fsize "$text") bytes, expected the range's $LEN"
must "contents = backing range (mmap)" pfs_client mapcmp "$text" 0 "$LEN" "$B" "$OFF"
cmp -s "$text" <(dd if="$B" bs=4096 skip=2 count=5 status=none) || fail "contents (read) differ from the backing range"
must_pages "$text" "zero=0 file=5 swap=0" "fresh code object"

# Read-only: open for writing, write(), truncate all get EROFS.
must_err "open O_RDWR + mmap write" 'EROFS' pfs_client write "$text" 0 4096 52
must_err "shell append" 'Read-only file system' sh -c "echo x >>'$text'"
must_err "truncate" 'Read-only file system' truncate -s 0 "$text"
# A read-only shared mapping works.
pfs_hold H "$text" --ro
pfs_release "$H"
cmp -s "$B" "$PFS_T/text.orig" || fail "the backing file changed"
must "contents after the refused writes" pfs_client mapcmp "$text" 0 "$LEN" "$B" "$OFF"

# At last close the object is cached (flags shows 'cached').
cached() { f=$(xget "$text" flags) && has_flag "$f" cached; }
wait_until 10 cached || fail "after its last close the code object's flags are '$(xget "$text" flags 2>&1)', expected 'cached' among them"
must "contents once cached" pfs_client mapcmp "$text" 0 "$LEN" "$B" "$OFF"

# The next code object on the same file range reuses it: same contents.
text2=$MNT/text2
make_code "$text2"
must "second code object on the same range" pfs_client mapcmp "$text2" 0 "$LEN" "$B" "$OFF"
# Reuse: text2 is a name of the cached object (t_code_text_shared.sh has the rest).
[ "$(xget "$text2" id)" = "$(xget "$text" id)" ] ||
	fail "text2 is object $(xget "$text2" id 2>&1), not the cached text $(xget "$text" id 2>&1)"

# Change the file: the cache is keyed by (device, inode, mtime, offset,
# length), so a new code object on the range must see the new bytes.
sleep 0.1
"$MMAP_CLIENT" gen 0 64K 53 | dd of="$B" conv=notrunc status=none || fail "rewrite $B"
text3=$MNT/text3
make_code "$text3"
must "a code object made after the file changed shows the new contents" \
	pfs_client mapcmp "$text3" 0 "$LEN" "$B" "$OFF"

# An invalid type is refused with EINVAL and changes nothing.
bad=$MNT/bad
: >"$bad" || fail "cannot create $bad"
must_err "type bogus" 'Invalid argument' xset "$bad" type bogus
must_xget t "$bad" type
[ "$t" = heap ] || fail "a refused type change left type '$t' (expected heap)"
pfs_stop "$MNT"
