/* proxy_proto.h - the PROXY protocol, versions 1 (text) and 2 (binary), as
 * described in HAProxy's doc/proxy-protocol.txt: a parser that never
 * allocates and resumes on partial input, and the two encoders.
 *
 * The parser keeps no state between calls: the caller accumulates what it
 * has read and calls pp_parse() again on the whole of it, as with
 * picohttpparser. The encoders write into a caller-owned buffer.
 */
#ifndef WEIR_PROTO_PROXY_PROTO_H
#define WEIR_PROTO_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/* pp_parse() results other than a byte count. These follow the
 * picohttpparser convention, not the -errno one. */
#define PP_ERROR	(-1)	/* malformed header: drop the connection */
#define PP_NEED_MORE	(-2)	/* a valid prefix so far: read more */
#define PP_NOT_PROXY	(-3)	/* neither "PROXY " nor the v2 signature */

/* Longest v1 line, "PROXY" to CRLF included (the spec's limit). */
#define PP_V1_MAX	107
/* v2 fixed part: 12-byte signature, ver_cmd, fam, 16-bit length. */
#define PP_V2_HDR_LEN	16
#define PP_V2_SIG_LEN	12
/* Largest v2 header (fixed part + address block + TLVs) pp_parse()
 * accepts. The format allows 16 + 65535; anything above this sanity limit
 * is PP_ERROR, detected as soon as the length field has arrived, so a
 * peer cannot make a connection buffer 64 KiB before being refused.
 * Override at build time with -DPP_V2_MAX=n, 16 + 216 <= n <= 16 + 65535. */
#ifndef PP_V2_MAX
#define PP_V2_MAX	4096
#endif
/* A buffer this large always suffices for pp_build_v1() and pp_build_v2(). */
#define PP_BUILD_MAX	108

/* What a PROXY header said. Filled by pp_parse() only on success.
 * <local> is true when the header carries no usable addresses (v1
 * UNKNOWN, v2 LOCAL, v2 UNSPEC or AF_UNIX): the caller must then use the
 * connection's real endpoints; <src> and <dst> are zeroed (AF_UNSPEC).
 * Otherwise <src> and <dst> are both AF_INET or both AF_INET6, with
 * ports. <proto> is SOCK_STREAM or SOCK_DGRAM, or 0 when not stated
 * (v1 UNKNOWN, v2 LOCAL, v2 UNSPEC). */
struct pp_info {
	int version;		/* 1 or 2 */
	bool local;
	int proto;
	struct weir_addr src, dst;
};

/* Parses a PROXY v1 or v2 header at the start of the <len> bytes of <buf>.
 * Returns the header's length in bytes (> 0) and fills <out>; the bytes
 * after it belong to the proxied stream. Returns PP_NEED_MORE when the
 * bytes seen are a valid beginning of a header (always for len == 0),
 * PP_ERROR when they cannot begin a valid one, PP_NOT_PROXY when the first
 * bytes match neither "PROXY " nor the v2 signature. <out> is untouched
 * unless a length is returned.
 *
 * v1 is strict: single spaces, CRLF, addresses valid for the stated family,
 * decimal ports 0..65535 without sign or leading zero. A partial v1 line is
 * checked field by field; an incomplete IPv6 field is only checked for its
 * characters and length, the full inet_pton() check happens once it ends.
 * v2: version 2, command LOCAL or PROXY, one of the seven family/transport
 * pairs the spec defines, an address block as long as the family needs,
 * and TLVs that exactly fill the rest (skipped, not interpreted). With
 * LOCAL, the family byte and whole block are ignored, as the spec says. */
int pp_parse(const uint8_t *buf, size_t len, struct pp_info *out);

/* Writes a v1 line for <src> -> <dst> into <out> (no NUL is written).
 * Same families give TCP4 or TCP6; a v4/v6 mix is sent as TCP6 with the
 * IPv4 side as a v4-mapped IPv6 address (::ffff:a.b.c.d), as HAProxy does,
 * so no information is lost. NULL or non-IP addresses give
 * "PROXY UNKNOWN\r\n". Returns the bytes written or -ENOSPC when <cap> is
 * too small (PP_BUILD_MAX always suffices). */
int pp_build_v1(char *out, size_t cap, const struct weir_addr *src,
		const struct weir_addr *dst);

/* Writes a v2 header for <src> -> <dst> over <proto> (SOCK_STREAM or
 * SOCK_DGRAM) into <out>, without TLVs. A v4/v6 mix is sent as AF_INET6
 * with the IPv4 side v4-mapped, as in pp_build_v1(). <src> or <dst> NULL
 * gives the LOCAL command (a connection of the director's own, e.g. a
 * health check); non-IP addresses give PROXY with family UNSPEC. Returns
 * the bytes written, -EINVAL for another <proto> with IP addresses, or
 * -ENOSPC when <cap> is too small (PP_BUILD_MAX always suffices). */
int pp_build_v2(uint8_t *out, size_t cap, const struct weir_addr *src,
		const struct weir_addr *dst, int proto);

#endif
