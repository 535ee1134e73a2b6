/* Description: the swap store's I/O layer: files, growth, discard, io_uring page I/O, checksums, faults. */
/*
 * Each test gets a fresh store in a directory under /var/tmp (a disk file
 * system, so O_DIRECT is real): file index 0 ("swap.0") holds frames [0, 256),
 * file index 1 ("swap.1") holds [256, 512), both grown to the full 256 frames,
 * and a ring of depth 8 with a 1 MiB arena. Page contents are a pattern of the
 * frame number and a seed, so a page in the wrong place or from the wrong
 * write is caught. Tests that need root and a scratch mount (ramfs, a loop
 * ext4 image) skip when they cannot have one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "swap/swap.h"
#include "testutil.h"

#define FILE_FRAMES 256
#define DEPTH 8
#define PG PFS_PAGE_SIZE

struct fx {
	char *dir;
	struct pfs_faults faults;
	struct swap_store *s;
	struct swap_ring *r;
	struct swap_ring *r2; /* a test's second ring, closed by teardown if left open */
};

static struct swap_file_desc desc(uint32_t index, uint64_t first, uint64_t max, const char *name)
{
	struct swap_file_desc d = { .index = index, .first_frame = first, .max_frames = max };
	snprintf(d.name, sizeof(d.name), "%s", name);
	return d;
}

/* Set (or check) the pattern of frames [frame, frame + n) written with seed. */
static bool pattern(void *buf, uint64_t frame, uint32_t n, uint64_t seed, bool set)
{
	for (uint32_t p = 0; p < n; p++) {
		uint64_t *w = (uint64_t *)((char *)buf + p * PG);
		for (size_t i = 0; i < PG / 8; i++) {
			uint64_t v = ((frame + p) << 32) ^ (i * 0x9e3779b97f4a7c15ULL) ^ seed;
			if (set)
				w[i] = v;
			else if (w[i] != v)
				return false;
		}
	}
	return true;
}
#define fill(buf, frame, n, seed) ((void)pattern((buf), (frame), (n), (seed), true))
#define matches(buf, frame, n, seed) pattern((void *)(buf), (frame), (n), (seed), false)

static void *pages(uint32_t n)
{
	void *p = aligned_alloc(PG, n * PG);
	assert_non_null(p);
	memset(p, 0xee, n * PG);
	return p;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct swap_file_desc d[2] = { desc(0, 0, FILE_FRAMES, "swap.0"),
				       desc(1, FILE_FRAMES, FILE_FRAMES, "swap.1") };
	struct swap_options o = { .chunk_bytes = 64 * PG, .faults = &f->faults };

	f->dir = tu_tmpdir("swap");
	if (swap_open(f->dir, d, 2, &o, &f->s) || swap_grow(f->s, 0, FILE_FRAMES) ||
	    swap_grow(f->s, 1, FILE_FRAMES) || swap_ring_open_depth(f->s, 1 << 20, DEPTH, &f->r))
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	swap_ring_close(f->r);
	if (f->r2)
		swap_ring_close(f->r2);
	swap_close(f->s);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/*
 * A fresh directory of a test's own, perhaps with something mounted at `at`;
 * teardown undoes both, also after a failed assert.
 */
struct scratch {
	char *dir, *at;
};

static int sc_setup(void **state)
{
	struct scratch *m = calloc(1, sizeof(*m));
	m->dir = tu_tmpdir("swapsc");
	*state = m;
	return 0;
}

static int sc_teardown(void **state)
{
	struct scratch *m = *state;

	if (m->at)
		umount2(m->at, MNT_DETACH);
	tu_rmtree(m->dir);
	free(m->at);
	free(m->dir);
	free(m);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static struct stat stat_of(const char *dir, const char *name)
{
	struct stat st;
	char *p = path_in(dir, name);
	assert_int_equal(stat(p, &st), 0);
	free(p);
	return st;
}

/* Write n frames from frame with seed, through ring r; the checksums go to sums (if any). */
static int put(struct swap_ring *r, uint64_t frame, uint32_t n, uint64_t seed, uint64_t *sums)
{
	void *b = pages(n);
	struct swap_io io = { .frame = frame, .nframes = n, .buf = b, .sums_out = sums };
	fill(b, frame, n, seed);
	int ret = swap_write(r, &io, 1);
	assert_int_equal(io.res, ret);
	free(b);
	return ret;
}

/* Read n frames back and check them against the pattern (and sums, if given). */
static int get(struct swap_ring *r, uint64_t frame, uint32_t n, uint64_t seed, const uint64_t *sums)
{
	void *b = pages(n);
	struct swap_io io = { .frame = frame, .nframes = n, .buf = b, .sums = sums };
	int ret = swap_read(r, &io, 1);
	if (ret == 0 && !matches(b, frame, n, seed))
		ret = -EILSEQ;
	free(b);
	return ret;
}

static void reads_back_a_single_page(void **state)
{
	struct fx *f = *state;
	struct swap_stats st;

	assert_int_equal(put(f->r, 7, 1, 1, NULL), 0);
	assert_int_equal(get(f->r, 7, 1, 1, NULL), 0);
	assert_int_equal(get(f->r, 8, 1, 1, NULL), -EILSEQ); /* never written: not the pattern */
	swap_get_stats(f->s, &st);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.bytes_written, PG);
	assert_int_equal(st.reads, 2);
}

static void reads_back_a_multi_page_run(void **state)
{
	struct fx *f = *state;

	assert_int_equal(put(f->r, 100, 64, 2, NULL), 0);
	assert_int_equal(get(f->r, 100, 64, 2, NULL), 0);
	assert_int_equal(get(f->r, 130, 10, 2, NULL), 0); /* a run inside the written one */
}

static void runs_more_than_ring_depth_in_one_call(void **state)
{
	struct fx *f = *state;
	enum { N = 100 };
	struct swap_io ios[N];
	char *b = pages(N);

	for (unsigned i = 0; i < N; i++) {
		ios[i] = (struct swap_io){ .frame = 2 * i + 1, .nframes = 1, .buf = b + i * PG };
		fill(ios[i].buf, ios[i].frame, 1, 3);
	}
	assert_int_equal(swap_write(f->r, ios, N), 0);
	memset(b, 0, N * PG);
	assert_int_equal(swap_read(f->r, ios, N), 0);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(ios[i].res, 0);
		assert_true(matches(ios[i].buf, ios[i].frame, 1, 3));
	}
	free(b);
}

static void runs_in_two_files_in_one_call(void **state)
{
	struct fx *f = *state;
	char *b = pages(8);
	struct swap_io ios[2] = {
		{ .frame = 250, .nframes = 4, .buf = b },
		{ .frame = FILE_FRAMES + 3, .nframes = 4, .buf = b + 4 * PG },
	};

	fill(b, 250, 4, 4);
	fill(b + 4 * PG, FILE_FRAMES + 3, 4, 4);
	assert_int_equal(swap_write(f->r, ios, 2), 0);
	/* The second run is at byte 3 * PG of swap.1, not in swap.0. */
	char *path = path_in(f->dir, "swap.1");
	int fd = open(path, O_RDONLY);
	free(path);
	assert_true(fd >= 0);
	char *raw = pages(1);
	assert_int_equal(pread(fd, raw, PG, 3 * PG), (ssize_t)PG);
	assert_true(matches(raw, FILE_FRAMES + 3, 1, 4));
	close(fd);
	memset(b, 0, 8 * PG);
	assert_int_equal(swap_read(f->r, ios, 2), 0);
	assert_true(matches(b, 250, 4, 4));
	assert_true(matches(b + 4 * PG, FILE_FRAMES + 3, 4, 4));
	free(raw);
	free(b);
}

static void arena_and_plain_buffers_both_work(void **state)
{
	struct fx *f = *state;
	char *arena = swap_ring_buf(f->r), *plain = pages(16);
	struct swap_io ios[2] = {
		{ .frame = 10, .nframes = 16, .buf = arena + 32 * PG },
		{ .frame = 40, .nframes = 16, .buf = plain },
	};

	assert_non_null(arena);
	assert_int_equal(swap_ring_buf_bytes(f->r), 1 << 20);
	fill(ios[0].buf, 10, 16, 5);
	fill(ios[1].buf, 40, 16, 5);
	assert_int_equal(swap_write(f->r, ios, 2), 0);
	memset(arena, 0, swap_ring_buf_bytes(f->r));
	memset(plain, 0, 16 * PG);
	assert_int_equal(swap_read(f->r, ios, 2), 0);
	assert_true(matches(ios[0].buf, 10, 16, 5));
	assert_true(matches(ios[1].buf, 40, 16, 5));
	free(plain);
}

static void write_reports_checksums_that_verify_the_read(void **state)
{
	struct fx *f = *state;
	uint64_t sums[32];
	char *b = pages(32);
	struct swap_stats st;

	assert_int_equal(put(f->r, 20, 32, 6, sums), 0);
	fill(b, 20, 32, 6);
	for (int p = 0; p < 32; p++) {
		assert_int_equal(le64toh(sums[p]), XXH3_64bits(b + p * PG, PG));
		assert_int_equal(swap_checksum(b + p * PG), XXH3_64bits(b + p * PG, PG));
	}
	assert_int_not_equal(sums[0], sums[1]);
	assert_int_equal(get(f->r, 20, 32, 6, sums), 0);
	swap_get_stats(f->s, &st);
	assert_int_equal(st.csum_errors, 0);
	assert_int_equal(st.bytes_read, 32 * PG);
	free(b);
}

static void checksum_mismatch_fails_only_the_bad_run(void **state)
{
	struct fx *f = *state;
	uint64_t sums[3][8];
	char *b = pages(24);
	struct swap_io ios[3];
	struct swap_stats st;

	for (int i = 0; i < 3; i++)
		assert_int_equal(put(f->r, 60 + 8 * i, 8, 8, sums[i]), 0);
	/* Flip one byte of the third page of the second run, behind the store's back. */
	char *p = path_in(f->dir, "swap.0");
	int fd = open(p, O_RDWR);
	free(p);
	assert_true(fd >= 0);
	char c;
	off_t off = (off_t)((68 + 2) * PG + 123);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	assert_int_equal(fsync(fd), 0);
	close(fd);

	for (int i = 0; i < 3; i++)
		ios[i] = (struct swap_io){ .frame = 60 + 8 * i, .nframes = 8, .buf = b + 8 * i * PG,
					   .sums = sums[i] };
	assert_int_equal(swap_read(f->r, ios, 3), -EIO);
	assert_int_equal(ios[0].res, 0);
	assert_int_equal(ios[1].res, -EIO);
	assert_int_equal(ios[2].res, 0);
	assert_false(ios[0].csum_bad);
	assert_true(ios[1].csum_bad);
	assert_int_equal(ios[1].bad_page, 2);
	assert_true(matches(ios[0].buf, 60, 8, 8));
	assert_true(matches(ios[2].buf, 76, 8, 8));
	swap_get_stats(f->s, &st);
	assert_int_equal(st.csum_errors, 1);
	assert_int_equal(st.io_errors, 0);
	free(b);
}

static void injected_short_read_is_completed(void **state)
{
	struct fx *f = *state;
	uint64_t sums[16];

	assert_int_equal(put(f->r, 80, 16, 9, sums), 0);
	pfs_fault_arm(&f->faults, PFS_FAULT_SHORT, 1);
	assert_int_equal(get(f->r, 80, 16, 9, sums), 0);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_SHORT]), 1);
}

static void injected_short_write_is_completed(void **state)
{
	struct fx *f = *state;

	pfs_fault_arm(&f->faults, PFS_FAULT_SHORT, 1);
	assert_int_equal(put(f->r, 90, 16, 10, NULL), 0);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_SHORT]), 1);
	assert_int_equal(get(f->r, 90, 16, 10, NULL), 0);
}

static void injected_write_error_is_reported_then_writes_work(void **state)
{
	struct fx *f = *state;
	struct swap_stats st;

	pfs_fault_arm(&f->faults, PFS_FAULT_WRITE, 1);
	assert_int_equal(put(f->r, 110, 4, 11, NULL), -EIO);
	swap_get_stats(f->s, &st);
	assert_int_equal(st.io_errors, 1);
	assert_int_equal(st.writes, 0);
	assert_int_equal(put(f->r, 110, 4, 12, NULL), 0);
	assert_int_equal(get(f->r, 110, 4, 12, NULL), 0);
}

static void injected_read_error_fails_only_the_run_it_hit(void **state)
{
	struct fx *f = *state;
	char *b = pages(8);
	struct swap_io ios[2] = { { .frame = 120, .nframes = 4, .buf = b },
				  { .frame = 124, .nframes = 4, .buf = b + 4 * PG } };

	assert_int_equal(put(f->r, 120, 8, 13, NULL), 0);
	f->faults.err = ENXIO;
	pfs_fault_arm(&f->faults, PFS_FAULT_READ, 1);
	assert_int_equal(swap_read(f->r, ios, 2), -ENXIO);
	assert_int_equal((ios[0].res == -ENXIO) + (ios[1].res == -ENXIO), 1);
	assert_int_equal(ios[0].res + ios[1].res, -ENXIO);
	int ok = ios[0].res == 0 ? 0 : 1;
	assert_true(matches(ios[ok].buf, ios[ok].frame, 4, 13));
	free(b);
}

static void page_ok_marks_bad_pages_without_failing_the_run(void **state)
{
	struct fx *f = *state;
	uint64_t sums[6];
	uint8_t ok[6];
	char *b = pages(6);
	struct swap_stats st0, st1;
	struct swap_io io = { .frame = 170, .nframes = 6, .buf = b, .sums = sums, .page_ok = ok };

	assert_int_equal(put(f->r, 170, 6, 18, sums), 0);
	sums[1] ^= 1;
	sums[4] ^= 1 << 20;
	swap_get_stats(f->s, &st0);
	memset(ok, 7, sizeof(ok));
	assert_int_equal(swap_read(f->r, &io, 1), 0);
	assert_false(io.csum_bad);
	for (int i = 0; i < 6; i++)
		assert_int_equal(ok[i], i != 1 && i != 4);
	assert_true(matches(b, 170, 6, 18)); /* the bytes are the disk's, good or not */
	swap_get_stats(f->s, &st1);
	assert_int_equal(st1.csum_errors, st0.csum_errors);
	/* A run that fails to read marks nothing. */
	memset(ok, 7, sizeof(ok));
	pfs_fault_arm(&f->faults, PFS_FAULT_READ, 1);
	assert_int_equal(swap_read(f->r, &io, 1), -EIO);
	for (int i = 0; i < 6; i++)
		assert_int_equal(ok[i], 0);
	/* Without page_ok the same sums fail the run at its first bad page. */
	io.page_ok = NULL;
	assert_int_equal(swap_read(f->r, &io, 1), -EIO);
	assert_true(io.csum_bad);
	assert_int_equal(io.bad_page, 1);
	free(b);
}

static void ring_whose_enter_failed_stays_unusable(void **state)
{
	struct fx *f = *state;
	uint64_t sums[4];
	uint8_t ok[4];
	char *b = pages(4);
	struct swap_io io = { .frame = 150, .nframes = 4, .buf = b, .sums = sums, .page_ok = ok };

	assert_int_equal(put(f->r, 150, 4, 16, sums), 0);
	assert_int_equal(swap_ring_error(f->r), 0);
	f->faults.err = EFAULT;
	pfs_fault_arm(&f->faults, PFS_FAULT_RING, 1);
	assert_int_equal(get(f->r, 150, 4, 16, NULL), -EFAULT);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_RING]), 1);
	/* Sticky: nothing on this ring is tried again, reads or writes. */
	assert_int_equal(swap_ring_error(f->r), -EFAULT);
	assert_int_equal(get(f->r, 150, 4, 16, NULL), -EFAULT);
	memset(ok, 1, sizeof(ok));
	assert_int_equal(swap_read(f->r, &io, 1), -EFAULT);
	assert_int_equal(ok[0] + ok[1] + ok[2] + ok[3], 0); /* nothing read is ok */
	assert_int_equal(put(f->r, 160, 1, 17, NULL), -EFAULT);
	/* Another ring on the same store works, and sees what was written. */
	assert_int_equal(swap_ring_open_depth(f->s, 1 << 20, DEPTH, &f->r2), 0);
	assert_int_equal(swap_ring_error(f->r2), 0);
	assert_int_equal(get(f->r2, 150, 4, 16, NULL), 0);
	free(b);
}

static void ring_dying_mid_call_leaves_no_page_ok(void **state)
{
	struct fx *f = *state;
	uint64_t sums[4];
	uint8_t ok[4];
	char *b = pages(4);
	struct swap_io ios[2] = {
		{ .frame = 180, .nframes = 2, .buf = b, .sums = sums, .page_ok = ok },
		{ .frame = 182, .nframes = 2, .buf = b + 2 * PG, .sums = sums + 2, .page_ok = ok + 2 },
	};

	assert_int_equal(put(f->r, 180, 4, 19, sums), 0);
	/* One op at a time: the first run completes and checks out, then the ring dies. */
	assert_int_equal(swap_ring_open_depth(f->s, 1 << 20, 1, &f->r2), 0);
	pfs_fault_arm(&f->faults, PFS_FAULT_RING, 2);
	assert_int_equal(swap_read(f->r2, ios, 2), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_RING]), 1);
	assert_int_equal(ios[0].res, -EIO);
	assert_int_equal(ios[1].res, -EIO);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ok[i], 0);
	free(b);
}

static void injected_eagain_is_retried(void **state)
{
	struct fx *f = *state;

	f->faults.err = EAGAIN;
	pfs_fault_arm(&f->faults, PFS_FAULT_WRITE, 1);
	assert_int_equal(put(f->r, 130, 2, 14, NULL), 0);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_WRITE]), 1);
	assert_int_equal(get(f->r, 130, 2, 14, NULL), 0);
}

static void injected_fsync_error_is_reported_then_sync_works(void **state)
{
	struct fx *f = *state;
	struct swap_stats st;

	assert_int_equal(put(f->r, 140, 1, 15, NULL), 0);
	pfs_fault_arm(&f->faults, PFS_FAULT_FSYNC, 2); /* the second of the two files */
	assert_int_equal(swap_sync(f->r), -EIO);
	swap_get_stats(f->s, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(st.io_errors, 1);
	assert_int_equal(swap_sync(f->r), 0);
	swap_get_stats(f->s, &st);
	assert_int_equal(st.syncs, 1);
}

/* A store of one file, max_frames 40, growing in chunks of 16 frames. */
static void grows_in_whole_chunks_up_to_max(void **state)
{
	char *dir = ((struct scratch *)*state)->dir;
	struct swap_file_desc d = desc(5, 1000, 40, "grow");
	struct swap_options o = { .chunk_bytes = 16 * PG };
	struct swap_store *s;

	assert_int_equal(swap_open(dir, &d, 1, &o, &s), 0);
	assert_int_equal(stat_of(dir, "grow").st_size, 0);
	assert_int_equal(swap_grow(s, 5, 1), 0);
	assert_int_equal(stat_of(dir, "grow").st_size, 16 * PG);
	assert_int_equal(swap_file_frames(s, 5), 16);
	assert_int_equal(swap_grow(s, 5, 16), 0);
	assert_int_equal(stat_of(dir, "grow").st_size, 16 * PG);
	assert_int_equal(swap_grow(s, 5, 17), 0);
	assert_int_equal(stat_of(dir, "grow").st_size, 32 * PG);
	assert_true(stat_of(dir, "grow").st_blocks >= (blkcnt_t)(32 * PG / 512)); /* preallocated */
	assert_int_equal(swap_grow(s, 5, 33), 0);
	assert_int_equal(stat_of(dir, "grow").st_size, 40 * PG); /* capped, not 48 */
	assert_int_equal(swap_file_frames(s, 5), 40);
	assert_int_equal(swap_grow(s, 6, 1), -ENOENT);
	swap_close(s);
}

static void grow_past_max_is_enospc_and_changes_nothing(void **state)
{
	char *dir = ((struct scratch *)*state)->dir;
	struct swap_file_desc d = desc(0, 0, 40, "swap.0");
	struct swap_options o = { .chunk_bytes = 16 * PG };
	struct swap_store *s;

	assert_int_equal(swap_open(dir, &d, 1, &o, &s), 0);
	assert_int_equal(swap_grow(s, 0, 20), 0);
	struct stat before = stat_of(dir, "swap.0");
	assert_int_equal(swap_grow(s, 0, 41), -ENOSPC);
	struct stat after = stat_of(dir, "swap.0");
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_blocks, before.st_blocks);
	assert_int_equal(swap_file_frames(s, 0), 32);
	swap_close(s);
}

/* A 16 MiB ext4 image on a loop device: growing to 64 MiB runs out of space. */
static void grow_on_a_full_disk_is_enospc_and_changes_nothing(void **state)
{
	struct scratch *m = *state;
	struct swap_file_desc d = desc(0, 0, 16384, "swap.0");
	struct swap_options o = { .chunk_bytes = 4 << 20 };
	struct swap_store *s;
	char *cmd;

	assert_true(asprintf(&cmd, "cd %s && truncate -s 16M img && mkdir mnt && "
			     "mkfs.ext4 -q -F img >/dev/null 2>&1 && mount -o loop img mnt "
			     "2>/dev/null", m->dir) > 0);
	int mounted = system(cmd) == 0;
	free(cmd);
	if (!mounted)
		skip(); /* needs root and a loop device */
	char *mnt = m->at = path_in(m->dir, "mnt");
	assert_int_equal(swap_open(mnt, &d, 1, &o, &s), 0);
	assert_int_equal(swap_grow(s, 0, 1), 0);
	struct stat before = stat_of(mnt, "swap.0");
	assert_int_equal(swap_grow(s, 0, 16384), -ENOSPC);
	struct stat after = stat_of(mnt, "swap.0");
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_blocks, before.st_blocks);
	assert_int_equal(swap_file_frames(s, 0), 1024);
	swap_close(s);
}

static void discard_frees_blocks_and_the_frames_work_again(void **state)
{
	struct fx *f = *state;
	uint64_t sums[64];

	assert_int_equal(put(f->r, 128, 64, 16, sums), 0);
	assert_int_equal(swap_sync(f->r), 0);
	blkcnt_t before = stat_of(f->dir, "swap.0").st_blocks;
	assert_int_equal(swap_discard(f->s, 128, 64), 0);
	struct stat after = stat_of(f->dir, "swap.0");
	assert_true(after.st_blocks <= before - (blkcnt_t)(64 * PG / 512));
	assert_int_equal(after.st_size, FILE_FRAMES * PG);
	/* The old checksums no longer match: the read fails rather than return zeros. */
	assert_int_equal(get(f->r, 128, 64, 16, sums), -EIO);
	assert_int_equal(put(f->r, 150, 4, 17, NULL), 0);
	assert_int_equal(get(f->r, 150, 4, 17, NULL), 0);
}

static void discard_across_files_is_einval(void **state)
{
	struct fx *f = *state;
	blkcnt_t before = stat_of(f->dir, "swap.0").st_blocks;

	assert_int_equal(swap_discard(f->s, FILE_FRAMES - 2, 4), -EINVAL);
	assert_int_equal(swap_discard(f->s, 2 * FILE_FRAMES, 1), -EINVAL);
	assert_int_equal(stat_of(f->dir, "swap.0").st_blocks, before);
}

static void run_crossing_a_file_boundary_is_einval(void **state)
{
	struct fx *f = *state;
	char *b = pages(5);
	struct swap_io ios[2] = { { .frame = FILE_FRAMES - 2, .nframes = 4, .buf = b },
				  { .frame = 3, .nframes = 1, .buf = b + 4 * PG } };

	fill(b + 4 * PG, 3, 1, 18);
	assert_int_equal(swap_write(f->r, ios, 2), -EINVAL);
	assert_int_equal(ios[0].res, -EINVAL);
	assert_int_equal(ios[1].res, 0); /* the valid run still went out */
	assert_int_equal(get(f->r, 3, 1, 18, NULL), 0);
	assert_int_equal(swap_read(f->r, ios, 1), -EINVAL);
	free(b);
}

static void bad_runs_are_einval(void **state)
{
	struct fx *f = *state;
	char *b = pages(2);
	struct swap_io io = { .frame = 1, .nframes = 0, .buf = b };

	assert_int_equal(swap_write(f->r, &io, 1), -EINVAL);
	io = (struct swap_io){ .frame = 1, .nframes = 1, .buf = b + 512 };
	assert_int_equal(swap_write(f->r, &io, 1), -EINVAL);
	io = (struct swap_io){ .frame = 5 * FILE_FRAMES, .nframes = 1, .buf = b };
	assert_int_equal(swap_read(f->r, &io, 1), -EINVAL);
	assert_int_equal(swap_read(f->r, NULL, 0), 0);
	free(b);
}

static void past_the_allocated_end_read_is_eio_write_einval(void **state)
{
	char *dir = ((struct scratch *)*state)->dir;
	struct swap_file_desc d = desc(0, 0, 256, "swap.0");
	struct swap_options o = { .chunk_bytes = 16 * PG };
	struct swap_store *s;
	struct swap_ring *r;
	struct swap_stats st;

	assert_int_equal(swap_open(dir, &d, 1, &o, &s), 0);
	assert_int_equal(swap_ring_open(s, 0, &r), 0);
	assert_int_equal(swap_grow(s, 0, 16), 0);
	assert_int_equal(put(r, 15, 1, 19, NULL), 0);
	assert_int_equal(put(r, 16, 1, 19, NULL), -EINVAL);
	assert_int_equal(get(r, 15, 2, 19, NULL), -EIO);
	assert_int_equal(get(r, 100, 1, 19, NULL), -EIO);
	swap_get_stats(s, &st);
	assert_int_equal(st.io_errors, 2);
	assert_int_equal(stat_of(dir, "swap.0").st_size, 16 * PG);
	swap_ring_close(r);
	swap_close(s);
}

/* Someone truncates a swap file behind the store's back: the kernel reads short, then nothing. */
static void read_of_a_truncated_file_is_eio_not_zeros(void **state)
{
	struct fx *f = *state;
	char *p = path_in(f->dir, "swap.0");

	assert_int_equal(put(f->r, 200, 8, 23, NULL), 0);
	assert_int_equal(truncate(p, 204 * PG), 0);
	free(p);
	assert_int_equal(get(f->r, 200, 8, 23, NULL), -EIO);
	assert_int_equal(get(f->r, 200, 4, 23, NULL), 0);
}

/* A 65 MiB run is more than one SQE carries: it is split, and verified as a whole. */
static void huge_run_is_split_and_verified(void **state)
{
	enum { N = (65 << 20) / 4096 };
	char *dir = ((struct scratch *)*state)->dir, *b = pages(N);
	struct swap_file_desc d = desc(0, 0, N, "swap.0");
	uint64_t *sums = calloc(N, sizeof(*sums));
	struct swap_io io = { .frame = 0, .nframes = N, .buf = b, .sums_out = sums };
	struct swap_store *s;
	struct swap_ring *r;

	assert_int_equal(swap_open(dir, &d, 1, NULL, &s), 0);
	assert_int_equal(swap_grow(s, 0, N), 0);
	assert_int_equal(swap_ring_open(s, 0, &r), 0);
	fill(b, 0, N, 24);
	assert_int_equal(swap_write(r, &io, 1), 0);
	memset(b, 0, (size_t)N * PG);
	io = (struct swap_io){ .frame = 0, .nframes = N, .buf = b, .sums = sums };
	assert_int_equal(swap_read(r, &io, 1), 0);
	assert_true(matches(b, 0, N, 24));
	sums[N - 1] ^= 1; /* the last page, carried by the second SQE */
	assert_int_equal(swap_read(r, &io, 1), -EIO);
	assert_true(io.csum_bad);
	assert_int_equal(io.bad_page, N - 1);
	swap_ring_close(r);
	swap_close(s);
	free(sums);
	free(b);
}

struct worker {
	struct swap_store *s;
	uint64_t first;
	int failures;
};

/* Each thread: its own ring, 20 rounds of 8 runs of 8 frames written and read back. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct swap_ring *r;

	if (swap_ring_open(w->s, 64 * PG, &r)) {
		w->failures++;
		return NULL;
	}
	char *b = swap_ring_buf(r);
	uint64_t sums[64];
	for (uint64_t round = 0; round < 20; round++) {
		struct swap_io ios[8];
		for (unsigned i = 0; i < 8; i++) {
			ios[i] = (struct swap_io){ .frame = w->first + 8 * i, .nframes = 8,
						   .buf = b + 8 * i * PG, .sums_out = &sums[8 * i] };
			fill(ios[i].buf, ios[i].frame, 8, round);
		}
		w->failures += swap_write(r, ios, 8) != 0;
		memset(b, 0, 64 * PG);
		for (unsigned i = 0; i < 8; i++)
			ios[i].sums = &sums[8 * i];
		w->failures += swap_read(r, ios, 8) != 0;
		for (unsigned i = 0; i < 8; i++)
			w->failures += !matches(ios[i].buf, ios[i].frame, 8, round);
	}
	swap_ring_close(r);
	return NULL;
}

static void two_threads_with_own_rings_run_concurrently(void **state)
{
	struct fx *f = *state;
	struct worker w[2] = { { .s = f->s, .first = 0 }, { .s = f->s, .first = FILE_FRAMES + 64 } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(w[0].failures, 0);
	assert_int_equal(w[1].failures, 0);
	struct swap_stats st;
	swap_get_stats(f->s, &st);
	assert_int_equal(st.writes, 2 * 20 * 8);
	assert_int_equal(st.reads, 2 * 20 * 8);
}

static void reopen_keeps_data_and_length(void **state)
{
	struct fx *f = *state;
	uint64_t sums[2][8];
	struct swap_file_desc d[2] = { desc(0, 0, FILE_FRAMES, "swap.0"),
				       desc(1, FILE_FRAMES, FILE_FRAMES, "swap.1") };

	assert_int_equal(put(f->r, 33, 8, 20, sums[0]), 0);
	assert_int_equal(put(f->r, FILE_FRAMES + 33, 8, 20, sums[1]), 0);
	assert_int_equal(swap_sync(f->r), 0);
	swap_ring_close(f->r);
	swap_close(f->s);
	f->r = NULL;
	f->s = NULL;
	assert_int_equal(swap_open(f->dir, d, 2, NULL, &f->s), 0);
	assert_int_equal(swap_file_frames(f->s, 0), FILE_FRAMES);
	assert_int_equal(swap_file_frames(f->s, 1), FILE_FRAMES);
	assert_int_equal(swap_ring_open(f->s, 0, &f->r), 0);
	assert_int_equal(get(f->r, 33, 8, 20, sums[0]), 0);
	assert_int_equal(get(f->r, FILE_FRAMES + 33, 8, 20, sums[1]), 0);
}

static void open_rejects_clashing_or_bad_descriptors(void **state)
{
	char *dir = ((struct scratch *)*state)->dir;
	struct swap_store *s = NULL;
	struct swap_file_desc d[2] = { desc(0, 0, 100, "a"), desc(1, 99, 10, "b") };

	assert_int_equal(swap_open(dir, d, 2, NULL, &s), -EINVAL);   /* frame 99 in both */
	d[1] = desc(0, 100, 10, "b");
	assert_int_equal(swap_open(dir, d, 2, NULL, &s), -EEXIST);   /* index 0 twice */
	d[1] = desc(1, 100, 10, "a");
	assert_int_equal(swap_open(dir, d, 2, NULL, &s), -EEXIST);   /* name "a" twice */
	d[1] = desc(1, 100, 10, "x/y");
	assert_int_equal(swap_open(dir, d, 2, NULL, &s), -EINVAL);
	d[1] = desc(1, 100, 0, "b");
	assert_int_equal(swap_open(dir, d, 2, NULL, &s), -EINVAL);   /* empty range */
	assert_null(s);
	struct stat st;
	char *p = path_in(dir, "a");
	assert_int_equal(stat(p, &st), -1); /* a refused set creates no file */
	free(p);
	d[1] = desc(1, 100, 10, "b");
	assert_int_equal(swap_open(dir, d, 2, NULL, &s), 0);
	struct swap_file_desc e = desc(2, 105, 10, "c");
	assert_int_equal(swap_add_file(s, &e), -EINVAL);           /* overlaps "b" */
	assert_int_equal(swap_nfiles(s), 2);
	swap_close(s);
}

static void added_file_works_in_old_and_new_rings(void **state)
{
	struct fx *f = *state;
	struct swap_file_desc d = desc(7, 4096, 64, "swap.7");
	struct swap_ring *r2;
	uint64_t sums[4];

	assert_int_equal(swap_add_file(f->s, &d), 0);
	assert_int_equal(swap_nfiles(f->s), 3);
	assert_int_equal(swap_grow(f->s, 7, 64), 0);
	assert_int_equal(put(f->r, 4096 + 10, 4, 21, sums), 0); /* ring opened before the add */
	assert_int_equal(swap_ring_open(f->s, 0, &r2), 0);
	assert_int_equal(get(r2, 4096 + 10, 4, 21, sums), 0);
	assert_int_equal(swap_sync(r2), 0);
	/* The old ring's sync covers the added file too: its third fdatasync fails. */
	pfs_fault_arm(&f->faults, PFS_FAULT_FSYNC, 3);
	assert_int_equal(swap_sync(f->r), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_FSYNC]), 1);
	assert_int_equal(swap_sync(f->r), 0);
	swap_ring_close(r2);
}

/* ramfs refuses O_DIRECT and fallocate: buffered I/O and ftruncate growth. */
static void ramfs_falls_back_to_buffered_io_and_truncate(void **state)
{
	struct scratch *m = *state;
	char *dir = m->dir;
	struct swap_file_desc d = desc(0, 0, 64, "swap.0");
	struct swap_options o = { .chunk_bytes = 16 * PG };
	struct swap_store *s;
	struct swap_ring *r;
	uint64_t sums[8];

	if (mount("ramfs", dir, "ramfs", 0, NULL) != 0)
		skip(); /* needs root */
	m->at = strdup(dir);
	assert_int_equal(swap_open(dir, &d, 1, &o, &s), 0);
	assert_int_equal(swap_grow(s, 0, 20), 0);
	assert_int_equal(stat_of(dir, "swap.0").st_size, 32 * PG);
	assert_int_equal(swap_ring_open(s, 0, &r), 0);
	assert_int_equal(put(r, 4, 8, 22, sums), 0);
	assert_int_equal(get(r, 4, 8, 22, sums), 0);
	assert_int_equal(get(r, 32, 1, 22, NULL), -EIO);
	assert_int_equal(swap_discard(s, 4, 8), -EOPNOTSUPP);
	assert_int_equal(swap_sync(r), 0);
	swap_ring_close(r);
	swap_close(s);
	/* Nothing may hold the files once the store is closed (ring teardown is async). */
	assert_int_equal(umount(dir), 0);
	free(m->at);
	m->at = NULL;
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
#define SC(t) cmocka_unit_test_setup_teardown(t, sc_setup, sc_teardown)

/* The file pager reads backing files through the same ring. */
static void reads_any_file_through_the_ring(void **state)
{
	struct fx *f = *state;
	char path[512];
	uint8_t *data = malloc(3 * PG + 100), *back = malloc(4 * PG);

	assert_non_null(data);
	assert_non_null(back);
	for (size_t i = 0; i < 3 * PG + 100; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s/backing", f->dir);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, 3 * PG + 100), (ssize_t)(3 * PG + 100));
	/* From an offset, unaligned, across pages. */
	assert_int_equal(swap_ring_read_fd(f->r, fd, 1000, back, 2 * PG), (ssize_t)(2 * PG));
	assert_memory_equal(back, data + 1000, 2 * PG);
	/* Short at the end of the file, and nothing past it. */
	assert_int_equal(swap_ring_read_fd(f->r, fd, 2 * PG, back, 4 * PG), (ssize_t)(PG + 100));
	assert_memory_equal(back, data + 2 * PG, PG + 100);
	assert_int_equal(swap_ring_read_fd(f->r, fd, 10 * PG, back, PG), 0);
	close(fd);
	assert_int_equal(swap_ring_read_fd(f->r, fd, 0, back, PG), -EBADF);
	assert_int_equal(swap_ring_read_fd(f->r, -1, 0, back, PG), -EBADF);
	/* And the ring still does its own work afterwards. */
	uint8_t *page = pages(1);
	fill(page, 7, 1, 99);
	struct swap_io io = { .frame = 7, .nframes = 1, .buf = page };
	assert_int_equal(swap_write(f->r, &io, 1), 0);
	memset(page, 0, PG);
	assert_int_equal(swap_read(f->r, &io, 1), 0);
	assert_true(matches(page, 7, 1, 99));
	free(page);
	free(data);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(reads_back_a_single_page),
		FX(reads_any_file_through_the_ring),
		FX(reads_back_a_multi_page_run),
		FX(runs_more_than_ring_depth_in_one_call),
		FX(runs_in_two_files_in_one_call),
		FX(arena_and_plain_buffers_both_work),
		FX(write_reports_checksums_that_verify_the_read),
		FX(checksum_mismatch_fails_only_the_bad_run),
		FX(injected_short_read_is_completed),
		FX(injected_short_write_is_completed),
		FX(injected_write_error_is_reported_then_writes_work),
		FX(injected_read_error_fails_only_the_run_it_hit),
		FX(page_ok_marks_bad_pages_without_failing_the_run),
		FX(ring_whose_enter_failed_stays_unusable),
		FX(ring_dying_mid_call_leaves_no_page_ok),
		FX(injected_eagain_is_retried),
		FX(injected_fsync_error_is_reported_then_sync_works),
		SC(grows_in_whole_chunks_up_to_max),
		SC(grow_past_max_is_enospc_and_changes_nothing),
		SC(grow_on_a_full_disk_is_enospc_and_changes_nothing),
		FX(discard_frees_blocks_and_the_frames_work_again),
		FX(discard_across_files_is_einval),
		FX(run_crossing_a_file_boundary_is_einval),
		FX(bad_runs_are_einval),
		SC(past_the_allocated_end_read_is_eio_write_einval),
		FX(read_of_a_truncated_file_is_eio_not_zeros),
		SC(huge_run_is_split_and_verified),
		FX(two_threads_with_own_rings_run_concurrently),
		FX(reopen_keeps_data_and_length),
		SC(open_rejects_clashing_or_bad_descriptors),
		FX(added_file_works_in_old_and_new_rings),
		SC(ramfs_falls_back_to_buffered_io_and_truncate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
