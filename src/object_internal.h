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

struct oinfo {
	uint64_t id;
	pthread_mutex_t lock;
	struct cat_object rec; /* authoritative while open */
	unsigned opens;
	bool unlinked;         /* name gone: destroy at last release */
	int backing_fd;        /* -1 when none is open */
	struct { pid_t pid; unsigned count; } pids[16];
	struct oinfo *hnext;
};

struct ohandle {
	struct oinfo *oi;
	int flags;
	pid_t pid;
};

struct objects {
	struct store *s;
	struct cat *cat;
	pthread_mutex_t lock;
	struct oinfo *table[1024];
	obj_invalidate_fn inval;
	void *inval_arg;
	pthread_mutex_t dirty_lock;
	struct cat_object *dirty; /* latest records of objects changed by the page path */
	size_t ndirty, capdirty;
};

/* The record of id from the catalogue (callable with objects.lock held). */
int ob_read_record(struct objects *o, uint64_t id, struct cat_object *rec);
/* The record of id: the open copy if open, else the catalogue's. */
int ob_get_record(struct objects *o, uint64_t id, struct cat_object *rec);
/* Write rec now (and keep the open copy in step). */
int ob_put_record(struct objects *o, const struct cat_object *rec);
/* The open object, referenced, or NULL; obj_release/ob_put drop it. */
struct oinfo *ob_find_open(struct objects *o, uint64_t id);
void ob_attr_from(struct objects *o, const struct cat_object *rec, struct obj_attr *a);
/* Open path with a caller's file-system identity (setfsuid/setfsgid/groups, this thread only). */
int ob_open_as(const struct obj_cred *cred, const char *path, int flags);
/* Install rec's initial image in its page map: backing range as FILE, the rest zero. */
int ob_reset_image(struct objects *o, const struct cat_object *rec);
void ob_invalidate(struct objects *o, uint64_t id, uint64_t off, uint64_t len);
int64_t ob_now_ns(void);
/* cat_write functions: put the record arg; destroy a struct destroy_arg's record (and name). */
int ob_put_txn(struct cat_txn *txn, void *arg);
struct destroy_arg {
	uint64_t id, parent;
	const char *name; /* NULL: the name is already gone */
};
int ob_destroy_txn(struct cat_txn *txn, void *arg);

#endif /* PAGERFS_OBJECT_INTERNAL_H */
