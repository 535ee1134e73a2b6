/*
 * args.c: strict parsing of what users type and of what the daemon shows.
 *
 * Strict on the command line (a typo must be a usage error, never a
 * different size), lenient on the daemon's text files (their layout may
 * gain fields; pagerctl must keep finding the ones it knows).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "args.h"
#include "size.h"

int arg_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int arg_size(const char *s, uint64_t *bytes)
{
	return size_parse(s, bytes);
}

int arg_range(const char *s, uint64_t *off, uint64_t *len, bool *have_len)
{
	char buf[128];
	const char *colon;
	uint64_t o, l = 0;
	int rc;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	colon = strchr(s, ':');
	if (!colon) {
		if ((rc = size_parse(s, &o)) < 0)
			return rc;
		*off = o;
		*len = 0;
		*have_len = false;
		return 0;
	}
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if ((rc = size_parse(buf, &o)) < 0)
		return rc;
	if (colon[1] != '\0' && (rc = size_parse(colon + 1, &l)) < 0)
		return rc;
	if (colon[1] != '\0' && o + l < o)
		return -ERANGE;
	*off = o;
	*len = l;
	*have_len = colon[1] != '\0';
	return 0;
}

int arg_pages(const char *s, struct arg_pages *out)
{
	struct arg_pages p = { 0 };
	unsigned seen = 0;
	const char *q = s;

	if (!s)
		return -EINVAL;
	for (;;) {
		char key[8], num[32];
		size_t kl = 0, nl = 0;
		uint64_t v;
		int rc;

		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (!*q)
			break;
		while (*q && *q != '=' && kl < sizeof(key) - 1)
			key[kl++] = *q++;
		key[kl] = '\0';
		if (*q++ != '=')
			return -EINVAL;
		while (*q && !isspace((unsigned char)*q) && nl < sizeof(num) - 1)
			num[nl++] = *q++;
		num[nl] = '\0';
		if (*q && !isspace((unsigned char)*q))
			return -EINVAL;
		if ((rc = arg_u64(num, 0, UINT64_MAX, &v)) < 0)
			return rc;
		unsigned bit = strcmp(key, "zero") == 0 ? 1 : strcmp(key, "file") == 0 ? 2
			     : strcmp(key, "swap") == 0 ? 4 : 0;
		if (!bit || (seen & bit))
			return -EINVAL;
		seen |= bit;
		if (bit == 1)
			p.zero = v;
		else if (bit == 2)
			p.file = v;
		else
			p.swap = v;
	}
	if (seen != 7)
		return -EINVAL;
	*out = p;
	return 0;
}

int arg_backing(const char *s, char *path, size_t cap, uint64_t *off, uint64_t *len)
{
	const char *c2 = s ? strrchr(s, ':') : NULL, *c1 = NULL;
	char num[32];
	uint64_t o, l;
	int rc;

	if (!c2)
		return -EINVAL;
	for (const char *p = c2 - 1; p >= s; p--)
		if (*p == ':') {
			c1 = p;
			break;
		}
	if (!c1 || c1 == s || (size_t)(c1 - s) >= cap || (size_t)(c2 - c1 - 1) >= sizeof(num))
		return -EINVAL;
	memcpy(num, c1 + 1, (size_t)(c2 - c1 - 1));
	num[c2 - c1 - 1] = '\0';
	if ((rc = arg_u64(num, 0, UINT64_MAX, &o)) < 0 ||
	    (rc = arg_u64(c2 + 1, 0, UINT64_MAX, &l)) < 0)
		return rc;
	memcpy(path, s, (size_t)(c1 - s));
	path[c1 - s] = '\0';
	*off = o;
	*len = l;
	return 0;
}

int arg_field(const char *text, const char *key, char *val, size_t cap)
{
	size_t klen = strlen(key);
	const char *line = text;

	if (!text || cap == 0)
		return -EINVAL;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		const char *p = line;
		size_t n = end ? (size_t)(end - line) : strlen(line);

		while (p < line + n && isspace((unsigned char)*p))
			p++;
		if ((size_t)(line + n - p) >= klen && strncasecmp(p, key, klen) == 0) {
			const char *v = p + klen;
			bool sep = v == line + n || isspace((unsigned char)*v) || *v == ':' || *v == '=';
			if (sep) {
				if (v < line + n && (*v == ':' || *v == '='))
					v++;
				while (v < line + n && isspace((unsigned char)*v))
					v++;
				const char *e = line + n;
				while (e > v && isspace((unsigned char)e[-1]))
					e--;
				size_t vl = (size_t)(e - v);
				if (vl >= cap)
					vl = cap - 1;
				memcpy(val, v, vl);
				val[vl] = '\0';
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int arg_field_size(const char *text, const char *key, uint64_t *bytes)
{
	char val[128], word[64];
	size_t n = 0;
	int rc = arg_field(text, key, val, sizeof(val));

	if (rc < 0)
		return rc;
	while (val[n] && !isspace((unsigned char)val[n]) && val[n] != '/' && val[n] != '(' &&
	       val[n] != ',' && n < sizeof(word) - 1) {
		word[n] = val[n];
		n++;
	}
	word[n] = '\0';
	return size_parse(word, bytes);
}
