/*
 * fsck_check.c: the invariants `pagerctl fsck` checks over a stopped store's
 * catalogue, and the repair plan it notes on the way (fsck.h).
 *
 * The invariants are store_check.c's, recomputed here from the catalogue
 * alone because store_open would take the store's lock exclusively and may
 * write (it creates missing swap files and records): a check must change
 * nothing. Beyond store_check it decodes every record on its own, so one
 * damaged record is reported where it is instead of ending the walk, and it
 * checks names, parents and controls against the objects. It must never
 * write, and never stop at the first problem.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fsck.h"
#include "pagemap.h"

int fk_reserve(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

void fk_problem(struct fsck *fk, bool repairable, const char *fmt, ...)
{
	va_list ap;

	fk->problems++;
	fk->repairable += repairable;
	fk_progress_clear(fk);
	fprintf(fk->c->out, "%s: ", fk->store);
	va_start(ap, fmt);
	vfprintf(fk->c->out, fmt, ap);
	va_end(ap);
	fprintf(fk->c->out, "%s\n", repairable ? " [repairable]" : "");
}

void fk_note(struct fsck *fk, bool always, const char *fmt, ...)
{
	va_list ap;

	if (!always && !fk->verbose)
		return;
	fk_progress_clear(fk);
	fprintf(fk->c->out, "%s: ", fk->store);
	va_start(ap, fmt);
	vfprintf(fk->c->out, fmt, ap);
	va_end(ap);
	fputc('\n', fk->c->out);
}

void fk_more(struct fsck *fk, uint64_t counter, const char *what)
{
	if (counter > FK_LIST_MAX && !fk->verbose)
		fk_note(fk, true, "... and %" PRIu64 " more %s (pagerctl fsck -v lists them all)",
			counter - FK_LIST_MAX, what);
}

struct fk_obj *fk_find_obj(struct fsck *fk, uint64_t id)
{
	size_t lo = 0, hi = fk->nobjs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fk->objs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fk->nobjs && fk->objs[lo].id == id ? &fk->objs[lo] : NULL;
}

struct cat_memctl *fk_find_mc(struct fsck *fk, uint64_t id)
{
	size_t lo = 0, hi = fk->nmcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fk->mcs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fk->nmcs && fk->mcs[lo].id == id ? &fk->mcs[lo] : NULL;
}

/* "/a/b" for a named object, from its parents' names. */
static bool fk_path(struct fsck *fk, const struct fk_obj *o, char *buf, size_t cap)
{
	const char *parts[64];
	size_t n = 0, len = 0;

	while (o && o->id != CAT_ROOT_ID) {
		if (!o->named || n == 64)
			return false;
		parts[n++] = o->name;
		o = fk_find_obj(fk, o->parent);
	}
	if (!o)
		return false;
	buf[0] = '\0';
	if (n == 0)
		snprintf(buf, cap, "/");
	while (n-- > 0 && len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "/%s", parts[n]);
	return true;
}

const char *fk_obj_desc(struct fsck *fk, uint64_t id, char *buf, size_t cap)
{
	struct fk_obj *o = fk_find_obj(fk, id);
	char path[1024];

	if (!o)
		snprintf(buf, cap, "object %" PRIu64 " (no record)", id);
	else if (fk_path(fk, o, path, sizeof(path)))
		snprintf(buf, cap, "%s %" PRIu64 " (%s)", o->kind == CAT_KIND_DIR ? "directory" : "object",
			 id, path);
	else
		snprintf(buf, cap, "%s %" PRIu64 " ('%s', unreachable)",
			 o->kind == CAT_KIND_DIR ? "directory" : "object", id, o->name);
	return buf;
}

/* ---- objects, controls, names ---- */

struct fk_walk {
	struct fsck *fk;
	struct cat_object *scratch;
	uint64_t done, total;
	uint64_t owner;
	bool have_owner;
	struct fk_obj *o;
	uint64_t dangling, prev_end;
	bool prev_valid;
	uint64_t listed;
};

static int fk_load_object(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_walk *w = arg;
	struct fsck *fk = w->fk;
	struct cat_object *o = w->scratch;

	if (klen != 8) {
		fk_problem(fk, false, "object table: a record with a damaged key");
		return 0;
	}
	if (cat_object_decode(v, vlen, o) < 0 || o->id != fk_be64(k)) {
		fk_problem(fk, false, "object %" PRIu64 ": damaged record (it cannot be decoded)",
			   fk_be64(k));
		return 0;
	}
	struct fk_obj fo = { .id = o->id, .parent = o->parent, .memctl = o->memctl,
			     .size_bytes = o->size_bytes, .kind = o->kind, .segtype = o->segtype,
			     .flags = o->flags, .name = strdup(o->name),
			     .extra_links = o->extra_links };
	if (!fo.name || FK_PUSH(fk, objs, fo) < 0) {
		free(fo.name);
		return -ENOMEM;
	}
	return 0;
}

static int fk_load_memctl(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_walk *w = arg;
	struct fsck *fk = w->fk;
	struct cat_memctl m;

	if (klen != 8 || cat_memctl_get(fk->txn, fk_be64(k), &m) < 0) {
		fk_problem(fk, false, "memory control %" PRIu64 ": damaged record",
			   klen == 8 ? fk_be64(k) : 0);
		return 0;
	}
	return FK_PUSH(fk, mcs, m);
}

int fk_push_key(struct fsck *fk, enum cat_table t, const void *k, size_t klen)
{
	struct fk_key key = { .table = t, .len = klen };

	if (klen > sizeof(key.bytes))
		return 0; /* cannot be one of ours; leave it */
	memcpy(key.bytes, k, klen);
	return FK_PUSH(fk, dropkeys, key);
}

static int fk_name(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_walk *w = arg;
	struct fsck *fk = w->fk;
	char name[CAT_NAME_MAX + 1], d1[1200], d2[1200];
	struct fk_obj *o, *p;
	uint64_t parent, id;

	fk->n_names++;
	if (klen <= 8 || klen > 8 + CAT_NAME_MAX || vlen != 8 || fk_be64(v) == 0) {
		FK_LISTED(fk, w->listed, true, "name table: a damaged name record");
		return fk_push_key(fk, CAT_T_NAMES, k, klen);
	}
	parent = fk_be64(k);
	id = fk_be64(v);
	memcpy(name, (const uint8_t *)k + 8, klen - 8);
	name[klen - 8] = '\0';
	p = fk_find_obj(fk, parent);
	if (!(o = fk_find_obj(fk, id))) {
		FK_LISTED(fk, w->listed, true, "name '%s' in %s points at object %" PRIu64
			  ", which has no record", name, fk_obj_desc(fk, parent, d1, sizeof(d1)), id);
		return fk_push_key(fk, CAT_T_NAMES, k, klen);
	}
	/* Code objects sharing a text have several names; the record keeps one of them. */
	if (o->names++ == 1 + (uint64_t)o->extra_links)
		fk_problem(fk, false, "object %" PRIu64 " has more names than its record counts "
			   "(%" PRIu64 "; another is '%s')", id, 1 + (uint64_t)o->extra_links, name);
	o->named = true;
	if (o->parent == parent && strcmp(o->name, name) == 0)
		o->record_named = true;
	if (!p || p->kind != CAT_KIND_DIR)
		fk_problem(fk, false, "name '%s' lies in %s, which is not a directory", name,
			   fk_obj_desc(fk, parent, d2, sizeof(d2)));
	return 0;
}

static void fk_check_objects(struct fsck *fk)
{
	char d[1200];
	struct fk_obj *root = fk_find_obj(fk, CAT_ROOT_ID);

	if (fk->nobjs && (!root || root->kind != CAT_KIND_DIR))
		fk_problem(fk, false, "the root directory (object 1) %s",
			   root ? "is not a directory" : "has no record");
	for (size_t i = 0; i < fk->nobjs; i++) {
		struct fk_obj *o = &fk->objs[i], *p;
		struct cat_memctl *mc;

		if (o->id != CAT_ROOT_ID && fk->next_id && o->id >= fk->next_id)
			fk_problem(fk, false, "%s: id at or past the next id to hand out (%" PRIu64
				   "): ids would be reused", fk_obj_desc(fk, o->id, d, sizeof(d)), fk->next_id);
		if (o->id != CAT_ROOT_ID) {
			p = fk_find_obj(fk, o->parent);
			if (!p || p->kind != CAT_KIND_DIR) {
				fk_problem(fk, false, "%s: its parent %" PRIu64 " is not a directory",
					   fk_obj_desc(fk, o->id, d, sizeof(d)), o->parent);
			} else {
				/* Parents must lead to the root: no cycles. */
				size_t steps = 0;
				for (struct fk_obj *q = p; q && q->id != CAT_ROOT_ID; q = fk_find_obj(fk, q->parent))
					if (++steps > fk->nobjs) {
						fk_problem(fk, false, "object %" PRIu64 ": its parents form a cycle", o->id);
						break;
					}
			}
			if (o->named && !o->record_named)
				fk_problem(fk, false, "%s: its record calls it '%s' in directory %" PRIu64
					   ", a name that does not lead to it", fk_obj_desc(fk, o->id, d, sizeof(d)),
					   o->name, o->parent);
			else if (o->named && o->names < 1 + (uint64_t)o->extra_links)
				fk_problem(fk, false, "%s has %" PRIu32 " names, but its record counts %" PRIu64,
					   fk_obj_desc(fk, o->id, d, sizeof(d)), o->names,
					   1 + (uint64_t)o->extra_links);
			if (!o->named && o->kind == CAT_KIND_FILE) {
				fk_problem(fk, true, "object %" PRIu64 " ('%s') has no name: nothing can reach it "
					   "(unlinked while open and never destroyed)", o->id, o->name);
				FK_PUSH(fk, orphans, o->id);
			} else if (!o->named) {
				fk_problem(fk, false, "directory %" PRIu64 " ('%s') has no name", o->id, o->name);
			}
		}
		if (o->kind == CAT_KIND_FILE) {
			if (!(mc = fk_find_mc(fk, o->memctl)))
				fk_problem(fk, false, "%s is charged to memory control %" PRIu64
					   ", which has no record", fk_obj_desc(fk, o->id, d, sizeof(d)), o->memctl);
			else if (o->memctl != o->parent)
				fk_problem(fk, false, "%s is charged to memory control %" PRIu64
					   ", not to its directory's (%" PRIu64 ")",
					   fk_obj_desc(fk, o->id, d, sizeof(d)), o->memctl, o->parent);
		} else if (!(mc = fk_find_mc(fk, o->id))) {
			fk_problem(fk, false, "%s has no memory control record",
				   fk_obj_desc(fk, o->id, d, sizeof(d)));
		} else if (o->id != CAT_ROOT_ID && mc->parent != o->parent) {
			fk_problem(fk, false, "%s: its memory control's parent is %" PRIu64
				   ", its directory's parent %" PRIu64,
				   fk_obj_desc(fk, o->id, d, sizeof(d)), mc->parent, o->parent);
		}
	}
}

/* ---- page maps ---- */

static int fk_add_ref(struct fsck *fk, uint64_t frame, uint64_t obj, uint64_t page, bool known)
{
	struct fk_ref r = { frame, obj, page, known };
	return FK_PUSH(fk, refs, r);
}

/* The file holding frames [frame, frame + n) within its recorded length, or NULL. */
struct fk_file *fk_file_of(struct fsck *fk, uint64_t frame, uint64_t n)
{
	for (unsigned i = 0; i < fk->nfiles; i++) {
		struct fk_file *f = &fk->files[i];
		if (frame >= f->d.first_frame && frame - f->d.first_frame <= f->recorded &&
		    n <= f->recorded - (frame - f->d.first_frame))
			return f;
	}
	return NULL;
}

static void fk_owner_done(struct fk_walk *w)
{
	struct fsck *fk = w->fk;

	if (w->have_owner && !w->o && w->dangling)
		fk_problem(fk, true, "object %" PRIu64 " has no record, but %" PRIu64
			   " page-map extent record%s of it remain%s", w->owner, w->dangling,
			   w->dangling == 1 ? "" : "s", w->dangling == 1 ? "s" : "");
	w->dangling = 0;
	w->prev_valid = false;
}

static int fk_extent(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct fk_walk *w = arg;
	struct fsck *fk = w->fk;
	struct pmap_extent e;
	char d[1200];
	int rc;

	fk_progress(fk, "reading page maps", ++w->done, w->total);
	fk->n_extents++;
	if (klen != 16) {
		fk_problem(fk, true, "extent table: a record with a damaged key");
		return fk_push_key(fk, CAT_T_EXTENTS, k, klen);
	}
	uint64_t owner = fk_be64(k), first = fk_be64((const uint8_t *)k + 8);
	if (!w->have_owner || owner != w->owner) {
		fk_owner_done(w);
		w->owner = owner;
		w->have_owner = true;
		w->o = fk_find_obj(fk, owner);
		if ((rc = FK_PUSH(fk, owners, owner)) < 0)
			return rc;
	}
	struct fk_obj *o = w->o;
	if (!o) {
		w->dangling++;
		if (pmap_extent_decode(first, v, vlen, &e) == 0 && e.kind == PMAP_SWAP)
			for (uint64_t i = 0; i < e.npages; i++)
				if ((rc = fk_add_ref(fk, e.base + i, owner, first + i, false)) < 0)
					return rc;
		return fk_push_key(fk, CAT_T_EXTENTS, k, klen);
	}
	if (pmap_extent_decode(first, v, vlen, &e) < 0) {
		fk_problem(fk, false, "%s page %" PRIu64 ": damaged page-map extent record",
			   fk_obj_desc(fk, owner, d, sizeof(d)), first);
		o->bad_extents = true;
		fk->leaks_unprovable = true;
		return 0;
	}
	uint64_t end = pmap_extent_end(&e), last = end - 1;
	if (o->kind != CAT_KIND_FILE)
		fk_problem(fk, false, "%s has page-map extents (page %" PRIu64 ")",
			   fk_obj_desc(fk, owner, d, sizeof(d)), first);
	if (e.kind == PMAP_FREE || e.kind == PMAP_REF)
		fk_problem(fk, false, "%s pages %" PRIu64 "..%" PRIu64 ": a %s run in a page map",
			   fk_obj_desc(fk, owner, d, sizeof(d)), first, last,
			   e.kind == PMAP_FREE ? "free-frame" : "reference-count");
	if (e.kind == PMAP_FILE && !(o->flags & CAT_F_BACKING))
		fk_problem(fk, false, "%s pages %" PRIu64 "..%" PRIu64 ": file pages, but it has no backing file",
			   fk_obj_desc(fk, owner, d, sizeof(d)), first, last);
	if (w->prev_valid && first < w->prev_end)
		fk_problem(fk, false, "%s page %" PRIu64 ": extents overlap",
			   fk_obj_desc(fk, owner, d, sizeof(d)), first);
	w->prev_end = end;
	w->prev_valid = true;
	uint64_t npages = pfs_bytes_to_pages(o->size_bytes);
	if (end > npages)
		fk->n_past_end += end - PFS_MAX(first, npages);
	if (e.kind == PMAP_RSV) {
		o->swap_pages += e.npages; /* reserved swap: charged, no frame yet */
		return 0;
	}
	if (e.kind != PMAP_SWAP)
		return 0;
	o->swap_pages += e.npages;
	fk->n_swap_pages += e.npages;
	for (uint64_t i = 0; i < e.npages; i++)
		if ((rc = fk_add_ref(fk, e.base + i, owner, first + i, true)) < 0)
			return rc;
	if (fk->files_ok && !fk_file_of(fk, e.base, e.npages)) {
		fk_problem(fk, false, "%s pages %" PRIu64 "..%" PRIu64 ": frames %" PRIu64 "..%" PRIu64
			   " lie outside what the swap files hold", fk_obj_desc(fk, owner, d, sizeof(d)),
			   first, last, e.base, e.base + e.npages - 1);
		return 0;
	}
	struct fk_swapext sx = { owner, first, e.npages, e.base };
	return FK_PUSH(fk, sx, sx);
}

static void fk_check_maps(struct fsck *fk)
{
	char d[1200];

	for (size_t i = 0; i < fk->nowners; i++) {
		struct fk_obj *o = fk_find_obj(fk, fk->owners[i]);
		struct pmap_cat pc;
		struct extent_map m;

		if (!o || o->bad_extents)
			continue; /* reported already */
		m = pmap_cat_map(&pc, fk->txn, CAT_T_EXTENTS, o->id);
		if (extent_check(&m) < 0)
			fk_problem(fk, false, "%s: its page map is not well-formed (overlapping, empty, "
				   "oversized or unmerged extents)", fk_obj_desc(fk, o->id, d, sizeof(d)));
	}
}

/* ---- memory controls ---- */

/* The nearest ancestor-or-self with a quota (the root has one), or NULL on a broken chain. */
static struct cat_memctl *fk_quota_owner(struct fsck *fk, struct cat_memctl *m, bool self)
{
	size_t steps = 0;

	if (!self)
		m = fk_find_mc(fk, m->parent);
	while (m && !(m->flags & CAT_MC_QUOTA) && m->id != CAT_ROOT_ID && steps++ <= fk->nmcs)
		m = fk_find_mc(fk, m->parent);
	return m && steps <= fk->nmcs ? m : NULL;
}

static int fk_check_memctls(struct fsck *fk)
{
	uint64_t *objpages = calloc(fk->nmcs + 1, sizeof(uint64_t));
	uint64_t *subq = calloc(fk->nmcs + 1, sizeof(uint64_t));
	uint64_t *used = calloc(fk->nmcs + 1, sizeof(uint64_t));
	bool *busy = calloc(fk->nmcs + 1, sizeof(bool));
	char d[1200], a[16], b[16];

	if (!objpages || !subq || !used || !busy) {
		free(objpages);
		free(subq);
		free(used);
		free(busy);
		return -ENOMEM;
	}
	if (fk->nobjs && !fk_find_mc(fk, CAT_ROOT_ID))
		fk_problem(fk, false, "the root memory control (1) has no record");
	for (size_t i = 0; i < fk->nobjs; i++) {
		struct cat_memctl *m = fk_find_mc(fk, fk->objs[i].memctl);
		if (m && fk->objs[i].kind == CAT_KIND_FILE) {
			objpages[m - fk->mcs] += fk->objs[i].swap_pages;
			busy[m - fk->mcs] = true;
		}
	}
	for (size_t i = 0; i < fk->nmcs; i++) {
		struct cat_memctl *m = &fk->mcs[i], *p = fk_find_mc(fk, m->parent);
		if (m->id != CAT_ROOT_ID && p)
			busy[p - fk->mcs] = true; /* a control with children is in use */
	}
	for (size_t i = 0; i < fk->nmcs; i++) {
		struct cat_memctl *m = &fk->mcs[i];
		struct fk_obj *dir = fk_find_obj(fk, m->id);
		if (m->id == CAT_ROOT_ID) {
			if (m->parent != 0 || !(m->flags & CAT_MC_QUOTA))
				fk_problem(fk, false, "the root memory control has a parent or no guarantee");
		} else if (!fk_find_mc(fk, m->parent)) {
			fk_problem(fk, false, "memory control %" PRIu64 ": its parent %" PRIu64 " has no record",
				   m->id, m->parent);
		}
		if (!dir || dir->kind != CAT_KIND_DIR) {
			bool idle = m->charged_frames == 0 && !busy[i] && m->id != CAT_ROOT_ID;
			fk_problem(fk, idle, "memory control %" PRIu64 " has no directory%s", m->id,
				   idle ? " and nothing charged (left by an interrupted mkdir or rmdir)" : "");
			if (idle)
				FK_PUSH(fk, deadmcs, m->id);
		}
		if (m->charged_frames != objpages[i])
			fk_problem(fk, false, "memory control %" PRIu64 " (%s): %" PRIu64 " frames charged, but "
				   "its objects hold %" PRIu64 " swap pages", m->id,
				   fk_obj_desc(fk, m->id, d, sizeof(d)), m->charged_frames, objpages[i]);
		struct cat_memctl *q = fk_quota_owner(fk, m, true);
		if (!q) {
			fk_problem(fk, false, "memory control %" PRIu64 ": its parents do not lead to the root",
				   m->id);
			continue;
		}
		used[q - fk->mcs] += m->charged_frames;
		if (m->id != CAT_ROOT_ID && (m->flags & CAT_MC_QUOTA)) {
			struct cat_memctl *up = fk_quota_owner(fk, m, false);
			if (up)
				subq[up - fk->mcs] += m->guarantee_frames;
		}
	}
	/* The root's guarantee is the store's capacity, known only to a running daemon. */
	for (size_t i = 0; i < fk->nmcs; i++) {
		struct cat_memctl *m = &fk->mcs[i];
		if (m->id == CAT_ROOT_ID || !(m->flags & CAT_MC_QUOTA))
			continue;
		if (subq[i] > m->guarantee_frames)
			fk_problem(fk, false, "memory control %" PRIu64 ": its sub-controls' quotas (%s) exceed "
				   "its own (%s)", m->id, ctl_size(subq[i] * 4096, a, sizeof(a)),
				   ctl_size(m->guarantee_frames * 4096, b, sizeof(b)));
		else if (used[i] > m->guarantee_frames - subq[i])
			fk_problem(fk, false, "memory control %" PRIu64 ": %s charged, more than its quota "
				   "leaves it (%s)", m->id, ctl_size(used[i] * 4096, a, sizeof(a)),
				   ctl_size((m->guarantee_frames - subq[i]) * 4096, b, sizeof(b)));
	}
	free(objpages);
	free(subq);
	free(used);
	free(busy);
	return 0;
}

/* ---- the whole check ---- */

int fk_check(struct fsck *fk)
{
	struct fk_walk w = { .fk = fk };
	uint64_t next = 0;
	int rc;

	if (!(w.scratch = malloc(sizeof(*w.scratch))))
		return -ENOMEM;
	if (cat_meta_get(fk->txn, "next_id", &next) == 0)
		fk->next_id = next;
	else
		fk_problem(fk, false, "store metadata: no valid next_id");
	if ((rc = fk_load_files(fk)) < 0 ||
	    (rc = cat_walk(fk->txn, CAT_T_OBJECTS, NULL, 0, fk_load_object, &w)) < 0 ||
	    (rc = cat_walk(fk->txn, CAT_T_MEMCTLS, NULL, 0, fk_load_memctl, &w)) < 0 ||
	    (rc = cat_walk(fk->txn, CAT_T_NAMES, NULL, 0, fk_name, &w)) < 0)
		goto out;
	fk_more(fk, w.listed, "name problems");
	fk_check_objects(fk);
	w.listed = 0;
	cat_count(fk->txn, CAT_T_EXTENTS, &w.total);
	if ((rc = cat_walk(fk->txn, CAT_T_EXTENTS, NULL, 0, fk_extent, &w)) < 0)
		goto out;
	fk_owner_done(&w);
	fk_check_maps(fk);
	if ((rc = fk_check_refs(fk)) < 0 || (rc = fk_check_frames(fk)) < 0 ||
	    (rc = fk_check_memctls(fk)) < 0)
		goto out;
	if (fk->n_past_end)
		fk_note(fk, false, "note: %" PRIu64 " mapped pages lie past their objects' ends "
			"(kept; a later write or resize may expose them)", fk->n_past_end);
	if (fk->checksums)
		rc = fk_verify_checksums(fk);
out:
	fk_progress_clear(fk);
	free(w.scratch);
	return rc;
}

void fk_free(struct fsck *fk)
{
	for (size_t i = 0; i < fk->nobjs; i++)
		free(fk->objs[i].name);
	for (unsigned i = 0; i < fk->nfiles; i++)
		if (fk->files[i].fd >= 0)
			close(fk->files[i].fd);
	free(fk->objs);
	free(fk->mcs);
	free(fk->refs);
	free(fk->sx);
	free(fk->free);
	free(fk->owners);
	free(fk->dropkeys);
	free(fk->refsets);
	free(fk->unfree);
	free(fk->leaked);
	free(fk->orphans);
	free(fk->deadmcs);
}
