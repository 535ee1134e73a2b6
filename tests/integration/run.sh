#!/usr/bin/env bash
# run.sh BUILDDIR [TEST...]: run the pagerfs integration tests.
#
# Each tests/integration/t_*.sh (or just the TESTs named, e.g. t_fork_share)
# runs under timeout(1) with its own "# Timeout: N" (default 120 s), with
# its output in BUILDDIR/tests/integration/logs/NAME.log. One line per test:
# PASS, FAIL with the test's reason, or SKIP with why; then the closing line
#   integration: N passed, N failed, N skipped
# Exit status 1 if any test failed, else 0. PFS_VERBOSE=1 also prints the
# end of each failed test's log. Needs root for some checks (drop_caches,
# umount); tests skip themselves when /dev/fuse or pagerfsd is missing.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [TEST...]" >&2
	exit 2
fi
builddir=$(cd "$1" && pwd) || exit 2
shift
export BUILDDIR=$builddir
export PAGERFSD=${PAGERFSD:-$builddir/pagerfsd}
logdir=${PFS_LOGDIR:-$builddir/tests/integration/logs}
mkdir -p "$logdir" || exit 2
tmproot=$(mktemp -d "${TMPDIR:-/tmp}/pagerfs-it.XXXXXX") || exit 2
chmod 755 "$tmproot" # tests that run clients as another user must reach their mounts
export PFS_TMPROOT=$tmproot
export PFS_UNDER_TIMEOUT=1 # run.sh applies the timeouts

mounts_under() {
	awk -v t="$1/" 'index($2, t) == 1 { print $2 }' /proc/mounts
}
clear_mounts() {
	local m
	mounts_under "$1" | while read -r m; do
		fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
finish() {
	clear_mounts "$tmproot"
	[ -z "$(mounts_under "$tmproot")" ] && rm -rf --one-file-system "$tmproot"
}
trap finish EXIT
trap 'exit 130' INT TERM

# The client, built once: the build's if current, else compiled here.
if [ -z "${MMAP_CLIENT:-}" ]; then
	MMAP_CLIENT=$builddir/tests/integration/mmap_client
	if ! [ -x "$MMAP_CLIENT" ] || [ "$here/mmap_client.c" -nt "$MMAP_CLIENT" ]; then
		MMAP_CLIENT=$tmproot/mmap_client
		if ! "${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -o "$MMAP_CLIENT" "$here/mmap_client.c" \
			>"$logdir/mmap_client.build.log" 2>&1; then
			echo "FAIL  mmap_client: does not compile (see $logdir/mmap_client.build.log)"
			echo "integration: 0 passed, 1 failed, 0 skipped"
			exit 1
		fi
	fi
fi
export MMAP_CLIENT

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		t=${t%.sh}
		tests+=("$here/${t##*/}.sh")
	done
else
	tests=("$here"/t_*.sh)
fi

passed=0 failed=0 skipped=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	log=$logdir/$name.log
	if ! [ -f "$t" ]; then
		echo "FAIL  $name: no such test"
		failed=$((failed + 1))
		continue
	fi
	to=$(sed -n 's/^# Timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	to=${to:-120}
	tdir=$tmproot/$name
	mkdir -p "$tdir"
	start=$SECONDS
	PFS_TMPROOT=$tdir timeout -k 10 "$to" bash "$t" "$builddir" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$((SECONDS - start))
	# A test killed by the timeout cannot clean up after itself.
	clear_mounts "$tdir"
	[ -z "$(mounts_under "$tdir")" ] && rm -rf --one-file-system "$tdir"
	case $rc in
	0)
		echo "PASS  $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		why=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		echo "SKIP  $name: ${why:-skipped}"
		skipped=$((skipped + 1))
		;;
	*)
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			why="timed out after ${to}s"
			last=$(grep -E '^# ' "$log" | tail -n 1)
			[ -n "$last" ] && why="$why (last step: ${last#\# })"
		else
			why=$(sed -n 's/^FAIL: //p' "$log" | tail -n 1)
			why=${why:-exit status $rc}
		fi
		echo "FAIL  $name: $why (${secs}s, log: $log)"
		failed=$((failed + 1))
		if [ "${PFS_VERBOSE:-0}" = 1 ]; then
			tail -n 40 "$log" | sed 's/^/    | /'
		fi
		;;
	esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
