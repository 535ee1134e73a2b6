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

/* ---- records ---- */

struct oinfo *ob_find_open(struct objects *o, uint64_t id)
{
	struct oinfo *oi;

	pthread_mutex_lock(&o->lock);
	for (oi = o->table[id % PFS_ARRAY_SIZE(o->table)]; oi; oi = oi->hnext)
		if (oi->id == id && oi->opens)
			break;
	pthread_mutex_unlock(&o->lock);
	return oi;
}

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
		return 0;
	}
	return ob_read_record(o, id, rec);
}

int ob_put_txn(struct cat_txn *txn, void *arg)
{
	return cat_object_put(txn, arg);
}

/* Drop id from the dirty list: its latest record has just been written. */
static void ob_undirty(struct objects *o, uint64_t id)
{
	pthread_mutex_lock(&o->dirty_lock);
	for (size_t i = 0; i < o->ndirty; i++)
		if (o->dirty[i].id == id) {
			o->dirty[i] = o->dirty[--o->ndirty];
			break;
		}
	pthread_mutex_unlock(&o->dirty_lock);
}

int ob_put_record(struct objects *o, const struct cat_object *rec)
{
	struct oinfo *oi = ob_find_open(o, rec->id);
	int rc;

	if (oi)
		pthread_mutex_lock(&oi->lock);
	rc = cat_write(o->cat, ob_put_txn, (void *)rec);
	if (rc == 0 && oi)
		oi->rec = *rec;
	if (oi)
		pthread_mutex_unlock(&oi->lock);
	if (rc == 0)
		ob_undirty(o, rec->id);
	return rc;
}

/* Queue an open object's record for the next commit; oi->lock held. */
static int ob_mark_dirty(struct objects *o, struct oinfo *oi)
{
	int rc = 0;

	pthread_mutex_lock(&o->dirty_lock);
	size_t i;
	for (i = 0; i < o->ndirty; i++)
		if (o->dirty[i].id == oi->id)
			break;
	if (i == o->ndirty) {
		if (o->ndirty == o->capdirty) {
			size_t cap = o->capdirty ? o->capdirty * 2 : 16;
			struct cat_object *nv = realloc(o->dirty, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				goto out;
			}
			o->dirty = nv;
			o->capdirty = cap;
		}
		o->ndirty++;
	}
	o->dirty[i] = oi->rec;
out:
	pthread_mutex_unlock(&o->dirty_lock);
	return rc;
}

/* The commit hook: write every queued record with the pages. */
static int ob_commit_hook(struct cat_txn *txn, void *arg)
{
	struct objects *o = arg;
	int rc = 0;

	pthread_mutex_lock(&o->dirty_lock);
	for (size_t i = 0; i < o->ndirty && rc == 0; i++) {
		/* An object unlinked meanwhile has no record to update. */
		struct cat_object cur;
		rc = cat_object_get(txn, o->dirty[i].id, &cur);
		if (rc == 0)
			rc = cat_object_put(txn, &o->dirty[i]);
		else if (rc == -ENOENT)
			rc = 0;
	}
	pthread_mutex_unlock(&o->dirty_lock);
	return rc;
}

static void ob_commit_done(void *arg, int rc)
{
	(void)arg;
	(void)rc;
	/*
	 * Records stay queued until rewritten by ob_put_record: a record queued
	 * during the commit may be newer than what the commit wrote, and writing
	 * an unchanged record again costs little.
	 */
}

void ob_attr_from(struct objects *o, const struct cat_object *rec, struct obj_attr *a)
{
	uint64_t swap = 0;

	memset(a, 0, sizeof(*a));
	a->id = rec->id;
	a->kind = rec->kind;
	a->mode = rec->mode;
	a->uid = rec->uid;
	a->gid = rec->gid;
	a->nlink = rec->kind == CAT_KIND_DIR ? 2 : 1;
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

int objects_open(struct store *s, struct objects **out)
{
	struct objects *o = calloc(1, sizeof(*o));
	struct cat_object root;
	struct cat_txn *txn;
	int rc;

	if (!o)
		return -ENOMEM;
	o->s = s;
	o->cat = store_cat(s);
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->dirty_lock, NULL);
	if ((rc = cat_read_begin(o->cat, &txn)) < 0)
		goto fail;
	rc = cat_object_get(txn, CAT_ROOT_ID, &root);
	cat_read_end(txn);
	if (rc == -ENOENT) {
		memset(&root, 0, sizeof(root));
		root.id = CAT_ROOT_ID;
		root.kind = CAT_KIND_DIR;
		root.mode = S_IFDIR | 0755;
		root.memctl = CAT_ROOT_ID;
		root.atime_ns = root.mtime_ns = root.ctime_ns = ob_now_ns();
		rc = cat_write(o->cat, ob_put_txn, &root);
	}
	if (rc < 0)
		goto fail;
	store_set_commit_hook(s, ob_commit_hook, ob_commit_done, o);
	*out = o;
	return 0;
fail:
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->dirty_lock);
	free(o);
	return rc;
}

struct store *objects_store(struct objects *o)
{
	return o->s;
}

static void ob_free_oinfo(struct oinfo *oi)
{
	if (oi->backing_fd >= 0)
		close(oi->backing_fd);
	pthread_mutex_destroy(&oi->lock);
	free(oi);
}

void objects_close(struct objects *o)
{
	if (!o)
		return;
	/* Handles still open (the kernel unmounted without releases) simply close. */
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
	pthread_mutex_destroy(&o->dirty_lock);
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

/* Mach terminate: what an object's type does when its last user closes it. */
static int ob_terminate(struct objects *o, struct oinfo *oi)
{
	struct cat_object *r = &oi->rec;
	int rc = 0;

	if (oi->unlinked) {
		struct destroy_arg d = { r->id, r->parent, NULL };
		ob_undirty(o, r->id);
		return store_destroy(o->s, r->id, r->memctl, ob_destroy_txn, &d);
	}
	if (r->kind != CAT_KIND_FILE)
		return 0;
	if (r->segtype == CAT_SEG_SHARED) {
		if (oi->backing_fd >= 0 && fsync(oi->backing_fd) < 0)
			rc = pfs_neg_errno();
	} else if (r->flags & CAT_F_PERSIST) {
		/* a persistent object keeps everything */
	} else if (r->segtype == CAT_SEG_CODE) {
		if (r->flags & CAT_F_DEBUG)
			rc = ob_reset_image(o, r); /* the private copy goes, the file's text stays */
		if (rc == 0) {
			r->flags |= CAT_F_CACHED;
			rc = cat_write(o->cat, ob_put_txn, r);
		}
	} else if (r->segtype == CAT_SEG_HEAP) {
		rc = ob_reset_image(o, r);
		if (rc == 0) {
			r->flags |= CAT_F_CACHED;
			rc = cat_write(o->cat, ob_put_txn, r);
		}
	} else if (r->segtype == CAT_SEG_STACK) {
		rc = store_set_range(o->s, r->id, r->memctl, 0, PFS_ALL_PAGES, PMAP_ZERO, 0);
		if (rc == 0) {
			r->flags |= CAT_F_DEAD;
			r->low_water_page = pfs_bytes_to_pages(r->size_bytes);
			rc = cat_write(o->cat, ob_put_txn, r);
		}
	}
	if (rc == 0)
		ob_undirty(o, r->id);
	ob_invalidate(o, r->id, 0, 0); /* contents reverted: the kernel's pages are stale */
	return rc;
}

int obj_open(struct objects *o, uint64_t id, int flags, const struct obj_cred *cred,
	     uint64_t *handle)
{
	struct ohandle *h = calloc(1, sizeof(*h));
	struct oinfo *oi;
	size_t b = id % PFS_ARRAY_SIZE(o->table);
	bool writing = (flags & O_ACCMODE) != O_RDONLY;
	int rc = 0;

	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&o->lock);
	for (oi = o->table[b]; oi; oi = oi->hnext)
		if (oi->id == id)
			break;
	if (!oi) {
		struct cat_txn *txn;
		oi = calloc(1, sizeof(*oi));
		if (!oi) {
			rc = -ENOMEM;
			goto out;
		}
		oi->id = id;
		oi->backing_fd = -1;
		pthread_mutex_init(&oi->lock, NULL);
		if ((rc = cat_read_begin(o->cat, &txn)) == 0) {
			rc = cat_object_get(txn, id, &oi->rec);
			cat_read_end(txn);
		}
		if (rc < 0) {
			ob_free_oinfo(oi);
			goto out;
		}
		oi->hnext = o->table[b];
		o->table[b] = oi;
	}
	struct cat_object *r = &oi->rec;
	if (r->kind != CAT_KIND_FILE) {
		rc = -EISDIR;
		goto out;
	}
	if (writing && r->segtype == CAT_SEG_CODE && !(r->flags & CAT_F_DEBUG)) {
		rc = -EROFS;
		goto out;
	}
	if ((r->flags & CAT_F_BACKING) && oi->backing_fd < 0) {
		int fd = ob_open_as(cred, r->backing.path,
				    r->segtype == CAT_SEG_SHARED ? O_RDWR : O_RDONLY);
		struct stat st;
		if (fd < 0) {
			rc = fd;
			goto out;
		}
		if (fstat(fd, &st) < 0 || st.st_ino != r->backing.ino || st.st_dev != r->backing.dev) {
			pfs_warn("object %llu: backing file %s was replaced", (unsigned long long)id,
				 r->backing.path);
			close(fd);
			rc = -ESTALE;
			goto out;
		}
		oi->backing_fd = fd;
	}
	if (r->flags & (CAT_F_DEAD | CAT_F_CACHED)) {
		/* A new user: a dead stack starts afresh, a cached object is live again. */
		r->flags &= ~(CAT_F_DEAD | CAT_F_CACHED);
		if ((rc = cat_write(o->cat, ob_put_txn, r)) < 0)
			goto out;
	}
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
	*handle = (uint64_t)(uintptr_t)h;
out:
	if (rc < 0 && oi && oi->opens == 0) {
		/* Unlink the unused entry again. */
		struct oinfo **pp = &o->table[b];
		while (*pp && *pp != oi)
			pp = &(*pp)->hnext;
		if (*pp) {
			*pp = oi->hnext;
			ob_free_oinfo(oi);
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (rc < 0)
		free(h);
	return rc;
}

int obj_release(struct objects *o, uint64_t handle)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	size_t b = oi->id % PFS_ARRAY_SIZE(o->table);
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < PFS_ARRAY_SIZE(oi->pids); i++)
		if (oi->pids[i].pid == h->pid && oi->pids[i].count) {
			oi->pids[i].count--;
			break;
		}
	if (--oi->opens == 0) {
		struct oinfo **pp = &o->table[b];
		while (*pp != oi)
			pp = &(*pp)->hnext;
		*pp = oi->hnext;
		pthread_mutex_unlock(&o->lock);
		/* Its size and times must reach the catalogue before the copy goes. */
		pthread_mutex_lock(&oi->lock);
		rc = oi->unlinked ? 0 : cat_write(o->cat, ob_put_txn, &oi->rec);
		if (rc == 0)
			rc = ob_terminate(o, oi);
		else
			ob_terminate(o, oi);
		pthread_mutex_unlock(&oi->lock);
		ob_undirty(o, oi->id);
		ob_free_oinfo(oi);
	} else {
		pthread_mutex_unlock(&o->lock);
	}
	free(h);
	return rc;
}

/* ---- the page path ---- */

/* FILE runs of a page-in: the backing file, zeros past its end. */
static int ob_fill_file(void *arg, uint64_t file_page, uint32_t npages, void *buf)
{
	struct oinfo *oi = arg;
	uint64_t want = (uint64_t)npages * PFS_PAGE_SIZE, done = 0;
	uint64_t off = file_page * PFS_PAGE_SIZE;
	uint64_t limit = oi->rec.backing.len_bytes;

	if (oi->backing_fd < 0)
		return -EIO;
	while (done < want && off + done < limit) {
		size_t n = (size_t)PFS_MIN(want - done, limit - (off + done));
		ssize_t got = pread(oi->backing_fd, (uint8_t *)buf + done, n,
				    (off_t)(oi->rec.backing.offset_bytes + off + done));
		if (got < 0)
			return pfs_neg_errno() == -EINTR ? (int)-EIO : pfs_neg_errno();
		if (got == 0)
			break;
		done += (uint64_t)got;
	}
	memset((uint8_t *)buf + done, 0, want - done);
	return 0;
}

ssize_t obj_read(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		 size_t len, void *buf)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	uint8_t *arena = store_io_buf(io);
	uint64_t size, id = oi->id;
	size_t done = 0;

	pthread_mutex_lock(&oi->lock);
	size = oi->rec.size_bytes;
	pthread_mutex_unlock(&oi->lock);
	if (off >= size || len == 0)
		return 0;
	len = (size_t)PFS_MIN((uint64_t)len, size - off);
	while (done < len) {
		uint64_t pos = off + done, page = pos / PFS_PAGE_SIZE, skip = pos % PFS_PAGE_SIZE;
		uint64_t want = PFS_MIN((uint64_t)(len - done), STORE_IO_MAX_PAGES * PFS_PAGE_SIZE - skip);
		uint32_t npages = (uint32_t)pfs_bytes_to_pages(skip + want);
		bool direct = (uint8_t *)buf + done == arena && skip == 0;
		int rc = store_page_in(io, id, page, npages, direct ? (void *)arena : arena,
				       ob_fill_file, oi);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		if (!direct)
			memcpy((uint8_t *)buf + done, arena + skip, (size_t)want);
		done += (size_t)want;
		if (oi->rec.segtype == CAT_SEG_STACK && page < oi->rec.low_water_page) {
			pthread_mutex_lock(&oi->lock);
			oi->rec.low_water_page = page;
			ob_mark_dirty(o, oi);
			pthread_mutex_unlock(&oi->lock);
		}
	}
	return (ssize_t)done;
}

/* Read page `page` into out (a page), for a partial-page write. */
static int ob_read_page(struct store_io *io, struct oinfo *oi, uint64_t page, uint8_t *out)
{
	uint8_t *arena = store_io_buf(io);
	int rc = store_page_in(io, oi->id, page, 1, arena, ob_fill_file, oi);

	if (rc == 0)
		memcpy(out, arena, PFS_PAGE_SIZE);
	return rc;
}

ssize_t obj_write(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		  size_t len, const void *data)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct oinfo *oi = h->oi;
	struct cat_object *r = &oi->rec;
	uint8_t *arena = store_io_buf(io);
	uint8_t head[PFS_PAGE_SIZE], tail[PFS_PAGE_SIZE];
	size_t done = 0;
	int rc;

	if (len == 0)
		return 0;
	if (pfs_range_overflows(off, len) || off + len > ((uint64_t)1 << 52))
		return -EFBIG;
	if (r->segtype == CAT_SEG_CODE && !(r->flags & CAT_F_DEBUG))
		return -EROFS;
	if (r->flags & CAT_F_DEAD)
		return (ssize_t)len; /* a late page-out to a dead stack is dropped */
	if (r->segtype == CAT_SEG_SHARED) {
		if (oi->backing_fd < 0)
			return -EIO;
		while (done < len) {
			ssize_t n = pwrite(oi->backing_fd, (const uint8_t *)data + done, len - done,
					   (off_t)(r->backing.offset_bytes + off + done));
			if (n < 0)
				return done ? (ssize_t)done : pfs_neg_errno();
			done += (size_t)n;
		}
	}
	while (done < len) {
		uint64_t pos = off + done, page = pos / PFS_PAGE_SIZE, skip = pos % PFS_PAGE_SIZE;
		uint64_t want = PFS_MIN((uint64_t)(len - done), STORE_IO_MAX_PAGES * PFS_PAGE_SIZE - skip);
		uint32_t npages = (uint32_t)pfs_bytes_to_pages(skip + want);
		uint64_t tail_used = (skip + want) % PFS_PAGE_SIZE;
		bool have_tail = tail_used && !(npages == 1 && skip);

		/* Partial pages keep their other bytes: read them before the arena is filled. */
		if (skip && (rc = ob_read_page(io, oi, page, head)) < 0)
			return done ? (ssize_t)done : rc;
		if (have_tail && (rc = ob_read_page(io, oi, page + npages - 1, tail)) < 0)
			return done ? (ssize_t)done : rc;
		if (npages == 1 && skip && tail_used)
			memcpy(arena, head, PFS_PAGE_SIZE);
		else {
			if (skip)
				memcpy(arena, head, PFS_PAGE_SIZE);
			if (have_tail)
				memcpy(arena + (uint64_t)(npages - 1) * PFS_PAGE_SIZE, tail, PFS_PAGE_SIZE);
		}
		if ((const uint8_t *)data + done != arena + skip)
			memcpy(arena + skip, (const uint8_t *)data + done, (size_t)want);
		rc = store_page_out(io, oi->id, r->memctl, page, npages, arena);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		done += (size_t)want;
	}
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

	if (oi->rec.segtype == CAT_SEG_SHARED && oi->backing_fd >= 0 && fdatasync(oi->backing_fd) < 0)
		return pfs_neg_errno();
	return store_commit(o->s);
}
