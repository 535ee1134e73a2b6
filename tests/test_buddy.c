/*
 * Description: physmem buddy allocator: runs, coalescing, errors, a model test.
 *
 * The allocator's source is included (not linked) so that the test can make
 * malloc fail on demand (to prove a failed call changes nothing) and can
 * corrupt the tree (to prove buddy_check notices). Everything else goes
 * through the public API. The model test is seeded from PFS_SEED (default
 * fixed) and prints the seed and step on any failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---- allocation failure injection for the included allocator ---- */
static long alloc_fail_after = -1;   /* -1: never; n: the n+1-th next allocation fails */
static bool alloc_fail_sticky;       /* and every one after it */

static bool test_alloc_fails(void)
{
	if (alloc_fail_after < 0)
		return false;
	if (alloc_fail_after > 0) {
		alloc_fail_after--;
		return false;
	}
	if (!alloc_fail_sticky)
		alloc_fail_after = -1;
	return true;
}

static void *test_malloc_hook(size_t n)
{
	return test_alloc_fails() ? NULL : malloc(n);
}

static void *test_calloc_hook(size_t a, size_t b)
{
	return test_alloc_fails() ? NULL : calloc(a, b);
}

#define malloc(n) test_malloc_hook(n)
#define calloc(a, b) test_calloc_hook(a, b)
#include "physmem/buddy.c"
#undef malloc
#undef calloc

/* White-box helpers: the spare-node cache would hide allocation failures. */
static unsigned spare_count(const struct buddy *b)
{
	return b->nspare;
}

static void drain_spares(struct buddy *b)
{
	while (b->spare) {
		struct bdy_node *n = b->spare;
		b->spare = n->right;
		b->nspare--;
		free(n);
	}
}

/* ---- helpers ---- */

struct run { uint64_t first, n; };
struct snap {
	struct run runs[4096];
	unsigned nruns;
	uint64_t frames, blocks;
};

static int snap_fn(uint64_t first, uint64_t n, void *arg)
{
	struct snap *s = arg;

	if (s->nruns >= PFS_ARRAY_SIZE(s->runs))
		return -E2BIG;
	s->runs[s->nruns].first = first;
	s->runs[s->nruns].n = n;
	s->nruns++;
	return 0;
}

static void take_snap(const struct buddy *b, struct snap *s)
{
	s->nruns = 0;
	assert_int_equal(buddy_foreach_free(b, snap_fn, s), 0);
	s->frames = buddy_free_frames(b);
	s->blocks = buddy_free_blocks(b);
}

static void assert_unchanged(const struct buddy *b, const struct snap *before)
{
	static struct snap now;

	take_snap(b, &now);
	assert_int_equal(now.frames, before->frames);
	assert_int_equal(now.blocks, before->blocks);
	assert_int_equal(now.nruns, before->nruns);
	assert_memory_equal(now.runs, before->runs, before->nruns * sizeof(struct run));
	assert_int_equal(buddy_check(b), 0);
}

static struct buddy *make(uint64_t base, uint64_t span)
{
	struct buddy *b = NULL;

	assert_int_equal(buddy_create(base, span, &b), 0);
	assert_non_null(b);
	return b;
}

static void alloc_expect(struct buddy *b, uint64_t want, uint64_t first, uint64_t got)
{
	uint64_t f = 0, g = 0;

	assert_int_equal(buddy_alloc(b, want, &f, &g), 0);
	assert_int_equal(g, got);
	assert_int_equal(f, first);
	assert_int_equal(buddy_check(b), 0);
}

/* ---- tests ---- */

static void test_create_rejects_bad_ranges(void **state)
{
	struct buddy *b = NULL;

	(void)state;
	assert_int_equal(buddy_create(0, 0, &b), -EINVAL);
	assert_int_equal(buddy_create(UINT64_MAX, 2, &b), -EINVAL);
	assert_int_equal(buddy_create(UINT64_MAX - 9, 10, &b), -EINVAL);
	assert_null(b);
	b = make(UINT64_MAX - 10, 10);
	assert_int_equal(buddy_free(b, UINT64_MAX - 10, 10), 0);
	assert_int_equal(buddy_free_frames(b), 10);
	assert_int_equal(buddy_check(b), 0);
	buddy_destroy(b);
	buddy_destroy(NULL);
}

static void test_alloc_from_empty(void **state)
{
	struct buddy *b = make(100, 1024);
	uint64_t f = 7, g = 9;

	(void)state;
	assert_int_equal(buddy_free_frames(b), 0);
	assert_int_equal(buddy_alloc(b, 1, &f, &g), -ENOSPC);
	assert_int_equal(buddy_alloc(b, 0, &f, &g), -EINVAL);
	assert_int_equal(f, 7);
	assert_int_equal(g, 9);
	assert_false(buddy_is_free(b, 100));
	/* want 0 is invalid even when frames are free */
	assert_int_equal(buddy_free(b, 100, 1), 0);
	assert_int_equal(buddy_alloc(b, 0, &f, &g), -EINVAL);
	alloc_expect(b, 1, 100, 1);
	assert_int_equal(buddy_alloc(b, 1, &f, &g), -ENOSPC);
	buddy_destroy(b);
}

static void test_exact_powers_of_two(void **state)
{
	struct buddy *b = make(4096, 1024);
	uint64_t f, g;

	(void)state;
	assert_int_equal(buddy_free(b, 4096, 1024), 0);
	assert_int_equal(buddy_free_blocks(b), 1);
	alloc_expect(b, 256, 4096, 256);
	alloc_expect(b, 256, 4096 + 256, 256);
	alloc_expect(b, 512, 4096 + 512, 512);
	assert_int_equal(buddy_free_frames(b), 0);
	assert_int_equal(buddy_alloc(b, 1, &f, &g), -ENOSPC);
	buddy_destroy(b);
}

static void test_odd_wants_round_down(void **state)
{
	struct buddy *b = make(10, 4096);

	(void)state;
	assert_int_equal(buddy_free(b, 10, 4096), 0);
	alloc_expect(b, 3, 10, 2);
	alloc_expect(b, 5, 10 + 4, 4);
	alloc_expect(b, 1, 10 + 2, 1);
	alloc_expect(b, 7, 10 + 8, 4);
	alloc_expect(b, 1000, 10 + 512, 512);
	alloc_expect(b, 2, 10 + 12, 2);
	assert_int_equal(buddy_free_frames(b), 4096 - 2 - 4 - 1 - 4 - 512 - 2);
	buddy_destroy(b);
}

static void test_alloc_capped_at_max_order(void **state)
{
	uint64_t cap = (uint64_t)1 << BUDDY_MAX_ALLOC_ORDER;
	struct buddy *b = make(0, 4 * cap);

	(void)state;
	assert_int_equal(buddy_free(b, 0, 4 * cap), 0);
	assert_int_equal(buddy_free_blocks(b), 1);  /* stored blocks are not capped */
	alloc_expect(b, 4 * cap, 0, cap);
	alloc_expect(b, UINT64_MAX, cap, cap);
	alloc_expect(b, cap + 1, 2 * cap, cap);
	buddy_destroy(b);
}

static void test_coalesce_after_random_frees(void **state)
{
	enum { SPAN = 1024 };
	struct buddy *b = make(77, SPAN);
	uint64_t order[SPAN], f, g;

	(void)state;
	assert_int_equal(buddy_free(b, 77, SPAN), 0);
	for (unsigned i = 0; i < SPAN; i++) {
		assert_int_equal(buddy_alloc(b, 1, &f, &g), 0);
		assert_int_equal(f, 77 + i);   /* lowest first */
		order[i] = f;
	}
	srand(12345);
	for (unsigned i = SPAN - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1);
		uint64_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (unsigned i = 0; i < SPAN; i++) {
		assert_int_equal(buddy_free(b, order[i], 1), 0);
		assert_int_equal(buddy_check(b), 0);
	}
	assert_int_equal(buddy_free_frames(b), SPAN);
	assert_int_equal(buddy_free_blocks(b), 1);
	alloc_expect(b, SPAN, 77, SPAN);
	buddy_destroy(b);
}

static void test_double_free_rejected(void **state)
{
	struct buddy *b = make(1000, 256);
	static struct snap s;

	(void)state;
	assert_int_equal(buddy_free(b, 1010, 20), 0);
	take_snap(b, &s);
	assert_int_equal(buddy_free(b, 1010, 20), -EINVAL);    /* exactly again */
	assert_int_equal(buddy_free(b, 1029, 1), -EINVAL);     /* last frame */
	assert_int_equal(buddy_free(b, 1000, 11), -EINVAL);    /* overlaps the head */
	assert_int_equal(buddy_free(b, 1029, 30), -EINVAL);    /* overlaps the tail */
	assert_int_equal(buddy_free(b, 1000, 256), -EINVAL);   /* covers it */
	assert_int_equal(buddy_free(b, 1015, 0), -EINVAL);     /* empty */
	assert_unchanged(b, &s);
	/* right next to it is fine, and merges */
	assert_int_equal(buddy_free(b, 1030, 2), 0);
	assert_int_equal(buddy_free(b, 1008, 2), 0);
	take_snap(b, &s);
	assert_int_equal(s.nruns, 1);
	assert_int_equal(s.runs[0].first, 1008);
	assert_int_equal(s.runs[0].n, 24);
	buddy_destroy(b);
}

static void test_free_outside_range_rejected(void **state)
{
	struct buddy *b = make(1000, 100);
	static struct snap s;

	(void)state;
	assert_int_equal(buddy_free(b, 1050, 10), 0);
	take_snap(b, &s);
	assert_int_equal(buddy_free(b, 999, 1), -EINVAL);
	assert_int_equal(buddy_free(b, 990, 20), -EINVAL);     /* straddles base */
	assert_int_equal(buddy_free(b, 1100, 1), -EINVAL);     /* first past the end */
	assert_int_equal(buddy_free(b, 1090, 11), -EINVAL);    /* straddles the end */
	assert_int_equal(buddy_free(b, 1001, UINT64_MAX), -EINVAL); /* overflows */
	assert_int_equal(buddy_free(b, 0, 1), -EINVAL);
	assert_int_equal(buddy_take(b, 999, 1), -EINVAL);
	assert_int_equal(buddy_take(b, 1055, UINT64_MAX), -EINVAL);
	assert_unchanged(b, &s);
	assert_false(buddy_is_free(b, 999));
	assert_false(buddy_is_free(b, 1100));
	assert_false(buddy_is_free(b, UINT64_MAX));
	assert_true(buddy_is_free(b, 1050));
	assert_true(buddy_is_free(b, 1059));
	assert_false(buddy_is_free(b, 1060));
	assert_int_equal(buddy_free(b, 1090, 10), 0);          /* up to the end is fine */
	buddy_destroy(b);
}

static void test_take(void **state)
{
	struct buddy *b = make(0, 1024);
	static struct snap s;
	uint64_t canonical_blocks;

	(void)state;
	assert_int_equal(buddy_free(b, 0, 512), 0);
	assert_int_equal(buddy_free(b, 600, 100), 0);
	take_snap(b, &s);
	canonical_blocks = s.blocks;
	assert_int_equal(buddy_take(b, 510, 4), -EINVAL);       /* 512, 513 are used */
	assert_int_equal(buddy_take(b, 512, 1), -EINVAL);
	assert_int_equal(buddy_take(b, 500, 200), -EINVAL);     /* the gap is used */
	assert_int_equal(buddy_take(b, 10, 0), -EINVAL);
	assert_int_equal(buddy_take(b, 1020, 5), -EINVAL);      /* past the end */
	assert_unchanged(b, &s);
	/* from the middle of one big block: the rest stays free, canonically */
	assert_int_equal(buddy_take(b, 5, 3), 0);
	assert_int_equal(buddy_check(b), 0);
	assert_true(buddy_is_free(b, 4));
	assert_false(buddy_is_free(b, 5));
	assert_false(buddy_is_free(b, 7));
	assert_true(buddy_is_free(b, 8));
	assert_int_equal(buddy_free_frames(b), 512 + 100 - 3);
	/* across many blocks at once */
	assert_int_equal(buddy_take(b, 8, 504), 0);
	assert_int_equal(buddy_take(b, 601, 98), 0);
	take_snap(b, &s);
	assert_int_equal(s.nruns, 3);
	assert_int_equal(s.runs[0].first, 0);
	assert_int_equal(s.runs[0].n, 5);
	assert_int_equal(s.runs[1].first, 600);
	assert_int_equal(s.runs[2].first, 699);
	/* freeing what was taken gives back the same canonical blocks */
	assert_int_equal(buddy_free(b, 5, 507), 0);
	assert_int_equal(buddy_free(b, 601, 98), 0);
	take_snap(b, &s);
	assert_int_equal(s.nruns, 2);
	assert_int_equal(s.blocks, canonical_blocks);
	assert_int_equal(s.blocks, 1 + 6);  /* [0,512); 600 as 8+32+32+16+8+4 */
	buddy_destroy(b);
}

static void test_fragmentation_fallback(void **state)
{
	enum { SPAN = 1024 };
	struct buddy *b = make(3000, SPAN);
	uint64_t f, g;

	(void)state;
	for (uint64_t i = 0; i < SPAN; i += 2)
		assert_int_equal(buddy_free(b, 3000 + i, 1), 0);
	assert_int_equal(buddy_free_blocks(b), SPAN / 2);
	assert_int_equal(buddy_check(b), 0);
	for (uint64_t i = 0; i < SPAN / 2; i++)
		alloc_expect(b, 256, 3000 + 2 * i, 1);
	assert_int_equal(buddy_alloc(b, 256, &f, &g), -ENOSPC);
	assert_int_equal(buddy_free_blocks(b), 0);
	buddy_destroy(b);
}

static void test_unaligned_free_ranges(void **state)
{
	struct buddy *b = make(0, 64);
	static struct snap s;

	(void)state;
	/* [3, 17) is 3 | 4..7 | 8..15 | 16 */
	assert_int_equal(buddy_free(b, 3, 14), 0);
	assert_int_equal(buddy_free_blocks(b), 4);
	take_snap(b, &s);
	assert_int_equal(s.nruns, 1);
	assert_int_equal(s.runs[0].first, 3);
	assert_int_equal(s.runs[0].n, 14);
	alloc_expect(b, 8, 8, 8);               /* the only aligned 8 */
	assert_int_equal(buddy_free(b, 8, 8), 0);
	/* filling [0, 3) and [17, 32) makes one block of 32 */
	assert_int_equal(buddy_free(b, 17, 15), 0);
	assert_int_equal(buddy_free(b, 0, 3), 0);
	assert_int_equal(buddy_free_blocks(b), 1);
	alloc_expect(b, 32, 0, 32);
	/* relative alignment: with base 5, runs align to base, not to 0 */
	buddy_destroy(b);
	b = make(5, 64);
	assert_int_equal(buddy_free(b, 5, 64), 0);
	assert_int_equal(buddy_free_blocks(b), 1);
	alloc_expect(b, 16, 5, 16);
	alloc_expect(b, 4, 21, 4);
	buddy_destroy(b);
}

static void test_huge_span_costs_little(void **state)
{
	uint64_t span = (uint64_t)1 << 36, base = (uint64_t)1 << 40;
	struct buddy *b = make(base, span);
	uint64_t f, g;

	(void)state;
	assert_int_equal(buddy_free(b, base + span / 2 + 5, 3), 0);
	assert_int_equal(buddy_free(b, base + span - 1, 1), 0);
	assert_int_equal(buddy_free_blocks(b), 3);
	assert_int_equal(spare_count(b) <= BDY_SPARE_MAX, 1);
	alloc_expect(b, 1 << 20, base + span / 2 + 6, 2);
	alloc_expect(b, 1 << 20, base + span / 2 + 5, 1);
	alloc_expect(b, 1 << 20, base + span - 1, 1);
	assert_int_equal(buddy_alloc(b, 1, &f, &g), -ENOSPC);
	/* nearly the whole range: at most two blocks per order */
	assert_int_equal(buddy_free(b, base + 1, span - 2), 0);
	assert_true(buddy_free_blocks(b) <= 2 * 36);
	assert_int_equal(buddy_free_frames(b), span - 2);
	assert_int_equal(buddy_free(b, base, 1), 0);
	assert_int_equal(buddy_free(b, base + span - 1, 1), 0);
	assert_int_equal(buddy_free_blocks(b), 1);
	assert_int_equal(buddy_check(b), 0);
	alloc_expect(b, UINT64_MAX, base, 1 << 20);
	buddy_destroy(b);
}

struct stop_ctx { unsigned calls; int stop_at; int ret; };

static int stop_fn(uint64_t first, uint64_t n, void *arg)
{
	struct stop_ctx *c = arg;

	(void)first;
	(void)n;
	return ++c->calls == (unsigned)c->stop_at ? c->ret : 0;
}

static void test_foreach_merges_and_stops(void **state)
{
	struct buddy *b = make(0, 64);
	struct stop_ctx c = { 0 };
	static struct snap s;

	(void)state;
	take_snap(b, &s);
	assert_int_equal(s.nruns, 0);
	assert_int_equal(buddy_free(b, 0, 4), 0);
	assert_int_equal(buddy_free(b, 4, 2), 0);   /* buddies 4..5 not of 0..3: two blocks */
	assert_int_equal(buddy_free(b, 6, 1), 0);
	assert_int_equal(buddy_free(b, 9, 1), 0);
	assert_int_equal(buddy_free(b, 63, 1), 0);
	assert_int_equal(buddy_free_blocks(b), 5);
	take_snap(b, &s);
	assert_int_equal(s.nruns, 3);
	assert_int_equal(s.runs[0].first, 0);
	assert_int_equal(s.runs[0].n, 7);
	assert_int_equal(s.runs[1].first, 9);
	assert_int_equal(s.runs[1].n, 1);
	assert_int_equal(s.runs[2].first, 63);
	assert_int_equal(s.runs[2].n, 1);
	c = (struct stop_ctx){ .stop_at = 2, .ret = 42 };
	assert_int_equal(buddy_foreach_free(b, stop_fn, &c), 42);
	assert_int_equal(c.calls, 2);
	c = (struct stop_ctx){ .stop_at = 3, .ret = -EIO };
	assert_int_equal(buddy_foreach_free(b, stop_fn, &c), -EIO);  /* the last run too */
	assert_int_equal(c.calls, 3);
	buddy_destroy(b);
}

/* foreach_free_in against a model made of buddy_is_free, frame by frame. */
static void test_foreach_in_a_window(void **state)
{
	const uint64_t base = 1000, span = 700;
	struct buddy *b = make(base, span);
	static struct snap got, want;

	(void)state;
	srand(777);
	for (unsigned i = 0; i < 300; i++) {
		uint64_t f = base + (uint64_t)rand() % span, n = 1 + (uint64_t)rand() % 40;
		n = PFS_MIN(n, base + span - f);
		if (rand() % 3)
			(void)buddy_free(b, f, n); /* -EINVAL when part is free: fine */
		else
			(void)buddy_take(b, f, n);
	}
	assert_int_equal(buddy_check(b), 0);
	for (unsigned i = 0; i < 500; i++) {
		/* Windows reach past both ends of the allocator's range. */
		uint64_t first = base - 50 + (uint64_t)rand() % (span + 100);
		uint64_t n = (uint64_t)rand() % 200;

		want.nruns = 0;
		for (uint64_t fr = first; fr < first + n; fr++) {
			if (!buddy_is_free(b, fr))
				continue;
			struct run *last = want.nruns ? &want.runs[want.nruns - 1] : NULL;
			if (last && last->first + last->n == fr)
				last->n++;
			else
				want.runs[want.nruns++] = (struct run){ fr, 1 };
		}
		got.nruns = 0;
		assert_int_equal(buddy_foreach_free_in(b, first, n, snap_fn, &got), 0);
		assert_int_equal(got.nruns, want.nruns);
		assert_memory_equal(got.runs, want.runs, want.nruns * sizeof(struct run));
	}
	/* The whole range is what foreach_free says; a stop is passed back. */
	take_snap(b, &want);
	got.nruns = 0;
	assert_int_equal(buddy_foreach_free_in(b, 0, UINT64_MAX, snap_fn, &got), 0);
	assert_int_equal(got.nruns, want.nruns);
	assert_memory_equal(got.runs, want.runs, want.nruns * sizeof(struct run));
	struct stop_ctx c = { .stop_at = 1, .ret = 7 };
	assert_int_equal(buddy_foreach_free_in(b, base, span, stop_fn, &c), want.nruns ? 7 : 0);
	buddy_destroy(b);
}

static void test_lowest_address_preferred(void **state)
{
	struct buddy *b = make(0, 1024);

	(void)state;
	/* a lower big block is split rather than using an exact fit higher up */
	assert_int_equal(buddy_free(b, 700, 1), 0);
	assert_int_equal(buddy_free(b, 0, 512), 0);
	alloc_expect(b, 1, 0, 1);
	alloc_expect(b, 1, 1, 1);
	alloc_expect(b, 256, 256, 256);
	/* the lowest aligned run of the size asked, not the first free frame */
	alloc_expect(b, 64, 64, 64);
	alloc_expect(b, 2, 2, 2);
	buddy_destroy(b);
}

static void test_enomem_changes_nothing(void **state)
{
	struct buddy *b = NULL;
	static struct snap s;
	uint64_t f = 0, g = 0;

	(void)state;
	alloc_fail_after = 0;
	alloc_fail_sticky = true;
	assert_int_equal(buddy_create(0, 1024, &b), -ENOMEM);
	alloc_fail_after = -1;
	b = make(0, 1024);
	drain_spares(b);
	take_snap(b, &s);
	alloc_fail_after = 0;
	assert_int_equal(buddy_free(b, 0, 1024), -ENOMEM);
	assert_unchanged(b, &s);
	alloc_fail_after = -1;
	assert_int_equal(buddy_free(b, 0, 1024), 0);
	drain_spares(b);
	take_snap(b, &s);
	/* splitting 1024 down to 1 needs ten new nodes; fail the fifth */
	alloc_fail_after = 4;
	alloc_fail_sticky = false;
	assert_int_equal(buddy_alloc(b, 1, &f, &g), -ENOMEM);
	assert_unchanged(b, &s);
	assert_int_equal(spare_count(b), 4); /* what it got before failing is kept */
	drain_spares(b);
	alloc_fail_after = 0;
	assert_int_equal(buddy_take(b, 5, 3), -ENOMEM);
	assert_unchanged(b, &s);
	alloc_fail_after = -1;
	assert_int_equal(buddy_take(b, 5, 3), 0);
	alloc_expect(b, 1, 0, 1);
	buddy_destroy(b);
}

static void test_check_detects_corruption(void **state)
{
	struct buddy *b = make(0, 256);
	struct bdy_node *n;

	(void)state;
	assert_int_equal(buddy_free(b, 0, 3), 0);   /* blocks [0,2) and [2,3) */
	assert_int_equal(buddy_free(b, 100, 1), 0);
	assert_int_equal(buddy_check(b), 0);
	n = bdy_find(b, 2);
	assert_non_null(n);
	n->order = 1;                   /* a free buddy of [0,2) left unmerged */
	b->free_frames++;
	assert_int_equal(buddy_check(b), -EUCLEAN);
	n->order = 0;
	b->free_frames--;
	n->off = 3;                     /* frames 0, 1, 3 free: odd but canonical */
	assert_int_equal(buddy_check(b), 0);
	n->off = 1;                     /* overlaps [0,2) */
	assert_int_equal(buddy_check(b), -EUCLEAN);
	n->off = 2;
	b->free_frames = 5;             /* counter drift */
	assert_int_equal(buddy_check(b), -EUCLEAN);
	b->free_frames = 4;
	n = bdy_find(b, 100);
	n->off = 101;                   /* still aligned for order 0; height drift next */
	n->height = 3;
	assert_int_equal(buddy_check(b), -EUCLEAN);
	n->height = 1;
	n->order = 2;                   /* 101 is not a multiple of 4 */
	b->free_frames += 3;
	assert_int_equal(buddy_check(b), -EUCLEAN);
	n->order = 0;
	b->free_frames -= 3;
	assert_int_equal(buddy_check(b), 0);
	buddy_destroy(b);
}


/* ---- the model test: a plain bitmap over a small, odd-sized span ---- */

enum { M_BASE = 1000, M_SPAN = 700, M_STEPS = 6000 };

struct model {
	bool free[M_SPAN];
	unsigned long long seed;
	unsigned step;
	unsigned outcomes[3][2];        /* alloc, free, take: accepted, refused */
};

#define MODEL_ASSERT(m, cond) do { \
	if (!(cond)) \
		fail_msg("PFS_SEED=%llu step %u: %s (line %d)", (m)->seed, (m)->step, #cond, __LINE__); \
} while (0)

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

static bool model_all(const struct model *m, uint64_t off, uint64_t n, bool want_free)
{
	for (uint64_t i = off; i < off + n; i++)
		if (m->free[i] != want_free)
			return false;
	return true;
}

/* What free or take of [first, first + n) must return. */
static int model_range(const struct model *m, uint64_t first, uint64_t n, bool to_free)
{
	if (n == 0 || first < M_BASE || first - M_BASE >= M_SPAN || n > M_SPAN - (first - M_BASE))
		return -EINVAL;
	return model_all(m, first - M_BASE, n, !to_free) ? 0 : -EINVAL;
}

/* The lowest aligned free run of the largest size <= want. */
static int model_alloc(const struct model *m, uint64_t want, uint64_t *off, uint64_t *size)
{
	int top;

	if (want == 0)
		return -EINVAL;
	top = PFS_MIN(63 - __builtin_clzll(want), BUDDY_MAX_ALLOC_ORDER);
	for (int o = top; o >= 0; o--) {
		uint64_t sz = (uint64_t)1 << o;
		for (uint64_t at = 0; at + sz <= M_SPAN; at += sz) {
			if (model_all(m, at, sz, true)) {
				*off = at;
				*size = sz;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

/* Blocks in the canonical decomposition: maximal fully free aligned runs. */
static uint64_t model_blocks(const struct model *m)
{
	uint64_t count = 0;

	for (int o = 0; ((uint64_t)1 << o) <= M_SPAN; o++) {
		uint64_t sz = (uint64_t)1 << o;
		for (uint64_t at = 0; at + sz <= M_SPAN; at += sz) {
			uint64_t parent = at & ~(2 * sz - 1);
			if (!model_all(m, at, sz, true))
				continue;
			if (parent + 2 * sz > M_SPAN || !model_all(m, parent, 2 * sz, true))
				count++;
		}
	}
	return count;
}

static void model_compare(const struct model *m, const struct buddy *b)
{
	static struct snap s;
	uint64_t frames = 0;
	unsigned r = 0;

	MODEL_ASSERT(m, buddy_check(b) == 0);
	for (uint64_t f = M_BASE - 3; f < M_BASE + M_SPAN + 3; f++) {
		bool want = f >= M_BASE && f < M_BASE + M_SPAN && m->free[f - M_BASE];
		MODEL_ASSERT(m, buddy_is_free(b, f) == want);
		frames += want;
	}
	MODEL_ASSERT(m, buddy_free_frames(b) == frames);
	MODEL_ASSERT(m, buddy_free_blocks(b) == model_blocks(m));
	take_snap(b, &s);
	for (uint64_t i = 0; i < M_SPAN; ) {
		uint64_t j = i;
		if (!m->free[i]) {
			i++;
			continue;
		}
		while (j < M_SPAN && m->free[j])
			j++;
		MODEL_ASSERT(m, r < s.nruns);
		MODEL_ASSERT(m, s.runs[r].first == M_BASE + i && s.runs[r].n == j - i);
		r++;
		i = j;
	}
	MODEL_ASSERT(m, r == s.nruns);
}

/* A run of frames in one state starting at a random frame in that state. */
static bool model_pick_run(const struct model *m, bool in_free, uint64_t *off, uint64_t *n)
{
	uint64_t start = rng_below(M_SPAN), max = 1 + rng_below(80);

	for (uint64_t k = 0; k < M_SPAN; k++) {
		uint64_t at = (start + k) % M_SPAN;
		if (m->free[at] == in_free) {
			*off = at;
			*n = 1;
			while (*n < max && at + *n < M_SPAN && m->free[at + *n] == in_free)
				(*n)++;
			return true;
		}
	}
	return false;
}

static void model_set(struct model *m, uint64_t off, uint64_t n, bool to_free)
{
	for (uint64_t i = off; i < off + n; i++)
		m->free[i] = to_free;
}

static void test_random_against_model(void **state)
{
	static struct model m;
	struct buddy *b = make(M_BASE, M_SPAN);
	const char *env = getenv("PFS_SEED");

	(void)state;
	memset(&m, 0, sizeof(m));
	m.seed = env ? strtoull(env, NULL, 0) : 20240611ULL;
	rng_state = m.seed;
	for (m.step = 0; m.step < M_STEPS; m.step++) {
		unsigned op = (unsigned)rng_below(100);
		uint64_t first = 0, n = 0, off = 0, size = 0, got_first = 0, got = 0;
		bool to_free;
		int want, ret;

		if (op < 30 || op == 99) {              /* alloc; op 99 until none is left */
			do {
				uint64_t ask = rng_below(4) ? (uint64_t)1 << rng_below(8) : rng_below(600);
				want = model_alloc(&m, ask, &off, &size);
				ret = buddy_alloc(b, ask, &got_first, &got);
				MODEL_ASSERT(&m, ret == want);
				m.outcomes[0][ret != 0]++;
				if (ret == 0) {
					MODEL_ASSERT(&m, got_first == M_BASE + off && got == size);
					model_set(&m, off, size, false);
				}
			} while (op == 99 && ret != -ENOSPC);
		} else if (op < 80) {                   /* free or take a plausible run */
			to_free = op < 60;
			if (!model_pick_run(&m, !to_free, &off, &n))
				continue;
			first = M_BASE + off;
			if (rng_below(8) == 0)          /* sometimes nudge it over an edge */
				first += rng_below(2) ? n : (uint64_t)-1;
			want = model_range(&m, first, n, to_free);
			ret = to_free ? buddy_free(b, first, n) : buddy_take(b, first, n);
			MODEL_ASSERT(&m, ret == want);
			m.outcomes[to_free ? 1 : 2][ret != 0]++;
			if (ret == 0)
				model_set(&m, first - M_BASE, n, to_free);
		} else if (op < 97) {                   /* an arbitrary range */
			to_free = op < 90;
			first = M_BASE - 5 + rng_below(M_SPAN + 10);
			n = rng_below(40);
			want = model_range(&m, first, n, to_free);
			ret = to_free ? buddy_free(b, first, n) : buddy_take(b, first, n);
			MODEL_ASSERT(&m, ret == want);
			if (ret == 0)
				model_set(&m, first - M_BASE, n, to_free);
		} else if (op < 99) {                   /* free every used run */
			while (model_pick_run(&m, false, &off, &n)) {
				MODEL_ASSERT(&m, buddy_free(b, M_BASE + off, n) == 0);
				model_set(&m, off, n, true);
			}
			MODEL_ASSERT(&m, buddy_free_blocks(b) == model_blocks(&m));
		}
		model_compare(&m, b);
	}
	/* each operation was both accepted and refused, or this proves little */
	for (unsigned k = 0; k < PFS_ARRAY_SIZE(m.outcomes); k++)
		MODEL_ASSERT(&m, m.outcomes[k][0] > 0 && m.outcomes[k][1] > 0);
	buddy_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_bad_ranges),
		cmocka_unit_test(test_alloc_from_empty),
		cmocka_unit_test(test_exact_powers_of_two),
		cmocka_unit_test(test_odd_wants_round_down),
		cmocka_unit_test(test_alloc_capped_at_max_order),
		cmocka_unit_test(test_coalesce_after_random_frees),
		cmocka_unit_test(test_double_free_rejected),
		cmocka_unit_test(test_free_outside_range_rejected),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_fragmentation_fallback),
		cmocka_unit_test(test_unaligned_free_ranges),
		cmocka_unit_test(test_huge_span_costs_little),
		cmocka_unit_test(test_foreach_merges_and_stops),
		cmocka_unit_test(test_foreach_in_a_window),
		cmocka_unit_test(test_lowest_address_preferred),
		cmocka_unit_test(test_enomem_changes_nothing),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
