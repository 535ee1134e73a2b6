/*
 * size.c: parsing and printing of human sizes.
 *
 * The parser accepts only what INTERFACE.md documents and rejects everything
 * else outright (no strtoull leniency: "12abc", "-1" and "" are errors).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "size.h"

static int size_shift_for(const char *suffix, unsigned *shift)
{
	static const struct { char c; unsigned shift; } units[] = {
		{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
	};

	if (*suffix == '\0' || strcasecmp(suffix, "B") == 0) {
		*shift = 0;
		return 0;
	}
	for (size_t i = 0; i < PFS_ARRAY_SIZE(units); i++) {
		if (toupper((unsigned char)suffix[0]) != units[i].c)
			continue;
		const char *rest = suffix + 1;
		if (*rest == '\0' || strcasecmp(rest, "B") == 0 || strcasecmp(rest, "iB") == 0) {
			*shift = units[i].shift;
			return 0;
		}
	}
	return -EINVAL;
}

int size_parse(const char *s, uint64_t *bytes)
{
	uint64_t whole = 0, frac_num = 0, frac_den = 1;
	const char *p = s;
	unsigned shift;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (frac_den < 1000000000000ULL) {
				frac_num = frac_num * 10 + (uint64_t)(*p - '0');
				frac_den *= 10;
			}
		}
	}
	if (size_shift_for(p, &shift) < 0)
		return -EINVAL;
	if (shift == 0 && frac_num != 0)
		return -EINVAL; /* a fraction of a byte means nothing */
	if (shift && whole > (UINT64_MAX >> shift))
		return -ERANGE;
	uint64_t v = whole << shift;
	if (frac_num) {
		/* frac_num / frac_den < 1, so this cannot overflow: */
		unsigned __int128 f = ((unsigned __int128)frac_num << shift) / frac_den;
		if (v > UINT64_MAX - (uint64_t)f)
			return -ERANGE;
		v += (uint64_t)f;
	}
	*bytes = v;
	return 0;
}

void size_format(uint64_t bytes, char *buf, size_t cap)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, cap, "%llu", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (v < 10.0)
		snprintf(buf, cap, "%.1f%c", v, units[u]);
	else
		snprintf(buf, cap, "%.0f%c", v, units[u]);
}
