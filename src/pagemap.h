/*
 * pagemap.h: objects' committed page maps (and physmem's free-frame map) as
 * extents in the catalogue.
 *
 * Records are keyed by (owner, first page) in big-endian so that one
 * object's extents are contiguous and ordered; the value is the extent's
 * length, kind, base and (SWAP) per-page checksums, sealed like every
 * catalogue record. ZERO is stored as the absence of a record. The editing
 * algorithm is extent.c's; this file only adapts the catalogue to it.
 */
#ifndef PAGERFS_PAGEMAP_H
#define PAGERFS_PAGEMAP_H

#include "catalogue.h"
#include "extent.h"

/* A catalogue-backed extent store: one owner's extents in one table. */
struct pmap_cat {
	struct cat_txn *txn;
	enum cat_table table; /* CAT_T_EXTENTS, CAT_T_FREE or CAT_T_REFS */
	uint64_t owner;       /* object id (0 for the free map) */
};

extern const struct extent_ops pmap_cat_ops;

static inline struct extent_map pmap_cat_map(struct pmap_cat *pc, struct cat_txn *txn,
					     enum cat_table table, uint64_t owner)
{
	pc->txn = txn;
	pc->table = table;
	pc->owner = owner;
	return (struct extent_map){ &pmap_cat_ops, pc };
}

/* Encode an extent's value (without its key); returns the length or -EOVERFLOW. */
int pmap_extent_encode(const struct pmap_extent *e, void *buf, size_t cap);
/* Decode a value for an extent starting at first; sums point into buf. -EINVAL if damaged. */
int pmap_extent_decode(uint64_t first, const void *buf, size_t len, struct pmap_extent *e);

/* Per-kind page counts of [0, npages) of an object's committed map. */
struct pmap_counts {
	uint64_t zero, file, swap, reserved;
};

/* ---- an object's committed map: shorthands over pmap_cat_map ---- */

int pmap_lookup(struct cat_txn *txn, uint64_t obj, uint64_t page, struct pmap_extent *out);
int pmap_set(struct cat_txn *txn, uint64_t obj, const struct pmap_extent *e,
	     extent_drop_fn drop, void *arg);
int pmap_foreach(struct cat_txn *txn, uint64_t obj, uint64_t first, uint64_t n, bool skip_holes,
		 int (*fn)(const struct pmap_extent *piece, void *arg), void *arg);
int pmap_count(struct cat_txn *txn, uint64_t obj, uint64_t npages, struct pmap_counts *c);
/* Remove every extent of obj (reporting each to drop). */
int pmap_delete_all(struct cat_txn *txn, uint64_t obj, extent_drop_fn drop, void *arg);
/* How many records obj's map costs. */
int pmap_records(struct cat_txn *txn, uint64_t obj, uint64_t *n);

/*
 * ---- physmem's reference counts ----
 *
 * A frame that a committed page map uses has one reference unless a REF run
 * of the reference map (CAT_T_REFS, owner 0) covers it and gives its count.
 * Runs let a clone of a 1 GiB run of frames cost one record, not 262,144.
 * The map says nothing of frames no page map uses. Each call costs a lookup
 * per run it meets, not per frame; a record of another kind is -EINVAL.
 */
int pmap_ref_get(struct cat_txn *txn, uint64_t frame, uint64_t *count);
/* Give every frame of the run this count (one or less: no record). */
int pmap_ref_set(struct cat_txn *txn, uint64_t first, uint64_t n, uint64_t count);
/* One more reference to every frame of the run (all used already). */
int pmap_ref_add(struct cat_txn *txn, uint64_t first, uint64_t n);
/* One less; freed (may be NULL) sees the runs of frames left unused, in order. */
int pmap_ref_drop(struct cat_txn *txn, uint64_t first, uint64_t n,
		  int (*freed)(void *arg, uint64_t first, uint64_t n), void *arg);
/* fn with every stored run in frame order (counts >= 2); fn > 0 stops the walk. */
int pmap_ref_foreach(struct cat_txn *txn,
		     int (*fn)(uint64_t first, uint64_t n, uint64_t count, void *arg), void *arg);

#endif /* PAGERFS_PAGEMAP_H */
