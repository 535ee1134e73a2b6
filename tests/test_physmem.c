/*
 * Description: physmem through the store: copy-on-write clones, release,
 * destroy, quotas, swap exhaustion, gather/scatter, and a randomized model of
 * pages, frames and charges checked after every step and across reopens.
 */
/*
 * Each test gets a fresh store under /var/tmp with a small swap cap (so that
 * exhaustion is reachable) and 256 KiB swap chunks. Objects are created
 * through the catalogue as the daemon would (a record naming the memory
 * control charged for it), so store_check sees every object with extents.
 * A swap page's bytes encode (object, page, version) of the write that made
 * it (a clone's pages keep their source's), a FILE page encodes (0, backing
 * page, 0): a page-in proves exactly which contents a page has. The model
 * tests take their seed from PFS_SEED and name seed and step on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "extent.h"
#include "store.h"
#include "testutil.h"

#define PG PFS_PAGE_SIZE
#define KIB ((uint64_t)1 << 10)
#define PAGE_MAGIC 0x70686d656d706721ULL
#define ROOT CAT_ROOT_ID

struct fx {
	char *dir;
	struct store_options opt;
	struct store *s;
	struct store_io *io;
};

/* ---- page contents ---- */

/* Expected contents of a page: ZERO, or the tag (obj, page, version) of a write or backing page. */
struct pg {
	uint8_t kind;
	uint64_t obj, page, version;
};

static void fill_tag(void *dst, uint64_t obj, uint64_t page, uint64_t version)
{
	uint64_t w[PG / 8];
	uint64_t st = (obj * 0x100000001b3ULL) ^ (page << 20) ^ (version * 0x9e3779b97f4a7c15ULL);

	w[0] = PAGE_MAGIC;
	w[1] = obj;
	w[2] = page;
	w[3] = version;
	for (size_t i = 4; i < PG / 8; i++)
		w[i] = tu_rand(&st);
	memcpy(dst, w, PG);
}

static void expected_bytes(const struct pg *p, void *dst)
{
	if (p->kind == PMAP_ZERO)
		memset(dst, 0, PG);
	else
		fill_tag(dst, p->obj, p->page, p->version);
}

/* The backing "file": page p holds the tag (0, p, 0). */
static int tag_page_in(void *ctx, const struct pager_run *run)
{
	(void)ctx;
	for (uint32_t i = 0; i < run->npages; i++)
		fill_tag((uint8_t *)run->buf + i * PG, 0, run->base + i, 0);
	return 0;
}

static const struct pager_ops tag_pager_ops = { .name = "tags", .page_in = tag_page_in };
static const struct pager tag_file = { &tag_pager_ops, NULL };

static void describe(const void *page, char *out, size_t len)
{
	static const uint8_t zero[PG];
	uint64_t w[4];

	memcpy(w, page, sizeof(w));
	if (memcmp(page, zero, PG) == 0)
		snprintf(out, len, "zeros");
	else if (w[0] == PAGE_MAGIC)
		snprintf(out, len, "%s (%llu, %llu, %llu)", w[1] ? "swap" : "file",
			 (unsigned long long)w[1], (unsigned long long)w[2], (unsigned long long)w[3]);
	else
		snprintf(out, len, "unknown bytes");
}

/* NULL if got holds want, else a description of both (in a static buffer). */
static const char *page_mismatch(const void *got, const struct pg *want)
{
	static char msg[160];
	uint8_t exp[PG];
	char a[64], b[64];

	expected_bytes(want, exp);
	if (memcmp(got, exp, PG) == 0)
		return NULL;
	describe(got, a, sizeof(a));
	describe(exp, b, sizeof(b));
	snprintf(msg, sizeof(msg), "holds %s, want %s", a, b);
	return msg;
}

static uint8_t *pages(size_t n)
{
	uint8_t *p = aligned_alloc(PG, n * PG);
	assert_non_null(p);
	memset(p, 0xa5, n * PG);
	return p;
}

/* Page out n pages tagged (obj, first + i, version). */
static int write_pages(struct fx *f, uint64_t obj, uint64_t ctl, uint64_t first, uint32_t n,
		       uint64_t version)
{
	uint8_t *buf = pages(n);
	int rc;

	for (uint32_t i = 0; i < n; i++)
		fill_tag(buf + i * PG, obj, first + i, version);
	rc = store_page_out(f->io, obj, ctl, first, n, buf);
	free(buf);
	return rc;
}

/* Page i of [first, first + n) of obj must be kind with tag (src, base + i, version). */
static void expect_run(struct fx *f, uint64_t obj, uint64_t first, uint32_t n, int kind,
		       uint64_t src, uint64_t base, uint64_t version)
{
	uint8_t *buf = pages(n);

	for (uint32_t done = 0, k; done < n; done += k) {
		k = PFS_MIN(n - done, (uint32_t)STORE_IO_MAX_PAGES);
		assert_int_equal(store_page_in(f->io, obj, first + done, k, buf + done * PG,
					       &tag_file), 0);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pg w = { (uint8_t)kind, src, base + i, version };
		const char *bad = page_mismatch(buf + i * PG, &w);
		if (bad)
			fail_msg("object %llu page %llu %s", (unsigned long long)obj,
				 (unsigned long long)(first + i), bad);
	}
	free(buf);
}

#define expect_zero(f, obj, first, n) expect_run(f, obj, first, n, PMAP_ZERO, 0, 0, 0)
#define expect_file(f, obj, first, n, base) expect_run(f, obj, first, n, PMAP_FILE, 0, base, 0)

/* ---- objects and controls ---- */

struct new_obj {
	uint64_t ctl, id;
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
	o.parent = no->ctl; /* the directory is its memory control */
	o.kind = CAT_KIND_FILE;
	snprintf(o.name, sizeof(o.name), "obj-%llu", (unsigned long long)no->id);
	o.memctl = no->ctl;
	o.mode = 0100644;
	return cat_object_put(txn, &o);
}

static uint64_t new_object(struct fx *f, uint64_t ctl)
{
	struct new_obj no = { ctl, 0 };

	assert_int_equal(cat_write(store_cat(f->s), new_object_fn, &no), 0);
	return no.id;
}

static int del_object_fn(struct cat_txn *txn, void *arg)
{
	return cat_object_del(txn, *(const uint64_t *)arg);
}

static int alloc_id_fn(struct cat_txn *txn, void *arg)
{
	return cat_alloc_id(txn, arg);
}

/* A fresh sharing control under parent. */
static uint64_t new_control(struct fx *f, uint64_t parent)
{
	uint64_t id = 0;

	assert_int_equal(cat_write(store_cat(f->s), alloc_id_fn, &id), 0);
	assert_int_equal(store_memctl_add(f->s, parent, id), 0);
	return id;
}

static struct store_memctl_info info(struct fx *f, uint64_t ctl)
{
	struct store_memctl_info i;

	assert_int_equal(store_memctl_info(f->s, ctl, &i), 0);
	return i;
}

static struct store_stats stats(struct fx *f)
{
	struct store_stats st;

	store_get_stats(f->s, &st);
	assert_true(st.free_frames <= st.swap_frames);
	return st;
}

static uint64_t used_frames(struct fx *f)
{
	struct store_stats st = stats(f);
	return st.swap_frames - st.free_frames;
}

static void assert_store_ok(struct fx *f)
{
	char why[256] = "";

	if (store_check(f->s, why, sizeof(why)) != 0)
		fail_msg("store_check: %s", why);
}

static void commit_ok(struct fx *f)
{
	int rc = store_commit(f->s);

	if (rc != 0)
		fail_msg("store_commit: %d (%s)", rc, strerror(-rc));
	assert_store_ok(f);
}

/* ---- fixture ---- */

static void fx_open(struct fx *f)
{
	assert_int_equal(store_open(f->dir, &f->opt, &f->s), 0);
	assert_int_equal(store_io_open(f->s, &f->io), 0);
}

static void fx_reopen(struct fx *f)
{
	store_io_close(f->io);
	f->io = NULL;
	assert_int_equal(store_close(f->s), 0);
	f->s = NULL;
	fx_open(f);
}

static int setup_frames(void **state, uint64_t frames)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir("physmem");
	f->opt.swap_max_bytes = frames * PG;
	f->opt.swap_chunk_bytes = 256 * KIB;
	f->opt.pending_max_bytes = (uint64_t)1 << 30; /* commits only where a test expects them */
	fx_open(f);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return setup_frames(state, 512); /* 2 MiB */
}

static int fx_setup_tight(void **state)
{
	return setup_frames(state, 192); /* three chunks */
}

static int fx_setup_partial_chunk(void **state)
{
	return setup_frames(state, 160); /* two and a half chunks */
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	store_io_close(f->io);
	if (f->s)
		store_close(f->s);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- clone ---- */

static void clone_then_write_to_either_side_leaves_the_other_intact(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT);
	uint64_t a = new_object(f, ROOT), b = new_object(f, x);

	assert_int_equal(write_pages(f, a, ROOT, 0, 8, 1), 0);
	commit_ok(f);
	assert_int_equal(store_clone(f->s, a, b, x, 0, 0, 8), 0);
	assert_int_equal(used_frames(f), 8); /* shared, not copied */
	assert_int_equal(info(f, x).usage_frames, 8); /* charged per reference */
	assert_int_equal(info(f, ROOT).usage_frames, 16);
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);
	assert_store_ok(f);

	assert_int_equal(write_pages(f, a, ROOT, 2, 1, 2), 0);
	assert_int_equal(write_pages(f, b, x, 5, 1, 3), 0);
	expect_run(f, a, 0, 2, PMAP_SWAP, a, 0, 1);
	expect_run(f, a, 2, 1, PMAP_SWAP, a, 2, 2);
	expect_run(f, a, 3, 5, PMAP_SWAP, a, 3, 1);
	expect_run(f, b, 0, 5, PMAP_SWAP, a, 0, 1);
	expect_run(f, b, 5, 1, PMAP_SWAP, b, 5, 3);
	expect_run(f, b, 6, 2, PMAP_SWAP, a, 6, 1);
	commit_ok(f);
	assert_int_equal(used_frames(f), 10);
	assert_int_equal(info(f, ROOT).usage_frames, 16);
	fx_reopen(f);
	assert_store_ok(f);
	expect_run(f, a, 2, 1, PMAP_SWAP, a, 2, 2);
	expect_run(f, b, 2, 1, PMAP_SWAP, a, 2, 1);
	expect_run(f, b, 5, 1, PMAP_SWAP, b, 5, 3);
	expect_run(f, a, 5, 1, PMAP_SWAP, a, 5, 1);
	assert_int_equal(info(f, x).usage_frames, 8);
}

static void clone_copies_file_and_zero_runs(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT);
	uint64_t a = new_object(f, ROOT), b = new_object(f, x), zero, file, swap;

	assert_int_equal(store_set_range(f->s, a, ROOT, 0, 4, PMAP_FILE, 100), 0);
	assert_int_equal(write_pages(f, a, ROOT, 4, 6, 1), 0);
	assert_int_equal(store_set_range(f->s, a, ROOT, 4, 4, PMAP_ZERO, 0), 0);
	assert_int_equal(write_pages(f, b, x, 0, 10, 7), 0);
	commit_ok(f);
	assert_int_equal(used_frames(f), 12);
	assert_int_equal(store_clone(f->s, a, b, x, 0, 0, 10), 0);
	expect_file(f, b, 0, 4, 100);
	expect_zero(f, b, 4, 4);
	expect_run(f, b, 8, 2, PMAP_SWAP, a, 8, 1);
	assert_int_equal(store_count_pages(f->s, b, 10, &zero, &file, &swap), 0);
	assert_int_equal(zero, 4);
	assert_int_equal(file, 4);
	assert_int_equal(swap, 2);
	assert_int_equal(info(f, x).usage_frames, 2);
	assert_int_equal(used_frames(f), 2); /* b's ten frames went back at once */
	commit_ok(f);
	assert_int_equal(used_frames(f), 2);
}

static void clone_onto_itself_overlapping_is_einval_disjoint_is_allowed(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), commits;

	assert_int_equal(write_pages(f, a, ROOT, 0, 16, 1), 0);
	commit_ok(f);
	commits = stats(f).commits;
	assert_int_equal(store_clone(f->s, a, a, ROOT, 0, 4, 8), -EINVAL);
	assert_int_equal(store_clone(f->s, a, a, ROOT, 8, 4, 8), -EINVAL);
	assert_int_equal(store_clone(f->s, a, a, ROOT, 3, 3, 1), -EINVAL);
	assert_int_equal(store_clone(f->s, a, a, ROOT, 0, 7, 8), -EINVAL); /* one page in common */
	assert_int_equal(stats(f).commits, commits);
	expect_run(f, a, 0, 16, PMAP_SWAP, a, 0, 1);
	assert_int_equal(store_clone(f->s, a, a, ROOT, 0, 16, 8), 0);
	assert_int_equal(store_clone(f->s, a, a, ROOT, 16, 8, 8), 0); /* adjacent, disjoint */
	expect_run(f, a, 0, 8, PMAP_SWAP, a, 0, 1);
	expect_run(f, a, 8, 8, PMAP_SWAP, a, 0, 1);
	expect_run(f, a, 16, 8, PMAP_SWAP, a, 0, 1);
	assert_int_equal(info(f, ROOT).usage_frames, 24);
	assert_int_equal(used_frames(f), 8);
	commit_ok(f);
}

static void ranges_past_2_64_are_einval(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), b = new_object(f, ROOT), commits;

	assert_int_equal(write_pages(f, a, ROOT, 0, 4, 1), 0);
	commit_ok(f);
	assert_int_equal(write_pages(f, a, ROOT, 4, 1, 1), 0); /* pending: a bad call must not commit it */
	commits = stats(f).commits;
	assert_int_equal(store_clone(f->s, a, b, ROOT, UINT64_MAX - 3, 0, 8), -EINVAL);
	assert_int_equal(store_clone(f->s, a, b, ROOT, 0, UINT64_MAX - 3, 8), -EINVAL);
	assert_int_equal(store_clone(f->s, a, b, ROOT, UINT64_MAX, 0, 1), -EINVAL);
	assert_int_equal(store_clone(f->s, a, b, ROOT, 0, 0, 0), -EINVAL);
	assert_int_equal(store_clone(f->s, a, b, ROOT, 0, 8, UINT64_MAX), -EINVAL);
	assert_int_equal(write_pages(f, a, ROOT, UINT64_MAX, 1, 2), -EINVAL);
	assert_int_equal(store_set_range(f->s, a, ROOT, UINT64_MAX - 1, 2, PMAP_ZERO, 0), -EINVAL);
	assert_int_equal(store_set_range(f->s, a, ROOT, 0, 2, PMAP_FILE, UINT64_MAX), -EINVAL);
	assert_int_equal(stats(f).commits, commits);
	assert_int_equal(stats(f).pending_pages, 1);
	expect_run(f, a, 0, 5, PMAP_SWAP, a, 0, 1);
	expect_zero(f, b, 0, 8);
	assert_int_equal(info(f, ROOT).usage_frames, 5);
	/* Up to the edge is fine. */
	assert_int_equal(store_clone(f->s, a, b, ROOT, 0, UINT64_MAX - 6, 4), 0);
	expect_run(f, b, UINT64_MAX - 6, 4, PMAP_SWAP, a, 0, 1);
	commit_ok(f);
}

static void clone_into_a_control_without_room_is_enospc_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	uint64_t q = new_control(f, ROOT);
	uint64_t a = new_object(f, ROOT), b = new_object(f, q), used;

	assert_int_equal(store_memctl_quota(f->s, q, false, 8), 0);
	assert_int_equal(write_pages(f, a, ROOT, 0, 16, 1), 0);
	assert_int_equal(write_pages(f, b, q, 0, 2, 2), 0);
	commit_ok(f);
	used = used_frames(f);
	assert_int_equal(store_clone(f->s, a, b, q, 0, 0, 16), -ENOSPC); /* needs 14, has 6 */
	expect_run(f, b, 0, 2, PMAP_SWAP, b, 0, 2);
	expect_zero(f, b, 2, 14);
	assert_int_equal(info(f, q).usage_frames, 2);
	assert_int_equal(used_frames(f), used);
	commit_ok(f);
	assert_int_equal(store_clone(f->s, a, b, q, 0, 0, 8), 0); /* exactly fills it */
	assert_int_equal(info(f, q).usage_frames, 8);
	assert_int_equal(info(f, q).available_frames, 0);
	assert_int_equal(store_clone(f->s, a, b, q, 8, 8, 1), -ENOSPC);
	expect_zero(f, b, 8, 1);
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);
	assert_int_equal(used_frames(f), 16);
	commit_ok(f);
}

/* ---- release and destroy ---- */

static void releasing_shared_pages_frees_frames_only_with_the_last_reference(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), b = new_object(f, ROOT), free0;

	assert_int_equal(write_pages(f, a, ROOT, 0, 8, 1), 0);
	commit_ok(f);
	assert_int_equal(store_clone(f->s, a, b, ROOT, 0, 0, 8), 0);
	free0 = stats(f).free_frames;
	assert_int_equal(store_set_range(f->s, a, ROOT, 0, 8, PMAP_ZERO, 0), 0);
	expect_zero(f, a, 0, 8);
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);
	assert_int_equal(info(f, ROOT).usage_frames, 8);
	commit_ok(f);
	assert_int_equal(stats(f).free_frames, free0); /* b still has them */
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);

	assert_int_equal(store_set_range(f->s, b, ROOT, 2, 4, PMAP_FILE, 500), 0);
	expect_run(f, b, 0, 2, PMAP_SWAP, a, 0, 1);
	expect_file(f, b, 2, 4, 500);
	expect_run(f, b, 6, 2, PMAP_SWAP, a, 6, 1);
	assert_int_equal(stats(f).free_frames, free0); /* freed by the commit, not before */
	commit_ok(f);
	assert_int_equal(stats(f).free_frames, free0 + 4);
	assert_int_equal(store_set_range(f->s, b, ROOT, 0, 8, PMAP_ZERO, 0), 0);
	commit_ok(f);
	assert_int_equal(stats(f).free_frames, free0 + 8);
	assert_int_equal(info(f, ROOT).usage_frames, 0);
}

static void destroying_a_cloned_object_keeps_the_clone(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT), y = new_control(f, ROOT);
	uint64_t a = new_object(f, x), b = new_object(f, y);

	assert_int_equal(write_pages(f, a, x, 0, 8, 1), 0);
	commit_ok(f);
	assert_int_equal(store_clone(f->s, a, b, y, 0, 0, 8), 0);
	assert_int_equal(write_pages(f, a, x, 0, 1, 2), 0); /* pending: discarded by the destroy */
	assert_int_equal(used_frames(f), 9);
	assert_int_equal(store_destroy(f->s, a, x, del_object_fn, &a), 0);
	assert_int_equal(info(f, x).usage_frames, 0);
	assert_int_equal(info(f, y).usage_frames, 8);
	assert_int_equal(used_frames(f), 8);
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);
	expect_zero(f, a, 0, 8);
	commit_ok(f);
	fx_reopen(f);
	expect_run(f, b, 0, 8, PMAP_SWAP, a, 0, 1);
	assert_int_equal(store_destroy(f->s, b, y, del_object_fn, &b), 0);
	assert_int_equal(used_frames(f), 0);
	assert_int_equal(info(f, ROOT).usage_frames, 0);
	commit_ok(f);
}

/* ---- quotas and exhaustion ---- */

static void page_out_over_quota_is_enospc_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	uint64_t q = new_control(f, ROOT);
	uint64_t a = new_object(f, ROOT), b = new_object(f, q);

	assert_int_equal(store_memctl_quota(f->s, q, false, 8), 0);
	assert_int_equal(write_pages(f, b, q, 0, 6, 1), 0);
	assert_int_equal(write_pages(f, b, q, 4, 6, 2), -ENOSPC); /* 4 new pages, room for 2 */
	expect_run(f, b, 0, 6, PMAP_SWAP, b, 0, 1);
	expect_zero(f, b, 6, 4);
	assert_int_equal(info(f, q).usage_frames, 6);
	assert_int_equal(used_frames(f), 6);
	assert_int_equal(write_pages(f, b, q, 0, 6, 3), 0); /* overwrites need no new charge */
	assert_int_equal(write_pages(f, b, q, 6, 2, 4), 0);
	assert_int_equal(info(f, q).available_frames, 0);
	assert_int_equal(write_pages(f, b, q, 8, 1, 5), -ENOSPC);
	assert_int_equal(write_pages(f, a, ROOT, 0, 1, 1), 0); /* the parent's pool is its own */
	expect_run(f, b, 0, 6, PMAP_SWAP, b, 0, 3);
	expect_run(f, b, 6, 2, PMAP_SWAP, b, 6, 4);
	expect_zero(f, b, 8, 1);
	commit_ok(f);
	assert_int_equal(used_frames(f), 9);
}

/* Page out distinct single pages from page 0 until the store refuses one: how many fit. */
static uint64_t fill_store(struct fx *f, uint64_t obj, uint64_t version)
{
	uint64_t cap = f->opt.swap_max_bytes / PG, p;
	int rc = 0;

	for (p = 0; p <= cap && (rc = write_pages(f, obj, ROOT, p, 1, version)) == 0; p++)
		;
	assert_int_equal(rc, -ENOSPC);
	assert_true(p >= cap / 2 && p <= cap); /* the store may keep frames back, not half */
	return p;
}

static void full_swap_store_refuses_new_pages_not_overwrites(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), stored = fill_store(f, a, 1), free_before;
	int rc;

	free_before = stats(f).free_frames;
	assert_int_equal(write_pages(f, a, ROOT, stored, 1, 1), -ENOSPC);
	assert_int_equal(write_pages(f, a, ROOT, 1000, 8, 1), -ENOSPC);
	assert_int_equal(stats(f).free_frames, free_before); /* a refused page-out takes nothing */
	expect_run(f, a, 0, (uint32_t)stored, PMAP_SWAP, a, 0, 1);
	expect_zero(f, a, stored, 1);
	expect_zero(f, a, 1000, 8);
	commit_ok(f);
	assert_int_equal(used_frames(f), stored);
	/*
	 * Overwrites charge nothing new, so they must succeed (a reserved page's
	 * page-out "cannot fail", DESIGN.md): redirect-on-write needs free
	 * frames, which the store has to keep back or free by committing.
	 */
	for (uint64_t p = 0; p < stored; p += 16) {
		uint32_t n = (uint32_t)PFS_MIN(16, stored - p);
		if ((rc = write_pages(f, a, ROOT, p, n, 2)) != 0)
			fail_msg("overwriting pages %llu+%u of a full store: %d", (unsigned long long)p, n, rc);
	}
	expect_run(f, a, 0, (uint32_t)stored, PMAP_SWAP, a, 0, 2);
	commit_ok(f);
	assert_int_equal(used_frames(f), stored);
	/* Releasing 8 pages makes room for 8 new ones, not 9. */
	assert_int_equal(store_set_range(f->s, a, ROOT, 0, 8, PMAP_ZERO, 0), 0);
	commit_ok(f);
	assert_int_equal(write_pages(f, a, ROOT, 1000, 9, 3), -ENOSPC);
	assert_int_equal(write_pages(f, a, ROOT, 1000, 8, 3), 0);
	fx_reopen(f);
	expect_zero(f, a, 0, 8);
	expect_run(f, a, 8, (uint32_t)stored - 8, PMAP_SWAP, a, 8, 2);
	expect_run(f, a, 1000, 8, PMAP_SWAP, a, 1000, 3);
	assert_int_equal(used_frames(f), stored);
	assert_store_ok(f);
}

static void swap_never_grows_past_swap_max(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), cap = f->opt.swap_max_bytes / PG, stored;

	assert_int_equal(write_pages(f, a, ROOT, 0, 64, 1), 0);
	assert_int_equal(stats(f).swap_frames, 64); /* one chunk */
	stored = fill_store(f, a, 1);
	commit_ok(f);
	if (stats(f).swap_frames > cap)
		fail_msg("swap grew to %llu frames, swap_max is %llu",
			 (unsigned long long)stats(f).swap_frames, (unsigned long long)cap);
	/* Overwrites need fresh frames before the old ones are freed: grow to the cap. */
	for (uint64_t p = 0; p < stored; p += 16)
		assert_int_equal(write_pages(f, a, ROOT, p, (uint32_t)PFS_MIN(16, stored - p), 2), 0);
	assert_true(stats(f).swap_frames <= cap);
	expect_run(f, a, 0, (uint32_t)stored, PMAP_SWAP, a, 0, 2);
	fx_reopen(f);
	assert_true(stats(f).swap_frames <= cap);
	assert_store_ok(f);
}

static void removing_a_control_still_charged_is_ebusy(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT), y = new_control(f, x);
	uint64_t b = new_object(f, y);
	struct store_memctl_info i;
	int rc;

	assert_int_equal(store_memctl_remove(f->s, x), -EBUSY); /* has a child */
	assert_int_equal(write_pages(f, b, y, 0, 1, 1), 0);
	assert_int_equal(store_memctl_remove(f->s, y), -EBUSY);
	commit_ok(f);
	assert_int_equal(store_memctl_remove(f->s, y), -EBUSY);
	assert_int_equal(info(f, y).usage_frames, 1);
	/* Released but not yet committed: refuse, or let the commit still work. */
	assert_int_equal(store_set_range(f->s, b, y, 0, 1, PMAP_ZERO, 0), 0);
	rc = store_memctl_remove(f->s, y);
	assert_true(rc == 0 || rc == -EBUSY);
	commit_ok(f);
	if (rc == -EBUSY)
		assert_int_equal(store_memctl_remove(f->s, y), 0);
	assert_int_equal(store_memctl_remove(f->s, x), 0);
	assert_int_equal(store_memctl_info(f->s, x, &i), -ENOENT);
	assert_int_equal(store_memctl_remove(f->s, x), -ENOENT);
	assert_int_equal(store_memctl_remove(f->s, ROOT), -EINVAL);
	commit_ok(f);
}

static void control_calls_on_unknown_or_invalid_controls_fail(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT), unknown = x + 1000, b = new_object(f, x);
	struct store_memctl_info i;

	assert_int_equal(store_memctl_add(f->s, unknown, unknown + 1), -ENOENT);
	assert_int_equal(store_memctl_add(f->s, ROOT, x), -EEXIST);
	assert_int_equal(store_memctl_add(f->s, ROOT, ROOT), -EEXIST);
	assert_int_equal(store_memctl_quota(f->s, ROOT, false, 10), -EINVAL);
	assert_int_equal(store_memctl_quota(f->s, unknown, false, 10), -ENOENT);
	assert_int_equal(store_memctl_quota(f->s, x, true, 0), -EINVAL); /* shares already */
	assert_int_equal(store_memctl_info(f->s, unknown, &i), -ENOENT);
	assert_int_equal(store_memctl_remove(f->s, unknown), -ENOENT);
	assert_int_equal(write_pages(f, b, unknown, 0, 1, 1), -ENOENT);
	expect_zero(f, b, 0, 1);
	assert_int_equal(store_memctl_quota(f->s, x, false, 0), 0); /* a zero quota: nothing fits */
	assert_int_equal(write_pages(f, b, x, 0, 1, 1), -ENOSPC);
	assert_int_equal(info(f, ROOT).usage_frames, 0);
	assert_int_equal(used_frames(f), 0);
	commit_ok(f);
	fx_reopen(f);
	assert_true(info(f, x).has_quota);
	assert_int_equal(info(f, x).guarantee_frames, 0);
	assert_store_ok(f);
}

static void quota_larger_than_the_parents_room_is_enospc(void **state)
{
	struct fx *f = *state;
	uint64_t x = new_control(f, ROOT), y = new_control(f, ROOT), z = new_control(f, x);
	uint64_t a = new_object(f, ROOT), bx = new_object(f, x), bz = new_object(f, z);
	uint64_t g = info(f, ROOT).available_frames, gx = g / 2 + 44, gy = g - gx, gz = gx - 10;

	assert_true(g >= 128 && g <= 512);
	assert_int_equal(store_memctl_quota(f->s, x, false, g + 1), -ENOSPC);
	assert_false(info(f, x).has_quota);
	assert_int_equal(store_memctl_quota(f->s, x, false, gx), 0);
	assert_int_equal(store_memctl_quota(f->s, y, false, gy + 1), -ENOSPC);
	assert_int_equal(store_memctl_quota(f->s, y, false, gy), 0);
	assert_int_equal(info(f, ROOT).available_frames, 0);
	assert_int_equal(write_pages(f, a, ROOT, 0, 1, 1), -ENOSPC);
	assert_int_equal(store_memctl_quota(f->s, z, false, gx + 1), -ENOSPC);
	assert_int_equal(store_memctl_quota(f->s, z, false, gz), 0);
	assert_int_equal(write_pages(f, bx, x, 0, 10, 1), 0);
	assert_int_equal(write_pages(f, bx, x, 10, 1, 1), -ENOSPC);
	assert_int_equal(store_memctl_quota(f->s, z, false, gz + 1), -ENOSPC); /* x's pool is used */
	assert_int_equal(write_pages(f, bz, z, 0, 20, 1), 0);
	assert_int_equal(store_memctl_quota(f->s, z, false, 19), -ENOSPC); /* below its usage */
	assert_int_equal(info(f, z).guarantee_frames, gz);
	assert_int_equal(info(f, x).usage_frames, 30);
	assert_int_equal(store_memctl_quota(f->s, y, true, 0), 0); /* back to sharing */
	assert_int_equal(info(f, ROOT).available_frames, gy);
	assert_int_equal(write_pages(f, a, ROOT, 0, 1, 1), 0);
	commit_ok(f);
	fx_reopen(f);
	assert_int_equal(info(f, z).guarantee_frames, gz);
	assert_int_equal(info(f, x).available_frames, 0);
	assert_int_equal(info(f, z).available_frames, gz - 20);
	assert_int_equal(info(f, ROOT).available_frames, gy - 1);
	assert_store_ok(f);
}

/* ---- gather and scatter ---- */

static void gather_and_scatter_round_trip_listed_pages(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT);
	static const uint64_t out[] = { 7, 3, 4, 5, 100, 0 };
	static const uint64_t in[] = { 5, 5, 100, 3, 7, 0, 4, 4, 1, 200, 201, 6, 5, 4, 3 };
	uint8_t *data = pages(PFS_ARRAY_SIZE(out)), *buf = pages(PFS_ARRAY_SIZE(in));

	for (size_t i = 0; i < PFS_ARRAY_SIZE(out); i++)
		fill_tag(data + i * PG, a, out[i], 9);
	assert_int_equal(store_scatter(f->io, a, ROOT, out, PFS_ARRAY_SIZE(out), data), 0);
	assert_int_equal(store_set_range(f->s, a, ROOT, 200, 2, PMAP_FILE, 40), 0);
	assert_int_equal(info(f, ROOT).usage_frames, PFS_ARRAY_SIZE(out));
	for (int round = 0; round < 2; round++) {
		assert_int_equal(store_gather(f->io, a, in, PFS_ARRAY_SIZE(in), buf, &tag_file), 0);
		for (size_t i = 0; i < PFS_ARRAY_SIZE(in); i++) {
			struct pg w = { PMAP_ZERO, 0, 0, 0 };
			for (size_t j = 0; j < PFS_ARRAY_SIZE(out); j++)
				if (out[j] == in[i])
					w = (struct pg){ PMAP_SWAP, a, in[i], 9 };
			if (in[i] >= 200)
				w = (struct pg){ PMAP_FILE, 0, 40 + in[i] - 200, 0 };
			const char *bad = page_mismatch(buf + i * PG, &w);
			if (bad)
				fail_msg("round %d entry %zu (page %llu) %s", round, i,
					 (unsigned long long)in[i], bad);
		}
		commit_ok(f);
	}
	free(data);
	free(buf);
}

/* ---- the far ends of the page space ---- */

static void the_last_page_of_the_page_space_is_accounted(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), last = UINT64_MAX - 1; /* [last, last + 1) ends at 2^64 - 1 */

	assert_int_equal(write_pages(f, a, ROOT, last, 1, 1), 0);
	assert_int_equal(write_pages(f, a, ROOT, 0, 1, 1), 0);
	expect_run(f, a, last, 1, PMAP_SWAP, a, last, 1);
	assert_int_equal(info(f, ROOT).usage_frames, 2);
	commit_ok(f);
	assert_int_equal(store_destroy(f->s, a, ROOT, del_object_fn, &a), 0);
	assert_int_equal(info(f, ROOT).usage_frames, 0);
	assert_int_equal(used_frames(f), 0);
	commit_ok(f);
}

static void clone_between_pages_2_63_apart(void **state)
{
	struct fx *f = *state;
	uint64_t a = new_object(f, ROOT), b = new_object(f, ROOT);
	uint64_t hi = (uint64_t)1 << 63, lo = 16;

	assert_int_equal(write_pages(f, a, ROOT, hi, 4, 1), 0);
	commit_ok(f);
	assert_int_equal(store_clone(f->s, a, b, ROOT, hi, lo, 4), 0);
	expect_run(f, b, lo, 4, PMAP_SWAP, a, hi, 1);
	assert_int_equal(store_clone(f->s, b, a, ROOT, lo, hi + 8, 4), 0);
	expect_run(f, a, hi + 8, 4, PMAP_SWAP, a, hi, 1);
	commit_ok(f);
}

/* ---- the randomized model ---- */

/*
 * The model knows, for every page of a few objects, its expected contents,
 * the frame it lives in (model numbering: a token per page-out page, shared
 * by clones) and the frame the committed map has there. From that it
 * predicts exactly: every call's result (quota and frame exhaustion
 * included) and whether it had to commit; each control's usage (swap page
 * references in its subtree) and available frames; and the frames in use,
 * |committed frames U current frames|, since a replaced committed frame is
 * freed only by the next commit while a replaced pending one goes back at
 * once.
 */
#define M_OBJS 4
#define M_PAGES 128
#define M_CTLS 8

struct mpage {
	struct pg c;
	uint64_t tok, ctok; /* current and committed frame (0: none) */
};

struct mctl {
	bool live, quota;
	uint64_t id, guarantee;
	int parent;
};

struct mobject {
	uint64_t id;
	int ctl;
	bool dirty; /* something pending since the last commit */
	struct mpage p[M_PAGES];
};

struct tally {
	const char *op;
	int rc;
	uint64_t commits, n;
};

struct model {
	struct fx *f;
	struct tally tally[48]; /* what the run exercised, printed at the end */
	uint64_t seed, rng, versions, tokens;
	uint64_t capacity; /* frames the swap store may grow to (swap_max) */
	int step;
	const char *op;
	struct mctl c[M_CTLS];
	struct mobject o[M_OBJS];
};

static void model_fail(const struct model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void model_fail(const struct model *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_msg("seed %llu step %d (%s): %s (PFS_SEED=%llu reproduces)",
		 (unsigned long long)m->seed, m->step, m->op, msg, (unsigned long long)m->seed);
}

static uint64_t rnd(struct model *m, uint64_t n)
{
	return tu_rand(&m->rng) % n;
}

static uint64_t m_swap(const struct mobject *o, uint64_t first, uint64_t end)
{
	uint64_t n = 0;

	for (uint64_t p = first; p < end && p < M_PAGES; p++)
		n += o->p[p].c.kind == PMAP_SWAP;
	return n;
}

static uint64_t m_charged(const struct model *m, int c)
{
	uint64_t n = 0;

	for (int i = 0; i < M_OBJS; i++)
		if (m->o[i].ctl == c)
			n += m_swap(&m->o[i], 0, M_PAGES);
	return n;
}

static uint64_t m_usage(const struct model *m, int c)
{
	uint64_t n = m_charged(m, c);

	for (int k = 1; k < M_CTLS; k++)
		if (m->c[k].live && m->c[k].parent == c)
			n += m_usage(m, k);
	return n;
}

static int m_owner(const struct model *m, int c)
{
	while (!m->c[c].quota)
		c = m->c[c].parent;
	return c;
}

/* pool - used of q, saturating; false in *fits if the quota invariant is broken. */
static uint64_t m_room(const struct model *m, int q, bool *fits)
{
	uint64_t used = 0, split = 0;

	for (int k = 0; k < M_CTLS; k++) {
		if (!m->c[k].live)
			continue;
		if (m_owner(m, k) == q)
			used += m_charged(m, k);
		else if (k && k != q && m->c[k].quota && m_owner(m, m->c[k].parent) == q)
			split += m->c[k].guarantee;
	}
	if (fits)
		*fits = split + used <= m->c[q].guarantee;
	return split + used <= m->c[q].guarantee ? m->c[q].guarantee - split - used : 0;
}

static bool m_valid(const struct model *m)
{
	bool fits = true;

	for (int q = 0; q < M_CTLS && fits; q++)
		if (m->c[q].live && m->c[q].quota)
			m_room(m, q, &fits);
	return fits;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct frames referenced by the current pages, and by the committed maps if asked. */
static uint64_t m_frames(const struct model *m, bool committed)
{
	static uint64_t v[2 * M_OBJS * M_PAGES];
	size_t n = 0, distinct = 0;

	for (int i = 0; i < M_OBJS; i++)
		for (int p = 0; p < M_PAGES; p++) {
			if (m->o[i].p[p].tok)
				v[n++] = m->o[i].p[p].tok;
			if (committed && m->o[i].p[p].ctok)
				v[n++] = m->o[i].p[p].ctok;
		}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		distinct += i == 0 || v[i] != v[i - 1];
	return distinct;
}

static void m_committed(struct model *m)
{
	for (int i = 0; i < M_OBJS; i++) {
		m->o[i].dirty = false;
		for (int p = 0; p < M_PAGES; p++)
			m->o[i].p[p].ctok = m->o[i].p[p].tok;
	}
}

static uint64_t m_commits(const struct model *m)
{
	struct store_stats st;

	store_get_stats(m->f->s, &st);
	return st.commits;
}

static void m_expect(struct model *m, int rc, int want, uint64_t commits_before,
		     uint64_t want_commits)
{
	uint64_t commits = m_commits(m) - commits_before;
	struct tally *t = m->tally;

	while (t->op && (strcmp(t->op, m->op) || t->rc != want || t->commits != want_commits))
		t++;
	assert_true(t < m->tally + PFS_ARRAY_SIZE(m->tally) - 1);
	*t = (struct tally){ m->op, want, want_commits, t->n + 1 };
	if (rc != want)
		model_fail(m, "returned %d, the model expects %d", rc, want);
	if (commits != want_commits)
		model_fail(m, "%llu commits, the model expects %llu", (unsigned long long)commits,
			   (unsigned long long)want_commits);
}

static void m_check_store(const struct model *m)
{
	char why[256] = "";

	if (store_check(m->f->s, why, sizeof(why)) != 0)
		model_fail(m, "store_check: %s", why);
}

static void m_verify_pages(struct model *m, int slot, const uint64_t *list, size_t n)
{
	struct mobject *o = &m->o[slot];
	uint8_t *buf = pages(n);
	int rc = store_gather(m->f->io, o->id, list, n, buf, &tag_file);

	if (rc != 0)
		model_fail(m, "gather of object %llu: %d", (unsigned long long)o->id, rc);
	for (size_t i = 0; i < n; i++) {
		const char *bad = page_mismatch(buf + i * PG, &o->p[list[i]].c);
		if (bad)
			model_fail(m, "object %llu (slot %d) page %llu %s", (unsigned long long)o->id,
				   slot, (unsigned long long)list[i], bad);
	}
	free(buf);
}

/* Everything the store shows against the model; every page if full, else a sample. */
static void m_verify(struct model *m, bool full)
{
	struct store_stats st;
	uint64_t list[M_PAGES];

	for (int k = 0; k < M_CTLS; k++) {
		struct store_memctl_info i;
		int rc;

		if (!m->c[k].id)
			continue; /* never used */
		rc = store_memctl_info(m->f->s, m->c[k].id, &i);
		if (!m->c[k].live) {
			if (rc != -ENOENT)
				model_fail(m, "removed control %llu: info %d", (unsigned long long)m->c[k].id, rc);
			continue;
		}
		if (rc != 0 || i.has_quota != m->c[k].quota ||
		    (k && i.guarantee_frames != m->c[k].guarantee) ||
		    i.usage_frames != m_usage(m, k) || i.available_frames != m_room(m, m_owner(m, k), NULL))
			model_fail(m, "control %llu: rc %d quota %d guarantee %llu usage %llu available %llu;"
				   " model: quota %d guarantee %llu usage %llu available %llu",
				   (unsigned long long)m->c[k].id, rc, i.has_quota,
				   (unsigned long long)i.guarantee_frames, (unsigned long long)i.usage_frames,
				   (unsigned long long)i.available_frames, m->c[k].quota,
				   (unsigned long long)m->c[k].guarantee, (unsigned long long)m_usage(m, k),
				   (unsigned long long)m_room(m, m_owner(m, k), NULL));
	}
	store_get_stats(m->f->s, &st);
	if (st.swap_frames > m->capacity || st.free_frames > st.swap_frames ||
	    st.swap_frames - st.free_frames != m_frames(m, true))
		model_fail(m, "swap %llu frames, %llu free; the model has %llu in use",
			   (unsigned long long)st.swap_frames, (unsigned long long)st.free_frames,
			   (unsigned long long)m_frames(m, true));
	for (int i = 0; i < M_OBJS; i++) {
		uint64_t z, fl, sw, want[3] = { 0, 0, 0 };
		for (int p = 0; p < M_PAGES; p++)
			want[m->o[i].p[p].c.kind]++;
		if (store_count_pages(m->f->s, m->o[i].id, M_PAGES, &z, &fl, &sw) != 0 ||
		    z != want[PMAP_ZERO] || fl != want[PMAP_FILE] || sw != want[PMAP_SWAP])
			model_fail(m, "object %llu counts zero/file/swap %llu/%llu/%llu, model %llu/%llu/%llu",
				   (unsigned long long)m->o[i].id, (unsigned long long)z,
				   (unsigned long long)fl, (unsigned long long)sw,
				   (unsigned long long)want[0], (unsigned long long)want[1],
				   (unsigned long long)want[2]);
		if (full) {
			for (int p = 0; p < M_PAGES; p++)
				list[p] = (uint64_t)p;
			m_verify_pages(m, i, list, M_PAGES);
		}
	}
	/* A sample list: runs, jumps and repeats. */
	for (int k = 0; k < 8; k++) {
		uint64_t r = rnd(m, 4);
		list[k] = k && r == 0 ? list[k - 1] : k && r == 1 ? (list[k - 1] + 1) % M_PAGES
								  : rnd(m, M_PAGES);
	}
	m_verify_pages(m, (int)rnd(m, M_OBJS), list, 8);
}

/* ---- model operations ---- */

static void m_page_out(struct model *m, int slot, uint64_t first, uint32_t n)
{
	struct mobject *o = &m->o[slot];
	uint64_t charge = n - m_swap(o, first, first + n), before = m_commits(m);
	bool quota = charge <= m_room(m, m_owner(m, o->ctl), NULL);
	bool at_once = quota && m_frames(m, true) + n <= m->capacity;
	bool after_commit = quota && m_frames(m, false) + n <= m->capacity;
	uint64_t version = ++m->versions;
	int rc = write_pages(m->f, o->id, m->c[o->ctl].id, first, n, version);

	/* A quota refusal needs no commit (it would not help); a lack of frames one. */
	if (!quota) {
		m->op = "page-out over quota";
		m_expect(m, rc, -ENOSPC, before, 0);
		return;
	}
	if (!at_once)
		m->op = "page-out without a free frame";
	m_expect(m, rc, at_once || after_commit ? 0 : -ENOSPC, before, at_once ? 0 : 1);
	if (!at_once)
		m_committed(m);
	if (rc < 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		o->p[first + i] = (struct mpage){ { PMAP_SWAP, o->id, first + i, version },
						  ++m->tokens, o->p[first + i].ctok };
	o->dirty = true;
}

/* Release (ZERO or FILE) [first, first + n); n may run far past the model's pages. */
static void m_set_range(struct model *m, int slot, uint64_t first, uint64_t n, int kind,
			uint64_t base)
{
	struct mobject *o = &m->o[slot];
	uint64_t before = m_commits(m);
	int rc = store_set_range(m->f->s, o->id, m->c[o->ctl].id, first, n, kind, base);

	m_expect(m, rc, 0, before, 0);
	for (uint64_t p = first; p - first < n && p < M_PAGES; p++) {
		struct pg c = { (uint8_t)kind, 0, kind == PMAP_FILE ? base + p - first : 0, 0 };
		o->p[p] = (struct mpage){ c, 0, o->p[p].ctok };
	}
	o->dirty = true;
}

static void m_clone(struct model *m, int src, int dst, uint64_t sf, uint64_t df, uint64_t n)
{
	struct mobject *s = &m->o[src], *d = &m->o[dst];
	bool overlap = src == dst && sf < df + n && df < sf + n, commits = s->dirty || d->dirty;
	int64_t charge = (int64_t)m_swap(s, sf, sf + n) - (int64_t)m_swap(d, df, df + n);
	bool fits = charge <= 0 || (uint64_t)charge <= m_room(m, m_owner(m, d->ctl), NULL);
	uint64_t before = m_commits(m);
	int rc = store_clone(m->f->s, s->id, d->id, m->c[d->ctl].id, sf, df, n);
	struct mpage tmp[M_PAGES];

	m->op = overlap ? "clone onto itself" : "clone";
	if (overlap) {
		m_expect(m, rc, -EINVAL, before, 0);
		return;
	}
	m_expect(m, rc, fits ? 0 : -ENOSPC, before, commits ? 1 : 0);
	if (commits)
		m_committed(m);
	if (rc < 0)
		return;
	memcpy(tmp, &s->p[sf], n * sizeof(tmp[0]));
	for (uint64_t i = 0; i < n; i++) /* durable at once: committed too */
		d->p[df + i] = (struct mpage){ tmp[i].c, tmp[i].tok, tmp[i].tok };
}

static void m_destroy(struct model *m, int slot)
{
	struct mobject *o = &m->o[slot];
	uint64_t before = m_commits(m);
	int rc = store_destroy(m->f->s, o->id, m->c[o->ctl].id, del_object_fn, &o->id);
	int live[M_CTLS], nlive = 0;

	m_expect(m, rc, 0, before, 0);
	memset(o->p, 0, sizeof(o->p));
	o->dirty = false;
	for (int k = 0; k < M_CTLS; k++)
		if (m->c[k].live)
			live[nlive++] = k;
	o->ctl = live[rnd(m, (uint64_t)nlive)];
	o->id = new_object(m->f, m->c[o->ctl].id);
}

static void m_quota(struct model *m, int k, bool clear, uint64_t frames)
{
	struct mctl saved = m->c[k];
	uint64_t before = m_commits(m);
	bool ok;
	int rc;

	m->c[k].quota = !clear;
	m->c[k].guarantee = clear ? 0 : frames;
	ok = m_valid(m);
	if (!ok)
		m->c[k] = saved;
	rc = store_memctl_quota(m->f->s, m->c[k].id, clear, frames);
	m_expect(m, rc, ok ? 0 : -ENOSPC, before, 0);
}

static void m_new_control(struct model *m, uint64_t quota_max)
{
	int k = 1, parent;

	while (k < M_CTLS && m->c[k].live)
		k++;
	if (k == M_CTLS)
		return;
	do
		parent = (int)rnd(m, M_CTLS);
	while (!m->c[parent].live);
	m->c[k] = (struct mctl){ true, false, new_control(m->f, m->c[parent].id), 0, parent };
	m->op = "quota split on a fresh control";
	m_quota(m, k, false, 1 + rnd(m, quota_max));
}

static void m_remove_control(struct model *m, int k)
{
	bool busy = m_usage(m, k) > 0;
	uint64_t before = m_commits(m);
	int rc;

	for (int c = 1; c < M_CTLS; c++)
		busy |= m->c[c].live && m->c[c].parent == k;
	for (int i = 0; i < M_OBJS; i++)
		if (m->o[i].ctl == k && !busy)
			return; /* a directory with files: the daemon would not try */
	rc = store_memctl_remove(m->f->s, m->c[k].id);
	m_expect(m, rc, busy ? -EBUSY : 0, before, 0);
	if (rc == 0)
		m->c[k].live = false;
}

static void m_commit(struct model *m)
{
	uint64_t before = m_commits(m);

	m->op = "commit";
	m_expect(m, store_commit(m->f->s), 0, before, 1);
	m_committed(m);
	m_check_store(m);
}

static void m_reopen(struct model *m)
{
	m->op = "reopen";
	fx_reopen(m->f);
	m_committed(m);
	m_check_store(m);
	m_verify(m, true);
}

/* Pick a swap page (shared by another page, if asked: a copy-on-write break). */
static bool m_swap_page(struct model *m, bool shared, int *slot, uint64_t *page)
{
	uint64_t start = rnd(m, M_OBJS * M_PAGES);

	for (uint64_t k = 0; k < M_OBJS * M_PAGES; k++) {
		uint64_t at = (start + k) % (M_OBJS * M_PAGES);
		const struct mpage *p = &m->o[at / M_PAGES].p[at % M_PAGES];
		int sharers = 0;
		for (int i = 0; i < M_OBJS && p->tok; i++)
			for (int q = 0; q < M_PAGES; q++)
				sharers += m->o[i].p[q].tok == p->tok;
		if (sharers > (shared ? 1 : 0)) {
			*slot = (int)(at / M_PAGES);
			*page = at % M_PAGES;
			return true;
		}
	}
	return false;
}

/*
 * steps operations, a commit every commit_every at least; full: release and
 * destroy less and split off smaller quotas, so the store runs full and
 * page-outs meet both the quotas and the end of the swap space.
 */
static void run_model(struct fx *f, uint64_t seed, int steps, int commit_every, bool full)
{
	struct model *m = calloc(1, sizeof(*m));
	static const int ctl_of[M_OBJS] = { 0, 1, 2, 3 };

	m->f = f;
	m->seed = m->rng = seed;
	m->capacity = f->opt.swap_max_bytes / PG;
	m->op = "setup";
	/* root (guaranteeing what the store lets be charged: at most its frames); A
	 * shares root's frames; B has a quota; C shares B's. */
	m->c[0] = (struct mctl){ true, true, ROOT, info(f, ROOT).guarantee_frames, -1 };
	assert_true(m->c[0].guarantee <= m->capacity);
	m->c[1] = (struct mctl){ true, false, new_control(f, ROOT), 0, 0 };
	m->c[2] = (struct mctl){ true, true, new_control(f, ROOT), m->capacity / 4, 0 };
	assert_int_equal(store_memctl_quota(f->s, m->c[2].id, false, m->capacity / 4), 0);
	m->c[3] = (struct mctl){ true, false, new_control(f, m->c[2].id), 0, 2 };
	for (int i = 0; i < M_OBJS; i++) {
		m->o[i].ctl = ctl_of[i];
		m->o[i].id = new_object(f, m->c[ctl_of[i]].id);
	}
	for (m->step = 0; m->step < steps; m->step++) {
		int slot = (int)rnd(m, M_OBJS), r = (int)rnd(m, 100);
		uint64_t first = rnd(m, M_PAGES), page;
		uint32_t n = 1 + (uint32_t)rnd(m, PFS_MIN(16, M_PAGES - first));
		uint64_t quota_max = m->capacity / (full ? 8 : 2);

		if (full && ((r >= 38 && r < 54) || (r >= 70 && r < 74)) && rnd(m, 4))
			r = 99; /* an overwrite instead of a release */
		m->op = "page-out";
		if (r < 30) {
			m_page_out(m, slot, first, n);
		} else if (r < 38) {
			if (m_swap_page(m, true, &slot, &page)) {
				first = page;
				m->op = "copy-on-write page-out";
			}
			m_page_out(m, slot, first, (uint32_t)PFS_MIN(1 + rnd(m, 2), M_PAGES - first));
		} else if (r < 46) {
			m->op = "release to zero";
			m_set_range(m, slot, first, n, PMAP_ZERO, 0);
		} else if (r < 51) {
			m->op = "release to file";
			m_set_range(m, slot, first, n, PMAP_FILE, 1000 + rnd(m, 4096));
		} else if (r < 54) {
			m->op = "resize (zero to the end of the page space)";
			m_set_range(m, slot, first, UINT64_MAX - first, PMAP_ZERO, 0);
		} else if (r < 70) {
			uint64_t len = 1 + rnd(m, 32);
			int dst = rnd(m, 3) ? (int)rnd(m, M_OBJS) : slot;
			m_clone(m, slot, dst, rnd(m, M_PAGES - len + 1), rnd(m, M_PAGES - len + 1), len);
		} else if (r < 74) {
			m->op = "destroy";
			m_destroy(m, slot);
		} else if (r < 78) {
			m_new_control(m, quota_max);
		} else if (r < 83) {
			int k = 1 + (int)rnd(m, M_CTLS - 1);
			m->op = "quota change";
			if (m->c[k].live)
				m_quota(m, k, m->c[k].quota && rnd(m, 3) == 0, rnd(m, quota_max + 1));
		} else if (r < 86) {
			int k = 1 + (int)rnd(m, M_CTLS - 1);
			m->op = "remove control";
			if (m->c[k].live)
				m_remove_control(m, k);
		} else if (r < 92) {
			m_commit(m);
		} else {
			/* Overwrite swap pages: no new charge, but fresh frames. */
			if (m_swap_page(m, false, &slot, &page)) {
				first = page;
				m->op = "overwrite";
				for (n = 1; n < 16 && first + n < M_PAGES &&
					    m->o[slot].p[first + n].c.kind == PMAP_SWAP; n++)
					;
			}
			m_page_out(m, slot, first, n);
		}
		if (m->step % commit_every == commit_every - 1)
			m_commit(m);
		if (m->step == steps / 3 || m->step == 2 * steps / 3 || rnd(m, 500) == 0)
			m_reopen(m);
		m_verify(m, m->step % 50 == 0);
	}
	m_commit(m);
	m_reopen(m);
	for (struct tally *t = m->tally; t->op; t++)
		fprintf(stderr, "#   %6llu x %s: %d%s\n", (unsigned long long)t->n, t->op, t->rc,
			t->commits ? " after a commit" : "");
	free(m);
}

static void random_container_ops_match_the_model(void **state)
{
	run_model(*state, tu_seed(20261203), 3000, 8, false);
}

static void random_ops_near_swap_exhaustion_match_the_model(void **state)
{
	run_model(*state, tu_seed(20261203) + 1, 2000, 24, true);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(clone_then_write_to_either_side_leaves_the_other_intact),
		T(clone_copies_file_and_zero_runs),
		T(clone_onto_itself_overlapping_is_einval_disjoint_is_allowed),
		T(ranges_past_2_64_are_einval),
		T(clone_into_a_control_without_room_is_enospc_and_changes_nothing),
		T(releasing_shared_pages_frees_frames_only_with_the_last_reference),
		T(destroying_a_cloned_object_keeps_the_clone),
		T(page_out_over_quota_is_enospc_and_changes_nothing),
		T(full_swap_store_refuses_new_pages_not_overwrites),
		cmocka_unit_test_setup_teardown(swap_never_grows_past_swap_max, fx_setup_partial_chunk,
						fx_teardown),
		T(removing_a_control_still_charged_is_ebusy),
		T(control_calls_on_unknown_or_invalid_controls_fail),
		T(quota_larger_than_the_parents_room_is_enospc),
		T(gather_and_scatter_round_trip_listed_pages),
		T(random_container_ops_match_the_model),
		cmocka_unit_test_setup_teardown(random_ops_near_swap_exhaustion_match_the_model,
						fx_setup_tight, fx_teardown),
		T(the_last_page_of_the_page_space_is_accounted),
		T(clone_between_pages_2_63_apart),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]); /* e.g. "random_*" */
	return cmocka_run_group_tests_name("physmem", tests, NULL, NULL);
}
