/*
 * sh.c - the two static hashing schedulers of IPVS over a 256-bucket
 * table: dh (ip_vs_dh.c) hashes the locality key, sh (ip_vs_sh.c) the
 * client's source address.
 *
 * dh deals the buckets to the servers in list order, one each, round and
 * round (weights play no part, and past 256 servers the rest get none);
 * sh deals each server as many consecutive buckets as its weight (a
 * quiesced one still gets one) per round. The table follows the weights
 * only: a server that goes down keeps its buckets, and a key hashing to
 * it gets -1 -- or, for sh with SCHED_F_FALLBACK, IPVS's walk round the
 * table from there. Servers in standby (failover order: backups while a
 * primary serves) are left out of the dealing. The bucket is hash_32(addr) (sh: of addr + port with
 * SCHED_F_PORT), addr being the address folded to 32 bits as IPVS does; a
 * dh key that is not a 4 or 16 byte address is folded by FNV-1a.
 */
#include "sched/sched_int.h"

#define SH_TAB_BITS 8
#define SH_TAB_SIZE (1 << SH_TAB_BITS)
#define SH_TAB_MASK (SH_TAB_SIZE - 1)

struct sh_state {
	int32_t tab[SH_TAB_SIZE]; /* bucket -> idx, -1 with no servers */
};

/* The servers the table is dealt to, in list order: all but those in
 * standby (failover order). Returns their number; <out> has nsrv slots. */
static size_t dealt(const struct sched *s, int32_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nsrv; i++)
		if (!(s->srv[i]->flags & SCHED_SRV_STANDBY))
			out[n++] = (int32_t)i;
	return n;
}

static int dh_update(struct sched *s)
{
	struct sh_state *st = s->state;
	int32_t *m = malloc((s->nsrv + 1) * sizeof(*m));
	size_t n;

	if (!m)
		return -ENOMEM;
	n = dealt(s, m);
	for (size_t b = 0; b < SH_TAB_SIZE; b++)
		st->tab[b] = n ? m[b % n] : -1;
	free(m);
	return 0;
}

static int sh_update(struct sched *s)
{
	struct sh_state *st = s->state;
	int32_t *m = malloc((s->nsrv + 1) * sizeof(*m));
	size_t p = 0, n;
	uint32_t count = 0;

	if (!m)
		return -ENOMEM;
	n = dealt(s, m);
	for (size_t b = 0; b < SH_TAB_SIZE; b++) {
		if (!n) {
			st->tab[b] = -1;
			continue;
		}
		st->tab[b] = m[p];
		/* don't move to the next server until its weight is dealt */
		if (++count >= s->srv[m[p]]->weight) {
			p = (p + 1) % n;
			count = 0;
		}
	}
	free(m);
	return 0;
}

static int dh_pick(struct sched *s, const struct sched_req *req)
{
	struct sh_state *st = s->state;
	int32_t idx;

	if (!req->lkey)
		return -1;
	idx = st->tab[sched_hash_32(sched_key_fold(req->lkey, req->lkey_len),
				    SH_TAB_BITS)];
	return idx >= 0 && sched_usable(s, req, idx) ? idx : -1;
}

static uint32_t sh_bucket(uint32_t fold, uint16_t port, uint32_t offset)
{
	return (offset + sched_hash_32(port + fold, SH_TAB_BITS)) & SH_TAB_MASK;
}

/* ip_vs_sh_get_fallback(): from the first bucket on, the first server
 * that may take work. The probe order is IPVS's, quirks included. */
static int sh_fallback(struct sched *s, const struct sched_req *req,
		       uint32_t fold, uint16_t port, uint32_t ihash)
{
	struct sh_state *st = s->state;

	for (uint32_t off = 0; off < SH_TAB_SIZE; off++) {
		uint32_t roff = (off + ihash) % SH_TAB_SIZE;
		int32_t idx = st->tab[sh_bucket(fold, port, roff)];

		if (idx < 0)
			break;
		if (sched_usable(s, req, idx))
			return idx;
	}
	return -1;
}

static int sh_pick(struct sched *s, const struct sched_req *req)
{
	struct sh_state *st = s->state;
	uint16_t port = (s->params.flags & SCHED_F_PORT) ? req->src_port : 0;
	uint32_t fold, ihash;
	int32_t idx;

	if (!req->src || (req->src_len != 4 && req->src_len != 16))
		return -1;
	fold = sched_addr_fold(req->src, req->src_len);
	ihash = sh_bucket(fold, port, 0);
	idx = st->tab[ihash];
	if (idx < 0)
		return -1;
	if (sched_usable(s, req, idx))
		return idx;
	if (!(s->params.flags & SCHED_F_FALLBACK))
		return -1;
	return sh_fallback(s, req, fold, port, ihash);
}

static uint32_t sh_table(const struct sched *s, const int32_t **slots)
{
	const struct sh_state *st = s->state;

	*slots = st->tab;
	return SH_TAB_SIZE;
}

const struct sched_ops sched_dh_ops = {
	.name = "dh",
	.descr = "destination (locality key) hashing (IPVS)",
	.state_size = sizeof(struct sh_state),
	.update = dh_update,
	.pick = dh_pick,
	.table = sh_table,
	.hash = SCHED_HASH_DST,
};

const struct sched_ops sched_sh_ops = {
	.name = "sh",
	.descr = "source address hashing (IPVS; sh-fallback, sh-port)",
	.state_size = sizeof(struct sh_state),
	.update = sh_update,
	.pick = sh_pick,
	.table = sh_table,
	.hash = SCHED_HASH_SRC,
	.takes_flags = true,
};
