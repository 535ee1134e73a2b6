/*
 * pager.h: pagers as ops tables, after FreeBSD's pagerops (getpages,
 * putpages, haspage) and SPIN's memory objects. Each run of an object's page
 * map is served by the pager of its kind:
 *
 *   zero        zero fill (SPIN's bogopager); nothing is ever written to it
 *   file        a backing file range, read through the caller's io_uring
 *               ring; the part past the range's end reads as zeros
 *   write-back  a shared object's backing file: read like `file`, and
 *               page-outs go back to the same offset
 *   swap        the swap store (src/swap_pager.c, over src/store.c)
 *
 * A page-in asks the page map how long the run from a page is backed the
 * same way, then that run's pager to fill it. A pager may queue its page-ins
 * and complete them together in `finish`, so one FUSE READ over several swap
 * runs is one swap_read call, its runs in flight together. A pager without
 * `page_out` keeps its pages read-only: a page of it that a client dirties
 * goes to swap.
 *
 * This layer knows nothing of objects, names or the catalogue. Every
 * function returns 0 (or a length) or a negative errno, never an error
 * through errno.
 */
#ifndef PAGERFS_PAGER_H
#define PAGERFS_PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct swap_ring;

/* One run of pages backed the same way, for a page-in. */
struct pager_run {
	uint64_t page;       /* the object's page the run begins at */
	uint64_t base;       /* its first page in the pager's space: backing-file page, frame */
	uint32_t npages;
	const uint8_t *sums; /* swap runs: the pages' checksums, 8 bytes each */
	void *buf;           /* where the run's pages go */
};

struct pager_ops {
	const char *name;
	/* getpages: fill run->buf with the run's pages, or queue them until finish. */
	int (*page_in)(void *ctx, const struct pager_run *run);
	/* Complete the page-ins queued since the last call. NULL: page_in never queues. */
	int (*finish)(void *ctx);
	/*
	 * haspage: how many of the npages pages from base the pager backs; the
	 * rest of the run is zero fill. NULL: all of them.
	 */
	uint32_t (*run_length)(void *ctx, uint64_t base, uint32_t npages);
	/*
	 * putpages: write len bytes of data at byte off of the object; returns
	 * the bytes written (short only after some were) or -errno. NULL: the
	 * pager's pages are never written back (dirtied pages go to swap).
	 */
	ssize_t (*page_out)(void *ctx, uint64_t off, const void *data, size_t len);
	/* Make what page_out wrote durable (datasync: data only). NULL: nothing to do. */
	int (*sync)(void *ctx, bool datasync);
};

/* A pager for one object: its ops and its state. */
struct pager {
	const struct pager_ops *ops;
	void *ctx;
};

static inline int pager_page_in(const struct pager *p, const struct pager_run *run)
{
	return p->ops->page_in(p->ctx, run);
}

static inline int pager_finish(const struct pager *p)
{
	return p->ops->finish ? p->ops->finish(p->ctx) : 0;
}

static inline uint32_t pager_run_length(const struct pager *p, uint64_t base, uint32_t npages)
{
	return p->ops->run_length ? p->ops->run_length(p->ctx, base, npages) : npages;
}

static inline bool pager_writes_back(const struct pager *p)
{
	return p->ops->page_out != NULL;
}

static inline ssize_t pager_page_out(const struct pager *p, uint64_t off, const void *data,
				     size_t len)
{
	return p->ops->page_out(p->ctx, off, data, len);
}

static inline int pager_sync(const struct pager *p, bool datasync)
{
	return p->ops->sync ? p->ops->sync(p->ctx, datasync) : 0;
}

/* ---- zero, file and write-back (filepager.c) ---- */

extern const struct pager_ops pager_zero_ops;
extern const struct pager_ops pager_file_ops;
extern const struct pager_ops pager_writeback_ops;

/* The zero pager (stateless). */
extern const struct pager pager_zero;

/*
 * The state of a file or write-back pager: a backing file range and the ring
 * that reads it. fd -1 (no file open) or no ring: its page-ins are -EIO, and
 * so are its page-outs without a file; a sync without a file has nothing to do.
 */
struct filepager {
	int fd;
	uint64_t offset_bytes, len_bytes;
	struct swap_ring *ring;
};

#endif /* PAGERFS_PAGER_H */
