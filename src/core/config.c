/* config.c - the config file's meaning (see config.h and docs/config.md):
 * directive tables for the top level, xdp { } and route { }, and for
 * services, pools and servers their structure (server, pool, route) plus
 * the option rows (core/option.h), which carry every option's keyword and
 * parser: the code for services, pools and servers names no option. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/config.h"
#include "core/healthspec.h"
#include "core/log.h"
#include "core/option.h"
#include "core/util.h"
#include "sched/sched.h"

struct cfg_ctx {
	struct weir_config *cfg;
	char *err;               /* "LINE: reason", CONFIG_ERR_MAX */
};

struct directive {
	const char *name;
	int min_args, max_args;  /* max -1 = any */
	int (*fn)(struct cfg_ctx *ctx, const struct conf_node *n, void *obj);
	bool block;              /* takes a { } block */
};

static int cfg_fail(struct cfg_ctx *ctx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_fail(struct cfg_ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ctx->err, CONFIG_ERR_MAX, "%d: ", line);

	va_start(ap, fmt);
	vsnprintf(ctx->err + n, CONFIG_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int arg_duration(struct cfg_ctx *ctx, const struct conf_node *n,
			const char *s, uint32_t unit_ms, uint32_t *out)
{
	if (parse_duration_ms(s, unit_ms, out) != 0)
		return cfg_fail(ctx, n->line, "%s: '%s' is not a duration (e.g. 500ms, 2s, 5m)",
				n->name, s);
	return 0;
}

static int bad_count(struct cfg_ctx *ctx, const struct conf_node *n, int min, int max)
{
	char want[32];

	if (max < 0)
		snprintf(want, sizeof(want), "%d or more arguments", min);
	else if (max == min)
		snprintf(want, sizeof(want), "%d argument%s", min, min == 1 ? "" : "s");
	else
		snprintf(want, sizeof(want), "%d to %d arguments", min, max);
	return cfg_fail(ctx, n->line, "'%s' takes %s, not %d", n->name, want, n->nargs);
}

/* The checks every directive of a table passes before its handler. */
static int check_directive(struct cfg_ctx *ctx, const struct conf_node *n,
			   const struct directive *d)
{
	if (n->nargs < d->min_args || (d->max_args >= 0 && n->nargs > d->max_args))
		return bad_count(ctx, n, d->min_args, d->max_args);
	if (n->block && !d->block)
		return cfg_fail(ctx, n->line, "'%s' does not take a block", n->name);
	if (d->block && !n->block && strcmp(n->name, "server") != 0)
		return cfg_fail(ctx, n->line, "'%s' needs a { } block", n->name);
	return 0;
}

static const struct directive *find_directive(const struct directive *table, size_t ntable,
					      const char *name)
{
	for (size_t k = 0; k < ntable; k++)
		if (strcmp(table[k].name, name) == 0)
			return &table[k];
	return NULL;
}

/* Runs the handler of each child of <parent> from <table>. */
static int run_table(struct cfg_ctx *ctx, const struct conf_node *parent,
		     const struct directive *table, size_t ntable, void *obj,
		     const char *where)
{
	for (int i = 0; i < parent->nchildren; i++) {
		const struct conf_node *n = &parent->children[i];
		const struct directive *d = find_directive(table, ntable, n->name);
		int rc;

		if (!d)
			return cfg_fail(ctx, n->line, "unknown directive '%s' %s", n->name, where);
		if ((rc = check_directive(ctx, n, d)) != 0 || (rc = d->fn(ctx, n, obj)) != 0)
			return rc;
	}
	return 0;
}

/* --- options: the rows of core/option.h ------------------------------------ */

/* Sets row <r> of <obj> from <args>: "KEY: reason" at <line> when refused. */
static int row_set(struct cfg_ctx *ctx, const struct opt_ref *r, int line, const char *key,
		   char *const *args, int nargs, void *obj)
{
	char why[SPEC_ERR_MAX];

	if (opt_parse(r, args, nargs, obj, why) == 0)
		return 0;
	if (r->row->flags & OPT_F_OWNMSG)
		return cfg_fail(ctx, line, "%s", why);
	return cfg_fail(ctx, line, "%s: %s", key, why);
}

/* A directive that is an option row of a service or pool. */
static int row_directive(struct cfg_ctx *ctx, const struct conf_node *n,
			 const struct opt_ref *r, void *obj)
{
	int min, max;

	opt_nargs(r->row, &min, &max);
	if (n->nargs < min || (max >= 0 && n->nargs > max))
		return bad_count(ctx, n, min, max);
	if (n->block)
		return cfg_fail(ctx, n->line, "'%s' does not take a block", n->name);
	return row_set(ctx, r, n->line, n->name, n->args, n->nargs, obj);
}

/* --- real servers: "server ADDR weight 3 upper 10" or a { } block ---------- */

static int server_unknown(struct cfg_ctx *ctx, int line, const char *key)
{
	char names[256] = "";
	size_t n, len = 0;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++)
		if ((all[i].row->scope & OPT_SRV) && all[i].row->key && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? ", " : "", all[i].row->key);
	return cfg_fail(ctx, line, "server: unknown option '%s' (%s)", key, names);
}

/* "KEY VALUE" on the server's line, or "KEY" alone for a row whose value
 * may be left out (backup) when no value follows: the next word is
 * another option's keyword or the line ends. Returns the words taken, or
 * -errno. */
static int server_inline(struct cfg_ctx *ctx, int line, char *const *kv, int left,
			 struct server_spec *r)
{
	const struct opt_ref *ref = opt_find_key(OPT_SRV, kv[0]);
	int rc;

	if (!ref)
		return server_unknown(ctx, line, kv[0]);
	if (opt_takes_words(ref->row)) /* the rest of the line would be its */
		return cfg_fail(ctx, line, "server: write '%s' in the server's { } block", kv[0]);
	if ((ref->row->flags & OPT_F_OPTARG) && (left < 2 || opt_find_key(OPT_SRV, kv[1])))
		return (rc = row_set(ctx, ref, line, kv[0], kv + 1, 0, r)) ? rc : 1;
	if (left < 2)
		return cfg_fail(ctx, line, "server: '%s' needs a value", kv[0]);
	return (rc = row_set(ctx, ref, line, kv[0], kv + 1, 1, r)) ? rc : 2;
}

/* "KEY VALUE...;" in the server's block. */
static int server_child(struct cfg_ctx *ctx, const struct conf_node *c, struct server_spec *r)
{
	const struct opt_ref *ref = opt_find_key(OPT_SRV, c->name);
	int min, max;

	if (!ref)
		return server_unknown(ctx, c->line, c->name);
	opt_nargs(ref->row, &min, &max);
	if (c->block)
		return cfg_fail(ctx, c->line, "'%s' does not take a block", c->name);
	if (max == 1 && min == 1 && c->nargs != 1)
		return cfg_fail(ctx, c->line, "'%s' takes 1 argument", c->name);
	if (c->nargs < min || (max >= 0 && c->nargs > max))
		return bad_count(ctx, c, min, max);
	return row_set(ctx, ref, c->line, c->name, c->args, c->nargs, r);
}

static int svc_server(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	struct weir_config tmp = { .services = svc, .nservices = 1 };
	char err[SPEC_ERR_MAX];
	struct server_spec r;
	int rc;

	spec_server_defaults(&r);
	r.line = n->line;
	if (addr_parse(n->args[0], true, &r.addr) != 0) /* no port: the service's */
		return cfg_fail(ctx, n->line, "server: '%s' is not an address IP:PORT or [IPv6]:PORT",
				n->args[0]);
	for (int i = 1; i < n->nargs; i += rc)
		if ((rc = server_inline(ctx, n->line, n->args + i, n->nargs - i, &r)) < 0)
			return rc;
	for (int i = 0; i < n->nchildren; i++)
		if ((rc = server_child(ctx, &n->children[i], &r)) != 0)
			return rc;
	if (spec_add_server(&tmp, svc->proto, &svc->addr, NULL, &r, err) != 0)
		return cfg_fail(ctx, n->line, "server %s: %s", n->args[0],
				strcmp(err, "Destination already exists") == 0 ?
				"declared twice in this service" : err);
	svc->servers = tmp.services->servers;
	return 0;
}

/* --- a service's or a pool's block --------------------------------------------- */

enum pass { PASS_FIRST, PASS_REST };

/* The children of <parent>: the <structure> directives (servers, pools,
 * routes) and the option rows of <scope>. PASS_FIRST reads only the rows
 * read before the rest (proxy: it decides how server addresses read);
 * PASS_REST the others. */
static int run_block(struct cfg_ctx *ctx, const struct conf_node *parent,
		     const struct directive *structure, size_t nstructure, uint8_t scope,
		     enum pass pass, struct service_spec *svc, const char *where)
{
	for (int i = 0; i < parent->nchildren; i++) {
		const struct conf_node *n = &parent->children[i];
		const struct directive *d = find_directive(structure, nstructure, n->name);
		const struct opt_ref *r = d ? NULL : opt_find_key(scope, n->name);
		bool first = r && (r->row->flags & OPT_F_FIRST);
		int rc;

		if (!d && !r)
			return cfg_fail(ctx, n->line, "unknown directive '%s' %s", n->name, where);
		if ((pass == PASS_FIRST) != first)
			continue;
		if (d)
			rc = check_directive(ctx, n, d) ? -EINVAL : d->fn(ctx, n, svc);
		else
			rc = row_directive(ctx, n, r, svc);
		if (rc)
			return rc;
	}
	return 0;
}

static const struct directive pool_structure[] = {
	{ "server", 1, -1, svc_server, true },
};

static int svc_pool(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	struct pool_spec *arr, *p;
	char err[SPEC_ERR_MAX];
	int rc;

	if (strlen(n->args[0]) >= sizeof(p->name))
		return cfg_fail(ctx, n->line, "pool: name too long");
	for (size_t i = 0; i < svc->npools; i++)
		if (strcmp(svc->pools[i].name, n->args[0]) == 0)
			return cfg_fail(ctx, n->line, "pool %s: declared twice", n->args[0]);
	arr = realloc(svc->pools, (svc->npools + 1) * sizeof(*arr));
	if (!arr)
		return cfg_fail(ctx, n->line, "out of memory");
	svc->pools = arr;
	p = &arr[svc->npools++];
	memset(p, 0, sizeof(*p));
	strcpy(p->name, n->args[0]);
	/* the service's options so far; scheduler and servers its own */
	p->s = *svc;
	p->s.servers = NULL;
	p->s.nservers = 0;
	p->s.pools = NULL;
	p->s.npools = 0;
	p->s.routes = NULL;
	p->s.nroutes = 0;
	p->s.line = n->line;
	rc = run_block(ctx, n, pool_structure, ARRAY_SIZE(pool_structure), OPT_POOL, PASS_REST,
		       &p->s, "in a pool");
	if (rc == 0 && spec_check_service(&p->s, err) != 0)
		rc = cfg_fail(ctx, n->line, "pool %s: %s", p->name, err);
	return rc;
}

/* --- HTTP routing: routes -------------------------------------------------------- */

static int route_set(struct cfg_ctx *ctx, const struct conf_node *n, char *dst, size_t cap)
{
	if (strlen(n->args[0]) >= cap)
		return cfg_fail(ctx, n->line, "%s: too long", n->name);
	strcpy(dst, n->args[0]);
	return 0;
}

static int check_regex(struct cfg_ctx *ctx, const struct conf_node *n, const char *re)
{
	regex_t r;
	int rc = regcomp(&r, re, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		char why[128];

		regerror(rc, &r, why, sizeof(why));
		return cfg_fail(ctx, n->line, "%s: '%s' is not a regular expression: %s",
				n->name, re, why);
	}
	regfree(&r);
	return 0;
}

static int route_opt(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct route_spec *r = obj;

	if (strcmp(n->name, "host") == 0)
		return route_set(ctx, n, r->host, sizeof(r->host));
	if (strcmp(n->name, "path_prefix") == 0)
		return route_set(ctx, n, r->path_prefix, sizeof(r->path_prefix));
	if (strcmp(n->name, "path_regex") == 0) {
		if (route_set(ctx, n, r->path_regex, sizeof(r->path_regex)) != 0)
			return -EINVAL;
		return check_regex(ctx, n, r->path_regex);
	}
	if (strcmp(n->name, "method") == 0)
		return route_set(ctx, n, r->method, sizeof(r->method));
	if (strcmp(n->name, "pool") == 0)
		return route_set(ctx, n, r->pool, sizeof(r->pool));
	/* header NAME REGEX */
	if (strlen(n->args[0]) >= sizeof(r->header) || strlen(n->args[1]) >= sizeof(r->header_regex))
		return cfg_fail(ctx, n->line, "header: too long");
	strcpy(r->header, n->args[0]);
	strcpy(r->header_regex, n->args[1]);
	return check_regex(ctx, n, r->header_regex);
}

static const struct directive route_table[] = {
	{ "host", 1, 1, route_opt, false },
	{ "path_prefix", 1, 1, route_opt, false },
	{ "path_regex", 1, 1, route_opt, false },
	{ "method", 1, 1, route_opt, false },
	{ "header", 2, 2, route_opt, false },
	{ "pool", 1, 1, route_opt, false },
};

static int svc_route(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	struct route_spec r = { .line = n->line }, *arr;
	int rc = run_table(ctx, n, route_table, ARRAY_SIZE(route_table), &r, "in a route");

	if (rc)
		return rc;
	if (!r.pool[0])
		return cfg_fail(ctx, n->line, "route: needs a pool");
	arr = realloc(svc->routes, (svc->nroutes + 1) * sizeof(*arr));
	if (!arr)
		return cfg_fail(ctx, n->line, "out of memory");
	svc->routes = arr;
	arr[svc->nroutes++] = r;
	return 0;
}

/* Every route names a pool of its service ("default" = its own servers). */
static int check_routes(struct cfg_ctx *ctx, struct service_spec *svc)
{
	for (size_t i = 0; i < svc->nroutes; i++) {
		bool found = strcmp(svc->routes[i].pool, "default") == 0;

		for (size_t k = 0; k < svc->npools && !found; k++)
			found = strcmp(svc->pools[k].name, svc->routes[i].pool) == 0;
		if (!found)
			return cfg_fail(ctx, svc->routes[i].line, "route: no pool named '%s'",
					svc->routes[i].pool);
	}
	if ((svc->nroutes || svc->npools) && (!svc->proxy || !svc->proxy->pools))
		return cfg_fail(ctx, svc->line, "routes and pools are for 'proxy http' services");
	return 0;
}

static const struct directive service_structure[] = {
	{ "server", 1, -1, svc_server, true },
	{ "pool", 1, 1, svc_pool, true },
	{ "route", 0, 0, svc_route, true },
};

static int top_service(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec svc;
	char err[SPEC_ERR_MAX];
	int rc;

	(void)obj;
	spec_service_defaults(&svc);
	svc.line = n->line;
	if (strcmp(n->args[0], "tcp") == 0)
		svc.proto = IPPROTO_TCP;
	else if (strcmp(n->args[0], "udp") == 0)
		svc.proto = IPPROTO_UDP;
	else
		return cfg_fail(ctx, n->line, "service: protocol '%s' is not tcp or udp", n->args[0]);
	if (addr_parse(n->args[1], false, &svc.addr) != 0)
		return cfg_fail(ctx, n->line, "service: '%s' is not an address IP:PORT or [IPv6]:PORT",
				n->args[1]);
	svc.persist_prefix = spec_full_prefix(&svc.addr);
	rc = run_block(ctx, n, service_structure, ARRAY_SIZE(service_structure), OPT_SVC,
		       PASS_FIRST, &svc, "in a service");
	if (rc == 0)
		rc = run_block(ctx, n, service_structure, ARRAY_SIZE(service_structure), OPT_SVC,
			       PASS_REST, &svc, "in a service");
	if (rc == 0)
		rc = check_routes(ctx, &svc);
	if (rc == 0 && spec_add_service(ctx->cfg, &svc, err) != 0)
		rc = cfg_fail(ctx, n->line, "service %s %s: %s", n->args[0], n->args[1],
			      strcmp(err, "Service already exists") == 0 ? "declared twice" : err);
	free(svc.servers);
	for (size_t i = 0; i < svc.npools; i++)
		free(svc.pools[i].s.servers);
	free(svc.pools);
	free(svc.routes);
	return rc;
}

/* --- global options ------------------------------------------------------- */

static int top_workers(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	uint32_t v;

	if (strcmp(n->args[0], "auto") == 0) {
		ctx->cfg->workers = 0;
		return 0;
	}
	if (parse_u32(n->args[0], 256, &v) != 0 || v == 0)
		return cfg_fail(ctx, n->line, "workers: '%s' is not 'auto' or a number in 1..256",
				n->args[0]);
	ctx->cfg->workers = (int)v;
	return 0;
}

static int top_log_level(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	int l = log_level_parse(n->args[0]);

	if (l < 0)
		return cfg_fail(ctx, n->line, "log_level: '%s' is not one of error, warn, info, debug",
				n->args[0]);
	ctx->cfg->log_level = l;
	return 0;
}

static int top_socket(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	size_t len = strlen(n->args[0]);

	if (len == 0 || len >= 108)
		return cfg_fail(ctx, n->line, "socket: path must be 1..107 bytes");
	free(ctx->cfg->socket_path);
	ctx->cfg->socket_path = strdup(n->args[0]);
	return ctx->cfg->socket_path ? 0 : cfg_fail(ctx, n->line, "out of memory");
}

static int top_grace(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000, &ctx->cfg->grace_ms);
}

static int top_metrics(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	if (strcmp(n->args[0], "off") == 0) {
		memset(&ctx->cfg->metrics, 0, sizeof(ctx->cfg->metrics));
		return 0;
	}
	char local[32];
	const char *a = n->args[0];

	/* a port alone: the loopback address (who can read is decided by
	 * the listener's address; by default only this machine) */
	if (a[0] && strspn(a, "0123456789") == strlen(a) && strlen(a) <= 5) {
		snprintf(local, sizeof(local), "127.0.0.1:%s", a);
		a = local;
	}
	if (addr_parse(a, false, &ctx->cfg->metrics) != 0 ||
	    addr_port(&ctx->cfg->metrics) == 0)
		return cfg_fail(ctx, n->line, "metrics: '%s' is not a port, an address IP:PORT or "
				"[IPv6]:PORT", n->args[0]);
	return 0;
}

/* metrics_token FILE|off: the dashboard may change server states with the
 * token FILE holds (read at each request, so it can change without a reload). */
static int top_metrics_token(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	const char *v = n->args[0];

	if (strcmp(v, "off") == 0)
		v = "";
	else if (!v[0] || strlen(v) >= sizeof(ctx->cfg->metrics_token))
		return cfg_fail(ctx, n->line, "metrics_token: a file name of 1 to %zu bytes, "
				"or off", sizeof(ctx->cfg->metrics_token) - 1);
	snprintf(ctx->cfg->metrics_token, sizeof(ctx->cfg->metrics_token), "%s", v);
	return 0;
}

/* metrics_hosts NAME ...: the names the metrics listener answers to, besides
 * IP literals and localhost (see ctl/metrics_http.c's Host check). Stored
 * in lower case without a trailing dot, as they are compared. */
static int top_metrics_hosts(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	char (*hosts)[METRICS_HOST_LEN] = ctx->cfg->metrics_hosts;

	memset(ctx->cfg->metrics_hosts, 0, sizeof(ctx->cfg->metrics_hosts));
	for (int i = 0; i < n->nargs; i++) {
		const char *v = n->args[i];
		size_t len = strlen(v);

		if (len > 1 && v[len - 1] == '.')
			len--;
		if (!len || len >= METRICS_HOST_LEN || v[0] == '.' || v[0] == '-')
			goto bad;
		for (size_t k = 0; k < len; k++) {
			if (!isalnum((unsigned char)v[k]) && v[k] != '-' && v[k] != '.')
				goto bad;
			hosts[i][k] = (char)tolower((unsigned char)v[k]);
		}
		continue;
bad:
		return cfg_fail(ctx, n->line, "metrics_hosts: '%s' is not a host name (letters, "
				"digits, '-' and '.', at most %d bytes)", v, METRICS_HOST_LEN - 1);
	}
	return 0;
}

/* --- the xdp { } block ------------------------------------------------------ */

static int xdp_interface(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;

	for (int i = 0; i < n->nargs; i++) {
		if (x->nifaces == XDP_MAX_IFACES)
			return cfg_fail(ctx, n->line, "interface: at most %d", XDP_MAX_IFACES);
		if (strlen(n->args[i]) >= sizeof(x->ifaces[0]) || !n->args[i][0])
			return cfg_fail(ctx, n->line, "interface: '%s' is not an interface name",
					n->args[i]);
		for (int k = 0; k < x->nifaces; k++)
			if (strcmp(x->ifaces[k], n->args[i]) == 0)
				return cfg_fail(ctx, n->line, "interface: '%s' given twice",
						n->args[i]);
		strcpy(x->ifaces[x->nifaces++], n->args[i]);
	}
	return 0;
}

static int xdp_mode(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;

	if (strcmp(n->args[0], "native") == 0)
		x->generic = false;
	else if (strcmp(n->args[0], "generic") == 0)
		x->generic = true;
	else
		return cfg_fail(ctx, n->line, "mode: '%s' is not native or generic", n->args[0]);
	return 0;
}

static int xdp_local(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;
	struct weir_addr a;

	if (addr_parse(n->args[0], true, &a) != 0 || addr_port(&a) != 0)
		return cfg_fail(ctx, n->line, "local: '%s' is not an IP address", n->args[0]);
	if (addr_family(&a) == AF_INET6)
		x->local6 = a;
	else
		x->local4 = a;
	return 0;
}

static int xdp_ports(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;
	unsigned lo, hi;
	char end;

	if (sscanf(n->args[0], "%u-%u%c", &lo, &hi, &end) != 2 || lo < 1024 || hi > 65535 ||
	    lo > hi)
		return cfg_fail(ctx, n->line, "fullnat_ports: '%s' is not a range LO-HI within "
				"1024-65535", n->args[0]);
	x->fullnat_lo = (uint16_t)lo;
	x->fullnat_hi = (uint16_t)hi;
	return 0;
}

/* The xdp block's durations: tcp_syn_timeout and rebuild_interval are its
 * own; tcp_timeout, tcp_fin_timeout and udp_timeout are the global
 * connection timeouts (top_timeout), which the block still sets. */
static int xdp_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;
	struct conn_timeouts *g = &ctx->cfg->timeouts;
	uint32_t *dst = strcmp(n->name, "tcp_timeout") == 0 ? &g->tcp_ms :
			strcmp(n->name, "tcp_fin_timeout") == 0 ? &g->tcp_fin_ms :
			strcmp(n->name, "tcp_syn_timeout") == 0 ? &x->tcp_syn_ms :
			strcmp(n->name, "udp_timeout") == 0 ? &g->udp_ms : &x->rebuild_ms;
	uint32_t ms;

	if (arg_duration(ctx, n, n->args[0], 1000, &ms) != 0)
		return -EINVAL;
	if (ms < 10)
		return cfg_fail(ctx, n->line, "%s: at least 10ms", n->name);
	if (dst != &x->rebuild_ms && ms / 1000 > CONN_TIMEOUT_MAX_S)
		return cfg_fail(ctx, n->line, "%s: at most 31 days", n->name);
	*dst = ms;
	return 0;
}

static const struct directive xdp_table[] = {
	{ "interface", 1, -1, xdp_interface, false },
	{ "mode", 1, 1, xdp_mode, false },
	{ "local", 1, 1, xdp_local, false },
	{ "fullnat_ports", 1, 1, xdp_ports, false },
	{ "tcp_timeout", 1, 1, xdp_timeout, false },
	{ "tcp_fin_timeout", 1, 1, xdp_timeout, false },
	{ "tcp_syn_timeout", 1, 1, xdp_timeout, false },
	{ "udp_timeout", 1, 1, xdp_timeout, false },
	{ "rebuild_interval", 1, 1, xdp_timeout, false },
};

static int top_xdp(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return run_table(ctx, n, xdp_table, ARRAY_SIZE(xdp_table), &ctx->cfg->xdp, "in xdp");
}

/* tcp_timeout, tcp_fin_timeout, udp_timeout at the top level. */
static int top_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return xdp_timeout(ctx, n, &ctx->cfg->xdp);
}

static const struct directive top_table[] = {
	{ "xdp", 0, 0, top_xdp, true },
	{ "tcp_timeout", 1, 1, top_timeout, false },
	{ "tcp_fin_timeout", 1, 1, top_timeout, false },
	{ "udp_timeout", 1, 1, top_timeout, false },
	{ "workers", 1, 1, top_workers, false },
	{ "metrics", 1, 1, top_metrics, false },
	{ "metrics_token", 1, 1, top_metrics_token, false },
	{ "metrics_hosts", 1, METRICS_HOSTS_MAX, top_metrics_hosts, false },
	{ "log_level", 1, 1, top_log_level, false },
	{ "socket", 1, 1, top_socket, false },
	{ "grace", 1, 1, top_grace, false },
	{ "service", 2, 2, top_service, true },
};

int config_parse(const char *file, const char *text, size_t len,
		 struct weir_config *out, char *err)
{
	char msg[CONFIG_ERR_MAX];
	struct conf_node root;
	struct cfg_ctx ctx = { .cfg = out, .err = msg };
	int rc;

	spec_init(out);
	rc = conf_parse(text, len, &root, msg, sizeof(msg));
	if (rc == 0) {
		rc = run_table(&ctx, &root, top_table, ARRAY_SIZE(top_table), NULL,
			       "at top level");
		conf_free(&root);
	}
	if (rc) {
		snprintf(err, CONFIG_ERR_MAX, "%s:%s", file, msg);
		spec_free(out);
	}
	return rc;
}

int config_load(const char *path, struct weir_config *out, char *err)
{
	struct stat st;
	char *text;
	ssize_t got = 0;
	int fd, rc;

	spec_init(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, CONFIG_ERR_MAX, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES) {
		snprintf(err, CONFIG_ERR_MAX, "%s: not a regular file of at most %u bytes",
			 path, CONFIG_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(err, CONFIG_ERR_MAX, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)(st.st_size - got));

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	rc = config_parse(path, text, (size_t)got, out, err);
	free(text);
	return rc;
}

int netmask_parse(const char *s, int family, uint8_t *prefix)
{
	struct in_addr m;
	uint32_t v, bits;

	if (parse_u32(s, family == AF_INET6 ? 128 : 32, &v) == 0) {
		*prefix = (uint8_t)v;
		return 0;
	}
	if (family == AF_INET6 || inet_pton(AF_INET, s, &m) != 1)
		return -EINVAL;
	bits = ntohl(m.s_addr);
	v = (uint32_t)__builtin_popcount(bits);
	if (v && bits != ~0u << (32 - v))
		return -EINVAL; /* not contiguous */
	*prefix = (uint8_t)v;
	return 0;
}

int sched_flags_parse(const char *s, uint32_t *flags)
{
	static const struct { const char *name; uint32_t f; } names[] = {
		{ "sh-fallback", SCHED_F_FALLBACK }, { "sh-port", SCHED_F_PORT },
		{ "mh-fallback", SCHED_F_FALLBACK }, { "mh-port", SCHED_F_PORT },
	};
	char tmp[128], *save = NULL, *tok;

	*flags = 0;
	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(names))
			return -EINVAL;
		*flags |= names[i].f;
	}
	return 0;
}

void sched_flags_format(uint32_t flags, const char *sched, char *out, size_t len)
{
	/* the flag names carry their scheduler's name: sh-port, mh-port */
	const struct sched_ops *ops = sched_find(sched);
	const char *pfx = ops && ops->takes_flags ? ops->name : "sh";

	snprintf(out, len, "%s%s%s%s%s",
		 flags & SCHED_F_FALLBACK ? pfx : "", flags & SCHED_F_FALLBACK ? "-fallback" : "",
		 (flags & SCHED_F_FALLBACK) && (flags & SCHED_F_PORT) ? "," : "",
		 flags & SCHED_F_PORT ? pfx : "", flags & SCHED_F_PORT ? "-port" : "");
}

void netmask_format(uint8_t prefix, int family, char *out, size_t len)
{
	uint32_t m;

	if (family == AF_INET6) {
		snprintf(out, len, "%u", prefix);
		return;
	}
	m = prefix ? ~0u << (32 - prefix) : 0;
	snprintf(out, len, "%u.%u.%u.%u", m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255);
}
