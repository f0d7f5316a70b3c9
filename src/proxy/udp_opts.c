/* udp_opts.c - the UDP proxy's block of option rows (see udp_opts.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "proxy/udp_opts.h"

static void udp_defaults(void *base)
{
	struct udp_opts *u = base;

	u->responses = UDP_UNLIMITED;
	u->requests = UDP_UNLIMITED;
}

/* `off` or a count; <zero_is_off>: 0 means no limit too (nginx's
 * proxy_requests 0). */
static int parse_count(const struct opt_row *o, char *const *w, int n, void *base,
		       char *why)
{
	uint32_t *f = (uint32_t *)((char *)base + o->off);
	uint32_t v;

	if (strcmp(w[0], "off") == 0) {
		*f = UDP_UNLIMITED;
		return 0;
	}
	if (parse_u32(w[0], 1000000, &v) != 0)
		return opt_fail(why, "'%s' is not off or a number 0..1000000", w[0]);
	*f = (v == 0 && o->min == 1) ? UDP_UNLIMITED : v;
	return 0;
}

static void format_count(const struct opt_row *o, const void *base, char *out, size_t len)
{
	uint32_t v = *(const uint32_t *)((const char *)base + o->off);

	if (v == UDP_UNLIMITED)
		snprintf(out, len, "off");
	else
		snprintf(out, len, "%u", v);
}

#define U struct udp_opts

static const struct opt_row udp_rows[] = {
	{ .key = "responses", .flag = "responses", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 1, OPT_FIELD(U, responses), .parse = parse_count,
	  .format = format_count, .metavar = "N|off", .example = "1", .def = "off",
	  .help = "weir: UDP: datagrams a server sends per client datagram; when all came "
		  "the session ends (DNS: 1; 0: none expected)" },
	{ .key = "requests", .flag = "requests", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 1, OPT_FIELD(U, requests), .min = 1, .parse = parse_count,
	  .format = format_count, .metavar = "N|off", .example = "3", .def = "off",
	  .help = "weir: UDP: client datagrams per session; the next starts a new session" },
};

#undef U

struct opt_block udp_opt_block = {
	.name = "udp", .scope = OPT_SVC,
	.size = sizeof(struct udp_opts), .align = _Alignof(struct udp_opts),
	.defaults = udp_defaults,
	.rows = udp_rows, .nrows = ARRAY_SIZE(udp_rows),
};
