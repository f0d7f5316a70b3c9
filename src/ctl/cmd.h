/*
 * cmd.h - weirctl commands: ipvsadm's syntax (so LVS scripts run
 * unchanged) plus weir's own options and friendly subcommands.
 *
 * ctl_parse() turns one command line's words into a `struct ctl_cmd`
 * without touching any state; ctl_exec.c carries it out. The grammar is the
 * two tables in ipvsadm.c, each entry with its help text.
 */
#ifndef WEIR_CTL_CMD_H
#define WEIR_CTL_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/spec.h"

enum ctl_op {
	OP_NONE,
	OP_ADD_SVC, OP_EDIT_SVC, OP_DEL_SVC, OP_CLEAR,
	OP_ADD_RS, OP_EDIT_RS, OP_DEL_RS,
	OP_LIST, OP_ZERO, OP_SAVE, OP_RESTORE,
	OP_HELP, OP_VERSION,
	OP_STATUS, OP_RELOAD,
	OP_SERVER, OP_METRICS,
};

/* `weirctl server VIP RIP ACTION`: what to do to the server. */
enum ctl_server_action { ACT_NONE, ACT_READY, ACT_DRAIN, ACT_MAINT, ACT_WEIGHT };

/* Option identities; also the bits of the command x option matrix. */
enum ctl_opt {
	O_NUMERIC, O_CONNECTION, O_SERVICE, O_SCHEDULER, O_PERSISTENT, O_NETMASK,
	O_REAL_SERVER, O_FORWARD, O_WEIGHT, O_UPPER, O_LOWER, O_TIMEOUT,
	O_DAEMON, O_STATS, O_RATE, O_THRESHOLDS, O_PERSISTENT_CONN, O_NOSORT,
	O_EXACT, O_OPS, O_SCHED_FLAGS, O_PROXY, O_CONNECT_TIMEOUT,
	O_IDLE_TIMEOUT, O_MAX_CONN, O_RETRIES, O_TUN_TYPE, O_HTTP, O_SORT,
	O_CHECK, O_AGENT, O_OUTLIER, O_SLOW_START, O_STATE, O_HEALTH, O_JSON, O_ON_GONE,
	O_POOL,
	O_COUNT
};

/* Exit statuses weirctl uses, as ipvsadm's. */
#define CTL_EXIT_USAGE 2    /* the command is wrong */
#define CTL_EXIT_APPLY 255  /* the command is right but cannot be done */
#define CTL_EXIT_LIST  1    /* a listing failed */

struct ctl_cmd {
	enum ctl_op op;
	uint64_t given;               /* bit per enum ctl_opt */
	struct service_spec svc;      /* -t/-u, -s, -p, -M, -b, weir options */
	struct server_spec rs;        /* -r, -g/-i/-m, -w, -x, -y */
	enum ctl_server_action action; /* OP_SERVER */
	char pool[32];                /* --pool: a pool of the service (HTTP) */
};

#define CTL_ERR_MAX 512

#define BIT(o) (1ull << (o))   /* an option's bit in <given> and the matrix */

static inline bool ctl_has(const struct ctl_cmd *c, enum ctl_opt o)
{
	return c->given & BIT(o);
}

/* Parses <argc> words. Returns 0, or CTL_EXIT_USAGE with a message in
 * <err> (CTL_ERR_MAX). Pure: no I/O, no state. */
int ctl_parse(int argc, char *const *argv, struct ctl_cmd *cmd, char *err);
/* Writes the usage text (weirctl -h). */
struct buf;
void ctl_usage(struct buf *out);

#endif
