/* Description: bounded record encoding never overruns and flags short or oversized data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "codec.h"

static void round_trips_every_width(void **state)
{
	uint8_t buf[64];
	struct codec_writer w;
	struct codec_reader r;
	char s[8];

	codec_writer_init(&w, buf, sizeof(buf));
	codec_put_u8(&w, 0xab);
	codec_put_u16(&w, 0xbeef);
	codec_put_u32(&w, 0xdeadbeef);
	codec_put_u64(&w, 0x0123456789abcdefULL);
	codec_put_i64(&w, -5);
	codec_put_str(&w, "heap", 4);
	assert_false(w.overflow);
	codec_reader_init(&r, buf, w.len);
	assert_int_equal(codec_get_u8(&r), 0xab);
	assert_int_equal(codec_get_u16(&r), 0xbeef);
	assert_int_equal(codec_get_u32(&r), 0xdeadbeef);
	assert_int_equal(codec_get_u64(&r), 0x0123456789abcdefULL);
	assert_int_equal(codec_get_i64(&r), -5);
	codec_get_str(&r, s, sizeof(s));
	assert_string_equal(s, "heap");
	assert_true(codec_reader_done(&r));
}

static void writer_overflow_is_remembered(void **state)
{
	uint8_t buf[5];
	struct codec_writer w;

	codec_writer_init(&w, buf, sizeof(buf));
	codec_put_u32(&w, 1);
	assert_false(w.overflow);
	codec_put_u32(&w, 2);
	assert_true(w.overflow);
	assert_int_equal(w.len, 4); /* nothing partial was written */
}

static void short_reads_mark_bad(void **state)
{
	uint8_t buf[3] = { 1, 2, 3 };
	struct codec_reader r;

	codec_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(codec_get_u64(&r), 0);
	assert_true(r.bad);
	assert_false(codec_reader_done(&r));
}

static void string_longer_than_destination_is_bad(void **state)
{
	uint8_t buf[32];
	struct codec_writer w;
	struct codec_reader r;
	char s[4];

	codec_writer_init(&w, buf, sizeof(buf));
	codec_put_str(&w, "toolong", 7);
	codec_reader_init(&r, buf, w.len);
	codec_get_str(&r, s, sizeof(s));
	assert_true(r.bad);
	assert_string_equal(s, "");
}

static void string_length_past_end_is_bad(void **state)
{
	uint8_t buf[4] = { 200, 0, 'a', 'b' }; /* claims 200 bytes, has 2 */
	struct codec_reader r;
	char s[256];

	codec_reader_init(&r, buf, sizeof(buf));
	codec_get_str(&r, s, sizeof(s));
	assert_true(r.bad);
}

static void big_endian_keys_sort_numerically(void **state)
{
	uint8_t a[8], b[8];

	codec_put_be64(a, 255);
	codec_put_be64(b, 256);
	assert_true(memcmp(a, b, 8) < 0);
	assert_int_equal(codec_get_be64(b), 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trips_every_width),
		cmocka_unit_test(writer_overflow_is_remembered),
		cmocka_unit_test(short_reads_mark_bad),
		cmocka_unit_test(string_longer_than_destination_is_bad),
		cmocka_unit_test(string_length_past_end_is_bad),
		cmocka_unit_test(big_endian_keys_sort_numerically),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
