/*
 * catalogue.c: the LMDB environment behind a store's catalogue.
 *
 * This file owns the environment, its tables, the transaction discipline and
 * map growth; cat_records.c owns the record encodings. It must never leave an
 * LMDB handle or error code visible to callers, and never hold the writer
 * lock across anything but one write transaction.
 *
 * Concurrency. LMDB is opened with MDB_NOTLS so read transactions are plain
 * handles that any thread may use. Growing the map (mdb_env_set_mapsize)
 * requires that no transaction of this process is active, so every
 * transaction holds `resize_lock` shared for its lifetime and growth takes it
 * exclusively. Consequently a thread must not call cat_write() while it holds
 * a read transaction: growth would wait for that thread forever.
 *
 * The store is locked with flock() on catalogue/lock: exclusively by a writer
 * (the daemon), shared by read-only tools, so `pagerctl fsck` cannot run
 * beside a live daemon and two daemons cannot share a store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "catalogue.h"
#include "codec.h"
#include "faults.h"
#include "log.h"

#define CAT_DEFAULT_MAP_BYTES ((uint64_t)256 << 20)
#define CAT_MIN_MAP_BYTES     ((uint64_t)1 << 20)
#define CAT_MAX_READ_POOL     64

static const char *const cat_table_names[CAT_T_COUNT] = {
	[CAT_T_META] = "meta",
	[CAT_T_OBJECTS] = "objects",
	[CAT_T_NAMES] = "names",
	[CAT_T_EXTENTS] = "extents",
	[CAT_T_FREE] = "free",
	[CAT_T_REFS] = "refs",
	[CAT_T_MEMCTLS] = "memctls",
	[CAT_T_SWAPFILES] = "swapfiles",
};

struct cat_txn {
	struct cat *cat;
	MDB_txn *txn;
	bool write;
	bool map_full; /* some write hit MDB_MAP_FULL: cat_write grows and replays */
};

struct cat {
	MDB_env *env;
	MDB_dbi dbi[CAT_T_COUNT];
	bool read_only;
	int lock_fd;
	int64_t created_ns;
	uint64_t schema; /* the store's, after a writer's upgrade */
	uint64_t map_bytes;
	unsigned map_grows;
	struct pfs_faults *faults;
	pthread_rwlock_t resize_lock;  /* shared by every live txn, exclusive to grow */
	pthread_mutex_t writer_lock;   /* one writer at a time */
	pthread_mutex_t pool_lock;
	struct cat_txn *read_pool[CAT_MAX_READ_POOL];
	unsigned read_pool_len;
};

/* LMDB's result codes as negative errnos. */
static int ct_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	case MDB_BAD_VALSIZE:
		return -EINVAL;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return -EPROTO;
	case MDB_READERS_FULL:
		return -EAGAIN;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_TXN:
		return -EIO;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

/* A write op's result: remember MDB_MAP_FULL so cat_write can grow and replay. */
static int ct_write_result(struct cat_txn *txn, int rc)
{
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	return ct_errno(rc);
}

static int64_t ct_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int ct_lock_store(struct cat *cat, const char *dir)
{
	char path[CAT_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	cat->lock_fd = open(path, (cat->read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0600);
	if (cat->lock_fd < 0)
		return pfs_neg_errno();
	if (flock(cat->lock_fd, (cat->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int err = pfs_neg_errno();
		return err == -EWOULDBLOCK ? -EBUSY : err;
	}
	return 0;
}

/* Check or initialise the store's metadata. */
static int ct_init_meta(struct cat_txn *txn, void *arg)
{
	struct cat *cat = arg;
	uint64_t schema, page_size, created;
	int rc = cat_meta_get(txn, "schema", &schema);

	if (rc == -ENOENT) {
		if (!txn->write)
			return -EINVAL;
		created = (uint64_t)ct_now_ns();
		if ((rc = cat_meta_put(txn, "schema", CAT_SCHEMA_VERSION)) < 0 ||
		    (rc = cat_meta_put(txn, "page_size", PFS_PAGE_SIZE)) < 0 ||
		    (rc = cat_meta_put(txn, "created_ns", created)) < 0 ||
		    (rc = cat_meta_put(txn, "next_id", CAT_ROOT_ID + 1)) < 0)
			return rc;
		cat->created_ns = (int64_t)created;
		cat->schema = CAT_SCHEMA_VERSION;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (schema > CAT_SCHEMA_VERSION || schema < 1) {
		pfs_err("catalogue schema version %llu is not supported (this build reads %d)",
			(unsigned long long)schema, CAT_SCHEMA_VERSION);
		return -EPROTO;
	}
	if ((rc = cat_meta_get(txn, "page_size", &page_size)) < 0 ||
	    (rc = cat_meta_get(txn, "created_ns", &created)) < 0)
		return rc == -ENOENT ? -EINVAL : rc;
	if (page_size != PFS_PAGE_SIZE) {
		pfs_err("store was made with %llu-byte pages, this system uses %llu",
			(unsigned long long)page_size, (unsigned long long)PFS_PAGE_SIZE);
		return -EINVAL;
	}
	if (schema < CAT_SCHEMA_VERSION && txn->write) {
		/*
		 * Older records still read (1: objects with one name), except
		 * 2's per-frame reference counts, which become runs here.
		 * Writing the new version keeps older builds, which would take
		 * the new records for damage, from opening the store.
		 */
		if ((rc = cat_upgrade_refs(txn)) < 0 ||
		    (rc = cat_meta_put(txn, "schema", CAT_SCHEMA_VERSION)) < 0)
			return rc;
		schema = CAT_SCHEMA_VERSION;
	}
	cat->created_ns = (int64_t)created;
	cat->schema = schema;
	return 0;
}

static int ct_open_tables(struct cat *cat)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(cat->env, NULL, cat->read_only ? MDB_RDONLY : 0, &txn);

	if (rc)
		return ct_errno(rc);
	for (int t = 0; t < CAT_T_COUNT; t++) {
		rc = mdb_dbi_open(txn, cat_table_names[t], cat->read_only ? 0 : MDB_CREATE,
				  &cat->dbi[t]);
		if (rc) {
			mdb_txn_abort(txn);
			/* A read-only open of a store missing a table: not a pagerfs store. */
			return rc == MDB_NOTFOUND ? -EINVAL : ct_errno(rc);
		}
	}
	rc = mdb_txn_commit(txn);
	return ct_errno(rc);
}

int cat_open(const char *dir, const struct cat_options *opt, struct cat **out)
{
	struct cat_options defaults = { 0 };
	struct cat *cat;
	MDB_envinfo info;
	int rc;

	if (!opt)
		opt = &defaults;
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		return -ENOMEM;
	cat->lock_fd = -1;
	cat->read_only = opt->read_only;
	cat->faults = opt->faults;
	pthread_rwlock_init(&cat->resize_lock, NULL);
	pthread_mutex_init(&cat->writer_lock, NULL);
	pthread_mutex_init(&cat->pool_lock, NULL);

	if (!cat->read_only && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = pfs_neg_errno();
		goto fail;
	}
	if ((rc = ct_lock_store(cat, dir)) < 0)
		goto fail;
	if ((rc = ct_errno(mdb_env_create(&cat->env))) < 0)
		goto fail;
	mdb_env_set_maxdbs(cat->env, CAT_T_COUNT);
	mdb_env_set_maxreaders(cat->env, 512);
	cat->map_bytes = opt->initial_map_bytes ? PFS_MAX(opt->initial_map_bytes, CAT_MIN_MAP_BYTES)
						: CAT_DEFAULT_MAP_BYTES;
	if (!cat->read_only)
		mdb_env_set_mapsize(cat->env, cat->map_bytes);
	rc = mdb_env_open(cat->env, dir, MDB_NOTLS | (cat->read_only ? MDB_RDONLY : 0), 0600);
	if (rc) {
		rc = ct_errno(rc);
		goto fail;
	}
	/* An existing store may be larger than the size we asked for: adopt it. */
	mdb_env_info(cat->env, &info);
	cat->map_bytes = info.me_mapsize;
	if ((rc = ct_open_tables(cat)) < 0)
		goto fail;
	if (cat->read_only) {
		struct cat_txn *txn;
		if ((rc = cat_read_begin(cat, &txn)) < 0)
			goto fail;
		rc = ct_init_meta(txn, cat);
		cat_read_end(txn);
	} else {
		rc = cat_write(cat, ct_init_meta, cat);
	}
	if (rc < 0)
		goto fail;
	*out = cat;
	return 0;
fail:
	cat_close(cat);
	return rc;
}

void cat_close(struct cat *cat)
{
	if (!cat)
		return;
	for (unsigned i = 0; i < cat->read_pool_len; i++) {
		mdb_txn_abort(cat->read_pool[i]->txn);
		free(cat->read_pool[i]);
	}
	if (cat->env)
		mdb_env_close(cat->env);
	if (cat->lock_fd >= 0)
		close(cat->lock_fd);
	pthread_rwlock_destroy(&cat->resize_lock);
	pthread_mutex_destroy(&cat->writer_lock);
	pthread_mutex_destroy(&cat->pool_lock);
	free(cat);
}

int64_t cat_created_ns(const struct cat *cat) { return cat->created_ns; }
unsigned cat_schema(const struct cat *cat) { return (unsigned)cat->schema; }
uint64_t cat_map_bytes(const struct cat *cat) { return cat->map_bytes; }
unsigned cat_map_grows(const struct cat *cat) { return cat->map_grows; }

/* Grow the map to at least twice its size; call with no txn of ours active. */
static int ct_grow(struct cat *cat, uint64_t seen_bytes)
{
	int rc = 0;

	pthread_rwlock_wrlock(&cat->resize_lock);
	if (cat->map_bytes == seen_bytes) { /* nobody grew it meanwhile */
		uint64_t want = cat->map_bytes * 2;
		rc = ct_errno(mdb_env_set_mapsize(cat->env, want));
		if (rc == 0) {
			cat->map_bytes = want;
			cat->map_grows++;
			pfs_info("catalogue map grown to %llu MiB",
				 (unsigned long long)(want >> 20));
		}
	}
	pthread_rwlock_unlock(&cat->resize_lock);
	return rc;
}

/* Another process grew the map: adopt its size (no txn of ours active). */
static void ct_adopt_size(struct cat *cat)
{
	MDB_envinfo info;

	pthread_rwlock_wrlock(&cat->resize_lock);
	mdb_env_set_mapsize(cat->env, 0);
	mdb_env_info(cat->env, &info);
	cat->map_bytes = info.me_mapsize;
	pthread_rwlock_unlock(&cat->resize_lock);
}

int cat_read_begin(struct cat *cat, struct cat_txn **out)
{
	struct cat_txn *txn = NULL;
	int rc;

	pthread_mutex_lock(&cat->pool_lock);
	if (cat->read_pool_len)
		txn = cat->read_pool[--cat->read_pool_len];
	pthread_mutex_unlock(&cat->pool_lock);

	for (int tries = 0; tries < 2; tries++) {
		pthread_rwlock_rdlock(&cat->resize_lock);
		if (txn) {
			rc = mdb_txn_renew(txn->txn);
		} else {
			txn = calloc(1, sizeof(*txn));
			if (!txn) {
				pthread_rwlock_unlock(&cat->resize_lock);
				return -ENOMEM;
			}
			txn->cat = cat;
			rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &txn->txn);
			if (rc) {
				free(txn);
				txn = NULL;
			}
		}
		if (rc == 0) {
			*out = txn;
			return 0;
		}
		pthread_rwlock_unlock(&cat->resize_lock);
		if (rc != MDB_MAP_RESIZED)
			break;
		ct_adopt_size(cat);
	}
	if (txn) {
		mdb_txn_abort(txn->txn);
		free(txn);
	}
	return ct_errno(rc);
}

void cat_read_end(struct cat_txn *txn)
{
	struct cat *cat;

	if (!txn)
		return;
	cat = txn->cat;
	mdb_txn_reset(txn->txn);
	pthread_rwlock_unlock(&cat->resize_lock);
	pthread_mutex_lock(&cat->pool_lock);
	if (cat->read_pool_len < CAT_MAX_READ_POOL) {
		cat->read_pool[cat->read_pool_len++] = txn;
		txn = NULL;
	}
	pthread_mutex_unlock(&cat->pool_lock);
	if (txn) {
		mdb_txn_abort(txn->txn);
		free(txn);
	}
}

/* Grow ahead of need when the map is three quarters used. */
static bool ct_nearly_full(struct cat *cat)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(cat->env, &info);
	mdb_env_stat(cat->env, &st);
	return (uint64_t)(info.me_last_pgno + 1) * st.ms_psize > cat->map_bytes / 4 * 3;
}

int cat_write(struct cat *cat, cat_write_fn fn, void *arg)
{
	struct cat_txn txn = { .cat = cat, .write = true };
	int rc, fault;

	if (cat->read_only)
		return -EROFS;
	pthread_mutex_lock(&cat->writer_lock);
	for (;;) {
		uint64_t seen = cat->map_bytes;

		if (ct_nearly_full(cat) && (rc = ct_grow(cat, seen)) < 0)
			break;
		seen = cat->map_bytes;
		pthread_rwlock_rdlock(&cat->resize_lock);
		rc = mdb_txn_begin(cat->env, NULL, 0, &txn.txn);
		if (rc) {
			pthread_rwlock_unlock(&cat->resize_lock);
			if (rc == MDB_MAP_RESIZED) {
				ct_adopt_size(cat);
				continue;
			}
			rc = ct_errno(rc);
			break;
		}
		txn.map_full = false;
		rc = fn(&txn, arg);
		if (rc >= 0 && !txn.map_full && (fault = pfs_fault_check(cat->faults, PFS_FAULT_COMMIT))) {
			mdb_txn_abort(txn.txn);
			rc = fault;
		} else if (rc >= 0 && !txn.map_full) {
			int result = rc;
			rc = mdb_txn_commit(txn.txn);
			if (rc == MDB_MAP_FULL)
				txn.map_full = true;
			rc = rc ? ct_errno(rc) : result;
		} else {
			mdb_txn_abort(txn.txn);
		}
		pthread_rwlock_unlock(&cat->resize_lock);
		if (!txn.map_full)
			break;
		if ((rc = ct_grow(cat, seen)) < 0)
			break;
	}
	pthread_mutex_unlock(&cat->writer_lock);
	return rc;
}

/* ---- raw access ---- */

static int ct_check_table(enum cat_table t)
{
	return (unsigned)t < CAT_T_COUNT ? 0 : -EINVAL;
}

int cat_get(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
	    const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if ((rc = ct_check_table(t)) < 0)
		return rc;
	rc = mdb_get(txn->txn, txn->cat->dbi[t], &k, &v);
	if (rc)
		return ct_errno(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int cat_put(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
	    const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (!txn->write)
		return -EROFS;
	if ((rc = ct_check_table(t)) < 0)
		return rc;
	return ct_write_result(txn, mdb_put(txn->txn, txn->cat->dbi[t], &k, &v, 0));
}

int cat_del(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (!txn->write)
		return -EROFS;
	if ((rc = ct_check_table(t)) < 0)
		return rc;
	return ct_write_result(txn, mdb_del(txn->txn, txn->cat->dbi[t], &k, NULL));
}

/*
 * Position a cursor: MDB_SET_RANGE finds the least key >= key; for "<=" step
 * back unless the found key is equal.
 */
static int ct_seek(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen, bool le,
		   const void **fkey, size_t *fklen, const void **val, size_t *vlen)
{
	MDB_cursor *cur;
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if ((rc = ct_check_table(t)) < 0)
		return rc;
	rc = mdb_cursor_open(txn->txn, txn->cat->dbi[t], &cur);
	if (rc)
		return ct_errno(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (le) {
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		else if (rc == 0 && (k.mv_size != klen || memcmp(k.mv_data, key, klen) != 0))
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	if (rc)
		return ct_errno(rc);
	*fkey = k.mv_data;
	*fklen = k.mv_size;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int cat_seek_le(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
		const void **fkey, size_t *fklen, const void **val, size_t *vlen)
{
	return ct_seek(txn, t, key, klen, true, fkey, fklen, val, vlen);
}

int cat_seek_ge(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
		const void **fkey, size_t *fklen, const void **val, size_t *vlen)
{
	return ct_seek(txn, t, key, klen, false, fkey, fklen, val, vlen);
}

int cat_count(struct cat_txn *txn, enum cat_table t, uint64_t *n)
{
	MDB_stat st;
	int rc;

	if ((rc = ct_check_table(t)) < 0)
		return rc;
	rc = mdb_stat(txn->txn, txn->cat->dbi[t], &st);
	if (rc)
		return ct_errno(rc);
	*n = st.ms_entries;
	return 0;
}

/*
 * Walk a table from the least key >= start (NULL: the first), calling fn
 * with each key and value while fn returns 0. The shared iteration behind
 * every typed foreach in cat_records.c.
 */
int cat_walk(struct cat_txn *txn, enum cat_table t, const void *start, size_t slen,
	     int (*fn)(const void *key, size_t klen, const void *val, size_t vlen, void *arg),
	     void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { slen, (void *)start }, v;
	int rc;

	if ((rc = ct_check_table(t)) < 0)
		return rc;
	rc = mdb_cursor_open(txn->txn, txn->cat->dbi[t], &cur);
	if (rc)
		return ct_errno(rc);
	rc = mdb_cursor_get(cur, &k, &v, start ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		int r = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
		if (r != 0) {
			mdb_cursor_close(cur);
			return r;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : ct_errno(rc);
}

/* ---- meta ---- */

int cat_meta_get(struct cat_txn *txn, const char *key, uint64_t *val)
{
	const void *v = NULL;
	size_t vlen = 0;
	int rc = cat_get(txn, CAT_T_META, key, strlen(key), &v, &vlen);

	if (rc < 0)
		return rc;
	if (vlen != 8)
		return -EINVAL;
	*val = codec_get_be64(v);
	return 0;
}

int cat_meta_put(struct cat_txn *txn, const char *key, uint64_t val)
{
	uint8_t v[8];

	codec_put_be64(v, val);
	return cat_put(txn, CAT_T_META, key, strlen(key), v, sizeof(v));
}

int cat_alloc_id(struct cat_txn *txn, uint64_t *id)
{
	uint64_t next;
	int rc = cat_meta_get(txn, "next_id", &next);

	if (rc < 0)
		return rc;
	if (next <= CAT_ROOT_ID || next == UINT64_MAX)
		return -EINVAL;
	if ((rc = cat_meta_put(txn, "next_id", next + 1)) < 0)
		return rc;
	*id = next;
	return 0;
}
