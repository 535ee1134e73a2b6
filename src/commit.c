/*
 * commit.c: group commit, and the check of physmem's invariants.
 *
 * Stages of a commit (store.h describes a page's):
 *   collecting  every object's pending overlay becomes its committing one
 *               (under the object's lock), the swap growth so far is noted
 *   syncing     fdatasync of every swap file
 *   mapping     one LMDB transaction applies the committing extents with
 *               what they imply: frames they displace are dereferenced (and
 *               freed into the free map at zero), fresh frames leave the free
 *               map, shared ones gain a reference, charges move, growth is
 *               recorded; the transaction function only reads in-memory
 *               state, so cat_write may replay it after growing the map
 *   done        committing overlays are dropped (under each object's lock,
 *               so no page-in still reads a frame about to be reused), then
 *               the freed frames go back to the allocators, the large runs
 *               also to the queue that store_discard_freed punches
 * On failure the committing overlays are folded back under the pending ones
 * and nothing is lost; the next commit tries again.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codec.h"
#include "log.h"
#include "pagemap.h"
#include "store_internal.h"

static int cm_free_map_set(struct cat_txn *txn, uint64_t frame, uint64_t n, int kind)
{
	struct pmap_cat pc;
	struct extent_map fm = pmap_cat_map(&pc, txn, CAT_T_FREE, 0);
	struct pmap_extent e = { frame, n, (uint8_t)kind, 0, NULL };

	return extent_set(&fm, &e, NULL, NULL);
}

/*
 * Append a run to a growing vector. (Never joined to the one before:
 * store_discard_freed takes each noted run from the allocator by itself.)
 */
static int cm_runs_push(struct frame_run **v, size_t *n, size_t *cap, uint64_t frame,
			uint64_t nframes)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct frame_run *nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct frame_run){ frame, nframes };
	return 0;
}

/* Frames left unused by this commit: free in the map now, to the allocators when it is done. */
static int cm_note_freed(void *arg, uint64_t frame, uint64_t n)
{
	struct commit_ctx *c = arg;
	int rc = 0;

	if (c->nfreed && c->freed[c->nfreed - 1].frame + c->freed[c->nfreed - 1].n == frame)
		c->freed[c->nfreed - 1].n += n;
	else
		rc = cm_runs_push(&c->freed, &c->nfreed, &c->capfreed, frame, n);
	return rc < 0 ? rc : cm_free_map_set(c->txn, frame, n, PMAP_FREE);
}

/* A run newly referenced by a committed map: fresh frames leave the free map, others gain a reference. */
static int cm_ref(struct commit_ctx *c, uint64_t frame, uint64_t n)
{
	struct pmap_cat pc;
	struct extent_map fm = pmap_cat_map(&pc, c->txn, CAT_T_FREE, 0);
	uint64_t pos = frame, end = frame + n;
	int rc;

	while (pos < end) {
		struct pmap_extent x;
		if ((rc = extent_lookup(&fm, pos, &x)) < 0)
			return rc;
		uint64_t stop = PFS_MIN(end, pmap_extent_end(&x));
		if (rc == 0) /* free until now */
			rc = cm_free_map_set(c->txn, pos, stop - pos, PMAP_ZERO);
		else
			rc = pmap_ref_add(c->txn, pos, stop - pos);
		if (rc < 0)
			return rc;
		pos = stop;
	}
	return 0;
}

int commit_drop(void *arg, const struct pmap_extent *piece)
{
	struct commit_ctx *c = arg;

	if (piece->kind == PMAP_RSV)
		c->delta -= (int64_t)piece->npages; /* charged, but holds no frame */
	if (piece->kind != PMAP_SWAP)
		return 0;
	c->delta -= (int64_t)piece->npages;
	/* Frames left with no reference are freed. */
	return pmap_ref_drop(c->txn, piece->base, piece->npages, cm_note_freed, c);
}

int commit_charge(struct cat_txn *txn, uint64_t memctl, int64_t delta)
{
	struct cat_memctl m;
	int rc = cat_memctl_get(txn, memctl, &m);

	if (rc < 0)
		return rc == -ENOENT ? -EUCLEAN : rc;
	if (delta < 0 && (uint64_t)-delta > m.charged_frames)
		return -EUCLEAN;
	m.charged_frames = (uint64_t)((int64_t)m.charged_frames + delta);
	return cat_memctl_put(txn, &m);
}

static int cm_apply(struct cat_txn *txn, void *arg)
{
	struct commit_ctx *c = arg;
	struct store *s = c->s;
	int rc;

	c->txn = txn;
	c->nfreed = 0;
	for (unsigned i = 0; i < s->nspaces; i++) {
		struct swap_space *sp = &s->spaces[i];
		char key[64];
		if (c->grown[i] <= sp->committed_frames)
			continue;
		if ((rc = cm_free_map_set(txn, sp->desc.first_frame + sp->committed_frames,
					  c->grown[i] - sp->committed_frames, PMAP_FREE)) < 0)
			return rc;
		snprintf(key, sizeof(key), "swapfile.%u.frames", sp->desc.index);
		if ((rc = cat_meta_put(txn, key, c->grown[i])) < 0)
			return rc;
	}
	for (size_t i = 0; i < c->nobjs; i++) {
		struct mobj *m = c->objs[i];
		c->delta = 0;
		for (size_t j = 0; j < m->committing.n; j++) {
			const struct pmap_extent *e = &m->committing.v[j].e;
			if ((rc = pmap_set(txn, m->id, e, commit_drop, c)) < 0)
				return rc;
			if (e->kind == PMAP_RSV)
				c->delta += (int64_t)e->npages;
			if (e->kind == PMAP_SWAP) {
				c->delta += (int64_t)e->npages;
				if ((rc = cm_ref(c, e->base, e->npages)) < 0)
					return rc;
			}
		}
		if (c->delta && (rc = commit_charge(txn, c->memctls[i], c->delta)) < 0)
			return rc;
	}
	return s->commit_hook ? s->commit_hook(txn, s->commit_hook_arg) : 0;
}

/* Fold a failed commit's overlay back under the newer pending one. */
static void cm_restore(struct store *s, struct mobj *m)
{
	struct extent_map comm = extent_mem_map(&m->committing);
	int rc = 0;

	/* Frames of the committing overlay that newer pages replace were never committed. */
	for (size_t j = 0; j < m->pending.n && rc == 0; j++)
		rc = extent_set(&comm, &m->pending.v[j].e, store_drop_uncommitted, s);
	if (rc < 0)
		pfs_err("object %llu: cannot merge pending pages after a failed commit: %s",
			(unsigned long long)m->id, strerror(-rc));
	extent_mem_clear(&m->pending);
	m->pending = m->committing;
	extent_mem_init(&m->committing);
}

static int cm_run(struct store *s)
{
	struct commit_ctx c = { .s = s };
	struct mobj **all;
	size_t nall;
	uint64_t pages = 0;
	int rc;

	if ((rc = atomic_load(&s->sticky_error)))
		return rc;
	if ((rc = store_pending_objects(s, &all, &nall)) < 0)
		return rc;
	c.objs = all;
	if (!(c.memctls = malloc((nall + 1) * sizeof(*c.memctls)))) {
		free(all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nall; i++) {
		struct mobj *m = all[i];
		pthread_rwlock_wrlock(&m->lock);
		assert(m->committing.n == 0); /* one commit at a time, cleared when it ends */
		if (m->pending.n) {
			m->committing = m->pending;
			extent_mem_init(&m->pending);
			c.memctls[c.nobjs] = m->memctl;
			c.objs[c.nobjs++] = m;
		}
		pthread_rwlock_unlock(&m->lock);
	}
	pages = atomic_exchange(&s->pending_pages, 0);
	pthread_mutex_lock(&s->alloc_lock);
	for (unsigned i = 0; i < s->nspaces; i++)
		c.grown[i] = s->spaces[i].grown_frames;
	pthread_mutex_unlock(&s->alloc_lock);

	rc = swap_sync(s->commit_ring);
	if (rc < 0) {
		/*
		 * Linux reports a write-back error to one fsync only, so a retry
		 * could succeed over frames that never reached the disk. Whether
		 * the pending pages are durable is unknown: stop here (SQLite,
		 * PostgreSQL do the same) rather than commit maps to them. A
		 * restart recovers the last commit; nothing acknowledged is lost.
		 */
		atomic_store(&s->sticky_error, -EIO);
		pfs_err("swap sync failed (%s): the store refuses further writes until restarted",
			strerror(-rc));
	}
	if (rc == 0)
		rc = cat_write(s->cat, cm_apply, &c);

	for (size_t i = 0; i < c.nobjs; i++) {
		struct mobj *m = c.objs[i];
		pthread_rwlock_wrlock(&m->lock);
		if (rc == 0)
			extent_mem_clear(&m->committing);
		else
			cm_restore(s, m);
		pthread_rwlock_unlock(&m->lock);
	}
	if (rc == 0) {
		/* Large runs wait for store_discard_freed (store.h, STORE_DISCARD_MIN_FRAMES). */
		pthread_mutex_lock(&s->alloc_lock);
		store_free_runs_locked(s, c.freed, c.nfreed);
		for (unsigned i = 0; i < s->nspaces; i++)
			s->spaces[i].committed_frames = PFS_MAX(s->spaces[i].committed_frames, c.grown[i]);
		pthread_mutex_unlock(&s->alloc_lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		atomic_store(&s->last_commit_ns, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
		atomic_fetch_add(&s->commits, 1);
	} else {
		atomic_fetch_add(&s->pending_pages, pages);
		atomic_fetch_add(&s->commit_failures, 1);
		pfs_err("commit failed: %s (pending pages kept for the next commit)", strerror(-rc));
	}
	if (s->commit_done)
		s->commit_done(s->commit_hook_arg, rc);
	free(c.freed);
	free(c.memctls);
	free(all);
	return rc;
}

int store_commit(struct store *s)
{
	uint64_t mine, upto;
	int rc;

	pthread_mutex_lock(&s->commit_lock);
	mine = ++s->sync_requests;
	while (s->committing)
		pthread_cond_wait(&s->commit_cond, &s->commit_lock);
	if (s->synced_upto >= mine) { /* a commit that started after we asked covered us */
		rc = s->last_commit_rc;
		pthread_mutex_unlock(&s->commit_lock);
		return rc;
	}
	s->committing = true;
	upto = s->sync_requests;
	pthread_mutex_unlock(&s->commit_lock);

	rc = cm_run(s);

	pthread_mutex_lock(&s->commit_lock);
	s->committing = false;
	s->synced_upto = upto;
	s->last_commit_rc = rc;
	pthread_cond_broadcast(&s->commit_cond);
	pthread_mutex_unlock(&s->commit_lock);
	return rc;
}

void store_set_commit_hook(struct store *s, int (*fn)(struct cat_txn *txn, void *arg),
			   void (*done)(void *arg, int rc), void *arg)
{
	s->commit_hook = fn;
	s->commit_done = done;
	s->commit_hook_arg = arg;
}

struct destroy_ctx {
	struct commit_ctx c;
	uint64_t obj, memctl;
	cat_write_fn fn;
	void *arg;
};

static int cm_destroy_txn(struct cat_txn *txn, void *arg)
{
	struct destroy_ctx *d = arg;
	int rc;

	d->c.txn = txn;
	d->c.nfreed = 0;
	d->c.delta = 0;
	if ((rc = pmap_delete_all(txn, d->obj, commit_drop, &d->c)) < 0)
		return rc;
	if (d->c.delta && (rc = commit_charge(txn, d->memctl, d->c.delta)) < 0)
		return rc;
	return d->fn ? d->fn(txn, d->arg) : 0;
}

int store_destroy(struct store *s, uint64_t obj, uint64_t memctl, cat_write_fn fn, void *arg)
{
	struct destroy_ctx d = { .c = { .s = s }, .obj = obj, .memctl = memctl, .fn = fn, .arg = arg };
	struct mobj *m;
	int rc;

	/* Nothing of obj may be half-way through a commit: wait for it to finish. */
	if (!(m = store_mobj_get(s, obj)))
		return -ENOMEM;
	for (;;) {
		pthread_rwlock_wrlock(&m->lock);
		if (m->committing.n == 0)
			break;
		pthread_rwlock_unlock(&m->lock);
		pthread_mutex_lock(&s->commit_lock);
		while (s->committing)
			pthread_cond_wait(&s->commit_cond, &s->commit_lock);
		pthread_mutex_unlock(&s->commit_lock);
	}
	/* What the object holds in every layer is what its control is charged for it. */
	uint64_t layered = 0, counts[PMAP_KIND_MAX + 1] = { 0 };
	rc = store_count_kinds_locked(s, m, 0, PFS_ALL_PAGES, counts);
	layered = counts[PMAP_SWAP] + counts[PMAP_RSV];
	if (rc == 0)
		rc = cat_write(s->cat, cm_destroy_txn, &d);
	if (rc == 0) {
		pthread_mutex_lock(&s->alloc_lock);
		/* Pending frames were never committed: free now, like the committed ones. */
		for (size_t j = 0; j < m->pending.n; j++)
			if (m->pending.v[j].e.kind == PMAP_SWAP)
				store_free_frames(s, m->pending.v[j].e.base, m->pending.v[j].e.npages);
		store_free_runs_locked(s, d.c.freed, d.c.nfreed);
		if (layered)
			memctl_uncharge(s->memctls, memctl, layered);
		pthread_mutex_unlock(&s->alloc_lock);
		atomic_fetch_sub(&s->reserved_pages, (int64_t)counts[PMAP_RSV]);
		extent_mem_clear(&m->pending);
	}
	pthread_rwlock_unlock(&m->lock);
	free(d.c.freed);
	return rc;
}

/* ---- clone: copy-on-write sharing in one transaction ---- */

struct clone_piece {
	struct pmap_extent e; /* shifted to dst; sums owned */
};

struct clone_ctx {
	struct commit_ctx c;
	uint64_t dst, dst_memctl;
	struct clone_piece *v;
	size_t n;
};

static int cm_clone_txn(struct cat_txn *txn, void *arg)
{
	struct clone_ctx *k = arg;
	int rc;

	k->c.txn = txn;
	k->c.nfreed = 0;
	k->c.delta = 0;
	for (size_t i = 0; i < k->n; i++) {
		const struct pmap_extent *e = &k->v[i].e;
		if ((rc = pmap_set(txn, k->dst, e, commit_drop, &k->c)) < 0)
			return rc;
		if (e->kind == PMAP_RSV)
			k->c.delta += (int64_t)e->npages;
		if (e->kind == PMAP_SWAP) {
			k->c.delta += (int64_t)e->npages;
			if ((rc = cm_ref(&k->c, e->base, e->npages)) < 0)
				return rc;
		}
	}
	return k->c.delta ? commit_charge(txn, k->dst_memctl, k->c.delta) : 0;
}

struct clone_collect {
	struct clone_ctx *k;
	uint64_t src_first, dst_first;
	uint64_t swap, reserved; /* charged pages copied, and of them reserved ones */
};

static int cm_clone_collect(const struct pmap_extent *piece, void *arg)
{
	struct clone_collect *cc = arg;
	struct clone_ctx *k = cc->k;
	struct clone_piece *nv = realloc(k->v, (k->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	k->v = nv;
	k->v[k->n].e = *piece;
	/* Unsigned: wraps correctly for ranges 2^63 or more apart. */
	k->v[k->n].e.first = piece->first - cc->src_first + cc->dst_first;
	if (piece->sums) {
		uint8_t *sums = malloc((size_t)piece->npages * 8);
		if (!sums)
			return -ENOMEM;
		memcpy(sums, piece->sums, (size_t)piece->npages * 8);
		k->v[k->n].e.sums = sums;
	}
	if (piece->kind == PMAP_SWAP || piece->kind == PMAP_RSV)
		cc->swap += piece->npages; /* charged to the destination */
	if (piece->kind == PMAP_RSV)
		cc->reserved += piece->npages;
	k->n++;
	return 0;
}

/* Lock both objects with nothing pending or committing (committing first if needed). */
static int cm_lock_quiet(struct store *s, struct mobj *a, struct mobj *b)
{
	for (int tries = 0; tries < 16; tries++) {
		struct mobj *first = a->id < b->id ? a : b, *second = a->id < b->id ? b : a;
		pthread_rwlock_wrlock(&first->lock);
		if (second != first)
			pthread_rwlock_wrlock(&second->lock);
		if (!a->pending.n && !a->committing.n && !b->pending.n && !b->committing.n)
			return 0;
		if (second != first)
			pthread_rwlock_unlock(&second->lock);
		pthread_rwlock_unlock(&first->lock);
		int rc = store_commit(s);
		if (rc < 0)
			return rc;
	}
	return -EAGAIN; /* page-outs keep arriving faster than commits: let the caller retry */
}

int store_clone(struct store *s, uint64_t src, uint64_t dst, uint64_t dst_memctl,
		uint64_t src_first, uint64_t dst_first, uint64_t npages)
{
	struct clone_ctx k = { .c = { .s = s }, .dst = dst, .dst_memctl = dst_memctl };
	struct clone_collect cc = { &k, src_first, dst_first, 0, 0 };
	uint64_t dst_counts[PMAP_KIND_MAX + 1];
	struct mobj *ms, *md;
	uint64_t dst_swap = 0, charged = 0, uncharged = 0;
	struct cat_txn *txn;
	int rc;

	if (npages == 0 || pfs_range_overflows(src_first, npages) ||
	    pfs_range_overflows(dst_first, npages))
		return -EINVAL;
	if (src == dst && src_first < dst_first + npages && dst_first < src_first + npages)
		return -EINVAL;
	if (!(ms = store_mobj_get(s, src)) || !(md = store_mobj_get(s, dst)))
		return -ENOMEM;
	if ((rc = cm_lock_quiet(s, ms, md)) < 0)
		return rc;
	/* Committed state only now: collect the source's runs (holes as zero). */
	if ((rc = cat_read_begin(s->cat, &txn)) == 0) {
		rc = pmap_foreach(txn, src, src_first, npages, false, cm_clone_collect, &cc);
		if (rc == 0)
			rc = store_count_kinds_locked(s, md, dst_first, dst_first + npages, dst_counts);
		dst_swap = rc == 0 ? dst_counts[PMAP_SWAP] + dst_counts[PMAP_RSV] : 0;
		cat_read_end(txn);
	}
	if (rc == 0 && cc.swap > dst_swap) {
		pthread_mutex_lock(&s->alloc_lock);
		rc = memctl_charge(s->memctls, dst_memctl, cc.swap - dst_swap);
		pthread_mutex_unlock(&s->alloc_lock);
		if (rc == 0)
			charged = cc.swap - dst_swap;
	}
	if (rc == 0)
		rc = cat_write(s->cat, cm_clone_txn, &k);
	pthread_mutex_lock(&s->alloc_lock);
	if (rc == 0) {
		for (size_t i = 0; i < k.c.nfreed; i++)
			store_free_frames(s, k.c.freed[i].frame, k.c.freed[i].n);
		if (dst_swap > cc.swap)
			uncharged = dst_swap - cc.swap;
		if (uncharged)
			memctl_uncharge(s->memctls, dst_memctl, uncharged);
		atomic_fetch_add(&s->reserved_pages, (int64_t)cc.reserved - (int64_t)dst_counts[PMAP_RSV]);
	} else if (charged) {
		memctl_uncharge(s->memctls, dst_memctl, charged);
	}
	pthread_mutex_unlock(&s->alloc_lock);
	pthread_rwlock_unlock(&ms->lock);
	if (md != ms)
		pthread_rwlock_unlock(&md->lock);
	for (size_t i = 0; i < k.n; i++)
		free((void *)k.v[i].e.sums);
	free(k.v);
	free(k.c.freed);
	return rc;
}

/* ---- giving freed space back to the file system ---- */

void store_free_runs_locked(struct store *s, const struct frame_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		store_free_frames(s, runs[i].frame, runs[i].n);
		/* Small runs are soon reused; without memory the space stays until reused. */
		if (runs[i].n >= STORE_DISCARD_MIN_FRAMES &&
		    cm_runs_push(&s->discard_q, &s->ndiscard_q, &s->capdiscard_q, runs[i].frame,
				 runs[i].n) == 0)
			s->discard_q_frames += runs[i].n;
	}
}

struct cm_claims {
	struct frame_run *v;
	size_t n, cap;
};

/* buddy_foreach_free_in callback: note a free piece worth punching. */
static int cm_note_claim(uint64_t first, uint64_t n, void *arg)
{
	struct cm_claims *cl = arg;

	return n < STORE_DISCARD_MIN_FRAMES ? 0 : cm_runs_push(&cl->v, &cl->n, &cl->cap, first, n);
}

/*
 * Punch the queued runs where they are still free. Those parts are taken
 * from the allocators first, so no page-out can be handed a frame whose
 * blocks are being punched, and given back afterwards. Any failure only
 * leaves space allocated that the next writes reuse.
 */
void store_discard_freed(struct store *s)
{
	struct cm_claims cl = { 0 };
	struct frame_run *q;
	size_t nq, taken = 0;

	pthread_mutex_lock(&s->alloc_lock);
	q = s->discard_q;
	nq = s->ndiscard_q;
	s->discard_q = NULL;
	s->ndiscard_q = s->capdiscard_q = 0;
	s->discard_q_frames = 0;
	for (size_t i = 0; i < nq; i++) {
		struct swap_space *sp = store_space_of(s, q[i].frame);
		size_t from = cl.n;
		int rc = sp ? buddy_foreach_free_in(sp->buddy, q[i].frame, q[i].n, cm_note_claim, &cl) : 0;
		/* What was noted before a failure is free all the same. */
		for (size_t j = from; j < cl.n; j++)
			if (buddy_take(sp->buddy, cl.v[j].frame, cl.v[j].n) == 0)
				cl.v[taken++] = cl.v[j];
		cl.n = taken;
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&s->alloc_lock);
	free(q);

	for (size_t i = 0; i < cl.n; i++)
		if (swap_discard(s->swap, cl.v[i].frame, cl.v[i].n) == 0)
			atomic_fetch_add(&s->discarded_frames, cl.v[i].n);
	pthread_mutex_lock(&s->alloc_lock);
	for (size_t i = 0; i < cl.n; i++)
		store_free_frames(s, cl.v[i].frame, cl.v[i].n);
	pthread_mutex_unlock(&s->alloc_lock);
	free(cl.v);
}
