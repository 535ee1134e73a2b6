/* testutil.c: scratch directories and helpers for the unit tests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

char *tu_tmpdir(const char *tag)
{
	char tmpl[256];

	snprintf(tmpl, sizeof(tmpl), "/var/tmp/pagerfs-%s-XXXXXX", tag);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		abort();
	}
	return strdup(tmpl);
}

static int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void tu_rmtree(const char *path)
{
	if (path)
		nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

uint64_t tu_seed(uint64_t def)
{
	const char *env = getenv("PFS_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : def;

	fprintf(stderr, "# seed %llu (set PFS_SEED to reproduce)\n", (unsigned long long)seed);
	return seed;
}

uint64_t tu_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
