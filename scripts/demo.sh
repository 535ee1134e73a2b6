#!/usr/bin/env bash
# Set up, build, mount pagerfs with a default store, and show it working:
# a persistent object is written through MAP_SHARED by one process and
# msync'ed, read back by another, paged in again after an unmount and a
# remount (so from the swap store, not the page cache), and the daemon's
# view of it is shown through pagerctl and the control files.
#   PAGERFS_DEMO_DIR   where the store and mount point go (default /var/tmp/pagerfs-demo)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
builddir=$("$top/scripts/build.sh" | tail -n 1)
make -s -C "$builddir" tests/integration/mmap_client >/dev/null
pagerfsd=$builddir/pagerfsd
pagerctl=$builddir/pagerctl
client=$builddir/tests/integration/mmap_client

demo=${PAGERFS_DEMO_DIR:-/var/tmp/pagerfs-demo}
store=$demo/store
mnt=$demo/mnt
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then "$pagerctl" umount "$mnt"; fi
rm -rf "$store"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "mount a new store (the daemon detaches once the mount is ready)"
run "$pagerfsd" -o swap_max=2G,commit_interval=5 "$store" "$mnt"
run findmnt -n -o SOURCE,TARGET,FSTYPE "$mnt"

step "a persistent anonymous object of 64 MiB, then 16 MiB written through MAP_SHARED and msync'ed"
run "$pagerctl" create --size 64M "$mnt/heap"
run "$client" write "$mnt/heap" 8M 16M 42 --msync
run getfattr -n user.pagerfs.pages "$mnt/heap"
run "$pagerctl" map --width 64 "$mnt/heap"

step "another process maps the same object and sees the same bytes"
run "$client" verify "$mnt/heap" 8M 16M 42 && echo "ok: all 16 MiB match"

step "unmount (commits), remount: the pages come back from the swap store"
run "$pagerctl" umount "$mnt"
run "$pagerfsd" "$store" "$mnt"
run "$client" verify "$mnt/heap" 8M 16M 42 && echo "ok: all 16 MiB match"
run "$pagerctl" stat "$mnt/heap"

step "what the daemon says about itself"
run cat "$mnt/.pagerfs/stats"
run "$pagerctl" df "$mnt"

step "unmount; mount again with: $pagerfsd $store $mnt"
run "$pagerctl" umount "$mnt"
run "$pagerctl" map --store "$store" --width 64 /heap
