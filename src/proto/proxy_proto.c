/* proxy_proto.c - PROXY protocol v1/v2 parser and encoders; see
 * proxy_proto.h. Written from HAProxy's doc/proxy-protocol.txt. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "proto/proxy_proto.h"

_Static_assert(PP_V2_MAX >= PP_V2_HDR_LEN + 216 && PP_V2_MAX <= PP_V2_HDR_LEN + 0xffff,
	       "PP_V2_MAX must hold an AF_UNIX block and fit the 16-bit length");

static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_sig) - 1)

static const uint8_t v2_sig[PP_V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1

/* --- v1 ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int family;		/* AF_UNSPEC: UNKNOWN */
} v1_protos[] = {
	{ "TCP4", AF_INET },
	{ "TCP6", AF_INET6 },
	{ "UNKNOWN", AF_UNSPEC },
};

/* Returns the index in v1_protos of the protocol named by the <n> bytes at
 * <p>, or, when the field is not <done>, of one it may still become; -1
 * when there is none. */
static int v1_proto(const uint8_t *p, size_t n, bool done)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_protos); i++) {
		size_t l = strlen(v1_protos[i].name);

		if (n > l || memcmp(p, v1_protos[i].name, n) != 0)
			continue;
		if (!done || n == l)
			return (int)i;
	}
	return -1;
}

/* Tells whether <p>[<n>] is a dotted quad (or, when not <done>, the start
 * of one) with no leading zero in an octet. inet_pton() checks it again;
 * this is what lets a partial field be refused early, and it does not
 * depend on the libc's view of leading zeros. */
static bool v4_text_ok(const uint8_t *p, size_t n, bool done)
{
	unsigned int dots = 0, digits = 0, val = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (!digits || ++dots > 3)
				return false;
			digits = val = 0;
			continue;
		}
		if (p[i] < '0' || p[i] > '9' || (digits && val == 0))
			return false;
		val = val * 10 + (unsigned int)(p[i] - '0');
		digits++;
		if (val > 255)
			return false;
	}
	return !done || (dots == 3 && digits);
}

/* The characters an IPv6 text address may hold, within its longest form.
 * Only a first filter: inet_pton() decides once the field is done. */
static bool v6_text_ok(const uint8_t *p, size_t n)
{
	if (n > INET6_ADDRSTRLEN - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!p[i] || !strchr("0123456789abcdefABCDEF:.", p[i]))
			return false;
	return true;
}

/* Checks the address field <p>[<n>] of <family>; when <done>, stores it in
 * <a> (port 0). Returns 0 or PP_ERROR. */
static int v1_addr(const uint8_t *p, size_t n, bool done, int family,
		   struct weir_addr *a)
{
	char text[INET6_ADDRSTRLEN];
	void *bin;

	if (family == AF_INET ? !v4_text_ok(p, n, done) : !v6_text_ok(p, n))
		return PP_ERROR;
	if (!done)
		return 0;
	memcpy(text, p, n);
	text[n] = '\0';
	memset(a, 0, sizeof(*a));
	a->u.sa.sa_family = (sa_family_t)family;
	bin = family == AF_INET ? (void *)&a->u.in.sin_addr : (void *)&a->u.in6.sin6_addr;
	return inet_pton(family, text, bin) == 1 ? 0 : PP_ERROR;
}

/* Checks the port field <p>[<n>]: 0..65535 in decimal, no sign, no leading
 * zero. When <done>, sets it as <a>'s port. Returns 0 or PP_ERROR. */
static int v1_port(const uint8_t *p, size_t n, bool done, struct weir_addr *a)
{
	uint32_t v = 0;

	if (n > 5 || (n > 1 && p[0] == '0') || (done && n == 0))
		return PP_ERROR;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return PP_ERROR;
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	if (v > 65535)
		return PP_ERROR;
	if (done)
		addr_set_port(a, (uint16_t)v);
	return 0;
}

/* Checks the fields after "PROXY ", the <n> bytes at <p>. <final> says the
 * line ends there (its CR was seen); otherwise the last field may still
 * grow. Fills <pi> as far as the fields are known. Returns 0 or PP_ERROR. */
static int v1_fields(const uint8_t *p, size_t n, bool final, struct pp_info *pi)
{
	const uint8_t *end = p + n;
	int field = 0, family = AF_UNSPEC;

	for (;;) {
		const uint8_t *sp = memchr(p, ' ', (size_t)(end - p));
		size_t fn = (size_t)((sp ? sp : end) - p);
		bool done = sp || final;
		int rc = 0;

		if (field == 0) {
			int i = v1_proto(p, fn, done);

			if (i < 0)
				return PP_ERROR;
			family = v1_protos[i].family;
			if (done && family == AF_UNSPEC) {
				/* UNKNOWN: the rest of the line is ignored */
				pi->local = true;
				return 0;
			}
		} else if (field <= 2) {
			rc = v1_addr(p, fn, done, family, field == 1 ? &pi->src : &pi->dst);
		} else {
			rc = v1_port(p, fn, done, field == 3 ? &pi->src : &pi->dst);
		}
		if (rc < 0)
			return rc;
		if (!sp)
			break;
		if (++field > 4)
			return PP_ERROR;
		p = sp + 1;
	}
	if (final && field != 4)
		return PP_ERROR;
	pi->proto = SOCK_STREAM;
	return 0;
}

/* Parses a v1 line; <buf> starts with "PROXY ". See pp_parse(). */
static int v1_parse(const uint8_t *buf, size_t len, struct pp_info *out)
{
	/* The CR must leave room for the LF within PP_V1_MAX. */
	const uint8_t *cr = memchr(buf, '\r', MIN(len, PP_V1_MAX - 1));
	size_t end = cr ? (size_t)(cr - buf) : len;
	bool complete = cr && end + 1 < len;
	struct pp_info pi;
	int rc;

	if (!cr && len >= PP_V1_MAX - 1)
		return PP_ERROR;
	if (complete && buf[end + 1] != '\n')
		return PP_ERROR;
	memset(&pi, 0, sizeof(pi));
	pi.version = 1;
	rc = v1_fields(buf + V1_SIG_LEN, end - V1_SIG_LEN, cr != NULL, &pi);
	if (rc < 0)
		return rc;
	if (!complete)
		return PP_NEED_MORE;
	*out = pi;
	return (int)(end + 2);
}

/* --- v2 ------------------------------------------------------------------ */

/* Returns the address block length the v2 family/transport byte <fam>
 * needs, or -1 when the spec does not define that byte. */
static int v2_addr_len(uint8_t fam)
{
	switch (fam) {
	case 0x00:		/* UNSPEC */
		return 0;
	case 0x11: case 0x12:	/* AF_INET, STREAM or DGRAM */
		return 12;
	case 0x21: case 0x22:	/* AF_INET6 */
		return 36;
	case 0x31: case 0x32:	/* AF_UNIX */
		return 216;
	default:
		return -1;
	}
}

/* Walks the TLVs from offset <pos> to <total> over the <avail> bytes of
 * <buf> received so far. Each TLV is type, 16-bit length, value; one that
 * overruns <total>, or 1-2 stray bytes at the end, is PP_ERROR. Returns 0
 * or PP_ERROR. */
static int v2_tlvs(const uint8_t *buf, size_t avail, size_t pos, size_t total)
{
	avail = MIN(avail, total);
	while (pos + 3 <= avail) {
		size_t vlen = (size_t)buf[pos + 1] << 8 | buf[pos + 2];

		if (pos + 3 + vlen > total)
			return PP_ERROR;
		pos += 3 + vlen;
	}
	/* <pos> is a TLV boundary: what follows must hold a TLV header */
	if (pos < total && total - pos < 3)
		return PP_ERROR;
	return 0;
}

static void set_in(struct weir_addr *a, const uint8_t *ip, const uint8_t *port)
{
	memset(a, 0, sizeof(*a));
	a->u.in.sin_family = AF_INET;
	memcpy(&a->u.in.sin_addr, ip, 4);
	memcpy(&a->u.in.sin_port, port, 2);
}

static void set_in6(struct weir_addr *a, const uint8_t *ip, const uint8_t *port)
{
	memset(a, 0, sizeof(*a));
	a->u.in6.sin6_family = AF_INET6;
	memcpy(&a->u.in6.sin6_addr, ip, 16);
	memcpy(&a->u.in6.sin6_port, port, 2);
}

/* Fills <pi> from a PROXY command's family byte <fam> and its address
 * block <b>, whose length was checked. */
static void v2_addrs(uint8_t fam, const uint8_t *b, struct pp_info *pi)
{
	static const int protos[] = { 0, SOCK_STREAM, SOCK_DGRAM };

	pi->proto = protos[fam & 0x0f];
	switch (fam >> 4) {
	case 1:
		set_in(&pi->src, b, b + 8);
		set_in(&pi->dst, b + 4, b + 10);
		break;
	case 2:
		set_in6(&pi->src, b, b + 32);
		set_in6(&pi->dst, b + 16, b + 34);
		break;
	default:	/* UNSPEC, AF_UNIX: use the real endpoints */
		pi->local = true;
		break;
	}
}

/* Parses a v2 header; <buf> starts with the whole 12-byte signature. Each
 * byte is judged as soon as it arrives, so PP_NEED_MORE only answers a
 * valid prefix. See pp_parse(). */
static int v2_parse(const uint8_t *buf, size_t len, struct pp_info *out)
{
	uint8_t cmd, fam;
	size_t total;
	int alen = 0;
	struct pp_info pi;

	if (len < 13)
		return PP_NEED_MORE;
	if (buf[12] >> 4 != 2)
		return PP_ERROR;
	cmd = buf[12] & 0x0f;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return PP_ERROR;
	if (len < 14)
		return PP_NEED_MORE;
	fam = buf[13];
	/* LOCAL: "the family is ignored", and so is the block */
	if (cmd == V2_CMD_PROXY && (alen = v2_addr_len(fam)) < 0)
		return PP_ERROR;
	if (len < PP_V2_HDR_LEN)
		return PP_NEED_MORE;
	total = PP_V2_HDR_LEN + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PP_V2_MAX || total < PP_V2_HDR_LEN + (size_t)alen)
		return PP_ERROR;
	/* UNSPEC's block is to be ignored, so only a known one has TLVs */
	if (cmd == V2_CMD_PROXY && fam != 0x00 &&
	    v2_tlvs(buf, len, PP_V2_HDR_LEN + (size_t)alen, total) < 0)
		return PP_ERROR;
	if (len < total)
		return PP_NEED_MORE;

	memset(&pi, 0, sizeof(pi));
	pi.version = 2;
	if (cmd == V2_CMD_LOCAL)
		pi.local = true;
	else
		v2_addrs(fam, buf + PP_V2_HDR_LEN, &pi);
	*out = pi;
	return (int)total;
}

int pp_parse(const uint8_t *buf, size_t len, struct pp_info *out)
{
	size_t n;

	if (len == 0)
		return PP_NEED_MORE;
	if (buf[0] == (uint8_t)v1_sig[0]) {
		n = MIN(len, V1_SIG_LEN);
		if (memcmp(buf, v1_sig, n) != 0)
			return PP_NOT_PROXY;
		return n < V1_SIG_LEN ? PP_NEED_MORE : v1_parse(buf, len, out);
	}
	n = MIN(len, PP_V2_SIG_LEN);
	if (memcmp(buf, v2_sig, n) != 0)
		return PP_NOT_PROXY;
	return v2_parse(buf, len, out);
}

/* --- encoders ------------------------------------------------------------ */

static bool is_ip(const struct weir_addr *a)
{
	return a && (addr_family(a) == AF_INET || addr_family(a) == AF_INET6);
}

/* Writes <a>'s address as 16 bytes, an IPv4 one v4-mapped (::ffff:a.b.c.d). */
static void as_v6(const struct weir_addr *a, uint8_t ip[16])
{
	if (addr_family(a) == AF_INET6) {
		memcpy(ip, &a->u.in6.sin6_addr, 16);
		return;
	}
	memset(ip, 0, 10);
	ip[10] = ip[11] = 0xff;
	memcpy(ip + 12, &a->u.in.sin_addr, 4);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int pp_build_v1(char *out, size_t cap, const struct weir_addr *src,
		const struct weir_addr *dst)
{
	char line[128], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint8_t ip[16];
	bool v4;
	int n;

	if (!is_ip(src) || !is_ip(dst)) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		v4 = addr_family(src) == AF_INET && addr_family(dst) == AF_INET;
		if (v4) {
			inet_ntop(AF_INET, &src->u.in.sin_addr, s, sizeof(s));
			inet_ntop(AF_INET, &dst->u.in.sin_addr, d, sizeof(d));
		} else {
			as_v6(src, ip);
			inet_ntop(AF_INET6, ip, s, sizeof(s));
			as_v6(dst, ip);
			inet_ntop(AF_INET6, ip, d, sizeof(d));
		}
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
			     v4 ? "TCP4" : "TCP6", s, d, addr_port(src), addr_port(dst));
	}
	if (n < 0 || (size_t)n > cap)
		return -ENOSPC;
	memcpy(out, line, (size_t)n);
	return n;
}

/* Writes the v2 address block for <src>, <dst> at <b>; returns the family
 * byte's address nibble and sets <*alen>. */
static uint8_t v2_put_addrs(uint8_t *b, const struct weir_addr *src,
			    const struct weir_addr *dst, size_t *alen)
{
	if (addr_family(src) == AF_INET && addr_family(dst) == AF_INET) {
		memcpy(b, &src->u.in.sin_addr, 4);
		memcpy(b + 4, &dst->u.in.sin_addr, 4);
		put_be16(b + 8, addr_port(src));
		put_be16(b + 10, addr_port(dst));
		*alen = 12;
		return 0x10;
	}
	as_v6(src, b);
	as_v6(dst, b + 16);
	put_be16(b + 32, addr_port(src));
	put_be16(b + 34, addr_port(dst));
	*alen = 36;
	return 0x20;
}

int pp_build_v2(uint8_t *out, size_t cap, const struct weir_addr *src,
		const struct weir_addr *dst, int proto)
{
	uint8_t hdr[PP_V2_HDR_LEN + 36];
	uint8_t cmd = 0x20 | V2_CMD_PROXY, fam = 0x00;
	size_t alen = 0;

	if (!src || !dst) {
		cmd = 0x20 | V2_CMD_LOCAL;
	} else if (is_ip(src) && is_ip(dst)) {
		if (proto != SOCK_STREAM && proto != SOCK_DGRAM)
			return -EINVAL;
		fam = v2_put_addrs(hdr + PP_V2_HDR_LEN, src, dst, &alen);
		fam |= proto == SOCK_STREAM ? 0x1 : 0x2;
	}
	memcpy(hdr, v2_sig, PP_V2_SIG_LEN);
	hdr[12] = cmd;
	hdr[13] = fam;
	put_be16(hdr + 14, (uint16_t)alen);
	if (PP_V2_HDR_LEN + alen > cap)
		return -ENOSPC;
	memcpy(out, hdr, PP_V2_HDR_LEN + alen);
	return (int)(PP_V2_HDR_LEN + alen);
}
