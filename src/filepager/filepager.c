/*
 * filepager.c: the zero, file and write-back pagers (pager.h).
 *
 * The file pager reads a backing file range through the caller's io_uring
 * ring, with the descriptor the object layer opened under its opener's
 * identity; it must never open a file itself, nor read outside the range.
 * The write-back pager is the file pager of a shared object, which also
 * writes page-outs back to the file at the same offset and syncs it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "base.h"
#include "filepager/pager.h"
#include "swap/swap.h"

/* ---- zero ---- */

static int fp_zero_page_in(void *ctx, const struct pager_run *run)
{
	(void)ctx;
	memset(run->buf, 0, (size_t)run->npages * PFS_PAGE_SIZE);
	return 0;
}

const struct pager_ops pager_zero_ops = {
	.name = "zero",
	.page_in = fp_zero_page_in,
};

const struct pager pager_zero = { &pager_zero_ops, NULL };

/* ---- file ---- */

/* Pages of the range from base on (the last may be partial); without a file, all: they are EIO. */
static uint32_t fp_file_run_length(void *ctx, uint64_t base, uint32_t npages)
{
	const struct filepager *f = ctx;
	uint64_t range_pages = pfs_bytes_to_pages(f->len_bytes);

	if (f->fd < 0 || !f->ring)
		return npages;
	return base >= range_pages ? 0 : (uint32_t)PFS_MIN((uint64_t)npages, range_pages - base);
}

static int fp_file_page_in(void *ctx, const struct pager_run *run)
{
	const struct filepager *f = ctx;
	uint64_t want = (uint64_t)run->npages * PFS_PAGE_SIZE, done = 0;
	uint64_t off = run->base * PFS_PAGE_SIZE;

	if (f->fd < 0 || !f->ring)
		return -EIO;
	if (run->base < pfs_bytes_to_pages(f->len_bytes)) {
		size_t n = (size_t)PFS_MIN(want, f->len_bytes - off);
		ssize_t got = swap_ring_read_fd(f->ring, f->fd, f->offset_bytes + off, run->buf, n);
		if (got < 0)
			return (int)got;
		done = (uint64_t)got; /* short: the file shrank, the rest reads as zeros */
	}
	memset((uint8_t *)run->buf + done, 0, want - done);
	return 0;
}

const struct pager_ops pager_file_ops = {
	.name = "file",
	.page_in = fp_file_page_in,
	.run_length = fp_file_run_length,
};

/* ---- write-back ---- */

static ssize_t fp_writeback_page_out(void *ctx, uint64_t off, const void *data, size_t len)
{
	const struct filepager *f = ctx;
	size_t done = 0;

	if (f->fd < 0)
		return -EIO;
	if (pfs_range_overflows(f->offset_bytes, off) ||
	    pfs_range_overflows(f->offset_bytes + off, len) ||
	    f->offset_bytes + off + len > (uint64_t)INT64_MAX)
		return -EFBIG;
	while (done < len) {
		ssize_t n = pwrite(f->fd, (const uint8_t *)data + done, len - done,
				   (off_t)(f->offset_bytes + off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : pfs_neg_errno();
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int fp_writeback_sync(void *ctx, bool datasync)
{
	const struct filepager *f = ctx;

	if (f->fd < 0)
		return 0; /* nothing was written through it */
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0)
		return pfs_neg_errno();
	return 0;
}

const struct pager_ops pager_writeback_ops = {
	.name = "write-back",
	.page_in = fp_file_page_in,
	.run_length = fp_file_run_length,
	.page_out = fp_writeback_page_out,
	.sync = fp_writeback_sync,
};
