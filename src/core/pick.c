/*
 * pick.c - the table on the request path: choosing a real server for a
 * connection or a request (the scheduler, persistence, sticky sessions),
 * counting it, and the options a session copies. Any thread; each call
 * takes svc->lock for a short while, never across a syscall (table.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"

/* True if the template's server may still take this client's connections:
 * persistence outlives quiescing and draining (IPVS), not failure. */
static bool persist_usable(const struct sched_server *ss)
{
	return !(ss->flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT));
}

static struct real_server *pick_locked(struct virtual_service *svc,
				       const struct sched_req *req,
				       struct real_server *const *tried, int ntried)
{
	uint64_t *skip = NULL;
	struct sched_req r = *req;
	int idx;

	if (ntried) {
		skip = calloc((svc->nservers + 63) / 64 + 1, sizeof(*skip));
		if (!skip)
			return NULL;
		for (int i = 0; i < ntried; i++) {
			int k = tried[i]->ss.idx;

			if (k >= 0)
				skip[k >> 6] |= 1ull << (k & 63);
		}
		r.skip = skip;
	}
	idx = sched_pick(svc->sched, &r);
	free(skip);
	return idx < 0 ? NULL : svc->servers[idx];
}

static bool was_tried(struct real_server *rs, struct real_server *const *tried, int ntried)
{
	for (int i = 0; i < ntried; i++)
		if (tried[i] == rs)
			return true;
	return false;
}

struct real_server *svc_schedule(struct virtual_service *svc,
				 const struct weir_addr *client, uint64_t now,
				 struct real_server *const *tried, int ntried,
				 struct vs_runtime *rt)
{
	uint8_t src[16], dst[16];
	struct sched_req req = {
		.src = src,
		.src_len = addr_bytes(client, src),
		.src_port = addr_port(client),
		/* the locality key of lblc/lblcr/dh: the destination address,
		 * as IPVS sees it (the HTTP proxy will pass Host+path) */
		.lkey = dst,
		.lkey_len = addr_bytes(&svc->addr, dst),
		.now_ms = now,
	};
	struct real_server *rs = NULL;

	pthread_mutex_lock(&svc->lock);
	if (svc->persist) {
		struct sched_server *ss = persist_lookup(svc->persist, src, req.src_len, now);

		if (ss && persist_usable(ss)) {
			rs = container_of(ss, struct real_server, ss);
			if (was_tried(rs, tried, ntried))
				rs = NULL;
		}
	}
	if (!rs) {
		rs = pick_locked(svc, &req, tried, ntried);
		if (rs && svc->persist)
			persist_bind(svc->persist, src, req.src_len, &rs->ss, now);
	}
	if (rs && svc->persist)
		persist_hold(svc->persist, src, req.src_len);
	if (rs) {
		sched_conn_open(svc->sched, &rs->ss);
		rs_get(rs);
		if (rt)
			vs_runtime_copy(rt, &svc->rt);
	}
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

void svc_runtime(struct virtual_service *svc, struct vs_runtime *rt)
{
	pthread_mutex_lock(&svc->lock);
	vs_runtime_copy(rt, &svc->rt);
	pthread_mutex_unlock(&svc->lock);
}

void svc_runtime_l4(struct virtual_service *svc, struct vs_runtime_l4 *rt)
{
	pthread_mutex_lock(&svc->lock);
	rt->connect_timeout_ms = svc->rt.connect_timeout_ms;
	rt->idle_timeout_ms = svc->rt.idle_timeout_ms;
	rt->fin_timeout_ms = svc->rt.fin_timeout_ms;
	rt->retries = svc->rt.retries;
	rt->send_proxy = svc->rt.send_proxy;
	rt->trusts_fronts = svc->rt.trusts_fronts;
	pthread_mutex_unlock(&svc->lock);
}

bool svc_proxy_trusted(struct virtual_service *svc, const struct weir_addr *peer)
{
	bool yes;

	pthread_mutex_lock(&svc->lock);
	yes = svc->naccept_proxy && cidr_match(svc->accept_proxy, svc->naccept_proxy, peer);
	pthread_mutex_unlock(&svc->lock);
	return yes;
}

/* Counts a connection to <rs> as svc_schedule() does. Lock held. */
static struct real_server *take_locked(struct virtual_service *svc, struct real_server *rs,
				       const struct weir_addr *client, uint64_t now)
{
	uint8_t src[16];
	uint8_t len = addr_bytes(client, src);

	if (svc->persist) {
		persist_bind(svc->persist, src, len, &rs->ss, now);
		persist_hold(svc->persist, src, len);
	}
	sched_conn_open(svc->sched, &rs->ss);
	rs_get(rs);
	return rs;
}

struct real_server *svc_schedule_to(struct virtual_service *svc, struct real_server *want,
				    const struct weir_addr *client, uint64_t now)
{
	struct real_server *rs = NULL;

	pthread_mutex_lock(&svc->lock);
	if (!want->removed && want->ss.idx >= 0 && sched_server_available(&want->ss))
		rs = take_locked(svc, want, client, now);
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

struct real_server *svc_schedule_hash(struct virtual_service *svc, const void *key, size_t len,
				      const struct weir_addr *client, uint64_t now)
{
	struct real_server *rs = NULL;
	int idx;

	pthread_mutex_lock(&svc->lock);
	idx = sched_rendezvous((struct sched_server *const *)svc->servers, svc->nservers, key,
			       len);
	if (idx >= 0)
		rs = take_locked(svc, svc->servers[idx], client, now);
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

void rs_sticky_id(const struct real_server *rs, char out[17])
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	uint64_t h;

	addr_str(&rs->svc->addr, a);
	addr_str(&rs->addr, b);
	h = sched_mix64(sched_fnv1a64(sched_fnv1a64(0x9e3779b97f4a7c15ull, a, strlen(a)), b,
				      strlen(b)));
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

struct real_server *svc_find_sticky(struct virtual_service *svc, const char *id, size_t len)
{
	struct real_server *found = NULL;
	char cur[17];

	if (len != 16)
		return NULL;
	pthread_mutex_lock(&svc->lock);
	for (size_t i = 0; i < svc->nservers && !found; i++) {
		rs_sticky_id(svc->servers[i], cur);
		if (memcmp(cur, id, 16) == 0) {
			found = svc->servers[i];
			rs_get(found);
		}
	}
	pthread_mutex_unlock(&svc->lock);
	return found;
}

void svc_conn_deactivate(struct real_server *rs)
{
	struct virtual_service *svc = rs->svc;

	pthread_mutex_lock(&svc->lock);
	sched_conn_deactivate(svc->sched, &rs->ss);
	pthread_mutex_unlock(&svc->lock);
}

void svc_observe_rtt(struct real_server *rs, uint64_t rtt_ns, uint64_t now)
{
	struct virtual_service *svc = rs->svc;

	if (!atomic_load_explicit(&svc->wants_rtt, memory_order_relaxed))
		return; /* no lock taken for schedulers that ignore it */
	pthread_mutex_lock(&svc->lock);
	sched_observe_rtt(svc->sched, &rs->ss, rtt_ns, now);
	pthread_mutex_unlock(&svc->lock);
}

void svc_conn_close(struct real_server *rs, bool was_active, const struct weir_addr *client,
		    uint64_t now)
{
	struct virtual_service *svc = rs->svc;
	uint8_t src[16];

	pthread_mutex_lock(&svc->lock);
	sched_conn_close(svc->sched, &rs->ss, was_active);
	if (svc->persist)
		persist_release(svc->persist, src, addr_bytes(client, src), now);
	pthread_mutex_unlock(&svc->lock);
	rs_put(rs);
}
