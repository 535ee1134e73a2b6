/*
 * page_out.c: dirty pages written back (msync, memory pressure, munmap) or
 * a write(2): Mach's memory_object_data_write, handled per the object's
 * type by obj_write (swap, the backing file, EROFS for code, dropped for a
 * dead stack).
 *
 * The data arrives in the worker's request buffer, placed so that it starts
 * on a page boundary (serve.c): whole pages go to the swap store's O_DIRECT
 * writes from there, partial ones through the worker's arena. write_buf
 * would add a splice for every other request and save nothing. An ENOSPC here is a memory control or the swap store refusing
 * the pages: the client sees it from msync/fsync, and nothing already
 * stored is lost. Like any Linux file system's failed write-back, the
 * kernel then treats the refused pages as clean: other readers may see
 * them until they leave the cache, after which the stored contents show.
 */
#include "config.h"
#include <errno.h>
#include "pagerfsd.h"

void pfsd_page_out(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct pfsd_thread *t;
	ssize_t n;

	if (pfs_unlikely(pfsd_is_ctl(ino))) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (pfs_unlikely(!(t = pfsd_thread(d)))) {
		pfsd_reply_err(req, "page-out", ino, -ENOMEM);
		return;
	}
	n = obj_write(d->objs, t->io, fi->fh, (uint64_t)off, size, buf);
	if (n < 0) {
		pfsd_reply_err(req, "page-out", ino, (int)n);
		return;
	}
	atomic_fetch_add_explicit(&d->ctr.writes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->ctr.write_bytes, (uint64_t)n, memory_order_relaxed);
	fuse_reply_write(req, (size_t)n);
}
