/*
 * serve.c: the FUSE session: its operations table, the init handshake, the
 * worker threads that read requests and serve them, and each worker's I/O
 * context.
 *
 * The workers are ours, not libfuse's thread pool: a fixed number of
 * threads, each reading /dev/fuse and serving what it read to the end on
 * its own (no hand-off on the fault path: waking another CPU costs more
 * than a page-in from the page cache), each with its own store_io (an
 * io_uring ring and a registered 1 MiB arena) opened when the thread starts
 * and found through a pthread key. A pool that grows and shrinks would set
 * up and tear down rings under load, and with mlockall every thread's stack
 * is locked, so the stacks are sized here.
 *
 * Stopping: the kernel ends the session itself when the mount goes (every
 * blocked read returns ENODEV). To stop a session that is still mounted,
 * pfsd_workers_stop marks it exited and interrupts the reads with SIGUSR1,
 * which a worker accepts only while it waits in read(): a signal must never
 * interrupt an io_uring wait with I/O in flight.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "iobuf.h"
#include "log.h"
#include "pagerfsd.h"

#define SV_STACK_BYTES (1u << 20)

int pfsd_start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SV_STACK_BYTES); /* a commit runs on the timer's */
	rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}
#define SV_MAX_BACKGROUND_MIN 16

/* ---- helpers every operation uses ---- */

void pfsd_count_err(struct pfsd *d, int neg)
{
	enum pfsd_err_kind k;

	switch (-neg) {
	case EIO: case EUCLEAN: case EBADMSG: k = PFSD_ERR_IO; break;
	case ENOSPC: case EDQUOT: k = PFSD_ERR_NOSPC; break;
	case EROFS: k = PFSD_ERR_ROFS; break;
	case ENOMEM: k = PFSD_ERR_NOMEM; break;
	default: k = PFSD_ERR_OTHER; break;
	}
	atomic_fetch_add(&d->ctr.errors[k], 1);
}

/* Errors a user causes and expects; anything else is worth a log line. */
static bool sv_expected(int err)
{
	switch (err) {
	case ENOENT: case EEXIST: case ENOTEMPTY: case ENOTDIR: case EISDIR: case EACCES:
	case EPERM: case EINVAL: case ENODATA: case ERANGE: case ENOTSUP: case EBUSY:
	case ENAMETOOLONG: case EXDEV: case EROFS: case ENOSPC: case EDQUOT: case EFBIG:
	case ENOSYS: case ESTALE: case EINTR:
		return true;
	}
	return false;
}

void pfsd_reply_err(fuse_req_t req, const char *op, uint64_t ino, int neg)
{
	int err = neg < 0 ? -neg : neg;

	if (err == 0) {
		fuse_reply_err(req, 0);
		return;
	}
	if (!sv_expected(err))
		pfs_warn("%s of inode %llu: %s", op, (unsigned long long)ino, strerror(err));
	else
		pfs_debug("%s of inode %llu: %s", op, (unsigned long long)ino, strerror(err));
	if (err == EIO || err == ENOSPC || err == EROFS || err == ENOMEM || !sv_expected(err))
		pfsd_count_err(pfsd_of(req), -err);
	fuse_reply_err(req, err);
}

void pfsd_cred(fuse_req_t req, struct obj_cred *c, gid_t *groups, int cap)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->pid = ctx->pid;
	c->groups = NULL;
	c->ngroups = 0;
	if (groups && cap > 0) {
		/* From /proc/PID/task/PID/status; a caller already gone has none. */
		int n = fuse_req_getgroups(req, cap, groups);
		if (n > cap)
			pfs_warn("process %d is in %d groups; only %d are used for backing files",
				 (int)ctx->pid, n, cap);
		if (n > 0) {
			c->groups = groups;
			c->ngroups = PFS_MIN(n, cap);
		}
	}
}

static void sv_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000;
	}
}

void pfsd_stat_from(const struct obj_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)a->id;
	st->st_mode = (mode_t)a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size_bytes;
	st->st_blocks = (blkcnt_t)a->blocks_512;
	st->st_blksize = (blksize_t)PFS_PAGE_SIZE;
	sv_ts(a->atime_ns, &st->st_atim);
	sv_ts(a->mtime_ns, &st->st_mtim);
	sv_ts(a->ctime_ns, &st->st_ctim);
}

void pfsd_entry_from(const struct obj_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->id;
	e->generation = 0; /* ids are never reused */
	pfsd_stat_from(a, &e->attr);
	e->attr_timeout = PFSD_ATTR_TIMEOUT;
	e->entry_timeout = PFSD_ENTRY_TIMEOUT;
}

/* ---- per-thread I/O context ---- */

static void sv_thread_free(void *p)
{
	struct pfsd_thread *t = p;

	if (t) {
		store_io_close(t->io);
		free(t);
	}
}

void pfsd_thread_key_init(struct pfsd *d)
{
	pthread_key_create(&d->thread_key, sv_thread_free);
}

/*
 * A worker whose ring broke (io_uring itself failed) would fail every page-in
 * and page-out it serves until the daemon restarts: give it a new one, here
 * at the start of a request, where nothing holds the old arena.
 */
static void sv_renew_io(struct pfsd_thread *t, struct store *s)
{
	struct store_io *io;
	int rc;

	if ((rc = store_io_open(s, &io)) < 0) {
		static atomic_bool said;
		if (!atomic_exchange(&said, true))
			pfs_err("cannot replace a broken I/O context: %s", strerror(-rc));
		return; /* the old one answers with its error; try again next request */
	}
	static atomic_bool told;
	if (!atomic_exchange(&told, true))
		pfs_warn("replaced an I/O context whose io_uring broke (%s); later ones "
			 "are replaced without a word", strerror(-store_io_error(t->io)));
	store_io_close(t->io);
	t->io = io;
	t->arena = store_io_buf(io);
}

/* Opened when a worker starts; again here (once) if that failed. */
struct pfsd_thread *pfsd_thread(struct pfsd *d)
{
	struct pfsd_thread *t = pthread_getspecific(d->thread_key);
	int rc;

	if (pfs_likely(t != NULL)) {
		if (pfs_unlikely(store_io_error(t->io)))
			sv_renew_io(t, d->store);
		return t;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	if ((rc = store_io_open(d->store, &t->io)) < 0) {
		pfs_err("cannot open an I/O context: %s", strerror(-rc));
		free(t);
		return NULL;
	}
	t->arena = store_io_buf(t->io);
	pthread_setspecific(d->thread_key, t);
	return t;
}

/* ---- init, destroy ---- */

static void sv_init(void *userdata, struct fuse_conn_info *conn)
{
	struct pfsd *d = userdata;
	unsigned bg = PFS_MAX(2 * d->nworkers, SV_MAX_BACKGROUND_MIN);

	/* 1 MiB READs and WRITEs: libfuse asks for max_pages 256 from max_write. */
	conn->max_write = STORE_IO_MAX_PAGES * PFS_PAGE_SIZE;
	/* The mount's max_read, if given, must be asked for here too (libfuse checks). */
	conn->max_read = d->opt.max_read;
	/* This can only lower the kernel's offer; the bdi gets readahead= after INIT. */
	conn->max_readahead = (unsigned)PFS_MIN(d->opt.readahead_bytes, (uint64_t)UINT32_MAX);
	/* Readahead and write-back requests in flight at once. */
	conn->max_background = bg;
	conn->congestion_threshold = bg * 3 / 4;
	/*
	 * No writeback cache: with it the kernel owns the size of a file and
	 * ignores ours, but ours changes behind its back (a stack's maxsize, a
	 * type or backing change, a lifecycle revert). Without it write(2) is
	 * write-through and mmap write-back still comes as WRITEs.
	 * No automatic invalidation: it would drop an object's pages whenever
	 * its mtime moved, i.e. after every page-out; we tell the kernel
	 * exactly what changed instead. O_TRUNC arrives as a setattr (resize),
	 * and the kernel clears set-id bits itself.
	 */
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_AUTO_INVAL_DATA |
				  FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV |
				  FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if (conn->capable & FUSE_CAP_EXPLICIT_INVAL_DATA)
		conn->want |= FUSE_CAP_EXPLICIT_INVAL_DATA;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->time_gran = 1;
	pfs_debug("init: protocol %u.%u, capable 0x%x, want 0x%x, max_write %u, "
		  "max_readahead %u, max_background %u", conn->proto_major, conn->proto_minor,
		  conn->capable, conn->want, conn->max_write, conn->max_readahead,
		  conn->max_background);
	atomic_store(&d->initialised, true);
}

static void sv_destroy(void *userdata)
{
	(void)userdata; /* the state is committed by main after the workers stop */
}

static const struct fuse_lowlevel_ops sv_ops = {
	.init = sv_init,
	.destroy = sv_destroy,
	.lookup = pfsd_lookup,
	.forget = pfsd_forget,
	.forget_multi = pfsd_forget_multi,
	.getattr = pfsd_getattr,
	.setattr = pfsd_setattr,
	.mknod = pfsd_mknod,
	.mkdir = pfsd_mkdir,
	.unlink = pfsd_unlink,
	.rmdir = pfsd_rmdir,
	.symlink = pfsd_symlink,
	.rename = pfsd_rename,
	.link = pfsd_link,
	.create = pfsd_create,
	.open = pfsd_open,
	.read = pfsd_page_in,
	.write = pfsd_page_out,
	.flush = pfsd_flush,
	.release = pfsd_release,
	.fsync = pfsd_fsync,
	.opendir = pfsd_opendir,
	.readdir = pfsd_readdir,
	.readdirplus = pfsd_readdirplus,
	.releasedir = pfsd_releasedir,
	.fsyncdir = pfsd_fsyncdir,
	.statfs = pfsd_statfs,
	.setxattr = pfsd_setxattr,
	.getxattr = pfsd_getxattr,
	.listxattr = pfsd_listxattr,
	.removexattr = pfsd_removexattr,
	.fallocate = pfsd_fallocate,
	.copy_file_range = pfsd_copy_file_range,
};

struct fuse_session *pfsd_session_new(struct pfsd *d)
{
	return fuse_session_new(&d->opt.fuse_args, &sv_ops, sizeof(sv_ops), d);
}

/* ---- workers ---- */

static void sv_kick(int sig)
{
	(void)sig; /* only here to interrupt a worker's read() */
}

/*
 * A request buffer in which a WRITE's data starts on a page boundary: the
 * swap store then writes it with O_DIRECT where it lies, without copying
 * it (a page-out of 1 MiB would otherwise be copied once more in user
 * space: half the daemon's CPU time under msync). libfuse parses WRITE in
 * place, its data after the kernel's fuse_in_header and fuse_write_in (40
 * bytes each; the kernel ABI, not in libfuse's installed headers), and
 * reads at most its bufsize into buf.mem: 256 pages and one of headers up
 * to libfuse 3.16. Later ones size it at run time, so they keep their own.
 */
#define SV_WRITE_DATA_OFFSET 80
#define SV_LIBFUSE_BUFSIZE (256 * PFS_PAGE_SIZE + 0x1000)

static void *sv_request_buf(struct iobuf *b)
{
	*b = (struct iobuf){ 0 };
	if (fuse_version() > 316)
		return NULL;
	/* Huge-page-backed, so that a page-out is one device request (iobuf.h). */
	if (iobuf_map(SV_LIBFUSE_BUFSIZE + 2 * PFS_PAGE_SIZE, b) < 0)
		return NULL;
	return (uint8_t *)b->mem + PFS_PAGE_SIZE - SV_WRITE_DATA_OFFSET;
}

static void *sv_worker(void *arg)
{
	struct pfsd *d = arg;
	struct fuse_buf buf = { .mem = NULL };
	struct iobuf own = { 0 };
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);
	pfsd_thread(d); /* open the ring now, not on the first fault */
	buf.mem = sv_request_buf(&own); /* (NULL: libfuse allocates one) */
	while (!fuse_session_exited(d->se)) {
		pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
		int res = fuse_session_receive_buf(d->se, &buf);
		pthread_sigmask(SIG_BLOCK, &kick, NULL);
		/* EINTR: a kick or a stray signal; ENOENT: the request was interrupted. */
		if (res == -EINTR || res == -EAGAIN || res == -ENOENT)
			continue;
		if (res <= 0) {
			if (res < 0) {
				pfs_err("reading requests: %s", strerror(-res));
				fuse_session_exit(d->se);
			}
			break;
		}
		fuse_session_process_buf(d->se, &buf);
		/*
		 * The kernel applies the INIT reply, readahead limit included,
		 * inside the write that sent it: only now may the bdi be tuned.
		 */
		if (pfs_unlikely(!atomic_load_explicit(&d->init_done, memory_order_relaxed)) &&
		    atomic_load(&d->initialised) && !atomic_exchange(&d->init_claimed, true)) {
			pfsd_tune_bdi(d);
			atomic_store(&d->init_done, true);
			pthread_kill(d->main_thread, SIGUSR2);
		}
	}
	if (own.mem)
		iobuf_unmap(&own);
	else
		free(buf.mem);
	if (atomic_fetch_sub(&d->workers_live, 1) == 1 || fuse_session_exited(d->se))
		pthread_kill(d->main_thread, SIGUSR2);
	return NULL;
}

int pfsd_workers_start(struct pfsd *d)
{
	struct sigaction sa;
	pthread_attr_t attr;
	int rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sv_kick; /* no SA_RESTART: the read must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (!(d->workers = calloc(d->opt.threads, sizeof(*d->workers))))
		return -ENOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SV_STACK_BYTES);
	for (unsigned i = 0; i < d->opt.threads; i++) {
		atomic_fetch_add(&d->workers_live, 1);
		if ((rc = pthread_create(&d->workers[i], &attr, sv_worker, d)) != 0) {
			atomic_fetch_sub(&d->workers_live, 1);
			pfs_err("cannot start worker thread %u: %s", i, strerror(rc));
			rc = -rc;
			break;
		}
		d->nworkers++;
	}
	pthread_attr_destroy(&attr);
	return d->nworkers ? 0 : rc;
}

/*
 * Join every worker; interrupt the ones still reading a live session.
 * With a deadline (seconds, 0: none) a worker that does not come back in
 * time is given up on: false, and the caller must not touch the store.
 */
bool pfsd_workers_stop(struct pfsd *d, unsigned deadline_s)
{
	bool all = true;

	for (unsigned i = 0; i < d->nworkers; i++) {
		for (unsigned tries = 0;; tries++) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(d->workers[i], NULL, &ts) == 0)
				break;
			/* A kick may land between the exit check and read(): repeat it. */
			fuse_session_exit(d->se);
			pthread_kill(d->workers[i], SIGUSR1);
			if (tries == 50)
				pfs_warn("worker thread %u is still busy after 5 s", i);
			if (deadline_s && tries >= 10 * deadline_s) {
				pfs_err("worker thread %u is stuck; giving up on it", i);
				all = false;
				break;
			}
		}
	}
	if (all) {
		free(d->workers);
		d->workers = NULL;
		d->nworkers = 0;
	}
	return all;
}
