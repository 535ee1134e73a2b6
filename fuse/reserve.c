/*
 * reserve.c: physmem's container operations on an object's pages.
 * fallocate(0) reserves frames so later page-outs of the range cannot fail
 * (QNX's reserved versus lazy backing); fallocate(PUNCH_HOLE|KEEP_SIZE)
 * releases the range back to its initial contents. The kernel drops the
 * punched range from its page cache itself and updates the size after an
 * extending reservation. copy_file_range is Hurd-L4's copy: whole pages
 * are shared copy-on-write (obj_copy_range); the kernel has written back
 * both ranges before asking and drops the destination's cached pages after.
 */
#include "config.h"
#include <errno.h>
#include "pagerfsd.h"

void pfsd_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		    struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	int rc;

	if (pfsd_is_ctl(ino)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (offset < 0 || length <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	rc = obj_fallocate(d->objs, fi->fh, mode, (uint64_t)offset, (uint64_t)length);
	pfsd_reply_err(req, "fallocate", ino, rc);
}

void pfsd_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			  struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			  struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct pfsd *d = pfsd_of(req);
	struct pfsd_thread *t;
	ssize_t n;

	(void)ino_in;
	if (pfsd_is_ctl(ino_in) || pfsd_is_ctl(ino_out)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (flags != 0 || off_in < 0 || off_out < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!(t = pfsd_thread(d))) {
		pfsd_reply_err(req, "clone", ino_out, -ENOMEM);
		return;
	}
	n = obj_copy_range(d->objs, t->io, fi_in->fh, (uint64_t)off_in, fi_out->fh,
			   (uint64_t)off_out, len);
	if (n < 0) {
		pfsd_reply_err(req, "clone", ino_out, (int)n);
		return;
	}
	fuse_reply_write(req, (size_t)n);
}
