/*
 * route.h - HTTP routing rules, compiled: a request matching every
 * condition of a rule goes to its pool; the first match wins; no match is
 * the service's own servers.
 *
 * A route table is built in two steps on the control thread: compiled
 * from the config (route_table_build, which may fail) while nothing has
 * changed yet, then bound to the live pools (route_table_bind) once they
 * exist. It is immutable once bound and shared by reference: the control
 * thread swaps a service's table on reload, workers holding the old one
 * keep it until they put it. A rule's pool is held by reference; NULL
 * means the service itself (never referenced, to avoid a cycle).
 *
 * The live table of a service is kept in the routes' area of the service
 * (route.c registers it and its table hooks: built in svc_prepare, bound
 * and swapped in svc_applied, dropped in svc_removed).
 */
#ifndef WEIR_ROUTE_H
#define WEIR_ROUTE_H

#include <regex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/spec.h"

struct virtual_service;

struct route {
	struct virtual_service *pool;  /* reference; NULL = the service's own */
	char pool_name[32];            /* as configured; "default" = its own */
	char host[128];                /* "" = any; "*.x" matches subdomains */
	char path_prefix[128];
	char method[16];
	char header[64];
	bool has_path_re, has_header_re;
	regex_t path_re, header_re;
};

struct route_table {
	atomic_int ref;
	size_t n;
	struct route r[];
};

/* The request facts rules look at. <header> finds a header's value. */
struct route_req {
	const char *method; size_t method_len;
	const char *host; size_t host_len;     /* Host, port included or not */
	const char *path; size_t path_len;
	const char *(*header)(void *arg, const char *name, size_t *len);
	void *arg;
};

/* Builds a table from <spec>[0..n), its pools not bound yet. NULL on error
 * (a regex that does not compile, out of memory). */
struct route_table *route_table_build(const struct route_spec *spec, size_t n);
/* Binds the rules of <t> (not shared yet) to their pools: <pool_of>(arg,
 * name) gives the pool's live service (a new reference) or NULL for
 * "default". */
void route_table_bind(struct route_table *t,
		      struct virtual_service *(*pool_of)(void *arg, const char *name), void *arg);
void route_table_get(struct route_table *t);
void route_table_put(struct route_table *t);

/* Registers the routes' area of the services and its table hooks
 * (src/register.c, at start-up). */
void route_register(void);
/* The service's routing rules with a reference (route_table_put() it), or
 * NULL when it has none. Any thread; no lock taken for a service without
 * rules. */
struct route_table *svc_routes_get(struct virtual_service *svc);

/* The first rule <q> matches, or NULL. */
const struct route *route_match(const struct route_table *t, const struct route_req *q);

#endif
