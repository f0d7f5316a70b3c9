/*
 * table.h - the live virtual-service table: the services and real servers
 * traffic is flowing through, with their connection counts, counters and
 * scheduler instances.
 *
 * Threads and ownership
 *   - The control thread (main) owns the table: only it adds, edits or
 *     removes services and servers, always through table_apply().
 *   - Workers reach a service through a listener and a real server through
 *     a session; each of those holds a reference (svc_get/rs_get). An object
 *     leaves the table when removed but lives until its last reference goes.
 *   - svc->lock guards svc->servers, svc->sched, svc->persist, svc->rt and
 *     every rs->ss of the service. It is held only for a pick, a connection
 *     count change, or an edit; never across a syscall.
 *   - Counters are per thread (index weir_thread_id), written only by their
 *     thread without locks and summed on read.
 *   - The layers above (health, XDP, HTTP routes) keep their state of a
 *     service or server in areas of it and follow the table's changes
 *     through hooks (struct table_hooks below): the core calls up only
 *     through those.
 */
#ifndef WEIR_TABLE_H
#define WEIR_TABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/option.h"
#include "core/rate.h"
#include "core/stats.h"
#include "core/spec.h"
#include "core/util.h"
#include "sched/persist.h"
#include "sched/sched.h"

/* Options a layer-4 session needs, copied under svc->lock when it starts. */
struct vs_runtime_l4 {
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;      /* the service's, or the global (spec_idle_timeout) */
	uint32_t fin_timeout_ms;       /* a half-closed session: the global tcpfin */
	uint32_t retries;
	uint8_t send_proxy;
	bool trusts_fronts;            /* accept_proxy is set: ask svc_proxy_trusted() */
};

/* ... and an HTTP session (it keeps the whole copy). */
struct vs_runtime {
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t fin_timeout_ms;
	uint32_t retries;
	uint8_t send_proxy;
	bool trusts_fronts;
	bool ops;                      /* one-packet scheduling */
	uint16_t drain_status;
	char drain_header[64];
	/* the service's option area (mode options, e.g. proxy/http_opts.h);
	 * only its first opt_area_used() bytes are copied */
	unsigned char opts[SPEC_OPTS_MAX] __attribute__((aligned(8)));
};

/* Copies <src> to <dst>: the fields and the part of the option area in use. */
static inline void vs_runtime_copy(struct vs_runtime *dst, const struct vs_runtime *src)
{
	memcpy(dst, src, offsetof(struct vs_runtime, opts) + opt_area_used());
}

struct virtual_service;

struct real_server {
	/* first: svc->servers is also the scheduler's array of sched_server */
	struct sched_server ss;        /* guarded by svc->lock; weight and flags
	                                * are set by the layer of the rs_spec hook */
	struct server_spec spec;       /* as configured; written under svc->lock by
	                                * the control thread, which alone may read
	                                * it without the lock */
	struct weir_addr addr;         /* immutable */
	struct virtual_service *svc;   /* holds a reference */
	atomic_int refcnt;
	bool removed;                  /* out of the table (control thread) */
	struct vs_stats stats;
	/* the connections the server's agent reports ("conns N"), the load a
	 * service of a load_elsewhere mode reads when weir sees none (load.c);
	 * -1 = none reported. Guarded by svc->lock. */
	int64_t load_reported;
	/* the layers' areas (table_rs_area): rules in each layer */
	_Alignas(max_align_t) unsigned char area[];
};

struct virtual_service {
	struct service_spec spec;      /* as configured, servers = NULL; control thread */
	int proto;                     /* immutable: key */
	struct weir_addr addr;         /* immutable: key */
	atomic_int refcnt;
	pthread_mutex_t lock;
	struct real_server **servers;  /* guarded by lock */
	size_t nservers;
	struct sched *sched;           /* guarded by lock */
	struct persist_table *persist; /* guarded by lock; NULL = not persistent */
	struct vs_runtime rt;          /* guarded by lock */
	uint8_t naccept_proxy;         /* guarded by lock */
	struct cidr accept_proxy[SPEC_MAX_CIDRS];
	atomic_uint active;            /* open sessions, for maxconn */
	atomic_uint maxconn;           /* 0 = unlimited */
	atomic_bool wants_rtt;         /* the scheduler reads response times */
	atomic_uint gen;               /* bumped when a server's state, weight or the
	                                * server set changes (a mirror of the table,
	                                * the XDP data path, rebuilds its copy) */
	const struct svc_mode *proxy;  /* NULL = packet mode (= spec.proxy) */
	void *proxy_priv;              /* the proxy's listeners */
	bool removed;                  /* control thread */
	struct vs_stats stats;         /* the whole service */
	/* HTTP: the share of the requests that went to the service's own
	 * servers, not to a pool (pool "default" when it has pools) */
	struct vs_stats own;
	struct virtual_service *next;  /* table list, control thread */
	/* HTTP routing: pools are hidden services (no listener, not in the
	 * table list) with their own servers and scheduler */
	struct virtual_service **pools; /* control thread */
	char (*pool_names)[32];
	size_t npools;
	/* the layers' areas (table_svc_area): rules in each layer */
	_Alignas(max_align_t) unsigned char area[];
};

struct vs_table {
	struct virtual_service *head;  /* in the order services were added */
	int nthreads;                  /* counter slots per object */
	struct weir_config cfg;        /* the config the table matches */
	struct conn_timeouts tmo;      /* cfg's, or during table_apply() the new
	                                * config's, which services take */
};

/*
 * What the layers above the core (health/, xdp/, proxy/...) register with
 * the table, at start-up (src/register.c), before the first service is
 * made; later is a broken invariant (fatal). The core never names them.
 *
 * State areas: a layer reserves bytes in every service or real server and
 * keeps its own state there (health's verdicts, XDP's slot, the HTTP
 * routes), reached by a fixed offset: svc_area(svc, off), no extra pointer
 * load. The core allocates them zeroed with the object and frees them with
 * it, on whatever thread drops the last reference: an area holds nothing
 * that needs freeing then (release it in svc_removed). Which thread and
 * which lock guard each field is the layer's rule, written above its
 * struct; fields the request path reads follow svc->lock like the core's.
 *
 * Hooks: a struct of optional callbacks, called in registration order, on
 * the control thread, during table_apply() unless said otherwise:
 *   svc_new, rs_new    an object was made (pools too): set the area's
 *                      defaults. Not shared yet.
 *   svc_prepare        phase 1, for every service of the new config (not
 *                      pools): the live one to be edited, or the new one
 *                      after its mode's prepare(). The only hook that may
 *                      fail: 0 or -errno with a reason in <err>
 *                      (SPEC_ERR_MAX), and then table_apply() fails with
 *                      nothing changed. Whatever it acquires is for
 *                      svc_applied; a later svc_prepare of the same service
 *                      or its svc_removed releases what was never applied
 *                      (another service may fail first).
 *   svc_spec           a service or pool takes <sp>'s options, new or
 *                      edited. svc->lock held (or not shared yet).
 *   rs_spec            a server takes <sp>, new or edited (once per
 *                      apply). svc->lock held; the scheduler hears of it
 *                      after.
 *                      The layer implementing it sets rs->ss.weight and
 *                      rs->ss.flags (health/: what the checks, the agent
 *                      and the operator say); the core sets only the
 *                      thresholds.
 *   svc_added          a new service joined the table, its mode started
 *                      (not pools).
 *   svc_applied        phase 2: a service of the config (not a pool), its
 *                      servers and pools match <sp>.
 *   svc_removed        a service or pool leaves the table (also a new one
 *                      whose apply failed, and at table_fini()). Workers
 *                      may still hold references to it.
 *   sync               after a successful table_apply(): the whole table.
 *   rs_active          (not during table_apply: whenever the core counts a
 *                      server's load, on the control thread) the active
 *                      connections of <rs> the layer counts outside
 *                      rs->ss (the XDP data path's flows). svc->lock held.
 *   svc_tick           (table_tick, every RATE_INTERVAL_MS) a service or
 *                      pool's periodic work (rates of the layer's own
 *                      counters).
 * (tests/unit/core/test_hooks.c shows the order.) Hooks other than
 * svc_prepare cannot fail: a layer that could not follow a change (out of
 * memory) says so in the log and catches up at the next sync, as the
 * core's own phase 2 does.
 */
struct table_hooks {
	void (*svc_new)(struct virtual_service *svc);
	void (*rs_new)(struct real_server *rs);
	int  (*svc_prepare)(struct virtual_service *svc, const struct service_spec *sp, char *err);
	void (*svc_spec)(struct virtual_service *svc, const struct service_spec *sp);
	void (*rs_spec)(struct real_server *rs, const struct server_spec *sp);
	void (*svc_added)(struct virtual_service *svc);
	void (*svc_applied)(struct virtual_service *svc, const struct service_spec *sp);
	void (*svc_removed)(struct virtual_service *svc);
	void (*sync)(struct vs_table *t);
	uint64_t (*rs_active)(const struct real_server *rs);
	void (*svc_tick)(struct virtual_service *svc, uint64_t now);
};

/* Registers <h> (a static object that lives as long as the program). */
void table_hooks_register(const struct table_hooks *h);
/* Reserves <size> bytes in every service (real server) and returns their
 * offset for svc_area() (rs_area()). */
size_t table_svc_area(size_t size);
size_t table_rs_area(size_t size);

static inline void *svc_area(const struct virtual_service *svc, size_t off)
{
	return (void *)(svc->area + off);
}

static inline void *rs_area(const struct real_server *rs, size_t off)
{
	return (void *)(rs->area + off);
}

int table_init(struct vs_table *t, int nthreads);
/* Removes every service and frees what no one else references. */
void table_fini(struct vs_table *t);

/* Makes the live table match <cfg>: services and servers added, edited and
 * removed; counters and open connections of whatever stays are kept. All
 * resources (listening sockets) are acquired before anything changes, so on
 * error nothing has changed. Returns 0 or -errno with a message in <err>.
 * On success the table keeps a copy of <cfg>. Control thread only. */
int table_apply(struct vs_table *t, const struct weir_config *cfg, char *err);

struct virtual_service *table_find(struct vs_table *t, int proto,
				   const struct weir_addr *addr);

/* References. The last put frees the object. Any thread. */
void svc_get(struct virtual_service *svc);
void svc_put(struct virtual_service *svc);
void rs_get(struct real_server *rs);
void rs_put(struct real_server *rs);

/* Chooses a real server for a new connection from <client>, honouring
 * persistence and skipping the <ntried> servers in <tried>. On success
 * returns the server with a reference and its connection counted active,
 * and copies the service's runtime options to <rt> unless it is NULL. NULL
 * when no server is available. Any thread; takes svc->lock. */
struct real_server *svc_schedule(struct virtual_service *svc,
				 const struct weir_addr *client, uint64_t now,
				 struct real_server *const *tried, int ntried,
				 struct vs_runtime *rt);

/* Copies the service's runtime options to <rt>. Any thread; takes the lock. */
void svc_runtime(struct virtual_service *svc, struct vs_runtime *rt);
void svc_runtime_l4(struct virtual_service *svc, struct vs_runtime_l4 *rt);
/* True if <peer> is a trusted front of <svc> (accept_proxy): it must start
 * with a PROXY protocol header. Any thread; takes the lock. */
bool svc_proxy_trusted(struct virtual_service *svc, const struct weir_addr *peer);

/* Sticky sessions. svc_schedule_to() takes <want> if it is still in the
 * service and may take work (then as svc_schedule()), else returns NULL.
 * svc_schedule_hash() picks with sched_rendezvous() (weighted rendezvous
 * hashing) of <key> over the service's servers, under the lock (so a key
 * stays on its server while that one is up, and few keys move when the set
 * changes); NULL when none is available. */
struct real_server *svc_schedule_to(struct virtual_service *svc, struct real_server *want,
				    const struct weir_addr *client, uint64_t now);
struct real_server *svc_schedule_hash(struct virtual_service *svc, const void *key, size_t len,
				      const struct weir_addr *client, uint64_t now);
/* The opaque, stable id weir's sticky cookie carries for <rs>: a hash of the
 * service and server addresses (16 hex digits + NUL). */
void rs_sticky_id(const struct real_server *rs, char out[17]);
/* Finds the server of <svc> whose sticky id is <id>; a reference or NULL. */
struct real_server *svc_find_sticky(struct virtual_service *svc, const char *id, size_t len);

/* Connection accounting after svc_schedule(): active -> inactive, and the
 * end (which drops the reference svc_schedule() returned). <client> is the
 * address given to svc_schedule(): its persistence template stops counting
 * this connection. */
void svc_conn_deactivate(struct real_server *rs);
/* A response time observed on <rs> (lrt's input): for the TCP proxy the
 * time a connect took, for HTTP the time to the response. */
void svc_observe_rtt(struct real_server *rs, uint64_t rtt_ns, uint64_t now);
void svc_conn_close(struct real_server *rs, bool was_active, const struct weir_addr *client,
		    uint64_t now);

/* The pool of <svc> named <name> (no reference taken), or NULL: "default"
 * or no such pool. Control thread. */
struct virtual_service *svc_pool(struct virtual_service *svc, const char *name);

/* Calls <fn> for every service of the table and every pool of each (pools
 * have <owner> set). Control thread. */
void table_foreach(struct vs_table *t,
		   void (*fn)(struct virtual_service *svc, struct virtual_service *owner,
			      const char *pool, void *arg), void *arg);

/* Control thread: every RATE_INTERVAL_MS, feeds the rate estimators,
 * expires persistence templates, refreshes the load seen elsewhere
 * (table_load_tick) and runs the layers' svc_tick hooks. */
void table_tick(struct vs_table *t, uint64_t now);
/* The active connections of <rs>: its scheduler count and what the layers
 * count outside it (rs_active hooks). svc->lock held; control thread. */
uint64_t rs_active_all(const struct real_server *rs);
/*
 * load.c: gives every server of a service whose mode has load_elsewhere
 * (DNS) the load weir sees on its address elsewhere, as ext_active: when
 * it is a VIP of other services, their servers' active connections (the
 * VIP IP:port, else every VIP on that IP); else when it is a real server
 * of other services, its active connections there (IP:port, else every
 * port of that IP); else what its agent reports (load_reported); else 0.
 * Takes each service's lock in turn, never two at once. Control thread.
 */
void table_load_tick(struct vs_table *t);
/* -Z: zero the counters of one service (or all when <svc> is NULL). */
void table_zero(struct vs_table *t, struct virtual_service *svc);

#endif
