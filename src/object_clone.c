/*
 * object_clone.c: copy_file_range between memory objects (Hurd-L4's
 * container_copy, SPIN's copyOnWrite).
 *
 * Whole pages are shared copy-on-write through store_clone when that is
 * what copying means: the two offsets are congruent modulo a page, the
 * source has no backing file (its FILE runs name pages of its own backing,
 * which the destination does not have), and the destination keeps its
 * pages in swap (not a shared object writing to its file, not a stack with
 * a fixed size). Partial pages at the ends, and every other case, are
 * copied through the page path. Cloning 1 GiB thus costs one transaction
 * over its extents; a later write to either side writes fresh frames, so
 * the other never sees it.
 */
#include <stdlib.h>
#include <string.h>
#include "extent.h"
#include "object_internal.h"

#define OC_COPY_CHUNK ((size_t)1 << 20)

/* Copy len bytes through the page path (read, then write), in 1 MiB steps. */
static ssize_t oc_copy_bytes(struct objects *o, struct store_io *io, uint64_t src_h, uint64_t src_off,
			     uint64_t dst_h, uint64_t dst_off, uint64_t len)
{
	uint8_t *buf = malloc(OC_COPY_CHUNK);
	uint64_t done = 0;
	ssize_t rc = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = (size_t)PFS_MIN(len - done, (uint64_t)OC_COPY_CHUNK);
		ssize_t got = obj_read(o, io, src_h, src_off + done, want, buf);
		if (got <= 0) {
			rc = got;
			break;
		}
		ssize_t put = obj_write(o, io, dst_h, dst_off + done, (size_t)got, buf);
		if (put < 0) {
			rc = put;
			break;
		}
		done += (uint64_t)put;
		if (put < got)
			break;
	}
	free(buf);
	return done ? (ssize_t)done : rc;
}

ssize_t obj_copy_range(struct objects *o, struct store_io *io, uint64_t src_h, uint64_t src_off,
		       uint64_t dst_h, uint64_t dst_off, size_t len)
{
	struct oinfo *si = ((struct ohandle *)(uintptr_t)src_h)->oi;
	struct oinfo *di = ((struct ohandle *)(uintptr_t)dst_h)->oi;
	struct cat_object src, dst;
	uint64_t head, whole, tail;
	ssize_t n;
	int rc;

	pthread_mutex_lock(&si->lock);
	src = si->rec;
	pthread_mutex_unlock(&si->lock);
	pthread_mutex_lock(&di->lock);
	dst = di->rec;
	pthread_mutex_unlock(&di->lock);
	if (dst.segtype == CAT_SEG_CODE && !(dst.flags & CAT_F_DEBUG))
		return -EROFS;
	if (pfs_range_overflows(src_off, len) || pfs_range_overflows(dst_off, len) ||
	    dst_off + len > ((uint64_t)1 << 52))
		return -EFBIG;
	if (src_off >= src.size_bytes || len == 0)
		return 0;
	len = (size_t)PFS_MIN((uint64_t)len, src.size_bytes - src_off);
	if (si == di && src_off < dst_off + len && dst_off < src_off + len)
		return -EINVAL; /* copy_file_range(2): overlapping ranges of one file */

	bool share = src_off % PFS_PAGE_SIZE == dst_off % PFS_PAGE_SIZE &&
		     !(src.flags & CAT_F_BACKING) && src.segtype != CAT_SEG_SHARED &&
		     dst.segtype != CAT_SEG_SHARED && dst.segtype != CAT_SEG_STACK &&
		     !(dst.flags & CAT_F_DEAD);
	if (!share)
		return oc_copy_bytes(o, io, src_h, src_off, dst_h, dst_off, len);

	head = PFS_MIN((PFS_PAGE_SIZE - src_off % PFS_PAGE_SIZE) % PFS_PAGE_SIZE, (uint64_t)len);
	whole = (len - head) / PFS_PAGE_SIZE;
	tail = len - head - whole * PFS_PAGE_SIZE;
	if (head && (n = oc_copy_bytes(o, io, src_h, src_off, dst_h, dst_off, head)) != (ssize_t)head)
		return n;
	if (whole) {
		rc = store_clone(o->s, src.id, dst.id, dst.memctl, (src_off + head) / PFS_PAGE_SIZE,
				 (dst_off + head) / PFS_PAGE_SIZE, whole);
		if (rc < 0)
			return head ? (ssize_t)head : rc;
		/* The pages are durable (store_clone commits): so is the size that covers them. */
		uint64_t end = dst_off + head + whole * PFS_PAGE_SIZE;
		pthread_mutex_lock(&di->lock);
		if (end > di->rec.size_bytes) {
			di->rec.size_bytes = end;
			di->rec.mtime_ns = di->rec.ctime_ns = ob_now_ns();
			rc = cat_write(o->cat, ob_put_txn, &di->rec);
		}
		pthread_mutex_unlock(&di->lock);
		if (rc < 0)
			return head ? (ssize_t)head : rc;
		ob_invalidate(o, dst.id, dst_off + head, whole * PFS_PAGE_SIZE);
	}
	if (tail) {
		uint64_t at = head + whole * PFS_PAGE_SIZE;
		n = oc_copy_bytes(o, io, src_h, src_off + at, dst_h, dst_off + at, tail);
		if (n < 0)
			return (ssize_t)at;
		return (ssize_t)(at + (uint64_t)n);
	}
	return (ssize_t)len;
}
