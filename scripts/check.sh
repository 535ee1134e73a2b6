#!/usr/bin/env bash
# Set up and run pagerfs's tests: installs the Debian packages it needs,
# builds, runs `make check` (the cmocka unit tests and the pagerctl/fsck
# suites) and then the integration suite, which mounts pagerfsd and drives
# it with real mmap clients, several processes, restarts and kill -9. Prints
# each suite's summary and one closing line of totals. With --sanitize the
# same tests run built with ASan + UBSan.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
builddir=$("$top/scripts/build.sh" "$@" | tail -n 1)
cd "$builddir"
rc=0
make -s -j"$(nproc)" check >/dev/null 2>&1 || rc=$?
"$top/tests/summary.sh" "$builddir" | tee "$builddir/unit-summary.txt" || rc=1
"$top/tests/integration/run.sh" "$builddir" | tee "$builddir/integration-summary.txt" || rc=1
unit=$(grep -E '^unit: ' "$builddir/unit-summary.txt" | tail -n 1)
integ=$(grep -E '^integration: ' "$builddir/integration-summary.txt" | tail -n 1)
n() { echo "$1" | sed -n "s/.* \([0-9]*\) $2.*/\1/p"; }
p=$(( $(n "$unit" passed) + $(n "$integ" passed) ))
f=$(( $(n "$unit" failed) + $(n "$integ" failed) ))
s=$(n "$integ" skipped)
echo "total: $p passed, $f failed, ${s:-0} skipped"
exit $rc
