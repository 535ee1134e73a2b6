/*
 * object.c: memory objects: names and directories, open handles, the page
 * path with its per-type rules, and the Sprite lifecycles at last close
 * (Mach's memory_object_terminate).
 *
 * Namespace changes are immediate catalogue transactions. Sizes changed by
 * the page path (a write past the end) are kept in the open object's record
 * and written by the next commit, atomically with the pages, through the
 * store's commit hook. This file must never include a FUSE header nor read
 * a backing file with any identity but the caller's that opened it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "object_internal.h"
#include "extent.h"

int64_t ob_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the open table ---- */

static struct oinfo **ob_slot(struct objects *o, uint64_t id)
{
	return &o->table[id % PFS_ARRAY_SIZE(o->table)];
}

struct oinfo *ob_lookup_locked(struct objects *o, uint64_t id)
{
	struct oinfo *oi;

	for (oi = *ob_slot(o, id); oi; oi = oi->hnext)
		if (oi->id == id)
			return oi;
	return NULL;
}

static void ob_free_oinfo(struct oinfo *oi)
{
	while (oi->handles) {
		struct ohandle *h = oi->handles;
		oi->handles = h->next;
		free(h);
	}
	if (oi->backing_fd >= 0)
		close(oi->backing_fd);
	pthread_mutex_destroy(&oi->lock);
	pthread_rwlock_destroy(&oi->backing_lock);
	free(oi);
}

/* Take oi out of the table, and free it if nobody holds it; objects.lock held. */
static void ob_unlink_locked(struct objects *o, struct oinfo *oi)
{
	struct oinfo **pp = ob_slot(o, oi->id);

	while (*pp && *pp != oi)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = oi->hnext;
	oi->in_table = false;
	if (oi->refs == 0)
		ob_free_oinfo(oi);
}

struct oinfo *ob_find_open(struct objects *o, uint64_t id)
{
	struct oinfo *oi;

	pthread_mutex_lock(&o->lock);
	if ((oi = ob_lookup_locked(o, id)))
		oi->refs++;
	pthread_mutex_unlock(&o->lock);
	return oi;
}

void ob_put(struct objects *o, struct oinfo *oi)
{
	if (!oi)
		return;
	pthread_mutex_lock(&o->lock);
	if (--oi->refs == 0 && !oi->in_table)
		ob_free_oinfo(oi);
	pthread_mutex_unlock(&o->lock);
}

bool ob_is_open(struct objects *o, uint64_t id)
{
	struct oinfo *oi = ob_find_open(o, id);

	ob_put(o, oi);
	return oi != NULL;
}

/* ---- records ---- */

static int ob_get_txn(struct cat_txn *txn, void *arg)
{
	struct cat_object *rec = arg;
	return cat_object_get(txn, rec->id, rec);
}

int ob_read_record(struct objects *o, uint64_t id, struct cat_object *rec)
{
	struct cat_txn *txn;
	int rc;

	if ((rc = cat_read_begin(o->cat, &txn)) < 0)
		return rc;
	rec->id = id;
	rc = ob_get_txn(txn, rec);
	cat_read_end(txn);
	return rc;
}

int ob_get_record(struct objects *o, uint64_t id, struct cat_object *rec)
{
	struct oinfo *oi = ob_find_open(o, id);

	if (oi) {
		pthread_mutex_lock(&oi->lock);
		*rec = oi->rec;
		pthread_mutex_unlock(&oi->lock);
		ob_put(o, oi);
		return 0;
	}
	return ob_read_record(o, id, rec);
}

/*
 * Where an object's record lives (parent, name, control) and how many names
 * it has belong to the namespace operations, which write them straight to
 * the catalogue under objects.lock. Every other writer works from a copy
 * (the open record, a queued one, an attribute change) that may predate
 * such a change, so it takes those fields from the catalogue's record.
 */
void ob_keep_namespace(struct cat_object *rec, const struct cat_object *cur)
{
	rec->parent = cur->parent;
	memcpy(rec->name, cur->name, sizeof(rec->name));
	rec->memctl = cur->memctl;
	rec->extra_links = cur->extra_links;
}

void ob_reload_namespace(struct objects *o, struct oinfo *oi)
{
	struct cat_object cur;

	if (ob_read_record(o, oi->id, &cur) == 0)
		ob_keep_namespace(&oi->rec, &cur);
}

int ob_put_txn(struct cat_txn *txn, void *arg)
{
	struct cat_object *rec = arg, cur;
	int rc = cat_object_get(txn, rec->id, &cur);

	if (rc < 0)
		return rc; /* -ENOENT: destroyed since rec was read; an update must not bring it back */
	ob_keep_namespace(rec, &cur);
	return cat_object_put(txn, rec);
}

/* Create the mount's root record (the only record not made by ob_create_txn). */
static int ob_root_txn(struct cat_txn *txn, void *arg)
{
	return cat_object_put(txn, arg);
}

/* Drop id from the dirty list: its latest record has just been written. */
static void ob_undirty(struct objects *o, uint64_t id)
{
	pthread_mutex_lock(&o->dirty_lock);
	for (size_t i = 0; i < o->ndirty; i++)
		if (o->dirty[i].rec.id == id) {
			o->dirty[i] = o->dirty[--o->ndirty];
			break;
		}
	pthread_mutex_unlock(&o->dirty_lock);
}

int ob_put_record(struct objects *o, struct cat_object *rec)
{
	struct oinfo *oi = ob_find_open(o, rec->id);
	int rc;

	if (oi)
		pthread_mutex_lock(&oi->lock);
	rc = cat_write(o->cat, ob_put_txn, rec);
	if (rc == 0 && oi)
		oi->rec = *rec;
	if (rc == 0)
		ob_undirty(o, rec->id);
	if (oi)
		pthread_mutex_unlock(&oi->lock);
	ob_put(o, oi);
	return rc;
}

/* Queue an open object's record for the next commit; oi->lock held. */
static int ob_mark_dirty(struct objects *o, struct oinfo *oi)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&o->dirty_lock);
	for (i = 0; i < o->ndirty; i++)
		if (o->dirty[i].rec.id == oi->id)
			break;
	if (i == o->ndirty) {
		if (o->ndirty == o->capdirty) {
			size_t cap = o->capdirty ? o->capdirty * 2 : 16;
			struct odirty *nv = realloc(o->dirty, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				goto out;
			}
			o->dirty = nv;
			o->capdirty = cap;
		}
		o->ndirty++;
	}
	o->dirty[i].rec = oi->rec;
	o->dirty[i].seq = ++o->dirty_seq;
out:
	pthread_mutex_unlock(&o->dirty_lock);
	return rc;
}

/* The commit hook: write every queued record with the pages. */
static int ob_commit_hook(struct cat_txn *txn, void *arg)
{
	struct objects *o = arg;
	uint64_t upto = 0;
	int rc = 0;

	pthread_mutex_lock(&o->dirty_lock);
	for (size_t i = 0; i < o->ndirty && rc == 0; i++) {
		/* An object destroyed meanwhile has no record to update. */
		struct cat_object cur;
		rc = cat_object_get(txn, o->dirty[i].rec.id, &cur);
		if (rc == 0) {
			/* queued before a rename, it must not bring the old name back */
			ob_keep_namespace(&o->dirty[i].rec, &cur);
			rc = cat_object_put(txn, &o->dirty[i].rec);
		} else if (rc == -ENOENT) {
			rc = 0;
		}
		upto = PFS_MAX(upto, o->dirty[i].seq);
	}
	o->dirty_written = upto;
	pthread_mutex_unlock(&o->dirty_lock);
	return rc;
}

/* After a durable commit, forget the records it wrote (newer queued ones stay). */
static void ob_commit_done(void *arg, int rc)
{
	struct objects *o = arg;

	if (rc < 0)
		return;
	pthread_mutex_lock(&o->dirty_lock);
	for (size_t i = 0; i < o->ndirty;)
		if (o->dirty[i].seq <= o->dirty_written)
			o->dirty[i] = o->dirty[--o->ndirty];
		else
			i++;
	pthread_mutex_unlock(&o->dirty_lock);
}

void ob_attr_from(struct objects *o, const struct cat_object *rec, struct obj_attr *a)
{
	uint64_t swap = 0;

	memset(a, 0, sizeof(*a));
	a->id = rec->id;
	a->parent = rec->parent;
	a->kind = rec->kind;
	a->mode = rec->mode;
	a->uid = rec->uid;
	a->gid = rec->gid;
	a->nlink = rec->kind == CAT_KIND_DIR ? 2 : 1 + rec->extra_links;
	a->size_bytes = rec->kind == CAT_KIND_DIR ? PFS_PAGE_SIZE : rec->size_bytes;
	if (rec->kind == CAT_KIND_FILE &&
	    store_count_pages(o->s, rec->id, pfs_bytes_to_pages(rec->size_bytes), NULL, NULL, &swap) == 0)
		a->blocks_512 = swap * (PFS_PAGE_SIZE / 512);
	a->atime_ns = rec->atime_ns;
	a->mtime_ns = rec->mtime_ns;
	a->ctime_ns = rec->ctime_ns;
}

void ob_invalidate(struct objects *o, uint64_t id, uint64_t off, uint64_t len)
{
	if (o->inval)
		o->inval(o->inval_arg, id, off, len);
}

void obj_set_invalidate_fn(struct objects *o, obj_invalidate_fn fn, void *arg)
{
	o->inval = fn;
	o->inval_arg = arg;
}

void obj_set_entry_fn(struct objects *o, obj_entry_fn fn, void *arg)
{
	o->entry = fn;
	o->entry_arg = arg;
}

int objects_set_mountpoint(struct objects *o, const char *path)
{
	char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	free(o->mountpoint);
	o->mountpoint = copy;
	return 0;
}

/* ---- credentials ---- */

int ob_open_as(const struct obj_cred *cred, const char *path, int flags)
{
	gid_t saved[256];
	int nsaved = getgroups(PFS_ARRAY_SIZE(saved), saved);
	int fd, err = 0;

	if (nsaved < 0)
		return pfs_neg_errno();
	/* Raw syscalls: glibc would apply setgroups to every thread of the daemon. */
	if (syscall(SYS_setgroups, cred->groups ? cred->ngroups : 0, cred->groups) < 0)
		return pfs_neg_errno();
	setfsgid(cred->gid);
	setfsuid(cred->uid);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		err = pfs_neg_errno();
	setfsuid(geteuid());
	setfsgid(getegid());
	syscall(SYS_setgroups, nsaved, saved);
	return fd < 0 ? err : fd;
}

/* ---- open / close / terminate ---- */

/* Destroy objects left without a name by a crash (unlinked while open). */
static int ob_reap_orphans(struct objects *o);

int objects_open(struct store *s, struct objects **out)
{
	struct objects *o = calloc(1, sizeof(*o));
	struct cat_object root;
	int rc;

	if (!o)
		return -ENOMEM;
	o->s = s;
	o->cat = store_cat(s);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->closed, NULL);
	pthread_mutex_init(&o->dirty_lock, NULL);
	rc = ob_read_record(o, CAT_ROOT_ID, &root);
	if (rc == -ENOENT) {
		/* The mount's root belongs to whoever runs the daemon, as tmpfs's does. */
		memset(&root, 0, sizeof(root));
		root.id = CAT_ROOT_ID;
		root.kind = CAT_KIND_DIR;
		root.mode = S_IFDIR | 0755;
		root.uid = geteuid();
		root.gid = getegid();
		root.memctl = CAT_ROOT_ID;
		root.atime_ns = root.mtime_ns = root.ctime_ns = ob_now_ns();
		rc = cat_write(o->cat, ob_root_txn, &root);
	}
	if (rc == 0)
		rc = ob_reap_orphans(o);
	if (rc < 0)
		goto fail;
	store_set_commit_hook(s, ob_commit_hook, ob_commit_done, o);
	*out = o;
	return 0;
fail:
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->closed);
	pthread_mutex_destroy(&o->dirty_lock);
	free(o);
	return rc;
}

void objects_close(struct objects *o)
{
	if (!o)
		return;
	/* Handles still open (the kernel went away without releases) close here. */
	for (size_t b = 0; b < PFS_ARRAY_SIZE(o->table); b++) {
		struct oinfo *oi;
		while ((oi = o->table[b])) {
			o->table[b] = oi->hnext;
			ob_free_oinfo(oi);
		}
	}
	store_commit(o->s); /* the queued records, with the last pages */
	store_set_commit_hook(o->s, NULL, NULL, NULL);
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->closed);
	pthread_mutex_destroy(&o->dirty_lock);
	free(o->mountpoint);
	free(o->dirty);
	free(o);
}

int ob_reset_image(struct objects *o, const struct cat_object *rec)
{
	uint64_t file_pages = 0;
	int rc;

	if (rec->flags & CAT_F_BACKING)
		file_pages = pfs_bytes_to_pages(rec->backing.len_bytes);
	rc = store_set_range(o->s, rec->id, rec->memctl, 0, PFS_ALL_PAGES, PMAP_ZERO, 0);
	if (rc == 0 && file_pages)
		rc = store_set_range(o->s, rec->id, rec->memctl, 0, file_pages, PMAP_FILE, 0);
	return rc;
}

int ob_destroy_txn(struct cat_txn *txn, void *arg)
{
	struct destroy_arg *d = arg;
	int rc;

	if (d->name && (rc = cat_name_del(txn, d->parent, d->name)) < 0)
		return rc;
	rc = cat_object_del(txn, d->id);
	return rc == -ENOENT ? 0 : rc;
}

struct orphans {
	struct cat_txn *txn;
	struct { uint64_t id, memctl; } v[256];
	size_t n;
};

static int ob_find_orphan(const struct cat_object *rec, void *arg)
{
	struct orphans *or = arg;

	if (rec->id == CAT_ROOT_ID || rec->kind != CAT_KIND_FILE)
		return 0;
	if (cat_name_leads_to(or->txn, rec->parent, rec->name, rec->id))
		return 0;
	or->v[or->n].id = rec->id;
	or->v[or->n].memctl = rec->memctl;
	return ++or->n == PFS_ARRAY_SIZE(or->v) ? 1 : 0;
}

static int ob_reap_orphans(struct objects *o)
{
	struct orphans *or = calloc(1, sizeof(*or));
	int rc;

	if (!or)
		return -ENOMEM;
	do {
		or->n = 0;
		if ((rc = cat_read_begin(o->cat, &or->txn)) < 0)
			break;
		rc = cat_object_foreach(or->txn, ob_find_orphan, or);
		cat_read_end(or->txn);
		for (size_t i = 0; rc >= 0 && i < or->n; i++) {
			struct destroy_arg d = { or->v[i].id, 0, NULL };
			pfs_info("object %llu was unlinked while open when the store last stopped: "
				 "destroying it", (unsigned long long)or->v[i].id);
			rc = store_destroy(o->s, or->v[i].id, or->v[i].memctl, ob_destroy_txn, &d);
		}
	} while (rc >= 0 && or->n == PFS_ARRAY_SIZE(or->v));
	free(or);
	return rc < 0 ? rc : 0;
}

/*
 * Mach terminate: what an object's type does when its last user closes it.
 * oi->lock held; the object is `closing`, so no open can start meanwhile.
 */
static int ob_terminate(struct objects *o, struct oinfo *oi)
{
	struct cat_object *r = &oi->rec;
	bool reverted = false;
	int rc = 0;

	if (oi->unlinked) {
		struct destroy_arg d = { r->id, r->parent, NULL };
		ob_undirty(o, r->id);
		return store_destroy(o->s, r->id, r->memctl, ob_destroy_txn, &d);
	}
	if (r->kind != CAT_KIND_FILE)
		return 0;
	if (r->segtype == CAT_SEG_SHARED) {
		struct filepager fp;
		struct pager backing = ob_backing_pager(r, oi->backing_fd, NULL, &fp);
		rc = pager_sync(&backing, false);
	} else if (r->flags & CAT_F_PERSIST) {
		/* a persistent object keeps everything */
	} else if (r->segtype == CAT_SEG_CODE || r->segtype == CAT_SEG_HEAP) {
		/* code+debug drops its private copy; a heap returns to its initial image */
		if (r->segtype == CAT_SEG_HEAP || (r->flags & CAT_F_DEBUG)) {
			rc = ob_reset_image(o, r);
			reverted = true;
		}
		if (rc == 0) {
			r->flags |= CAT_F_CACHED;
			rc = cat_write(o->cat, ob_put_txn, r);
		}
	} else if (r->segtype == CAT_SEG_STACK) {
		rc = store_set_range(o->s, r->id, r->memctl, 0, PFS_ALL_PAGES, PMAP_ZERO, 0);
		reverted = true;
		if (rc == 0) {
			r->flags |= CAT_F_DEAD;
			r->low_water_page = pfs_bytes_to_pages(r->size_bytes);
			rc = cat_write(o->cat, ob_put_txn, r);
		}
	}
	if (rc == 0)
		ob_undirty(o, r->id);
	if (reverted) /* only then are the kernel's cached pages stale */
		ob_invalidate(o, r->id, 0, 0);
	return rc;
}

/*
 * Open the backing file with the opener's identity. A file replaced since
 * (another inode) is ESTALE; a file changed in place (mtime) must not be
 * served from pages the kernel cached from its old text: the record takes
 * the new mtime (and, for a range running to the end, the new length) and
 * *changed tells the caller to drop the object's cached pages.
 */
static int ob_open_backing(struct oinfo *oi, const struct obj_cred *cred, bool *changed)
{
	struct cat_object *r = &oi->rec;
	struct stat st;
	int fd = ob_open_as(cred, r->backing.path, r->segtype == CAT_SEG_SHARED ? O_RDWR : O_RDONLY);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_ino != r->backing.ino || st.st_dev != r->backing.dev) {
		pfs_warn("object %llu: backing file %s was replaced", (unsigned long long)oi->id,
			 r->backing.path);
		close(fd);
		return -ESTALE;
	}
	oi->backing_fd = fd;
	int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (mtime != r->backing.mtime_ns && r->segtype != CAT_SEG_SHARED) {
		r->backing.mtime_ns = mtime;
		*changed = true;
	}
	return 0;
}

int obj_open(struct objects *o, uint64_t id, int flags, const struct obj_cred *cred,
	     uint64_t *handle)
{
	struct ohandle *h = calloc(1, sizeof(*h));
	bool writing = (flags & O_ACCMODE) != O_RDONLY;
	struct oinfo *oi;
	int rc = 0;

	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&o->lock);
	/* An object still closing writes its record first: wait, then load it afresh. */
	while ((oi = ob_lookup_locked(o, id)) && oi->closing)
		pthread_cond_wait(&o->closed, &o->lock);
	if (!oi) {
		oi = calloc(1, sizeof(*oi));
		if (!oi) {
			rc = -ENOMEM;
			goto out;
		}
		oi->id = id;
		oi->backing_fd = -1;
		pthread_mutex_init(&oi->lock, NULL);
		pthread_rwlock_init(&oi->backing_lock, NULL);
		if ((rc = ob_read_record(o, id, &oi->rec)) < 0) {
			/*
			 * An inode the kernel still holds for an object that is
			 * gone (its name took another's text): ESTALE makes the
			 * VFS look the name up again.
			 */
			if (rc == -ENOENT)
				rc = -ESTALE;
			ob_free_oinfo(oi);
			oi = NULL;
			goto out;
		}
		oi->in_table = true;
		oi->hnext = *ob_slot(o, id);
		*ob_slot(o, id) = oi;
	}
	struct cat_object *r = &oi->rec;
	if (r->kind != CAT_KIND_FILE)
		rc = -EISDIR;
	else if (writing && r->segtype == CAT_SEG_CODE && !(r->flags & CAT_F_DEBUG))
		rc = -EROFS;
	bool backing_changed = false;
	if (rc == 0 && (r->flags & CAT_F_BACKING) && oi->backing_fd < 0) {
		rc = ob_open_backing(oi, cred, &backing_changed);
	} else if (rc == 0 && (r->flags & CAT_F_BACKING)) {
		/*
		 * Open already: the daemon reads through the first opener's
		 * descriptor, but each opener must be allowed to read the file
		 * itself, or it would read through pagerfs what it cannot read.
		 */
		int fd = ob_open_as(cred, r->backing.path,
				    r->segtype == CAT_SEG_SHARED ? O_RDWR : O_RDONLY);
		if (fd < 0)
			rc = fd;
		else
			close(fd);
	}
	if (rc == 0 && backing_changed) {
		pfs_info("object %llu: backing file %s changed since it was cached: its pages are "
			 "read again", (unsigned long long)id, r->backing.path);
		pthread_mutex_lock(&oi->lock);
		rc = cat_write(o->cat, ob_put_txn, r);
		pthread_mutex_unlock(&oi->lock);
		ob_invalidate(o, id, 0, 0);
	}
	if (rc == 0 && (r->flags & (CAT_F_DEAD | CAT_F_CACHED))) {
		/* A new user: a dead stack starts afresh, a cached object is live again. */
		pthread_mutex_lock(&oi->lock);
		r->flags &= ~(CAT_F_DEAD | CAT_F_CACHED);
		rc = cat_write(o->cat, ob_put_txn, r);
		pthread_mutex_unlock(&oi->lock);
	}
	if (rc < 0)
		goto out;
	oi->opens++;
	for (size_t i = 0; i < PFS_ARRAY_SIZE(oi->pids); i++)
		if (oi->pids[i].pid == cred->pid || oi->pids[i].count == 0) {
			oi->pids[i].pid = cred->pid;
			oi->pids[i].count++;
			break;
		}
	h->oi = oi;
	h->flags = flags;
	h->pid = cred->pid;
	h->next = oi->handles;
	if (oi->handles)
		oi->handles->prev = h;
	oi->handles = h;
	*handle = (uint64_t)(uintptr_t)h;
out:
	if (rc < 0 && oi && oi->opens == 0)
		ob_unlink_locked(o, oi);
	pthread_mutex_unlock(&o->lock);
	if (rc < 0)
		free(h);
	return rc;
}

int obj_release(struct objects *o, uint64_t handle)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < PFS_ARRAY_SIZE(oi->pids); i++)
		if (oi->pids[i].pid == h->pid && oi->pids[i].count) {
			oi->pids[i].count--;
			break;
		}
	if (h->prev)
		h->prev->next = h->next;
	else
		oi->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	free(h);
	if (--oi->opens > 0) {
		pthread_mutex_unlock(&o->lock);
		return 0;
	}
	oi->closing = true;
	oi->refs++;
	pthread_mutex_unlock(&o->lock);

	/* Its size and times reach the catalogue before the open copy goes. */
	pthread_mutex_lock(&oi->lock);
	if (!oi->unlinked)
		rc = cat_write(o->cat, ob_put_txn, &oi->rec);
	int trc = ob_terminate(o, oi);
	if (rc == 0)
		rc = trc;
	if (!oi->unlinked)
		ob_undirty(o, oi->id);
	pthread_mutex_unlock(&oi->lock);

	pthread_mutex_lock(&o->lock);
	oi->closing = false;
	oi->refs--;
	ob_unlink_locked(o, oi);
	pthread_cond_broadcast(&o->closed);
	pthread_mutex_unlock(&o->lock);
	return rc;
}

int obj_foreach_open(struct objects *o, int (*fn)(uint64_t id, pid_t pid, unsigned opens, void *arg),
		     void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t b = 0; b < PFS_ARRAY_SIZE(o->table) && rc == 0; b++)
		for (struct oinfo *oi = o->table[b]; oi && rc == 0; oi = oi->hnext)
			for (size_t i = 0; i < PFS_ARRAY_SIZE(oi->pids) && rc == 0; i++)
				if (oi->pids[i].count)
					rc = fn(oi->id, oi->pids[i].pid, oi->pids[i].count, arg);
	pthread_mutex_unlock(&o->lock);
	return rc;
}

/* ---- the page path ---- */

int ob_backing_get(struct oinfo *oi)
{
	pthread_rwlock_rdlock(&oi->backing_lock);
	return oi->backing_fd;
}

void ob_backing_put(struct oinfo *oi)
{
	pthread_rwlock_unlock(&oi->backing_lock);
}

struct pager ob_backing_pager(const struct cat_object *rec, int fd, struct store_io *io,
			      struct filepager *fp)
{
	*fp = (struct filepager){ fd, rec->backing.offset_bytes, rec->backing.len_bytes,
				  io ? store_io_ring(io) : NULL };
	return (struct pager){ rec->segtype == CAT_SEG_SHARED ? &pager_writeback_ops : &pager_file_ops,
			       fp };
}

ssize_t obj_read(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		 size_t len, void *buf)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	uint8_t *arena = store_io_buf(io);
	struct filepager fp;
	struct pager backing;
	uint64_t size;
	size_t done = 0;

	int fd = ob_backing_get(oi);
	pthread_mutex_lock(&oi->lock);
	size = oi->rec.size_bytes;
	backing = ob_backing_pager(&oi->rec, fd, io, &fp);
	pthread_mutex_unlock(&oi->lock);
	if (off >= size || len == 0) {
		ob_backing_put(oi);
		return 0;
	}
	len = (size_t)PFS_MIN((uint64_t)len, size - off);
	while (done < len) {
		uint64_t pos = off + done, page = pos / PFS_PAGE_SIZE, skip = pos % PFS_PAGE_SIZE;
		uint64_t want = PFS_MIN((uint64_t)(len - done), STORE_IO_MAX_PAGES * PFS_PAGE_SIZE - skip);
		uint32_t npages = (uint32_t)pfs_bytes_to_pages(skip + want);
		int rc = store_page_in(io, oi->id, page, npages, arena, &backing);

		if (rc < 0) {
			ob_backing_put(oi);
			return done ? (ssize_t)done : rc;
		}
		if ((uint8_t *)buf + done != arena + skip) /* no copy when the caller reads the arena */
			memcpy((uint8_t *)buf + done, arena + skip, (size_t)want);
		done += (size_t)want;
		if (oi->rec.segtype == CAT_SEG_STACK) {
			/* Touching below the low-water mark moves it down. */
			pthread_mutex_lock(&oi->lock);
			if (page < oi->rec.low_water_page) {
				oi->rec.low_water_page = page;
				ob_mark_dirty(o, oi);
			}
			pthread_mutex_unlock(&oi->lock);
		}
	}
	ob_backing_put(oi);
	return (ssize_t)done;
}

ssize_t obj_write(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		  size_t len, const void *data)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	struct cat_object *r = &oi->rec;
	struct filepager fp;
	struct pager backing;
	struct swap_pager sp;

	if (len == 0)
		return 0;
	if (pfs_range_overflows(off, len) || off + len > ((uint64_t)1 << 52))
		return -EFBIG;
	int fd = ob_backing_get(oi);
	pthread_mutex_lock(&oi->lock);
	backing = ob_backing_pager(r, fd, io, &fp);
	sp = (struct swap_pager){ io, oi->id, r->memctl, &backing, NULL };
	bool dead = r->flags & CAT_F_DEAD;
	bool past_stack = r->segtype == CAT_SEG_STACK && off + len > r->size_bytes;
	pthread_mutex_unlock(&oi->lock);
	/* The write-back pager takes its own page-outs; every other kind's go to swap. */
	const struct pager swap = { &store_swap_pager_ops, &sp };
	const struct pager *out = pager_writes_back(&backing) ? &backing : &swap;
	ssize_t n;
	if (r->segtype == CAT_SEG_CODE && !(r->flags & CAT_F_DEBUG))
		n = -EROFS;
	else if (dead)
		n = (ssize_t)len; /* a late page-out to a dead stack is dropped */
	else if (past_stack)
		n = -EFBIG; /* a stack never grows past its maxsize */
	else
		n = pager_page_out(out, off, data, len);
	ob_backing_put(oi);
	if (n < 0 || (size_t)n < len || dead)
		return n;
	pthread_mutex_lock(&oi->lock);
	bool changed = false;
	if (off + len > r->size_bytes && r->segtype != CAT_SEG_STACK) {
		r->size_bytes = off + len;
		changed = true;
	}
	int64_t now = ob_now_ns();
	if (r->mtime_ns / 1000000000 != now / 1000000000) { /* a second's precision is enough to queue */
		r->mtime_ns = r->ctime_ns = now;
		changed = true;
	}
	if (r->segtype == CAT_SEG_STACK && off / PFS_PAGE_SIZE < r->low_water_page) {
		r->low_water_page = off / PFS_PAGE_SIZE;
		changed = true;
	}
	if (changed)
		ob_mark_dirty(o, oi);
	pthread_mutex_unlock(&oi->lock);
	return (ssize_t)len;
}

int obj_fsync(struct objects *o, uint64_t handle)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;

	struct filepager fp;
	struct pager backing;
	int rc;

	int fd = ob_backing_get(oi);
	pthread_mutex_lock(&oi->lock);
	backing = ob_backing_pager(&oi->rec, fd, NULL, &fp);
	pthread_mutex_unlock(&oi->lock);
	rc = pager_sync(&backing, true);
	ob_backing_put(oi);
	if (rc < 0)
		return rc;
	return store_commit(o->s);
}
