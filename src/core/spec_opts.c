/*
 * spec_opts.c - the rows of the core's own options (core/option.h): a
 * service's (scheduling, persistence, the proxies' limits, health) and a
 * real server's. Modes add their own blocks (proxy/http_opts.c).
 *
 * Order matters twice: rows print (weirctl -S, the config writer) in
 * registration order after ipvsadm's own, and the config's list of server
 * options in a message follows it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/healthspec.h"
#include "core/option.h"
#include "core/util.h"
#include "sched/sched.h"

/* --- scheduling and persistence (ipvsadm's -s -b -p -M) ---------------------- */

static int parse_flag_words(char *const *w, int n, uint32_t *out, char *why)
{
	*out = 0;
	if (n == 1 && (strcmp(w[0], "off") == 0 || strcmp(w[0], "none") == 0))
		return 0;
	for (int i = 0; i < n; i++) {
		uint32_t f;

		if (sched_flags_parse(w[i], &f) != 0)
			return opt_fail(why, "unknown flag '%s'", w[i]);
		*out |= f;
	}
	return 0;
}

/* `scheduler NAME [FLAGS...]`: the name and, with it, the flags (none
 * unless given). An unknown name is -ENOENT (see opt_parse_fn). */
static int parse_scheduler(const struct opt_row *o, char *const *w, int n, void *base,
			   char *why)
{
	struct service_spec *s = base;
	uint32_t flags;

	if (strlen(w[0]) >= sizeof(s->sched))
		return opt_fail(why, "unknown scheduler '%s'", w[0]);
	if (parse_flag_words(w + 1, n - 1, &flags, why) != 0)
		return -EINVAL;
	memset(s->sched, 0, sizeof(s->sched));
	memcpy(s->sched, w[0], strlen(w[0]));
	s->sched_flags = flags;
	if (!sched_find(w[0])) {
		snprintf(why, SPEC_ERR_MAX, "unknown scheduler '%s'", w[0]);
		return -ENOENT;
	}
	return 0;
}

static void format_scheduler(const struct opt_row *o, const void *base, char *out, size_t len)
{
	opt_put_word(out, len, ((const struct service_spec *)base)->sched);
}

static int parse_sched_flags(const struct opt_row *o, char *const *w, int n, void *base,
			     char *why)
{
	return parse_flag_words(w, n, &((struct service_spec *)base)->sched_flags, why);
}

static void format_sched_flags(const struct opt_row *o, const void *base, char *out,
			       size_t len)
{
	const struct service_spec *s = base;

	if (!s->sched_flags)
		snprintf(out, len, "off");
	else
		sched_flags_format(s->sched_flags, s->sched, out, len);
}

/* `persistent [TIMEOUT]`: bare, ipvsadm's 300 s. */
static int parse_persistent(const struct opt_row *o, char *const *w, int n, void *base,
			    char *why)
{
	struct service_spec *s = base;
	uint32_t ms;

	if (n == 0) {
		s->persist_s = DEFAULT_PERSIST_S;
		return 0;
	}
	if (parse_duration_ms(w[0], 1000, &ms) != 0)
		return opt_fail(why, "'%s' is not a duration (e.g. 500ms, 2s, 5m)", w[0]);
	if (ms < 1000 || ms / 1000 > SPEC_MAX_PERSIST_S)
		return opt_fail(why, "timeout must be 1s to 31 days");
	s->persist_s = ms / 1000;
	return 0;
}

static void format_persistent(const struct opt_row *o, const void *base, char *out,
			      size_t len)
{
	const struct service_spec *s = base;

	if (s->persist_s)
		snprintf(out, len, "%u", s->persist_s);
}

/* The service's address family decides how a mask reads. */
static int parse_netmask(const struct opt_row *o, char *const *w, int n, void *base,
			 char *why)
{
	struct service_spec *s = base;
	int fam = addr_family(&s->addr) == AF_INET6 ? AF_INET6 : AF_INET;

	if (netmask_parse(w[0], fam, &s->persist_prefix) != 0)
		return opt_fail(why, "'%s' is not a netmask", w[0]);
	return 0;
}

/* Only a persistent service's, and only a mask that groups clients. */
static void format_netmask(const struct opt_row *o, const void *base, char *out, size_t len)
{
	const struct service_spec *s = base;

	if (s->persist_s && s->persist_prefix != spec_full_prefix(&s->addr))
		netmask_format(s->persist_prefix, addr_family(&s->addr), out, len);
}

/* --- the mode ------------------------------------------------------------------ */

static int parse_proxy(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	char names[128];

	if (mode_parse(w[0], &((struct service_spec *)base)->proxy) == 0)
		return 0;
	mode_names(names, sizeof(names));
	return opt_fail(why, "'%s' is not one of %s", w[0], names);
}

static void format_proxy(const struct opt_row *o, const void *base, char *out, size_t len)
{
	opt_put_word(out, len, mode_name(((const struct service_spec *)base)->proxy));
}

/* --- health: the words of healthspec.c, for a service, pool or server ------------- */

static int parse_check(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	return check_spec_parse(w, n, (struct check_spec *)((char *)base + o->off), why);
}

static void format_check(const struct opt_row *o, const void *base, char *out, size_t len)
{
	check_spec_format((const struct check_spec *)((const char *)base + o->off), out, len);
}

static int parse_agent(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	return agent_spec_parse(w, n, &((struct service_spec *)base)->agent, why);
}

static void format_agent(const struct opt_row *o, const void *base, char *out, size_t len)
{
	agent_spec_format(&((const struct service_spec *)base)->agent, out, len);
}

static int parse_outlier(const struct opt_row *o, char *const *w, int n, void *base,
			 char *why)
{
	return outlier_spec_parse(w, n, &((struct service_spec *)base)->outlier, why);
}

static void format_outlier(const struct opt_row *o, const void *base, char *out, size_t len)
{
	outlier_spec_format(&((const struct service_spec *)base)->outlier, out, len);
}

/* `drain_signal STATUS [HEADER]` */
static int parse_drain(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	struct service_spec *s = base;
	uint32_t st;

	if (parse_u32(w[0], 599, &st) != 0 || st < 200)
		return opt_fail(why, "'%s' is not a status 200..599", w[0]);
	if (n == 2 && (!w[1][0] || strlen(w[1]) >= sizeof(s->drain_header) ||
		       strspn(w[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789!#$%&'*+-.^_`|~") != strlen(w[1])))
		return opt_fail(why, "'%s' is not a header name", w[1]);
	s->drain_status = (uint16_t)st;
	memset(s->drain_header, 0, sizeof(s->drain_header));
	if (n == 2)
		memcpy(s->drain_header, w[1], strlen(w[1]));
	return 0;
}

static void format_drain(const struct opt_row *o, const void *base, char *out, size_t len)
{
	const struct service_spec *s = base;

	snprintf(out, len, "%u", s->drain_status);
	if (s->drain_header[0])
		opt_put_word(out, len, s->drain_header);
}

/* --- PROXY protocol ------------------------------------------------------------- */

/* `accept_proxy NET...`, the networks separated by blanks or commas; off = none. */
static int parse_accept_proxy(const struct opt_row *o, char *const *w, int n, void *base,
			      char *why)
{
	struct service_spec *s = base;
	struct cidr nets[SPEC_MAX_CIDRS];
	size_t k = 0;

	if (n == 1 && strcmp(w[0], "off") == 0)
		goto out;
	for (int i = 0; i < n; i++) {
		char word[128], *save = NULL;

		if (strlen(w[i]) >= sizeof(word))
			return opt_fail(why, "'%s' is not a network (e.g. 10.0.0.0/8, 192.0.2.7, ::1)",
				    w[i]);
		strcpy(word, w[i]);
		for (char *t = strtok_r(word, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (k == SPEC_MAX_CIDRS)
				return opt_fail(why, "at most %d networks", SPEC_MAX_CIDRS);
			if (cidr_parse(t, &nets[k]) != 0)
				return opt_fail(why, "'%s' is not a network (e.g. 10.0.0.0/8, "
					    "192.0.2.7, ::1)", t);
			k++;
		}
	}
	if (!k)
		return opt_fail(why, "no network given");
out:
	memset(s->accept_proxy, 0, sizeof(s->accept_proxy));
	memcpy(s->accept_proxy, nets, k * sizeof(nets[0]));
	s->naccept_proxy = (uint8_t)k;
	return 0;
}

static void format_accept_proxy(const struct opt_row *o, const void *base, char *out,
				size_t len)
{
	const struct service_spec *s = base;
	size_t n = 0;

	if (!s->naccept_proxy) {
		snprintf(out, len, "off");
		return;
	}
	for (size_t i = 0; i < s->naccept_proxy && n < len; i++) {
		char net[64];

		cidr_format(&s->accept_proxy[i], net, sizeof(net));
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", net);
	}
}

/* --- servers ---------------------------------------------------------------------- */

static int parse_url(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	struct server_spec *r = base;
	const char *v = w[0];
	size_t len = strlen(v);

	if (len >= sizeof(r->url) || (strncmp(v, "http://", 7) != 0 &&
				      strncmp(v, "https://", 8) != 0))
		return opt_fail(why, "'%s' is not an http:// or https:// URL", v);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return opt_fail(why, "'%s' is not an http:// or https:// URL", v);
	memset(r->url, 0, sizeof(r->url));
	/* the request's path is appended to it */
	memcpy(r->url, v, v[len - 1] == '/' ? len - 1 : len);
	return 0;
}

static void format_url(const struct opt_row *o, const void *base, char *out, size_t len)
{
	opt_put_word(out, len, ((const struct server_spec *)base)->url);
}

/* "backup", "backup on" or "backup off" (weirctl: --backup [on|off]). */
static int parse_backup(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	struct server_spec *r = base;

	if (n && strcmp(w[0], "on") != 0 && strcmp(w[0], "off") != 0)
		return opt_fail(why, "'%s' is not on or off", w[0]);
	r->backup = !n || strcmp(w[0], "on") == 0;
	return 0;
}

static void format_backup(const struct opt_row *o, const void *base, char *out, size_t len)
{
	snprintf(out, len, "%s", ((const struct server_spec *)base)->backup ? "on" : "off");
}

/* ipvsadm's --tun-type: weir's tunnels are all ipip. No field: -S writes it
 * after a tunnel server's -i, as ipvsadm 1.31 does. */
static int parse_tun_type(const struct opt_row *o, char *const *w, int n, void *base,
			  char *why)
{
	if (strcmp(w[0], "gue") == 0 || strcmp(w[0], "gre") == 0) {
		snprintf(why, SPEC_ERR_MAX, "not supported by weir: GUE and GRE tunnels are not "
			 "built; weir's TUN (-i) is IP-in-IP (--tun-type ipip)");
		return -EOPNOTSUPP; /* an ipvsadm value weir refuses: its own message */
	}
	if (strcmp(w[0], "ipip") != 0)
		return opt_fail(why, "'%s' is not ipip", w[0]);
	return 0;
}

static void format_tun_type(const struct opt_row *o, const void *base, char *out, size_t len)
{
	if (((const struct server_spec *)base)->fwd == FWD_TUNNEL)
		snprintf(out, len, "ipip");
}

/* --- the rows ------------------------------------------------------------------------ */

static const struct opt_word on_gone_words[] = {
	{ "keep", 0 }, { "reset", 1 }, { NULL, 0 },
};
static const struct opt_word send_proxy_words[] = {
	{ "off", 0 }, { "v1", 1 }, { "v2", 2 }, { NULL, 0 },
};
static const struct opt_word forward_words[] = {
	{ "route", FWD_ROUTE }, { "tunnel", FWD_TUNNEL }, { "masq", FWD_MASQ },
	{ "fullnat", FWD_FULLNAT }, { "dr", FWD_ROUTE }, { "tun", FWD_TUNNEL },
	{ "nat", FWD_MASQ }, { NULL, 0 },
};
static const struct opt_word state_words[] = {
	{ "ready", ADMIN_READY }, { "drain", ADMIN_DRAIN }, { "maint", ADMIN_MAINT },
	{ "maintenance", ADMIN_MAINT }, { NULL, 0 },
};
static const struct opt_alias ops_aliases[] = {
	{ 'o', "ops", "on", "one-packet scheduling: UDP: every datagram scheduled on its own" },
	{ 0, NULL, NULL, NULL },
};
static const struct opt_alias forward_aliases[] = {
	{ 'g', "gatewaying", "route", "direct routing (default)" },
	{ 'i', "ipip", "tunnel", "IP-in-IP tunnel" },
	{ 'm', "masquerading", "masq", "NAT (masquerading)" },
	{ 0, "fullnat", "fullnat", "weir: full NAT: source rewritten to the director too" },
	{ 0, NULL, NULL, NULL },
};

#define S struct service_spec
#define R struct server_spec

static const struct opt_row service_rows[] = {
	{ .key = "proxy", .flag = "proxy", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .flags = OPT_F_FIRST, .min_args = 1, .max_args = 1, OPT_FIELD(S, proxy),
	  .parse = parse_proxy, .format = format_proxy, .metavar = "MODE", .example = "tcp",
	  .def = "none",
	  .help = "weir: user-space proxy service: tcp, http or redirect (none: packet mode)" },
	{ .key = "scheduler", .flag = "scheduler", .shortname = 's', .type = OPT_CUSTOM,
	  .scope = OPT_SVC | OPT_POOL, .flags = OPT_F_IPVSADM | OPT_F_ALWAYS, .order = 4,
	  .min_args = 1, .max_args = -1, OPT_FIELD(S, sched), .parse = parse_scheduler,
	  .format = format_scheduler, .ctl_err = "Scheduler or persistence engine not found",
	  .metavar = "SCHED", .example = "mh", .def = DEFAULT_SCHED,
	  .help = "scheduler (default wlc); the config may add flags after the name" },
	{ .key = "sched_flags", .flag = "sched-flags", .shortname = 'b', .type = OPT_CUSTOM,
	  .scope = OPT_SVC | OPT_POOL, .flags = OPT_F_IPVSADM, .order = 24, .min_args = 1,
	  .max_args = -1, OPT_FIELD(S, sched_flags), .parse = parse_sched_flags,
	  .format = format_sched_flags, .ctl_err = "invalid scheduler flag `%s'",
	  .metavar = "FLAGS", .example = "sh-port", .def = "off",
	  .help = "sh-fallback,sh-port / mh-fallback,mh-port" },
	{ .key = "persistent", .flag = "persistent", .shortname = 'p', .type = OPT_CUSTOM,
	  .scope = OPT_SVC, .flags = OPT_F_IPVSADM | OPT_F_OPTARG, .order = 5, .min_args = 0,
	  .max_args = 1, OPT_FIELD(S, persist_s), .parse = parse_persistent,
	  .format = format_persistent, .ctl_err = "invalid timeout value `%s' specified",
	  .metavar = "[TIMEOUT]", .example = "120", .def = "off",
	  .help = "persistent service, seconds (default 300)" },
	{ .key = "netmask", .flag = "netmask", .shortname = 'M', .type = OPT_CUSTOM,
	  .scope = OPT_SVC, .flags = OPT_F_IPVSADM, .order = 6, .min_args = 1, .max_args = 1,
	  OPT_FIELD(S, persist_prefix), .parse = parse_netmask, .format = format_netmask,
	  .ctl_err = "illegal virtual server persistent mask specified",
	  .ctl_err6 = "illegal ipv6 netmask specified", .metavar = "NETMASK",
	  .example = "255.255.255.0", .def = "one client per address",
	  .help = "group persistent clients by subnet" },
	{ .key = "ops", .type = OPT_BOOL, .scope = OPT_SVC, .flags = OPT_F_IPVSADM, .order = 22,
	  OPT_FIELD(S, ops), .aliases = ops_aliases, .example = "on", .def = "off",
	  .help = "one-packet scheduling (UDP): every datagram scheduled on its own" },
	{ .key = "connect_timeout", .flag = "connect-timeout", .type = OPT_DURATION,
	  .scope = OPT_SVC, OPT_FIELD(S, connect_timeout_ms), .metavar = "T",
	  .example = "500ms", .def = "2s", .help = "weir: proxy connect timeout" },
	{ .key = "idle_timeout", .flag = "idle-timeout", .type = OPT_DURATION, .scope = OPT_SVC,
	  OPT_FIELD(S, idle_timeout_ms), .metavar = "T", .example = "2m",
	  .def = "tcp_timeout or udp_timeout",
	  .help = "weir: proxy idle timeout (0: the global tcp_timeout or udp_timeout, --set)" },
	{ .key = "max_conn", .flag = "max-conn", .type = OPT_U32, .scope = OPT_SVC,
	  OPT_FIELD(S, maxconn), .max = UINT32_MAX, .metavar = "N", .example = "1000",
	  .def = "0", .help = "weir: most open connections of a proxy service (0 = no limit)" },
	{ .key = "retries", .flag = "retries", .type = OPT_U32, .scope = OPT_SVC,
	  OPT_FIELD(S, retries), .max = 100, .metavar = "N", .example = "1", .def = "3",
	  .help = "weir: more servers tried when a connect fails" },
	{ .key = "check", .flag = "check", .type = OPT_WORDS, .scope = OPT_SVC | OPT_POOL,
	  .flags = OPT_F_OWNMSG | OPT_F_QUOTE, .min_args = 1, .max_args = -1,
	  OPT_FIELD(S, check), .parse = parse_check, .format = format_check,
	  .metavar = "WORDS", .example = "http path /health expect 200-299", .def = "off",
	  .help = "weir: -A/-E the service's health check, -a/-e the server's own; e.g. "
		  "\"http path /health rise 2 fall 3\", \"tcp\", \"off\"" },
	{ .key = "agent", .flag = "agent", .type = OPT_WORDS, .scope = OPT_SVC | OPT_POOL,
	  .flags = OPT_F_OWNMSG | OPT_F_QUOTE, .min_args = 1, .max_args = -1,
	  OPT_FIELD(S, agent), .parse = parse_agent, .format = format_agent,
	  .metavar = "WORDS", .example = "port 9999 interval 5s", .def = "off",
	  .help = "weir: agent check, e.g. \"port 9999 interval 5s\", \"off\"" },
	{ .key = "outlier", .flag = "outlier", .type = OPT_WORDS, .scope = OPT_SVC | OPT_POOL,
	  .flags = OPT_F_OWNMSG | OPT_F_QUOTE, .min_args = 1, .max_args = -1,
	  OPT_FIELD(S, outlier), .parse = parse_outlier, .format = format_outlier,
	  .metavar = "WORDS", .example = "errors 5 eject 10s", .def = "off",
	  .help = "weir: passive checks, e.g. \"errors 5 eject 30s\", \"off\"" },
	{ .key = "slow_start", .flag = "slow-start", .type = OPT_DURATION,
	  .scope = OPT_SVC | OPT_POOL, .flags = OPT_F_OFF, OPT_FIELD(S, slow_start_ms),
	  .metavar = "T", .example = "30s", .def = "off",
	  .help = "weir: a server coming back ramps up over T" },
	{ .key = "on_server_gone", .flag = "on-server-gone", .type = OPT_ENUM, .scope = OPT_SVC,
	  OPT_FIELD(S, reset_gone), .words = on_gone_words, .metavar = "P", .example = "reset",
	  .def = "keep",
	  .help = "weir: packet mode: flows of a removed/down server: keep or reset" },
	{ .key = "send_proxy", .flag = "send-proxy", .type = OPT_ENUM, .scope = OPT_SVC,
	  OPT_FIELD(S, send_proxy), .words = send_proxy_words, .metavar = "V", .example = "v2",
	  .def = "off", .help = "weir: PROXY protocol header to servers: v1, v2 or off" },
	{ .key = "accept_proxy", .flag = "accept-proxy", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = -1, OPT_SPAN(S, naccept_proxy, accept_proxy),
	  .parse = parse_accept_proxy, .format = format_accept_proxy, .metavar = "NETS",
	  .example = "10.0.0.0/8,192.0.2.7,::1", .def = "off",
	  .help = "weir: trusted fronts that send a PROXY header, e.g. 10.0.0.0/8,::1" },
	{ .key = "drain_signal", .flag = "drain-signal", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 2, OPT_SPAN(S, drain_status, drain_header),
	  .parse = parse_drain, .format = format_drain, .metavar = "\"STATUS [HEADER]\"",
	  .example = "502 X-Going-Away", .def = "503 X-Weir-Drain",
	  .help = "weir: a server answering this (HTTP check or request) is draining" },
};

static const struct opt_row server_rows[] = {
	{ .key = "weight", .flag = "weight", .shortname = 'w', .type = OPT_U32,
	  .scope = OPT_SRV, .flags = OPT_F_IPVSADM | OPT_F_ALWAYS, .order = 9,
	  OPT_FIELD(R, weight), .max = 65535, .ctl_err = "illegal weight specified",
	  .metavar = "WEIGHT", .example = "3", .def = "1",
	  .help = "0..65535 (0 = no new connections)" },
	{ .key = "upper", .flag = "u-threshold", .shortname = 'x', .type = OPT_U32,
	  .scope = OPT_SRV, .flags = OPT_F_IPVSADM, .order = 10, OPT_FIELD(R, upper),
	  .max = INT32_MAX, .ctl_err = "illegal u_threshold specified", .metavar = "UPPER",
	  .example = "100", .def = "0", .help = "overloaded at UPPER connections (0 = never)" },
	{ .key = "lower", .flag = "l-threshold", .shortname = 'y', .type = OPT_U32,
	  .scope = OPT_SRV, .flags = OPT_F_IPVSADM, .order = 11, OPT_FIELD(R, lower),
	  .max = INT32_MAX, .ctl_err = "illegal l_threshold specified", .metavar = "LOWER",
	  .example = "5", .def = "0", .help = "back below LOWER connections" },
	{ .key = "forward", .name = "forwarding-method", .type = OPT_ENUM, .scope = OPT_SRV,
	  .flags = OPT_F_IPVSADM | OPT_F_ALWAYS, .order = 8, OPT_FIELD(R, fwd),
	  .words = forward_words, .aliases = forward_aliases, .example = "masq",
	  .def = "route" },
	{ .flag = "tun-type", .type = OPT_CUSTOM, .scope = OPT_SRV,
	  .flags = OPT_F_IPVSADM | OPT_F_ALWAYS, .order = 12, .min_args = 1, .max_args = 1,
	  .parse = parse_tun_type, .format = format_tun_type,
	  .ctl_err = "illegal tunnel type specified" },
	{ .key = "url", .flag = "url", .type = OPT_CUSTOM, .scope = OPT_SRV, .min_args = 1,
	  .max_args = 1, OPT_FIELD(R, url), .parse = parse_url, .format = format_url,
	  .metavar = "URL", .example = "https://www.example.com/", .def = "http://IP:PORT",
	  .help = "weir: redirect mode: the server's public base URL" },
	{ .key = "state", .flag = "state", .type = OPT_ENUM, .scope = OPT_SRV,
	  OPT_FIELD(R, admin), .words = state_words, .metavar = "S", .example = "drain",
	  .def = "ready", .help = "weir: a server's admin state: ready, drain or maint" },
	{ .key = "check", .flag = "check", .type = OPT_WORDS, .scope = OPT_SRV,
	  .flags = OPT_F_OWNMSG | OPT_F_QUOTE, .min_args = 1, .max_args = -1,
	  OPT_FIELD(R, check), .parse = parse_check, .format = format_check,
	  .metavar = "WORDS", .example = "tcp port 8081", .def = "the service's",
	  .help = "weir: with -a/-e, the server's own check (off: none)" },
	{ .key = "location", .flag = "location", .type = OPT_STRING, .scope = OPT_SRV,
	  .flags = OPT_F_OFF, OPT_FIELD(R, location), .max = 32, .metavar = "NAME",
	  .example = "fra", .def = "none",
	  .help = "weir: the server's location (DNS services answer a client with the "
		  "servers of the location it prefers)" },
	{ .key = "backup", .flag = "backup", .type = OPT_CUSTOM, .scope = OPT_SRV,
	  .flags = OPT_F_OPTARG, .min_args = 0, .max_args = 1, OPT_FIELD(R, backup),
	  .parse = parse_backup, .format = format_backup, .metavar = "[on|off]",
	  .example = "on", .def = "off",
	  .help = "weir: a backup server: new work only while no primary server can "
		  "take it (--backup off: primary again)" },
};

#undef S
#undef R

struct opt_block spec_service_block = {
	.name = "service", .scope = OPT_SVC,
	.rows = service_rows, .nrows = ARRAY_SIZE(service_rows),
};

struct opt_block spec_server_block = {
	.name = "server", .scope = OPT_SRV,
	.rows = server_rows, .nrows = ARRAY_SIZE(server_rows),
};
