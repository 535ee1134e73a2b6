#!/usr/bin/env bash
# Set up and run pagerfs's tests: installs the Debian packages it needs,
# builds, runs `make check`, and prints each suite's cmocka summary and the
# totals.  With --sanitize the same tests run built with ASan + UBSan.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
builddir=$("$top/scripts/build.sh" "$@" | tail -n 1)
cd "$builddir"
rc=0
make -s -j"$(nproc)" check >/dev/null 2>&1 || rc=$?
"$top/tests/summary.sh" "$builddir" || rc=1
exit $rc
