/* fuzz_dns_query.c - libFuzzer driver for the server side of proto/dns.c
 * (dns_server.c): bytes from the network read as a query, the response
 * written to it, and TCP framing. The input is 4 bytes of parameters (the
 * client's limit, the ECS scope, the answers to write), then the message:
 * untrusted, copied to exactly its length so that ASan sees any read past
 * it. Besides not crashing, it checks that:
 * - the verdict is one of five; a query with a question has its lower-case
 *   name equal to its name, and a query for that name reads back the same;
 * - for every verdict but DROP, a response (answers, an authority record,
 *   glue, the OPT record with the Client Subnet) is at most the limit, or
 *   an error only when header, question and OPT alone exceed it;
 * - it reads back whole: QR, the query's id and opcode, its question as it
 *   came, the rcode; TC set exactly when it was cut, and then no record but
 *   the OPT; else every record written; one OPT, last, with the DO bit,
 *   the rcode's upper bits and the Client Subnet with the scope asked for;
 * - read as a query, the response is dropped (QR);
 * - TCP framing over the input yields messages inside it, back to back. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)
#define PARAMS 4

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What any request read must be, whatever its verdict. */
static void check_request(const struct dns_request *q, enum dns_verdict v)
{
	uint8_t buf[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	struct dns_request again;
	int n;

	if (v > DNS_V_BADVERS)
		FAIL("verdict %d", v);
	if (v == DNS_V_ANSWER && !q->question)
		FAIL("an answer without a question");
	if ((v == DNS_V_BADVERS) != (q->edns && q->edns_version > 0))
		FAIL("BADVERS %d, EDNS version %u", v, q->edns_version);
	if (q->has_ecs && (!q->edns || v != DNS_V_ANSWER))
		FAIL("a Client Subnet without EDNS or in a %d", v);
	if (q->udp_size < DNS_UDP_MAX)
		FAIL("payload size %u", q->udp_size);
	if (!q->question)
		return;
	if (q->name_len < 1 || q->name_len > DNS_NAME_MAX || dns_name_len(q->qname) != q->name_len ||
	    !dns_name_equal(q->qname, q->lname))
		FAIL("question name of %u bytes", q->name_len);
	for (unsigned i = 0; i < q->name_len; i++)
		if (q->lname[i] >= 'A' && q->lname[i] <= 'Z')
			FAIL("lname not in lower case");
	n = dns_query(buf, sizeof(buf), q->id, false, q->qname, q->qtype);
	if (n < 0 || dns_request_parse(buf, (size_t)n, &again) != DNS_V_ANSWER ||
	    again.name_len != q->name_len || memcmp(again.qname, q->qname, q->name_len) != 0)
		FAIL("the question does not read back");
}

/* Header, question and OPT: what a cut response holds. */
static size_t least(const struct dns_request *q)
{
	size_t n = DNS_HDR_LEN + (q->question ? q->name_len + 4u : 0);

	if (q->edns)
		n += 11 + (q->has_ecs ? 8 + (q->ecs.source + 7u) / 8u : 0);
	return n;
}

/* Response <m> of <len> bytes to <q>, written with <answers> answers,
 * cut or not, read back. */
static void check_response(const uint8_t *m, size_t len, const struct dns_request *q,
			   unsigned rcode, unsigned answers, bool cut, uint8_t scope)
{
	struct dns_reader r;
	struct dns_question qu;
	struct dns_rr rr, opt = { 0 };
	unsigned seen = 0, opts = 0;
	struct dns_request back;
	int rc;

	if (dns_reader_init(&r, m, len) != 0)
		FAIL("response of %zu bytes", len);
	if (r.h.id != q->id || !(r.h.flags & DNS_QR) ||
	    DNS_OPCODE(r.h.flags) != DNS_OPCODE(q->flags) || DNS_RCODE(r.h.flags) != (rcode & 0xf))
		FAIL("response header %04x %04x", r.h.id, r.h.flags);
	if (!!(r.h.flags & DNS_TC) != cut)
		FAIL("TC %d, cut %d", !!(r.h.flags & DNS_TC), cut);
	if (r.h.count[DNS_QD] != q->question)
		FAIL("%u questions", r.h.count[DNS_QD]);
	if (q->question) {
		if (dns_next_question(&r, &qu) != 1 || qu.type != q->qtype || qu.qclass != q->qclass ||
		    memcmp(m + qu.name, q->qname, q->name_len) != 0)
			FAIL("the question not copied back");
	}
	while ((rc = dns_next_rr(&r, &rr)) == 1) {
		if (opts)
			FAIL("a record after the OPT");
		if (rr.type == DNS_T_OPT) {
			opt = rr;
			opts++;
		} else {
			seen++;
		}
	}
	if (rc != 0 || r.pos != len)
		FAIL("response does not read back whole (%d, %zu of %zu)", rc, r.pos, len);
	if (opts != q->edns)
		FAIL("%u OPT records, EDNS %d", opts, q->edns);
	if (seen != (cut ? 0 : answers + (answers ? 2 : 0)))
		FAIL("%u records, %u answers, cut %d", seen, answers, cut);
	if (opts) {
		uint32_t want = (uint32_t)(rcode >> 4) << 24 | (q->dnssec_ok ? DNS_EDNS_DO : 0);

		if (m[opt.name] != 0 || opt.ttl != want || opt.rclass != DNS_EDNS_UDP)
			FAIL("OPT record %u %08x", opt.rclass, opt.ttl);
		unsigned most = q->ecs.family == 1 ? 32 : 128;

		if (q->has_ecs && (opt.rdlen < 8 || get16(m + opt.rdata) != DNS_OPT_ECS ||
				   get16(m + opt.rdata + 4) != q->ecs.family ||
				   m[opt.rdata + 6] != q->ecs.source ||
				   m[opt.rdata + 7] != (scope < most ? scope : most)))
			FAIL("Client Subnet not echoed");
		if (!q->has_ecs && opt.rdlen)
			FAIL("options in the OPT");
	}
	if (dns_request_parse(m, len, &back) != DNS_V_DROP)
		FAIL("a response not dropped");
}

/* Writes the response to <q> with the parameters at <p>, checks it. */
static void respond(const struct dns_request *q, enum dns_verdict v, const uint8_t *p)
{
	static uint8_t out[DNS_TCP_MAX], rdata[1024];
	static const uint8_t glue[] = "\2ns\4test";
	struct dns_response resp;
	unsigned rcode = dns_verdict_rcode(v), answers = v == DNS_V_ANSWER ? p[3] & 7 : 0;
	size_t limit;
	int len;

	if (p[0] < 128)
		limit = dns_udp_limit(q, (uint16_t)(DNS_UDP_MAX + p[1] * 8));
	else
		limit = (size_t)(p[0] - 128) * 8 + p[1];
	dns_response_init(&resp, out, sizeof(out), q, DNS_AA, rcode);
	for (unsigned i = 0; i < answers; i++)
		dns_put_rr(&resp.w, DNS_AN, NULL, DNS_HDR_LEN, DNS_T_TXT, DNS_C_IN, 60, rdata,
			   (uint16_t)((p[3] >> 3) * 32 + i));
	if (answers) {
		dns_put_rr(&resp.w, DNS_NS, NULL, DNS_HDR_LEN, DNS_T_NS, DNS_C_IN, 60, glue,
			   sizeof(glue));
		dns_put_rr(&resp.w, DNS_AR, glue, 0, DNS_T_A, DNS_C_IN, 60, "\12\0\0\1", 4);
	}
	len = dns_response_end(&resp, limit, DNS_EDNS_UDP, p[2]);
	if (len < 0) {
		if (len != -ENOSPC || least(q) <= limit)
			FAIL("response: %d with a limit of %zu (least %zu)", len, limit, least(q));
		return;
	}
	if ((size_t)len > limit)
		FAIL("response of %d over the limit %zu", len, limit);
	if (resp.cut && (size_t)len != least(q))
		FAIL("cut to %d, not %zu", len, least(q));
	check_response(out, (size_t)len, q, rcode, answers, resp.cut, p[2]);
}

/* The input as a TCP stream: frames back to back, inside it. */
static void frames(const uint8_t *m, size_t len)
{
	size_t pos = 0;
	const uint8_t *msg;
	size_t mlen;
	int n;

	while ((n = dns_tcp_frame(m + pos, len - pos, 512, &msg, &mlen)) > 0) {
		if (msg != m + pos + DNS_TCP_PREFIX || mlen + DNS_TCP_PREFIX != (size_t)n ||
		    mlen < 1 || mlen > 512 || (size_t)n > len - pos)
			FAIL("frame of %d at %zu", n, pos);
		pos += (size_t)n;
	}
	if (n != 0 && n != -EBADMSG && n != -EMSGSIZE)
		FAIL("frame error %d", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_request q;
	enum dns_verdict v;
	uint8_t *m;

	if (size < PARAMS)
		return 0;
	m = malloc(size - PARAMS ? size - PARAMS : 1);
	if (!m)
		abort();
	memcpy(m, data + PARAMS, size - PARAMS);
	v = dns_request_parse(m, size - PARAMS, &q);
	check_request(&q, v);
	if (v != DNS_V_DROP)
		respond(&q, v, data);
	frames(m, size - PARAMS);
	free(m);
	return 0;
}
