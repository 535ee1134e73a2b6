/*
 * object_internal.h: what object.c (namespace, handles, page path,
 * lifecycles) and object_attr.c (attributes, xattrs) share.
 *
 * Locks: `objects.lock` guards the open table and namespace changes; an
 * open object's `lock` guards its record copy; `dirty_lock` guards the list
 * of records waiting for the next commit and is a leaf (held across nothing
 * else), because the commit hook takes it inside the catalogue's writer. An
 * object's lock may be held across cat_write, never the other way round.
 */
#ifndef PAGERFS_OBJECT_INTERNAL_H
#define PAGERFS_OBJECT_INTERNAL_H

#include <pthread.h>
#include "object.h"

/*
 * An open object. It stays in the open table while it has opens, while its
 * last release runs terminate (`closing`: a new open waits for it, so it
 * never loads a record older than the one being written), and is freed once
 * it has left the table and no ob_find_open reference remains.
 */
struct oinfo {
	uint64_t id;
	pthread_mutex_t lock;  /* guards rec */
	struct cat_object rec; /* authoritative while open */
	unsigned opens, refs;  /* refs: ob_find_open holders; both under objects.lock */
	bool closing, in_table;
	bool unlinked;         /* name gone: destroy at last release */
	int backing_fd;        /* -1 when none is open */
	/*
	 * Held shared by whoever uses backing_fd outside `lock` (page-ins and
	 * page-outs, resize, fallocate, fsync), exclusively (before `lock`) to
	 * replace it: a descriptor closed under an I/O could have its number
	 * reused by another file, which the I/O would then read or write.
	 */
	pthread_rwlock_t backing_lock;
	struct ohandle *handles;
	struct { pid_t pid; unsigned count; } pids[16];
	struct oinfo *hnext;
};

struct ohandle {
	struct oinfo *oi;
	int flags;
	pid_t pid;
	struct ohandle *next, *prev;
};

/* A record the page path changed, waiting for the next commit. */
struct odirty {
	struct cat_object rec;
	uint64_t seq;
};

struct objects {
	struct store *s;
	struct cat *cat;
	pthread_mutex_t lock;
	pthread_cond_t closed; /* an object finished closing */
	struct oinfo *table[1024];
	obj_invalidate_fn inval;
	void *inval_arg;
	obj_entry_fn entry;
	void *entry_arg;
	char *mountpoint;      /* backing files must not be under it */
	pthread_mutex_t dirty_lock;
	struct odirty *dirty;
	size_t ndirty, capdirty;
	uint64_t dirty_seq, dirty_written; /* written: highest seq the last commit hook wrote */
};

/*
 * rec's backing pager over fp, reading through io's ring (io NULL: for a
 * sync only): the write-back pager for a shared object, else the file pager.
 * fd is the backing file, or -1 (then its page-ins and page-outs are -EIO).
 */
struct pager ob_backing_pager(const struct cat_object *rec, int fd, struct store_io *io,
			      struct filepager *fp);
/*
 * Zero [off, off + len) inside one page of rec's object (read, zero, write),
 * keeping the page's other bytes, backing ones included; fd is the backing
 * file or -1 (then it is opened with cred when the page needs it).
 */
int ob_zero_in_page(struct objects *o, const struct cat_object *rec, int fd,
		    const struct obj_cred *cred, uint64_t off, uint64_t len);
/* The table's entry for id (open or closing), no reference taken; objects.lock held. */
struct oinfo *ob_lookup_locked(struct objects *o, uint64_t id);
/* backing_fd for I/O outside oi->lock, kept open until ob_backing_put. */
int ob_backing_get(struct oinfo *oi);
void ob_backing_put(struct oinfo *oi);
/* Drop a reference taken by ob_find_open. */
void ob_put(struct objects *o, struct oinfo *oi);
/* Is id open (or closing)? */
bool ob_is_open(struct objects *o, uint64_t id);

/* The record of id from the catalogue (callable with objects.lock held). */
int ob_read_record(struct objects *o, uint64_t id, struct cat_object *rec);
/* The record of id: the open copy if open, else the catalogue's. */
int ob_get_record(struct objects *o, uint64_t id, struct cat_object *rec);
/*
 * Write rec now (and keep the open copy in step); its namespace fields are the
 * catalogue's. -ENOENT if the object was destroyed since rec was read.
 */
int ob_put_record(struct objects *o, struct cat_object *rec);
/* The open (or closing) object, with a reference for the caller to ob_put, or NULL. */
struct oinfo *ob_find_open(struct objects *o, uint64_t id);
void ob_attr_from(struct objects *o, const struct cat_object *rec, struct obj_attr *a);
/* Open path with a caller's file-system identity (setfsuid/setfsgid/groups, this thread only). */
int ob_open_as(const struct obj_cred *cred, const char *path, int flags);
/* Install rec's initial image in its page map: backing range as FILE, the rest zero. */
int ob_reset_image(struct objects *o, const struct cat_object *rec);
void ob_invalidate(struct objects *o, uint64_t id, uint64_t off, uint64_t len);
int64_t ob_now_ns(void);
/*
 * cat_write functions: update the record arg, keeping the catalogue's parent,
 * name, control and link count (filled into arg), or -ENOENT if the object
 * has been destroyed meanwhile; destroy a struct destroy_arg's record (and
 * name).
 */
int ob_put_txn(struct cat_txn *txn, void *arg);
struct destroy_arg {
	uint64_t id, parent;
	const char *name; /* NULL: the name is already gone */
};
int ob_destroy_txn(struct cat_txn *txn, void *arg);
/* rec's parent, name, control and link count become cur's (see ob_put_txn). */
void ob_keep_namespace(struct cat_object *rec, const struct cat_object *cur);
/* The open copy's namespace fields again from the catalogue (after a failed write); oi->lock held. */
void ob_reload_namespace(struct objects *o, struct oinfo *oi);

/* ---- code objects sharing a text (object_text.c) ---- */

/* A code object without debug, on a backing range: pages anyone may share. */
bool ob_is_text(const struct cat_object *r);
/*
 * If id is a text and another object holds the same one, point id's name at
 * that object (a hard link) and destroy id, now or at its last release.
 * Reports the changed name through the entry callback. Always 0: when
 * nothing could be shared (raced, or an error, which is logged), id stays
 * an object of its own.
 */
int ob_share_text(struct objects *o, uint64_t id);
/* A name of id other than (skip_parent, skip_name): -ENOENT if there is none. */
int ob_other_name(struct cat_txn *txn, uint64_t id, uint64_t skip_parent, const char *skip_name,
		  uint64_t *parent, char *name);

#endif /* PAGERFS_OBJECT_INTERNAL_H */
