# lib.sh: shared by pagerctl's shell tests (sourced, not run).
#
# Tests exit 0 pass, 1 fail, 77 skip, and end with the line
# "N passed, N failed" that CI reads. Run from the build directory (as
# `make check` does); override the programs with PAGERCTL, MKSTORE, PAGERFSD.

PAGERCTL=${PAGERCTL:-./pagerctl}
MKSTORE=${MKSTORE:-./cli/tests/fsck_mkstore}
PAGERFSD=${PAGERFSD:-./pagerfsd}

t_pass=0
t_fail=0

# A scratch directory on a disk file system, removed at exit.
t_tmp=$(mktemp -d /var/tmp/pagerctl-test.XXXXXX) || exit 1
t_cleanups="rm -rf '$t_tmp'"
t_cleanup() { eval "$t_cleanups"; }
trap t_cleanup EXIT
trap 'exit 1' INT TERM
# Run cmd at exit, before the earlier cleanups (so an unmount comes before rm -rf).
t_at_exit() { t_cleanups="$1; $t_cleanups"; }

t_skip() { echo "SKIP: $*"; exit 77; }

t_ok() { t_pass=$((t_pass + 1)); echo "ok: $*"; }
t_bad() { t_fail=$((t_fail + 1)); echo "FAIL: $*"; }

# t_run WANT NAME CMD...: run CMD (output in $t_tmp/out), check its exit status.
t_run() {
	want=$1; name=$2; shift 2
	"$@" >"$t_tmp/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ]; then
		t_ok "$name (exit $got)"
	else
		t_bad "$name: exit $got, wanted $want: $*"
		sed 's/^/    | /' "$t_tmp/out"
	fi
	return 0
}

# t_grep NAME PATTERN: the last t_run's output matches PATTERN (grep -E).
t_grep() {
	if grep -Eq -- "$2" "$t_tmp/out"; then
		t_ok "$1"
	else
		t_bad "$1: output lacks /$2/"
		sed 's/^/    | /' "$t_tmp/out"
	fi
}

# t_nogrep NAME PATTERN: the last t_run's output does not match.
t_nogrep() {
	if grep -Eq -- "$2" "$t_tmp/out"; then
		t_bad "$1: output has /$2/"
		sed 's/^/    | /' "$t_tmp/out"
	else
		t_ok "$1"
	fi
}

# t_json NAME CMD...: CMD exits 0 and prints exactly one JSON document.
t_json() {
	name=$1; shift
	if "$@" >"$t_tmp/json" 2>"$t_tmp/out" &&
	   python3 -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d, dict)' <"$t_tmp/json" 2>>"$t_tmp/out"; then
		t_ok "$name: valid JSON"
	else
		t_bad "$name: not one JSON object: $*"
		sed 's/^/    | /' "$t_tmp/json" "$t_tmp/out"
	fi
	cp "$t_tmp/json" "$t_tmp/out"
}

t_done() {
	echo "$t_pass passed, $t_fail failed"
	[ "$t_fail" -eq 0 ]
	exit $?
}
