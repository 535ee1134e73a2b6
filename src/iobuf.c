/*
 * iobuf.c: huge-page-backed buffers for O_DIRECT (see iobuf.h for why).
 *
 * The order matters under mlockall(MCL_FUTURE), where every new mapping is
 * populated as it is made: the range is first reserved PROT_NONE (which
 * mlock leaves unpopulated), cut to a huge-page-aligned span, marked
 * MADV_HUGEPAGE, and only then made writable, at which point the kernel
 * populates a locked range with the huge pages it was told to prefer.
 * Without mlockall the first touch does the same. It must never hand out
 * memory that is not page-aligned, zeroed and writable, and it never fails
 * just because huge pages are unavailable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base.h"
#include "iobuf.h"

#define IB_THP_DIR "/sys/kernel/mm/transparent_hugepage/"

/* Reads a small sysfs file into buf; 0 or a negative errno. */
static int ib_read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return pfs_neg_errno();
	n = read(fd, buf, size - 1);
	int err = n < 0 ? pfs_neg_errno() : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return 0;
}

size_t iobuf_huge_size(void)
{
	char buf[128];
	char *end;

	/* "always [madvise] never": only "[never]" refuses an madvise'd range. */
	if (ib_read_small(IB_THP_DIR "enabled", buf, sizeof(buf)) < 0 || strstr(buf, "[never]"))
		return 0;
	if (ib_read_small(IB_THP_DIR "hpage_pmd_size", buf, sizeof(buf)) < 0)
		return 0;
	unsigned long long sz = strtoull(buf, &end, 10);
	if (end == buf || sz <= PFS_PAGE_SIZE || sz > IOBUF_MAX_HUGE || (sz & (sz - 1)))
		return 0;
	return (size_t)sz;
}

static size_t ib_round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

int iobuf_map(size_t len_bytes, struct iobuf *out)
{
	size_t huge = iobuf_huge_size();
	size_t align = huge ? huge : PFS_PAGE_SIZE;
	uint8_t *res, *mem;
	size_t len, slack;

	*out = (struct iobuf){ 0 };
	if (len_bytes == 0 || len_bytes > SIZE_MAX / 2)
		return -EINVAL;
	len = ib_round_up(len_bytes, align);
	slack = align - PFS_PAGE_SIZE; /* mmap gives page alignment already */
	res = mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return pfs_neg_errno();
	mem = (uint8_t *)ib_round_up((uintptr_t)res, align);
	if (mem > res)
		munmap(res, (size_t)(mem - res));
	if (res + len + slack > mem + len)
		munmap(mem + len, (size_t)(res + len + slack - (mem + len)));
	/* A kernel without THP says EINVAL: the memory is still good. */
	if (huge && madvise(mem, len, MADV_HUGEPAGE) < 0)
		huge = 0;
	if (mprotect(mem, len, PROT_READ | PROT_WRITE) < 0) {
		int err = pfs_neg_errno();
		munmap(mem, len);
		return err;
	}
	*out = (struct iobuf){ .mem = mem, .len_bytes = len, .huge_bytes = huge };
	return 0;
}

void iobuf_unmap(struct iobuf *b)
{
	if (b && b->mem)
		munmap(b->mem, b->len_bytes);
	if (b)
		*b = (struct iobuf){ 0 };
}
