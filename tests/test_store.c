/* Description: the store: page-out/page-in round trips, redirect-on-write commits, quota, checksums, faults, concurrency. */
/*
 * Each test gets a fresh store in a directory under /var/tmp (a disk file
 * system, so the swap files' O_DIRECT is real) with 1 MiB swap chunks and one
 * object created through the catalogue, as the daemon would (kind FILE under
 * the root, charged to the root memory control), so store_check can find the
 * object record for every object that has extents. Every page's contents
 * encode (object, page, version), so a page from the wrong object, place or
 * write is caught, and a reader can tell exactly which version it got.
 * Threads never call cmocka's assertions: they record the first failure in
 * their own result and the main thread asserts on it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalogue.h"
#include "extent.h"
#include "faults.h"
#include "store.h"
#include "testutil.h"

#define PG PFS_PAGE_SIZE
#define MIB ((uint64_t)1 << 20)
#define PAGE_MAGIC 0x70667370616765ULL /* "pfspage" */

struct fx {
	char *dir;
	struct store_options opt;
	struct pfs_faults faults;
	struct store *s;
	struct store_io *io;
	struct store_io *io2; /* a second thread's, when a test needs one */
	uint64_t obj; /* created in setup */
};

/* ---- page contents ---- */

/* Page `page` of object obj as written at `version` (> 0). */
static void fill_page(void *dst, uint64_t obj, uint64_t page, uint64_t version)
{
	uint64_t w[PG / 8];
	uint64_t st = (obj * 0x100000001b3ULL) ^ (page << 24) ^ (version * 0x9e3779b97f4a7c15ULL);

	w[0] = PAGE_MAGIC;
	w[1] = obj;
	w[2] = page;
	w[3] = version;
	for (size_t i = 4; i < PG / 8; i++)
		w[i] = tu_rand(&st);
	memcpy(dst, w, PG); /* dst need not be aligned */
}

static void fill_pages(void *dst, uint64_t obj, uint64_t first, uint32_t n, uint64_t version)
{
	for (uint32_t i = 0; i < n; i++)
		fill_page((char *)dst + i * PG, obj, first + i, version);
}

/*
 * Which version of page `page` of obj do these bytes hold? 0 for a zero page,
 * -1 for anything that is neither zeros nor exactly one written version.
 */
static int64_t page_version(const void *src, uint64_t obj, uint64_t page)
{
	uint64_t w[4];
	static const uint8_t zero[PG];
	uint8_t want[PG];

	if (memcmp(src, zero, PG) == 0)
		return 0;
	memcpy(w, src, sizeof(w));
	if (w[0] != PAGE_MAGIC || w[1] != obj || w[2] != page || w[3] == 0 || w[3] > INT64_MAX)
		return -1;
	fill_page(want, obj, page, w[3]);
	return memcmp(src, want, PG) == 0 ? (int64_t)w[3] : -1;
}

static void *pages(uint32_t n)
{
	void *p = aligned_alloc(PG, (size_t)n * PG);
	assert_non_null(p);
	memset(p, 0xa5, (size_t)n * PG);
	return p;
}

/* Page in [first, first + n) of obj and assert every page holds version v[i] (or all `version`). */
static void expect_versions(struct store_io *io, uint64_t obj, uint64_t first, uint32_t n,
			    const uint64_t *v, uint64_t version)
{
	uint8_t *buf = pages(n);

	assert_int_equal(store_page_in(io, obj, first, n, buf, NULL), 0);
	for (uint32_t i = 0; i < n; i++) {
		int64_t got = page_version(buf + (size_t)i * PG, obj, first + i);
		int64_t want = (int64_t)(v ? v[i] : version);
		if (got != want)
			fail_msg("object %llu page %llu: version %lld, want %lld",
				 (unsigned long long)obj, (unsigned long long)(first + i),
				 (long long)got, (long long)want);
	}
	free(buf);
}

static void page_out(struct store_io *io, uint64_t obj, uint64_t first, uint32_t n, uint64_t version)
{
	uint8_t *buf = pages(n);

	fill_pages(buf, obj, first, n, version);
	assert_int_equal(store_page_out(io, obj, CAT_ROOT_ID, first, n, buf), 0);
	free(buf);
}

static void assert_store_ok(struct store *s)
{
	char why[256] = "";

	if (store_check(s, why, sizeof(why)) != 0)
		fail_msg("store_check: %s", why);
}

/* Frames holding data (or otherwise not free) in the grown swap space. */
static uint64_t used_frames(struct store *s)
{
	struct store_stats st;

	store_get_stats(s, &st);
	assert_true(st.free_frames <= st.swap_frames);
	return st.swap_frames - st.free_frames;
}

/* ---- objects ---- */

struct new_obj {
	const char *name;
	uint64_t id;
};

static int new_object_fn(struct cat_txn *txn, void *arg)
{
	struct new_obj *no = arg;
	struct cat_object o;
	int rc = cat_alloc_id(txn, &no->id);

	if (rc < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.id = no->id;
	o.parent = CAT_ROOT_ID;
	o.kind = CAT_KIND_FILE;
	snprintf(o.name, sizeof(o.name), "%s", no->name);
	o.memctl = CAT_ROOT_ID;
	o.mode = 0100644;
	if ((rc = cat_object_put(txn, &o)) < 0)
		return rc;
	return cat_name_put(txn, CAT_ROOT_ID, o.name, o.id);
}

static uint64_t new_object(struct store *s, const char *name)
{
	struct new_obj no = { name, 0 };

	assert_int_equal(cat_write(store_cat(s), new_object_fn, &no), 0);
	assert_true(no.id != 0);
	return no.id;
}

/* ---- fixture ---- */

static void fx_open(struct fx *f)
{
	assert_int_equal(store_open(f->dir, &f->opt, &f->s), 0);
	assert_int_equal(store_io_open(f->s, &f->io), 0);
}

static void fx_close(struct fx *f)
{
	store_io_close(f->io);
	f->io = NULL;
	assert_int_equal(store_close(f->s), 0);
	f->s = NULL;
}

static void fx_reopen(struct fx *f)
{
	fx_close(f);
	fx_open(f);
}

static int fx_setup_with(void **state, uint64_t swap_max_bytes)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir("store");
	f->opt.swap_chunk_bytes = MIB;
	f->opt.swap_max_bytes = swap_max_bytes;
	f->opt.faults = &f->faults;
	fx_open(f);
	f->obj = new_object(f->s, "obj");
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_with(state, 0);
}

/* A store capped at 1 MiB: 256 frames. */
static int fx_setup_1mib(void **state)
{
	return fx_setup_with(state, MIB);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->io2)
		store_io_close(f->io2);
	if (f->io)
		store_io_close(f->io);
	if (f->s)
		store_close(f->s);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- round trips ---- */

static void one_page_round_trips(void **state)
{
	struct fx *f = *state;

	page_out(f->io, f->obj, 0, 1, 1);
	expect_versions(f->io, f->obj, 0, 1, NULL, 1);
	page_out(f->io, f->obj, 12345678, 1, 2);
	expect_versions(f->io, f->obj, 12345678, 1, NULL, 2);
	expect_versions(f->io, f->obj, 0, 1, NULL, 1);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 1, NULL, 1);
	expect_versions(f->io, f->obj, 12345678, 1, NULL, 2);
	assert_store_ok(f->s);
}

static void largest_run_round_trips(void **state)
{
	struct fx *f = *state;
	struct store_stats st;

	page_out(f->io, f->obj, 1000, STORE_IO_MAX_PAGES, 7);
	expect_versions(f->io, f->obj, 1000, STORE_IO_MAX_PAGES, NULL, 7);
	/* Runs that start and end inside the written range. */
	expect_versions(f->io, f->obj, 1001, 17, NULL, 7);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 1000, STORE_IO_MAX_PAGES, NULL, 7);
	expect_versions(f->io, f->obj, 1100, 100, NULL, 7);
	store_get_stats(f->s, &st);
	assert_int_equal(st.pages_out, STORE_IO_MAX_PAGES);
	assert_int_equal(st.page_outs, 1);
	assert_int_equal(st.pending_pages, 0);
	assert_int_equal(used_frames(f->s), STORE_IO_MAX_PAGES);
	assert_store_ok(f->s);
}

static void unaligned_data_round_trips(void **state)
{
	struct fx *f = *state;
	uint32_t n = 5;
	uint8_t *raw = malloc((size_t)n * PG + 64);

	assert_non_null(raw);
	for (size_t off = 1; off < 64; off += 21) {
		fill_pages(raw + off, f->obj, 10 * off, n, off);
		assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 10 * off, n, raw + off), 0);
	}
	for (size_t off = 1; off < 64; off += 21)
		expect_versions(f->io, f->obj, 10 * off, n, NULL, off);
	assert_int_equal(store_commit(f->s), 0);
	for (size_t off = 1; off < 64; off += 21)
		expect_versions(f->io, f->obj, 10 * off, n, NULL, off);
	free(raw);
	assert_store_ok(f->s);
}

static void io_arena_round_trips_without_a_copy(void **state)
{
	struct fx *f = *state;
	uint8_t *arena = store_io_buf(f->io);
	uint64_t v[8] = { 0, 3, 3, 3, 3, 0, 0, 0 };

	assert_non_null(arena);
	assert_int_equal((uintptr_t)arena % PG, 0);
	fill_pages(arena, f->obj, 1, 4, 3);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 1, 4, arena), 0);
	memset(arena, 0xa5, 8 * PG);
	/* A page-in into the arena itself: swap pages and zero pages land in place. */
	assert_int_equal(store_page_in(f->io, f->obj, 0, 8, arena, NULL), 0);
	for (uint64_t p = 0; p < 8; p++)
		assert_int_equal(page_version(arena + p * PG, f->obj, p), v[p]);
	assert_int_equal(store_commit(f->s), 0);
	memset(arena, 0xa5, 8 * PG);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 8, arena, NULL), 0);
	for (uint64_t p = 0; p < 8; p++)
		assert_int_equal(page_version(arena + p * PG, f->obj, p), v[p]);
	expect_versions(f->io, f->obj, 0, 8, v, 0);
}

static void unwritten_pages_read_as_zeros(void **state)
{
	struct fx *f = *state;
	uint64_t v[12] = { 0 };

	/* A never-written object, and one the catalogue has never heard of. */
	expect_versions(f->io, f->obj, 0, 12, v, 0);
	expect_versions(f->io, f->obj, UINT64_MAX - 12, 12, v, 0);
	expect_versions(f->io, 999999, 5, 12, v, 0);
	/* Holes around and between written runs, before and after a commit. */
	page_out(f->io, f->obj, 3, 2, 4);
	page_out(f->io, f->obj, 8, 1, 5);
	v[3] = v[4] = 4;
	v[8] = 5;
	expect_versions(f->io, f->obj, 0, 12, v, 0);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 12, v, 0);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 12, v, 0);
	assert_store_ok(f->s);
}

/* ---- FILE runs ---- */

struct file_calls {
	unsigned n;
	uint64_t first[16];
	uint32_t npages[16];
};

/* Backing page p reads as version p + 1000 of page p of object 0. */
static int backing_page_in(void *ctx, const struct pager_run *run)
{
	struct file_calls *c = ctx;

	if (c->n < PFS_ARRAY_SIZE(c->first)) {
		c->first[c->n] = run->base;
		c->npages[c->n] = run->npages;
	}
	c->n++;
	for (uint32_t i = 0; i < run->npages; i++)
		fill_page((char *)run->buf + (size_t)i * PG, 0, run->base + i, run->base + i + 1000);
	return 0;
}

static const struct pager_ops backing_ops = { .name = "test backing", .page_in = backing_page_in };

static void file_runs_read_the_backing_page(void **state)
{
	struct fx *f = *state;
	struct file_calls calls = { 0 };
	const struct pager backing = { &backing_ops, &calls };
	uint8_t *buf = pages(12);

	/* Pages [10, 15) are backing pages [100, 105); a swap page sits at 13. */
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 10, 5, PMAP_FILE, 100), 0);
	page_out(f->io, f->obj, 13, 1, 9);
	for (int round = 0; round < 2; round++) {
		memset(&calls, 0, sizeof(calls));
		assert_int_equal(store_page_in(f->io, f->obj, 6, 12, buf, &backing), 0);
		for (uint64_t p = 6; p < 18; p++) {
			const uint8_t *pg = buf + (p - 6) * PG;
			if (p >= 10 && p < 15 && p != 13)
				assert_int_equal(page_version(pg, 0, p + 90), p + 90 + 1000);
			else
				assert_int_equal(page_version(pg, f->obj, p), p == 13 ? 9 : 0);
		}
		/* Two FILE runs, [10, 13) from 100 and [14, 15) from 104: the file pager is asked
		 * for exactly those backing pages, each once (per run or per page). */
		assert_true(calls.n >= 2 && calls.n <= 4);
		uint32_t total = 0;
		for (unsigned c = 0; c < calls.n; c++) {
			uint64_t end = calls.first[c] + calls.npages[c];
			assert_true((calls.first[c] >= 100 && end <= 103) ||
				    (calls.first[c] == 104 && end == 105));
			total += calls.npages[c];
		}
		assert_int_equal(total, 4);
		assert_int_equal(store_commit(f->s), 0);
		fx_reopen(f);
	}
	assert_store_ok(f->s);
	free(buf);
}

static int failing_page_in(void *ctx, const struct pager_run *run)
{
	(void)ctx;
	(void)run;
	return -ESTALE;
}

static void file_run_without_a_file_pager_is_eio(void **state)
{
	struct fx *f = *state;
	static const struct pager_ops failing_ops = { .name = "failing", .page_in = failing_page_in };
	const struct pager failing = { &failing_ops, NULL };
	uint8_t *buf = pages(4);

	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 2, 1, PMAP_FILE, 7), 0);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, NULL), -EIO);
	/* Pages outside the FILE run still read without a file pager. */
	expect_versions(f->io, f->obj, 0, 2, NULL, 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_page_in(f->io, f->obj, 2, 1, buf, NULL), -EIO);
	/* A pager's own error is the page-in's. */
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, &failing), -ESTALE);
	assert_store_ok(f->s);
	free(buf);
}

/* Backs only the first 3 pages of any run it is asked for. */
static uint32_t three_pages_run_length(void *ctx, uint64_t base, uint32_t npages)
{
	(void)ctx;
	(void)base;
	return PFS_MIN(npages, 3u);
}

static void file_run_beyond_what_its_pager_backs_is_zeros(void **state)
{
	struct fx *f = *state;
	struct file_calls calls = { 0 };
	static const struct pager_ops short_ops = {
		.name = "three pages", .page_in = backing_page_in,
		.run_length = three_pages_run_length };
	const struct pager backing = { &short_ops, &calls };
	uint8_t *buf = pages(8);

	/* Pages [1, 7) are backing pages [50, 56); the pager backs [50, 53). */
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 1, 6, PMAP_FILE, 50), 0);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 8, buf, &backing), 0);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.first[0], 50);
	assert_int_equal(calls.npages[0], 3);
	/* pages() filled buf with 0xa5: zeros are written, not left. */
	for (uint64_t p = 0; p < 8; p++)
		assert_int_equal(page_version(buf + p * PG, 0, p + 49), p >= 1 && p < 4 ? p + 49 + 1000 : 0);
	free(buf);
}

/* ---- durability ---- */

static void committed_data_survives_reopen(void **state)
{
	struct fx *f = *state;
	uint64_t other = new_object(f->s, "other");
	struct store_stats st;

	page_out(f->io, f->obj, 0, 64, 1);
	page_out(f->io, other, 0, 64, 2);
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.pending_pages, 0);
	assert_true(st.commits >= 1);
	uint64_t used = used_frames(f->s);
	assert_int_equal(used, 128);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 64, NULL, 1);
	expect_versions(f->io, other, 0, 64, NULL, 2);
	assert_int_equal(used_frames(f->s), used);
	assert_store_ok(f->s);
}

static void close_commits_pending_pages(void **state)
{
	struct fx *f = *state;
	struct store_stats st;

	page_out(f->io, f->obj, 0, 3, 1);
	page_out(f->io, f->obj, 40, 2, 2);
	store_get_stats(f->s, &st);
	assert_int_equal(st.pending_pages, 5);
	fx_reopen(f); /* fx_close asserts store_close returned 0 */
	expect_versions(f->io, f->obj, 0, 3, NULL, 1);
	expect_versions(f->io, f->obj, 40, 2, NULL, 2);
	store_get_stats(f->s, &st);
	assert_int_equal(st.pending_pages, 0);
	assert_int_equal(used_frames(f->s), 5);
	assert_store_ok(f->s);
}

static void overwrites_read_newest_and_leak_no_frames(void **state)
{
	struct fx *f = *state;
	uint64_t v[32] = { 0 }, ver = 0;

	for (int cycle = 0; cycle < 8; cycle++) {
		/* Whole range twice, then pieces that split and rejoin extents. */
		for (int k = 0; k < 2; k++) {
			page_out(f->io, f->obj, 0, 32, ++ver);
			for (int i = 0; i < 32; i++)
				v[i] = ver;
		}
		for (int k = 0; k < 4; k++) {
			uint64_t first = (uint64_t)(cycle * 7 + k * 5) % 30;
			uint32_t n = 1 + (uint32_t)(k + cycle) % 3;
			page_out(f->io, f->obj, first, n, ++ver);
			for (uint64_t i = first; i < first + n; i++)
				v[i] = ver;
		}
		expect_versions(f->io, f->obj, 0, 32, v, 0);
		assert_int_equal(store_commit(f->s), 0);
		expect_versions(f->io, f->obj, 0, 32, v, 0);
		assert_store_ok(f->s);
		/* Every overwritten frame is free again once the commit is done. */
		assert_int_equal(used_frames(f->s), 32);
		/* And overwrite a committed page again right after the commit. */
		page_out(f->io, f->obj, (uint64_t)cycle, 1, ++ver);
		v[cycle] = ver;
		expect_versions(f->io, f->obj, 0, 32, v, 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), 32);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 32, v, 0);
	assert_int_equal(used_frames(f->s), 32);
	assert_store_ok(f->s);
}

static void zeroed_range_reads_zeros_and_frees_frames(void **state)
{
	struct fx *f = *state;
	uint64_t v[16];

	page_out(f->io, f->obj, 0, 16, 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), 16);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 4, 8, PMAP_ZERO, 0), 0);
	for (int i = 0; i < 16; i++)
		v[i] = (i >= 4 && i < 12) ? 0 : 1;
	expect_versions(f->io, f->obj, 0, 16, v, 0);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 16, v, 0);
	assert_int_equal(used_frames(f->s), 8);
	assert_store_ok(f->s);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 16, v, 0);
	assert_int_equal(used_frames(f->s), 8);
	assert_store_ok(f->s);
}

static void zeroing_pending_pages_frees_their_frames(void **state)
{
	struct fx *f = *state;
	uint64_t v[8] = { 0 };

	page_out(f->io, f->obj, 0, 8, 1);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 6, PMAP_ZERO, 0), 0);
	v[6] = v[7] = 1;
	expect_versions(f->io, f->obj, 0, 8, v, 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), 2);
	assert_store_ok(f->s);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 8, v, 0);
	assert_int_equal(used_frames(f->s), 2);
}

/* ---- quota ---- */

static void full_store_is_enospc_and_keeps_what_it_has(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = pages(16);
	uint64_t stored = 0;
	int rc = 0;

	/* 300 distinct pages into 256 frames: the first that does not fit fails, and so does every later one. */
	for (uint64_t p = 0; p < 300; p++) {
		fill_page(buf, f->obj, p, 1);
		rc = store_page_out(f->io, f->obj, CAT_ROOT_ID, p, 1, buf);
		if (rc != 0)
			break;
		stored++;
	}
	assert_int_equal(rc, -ENOSPC);
	print_message("# %llu pages fit in a 1 MiB store\n", (unsigned long long)stored);
	assert_true(stored >= 128 && stored <= 256);
	for (uint64_t p = stored; p < 300; p++) {
		fill_page(buf, f->obj, p, 1);
		assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, p, 1, buf), -ENOSPC);
	}
	for (uint64_t p = 0; p < stored; p += 16)
		expect_versions(f->io, f->obj, p, (uint32_t)PFS_MIN(16, stored - p), NULL, 1);
	expect_versions(f->io, f->obj, stored, (uint32_t)(300 - stored), NULL, 0);

	/* Overwrites charge nothing new, so they must still succeed: redirect-on-write
	 * needs free frames, which the store gets by committing to free the old ones. */
	for (uint64_t p = 0; p < stored; p++) {
		fill_page(buf, f->obj, p, 2);
		rc = store_page_out(f->io, f->obj, CAT_ROOT_ID, p, 1, buf);
		if (rc != 0)
			fail_msg("overwriting page %llu of a full store: %d", (unsigned long long)p, rc);
	}
	for (uint64_t p = 0; p < stored; p += 16)
		expect_versions(f->io, f->obj, p, (uint32_t)PFS_MIN(16, stored - p), NULL, 2);
	assert_int_equal(store_commit(f->s), 0);
	assert_store_ok(f->s);
	assert_int_equal(used_frames(f->s), stored);

	/* Still full for new pages. A run that does not fit changes nothing; freeing 8 pages makes room for 8. */
	fill_pages(buf, f->obj, 400, 8, 3);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 400, 8, buf), -ENOSPC);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 8, PMAP_ZERO, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	fill_pages(buf, f->obj, 400, 16, 3);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 400, 16, buf), -ENOSPC);
	expect_versions(f->io, f->obj, 400, 16, NULL, 0);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 400, 8, buf), 0);
	expect_versions(f->io, f->obj, 400, 8, NULL, 3);
	expect_versions(f->io, f->obj, 0, 8, NULL, 0);
	expect_versions(f->io, f->obj, 8, 8, NULL, 2);
	assert_int_equal(store_commit(f->s), 0);
	assert_store_ok(f->s);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 400, 8, NULL, 3);
	expect_versions(f->io, f->obj, 8, 8, NULL, 2);
	assert_int_equal(used_frames(f->s), stored);
	assert_store_ok(f->s);
	free(buf);
}

/* ---- checksums ---- */

/* Byte offset in dir/name of the page holding `want`, or -1. */
static off_t find_page_in_file(const char *dir, const char *name, const void *want)
{
	char path[512];
	uint8_t *buf = pages(1);
	off_t found = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (off_t off = 0; pread(fd, buf, PG, off) == (ssize_t)PG; off += (off_t)PG) {
		if (memcmp(buf, want, PG) == 0) {
			found = off;
			break;
		}
	}
	close(fd);
	free(buf);
	return found;
}

static void corrupt_byte(const char *dir, const char *name, off_t off)
{
	char path[512];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static void corrupted_frame_is_eio_and_counted(void **state)
{
	struct fx *f = *state;
	uint8_t *want = pages(1), *buf = pages(4);
	struct store_stats st;
	off_t off;

	page_out(f->io, f->obj, 0, 4, 1);
	fx_close(f);
	fill_page(want, f->obj, 0, 1);
	off = find_page_in_file(f->dir, "swap.0", want);
	assert_true(off >= 0);
	print_message("# page 0 is at byte %lld of swap.0\n", (long long)off);
	corrupt_byte(f->dir, "swap.0", off + 1000);
	fx_open(f);
	store_get_stats(f->s, &st);
	assert_int_equal(st.csum_errors, 0);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 1, buf, NULL), -EIO);
	store_get_stats(f->s, &st);
	assert_int_equal(st.csum_errors, 1);
	/* The other pages of the same run are fine, alone and together. */
	expect_versions(f->io, f->obj, 1, 3, NULL, 1);
	expect_versions(f->io, f->obj, 3, 1, NULL, 1);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, NULL), -EIO);
	/* The catalogue is consistent; only the data is bad. */
	assert_store_ok(f->s);
	/* Overwriting the bad page cures it. */
	page_out(f->io, f->obj, 0, 1, 2);
	expect_versions(f->io, f->obj, 0, 1, NULL, 2);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 1, NULL, 2);
	free(want);
	free(buf);
}

/* ---- injected faults ---- */

static void write_error_is_eio_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = pages(8);
	struct store_stats before, after;

	page_out(f->io, f->obj, 0, 8, 1);
	assert_int_equal(store_commit(f->s), 0);
	page_out(f->io, f->obj, 0, 4, 2); /* pending over committed */
	store_get_stats(f->s, &before);
	fill_pages(buf, f->obj, 0, 8, 3);
	pfs_fault_arm(&f->faults, PFS_FAULT_WRITE, 1);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 0, 8, buf), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_WRITE]), 1);
	store_get_stats(f->s, &after);
	assert_int_equal(after.pending_pages, before.pending_pages);
	expect_versions(f->io, f->obj, 0, 4, NULL, 2);
	expect_versions(f->io, f->obj, 4, 4, NULL, 1);
	assert_store_ok(f->s);
	/* Nothing leaked: after a commit only the 8 live pages hold frames. */
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), 8);
	/* And the store goes on working. */
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 0, 8, buf), 0);
	expect_versions(f->io, f->obj, 0, 8, NULL, 3);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 8, NULL, 3);
	assert_int_equal(used_frames(f->s), 8);
	assert_store_ok(f->s);
	free(buf);
}

static void read_error_is_eio_and_counted(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = pages(4);
	struct store_stats a, b;

	page_out(f->io, f->obj, 0, 4, 1);
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &a);
	pfs_fault_arm(&f->faults, PFS_FAULT_READ, 1);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, NULL), -EIO);
	store_get_stats(f->s, &b);
	assert_int_equal(b.io_errors - a.io_errors, 1);
	assert_int_equal(b.csum_errors, a.csum_errors);
	/* Only that read failed. */
	expect_versions(f->io, f->obj, 0, 4, NULL, 1);
	assert_store_ok(f->s);
	free(buf);
}

static void short_transfers_are_completed(void **state)
{
	struct fx *f = *state;

	pfs_fault_arm(&f->faults, PFS_FAULT_SHORT, 1);
	page_out(f->io, f->obj, 0, 32, 1);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_SHORT]), 1);
	pfs_fault_arm(&f->faults, PFS_FAULT_SHORT, 1);
	expect_versions(f->io, f->obj, 0, 32, NULL, 1);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_SHORT]), 2);
	assert_int_equal(store_commit(f->s), 0);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 32, NULL, 1);
}

/*
 * A commit that fails at `kind` returns the error and keeps everything
 * pending and readable; page-outs made after the failure merge over it; the
 * next commit makes all of it durable and frees exactly the replaced frames.
 */
static void failed_commit_keeps_pending(struct fx *f, enum pfs_fault_kind kind)
{
	struct store_stats st;
	uint64_t v[24];

	page_out(f->io, f->obj, 0, 24, 1);
	assert_int_equal(store_commit(f->s), 0);
	page_out(f->io, f->obj, 0, 16, 2);
	pfs_fault_arm(&f->faults, kind, 1);
	assert_int_equal(store_commit(f->s), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[kind]), 1);
	store_get_stats(f->s, &st);
	assert_int_equal(st.commit_failures, 1);
	assert_int_equal(st.pending_pages, 16);
	expect_versions(f->io, f->obj, 0, 16, NULL, 2);
	expect_versions(f->io, f->obj, 16, 8, NULL, 1);
	assert_store_ok(f->s);
	/* More page-outs over the pages whose commit failed. */
	page_out(f->io, f->obj, 8, 12, 3);
	for (int i = 0; i < 24; i++)
		v[i] = i < 8 ? 2 : i < 20 ? 3 : 1;
	expect_versions(f->io, f->obj, 0, 24, v, 0);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 24, v, 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.pending_pages, 0);
	assert_int_equal(used_frames(f->s), 24);
	assert_store_ok(f->s);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 24, v, 0);
	assert_int_equal(used_frames(f->s), 24);
	assert_store_ok(f->s);
}

/*
 * A failed swap sync is not retried: Linux reports a write-back error to one
 * fsync only, so a second sync could succeed over frames that never reached
 * the disk. The store refuses to go on (EIO) until it is reopened, which
 * recovers the last commit; the pages whose sync failed were never
 * acknowledged, and nothing that was is lost.
 */
static void failed_swap_sync_stops_the_store_until_reopened(void **state)
{
	struct fx *f = *state;
	uint64_t v[24];

	page_out(f->io, f->obj, 0, 24, 1);
	assert_int_equal(store_commit(f->s), 0);
	page_out(f->io, f->obj, 0, 16, 2);
	pfs_fault_arm(&f->faults, PFS_FAULT_FSYNC, 1);
	assert_int_equal(store_commit(f->s), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_FSYNC]), 1);
	/* Sticky: no retry can claim durability, no new page-out is taken. */
	assert_int_equal(store_commit(f->s), -EIO);
	uint8_t *buf = aligned_alloc(PG, PG);
	memset(buf, 1, PG);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 30, 1, buf), -EIO);
	free(buf);
	assert_store_ok(f->s); /* the committed state is intact */
	store_io_close(f->io);
	f->io = NULL;
	assert_int_equal(store_close(f->s), -EIO); /* its final commit fails too */
	f->s = NULL;
	fx_open(f);
	for (int i = 0; i < 24; i++)
		v[i] = 1;
	expect_versions(f->io, f->obj, 0, 24, v, 0); /* the last commit, whole */
	assert_store_ok(f->s);
	page_out(f->io, f->obj, 0, 4, 3); /* and the reopened store works */
	assert_int_equal(store_commit(f->s), 0);
}

static void failed_catalogue_commit_keeps_pending(void **state)
{
	failed_commit_keeps_pending(*state, PFS_FAULT_COMMIT);
}

/* ---- concurrency ---- */

#define GC_THREADS 4
#define GC_ROUNDS 40
#define GC_PAGES 16

struct gc_thread {
	struct fx *f;
	int t;
	uint64_t own, shared;
	char err[200];
};

static void *group_commit_thread(void *arg)
{
	struct gc_thread *g = arg;
	struct store_io *io;
	uint8_t *buf = aligned_alloc(PG, GC_PAGES * PG);
	int rc;

	if ((rc = store_io_open(g->f->s, &io)) != 0) {
		snprintf(g->err, sizeof(g->err), "store_io_open: %d", rc);
		free(buf);
		return NULL;
	}
	for (uint64_t r = 1; r <= GC_ROUNDS && !g->err[0]; r++) {
		uint64_t first = (r * 5) % GC_PAGES;
		uint32_t n = (uint32_t)(GC_PAGES - first);
		/* Its own object, then its 4 pages of the shared one. */
		fill_pages(buf, g->own, first, n, r);
		if ((rc = store_page_out(io, g->own, CAT_ROOT_ID, first, n, buf)) != 0)
			snprintf(g->err, sizeof(g->err), "page out own round %llu: %d", (unsigned long long)r, rc);
		fill_pages(buf, g->shared, (uint64_t)g->t * 4, 4, r);
		if (!g->err[0] && (rc = store_page_out(io, g->shared, CAT_ROOT_ID, (uint64_t)g->t * 4, 4, buf)) != 0)
			snprintf(g->err, sizeof(g->err), "page out shared round %llu: %d", (unsigned long long)r, rc);
		if (!g->err[0] && (rc = store_commit(g->f->s)) != 0)
			snprintf(g->err, sizeof(g->err), "commit round %llu: %d", (unsigned long long)r, rc);
		if (!g->err[0] && (rc = store_page_in(io, g->own, first, n, buf, NULL)) != 0)
			snprintf(g->err, sizeof(g->err), "page in round %llu: %d", (unsigned long long)r, rc);
		for (uint32_t i = 0; i < n && !g->err[0]; i++)
			if (page_version(buf + (size_t)i * PG, g->own, first + i) != (int64_t)r)
				snprintf(g->err, sizeof(g->err), "round %llu page %llu: wrong contents",
					 (unsigned long long)r, (unsigned long long)(first + i));
	}
	store_io_close(io);
	free(buf);
	return NULL;
}

/* The version the last round left on page p of a thread's own object. */
static uint64_t gc_final_version(uint64_t p)
{
	for (uint64_t r = GC_ROUNDS; r >= 1; r--)
		if (p >= (r * 5) % GC_PAGES)
			return r;
	return 0;
}

static void concurrent_page_outs_and_commits_all_land(void **state)
{
	struct fx *f = *state;
	struct gc_thread g[GC_THREADS];
	pthread_t th[GC_THREADS];
	uint64_t shared = new_object(f->s, "shared"), v[GC_PAGES];
	struct store_stats st;

	for (int t = 0; t < GC_THREADS; t++) {
		char name[32];
		snprintf(name, sizeof(name), "own-%d", t);
		g[t] = (struct gc_thread){ .f = f, .t = t, .own = new_object(f->s, name), .shared = shared };
	}
	for (int t = 0; t < GC_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, group_commit_thread, &g[t]), 0);
	for (int t = 0; t < GC_THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < GC_THREADS; t++)
		if (g[t].err[0])
			fail_msg("thread %d: %s", t, g[t].err);
	store_get_stats(f->s, &st);
	print_message("# %llu commits for %d store_commit calls\n", (unsigned long long)st.commits,
		      GC_THREADS * GC_ROUNDS);
	assert_int_equal(st.pending_pages, 0);
	assert_store_ok(f->s);
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t p = 0; p < GC_PAGES; p++)
			v[p] = gc_final_version(p);
		for (int t = 0; t < GC_THREADS; t++)
			expect_versions(f->io, g[t].own, 0, GC_PAGES, v, 0);
		expect_versions(f->io, shared, 0, GC_PAGES, NULL, GC_ROUNDS);
		assert_int_equal(used_frames(f->s), GC_THREADS * GC_PAGES + GC_PAGES);
		fx_reopen(f);
	}
	assert_store_ok(f->s);
}

#define RW_PAGES 64
#define RW_WRITES 300

struct rw_shared {
	struct fx *f;
	_Atomic uint64_t started[RW_PAGES]; /* newest version a page-out has begun to write */
	_Atomic uint64_t done[RW_PAGES];    /* newest version whose page-out returned */
	atomic_bool writer_done;
	bool sequential; /* the reader reads 8-page windows in order, wrapping */
	char werr[200];
	char rerr[200];
	uint64_t reads;
};

static void *rw_writer(void *arg)
{
	struct rw_shared *sh = arg;
	struct store_io *io;
	uint8_t *buf = aligned_alloc(PG, 16 * PG);
	uint64_t rng = 42;
	int rc;

	if ((rc = store_io_open(sh->f->s, &io)) != 0) {
		snprintf(sh->werr, sizeof(sh->werr), "store_io_open: %d", rc);
		goto out;
	}
	for (uint64_t ver = 1; ver <= RW_WRITES; ver++) {
		uint64_t first = tu_rand(&rng) % RW_PAGES;
		uint64_t len = 1 + tu_rand(&rng) % 16; /* not inside PFS_MIN: it evaluates twice */
		uint32_t n = (uint32_t)PFS_MIN(len, RW_PAGES - first);

		fill_pages(buf, sh->f->obj, first, n, ver);
		for (uint32_t i = 0; i < n; i++)
			atomic_store(&sh->started[first + i], ver);
		if ((rc = store_page_out(io, sh->f->obj, CAT_ROOT_ID, first, n, buf)) != 0) {
			snprintf(sh->werr, sizeof(sh->werr), "page out v%llu: %d", (unsigned long long)ver, rc);
			break;
		}
		for (uint32_t i = 0; i < n; i++)
			atomic_store(&sh->done[first + i], ver);
		if (ver % 7 == 0 && (rc = store_commit(sh->f->s)) != 0) {
			snprintf(sh->werr, sizeof(sh->werr), "commit after v%llu: %d", (unsigned long long)ver, rc);
			break;
		}
	}
	store_io_close(io);
out:
	atomic_store(&sh->writer_done, true);
	free(buf);
	return NULL;
}

static void *rw_reader(void *arg)
{
	struct rw_shared *sh = arg;
	struct store_io *io;
	uint8_t *buf = aligned_alloc(PG, RW_PAGES * PG);
	uint64_t lo[RW_PAGES], rng = 7, pos = 0;
	int rc;

	if ((rc = store_io_open(sh->f->s, &io)) != 0) {
		snprintf(sh->rerr, sizeof(sh->rerr), "store_io_open: %d", rc);
		free(buf);
		return NULL;
	}
	while (!atomic_load(&sh->writer_done) && !sh->rerr[0]) {
		uint64_t first = sh->sequential ? pos : tu_rand(&rng) % RW_PAGES;
		uint32_t n = sh->sequential ? 8 : (uint32_t)(1 + tu_rand(&rng) % (RW_PAGES - first));

		pos = (first + n) % RW_PAGES;
		for (uint32_t i = 0; i < n; i++)
			lo[i] = atomic_load(&sh->done[first + i]);
		if ((rc = store_page_in(io, sh->f->obj, first, n, buf, NULL)) != 0) {
			snprintf(sh->rerr, sizeof(sh->rerr), "page in [%llu, +%u): %d",
				 (unsigned long long)first, n, rc);
			break;
		}
		sh->reads++;
		if (sh->sequential)
			usleep(100); /* a process works through what it read: read-ahead gets ahead */
		for (uint32_t i = 0; i < n; i++) {
			uint64_t p = first + i, hi = atomic_load(&sh->started[p]);
			int64_t got = page_version(buf + (size_t)i * PG, sh->f->obj, p);
			/* A version is only ever written to the pages its run covers, so a
			 * page that decodes to a version in [lo, hi] is that version's page. */
			if (got < 0 || (uint64_t)got < lo[i] || (uint64_t)got > hi) {
				snprintf(sh->rerr, sizeof(sh->rerr),
					 "page %llu read version %lld, outside [%llu, %llu]",
					 (unsigned long long)p, (long long)got, (unsigned long long)lo[i],
					 (unsigned long long)hi);
				break;
			}
		}
	}
	store_io_close(io);
	free(buf);
	return NULL;
}

/* Returns the store's counters as they were before the final reopen. */
static struct store_stats rw_run(struct fx *f, bool sequential)
{
	struct store_stats st;
	struct rw_shared *sh = calloc(1, sizeof(*sh));
	pthread_t w, r;
	uint64_t v[RW_PAGES];

	sh->f = f;
	sh->sequential = sequential;
	assert_int_equal(pthread_create(&r, NULL, rw_reader, sh), 0);
	assert_int_equal(pthread_create(&w, NULL, rw_writer, sh), 0);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	if (sh->werr[0])
		fail_msg("writer: %s", sh->werr);
	if (sh->rerr[0])
		fail_msg("reader: %s", sh->rerr);
	print_message("# %llu page-ins beside %d page-outs\n", (unsigned long long)sh->reads, RW_WRITES);
	for (int p = 0; p < RW_PAGES; p++)
		v[p] = sh->done[p];
	expect_versions(f->io, f->obj, 0, RW_PAGES, v, 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_store_ok(f->s);
	store_get_stats(f->s, &st);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, RW_PAGES, v, 0);
	free(sh);
	return st;
}

static void page_in_beside_page_out_sees_old_or_new_pages(void **state)
{
	rw_run(*state, false);
}

struct churn {
	struct fx *f;
	atomic_bool stop;
	_Atomic uint64_t last; /* newest version fully paged out */
	char err[200];
};

/* Page out pages [0, 16) again and again, each time with a new version. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint8_t *buf = aligned_alloc(PG, 16 * PG);
	struct store_io *io;
	int rc;

	if ((rc = store_io_open(c->f->s, &io)) != 0) {
		snprintf(c->err, sizeof(c->err), "store_io_open: %d", rc);
		free(buf);
		return NULL;
	}
	for (uint64_t v = atomic_load(&c->last) + 1; !atomic_load(&c->stop); v++) {
		fill_pages(buf, c->f->obj, 0, 16, v);
		if ((rc = store_page_out(io, c->f->obj, CAT_ROOT_ID, 0, 16, buf)) != 0) {
			snprintf(c->err, sizeof(c->err), "page out v%llu: %d", (unsigned long long)v, rc);
			break;
		}
		atomic_store(&c->last, v);
	}
	store_io_close(io);
	free(buf);
	return NULL;
}

/*
 * Page-outs that land while a commit is under way overwrite pages of its
 * committing overlay; when that commit fails, the frames they replaced were
 * never committed and must go back to the allocator, like any pending frame
 * a page-out replaces.
 */
static void page_outs_during_a_failed_commit_leak_no_frames(void **state)
{
	struct fx *f = *state;
	struct churn *c = calloc(1, sizeof(*c));
	pthread_t th;
	int failed = 0;

	f->opt.pending_max_bytes = (uint64_t)1 << 40; /* no commits but ours */
	fx_reopen(f);
	c->f = f;
	page_out(f->io, f->obj, 0, 16, 1);
	atomic_store(&c->last, 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(pthread_create(&th, NULL, churn_thread, c), 0);
	for (int k = 0; k < 10; k++) {
		usleep(2000);
		pfs_fault_arm(&f->faults, PFS_FAULT_COMMIT, 1);
		int rc = store_commit(f->s);
		assert_true(rc == 0 || rc == -EIO);
		failed += rc == -EIO;
	}
	atomic_store(&c->stop, true);
	pthread_join(th, NULL);
	if (c->err[0])
		fail_msg("churn: %s", c->err);
	assert_int_equal(failed, 10);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 16, NULL, atomic_load(&c->last));
	assert_store_ok(f->s);
	if (used_frames(f->s) != 16)
		fail_msg("%llu frames in use for 16 pages after %d failed commits beside page-outs",
			 (unsigned long long)used_frames(f->s), failed);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 16, NULL, atomic_load(&c->last));
	assert_int_equal(used_frames(f->s), 16);
	free(c);
}

struct overlap {
	struct fx *f;
	struct store_io *io;
	bool armed;
	int rc;
};

static void *overlap_page_out(void *arg)
{
	struct overlap *o = arg;
	uint8_t *buf = aligned_alloc(PG, 16 * PG);

	fill_pages(buf, o->f->obj, 0, 16, 3);
	o->rc = store_page_out(o->io, o->f->obj, CAT_ROOT_ID, 0, 16, buf);
	free(buf);
	return NULL;
}

/* Inside the commit's transaction: page out the pages being committed, once. */
static int overlap_hook(struct cat_txn *txn, void *arg)
{
	struct overlap *o = arg;
	pthread_t th;

	(void)txn;
	if (!o->armed)
		return 0;
	o->armed = false; /* the hook may run again if the transaction is replayed */
	if (pthread_create(&th, NULL, overlap_page_out, o) != 0)
		return -EAGAIN;
	pthread_join(th, NULL);
	return 0;
}

/* The same, deterministically: the page-out lands inside the failing commit. */
static void page_out_inside_a_failed_commit_leaks_no_frames(void **state)
{
	struct fx *f = *state;
	struct overlap o = { .f = f, .rc = 1 };

	assert_int_equal(store_io_open(f->s, &f->io2), 0);
	o.io = f->io2;
	page_out(f->io, f->obj, 0, 16, 1);
	assert_int_equal(store_commit(f->s), 0);
	page_out(f->io, f->obj, 0, 16, 2);
	store_set_commit_hook(f->s, overlap_hook, NULL, &o);
	o.armed = true;
	pfs_fault_arm(&f->faults, PFS_FAULT_COMMIT, 1);
	assert_int_equal(store_commit(f->s), -EIO);
	store_set_commit_hook(f->s, NULL, NULL, NULL);
	assert_int_equal(o.rc, 0);
	expect_versions(f->io, f->obj, 0, 16, NULL, 3);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 16, NULL, 3);
	assert_store_ok(f->s);
	/* Version 2's frames were replaced before any commit made them durable. */
	if (used_frames(f->s) != 16)
		fail_msg("%llu frames in use for 16 pages", (unsigned long long)used_frames(f->s));
	store_io_close(f->io2);
	f->io2 = NULL;
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 16, NULL, 3);
	assert_int_equal(used_frames(f->s), 16);
}

/* One commit of thousands of scattered extents: more than a 1 MiB catalogue map holds. */
static void commit_larger_than_the_catalogue_map_grows_it(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = pages(1);
	enum { N = 6000 };

	f->opt.cat_map_bytes = 1 << 20;
	fx_close(f);
	tu_rmtree(f->dir);
	fx_open(f);
	f->obj = new_object(f->s, "obj");
	unsigned grows = cat_map_grows(store_cat(f->s));
	for (uint64_t i = 0; i < N; i++) {
		fill_page(buf, f->obj, 2 * i, 1); /* every other page: one extent each */
		assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 2 * i, 1, buf), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	print_message("# catalogue map grew %u times to %llu bytes\n",
		      cat_map_grows(store_cat(f->s)) - grows,
		      (unsigned long long)cat_map_bytes(store_cat(f->s)));
	assert_true(cat_map_bytes(store_cat(f->s)) > (1 << 20));
	assert_store_ok(f->s);
	assert_int_equal(used_frames(f->s), N);
	fx_reopen(f);
	for (uint64_t i = 0; i < N; i += 97) {
		expect_versions(f->io, f->obj, 2 * i, 1, NULL, 1);
		expect_versions(f->io, f->obj, 2 * i + 1, 1, NULL, 0);
	}
	assert_int_equal(used_frames(f->s), N);
	assert_store_ok(f->s);
	free(buf);
}

/* ---- opening ---- */

static void truncate_swap(const char *dir, off_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/swap.0", dir);
	assert_int_equal(truncate(path, len), 0);
}

static void swap_file_shorter_than_its_data_is_euclean(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;

	page_out(f->io, f->obj, 0, 200, 1);
	fx_close(f);
	truncate_swap(f->dir, 100 * (off_t)PG);
	assert_int_equal(store_open(f->dir, &f->opt, &s), -EUCLEAN);
	/* Refusing changed nothing: it still refuses. */
	assert_int_equal(store_open(f->dir, &f->opt, &s), -EUCLEAN);
}

static void swap_file_shorter_than_recorded_is_euclean(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct store_stats st;

	page_out(f->io, f->obj, 0, 4, 1);
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &st);
	assert_true(st.swap_frames >= 8);
	fx_close(f);
	/* The data still fits; the free frames the catalogue lists do not. */
	truncate_swap(f->dir, (off_t)(st.swap_frames / 2) * (off_t)PG);
	assert_int_equal(store_open(f->dir, &f->opt, &s), -EUCLEAN);
}

static void io_whose_ring_broke_says_so_and_another_works(void **state)
{
	struct fx *f = *state;
	struct store_io *io2 = NULL;
	uint8_t *buf = pages(4);

	page_out(f->io, f->obj, 0, 4, 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_io_error(f->io), 0);
	pfs_fault_arm(&f->faults, PFS_FAULT_RING, 1);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, NULL), -EIO);
	assert_int_equal(store_io_error(f->io), -EIO);
	/* Broken for good: no later call is tried. */
	assert_int_equal(store_page_in(f->io, f->obj, 0, 4, buf, NULL), -EIO);
	assert_int_equal(atomic_load(&f->faults.hits[PFS_FAULT_RING]), 1);
	/* A new one on the same store reads the same pages. */
	assert_int_equal(store_io_open(f->s, &io2), 0);
	assert_int_equal(store_io_error(io2), 0);
	expect_versions(io2, f->obj, 0, 4, NULL, 1);
	store_io_close(io2);
	free(buf);
}

static void second_open_is_ebusy(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	pid_t pid;
	int status;

	assert_int_equal(store_open(f->dir, &f->opt, &s), -EBUSY);
	/* From another process too. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		_exit(store_open(f->dir, &f->opt, &s) == -EBUSY ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The refused opens did not disturb the open store. */
	page_out(f->io, f->obj, 0, 2, 1);
	assert_int_equal(store_commit(f->s), 0);
	fx_reopen(f);
	expect_versions(f->io, f->obj, 0, 2, NULL, 1);
}

static void invalid_arguments_are_einval(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = pages(STORE_IO_MAX_PAGES + 1);

	fill_pages(buf, f->obj, 0, STORE_IO_MAX_PAGES + 1, 1);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 0, 0, buf), -EINVAL);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, 0, STORE_IO_MAX_PAGES + 1, buf), -EINVAL);
	assert_int_equal(store_page_out(f->io, f->obj, CAT_ROOT_ID, UINT64_MAX, 2, buf), -EINVAL);
	assert_int_equal(store_page_in(f->io, f->obj, 0, 0, buf, NULL), -EINVAL);
	assert_int_equal(store_page_in(f->io, f->obj, 0, STORE_IO_MAX_PAGES + 1, buf, NULL), -EINVAL);
	assert_int_equal(store_page_in(f->io, f->obj, UINT64_MAX, 2, buf, NULL), -EINVAL);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 4, PMAP_SWAP, 0), -EINVAL);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 0, PMAP_ZERO, 0), -EINVAL);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, UINT64_MAX, 2, PMAP_ZERO, 0), -EINVAL);
	/* None of them changed anything. */
	struct store_stats st;
	store_get_stats(f->s, &st);
	assert_int_equal(st.pending_pages, 0);
	assert_int_equal(st.pages_out, 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), 0);
	assert_store_ok(f->s);
	free(buf);
}

static void stats_count_calls_and_pages(void **state)
{
	struct fx *f = *state;
	struct store_stats a, b;
	uint64_t v[4] = { 1, 1, 1, 0 };

	store_get_stats(f->s, &a);
	page_out(f->io, f->obj, 0, 3, 1);
	page_out(f->io, f->obj, 10, 5, 1);
	expect_versions(f->io, f->obj, 0, 4, v, 0);
	store_get_stats(f->s, &b);
	assert_int_equal(b.page_outs - a.page_outs, 2);
	assert_int_equal(b.pages_out - a.pages_out, 8);
	assert_int_equal(b.page_ins - a.page_ins, 1);
	assert_int_equal(b.pages_in - a.pages_in, 4);
	assert_int_equal(b.pending_pages, 8);
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &b);
	assert_int_equal(b.commits - a.commits, 1);
	assert_int_equal(b.commit_failures, 0);
	assert_int_equal(b.pending_pages, 0);
	assert_true(b.last_commit_ns > 0);
	assert_int_equal(b.csum_errors, 0);
	assert_int_equal(b.io_errors, 0);
	/* A commit with nothing pending is allowed to do nothing, but must succeed. */
	assert_int_equal(store_commit(f->s), 0);
}

/* ---- read-ahead of sequential page-ins ---- */

#define RA_WIN 256u     /* pages per kernel window, and per read-ahead buffer */
#define RA_WINS 8u      /* the object's size in windows */

/* A store reading 2 windows ahead. */
static int fx_setup_prefetch(void **state)
{
	struct fx *f;

	fx_setup(state);
	f = *state;
	fx_close(f);
	f->opt.prefetch_bytes = 2 * MIB;
	fx_open(f);
	return 0;
}

/* ... with one 8-window object committed at version 1. */
static int fx_setup_prefetch_filled(void **state)
{
	struct fx *f;

	fx_setup_prefetch(state);
	f = *state;
	for (uint32_t w = 0; w < RA_WINS; w++)
		page_out(f->io, f->obj, w * RA_WIN, RA_WIN, 1);
	assert_int_equal(store_commit(f->s), 0);
	return 0;
}

static struct store_stats ra_stats(struct fx *f)
{
	struct store_stats st;

	store_get_stats(f->s, &st);
	return st;
}

/* Wait (at most 10 s) until at least n pages have been read ahead. */
static void ra_wait(struct fx *f, uint64_t n)
{
	for (int i = 0; i < 10000 && ra_stats(f).prefetched_pages < n; i++)
		usleep(1000);
	if (ra_stats(f).prefetched_pages < n)
		fail_msg("read-ahead read %llu pages, want %llu",
			 (unsigned long long)ra_stats(f).prefetched_pages, (unsigned long long)n);
}

/* Page in windows 0 and 1 in order, and wait until 2 and 3 are read ahead. */
static void ra_start_stream(struct fx *f)
{
	expect_versions(f->io, f->obj, 0, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, RA_WIN, RA_WIN, NULL, 1);
	ra_wait(f, 2 * RA_WIN);
}

static void sequential_page_ins_are_served_from_read_ahead(void **state)
{
	struct fx *f = *state;

	/* One window starts nothing; the next, in order, starts a stream. */
	expect_versions(f->io, f->obj, 0, RA_WIN, NULL, 1);
	usleep(20000);
	assert_int_equal(ra_stats(f).prefetched_pages, 0);
	expect_versions(f->io, f->obj, RA_WIN, RA_WIN, NULL, 1);
	ra_wait(f, 2 * RA_WIN);
	expect_versions(f->io, f->obj, 2 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, 2 * RA_WIN);
	/* Each page-in asked for more: the stream runs to the object's end. */
	for (uint32_t w = 4; w < RA_WINS; w++)
		expect_versions(f->io, f->obj, w * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).pages_in, RA_WINS * RA_WIN);
	assert_int_equal(ra_stats(f).csum_errors, 0);
	assert_store_ok(f->s);
}

static void read_ahead_never_serves_pages_rewritten_since(void **state)
{
	struct fx *f = *state;
	uint64_t v[RA_WIN];

	expect_versions(f->io, f->obj, 0, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, RA_WIN, RA_WIN, NULL, 1);
	ra_wait(f, 2 * RA_WIN); /* windows 2 and 3 now sit in buffers at version 1 */
	/* Part of window 2 rewritten (pending); all of window 3 rewritten and committed. */
	page_out(f->io, f->obj, 2 * RA_WIN + 100, 20, 2);
	page_out(f->io, f->obj, 3 * RA_WIN, RA_WIN, 3);
	assert_int_equal(store_commit(f->s), 0);
	page_out(f->io, f->obj, 6 * RA_WIN, RA_WIN, 4); /* likely reuses window 3's old frames */
	for (uint32_t i = 0; i < RA_WIN; i++)
		v[i] = i >= 100 && i < 120 ? 2 : 1;
	expect_versions(f->io, f->obj, 2 * RA_WIN, RA_WIN, v, 0);
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 3);
	/* Only window 2's unchanged pages came from the buffers. */
	assert_int_equal(ra_stats(f).prefetch_used_pages, RA_WIN - 20);
	assert_int_equal(ra_stats(f).csum_errors, 0);
}

static void bad_page_read_ahead_is_one_eio_counted_once(void **state)
{
	struct fx *f = *state;
	uint8_t *want = pages(1), *buf = pages(RA_WIN);
	off_t off;

	fx_close(f);
	fill_page(want, f->obj, 2 * RA_WIN + 7, 1);
	off = find_page_in_file(f->dir, "swap.0", want);
	assert_true(off >= 0);
	corrupt_byte(f->dir, "swap.0", off + 100);
	fx_open(f);
	expect_versions(f->io, f->obj, 0, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, RA_WIN, RA_WIN, NULL, 1);
	ra_wait(f, 2 * RA_WIN - 1); /* all of windows 2 and 3 but the bad page */
	assert_int_equal(ra_stats(f).csum_errors, 0); /* read-ahead reports nothing */
	assert_int_equal(store_page_in(f->io, f->obj, 2 * RA_WIN, RA_WIN, buf, NULL), -EIO);
	assert_int_equal(ra_stats(f).csum_errors, 1);
	expect_versions(f->io, f->obj, 2 * RA_WIN, 7, NULL, 1);
	expect_versions(f->io, f->obj, 2 * RA_WIN + 8, RA_WIN - 8, NULL, 1);
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 1);
	free(want);
	free(buf);
}

/* Wait (at most 10 s) until n faults of kind k have been injected in all. */
static void fault_wait(struct fx *f, enum pfs_fault_kind k, long n)
{
	for (int i = 0; i < 10000 && atomic_load(&f->faults.hits[k]) < n; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&f->faults.hits[k]), n);
}

static void read_ahead_goes_on_after_failed_reads(void **state)
{
	struct fx *f = *state;
	uint64_t used;

	ra_start_stream(f);
	/* Windows 2 and 3 come from the buffers and ask for 4 and 5: both reads fail. */
	pfs_fault_arm(&f->faults, PFS_FAULT_READ, 1);
	expect_versions(f->io, f->obj, 2 * RA_WIN, RA_WIN, NULL, 1);
	fault_wait(f, PFS_FAULT_READ, 1);
	pfs_fault_arm(&f->faults, PFS_FAULT_READ, 1);
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 1);
	fault_wait(f, PFS_FAULT_READ, 2);
	/* Their pages are read from disk, and nothing was reported. */
	expect_versions(f->io, f->obj, 4 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 5 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).io_errors, 0);
	/* A failed read stops no reader: 6 and 7 are read ahead and served. */
	ra_wait(f, 4 * RA_WIN);
	used = ra_stats(f).prefetch_used_pages;
	expect_versions(f->io, f->obj, 6 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 7 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, used + 2 * RA_WIN);
	assert_store_ok(f->s);
}

static void read_ahead_retires_a_reader_whose_ring_died(void **state)
{
	struct fx *f = *state;
	uint64_t used;

	ra_start_stream(f);
	/* Window 2 asks for 4, and the ring reading it dies. */
	pfs_fault_arm(&f->faults, PFS_FAULT_RING, 1);
	expect_versions(f->io, f->obj, 2 * RA_WIN, RA_WIN, NULL, 1);
	fault_wait(f, PFS_FAULT_RING, 1);
	/* The other reader reads 5; window 4 is read from disk, right. */
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 1);
	ra_wait(f, 3 * RA_WIN);
	used = ra_stats(f).prefetch_used_pages;
	expect_versions(f->io, f->obj, 4 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, used);
	expect_versions(f->io, f->obj, 5 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, used + RA_WIN);
	/* ... and goes on alone. */
	ra_wait(f, 5 * RA_WIN);
	expect_versions(f->io, f->obj, 6 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 7 * RA_WIN, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, used + 3 * RA_WIN);
	assert_int_equal(ra_stats(f).csum_errors, 0);
	assert_store_ok(f->s);
}

static void too_much_read_ahead_is_einval(void **state)
{
	struct fx *f = *state;
	struct store_options opt = f->opt;
	struct store *s = NULL;

	fx_close(f);
	opt.prefetch_bytes = STORE_PREFETCH_MAX_BYTES + 1;
	assert_int_equal(store_open(f->dir, &opt, &s), -EINVAL);
	assert_null(s);
	opt.prefetch_bytes = STORE_PREFETCH_MAX_BYTES;
	assert_int_equal(store_open(f->dir, &opt, &s), 0);
	assert_int_equal(store_close(s), 0);
	fx_open(f);
}

static void read_ahead_beside_page_outs_sees_old_or_new_pages(void **state)
{
	struct fx *f = *state;

	struct store_stats st = rw_run(f, true);

	print_message("# %llu pages read ahead, %llu used\n",
		      (unsigned long long)st.prefetched_pages, (unsigned long long)st.prefetch_used_pages);
	assert_true(st.prefetch_used_pages > 0);
}

static void scattered_page_ins_read_nothing_ahead(void **state)
{
	struct fx *f = *state;

	/* Out of order, and windows that do not follow one another. */
	expect_versions(f->io, f->obj, 5 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 1 * RA_WIN, RA_WIN, NULL, 1);
	expect_versions(f->io, f->obj, 6 * RA_WIN + 100, 16, NULL, 1);
	expect_versions(f->io, f->obj, 3 * RA_WIN, RA_WIN, NULL, 1);
	/*
	 * Then a stream: its two windows are read ahead in the order asked, after
	 * anything the scattered ones had asked for, so exactly two windows means
	 * nothing else was.
	 */
	expect_versions(f->io, f->obj, 0, 8, NULL, 1);
	expect_versions(f->io, f->obj, 8, 8, NULL, 1);
	ra_wait(f, 2 * RA_WIN);
	usleep(20000);
	assert_int_equal(ra_stats(f).prefetched_pages, 2 * RA_WIN);
	expect_versions(f->io, f->obj, 16, RA_WIN, NULL, 1);
	assert_int_equal(ra_stats(f).prefetch_used_pages, RA_WIN);
}

/* ---- page-outs to one object from several threads ---- */

#define RACE_THREADS 3
#define RACE_ROUNDS 60
#define RACE_PAGES 64

struct race {
	struct fx *f;
	unsigned id;
	int rc;
};

static void *race_page_outs(void *arg)
{
	struct race *r = arg;
	struct store_io *io = NULL;
	uint8_t *buf = aligned_alloc(PG, RACE_PAGES * PG);

	r->rc = store_io_open(r->f->s, &io);
	for (unsigned i = 1; i <= RACE_ROUNDS && r->rc == 0; i++) {
		fill_pages(buf, r->f->obj, 0, RACE_PAGES, (uint64_t)i * RACE_THREADS + r->id);
		r->rc = store_page_out(io, r->f->obj, CAT_ROOT_ID, 0, RACE_PAGES, buf);
		if (r->rc == 0 && i % 16 == 0)
			r->rc = store_commit(r->f->s);
	}
	store_io_close(io);
	free(buf);
	return NULL;
}

/*
 * Page-outs write their frames without the object's lock. Racing ones to
 * the same pages must still leave each page-out whole in the map (every
 * page from one of them), charge the control once per page, and leak no
 * frame.
 */
static void racing_page_outs_to_one_object_stay_whole(void **state)
{
	struct fx *f = *state;
	struct race r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	uint8_t *buf = pages(RACE_PAGES);

	for (unsigned t = 0; t < RACE_THREADS; t++) {
		r[t] = (struct race){ .f = f, .id = t };
		assert_int_equal(pthread_create(&th[t], NULL, race_page_outs, &r[t]), 0);
	}
	for (unsigned t = 0; t < RACE_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(r[t].rc, 0);
	}
	assert_int_equal(store_page_in(f->io, f->obj, 0, RACE_PAGES, buf, NULL), 0);
	int64_t v = page_version(buf, f->obj, 0);
	assert_true(v > RACE_THREADS);
	expect_versions(f->io, f->obj, 0, RACE_PAGES, NULL, (uint64_t)v);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(used_frames(f->s), RACE_PAGES);
	struct store_memctl_info mi;
	assert_int_equal(store_memctl_info(f->s, CAT_ROOT_ID, &mi), 0);
	assert_int_equal(mi.usage_frames, RACE_PAGES);
	assert_store_ok(f->s);
	free(buf);
}

/* ---- discard and several swap files ---- */

static uint64_t file_blocks(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks;
}

/*
 * A freed run stays allocated on disk through commits until
 * store_discard_freed (the daemon's idle tick), so a rewrite reuses it;
 * then only the part nothing reused is punched, and the punch never
 * touches a reused frame.
 */
static void freed_runs_wait_and_only_their_unused_part_is_punched(void **state)
{
	struct fx *f = *state;
	struct store_stats st;
	uint64_t before, after;

	page_out(f->io, f->obj, 0, 256, 1);
	assert_int_equal(store_commit(f->s), 0);
	before = file_blocks(f->dir, "swap.0");
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 256, PMAP_ZERO, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discarded_frames, 0);
	assert_int_equal(st.discard_waiting_frames, 256);
	assert_int_equal(file_blocks(f->dir, "swap.0"), before); /* still there to reuse */

	page_out(f->io, f->obj, 0, 128, 2); /* reuses the lowest freed frames */
	assert_int_equal(store_commit(f->s), 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discarded_frames, 0); /* commits never punch */
	store_discard_freed(f->s);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discard_waiting_frames, 0);
	assert_int_equal(st.discarded_frames, 128); /* only what is still free */
	after = file_blocks(f->dir, "swap.0");
	assert_int_equal(after + 128 * 8, before);
	expect_versions(f->io, f->obj, 0, 128, NULL, 2); /* the reused frames kept their data */
	store_discard_freed(f->s); /* nothing waiting: nothing punched */
	store_get_stats(f->s, &st);
	assert_int_equal(st.discarded_frames, 128);

	page_out(f->io, f->obj, 0, 256, 3); /* and the holes take data again */
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 256, NULL, 3);
	assert_store_ok(f->s);
}

/* Runs freed by two commits side by side: each is taken, punched and given back once. */
static void adjacent_freed_runs_are_punched_once_each(void **state)
{
	struct fx *f = *state;
	struct store_stats st;

	page_out(f->io, f->obj, 0, 128, 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 0, 64, PMAP_ZERO, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_set_range(f->s, f->obj, CAT_ROOT_ID, 64, 64, PMAP_ZERO, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_discard_freed(f->s);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discarded_frames, 128);
	assert_int_equal(used_frames(f->s), 0);
	assert_store_ok(f->s);
	page_out(f->io, f->obj, 0, 128, 2);
	assert_int_equal(store_commit(f->s), 0);
	expect_versions(f->io, f->obj, 0, 128, NULL, 2);
	assert_store_ok(f->s);
}

/* Destroying an object gives its space back too, once nothing reuses it. */
static void a_destroyed_object_s_space_is_punched(void **state)
{
	struct fx *f = *state;
	struct store_stats st;
	uint64_t before;

	page_out(f->io, f->obj, 0, 256, 1);
	page_out(f->io, f->obj, 256, 256, 1);
	assert_int_equal(store_commit(f->s), 0);
	before = file_blocks(f->dir, "swap.0");
	assert_int_equal(store_destroy(f->s, f->obj, CAT_ROOT_ID, NULL, NULL), 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discard_waiting_frames, 512);
	store_discard_freed(f->s);
	assert_true(file_blocks(f->dir, "swap.0") + 512 * 8 <= before);
	store_get_stats(f->s, &st);
	assert_int_equal(st.discarded_frames, 512);
	assert_store_ok(f->s);
}

static void higher_priority_swap_file_is_used_first_and_persists(void **state)
{
	struct fx *f = *state;
	struct store_stats st;

	page_out(f->io, f->obj, 0, 16, 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_add_swapfile(f->s, "swap.fast", 10, 64 * MIB), 0);
	assert_int_equal(store_add_swapfile(f->s, "swap.fast", 10, 64 * MIB), -EEXIST);
	assert_int_equal(store_add_swapfile(f->s, "a/b", 10, 64 * MIB), -EINVAL);
	assert_int_equal(store_add_swapfile(f->s, "swap.zero", 10, 0), -EINVAL);
	page_out(f->io, f->obj, 16, 16, 2);
	assert_int_equal(store_commit(f->s), 0);
	assert_true(file_blocks(f->dir, "swap.fast") >= 16 * 8);
	store_get_stats(f->s, &st);
	assert_int_equal(st.swap_files, 2);
	assert_store_ok(f->s);
	fx_reopen(f);
	store_get_stats(f->s, &st);
	assert_int_equal(st.swap_files, 2);
	expect_versions(f->io, f->obj, 0, 16, NULL, 1);
	expect_versions(f->io, f->obj, 16, 16, NULL, 2);
	assert_store_ok(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_page_round_trips, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(largest_run_round_trips, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unaligned_data_round_trips, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(io_arena_round_trips_without_a_copy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unwritten_pages_read_as_zeros, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(file_runs_read_the_backing_page, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(file_run_without_a_file_pager_is_eio, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(file_run_beyond_what_its_pager_backs_is_zeros, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(committed_data_survives_reopen, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(close_commits_pending_pages, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(overwrites_read_newest_and_leak_no_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(zeroed_range_reads_zeros_and_frees_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(zeroing_pending_pages_frees_their_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(full_store_is_enospc_and_keeps_what_it_has, fx_setup_1mib, fx_teardown),
		cmocka_unit_test_setup_teardown(corrupted_frame_is_eio_and_counted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(write_error_is_eio_and_changes_nothing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(read_error_is_eio_and_counted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(short_transfers_are_completed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(failed_swap_sync_stops_the_store_until_reopened, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(failed_catalogue_commit_keeps_pending, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(concurrent_page_outs_and_commits_all_land, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(page_in_beside_page_out_sees_old_or_new_pages, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(page_outs_during_a_failed_commit_leak_no_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(page_out_inside_a_failed_commit_leaks_no_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(commit_larger_than_the_catalogue_map_grows_it, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(swap_file_shorter_than_its_data_is_euclean, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(swap_file_shorter_than_recorded_is_euclean, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(second_open_is_ebusy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(io_whose_ring_broke_says_so_and_another_works, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(invalid_arguments_are_einval, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(stats_count_calls_and_pages, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(racing_page_outs_to_one_object_stay_whole, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(freed_runs_wait_and_only_their_unused_part_is_punched, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(adjacent_freed_runs_are_punched_once_each, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(a_destroyed_object_s_space_is_punched, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(higher_priority_swap_file_is_used_first_and_persists, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(sequential_page_ins_are_served_from_read_ahead, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(read_ahead_never_serves_pages_rewritten_since, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(bad_page_read_ahead_is_one_eio_counted_once, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(scattered_page_ins_read_nothing_ahead, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(read_ahead_goes_on_after_failed_reads, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(read_ahead_retires_a_reader_whose_ring_died, fx_setup_prefetch_filled, fx_teardown),
		cmocka_unit_test_setup_teardown(read_ahead_beside_page_outs_sees_old_or_new_pages, fx_setup_prefetch, fx_teardown),
		cmocka_unit_test_setup_teardown(too_much_read_ahead_is_einval, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
