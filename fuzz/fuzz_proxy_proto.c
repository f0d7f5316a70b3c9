/* fuzz_proxy_proto.c - libFuzzer driver for the PROXY protocol parser.
 * Besides not crashing, it checks that:
 * - a parsed header re-encoded in the same version parses to the same
 *   addresses, protocol and local flag;
 * - the answer is stable: a parsed header parses alone, its prefixes need
 *   more, a prefix of "need more" needs more, and more bytes never change
 *   a final answer (length, error, not PROXY);
 * - <out> is only written on success. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static bool same_info(const struct pp_info *a, const struct pp_info *b)
{
	if (a->version != b->version || a->local != b->local)
		return false;
	if (a->local)	/* both carry zeroed addresses */
		return memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
		       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
	return a->proto == b->proto && addr_equal(&a->src, &b->src) &&
	       addr_equal(&a->dst, &b->dst);
}

/* Re-encodes <pi> in its version and parses the result again. */
static void check_reencode(const struct pp_info *pi)
{
	const struct weir_addr *src = pi->local ? NULL : &pi->src;
	const struct weir_addr *dst = pi->local ? NULL : &pi->dst;
	uint8_t out[PP_BUILD_MAX];
	struct pp_info again;
	int n, rc;

	if (pi->version == 1)
		n = pp_build_v1((char *)out, sizeof(out), src, dst);
	else
		n = pp_build_v2(out, sizeof(out), src, dst, pi->proto);
	if (n <= 0)
		FAIL("re-encoding v%d gave %d", pi->version, n);
	rc = pp_parse(out, (size_t)n, &again);
	if (rc != n)
		FAIL("re-encoded v%d header of %d bytes parsed as %d", pi->version, n, rc);
	if (!same_info(pi, &again))
		FAIL("re-encoded v%d header parsed to other addresses", pi->version);
}

/* More bytes after <data> must not change a final answer <rc>. */
static void check_extended(const uint8_t *data, size_t size, int rc)
{
	static uint8_t twice[2 * (PP_V2_MAX + 64)];
	struct pp_info pi;
	int rc2;

	if (rc == PP_NEED_MORE || size == 0 || 2 * size > sizeof(twice))
		return;
	memcpy(twice, data, size);
	memcpy(twice + size, data, size);
	rc2 = pp_parse(twice, 2 * size, &pi);
	if (rc2 != rc)
		FAIL("answer %d became %d with more bytes", rc, rc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_info pi, untouched;
	int rc, rc2;

	memset(&pi, 0xa5, sizeof(pi));
	untouched = pi;
	rc = pp_parse(data, size, &pi);
	if (rc <= 0) {
		if (rc != PP_ERROR && rc != PP_NEED_MORE && rc != PP_NOT_PROXY)
			FAIL("unexpected answer %d", rc);
		if (memcmp(&pi, &untouched, sizeof(pi)) != 0)
			FAIL("<out> written on answer %d", rc);
		if (rc == PP_NEED_MORE && size > 0 &&
		    (rc2 = pp_parse(data, size - 1, &pi)) != PP_NEED_MORE)
			FAIL("prefix of a valid prefix gave %d", rc2);
		check_extended(data, size, rc);
		return 0;
	}

	if ((size_t)rc > size)
		FAIL("consumed %d of %zu bytes", rc, size);
	if (pi.version == 1 ? rc > PP_V1_MAX : pi.version == 2 ? rc > PP_V2_MAX : true)
		FAIL("version %d header of %d bytes", pi.version, rc);
	if (pi.local ? addr_family(&pi.src) != AF_UNSPEC :
	    addr_family(&pi.src) != addr_family(&pi.dst))
		FAIL("families %d/%d, local %d", addr_family(&pi.src),
		     addr_family(&pi.dst), pi.local);
	if ((rc2 = pp_parse(data, (size_t)rc, &untouched)) != rc)
		FAIL("header alone gave %d, not %d", rc2, rc);
	if ((rc2 = pp_parse(data, (size_t)rc - 1, &untouched)) != PP_NEED_MORE)
		FAIL("header less one byte gave %d", rc2);
	check_extended(data, size, rc);
	check_reencode(&pi);
	return 0;
}
