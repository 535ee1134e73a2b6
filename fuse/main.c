/*
 * main.c: pagerfsd, the daemon: start-up, the wait for a reason to stop,
 * and a shutdown that commits everything.
 *
 * Stages:
 *   parse        options; a usage error exits 2 before anything is touched
 *   detach       unless -f: fork; the parent waits on a pipe and exits with
 *                the child's start-up result, so every start-up error still
 *                reaches the terminal (and mount(8)/mount.fuse3)
 *   open         mlockall, IO_FLUSHER, the store (-EBUSY: another daemon
 *                has it), the object layer
 *   mount        mount, start the invalidation thread, the commit timer and
 *                the workers; wait for INIT (the bdi is tuned right after)
 *   serve        tell the parent we are up, stdio to /dev/null, log to
 *                syslog; main waits for signals only
 *   stop         the mount went away (fusermount3 -u, umount): every worker
 *                has seen ENODEV. SIGTERM/SIGINT/SIGHUP unmount first, so the
 *                kernel writes back dirty pages while the workers still
 *                serve; a busy mount is detached and served until its last
 *                user leaves; a second signal aborts the connection.
 *   commit       workers joined, session destroyed, objects_close (pending
 *                lifecycles) and store_close (the final commit): exit 0, or 1
 *                if that commit failed.
 * No process may carry on after a fork once the store is open (its rings,
 * LMDB environment and locks belong to the process that opened it), hence
 * the early detach; fork + exec of fusermount3 is fine.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "pagerfsd.h"

#define MN_INIT_WAIT_S 30
#define MN_ABORT_WAIT_S 10

/* ---- detaching ---- */

/* Fork; the parent never returns. Returns the pipe to report readiness on. */
static int mn_detach(void)
{
	int p[2];
	pid_t pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "pagerfsd: pipe: %s\n", strerror(errno));
		exit(PFSD_EXIT_FAIL);
	}
	if ((pid = fork()) < 0) {
		fprintf(stderr, "pagerfsd: fork: %s\n", strerror(errno));
		exit(PFSD_EXIT_FAIL);
	}
	if (pid > 0) {
		unsigned char status;
		ssize_t n;
		int ws;

		close(p[1]);
		while ((n = read(p[0], &status, 1)) < 0 && errno == EINTR)
			;
		if (n == 1)
			_exit(status);
		/* The child died before it was up: it said why on our stderr. */
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : PFSD_EXIT_FAIL);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void mn_ready(struct pfsd *d, int notify_fd)
{
	unsigned char ok = PFSD_EXIT_OK;
	int null;

	if (notify_fd < 0) {
		pfs_info("serving %s on %s (%u threads)", d->opt.store, d->opt.mountpoint,
			 d->nworkers);
		return;
	}
	if (chdir("/") < 0)
		pfs_warn("chdir /: %s", strerror(errno));
	pfs_log_open(PFS_LOG_SYSLOG, d->opt.debug ? LOG_DEBUG : LOG_INFO, "pagerfsd");
	pfs_info("serving %s on %s (%u threads)", d->opt.store, d->opt.mountpoint, d->nworkers);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	while (write(notify_fd, &ok, 1) < 0 && errno == EINTR)
		;
	close(notify_fd);
}

/* ---- unmounting ---- */

static void mn_detach_mount(struct pfsd *d);

/* fusermount3 -u [-z] for an unprivileged daemon; 0 or -errno-ish. */
static int mn_fusermount(const char *mp, bool lazy)
{
	pid_t pid = fork();
	int ws;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-q", "-z", "--", mp, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", "-q", "--", mp, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -EBUSY;
}

/*
 * A clean unmount: the kernel syncs the mount (page-outs to our still
 * running workers) and then ends the session. If users keep it busy,
 * detach it: nobody new gets in, current users keep their mappings, and
 * the session ends when the last of them leaves.
 */
static void mn_unmount(struct pfsd *d)
{
	const char *mp = d->opt.mountpoint;
	int rc;

	pfs_info("unmounting %s", mp);
	if (geteuid() == 0)
		rc = umount2(mp, UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
	else
		rc = mn_fusermount(mp, false);
	if (rc == 0 || rc == -EINVAL || rc == -ENOENT)
		return; /* done, or already gone */
	pfs_warn("%s is busy (%s): detached; exiting when its last user leaves "
		 "(signal again to abort)", mp, strerror(-rc));
	mn_detach_mount(d);
}

static void mn_detach_mount(struct pfsd *d)
{
	int rc;

	if (geteuid() == 0)
		rc = umount2(d->opt.mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
	else
		rc = mn_fusermount(d->opt.mountpoint, true);
	if (rc < 0 && rc != -EINVAL && rc != -ENOENT)
		pfs_err("cannot detach %s: %s", d->opt.mountpoint, strerror(-rc));
}

/*
 * Our mount is gone: end the connection and make libfuse see that, so
 * fuse_session_unmount only closes and frees (it skips its own umount when
 * the device reports POLLERR, as a write end without readers does).
 */
static void mn_sever(struct pfsd *d)
{
	int fd = fuse_session_fd(d->se), p[2];

	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	close(p[0]);
	dup2(p[1], fd); /* closes /dev/fuse in the same step */
	close(p[1]);
}

/* libfuse's messages go where ours go (syslog once detached). */
static void mn_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level >= FUSE_LOG_DEBUG) {
		vfprintf(stderr, fmt, ap); /* -o debug's request trace */
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	pfs_log((int)level, "%s", line);
}

/* Second signal: end the session now; users of the mount get ENOTCONN. */
static void mn_abort(struct pfsd *d)
{
	int rc = pfsd_abort_connection(d);

	pfs_warn("aborting the connection to %s: its users lose what they have not written back",
		 d->opt.mountpoint);
	if (rc < 0)
		pfs_debug("fusectl abort: %s; stopping the workers instead", strerror(-rc));
	d->aborting = true;
	fuse_session_exit(d->se);
}

/* ---- the main thread's wait ---- */

static bool mn_workers_gone(struct pfsd *d)
{
	return atomic_load(&d->workers_live) == 0 || fuse_session_exited(d->se);
}

/* Wait for INIT (true), or for the session or a signal to end the start (false). */
static bool mn_wait_init(struct pfsd *d, const sigset_t *set)
{
	struct timespec limit = { .tv_sec = MN_INIT_WAIT_S };

	for (;;) {
		siginfo_t si;
		int sig = sigtimedwait(set, &si, &limit);
		if (atomic_load(&d->init_done))
			return true;
		if (sig < 0 && errno == EAGAIN) {
			fprintf(stderr, "pagerfsd: the kernel sent no INIT within %d s\n", MN_INIT_WAIT_S);
			return false;
		}
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
			return false;
		if (mn_workers_gone(d)) {
			fprintf(stderr, "pagerfsd: the session ended during start-up\n");
			return false;
		}
	}
}

static void mn_serve(struct pfsd *d, const sigset_t *set)
{
	unsigned stops = 0;

	while (!mn_workers_gone(d)) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			pfs_info("signal %d (%s)", sig, strsignal(sig));
			if (stops++ == 0)
				mn_unmount(d);
			else
				mn_abort(d);
		}
		/* SIGUSR2: a worker left; the loop condition looks. */
	}
}

/* ---- start and stop ---- */

static int mn_open(struct pfsd *d)
{
	struct store_options so = { .swap_max_bytes = d->opt.swap_max_bytes,
				    .prefetch_bytes = d->opt.prefetch_bytes };
	struct store_io *probe;
	int rc;

	if ((rc = store_open(d->opt.store, &so, &d->store)) < 0) {
		if (rc == -EBUSY)
			fprintf(stderr, "pagerfsd: store %s is in use by another pagerfsd "
				"(or pagerctl)\n", d->opt.store);
		else if (rc == -EUCLEAN)
			fprintf(stderr, "pagerfsd: store %s: its swap files and catalogue disagree; "
				"run pagerctl fsck\n", d->opt.store);
		else
			fprintf(stderr, "pagerfsd: cannot open store %s: %s\n", d->opt.store,
				strerror(-rc));
		return rc;
	}
	/* Workers open their own rings; find out now, on the terminal, if none can be had. */
	if ((rc = store_io_open(d->store, &probe)) < 0) {
		fprintf(stderr, "pagerfsd: cannot set up io_uring for store %s: %s\n",
			d->opt.store, strerror(-rc));
		return rc;
	}
	store_io_close(probe);
	if ((rc = objects_open(d->store, &d->objs)) < 0) {
		fprintf(stderr, "pagerfsd: cannot open the objects of store %s: %s\n",
			d->opt.store, strerror(-rc));
		return rc;
	}
	obj_set_invalidate_fn(d->objs, pfsd_inval_queue, d);
	obj_set_entry_fn(d->objs, pfsd_inval_entry, d);
	if ((rc = objects_set_mountpoint(d->objs, d->opt.mountpoint)) < 0) {
		fprintf(stderr, "pagerfsd: %s\n", strerror(-rc));
		return rc;
	}
	return 0;
}

static int mn_mount(struct pfsd *d)
{
	int rc;

	if (fuse_session_mount(d->se, d->opt.mountpoint) != 0) {
		fprintf(stderr, "pagerfsd: cannot mount on %s\n", d->opt.mountpoint);
		return -EIO;
	}
	d->mounted = true;
	if ((rc = pfsd_find_mount_dev(d)) < 0)
		pfs_warn("%s is not in /proc/self/mountinfo: %s", d->opt.mountpoint, strerror(-rc));
	if ((rc = pfsd_inval_start(d)) < 0 || (rc = pfsd_timer_start(d)) < 0 ||
	    (rc = pfsd_workers_start(d)) < 0) {
		fprintf(stderr, "pagerfsd: cannot start threads: %s\n", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Everything after the session: returns the exit status. */
static int mn_stop(struct pfsd *d)
{
	int rc, status = PFSD_EXIT_OK;

	/*
	 * An abort that a wedged worker would turn into a hang ends the process
	 * instead: the store reopens as of its last commit, as after a crash.
	 */
	if (d->nworkers && !pfsd_workers_stop(d, d->aborting ? MN_ABORT_WAIT_S : 0)) {
		pfs_err("exiting without a final commit: the store keeps its last committed state");
		_exit(PFSD_EXIT_FAIL);
	}
	pfsd_timer_stop(d);
	pfsd_inval_stop(d);
	if (d->se) {
		/*
		 * An aborted or never-initialised session may leave its mount
		 * behind (libfuse skips a connection that reports an error):
		 * detach it if it is still ours.
		 */
		if (d->mounted && d->bdi[0]) {
			if (pfsd_mount_present(d))
				mn_detach_mount(d);
			mn_sever(d);
		}
		if (d->mounted)
			fuse_session_unmount(d->se); /* closes the device, frees the name */
		fuse_session_destroy(d->se);
		d->se = NULL;
	}
	if (d->objs) {
		objects_close(d->objs); /* pending lifecycles, then a commit */
		d->objs = NULL;
	}
	/* The main thread's own I/O context, if an operation ever ran here. */
	void *t = pthread_getspecific(d->thread_key);
	if (t) {
		struct pfsd_thread *pt = t;
		store_io_close(pt->io);
		free(pt);
		pthread_setspecific(d->thread_key, NULL);
	}
	if (d->store) {
		if ((rc = store_close(d->store)) < 0) {
			pfs_err("the final commit of %s failed: %s; the store keeps its last "
				"committed state", d->opt.store, strerror(-rc));
			status = PFSD_EXIT_FAIL;
		} else if (d->served) {
			pfs_info("%s unmounted, everything committed", d->opt.mountpoint);
		}
		d->store = NULL;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct pfsd *d = calloc(1, sizeof(*d));
	sigset_t set;
	int notify_fd = -1, status, rc;

	if (!d) {
		fprintf(stderr, "pagerfsd: out of memory\n");
		return PFSD_EXIT_FAIL;
	}
	if (!pfsd_options_parse(argc, argv, &d->opt, &status)) {
		free(d);
		return status;
	}
	if (!pfsd_options_check_fuse(&d->opt))
		status = PFSD_EXIT_USAGE;
	else
		status = pfsd_options_paths(&d->opt);
	if (status != 0) {
		pfsd_options_free(&d->opt);
		free(d);
		return status;
	}
	pfs_log_open(PFS_LOG_STDERR, d->opt.debug ? LOG_DEBUG : LOG_INFO, "pagerfsd");
	fuse_set_log_func(mn_fuse_log);
	if (sysconf(_SC_PAGESIZE) != (long)PFS_PAGE_SIZE) {
		fprintf(stderr, "pagerfsd: the page size is %ld; pagerfs works in 4 KiB pages\n",
			sysconf(_SC_PAGESIZE));
		return PFSD_EXIT_FAIL;
	}
	if (!(d->se = pfsd_session_new(d))) {
		fprintf(stderr, "pagerfsd: cannot create a FUSE session\n");
		pfsd_options_free(&d->opt);
		free(d);
		return PFSD_EXIT_FAIL;
	}
	if (!d->opt.foreground)
		notify_fd = mn_detach();

	clock_gettime(CLOCK_MONOTONIC, &d->started_mono);
	d->main_thread = pthread_self();
	/* Signals come to the main thread's sigwaitinfo only; every thread inherits this mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pfsd_lock_memory();
	pfsd_io_flusher();
	pfsd_thread_key_init(d);

	status = PFSD_EXIT_FAIL;
	if ((rc = mn_open(d)) < 0 || (rc = mn_mount(d)) < 0 || !mn_wait_init(d, &set)) {
		mn_stop(d);
		goto out;
	}
	mn_ready(d, notify_fd);
	notify_fd = -1;
	d->served = true;
	mn_serve(d, &set);
	status = mn_stop(d);
out:
	if (notify_fd >= 0)
		close(notify_fd); /* the parent reports our exit status */
	pfsd_options_free(&d->opt);
	free(d);
	return status;
}
