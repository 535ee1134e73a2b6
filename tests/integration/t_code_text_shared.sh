#!/usr/bin/env bash
# Description: a second code object on a cached one's file range becomes a name of it (same inode, nlink 2) and is served from the pages already in the kernel's cache; names come and go like hard links, survive a remount, and a changed file is not served from the old text
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
PAGERCTL=${PAGERCTL:-$BUILDDIR/pagerctl}
pfs_start "$STORE" "$MNT"

B=$PFS_T/prog.bin
gen_file "$B" 256K 61
OFF=16384 LEN=131072

page_ins() { sed -n 's/^page-ins: //p' "$MNT/.pagerfs/stats"; }
ino() { stat -c %i "$1"; }
links() { stat -c %h "$1"; }

# The first one through pagerctl create, read once by a client, then cached.
must "pagerctl create a code object" "$PAGERCTL" create --type code --backing "$B:$OFF:$LEN" "$MNT/a"
must "a's contents" pfs_client mapcmp "$MNT/a" 0 "$LEN" "$B" "$OFF"
cached() { f=$(xget "$MNT/a" flags) && has_flag "$f" cached; }
wait_until 10 cached || fail "a is not cached after its last close: flags '$(xget "$MNT/a" flags 2>&1)'"
[ "$(links "$MNT/a")" -eq 1 ] || fail "a has $(links "$MNT/a") links before any sharing"

# The second, made with setfattr: the same text, so the same object.
before=$(page_ins)
: >"$MNT/b" || fail "cannot create b"
must "backing on b" xset "$MNT/b" backing "$B:$OFF:$LEN"
must "type code on b" xset "$MNT/b" type code
[ "$(ino "$MNT/b")" = "$(ino "$MNT/a")" ] || fail "b is inode $(ino "$MNT/b"), a is $(ino "$MNT/a"): the text is not shared"
[ "$(xget "$MNT/b" id)" = "$(xget "$MNT/a" id)" ] || fail "b and a have different ids"
[ "$(links "$MNT/a")" -eq 2 ] || fail "a shows $(links "$MNT/a") links, expected 2"
[ "$(links "$MNT/b")" -eq 2 ] || fail "b shows $(links "$MNT/b") links, expected 2"
must "b's contents" pfs_client mapcmp "$MNT/b" 0 "$LEN" "$B" "$OFF"
after=$(page_ins)
[ "$after" = "$before" ] || fail "reading b paged in again ($before -> $after page-ins): its text was not reused"

# Both names mapped at once by two processes: one text, both read it.
pfs_hold H1 "$MNT/a" --ro
pfs_hold H2 "$MNT/b" --ro
must "a while both are mapped" pfs_client mapcmp "$MNT/a" 0 "$LEN" "$B" "$OFF"
pfs_release "$H1"
pfs_release "$H2"

# A shared text's type, backing and flags cannot change under its other names.
must_err "debug on a shared text" 'busy' xset "$MNT/b" flags debug
must_xget t "$MNT/a" type
[ "$t" = code ] || fail "a refused change left a's type '$t'"
# A private writable copy of the same range is not shared.
must "pagerctl create --debug" "$PAGERCTL" create --type code --debug --backing "$B:$OFF:$LEN" "$MNT/dbg"
[ "$(ino "$MNT/dbg")" != "$(ino "$MNT/a")" ] || fail "a debug code object took the shared text"

# Names go like hard links: a's goes, the text stays under b.
rm "$MNT/a" || fail "rm a"
[ "$(links "$MNT/b")" -eq 1 ] || fail "b shows $(links "$MNT/b") links after a went"
must "b after a went" pfs_client mapcmp "$MNT/b" 0 "$LEN" "$B" "$OFF"
# A third name, then a remount: both names lead to the same object still.
must "pagerctl create c" "$PAGERCTL" create --type code --backing "$B:$OFF:$LEN" "$MNT/c"
[ "$(ino "$MNT/c")" = "$(ino "$MNT/b")" ] || fail "c did not share b's text"
id=$(xget "$MNT/b" id)
pfs_remount "$STORE" "$MNT"
[ "$(xget "$MNT/b" id)" = "$id" ] && [ "$(xget "$MNT/c" id)" = "$id" ] ||
	fail "after a remount b is $(xget "$MNT/b" id 2>&1), c is $(xget "$MNT/c" id 2>&1), expected both $id"
[ "$(links "$MNT/c")" -eq 2 ] || fail "c shows $(links "$MNT/c") links after a remount"
must "c after a remount" pfs_client mapcmp "$MNT/c" 0 "$LEN" "$B" "$OFF"

# The file changes: a new code object on the range is a new text with the new bytes.
sleep 0.1
"$MMAP_CLIENT" gen 0 256K 62 | dd of="$B" conv=notrunc status=none || fail "rewrite $B"
must "pagerctl create after the change" "$PAGERCTL" create --type code --backing "$B:$OFF:$LEN" "$MNT/d"
[ "$(ino "$MNT/d")" != "$(ino "$MNT/b")" ] || fail "d took the text of the file before it changed"
must "d shows the new bytes" pfs_client mapcmp "$MNT/d" 0 "$LEN" "$B" "$OFF"
# ...and the old text rereads the file when next opened.
must "b shows the new bytes too" pfs_client mapcmp "$MNT/b" 0 "$LEN" "$B" "$OFF"
# Sharing while the same names are being removed: an unlink holds the
# directory and waits for the object the setxattr holds, so nothing the
# setxattr waits for may need the directory. Must finish, not hang.
race() {
	local i
	for i in $(seq 1 40); do
		: >"$MNT/r$i" || return 1
		setfattr -n user.pagerfs.backing -v "$B:$OFF:$LEN" "$MNT/r$i" 2>/dev/null &
		rm -f "$MNT/r$i" &
		setfattr -n user.pagerfs.type -v code "$MNT/r$i" 2>/dev/null
		wait
		rm -f "$MNT/r$i"
	done
}
must "sharing raced with unlinks completes" timeout 60 bash -c "$(declare -f race); B='$B' OFF=$OFF LEN=$LEN MNT='$MNT' race"
rm "$MNT/b" "$MNT/c" "$MNT/d" "$MNT/dbg" || fail "rm"
[ -z "$(ls "$MNT")" ] || fail "objects left: $(ls "$MNT")"
pfs_stop "$MNT"
must "the store is clean" "$PAGERCTL" fsck "$STORE"
