/* Description: the LMDB catalogue: records round-trip, persist, reject damage; map growth; locking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lmdb.h>
#include <xxhash.h>
#include "catalogue.h"
#include "pagemap.h"
#include "codec.h"
#include "faults.h"
#include "testutil.h"

struct fixture {
	char *dir;
	struct cat *cat;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->dir = tu_tmpdir("cat");
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	cat_close(fx->cat);
	tu_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static void reopen(struct fixture *fx)
{
	cat_close(fx->cat);
	fx->cat = NULL;
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
}

/* A fully populated object, different in every field. */
static void sample_object(struct cat_object *o, uint64_t id)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->parent = CAT_ROOT_ID;
	o->kind = CAT_KIND_FILE;
	o->segtype = CAT_SEG_STACK;
	o->flags = CAT_F_PERSIST | CAT_F_TYPED | CAT_F_BACKING;
	snprintf(o->name, sizeof(o->name), "obj-%llu", (unsigned long long)id);
	o->size_bytes = 123456789;
	o->maxsize_bytes = 1ULL << 30;
	o->low_water_page = 77;
	o->memctl = CAT_ROOT_ID;
	o->extra_links = 2;
	o->reserved_pages = 9;
	o->uid = 1000;
	o->gid = 100;
	o->mode = 0100640;
	o->atime_ns = 1;
	o->mtime_ns = -2;
	o->ctime_ns = 3;
	strcpy(o->backing.path, "/usr/bin/true");
	o->backing.dev = 0x801;
	o->backing.ino = 4242;
	o->backing.mtime_ns = 1700000000123456789LL;
	o->backing.offset_bytes = 8192;
	o->backing.len_bytes = 65536;
}

static void assert_objects_equal(const struct cat_object *a, const struct cat_object *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->segtype, b->segtype);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->size_bytes, b->size_bytes);
	assert_int_equal(a->maxsize_bytes, b->maxsize_bytes);
	assert_int_equal(a->low_water_page, b->low_water_page);
	assert_int_equal(a->memctl, b->memctl);
	assert_int_equal(a->reserved_pages, b->reserved_pages);
	assert_int_equal(a->extra_links, b->extra_links);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->atime_ns, b->atime_ns);
	assert_int_equal(a->mtime_ns, b->mtime_ns);
	assert_int_equal(a->ctime_ns, b->ctime_ns);
	assert_string_equal(a->backing.path, b->backing.path);
	assert_int_equal(a->backing.dev, b->backing.dev);
	assert_int_equal(a->backing.ino, b->backing.ino);
	assert_int_equal(a->backing.mtime_ns, b->backing.mtime_ns);
	assert_int_equal(a->backing.offset_bytes, b->backing.offset_bytes);
	assert_int_equal(a->backing.len_bytes, b->backing.len_bytes);
}

static int put_object_fn(struct cat_txn *txn, void *arg)
{
	return cat_object_put(txn, arg);
}

static int get_object(struct cat *cat, uint64_t id, struct cat_object *o)
{
	struct cat_txn *txn;
	int rc;

	assert_int_equal(cat_read_begin(cat, &txn), 0);
	rc = cat_object_get(txn, id, o);
	cat_read_end(txn);
	return rc;
}

/* ---- store lifecycle ---- */

static void new_store_has_metadata(void **state)
{
	struct fixture *fx = *state;
	struct cat_txn *txn;
	uint64_t v;

	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_meta_get(txn, "schema", &v), 0);
	assert_int_equal(v, CAT_SCHEMA_VERSION);
	assert_int_equal(cat_meta_get(txn, "page_size", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cat_meta_get(txn, "no-such-key", &v), -ENOENT);
	cat_read_end(txn);
	assert_true(cat_created_ns(fx->cat) > 0);
}

static void reopen_keeps_creation_time(void **state)
{
	struct fixture *fx = *state;
	int64_t created = cat_created_ns(fx->cat);

	reopen(fx);
	assert_int_equal(cat_created_ns(fx->cat), created);
}

static int set_schema_fn(struct cat_txn *txn, void *arg)
{
	return cat_meta_put(txn, "schema", *(uint64_t *)arg);
}

/* A store made before link counts opens, and a writer marks it as the new version. */
static void schema_one_store_is_upgraded(void **state)
{
	struct fixture *fx = *state;
	struct cat_txn *txn;
	uint64_t v = 1;

	assert_int_equal(cat_write(fx->cat, set_schema_fn, &v), 0);
	reopen(fx);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_meta_get(txn, "schema", &v), 0);
	cat_read_end(txn);
	assert_int_equal(v, CAT_SCHEMA_VERSION);
}

static void unknown_schema_is_refused(void **state)
{
	struct fixture *fx = *state;
	uint64_t future = 99;
	struct cat *other = NULL;

	assert_int_equal(cat_write(fx->cat, set_schema_fn, &future), 0);
	cat_close(fx->cat);
	fx->cat = NULL;
	assert_int_equal(cat_open(fx->dir, NULL, &other), -EPROTO);
	assert_null(other);
	/* Put it back so teardown can close a valid store. */
	future = CAT_SCHEMA_VERSION;
	{
		MDB_env *env;
		MDB_txn *t;
		MDB_dbi dbi;
		uint8_t v[8];
		MDB_val k = { 6, "schema" }, d = { 8, v };
		codec_put_be64(v, future);
		assert_int_equal(mdb_env_create(&env), 0);
		mdb_env_set_maxdbs(env, 16);
		assert_int_equal(mdb_env_open(env, fx->dir, 0, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
		assert_int_equal(mdb_dbi_open(t, "meta", 0, &dbi), 0);
		assert_int_equal(mdb_put(t, dbi, &k, &d, 0), 0);
		assert_int_equal(mdb_txn_commit(t), 0);
		mdb_env_close(env);
	}
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
}

static int set_page_size_fn(struct cat_txn *txn, void *arg)
{
	return cat_meta_put(txn, "page_size", 65536);
}

static void page_size_mismatch_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct cat *other = NULL;

	assert_int_equal(cat_write(fx->cat, set_page_size_fn, NULL), 0);
	cat_close(fx->cat);
	fx->cat = NULL;
	assert_int_equal(cat_open(fx->dir, NULL, &other), -EINVAL);
	tu_rmtree(fx->dir); /* start teardown from a fresh store */
	assert_int_equal(cat_open(fx->dir, NULL, &fx->cat), 0);
}

static void second_writer_and_reader_beside_writer_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct cat *other = NULL;
	struct cat_options ro = { .read_only = true };

	assert_int_equal(cat_open(fx->dir, NULL, &other), -EBUSY);
	assert_int_equal(cat_open(fx->dir, &ro, &other), -EBUSY);
	cat_close(fx->cat);
	fx->cat = NULL;
	/* With the writer gone, read-only opens share the store. */
	struct cat *r1, *r2;
	assert_int_equal(cat_open(fx->dir, &ro, &r1), 0);
	assert_int_equal(cat_open(fx->dir, &ro, &r2), 0);
	assert_int_equal(cat_open(fx->dir, NULL, &other), -EBUSY);
	cat_close(r1);
	cat_close(r2);
	reopen(fx);
}

static void read_only_open_of_missing_store_fails(void **state)
{
	struct cat_options ro = { .read_only = true };
	struct cat *c = NULL;

	assert_int_equal(cat_open("/var/tmp/pagerfs-no-such-store-dir", &ro, &c), -ENOENT);
	assert_null(c);
}

static void read_only_store_refuses_writes(void **state)
{
	struct fixture *fx = *state;
	struct cat_options ro = { .read_only = true };
	struct cat_object o;

	sample_object(&o, 5);
	cat_close(fx->cat);
	assert_int_equal(cat_open(fx->dir, &ro, &fx->cat), 0);
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), -EROFS);
	reopen(fx);
}

/* ---- objects ---- */

static void object_encode_decode_round_trip(void **state)
{
	struct cat_object o, d;
	uint8_t buf[8192];
	int len;

	sample_object(&o, 42);
	len = cat_object_encode(&o, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(cat_object_decode(buf, (size_t)len, &d), 0);
	assert_objects_equal(&o, &d);
}

static void object_persists_across_reopen(void **state)
{
	struct fixture *fx = *state;
	struct cat_object o, d;

	sample_object(&o, 42);
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), 0);
	reopen(fx);
	assert_int_equal(get_object(fx->cat, 42, &d), 0);
	assert_objects_equal(&o, &d);
	assert_int_equal(get_object(fx->cat, 43, &d), -ENOENT);
}

static void every_truncation_of_an_object_is_rejected(void **state)
{
	struct cat_object o, d;
	uint8_t buf[8192];
	int len;

	sample_object(&o, 7);
	len = cat_object_encode(&o, buf, sizeof(buf));
	for (int n = 0; n < len; n++)
		assert_int_equal(cat_object_decode(buf, (size_t)n, &d), -EINVAL);
}

static void every_flipped_byte_of_an_object_is_rejected(void **state)
{
	struct cat_object o, d;
	uint8_t buf[8192];
	int len;

	sample_object(&o, 7);
	len = cat_object_encode(&o, buf, sizeof(buf));
	for (int i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(cat_object_decode(buf, (size_t)len, &d), -EINVAL);
		buf[i] ^= 0x10;
	}
	assert_int_equal(cat_object_decode(buf, (size_t)len, &d), 0);
}

static void invalid_objects_are_not_encoded(void **state)
{
	struct cat_object o;
	uint8_t buf[8192];

	sample_object(&o, 7);
	o.kind = 9;
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	o.segtype = 4;
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	o.flags |= 0x8000;
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	strcpy(o.name, "a/b");
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	o.flags &= ~CAT_F_BACKING; /* a path without the flag */
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 0);
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	o.kind = CAT_KIND_DIR; /* a directory has one name */
	o.flags = 0;
	o.backing.path[0] = '\0';
	assert_int_equal(cat_object_encode(&o, buf, sizeof(buf)), -EINVAL);
	sample_object(&o, 7);
	assert_int_equal(cat_object_encode(&o, buf, 16), -EOVERFLOW);
}

/* A store written before link counts (object records at version 1) still reads. */
static void version_one_object_reads_with_one_name(void **state)
{
	struct cat_object o, d;
	uint8_t buf[8192];
	int len;

	sample_object(&o, 9);
	len = cat_object_encode(&o, buf, sizeof(buf));
	assert_int_equal(buf[0], 2);
	/* version 1: the same fields without the trailing link count, sealed again */
	len -= 4 + 4;
	buf[0] = 1;
	uint32_t seal = XXH32(buf, (size_t)len, 0x70616765u);
	for (int i = 0; i < 4; i++)
		buf[len + i] = (uint8_t)(seal >> (8 * i));
	assert_int_equal(cat_object_decode(buf, (size_t)len + 4, &d), 0);
	assert_int_equal(d.extra_links, 0);
	o.extra_links = 0;
	assert_objects_equal(&o, &d);
	/* an unknown version is refused */
	buf[0] = 3;
	seal = XXH32(buf, (size_t)len, 0x70616765u);
	for (int i = 0; i < 4; i++)
		buf[len + i] = (uint8_t)(seal >> (8 * i));
	assert_int_equal(cat_object_decode(buf, (size_t)len + 4, &d), -EINVAL);
}

static void longest_backing_path_round_trips(void **state)
{
	struct cat_object o, d;
	uint8_t buf[8192];
	int len;

	sample_object(&o, 7);
	memset(o.backing.path, 'p', CAT_PATH_MAX - 1);
	o.backing.path[0] = '/';
	o.backing.path[CAT_PATH_MAX - 1] = '\0';
	len = cat_object_encode(&o, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(cat_object_decode(buf, (size_t)len, &d), 0);
	assert_string_equal(o.backing.path, d.backing.path);
}

static int put_raw_object_fn(struct cat_txn *txn, void *arg)
{
	uint8_t key[8];
	codec_put_be64(key, 99);
	return cat_put(txn, CAT_T_OBJECTS, key, sizeof(key), "garbage!", 8);
}

static int count_objects(const struct cat_object *o, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void damaged_object_in_store_is_einval(void **state)
{
	struct fixture *fx = *state;
	struct cat_object d;
	struct cat_txn *txn;
	int n = 0;

	assert_int_equal(cat_write(fx->cat, put_raw_object_fn, NULL), 0);
	assert_int_equal(get_object(fx->cat, 99, &d), -EINVAL);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_object_foreach(txn, count_objects, &n), -EINVAL);
	cat_read_end(txn);
}

static int put_many_fn(struct cat_txn *txn, void *arg)
{
	int count = *(int *)arg;
	struct cat_object o;
	for (int i = 0; i < count; i++) {
		sample_object(&o, 1000 + (uint64_t)i);
		int rc = cat_object_put(txn, &o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_order(const struct cat_object *o, void *arg)
{
	uint64_t *last = arg;
	assert_true(o->id > *last);
	*last = o->id;
	return 0;
}

static void objects_are_listed_in_id_order(void **state)
{
	struct fixture *fx = *state;
	struct cat_txn *txn;
	uint64_t last = 0;
	int n = 300;

	assert_int_equal(cat_write(fx->cat, put_many_fn, &n), 0);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_object_foreach(txn, check_order, &last), 0);
	cat_read_end(txn);
	assert_int_equal(last, 1000 + 299);
}

static int del_object_fn(struct cat_txn *txn, void *arg)
{
	return cat_object_del(txn, *(uint64_t *)arg);
}

static void deleted_object_is_gone(void **state)
{
	struct fixture *fx = *state;
	struct cat_object o;
	uint64_t id = 42;

	sample_object(&o, id);
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), 0);
	assert_int_equal(cat_write(fx->cat, del_object_fn, &id), 0);
	assert_int_equal(get_object(fx->cat, id, &o), -ENOENT);
	assert_int_equal(cat_write(fx->cat, del_object_fn, &id), -ENOENT);
}

/* ---- names ---- */

struct names_arg {
	uint64_t parent;
	const char *names[8];
	uint64_t ids[8];
	int n;
};

static int put_names_fn(struct cat_txn *txn, void *arg)
{
	struct names_arg *na = arg;
	for (int i = 0; i < na->n; i++) {
		int rc = cat_name_put(txn, na->parent, na->names[i], na->ids[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct listing {
	char names[16][CAT_NAME_MAX + 1];
	uint64_t ids[16];
	int n, stop_after;
};

static int collect(const char *name, uint64_t id, void *arg)
{
	struct listing *l = arg;
	strcpy(l->names[l->n], name);
	l->ids[l->n] = id;
	l->n++;
	return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

static void names_map_to_ids_per_parent(void **state)
{
	struct fixture *fx = *state;
	struct names_arg a = { 1, { "b", "a", "c" }, { 10, 11, 12 }, 3 };
	struct names_arg b = { 2, { "a" }, { 20 }, 1 };
	struct cat_txn *txn;
	uint64_t id;

	assert_int_equal(cat_write(fx->cat, put_names_fn, &a), 0);
	assert_int_equal(cat_write(fx->cat, put_names_fn, &b), 0);
	reopen(fx);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_name_get(txn, 1, "a", &id), 0);
	assert_int_equal(id, 11);
	assert_int_equal(cat_name_get(txn, 2, "a", &id), 0);
	assert_int_equal(id, 20);
	assert_int_equal(cat_name_get(txn, 2, "b", &id), -ENOENT);
	cat_read_end(txn);
}

static void directory_listing_is_ordered_resumable_and_bounded(void **state)
{
	struct fixture *fx = *state;
	struct names_arg a = { 5, { "delta", "alpha", "charlie", "bravo" }, { 4, 1, 3, 2 }, 4 };
	struct names_arg next = { 6, { "aardvark" }, { 99 }, 1 };
	struct names_arg prev = { 4, { "zulu" }, { 98 }, 1 };
	struct listing l = { 0 };
	struct cat_txn *txn;

	assert_int_equal(cat_write(fx->cat, put_names_fn, &a), 0);
	assert_int_equal(cat_write(fx->cat, put_names_fn, &next), 0);
	assert_int_equal(cat_write(fx->cat, put_names_fn, &prev), 0);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_dir_list(txn, 5, NULL, collect, &l), 0);
	assert_int_equal(l.n, 4); /* neither parent 4's nor parent 6's names */
	assert_string_equal(l.names[0], "alpha");
	assert_string_equal(l.names[3], "delta");
	assert_int_equal(l.ids[1], 2);

	memset(&l, 0, sizeof(l));
	assert_int_equal(cat_dir_list(txn, 5, "bravo", collect, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.names[0], "charlie");

	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	assert_int_equal(cat_dir_list(txn, 5, NULL, collect, &l), 7);
	assert_int_equal(l.n, 1);

	memset(&l, 0, sizeof(l));
	assert_int_equal(cat_dir_list(txn, 77, NULL, collect, &l), 0);
	assert_int_equal(l.n, 0);
	cat_read_end(txn);
}

static int bad_name_fn(struct cat_txn *txn, void *arg)
{
	return cat_name_put(txn, 1, arg, 5);
}

static void invalid_names_are_refused(void **state)
{
	struct fixture *fx = *state;
	char longname[CAT_NAME_MAX + 2];

	assert_int_equal(cat_write(fx->cat, bad_name_fn, ""), -EINVAL);
	assert_int_equal(cat_write(fx->cat, bad_name_fn, "a/b"), -EINVAL);
	assert_int_equal(cat_write(fx->cat, bad_name_fn, "."), -EINVAL);
	assert_int_equal(cat_write(fx->cat, bad_name_fn, ".."), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(cat_write(fx->cat, bad_name_fn, longname), -ENAMETOOLONG);
	longname[CAT_NAME_MAX] = '\0';
	assert_int_equal(cat_write(fx->cat, bad_name_fn, longname), 0);
}

static int del_name_fn(struct cat_txn *txn, void *arg)
{
	return cat_name_del(txn, 1, arg);
}

static void deleted_name_is_gone(void **state)
{
	struct fixture *fx = *state;
	struct names_arg a = { 1, { "x" }, { 10 }, 1 };
	struct cat_txn *txn;
	uint64_t id;

	assert_int_equal(cat_write(fx->cat, put_names_fn, &a), 0);
	assert_int_equal(cat_write(fx->cat, del_name_fn, "x"), 0);
	assert_int_equal(cat_write(fx->cat, del_name_fn, "x"), -ENOENT);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_name_get(txn, 1, "x", &id), -ENOENT);
	cat_read_end(txn);
}

/* ---- ids, transactions, growth ---- */

static int alloc_ids_fn(struct cat_txn *txn, void *arg)
{
	uint64_t *ids = arg;
	for (int i = 0; i < 3; i++) {
		int rc = cat_alloc_id(txn, &ids[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void ids_are_unique_and_survive_reopen(void **state)
{
	struct fixture *fx = *state;
	uint64_t a[3], b[3];

	assert_int_equal(cat_write(fx->cat, alloc_ids_fn, a), 0);
	assert_true(a[0] > CAT_ROOT_ID);
	assert_int_equal(a[1], a[0] + 1);
	assert_int_equal(a[2], a[1] + 1);
	reopen(fx);
	assert_int_equal(cat_write(fx->cat, alloc_ids_fn, b), 0);
	assert_int_equal(b[0], a[2] + 1);
}

static int put_then_fail_fn(struct cat_txn *txn, void *arg)
{
	int rc = cat_object_put(txn, arg);
	return rc < 0 ? rc : -EBUSY;
}

static void failed_write_function_changes_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cat_object o;

	sample_object(&o, 55);
	assert_int_equal(cat_write(fx->cat, put_then_fail_fn, &o), -EBUSY);
	assert_int_equal(get_object(fx->cat, 55, &o), -ENOENT);
}

static void injected_commit_failure_keeps_previous_state(void **state)
{
	struct fixture *fx = *state;
	struct pfs_faults faults = { 0 };
	struct cat_options opt = { .faults = &faults };
	struct cat_object o, d;

	cat_close(fx->cat);
	assert_int_equal(cat_open(fx->dir, &opt, &fx->cat), 0);
	sample_object(&o, 60);
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), 0);
	pfs_fault_arm(&faults, PFS_FAULT_COMMIT, 1);
	o.size_bytes = 1;
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), -EIO);
	assert_int_equal(atomic_load(&faults.hits[PFS_FAULT_COMMIT]), 1);
	assert_int_equal(get_object(fx->cat, 60, &d), 0);
	assert_int_equal(d.size_bytes, 123456789); /* the earlier commit, intact */
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), 0); /* and it goes on working */
	assert_int_equal(get_object(fx->cat, 60, &d), 0);
	assert_int_equal(d.size_bytes, 1);
	reopen(fx);
}

static void full_map_grows_instead_of_failing(void **state)
{
	struct fixture *fx = *state;
	struct cat_options small = { .initial_map_bytes = 1 << 20 };
	struct cat_object o;
	struct cat_txn *txn;
	uint64_t n;
	int count = 4000; /* ~4000 x 200 bytes in one txn: several MiB with pages */

	cat_close(fx->cat);
	tu_rmtree(fx->dir);
	assert_int_equal(cat_open(fx->dir, &small, &fx->cat), 0);
	assert_int_equal(cat_map_bytes(fx->cat), 1 << 20);
	for (int round = 0; round < 3; round++)
		assert_int_equal(cat_write(fx->cat, put_many_fn, &count), 0);
	assert_true(cat_map_grows(fx->cat) >= 1);
	assert_true(cat_map_bytes(fx->cat) > (1 << 20));
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_count(txn, CAT_T_OBJECTS, &n), 0);
	assert_int_equal(n, 4000);
	cat_read_end(txn);
	reopen(fx); /* a grown store reopens at its size */
	assert_int_equal(get_object(fx->cat, 1000 + 3999, &o), 0);
}

static void read_snapshot_does_not_see_later_writes(void **state)
{
	struct fixture *fx = *state;
	struct cat_object o, d;
	struct cat_txn *txn;

	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	sample_object(&o, 70);
	/* cat_write with a read txn held by this thread is allowed when no growth happens. */
	assert_int_equal(cat_write(fx->cat, put_object_fn, &o), 0);
	assert_int_equal(cat_object_get(txn, 70, &d), -ENOENT);
	cat_read_end(txn);
	assert_int_equal(get_object(fx->cat, 70, &d), 0);
}

struct reader_arg {
	struct cat *cat;
	int rounds;
	int errors;
};

static void *reader_thread(void *p)
{
	struct reader_arg *ra = p;
	struct cat_object d;

	for (int i = 0; i < ra->rounds; i++) {
		struct cat_txn *txn;
		if (cat_read_begin(ra->cat, &txn) < 0) {
			ra->errors++;
			continue;
		}
		int rc = cat_object_get(txn, 1000, &d);
		if (rc != 0 && rc != -ENOENT)
			ra->errors++;
		cat_read_end(txn);
	}
	return NULL;
}

static void readers_run_beside_a_growing_writer(void **state)
{
	struct fixture *fx = *state;
	struct cat_options small = { .initial_map_bytes = 1 << 20 };
	struct reader_arg ra[2];
	pthread_t th[2];
	int count = 2000;

	cat_close(fx->cat);
	tu_rmtree(fx->dir);
	assert_int_equal(cat_open(fx->dir, &small, &fx->cat), 0);
	for (int i = 0; i < 2; i++) {
		ra[i] = (struct reader_arg){ fx->cat, 5000, 0 };
		pthread_create(&th[i], NULL, reader_thread, &ra[i]);
	}
	for (int round = 0; round < 4; round++)
		assert_int_equal(cat_write(fx->cat, put_many_fn, &count), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ra[i].errors, 0);
	}
	assert_true(cat_map_grows(fx->cat) >= 1);
}

/* ---- physmem records ---- */

static int put_memctls_fn(struct cat_txn *txn, void *arg)
{
	struct cat_memctl root = { CAT_ROOT_ID, 0, CAT_MC_QUOTA, 1000, 10 };
	struct cat_memctl kid = { 7, CAT_ROOT_ID, CAT_MC_QUOTA, 100, 3 };
	struct cat_memctl shared = { 8, 7, 0, 0, 2 };
	int rc;
	if ((rc = cat_memctl_put(txn, &root)) < 0 || (rc = cat_memctl_put(txn, &kid)) < 0)
		return rc;
	return cat_memctl_put(txn, &shared);
}

static int sum_charges(const struct cat_memctl *m, void *arg)
{
	*(uint64_t *)arg += m->charged_frames;
	return 0;
}

static void memory_controls_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct cat_memctl m;
	struct cat_txn *txn;
	uint64_t charged = 0;

	assert_int_equal(cat_write(fx->cat, put_memctls_fn, NULL), 0);
	reopen(fx);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_memctl_get(txn, 7, &m), 0);
	assert_int_equal(m.parent, CAT_ROOT_ID);
	assert_int_equal(m.flags, CAT_MC_QUOTA);
	assert_int_equal(m.guarantee_frames, 100);
	assert_int_equal(m.charged_frames, 3);
	assert_int_equal(cat_memctl_foreach(txn, sum_charges, &charged), 0);
	assert_int_equal(charged, 15);
	assert_int_equal(cat_memctl_get(txn, 9, &m), -ENOENT);
	cat_read_end(txn);
}

static int bad_memctl_fn(struct cat_txn *txn, void *arg)
{
	return cat_memctl_put(txn, arg);
}

static void invalid_memory_controls_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct cat_memctl no_parent = { 7, 0, 0, 0, 0 };
	struct cat_memctl root_with_parent = { CAT_ROOT_ID, 3, 0, 0, 0 };
	struct cat_memctl bad_flags = { 7, 1, 0x80, 0, 0 };

	assert_int_equal(cat_write(fx->cat, bad_memctl_fn, &no_parent), -EINVAL);
	assert_int_equal(cat_write(fx->cat, bad_memctl_fn, &root_with_parent), -EINVAL);
	assert_int_equal(cat_write(fx->cat, bad_memctl_fn, &bad_flags), -EINVAL);
}

/* Schema 2 kept a record per shared frame: key the frame, value the count. */
static int put_v2_refs_fn(struct cat_txn *txn, void *arg)
{
	static const uint64_t v2[][2] = { { 100, 3 }, { 101, 3 }, { 102, 3 }, { 103, 2 }, { 200, 5 } };
	uint64_t two = 2;
	int rc;

	for (size_t i = 0; i < PFS_ARRAY_SIZE(v2); i++) {
		uint8_t k[8], v[8];
		codec_put_be64(k, v2[i][0]);
		codec_put_be64(v, v2[i][1]);
		if ((rc = cat_put(txn, CAT_T_REFS, k, sizeof(k), v, sizeof(v))) < 0)
			return rc;
	}
	return set_schema_fn(txn, &two);
}

struct run_list {
	uint64_t v[8][3];
	size_t n;
};

static int list_runs(uint64_t first, uint64_t n, uint64_t count, void *arg)
{
	struct run_list *l = arg;

	if (l->n == PFS_ARRAY_SIZE(l->v))
		return -E2BIG;
	l->v[l->n][0] = first;
	l->v[l->n][1] = n;
	l->v[l->n++][2] = count;
	return 0;
}

/* A read-only open leaves a schema-2 store as it is; a writer turns its counts into runs. */
static void schema_two_reference_counts_become_runs(void **state)
{
	struct fixture *fx = *state;
	struct cat_options ro = { .read_only = true };
	struct run_list l = { .n = 0 };
	struct cat_txn *txn;
	uint64_t v, n;

	assert_int_equal(cat_write(fx->cat, put_v2_refs_fn, NULL), 0);
	cat_close(fx->cat);
	assert_int_equal(cat_open(fx->dir, &ro, &fx->cat), 0);
	assert_int_equal(cat_schema(fx->cat), 2);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_count(txn, CAT_T_REFS, &n), 0);
	assert_int_equal(n, 5);
	cat_read_end(txn);

	reopen(fx);
	assert_int_equal(cat_schema(fx->cat), CAT_SCHEMA_VERSION);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_meta_get(txn, "schema", &v), 0);
	assert_int_equal(v, CAT_SCHEMA_VERSION);
	assert_int_equal(cat_count(txn, CAT_T_REFS, &n), 0);
	assert_int_equal(n, 3); /* 100..102 share a count: one run */
	assert_int_equal(pmap_ref_foreach(txn, list_runs, &l), 0);
	cat_read_end(txn);
	assert_int_equal(l.n, 3);
	uint64_t want[3][3] = { { 100, 3, 3 }, { 103, 1, 2 }, { 200, 1, 5 } };
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			assert_int_equal(l.v[i][j], want[i][j]);
}

static int put_swapfiles_fn(struct cat_txn *txn, void *arg)
{
	struct cat_swapfile a = { 0, 5, 0, 1ULL << 30, "swap.0" };
	struct cat_swapfile b = { 1, -1, 1ULL << 30, 1ULL << 20, "swap.1" };
	int rc = cat_swapfile_put(txn, &a);
	return rc < 0 ? rc : cat_swapfile_put(txn, &b);
}

static int collect_swapfiles(const struct cat_swapfile *s, void *arg)
{
	struct cat_swapfile *out = arg;
	out[s->index] = *s;
	return 0;
}

static int put_swapfile_fn(struct cat_txn *txn, void *arg)
{
	return cat_swapfile_put(txn, arg);
}

static void swap_file_table_round_trips(void **state)
{
	struct fixture *fx = *state;
	struct cat_swapfile got[2] = { 0 };
	struct cat_swapfile bad = { 2, 0, UINT64_MAX, 2, "swap.2" };
	struct cat_txn *txn;

	assert_int_equal(cat_write(fx->cat, put_swapfiles_fn, NULL), 0);
	reopen(fx);
	assert_int_equal(cat_read_begin(fx->cat, &txn), 0);
	assert_int_equal(cat_swapfile_foreach(txn, collect_swapfiles, got), 0);
	cat_read_end(txn);
	assert_string_equal(got[1].name, "swap.1");
	assert_int_equal(got[1].priority, -1);
	assert_int_equal(got[1].first_frame, 1ULL << 30);
	assert_int_equal(got[0].max_frames, 1ULL << 30);
	assert_int_equal(cat_write(fx->cat, put_swapfile_fn, &bad), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(new_store_has_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_keeps_creation_time, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_one_store_is_upgraded, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(page_size_mismatch_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(second_writer_and_reader_beside_writer_are_refused, setup, teardown),
		cmocka_unit_test(read_only_open_of_missing_store_fails),
		cmocka_unit_test_setup_teardown(read_only_store_refuses_writes, setup, teardown),
		cmocka_unit_test(object_encode_decode_round_trip),
		cmocka_unit_test_setup_teardown(object_persists_across_reopen, setup, teardown),
		cmocka_unit_test(every_truncation_of_an_object_is_rejected),
		cmocka_unit_test(every_flipped_byte_of_an_object_is_rejected),
		cmocka_unit_test(invalid_objects_are_not_encoded),
		cmocka_unit_test(version_one_object_reads_with_one_name),
		cmocka_unit_test(longest_backing_path_round_trips),
		cmocka_unit_test_setup_teardown(damaged_object_in_store_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(objects_are_listed_in_id_order, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_object_is_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(names_map_to_ids_per_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(directory_listing_is_ordered_resumable_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_names_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_name_is_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(ids_are_unique_and_survive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_write_function_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(injected_commit_failure_keeps_previous_state, setup, teardown),
		cmocka_unit_test_setup_teardown(full_map_grows_instead_of_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(read_snapshot_does_not_see_later_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(readers_run_beside_a_growing_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_controls_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_memory_controls_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_two_reference_counts_become_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(swap_file_table_round_trips, setup, teardown),
	};
	return cmocka_run_group_tests_name("catalogue", tests, NULL, NULL);
}
