/* route.c - see route.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/table.h"
#include "proxy/route.h"

struct route_table *route_table_build(const struct route_spec *spec, size_t n)
{
	struct route_table *t = calloc(1, sizeof(*t) + n * sizeof(t->r[0]));

	if (!t)
		return NULL;
	atomic_init(&t->ref, 1);
	for (size_t i = 0; i < n; i++) {
		const struct route_spec *s = &spec[i];
		struct route *r = &t->r[i];

		memcpy(r->host, s->host, sizeof(r->host));
		memcpy(r->path_prefix, s->path_prefix, sizeof(r->path_prefix));
		memcpy(r->method, s->method, sizeof(r->method));
		memcpy(r->header, s->header, sizeof(r->header));
		memcpy(r->pool_name, s->pool, sizeof(r->pool_name));
		t->n++;
		if (s->path_regex[0]) {
			if (regcomp(&r->path_re, s->path_regex, REG_EXTENDED | REG_NOSUB) != 0)
				goto out_free;
			r->has_path_re = true;
		}
		if (s->header_regex[0]) {
			if (regcomp(&r->header_re, s->header_regex, REG_EXTENDED | REG_NOSUB) != 0)
				goto out_free;
			r->has_header_re = true;
		}
	}
	return t;

out_free:
	route_table_put(t);
	return NULL;
}

void route_table_bind(struct route_table *t,
		      struct virtual_service *(*pool_of)(void *arg, const char *name), void *arg)
{
	for (size_t i = 0; i < t->n; i++)
		t->r[i].pool = pool_of(arg, t->r[i].pool_name);
}

void route_table_get(struct route_table *t)
{
	atomic_fetch_add_explicit(&t->ref, 1, memory_order_relaxed);
}

void route_table_put(struct route_table *t)
{
	if (!t || atomic_fetch_sub_explicit(&t->ref, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].has_path_re)
			regfree(&t->r[i].path_re);
		if (t->r[i].has_header_re)
			regfree(&t->r[i].header_re);
		if (t->r[i].pool)
			svc_put(t->r[i].pool);
	}
	free(t);
}

/* Host without its port, case-insensitive; "*.example.com" matches
 * "a.example.com" and "a.b.example.com", not "example.com". */
static bool host_match(const char *pat, const char *host, size_t len)
{
	const char *colon = memchr(host, ':', len);
	size_t pl = strlen(pat);

	if (colon && host[0] != '[')
		len = (size_t)(colon - host);
	if (pat[0] == '*' && pat[1] == '.')
		return len > pl - 1 && strncasecmp(host + len - (pl - 1), pat + 1, pl - 1) == 0;
	return len == pl && strncasecmp(host, pat, len) == 0;
}

/* regexec wants a C string. */
static bool rx_match(const regex_t *re, const char *s, size_t len)
{
	char small[1024], *buf = len < sizeof(small) ? small : malloc(len + 1);
	bool ok;

	if (!buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	ok = regexec(re, buf, 0, NULL, 0) == 0;
	if (buf != small)
		free(buf);
	return ok;
}

static bool rule_match(const struct route *r, const struct route_req *q)
{
	size_t pl = strlen(r->path_prefix);

	if (r->method[0] && (strlen(r->method) != q->method_len ||
			     memcmp(r->method, q->method, q->method_len) != 0))
		return false;
	if (r->host[0] && (!q->host || !host_match(r->host, q->host, q->host_len)))
		return false;
	if (pl && (q->path_len < pl || memcmp(q->path, r->path_prefix, pl) != 0))
		return false;
	if (r->has_path_re && !rx_match(&r->path_re, q->path, q->path_len))
		return false;
	if (r->header[0]) {
		size_t len;
		const char *v = q->header(q->arg, r->header, &len);

		if (!v || (r->has_header_re && !rx_match(&r->header_re, v, len)))
			return false;
	}
	return true;
}

const struct route *route_match(const struct route_table *t, const struct route_req *q)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (rule_match(&t->r[i], q))
			return &t->r[i];
	return NULL;
}

/* --- a service's live table: the routes' area and the table hooks -------- */

/* The routes' area of a service (pools have none in use). */
struct route_svc {
	struct route_table *live;      /* the pointer is guarded by svc->lock */
	atomic_bool has;               /* live != NULL: a request without rules
	                                * skips the lock */
	struct route_table *next;      /* built by svc_prepare, not yet bound
	                                * (control thread) */
};

static size_t route_svc_off;

static struct route_svc *rsvc(const struct virtual_service *svc)
{
	return svc_area(svc, route_svc_off);
}

struct route_table *svc_routes_get(struct virtual_service *svc)
{
	struct route_svc *r = rsvc(svc);
	struct route_table *rt;

	if (!atomic_load_explicit(&r->has, memory_order_relaxed))
		return NULL; /* most services: no lock on the request path */
	pthread_mutex_lock(&svc->lock);
	rt = r->live;
	if (rt)
		route_table_get(rt);
	pthread_mutex_unlock(&svc->lock);
	return rt;
}

static void routes_swap(struct virtual_service *svc, struct route_table *rt)
{
	struct route_svc *r = rsvc(svc);
	struct route_table *old;

	pthread_mutex_lock(&svc->lock);
	old = r->live;
	r->live = rt;
	atomic_store_explicit(&r->has, rt != NULL, memory_order_relaxed);
	pthread_mutex_unlock(&svc->lock);
	route_table_put(old);
}

/* Compiles the rules before anything changes: a failure leaves the table
 * as it was. */
static int routes_prepare(struct virtual_service *svc, const struct service_spec *sp,
			  char *err)
{
	struct route_svc *r = rsvc(svc);

	route_table_put(r->next); /* one an earlier, failed apply left */
	r->next = NULL;
	if (sp->nroutes && !(r->next = route_table_build(sp->routes, sp->nroutes))) {
		snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
		return -ENOMEM;
	}
	return 0;
}

static struct virtual_service *pool_of(void *arg, const char *name)
{
	struct virtual_service *pool = svc_pool(arg, name);

	if (pool)
		svc_get(pool);
	return pool;
}

/* The service's pools are in place: bind the new rules to them and let
 * requests see them. */
static void routes_applied(struct virtual_service *svc, const struct service_spec *sp)
{
	struct route_svc *r = rsvc(svc);
	struct route_table *rt = r->next;

	r->next = NULL;
	if (rt)
		route_table_bind(rt, pool_of, svc);
	if (rt || r->live)
		routes_swap(svc, rt);
}

static void routes_removed(struct virtual_service *svc)
{
	struct route_svc *r = rsvc(svc);

	route_table_put(r->next);
	r->next = NULL;
	if (r->live)
		routes_swap(svc, NULL);
}

static const struct table_hooks route_hooks = {
	.svc_prepare = routes_prepare,
	.svc_applied = routes_applied,
	.svc_removed = routes_removed,
};

void route_register(void)
{
	route_svc_off = table_svc_area(sizeof(struct route_svc));
	table_hooks_register(&route_hooks);
}
