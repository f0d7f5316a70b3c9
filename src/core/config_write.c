/*
 * config_write.c - a config as a config file (config.h: config_write), for
 * `weirctl -S --config`: what is running, as a file `weir -c` reads back to
 * the same config. Options come from their rows (core/option.h), written
 * where they differ from their defaults (a pool's: from its service's,
 * which it inherits in a file); globals likewise.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/option.h"
#include "core/util.h"

/* <w> as one config word: quoted with \" \\ and \n escapes when needed. */
static void conf_word(struct buf *out, const char *w)
{
	if (*w && !strpbrk(w, " \t\r\n\"\\;{}#'")) {
		buf_printf(out, " %s", w);
		return;
	}
	buf_append(out, " \"", 2);
	for (; *w; w++) {
		if (*w == '\n') {
			buf_append(out, "\\n", 2);
			continue;
		}
		if (*w == '"' || *w == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, w, 1);
	}
	buf_append(out, "\"", 1);
}

/* "<indent>KEY VALUE;" for row <r> of <obj> when it differs from <def>'s. */
static void write_row(struct buf *out, const char *indent, const struct opt_ref *r,
		      const void *obj, const void *def)
{
	char v[1024];

	if (!r->row->key || opt_equal(r, obj, def))
		return;
	opt_format(r, obj, v, sizeof(v));
	if (opt_value_implied(r->row, v))
		buf_printf(out, "%s%s;\n", indent, r->row->key);
	else if (v[0])
		buf_printf(out, "%s%s %s;\n", indent, r->row->key, v);
}

static void write_rows(struct buf *out, const char *indent, unsigned scope, const void *obj,
		       const void *def)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++)
		if (all[i].row->scope & scope)
			write_row(out, indent, &all[i], obj, def);
}

/* "server ADDR;", "server ADDR weight 3;" or, when an option takes several
 * words, a block. */
static void write_server(struct buf *out, const char *indent, const struct server_spec *r)
{
	struct server_spec def;
	char a[ADDR_STRLEN], v[1024], inner[32];
	bool block = false;
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	spec_server_defaults(&def);
	for (size_t i = 0; i < n; i++)
		if ((all[i].row->scope & OPT_SRV) && all[i].row->key &&
		    opt_takes_words(all[i].row) && !opt_equal(&all[i], r, &def))
			block = true;
	buf_printf(out, "%sserver %s", indent, addr_str(&r->addr, a));
	if (block) {
		snprintf(inner, sizeof(inner), "%s    ", indent);
		buf_printf(out, " {\n");
		write_rows(out, inner, OPT_SRV, r, &def);
		buf_printf(out, "%s}\n", indent);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct opt_ref *ref = &all[i];

		if (!(ref->row->scope & OPT_SRV) || !ref->row->key || opt_equal(ref, r, &def))
			continue;
		opt_format(ref, r, v, sizeof(v));
		if (opt_value_implied(ref->row, v))
			buf_printf(out, " %s", ref->row->key);
		else if (v[0])
			buf_printf(out, " %s %s", ref->row->key, v);
	}
	buf_printf(out, ";\n");
}

static void write_route(struct buf *out, const struct route_spec *rt)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{ "host", offsetof(struct route_spec, host) },
		{ "path_prefix", offsetof(struct route_spec, path_prefix) },
		{ "path_regex", offsetof(struct route_spec, path_regex) },
		{ "method", offsetof(struct route_spec, method) },
	};

	buf_printf(out, "    route {");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *v = (const char *)rt + fields[i].off;

		if (!*v)
			continue;
		buf_printf(out, " %s", fields[i].key);
		conf_word(out, v);
		buf_printf(out, ";");
	}
	if (rt->header[0]) {
		buf_printf(out, " header");
		conf_word(out, rt->header);
		conf_word(out, rt->header_regex);
		buf_printf(out, ";");
	}
	buf_printf(out, " pool");
	conf_word(out, rt->pool);
	buf_printf(out, "; }\n");
}

static void write_service(struct buf *out, const struct service_spec *s)
{
	struct service_spec def;
	char a[ADDR_STRLEN];

	spec_service_defaults(&def);
	buf_printf(out, "\nservice %s %s {\n", s->proto == IPPROTO_UDP ? "udp" : "tcp",
		   addr_str(&s->addr, a));
	write_rows(out, "    ", OPT_SVC, s, &def);
	for (size_t i = 0; i < s->nservers; i++)
		write_server(out, "    ", &s->servers[i]);
	for (size_t p = 0; p < s->npools; p++) {
		const struct service_spec *ps = &s->pools[p].s;

		buf_printf(out, "    pool");
		conf_word(out, s->pools[p].name);
		buf_printf(out, " {\n");
		write_rows(out, "        ", OPT_POOL, ps, s);
		for (size_t i = 0; i < ps->nservers; i++)
			write_server(out, "        ", &ps->servers[i]);
		buf_printf(out, "    }\n");
	}
	for (size_t i = 0; i < s->nroutes; i++)
		write_route(out, &s->routes[i]);
	buf_printf(out, "}\n");
}

static void write_ms(struct buf *out, const char *indent, const char *key, uint32_t ms,
		     uint32_t def)
{
	if (ms == def)
		return;
	if (ms % 1000 == 0)
		buf_printf(out, "%s%s %us;\n", indent, key, ms / 1000);
	else
		buf_printf(out, "%s%s %ums;\n", indent, key, ms);
}

/* The global connection timeouts (ipvsadm --set), at the top level. */
static void write_timeouts(struct buf *out, const struct conn_timeouts *t)
{
	struct conn_timeouts def;

	spec_timeouts_defaults(&def);
	write_ms(out, "", "tcp_timeout", t->tcp_ms, def.tcp_ms);
	write_ms(out, "", "tcp_fin_timeout", t->tcp_fin_ms, def.tcp_fin_ms);
	write_ms(out, "", "udp_timeout", t->udp_ms, def.udp_ms);
}

static void write_xdp(struct buf *out, const struct xdp_spec *x)
{
	struct xdp_spec def;
	char ip[ADDR_STRLEN];

	spec_xdp_defaults(&def);
	if (memcmp(x, &def, sizeof(def)) == 0)
		return;
	buf_printf(out, "xdp {\n");
	if (x->nifaces) {
		buf_printf(out, "    interface");
		for (int i = 0; i < x->nifaces; i++)
			conf_word(out, x->ifaces[i]);
		buf_printf(out, ";\n");
	}
	if (x->generic)
		buf_printf(out, "    mode generic;\n");
	if (addr_family(&x->local4) == AF_INET)
		buf_printf(out, "    local %s;\n", addr_ip_str(&x->local4, ip));
	if (addr_family(&x->local6) == AF_INET6)
		buf_printf(out, "    local %s;\n", addr_ip_str(&x->local6, ip));
	if (x->fullnat_lo != def.fullnat_lo || x->fullnat_hi != def.fullnat_hi)
		buf_printf(out, "    fullnat_ports %u-%u;\n", x->fullnat_lo, x->fullnat_hi);
	write_ms(out, "    ", "tcp_syn_timeout", x->tcp_syn_ms, def.tcp_syn_ms);
	write_ms(out, "    ", "rebuild_interval", x->rebuild_ms, def.rebuild_ms);
	buf_printf(out, "}\n");
}

void config_write(const struct weir_config *cfg, struct buf *out)
{
	struct weir_config def;
	char a[ADDR_STRLEN];

	spec_init(&def);
	buf_printf(out, "# written by weirctl -S --config\n");
	if (cfg->workers)
		buf_printf(out, "workers %d;\n", cfg->workers);
	if (cfg->log_level != def.log_level)
		buf_printf(out, "log_level %s;\n", log_level_name((enum log_level)cfg->log_level));
	if (cfg->socket_path) {
		buf_printf(out, "socket");
		conf_word(out, cfg->socket_path);
		buf_printf(out, ";\n");
	}
	if (cfg->grace_ms != def.grace_ms)
		buf_printf(out, "grace %ums;\n", cfg->grace_ms);
	if (addr_port(&cfg->metrics))
		buf_printf(out, "metrics %s;\n", addr_str(&cfg->metrics, a));
	if (cfg->metrics_token[0]) {
		buf_printf(out, "metrics_token");
		conf_word(out, cfg->metrics_token);
		buf_printf(out, ";\n");
	}
	if (cfg->metrics_hosts[0][0]) {
		buf_printf(out, "metrics_hosts");
		for (size_t i = 0; i < METRICS_HOSTS_MAX && cfg->metrics_hosts[i][0]; i++)
			buf_printf(out, " %s", cfg->metrics_hosts[i]);
		buf_printf(out, ";\n");
	}
	write_timeouts(out, &cfg->timeouts);
	write_xdp(out, &cfg->xdp);
	for (size_t i = 0; i < cfg->nservices; i++)
		write_service(out, &cfg->services[i]);
}
