#!/usr/bin/env bash
# Description: with allow_other, ordinary permission checks apply to objects: an unprivileged uid is refused another user's 0600 object (open, map, read, write, truncate, punch, xattrs, chmod, chown) and may only read a 0644 one; its own objects are its own; nothing it was refused changed anything, also after a remount
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_root
pfs_require_cmd setpriv setfattr getfattr
# The clients run as nobody, who must be able to reach the mount: use /tmp
# when the temp root is not searchable by others.
# shellcheck disable=SC2016 # $1 is the inner shell's
if ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cd "$1"' sh "${PFS_TMPROOT:-/tmp}" 2>/dev/null; then
	export PFS_TMPROOT=/tmp
fi
pfs_setup
chmod 755 "$PFS_T" || fail "chmod $PFS_T"
mkdir -m 755 "$PFS_T/bin" && install -m 755 "$MMAP_CLIENT" "$PFS_T/bin/mmap_client" || fail "cannot install the client for nobody"
NC=$PFS_T/bin/mmap_client
# run_as UID CMD...: CMD as that user and group, with no supplementary groups.
run_as() {
	local u=$1
	shift
	timeout -k 5 60 setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
NOBODY=65534 OTHER=12345
pfs_start "$STORE" "$MNT" -o allow_other
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups test -r "$MNT/.pagerfs/status" ||
	fail "nobody cannot reach $MNT"

priv=$MNT/priv pub=$MNT/pub
: >"$priv" && truncate -s 64K "$priv" && chmod 600 "$priv" || fail "cannot create $priv"
: >"$pub" && truncate -s 64K "$pub" && chmod 644 "$pub" || fail "cannot create $pub"
must "write priv" pfs_client write "$priv" 0 64K 151 --msync
must "write pub" pfs_client write "$pub" 0 64K 152 --msync
unchanged() { # FILE MODE SEED WHAT
	local st
	st=$(stat -c '%a %u %g %s' "$1") || fail "$4: stat $1"
	[ "$st" = "$2 0 0 65536" ] || fail "$4: $1 is '$st' (mode uid gid size), expected '$2 0 0 65536'"
	must_pages "$1" 'zero=0 file=0 swap=16' "$4"
	must "$4: contents of $1" pfs_client verify "$1" 0 64K "$3"
}

# Another user's 0600 object: nothing at all.
must_err "nobody maps priv to read" 'EACCES' run_as $NOBODY "$NC" verify "$priv" 0 4K 151
must_err "nobody reads priv" 'Permission denied' run_as $NOBODY cat "$priv"
must_err "nobody maps priv to write" 'EACCES' run_as $NOBODY "$NC" write "$priv" 0 4K 153 --msync
must_err "nobody truncates priv" 'Permission denied' run_as $NOBODY truncate -s 0 "$priv"
must_err "nobody punches priv" 'EACCES' run_as $NOBODY "$NC" punch "$priv" 0 64K
must_err "nobody clones onto priv" 'EACCES' run_as $NOBODY "$NC" copy-range "$pub" 0 "$priv" 0 64K
must_err "nobody clones from priv" 'EACCES' run_as $NOBODY "$NC" copy-range "$priv" 0 "$pub" 0 64K
must_err "nobody reads priv's attributes" 'Permission denied' run_as $NOBODY getfattr -n user.pagerfs.pages "$priv"
must_err "nobody sets priv's flags" 'Permission denied|Operation not permitted' \
	run_as $NOBODY setfattr -n user.pagerfs.flags -v debug "$priv"
must_err "nobody chmods priv" 'Operation not permitted' run_as $NOBODY chmod 666 "$priv"
must_err "nobody chowns priv" 'Operation not permitted' run_as $NOBODY chown $NOBODY "$priv"
must_err "nobody removes priv from root's 0755 directory" 'Permission denied' run_as $NOBODY rm -f "$priv"
unchanged "$priv" 600 151 "after nobody was refused"

# A 0644 object: read and map read-only, but no writing.
must "nobody maps pub to read" run_as $NOBODY "$NC" verify "$pub" 0 64K 152
must "nobody reads pub's attributes" run_as $NOBODY getfattr -n user.pagerfs.type "$pub"
must_err "nobody maps pub to write" 'EACCES' run_as $NOBODY "$NC" write "$pub" 0 4K 154 --msync
must_err "nobody writes pub" 'Permission denied' run_as $NOBODY sh -c "echo x >>'$pub'"
must_err "nobody truncates pub" 'Permission denied' run_as $NOBODY truncate -s 4K "$pub"
must_err "nobody punches pub" 'EACCES' run_as $NOBODY "$NC" punch "$pub" 0 64K
unchanged "$pub" 644 152 "after nobody was refused"

# nobody's own objects (in a world-writable directory) are nobody's.
mkdir -m 1777 "$MNT/tmp" || fail "mkdir tmp"
mine=$MNT/tmp/mine
must "nobody creates an object" run_as $NOBODY truncate -s 64K "$mine"
st=$(stat -c '%u %g' "$mine") || fail "stat $mine"
[ "$st" = "$NOBODY $NOBODY" ] || fail "nobody's new object is owned by '$st'"
must "nobody writes its object" run_as $NOBODY "$NC" write "$mine" 0 64K 155 --msync
must "nobody makes it private" run_as $NOBODY chmod 600 "$mine"
must_err "another uid maps nobody's 0600 object" 'EACCES' run_as $OTHER "$NC" verify "$mine" 0 4K 155
must "root still reads it" pfs_client verify "$mine" 0 64K 155

pfs_remount "$STORE" "$MNT" -o allow_other
unchanged "$priv" 600 151 "after remount"
unchanged "$pub" 644 152 "after remount"
st=$(stat -c '%a %u %g' "$mine") || fail "stat $mine"
[ "$st" = "600 $NOBODY $NOBODY" ] || fail "after remount nobody's object is '$st' (mode uid gid)"
must_err "after remount: nobody maps priv" 'EACCES' run_as $NOBODY "$NC" verify "$priv" 0 4K 151
must_err "after remount: another uid maps nobody's object" 'EACCES' run_as $OTHER "$NC" verify "$mine" 0 4K 155
must "after remount: nobody maps its own" run_as $NOBODY "$NC" verify "$mine" 0 64K 155
pfs_stop "$MNT"
