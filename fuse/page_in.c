/*
 * page_in.c: a page fault (or read) the kernel's page cache could not
 * satisfy: Mach's memory_object_data_request.
 *
 * The fault path: the worker that read the request pages the data into its
 * own store_io arena (zero fill, the swap store through io_uring with
 * checksums, or the backing file) and replies straight from there, one
 * writev to /dev/fuse, no copy, no allocation, no other thread involved.
 * The kernel never asks for more than the arena holds (max_pages 256 =
 * 1 MiB, STORE_IO_MAX_PAGES); anything larger is a bug, answered with a
 * correct but slower bounce buffer rather than a short read, which the
 * kernel would take for the end of the object.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include "log.h"
#include "pagerfsd.h"

#define PI_ARENA_BYTES ((size_t)STORE_IO_MAX_PAGES * PFS_PAGE_SIZE)

void pfsd_page_in(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct pfsd_thread *t;
	uint8_t *buf;
	ssize_t n;

	if (pfs_unlikely(pfsd_is_ctl(ino))) {
		pfsd_ctl_read(req, size, off, fi);
		return;
	}
	if (pfs_unlikely(!(t = pfsd_thread(d)))) {
		pfsd_reply_err(req, "page-in", ino, -ENOMEM);
		return;
	}
	buf = t->arena;
	if (pfs_unlikely(size > PI_ARENA_BYTES)) {
		static atomic_bool said;
		if (!atomic_exchange(&said, true))
			pfs_warn("page-in of %zu bytes: more than max_pages allows", size);
		if (!(buf = malloc(size))) {
			pfsd_reply_err(req, "page-in", ino, -ENOMEM);
			return;
		}
	}
	n = obj_read(d->objs, t->io, fi->fh, (uint64_t)off, size, buf);
	if (n < 0) {
		pfsd_reply_err(req, "page-in", ino, (int)n);
	} else {
		atomic_fetch_add_explicit(&d->ctr.reads, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&d->ctr.read_bytes, (uint64_t)n, memory_order_relaxed);
		fuse_reply_buf(req, (const char *)buf, (size_t)n);
	}
	if (buf != t->arena)
		free(buf);
}
