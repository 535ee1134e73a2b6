/*
 * size.h: sizes as users write them (INTERFACE.md): plain bytes or a K, M, G
 * or T suffix in powers of 1024, optionally with a fraction ("1.5G") and an
 * optional trailing "B" or "iB" ("64MiB").
 */
#ifndef PAGERFS_SIZE_H
#define PAGERFS_SIZE_H

#include "base.h"

/* Parse s into bytes. -EINVAL for malformed text, -ERANGE past 2^64 - 1. */
int size_parse(const char *s, uint64_t *bytes);
/* Format bytes for people: "0", "4.0K", "1.5G" (at most 3 significant digits). */
void size_format(uint64_t bytes, char *buf, size_t cap);

#endif /* PAGERFS_SIZE_H */
