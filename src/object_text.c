/*
 * object_text.c: code objects sharing one text (Sprite's text sharing, the
 * "cached" state of Mach's memory_object_terminate).
 *
 * A code object without debug is a read-only window on a backing file
 * range. When a second one is made on the same range (same file by device,
 * inode and mtime, same offset and length) with the same owner, group, mode
 * and flags, nothing would tell the two apart but their pages: so its name
 * is pointed at the first object, as a hard link, and the kernel maps both
 * names to one inode with one page cache. The text read for the first user
 * is there for the next, even after the first closed it (its pages stay
 * cached with the inode). The new object, never used, is destroyed.
 *
 * A file changed since (its mtime) does not match, so stale text is never
 * handed out; the cached object itself rereads the file at its next open.
 */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "object_internal.h"

bool ob_is_text(const struct cat_object *r)
{
	return r->kind == CAT_KIND_FILE && r->segtype == CAT_SEG_CODE &&
	       (r->flags & (CAT_F_TYPED | CAT_F_BACKING)) == (CAT_F_TYPED | CAT_F_BACKING) &&
	       !(r->flags & CAT_F_DEBUG);
}

/* Would a and b, both texts, read and look the same through any name? */
static bool ob_same_text(const struct cat_object *a, const struct cat_object *b)
{
	const struct cat_backing *x = &a->backing, *y = &b->backing;

	return ob_is_text(a) && ob_is_text(b) && x->dev == y->dev && x->ino == y->ino &&
	       x->mtime_ns == y->mtime_ns && x->offset_bytes == y->offset_bytes &&
	       x->len_bytes == y->len_bytes && strcmp(x->path, y->path) == 0 &&
	       a->uid == b->uid && a->gid == b->gid && a->mode == b->mode &&
	       (a->flags & CAT_F_PERSIST) == (b->flags & CAT_F_PERSIST);
}

struct text_find {
	struct cat_txn *txn;
	const struct cat_object *want;
	uint64_t found[16];
	size_t n;
};

/*
 * Candidates by the catalogue's records; the caller checks open copies.
 * (Past 16 code objects on one file the rest are not looked at: a text
 * not shared, nothing worse.)
 */
static int ob_text_candidate(const struct cat_object *r, void *arg)
{
	struct text_find *f = arg;

	if (r->id == f->want->id || !ob_is_text(r) || r->backing.ino != f->want->backing.ino ||
	    r->backing.dev != f->want->backing.dev)
		return 0;
	/* an object unlinked while open is on its way out */
	if (!cat_name_leads_to(f->txn, r->parent, r->name, r->id))
		return 0;
	f->found[f->n++] = r->id;
	return f->n == PFS_ARRAY_SIZE(f->found) ? 1 : 0;
}

struct share_arg {
	uint64_t parent, id, text;
	const char *name;
	struct cat_object *text_rec; /* the open copy, or NULL */
};

static int ob_share_txn(struct cat_txn *txn, void *arg)
{
	struct share_arg *s = arg;
	struct cat_object text, self;
	uint64_t named;
	int rc;

	rc = cat_name_get(txn, s->parent, s->name, &named);
	if (rc == -ENOENT || (rc == 0 && named != s->id))
		return -ESTALE; /* renamed or unlinked meanwhile: leave it be */
	if (rc < 0)
		return rc;
	/* another object took this one's text meanwhile: it has names to keep */
	if ((rc = cat_object_get(txn, s->id, &self)) < 0)
		return rc;
	if (self.extra_links)
		return -ESTALE;
	if ((rc = cat_object_get(txn, s->text, &text)) < 0)
		return rc;
	if (!cat_name_leads_to(txn, text.parent, text.name, s->text))
		return -ESTALE; /* unlinked meanwhile */
	if (text.extra_links == UINT32_MAX)
		return -EMLINK;
	text.extra_links++;
	if (s->text_rec) {
		/* the open copy's other fields are newer than the catalogue's */
		ob_keep_namespace(s->text_rec, &text);
		text = *s->text_rec;
	}
	if ((rc = cat_object_put(txn, &text)) < 0)
		return rc;
	return cat_name_put(txn, s->parent, s->name, s->text);
}

/*
 * Find a text id could share, in the catalogue; 0 when none. The open copy
 * of a candidate decides (its mtime is refreshed when it is opened).
 */
static uint64_t ob_find_text(struct objects *o, const struct cat_object *rec)
{
	struct text_find f = { .want = rec };
	struct cat_object cand;

	if (cat_read_begin(o->cat, &f.txn) < 0)
		return 0;
	cat_object_foreach(f.txn, ob_text_candidate, &f);
	cat_read_end(f.txn);
	for (size_t i = 0; i < f.n; i++)
		if (ob_get_record(o, f.found[i], &cand) == 0 && ob_same_text(&cand, rec))
			return f.found[i];
	return 0;
}

int ob_share_text(struct objects *o, uint64_t id)
{
	struct cat_object rec;
	struct oinfo *self, *text_oi;
	uint64_t text;
	int rc;

	if (ob_get_record(o, id, &rec) < 0 || !ob_is_text(&rec) || rec.extra_links)
		return 0;
	if (!(text = ob_find_text(o, &rec)))
		return 0;
	pthread_mutex_lock(&o->lock); /* no open may start or end meanwhile */
	for (;;) {
		self = ob_lookup_locked(o, id);
		text_oi = ob_lookup_locked(o, text);
		if ((!self || !self->closing) && (!text_oi || !text_oi->closing))
			break;
		pthread_cond_wait(&o->closed, &o->lock);
	}
	struct share_arg s = { rec.parent, id, text, rec.name, NULL };
	if (text_oi) {
		pthread_mutex_lock(&text_oi->lock);
		s.text_rec = &text_oi->rec;
	}
	/* Checked again under the lock: the text may have changed since it was found. */
	struct cat_object cur;
	if (ob_read_record(o, text, &cur) < 0 || (text_oi && text_oi->unlinked) ||
	    !ob_same_text(text_oi ? &text_oi->rec : &cur, &rec))
		rc = -ESTALE;
	else
		rc = cat_write(o->cat, ob_share_txn, &s);
	if (text_oi) {
		if (rc < 0)
			ob_reload_namespace(o, text_oi); /* undo the link count */
		pthread_mutex_unlock(&text_oi->lock);
	}
	if (rc == 0) {
		if (self) {
			/* its users keep it until they close it; then it goes */
			pthread_mutex_lock(&self->lock);
			self->unlinked = true;
			pthread_mutex_unlock(&self->lock);
		} else {
			struct destroy_arg d = { id, rec.parent, NULL };
			int drc = store_destroy(o->s, id, rec.memctl, ob_destroy_txn, &d);
			if (drc < 0) /* nameless now: the next start reaps it */
				pfs_warn("object %llu: destroying it after it took the text of object "
					 "%llu: %s", (unsigned long long)id, (unsigned long long)text,
					 strerror(-drc));
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (rc < 0) {
		/* The attribute change stands; only the sharing did not happen. */
		if (rc != -ESTALE)
			pfs_warn("object %llu: sharing the text of object %llu: %s",
				 (unsigned long long)id, (unsigned long long)text, strerror(-rc));
		return 0;
	}
	pfs_debug("object %llu shares the text of object %llu (%s)", (unsigned long long)id,
		  (unsigned long long)text, rec.backing.path);
	if (o->entry)
		o->entry(o->entry_arg, rec.parent, rec.name, text);
	return 0;
}

struct other_name {
	uint64_t id, skip_parent;
	const char *skip_name;
	uint64_t *parent;
	char *name;
};

static int ob_other_name_one(uint64_t parent, const char *name, uint64_t id, void *arg)
{
	struct other_name *n = arg;

	if (id != n->id || (parent == n->skip_parent && strcmp(name, n->skip_name) == 0))
		return 0;
	*n->parent = parent;
	memcpy(n->name, name, strlen(name) + 1);
	return 1;
}

int ob_other_name(struct cat_txn *txn, uint64_t id, uint64_t skip_parent, const char *skip_name,
		  uint64_t *parent, char *name)
{
	struct other_name n = { id, skip_parent, skip_name, parent, name };
	int rc = cat_name_foreach(txn, ob_other_name_one, &n);

	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}
