/* answer.c - a DNS service's zone and its answers; see answer.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"
#include "dns/answer.h"

#define T_HINFO 13

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* --- the zone ------------------------------------------------------------------ */

static void lower(uint8_t *name)
{
	for (size_t i = 0; name[i]; i += 1 + name[i])
		for (size_t k = 1; k <= name[i]; k++)
			name[i + k] = (uint8_t)tolower(name[i + k]);
}

/* Whether <name> is <apex> or below it (wire forms, <name> lowercase). */
static bool within(const uint8_t *name, size_t len, const uint8_t *apex, size_t alen)
{
	size_t i = 0;

	if (len < alen)
		return false;
	/* walk labels until what is left is as long as the apex */
	while (len - i > alen)
		i += 1 + name[i];
	return len - i == alen && memcmp(name + i, apex, alen) == 0;
}

static int rrset_add(struct dns_rrset *s, const struct real_server *rs, uint16_t type,
		     const void *addr, uint16_t alen, uint32_t ttl)
{
	uint8_t *rr;

	if (s->n == DNS_RRSET_MAX)
		return 0; /* more than one answer holds: the first ones */
	s->len = (uint16_t)(12 + alen);
	rr = realloc(s->rr, (size_t)(s->n + 1) * s->len);
	if (!rr)
		return -ENOMEM;
	s->rr = rr;
	rr += (size_t)s->n * s->len;
	put16(rr, 0xc000 | DNS_HDR_LEN);   /* the question's name */
	put16(rr + 2, type);
	put16(rr + 4, DNS_C_IN);
	put32(rr + 6, ttl);
	put16(rr + 10, alen);
	memcpy(rr + 12, addr, alen);
	{
		const struct real_server **a = realloc(s->rs, (size_t)(s->n + 1) * sizeof(*a));

		if (!a)
			return -ENOMEM;
		s->rs = a;
		a[s->n++] = rs;
	}
	return 0;
}

/* The records of the servers of one family: the available ones, or all of
 * them when none is (an answer that may work beats none: gdnsd does the
 * same). */
static int build_set(struct dns_rrset *s, bool *all_down, int family,
		     struct real_server *const *servers, size_t n, const bool *avail,
		     uint32_t ttl)
{
	size_t up = 0;

	for (size_t i = 0; i < n; i++)
		up += addr_family(&servers[i]->addr) == family && avail[i];
	*all_down = up == 0;
	for (size_t i = 0; i < n; i++) {
		const struct weir_addr *a = &servers[i]->addr;
		int rc;

		if (addr_family(a) != family || (up && !avail[i]))
			continue;
		rc = family == AF_INET ?
			rrset_add(s, servers[i], DNS_T_A, &a->u.in.sin_addr, 4, ttl) :
			rrset_add(s, servers[i], DNS_T_AAAA, &a->u.in6.sin6_addr, 16, ttl);
		if (rc)
			return rc;
	}
	return 0;
}

static int text_name(const char *text, uint8_t *out, char *why)
{
	if (dns_name_from_text(text, out) < 0) {
		snprintf(why, SPEC_ERR_MAX, "'%s' is not a DNS name", text);
		return -EINVAL;
	}
	lower(out);
	return 0;
}

/* The SOA rdata: MNAME (the first NS), RNAME hostmaster.ZONE, serial,
 * refresh, retry, expire, minimum (the negative TTL: the answers' TTL). */
static void build_soa(struct dns_zone *z)
{
	uint8_t *p = z->soa;
	size_t ml = dns_name_len(z->ns[0]);
	static const uint8_t host[] = "\012hostmaster";

	memcpy(p, z->ns[0], ml);
	p += ml;
	memcpy(p, host, 11);
	memcpy(p + 11, z->apex, z->apex_len);
	p += 11 + z->apex_len;
	put32(p, z->serial);
	put32(p + 4, 3600);
	put32(p + 8, 600);
	put32(p + 12, 604800);
	put32(p + 16, z->ttl);
	z->soa_len = (size_t)(p + 20 - z->soa);
}

int dns_zone_build(const struct dns_opts *o, struct real_server *const *servers, size_t n,
		   const bool *available, unsigned gen, uint32_t serial, struct dns_zone **out,
		   char *why)
{
	struct dns_zone *z = calloc(1, sizeof(*z));
	char word[DNS_OPT_NAMES];
	size_t count = 0;
	int rc = -ENOMEM;

	if (!z)
		goto fail;
	z->gen = gen;
	z->serial = serial;
	z->ttl = o->ttl_ms / 1000;
	z->answers = o->answers;
	for (const char *p = o->names; *p; p += strcspn(p, " "), p += *p == ' ')
		count++;
	if (!count) {
		snprintf(why, SPEC_ERR_MAX, "a DNS service needs a name (name www.example.test)");
		rc = -EINVAL;
		goto fail;
	}
	z->names = calloc(count, sizeof(*z->names));
	if (!z->names)
		goto fail;
	for (const char *p = o->names; *p;) {
		size_t l = strcspn(p, " ");

		memcpy(word, p, l);
		word[l] = '\0';
		if ((rc = text_name(word, z->names[z->nnames], why)) != 0)
			goto fail;
		z->nnames++;
		p += l + (p[l] == ' ');
	}
	/* the apex: given, or the first name's parent (or the name itself
	 * when it has a single label) */
	if (o->zone[0]) {
		if ((rc = text_name(o->zone, z->apex, why)) != 0)
			goto fail;
	} else {
		const uint8_t *first = z->names[0];
		const uint8_t *parent = first[1 + first[0]] ? first + 1 + first[0] : first;

		memcpy(z->apex, parent, dns_name_len(parent));
	}
	z->apex_len = dns_name_len(z->apex);
	for (size_t i = 0; i < z->nnames; i++)
		if (!within(z->names[i], dns_name_len(z->names[i]), z->apex, z->apex_len)) {
			dns_name_to_text(z->names[i], word, sizeof(word));
			snprintf(why, SPEC_ERR_MAX, "name %s is outside zone %s", word, o->zone);
			rc = -EINVAL;
			goto fail;
		}
	if (o->ns[0]) {
		for (const char *p = o->ns; *p && z->nns < 8;) {
			size_t l = strcspn(p, " ");

			memcpy(word, p, l);
			word[l] = '\0';
			if ((rc = text_name(word, z->ns[z->nns], why)) != 0)
				goto fail;
			z->nns++;
			p += l + (p[l] == ' ');
		}
	} else {
		/* ns.ZONE */
		z->ns[0][0] = 2;
		memcpy(z->ns[0] + 1, "ns", 2);
		memcpy(z->ns[0] + 3, z->apex, z->apex_len);
		z->nns = 1;
	}
	if (dns_name_len(z->ns[0]) + 11 + z->apex_len + 20 > sizeof(z->soa)) {
		snprintf(why, SPEC_ERR_MAX, "names too long for the SOA record");
		rc = -EINVAL;
		goto fail;
	}
	build_soa(z);
	if ((rc = build_set(&z->a, &z->a_all_down, AF_INET, servers, n, available, z->ttl)) ||
	    (rc = build_set(&z->aaaa, &z->aaaa_all_down, AF_INET6, servers, n, available, z->ttl)))
		goto fail;
	*out = z;
	return 0;

fail:
	if (rc == -ENOMEM)
		snprintf(why, SPEC_ERR_MAX, "Memory allocation problem");
	dns_zone_free(z);
	return rc;
}

void dns_zone_set_serial(struct dns_zone *z, uint32_t serial)
{
	z->serial = serial;
	build_soa(z);
}

void dns_zone_free(struct dns_zone *z)
{
	if (!z)
		return;
	free(z->a.rr);
	free(z->a.rs);
	free(z->aaaa.rr);
	free(z->aaaa.rs);
	free(z->names);
	free(z);
}

static bool same_set(const struct dns_rrset *a, const struct dns_rrset *b)
{
	return a->n == b->n && (!a->n || memcmp(a->rr, b->rr, (size_t)a->n * a->len) == 0);
}

bool dns_zone_same_answers(const struct dns_zone *a, const struct dns_zone *b)
{
	return same_set(&a->a, &b->a) && same_set(&a->aaaa, &b->aaaa) && a->ttl == b->ttl &&
	       a->nnames == b->nnames &&
	       memcmp(a->names, b->names, a->nnames * sizeof(*a->names)) == 0 &&
	       a->apex_len == b->apex_len && memcmp(a->apex, b->apex, a->apex_len) == 0;
}

int dns_rrset_find(const struct dns_rrset *set, const struct real_server *rs)
{
	for (int i = 0; i < set->n; i++)
		if (set->rs[i] == rs)
			return i;
	return -1;
}

/* --- a query --------------------------------------------------------------------- */

/* RFC 1035 4.1.1; RFC 6891 (EDNS) for the OPT record. */
enum dns_verdict dns_read_query(const uint8_t *msg, size_t len, struct dns_ask *q)
{
	struct dns_reader r;
	struct dns_question qu;
	struct dns_rr rr;
	int rc, n;

	memset(q, 0, sizeof(*q));
	if (dns_reader_init(&r, msg, len) != 0)
		return DNS_V_DROP;
	q->id = r.h.id;
	q->flags = r.h.flags;
	if (r.h.flags & DNS_QR)
		return DNS_V_DROP;            /* a response: never answered */
	if (DNS_OPCODE(r.h.flags) != 0)
		return DNS_V_NOTIMP;
	if (r.h.count[DNS_QD] != 1 || r.h.count[DNS_AN] || r.h.count[DNS_NS])
		return DNS_V_FORMERR;
	if (dns_next_question(&r, &qu) != 1)
		return DNS_V_FORMERR;
	n = dns_name_read(msg, len, qu.name, q->qname, NULL);
	if (n < 0)
		return DNS_V_FORMERR;
	q->qname_len = (size_t)n;
	q->qtype = qu.type;
	q->qclass = qu.qclass;
	q->udp_size = DNS_UDP_MAX;
	while ((rc = dns_next_rr(&r, &rr)) == 1) {
		if (rr.type != DNS_T_OPT)
			continue;
		if (q->edns || msg[rr.name] != 0)
			return DNS_V_FORMERR; /* two OPT, or not at the root */
		q->edns = true;
		q->udp_size = rr.rclass < DNS_UDP_MAX ? DNS_UDP_MAX :
			rr.rclass > DNS_EDNS_SIZE ? DNS_EDNS_SIZE : rr.rclass;
	}
	if (rc < 0 || r.pos != len)
		return DNS_V_FORMERR;
	return DNS_V_ANSWER;
}

static bool is_name(const struct dns_zone *z, const uint8_t *name)
{
	for (size_t i = 0; i < z->nnames; i++)
		if (dns_name_equal(z->names[i], name))
			return true;
	return false;
}

/* An empty non-terminal: a name above one of the zone's names (it exists,
 * with no records of its own: NODATA, not NXDOMAIN; RFC 8020). */
static bool is_parent(const struct dns_zone *z, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < z->nnames; i++) {
		uint8_t low[DNS_NAME_MAX];

		memcpy(low, name, len);
		lower(low);
		if (within(z->names[i], dns_name_len(z->names[i]), low, len))
			return true;
	}
	return false;
}

void dns_classify(const struct dns_zone *z, struct dns_ask *q)
{
	uint8_t low[DNS_NAME_MAX];

	q->set = NULL;
	memcpy(low, q->qname, q->qname_len);
	lower(low);
	if ((q->qclass != DNS_C_IN && q->qclass != DNS_T_ANY) ||
	    !within(low, q->qname_len, z->apex, z->apex_len)) {
		q->rcode = DNS_R_REFUSED;     /* not ours: no recursion */
		return;
	}
	q->rcode = DNS_R_NOERROR;
	if (is_name(z, low)) {
		if (q->qtype == DNS_T_A)
			q->set = &z->a;
		else if (q->qtype == DNS_T_AAAA)
			q->set = &z->aaaa;
		if (q->set && !q->set->n)
			q->set = NULL;        /* NODATA */
		return;
	}
	if (q->qname_len == z->apex_len || is_parent(z, low, q->qname_len))
		return;                       /* the apex, or an empty non-terminal */
	q->rcode = DNS_R_NXDOMAIN;
}

/* The header of a response to <q>. */
static void put_header(uint8_t *out, uint16_t id, uint16_t qflags, bool aa, int rcode)
{
	uint16_t flags = DNS_QR | (qflags & DNS_RD) | (aa ? DNS_AA : 0) | (uint16_t)rcode;

	put16(out, id);
	put16(out + 2, flags);
	memset(out + 4, 0, 8);
}

static size_t put_question(uint8_t *p, const struct dns_ask *q)
{
	memcpy(p, q->qname, q->qname_len);
	put16(p + q->qname_len, q->qtype);
	put16(p + q->qname_len + 2, q->qclass);
	return q->qname_len + 4;
}

/* A record whose owner is the apex, a pointer into the question's name
 * (a query in the zone always ends with it). */
static size_t put_apex_rr(uint8_t *p, const struct dns_zone *z, const struct dns_ask *q,
			  uint16_t type, const void *rdata, size_t rdlen)
{
	put16(p, (uint16_t)(0xc000 | (DNS_HDR_LEN + q->qname_len - z->apex_len)));
	put16(p + 2, type);
	put16(p + 4, DNS_C_IN);
	put32(p + 6, z->ttl);
	put16(p + 10, (uint16_t)rdlen);
	memcpy(p + 12, rdata, rdlen);
	return 12 + rdlen;
}

static size_t put_opt(uint8_t *p)
{
	p[0] = 0;                         /* the root */
	put16(p + 1, DNS_T_OPT);
	put16(p + 3, DNS_EDNS_SIZE);
	put32(p + 5, 0);
	put16(p + 9, 0);
	return 11;
}

size_t dns_respond(const struct dns_zone *z, const struct dns_ask *q, unsigned first,
		   uint8_t *out, size_t size)
{
	/* the largest response: header, question, 64 AAAA or 8 NS, SOA, OPT */
	uint8_t buf[DNS_HDR_LEN + DNS_NAME_MAX + 4 + DNS_RRSET_MAX * 28 + 8 * (12 + DNS_NAME_MAX) +
		    12 + sizeof(z->soa) + 11];
	uint16_t an = 0, ns = 0;
	size_t len;
	bool apex = q->rcode != DNS_R_REFUSED && q->qname_len == z->apex_len;

	put_header(buf, q->id, q->flags, q->rcode != DNS_R_REFUSED, q->rcode);
	len = DNS_HDR_LEN + put_question(buf + DNS_HDR_LEN, q);
	put16(buf + 4, 1);
	if (q->set) {
		const struct dns_rrset *s = q->set;
		unsigned k = z->answers && z->answers < s->n ? z->answers : s->n;

		for (unsigned i = 0; i < k; i++) {
			memcpy(buf + len, s->rr + (size_t)((first + i) % s->n) * s->len, s->len);
			len += s->len;
		}
		an = (uint16_t)k;
	} else if (q->rcode == DNS_R_NOERROR && q->qtype == DNS_T_ANY) {
		/* RFC 8482: a small answer instead of everything */
		static const uint8_t hinfo[] = "\007RFC8482\000";

		put16(buf + len, 0xc000 | DNS_HDR_LEN);
		put16(buf + len + 2, T_HINFO);
		put16(buf + len + 4, DNS_C_IN);
		put32(buf + len + 6, z->ttl);
		put16(buf + len + 10, 9);
		memcpy(buf + len + 12, hinfo, 9);
		len += 21;
		an = 1;
	} else if (apex && q->qtype == DNS_T_SOA) {
		len += put_apex_rr(buf + len, z, q, DNS_T_SOA, z->soa, z->soa_len);
		an = 1;
	} else if (apex && q->qtype == DNS_T_NS) {
		for (size_t i = 0; i < z->nns; i++)
			len += put_apex_rr(buf + len, z, q, DNS_T_NS, z->ns[i],
					   dns_name_len(z->ns[i]));
		an = (uint16_t)z->nns;
	}
	if (!an && (q->rcode == DNS_R_NOERROR || q->rcode == DNS_R_NXDOMAIN)) {
		/* NODATA or NXDOMAIN: the SOA for negative caching (RFC 2308) */
		len += put_apex_rr(buf + len, z, q, DNS_T_SOA, z->soa, z->soa_len);
		ns = 1;
	}
	put16(buf + 6, an);
	put16(buf + 8, ns);
	if (q->edns) {
		len += put_opt(buf + len);
		put16(buf + 10, 1);
	}
	if (len > size) {
		/* too large for the client: the question alone, TC (RFC 2181 9) */
		len = DNS_HDR_LEN + q->qname_len + 4;
		put16(buf + 2, (uint16_t)(get16(buf + 2) | DNS_TC));
		memset(buf + 6, 0, 6);
		if (q->edns) {
			len += put_opt(buf + len);
			put16(buf + 10, 1);
		}
	}
	memcpy(out, buf, len);
	return len;
}

size_t dns_respond_error(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t size)
{
	if (len < DNS_HDR_LEN || size < DNS_HDR_LEN)
		return 0;
	/* the header alone: a malformed question is not echoed */
	put_header(out, get16(msg), get16(msg + 2), false, rcode);
	put16(out + 2, (uint16_t)(get16(out + 2) | (get16(msg + 2) & 0x7800)));
	return DNS_HDR_LEN;
}
