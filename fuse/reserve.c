/*
 * reserve.c: physmem's container operations on an object's pages.
 * fallocate(0) reserves frames so later page-outs of the range cannot fail
 * (QNX's reserved versus lazy backing); fallocate(PUNCH_HOLE|KEEP_SIZE)
 * releases the range back to its initial contents. The kernel drops the
 * punched range from its page cache itself and updates the size after an
 * extending reservation. copy_file_range (Hurd-L4's copy: a COW clone of
 * whole pages) is not built yet: ENOSYS makes the kernel copy the bytes
 * through read and write, and stop asking.
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
	(void)ino_in;
	(void)off_in;
	(void)fi_in;
	(void)ino_out;
	(void)off_out;
	(void)fi_out;
	(void)len;
	(void)flags;
	fuse_reply_err(req, ENOSYS);
}
