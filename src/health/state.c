/* state.c - a real server's state (see state.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/healthspec.h"
#include "core/log.h"
#include "health/state.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t health_rs_off, health_svc_off;

void health_rs_new(struct real_server *rs)
{
	health_rs(rs)->h.agent_pct = 100;
}

void health_svc_spec(struct virtual_service *svc, const struct service_spec *sp)
{
	struct health_svc *hs = health_svc(svc);

	hs->outlier = sp->outlier;
	atomic_store_explicit(&hs->outlier_errors, sp->outlier.errors, memory_order_relaxed);
	hs->slow_start_ms = sp->slow_start_ms;
}

void health_rs_spec(struct real_server *rs, const struct server_spec *sp)
{
	struct rs_health *h = &health_rs(rs)->h;

	if (h->admin != sp->admin && (h->admin > ADMIN_READY || sp->admin > ADMIN_READY)) {
		char a[ADDR_STRLEN], b[ADDR_STRLEN];

		snprintf(h->reason, sizeof(h->reason), "set to %s by hand",
			 admin_state_name(sp->admin ? (enum admin_state)sp->admin : ADMIN_READY));
		log_info("%s %s -> %s: real server %s", proto_name(rs->svc->proto),
			 addr_str(&rs->svc->addr, a), addr_str(&rs->addr, b), h->reason);
	}
	h->weight = sp->weight;
	h->admin = sp->admin;
	rs_recompute_locked(rs, now_ms());
}

#define OUT_FLAGS (SCHED_SRV_DOWN | SCHED_SRV_MAINT)

static void refresh(struct real_server *rs, uint64_t now, bool tell)
{
	struct virtual_service *svc = rs->svc;
	struct health_svc *hs = health_svc(svc);
	struct rs_health *h = &health_rs(rs)->h;
	uint32_t flags = rs->ss.flags & SCHED_SRV_LIBRARY;
	uint64_t w;

	if (h->down || h->ejected_until || h->agent == AGENT_DOWN)
		flags |= SCHED_SRV_DOWN;
	if (h->admin == ADMIN_DRAIN || h->drain_signal || h->agent == AGENT_DRAIN)
		flags |= SCHED_SRV_DRAIN;
	if (h->admin == ADMIN_MAINT || h->agent == AGENT_MAINT)
		flags |= SCHED_SRV_MAINT;
	if (h->agent_weight)
		w = h->agent_weight;
	else
		w = ((uint64_t)h->weight * h->agent_pct + 50) / 100;
	if (!w && h->weight && h->agent_pct && !h->agent_weight)
		w = 1; /* a small percentage of a small weight still takes work */
	if (w > 65535)
		w = 65535;
	/* slow start: a server coming back from down or maintenance */
	if ((rs->ss.flags & OUT_FLAGS) && !(flags & OUT_FLAGS) && hs->slow_start_ms)
		h->ramp_start = now ? now : 1;
	if (h->ramp_start) {
		uint64_t t = now - h->ramp_start;

		if (now < h->ramp_start || t >= hs->slow_start_ms || !hs->slow_start_ms) {
			h->ramp_start = 0;
		} else {
			uint64_t r = w * t / hs->slow_start_ms;

			w = w ? MAX(r, 1) : 0;
			atomic_store_explicit(&hs->busy, true, memory_order_relaxed);
		}
	}
	if (flags != rs->ss.flags || w != rs->ss.weight) {
		rs->ss.flags = flags;
		rs->ss.weight = (uint32_t)w;
		atomic_fetch_add_explicit(&svc->gen, 1, memory_order_relaxed);
		if (tell && rs->ss.idx >= 0 && svc->sched)
			sched_server_changed(svc->sched, &rs->ss);
	}
}

void rs_refresh_locked(struct real_server *rs, uint64_t now)
{
	refresh(rs, now, true);
}

void rs_recompute_locked(struct real_server *rs, uint64_t now)
{
	refresh(rs, now, false);
}

/* "TCP 10.0.0.1:80 -> 10.0.0.11:80" for the log. */
static void rs_name(const struct real_server *rs, char *out, size_t size)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	snprintf(out, size, "%s %s -> %s", proto_name(rs->svc->proto),
		 addr_str(&rs->svc->addr, a), addr_str(&rs->addr, b));
}

/* Records why and when <rs>'s state changed. Lock held. */
static void note_change(struct real_server *rs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_change(struct real_server *rs, const char *fmt, ...)
{
	struct rs_health *h = &health_rs(rs)->h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
	va_end(ap);
	h->changed_ms = wall_ms();
}

bool health_check_done(struct real_server *rs, const struct check_spec *c,
		       enum check_result r, const char *what, uint32_t us)
{
	struct virtual_service *svc = rs->svc;
	struct rs_health *h = &health_rs(rs)->h;
	const char *became = NULL;
	char reason[sizeof(h->reason)];
	bool changing;

	pthread_mutex_lock(&svc->lock);
	snprintf(h->check_last, sizeof(h->check_last), "%s", what);
	h->check_us = us;
	h->check_ms = wall_ms();
	if (r == CHECK_DRAINING) {
		h->rise = h->fall = 0;
		if (!h->drain_signal) {
			h->drain_signal = true;
			note_change(rs, "check answered the drain signal (%s)", what);
			became = "draining";
		}
	} else if (r == CHECK_PASS) {
		h->fall = 0;
		if (h->down && ++h->rise >= c->rise) {
			h->down = false;
			h->rise = 0;
			h->drain_signal = false; /* restarted: its drain is over */
			note_change(rs, "check passed: %s", what);
			became = "up";
		} else if (!h->down) {
			h->rise = 0;
		}
	} else {
		h->rise = 0;
		if (!h->down && ++h->fall >= c->fall) {
			h->down = true;
			h->fall = 0;
			note_change(rs, "check failed: %s", what);
			became = "down";
		} else if (h->down) {
			h->fall = 0;
		}
	}
	changing = h->rise || h->fall;
	rs_refresh_locked(rs, now_ms());
	snprintf(reason, sizeof(reason), "%s", h->reason);
	pthread_mutex_unlock(&svc->lock);
	if (became) {
		char name[3 * ADDR_STRLEN];

		rs_name(rs, name, sizeof(name));
		if (strcmp(became, "down") == 0)
			log_warn("%s: real server is down: %s", name, reason);
		else
			log_info("%s: real server is %s: %s", name, became, reason);
	}
	return changing;
}

/* --- the agent --------------------------------------------------------------- */

int agent_parse(const char *line, size_t len, struct agent_answer *out, char *err)
{
	static const struct { const char *word; uint8_t state; } states[] = {
		{ "up", AGENT_UP }, { "ready", AGENT_UP }, { "drain", AGENT_DRAIN },
		{ "down", AGENT_DOWN }, { "fail", AGENT_DOWN }, { "failed", AGENT_DOWN },
		{ "stopped", AGENT_DOWN }, { "maint", AGENT_MAINT },
	};
	struct agent_answer a = { AGENT_NONE, -1, -1, -1 };
	bool want_weight = false, want_conns = false;
	size_t i = 0;

	while (i < len) {
		char w[32];
		size_t n = 0;
		bool known = false;

		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == ',' ||
				   line[i] == '\r' || line[i] == '\n'))
			i++;
		if (i == len)
			break;
		while (i < len && !strchr(" \t,\r\n", line[i])) {
			if (n + 1 >= sizeof(w) || !line[i]) {
				snprintf(err, 128, "a word longer than %zu characters", sizeof(w) - 1);
				return -EINVAL;
			}
			w[n++] = (char)tolower((unsigned char)line[i++]);
		}
		w[n] = '\0';
		if (want_conns) {
			char *end;
			unsigned long v = strtoul(w, &end, 10);

			if (!isdigit((unsigned char)w[0]) || *end || v > INT32_MAX) {
				snprintf(err, 128, "'%s' is not a number of connections", w);
				return -EINVAL;
			}
			a.conns = (int32_t)v;
			want_conns = false;
			continue;
		}
		if (strcmp(w, "conns") == 0) {
			want_conns = true;
			continue;
		}
		if (want_weight || isdigit((unsigned char)w[0])) {
			char *end;
			unsigned long v = strtoul(w, &end, 10);

			if (end != w && *end == '%' && !end[1] && !want_weight && v <= 1000) {
				a.pct = (int32_t)v;
				continue;
			}
			if (end == w || *end || v > 65535) {
				snprintf(err, 128, "'%s' is not a weight (0..65535) or a percentage", w);
				return -EINVAL;
			}
			a.weight = (int32_t)v;
			want_weight = false;
			continue;
		}
		if (strcmp(w, "weight") == 0) {
			want_weight = true;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(states); k++)
			if (strcmp(w, states[k].word) == 0) {
				a.state = states[k].state;
				known = true;
			}
		if (!known) {
			snprintf(err, 128, "unknown word '%s'", w);
			return -EINVAL;
		}
	}
	if (want_weight || want_conns) {
		snprintf(err, 128, "'%s' without a number", want_weight ? "weight" : "conns");
		return -EINVAL;
	}
	if (a.state == AGENT_NONE && a.pct < 0 && a.weight < 0 && a.conns < 0) {
		snprintf(err, 128, "an empty answer");
		return -EINVAL;
	}
	*out = a;
	return 0;
}

static const char *agent_state_name(uint8_t s)
{
	static const char *const names[] = { "none", "up", "drain", "down", "maint" };

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

void health_agent_done(struct real_server *rs, bool ok, const struct agent_answer *a,
		       const char *what)
{
	struct virtual_service *svc = rs->svc;
	struct rs_health *h = &health_rs(rs)->h;
	uint8_t was_state, now_state;
	uint32_t was_w, now_w;
	bool new_answer;
	char reason[sizeof(h->reason)] = "";

	pthread_mutex_lock(&svc->lock);
	was_state = h->agent;
	was_w = rs->ss.weight;
	new_answer = strncmp(h->agent_last, what, sizeof(h->agent_last) - 1) != 0;
	snprintf(h->agent_last, sizeof(h->agent_last), "%s", what);
	if (ok) {
		if (a->state != AGENT_NONE)
			h->agent = a->state;
		if (a->pct >= 0) {
			h->agent_pct = (uint16_t)a->pct;
			h->agent_weight = 0;
		}
		if (a->weight >= 0) {
			h->agent_weight = (uint32_t)a->weight;
			h->agent_pct = 100;
			if (!a->weight) /* "weight 0": quiesce */
				h->agent_pct = 0;
		}
		if (a->conns >= 0)
			rs->load_reported = a->conns;
		if (h->agent != was_state) {
			note_change(rs, "agent said %s", what);
			snprintf(reason, sizeof(reason), "%s", h->reason);
		}
		rs_refresh_locked(rs, now_ms());
	}
	now_state = h->agent;
	now_w = rs->ss.weight;
	pthread_mutex_unlock(&svc->lock);
	if (!ok && new_answer) {
		char name[3 * ADDR_STRLEN];

		/* the agent is advisory: nothing changes, but say why not (once) */
		rs_name(rs, name, sizeof(name));
		log_info("%s: agent: %s; state unchanged", name, what);
	} else if (reason[0] || now_w != was_w) {
		char name[3 * ADDR_STRLEN];

		rs_name(rs, name, sizeof(name));
		log_info("%s: agent: %s -> %s, weight %u -> %u (answer '%s')", name,
			 agent_state_name(was_state), agent_state_name(now_state), was_w, now_w, what);
	}
}

/* --- passive checks ------------------------------------------------------- */

void health_passive(struct real_server *rs, bool ok)
{
	struct virtual_service *svc = rs->svc;
	struct health_svc *hs = health_svc(svc);
	struct health_rs *hr = health_rs(rs);
	uint32_t limit = atomic_load_explicit(&hs->outlier_errors, memory_order_relaxed);
	uint32_t n, ejected = 0, cap;
	uint64_t now, dur = 0;
	char reason[sizeof(hr->h.reason)] = "";

	if (!limit)
		return;
	if (ok) {
		/* read first: most requests succeed and the line stays shared */
		if (atomic_load_explicit(&hr->fails_in_row, memory_order_relaxed))
			atomic_store_explicit(&hr->fails_in_row, 0, memory_order_relaxed);
		return;
	}
	n = atomic_fetch_add_explicit(&hr->fails_in_row, 1, memory_order_relaxed) + 1;
	if (n < limit)
		return;
	now = now_ms();
	pthread_mutex_lock(&svc->lock);
	for (size_t i = 0; i < svc->nservers; i++)
		ejected += health_rs(svc->servers[i])->h.ejected_until != 0;
	cap = (uint32_t)(svc->nservers * hs->outlier.max_pct / 100);
	if (!hr->h.ejected_until && !rs->removed && ejected < MAX(cap, 1u)) {
		struct rs_health *h = &hr->h;

		if (h->back_ms && now - h->back_ms > hs->outlier.max_eject_ms)
			h->ejections = 0; /* behaved for a while: start over */
		dur = (uint64_t)hs->outlier.eject_ms * (h->ejections + 1);
		dur = MIN(dur, hs->outlier.max_eject_ms);
		h->ejections++;
		h->ejected_until = now + dur;
		atomic_store_explicit(&hr->fails_in_row, 0, memory_order_relaxed);
		note_change(rs, "ejected for %llu ms after %u failures in a row",
			    (unsigned long long)dur, n);
		snprintf(reason, sizeof(reason), "%s", h->reason);
		atomic_store_explicit(&hs->busy, true, memory_order_relaxed);
		rs_refresh_locked(rs, now);
	}
	pthread_mutex_unlock(&svc->lock);
	if (reason[0]) {
		char name[3 * ADDR_STRLEN];

		rs_name(rs, name, sizeof(name));
		log_warn("%s: real server %s", name, reason);
	}
}

void health_server_ready(struct real_server *rs)
{
	struct virtual_service *svc = rs->svc;
	struct health_rs *hr = health_rs(rs);

	pthread_mutex_lock(&svc->lock);
	hr->h.drain_signal = false;
	hr->h.ejected_until = 0;
	hr->h.ejections = 0;
	atomic_store_explicit(&hr->fails_in_row, 0, memory_order_relaxed);
	rs_refresh_locked(rs, now_ms());
	pthread_mutex_unlock(&svc->lock);
}

/* --- the tick ---------------------------------------------------------------- */

static void tick_service(struct virtual_service *svc, struct virtual_service *owner,
			 const char *pool, void *arg)
{
	struct health_svc *hs = health_svc(svc);
	uint64_t now = *(uint64_t *)arg;
	bool busy = false;

	if (!atomic_load_explicit(&hs->busy, memory_order_relaxed))
		return;
	pthread_mutex_lock(&svc->lock);
	atomic_store_explicit(&hs->busy, false, memory_order_relaxed);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];
		struct rs_health *h = &health_rs(rs)->h;

		if (h->ejected_until && now >= h->ejected_until) {
			char name[3 * ADDR_STRLEN];

			h->ejected_until = 0;
			h->back_ms = now;
			atomic_store_explicit(&health_rs(rs)->fails_in_row, 0, memory_order_relaxed);
			note_change(rs, "ejection over");
			rs_name(rs, name, sizeof(name));
			log_info("%s: real server is back after its ejection", name);
		}
		rs_refresh_locked(rs, now);
		busy |= h->ejected_until || h->ramp_start;
	}
	if (busy)
		atomic_store_explicit(&hs->busy, true, memory_order_relaxed);
	pthread_mutex_unlock(&svc->lock);
}

void health_tick(struct vs_table *t, uint64_t now)
{
	table_foreach(t, tick_service, &now);
}

const char *rs_state_name(const struct real_server *rs)
{
	uint32_t f = rs->ss.flags;

	if (f & SCHED_SRV_MAINT)
		return "maint";
	if (health_rs(rs)->h.ejected_until)
		return "ejected";
	if (f & SCHED_SRV_DOWN)
		return "down";
	if (f & SCHED_SRV_DRAIN)
		return "drain";
	if (!rs->ss.weight)
		return "quiesced";
	if ((f & SCHED_SRV_STANDBY) && rs->ss.backup)
		return "standby";
	return "up";
}

void svc_server_drain(struct real_server *rs)
{
	struct virtual_service *svc = rs->svc;
	struct rs_health *h = &health_rs(rs)->h;
	bool was;

	pthread_mutex_lock(&svc->lock);
	was = h->drain_signal;
	if (!was) {
		h->drain_signal = true;
		note_change(rs, "%s", "answered the drain signal");
		rs_refresh_locked(rs, now_ms());
	}
	pthread_mutex_unlock(&svc->lock);
	if (!was) {
		char name[3 * ADDR_STRLEN];

		rs_name(rs, name, sizeof(name));
		log_info("%s: real server answered the drain signal: draining", name);
	}
}
