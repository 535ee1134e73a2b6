/*
 * Description: page-map extents: split and merge on every boundary, over the
 * catalogue and the in-memory store alike; O(1) records for sparse objects;
 * damaged records rejected; a randomized model check; reference counts as
 * runs.
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
#include "pagemap.h"
#include "testutil.h"

/*
 * Each test runs against a backend: the catalogue (LMDB, ZERO as absence) or
 * the in-memory sparse store, which must behave identically.
 */
enum backend { BK_CAT, BK_MEM };

struct fixture {
	enum backend bk;
	char *dir;
	struct cat *cat;
	struct extent_mem mem;
	uint64_t owner;
};

typedef int (*map_fn)(struct extent_map *m, void *arg);

struct trampoline {
	struct fixture *fx;
	map_fn fn;
	void *arg;
};

static int in_txn(struct cat_txn *txn, void *p)
{
	struct trampoline *t = p;
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_EXTENTS, t->fx->owner);
	return t->fn(&m, t->arg);
}

/* Run fn on the fixture's map (inside one write transaction for the catalogue). */
static int with_map(struct fixture *fx, map_fn fn, void *arg)
{
	if (fx->bk == BK_MEM) {
		struct extent_map m = { &extent_mem_sparse_ops, &fx->mem };
		return fn(&m, arg);
	}
	struct trampoline t = { fx, fn, arg };
	return cat_write(fx->cat, in_txn, &t);
}

static int setup_cat(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->bk = BK_CAT;
	fx->dir = tu_tmpdir("pmap");
	fx->owner = 17;
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
	*state = fx;
	return 0;
}

static int setup_mem(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->bk = BK_MEM;
	extent_mem_init(&fx->mem);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	if (fx->cat)
		cat_close(fx->cat);
	tu_rmtree(fx->dir);
	free(fx->dir);
	extent_mem_clear(&fx->mem);
	free(fx);
	return 0;
}

/* ---- operations as map_fns ---- */

struct set_arg {
	struct pmap_extent e;
	struct pmap_extent dropped[16];
	int ndropped;
};

static int record_drop(void *arg, const struct pmap_extent *piece)
{
	struct set_arg *sa = arg;
	assert_true(sa->ndropped < 16);
	sa->dropped[sa->ndropped] = *piece;
	sa->dropped[sa->ndropped].sums = NULL; /* not valid after the call */
	sa->ndropped++;
	return 0;
}

static int set_fn(struct extent_map *m, void *arg)
{
	struct set_arg *sa = arg;
	return extent_set(m, &sa->e, record_drop, sa);
}

/* Checksums for a SWAP run: page i of frame f has sum f*1000+i. */
static uint8_t *make_sums(uint64_t frame, uint64_t n)
{
	uint8_t *s = malloc(n * 8);
	for (uint64_t i = 0; i < n; i++)
		pmap_sum_put(s, i, (frame + i) * 1000 + 7);
	return s;
}

static int set_ext(struct fixture *fx, uint64_t first, uint64_t n, int kind, uint64_t base,
		   struct set_arg *out)
{
	struct set_arg local;
	struct set_arg *sa = out ? out : &local;
	uint8_t *sums = kind == PMAP_SWAP ? make_sums(base, n) : NULL;
	int rc;

	memset(sa, 0, sizeof(*sa));
	sa->e = (struct pmap_extent){ first, n, (uint8_t)kind, base, sums };
	rc = with_map(fx, set_fn, sa);
	free(sums);
	return rc;
}

struct snapshot {
	struct pmap_extent e[64];
	int n;
	int check;
};

static int snap_one(const struct pmap_extent *piece, void *arg)
{
	struct snapshot *s = arg;
	assert_true(s->n < 64);
	/* Every SWAP page carries the checksum of the frame it maps. */
	if (piece->kind == PMAP_SWAP)
		for (uint64_t i = 0; i < piece->npages; i++)
			assert_int_equal(pmap_sum_at(piece->sums, i), (piece->base + i) * 1000 + 7);
	s->e[s->n] = *piece;
	s->e[s->n].sums = NULL;
	s->n++;
	return 0;
}

static int snap_fn(struct extent_map *m, void *arg)
{
	struct snapshot *s = arg;
	s->check = extent_check(m);
	return extent_foreach(m, 0, 1ULL << 40, true, snap_one, s);
}

/* The stored extents (holes skipped), after checking the map's invariants. */
static struct snapshot snap(struct fixture *fx)
{
	struct snapshot s = { .n = 0 };
	assert_int_equal(with_map(fx, snap_fn, &s), 0);
	assert_int_equal(s.check, 0);
	return s;
}

static void expect(const struct snapshot *s, int i, uint64_t first, uint64_t n, int kind,
		   uint64_t base)
{
	assert_true(i < s->n);
	assert_int_equal(s->e[i].first, first);
	assert_int_equal(s->e[i].npages, n);
	assert_int_equal(s->e[i].kind, kind);
	assert_int_equal(s->e[i].base, base);
}

/* ---- boundary cases ---- */

static void set_on_empty_map_stores_one_extent(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(set_ext(fx, 10, 5, PMAP_FILE, 100, NULL), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 1);
	expect(&s, 0, 10, 5, PMAP_FILE, 100);
}

static int lookup_fn(struct extent_map *m, void *arg)
{
	struct pmap_extent *io = arg;
	int rc = extent_lookup(m, io->first, io);
	io->sums = NULL;
	return rc < 0 ? rc : 0;
}

static void lookup_finds_extents_and_whole_holes(void **state)
{
	struct fixture *fx = *state;
	struct pmap_extent x;

	assert_int_equal(set_ext(fx, 10, 5, PMAP_FILE, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 30, 2, PMAP_SWAP, 7, NULL), 0);
	x.first = 12;
	assert_int_equal(with_map(fx, lookup_fn, &x), 0);
	assert_int_equal(x.kind, PMAP_FILE);
	assert_int_equal(x.first, 10);
	x.first = 20; /* the hole between */
	assert_int_equal(with_map(fx, lookup_fn, &x), 0);
	assert_int_equal(x.kind, PMAP_ZERO);
	assert_int_equal(x.first, 15);
	assert_int_equal(x.npages, 15);
	x.first = 3; /* the hole before */
	assert_int_equal(with_map(fx, lookup_fn, &x), 0);
	assert_int_equal(x.first, 0);
	assert_int_equal(x.npages, 10);
	x.first = 40; /* the hole after, to the end of the page space */
	assert_int_equal(with_map(fx, lookup_fn, &x), 0);
	assert_int_equal(x.kind, PMAP_ZERO);
	assert_int_equal(x.first, 32);
	assert_int_equal(x.npages, UINT64_MAX - 32);
}

static void overlap_at_start_keeps_the_tail(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 10, 10, PMAP_FILE, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 5, 8, PMAP_SWAP, 50, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 2);
	expect(&s, 0, 5, 8, PMAP_SWAP, 50);
	expect(&s, 1, 13, 7, PMAP_FILE, 103);
	assert_int_equal(sa.ndropped, 1);
	assert_int_equal(sa.dropped[0].first, 10);
	assert_int_equal(sa.dropped[0].npages, 3);
	assert_int_equal(sa.dropped[0].base, 100);
}

static void overlap_at_end_keeps_the_head(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 10, 10, PMAP_SWAP, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 15, 10, PMAP_FILE, 0, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 2);
	expect(&s, 0, 10, 5, PMAP_SWAP, 100);
	expect(&s, 1, 15, 10, PMAP_FILE, 0);
	assert_int_equal(sa.ndropped, 1);
	assert_int_equal(sa.dropped[0].first, 15);
	assert_int_equal(sa.dropped[0].npages, 5);
	assert_int_equal(sa.dropped[0].base, 105);
}

static void overlap_in_middle_splits_in_three(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 0, 100, PMAP_SWAP, 1000, NULL), 0);
	assert_int_equal(set_ext(fx, 40, 10, PMAP_FILE, 5, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 3);
	expect(&s, 0, 0, 40, PMAP_SWAP, 1000);
	expect(&s, 1, 40, 10, PMAP_FILE, 5);
	expect(&s, 2, 50, 50, PMAP_SWAP, 1050);
	assert_int_equal(sa.ndropped, 1);
	assert_int_equal(sa.dropped[0].base, 1040);
	assert_int_equal(sa.dropped[0].npages, 10);
}

static void exact_overlap_replaces(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 10, 10, PMAP_FILE, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 10, PMAP_SWAP, 3, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 1);
	expect(&s, 0, 10, 10, PMAP_SWAP, 3);
	assert_int_equal(sa.ndropped, 1);
	assert_int_equal(sa.dropped[0].kind, PMAP_FILE);
	assert_int_equal(sa.dropped[0].npages, 10);
}

static void overlap_spanning_several_extents(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 0, 10, PMAP_FILE, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 10, PMAP_SWAP, 500, NULL), 0);
	assert_int_equal(set_ext(fx, 25, 5, PMAP_FILE, 900, NULL), 0);
	assert_int_equal(set_ext(fx, 30, 10, PMAP_SWAP, 800, NULL), 0);
	assert_int_equal(set_ext(fx, 5, 30, PMAP_SWAP, 2000, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 3);
	expect(&s, 0, 0, 5, PMAP_FILE, 0);
	expect(&s, 1, 5, 30, PMAP_SWAP, 2000);
	expect(&s, 2, 35, 5, PMAP_SWAP, 805);
	assert_int_equal(sa.ndropped, 4); /* holes are not reported */
	uint64_t dropped_pages = 0;
	for (int i = 0; i < sa.ndropped; i++)
		dropped_pages += sa.dropped[i].npages;
	assert_int_equal(dropped_pages, 5 + 10 + 5 + 5);
}

static void contiguous_neighbours_merge(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(set_ext(fx, 0, 10, PMAP_FILE, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 20, 10, PMAP_FILE, 120, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 10, PMAP_FILE, 110, NULL), 0); /* fills the gap exactly */
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 1);
	expect(&s, 0, 0, 30, PMAP_FILE, 100);
}

static void discontiguous_neighbours_do_not_merge(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(set_ext(fx, 0, 10, PMAP_FILE, 100, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 10, PMAP_FILE, 200, NULL), 0);
	assert_int_equal(set_ext(fx, 20, 10, PMAP_SWAP, 30, NULL), 0);
	assert_int_equal(set_ext(fx, 30, 10, PMAP_SWAP, 50, NULL), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 4);
}

static void swap_runs_merge_with_their_checksums(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(set_ext(fx, 0, 4, PMAP_SWAP, 10, NULL), 0);
	assert_int_equal(set_ext(fx, 8, 4, PMAP_SWAP, 18, NULL), 0);
	assert_int_equal(set_ext(fx, 4, 4, PMAP_SWAP, 14, NULL), 0);
	struct snapshot s = snap(fx); /* snap_one checks every page's checksum */
	assert_int_equal(s.n, 1);
	expect(&s, 0, 0, 12, PMAP_SWAP, 10);
}

static void large_swap_runs_are_stored_in_capped_records(void **state)
{
	struct fixture *fx = *state;
	uint64_t n = PMAP_SWAP_RUN_MAX * 2 + 100;

	assert_int_equal(set_ext(fx, 0, n, PMAP_SWAP, 0, NULL), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 3);
	expect(&s, 0, 0, PMAP_SWAP_RUN_MAX, PMAP_SWAP, 0);
	expect(&s, 2, PMAP_SWAP_RUN_MAX * 2, 100, PMAP_SWAP, PMAP_SWAP_RUN_MAX * 2);
	/* Splitting a capped record in the middle keeps every checksum right. */
	assert_int_equal(set_ext(fx, 500, 10, PMAP_ZERO, 0, NULL), 0);
	s = snap(fx);
	assert_int_equal(s.n, 4);
}

static void zero_punches_a_hole_and_reports_it(void **state)
{
	struct fixture *fx = *state;
	struct set_arg sa;

	assert_int_equal(set_ext(fx, 0, 100, PMAP_SWAP, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 20, PMAP_ZERO, 0, &sa), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 2);
	expect(&s, 0, 0, 10, PMAP_SWAP, 0);
	expect(&s, 1, 30, 70, PMAP_SWAP, 30);
	assert_int_equal(sa.ndropped, 1);
	assert_int_equal(sa.dropped[0].base, 10);
	assert_int_equal(sa.dropped[0].npages, 20);
}

static void invalid_extents_are_refused(void **state)
{
	struct fixture *fx = *state;
	uint8_t sums[8] = { 0 };
	struct set_arg sa = { 0 };

	sa.e = (struct pmap_extent){ 0, 0, PMAP_FILE, 0, NULL };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	sa.e = (struct pmap_extent){ UINT64_MAX - 1, 5, PMAP_FILE, 0, NULL };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	sa.e = (struct pmap_extent){ 0, 1, PMAP_SWAP, 0, NULL };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	sa.e = (struct pmap_extent){ 0, 1, PMAP_FILE, 0, sums };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	sa.e = (struct pmap_extent){ 0, 1, 9, 0, NULL };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	sa.e = (struct pmap_extent){ 0, 2, PMAP_FILE, UINT64_MAX, NULL };
	assert_int_equal(with_map(fx, set_fn, &sa), -EINVAL);
	assert_int_equal(snap(fx).n, 0);
}

/* ---- randomized model check ---- */

#define MODEL_PAGES 512

struct model_page {
	uint8_t kind;
	uint64_t where; /* FILE page or SWAP frame */
};

static void model_check_against_map(struct fixture *fx, struct model_page *model, uint64_t seed,
				    int step)
{
	/* Walk the map, holes included, and compare each page with the model. */
	for (uint64_t pos = 0; pos < MODEL_PAGES;) {
		struct pmap_extent x = { .first = pos };
		assert_int_equal(with_map(fx, lookup_fn, &x), 0);
		uint64_t end = PFS_MIN(x.first + x.npages, (uint64_t)MODEL_PAGES);
		for (uint64_t p = pos; p < end; p++) {
			uint64_t where = x.kind == PMAP_ZERO ? 0 : x.base + (p - x.first);
			if (model[p].kind != x.kind || model[p].where != where)
				fail_msg("seed %llu step %d page %llu: model %d/%llu map %d/%llu",
					 (unsigned long long)seed, step, (unsigned long long)p,
					 model[p].kind, (unsigned long long)model[p].where, x.kind,
					 (unsigned long long)where);
		}
		pos = end;
	}
}

static void random_edits_match_a_page_array_model(void **state)
{
	struct fixture *fx = *state;
	struct model_page model[MODEL_PAGES] = { { 0 } };
	uint64_t seed = tu_seed(20261121), rng = seed;

	for (int step = 0; step < 1500; step++) {
		uint64_t first = tu_rand(&rng) % MODEL_PAGES;
		uint64_t n = 1 + tu_rand(&rng) % PFS_MIN((uint64_t)64, MODEL_PAGES - first);
		int kind = (int)(tu_rand(&rng) % 3);
		/* Small bases make accidental contiguity (and so merges) common. */
		uint64_t base = kind == PMAP_ZERO ? 0 : tu_rand(&rng) % 8 * 64 + first % 3;
		struct set_arg sa;
		uint64_t dropped = 0, stored_before = 0;

		for (uint64_t p = first; p < first + n; p++)
			stored_before += model[p].kind != PMAP_ZERO;
		assert_int_equal(set_ext(fx, first, n, kind, base, &sa), 0);
		for (int i = 0; i < sa.ndropped; i++)
			dropped += sa.dropped[i].npages;
		if (dropped != stored_before)
			fail_msg("seed %llu step %d: dropped %llu pages, model had %llu",
				 (unsigned long long)seed, step, (unsigned long long)dropped,
				 (unsigned long long)stored_before);
		for (uint64_t p = first; p < first + n; p++)
			model[p] = (struct model_page){ (uint8_t)kind,
							kind == PMAP_ZERO ? 0 : base + (p - first) };
		if (step % 50 == 0 || step == 1499) {
			model_check_against_map(fx, model, seed, step);
			(void)snap(fx); /* invariants + checksums */
		}
	}
}

/* ---- catalogue-only: sparse cost, persistence, records, counts ---- */

static int records_fn(struct cat_txn *txn, void *arg)
{
	return pmap_records(txn, 17, arg);
}

static uint64_t records(struct fixture *fx)
{
	uint64_t n = 0;
	assert_int_equal(cat_write(fx->cat, records_fn, &n), 0);
	return n;
}

static void terabyte_sparse_object_costs_constant_records(void **state)
{
	struct fixture *fx = *state;
	uint64_t tib_pages = (1ULL << 40) / PFS_PAGE_SIZE;

	assert_int_equal(records(fx), 0); /* all zero: nothing stored */
	assert_int_equal(set_ext(fx, 0, tib_pages, PMAP_FILE, 0, NULL), 0);
	assert_int_equal(records(fx), 1);
	assert_int_equal(set_ext(fx, tib_pages / 2, 1, PMAP_SWAP, 9, NULL), 0);
	assert_int_equal(records(fx), 3);
	assert_int_equal(set_ext(fx, 0, tib_pages, PMAP_ZERO, 0, NULL), 0);
	assert_int_equal(records(fx), 0);
}

struct count_arg {
	uint64_t npages;
	struct pmap_counts c;
};

static int count_fn(struct cat_txn *txn, void *arg)
{
	struct count_arg *ca = arg;
	return pmap_count(txn, 17, ca->npages, &ca->c);
}

static void page_counts_by_kind(void **state)
{
	struct fixture *fx = *state;
	struct count_arg ca = { .npages = 1000 };

	assert_int_equal(set_ext(fx, 0, 100, PMAP_FILE, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 50, 10, PMAP_SWAP, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 990, 20, PMAP_SWAP, 100, NULL), 0); /* crosses npages */
	assert_int_equal(cat_write(fx->cat, count_fn, &ca), 0);
	assert_int_equal(ca.c.file, 90);
	assert_int_equal(ca.c.swap, 20);
	assert_int_equal(ca.c.zero, 890);
}

static void map_persists_across_reopen(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(set_ext(fx, 0, 10, PMAP_SWAP, 40, NULL), 0);
	assert_int_equal(set_ext(fx, 20, 10, PMAP_FILE, 3, NULL), 0);
	cat_close(fx->cat);
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 2);
	expect(&s, 0, 0, 10, PMAP_SWAP, 40);
	expect(&s, 1, 20, 10, PMAP_FILE, 3);
}

static void owners_do_not_see_each_other(void **state)
{
	struct fixture *fx = *state;

	fx->owner = 16;
	assert_int_equal(set_ext(fx, 0, 10, PMAP_FILE, 0, NULL), 0);
	fx->owner = 18;
	assert_int_equal(set_ext(fx, 5, 10, PMAP_FILE, 0, NULL), 0);
	fx->owner = 17;
	assert_int_equal(snap(fx).n, 0);
	assert_int_equal(set_ext(fx, 0, 100, PMAP_SWAP, 0, NULL), 0);
	fx->owner = 16;
	assert_int_equal(snap(fx).n, 1);
	fx->owner = 18;
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 1);
	expect(&s, 0, 5, 10, PMAP_FILE, 0);
}

struct drop_count {
	uint64_t pages;
};

static int count_drop(void *arg, const struct pmap_extent *piece)
{
	((struct drop_count *)arg)->pages += piece->npages;
	return 0;
}

static int delete_all_fn(struct cat_txn *txn, void *arg)
{
	return pmap_delete_all(txn, 17, count_drop, arg);
}

static void delete_all_reports_every_page(void **state)
{
	struct fixture *fx = *state;
	struct drop_count dc = { 0 };

	assert_int_equal(set_ext(fx, 0, 10, PMAP_SWAP, 40, NULL), 0);
	assert_int_equal(set_ext(fx, 1ULL << 30, 7, PMAP_FILE, 3, NULL), 0);
	assert_int_equal(cat_write(fx->cat, delete_all_fn, &dc), 0);
	assert_int_equal(dc.pages, 17);
	assert_int_equal(records(fx), 0);
}

static void extent_record_round_trip_and_damage(void **state)
{
	uint8_t buf[64 + 8 * 3], *sums = make_sums(5, 3);
	struct pmap_extent e = { 100, 3, PMAP_SWAP, 5, sums }, d;
	int len = pmap_extent_encode(&e, buf, sizeof(buf));

	assert_true(len > 0);
	assert_int_equal(pmap_extent_decode(100, buf, (size_t)len, &d), 0);
	assert_int_equal(d.npages, 3);
	assert_int_equal(d.base, 5);
	assert_int_equal(pmap_sum_at(d.sums, 2), 7007);
	for (int n = 0; n < len; n++)
		assert_int_equal(pmap_extent_decode(100, buf, (size_t)n, &d), -EINVAL);
	for (int i = 0; i < len; i++) {
		buf[i] ^= 1;
		assert_int_equal(pmap_extent_decode(100, buf, (size_t)len, &d), -EINVAL);
		buf[i] ^= 1;
	}
	struct pmap_extent zero = { 0, 3, PMAP_ZERO, 0, NULL };
	len = pmap_extent_encode(&zero, buf, sizeof(buf));
	assert_true(len > 0); /* encodable (overlays), but never a valid catalogue record */
	assert_int_equal(pmap_extent_decode(0, buf, (size_t)len, &d), -EINVAL);
	free(sums);
}

static int put_garbage_fn(struct cat_txn *txn, void *arg)
{
	uint8_t key[16] = { 0 };
	key[7] = 17; /* owner 17, first page 0 */
	return cat_put(txn, CAT_T_EXTENTS, key, sizeof(key), "xx", 2);
}

static void damaged_extent_in_store_is_einval_not_a_crash(void **state)
{
	struct fixture *fx = *state;
	struct pmap_extent x = { .first = 0 };

	assert_int_equal(cat_write(fx->cat, put_garbage_fn, NULL), 0);
	assert_int_equal(with_map(fx, lookup_fn, &x), -EINVAL);
	assert_int_equal(set_ext(fx, 0, 1, PMAP_FILE, 0, NULL), -EINVAL);
}

/* ---- in-memory overlay: zeros are data ---- */

static void overlay_records_zero_extents(void **state)
{
	struct extent_mem mem;
	struct extent_map m;
	struct pmap_extent zero = { 10, 5, PMAP_ZERO, 0, NULL }, x;

	extent_mem_init(&mem);
	m = extent_mem_map(&mem);
	assert_int_equal(extent_set(&m, &zero, NULL, NULL), 0);
	assert_int_equal(mem.n, 1);
	assert_int_equal(extent_lookup(&m, 12, &x), 0); /* stored, not a hole */
	assert_int_equal(x.kind, PMAP_ZERO);
	assert_int_equal(x.first, 10);
	assert_int_equal(x.npages, 5);
	zero.first = 15; /* adjacent zeros merge */
	assert_int_equal(extent_set(&m, &zero, NULL, NULL), 0);
	assert_int_equal(mem.n, 1);
	assert_int_equal(extent_check(&m), 0);
	assert_int_equal(extent_lookup(&m, 30, &x), 1); /* a hole: see the layer below */
	extent_mem_clear(&mem);
}

static void free_map_runs_merge(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(set_ext(fx, 0, 10, PMAP_FREE, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 20, 10, PMAP_FREE, 0, NULL), 0);
	assert_int_equal(set_ext(fx, 10, 10, PMAP_FREE, 0, NULL), 0);
	struct snapshot s = snap(fx);
	assert_int_equal(s.n, 1);
	expect(&s, 0, 0, 30, PMAP_FREE, 0);
}

/* ---- physmem's reference counts, as runs ---- */

struct ref_op {
	char op; /* 'a' add, 'd' drop, 's' set */
	uint64_t first, n, count;
	struct { uint64_t first, n; } freed[8];
	size_t nfreed;
};

static int note_freed(void *arg, uint64_t first, uint64_t n)
{
	struct ref_op *r = arg;

	if (r->nfreed == PFS_ARRAY_SIZE(r->freed))
		return -E2BIG;
	r->freed[r->nfreed].first = first;
	r->freed[r->nfreed++].n = n;
	return 0;
}

static int ref_op_txn(struct cat_txn *txn, void *arg)
{
	struct ref_op *r = arg;

	r->nfreed = 0;
	if (r->op == 'a')
		return pmap_ref_add(txn, r->first, r->n);
	if (r->op == 'd')
		return pmap_ref_drop(txn, r->first, r->n, note_freed, r);
	return pmap_ref_set(txn, r->first, r->n, r->count);
}

static int ref_op(struct fixture *fx, struct ref_op *r)
{
	return cat_write(fx->cat, ref_op_txn, r);
}

static uint64_t ref_count(struct fixture *fx, uint64_t frame)
{
	struct cat_txn *txn;
	uint64_t c = 0;

	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(pmap_ref_get(txn, frame, &c), 0);
	cat_read_end(txn);
	return c;
}

static uint64_t ref_records(struct fixture *fx)
{
	struct cat_txn *txn;
	uint64_t n = 0;

	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_count(txn, CAT_T_REFS, &n), 0);
	cat_read_end(txn);
	return n;
}

/* Sharing 1 GiB of frames, a SWAP record (1024 pages) at a time as a commit does, costs one record. */
static void sharing_a_long_run_costs_one_reference_record(void **state)
{
	struct fixture *fx = *state;

	for (uint64_t f = 0; f < 262144; f += PMAP_SWAP_RUN_MAX) {
		struct ref_op add = { 'a', f, PMAP_SWAP_RUN_MAX, 0, { { 0, 0 } }, 0 };
		assert_int_equal(ref_op(fx, &add), 0);
	}
	assert_int_equal(ref_records(fx), 1);
	assert_int_equal(ref_count(fx, 0), 2);
	assert_int_equal(ref_count(fx, 262143), 2);
	assert_int_equal(ref_count(fx, 262144), 1); /* past the run: no record, one reference */

	/* A third reference to part of it splits the run in three... */
	struct ref_op mid = { 'a', 1000, 50, 0, { { 0, 0 } }, 0 };
	assert_int_equal(ref_op(fx, &mid), 0);
	assert_int_equal(ref_records(fx), 3);
	assert_int_equal(ref_count(fx, 999), 2);
	assert_int_equal(ref_count(fx, 1000), 3);
	assert_int_equal(ref_count(fx, 1049), 3);
	assert_int_equal(ref_count(fx, 1050), 2);
	/* ...and dropping it joins them again, freeing nothing. */
	mid.op = 'd';
	assert_int_equal(ref_op(fx, &mid), 0);
	assert_int_equal(mid.nfreed, 0);
	assert_int_equal(ref_records(fx), 1);
}

/* Frames at one reference go to the caller as freed runs; frames at two lose their record. */
static void dropping_references_reports_unused_frames(void **state)
{
	struct fixture *fx = *state;
	struct ref_op set = { 's', 10, 10, 2, { { 0, 0 } }, 0 };
	struct ref_op drop = { 'd', 5, 20, 0, { { 0, 0 } }, 0 };

	assert_int_equal(ref_op(fx, &set), 0);
	assert_int_equal(ref_op(fx, &drop), 0);
	assert_int_equal(drop.nfreed, 2);
	assert_int_equal(drop.freed[0].first, 5);
	assert_int_equal(drop.freed[0].n, 5);
	assert_int_equal(drop.freed[1].first, 20);
	assert_int_equal(drop.freed[1].n, 5);
	assert_int_equal(ref_records(fx), 0);
	assert_int_equal(ref_count(fx, 15), 1);
	/* The middle now has one reference each: dropping it frees it whole. */
	drop.first = 10;
	drop.n = 10;
	assert_int_equal(ref_op(fx, &drop), 0);
	assert_int_equal(drop.nfreed, 1);
	assert_int_equal(drop.freed[0].first, 10);
	assert_int_equal(drop.freed[0].n, 10);
	/* Setting a count of one (or none) removes a record. */
	set.count = 4;
	assert_int_equal(ref_op(fx, &set), 0);
	set.first = 12;
	set.n = 3;
	set.count = 1;
	assert_int_equal(ref_op(fx, &set), 0);
	assert_int_equal(ref_records(fx), 2);
	assert_int_equal(ref_count(fx, 11), 4);
	assert_int_equal(ref_count(fx, 13), 1);
	assert_int_equal(ref_count(fx, 16), 4);
	struct ref_op bad = { 'a', UINT64_MAX - 1, 5, 0, { { 0, 0 } }, 0 };
	assert_int_equal(ref_op(fx, &bad), -EINVAL);
	bad.n = 0;
	assert_int_equal(ref_op(fx, &bad), -EINVAL);
}

static int put_free_in_refs(struct cat_txn *txn, void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_REFS, 0);
	struct pmap_extent e = { 40, 8, PMAP_FREE, 0, NULL };

	return extent_set(&m, &e, NULL, NULL);
}

/* A record of another kind in the reference map is damage: EINVAL, never a count. */
static void a_foreign_record_in_the_reference_map_is_einval(void **state)
{
	struct fixture *fx = *state;
	struct ref_op add = { 'a', 44, 1, 0, { { 0, 0 } }, 0 };
	struct cat_txn *txn;
	uint64_t c;

	assert_int_equal(cat_write(fx->cat, put_free_in_refs, NULL), 0);
	assert_int_equal(ref_op(fx, &add), -EINVAL);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(pmap_ref_get(txn, 41, &c), -EINVAL);
	assert_int_equal(pmap_ref_get(txn, 30, &c), 0); /* outside it: fine */
	assert_int_equal(c, 1);
	cat_read_end(txn);
}

#define BOTH(fn) \
	cmocka_unit_test_prestate_setup_teardown(fn, setup_cat, teardown, NULL), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup_mem, teardown, NULL)
#define CAT(fn) cmocka_unit_test_setup_teardown(fn, setup_cat, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(set_on_empty_map_stores_one_extent),
		BOTH(lookup_finds_extents_and_whole_holes),
		BOTH(overlap_at_start_keeps_the_tail),
		BOTH(overlap_at_end_keeps_the_head),
		BOTH(overlap_in_middle_splits_in_three),
		BOTH(exact_overlap_replaces),
		BOTH(overlap_spanning_several_extents),
		BOTH(contiguous_neighbours_merge),
		BOTH(discontiguous_neighbours_do_not_merge),
		BOTH(swap_runs_merge_with_their_checksums),
		BOTH(large_swap_runs_are_stored_in_capped_records),
		BOTH(zero_punches_a_hole_and_reports_it),
		BOTH(invalid_extents_are_refused),
		BOTH(random_edits_match_a_page_array_model),
		BOTH(free_map_runs_merge),
		CAT(sharing_a_long_run_costs_one_reference_record),
		CAT(dropping_references_reports_unused_frames),
		CAT(a_foreign_record_in_the_reference_map_is_einval),
		CAT(terabyte_sparse_object_costs_constant_records),
		CAT(page_counts_by_kind),
		CAT(map_persists_across_reopen),
		CAT(owners_do_not_see_each_other),
		CAT(delete_all_reports_every_page),
		cmocka_unit_test(extent_record_round_trip_and_damage),
		CAT(damaged_extent_in_store_is_einval_not_a_crash),
		cmocka_unit_test(overlay_records_zero_extents),
	};
	return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}
