/*
 * buddy.h: the frames of one swap file's range, handed out in power-of-two runs.
 *
 * A frame is one 4 KiB page of the swap store, named by a 64-bit number. One
 * allocator covers one range [base, base + span) of frame numbers (one per swap
 * file: the range is reserved up front, the file grows into it later). Every
 * frame starts out *not free*; buddy_free() makes ranges free, which is both
 * how the store's persisted free space is loaded and how a grown file adds its
 * new frames. Runs are aligned to their own size *relative to base* (frame
 * base + k * 2^order), so they are aligned in the swap file too.
 *
 * Data structure: the free space is kept as its canonical buddy decomposition
 * (maximal aligned blocks, no two free buddies of equal order) in one AVL tree
 * keyed by the block's offset from base, each node augmented with the largest
 * block order found in its subtree. We use one address-ordered tree rather
 * than per-order sets because every question we ask is about addresses:
 * "lowest block of order >= k" (alloc, lowest address first) is one descent
 * using the augmentation, and "is this frame free", "does this range overlap
 * free space", "where is my buddy" are one predecessor or exact lookup each,
 * where per-order sets would need one lookup per order. So alloc, free (per
 * aligned block of the range) and is_free are O(log n) in free blocks, and
 * memory is one small node per free block: never proportional to span (a
 * 2^36-frame range with one free frame costs one node). Blocks may be larger
 * than BUDDY_MAX_ALLOC_ORDER (a fresh 2^36-frame file is one block); only the
 * runs that buddy_alloc hands out are capped.
 *
 * Errors: 0 or a negative errno; a call that fails changes nothing (nodes it
 * may need are allocated before anything is modified).
 *
 * Locking: none inside. The caller serialises every call on one allocator;
 * the const functions only read, so they may run concurrently with each other
 * (under a shared lock) but not with a modifying call.
 */
#ifndef PAGERFS_PHYSMEM_BUDDY_H
#define PAGERFS_PHYSMEM_BUDDY_H

#include "base.h"

/* buddy_alloc hands out at most 2^20 frames (4 GiB) per run. */
#define BUDDY_MAX_ALLOC_ORDER 20

struct buddy;

/* A new allocator for [base, base + span_frames), nothing free. -EINVAL if
 * span_frames is 0 or the range overflows; -ENOMEM. */
int buddy_create(uint64_t base, uint64_t span_frames, struct buddy **out);
/* Free the allocator itself (not the frames: they are just numbers). NULL is ok. */
void buddy_destroy(struct buddy *b);

/* Make [first, first + n) free, coalescing with free buddies. -EINVAL if n is 0,
 * any frame lies outside the range or any frame is already free; -ENOMEM. */
int buddy_free(struct buddy *b, uint64_t first, uint64_t n);

/* Take one aligned power-of-two run: *got is the largest power of two
 * <= min(want, 2^BUDDY_MAX_ALLOC_ORDER) for which a free aligned run exists
 * (splitting a larger block), and *first the lowest such run. Smaller runs are
 * returned when fragmented, so this succeeds while any frame is free.
 * -EINVAL if want is 0; -ENOSPC if no frame is free; -ENOMEM. */
int buddy_alloc(struct buddy *b, uint64_t want, uint64_t *first, uint64_t *got);

/* Make the free range [first, first + n) not free (a frame the store found in
 * use). -EINVAL if n is 0 or any frame is outside the range or not free; -ENOMEM. */
int buddy_take(struct buddy *b, uint64_t first, uint64_t n);

/* Is this frame free? False for frames outside the range. */
bool buddy_is_free(const struct buddy *b, uint64_t frame);
/* How many frames are free. */
uint64_t buddy_free_frames(const struct buddy *b);
/* How many blocks the free space is split into: the allocator's memory use
 * and a fragmentation measure (addition to the original API, for stats). */
uint64_t buddy_free_blocks(const struct buddy *b);

/* Call fn on every maximal free run (adjacent blocks merged), lowest address
 * first. fn returns 0 to go on; any other value stops the walk and is
 * returned (so fn may return > 0 to stop, or a negative errno). fn must not
 * change the allocator. */
int buddy_foreach_free(const struct buddy *b,
		       int (*fn)(uint64_t first, uint64_t n, void *arg), void *arg);
/* The same, for the free runs of [first, first + n) only, clipped to it. */
int buddy_foreach_free_in(const struct buddy *b, uint64_t first, uint64_t n,
			  int (*fn)(uint64_t first, uint64_t n, void *arg), void *arg);

/* Verify every internal invariant. 0, or -EUCLEAN with the reason logged. */
int buddy_check(const struct buddy *b);

#endif /* PAGERFS_PHYSMEM_BUDDY_H */
