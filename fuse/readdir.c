/*
 * readdir.c: listing a directory (a memory control) of memory objects.
 *
 * The catalogue lists children in name order after a given name, and a
 * FUSE directory offset is 64 bits, too small for a name. So an open
 * directory handle keeps the cursor: the last name sent and the offset
 * that follows it. Offsets count entries from the start (".", "..", then
 * ".pagerfs" in the root, then the objects); a readdir that continues where
 * the last one stopped, which is every sequential listing, resumes after
 * the cursor's name, so entries created or removed meanwhile never make it
 * repeat or skip the others. Only a seekdir elsewhere counts from the start
 * again, which is as stable as the directory itself.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pagerfsd.h"

struct rd_handle {
	off_t next_off;               /* offset of the entry after `last` */
	bool have_last;               /* objects listed up to `last` */
	char last[CAT_NAME_MAX + 1];
};

struct rd_fill {
	fuse_req_t req;
	struct pfsd *d;
	uint64_t dir;
	char *buf;
	size_t size, used;
	bool plus;
	bool full;
	off_t pos;                    /* offset of the entry being considered */
	off_t from;                   /* emit entries at offsets >= from */
	struct rd_handle *h;
};

/* Add one entry whose offset is f->pos; false when the buffer is full. */
static bool rd_add(struct rd_fill *f, const char *name, const struct obj_attr *a,
		   uint64_t ino, mode_t mode)
{
	size_t room = f->size - f->used, n;
	off_t next = f->pos + 1;

	if (f->pos < f->from) {
		f->pos++;
		return true;
	}
	if (f->plus) {
		struct fuse_entry_param e;
		if (a) {
			pfsd_entry_from(a, &e);
		} else {
			/* "." and "..": no lookup count is taken for these. */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = (ino_t)ino;
			e.attr.st_mode = mode;
		}
		n = fuse_add_direntry_plus(f->req, f->buf + f->used, room, name, &e, next);
	} else {
		struct stat st;
		memset(&st, 0, sizeof(st));
		st.st_ino = (ino_t)(a ? a->id : ino);
		st.st_mode = a ? (mode_t)a->mode : mode;
		n = fuse_add_direntry(f->req, f->buf + f->used, room, name, &st, next);
	}
	if (n > room) {
		f->full = true;
		return false;
	}
	f->used += n;
	f->pos = next;
	return true;
}

static int rd_object(const char *name, const struct obj_attr *a, void *arg)
{
	struct rd_fill *f = arg;

	/* The control directory's name in the root is never an object's. */
	if (f->dir == CAT_ROOT_ID && strcmp(name, PFSD_CTL_NAME) == 0)
		return 0;
	if (!rd_add(f, name, a, 0, 0))
		return 1;
	if (f->pos > f->from) {
		snprintf(f->h->last, sizeof(f->h->last), "%s", name);
		f->h->have_last = true;
		f->h->next_off = f->pos;
	}
	return 0;
}

static void rd_list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi, bool plus)
{
	struct pfsd *d = pfsd_of(req);
	struct rd_handle *h = (struct rd_handle *)(uintptr_t)fi->fh;
	struct rd_fill f = { .req = req, .d = d, .dir = ino, .size = size, .plus = plus, .h = h };
	off_t fixed = ino == CAT_ROOT_ID ? 3 : 2; /* ".", "..", and ".pagerfs" in the root */
	int rc = 0;

	if (pfsd_is_ctl(ino)) {
		if (!(f.buf = malloc(size))) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		f.used = pfsd_ctl_readdir(req, f.buf, size, off, plus);
		fuse_reply_buf(req, f.buf, f.used);
		free(f.buf);
		return;
	}
	if (!(f.buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	f.from = off;
	if (off < fixed) {
		f.pos = 0;
		/* ".." of the root is the root itself (readdir(3) hides d_ino 0). */
		struct obj_attr self;
		fuse_ino_t up = FUSE_ROOT_ID;
		if (ino != CAT_ROOT_ID && obj_getattr(d->objs, ino, &self) == 0 && self.parent)
			up = self.parent;
		if (rd_add(&f, ".", NULL, ino, S_IFDIR) && rd_add(&f, "..", NULL, up, S_IFDIR) &&
		    ino == CAT_ROOT_ID)
			rd_add(&f, PFSD_CTL_NAME, NULL, PFSD_CTL_DIR_INO, S_IFDIR);
		h->have_last = false;
		h->next_off = fixed;
	}
	if (!f.full) {
		if (off >= fixed && off == h->next_off) {
			/* Where the last call stopped: after the cursor's name. */
			f.pos = f.from = off;
			rc = obj_readdir(d->objs, ino, h->have_last ? h->last : NULL, rd_object, &f);
		} else {
			/* A seek elsewhere (or the start): count from the first object. */
			f.pos = fixed;
			h->have_last = false;
			h->next_off = fixed;
			rc = obj_readdir(d->objs, ino, NULL, rd_object, &f);
		}
	}
	if (rc < 0 && f.used == 0)
		pfsd_reply_err(req, "readdir", ino, rc);
	else
		fuse_reply_buf(req, f.buf, f.used);
	free(f.buf);
}

void pfsd_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rd_handle *h = calloc(1, sizeof(*h));

	(void)ino;
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		free(h);
}

void pfsd_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	rd_list(req, ino, size, off, fi, false);
}

void pfsd_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	rd_list(req, ino, size, off, fi, true);
}

void pfsd_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}
