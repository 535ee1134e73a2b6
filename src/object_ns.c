/*
 * object_ns.c: the namespace of memory objects: lookup, create, mkdir,
 * unlink, rmdir, rename, readdir. Each change is one catalogue transaction;
 * a directory's memory control is created before its name can be found and
 * removed after its name is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "log.h"
#include "object_internal.h"

/* ---- namespace ---- */

int obj_getattr(struct objects *o, uint64_t id, struct obj_attr *out)
{
	struct oinfo *oi = ob_find_open(o, id);
	struct cat_object rec;
	bool unlinked = false;
	int rc = 0;

	if (oi) {
		pthread_mutex_lock(&oi->lock);
		rec = oi->rec;
		unlinked = oi->unlinked;
		pthread_mutex_unlock(&oi->lock);
		ob_put(o, oi);
	} else {
		rc = ob_read_record(o, id, &rec);
	}
	if (rc == 0) {
		ob_attr_from(o, &rec, out);
		if (unlinked)
			out->nlink = 0; /* open but nameless, as fstat shows on tmpfs */
	}
	return rc;
}

int obj_lookup(struct objects *o, uint64_t parent, const char *name, struct obj_attr *out)
{
	struct cat_txn *txn;
	uint64_t id;
	int rc;

	if (strlen(name) > CAT_NAME_MAX)
		return -ENAMETOOLONG;
	if ((rc = cat_read_begin(o->cat, &txn)) < 0)
		return rc;
	rc = cat_name_get(txn, parent, name, &id);
	cat_read_end(txn);
	if (rc == -EINVAL)
		rc = -ENOENT; /* "." and ".." are the kernel's */
	return rc < 0 ? rc : obj_getattr(o, id, out);
}

struct create_arg {
	struct cat_object rec;
	bool dir;
};

static int ob_create_txn(struct cat_txn *txn, void *arg)
{
	struct create_arg *c = arg;
	struct cat_object parent;
	uint64_t existing;
	int rc;

	if ((rc = cat_object_get(txn, c->rec.parent, &parent)) < 0)
		return rc;
	if (parent.kind != CAT_KIND_DIR)
		return -ENOTDIR;
	if (parent.mode & S_ISGID) {
		/* BSD group semantics in a setgid directory, as every Linux file system. */
		c->rec.gid = parent.gid;
		if (c->dir)
			c->rec.mode |= S_ISGID;
	}
	rc = cat_name_get(txn, c->rec.parent, c->rec.name, &existing);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (!c->dir && (rc = cat_alloc_id(txn, &c->rec.id)) < 0)
		return rc;
	c->rec.memctl = c->dir ? c->rec.id : parent.id;
	if ((rc = cat_object_put(txn, &c->rec)) < 0)
		return rc;
	return cat_name_put(txn, c->rec.parent, c->rec.name, c->rec.id);
}

static int ob_alloc_id_txn(struct cat_txn *txn, void *arg)
{
	return cat_alloc_id(txn, arg);
}

static int ob_make(struct objects *o, uint64_t parent, const char *name, uint32_t mode,
		   const struct obj_cred *cred, bool dir, struct obj_attr *out)
{
	struct create_arg c = { .dir = dir };
	int64_t now = ob_now_ns();
	int rc;

	if (strlen(name) > CAT_NAME_MAX)
		return -ENAMETOOLONG;
	c.rec.parent = parent;
	c.rec.kind = dir ? CAT_KIND_DIR : CAT_KIND_FILE;
	c.rec.segtype = CAT_SEG_HEAP;
	c.rec.flags = dir ? 0 : CAT_F_PERSIST;
	snprintf(c.rec.name, sizeof(c.rec.name), "%s", name);
	c.rec.mode = (dir ? S_IFDIR : S_IFREG) | (mode & 07777);
	c.rec.uid = cred->uid;
	c.rec.gid = cred->gid;
	c.rec.atime_ns = c.rec.mtime_ns = c.rec.ctime_ns = now;
	if (dir) {
		/* The directory's control exists before its name can be found. */
		if ((rc = cat_write(o->cat, ob_alloc_id_txn, &c.rec.id)) < 0)
			return rc;
		if ((rc = store_memctl_add(o->s, parent, c.rec.id)) < 0)
			return rc == -ENOENT ? -ENOTDIR : rc;
	}
	rc = cat_write(o->cat, ob_create_txn, &c);
	if (rc < 0 && dir)
		store_memctl_remove(o->s, c.rec.id);
	if (rc == 0)
		ob_attr_from(o, &c.rec, out);
	return rc;
}

int obj_create(struct objects *o, uint64_t parent, const char *name, uint32_t mode,
	       const struct obj_cred *cred, struct obj_attr *out)
{
	return ob_make(o, parent, name, mode, cred, false, out);
}

int obj_mkdir(struct objects *o, uint64_t parent, const char *name, uint32_t mode,
	      const struct obj_cred *cred, struct obj_attr *out)
{
	return ob_make(o, parent, name, mode, cred, true, out);
}

static int ob_del_name_txn(struct cat_txn *txn, void *arg)
{
	struct destroy_arg *d = arg;
	return cat_name_del(txn, d->parent, d->name);
}

struct drop_name_arg {
	uint64_t id, parent;
	const char *name;
	struct cat_object *open_rec; /* the open copy, kept in step; or NULL */
};

/*
 * One name of a shared text goes; the object stays under the others. If it
 * was the name its record keeps, another one takes that place (and its
 * directory's control, which a text is never charged anything by).
 */
static int ob_drop_name_txn(struct cat_txn *txn, void *arg)
{
	struct drop_name_arg *d = arg;
	struct cat_object rec;
	int rc;

	if ((rc = cat_object_get(txn, d->id, &rec)) < 0)
		return rc;
	if ((rc = cat_name_del(txn, d->parent, d->name)) < 0)
		return rc;
	rec.extra_links--;
	if (rec.parent == d->parent && strcmp(rec.name, d->name) == 0) {
		rc = ob_other_name(txn, d->id, d->parent, d->name, &rec.parent, rec.name);
		if (rc == -ENOENT) {
			pfs_err("object %llu: its link count says it has another name, but it has none",
				(unsigned long long)d->id);
			rc = -EUCLEAN;
		}
		if (rc < 0)
			return rc;
		rec.memctl = rec.parent;
	}
	if (d->open_rec) {
		ob_keep_namespace(d->open_rec, &rec);
		rec = *d->open_rec;
	}
	return cat_object_put(txn, &rec);
}

/* Does (parent, name) still lead to id? objects.lock held. */
static bool ob_name_is(struct objects *o, uint64_t parent, const char *name, uint64_t id)
{
	struct cat_txn *txn;

	if (cat_read_begin(o->cat, &txn) < 0)
		return false;
	bool yes = cat_name_leads_to(txn, parent, name, id);
	cat_read_end(txn);
	return yes;
}

int obj_unlink(struct objects *o, uint64_t parent, const char *name)
{
	struct obj_attr a;
	struct cat_object rec;
	struct oinfo *oi;
	int rc;

again:
	if ((rc = obj_lookup(o, parent, name, &a)) < 0)
		return rc;
	if (a.kind == CAT_KIND_DIR)
		return -EISDIR;
	pthread_mutex_lock(&o->lock); /* no open may start or end meanwhile */
	if (!ob_name_is(o, parent, name, a.id)) {
		/* a code object took another's text meanwhile: unlink what the name is now */
		pthread_mutex_unlock(&o->lock);
		goto again;
	}
	for (;;) {
		oi = NULL;
		for (struct oinfo *p = o->table[a.id % PFS_ARRAY_SIZE(o->table)]; p; p = p->hnext)
			if (p->id == a.id)
				oi = p;
		if (!oi || !oi->closing)
			break;
		/* Its last release is writing it back: decide once that is done. */
		pthread_cond_wait(&o->closed, &o->lock);
	}
	struct destroy_arg d = { a.id, parent, name };
	/* (read again under the lock: a text may have been shared meanwhile) */
	if (oi) {
		pthread_mutex_lock(&oi->lock);
		rec = oi->rec;
		pthread_mutex_unlock(&oi->lock);
	} else if ((rc = ob_read_record(o, a.id, &rec)) < 0) {
		pthread_mutex_unlock(&o->lock);
		return rc;
	}
	if (rec.extra_links) {
		/* a text other names still share */
		struct drop_name_arg dn = { a.id, parent, name, oi ? &oi->rec : NULL };
		if (oi)
			pthread_mutex_lock(&oi->lock);
		rc = cat_write(o->cat, ob_drop_name_txn, &dn);
		if (oi) {
			if (rc < 0)
				ob_reload_namespace(o, oi);
			pthread_mutex_unlock(&oi->lock);
		}
	} else if (oi) {
		/* Still open: the name goes now, the object at its last release. */
		rc = cat_write(o->cat, ob_del_name_txn, &d);
		if (rc == 0) {
			pthread_mutex_lock(&oi->lock);
			oi->unlinked = true;
			pthread_mutex_unlock(&oi->lock);
		}
	} else {
		rc = store_destroy(o->s, a.id, rec.memctl, ob_destroy_txn, &d);
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

struct any_child {
	bool found;
};

static int ob_any_child(const char *name, uint64_t id, void *arg)
{
	((struct any_child *)arg)->found = true;
	return 1;
}

int obj_rmdir(struct objects *o, uint64_t parent, const char *name)
{
	struct obj_attr a;
	struct any_child ac = { false };
	struct cat_txn *txn;
	int rc = obj_lookup(o, parent, name, &a);

	if (rc < 0)
		return rc;
	if (a.kind != CAT_KIND_DIR)
		return -ENOTDIR;
	if ((rc = cat_read_begin(o->cat, &txn)) < 0)
		return rc;
	rc = cat_dir_list(txn, a.id, NULL, ob_any_child, &ac);
	cat_read_end(txn);
	if (rc < 0)
		return rc;
	if (ac.found)
		return -ENOTEMPTY;
	struct destroy_arg d = { a.id, parent, name };
	if ((rc = cat_write(o->cat, ob_destroy_txn, &d)) < 0)
		return rc;
	return store_memctl_remove(o->s, a.id);
}

struct rename_arg {
	uint64_t parent, newparent, id, target;
	const char *name, *newname;
	unsigned flags;
	int64_t now;
};

static int ob_rename_txn(struct cat_txn *txn, void *arg)
{
	struct rename_arg *r = arg;
	struct cat_object rec, trec;
	int rc;

	if ((rc = cat_object_get(txn, r->id, &rec)) < 0)
		return rc;
	if ((rc = cat_name_del(txn, r->parent, r->name)) < 0)
		return rc;
	if (r->target && (r->flags & RENAME_EXCHANGE)) {
		if ((rc = cat_object_get(txn, r->target, &trec)) < 0)
			return rc;
		trec.parent = r->parent;
		snprintf(trec.name, sizeof(trec.name), "%s", r->name);
		trec.ctime_ns = r->now;
		if ((rc = cat_object_put(txn, &trec)) < 0 ||
		    (rc = cat_name_put(txn, r->parent, r->name, r->target)) < 0)
			return rc;
	}
	rec.parent = r->newparent;
	snprintf(rec.name, sizeof(rec.name), "%s", r->newname);
	rec.ctime_ns = r->now;
	if (rec.kind == CAT_KIND_FILE)
		rec.memctl = r->newparent;
	if ((rc = cat_object_put(txn, &rec)) < 0)
		return rc;
	return cat_name_put(txn, r->newparent, r->newname, r->id);
}

int obj_rename(struct objects *o, uint64_t parent, const char *name, uint64_t newparent,
	       const char *newname, unsigned flags)
{
	struct obj_attr a, t;
	struct rename_arg r = { parent, newparent, 0, 0, name, newname, flags, ob_now_ns() };
	int rc;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) ||
	    (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (strlen(newname) > CAT_NAME_MAX)
		return -ENAMETOOLONG;
	if ((rc = obj_lookup(o, parent, name, &a)) < 0)
		return rc;
	r.id = a.id;
	rc = obj_lookup(o, newparent, newname, &t);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0 && t.id == a.id)
		return 0;
	if (rc == 0 && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (rc == -ENOENT && (flags & RENAME_EXCHANGE))
		return -ENOENT;
	/*
	 * Memory controls are directories: an object moving to another one
	 * would carry its charges across, as XFS project quotas refuse to, so
	 * do the same (EXDEV: mv copies instead). Objects holding no swap pages
	 * and no open handle move freely.
	 */
	if (parent != newparent) {
		uint64_t swap = 0;
		if (a.kind == CAT_KIND_DIR || ((flags & RENAME_EXCHANGE) && t.kind == CAT_KIND_DIR))
			return -EXDEV;
		if (store_count_pages(o->s, a.id, PFS_ALL_PAGES, NULL, NULL, &swap) < 0 || swap ||
		    ob_is_open(o, a.id))
			return -EXDEV;
		if (flags & RENAME_EXCHANGE) {
			if (store_count_pages(o->s, t.id, PFS_ALL_PAGES, NULL, NULL, &swap) < 0 ||
			    swap || ob_is_open(o, t.id))
				return -EXDEV;
		}
	}
	if (rc == 0 && (flags & RENAME_EXCHANGE)) {
		r.target = t.id;
	} else if (rc == 0) {
		if (t.kind == CAT_KIND_DIR && a.kind != CAT_KIND_DIR)
			return -EISDIR;
		if (t.kind != CAT_KIND_DIR && a.kind == CAT_KIND_DIR)
			return -ENOTDIR;
		rc = t.kind == CAT_KIND_DIR ? obj_rmdir(o, newparent, newname)
					    : obj_unlink(o, newparent, newname);
		if (rc < 0)
			return rc;
	}
	if ((rc = cat_write(o->cat, ob_rename_txn, &r)) < 0)
		return rc;
	/* Keep open copies in step with the names. */
	struct oinfo *oi = ob_find_open(o, a.id);
	if (oi) {
		pthread_mutex_lock(&oi->lock);
		oi->rec.parent = newparent;
		snprintf(oi->rec.name, sizeof(oi->rec.name), "%s", newname);
		pthread_mutex_unlock(&oi->lock);
		ob_put(o, oi);
	}
	return 0;
}

struct readdir_arg {
	struct objects *o;
	int (*fn)(const char *name, const struct obj_attr *a, void *arg);
	void *arg;
	struct cat_txn *txn;
};

static int ob_readdir_one(const char *name, uint64_t id, void *arg)
{
	struct readdir_arg *ra = arg;
	struct cat_object rec;
	struct obj_attr a;
	int rc = cat_object_get(ra->txn, id, &rec);

	if (rc < 0)
		return rc;
	struct oinfo *oi = ob_find_open(ra->o, id);
	if (oi) {
		pthread_mutex_lock(&oi->lock);
		rec = oi->rec;
		pthread_mutex_unlock(&oi->lock);
		ob_put(ra->o, oi);
	}
	ob_attr_from(ra->o, &rec, &a);
	return ra->fn(name, &a, ra->arg);
}

int obj_readdir(struct objects *o, uint64_t dir, const char *after,
		int (*fn)(const char *name, const struct obj_attr *a, void *arg), void *arg)
{
	struct readdir_arg ra = { o, fn, arg, NULL };
	int rc;

	if ((rc = cat_read_begin(o->cat, &ra.txn)) < 0)
		return rc;
	rc = cat_dir_list(ra.txn, dir, after, ob_readdir_one, &ra);
	cat_read_end(ra.txn);
	return rc;
}

