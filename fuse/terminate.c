/*
 * terminate.c: an object's users come and go: create, open, flush and
 * release. The object layer counts opens; the last release runs the
 * object's type's terminate (Mach's memory_object_terminate: keep, cache,
 * revert or destroy, INTERFACE.md).
 *
 * Every open keeps the kernel's page cache (FOPEN_KEEP_CACHE): without it
 * each open would throw away the object's resident pages. Whatever really
 * changes an object's contents behind the cache says so through the
 * invalidation queue. Flush has nothing to do (write-back is the kernel's,
 * durability is fsync's), so opens ask the kernel not to send it.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "log.h"
#include "pagerfsd.h"

/* Supplementary groups looked at when an open has to open a backing file. */
#define TM_GROUPS_MAX 64

static void tm_reply_open(fuse_req_t req, struct pfsd *d, const struct fuse_entry_param *e,
			  struct fuse_file_info *fi, uint64_t handle)
{
	int rc;

	fi->fh = handle;
	fi->keep_cache = 1;
	fi->noflush = 1;
	rc = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (rc != 0) {
		/* The opener was interrupted and is gone: nobody will release this. */
		obj_release(d->objs, handle);
	}
}

void pfsd_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		 struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	struct fuse_entry_param e;
	gid_t groups[TM_GROUPS_MAX];
	struct obj_cred cred;
	struct obj_attr a;
	uint64_t handle;
	int rc = pfsd_ctl_refuse_change(parent, name);

	if (rc == -EBUSY)
		rc = -EEXIST;
	if (rc == 0 && strlen(name) > CAT_NAME_MAX)
		rc = -ENAMETOOLONG;
	if (rc < 0 || !S_ISREG(mode)) {
		pfsd_reply_err(req, "create", parent, rc < 0 ? rc : -EPERM);
		return;
	}
	pfsd_cred(req, &cred, NULL, 0);
	rc = obj_create(d->objs, parent, name, mode, &cred, &a);
	if (rc == -EEXIST && !(fi->flags & O_EXCL)) {
		/* Created by someone else since the kernel's lookup: open theirs. */
		if ((rc = obj_lookup(d->objs, parent, name, &a)) == 0 && a.kind == CAT_KIND_DIR)
			rc = -EISDIR;
	} else if (rc == 0) {
		atomic_fetch_add(&d->ctr.creates, 1);
	}
	if (rc < 0) {
		pfsd_reply_err(req, "create", parent, rc);
		return;
	}
	pfsd_cred(req, &cred, groups, TM_GROUPS_MAX);
	if ((rc = obj_open(d->objs, a.id, fi->flags, &cred, &handle)) < 0) {
		pfsd_reply_err(req, "create", a.id, rc);
		return;
	}
	atomic_fetch_add(&d->ctr.opens, 1);
	pfsd_entry_from(&a, &e);
	tm_reply_open(req, d, &e, fi, handle);
}

void pfsd_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	gid_t groups[TM_GROUPS_MAX];
	struct obj_cred cred;
	uint64_t handle;
	int rc;

	if (pfsd_is_ctl(ino)) {
		pfsd_ctl_open(req, ino, fi);
		return;
	}
	pfsd_cred(req, &cred, groups, TM_GROUPS_MAX);
	if ((rc = obj_open(d->objs, ino, fi->flags, &cred, &handle)) < 0) {
		pfsd_reply_err(req, "open", ino, rc);
		return;
	}
	atomic_fetch_add(&d->ctr.opens, 1);
	tm_reply_open(req, d, NULL, fi, handle);
}

void pfsd_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

void pfsd_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfsd *d = pfsd_of(req);
	int rc;

	if (pfsd_is_ctl(ino)) {
		pfsd_ctl_release(fi);
		fuse_reply_err(req, 0);
		return;
	}
	/* Nobody hears a release's error: log it, it may be a lifecycle's failure. */
	if ((rc = obj_release(d->objs, fi->fh)) < 0) {
		pfs_err("release of object %llu: %s", (unsigned long long)ino, strerror(-rc));
		pfsd_count_err(d, rc);
	}
	fuse_reply_err(req, 0);
}
