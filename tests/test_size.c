/* Description: size_parse accepts documented sizes and rejects everything else; size_format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "size.h"

static void parses_plain_and_suffixed_sizes(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 },
		{ "64M", 64ULL << 20 }, { "64MiB", 64ULL << 20 }, { "2G", 2ULL << 30 },
		{ "1T", 1ULL << 40 }, { "1.5G", 3ULL << 29 }, { "10B", 10 }, { "0.5K", 512 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		assert_int_equal(size_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
}

static void rejects_malformed_sizes(void **state)
{
	static const char *const bad[] = {
		"", "-1", "abc", "12abc", "1.", ".5K", "1X", "1KK", "1 K", "1.5", "K", "1Mb2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 77;
		assert_int_equal(size_parse(bad[i], &v), -EINVAL);
		assert_int_equal(v, 77); /* untouched on error */
	}
	assert_int_equal(size_parse(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void rejects_overflow(void **state)
{
	uint64_t v;
	assert_int_equal(size_parse("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(size_parse("18446744073709551616", &v), -ERANGE);
	assert_int_equal(size_parse("16777216T", &v), -ERANGE);
}

static void formats_for_people(void **state)
{
	char buf[32];
	size_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	size_format(1023, buf, sizeof(buf));
	assert_string_equal(buf, "1023");
	size_format(4096, buf, sizeof(buf));
	assert_string_equal(buf, "4.0K");
	size_format(3ULL << 29, buf, sizeof(buf));
	assert_string_equal(buf, "1.5G");
	size_format(64ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "64M");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_plain_and_suffixed_sizes),
		cmocka_unit_test(rejects_malformed_sizes),
		cmocka_unit_test(rejects_overflow),
		cmocka_unit_test(formats_for_people),
	};
	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
