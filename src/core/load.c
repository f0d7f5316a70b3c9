/*
 * load.c - the load weir sees on a server elsewhere, for the services
 * whose own connections say nothing of it (a mode with load_elsewhere:
 * DNS answers open none). See table_load_tick() in table.h.
 *
 * Every RATE_INTERVAL_MS the control thread takes a census: each other
 * service's VIP with its servers' active connections, and each of their
 * servers with its own; then each server of a load_elsewhere service gets
 * the count that matches its address as sched_server.ext_active, which the
 * lc family (and p2c, lblc...) add to its own count. A query never looks
 * at another service: it reads its own scheduler, under its own lock.
 */
#include <stdlib.h>
#include <string.h>

#include "core/table.h"

/* One address seen in the census and the active connections on it. */
struct seen {
	struct weir_addr addr;
	uint64_t active;
};

struct census {
	struct seen *vip, *rs;
	size_t nvip, nrs, capvip, caprs;
	bool wanted;     /* a load_elsewhere service exists */
	bool nomem;
};

static bool wants_load(const struct virtual_service *svc)
{
	return svc->proxy && svc->proxy->load_elsewhere;
}

static struct seen *grow(struct seen **v, size_t *n, size_t *cap, size_t more)
{
	if (*n + more > *cap) {
		size_t c = (*n + more) * 2;
		struct seen *p = realloc(*v, c * sizeof(*p));

		if (!p)
			return NULL;
		*v = p;
		*cap = c;
	}
	return *v + *n;
}

/* Records <svc>'s VIP (not a pool's: it shares its owner's) and servers. */
static void take(struct virtual_service *svc, struct virtual_service *owner,
		 const char *pool, void *arg)
{
	struct census *c = arg;
	struct seen *r, *v = NULL;
	uint64_t total = 0;

	if (wants_load(svc) || (owner && wants_load(owner))) {
		c->wanted = true;
		return;
	}
	pthread_mutex_lock(&svc->lock);
	r = grow(&c->rs, &c->nrs, &c->caprs, svc->nservers);
	if (!owner)
		v = grow(&c->vip, &c->nvip, &c->capvip, 1);
	if (!r || (!owner && !v)) {
		c->nomem = true;
		pthread_mutex_unlock(&svc->lock);
		return;
	}
	for (size_t i = 0; i < svc->nservers; i++) {
		r[i].addr = svc->servers[i]->addr;
		r[i].active = rs_active_all(svc->servers[i]);
		total += r[i].active;
	}
	c->nrs += svc->nservers;
	pthread_mutex_unlock(&svc->lock);
	if (v) {
		v->addr = svc->addr;
		v->active = total;
		c->nvip++;
	}
}

static bool same_ip(const struct weir_addr *a, const struct weir_addr *b)
{
	uint8_t x[16], y[16];
	uint8_t n = addr_bytes(a, x);

	return addr_family(a) == addr_family(b) && n == addr_bytes(b, y) && !memcmp(x, y, n);
}

/* The load on <a> in <v>: its IP:port's, else the sum over its IP's
 * ports; false if the IP is not there at all. */
static bool match(const struct seen *v, size_t n, const struct weir_addr *a, uint64_t *out)
{
	uint64_t exact = 0, any = 0;
	bool hit = false, ip = false;

	for (size_t i = 0; i < n; i++) {
		if (!same_ip(&v[i].addr, a))
			continue;
		ip = true;
		any += v[i].active;
		if (addr_port(&v[i].addr) == addr_port(a)) {
			hit = true;
			exact += v[i].active;
		}
	}
	*out = hit ? exact : any;
	return ip;
}

static void give(struct virtual_service *svc, struct virtual_service *owner,
		 const char *pool, void *arg)
{
	const struct census *c = arg;

	if (!wants_load(svc) && !(owner && wants_load(owner)))
		return;
	pthread_mutex_lock(&svc->lock);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];
		uint64_t n = 0;

		if (!match(c->vip, c->nvip, &rs->addr, &n) && !match(c->rs, c->nrs, &rs->addr, &n))
			n = rs->load_reported > 0 ? (uint64_t)rs->load_reported : 0;
		sched_server_load(svc->sched, &rs->ss, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	}
	pthread_mutex_unlock(&svc->lock);
}

void table_load_tick(struct vs_table *t)
{
	struct census c = { 0 };

	table_foreach(t, take, &c);
	/* out of memory: keep the last loads (the next tick tries again) */
	if (c.wanted && !c.nomem)
		table_foreach(t, give, &c);
	free(c.vip);
	free(c.rs);
}
