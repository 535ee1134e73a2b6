/*
 * memctl.c: the memory-control tree, in memory only.
 *
 * It decides whether a charge of frames fits under the quotas and keeps the
 * sums that say so. It must never do I/O, never see an actual frame, never
 * leave a half-applied change behind a failed call (every check runs before
 * the first store), and never lock: the commit layer persists the tree and
 * the caller serialises calls (memctl.h).
 *
 * Terms: Q's *region* is Q plus every descendant reached through sharing
 * controls only; the quota controls at its edge are Q's *quota children*
 * (their nearest quota ancestor is Q). Invariants, checked by memctl_check:
 *   T1  shape: the root has no parent and a quota; every other control's
 *       parent is in the tree; sibling lists are doubly linked and nchildren
 *       counts them; every control is reachable from the root and indexed by
 *       its id exactly once (count says how many).
 *   T2  usage(X) = charged(X) + sum of usage(c) over X's children.
 *   T3  a sharing control has guarantee = split = used = 0.
 *   T4  a quota control Q has split(Q) = sum of its quota children's
 *       guarantees, used(Q) = sum of charged over its region, and
 *       split(Q) + used(Q) <= guarantee(Q), i.e. used(Q) <= pool(Q).
 * Every operation keeps T1-T4 given they held before; only memctl_restore
 * may build a tree that breaks T4's inequality, which memctl_check reports.
 *
 * usage is kept incrementally (a charge adds n to each ancestor): that costs
 * O(depth) per charge, and directory trees are shallow, whereas computing it
 * on demand costs O(subtree) and the root's usage is read by every df. split
 * and used make the charge test O(1) once Q is found; they are recomputed
 * from the region only when a quota is set on a sharing control or a sharing
 * subtree is removed, both rare.
 */
#include <assert.h>
#include <stdlib.h>
#include "log.h"
#include "physmem/memctl.h"

struct mc_node {
	uint64_t id;
	struct mc_node *parent;
	struct mc_node *first_child, *next_sibling, *prev_sibling;
	struct mc_node *hnext;          /* index bucket chain */
	unsigned nchildren;
	bool has_quota;
	uint64_t guarantee;             /* T3, T4 */
	uint64_t split;                 /* T4 */
	uint64_t used;                  /* T4 */
	uint64_t charged;               /* own */
	uint64_t usage;                 /* T2 */
};

struct memctl_tree {
	struct mc_node *root;
	struct mc_node **buckets;       /* index by id; nbuckets is a power of two */
	size_t nbuckets;
	size_t count;
};

#define MC_INITIAL_BUCKETS 16

/* ---- the index: a chained hash on id ---- */

static size_t mc_bucket(uint64_t id, size_t nbuckets)
{
	/* Directory ids are often sequential: mix before masking. */
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (nbuckets - 1);
}

static struct mc_node *mc_lookup(const struct memctl_tree *t, uint64_t id)
{
	struct mc_node *n = t->buckets[mc_bucket(id, t->nbuckets)];

	while (n && n->id != id)
		n = n->hnext;
	return n;
}

/* Grow to keep chains short; failure only costs speed, so it is ignored. */
static void mc_index_grow(struct memctl_tree *t)
{
	size_t nb = t->nbuckets * 2;
	struct mc_node **nbk;

	if (t->count < t->nbuckets || nb < t->nbuckets)
		return;
	nbk = calloc(nb, sizeof(*nbk));
	if (!nbk)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		while (t->buckets[i]) {
			struct mc_node *n = t->buckets[i];
			size_t b = mc_bucket(n->id, nb);
			t->buckets[i] = n->hnext;
			n->hnext = nbk[b];
			nbk[b] = n;
		}
	}
	free(t->buckets);
	t->buckets = nbk;
	t->nbuckets = nb;
}

static void mc_index_add(struct memctl_tree *t, struct mc_node *n)
{
	size_t b;

	mc_index_grow(t);
	b = mc_bucket(n->id, t->nbuckets);
	n->hnext = t->buckets[b];
	t->buckets[b] = n;
	t->count++;
}

static void mc_index_del(struct memctl_tree *t, struct mc_node *n)
{
	struct mc_node **pp = &t->buckets[mc_bucket(n->id, t->nbuckets)];

	while (*pp != n) {
		assert(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = n->hnext;
	t->count--;
}

/* ---- tree shape and walks ---- */

static void mc_link_child(struct mc_node *parent, struct mc_node *n)
{
	n->parent = parent;
	n->prev_sibling = NULL;
	n->next_sibling = parent->first_child;
	if (parent->first_child)
		parent->first_child->prev_sibling = n;
	parent->first_child = n;
	parent->nchildren++;
}

static void mc_unlink_child(struct mc_node *n)
{
	struct mc_node *p = n->parent;

	if (n->prev_sibling)
		n->prev_sibling->next_sibling = n->next_sibling;
	else
		p->first_child = n->next_sibling;
	if (n->next_sibling)
		n->next_sibling->prev_sibling = n->prev_sibling;
	p->nchildren--;
	n->parent = n->next_sibling = n->prev_sibling = NULL;
}

/* Pre-order successor of n within top's subtree; into quota controls below
 * top only if deep (else the walk stops at the edge of top's region). */
static struct mc_node *mc_next(const struct mc_node *n, const struct mc_node *top, bool deep)
{
	if (n->first_child && (deep || n == top || !n->has_quota))
		return n->first_child;
	while (n != top) {
		if (n->next_sibling)
			return n->next_sibling;
		n = n->parent;
	}
	return NULL;
}

/* The nearest quota control strictly above n (the root has none). */
static struct mc_node *mc_quota_above(const struct mc_node *n)
{
	struct mc_node *p = n->parent;

	while (p && !p->has_quota)
		p = p->parent;
	return p;
}

static struct mc_node *mc_quota_owner(const struct mc_node *n)
{
	return n->has_quota ? (struct mc_node *)n : mc_quota_above(n);
}

/*
 * What top's region would hold if top had a quota: the charges of top and its
 * sharing descendants (*used) and the guarantees at its edge (*split). False
 * if a sum overflows (only in a corrupt or badly restored tree).
 */
static bool mc_region_sums(const struct mc_node *top, uint64_t *used, uint64_t *split)
{
	*used = 0;
	*split = 0;
	for (const struct mc_node *n = top; n; n = mc_next(n, top, false)) {
		if (n != top && n->has_quota) {
			if (__builtin_add_overflow(*split, n->guarantee, split))
				return false;
		} else if (__builtin_add_overflow(*used, n->charged, used)) {
			return false;
		}
	}
	return true;
}

/* a + b + c + d <= limit, without overflow. */
static bool mc_fits(uint64_t limit, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t s;

	return !__builtin_add_overflow(a, b, &s) && !__builtin_add_overflow(s, c, &s) &&
	       !__builtin_add_overflow(s, d, &s) && s <= limit;
}

/* pool(q) - used(q), saturating so that a restored, not yet checked tree
 * reads as full rather than wrapping. */
static uint64_t mc_available(const struct mc_node *q)
{
	assert(q->has_quota);
	if (q->split > q->guarantee || q->used > q->guarantee - q->split)
		return 0;
	return q->guarantee - q->split - q->used;
}

static void mc_add_usage(struct mc_node *n, uint64_t delta)
{
	for (; n; n = n->parent)
		n->usage += delta;
}

static void mc_sub_usage(struct mc_node *n, uint64_t delta)
{
	for (; n; n = n->parent) {
		assert(n->usage >= delta);
		n->usage -= delta;
	}
}

static struct mc_node *mc_new_node(uint64_t id)
{
	struct mc_node *n = calloc(1, sizeof(*n));

	if (n)
		n->id = id;
	return n;
}

/* ---- the public face ---- */

int memctl_tree_create(uint64_t root_id, uint64_t capacity_frames, struct memctl_tree **out)
{
	struct memctl_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->nbuckets = MC_INITIAL_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->root = mc_new_node(root_id);
	if (!t->buckets || !t->root)
		goto fail;
	t->root->has_quota = true;
	t->root->guarantee = capacity_frames;
	mc_index_add(t, t->root);
	*out = t;
	return 0;
fail:
	free(t->root);
	free(t->buckets);
	free(t);
	return -ENOMEM;
}

/* Free top and everything below it, leaves first, without recursion (a
 * directory tree may be deep). top must already be unlinked from its parent. */
static void mc_free_subtree(struct memctl_tree *t, struct mc_node *top)
{
	struct mc_node *n = top;

	while (n) {
		struct mc_node *up;

		if (n->first_child) {
			n = n->first_child;
			continue;
		}
		up = n == top ? NULL : n->parent;
		if (up)
			up->first_child = n->next_sibling; /* n is always a first child */
		if (t)
			mc_index_del(t, n);
		free(n);
		n = up;
	}
}

void memctl_tree_destroy(struct memctl_tree *t)
{
	if (!t)
		return;
	mc_free_subtree(NULL, t->root);
	free(t->buckets);
	free(t);
}

int memctl_set_capacity(struct memctl_tree *t, uint64_t capacity_frames)
{
	struct mc_node *r = t->root;

	if (!mc_fits(capacity_frames, r->split, r->used, 0, 0))
		return -ENOSPC;
	r->guarantee = capacity_frames;
	return 0;
}

int memctl_add(struct memctl_tree *t, uint64_t parent_id, uint64_t id)
{
	struct mc_node *parent = mc_lookup(t, parent_id), *n;

	if (!parent)
		return -ENOENT;
	if (mc_lookup(t, id))
		return -EEXIST;
	n = mc_new_node(id);
	if (!n)
		return -ENOMEM;
	mc_link_child(parent, n);
	mc_index_add(t, n);
	return 0;
}

int memctl_set_quota(struct memctl_tree *t, uint64_t id, uint64_t frames)
{
	struct mc_node *x = mc_lookup(t, id), *q;
	uint64_t x_used, x_split, q_split_rest, q_used_rest;

	if (!x)
		return -ENOENT;
	if (x == t->root)
		return -EINVAL;
	q = mc_quota_above(x);
	if (x->has_quota) {
		x_used = x->used;
		x_split = x->split;
		assert(q->split >= x->guarantee);
		q_split_rest = q->split - x->guarantee;
		q_used_rest = q->used;
	} else {
		/* x's region moves out of q's: its charges and edge guarantees. */
		if (!mc_region_sums(x, &x_used, &x_split))
			return -EOVERFLOW;
		assert(q->split >= x_split && q->used >= x_used);
		q_split_rest = q->split - x_split;
		q_used_rest = q->used - x_used;
	}
	if (!mc_fits(frames, x_used, x_split, 0, 0))
		return -ENOSPC;
	if (!mc_fits(q->guarantee, q_split_rest, q_used_rest, frames, 0))
		return -ENOSPC;
	q->split = q_split_rest + frames;
	q->used = q_used_rest;
	x->has_quota = true;
	x->guarantee = frames;
	x->split = x_split;
	x->used = x_used;
	return 0;
}

int memctl_clear_quota(struct memctl_tree *t, uint64_t id)
{
	struct mc_node *x = mc_lookup(t, id), *q;
	uint64_t q_split_rest;

	if (!x)
		return -ENOENT;
	if (x == t->root || !x->has_quota)
		return -EINVAL;
	q = mc_quota_above(x);
	assert(q->split >= x->guarantee);
	q_split_rest = q->split - x->guarantee;
	/* x's quota children and used frames become q's. */
	if (!mc_fits(q->guarantee, q_split_rest, x->split, q->used, x->used))
		return -ENOSPC;
	q->split = q_split_rest + x->split;
	q->used += x->used;
	x->has_quota = false;
	x->guarantee = x->split = x->used = 0;
	return 0;
}

int memctl_remove(struct memctl_tree *t, uint64_t id, uint64_t *released_frames)
{
	struct mc_node *x = mc_lookup(t, id), *q;
	uint64_t x_used, x_split;

	if (!x)
		return -ENOENT;
	if (x == t->root)
		return -EINVAL;
	q = mc_quota_above(x);
	if (x->has_quota) {
		x_split = x->guarantee;        /* x's own region dies with it */
		x_used = 0;
	} else if (!mc_region_sums(x, &x_used, &x_split)) {
		return -EOVERFLOW;
	}
	assert(q->split >= x_split && q->used >= x_used);
	q->split -= x_split;
	q->used -= x_used;
	mc_sub_usage(x->parent, x->usage);
	if (released_frames)
		*released_frames = x->usage;
	mc_unlink_child(x);
	mc_free_subtree(t, x);
	return 0;
}

int memctl_charge(struct memctl_tree *t, uint64_t id, uint64_t n)
{
	struct mc_node *x = mc_lookup(t, id), *q;

	if (!x)
		return -ENOENT;
	q = mc_quota_owner(x);
	if (n > mc_available(q))
		return -ENOSPC;
	/* The root's usage is the largest sum; only a bad restore gets near 2^64. */
	if (n > UINT64_MAX - t->root->usage)
		return -EOVERFLOW;
	x->charged += n;
	q->used += n;
	mc_add_usage(x, n);
	return 0;
}

int memctl_uncharge(struct memctl_tree *t, uint64_t id, uint64_t n)
{
	struct mc_node *x = mc_lookup(t, id), *q;

	if (!x)
		return -ENOENT;
	if (n > x->charged)
		return -EINVAL;
	q = mc_quota_owner(x);
	assert(q->used >= n);
	x->charged -= n;
	q->used -= n;
	mc_sub_usage(x, n);
	return 0;
}

static void mc_fill_info(const struct mc_node *n, struct memctl_info *out)
{
	out->id = n->id;
	out->parent = n->parent ? n->parent->id : n->id;
	out->has_quota = n->has_quota;
	out->guarantee_frames = n->guarantee;
	out->charged_frames = n->charged;
	out->usage_frames = n->usage;
	out->available_frames = mc_available(mc_quota_owner(n));
	out->nchildren = n->nchildren;
}

int memctl_get(const struct memctl_tree *t, uint64_t id, struct memctl_info *out)
{
	const struct mc_node *n = mc_lookup(t, id);

	if (!n)
		return -ENOENT;
	mc_fill_info(n, out);
	return 0;
}

int memctl_foreach(const struct memctl_tree *t,
		   int (*fn)(const struct memctl_info *m, void *arg), void *arg)
{
	for (const struct mc_node *n = t->root; n; n = mc_next(n, t->root, true)) {
		struct memctl_info info;
		int ret;

		mc_fill_info(n, &info);
		ret = fn(&info, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int memctl_restore(struct memctl_tree *t, uint64_t parent_id, uint64_t id,
		   bool has_quota, uint64_t guarantee, uint64_t charged)
{
	struct mc_node *r = t->root, *parent, *q, *n;

	if (id == r->id) {
		uint64_t others = r->usage - r->charged;
		uint64_t region = r->used - r->charged;

		if (!has_quota)
			return -EINVAL;
		if (charged > UINT64_MAX - others || charged > UINT64_MAX - region)
			return -EOVERFLOW;
		r->usage = others + charged;
		r->used = region + charged;
		r->charged = charged;
		r->guarantee = guarantee;
		return 0;
	}
	if (!has_quota && guarantee != 0)
		return -EINVAL;
	if (mc_lookup(t, id))
		return -EEXIST;
	parent = mc_lookup(t, parent_id);
	if (!parent)
		return -ENOENT;
	q = mc_quota_owner(parent);
	if (charged > UINT64_MAX - r->usage ||
	    (has_quota && guarantee > UINT64_MAX - q->split) ||
	    (!has_quota && charged > UINT64_MAX - q->used))
		return -EOVERFLOW;
	n = mc_new_node(id);
	if (!n)
		return -ENOMEM;
	n->has_quota = has_quota;
	n->guarantee = guarantee;
	n->charged = charged;
	n->usage = charged;
	if (has_quota) {
		n->used = charged;
		q->split += guarantee;
	} else {
		q->used += charged;
	}
	mc_link_child(parent, n);
	mc_add_usage(parent, charged);
	mc_index_add(t, n);
	return 0;
}

/* ---- memctl_check ---- */

static int mc_fail(const struct mc_node *n, const char *why)
{
	pfs_err("memctl %llu: %s", (unsigned long long)n->id, why);
	return -EUCLEAN;
}

static int mc_check_node(const struct memctl_tree *t, const struct mc_node *n)
{
	const struct mc_node *prev = NULL;
	uint64_t sum = n->charged, used, split;
	unsigned kids = 0;

	if (mc_lookup(t, n->id) != n)
		return mc_fail(n, "not found under its id in the index");
	for (const struct mc_node *c = n->first_child; c; c = c->next_sibling) {
		if (c->parent != n || c->prev_sibling != prev)
			return mc_fail(c, "child links do not match its parent's list");
		if (++kids > t->count)
			return mc_fail(n, "child list loops");
		if (__builtin_add_overflow(sum, c->usage, &sum))
			return mc_fail(n, "usage sum overflows");
		prev = c;
	}
	if (kids != n->nchildren)
		return mc_fail(n, "nchildren does not count its children");
	if (sum != n->usage)
		return mc_fail(n, "usage is not own charges plus children's usage");
	if (!n->has_quota) {
		if (n->guarantee || n->split || n->used)
			return mc_fail(n, "sharing control carries quota sums");
		return 0;
	}
	if (!mc_region_sums(n, &used, &split))
		return mc_fail(n, "region sums overflow");
	if (split != n->split)
		return mc_fail(n, "split is not the sum of its quota children's guarantees");
	if (used != n->used)
		return mc_fail(n, "used is not the sum of charges in its region");
	if (n->split > n->guarantee)
		return mc_fail(n, "quota children's guarantees exceed its guarantee");
	if (n->used > n->guarantee - n->split)
		return mc_fail(n, "used frames exceed its pool");
	return 0;
}

int memctl_check(const struct memctl_tree *t)
{
	const struct mc_node *r = t->root;
	size_t seen = 0, indexed = 0;
	int err;

	if (!r || r->parent || r->next_sibling || r->prev_sibling)
		return r ? mc_fail(r, "root has a parent or siblings") : -EUCLEAN;
	if (!r->has_quota)
		return mc_fail(r, "root has no quota");
	for (const struct mc_node *n = r; n; n = mc_next(n, r, true)) {
		if (++seen > t->count)
			return mc_fail(n, "more controls reachable than indexed");
		err = mc_check_node(t, n);
		if (err)
			return err;
	}
	for (size_t b = 0; b < t->nbuckets; b++) {
		for (const struct mc_node *n = t->buckets[b]; n; n = n->hnext) {
			if (mc_bucket(n->id, t->nbuckets) != b)
				return mc_fail(n, "indexed in the wrong bucket");
			if (++indexed > t->count)
				return mc_fail(n, "index holds more entries than counted");
		}
	}
	if (seen != t->count || indexed != t->count) {
		pfs_err("memctl: %zu controls reachable, %zu indexed, %zu counted",
			seen, indexed, t->count);
		return -EUCLEAN;
	}
	return 0;
}
