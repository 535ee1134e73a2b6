/* Description: iobuf maps zeroed, aligned I/O buffers, backed by a huge page even under mlockall. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "base.h"
#include "iobuf.h"

/* A field of the smaps entry of the mapping that starts at addr, in kB; -1 if none. */
static long smaps_kb(const void *addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long kb = -1;
	size_t flen = strlen(field);

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (in)
				break;
			in = start == (uintptr_t)addr;
		} else if (in && strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/* A counter of /proc/vmstat, or -1. */
static long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long v, found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (strcmp(key, name) == 0)
			found = v;
	fclose(f);
	return found;
}

static void maps_zeroed_aligned_writable_memory(void **state)
{
	static const size_t asks[] = { 1, 4096, 1 << 20, (1 << 20) + 12288, 5 << 20 };
	size_t huge = iobuf_huge_size();
	size_t align = huge ? huge : PFS_PAGE_SIZE;

	(void)state;
	for (size_t i = 0; i < PFS_ARRAY_SIZE(asks); i++) {
		struct iobuf b;
		assert_int_equal(iobuf_map(asks[i], &b), 0);
		assert_non_null(b.mem);
		assert_int_equal((uintptr_t)b.mem % align, 0);
		assert_true(b.len_bytes >= asks[i]);
		assert_int_equal(b.len_bytes % align, 0);
		assert_true(b.len_bytes - asks[i] < align);
		assert_int_equal(b.huge_bytes, huge);
		for (size_t off = 0; off < b.len_bytes; off++)
			if (((uint8_t *)b.mem)[off] != 0)
				fail_msg("byte %zu of a %zu-byte buffer is not zero", off, asks[i]);
		memset(b.mem, 0xa5, b.len_bytes);
		iobuf_unmap(&b);
		assert_null(b.mem);
		assert_int_equal(b.len_bytes, 0);
	}
}

static void refuses_an_empty_or_absurd_size(void **state)
{
	struct iobuf b = { .mem = &b, .len_bytes = 7 };

	(void)state;
	assert_int_equal(iobuf_map(0, &b), -EINVAL);
	assert_null(b.mem);
	assert_int_equal(iobuf_map(SIZE_MAX, &b), -EINVAL);
	assert_null(b.mem);
	iobuf_unmap(&b); /* harmless on an unmapped buffer */
	iobuf_unmap(NULL);
}

/*
 * The buffer of a 1 MiB transfer lies in one huge page, first touched or
 * populated by mlockall(MCL_FUTURE) as it is mapped. A kernel that had no
 * huge page to give says so in thp_fault_fallback: then the test is skipped,
 * never passed.
 */
static void backed_by_one_huge_page(bool locked)
{
	size_t huge = iobuf_huge_size();
	struct iobuf b;

	if (!huge) {
		print_message("transparent huge pages are off here\n");
		skip();
	}
#ifdef __SANITIZE_ADDRESS__
	if (locked) {
		print_message("not under AddressSanitizer: mlockall would lock its shadow\n");
		skip();
	}
#endif
	if (locked && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		print_message("mlockall: %s\n", strerror(errno));
		skip();
	}
	long fallback = vmstat("thp_fault_fallback");
	int rc = iobuf_map((1 << 20) + 12288, &b);
	if (locked)
		munlockall();
	assert_int_equal(rc, 0);
	if (!locked)
		memset(b.mem, 1, b.len_bytes);
	long anon_huge_kb = smaps_kb(b.mem, "AnonHugePages");
	long now = vmstat("thp_fault_fallback");
	if (anon_huge_kb < (long)(huge >> 10) && fallback >= 0 && now > fallback) {
		iobuf_unmap(&b);
		print_message("the kernel fell back to small pages (thp_fault_fallback %ld -> %ld)\n",
			      fallback, now);
		skip();
	}
	assert_int_equal(anon_huge_kb, (long)(b.len_bytes >> 10));
	iobuf_unmap(&b);
}

static void backed_by_one_huge_page_when_touched(void **state)
{
	(void)state;
	backed_by_one_huge_page(false);
}

static void backed_by_one_huge_page_under_mlockall(void **state)
{
	(void)state;
	backed_by_one_huge_page(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_zeroed_aligned_writable_memory),
		cmocka_unit_test(refuses_an_empty_or_absurd_size),
		cmocka_unit_test(backed_by_one_huge_page_when_touched),
		cmocka_unit_test(backed_by_one_huge_page_under_mlockall),
	};
	return cmocka_run_group_tests_name("iobuf", tests, NULL, NULL);
}
