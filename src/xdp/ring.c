/*
 * ring.c - what the lookup table of a packet-mode service holds
 * (xdp_build_ring, see xdp.h): the scheduler's own static table for the
 * hashing schedulers, or a sequence of its picks for the others. Pure of
 * the data path: the scheduler library over a copy of the servers.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>

#include "sched/sched.h"
#include "xdp/xdp.h"

#include "weir_xdp.h"

/* How many picks a sequence holds: whole cycles of a weighted round robin
 * (so every slot of the ring is walked in the right proportions), or a
 * fixed window for the schedulers whose picks change with the counts. */
static uint32_t sequence_len(struct sched_server *const *srv, size_t n, bool periodic)
{
	uint64_t sum = 0;
	uint32_t g = 0;

	if (periodic)
		return 1024;
	for (size_t i = 0; i < n; i++)
		if (sched_server_available(srv[i])) {
			sum += srv[i]->weight;
			g = sched_gcd(g, srv[i]->weight);
		}
	if (!sum)
		return 0;
	sum /= g;
	if (sum > WX_RING)
		return WX_RING;
	return (uint32_t)(sum * (WX_RING / sum));
}

/* A hashing scheduler (sh, dh, mh): its own table, unavailable servers'
 * slots empty. */
static int hash_table(const struct sched_ops *ops, const struct sched_params *p,
		      struct sched_server *const *srv, size_t n, int32_t *ring, uint32_t *used)
{
	struct sched *s = sched_create(ops, p);
	const int32_t *slots;
	uint32_t size;

	if (!s || sched_set_servers(s, srv, n) != 0) {
		sched_destroy(s);
		return -ENOMEM;
	}
	size = MIN(sched_table(s, &slots), WX_RING);
	for (uint32_t i = 0; i < size; i++)
		ring[i] = slots[i] >= 0 && sched_server_available(srv[slots[i]]) ? slots[i] : -1;
	*used = size;
	sched_set_servers(s, NULL, 0);
	sched_destroy(s);
	return 0;
}

int xdp_build_ring(struct virtual_service *svc, const uint64_t *active, int32_t *ring,
		   uint32_t *used, uint8_t *pick)
{
	struct sched_params params;
	struct sched_server *copy, **ptrs;
	const struct sched_ops *ops;
	uint8_t src[16] = { 0 }, dst[16];
	/* lblc/lblcr key on the destination: the VIP, as in svc_schedule() */
	struct sched_req req = {
		.src = src, .src_len = 4, .now_ms = now_ms(),
		.lkey = dst, .lkey_len = addr_bytes(&svc->addr, dst),
	};
	size_t n;
	int rc;

	pthread_mutex_lock(&svc->lock);
	ops = svc->sched->ops;
	params = svc->sched->params;
	n = svc->nservers;
	copy = calloc(n + 1, sizeof(*copy));
	ptrs = calloc(n + 1, sizeof(*ptrs));
	for (size_t i = 0; copy && ptrs && i < n; i++) {
		copy[i] = svc->servers[i]->ss;
		copy[i].inactive = 0;
		if (active)
			copy[i].active = (uint32_t)MIN(active[i], UINT32_MAX);
		ptrs[i] = &copy[i];
	}
	pthread_mutex_unlock(&svc->lock);
	*used = 0;
	*pick = WX_PICK_SEQ;
	rc = -ENOMEM;
	if (!copy || !ptrs)
		goto out;
	if (ops->hash != SCHED_HASH_NONE) {
		if (ops->table_sized)
			params.mh_table_size = WX_RING;
		*pick = ops->hash == SCHED_HASH_DST ? WX_PICK_DST :
			(params.flags & SCHED_F_PORT) ? WX_PICK_SRC_PORT : WX_PICK_SRC;
		for (size_t i = 0; i < n; i++)
			copy[i].idx = -1;
		rc = hash_table(ops, &params, ptrs, n, ring, used);
	} else {
		uint32_t len = sequence_len(ptrs, n, ops->periodic);
		int made = sched_sequence(ops, &params, ptrs, n, &req, ring, len);

		rc = made < 0 ? made : 0;
		*used = made < 0 ? 0 : (uint32_t)made;
	}
out:
	free(copy);
	free(ptrs);
	return rc;
}
