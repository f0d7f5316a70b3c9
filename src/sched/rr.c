/*
 * rr.c - round robin, as IPVS ip_vs_rr.c: a cursor on the last server
 * chosen; each pick takes the next available one after it, wrapping round
 * to the cursor itself last. When the cursor's server leaves the set the
 * cursor moves to the server before it, so the rotation carries on where
 * it was. A bitmap of available servers makes the search a word scan.
 */
#include "sched/sched_int.h"

struct rr_state {
	int32_t cursor;  /* last chosen idx, -1 = before the first */
	uint64_t *avail; /* bit per idx: may take work */
	size_t words;
};

static int rr_update(struct sched *s)
{
	struct rr_state *st = s->state;
	size_t words = (s->nsrv + 63) / 64;
	uint64_t *avail = calloc(words ? words : 1, sizeof(*avail));

	if (!avail)
		return -ENOMEM;
	for (size_t i = 0; i < s->nsrv; i++)
		sched_bit_set(avail, (uint32_t)i, sched_server_available(s->srv[i]));
	free(st->avail);
	st->avail = avail;
	st->words = words;

	if (s->prev_srv != s->srv) {
		/* the cursor's server, or the nearest one before it that stayed */
		int32_t c = st->cursor, to = -1;

		for (; c >= 0 && (size_t)c < s->prev_nsrv; c--)
			if ((to = sched_prev_to_new(s, (size_t)c)) >= 0)
				break;
		st->cursor = to;
	}
	return 0;
}

static void rr_fini(struct sched *s)
{
	struct rr_state *st = s->state;

	free(st->avail);
}

static int rr_init(struct sched *s)
{
	struct rr_state *st = s->state;

	st->cursor = -1;
	return 0;
}

static void rr_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct rr_state *st = s->state;

	sched_bit_set(st->avail, (uint32_t)srv->idx, sched_server_available(srv));
}

static int rr_pick(struct sched *s, const struct sched_req *req)
{
	struct rr_state *st = s->state;
	uint32_t n = (uint32_t)s->nsrv, start = (uint32_t)(st->cursor + 1);
	int32_t i;

	if (start >= n)
		start = 0;
	i = sched_bit_next(st->avail, req->skip, start, n);
	if (i < 0)
		i = sched_bit_next(st->avail, req->skip, 0, start);
	if (i >= 0)
		st->cursor = i;
	return i;
}

const struct sched_ops sched_rr_ops = {
	.name = "rr",
	.descr = "round robin",
	.state_size = sizeof(struct rr_state),
	.init = rr_init,
	.fini = rr_fini,
	.update = rr_update,
	.pick = rr_pick,
	.conn_changed = rr_conn_changed,
};
