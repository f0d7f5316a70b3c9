/* fuzz_dns.c - libFuzzer driver for proto/dns.c's reader (any bytes, as a
 * DNS message from the network: untrusted) and, on what it reads, its
 * writer; then the dns check's reading of the same bytes as a reply
 * (health/check_dns.c). Besides not crashing or reading past the <size>
 * bytes (a copy of exactly that length), it checks that:
 * - every question and record read lies inside the message, in section
 *   order, no more of each than the header claims;
 * - every name read is well formed (labels of at most 63 bytes, 255 in
 *   all), is dns_name_is() of itself at its offset, and reads back the same
 *   from its text form (dns_name_to_text, dns_name_from_text);
 * - the entries read, written again uncompressed by the writer, read back
 *   the same (types, classes, TTLs, rdata and names);
 * - the check's verdict is PASS, FAIL or "wait" (HC_MORE), with words. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/check_ops.h"
#include "proto/dns.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define ENTRIES_MAX 64   /* entries compared after the rewrite */

struct entry {
	uint8_t sect;
	uint8_t name[DNS_NAME_MAX];
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	size_t rdata;
};

/* The name at <off>: read, checked, expanded into <out>. */
static void check_name(const uint8_t *m, size_t len, size_t off, uint8_t *out)
{
	char text[DNS_TEXT_MAX];
	uint8_t again[DNS_NAME_MAX];
	int n = dns_name_read(m, len, off, out, NULL), k;
	size_t pos = 0;

	if (n < 1 || n > DNS_NAME_MAX)
		FAIL("name at %zu: length %d", off, n);
	while (out[pos]) {
		if (out[pos] > DNS_LABEL_MAX)
			FAIL("name at %zu: a label of %u", off, out[pos]);
		pos += 1 + (size_t)out[pos];
		if (pos >= (size_t)n)
			FAIL("name at %zu: runs past its length %d", off, n);
	}
	if (pos + 1 != (size_t)n || dns_name_len(out) != (size_t)n)
		FAIL("name at %zu: length %d, labels say %zu", off, n, pos + 1);
	if (!dns_name_is(m, len, off, out))
		FAIL("name at %zu is not itself", off);
	if ((k = dns_name_to_text(out, text, sizeof(text))) < 0)
		FAIL("name at %zu: no text (%d)", off, k);
	if (dns_name_from_text(text, again) != n || !dns_name_equal(again, out) ||
	    memcmp(again, out, (size_t)n) != 0)
		FAIL("name at %zu: text '%s' reads back otherwise", off, text);
}

/* Every question and record of <m>; returns how many were read whole, the
 * first ENTRIES_MAX of them into <e>. */
static size_t walk(const uint8_t *m, size_t len, struct entry *e, bool *whole)
{
	struct dns_reader r;
	struct dns_question q;
	struct dns_rr rr;
	unsigned seen[DNS_SECTIONS] = { 0 };
	size_t n = 0;
	uint8_t last = DNS_QD;
	int rc;

	*whole = false;
	if (dns_reader_init(&r, m, len) != 0) {
		if (len >= DNS_HDR_LEN)
			FAIL("a header refused");
		return 0;
	}
	while ((rc = dns_next_question(&r, &q)) == 1) {
		if (q.name < DNS_HDR_LEN || q.name >= len)
			FAIL("question name at %zu", q.name);
		seen[DNS_QD]++;
		if (n < ENTRIES_MAX) {
			e[n] = (struct entry){ .sect = DNS_QD, .type = q.type, .rclass = q.qclass };
			check_name(m, len, q.name, e[n].name);
		}
		n++;
	}
	while (rc == 0 && (rc = dns_next_rr(&r, &rr)) == 1) {
		if (rr.sect < last || rr.sect >= DNS_SECTIONS || rr.sect == DNS_QD)
			FAIL("section %u after %u", rr.sect, last);
		last = rr.sect;
		if (rr.rdata > len || rr.rdlen > len - rr.rdata || rr.name >= rr.rdata)
			FAIL("record at %zu: rdata %zu+%u of %zu", rr.name, rr.rdata, rr.rdlen, len);
		seen[rr.sect]++;
		if (n < ENTRIES_MAX) {
			e[n] = (struct entry){ .sect = rr.sect, .type = rr.type, .rclass = rr.rclass,
					       .ttl = rr.ttl, .rdlen = rr.rdlen, .rdata = rr.rdata };
			check_name(m, len, rr.name, e[n].name);
		}
		n++;
	}
	for (int s = 0; s < DNS_SECTIONS; s++)
		if (seen[s] > r.h.count[s])
			FAIL("section %d: %u read, %u claimed", s, seen[s], r.h.count[s]);
	*whole = rc == 0;
	return n;
}

/* The entries read, written again, read back the same. */
static void rewrite(const uint8_t *m, size_t len, const struct entry *e, size_t n)
{
	static uint8_t out[65536 + 4096];
	struct dns_header h = { .id = (uint16_t)(m[0] << 8 | m[1]),
				.flags = (uint16_t)(m[2] << 8 | m[3]) };
	struct dns_writer w;
	struct entry back[ENTRIES_MAX];
	bool whole;
	int wlen;

	dns_writer_init(&w, out, sizeof(out), &h);
	for (size_t i = 0; i < n; i++) {
		if (e[i].sect == DNS_QD)
			dns_put_question(&w, e[i].name, e[i].type, e[i].rclass);
		else
			dns_put_rr(&w, e[i].sect, e[i].name, 0, e[i].type, e[i].rclass, e[i].ttl,
				   m + e[i].rdata, e[i].rdlen);
	}
	if ((wlen = dns_writer_end(&w)) < 0)
		FAIL("rewriting %zu entries: %d", n, wlen);
	if (walk(out, (size_t)wlen, back, &whole) != n || !whole)
		FAIL("rewritten: not %zu entries", n);
	for (size_t i = 0; i < n; i++)
		if (back[i].sect != e[i].sect || back[i].type != e[i].type ||
		    back[i].rclass != e[i].rclass || back[i].ttl != e[i].ttl ||
		    back[i].rdlen != e[i].rdlen || !dns_name_equal(back[i].name, e[i].name) ||
		    memcmp(out + back[i].rdata, m + e[i].rdata, e[i].rdlen) != 0)
			FAIL("entry %zu rewritten otherwise", i);
}

/* The bytes as the dns check's reply, for a check that asked for the
 * name of the message's first question (or www.example.test). */
static void as_reply(const uint8_t *m, size_t len)
{
	static struct hc_conf conf;
	static bool ready;
	char buf[HC_ANSWER_MAX + 1], what[HC_WHAT_MAX];
	uint16_t state[8] = { 0 };
	size_t n = len < HC_ANSWER_MAX ? len : HC_ANSWER_MAX;
	int r;

	if (!ready) {
		char *w[] = { "dns", "name", "www.example.test", "answer", "10.0.0.1" };
		char err[SPEC_ERR_MAX];
		struct check_spec c;

		if (check_spec_parse(w, 5, &c, err) != 0)
			FAIL("check words: %s", err);
		hc_active_conf(&conf, &c);
		ready = true;
	}
	if (hc_dns.state_size > sizeof(state))
		FAIL("the dns check's state grew");
	/* the id the check would have given its query: the reply's */
	memcpy(buf, m, n);
	buf[n] = '\0';
	if (hc_dns.prepare && n >= 2)
		hc_dns.prepare(state, &conf, buf, 2, (uint64_t)(m[0] << 8 | m[1]));
	memcpy(buf, m, n);
	what[0] = '\0';
	r = hc_dns.answer(state, &conf, buf, &n, false, what);
	if (r != CHECK_PASS && r != CHECK_FAIL && r != HC_MORE)
		FAIL("verdict %d", r);
	if (r != HC_MORE && !what[0])
		FAIL("a verdict without words");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	static struct entry e[ENTRIES_MAX];
	uint8_t *m = malloc(size ? size : 1);
	bool whole;
	size_t n;

	if (!m)
		abort();
	if (!registered) {
		weir_register();
		registered = true;
	}
	memcpy(m, data, size);
	n = walk(m, size, e, &whole);
	if (whole && n <= ENTRIES_MAX)
		rewrite(m, size, e, n);
	as_reply(m, size);
	free(m);
	return 0;
}
