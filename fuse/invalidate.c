/*
 * invalidate.c: telling the kernel that an object's contents changed under
 * its page cache (a lifecycle revert, a resize, a release of pages, a new
 * type or backing), or that a name leads to another object (a code object
 * sharing another's text).
 *
 * The object layer reports such ranges from inside its operations, often
 * while a request for the same inode is being served and the kernel holds
 * that inode's pages locked (a READ) or under writeback (a WRITE).
 * fuse_lowlevel_notify_inval_inode waits for those pages, so calling it
 * there deadlocks. Ranges are therefore queued (merged per inode, never
 * blocking beyond a short mutex) and sent by one thread of their own.
 * Entries go to a second queue and thread that no request ever waits for:
 * the kernel locks the directory to drop one, and an unlink in that
 * directory may hold it while it waits for the inode lock of the setxattr
 * that queued the entry.
 * Dropping the attributes alone takes no page lock and is done in place.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pagerfsd.h"

#define IV_INITIAL_CAP 64

/* Merge [off, off+len) into it (len 0: to the end). */
static void iv_merge(struct pfsd_inval_item *it, uint64_t off, uint64_t len)
{
	uint64_t start = PFS_MIN(it->off, off);

	if (it->len == 0 || len == 0 || pfs_range_overflows(off, len) ||
	    pfs_range_overflows(it->off, it->len)) {
		it->len = 0;
	} else {
		uint64_t end = PFS_MAX(it->off + it->len, off + len);
		it->len = end - start;
	}
	it->off = start;
}

/* Queue it (merged with a queued range of the same inode); false without memory. */
static bool iv_add(struct pfsd *d, const struct pfsd_inval_item *it)
{
	struct pfsd_invalq *q = it->name ? &d->entries : &d->inval;
	size_t i;

	pthread_mutex_lock(&q->lock);
	i = q->n;
	if (q->stop || !q->running) {
		/* Unmounted: the kernel's cache is gone with the mount. */
		pthread_mutex_unlock(&q->lock);
		free(it->name);
		return true;
	}
	if (!it->name)
		for (i = 0; i < q->n; i++)
			if (q->items[i].ino == it->ino && !q->items[i].name)
				break;
	if (i < q->n) {
		iv_merge(&q->items[i], it->off, it->len);
	} else {
		if (q->n == q->cap) {
			size_t cap = q->cap ? 2 * q->cap : IV_INITIAL_CAP;
			struct pfsd_inval_item *nv = realloc(q->items, cap * sizeof(*nv));
			if (!nv) {
				pthread_mutex_unlock(&q->lock);
				free(it->name);
				return false;
			}
			q->items = nv;
			q->cap = cap;
		}
		q->items[q->n++] = *it;
	}
	q->queued++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return true;
}

void pfsd_inval_queue(void *arg, uint64_t id, uint64_t off_bytes, uint64_t len_bytes)
{
	struct pfsd_inval_item it = { .ino = id, .off = off_bytes, .len = len_bytes };

	if (!iv_add(arg, &it))
		pfs_err("object %llu: no memory to queue a cache invalidation: "
			"the kernel may serve stale pages", (unsigned long long)id);
}

void pfsd_inval_entry(void *arg, uint64_t parent, const char *name, uint64_t id)
{
	struct pfsd_inval_item it = { .ino = id, .name = strdup(name), .parent = parent };

	if (!it.name || !iv_add(arg, &it))
		pfs_err("'%s' in directory %llu: no memory to queue an entry invalidation: "
			"the kernel may show the old object under it until it forgets it",
			name, (unsigned long long)parent);
}

/* The name leads elsewhere now: drop the kernel's entry, and the new target's attributes (nlink). */
static void iv_send_entry(struct pfsd *d, struct pfsd_inval_item *it)
{
	int rc = fuse_lowlevel_notify_inval_entry(d->se, it->parent, it->name, strlen(it->name));

	atomic_fetch_add(&d->ctr.invalidations, 1);
	if (rc < 0 && rc != -ENOENT && rc != -ENOTCONN && rc != -ENODEV)
		pfs_warn("'%s' in directory %llu: invalidating its entry: %s", it->name,
			 (unsigned long long)it->parent, strerror(-rc));
	pfsd_inval_attr(d, it->ino);
	free(it->name);
	it->name = NULL;
}

static void iv_send(struct pfsd *d, struct pfsd_inval_item *it)
{
	if (it->name) {
		iv_send_entry(d, it);
		return;
	}
	/* off_t is signed: an offset past its range means "from there on" anyway. */
	off_t off = it->off > (uint64_t)INT64_MAX ? INT64_MAX : (off_t)it->off;
	off_t len = it->len > (uint64_t)INT64_MAX ? 0 : (off_t)it->len;
	int rc = fuse_lowlevel_notify_inval_inode(d->se, it->ino, off, len);

	atomic_fetch_add(&d->ctr.invalidations, 1);
	/* ENOENT: the kernel holds no inode for it, so nothing is cached. */
	if (rc < 0 && rc != -ENOENT && rc != -ENOTCONN && rc != -ENODEV)
		pfs_warn("object %llu: invalidating [%llu, +%llu): %s", (unsigned long long)it->ino,
			 (unsigned long long)it->off, (unsigned long long)it->len, strerror(-rc));
}

static void *iv_thread(void *arg)
{
	struct pfsd_invalq *q = arg;
	struct pfsd *d = q->d;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->stop && q->n == 0)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->n == 0 && q->stop)
			break;
		/* Take the whole batch; new items go to the other array meanwhile. */
		struct pfsd_inval_item *batch = q->items;
		size_t n = q->n, cap = q->cap;
		uint64_t upto = q->queued;
		q->items = q->spare;
		q->cap = q->spare_cap;
		q->n = 0;
		q->spare = NULL;
		q->spare_cap = 0;
		pthread_mutex_unlock(&q->lock);
		for (size_t i = 0; i < n; i++)
			iv_send(d, &batch[i]);
		pthread_mutex_lock(&q->lock);
		if (!q->spare) {
			q->spare = batch;
			q->spare_cap = cap;
		} else {
			free(batch);
		}
		q->done = upto;
		pthread_cond_broadcast(&q->done_cond);
	}
	q->done = q->queued;
	pthread_cond_broadcast(&q->done_cond);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static int iv_start(struct pfsd *d, struct pfsd_invalq *q)
{
	int rc;

	q->d = d;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	pthread_cond_init(&q->done_cond, NULL);
	q->running = true;
	if ((rc = pfsd_start_thread(&q->thread, iv_thread, q)) != 0) {
		q->running = false;
		return -rc;
	}
	return 0;
}

int pfsd_inval_start(struct pfsd *d)
{
	int rc = iv_start(d, &d->inval);

	return rc < 0 ? rc : iv_start(d, &d->entries);
}

static void iv_stop(struct pfsd_invalq *q)
{
	if (!q->running)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_mutex_lock(&q->lock);
	q->running = false;
	for (size_t i = 0; i < q->n; i++)
		free(q->items[i].name);
	free(q->items);
	free(q->spare);
	q->items = q->spare = NULL;
	q->n = q->cap = q->spare_cap = 0;
	pthread_mutex_unlock(&q->lock);
}

void pfsd_inval_stop(struct pfsd *d)
{
	iv_stop(&d->entries);
	iv_stop(&d->inval);
}

void pfsd_inval_flush(struct pfsd *d)
{
	struct pfsd_invalq *q = &d->inval;

	pthread_mutex_lock(&q->lock);
	uint64_t want = q->queued;
	while (q->running && !q->stop && q->done < want)
		pthread_cond_wait(&q->done_cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void pfsd_inval_attr(struct pfsd *d, uint64_t ino)
{
	/* A negative offset: attributes only, no page is touched. */
	int rc = fuse_lowlevel_notify_inval_inode(d->se, ino, -1, 0);

	if (rc < 0 && rc != -ENOENT && rc != -ENOTCONN && rc != -ENODEV)
		pfs_warn("object %llu: invalidating attributes: %s", (unsigned long long)ino,
			 strerror(-rc));
}
