/*
 * cat_records.c: the catalogue's typed records and their encodings.
 *
 * Every record body starts with a one-byte format version and ends with an
 * XXH32 seal over everything before it, so a damaged or truncated record is
 * recognised (-EINVAL) instead of being decoded into nonsense. Decoders check
 * every field's range as well; nothing here trusts bytes read from the store.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "catalogue.h"
#include "codec.h"

#define REC_VERSION 1
/* Object records are at 2: version 1 had no link count (every object had one name). */
#define REC_OBJECT_VERSION 2
#define REC_SEAL_SEED 0x70616765u /* "page" */

/* Room for the largest record: an object with a full backing path. */
#define REC_MAX (CAT_PATH_MAX + CAT_NAME_MAX + 256)

static void rec_begin_version(struct codec_writer *w, void *buf, size_t cap, uint8_t version)
{
	codec_writer_init(w, buf, cap);
	codec_put_u8(w, version);
}

static void rec_begin(struct codec_writer *w, void *buf, size_t cap)
{
	rec_begin_version(w, buf, cap, REC_VERSION);
}

/* Append the seal; returns the record's length or -EOVERFLOW. */
static int rec_seal(struct codec_writer *w)
{
	if (w->overflow)
		return -EOVERFLOW;
	codec_put_u32(w, XXH32(w->buf, w->len, REC_SEAL_SEED));
	return w->overflow ? -EOVERFLOW : (int)w->len;
}

/* Check the seal; the reader then covers the body only, past the version in *version. */
static int rec_open_version(struct codec_reader *r, const void *buf, size_t len, uint8_t *version)
{
	const uint8_t *p = buf;
	uint32_t seal;

	if (len < 1 + 4)
		return -EINVAL;
	seal = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
	       (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
	if (seal != XXH32(buf, len - 4, REC_SEAL_SEED))
		return -EINVAL;
	codec_reader_init(r, buf, len - 4);
	*version = codec_get_u8(r);
	return 0;
}

static int rec_open(struct codec_reader *r, const void *buf, size_t len)
{
	uint8_t version;
	int rc = rec_open_version(r, buf, len, &version);

	return rc < 0 ? rc : version == REC_VERSION ? 0 : -EINVAL;
}

static void key_u64(uint8_t key[8], uint64_t v)
{
	codec_put_be64(key, v);
}

/* A name is one path component: non-empty (except the root's), no '/'. */
static bool name_valid(const char *name, bool allow_empty)
{
	size_t n = strlen(name);

	if (n > CAT_NAME_MAX || (n == 0 && !allow_empty))
		return false;
	return strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* ---- objects ---- */

static int object_valid(const struct cat_object *o)
{
	if (o->id == 0 || (o->kind != CAT_KIND_FILE && o->kind != CAT_KIND_DIR))
		return -EINVAL;
	if (o->segtype > CAT_SEG_SHARED || (o->flags & ~CAT_F_KNOWN))
		return -EINVAL;
	if (!name_valid(o->name, o->id == CAT_ROOT_ID))
		return -EINVAL;
	if (o->id != CAT_ROOT_ID && o->parent == 0)
		return -EINVAL;
	if (memchr(o->backing.path, '\0', sizeof(o->backing.path)) == NULL)
		return -EINVAL;
	if (!(o->flags & CAT_F_BACKING) && o->backing.path[0] != '\0')
		return -EINVAL;
	if (o->extra_links && o->kind != CAT_KIND_FILE)
		return -EINVAL;
	return 0;
}

int cat_object_encode(const struct cat_object *o, void *buf, size_t cap)
{
	struct codec_writer w;
	int rc = object_valid(o);

	if (rc < 0)
		return rc;
	rec_begin_version(&w, buf, cap, REC_OBJECT_VERSION);
	codec_put_u64(&w, o->id);
	codec_put_u64(&w, o->parent);
	codec_put_u8(&w, o->kind);
	codec_put_u8(&w, o->segtype);
	codec_put_u32(&w, o->flags);
	codec_put_str(&w, o->name, strlen(o->name));
	codec_put_u64(&w, o->size_bytes);
	codec_put_u64(&w, o->maxsize_bytes);
	codec_put_u64(&w, o->low_water_page);
	codec_put_u64(&w, o->memctl);
	codec_put_u64(&w, o->reserved_pages);
	codec_put_u32(&w, o->uid);
	codec_put_u32(&w, o->gid);
	codec_put_u32(&w, o->mode);
	codec_put_i64(&w, o->atime_ns);
	codec_put_i64(&w, o->mtime_ns);
	codec_put_i64(&w, o->ctime_ns);
	codec_put_str(&w, o->backing.path, strlen(o->backing.path));
	codec_put_u64(&w, o->backing.dev);
	codec_put_u64(&w, o->backing.ino);
	codec_put_i64(&w, o->backing.mtime_ns);
	codec_put_u64(&w, o->backing.offset_bytes);
	codec_put_u64(&w, o->backing.len_bytes);
	codec_put_u32(&w, o->extra_links);
	return rec_seal(&w);
}

int cat_object_decode(const void *buf, size_t len, struct cat_object *o)
{
	struct codec_reader r;
	struct cat_object d;
	uint8_t version;
	int rc = rec_open_version(&r, buf, len, &version);

	if (rc < 0)
		return rc;
	if (version != 1 && version != REC_OBJECT_VERSION)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	d.id = codec_get_u64(&r);
	d.parent = codec_get_u64(&r);
	d.kind = codec_get_u8(&r);
	d.segtype = codec_get_u8(&r);
	d.flags = codec_get_u32(&r);
	codec_get_str(&r, d.name, sizeof(d.name));
	d.size_bytes = codec_get_u64(&r);
	d.maxsize_bytes = codec_get_u64(&r);
	d.low_water_page = codec_get_u64(&r);
	d.memctl = codec_get_u64(&r);
	d.reserved_pages = codec_get_u64(&r);
	d.uid = codec_get_u32(&r);
	d.gid = codec_get_u32(&r);
	d.mode = codec_get_u32(&r);
	d.atime_ns = codec_get_i64(&r);
	d.mtime_ns = codec_get_i64(&r);
	d.ctime_ns = codec_get_i64(&r);
	codec_get_str(&r, d.backing.path, sizeof(d.backing.path));
	d.backing.dev = codec_get_u64(&r);
	d.backing.ino = codec_get_u64(&r);
	d.backing.mtime_ns = codec_get_i64(&r);
	d.backing.offset_bytes = codec_get_u64(&r);
	d.backing.len_bytes = codec_get_u64(&r);
	d.extra_links = version == 1 ? 0 : codec_get_u32(&r);
	if (!codec_reader_done(&r) || object_valid(&d) < 0)
		return -EINVAL;
	*o = d;
	return 0;
}

int cat_object_get(struct cat_txn *txn, uint64_t id, struct cat_object *o)
{
	uint8_t key[8];
	const void *v = NULL;
	size_t vlen = 0;
	int rc;

	key_u64(key, id);
	if ((rc = cat_get(txn, CAT_T_OBJECTS, key, sizeof(key), &v, &vlen)) < 0)
		return rc;
	if ((rc = cat_object_decode(v, vlen, o)) < 0)
		return rc;
	return o->id == id ? 0 : -EINVAL;
}

int cat_object_put(struct cat_txn *txn, const struct cat_object *o)
{
	uint8_t key[8], buf[REC_MAX];
	int len = cat_object_encode(o, buf, sizeof(buf));

	if (len < 0)
		return len;
	key_u64(key, o->id);
	return cat_put(txn, CAT_T_OBJECTS, key, sizeof(key), buf, (size_t)len);
}

int cat_object_del(struct cat_txn *txn, uint64_t id)
{
	uint8_t key[8];

	key_u64(key, id);
	return cat_del(txn, CAT_T_OBJECTS, key, sizeof(key));
}

struct object_walk {
	int (*fn)(const struct cat_object *o, void *arg);
	void *arg;
	struct cat_object o;
};

static int object_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct object_walk *ow = arg;
	int rc;

	if (klen != 8)
		return -EINVAL;
	if ((rc = cat_object_decode(val, vlen, &ow->o)) < 0)
		return rc;
	if (ow->o.id != codec_get_be64(key))
		return -EINVAL;
	return ow->fn(&ow->o, ow->arg);
}

int cat_object_foreach(struct cat_txn *txn, int (*fn)(const struct cat_object *o, void *arg),
		       void *arg)
{
	struct object_walk *ow = malloc(sizeof(*ow)); /* ~4.5 KiB: keep it off small stacks */
	int rc;

	if (!ow)
		return -ENOMEM;
	ow->fn = fn;
	ow->arg = arg;
	rc = cat_walk(txn, CAT_T_OBJECTS, NULL, 0, object_walk_one, ow);
	free(ow);
	return rc;
}

/* ---- names ---- */

static int name_key(uint8_t key[8 + CAT_NAME_MAX], uint64_t parent, const char *name, size_t *klen)
{
	size_t n = strlen(name);

	if (!name_valid(name, false))
		return n > CAT_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
	key_u64(key, parent);
	memcpy(key + 8, name, n);
	*klen = 8 + n;
	return 0;
}

int cat_name_get(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t *id)
{
	uint8_t key[8 + CAT_NAME_MAX];
	const void *v = NULL;
	size_t klen = 0, vlen = 0;
	int rc;

	if ((rc = name_key(key, parent, name, &klen)) < 0)
		return rc;
	if ((rc = cat_get(txn, CAT_T_NAMES, key, klen, &v, &vlen)) < 0)
		return rc;
	if (vlen != 8)
		return -EINVAL;
	*id = codec_get_be64(v);
	return *id ? 0 : -EINVAL;
}

int cat_name_put(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t id)
{
	uint8_t key[8 + CAT_NAME_MAX], val[8];
	size_t klen;
	int rc;

	if (id == 0)
		return -EINVAL;
	if ((rc = name_key(key, parent, name, &klen)) < 0)
		return rc;
	codec_put_be64(val, id);
	return cat_put(txn, CAT_T_NAMES, key, klen, val, sizeof(val));
}

int cat_name_del(struct cat_txn *txn, uint64_t parent, const char *name)
{
	uint8_t key[8 + CAT_NAME_MAX];
	size_t klen;
	int rc;

	if ((rc = name_key(key, parent, name, &klen)) < 0)
		return rc;
	return cat_del(txn, CAT_T_NAMES, key, klen);
}

bool cat_name_leads_to(struct cat_txn *txn, uint64_t parent, const char *name, uint64_t id)
{
	uint64_t found;

	return cat_name_get(txn, parent, name, &found) == 0 && found == id;
}

struct dir_walk {
	uint64_t parent;
	const char *after;
	int (*fn)(const char *name, uint64_t id, void *arg);
	void *arg;
	bool left; /* the walk went past this directory's names */
};

static int dir_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct dir_walk *dw = arg;
	char name[CAT_NAME_MAX + 1];
	size_t n;

	if (klen < 8 || codec_get_be64(key) != dw->parent) {
		dw->left = true;
		return 1;
	}
	n = klen - 8;
	if (n == 0 || n > CAT_NAME_MAX || vlen != 8)
		return -EINVAL;
	memcpy(name, (const uint8_t *)key + 8, n);
	name[n] = '\0';
	if (dw->after && strcmp(name, dw->after) == 0)
		return 0;
	return dw->fn(name, codec_get_be64(val), dw->arg);
}

int cat_dir_list(struct cat_txn *txn, uint64_t parent, const char *after,
		 int (*fn)(const char *name, uint64_t id, void *arg), void *arg)
{
	uint8_t key[8 + CAT_NAME_MAX];
	size_t klen = 8;
	struct dir_walk dw = { parent, after, fn, arg, false };
	int rc;

	key_u64(key, parent);
	if (after && after[0]) {
		if ((rc = name_key(key, parent, after, &klen)) < 0)
			return rc;
	} else {
		dw.after = NULL;
	}
	rc = cat_walk(txn, CAT_T_NAMES, key, klen, dir_walk_one, &dw);
	return dw.left ? 0 : rc;
}

struct name_walk {
	int (*fn)(uint64_t parent, const char *name, uint64_t id, void *arg);
	void *arg;
};

static int name_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct name_walk *nw = arg;
	char name[CAT_NAME_MAX + 1];
	size_t n = klen - 8;

	if (klen <= 8 || n > CAT_NAME_MAX || vlen != 8)
		return -EINVAL;
	memcpy(name, (const uint8_t *)key + 8, n);
	name[n] = '\0';
	return nw->fn(codec_get_be64(key), name, codec_get_be64(val), nw->arg);
}

int cat_name_foreach(struct cat_txn *txn,
		     int (*fn)(uint64_t parent, const char *name, uint64_t id, void *arg), void *arg)
{
	struct name_walk nw = { fn, arg };

	return cat_walk(txn, CAT_T_NAMES, NULL, 0, name_walk_one, &nw);
}

/* ---- memory controls ---- */

static int memctl_valid(const struct cat_memctl *m)
{
	if (m->id == 0 || (m->flags & ~CAT_MC_QUOTA))
		return -EINVAL;
	if ((m->id == CAT_ROOT_ID) != (m->parent == 0))
		return -EINVAL;
	return 0;
}

int cat_memctl_put(struct cat_txn *txn, const struct cat_memctl *m)
{
	uint8_t key[8], buf[64];
	struct codec_writer w;
	int len;

	if ((len = memctl_valid(m)) < 0)
		return len;
	rec_begin(&w, buf, sizeof(buf));
	codec_put_u64(&w, m->id);
	codec_put_u64(&w, m->parent);
	codec_put_u32(&w, m->flags);
	codec_put_u64(&w, m->guarantee_frames);
	codec_put_u64(&w, m->charged_frames);
	if ((len = rec_seal(&w)) < 0)
		return len;
	key_u64(key, m->id);
	return cat_put(txn, CAT_T_MEMCTLS, key, sizeof(key), buf, (size_t)len);
}

static int memctl_decode(const void *buf, size_t len, struct cat_memctl *m)
{
	struct codec_reader r;
	struct cat_memctl d;
	int rc = rec_open(&r, buf, len);

	if (rc < 0)
		return rc;
	d.id = codec_get_u64(&r);
	d.parent = codec_get_u64(&r);
	d.flags = codec_get_u32(&r);
	d.guarantee_frames = codec_get_u64(&r);
	d.charged_frames = codec_get_u64(&r);
	if (!codec_reader_done(&r) || memctl_valid(&d) < 0)
		return -EINVAL;
	*m = d;
	return 0;
}

int cat_memctl_get(struct cat_txn *txn, uint64_t id, struct cat_memctl *m)
{
	uint8_t key[8];
	const void *v = NULL;
	size_t vlen = 0;
	int rc;

	key_u64(key, id);
	if ((rc = cat_get(txn, CAT_T_MEMCTLS, key, sizeof(key), &v, &vlen)) < 0)
		return rc;
	if ((rc = memctl_decode(v, vlen, m)) < 0)
		return rc;
	return m->id == id ? 0 : -EINVAL;
}

int cat_memctl_del(struct cat_txn *txn, uint64_t id)
{
	uint8_t key[8];

	key_u64(key, id);
	return cat_del(txn, CAT_T_MEMCTLS, key, sizeof(key));
}

struct memctl_walk {
	int (*fn)(const struct cat_memctl *m, void *arg);
	void *arg;
};

static int memctl_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct memctl_walk *mw = arg;
	struct cat_memctl m;
	int rc;

	if (klen != 8)
		return -EINVAL;
	if ((rc = memctl_decode(val, vlen, &m)) < 0)
		return rc;
	if (m.id != codec_get_be64(key))
		return -EINVAL;
	return mw->fn(&m, mw->arg);
}

int cat_memctl_foreach(struct cat_txn *txn, int (*fn)(const struct cat_memctl *m, void *arg),
		       void *arg)
{
	struct memctl_walk mw = { fn, arg };

	return cat_walk(txn, CAT_T_MEMCTLS, NULL, 0, memctl_walk_one, &mw);
}

/* ---- swap files ---- */

static int swapfile_valid(const struct cat_swapfile *s)
{
	if (s->max_frames == 0 || pfs_range_overflows(s->first_frame, s->max_frames))
		return -EINVAL;
	return name_valid(s->name, false) ? 0 : -EINVAL;
}

int cat_swapfile_put(struct cat_txn *txn, const struct cat_swapfile *s)
{
	uint8_t key[8], buf[CAT_NAME_MAX + 64];
	struct codec_writer w;
	int len;

	if ((len = swapfile_valid(s)) < 0)
		return len;
	rec_begin(&w, buf, sizeof(buf));
	codec_put_u32(&w, s->index);
	codec_put_u32(&w, (uint32_t)s->priority);
	codec_put_u64(&w, s->first_frame);
	codec_put_u64(&w, s->max_frames);
	codec_put_str(&w, s->name, strlen(s->name));
	if ((len = rec_seal(&w)) < 0)
		return len;
	key_u64(key, s->index);
	return cat_put(txn, CAT_T_SWAPFILES, key, sizeof(key), buf, (size_t)len);
}

struct swapfile_walk {
	int (*fn)(const struct cat_swapfile *s, void *arg);
	void *arg;
};

static int swapfile_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct swapfile_walk *sw = arg;
	struct cat_swapfile s;
	struct codec_reader r;
	int rc;

	if (klen != 8 || (rc = rec_open(&r, val, vlen)) < 0)
		return -EINVAL;
	s.index = codec_get_u32(&r);
	s.priority = (int32_t)codec_get_u32(&r);
	s.first_frame = codec_get_u64(&r);
	s.max_frames = codec_get_u64(&r);
	codec_get_str(&r, s.name, sizeof(s.name));
	if (!codec_reader_done(&r) || swapfile_valid(&s) < 0 || s.index != codec_get_be64(key))
		return -EINVAL;
	return sw->fn(&s, sw->arg);
}

int cat_swapfile_foreach(struct cat_txn *txn,
			 int (*fn)(const struct cat_swapfile *s, void *arg), void *arg)
{
	struct swapfile_walk sw = { fn, arg };

	return cat_walk(txn, CAT_T_SWAPFILES, NULL, 0, swapfile_walk_one, &sw);
}
