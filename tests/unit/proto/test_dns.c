/* test_dns.c - the DNS wire format (proto/dns.c): names as text and in wire
 * form, their limits; messages written with every section and read back;
 * compression pointers followed, loops and forward pointers refused; every
 * truncation of a message an error, never a read past its end; the
 * writer's errors, marks and the query the dns check sends. */
#include <errno.h>
#include <stdlib.h>

#include "core/util.h"
#include "proto/dns.h"
#include "unit.h"

#define W(s) ((const uint8_t *)(s))

TEST(dns_name_text_round_trip)
{
	static const char *const names[] = {
		"www.example.test", "a", "xn--bcher-kva.example", "under_score.test",
		"a\\.b.c", "back\\\\slash.test", "\\000\\255.bin", ".",
	};
	uint8_t wire[DNS_NAME_MAX];
	char text[DNS_TEXT_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int n = dns_name_from_text(names[i], wire);

		CHECK(n > 0);
		CHECK_EQ(dns_name_len(wire), n);
		CHECK_EQ(dns_name_to_text(wire, text, sizeof(text)), strlen(names[i]));
		CHECK_STR(text, names[i]);
	}
	/* a final dot is the same name */
	CHECK_EQ(dns_name_from_text("www.example.test.", wire), 18);
	CHECK(memcmp(wire, "\3www\7example\4test", 18) == 0);
	CHECK_EQ(dns_name_from_text("a\\046b", wire), 5);
	CHECK(memcmp(wire, "\3a.b", 5) == 0);
	/* printable bytes print as themselves, others as \DDD */
	CHECK_EQ(dns_name_to_text(W("\2\1z"), text, sizeof(text)), 5);
	CHECK_STR(text, "\\001z");
	CHECK_EQ(dns_name_to_text(W("\3www\4test"), text, 5), -ENOSPC);
	CHECK_STR(text, "www.");
}

TEST(dns_name_text_limits)
{
	char text[400];
	uint8_t wire[DNS_NAME_MAX];

	memset(text, 'a', 63);
	text[63] = '\0';
	CHECK_EQ(dns_name_from_text(text, wire), 65);
	text[63] = 'a';
	text[64] = '\0';
	CHECK_EQ(dns_name_from_text(text, wire), -EINVAL);      /* a 64-byte label */
	/* 4 labels of 63 are 257 bytes in wire form, 3 and one of 62 are 256;
	 * 3 and one of 61 make the most, 255 */
	for (int i = 0; i < 4; i++) {
		memset(text + 64 * i, 'b', 63);
		text[64 * i + 63] = '.';
	}
	text[255] = '\0';
	CHECK_EQ(dns_name_from_text(text, wire), -EINVAL);
	text[254] = '\0';
	CHECK_EQ(dns_name_from_text(text, wire), -EINVAL);
	text[253] = '\0';
	CHECK_EQ(dns_name_from_text(text, wire), 255);
	CHECK_EQ(dns_name_from_text("", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a..b", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text(".a", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a b", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a\tb", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a\\256", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a\\25", wire), -EINVAL);
	CHECK_EQ(dns_name_from_text("a\\", wire), -EINVAL);
}

TEST(dns_name_case)
{
	CHECK(dns_name_equal(W("\3WwW\4TeSt"), W("\3www\4test")));
	CHECK(!dns_name_equal(W("\3www\4test"), W("\3www\4tesu")));
	CHECK(!dns_name_equal(W("\3www\4test"), W("\3www")));
	CHECK(!dns_name_equal(W("\2ww\4test"), W("\3www\4test")));
	/* only ASCII letters fold: '[' is not '{' */
	CHECK(!dns_name_equal(W("\1["), W("\1{")));
}

/* A reply with a record in every section, names compressed. */
static int sample(uint8_t *buf, size_t size)
{
	struct dns_header h = { .id = 0xbeef, .flags = DNS_QR | DNS_AA | DNS_RD };
	static const uint8_t a[4] = { 10, 0, 0, 1 }, a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dns_writer w;

	dns_writer_init(&w, buf, size, &h);
	dns_put_question(&w, W("\3www\7example\4test"), DNS_T_A, DNS_C_IN);
	dns_put_rr(&w, DNS_AN, NULL, DNS_HDR_LEN, DNS_T_A, DNS_C_IN, 300, a, 4);
	dns_put_rr(&w, DNS_NS, W("\7example\4test"), 0, DNS_T_NS, DNS_C_IN, 86400,
		   "\2ns\300\020", 5);                     /* ns + pointer to example.test (16) */
	dns_put_rr(&w, DNS_AR, W("\2ns\7example\4test"), 0, DNS_T_AAAA, DNS_C_IN,
		   0x01020304, a6, 16);
	return dns_writer_end(&w);
}

TEST(dns_every_section)
{
	uint8_t buf[512], name[DNS_NAME_MAX];
	int len = sample(buf, sizeof(buf));
	struct dns_reader r;
	struct dns_question q;
	struct dns_rr rr;
	size_t end;

	REQUIRE(len > 0);
	REQUIRE(dns_reader_init(&r, buf, (size_t)len) == 0);
	CHECK_EQ(r.h.id, 0xbeef);
	CHECK_EQ(r.h.flags, DNS_QR | DNS_AA | DNS_RD);
	CHECK_EQ(r.h.count[DNS_QD], 1);
	CHECK_EQ(r.h.count[DNS_AN], 1);
	CHECK_EQ(r.h.count[DNS_NS], 1);
	CHECK_EQ(r.h.count[DNS_AR], 1);
	REQUIRE(dns_next_question(&r, &q) == 1);
	CHECK_EQ(q.name, DNS_HDR_LEN);
	CHECK_EQ(q.type, DNS_T_A);
	CHECK_EQ(q.qclass, DNS_C_IN);
	CHECK(dns_name_is(buf, (size_t)len, q.name, W("\3WWW\7Example\4TEST")));
	CHECK_EQ(dns_next_question(&r, &q), 0);

	REQUIRE(dns_next_rr(&r, &rr) == 1);
	CHECK_EQ(rr.sect, DNS_AN);
	CHECK_EQ(rr.type, DNS_T_A);
	CHECK_EQ(rr.ttl, 300);
	CHECK_EQ(rr.rdlen, 4);
	CHECK(memcmp(buf + rr.rdata, "\12\0\0\1", 4) == 0);
	/* a pointer to the question's name: 2 bytes here, 18 expanded */
	CHECK_EQ(dns_name_read(buf, (size_t)len, rr.name, name, &end), 18);
	CHECK_EQ(end, rr.name + 2);
	CHECK(memcmp(name, "\3www\7example\4test", 18) == 0);

	REQUIRE(dns_next_rr(&r, &rr) == 1);
	CHECK_EQ(rr.sect, DNS_NS);
	CHECK_EQ(rr.type, DNS_T_NS);
	CHECK_EQ(rr.ttl, 86400);
	CHECK_EQ(rr.rdata, 50 + 14 + 10);
	/* the rdata's name: a label, then a pointer into the question's */
	CHECK_EQ(dns_name_read(buf, (size_t)len, rr.rdata, name, &end), 17);
	CHECK_EQ(end, rr.rdata + 5);
	CHECK(memcmp(name, "\2ns\7example\4test", 17) == 0);

	REQUIRE(dns_next_rr(&r, &rr) == 1);
	CHECK_EQ(rr.sect, DNS_AR);
	CHECK_EQ(rr.type, DNS_T_AAAA);
	CHECK_EQ(rr.ttl, 0x01020304);
	CHECK_EQ(rr.rdlen, 16);
	CHECK_EQ(rr.rdata + rr.rdlen, len);
	CHECK_EQ(dns_next_rr(&r, &rr), 0);
	CHECK_EQ(dns_next_rr(&r, &rr), 0);
}

/* dns_next_rr() skips the questions not read. */
TEST(dns_records_without_questions)
{
	uint8_t buf[512];
	int len = sample(buf, sizeof(buf)), n = 0;
	struct dns_reader r;
	struct dns_rr rr;

	REQUIRE(len > 0);
	REQUIRE(dns_reader_init(&r, buf, (size_t)len) == 0);
	while (dns_next_rr(&r, &rr) == 1)
		CHECK_EQ(rr.sect, DNS_AN + n++);
	CHECK_EQ(n, 3);
}

/* Every prefix of a message is refused somewhere, and read only within
 * itself (a copy of exactly that length: ASan sees a read past it). */
TEST(dns_truncated_messages)
{
	uint8_t full[512];
	int len = sample(full, sizeof(full));

	REQUIRE(len > 0);
	for (int cut = 0; cut < len; cut++) {
		uint8_t *m = malloc((size_t)cut + 1);
		struct dns_reader r;
		struct dns_question q;
		struct dns_rr rr;
		int rc;

		REQUIRE(m);
		memcpy(m, full, (size_t)cut);
		if (cut < DNS_HDR_LEN) {
			CHECK_EQ(dns_reader_init(&r, m, (size_t)cut), -EBADMSG);
			free(m);
			continue;
		}
		REQUIRE(dns_reader_init(&r, m, (size_t)cut) == 0);
		while ((rc = dns_next_question(&r, &q)) == 1)
			;
		if (rc == 0)
			while ((rc = dns_next_rr(&r, &rr)) == 1)
				CHECK(rr.rdata + rr.rdlen <= (size_t)cut);
		if (rc != -EBADMSG)
			unit_fail(__FILE__, __LINE__, "cut at %d: %d", cut, rc);
		free(m);
	}
}

/* A message of a header and <body>: questions claimed in qdcount. */
static size_t msg_of(uint8_t *buf, const void *body, size_t n, uint16_t qd)
{
	memset(buf, 0, DNS_HDR_LEN);
	buf[4] = (uint8_t)(qd >> 8);
	buf[5] = (uint8_t)qd;
	memcpy(buf + DNS_HDR_LEN, body, n);
	return DNS_HDR_LEN + n;
}

TEST(dns_compression_chains_and_loops)
{
	uint8_t buf[600], name[DNS_NAME_MAX];
	size_t len, end;

	/* 12: "a" + ptr 16; 16: "b" + ptr 20; 20: "c" + root: a chain back... */
	len = msg_of(buf, "\1c\0\0" "\1b\300\14" "\1a\300\20", 12, 0);
	CHECK_EQ(dns_name_read(buf, len, 20, name, &end), 7);
	CHECK(memcmp(name, "\1a\1b\1c", 7) == 0);
	CHECK_EQ(end, 24);
	/* a pointer to itself, forward, to the byte after it */
	len = msg_of(buf, "\300\14", 2, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	len = msg_of(buf, "\300\16\1a\0", 5, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	/* from 16 back to 12, then at 14 a pointer to 14: not before 12 */
	len = msg_of(buf, "\1x\300\16\300\14", 6, 0);
	CHECK_EQ(dns_name_read(buf, len, 16, name, &end), -EBADMSG);
	/* a pointer back into the middle of a label: 'a' is no label length */
	len = msg_of(buf, "\1a\300\15", 4, 0);
	CHECK_EQ(dns_name_read(buf, len, 14, name, &end), -EBADMSG);
	/* labels of type 01 and 10 */
	len = msg_of(buf, "\100\0", 2, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	len = msg_of(buf, "\200\0", 2, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	/* a pointer cut in half, a label longer than the message */
	len = msg_of(buf, "\300", 1, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	len = msg_of(buf, "\5ab", 3, 0);
	CHECK_EQ(dns_name_read(buf, len, 12, name, &end), -EBADMSG);
	CHECK_EQ(dns_name_read(buf, len, len, name, &end), -EBADMSG);
}

/* Pointers that each go back are followed, but a name over 255 bytes
 * expanded is refused however it is made. */
TEST(dns_compressed_name_too_long)
{
	uint8_t buf[700], name[DNS_NAME_MAX];
	size_t pos = DNS_HDR_LEN;

	memset(buf, 0, DNS_HDR_LEN);
	/* 5 blocks of a 62-byte label each pointing to the one before */
	buf[pos++] = 0;
	for (int i = 0; i < 5; i++) {
		size_t prev = i ? pos - 65 : DNS_HDR_LEN;

		buf[pos] = 62;
		memset(buf + pos + 1, 'a' + i, 62);
		buf[pos + 63] = (uint8_t)(0xc0 | prev >> 8);
		buf[pos + 64] = (uint8_t)prev;
		pos += 65;
	}
	/* block 3 (0-based 2): 3 x 63 + 1 = 190 bytes; block 4: 253; block 5: 316 */
	CHECK_EQ(dns_name_read(buf, pos, DNS_HDR_LEN + 1 + 2 * 65, name, NULL), 190);
	CHECK_EQ(dns_name_read(buf, pos, DNS_HDR_LEN + 1 + 3 * 65, name, NULL), 253);
	CHECK_EQ(dns_name_read(buf, pos, DNS_HDR_LEN + 1 + 4 * 65, name, NULL), -EBADMSG);
}

TEST(dns_bad_records)
{
	uint8_t buf[64];
	struct dns_reader r;
	struct dns_rr rr;
	size_t len;

	/* an answer whose rdlength runs past the end */
	len = msg_of(buf, "\0\0\1\0\1\0\0\0\0\0\5\1\2\3\4", 15, 0);
	buf[7] = 1; /* ancount */
	REQUIRE(dns_reader_init(&r, buf, len) == 0);
	CHECK_EQ(dns_next_rr(&r, &rr), -EBADMSG);
	buf[len - 5] = 4;
	REQUIRE(dns_reader_init(&r, buf, len) == 0);
	CHECK_EQ(dns_next_rr(&r, &rr), 1);
	CHECK_EQ(rr.rdlen, 4);
	CHECK_EQ(dns_next_rr(&r, &rr), 0);
	/* more records claimed than there are */
	buf[7] = 2;
	REQUIRE(dns_reader_init(&r, buf, len) == 0);
	CHECK_EQ(dns_next_rr(&r, &rr), 1);
	CHECK_EQ(dns_next_rr(&r, &rr), -EBADMSG);
	/* a bad question stops the records too */
	len = msg_of(buf, "\100", 1, 1);
	REQUIRE(dns_reader_init(&r, buf, len) == 0);
	CHECK_EQ(dns_next_rr(&r, &rr), -EBADMSG);
}

TEST(dns_query_bytes)
{
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 28, 0, 1,
	};
	uint8_t buf[DNS_UDP_MAX];

	CHECK_EQ(dns_query(buf, sizeof(buf), 0x1234, true, W("\3www\4test"), DNS_T_AAAA),
		 sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
	CHECK_EQ(dns_query(buf, sizeof(want) - 1, 1, false, W("\3www\4test"), 1), -ENOSPC);
	CHECK_EQ(dns_query(buf, 11, 1, false, W("\3www\4test"), 1), -ENOSPC);
	CHECK_EQ(dns_query(buf, sizeof(buf), 0, false, W(""), DNS_T_NS), 17);
	CHECK_EQ(buf[3], 0);                                   /* no RD */
}

TEST(dns_writer_errors_and_marks)
{
	struct dns_header h = { .id = 7 };
	uint8_t buf[64];
	struct dns_writer w;
	struct dns_mark m;
	struct dns_reader r;
	struct dns_rr rr;

	dns_writer_init(&w, buf, sizeof(buf), &h);
	CHECK_EQ(dns_put_question(&w, W("\1a"), 1, 1), 0);
	CHECK_EQ(dns_put_rr(&w, DNS_AN, NULL, 12, 1, 1, 60, "\1\2\3\4", 4), 0);
	dns_writer_mark(&w, &m);
	/* the rest does not fit: the error sticks, a rewind clears it */
	CHECK_EQ(dns_put_rr(&w, DNS_AN, NULL, 12, 1, 1, 60, buf, 40), -ENOSPC);
	CHECK_EQ(dns_put_rr(&w, DNS_AN, NULL, 12, 1, 1, 60, "\1\2\3\4", 4), -ENOSPC);
	CHECK_EQ(dns_writer_end(&w), -ENOSPC);
	dns_writer_rewind(&w, &m);
	dns_set_flags(&w, DNS_QR | DNS_TC);
	CHECK_EQ(dns_writer_end(&w), 12 + 7 + 16);
	REQUIRE(dns_reader_init(&r, buf, (size_t)dns_writer_end(&w)) == 0);
	CHECK_EQ(r.h.flags, DNS_QR | DNS_TC);
	CHECK_EQ(r.h.count[DNS_AN], 1);
	CHECK_EQ(dns_next_rr(&r, &rr), 1);
	CHECK_EQ(dns_next_rr(&r, &rr), 0);
	/* a section before the last, a question after a record, a pointer
	 * out of reach, a record in the question section */
	dns_writer_mark(&w, &m);
	CHECK_EQ(dns_put_rr(&w, DNS_AR, NULL, 12, 1, 1, 0, NULL, 0), 0);
	CHECK_EQ(dns_put_rr(&w, DNS_AN, NULL, 12, 1, 1, 0, NULL, 0), -EINVAL);
	dns_writer_rewind(&w, &m);
	CHECK_EQ(dns_put_question(&w, W("\1a"), 1, 1), -EINVAL);
	dns_writer_rewind(&w, &m);
	CHECK_EQ(dns_put_rr(&w, DNS_AN, NULL, 0x4000, 1, 1, 0, NULL, 0), -EINVAL);
	dns_writer_rewind(&w, &m);
	CHECK_EQ(dns_put_rr(&w, DNS_QD, W("\1a"), 0, 1, 1, 0, NULL, 0), -EINVAL);
	/* too small for a header */
	dns_writer_init(&w, buf, 11, &h);
	CHECK_EQ(dns_writer_end(&w), -ENOSPC);
}

TEST(dns_type_and_rcode_words)
{
	CHECK_EQ(dns_type_parse("A"), DNS_T_A);
	CHECK_EQ(dns_type_parse("aaaa"), DNS_T_AAAA);
	CHECK_EQ(dns_type_parse("SRV"), DNS_T_SRV);
	CHECK_EQ(dns_type_parse("65"), 65);
	CHECK_EQ(dns_type_parse("0"), -EINVAL);
	CHECK_EQ(dns_type_parse("65536"), -EINVAL);
	CHECK_EQ(dns_type_parse("AX"), -EINVAL);
	CHECK_EQ(dns_type_parse(""), -EINVAL);
	CHECK_STR(dns_type_name(DNS_T_MX), "MX");
	CHECK(dns_type_name(65) == NULL);
	CHECK_EQ(dns_rcode_parse("nxdomain"), DNS_R_NXDOMAIN);
	CHECK_EQ(dns_rcode_parse("REFUSED"), DNS_R_REFUSED);
	CHECK_EQ(dns_rcode_parse("15"), 15);
	CHECK_EQ(dns_rcode_parse("16"), -EINVAL);
	CHECK_EQ(dns_rcode_parse("-1"), -EINVAL);
	CHECK_STR(dns_rcode_name(DNS_R_SERVFAIL), "SERVFAIL");
	CHECK(dns_rcode_name(15) == NULL);
}
