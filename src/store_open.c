/*
 * store_open.c: bringing a store up and down: the catalogue, the swap file
 * table, physmem's allocators rebuilt from the persisted free-frame map, and
 * the memory-control tree rebuilt from its records.
 *
 * A frame is free at open if the catalogue's free map says so, or if it lies
 * in swap-file space grown after the last commit (such frames cannot be in
 * any committed map: a commit records growth before it records extents that
 * use it). A swap file shorter than the catalogue records is damage, refused
 * with -EUCLEAN rather than served as zeros.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include "codec.h"
#include "log.h"
#include "pagemap.h"
#include "store_internal.h"

#define STORE_DEFAULT_PENDING_BYTES ((uint64_t)64 << 20)
#define STORE_SWAPFILE_SPAN ((uint64_t)1 << 36) /* frames reserved per swap file: 256 TiB */

static void swapfile_key(char *key, size_t cap, uint32_t index)
{
	snprintf(key, cap, "swapfile.%u.frames", index);
}

struct so_load {
	struct store *s;
	int rc;
};

static int so_collect_swapfile(const struct cat_swapfile *d, void *arg)
{
	struct store *s = arg;

	if (s->nspaces == SWAP_MAX_FILES)
		return -EUCLEAN;
	s->spaces[s->nspaces++].desc = *d;
	return 0;
}

static int so_create_swapfile(struct cat_txn *txn, void *arg)
{
	const struct cat_swapfile *d = arg;
	return cat_swapfile_put(txn, d);
}

static int so_cmp_priority(const void *a, const void *b)
{
	const struct swap_space *x = a, *y = b;
	if (x->desc.priority != y->desc.priority)
		return x->desc.priority > y->desc.priority ? -1 : 1;
	return x->desc.index < y->desc.index ? -1 : x->desc.index > y->desc.index;
}

/* Free runs from the catalogue's free map into the owning allocators. */
static int so_load_free(const struct pmap_extent *piece, void *arg)
{
	struct store *s = arg;
	uint64_t pos = piece->first, end = pmap_extent_end(piece);

	if (piece->kind != PMAP_FREE)
		return -EUCLEAN;
	while (pos < end) {
		struct swap_space *sp = NULL;
		for (unsigned i = 0; i < s->nspaces; i++) {
			struct cat_swapfile *d = &s->spaces[i].desc;
			if (pos >= d->first_frame && pos - d->first_frame < s->spaces[i].committed_frames)
				sp = &s->spaces[i];
		}
		if (!sp)
			return -EUCLEAN; /* a free frame outside every swap file */
		uint64_t stop = PFS_MIN(end, sp->desc.first_frame + sp->committed_frames);
		int rc = buddy_free(sp->buddy, pos, stop - pos);
		if (rc < 0)
			return rc == -EINVAL ? -EUCLEAN : rc;
		pos = stop;
	}
	return 0;
}

static int so_load_spaces(struct store *s)
{
	struct cat_txn *txn;
	int rc;

	if ((rc = cat_read_begin(s->cat, &txn)) < 0)
		return rc;
	rc = cat_swapfile_foreach(txn, so_collect_swapfile, s);
	cat_read_end(txn);
	if (rc < 0)
		return rc;
	if (s->nspaces == 0) {
		struct cat_swapfile d = { 0, 0, 0, STORE_SWAPFILE_SPAN, "swap.0" };
		if ((rc = cat_write(s->cat, so_create_swapfile, &d)) < 0)
			return rc;
		s->spaces[s->nspaces++].desc = d;
	}
	qsort(s->spaces, s->nspaces, sizeof(s->spaces[0]), so_cmp_priority);

	struct swap_file_desc descs[SWAP_MAX_FILES];
	struct swap_options so = { .chunk_bytes = s->chunk_frames * PFS_PAGE_SIZE,
				   .faults = s->opt.faults };
	for (unsigned i = 0; i < s->nspaces; i++) {
		struct cat_swapfile *d = &s->spaces[i].desc;
		descs[i] = (struct swap_file_desc){ d->index, d->priority, d->first_frame,
						    d->max_frames, "" };
		snprintf(descs[i].name, sizeof(descs[i].name), "%s", d->name);
	}
	if ((rc = swap_open(s->dir, descs, s->nspaces, &so, &s->swap)) < 0)
		return rc;

	if ((rc = cat_read_begin(s->cat, &txn)) < 0)
		return rc;
	for (unsigned i = 0; i < s->nspaces && rc == 0; i++) {
		struct swap_space *sp = &s->spaces[i];
		char key[64];
		uint64_t recorded = 0;

		swapfile_key(key, sizeof(key), sp->desc.index);
		rc = cat_meta_get(txn, key, &recorded);
		if (rc == -ENOENT)
			rc = 0;
		sp->committed_frames = recorded;
		sp->grown_frames = swap_file_frames(s->swap, sp->desc.index);
		if (rc == 0 && sp->grown_frames < recorded) {
			pfs_err("swap file %s/%s holds %llu frames, the catalogue records %llu",
				s->dir, sp->desc.name, (unsigned long long)sp->grown_frames,
				(unsigned long long)recorded);
			rc = -EUCLEAN;
		}
		if (rc == 0)
			rc = buddy_create(sp->desc.first_frame, sp->desc.max_frames, &sp->buddy);
	}
	if (rc == 0) {
		struct pmap_cat pc;
		struct extent_map fm = pmap_cat_map(&pc, txn, CAT_T_FREE, 0);
		rc = extent_foreach(&fm, 0, UINT64_MAX, true, so_load_free, s);
	}
	cat_read_end(txn);
	return rc;
}

/*
 * Swap grown after the last commit is free (no committed map can use it), up
 * to the capacity: a file grows in whole chunks, so it may hold more frames
 * than swap_max allows, and those stay unused.
 */
static int so_free_growth(struct store *s)
{
	uint64_t committed = 0, room;

	for (unsigned i = 0; i < s->nspaces; i++)
		committed += s->spaces[i].committed_frames;
	room = s->capacity_frames > committed ? s->capacity_frames - committed : 0;
	for (unsigned i = 0; i < s->nspaces; i++) {
		struct swap_space *sp = &s->spaces[i];
		uint64_t extra = PFS_MIN(sp->grown_frames - sp->committed_frames, room);
		int rc;

		sp->grown_frames = sp->committed_frames + extra;
		if (extra && (rc = buddy_free(sp->buddy, sp->desc.first_frame + sp->committed_frames,
					      extra)) < 0)
			return rc;
		room -= extra;
	}
	return 0;
}

/* Capacity: swap_max, or what the store's file system could still hold. */
static uint64_t so_capacity(struct store *s)
{
	struct statvfs vfs;

	if (s->opt.swap_max_bytes)
		return s->opt.swap_max_bytes / PFS_PAGE_SIZE;
	if (statvfs(s->dir, &vfs) < 0)
		return 0;
	uint64_t free_frames = (uint64_t)vfs.f_bavail * vfs.f_frsize / PFS_PAGE_SIZE;
	uint64_t have = 0;
	for (unsigned i = 0; i < s->nspaces; i++)
		have += s->spaces[i].grown_frames;
	return free_frames + have;
}

#define SO_MAX_MEMCTLS 65536

struct so_memctls {
	struct cat_memctl *v;
	size_t n, cap;
};

static int so_collect_memctl(const struct cat_memctl *m, void *arg)
{
	struct so_memctls *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cat_memctl *nv = cap > SO_MAX_MEMCTLS ? NULL : realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = *m;
	return 0;
}

static int so_put_root(struct cat_txn *txn, void *arg)
{
	return cat_memctl_put(txn, arg);
}

/* Rebuild the control tree; parents may have larger ids than children (renames). */
static int so_load_memctls(struct store *s)
{
	struct so_memctls c = { 0 };
	struct cat_txn *txn;
	int rc;

	if ((rc = cat_read_begin(s->cat, &txn)) < 0)
		return rc;
	rc = cat_memctl_foreach(txn, so_collect_memctl, &c);
	cat_read_end(txn);
	if (rc < 0)
		goto out;
	uint64_t root_charged = 0;
	bool have_root = false;
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].id == CAT_ROOT_ID) {
			have_root = true;
			root_charged = c.v[i].charged_frames;
		}
	if (!have_root) {
		struct cat_memctl root = { CAT_ROOT_ID, 0, CAT_MC_QUOTA,
					   store_chargeable_frames(s->capacity_frames), 0 };
		if ((rc = cat_write(s->cat, so_put_root, &root)) < 0)
			goto out;
	}
	/* Restore without limits, then set the capacity and check. */
	if ((rc = memctl_tree_create(CAT_ROOT_ID, UINT64_MAX / 4, &s->memctls)) < 0)
		goto out;
	if (root_charged && (rc = memctl_charge(s->memctls, CAT_ROOT_ID, root_charged)) < 0)
		goto out;
	for (size_t done = 1, placed = 0; done && placed < c.n;) {
		done = 0;
		for (size_t i = 0; i < c.n; i++) {
			struct memctl_info info;
			if (c.v[i].id == CAT_ROOT_ID || memctl_get(s->memctls, c.v[i].id, &info) == 0)
				continue;
			if (memctl_get(s->memctls, c.v[i].parent, &info) < 0)
				continue;
			rc = memctl_restore(s->memctls, c.v[i].parent, c.v[i].id,
					    c.v[i].flags & CAT_MC_QUOTA, c.v[i].guarantee_frames,
					    c.v[i].charged_frames);
			if (rc < 0)
				goto out;
			done++;
			placed++;
		}
	}
	rc = memctl_set_capacity(s->memctls, store_chargeable_frames(s->capacity_frames));
	if (rc == 0)
		rc = memctl_check(s->memctls);
	if (rc < 0)
		pfs_err("memory controls in %s do not fit the store's capacity: %s", s->dir,
			strerror(-rc));
out:
	free(c.v);
	return rc;
}

static int so_reserved_one(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct pmap_extent e;

	if (klen != 16 || pmap_extent_decode(codec_get_be64((const uint8_t *)k + 8), v, vlen, &e) < 0)
		return -EUCLEAN;
	if (e.kind == PMAP_RSV)
		*(uint64_t *)arg += e.npages;
	return 0;
}

/* How many reserved pages the committed maps hold (the stats count them). */
static int so_count_reserved(struct store *s)
{
	struct cat_txn *txn;
	uint64_t n = 0;
	int rc = cat_read_begin(s->cat, &txn);

	if (rc < 0)
		return rc;
	rc = cat_walk(txn, CAT_T_EXTENTS, NULL, 0, so_reserved_one, &n);
	cat_read_end(txn);
	atomic_store(&s->reserved_pages, (int64_t)n);
	return rc;
}

int store_open(const char *dir, const struct store_options *opt, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));
	char catdir[CAT_PATH_MAX];
	struct cat_options co = { 0 };
	int rc;

	if (!s)
		return -ENOMEM;
	if (opt)
		s->opt = *opt;
	s->dir = strdup(dir);
	s->chunk_frames = (s->opt.swap_chunk_bytes ? s->opt.swap_chunk_bytes
						   : SWAP_DEFAULT_CHUNK_BYTES) / PFS_PAGE_SIZE;
	s->pending_max_pages = (s->opt.pending_max_bytes ? s->opt.pending_max_bytes
							 : STORE_DEFAULT_PENDING_BYTES) / PFS_PAGE_SIZE;
	if (!s->chunk_frames)
		s->chunk_frames = 1;
	if (!s->pending_max_pages)
		s->pending_max_pages = 1;
	pthread_mutex_init(&s->alloc_lock, NULL);
	pthread_mutex_init(&s->table_lock, NULL);
	pthread_mutex_init(&s->commit_lock, NULL);
	pthread_cond_init(&s->commit_cond, NULL);
	if (!s->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = pfs_neg_errno();
		goto fail;
	}
	if ((size_t)snprintf(catdir, sizeof(catdir), "%s/catalogue", dir) >= sizeof(catdir)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	co.initial_map_bytes = s->opt.cat_map_bytes;
	co.faults = s->opt.faults;
	if ((rc = cat_open(catdir, &co, &s->cat)) < 0)
		goto fail;
	if ((rc = so_load_spaces(s)) < 0)
		goto fail;
	s->capacity_frames = so_capacity(s);
	if ((rc = so_free_growth(s)) < 0 || (rc = so_load_memctls(s)) < 0 ||
	    (rc = so_count_reserved(s)) < 0)
		goto fail;
	if ((rc = swap_ring_open(s->swap, 0, &s->commit_ring)) < 0)
		goto fail;
	if ((rc = store_prefetch_start(s, s->opt.prefetch_bytes, &s->pf)) == -EINVAL)
		goto fail;
	if (rc < 0) /* an optimisation: not worth refusing the store for */
		pfs_warn("no read-ahead of sequential page-ins: %s", strerror(-rc));
	*out = s;
	return 0;
fail:
	s->committing = true; /* nothing to commit: close quietly */
	store_close(s);
	return rc;
}

static void so_free_mobjs(struct store *s)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct mobj *m;
		while ((m = s->buckets[i])) {
			s->buckets[i] = m->hnext;
			extent_mem_clear(&m->pending);
			extent_mem_clear(&m->committing);
			pthread_rwlock_destroy(&m->lock);
			free(m);
		}
	}
	free(s->buckets);
}

int store_close(struct store *s)
{
	int rc = 0;

	if (!s)
		return 0;
	store_prefetch_stop(s->pf);
	s->pf = NULL;
	if (!s->committing && s->cat)
		rc = store_commit(s);
	if (s->cat)
		store_discard_freed(s); /* nothing will reuse the space now */
	free(s->discard_q);
	if (s->commit_ring)
		swap_ring_close(s->commit_ring);
	so_free_mobjs(s);
	for (unsigned i = 0; i < s->nspaces; i++)
		buddy_destroy(s->spaces[i].buddy);
	memctl_tree_destroy(s->memctls);
	swap_close(s->swap);
	cat_close(s->cat);
	pthread_mutex_destroy(&s->alloc_lock);
	pthread_mutex_destroy(&s->table_lock);
	pthread_mutex_destroy(&s->commit_lock);
	pthread_cond_destroy(&s->commit_cond);
	free(s->dir);
	free(s);
	return rc;
}

struct cat *store_cat(struct store *s)
{
	return s->cat;
}

int store_io_open(struct store *s, struct store_io **out)
{
	struct store_io *io = calloc(1, sizeof(*io));
	int rc;

	if (!io)
		return -ENOMEM;
	io->s = s;
	rc = swap_ring_open(s->swap, STORE_IO_MAX_PAGES * PFS_PAGE_SIZE, &io->ring);
	if (rc < 0) {
		free(io);
		return rc;
	}
	io->buf = swap_ring_buf(io->ring);
	*out = io;
	return 0;
}

void *store_io_buf(struct store_io *io)
{
	return io->buf;
}

int store_io_error(const struct store_io *io)
{
	return swap_ring_error(io->ring);
}

struct swap_ring *store_io_ring(struct store_io *io)
{
	return io->ring;
}

void store_io_close(struct store_io *io)
{
	if (!io)
		return;
	swap_ring_close(io->ring);
	free(io);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	struct swap_stats ss;

	memset(out, 0, sizeof(*out));
	out->commits = atomic_load(&s->commits);
	out->commit_failures = atomic_load(&s->commit_failures);
	out->page_ins = atomic_load(&s->page_ins);
	out->page_outs = atomic_load(&s->page_outs);
	out->pages_in = atomic_load(&s->pages_in);
	out->pages_out = atomic_load(&s->pages_out);
	out->pending_pages = atomic_load(&s->pending_pages);
	out->last_commit_ns = atomic_load(&s->last_commit_ns);
	out->capacity_frames = s->capacity_frames;
	out->discarded_frames = atomic_load(&s->discarded_frames);
	int64_t rsv = atomic_load(&s->reserved_pages);
	out->reserved_pages = rsv > 0 ? (uint64_t)rsv : 0;
	store_prefetch_counts(s->pf, &out->prefetched_pages, &out->prefetch_used_pages);
	swap_get_stats(s->swap, &ss);
	out->csum_errors = ss.csum_errors;
	out->io_errors = atomic_load(&s->io_errors);
	pthread_mutex_lock(&s->alloc_lock);
	out->discard_waiting_frames = s->discard_q_frames;
	out->swap_files = s->nspaces;
	for (unsigned i = 0; i < s->nspaces; i++) {
		out->swap_frames += s->spaces[i].grown_frames;
		out->free_frames += buddy_free_frames(s->spaces[i].buddy);
	}
	pthread_mutex_unlock(&s->alloc_lock);
}

int store_add_swapfile(struct store *s, const char *name, int32_t priority, uint64_t max_bytes)
{
	struct cat_swapfile d = { .priority = priority, .max_frames = max_bytes / PFS_PAGE_SIZE };
	struct swap_file_desc sd;
	struct buddy *b = NULL;
	int rc;

	if (d.max_frames == 0 || strlen(name) > CAT_NAME_MAX || strchr(name, '/') ||
	    strcmp(name, "catalogue") == 0 || strcmp(name, "lock") == 0)
		return -EINVAL;
	snprintf(d.name, sizeof(d.name), "%s", name);
	pthread_mutex_lock(&s->alloc_lock);
	if (s->nspaces == SWAP_MAX_FILES) {
		rc = -ENOSPC;
		goto out;
	}
	for (unsigned i = 0; i < s->nspaces; i++) {
		struct cat_swapfile *e = &s->spaces[i].desc;
		if (strcmp(e->name, name) == 0) {
			rc = -EEXIST;
			goto out;
		}
		d.index = PFS_MAX(d.index, e->index + 1);
		/* Ranges never touch, so no extent can merge across two files. */
		d.first_frame = PFS_MAX(d.first_frame, e->first_frame + e->max_frames + 1);
	}
	if (pfs_range_overflows(d.first_frame, d.max_frames)) {
		rc = -ENOSPC;
		goto out;
	}
	sd = (struct swap_file_desc){ d.index, d.priority, d.first_frame, d.max_frames, "" };
	snprintf(sd.name, sizeof(sd.name), "%s", name);
	if ((rc = buddy_create(d.first_frame, d.max_frames, &b)) < 0)
		goto out;
	if ((rc = cat_write(s->cat, so_create_swapfile, &d)) < 0)
		goto out;
	if ((rc = swap_add_file(s->swap, &sd)) < 0) {
		pfs_err("swap file %s recorded but not opened: %s", name, strerror(-rc));
		goto out;
	}
	s->spaces[s->nspaces].desc = d;
	s->spaces[s->nspaces].buddy = b;
	s->spaces[s->nspaces].grown_frames = swap_file_frames(s->swap, d.index);
	s->spaces[s->nspaces].committed_frames = 0;
	b = NULL;
	s->nspaces++;
	/* A new file's existing length counts as growth; the next commit records it. */
	struct swap_space *sp = &s->spaces[s->nspaces - 1];
	if (sp->grown_frames && (rc = buddy_free(sp->buddy, d.first_frame, sp->grown_frames)) < 0)
		goto out;
	qsort(s->spaces, s->nspaces, sizeof(s->spaces[0]), so_cmp_priority);
out:
	pthread_mutex_unlock(&s->alloc_lock);
	buddy_destroy(b);
	return rc;
}
