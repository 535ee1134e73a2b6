#!/usr/bin/env bash
# Description: a caller that could not read an object's backing file directly cannot read it through pagerfs either while someone else (root, or a member of the file's group) has the object open: each opener's own credentials decide, not the first opener's
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd setpriv setfattr getfattr
# shellcheck disable=SC2016 # $1 is the inner shell's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd "$1"' sh "${PFS_TMPROOT:-/tmp}" 2>/dev/null; then
	export PFS_TMPROOT=/tmp # nobody must reach the mount and the backing files
fi
pfs_setup
chmod 755 "$PFS_T" || fail "chmod $PFS_T"
mkdir -m 755 "$PFS_T/bin" && install -m 755 "$MMAP_CLIENT" "$PFS_T/bin/mmap_client" || fail "cannot install the client for nobody"
NC=$PFS_T/bin/mmap_client
GRP=4242
nb() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nbg() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --groups=$GRP "$@"; }
pfs_start "$STORE" "$MNT" -o allow_other
nb test -r "$MNT/.pagerfs/status" || fail "nobody cannot reach $MNT"

F=$PFS_T/files
mkdir -m 755 "$F" || fail "mkdir $F"
gen_file "$F/secret" 64K 201 && chmod 600 "$F/secret"
gen_file "$F/group" 64K 202 && chgrp $GRP "$F/group" && chmod 640 "$F/group"
nb cat "$F/secret" >/dev/null 2>&1 && fail "nobody can read a 0600 root file directly: the test means nothing"
nb cat "$F/group" >/dev/null 2>&1 && fail "nobody can read the group file without the group"
is_open() { grep -q "^$1 " "$MNT/.pagerfs/opens"; }

# 1. root's world-readable object on the root-only file, held open by root.
r=$MNT/rootobj
: >"$r" || fail "cannot create $r"
must "root backs its object with the secret" xset "$r" backing "$F/secret"
chmod 644 "$r" || fail "chmod 644 $r"
must_xget rid "$r" id
wait_until 10 bash -c "! grep -q '^$rid ' '$MNT/.pagerfs/opens'" || fail "object $rid stays open"
must_err "nobody opens it while nobody else has it open" 'EACCES' nb "$NC" verify "$r" 0 4K 201
pfs_hold H "$r" --ro
is_open "$rid" || fail "root's holder is not listed in .pagerfs/opens"
must_err "nobody maps it while root has it open" 'EACCES' nb "$NC" verify "$r" 0 4K 201
must_err "nobody reads it while root has it open" 'Permission denied' nb cat "$r"
pfs_release "$H"

# 2. nobody's own object on the group file, held open by a member of the group.
t=$MNT/tmp
mkdir -m 1777 "$t" || fail "mkdir $t"
o=$t/mine
must "nobody creates an object" nb truncate -s 0 "$o"
must "nobody with the group backs it with the group file" nbg setfattr -n user.pagerfs.backing -v "$F/group" "$o"
must_xget oid "$o" id
wait_until 10 bash -c "! grep -q '^$oid ' '$MNT/.pagerfs/opens'" || fail "object $oid stays open"
must_err "without the group, while nobody has it open" 'EACCES' nb "$NC" verify "$o" 0 4K 202
out=$PFS_T/group-holder.out
# Not through nbg: $! must be the holder itself (setpriv execs it), not a
# subshell running the function, or the TERM below would miss it.
setpriv --reuid=65534 --regid=65534 --groups="$GRP" "$NC" hold --ro "$o" >"$out" 2>&1 &
G=$!
PFS_BG+=("$G")
wait_until 10 grep -q '^holding' "$out" || fail "the group member could not map $o: $(tail -n 2 "$out" | tr '\n' ' ')"
is_open "$oid" || fail "the group member's holder is not listed in .pagerfs/opens"
must_err "without the group, while a group member has it open" 'EACCES' nb "$NC" verify "$o" 0 4K 202
kill -TERM "$G" 2>/dev/null
wait "$G" || fail "the group member's holder exited $?"
pfs_stop "$MNT"
