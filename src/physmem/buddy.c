/*
 * buddy.c: a buddy allocator over one range of swap frames, in memory only.
 *
 * It answers "which frames are free" and hands out aligned power-of-two runs,
 * lowest address first so swap files stay compact. It must never do I/O,
 * never cost memory in proportion to the range (only to the number of free
 * blocks), never modify anything in a call that then fails, and never lock:
 * the commit layer owns persistence and the caller owns locking (buddy.h).
 *
 * Invariants (checked by buddy_check, asserted where they are relied on):
 *   I1  every node is a free block [off, off + 2^order) with off a multiple of
 *       2^order (offsets are relative to base) and off + 2^order <= span;
 *   I2  blocks are disjoint; the tree is ordered by off (in-order = address order);
 *   I3  canonical form: no two free blocks are buddies of equal order (they
 *       would have been merged), hence every fully free aligned run of 2^k
 *       frames lies inside a single free block of order >= k;
 *   I4  AVL: height = 1 + max(child heights), child heights differ by <= 1;
 *   I5  max_order = the largest order in the node's subtree;
 *   I6  free_frames = sum of 2^order, nblocks = number of nodes.
 * I3 is what makes alloc exact: the largest aligned free run of size <= want
 * is the largest order present, and the lowest one starts the lowest block of
 * at least that order, which one descent using I5 finds.
 */
#include <assert.h>
#include <stdlib.h>
#include "log.h"
#include "physmem/buddy.h"

/* Orders go up to 63: span < 2^64, so no block of order 64 exists. */
#define BDY_ORDER_LIMIT 63
/*
 * Most new nodes one call can need: a range decomposes into at most two
 * blocks per order (rising, then falling), and a take leaves at most that
 * many pieces around it. Spares above this are given back to malloc.
 */
#define BDY_SPARE_MAX (2 * (BDY_ORDER_LIMIT + 1) + 2)

struct bdy_node {
	uint64_t off;                   /* first frame, relative to base */
	struct bdy_node *left, *right;  /* spare list: linked through right */
	uint8_t order;                  /* the block is 2^order frames */
	uint8_t max_order;              /* I5 */
	uint8_t height;                 /* I4; a leaf is 1 */
};

struct buddy {
	uint64_t base, span;
	struct bdy_node *root;
	uint64_t free_frames;           /* I6 */
	uint64_t nblocks;               /* I6 */
	struct bdy_node *spare;         /* preallocated nodes, so changes cannot fail midway */
	unsigned nspare;
};

static inline uint64_t bdy_size(unsigned order)
{
	return (uint64_t)1 << order;
}

static inline unsigned bdy_floor_log2(uint64_t x)
{
	assert(x != 0);
	return 63u - (unsigned)__builtin_clzll(x);
}

/* Order of the largest aligned block starting at off that fits in n frames. */
static inline unsigned bdy_block_order(uint64_t off, uint64_t n)
{
	unsigned order = bdy_floor_log2(n);

	if (off != 0)
		order = PFS_MIN(order, (unsigned)__builtin_ctzll(off));
	return order;
}

/* How many aligned blocks [off, off + n) decomposes into (at most 2 * 64). */
static unsigned bdy_count_blocks(uint64_t off, uint64_t n)
{
	unsigned count = 0;

	while (n > 0) {
		uint64_t size = bdy_size(bdy_block_order(off, n));
		off += size;
		n -= size;
		count++;
	}
	return count;
}

/* ---- spare nodes: allocate before changing anything ---- */

static int bdy_reserve(struct buddy *b, unsigned need)
{
	assert(need <= BDY_SPARE_MAX);
	while (b->nspare < need) {
		struct bdy_node *n = malloc(sizeof(*n));
		if (!n)
			return -ENOMEM; /* spares kept so far are harmless */
		n->right = b->spare;
		b->spare = n;
		b->nspare++;
	}
	return 0;
}

static struct bdy_node *bdy_take_spare(struct buddy *b)
{
	struct bdy_node *n = b->spare;

	assert(n != NULL); /* the caller reserved enough */
	b->spare = n->right;
	b->nspare--;
	return n;
}

static void bdy_give_spare(struct buddy *b, struct bdy_node *n)
{
	if (b->nspare >= BDY_SPARE_MAX) {
		free(n);
		return;
	}
	n->right = b->spare;
	b->spare = n;
	b->nspare++;
}

/* ---- the AVL tree, augmented with max_order ---- */

static inline unsigned bdy_height(const struct bdy_node *n)
{
	return n ? n->height : 0;
}

static void bdy_update(struct bdy_node *n)
{
	unsigned mo = n->order;

	if (n->left)
		mo = PFS_MAX(mo, n->left->max_order);
	if (n->right)
		mo = PFS_MAX(mo, n->right->max_order);
	n->max_order = (uint8_t)mo;
	n->height = (uint8_t)(1 + PFS_MAX(bdy_height(n->left), bdy_height(n->right)));
}

static struct bdy_node *bdy_rotate_right(struct bdy_node *y)
{
	struct bdy_node *x = y->left;

	y->left = x->right;
	x->right = y;
	bdy_update(y);
	bdy_update(x);
	return x;
}

static struct bdy_node *bdy_rotate_left(struct bdy_node *x)
{
	struct bdy_node *y = x->right;

	x->right = y->left;
	y->left = x;
	bdy_update(x);
	bdy_update(y);
	return y;
}

static struct bdy_node *bdy_rebalance(struct bdy_node *n)
{
	int bf;

	bdy_update(n);
	bf = (int)bdy_height(n->left) - (int)bdy_height(n->right);
	if (bf > 1) {
		if (bdy_height(n->left->left) < bdy_height(n->left->right))
			n->left = bdy_rotate_left(n->left);
		return bdy_rotate_right(n);
	}
	if (bf < -1) {
		if (bdy_height(n->right->right) < bdy_height(n->right->left))
			n->right = bdy_rotate_right(n->right);
		return bdy_rotate_left(n);
	}
	return n;
}

static struct bdy_node *bdy_tree_insert(struct bdy_node *t, struct bdy_node *n)
{
	if (!t)
		return n;
	assert(n->off != t->off);
	if (n->off < t->off)
		t->left = bdy_tree_insert(t->left, n);
	else
		t->right = bdy_tree_insert(t->right, n);
	return bdy_rebalance(t);
}

static struct bdy_node *bdy_tree_remove_min(struct bdy_node *t, struct bdy_node **min)
{
	if (!t->left) {
		*min = t;
		return t->right;
	}
	t->left = bdy_tree_remove_min(t->left, min);
	return bdy_rebalance(t);
}

/* Unlink the node with this exact offset (it must exist) into *gone. */
static struct bdy_node *bdy_tree_remove(struct bdy_node *t, uint64_t off,
					struct bdy_node **gone)
{
	struct bdy_node *l, *r, *m;

	assert(t != NULL);
	if (off < t->off) {
		t->left = bdy_tree_remove(t->left, off, gone);
	} else if (off > t->off) {
		t->right = bdy_tree_remove(t->right, off, gone);
	} else {
		*gone = t;
		l = t->left;
		r = t->right;
		if (!r)
			return l;
		r = bdy_tree_remove_min(r, &m);
		m->left = l;
		m->right = r;
		return bdy_rebalance(m);
	}
	return bdy_rebalance(t);
}

static struct bdy_node *bdy_find(const struct buddy *b, uint64_t off)
{
	struct bdy_node *n = b->root;

	while (n && n->off != off)
		n = off < n->off ? n->left : n->right;
	return n;
}

/* The block with the greatest offset <= off, or NULL. */
static struct bdy_node *bdy_find_at_or_before(const struct buddy *b, uint64_t off)
{
	struct bdy_node *n = b->root, *best = NULL;

	while (n) {
		if (n->off <= off) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* The lowest-addressed block of order >= order, or NULL (uses I5). */
static struct bdy_node *bdy_find_lowest_of_order(const struct buddy *b, unsigned order)
{
	struct bdy_node *n = b->root;

	if (!n || n->max_order < order)
		return NULL;
	for (;;) {
		if (n->left && n->left->max_order >= order)
			n = n->left;
		else if (n->order >= order)
			return n;
		else
			n = n->right;
		assert(n != NULL && n->max_order >= order);
	}
}

/* ---- blocks in and out of the free set ---- */

static void bdy_remove_block(struct buddy *b, struct bdy_node *n)
{
	struct bdy_node *gone = NULL;

	b->root = bdy_tree_remove(b->root, n->off, &gone);
	assert(gone == n);
	b->free_frames -= bdy_size(n->order);
	b->nblocks--;
	bdy_give_spare(b, n);
}

/*
 * Add the free aligned block [off, off + 2^order), merging with its buddy while
 * the buddy is free at the same order (keeps I3). Uses at most one spare node:
 * each merge returns one.
 */
static void bdy_insert_block(struct buddy *b, uint64_t off, unsigned order)
{
	struct bdy_node *n;

	assert(off % bdy_size(order) == 0 && off + bdy_size(order) <= b->span);
	while (order < BDY_ORDER_LIMIT) {
		struct bdy_node *buddy = bdy_find(b, off ^ bdy_size(order));
		if (!buddy || buddy->order != order)
			break;
		bdy_remove_block(b, buddy);
		off &= ~bdy_size(order);
		order++;
	}
	n = bdy_take_spare(b);
	n->off = off;
	n->order = (uint8_t)order;
	n->max_order = (uint8_t)order;
	n->height = 1;
	n->left = n->right = NULL;
	b->root = bdy_tree_insert(b->root, n);
	b->free_frames += bdy_size(order);
	b->nblocks++;
}

/* Add the free range [off, off + n) as aligned blocks. Caller reserved spares. */
static void bdy_insert_range(struct buddy *b, uint64_t off, uint64_t n)
{
	while (n > 0) {
		unsigned order = bdy_block_order(off, n);
		bdy_insert_block(b, off, order);
		off += bdy_size(order);
		n -= bdy_size(order);
	}
}

/* Translate [first, first + n) into an offset; -EINVAL if empty or outside. */
static int bdy_range_offset(const struct buddy *b, uint64_t first, uint64_t n, uint64_t *off)
{
	if (n == 0 || first < b->base || pfs_range_overflows(first, n))
		return -EINVAL;
	*off = first - b->base;
	if (*off >= b->span || n > b->span - *off)
		return -EINVAL;
	return 0;
}

/* ---- the public face ---- */

int buddy_create(uint64_t base, uint64_t span_frames, struct buddy **out)
{
	struct buddy *b;

	if (span_frames == 0 || pfs_range_overflows(base, span_frames))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->base = base;
	b->span = span_frames;
	*out = b;
	return 0;
}

static void bdy_free_tree(struct bdy_node *n)
{
	if (!n)
		return;
	bdy_free_tree(n->left);
	bdy_free_tree(n->right);
	free(n);
}

void buddy_destroy(struct buddy *b)
{
	if (!b)
		return;
	bdy_free_tree(b->root);
	while (b->spare) {
		struct bdy_node *n = b->spare;
		b->spare = n->right;
		free(n);
	}
	free(b);
}

int buddy_free(struct buddy *b, uint64_t first, uint64_t n)
{
	struct bdy_node *prev;
	uint64_t off;
	int err;

	err = bdy_range_offset(b, first, n, &off);
	if (err)
		return err;
	/* I2: only the last block starting before the end can overlap the range. */
	prev = bdy_find_at_or_before(b, off + n - 1);
	if (prev && prev->off + bdy_size(prev->order) > off)
		return -EINVAL;
	err = bdy_reserve(b, bdy_count_blocks(off, n));
	if (err)
		return err;
	bdy_insert_range(b, off, n);
	return 0;
}

int buddy_alloc(struct buddy *b, uint64_t want, uint64_t *first, uint64_t *got)
{
	struct bdy_node *blk;
	unsigned order, blk_order;
	uint64_t off;
	int err;

	if (want == 0)
		return -EINVAL;
	if (!b->root)
		return -ENOSPC;
	order = PFS_MIN(bdy_floor_log2(want), (unsigned)BUDDY_MAX_ALLOC_ORDER);
	order = PFS_MIN(order, (unsigned)b->root->max_order); /* I3: the best that exists */
	blk = bdy_find_lowest_of_order(b, order);
	assert(blk != NULL);
	blk_order = blk->order;
	off = blk->off;
	/* Splitting 2^blk_order down to 2^order leaves one upper half per order. */
	err = bdy_reserve(b, blk_order - order);
	if (err)
		return err;
	bdy_remove_block(b, blk);
	for (unsigned o = order; o < blk_order; o++)
		bdy_insert_block(b, off + bdy_size(o), o);
	*first = b->base + off;
	*got = bdy_size(order);
	return 0;
}

int buddy_take(struct buddy *b, uint64_t first, uint64_t n)
{
	struct bdy_node *blk;
	uint64_t off, end, cur, head_off, tail_end;
	int err;

	err = bdy_range_offset(b, first, n, &off);
	if (err)
		return err;
	end = off + n;
	/* Every frame must be free: consecutive blocks must cover [off, end). */
	for (cur = off; cur < end; cur = blk->off + bdy_size(blk->order)) {
		blk = bdy_find_at_or_before(b, cur);
		if (!blk || blk->off + bdy_size(blk->order) <= cur)
			return -EINVAL;
	}
	blk = bdy_find_at_or_before(b, off);
	head_off = blk->off;
	tail_end = cur;         /* the end of the last covering block */
	err = bdy_reserve(b, (off > head_off ? bdy_count_blocks(head_off, off - head_off) : 0) +
			     (tail_end > end ? bdy_count_blocks(end, tail_end - end) : 0));
	if (err)
		return err;
	for (cur = off; cur < end; ) {
		blk = bdy_find_at_or_before(b, cur);
		cur = blk->off + bdy_size(blk->order);
		bdy_remove_block(b, blk);
	}
	/* Give back what the covering blocks held outside the range. */
	if (off > head_off)
		bdy_insert_range(b, head_off, off - head_off);
	if (tail_end > end)
		bdy_insert_range(b, end, tail_end - end);
	return 0;
}

bool buddy_is_free(const struct buddy *b, uint64_t frame)
{
	const struct bdy_node *blk;
	uint64_t off;

	if (frame < b->base || frame - b->base >= b->span)
		return false;
	off = frame - b->base;
	blk = bdy_find_at_or_before(b, off);
	return blk && off - blk->off < bdy_size(blk->order);
}

uint64_t buddy_free_frames(const struct buddy *b)
{
	return b->free_frames;
}

uint64_t buddy_free_blocks(const struct buddy *b)
{
	return b->nblocks;
}

struct bdy_walk {
	const struct buddy *b;
	int (*fn)(uint64_t first, uint64_t n, void *arg);
	void *arg;
	uint64_t lo, hi;                /* only free frames in [lo, hi), relative */
	uint64_t run_off, run_len;      /* the run being merged; run_len 0: none yet */
};

/*
 * In-order, skipping subtrees outside [lo, hi): blocks are disjoint and
 * ordered, so a left subtree ends at or before its parent's off, and a right
 * one starts at or after its parent's end.
 */
static int bdy_walk_node(struct bdy_walk *w, const struct bdy_node *n)
{
	int ret;

	if (!n)
		return 0;
	if (n->off > w->lo && (ret = bdy_walk_node(w, n->left)))
		return ret;
	uint64_t off = PFS_MAX(n->off, w->lo), end = PFS_MIN(n->off + bdy_size(n->order), w->hi);
	if (off < end) {
		if (w->run_len && w->run_off + w->run_len == off) {
			w->run_len += end - off;
		} else {
			if (w->run_len && (ret = w->fn(w->b->base + w->run_off, w->run_len, w->arg)))
				return ret;
			w->run_off = off;
			w->run_len = end - off;
		}
	}
	if (n->off + bdy_size(n->order) < w->hi)
		return bdy_walk_node(w, n->right);
	return 0;
}

static int bdy_walk(struct bdy_walk *w)
{
	int ret = bdy_walk_node(w, w->b->root);

	if (ret)
		return ret;
	if (w->run_len)
		return w->fn(w->b->base + w->run_off, w->run_len, w->arg);
	return 0;
}

int buddy_foreach_free(const struct buddy *b,
		       int (*fn)(uint64_t first, uint64_t n, void *arg), void *arg)
{
	struct bdy_walk w = { .b = b, .fn = fn, .arg = arg, .lo = 0, .hi = b->span };

	return bdy_walk(&w);
}

int buddy_foreach_free_in(const struct buddy *b, uint64_t first, uint64_t n,
			  int (*fn)(uint64_t first, uint64_t n, void *arg), void *arg)
{
	struct bdy_walk w = { .b = b, .fn = fn, .arg = arg };

	/* Clip to the allocator's range: frames outside it are never free. */
	uint64_t end = n > UINT64_MAX - first ? UINT64_MAX : first + n;
	if (first >= b->base + b->span || end <= b->base)
		return 0;
	w.lo = first > b->base ? first - b->base : 0;
	w.hi = PFS_MIN(end - b->base, b->span);
	return bdy_walk(&w);
}

/* ---- buddy_check ---- */

struct bdy_audit {
	const struct buddy *b;
	uint64_t frames, blocks;
	bool have_prev;
	uint64_t prev_end;
};

static int bdy_fail(const struct buddy *b, const char *why, uint64_t off, unsigned order)
{
	pfs_err("buddy [%llu, +%llu): %s (block at frame %llu, order %u)",
		(unsigned long long)b->base, (unsigned long long)b->span, why,
		(unsigned long long)(b->base + off), order);
	return -EUCLEAN;
}

static int bdy_audit_node(struct bdy_audit *a, const struct bdy_node *n)
{
	const struct buddy *b = a->b;
	unsigned hl, hr, mo;
	int err;

	if (!n)
		return 0;
	err = bdy_audit_node(a, n->left);
	if (err)
		return err;
	if (n->order > BDY_ORDER_LIMIT || n->off % bdy_size(n->order) != 0)
		return bdy_fail(b, "block not aligned to its size", n->off, n->order);
	if (n->off >= b->span || bdy_size(n->order) > b->span - n->off)
		return bdy_fail(b, "block outside the range", n->off, n->order);
	if (a->have_prev && n->off < a->prev_end)
		return bdy_fail(b, "blocks out of order or overlapping", n->off, n->order);
	if (n->order < BDY_ORDER_LIMIT) {
		const struct bdy_node *bud = bdy_find(b, n->off ^ bdy_size(n->order));
		if (bud && bud->order == n->order)
			return bdy_fail(b, "free buddies not merged", n->off, n->order);
	}
	hl = bdy_height(n->left);
	hr = bdy_height(n->right);
	if (n->height != 1 + PFS_MAX(hl, hr) || hl > hr + 1 || hr > hl + 1)
		return bdy_fail(b, "AVL height or balance wrong", n->off, n->order);
	mo = n->order;
	if (n->left)
		mo = PFS_MAX(mo, n->left->max_order);
	if (n->right)
		mo = PFS_MAX(mo, n->right->max_order);
	if (n->max_order != mo)
		return bdy_fail(b, "subtree max order wrong", n->off, n->order);
	a->have_prev = true;
	a->prev_end = n->off + bdy_size(n->order);
	a->frames += bdy_size(n->order);
	a->blocks++;
	return bdy_audit_node(a, n->right);
}

int buddy_check(const struct buddy *b)
{
	struct bdy_audit a = { .b = b };
	unsigned spares = 0;
	int err;

	err = bdy_audit_node(&a, b->root);
	if (err)
		return err;
	if (a.frames != b->free_frames || a.blocks != b->nblocks) {
		pfs_err("buddy [%llu, +%llu): counted %llu frames in %llu blocks, recorded %llu in %llu",
			(unsigned long long)b->base, (unsigned long long)b->span,
			(unsigned long long)a.frames, (unsigned long long)a.blocks,
			(unsigned long long)b->free_frames, (unsigned long long)b->nblocks);
		return -EUCLEAN;
	}
	for (const struct bdy_node *n = b->spare; n; n = n->right)
		spares++;
	if (spares != b->nspare || spares > BDY_SPARE_MAX) {
		pfs_err("buddy [%llu, +%llu): spare list holds %u nodes, recorded %u",
			(unsigned long long)b->base, (unsigned long long)b->span,
			spares, b->nspare);
		return -EUCLEAN;
	}
	return 0;
}
