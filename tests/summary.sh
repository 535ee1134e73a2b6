#!/usr/bin/env bash
# Print every test suite's result from a build directory's test logs: the
# cmocka summary lines of each unit-test program (or the "N passed, N failed"
# line of a shell suite), the failures in full, and a closing line of
# totals. Exits non-zero if anything failed.
set -uo pipefail
builddir=${1:-build}
passed=0 failed=0 suites=0 bad=0
shopt -s nullglob
for trs in "$builddir"/tests/*.trs "$builddir"/cli/tests/*.trs; do
	log=${trs%.trs}.log
	name=${trs#"$builddir"/}
	name=${name%.trs}
	result=$(sed -n 's/^:test-result: //p' "$trs")
	suites=$((suites + 1))
	echo "== $name: $result"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	if [ -n "$p$f" ]; then
		grep -E '^\[ *(PASSED|FAILED|SKIPPED) *\]|^\[==========\] [0-9]+ test' "$log" | sed 's/^/   /'
	else
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		[ -n "$line" ] && echo "   $line"
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$result" != PASS ] && [ "$result" != SKIP ]; then
		bad=$((bad + 1))
		[ -z "$f" ] || [ "$f" = 0 ] && failed=$((failed + 1)) # crashed before it could count
		echo "   --- $name log (last 40 lines) ---"
		tail -n 40 "$log" | sed 's/^/   | /'
	fi
done
if [ "$suites" -eq 0 ]; then
	echo "no test results under $builddir" >&2
	exit 1
fi
echo "suites: $suites, $bad failed"
echo "unit: $passed passed, $failed failed"
[ "$bad" -eq 0 ] && [ "$failed" -eq 0 ]
