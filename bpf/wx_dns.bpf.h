/*
 * wx_dns.bpf.h - the fast path of weir's DNS mode: the common queries (A
 * or AAAA for a name the service owns; any other type but SOA, NS and ANY
 * for a name of its zone, answered NODATA or NXDOMAIN) answered in XDP,
 * the packet turned into its response in place and sent back by XDP_TX.
 * Everything else is XDP_PASS, untouched, to the socket where the
 * user-space server (src/dns/server.c) answers it as it always did.
 *
 * Why: the user-space server spends 86 % of its time in the kernel's UDP
 * socket path (bench/RESULTS.md); answering before the stack removes that
 * path, not just weir's share of it.
 *
 * The response is the one src/dns/answer.c's dns_respond() writes for the
 * same zone and first record, byte for byte (tests/bpf/dns.c holds the
 * two side by side): header with the query's id, QR, AA, RD and CD copied,
 * opcode 0, NOERROR; the question as the client sent it (its 0x20 case
 * kept); the records of the zone's set from the first one on, rotating (the
 * set is stored twice, so that is one copy), their names pointers to the
 * question; an OPT record offering weir's payload size, DO copied, when the
 * query had EDNS. A negative answer (RFC 2308) has no answer record but
 * the zone's SOA in the authority section, its owner a pointer to where
 * the apex starts in the question's name, rcode NXDOMAIN for a name under
 * the apex that is neither owned nor above an owned one (wx_dns_names
 * holds those too, as WX_DNS_EMPTY: the apex, RFC 8020's empty
 * non-terminals), else NOERROR (NODATA).
 *
 * Answered here only (else passed, for user space to answer or refuse):
 *   - a query: QR 0, opcode QUERY, one question, no answer or authority
 *     record, no additional record or exactly one OPT (root name, version
 *     0) whose options are whole and hold no Client Subnet (an ECS answer
 *     carries a scope: user space's), nothing after it;
 *   - class IN, a type other than SOA, NS and ANY (records at the apex,
 *     RFC 8482: user space's), a name of at most WX_DNS_NAME bytes without
 *     compression that is the apex or under it (compared in lower case;
 *     outside, REFUSED: user space's);
 *   - a response that fits the client's limit (512 without EDNS, else its
 *     payload size, at most weir's): a TC answer is user space's;
 *   - a message of at most WX_DNS_MSG bytes (queries are far smaller).
 * Services with a location map, persistence, mh, sh-port or `xdp off` are
 * not in wx_dns_svcs at all (src/dns/dns_xdp.c says why).
 *
 * Which record comes first: the service's ring (wx_rings, written from the
 * scheduler library by user space) holds per slot the index of its
 * server's record in each family; a sequence (rr, wrr, ...) is walked with
 * the shared cursor, as packet-mode services are; sh hashes the client's
 * address to IPVS's bucket (WX_PICK_SH), the one user space's sh uses. A
 * slot whose server has no record of the family is passed over (user
 * space passes over such a pick too); none in PICK_TRIES slots, or no
 * ring: the cursor rotates through the set.
 *
 * Checksums: the UDP checksum (mandatory over IPv6, written over IPv4 too)
 * is summed from its parts, never over the whole packet: the pseudo-header
 * and headers, the question as it was read, the records' sums precomputed
 * by user space for every first record (wx_dns_set.sum, byte-swapped when
 * they start at an odd offset: RFC 1071's byte-order independence), and
 * the OPT record.
 *
 * Cost: the parse, the pick, the zone test, the SOA record and the
 * rewrite are global subprograms, each checked once by the verifier (about
 * 16,000 instructions processed for the six, log level 2 on 6.18; inlined
 * they went past the million). A
 * query runs the name eight bytes a step (about 20 instructions a step),
 * three hash or array lookups and two or three byte copies; a response
 * longer than its query grows at the front of the frame (headroom every
 * driver leaves), not at its end (a veth's skb may have none there).
 */
#ifndef WX_DNS_BPF_H
#define WX_DNS_BPF_H

#define DNS_HDR         12
#define DNS_T_A         1
#define DNS_T_NS        2
#define DNS_T_SOA       6
#define DNS_T_ANY       255
#define DNS_R_NXDOMAIN  3
#define DNS_T_AAAA      28
#define DNS_T_OPT       41
#define DNS_OPT_ECS     8
#define DNS_QR          0x8000
#define DNS_AA          0x0400
#define DNS_RD          0x0100
#define DNS_CD          0x0010
#define DNS_UDP_MAX     512
#define DNS_OPT_LEN     11      /* root, type, class, TTL, rdlength 0 */
#define DNS_OPTIONS_MAX 8       /* EDNS options walked; more: passed */
#define DNS_MSG_MASK    (WX_DNS_MSG - 1)

/* What the checks of a query found, for the response. */
struct dns_q {
	__u32 off;            /* the DNS message in the frame */
	__u32 len;            /* its length */
	__u32 nlen;           /* the question's name, in bytes */
	__u32 qsum;           /* the question's sum (name, type, class) */
	__u16 flags;          /* the query's */
	__u16 qtype;
	__u16 limit;          /* the largest response the client takes */
	__u8 edns, dnssec_ok;
	__u64 labels[2];      /* bit i: a label starts at byte i of the name */
	/* the answer, once chosen */
	__u32 aaaa;           /* 0: A, 1: AAAA */
	__u32 first, k;       /* addresses: its first record, how many */
	__u32 rlen;           /* its length */
	__u32 rcode;          /* negative: NOERROR (NODATA) or NXDOMAIN */
	__u32 body_len;       /* negative: the SOA record in body, its sum */
	__u32 body_sum;
};

/* The per-CPU place a query is read into (the stack is too small). */
struct wx_dns_scratch {
	__u8 msg[WX_DNS_MSG];
	struct wx_dns_name_key key;
	struct dns_q q;
	__u8 macs[2 * ETH_ALEN];    /* the query's, while the frame is resized */
	__u8 opt[DNS_OPT_LEN + 1];  /* the response's OPT record */
	__u8 body[2 + WX_DNS_SOA + 6]; /* a negative answer's SOA record */
};


/* DNS services answered here */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WX_MAX_SERVICES);
	__type(key, struct wx_svc_key);
	__type(value, struct wx_dns_svc);
} wx_dns_svcs SEC(".maps");

/* the names each DNS service owns: (service, lower-case wire name) -> index */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WX_DNS_MAX_NAMES);
	__type(key, struct wx_dns_name_key);
	__type(value, struct wx_dns_name);
} wx_dns_names SEC(".maps");

/* each DNS service's apex and SOA record, in two halves like the sets */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WX_MAX_SERVICES * 2);
	__type(key, __u32);
	__type(value, struct wx_dns_neg);
} wx_dns_negs SEC(".maps");

/* each DNS service's A and AAAA records, in two halves (weir_xdp.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WX_MAX_SERVICES * 4);
	__type(key, __u32);
	__type(value, struct wx_dns_set);
} wx_dns_sets SEC(".maps");

/* what each DNS service answered here, folded into weir's counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WX_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct wx_dns_stats);
} wx_dns_stats SEC(".maps");

/* a query's bytes and its name key, one per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wx_dns_scratch);
} wx_dns_scratch SEC(".maps");

/* The DNS service <p> is for, or NULL (no DNS service at all: no lookup). */
static __always_inline const struct wx_dns_svc *dns_service(const struct wx_pkt *p)
{
	struct wx_svc_key k = {};
	const struct wx_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&wx_config, &zero);
	if (!cfg || !cfg->dns_services)
		return NULL;
	k.vip = p->key.dst;
	k.port = p->key.dport;
	k.proto = IPPROTO_UDP;
	k.family = p->key.family;
	return bpf_map_lookup_elem(&wx_dns_svcs, &k);
}

static __always_inline __u32 be16_at(const __u8 *m, __u32 at)
{
	return (__u32)m[at & DNS_MSG_MASK] << 8 | m[(at + 1) & DNS_MSG_MASK];
}

/* Byte <b> at offset <at> of the message in a big-endian 16-bit sum. */
static __always_inline __u32 sum_byte(__u8 b, __u32 at)
{
	return at & 1 ? b : (__u32)b << 8;
}

static __always_inline __u32 swap16(__u32 v)
{
	return (v & 0xff) << 8 | (v >> 8 & 0xff);
}

/* The length of the question's name in s->msg (s->q.len bytes), or 0 if
 * it is not one answered here (compressed, longer than WX_DNS_NAME, an odd
 * label type, cut short). A global subprogram: its caller sees one
 * length, not one way through per label count. */
__noinline __u32 wx_dns_name_len(struct wx_dns_scratch *s)
{
	__u32 pos = DNS_HDR, len;

	if (!s)
		return 0;
	len = s->q.len;
	s->q.labels[0] = s->q.labels[1] = 0;
	for (int j = 0; j < WX_DNS_NAME / 2; j++) {
		__u32 at = pos - DNS_HDR;
		__u8 b;

		if (pos >= len || at >= WX_DNS_NAME)
			return 0;
		b = s->msg[pos & DNS_MSG_MASK];
		if (b == 0)
			return at + 1;
		if (b & 0xc0)
			return 0;
		s->q.labels[(at >> 6) & 1] |= 1ull << (at & 63);
		pos += 1 + b;
	}
	return 0;
}

/* The question's name of <nlen> bytes from <m> into <key> in lower case
 * (the key was zeroed); the sum of its bytes. Eight bytes a step: the
 * capitals of a word found at once (each byte's high bit after adding
 * 0x3f says >= 'A', after adding 0x25 says > 'Z'; bytes >= 0x80 are
 * left alone), the bytes past the name masked off. A length byte is below
 * 64, never a capital. The sum is of little-endian words (the name starts
 * at an even offset): byte-swapped into the big-endian sum at the end. */
static __always_inline __u32 dns_name(const __u8 *m, __u32 nlen, struct wx_dns_name_key *key)
{
	__u64 s = 0;

#pragma clang loop unroll(full)
	for (__u32 i = 0; i < WX_DNS_NAME / 8; i++) {
		__u64 x, hep, up;
		__u32 left = nlen > i * 8 ? nlen - i * 8 : 0;

		if (!left)
			break;
		/* unaligned (offset 12 + 8i, 4 + 8i): fine for the verifier
		 * off strict alignment, which XDP programs are on x86 */
		x = *(const __u64 *)(m + DNS_HDR + i * 8);
		if (left < 8)
			x &= (1ull << (left * 8)) - 1;
		s += (x & 0xffffffff) + (x >> 32);
		hep = x & 0x7f7f7f7f7f7f7f7full;
		up = ((hep + 0x3f3f3f3f3f3f3f3full) ^ (hep + 0x2525252525252525ull)) & ~x &
		     0x8080808080808080ull;
		x |= up >> 2;
		*(__u64 *)(key->name + i * 8) = x;
	}
	return swap16(csum_fold(s));
}

/* The OPT record at <at> (the last thing in the message): 0 and <q> told
 * about it if it is one answered here. */
static __always_inline int dns_opt(const __u8 *m, __u32 at, struct dns_q *q)
{
	__u32 rdlen, end, udp;

	if (at + DNS_OPT_LEN > q->len || m[at & DNS_MSG_MASK] != 0 ||
	    be16_at(m, at + 1) != DNS_T_OPT || m[(at + 6) & DNS_MSG_MASK] != 0)
		return -1;      /* not OPT, not the root's, or a version above 0 */
	udp = be16_at(m, at + 3);
	q->dnssec_ok = !!(m[(at + 7) & DNS_MSG_MASK] & 0x80);
	rdlen = be16_at(m, at + 9);
	at += DNS_OPT_LEN;
	end = at + rdlen;
	if (end != q->len)
		return -1;
	for (int i = 0; i < DNS_OPTIONS_MAX; i++) {
		if (at == end) {
			q->edns = 1;
			udp = udp < DNS_UDP_MAX ? DNS_UDP_MAX : udp;
			q->limit = udp < q->limit ? udp : q->limit;
			return 0;
		}
		if (at + 4 > end || be16_at(m, at) == DNS_OPT_ECS)
			return -1;
		at += 4 + be16_at(m, at + 2);
		if (at > end)
			return -1;
	}
	return -1;
}

/* Reads the query at s->q.off (s->q.len bytes) into the scratch and checks
 * it is one answered here: 0 with s->q and s->key filled, else -1.
 *
 * This and the two functions after it are global subprograms: the
 * verifier checks each once, whatever the caller's paths (with them
 * inlined, every way through the option walk met every way through the
 * pick and the rewrite, past its million instructions). */
__noinline int wx_dns_read(struct xdp_md *ctx, struct wx_dns_scratch *s,
			   const struct wx_dns_svc *svc)
{
	const __u8 *m;
	struct dns_q *q;
	__u32 at, ar;

	if (!ctx || !s || !svc)
		return -1;
	m = s->msg;
	q = &s->q;
	if (q->len < DNS_HDR + 5 || q->len > WX_DNS_MSG)
		return -1;
	if (bpf_xdp_load_bytes(ctx, q->off, s->msg, q->len))
		return -1;
	q->flags = be16_at(m, 2);
	ar = be16_at(m, 10);
	/* QR 0, opcode QUERY; one question, no answer or authority */
	if ((q->flags & 0xf800) || be16_at(m, 4) != 1 || be16_at(m, 6) || be16_at(m, 8) ||
	    ar > 1)
		return -1;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.id = svc->id;
	q->nlen = wx_dns_name_len(s);
	if (!q->nlen || q->nlen > WX_DNS_NAME)
		return -1;
	q->qsum = dns_name(m, q->nlen, &s->key);
	at = DNS_HDR + q->nlen;
	if (at + 4 > q->len || be16_at(m, at + 2) != 1)
		return -1;      /* cut short, or not class IN */
	q->qtype = be16_at(m, at);
	if (q->qtype == DNS_T_SOA || q->qtype == DNS_T_NS || q->qtype == DNS_T_ANY)
		return -1;      /* records at the apex, RFC 8482: user space's */
#pragma clang loop unroll(full)
	for (int i = 0; i < 4; i++)
		q->qsum += sum_byte(m[(at + i) & DNS_MSG_MASK], at + i);
	at += 4;
	q->limit = DNS_UDP_MAX;
	q->edns = q->dnssec_ok = 0;
	if (!ar)
		return at == q->len ? 0 : -1;
	q->limit = svc->edns_size;
	return dns_opt(m, at, q);
}

/* The index of the first record for <p>'s client in a set of <n>. */
__noinline __u32 wx_dns_first(const struct wx_pkt *p, const struct wx_dns_svc *svc,
			      __u32 aaaa, __u32 n)
{
	__u32 size, slot, *cursor, rot;

	if (!p || !svc || !n)
		return 0;
	size = svc->ring_size;
	cursor = bpf_map_lookup_elem(&wx_cursor, &svc->id);
	if (!cursor)
		return 0;
	if (size > WX_RING)
		size = WX_RING;
	if (svc->pick == WX_PICK_SH && size) {
		__u32 fold = bpf_ntohl(p->key.src.w[0]);

		if (p->key.family == 6)
			fold ^= bpf_ntohl(p->key.src.w[1]) ^ bpf_ntohl(p->key.src.w[2]) ^
				bpf_ntohl(p->key.src.w[3]);
		slot = ((fold * 0x61C88647u) >> 24) % size;
		rot = 0;
	} else {
		rot = slot = __sync_fetch_and_add(cursor, 1);
		slot = size ? slot % size : 0;
	}
	for (__u32 i = 0; size && i < PICK_TRIES; i++) {
		__u32 k = svc->id * WX_RING + slot, *v = bpf_map_lookup_elem(&wx_rings, &k);
		__u32 idx = v ? (aaaa ? *v >> 16 : *v & 0xffff) : WX_DNS_NONE;

		if (idx < n) {
			if (i && svc->pick == WX_PICK_SEQ)
				__sync_fetch_and_add(cursor, i);
			return idx;
		}
		if (svc->pick == WX_PICK_SH) {
			/* the client's bucket has none: rotate (user space too) */
			rot = __sync_fetch_and_add(cursor, 1);
			break;
		}
		slot = slot + 1 < size ? slot + 1 : 0;
	}
	return rot % n;
}

/* The OPT record of the response (class: weir's payload size; DO copied)
 * into <opt>; its sum when it starts at message offset <at>. */
static __always_inline __u32 dns_opt_make(__u8 *opt, const struct wx_dns_svc *svc,
					  const struct dns_q *q, __u32 at)
{
	__u32 s = 0;

	__builtin_memset(opt, 0, DNS_OPT_LEN);
	opt[2] = DNS_T_OPT;
	opt[3] = (__u8)(svc->edns_size >> 8);
	opt[4] = (__u8)svc->edns_size;
	opt[7] = q->dnssec_ok ? 0x80 : 0;
#pragma clang loop unroll(full)
	for (int j = 0; j < DNS_OPT_LEN; j++)
		s += sum_byte(opt[j], at + j);
	return s;
}

/* Turns the frame into the response s->q describes (its records from
 * set <set>): resized, the header and question (from the scratch), the
 * records and the OPT record, then the Ethernet, IP and UDP headers back
 * to the client and the DNS header's flags and counts, the UDP checksum
 * last. 0; 1: the frame could not be resized (untouched); -1: it
 * could not be written (damaged: dropped). */
__noinline int wx_dns_write(struct xdp_md *ctx, const struct wx_pkt *p,
			    const struct wx_dns_svc *svc, struct wx_dns_scratch *s,
			    const struct wx_dns_set *set)
{
	__u32 ulen, rr_at, bytes, from = 0, rsum, first = 0, an = 0, ns = 1;
	__u16 flags, ar, *h, check;
	struct dns_q *q;
	__u8 *opt, *macs;
	void *data, *end;
	struct udphdr *uh;
	__u64 sum = 0;
	int grow;

	if (!ctx || !p || !svc || !s)
		return 1;
	q = &s->q;
	opt = s->opt;
	macs = s->macs;
	ulen = q->rlen + sizeof(struct udphdr);
	rr_at = DNS_HDR + q->nlen + 4;
	flags = DNS_QR | DNS_AA | (q->flags & (DNS_RD | DNS_CD));
	ar = q->edns;
	if (set) {
		first = q->first;
		an = q->k;
		ns = 0;
		bytes = an * set->len;
		from = first * set->len;
		if (first >= WX_DNS_RRS || from > (WX_DNS_RRS - 1) * WX_DNS_RR_MAX)
			return 1;
	} else {
		bytes = q->body_len;
		flags |= q->rcode & 0xf;
	}
	if (bytes == 0 || bytes > WX_DNS_RRS * WX_DNS_RR_MAX || (!set && bytes > 2 + WX_DNS_SOA) ||
	    q->off > 256 || q->rlen > 2048)
		return 1;
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	if (data + ETH_HLEN > end)
		return 1;
	__builtin_memcpy(macs, data, 2 * ETH_ALEN);
	/* a response longer than its query grows at the front, where every
	 * driver leaves XDP_PACKET_HEADROOM (a veth's skb may have no room
	 * at its end); the headers and question are all written again */
	grow = (int)(q->off + q->rlen) - (int)bpf_xdp_get_buff_len(ctx);
	if (grow > 0 && bpf_xdp_adjust_head(ctx, -grow) && bpf_xdp_adjust_tail(ctx, grow))
		return 1;       /* no room at all: untouched, user space answers */
	if (grow < 0 && bpf_xdp_adjust_tail(ctx, grow))
		return 1;
	if (rr_at < DNS_HDR + 5 || rr_at > DNS_HDR + WX_DNS_NAME + 4 ||
	    bpf_xdp_store_bytes(ctx, q->off, s->msg, rr_at))
		return -1;
	if (set ? bpf_xdp_store_bytes(ctx, q->off + rr_at, (void *)set->rr + from, bytes) :
		  bpf_xdp_store_bytes(ctx, q->off + rr_at, s->body, bytes))
		return -1;
	if (q->edns) {
		sum += dns_opt_make(opt, svc, q, rr_at + bytes);
		if (bpf_xdp_store_bytes(ctx, q->off + rr_at + bytes, opt, DNS_OPT_LEN))
			return -1;
	}
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	if (data + L4_OFF6 + sizeof(*uh) + DNS_HDR > end)
		return -1;      /* (a response is never shorter than that) */
	__builtin_memcpy(data, macs + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(data + ETH_ALEN, macs, ETH_ALEN);
	((struct ethhdr *)data)->h_proto = bpf_htons(p->key.family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (p->key.family == 4) {
		struct iphdr *ip = data + ETH_HLEN;

		*(__u8 *)ip = 0x45;
		ip->protocol = IPPROTO_UDP;
		ip->tos = 0;
		ip->tot_len = bpf_htons(ulen + sizeof(*ip));
		ip->id = 0;
		ip->frag_off = bpf_htons(IP_DF);
		ip->ttl = 64;
		ip->saddr = p->key.dst.w[0];
		ip->daddr = p->key.src.w[0];
		ip->check = csum_ip4(ip);
		sum += (__u64)bpf_ntohl(p->key.src.w[0]) + bpf_ntohl(p->key.dst.w[0]);
		uh = data + L4_OFF4;
	} else {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		*(__u32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		__builtin_memcpy(ip6->saddr.in6_u.u6_addr32, p->key.dst.w, 16);
		__builtin_memcpy(ip6->daddr.in6_u.u6_addr32, p->key.src.w, 16);
#pragma clang loop unroll(full)
		for (int i = 0; i < 4; i++)
			sum += (__u64)bpf_ntohl(p->key.src.w[i]) + bpf_ntohl(p->key.dst.w[i]);
		uh = data + L4_OFF6;
	}
	h = (__u16 *)(uh + 1);
	uh->source = p->key.dport;
	uh->dest = p->key.sport;
	uh->len = bpf_htons(ulen);
	h[1] = bpf_htons(flags);
	h[3] = bpf_htons(an);
	h[4] = bpf_htons(ns);
	h[5] = bpf_htons(ar);
	/* pseudo-header (protocol, length), UDP header, DNS header, question */
	sum += IPPROTO_UDP + ulen;
	sum += bpf_ntohs(p->key.sport) + bpf_ntohs(p->key.dport) + ulen;
	sum += bpf_ntohs(h[0]) + flags + 1 + an + ns + ar + q->qsum;
	rsum = set ? set->sum[first & (WX_DNS_RRS - 1)] : q->body_sum;
	sum += q->nlen & 1 ? swap16(rsum) : rsum;
	check = (__u16)~csum_fold(sum);
	uh->check = bpf_htons(check ? check : 0xffff);
	return 0;
}

/* Whether the question's name (not one of wx_dns_names) lies under the
 * apex <neg> holds, at a label boundary: then it does not exist. */
__noinline int wx_dns_in_zone(const struct wx_dns_scratch *s, const struct wx_dns_neg *neg)
{
	__u32 nlen, alen, at;

	if (!s || !neg)
		return 0;
	nlen = s->q.nlen;
	alen = neg->apex_len;
	if (!alen || alen > WX_DNS_NAME || nlen <= alen || nlen > WX_DNS_NAME)
		return 0;
	at = nlen - alen;
	if (!((s->q.labels[(at >> 6) & 1] >> (at & 63)) & 1))
		return 0;
	for (__u32 i = 0; i < WX_DNS_NAME; i++) {
		if (i >= alen)
			break;
		if (s->key.name[(at + i) & (WX_DNS_NAME - 1)] != neg->apex[i & (WX_DNS_NAME - 1)])
			return 0;
	}
	return 1;
}

/* The authority section of a negative answer into s->body: the SOA
 * record, its owner a pointer to the apex's place in the question's name;
 * its length and sum into s->q. 0, or -1 if the zone has none here. */
__noinline int wx_dns_neg_body(struct wx_dns_scratch *s, const struct wx_dns_neg *neg)
{
	__u32 len, ptr;

	if (!s || !neg)
		return -1;
	len = neg->soa_len;
	if (!len || len > WX_DNS_SOA || neg->apex_len > s->q.nlen)
		return -1;
	ptr = 0xc000 | (DNS_HDR + s->q.nlen - neg->apex_len);
	s->body[0] = (__u8)(ptr >> 8);
	s->body[1] = (__u8)ptr;
	for (__u32 i = 0; i < WX_DNS_SOA / 8; i++) {
		if (i * 8 >= len)
			break;
		__builtin_memcpy(s->body + 2 + i * 8, neg->soa + i * 8, 8);
	}
	s->q.body_len = 2 + len;
	s->q.body_sum = csum_fold((__u64)ptr + neg->soa_sum);
	return 0;
}

static __always_inline void dns_count(const struct wx_dns_svc *svc, const struct wx_dns_name *nm,
				      const struct dns_q *q, int positive)
{
	struct wx_dns_stats *st = bpf_map_lookup_elem(&wx_dns_stats, &svc->id);
	__u32 name = nm && nm->idx < WX_DNS_NAMES ? nm->idx : WX_DNS_NAMES;
	__u32 type = q->qtype == DNS_T_A ? 0 : q->qtype == DNS_T_AAAA ? 1 : 2;

	count(WX_G_DNS);
	if (!st)
		return;
	st->queries++;
	st->inbytes += q->len;
	st->outbytes += q->rlen;
	if (positive) {
		st->q[name][q->aaaa & 1]++;
		st->first[q->aaaa & 1][q->first & (WX_DNS_RRS - 1)]++;
	} else {
		st->neg[name][type][q->rcode == DNS_R_NXDOMAIN]++;
	}
}

/* The negative answer to the query in <s>: NODATA for a name that exists
 * (<nm>), NXDOMAIN for one under the apex that does not. 0 with s->q
 * ready for wx_dns_write(), or -1: user space's (outside the zone, no SOA
 * here, too large). */
static __always_inline int dns_negative(const struct wx_dns_svc *svc, struct wx_dns_scratch *s,
					const struct wx_dns_name *nm)
{
	__u32 key = svc->id * 2 + (svc->half & 1);
	const struct wx_dns_neg *neg = bpf_map_lookup_elem(&wx_dns_negs, &key);
	struct dns_q *q = &s->q;

	if (!neg)
		return -1;
	if (!nm && !wx_dns_in_zone(s, neg))
		return -1;
	q->rcode = nm ? 0 : DNS_R_NXDOMAIN;
	if (wx_dns_neg_body(s, neg))
		return -1;
	q->rlen = DNS_HDR + q->nlen + 4 + q->body_len + (q->edns ? DNS_OPT_LEN : 0);
	return q->rlen > q->limit ? -1 : 0;
}

/* A UDP packet <p> to DNS service <svc>: XDP_TX with its response, or
 * XDP_PASS for the socket (user space answers). */
static __always_inline int dns_query(struct xdp_md *ctx, const struct wx_pkt *p,
				     const struct wx_dns_svc *svc)
{
	const struct wx_dns_name *nm;
	const struct wx_dns_set *set = NULL;
	struct wx_dns_scratch *s;
	struct udphdr *uh;
	__u32 zero = 0, key;
	struct dns_q *q;
	int rc;

	s = bpf_map_lookup_elem(&wx_dns_scratch, &zero);
	if (!s || svc->id >= WX_MAX_SERVICES)
		goto pass;
	q = &s->q;
	__builtin_memset(q, 0, sizeof(*q));
	q->off = (p->key.family == 4 ? L4_OFF4 : L4_OFF6) + sizeof(struct udphdr);
	uh = pkt_data(ctx) + (p->key.family == 4 ? L4_OFF4 : L4_OFF6);
	if ((void *)(uh + 1) > pkt_end(ctx))
		goto pass;
	q->len = bpf_ntohs(uh->len) - sizeof(*uh);
	if (wx_dns_read(ctx, s, svc))
		goto pass;
	nm = bpf_map_lookup_elem(&wx_dns_names, &s->key);
	q->aaaa = q->qtype == DNS_T_AAAA;
	if (nm && nm->kind == WX_DNS_OWNED && (q->qtype == DNS_T_A || q->aaaa)) {
		key = (svc->id * 2 + (svc->half & 1)) * 2 + q->aaaa;
		set = bpf_map_lookup_elem(&wx_dns_sets, &key);
		if (set && (!set->n || set->n > WX_DNS_RRS || set->k > set->n || !set->k))
			set = NULL;     /* none of this family: NODATA */
	}
	if (set) {
		q->k = set->k;
		q->rlen = DNS_HDR + q->nlen + 4 + q->k * set->len + (q->edns ? DNS_OPT_LEN : 0);
		if (q->rlen > q->limit)
			goto pass;      /* TC: user space's */
		q->first = wx_dns_first(p, svc, q->aaaa, set->n);
	} else if (dns_negative(svc, s, nm)) {
		goto pass;
	}
	rc = wx_dns_write(ctx, p, svc, s, set);
	if (rc > 0)
		goto pass;
	if (rc < 0)
		return XDP_DROP;
	dns_count(svc, nm, q, set != NULL);
	return XDP_TX;
pass:
	count(WX_G_DNS_PASS);
	return XDP_PASS;
}

#endif
