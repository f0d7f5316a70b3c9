/*
 * xdp_opts.c - a packet-mode service's --interface (config: `interface
 * IF[,IF...]`): the interfaces its packets come in and go out on, given
 * rather than found from the VIP's and the real servers' routes
 * (attach.c). A row block in the service's option area (core/option.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "xdp/xdp_int.h"

/* "IF[,IF...]": names the kernel could hold (checked against the system
 * at apply time, not here: a config may name one created later). */
static int parse_ifaces(const struct opt_row *o, char *const *w, int n, void *base,
			char *why)
{
	struct xdp_opts *x = base;
	const char *s = w[0];
	int k = 0;

	memset(x->ifaces, 0, sizeof(x->ifaces));
	if (strcmp(s, "auto") == 0 || strcmp(s, "off") == 0)
		return 0;
	while (*s) {
		size_t len = strcspn(s, ",");

		if (len == 0 || len >= IF_NAMESIZE)
			return opt_fail(why, "'%.*s' is not an interface name", (int)len, s);
		if (k == XDP_SVC_IFACES)
			return opt_fail(why, "at most %d interfaces", XDP_SVC_IFACES);
		for (size_t i = 0; i < len; i++)
			if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
				return opt_fail(why, "'%.*s' is not an interface name", (int)len, s);
		for (int j = 0; j < k; j++)
			if (strlen(x->ifaces[j]) == len && memcmp(x->ifaces[j], s, len) == 0)
				return opt_fail(why, "'%s' given twice", x->ifaces[j]);
		memcpy(x->ifaces[k++], s, len);
		s += len;
		if (*s == ',' && !*++s)
			return opt_fail(why, "an interface name after the last ','");
	}
	return 0;
}

static void format_ifaces(const struct opt_row *o, const void *base, char *out, size_t len)
{
	const struct xdp_opts *x = base;
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < XDP_SVC_IFACES && x->ifaces[i][0] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "",
					 x->ifaces[i]);
}

static const struct opt_row xdp_rows[] = {
	{ .key = "interface", .flag = "interface", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 1, OPT_FIELD(struct xdp_opts, ifaces),
	  .parse = parse_ifaces, .format = format_ifaces, .metavar = "IF[,IF...]",
	  .example = "eth0,eth1", .def = "auto",
	  .help = "weir: packet mode: the interfaces its traffic comes in and leaves on "
		  "(default: found from the VIP's and the real servers' routes)" },
};

struct opt_block xdp_opt_block = {
	.name = "xdp", .scope = OPT_SVC,
	.size = sizeof(struct xdp_opts), .align = _Alignof(struct xdp_opts),
	.rows = xdp_rows, .nrows = ARRAY_SIZE(xdp_rows),
};
