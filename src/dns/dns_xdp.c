/*
 * dns_xdp.c - the DNS mode's fast path: a DNS service's zone handed to the
 * XDP data path (bpf/wx_dns.bpf.h, through src/xdp/'s xdp_dns_put), which
 * then answers its plain queries before the kernel's UDP stack (A and
 * AAAA with addresses, NODATA, NXDOMAIN: bpf/wx_dns.bpf.h says which);
 * and what it answered folded back into the same counters user space
 * counts in, so `-L --stats`, JSON and Prometheus show one total whichever
 * path answered.
 *
 * When: every health tick (dns_xdp_tick), on the control thread. A zone
 * is rebuilt by whoever needs it first (server.c); queries the data path
 * answers never reach user space, so the tick asks for the current zone
 * itself (which rebuilds it when the servers' state, weights or the
 * options moved) and writes it when its generation differs from the one
 * written. State-aware TTLs follow: a zone with ttl_down is another zone.
 * Schedulers whose picks follow connection counts or chance (lc, wlc...:
 * the `periodic` trait) get a fresh sequence every second too.
 *
 * Which record comes first, as user space's pick() (server.c) would:
 *   - sequence schedulers (rr, wrr, swrr, lc...): the scheduler library's
 *     next picks (xdp_build_ring), each slot the index of its server's
 *     record in the A and in the AAAA set;
 *   - sh: for each of its 256 buckets, what svc_schedule() gives a client
 *     in that bucket (a client address made to hash there), fallback
 *     included; the data path hashes the resolver's address the same way;
 *   - dh: the destination is the VIP, one answer for all: one slot.
 * Left to user space (nothing written, queries passed): mh and sh-port
 * (their hash of the client, or its port, is not the data path's), a
 * persistent service (templates live in user space), a location map (the
 * answer depends on the client's network and ECS), `xdp off`.
 *
 * What is handed over, all from the zone: its names, the names that exist
 * without addresses (the apex, those between it and a name), the apex and
 * the SOA record (for NODATA and NXDOMAIN), the A and AAAA records.
 *
 * Counters: each answer counts as user space counts one (server.c): a
 * request, a datagram and its bytes in and out, a 2xx response (4xx for
 * NXDOMAIN); the (name, type, rcode) query count; for addresses, the
 * first record's server's connections. dns_xdp_answered() tells how many the data path answered.
 * The records' servers are remembered (with references) for as long as
 * the counts of their indexes may still come in.
 *
 * Control thread only.
 */
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/table.h"
#include "dns/answer.h"
#include "dns/dns.h"
#include "dns/dns_int.h"
#include "dns/dns_opts.h"
#include "xdp/xdp.h"

#include "weir_xdp.h"

#define PERIODIC_MS 1000u
#define SH_BUCKETS 256u          /* IPVS sh's table (src/sched/sh.c) */
#define SH_MULT 0x61C88647u      /* the kernel's hash_32() multiplier */

/* A DNS service's fast-path state (its area). Control thread. */
struct dns_xdp {
	bool written;                    /* the data path answers for it */
	unsigned gen, ogen;              /* of the zone written */
	uint64_t built_ms;
	struct real_server *rs[2][WX_DNS_RRS]; /* each record's server, with a
	                                        * reference: whose counts come */
	uint64_t answered;               /* queries the data path answered */
};

static size_t dx_area;

static struct dns_xdp *dx(struct virtual_service *svc)
{
	return svc_area(svc, dx_area);
}

uint64_t dns_xdp_answered(struct virtual_service *svc)
{
	return svc->proxy == &dns_mode ? dx(svc)->answered : 0;
}

/* --- counters -------------------------------------------------------------------- */

static void put_servers(struct dns_xdp *d)
{
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < WX_DNS_RRS; i++)
			if (d->rs[f][i]) {
				rs_put(d->rs[f][i]);
				d->rs[f][i] = NULL;
			}
}

/* What the data path answered for <svc> since the last fold, into its
 * counters. */
static void fold(struct virtual_service *svc)
{
	struct dns_xdp *d = dx(svc);
	struct vs_counters *c = stats_mine(&svc->stats);
	struct wx_dns_stats n;
	uint64_t nx = 0;

	if (xdp_dns_take_stats(svc, &n) != 0 || !n.queries)
		return;
	d->answered += n.queries;
	counter_add(&c->requests, n.queries);
	counter_add(&c->inpkts, n.queries);
	counter_add(&c->outpkts, n.queries);
	counter_add(&c->inbytes, n.inbytes);
	counter_add(&c->outbytes, n.outbytes);
	for (int i = 0; i <= WX_DNS_NAMES; i++) {
		/* a negative answer's other types count as "other" (MX) */
		static const uint16_t types[3] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };
		int name = i < WX_DNS_NAMES ? i : -1;

		dns_count_answers(svc, name, DNS_T_A, DNS_R_NOERROR, n.q[i][0]);
		dns_count_answers(svc, name, DNS_T_AAAA, DNS_R_NOERROR, n.q[i][1]);
		for (int t = 0; t < 3; t++) {
			dns_count_answers(svc, name, types[t], DNS_R_NOERROR, n.neg[i][t][0]);
			dns_count_answers(svc, name, types[t], DNS_R_NXDOMAIN, n.neg[i][t][1]);
			nx += n.neg[i][t][1];
		}
	}
	counter_add(&c->resp[2], n.queries - nx);
	counter_add(&c->resp[4], nx);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < WX_DNS_RRS; i++)
			if (n.first[f][i] && d->rs[f][i])
				counter_add(&stats_mine(&d->rs[f][i]->stats)->conns, n.first[f][i]);
}

void dns_xdp_fold(struct vs_table *t)
{
	for (struct virtual_service *svc = t->head; svc; svc = svc->next)
		if (svc->proxy == &dns_mode && dx(svc)->written)
			fold(svc);
}

/* --- which record first ------------------------------------------------------------ */

/* The ring slot of server <rs>: its record's index in each family. */
static uint32_t slot_of(const struct dns_zone *z, const struct real_server *rs)
{
	int a = rs ? dns_rrset_find(&z->a, rs) : -1;
	int aaaa = rs ? dns_rrset_find(&z->aaaa, rs) : -1;

	return WX_DNS_SLOT(a < 0 ? WX_DNS_NONE : (uint32_t)a,
			   aaaa < 0 ? WX_DNS_NONE : (uint32_t)aaaa);
}

/* The inverse of <m> modulo 2^32 (m odd), by Newton's iteration. */
static uint32_t inverse(uint32_t m)
{
	uint32_t x = m;

	for (int i = 0; i < 5; i++)
		x *= 2 - m * x;
	return x;
}

/* A client address of <svc>'s family whose sh bucket is <b>: its fold
 * (src/sched/sched_int.h) times SH_MULT has <b> in its top byte. */
static void client_in_bucket(const struct virtual_service *svc, uint32_t b,
			     struct weir_addr *a)
{
	uint32_t fold = (b << 24) * inverse(SH_MULT);

	memset(a, 0, sizeof(*a));
	if (addr_family(&svc->addr) == AF_INET6) {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, &(uint32_t){ htonl(fold) }, 4);
	} else {
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_addr.s_addr = htonl(fold);
	}
	addr_set_port(a, 53);
}

/* What user space's pick gives <client>: svc_schedule, then let go. */
static uint32_t pick_for(struct virtual_service *svc, const struct dns_zone *z,
			 const struct weir_addr *client, uint64_t now)
{
	struct real_server *rs = svc_schedule(svc, client, now, NULL, 0, NULL);
	uint32_t slot = slot_of(z, rs);

	if (rs)
		svc_conn_close(rs, true, client, now);
	return slot;
}

/* The ring of <svc> for zone <z> into <x> (allocated); 0 or -ENOMEM. */
static int build_ring(struct virtual_service *svc, const struct dns_zone *z, uint64_t now,
		      struct xdp_dns *x, uint32_t **ring)
{
	const struct sched_ops *ops = svc->sched->ops;
	struct weir_addr client;
	int32_t *pos;
	uint8_t pick;
	uint32_t used = 0;

	*ring = calloc(WX_RING, sizeof(**ring));
	if (!*ring)
		return -ENOMEM;
	x->ring = *ring;
	x->pick = WX_PICK_SEQ;
	if (ops->hash == SCHED_HASH_SRC) {
		for (uint32_t b = 0; b < SH_BUCKETS; b++) {
			client_in_bucket(svc, b, &client);
			(*ring)[b] = pick_for(svc, z, &client, now);
		}
		x->ring_size = SH_BUCKETS;
		x->pick = WX_PICK_SH;
		return 0;
	}
	if (ops->hash == SCHED_HASH_DST) {
		client_in_bucket(svc, 0, &client);
		(*ring)[0] = pick_for(svc, z, &client, now);
		x->ring_size = 1;
		return 0;
	}
	pos = calloc(WX_RING, sizeof(*pos));
	if (!pos || xdp_build_ring(svc, NULL, pos, &used, &pick) != 0) {
		free(pos);
		return -ENOMEM;
	}
	/* control thread: the server list changes only here */
	for (uint32_t i = 0; i < used; i++)
		(*ring)[i] = slot_of(z, pos[i] >= 0 && (size_t)pos[i] < svc->nservers ?
				     svc->servers[pos[i]] : NULL);
	x->ring_size = used;
	free(pos);
	return 0;
}

/* --- writing ------------------------------------------------------------------------- */

/* Whether the data path may answer for <svc> (see the top of the file). */
static bool eligible(struct virtual_service *svc, const struct dns_zone *z)
{
	const struct dns_opts *o = dns_opts_spec(&svc->spec);
	const struct sched_ops *ops = svc->sched->ops;

	if (!o->xdp || z->geo || svc->persist)
		return false;
	return ops->hash != SCHED_HASH_SRC ||
	       (!ops->table_sized && !(svc->sched->params.flags & SCHED_F_PORT));
}

static void drop(struct virtual_service *svc)
{
	struct dns_xdp *d = dx(svc);

	if (!d->written)
		return;
	fold(svc);
	xdp_dns_drop(svc);
	put_servers(d);
	d->written = false;
}

/* The names of <z> that exist without addresses of their own: the apex
 * and those between it and a name (RFC 8020's empty non-terminals), each
 * once, none that is a name of the zone; how many, into <out>. */
static size_t empty_names(const struct dns_zone *z, uint8_t (*out)[DNS_NAME_MAX], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i <= z->nnames; i++) {
		const uint8_t *name = i < z->nnames ? z->names[i] : z->apex;
		size_t len = dns_name_len(name);

		/* the name itself (the apex only), then each parent down to the apex */
		for (size_t off = i < z->nnames ? 1u + name[0] : 0; off < len; off += 1u + name[off]) {
			const uint8_t *p = name + off;
			bool known = false;

			if (len - off < z->apex_len)
				break;
			for (size_t k = 0; k < z->nnames && !known; k++)
				known = dns_name_equal(z->names[k], p);
			for (size_t k = 0; k < n && !known; k++)
				known = dns_name_equal(out[k], p);
			if (!known && n < max)
				memcpy(out[n++], p, len - off);
			if (len - off == z->apex_len)
				break;
		}
	}
	return n;
}

/* The SOA record as a negative answer's authority section carries it, but
 * for its owner (type, class, TTL, length, rdata) into <out>; its length. */
static size_t soa_record(const struct dns_zone *z, uint8_t *out, size_t size)
{
	size_t n = 10 + z->soa_len;

	if (n > size)
		return 0;
	out[0] = 0, out[1] = DNS_T_SOA;
	out[2] = 0, out[3] = DNS_C_IN;
	out[4] = (uint8_t)(z->ttl >> 24), out[5] = (uint8_t)(z->ttl >> 16);
	out[6] = (uint8_t)(z->ttl >> 8), out[7] = (uint8_t)z->ttl;
	out[8] = (uint8_t)(z->soa_len >> 8), out[9] = (uint8_t)z->soa_len;
	memcpy(out + 10, z->soa, z->soa_len);
	return n;
}

static void set_of(struct xdp_dns_set *s, const struct dns_rrset *r)
{
	s->rr = r->rr;
	s->n = r->n;
	s->len = r->len;
}

/* Writes zone <z> of <svc> to the data path. */
static void write_zone(struct virtual_service *svc, const struct dns_zone *z, uint64_t now)
{
	struct dns_xdp *d = dx(svc);
	struct xdp_dns x = {
		.names = (const uint8_t (*)[255])z->names, .nnames = z->nnames,
		.answers = z->answers, .edns_size = DNS_EDNS_SIZE,
	};
	uint8_t (*empty)[DNS_NAME_MAX], soa[10 + sizeof(z->soa)];
	uint32_t *ring = NULL;
	size_t labels = 1;
	int rc;

	/* at most one name per label of each name, and the apex */
	for (size_t i = 0; i < z->nnames; i++)
		for (size_t off = 0; z->names[i][off]; off += 1u + z->names[i][off])
			labels++;
	empty = calloc(labels, sizeof(*empty));
	if (!empty) {
		log_err("dns: out of memory for the XDP answers");
		return;
	}
	x.empty = (const uint8_t (*)[255])empty;
	x.nempty = empty_names(z, empty, labels);
	x.apex = z->apex;
	x.soa_len = soa_record(z, soa, sizeof(soa));
	x.soa = x.soa_len ? soa : NULL;
	set_of(&x.set[0], &z->a);
	set_of(&x.set[1], &z->aaaa);
	if (build_ring(svc, z, now, &x, &ring) != 0) {
		free(ring);
		free(empty);
		log_err("dns: out of memory for the XDP answers");
		return;
	}
	/* the counts of the old records' indexes first */
	if (d->written)
		fold(svc);
	rc = xdp_dns_put(svc, &x);
	free(ring);
	free(empty);
	put_servers(d);
	d->written = rc == 0;
	if (rc) {
		char a[ADDR_STRLEN];

		log_warn("dns %s: not answered in XDP: %s", addr_str(&svc->addr, a),
			 rc == -ENOSPC ? "no free service slot in the data path" : strerror(-rc));
		return;
	}
	d->gen = z->gen;
	d->ogen = z->ogen;
	d->built_ms = now;
	for (uint16_t i = 0; i < z->a.n && i < WX_DNS_RRS; i++)
		rs_get(d->rs[0][i] = (struct real_server *)z->a.rs[i]);
	for (uint16_t i = 0; i < z->aaaa.n && i < WX_DNS_RRS; i++)
		rs_get(d->rs[1][i] = (struct real_server *)z->aaaa.rs[i]);
}

void dns_xdp_tick(struct vs_table *t, uint64_t now)
{
	for (struct virtual_service *svc = t->head; svc; svc = svc->next) {
		struct dns_xdp *d;
		const struct dns_zone *z;

		if (svc->proxy != &dns_mode)
			continue;
		d = dx(svc);
		if (!xdp_running()) {
			if (d->written) {
				put_servers(d);
				d->written = false;
			}
			continue;
		}
		z = dns_zone_current(svc);
		if (!z || !eligible(svc, z)) {
			drop(svc);
			continue;
		}
		if (d->written && xdp_dns_has(svc) && z->gen == d->gen && z->ogen == d->ogen &&
		    !(svc->sched->ops->periodic && now - d->built_ms >= PERIODIC_MS))
			continue;
		write_zone(svc, z, now);
	}
}

/* --- the table's hooks ------------------------------------------------------------- */

static void dx_removed(struct virtual_service *svc)
{
	drop(svc);
}

static const struct table_hooks dx_hooks = {
	.svc_removed = dx_removed,
};

void dns_xdp_register(void)
{
	dx_area = table_svc_area(sizeof(struct dns_xdp));
	table_hooks_register(&dx_hooks);
}
