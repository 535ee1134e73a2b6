/*
 * attributes.c: the user.pagerfs.* extended attributes (INTERFACE.md):
 * an object's type, backing, flags, maxsize, page counts and id, a
 * directory's quota and usage. Only that namespace reaches the object
 * layer. Other names behave as on a file system without them: reading or
 * removing one finds nothing (ENODATA, which ls, cp -a and the kernel's
 * security.capability check take as "none"), setting one is not supported
 * (ENOTSUP). The control files have no attributes.
 *
 * A change may alter what the kernel caches: a stack's maxsize is its size,
 * a new type or backing replaces its contents. The object layer queues the
 * page ranges to drop; before answering we make sure the kernel has dropped
 * them and the attributes, so whoever looks next sees the new object.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/xattr.h>
#include "pagerfsd.h"

#define AT_PREFIX_LEN (sizeof(PFSD_XATTR_PREFIX) - 1)
#define AT_GROUPS_MAX 64

/* The name without the prefix, or NULL if it is not ours. */
static const char *at_ours(const char *name)
{
	if (strncmp(name, PFSD_XATTR_PREFIX, AT_PREFIX_LEN) != 0 || !name[AT_PREFIX_LEN])
		return NULL;
	return name + AT_PREFIX_LEN;
}

void pfsd_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct pfsd *d = pfsd_of(req);
	char val[CAT_PATH_MAX + 256];
	const char *short_name = at_ours(name);
	ssize_t n;

	if (pfsd_is_ctl(ino) || !short_name) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	n = obj_getxattr(d->objs, ino, short_name, val, size ? PFS_MIN(size, sizeof(val)) : 0);
	if (n < 0)
		pfsd_reply_err(req, "getxattr", ino, (int)n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, val, (size_t)n);
}

void pfsd_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		   size_t size, int flags)
{
	struct pfsd *d = pfsd_of(req);
	const char *short_name = at_ours(name);
	gid_t groups[AT_GROUPS_MAX];
	struct obj_cred cred;
	int rc;

	if (pfsd_is_ctl(ino)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (!short_name) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
		ssize_t n = obj_getxattr(d->objs, ino, short_name, NULL, 0);
		if (n < 0 && n != -ENODATA) {
			pfsd_reply_err(req, "setxattr", ino, (int)n);
			return;
		}
		if ((flags & XATTR_CREATE) && n >= 0) {
			fuse_reply_err(req, EEXIST);
			return;
		}
		if ((flags & XATTR_REPLACE) && n < 0) {
			fuse_reply_err(req, ENODATA);
			return;
		}
	}
	/* A backing file is opened with the caller's identity, groups included. */
	pfsd_cred(req, &cred, groups, AT_GROUPS_MAX);
	rc = obj_setxattr(d->objs, ino, short_name, value, size, &cred);
	if (rc == 0) {
		pfsd_inval_flush(d);
		pfsd_inval_attr(d, ino);
	}
	pfsd_reply_err(req, "setxattr", ino, rc);
}

void pfsd_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct pfsd *d = pfsd_of(req);
	char list[1024];
	ssize_t n;

	if (pfsd_is_ctl(ino)) {
		if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	n = obj_listxattr(d->objs, ino, list, size ? PFS_MIN(size, sizeof(list)) : 0);
	if (n < 0)
		pfsd_reply_err(req, "listxattr", ino, (int)n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, list, (size_t)n);
}

void pfsd_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct pfsd *d = pfsd_of(req);
	const char *short_name = at_ours(name);
	struct obj_cred cred;
	int rc;

	if (pfsd_is_ctl(ino) || !short_name) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	pfsd_cred(req, &cred, NULL, 0);
	rc = obj_removexattr(d->objs, ino, short_name, &cred);
	if (rc == 0) {
		pfsd_inval_flush(d);
		pfsd_inval_attr(d, ino);
	}
	pfsd_reply_err(req, "removexattr", ino, rc);
}
