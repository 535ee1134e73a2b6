#!/usr/bin/env bash
# Install the Debian 12 packages pagerfs builds and tests with (as root).
# Quiet and quick when everything is already there.
set -euo pipefail
pkgs=(gcc make autoconf automake libtool pkg-config
      libfuse3-dev fuse3 liburing-dev liblmdb-dev libxxhash-dev libcmocka-dev
      mandoc attr util-linux e2fsprogs)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
