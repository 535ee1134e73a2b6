# shellcheck shell=bash
# lib.sh: what every pagerfs integration test sources.
#
# A test mounts pagerfsd on a fresh store in its own temp dir and drives it
# with real client processes (mmap_client, coreutils, setfattr). This file
# starts and stops daemons, runs clients under timeouts, and makes sure that
# whatever happens (failure, timeout, Ctrl-C) no mount, daemon or client is
# left behind. It never touches a mount it did not make.
#
#   t_foo.sh [BUILDDIR]      or   BUILDDIR=... t_foo.sh
#
# Environment: BUILDDIR (default: build/ beside the source), PAGERFSD
# (default $BUILDDIR/pagerfsd), MMAP_CLIENT (default: built from
# mmap_client.c if $BUILDDIR/tests/integration/mmap_client is missing),
# PFS_TMPROOT (where temp dirs go; default /tmp), PFS_KEEP_TMP=1 (keep the
# temp dir), PFS_DAEMON_ARGS (extra pagerfsd arguments, e.g. -d).
# Exit status: 0 pass, 1 fail, 77 skip.

set -u
set -o pipefail
export LC_ALL=C

PFS_TEST=$(basename "$0" .sh)
PFS_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PFS_TOP=$(cd "$PFS_SRCDIR/../.." && pwd)
BUILDDIR=${1:-${BUILDDIR:-$PFS_TOP/build}}
BUILDDIR=$(cd "$BUILDDIR" 2>/dev/null && pwd || echo "$BUILDDIR")
export BUILDDIR
PAGERFSD=${PAGERFSD:-$BUILDDIR/pagerfsd}
PFS_PAGE=4096

# Every test runs under a timeout, also when started by hand: the test's
# "# Timeout: N" line (default 120 s), enforced by re-executing under
# timeout(1), which signals the whole process group (daemons included).
if [ -z "${PFS_UNDER_TIMEOUT:-}" ]; then
	export PFS_UNDER_TIMEOUT=1
	pfs_to=$(sed -n 's/^# Timeout: *\([0-9][0-9]*\).*/\1/p' "$0" | head -n 1)
	exec timeout -k 10 "${pfs_to:-120}" "$0" "$@"
fi

# ---- reporting ----

pfs_log() { printf '# %s\n' "$*"; }

# Daemon logs, for the reader of a failure.
pfs_show_logs() {
	local f
	for f in "${PFS_T:-/nonexistent}"/pagerfsd.*.log; do
		[ -s "$f" ] || continue
		printf -- '--- %s (last 25 lines) ---\n' "$(basename "$f")" >&2
		tail -n 25 "$f" | sed 's/^/  | /' >&2
	done
}

# fail MESSAGE: the test failed; MESSAGE is the one line run.sh shows.
fail() {
	local msg=$*
	pfs_show_logs
	# Paths relative to the test dir keep the one-line reason readable.
	[ -n "${PFS_T:-}" ] && msg=${msg//$PFS_T\//}
	printf 'FAIL: %s\n' "$msg" >&2
	exit 1
}

# skip REASON: the test cannot run here (exit 77).
skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

# ---- prerequisites ----

pfs_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

pfs_require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

pfs_require_fuse() {
	[ -c /dev/fuse ] || skip "/dev/fuse is missing"
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable by $(id -un)"
	pfs_require_cmd fusermount3 timeout
	[ -x "$PAGERFSD" ] || skip "no daemon at $PAGERFSD (build pagerfsd first)"
}

# The client: a built one, or compiled here from mmap_client.c.
pfs_find_client() {
	if [ -n "${MMAP_CLIENT:-}" ] && [ -x "$MMAP_CLIENT" ]; then
		return 0
	fi
	if [ -x "$BUILDDIR/tests/integration/mmap_client" ] &&
		[ "$BUILDDIR/tests/integration/mmap_client" -nt "$PFS_SRCDIR/mmap_client.c" ]; then
		MMAP_CLIENT=$BUILDDIR/tests/integration/mmap_client
		return 0
	fi
	pfs_require_cmd "${CC:-cc}"
	MMAP_CLIENT=$PFS_T/mmap_client
	"${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -o "$MMAP_CLIENT" "$PFS_SRCDIR/mmap_client.c" ||
		fail "cannot compile $PFS_SRCDIR/mmap_client.c"
}

# ---- setup and cleanup ----

declare -A PFS_PID=()   # mountpoint -> daemon pid
declare -A PFS_DLOG=()  # mountpoint -> daemon log
PFS_BG=()               # background clients
PFS_NDAEMON=0
PFS_T=

# pfs_setup: check what the test needs, make the temp dir ($PFS_T) and
# install the cleanup trap. Sets STORE and MNT for the common case.
pfs_setup() {
	pfs_require_fuse
	PFS_T=$(mktemp -d "${PFS_TMPROOT:-/tmp}/pagerfs-$PFS_TEST.XXXXXX") || fail "mktemp"
	PFS_T=$(realpath "$PFS_T")
	trap pfs_cleanup EXIT
	trap 'exit 130' INT
	trap 'printf "FAIL: %s\n" "terminated (timed out?)" >&2; exit 143' TERM
	pfs_find_client
	STORE=$PFS_T/store
	MNT=$PFS_T/mnt
	mkdir -p "$MNT"
	pfs_log "test dir $PFS_T, daemon $PAGERFSD"
}

pfs_is_mounted() {
	awk -v m="$1" '$2 == m && $3 ~ /^fuse/ { found = 1 } END { exit !found }' /proc/mounts
}

pfs_lazy_unmount() {
	fusermount3 -u "$1" 2>/dev/null || fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
}

pfs_cleanup() {
	local rc=$? p m
	trap - EXIT INT TERM
	for p in "${PFS_BG[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for m in "${!PFS_PID[@]}"; do
		if pfs_is_mounted "$m"; then
			pfs_lazy_unmount "$m"
		fi
		p=${PFS_PID[$m]}
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	# Anything else mounted under our dir (a second daemon that should have been refused).
	if [ -n "$PFS_T" ]; then
		awk -v t="$PFS_T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | while read -r m; do
			pfs_lazy_unmount "$m"
		done
		if [ "${PFS_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept $PFS_T" >&2
		elif awk -v t="$PFS_T/" 'index($2, t) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
			echo "# $PFS_T still has mounts under it; left in place" >&2
		else
			rm -rf --one-file-system "$PFS_T"
		fi
	fi
	exit "$rc"
}

# ---- the daemon ----

# pfs_start STORE MNT [PAGERFSD-ARGS...]: run `pagerfsd -f ARGS STORE MNT` in
# the background, logging to $PFS_T/pagerfsd.N.log, and wait for the mount.
pfs_start() {
	local store=$1 mnt=$2 log pid i
	shift 2
	mkdir -p "$mnt"
	PFS_NDAEMON=$((PFS_NDAEMON + 1))
	log=$PFS_T/pagerfsd.$PFS_NDAEMON.log
	# shellcheck disable=SC2086 # PFS_DAEMON_ARGS is a list of words
	"$PAGERFSD" -f ${PFS_DAEMON_ARGS:-} "$@" "$store" "$mnt" >"$log" 2>&1 &
	pid=$!
	PFS_PID[$mnt]=$pid
	PFS_DLOG[$mnt]=$log
	for i in $(seq 150); do
		pfs_is_mounted "$mnt" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			fail "pagerfsd $* $store $mnt exited with status $? before mounting"
		fi
		sleep 0.1
	done
	pfs_is_mounted "$mnt" || fail "pagerfsd $* $store $mnt: no mount after 15 s"
	pfs_log "pagerfsd pid $pid mounted $mnt (store $store${*:+, args $*})"
}

# pfs_stop MNT: unmount with fusermount3 -u; the daemon must exit 0.
pfs_stop() {
	local mnt=$1 how=${2:-fusermount3} pid=${PFS_PID[$1]:-} i out rc
	[ -n "$pid" ] || fail "pfs_stop: no daemon on $mnt"
	for i in $(seq 20); do
		if [ "$how" = umount ]; then
			out=$(umount "$mnt" 2>&1) && break
		else
			out=$(fusermount3 -u "$mnt" 2>&1) && break
		fi
		# A client's last release can still be in flight: retry a busy mount.
		case $out in *busy*) sleep 0.5 ;; *) fail "$how -u $mnt: $out" ;; esac
	done
	pfs_is_mounted "$mnt" && fail "$mnt still mounted after $how: $out"
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "pagerfsd (pid $pid) still running 60 s after $mnt was unmounted"
	fi
	wait "$pid"
	rc=$?
	unset "PFS_PID[$mnt]"
	[ "$rc" -eq 0 ] || fail "pagerfsd exited with status $rc after unmounting $mnt (INTERFACE: commits and exits 0)"
	pfs_log "unmounted $mnt ($how), pagerfsd exited 0"
}

# pfs_kill9 MNT: kill -9 the daemon and clear the dead mount.
pfs_kill9() {
	local mnt=$1 pid=${PFS_PID[$1]:-}
	[ -n "$pid" ] || fail "pfs_kill9: no daemon on $mnt"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PFS_PID[$mnt]"
	pfs_lazy_unmount "$mnt"
	pfs_is_mounted "$mnt" && fail "cannot clear the stale mount $mnt after kill -9"
	pfs_log "killed pagerfsd $pid with SIGKILL, cleared $mnt"
}

# pfs_remount STORE MNT [ARGS...]: clean unmount (exit 0), then mount again.
pfs_remount() {
	pfs_stop "$2"
	pfs_start "$@"
}

pfs_daemon_alive() {
	local pid=${PFS_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# ---- clients ----

# pfs_client ARGS...: mmap_client under a timeout (its own output shown).
pfs_client() {
	timeout --foreground -k 5 "${PFS_CLIENT_TIMEOUT:-60}" "$MMAP_CLIENT" "$@"
}

# must DESCRIPTION CMD...: run CMD; fail the test with its output if it fails.
must() {
	local what=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && out="timed out; $out"
		fail "$what: '$*' exited $rc: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
	return 0
}

# must_err DESCRIPTION 'ERRNO TEXT|OTHER TEXT' CMD...: CMD must fail with
# output matching the extended regex (e.g. 'Read-only file system|EROFS').
must_err() {
	local what=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	[ "$rc" -ne 0 ] || fail "$what: '$*' succeeded; expected it to fail with $want"
	[ "$rc" -ne 124 ] || fail "$what: '$*' timed out; expected it to fail with $want"
	printf '%s' "$out" | grep -Eq "$want" ||
		fail "$what: '$*' failed, but not with $want: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
	return 0
}

# pfs_bg VAR CMD...: start a background client; its pid goes into VAR.
pfs_bg() {
	local var=$1
	shift
	"$@" &
	PFS_BG+=("$!")
	printf -v "$var" '%s' "$!"
}

# pfs_hold VAR FILE [--ro] [OFF LEN SEED]: a process mapping FILE and
# holding it open; returns once it has mapped. Stop it with pfs_release.
pfs_hold() {
	local var=$1 file=$2 out ro=()
	shift 2
	if [ "${1:-}" = --ro ]; then ro=(--ro); shift; fi
	out=$PFS_T/hold.$RANDOM.out
	"$MMAP_CLIENT" hold "${ro[@]}" "$file" "$@" >"$out" 2>&1 &
	PFS_BG+=("$!")
	printf -v "$var" '%s' "$!"
	pfs_wait_holding "$!" "$out" "hold $file did not map it"
}

# pfs_wait_holding PID OUT WHAT: wait until the holder PID, whose output goes
# to OUT, says it holds its mapping; fail with WHAT and its last words if it
# dies or takes more than 10 s.
pfs_wait_holding() {
	local pid=$1 out=$2
	for _ in $(seq 100); do
		grep -q '^holding' "$out" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "$3: $(tail -n 2 "$out" | tr '\n' ' ')"
}

# pfs_hold_expect VAR [--ro] FILE OFF LEN BEFORE AFTER: a process that maps
# FILE, reads the range (checking BEFORE) and holds it mapped; pfs_release
# VAR verify then requires the same mapping to show AFTER (what a process
# that already has an object mapped sees after another changes it).
pfs_hold_expect() {
	local var=$1 out
	shift
	out=$PFS_T/hold-expect.$RANDOM.out
	"$MMAP_CLIENT" hold-expect "$@" >"$out" 2>&1 &
	PFS_BG+=("$!")
	printf -v "$var" '%s' "$!"
	pfs_wait_holding "$!" "$out" "hold-expect $*"
}

# pfs_release PID [verify]: stop a holder (SIGUSR1: check its range first,
# else SIGTERM); it must exit 0.
pfs_release() {
	local pid=$1 sig=TERM rc
	[ "${2:-}" = verify ] && sig=USR1
	kill -"$sig" "$pid" 2>/dev/null || fail "holder $pid is gone"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "holder $pid exited $rc (see its message above)"
}

# ---- attributes and files ----

# xget FILE NAME: the value of user.pagerfs.NAME (no trailing newline).
xget() {
	getfattr --absolute-names --only-values -n "user.pagerfs.$2" "$1"
}

# xset FILE NAME VALUE
xset() {
	setfattr -n "user.pagerfs.$2" -v "$3" "$1"
}

# must_xget VAR FILE NAME: read an attribute or fail.
must_xget() {
	local out
	out=$(xget "$2" "$3" 2>&1) || fail "getfattr user.pagerfs.$3 on $2: $out"
	printf -v "$1" '%s' "$out"
}

# has_flag FLAGS FLAG: is FLAG in the comma list FLAGS?
has_flag() {
	case ",$1," in *",$2,"*) return 0 ;; esac
	return 1
}

fsize() { stat -c %s "$1"; }

# wait_until SECONDS CMD...: poll CMD every 0.2 s; status 1 on timeout.
wait_until() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# Drop clean page cache so the next access is a page-in from the daemon
# (best effort: needs root).
drop_caches() {
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

# gen_file PATH LEN SEED: a plain file (outside the mount) holding a pattern.
gen_file() {
	"$MMAP_CLIENT" gen 0 "$2" "$3" >"$1" || fail "cannot write $1"
}

# eventually SECONDS DESCRIPTION CMD...: CMD must come to succeed within
# SECONDS. For what happens "at last close": the kernel sends FUSE RELEASE
# asynchronously after the last close or munmap, so there is no one moment
# at which to look. (Each poll opens and closes the object again, which is
# itself a last close.) On timeout, one more try after dropping the page
# cache tells a daemon that changed the object but left stale pages in the
# kernel's cache from one that did not change it.
eventually() {
	local secs=$1 what=$2 out
	shift 2
	wait_until "$secs" "$@" && return 0
	out=$("$@" 2>&1)
	drop_caches
	if "$@" >/dev/null 2>&1; then
		fail "$what: true only after dropping the page cache: the daemon did not invalidate the kernel's cached pages ($(printf '%s' "$out" | tail -n 1))"
	fi
	fail "$what: still not so after $secs s: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
}

# to_bytes SIZE: plain bytes from a size with an optional K/M/G/T suffix.
to_bytes() {
	local v=$1 m=1
	case $v in
	*[kK]) m=1024; v=${v%?} ;;
	*[mM]) m=$((1024 ** 2)); v=${v%?} ;;
	*[gG]) m=$((1024 ** 3)); v=${v%?} ;;
	*[tT]) m=$((1024 ** 4)); v=${v%?} ;;
	esac
	case $v in '' | *[!0-9]*) echo "not-a-size:$1"; return 1 ;; esac
	echo $((v * m))
}

# pages_field VALUE NAME: N from a "zero=N file=N swap=N" value.
pages_field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=\([0-9][0-9]*\)\$/\1/p"
}

# must_pages FILE 'zero=N file=N swap=N' DESCRIPTION: the page counts, exactly
# (a field given as '*' is not checked).
must_pages() {
	local got want=$2 f w g
	must_xget got "$1" pages
	printf '%s' "$got" | grep -Eq '^zero=[0-9]+ file=[0-9]+ swap=[0-9]+$' ||
		fail "$3: user.pagerfs.pages of $1 is '$got', not 'zero=N file=N swap=N'"
	for f in zero file swap; do
		w=$(pages_field "$want" "$f")
		[ -n "$w" ] || continue
		g=$(pages_field "$got" "$f")
		[ "$g" = "$w" ] || fail "$3: user.pagerfs.pages of $1 is '$got', expected $f=$w"
	done
}
