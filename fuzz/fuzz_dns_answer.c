/* fuzz_dns_answer.c - libFuzzer driver for the DNS service's query path
 * (src/dns/answer.c): any bytes as a query, read, classified against a
 * fixed zone and answered, at a client limit taken from the input. Besides
 * not crashing or reading past the input, it checks that:
 * - a response is never longer than the limit, and parses back as a DNS
 *   message with the query's id, QR set, and (when it answers) the
 *   question count 1 and the query's question name;
 * - a response with TC has no records but an OPT;
 * - every rotation start gives an answer of the same length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"
#include "dns/answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static struct dns_zone *zone;
static struct real_server servers[6];

static void setup(void)
{
	static const char *const addrs[] = { "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
					     "[2001:db8::1]:80", "[2001:db8::2]:80", "10.0.0.4:80" };
	struct real_server *p[6];
	bool avail[6] = { true, true, false, true, true, true };
	struct dns_opts o;
	char why[SPEC_ERR_MAX];

	memset(&o, 0, sizeof(o));
	snprintf(o.names, sizeof(o.names), "www.example.test a.b.example.test example.test");
	snprintf(o.zone, sizeof(o.zone), "example.test");
	o.ttl_ms = 30000;
	for (int i = 0; i < 6; i++) {
		addr_parse(addrs[i], false, &servers[i].addr);
		p[i] = &servers[i];
	}
	if (dns_zone_build(&o, p, 6, avail, 0, 1, &zone, why) != 0)
		FAIL("zone: %s", why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65535];
	struct weir_addr client;
	struct dns_ask q;
	size_t limit, n, first_len = 0;
	struct dns_reader r;
	enum dns_verdict v;

	if (!zone)
		setup();
	if (size < 2)
		return 0;
	/* a client takes 512 bytes at least (RFC 1035, RFC 6891) */
	limit = 512 + (size_t)(data[0] << 8 | data[1]) % (65535 - 512);
	data += 2;
	size -= 2;
	addr_parse("192.0.2.7:5353", false, &client);
	v = dns_request_parse(data, size, &q.req);
	if (v == DNS_V_DROP)
		return 0;
	if (v != DNS_V_ANSWER) {
		n = dns_respond_error(&q.req, dns_verdict_rcode(v), out, sizeof(out), limit);
		if (n < 12 || out[0] != data[0] || out[1] != data[1] || !(out[2] & 0x80))
			FAIL("error response");
		return 0;
	}
	dns_classify(zone, &q, &client);
	for (unsigned first = 0; first < (q.set ? q.set->n : 1); first++) {
		n = dns_respond(zone, &q, first, out, sizeof(out), limit);
		if (!n)
			FAIL("no response to a query");
		if (n > limit && n > 12 + q.req.name_len + 4 + (q.req.edns ? 11u + 8 + 16 : 0))
			FAIL("%zu bytes over a limit of %zu", n, limit);
		if (first == 0)
			first_len = n;
		else if (n != first_len)
			FAIL("rotation changed the length");
		if (dns_reader_init(&r, out, n) != 0 || r.h.id != q.req.id || !(r.h.flags & DNS_QR) ||
		    r.h.count[DNS_QD] != 1)
			FAIL("not a response to the query");
		if (!dns_name_is(out, n, 12, q.req.qname))
			FAIL("question changed");
		if ((r.h.flags & DNS_TC) && (r.h.count[DNS_AN] || r.h.count[DNS_NS]))
			FAIL("TC with records");
		{
			struct dns_rr rr;
			int rc;

			while ((rc = dns_next_rr(&r, &rr)) == 1)
				;
			if (rc < 0)
				FAIL("the response does not parse");
		}
	}
	return 0;
}
