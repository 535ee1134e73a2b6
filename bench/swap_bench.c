/*
 * swap_bench: sequential read throughput of the swap store's I/O layer.
 *
 * Creates one swap file of SIZE in DIR, fills it through swap_write in runs of
 * RUN bytes (every page stamped with its frame number, checksums kept), syncs,
 * drops the page cache, then times swap_read of the whole range in RUN-sized
 * runs, QD of them in flight, with checksum verification on, and prints MiB/s
 * as key=value pairs on one line. It must never report a rate for a read that
 * failed or returned a wrong page: any error or mismatch exits 1. It removes
 * its file unless -k. Not part of make check (build: make bench/swap_bench).
 *
 * Usage: swap_bench -d DIR [-s SIZE] [-r RUN] [-q QD] [-b RUNS_PER_CALL] [-k] [-n]
 * Exit status: 0 ok, 1 failure, 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "size.h"
#include "swap/swap.h"

#define BENCH_FILE "swap.bench"

struct opts {
	const char *dir;
	uint64_t size_bytes, run_bytes;
	unsigned qd, per_call;
	bool keep, no_sums;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: swap_bench -d DIR [-s SIZE] [-r RUN] [-q QD] [-b RUNS_PER_CALL] [-k] [-n]\n"
			"  SIZE total bytes (1G), RUN bytes per run (1M), QD runs in flight (16),\n"
			"  RUNS_PER_CALL runs per swap_read call (4*QD), -k keep the file,\n"
			"  -n read without checksum verification (for comparison only)\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .size_bytes = 1ULL << 30, .run_bytes = 1 << 20, .qd = 16 };
	while ((c = getopt(argc, argv, "d:s:r:q:b:kn")) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 's': if (size_parse(optarg, &o->size_bytes)) return -1; break;
		case 'r': if (size_parse(optarg, &o->run_bytes)) return -1; break;
		case 'q': o->qd = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o->per_call = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': o->keep = true; break;
		case 'n': o->no_sums = true; break;
		default: return -1;
		}
	}
	if (!o->per_call)
		o->per_call = 4 * o->qd;
	if (!o->dir || optind != argc || o->qd == 0 || o->qd > 4096 || o->run_bytes == 0 ||
	    o->run_bytes % PFS_PAGE_SIZE || o->run_bytes > (64u << 20) ||
	    o->size_bytes % o->run_bytes || o->size_bytes == 0)
		return -1;
	return 0;
}

/* Best effort: irrelevant for O_DIRECT, but it makes buffered fallbacks honest. */
static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3\n", 2) != 2)
		fprintf(stderr, "swap_bench: cannot drop caches (not root?); going on\n");
	if (fd >= 0)
		close(fd);
}

/*
 * Write (or read and check) every run of the file, per_call runs per call.
 * Returns seconds taken, or a negative value on failure.
 */
static double pass(struct swap_ring *r, const struct opts *o, bool write, uint64_t *sums)
{
	uint64_t nruns = o->size_bytes / o->run_bytes, frames_per_run = o->run_bytes / PFS_PAGE_SIZE;
	struct swap_io *ios = calloc(o->per_call, sizeof(*ios));
	char *arena = swap_ring_buf(r);
	double busy = 0;  /* time inside swap_write/swap_read only */

	if (!ios)
		return -1;
	for (uint64_t first = 0; first < nruns; first += o->per_call) {
		unsigned n = (unsigned)PFS_MIN((uint64_t)o->per_call, nruns - first);
		for (unsigned i = 0; i < n; i++) {
			uint64_t frame = (first + i) * frames_per_run;
			ios[i] = (struct swap_io){ .frame = frame, .nframes = (uint32_t)frames_per_run,
						   .buf = arena + i * o->run_bytes };
			if (write) {
				for (uint64_t p = 0; p < frames_per_run; p++)
					memcpy((char *)ios[i].buf + p * PFS_PAGE_SIZE, &(uint64_t){ frame + p }, 8);
				ios[i].sums_out = &sums[frame];
			} else {
				ios[i].sums = o->no_sums ? NULL : &sums[frame];
			}
		}
		double c0 = now_s();
		int ret = write ? swap_write(r, ios, n) : swap_read(r, ios, n);
		busy += now_s() - c0;
		if (ret) {
			fprintf(stderr, "swap_bench: %s failed: %s\n", write ? "write" : "read", strerror(-ret));
			free(ios);
			return -1;
		}
		/* Checksums were verified inside swap_read; the stamp checks placement. */
		for (unsigned i = 0; !write && i < n; i++) {
			uint64_t stamp;
			memcpy(&stamp, ios[i].buf, 8);
			if (stamp != ios[i].frame) {
				fprintf(stderr, "swap_bench: frame %llu holds frame %llu\n",
					(unsigned long long)ios[i].frame, (unsigned long long)stamp);
				free(ios);
				return -1;
			}
		}
	}
	free(ios);
	return busy;
}

int main(int argc, char **argv)
{
	struct swap_file_desc d = { .index = 0, .first_frame = 0 };
	struct swap_options so = { 0 };
	struct swap_store *s = NULL;
	struct swap_ring *r = NULL;
	struct swap_stats st;
	uint64_t *sums = NULL;
	struct opts o;
	int ret, status = 1;

	if (parse(argc, argv, &o))
		return usage();
	d.max_frames = o.size_bytes / PFS_PAGE_SIZE;
	snprintf(d.name, sizeof(d.name), "%s", BENCH_FILE);
	sums = malloc(d.max_frames * sizeof(*sums));
	if (!sums)
		return 1;
	if ((ret = swap_open(o.dir, &d, 1, &so, &s)) || (ret = swap_grow(s, 0, d.max_frames)) ||
	    (ret = swap_ring_open_depth(s, (size_t)o.per_call * o.run_bytes, o.qd, &r))) {
		fprintf(stderr, "swap_bench: setting up in %s: %s\n", o.dir, strerror(-ret));
		goto out;
	}
	double wt = pass(r, &o, true, sums);
	if (wt < 0)
		goto out;
	if ((ret = swap_sync(r))) {
		fprintf(stderr, "swap_bench: sync: %s\n", strerror(-ret));
		goto out;
	}
	drop_caches();
	double rt = pass(r, &o, false, sums);
	if (rt < 0)
		goto out;
	swap_get_stats(s, &st);
	if (st.csum_errors || st.io_errors)
		goto out;
	double mib = (double)o.size_bytes / (1 << 20);
	printf("swap_bench: size_mib=%.0f run_kib=%llu qd=%u runs_per_call=%u checksums=%s "
	       "write_mib_s=%.0f read_mib_s=%.0f\n",
	       mib, (unsigned long long)(o.run_bytes >> 10), o.qd, o.per_call, o.no_sums ? "off" : "on",
	       mib / wt, mib / rt);
	status = 0;
out:
	swap_ring_close(r);
	swap_close(s);
	if (!o.keep) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", o.dir, BENCH_FILE);
		unlink(path);
	}
	free(sums);
	return status;
}
