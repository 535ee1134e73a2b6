/*
 * args.h: the pure parsers behind pagerctl's command lines and behind what
 * it reads from a mount (xattr values, control files). No I/O, no globals:
 * each returns 0 or a negative errno (-EINVAL malformed, -ERANGE too big),
 * like the core library, and writes its outputs only on success.
 */
#ifndef PAGERCTL_ARGS_H
#define PAGERCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A plain decimal number in [min, max]: "12" yes, "12x", "-1", "" no. */
int arg_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A SIZE as INTERFACE.md writes it (bytes or K/M/G/T, powers of 1024). */
int arg_size(const char *s, uint64_t *bytes);

/*
 * "OFF:LEN" for --range, both SIZEs. "OFF:" or "OFF" alone mean "to the
 * end": *have_len is then false and *len 0.
 */
int arg_range(const char *s, uint64_t *off, uint64_t *len, bool *have_len);

/* The value of user.pagerfs.pages: "zero=N file=N swap=N" (any order, each once). */
struct arg_pages {
	uint64_t zero, file, swap;
};
int arg_pages(const char *s, struct arg_pages *out);

/*
 * The value of user.pagerfs.backing, "PATH:OFFSET:LENGTH": split from the
 * right, since a path may itself hold colons. path gets cap bytes.
 */
int arg_backing(const char *s, char *path, size_t cap, uint64_t *off, uint64_t *len);

/*
 * A control file's field: the line whose first word is key (a trailing ':'
 * or '=' after the key is allowed; "key value", "key: value", "key=value"),
 * its value trimmed into val (cap bytes). -ENOENT when there is no such line.
 */
int arg_field(const char *text, const char *key, char *val, size_t cap);

/* A field's leading number as bytes: "123", "64M", "123 (64M)", "64M/1G". */
int arg_field_size(const char *text, const char *key, uint64_t *bytes);

#endif /* PAGERCTL_ARGS_H */
