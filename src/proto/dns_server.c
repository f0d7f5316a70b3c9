/* dns_server.c - the server side of the DNS wire format (see dns.h): a
 * query read with a verdict, a response cut to the client's limit, TCP
 * framing. */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "proto/dns.h"
#include "proto/dns_bytes.h"

#define OPT_FIXED 11    /* an OPT record with no option: root name, type... rdlength */
#define ECS_FIXED 8     /* an ECS option with no address: code, length, family, prefixes */

/* --- reading a query ---------------------------------------------------------- */

/* The question at <r>'s place into <q>; -EBADMSG if it is malformed or
 * compressed: nothing but the header comes before it, and no name lies
 * in a header. */
static int read_question(struct dns_reader *r, struct dns_request *q)
{
	struct dns_question qu;
	int n;

	if (dns_next_question(r, &qu) != 1)
		return -EBADMSG;
	n = dns_name_read(r->msg, r->len, qu.name, q->qname, NULL);
	if (n < 0)
		return -EBADMSG;
	for (size_t i = qu.name; r->msg[i]; i += 1 + (size_t)r->msg[i])
		if ((r->msg[i] & 0xc0) == 0xc0)
			return -EBADMSG;
	for (int i = 0; i < n; i++)
		q->lname[i] = lower(q->qname[i]);
	q->name_len = (uint16_t)n;
	q->qtype = qu.type;
	q->qclass = qu.qclass;
	q->question = true;
	return 0;
}

/* The Client Subnet option of <n> bytes at <p> into <e> (RFC 7871
 * section 6); -EBADMSG if it is malformed. */
static int read_ecs(const uint8_t *p, uint16_t n, struct dns_ecs *e)
{
	unsigned max, bytes;

	if (n < 4)
		return -EBADMSG;
	e->family = get16(p);
	e->source = p[2];
	e->scope = p[3];
	max = e->family == 1 ? 32 : e->family == 2 ? 128 : 0;
	/* an unknown family is a wrongly formatted option (7.2.1); the scope
	 * MUST be 0 in a query (6) */
	if (!max || e->source > max || e->scope)
		return -EBADMSG;
	/* the address is cut to the source prefix: exactly the bytes it
	 * needs, zero bits after it; anything else SHOULD be FORMERR (6) */
	bytes = (e->source + 7u) / 8u;
	if (n - 4u != bytes)
		return -EBADMSG;
	if (e->source % 8 && (p[4 + bytes - 1] & (0xffu >> (e->source % 8))))
		return -EBADMSG;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, p + 4, bytes);
	return 0;
}

/* The options in the OPT record's <n> bytes of rdata at <p> (RFC 6891
 * 6.1.2): each a code, a length and that many bytes. Options weir does
 * not know are ignored, as 6.1.2 says; a Client Subnet goes into <q>.
 * -EBADMSG: an option past the rdata, a bad or second Client Subnet
 * (RFC 7871 says nothing of two: which one would the answer be for?). */
static int read_options(const uint8_t *p, uint16_t n, struct dns_request *q)
{
	size_t pos = 0;

	while (pos < n) {
		uint16_t code, olen;

		if (n - pos < 4)
			return -EBADMSG;
		code = get16(p + pos);
		olen = get16(p + pos + 2);
		pos += 4;
		if (olen > n - pos)
			return -EBADMSG;
		if (code == DNS_OPT_ECS) {
			if (q->has_ecs || read_ecs(p + pos, olen, &q->ecs) < 0)
				return -EBADMSG;
			q->has_ecs = true;
		}
		pos += olen;
	}
	return 0;
}

/* The additional section after the question: at most one OPT record,
 * with the root for its name (RFC 6891 6.1.1, 6.1.2); other records are
 * read (they must be whole) and left to the caller's indifference. Then
 * nothing may follow. Sets <opt> to the OPT record (rdata 0: none). */
static int read_additional(struct dns_reader *r, struct dns_rr *opt)
{
	struct dns_rr rr;
	int rc;

	opt->rdata = 0;
	while ((rc = dns_next_rr(r, &rr)) == 1) {
		if (rr.type != DNS_T_OPT)
			continue;
		if (opt->rdata || dns_name_read(r->msg, r->len, rr.name, NULL, NULL) != 1)
			return -EBADMSG;
		*opt = rr;
	}
	/* the header's counts must account for every byte (RFC 1035 4.1) */
	return rc < 0 || r->pos != r->len ? -EBADMSG : 0;
}

/* The verdicts, in the order they are given (a message with several
 * faults gets the first):
 * - DROP: fewer bytes than a header: there is not even an id to answer.
 * - DROP: QR set: a response, and a response is never answered (RFC 1035
 *   4.1.1 has QR tell them apart; answering one invites loops between
 *   servers and reflection).
 * - NOTIMP: an opcode other than QUERY (RFC 1035 4.1.1: "the name server
 *   does not support the requested kind of query"); the rest of such a
 *   message is not read, its format being the opcode's.
 * - FORMERR (RFC 1035 4.1.1: "unable to interpret the query"):
 *   - QDCOUNT other than 1 (RFC 9619: a QUERY has one question);
 *   - ANCOUNT or NSCOUNT set: a query carries no answer or authority
 *     records (RFC 1035 4.1.1 and 7.3);
 *   - the question or a record truncated or malformed: a label of type
 *     01 or 10, a name over 255 bytes, a compression pointer that does
 *     not go back, or into the header (RFC 1035 4.1.4: it points to a
 *     prior occurrence of a name), any pointer in the question (only the
 *     header is before it);
 *   - bytes after the last record the counts announce (RFC 1035 4.1: a
 *     message is its header and four sections);
 *   - a second OPT record (RFC 6891 6.1.1: a FORMERR MUST be returned),
 *     an OPT record with a name other than the root (6.1.2), or in the
 *     answer or authority section (6.1.1; caught by the counts above);
 * - BADVERS: an EDNS version over 0 (RFC 6891 6.1.3); its options are not
 *   read, as their format is that version's.
 * - FORMERR: an option running past the OPT's rdata (6.1.2), a Client
 *   Subnet that is malformed (RFC 7871 6 and 7.2.1: unknown family, a
 *   prefix longer than the address, a scope other than 0, address bytes
 *   other than the prefix needs, bits set past the prefix), or a second
 *   one.
 * - ANSWER: everything else, whatever its type, class, RD, CD or Z. */
enum dns_verdict dns_request_parse(const void *msg, size_t len, struct dns_request *q)
{
	struct dns_reader r;
	struct dns_rr opt;

	q->question = q->edns = q->has_ecs = q->dnssec_ok = false;
	q->id = q->flags = q->qtype = q->qclass = q->name_len = 0;
	q->edns_version = 0;
	q->udp_size = DNS_UDP_MAX;
	if (dns_reader_init(&r, msg, len) < 0)
		return DNS_V_DROP;
	q->id = r.h.id;
	q->flags = r.h.flags;
	if (q->flags & DNS_QR)
		return DNS_V_DROP;
	if (DNS_OPCODE(q->flags) != 0)
		return DNS_V_NOTIMP;
	if (r.h.count[DNS_QD] != 1 || r.h.count[DNS_AN] || r.h.count[DNS_NS])
		return DNS_V_FORMERR;
	if (read_question(&r, q) < 0 || read_additional(&r, &opt) < 0)
		return DNS_V_FORMERR;
	if (!opt.rdata)
		return DNS_V_ANSWER;
	q->edns = true;
	q->edns_version = (uint8_t)(opt.ttl >> 16);
	q->dnssec_ok = opt.ttl & DNS_EDNS_DO;
	/* a payload size below 512 is taken as 512 (RFC 6891 6.2.3) */
	q->udp_size = MAX(opt.rclass, DNS_UDP_MAX);
	if (q->edns_version > 0)
		return DNS_V_BADVERS;
	if (read_options(r.msg + opt.rdata, opt.rdlen, q) < 0) {
		q->has_ecs = false;
		return DNS_V_FORMERR;
	}
	return DNS_V_ANSWER;
}

unsigned dns_verdict_rcode(enum dns_verdict v)
{
	switch (v) {
	case DNS_V_FORMERR:
		return DNS_R_FORMERR;
	case DNS_V_NOTIMP:
		return DNS_R_NOTIMP;
	case DNS_V_BADVERS:
		return DNS_R_BADVERS;
	default:
		return DNS_R_NOERROR;
	}
}

size_t dns_udp_limit(const struct dns_request *q, uint16_t ours)
{
	if (!q->edns)
		return DNS_UDP_MAX;
	return MAX(MIN(q->udp_size, ours), DNS_UDP_MAX);
}

/* --- writing a response ------------------------------------------------------- */

void dns_response_init(struct dns_response *r, void *buf, size_t size,
		       const struct dns_request *q, uint16_t flags, unsigned rcode)
{
	uint16_t copied = DNS_QR | (q->flags & (0x7800 | DNS_RD | DNS_CD));
	struct dns_header h = { .id = q->id };

	h.flags = copied | (flags & ~(0x7800 | 0xf)) | (rcode & 0xf);
	dns_writer_init(&r->w, buf, size, &h);
	if (q->question)
		dns_put_question(&r->w, q->qname, q->qtype, q->qclass);
	dns_writer_mark(&r->w, &r->question);
	r->q = q;
	r->rcode = rcode;
	r->cut = false;
}

/* The OPT record's length for <q>. */
static size_t opt_len(const struct dns_request *q)
{
	if (!q->edns)
		return 0;
	return OPT_FIXED + (q->has_ecs ? ECS_FIXED + (q->ecs.source + 7u) / 8u : 0);
}

/* Appends the OPT record (see dns_response_end()). */
static void put_opt(struct dns_response *r, uint16_t udp_size, uint8_t scope)
{
	const struct dns_request *q = r->q;
	uint8_t rdata[ECS_FIXED + 16];
	uint16_t n = 0;
	uint32_t ttl = (uint32_t)(r->rcode >> 4 & 0xff) << 24 | (q->dnssec_ok ? DNS_EDNS_DO : 0);

	if (q->has_ecs) {
		uint16_t bytes = (uint16_t)((q->ecs.source + 7u) / 8u);

		set16(rdata, DNS_OPT_ECS);
		set16(rdata + 2, (uint16_t)(4 + bytes));
		set16(rdata + 4, q->ecs.family);
		rdata[6] = q->ecs.source;
		rdata[7] = MIN(scope, q->ecs.family == 1 ? 32 : 128);
		memcpy(rdata + 8, q->ecs.addr, bytes);
		n = (uint16_t)(ECS_FIXED + bytes);
	}
	dns_put_rr(&r->w, DNS_AR, (const uint8_t *)"", 0, DNS_T_OPT, udp_size, ttl, rdata, n);
}

int dns_response_end(struct dns_response *r, size_t limit, uint16_t udp_size, uint8_t scope)
{
	struct dns_writer *w = &r->w;
	size_t cap = MIN(limit, w->size);

	if (w->err == -EINVAL || (r->rcode > 15 && !r->q->edns))
		return -EINVAL;
	if (w->err || w->len + opt_len(r->q) > cap) {
		dns_writer_rewind(w, &r->question);
		if (w->err)
			return w->err;
		dns_set_flags(w, get16(w->buf + 2) | DNS_TC);
		r->cut = true;
	}
	if (r->q->edns)
		put_opt(r, udp_size, scope);
	if (!w->err && w->len > cap)
		return -ENOSPC;
	return dns_writer_end(w);
}

int dns_put_records(struct dns_writer *w, enum dns_section sect, const void *rrs, size_t len,
		    uint16_t n)
{
	if (w->err)
		return w->err;
	if (sect == DNS_QD || sect < w->sect || n > UINT16_MAX - w->count[sect] || !n != !len)
		w->err = -EINVAL;
	else if (len > w->size - w->len)
		w->err = -ENOSPC;
	if (w->err || !n)
		return w->err;   /* nothing to add */
	memcpy(w->buf + w->len, rrs, len);
	w->len += len;
	w->sect = (uint8_t)sect;
	w->count[sect] = (uint16_t)(w->count[sect] + n);
	set16(w->buf + 4 + 2 * sect, w->count[sect]);
	return 0;
}

/* --- TCP framing -------------------------------------------------------------- */

int dns_tcp_frame(const void *buf, size_t len, size_t max, const uint8_t **msg, size_t *mlen)
{
	const uint8_t *p = buf;
	size_t n;

	if (len < DNS_TCP_PREFIX)
		return 0;
	n = get16(p);
	if (!n)
		return -EBADMSG;
	if (n > max)
		return -EMSGSIZE;
	if (len - DNS_TCP_PREFIX < n)
		return 0;
	*msg = p + DNS_TCP_PREFIX;
	*mlen = n;
	return (int)(DNS_TCP_PREFIX + n);
}

int dns_tcp_frame_put(void *buf, size_t mlen)
{
	if (mlen > DNS_TCP_MAX)
		return -EMSGSIZE;
	set16(buf, (uint16_t)mlen);
	return (int)(DNS_TCP_PREFIX + mlen);
}
