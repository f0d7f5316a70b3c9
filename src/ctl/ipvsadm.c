/*
 * ipvsadm.c - the weirctl grammar: ipvsadm's commands and options, parsed
 * the way ipvsadm parses them (the command comes first; short options may
 * be bundled, "-Ln"; -p takes an optional value; each option at most once;
 * ipvsadm's messages for the same mistakes), plus weir's own options.
 *
 * Two tables here: the commands, and weirctl's own options (the service
 * and server addresses, the listing views). Every service and server
 * option is a row (core/option.h): its flag, short letter, parser and
 * message come from there (ctl/rowopts.c makes weirctl options of them).
 * A command reads all its options first, each at most
 * once, then sets them in ipvsadm's option order, so that their order on
 * the line does not matter (-M before -t reads as an IPv6 mask when -t is
 * IPv6; -b before -s keeps its flags).
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/option.h"
#include "core/util.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "ctl/grammar.h"
#include "sched/sched.h"

struct ctl_command {
	char shortname;          /* 0 = long only / a word */
	const char *longname;
	const char *name;        /* in messages: ipvsadm's internal name */
	enum ctl_op op;
	uint64_t required, allowed, one_of; /* weirctl's own options (BIT) */
	unsigned scope;          /* the option rows it takes (OPT_SVC, OPT_SRV) */
	const char *help;
	/* a command with a value (--start-daemon master): sets it */
	int (*set)(struct ctl_cmd *c, const char *arg, char *err);
};

/* --- weirctl's own options ---------------------------------------------------- */

/* Set while ctl_parse_names runs on this thread: where names are read. */
static __thread struct ctl_resolver *resolving;

/* <arg> as an address: numeric, else through the resolver (weirctl's). */
static int parse_address(const char *arg, int proto, struct weir_addr *out)
{
	char numeric[ADDR_STRLEN + 8];

	if (addr_parse(arg, true, out) == 0)
		return 0;
	if (!resolving || resolving->resolve(resolving, arg, proto, numeric, sizeof(numeric)) != 0)
		return -EINVAL;
	return addr_parse(numeric, true, out);
}

static int set_service(struct ctl_cmd *c, const char *arg, int proto, char *err)
{
	c->svc.proto = proto;
	if (parse_address(arg, proto, &c->svc.addr) != 0)
		return ctl_fail(err, "illegal virtual server address[:port] specified");
	c->svc.persist_prefix = spec_full_prefix(&c->svc.addr); /* -M comes after */
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

static int set_real(struct ctl_cmd *c, const char *arg, char *err)
{
	if (parse_address(arg, c->svc.proto, &c->rs.addr) != 0)
		return ctl_fail(err, "illegal real server address[:port] specified");
	return 0;
}

static int set_flag(struct ctl_cmd *c, const char *arg, char *err)
{
	return 0;
}

static int set_pool(struct ctl_cmd *c, const char *arg, char *err)
{
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ctl_fail(err, "illegal pool name (a control character)");
	if (!*arg || strlen(arg) >= sizeof(c->pool))
		return ctl_fail(err, "illegal pool name `%s'", arg);
	snprintf(c->pool, sizeof(c->pool), "%s", arg);
	return 0;
}

/* What weir says of the parts of ipvsadm it has not built. */
#define NO_SYNC "not supported yet: connection sync between directors is not built"
#define NO_FWMARK "firewall-mark services are not built; a service is -t or -u VIP:PORT"
#define NO_TUNNEL "GUE and GRE tunnels are not built; weir's TUN (-i) is IP-in-IP " \
	"(--tun-type ipip), which has no port or checksum options"

/* --- the tables ------------------------------------------------------------------ */

#define LIST_OPTS (BIT(O_NUMERIC) | BIT(O_STATS) | BIT(O_RATE) | BIT(O_THRESHOLDS) | \
		   BIT(O_PERSISTENT_CONN) | BIT(O_NOSORT) | BIT(O_EXACT) | BIT(O_HTTP) | BIT(O_UDP) | \
		   BIT(O_HEALTH) | BIT(O_JSON) | BIT(O_DNS) | BIT(O_TUN_INFO) | BIT(O_NAMES))
#define LIST_ONE (BIT(O_CONNECTION) | BIT(O_SERVICE) | BIT(O_TIMEOUT) | BIT(O_DAEMON))
#define START_OPTS (BIT(O_MCAST_IFN) | BIT(O_SYNCID) | BIT(O_SYNC_MAXLEN) | \
		    BIT(O_MCAST_GROUP) | BIT(O_MCAST_PORT) | BIT(O_MCAST_TTL))

static const struct ctl_command commands[] = {
	{ 'A', "add-service", "add-service", OP_ADD_SVC, BIT(O_SERVICE),
	  BIT(O_POOL), 0, OPT_SVC,
	  "add a virtual service (with --pool NAME: a pool of an HTTP service)", NULL },
	{ 'E', "edit-service", "edit-service", OP_EDIT_SVC, BIT(O_SERVICE), 0, 0,
	  OPT_SVC, "edit a virtual service (unnamed ipvsadm options take their defaults)", NULL },
	{ 'D', "delete-service", "delete-service", OP_DEL_SVC, BIT(O_SERVICE), BIT(O_POOL), 0,
	  0, "delete a virtual service (with --pool NAME: one of its pools)", NULL },
	{ 'C', "clear", "flush", OP_CLEAR, 0, 0, 0, 0, "delete every virtual service", NULL },
	{ 'R', "restore", "restore", OP_RESTORE, 0, 0, 0, 0,
	  "restore rules from standard input (one command a line, as -S writes)", NULL },
	{ 'S', "save", "save", OP_SAVE, 0, BIT(O_NUMERIC) | BIT(O_CONFIG) | BIT(O_NAMES), 0, 0,
	  "save rules to standard output (--config: as a config file)", NULL },
	{ 'a', "add-server", "add-server", OP_ADD_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  BIT(O_POOL), 0, OPT_SRV, "add a real server to a virtual service", NULL },
	{ 'e', "edit-server", "edit-server", OP_EDIT_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  BIT(O_POOL), 0, OPT_SRV, "edit a real server (unnamed options take their defaults)", NULL },
	{ 'd', "delete-server", "delete-server", OP_DEL_RS, BIT(O_SERVICE) | BIT(O_REAL_SERVER),
	  BIT(O_POOL), 0, 0, "delete a real server", NULL },
	{ 'L', "list", "list", OP_LIST, 0, LIST_OPTS, LIST_ONE, 0,
	  "list the table (one service with -t/-u)", NULL },
	{ 'l', NULL, "list", OP_LIST, 0, LIST_OPTS, LIST_ONE, 0, NULL, NULL },
	{ 'Z', "zero", "zero", OP_ZERO, 0, BIT(O_SERVICE), 0, 0,
	  "zero the counters of a service or all", NULL },
	{ 'h', "help", "help", OP_HELP, 0, 0, 0, 0, "this help", NULL },
	{ 'v', "version", "version", OP_VERSION, 0, 0, 0, 0,
	  "show weirctl's version and the daemon's (without a daemon: weirctl's)", NULL },
	{ 0, "start-daemon", "start-daemon", OP_START_DAEMON, 0, START_OPTS, 0, 0,
	  "start the connection sync daemon (master|backup): " NO_SYNC, set_start_daemon },
	{ 0, "stop-daemon", "stop-daemon", OP_STOP_DAEMON, 0, BIT(O_SYNCID), 0, 0,
	  "stop the connection sync daemon (master|backup): " NO_SYNC, set_stop_daemon },
	{ 0, "status", "status", OP_STATUS, 0, BIT(O_JSON), 0, 0,
	  "weir: daemon summary (workers, services, servers by state, connections)", NULL },
	{ 0, "reload", "reload", OP_RELOAD, 0, 0, 0, 0,
	  "weir: reload the config file (as SIGHUP)", NULL },
	{ 0, "server", "server", OP_SERVER, 0, 0, 0, 0,
	  "weir: server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N", NULL },
	{ 0, "metrics", "metrics", OP_METRICS, 0, 0, 0, 0,
	  "weir: the Prometheus metrics, as the metrics listener serves them", NULL },
};

/* weirctl's own options, each with ipvsadm's order where ipvsadm has it;
 * weir's after ipvsadm's, the rows of weir's options after all these. */
static const struct ctl_option own_options[] = {
	{ 'n', "numeric", O_NUMERIC, ARG_NONE, "numeric", set_flag,
	  "-n                 numeric output of addresses and ports (-L, -S)", 1, NULL, NULL, NULL },
	{ 'c', "connection", O_CONNECTION, ARG_NONE, "connection", set_flag,
	  "-c                 -L: the connection table (XDP flows, proxy sessions)", 2, NULL, NULL,
	  NULL },
	{ 't', "tcp-service", O_SERVICE, ARG_REQUIRED, "service-address", set_tcp,
	  "-t VIP:PORT        TCP virtual service", 3, NULL, NULL, NULL },
	{ 'u', "udp-service", O_SERVICE, ARG_REQUIRED, "service-address", set_udp,
	  "-u VIP:PORT        UDP virtual service", 3, NULL, NULL, NULL },
	{ 'f', "fwmark-service", O_SERVICE, ARG_REQUIRED, "service-address", NULL,
	  NULL, 3, .refused = NO_FWMARK },
	{ 0, "sctp-service", O_SERVICE, ARG_REQUIRED, "service-address", NULL, NULL, 3,
	  .refused = "SCTP services are not built; weir balances TCP (-t) and UDP (-u)" },
	{ '6', "ipv6", O_IPV6, ARG_NONE, "ipv6", NULL, NULL, 3,
	  .refused = "-6 is for firewall-mark services, which are not built; an IPv6 service "
		     "is -t or -u [ADDR]:PORT" },
	{ 'r', "real-server", O_REAL_SERVER, ARG_REQUIRED, "real-server", set_real,
	  "-r RIP:PORT        real server", 7, NULL, NULL, NULL },
	{ 0, "mcast-interface", O_MCAST_IFN, ARG_REQUIRED, "mcast-interface", set_mcast_ifn,
	  "--mcast-interface IF  sync daemon: multicast interface (default eth0)", 12, NULL, NULL, NULL },
	{ 0, "timeout", O_TIMEOUT, ARG_NONE, "timeout", set_flag,
	  "--timeout          -L: the connection timeouts (tcp tcpfin udp)", 13, NULL, NULL, NULL },
	{ 0, "daemon", O_DAEMON, ARG_NONE, "daemon", set_flag, NULL, 14, NULL, NULL, NULL },
	{ 0, "stats", O_STATS, ARG_NONE, "stats", set_flag,
	  "--stats            counters: Conns InPkts OutPkts InBytes OutBytes", 15, NULL, NULL, NULL },
	{ 0, "rate", O_RATE, ARG_NONE, "rate", set_flag,
	  "--rate             rates: CPS InPPS OutPPS InBPS OutBPS", 16, NULL, NULL, NULL },
	{ 0, "thresholds", O_THRESHOLDS, ARG_NONE, "thresholds", set_flag,
	  "--thresholds       upper/lower thresholds", 17, NULL, NULL, NULL },
	{ 0, "persistent-conn", O_PERSISTENT_CONN, ARG_NONE, "persistent-conn", set_flag,
	  "--persistent-conn  persistent connection counts", 18, NULL, NULL, NULL },
	{ 0, "nosort", O_NOSORT, ARG_NONE, "nosort", set_flag, NULL, 19, NULL, NULL, NULL },
	{ 0, "syncid", O_SYNCID, ARG_REQUIRED, "syncid", set_syncid,
	  "--syncid ID        sync daemon: 0..255", 20, NULL, NULL, NULL },
	{ 'X', "exact", O_EXACT, ARG_NONE, "exact", set_flag,
	  "--exact            exact numbers, no K/M/G", 21, NULL, NULL, NULL },
	{ 0, "pe", O_PE, ARG_REQUIRED, "pe", NULL, NULL, 23,
	  .refused = "persistence engines (--pe sip) are not built; persistence is by client "
		     "address (-p, -M)" },
	{ 0, "mcast-group", O_MCAST_GROUP, ARG_REQUIRED, "mcast-group", set_mcast_group,
	  "--mcast-group ADDR sync daemon: IPv4/IPv6 multicast group", 25, NULL, NULL, NULL },
	{ 0, "mcast-port", O_MCAST_PORT, ARG_REQUIRED, "mcast-port", set_mcast_port,
	  "--mcast-port PORT  sync daemon: UDP port", 26, NULL, NULL, NULL },
	{ 0, "mcast-ttl", O_MCAST_TTL, ARG_REQUIRED, "mcast-ttl", set_mcast_ttl,
	  "--mcast-ttl TTL    sync daemon: 1..255", 27, NULL, NULL, NULL },
	{ 0, "sync-maxlen", O_SYNC_MAXLEN, ARG_REQUIRED, "sync-maxlen", set_sync_maxlen,
	  "--sync-maxlen LEN  sync daemon: longest message, 1..65507", 28, NULL, NULL, NULL },
	{ 0, "tun-info", O_TUN_INFO, ARG_NONE, "tun-info", set_flag,
	  "--tun-info         the tunnel column (weir's tunnels are ipip)", 29, NULL, NULL, NULL },
	{ 0, "tun-port", O_TUN_PORT, ARG_REQUIRED, "tun-port", NULL, NULL, 31,
	  .refused = NO_TUNNEL },
	{ 0, "tun-nocsum", O_TUN_NOCSUM, ARG_NONE, "tun-nocsum", NULL, NULL, 32,
	  .refused = NO_TUNNEL },
	{ 0, "tun-csum", O_TUN_CSUM, ARG_NONE, "tun-csum", NULL, NULL, 33,
	  .refused = NO_TUNNEL },
	{ 0, "tun-remcsum", O_TUN_REMCSUM, ARG_NONE, "tun-remcsum", NULL, NULL, 34,
	  .refused = NO_TUNNEL },
	{ 0, "http", O_HTTP, ARG_NONE, "http", set_flag,
	  "--http             weir: HTTP counters: requests, responses by class, retries, "
	  "mean response time", 60, NULL, NULL, NULL },
	{ 0, "sort", O_SORT, ARG_NONE, "sort", set_flag, NULL, 61, NULL, NULL, NULL },
	{ 0, "health", O_HEALTH, ARG_NONE, "health", set_flag,
	  "--health           weir: listing of server states, weights, last checks", 62, NULL, NULL, NULL },
	{ 0, "json", O_JSON, ARG_NONE, "json", set_flag,
	  "--json             weir: -L and status as JSON", 63, NULL, NULL, NULL },
	{ 0, "pool", O_POOL, ARG_REQUIRED, "pool", set_pool,
	  "--pool NAME        weir: -A/-D a pool of an HTTP service; -a/-e/-d a server of "
	  "that pool", 64, NULL, NULL, NULL },
	{ 0, "config", O_CONFIG, ARG_NONE, "config", set_flag,
	  "--config           weir: -S writes the table as a config file (weir -c reads it)", 65, NULL, NULL, NULL },
	{ 0, "udp", O_UDP, ARG_NONE, "udp", set_flag,
	  "--udp              weir: UDP counters: sessions, open, evicted, dropped, timed out, "
	  "datagrams per second", 66, NULL, NULL, NULL },
	{ 0, "dns", O_DNS, ARG_NONE, "dns", set_flag,
	  "--dns              weir: DNS services' queries per name by type, answers per "
	  "location", 67, NULL, NULL, NULL },
	/* weirctl asks for it when it prints names (list.h); no help: not for users */
	{ 0, "name-marks", O_NAMES, ARG_NONE, "name-marks", set_flag, NULL, 68, NULL, NULL, NULL },
};

/* --- the parser -------------------------------------------------------------- */

/* The rows' options, and every option's identity in ipvsadm's option
 * order (the matrix checks and the options are set in it): built once. */
static const struct ctl_rows *g;
static int order[CTL_OPT_MAX], norder;

static unsigned order_of(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_options); i++)
		if (own_options[i].id == id)
			return own_options[i].order;
	for (size_t i = 0; i < g->nentries; i++)
		if (g->entries[i].id == id)
			return g->entries[i].order;
	return UINT32_MAX;
}

static void build_order(void)
{
	g = ctl_rows();
	for (int id = 0; id < O_ROWS + g->nopts; id++) {
		int k = norder++; /* insertion sort: a few dozen */

		while (k > 0 && order_of(order[k - 1]) > order_of(id)) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = id;
	}
}

static void grammar(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_order);
}

static void give(struct ctl_cmd *c, int id)
{
	c->given[id / 64] |= 1ull << (id % 64);
}

static const struct ctl_command *find_command(const char *word, int *consumed_short)
{
	*consumed_short = 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_command *c = &commands[i];

		size_t n = c->longname ? strlen(c->longname) : 0;

		/* "--start-daemon=master": a command with a value */
		if (word[0] == '-' && word[1] == '-' && n && strncmp(word + 2, c->longname, n) == 0 &&
		    (!word[2 + n] || (c->set && word[2 + n] == '=')))
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
	for (size_t i = 0; i < ARRAY_SIZE(own_options); i++)
		if (own_options[i].shortname == ch)
			return &own_options[i];
	for (size_t i = 0; i < g->nentries; i++)
		if (g->entries[i].shortname == ch)
			return &g->entries[i];
	return NULL;
}

static const struct ctl_option *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_options); i++)
		if (strlen(own_options[i].longname) == len &&
		    strncmp(own_options[i].longname, name, len) == 0)
			return &own_options[i];
	for (size_t i = 0; i < g->nentries; i++)
		if (g->entries[i].longname && strlen(g->entries[i].longname) == len &&
		    strncmp(g->entries[i].longname, name, len) == 0)
			return &g->entries[i];
	return NULL;
}

/* What the command line gave, before anything is set: how each option was
 * written, its argument and the word it was in. */
#define GIVEN_MORE 15

struct given {
	const struct ctl_option *how[CTL_OPT_MAX];
	const char *arg[CTL_OPT_MAX];
	int pos[CTL_OPT_MAX];
	/* the arguments of a repeatable option given again (--name a --name b) */
	const char *more[CTL_OPT_MAX][GIVEN_MORE];
	int nmore[CTL_OPT_MAX];
};

/* Records option <o> with argument <arg>, written in word <pos>. */
static int take(struct ctl_cmd *cmd, struct given *gv, const struct ctl_option *o,
		const char *arg, int pos, char *err)
{
	if (ctl_has(cmd, o->id) && ctl_row_repeats(o->id)) {
		if (gv->nmore[o->id] == GIVEN_MORE)
			return ctl_fail(err, "'%s' given more than %d times", o->name, GIVEN_MORE + 1);
		gv->more[o->id][gv->nmore[o->id]++] = arg;
		return 0;
	}
	if (o->id != O_SORT && ctl_has(cmd, o->id))
		return ctl_fail(err, "multiple '%s' options specified", o->name);
	give(cmd, o->id);
	gv->how[o->id] = o;
	gv->arg[o->id] = arg;
	gv->pos[o->id] = pos;
	return 0;
}

/* One word of bundled short options starting at <p>; may consume the next
 * word as an argument (*i advanced). */
static int parse_shorts(const char *p, int argc, char *const *argv, int *i,
			struct ctl_cmd *cmd, struct given *gv, char *err)
{
	int at = *i;

	for (; *p; p++) {
		const struct ctl_option *o = find_short(*p);
		const char *arg = NULL;
		int rc;

		if (!o)
			return ctl_fail(err, "%s: unknown option", argv[*i]);
		if (o->arg != ARG_NONE) {
			if (p[1]) {
				arg = p[1] == '=' ? p + 2 : p + 1;
			} else if (*i + 1 < argc &&
				   (o->arg == ARG_REQUIRED || argv[*i + 1][0] != '-')) {
				arg = argv[++*i];
			} else if (o->arg == ARG_REQUIRED) {
				return ctl_fail(err, "%s: missing argument", argv[*i]);
			}
			return take(cmd, gv, o, arg, at, err);
		}
		if ((rc = take(cmd, gv, o, NULL, at, err)) != 0)
			return rc;
	}
	return 0;
}

static int parse_long(const char *word, int argc, char *const *argv, int *i,
		      struct ctl_cmd *cmd, struct given *gv, char *err)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	const struct ctl_option *o = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
	const char *arg = NULL;
	int at = *i;

	if (!o) {
		int dummy;

		if (find_command(word, &dummy))
			return ctl_fail(err, "invalid option `%s'", word);
		return ctl_fail(err, "%s: unknown option", word);
	}
	if (eq) {
		if (o->arg == ARG_NONE)
			return ctl_fail(err, "%s: option does not take an argument", word);
		arg = eq + 1;
	} else if (o->arg != ARG_NONE) {
		if (*i + 1 < argc && (o->arg == ARG_REQUIRED || argv[*i + 1][0] != '-'))
			arg = argv[++*i];
		else if (o->arg == ARG_REQUIRED)
			return ctl_fail(err, "%s: missing argument", word);
	}
	return take(cmd, gv, o, arg, at, err);
}

static void cmd_defaults(struct ctl_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	spec_service_defaults(&cmd->svc);
	spec_server_defaults(&cmd->rs);
}

static int refuse(const struct ctl_option *how, char *err)
{
	return ctl_fail(err, "--%s: not supported by weir: %s", how->longname, how->refused);
}

/* Sets every option given, in ipvsadm's order. Returns the word of the
 * first bad value on the line (INT_MAX: none), its message in <err>: as
 * with ipvsadm, which sets each option as it reads it, the first mistake
 * on the line is the one reported. */
static int set_all(const struct ctl_command *c, struct ctl_cmd *cmd, const struct given *gv,
		   char *err)
{
	int first = INT_MAX;

	for (int k = 0; k < norder; k++) {
		int id = order[k], rc;
		const struct ctl_option *how = gv->how[id];
		char why[CTL_ERR_MAX];

		if (!ctl_has(cmd, id))
			continue;
		if (how->refused)
			rc = refuse(how, why);
		else
			rc = ctl_row_scope(id) ? ctl_set_row(cmd, how, gv->arg[id], c->scope, why) :
					   how->set(cmd, gv->arg[id], why);
		for (int m = 0; !rc && m < gv->nmore[id]; m++)
			rc = ctl_set_row(cmd, how, gv->more[id][m], c->scope, why);
		if (rc && gv->pos[id] < first) {
			first = gv->pos[id];
			snprintf(err, CTL_ERR_MAX, "%s", why);
		}
	}
	return first;
}

static const char *option_name(int id)
{
	for (size_t k = 0; k < ARRAY_SIZE(own_options); k++)
		if (own_options[k].id == id)
			return own_options[k].name;
	for (size_t k = 0; k < g->nentries; k++)
		if (g->entries[k].id == id)
			return g->entries[k].name;
	return "?";
}

/* ipvsadm's generic_opt_check: first problem in option order wins. */
static int check_matrix(const struct ctl_command *c, const struct ctl_cmd *cmd, char *err)
{
	int first_one = -1;

	for (int k = 0; k < norder; k++) {
		int o = order[k];
		unsigned row_scope = ctl_row_scope(o);
		bool has = ctl_has(cmd, o);
		bool required = !row_scope && (c->required & BIT(o));
		bool one_of = !row_scope && (c->one_of & BIT(o));
		bool allowed = row_scope ? (row_scope & c->scope) != 0 : (c->allowed & BIT(o)) != 0;

		if (o == O_SORT)
			continue;
		if (required && !has)
			return ctl_fail(err, "You need to supply the '%s' option for the '%s' command",
				    option_name(o), c->name);
		if (!has || required)
			continue;
		if (one_of) {
			if (first_one >= 0)
				return ctl_fail(err, "The option '%s' conflicts with the '%s' option "
					    "in the '%s' command", option_name(o),
					    option_name(first_one), c->name);
			first_one = o;
		} else if (!allowed) {
			return ctl_fail(err, "Illegal '%s' option with the '%s' command",
				    option_name(o), c->name);
		}
	}
	return 0;
}

/* Checks that need several options together (ipvsadm's post-parse rules). */
static int check_combined(const struct ctl_cmd *cmd, char *err)
{
	bool svc_cmd = cmd->op == OP_ADD_SVC || cmd->op == OP_EDIT_SVC;

	if (svc_cmd && addr_port(&cmd->svc.addr) == 0 && !cmd->svc.persist_s)
		return ctl_fail(err, "Zero port specified for non-persistent service");
	if (cmd->svc.sched_flags && svc_cmd) {
		const char *s = cmd->svc.sched;
		const struct sched_ops *ops = sched_find(s);

		if (!ops || !ops->takes_flags)
			return ctl_fail(err, "incompatible scheduler flag `%s'", s);
	}
	return 0;
}

/* ipvsadm's views that cannot go together in a listing. */
static int check_list_views(const struct ctl_cmd *cmd, char *err)
{
	bool table = ctl_has(cmd, O_CONNECTION) || ctl_has(cmd, O_TIMEOUT) ||
		     ctl_has(cmd, O_DAEMON);
	bool other = ctl_has(cmd, O_TIMEOUT) || ctl_has(cmd, O_DAEMON);

	if (cmd->op != OP_LIST)
		return 0;
	if ((table && (ctl_has(cmd, O_STATS) || ctl_has(cmd, O_RATE) ||
		       ctl_has(cmd, O_THRESHOLDS))) ||
	    (other && ctl_has(cmd, O_PERSISTENT_CONN)))
		return ctl_fail(err, "options conflicts in the list command");
	return 0;
}

/* The sync daemon's commands are parsed (their values are in cmd->sync)
 * but not carried out: a right command weir cannot do (exit 255). */
static int check_unbuilt(const struct ctl_cmd *cmd, char *err)
{
	const char *what = cmd->op == OP_START_DAEMON ? "--start-daemon" :
			   cmd->op == OP_STOP_DAEMON ? "--stop-daemon" :
			   cmd->op == OP_LIST && ctl_has(cmd, O_DAEMON) ? "--daemon" : NULL;

	if (!what)
		return 0;
	ctl_fail(err, "%s: " NO_SYNC, what);
	return CTL_EXIT_APPLY;
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
		return ctl_fail(err, "usage: server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N");
	if (set_service(cmd, argv[i], proto, err) != 0 || set_real(cmd, argv[i + 1], err) != 0)
		return CTL_EXIT_USAGE;
	for (size_t k = 0; k < ARRAY_SIZE(acts); k++)
		if (strcmp(argv[i + 2], acts[k].word) == 0)
			cmd->action = acts[k].act;
	if (cmd->action == ACT_NONE)
		return ctl_fail(err, "server: unknown action `%s' (drain, ready, maint or weight N)",
			    argv[i + 2]);
	if (cmd->action == ACT_WEIGHT) {
		const struct ctl_option *w = find_short('w');

		if (argc - i != 4)
			return ctl_fail(err, "server: weight needs a number");
		return ctl_set_row(cmd, w, argv[i + 3], OPT_SRV, err);
	}
	if (argc - i != 3)
		return ctl_fail(err, "unexpected argument %s", argv[i + 3]);
	return 0;
}

/* --set TCP TCPFIN UDP: ipvsadm's three positional timeouts, in seconds
 * (0 = leave it as it is). */
static int parse_set(int argc, char *const *argv, struct ctl_cmd *cmd, char *err)
{
	cmd->op = OP_SET;
	if (argc < 4)
		return ctl_fail(err, "--set option requires 3 timeout values");
	for (int i = 0; i < 3; i++) {
		const char *w = argv[1 + i];
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(w, &end, 10);
		if (!*w || *end || errno || w[0] == '-' || v > CONN_TIMEOUT_MAX_S)
			return ctl_fail(err, "invalid timeout value `%s' specified", w);
		cmd->set_s[i] = (uint32_t)v;
	}
	if (argc > 4)
		return ctl_fail(err, "unexpected argument %s", argv[4]);
	return 0;
}

/* The value of command <c> written as word <argv>[0] ("--start-daemon=master"
 * or "--start-daemon master"): set, *i on its last word. */
static int command_value(const struct ctl_command *c, int argc, char *const *argv, int *i,
			 struct ctl_cmd *cmd, char *err)
{
	const char *eq = strchr(argv[0], '=');

	if (eq)
		return c->set(cmd, eq + 1, err);
	if (argc < 2)
		return ctl_fail(err, "%s: missing argument", argv[0]);
	*i = 1;
	return c->set(cmd, argv[1], err);
}

int ctl_parse(int argc, char *const *argv, struct ctl_cmd *cmd, char *err)
{
	const struct ctl_command *c;
	struct given gv;
	char stray[CTL_ERR_MAX] = "", bad[CTL_ERR_MAX];
	int consumed, rc = 0, i = 0, stop = INT_MAX, first;

	grammar();
	cmd_defaults(cmd);
	memset(gv.nmore, 0, sizeof(gv.nmore));
	if (argc == 0) {
		cmd->op = OP_LIST;
		return 0;
	}
	if (strcmp(argv[0], "server") == 0)
		return parse_server(argc, argv, cmd, err);
	if (strcmp(argv[0], "--set") == 0)
		return parse_set(argc, argv, cmd, err);
	c = find_command(argv[0], &consumed);
	if (!c)
		return ctl_fail(err, "unknown command `%s': the first word must be a command "
			    "such as -A, -a, -L or status (see weirctl -h)", argv[0]);
	cmd->op = c->op;
	if (c->set && (rc = command_value(c, argc, argv, &i, cmd, err)) != 0)
		return rc;
	/* read the words; a word the grammar refuses stops the reading there */
	if (consumed && argv[0][2])
		rc = parse_shorts(argv[0] + 2, argc, argv, &i, cmd, &gv, err);
	for (i++; rc == 0 && i < argc; i++) {
		const char *w = argv[i];
		int at = i, dummy;

		if (w[0] == '-' && w[1] == '-' && w[2])
			rc = parse_long(w, argc, argv, &i, cmd, &gv, err);
		else if (w[0] == '-' && w[1] && w[1] != '-' && find_command(w, &dummy) &&
			 !find_short(w[1]))
			rc = ctl_fail(err, "invalid option `%s'", w);
		else if (w[0] == '-' && w[1] && w[1] != '-')
			rc = parse_shorts(w + 1, argc, argv, &i, cmd, &gv, err);
		else if (!stray[0]) /* ipvsadm reports these last */
			snprintf(stray, sizeof(stray), "unexpected argument %s", w);
		if (rc)
			stop = at;
	}
	if (rc && consumed && stop == INT_MAX)
		stop = 0;
	/* then set what was read; a bad value before the stop wins */
	first = set_all(c, cmd, &gv, bad);
	if (first < stop)
		return ctl_fail(err, "%s", bad);
	if (rc)
		return rc;
	if (stray[0])
		return ctl_fail(err, "%s", stray);
	if ((rc = check_matrix(c, cmd, err)) != 0)
		return rc;
	if ((rc = check_combined(cmd, err)) != 0 || (rc = check_list_views(cmd, err)) != 0)
		return rc;
	return check_unbuilt(cmd, err);
}

int ctl_parse_names(int argc, char *const *argv, struct ctl_cmd *cmd, char *err,
		    struct ctl_resolver *r)
{
	int rc;

	resolving = r;
	rc = ctl_parse(argc, argv, cmd, err);
	resolving = NULL;
	return rc;
}

/* --- help ------------------------------------------------------------------- */

static void usage_sched(const struct sched_ops *ops, void *arg)
{
	buf_printf(arg, "  %-6s %s\n", ops->name, ops->descr ? ops->descr : "");
}

/* weirctl's own options carry their line; a row's is made of its flag,
 * its metavar and its help. */
static void usage_option(struct buf *out, const struct ctl_option *e)
{
	const char *arg = e->alias ? "" : e->metavar ? e->metavar : "VALUE";
	char name[64];

	if (!e->help)
		return;
	if (e->set) {
		buf_printf(out, "  %s\n", e->help);
		return;
	}
	if (e->shortname)
		snprintf(name, sizeof(name), "-%c%s%s", e->shortname, *arg ? " " : "", arg);
	else
		snprintf(name, sizeof(name), "--%s%s%s", e->longname, *arg ? " " : "", arg);
	if (strlen(name) > 18)
		buf_printf(out, "  %s\n  %-18s %s\n", name, "", e->help);
	else
		buf_printf(out, "  %-18s %s\n", name, e->help);
}

void ctl_usage(struct buf *out)
{
	grammar();
	buf_printf(out, "weirctl - the weir load balancer's control, with ipvsadm's syntax\n\n"
		   "Usage:\n"
		   "  weirctl -A|E -t|u VIP:PORT [-s SCHED] [-p [TIMEOUT]] [-M NETMASK] [-b FLAGS]\n"
		   "          [--proxy MODE] [weir's service options below]\n"
		   "  weirctl -D -t|u VIP:PORT\n"
		   "  weirctl -C\n"
		   "  weirctl -R < FILE\n"
		   "  weirctl -S [-n] [--config]\n"
		   "  weirctl -a|e -t|u VIP:PORT -r RIP:PORT [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]\n"
		   "  weirctl -d -t|u VIP:PORT -r RIP:PORT\n"
		   "  weirctl -L|l [-t|u VIP:PORT] [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact]\n"
		   "  weirctl -Z [-t|u VIP:PORT]\n"
		   "  weirctl -L -c [-n] [--persistent-conn] | -L --timeout\n"
		   "  weirctl --set TCP TCPFIN UDP   connection timeouts in seconds (0 = unchanged)\n"
		   "  weirctl -L --health | --json\n"
		   "  weirctl --start-daemon|--stop-daemon master|backup [--syncid ID ...]  "
		   "(not built yet)\n"
		   "  weirctl server [-t|-u] VIP:PORT RIP:PORT drain|ready|maint|weight N\n"
		   "  weirctl status [--json] | reload | metrics\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_command *c = &commands[i];
		char name[48];

		if (!c->help)
			continue;
		if (c->shortname)
			snprintf(name, sizeof(name), "-%c, --%s", c->shortname, c->longname);
		else if (c->set)
			snprintf(name, sizeof(name), "--%s STATE", c->longname);
		else
			snprintf(name, sizeof(name), "%s", c->longname);
		buf_printf(out, "  %-22s %s\n", name, c->help);
	}
	buf_printf(out, "\nOptions:\n");
	for (int k = 0; k < norder; k++) {
		for (size_t i = 0; i < ARRAY_SIZE(own_options); i++)
			if (own_options[i].id == order[k])
				usage_option(out, &own_options[i]);
		for (size_t i = 0; i < g->nentries; i++)
			if (g->entries[i].id == order[k])
				usage_option(out, &g->entries[i]);
	}
	buf_printf(out, "\nSchedulers (-s):\n");
	sched_foreach(usage_sched, out);
}
