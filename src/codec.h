/*
 * codec.h: bounded encoding of catalogue keys and records.
 *
 * Keys are big-endian so that LMDB's bytewise order is numeric order; record
 * bodies are little-endian. A reader never trusts a length it was given: every
 * get checks the bytes remaining and turns a short or damaged record into
 * -EINVAL, never an overrun.
 */
#ifndef PAGERFS_CODEC_H
#define PAGERFS_CODEC_H

#include <string.h>
#include "base.h"

static inline void codec_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t codec_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A writer over a caller's buffer; overflow is remembered, not a crash. */
struct codec_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static inline void codec_writer_init(struct codec_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

static inline void codec_put_bytes(struct codec_writer *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, src, n);
	w->len += n;
}

static inline void codec_put_le(struct codec_writer *w, uint64_t v, size_t width)
{
	uint8_t b[8];
	for (size_t i = 0; i < width; i++) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	codec_put_bytes(w, b, width);
}

static inline void codec_put_u8(struct codec_writer *w, uint8_t v)   { codec_put_le(w, v, 1); }
static inline void codec_put_u16(struct codec_writer *w, uint16_t v) { codec_put_le(w, v, 2); }
static inline void codec_put_u32(struct codec_writer *w, uint32_t v) { codec_put_le(w, v, 4); }
static inline void codec_put_u64(struct codec_writer *w, uint64_t v) { codec_put_le(w, v, 8); }
static inline void codec_put_i64(struct codec_writer *w, int64_t v)  { codec_put_le(w, (uint64_t)v, 8); }

/* A length-prefixed (u16) byte string. */
static inline void codec_put_str(struct codec_writer *w, const char *s, size_t n)
{
	if (n > UINT16_MAX) {
		w->overflow = true;
		return;
	}
	codec_put_u16(w, (uint16_t)n);
	codec_put_bytes(w, s, n);
}

/* A reader over a record; any short read sets bad and yields zeros. */
struct codec_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool bad;
};

static inline void codec_reader_init(struct codec_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->bad = false;
}

static inline const uint8_t *codec_get_bytes(struct codec_reader *r, size_t n)
{
	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline uint64_t codec_get_le(struct codec_reader *r, size_t width)
{
	const uint8_t *p = codec_get_bytes(r, width);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (size_t i = width; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

static inline uint8_t  codec_get_u8(struct codec_reader *r)  { return (uint8_t)codec_get_le(r, 1); }
static inline uint16_t codec_get_u16(struct codec_reader *r) { return (uint16_t)codec_get_le(r, 2); }
static inline uint32_t codec_get_u32(struct codec_reader *r) { return (uint32_t)codec_get_le(r, 4); }
static inline uint64_t codec_get_u64(struct codec_reader *r) { return codec_get_le(r, 8); }
static inline int64_t  codec_get_i64(struct codec_reader *r) { return (int64_t)codec_get_le(r, 8); }

/*
 * A length-prefixed string copied into dst (NUL-terminated). A string longer
 * than dst_cap - 1 marks the record bad: a name never gets silently cut.
 */
static inline void codec_get_str(struct codec_reader *r, char *dst, size_t dst_cap)
{
	uint16_t n = codec_get_u16(r);
	const uint8_t *p = codec_get_bytes(r, n);
	if (!p || n >= dst_cap) {
		r->bad = true;
		if (dst_cap)
			dst[0] = '\0';
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* True when the whole record was consumed and nothing was short. */
static inline bool codec_reader_done(const struct codec_reader *r)
{
	return !r->bad && r->pos == r->len;
}

#endif /* PAGERFS_CODEC_H */
