/*
 * extent.h: page maps as extents, and the one algorithm that edits them.
 *
 * A page map says, for every page of an object, where its contents are: ZERO
 * (zero fill), FILE (page `base + i` of the backing file), SWAP (frame
 * `base + i` of the swap store, with each frame's checksum) or RSV (zeros
 * for which swap is reserved: charged like a swap page, framed at its first
 * page-out). It is a set of
 * non-overlapping extents ordered by first page. The same algebra serves
 * four stores: an object's committed map in the catalogue (where ZERO is the
 * absence of an extent, so a fresh 1 TiB object costs no record), the
 * in-memory pending overlay of page-outs not yet committed (where ZERO must
 * be recorded, since absence there means "see the catalogue"), physmem's
 * free-frame map (kind FREE) and its reference-count map (kind REF: runs of
 * frames sharing one count, so cloning a run costs a record, not one per
 * frame). Stores implement four primitives; extent_set()
 * does the splitting and merging for all of them, so the boundary cases are
 * written and tested once.
 *
 * Invariants of a map (extent_check asserts them): extents do not overlap;
 * none is empty; none wraps past 2^64; a SWAP extent holds at most
 * PMAP_SWAP_RUN_MAX pages and exactly npages checksums; a REF extent counts
 * at least two; two neighbours that could be merged have been (except SWAP
 * runs at the size cap).
 */
#ifndef PAGERFS_EXTENT_H
#define PAGERFS_EXTENT_H

#include <string.h>
#include "base.h"

enum pmap_kind {
	PMAP_ZERO = 0,
	PMAP_FILE = 1,
	PMAP_SWAP = 2,
	PMAP_FREE = 3, /* physmem's free-frame map only */
	PMAP_RSV = 4,  /* reserved (fallocate): reads as zeros, swap charged but no frame yet */
	PMAP_REF = 5,  /* physmem's reference-count map only: base is each frame's count, >= 2 */
};
#define PMAP_KIND_MAX PMAP_REF

/* Largest SWAP extent: bounds a record (8 bytes of checksum a page) and merge cost. */
#define PMAP_SWAP_RUN_MAX 1024

struct pmap_extent {
	uint64_t first;      /* first page (or frame, in the free map) */
	uint64_t npages;
	uint8_t kind;        /* enum pmap_kind */
	uint64_t base;       /* FILE: backing page; SWAP: frame; REF: count; else 0 */
	const uint8_t *sums; /* SWAP: npages checksums, packed little-endian u64; else NULL */
};

static inline uint64_t pmap_extent_end(const struct pmap_extent *e)
{
	return e->first + e->npages;
}

static inline uint64_t pmap_sum_at(const uint8_t *sums, uint64_t i)
{
	uint64_t v = 0;
	for (int b = 7; b >= 0; b--)
		v = (v << 8) | sums[i * 8 + (uint64_t)b];
	return v;
}

static inline void pmap_sum_put(uint8_t *sums, uint64_t i, uint64_t v)
{
	for (int b = 0; b < 8; b++) {
		sums[i * 8 + (uint64_t)b] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * A store's primitives. Extents they return (sums included) stay valid until
 * the store is next modified. find_le: the extent with the greatest first <=
 * page; find_ge: the least first >= page; both -ENOENT when there is none.
 * put inserts or replaces the extent starting at e->first; del removes it.
 */
struct extent_ops {
	int (*find_le)(void *store, uint64_t page, struct pmap_extent *out);
	int (*find_ge)(void *store, uint64_t page, struct pmap_extent *out);
	int (*put)(void *store, const struct pmap_extent *e);
	int (*del)(void *store, uint64_t first);
	bool store_zero; /* ZERO extents are records (overlay) rather than absence */
};

struct extent_map {
	const struct extent_ops *ops;
	void *store;
};

/* Called with each piece of the old contents that extent_set removes. */
typedef int (*extent_drop_fn)(void *arg, const struct pmap_extent *piece);

/*
 * Make [e->first, e->first + e->npages) map to e, splitting the extents it
 * overlaps and merging it with its neighbours. drop (may be NULL) sees every
 * stored piece removed, clipped to the range, before the map changes further
 * — the commit layer dereferences frames there. A ZERO e on a store without
 * stored zeros just clears the range. -EINVAL for a malformed e.
 */
int extent_set(struct extent_map *m, const struct pmap_extent *e, extent_drop_fn drop, void *arg);

/*
 * The run that covers page: a stored extent (returns 0), or where nothing is
 * stored a ZERO run spanning the whole hole around page, up to UINT64_MAX at
 * the end (returns 1). An overlay uses the difference: a hole there means
 * "see the layer below", a stored ZERO means zeros.
 */
int extent_lookup(struct extent_map *m, uint64_t page, struct pmap_extent *out);

/* The part of e within [first, end), with base and sums advanced to match. */
struct pmap_extent extent_clip(const struct pmap_extent *e, uint64_t first, uint64_t end);

/*
 * Call fn with the contents of [first, first + n) in order, as extents
 * clipped to the range; holes come as ZERO pieces unless skip_holes. fn > 0
 * stops the walk (and is returned). Cost is proportional to the extents in
 * the range, not its pages.
 */
int extent_foreach(struct extent_map *m, uint64_t first, uint64_t n, bool skip_holes,
		   int (*fn)(const struct pmap_extent *piece, void *arg), void *arg);

/* Check a map's invariants over all its extents: 0 or -EUCLEAN. */
int extent_check(struct extent_map *m);

/* A well-formed extent? (kind known, non-empty, no wrap, SWAP sums present) */
bool extent_valid(const struct pmap_extent *e);

/* ---- the in-memory store (pending overlays, tests) ---- */

struct extent_mem_entry {
	struct pmap_extent e; /* e.sums points at owned memory */
};

struct extent_mem {
	struct extent_mem_entry *v;
	size_t n, cap;
};

/* Zeros stored (a pending overlay) or zero as absence (like the catalogue). */
extern const struct extent_ops extent_mem_ops;
extern const struct extent_ops extent_mem_sparse_ops;

static inline void extent_mem_init(struct extent_mem *m)
{
	memset(m, 0, sizeof(*m));
}
/* Free every extent (the store stays usable, empty). */
void extent_mem_clear(struct extent_mem *m);

static inline struct extent_map extent_mem_map(struct extent_mem *m)
{
	return (struct extent_map){ &extent_mem_ops, m };
}

#endif /* PAGERFS_EXTENT_H */
