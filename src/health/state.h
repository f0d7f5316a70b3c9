/*
 * state.h - a real server's state, and how it reaches the scheduler.
 *
 * Several voices decide whether a server takes new work: the operator
 * (admin state ready/drain/maint, the weight), active checks (up/down after
 * rise/fall results in a row), the agent (up/drain/down/maint, a weight or
 * a percentage), passive checks (ejected for a cool-off after N failures in
 * a row), the HTTP drain signal, and slow start (a server coming back ramps
 * its weight up). struct rs_health holds what each said, in health's area
 * of the real server (health_rs()); rs_refresh_locked() folds it into the
 * scheduler's flags and weight:
 *
 *   DOWN  = checks failed, ejected, or the agent said down
 *   DRAIN = drained by hand, by the drain signal, or by the agent
 *   MAINT = maintenance by hand or by the agent
 *   weight = the agent's weight, or configured x agent % , x ramp fraction
 *
 * Every function takes svc->lock unless it says "lock held"; none is on
 * the request path except health_passive(), which takes no lock until a
 * server is to be ejected.
 */
#ifndef WEIR_HEALTH_STATE_H
#define WEIR_HEALTH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/table.h"

/* What the agent said last (rs_health.agent). */
#define AGENT_NONE  0
#define AGENT_UP    1
#define AGENT_DRAIN 2
#define AGENT_DOWN  3
#define AGENT_MAINT 4

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_DRAINING };

/* Why a real server may or may not take work, beyond its configured
 * weight: everything health checking and the operator decide. Guarded by
 * svc->lock; rs_refresh_locked() turns it into ss.flags and ss.weight. */
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
	uint64_t check_ms;          /* when it ended (wall clock, ms); 0 = none yet */
	char agent_last[64];
};

/* Health's area of a real server (table_rs_area; health.c registers it). */
struct health_rs {
	struct rs_health h;           /* guarded by svc->lock */
	atomic_uint fails_in_row;     /* passive checks: any thread, no lock */
	void *checks[2];              /* check.c: its active check and agent
	                               * objects (control thread) */
};

/* ... and of a service or pool: its passive-check and slow-start options. */
struct health_svc {
	struct outlier_spec outlier;  /* guarded by svc->lock */
	atomic_uint outlier_errors;   /* outlier.errors, read without the lock */
	uint32_t slow_start_ms;       /* guarded by svc->lock */
	atomic_bool busy;             /* a server ramps up or is ejected: the
	                               * tick has work (any thread) */
};

extern size_t health_rs_off, health_svc_off;

static inline struct health_rs *health_rs(const struct real_server *rs)
{
	return rs_area(rs, health_rs_off);
}

static inline struct health_svc *health_svc(const struct virtual_service *svc)
{
	return svc_area(svc, health_svc_off);
}

/* The table's hooks (health.c registers them): a server's defaults; the
 * service's outlier and slow-start options; a server's configured weight
 * and admin state (logged when set by hand). Lock held, or not shared. */
void health_rs_new(struct real_server *rs);
void health_svc_spec(struct virtual_service *svc, const struct service_spec *sp);
void health_rs_spec(struct real_server *rs, const struct server_spec *sp);

/* Recomputes rs->ss.flags and rs->ss.weight; tells the scheduler when they
 * changed and the server is in its set. Lock held. */
void rs_refresh_locked(struct real_server *rs, uint64_t now);
/* The same without telling the scheduler: for a caller that gives the
 * scheduler its whole server set right after (a table edit). */
void rs_recompute_locked(struct real_server *rs, uint64_t now);

/* An active check finished: <what> says how ("HTTP 200", "connection
 * refused"), <us> how long it took. Returns true while the server is
 * changing state (the next check comes at the fast interval). */
bool health_check_done(struct real_server *rs, const struct check_spec *c,
		       enum check_result r, const char *what, uint32_t us);

/* An agent answer: the parsed line, or ok = false when the agent could not
 * be reached (that changes nothing: the agent is advisory). */
struct agent_answer {
	uint8_t state;        /* AGENT_*; AGENT_NONE = not said */
	int32_t pct;          /* weight percentage; -1 = not said */
	int32_t weight;       /* absolute weight; -1 = not said */
	int32_t conns;        /* "conns N": its connections; -1 = not said */
};
/* Parses an agent's line: words separated by blanks or commas, e.g.
 * "up 75%", "drain", "down", "weight 40", "maint", "ready", and weir's
 * "conns N" (the connections the server has: the load a DNS service's
 * lc/wlc read when weir sees none; HAProxy's protocol has no such word,
 * and HAProxy itself refuses a line with it). Returns 0 or
 * -EINVAL with a reason in <err> (128 bytes). Pure. */
int agent_parse(const char *line, size_t len, struct agent_answer *out, char *err);
void health_agent_done(struct real_server *rs, bool ok, const struct agent_answer *a,
		       const char *what);

/* Passive checks, on the request path: the outcome of a connection or
 * request to <rs> (ok = connected and answered below 500). */
void health_passive(struct real_server *rs, bool ok);

/* `weirctl server ... ready`: forget a drain signal and an ejection. */
void health_server_ready(struct real_server *rs);

/* The HTTP proxy saw <rs> answer the drain signal: no new work. Any
 * thread; takes the lock. */
void svc_server_drain(struct real_server *rs);

/* Control thread, every HEALTH_TICK_MS: ends ejections, steps slow starts. */
#define HEALTH_TICK_MS 100
void health_tick(struct vs_table *t, uint64_t now);

/* "up", "down", "drain", "maint", "ejected", "quiesced", "standby" (a
 * backup while a primary serves). Lock held. */
const char *rs_state_name(const struct real_server *rs);

#endif
