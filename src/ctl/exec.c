/* exec.c - see exec.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/option.h"
#include "core/util.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "ctl/list.h"
#include "ctl/list_conns.h"
#include "ctl/report.h"
#include "health/state.h"
#include "version.h"

int ctl_split(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *w;

		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		if (*p == '"') {
			w = ++p;
			for (char *q = p;; q++) {
				if (!*q)
					return -1;
				if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
					q++;
				else if (*q == '"') {
					*p = '\0';
					p = q + 1;
					break;
				}
				*p++ = *q;
			}
			/* p now points past the closing quote */
		} else {
			w = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			if (*p)
				*p++ = '\0';
		}
		words[n++] = w;
	}
}

/* --- changes to the working config -------------------------------------- */

/* The options of <scope> that <cmd> does not give: weir's take their value
 * in <cur>, ipvsadm's keep the default <into> already holds (as ipvsadm's
 * -E and -e do). <cur> and <into> are service specs for service rows,
 * server specs for OPT_SRV. */
static void keep_unnamed(const struct ctl_cmd *cmd, unsigned scope, const void *cur,
			 void *into)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;

		if ((o->scope & scope) && !(o->flags & OPT_F_IPVSADM) && !ctl_given(cmd, o))
			opt_copy(&all[i], into, cur);
	}
}

/* -e keeps weir's own server options (check, state, url...) unless given;
 * -a takes the defaults (a check not given is the service's). */
static void server_opts(const struct ctl_cmd *cmd, struct service_spec *cur,
			struct server_spec *rs)
{
	struct server_spec *old;

	if (cmd->op != OP_EDIT_RS || !cur)
		return;
	spec_normalize_server(cur, rs);
	if ((old = spec_find_server(cur, &rs->addr)))
		keep_unnamed(cmd, OPT_SRV, old, rs);
}

/* `server VIP RIP ACTION`: the server in the service and in its pools. */
static int server_action(struct service_spec *svc, const struct ctl_cmd *cmd, char *err)
{
	int found = 0;

	for (size_t p = 0; p <= svc->npools; p++) {
		struct service_spec *s = p == svc->npools ? svc : &svc->pools[p].s;
		struct server_spec key = cmd->rs, *r;

		spec_normalize_server(s, &key);
		if (!(r = spec_find_server(s, &key.addr)))
			continue;
		found++;
		switch (cmd->action) {
		case ACT_READY: r->admin = ADMIN_READY; break;
		case ACT_DRAIN: r->admin = ADMIN_DRAIN; break;
		case ACT_MAINT: r->admin = ADMIN_MAINT; break;
		case ACT_WEIGHT: r->weight = cmd->rs.weight; break;
		default: break;
		}
	}
	if (!found) {
		snprintf(err, SPEC_ERR_MAX, "No such destination");
		return -ENOENT;
	}
	return 0;
}

/* -A --pool: as the config file's pool block: the pool's own options (the
 * rows of OPT_POOL) given, or ipvsadm's default, or weir's as the
 * service's; the rest is the service's. */
static int add_pool(struct weir_config *cfg, const struct ctl_cmd *cmd,
		    const struct service_spec *cur, char *err)
{
	struct service_spec opts = cmd->svc;

	if (!ctl_gives_only(cmd, BIT(O_SERVICE) | BIT(O_POOL) | BIT(O_NUMERIC), OPT_POOL)) {
		char flags[256];

		ctl_scope_flags(OPT_POOL, flags, sizeof(flags));
		snprintf(err, SPEC_ERR_MAX, "--pool: a pool takes only %s; the rest is its "
			 "service's", flags);
		return -EINVAL;
	}
	if (cur)
		keep_unnamed(cmd, OPT_POOL, cur, &opts);
	return spec_add_pool(cfg, cmd->svc.proto, &cmd->svc.addr, cmd->pool, &opts, err);
}

/* --set: each of tcp, tcpfin, udp in seconds, 0 = unchanged (as IPVS). */
static void set_timeouts(struct conn_timeouts *t, const uint32_t s[3])
{
	uint32_t *dst[3] = { &t->tcp_ms, &t->tcp_fin_ms, &t->udp_ms };

	for (int i = 0; i < 3; i++)
		if (s[i])
			*dst[i] = s[i] * 1000u;
}

int ctl_apply_change(struct weir_config *cfg, const struct ctl_cmd *cmd, char *err)
{
	struct service_spec *cur = spec_find_service(cfg, cmd->svc.proto, &cmd->svc.addr);
	struct service_spec svc = cmd->svc;
	const char *pool = ctl_has(cmd, O_POOL) ? cmd->pool : NULL;

	if (cur && pool && (cmd->op == OP_ADD_RS || cmd->op == OP_EDIT_RS))
		cur = spec_find_pool(cur, pool); /* server_opts() reads the pool's */
	switch (cmd->op) {
	case OP_ADD_SVC:
		if (pool)
			return add_pool(cfg, cmd, cur, err);
		return spec_add_service(cfg, &svc, err);
	case OP_EDIT_SVC:
		if (cur)
			keep_unnamed(cmd, OPT_SVC, cur, &svc);
		return spec_edit_service(cfg, &svc, err);
	case OP_DEL_SVC:
		if (pool)
			return spec_del_pool(cfg, svc.proto, &svc.addr, pool, err);
		return spec_del_service(cfg, svc.proto, &svc.addr, err);
	case OP_CLEAR:
		spec_clear(cfg);
		return 0;
	case OP_ADD_RS:
	case OP_EDIT_RS: {
		struct server_spec rs = cmd->rs;

		server_opts(cmd, cur, &rs);
		if (cmd->op == OP_ADD_RS)
			return spec_add_server(cfg, svc.proto, &svc.addr, pool, &rs, err);
		return spec_edit_server(cfg, svc.proto, &svc.addr, pool, &rs, err);
	}
	case OP_SERVER:
		if (!cur) {
			snprintf(err, SPEC_ERR_MAX, "No such service");
			return -ESRCH;
		}
		return server_action(cur, cmd, err);
	case OP_DEL_RS:
		return spec_del_server(cfg, svc.proto, &svc.addr, pool, &cmd->rs.addr, err);
	case OP_SET:
		set_timeouts(&cfg->timeouts, cmd->set_s);
		return 0;
	default:
		return 0;
	}
}

bool ctl_is_change(enum ctl_op op)
{
	return op == OP_ADD_SVC || op == OP_EDIT_SVC || op == OP_DEL_SVC || op == OP_CLEAR ||
	       op == OP_ADD_RS || op == OP_EDIT_RS || op == OP_DEL_RS || op == OP_SERVER ||
	       op == OP_SET;
}

/* --- read-only commands -------------------------------------------------- */

static int do_list(struct ctl_ctx *ctx, const struct ctl_cmd *cmd, struct buf *out, char *err)
{
	struct list_opts o = {
		.stats = ctl_has(cmd, O_STATS),
		.rate = ctl_has(cmd, O_RATE),
		.thresholds = ctl_has(cmd, O_THRESHOLDS),
		.pconn = ctl_has(cmd, O_PERSISTENT_CONN),
		.exact = ctl_has(cmd, O_EXACT),
		.nosort = ctl_has(cmd, O_NOSORT),
		.http = ctl_has(cmd, O_HTTP),
		.udp = ctl_has(cmd, O_UDP),
		.dns = ctl_has(cmd, O_DNS),
		.health = ctl_has(cmd, O_HEALTH),
		.tuninfo = ctl_has(cmd, O_TUN_INFO),
		.names = ctl_has(cmd, O_NAMES),
	};

	if (ctl_has(cmd, O_SERVICE)) {
		o.only = table_find(ctx->table, cmd->svc.proto, &cmd->svc.addr);
		if (!o.only) {
			snprintf(err, CTL_ERR_MAX, "No such service");
			return CTL_EXIT_LIST;
		}
	}
	if (ctl_has(cmd, O_JSON))
		report_json(ctx->table, o.only, out);
	else
		ctl_list(ctx->table, &o, out);
	return 0;
}

struct report_info ctl_info(const struct ctl_ctx *ctx)
{
	struct report_info i = {
		.version = WEIR_VERSION,
		.config_path = ctx->config_path,
		.uptime_ms = now_ms() - ctx->started_ms,
		.nworkers = ctx->nworkers,
	};
	return i;
}

void ctl_metrics(struct ctl_ctx *ctx, struct buf *out)
{
	struct report_info info = ctl_info(ctx);

	report_metrics(ctx->table, &info, out);
}

static void do_status(struct ctl_ctx *ctx, const struct ctl_cmd *cmd, struct buf *out)
{
	struct report_info info = ctl_info(ctx);
	struct report_counts c;

	if (ctl_has(cmd, O_JSON)) {
		report_status_json(ctx->table, &info, out);
		return;
	}
	report_counts(ctx->table, &c);
	buf_printf(out, "weir %s\n", WEIR_VERSION);
	buf_printf(out, "pid: %d\n", (int)getpid());
	buf_printf(out, "uptime: %llus\n", (unsigned long long)(info.uptime_ms / 1000));
	buf_printf(out, "config: %s\n", ctx->config_path ? ctx->config_path : "(none)");
	buf_printf(out, "workers: %d\n", ctx->nworkers);
	buf_printf(out, "services: %u (%u proxy, %u packet)\n", c.services, c.proxies,
		   c.services - c.proxies);
	buf_printf(out, "real servers: %u (%u up, %u down, %u ejected, %u drain, %u maint, "
		   "%u quiesced)\n", c.servers, c.up, c.down, c.ejected, c.drain, c.maint,
		   c.quiesced);
	buf_printf(out, "connections: %llu active, %llu inactive\n", c.active, c.inactive);
}

static int do_zero(struct ctl_ctx *ctx, const struct ctl_cmd *cmd, char *err)
{
	struct virtual_service *svc = NULL;

	if (ctl_has(cmd, O_SERVICE)) {
		svc = table_find(ctx->table, cmd->svc.proto, &cmd->svc.addr);
		if (!svc) {
			snprintf(err, CTL_ERR_MAX, "No such service");
			return CTL_EXIT_APPLY;
		}
	}
	table_zero(ctx->table, svc);
	return 0;
}

/* Runs a command that reads or acts outside the config. */
static int run_other(struct ctl_ctx *ctx, const struct ctl_cmd *cmd,
		     const struct weir_config *work, struct buf *out, char *err)
{
	int rc;

	switch (cmd->op) {
	case OP_LIST:
		if (ctl_has(cmd, O_TIMEOUT)) {
			buf_printf(out, "Timeout (tcp tcpfin udp): %u %u %u\n",
				   work->timeouts.tcp_ms / 1000, work->timeouts.tcp_fin_ms / 1000,
				   work->timeouts.udp_ms / 1000);
			return 0;
		}
		if (ctl_has(cmd, O_CONNECTION))
			return ctl_list_conns(ctx->table, ctl_has(cmd, O_PERSISTENT_CONN),
					      ctl_has(cmd, O_NAMES), out, err);
		return do_list(ctx, cmd, out, err);
	case OP_SAVE:
		if (ctl_has(cmd, O_CONFIG))
			config_write(work, out);
		else
			ctl_save(work, false, ctl_has(cmd, O_NAMES), out);
		return 0;
	case OP_ZERO:
		return do_zero(ctx, cmd, err);
	case OP_HELP:
		ctl_usage(out);
		return 0;
	case OP_VERSION:
		/* the daemon's line; weirctl prints its own before it */
		buf_printf(out, "weir v%s (daemon pid %d, IP Virtual Server version %s)\n",
			   WEIR_VERSION, (int)getpid(), WEIR_IPVS_VERSION);
		return 0;
	case OP_STATUS:
		do_status(ctx, cmd, out);
		return 0;
	case OP_METRICS:
		ctl_metrics(ctx, out);
		return 0;
	case OP_RELOAD:
		if (!ctx->config_path) {
			snprintf(err, CTL_ERR_MAX, "weir was started without -c: no config to reload");
			return CTL_EXIT_APPLY;
		}
		if ((rc = ctx->reload(ctx, err)) != 0)
			return CTL_EXIT_APPLY;
		buf_printf(out, "reloaded %s\n", ctx->config_path);
		return 0;
	case OP_RESTORE:
		snprintf(err, CTL_ERR_MAX, "-R reads its rules from standard input: "
			 "run it as weirctl -R < FILE");
		return CTL_EXIT_USAGE;
	default:
		return 0;
	}
}

/* `server ... ready` also forgets a drain signal and an ejection: those are
 * not config, so they are cleared on the live servers once applied. */
static void ready_live(struct vs_table *t, const struct ctl_cmd *cmd)
{
	struct virtual_service *svc = table_find(t, cmd->svc.proto, &cmd->svc.addr);

	for (size_t p = 0; svc && p <= svc->npools; p++) {
		struct virtual_service *s = p == svc->npools ? svc : svc->pools[p];
		struct server_spec key = cmd->rs;

		spec_normalize_server(&s->spec, &key);
		for (size_t i = 0; i < s->nservers; i++)
			if (addr_equal(&s->servers[i]->addr, &key.addr))
				health_server_ready(s->servers[i]);
	}
}

/* --- the request ------------------------------------------------------------ */

static void answer_err(struct buf *out, int status, int lineno, int nlines, const char *msg)
{
	buf_reset(out);
	if (nlines > 1)
		buf_printf(out, "ERR %d line %d: %s\n", status, lineno, msg);
	else
		buf_printf(out, "ERR %d %s\n", status, msg);
}

/* Drops a leading "ipvsadm"/"weirctl" and, in -R input, the -R itself. */
static int strip_prefix(char **words, int n)
{
	int skip = 0;

	while (skip < n && (strcmp(words[skip], "ipvsadm") == 0 ||
			    strcmp(words[skip], "weirctl") == 0))
		skip++;
	memmove(words, words + skip, (size_t)(n - skip) * sizeof(*words));
	return n - skip;
}

static int count_lines(const char *req, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += req[i] == '\n';
	return n + (len && req[len - 1] != '\n');
}

void ctl_exec(struct ctl_ctx *ctx, char *req, size_t len, struct buf *out)
{
	struct weir_config work;
	struct ctl_cmd *readies = NULL;
	size_t nreadies = 0;
	struct buf body = { 0 };
	char err[CTL_ERR_MAX], *line, *next;
	int lineno = 0, nlines = count_lines(req, len), rc = 0;
	bool changed = false;

	if (memchr(req, '\0', len)) {
		answer_err(out, CTL_EXIT_USAGE, 0, 1, "request contains a NUL byte");
		return;
	}
	req[len] = '\0'; /* the caller leaves one spare byte */
	if (spec_dup(&work, &ctx->table->cfg) != 0) {
		answer_err(out, CTL_EXIT_APPLY, 0, 1, "Memory allocation problem");
		return;
	}
	for (line = req; line < req + len; line = next) {
		char *words[CTL_MAX_WORDS];
		struct ctl_cmd cmd;
		int n;

		next = strchr(line, '\n');
		next = next ? (*next = '\0', next + 1) : req + len;
		lineno++;
		if (line[strspn(line, " \t\r")] == '#')
			continue;
		n = ctl_split(line, words, CTL_MAX_WORDS);
		if (n < 0) {
			answer_err(out, CTL_EXIT_USAGE, lineno, nlines,
				   "too many words or an unclosed quote");
			goto out;
		}
		n = strip_prefix(words, n);
		if (n == 0)
			continue;
		if ((rc = ctl_parse(n, words, &cmd, err)) != 0) {
			answer_err(out, rc, lineno, nlines, err);
			goto out;
		}
		if (ctl_is_change(cmd.op)) {
			if (ctl_apply_change(&work, &cmd, err) != 0) {
				answer_err(out, CTL_EXIT_APPLY, lineno, nlines, err);
				goto out;
			}
			changed = true;
			if (cmd.op == OP_SERVER && cmd.action == ACT_READY) {
				struct ctl_cmd *r = realloc(readies, (nreadies + 1) * sizeof(*r));

				if (!r) {
					answer_err(out, CTL_EXIT_APPLY, 0, 1, "Memory allocation problem");
					goto out;
				}
				readies = r;
				readies[nreadies++] = cmd;
			}
		} else if ((rc = run_other(ctx, &cmd, &work, &body, err)) != 0) {
			answer_err(out, rc, lineno, nlines, err);
			goto out;
		}
	}
	if (changed && table_apply(ctx->table, &work, err) != 0) {
		answer_err(out, CTL_EXIT_APPLY, 0, 1, err);
		goto out;
	}
	for (size_t i = 0; i < nreadies; i++)
		ready_live(ctx->table, &readies[i]);
	buf_printf(out, "OK\n");
	buf_append(out, buf_head(&body), body.len);
out:
	free(readies);
	buf_free(&body);
	spec_free(&work);
}
