/*
 * control.c: MOUNTPOINT/.pagerfs/, read-only text files about the running
 * daemon: status, swap and stats (INTERFACE.md, pagerfsd(8)).
 *
 * Each file is one "name: value" pair per line, values plain numbers
 * (bytes, counts, seconds) or words, so pagerctl and scripts can read them.
 * A file's text is made when it is opened and kept with the open file, so
 * every read of one open sees one consistent snapshot; the files are
 * direct-I/O so the kernel never caches an old one. Their inodes lie above
 * every catalogue id; they are not objects and nothing here reaches the
 * object layer except for statistics.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "pagerfsd.h"

#define CT_TEXT_MAX 65536 /* opens may list many processes */

struct ct_text {
	size_t len;
	char data[CT_TEXT_MAX];
};

static const struct {
	const char *name;
	uint64_t ino;
} ct_files[] = {
	{ "status", PFSD_CTL_STATUS },
	{ "swap", PFSD_CTL_SWAP },
	{ "stats", PFSD_CTL_STATS },
	{ "opens", PFSD_CTL_OPENS },
};

static void ct_add(struct ct_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ct_add(struct ct_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->data))
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->data + t->len, sizeof(t->data) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = PFS_MIN(t->len + (size_t)n, sizeof(t->data) - 1);
}

static void ct_time(char *buf, size_t cap, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns <= 0 || !gmtime_r(&s, &tm))
		snprintf(buf, cap, "never");
	else
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t ct_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ct_status(struct pfsd *d, struct ct_text *t)
{
	struct store_stats st;
	struct statvfs vfs;
	struct timespec now;
	char when[64];

	store_get_stats(d->store, &st);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ct_time(when, sizeof(when), st.last_commit_ns);
	ct_add(t, "version: %s\n", PACKAGE_VERSION);
	ct_add(t, "pid: %d\n", (int)getpid());
	ct_add(t, "store: %s\n", d->opt.store);
	ct_add(t, "mountpoint: %s\n", d->opt.mountpoint);
	ct_add(t, "uptime: %lld\n", (long long)(now.tv_sec - d->started_mono.tv_sec));
	if (obj_statfs(d->objs, &vfs) == 0)
		ct_add(t, "objects: %llu\n", (unsigned long long)(vfs.f_files - vfs.f_ffree));
	ct_add(t, "commits: %" PRIu64 "\n", st.commits);
	ct_add(t, "commit failures: %" PRIu64 "\n", st.commit_failures);
	ct_add(t, "last commit: %s\n", when);
	if (st.last_commit_ns > 0)
		ct_add(t, "last commit age: %lld\n",
		       (long long)((ct_now_ns() - st.last_commit_ns) / 1000000000));
	ct_add(t, "commit interval: %u\n", d->opt.commit_interval_s);
	ct_add(t, "pending: %" PRIu64 "\n", st.pending_pages * PFS_PAGE_SIZE);
	ct_add(t, "threads: %u\n", d->nworkers);
	ct_add(t, "bdi: %s\n", d->bdi[0] ? d->bdi : "none");
}

static int ct_count_swapfile(const struct cat_swapfile *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
	return 0;
}

static void ct_swap(struct pfsd *d, struct ct_text *t)
{
	struct store_stats st;
	struct statvfs vfs;
	struct cat_txn *txn;
	unsigned files = 0;

	store_get_stats(d->store, &st);
	if (cat_read_begin(store_cat(d->store), &txn) == 0) {
		cat_swapfile_foreach(txn, ct_count_swapfile, &files);
		cat_read_end(txn);
	}
	if (obj_statfs(d->objs, &vfs) < 0)
		memset(&vfs, 0, sizeof(vfs));
	/*
	 * capacity: what the root control guarantees (swap_max, or the store's
	 * file system); grown: swap file space made so far; used: frames
	 * holding pages, committed or pending; free: what page-outs can
	 * still take; reserved: held by fallocate for pages not yet paged out.
	 */
	uint64_t capacity = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	uint64_t grown = st.swap_frames * PFS_PAGE_SIZE;
	uint64_t used = (st.swap_frames - PFS_MIN(st.free_frames, st.swap_frames)) * PFS_PAGE_SIZE;
	ct_add(t, "files: %u\n", files);
	ct_add(t, "capacity: %" PRIu64 "\n", capacity);
	ct_add(t, "grown: %" PRIu64 "\n", grown);
	ct_add(t, "used: %" PRIu64 "\n", used);
	ct_add(t, "free: %" PRIu64 "\n", (uint64_t)vfs.f_bavail * vfs.f_frsize);
	ct_add(t, "reserved: %" PRIu64 "\n", st.reserved_pages * PFS_PAGE_SIZE);
	ct_add(t, "pending: %" PRIu64 "\n", st.pending_pages * PFS_PAGE_SIZE);
	ct_add(t, "swap max: %" PRIu64 "\n", d->opt.swap_max_bytes);
}

static void ct_stats(struct pfsd *d, struct ct_text *t)
{
	struct pfsd_counters *c = &d->ctr;
	struct store_stats st;

	store_get_stats(d->store, &st);
	ct_add(t, "page-ins: %" PRIu64 "\n", st.page_ins);
	ct_add(t, "pages in: %" PRIu64 "\n", st.pages_in);
	ct_add(t, "page-outs: %" PRIu64 "\n", st.page_outs);
	ct_add(t, "pages out: %" PRIu64 "\n", st.pages_out);
	ct_add(t, "pages prefetched: %" PRIu64 "\n", st.prefetched_pages);
	ct_add(t, "prefetched pages used: %" PRIu64 "\n", st.prefetch_used_pages);
	ct_add(t, "read requests: %" PRIu64 "\n", (uint64_t)atomic_load(&c->reads));
	ct_add(t, "bytes read: %" PRIu64 "\n", (uint64_t)atomic_load(&c->read_bytes));
	ct_add(t, "write requests: %" PRIu64 "\n", (uint64_t)atomic_load(&c->writes));
	ct_add(t, "bytes written: %" PRIu64 "\n", (uint64_t)atomic_load(&c->write_bytes));
	ct_add(t, "fsyncs: %" PRIu64 "\n", (uint64_t)atomic_load(&c->fsyncs));
	ct_add(t, "opens: %" PRIu64 "\n", (uint64_t)atomic_load(&c->opens));
	ct_add(t, "creates: %" PRIu64 "\n", (uint64_t)atomic_load(&c->creates));
	ct_add(t, "invalidations: %" PRIu64 "\n", (uint64_t)atomic_load(&c->invalidations));
	ct_add(t, "commits: %" PRIu64 "\n", st.commits);
	ct_add(t, "errors io: %" PRIu64 "\n", (uint64_t)atomic_load(&c->errors[PFSD_ERR_IO]));
	ct_add(t, "errors checksum: %" PRIu64 "\n", st.csum_errors);
	ct_add(t, "errors swap io: %" PRIu64 "\n", st.io_errors);
	ct_add(t, "errors nospc: %" PRIu64 "\n", (uint64_t)atomic_load(&c->errors[PFSD_ERR_NOSPC]));
	ct_add(t, "errors rofs: %" PRIu64 "\n", (uint64_t)atomic_load(&c->errors[PFSD_ERR_ROFS]));
	ct_add(t, "errors nomem: %" PRIu64 "\n", (uint64_t)atomic_load(&c->errors[PFSD_ERR_NOMEM]));
	ct_add(t, "errors commit: %" PRIu64 "\n", st.commit_failures);
	ct_add(t, "errors other: %" PRIu64 "\n", (uint64_t)atomic_load(&c->errors[PFSD_ERR_OTHER]));
}

/* One line per object and process that has it open: "ID PID OPENS COMMAND". */
static int ct_open_one(uint64_t id, pid_t pid, unsigned opens, void *arg)
{
	struct ct_text *t = arg;
	char path[64], comm[64] = "?";
	FILE *f;

	/* /proc, never our own mount: safe from the daemon. */
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	ct_add(t, "%" PRIu64 " %d %u %s\n", id, (int)pid, opens, comm);
	return t->len >= sizeof(t->data) - 1 ? 1 : 0;
}

static void ct_opens(struct pfsd *d, struct ct_text *t)
{
	ct_add(t, "# object pid opens command\n");
	obj_foreach_open(d->objs, ct_open_one, t);
}

static void ct_render(struct pfsd *d, uint64_t ino, struct ct_text *t)
{
	t->len = 0;
	t->data[0] = '\0';
	if (ino == PFSD_CTL_STATUS)
		ct_status(d, t);
	else if (ino == PFSD_CTL_SWAP)
		ct_swap(d, t);
	else if (ino == PFSD_CTL_STATS)
		ct_stats(d, t);
	else if (ino == PFSD_CTL_OPENS)
		ct_opens(d, t);
}

void pfsd_ctl_stat(struct pfsd *d, uint64_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_blksize = (blksize_t)PFS_PAGE_SIZE;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = time(NULL);
	if (ino == PFSD_CTL_DIR_INO) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return;
	}
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	if (ino >= PFSD_CTL_STATUS && ino <= PFSD_CTL_LAST) {
		/* The size of a snapshot now: a hint; reads are direct and go to EOF. */
		struct ct_text *t = malloc(sizeof(*t));
		if (t) {
			ct_render(d, ino, t);
			st->st_size = (off_t)t->len;
			free(t);
		}
	}
}

bool pfsd_ctl_lookup(struct pfsd *d, uint64_t parent, const char *name, struct fuse_entry_param *e)
{
	uint64_t ino = 0;

	if (parent == CAT_ROOT_ID && strcmp(name, PFSD_CTL_NAME) == 0)
		ino = PFSD_CTL_DIR_INO;
	else if (parent == PFSD_CTL_DIR_INO)
		for (size_t i = 0; i < PFS_ARRAY_SIZE(ct_files); i++)
			if (strcmp(name, ct_files[i].name) == 0)
				ino = ct_files[i].ino;
	if (!ino)
		return false;
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	pfsd_ctl_stat(d, ino, &e->attr);
	e->attr_timeout = 0;
	e->entry_timeout = PFSD_ENTRY_TIMEOUT;
	return true;
}

int pfsd_ctl_refuse_change(uint64_t parent, const char *name)
{
	if (pfsd_is_ctl(parent))
		return -EACCES;
	if (parent == CAT_ROOT_ID && strcmp(name, PFSD_CTL_NAME) == 0)
		return -EBUSY;
	return 0;
}

void pfsd_ctl_open(fuse_req_t req, uint64_t ino, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct ct_text *t;

	if (ino == PFSD_CTL_DIR_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (ino > PFSD_CTL_LAST) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!(t = malloc(sizeof(*t)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ct_render(d, ino, t);
	fi->fh = (uint64_t)(uintptr_t)t;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) != 0)
		free(t);
}

void pfsd_ctl_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ct_text *t = (struct ct_text *)(uintptr_t)fi->fh;

	if (!t || off < 0 || (uint64_t)off >= t->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/*
	 * Reply from a private copy: once the kernel has the bytes the reader
	 * may close, and the release (on another worker) frees t while this
	 * thread is still returning from writev.
	 */
	size_t n = PFS_MIN(size, t->len - (size_t)off);
	char *copy = malloc(n);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, t->data + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

void pfsd_ctl_release(struct fuse_file_info *fi)
{
	free((void *)(uintptr_t)fi->fh);
}

size_t pfsd_ctl_readdir(fuse_req_t req, char *buf, size_t size, off_t from, bool plus)
{
	struct pfsd *d = pfsd_of(req);
	size_t used = 0;
	off_t pos = 0;

	/* ".", "..", then the files; entry k has offset k and says k + 1 follows. */
	for (int k = 0; k < 2 + (int)PFS_ARRAY_SIZE(ct_files); k++, pos++) {
		const char *name = k == 0 ? "." : k == 1 ? ".." : ct_files[k - 2].name;
		uint64_t ino = k == 0 ? PFSD_CTL_DIR_INO : k == 1 ? FUSE_ROOT_ID : ct_files[k - 2].ino;
		struct fuse_entry_param e;
		size_t n;

		if (pos < from)
			continue;
		memset(&e, 0, sizeof(e));
		if (k >= 2) {
			e.ino = ino;
			pfsd_ctl_stat(d, ino, &e.attr);
			e.entry_timeout = PFSD_ENTRY_TIMEOUT;
		} else {
			e.attr.st_ino = (ino_t)ino;
			e.attr.st_mode = S_IFDIR | 0555;
		}
		if (plus)
			n = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, pos + 1);
		else
			n = fuse_add_direntry(req, buf + used, size - used, name, &e.attr, pos + 1);
		if (n > size - used)
			break;
		used += n;
	}
	return used;
}
