/*
 * ipvsadm.c - the weirctl grammar: ipvsadm's commands and options, parsed
 * the way ipvsadm parses them (the command comes first; short options may
 * be bundled, "-Ln"; -p takes an optional value; each option at most once;
 * ipvsadm's messages for the same mistakes), plus weir's own options.
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/util.h"
#include "core/healthspec.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "sched/sched.h"

enum arg_kind { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

struct ctl_command {
	char shortname;          /* 0 = long only / a word */
	const char *longname;
	const char *name;        /* in messages: ipvsadm's internal name */
	enum ctl_op op;
	uint64_t required, allowed, one_of;
	const char *help;
};

struct ctl_option {
	char shortname;
	const char *longname;
	enum ctl_opt id;
	enum arg_kind arg;
	const char *name;        /* in messages */
	int (*set)(struct ctl_cmd *c, const char *arg, char *err);
	const char *help;
};

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CTL_ERR_MAX, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

/* --- option setters --------------------------------------------------------- */

static int set_service(struct ctl_cmd *c, const char *arg, int proto, char *err)
{
	c->svc.proto = proto;
	if (addr_parse(arg, true, &c->svc.addr) != 0)
		return fail(err, "illegal virtual server address[:port] specified");
	if (!ctl_has(c, O_NETMASK))
		c->svc.persist_prefix = spec_full_prefix(&c->svc.addr);
	return 0;
}

static int set_tcp(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_service(c, arg, IPPROTO_TCP, err);
}

static int set_udp(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_service(c, arg, IPPROTO_UDP, err);
}

static int set_fwmark(struct ctl_cmd *c, const char *arg, char *err)
{
	return fail(err, "firewall-mark services (-f) are not supported by weir; "
		    "use -t or -u VIP:PORT");
}

static int set_sched(struct ctl_cmd *c, const char *arg, char *err)
{
	if (strlen(arg) >= sizeof(c->svc.sched))
		return fail(err, "Scheduler or persistence engine not found");
	snprintf(c->svc.sched, sizeof(c->svc.sched), "%s", arg);
	return 0;
}

static int set_persistent(struct ctl_cmd *c, const char *arg, char *err)
{
	uint32_t v = DEFAULT_PERSIST_S;

	if (arg && (parse_u32(arg, SPEC_MAX_PERSIST_S, &v) != 0 || v == 0))
		return fail(err, "invalid timeout value `%s' specified", arg);
	c->svc.persist_s = v;
	return 0;
}

static int set_netmask(struct ctl_cmd *c, const char *arg, char *err)
{
	int fam = addr_family(&c->svc.addr) == AF_INET6 ? AF_INET6 : AF_INET;

	if (netmask_parse(arg, fam, &c->svc.persist_prefix) != 0)
		return fail(err, fam == AF_INET6 ? "illegal ipv6 netmask specified" :
			    "illegal virtual server persistent mask specified");
	return 0;
}

static int set_real(struct ctl_cmd *c, const char *arg, char *err)
{
	if (addr_parse(arg, true, &c->rs.addr) != 0)
		return fail(err, "illegal real server address[:port] specified");
	return 0;
}

static int set_dr(struct ctl_cmd *c, const char *arg, char *err)
{
	c->rs.fwd = FWD_ROUTE;
	return 0;
}

static int set_tun(struct ctl_cmd *c, const char *arg, char *err)
{
	c->rs.fwd = FWD_TUNNEL;
	return 0;
}

static int set_masq(struct ctl_cmd *c, const char *arg, char *err)
{
	c->rs.fwd = FWD_MASQ;
	return 0;
}

static int set_fullnat(struct ctl_cmd *c, const char *arg, char *err)
{
	c->rs.fwd = FWD_FULLNAT;
	return 0;
}

static int set_on_gone(struct ctl_cmd *c, const char *arg, char *err)
{
	if (strcmp(arg, "keep") == 0)
		c->svc.reset_gone = false;
	else if (strcmp(arg, "reset") == 0)
		c->svc.reset_gone = true;
	else
		return fail(err, "illegal on-server-gone policy `%s' (keep or reset)", arg);
	return 0;
}

static int set_weight(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_u32(arg, 65535, &c->rs.weight) != 0)
		return fail(err, "illegal weight specified");
	return 0;
}

static int set_upper(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_u32(arg, INT32_MAX, &c->rs.upper) != 0)
		return fail(err, "illegal u_threshold specified");
	return 0;
}

static int set_lower(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_u32(arg, INT32_MAX, &c->rs.lower) != 0)
		return fail(err, "illegal l_threshold specified");
	return 0;
}

static int set_sched_flags(struct ctl_cmd *c, const char *arg, char *err)
{
	if (sched_flags_parse(arg, &c->svc.sched_flags) != 0)
		return fail(err, "invalid scheduler flag `%s'", arg);
	return 0;
}

static int set_proxy(struct ctl_cmd *c, const char *arg, char *err)
{
	char names[128];

	if (mode_parse(arg, &c->svc.proxy) == 0)
		return 0;
	mode_names(names, sizeof(names));
	return fail(err, "illegal proxy mode `%s' (one of %s)", arg, names);
}

static int set_duration(const char *arg, uint32_t *out, const char *what, char *err)
{
	if (parse_duration_ms(arg, 1000, out) != 0)
		return fail(err, "illegal %s `%s' (e.g. 500ms, 2s, 5m)", what, arg);
	return 0;
}

static int set_connect_timeout(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_duration(arg, &c->svc.connect_timeout_ms, "connect timeout", err);
}

static int set_idle_timeout(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_duration(arg, &c->svc.idle_timeout_ms, "idle timeout", err);
}

static int set_max_conn(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_u32(arg, UINT32_MAX, &c->svc.maxconn) != 0)
		return fail(err, "illegal max-conn `%s'", arg);
	return 0;
}

static int set_retries(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_u32(arg, 100, &c->svc.retries) != 0)
		return fail(err, "illegal retries `%s' (0..100)", arg);
	return 0;
}

static int set_tun_type(struct ctl_cmd *c, const char *arg, char *err)
{
	if (strcmp(arg, "ipip") != 0)
		return fail(err, "illegal tunnel type specified (weir tunnels are ipip)");
	return 0;
}

static int set_flag(struct ctl_cmd *c, const char *arg, char *err)
{
	return 0;
}

/* --check "http path /health", --agent "port 9999", --outlier "errors 5":
 * the config file's words, in one argument. */
static int set_words(const char *arg, const char *what, char *err,
		     int (*parse)(char *const *w, int n, void *out, char *err), void *out)
{
	char copy[1024], *words[64], why[SPEC_ERR_MAX];
	int n;

	if (strlen(arg) >= sizeof(copy))
		return fail(err, "--%s: too long", what);
	strcpy(copy, arg);
	n = ctl_split(copy, words, 64);
	if (n < 0)
		return fail(err, "--%s: too many words or an unclosed quote", what);
	if (parse(words, n, out, why) != 0)
		return fail(err, "--%s: %s", what, why);
	return 0;
}

static int parse_check(char *const *w, int n, void *out, char *err)
{
	return check_spec_parse(w, n, out, err);
}

static int parse_agent(char *const *w, int n, void *out, char *err)
{
	return agent_spec_parse(w, n, out, err);
}

static int parse_outlier(char *const *w, int n, void *out, char *err)
{
	return outlier_spec_parse(w, n, out, err);
}

/* --check applies to the service (-A/-E) or the server (-a/-e): both are
 * filled and the command keeps the one it uses. */
static int set_check(struct ctl_cmd *c, const char *arg, char *err)
{
	int rc = set_words(arg, "check", err, parse_check, &c->svc.check);

	if (rc == 0)
		c->rs.check = c->svc.check;
	return rc;
}

static int set_agent(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_words(arg, "agent", err, parse_agent, &c->svc.agent);
}

static int set_outlier(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_words(arg, "outlier", err, parse_outlier, &c->svc.outlier);
}

static int set_slow_start(struct ctl_cmd *c, const char *arg, char *err)
{
	if (strcmp(arg, "off") == 0) {
		c->svc.slow_start_ms = 0;
		return 0;
	}
	return set_duration(arg, &c->svc.slow_start_ms, "slow start", err);
}

static int set_state(struct ctl_cmd *c, const char *arg, char *err)
{
	enum admin_state st;

	if (admin_state_parse(arg, &st) != 0)
		return fail(err, "illegal state `%s' (ready, drain or maint)", arg);
	c->rs.admin = (uint8_t)st;
	return 0;
}

static int set_pool(struct ctl_cmd *c, const char *arg, char *err)
{
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(err, "illegal pool name (a control character)");
	if (!*arg || strlen(arg) >= sizeof(c->pool))
		return fail(err, "illegal pool name `%s'", arg);
	snprintf(c->pool, sizeof(c->pool), "%s", arg);
	return 0;
}

/* --- the grammar ------------------------------------------------------------- */

#define SVC_OPTS (BIT(O_SCHEDULER) | BIT(O_PERSISTENT) | BIT(O_NETMASK) | BIT(O_OPS) | \
		  BIT(O_SCHED_FLAGS) | BIT(O_PROXY) | BIT(O_CONNECT_TIMEOUT) |       \
		  BIT(O_IDLE_TIMEOUT) | BIT(O_MAX_CONN) | BIT(O_RETRIES) |           \
		  BIT(O_CHECK) | BIT(O_AGENT) | BIT(O_OUTLIER) | BIT(O_SLOW_START) |     \
		  BIT(O_ON_GONE))
#define RS_OPTS  (BIT(O_FORWARD) | BIT(O_WEIGHT) | BIT(O_UPPER) | BIT(O_LOWER) | \
		  BIT(O_TUN_TYPE) | BIT(O_CHECK) | BIT(O_STATE) | BIT(O_POOL))
#define LIST_OPTS (BIT(O_NUMERIC) | BIT(O_STATS) | BIT(O_RATE) | BIT(O_THRESHOLDS) | \
		   BIT(O_PERSISTENT_CONN) | BIT(O_NOSORT) | BIT(O_EXACT) | BIT(O_HTTP) | \
		   BIT(O_HEALTH) | BIT(O_JSON))
#define LIST_ONE (BIT(O_CONNECTION) | BIT(O_SERVICE) | BIT(O_TIMEOUT) | BIT(O_DAEMON))

static const struct ctl_command commands[] = {
	{ 'A', "add-service", "add-service", OP_ADD_SVC, BIT(O_SERVICE), SVC_OPTS | BIT(O_POOL), 0,
	  "add a virtual service (with --pool NAME: a pool of an HTTP service)" },
	{ 'E', "edit-service", "edit-service", OP_EDIT_SVC, BIT(O_SERVICE), SVC_OPTS, 0,
	  "edit a virtual service (unnamed ipvsadm options take their defaults)" },
	{ 'D', "delete-service", "delete-service", OP_DEL_SVC, BIT(O_SERVICE), BIT(O_POOL), 0,
	  "delete a virtual service (with --pool NAME: one of its pools)" },
	{ 'C', "clear", "flush", OP_CLEAR, 0, 0, 0, "delete every virtual service" },
	{ 'R', "restore", "restore", OP_RESTORE, 0, 0, 0,
	  "restore rules from standard input (one command a line, as -S writes)" },
	{ 'S', "save", "save", OP_SAVE, 0, BIT(O_NUMERIC), 0,
	  "save rules to standard output" },
	{ 'a', "add-server", "add-server", OP_ADD_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  RS_OPTS, 0, "add a real server to a virtual service" },
	{ 'e', "edit-server", "edit-server", OP_EDIT_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  RS_OPTS, 0, "edit a real server (unnamed options take their defaults)" },
	{ 'd', "delete-server", "delete-server", OP_DEL_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  BIT(O_POOL), 0, "delete a real server" },
	{ 'L', "list", "list", OP_LIST, 0, LIST_OPTS, LIST_ONE,
	  "list the table (one service with -t/-u)" },
	{ 'l', NULL, "list", OP_LIST, 0, LIST_OPTS, LIST_ONE, NULL },
	{ 'Z', "zero", "zero", OP_ZERO, 0, BIT(O_SERVICE), 0,
	  "zero the counters of a service or all" },
	{ 'h', "help", "help", OP_HELP, 0, 0, 0, "this help" },
	{ 'v', "version", "version", OP_VERSION, 0, 0, 0, "show the version" },
	{ 0, "status", "status", OP_STATUS, 0, BIT(O_JSON), 0,
	  "weir: daemon summary (workers, services, servers by state, connections)" },
	{ 0, "reload", "reload", OP_RELOAD, 0, 0, 0,
	  "weir: reload the config file (as SIGHUP)" },
	{ 0, "server", "server", OP_SERVER, 0, 0, 0,
	  "weir: server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N" },
	{ 0, "metrics", "metrics", OP_METRICS, 0, 0, 0,
	  "weir: the Prometheus metrics, as the metrics listener serves them" },
};

static const struct ctl_option options[] = {
	{ 't', "tcp-service", O_SERVICE, ARG_REQUIRED, "service-address", set_tcp,
	  "-t VIP:PORT        TCP virtual service" },
	{ 'u', "udp-service", O_SERVICE, ARG_REQUIRED, "service-address", set_udp,
	  "-u VIP:PORT        UDP virtual service" },
	{ 'f', "fwmark-service", O_SERVICE, ARG_REQUIRED, "service-address", set_fwmark,
	  NULL },
	{ 's', "scheduler", O_SCHEDULER, ARG_REQUIRED, "scheduler", set_sched,
	  "-s SCHED           scheduler (default wlc)" },
	{ 'p', "persistent", O_PERSISTENT, ARG_OPTIONAL, "persistent", set_persistent,
	  "-p [TIMEOUT]       persistent service, seconds (default 300)" },
	{ 'M', "netmask", O_NETMASK, ARG_REQUIRED, "netmask", set_netmask,
	  "-M NETMASK         group persistent clients by subnet" },
	{ 'r', "real-server", O_REAL_SERVER, ARG_REQUIRED, "real-server", set_real,
	  "-r RIP:PORT        real server" },
	{ 'g', "gatewaying", O_FORWARD, ARG_NONE, "forwarding-method", set_dr,
	  "-g                 direct routing (default)" },
	{ 'i', "ipip", O_FORWARD, ARG_NONE, "forwarding-method", set_tun,
	  "-i                 IP-in-IP tunnel" },
	{ 'm', "masquerading", O_FORWARD, ARG_NONE, "forwarding-method", set_masq,
	  "-m                 NAT (masquerading)" },
	{ 0, "fullnat", O_FORWARD, ARG_NONE, "forwarding-method", set_fullnat,
	  "--fullnat          weir: full NAT: source rewritten to the director too" },
	{ 'w', "weight", O_WEIGHT, ARG_REQUIRED, "weight", set_weight,
	  "-w WEIGHT          0..65535 (default 1; 0 = no new connections)" },
	{ 'x', "u-threshold", O_UPPER, ARG_REQUIRED, "u-threshold", set_upper,
	  "-x UPPER           overloaded at UPPER connections" },
	{ 'y', "l-threshold", O_LOWER, ARG_REQUIRED, "l-threshold", set_lower,
	  "-y LOWER           back below LOWER connections" },
	{ 0, "tun-type", O_TUN_TYPE, ARG_REQUIRED, "tun-type", set_tun_type, NULL },
	{ 'n', "numeric", O_NUMERIC, ARG_NONE, "numeric", set_flag,
	  "-n                 numeric output (weir never resolves names)" },
	{ 'c', "connection", O_CONNECTION, ARG_NONE, "connection", set_flag, NULL },
	{ 0, "timeout", O_TIMEOUT, ARG_NONE, "timeout", set_flag, NULL },
	{ 0, "daemon", O_DAEMON, ARG_NONE, "daemon", set_flag, NULL },
	{ 0, "stats", O_STATS, ARG_NONE, "stats", set_flag,
	  "--stats            counters: Conns InPkts OutPkts InBytes OutBytes" },
	{ 0, "rate", O_RATE, ARG_NONE, "rate", set_flag,
	  "--rate             rates: CPS InPPS OutPPS InBPS OutBPS" },
	{ 0, "thresholds", O_THRESHOLDS, ARG_NONE, "thresholds", set_flag,
	  "--thresholds       upper/lower thresholds" },
	{ 0, "persistent-conn", O_PERSISTENT_CONN, ARG_NONE, "persistent-conn", set_flag,
	  "--persistent-conn  persistent connection counts" },
	{ 0, "nosort", O_NOSORT, ARG_NONE, "nosort", set_flag, NULL },
	{ 0, "http", O_HTTP, ARG_NONE, "http", set_flag,
	  "--http             weir: HTTP counters: requests, responses by class, retries, mean response time" },
	{ 0, "sort", O_SORT, ARG_NONE, "sort", set_flag, NULL },
	{ 'X', "exact", O_EXACT, ARG_NONE, "exact", set_flag,
	  "--exact            exact numbers, no K/M/G" },
	{ 'o', "ops", O_OPS, ARG_NONE, "ops", set_flag, NULL },
	{ 'b', "sched-flags", O_SCHED_FLAGS, ARG_REQUIRED, "sched-flags", set_sched_flags,
	  "-b FLAGS           sh-fallback,sh-port / mh-fallback,mh-port" },
	{ 0, "proxy", O_PROXY, ARG_REQUIRED, "proxy", set_proxy,
	  "--proxy MODE       weir: user-space proxy service: tcp, http or redirect" },
	{ 0, "connect-timeout", O_CONNECT_TIMEOUT, ARG_REQUIRED, "connect-timeout",
	  set_connect_timeout, "--connect-timeout T  weir: proxy connect timeout (default 2s)" },
	{ 0, "idle-timeout", O_IDLE_TIMEOUT, ARG_REQUIRED, "idle-timeout", set_idle_timeout,
	  "--idle-timeout T   weir: proxy idle timeout (default 5m)" },
	{ 0, "max-conn", O_MAX_CONN, ARG_REQUIRED, "max-conn", set_max_conn,
	  "--max-conn N       weir: most open connections of a proxy service (0 = no limit)" },
	{ 0, "retries", O_RETRIES, ARG_REQUIRED, "retries", set_retries,
	  "--retries N        weir: more servers tried when a connect fails (default 3)" },
	{ 0, "check", O_CHECK, ARG_REQUIRED, "check", set_check,
	  "--check WORDS      weir: health check, e.g. \"http path /health rise 2 fall 3\", \"tcp\", \"off\"" },
	{ 0, "agent", O_AGENT, ARG_REQUIRED, "agent", set_agent,
	  "--agent WORDS      weir: agent check, e.g. \"port 9999 interval 5s\", \"off\"" },
	{ 0, "outlier", O_OUTLIER, ARG_REQUIRED, "outlier", set_outlier,
	  "--outlier WORDS    weir: passive checks, e.g. \"errors 5 eject 30s\", \"off\"" },
	{ 0, "on-server-gone", O_ON_GONE, ARG_REQUIRED, "on-server-gone", set_on_gone,
	  "--on-server-gone P weir: packet mode: flows of a removed/down server: keep or reset" },
	{ 0, "slow-start", O_SLOW_START, ARG_REQUIRED, "slow-start", set_slow_start,
	  "--slow-start T     weir: a server coming back ramps up over T (off)" },
	{ 0, "state", O_STATE, ARG_REQUIRED, "state", set_state,
	  "--state S          weir: a server's admin state: ready, drain or maint" },
	{ 0, "pool", O_POOL, ARG_REQUIRED, "pool", set_pool,
	  "--pool NAME        weir: -A/-D a pool of an HTTP service; -a/-e/-d a server of that pool" },
	{ 0, "health", O_HEALTH, ARG_NONE, "health", set_flag,
	  "--health           weir: listing of server states, weights, last checks" },
	{ 0, "json", O_JSON, ARG_NONE, "json", set_flag,
	  "--json             weir: -L and status as JSON" },
};

/* --- the parser -------------------------------------------------------------- */

static const struct ctl_command *find_command(const char *word, int *consumed_short)
{
	*consumed_short = 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_command *c = &commands[i];

		if (word[0] == '-' && word[1] == '-' && c->longname &&
		    strcmp(word + 2, c->longname) == 0)
			return c;
		if (word[0] == '-' && word[1] && word[1] != '-' && word[1] == c->shortname) {
			*consumed_short = 1;
			return c;
		}
		if (word[0] != '-' && !c->shortname && strcmp(word, c->longname) == 0)
			return c;
	}
	return NULL;
}

static const struct ctl_option *find_short(char ch)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].shortname == ch)
			return &options[i];
	return NULL;
}

static const struct ctl_option *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strlen(options[i].longname) == len &&
		    strncmp(options[i].longname, name, len) == 0)
			return &options[i];
	return NULL;
}

/* Records option <o> with argument <arg>. */
static int take(struct ctl_cmd *cmd, const struct ctl_option *o, const char *arg, char *err)
{
	if (o->id != O_SORT && ctl_has(cmd, o->id))
		return fail(err, "multiple '%s' options specified", o->name);
	cmd->given |= BIT(o->id);
	return o->set(cmd, arg, err);
}

/* One word of bundled short options starting at <p>; may consume the next
 * word as an argument (*i advanced). */
static int parse_shorts(const char *p, int argc, char *const *argv, int *i,
			struct ctl_cmd *cmd, char *err)
{
	for (; *p; p++) {
		const struct ctl_option *o = find_short(*p);
		const char *arg = NULL;
		int rc;

		if (!o)
			return fail(err, "%s: unknown option", argv[*i]);
		if (o->arg != ARG_NONE) {
			if (p[1]) {
				arg = p[1] == '=' ? p + 2 : p + 1;
			} else if (*i + 1 < argc &&
				   (o->arg == ARG_REQUIRED || argv[*i + 1][0] != '-')) {
				arg = argv[++*i];
			} else if (o->arg == ARG_REQUIRED) {
				return fail(err, "%s: missing argument", argv[*i]);
			}
			rc = take(cmd, o, arg, err);
			return rc;
		}
		if ((rc = take(cmd, o, NULL, err)) != 0)
			return rc;
	}
	return 0;
}

static int parse_long(const char *word, int argc, char *const *argv, int *i,
		      struct ctl_cmd *cmd, char *err)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	const struct ctl_option *o = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
	const char *arg = NULL;

	if (!o) {
		int dummy;

		if (find_command(word, &dummy))
			return fail(err, "invalid option `%s'", word);
		return fail(err, "%s: unknown option", word);
	}
	if (eq) {
		if (o->arg == ARG_NONE)
			return fail(err, "%s: option does not take an argument", word);
		arg = eq + 1;
	} else if (o->arg != ARG_NONE) {
		if (*i + 1 < argc && (o->arg == ARG_REQUIRED || argv[*i + 1][0] != '-'))
			arg = argv[++*i];
		else if (o->arg == ARG_REQUIRED)
			return fail(err, "%s: missing argument", word);
	}
	return take(cmd, o, arg, err);
}

static void cmd_defaults(struct ctl_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	spec_service_defaults(&cmd->svc);
	spec_server_defaults(&cmd->rs);
}

/* ipvsadm's generic_opt_check: first problem in option order wins. */
static int check_matrix(const struct ctl_command *c, const struct ctl_cmd *cmd, char *err)
{
	int first_one = -1;

	for (int o = 0; o < O_COUNT; o++) {
		bool has = ctl_has(cmd, (enum ctl_opt)o);
		const char *oname = NULL;

		if (o == O_SORT)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(options); k++)
			if (options[k].id == (enum ctl_opt)o)
				oname = options[k].name;
		if ((c->required & BIT(o)) && !has)
			return fail(err, "You need to supply the '%s' option for the '%s' command",
				    oname, c->name);
		if (!has || (c->required & BIT(o)))
			continue;
		if (c->one_of & BIT(o)) {
			if (first_one >= 0) {
				const char *fname = NULL;

				for (size_t k = 0; k < ARRAY_SIZE(options); k++)
					if (options[k].id == (enum ctl_opt)first_one)
						fname = options[k].name;
				return fail(err, "The option '%s' conflicts with the '%s' option "
					    "in the '%s' command", oname, fname, c->name);
			}
			first_one = o;
		} else if (!(c->allowed & BIT(o))) {
			return fail(err, "Illegal '%s' option with the '%s' command", oname, c->name);
		}
	}
	return 0;
}

/* Checks that need several options together (ipvsadm's post-parse rules). */
static int check_combined(const struct ctl_cmd *cmd, char *err)
{
	bool svc_cmd = cmd->op == OP_ADD_SVC || cmd->op == OP_EDIT_SVC;

	if (svc_cmd && addr_port(&cmd->svc.addr) == 0 && !ctl_has(cmd, O_PERSISTENT))
		return fail(err, "Zero port specified for non-persistent service");
	if (svc_cmd && ctl_has(cmd, O_OPS))
		return fail(err, "One-Packet Scheduling is not supported by weir");
	if (ctl_has(cmd, O_SCHED_FLAGS) && svc_cmd) {
		const char *s = cmd->svc.sched;
		const struct sched_ops *ops = sched_find(s);

		if (!ops || !ops->takes_flags)
			return fail(err, "incompatible scheduler flag `%s'", s);
	}
	if (cmd->op == OP_LIST && (ctl_has(cmd, O_CONNECTION) || ctl_has(cmd, O_TIMEOUT) ||
				   ctl_has(cmd, O_DAEMON)))
		return fail(err, "%s: not available: weir keeps no IPVS connection table or "
			    "sync daemon here", ctl_has(cmd, O_CONNECTION) ? "-c" :
			    ctl_has(cmd, O_TIMEOUT) ? "--timeout" : "--daemon");
	return 0;
}

/* server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N */
static int parse_server(int argc, char *const *argv, struct ctl_cmd *cmd, char *err)
{
	static const struct { const char *word; enum ctl_server_action act; } acts[] = {
		{ "ready", ACT_READY }, { "drain", ACT_DRAIN }, { "maint", ACT_MAINT },
		{ "weight", ACT_WEIGHT },
	};
	int i = 1, proto = IPPROTO_TCP;

	cmd->op = OP_SERVER;
	if (i < argc && (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "-u") == 0))
		proto = argv[i++][1] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
	if (argc - i < 3)
		return fail(err, "usage: server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N");
	if (set_service(cmd, argv[i], proto, err) != 0 || set_real(cmd, argv[i + 1], err) != 0)
		return CTL_EXIT_USAGE;
	for (size_t k = 0; k < ARRAY_SIZE(acts); k++)
		if (strcmp(argv[i + 2], acts[k].word) == 0)
			cmd->action = acts[k].act;
	if (cmd->action == ACT_NONE)
		return fail(err, "server: unknown action `%s' (drain, ready, maint or weight N)",
			    argv[i + 2]);
	if (cmd->action == ACT_WEIGHT) {
		if (argc - i != 4)
			return fail(err, "server: weight needs a number");
		return set_weight(cmd, argv[i + 3], err);
	}
	if (argc - i != 3)
		return fail(err, "unexpected argument %s", argv[i + 3]);
	return 0;
}

int ctl_parse(int argc, char *const *argv, struct ctl_cmd *cmd, char *err)
{
	const struct ctl_command *c;
	int consumed, rc, i = 0;

	cmd_defaults(cmd);
	if (argc == 0) {
		cmd->op = OP_LIST;
		return 0;
	}
	if (strcmp(argv[0], "server") == 0)
		return parse_server(argc, argv, cmd, err);
	c = find_command(argv[0], &consumed);
	if (!c)
		return fail(err, "unknown command `%s': the first word must be a command "
			    "such as -A, -a, -L or status (see weirctl -h)", argv[0]);
	cmd->op = c->op;
	if (consumed && argv[0][2] &&
	    (rc = parse_shorts(argv[0] + 2, argc, argv, &i, cmd, err)) != 0)
		return rc;
	for (i++; i < argc; i++) {
		const char *w = argv[i];

		if (w[0] == '-' && w[1] == '-' && w[2])
			rc = parse_long(w, argc, argv, &i, cmd, err);
		else if (w[0] == '-' && w[1] && w[1] != '-') {
			int dummy;

			if (find_command(w, &dummy) && !find_short(w[1]))
				return fail(err, "invalid option `%s'", w);
			rc = parse_shorts(w + 1, argc, argv, &i, cmd, err);
		} else
			rc = fail(err, "unexpected argument %s", w);
		if (rc)
			return rc;
	}
	if ((rc = check_matrix(c, cmd, err)) != 0)
		return rc;
	return check_combined(cmd, err);
}

static void usage_sched(const struct sched_ops *ops, void *arg)
{
	buf_printf(arg, "  %-6s %s\n", ops->name, ops->descr ? ops->descr : "");
}

void ctl_usage(struct buf *out)
{
	buf_printf(out, "weirctl - the weir load balancer's control, with ipvsadm's syntax\n\n"
		   "Usage:\n"
		   "  weirctl -A|E -t|u VIP:PORT [-s SCHED] [-p [TIMEOUT]] [-M NETMASK] [-b FLAGS]\n"
		   "          [--proxy MODE] [--connect-timeout T] [--idle-timeout T] [--max-conn N] [--retries N]\n"
		   "  weirctl -D -t|u VIP:PORT\n"
		   "  weirctl -C\n"
		   "  weirctl -R < FILE\n"
		   "  weirctl -S [-n]\n"
		   "  weirctl -a|e -t|u VIP:PORT -r RIP:PORT [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]\n"
		   "  weirctl -d -t|u VIP:PORT -r RIP:PORT\n"
		   "  weirctl -L|l [-t|u VIP:PORT] [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact]\n"
		   "  weirctl -Z [-t|u VIP:PORT]\n"
		   "  weirctl -L --health | --json\n"
		   "  weirctl server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N\n"
		   "  weirctl status [--json] | reload | metrics\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_command *c = &commands[i];
		char name[48];

		if (!c->help)
			continue;
		if (c->shortname)
			snprintf(name, sizeof(name), "-%c, --%s", c->shortname, c->longname);
		else
			snprintf(name, sizeof(name), "%s", c->longname);
		buf_printf(out, "  %-22s %s\n", name, c->help);
	}
	buf_printf(out, "\nOptions:\n");
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].help)
			buf_printf(out, "  %s\n", options[i].help);
	buf_printf(out, "\nSchedulers (-s):\n");
	sched_foreach(usage_sched, out);
}
