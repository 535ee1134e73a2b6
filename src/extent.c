/*
 * extent.c: splitting and merging page-map extents, over any store.
 *
 * extent_set() is the single place where a page map changes shape. It works
 * in three steps: (1) cut every stored extent that overlaps the range, keeping
 * the parts outside it and reporting the parts inside to the caller's drop
 * function; (2) absorb a left neighbour ending at the range and a right
 * neighbour starting after it when they continue the new extent; (3) store
 * the result, in PMAP_SWAP_RUN_MAX pieces for SWAP. Stores hand out extents
 * whose sums may move when the store changes, so anything kept across a
 * modification is copied into the caller-independent scratch buffers first.
 * This file must never know which store it edits or what a frame means.
 */
#include <stdlib.h>
#include "extent.h"

bool extent_valid(const struct pmap_extent *e)
{
	if (e->kind > PMAP_KIND_MAX || e->npages == 0 || pfs_range_overflows(e->first, e->npages))
		return false;
	if ((e->kind == PMAP_SWAP) != (e->sums != NULL))
		return false;
	if ((e->kind == PMAP_FILE || e->kind == PMAP_SWAP) && pfs_range_overflows(e->base, e->npages))
		return false;
	if ((e->kind == PMAP_ZERO || e->kind == PMAP_FREE || e->kind == PMAP_RSV) && e->base != 0)
		return false;
	if (e->kind == PMAP_REF && e->base < 2)
		return false;
	return true;
}

/* Would b, starting where a ends, continue a? */
static bool ext_continues(const struct pmap_extent *a, const struct pmap_extent *b)
{
	if (a->kind != b->kind || pmap_extent_end(a) != b->first)
		return false;
	switch (a->kind) {
	case PMAP_ZERO:
	case PMAP_FREE:
	case PMAP_RSV:
		return true;
	case PMAP_FILE:
		return a->base + a->npages == b->base;
	case PMAP_SWAP:
		return a->base + a->npages == b->base && a->npages + b->npages <= PMAP_SWAP_RUN_MAX;
	case PMAP_REF:
		return a->base == b->base; /* the same count */
	}
	return false;
}

/* An extent with its own copy of its checksums. */
struct ext_owned {
	struct pmap_extent e;
	uint8_t *buf;
	size_t cap;
};

static int ext_own(struct ext_owned *o, const struct pmap_extent *src)
{
	o->e = *src;
	if (src->kind != PMAP_SWAP)
		return 0;
	size_t need = (size_t)src->npages * 8;
	if (need > o->cap) {
		uint8_t *nb = realloc(o->buf, need);
		if (!nb)
			return -ENOMEM;
		o->buf = nb;
		o->cap = need;
	}
	memcpy(o->buf, src->sums, need);
	o->e.sums = o->buf;
	return 0;
}

struct pmap_extent extent_clip(const struct pmap_extent *e, uint64_t first, uint64_t end)
{
	struct pmap_extent c = *e;
	uint64_t lo = PFS_MAX(e->first, first), hi = PFS_MIN(pmap_extent_end(e), end);
	uint64_t skip = lo - e->first;

	c.first = lo;
	c.npages = hi - lo;
	if (e->kind == PMAP_FILE || e->kind == PMAP_SWAP)
		c.base = e->base + skip;
	if (e->sums)
		c.sums = e->sums + skip * 8;
	return c;
}

/* Store e, in pieces no larger than a SWAP record may be. */
static int ext_put(struct extent_map *m, const struct pmap_extent *e)
{
	if (e->kind == PMAP_ZERO && !m->ops->store_zero)
		return 0;
	if (e->kind != PMAP_SWAP)
		return m->ops->put(m->store, e);
	for (uint64_t done = 0; done < e->npages; done += PMAP_SWAP_RUN_MAX) {
		struct pmap_extent piece = extent_clip(e, e->first + done,
						    e->first + PFS_MIN(done + PMAP_SWAP_RUN_MAX, e->npages));
		int rc = m->ops->put(m->store, &piece);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Remove stored x from the map, keeping its parts outside [a, b). */
static int ext_cut(struct extent_map *m, const struct pmap_extent *x, uint64_t a, uint64_t b,
		   struct ext_owned *tmp, extent_drop_fn drop, void *arg)
{
	int rc;

	if ((rc = ext_own(tmp, x)) < 0)
		return rc;
	const struct pmap_extent *o = &tmp->e;
	if (drop) {
		struct pmap_extent inside = extent_clip(o, a, b);
		if ((rc = drop(arg, &inside)) < 0)
			return rc;
	}
	/*
	 * The left part keeps the key: replace in place rather than delete and
	 * re-insert (which makes LMDB free and allocate pages within one
	 * transaction, growing the map for nothing).
	 */
	if (o->first < a) {
		struct pmap_extent left = extent_clip(o, o->first, a);
		rc = m->ops->put(m->store, &left);
	} else {
		rc = m->ops->del(m->store, o->first);
	}
	if (rc < 0)
		return rc;
	if (pmap_extent_end(o) > b) {
		struct pmap_extent right = extent_clip(o, b, pmap_extent_end(o));
		if ((rc = ext_put(m, &right)) < 0)
			return rc;
	}
	return 0;
}

/* Join two contiguous extents into out (sums concatenated in out's buffer). */
static int ext_join(struct ext_owned *out, const struct pmap_extent *l, const struct pmap_extent *r)
{
	struct pmap_extent j = *l;

	j.npages = l->npages + r->npages;
	if (l->kind != PMAP_SWAP) {
		out->e = j;
		return 0;
	}
	size_t need = (size_t)j.npages * 8;
	uint8_t *nb = malloc(need);
	if (!nb)
		return -ENOMEM;
	memcpy(nb, l->sums, (size_t)l->npages * 8);
	memcpy(nb + l->npages * 8, r->sums, (size_t)r->npages * 8);
	free(out->buf);
	out->buf = nb;
	out->cap = need;
	j.sums = nb;
	out->e = j;
	return 0;
}

int extent_set(struct extent_map *m, const struct pmap_extent *e, extent_drop_fn drop, void *arg)
{
	struct ext_owned tmp = { 0 }, cur = { 0 }, nb = { 0 };
	struct pmap_extent x;
	uint64_t a, b;
	int rc;

	if (!extent_valid(e) || (e->kind == PMAP_FREE && e->sums))
		return -EINVAL;
	a = e->first;
	b = pmap_extent_end(e);
	/* The caller's e may point into this store: keep our own copy. */
	if ((rc = ext_own(&cur, e)) < 0)
		goto out;

	/* (1) Cut what overlaps: one extent may start before a... */
	rc = m->ops->find_le(m->store, a, &x);
	if (rc == 0 && x.first < a && pmap_extent_end(&x) > a)
		rc = ext_cut(m, &x, a, b, &tmp, drop, arg);
	if (rc < 0 && rc != -ENOENT)
		goto out;
	/* ...and any number start inside [a, b). */
	while ((rc = m->ops->find_ge(m->store, a, &x)) == 0 && x.first < b) {
		if ((rc = ext_cut(m, &x, a, b, &tmp, drop, arg)) < 0)
			goto out;
	}
	if (rc < 0 && rc != -ENOENT)
		goto out;

	/* (2) Absorb neighbours the new extent continues. */
	if (a > 0 && (rc = m->ops->find_le(m->store, a - 1, &x)) == 0 &&
	    ext_continues(&x, &cur.e)) {
		if ((rc = ext_own(&nb, &x)) < 0 || (rc = m->ops->del(m->store, nb.e.first)) < 0 ||
		    (rc = ext_join(&cur, &nb.e, &cur.e)) < 0)
			goto out;
	} else if (rc < 0 && rc != -ENOENT) {
		goto out;
	}
	if (b != 0 && (rc = m->ops->find_ge(m->store, b, &x)) == 0 && x.first == b &&
	    ext_continues(&cur.e, &x)) {
		if ((rc = ext_own(&nb, &x)) < 0 || (rc = m->ops->del(m->store, nb.e.first)) < 0 ||
		    (rc = ext_join(&cur, &cur.e, &nb.e)) < 0)
			goto out;
	} else if (rc < 0 && rc != -ENOENT) {
		goto out;
	}

	/* (3) Store it. */
	rc = ext_put(m, &cur.e);
out:
	free(tmp.buf);
	free(cur.buf);
	free(nb.buf);
	return rc < 0 ? rc : 0;
}

int extent_lookup(struct extent_map *m, uint64_t page, struct pmap_extent *out)
{
	struct pmap_extent x;
	uint64_t hole_first = 0, hole_end = UINT64_MAX;
	int rc = m->ops->find_le(m->store, page, &x);

	if (rc == 0) {
		if (pmap_extent_end(&x) > page) {
			*out = x;
			return 0;
		}
		hole_first = pmap_extent_end(&x);
	} else if (rc != -ENOENT) {
		return rc;
	}
	rc = m->ops->find_ge(m->store, page, &x);
	if (rc == 0)
		hole_end = x.first;
	else if (rc != -ENOENT)
		return rc;
	*out = (struct pmap_extent){ .first = hole_first, .npages = hole_end - hole_first,
				     .kind = PMAP_ZERO };
	return 1;
}

int extent_foreach(struct extent_map *m, uint64_t first, uint64_t n, bool skip_holes,
		   int (*fn)(const struct pmap_extent *piece, void *arg), void *arg)
{
	uint64_t pos = first, end = first + n;
	struct pmap_extent x, piece;
	int rc;

	if (pfs_range_overflows(first, n))
		return -EINVAL;
	while (pos < end) {
		if ((rc = extent_lookup(m, pos, &x)) < 0)
			return rc;
		bool hole = rc == 1;
		piece = extent_clip(&x, pos, end);
		if (!(hole && skip_holes) && (rc = fn(&piece, arg)) != 0)
			return rc;
		pos = pmap_extent_end(&piece);
	}
	return 0;
}

int extent_check(struct extent_map *m)
{
	struct pmap_extent x, prev = { 0 };
	bool have_prev = false;
	uint64_t pos = 0;
	int rc;

	while ((rc = m->ops->find_ge(m->store, pos, &x)) == 0) {
		if (!extent_valid(&x))
			return -EUCLEAN;
		if (x.kind == PMAP_SWAP && x.npages > PMAP_SWAP_RUN_MAX)
			return -EUCLEAN;
		if (x.kind == PMAP_ZERO && !m->ops->store_zero)
			return -EUCLEAN;
		if (have_prev) {
			if (pmap_extent_end(&prev) > x.first)
				return -EUCLEAN;
			if (ext_continues(&prev, &x))
				return -EUCLEAN;
		}
		prev = x;
		prev.sums = NULL; /* only the shape is compared later; sums may move */
		have_prev = true;
		pos = pmap_extent_end(&x);
	}
	return rc == -ENOENT || rc == 0 ? 0 : rc;
}

/* ---- the in-memory store: a sorted array ---- */

/* Index of the first entry with first >= page. */
static size_t mem_lower_bound(const struct extent_mem *s, uint64_t page)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].e.first < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int mem_find_le(void *store, uint64_t page, struct pmap_extent *out)
{
	struct extent_mem *s = store;
	size_t i = mem_lower_bound(s, page);

	if (i < s->n && s->v[i].e.first == page) {
		*out = s->v[i].e;
		return 0;
	}
	if (i == 0)
		return -ENOENT;
	*out = s->v[i - 1].e;
	return 0;
}

static int mem_find_ge(void *store, uint64_t page, struct pmap_extent *out)
{
	struct extent_mem *s = store;
	size_t i = mem_lower_bound(s, page);

	if (i == s->n)
		return -ENOENT;
	*out = s->v[i].e;
	return 0;
}

static int mem_put(void *store, const struct pmap_extent *e)
{
	struct extent_mem *s = store;
	size_t i = mem_lower_bound(s, e->first);
	uint8_t *sums = NULL;

	if (e->sums) {
		sums = malloc((size_t)e->npages * 8);
		if (!sums)
			return -ENOMEM;
		memcpy(sums, e->sums, (size_t)e->npages * 8);
	}
	if (i < s->n && s->v[i].e.first == e->first) {
		free((void *)s->v[i].e.sums);
	} else {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct extent_mem_entry *nv = realloc(s->v, cap * sizeof(*nv));
			if (!nv) {
				free(sums);
				return -ENOMEM;
			}
			s->v = nv;
			s->cap = cap;
		}
		memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
		s->n++;
	}
	s->v[i].e = *e;
	s->v[i].e.sums = sums;
	return 0;
}

static int mem_del(void *store, uint64_t first)
{
	struct extent_mem *s = store;
	size_t i = mem_lower_bound(s, first);

	if (i == s->n || s->v[i].e.first != first)
		return -ENOENT;
	free((void *)s->v[i].e.sums);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return 0;
}

void extent_mem_clear(struct extent_mem *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((void *)s->v[i].e.sums);
	free(s->v);
	extent_mem_init(s);
}

const struct extent_ops extent_mem_ops = {
	.find_le = mem_find_le,
	.find_ge = mem_find_ge,
	.put = mem_put,
	.del = mem_del,
	.store_zero = true,
};

const struct extent_ops extent_mem_sparse_ops = {
	.find_le = mem_find_le,
	.find_ge = mem_find_ge,
	.put = mem_put,
	.del = mem_del,
	.store_zero = false,
};
