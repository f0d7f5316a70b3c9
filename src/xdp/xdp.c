/* xdp.c - the control of the XDP data path (see xdp.h). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/types.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sched/sched.h"
#include "xdp/xdp.h"
#include "xdp/xdp_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "weir_xdp.h"
#include "weir_xdp.skel.h"

/* The data path's area of a real server (table_rs_area). Control thread. */
struct xdp_rs {
	int idx;                        /* its slot in the data path; -1 = none */
	uint64_t active;                /* open flows the data path counts */
};

static size_t xdp_rs_off;

static struct xdp_rs *xrs(const struct real_server *rs)
{
	return rs_area(rs, xdp_rs_off);
}

uint64_t xdp_rs_active(const struct real_server *rs)
{
	return xrs(rs)->active;
}

/* A packet-mode service the data path carries. */
struct xsvc {
	struct virtual_service *svc;    /* a reference */
	struct wx_svc_key key;
	uint32_t id;
	unsigned gen;                   /* svc->gen when its table was built */
	uint64_t built_ms;
	bool periodic;                  /* its table follows flow counts: rebuilt often */
	bool seen;                      /* xdp_sync's mark */
	struct real_server **reals;     /* those given a slot, with references */
	size_t nreals;
	struct xsvc *next;
};

/* A real server's slot after it left: kept OUT until its flows are over,
 * that is until the timeouts in force have passed since it left (they may
 * change with weirctl --set) and a whole sweep begun after it left found
 * no flow of it (a flow kept busy outlives any timeout). */
struct retired {
	uint32_t idx;
	uint64_t left_ms;
	uint64_t sweeps;                /* X.sweeps when it left */
	struct retired *next;
};

static struct {
	struct weir_xdp *skel;
	struct xdp_spec spec;           /* the settings in force; kept across xdp_stop() */
	struct conn_timeouts tmo;       /* the config's (ipvsadm --set), at each sync */
	int ncpus;
	uint8_t svc_used[WX_MAX_SERVICES];
	uint8_t real_used[WX_MAX_REALS];
	struct xsvc *svcs;
	struct retired *retired;
	struct wx_stats *last;          /* [WX_STATS_SIZE]: sums already folded */
	int64_t swept[WX_MAX_REALS];    /* open flows the sweep removed, per real:
	                                 * wx_active cannot count those down */
	uint8_t has_flows[WX_MAX_REALS]; /* the last whole sweep found a live flow */
	uint64_t sweeps;                /* whole sweeps done */
	struct wx_stats *pcpu;          /* [ncpus]: a lookup's buffer */
	int32_t *ring;                  /* [WX_RING] scratch */
	uint32_t *slots;                /* [WX_RING] scratch */
	uint32_t dns_services;          /* in wx_dns_svcs (dns_maps.c) */
} X;

/* --- for dns_maps.c (xdp_int.h) ------------------------------------------------- */

struct weir_xdp *xdp_skel(void)
{
	return X.skel;
}

int xdp_ncpus(void)
{
	return X.ncpus;
}

static int alloc_slot(uint8_t *used, size_t n);

int xdp_svc_id_alloc(void)
{
	return alloc_slot(X.svc_used, WX_MAX_SERVICES);
}

void xdp_svc_id_free(uint32_t id)
{
	X.svc_used[id] = 0;
}

static void write_config(const struct xdp_spec *spec);

void xdp_dns_count(uint32_t n)
{
	X.dns_services = n;
	if (X.skel)
		write_config(&X.spec);
}

const struct xdp_spec *xdp_settings(void)
{
	return &X.spec;
}

bool xdp_running(void)
{
	return X.skel != NULL;
}

static int map_fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* --- addresses ------------------------------------------------------------------- */

static uint8_t wx_family(const struct weir_addr *a)
{
	return addr_family(a) == AF_INET6 ? 6 : 4;
}

static void wx_addr_of(const struct weir_addr *a, struct wx_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (addr_family(a) == AF_INET6)
		memcpy(out->w, &a->u.in6.sin6_addr, 16);
	else if (addr_family(a) == AF_INET)
		out->w[0] = a->u.in.sin_addr.s_addr;
}

static void svc_key_of(const struct virtual_service *svc, struct wx_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	wx_addr_of(&svc->addr, &k->vip);
	k->port = htons(addr_port(&svc->addr));
	k->proto = (uint8_t)svc->proto;
	k->family = wx_family(&svc->addr);
}

/* --- loading and settings ------------------------------------------------------- */

static void write_config(const struct xdp_spec *spec)
{
	struct wx_config c = {
		.fullnat_lo = spec->fullnat_lo,
		.fullnat_hi = spec->fullnat_hi,
		.tcp_syn_ms = spec->tcp_syn_ms,
		.tcp_est_ms = X.tmo.tcp_ms,
		.tcp_fin_ms = X.tmo.tcp_fin_ms,
		.udp_ms = X.tmo.udp_ms,
		.dns_services = X.dns_services,
	};
	uint32_t zero = 0;

	if (xdp_local(AF_INET))
		wx_addr_of(xdp_local(AF_INET), &c.local4);
	if (xdp_local(AF_INET6))
		wx_addr_of(xdp_local(AF_INET6), &c.local6);
	if (bpf_map_update_elem(map_fd(X.skel->maps.wx_config), &zero, &c, BPF_ANY) != 0)
		log_err("xdp: cannot write the settings: %s", strerror(errno));
}

static int load(char *err)
{
	int rc;

	if (!X.tmo.tcp_ms) /* before the first sync */
		spec_timeouts_defaults(&X.tmo);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	X.ncpus = libbpf_num_possible_cpus();
	X.skel = weir_xdp__open();
	if (!X.skel) {
		snprintf(err, SPEC_ERR_MAX, "xdp: cannot open the program: %s", strerror(errno));
		return -errno;
	}
	if ((rc = weir_xdp__load(X.skel)) != 0) {
		snprintf(err, SPEC_ERR_MAX, "xdp: the kernel refused the program: %s",
			 strerror(-rc));
		weir_xdp__destroy(X.skel);
		X.skel = NULL;
		return rc;
	}
	X.last = calloc(WX_STATS_SIZE, sizeof(*X.last));
	X.pcpu = calloc((size_t)X.ncpus, sizeof(*X.pcpu));
	X.ring = calloc(WX_RING, sizeof(*X.ring));
	X.slots = calloc(WX_RING, sizeof(*X.slots));
	if (!X.last || !X.pcpu || !X.ring || !X.slots) {
		xdp_stop();
		snprintf(err, SPEC_ERR_MAX, "xdp: out of memory");
		return -ENOMEM;
	}
	return 0;
}

int xdp_load(char *err)
{
	int rc;

	if (X.skel)
		return 0;
	if ((rc = load(err)) == 0)
		write_config(&X.spec);
	return rc;
}

int xdp_configure(const struct xdp_spec *spec, char *err)
{
	int rc;

	if (!spec->nifaces && !X.skel) {
		X.spec = *spec;
		return 0;
	}
	if (!X.skel && (rc = load(err)) != 0)
		return rc;
	if ((rc = xdp_attach_config(spec, err)) != 0)
		return rc;
	X.spec = *spec;
	write_config(spec);
	return 0;
}

/* --- keeping the maps in step --------------------------------------------------- */

static int alloc_slot(uint8_t *used, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!used[i]) {
			used[i] = 1;
			return (int)i;
		}
	return -1;
}

static uint8_t mode_of(enum fwd_method f)
{
	switch (f) {
	case FWD_TUNNEL: return WX_TUN;
	case FWD_MASQ: return WX_NAT;
	case FWD_FULLNAT: return WX_FULLNAT;
	default: return WX_DR;
	}
}

/* Writes a real server's entry; OUT unless it may keep its flows. Lock held. */
static void write_real(const struct real_server *rs, uint32_t svc_id)
{
	struct wx_real r = { .svc_id = svc_id, .flags = WX_REAL_LIVE };
	uint32_t idx = (uint32_t)xrs(rs)->idx;

	wx_addr_of(&rs->addr, &r.addr);
	r.family = wx_family(&rs->addr);
	r.mode = mode_of(rs->spec.fwd);
	if (r.mode == WX_NAT || r.mode == WX_FULLNAT)
		r.port = htons(addr_port(&rs->addr));
	/* persistence outlives draining, not failure: the same line for flows */
	if (rs->removed || (rs->ss.flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT)))
		r.flags |= WX_REAL_OUT;
	if (bpf_map_update_elem(map_fd(X.skel->maps.wx_reals), &idx, &r, BPF_ANY) != 0)
		log_err("xdp: cannot write a real server: %s", strerror(errno));
}

/* The open flows per server of <svc> from wx_active (summed over CPUs). */
static void read_active(struct virtual_service *svc, uint64_t *out, size_t n)
{
	int fd = map_fd(X.skel->maps.wx_active);
	int64_t *v = calloc((size_t)X.ncpus, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		struct real_server *rs = svc->servers[i];
		uint32_t idx = (uint32_t)xrs(rs)->idx;
		int64_t sum = 0;

		out[i] = 0;
		if (!v || xrs(rs)->idx < 0 || bpf_map_lookup_elem(fd, &idx, v) != 0)
			continue;
		for (int c = 0; c < X.ncpus; c++)
			sum += v[c];
		sum -= X.swept[idx];
		out[i] = sum > 0 ? (uint64_t)sum : 0;
		xrs(rs)->active = out[i];
	}
	free(v);
}

/* A slot given to a new real starts with no open flows. */
static void zero_active(uint32_t idx)
{
	int64_t *zeros = calloc((size_t)X.ncpus, sizeof(*zeros));

	if (zeros)
		bpf_map_update_elem(map_fd(X.skel->maps.wx_active), &idx, zeros, BPF_ANY);
	free(zeros);
	X.swept[idx] = 0;
}

/* Builds and writes <x>'s table and service entry. */
static void write_service(struct xsvc *x, uint64_t now)
{
	struct virtual_service *svc = x->svc;
	int fd = map_fd(X.skel->maps.wx_rings);
	struct wx_svc v = { .id = x->id };
	uint64_t *active;
	uint32_t used = 0;
	uint8_t pick = WX_PICK_SEQ;
	size_t n;

	x->gen = atomic_load_explicit(&svc->gen, memory_order_relaxed);
	x->built_ms = now;
	pthread_mutex_lock(&svc->lock);
	n = svc->nservers;
	pthread_mutex_unlock(&svc->lock);
	active = calloc(n + 1, sizeof(*active));
	if (!active)
		return;
	/* control thread: the server list changes only here, no lock needed */
	read_active(svc, active, n);
	if (xdp_build_ring(svc, active, X.ring, &used, &pick) != 0) {
		log_err("xdp: cannot build the table of a service: out of memory");
		free(active);
		return;
	}
	free(active);
	for (uint32_t i = 0; i < used; i++) {
		int32_t pos = X.ring[i];
		uint32_t key = x->id * WX_RING + i;

		X.slots[i] = pos >= 0 && (size_t)pos < n && xrs(svc->servers[pos])->idx >= 0 ?
			     (uint32_t)xrs(svc->servers[pos])->idx : WX_NONE;
		bpf_map_update_elem(fd, &key, &X.slots[i], BPF_ANY);
	}
	v.ring_size = used;
	v.pick = pick;
	v.flags = svc->spec.reset_gone ? WX_SVC_RESET_GONE : 0;
	v.persist_prefix = svc->spec.persist_prefix;
	v.persist_ms = svc->spec.persist_s * 1000u;
	if (bpf_map_update_elem(map_fd(X.skel->maps.wx_services), &x->key, &v, BPF_ANY) != 0)
		log_err("xdp: cannot write a service: %s", strerror(errno));
	/* a new sequence is walked from its start: its first picks are the
	 * ones computed from the freshest counts */
	if (pick == WX_PICK_SEQ) {
		uint32_t zero = 0;

		bpf_map_update_elem(map_fd(X.skel->maps.wx_cursor), &x->id, &zero, BPF_ANY);
	}
}

static struct xsvc *find_xsvc(const struct virtual_service *svc)
{
	for (struct xsvc *x = X.svcs; x; x = x->next)
		if (x->svc == svc)
			return x;
	return NULL;
}

/* Keeps a removed real's slot OUT for as long as its flows may live. */
static void retire_real(uint32_t idx, uint64_t now)
{
	struct retired *r = calloc(1, sizeof(*r));
	struct wx_real v;

	if (bpf_map_lookup_elem(map_fd(X.skel->maps.wx_reals), &idx, &v) == 0) {
		v.flags |= WX_REAL_OUT;
		bpf_map_update_elem(map_fd(X.skel->maps.wx_reals), &idx, &v, BPF_ANY);
	}
	if (!r) {
		X.real_used[idx] = 0;
		return;
	}
	r->idx = idx;
	r->left_ms = now;
	r->sweeps = X.sweeps;
	r->next = X.retired;
	X.retired = r;
}

/* The servers <x> wrote before that are no longer in the service leave
 * their slots to retire; the list becomes the service's current one. */
static void track_reals(struct xsvc *x, uint64_t now)
{
	struct virtual_service *svc = x->svc;
	struct real_server **next = calloc(svc->nservers + 1, sizeof(*next));

	if (!next)
		return; /* keep the old list: retired later */
	for (size_t i = 0; i < svc->nservers; i++) {
		next[i] = svc->servers[i];
		rs_get(next[i]);
	}
	for (size_t k = 0; k < x->nreals; k++) {
		bool kept = false;

		for (size_t i = 0; i < svc->nservers && !kept; i++)
			kept = next[i] == x->reals[k];
		if (!kept && xrs(x->reals[k])->idx >= 0)
			retire_real((uint32_t)xrs(x->reals[k])->idx, now);
		rs_put(x->reals[k]);
	}
	free(x->reals);
	x->reals = next;
	x->nreals = svc->nservers;
}

static void sync_service(struct virtual_service *svc, uint64_t now)
{
	struct xsvc *x = find_xsvc(svc);

	if (!x) {
		int id = alloc_slot(X.svc_used, WX_MAX_SERVICES);
		char a[ADDR_STRLEN];

		if (id < 0 || !(x = calloc(1, sizeof(*x)))) {
			if (id >= 0)
				X.svc_used[id] = 0;
			log_err("xdp: %s %s: no room in the data path (%d services at most)",
				proto_name(svc->proto), addr_str(&svc->addr, a), WX_MAX_SERVICES);
			return;
		}
		x->svc = svc;
		svc_get(svc);
		x->id = (uint32_t)id;
		svc_key_of(svc, &x->key);
		x->next = X.svcs;
		X.svcs = x;
	}
	x->seen = true;
	x->periodic = sched_find(svc->spec.sched)->periodic;
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];

		if (xrs(rs)->idx < 0) {
			if ((xrs(rs)->idx = alloc_slot(X.real_used, WX_MAX_REALS)) < 0) {
				log_err("xdp: no room for more real servers (%d at most)",
					WX_MAX_REALS);
				continue;
			}
			zero_active((uint32_t)xrs(rs)->idx);
		}
		pthread_mutex_lock(&svc->lock);
		write_real(rs, x->id);
		pthread_mutex_unlock(&svc->lock);
	}
	track_reals(x, now);
	write_service(x, now);
}

static void drop_service(struct xsvc *x, uint64_t now)
{
	bpf_map_delete_elem(map_fd(X.skel->maps.wx_services), &x->key);
	for (size_t k = 0; k < x->nreals; k++) {
		if (xrs(x->reals[k])->idx >= 0)
			retire_real((uint32_t)xrs(x->reals[k])->idx, now);
		rs_put(x->reals[k]);
	}
	free(x->reals);
	X.svc_used[x->id] = 0;
	svc_put(x->svc);
	free(x);
}

void xdp_sync(struct vs_table *t)
{
	uint64_t now = now_ms();

	X.tmo = t->cfg.timeouts; /* weirctl --set: written below, the program's next lookup */
	if (!X.skel)
		return;
	for (struct xsvc *x = X.svcs; x; x = x->next)
		x->seen = false;
	for (struct virtual_service *svc = t->head; svc; svc = svc->next)
		if (!svc->proxy)
			sync_service(svc, now);
	for (struct xsvc **pp = &X.svcs; *pp;) {
		struct xsvc *x = *pp;

		if (x->seen) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		drop_service(x, now);
	}
	/* the interfaces follow the services; nothing attached: unloaded */
	if (!xdp_attach_sync(t) && !X.spec.nifaces)
		xdp_stop();
	else
		write_config(&X.spec);
}

void xdp_unload_idle(void)
{
	if (X.skel && !X.svcs && !X.spec.nifaces)
		xdp_stop();
}

/* --- the ticks --------------------------------------------------------------------- */

/* How long a flow in <state> lives after its last packet (as the program). */
static uint64_t life_ns(uint8_t state)
{
	uint32_t ms;

	switch (state) {
	case WX_ST_SYN: ms = X.spec.tcp_syn_ms; break;
	case WX_ST_EST: ms = X.tmo.tcp_ms; break;
	case WX_ST_FIN:
	case WX_ST_CLOSE: ms = X.tmo.tcp_fin_ms; break;
	default: ms = X.tmo.udp_ms; break;
	}
	return (uint64_t)ms * 1000000u;
}

/* Deletes the flows whose life is over. The program counts a flow down in
 * wx_active when it sees its FIN or RST, or replaces it; one that just
 * went quiet (a client gone, UDP) is counted down here, in X.swept. */
static void sweep_flows(void)
{
	enum { CHUNK = 4096 };
	int fd = map_fd(X.skel->maps.wx_flows);
	struct wx_flow_key *keys = calloc(CHUNK, sizeof(*keys));
	struct wx_flow *vals = calloc(CHUNK, sizeof(*vals));
	uint8_t *live = calloc(WX_MAX_REALS, 1);
	struct timespec ts;
	uint32_t in = 0, out = 0;
	bool first = true, whole = false;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	while (keys && vals && live && !whole) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = CHUNK;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					      &opts);

		if (rc < 0 && errno != ENOENT)
			break;
		whole = rc < 0; /* ENOENT: the last chunk */
		for (__u32 i = 0; i < count; i++) {
			const struct wx_flow *f = &vals[i];

			if (now < f->seen_ns || now - f->seen_ns <= life_ns(f->state) + 1000000000u) {
				if (f->real < WX_MAX_REALS)
					live[f->real] = 1;
				continue;
			}
			if (bpf_map_delete_elem(fd, &keys[i]) != 0)
				continue;
			if (f->state != WX_ST_FIN && f->state != WX_ST_CLOSE && f->real < WX_MAX_REALS)
				X.swept[f->real]++;
		}
		in = out;
		first = false;
	}
	if (whole) { /* what reap_retired() may trust */
		memcpy(X.has_flows, live, sizeof(X.has_flows));
		X.sweeps++;
	}
	free(live);
	free(keys);
	free(vals);
}

/* Frees the slots of retired reals whose flows are over. */
static void reap_retired(uint64_t now)
{
	for (struct retired **pp = &X.retired; *pp;) {
		struct retired *r = *pp;
		struct wx_real none = { 0 };

		uint64_t life = MAX(MAX(X.tmo.tcp_ms, X.tmo.tcp_fin_ms), X.tmo.udp_ms);

		if (now < r->left_ms + life + 1000 || X.sweeps <= r->sweeps ||
		    X.has_flows[r->idx]) {
			pp = &r->next;
			continue;
		}
		bpf_map_update_elem(map_fd(X.skel->maps.wx_reals), &r->idx, &none, BPF_ANY);
		zero_active(r->idx);
		X.real_used[r->idx] = 0;
		*pp = r->next;
		free(r);
	}
}

void xdp_tick(uint64_t now)
{
	if (!X.skel)
		return;
	for (struct xsvc *x = X.svcs; x; x = x->next) {
		unsigned gen = atomic_load_explicit(&x->svc->gen, memory_order_relaxed);

		if (gen != x->gen) {
			/* a state or weight changed: reals' OUT flags and the table */
			for (size_t i = 0; i < x->svc->nservers; i++) {
				pthread_mutex_lock(&x->svc->lock);
				if (xrs(x->svc->servers[i])->idx >= 0)
					write_real(x->svc->servers[i], x->id);
				pthread_mutex_unlock(&x->svc->lock);
			}
			write_service(x, now);
		} else if (x->periodic && now - x->built_ms >= X.spec.rebuild_ms) {
			write_service(x, now);
		}
	}
	reap_retired(now);
}

/* Sums one wx_stats slot over the CPUs. */
static int read_stats(uint32_t key, struct wx_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(map_fd(X.skel->maps.wx_stats), &key, X.pcpu) != 0)
		return -errno;
	for (int c = 0; c < X.ncpus; c++) {
		sum->conns += X.pcpu[c].conns;
		sum->inpkts += X.pcpu[c].inpkts;
		sum->outpkts += X.pcpu[c].outpkts;
		sum->inbytes += X.pcpu[c].inbytes;
		sum->outbytes += X.pcpu[c].outbytes;
	}
	return 0;
}

/* Adds what slot <key> counted since the last fold to <st>. A slot that was
 * reused starts again from what it holds now. */
static void fold(uint32_t key, struct vs_stats *st)
{
	struct vs_counters *c = stats_mine(st);
	struct wx_stats now, *last = &X.last[key];

	if (read_stats(key, &now) != 0)
		return;
	if (now.conns < last->conns || now.inpkts < last->inpkts)
		memset(last, 0, sizeof(*last));
	counter_add(&c->conns, now.conns - last->conns);
	counter_add(&c->inpkts, now.inpkts - last->inpkts);
	counter_add(&c->outpkts, now.outpkts - last->outpkts);
	counter_add(&c->inbytes, now.inbytes - last->inbytes);
	counter_add(&c->outbytes, now.outbytes - last->outbytes);
	*last = now;
}

void xdp_fold_counters(void)
{
	if (!X.skel)
		return;
	sweep_flows();
	for (struct xsvc *x = X.svcs; x; x = x->next) {
		uint64_t *active = calloc(x->svc->nservers + 1, sizeof(*active));

		fold(x->id, &x->svc->stats);
		for (size_t i = 0; i < x->svc->nservers; i++) {
			struct real_server *rs = x->svc->servers[i];

			if (xrs(rs)->idx >= 0)
				fold(WX_STATS_REAL + (uint32_t)xrs(rs)->idx, &rs->stats);
		}
		if (active)
			read_active(x->svc, active, x->svc->nservers);
		free(active);
	}
}

void xdp_stop(void)
{
	struct xdp_spec spec;

	xdp_dns_stop();
	while (X.svcs) {
		struct xsvc *x = X.svcs;

		X.svcs = x->next;
		for (size_t k = 0; k < x->nreals; k++)
			rs_put(x->reals[k]);
		free(x->reals);
		svc_put(x->svc);
		free(x);
	}
	while (X.retired) {
		struct retired *r = X.retired;

		X.retired = r->next;
		free(r);
	}
	xdp_attach_stop();
	if (X.skel)
		weir_xdp__destroy(X.skel);
	free(X.last);
	free(X.pcpu);
	free(X.ring);
	free(X.slots);
	spec = X.spec;
	memset(&X, 0, sizeof(X));
	X.spec = spec;
}

/* --- the table's hooks ----------------------------------------------------------- */

static void xdp_rs_new(struct real_server *rs)
{
	xrs(rs)->idx = -1;
}

static void xdp_svc_added(struct virtual_service *svc)
{
	char a[ADDR_STRLEN];

	if (!svc->proxy && !xdp_running())
		log_warn("%s %s: packet-mode service with no xdp interface configured: "
			 "it carries no traffic", proto_name(svc->proto), addr_str(&svc->addr, a));
}

static const struct table_hooks xdp_hooks = {
	.rs_new = xdp_rs_new,
	.svc_added = xdp_svc_added,
	.sync = xdp_sync,
	.rs_active = xdp_rs_active,
};

void xdp_register(void)
{
	xdp_rs_off = table_rs_area(sizeof(struct xdp_rs));
	table_hooks_register(&xdp_hooks);
	xdp_attach_register();
}
