/*
 * json.h: pagerctl's JSON output, one object per call (INTERFACE.md).
 *
 * A tiny streaming writer: it tracks nesting and commas so a command only
 * says what it writes, and it escapes every string per RFC 8259. File names
 * are bytes, JSON text is Unicode: a byte that is not part of valid UTF-8
 * is written as U+FFFD, so the output always parses. It never allocates.
 */
#ifndef PAGERCTL_JSON_H
#define PAGERCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key; /* the next value follows "key": directly */
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends the document with a newline. */
void json_finish(struct json *j);

/* Shorthands for a member. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);

/*
 * Escape s as a JSON string literal, quotes included, into out (cap bytes,
 * NUL-terminated when cap > 0). Returns the length the whole literal needs,
 * as snprintf does.
 */
size_t json_escape(const char *s, char *out, size_t cap);

#endif /* PAGERCTL_JSON_H */
