#!/usr/bin/env bash
# Description: with allow_other, an ordinary user can neither read a file through a backing it could not read directly nor touch another user's objects; root's own objects keep ordinary permission checks
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd runuser setfattr getfattr
pfs_setup
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
# The user must be able to reach the mount and the public backing file.
chmod 755 "$PFS_T"
pfs_start "$STORE" "$MNT" -o allow_other
chmod 1777 "$MNT" || fail "chmod 1777 on the mount's root directory"

as_nobody() { runuser -u nobody -- "$@"; }

secret=$PFS_T/secret.bin
public=$PFS_T/public.bin
gen_file "$secret" 16K 221
gen_file "$public" 16K 222
chmod 600 "$secret"
chmod 644 "$public"
as_nobody cat "$secret" >/dev/null 2>&1 && skip "nobody can read a 0600 root file here"
as_nobody test -r "$public" || skip "nobody cannot reach $PFS_T (a parent directory is private)"

# The user's own object, backed by a file the user cannot read: refused.
obj=$MNT/mine
must "nobody creates an object" as_nobody sh -c ": >'$obj'"
must_err "backing on a file the caller cannot read" 'Permission denied|Operation not permitted' \
	as_nobody setfattr -n user.pagerfs.backing -v "$secret" "$obj"
if b=$(xget "$obj" backing 2>/dev/null) && [ -n "$b" ]; then
	fail "a refused backing left backing '$b'"
fi
[ "$(fsize "$obj")" -eq 0 ] || fail "a refused backing left the object $(fsize "$obj") bytes"
# Nor through a code object's range, nor a shared object.
code=$MNT/code
must "nobody creates a second object" as_nobody sh -c ": >'$code'"
must_err "code object on an unreadable range" 'Permission denied|Operation not permitted' \
	as_nobody setfattr -n user.pagerfs.backing -v "$secret:0:8192" "$code"
# A file the user can read works.
must "backing on a readable file" as_nobody setfattr -n user.pagerfs.backing -v "$public" "$obj"
must "type code" as_nobody setfattr -n user.pagerfs.type -v code "$obj"
must "the user reads the public bytes" as_nobody "$MMAP_CLIENT" mapcmp "$obj" 0 16K "$public" 0

# Root's private object: ordinary permission checks apply.
priv=$MNT/root-only
: >"$priv" && truncate -s 16K "$priv" || fail "cannot create $priv"
must "root writes its object" pfs_client write "$priv" 0 16K 223 --msync
chmod 600 "$priv" || fail "chmod 600 $priv"
must_err "nobody reads root's 0600 object" 'Permission denied' as_nobody cat "$priv"
must_err "nobody maps root's 0600 object" 'EACCES' as_nobody "$MMAP_CLIENT" verify "$priv" 0 16K 223
must_err "nobody changes the type of root's object" 'Permission denied|Operation not permitted' \
	as_nobody setfattr -n user.pagerfs.type -v stack "$priv"
must_err "nobody removes root's object from a sticky directory" 'Permission denied|Operation not permitted' \
	as_nobody rm -f "$priv"
must "root's object is unchanged" pfs_client verify "$priv" 0 16K 223
must_xget t "$priv" type
[ "$t" = heap ] || fail "root's object has type '$t' after nobody's refused change"
pfs_stop "$MNT"
