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
 */
#ifndef WEIR_TABLE_H
#define WEIR_TABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/rate.h"
#include "core/spec.h"
#include "core/util.h"
#include "sched/persist.h"
#include "sched/sched.h"

/* Response times are counted in a log-linear histogram: 4 buckets per
 * power of two of microseconds, from 1 us to about 17 s (the last bucket
 * takes everything above). */
#define RT_BUCKETS 96
#define RT_WINDOW_SNAPS 4            /* p99 window: snapshots ... */
#define RT_SNAP_TICKS 8              /* ... every 8 rate ticks (16 s) */

/* One thread's share of an object's counters, on its own cache lines. */
struct vs_counters {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	/* HTTP */
	uint64_t requests;
	uint64_t resp[6];        /* by status class: [1]..[5]; [0] none sent */
	uint64_t retries;
	uint64_t resp_time_us;   /* sum, to the first response byte */
	uint64_t resp_timed;     /* how many the sum and histogram hold */
	uint64_t rt_hist[RT_BUCKETS];
} __attribute__((aligned(CACHELINE)));

/* What the control thread derives from the counters every rate tick. */
struct vs_derived {
	uint64_t rt_ewma_us;      /* response time, moving average */
	uint64_t last_timed, last_rt_sum;
	uint64_t snaps[RT_WINDOW_SNAPS][RT_BUCKETS]; /* histogram history */
	uint32_t snap_next, nsnaps, ticks;
};

struct vs_stats {
	struct vs_counters *pt;   /* [table nthreads] */
	struct rate_est est;      /* control thread only */
	struct rate_totals zero;  /* totals at the last -Z */
	uint64_t zero_resp[6], zero_retries, zero_rt_sum, zero_timed; /* ditto */
	struct vs_derived *d;     /* control thread only */
};

/* Options a layer-4 session needs, copied under svc->lock when it starts. */
struct vs_runtime_l4 {
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t retries;
	uint8_t send_proxy;
	bool trusts_fronts;            /* accept_proxy is set: ask svc_proxy_trusted() */
};

/* ... and an HTTP session (it keeps the whole copy). */
struct vs_runtime {
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t retries;
	uint8_t send_proxy;
	bool trusts_fronts;
	struct http_opts http;
};

struct virtual_service;

/* Why a real server may or may not take work, beyond its configured
 * weight: everything health checking and the operator decide. Guarded by
 * svc->lock; health/state.c turns it into ss.flags and ss.weight. */
struct rs_health {
	uint32_t weight;          /* the configured weight */
	uint8_t admin;            /* enum admin_state (UNSET = ready) */
	bool down;                /* active checks failed <fall> times */
	bool drain_signal;        /* answered the HTTP drain signal */
	uint8_t agent;            /* AGENT_*: what the agent said last */
	uint16_t agent_pct;       /* weight percentage the agent asked (100) */
	uint32_t agent_weight;    /* weight the agent asked; 0 = none */
	uint8_t rise, fall;       /* results in a row against the state */
	uint64_t ejected_until;   /* passive checks: out until (ms); 0 = in */
	uint64_t back_ms;         /* when the last ejection ended */
	uint32_t ejections;       /* ejections in a row: the cool-off grows */
	uint64_t ramp_start;      /* slow start since (ms); 0 = full weight */
	uint64_t changed_ms;      /* last state change (wall clock, ms) */
	char reason[96];          /* of the last state change */
	/* the last active check and agent answer, for listings */
	char check_last[64];
	uint32_t check_us;
	char agent_last[64];
};

struct real_server {
	struct sched_server ss;        /* guarded by svc->lock */
	struct server_spec spec;       /* as configured; control thread only */
	struct weir_addr addr;         /* immutable */
	struct virtual_service *svc;   /* holds a reference */
	atomic_int refcnt;
	bool removed;                  /* out of the table (control thread) */
	struct rs_health h;            /* guarded by svc->lock */
	atomic_uint fails_in_row;      /* passive checks, lock-free */
	void *checks[2];               /* health/check.c: active, agent (control) */
	int xdp_idx;                   /* xdp/: its slot in the data path; -1 = none */
	uint64_t xdp_active;           /* xdp/: open flows the data path counts */
	struct vs_stats stats;
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
	struct outlier_spec outlier;   /* guarded by lock */
	atomic_uint outlier_errors;    /* outlier.errors, read without the lock */
	uint32_t slow_start_ms;        /* guarded by lock */
	atomic_bool health_busy;       /* a server ramps up or is ejected */
	atomic_uint gen;               /* bumped when a server's state, weight or the
	                                * server set changes (xdp/ rebuilds tables) */
	int xdp_id;                    /* xdp/: its slot in the data path; -1 = none */
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
	struct route_table *routes;    /* the pointer is guarded by lock */
	atomic_bool has_routes;        /* lets a request skip the lock when none */
};

struct vs_table {
	struct virtual_service *head;  /* in the order services were added */
	int nthreads;                  /* counter slots per object */
	struct weir_config cfg;        /* the config the table matches */
};

/* The calling thread's counter slot: workers 0..n-1, control thread n. */
extern _Thread_local int weir_thread_id;

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

/* Marks <rs> draining (it answered the drain signal): no new work. */
void svc_server_drain(struct real_server *rs);

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

/* The service's routing rules with a reference (route_table_put() it), or
 * NULL when it has none. Any thread. */
struct route_table *svc_routes_get(struct virtual_service *svc);

/* Counter updates from the calling thread. */
static inline struct vs_counters *stats_mine(struct vs_stats *s)
{
	return &s->pt[weir_thread_id];
}
void stats_sum(const struct vs_stats *s, int nthreads, struct rate_totals *out);
/* One response time, into the sum and the histogram. */
void stats_observe_rt(struct vs_counters *c, uint64_t us);
/* The bucket of <us>, and the upper bound of bucket <b> in us. */
unsigned rt_bucket(uint64_t us);
uint64_t rt_bucket_upper(unsigned b);

/* Everything the listings, JSON and /metrics show of one object: totals
 * since the last -Z (all of them), rates, response times. */
struct stats_view {
	struct rate_totals tot;
	struct rate_value rate;
	uint64_t requests, resp[6], retries, rt_sum_us, timed;
	uint64_t rps;             /* requests per second (rate estimator) */
	uint64_t rt_ewma_us, p99_us;
};
void stats_view(const struct vs_stats *s, int nthreads, struct stats_view *out);

/* Calls <fn> for every service of the table and every pool of each (pools
 * have <owner> set). Control thread. */
void table_foreach(struct vs_table *t,
		   void (*fn)(struct virtual_service *svc, struct virtual_service *owner,
			      const char *pool, void *arg), void *arg);

/* Control thread: every RATE_INTERVAL_MS, feeds the rate estimators and
 * expires persistence templates. */
void table_tick(struct vs_table *t, uint64_t now);
/* -Z: zero the counters of one service (or all when <svc> is NULL). */
void table_zero(struct vs_table *t, struct virtual_service *svc);

#endif
