/* testutil.h: scratch directories and small helpers shared by the unit tests. */
#ifndef PAGERFS_TESTUTIL_H
#define PAGERFS_TESTUTIL_H

#include <stdint.h>

/* A fresh directory under /var/tmp (a disk file system); the caller frees the string. */
char *tu_tmpdir(const char *tag);
/* Remove a directory tree; silent on errors (test cleanup). */
void tu_rmtree(const char *path);
/* The seed for randomized tests: $PFS_SEED if set, else def. Printed once. */
uint64_t tu_seed(uint64_t def);
/* A small, fast, seeded generator (splitmix64). */
uint64_t tu_rand(uint64_t *state);

#endif
