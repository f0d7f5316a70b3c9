/*
 * fo.c - weighted failover, as IPVS ip_vs_fo.c: every new connection goes
 * to the available server with the highest weight, the first in list
 * order among equal weights; only when it may no longer take work (down,
 * drained, in maintenance, quiesced, overloaded) does the next one take
 * over. Connection counts play no part, except through the OVERLOAD flag
 * of an upper threshold.
 *
 * The highest weight is the least 1/weight: the lc family's tree (ltree.c)
 * with cost 1 keeps the answer at its root and IPVS's list-order tie rule;
 * a connection moves it only when it changes whether its server may take
 * work.
 */
#include "sched/sched_int.h"

static bool fo_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = 1;
	*w = srv->weight;
	return sched_server_available(srv);
}

SCHED_LTREE_OPS(fo, fo_key, sched_ltree_presence_changed, false,
		"weighted failover: the highest weight available (IPVS)");
