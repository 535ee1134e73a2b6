#!/usr/bin/env bash
# Set up, build and show pagerfs working.
# Until pagerfsd serves mounts this builds everything and runs the catalogue
# demo: a 1 TiB sparse heap object is recorded with file and swap runs in its
# page map, then the store is reopened to show the object survived.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
builddir=$("$top/scripts/build.sh" | tail -n 1)
store=${PAGERFS_DEMO_STORE:-/var/tmp/pagerfs-demo-store}
rm -rf "$store"
"$builddir/tests/catalogue_demo" "$store"
echo
"$builddir/tests/catalogue_demo" "$store"
