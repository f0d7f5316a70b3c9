/*
 * server.c - the DNS mode (--proxy dns): weir answers DNS queries for a
 * service's names with the addresses of its servers that can take traffic
 * now, over UDP (the datagram listener) and TCP (a stream listener on the
 * same address, RFC 7766: length-prefixed, pipelined).
 *
 * Answers: the zone (answer.h) is built from the service's servers and
 * options when the service's generation moved (a server's health, weight
 * or state changed, svc->gen) or its options were edited, by the first
 * worker to need it, under the service's lock, and published with one
 * atomic store; a query loads the pointer and copies records. A zone
 * replaced stays allocated for DNS_RETIRE_MS (a query holds it for
 * microseconds) and is freed at a later rebuild or at exit.
 *
 * Which record comes first: the scheduler library's pick for the client
 * (svc_schedule: rr rotates, wrr/swrr in proportion to the weights, sh/mh
 * hash the resolver's address, persistence keeps a resolver on a server,
 * the lc family the load weir sees on the servers elsewhere: the mode's
 * load_elsewhere, core/load.c), then the others in turn, as many as
 * `answers` says. Backups answer a family only while no primary of it can
 * (dns_servers_available).
 *
 * Counters: per service, a query is a request and a datagram in, an answer
 * a datagram out, by rcode in the response classes (NOERROR 2xx, NXDOMAIN
 * and REFUSED 4xx, SERVFAIL/FORMERR/NOTIMP 5xx, as `weirctl -L --http` shows
 * them); per server, the answers it came first in (conns).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "core/worker.h"
#include "dns/answer.h"
#include "dns/dns.h"
#include "dns/dns_int.h"
#include "dns/dns_opts.h"
#include "dns/geo.h"
#include "proxy/dgram.h"
#include "proxy/pworker.h"
#include "proxy/transport.h"

#define DNS_RETIRE_MS 10000u
#define DNS_TCP_IDLE_MS 10000u
#define DNS_TCP_BUF (DNS_TCP_PREFIX + DNS_TCP_MAX)

/* The numbers of one thread (its own cache lines: written without locks). */
#define CNT_NAMES 16          /* names counted one by one; then "other" */
#define CNT_LOCS 32
static const uint16_t cnt_types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_SOA, DNS_T_NS, DNS_T_ANY };
#define CNT_TYPES 6           /* the above, then "other" */
static const unsigned cnt_rcodes[] = { DNS_R_NOERROR, DNS_R_FORMERR, DNS_R_SERVFAIL,
				       DNS_R_NXDOMAIN, DNS_R_NOTIMP, DNS_R_REFUSED, 16 };
#define CNT_RCODES 7

struct dns_ctr {
	uint64_t q[CNT_NAMES + 1][CNT_TYPES][CNT_RCODES];
	uint64_t loc[CNT_LOCS];
} __attribute__((aligned(CACHELINE)));

/* A service's DNS state, in its area. */
struct dns_svc {
	struct dns_ctr *ctr;               /* [nworkers + 1]; made by svc_prepare,
	                                    * freed late (retire) */
	struct dgram_set *udp;             /* control thread */
	_Atomic(struct dns_zone *) zone;   /* current; written under svc->lock */
	atomic_uint ogen;                  /* bumped when the options change */
	uint32_t serial;                   /* svc->lock */
	struct geo_map *geo;               /* the location map; svc->lock */
	struct geo_map *geo_next;          /* loaded by svc_prepare, for svc_applied
	                                    * (control thread) */
	struct dns_rates *rates;           /* control thread: svc_tick, listings */
};

/* Queries per second per name and class (DNS_CLASS_*), from the counters'
 * totals on the table's tick. */
struct dns_rates {
	struct rate_one q[CNT_NAMES + 1][DNS_CLASSES];
};

static size_t dns_area;

static struct dns_svc *dsvc(struct virtual_service *svc)
{
	return svc_area(svc, dns_area);
}

/* --- zones replaced, freed later ------------------------------------------------ */

struct retired {
	struct dns_zone *z;
	struct geo_map *geo;
	void *mem;
	uint64_t at;
	struct retired *next;
};

static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct retired *retired_list;

/* Keeps <z> and <geo> (either may be NULL) for DNS_RETIRE_MS, then frees
 * them; frees what has been kept long enough (everything: <all>). */
static void retire_mem(struct dns_zone *z, struct geo_map *geo, void *mem, uint64_t now,
		       bool all)
{
	struct retired *r = z || geo || mem ? malloc(sizeof(*r)) : NULL;

	pthread_mutex_lock(&retired_lock);
	if (r) {
		*r = (struct retired){ z, geo, mem, now, retired_list };
		retired_list = r;
	} else if (z || geo || mem) {
		log_warn("dns: out of memory: a replaced answer set is kept");
	}
	for (struct retired **pp = r ? &r->next : &retired_list; *pp;) {
		struct retired *x = *pp;

		if (all || now - x->at >= DNS_RETIRE_MS) {
			*pp = x->next;
			dns_zone_free(x->z);
			geo_map_free(x->geo);
			free(x->mem);
			free(x);
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&retired_lock);
}

static void retire(struct dns_zone *z, struct geo_map *geo, uint64_t now, bool all)
{
	retire_mem(z, geo, NULL, now, all);
}

static void free_all_retired(void)
{
	retire(NULL, NULL, 0, true);
}

/* --- the current zone ------------------------------------------------------------- */

static uint32_t first_serial(void)
{
	return (uint32_t)time(NULL);
}

/* Rebuilds the zone of <svc> (svc->lock held). */
static void rebuild(struct virtual_service *svc, struct dns_svc *ds, unsigned gen, unsigned ogen)
{
	struct dns_zone *old = atomic_load_explicit(&ds->zone, memory_order_relaxed), *z;
	const struct dns_opts *o = (const void *)(svc->rt.opts + dns_opt_block.off);
	bool avail[DNS_RRSET_MAX * 2];
	size_t n = svc->nservers < DNS_RRSET_MAX * 2 ? svc->nservers : DNS_RRSET_MAX * 2;
	char why[SPEC_ERR_MAX];

	dns_servers_available(svc->servers, n, avail);
	if (dns_zone_build(o, svc->servers, n, avail, gen, 0, &z, why) != 0) {
		log_warn("dns: %s", why);
		return;
	}
	if (ds->geo && dns_zone_locate(z, ds->geo, svc->servers, n, avail) != 0) {
		log_warn("dns: out of memory for the location answers");
		dns_zone_free(z);
		return;
	}
	z->ogen = ogen;
	if (!ds->serial)
		ds->serial = first_serial();
	else if (old && !dns_zone_same_answers(old, z))
		ds->serial++;
	z->serial = ds->serial;
	dns_zone_set_serial(z, ds->serial);
	atomic_store_explicit(&ds->zone, z, memory_order_release);
	retire(old, NULL, now_ms(), false);
}

static const struct dns_zone *current_zone(struct virtual_service *svc)
{
	struct dns_svc *ds = dsvc(svc);
	struct dns_zone *z = atomic_load_explicit(&ds->zone, memory_order_acquire);
	unsigned gen = atomic_load_explicit(&svc->gen, memory_order_acquire);
	unsigned ogen = atomic_load_explicit(&ds->ogen, memory_order_acquire);

	if (z && z->gen == gen && z->ogen == ogen)
		return z;
	pthread_mutex_lock(&svc->lock);
	z = atomic_load_explicit(&ds->zone, memory_order_relaxed);
	if (!z || z->gen != gen || z->ogen != ogen)
		rebuild(svc, ds, gen, ogen);
	pthread_mutex_unlock(&svc->lock);
	return atomic_load_explicit(&ds->zone, memory_order_acquire);
}

const struct dns_zone *dns_zone_current(struct virtual_service *svc)
{
	return current_zone(svc);
}

/* --- one query ----------------------------------------------------------------------- */

static _Thread_local unsigned rotation;

/* The index of the first record: the scheduler's pick for <client>. */
static unsigned pick(struct virtual_service *svc, const struct dns_ask *q,
		     const struct weir_addr *client, uint64_t now)
{
	int i = -1;

	/* a pick of the other family (an IPv6 server for an A query) is
	 * passed over: the next pick, a few times */
	for (int tries = 0; i < 0 && tries < 4; tries++) {
		struct real_server *rs = svc_schedule(svc, client, now, NULL, 0, NULL);

		if (!rs)
			break;
		i = dns_rrset_find(q->set, rs);
		if (i >= 0)
			counter_add(&stats_mine(&rs->stats)->conns, 1);
		svc_conn_close(rs, true, client, now);
	}
	return i >= 0 ? (unsigned)i : rotation++ % q->set->n;
}

static int index_of_type(uint16_t t)
{
	for (int i = 0; i < CNT_TYPES - 1; i++)
		if (cnt_types[i] == t)
			return i;
	return CNT_TYPES - 1;
}

static int index_of_rcode(unsigned r)
{
	for (int i = 0; i < CNT_RCODES; i++)
		if (cnt_rcodes[i] == r)
			return i;
	return 2; /* SERVFAIL */
}

/* The query's name, type and rcode; the location that answered. */
static void count_query(struct virtual_service *svc, const struct dns_ask *q, unsigned rcode)
{
	struct dns_ctr *c = dsvc(svc)->ctr;
	int name = q->name >= 0 && q->name < CNT_NAMES ? q->name : CNT_NAMES;

	if (!c || weir_thread_id < 0)
		return;
	c += weir_thread_id;
	counter_add(&c->q[name][index_of_type(q->req.qtype)][index_of_rcode(rcode)], 1);
	if (q->set && q->loc >= 0 && q->loc < CNT_LOCS)
		counter_add(&c->loc[q->loc], 1);
}

void dns_count_answers(struct virtual_service *svc, int name, uint16_t qtype, unsigned rcode,
		       uint64_t n)
{
	struct dns_ctr *c = dsvc(svc)->ctr;

	if (!c || weir_thread_id < 0 || !n)
		return;
	c += weir_thread_id;
	counter_add(&c->q[name >= 0 && name < CNT_NAMES ? name : CNT_NAMES][index_of_type(qtype)]
			 [index_of_rcode(rcode)], n);
}

static void count_rcode(struct vs_counters *c, int rcode)
{
	counter_add(&c->requests, 1);
	counter_add(&c->resp[rcode == DNS_R_NOERROR ? 2 :
			     rcode == DNS_R_NXDOMAIN || rcode == DNS_R_REFUSED ? 4 : 5], 1);
}

/* Answers query msg[0..len) from <client> into out[0..size). Returns the
 * response's length; 0: none (dropped). */
static size_t answer(struct virtual_service *svc, const uint8_t *msg, size_t len,
		     const struct weir_addr *client, uint8_t *out, size_t size, bool tcp,
		     uint64_t now)
{
	struct vs_counters *c = stats_mine(&svc->stats);
	enum dns_verdict v;
	const struct dns_zone *z;
	struct dns_ask q;
	size_t n, limit;

	counter_add(&c->inpkts, 1);
	counter_add(&c->inbytes, len);
	v = dns_request_parse(msg, len, &q.req);
	limit = tcp ? DNS_TCP_MAX : dns_udp_limit(&q.req, DNS_EDNS_SIZE);
	if (v == DNS_V_DROP) {
		counter_add(&c->drops, 1);
		return 0;
	}
	q.name = q.loc = -1;
	q.set = NULL;
	if (v != DNS_V_ANSWER) {
		count_rcode(c, (int)dns_verdict_rcode(v));
		count_query(svc, &q, dns_verdict_rcode(v));
		n = dns_respond_error(&q.req, dns_verdict_rcode(v), out, size, limit);
		goto sent;
	}
	if (!(z = current_zone(svc))) {
		count_rcode(c, DNS_R_SERVFAIL);
		count_query(svc, &q, DNS_R_SERVFAIL);
		n = dns_respond_error(&q.req, DNS_R_SERVFAIL, out, size, limit);
		goto sent;
	}
	dns_classify(z, &q, client);
	count_rcode(c, q.rcode);
	count_query(svc, &q, (unsigned)q.rcode);
	n = dns_respond(z, &q, q.set ? pick(svc, &q, client, now) : 0, out, size, limit);
sent:
	if (n) {
		counter_add(&c->outpkts, 1);
		counter_add(&c->outbytes, n);
	}
	return n;
}

/* --- UDP ------------------------------------------------------------------------------ */

static void udp_recv(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	struct virtual_service *svc = dl->ctx;
	uint64_t now = loop_now(dl->w->loop);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct dgram_msg *m = &msgs[i];
		/* the answer is written over the query in the listener's buffer
		 * (a slot of 65535 bytes): the parsed request holds copies of
		 * what it needs, so nothing is read from there any more */
		size_t len = answer(svc, m->data, m->len, &m->peer, m->data, DNS_EDNS_SIZE, false,
				    now);

		if (!len)
			continue;
		m->len = len;
		msgs[k++] = *m;
	}
	if (k)
		dgram_send(dl, msgs, k);
}

static void hold_svc(void *ctx)
{
	svc_get(ctx);
}

static void release_svc(void *ctx)
{
	svc_put(ctx);
}

static const struct dgram_ops dns_dgram_ops = {
	.recv = udp_recv, .hold = hold_svc, .release = release_svc,
};

/* --- TCP (RFC 7766) ----------------------------------------------------------------- */

struct dns_tcp {
	struct session_link link;
	struct tp_conn conn;
	struct worker *w;
	struct virtual_service *svc;    /* reference (session_begin) */
	struct weir_addr client;
	struct timer idle;
	size_t inlen;
	uint8_t *out;                   /* responses not written yet */
	size_t outlen, outoff, outcap;
	bool closed;
	uint8_t in[DNS_TCP_BUF];
};

static void tcp_free(void *arg)
{
	struct dns_tcp *t = arg;

	free(t->out);
	free(t);
}

static void tcp_close(struct dns_tcp *t)
{
	if (t->closed)
		return;
	t->closed = true;
	tp_close(&t->conn);
	timer_cancel(t->w->loop, &t->idle);
	session_end(t->w, &t->link, t->svc);
	if (loop_defer(t->w->loop, tcp_free, t) != 0)
		fatalx("out of memory deferring a free");
}

static void tcp_force(struct session_link *l)
{
	tcp_close(container_of(l, struct dns_tcp, link));
}

static int queue_out(struct dns_tcp *t, const uint8_t *msg, size_t len)
{
	if (t->outlen + 2 + len > t->outcap) {
		size_t cap = (t->outlen + 2 + len) * 2;
		uint8_t *o = realloc(t->out, cap);

		if (!o)
			return -ENOMEM;
		t->out = o;
		t->outcap = cap;
	}
	t->out[t->outlen] = (uint8_t)(len >> 8);
	t->out[t->outlen + 1] = (uint8_t)len;
	memcpy(t->out + t->outlen + 2, msg, len);
	t->outlen += 2 + len;
	return 0;
}

/* Writes what is queued; -1: the connection must end. */
static int flush_out(struct dns_tcp *t)
{
	while (t->outoff < t->outlen) {
		ssize_t n = tp_write(&t->conn, t->out + t->outoff, t->outlen - t->outoff, 0);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		t->outoff += (size_t)n;
	}
	t->outoff = t->outlen = 0;
	return 0;
}

static void tcp_cb(struct loop_io *io, uint32_t events)
{
	struct dns_tcp *t = container_of(io, struct dns_tcp, conn.io);
	uint64_t now = loop_now(t->w->loop);

	if (t->closed)
		return;
	if (flush_out(t) != 0) {
		tcp_close(t);
		return;
	}
	/* read while nothing waits to be written (a client that does not
	 * read its answers stops being read) */
	while (!t->outlen) {
		ssize_t n = tp_read(&t->conn, t->in + t->inlen, sizeof(t->in) - t->inlen);
		size_t pos = 0;

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			tcp_close(t);
			return;
		}
		t->inlen += (size_t)n;
		/* every whole message in the buffer (pipelining) */
		for (;;) {
			const uint8_t *msg;
			size_t len, r;
			uint8_t out[DNS_TCP_MAX];
			int took = dns_tcp_frame(t->in + pos, t->inlen - pos, DNS_TCP_MAX, &msg, &len);

			if (took < 0) {
				tcp_close(t); /* a length of 0 */
				return;
			}
			if (!took)
				break;
			r = answer(t->svc, msg, len, &t->client, out, sizeof(out), true, now);
			if (r && queue_out(t, out, r) != 0) {
				tcp_close(t);
				return;
			}
			pos += (size_t)took;
		}
		memmove(t->in, t->in + pos, t->inlen - pos);
		t->inlen -= pos;
		if (flush_out(t) != 0) {
			tcp_close(t);
			return;
		}
	}
	timer_arm(t->w->loop, &t->idle, now + DNS_TCP_IDLE_MS);
}

static void tcp_idle(struct timer *tm)
{
	tcp_close(container_of(tm, struct dns_tcp, idle));
}

static void tcp_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	struct dns_tcp *t = malloc(sizeof(*t));

	if (!t) {
		close(fd);
		return;
	}
	memset(t, 0, offsetof(struct dns_tcp, in));
	t->w = li->w;
	t->svc = li->svc;
	t->client = *peer;
	t->idle.cb = tcp_idle;
	t->link.force_close = tcp_force;
	tp_init(&t->conn, fd, &tp_tcp, tcp_cb);
	session_begin(t->w, &t->link, t->svc);
	if (loop_add(t->w->loop, &t->conn.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		tcp_close(t);
		return;
	}
	timer_arm(t->w->loop, &t->idle, loop_now(t->w->loop) + DNS_TCP_IDLE_MS);
}

/* --- the mode ----------------------------------------------------------------------- */

static int dns_prepare(struct virtual_service *svc, char *err)
{
	struct dgram_conf conf = { .max_len = 65535, .batch = DGRAM_BATCH_MAX };
	struct dns_svc *ds = dsvc(svc);
	int rc = listener_prepare(svc, err);

	if (rc != 0)
		return rc;
	if ((rc = dgram_prepare(&svc->addr, &conf, &ds->udp, err)) != 0) {
		listener_stop(svc);
		return rc;
	}
	return 0;
}

static void dns_start(struct virtual_service *svc)
{
	listener_start(svc, tcp_accept);
	dgram_start(dsvc(svc)->udp, &dns_dgram_ops, svc);
}

static void dns_stop(struct virtual_service *svc)
{
	struct dns_svc *ds = dsvc(svc);

	listener_stop(svc);
	dgram_stop(ds->udp);
	ds->udp = NULL;
}

/* The options are checked as a zone would be built from them. */
static int dns_check(const struct service_spec *sp, char *err)
{
	struct dns_zone *z;
	int rc = dns_zone_build(dns_opts_spec(sp), NULL, 0, NULL, 0, 0, &z, err);

	if (rc == 0)
		dns_zone_free(z);
	return rc;
}

const struct svc_mode dns_mode = {
	.name = "dns",
	.proto = IPPROTO_UDP,
	/* the servers' load is what weir sees elsewhere (lc/wlc...) */
	.load_elsewhere = true,
	.check = dns_check,
	.prepare = dns_prepare,
	.start = dns_start,
	.stop = dns_stop,
};

/* --- the table's hooks -------------------------------------------------------------- */

/* Loads the location map the options name (control thread). 0, or
 * -errno with "FILE: reason" or "FILE:LINE: reason" in <err>. */
static int load_geo(const struct dns_opts *o, struct geo_map **out, char *err)
{
	struct geo_map *m;
	char line[512];
	FILE *f;
	int n = 0, rc = 0;

	*out = NULL;
	if (!o->geo_map[0] && !o->geo_db[0])
		return 0;
	if (!(m = geo_map_new())) {
		snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
		return -ENOMEM;
	}
	if (o->geo_map[0]) {
		if (!(f = fopen(o->geo_map, "re"))) {
			rc = -errno;
			snprintf(err, SPEC_ERR_MAX, "geo_map %s: %s", o->geo_map, strerror(errno));
			goto fail;
		}
		while (!rc && fgets(line, sizeof(line), f)) {
			char why[GEO_ERR_MAX];

			n++;
			line[strcspn(line, "\r\n")] = '\0';
			if ((rc = geo_map_add_line(m, line, why)) != 0)
				snprintf(err, SPEC_ERR_MAX, "%s:%d: %s", o->geo_map, n, why);
		}
		fclose(f);
		if (rc)
			goto fail;
	}
	if (o->geo_db[0] && (rc = geo_map_set_mmdb(m, o->geo_db, o->geo_field, err)) != 0)
		goto fail;
	if ((rc = geo_map_finish(m)) != 0) {
		snprintf(err, SPEC_ERR_MAX, "geo_map %s: cannot build the map", o->geo_map);
		goto fail;
	}
	*out = m;
	return 0;

fail:
	geo_map_free(m);
	return rc;
}

static int dns_prepare_hook(struct virtual_service *svc, const struct service_spec *sp, char *err)
{
	struct dns_svc *ds = dsvc(svc);

	geo_map_free(ds->geo_next);
	ds->geo_next = NULL;
	if (sp->proxy != &dns_mode)
		return 0;
	if (!ds->ctr) {
		size_t size = (size_t)(nworkers + 1) * sizeof(*ds->ctr);

		ds->ctr = aligned_alloc(CACHELINE, size);
		if (!ds->ctr) {
			snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
			return -ENOMEM;
		}
		memset(ds->ctr, 0, size);
	}
	return load_geo(dns_opts_spec(sp), &ds->geo_next, err);
}

static void dns_applied(struct virtual_service *svc, const struct service_spec *sp)
{
	struct dns_svc *ds = dsvc(svc);
	struct geo_map *old;

	if (svc->proxy != &dns_mode)
		return;
	pthread_mutex_lock(&svc->lock);
	old = ds->geo;
	ds->geo = ds->geo_next;
	ds->geo_next = NULL;
	pthread_mutex_unlock(&svc->lock);
	retire(NULL, old, now_ms(), false);
	atomic_fetch_add_explicit(&ds->ogen, 1, memory_order_release);
}

static void dns_removed(struct virtual_service *svc)
{
	struct dns_svc *ds = dsvc(svc);

	geo_map_free(ds->geo_next);
	ds->geo_next = NULL;
	retire_mem(atomic_exchange(&ds->zone, NULL), ds->geo, ds->ctr, now_ms(), false);
	ds->geo = NULL;
	ds->ctr = NULL;
	free(ds->rates); /* control thread's alone */
	ds->rates = NULL;
}

static void dns_tick(struct virtual_service *svc, uint64_t now);

static const struct table_hooks dns_hooks = {
	.svc_prepare = dns_prepare_hook,
	.svc_applied = dns_applied,
	.svc_removed = dns_removed,
	.svc_tick = dns_tick,
};

void dns_stats(struct virtual_service *svc,
	       void (*fn)(void *arg, const char *name, const char *type, const char *rcode,
			  uint64_t n),
	       void (*loc_fn)(void *arg, const char *loc, uint64_t n), void *arg)
{
	struct dns_svc *ds = dsvc(svc);
	const struct dns_opts *o = dns_opts_spec(&svc->spec);
	char names[CNT_NAMES + 1][DNS_OPT_NAME];
	const char *p = o->names;
	int nn = 0;

	if (svc->proxy != &dns_mode || !ds->ctr)
		return;
	/* the names in the order of the options (the zone's order) */
	while (*p && nn < CNT_NAMES) {
		size_t l = strcspn(p, " ");

		snprintf(names[nn++], DNS_OPT_NAME, "%.*s", (int)l, p);
		p += l + (p[l] == ' ');
	}
	snprintf(names[CNT_NAMES], DNS_OPT_NAME, "other");
	for (int i = 0; fn && i <= CNT_NAMES; i++) {
		if (i >= nn && i < CNT_NAMES)
			continue;
		for (int t = 0; t < CNT_TYPES; t++)
			for (int r = 0; r < CNT_RCODES; r++) {
				uint64_t n = 0;

				for (int k = 0; k <= nworkers; k++)
					n += counter_read(&ds->ctr[k].q[i][t][r]);
				if (n)
					fn(arg, names[i], t < CNT_TYPES - 1 ?
					   dns_type_name(cnt_types[t]) : "other",
					   cnt_rcodes[r] == 16 ? "BADVERS" :
					   dns_rcode_name(cnt_rcodes[r]), n);
			}
	}
	pthread_mutex_lock(&svc->lock);
	for (int l = 0; loc_fn && ds->geo && l < CNT_LOCS && (size_t)l < geo_loc_count(ds->geo);
	     l++) {
		uint64_t n = 0;

		for (int k = 0; k <= nworkers; k++)
			n += counter_read(&ds->ctr[k].loc[l]);
		loc_fn(arg, geo_loc_name(ds->geo, (uint16_t)l), n);
	}
	pthread_mutex_unlock(&svc->lock);
}

/* The class of rcode index <r> (cnt_rcodes) in dns_name_numbers. */
static int class_of(int r)
{
	switch (cnt_rcodes[r]) {
	case DNS_R_NOERROR: return DNS_CLASS_NOERROR;
	case DNS_R_NXDOMAIN: return DNS_CLASS_NXDOMAIN;
	case DNS_R_REFUSED: return DNS_CLASS_REFUSED;
	default: return DNS_CLASS_OTHER;
	}
}

/* Totals of name index <i> by class, summed over the threads. */
static void name_totals(const struct dns_svc *ds, int i, uint64_t *q)
{
	memset(q, 0, DNS_CLASSES * sizeof(*q));
	for (int k = 0; k <= nworkers; k++)
		for (int t = 0; t < CNT_TYPES; t++)
			for (int r = 0; r < CNT_RCODES; r++) {
				uint64_t n = counter_read(&ds->ctr[k].q[i][t][r]);

				q[DNS_CLASS_ALL] += n;
				q[class_of(r)] += n;
			}
}

static void dns_tick(struct virtual_service *svc, uint64_t now)
{
	struct dns_svc *ds = dsvc(svc);
	uint64_t q[DNS_CLASSES];

	if (svc->proxy != &dns_mode || !ds->ctr)
		return;
	if (!ds->rates && !(ds->rates = calloc(1, sizeof(*ds->rates))))
		return;
	for (int i = 0; i <= CNT_NAMES; i++) {
		name_totals(ds, i, q);
		for (int c = 0; c < DNS_CLASSES; c++)
			rate_one_update(&ds->rates->q[i][c], q[c]);
	}
}

void dns_name_numbers(struct virtual_service *svc,
		      void (*fn)(void *arg, const char *name, const uint64_t *total,
				 const uint64_t *rate), void *arg)
{
	const struct dns_svc *ds = dsvc(svc);
	const char *p = dns_opts_spec(&svc->spec)->names;
	uint64_t q[DNS_CLASSES], r[DNS_CLASSES];
	char name[DNS_OPT_NAME];

	if (svc->proxy != &dns_mode || !ds->ctr)
		return;
	for (int i = 0; i <= CNT_NAMES; i++) {
		size_t l = strcspn(p, " ");

		if (i < CNT_NAMES && !*p)
			continue;
		if (i < CNT_NAMES) {
			snprintf(name, sizeof(name), "%.*s", (int)l, p);
			p += l + (p[l] == ' ');
		} else {
			snprintf(name, sizeof(name), "other");
		}
		name_totals(ds, i, q);
		for (int c = 0; c < DNS_CLASSES; c++)
			r[c] = ds->rates ? rate_one_read(&ds->rates->q[i][c]) : 0;
		if (i < CNT_NAMES || q[DNS_CLASS_ALL])
			fn(arg, name, q, r);
	}
}

void dns_register(void)
{
	dns_area = table_svc_area(sizeof(struct dns_svc));
	table_hooks_register(&dns_hooks);
	mode_register(&dns_mode);
	opt_register(&dns_opt_block);
	dns_xdp_register();
	atexit(free_all_retired);
}
