/*
 * pagemap.c: the catalogue as an extent store.
 *
 * Adapts the catalogue's ordered tables to extent.c's four primitives and
 * defines the extent record. It must never edit a map itself (that is
 * extent_set's job) nor interpret what a frame or file page holds; the
 * reference counts at the end only say which count each run gets.
 */
#include <stdlib.h>
#include <xxhash.h>
#include "codec.h"
#include "pagemap.h"

#define PMAP_REC_VERSION 1
#define PMAP_SEAL_SEED 0x65787473u /* "exts" */
#define PMAP_HDR (1 + 1 + 8 + 8)   /* version, kind, npages, base */

static void pm_key(uint8_t key[16], uint64_t owner, uint64_t first)
{
	codec_put_be64(key, owner);
	codec_put_be64(key + 8, first);
}

int pmap_extent_encode(const struct pmap_extent *e, void *buf, size_t cap)
{
	struct codec_writer w;

	if (!extent_valid(e) || (e->kind == PMAP_SWAP && e->npages > PMAP_SWAP_RUN_MAX))
		return -EINVAL;
	codec_writer_init(&w, buf, cap);
	codec_put_u8(&w, PMAP_REC_VERSION);
	codec_put_u8(&w, e->kind);
	codec_put_u64(&w, e->npages);
	codec_put_u64(&w, e->base);
	if (e->kind == PMAP_SWAP)
		codec_put_bytes(&w, e->sums, (size_t)e->npages * 8);
	if (w.overflow)
		return -EOVERFLOW;
	codec_put_u32(&w, XXH32(w.buf, w.len, PMAP_SEAL_SEED));
	return w.overflow ? -EOVERFLOW : (int)w.len;
}

int pmap_extent_decode(uint64_t first, const void *buf, size_t len, struct pmap_extent *e)
{
	struct codec_reader r;
	struct pmap_extent d = { .first = first };
	const uint8_t *p = buf;

	if (len < PMAP_HDR + 4)
		return -EINVAL;
	uint32_t seal = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
			(uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
	if (seal != XXH32(buf, len - 4, PMAP_SEAL_SEED))
		return -EINVAL;
	codec_reader_init(&r, buf, len - 4);
	if (codec_get_u8(&r) != PMAP_REC_VERSION)
		return -EINVAL;
	d.kind = codec_get_u8(&r);
	d.npages = codec_get_u64(&r);
	d.base = codec_get_u64(&r);
	if (d.kind == PMAP_SWAP) {
		if (d.npages == 0 || d.npages > PMAP_SWAP_RUN_MAX)
			return -EINVAL;
		d.sums = codec_get_bytes(&r, (size_t)d.npages * 8);
	}
	if (!codec_reader_done(&r) || !extent_valid(&d) || d.kind == PMAP_ZERO)
		return -EINVAL;
	*e = d;
	return 0;
}

/* Decode a found record, checking that it belongs to our owner. */
static int pm_found(struct pmap_cat *pc, const void *k, size_t klen, const void *v, size_t vlen,
		    struct pmap_extent *out)
{
	if (klen != 16)
		return -EINVAL;
	if (codec_get_be64(k) != pc->owner)
		return -ENOENT;
	return pmap_extent_decode(codec_get_be64((const uint8_t *)k + 8), v, vlen, out);
}

static int pm_find_le(void *store, uint64_t page, struct pmap_extent *out)
{
	struct pmap_cat *pc = store;
	uint8_t key[16];
	const void *k = NULL, *v = NULL;
	size_t klen = 0, vlen = 0;
	int rc;

	pm_key(key, pc->owner, page);
	rc = cat_seek_le(pc->txn, pc->table, key, sizeof(key), &k, &klen, &v, &vlen);
	if (rc < 0)
		return rc;
	return pm_found(pc, k, klen, v, vlen, out);
}

static int pm_find_ge(void *store, uint64_t page, struct pmap_extent *out)
{
	struct pmap_cat *pc = store;
	uint8_t key[16];
	const void *k = NULL, *v = NULL;
	size_t klen = 0, vlen = 0;
	int rc;

	pm_key(key, pc->owner, page);
	rc = cat_seek_ge(pc->txn, pc->table, key, sizeof(key), &k, &klen, &v, &vlen);
	if (rc < 0)
		return rc;
	return pm_found(pc, k, klen, v, vlen, out);
}

static int pm_put(void *store, const struct pmap_extent *e)
{
	struct pmap_cat *pc = store;
	uint8_t key[16];
	uint8_t buf[PMAP_HDR + PMAP_SWAP_RUN_MAX * 8 + 4];
	int len = pmap_extent_encode(e, buf, sizeof(buf));

	if (len < 0)
		return len;
	pm_key(key, pc->owner, e->first);
	return cat_put(pc->txn, pc->table, key, sizeof(key), buf, (size_t)len);
}

static int pm_del(void *store, uint64_t first)
{
	struct pmap_cat *pc = store;
	uint8_t key[16];

	pm_key(key, pc->owner, first);
	return cat_del(pc->txn, pc->table, key, sizeof(key));
}

const struct extent_ops pmap_cat_ops = {
	.find_le = pm_find_le,
	.find_ge = pm_find_ge,
	.put = pm_put,
	.del = pm_del,
	.store_zero = false,
};

int pmap_lookup(struct cat_txn *txn, uint64_t obj, uint64_t page, struct pmap_extent *out)
{
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_EXTENTS, obj);

	return extent_lookup(&m, page, out);
}

int pmap_set(struct cat_txn *txn, uint64_t obj, const struct pmap_extent *e,
	     extent_drop_fn drop, void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_EXTENTS, obj);

	return extent_set(&m, e, drop, arg);
}

int pmap_foreach(struct cat_txn *txn, uint64_t obj, uint64_t first, uint64_t n, bool skip_holes,
		 int (*fn)(const struct pmap_extent *piece, void *arg), void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_EXTENTS, obj);

	return extent_foreach(&m, first, n, skip_holes, fn, arg);
}

static int pm_count_one(const struct pmap_extent *piece, void *arg)
{
	struct pmap_counts *c = arg;

	if (piece->kind == PMAP_FILE)
		c->file += piece->npages;
	else if (piece->kind == PMAP_SWAP)
		c->swap += piece->npages;
	else if (piece->kind == PMAP_RSV)
		c->reserved += piece->npages;
	return 0;
}

int pmap_count(struct cat_txn *txn, uint64_t obj, uint64_t npages, struct pmap_counts *c)
{
	int rc;

	*c = (struct pmap_counts){ 0 };
	rc = pmap_foreach(txn, obj, 0, npages, true, pm_count_one, c);
	if (rc < 0)
		return rc;
	c->zero = npages - c->file - c->swap - c->reserved;
	return 0;
}

int pmap_delete_all(struct cat_txn *txn, uint64_t obj, extent_drop_fn drop, void *arg)
{
	struct pmap_extent all = { .first = 0, .npages = UINT64_MAX, .kind = PMAP_ZERO };

	return pmap_set(txn, obj, &all, drop, arg);
}

struct pm_records {
	uint64_t owner, n;
};

static int pm_records_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct pm_records *pr = arg;

	if (klen != 16 || codec_get_be64(key) != pr->owner)
		return 1;
	pr->n++;
	return 0;
}

int pmap_records(struct cat_txn *txn, uint64_t obj, uint64_t *n)
{
	uint8_t key[16];
	struct pm_records pr = { obj, 0 };
	int rc;

	pm_key(key, obj, 0);
	rc = cat_walk(txn, CAT_T_EXTENTS, key, sizeof(key), pm_records_one, &pr);
	if (rc < 0)
		return rc;
	*n = pr.n;
	return 0;
}

/* ---- reference counts ---- */

static struct extent_map pm_ref_map(struct pmap_cat *pc, struct cat_txn *txn)
{
	return pmap_cat_map(pc, txn, CAT_T_REFS, 0);
}

/* The run of equal counts around frame, clipped to [frame, end): count 1 where no record. */
static int pm_ref_piece(struct extent_map *m, uint64_t frame, uint64_t end, struct pmap_extent *piece,
			uint64_t *count)
{
	struct pmap_extent x;
	int rc = extent_lookup(m, frame, &x);

	if (rc < 0)
		return rc;
	if (rc == 0 && x.kind != PMAP_REF)
		return -EINVAL;
	*piece = extent_clip(&x, frame, end);
	*count = rc == 1 ? 1 : x.base;
	return 0;
}

static int pm_ref_put(struct extent_map *m, uint64_t first, uint64_t n, uint64_t count)
{
	struct pmap_extent e = { first, n, count > 1 ? PMAP_REF : PMAP_ZERO, count > 1 ? count : 0, NULL };

	return extent_set(m, &e, NULL, NULL);
}

int pmap_ref_get(struct cat_txn *txn, uint64_t frame, uint64_t *count)
{
	struct pmap_cat pc;
	struct extent_map m = pm_ref_map(&pc, txn);
	struct pmap_extent piece;

	if (frame == UINT64_MAX)
		return -EINVAL;
	return pm_ref_piece(&m, frame, frame + 1, &piece, count);
}

int pmap_ref_set(struct cat_txn *txn, uint64_t first, uint64_t n, uint64_t count)
{
	struct pmap_cat pc;
	struct extent_map m = pm_ref_map(&pc, txn);

	if (n == 0 || pfs_range_overflows(first, n))
		return -EINVAL;
	return pm_ref_put(&m, first, n, count);
}

/* Add delta (+1 or -1) to the count of every frame in the run, a run of equal counts at a time. */
static int pm_ref_change(struct cat_txn *txn, uint64_t first, uint64_t n, int delta,
			 int (*freed)(void *arg, uint64_t first, uint64_t n), void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pm_ref_map(&pc, txn);
	uint64_t pos = first, end = first + n;
	int rc;

	if (n == 0 || pfs_range_overflows(first, n))
		return -EINVAL;
	while (pos < end) {
		struct pmap_extent piece;
		uint64_t count;
		if ((rc = pm_ref_piece(&m, pos, end, &piece, &count)) < 0)
			return rc;
		if (delta > 0 && count == UINT64_MAX)
			return -EOVERFLOW;
		if (delta < 0 && count == 1) {
			/* No record, so nothing to change: these frames are unused now. */
			if (freed && (rc = freed(arg, piece.first, piece.npages)) < 0)
				return rc;
		} else if ((rc = pm_ref_put(&m, piece.first, piece.npages,
					    delta > 0 ? count + 1 : count - 1)) < 0) {
			return rc;
		}
		/* Changes stay within the piece (merges only join neighbours), so the rest reads as before. */
		pos = pmap_extent_end(&piece);
	}
	return 0;
}

int pmap_ref_add(struct cat_txn *txn, uint64_t first, uint64_t n)
{
	return pm_ref_change(txn, first, n, 1, NULL, NULL);
}

int pmap_ref_drop(struct cat_txn *txn, uint64_t first, uint64_t n,
		  int (*freed)(void *arg, uint64_t first, uint64_t n), void *arg)
{
	return pm_ref_change(txn, first, n, -1, freed, arg);
}

struct pm_ref_walk {
	int (*fn)(uint64_t first, uint64_t n, uint64_t count, void *arg);
	void *arg;
};

static int pm_ref_walk_one(const struct pmap_extent *piece, void *arg)
{
	struct pm_ref_walk *w = arg;

	if (piece->kind != PMAP_REF)
		return -EINVAL;
	return w->fn(piece->first, piece->npages, piece->base, w->arg);
}

int pmap_ref_foreach(struct cat_txn *txn,
		     int (*fn)(uint64_t first, uint64_t n, uint64_t count, void *arg), void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pm_ref_map(&pc, txn);
	struct pm_ref_walk w = { fn, arg };

	return extent_foreach(&m, 0, UINT64_MAX, true, pm_ref_walk_one, &w);
}
