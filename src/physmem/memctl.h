/*
 * memctl.h: memory controls, the quota tree behind pagerfs directories.
 *
 * After GNU Hurd-L4 physmem: every control has a 64-bit id (its directory's)
 * and a parent, except the root, which guarantees the store's capacity. A
 * control either *shares* (no guarantee, no limit: its charges count against
 * its nearest ancestor with a quota) or has a *quota*: a guarantee split off
 * its nearest quota ancestor, which is also its limit. For a quota control
 * (or the root) Q:
 *
 *   pool(Q) = guarantee(Q) - sum of the guarantees of the quota controls whose
 *             nearest quota ancestor is Q;
 *   used(Q) = frames charged to Q and to every descendant reached through
 *             sharing controls only.
 *
 * A charge of n to X succeeds iff used(Q) + n <= pool(Q) for X's nearest
 * quota ancestor-or-self Q; nothing above Q matters, because Q's guarantee has
 * already been taken out of its ancestors' pools. Frames are charged per page
 * reference (a copy-on-write frame shared by two controls is charged to both)
 * plus reservations; this module only counts, it never sees a frame.
 *
 * Errors: 0 or a negative errno; a call that fails changes nothing. -ENOENT
 * for an unknown id. -EOVERFLOW only from a restored tree whose sums do not
 * fit in 64 bits (memctl_check would have refused it).
 *
 * Locking: none inside. The caller serialises every call on one tree; the
 * const functions only read, so they may run concurrently with each other
 * (under a shared lock) but not with a modifying call.
 */
#ifndef PAGERFS_PHYSMEM_MEMCTL_H
#define PAGERFS_PHYSMEM_MEMCTL_H

#include "base.h"

struct memctl_tree;

struct memctl_info {
	uint64_t id;
	uint64_t parent;            /* the root's parent is its own id */
	bool has_quota;             /* always true for the root */
	uint64_t guarantee_frames;  /* 0 for a sharing control */
	uint64_t charged_frames;    /* charged to this control itself */
	uint64_t usage_frames;      /* charged to it and all its descendants */
	uint64_t available_frames;  /* what a charge to it could take now: pool - used
	                               of its nearest quota ancestor-or-self */
	unsigned nchildren;
};

/* A tree holding only the root, guaranteeing capacity_frames. -ENOMEM. */
int memctl_tree_create(uint64_t root_id, uint64_t capacity_frames, struct memctl_tree **out);
/* Free the tree (the frames it counted are the caller's business). NULL is ok. */
void memctl_tree_destroy(struct memctl_tree *t);

/* Set the root's guarantee. -ENOSPC if below what the root has split off plus
 * what it uses. */
int memctl_set_capacity(struct memctl_tree *t, uint64_t capacity_frames);

/* A new sharing child of parent_id. -ENOENT parent, -EEXIST id, -ENOMEM. */
int memctl_add(struct memctl_tree *t, uint64_t parent_id, uint64_t id);

/* Give id a guarantee of frames (or change it); the difference moves from/to
 * its nearest quota ancestor. -EINVAL on the root (use memctl_set_capacity);
 * -ENOSPC if the ancestor cannot spare the frames, or if id's used frames plus
 * its quota children's guarantees would not fit in the new guarantee. */
int memctl_set_quota(struct memctl_tree *t, uint64_t id, uint64_t frames);

/* Return id to sharing: its guarantee goes back to its nearest quota ancestor,
 * which takes over id's used frames and quota children. -EINVAL if id has no
 * quota (or is the root). -ENOSPC if that ancestor's pool could not hold them;
 * in a tree that passes memctl_check this cannot happen (id's guarantee
 * already covered them), so it only guards restored trees. */
int memctl_clear_quota(struct memctl_tree *t, uint64_t id);

/* Destroy id and all its descendants: guarantees return to id's nearest quota
 * ancestor, every charge in the subtree is released and their sum stored in
 * *released_frames (may be NULL). -EINVAL on the root. */
int memctl_remove(struct memctl_tree *t, uint64_t id, uint64_t *released_frames);

/* Charge n frames to id. -ENOSPC if its nearest quota ancestor-or-self cannot
 * take them. n == 0 is a successful no-op. */
int memctl_charge(struct memctl_tree *t, uint64_t id, uint64_t n);
/* Release n frames charged to id itself. -EINVAL if more than charged to it. */
int memctl_uncharge(struct memctl_tree *t, uint64_t id, uint64_t n);

int memctl_get(const struct memctl_tree *t, uint64_t id, struct memctl_info *out);

/* Call fn on every control, parents before children (siblings in no promised
 * order). fn returns 0 to go on; any other value stops the walk and is
 * returned. fn must not change the tree. */
int memctl_foreach(const struct memctl_tree *t,
		   int (*fn)(const struct memctl_info *m, void *arg), void *arg);

/*
 * Rebuild the tree from persisted records without the limit checks (run
 * memctl_check afterwards to validate them). Records come parents first.
 * For id == the root's id, parent_id is ignored, has_quota must be true, and
 * the record sets the root's guarantee and own charges. Otherwise id must be
 * new and parent_id present (-EEXIST, -ENOENT). -EINVAL for a sharing record
 * with a guarantee; -EOVERFLOW if the sums would overflow 64 bits; -ENOMEM.
 */
int memctl_restore(struct memctl_tree *t, uint64_t parent_id, uint64_t id,
		   bool has_quota, uint64_t guarantee, uint64_t charged);

/* Verify every invariant (memctl.c lists them): guarantees split from each
 * quota control fit in it with its used frames, usage sums, tree shape and
 * index. 0, or -EUCLEAN with the reason logged. */
int memctl_check(const struct memctl_tree *t);

#endif /* PAGERFS_PHYSMEM_MEMCTL_H */
