/* test_buf.c - the growable buffer and its cap. */
#include <errno.h>
#include <stdlib.h>

#include "core/buf.h"
#include "unit.h"

/* True if <b> holds exactly <s>. */
static int holds(const struct buf *b, const char *s)
{
	return b->len == strlen(s) && memcmp(buf_head(b), s, b->len) == 0;
}

TEST(buf_empty_head_is_valid)
{
	struct buf b = { 0 };

	CHECK_EQ(b.len, 0);
	CHECK(buf_head(&b) != NULL);
	CHECK_EQ(buf_append(&b, "", 0), 0);
	CHECK(b.data == NULL); /* nothing to store, nothing allocated */
	buf_free(&b);
}

TEST(buf_append_and_consume)
{
	struct buf b = { 0 };

	CHECK_EQ(buf_append(&b, "abc", 3), 0);
	CHECK_EQ(buf_append(&b, "def", 3), 0);
	CHECK(holds(&b, "abcdef"));
	buf_consume(&b, 2);
	CHECK(holds(&b, "cdef"));
	CHECK_EQ(buf_append(&b, "gh", 2), 0);
	CHECK(holds(&b, "cdefgh"));
	buf_consume(&b, 6);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(b.off, 0);
	CHECK_EQ(buf_append(&b, "x", 1), 0);
	buf_consume(&b, 100); /* more than held: empties */
	CHECK_EQ(b.len, 0);
	CHECK_EQ(buf_append(&b, "yz", 2), 0);
	CHECK(holds(&b, "yz"));
	buf_reset(&b);
	CHECK_EQ(b.len, 0);
	buf_free(&b);
	CHECK(b.data == NULL);
	CHECK_EQ(b.cap, 0);
}

TEST(buf_grows_past_the_first_allocation)
{
	struct buf b = { 0 };
	char chunk[100];

	for (int i = 0; i < 100; i++) {
		memset(chunk, 'a' + i % 26, sizeof(chunk));
		REQUIRE(buf_append(&b, chunk, sizeof(chunk)) == 0);
	}
	CHECK_EQ(b.len, 10000);
	CHECK(b.cap >= 10000);
	for (int i = 0; i < 100; i++)
		if (buf_head(&b)[i * 100 + 99] != 'a' + i % 26)
			unit_fail(__FILE__, __LINE__, "chunk %d corrupted", i);
	buf_free(&b);
}

TEST(buf_reserve_commit)
{
	struct buf b = { 0 };
	char *p;

	CHECK_EQ(buf_append(&b, "ab", 2), 0);
	p = buf_reserve(&b, 1000);
	REQUIRE(p != NULL);
	CHECK(p == buf_head(&b) + 2);
	CHECK(b.cap >= 1002);
	memcpy(p, "cde", 3);
	buf_commit(&b, 3); /* fewer than reserved */
	CHECK(holds(&b, "abcde"));
	buf_consume(&b, 1);
	p = buf_reserve(&b, 4);
	REQUIRE(p != NULL);
	memcpy(p, "fghi", 4);
	buf_commit(&b, 4);
	CHECK(holds(&b, "bcdefghi"));
	buf_free(&b);
}

TEST(buf_cap_gives_enobufs)
{
	struct buf b = { .max = 8 };

	CHECK_EQ(buf_append(&b, "12345", 5), 0);
	CHECK_EQ(buf_append(&b, "6789", 4), -ENOBUFS);
	CHECK(holds(&b, "12345")); /* a refused append changes nothing */
	CHECK_EQ(buf_append(&b, "678", 3), 0);
	CHECK(holds(&b, "12345678"));
	CHECK_EQ(buf_append(&b, "9", 1), -ENOBUFS);
	CHECK(buf_reserve(&b, 1) == NULL);
	CHECK_EQ(buf_printf(&b, "%d", 9), -ENOBUFS);
	CHECK(b.cap <= 8);
	/* consumed bytes free room under the cap */
	buf_consume(&b, 4);
	CHECK_EQ(buf_append(&b, "abcd", 4), 0);
	CHECK(holds(&b, "5678abcd"));
	CHECK(b.cap <= 8);
	buf_free(&b);
}

TEST(buf_printf_small)
{
	struct buf b = { 0 };

	CHECK_EQ(buf_printf(&b, "%s=%d", "weight", 3), 0);
	CHECK_EQ(buf_printf(&b, ";%-4s|", "x"), 0);
	CHECK(holds(&b, "weight=3;x   |"));
	CHECK_EQ(buf_printf(&b, "%s", ""), 0);
	CHECK_EQ(b.len, 14);
	buf_free(&b);
}

TEST(buf_printf_large)
{
	struct buf b = { 0 };
	char big[1001], want[1100];

	memset(big, 'x', 1000);
	big[1000] = '\0';
	big[0] = '<';
	big[999] = '>';
	CHECK_EQ(buf_append(&b, "head:", 5), 0);
	buf_consume(&b, 2); /* an offset in front of the text */
	CHECK_EQ(buf_printf(&b, "%s:%d", big, 42), 0);
	snprintf(want, sizeof(want), "ad:%s:42", big);
	CHECK(holds(&b, want));
	/* exactly 256 and 255 bytes: the edges of the small path */
	buf_reset(&b);
	CHECK_EQ(buf_printf(&b, "%.256s", big), 0);
	CHECK_EQ(b.len, 256);
	CHECK_EQ(buf_printf(&b, "%.255s", big), 0);
	CHECK_EQ(b.len, 511);
	CHECK(memcmp(buf_head(&b) + 256, big, 255) == 0);
	buf_free(&b);
}

TEST(buf_printf_large_past_cap)
{
	struct buf b = { .max = 300 };
	char big[400];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(buf_printf(&b, "%s", big), -ENOBUFS);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(buf_printf(&b, "%.299s", big), 0);
	CHECK_EQ(b.len, 299);
	buf_free(&b);
}

/* Text that fills the buffer exactly to its cap fits: buf_append takes
 * the same 300 bytes. */
TEST(buf_printf_large_exactly_to_cap)
{
	struct buf a = { .max = 300 }, b = { .max = 300 };
	char big[301];

	memset(big, 'z', 300);
	big[300] = '\0';
	CHECK_EQ(buf_append(&a, big, 300), 0);
	CHECK_EQ(buf_printf(&b, "%s", big), 0);
	CHECK_EQ(b.len, 300);
	buf_free(&a);
	buf_free(&b);
}
