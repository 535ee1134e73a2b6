/*
 * faults.h: test-only fault injection.
 *
 * A test builds a struct pfs_faults and hands it to the store through its
 * options; production code passes NULL, so the only cost on a real path is
 * one pointer test. Each countdown, when set to N > 0, makes the N-th
 * operation of its kind fail (and then disarms itself), so a test can say
 * "the third swap write fails with EIO" and check that the store reports it,
 * keeps the previous commit intact and goes on working.
 */
#ifndef PAGERFS_FAULTS_H
#define PAGERFS_FAULTS_H

#include <stdatomic.h>
#include "base.h"

enum pfs_fault_kind {
	PFS_FAULT_WRITE,   /* a swap write completes with -err */
	PFS_FAULT_READ,    /* a swap read completes with -err */
	PFS_FAULT_SHORT,   /* a swap read or write completes short (half its length) */
	PFS_FAULT_FSYNC,   /* a swap fdatasync fails with -err */
	PFS_FAULT_COMMIT,  /* an LMDB write transaction fails to commit with -err */
	PFS_FAULT_RING,    /* io_uring_enter fails with -err before it submits: the ring dies */
	PFS_FAULT_COUNT
};

struct pfs_faults {
	atomic_long countdown[PFS_FAULT_COUNT];
	atomic_long hits[PFS_FAULT_COUNT]; /* how many faults were injected */
	int err;                            /* positive errno to inject; 0 means EIO */
};

/* Arm: the n-th next operation of kind k fails (n = 1: the very next). */
static inline void pfs_fault_arm(struct pfs_faults *f, enum pfs_fault_kind k, long n)
{
	atomic_store(&f->countdown[k], n);
}

/*
 * Should this operation fail? Returns the negative errno to inject, or 0.
 * Safe to call with f == NULL (production).
 */
static inline int pfs_fault_check(struct pfs_faults *f, enum pfs_fault_kind k)
{
	if (pfs_likely(f == NULL))
		return 0;
	long v = atomic_load(&f->countdown[k]);
	while (v > 0) {
		if (atomic_compare_exchange_weak(&f->countdown[k], &v, v - 1)) {
			if (v == 1) {
				atomic_fetch_add(&f->hits[k], 1);
				return f->err ? -f->err : -EIO;
			}
			return 0;
		}
	}
	return 0;
}

#endif /* PAGERFS_FAULTS_H */
