/* test_config_timeouts.c - the global connection timeouts in the config
 * file: at the top level, in the xdp block (as before), written back by
 * config_write(), and what a proxy service's idle timeout makes of them. */
#include <netinet/in.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "unit.h"

static int parse(const char *text, struct weir_config *c, char *err)
{
	err[0] = '\0';
	return config_parse("t.conf", text, strlen(text), c, err);
}

TEST(cfgtimeouts_defaults_are_ipvss)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("", &c, err) == 0);
	CHECK_EQ(c.timeouts.tcp_ms, 900000);
	CHECK_EQ(c.timeouts.tcp_fin_ms, 120000);
	CHECK_EQ(c.timeouts.udp_ms, 300000);
	spec_free(&c);
}

TEST(cfgtimeouts_top_level_and_xdp_block)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("tcp_timeout 1m;\ntcp_fin_timeout 30s;\nudp_timeout 1500ms;\n", &c,
		      err) == 0);
	CHECK_EQ(c.timeouts.tcp_ms, 60000);
	CHECK_EQ(c.timeouts.tcp_fin_ms, 30000);
	CHECK_EQ(c.timeouts.udp_ms, 1500);
	spec_free(&c);
	/* the xdp block's keywords set the same globals */
	REQUIRE(parse("xdp {\n  tcp_timeout 2m;\n  udp_timeout 9s;\n  tcp_syn_timeout 5s;\n}\n",
		      &c, err) == 0);
	CHECK_EQ(c.timeouts.tcp_ms, 120000);
	CHECK_EQ(c.timeouts.udp_ms, 9000);
	CHECK_EQ(c.xdp.tcp_syn_ms, 5000);
	spec_free(&c);
	CHECK(parse("udp_timeout 5ms;\n", &c, err) != 0);
	CHECK_STR(err, "t.conf:1: udp_timeout: at least 10ms");
	CHECK(parse("tcp_timeout 2678401s;\n", &c, err) != 0);
	CHECK_STR(err, "t.conf:1: tcp_timeout: at most 31 days");
	REQUIRE(parse("tcp_timeout 2678400s;\n", &c, err) == 0);
	spec_free(&c);
}

TEST(cfgtimeouts_written_at_top_level)
{
	struct weir_config c, back;
	char err[CONFIG_ERR_MAX];
	struct buf out = { 0 };

	REQUIRE(parse("xdp {\n  tcp_timeout 2m;\n}\nudp_timeout 1500ms;\n", &c, err) == 0);
	config_write(&c, &out);
	buf_append(&out, "", 1);
	CHECK(strstr(buf_head(&out), "\ntcp_timeout 120s;\nudp_timeout 1500ms;\n") != NULL);
	CHECK(strstr(buf_head(&out), "xdp {") == NULL);
	REQUIRE(parse(buf_head(&out), &back, err) == 0);
	CHECK(memcmp(&back.timeouts, &c.timeouts, sizeof(c.timeouts)) == 0);
	spec_free(&back);
	spec_free(&c);
	buf_free(&out);
}

TEST(cfgtimeouts_proxy_idle_timeout_precedence)
{
	struct conn_timeouts g = { .tcp_ms = 60000, .tcp_fin_ms = 1000, .udp_ms = 7000 };
	struct service_spec s;

	spec_service_defaults(&s);
	s.proto = IPPROTO_TCP;
	CHECK_EQ(spec_idle_timeout(&s, &g), 60000);
	s.proto = IPPROTO_UDP;
	CHECK_EQ(spec_idle_timeout(&s, &g), 7000);
	s.idle_timeout_ms = 5000;
	CHECK_EQ(spec_idle_timeout(&s, &g), 5000);
}
