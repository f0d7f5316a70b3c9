/*
 * spec.h - the desired configuration: what the operator asked for, as plain
 * data. The config file (config.c), weirctl commands (ctl/) and reloads all
 * produce a `struct weir_config`; table.c then makes the live table match it.
 *
 * Every edit here is pure: it changes a config in memory, or fails with a
 * message and changes nothing. A weirctl request edits a copy and swaps it
 * in only when every line succeeded.
 *
 * Ownership: a weir_config owns its services array, each service owns its
 * servers array; spec_free() releases everything, spec_dup() deep-copies.
 *
 * Options are declared once, as rows (core/option.h): the fields here are
 * the core's own (core/spec_opts.c has their rows). A mode's options (the
 * HTTP proxy's: proxy/http_opts.h) live in the service's option area,
 * `opts`, not here. Pools and routes stay in the core although only the
 * HTTP proxy uses them: a pool is a service the core's table builds (its
 * own scheduler, servers and health), and routes are a list of any length
 * naming pools, which the option area (plain bytes, copied with the
 * struct) cannot hold; the HTTP proxy compiles them (proxy/route.c).
 */
#ifndef WEIR_SPEC_H
#define WEIR_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/mode.h"

/* Forwarding method of a real server in a packet-mode service (ipvsadm
 * -g/-i/-m). Proxy services forward by proxying, whatever this says. */
enum fwd_method { FWD_ROUTE, FWD_TUNNEL, FWD_MASQ, FWD_FULLNAT };

#define SCHED_NAME_MAX 16
#define DEFAULT_SCHED "wlc"           /* ipvsadm's default */
#define DEFAULT_PERSIST_S 300
#define SPEC_MAX_PERSIST_S (86400u * 31) /* ipvsadm's limit */
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_IDLE_TIMEOUT_MS 0      /* 0 = the global tcp_timeout / udp_timeout */
#define DEFAULT_GRACE_MS 30000

/* The XDP data path (packet-mode services): where it attaches and what it
 * needs to know about this director. No interface = no XDP. */
#define XDP_MAX_IFACES 8
struct xdp_spec {
	char ifaces[XDP_MAX_IFACES][16];
	uint8_t nifaces;
	bool generic;                  /* force generic (skb) mode */
	struct weir_addr local4;       /* TUN outer source / FULLNAT source */
	struct weir_addr local6;
	uint16_t fullnat_lo, fullnat_hi;
	uint32_t tcp_syn_ms;           /* a flow that saw a SYN only (the rest of the
	                                * timeouts are the global conn_timeouts) */
	uint32_t rebuild_ms;           /* connection-count schedulers' tables */
};

/* The connection timeouts of the whole director, as IPVS's (ipvsadm --set
 * tcp tcpfin udp, -L --timeout): how long an idle connection lives. They
 * apply to the XDP flow table (established, after FIN/RST, UDP) and to
 * the proxies: a proxy service without its own idle_timeout takes
 * <tcp_ms> (TCP and HTTP) or <udp_ms> (UDP) as its idle timeout, and a
 * TCP proxy session half-closed takes at most <tcp_fin_ms>. */
#define CONN_TIMEOUT_MAX_S (86400u * 31) /* ipvsadm's limit: 31 days */
struct conn_timeouts {
	uint32_t tcp_ms, tcp_fin_ms, udp_ms;
};

/* Health checks (src/health/). A check_spec is written, in the config file
 * and in weirctl's --check, as words: a kind then KEY VALUE pairs, e.g.
 * `http path /health expect 200-399 interval 2s rise 2 fall 3`
 * (healthspec.c parses and formats them). The kinds (tcp, http...) are
 * registered by health/ at start-up, each with its own keys. */
enum { CHECK_INHERIT, CHECK_NONE, CHECK_KIND_FIRST }; /* check_spec.kind */
#define CHECK_OWN_MAX 384

struct check_spec {
	uint8_t kind;                 /* CHECK_INHERIT = the service's (servers
	                               * only), CHECK_NONE, or the id of a
	                               * registered kind (check_kind_find) */
	uint8_t rise, fall;           /* successes to come up, failures to go down */
	uint8_t jitter_pct;           /* each interval varies by up to +-this % */
	uint16_t port;                /* 0 = the server's port */
	uint32_t interval_ms;
	uint32_t fast_interval_ms;    /* while a server is changing state */
	uint32_t timeout_ms;
	/* the kind's own settings (http: method, path, expect...): its struct,
	 * laid over these bytes, all zero but what its words set. The core only
	 * copies and compares them, and parses and prints them through the
	 * kind's keys (core/healthspec.h). */
	union {
		unsigned char bytes[CHECK_OWN_MAX];
		uint64_t align_;
	} own;
};

/* The agent check: a line from a port on the server ("up 75%", "drain",
 * "down", "weight 40"...). port 0 = none. */
struct agent_spec {
	uint16_t port;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	char send[64];                /* sent first, if any ("\n" escapes) */
};

/* Passive checks: <errors> failures in a row (connect failures, 5xx) eject
 * a server for <eject_ms> x the times it was ejected (at most
 * <max_eject_ms>); at most <max_pct>% of a pool ejected at once.
 * errors 0 = off. */
struct outlier_spec {
	uint32_t errors;
	uint32_t eject_ms;
	uint32_t max_eject_ms;
	uint8_t max_pct;
};

/* A real server's state set by hand (weirctl server ... drain|maint|ready,
 * or `state` in the config file). UNSET: a reload keeps what is running. */
enum admin_state { ADMIN_UNSET, ADMIN_READY, ADMIN_DRAIN, ADMIN_MAINT };

/* A network: the trusted fronts allowed to send a PROXY protocol header. */
struct cidr {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t prefix;
	uint8_t addr[16];
};
#define SPEC_MAX_CIDRS 16

struct server_spec {
	struct weir_addr addr;
	uint32_t weight;          /* 0..65535, default 1 */
	uint32_t upper, lower;    /* -x / -y, 0 = none */
	enum fwd_method fwd;
	char url[128];            /* redirect mode: the server's public base URL */
	uint8_t admin;            /* enum admin_state */
	char location[32];        /* a label: DNS services answer a client with
	                           * the servers of the location it prefers */
	bool backup;              /* failover order: new work only while no
	                           * primary server of the service can take it */
	struct check_spec check;  /* kind CHECK_INHERIT = the service's */
	int line;                 /* where it was declared; 0 = not from a file */
};

/* HTTP routing: a request matching every condition given goes to <pool>
 * ("" = the service's own servers). First match wins. */
struct route_spec {
	char pool[32];
	char host[128];           /* exact, or "*.example.com" */
	char path_prefix[128];
	char path_regex[128];     /* POSIX extended */
	char method[16];
	char header[64];          /* a header whose value ... */
	char header_regex[128];   /* ... matches this */
	int line;
};

struct pool_spec;

/* Bytes of the option area of a service (see the end of service_spec). */
#define SPEC_OPTS_MAX 1024

struct service_spec {
	int proto;                /* IPPROTO_TCP or IPPROTO_UDP */
	struct weir_addr addr;    /* VIP:port */
	const struct svc_mode *proxy; /* NULL = packet mode (LVS); see mode.h */
	char sched[SCHED_NAME_MAX];
	uint32_t sched_flags;     /* SCHED_F_* */
	uint32_t persist_s;       /* -p timeout in seconds; 0 = not persistent */
	uint8_t persist_prefix;   /* -M as a prefix length; 32 / 128 (the default,
	                           * spec_full_prefix) = each client alone */
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t maxconn;         /* 0 = unlimited */
	uint32_t retries;         /* further servers tried when a connect fails */
	uint8_t send_proxy;       /* PROXY protocol header to servers: 0, 1 or 2 */
	uint8_t naccept_proxy;    /* clients from these networks must send one */
	struct cidr accept_proxy[SPEC_MAX_CIDRS];
	/* health */
	struct check_spec check;  /* kind CHECK_NONE = every server assumed up */
	struct agent_spec agent;
	struct outlier_spec outlier;
	uint32_t slow_start_ms;   /* a server coming back ramps its weight up */
	uint16_t drain_status;    /* a server answering this status (HTTP check or
	                           * request)... */
	char drain_header[64];    /* ... with this header is draining; "" = status only */
	bool ops;                 /* one-packet scheduling (ipvsadm -o): UDP: every
	                           * datagram is scheduled on its own */
	bool reset_gone;          /* packet mode: flows to a removed or down server
	                           * are dropped rather than kept until they end */
	/* HTTP routing: named pools of servers, and the rules choosing them */
	struct pool_spec *pools;
	size_t npools;
	struct route_spec *routes;
	size_t nroutes;
	struct server_spec *servers;
	size_t nservers;
	int line;
	/* The option area: the blocks of rows modes and features register
	 * (core/option.h), each at the offset registration gave it. Plain
	 * bytes, so a struct copy copies them, spec_dup() needs nothing more,
	 * and a field compares with memcmp; a block holds no pointers. Chosen
	 * over a pointer per block (with dup and free operations) because
	 * service specs are copied by assignment in many places (edits, pools,
	 * the table's copy) and every one of them stays right. */
	unsigned char opts[SPEC_OPTS_MAX] __attribute__((aligned(8)));
};

/* A named pool: its own scheduler and servers, with the service's other
 * options. <s> is a service_spec so the server rules apply unchanged. */
struct pool_spec {
	char name[32];
	struct service_spec s;    /* its pools/routes stay empty */
};

#define METRICS_HOSTS_MAX 8
#define METRICS_HOST_LEN 254      /* a DNS name: 253 bytes and the NUL */

struct weir_config {
	int workers;              /* 0 = one per core */
	int log_level;            /* enum log_level */
	char *socket_path;        /* NULL = command line / environment / default */
	uint32_t grace_ms;        /* how long a stop waits for open connections */
	struct weir_addr metrics; /* admin HTTP listener (/metrics); port 0 = none */
	char metrics_token[256];  /* file holding the token that lets the dashboard
	                           * change server states; "" = read-only */
	/* names the metrics listener answers to besides IP literals and
	 * localhost (the Host check against DNS rebinding): lower case, no
	 * trailing dot; the first "" ends the list */
	char metrics_hosts[METRICS_HOSTS_MAX][METRICS_HOST_LEN];
	struct xdp_spec xdp;
	struct conn_timeouts timeouts;
	struct service_spec *services;
	size_t nservices;
};

#define SPEC_ERR_MAX 256

void spec_init(struct weir_config *c);
void spec_free(struct weir_config *c);
/* Deep-copies <src> into <dst>. Returns 0 or -ENOMEM. */
int spec_dup(struct weir_config *dst, const struct weir_config *src);

/* Fills <s> with the defaults of a new service (no address, no servers). */
void spec_service_defaults(struct service_spec *s);
void spec_server_defaults(struct server_spec *r);

/* Finds the service <proto> <addr>; returns it or NULL. */
struct service_spec *spec_find_service(struct weir_config *c, int proto,
				       const struct weir_addr *addr);
struct server_spec *spec_find_server(struct service_spec *s,
				     const struct weir_addr *addr);
/* A server's address as <svc> keys it: a missing port is the service's
 * (and packet-mode route/tunnel servers always use the service's). */
void spec_normalize_server(const struct service_spec *svc, struct server_spec *r);

/* The edits. Each returns 0, or -errno with a message in <err>. <svc> and
 * <srv> are copied; their servers arrays are not taken over. */
int spec_add_service(struct weir_config *c, const struct service_spec *svc, char *err);
int spec_edit_service(struct weir_config *c, const struct service_spec *svc, char *err);
int spec_del_service(struct weir_config *c, int proto, const struct weir_addr *addr, char *err);
/* A named pool of an HTTP service: <opts> gives its own options, the rows
 * of scope OPT_POOL (scheduler, health); the rest are the service's. Its
 * servers, pools and routes are ignored. Deleting a pool a route names is
 * refused. */
int spec_add_pool(struct weir_config *c, int proto, const struct weir_addr *vip,
		  const char *name, const struct service_spec *opts, char *err);
int spec_del_pool(struct weir_config *c, int proto, const struct weir_addr *vip,
		  const char *name, char *err);
/* The pool <name> of <svc>; NULL when it has none of that name. */
struct service_spec *spec_find_pool(struct service_spec *svc, const char *name);
/* Servers of the service, or of its pool <pool> (NULL or "default": the
 * service's own). */
int spec_add_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		    const char *pool, const struct server_spec *srv, char *err);
int spec_edit_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		     const char *pool, const struct server_spec *srv, char *err);
int spec_del_server(struct weir_config *c, int proto, const struct weir_addr *vip,
		    const char *pool, const struct weir_addr *rip, char *err);
void spec_clear(struct weir_config *c);

/* Parses "10.0.0.0/8", "::1", "192.0.2.7" into <out>. 0 or -EINVAL. */
int cidr_parse(const char *s, struct cidr *out);
/* "10.0.0.0/8", or the address alone for a whole-address network. */
void cidr_format(const struct cidr *c, char *out, size_t len);
/* True if <a> is inside one of <n> networks <c>. */
bool cidr_match(const struct cidr *c, size_t n, const struct weir_addr *a);

/* The prefix length that makes each client its own persistence group. */
uint8_t spec_full_prefix(const struct weir_addr *a);

/* A reload from a file keeps the admin state (drain/maint by hand) of the
 * servers still in <old> unless the file sets one. */
void spec_keep_admin_state(struct weir_config *next, const struct weir_config *old);

/* Checks a service's own fields (scheduler known, mode supported, ...). */
int spec_check_service(const struct service_spec *svc, char *err);

const char *proto_name(int proto);        /* "TCP" / "UDP" */
const char *fwd_name(enum fwd_method f);   /* "Route" "Tunnel" "Masq" "FullNat" */
void spec_xdp_defaults(struct xdp_spec *x);
void spec_timeouts_defaults(struct conn_timeouts *t);
/* The idle timeout a proxy service <s> runs with: its own, else the
 * global one of its protocol in <g>. */
uint32_t spec_idle_timeout(const struct service_spec *s, const struct conn_timeouts *g);

#endif
