/*
 * object_attr.c: an object's attributes: setattr (resize is Sprite's brk),
 * the user.pagerfs.* extended attributes of INTERFACE.md, fallocate, statfs.
 *
 * Every setter validates completely before it changes anything, so a bad
 * value (EINVAL) or a refused change (EPERM, EBUSY) leaves the object
 * exactly as it was. Type and backing may change only while the object has
 * no paged-out data, and only by its owner (or root).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "extent.h"
#include "object_internal.h"
#include "size.h"

#define XATTR_PREFIX "user.pagerfs."

static const char *const seg_names[] = {
	[CAT_SEG_HEAP] = "heap", [CAT_SEG_CODE] = "code",
	[CAT_SEG_STACK] = "stack", [CAT_SEG_SHARED] = "shared",
};

static bool oa_owner(const struct obj_cred *cred, const struct cat_object *rec)
{
	return cred->uid == 0 || cred->uid == rec->uid;
}

static int64_t oa_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ob_zero_in_page(struct objects *o, const struct cat_object *rec, int fd,
		    const struct obj_cred *cred, uint64_t off, uint64_t len)
{
	struct filepager fp = { fd, rec->backing.offset_bytes, rec->backing.len_bytes, NULL };
	struct pager file = { &pager_file_ops, &fp };
	uint64_t page = off / PFS_PAGE_SIZE, skip = off % PFS_PAGE_SIZE;
	struct store_io *io;
	int kind, rc, own_fd = -1;

	if (len == 0)
		return 0;
	if (skip + len > PFS_PAGE_SIZE)
		return -EINVAL;
	if ((rc = store_page_kind(o->s, rec->id, page, &kind)) < 0)
		return rc;
	if (kind == PMAP_ZERO)
		return 0; /* zeros already: nothing to write (nor to charge) */
	if (kind == PMAP_FILE && fp.fd < 0) {
		if ((own_fd = ob_open_as(cred, rec->backing.path, O_RDONLY)) < 0)
			return own_fd;
		fp.fd = own_fd;
	}
	if ((rc = store_io_open(o->s, &io)) == 0) {
		uint8_t *arena = store_io_buf(io);
		fp.ring = store_io_ring(io);
		rc = store_page_in(io, rec->id, page, 1, arena, &file);
		if (rc == 0) {
			memset(arena + skip, 0, (size_t)len);
			rc = store_page_out(io, rec->id, rec->memctl, page, 1, arena);
		}
		store_io_close(io);
	}
	if (own_fd >= 0)
		close(own_fd);
	return rc;
}

static int oa_resize(struct objects *o, struct cat_object *rec, uint64_t size,
		     const struct obj_cred *cred)
{
	uint64_t old = rec->size_bytes;
	int rc;

	if (rec->segtype == CAT_SEG_CODE && !(rec->flags & CAT_F_DEBUG))
		return -EROFS;
	if (size > ((uint64_t)1 << 52))
		return -EFBIG;
	if (rec->segtype == CAT_SEG_SHARED) {
		struct oinfo *oi = ob_find_open(o, rec->id);
		int fd = oi ? ob_backing_get(oi) : -1;
		int trc = fd < 0 ? -EBUSY /* a shared object resizes its file only while open */
			  : ftruncate(fd, (off_t)(rec->backing.offset_bytes + size)) < 0 ? pfs_neg_errno() : 0;
		if (oi)
			ob_backing_put(oi);
		ob_put(o, oi);
		if (trc < 0)
			return trc;
		rec->backing.len_bytes = size;
	}
	if (size < old) {
		uint64_t keep = pfs_bytes_to_pages(size);
		rc = store_set_range(o->s, rec->id, rec->memctl, keep, UINT64_MAX - keep,
				     PMAP_ZERO, 0);
		if (rc == 0 && rec->segtype != CAT_SEG_SHARED && size % PFS_PAGE_SIZE) {
			struct oinfo *oi = ob_find_open(o, rec->id);
			rc = ob_zero_in_page(o, rec, oi ? ob_backing_get(oi) : -1, cred, size,
					     PFS_PAGE_SIZE - size % PFS_PAGE_SIZE);
			if (oi)
				ob_backing_put(oi);
			ob_put(o, oi);
		}
		/* Shrinking must not come back after a crash: make it durable now. */
		if (rc == 0)
			rc = store_commit(o->s);
		if (rc < 0)
			return rc;
		ob_invalidate(o, rec->id, size, old - size);
	}
	rec->size_bytes = size;
	return 0;
}

int obj_setattr(struct objects *o, uint64_t id, unsigned to_set, const struct obj_attr *a,
		const struct obj_cred *cred, struct obj_attr *out)
{
	struct cat_object rec;
	int rc = ob_get_record(o, id, &rec);
	int64_t now = oa_now_ns();

	if (rc < 0)
		return rc;
	if ((to_set & OBJ_SET_SIZE) && rec.kind == CAT_KIND_DIR)
		return -EISDIR;
	if ((to_set & OBJ_SET_SIZE) && (rc = oa_resize(o, &rec, a->size_bytes, cred)) < 0)
		return rc;
	if (to_set & OBJ_SET_MODE)
		rec.mode = (rec.mode & S_IFMT) | (a->mode & 07777);
	if (to_set & OBJ_SET_UID)
		rec.uid = a->uid;
	if (to_set & OBJ_SET_GID)
		rec.gid = a->gid;
	if (to_set & OBJ_SET_ATIME)
		rec.atime_ns = a->atime_ns;
	if (to_set & OBJ_SET_MTIME)
		rec.mtime_ns = a->mtime_ns;
	else if (to_set & OBJ_SET_SIZE)
		rec.mtime_ns = now;
	rec.ctime_ns = now;
	if ((rc = ob_put_record(o, &rec)) < 0)
		return rc;
	return obj_getattr(o, id, out); /* as fstat would show it: no links once unlinked */
}

/* ---- extended attributes ---- */

enum oa_name { OA_TYPE, OA_BACKING, OA_FLAGS, OA_MAXSIZE, OA_PAGES, OA_ID, OA_QUOTA, OA_USAGE, OA_NONE };

static enum oa_name oa_parse_name(const char *name)
{
	static const char *const names[] = { "type", "backing", "flags", "maxsize",
					     "pages", "id", "quota", "usage" };

	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) == 0)
		name += strlen(XATTR_PREFIX);
	for (size_t i = 0; i < PFS_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (enum oa_name)i;
	return OA_NONE;
}

static bool oa_applies(enum oa_name n, const struct cat_object *rec)
{
	if (rec->kind == CAT_KIND_DIR)
		return n == OA_QUOTA || n == OA_USAGE || n == OA_ID;
	if (n == OA_QUOTA || n == OA_USAGE)
		return false;
	return n != OA_MAXSIZE || rec->segtype == CAT_SEG_STACK;
}

static ssize_t oa_reply(const char *val, char *buf, size_t cap)
{
	size_t n = strlen(val);

	if (cap == 0)
		return (ssize_t)n; /* the caller asks for the size */
	if (n > cap)
		return -ERANGE;
	memcpy(buf, val, n);
	return (ssize_t)n;
}

/* The attribute name names for id, and id's record: -ENODATA if it has none such. */
static int oa_find(struct objects *o, uint64_t id, const char *name, enum oa_name *n,
		   struct cat_object *rec)
{
	int rc;

	if ((*n = oa_parse_name(name)) == OA_NONE)
		return -ENODATA;
	if ((rc = ob_get_record(o, id, rec)) < 0)
		return rc;
	return oa_applies(*n, rec) ? 0 : -ENODATA;
}

ssize_t obj_getxattr(struct objects *o, uint64_t id, const char *name, char *buf, size_t cap)
{
	enum oa_name n;
	struct cat_object rec;
	char val[CAT_PATH_MAX + 64];
	int rc;

	if ((rc = oa_find(o, id, name, &n, &rec)) < 0)
		return rc;
	switch (n) {
	case OA_TYPE:
		snprintf(val, sizeof(val), "%s", seg_names[rec.segtype]);
		break;
	case OA_BACKING:
		if (!(rec.flags & CAT_F_BACKING))
			return -ENODATA;
		snprintf(val, sizeof(val), "%s:%" PRIu64 ":%" PRIu64, rec.backing.path,
			 rec.backing.offset_bytes, rec.backing.len_bytes);
		break;
	case OA_FLAGS: {
		static const struct { uint32_t f; const char *s; } fl[] = {
			{ CAT_F_PERSIST, "persist" }, { CAT_F_DEBUG, "debug" },
			{ CAT_F_DEAD, "dead" }, { CAT_F_CACHED, "cached" },
		};
		val[0] = '\0';
		for (size_t i = 0; i < PFS_ARRAY_SIZE(fl); i++)
			if (rec.flags & fl[i].f) {
				if (val[0])
					strcat(val, ",");
				strcat(val, fl[i].s);
			}
		break;
	}
	case OA_MAXSIZE:
		snprintf(val, sizeof(val), "%" PRIu64, rec.maxsize_bytes);
		break;
	case OA_PAGES: {
		uint64_t z = 0, f = 0, s = 0;
		if ((rc = store_count_pages(o->s, id, pfs_bytes_to_pages(rec.size_bytes), &z, &f, &s)) < 0)
			return rc;
		snprintf(val, sizeof(val), "zero=%" PRIu64 " file=%" PRIu64 " swap=%" PRIu64, z, f, s);
		break;
	}
	case OA_ID:
		snprintf(val, sizeof(val), "%" PRIu64, rec.id);
		break;
	case OA_QUOTA:
	case OA_USAGE: {
		struct store_memctl_info mi;
		if ((rc = store_memctl_info(o->s, id, &mi)) < 0)
			return rc;
		if (n == OA_QUOTA && !mi.has_quota)
			return -ENODATA;
		snprintf(val, sizeof(val), "%" PRIu64,
			 (n == OA_QUOTA ? mi.guarantee_frames : mi.usage_frames) * PFS_PAGE_SIZE);
		break;
	}
	case OA_NONE:
		return -ENODATA;
	}
	return oa_reply(val, buf, cap);
}

ssize_t obj_listxattr(struct objects *o, uint64_t id, char *buf, size_t cap)
{
	static const char *const names[] = { "type", "backing", "flags", "maxsize",
					     "pages", "id", "quota", "usage" };
	struct cat_object rec;
	size_t len = 0;
	int rc;

	if ((rc = ob_get_record(o, id, &rec)) < 0)
		return rc;
	for (size_t i = 0; i < PFS_ARRAY_SIZE(names); i++) {
		enum oa_name n = (enum oa_name)i;
		char full[64];
		/*
		 * Read-only attributes are readable by name but not listed (as
		 * CephFS does with its virtual ones), so copying tools do not
		 * try to set them on another object.
		 */
		if (n == OA_PAGES || n == OA_ID || n == OA_USAGE)
			continue;
		if (!oa_applies(n, &rec) || (n == OA_BACKING && !(rec.flags & CAT_F_BACKING)))
			continue;
		if (n == OA_QUOTA) {
			struct store_memctl_info mi;
			if (store_memctl_info(o->s, id, &mi) < 0 || !mi.has_quota)
				continue;
		}
		int w = snprintf(full, sizeof(full), XATTR_PREFIX "%s", names[i]);
		if (cap) {
			if (len + (size_t)w + 1 > cap)
				return -ERANGE;
			memcpy(buf + len, full, (size_t)w + 1);
		}
		len += (size_t)w + 1;
	}
	return (ssize_t)len;
}

/*
 * A value as a NUL-terminated string; xattr values are bytes, often with a
 * trailing newline. Only flags may be empty (no flags).
 */
static int oa_value(const char *value, size_t len, char *out, size_t cap, bool may_be_empty)
{
	while (len && (value[len - 1] == '\n' || value[len - 1] == '\0'))
		len--;
	if ((len == 0 && !may_be_empty) || len >= cap || memchr(value, '\0', len))
		return -EINVAL;
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

/* PATH[:OFFSET[:LENGTH]] -> an open, checked backing file. */
static int oa_set_backing(struct objects *o, struct cat_object *rec, const char *v,
			  const struct obj_cred *cred)
{
	char path[CAT_PATH_MAX];
	uint64_t off = 0, len = UINT64_MAX;
	struct stat st;
	char *colon;
	int fd, rc;

	if (v[0] != '/' || strlen(v) >= sizeof(path))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s", v);
	if ((colon = strchr(path, ':'))) {
		char *second;
		*colon++ = '\0';
		if ((second = strchr(colon, ':'))) {
			*second++ = '\0';
			if ((rc = size_parse(second, &len)) < 0 || len == 0)
				return -EINVAL;
		}
		if ((rc = size_parse(colon, &off)) < 0)
			return -EINVAL;
	}
	if (off % PFS_PAGE_SIZE)
		return -EINVAL; /* pages map whole backing pages */
	size_t mlen = o->mountpoint ? strlen(o->mountpoint) : 0;
	if (mlen && strncmp(path, o->mountpoint, mlen) == 0 && (path[mlen] == '/' || path[mlen] == '\0'))
		return -EINVAL; /* read through our own mount: the daemon would serve itself */
	fd = ob_open_as(cred, path, rec->segtype == CAT_SEG_SHARED ? O_RDWR : O_RDONLY);
	if (fd == -EISDIR)
		return -EINVAL;
	if (fd < 0)
		return fd;
	rc = fstat(fd, &st) < 0 ? pfs_neg_errno() : 0;
	close(fd);
	if (rc < 0)
		return rc;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (off > (uint64_t)st.st_size)
		return -EINVAL;
	if (len == UINT64_MAX)
		len = (uint64_t)st.st_size - off;
	if (off + len > (uint64_t)st.st_size && rec->segtype != CAT_SEG_SHARED)
		return -EINVAL;
	rec->flags |= CAT_F_BACKING;
	snprintf(rec->backing.path, sizeof(rec->backing.path), "%s", path);
	rec->backing.dev = st.st_dev;
	rec->backing.ino = st.st_ino;
	rec->backing.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	rec->backing.offset_bytes = off;
	rec->backing.len_bytes = len;
	if (rec->segtype != CAT_SEG_STACK)
		rec->size_bytes = len;
	return 0;
}

static int oa_parse_flags(const char *v, uint32_t *flags)
{
	char buf[128], *save = NULL;
	uint32_t f = 0;

	if (strlen(v) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "persist") == 0)
			f |= CAT_F_PERSIST;
		else if (strcmp(t, "debug") == 0)
			f |= CAT_F_DEBUG;
		else
			return -EINVAL; /* dead and cached are the daemon's to set */
	}
	*flags = f;
	return 0;
}

int obj_setxattr(struct objects *o, uint64_t id, const char *name, const char *value,
		 size_t len, const struct obj_cred *cred)
{
	enum oa_name n = oa_parse_name(name);
	struct cat_object rec, old;
	char v[CAT_PATH_MAX + 64];
	uint64_t bytes, swap = 0;
	int rc;

	if (n == OA_NONE)
		return -ENOTSUP;
	if ((rc = ob_get_record(o, id, &rec)) < 0)
		return rc;
	if (!oa_applies(n, &rec))
		return n == OA_MAXSIZE || n == OA_QUOTA || n == OA_USAGE ? -EINVAL : -ENOTSUP;
	if ((rc = oa_value(value, len, v, sizeof(v), n == OA_FLAGS)) < 0)
		return rc;
	/*
	 * Setting an attribute to the value it has is a no-op, so that cp -a
	 * and mv across directories, which copy every listed attribute, work.
	 */
	char cur[CAT_PATH_MAX + 64];
	ssize_t clen = obj_getxattr(o, id, name, cur, sizeof(cur) - 1);
	/* (Naming the type of an untyped object is a change: it starts the type's lifecycle.) */
	if (clen >= 0 && (n != OA_TYPE || (rec.flags & CAT_F_TYPED))) {
		cur[clen] = '\0';
		if (strcmp(cur, v) == 0)
			return 0;
	}
	if (n == OA_PAGES || n == OA_ID || n == OA_USAGE)
		return -EPERM; /* read-only */
	if (!oa_owner(cred, &rec))
		return -EPERM;
	/* Every name of a shared text shows the same type, backing and flags. */
	if (rec.extra_links && n != OA_QUOTA)
		return -EBUSY;
	old = rec;
	if (n == OA_QUOTA) {
		if ((rc = size_parse(v, &bytes)) < 0)
			return -EINVAL;
		/* A guarantee of some bytes is one of whole pages (tmpfs's size= rounds up too). */
		return store_memctl_quota(o->s, id, false, pfs_bytes_to_pages(bytes));
	}
	if (n == OA_TYPE || n == OA_BACKING) {
		if ((rc = store_count_pages(o->s, id, PFS_ALL_PAGES, NULL, NULL, &swap)) < 0)
			return rc;
		if (swap)
			return -EBUSY;
	}
	switch (n) {
	case OA_TYPE: {
		size_t t;
		for (t = 0; t < PFS_ARRAY_SIZE(seg_names); t++)
			if (strcmp(v, seg_names[t]) == 0)
				break;
		if (t == PFS_ARRAY_SIZE(seg_names))
			return -EINVAL;
		rec.segtype = (uint8_t)t;
		rec.flags = (rec.flags | CAT_F_TYPED) & ~(CAT_F_PERSIST | CAT_F_DEAD | CAT_F_CACHED);
		if (t == CAT_SEG_STACK) {
			rec.size_bytes = rec.maxsize_bytes;
			rec.low_water_page = pfs_bytes_to_pages(rec.size_bytes);
		}
		break;
	}
	case OA_BACKING:
		if ((rc = oa_set_backing(o, &rec, v, cred)) < 0)
			return rc;
		break;
	case OA_FLAGS: {
		uint32_t f;
		if ((rc = oa_parse_flags(v, &f)) < 0)
			return rc;
		rec.flags = (rec.flags & ~(CAT_F_PERSIST | CAT_F_DEBUG)) | f;
		break;
	}
	case OA_MAXSIZE:
		if ((rc = size_parse(v, &bytes)) < 0 || bytes % PFS_PAGE_SIZE || bytes > ((uint64_t)1 << 52))
			return -EINVAL;
		rec.maxsize_bytes = bytes;
		rec.size_bytes = bytes;
		rec.low_water_page = pfs_bytes_to_pages(bytes);
		break;
	default:
		return -ENOTSUP;
	}
	rec.ctime_ns = oa_now_ns();
	if ((rc = ob_put_record(o, &rec)) < 0)
		return rc;
	if ((n == OA_TYPE || n == OA_BACKING) && (rc = ob_reset_image(o, &rec)) < 0) {
		ob_put_record(o, &old);
		return rc;
	}
	if (n == OA_TYPE || n == OA_BACKING) {
		/*
		 * Users that have it open (or whose release is still on its way:
		 * FUSE releases asynchronously) see the new image: their backing
		 * file is reopened and the kernel's pages are dropped.
		 */
		struct oinfo *oi = ob_find_open(o, id);
		if (oi) {
			pthread_rwlock_wrlock(&oi->backing_lock); /* no I/O through the old one */
			pthread_mutex_lock(&oi->lock);
			if (oi->backing_fd >= 0)
				close(oi->backing_fd);
			oi->backing_fd = -1;
			if (oi->rec.flags & CAT_F_BACKING)
				oi->backing_fd = ob_open_as(cred, oi->rec.backing.path,
							    oi->rec.segtype == CAT_SEG_SHARED ? O_RDWR : O_RDONLY);
			if (oi->backing_fd < 0)
				oi->backing_fd = -1; /* its FILE pages read as EIO until reopened */
			pthread_mutex_unlock(&oi->lock);
			pthread_rwlock_unlock(&oi->backing_lock);
			ob_put(o, oi);
		}
		ob_invalidate(o, id, 0, 0);
	}
	if (n == OA_TYPE || n == OA_BACKING || n == OA_FLAGS)
		return ob_share_text(o, id);
	return 0;
}

int obj_removexattr(struct objects *o, uint64_t id, const char *name, const struct obj_cred *cred)
{
	enum oa_name n;
	struct cat_object rec;
	int rc;

	if ((rc = oa_find(o, id, name, &n, &rec)) < 0)
		return rc;
	if (!oa_owner(cred, &rec))
		return -EPERM;
	if (n == OA_QUOTA) {
		struct store_memctl_info mi;
		if ((rc = store_memctl_info(o->s, id, &mi)) < 0)
			return rc;
		return mi.has_quota ? store_memctl_quota(o->s, id, true, 0) : -ENODATA;
	}
	return -EPERM; /* the other attributes always have a value */
}

/* ---- fallocate, statfs ---- */

/*
 * fallocate mode 0 / KEEP_SIZE: reserve swap for the range now (QNX's
 * non-lazy backing) so its later page-outs cannot fail; mode 0 also extends
 * the object, as on any file system. A shared object's pages go to its
 * backing file, whose own fallocate reserves them.
 */
static int oa_reserve(struct objects *o, struct oinfo *oi, struct cat_object *rec, int mode,
		      uint64_t off, uint64_t len)
{
	uint64_t first = off / PFS_PAGE_SIZE, end = pfs_bytes_to_pages(off + len);
	int rc;

	if (off + len > ((uint64_t)1 << 52))
		return -EFBIG;
	if (rec->segtype == CAT_SEG_STACK && off + len > rec->size_bytes)
		return -EFBIG;
	if (rec->segtype == CAT_SEG_SHARED) {
		int fd = ob_backing_get(oi);
		rc = fd < 0 ? -EIO
		     : fallocate(fd, mode, (off_t)(rec->backing.offset_bytes + off), (off_t)len) < 0
		     ? pfs_neg_errno() : 0;
		ob_backing_put(oi);
		if (rc < 0)
			return rc;
	} else if ((rc = store_reserve(o->s, rec->id, rec->memctl, first, end - first)) < 0) {
		return rc;
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > rec->size_bytes) {
		pthread_mutex_lock(&oi->lock);
		if (off + len > oi->rec.size_bytes) {
			oi->rec.size_bytes = off + len;
			if (rec->segtype == CAT_SEG_SHARED)
				oi->rec.backing.len_bytes = off + len;
			oi->rec.mtime_ns = oi->rec.ctime_ns = ob_now_ns();
			rc = cat_write(o->cat, ob_put_txn, &oi->rec);
		} else {
			rc = 0;
		}
		pthread_mutex_unlock(&oi->lock);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int obj_fallocate(struct objects *o, uint64_t handle, int mode, uint64_t off, uint64_t len)
{
	struct ohandle *h = (struct ohandle *)(uintptr_t)handle;
	struct cat_object rec;
	int rc;

	if (len == 0 || pfs_range_overflows(off, len))
		return -EINVAL;
	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP; /* collapse, zero and insert ranges are not memory-object operations */
	if ((rc = ob_get_record(o, h->oi->id, &rec)) < 0)
		return rc;
	if (rec.segtype == CAT_SEG_CODE && !(rec.flags & CAT_F_DEBUG))
		return -EROFS;
	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		return oa_reserve(o, h->oi, &rec, mode, off, len);
	/* Whole pages go back to their initial contents; partial ones are zeroed (like tmpfs). */
	uint64_t first = pfs_bytes_to_pages(off), end = (off + len) / PFS_PAGE_SIZE;
	uint64_t head_end = PFS_MIN(off + len, first * PFS_PAGE_SIZE);
	struct obj_cred self = { .uid = geteuid(), .gid = getegid() };
	int fd = ob_backing_get(h->oi);
	rc = 0;
	if (off % PFS_PAGE_SIZE)
		rc = ob_zero_in_page(o, &rec, fd, &self, off, head_end - off);
	if (rc == 0 && (off + len) % PFS_PAGE_SIZE && end * PFS_PAGE_SIZE >= head_end)
		rc = ob_zero_in_page(o, &rec, fd, &self, PFS_MAX(end * PFS_PAGE_SIZE, off),
				     off + len - PFS_MAX(end * PFS_PAGE_SIZE, off));
	ob_backing_put(h->oi);
	if (rc < 0)
		return rc;
	if (first < end) {
		uint64_t file_pages = (rec.flags & CAT_F_BACKING) ? pfs_bytes_to_pages(rec.backing.len_bytes) : 0;
		rc = store_set_range(o->s, rec.id, rec.memctl, first, end - first, PMAP_ZERO, 0);
		if (rc == 0 && first < file_pages)
			rc = store_set_range(o->s, rec.id, rec.memctl, first,
					     PFS_MIN(end, file_pages) - first, PMAP_FILE, first);
		if (rc < 0)
			return rc;
	}
	ob_invalidate(o, rec.id, off, len);
	return 0;
}

int obj_statfs(struct objects *o, struct statvfs *out)
{
	struct store_memctl_info root;
	struct store_stats st;
	struct cat_txn *txn;
	uint64_t nobj = 0;
	int rc;

	if ((rc = store_memctl_info(o->s, CAT_ROOT_ID, &root)) < 0)
		return rc;
	store_get_stats(o->s, &st);
	if ((rc = cat_read_begin(o->cat, &txn)) < 0)
		return rc;
	cat_count(txn, CAT_T_OBJECTS, &nobj);
	cat_read_end(txn);
	memset(out, 0, sizeof(*out));
	out->f_bsize = out->f_frsize = PFS_PAGE_SIZE;
	/* Like ext4's reserved blocks: the redirect-on-write reserve is size, not free space. */
	out->f_blocks = st.capacity_frames;
	out->f_bfree = out->f_bavail = root.available_frames;
	out->f_files = nobj + (1u << 20);
	out->f_ffree = out->f_favail = 1u << 20;
	out->f_namemax = CAT_NAME_MAX;
	return 0;
}
