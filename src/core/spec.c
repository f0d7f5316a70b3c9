/* spec.c - the desired configuration and its pure edits (see spec.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/healthspec.h"
#include "core/log.h"
#include "core/option.h"
#include "core/spec.h"
#include "core/util.h"
#include "sched/sched.h"

void spec_xdp_defaults(struct xdp_spec *x)
{
	memset(x, 0, sizeof(*x));
	x->fullnat_lo = 20000;
	x->fullnat_hi = 59999;
	x->tcp_syn_ms = 30000;      /* IPVS: SYN_RECV 60 s, SYN_SENT 2 min; shorter: */
	x->rebuild_ms = 50;         /* ... a scan must not fill the table for long */
}

void spec_timeouts_defaults(struct conn_timeouts *t)
{
	t->tcp_ms = 900000;         /* IPVS's: 15 min, 2 min, 5 min */
	t->tcp_fin_ms = 120000;
	t->udp_ms = 300000;
}

uint32_t spec_idle_timeout(const struct service_spec *s, const struct conn_timeouts *g)
{
	if (s->idle_timeout_ms)
		return s->idle_timeout_ms;
	return s->proto == IPPROTO_UDP ? g->udp_ms : g->tcp_ms;
}

void spec_init(struct weir_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_INFO;
	c->grace_ms = DEFAULT_GRACE_MS;
	spec_xdp_defaults(&c->xdp);
	spec_timeouts_defaults(&c->timeouts);
}

void spec_service_defaults(struct service_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->proto = IPPROTO_TCP;
	s->proxy = NULL;
	snprintf(s->sched, sizeof(s->sched), "%s", DEFAULT_SCHED);
	s->persist_prefix = 32; /* set again once the address family is known */
	s->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	s->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
	s->retries = 3;
	s->drain_status = 503;
	snprintf(s->drain_header, sizeof(s->drain_header), "X-Weir-Drain");
	check_spec_defaults(&s->check, CHECK_NONE);
	agent_spec_defaults(&s->agent);
	outlier_spec_defaults(&s->outlier);
	opt_area_defaults(s);
}

void spec_server_defaults(struct server_spec *r)
{
	memset(r, 0, sizeof(*r));
	r->weight = 1;
	r->fwd = FWD_ROUTE; /* ipvsadm's default, -g */
}

/* The admin states of <old>'s servers in service <sp> (and its pools). */
static void keep_admin(struct service_spec *sp, const struct service_spec *old)
{
	for (size_t i = 0; i < sp->nservers; i++) {
		struct server_spec *r = &sp->servers[i];

		for (size_t k = 0; k < old->nservers && r->admin == ADMIN_UNSET; k++)
			if (addr_equal(&old->servers[k].addr, &r->addr))
				r->admin = old->servers[k].admin;
	}
	for (size_t p = 0; p < sp->npools; p++)
		for (size_t k = 0; k < old->npools; k++)
			if (strcmp(sp->pools[p].name, old->pools[k].name) == 0)
				keep_admin(&sp->pools[p].s, &old->pools[k].s);
}

void spec_keep_admin_state(struct weir_config *next, const struct weir_config *old)
{
	for (size_t i = 0; i < next->nservices; i++) {
		struct service_spec *sp = &next->services[i];

		for (size_t k = 0; k < old->nservices; k++)
			if (old->services[k].proto == sp->proto &&
			    addr_equal(&old->services[k].addr, &sp->addr))
				keep_admin(sp, &old->services[k]);
	}
}

static void service_free(struct service_spec *s)
{
	for (size_t i = 0; i < s->npools; i++)
		free(s->pools[i].s.servers);
	free(s->pools);
	free(s->routes);
	free(s->servers);
	s->servers = NULL;
	s->nservers = 0;
	s->pools = NULL;
	s->npools = 0;
	s->routes = NULL;
	s->nroutes = 0;
}

void spec_clear(struct weir_config *c)
{
	for (size_t i = 0; i < c->nservices; i++)
		service_free(&c->services[i]);
	free(c->services);
	c->services = NULL;
	c->nservices = 0;
}

void spec_free(struct weir_config *c)
{
	spec_clear(c);
	free(c->socket_path);
	c->socket_path = NULL;
}

static void *dup_array(const void *src, size_t n, size_t size, int *rc)
{
	void *p;

	if (!n)
		return NULL;
	p = malloc(n * size);
	if (!p)
		*rc = -ENOMEM;
	else
		memcpy(p, src, n * size);
	return p;
}

/* Deep copy. On error <dst> holds what was copied and must be freed. */
static int service_dup(struct service_spec *dst, const struct service_spec *src)
{
	int rc = 0;

	*dst = *src;
	dst->servers = dup_array(src->servers, src->nservers, sizeof(*src->servers), &rc);
	dst->routes = dup_array(src->routes, src->nroutes, sizeof(*src->routes), &rc);
	dst->pools = dup_array(src->pools, src->npools, sizeof(*src->pools), &rc);
	if (!dst->pools)
		dst->npools = 0;
	for (size_t i = 0; i < dst->npools; i++) {
		struct pool_spec *p = &dst->pools[i];

		p->s.servers = rc ? NULL : dup_array(src->pools[i].s.servers, p->s.nservers,
						     sizeof(*p->s.servers), &rc);
		if (!p->s.servers)
			p->s.nservers = 0;
	}
	if (!dst->servers)
		dst->nservers = 0;
	if (!dst->routes)
		dst->nroutes = 0;
	return rc;
}

int spec_dup(struct weir_config *dst, const struct weir_config *src)
{
	*dst = *src;
	dst->services = NULL;
	dst->nservices = 0;
	dst->socket_path = NULL;
	if (src->socket_path && !(dst->socket_path = strdup(src->socket_path)))
		goto out_free;
	if (src->nservices) {
		dst->services = calloc(src->nservices, sizeof(*dst->services));
		if (!dst->services)
			goto out_free;
	}
	for (size_t i = 0; i < src->nservices; i++) {
		int rc = service_dup(&dst->services[i], &src->services[i]);

		dst->nservices++; /* counted even on error: it holds memory */
		if (rc != 0)
			goto out_free;
	}
	return 0;

out_free:
	spec_free(dst);
	return -ENOMEM;
}

struct service_spec *spec_find_service(struct weir_config *c, int proto,
				       const struct weir_addr *addr)
{
	for (size_t i = 0; i < c->nservices; i++)
		if (c->services[i].proto == proto &&
		    addr_equal(&c->services[i].addr, addr))
			return &c->services[i];
	return NULL;
}

struct server_spec *spec_find_server(struct service_spec *s, const struct weir_addr *addr)
{
	for (size_t i = 0; i < s->nservers; i++)
		if (addr_equal(&s->servers[i].addr, addr))
			return &s->servers[i];
	return NULL;
}

int cidr_parse(const char *s, struct cidr *out)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct weir_addr a;
	uint32_t prefix;

	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (addr_parse(ip, true, &a) != 0 || addr_port(&a) != 0)
		return -EINVAL;
	out->family = (uint8_t)addr_family(&a);
	memset(out->addr, 0, sizeof(out->addr));
	addr_bytes(&a, out->addr);
	prefix = spec_full_prefix(&a);
	if (slash && parse_u32(slash + 1, spec_full_prefix(&a), &prefix) != 0)
		return -EINVAL;
	out->prefix = (uint8_t)prefix;
	return 0;
}

void cidr_format(const struct cidr *c, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (c->prefix == (c->family == AF_INET6 ? 128 : 32))
		snprintf(out, len, "%s", ip);
	else
		snprintf(out, len, "%s/%u", ip, c->prefix);
}

bool cidr_match(const struct cidr *c, size_t n, const struct weir_addr *a)
{
	uint8_t b[16];
	int fam = addr_family(a);

	addr_bytes(a, b);
	for (size_t i = 0; i < n; i++) {
		unsigned full = c[i].prefix / 8, rest = c[i].prefix % 8;

		if (c[i].family != fam || memcmp(c[i].addr, b, full) != 0)
			continue;
		if (rest && ((c[i].addr[full] ^ b[full]) & (0xffu << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

uint8_t spec_full_prefix(const struct weir_addr *a)
{
	return addr_family(a) == AF_INET6 ? 128 : 32;
}

const char *proto_name(int proto)
{
	return proto == IPPROTO_UDP ? "UDP" : "TCP";
}

const char *fwd_name(enum fwd_method f)
{
	static const char *const names[] = {
		[FWD_ROUTE] = "Route", [FWD_TUNNEL] = "Tunnel", [FWD_MASQ] = "Masq",
		[FWD_FULLNAT] = "FullNat",
	};
	return names[f];
}

int spec_check_service(const struct service_spec *svc, char *err)
{
	char a[ADDR_STRLEN];

	if (!sched_find(svc->sched)) {
		snprintf(err, SPEC_ERR_MAX, "unknown scheduler '%s'", svc->sched);
		return -EINVAL;
	}
	if (svc->sched_flags && !sched_find(svc->sched)->takes_flags) {
		snprintf(err, SPEC_ERR_MAX, "incompatible scheduler flag: flags are for sh and mh, "
			 "not %s", svc->sched);
		return -EINVAL;
	}
	if (addr_port(&svc->addr) == 0 && (svc->proxy || !svc->persist_s)) {
		/* IPVS allows port 0 only for a persistent (all-ports) service */
		snprintf(err, SPEC_ERR_MAX, "service %s needs a port%s", addr_str(&svc->addr, a),
			 svc->proxy ? "" : " (port 0 only with -p)");
		return -EINVAL;
	}
	if (svc->proxy && svc->proto != svc->proxy->proto) {
		snprintf(err, SPEC_ERR_MAX, "--proxy %s needs a %s service (%s)", svc->proxy->name,
			 proto_name(svc->proxy->proto), svc->proxy->proto == IPPROTO_UDP ? "-u" : "-t");
		return -EINVAL;
	}
	if (svc->ops && svc->proto == IPPROTO_UDP && !svc->proxy) {
		snprintf(err, SPEC_ERR_MAX, "one-packet scheduling (-o) is not supported by weir for "
			 "packet-mode services: it is built for UDP proxy services (--proxy udp); "
			 "the XDP data path keeps one flow per client");
		return -EINVAL;
	}
	if (svc->proxy && svc->proxy->check)
		return svc->proxy->check(svc, err);
	return 0;
}

/* IPVS rules for a server's port: a missing one is the service's; in a
 * packet-mode service, DR and TUN servers always use the service's port
 * (only NAT rewrites ports). */
void spec_normalize_server(const struct service_spec *svc, struct server_spec *r)
{
	if (addr_port(&r->addr) == 0 ||
	    (!svc->proxy && r->fwd != FWD_MASQ && r->fwd != FWD_FULLNAT))
		addr_set_port(&r->addr, addr_port(&svc->addr));
}

static int check_server(const struct service_spec *svc, const struct server_spec *r, char *err)
{
	char a[ADDR_STRLEN];

	if (r->weight > 65535) {
		snprintf(err, SPEC_ERR_MAX, "weight %u out of range 0..65535", r->weight);
		return -ERANGE;
	}
	if (r->lower > r->upper) {
		/* IPVS refuses it too, also when no upper is set */
		snprintf(err, SPEC_ERR_MAX, "Numerical result out of range "
			 "(lower threshold %u above upper %u)", r->lower, r->upper);
		return -ERANGE;
	}
	if (svc->proxy && addr_port(&r->addr) == 0) {
		snprintf(err, SPEC_ERR_MAX, "real server %s needs a port",
			 addr_str(&r->addr, a));
		return -EINVAL;
	}
	if (!svc->proxy && addr_family(&r->addr) != addr_family(&svc->addr)) {
		snprintf(err, SPEC_ERR_MAX, "real server %s is not of the service's address family",
			 addr_str(&r->addr, a));
		return -EINVAL;
	}
	return 0;
}

int spec_add_service(struct weir_config *c, const struct service_spec *svc, char *err)
{
	struct service_spec *arr;
	int rc;

	if (spec_find_service(c, svc->proto, &svc->addr)) {
		snprintf(err, SPEC_ERR_MAX, "Service already exists");
		return -EEXIST;
	}
	if ((rc = spec_check_service(svc, err)) != 0)
		return rc;
	arr = realloc(c->services, (c->nservices + 1) * sizeof(*arr));
	if (!arr)
		goto out_nomem;
	c->services = arr;
	if (service_dup(&arr[c->nservices], svc) != 0) {
		service_free(&arr[c->nservices]);
		goto out_nomem;
	}
	c->nservices++;
	return 0;

out_nomem:
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return -ENOMEM;
}

/* Replaces the service's options, keeping its real servers. */
int spec_edit_service(struct weir_config *c, const struct service_spec *svc, char *err)
{
	struct service_spec *cur = spec_find_service(c, svc->proto, &svc->addr);
	struct server_spec *servers;
	size_t n;
	int rc;

	if (!cur) {
		snprintf(err, SPEC_ERR_MAX, "No such service");
		return -ESRCH;
	}
	if ((rc = spec_check_service(svc, err)) != 0)
		return rc;
	for (size_t i = 0; i < cur->nservers; i++) {
		struct server_spec r = cur->servers[i];

		spec_normalize_server(svc, &r);
		if ((rc = check_server(svc, &r, err)) != 0)
			return rc;
		for (size_t k = 0; k < i; k++) {
			struct server_spec q = cur->servers[k];

			spec_normalize_server(svc, &q);
			if (addr_equal(&q.addr, &r.addr)) {
				snprintf(err, SPEC_ERR_MAX, "Destination already exists");
				return -EEXIST;
			}
		}
	}
	for (size_t i = 0; i < cur->nservers; i++)
		spec_normalize_server(svc, &cur->servers[i]);
	servers = cur->servers;
	n = cur->nservers;
	{
		/* servers, pools and routes are not options: they stay */
		struct pool_spec *pools = cur->pools;
		struct route_spec *routes = cur->routes;
		size_t npools = cur->npools, nroutes = cur->nroutes;

		*cur = *svc;
		cur->pools = pools;
		cur->npools = npools;
		cur->routes = routes;
		cur->nroutes = nroutes;
	}
	cur->servers = servers;
	cur->nservers = n;
	return 0;
}

int spec_del_service(struct weir_config *c, int proto, const struct weir_addr *addr, char *err)
{
	struct service_spec *s = spec_find_service(c, proto, addr);
	size_t i;

	if (!s) {
		snprintf(err, SPEC_ERR_MAX, "No such service");
		return -ESRCH;
	}
	i = (size_t)(s - c->services);
	service_free(s);
	memmove(s, s + 1, (c->nservices - i - 1) * sizeof(*s));
	c->nservices--;
	return 0;
}

static struct service_spec *need_service(struct weir_config *c, int proto,
					 const struct weir_addr *vip, char *err)
{
	struct service_spec *s = spec_find_service(c, proto, vip);

	if (!s)
		snprintf(err, SPEC_ERR_MAX, "Service not defined");
	return s;
}

/* The index of <svc>'s pool <name>, or npools. */
static size_t pool_index(const struct service_spec *svc, const char *name)
{
	size_t i = 0;

	while (i < svc->npools && strcmp(svc->pools[i].name, name) != 0)
		i++;
	return i;
}

struct service_spec *spec_find_pool(struct service_spec *svc, const char *name)
{
	size_t i = pool_index(svc, name);

	return i < svc->npools ? &svc->pools[i].s : NULL;
}

/* The servers' owner: the service, or its pool <pool>. */
static struct service_spec *need_owner(struct weir_config *c, int proto,
				       const struct weir_addr *vip, const char *pool, char *err)
{
	struct service_spec *s = need_service(c, proto, vip, err), *p;

	if (!s || !pool || strcmp(pool, "default") == 0)
		return s;
	if (!(p = spec_find_pool(s, pool)))
		snprintf(err, SPEC_ERR_MAX, "No such pool: %s", pool);
	return p;
}

int spec_add_pool(struct weir_config *c, int proto, const struct weir_addr *vip,
		  const char *name, const struct service_spec *opts, char *err)
{
	struct service_spec *s = need_service(c, proto, vip, err);
	struct pool_spec *arr, p = { 0 };
	int rc;

	if (!s)
		return -ESRCH;
	if (!s->proxy || !s->proxy->pools) {
		snprintf(err, SPEC_ERR_MAX, "routes and pools are for 'proxy http' services");
		return -EINVAL;
	}
	if (!*name || strlen(name) >= sizeof(p.name) || strcmp(name, "default") == 0) {
		snprintf(err, SPEC_ERR_MAX, "illegal pool name `%s'", name);
		return -EINVAL;
	}
	if (spec_find_pool(s, name)) {
		snprintf(err, SPEC_ERR_MAX, "Pool already exists");
		return -EEXIST;
	}
	strcpy(p.name, name);
	/* as the config file: the service's options, the pool's own
	 * (scheduler, health: the rows of scope OPT_POOL) from <opts> */
	p.s = *s;
	p.s.servers = NULL;
	p.s.nservers = 0;
	p.s.pools = NULL;
	p.s.npools = 0;
	p.s.routes = NULL;
	p.s.nroutes = 0;
	opt_copy_scope(OPT_POOL, &p.s, opts);
	if ((rc = spec_check_service(&p.s, err)) != 0)
		return rc;
	arr = realloc(s->pools, (s->npools + 1) * sizeof(*arr));
	if (!arr) {
		snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
		return -ENOMEM;
	}
	s->pools = arr;
	arr[s->npools++] = p;
	return 0;
}

int spec_del_pool(struct weir_config *c, int proto, const struct weir_addr *vip,
		  const char *name, char *err)
{
	struct service_spec *s = need_service(c, proto, vip, err);
	size_t i;

	if (!s)
		return -ESRCH;
	if ((i = pool_index(s, name)) == s->npools) {
		snprintf(err, SPEC_ERR_MAX, "No such pool: %s", name);
		return -ENOENT;
	}
	for (size_t k = 0; k < s->nroutes; k++)
		if (strcmp(s->routes[k].pool, name) == 0) {
			snprintf(err, SPEC_ERR_MAX, "pool %s: a route sends requests to it", name);
			return -EBUSY;
		}
	free(s->pools[i].s.servers);
	memmove(&s->pools[i], &s->pools[i + 1], (s->npools - i - 1) * sizeof(*s->pools));
	s->npools--;
	return 0;
}

int spec_add_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		    const char *pool, const struct server_spec *srv, char *err)
{
	struct service_spec *s = need_owner(c, proto, vip, pool, err);
	struct server_spec *arr, r = *srv;
	int rc;

	if (!s)
		return -ESRCH;
	spec_normalize_server(s, &r);
	if (spec_find_server(s, &r.addr)) {
		snprintf(err, SPEC_ERR_MAX, "Destination already exists");
		return -EEXIST;
	}
	if ((rc = check_server(s, &r, err)) != 0)
		return rc;
	arr = realloc(s->servers, (s->nservers + 1) * sizeof(*arr));
	if (!arr) {
		snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
		return -ENOMEM;
	}
	s->servers = arr;
	arr[s->nservers++] = r;
	return 0;
}

int spec_edit_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		     const char *pool, const struct server_spec *srv, char *err)
{
	struct service_spec *s = need_owner(c, proto, vip, pool, err);
	struct server_spec *cur, r = *srv;
	int rc;

	if (!s)
		return -ESRCH;
	spec_normalize_server(s, &r);
	if (!(cur = spec_find_server(s, &r.addr))) {
		snprintf(err, SPEC_ERR_MAX, "No such destination");
		return -ENOENT;
	}
	if ((rc = check_server(s, &r, err)) != 0)
		return rc;
	*cur = r;
	return 0;
}

int spec_del_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		    const char *pool, const struct weir_addr *rip, char *err)
{
	struct service_spec *s = need_owner(c, proto, vip, pool, err);
	struct server_spec *cur, r = { .addr = *rip, .fwd = FWD_MASQ };
	size_t i;

	if (!s)
		return -ESRCH;
	spec_normalize_server(s, &r); /* a missing port is the service's */
	if (!(cur = spec_find_server(s, &r.addr))) {
		snprintf(err, SPEC_ERR_MAX, "No such destination");
		return -ENOENT;
	}
	i = (size_t)(cur - s->servers);
	memmove(cur, cur + 1, (s->nservers - i - 1) * sizeof(*cur));
	s->nservers--;
	return 0;
}
