#!/usr/bin/env bash
# Description: .pagerfs/status, swap and stats are readable text with the fields INTERFACE lists, they move with commits and page-outs, and nothing under .pagerfs/ can be written
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_setup
pfs_start "$STORE" "$MNT"
C=$MNT/.pagerfs

[ -d "$C" ] || fail "$C is not a directory"
for f in status swap stats; do
	[ -f "$C/$f" ] || fail "$C/$f is missing"
	out=$(cat "$C/$f") || fail "cannot read $C/$f"
	[ -n "$out" ] || fail "$C/$f is empty"
	printf -- '--- %s ---\n%s\n' "$f" "$out"
done

# has FILE REGEX...: each (case-insensitive, extended) regex matches the file.
has() {
	local f=$1 re
	shift
	for re in "$@"; do
		grep -Eiq "$re" "$C/$f" || fail ".pagerfs/$f has no '$re' (INTERFACE lists it)"
	done
}
has status version store uptime objects commits 'last commit'
has swap files capacity used free reserved
has stats 'page-?ins' 'page-?outs' bytes errors
grep -Fq "$STORE" "$C/status" || fail ".pagerfs/status does not name the store $STORE"

# num FILE REGEX: the first number on the first line matching REGEX.
num() {
	grep -Ei "$2" "$C/$1" | head -n 1 | grep -Eo '[0-9]+' | head -n 1
}
# (Which line carries the count is our reading of "commits" and "page-outs".)
c0=$(num status '^[^a-z]*commits')
o0=$(num stats 'page-?outs')
[ -n "$c0" ] || fail "no commit count in .pagerfs/status"
[ -n "$o0" ] || fail "no page-out count in .pagerfs/stats"
obj=$MNT/obj
: >"$obj" && truncate -s 256K "$obj" || fail "cannot create $obj"
must "write and msync" pfs_client write "$obj" 0 256K 131 --msync
c1=$(num status '^[^a-z]*commits')
o1=$(num stats 'page-?outs')
[ "$c1" -gt "$c0" ] || fail "msync acknowledged, but commits stayed at $c0 (now '$c1')"
[ "$o1" -gt "$o0" ] || fail "64 pages paged out, but page-outs stayed at $o0 (now '$o1')"
i0=$(num stats 'page-?ins')
drop_caches
must "read back" pfs_client verify "$obj" 0 256K 131
i1=$(num stats 'page-?ins')
[ "$i1" -gt "$i0" ] || fail "256K read after dropping caches, but page-ins stayed at $i0 (now '$i1')"

# Read-only, all of it.
for f in status swap stats; do
	must_err "write .pagerfs/$f" 'Permission denied|Read-only file system|Operation not permitted' \
		sh -c "echo x >'$C/$f'"
	must_err "truncate .pagerfs/$f" 'Permission denied|Read-only file system|Operation not permitted' \
		truncate -s 0 "$C/$f"
	must_err "remove .pagerfs/$f" 'Permission denied|Read-only file system|Operation not permitted' \
		rm -f "$C/$f"
	[ -s "$C/$f" ] || fail ".pagerfs/$f is gone or empty after the refused changes"
done
must_err "create in .pagerfs" 'Permission denied|Read-only file system|Operation not permitted' \
	sh -c ": >'$C/new'"
must_err "mkdir in .pagerfs" 'Permission denied|Read-only file system|Operation not permitted' \
	mkdir "$C/dir"
must_err "rmdir .pagerfs" 'Permission denied|Read-only file system|Operation not permitted|Directory not empty|Device or resource busy' \
	rmdir "$C"
[ -d "$C" ] || fail ".pagerfs was removed"
pfs_stop "$MNT"
