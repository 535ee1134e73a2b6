/*
 * json.c: the streaming JSON writer behind `pagerctl ... --json`.
 *
 * Escaping is the only subtle part: quote, backslash and control characters
 * are escaped; valid UTF-8 passes through byte for byte; every byte that does
 * not start a valid, shortest-form, non-surrogate sequence becomes \ufffd.
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static size_t js_utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* Append n bytes of src to out at *len, keeping the NUL inside cap. */
static void js_put(char *out, size_t cap, size_t *len, const char *src, size_t n)
{
	if (*len < cap) {
		size_t room = cap - 1 - *len;
		memcpy(out + *len, src, n < room ? n : room);
	}
	*len += n;
}

size_t json_escape(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;

	js_put(out, cap, &len, "\"", 1);
	while (*p) {
		char esc[8];
		size_t n;

		switch (*p) {
		case '"': js_put(out, cap, &len, "\\\"", 2); p++; continue;
		case '\\': js_put(out, cap, &len, "\\\\", 2); p++; continue;
		case '\b': js_put(out, cap, &len, "\\b", 2); p++; continue;
		case '\f': js_put(out, cap, &len, "\\f", 2); p++; continue;
		case '\n': js_put(out, cap, &len, "\\n", 2); p++; continue;
		case '\r': js_put(out, cap, &len, "\\r", 2); p++; continue;
		case '\t': js_put(out, cap, &len, "\\t", 2); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			js_put(out, cap, &len, esc, 6);
			p++;
			continue;
		}
		n = js_utf8_len(p);
		if (n == 0) {
			js_put(out, cap, &len, "\\ufffd", 6);
			p++;
			continue;
		}
		js_put(out, cap, &len, (const char *)p, n);
		p += n;
	}
	js_put(out, cap, &len, "\"", 1);
	if (cap)
		out[len < cap ? len : cap - 1] = '\0';
	return len;
}

static void js_write_string(FILE *f, const char *s)
{
	char small[512];
	size_t need = json_escape(s, small, sizeof(small));

	if (need < sizeof(small)) {
		fputs(small, f);
		return;
	}
	/* Long strings: escape piecewise through the same code, one UTF-8 sequence at a time. */
	fputc('"', f);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char one[5] = { 0 }, lit[16];
		size_t n = js_utf8_len(p);
		if (n == 0)
			n = 1;
		memcpy(one, p, n);
		size_t l = json_escape(one, lit, sizeof(lit));
		fwrite(lit + 1, 1, l - 2, f); /* without its quotes */
		p += n;
	}
	fputc('"', f);
}

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before any value: a comma if a sibling came before, unless it follows a key. */
static void js_value_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && j->need_comma[j->depth - 1])
		fputc(',', j->f);
	if (j->depth)
		j->need_comma[j->depth - 1] = true;
}

static void js_open(struct json *j, char c)
{
	js_value_prefix(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void js_close(struct json *j, char c)
{
	if (j->depth)
		j->depth--;
	fputc(c, j->f);
}

void json_begin_object(struct json *j) { js_open(j, '{'); }
void json_end_object(struct json *j) { js_close(j, '}'); }
void json_begin_array(struct json *j) { js_open(j, '['); }
void json_end_array(struct json *j) { js_close(j, ']'); }

void json_key(struct json *j, const char *key)
{
	js_value_prefix(j);
	js_write_string(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	js_value_prefix(j);
	js_write_string(j->f, s);
}

void json_u64(struct json *j, uint64_t v)
{
	js_value_prefix(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	js_value_prefix(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	js_value_prefix(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	js_value_prefix(j);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	fputc('\n', j->f);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}
