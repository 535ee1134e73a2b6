/*
 * sync.c: making page-outs durable. fsync, fdatasync and msync(MS_SYNC)
 * are Mach's lock_request + lock_completed: they return when everything
 * written to the object before the call is committed (DESIGN.md,
 * "Durability"). The store's group commit shares one commit among all
 * callers, so there is no point in a weaker fdatasync.
 *
 * The commit timer (commit_interval=) bounds how much a crash can lose
 * when nobody calls fsync; it commits only when something was paged out or
 * changed since its last round, so an idle mount does not write.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "pagerfsd.h"

void pfsd_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	int rc;

	(void)datasync;
	if (pfsd_is_ctl(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	atomic_fetch_add(&d->ctr.fsyncs, 1);
	rc = obj_fsync(d->objs, fi->fh);
	pfsd_reply_err(req, "fsync", ino, rc);
}

/* A directory's names are committed as they change; this covers the pages too. */
void pfsd_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);

	(void)datasync;
	(void)fi;
	if (pfsd_is_ctl(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	pfsd_reply_err(req, "fsyncdir", ino, store_commit(d->store));
}

/*
 * Page-outs queue metadata (sizes, times) for the next commit even when the
 * pages themselves are already committed; namespace changes are committed
 * as they happen. (A stack's low-water mark moved by a page-in waits for
 * the next commit of any kind: it only ever moves down again.)
 */
static uint64_t sy_activity(struct pfsd *d)
{
	return atomic_load(&d->ctr.writes);
}

static void *sy_timer(void *arg)
{
	struct pfsd *d = arg;
	uint64_t seen = sy_activity(d);
	bool failing = false;

	pthread_mutex_lock(&d->timer_lock);
	while (!d->timer_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += d->opt.commit_interval_s;
		while (!d->timer_stop &&
		       pthread_cond_timedwait(&d->timer_cond, &d->timer_lock, &ts) != ETIMEDOUT)
			;
		if (d->timer_stop)
			break;
		pthread_mutex_unlock(&d->timer_lock);

		struct store_stats st;
		uint64_t now = sy_activity(d);
		store_get_stats(d->store, &st);
		if (!st.pending_pages && now == seen && st.discard_waiting_frames) {
			/* Idle since frames were freed (rewrites, punches, rm): give their space back. */
			store_discard_freed(d->store);
		} else if (st.pending_pages || now != seen) {
			int rc = store_commit(d->store);
			if (rc < 0 && !failing)
				pfs_err("timed commit failed: %s (retrying every %u s)", strerror(-rc),
					d->opt.commit_interval_s);
			else if (rc == 0 && failing)
				pfs_info("timed commit succeeded again");
			failing = rc < 0;
			if (rc == 0)
				seen = now;
		}
		pthread_mutex_lock(&d->timer_lock);
	}
	pthread_mutex_unlock(&d->timer_lock);
	return NULL;
}

int pfsd_timer_start(struct pfsd *d)
{
	pthread_condattr_t ca;
	int rc;

	pthread_mutex_init(&d->timer_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (d->opt.commit_interval_s == 0)
		return 0;
	if ((rc = pfsd_start_thread(&d->timer, sy_timer, d)) != 0)
		return -rc;
	d->timer_running = true;
	return 0;
}

void pfsd_timer_stop(struct pfsd *d)
{
	if (!d->timer_running)
		return;
	pthread_mutex_lock(&d->timer_lock);
	d->timer_stop = true;
	pthread_cond_signal(&d->timer_cond);
	pthread_mutex_unlock(&d->timer_lock);
	pthread_join(d->timer, NULL);
	d->timer_running = false;
}
