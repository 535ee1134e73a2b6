/*
 * fsck_frames.c: the frame side of `pagerctl fsck`'s check: reference
 * counts against the pages that use each frame, the free-frame map against
 * the swap files and the page maps, and frames that are neither free nor
 * used (leaked). It notes the repair plan's share: counts to rewrite,
 * free-map entries to drop, frames to free. Read-only, like all the check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck.h"
#include "pagemap.h"

static int fk_cmp_ref(const void *a, const void *b)
{
	const struct fk_ref *x = a, *y = b;

	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

struct fk_refrec {
	uint64_t frame, count;
	bool damaged;
};

struct fk_refwalk {
	struct fsck *fk;
	struct fk_refrec *v;
	size_t n, cap;
	uint64_t listed;
	uint64_t frames_end; /* runs must end by here (fk_frames_end) */
};

static int fk_push_refrec(struct fk_refwalk *rw, struct fk_refrec r)
{
	if (fk_reserve((void **)&rw->v, &rw->cap, rw->n, sizeof(*rw->v)) < 0)
		return -ENOMEM;
	rw->v[rw->n++] = r;
	return 0;
}

/* The frames the swap files are recorded to hold end before this one (unknown: none). */
static uint64_t fk_frames_end(const struct fsck *fk)
{
	uint64_t end = 0;

	if (!fk->files_ok)
		return UINT64_MAX;
	for (unsigned i = 0; i < fk->nfiles; i++)
		end = PFS_MAX(end, fk->files[i].d.first_frame + fk->files[i].d.max_frames);
	return end;
}

/* A store older than schema 3, checked read-only: one record per shared frame. */
static int fk_ref_record_v2(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_refwalk *rw = arg;
	struct fsck *fk = rw->fk;

	if (klen != 8) {
		FK_LISTED(fk, rw->listed, true, "reference-count table: a record with a damaged key");
		return fk_push_key(fk, CAT_T_REFS, k, klen);
	}
	return fk_push_refrec(rw, (struct fk_refrec){ fk_be64(k), vlen == 8 ? fk_be64(v) : 0,
						      vlen != 8 || fk_be64(v) < 2 });
}

/* A run of frames sharing one count, listed frame by frame for the merge below. */
static int fk_ref_record(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_refwalk *rw = arg;
	struct fsck *fk = rw->fk;
	struct pmap_extent e;
	int rc;

	if (klen != 16 || fk_be64(k) != 0) {
		FK_LISTED(fk, rw->listed, true, "reference-count table: a record with a damaged key");
		return fk_push_key(fk, CAT_T_REFS, k, klen);
	}
	uint64_t first = fk_be64((const uint8_t *)k + 8);
	const char *bad = NULL;
	if (pmap_extent_decode(first, v, vlen, &e) < 0 || e.kind != PMAP_REF)
		bad = "is damaged";
	else if (rw->n && rw->v[rw->n - 1].frame >= first)
		bad = "overlaps the one before";
	else if (pmap_extent_end(&e) > rw->frames_end)
		bad = "runs past every swap file";
	if (bad) {
		/* Dropped: the merge then counts the frames it covered afresh. */
		FK_LISTED(fk, rw->listed, true, "frame %" PRIu64 ": the reference-count run there %s",
			  first, bad);
		return fk_push_key(fk, CAT_T_REFS, k, klen);
	}
	for (uint64_t f = first; f < pmap_extent_end(&e); f++)
		if ((rc = fk_push_refrec(rw, (struct fk_refrec){ f, e.base, false })) < 0)
			return rc;
	return 0;
}

/* "object 3 page 7, object 9 page 0 and 2 more" for a frame's referrers. */
static void fk_referrers(struct fsck *fk, size_t from, size_t to, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = from; i < to && i < from + 3 && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%sobject %" PRIu64 " page %" PRIu64 "%s",
					i > from ? ", " : "", fk->refs[i].obj, fk->refs[i].page,
					fk->refs[i].known ? "" : " (no record)");
	if (to - from > 3 && len < cap)
		snprintf(buf + len, cap - len, " and %zu more", to - from - 3);
}

int fk_check_refs(struct fsck *fk)
{
	struct fk_refwalk rw = { .fk = fk, .frames_end = fk_frames_end(fk) };
	bool v2 = cat_schema(fk->cat) < CAT_SCHEMA_REF_RUNS;
	size_t i = 0, r = 0;
	char who[512];
	int rc;

	if (fk->nrefs)
		qsort(fk->refs, fk->nrefs, sizeof(*fk->refs), fk_cmp_ref);
	rc = cat_walk(fk->txn, CAT_T_REFS, NULL, 0, v2 ? fk_ref_record_v2 : fk_ref_record, &rw);
	if (rc < 0) {
		free(rw.v);
		return rc;
	}
	/* Merge the distinct referenced frames with the count records, both in frame order. */
	while (i < fk->nrefs || r < rw.n) {
		uint64_t frame = i < fk->nrefs ? fk->refs[i].frame : UINT64_MAX;
		if (r < rw.n && rw.v[r].frame < frame)
			frame = rw.v[r].frame;
		size_t j = i;
		uint64_t all = 0, known = 0;
		while (j < fk->nrefs && fk->refs[j].frame == frame) {
			all++;
			known += fk->refs[j].known;
			j++;
		}
		struct fk_refrec *rec = r < rw.n && rw.v[r].frame == frame ? &rw.v[r++] : NULL;
		fk_referrers(fk, i, j, who, sizeof(who));
		if (rec && rec->damaged)
			FK_LISTED(fk, rw.listed, true, "frame %" PRIu64 ": damaged reference-count record", frame);
		else if (rec && all < 2)
			FK_LISTED(fk, rw.listed, true, "frame %" PRIu64 ": reference count %" PRIu64 ", but %s%s",
				  frame, rec->count, all ? "only one page uses it: " : "no page map uses it", who);
		else if (rec && rec->count != all)
			FK_LISTED(fk, rw.listed, true, "frame %" PRIu64 ": reference count %" PRIu64 ", but %" PRIu64
				  " pages use it: %s", frame, rec->count, all, who);
		else if (!rec && all >= 2)
			FK_LISTED(fk, rw.listed, true, "frame %" PRIu64 ": %" PRIu64 " pages use it (%s) but it "
				  "has no reference-count record", frame, all, who);
		/* The plan counts only pages that will remain: dangling extents go. */
		if ((rec && (rec->damaged || known < 2 || rec->count != known)) || (!rec && known >= 2)) {
			struct fk_refset s = { frame, known };
			if ((rc = FK_PUSH(fk, refsets, s)) < 0)
				break;
		}
		i = j;
	}
	fk_more(fk, rw.listed, "reference-count problems");
	free(rw.v);
	return rc < 0 ? rc : 0;
}

static int fk_push_run(struct fsck *fk, struct fk_run **v, size_t *n, size_t *cap, uint64_t first,
		       uint64_t cnt)
{
	if (*n && (*v)[*n - 1].first + (*v)[*n - 1].n == first) {
		(*v)[*n - 1].n += cnt;
		return 0;
	}
	if (fk_reserve((void **)v, cap, *n, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = (struct fk_run){ first, cnt };
	return 0;
}

#define FK_PUSH_RUN(fk, name, first, cnt) fk_push_run(fk, &(fk)->name, &(fk)->n##name, &(fk)->cap##name, first, cnt)

struct fk_freewalk {
	struct fsck *fk;
	uint64_t listed;
	bool damaged;
};

static int fk_free_record(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_freewalk *fw = arg;
	struct fsck *fk = fw->fk;
	struct pmap_extent e;

	if (klen != 16 || fk_be64(k) != 0 ||
	    pmap_extent_decode(fk_be64((const uint8_t *)k + 8), v, vlen, &e) < 0 || e.kind != PMAP_FREE) {
		fk_problem(fk, false, "free-frame map: a damaged record%s",
			   klen == 16 ? "" : " (damaged key)");
		fw->damaged = true;
		fk->leaks_unprovable = true;
		return 0;
	}
	if (fk->nfree && e.first < fk->free[fk->nfree - 1].first + fk->free[fk->nfree - 1].n) {
		fk_problem(fk, false, "free-frame map: runs overlap at frame %" PRIu64, e.first);
		fw->damaged = true;
	}
	/* Every free frame must lie in a swap file's recorded frames: store_open refuses others. */
	for (uint64_t pos = e.first, end = pmap_extent_end(&e); fk->files_ok && pos < end;) {
		struct fk_file *f = NULL;
		uint64_t next = end;
		for (unsigned i = 0; i < fk->nfiles; i++) {
			struct fk_file *g = &fk->files[i];
			if (pos >= g->d.first_frame && pos - g->d.first_frame < g->recorded)
				f = g;
			else if (g->d.first_frame > pos && g->d.first_frame < next)
				next = g->d.first_frame;
		}
		uint64_t stop = f ? PFS_MIN(end, f->d.first_frame + f->recorded) : next;
		if (!f) {
			FK_LISTED(fk, fw->listed, true, "free-frame map: frames %" PRIu64 "..%" PRIu64
				  " lie outside every swap file", pos, stop - 1);
			if (FK_PUSH_RUN(fk, unfree, pos, stop - pos) < 0)
				return -ENOMEM;
		}
		pos = stop;
	}
	struct fk_run run = { e.first, e.npages };
	return FK_PUSH(fk, free, run);
}

static int fk_cmp_run(const void *a, const void *b)
{
	const struct fk_run *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Frames that are in a swap file's recorded range but neither free nor
 * referenced. For the report every page map counts; for the plan only the
 * pages that stay (known objects) and the free map as it will be.
 */
static int fk_sweep(struct fsck *fk, bool plan, uint64_t *listed)
{
	struct fk_run *occ = NULL;
	size_t nocc = 0, capocc = 0, u = 0;
	int rc = 0;

	for (size_t i = 0; i < fk->nfree && rc == 0; i++) {
		uint64_t pos = fk->free[i].first, end = pos + fk->free[i].n;
		/* The plan drops the unfree runs (sorted) from the free map first. */
		while (plan && pos < end) {
			while (u < fk->nunfree && fk->unfree[u].first + fk->unfree[u].n <= pos)
				u++;
			if (u == fk->nunfree || fk->unfree[u].first >= end)
				break;
			if (fk->unfree[u].first > pos &&
			    (rc = fk_push_run(fk, &occ, &nocc, &capocc, pos, fk->unfree[u].first - pos)) < 0)
				break;
			pos = PFS_MIN(end, fk->unfree[u].first + fk->unfree[u].n);
		}
		if (rc == 0 && pos < end)
			rc = fk_push_run(fk, &occ, &nocc, &capocc, pos, end - pos);
	}
	for (size_t i = 0; i < fk->nrefs && rc == 0; i++)
		if (!plan || fk->refs[i].known)
			rc = fk_push_run(fk, &occ, &nocc, &capocc, fk->refs[i].frame, 1);
	if (rc < 0) {
		free(occ);
		return rc;
	}
	if (nocc)
		qsort(occ, nocc, sizeof(*occ), fk_cmp_run);
	for (unsigned f = 0; f < fk->nfiles && rc == 0; f++) {
		uint64_t a = fk->files[f].d.first_frame, b = a + fk->files[f].recorded, pos = a;
		size_t k = 0;
		while (pos < b && rc == 0) {
			while (k < nocc && occ[k].first + occ[k].n <= pos)
				k++;
			uint64_t gap_end = k < nocc ? PFS_MIN(b, PFS_MAX(occ[k].first, pos)) : b;
			if (gap_end > pos) {
				if (plan)
					rc = FK_PUSH_RUN(fk, leaked, pos, gap_end - pos);
				else
					FK_LISTED(fk, *listed, true, "frames %" PRIu64 "..%" PRIu64 " of %s are "
						  "neither free nor used by any page map (leaked)", pos,
						  gap_end - 1, fk->files[f].d.name);
				pos = gap_end;
			}
			if (k < nocc && occ[k].first <= pos)
				pos = PFS_MAX(pos, occ[k].first + occ[k].n);
			else if (k == nocc)
				break;
		}
	}
	free(occ);
	return rc;
}

int fk_check_frames(struct fsck *fk)
{
	struct fk_freewalk fw = { .fk = fk };
	uint64_t listed = 0, leaks = 0;
	int rc;

	if ((rc = cat_walk(fk->txn, CAT_T_FREE, NULL, 0, fk_free_record, &fw)) < 0)
		return rc;
	fk_more(fk, fw.listed, "free-map problems");
	if (!fw.damaged) {
		struct pmap_cat pc;
		struct extent_map fm = pmap_cat_map(&pc, fk->txn, CAT_T_FREE, 0);
		if (extent_check(&fm) < 0)
			fk_problem(fk, false, "free-frame map: not well-formed (overlapping, empty or unmerged runs)");
	}
	/* A frame both free and in use: drop it from the free map, never from the page map. */
	size_t f = 0;
	for (size_t i = 0; i < fk->nrefs; i++) {
		uint64_t frame = fk->refs[i].frame;
		if (i && fk->refs[i - 1].frame == frame)
			continue;
		while (f < fk->nfree && fk->free[f].first + fk->free[f].n <= frame)
			f++;
		if (f < fk->nfree && fk->free[f].first <= frame) {
			char d[1200];
			FK_LISTED(fk, listed, true, "frame %" PRIu64 " is in the free map, but %s page %" PRIu64
				  " uses it", frame, fk_obj_desc(fk, fk->refs[i].obj, d, sizeof(d)),
				  fk->refs[i].page);
			if ((rc = FK_PUSH_RUN(fk, unfree, frame, 1)) < 0)
				return rc;
		}
	}
	fk_more(fk, listed, "frames both free and in use");
	if (fk->nunfree)
		qsort(fk->unfree, fk->nunfree, sizeof(*fk->unfree), fk_cmp_run);
	if (!fk->files_ok)
		return 0;
	if ((rc = fk_sweep(fk, false, &leaks)) < 0)
		return rc;
	fk_more(fk, leaks, "leaked frame runs");
	if (fk->leaks_unprovable)
		return 0; /* an unreadable map may use any frame: free none */
	return fk_sweep(fk, true, NULL);
}
