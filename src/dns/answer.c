/* answer.c - a DNS service's zone and its answers; see answer.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"
#include "dns/answer.h"
#include "dns/geo.h"

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

/* <rs>'s address record: A or AAAA by its family. */
static int add_server(struct dns_rrset *s, const struct real_server *rs, uint32_t ttl)
{
	const struct weir_addr *a = &rs->addr;

	return addr_family(a) == AF_INET ?
		rrset_add(s, rs, DNS_T_A, &a->u.in.sin_addr, 4, ttl) :
		rrset_add(s, rs, DNS_T_AAAA, &a->u.in6.sin6_addr, 16, ttl);
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
		int rc;

		if (addr_family(&servers[i]->addr) != family || (up && !avail[i]))
			continue;
		if ((rc = add_server(s, servers[i], ttl)) != 0)
			return rc;
	}
	return 0;
}

/* Whether a primary server of <family> could take work. */
static bool primary_up(struct real_server *const *servers, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (!servers[i]->ss.backup && addr_family(&servers[i]->addr) == family &&
		    sched_server_eligible(&servers[i]->ss))
			return true;
	return false;
}

/* Server <i> is a backup held back by a primary of its family. */
static bool in_standby(struct real_server *const *servers, size_t n, size_t i)
{
	return servers[i]->ss.backup && primary_up(servers, n, addr_family(&servers[i]->addr));
}

void dns_servers_available(struct real_server *const *servers, size_t n, bool *avail)
{
	bool up4 = primary_up(servers, n, AF_INET), up6 = primary_up(servers, n, AF_INET6);

	for (size_t i = 0; i < n; i++) {
		const struct sched_server *ss = &servers[i]->ss;
		bool family_up = addr_family(&servers[i]->addr) == AF_INET ? up4 : up6;

		avail[i] = sched_server_eligible(ss) && (!ss->backup || !family_up);
	}
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
	/* state-aware: shorter while a server is out (gdnsd does it too); a
	 * backup in standby is not out */
	for (size_t i = 0; o->ttl_down_ms && i < n; i++)
		if (!available[i] && !in_standby(servers, n, i))
			z->ttl = o->ttl_down_ms / 1000;
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

/* The servers of <family> at location <loc> (-1: every location) that
 * are available, as records of <s>; how many. */
static int add_at(struct dns_rrset *s, int family, int loc, const struct geo_map *geo,
		  struct real_server *const *servers, size_t n, const bool *avail,
		  uint32_t ttl, size_t *added)
{
	*added = 0;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (addr_family(&servers[i]->addr) != family || !avail[i] ||
		    (loc >= 0 && geo_loc_find(geo, servers[i]->spec.location) != loc))
			continue;
		if ((rc = add_server(s, servers[i], ttl)) != 0)
			return rc;
		(*added)++;
	}
	return 0;
}

/* The records of list <l> in one family: the first location with an
 * available server; none: those of no preference (the zone's own). */
static int list_set(struct dns_rrset *s, int *loc, const struct dns_rrset *all, int family,
		    const struct geo_list *l, const struct geo_map *geo,
		    struct real_server *const *servers, size_t n, const bool *avail, uint32_t ttl)
{
	*loc = -1;
	for (unsigned k = 0; k < l->n; k++) {
		size_t added;
		int rc = add_at(s, family, l->loc[k], geo, servers, n, avail, ttl, &added);

		if (added)
			*loc = l->loc[k];
		if (rc || added)
			return rc;
	}
	for (unsigned i = 0; i < all->n; i++) {
		int rc = rrset_add(s, all->rs[i], family == AF_INET ? DNS_T_A : DNS_T_AAAA,
				   all->rr + (size_t)i * all->len + 12, (uint16_t)(all->len - 12),
				   ttl);

		if (rc)
			return rc;
	}
	return 0;
}

int dns_zone_locate(struct dns_zone *z, const struct geo_map *geo,
		    struct real_server *const *servers, size_t n, const bool *available)
{
	size_t lists = geo_list_count(geo);

	z->bylist = calloc(lists, sizeof(*z->bylist));
	if (!z->bylist)
		return -ENOMEM;
	z->geo = geo;
	z->nlists = lists;
	for (size_t i = 0; i < lists; i++) {
		const struct geo_list *l = geo_list_get(geo, (uint32_t)i);
		int rc = list_set(&z->bylist[i].a, &z->bylist[i].loc_a, &z->a, AF_INET, l, geo,
				  servers, n, available, z->ttl);

		if (!rc)
			rc = list_set(&z->bylist[i].aaaa, &z->bylist[i].loc_aaaa, &z->aaaa, AF_INET6,
				      l, geo, servers, n, available, z->ttl);
		if (rc)
			return rc;
	}
	return 0;
}

void dns_zone_free(struct dns_zone *z)
{
	if (!z)
		return;
	for (size_t i = 0; z->bylist && i < z->nlists; i++) {
		free(z->bylist[i].a.rr);
		free(z->bylist[i].a.rs);
		free(z->bylist[i].aaaa.rr);
		free(z->bylist[i].aaaa.rs);
	}
	free(z->bylist);
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

/* Which of the zone's names <name> is, or -1. */
static int name_index(const struct dns_zone *z, const uint8_t *name)
{
	for (size_t i = 0; i < z->nnames; i++)
		if (dns_name_equal(z->names[i], name))
			return (int)i;
	return -1;
}

/* An empty non-terminal: a name above one of the zone's names (it exists,
 * with no records of its own: NODATA, not NXDOMAIN; RFC 8020). */
static bool is_parent(const struct dns_zone *z, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < z->nnames; i++)
		if (within(z->names[i], dns_name_len(z->names[i]), name, len))
			return true;
	return false;
}

/* The records of the location <q>'s client prefers, and the scope of
 * that choice: from the Client Subnet if the query has one with a source
 * prefix (RFC 7871 7.1.2: source 0 means the resolver wants no tailored
 * answer: its own address decides, scope 0), else the resolver's address. */
static const struct dns_sets *locate(const struct dns_zone *z, struct dns_ask *q,
				     const struct weir_addr *client)
{
	const struct dns_request *r = &q->req;
	struct geo_answer ans;
	uint8_t bytes[16];
	int rc;

	if (r->has_ecs && r->ecs.source)
		rc = geo_lookup(z->geo, r->ecs.family == 1 ? AF_INET : AF_INET6, r->ecs.addr,
				r->ecs.source, &ans);
	else
		rc = geo_lookup(z->geo, addr_family(client), bytes,
				addr_bytes(client, bytes) * 8u, &ans);
	if (rc || ans.list_id >= z->nlists)
		return NULL;
	q->scope = r->has_ecs && r->ecs.source ? ans.scope : 0;
	return &z->bylist[ans.list_id];
}

void dns_classify(const struct dns_zone *z, struct dns_ask *q, const struct weir_addr *client)
{
	const struct dns_request *r = &q->req;

	q->set = NULL;
	q->scope = 0;
	q->loc = -1;
	q->name = -1;
	if ((r->qclass != DNS_C_IN && r->qclass != DNS_T_ANY) ||
	    !within(r->lname, r->name_len, z->apex, z->apex_len)) {
		q->rcode = DNS_R_REFUSED;     /* not ours: no recursion */
		return;
	}
	q->rcode = DNS_R_NOERROR;
	if ((q->name = name_index(z, r->lname)) >= 0) {
		const struct dns_sets *l = z->geo && (r->qtype == DNS_T_A || r->qtype == DNS_T_AAAA) ?
			locate(z, q, client) : NULL;

		if (r->qtype == DNS_T_A) {
			q->set = l ? &l->a : &z->a;
			q->loc = l ? l->loc_a : -1;
		} else if (r->qtype == DNS_T_AAAA) {
			q->set = l ? &l->aaaa : &z->aaaa;
			q->loc = l ? l->loc_aaaa : -1;
		}
		if (q->set && !q->set->n)
			q->set = NULL;        /* NODATA */
		return;
	}
	if (r->name_len == z->apex_len || is_parent(z, r->lname, r->name_len))
		return;                       /* the apex, or an empty non-terminal */
	q->rcode = DNS_R_NXDOMAIN;
}

/* The offset of the apex inside the question's name (a query in the zone
 * always ends with it): records owned by the apex point there. */
static uint16_t apex_at(const struct dns_zone *z, const struct dns_ask *q)
{
	return (uint16_t)(DNS_HDR_LEN + q->req.name_len - z->apex_len);
}

size_t dns_respond(const struct dns_zone *z, const struct dns_ask *q, unsigned first,
		   uint8_t *out, size_t size, size_t limit)
{
	struct dns_response r;
	const struct dns_request *req = &q->req;
	bool apex = q->rcode != DNS_R_REFUSED && req->name_len == z->apex_len;
	bool any = false;
	int n;

	dns_response_init(&r, out, size, req, q->rcode != DNS_R_REFUSED ? DNS_AA : 0,
			  (unsigned)q->rcode);
	if (q->set) {
		const struct dns_rrset *s = q->set;
		unsigned k = z->answers && z->answers < s->n ? z->answers : s->n;
		unsigned run = k < s->n - first ? k : s->n - first;

		/* the records from <first> on, then from the start: two copies */
		dns_put_records(&r.w, DNS_AN, s->rr + (size_t)first * s->len,
				(size_t)run * s->len, (uint16_t)run);
		if (k > run)
			dns_put_records(&r.w, DNS_AN, s->rr, (size_t)(k - run) * s->len,
					(uint16_t)(k - run));
		any = true;
	} else if (q->rcode == DNS_R_NOERROR && req->qtype == DNS_T_ANY) {
		/* RFC 8482: a small answer instead of everything */
		dns_put_rr(&r.w, DNS_AN, NULL, DNS_HDR_LEN, T_HINFO, DNS_C_IN, z->ttl,
			   "\007RFC8482\000", 9);
		any = true;
	} else if (apex && req->qtype == DNS_T_SOA) {
		dns_put_rr(&r.w, DNS_AN, NULL, apex_at(z, q), DNS_T_SOA, DNS_C_IN, z->ttl,
			   z->soa, (uint16_t)z->soa_len);
		any = true;
	} else if (apex && req->qtype == DNS_T_NS) {
		for (size_t i = 0; i < z->nns; i++)
			dns_put_rr(&r.w, DNS_AN, NULL, apex_at(z, q), DNS_T_NS, DNS_C_IN, z->ttl,
				   z->ns[i], (uint16_t)dns_name_len(z->ns[i]));
		any = true;
	}
	if (!any && (q->rcode == DNS_R_NOERROR || q->rcode == DNS_R_NXDOMAIN))
		/* NODATA or NXDOMAIN: the SOA for negative caching (RFC 2308) */
		dns_put_rr(&r.w, DNS_NS, NULL, apex_at(z, q), DNS_T_SOA, DNS_C_IN, z->ttl,
			   z->soa, (uint16_t)z->soa_len);
	n = dns_response_end(&r, limit, DNS_EDNS_SIZE, q->scope);
	return n > 0 ? (size_t)n : 0;
}

size_t dns_respond_error(const struct dns_request *req, unsigned rcode, uint8_t *out,
			 size_t size, size_t limit)
{
	struct dns_response r;
	int n;

	dns_response_init(&r, out, size, req, 0, rcode);
	n = dns_response_end(&r, limit, DNS_EDNS_SIZE, 0);
	return n > 0 ? (size_t)n : 0;
}
