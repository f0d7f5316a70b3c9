/*
 * decap.c - fixtures for tc_decap: an IP-in-IP packet whose inner
 * destination is a listed VIP loses its outer header; anything else, cut
 * short or not, goes on untouched, and the program always says TC_ACT_OK.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixtures.h"
#include "tc_decap.skel.h"

static int tc_run(const struct pkt *in, struct pkt *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in->b, .data_size_in = (__u32)in->len,
		.data_out = out->b, .data_size_out = sizeof(out->b),
		.repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(X.tc->progs.tc_decap), &o) != 0)
		return -errno;
	out->len = o.data_size_out;
	return (int)o.retval;
}

static void vip_add(const char *vip)
{
	struct wx_vip_key k = {0};
	__u8 one = 1;

	k.family = (__u8)pkt_addr(k.addr.w, vip);
	if (bpf_map_update_elem(bpf_map__fd(X.tc->maps.wx_vips), &k, &one, BPF_ANY) != 0)
		check(0, "decap: wx_vips", "update: %s", strerror(errno));
}

static void tc_expect(const char *what, const struct pkt *in, const struct pkt *want)
{
	static struct pkt out;
	static char why[4096];
	int v = tc_run(in, &out);

	if (v != 0) {
		check(0, what, "returned %d, want TC_ACT_OK (0)", v);
		return;
	}
	if (pkt_diff(&out, want, why, sizeof(why))) {
		check(0, what, "%s", why);
		return;
	}
	check(1, what, "%s", "");
}

/* Every prefix: TC_ACT_OK, and either untouched or decapsulated as is.
 * The kernel builds no test skb for an IP frame whose IP header is cut
 * (EINVAL); a 14-byte frame of another type shows it is not the length. */
static void tc_truncations(const char *what, const struct pkt *p, size_t outer)
{
	static struct pkt cut, out;
	char detail[160] = "";
	int bad = 0;

	for (size_t len = 14; len <= p->len; len++) {
		int v;

		memcpy(cut.b, p->b, len);
		cut.len = len;
		v = tc_run(&cut, &out);
		if (v == -EINVAL && len < 14 + outer)
			continue;
		if (v == 0 && out.len == len && !memcmp(out.b, cut.b, len))
			continue;
		if (v == 0 && len >= 14 + outer && out.len == len - outer &&
		    !memcmp(out.b, cut.b, 14) && !memcmp(out.b + 14, cut.b + 14 + outer, len - 14 - outer))
			continue;
		if (!bad++)
			snprintf(detail, sizeof(detail), "at %zu of %zu bytes: returned %d, %zu bytes out",
				 len, p->len, v, out.len);
	}
	check(!bad, what, "%d lengths wrong, first %s", bad, detail);
}

void fx_decap(const struct net *n)
{
	struct pkt_spec s = {
		.smac = MAC_R, .dmac = MAC_RS0, .src = n->client, .dst = n->vip,
		.sport = 52000, .dport = 80, .proto = IPPROTO_TCP, .flags = TCPF_SYN,
		.df = 1, .payload = 16, .outer_src = n->local, .outer_dst = n->rs[0],
	}, plain;
	char what[5][96];
	struct pkt in, want;

	for (int i = 0; i < 5; i++)
		snprintf(what[i], sizeof(what[i]), "[v%d] %s", n->family,
			 (const char *const[]){
				"decap: IP-in-IP to a listed VIP loses its outer header",
				"decap: IP-in-IP to another address is left alone",
				"decap: a plain packet is left alone",
				"decap: every prefix of a tunnelled packet",
				"decap: a 14-byte non-IP frame is left alone",
			 }[i]);
	vip_add(n->vip);
	plain = s;
	plain.outer_src = plain.outer_dst = NULL;
	pkt_build(&in, &s);
	pkt_build(&want, &plain);
	tc_expect(what[0], &in, &want);
	tc_truncations(what[3], &in, n->family == 4 ? 20 : 40);
	in.b[12] = 0x08;
	in.b[13] = 0x06;
	in.len = 14;
	tc_expect(what[4], &in, &in);
	s.dst = n->vip2;
	pkt_build(&in, &s);
	tc_expect(what[1], &in, &in);
	pkt_build(&in, &plain);
	tc_expect(what[2], &in, &in);
}
