/* conns.c - the XDP connection table for -L -c (see conns.h). */
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xdp/conns.h"
#include "xdp/xdp_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "weir_xdp.h"
#include "weir_xdp.skel.h"

#define CHUNK 1024              /* flows read per batch */

uint8_t xdp_conn_state(uint8_t state)
{
	switch (state) {
	case WX_ST_SYN: return CONN_SYN_RECV;
	case WX_ST_EST: return CONN_ESTABLISHED;
	case WX_ST_FIN: return CONN_FIN_WAIT;
	case WX_ST_CLOSE: return CONN_CLOSE;
	default: return CONN_UDP;
	}
}

/* As the program's life_ns(): a 0 setting is the program's default. */
uint64_t xdp_flow_life_ms(const struct wx_config *cfg, uint8_t state)
{
	switch (state) {
	case WX_ST_SYN: return cfg->tcp_syn_ms ? cfg->tcp_syn_ms : WX_DEF_SYN_MS;
	case WX_ST_EST: return cfg->tcp_est_ms ? cfg->tcp_est_ms : WX_DEF_EST_MS;
	case WX_ST_FIN:
	case WX_ST_CLOSE: return cfg->tcp_fin_ms ? cfg->tcp_fin_ms : WX_DEF_FIN_MS;
	default: return cfg->udp_ms ? cfg->udp_ms : WX_DEF_UDP_MS;
	}
}

static void addr_of(const struct wx_addr *a, __u8 family, __u16 port_be, struct weir_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == 6) {
		out->u.in6.sin6_family = AF_INET6;
		memcpy(&out->u.in6.sin6_addr, a->w, 16);
		out->u.in6.sin6_port = port_be;
	} else {
		out->u.in.sin_family = AF_INET;
		out->u.in.sin_addr.s_addr = a->w[0];
		out->u.in.sin_port = port_be;
	}
}

/* CLOCK_MONOTONIC in ns: bpf_ktime_get_coarse_ns()'s clock. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The real server of slot <idx>, its port 0 meaning the VIP's <vport>. */
static int real_of(struct weir_xdp *skel, __u32 idx, __u16 vport, struct weir_addr *out)
{
	struct wx_real r;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.wx_reals), &idx, &r) != 0 ||
	    !(r.flags & WX_REAL_LIVE))
		return -ENOENT;
	addr_of(&r.addr, r.family, r.port ? r.port : vport, out);
	return 0;
}

static int add_flow(struct weir_xdp *skel, const struct wx_config *cfg, uint64_t now,
		    const struct wx_flow_key *k, const struct wx_flow *f, struct conn_list *out)
{
	uint64_t until = f->seen_ns + xdp_flow_life_ms(cfg, f->state) * 1000000u;
	struct conn_entry e = { .proto = k->proto, .state = xdp_conn_state(f->state) };

	if (now >= until)
		return 0; /* over: the sweep deletes it */
	e.expire_s = conn_expire_s(now, until, 1000000000u);
	addr_of(&k->src, k->family, k->sport, &e.src);
	addr_of(&k->dst, k->family, k->dport, &e.vip);
	real_of(skel, f->real, k->dport, &e.dst);
	return conn_list_add(out, &e);
}

static int read_flows(struct weir_xdp *skel, const struct wx_config *cfg, struct conn_list *out)
{
	int fd = bpf_map__fd(skel->maps.wx_flows), rc = 0;
	struct wx_flow_key *keys = calloc(CHUNK, sizeof(*keys));
	struct wx_flow *vals = calloc(CHUNK, sizeof(*vals));
	uint64_t now = mono_ns();
	__u32 in = 0, next = 0;
	bool first = true, done = false;

	if (!keys || !vals)
		rc = -ENOMEM;
	while (!rc && !done) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = CHUNK;
		int r = bpf_map_lookup_batch(fd, first ? NULL : &in, &next, keys, vals, &count, &opts);

		if (r < 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
		done = r < 0; /* ENOENT: that was the last batch */
		for (__u32 i = 0; i < count && !rc; i++)
			rc = add_flow(skel, cfg, now, &keys[i], &vals[i], out);
		in = next;
		first = false;
	}
	free(keys);
	free(vals);
	return rc;
}

/* The service of each id, for the templates (wx_persist names the id). */
struct svc_ids {
	struct wx_svc_key key[WX_MAX_SERVICES];
	struct wx_svc val[WX_MAX_SERVICES];
	bool has[WX_MAX_SERVICES];
};

static void read_services(struct weir_xdp *skel, struct svc_ids *ids)
{
	int fd = bpf_map__fd(skel->maps.wx_services);
	struct wx_svc_key k, nk;
	struct wx_svc v;
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : &k, &nk) == 0) {
		first = false;
		k = nk;
		if (bpf_map_lookup_elem(fd, &k, &v) != 0 || v.id >= WX_MAX_SERVICES)
			continue;
		ids->key[v.id] = k;
		ids->val[v.id] = v;
		ids->has[v.id] = true;
	}
}

/* IPVS shows a template as a connection in state NONE from the client
 * (port 0) to the service, bound to its real server. */
static int read_templates(struct weir_xdp *skel, struct conn_list *out)
{
	int fd = bpf_map__fd(skel->maps.wx_persist), rc = 0;
	struct svc_ids *ids = calloc(1, sizeof(*ids));
	struct wx_persist_key k, nk;
	struct wx_persist v;
	uint64_t now = mono_ns();
	bool first = true;

	if (!ids)
		return -ENOMEM;
	read_services(skel, ids);
	while (!rc && bpf_map_get_next_key(fd, first ? NULL : &k, &nk) == 0) {
		const struct wx_svc_key *sk;
		struct conn_entry e = { .state = CONN_NONE };
		uint64_t until;

		first = false;
		k = nk;
		if (bpf_map_lookup_elem(fd, &k, &v) != 0 || k.svc_id >= WX_MAX_SERVICES ||
		    !ids->has[k.svc_id] || !ids->val[k.svc_id].persist_ms)
			continue;
		sk = &ids->key[k.svc_id];
		until = v.seen_ns + (uint64_t)ids->val[k.svc_id].persist_ms * 1000000u;
		if (now >= until)
			continue;
		e.proto = sk->proto;
		e.expire_s = conn_expire_s(now, until, 1000000000u);
		addr_of(&k.src, sk->family, 0, &e.src);
		addr_of(&sk->vip, sk->family, sk->port, &e.vip);
		if (real_of(skel, v.real, sk->port, &e.dst) != 0)
			continue;
		rc = conn_list_add(out, &e);
	}
	free(ids);
	return rc;
}

int xdp_conns(struct conn_list *out)
{
	struct weir_xdp *skel = xdp_skel();
	struct wx_config cfg = { 0 };
	__u32 zero = 0;
	int rc;

	if (!skel)
		return 0;
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.wx_config), &zero, &cfg);
	rc = read_flows(skel, &cfg, out);
	if (rc == 0)
		rc = read_templates(skel, out);
	return rc;
}
