/*
 * sched.c - the registry of scheduling algorithms and what every instance
 * shares: the server set, connection accounting and the IPVS overload
 * thresholds (-x/-y). The algorithms live one per file and are reached
 * only through their struct sched_ops.
 */
#include "sched/sched_int.h"

/* In the order ipvsadm's man page lists them (twos, newer than ipvsadm
 * 1.31, after mh), then weir's own. */
static const struct sched_ops *const registry[] = {
	&sched_rr_ops, &sched_wrr_ops, &sched_lc_ops, &sched_wlc_ops,
	&sched_lblc_ops, &sched_lblcr_ops, &sched_dh_ops, &sched_sh_ops,
	&sched_sed_ops, &sched_nq_ops, &sched_fo_ops, &sched_ovf_ops,
	&sched_mh_ops, &sched_twos_ops, &sched_swrr_ops, &sched_p2c_ops,
	&sched_lrt_ops,
};

#define NREG (sizeof(registry) / sizeof(registry[0]))

const struct sched_ops *sched_find(const char *name)
{
	for (size_t i = 0; name && i < NREG; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

void sched_foreach(void (*fn)(const struct sched_ops *ops, void *arg), void *arg)
{
	for (size_t i = 0; i < NREG; i++)
		fn(registry[i], arg);
}

bool sched_skip_any(const struct sched_req *req, size_t n)
{
	if (!req || !req->skip)
		return false;
	for (size_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t bits = req->skip[w];

		if (w == n / 64)
			bits &= (UINT64_C(1) << (n % 64)) - 1;
		if (bits)
			return true;
	}
	return false;
}

static bool in_set(const struct sched *s, const struct sched_server *srv)
{
	return srv->idx >= 0 && (size_t)srv->idx < s->nsrv &&
	       s->srv[srv->idx] == srv;
}

/* Runs the algorithm's update() with <prev> as the previous set. */
static int run_update(struct sched *s, struct sched_server **prev, size_t nprev)
{
	int err;

	s->prev_srv = prev;
	s->prev_nsrv = nprev;
	err = s->ops->update ? s->ops->update(s) : 0;
	s->prev_srv = NULL;
	s->prev_nsrv = 0;
	return err;
}

struct sched *sched_create(const struct sched_ops *ops, const struct sched_params *p)
{
	struct sched *s;

	if (!ops || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->ops = ops;
	if (p)
		s->params = *p;
	/* xorshift must not start at zero */
	s->rng = s->params.seed ? s->params.seed : 0x9E3779B97F4A7C15ULL;
	if (ops->state_size && !(s->state = calloc(1, ops->state_size)))
		goto out_free;
	if (ops->init && ops->init(s) < 0)
		goto out_state;
	if (run_update(s, NULL, 0) < 0)
		goto out_fini;
	return s;

out_fini:
	if (ops->fini)
		ops->fini(s);
out_state:
	free(s->state);
out_free:
	free(s);
	return NULL;
}

void sched_destroy(struct sched *s)
{
	if (!s)
		return;
	if (s->ops->fini)
		s->ops->fini(s);
	/* the servers are left alone: when the scheduler of a service changes
	 * they already belong to the new instance, which gave them their idx */
	free(s->srv);
	free(s->state);
	free(s);
}

/*
 * IPVS (__ip_vs_update_dest): the last weight follows every non-zero
 * weight, and a server keeps its OVERLOAD flag unless its upper threshold
 * was removed or raised; a lowered one takes effect at the next
 * connection.
 */
static void apply_config(struct sched_server *srv, bool joining)
{
	if (joining || srv->weight)
		srv->last_weight = srv->weight;
	if (!srv->upper || srv->upper > srv->upper_seen)
		srv->flags &= ~SCHED_SRV_OVERLOAD;
	srv->upper_seen = srv->upper;
}

/*
 * Failover order: the backups are in standby while a primary is eligible;
 * otherwise the primaries are (then none of them could take work anyway,
 * but a hashing table must deal its slots to the backups alone). A set
 * without backups has no standby. Returns true if a flag changed.
 */
static bool tier_apply(struct sched *s)
{
	bool backups = false, primary_up = false, changed = false;

	for (size_t i = 0; i < s->nsrv; i++) {
		if (s->srv[i]->backup)
			backups = true;
		else if (sched_server_eligible(s->srv[i]))
			primary_up = true;
	}
	s->has_backup = backups;
	s->backups_serve = backups && !primary_up;
	for (size_t i = 0; i < s->nsrv; i++) {
		struct sched_server *srv = s->srv[i];
		bool standby = backups && srv->backup != s->backups_serve;
		uint32_t f = standby ? srv->flags | SCHED_SRV_STANDBY :
				       srv->flags & ~SCHED_SRV_STANDBY;

		changed |= f != srv->flags;
		srv->flags = f;
	}
	return changed;
}

/* Gives each server of <arr> its index; false if one appears twice. */
static bool assign_idx(struct sched_server **arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		arr[i]->idx = (int32_t)i;
	for (size_t i = 0; i < n; i++)
		if (arr[i]->idx != (int32_t)i)
			return false;
	return true;
}

/* Out of a set: no idx, no tier. */
static void clear_idx(struct sched_server **arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		arr[i]->idx = -1;
		arr[i]->flags &= ~SCHED_SRV_STANDBY;
	}
}

int sched_set_servers(struct sched *s, struct sched_server *const *srv, size_t n)
{
	struct sched_server **arr = NULL, **old = s->srv;
	size_t nold = s->nsrv;
	int err;

	if (n > SCHED_MAX_SERVERS)
		return -EINVAL;
	if (n && !(arr = malloc(n * sizeof(*arr))))
		return -ENOMEM;
	if (n)
		memcpy(arr, srv, n * sizeof(*arr));
	for (size_t i = 0; i < n; i++)
		apply_config(arr[i], !in_set(s, arr[i]));
	clear_idx(old, nold);
	if (!assign_idx(arr, n)) {
		err = -EINVAL;
		goto out_restore;
	}
	s->srv = arr;
	s->nsrv = n;
	tier_apply(s);
	err = run_update(s, old, nold);
	if (err < 0)
		goto out_restore;
	free(old);
	return 0;

out_restore:
	clear_idx(arr, n);
	assign_idx(old, nold);
	s->srv = old;
	s->nsrv = nold;
	tier_apply(s);
	free(arr);
	return err;
}

int sched_server_changed(struct sched *s, struct sched_server *srv)
{
	apply_config(srv, false);
	if (!in_set(s, srv))
		return 0;
	tier_apply(s);
	return run_update(s, s->srv, s->nsrv);
}

int sched_pick(struct sched *s, const struct sched_req *req)
{
	static const struct sched_req none;

	if (!s->nsrv)
		return -1;
	return s->ops->pick(s, req ? req : &none);
}

static void conn_changed(struct sched *s, struct sched_server *srv)
{
	if (s->ops->conn_changed && in_set(s, srv))
		s->ops->conn_changed(s, srv);
}

/*
 * After a connection moved <srv>'s OVERLOAD flag from <was>: when it is a
 * primary of a set with backups, the tiers may swap (the last primary
 * overloaded, or one back below its threshold); then every server's
 * availability changed and the algorithm rebuilds, or, out of memory,
 * hears of each server as of a connection change.
 */
static void conn_tier(struct sched *s, struct sched_server *srv, uint32_t was)
{
	if (!((srv->flags ^ was) & SCHED_SRV_OVERLOAD) || srv->backup ||
	    !s->has_backup || !in_set(s, srv) || !tier_apply(s)) {
		conn_changed(s, srv);
		return;
	}
	if (run_update(s, s->srv, s->nsrv) == 0)
		return;
	for (size_t i = 0; i < s->nsrv; i++)
		conn_changed(s, s->srv[i]);
}

void sched_server_load(struct sched *s, struct sched_server *srv, uint32_t n)
{
	if (srv->ext_active == n)
		return;
	srv->ext_active = n;
	conn_changed(s, srv);
}

static uint64_t total_conns(const struct sched_server *srv)
{
	return (uint64_t)srv->active + srv->inactive;
}

/* IPVS ip_vs_bind_dest(): overloaded once active+inactive reach -x. */
void sched_conn_open(struct sched *s, struct sched_server *srv)
{
	uint32_t was = srv->flags;

	srv->active++;
	if (srv->upper && total_conns(srv) >= srv->upper)
		srv->flags |= SCHED_SRV_OVERLOAD;
	conn_tier(s, srv, was);
}

void sched_conn_deactivate(struct sched *s, struct sched_server *srv)
{
	if (!srv->active)
		return;
	srv->active--;
	srv->inactive++;
	conn_changed(s, srv);
}

/*
 * IPVS ip_vs_unbind_dest(): the flag clears below -y, or, without -y,
 * below 3/4 of -x (compared as conns*4 < upper*3, so the boundary rounds
 * up); with neither it clears at once.
 */
static void overload_clear(struct sched_server *srv)
{
	uint64_t conns = total_conns(srv);

	if (srv->lower) {
		if (conns < srv->lower)
			srv->flags &= ~SCHED_SRV_OVERLOAD;
	} else if (srv->upper) {
		if (conns * 4 < (uint64_t)srv->upper * 3)
			srv->flags &= ~SCHED_SRV_OVERLOAD;
	} else {
		srv->flags &= ~SCHED_SRV_OVERLOAD;
	}
}

void sched_conn_close(struct sched *s, struct sched_server *srv, bool was_active)
{
	uint32_t was = srv->flags;

	if (was_active && srv->active)
		srv->active--;
	else if (!was_active && srv->inactive)
		srv->inactive--;
	overload_clear(srv);
	conn_tier(s, srv, was);
}

uint32_t sched_table(const struct sched *s, const int32_t **slots)
{
	*slots = NULL;
	return s->ops->table ? s->ops->table(s, slots) : 0;
}

void sched_observe_rtt(struct sched *s, struct sched_server *srv,
		       uint64_t rtt_ns, uint64_t now_ms)
{
	sched_lrt_observe(s, srv, rtt_ns, now_ms);
}

int sched_sequence(const struct sched_ops *ops, const struct sched_params *p,
		   struct sched_server *const *srv, size_t n, const struct sched_req *req,
		   int32_t *out, uint32_t len)
{
	struct sched_server *copy = calloc(n + 1, sizeof(*copy));
	struct sched_server **ptrs = calloc(n + 1, sizeof(*ptrs));
	struct sched *s = NULL;
	int made = -ENOMEM;

	if (!copy || !ptrs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		copy[i] = *srv[i];
		copy[i].idx = -1;
		/* the set recomputes them */
		copy[i].flags &= ~SCHED_SRV_LIBRARY;
		copy[i].last_weight = 0;
		copy[i].upper_seen = 0;
		ptrs[i] = &copy[i];
	}
	if (!(s = sched_create(ops, p)) || sched_set_servers(s, ptrs, n) != 0)
		goto out;
	for (made = 0; (uint32_t)made < len; made++) {
		int idx = sched_pick(s, req);

		if (idx < 0)
			break;
		out[made] = idx;
		sched_conn_open(s, ptrs[idx]);
	}
	sched_set_servers(s, NULL, 0);
out:
	sched_destroy(s);
	free(copy);
	free(ptrs);
	return made;
}
