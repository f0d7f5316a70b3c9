/* config.c - directive tables for the config file (see config.h and
 * docs/config.md). Each directive has one handler; nothing here switches on
 * a directive name. */
#include <arpa/inet.h>
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

/* Parses <s> as the value of <what> (a directive or option name). */
static int arg_u32_of(struct cfg_ctx *ctx, int line, const char *what, const char *s,
		      uint32_t max, uint32_t *out)
{
	if (parse_u32(s, max, out) != 0)
		return cfg_fail(ctx, line, "%s: '%s' is not a number in 0..%u", what, s, max);
	return 0;
}

static int arg_u32(struct cfg_ctx *ctx, const struct conf_node *n, const char *s,
		   uint32_t max, uint32_t *out)
{
	return arg_u32_of(ctx, n->line, n->name, s, max, out);
}

static int arg_duration(struct cfg_ctx *ctx, const struct conf_node *n,
			const char *s, uint32_t unit_ms, uint32_t *out)
{
	if (parse_duration_ms(s, unit_ms, out) != 0)
		return cfg_fail(ctx, n->line, "%s: '%s' is not a duration (e.g. 500ms, 2s, 5m)",
				n->name, s);
	return 0;
}

static int bad_arg_count(struct cfg_ctx *ctx, const struct conf_node *n,
			 const struct directive *d)
{
	char want[32];

	if (d->max_args < 0)
		snprintf(want, sizeof(want), "%d or more arguments", d->min_args);
	else if (d->max_args == d->min_args)
		snprintf(want, sizeof(want), "%d argument%s", d->min_args,
			 d->min_args == 1 ? "" : "s");
	else
		snprintf(want, sizeof(want), "%d to %d arguments", d->min_args, d->max_args);
	return cfg_fail(ctx, n->line, "'%s' takes %s, not %d", n->name, want, n->nargs);
}

/* Runs the handler of each child of <parent> from <table>. */
static int run_table(struct cfg_ctx *ctx, const struct conf_node *parent,
		     const struct directive *table, size_t ntable, void *obj,
		     const char *where)
{
	for (int i = 0; i < parent->nchildren; i++) {
		const struct conf_node *n = &parent->children[i];
		const struct directive *d = NULL;
		int rc;

		for (size_t k = 0; k < ntable; k++)
			if (strcmp(table[k].name, n->name) == 0)
				d = &table[k];
		if (!d)
			return cfg_fail(ctx, n->line, "unknown directive '%s' %s", n->name, where);
		if (n->nargs < d->min_args || (d->max_args >= 0 && n->nargs > d->max_args))
			return bad_arg_count(ctx, n, d);
		if (n->block && !d->block)
			return cfg_fail(ctx, n->line, "'%s' does not take a block", n->name);
		if (d->block && !n->block && strcmp(n->name, "server") != 0)
			return cfg_fail(ctx, n->line, "'%s' needs a { } block", n->name);
		if ((rc = d->fn(ctx, n, obj)) != 0)
			return rc;
	}
	return 0;
}

/* --- real server options: inline "weight 3 upper 10" or a block --------- */

static int srv_weight(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		      struct server_spec *r)
{
	return arg_u32_of(ctx, n->line, "weight", v, 65535, &r->weight);
}

static int srv_upper(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		     struct server_spec *r)
{
	return arg_u32_of(ctx, n->line, "upper", v, 65535, &r->upper);
}

static int srv_lower(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		     struct server_spec *r)
{
	return arg_u32_of(ctx, n->line, "lower", v, 65535, &r->lower);
}

static int srv_forward(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		       struct server_spec *r)
{
	static const struct { const char *name; enum fwd_method f; } fwds[] = {
		{ "route", FWD_ROUTE }, { "dr", FWD_ROUTE }, { "tunnel", FWD_TUNNEL },
		{ "tun", FWD_TUNNEL }, { "masq", FWD_MASQ }, { "nat", FWD_MASQ },
		{ "fullnat", FWD_FULLNAT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fwds); i++)
		if (strcmp(v, fwds[i].name) == 0) {
			r->fwd = fwds[i].f;
			return 0;
		}
	return cfg_fail(ctx, n->line, "forward: '%s' is not one of route, tunnel, masq, fullnat", v);
}

static int srv_url(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		   struct server_spec *r)
{
	if (strlen(v) >= sizeof(r->url) || (strncmp(v, "http://", 7) != 0 &&
					    strncmp(v, "https://", 8) != 0) ||
	    strpbrk(v, " \t\r\n"))
		return cfg_fail(ctx, n->line, "url: '%s' is not an http:// or https:// URL", v);
	strcpy(r->url, v);
	/* the request's path is appended to it */
	if (r->url[strlen(r->url) - 1] == '/')
		r->url[strlen(r->url) - 1] = '\0';
	return 0;
}

static int srv_state(struct cfg_ctx *ctx, const struct conf_node *n, const char *v,
		     struct server_spec *r)
{
	enum admin_state st;

	if (admin_state_parse(v, &st) != 0)
		return cfg_fail(ctx, n->line, "state: '%s' is not ready, drain or maint", v);
	r->admin = (uint8_t)st;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cfg_ctx *, const struct conf_node *, const char *, struct server_spec *);
} server_opts[] = {
	{ "weight", srv_weight }, { "upper", srv_upper }, { "lower", srv_lower },
	{ "forward", srv_forward }, { "url", srv_url }, { "state", srv_state },
};

/* `check WORDS` (the whole rest of the line) for a service, pool or server. */
static int check_words(struct cfg_ctx *ctx, const struct conf_node *n, struct check_spec *out)
{
	char err[SPEC_ERR_MAX];

	if (check_spec_parse(n->args, n->nargs, out, err) != 0)
		return cfg_fail(ctx, n->line, "%s", err);
	return 0;
}

static int server_opt(struct cfg_ctx *ctx, const struct conf_node *n,
		      const char *key, const char *val, struct server_spec *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(server_opts); i++)
		if (strcmp(key, server_opts[i].name) == 0) {
			if (!val)
				return cfg_fail(ctx, n->line, "server: '%s' needs a value", key);
			return server_opts[i].fn(ctx, n, val, r);
		}
	return cfg_fail(ctx, n->line, "server: unknown option '%s' (weight, upper, lower, forward, "
			"url, state, check)", key);
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
	for (int i = 1; i < n->nargs; i += 2) {
		if (strcmp(n->args[i], "check") == 0) /* the rest of the line */
			return cfg_fail(ctx, n->line, "server: write 'check' in the server's "
					"{ } block");
		if ((rc = server_opt(ctx, n, n->args[i], i + 1 < n->nargs ? n->args[i + 1] : NULL,
				     &r)) != 0)
			return rc;
	}
	for (int i = 0; i < n->nchildren; i++) {
		const struct conf_node *c = &n->children[i];

		if (strcmp(c->name, "check") == 0 && !c->block) {
			if ((rc = check_words(ctx, c, &r.check)) != 0)
				return rc;
			continue;
		}
		if (c->nargs != 1 || c->block)
			return cfg_fail(ctx, c->line, "'%s' takes 1 argument", c->name);
		if ((rc = server_opt(ctx, c, c->name, c->args[0], &r)) != 0)
			return rc;
	}
	if (spec_add_server(&tmp, svc->proto, &svc->addr, NULL, &r, err) != 0)
		return cfg_fail(ctx, n->line, "server %s: %s", n->args[0],
				strcmp(err, "Destination already exists") == 0 ?
				"declared twice in this service" : err);
	svc->servers = tmp.services->servers;
	return 0;
}

/* --- service options ------------------------------------------------------ */

static int svc_proxy(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	char names[128];

	if (mode_parse(n->args[0], &svc->proxy) == 0)
		return 0;
	mode_names(names, sizeof(names));
	return cfg_fail(ctx, n->line, "proxy: '%s' is not one of %s", n->args[0], names);
}

static int svc_scheduler(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (!sched_find(n->args[0]))
		return cfg_fail(ctx, n->line, "scheduler: unknown scheduler '%s'", n->args[0]);
	snprintf(svc->sched, sizeof(svc->sched), "%s", n->args[0]);
	svc->sched_flags = 0;
	for (int i = 1; i < n->nargs; i++) {
		uint32_t f;

		if (sched_flags_parse(n->args[i], &f) != 0)
			return cfg_fail(ctx, n->line, "scheduler: unknown flag '%s'", n->args[i]);
		svc->sched_flags |= f;
	}
	return 0;
}

static int svc_persistent(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	uint32_t ms;

	svc->persist_s = DEFAULT_PERSIST_S;
	if (n->nargs == 0)
		return 0;
	if (arg_duration(ctx, n, n->args[0], 1000, &ms) != 0)
		return -EINVAL;
	if (ms < 1000 || ms / 1000 > SPEC_MAX_PERSIST_S)
		return cfg_fail(ctx, n->line, "persistent: timeout must be 1s to 31 days");
	svc->persist_s = ms / 1000;
	return 0;
}

static int svc_netmask(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (netmask_parse(n->args[0], addr_family(&svc->addr), &svc->persist_prefix) != 0)
		return cfg_fail(ctx, n->line, "netmask: '%s' is not a netmask", n->args[0]);
	return 0;
}

static int svc_connect_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000,
			    &((struct service_spec *)obj)->connect_timeout_ms);
}

static int svc_idle_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000,
			    &((struct service_spec *)obj)->idle_timeout_ms);
}

static int svc_max_conn(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_u32(ctx, n, n->args[0], UINT32_MAX, &((struct service_spec *)obj)->maxconn);
}

static int svc_retries(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_u32(ctx, n, n->args[0], 100, &((struct service_spec *)obj)->retries);
}

/* --- HTTP options ----------------------------------------------------------- */

static int arg_size(struct cfg_ctx *ctx, const struct conf_node *n, uint64_t max, uint64_t *out)
{
	if (parse_size(n->args[0], max, out) != 0)
		return cfg_fail(ctx, n->line, "%s: '%s' is not a size (e.g. 512, 16k, 10m) up to %llu",
				n->name, n->args[0], (unsigned long long)max);
	return 0;
}

static int arg_bool(struct cfg_ctx *ctx, const struct conf_node *n, bool *out)
{
	if (strcmp(n->args[0], "on") == 0 || strcmp(n->args[0], "off") == 0) {
		*out = n->args[0][1] == 'n';
		return 0;
	}
	return cfg_fail(ctx, n->line, "%s: '%s' is not on or off", n->name, n->args[0]);
}

static struct http_opts *hopts(void *obj)
{
	return &((struct service_spec *)obj)->http;
}

static int svc_max_header_size(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	uint64_t v;

	if (arg_size(ctx, n, 1u << 20, &v) != 0)
		return -EINVAL;
	if (v < 1024)
		return cfg_fail(ctx, n->line, "max_header_size: at least 1k");
	hopts(obj)->max_head = (uint32_t)v;
	return 0;
}

static int svc_max_body_size(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_size(ctx, n, SPEC_MAX_BODY, &hopts(obj)->max_body);
}

static int svc_retry_buffer(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	uint64_t v;

	if (arg_size(ctx, n, 64u << 20, &v) != 0)
		return -EINVAL;
	hopts(obj)->retry_mem = (uint32_t)v;
	return 0;
}

static int svc_header_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000, &hopts(obj)->header_timeout_ms);
}

static int svc_server_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000, &hopts(obj)->server_timeout_ms);
}

static int svc_keepalive_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000, &hopts(obj)->keepalive_timeout_ms);
}

static int svc_pool_idle_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_duration(ctx, n, n->args[0], 1000, &hopts(obj)->pool_idle_ms);
}

static int svc_pool_max_idle(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_u32(ctx, n, n->args[0], 100000, &hopts(obj)->pool_max_idle);
}

static int svc_retry_unsafe(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_bool(ctx, n, &hopts(obj)->retry_unsafe);
}

static int svc_request_codings(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_bool(ctx, n, &hopts(obj)->request_codings);
}

static int svc_forwarded_headers(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_bool(ctx, n, &hopts(obj)->forwarded);
}

static int svc_via(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	return arg_bool(ctx, n, &hopts(obj)->via);
}

static int svc_drain_signal(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct http_opts *h = hopts(obj);
	uint32_t st;

	if (parse_u32(n->args[0], 599, &st) != 0 || st < 200)
		return cfg_fail(ctx, n->line, "drain_signal: '%s' is not a status 200..599",
				n->args[0]);
	h->drain_status = (uint16_t)st;
	h->drain_header[0] = '\0';
	if (n->nargs == 2) {
		if (strlen(n->args[1]) >= sizeof(h->drain_header) || strpbrk(n->args[1], ": \t"))
			return cfg_fail(ctx, n->line, "drain_signal: '%s' is not a header name",
					n->args[1]);
		strcpy(h->drain_header, n->args[1]);
	}
	return 0;
}

static int svc_access_log(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct http_opts *h = hopts(obj);

	if (strlen(n->args[0]) >= sizeof(h->access_log))
		return cfg_fail(ctx, n->line, "access_log: path too long");
	strcpy(h->access_log, strcmp(n->args[0], "off") == 0 ? "" : n->args[0]);
	return 0;
}

static int svc_sticky(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	static const struct { const char *how; int nargs; uint8_t mode; } forms[] = {
		{ "cookie", 2, STICKY_INSERT }, { "off", 1, STICKY_NONE },
		{ "hash", 3, 0 },
	};
	static const struct { const char *what; uint8_t mode; } hashes[] = {
		{ "cookie", STICKY_COOKIE }, { "header", STICKY_HEADER }, { "param", STICKY_PARAM },
	};
	struct http_opts *h = hopts(obj);
	const char *name = NULL;

	h->sticky = 0xff;
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (strcmp(n->args[0], forms[i].how) == 0 && n->nargs == forms[i].nargs) {
			h->sticky = forms[i].mode;
			name = n->nargs > 1 ? n->args[n->nargs - 1] : "";
		}
	if (h->sticky == 0 && n->nargs == 3) {
		h->sticky = 0xff;
		for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
			if (strcmp(n->args[1], hashes[i].what) == 0)
				h->sticky = hashes[i].mode;
	}
	if (h->sticky == 0xff || !name || strlen(name) >= sizeof(h->sticky_name) ||
	    strpbrk(name, " \t;=,\"")) {
		h->sticky = STICKY_NONE;
		return cfg_fail(ctx, n->line, "sticky: use 'cookie NAME', 'hash cookie|header|param "
				"NAME' or 'off'");
	}
	strcpy(h->sticky_name, name);
	return 0;
}

static int svc_send_proxy(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (strcmp(n->args[0], "v1") == 0)
		svc->send_proxy = 1;
	else if (strcmp(n->args[0], "v2") == 0)
		svc->send_proxy = 2;
	else if (strcmp(n->args[0], "off") == 0)
		svc->send_proxy = 0;
	else
		return cfg_fail(ctx, n->line, "send_proxy: '%s' is not v1, v2 or off", n->args[0]);
	return 0;
}

static int svc_accept_proxy(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (n->nargs > SPEC_MAX_CIDRS)
		return cfg_fail(ctx, n->line, "accept_proxy: at most %d networks", SPEC_MAX_CIDRS);
	for (int i = 0; i < n->nargs; i++)
		if (cidr_parse(n->args[i], &svc->accept_proxy[i]) != 0)
			return cfg_fail(ctx, n->line, "accept_proxy: '%s' is not a network "
					"(e.g. 10.0.0.0/8, 192.0.2.7, ::1)", n->args[i]);
	svc->naccept_proxy = (uint8_t)n->nargs;
	return 0;
}

/* --- health ------------------------------------------------------------------ */

static int svc_check(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	return check_words(ctx, n, &svc->check);
}

static int svc_agent(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	char err[SPEC_ERR_MAX];

	if (agent_spec_parse(n->args, n->nargs, &svc->agent, err) != 0)
		return cfg_fail(ctx, n->line, "%s", err);
	return 0;
}

static int svc_outlier(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;
	char err[SPEC_ERR_MAX];

	if (outlier_spec_parse(n->args, n->nargs, &svc->outlier, err) != 0)
		return cfg_fail(ctx, n->line, "%s", err);
	return 0;
}

static int svc_slow_start(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (strcmp(n->args[0], "off") == 0) {
		svc->slow_start_ms = 0;
		return 0;
	}
	return arg_duration(ctx, n, n->args[0], 1000, &svc->slow_start_ms);
}

static int svc_on_gone(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct service_spec *svc = obj;

	if (strcmp(n->args[0], "keep") == 0)
		svc->reset_gone = false;
	else if (strcmp(n->args[0], "reset") == 0)
		svc->reset_gone = true;
	else
		return cfg_fail(ctx, n->line, "on_server_gone: '%s' is not keep or reset", n->args[0]);
	return 0;
}

#define HEALTH_DIRECTIVES                                  \
	{ "check", 1, -1, svc_check, false },              \
	{ "agent", 1, -1, svc_agent, false },              \
	{ "outlier", 1, -1, svc_outlier, false },          \
	{ "slow_start", 1, 1, svc_slow_start, false }

/* --- HTTP routing: pools and routes ------------------------------------------ */

static int svc_scheduler(struct cfg_ctx *ctx, const struct conf_node *n, void *obj);

static const struct directive pool_table[] = {
	{ "scheduler", 1, -1, svc_scheduler, false },
	{ "server", 1, -1, svc_server, true },
	HEALTH_DIRECTIVES,
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
	rc = run_table(ctx, n, pool_table, ARRAY_SIZE(pool_table), &p->s, "in a pool");
	if (rc == 0 && spec_check_service(&p->s, err) != 0)
		rc = cfg_fail(ctx, n->line, "pool %s: %s", p->name, err);
	return rc;
}

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

static const struct directive service_table[] = {
	{ "proxy", 1, 1, svc_proxy, false },
	{ "scheduler", 1, -1, svc_scheduler, false },
	{ "persistent", 0, 1, svc_persistent, false },
	{ "netmask", 1, 1, svc_netmask, false },
	{ "connect_timeout", 1, 1, svc_connect_timeout, false },
	{ "idle_timeout", 1, 1, svc_idle_timeout, false },
	{ "max_conn", 1, 1, svc_max_conn, false },
	{ "retries", 1, 1, svc_retries, false },
	{ "server", 1, -1, svc_server, true },
	{ "max_header_size", 1, 1, svc_max_header_size, false },
	{ "max_body_size", 1, 1, svc_max_body_size, false },
	{ "retry_buffer", 1, 1, svc_retry_buffer, false },
	{ "header_timeout", 1, 1, svc_header_timeout, false },
	{ "server_timeout", 1, 1, svc_server_timeout, false },
	{ "keepalive_timeout", 1, 1, svc_keepalive_timeout, false },
	{ "server_keepalive_timeout", 1, 1, svc_pool_idle_timeout, false },
	{ "server_keepalive_max", 1, 1, svc_pool_max_idle, false },
	{ "retry_unsafe", 1, 1, svc_retry_unsafe, false },
	{ "request_transfer_codings", 1, 1, svc_request_codings, false },
	{ "forwarded_headers", 1, 1, svc_forwarded_headers, false },
	{ "via", 1, 1, svc_via, false },
	{ "drain_signal", 1, 2, svc_drain_signal, false },
	{ "access_log", 1, 1, svc_access_log, false },
	{ "send_proxy", 1, 1, svc_send_proxy, false },
	{ "sticky", 1, 3, svc_sticky, false },
	{ "pool", 1, 1, svc_pool, true },
	{ "route", 0, 0, svc_route, true },
	{ "accept_proxy", 1, -1, svc_accept_proxy, false },
	{ "on_server_gone", 1, 1, svc_on_gone, false },
	HEALTH_DIRECTIVES,
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
	/* "proxy" decides how server addresses parse: read it first. */
	for (int i = 0; i < n->nchildren; i++)
		if (strcmp(n->children[i].name, "proxy") == 0 && n->children[i].nargs == 1 &&
		    (rc = svc_proxy(ctx, &n->children[i], &svc)) != 0)
			return rc;
	rc = run_table(ctx, n, service_table, ARRAY_SIZE(service_table), &svc, "in a service");
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
	if (addr_parse(n->args[0], false, &ctx->cfg->metrics) != 0 ||
	    addr_port(&ctx->cfg->metrics) == 0)
		return cfg_fail(ctx, n->line, "metrics: '%s' is not an address IP:PORT or "
				"[IPv6]:PORT", n->args[0]);
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

static int xdp_timeout(struct cfg_ctx *ctx, const struct conf_node *n, void *obj)
{
	struct xdp_spec *x = obj;
	uint32_t *dst = strcmp(n->name, "tcp_timeout") == 0 ? &x->tcp_est_ms :
			strcmp(n->name, "tcp_fin_timeout") == 0 ? &x->tcp_fin_ms :
			strcmp(n->name, "tcp_syn_timeout") == 0 ? &x->tcp_syn_ms :
			strcmp(n->name, "udp_timeout") == 0 ? &x->udp_ms : &x->rebuild_ms;
	uint32_t ms;

	if (arg_duration(ctx, n, n->args[0], 1000, &ms) != 0)
		return -EINVAL;
	if (ms < 10)
		return cfg_fail(ctx, n->line, "%s: at least 10ms", n->name);
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

static const struct directive top_table[] = {
	{ "xdp", 0, 0, top_xdp, true },
	{ "workers", 1, 1, top_workers, false },
	{ "metrics", 1, 1, top_metrics, false },
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
