/*
 * pagerfsd.h: what the files of the daemon's FUSE face share.
 *
 * The face turns FUSE low-level requests into memory-object operations
 * (object.h) and nothing more: one file per kind of operation, named after
 * what it does to a memory object (page_in.c, page_out.c, sync.c,
 * terminate.c, ...), as in GNU Hurd's libpager. Everything the daemon knows
 * lives in one struct pfsd, the session's userdata; the only other state is
 * each worker thread's I/O context, found through a pthread key.
 *
 * Never in this layer: reading or stat()ing anything under our own mount
 * (the mount is only ever named to mount(2), umount(2) and
 * /proc/self/mountinfo), a hand-off between threads on the page-in or
 * page-out path, or a per-request allocation on that path.
 */
#ifndef PAGERFS_PAGERFSD_H
#define PAGERFS_PAGERFSD_H

#define FUSE_USE_VERSION 34

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "object.h"

/* Exit status: 0 clean unmount, 1 a failure, 2 a usage error (INTERFACE.md). */
#define PFSD_EXIT_OK    0
#define PFSD_EXIT_FAIL  1
#define PFSD_EXIT_USAGE 2

/*
 * Attribute and entry timeouts, seconds. Names and attributes change only
 * through this mount, so the kernel's dcache and attribute cache stay right
 * on their own; the few changes the kernel cannot see (a type or backing
 * set by xattr, a lifecycle reverting contents) are pushed to it with
 * fuse_lowlevel_notify_inval_inode. A long timeout keeps stat() off the
 * daemon; it never matters to page faults.
 */
#define PFSD_ENTRY_TIMEOUT 3600.0
#define PFSD_ATTR_TIMEOUT  3600.0

/*
 * The .pagerfs/ control directory: virtual inodes far above any catalogue
 * id (ids are allocated upwards from CAT_ROOT_ID and never reused).
 */
#define PFSD_CTL_NAME     ".pagerfs"
#define PFSD_CTL_DIR_INO  UINT64_C(0xfffffffffffff000)
#define PFSD_CTL_STATUS   (PFSD_CTL_DIR_INO + 1)
#define PFSD_CTL_SWAP     (PFSD_CTL_DIR_INO + 2)
#define PFSD_CTL_STATS    (PFSD_CTL_DIR_INO + 3)
#define PFSD_CTL_OPENS    (PFSD_CTL_DIR_INO + 4)
#define PFSD_CTL_LAST     PFSD_CTL_OPENS
static inline bool pfsd_is_ctl(uint64_t ino)
{
	return ino >= PFSD_CTL_DIR_INO;
}

/* The extended attributes that reach the object layer. */
#define PFSD_XATTR_PREFIX "user.pagerfs."

/* What the command line asked for (options.c). */
struct pfsd_options {
	char *store;              /* absolute path of STORE (after pfsd_options_paths) */
	char *mountpoint;         /* absolute path of MOUNTPOINT */
	const char *store_arg;    /* as typed */
	const char *mount_arg;
	bool foreground;          /* -f (or -d) */
	bool debug;               /* -d: debug log to stderr */
	uint64_t swap_max_bytes;  /* swap_max=; 0: the store's file system's free space */
	unsigned commit_interval_s; /* commit_interval=; 0: no timer */
	unsigned threads;         /* threads= */
	uint64_t readahead_bytes; /* readahead= */
	uint64_t prefetch_bytes;  /* prefetch=; 0: off */
	int bdi_tune;             /* bdi_tune=0|1; -1: on when root */
	bool allow_other;
	bool have_fsname, have_subtype;
	unsigned max_read;        /* the FUSE option max_read= (0: none) */
	struct fuse_args fuse_args; /* what goes on to fuse_session_new() */
};

/* True to run; false with the exit status to leave with (help, version, usage). */
bool pfsd_options_parse(int argc, char **argv, struct pfsd_options *opt, int *exit_status);
/* Let libfuse check the FUSE mount options without mounting; false: usage error. */
bool pfsd_options_check_fuse(struct pfsd_options *opt);
/* Make STORE (creating it) and MOUNTPOINT absolute and check them; 0 or an exit status. */
int pfsd_options_paths(struct pfsd_options *opt);
void pfsd_options_free(struct pfsd_options *opt);

/* Errors counted by kind for .pagerfs/stats. */
enum pfsd_err_kind {
	PFSD_ERR_IO, PFSD_ERR_NOSPC, PFSD_ERR_ROFS, PFSD_ERR_NOMEM, PFSD_ERR_OTHER, PFSD_ERR_KINDS
};

struct pfsd_counters {
	atomic_uint_fast64_t reads, read_bytes, writes, write_bytes;
	atomic_uint_fast64_t fsyncs, opens, creates, invalidations;
	atomic_uint_fast64_t errors[PFSD_ERR_KINDS];
};

/* Ranges the object layer says the kernel's cache must drop (invalidate.c). */
struct pfsd_inval_item {
	uint64_t ino;
	uint64_t off;
	uint64_t len; /* 0: to the end */
	/* An entry instead of pages: name in directory parent now leads to ino. */
	char *name;
	uint64_t parent;
};

struct pfsd_invalq {
	struct pfsd *d;
	pthread_mutex_t lock;
	pthread_cond_t cond, done_cond;
	struct pfsd_inval_item *items, *spare;
	size_t n, cap, spare_cap;
	uint64_t queued, done;   /* sequence numbers: items ever queued / notified */
	bool stop, running;
	pthread_t thread;
};

/* The daemon. */
struct pfsd {
	struct pfsd_options opt;
	struct store *store;
	struct objects *objs;
	struct fuse_session *se;
	bool mounted;
	bool served;             /* reached the serving stage */
	int64_t started_ns;      /* CLOCK_REALTIME at start */
	struct timespec started_mono;

	pthread_key_t thread_key;
	pthread_t main_thread;
	pthread_t *workers;
	unsigned nworkers;
	atomic_uint workers_live;
	atomic_bool initialised; /* the init op ran */
	atomic_bool init_claimed; /* a worker is tuning the bdi after INIT */
	atomic_bool init_done;   /* INIT answered and the bdi tuned */
	bool aborting;           /* a second signal: stop now, whatever is lost */

	char bdi[32];            /* "0:53": the mount's backing device info, or "" */
	unsigned fuse_conn;      /* its minor: /sys/fs/fuse/connections/N */

	struct pfsd_invalq inval;   /* page ranges: setattr and setxattr wait for these */
	struct pfsd_invalq entries; /* names: nobody waits (the kernel locks their directory) */

	pthread_t timer;
	bool timer_running, timer_stop;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond;

	struct pfsd_counters ctr;
};

/* One worker thread's context: its store_io and the io's arena. */
struct pfsd_thread {
	struct store_io *io;
	uint8_t *arena; /* STORE_IO_MAX_PAGES pages, page-aligned: page-ins land and leave here */
};

/*
 * Start a helper thread (invalidation, commit timer) with the workers' 1 MiB stack:
 * under mlockall a thread's whole stack is resident, and the default is 8 MiB.
 */
int pfsd_start_thread(pthread_t *t, void *(*fn)(void *), void *arg);

/* serve.c: the session, its workers and their per-thread contexts */
struct fuse_session *pfsd_session_new(struct pfsd *d);
int pfsd_workers_start(struct pfsd *d);
bool pfsd_workers_stop(struct pfsd *d, unsigned deadline_s);
struct pfsd_thread *pfsd_thread(struct pfsd *d);
void pfsd_thread_key_init(struct pfsd *d);

/* Helpers every operation uses (serve.c). */
static inline struct pfsd *pfsd_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}
void pfsd_reply_err(fuse_req_t req, const char *op, uint64_t ino, int neg_errno);
void pfsd_count_err(struct pfsd *d, int neg_errno);
/* The caller's identity; with its supplementary groups (from /proc) when groups is given. */
void pfsd_cred(fuse_req_t req, struct obj_cred *c, gid_t *groups, int cap);
void pfsd_stat_from(const struct obj_attr *a, struct stat *st);
void pfsd_entry_from(const struct obj_attr *a, struct fuse_entry_param *e);

/* tune.c: what the process and the mount's bdi need to serve page faults */
void pfsd_lock_memory(void);
void pfsd_io_flusher(void);
/* Find the mount's device in /proc/self/mountinfo (never by stat on the mount). */
int pfsd_find_mount_dev(struct pfsd *d);
void pfsd_tune_bdi(struct pfsd *d);
/* Is our mount (the device found at mount time) still on the mount point? */
bool pfsd_mount_present(struct pfsd *d);
/* Abort the connection through fusectl; -errno when that is not possible. */
int pfsd_abort_connection(struct pfsd *d);

/* The operations, by what they do to a memory object. */
/* namespace.c */
void pfsd_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void pfsd_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void pfsd_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void pfsd_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfsd_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		  struct fuse_file_info *fi);
void pfsd_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void pfsd_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void pfsd_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void pfsd_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void pfsd_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		 const char *newname, unsigned int flags);
void pfsd_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void pfsd_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void pfsd_statfs(fuse_req_t req, fuse_ino_t ino);
/* terminate.c: creating, opening and the last close */
void pfsd_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		 struct fuse_file_info *fi);
void pfsd_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfsd_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfsd_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* readdir.c */
void pfsd_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfsd_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void pfsd_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi);
void pfsd_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* page_in.c, page_out.c */
void pfsd_page_in(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void pfsd_page_out(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi);
/* sync.c: fsync is Mach's lock_request + lock_completed; and the commit timer */
void pfsd_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void pfsd_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
int pfsd_timer_start(struct pfsd *d);
void pfsd_timer_stop(struct pfsd *d);
/* reserve.c: fallocate (reserve, release) and copy_file_range (clone) */
void pfsd_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		    struct fuse_file_info *fi);
void pfsd_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			  struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			  struct fuse_file_info *fi_out, size_t len, int flags);
/* attributes.c: user.pagerfs.* */
void pfsd_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void pfsd_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		   size_t size, int flags);
void pfsd_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void pfsd_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* invalidate.c */
int pfsd_inval_start(struct pfsd *d);
void pfsd_inval_stop(struct pfsd *d);
/* The obj_invalidate_fn: queue a range; never blocks on the kernel. */
void pfsd_inval_queue(void *arg, uint64_t id, uint64_t off_bytes, uint64_t len_bytes);
/* obj_entry_fn: queue "name in parent now leads to id" for the kernel. */
void pfsd_inval_entry(void *arg, uint64_t parent, const char *name, uint64_t id);
/* Wait until everything queued so far has been sent to the kernel. */
void pfsd_inval_flush(struct pfsd *d);
/* Drop the kernel's cached attributes of ino (no pages: safe inside any handler). */
void pfsd_inval_attr(struct pfsd *d, uint64_t ino);

/* control.c: .pagerfs/ */
bool pfsd_ctl_lookup(struct pfsd *d, uint64_t parent, const char *name, struct fuse_entry_param *e);
void pfsd_ctl_stat(struct pfsd *d, uint64_t ino, struct stat *st);
void pfsd_ctl_open(fuse_req_t req, uint64_t ino, struct fuse_file_info *fi);
void pfsd_ctl_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void pfsd_ctl_release(struct fuse_file_info *fi);
/* Emit .pagerfs/'s entries at offsets >= from into buf; returns the bytes used. */
size_t pfsd_ctl_readdir(fuse_req_t req, char *buf, size_t size, off_t from, bool plus);
/* Is (parent, name) the control directory's entry or inside it? (for changes: -EBUSY, -EACCES) */
int pfsd_ctl_refuse_change(uint64_t parent, const char *name);

#endif /* PAGERFS_PAGERFSD_H */
