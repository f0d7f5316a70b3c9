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

/* --- the server side ------------------------------------------------------------ */

static const struct corpus_case {
	const char *name;
	enum dns_verdict verdict;
	size_t len;
	const char *bytes;
} corpus[] = {
#include "dns_corpus.h"
};

/* Every case of the malformed-query corpus gets its verdict, reading only
 * its own bytes (a copy of exactly that length); and every response the
 * verdict asks for can be written and reads back as a response to it. */
TEST(dns_request_corpus)
{
	CHECK(ARRAY_SIZE(corpus) >= 200);
	for (size_t i = 0; i < ARRAY_SIZE(corpus); i++) {
		const struct corpus_case *c = &corpus[i];
		uint8_t *m = malloc(c->len + 1), out[DNS_UDP_MAX];
		struct dns_request q;
		struct dns_response resp;
		struct dns_reader r;
		enum dns_verdict v;
		int len;

		REQUIRE(m);
		memcpy(m, c->bytes, c->len);
		v = dns_request_parse(m, c->len, &q);
		if (v != c->verdict)
			unit_fail(__FILE__, __LINE__, "%s: verdict %d, want %d", c->name, v,
				  c->verdict);
		free(m);
		if (v == DNS_V_DROP)
			continue;
		dns_response_init(&resp, out, sizeof(out), &q, 0, dns_verdict_rcode(v));
		len = dns_response_end(&resp, dns_udp_limit(&q, DNS_EDNS_UDP), DNS_EDNS_UDP, 0);
		if (len < DNS_HDR_LEN || dns_reader_init(&r, out, (size_t)len) != 0) {
			unit_fail(__FILE__, __LINE__, "%s: response %d", c->name, len);
			continue;
		}
		CHECK(r.h.flags & DNS_QR);
		CHECK_EQ(DNS_RCODE(r.h.flags), dns_verdict_rcode(v) & 0xf);
		CHECK_EQ(r.h.count[DNS_QD], q.question);
		CHECK_EQ(r.h.count[DNS_AR], q.edns);
		if (v == DNS_V_ANSWER && !q.question)
			unit_fail(__FILE__, __LINE__, "%s: an answer without a question", c->name);
		if (v == DNS_V_BADVERS && !q.edns)
			unit_fail(__FILE__, __LINE__, "%s: BADVERS without EDNS", c->name);
	}
}

/* A query for <name> and <type> with flags <flags>, and with an OPT record
 * (payload <size>, flags <oflags>, <olen> bytes of options) unless <size>
 * is 0. */
static size_t query_of(uint8_t *buf, size_t bufsize, const char *name, uint16_t type,
		       uint16_t flags, uint16_t size, uint32_t oflags, const void *opts,
		       uint16_t olen)
{
	struct dns_header h = { .id = 0x4242, .flags = flags };
	uint8_t wire[DNS_NAME_MAX];
	struct dns_writer w;

	if (dns_name_from_text(name, wire) < 0)
		return 0;
	dns_writer_init(&w, buf, bufsize, &h);
	dns_put_question(&w, wire, type, DNS_C_IN);
	if (size)
		dns_put_rr(&w, DNS_AR, W(""), 0, DNS_T_OPT, size, oflags, opts, olen);
	return dns_writer_end(&w) > 0 ? (size_t)dns_writer_end(&w) : 0;
}

TEST(dns_request_fields)
{
	uint8_t buf[512];
	size_t len = query_of(buf, sizeof(buf), "WwW.Example.TEST", DNS_T_AAAA,
			      DNS_RD | DNS_CD, 0, 0, NULL, 0);
	struct dns_request q;

	REQUIRE(len > 0);
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_ANSWER);
	CHECK_EQ(q.id, 0x4242);
	CHECK_EQ(q.flags, DNS_RD | DNS_CD);
	CHECK(q.question);
	CHECK_EQ(q.qtype, DNS_T_AAAA);
	CHECK_EQ(q.qclass, DNS_C_IN);
	CHECK_EQ(q.name_len, 18);
	CHECK(memcmp(q.qname, "\3WwW\7Example\4TEST", 18) == 0);
	CHECK(memcmp(q.lname, "\3www\7example\4test", 18) == 0);
	CHECK(!q.edns);
	CHECK(!q.has_ecs);
	CHECK_EQ(q.udp_size, 512);
	CHECK_EQ(dns_udp_limit(&q, DNS_EDNS_UDP), 512);

	/* EDNS: payload size clamped up to 512, DO, version */
	len = query_of(buf, sizeof(buf), "a.test", DNS_T_A, 0, 100, DNS_EDNS_DO, NULL, 0);
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_ANSWER);
	CHECK(q.edns);
	CHECK(q.dnssec_ok);
	CHECK_EQ(q.edns_version, 0);
	CHECK_EQ(q.udp_size, 512);
	CHECK_EQ(dns_udp_limit(&q, DNS_EDNS_UDP), 512);
	len = query_of(buf, sizeof(buf), "a.test", DNS_T_A, 0, 4096, 0, NULL, 0);
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_ANSWER);
	CHECK(!q.dnssec_ok);
	CHECK_EQ(q.udp_size, 4096);
	CHECK_EQ(dns_udp_limit(&q, DNS_EDNS_UDP), DNS_EDNS_UDP);
	CHECK_EQ(dns_udp_limit(&q, 100), 512);
	len = query_of(buf, sizeof(buf), "a.test", DNS_T_A, 0, 1000, 0, NULL, 0);
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_ANSWER);
	CHECK_EQ(dns_udp_limit(&q, DNS_EDNS_UDP), 1000);
	/* version 1: BADVERS, what was read kept */
	len = query_of(buf, sizeof(buf), "a.test", DNS_T_A, 0, 1232, 1u << 16, NULL, 0);
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_BADVERS);
	CHECK(q.edns);
	CHECK_EQ(q.edns_version, 1);
	CHECK(q.question);
	/* a verdict before the question leaves none */
	buf[2] |= 0x28;                                         /* opcode 5 */
	CHECK_EQ(dns_request_parse(buf, len, &q), DNS_V_NOTIMP);
	CHECK(!q.question);
	CHECK(!q.edns);
	CHECK_EQ(q.id, 0x4242);
	CHECK_EQ(dns_verdict_rcode(DNS_V_ANSWER), DNS_R_NOERROR);
	CHECK_EQ(dns_verdict_rcode(DNS_V_FORMERR), DNS_R_FORMERR);
	CHECK_EQ(dns_verdict_rcode(DNS_V_NOTIMP), DNS_R_NOTIMP);
	CHECK_EQ(dns_verdict_rcode(DNS_V_BADVERS), DNS_R_BADVERS);
}

/* A query with one Client Subnet option: family, prefixes, address. */
static enum dns_verdict ecs_query(uint16_t family, uint8_t source, uint8_t scope,
				  const void *addr, uint8_t alen, struct dns_request *q)
{
	uint8_t opt[4 + 4 + 32], buf[512];
	size_t len;

	opt[0] = 0;
	opt[1] = DNS_OPT_ECS;
	opt[2] = 0;
	opt[3] = (uint8_t)(4 + alen);
	opt[4] = (uint8_t)(family >> 8);
	opt[5] = (uint8_t)family;
	opt[6] = source;
	opt[7] = scope;
	memcpy(opt + 8, addr, alen);
	len = query_of(buf, sizeof(buf), "www.test", DNS_T_A, 0, 1232, 0, opt, (uint16_t)(8 + alen));
	return dns_request_parse(buf, len, q);
}

TEST(dns_request_ecs)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct dns_request q;

	CHECK_EQ(ecs_query(1, 24, 0, "\xc0\x00\x02", 3, &q), DNS_V_ANSWER);
	CHECK(q.has_ecs);
	CHECK_EQ(q.ecs.family, 1);
	CHECK_EQ(q.ecs.source, 24);
	CHECK(memcmp(q.ecs.addr, "\xc0\x00\x02\x00", 4) == 0);
	/* prefixes 0 and the whole address, bits up to the prefix */
	CHECK_EQ(ecs_query(1, 0, 0, "", 0, &q), DNS_V_ANSWER);
	CHECK(q.has_ecs);
	CHECK_EQ(q.ecs.source, 0);
	CHECK_EQ(ecs_query(1, 32, 0, "\xc0\x00\x02\xff", 4, &q), DNS_V_ANSWER);
	CHECK_EQ(ecs_query(1, 25, 0, "\xc0\x00\x02\x80", 4, &q), DNS_V_ANSWER);
	CHECK_EQ(ecs_query(2, 128, 0, v6, 16, &q), DNS_V_ANSWER);
	CHECK(memcmp(q.ecs.addr, v6, 16) == 0);
	CHECK_EQ(ecs_query(2, 0, 0, "", 0, &q), DNS_V_ANSWER);
	CHECK_EQ(ecs_query(2, 127, 0, v6, 16, &q), DNS_V_FORMERR);  /* bit 128 set */
	CHECK(!q.has_ecs);
	CHECK(q.edns);
	/* bit <p> set: refused with a prefix of <p> (a bit past it, or with
	 * p % 8 == 0 a byte too many), taken with <p> + 1 */
	for (unsigned p = 0; p < 32; p++) {
		uint8_t a[4] = { 0 };

		a[p / 8] = (uint8_t)(0x80 >> p % 8);
		CHECK_EQ(ecs_query(1, (uint8_t)p, 0, a, (uint8_t)(p / 8 + 1), &q), DNS_V_FORMERR);
		CHECK_EQ(ecs_query(1, (uint8_t)(p + 1), 0, a, (uint8_t)(p / 8 + 1), &q),
			 DNS_V_ANSWER);
	}
	CHECK_EQ(ecs_query(1, 33, 0, "\1\2\3\4\5", 5, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(2, 129, 0, v6, 16, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(1, 24, 24, "\xc0\x00\x02", 3, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(1, 24, 0, "\xc0\x00", 2, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(1, 24, 0, "\xc0\x00\x02\x00", 4, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(0, 0, 0, "", 0, &q), DNS_V_FORMERR);
	CHECK_EQ(ecs_query(3, 0, 0, "", 0, &q), DNS_V_FORMERR);
}

/* The OPT record of response <m>: 1 and *rr, or 0 without one. */
static int opt_of(const uint8_t *m, size_t len, struct dns_rr *opt)
{
	struct dns_reader r;
	struct dns_rr rr;
	int found = 0;

	if (dns_reader_init(&r, m, len) != 0)
		return -1;
	while (dns_next_rr(&r, &rr) == 1)
		if (rr.type == DNS_T_OPT) {
			*opt = rr;
			found++;
		}
	return found;
}

TEST(dns_response_header_and_opt)
{
	static const uint8_t ecs[] = { 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2 };
	uint8_t qbuf[512], out[512];
	size_t qlen = query_of(qbuf, sizeof(qbuf), "WwW.Example.TEST", DNS_T_A,
			       DNS_RD | DNS_CD | DNS_AD, 4096, DNS_EDNS_DO, ecs, sizeof(ecs));
	struct dns_request q;
	struct dns_response resp;
	struct dns_reader r;
	struct dns_question qu;
	struct dns_rr rr;
	int len;

	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_ANSWER);
	dns_response_init(&resp, out, sizeof(out), &q, DNS_AA, DNS_R_NOERROR);
	CHECK_EQ(dns_put_rr(&resp.w, DNS_AN, NULL, DNS_HDR_LEN, DNS_T_A, DNS_C_IN, 30,
			    "\12\0\0\1", 4), 0);
	len = dns_response_end(&resp, dns_udp_limit(&q, DNS_EDNS_UDP), DNS_EDNS_UDP, 16);
	REQUIRE(len > 0);
	CHECK(!resp.cut);
	REQUIRE(dns_reader_init(&r, out, (size_t)len) == 0);
	CHECK_EQ(r.h.id, 0x4242);
	/* QR, AA, RD and CD copied; AD not */
	CHECK_EQ(r.h.flags, DNS_QR | DNS_AA | DNS_RD | DNS_CD);
	CHECK_EQ(r.h.count[DNS_QD], 1);
	CHECK_EQ(r.h.count[DNS_AN], 1);
	CHECK_EQ(r.h.count[DNS_AR], 1);
	REQUIRE(dns_next_question(&r, &qu) == 1);
	/* the question as it came, case and all */
	CHECK(memcmp(out + qu.name, "\3WwW\7Example\4TEST", 18) == 0);
	REQUIRE(opt_of(out, (size_t)len, &rr) == 1);
	CHECK_EQ(rr.sect, DNS_AR);
	CHECK_EQ(out[rr.name], 0);
	CHECK_EQ(rr.rclass, DNS_EDNS_UDP);
	CHECK_EQ(rr.ttl, DNS_EDNS_DO);                           /* rcode 0, version 0, DO */
	REQUIRE(rr.rdlen == sizeof(ecs));
	/* the Client Subnet copied, with our scope */
	CHECK(memcmp(out + rr.rdata, "\0\10\0\7\0\1\30\20\300\0\2", sizeof(ecs)) == 0);
	CHECK_EQ(len, (int)rr.rdata + rr.rdlen);

	/* BADVERS: 16 is 0 in the header, 1 in the OPT; no ECS read, none sent */
	qlen = query_of(qbuf, sizeof(qbuf), "a.test", DNS_T_A, 0, 4096, 3u << 16, ecs, sizeof(ecs));
	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_BADVERS);
	dns_response_init(&resp, out, sizeof(out), &q, 0, dns_verdict_rcode(DNS_V_BADVERS));
	len = dns_response_end(&resp, dns_udp_limit(&q, DNS_EDNS_UDP), DNS_EDNS_UDP, 0);
	REQUIRE(len > 0);
	REQUIRE(dns_reader_init(&r, out, (size_t)len) == 0);
	CHECK_EQ(r.h.flags, DNS_QR);
	REQUIRE(opt_of(out, (size_t)len, &rr) == 1);
	CHECK_EQ(rr.ttl, 1u << 24);
	CHECK_EQ(rr.rdlen, 0);

	/* no EDNS: no OPT, and no rcode over 15 */
	qlen = query_of(qbuf, sizeof(qbuf), "a.test", DNS_T_A, 0, 0, 0, NULL, 0);
	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_ANSWER);
	dns_response_init(&resp, out, sizeof(out), &q, 0, DNS_R_NXDOMAIN);
	len = dns_response_end(&resp, DNS_UDP_MAX, DNS_EDNS_UDP, 0);
	REQUIRE(len > 0);
	CHECK_EQ(opt_of(out, (size_t)len, &rr), 0);
	CHECK_EQ(DNS_RCODE(out[3]), DNS_R_NXDOMAIN);
	dns_response_init(&resp, out, sizeof(out), &q, 0, DNS_R_BADVERS);
	CHECK_EQ(dns_response_end(&resp, DNS_UDP_MAX, DNS_EDNS_UDP, 0), -EINVAL);
	/* opcode copied (a NOTIMP answer), no question read, none sent */
	qbuf[2] |= 2 << 3;
	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_NOTIMP);
	dns_response_init(&resp, out, sizeof(out), &q, 0, DNS_R_NOTIMP);
	CHECK_EQ(dns_response_end(&resp, DNS_UDP_MAX, DNS_EDNS_UDP, 0), DNS_HDR_LEN);
	CHECK_EQ(out[2], 0x80 | 2 << 3);
	CHECK_EQ(out[3], DNS_R_NOTIMP);
	CHECK_EQ(out[5], 0);
}

/* A response to <q> with one answer of <rdlen> bytes, ended at <limit>. */
static int one_answer(const struct dns_request *q, uint8_t *out, size_t size, uint16_t rdlen,
		      size_t limit, bool *cut)
{
	static uint8_t rdata[65536];
	struct dns_response resp;
	int len;

	dns_response_init(&resp, out, size, q, DNS_AA, DNS_R_NOERROR);
	dns_put_rr(&resp.w, DNS_AN, NULL, DNS_HDR_LEN, DNS_T_TXT, DNS_C_IN, 60, rdata, rdlen);
	len = dns_response_end(&resp, limit, DNS_EDNS_UDP, 0);
	*cut = resp.cut;
	return len;
}

/* Header 12, question 18 + 4, an answer 12 + rdlen (its name a pointer),
 * OPT 11 (+ ECS 8 + 3): a response of exactly the limit is whole, one
 * byte more is cut to header, question and OPT, with TC. */
TEST(dns_response_tc_at_the_limit)
{
	static const uint8_t ecs[] = { 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2 };
	static uint8_t out[70000];
	uint8_t qbuf[512];
	struct dns_request q;
	struct dns_reader r;
	struct dns_rr rr;
	bool cut;
	size_t qlen;
	int len;

	/* no EDNS: 512 */
	qlen = query_of(qbuf, sizeof(qbuf), "www.example.test", DNS_T_TXT, DNS_RD, 0, 0, NULL, 0);
	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_ANSWER);
	len = one_answer(&q, out, sizeof(out), 512 - 34 - 12, dns_udp_limit(&q, DNS_EDNS_UDP), &cut);
	CHECK_EQ(len, 512);
	CHECK(!cut);
	CHECK(!(out[2] & (DNS_TC >> 8)));
	len = one_answer(&q, out, sizeof(out), 512 - 34 - 11, dns_udp_limit(&q, DNS_EDNS_UDP), &cut);
	CHECK_EQ(len, 34);
	CHECK(cut);
	CHECK_EQ(out[2], (DNS_QR | DNS_AA | DNS_TC | DNS_RD) >> 8);
	CHECK_EQ(out[7], 0);                                      /* ancount */
	/* a buffer of exactly the limit: the one byte too many is an error
	 * inside, and the same cut */
	len = one_answer(&q, out, 512, 512 - 34 - 11, 65535, &cut);
	CHECK_EQ(len, 34);
	CHECK(cut);
	len = one_answer(&q, out, 512, 512 - 34 - 12, 65535, &cut);
	CHECK_EQ(len, 512);
	CHECK(!cut);

	/* EDNS with ECS, the client's 1000 under our 1232 */
	qlen = query_of(qbuf, sizeof(qbuf), "www.example.test", DNS_T_TXT, 0, 1000, 0, ecs,
			sizeof(ecs));
	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_ANSWER);
	REQUIRE(dns_udp_limit(&q, DNS_EDNS_UDP) == 1000);
	len = one_answer(&q, out, sizeof(out), 1000 - 34 - 12 - 22, 1000, &cut);
	CHECK_EQ(len, 1000);
	CHECK(!cut);
	len = one_answer(&q, out, sizeof(out), 1000 - 34 - 11 - 22, 1000, &cut);
	CHECK_EQ(len, 34 + 22);
	CHECK(cut);
	REQUIRE(dns_reader_init(&r, out, (size_t)len) == 0);
	CHECK(r.h.flags & DNS_TC);
	CHECK_EQ(r.h.count[DNS_AN], 0);
	CHECK_EQ(r.h.count[DNS_AR], 1);
	REQUIRE(opt_of(out, (size_t)len, &rr) == 1);
	CHECK_EQ(rr.rdlen, sizeof(ecs));
	/* over TCP the same answer goes whole */
	len = one_answer(&q, out, sizeof(out), 1000 - 34 - 11 - 22, DNS_TCP_MAX, &cut);
	CHECK_EQ(len, 1001);
	CHECK(!cut);
	/* not even header, question and OPT fit: an error, not a message */
	len = one_answer(&q, out, 40, 10, 1000, &cut);
	CHECK_EQ(len, -ENOSPC);
}

TEST(dns_put_records_precomputed)
{
	/* two A records named by a pointer to the question's name */
	static const uint8_t rrs[] = {
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 2,
	};
	uint8_t qbuf[512], out[512];
	size_t qlen = query_of(qbuf, sizeof(qbuf), "www.test", DNS_T_A, 0, 0, 0, NULL, 0);
	struct dns_request q;
	struct dns_response resp;
	struct dns_reader r;
	struct dns_rr rr;
	struct dns_mark m;
	int len, n = 0;

	REQUIRE(dns_request_parse(qbuf, qlen, &q) == DNS_V_ANSWER);
	dns_response_init(&resp, out, sizeof(out), &q, DNS_AA, 0);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AN, rrs, sizeof(rrs), 2), 0);
	len = dns_response_end(&resp, DNS_UDP_MAX, DNS_EDNS_UDP, 0);
	REQUIRE(len == 12 + 14 + (int)sizeof(rrs));
	REQUIRE(dns_reader_init(&r, out, (size_t)len) == 0);
	CHECK_EQ(r.h.count[DNS_AN], 2);
	while (dns_next_rr(&r, &rr) == 1) {
		CHECK(dns_name_is(out, (size_t)len, rr.name, W("\3WWW\4test")));
		CHECK_EQ(out[rr.rdata + 3], ++n);
	}
	CHECK_EQ(n, 2);
	/* the writer's rules hold */
	dns_writer_mark(&resp.w, &m);
	CHECK_EQ(dns_put_records(&resp.w, DNS_QD, rrs, 16, 1), -EINVAL);
	dns_writer_rewind(&resp.w, &m);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AN, rrs, 16, 0), -EINVAL);
	dns_writer_rewind(&resp.w, &m);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AN, rrs, 16, UINT16_MAX), -EINVAL);
	dns_writer_rewind(&resp.w, &m);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AN, out, sizeof(out), 1), -ENOSPC);
	dns_writer_rewind(&resp.w, &m);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AR, rrs, 16, 1), 0);
	CHECK_EQ(dns_put_records(&resp.w, DNS_AN, rrs, 16, 1), -EINVAL);
}

/* Three queries framed back to back: read whole, and split at every byte
 * (one read up to the cut, then the rest), each comes out once, in order. */
TEST(dns_tcp_framing)
{
	uint8_t stream[600], *p = stream;
	size_t lens[3], total = 0;
	const uint8_t *msg;
	size_t mlen;

	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "a.test", "www.example.test", "x" };
		int k = (int)query_of(p + DNS_TCP_PREFIX, 200, names[i], DNS_T_A, 0,
				      i == 1 ? 1232 : 0, 0, NULL, 0);

		REQUIRE(k > 0);
		lens[i] = (size_t)k;
		CHECK_EQ(dns_tcp_frame_put(p, (size_t)k), k + 2);
		p += k + 2;
		total += (size_t)k + 2;
	}
	for (size_t cut = 0; cut <= total; cut++) {
		/* a connection's buffer: the bytes read so far, less those consumed */
		uint8_t *held = malloc(total);
		size_t have = 0, read = 0, got = 0;

		REQUIRE(held);
		for (int step = 0; step < 2; step++) {
			size_t upto = step ? total : cut;
			int n;

			memcpy(held + have, stream + read, upto - read);
			have += upto - read;
			read = upto;
			while ((n = dns_tcp_frame(held, have, 512, &msg, &mlen)) > 0) {
				struct dns_request q;

				REQUIRE(got < 3);
				CHECK_EQ(mlen, lens[got]);
				CHECK(msg == held + DNS_TCP_PREFIX);
				CHECK_EQ(dns_request_parse(msg, mlen, &q), DNS_V_ANSWER);
				CHECK_EQ(q.edns, got == 1);
				got++;
				memmove(held, held + n, have - (size_t)n);
				have -= (size_t)n;
			}
			CHECK_EQ(n, 0);
		}
		CHECK_EQ(got, 3);
		CHECK_EQ(have, 0);
		free(held);
	}
	/* a length of 0, one over the bound, the prefix alone, one byte */
	CHECK_EQ(dns_tcp_frame("\0\0\1", 3, 512, &msg, &mlen), -EBADMSG);
	CHECK_EQ(dns_tcp_frame("\2\1", 2, 512, &msg, &mlen), -EMSGSIZE);
	CHECK_EQ(dns_tcp_frame("\2\0", 2, 512, &msg, &mlen), 0);
	CHECK_EQ(dns_tcp_frame("\2", 1, 512, &msg, &mlen), 0);
	CHECK_EQ(dns_tcp_frame("", 0, 512, &msg, &mlen), 0);
	CHECK_EQ(dns_tcp_frame("\0\1\7", 3, 512, &msg, &mlen), 3);
	CHECK_EQ(mlen, 1);
	CHECK_EQ(*msg, 7);
	CHECK_EQ(dns_tcp_frame_put(stream, DNS_TCP_MAX), DNS_TCP_MAX + 2);
	CHECK(stream[0] == 0xff && stream[1] == 0xff);
	CHECK_EQ(dns_tcp_frame_put(stream, DNS_TCP_MAX + 1), -EMSGSIZE);
}
