/*
 * hash.c - the hash functions the schedulers share: SipHash-1-3 (the
 * kernel's 64-bit hsiphash, which ip_vs_mh uses, and weir's keyed table
 * hash) and FNV-1a for locality keys that are not addresses.
 */
#include "sched/sched_int.h"

static inline uint64_t rol64(uint64_t v, unsigned s)
{
	return (v << s) | (v >> (64 - s));
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = rol64(s->v1, 13); s->v1 ^= s->v0;
	s->v0 = rol64(s->v0, 32);
	s->v2 += s->v3; s->v3 = rol64(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rol64(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rol64(s->v1, 17); s->v1 ^= s->v2;
	s->v2 = rol64(s->v2, 32);
}

static inline void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

static inline void sip_absorb(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	s->v0 ^= m;
}

/* The last block <b> (length in the top byte), then three rounds. */
static inline uint64_t sip_final(struct sip *s, uint64_t b)
{
	sip_absorb(s, b);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint32_t sched_hsiphash_u32(uint32_t v, uint64_t k)
{
	struct sip s;

	sip_init(&s, k, k);
	return (uint32_t)sip_final(&s, (uint64_t)4 << 56 | v);
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t sched_siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
	const uint8_t *p = data;
	uint64_t b = (uint64_t)len << 56;
	size_t i, full = len & ~(size_t)7;
	struct sip s;

	sip_init(&s, k0, k1);
	for (i = 0; i < full; i += 8)
		sip_absorb(&s, le64(p + i));
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	return sip_final(&s, b);
}

uint32_t sched_key_fold(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	if (len == 4 || len == 16)
		return sched_addr_fold(p, len);
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}
