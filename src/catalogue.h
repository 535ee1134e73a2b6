/*
 * catalogue.h: the persistent catalogue of a pagerfs store, on LMDB.
 *
 * Everything that must survive a restart lives in one LMDB environment in
 * STORE/catalogue/: store metadata, object records, names, page-map extents,
 * physmem's frame reference counts, free frames and memory controls, and the
 * swap file table. This API hides LMDB entirely: callers see typed records
 * and negative-errno results.
 *
 * Transactions. Reads use cheap read transactions (cat_read_begin/end; the
 * LMDB txn handle is reset and renewed, never reallocated). All writes go
 * through cat_write(), which serialises writers and runs a caller's function
 * inside one write transaction. When LMDB reports the map full, cat_write()
 * aborts, grows the map and runs the function again, so a write function
 * must be replayable: it may only change the catalogue (through txn), never
 * in-memory state, which its caller updates after cat_write() succeeds.
 *
 * This module must never know about FUSE, file names outside its records, or
 * the meaning of the page maps it stores.
 */
#ifndef PAGERFS_CATALOGUE_H
#define PAGERFS_CATALOGUE_H

#include "base.h"

/*
 * 2: object records count their names; 3: frame reference counts are runs.
 * Older stores open; a writer upgrades them (cat_upgrade.c), a read-only
 * open leaves them as they are (cat_schema says which).
 */
#define CAT_SCHEMA_VERSION 3
#define CAT_SCHEMA_REF_RUNS 3 /* the first schema with reference counts as runs */
#define CAT_NAME_MAX 255
#define CAT_PATH_MAX 4096
#define CAT_ROOT_ID 1 /* the root directory, also the root memory control */

struct cat;
struct cat_txn;
struct pfs_faults;

/* The named tables; each holds one record type. */
enum cat_table {
	CAT_T_META,      /* key string -> u64 */
	CAT_T_OBJECTS,   /* id -> struct cat_object */
	CAT_T_NAMES,     /* (parent, name) -> id */
	CAT_T_EXTENTS,   /* (object, first page) -> page-map extent (pagemap.h) */
	CAT_T_FREE,      /* (0, first frame) -> free frame run (same encoding) */
	CAT_T_REFS,      /* (0, first frame) -> run of frames with one count > 1 (pagemap.h) */
	CAT_T_MEMCTLS,   /* id -> struct cat_memctl */
	CAT_T_SWAPFILES, /* index -> struct cat_swapfile */
	CAT_T_COUNT
};

struct cat_options {
	uint64_t initial_map_bytes; /* 0: a default; tests set it small to exercise growth */
	bool read_only;             /* offline tools: no writes, no creation */
	struct pfs_faults *faults;  /* test-only fault injection; NULL in production */
};

/*
 * Open (creating it if absent and not read-only) the catalogue in dir.
 * Errors: -ENOENT (read-only and absent), -EPROTO (schema version unknown),
 * -EINVAL (page size differs from the store's, or damaged metadata),
 * -EBUSY (another process holds the store), or LMDB/system errors as errno.
 */
int cat_open(const char *dir, const struct cat_options *opt, struct cat **out);
void cat_close(struct cat *cat);

/* Creation time (ns since the epoch) and the map size now in force. */
int64_t cat_created_ns(const struct cat *cat);
/* The store's schema version: CAT_SCHEMA_VERSION unless opened read-only and older. */
unsigned cat_schema(const struct cat *cat);
uint64_t cat_map_bytes(const struct cat *cat);
/* How many times the map has grown since open (for tests and stats). */
unsigned cat_map_grows(const struct cat *cat);

int cat_read_begin(struct cat *cat, struct cat_txn **out);
void cat_read_end(struct cat_txn *txn);

typedef int (*cat_write_fn)(struct cat_txn *txn, void *arg);
/* Run fn in one write transaction; commit if it returns >= 0 (and return that). */
int cat_write(struct cat *cat, cat_write_fn fn, void *arg);

/* ---- generic typed access used by the record modules (pagemap, physmem) ---- */

/*
 * Raw get/put/del on one table. A get's value points into the map and is
 * valid until the transaction ends or writes. These are for the modules that
 * define record encodings; everything else uses the typed calls below.
 */
int cat_get(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
	    const void **val, size_t *vlen);
int cat_put(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
	    const void *val, size_t vlen);
int cat_del(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen);

/*
 * Positioned lookups on ordered keys: the record with the greatest key <= key
 * (cat_seek_le) or the least key >= key (cat_seek_ge). Found key and value
 * point into the map as for cat_get. -ENOENT when there is none.
 */
int cat_seek_le(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
		const void **fkey, size_t *fklen, const void **val, size_t *vlen);
int cat_seek_ge(struct cat_txn *txn, enum cat_table t, const void *key, size_t klen,
		const void **fkey, size_t *fklen, const void **val, size_t *vlen);

/*
 * Walk a table from the least key >= start (NULL: from the first), calling fn
 * with each key and value; fn returns 0 to go on, anything else stops the
 * walk and is returned.
 */
int cat_walk(struct cat_txn *txn, enum cat_table t, const void *start, size_t slen,
	     int (*fn)(const void *key, size_t klen, const void *val, size_t vlen, void *arg),
	     void *arg);

/* Number of records in a table (for tests, stats and fsck). */
int cat_count(struct cat_txn *txn, enum cat_table t, uint64_t *n);

/* ---- meta ---- */

int cat_meta_get(struct cat_txn *txn, const char *key, uint64_t *val);
int cat_meta_put(struct cat_txn *txn, const char *key, uint64_t val);
/* Allocate a fresh object id (never reused). */
int cat_alloc_id(struct cat_txn *txn, uint64_t *id);

/* ---- objects ---- */

enum cat_kind { CAT_KIND_FILE = 1, CAT_KIND_DIR = 2 };
enum cat_seg { CAT_SEG_HEAP = 0, CAT_SEG_CODE = 1, CAT_SEG_STACK = 2, CAT_SEG_SHARED = 3 };

#define CAT_F_PERSIST   0x0001u
#define CAT_F_DEBUG     0x0002u
#define CAT_F_DEAD      0x0004u
#define CAT_F_CACHED    0x0008u
#define CAT_F_TYPED     0x0010u /* the type was set explicitly: Sprite lifecycle applies */
#define CAT_F_BACKING   0x0020u /* backing below is valid */
#define CAT_F_KNOWN     0x003fu

struct cat_backing {
	char path[CAT_PATH_MAX];
	uint64_t dev;
	uint64_t ino;
	int64_t mtime_ns;
	uint64_t offset_bytes;
	uint64_t len_bytes;
};

struct cat_object {
	uint64_t id;
	uint64_t parent;
	uint8_t kind;        /* enum cat_kind */
	uint8_t segtype;     /* enum cat_seg */
	uint32_t flags;      /* CAT_F_* */
	char name[CAT_NAME_MAX + 1];
	uint64_t size_bytes;
	uint64_t maxsize_bytes;  /* stack: how far it may grow down */
	uint64_t low_water_page; /* stack: lowest page touched so far */
	uint64_t memctl;         /* control charged for it (a directory's id) */
	uint64_t reserved_pages; /* fallocate reservation still unconsumed */
	uint32_t uid, gid, mode;
	int64_t atime_ns, mtime_ns, ctime_ns;
	struct cat_backing backing;
	/*
	 * Names pointing at it besides parent/name above: only code objects
	 * sharing one text have any (their st_nlink is 1 + extra_links).
	 */
	uint32_t extra_links;
};

/* Encode into buf (at most cap bytes); returns the length or -EOVERFLOW. */
int cat_object_encode(const struct cat_object *o, void *buf, size_t cap);
/* Decode, validating every field; -EINVAL for short, long or damaged records. */
int cat_object_decode(const void *buf, size_t len, struct cat_object *o);

int cat_object_get(struct cat_txn *txn, uint64_t id, struct cat_object *o);
int cat_object_put(struct cat_txn *txn, const struct cat_object *o);
int cat_object_del(struct cat_txn *txn, uint64_t id);
/* Call fn for every object in id order; a positive return from fn stops. */
int cat_object_foreach(struct cat_txn *txn, int (*fn)(const struct cat_object *o, void *arg),
		       void *arg);

/* ---- names: (parent, name) -> id ---- */

int cat_name_get(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t *id);
int cat_name_put(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t id);
int cat_name_del(struct cat_txn *txn, uint64_t parent, const char *name);
/* Does (parent, name) lead to id? (False also when it cannot be read.) */
bool cat_name_leads_to(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t id);
/*
 * Children of parent in name order, starting after `after` (NULL: from the
 * first). fn returns 0 to continue, > 0 to stop (returned), < 0 on error.
 */
int cat_dir_list(struct cat_txn *txn, uint64_t parent, const char *after,
		 int (*fn)(const char *name, uint64_t id, void *arg), void *arg);
/* Every name of every directory, in (parent, name) order; fn as above. */
int cat_name_foreach(struct cat_txn *txn,
		     int (*fn)(uint64_t parent, const char *name, uint64_t id, void *arg), void *arg);

/* ---- physmem records ---- */

#define CAT_MC_QUOTA 0x1u /* has a guarantee of its own (else shares its parent's) */

struct cat_memctl {
	uint64_t id;
	uint64_t parent;            /* 0 for the root */
	uint32_t flags;             /* CAT_MC_* */
	uint64_t guarantee_frames;  /* with CAT_MC_QUOTA */
	uint64_t charged_frames;    /* charged to this control itself (not children) */
};

int cat_memctl_get(struct cat_txn *txn, uint64_t id, struct cat_memctl *m);
int cat_memctl_put(struct cat_txn *txn, const struct cat_memctl *m);
int cat_memctl_del(struct cat_txn *txn, uint64_t id);
int cat_memctl_foreach(struct cat_txn *txn, int (*fn)(const struct cat_memctl *m, void *arg),
		       void *arg);

/* Frame reference counts are extents too: pmap_ref_* in pagemap.h. */

/* Schema 2's per-frame reference counts as schema 3's runs (cat_upgrade.c). */
int cat_upgrade_refs(struct cat_txn *txn);

struct cat_swapfile {
	uint32_t index;
	int32_t priority;
	uint64_t first_frame;  /* frame numbers [first_frame, first_frame + max_frames) */
	uint64_t max_frames;
	char name[CAT_NAME_MAX + 1]; /* file name inside the store directory */
};

int cat_swapfile_put(struct cat_txn *txn, const struct cat_swapfile *s);
int cat_swapfile_foreach(struct cat_txn *txn,
			 int (*fn)(const struct cat_swapfile *s, void *arg), void *arg);

#endif /* PAGERFS_CATALOGUE_H */
