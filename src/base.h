/*
 * base.h: definitions every pagerfs module shares.
 *
 * Only constants, tiny inline helpers and the error convention live here.
 * Nothing in this header may allocate, lock or log.
 *
 * Error convention (from liburing): every function below fuse/ returns 0 (or a
 * non-negative count) on success and a negative errno on failure; none of
 * them reads or sets errno for its caller.
 */
#ifndef PAGERFS_BASE_H
#define PAGERFS_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>

/* pagerfs works in 4 KiB pages; the daemon refuses to start elsewhere. */
#define PFS_PAGE_SHIFT 12
#define PFS_PAGE_SIZE  ((uint64_t)1 << PFS_PAGE_SHIFT)

#define PFS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PFS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PFS_MAX(a, b) ((a) > (b) ? (a) : (b))

#define pfs_likely(x)   __builtin_expect(!!(x), 1)
#define pfs_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Page indexes run from 0 to 2^64 - 2 (a range's end must fit in 64 bits), so
 * "every page of an object" is a count of 2^64 - 1 pages from page 0.
 */
#define PFS_ALL_PAGES UINT64_MAX

/* Pages needed to hold len_bytes bytes. */
static inline uint64_t pfs_bytes_to_pages(uint64_t len_bytes)
{
	return (len_bytes + PFS_PAGE_SIZE - 1) >> PFS_PAGE_SHIFT;
}

/* Does [first, first + n) overflow a 64-bit page index? */
static inline bool pfs_range_overflows(uint64_t first, uint64_t n)
{
	return first + n < first;
}

/* Save errno as a negative value: the one bridge from libc's convention. */
static inline int pfs_neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif /* PAGERFS_BASE_H */
