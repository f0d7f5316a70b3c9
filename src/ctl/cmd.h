/*
 * cmd.h - weirctl commands: ipvsadm's syntax (so LVS scripts run
 * unchanged) plus weir's own options and friendly subcommands.
 *
 * ctl_parse() turns one command line's words into a `struct ctl_cmd`
 * without touching any state; ctl_exec.c carries it out. The grammar is the
 * two tables in ipvsadm.c (commands, weirctl's own options), each entry with
 * its help text, and the option rows (core/option.h) for every service and
 * server option.
 */
#ifndef WEIR_CTL_CMD_H
#define WEIR_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
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
	OP_START_DAEMON, OP_STOP_DAEMON, /* parsed; refused until sync is built */
	OP_SET,         /* --set tcp tcpfin udp */
};

/* `weirctl server VIP RIP ACTION`: what to do to the server. */
enum ctl_server_action { ACT_NONE, ACT_READY, ACT_DRAIN, ACT_MAINT, ACT_WEIGHT };

/* Option identities; also the bits of the command x option matrix. These
 * are weirctl's own options (the service and server addresses, listing
 * views...); every service and server option is a row (core/option.h) and
 * gets an identity from O_ROWS on, in registration order. */
enum ctl_opt {
	O_NUMERIC, O_CONNECTION, O_SERVICE, O_REAL_SERVER, O_TIMEOUT, O_DAEMON,
	O_STATS, O_RATE, O_THRESHOLDS, O_PERSISTENT_CONN, O_NOSORT, O_EXACT,
	O_HTTP, O_SORT, O_HEALTH, O_JSON, O_POOL, O_CONFIG, O_UDP, O_DNS,
	/* the sync daemon's (--start-daemon): parsed into struct ctl_sync */
	O_MCAST_IFN, O_SYNCID, O_SYNC_MAXLEN, O_MCAST_GROUP, O_MCAST_PORT, O_MCAST_TTL,
	/* ipvsadm's options weir refuses, each saying why (ipvsadm.c) */
	O_IPV6, O_PE, O_TUN_PORT, O_TUN_NOCSUM, O_TUN_CSUM, O_TUN_REMCSUM,
	O_TUN_INFO,    /* -L --tun-info */
	O_NAMES,       /* hidden: -L/-S write address marks for weirctl (list.h) */
	O_ROWS
};
#define CTL_OPT_MAX 256

/* Exit statuses weirctl uses, as ipvsadm's. */
#define CTL_EXIT_USAGE 2    /* the command is wrong */
#define CTL_EXIT_APPLY 255  /* the command is right but cannot be done */
#define CTL_EXIT_LIST  1    /* a listing failed */

/* ipvsadm's connection sync daemon options (--start-daemon,
 * --stop-daemon), as ipvsadm checks them; 0 = not given. Parsed only:
 * weir answers that sync is not built (a later sync takes these over). */
enum ctl_sync_state { SYNC_NONE, SYNC_MASTER, SYNC_BACKUP };

struct ctl_sync {
	enum ctl_sync_state state;
	char mcast_ifn[16];           /* --mcast-interface (IFNAMSIZ) */
	int syncid;                   /* --syncid 0..255 */
	int sync_maxlen;              /* --sync-maxlen 1..65507 */
	int mcast_af;                 /* --mcast-group: AF_INET / AF_INET6 */
	uint8_t mcast_group[16];      /* network order */
	int mcast_port;               /* --mcast-port 1..65535 */
	int mcast_ttl;                /* --mcast-ttl 1..255 */
};

struct ctl_cmd {
	enum ctl_op op;
	uint64_t given[CTL_OPT_MAX / 64]; /* bit per option identity */
	struct service_spec svc;      /* -t/-u and the service rows (-s, -p, ...) */
	struct server_spec rs;        /* -r and the server rows (-g, -w, ...) */
	enum ctl_server_action action; /* OP_SERVER */
	char pool[32];                /* --pool: a pool of the service (HTTP) */
	struct ctl_sync sync;         /* OP_START_DAEMON, OP_STOP_DAEMON */
	uint32_t set_s[3];            /* OP_SET: tcp, tcpfin, udp in seconds; 0 = keep */
};

#define CTL_ERR_MAX 512

#define BIT(o) (1ull << (o))   /* a weirctl option's bit in a command's masks */

static inline bool ctl_has(const struct ctl_cmd *c, int o)
{
	return (c->given[o / 64] >> (o % 64)) & 1;
}

struct opt_row;
/* True if <c> gave row <r>'s option (its flag or one of its aliases). */
bool ctl_given(const struct ctl_cmd *c, const struct opt_row *r);
/* True if every option <c> gave is one of <fixed> (BIT(O_...)) or a row
 * of <scope>. */
bool ctl_gives_only(const struct ctl_cmd *c, uint64_t fixed, unsigned scope);
/* The weirctl options of the rows of <scope>, for messages:
 * "-s, -b, --check, --agent, --outlier and --slow-start". */
void ctl_scope_flags(unsigned scope, char *out, size_t len);

/* Parses <argc> words. Returns 0, or CTL_EXIT_USAGE with a message in
 * <err> (CTL_ERR_MAX), or CTL_EXIT_APPLY for a right command weir has not
 * built (--start-daemon). Pure: no I/O, no state; addresses are numeric. */
int ctl_parse(int argc, char *const *argv, struct ctl_cmd *cmd, char *err);

/* Host and service names in addresses (-t/-u/-r www.example.test:http),
 * read by weirctl only: the daemon never resolves (its thread must not
 * block). <resolve> gets an address the numeric parser refused and the
 * service's protocol; it writes the numeric form ("192.0.2.1:80") into
 * <out> and returns 0, or -1 (then ipvsadm's "illegal ... address"). */
struct ctl_resolver {
	int (*resolve)(struct ctl_resolver *r, const char *arg, int proto, char *out,
		       size_t len);
};
/* ctl_parse, with names read through <r> (NULL: as ctl_parse). */
int ctl_parse_names(int argc, char *const *argv, struct ctl_cmd *cmd, char *err,
		    struct ctl_resolver *r);
/* Writes the usage text (weirctl -h). */
struct buf;
void ctl_usage(struct buf *out);

#endif
