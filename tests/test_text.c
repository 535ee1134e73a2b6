/*
 * Description: code objects sharing one text (a second code object on the
 * same file range becomes a name of the first), link counts, and names
 * surviving a commit that raced a rename.
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
#include <sys/time.h>
#include <unistd.h>
#include "object.h"
#include "store.h"
#include "testutil.h"
#include "objfix.h"

struct entries {
	unsigned calls;
	uint64_t parent, id;
	char name[64];
};

static void record_entry(void *arg, uint64_t parent, const char *name, uint64_t id)
{
	struct entries *e = arg;
	e->calls++;
	e->parent = parent;
	e->id = id;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

/* A code object on path (whole file) named name in the root; its id after the change. */
static uint64_t mkcode(struct fixture *fx, const char *name, const char *spec)
{
	struct obj_attr a;
	uint64_t id = mkfile(fx, CAT_ROOT_ID, name);
	setx(fx, id, "user.pagerfs.type", "code", 0);
	setx(fx, id, "user.pagerfs.backing", spec, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, name, &a), 0);
	return a.id;
}

static void read_page(struct fixture *fx, uint64_t id, uint64_t page, uint8_t want)
{
	uint8_t buf[4096];
	uint64_t h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, page * 4096, sizeof(buf), buf), 4096);
	assert_int_equal(buf[0], want);
	assert_int_equal(buf[4095], want);
	assert_int_equal(obj_release(fx->o, h), 0);
}

static void nlink_is(struct fixture *fx, const char *name, uint32_t want)
{
	struct obj_attr a;
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, name, &a), 0);
	assert_int_equal(a.nlink, want);
}

static void second_code_object_on_a_range_shares_the_first(void **state)
{
	struct fixture *fx = *state;
	struct entries e = { 0 };
	struct obj_attr a;
	char *path = make_backing(fx, "prog", 4);

	obj_set_entry_fn(fx->o, record_entry, &e);
	uint64_t first = mkcode(fx, "a", path);
	assert_int_equal(e.calls, 0);
	read_page(fx, first, 2, 'C');
	getx(fx, first, "user.pagerfs.flags", "cached");

	uint64_t made = mkfile(fx, CAT_ROOT_ID, "b");
	setx(fx, made, "user.pagerfs.type", "code", 0);
	setx(fx, made, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "b", &a), 0);
	assert_int_equal(a.id, first);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.parent, CAT_ROOT_ID);
	assert_string_equal(e.name, "b");
	assert_int_equal(e.id, first);
	/* the object made for "b", never opened, is gone */
	assert_int_equal(obj_getattr(fx->o, made, &a), -ENOENT);
	nlink_is(fx, "a", 2);
	nlink_is(fx, "b", 2);
	read_page(fx, first, 3, 'D');

	/* a third name on it, and one more survives a restart */
	assert_int_equal(mkcode(fx, "c", path), first);
	nlink_is(fx, "c", 3);
	fx_close(fx);
	fx_open(fx, 0);
	nlink_is(fx, "a", 3);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "c", &a), 0);
	assert_int_equal(a.id, first);
	free(path);
}

static void unlink_keeps_the_text_under_its_other_names(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a, d;
	char *path = make_backing(fx, "prog", 2);

	assert_int_equal(obj_mkdir(fx->o, CAT_ROOT_ID, "dir", 0755, &fx->cred, &d), 0);
	uint64_t text = mkcode(fx, "a", path);
	uint64_t made = mkfile(fx, d.id, "b");
	setx(fx, made, "user.pagerfs.type", "code", 0);
	setx(fx, made, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, d.id, "b", &a), 0);
	assert_int_equal(a.id, text);

	/* the name the record keeps goes first: "dir/b" takes its place */
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "a"), 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "a", &a), -ENOENT);
	assert_int_equal(obj_lookup(fx->o, d.id, "b", &a), 0);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(a.parent, d.id);
	/* a restart must not take it for an orphan */
	fx_close(fx);
	fx_open(fx, 0);
	read_page(fx, text, 1, 'B');
	/* the directory cannot go while it holds the text's last name */
	assert_int_equal(obj_rmdir(fx->o, CAT_ROOT_ID, "dir"), -ENOTEMPTY);
	assert_int_equal(obj_unlink(fx->o, d.id, "b"), 0);
	assert_int_equal(obj_getattr(fx->o, text, &a), -ENOENT);
	assert_int_equal(obj_rmdir(fx->o, CAT_ROOT_ID, "dir"), 0);
	free(path);
}

static void unlinking_a_name_of_an_open_text_keeps_it_open(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	char *path = make_backing(fx, "prog", 2);
	uint8_t buf[4096];

	uint64_t text = mkcode(fx, "a", path);
	uint64_t h = openh(fx, text, O_RDONLY);
	assert_int_equal(mkcode(fx, "b", path), text);
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "a"), 0);
	assert_int_equal(obj_getattr(fx->o, text, &a), 0);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(buf), buf), 4096);
	assert_int_equal(buf[0], 'A');
	assert_int_equal(obj_release(fx->o, h), 0);
	/* its release wrote the record: still one name, "b" */
	fx_close(fx);
	fx_open(fx, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "b", &a), 0);
	assert_int_equal(a.id, text);
	assert_int_equal(a.nlink, 1);
	free(path);
}

static void different_text_or_attributes_do_not_share(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	char *path = make_backing(fx, "prog", 4);
	char spec[600];

	uint64_t text = mkcode(fx, "a", path);
	/* another range of the file */
	snprintf(spec, sizeof(spec), "%s:4096", path);
	assert_int_not_equal(mkcode(fx, "range", spec), text);
	snprintf(spec, sizeof(spec), "%s:0:8192", path);
	assert_int_not_equal(mkcode(fx, "short", spec), text);
	/* a private, writable copy */
	uint64_t dbg = mkfile(fx, CAT_ROOT_ID, "debug");
	setx(fx, dbg, "user.pagerfs.type", "code", 0);
	setx(fx, dbg, "user.pagerfs.flags", "debug", 0);
	setx(fx, dbg, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "debug", &a), 0);
	assert_int_equal(a.id, dbg);
	/* another mode: the two names would show different permissions */
	uint64_t other = mkfile(fx, CAT_ROOT_ID, "mode");
	struct obj_attr set = { .mode = S_IFREG | 0600 };
	assert_int_equal(obj_setattr(fx->o, other, OBJ_SET_MODE, &set, &fx->cred, &a), 0);
	setx(fx, other, "user.pagerfs.type", "code", 0);
	setx(fx, other, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "mode", &a), 0);
	assert_int_equal(a.id, other);
	/* a heap on the same range is no text */
	uint64_t heap = mkfile(fx, CAT_ROOT_ID, "heap");
	setx(fx, heap, "user.pagerfs.type", "heap", 0);
	setx(fx, heap, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "heap", &a), 0);
	assert_int_equal(a.id, heap);
	nlink_is(fx, "a", 1);
	free(path);
}

static void changed_file_is_not_served_from_the_old_text(void **state)
{
	struct fixture *fx = *state;
	char *path = make_backing(fx, "prog", 2);
	struct timeval later[2];

	uint64_t text = mkcode(fx, "a", path);
	read_page(fx, text, 0, 'A');
	/* rewrite the file in place, with a clearly later mtime */
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	uint8_t page[4096];
	memset(page, 'Z', sizeof(page));
	assert_int_equal(pwrite(fd, page, sizeof(page), 0), 4096);
	close(fd);
	gettimeofday(&later[0], NULL);
	later[0].tv_sec += 10;
	later[1] = later[0];
	assert_int_equal(utimes(path, later), 0);

	uint64_t fresh = mkcode(fx, "b", path);
	assert_int_not_equal(fresh, text);
	read_page(fx, fresh, 0, 'Z');
	/* the old text rereads its file when next opened, and then matches */
	read_page(fx, text, 0, 'Z');
	assert_int_equal(mkcode(fx, "c", path), mkcode(fx, "c2", path));
	free(path);
}

static void shared_text_refuses_attribute_changes(void **state)
{
	struct fixture *fx = *state;
	char *path = make_backing(fx, "prog", 1);

	uint64_t text = mkcode(fx, "a", path);
	assert_int_equal(mkcode(fx, "b", path), text);
	setx(fx, text, "user.pagerfs.flags", "debug", -EBUSY);
	setx(fx, text, "user.pagerfs.type", "heap", -EBUSY);
	setx(fx, text, "user.pagerfs.backing", "/etc/hostname", -EBUSY);
	/* the value it has is no change */
	setx(fx, text, "user.pagerfs.type", "code", 0);
	getx(fx, text, "user.pagerfs.flags", "");
	/* with one name left it is an ordinary code object again */
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "b"), 0);
	setx(fx, text, "user.pagerfs.flags", "debug", 0);
	free(path);
}

static void open_object_taking_a_text_lives_until_release(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	char *path = make_backing(fx, "prog", 2);
	uint8_t buf[4096];

	uint64_t text = mkcode(fx, "a", path);
	uint64_t made = mkfile(fx, CAT_ROOT_ID, "b");
	uint64_t h = openh(fx, made, O_RDONLY);
	setx(fx, made, "user.pagerfs.type", "code", 0);
	setx(fx, made, "user.pagerfs.backing", path, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "b", &a), 0);
	assert_int_equal(a.id, text);
	/* whoever had it open still reads it; it has no name left */
	assert_int_equal(obj_getattr(fx->o, made, &a), 0);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(obj_read(fx->o, fx->io, h, 4096, sizeof(buf), buf), 4096);
	assert_int_equal(buf[0], 'B');
	assert_int_equal(obj_release(fx->o, h), 0);
	assert_int_equal(obj_getattr(fx->o, made, &a), -ENOENT);
	char why[256];
	assert_int_equal(store_check(fx->s, why, sizeof(why)), 0);
	free(path);
}

static void text_unlinked_while_open_is_not_taken(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	char *path = make_backing(fx, "prog", 2);

	uint64_t text = mkcode(fx, "a", path);
	uint64_t h = openh(fx, text, O_RDONLY);
	assert_int_equal(obj_unlink(fx->o, CAT_ROOT_ID, "a"), 0);
	/* it goes at its release: a new name must not be left pointing at it */
	uint64_t fresh = mkcode(fx, "b", path);
	assert_int_not_equal(fresh, text);
	assert_int_equal(obj_release(fx->o, h), 0);
	assert_int_equal(obj_getattr(fx->o, text, &a), -ENOENT);
	read_page(fx, fresh, 1, 'B');
	free(path);
}

static void commit_after_a_rename_keeps_the_new_name(void **state)
{
	struct fixture *fx = *state;
	struct obj_attr a;
	uint8_t data[8192], back[8192];

	uint64_t id = mkfile(fx, CAT_ROOT_ID, "x");
	uint64_t h = openh(fx, id, O_RDWR);
	fill(data, sizeof(data), 7);
	/* a write past the end queues the record (size) for the next commit */
	assert_int_equal(obj_write(fx->o, fx->io, h, 0, sizeof(data), data), (ssize_t)sizeof(data));
	assert_int_equal(obj_rename(fx->o, CAT_ROOT_ID, "x", CAT_ROOT_ID, "y", 0), 0);
	assert_int_equal(obj_fsync(fx->o, h), 0);
	/* the daemon dies with it open: nothing but the catalogue remains */
	fx_close(fx);
	fx_open(fx, 0);
	assert_int_equal(obj_lookup(fx->o, CAT_ROOT_ID, "y", &a), 0);
	assert_int_equal(a.id, id);
	assert_int_equal(a.size_bytes, sizeof(data));
	h = openh(fx, id, O_RDONLY);
	assert_int_equal(obj_read(fx->o, fx->io, h, 0, sizeof(back), back), (ssize_t)sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(obj_release(fx->o, h), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(second_code_object_on_a_range_shares_the_first),
		T(unlink_keeps_the_text_under_its_other_names),
		T(unlinking_a_name_of_an_open_text_keeps_it_open),
		T(different_text_or_attributes_do_not_share),
		T(changed_file_is_not_served_from_the_old_text),
		T(shared_text_refuses_attribute_changes),
		T(open_object_taking_a_text_lives_until_release),
		T(text_unlinked_while_open_is_not_taken),
		T(commit_after_a_rename_keeps_the_new_name),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
