/*
 * store.c: opening a store, and the page path: page-out to fresh frames,
 * page-in through the overlays to the catalogue.
 *
 * A page-in resolves each page through three layers, newest first: the
 * object's pending overlay, its committing overlay, then the committed map
 * in the catalogue; a hole in one layer means "ask the next". It holds the
 * object's lock shared for the whole read, so a commit cannot free a frame
 * under it. A page-out allocates fresh frames (growing a swap file when none
 * is free) and writes them without the lock, since nothing maps them yet;
 * then it holds the lock exclusively to charge the memory control for pages
 * that gain swap contents and record the new extents as pending. Pending
 * frames it replaces were never committed and go straight back to the
 * allocator. This file must never write a frame that any map points to, nor
 * map a frame before its write has completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include "log.h"
#include "pagemap.h"
#include "store_internal.h"


/* ---- the object table ---- */

static struct mobj *st_mobj(struct store *s, uint64_t id, uint64_t memctl)
{
	struct mobj *m;
	size_t b;

	pthread_mutex_lock(&s->table_lock);
	if (s->nobjs >= s->nbuckets) { /* keep the load factor under one */
		size_t nb = s->nbuckets ? s->nbuckets * 2 : 64;
		struct mobj **nv = calloc(nb, sizeof(*nv));
		if (nv) {
			for (size_t i = 0; i < s->nbuckets; i++) {
				while ((m = s->buckets[i])) {
					s->buckets[i] = m->hnext;
					m->hnext = nv[m->id % nb];
					nv[m->id % nb] = m;
				}
			}
			free(s->buckets);
			s->buckets = nv;
			s->nbuckets = nb;
		}
	}
	if (!s->nbuckets) {
		pthread_mutex_unlock(&s->table_lock);
		return NULL;
	}
	b = id % s->nbuckets;
	for (m = s->buckets[b]; m; m = m->hnext)
		if (m->id == id)
			break;
	if (!m && (m = calloc(1, sizeof(*m)))) {
		m->id = id;
		m->memctl = memctl ? memctl : CAT_ROOT_ID;
		pthread_rwlock_init(&m->lock, NULL);
		extent_mem_init(&m->pending);
		extent_mem_init(&m->committing);
		m->hnext = s->buckets[b];
		s->buckets[b] = m;
		s->nobjs++;
	}
	pthread_mutex_unlock(&s->table_lock);
	return m;
}

struct mobj *store_mobj_get(struct store *s, uint64_t id)
{
	return st_mobj(s, id, 0);
}

int store_pending_objects(struct store *s, struct mobj ***out, size_t *n)
{
	struct mobj **v;
	size_t k = 0;

	pthread_mutex_lock(&s->table_lock);
	v = malloc((s->nobjs + 1) * sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&s->table_lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct mobj *m = s->buckets[i]; m; m = m->hnext)
			v[k++] = m;
	pthread_mutex_unlock(&s->table_lock);
	*out = v;
	*n = k;
	return 0;
}

/* ---- frames ---- */

struct swap_space *store_space_of(struct store *s, uint64_t frame)
{
	for (unsigned i = 0; i < s->nspaces; i++) {
		struct cat_swapfile *d = &s->spaces[i].desc;
		if (frame >= d->first_frame && frame - d->first_frame < d->max_frames)
			return &s->spaces[i];
	}
	return NULL;
}

void store_free_frames(struct store *s, uint64_t frame, uint64_t n)
{
	struct swap_space *sp = store_space_of(s, frame);
	int rc = sp ? buddy_free(sp->buddy, frame, n) : -EINVAL;

	if (rc < 0)
		pfs_err("freeing frames %llu+%llu: %s (physmem state damaged)",
			(unsigned long long)frame, (unsigned long long)n, strerror(-rc));
}

static uint64_t st_grown_total(const struct store *s)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < s->nspaces; i++)
		t += s->spaces[i].grown_frames;
	return t;
}

/* Grow space sp by a chunk within the capacity; 0 if it gained frames. Under alloc_lock. */
static int st_grow(struct store *s, struct swap_space *sp)
{
	uint64_t total = st_grown_total(s);
	uint64_t room = s->capacity_frames > total ? s->capacity_frames - total : 0;
	uint64_t add = PFS_MIN(PFS_MIN(s->chunk_frames, room), sp->desc.max_frames - sp->grown_frames);
	int rc;

	if (add == 0)
		return -ENOSPC;
	if ((rc = swap_grow(s->swap, sp->desc.index, sp->grown_frames + add)) < 0)
		return rc;
	/* The file grows in whole chunks; the allocator never past the capacity. */
	uint64_t now = PFS_MIN(swap_file_frames(s->swap, sp->desc.index), sp->grown_frames + add);
	if (now <= sp->grown_frames)
		return -ENOSPC;
	if ((rc = buddy_free(sp->buddy, sp->desc.first_frame + sp->grown_frames,
			     now - sp->grown_frames)) < 0)
		return rc;
	sp->grown_frames = now;
	return 0;
}

/*
 * One run of up to want frames. Like swapon -p, a file of higher priority is
 * used (and grown) until it is full before a lower one is touched. Under
 * alloc_lock.
 */
static int st_alloc_run(struct store *s, uint64_t want, uint64_t *frame, uint64_t *got)
{
	for (unsigned i = 0; i < s->nspaces; i++) { /* spaces are kept in priority order */
		struct swap_space *sp = &s->spaces[i];
		int rc = buddy_alloc(sp->buddy, want, frame, got);

		if (rc == -ENOSPC && (rc = st_grow(s, sp)) == 0)
			rc = buddy_alloc(sp->buddy, want, frame, got);
		if (rc != -ENOSPC)
			return rc;
	}
	return -ENOSPC;
}

/* ---- layered lookup ---- */

int store_resolve_locked(struct mobj *m, struct cat_txn *txn, uint64_t page, uint64_t end,
			 struct pmap_extent *out)
{
	struct extent_map pend = extent_mem_map(&m->pending);
	struct extent_map comm = extent_mem_map(&m->committing);
	struct pmap_extent x;
	uint64_t lo = page, hi = end;
	int rc;

	if ((rc = extent_lookup(&pend, page, &x)) < 0)
		return rc;
	if (rc == 0) {
		*out = extent_clip(&x, lo, hi);
		return 0;
	}
	hi = PFS_MIN(hi, pmap_extent_end(&x));
	if ((rc = extent_lookup(&comm, page, &x)) < 0)
		return rc;
	if (rc == 0) {
		*out = extent_clip(&x, lo, hi);
		return 0;
	}
	hi = PFS_MIN(hi, pmap_extent_end(&x));
	if ((rc = pmap_lookup(txn, m->id, page, &x)) < 0)
		return rc;
	*out = extent_clip(&x, lo, hi);
	return 0;
}

/* ---- page-in ---- */

int store_page_in(struct store_io *io, uint64_t obj, uint64_t first, uint32_t npages, void *buf,
		  const struct pager *file)
{
	struct store *s = io->s;
	struct store_swapin in; /* 16 KiB of run slots: only the header is set, not all zeroed */
	struct swap_pager sp = { .io = io, .obj = obj, .in = &in };
	const struct pager swap = { &store_swap_pager_ops, &sp };
	/* The pager of each kind of run; FILE is the object's own (NULL: none). */
	const struct pager *by_kind[] = {
		[PMAP_ZERO] = &pager_zero, [PMAP_RSV] = &pager_zero,
		[PMAP_FILE] = file, [PMAP_SWAP] = &swap,
	};
	const struct pager *to_finish[] = { &swap, file }; /* those whose page-ins may queue */
	struct cat_txn *txn;
	struct mobj *m;
	uint64_t end = first + npages;
	int rc;

	if (npages == 0 || npages > STORE_IO_MAX_PAGES || pfs_range_overflows(first, npages))
		return -EINVAL;
	in.first = first;
	in.buf = buf;
	in.nios = 0;
	in.swapped = false;
	if (!(m = st_mobj(s, obj, 0)))
		return -ENOMEM;
	pthread_rwlock_rdlock(&m->lock);
	if ((rc = cat_read_begin(s->cat, &txn)) < 0)
		goto out_unlock;
	for (uint64_t pos = first; pos < end;) {
		struct pmap_extent x;
		const struct pager *pg;
		uint8_t *dst = (uint8_t *)buf + (pos - first) * PFS_PAGE_SIZE;

		if ((rc = store_resolve_locked(m, txn, pos, end, &x)) < 0)
			goto out_txn;
		if (x.kind >= PFS_ARRAY_SIZE(by_kind) || !(pg = by_kind[x.kind])) {
			rc = x.kind == PMAP_FILE ? -EIO : -EUCLEAN;
			goto out_txn;
		}
		/* The pager may back less of the run than the map says: the rest is zero fill. */
		struct pager_run run = { pos, x.base, (uint32_t)x.npages, x.sums, dst };
		run.npages = pager_run_length(pg, x.base, (uint32_t)x.npages);
		if (run.npages && (rc = pager_page_in(pg, &run)) < 0)
			goto out_txn;
		if (run.npages < x.npages) {
			struct pager_run rest = { pos + run.npages, 0, (uint32_t)x.npages - run.npages,
						  NULL, dst + (size_t)run.npages * PFS_PAGE_SIZE };
			pager_page_in(&pager_zero, &rest);
		}
		pos = pmap_extent_end(&x);
	}
	for (size_t i = 0; i < PFS_ARRAY_SIZE(to_finish); i++)
		if (to_finish[i] && (rc = pager_finish(to_finish[i])) < 0)
			goto out_txn;
	atomic_fetch_add(&s->page_ins, 1);
	atomic_fetch_add(&s->pages_in, npages);
out_txn:
	cat_read_end(txn);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	if (rc == 0 && in.swapped && s->pf)
		store_prefetch_note(s->pf, m, first, npages);
	return rc;
}

/* ---- page-out ---- */

int store_count_kinds_locked(struct store *s, struct mobj *m, uint64_t first, uint64_t end,
			     uint64_t counts[PMAP_KIND_MAX + 1])
{
	struct cat_txn *txn;
	int rc = cat_read_begin(s->cat, &txn);

	memset(counts, 0, sizeof(uint64_t) * (PMAP_KIND_MAX + 1));
	if (rc < 0)
		return rc;
	for (uint64_t pos = first; pos < end;) {
		struct pmap_extent x;
		if ((rc = store_resolve_locked(m, txn, pos, end, &x)) < 0)
			break;
		counts[x.kind] += x.npages;
		pos = pmap_extent_end(&x);
	}
	cat_read_end(txn);
	return rc;
}

int store_count_charged_locked(struct store *s, struct mobj *m, uint64_t first, uint64_t end,
			       uint64_t *ncharged)
{
	uint64_t counts[PMAP_KIND_MAX + 1];
	int rc = store_count_kinds_locked(s, m, first, end, counts);

	*ncharged = counts[PMAP_SWAP] + counts[PMAP_RSV];
	return rc;
}

int store_page_kind(struct store *s, uint64_t obj, uint64_t page, int *kind)
{
	uint64_t counts[PMAP_KIND_MAX + 1];
	struct mobj *m = st_mobj(s, obj, 0);
	int rc;

	if (!m)
		return -ENOMEM;
	if (page == UINT64_MAX)
		return -EINVAL;
	pthread_rwlock_rdlock(&m->lock);
	rc = store_count_kinds_locked(s, m, page, page + 1, counts);
	pthread_rwlock_unlock(&m->lock);
	/* A reserved page reads as zeros. */
	*kind = counts[PMAP_SWAP] ? PMAP_SWAP : counts[PMAP_FILE] ? PMAP_FILE : PMAP_ZERO;
	return rc;
}

int store_count_pages(struct store *s, uint64_t obj, uint64_t npages, uint64_t *zero,
		      uint64_t *file, uint64_t *swap)
{
	uint64_t counts[PMAP_KIND_MAX + 1];
	struct mobj *m = st_mobj(s, obj, 0);
	int rc;

	if (!m)
		return -ENOMEM;
	pthread_rwlock_rdlock(&m->lock);
	rc = store_count_kinds_locked(s, m, 0, npages, counts);
	pthread_rwlock_unlock(&m->lock);
	if (zero)
		*zero = counts[PMAP_ZERO];
	if (file)
		*file = counts[PMAP_FILE];
	if (swap)
		*swap = counts[PMAP_SWAP] + counts[PMAP_RSV];
	return rc;
}

/* Frames dropped from a pending overlay were never committed: free them now. */
int store_drop_uncommitted(void *arg, const struct pmap_extent *piece)
{
	struct store *s = arg;

	if (piece->kind == PMAP_SWAP) {
		pthread_mutex_lock(&s->alloc_lock);
		store_free_frames(s, piece->base, piece->npages);
		pthread_mutex_unlock(&s->alloc_lock);
	}
	return 0;
}

struct st_runs {
	uint64_t frame[STORE_IO_MAX_PAGES], n[STORE_IO_MAX_PAGES];
	unsigned count;
};

/* Frees frames that nothing maps. */
static void st_undo(struct store *s, const struct st_runs *r)
{
	pthread_mutex_lock(&s->alloc_lock);
	for (unsigned i = 0; i < r->count; i++)
		store_free_frames(s, r->frame[i], r->n[i]);
	pthread_mutex_unlock(&s->alloc_lock);
}

/*
 * Fresh frames for npages, written with data: nothing maps them yet, so no
 * object lock is held while they are written, and page-outs to one object
 * (the kernel's write-back of a big msync sends several at once) reach the
 * disk together instead of one after another.
 */
static int st_write_fresh(struct store_io *io, uint32_t npages, const void *data,
			  struct st_runs *runs, uint8_t *sums)
{
	struct store *s = io->s;
	struct swap_io ios[STORE_IO_MAX_PAGES];
	uint64_t done = 0;
	int rc = 0;

	runs->count = 0;
	pthread_mutex_lock(&s->alloc_lock);
	while (rc == 0 && done < npages) {
		uint64_t f, got;
		if ((rc = st_alloc_run(s, npages - done, &f, &got)) < 0)
			break;
		runs->frame[runs->count] = f;
		runs->n[runs->count++] = got;
		done += got;
	}
	pthread_mutex_unlock(&s->alloc_lock);
	if (rc < 0) {
		st_undo(s, runs);
		return rc;
	}

	/*
	 * O_DIRECT writes straight from page-aligned data (the FUSE face
	 * receives page-outs so that they are); anything else goes through
	 * the arena. The ring only reads the buffer of a write.
	 */
	uint8_t *src = io->buf;
	if ((uintptr_t)data % PFS_PAGE_SIZE == 0)
		src = (uint8_t *)(uintptr_t)data;
	else
		memcpy(io->buf, data, (size_t)npages * PFS_PAGE_SIZE);
	done = 0;
	for (unsigned i = 0; i < runs->count; i++) {
		ios[i] = (struct swap_io){ .frame = runs->frame[i], .nframes = (uint32_t)runs->n[i],
					   .buf = src + done * PFS_PAGE_SIZE,
					   .sums_out = sums + done * 8 };
		done += runs->n[i];
	}
	if ((rc = swap_write(io->ring, ios, runs->count)) < 0) {
		atomic_fetch_add(&s->io_errors, 1);
		st_undo(s, runs);
	}
	return rc;
}

/*
 * Bring the charge for a page-out of [first, first + npages) to what it is
 * as the map is now: the pages that gain swap contents, less those already
 * holding swap or reserved. *charged is what the caller holds, in and out.
 * Under m's lock (shared is enough). -EDQUOT when the control is full.
 */
static int st_charge_to(struct store *s, struct mobj *m, uint64_t memctl, uint64_t first,
			uint32_t npages, uint64_t *charged, uint64_t counts[PMAP_KIND_MAX + 1])
{
	uint64_t need;
	int rc;

	if ((rc = store_count_kinds_locked(s, m, first, first + npages, counts)) < 0)
		return rc;
	need = npages - counts[PMAP_SWAP] - counts[PMAP_RSV];
	if (need == *charged)
		return 0;
	pthread_mutex_lock(&s->alloc_lock);
	if (need > *charged) {
		rc = memctl_charge(s->memctls, memctl, need - *charged);
		if (rc == -ENOSPC)
			rc = -EDQUOT; /* the control is full: a commit would not help */
	} else {
		memctl_uncharge(s->memctls, memctl, *charged - need);
	}
	if (rc == 0)
		*charged = need;
	pthread_mutex_unlock(&s->alloc_lock);
	return rc;
}

/*
 * Map [first, first + npages) to frames written by st_write_fresh, under
 * m's lock held exclusively: settle the charge (a page-out to the same
 * pages may have landed since it was taken), then record the runs as
 * pending. On failure the frames are freed and *charged is still held.
 */
static int st_map_fresh(struct store *s, struct mobj *m, uint64_t memctl, uint64_t first,
			uint32_t npages, const struct st_runs *runs, uint8_t *sums,
			uint64_t *charged)
{
	uint64_t counts[PMAP_KIND_MAX + 1], done = 0;
	int rc;

	if ((rc = st_charge_to(s, m, memctl, first, npages, charged, counts)) < 0) {
		st_undo(s, runs);
		return rc;
	}
	struct extent_map pend = extent_mem_map(&m->pending);
	for (unsigned i = 0; i < runs->count && rc == 0; i++) {
		struct pmap_extent e = { first + done, runs->n[i], PMAP_SWAP, runs->frame[i],
					 sums + done * 8 };
		rc = extent_set(&pend, &e, store_drop_uncommitted, s);
		done += runs->n[i];
	}
	*charged = 0; /* the map holds it now, even what a failure left mapped */
	if (rc < 0) /* out of memory half-way: the overlay still maps what it says */
		return rc;
	m->memctl = memctl;
	atomic_fetch_sub(&s->reserved_pages, (int64_t)counts[PMAP_RSV]);
	atomic_fetch_add(&s->pending_pages, npages);
	atomic_fetch_add(&s->page_outs, 1);
	atomic_fetch_add(&s->pages_out, npages);
	return 0;
}

int store_page_out(struct store_io *io, uint64_t obj, uint64_t memctl, uint64_t first,
		   uint32_t npages, const void *data)
{
	struct store *s = io->s;
	uint64_t counts[PMAP_KIND_MAX + 1], charged = 0;
	struct st_runs runs;
	uint8_t sums[STORE_IO_MAX_PAGES * 8];
	struct mobj *m;
	int rc;

	if (npages == 0 || npages > STORE_IO_MAX_PAGES || pfs_range_overflows(first, npages))
		return -EINVAL;
	if ((rc = atomic_load(&s->sticky_error)))
		return rc;
	if (!(m = st_mobj(s, obj, memctl)))
		return -ENOMEM;
	/* Charge first, so that a full control costs neither I/O nor a commit. */
	pthread_rwlock_rdlock(&m->lock);
	rc = st_charge_to(s, m, memctl, first, npages, &charged, counts);
	pthread_rwlock_unlock(&m->lock);
	/*
	 * Redirect-on-write needs a free frame even to overwrite a page; when
	 * none is left, a commit frees the frames the pending pages replace.
	 */
	if (rc == 0)
		rc = st_write_fresh(io, npages, data, &runs, sums);
	if (rc == -ENOSPC && (rc = store_commit(s)) == 0)
		rc = st_write_fresh(io, npages, data, &runs, sums);
	if (rc == 0) {
		pthread_rwlock_wrlock(&m->lock);
		rc = st_map_fresh(s, m, memctl, first, npages, &runs, sums, &charged);
		pthread_rwlock_unlock(&m->lock);
	}
	if (charged) {
		pthread_mutex_lock(&s->alloc_lock);
		memctl_uncharge(s->memctls, memctl, charged);
		pthread_mutex_unlock(&s->alloc_lock);
	}
	if (rc == -EDQUOT)
		rc = -ENOSPC;
	if (rc == 0 && atomic_load(&s->pending_pages) >= s->pending_max_pages)
		rc = store_commit(s);
	return rc;
}

int store_set_range(struct store *s, uint64_t obj, uint64_t memctl, uint64_t first,
		    uint64_t npages, int kind, uint64_t base)
{
	struct pmap_extent e = { first, npages, (uint8_t)kind, base, NULL };
	uint64_t counts[PMAP_KIND_MAX + 1];
	struct mobj *m;
	int rc;

	if ((kind != PMAP_ZERO && kind != PMAP_FILE) || !extent_valid(&e))
		return -EINVAL;
	if (!(m = st_mobj(s, obj, memctl)))
		return -ENOMEM;
	pthread_rwlock_wrlock(&m->lock);
	if ((rc = store_count_kinds_locked(s, m, first, first + npages, counts)) == 0) {
		struct extent_map pend = extent_mem_map(&m->pending);
		rc = extent_set(&pend, &e, store_drop_uncommitted, s);
	}
	uint64_t uncharge = counts[PMAP_SWAP] + counts[PMAP_RSV];
	if (rc == 0 && uncharge) {
		pthread_mutex_lock(&s->alloc_lock);
		memctl_uncharge(s->memctls, memctl, uncharge);
		pthread_mutex_unlock(&s->alloc_lock);
	}
	if (rc == 0) {
		m->memctl = memctl;
		atomic_fetch_sub(&s->reserved_pages, (int64_t)counts[PMAP_RSV]);
		atomic_fetch_add(&s->pending_pages, 1);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* The zero runs of [first, end), to reserve: at most a bounded number per call. */
struct st_zero_runs {
	uint64_t first[64], n[64];
	unsigned count;
	uint64_t pages;
};

int store_reserve(struct store *s, uint64_t obj, uint64_t memctl, uint64_t first, uint64_t npages)
{
	uint64_t end = first + npages;
	struct mobj *m;
	int rc = 0;

	if (npages == 0 || pfs_range_overflows(first, npages))
		return -EINVAL;
	if ((rc = atomic_load(&s->sticky_error)))
		return rc;
	if (!(m = st_mobj(s, obj, memctl)))
		return -ENOMEM;
	pthread_rwlock_wrlock(&m->lock);
	for (uint64_t pos = first; pos < end && rc == 0;) {
		struct st_zero_runs z = { .count = 0 };
		struct cat_txn *txn;

		/* Collect (a bounded number of) zero runs, charge them all, then mark them. */
		if ((rc = cat_read_begin(s->cat, &txn)) < 0)
			break;
		while (pos < end && z.count < PFS_ARRAY_SIZE(z.first)) {
			struct pmap_extent x;
			if ((rc = store_resolve_locked(m, txn, pos, end, &x)) < 0)
				break;
			if (x.kind == PMAP_ZERO) {
				z.first[z.count] = x.first;
				z.n[z.count++] = x.npages;
				z.pages += x.npages;
			}
			pos = pmap_extent_end(&x);
		}
		cat_read_end(txn);
		if (rc < 0 || z.count == 0)
			continue;
		pthread_mutex_lock(&s->alloc_lock);
		rc = memctl_charge(s->memctls, memctl, z.pages);
		pthread_mutex_unlock(&s->alloc_lock);
		if (rc < 0)
			break;
		struct extent_map pend = extent_mem_map(&m->pending);
		unsigned done;
		for (done = 0; done < z.count && rc == 0; done++) {
			struct pmap_extent e = { z.first[done], z.n[done], PMAP_RSV, 0, NULL };
			rc = extent_set(&pend, &e, NULL, NULL);
		}
		if (rc < 0) { /* out of memory: give back what was not marked */
			uint64_t unmarked = 0;
			for (unsigned i = done - 1; i < z.count; i++)
				unmarked += z.n[i];
			pthread_mutex_lock(&s->alloc_lock);
			memctl_uncharge(s->memctls, memctl, unmarked);
			pthread_mutex_unlock(&s->alloc_lock);
			z.pages -= unmarked;
		}
		m->memctl = memctl;
		atomic_fetch_add(&s->reserved_pages, (int64_t)z.pages);
		atomic_fetch_add(&s->pending_pages, 1);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- gather and scatter: page lists as runs ---- */

/* How many entries from i on are consecutive pages (at most STORE_IO_MAX_PAGES). */
static size_t st_run_len(const uint64_t *pages, size_t i, size_t n)
{
	size_t k = 1;

	while (i + k < n && k < STORE_IO_MAX_PAGES && pages[i + k] == pages[i] + k)
		k++;
	return k;
}

int store_gather(struct store_io *io, uint64_t obj, const uint64_t *pages, size_t n, void *buf,
		 const struct pager *file)
{
	for (size_t i = 0; i < n;) {
		size_t k = st_run_len(pages, i, n);
		int rc = store_page_in(io, obj, pages[i], (uint32_t)k,
				       (uint8_t *)buf + i * PFS_PAGE_SIZE, file);
		if (rc < 0)
			return rc;
		i += k;
	}
	return 0;
}

int store_scatter(struct store_io *io, uint64_t obj, uint64_t memctl, const uint64_t *pages,
		  size_t n, const void *data)
{
	for (size_t i = 0; i < n;) {
		size_t k = st_run_len(pages, i, n);
		int rc = store_page_out(io, obj, memctl, pages[i], (uint32_t)k,
					(const uint8_t *)data + i * PFS_PAGE_SIZE);
		if (rc < 0)
			return rc;
		i += k;
	}
	return 0;
}
