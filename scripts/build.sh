#!/usr/bin/env bash
# Configure and build pagerfs in a build directory (default: build/).
#   scripts/build.sh [--sanitize] [BUILDDIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flags=(--enable-werror)
builddir=$top/build
for a in "$@"; do
	case $a in
	--sanitize) flags+=(--enable-sanitizers); builddir=$top/build-asan ;;
	*) builddir=$a ;;
	esac
done
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] || autoreconf -fi >/dev/null
mkdir -p "$builddir"
cd "$builddir"
[ -f Makefile ] || "$top/configure" -q "${flags[@]}"
make -s -j"$(nproc)"
echo "$builddir"
