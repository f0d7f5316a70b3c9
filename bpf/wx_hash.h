/*
 * wx_hash.h - the hash the XDP program uses to pick a ring slot (sh, mh,
 * dh) and a FULLNAT local port. Plain C on fixed-width types, so user
 * space can include it too and predict which slot a client gets:
 * slot = wx_hash_addr(addr) % ring_size (WX_PICK_SRC, WX_PICK_DST), or
 * wx_hash_addr_port(addr, port) % ring_size (WX_PICK_SRC_PORT), with
 * addresses and ports as they lie in the packet (network order).
 *
 * The mixing steps are those of the MurmurHash3 32-bit algorithm (a
 * published, public-domain algorithm): each word is scrambled into the
 * state, and a final avalanche makes every input bit move every output
 * bit, so that "% ring_size" spreads neighbouring addresses evenly.
 */
#ifndef WX_HASH_H
#define WX_HASH_H

static inline __attribute__((always_inline)) __u32 wx_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __attribute__((always_inline)) __u32 wx_hash_step(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = wx_rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = wx_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline __attribute__((always_inline)) __u32 wx_hash_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* <w> is the four words of a struct wx_addr (IPv4: w[0], the rest zero). */
static inline __attribute__((always_inline)) __u32 wx_hash_addr(const __u32 *w)
{
	__u32 h = 0x77656972u; /* "weir": any fixed seed will do */

	h = wx_hash_step(h, w[0]);
	h = wx_hash_step(h, w[1]);
	h = wx_hash_step(h, w[2]);
	h = wx_hash_step(h, w[3]);
	return wx_hash_final(h, 16);
}

static inline __attribute__((always_inline)) __u32 wx_hash_addr_port(const __u32 *w, __u16 port)
{
	__u32 h = 0x77656972u;

	h = wx_hash_step(h, w[0]);
	h = wx_hash_step(h, w[1]);
	h = wx_hash_step(h, w[2]);
	h = wx_hash_step(h, w[3]);
	h = wx_hash_step(h, port);
	return wx_hash_final(h, 18);
}

#endif
