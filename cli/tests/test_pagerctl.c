/*
 * Description: pagerctl's pure parts: argument and attribute parsing, human
 * sizes, JSON escaping and writing, and fitting a page map into cells.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "args.h"
#include "json.h"
#include "mapdraw.h"
#include "size.h"

/* ---- arguments ---- */

static void test_arg_u64(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(arg_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(arg_u64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(arg_u64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(arg_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(arg_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(arg_u64("3x", 0, 10, &v), -EINVAL);
	assert_int_equal(arg_u64(" 3", 0, 10, &v), -EINVAL);
	assert_int_equal(arg_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(arg_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(v, UINT64_MAX); /* untouched on failure */
}

static void test_arg_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(arg_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(arg_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(arg_size("1.5G", &v), 0);
	assert_int_equal(v, 3ull << 29);
	assert_int_equal(arg_size("2t", &v), 0);
	assert_int_equal(v, 2ull << 40);
	assert_int_equal(arg_size("64MiB", &v), 0);
	assert_int_equal(arg_size("12Q", &v), -EINVAL);
	assert_int_equal(arg_size("", &v), -EINVAL);
	assert_int_equal(arg_size("-5", &v), -EINVAL);
	assert_int_equal(arg_size("99999999999T", &v), -ERANGE);
}

static void test_arg_range(void **state)
{
	uint64_t off = 1, len = 1;
	bool have = true;

	(void)state;
	assert_int_equal(arg_range("4K:8K", &off, &len, &have), 0);
	assert_int_equal(off, 4096);
	assert_int_equal(len, 8192);
	assert_true(have);
	assert_int_equal(arg_range("1M:", &off, &len, &have), 0);
	assert_int_equal(off, 1 << 20);
	assert_false(have);
	assert_int_equal(arg_range("0", &off, &len, &have), 0);
	assert_int_equal(off, 0);
	assert_false(have);
	assert_int_equal(arg_range(":4K", &off, &len, &have), -EINVAL);
	assert_int_equal(arg_range("4K:x", &off, &len, &have), -EINVAL);
	assert_int_equal(arg_range("4K:8K:1", &off, &len, &have), -EINVAL);
	assert_int_equal(arg_range("16E:16E", &off, &len, &have), -EINVAL); /* no E suffix */
	assert_int_equal(arg_range("15T:18446744073709551615", &off, &len, &have), -ERANGE);
}

static void test_arg_pages(void **state)
{
	struct arg_pages p;

	(void)state;
	assert_int_equal(arg_pages("zero=10 file=2 swap=3", &p), 0);
	assert_int_equal(p.zero, 10);
	assert_int_equal(p.file, 2);
	assert_int_equal(p.swap, 3);
	assert_int_equal(arg_pages("swap=1 zero=0 file=0\n", &p), 0);
	assert_int_equal(p.swap, 1);
	assert_int_equal(arg_pages("zero=1 file=2", &p), -EINVAL);
	assert_int_equal(arg_pages("zero=1 file=2 swap=3 swap=4", &p), -EINVAL);
	assert_int_equal(arg_pages("zero=1 file=2 swap=x", &p), -EINVAL);
	assert_int_equal(arg_pages("zero=1 file=2 disk=3", &p), -EINVAL);
	assert_int_equal(arg_pages("", &p), -EINVAL);
}

static void test_arg_backing(void **state)
{
	char path[64];
	uint64_t off, len;

	(void)state;
	assert_int_equal(arg_backing("/data/lib.so:4096:81920", path, sizeof(path), &off, &len), 0);
	assert_string_equal(path, "/data/lib.so");
	assert_int_equal(off, 4096);
	assert_int_equal(len, 81920);
	/* A colon inside the path: split from the right. */
	assert_int_equal(arg_backing("/a:b/c:0:10", path, sizeof(path), &off, &len), 0);
	assert_string_equal(path, "/a:b/c");
	assert_int_equal(arg_backing("/a/b:10", path, sizeof(path), &off, &len), -EINVAL);
	assert_int_equal(arg_backing(":1:2", path, sizeof(path), &off, &len), -EINVAL);
	assert_int_equal(arg_backing("/x:1:y", path, sizeof(path), &off, &len), -EINVAL);
	assert_int_equal(arg_backing("/a/very/long/path/that/does/not/fit/in/the/buffer/given/here/at/all:0:1",
				     path, 16, &off, &len), -EINVAL);
}

static void test_arg_field(void **state)
{
	const char *text = "version: 0.1.0\nstore /var/lib/pagerfs/x\n  reserved=64M\n"
			   "objects 12 (3 directories)\nused: 1.5G / 10G\nstoreroom nothing\n";
	char v[64];
	uint64_t b;

	(void)state;
	assert_int_equal(arg_field(text, "version", v, sizeof(v)), 0);
	assert_string_equal(v, "0.1.0");
	assert_int_equal(arg_field(text, "store", v, sizeof(v)), 0);
	assert_string_equal(v, "/var/lib/pagerfs/x");
	assert_int_equal(arg_field(text, "STORE", v, sizeof(v)), 0); /* keys ignore case */
	assert_int_equal(arg_field(text, "missing", v, sizeof(v)), -ENOENT);
	assert_int_equal(arg_field(text, "stor", v, sizeof(v)), -ENOENT); /* whole words only */
	assert_int_equal(arg_field_size(text, "reserved", &b), 0);
	assert_int_equal(b, 64 << 20);
	assert_int_equal(arg_field_size(text, "objects", &b), 0);
	assert_int_equal(b, 12);
	assert_int_equal(arg_field_size(text, "used", &b), 0);
	assert_int_equal(b, 3ull << 29);
	assert_int_equal(arg_field_size(text, "version", &b), -EINVAL);
}

/* ---- sizes out ---- */

static void test_size_format(void **state)
{
	static const struct { uint64_t bytes; const char *text; } cases[] = {
		{ 0, "0" }, { 1023, "1023" }, { 1024, "1.0K" }, { 4096, "4.0K" },
		{ 64ull << 20, "64M" }, { 3ull << 29, "1.5G" }, { 10ull << 30, "10G" },
		{ 1ull << 40, "1.0T" },
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_format(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

/* ---- JSON ---- */

static void test_json_escape(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(json_escape("plain", out, sizeof(out)), 7);
	assert_string_equal(out, "\"plain\"");
	json_escape("a\"b\\c", out, sizeof(out));
	assert_string_equal(out, "\"a\\\"b\\\\c\"");
	json_escape("t\tn\nr\rb\bf\f", out, sizeof(out));
	assert_string_equal(out, "\"t\\tn\\nr\\rb\\bf\\f\"");
	json_escape("\x01\x1f\x7f", out, sizeof(out));
	assert_string_equal(out, "\"\\u0001\\u001f\\u007f\"");
	/* Valid UTF-8 passes through; invalid bytes become U+FFFD. */
	json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", out, sizeof(out));
	assert_string_equal(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	json_escape("a\xff" "b", out, sizeof(out));
	assert_string_equal(out, "\"a\\ufffdb\"");
	json_escape("\xc3", out, sizeof(out)); /* truncated sequence */
	assert_string_equal(out, "\"\\ufffd\"");
	json_escape("\xc0\xaf", out, sizeof(out)); /* overlong '/' */
	assert_string_equal(out, "\"\\ufffd\\ufffd\"");
	json_escape("\xed\xa0\x80", out, sizeof(out)); /* a UTF-16 surrogate */
	assert_string_equal(out, "\"\\ufffd\\ufffd\\ufffd\"");
	/* Too small a buffer: truncated, terminated, and the full length returned. */
	assert_int_equal(json_escape("abcdef", out, 4), 8);
	assert_string_equal(out, "\"ab");
}

static char *json_text(void (*fill)(struct json *j))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	assert_non_null(f);
	json_init(&j, f);
	fill(&j);
	fclose(f);
	return buf;
}

static void fill_nested(struct json *j)
{
	json_begin_object(j);
	json_kv_string(j, "path", "/m/a \"q\"");
	json_kv_u64(j, "id", 18446744073709551615ull);
	json_key(j, "flags");
	json_begin_array(j);
	json_string(j, "persist");
	json_string(j, "debug");
	json_end_array(j);
	json_key(j, "backing");
	json_null(j);
	json_key(j, "pages");
	json_begin_object(j);
	json_kv_u64(j, "zero", 1);
	json_kv_u64(j, "swap", 2);
	json_end_object(j);
	json_key(j, "empty");
	json_begin_array(j);
	json_end_array(j);
	json_key(j, "t");
	json_i64(j, -5);
	json_key(j, "ok");
	json_bool(j, true);
	json_end_object(j);
	json_finish(j);
}

static void test_json_writer(void **state)
{
	char *text = json_text(fill_nested);

	(void)state;
	assert_string_equal(text, "{\"path\":\"/m/a \\\"q\\\"\",\"id\":18446744073709551615,"
				  "\"flags\":[\"persist\",\"debug\"],\"backing\":null,"
				  "\"pages\":{\"zero\":1,\"swap\":2},\"empty\":[],\"t\":-5,\"ok\":true}\n");
	free(text);
}

static void fill_long(struct json *j)
{
	char name[2000];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[5] = '\n';
	name[6] = '\xff';
	json_begin_object(j);
	json_kv_string(j, "n", name);
	json_end_object(j);
}

static void test_json_long_string(void **state)
{
	char *text = json_text(fill_long);

	(void)state;
	assert_int_equal(strncmp(text, "{\"n\":\"xxxxx\\n\\ufffdxxx", 21), 0);
	assert_int_equal(strlen(text), 6 + 5 + 2 + 6 + (1999 - 7) + 2);
	free(text);
}

/* ---- the page-map picture ---- */

static void test_map_scale(void **state)
{
	struct map_scale sc;

	(void)state;
	assert_int_equal(map_scale_fit(10, 0, &sc), -EINVAL);
	assert_int_equal(map_scale_fit(0, 80, &sc), 0);
	assert_int_equal(sc.ncells, 0);
	assert_int_equal(map_scale_fit(40, 80, &sc), 0);
	assert_int_equal(sc.pages_per_cell, 1);
	assert_int_equal(sc.ncells, 40);
	assert_int_equal(map_scale_fit(80, 80, &sc), 0);
	assert_int_equal(sc.pages_per_cell, 1);
	assert_int_equal(sc.ncells, 80);
	assert_int_equal(map_scale_fit(81, 80, &sc), 0);
	assert_int_equal(sc.pages_per_cell, 2);
	assert_int_equal(sc.ncells, 41);
	assert_int_equal(map_scale_fit(16384, 72, &sc), 0);
	assert_int_equal(sc.pages_per_cell, 228);
	assert_int_equal(sc.ncells, 72);
	/* 1 TiB of pages into 100 cells: no overflow, every page covered. */
	uint64_t big = 1ull << 28;
	assert_int_equal(map_scale_fit(big, 100, &sc), 0);
	assert_true(sc.ncells <= 100);
	assert_true(sc.ncells * sc.pages_per_cell >= big);
	assert_true((sc.ncells - 1) * sc.pages_per_cell < big);
	assert_int_equal(map_scale_fit(UINT64_MAX, 7, &sc), 0);
	assert_true(sc.ncells <= 7);
}

static void test_map_cells(void **state)
{
	struct map_scale sc;
	struct map_cell cells[8];

	(void)state;
	memset(cells, 0, sizeof(cells));
	map_scale_fit(30, 8, &sc); /* 4 pages a cell, 8 cells, the last holding 2 */
	assert_int_equal(sc.pages_per_cell, 4);
	assert_int_equal(sc.ncells, 8);
	map_cells_add(cells, &sc, 0, 8, MAP_FILE);   /* cells 0, 1 */
	map_cells_add(cells, &sc, 8, 14, MAP_ZERO);  /* cells 2..5, half of... */
	map_cells_add(cells, &sc, 22, 1, MAP_SWAP);  /* in cell 5 */
	map_cells_add(cells, &sc, 23, 100, MAP_SWAP); /* clipped at page 30 */
	assert_int_equal(cells[0].pages[MAP_FILE], 4);
	assert_int_equal(cells[1].pages[MAP_FILE], 4);
	assert_int_equal(cells[2].pages[MAP_ZERO], 4);
	assert_int_equal(cells[5].pages[MAP_ZERO], 2);
	assert_int_equal(cells[5].pages[MAP_SWAP], 2);
	assert_int_equal(cells[7].pages[MAP_SWAP], 2);
	uint64_t total = 0;
	for (int i = 0; i < 8; i++)
		total += cells[i].pages[0] + cells[i].pages[1] + cells[i].pages[2];
	assert_int_equal(total, 30);
	char row[9];
	for (int i = 0; i < 8; i++)
		row[i] = map_cell_char(&cells[i]);
	row[8] = '\0';
	assert_string_equal(row, "ff...Sss");
	assert_true(map_cell_mixed(&cells[5]));
	assert_false(map_cell_mixed(&cells[6]));
	/* Mixed cells show the weightiest kind present: swap over file over zero. */
	struct map_cell c = { { 100, 50, 1 } };
	assert_int_equal(map_cell_kind(&c), MAP_SWAP);
	assert_int_equal(map_cell_char(&c), 'S');
	c = (struct map_cell){ { 100, 1, 0 } };
	assert_int_equal(map_cell_char(&c), 'F');
	c = (struct map_cell){ { 0, 0, 0 } };
	assert_int_equal(map_cell_char(&c), ' ');
	/* A run starting past the end is ignored. */
	map_cells_add(cells, &sc, 30, 5, MAP_SWAP);
	assert_int_equal(cells[7].pages[MAP_SWAP], 2);
}

static void test_map_proportional(void **state)
{
	enum map_kind cells[100];
	uint64_t counts[MAP_NKINDS];
	unsigned n, per[MAP_NKINDS];

	(void)state;
	memset(counts, 0, sizeof(counts));
	assert_int_equal(map_proportional(counts, 10, cells), 0);
	counts[MAP_ZERO] = 75;
	counts[MAP_SWAP] = 25;
	n = map_proportional(counts, 8, cells);
	assert_int_equal(n, 8);
	memset(per, 0, sizeof(per));
	for (unsigned i = 0; i < n; i++)
		per[cells[i]]++;
	assert_int_equal(per[MAP_SWAP], 2);
	assert_int_equal(per[MAP_ZERO], 6);
	/* Bands in order: file, swap, zero. */
	counts[MAP_FILE] = 25;
	counts[MAP_ZERO] = 50;
	n = map_proportional(counts, 4, cells);
	assert_int_equal(n, 4);
	assert_int_equal(cells[0], MAP_FILE);
	assert_int_equal(cells[1], MAP_SWAP);
	assert_int_equal(cells[2], MAP_ZERO);
	assert_int_equal(cells[3], MAP_ZERO);
	/* One swap page among a billion zero pages still gets a cell. */
	counts[MAP_FILE] = 0;
	counts[MAP_SWAP] = 1;
	counts[MAP_ZERO] = 1000000000;
	n = map_proportional(counts, 80, cells);
	assert_int_equal(n, 80);
	memset(per, 0, sizeof(per));
	for (unsigned i = 0; i < n; i++)
		per[cells[i]]++;
	assert_int_equal(per[MAP_SWAP], 1);
	assert_int_equal(per[MAP_ZERO], 79);
	/* Huge counts do not overflow. */
	counts[MAP_SWAP] = UINT64_MAX / 2;
	counts[MAP_ZERO] = UINT64_MAX / 2;
	n = map_proportional(counts, 10, cells);
	assert_int_equal(n, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arg_u64),
		cmocka_unit_test(test_arg_size),
		cmocka_unit_test(test_arg_range),
		cmocka_unit_test(test_arg_pages),
		cmocka_unit_test(test_arg_backing),
		cmocka_unit_test(test_arg_field),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_long_string),
		cmocka_unit_test(test_map_scale),
		cmocka_unit_test(test_map_cells),
		cmocka_unit_test(test_map_proportional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
