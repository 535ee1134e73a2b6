/*
 * Description: physmem memory controls: quotas, charges, removal, restore, a model test.
 *
 * memctl.c is included, not linked, so the test can fail its allocations (a
 * failed call must change nothing) and corrupt the tree (memctl_check must
 * notice); all else goes through the API. The model test takes its seed from
 * PFS_SEED (fixed default) and prints seed and step on any failure.
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

/* ---- allocation failure injection for the included tree ---- */
static long alloc_fail_after = -1;   /* -1: never; n: the (n+1)-th next allocation fails, once */

static void *test_calloc_hook(size_t a, size_t b)
{
	if (alloc_fail_after >= 0 && alloc_fail_after-- == 0)
		return NULL;
	return calloc(a, b);
}

#define calloc(a, b) test_calloc_hook(a, b)   /* memctl.c allocates only with calloc */
#include "physmem/memctl.c"
#undef calloc

/* ---- helpers ---- */

enum { ROOT = 1 };

static struct memctl_tree *make(uint64_t capacity)
{
	struct memctl_tree *t = NULL;

	assert_int_equal(memctl_tree_create(ROOT, capacity, &t), 0);
	assert_non_null(t);
	return t;
}

static struct memctl_info get(const struct memctl_tree *t, uint64_t id)
{
	struct memctl_info m;

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(memctl_get(t, id, &m), 0);
	assert_int_equal(m.id, id);
	return m;
}

static uint64_t avail(const struct memctl_tree *t, uint64_t id)
{
	return get(t, id).available_frames;
}

static uint64_t usage(const struct memctl_tree *t, uint64_t id)
{
	return get(t, id).usage_frames;
}

/* Charge each (id, frames) pair in turn, or check each (id, available frames). */
#define PAIRS(...) (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)
#define CHARGE(t, ...) charge_pairs(t, PAIRS(__VA_ARGS__))
#define AVAIL(t, ...) expect_pairs(t, PAIRS(__VA_ARGS__), false)
#define USAGE(t, ...) expect_pairs(t, PAIRS(__VA_ARGS__), true)

static void charge_pairs(struct memctl_tree *t, const uint64_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		assert_int_equal(memctl_charge(t, p[i], p[i + 1]), 0);
}

static void expect_pairs(const struct memctl_tree *t, const uint64_t *p, size_t n, bool use)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		assert_int_equal(use ? usage(t, p[i]) : avail(t, p[i]), p[i + 1]);
}

/* A whole-tree picture, to show a failed call changed nothing. */
struct snap {
	struct memctl_info m[256];
	unsigned n;
};

static int snap_fn(const struct memctl_info *m, void *arg)
{
	struct snap *s = arg;

	if (s->n >= PFS_ARRAY_SIZE(s->m))
		return -E2BIG;
	s->m[s->n++] = *m;
	return 0;
}

static void take_snap(const struct memctl_tree *t, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(memctl_foreach(t, snap_fn, s), 0);
}

static void assert_info_equal(const struct memctl_info *a, const struct memctl_info *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->has_quota, b->has_quota);
	assert_int_equal(a->guarantee_frames, b->guarantee_frames);
	assert_int_equal(a->charged_frames, b->charged_frames);
	assert_int_equal(a->usage_frames, b->usage_frames);
	assert_int_equal(a->available_frames, b->available_frames);
	assert_int_equal(a->nchildren, b->nchildren);
}

static void assert_unchanged(const struct memctl_tree *t, const struct snap *before)
{
	static struct snap now;

	take_snap(t, &now);
	assert_int_equal(now.n, before->n);
	for (unsigned i = 0; i < now.n; i++)
		assert_info_equal(&now.m[i], &before->m[i]);
	assert_int_equal(memctl_check(t), 0);
}

/* root 1000 > A quota 300 > S > B quota 100 > T, and root > R; S, T and R share */
enum { A = 10, S = 11, B = 12, T = 13, R = 20 };

static struct memctl_tree *make_nested(void)
{
	struct memctl_tree *t = make(1000);

	assert_int_equal(memctl_add(t, ROOT, A), 0);
	assert_int_equal(memctl_add(t, A, S), 0);
	assert_int_equal(memctl_add(t, S, B), 0);
	assert_int_equal(memctl_add(t, B, T), 0);
	assert_int_equal(memctl_add(t, ROOT, R), 0);
	assert_int_equal(memctl_set_quota(t, A, 300), 0);
	assert_int_equal(memctl_set_quota(t, B, 100), 0);
	assert_int_equal(memctl_check(t), 0);
	return t;
}

/* ---- tests ---- */

static void test_root(void **state)
{
	struct memctl_tree *t = make(500);
	struct memctl_info m = get(t, ROOT), untouched;

	(void)state;
	assert_info_equal(&m, &(struct memctl_info){ .id = ROOT, .parent = ROOT, .has_quota = true,
		.guarantee_frames = 500, .available_frames = 500 });
	memset(&untouched, 0x5a, sizeof(untouched));
	m = untouched;
	assert_int_equal(memctl_get(t, 2, &m), -ENOENT);
	assert_memory_equal(&m, &untouched, sizeof(m));
	assert_int_equal(memctl_set_quota(t, ROOT, 10), -EINVAL);
	assert_int_equal(memctl_clear_quota(t, ROOT), -EINVAL);
	assert_int_equal(memctl_remove(t, ROOT, NULL), -EINVAL);
	assert_int_equal(memctl_charge(t, ROOT, 500), 0);
	assert_int_equal(memctl_charge(t, ROOT, 1), -ENOSPC);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
	memctl_tree_destroy(NULL);
}

static void test_add_errors(void **state)
{
	struct memctl_tree *t = make(100);
	static struct snap s;
	struct memctl_info m;

	(void)state;
	assert_int_equal(memctl_add(t, ROOT, 2), 0);
	assert_int_equal(memctl_add(t, 2, 3), 0);
	take_snap(t, &s);
	assert_int_equal(memctl_add(t, 99, 4), -ENOENT);
	assert_int_equal(memctl_add(t, ROOT, 3), -EEXIST);
	assert_int_equal(memctl_add(t, 3, ROOT), -EEXIST);
	assert_int_equal(memctl_add(t, 3, 3), -EEXIST);
	assert_unchanged(t, &s);
	assert_int_equal(get(t, ROOT).nchildren + get(t, 2).nchildren, 2);
	m = get(t, 3);
	assert_info_equal(&m, &(struct memctl_info){ .id = 3, .parent = 2, .available_frames = 100 });
	memctl_tree_destroy(t);
}

static void test_sharing_charges_count_against_root(void **state)
{
	struct memctl_tree *t = make(100);
	static struct snap s;

	(void)state;
	assert_int_equal(memctl_add(t, ROOT, 2), 0);
	assert_int_equal(memctl_add(t, 2, 3), 0);
	CHARGE(t, 3, 60, 2, 30, ROOT, 5);
	USAGE(t, 3, 60, 2, 90, ROOT, 95);
	assert_int_equal(get(t, 2).charged_frames, 30);
	assert_int_equal(avail(t, 3), 5);
	take_snap(t, &s);
	assert_int_equal(memctl_charge(t, 3, 6), -ENOSPC);
	assert_int_equal(memctl_charge(t, 3, UINT64_MAX), -ENOSPC);
	assert_int_equal(memctl_charge(t, 77, 1), -ENOENT);
	assert_unchanged(t, &s);
	CHARGE(t, 3, 0, 3, 5);
	assert_int_equal(avail(t, ROOT), 0);
	memctl_tree_destroy(t);
}

static void test_set_quota_splits_guarantee(void **state)
{
	struct memctl_tree *t = make_nested();

	(void)state;
	assert_int_equal(get(t, A).guarantee_frames, 300);
	assert_true(get(t, B).has_quota);
	AVAIL(t, ROOT, 700, R, 700, A, 200, S, 200, B, 100, T, 100);
	/* grow and shrink A: frames move to and from the root */
	assert_int_equal(memctl_set_quota(t, A, 400), 0);
	AVAIL(t, ROOT, 600, S, 300);
	assert_int_equal(memctl_set_quota(t, A, 100), 0);
	AVAIL(t, ROOT, 900, A, 0);
	assert_int_equal(memctl_set_quota(t, B, 0), 0);   /* a zero quota is a hard stop */
	assert_int_equal(memctl_charge(t, T, 1), -ENOSPC);
	assert_int_equal(avail(t, A), 100);
	assert_int_equal(memctl_set_quota(t, 555, 1), -ENOENT);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

static void test_set_quota_enospc_when_parent_lacks(void **state)
{
	struct memctl_tree *t = make_nested();
	static struct snap s;

	(void)state;
	assert_int_equal(memctl_charge(t, R, 600), 0);
	take_snap(t, &s);
	assert_int_equal(memctl_set_quota(t, R, 599), -ENOSPC);     /* below its own use */
	assert_int_equal(memctl_set_quota(t, A, 401), -ENOSPC);     /* root has 100 to spare */
	assert_int_equal(memctl_set_quota(t, B, 301), -ENOSPC);     /* A has 200 more to spare */
	assert_int_equal(memctl_set_quota(t, S, 301), -ENOSPC);     /* S absorbs B's 100 + 200 */
	assert_int_equal(memctl_set_quota(t, S, 99), -ENOSPC);      /* below B's guarantee */
	assert_int_equal(memctl_set_quota(t, A, UINT64_MAX), -ENOSPC);
	assert_unchanged(t, &s);
	assert_int_equal(memctl_set_quota(t, S, 300), 0);           /* all of A's pool */
	assert_int_equal(avail(t, A), 0);
	assert_int_equal(memctl_set_quota(t, A, 400), 0);
	assert_int_equal(memctl_set_quota(t, R, 600), 0);           /* exactly its use */
	AVAIL(t, ROOT, 0, R, 0);
	/* the root's capacity must cover what it split off and uses */
	assert_int_equal(memctl_clear_quota(t, R), 0);
	take_snap(t, &s);
	assert_int_equal(memctl_set_capacity(t, 999), -ENOSPC);
	assert_unchanged(t, &s);
	assert_int_equal(memctl_uncharge(t, R, 100), 0);
	assert_int_equal(memctl_set_capacity(t, 900), 0);
	assert_int_equal(memctl_set_capacity(t, UINT64_MAX), 0);
	AVAIL(t, ROOT, UINT64_MAX - 900, S, 200);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

static void test_set_quota_on_sharing_subtree_takes_its_use(void **state)
{
	struct memctl_tree *t = make_nested();

	(void)state;
	CHARGE(t, S, 50, T, 70, B, 10);
	/* S's region holds its own 50 and B's guarantee of 100 */
	assert_int_equal(memctl_set_quota(t, S, 149), -ENOSPC);
	assert_int_equal(memctl_set_quota(t, S, 150), 0);
	AVAIL(t, S, 0, A, 150, B, 20);
	assert_int_equal(usage(t, A), 130);
	assert_int_equal(memctl_check(t), 0);
	/* changing a quota with quota children: they and the use must fit */
	assert_int_equal(memctl_uncharge(t, S, 50), 0);
	assert_int_equal(memctl_set_quota(t, S, 99), -ENOSPC);
	assert_int_equal(memctl_set_quota(t, S, 100), 0);
	assert_int_equal(avail(t, A), 200);
	memctl_tree_destroy(t);
}

static void test_clear_quota(void **state)
{
	struct memctl_tree *t = make_nested();
	static struct snap s;

	(void)state;
	take_snap(t, &s);
	assert_int_equal(memctl_clear_quota(t, S), -EINVAL);
	assert_int_equal(memctl_clear_quota(t, R), -EINVAL);
	assert_int_equal(memctl_clear_quota(t, 404), -ENOENT);
	assert_unchanged(t, &s);
	/* fill everything to the brim: clearing still fits, the guarantee covered it */
	CHARGE(t, T, 100, S, 200, R, 700);
	assert_int_equal(memctl_clear_quota(t, A), 0);
	assert_false(get(t, A).has_quota);
	assert_int_equal(get(t, A).guarantee_frames, 0);
	AVAIL(t, ROOT, 0, B, 0);
	assert_int_equal(memctl_check(t), 0);
	/* B's guarantee now comes out of the root; clearing B returns it there */
	assert_int_equal(memctl_uncharge(t, R, 50), 0);
	assert_int_equal(memctl_uncharge(t, T, 30), 0);
	assert_int_equal(avail(t, ROOT), 50);
	assert_int_equal(memctl_clear_quota(t, B), 0);
	AVAIL(t, ROOT, 80, T, 80);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

static void test_charge_limits_at_every_level(void **state)
{
	struct memctl_tree *t = make_nested();
	static struct snap s;

	(void)state;
	assert_int_equal(memctl_charge(t, T, 100), 0);      /* sharing child of B */
	assert_int_equal(memctl_charge(t, T, 1), -ENOSPC);
	assert_int_equal(memctl_charge(t, B, 1), -ENOSPC);
	assert_int_equal(memctl_charge(t, S, 200), 0);      /* sharing child of A */
	assert_int_equal(memctl_charge(t, S, 1), -ENOSPC);
	assert_int_equal(memctl_charge(t, A, 1), -ENOSPC);
	assert_int_equal(avail(t, ROOT), 700);             /* A's use never reaches the root */
	CHARGE(t, R, 699, ROOT, 1);
	take_snap(t, &s);
	assert_int_equal(memctl_charge(t, R, 1), -ENOSPC);
	assert_int_equal(memctl_charge(t, ROOT, 1), -ENOSPC);
	assert_unchanged(t, &s);
	USAGE(t, T, 100, B, 100, S, 300, A, 300, ROOT, 1000);
	/* an uncharge low down makes room only in its own pool */
	assert_int_equal(memctl_uncharge(t, T, 10), 0);
	assert_int_equal(memctl_charge(t, S, 1), -ENOSPC);
	assert_int_equal(memctl_charge(t, B, 10), 0);
	/* uncharges take back only what was charged to that control itself */
	take_snap(t, &s);
	assert_int_equal(memctl_uncharge(t, T, 91), -EINVAL);
	assert_int_equal(memctl_uncharge(t, B, 11), -EINVAL);
	assert_int_equal(memctl_uncharge(t, A, 1), -EINVAL);
	assert_int_equal(memctl_uncharge(t, 999, 1), -ENOENT);
	assert_unchanged(t, &s);
	for (unsigned i = 0; i < 6; i++) {
		uint64_t id = (const uint64_t[]){ ROOT, A, S, B, T, R }[i];
		assert_int_equal(memctl_uncharge(t, id, get(t, id).charged_frames), 0);
	}
	assert_int_equal(usage(t, ROOT), 0);
	AVAIL(t, ROOT, 700, A, 200, T, 100);
	memctl_tree_destroy(t);
}

static void test_remove_returns_guarantees_and_charges(void **state)
{
	struct memctl_tree *t = make_nested();
	uint64_t released = 12345;

	(void)state;
	CHARGE(t, T, 30, B, 20, S, 40, A, 5, R, 7);
	assert_int_equal(memctl_remove(t, 4242, &released), -ENOENT);
	assert_int_equal(memctl_remove(t, ROOT, &released), -EINVAL);
	assert_int_equal(released, 12345);
	assert_int_equal(memctl_remove(t, A, &released), 0);
	assert_int_equal(released, 95);
	for (uint64_t id = A; id <= T; id++)
		assert_int_equal(memctl_get(t, id, &(struct memctl_info){ 0 }), -ENOENT);
	assert_int_equal(get(t, ROOT).nchildren, 1);
	assert_int_equal(usage(t, ROOT), 7);
	assert_int_equal(avail(t, ROOT), 993);
	assert_int_equal(memctl_check(t), 0);
	/* ids can be reused */
	assert_int_equal(memctl_add(t, R, A), 0);
	assert_int_equal(memctl_remove(t, A, NULL), 0);
	memctl_tree_destroy(t);
}

static void test_remove_sharing_subtree_with_quota_grandchild(void **state)
{
	struct memctl_tree *t = make_nested();
	uint64_t released = 0;

	(void)state;
	CHARGE(t, T, 30, S, 40, A, 5);
	assert_int_equal(avail(t, A), 300 - 100 - 45);
	assert_int_equal(memctl_remove(t, S, &released), 0);
	assert_int_equal(released, 70);
	assert_int_equal(memctl_get(t, B, &(struct memctl_info){ 0 }), -ENOENT);
	assert_int_equal(avail(t, A), 295);            /* B's 100 and S's 40 are back */
	assert_int_equal(usage(t, A), 5);
	assert_int_equal(get(t, A).nchildren, 0);
	assert_int_equal(avail(t, ROOT), 700);
	assert_int_equal(memctl_check(t), 0);
	/* a quota leaf: its guarantee returns, its charges are released */
	assert_int_equal(memctl_add(t, R, 30), 0);
	assert_int_equal(memctl_set_quota(t, 30, 50), 0);
	assert_int_equal(memctl_charge(t, 30, 50), 0);
	assert_int_equal(avail(t, ROOT), 650);
	assert_int_equal(memctl_remove(t, 30, &released), 0);
	assert_int_equal(released, 50);
	assert_int_equal(avail(t, ROOT), 700);
	memctl_tree_destroy(t);
}

static int restore_fn(const struct memctl_info *m, void *arg)
{
	struct memctl_tree *t = arg;

	return memctl_restore(t, m->parent, m->id, m->has_quota, m->guarantee_frames,
			      m->charged_frames);
}

static void test_restore_errors_and_check_detects_broken(void **state)
{
	struct memctl_tree *t = make(100);
	struct mc_node *n;

	(void)state;
	assert_int_equal(memctl_restore(t, ROOT, ROOT, false, 0, 0), -EINVAL);
	assert_int_equal(memctl_restore(t, ROOT, 2, false, 5, 0), -EINVAL);
	assert_int_equal(memctl_restore(t, 9, 2, false, 0, 0), -ENOENT);
	assert_int_equal(memctl_restore(t, ROOT, 2, true, 60, 10), 0);
	assert_int_equal(memctl_restore(t, ROOT, 2, true, 60, 10), -EEXIST);
	assert_int_equal(memctl_restore(t, 2, 3, false, 0, 50), 0);
	assert_int_equal(memctl_restore(t, 2, 4, false, 0, UINT64_MAX), -EOVERFLOW);
	assert_int_equal(memctl_check(t), 0);
	/* a guarantee bigger than the parent's */
	assert_int_equal(memctl_restore(t, ROOT, 5, true, 41, 0), 0);
	assert_int_equal(memctl_check(t), -EUCLEAN);
	assert_int_equal(memctl_remove(t, 5, NULL), 0);
	assert_int_equal(memctl_check(t), 0);
	/* charges beyond a pool */
	assert_int_equal(memctl_restore(t, 3, 6, false, 0, 1), 0);
	assert_int_equal(memctl_check(t), -EUCLEAN);
	assert_int_equal(avail(t, 6), 0);                  /* reads as full, no wrap */
	assert_int_equal(memctl_charge(t, 6, 1), -ENOSPC);
	assert_int_equal(memctl_uncharge(t, 6, 1), 0);
	assert_int_equal(memctl_check(t), 0);
	/* the root record sets the root's guarantee and own charges */
	assert_int_equal(memctl_restore(t, 0, ROOT, true, 100, 41), 0);
	assert_int_equal(memctl_check(t), -EUCLEAN);
	assert_int_equal(memctl_restore(t, 0, ROOT, true, 101, 41), 0);
	assert_int_equal(memctl_check(t), 0);
	assert_int_equal(usage(t, ROOT), 101);
	/* corruption the API cannot produce: each field off by one is noticed */
	n = mc_lookup(t, 3);
	uint64_t *fields[] = { &n->usage, &n->guarantee, &n->split, &n->used,
			       &mc_lookup(t, 2)->split, &t->root->used, &t->root->usage };
	for (unsigned i = 0; i < PFS_ARRAY_SIZE(fields); i++) {
		++*fields[i];
		assert_int_equal(memctl_check(t), -EUCLEAN);
		--*fields[i];
	}
	n->nchildren++;
	assert_int_equal(memctl_check(t), -EUCLEAN);
	n->nchildren--;
	t->count++;
	assert_int_equal(memctl_check(t), -EUCLEAN);
	t->count--;
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

struct order_ctx { uint64_t seen[64]; unsigned n; unsigned stop_at; };

static int order_fn(const struct memctl_info *m, void *arg)
{
	struct order_ctx *c = arg;
	bool parent_seen = m->parent == m->id;

	for (unsigned i = 0; i < c->n; i++)
		parent_seen |= c->seen[i] == m->parent;
	assert_true(parent_seen);
	c->seen[c->n++] = m->id;
	return c->n == c->stop_at ? 7 : 0;
}

static void test_foreach_parents_first_and_stops(void **state)
{
	struct memctl_tree *t = make_nested();
	struct order_ctx c = { .stop_at = 0 };

	(void)state;
	assert_int_equal(memctl_add(t, T, 40), 0);
	assert_int_equal(memctl_add(t, R, 41), 0);
	assert_int_equal(memctl_foreach(t, order_fn, &c), 0);
	assert_int_equal(c.n, 8);
	assert_int_equal(c.seen[0], ROOT);
	c = (struct order_ctx){ .stop_at = 3 };
	assert_int_equal(memctl_foreach(t, order_fn, &c), 7);
	assert_int_equal(c.n, 3);
	memctl_tree_destroy(t);
}

static void test_enomem_changes_nothing(void **state)
{
	struct memctl_tree *t = NULL;
	static struct snap s;

	(void)state;
	for (long k = 0; k < 3; k++) {
		alloc_fail_after = k;
		assert_int_equal(memctl_tree_create(ROOT, 10, &t), -ENOMEM);
		alloc_fail_after = -1;
	}
	t = make(100);
	take_snap(t, &s);
	alloc_fail_after = 0;
	assert_int_equal(memctl_add(t, ROOT, 2), -ENOMEM);
	alloc_fail_after = 0;
	assert_int_equal(memctl_restore(t, ROOT, 2, false, 0, 5), -ENOMEM);
	assert_unchanged(t, &s);
	/* a failed index growth only costs speed: fill to the load limit first */
	for (uint64_t id = 2; id <= MC_INITIAL_BUCKETS; id++)
		assert_int_equal(memctl_add(t, ROOT, id), 0);
	assert_int_equal(t->nbuckets, MC_INITIAL_BUCKETS);
	alloc_fail_after = 1;   /* the node succeeds, the bigger index does not */
	assert_int_equal(memctl_add(t, ROOT, 1000), 0);
	assert_int_equal(t->nbuckets, MC_INITIAL_BUCKETS);
	assert_int_equal(memctl_add(t, ROOT, 1001), 0);
	assert_int_equal(t->nbuckets, 2 * MC_INITIAL_BUCKETS);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

static void test_deep_and_wide_trees(void **state)
{
	enum { DEPTH = 20000, WIDTH = 3000 };
	struct memctl_tree *t = make(UINT64_MAX);
	uint64_t released = 0;

	(void)state;
	for (uint64_t i = 2; i < DEPTH; i++)    /* a chain: no walk may recurse */
		assert_int_equal(memctl_add(t, i - 1, i), 0);
	assert_int_equal(memctl_charge(t, DEPTH - 1, 3), 0);
	assert_int_equal(memctl_set_quota(t, 2, 10), 0);
	assert_int_equal(avail(t, DEPTH - 1), 7);
	assert_int_equal(usage(t, ROOT), 3);
	for (uint64_t i = 0; i < WIDTH; i++)
		assert_int_equal(memctl_add(t, 5, DEPTH + i), 0);
	assert_int_equal(get(t, 5).nchildren, WIDTH + 1);
	assert_int_equal(memctl_check(t), 0);
	assert_int_equal(memctl_remove(t, 3, &released), 0);
	assert_int_equal(released, 3);
	assert_int_equal(avail(t, 2), 10);
	assert_int_equal(memctl_check(t), 0);
	memctl_tree_destroy(t);
}

/* ---- the model test: plain arrays and naive recomputation ---- */

enum { MM_SLOTS = 40, MM_STEPS = 6000, MM_ID0 = 100, MM_UNKNOWN = 99999 };

struct mm_node {
	bool alive, has_quota;
	int parent;                     /* slot; the root is slot 0 */
	uint64_t guarantee, charged;
};

struct mm {
	struct mm_node n[MM_SLOTS];
	unsigned long long seed;
	unsigned step;
	unsigned outcomes[7][2];        /* per kind of operation: accepted, refused */
};

#define MODEL_ASSERT(m, cond) do { \
	if (!(cond)) \
		fail_msg("PFS_SEED=%llu step %u: %s (line %d)", (m)->seed, (m)->step, #cond, __LINE__); \
} while (0)

static uint64_t rng_state;

static uint64_t rng_below(uint64_t n)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);     /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) % n;
}

/* Slot -1 stands for an id the tree has never seen. */
static uint64_t mm_id(int slot)
{
	return slot < 0 ? MM_UNKNOWN : slot == 0 ? ROOT : MM_ID0 + (uint64_t)slot;
}

static int mm_owner(const struct mm *m, int i)
{
	while (!m->n[i].has_quota)
		i = m->n[i].parent;
	return i;
}

/* used(q) and split(q) by brute force over every slot. */
static uint64_t mm_pool_sum(const struct mm *m, int q, bool split)
{
	uint64_t sum = 0;

	for (int j = 0; j < MM_SLOTS; j++) {
		const struct mm_node *n = &m->n[j];
		if (n->alive && !split && mm_owner(m, j) == q)
			sum += n->charged;
		if (n->alive && split && j > 0 && n->has_quota && mm_owner(m, n->parent) == q)
			sum += n->guarantee;
	}
	return sum;
}

static uint64_t mm_usage(const struct mm *m, int i)
{
	uint64_t sum = m->n[i].charged;

	for (int j = 1; j < MM_SLOTS; j++)
		if (m->n[j].alive && m->n[j].parent == i)
			sum += mm_usage(m, j);
	return sum;
}

/* Try a change on a copy: the tree must accept it iff every pool still holds. */
static int mm_expect(struct mm *m, const struct mm *changed)
{
	for (int q = 0; q < MM_SLOTS; q++)
		if (changed->n[q].alive && changed->n[q].has_quota &&
		    mm_pool_sum(changed, q, true) + mm_pool_sum(changed, q, false) > changed->n[q].guarantee)
			return -ENOSPC;
	*m = *changed;
	return 0;
}

/* A random live slot (never the root unless allowed), or now and then -1. */
static int mm_pick(const struct mm *m, bool allow_root, bool allow_unknown)
{
	if (allow_unknown && rng_below(16) == 0)
		return -1;
	for (;;) {
		int i = (int)rng_below(MM_SLOTS);
		if (m->n[i].alive && (i != 0 || allow_root))
			return i;
		if (!allow_root && rng_below(64) == 0)
			return -1;      /* perhaps only the root is left */
	}
}

static void mm_kill(struct mm *m, int i)
{
	m->n[i].alive = false;
	for (int j = 1; j < MM_SLOTS; j++)
		if (m->n[j].alive && m->n[j].parent == i)
			mm_kill(m, j);
}

static void mm_compare(const struct mm *m, const struct memctl_tree *t)
{
	static struct snap s;
	unsigned alive = 0, kids;

	MODEL_ASSERT(m, memctl_check(t) == 0);
	for (int i = 0; i < MM_SLOTS; i++) {
		const struct mm_node *n = &m->n[i];
		struct memctl_info info;
		int q = n->alive ? mm_owner(m, i) : 0;

		MODEL_ASSERT(m, memctl_get(t, mm_id(i), &info) == (n->alive ? 0 : -ENOENT));
		if (!n->alive)
			continue;
		alive++;
		kids = 0;
		for (int j = 1; j < MM_SLOTS; j++)
			kids += m->n[j].alive && m->n[j].parent == i;
		MODEL_ASSERT(m, info.parent == mm_id(i == 0 ? 0 : n->parent));
		MODEL_ASSERT(m, info.has_quota == n->has_quota);
		MODEL_ASSERT(m, info.guarantee_frames == (n->has_quota ? n->guarantee : 0));
		MODEL_ASSERT(m, info.charged_frames == n->charged);
		MODEL_ASSERT(m, info.usage_frames == mm_usage(m, i));
		MODEL_ASSERT(m, info.available_frames ==
				m->n[q].guarantee - mm_pool_sum(m, q, true) - mm_pool_sum(m, q, false));
		MODEL_ASSERT(m, info.nchildren == kids);
	}
	memset(&s, 0, sizeof(s));
	MODEL_ASSERT(m, memctl_foreach(t, snap_fn, &s) == 0 && s.n == alive);
}

static void test_random_against_model(void **state)
{
	static struct mm m, c;
	struct memctl_tree *t = make(1000), *u;
	const char *env = getenv("PFS_SEED");

	(void)state;
	m.seed = env ? strtoull(env, NULL, 0) : 20240611ULL;
	rng_state = m.seed;
	m.n[0] = (struct mm_node){ .alive = true, .has_quota = true, .guarantee = 1000 };
	for (m.step = 0; m.step < MM_STEPS; m.step++) {
		static const unsigned upto[] = { 15, 30, 38, 44, 74, 95, 100 }; /* % of ops */
		unsigned op = (unsigned)rng_below(100), kind = 0;
		int i = mm_pick(&m, true, true), want = i < 0 ? -ENOENT : 0, ret, slot, dup;
		uint64_t n = rng_below(120), released = 0;

		c = m;
		while (op >= upto[kind])
			kind++;
		if (kind == 0) {                        /* add under i */
			for (slot = 1; slot < MM_SLOTS && m.n[slot].alive; slot++)
				;
			dup = slot == MM_SLOTS || rng_below(10) == 0 ? mm_pick(&m, true, false) : -1;
			ret = memctl_add(t, mm_id(i), mm_id(dup >= 0 ? dup : slot));
			if (!want && dup >= 0)
				want = -EEXIST;
			else if (!want)
				m.n[slot] = (struct mm_node){ .alive = true, .parent = i };
		} else if (kind == 1) {                 /* set quota */
			n = rng_below(500);
			ret = memctl_set_quota(t, mm_id(i), n);
			if (!want && i == 0)
				want = -EINVAL;
			else if (!want) {
				c.n[i].has_quota = true;
				c.n[i].guarantee = n;
				want = mm_expect(&m, &c);
			}
		} else if (kind == 2) {                 /* clear quota */
			ret = memctl_clear_quota(t, mm_id(i));
			if (!want && (i == 0 || !m.n[i].has_quota))
				want = -EINVAL;
			else if (!want) {
				c.n[i].has_quota = false;
				c.n[i].guarantee = 0;
				want = mm_expect(&m, &c);
				MODEL_ASSERT(&m, want == 0);    /* its guarantee covered its use */
			}
		} else if (kind == 3) {                 /* remove */
			i = rng_below(10) == 0 ? 0 : mm_pick(&m, false, true);
			want = i < 0 ? -ENOENT : i == 0 ? -EINVAL : 0;
			ret = memctl_remove(t, mm_id(i), &released);
			if (!want) {
				MODEL_ASSERT(&m, released == mm_usage(&m, i));
				mm_kill(&m, i);
			}
		} else if (kind == 4) {                 /* charge */
			ret = memctl_charge(t, mm_id(i), n);
			if (!want) {
				c.n[i].charged += n;
				want = mm_expect(&m, &c);
			}
		} else if (kind == 5) {                 /* uncharge */
			n = i < 0 ? 1 : rng_below(m.n[i].charged + 10);
			ret = memctl_uncharge(t, mm_id(i), n);
			if (!want && n > m.n[i].charged)
				want = -EINVAL;
			else if (!want)
				m.n[i].charged -= n;
		} else {                                /* set capacity */
			n = 300 + rng_below(1200);
			ret = memctl_set_capacity(t, n);
			c.n[0].guarantee = n;
			want = mm_expect(&m, &c);
		}
		MODEL_ASSERT(&m, ret == want);
		m.outcomes[kind][ret != 0]++;
		mm_compare(&m, t);
		if (m.step % 500 == 0) {                /* what the commit layer would reload */
			u = make(0);
			MODEL_ASSERT(&m, memctl_foreach(t, restore_fn, u) == 0);
			mm_compare(&m, u);
			memctl_tree_destroy(u);
		}
	}
	/* each kind of operation was both accepted and refused, or this proves little */
	for (unsigned k = 0; k < PFS_ARRAY_SIZE(m.outcomes); k++)
		MODEL_ASSERT(&m, m.outcomes[k][0] > 0 && m.outcomes[k][1] > 0);
	memctl_tree_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_add_errors),
		cmocka_unit_test(test_sharing_charges_count_against_root),
		cmocka_unit_test(test_set_quota_splits_guarantee),
		cmocka_unit_test(test_set_quota_enospc_when_parent_lacks),
		cmocka_unit_test(test_set_quota_on_sharing_subtree_takes_its_use),
		cmocka_unit_test(test_clear_quota),
		cmocka_unit_test(test_charge_limits_at_every_level),
		cmocka_unit_test(test_remove_returns_guarantees_and_charges),
		cmocka_unit_test(test_remove_sharing_subtree_with_quota_grandchild),
		cmocka_unit_test(test_restore_errors_and_check_detects_broken),
		cmocka_unit_test(test_foreach_parents_first_and_stops),
		cmocka_unit_test(test_enomem_changes_nothing),
		cmocka_unit_test(test_deep_and_wide_trees),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
