/*
 * Description: memory objects without FUSE: namespace, page path, segment
 * types and their last-close lifecycles, user.pagerfs.* attributes, quotas,
 * resize and release, persistence across a reopen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "object.h"
#include "store.h"
#include "testutil.h"
#include "objfix.h"
#include "object_internal.h"

/* ---- namespace ---- */

static void created_object_is_a_persistent_heap(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "a");

	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "a", &a), 0);
	assert_int_equal(a.id, id);
	assert_int_equal(a.size_bytes, 0);
	assert_true(S_ISREG(a.mode));
	getx(fx, id, "user.pagerfs.type", "heap");
	getx(fx, id, "user.pagerfs.flags", "persist");
	assert_int_equal(obj_create(fx->o, CAT_ROOT_ID, "a", 0644, &fx->cred, &a), -EEXIST);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "missing", &a), -ENOENT);
}

/* A record read before the object was removed is not written back over its removal. */
static void stale_record_does_not_bring_a_removed_object_back(void **state)
{
	struct fixture *fx = *state;
	struct cat_object rec;
	struct obj_attr a;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "gone");

	assert_int_equal(ob_get_record(fx->o, id, &rec), 0);
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "gone"), 0);
	rec.mode = S_IFREG | 0600;
	assert_int_equal(ob_put_record(fx->o, &rec), -ENOENT);
	assert_int_equal(ob_read_record(fx->o, id, &rec), -ENOENT);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "gone", &a), -ENOENT);
	assert_int_equal(obj_getattr(fx->o, id, &a), -ENOENT);
}

static void directories_list_and_refuse_removal_while_full(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr d;

	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "d", 0755, &fx->cred, &d), 0);
	assert_true(S_ISDIR(d.mode));
	mkfile(fx, d.id, "inside");
	assert_int_equal(obj_rmdir(fx->o, CAT_ROOT_ID, "d"), -ENOTEMPTY);
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "d"), -EISDIR);
	assert_int_equal(obj_unlink(fx->o, d.id, "inside"), 0);
	assert_int_equal(obj_rmdir(fx->o, CAT_ROOT_ID, "d"), 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "d", &d), -ENOENT);
}

static int count_entry(const char *name, const struct obj_attr *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void rename_moves_and_replaces(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a, d;
	uint64_t x = mkfile(fx, CAT_ROOT_ID, "x");
	int n = 0;

	mkfile(fx, CAT_ROOT_ID, "y");
	assert_int_equal(obj_rename(fx->o, CAT_ROOT_ID, "x", CAT_ROOT_ID, "y", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(obj_rename(fx->o, CAT_ROOT_ID, "x", CAT_ROOT_ID, "y", 0), 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "y", &a), 0);
	assert_int_equal(a.id, x);
	assert_int_equal(obj_readdir(fx->o, CAT_ROOT_ID, NULL, count_entry, &n), 0);
	assert_int_equal(n, 1);
	/* An empty object may move to another directory (memory control). */
	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "d", 0755, &fx->cred, &d), 0);
	assert_int_equal(obj_rename(fx->o, CAT_ROOT_ID, "y", d.id, "z", 0), 0);
	assert_int_equal(obj_lookup(fx->o, d.id, "z", &a), 0);
}

static void object_with_swap_pages_does_not_cross_controls(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr d;
	uint8_t buf[4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "x"), h = openh(fx, id, O_RDWR);

	fill(buf, sizeof(buf), 1);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_release(fx->o, h), 0);
	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "d", 0755, &fx->cred, &d), 0);
	assert_int_equal(obj_rename(fx->o, CAT_ROOT_ID, "x", d.id, "x", 0), -EXDEV);
}

/* ---- page path ---- */

static void write_read_and_persist_across_reopen(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[3 * 4096 + 100], back[sizeof(buf)];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "p"), h = openh(fx, id, O_RDWR);
	struct obj_attr a;

	fill(buf, sizeof(buf), 7);
	/* Unaligned offset: partial first and last pages. */
	assert_int_equal(obj_write(fx->o, fx->io, h, 1000, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_read(fx->o, fx->io, h, 1000, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 1000, back), 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(obj_fsync(fx->o, h), 0);
	assert_int_equal(obj_release(fx->o, h), 0);
	fx_close(fx);
	fx_open(fx, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "p", &a), 0);
	assert_int_equal(a.size_bytes, 1000 + sizeof(buf));
	assert_true(a.blocks_512 >= 4 * 8);
	h = openh(fx, a.id, O_RDONLY);
	memset(back, 0, sizeof(back));
	assert_int_equal(obj_read(fx->o, fx->io, h, 1000, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	/* Reads stop at the end of the object. */
	assert_int_equal(obj_read(fx->o, fx->io, h, a.size_bytes - 10, 100, back), 10);
	assert_int_equal(obj_read(fx->o, fx->io, h, a.size_bytes, 100, back), 0);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void size_grown_by_writes_survives_without_release(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "g"), h = openh(fx, id, O_RDWR);
	struct obj_attr a;

	fill(buf, sizeof(buf), 3);
	assert_int_equal(obj_write(fx->o, fx->io, h, 8192, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_fsync(fx->o, h), 0); /* the size travels with the commit */
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 12288);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void truncate_shrinks_zeroes_the_tail_and_frees(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[8 * 4096], back[8 * 4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "t"), h = openh(fx, id, O_RDWR);
	struct obj_attr a = { .size_bytes = 5000 }, out;

	fill(buf, sizeof(buf), 9);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_SIZE, &a, &fx->cred, &out), 0);
	assert_int_equal(out.size_bytes, 5000);
	getx(fx, id, "user.pagerfs.pages", "zero=0 file=0 swap=2");
	a.size_bytes = 3 * 4096; /* grow again: the cut bytes must not come back */
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_SIZE, &a, &fx->cred, &out), 0);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 3 * 4096, back), 3 * 4096);
	assert_memory_equal(buf, back, 5000);
	for (int i = 5000; i < 3 * 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void punch_hole_releases_to_initial_contents(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[4 * 4096], back[4 * 4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "h"), h = openh(fx, id, O_RDWR);

	fill(buf, sizeof(buf), 5);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192), 0);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(buf, back, 4096);
	for (int i = 4096; i < 3 * 4096; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(buf + 3 * 4096, back + 3 * 4096, 4096);
	getx(fx, id, "user.pagerfs.pages", "zero=2 file=0 swap=2");
	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), -EOPNOTSUPP);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void unlinked_open_object_lives_until_release(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[4096], back[4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "u"), h = openh(fx, id, O_RDWR);
	struct obj_attr a;
	char why[256];

	fill(buf, sizeof(buf), 2);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "u"), 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "u", &a), -ENOENT);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(obj_release(fx->o, h), 0);
	assert_int_equal(obj_getattr(fx->o, id, &a), -ENOENT);
	assert_int_equal(store_commit(fx->s), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
}

/* ---- segment types ---- */

static void heap_with_backing_reverts_at_last_close(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "heap.img", 2);
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "heap");
	uint8_t back[3 * 4096], buf[4096];
	struct obj_attr a;

	setx(fx, id, "user.pagerfs.type", "heap", 0);
	setx(fx, id, "user.pagerfs.backing", bpath, 0);
	getx(fx, id, "user.pagerfs.flags", "");
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 8192);
	a.size_bytes = 3 * 4096; /* brk: the data segment grows with zeros */
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_SIZE, &a, &fx->cred, &a), 0);
	uint64_t h = openh(fx, id, O_RDWR);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_int_equal(back[0], 'A');
	assert_int_equal(back[4096], 'B');
	assert_int_equal(back[8192], 0);
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), 4096);
	getx(fx, id, "user.pagerfs.pages", "zero=1 file=1 swap=1");
	/* Type and backing are fixed while paged-out data exists. */
	setx(fx, id, "user.pagerfs.type", "stack", -EBUSY);
	assert_int_equal(obj_release(fx->o, h), 0);
	getx(fx, id, "user.pagerfs.flags", "cached");
	getx(fx, id, "user.pagerfs.pages", "zero=1 file=2 swap=0");
	h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'A'); /* the initial image again */
	assert_int_equal(obj_release(fx->o, h), 0);
	free(bpath);
}

static void code_is_read_only_and_debug_reverts(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "text", 3);
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "code"), h;
	uint8_t back[4096], buf[4096];

	setx(fx, id, "user.pagerfs.type", "code", 0);
	setx(fx, id, "user.pagerfs.backing", bpath, 0);
	uint64_t dummy;
	assert_int_equal(obj_open(fx->o, id, O_RDWR, &fx->cred, &dummy), -EROFS);
	h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, 8192, 4096, back), 4096);
	assert_int_equal(back[0], 'C');
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, 1, "x"), -EROFS);
	assert_int_equal(obj_release(fx->o, h), 0);
	getx(fx, id, "user.pagerfs.flags", "cached");

	setx(fx, id, "user.pagerfs.flags", "debug", 0);
	h = openh(fx, id, O_RDWR);
	memset(buf, 'q', sizeof(buf));
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), 4096);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'q'); /* a private copy */
	assert_int_equal(obj_release(fx->o, h), 0);
	h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'A'); /* the file never changed, the copy is gone */
	assert_int_equal(obj_release(fx->o, h), 0);
	int fd = open(bpath, O_RDONLY);
	assert_int_equal(read(fd, back, 1), 1);
	assert_int_equal(back[0], 'A');
	close(fd);
	free(bpath);
}

static void stack_dies_at_last_close_unless_persistent(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "stack"), h;
	uint8_t buf[4096], back[4096];
	struct obj_attr a;

	setx(fx, id, "user.pagerfs.maxsize", "64K", -EINVAL); /* only stacks have one */
	setx(fx, id, "user.pagerfs.type", "stack", 0);
	setx(fx, id, "user.pagerfs.maxsize", "64K", 0);
	setx(fx, id, "user.pagerfs.maxsize", "12345", -EINVAL);
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 65536);
	h = openh(fx, id, O_RDWR);
	memset(buf, 's', sizeof(buf));
	assert_int_equal(obj_write(fx->o, fx->io, h, 60 * 1024, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);
	getx(fx, id, "user.pagerfs.flags", "dead");
	getx(fx, id, "user.pagerfs.pages", "zero=16 file=0 swap=0");
	h = openh(fx, id, O_RDWR);
	assert_int_equal(obj_read(fx->o, fx->io, h, 60 * 1024, 4096, back), 4096);
	assert_int_equal(back[0], 0);
	assert_int_equal(obj_write(fx->o, fx->io, h, 60 * 1024, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);

	setx(fx, id, "user.pagerfs.flags", "persist", 0);
	h = openh(fx, id, O_RDWR);
	assert_int_equal(obj_write(fx->o, fx->io, h, 60 * 1024, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);
	getx(fx, id, "user.pagerfs.pages", "zero=15 file=0 swap=1");
}

static void shared_object_writes_reach_the_backing_file(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "shared.dat", 2);
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "shared"), h;
	uint8_t buf[4096], back[4096];

	setx(fx, id, "user.pagerfs.type", "shared", 0);
	setx(fx, id, "user.pagerfs.backing", bpath, 0);
	h = openh(fx, id, O_RDWR);
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(obj_write(fx->o, fx->io, h, 4096, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);
	int fd = open(bpath, O_RDONLY);
	assert_int_equal(pread(fd, back, 4096, 4096), 4096);
	assert_int_equal(back[0], 'w');
	close(fd);
	getx(fx, id, "user.pagerfs.pages", "zero=0 file=2 swap=0");
	free(bpath);
}

/* ---- attributes ---- */

static void bad_attribute_values_change_nothing(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "v");
	char dir[512];

	setx(fx, id, "user.pagerfs.type", "bogus", -EINVAL);
	setx(fx, id, "user.pagerfs.flags", "persist,dead", -EINVAL);
	setx(fx, id, "user.pagerfs.backing", "/no/such/file", -ENOENT);
	snprintf(dir, sizeof(dir), "%s", fx->scratch);
	setx(fx, id, "user.pagerfs.backing", dir, -EINVAL);
	setx(fx, id, "user.pagerfs.backing", "relative/path", -EINVAL);
	setx(fx, id, "user.pagerfs.pages", "zero=1", -EPERM);
	setx(fx, id, "user.pagerfs.id", "7", -EPERM);
	setx(fx, id, "user.pagerfs.nonsense", "1", -ENOTSUP);
	getx(fx, id, "user.pagerfs.type", "heap");
	getx(fx, id, "user.pagerfs.flags", "persist");
	char buf[8];
	assert_int_equal(obj_getxattr(fx->o, id, "user.pagerfs.backing", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(obj_getxattr(fx->o, id, "user.pagerfs.type", buf, 2), -ERANGE);
	assert_int_equal(obj_getxattr(fx->o, id, "user.pagerfs.type", NULL, 0), 4);
}

static void type_changes_need_ownership(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "owned");
	struct obj_cred other = { .uid = 1234, .gid = 1234, .pid = getpid() };

	assert_int_equal(obj_setxattr(fx->o, id, "user.pagerfs.type", "stack", 5, &other), -EPERM);
	getx(fx, id, "user.pagerfs.type", "heap");
}

static void backing_is_opened_with_the_callers_identity(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "secret", 1);
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "peek");
	struct obj_cred other = { .uid = 1234, .gid = 1234, .pid = getpid() };
	struct obj_attr a = { .uid = 1234, .gid = 1234 };

	chmod(bpath, 0600); /* root's only */
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_UID | OBJ_SET_GID, &a, &fx->cred, &a), 0);
	assert_int_equal(obj_setxattr(fx->o, id, "user.pagerfs.backing", bpath, strlen(bpath), &other),
			 -EACCES);
	/* Root may set it, but the unprivileged user still cannot open through it. */
	setx(fx, id, "user.pagerfs.backing", bpath, 0);
	uint64_t h;
	assert_int_equal(obj_open(fx->o, id, O_RDONLY, &other, &h), -EACCES);
	free(bpath);
}

static void listxattr_names_what_applies(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "l");
	char buf[512];
	ssize_t n = obj_listxattr(fx->o, id, buf, sizeof(buf));

	assert_true(n > 0);
	assert_non_null(memmem(buf, (size_t)n, "user.pagerfs.type", 18));
	/* Read-only ones are readable by name, not listed (copying tools would set them). */
	assert_null(memmem(buf, (size_t)n, "user.pagerfs.pages", 19));
	assert_null(memmem(buf, (size_t)n, "user.pagerfs.id", 16));
	getx(fx, id, "user.pagerfs.pages", "zero=0 file=0 swap=0");
	assert_null(memmem(buf, (size_t)n, "user.pagerfs.maxsize", 21));
	assert_null(memmem(buf, (size_t)n, "user.pagerfs.quota", 19));
	assert_int_equal(obj_listxattr(fx->o, id, NULL, 0), n);
}

static void quota_limits_page_outs_and_removal_gives_it_back(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[16 * 4096];
	struct obj_attr d;
	char why[256];

	fx_close(fx);
	tu_rmtree(fx->dir);
	fx_open(fx, 4 << 20); /* 1024 frames */
	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "q", 0755, &fx->cred, &d), 0);
	setx(fx, d.id, "user.pagerfs.quota", "5G", -ENOSPC);
	setx(fx, d.id, "user.pagerfs.quota", "32K", 0);
	getx(fx, d.id, "user.pagerfs.quota", "32768");
	uint64_t id = mkfile(fx, d.id, "obj"), h = openh(fx, id, O_RDWR);
	fill(buf, sizeof(buf), 4);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, 8 * 4096, buf), 8 * 4096);
	assert_int_equal(obj_write(fx->o, fx->io, h, 8 * 4096, 4096, buf), -ENOSPC);
	/* Overwriting what is stored needs no new charge. */
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, 8 * 4096, buf + 4096), 8 * 4096);
	getx(fx, d.id, "user.pagerfs.usage", "32768");
	assert_int_equal(obj_fsync(fx->o, h), 0);
	assert_int_equal(obj_release(fx->o, h), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	assert_int_equal(obj_removexattr(fx->o, d.id, "user.pagerfs.quota", &fx->cred), 0);
	char v[8];
	assert_int_equal(obj_getxattr(fx->o, d.id, "user.pagerfs.quota", v, sizeof(v)), -ENODATA);
	assert_int_equal(obj_unlink(fx->o, d.id, "obj"), 0);
	assert_int_equal(obj_rmdir(fx->o, CAT_ROOT_ID, "q"), 0);
	assert_int_equal(store_commit(fx->s), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
}

static void statfs_reports_capacity(void **state)
{
	struct fixture *fx = *state;
	struct statvfs st;

	fx_close(fx);
	tu_rmtree(fx->dir);
	fx_open(fx, 8 << 20);
	assert_int_equal(obj_statfs(fx->o, &st), 0);
	assert_int_equal(st.f_bsize, 4096);
	assert_int_equal(st.f_blocks, 2048);
	/* 256 frames stay back so a full store can still overwrite (redirect-on-write). */
	assert_int_equal(st.f_bfree, 2048 - 256);
	assert_int_equal(st.f_namemax, 255);
}

/* ---- the open table under concurrency ---- */

struct churn {
	struct fixture *fx;
	uint64_t id;
	int rounds, bad;
};

static void *churn_open_close(void *arg)
{
	struct churn *c = arg;
	struct store_io *io;
	uint8_t buf[4096];

	if (store_io_open(c->fx->s, &io) < 0) {
		c->bad++;
		return NULL;
	}
	memset(buf, 7, sizeof(buf));
	for (int i = 0; i < c->rounds; i++) {
		uint64_t h;
		if (obj_open(c->fx->o, c->id, O_RDWR, &c->fx->cred, &h) < 0) {
			c->bad++;
			continue;
		}
		if (obj_write(c->fx->o, io, h, (uint64_t)(i % 16) * 4096, sizeof(buf), buf) != 4096)
			c->bad++;
		obj_release(c->fx->o, h);
	}
	store_io_close(io);
	return NULL;
}

static void *churn_getattr(void *arg)
{
	struct churn *c = arg;
	struct obj_attr a;
	uint64_t last = 0;

	for (int i = 0; i < c->rounds * 4; i++) {
		if (obj_getattr(c->fx->o, c->id, &a) < 0 || a.size_bytes < last)
			c->bad++; /* a size going backwards: a stale record was loaded */
		last = a.size_bytes;
	}
	return NULL;
}

static void size_never_goes_back_while_opens_and_closes_race(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "race");
	struct churn c[3] = { { fx, id, 150, 0 }, { fx, id, 150, 0 }, { fx, id, 150, 0 } };
	pthread_t t[3];
	struct obj_attr a;

	pthread_create(&t[0], NULL, churn_open_close, &c[0]);
	pthread_create(&t[1], NULL, churn_open_close, &c[1]);
	pthread_create(&t[2], NULL, churn_getattr, &c[2]);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].bad, 0);
	}
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 16 * 4096);
	fx_close(fx);
	fx_open(fx, 0);
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 16 * 4096);
}

/* ---- edge cases found by the FUSE face ---- */

static void punch_zeroes_partial_pages_at_its_edges(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[3 * 4096], back[3 * 4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "edges"), h = openh(fx, id, O_RDWR);

	fill(buf, sizeof(buf), 11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] |= 1; /* no zero bytes, so every zero below was punched */
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	/* From the middle of page 0 to the middle of page 2; and inside page 2 alone. */
	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 9000), 0);
	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 11000, 100), 0);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(back), back), (ssize_t)sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++) {
		bool punched = (i >= 1000 && i < 10000) || (i >= 11000 && i < 11100);
		if (punched)
			assert_int_equal(back[i], 0);
		else
			assert_int_equal(back[i], buf[i]);
	}
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void stack_write_past_its_end_is_efbig(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "stk");
	uint8_t buf[4096] = { 1 };

	setx(fx, id, "user.pagerfs.type", "stack", 0);
	setx(fx, id, "user.pagerfs.maxsize", "16K", 0);
	uint64_t h = openh(fx, id, O_RDWR);
	assert_int_equal(obj_write(fx->o, fx->io, h, 16384, sizeof(buf), buf), -EFBIG);
	assert_int_equal(obj_write(fx->o, fx->io, h, 12288, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void flags_clear_and_equal_values_are_no_ops(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "f");
	char idv[32];
	uint8_t buf[4096] = { 1 };

	setx(fx, id, "user.pagerfs.type", "heap", 0); /* typed now: a Sprite heap */
	setx(fx, id, "user.pagerfs.flags", "persist", 0);
	setx(fx, id, "user.pagerfs.flags", "", 0);
	getx(fx, id, "user.pagerfs.flags", "");
	setx(fx, id, "user.pagerfs.flags", "persist", 0);
	uint64_t h = openh(fx, id, O_RDWR);
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), 4096);
	assert_int_equal(obj_release(fx->o, h), 0);
	/* With paged-out data the type is fixed, yet setting the same type is fine. */
	setx(fx, id, "user.pagerfs.type", "heap", 0);
	setx(fx, id, "user.pagerfs.type", "stack", -EBUSY);
	snprintf(idv, sizeof(idv), "%llu", (unsigned long long)id);
	setx(fx, id, "user.pagerfs.id", idv, 0);
	setx(fx, id, "user.pagerfs.id", "999999", -EPERM);
}

static void open_unlinked_object_has_no_links_and_a_crash_reaps_it(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "orphan"), h = openh(fx, id, O_RDWR);
	uint8_t buf[4096] = { 3 };
	struct obj_attr a;
	struct store_stats st;
	char why[256];

	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(buf), buf), 4096);
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "orphan"), 0);
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.nlink, 0);
	/* fchmod on the open, nameless object works, and its reply says no links too. */
	a.mode = 0600;
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_MODE, &a, &fx->cred, &a), 0);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(a.mode & 07777, 0600);
	/* The daemon stops with the handle still open (a crash, a lost release). */
	fx_close(fx);
	fx_open(fx, 0);
	assert_int_equal(obj_getattr(fx->o, id, &a), -ENOENT);
	assert_int_equal(store_commit(fx->s), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	store_get_stats(fx->s, &st);
	assert_int_equal(st.swap_frames - st.free_frames, 0); /* its page was freed */
}

static void setgid_directory_passes_its_group_down(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr d, f, sub;

	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "g", 02775, &fx->cred, &d), 0);
	d.gid = 4242;
	assert_int_equal(obj_setattr(fx->o, d.id, OBJ_SET_GID, &d, &fx->cred, &d), 0);
	assert_int_equal(obj_create(fx->o, d.id, "file", 0644, &fx->cred, &f), 0);
	assert_int_equal(f.gid, 4242);
	assert_int_equal(obj_mkdir(fx->o, d.id, "sub", 0755, &fx->cred, &sub), 0);
	assert_int_equal(sub.gid, 4242);
	assert_true(sub.mode & S_ISGID);
	assert_int_equal(f.parent, d.id);
}

static void backing_inside_the_mount_is_refused(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "loop");
	char path[600];

	assert_int_equal(objects_set_mountpoint(fx->o, fx->scratch), 0);
	char *b = make_backing(fx, "inside", 1);
	setx(fx, id, "user.pagerfs.backing", b, -EINVAL);
	snprintf(path, sizeof(path), "%s-sibling/x", fx->scratch); /* a prefix, not under it */
	setx(fx, id, "user.pagerfs.backing", path, -ENOENT);
	free(b);
}

static void root_belongs_to_the_daemons_user(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;

	assert_int_equal(obj_getattr(fx->o, CAT_ROOT_ID, &a), 0);
	assert_int_equal(a.uid, geteuid());
	assert_int_equal(a.gid, getegid());
}

/* ---- copy_file_range: copy-on-write clones ---- */

static void clone_shares_pages_copy_on_write(void **state)
{
	struct fixture *fx = *state;
	static uint8_t a[8 * 4096], b[8 * 4096], back[8 * 4096];
	uint64_t src = mkfile(fx, CAT_ROOT_ID, "src"), dst = mkfile(fx, CAT_ROOT_ID, "dst");
	uint64_t hs = openh(fx, src, O_RDWR), hd = openh(fx, dst, O_RDWR);
	struct store_stats st;
	char why[256];

	fill(a, sizeof(a), 21);
	assert_int_equal(obj_write(fx->o, fx->io, hs, 0, sizeof(a), a), (ssize_t)sizeof(a));
	assert_int_equal(obj_fsync(fx->o, hs), 0);
	store_get_stats(fx->s, &st);
	uint64_t used = st.swap_frames - st.free_frames;
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 0, hd, 0, sizeof(a)), (ssize_t)sizeof(a));
	store_get_stats(fx->s, &st);
	assert_int_equal(st.swap_frames - st.free_frames, used); /* shared, not copied */
	getx(fx, dst, "user.pagerfs.pages", "zero=0 file=0 swap=8");
	assert_int_equal(obj_read(fx->o, fx->io, hd, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(a, back, sizeof(a));
	/* Writes to either side never show in the other. */
	fill(b, 4096, 99);
	assert_int_equal(obj_write(fx->o, fx->io, hd, 4096, 4096, b), 4096);
	assert_int_equal(obj_write(fx->o, fx->io, hs, 8192, 4096, b), 4096);
	assert_int_equal(obj_read(fx->o, fx->io, hs, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(back + 4096, a + 4096, 4096);
	assert_memory_equal(back + 8192, b, 4096);
	assert_int_equal(obj_read(fx->o, fx->io, hd, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(back + 4096, b, 4096);
	assert_memory_equal(back + 8192, a + 8192, 4096);
	assert_int_equal(obj_fsync(fx->o, hd), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	assert_int_equal(obj_release(fx->o, hs), 0);
	assert_int_equal(obj_release(fx->o, hd), 0);
}

static void clone_copies_partial_and_misaligned_parts(void **state)
{
	struct fixture *fx = *state;
	static uint8_t a[5 * 4096], back[5 * 4096];
	uint64_t src = mkfile(fx, CAT_ROOT_ID, "s2"), dst = mkfile(fx, CAT_ROOT_ID, "d2");
	uint64_t hs = openh(fx, src, O_RDWR), hd = openh(fx, dst, O_RDWR);
	struct obj_attr at;

	fill(a, sizeof(a), 3);
	assert_int_equal(obj_write(fx->o, fx->io, hs, 0, sizeof(a), a), (ssize_t)sizeof(a));
	/* Congruent offsets: a partial head, 3 shared pages, a partial tail. */
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 100, hd, 100, 4 * 4096), 4 * 4096);
	assert_int_equal(obj_read(fx->o, fx->io, hd, 100, 4 * 4096, back), 4 * 4096);
	assert_memory_equal(a + 100, back, 4 * 4096);
	/* Not congruent: copied byte for byte, and clipped at the source's end. */
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 4096, hd, 30000, 1 << 20), 4 * 4096);
	assert_int_equal(obj_read(fx->o, fx->io, hd, 30000, 4 * 4096, back), 4 * 4096);
	assert_memory_equal(a + 4096, back, 4 * 4096);
	assert_int_equal(obj_getattr(fx->o, dst, &at), 0);
	assert_int_equal(at.size_bytes, 30000 + 4 * 4096);
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, sizeof(a), hd, 0, 10), 0);
	/* Overlapping ranges of one object are refused. */
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 0, hs, 4096, 8192), -EINVAL);
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 0, hs, 8192, 8192), 8192);
	assert_int_equal(obj_release(fx->o, hs), 0);
	assert_int_equal(obj_release(fx->o, hd), 0);
}

static void clone_of_a_sparse_gigabyte_costs_its_extents(void **state)
{
	struct fixture *fx = *state;
	uint64_t src = mkfile(fx, CAT_ROOT_ID, "big"), dst = mkfile(fx, CAT_ROOT_ID, "big2");
	uint64_t hs = openh(fx, src, O_RDWR), hd = openh(fx, dst, O_RDWR);
	uint8_t page[4096];
	struct obj_attr a = { .size_bytes = 1ULL << 30 };

	assert_int_equal(obj_setattr(fx->o, src, OBJ_SET_SIZE, &a, &fx->cred, &a), 0);
	memset(page, 5, sizeof(page));
	for (int i = 0; i < 16; i++) /* scattered pages */
		assert_int_equal(obj_write(fx->o, fx->io, hs, (uint64_t)i * 64 << 20, 4096, page), 4096);
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 0, hd, 0, 1ULL << 30), 1 << 30);
	getx(fx, dst, "user.pagerfs.pages", "zero=262128 file=0 swap=16");
	assert_int_equal(obj_release(fx->o, hs), 0);
	assert_int_equal(obj_release(fx->o, hd), 0);
}

static void clone_into_code_is_erofs(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "t", 1);
	uint64_t src = mkfile(fx, CAT_ROOT_ID, "s3"), code = mkfile(fx, CAT_ROOT_ID, "c3");
	uint8_t page[4096] = { 1 };

	setx(fx, code, "user.pagerfs.type", "code", 0);
	setx(fx, code, "user.pagerfs.backing", bpath, 0);
	uint64_t hs = openh(fx, src, O_RDWR), hc = openh(fx, code, O_RDONLY);
	assert_int_equal(obj_write(fx->o, fx->io, hs, 0, 4096, page), 4096);
	assert_int_equal(obj_copy_range(fx->o, fx->io, hs, 0, hc, 0, 4096), -EROFS);
	/* Copying out of a backed object copies its bytes. */
	uint64_t d = mkfile(fx, CAT_ROOT_ID, "d3"), hd = openh(fx, d, O_RDWR);
	uint8_t back[4096];
	assert_int_equal(obj_copy_range(fx->o, fx->io, hc, 0, hd, 0, 4096), 4096);
	assert_int_equal(obj_read(fx->o, fx->io, hd, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'A');
	getx(fx, d, "user.pagerfs.pages", "zero=0 file=0 swap=1");
	assert_int_equal(obj_release(fx->o, hs), 0);
	assert_int_equal(obj_release(fx->o, hc), 0);
	assert_int_equal(obj_release(fx->o, hd), 0);
	free(bpath);
}

/* ---- fallocate: reservation ---- */

static void reserved_range_pages_out_even_when_the_quota_is_full(void **state)
{
	struct fixture *fx = *state;
	static uint8_t buf[8 * 4096];
	struct obj_attr d, a;
	struct store_stats st;
	char why[256];

	fx_close(fx);
	tu_rmtree(fx->dir);
	fx_open(fx, 4 << 20);
	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "q", 0755, &fx->cred, &d), 0);
	setx(fx, d.id, "user.pagerfs.quota", "32K", 0);
	uint64_t ra = mkfile(fx, d.id, "reserved"), rb = mkfile(fx, d.id, "lazy");
	uint64_t ha = openh(fx, ra, O_RDWR), hb = openh(fx, rb, O_RDWR);

	/* Beyond the quota: refused, nothing held. */
	assert_int_equal(obj_fallocate(fx->o, ha, 0, 0, 64 * 1024), -ENOSPC);
	getx(fx, d.id, "user.pagerfs.usage", "0");
	/* The whole quota, reserved by one object; mode 0 also sets its size. */
	assert_int_equal(obj_fallocate(fx->o, ha, 0, 0, 32 * 1024), 0);
	assert_int_equal(obj_getattr(fx->o, ra, &a), 0);
	assert_int_equal(a.size_bytes, 32 * 1024);
	getx(fx, d.id, "user.pagerfs.usage", "32768");
	getx(fx, ra, "user.pagerfs.pages", "zero=0 file=0 swap=8");
	store_get_stats(fx->s, &st);
	assert_int_equal(st.reserved_pages, 8);
	fill(buf, sizeof(buf), 8);
	/* A lazy neighbour cannot page out, the reserved range always can. */
	assert_int_equal(obj_write(fx->o, fx->io, hb, 0, 4096, buf), -ENOSPC);
	assert_int_equal(obj_read(fx->o, fx->io, ha, 0, 4096, buf + 4096), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[4096 + i], 0); /* reserved pages read as zeros */
	fill(buf, sizeof(buf), 8);
	assert_int_equal(obj_write(fx->o, fx->io, ha, 0, sizeof(buf), buf), (ssize_t)sizeof(buf));
	store_get_stats(fx->s, &st);
	assert_int_equal(st.reserved_pages, 0);
	getx(fx, d.id, "user.pagerfs.usage", "32768");
	assert_int_equal(obj_fsync(fx->o, ha), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	assert_int_equal(obj_release(fx->o, ha), 0);
	assert_int_equal(obj_release(fx->o, hb), 0);
}

static void reservation_survives_a_restart_and_release_returns_it(void **state)
{
	struct fixture *fx = *state;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "r"), h = openh(fx, id, O_RDWR);
	struct obj_attr a;
	struct store_stats st;
	char why[256];

	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
	assert_int_equal(obj_getattr(fx->o, id, &a), 0);
	assert_int_equal(a.size_bytes, 0); /* KEEP_SIZE */
	assert_int_equal(obj_fsync(fx->o, h), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	assert_int_equal(obj_release(fx->o, h), 0);
	fx_close(fx);
	fx_open(fx, 0);
	store_get_stats(fx->s, &st);
	assert_int_equal(st.reserved_pages, 256);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	getx(fx, CAT_ROOT_ID, "user.pagerfs.usage", "1048576");
	h = openh(fx, id, O_RDWR);
	a.size_bytes = 1 << 20;
	assert_int_equal(obj_setattr(fx->o, id, OBJ_SET_SIZE, &a, &fx->cred, &a), 0);
	assert_int_equal(obj_fallocate(fx->o, h, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
	getx(fx, CAT_ROOT_ID, "user.pagerfs.usage", "0");
	store_get_stats(fx->s, &st);
	assert_int_equal(st.reserved_pages, 0);
	assert_int_equal(obj_fsync(fx->o, h), 0);
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void reserving_pages_with_data_keeps_them(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[4096], back[4096];
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "keep"), h = openh(fx, id, O_RDWR);

	memset(buf, 'k', sizeof(buf));
	assert_int_equal(obj_write(fx->o, fx->io, h, 4096, sizeof(buf), buf), 4096);
	assert_int_equal(obj_fallocate(fx->o, h, 0, 0, 3 * 4096), 0);
	getx(fx, id, "user.pagerfs.pages", "zero=0 file=0 swap=3");
	assert_int_equal(obj_read(fx->o, fx->io, h, 4096, 4096, back), 4096);
	assert_memory_equal(buf, back, 4096);
	getx(fx, CAT_ROOT_ID, "user.pagerfs.usage", "12288");
	assert_int_equal(obj_release(fx->o, h), 0);
}

/* ---- cached code and a backing file changed in place ---- */

struct inval_log {
	uint64_t id;
	int calls;
};

static void count_inval(void *arg, uint64_t id, uint64_t off, uint64_t len)
{
	struct inval_log *l = arg;
	if (id == l->id)
		l->calls++;
}

static void changed_backing_is_read_again_not_served_stale(void **state)
{
	struct fixture *fx = *state;
	char *bpath = make_backing(fx, "prog", 1);
	uint64_t id = mkfile(fx, CAT_ROOT_ID, "prog");
	struct inval_log log = { id, 0 };
	uint8_t back[4096], page[4096];

	setx(fx, id, "user.pagerfs.type", "code", 0);
	setx(fx, id, "user.pagerfs.backing", bpath, 0);
	obj_set_invalidate_fn(fx->o, count_inval, &log);
	uint64_t h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'A');
	assert_int_equal(obj_release(fx->o, h), 0);
	getx(fx, id, "user.pagerfs.flags", "cached");
	int before = log.calls;

	/* The program is rebuilt in place: new text, new mtime. */
	memset(page, 'N', sizeof(page));
	int fd = open(bpath, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, page, sizeof(page), 0), 4096);
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 1000, 0 } };
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);

	h = openh(fx, id, O_RDONLY);
	assert_true(log.calls > before); /* the kernel's cached text is dropped */
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, 4096, back), 4096);
	assert_int_equal(back[0], 'N');
	assert_int_equal(obj_release(fx->o, h), 0);
	/* An unchanged file on the next open invalidates nothing. */
	before = log.calls;
	h = openh(fx, id, O_RDONLY);
	assert_int_equal(log.calls, before);
	assert_int_equal(obj_release(fx->o, h), 0);
	obj_set_invalidate_fn(fx->o, NULL, NULL);
	free(bpath);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(created_object_is_a_persistent_heap),
		T(stale_record_does_not_bring_a_removed_object_back),
		T(directories_list_and_refuse_removal_while_full),
		T(rename_moves_and_replaces),
		T(object_with_swap_pages_does_not_cross_controls),
		T(write_read_and_persist_across_reopen),
		T(size_grown_by_writes_survives_without_release),
		T(truncate_shrinks_zeroes_the_tail_and_frees),
		T(punch_hole_releases_to_initial_contents),
		T(unlinked_open_object_lives_until_release),
		T(heap_with_backing_reverts_at_last_close),
		T(code_is_read_only_and_debug_reverts),
		T(stack_dies_at_last_close_unless_persistent),
		T(shared_object_writes_reach_the_backing_file),
		T(bad_attribute_values_change_nothing),
		T(type_changes_need_ownership),
		T(backing_is_opened_with_the_callers_identity),
		T(listxattr_names_what_applies),
		T(quota_limits_page_outs_and_removal_gives_it_back),
		T(statfs_reports_capacity),
		T(size_never_goes_back_while_opens_and_closes_race),
		T(punch_zeroes_partial_pages_at_its_edges),
		T(stack_write_past_its_end_is_efbig),
		T(flags_clear_and_equal_values_are_no_ops),
		T(open_unlinked_object_has_no_links_and_a_crash_reaps_it),
		T(setgid_directory_passes_its_group_down),
		T(backing_inside_the_mount_is_refused),
		T(root_belongs_to_the_daemons_user),
		T(clone_shares_pages_copy_on_write),
		T(clone_copies_partial_and_misaligned_parts),
		T(clone_of_a_sparse_gigabyte_costs_its_extents),
		T(clone_into_code_is_erofs),
		T(reserved_range_pages_out_even_when_the_quota_is_full),
		T(reservation_survives_a_restart_and_release_returns_it),
		T(reserving_pages_with_data_keeps_them),
		T(changed_backing_is_read_again_not_served_stale),
	};
	return cmocka_run_group_tests_name("object", tests, NULL, NULL);
}
