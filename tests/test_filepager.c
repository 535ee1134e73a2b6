/* Description: the zero, file and write-back pagers: their page-ins, run lengths, page-outs and syncs. */
/*
 * Each test gets a directory under /var/tmp with a swap store of one file
 * (only for its io_uring ring, which the file pager reads through) and a
 * backing file of BACKING_PAGES pages, page p holding the byte pattern of p.
 * The pagers are driven through pager.h's wrappers, as the store does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "filepager/pager.h"
#include "swap/swap.h"
#include "testutil.h"

#define PG PFS_PAGE_SIZE
#define BACKING_PAGES 8

struct fx {
	char *dir, *path;
	struct swap_store *s;
	struct swap_ring *r;
	int fd;
};

/* Byte i of backing page p. */
static uint8_t pat(uint64_t p, size_t i)
{
	return (uint8_t)(p * 31 + i * 7 + 1);
}

static bool page_is(const uint8_t *buf, uint64_t p)
{
	for (size_t i = 0; i < PG; i++)
		if (buf[i] != pat(p, i))
			return false;
	return true;
}

static bool all_bytes(const uint8_t *buf, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != v)
			return false;
	return true;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct swap_file_desc d = { .index = 0, .first_frame = 0, .max_frames = 16 };
	uint8_t page[PG];

	snprintf(d.name, sizeof(d.name), "swap.0");
	f->dir = tu_tmpdir("filepager");
	if (swap_open(f->dir, &d, 1, NULL, &f->s) || swap_ring_open_depth(f->s, 0, 4, &f->r))
		return -1;
	if (asprintf(&f->path, "%s/backing", f->dir) < 0)
		return -1;
	if ((f->fd = open(f->path, O_RDWR | O_CREAT, 0600)) < 0)
		return -1;
	for (uint64_t p = 0; p < BACKING_PAGES; p++) {
		for (size_t i = 0; i < PG; i++)
			page[i] = pat(p, i);
		if (pwrite(f->fd, page, PG, (off_t)(p * PG)) != PG)
			return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	swap_ring_close(f->r);
	swap_close(f->s);
	tu_rmtree(f->dir);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static uint8_t *garbage(uint32_t n)
{
	uint8_t *p = malloc((size_t)n * PG);
	assert_non_null(p);
	memset(p, 0xee, (size_t)n * PG);
	return p;
}

static void zero_pager_fills_zeros_and_writes_nothing_back(void **state)
{
	uint8_t *buf = garbage(3);
	struct pager_run run = { .page = 5, .base = 0, .npages = 3, .buf = buf };

	(void)state;
	assert_int_equal(pager_page_in(&pager_zero, &run), 0);
	assert_true(all_bytes(buf, 3 * PG, 0));
	assert_int_equal(pager_run_length(&pager_zero, 0, 3), 3);
	assert_int_equal(pager_finish(&pager_zero), 0);
	assert_false(pager_writes_back(&pager_zero));
	assert_int_equal(pager_sync(&pager_zero, true), 0);
	free(buf);
}

static void file_pager_reads_its_range_at_the_range_offset(void **state)
{
	struct fx *f = *state;
	/* The range is backing pages [2, 7): the object's file page 0 is backing page 2. */
	struct filepager fp = { f->fd, 2 * PG, 5 * PG, f->r };
	const struct pager p = { &pager_file_ops, &fp };
	uint8_t *buf = garbage(3);
	struct pager_run run = { .page = 0, .base = 1, .npages = 3, .buf = buf };

	assert_int_equal(pager_page_in(&p, &run), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(page_is(buf + i * PG, 3 + i));
	assert_false(pager_writes_back(&p));
	free(buf);
}

static void file_pager_backs_only_its_range(void **state)
{
	struct fx *f = *state;
	/* 2.5 pages: the third is partial, the fourth is past the range. */
	struct filepager fp = { f->fd, PG, 2 * PG + PG / 2, f->r };
	const struct pager p = { &pager_file_ops, &fp };
	uint8_t *buf = garbage(3);
	struct pager_run run = { .page = 0, .base = 1, .npages = 2, .buf = buf };

	assert_int_equal(pager_run_length(&p, 0, 10), 3);
	assert_int_equal(pager_run_length(&p, 2, 10), 1);
	assert_int_equal(pager_run_length(&p, 3, 10), 0);
	assert_int_equal(pager_run_length(&p, 1, 1), 1);
	assert_int_equal(pager_run_length(&p, UINT64_MAX, 4), 0);
	/* The partial page: its bytes past the range read as zeros, not the file's. */
	assert_int_equal(pager_page_in(&p, &run), 0);
	assert_true(page_is(buf, 2));
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(buf[PG + i], i < PG / 2 ? pat(3, i) : 0);
	assert_true(all_bytes(buf + 2 * PG, PG, 0xee)); /* past the run: left alone */
	free(buf);
}

static void file_pager_reads_zeros_where_the_file_shrank(void **state)
{
	struct fx *f = *state;
	struct filepager fp = { f->fd, 0, BACKING_PAGES * PG, f->r };
	const struct pager p = { &pager_file_ops, &fp };
	uint8_t *buf = garbage(4);
	struct pager_run run = { .page = 0, .base = 4, .npages = 4, .buf = buf };

	assert_int_equal(ftruncate(f->fd, 5 * PG + 100), 0);
	assert_int_equal(pager_page_in(&p, &run), 0);
	assert_true(page_is(buf, 4));
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(buf[PG + i], i < 100 ? pat(5, i) : 0);
	assert_true(all_bytes(buf + 2 * PG, 2 * PG, 0));
	free(buf);
}

static void file_pager_without_a_file_is_eio(void **state)
{
	struct fx *f = *state;
	struct filepager closed = { -1, 0, 4 * PG, f->r }, no_ring = { f->fd, 0, 4 * PG, NULL };
	const struct pager a = { &pager_file_ops, &closed }, b = { &pager_file_ops, &no_ring };
	const struct pager wb = { &pager_writeback_ops, &closed };
	uint8_t *buf = garbage(1);
	struct pager_run run = { .page = 0, .base = 0, .npages = 1, .buf = buf };

	assert_int_equal(pager_page_in(&a, &run), -EIO);
	assert_int_equal(pager_page_in(&b, &run), -EIO);
	/* Even past the range: the store zero-fills only what run_length leaves out. */
	assert_int_equal(pager_run_length(&a, 10, 2), 2);
	assert_int_equal(pager_run_length(&b, 10, 2), 2);
	run.base = 10;
	assert_int_equal(pager_page_in(&a, &run), -EIO);
	assert_int_equal(pager_page_out(&wb, 0, buf, 10), -EIO);
	/* Nothing was written through it: nothing to sync. */
	assert_int_equal(pager_sync(&wb, false), 0);
	free(buf);
}

static void file_pager_read_error_is_the_page_in_error(void **state)
{
	struct fx *f = *state;
	int wronly = open(f->path, O_WRONLY);
	struct filepager fp = { wronly, 0, 4 * PG, f->r };
	const struct pager p = { &pager_file_ops, &fp };
	uint8_t *buf = garbage(1);
	struct pager_run run = { .page = 0, .base = 0, .npages = 1, .buf = buf };

	assert_true(wronly >= 0);
	assert_int_equal(pager_page_in(&p, &run), -EBADF);
	close(wronly);
	free(buf);
}

static void writeback_pager_writes_at_the_range_offset_and_reads_it_back(void **state)
{
	struct fx *f = *state;
	struct filepager fp = { f->fd, 3 * PG, 4 * PG, f->r };
	const struct pager p = { &pager_writeback_ops, &fp };
	uint8_t *buf = garbage(2), page[PG];
	struct pager_run run = { .page = 1, .base = 1, .npages = 1, .buf = buf };
	const char msg[] = "written back";

	assert_true(pager_writes_back(&p));
	/* Bytes 100.. of the object's page 1: backing page 4, the rest of it intact. */
	assert_int_equal(pager_page_out(&p, PG + 100, msg, sizeof(msg)), (ssize_t)sizeof(msg));
	assert_int_equal(pager_sync(&p, true), 0);
	assert_int_equal(pager_sync(&p, false), 0);
	assert_int_equal(pread(f->fd, page, PG, 4 * PG), PG);
	assert_memory_equal(page + 100, msg, sizeof(msg));
	for (size_t i = 0; i < PG; i++)
		if (i < 100 || i >= 100 + sizeof(msg))
			assert_int_equal(page[i], pat(4, i));
	/* Page-ins of a shared object read the same file. */
	assert_int_equal(pager_page_in(&p, &run), 0);
	assert_memory_equal(buf, page, PG);
	assert_true(all_bytes(buf + PG, PG, 0xee)); /* only one page was asked for */
	free(buf);
}

static void writeback_pager_refuses_offsets_past_a_file_offset(void **state)
{
	struct fx *f = *state;
	struct filepager fp = { f->fd, 4 * PG, 4 * PG, f->r };
	const struct pager p = { &pager_writeback_ops, &fp };
	struct stat st;

	assert_int_equal(pager_page_out(&p, UINT64_MAX - 8, "x", 1), -EFBIG);
	assert_int_equal(pager_page_out(&p, (uint64_t)INT64_MAX, "x", 1), -EFBIG);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, BACKING_PAGES * PG); /* nothing was written */
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_pager_fills_zeros_and_writes_nothing_back),
		FX(file_pager_reads_its_range_at_the_range_offset),
		FX(file_pager_backs_only_its_range),
		FX(file_pager_reads_zeros_where_the_file_shrank),
		FX(file_pager_without_a_file_is_eio),
		FX(file_pager_read_error_is_the_page_in_error),
		FX(writeback_pager_writes_at_the_range_offset_and_reads_it_back),
		FX(writeback_pager_refuses_offsets_past_a_file_offset),
	};
	return cmocka_run_group_tests_name("filepager", tests, NULL, NULL);
}
