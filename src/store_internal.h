/*
 * store_internal.h: what store.c (page path) and commit.c (group commit)
 * share. Nothing outside those two files includes it.
 *
 * Lock order: a memory object's lock, then the store's alloc_lock; the table
 * lock alone; commit_lock alone. A commit never holds alloc_lock while it
 * takes an object's lock, and never holds an object's lock across the LMDB
 * transaction or the swap sync.
 */
#ifndef PAGERFS_STORE_INTERNAL_H
#define PAGERFS_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include "extent.h"
#include "physmem/buddy.h"
#include "physmem/memctl.h"
#include "store.h"
#include "swap/swap.h"

/* The runtime side of a memory object: its overlays and its lock. */
struct mobj {
	uint64_t id;
	uint64_t memctl;              /* control charged for its pages */
	pthread_rwlock_t lock;        /* page-ins shared; page-outs and commits exclusive */
	struct extent_mem pending;    /* paged out since the last commit started */
	struct extent_mem committing; /* being made durable by the commit under way */
	/* Read-ahead (prefetch.c), under its lock: */
	uint64_t pf_next;  /* page after the furthest page-in of a stream */
	uint64_t pf_ahead; /* page read-ahead has been asked up to */
	struct mobj *hnext;
};

/* One swap file and the frames physmem hands out from it. */
struct swap_space {
	struct cat_swapfile desc;
	struct buddy *buddy;
	uint64_t grown_frames;     /* frames on disk now */
	uint64_t committed_frames; /* frames the catalogue knows the file has */
};

struct store {
	char *dir;
	struct cat *cat;
	struct swap_store *swap;
	struct store_options opt;
	uint64_t chunk_frames;
	uint64_t pending_max_pages;

	pthread_mutex_t alloc_lock; /* spaces, buddies, memctls */
	struct swap_space spaces[SWAP_MAX_FILES];
	unsigned nspaces;
	uint64_t capacity_frames;
	struct memctl_tree *memctls;

	pthread_mutex_t table_lock;
	struct mobj **buckets;
	size_t nbuckets, nobjs;

	pthread_mutex_t commit_lock;
	pthread_cond_t commit_cond;
	uint64_t sync_requests, synced_upto;
	bool committing;
	int last_commit_rc;
	struct swap_ring *commit_ring; /* used by whoever runs the commit */
	int (*commit_hook)(struct cat_txn *txn, void *arg);
	void (*commit_done)(void *arg, int rc);
	void *commit_hook_arg;

	atomic_uint_fast64_t pending_pages;
	atomic_int sticky_error; /* a failed swap sync: durability unknown, refuse to go on */
	atomic_uint_fast64_t commits, commit_failures, page_ins, page_outs, pages_in, pages_out;
	atomic_uint_fast64_t csum_errors, io_errors, discarded_frames;
	atomic_int_fast64_t reserved_pages; /* PMAP_RSV pages in every layer */
	atomic_int_fast64_t last_commit_ns;

	/* Freed runs waiting to be hole-punched (commit.c); under alloc_lock. */
	struct frame_run *discard_q;
	size_t ndiscard_q, capdiscard_q;
	uint64_t discard_q_frames;

	struct store_prefetch *pf; /* read-ahead of sequential page-ins, or NULL */
};

struct store_io {
	struct store *s;
	struct swap_ring *ring;
	uint8_t *buf; /* the ring's registered arena: STORE_IO_MAX_PAGES pages */
};

/* The swap runs of one store_page_in, queued by the swap pager and read at its finish. */
struct store_swapin {
	/*
	 * The page-in's first page and buffer: page p goes to buf at (p - first)
	 * pages, and is read into the arena at the same offset, so a queued
	 * run's page and destination follow from where its read lands.
	 */
	uint64_t first;
	uint8_t *buf;
	unsigned nios;
	bool swapped;     /* some page came from swap (read ahead or read now) */
	struct swap_io ios[STORE_IO_MAX_PAGES];
};

/*
 * Frames the memory controls may hand out: the capacity less a reserve, since
 * redirect-on-write needs fresh frames to overwrite a page whose old frame is
 * freed only by the next commit. With the reserve, a full store can still
 * overwrite what it holds (a page-out that finds no frame commits and retries).
 */
static inline uint64_t store_chargeable_frames(uint64_t capacity)
{
	uint64_t reserve = PFS_MIN((uint64_t)STORE_IO_MAX_PAGES, capacity / 8);
	return capacity - reserve;
}

/* The runtime object for id, created if absent (never freed before the store). */
struct mobj *store_mobj_get(struct store *s, uint64_t id);
/* Every mobj of the store that has pending pages (referenced for the caller). */
int store_pending_objects(struct store *s, struct mobj ***out, size_t *n);
/* Frames freed by a transaction, applied to the allocators once it is durable. */
struct frame_run {
	uint64_t frame, n;
};
struct commit_ctx {
	struct store *s;
	struct mobj **objs;
	uint64_t *memctls; /* each object's control, taken under its lock */
	size_t nobjs;
	uint64_t grown[SWAP_MAX_FILES];
	struct cat_txn *txn;
	/* Outputs of a transaction function, reset on every replay. */
	struct frame_run *freed;
	size_t nfreed, capfreed;
	int64_t delta; /* charge change of the object being applied */
};
/* extent_drop_fn for committed maps: dereference a SWAP piece's frames. */
int commit_drop(void *ctx, const struct pmap_extent *piece);
/* Add delta to a control's committed charge in txn. */
int commit_charge(struct cat_txn *txn, uint64_t memctl, int64_t delta);

/* extent_drop_fn freeing SWAP pieces that were never committed (m's lock held). */
int store_drop_uncommitted(void *store, const struct pmap_extent *piece);
/* Pages of [first, end) of m by kind in every layer; m's lock held. */
int store_count_kinds_locked(struct store *s, struct mobj *m, uint64_t first, uint64_t end,
			     uint64_t counts[PMAP_KIND_MAX + 1]);
/* Charged pages (swap and reserved) of [first, end) of m in every layer; m's lock held. */
int store_count_charged_locked(struct store *s, struct mobj *m, uint64_t first, uint64_t end,
			       uint64_t *ncharged);

/*
 * The contents of m at page, clipped to [page, end): pending, then committing,
 * then the catalogue; m's lock held.
 */
int store_resolve_locked(struct mobj *m, struct cat_txn *txn, uint64_t page, uint64_t end,
			 struct pmap_extent *out);

/*
 * ---- prefetch.c: read-ahead of sequential page-ins ----
 * store_prefetch_start starts its thread (*out = NULL when ahead_bytes is 0),
 * reading ahead_bytes (in whole STORE_IO_MAX_PAGES windows) past a
 * sequential reader; store_prefetch_stop joins it. store_prefetch_take copies
 * into dst the longest run of pages from page on that a buffer holds with the
 * checksums sums (the map's now), waiting for a read of them in flight, and
 * returns how many; store_prefetch_note tells it of a page-in that succeeded.
 */
struct store_prefetch;
int store_prefetch_start(struct store *s, uint64_t ahead_bytes, struct store_prefetch **out);
void store_prefetch_stop(struct store_prefetch *pf);
uint32_t store_prefetch_take(struct store_prefetch *pf, uint64_t obj, uint64_t page,
			     uint32_t npages, const uint8_t *sums, void *dst);
void store_prefetch_note(struct store_prefetch *pf, struct mobj *m, uint64_t first,
			 uint32_t npages);
void store_prefetch_counts(struct store_prefetch *pf, uint64_t *read, uint64_t *used);

/* Return frames to the allocator (after a commit made them free). */
void store_free_frames(struct store *s, uint64_t frame, uint64_t n);
/* The same under alloc_lock, queueing the large runs to be hole-punched later. */
void store_free_runs_locked(struct store *s, const struct frame_run *runs, size_t n);
/* The swap space that holds frame, or NULL. */
struct swap_space *store_space_of(struct store *s, uint64_t frame);

#endif /* PAGERFS_STORE_INTERNAL_H */
