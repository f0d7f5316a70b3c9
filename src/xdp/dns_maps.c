/*
 * dns_maps.c - the DNS services' maps of the data path (bpf/wx_dns.bpf.h):
 * what the DNS mode hands over (xdp.h, struct xdp_dns) written into
 * wx_dns_svcs, wx_dns_names, wx_dns_sets, wx_dns_negs and the service's
 * ring, and wx_dns_stats read back. No DNS is known here: records are bytes.
 *
 * A new answer set never tears: the records (and apex and SOA) go to the
 * half of the service's wx_dns_sets (wx_dns_negs) not in use, then its wx_dns_svcs entry flips to
 * it (one map update, atomic for a reader). Ring slots are single words.
 * Names are added before and removed after that flip.
 *
 * Control thread only.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "xdp/xdp.h"
#include "xdp/xdp_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "weir_xdp.h"
#include "weir_xdp.skel.h"

/* A DNS service the data path answers for. */
struct xdns {
	const struct virtual_service *svc;  /* identity only: the DNS mode drops
	                                     * it (xdp_dns_drop) before it goes */
	struct wx_svc_key key;
	uint32_t id;
	uint8_t half;                       /* the current half of its sets */
	struct wx_dns_name_key *names;      /* the keys written */
	size_t nnames;
	struct wx_dns_stats last;           /* sums already taken */
	struct xdns *next;
};

static struct xdns *xdns_list;
static uint32_t xdns_count;

static int fd_of(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static struct xdns *find(const struct virtual_service *svc)
{
	for (struct xdns *x = xdns_list; x; x = x->next)
		if (x->svc == svc)
			return x;
	return NULL;
}

bool xdp_dns_has(const struct virtual_service *svc)
{
	return xdp_skel() && find(svc);
}

static void key_of(const struct virtual_service *svc, struct wx_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	if (addr_family(&svc->addr) == AF_INET6) {
		memcpy(k->vip.w, &svc->addr.u.in6.sin6_addr, 16);
		k->family = 6;
	} else {
		k->vip.w[0] = svc->addr.u.in.sin_addr.s_addr;
		k->family = 4;
	}
	k->port = htons(addr_port(&svc->addr));
	k->proto = IPPROTO_UDP;
}

/* The sum of <len> bytes as big-endian 16-bit words, folded (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* One family's set: its records twice, the sum of the k from each. */
static void fill_set(struct wx_dns_set *v, const struct xdp_dns_set *s, uint32_t answers)
{
	size_t bytes;

	memset(v, 0, sizeof(*v));
	if (!s->n || s->n > WX_DNS_RRS || s->len > WX_DNS_RR_MAX)
		return;
	bytes = (size_t)s->n * s->len;
	v->n = s->n;
	v->len = s->len;
	v->k = answers && answers < s->n ? (uint16_t)answers : s->n;
	memcpy(v->rr, s->rr, bytes);
	memcpy(v->rr + bytes, s->rr, bytes);
	for (uint16_t i = 0; i < s->n; i++)
		v->sum[i] = sum16(v->rr + (size_t)i * s->len, (size_t)v->k * s->len);
}

static size_t name_len(const uint8_t *name)
{
	size_t len = 0;

	while (len < 255 && name[len])
		len += 1u + name[len];
	return len + 1;
}

/* Adds name <name> of <kind> to <keys> (and the map) unless it is too long
 * for a key (then user space answers it); false if the map refused it. */
static bool put_name(int fd, struct xdns *x, struct wx_dns_name_key *keys, size_t *n,
		     const uint8_t *name, uint32_t idx, uint32_t kind)
{
	struct wx_dns_name v = { .idx = idx, .kind = kind };
	size_t len = name_len(name);

	if (len > WX_DNS_NAME)
		return true;
	memset(&keys[*n], 0, sizeof(keys[*n]));
	keys[*n].id = x->id;
	memcpy(keys[*n].name, name, len);
	if (bpf_map_update_elem(fd, &keys[*n], &v, BPF_ANY) != 0) {
		log_err("xdp: cannot write a DNS name: %s", strerror(errno));
		return false;
	}
	(*n)++;
	return true;
}

/* Writes the names of <d> (NULL: none) and deletes those of <x> it no
 * longer has. *<all>: every name of <d> is there (else a name missing
 * would be taken for one that does not exist: no negative answers). */
static int put_names(struct xdns *x, const struct xdp_dns *d, bool *all)
{
	int fd = fd_of(xdp_skel()->maps.wx_dns_names);
	size_t total = d ? d->nnames + d->nempty : 0, n = 0;
	struct wx_dns_name_key *keys = calloc(total + 1, sizeof(*keys));

	*all = true;
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; d && i < d->nnames; i++)
		*all &= put_name(fd, x, keys, &n, d->names[i], (uint32_t)i, WX_DNS_OWNED);
	for (size_t i = 0; d && i < d->nempty; i++)
		*all &= put_name(fd, x, keys, &n, d->empty[i], WX_DNS_NAMES, WX_DNS_EMPTY);
	for (size_t i = 0; i < x->nnames; i++) {
		bool kept = false;

		for (size_t k = 0; k < n && !kept; k++)
			kept = memcmp(&keys[k], &x->names[i], sizeof(keys[k])) == 0;
		if (!kept)
			bpf_map_delete_elem(fd, &x->names[i]);
	}
	free(x->names);
	x->names = keys;
	x->nnames = n;
	return 0;
}

/* The apex and SOA record of <d> into <v>; soa_len 0 if it has none that fits. */
static void fill_neg(struct wx_dns_neg *v, const struct xdp_dns *d)
{
	size_t alen = d->apex ? name_len(d->apex) : 0;

	memset(v, 0, sizeof(*v));
	if (!d->soa || d->soa_len > WX_DNS_SOA || !alen || alen > WX_DNS_NAME)
		return;
	v->soa_len = (uint16_t)d->soa_len;
	v->apex_len = (uint16_t)alen;
	v->soa_sum = sum16(d->soa, d->soa_len);
	memcpy(v->apex, d->apex, alen);
	memcpy(v->soa, d->soa, d->soa_len);
}

static struct xdns *add(struct virtual_service *svc)
{
	struct xdns *x = calloc(1, sizeof(*x));
	struct wx_dns_stats *zeros;
	int id = xdp_svc_id_alloc();

	if (!x || id < 0) {
		free(x);
		if (id >= 0)
			xdp_svc_id_free((uint32_t)id);
		return NULL;
	}
	x->svc = svc;
	x->id = (uint32_t)id;
	key_of(svc, &x->key);
	/* a reused slot's counters start again from zero */
	zeros = calloc((size_t)xdp_ncpus(), sizeof(*zeros));
	if (zeros)
		bpf_map_update_elem(fd_of(xdp_skel()->maps.wx_dns_stats), &x->id, zeros, BPF_ANY);
	free(zeros);
	x->next = xdns_list;
	xdns_list = x;
	xdp_dns_count(++xdns_count);
	return x;
}

int xdp_dns_put(struct virtual_service *svc, const struct xdp_dns *d)
{
	struct weir_xdp *skel = xdp_skel();
	struct wx_dns_svc v = { .pick = d->pick, .edns_size = d->edns_size };
	struct wx_dns_set *set;
	struct wx_dns_neg neg;
	struct xdns *x;
	uint32_t zero = 0, nkey;
	bool all = false;
	int rc = 0;

	if (!skel)
		return -ENODEV;
	if (!(x = find(svc)) && !(x = add(svc)))
		return -ENOSPC;
	set = malloc(sizeof(*set));
	if (!set)
		return -ENOMEM;
	v.id = x->id;
	v.half = x->half ^ 1;
	for (uint32_t f = 0; f < 2; f++) {
		uint32_t key = (x->id * 2 + v.half) * 2 + f;

		fill_set(set, &d->set[f], d->answers);
		if (bpf_map_update_elem(fd_of(skel->maps.wx_dns_sets), &key, set, BPF_ANY) != 0)
			rc = -errno;
	}
	free(set);
	v.ring_size = d->ring_size < WX_RING ? d->ring_size : WX_RING;
	for (uint32_t i = 0; i < v.ring_size; i++) {
		uint32_t key = x->id * WX_RING + i;

		bpf_map_update_elem(fd_of(skel->maps.wx_rings), &key, &d->ring[i], BPF_ANY);
	}
	bpf_map_update_elem(fd_of(skel->maps.wx_cursor), &x->id, &zero, BPF_ANY);
	if (!rc)
		rc = put_names(x, d, &all);
	nkey = x->id * 2 + v.half;
	fill_neg(&neg, d);
	if (!all)
		neg.soa_len = 0;
	if (!rc && bpf_map_update_elem(fd_of(skel->maps.wx_dns_negs), &nkey, &neg, BPF_ANY) != 0)
		rc = -errno;
	if (!rc && bpf_map_update_elem(fd_of(skel->maps.wx_dns_svcs), &x->key, &v, BPF_ANY) != 0)
		rc = -errno;
	if (rc) {
		log_err("xdp: cannot write a DNS service: %s", strerror(-rc));
		xdp_dns_drop(svc);
		return rc;
	}
	x->half = v.half;
	return 0;
}

static void forget(struct xdns *x)
{
	if (xdp_skel()) {
		bpf_map_delete_elem(fd_of(xdp_skel()->maps.wx_dns_svcs), &x->key);
		bool all;

		put_names(x, NULL, &all);
	}
	free(x->names);
	xdp_svc_id_free(x->id);
	free(x);
}

void xdp_dns_drop(struct virtual_service *svc)
{
	for (struct xdns **pp = &xdns_list; *pp; pp = &(*pp)->next)
		if ((*pp)->svc == svc) {
			struct xdns *x = *pp;

			*pp = x->next;
			forget(x);
			xdp_dns_count(--xdns_count);
			return;
		}
}

void xdp_dns_stop(void)
{
	while (xdns_list) {
		struct xdns *x = xdns_list;

		xdns_list = x->next;
		free(x->names);
		free(x);
	}
	xdns_count = 0;
}

/* Adds <n> words of <from> to <to>. */
static void add_words(uint64_t *to, const uint64_t *from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		to[i] += from[i];
}

int xdp_dns_take_stats(const struct virtual_service *svc, struct wx_dns_stats *delta)
{
	enum { WORDS = sizeof(struct wx_dns_stats) / sizeof(uint64_t) };
	struct xdns *x = xdp_skel() ? find(svc) : NULL;
	struct wx_dns_stats *pcpu, sum = { 0 };
	uint64_t *d = (uint64_t *)delta, *s = (uint64_t *)&sum, *l;
	int ncpus = xdp_ncpus();

	memset(delta, 0, sizeof(*delta));
	if (!x)
		return -ENOENT;
	pcpu = calloc((size_t)ncpus, sizeof(*pcpu));
	if (!pcpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd_of(xdp_skel()->maps.wx_dns_stats), &x->id, pcpu) != 0) {
		free(pcpu);
		return -errno;
	}
	for (int c = 0; c < ncpus; c++)
		add_words(s, (const uint64_t *)&pcpu[c], WORDS);
	free(pcpu);
	l = (uint64_t *)&x->last;
	for (size_t i = 0; i < WORDS; i++)
		d[i] = s[i] >= l[i] ? s[i] - l[i] : s[i];
	x->last = sum;
	return 0;
}
