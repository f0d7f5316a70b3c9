/* test_util.c - parse_u32 and parse_duration_ms: the numbers of the config
 * file and of weirctl. */
#include <errno.h>
#include <stdint.h>

#include "core/util.h"
#include "unit.h"

TEST(util_u32_accepts_the_whole_range)
{
	uint32_t v = 7;

	CHECK_EQ(parse_u32("0", 10, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_u32("10", 10, &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(parse_u32("007", 10, &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(parse_u32("4294967295", UINT32_MAX, &v), 0);
	CHECK_EQ(v, UINT32_MAX);
}

TEST(util_u32_bounds_give_erange)
{
	uint32_t v = 42;

	CHECK_EQ(parse_u32("11", 10, &v), -ERANGE);
	CHECK_EQ(parse_u32("65536", 65535, &v), -ERANGE);
	CHECK_EQ(parse_u32("4294967296", UINT32_MAX, &v), -ERANGE);
	/* far past 64 bits: no wrap-around back into range */
	CHECK_EQ(parse_u32("18446744073709551621", UINT32_MAX, &v), -ERANGE);
	CHECK_EQ(parse_u32("99999999999999999999999999999", 5, &v), -ERANGE);
	CHECK_EQ(v, 42); /* untouched on error */
}

TEST(util_u32_rejects_empty_and_junk)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "1a", "a1", "0x10", "1.0", "１",
	};
	uint32_t v = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = parse_u32(bad[i], UINT32_MAX, &v);

		if (rc != -EINVAL)
			unit_fail(__FILE__, __LINE__, "parse_u32(\"%s\") = %d, want -EINVAL",
				  bad[i], rc);
	}
	CHECK_EQ(v, 42);
}

TEST(util_duration_units)
{
	uint32_t v = 0;

	CHECK_EQ(parse_duration_ms("250ms", 1000, &v), 0);
	CHECK_EQ(v, 250);
	CHECK_EQ(parse_duration_ms("2s", 1000, &v), 0);
	CHECK_EQ(v, 2000);
	CHECK_EQ(parse_duration_ms("5m", 1000, &v), 0);
	CHECK_EQ(v, 300000);
	CHECK_EQ(parse_duration_ms("1h", 1000, &v), 0);
	CHECK_EQ(v, 3600000);
	CHECK_EQ(parse_duration_ms("0s", 1000, &v), 0);
	CHECK_EQ(v, 0);
}

TEST(util_duration_bare_number_uses_the_unit)
{
	uint32_t v = 0;

	CHECK_EQ(parse_duration_ms("7", 1000, &v), 0);
	CHECK_EQ(v, 7000);
	CHECK_EQ(parse_duration_ms("7", 1, &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(parse_duration_ms("7", 60000, &v), 0);
	CHECK_EQ(v, 420000);
}

TEST(util_duration_overflow_is_erange)
{
	uint32_t v = 42;

	CHECK_EQ(parse_duration_ms("4294967295ms", 1000, &v), 0);
	CHECK_EQ(v, UINT32_MAX);
	CHECK_EQ(parse_duration_ms("4294967296ms", 1000, &v), -ERANGE);
	CHECK_EQ(parse_duration_ms("4294967s", 1000, &v), 0);
	CHECK_EQ(v, 4294967000u);
	CHECK_EQ(parse_duration_ms("4294968s", 1000, &v), -ERANGE);
	CHECK_EQ(parse_duration_ms("1193h", 1000, &v), 0);
	CHECK_EQ(v, 1193u * 3600000u);
	v = 42;
	CHECK_EQ(parse_duration_ms("1194h", 1000, &v), -ERANGE);
	CHECK_EQ(parse_duration_ms("71582m", 1000, &v), 0);
	CHECK_EQ(v, 71582u * 60000u);
	v = 42;
	CHECK_EQ(parse_duration_ms("71583m", 1000, &v), -ERANGE);
	CHECK_EQ(parse_duration_ms("71583", 60000, &v), -ERANGE); /* bare, unit 1m */
	CHECK_EQ(parse_duration_ms("4294968", 1000, &v), -ERANGE);
	CHECK_EQ(parse_duration_ms("123456789012345678901234567890s", 1000, &v), -ERANGE);
	CHECK_EQ(v, 42);
}

TEST(util_duration_rejects_junk)
{
	static const char *const bad[] = {
		"", "s", "ms", "-1s", "1.5s", "5 s", "5S", "5sec", "5sm", "5d", "5x",
		" 5s", "5s ", "1h1m",
	};
	uint32_t v = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = parse_duration_ms(bad[i], 1000, &v);

		if (rc != -EINVAL)
			unit_fail(__FILE__, __LINE__, "parse_duration_ms(\"%s\") = %d, want -EINVAL",
				  bad[i], rc);
	}
	CHECK_EQ(v, 42);
}
