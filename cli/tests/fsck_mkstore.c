/*
 * fsck_mkstore.c: builds a small pagerfs store with the core library and
 * damages it on request, for t_fsck.sh. Never part of an installation.
 *
 *   fsck_mkstore build STORE           objects /a (40 swap pages), /d/b (10),
 *                                      /c (a clone of /a's first 16 pages:
 *                                      shared frames with reference counts),
 *                                      /sparse (64M, swap pages at 0, 8M, the end),
 *                                      /f (backed by STORE.backing, 200K of file
 *                                      pages, then zeros to 1M, one page written)
 *   fsck_mkstore corrupt-frame STORE   flip a byte of /a page 3's frame in its swap file
 *   fsck_mkstore dangling-extent STORE an extent record of object 999999 (no record)
 *   fsck_mkstore dangling-swap STORE   a SWAP extent of object 999998 (no record) sharing
 *                                      /a's frames for pages 5 and 6
 *   fsck_mkstore dangling-name STORE   a name "ghost" in / for object 888888 (no record)
 *   fsck_mkstore orphan STORE          drop /c's name (its record and pages stay)
 *   fsck_mkstore leak STORE            take 5 frames out of the free map
 *   fsck_mkstore bad-ref STORE         set the count of /a page 0's frame to 7
 *   fsck_mkstore foreign-ref STORE     a free-frame run where /a pages 0-3's counts are
 *   fsck_mkstore schema-2 STORE        write the counts as schema 2 did (a record a frame)
 *   fsck_mkstore hold STORE            open the store like a daemon; print "ready", wait for stdin EOF
 *
 * Exit 0 done, 1 failed (with the reason on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "catalogue.h"
#include "codec.h"
#include "object.h"
#include "pagemap.h"
#include "store.h"

static int die(const char *what, int rc)
{
	fprintf(stderr, "fsck_mkstore: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return 1;
}

static int write_pages(struct objects *o, struct store_io *io, uint64_t id, uint32_t npages,
		       unsigned seed)
{
	struct obj_cred cred = { 0, 0, getpid(), NULL, 0 };
	uint8_t *buf = malloc((size_t)npages * PFS_PAGE_SIZE);
	uint64_t h;
	int rc;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < (size_t)npages * PFS_PAGE_SIZE; i++)
		buf[i] = (uint8_t)(i * 31 + seed + i / PFS_PAGE_SIZE);
	if ((rc = obj_open(o, id, O_RDWR, &cred, &h)) == 0) {
		ssize_t n = obj_write(o, io, h, 0, (size_t)npages * PFS_PAGE_SIZE, buf);
		rc = n < 0 ? (int)n : obj_fsync(o, h);
		int r2 = obj_release(o, h);
		if (rc == 0)
			rc = r2;
	}
	free(buf);
	return rc;
}

/* Write one page of pattern at page `page` of id. */
static int write_page_at(struct objects *o, struct store_io *io, uint64_t id, uint64_t page)
{
	struct obj_cred cred = { 0, 0, getpid(), NULL, 0 };
	uint8_t buf[PFS_PAGE_SIZE];
	uint64_t h;
	int rc;

	memset(buf, (int)(page & 0xff) | 1, sizeof(buf));
	if ((rc = obj_open(o, id, O_RDWR, &cred, &h)) < 0)
		return rc;
	ssize_t n = obj_write(o, io, h, page * PFS_PAGE_SIZE, sizeof(buf), buf);
	rc = n < 0 ? (int)n : obj_fsync(o, h);
	int r2 = obj_release(o, h);
	return rc ? rc : r2;
}

/* /sparse and /f: a picture worth scaling, with all three kinds of pages. */
static int build_more(const char *dir, struct objects *o, struct store_io *io)
{
	struct obj_cred cred = { 0, 0, getpid(), NULL, 0 };
	struct obj_attr sp, f, out;
	char backing[4200], spec[4300];
	uint8_t chunk[4096];
	int rc, fd;

	if ((rc = obj_create(o, CAT_ROOT_ID, "sparse", 0644, &cred, &sp)) < 0)
		return rc;
	struct obj_attr sz = { .size_bytes = 64 << 20 };
	if ((rc = obj_setattr(o, sp.id, OBJ_SET_SIZE, &sz, &cred, &out)) < 0)
		return rc;
	if ((rc = write_page_at(o, io, sp.id, 0)) < 0 || (rc = write_page_at(o, io, sp.id, 2048)) < 0 ||
	    (rc = write_page_at(o, io, sp.id, 16383)) < 0)
		return rc;
	snprintf(backing, sizeof(backing), "%s.backing", dir);
	if ((fd = open(backing, O_CREAT | O_TRUNC | O_WRONLY, 0644)) < 0)
		return -errno;
	memset(chunk, 'b', sizeof(chunk));
	for (int i = 0; i < 50; i++)
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
			close(fd);
			return -EIO;
		}
	close(fd);
	if ((rc = obj_create(o, CAT_ROOT_ID, "f", 0644, &cred, &f)) < 0)
		return rc;
	snprintf(spec, sizeof(spec), "%s:0:200K", backing);
	if ((rc = obj_setxattr(o, f.id, "user.pagerfs.backing", spec, strlen(spec), &cred)) < 0)
		return rc;
	sz.size_bytes = 1 << 20;
	if ((rc = obj_setattr(o, f.id, OBJ_SET_SIZE, &sz, &cred, &out)) < 0)
		return rc;
	return write_page_at(o, io, f.id, 20);
}

static int build(const char *dir)
{
	struct obj_cred cred = { 0, 0, getpid(), NULL, 0 };
	struct store *s;
	struct objects *o;
	struct store_io *io;
	struct obj_attr a, d, b, c, out;
	int rc;

	if ((rc = store_open(dir, NULL, &s)) < 0)
		return die("store_open", rc);
	if ((rc = objects_open(s, &o)) < 0)
		return die("objects_open", rc);
	if ((rc = store_io_open(s, &io)) < 0)
		return die("store_io_open", rc);
	if ((rc = obj_create(o, CAT_ROOT_ID, "a", 0644, &cred, &a)) < 0 ||
	    (rc = obj_mkdir(o, CAT_ROOT_ID, "d", 0755, &cred, &d)) < 0 ||
	    (rc = obj_create(o, d.id, "b", 0644, &cred, &b)) < 0 ||
	    (rc = obj_create(o, CAT_ROOT_ID, "c", 0644, &cred, &c)) < 0)
		return die("creating objects", rc);
	if ((rc = write_pages(o, io, a.id, 40, 1)) < 0 || (rc = write_pages(o, io, b.id, 10, 2)) < 0)
		return die("writing pages", rc);
	struct obj_attr sz = { .size_bytes = 16 * PFS_PAGE_SIZE };
	if ((rc = obj_setattr(o, c.id, OBJ_SET_SIZE, &sz, &cred, &out)) < 0)
		return die("resizing /c", rc);
	if ((rc = store_clone(s, a.id, c.id, CAT_ROOT_ID, 0, 0, 16)) < 0)
		return die("store_clone", rc);
	if ((rc = build_more(dir, o, io)) < 0)
		return die("building /sparse and /f", rc);
	store_io_close(io);
	objects_close(o);
	if ((rc = store_close(s)) < 0)
		return die("store_close", rc);
	printf("built %s: /a=%" PRIu64 " /d=%" PRIu64 " /d/b=%" PRIu64 " /c=%" PRIu64 "\n", dir, a.id,
	       d.id, b.id, c.id);
	return 0;
}

static int open_cat(const char *dir, bool ro, struct cat **cat)
{
	char path[4096];
	struct cat_options co = { .read_only = ro };

	snprintf(path, sizeof(path), "%s/catalogue", dir);
	return cat_open(path, &co, cat);
}

/* The frame behind page `page` of the object named `name` in the root. */
static int frame_of(struct cat_txn *txn, const char *name, uint64_t page, uint64_t *frame)
{
	struct pmap_extent e;
	uint64_t id;
	int rc;

	if ((rc = cat_name_get(txn, CAT_ROOT_ID, name, &id)) < 0 ||
	    (rc = pmap_lookup(txn, id, page, &e)) < 0)
		return rc;
	if (e.kind != PMAP_SWAP)
		return -ENODATA;
	*frame = e.base + (page - e.first);
	return 0;
}

struct file_find {
	uint64_t frame;
	struct cat_swapfile f;
	bool found;
};

static int find_file(const struct cat_swapfile *s, void *arg)
{
	struct file_find *ff = arg;

	if (ff->frame >= s->first_frame && ff->frame - s->first_frame < s->max_frames) {
		ff->f = *s;
		ff->found = true;
	}
	return 0;
}

static int corrupt_frame(const char *dir)
{
	struct cat *cat;
	struct cat_txn *txn;
	struct file_find ff = { 0 };
	char path[4096];
	uint8_t byte;
	int rc, fd;

	if ((rc = open_cat(dir, true, &cat)) < 0)
		return die("cat_open", rc);
	if ((rc = cat_read_begin(cat, &txn)) < 0)
		return die("cat_read_begin", rc);
	rc = frame_of(txn, "a", 3, &ff.frame);
	if (rc == 0)
		rc = cat_swapfile_foreach(txn, find_file, &ff);
	cat_read_end(txn);
	cat_close(cat);
	if (rc < 0 || !ff.found)
		return die("finding /a page 3", rc ? rc : -ENOENT);
	snprintf(path, sizeof(path), "%s/%s", dir, ff.f.name);
	off_t off = (off_t)((ff.frame - ff.f.first_frame) * PFS_PAGE_SIZE + 100);
	if ((fd = open(path, O_RDWR)) < 0)
		return die(path, errno);
	if (pread(fd, &byte, 1, off) != 1)
		return die("pread", errno ? errno : EIO);
	byte ^= 0x5a;
	if (pwrite(fd, &byte, 1, off) != 1 || fsync(fd) < 0)
		return die("pwrite", errno ? errno : EIO);
	close(fd);
	printf("corrupted frame %" PRIu64 " (object /a page 3) in %s\n", ff.frame, ff.f.name);
	return 0;
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int dangling_extent_txn(struct cat_txn *txn, void *arg)
{
	struct pmap_extent e = { .first = 0, .npages = 8, .kind = PMAP_FILE, .base = 0 };
	uint8_t key[16], val[64];
	int len = pmap_extent_encode(&e, val, sizeof(val));

	if (len < 0)
		return len;
	be64(key, 999999);
	be64(key + 8, 0);
	return cat_put(txn, CAT_T_EXTENTS, key, sizeof(key), val, (size_t)len);
}

static int dangling_swap_txn(struct cat_txn *txn, void *arg)
{
	uint8_t sums[16] = { 0 }, key[16], val[64];
	struct pmap_extent e = { .first = 0, .npages = 2, .kind = PMAP_SWAP, .sums = sums };
	int rc = frame_of(txn, "a", 5, &e.base), len;

	if (rc < 0)
		return rc;
	if ((len = pmap_extent_encode(&e, val, sizeof(val))) < 0)
		return len;
	be64(key, 999998);
	be64(key + 8, 0);
	return cat_put(txn, CAT_T_EXTENTS, key, sizeof(key), val, (size_t)len);
}

static int dangling_name_txn(struct cat_txn *txn, void *arg)
{
	return cat_name_put(txn, CAT_ROOT_ID, "ghost", 888888);
}

/* A second name for /a whose record still counts one. */
static int extra_name_txn(struct cat_txn *txn, void *arg)
{
	uint64_t id;
	int rc = cat_name_get(txn, CAT_ROOT_ID, "a", &id);

	return rc < 0 ? rc : cat_name_put(txn, CAT_ROOT_ID, "alias", id);
}

static int orphan_txn(struct cat_txn *txn, void *arg)
{
	return cat_name_del(txn, CAT_ROOT_ID, "c");
}

static int leak_txn(struct cat_txn *txn, void *arg)
{
	uint8_t key[16] = { 0 };
	const void *k, *v;
	size_t klen, vlen;
	struct pmap_extent e;
	struct pmap_cat pc;
	struct extent_map fm = pmap_cat_map(&pc, txn, CAT_T_FREE, 0);
	int rc = cat_seek_ge(txn, CAT_T_FREE, key, sizeof(key), &k, &klen, &v, &vlen);

	if (rc < 0)
		return rc;
	if ((rc = pmap_extent_decode(0, v, vlen, &e)) < 0)
		return rc;
	uint64_t first = 0;
	for (int i = 0; i < 8; i++)
		first = (first << 8) | ((const uint8_t *)k)[8 + i];
	if (e.npages < 5)
		return -ENOSPC;
	struct pmap_extent cut = { .first = first, .npages = 5, .kind = PMAP_ZERO };
	printf("leaked frames %" PRIu64 "..%" PRIu64 "\n", first, first + 4);
	return extent_set(&fm, &cut, NULL, NULL);
}

static int bad_ref_txn(struct cat_txn *txn, void *arg)
{
	uint64_t frame;
	int rc = frame_of(txn, "a", 0, &frame);

	return rc < 0 ? rc : pmap_ref_set(txn, frame, 1, 7);
}

static int foreign_ref_txn(struct cat_txn *txn, void *arg)
{
	struct pmap_cat pc;
	struct extent_map m = pmap_cat_map(&pc, txn, CAT_T_REFS, 0);
	struct pmap_extent e = { 0, 4, PMAP_FREE, 0, NULL };
	int rc = frame_of(txn, "a", 0, &e.first);

	return rc < 0 ? rc : extent_set(&m, &e, NULL, NULL);
}

struct runs {
	uint64_t v[64][3];
	size_t n;
};

static int note_run(uint64_t first, uint64_t n, uint64_t count, void *arg)
{
	struct runs *r = arg;

	if (r->n == sizeof(r->v) / sizeof(r->v[0]))
		return -E2BIG;
	r->v[r->n][0] = first;
	r->v[r->n][1] = n;
	r->v[r->n++][2] = count;
	return 0;
}

/* The store as schema 2 kept it: one record per shared frame, 8-byte key and value. */
static int schema_2_txn(struct cat_txn *txn, void *arg)
{
	struct runs r = { .n = 0 };
	int rc = pmap_ref_foreach(txn, note_run, &r);

	for (size_t i = 0; rc == 0 && i < r.n; i++)
		rc = pmap_ref_set(txn, r.v[i][0], r.v[i][1], 1);
	for (size_t i = 0; rc == 0 && i < r.n; i++)
		for (uint64_t f = r.v[i][0]; rc == 0 && f < r.v[i][0] + r.v[i][1]; f++) {
			uint8_t k[8], v[8];
			codec_put_be64(k, f);
			codec_put_be64(v, r.v[i][2]);
			rc = cat_put(txn, CAT_T_REFS, k, sizeof(k), v, sizeof(v));
		}
	return rc < 0 ? rc : cat_meta_put(txn, "schema", 2);
}

static int damage(const char *dir, cat_write_fn fn)
{
	struct cat *cat;
	int rc;

	if ((rc = open_cat(dir, false, &cat)) < 0)
		return die("cat_open", rc);
	rc = cat_write(cat, fn, NULL);
	cat_close(cat);
	return rc < 0 ? die("cat_write", rc) : 0;
}

static int hold(const char *dir)
{
	struct store *s;
	char buf[64];
	int rc;

	if ((rc = store_open(dir, NULL, &s)) < 0)
		return die("store_open", rc);
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; cat_write_fn fn; } damages[] = {
		{ "dangling-extent", dangling_extent_txn }, { "dangling-swap", dangling_swap_txn },
		{ "dangling-name", dangling_name_txn }, { "extra-name", extra_name_txn },
		{ "orphan", orphan_txn }, { "leak", leak_txn }, { "bad-ref", bad_ref_txn },
		{ "foreign-ref", foreign_ref_txn }, { "schema-2", schema_2_txn },
	};

	if (argc != 3) {
		fprintf(stderr, "usage: fsck_mkstore build|corrupt-frame|dangling-extent|dangling-swap|"
				"dangling-name|extra-name|orphan|leak|bad-ref|foreign-ref|schema-2|hold STORE\n");
		return 2;
	}
	if (strcmp(argv[1], "build") == 0)
		return build(argv[2]);
	if (strcmp(argv[1], "corrupt-frame") == 0)
		return corrupt_frame(argv[2]);
	if (strcmp(argv[1], "hold") == 0)
		return hold(argv[2]);
	for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++)
		if (strcmp(argv[1], damages[i].name) == 0)
			return damage(argv[2], damages[i].fn);
	fprintf(stderr, "fsck_mkstore: unknown action %s\n", argv[1]);
	return 2;
}
