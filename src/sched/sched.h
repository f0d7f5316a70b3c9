/*
 * sched.h - the scheduler library: which real server gets the next
 * connection or request.
 *
 * This library is pure: no syscalls, no sockets, no clocks, no globals other
 * than the constant registry of algorithms. Time and randomness come in
 * through the request. Every forwarding mode (TCP proxy, HTTP proxy, DNS
 * answers, the XDP table builder) uses the same code.
 *
 * Each algorithm fills a `struct sched_ops` and is listed in the registry
 * (sched.c); callers find one by name and never switch on a name.
 *
 * Ownership and threads
 *   - The caller owns every `struct sched_server` (it embeds one in its own
 *     real-server object) and the array of pointers handed to
 *     sched_set_servers(). The array is copied; a server must stay valid
 *     until the sched_set_servers() call that removes it has returned (the
 *     library sets its idx to -1 there), or until sched_destroy(). A server
 *     belongs to at most one instance at a time. Zero a new sched_server
 *     before its first use; the library maintains idx, last_weight,
 *     upper_seen and the OVERLOAD and STANDBY flags.
 *   - A `struct sched` is not thread-safe. The caller serialises every call
 *     on one instance (weir holds the service lock).
 *   - Connection counts (active/inactive, ext_active) live in the
 *     sched_server and are changed only through sched_conn_*() and
 *     sched_server_load(), so that algorithms keeping an
 *     ordered structure (the lc family's tree, the indexes of who may take
 *     work) stay in sync and overload thresholds are applied with IPVS
 *     semantics. Weights, thresholds, backup and DOWN/DRAIN/MAINT are
 *     changed by the caller, followed by sched_server_changed().
 *   - Failover order: while any primary (backup = false) of a set is
 *     eligible, its backups carry SCHED_SRV_STANDBY; once none is, the
 *     primaries carry it and the backups serve. The library recomputes it
 *     whenever the set, a server or an OVERLOAD flag changes, so every
 *     algorithm (and a copy of the servers, as the XDP table builder
 *     makes) sees only the serving tier through sched_server_available().
 */
#ifndef WEIR_SCHED_H
#define WEIR_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Server flags, set by the caller (health, admin) except OVERLOAD. */
#define SCHED_SRV_DOWN      0x01u /* failed health checks: no new work */
#define SCHED_SRV_DRAIN     0x02u /* draining: no new work, existing finish */
#define SCHED_SRV_MAINT     0x04u /* maintenance, set by hand */
#define SCHED_SRV_OVERLOAD  0x08u /* above its upper threshold (library-set) */
/* Library-set, failover order (sched_server.backup): the server is not in
 * the tier that serves: a backup while a primary of its set may take work,
 * or a primary while the backups serve (then it may not anyway). No new
 * work; the hashing schedulers leave it out of their tables. */
#define SCHED_SRV_STANDBY   0x10u
/* The flags the library maintains: a caller recomputing the others keeps
 * these as they are. */
#define SCHED_SRV_LIBRARY   (SCHED_SRV_OVERLOAD | SCHED_SRV_STANDBY)

/* The scheduler's view of a real server. Embedded in the caller's object. */
struct sched_server {
	uint32_t weight;    /* weight in effect; 0 = quiesced, no new work */
	uint32_t upper;     /* -x: overloaded at active+inactive >= upper; 0 = none */
	uint32_t lower;     /* -y: overload cleared below it; 0 = 3/4 of upper */
	uint32_t active;    /* active connections (via sched_conn_*) */
	uint32_t inactive;  /* inactive connections, IPVS sense */
	uint32_t flags;     /* SCHED_SRV_* */
	/* Active connections the server has elsewhere, outside this set (the
	 * load another service or an agent sees on it), set by the caller
	 * with sched_server_load(). The algorithms that read active counts
	 * (lc, wlc, sed, nq, lblc, lblcr, p2c, lrt, ovf, twos) read active +
	 * this. */
	uint32_t ext_active;
	/* Failover order, set by the caller (then sched_server_changed): a
	 * backup takes new work only while no primary of its set can. */
	bool backup;
	uint64_t rtt_ewma_ns; /* lrt: peak-EWMA response time (sched_observe_rtt) */
	uint64_t rtt_stamp_ms; /* lrt: when rtt_ewma_ns was last updated */
	/* identity, hashed by mh: fixed while the server is in a set */
	uint8_t addr[16];   /* server address (v4 in the first 4 bytes), for hashing */
	uint16_t port;      /* server port, host order */
	uint8_t family;     /* 4 or 6 */
	int32_t idx;        /* position in the current set; -1 when not in it
	                     * (maintained by the library) */
	uint32_t last_weight; /* library: latest non-zero weight, or the weight
	                       * it joined the set with (IPVS last_weight; mh
	                       * keeps a quiesced server's table slots) */
	uint32_t upper_seen;  /* library: the upper threshold last applied
	                       * (raising or removing it clears OVERLOAD) */
};

/* What a pick may depend on. Everything is optional except now_ms. */
struct sched_req {
	const uint8_t *src;    /* client address bytes (4 or 16), or NULL */
	uint8_t src_len;       /* 4 or 16 */
	uint16_t src_port;     /* client port, host order (mh-port, sh-port) */
	const void *lkey;      /* locality key: destination address in packet
	                        * mode, Host+path in HTTP mode; NULL = none */
	size_t lkey_len;
	uint64_t now_ms;       /* monotonic milliseconds */
	const uint64_t *skip;  /* bitmap over server idx: already tried, skip;
	                        * NULL = none */
};

/* Per-service scheduler options (ipvsadm -b/--sched-flags and weir's own). */
struct sched_params {
	uint32_t flags;          /* SCHED_F_* */
	uint32_t mh_table_size;  /* mh: prime table size, 0 = 65537 */
	uint32_t lblc_expire_ms; /* lblc/lblcr: entry lifetime, 0 = 24 h (IPVS) */
	uint64_t seed;           /* random seed (p2c, lrt) */
	uint32_t lrt_decay_ms;   /* lrt: EWMA decay time constant, 0 = 10 s */
};
#define SCHED_F_FALLBACK 0x01u /* sh/mh: an unavailable server falls through */
#define SCHED_F_PORT     0x02u /* sh/mh: hash the source port too */

struct sched;

/* One algorithm. `state` is the instance's private area of state_size. */
struct sched_ops {
	const char *name;
	const char *descr;        /* one line for `weirctl --help` */
	size_t state_size;
	int  (*init)(struct sched *s);
	void (*fini)(struct sched *s);
	/* The server set or a server's weight/flags changed; rebuild tables.
	 * During the call s->prev_srv/prev_nsrv hold the previous set (the
	 * same as srv/nsrv when only a server changed); a server of it that
	 * left the set has idx -1. On error the previous state must be left
	 * intact: the caller restores the previous set. */
	int  (*update)(struct sched *s);
	/* Returns the chosen server's idx, or -1 if none is available. */
	int  (*pick)(struct sched *s, const struct sched_req *req);
	/* Optional: a server's connection counts (and so maybe its OVERLOAD
	 * flag) changed; only called for servers in the set. */
	void (*conn_changed)(struct sched *s, struct sched_server *srv);
	/* Optional (dh, sh, mh): the static lookup table, slot -> idx or -1;
	 * returns its size. */
	uint32_t (*table)(const struct sched *s, const int32_t **slots);
	/* Traits: what the rest of the program asks about an algorithm,
	 * instead of comparing its name. */
	/* The algorithm reads response times: callers feed sched_observe_rtt()
	 * (and may skip it for the others). */
	bool uses_rtt;
	/* A pick is a hash of the request (SCHED_HASH_*): the same key goes to
	 * the same server, through the static table of .table. */
	uint8_t hash;
	/* The size of its table is the caller's choice (params.mh_table_size):
	 * a mirror of the table (the XDP data path) sets the size it holds. */
	bool table_sized;
	/* Its picks follow connection counts or chance: a precomputed
	 * sequence of picks goes stale and must be recomputed periodically. */
	bool periodic;
	/* It reads SCHED_F_* (ipvsadm -b sh-port, mh-fallback...); the flags
	 * are an error for the others. */
	bool takes_flags;
};

/* What a hashing algorithm's table is keyed by (sched_ops.hash). */
#define SCHED_HASH_NONE 0 /* not a hashing algorithm */
#define SCHED_HASH_SRC  1 /* the client address (and port with SCHED_F_PORT) */
#define SCHED_HASH_DST  2 /* the locality key (the destination) */

/* An instance: an algorithm bound to a server set. */
struct sched {
	const struct sched_ops *ops;
	struct sched_params params;
	struct sched_server **srv; /* current set, owned copy of the array */
	size_t nsrv;
	uint64_t rng;              /* xorshift state, from params.seed */
	bool has_backup;           /* a server of the set is a backup */
	bool backups_serve;        /* ... and no primary is eligible */
	void *state;               /* ops->state_size bytes */
	struct sched_server **prev_srv; /* previous set, valid during update() */
	size_t prev_nsrv;
};

/* Looks up an algorithm by name; NULL if unknown. */
const struct sched_ops *sched_find(const char *name);
/* Calls <fn> for each registered algorithm, in registry order. */
void sched_foreach(void (*fn)(const struct sched_ops *ops, void *arg), void *arg);

/* Creates an instance of <ops> with no servers. Returns NULL on ENOMEM or
 * a NULL <ops>. */
struct sched *sched_create(const struct sched_ops *ops, const struct sched_params *p);
/* Frees <s>. Its servers' idx are not touched: empty the set first
 * (sched_set_servers(s, NULL, 0)) unless they now belong to another
 * instance, as when a service's scheduler is replaced. */
void sched_destroy(struct sched *s);

/* Replaces the server set with <srv>[0..n); the array order is IPVS's list
 * order (first in list wins ties). Returns 0 or -errno: -ENOMEM, -EINVAL
 * for n above SCHED_MAX_SERVERS, a server listed twice, or (mh) more
 * servers than table slots. On error the old set stays. */
#define SCHED_MAX_SERVERS 65536
int sched_set_servers(struct sched *s, struct sched_server *const *srv, size_t n);
/* A server's weight, thresholds, backup or DOWN/DRAIN/MAINT flags changed:
 * applies IPVS's threshold rule, the failover order (STANDBY) and rebuilds
 * what depends on them (O(n); mh only when a weight or a tier changed).
 * Returns 0 or -ENOMEM. */
int sched_server_changed(struct sched *s, struct sched_server *srv);
/* Sets <srv>'s active connections elsewhere (ext_active) to <n>; the
 * ordered structures follow (O(log n)). */
void sched_server_load(struct sched *s, struct sched_server *srv, uint32_t n);

/* Picks a server for <req>. Returns its idx in the set, or -1 when none is
 * available (all down, drained, quiesced, overloaded or skipped; for dh,
 * sh and mh, when the key's own server is, unless SCHED_F_FALLBACK). A
 * retry (req->skip) may cost O(n) where a plain pick is O(1) or O(log n). */
int sched_pick(struct sched *s, const struct sched_req *req);

/* Connection accounting, IPVS style. A new connection starts active. They
 * also work for a server no longer in the set (idx -1): counters and the
 * OVERLOAD flag only. */
void sched_conn_open(struct sched *s, struct sched_server *srv);
void sched_conn_deactivate(struct sched *s, struct sched_server *srv); /* active -> inactive */
void sched_conn_close(struct sched *s, struct sched_server *srv, bool was_active);

/* The static table of a hashing scheduler (dh, sh, mh): sets *<slots> to
 * its slot -> idx array (-1 = no server) and returns its size; 0 if the
 * algorithm has none. Valid until the next call that changes the set or a
 * server. For inspection (weirctl) and for mirroring into a BPF map. */
uint32_t sched_table(const struct sched *s, const int32_t **slots);

/* Simulates the next <len> picks of <ops> over copies of <srv>[0..n) (their
 * weights, flags, thresholds and connection counts), each pick counted as a
 * new connection on its copy, as if that many connections arrived before
 * any ended; the originals are not touched. Writes the picked positions to
 * <out> and returns how many were made (fewer when no server can take
 * one), or -ENOMEM. For the XDP data path, which walks such a sequence. */
int sched_sequence(const struct sched_ops *ops, const struct sched_params *p,
		   struct sched_server *const *srv, size_t n, const struct sched_req *req,
		   int32_t *out, uint32_t len);

/* Weighted rendezvous hashing (highest random weight): the position in
 * <srv>[0..n) of the available server with the highest score for <key>,
 * -w / ln(u) with u uniform in (0, 1) from a hash of the key and the
 * server's address and port; -1 when none is available. A key stays on its
 * server while that one is available, whatever else joins or leaves; when
 * a server joins, only the keys it now wins move (about w/W of them); the
 * share of keys of a server follows its weight. Pure: no state, the same
 * answer in every process. For sticky sessions keyed by a cookie or a
 * header value. */
int sched_rendezvous(struct sched_server *const *srv, size_t n, const void *key, size_t len);

/* Stable 64-bit hashing for ids that must agree across processes and
 * restarts: FNV-1a of <p>[0..n) continued from <h> (start from
 * SCHED_FNV64_BASIS), and a finaliser that spreads its bits. */
#define SCHED_FNV64_BASIS 0xcbf29ce484222325ull
uint64_t sched_fnv1a64(uint64_t h, const void *p, size_t n);
uint64_t sched_mix64(uint64_t x);

/* lrt: record one observed response time for <srv>. */
void sched_observe_rtt(struct sched *s, struct sched_server *srv,
		       uint64_t rtt_ns, uint64_t now_ms);

/* True if <srv> could take new work by its own state (not down, drained,
 * in maintenance or overloaded, weight > 0), whatever its tier. */
static inline bool sched_server_eligible(const struct sched_server *srv)
{
	return srv->weight > 0 &&
	       !(srv->flags & (SCHED_SRV_DOWN | SCHED_SRV_DRAIN |
			       SCHED_SRV_MAINT | SCHED_SRV_OVERLOAD));
}

/* True if <srv> may take new work: eligible and in the tier that serves
 * (not a backup held in standby). */
static inline bool sched_server_available(const struct sched_server *srv)
{
	return sched_server_eligible(srv) && !(srv->flags & SCHED_SRV_STANDBY);
}

/* The active connections the load-reading algorithms count: those of the
 * set and those elsewhere (ext_active), saturated. */
static inline uint32_t sched_active(const struct sched_server *srv)
{
	uint64_t a = (uint64_t)srv->active + srv->ext_active;

	return a > UINT32_MAX ? UINT32_MAX : (uint32_t)a;
}

/* Greatest common divisor (wrr's step, mh's turns, the XDP cycle). */
static inline uint32_t sched_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static inline bool sched_skipped(const struct sched_req *req, int idx)
{
	return req->skip && (req->skip[idx >> 6] >> (idx & 63)) & 1u;
}

#endif
