/*
 * namespace.c: names, attributes and directories of memory objects:
 * lookup, forget, getattr, setattr (resize is Sprite's brk), mknod, mkdir,
 * unlink (destroy, or cache per type), rmdir (a memory control goes),
 * rename, statfs. Each is a thin translation to one object-layer call.
 *
 * Inode numbers are catalogue ids (the root is CAT_ROOT_ID == FUSE_ROOT_ID)
 * and are never reused, so the kernel's lookup counts need no bookkeeping
 * here: forget has nothing to do. The .pagerfs/ control directory's inodes
 * live above every catalogue id (control.c); its name in the root can be
 * neither taken nor removed.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "pagerfsd.h"

void pfsd_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfsd *d = pfsd_of(req);
	struct fuse_entry_param e;
	struct obj_attr a;
	int rc;

	if (pfsd_ctl_lookup(d, parent, name, &e)) {
		fuse_reply_entry(req, &e);
		return;
	}
	if (pfsd_is_ctl(parent)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((rc = obj_lookup(d->objs, parent, name, &a)) < 0) {
		pfsd_reply_err(req, "lookup", parent, rc);
		return;
	}
	pfsd_entry_from(&a, &e);
	fuse_reply_entry(req, &e);
}

void pfsd_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

void pfsd_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

void pfsd_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct obj_attr a;
	struct stat st;
	int rc;

	(void)fi;
	if (pfsd_is_ctl(ino)) {
		pfsd_ctl_stat(d, ino, &st);
		fuse_reply_attr(req, &st, 0); /* control files change all the time */
		return;
	}
	if ((rc = obj_getattr(d->objs, ino, &a)) < 0) {
		/* the object of an inode the kernel holds is gone: the VFS looks its name up again */
		pfsd_reply_err(req, "getattr", ino, rc == -ENOENT ? -ESTALE : rc);
		return;
	}
	pfsd_stat_from(&a, &st);
	fuse_reply_attr(req, &st, PFSD_ATTR_TIMEOUT);
}

static int64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

void pfsd_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		  struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct obj_attr a, out;
	struct obj_cred cred;
	struct stat st;
	unsigned to_set = 0;
	int rc;

	(void)fi;
	if (pfsd_is_ctl(ino)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (valid & FUSE_SET_ATTR_MODE) {
		to_set |= OBJ_SET_MODE;
		a.mode = attr->st_mode;
	}
	if (valid & FUSE_SET_ATTR_UID) {
		to_set |= OBJ_SET_UID;
		a.uid = attr->st_uid;
	}
	if (valid & FUSE_SET_ATTR_GID) {
		to_set |= OBJ_SET_GID;
		a.gid = attr->st_gid;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		to_set |= OBJ_SET_SIZE;
		a.size_bytes = (uint64_t)attr->st_size;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		to_set |= OBJ_SET_ATIME;
		a.atime_ns = (valid & FUSE_SET_ATTR_ATIME_NOW) ? ns_now() : ns_of(&attr->st_atim);
	}
	if (valid & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		to_set |= OBJ_SET_MTIME;
		a.mtime_ns = (valid & FUSE_SET_ATTR_MTIME_NOW) ? ns_now() : ns_of(&attr->st_mtim);
	}
	/* ctime alone (FUSE_SET_ATTR_CTIME) is the object layer's to keep. */
	if (to_set == 0) {
		pfsd_getattr(req, ino, NULL);
		return;
	}
	pfsd_cred(req, &cred, NULL, 0);
	if ((rc = obj_setattr(d->objs, ino, to_set, &a, &cred, &out)) < 0) {
		pfsd_reply_err(req, "setattr", ino, rc);
		return;
	}
	pfsd_stat_from(&out, &st);
	fuse_reply_attr(req, &st, PFSD_ATTR_TIMEOUT);
}

/* Checks before anything that adds a name: the control directory and name length. */
static int ns_check_new(uint64_t parent, const char *name)
{
	int rc = pfsd_ctl_refuse_change(parent, name);

	if (rc == -EBUSY)
		return -EEXIST; /* ".pagerfs" exists */
	if (rc < 0)
		return rc;
	if (strlen(name) > CAT_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void pfsd_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct pfsd *d = pfsd_of(req);
	struct fuse_entry_param e;
	struct obj_cred cred;
	struct obj_attr a;
	int rc;

	(void)rdev;
	/* Memory objects are regular files; Linux says EPERM for what a file system cannot make. */
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((rc = ns_check_new(parent, name)) < 0) {
		pfsd_reply_err(req, "mknod", parent, rc);
		return;
	}
	pfsd_cred(req, &cred, NULL, 0);
	if ((rc = obj_create(d->objs, parent, name, mode, &cred, &a)) < 0) {
		pfsd_reply_err(req, "mknod", parent, rc);
		return;
	}
	atomic_fetch_add(&d->ctr.creates, 1);
	pfsd_entry_from(&a, &e);
	fuse_reply_entry(req, &e);
}

void pfsd_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct pfsd *d = pfsd_of(req);
	struct fuse_entry_param e;
	struct obj_cred cred;
	struct obj_attr a;
	int rc;

	if ((rc = ns_check_new(parent, name)) < 0) {
		pfsd_reply_err(req, "mkdir", parent, rc);
		return;
	}
	pfsd_cred(req, &cred, NULL, 0);
	if ((rc = obj_mkdir(d->objs, parent, name, mode, &cred, &a)) < 0) {
		pfsd_reply_err(req, "mkdir", parent, rc);
		return;
	}
	pfsd_entry_from(&a, &e);
	fuse_reply_entry(req, &e);
}

void pfsd_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfsd *d = pfsd_of(req);
	int rc = pfsd_ctl_refuse_change(parent, name);

	if (rc == 0)
		rc = obj_unlink(d->objs, parent, name);
	pfsd_reply_err(req, "unlink", parent, rc);
}

void pfsd_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfsd *d = pfsd_of(req);
	int rc = pfsd_ctl_refuse_change(parent, name);

	if (rc == 0)
		rc = obj_rmdir(d->objs, parent, name);
	pfsd_reply_err(req, "rmdir", parent, rc);
}

void pfsd_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		 const char *newname, unsigned int flags)
{
	struct pfsd *d = pfsd_of(req);
	int rc = pfsd_ctl_refuse_change(parent, name);

	if (rc == 0)
		rc = pfsd_ctl_refuse_change(newparent, newname);
	if (rc == 0 && strlen(newname) > CAT_NAME_MAX)
		rc = -ENAMETOOLONG;
	if (rc == 0)
		rc = obj_rename(d->objs, parent, name, newparent, newname, flags);
	pfsd_reply_err(req, "rename", parent, rc);
}

/* One name per object: a page map has one owner. */
void pfsd_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

void pfsd_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

void pfsd_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct pfsd *d = pfsd_of(req);
	struct statvfs st;
	int rc;

	if ((rc = obj_statfs(d->objs, &st)) < 0) {
		pfsd_reply_err(req, "statfs", ino, rc);
		return;
	}
	fuse_reply_statfs(req, &st);
}
