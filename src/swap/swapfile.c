/*
 * swapfile.c: the swap files of one store: opening and creating them, mapping
 * a frame number to a file and byte offset, growing them in chunks, punching
 * holes for freed frames, and the store's statistics. It must never shrink a
 * file below frames it has reported as allocated, never move a frame to
 * another file or offset once the store is open, and never leave a file
 * half-grown: a growth that fails puts the file back exactly as it was. It does no
 * page I/O (ring.c does) and knows nothing of which frames are in use.
 *
 * Concurrency: the file table is an array of pointers that only ever gains
 * entries. A new entry is fully built, then published by a release store of
 * nfiles, so readers (every I/O, on any thread) take no lock: they load nfiles
 * with acquire and read only entries below it. Everything in an entry is
 * immutable once published except alloc_frames, an atomic that only grows.
 * swap_grow and swap_add_file serialise on the store's lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "log.h"
#include "swap/swap.h"

struct swp_file {
	struct swap_file_desc d;
	int fd;
	bool direct;                    /* opened with O_DIRECT */
	uint32_t dio_align;             /* smallest unit of a direct transfer, in bytes */
	bool warned_truncate;           /* under the store lock */
	_Atomic uint64_t alloc_frames;  /* frames the file's length covers; only grows */
};

struct swap_store {
	int dirfd;
	char *dir;                      /* for log lines */
	uint64_t chunk_frames;
	struct pfs_faults *faults;
	pthread_mutex_t lock;           /* swap_grow, swap_add_file */
	struct swp_file *files[SWAP_MAX_FILES];
	_Atomic unsigned nfiles;
	atomic_int nrings;
	_Atomic uint64_t stat[SWAP__ST_COUNT];
};

static void swp_file_free(struct swp_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

/* Checks on one descriptor alone; -EINVAL if it cannot describe a swap file. */
static int swp_desc_valid(const struct swap_file_desc *d)
{
	size_t len = strnlen(d->name, sizeof(d->name));

	if (len == 0 || len == sizeof(d->name) || memchr(d->name, '/', len))
		return -EINVAL;
	if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
		return -EINVAL;
	if (d->max_frames == 0 || pfs_range_overflows(d->first_frame, d->max_frames))
		return -EINVAL;
	/* Every byte offset must fit in off_t. */
	if (d->max_frames > ((uint64_t)INT64_MAX >> PFS_PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

/* Does d clash with a file already described by e? */
static int swp_desc_clash(const struct swap_file_desc *e, const struct swap_file_desc *d)
{
	if (e->index == d->index || strcmp(e->name, d->name) == 0)
		return -EEXIST;
	if (d->first_frame < e->first_frame + e->max_frames &&
	    e->first_frame < d->first_frame + d->max_frames)
		return -EINVAL;
	return 0;
}

static uint32_t swp_dio_align(int fd, bool direct)
{
	if (!direct)
		return 1;
#ifdef STATX_DIOALIGN
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		return stx.stx_dio_offset_align;
#endif
	return 512;
}

/* Open or create d's file; the caller publishes it. */
static int swp_file_open(struct swap_store *s, const struct swap_file_desc *d,
			 struct swp_file **out)
{
	struct swp_file *f = calloc(1, sizeof(*f));
	struct stat st;
	int ret;

	if (!f)
		return -ENOMEM;
	f->d = *d;
	f->direct = true;
	f->fd = openat(s->dirfd, d->name, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
	if (f->fd < 0 && errno == EINVAL) {
		f->direct = false;
		f->fd = openat(s->dirfd, d->name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (f->fd >= 0)
			pfs_warn("swap: %s/%s: the file system refuses O_DIRECT; using buffered I/O",
				 s->dir, d->name);
	}
	if (f->fd < 0) {
		ret = pfs_neg_errno();
		pfs_err("swap: cannot open %s/%s: %s", s->dir, d->name, strerror(-ret));
		goto fail;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = pfs_neg_errno();
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		pfs_err("swap: %s/%s is not a regular file", s->dir, d->name);
		ret = -EINVAL;
		goto fail;
	}
	f->dio_align = swp_dio_align(f->fd, f->direct);
	atomic_init(&f->alloc_frames,
		    PFS_MIN((uint64_t)st.st_size >> PFS_PAGE_SHIFT, d->max_frames));
	*out = f;
	return 0;
fail:
	swp_file_free(f);
	return ret;
}

/* A new file's name must be durable before any commit refers to its frames. */
static int swp_sync_dir(struct swap_store *s)
{
	if (fsync(s->dirfd) < 0) {
		int ret = pfs_neg_errno();
		pfs_err("swap: fsync of directory %s failed: %s", s->dir, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Caller holds s->lock (or owns s exclusively, in swap_open). */
static int swp_add_locked(struct swap_store *s, const struct swap_file_desc *d)
{
	unsigned nf = atomic_load_explicit(&s->nfiles, memory_order_relaxed);
	struct swp_file *f;
	int ret = swp_desc_valid(d);

	if (ret)
		return ret;
	for (unsigned i = 0; i < nf; i++) {
		ret = swp_desc_clash(&s->files[i]->d, d);
		if (ret)
			return ret;
	}
	if (nf == SWAP_MAX_FILES)
		return -EINVAL;
	ret = swp_file_open(s, d, &f);
	if (ret)
		return ret;
	s->files[nf] = f;
	atomic_store_explicit(&s->nfiles, nf + 1, memory_order_release);
	return 0;
}

int swap_open(const char *dir, const struct swap_file_desc *files, unsigned nfiles,
	      const struct swap_options *opt, struct swap_store **out)
{
	uint64_t chunk_bytes = opt && opt->chunk_bytes ? opt->chunk_bytes : SWAP_DEFAULT_CHUNK_BYTES;
	struct swap_store *s;
	int ret;

	if (!dir || !out || (nfiles && !files) || nfiles > SWAP_MAX_FILES)
		return -EINVAL;
	if (chunk_bytes % PFS_PAGE_SIZE)
		return -EINVAL;
	/* Check the whole set before creating any file, so a bad set creates none. */
	for (unsigned i = 0; i < nfiles; i++) {
		ret = swp_desc_valid(&files[i]);
		for (unsigned j = 0; !ret && j < i; j++)
			ret = swp_desc_clash(&files[j], &files[i]);
		if (ret)
			return ret;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dirfd = -1;
	s->chunk_frames = chunk_bytes >> PFS_PAGE_SHIFT;
	s->faults = opt ? opt->faults : NULL;
	ret = -pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		free(s);
		return ret;
	}
	s->dir = strdup(dir);
	if (!s->dir) {
		ret = -ENOMEM;
		goto fail;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = pfs_neg_errno();
		pfs_err("swap: cannot open store directory %s: %s", dir, strerror(-ret));
		goto fail;
	}
	for (unsigned i = 0; i < nfiles; i++) {
		ret = swp_add_locked(s, &files[i]);
		if (ret)
			goto fail;
	}
	if (nfiles) {
		ret = swp_sync_dir(s);
		if (ret)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	swap_close(s);
	return ret;
}

void swap_close(struct swap_store *s)
{
	if (!s)
		return;
	/* Rings hold the files registered: closing the store under them is a bug. */
	assert(atomic_load(&s->nrings) == 0);
	for (unsigned i = 0; i < atomic_load(&s->nfiles); i++)
		swp_file_free(s->files[i]);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

int swap_add_file(struct swap_store *s, const struct swap_file_desc *d)
{
	int ret;

	if (!s || !d)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = swp_add_locked(s, d);
	if (ret == 0)
		ret = swp_sync_dir(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

unsigned swap_nfiles(const struct swap_store *s)
{
	return atomic_load_explicit(&s->nfiles, memory_order_acquire);
}

int swap_file_desc(const struct swap_store *s, unsigned i, struct swap_file_desc *out)
{
	if (i >= swap_nfiles(s))
		return -ENOENT;
	*out = s->files[i]->d;
	return 0;
}

static struct swp_file *swp_find_index(const struct swap_store *s, uint32_t index)
{
	unsigned nf = swap_nfiles(s);

	for (unsigned i = 0; i < nf; i++)
		if (s->files[i]->d.index == index)
			return s->files[i];
	return NULL;
}

/* The file holding frame, and the slot (position in files[]) it sits in. */
static struct swp_file *swp_find_frame(const struct swap_store *s, uint64_t frame, unsigned *slot)
{
	unsigned nf = swap_nfiles(s);

	for (unsigned i = 0; i < nf; i++) {
		const struct swap_file_desc *d = &s->files[i]->d;
		if (frame >= d->first_frame && frame - d->first_frame < d->max_frames) {
			*slot = i;
			return s->files[i];
		}
	}
	return NULL;
}

uint64_t swap_file_frames(const struct swap_store *s, uint32_t index)
{
	struct swp_file *f = swp_find_index(s, index);

	return f ? atomic_load_explicit(&f->alloc_frames, memory_order_acquire) : 0;
}

/*
 * Grow f to target frames. fallocate may fail part way (ext4 on ENOSPC keeps
 * the blocks it got and raises the size to cover them), so on failure the old
 * length is restored; ftruncate to a length at or below the current one also
 * frees blocks preallocated past it.
 */
static int swp_extend(struct swap_store *s, struct swp_file *f, uint64_t target)
{
	uint64_t cur = atomic_load_explicit(&f->alloc_frames, memory_order_relaxed);
	off_t new_bytes = (off_t)(target << PFS_PAGE_SHIFT);
	struct stat st;
	int ret;

	if (fstat(f->fd, &st) < 0)
		return pfs_neg_errno();
	if (fallocate(f->fd, 0, (off_t)(cur << PFS_PAGE_SHIFT),
		      (off_t)((target - cur) << PFS_PAGE_SHIFT)) == 0)
		return 0;
	ret = pfs_neg_errno();
	if (ret == -EOPNOTSUPP || ret == -ENOSYS) {
		if (!f->warned_truncate) {
			f->warned_truncate = true;
			pfs_warn("swap: %s/%s: fallocate unsupported; growing with ftruncate (no preallocation)",
				 s->dir, f->d.name);
		}
		if (ftruncate(f->fd, new_bytes) == 0)
			return 0;
		ret = pfs_neg_errno();
	}
	if (ftruncate(f->fd, st.st_size) < 0)
		pfs_err("swap: %s/%s: cannot restore length %lld after a failed growth: %s",
			s->dir, f->d.name, (long long)st.st_size, strerror(errno));
	if (ret != -ENOSPC && ret != -EDQUOT)
		pfs_err("swap: growing %s/%s to %llu frames failed: %s", s->dir, f->d.name,
			(unsigned long long)target, strerror(-ret));
	return ret;
}

int swap_grow(struct swap_store *s, uint32_t index, uint64_t nframes)
{
	struct swp_file *f;
	uint64_t cur, target;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	f = swp_find_index(s, index);
	if (!f) {
		ret = -ENOENT;
		goto out;
	}
	if (nframes > f->d.max_frames) {
		ret = -ENOSPC;
		goto out;
	}
	cur = atomic_load_explicit(&f->alloc_frames, memory_order_relaxed);
	if (nframes <= cur)
		goto out;
	target = (nframes + s->chunk_frames - 1) / s->chunk_frames * s->chunk_frames;
	target = PFS_MIN(target, f->d.max_frames);
	ret = swp_extend(s, f, target);
	if (ret == 0)
		atomic_store_explicit(&f->alloc_frames, target, memory_order_release);
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int swap_discard(struct swap_store *s, uint64_t frame, uint64_t n)
{
	struct swap__loc loc;
	int ret;

	if (n == 0)
		return 0;
	ret = swap__locate(s, frame, n, &loc);
	if (ret)
		return ret;
	if (fallocate(loc.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)loc.off_bytes, (off_t)(n << PFS_PAGE_SHIFT)) < 0) {
		ret = pfs_neg_errno();
		if (ret != -EOPNOTSUPP)
			pfs_err("swap: discarding frames %llu+%llu in %s/%s failed: %s",
				(unsigned long long)frame, (unsigned long long)n, s->dir,
				loc.name, strerror(-ret));
		return ret;
	}
	return 0;
}

uint64_t swap_checksum(const void *page)
{
	return XXH3_64bits(page, PFS_PAGE_SIZE);
}

void swap_get_stats(const struct swap_store *s, struct swap_stats *out)
{
	out->reads = atomic_load(&s->stat[SWAP__ST_READS]);
	out->writes = atomic_load(&s->stat[SWAP__ST_WRITES]);
	out->bytes_read = atomic_load(&s->stat[SWAP__ST_BYTES_READ]);
	out->bytes_written = atomic_load(&s->stat[SWAP__ST_BYTES_WRITTEN]);
	out->csum_errors = atomic_load(&s->stat[SWAP__ST_CSUM_ERRORS]);
	out->io_errors = atomic_load(&s->stat[SWAP__ST_IO_ERRORS]);
	out->syncs = atomic_load(&s->stat[SWAP__ST_SYNCS]);
}

/* ---- the store side of ring.c (swap__*, internal to src/swap/) ---- */

int swap__locate(const struct swap_store *s, uint64_t frame, uint64_t n, struct swap__loc *loc)
{
	struct swp_file *f;
	unsigned slot;

	if (n == 0 || pfs_range_overflows(frame, n))
		return -EINVAL;
	f = swp_find_frame(s, frame, &slot);
	if (!f || n > f->d.max_frames - (frame - f->d.first_frame))
		return -EINVAL;
	loc->slot = slot;
	loc->fd = f->fd;
	loc->rel_frame = frame - f->d.first_frame;
	loc->off_bytes = loc->rel_frame << PFS_PAGE_SHIFT;
	loc->alloc_frames = atomic_load_explicit(&f->alloc_frames, memory_order_acquire);
	loc->dio_align = f->dio_align;
	loc->name = f->d.name;
	return 0;
}

int swap__slot_fd(const struct swap_store *s, unsigned slot, const char **name)
{
	if (slot >= swap_nfiles(s))
		return -ENOENT;
	if (name)
		*name = s->files[slot]->d.name;
	return s->files[slot]->fd;
}

struct pfs_faults *swap__faults(const struct swap_store *s)
{
	return s->faults;
}

void swap__stat_add(struct swap_store *s, enum swap__stat k, uint64_t v)
{
	atomic_fetch_add_explicit(&s->stat[k], v, memory_order_relaxed);
}

void swap__ring_ref(struct swap_store *s, int delta)
{
	atomic_fetch_add(&s->nrings, delta);
}
