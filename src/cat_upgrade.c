/*
 * cat_upgrade.c: bringing an older store's records to this build's schema.
 *
 * catalogue.c calls this in the transaction that opens a store for writing,
 * before the new version is recorded; a failure leaves the store as it was.
 * Schema 1 differs from 2 only in object records, which still decode, so it
 * needs nothing here. Schemas 1 and 2 kept one reference-count record per
 * shared frame (key: the frame, 8 bytes; value: the count, 8 bytes, >= 2);
 * schema 3 keeps runs (pagemap.h), whose keys are 16 bytes, so the two never
 * collide and a record of neither shape is left for fsck to report.
 */
#include <stdlib.h>
#include "codec.h"
#include "pagemap.h"

struct cu_old_ref {
	uint64_t frame, count;
};

struct cu_refs {
	struct cu_old_ref *v;
	size_t n, cap;
};

static int cu_collect(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct cu_refs *r = arg;

	if (klen != 8 || vlen != 8 || codec_get_be64(v) < 2)
		return 0; /* a new run, or damage: not ours to judge */
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct cu_old_ref *nv = realloc(r->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n++] = (struct cu_old_ref){ codec_get_be64(k), codec_get_be64(v) };
	return 0;
}

int cat_upgrade_refs(struct cat_txn *txn)
{
	struct cu_refs r = { 0 };
	uint8_t key[8];
	int rc = cat_walk(txn, CAT_T_REFS, NULL, 0, cu_collect, &r);

	/* Delete them all first: the runs' keys sort among them. */
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		codec_put_be64(key, r.v[i].frame);
		rc = cat_del(txn, CAT_T_REFS, key, sizeof(key));
	}
	/* In frame order, so each run grows at its end (extent_set merges). */
	for (size_t i = 0; rc == 0 && i < r.n; i++)
		rc = pmap_ref_set(txn, r.v[i].frame, 1, r.v[i].count);
	free(r.v);
	return rc;
}
