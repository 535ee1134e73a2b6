/*
 * store_check.c: physmem's invariants over a store's committed state, for
 * the tests, the daemon and `pagerctl fsck`.
 *
 *  1. every frame referenced by a committed page map has a reference count
 *     (record, or one when there is none) equal to its number of references;
 *  2. no reference-count run covers a frame with fewer than two references;
 *  3. no frame is both free and referenced, and free plus referenced frames
 *     are exactly the frames the swap files are recorded to hold;
 *  4. each memory control's recorded charge equals the swap pages of the
 *     objects charged to it, and no extent belongs to an unknown object.
 * It reads only; a failure names the first broken invariant in `why`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "pagemap.h"
#include "store_internal.h"

struct ck {
	struct cat_txn *txn;
	uint64_t *frames;
	size_t n, cap;
	struct { uint64_t id, pages; } ctl[4096];
	size_t nctl;
	uint64_t swap_pages_by_object, swap_pages_all;
	uint64_t cur_memctl;
	char *why;
	size_t why_len;
};

static int ck_fail(struct ck *c, const char *msg, uint64_t a)
{
	if (c->why)
		snprintf(c->why, c->why_len, "%s %llu", msg, (unsigned long long)a);
	return -EUCLEAN;
}

/* A control is charged for its objects' swap pages and reserved pages. */
static int ck_charge(struct ck *c, uint64_t pages)
{
	for (size_t i = 0; i < c->nctl; i++)
		if (c->ctl[i].id == c->cur_memctl) {
			c->ctl[i].pages += pages;
			return 0;
		}
	if (c->nctl == PFS_ARRAY_SIZE(c->ctl))
		return -E2BIG;
	c->ctl[c->nctl].id = c->cur_memctl;
	c->ctl[c->nctl++].pages = pages;
	return 0;
}

static int ck_piece(const struct pmap_extent *p, void *arg)
{
	struct ck *c = arg;

	if (p->kind == PMAP_RSV)
		return ck_charge(c, p->npages);
	if (p->kind != PMAP_SWAP)
		return 0;
	if (c->n + p->npages > c->cap) {
		size_t cap = PFS_MAX(c->cap * 2, c->n + p->npages + 1024);
		uint64_t *nv = realloc(c->frames, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->frames = nv;
		c->cap = cap;
	}
	for (uint64_t i = 0; i < p->npages; i++)
		c->frames[c->n++] = p->base + i;
	c->swap_pages_by_object += p->npages;
	return ck_charge(c, p->npages);
}

static int ck_object(const struct cat_object *o, void *arg)
{
	struct ck *c = arg;

	c->cur_memctl = o->memctl;
	return pmap_foreach(c->txn, o->id, 0, PFS_ALL_PAGES, true, ck_piece, c);
}

static int ck_extent_raw(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct ck *c = arg;
	struct pmap_extent e;

	if (klen != 16 || pmap_extent_decode(codec_get_be64((const uint8_t *)k + 8), v, vlen, &e) < 0)
		return ck_fail(c, "damaged extent record of object", klen >= 8 ? codec_get_be64(k) : 0);
	if (e.kind == PMAP_SWAP)
		c->swap_pages_all += e.npages;
	return 0;
}

static int ck_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Index of the first referenced frame >= frame in the sorted list. */
static size_t ck_lower_bound(const struct ck *c, uint64_t frame)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->frames[mid] < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool ck_referenced(const struct ck *c, uint64_t frame)
{
	size_t i = ck_lower_bound(c, frame);
	return i < c->n && c->frames[i] == frame;
}

struct ck_free {
	struct ck *c;
	uint64_t frames;
	int rc;
};

static int ck_free_piece(const struct pmap_extent *p, void *arg)
{
	struct ck_free *f = arg;

	for (uint64_t i = 0; i < p->npages; i++)
		if (ck_referenced(f->c, p->first + i))
			return ck_fail(f->c, "frame both free and referenced:", p->first + i);
	f->frames += p->npages;
	return 0;
}

/* Every frame of a stored run is used exactly count times. */
static int ck_ref_run(uint64_t first, uint64_t n, uint64_t count, void *arg)
{
	struct ck *c = arg;
	size_t lo = ck_lower_bound(c, first);

	for (uint64_t frame = first; frame < first + n; frame++) {
		size_t from = lo;
		while (lo < c->n && c->frames[lo] == frame)
			lo++;
		if (lo - from != count)
			return ck_fail(c, "reference count run disagrees with the page maps at frame", frame);
	}
	return 0;
}

static int ck_memctl(const struct cat_memctl *m, void *arg)
{
	struct ck *c = arg;
	uint64_t pages = 0;

	for (size_t i = 0; i < c->nctl; i++)
		if (c->ctl[i].id == m->id)
			pages = c->ctl[i].pages;
	if (pages != m->charged_frames)
		return ck_fail(c, "charge recorded differs from swap pages for memory control", m->id);
	return 0;
}

struct ck_mem {
	struct ck *c;
	struct store *s;
};

static int ck_memctl_mem(const struct cat_memctl *m, void *arg)
{
	struct ck_mem *km = arg;
	struct memctl_info info;

	if (memctl_get(km->s->memctls, m->id, &info) < 0)
		return ck_fail(km->c, "memory control missing in memory:", m->id);
	if (info.charged_frames != m->charged_frames)
		return ck_fail(km->c, "in-memory charge differs from the catalogue for control", m->id);
	if (info.has_quota != !!(m->flags & CAT_MC_QUOTA) ||
	    (m->id != CAT_ROOT_ID && info.has_quota && info.guarantee_frames != m->guarantee_frames))
		return ck_fail(km->c, "in-memory guarantee differs from the catalogue for control", m->id);
	return 0;
}

/*
 * With nothing pending, memory and catalogue must agree: the allocators'
 * free frames are the free map plus swap grown since the last commit, and
 * every control's charge is its recorded one.
 */
static int ck_memory(struct store *s, struct ck *c, uint64_t free_map_frames)
{
	struct ck_mem km = { c, s };
	uint64_t buddy_free = 0, uncommitted = 0;
	bool quiet;
	int rc;

	pthread_mutex_lock(&s->commit_lock);
	quiet = !s->committing && atomic_load(&s->pending_pages) == 0;
	pthread_mutex_unlock(&s->commit_lock);
	if (!quiet)
		return 0;
	pthread_mutex_lock(&s->alloc_lock);
	for (unsigned i = 0; i < s->nspaces; i++) {
		buddy_free += buddy_free_frames(s->spaces[i].buddy);
		uncommitted += s->spaces[i].grown_frames - s->spaces[i].committed_frames;
	}
	rc = memctl_check(s->memctls);
	if (rc == 0 && buddy_free != free_map_frames + uncommitted)
		rc = ck_fail(c, "allocators' free frames differ from the free map:", buddy_free);
	if (rc == 0)
		rc = cat_memctl_foreach(c->txn, ck_memctl_mem, &km);
	pthread_mutex_unlock(&s->alloc_lock);
	return rc;
}

int store_check(struct store *s, char *why, size_t why_len)
{
	struct ck *c = calloc(1, sizeof(*c));
	struct ck_free f = { c, 0, 0 };
	uint64_t distinct = 0, recorded = 0;
	int rc;

	if (!c)
		return -ENOMEM;
	c->why = why;
	c->why_len = why_len;
	if (why && why_len)
		why[0] = '\0';
	if ((rc = cat_read_begin(s->cat, &c->txn)) < 0)
		goto out;
	if ((rc = cat_object_foreach(c->txn, ck_object, c)) < 0 ||
	    (rc = cat_walk(c->txn, CAT_T_EXTENTS, NULL, 0, ck_extent_raw, c)) < 0)
		goto out_txn;
	if (c->swap_pages_all != c->swap_pages_by_object) {
		rc = ck_fail(c, "swap pages in extents of unknown objects:",
			     c->swap_pages_all - c->swap_pages_by_object);
		goto out_txn;
	}
	if (c->n)
		qsort(c->frames, c->n, sizeof(*c->frames), ck_cmp);
	for (size_t i = 0; i < c->n; i++) {
		size_t j = i;
		while (j + 1 < c->n && c->frames[j + 1] == c->frames[i])
			j++;
		uint64_t count;
		if ((rc = pmap_ref_get(c->txn, c->frames[i], &count)) < 0)
			goto out_txn;
		if (count != j - i + 1) {
			rc = ck_fail(c, "reference count wrong for frame", c->frames[i]);
			goto out_txn;
		}
		distinct++;
		i = j;
	}
	if ((rc = pmap_ref_foreach(c->txn, ck_ref_run, c)) != 0)
		goto out_txn;
	{
		struct pmap_cat pc;
		struct extent_map fm = pmap_cat_map(&pc, c->txn, CAT_T_FREE, 0);
		if ((rc = extent_foreach(&fm, 0, UINT64_MAX, true, ck_free_piece, &f)) != 0)
			goto out_txn;
	}
	for (unsigned i = 0; i < s->nspaces; i++) {
		char key[64];
		uint64_t n = 0;
		snprintf(key, sizeof(key), "swapfile.%u.frames", s->spaces[i].desc.index);
		if ((rc = cat_meta_get(c->txn, key, &n)) < 0 && rc != -ENOENT)
			goto out_txn;
		recorded += n;
	}
	if (f.frames + distinct != recorded) {
		rc = ck_fail(c, "free plus referenced frames differ from the swap files' frames:",
			     recorded);
		goto out_txn;
	}
	if ((rc = cat_memctl_foreach(c->txn, ck_memctl, c)) != 0)
		goto out_txn;
	rc = ck_memory(s, c, f.frames);
out_txn:
	cat_read_end(c->txn);
out:
	free(c->frames);
	free(c);
	return rc < 0 ? rc : (rc > 0 ? -EUCLEAN : 0);
}
