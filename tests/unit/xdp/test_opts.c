/* test_opts.c - a packet-mode service's `interface` row (xdp/xdp_opts.c),
 * read as the config file and weirctl give it: commas between names, at
 * most XDP_SVC_IFACES, names the kernel could hold; `auto` clears it; the
 * printer writes what the reader takes back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/option.h"
#include "unit.h"
#include "xdp/xdp_int.h"

static int parse(const char *v, struct service_spec *s, char *why)
{
	const struct opt_ref *r = opt_find_key(OPT_SVC, "interface");
	char buf[128];
	char *w[1] = { buf };

	snprintf(buf, sizeof(buf), "%s", v);
	spec_service_defaults(s);
	return r ? opt_parse(r, w, 1, s, why) : -ENOENT;
}

TEST(xdp_interface_row_reads_and_prints)
{
	static struct service_spec s;
	const struct opt_ref *r = opt_find_key(OPT_SVC, "interface");
	char why[SPEC_ERR_MAX], out[128];

	REQUIRE(r);
	CHECK_EQ(parse("eth0,bond0.100", &s, why), 0);
	CHECK_STR(xdp_opts_spec(&s)->ifaces[0], "eth0");
	CHECK_STR(xdp_opts_spec(&s)->ifaces[1], "bond0.100");
	CHECK_STR(xdp_opts_spec(&s)->ifaces[2], "");
	opt_format(r, &s, out, sizeof(out));
	CHECK_STR(out, "eth0,bond0.100");
	CHECK_EQ(parse("auto", &s, why), 0);
	CHECK_STR(xdp_opts_spec(&s)->ifaces[0], "");
	opt_format(r, &s, out, sizeof(out));
	CHECK_STR(out, "");
}

TEST(xdp_interface_row_refuses_bad_names)
{
	static struct service_spec s;
	static const char *const bad[] = {
		"eth0,,eth1", "eth0,", ",eth0", "a,b,c,d,e", "eth0,eth0",
		"averyveryverylongname", "eth/0", "eth:0", "eth 0",
	};
	char why[SPEC_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(parse(bad[i], &s, why), -EINVAL);
		CHECK(why[0] != '\0');
	}
}
