#!/bin/sh
# swap-vs-fio.sh: sequential O_DIRECT read throughput, fio's io_uring engine
# against the swap store's I/O layer (bench/swap_bench), on the same file
# system, same size, 1 MiB requests, same queue depth.
#
# It must never leave its data files behind, and never print a number for a
# run that failed (set -e; swap_bench exits 1 on any I/O or checksum error).
#
# Usage: bench/swap-vs-fio.sh DIR
#   SIZE (1G), QD (16) and SWAP_BENCH (./bench/swap_bench, i.e. run from the
#   build directory after `make bench/swap_bench`) may be set in the environment.
# Needs fio; root to drop the page cache (harmless to skip for O_DIRECT).
set -eu

dir=${1:?usage: swap-vs-fio.sh DIR}
size=${SIZE:-1G}
qd=${QD:-16}
bench=${SWAP_BENCH:-./bench/swap_bench}

[ -d "$dir" ] || { echo "swap-vs-fio: $dir is not a directory" >&2; exit 2; }
[ -x "$bench" ] || { echo "swap-vs-fio: $bench missing: run make bench/swap_bench" >&2; exit 2; }
command -v fio >/dev/null || { echo "swap-vs-fio: fio not installed" >&2; exit 2; }

trap 'rm -f "$dir/fio.dat"' EXIT

drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
}

# Write the file first, so the read measures reads, not allocation.
fio --name=seqw --filename="$dir/fio.dat" --size="$size" --direct=1 --rw=write \
	--bs=1m --ioengine=io_uring --iodepth="$qd" >/dev/null
drop_caches
# terse v3: field 7 is the read bandwidth in KiB/s.
fio_mib=$(fio --name=seq --filename="$dir/fio.dat" --size="$size" --direct=1 --rw=read \
	--bs=1m --ioengine=io_uring --iodepth="$qd" --output-format=terse --terse-version=3 |
	awk -F';' '{ printf "%.0f", $7 / 1024 }')
rm -f "$dir/fio.dat"

line=$("$bench" -d "$dir" -s "$size" -r 1M -q "$qd")
echo "$line"
swap_mib=$(printf '%s\n' "$line" | sed -n 's/.*read_mib_s=\([0-9.]*\).*/\1/p')
[ -n "$swap_mib" ] || { echo "swap-vs-fio: no rate from swap_bench" >&2; exit 1; }

echo "fio   seq read $size bs=1M qd=$qd io_uring O_DIRECT: $fio_mib MiB/s"
echo "swap  seq read $size run=1M qd=$qd checksums on:     $swap_mib MiB/s"
awk -v s="$swap_mib" -v f="$fio_mib" 'BEGIN { printf "ratio swap/fio: %.2f\n", s / f }'
