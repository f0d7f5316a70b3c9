/*
 * ovf.c - overflow connection, as IPVS ip_vs_ovf.c: the available server
 * with the highest weight (the first in list order among equals) takes
 * new connections while its active connections do not exceed its weight;
 * once they do (active > weight, so a server of weight w holds w + 1) the
 * next highest takes the overflow, and when every server is over its
 * weight there is none. Only active connections count, as in IPVS (so
 * over UDP, whose sessions IPVS counts inactive, it is failover); "active"
 * includes the connections the server has elsewhere (sched_active), the
 * load a DNS service's servers are ranked by.
 *
 * The lc family's tree (ltree.c), cost 1 over the weight, with a server
 * over its weight out of it: the root is IPVS's scan's answer, and a
 * connection moves the tree only when its server goes over its weight or
 * back (or an OVERLOAD flag changes).
 */
#include "sched/sched_int.h"

static bool ovf_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = 1;
	*w = srv->weight;
	return sched_server_available(srv) && sched_active(srv) <= srv->weight;
}

SCHED_LTREE_OPS(ovf, ovf_key, sched_ltree_presence_changed, true,
		"overflow: the highest weight until its active conns exceed it (IPVS)");
