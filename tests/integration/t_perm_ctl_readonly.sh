#!/usr/bin/env bash
# Description: with allow_other, the .pagerfs/ control files are readable by every user and changeable by none, root included: no write, truncate, chmod, chown, touch, xattr, create, rename or removal, and they stay as they were
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd setpriv setfattr getfattr
# shellcheck disable=SC2016 # $1 is the inner shell's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd "$1"' sh "${PFS_TMPROOT:-/tmp}" 2>/dev/null; then
	export PFS_TMPROOT=/tmp # nobody must reach the mount
fi
pfs_setup
chmod 755 "$PFS_T" || fail "chmod $PFS_T"
nb() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
pfs_start "$STORE" "$MNT" -o allow_other
C=$MNT/.pagerfs
nb test -d "$C" || fail "nobody cannot reach $C"

REFUSED='Permission denied|Read-only file system|Operation not permitted|Operation not supported'
files=$(cd "$C" && ls) || fail "ls $C"
[ -n "$files" ] || fail "$C is empty"
before=$(cd "$C" && stat -c '%n %a %u %g' -- * .)
for f in $files; do
	must "nobody reads .pagerfs/$f" nb cat "$C/$f"
	for who in nb ""; do
		w=${who:-root}
		w=${w/nb/nobody}
		must_err "$w writes .pagerfs/$f" "$REFUSED" $who sh -c "echo x >'$C/$f'"
		must_err "$w appends to .pagerfs/$f" "$REFUSED" $who sh -c "echo x >>'$C/$f'"
		must_err "$w truncates .pagerfs/$f" "$REFUSED" $who truncate -s 0 "$C/$f"
		must_err "$w chmods .pagerfs/$f" "$REFUSED" $who chmod 666 "$C/$f"
		must_err "$w chowns .pagerfs/$f" "$REFUSED" $who chown 65534 "$C/$f"
		must_err "$w touches .pagerfs/$f" "$REFUSED" $who touch -d '2001-01-01' "$C/$f"
		must_err "$w sets an attribute on .pagerfs/$f" "$REFUSED" $who setfattr -n user.pagerfs.flags -v persist "$C/$f"
		must_err "$w renames .pagerfs/$f" "$REFUSED" $who mv "$C/$f" "$C/$f.x"
		must_err "$w removes .pagerfs/$f" "$REFUSED" $who rm -f "$C/$f"
	done
	[ -s "$C/$f" ] || fail ".pagerfs/$f is gone or empty after the refused changes"
done
must_err "nobody creates in .pagerfs" "$REFUSED" nb sh -c ": >'$C/new'"
must_err "root creates in .pagerfs" "$REFUSED" sh -c ": >'$C/new'"
must_err "root chmods .pagerfs" "$REFUSED" chmod 777 "$C"
must_err "root moves an object into .pagerfs" "$REFUSED" sh -c ": >'$MNT/o' && mv '$MNT/o' '$C/o'"
after=$(cd "$C" && stat -c '%n %a %u %g' -- * .)
[ "$after" = "$before" ] || fail "the control files changed: '$before' -> '$after'"
# shellcheck disable=SC2012 # the control files have plain names
[ "$(cd "$C" && ls)" = "$files" ] || fail ".pagerfs holds '$(cd "$C" && ls | tr '\n' ' ')' after the refused changes"
pfs_stop "$MNT"
