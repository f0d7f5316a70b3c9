/* test_conns.c - the XDP flow table as -L -c sees it: the data path's
 * states in IPVS's names, and each state's life as the program's. */
#include <linux/types.h>

#include "ctl/list_conns.h"
#include "unit.h"
#include "xdp/conns.h"

#include "weir_xdp.h"

TEST(xdpconns_states)
{
	CHECK_STR(list_conn_state(IPPROTO_TCP, xdp_conn_state(WX_ST_SYN)), "SYN_RECV");
	CHECK_STR(list_conn_state(IPPROTO_TCP, xdp_conn_state(WX_ST_EST)), "ESTABLISHED");
	CHECK_STR(list_conn_state(IPPROTO_TCP, xdp_conn_state(WX_ST_FIN)), "FIN_WAIT");
	CHECK_STR(list_conn_state(IPPROTO_TCP, xdp_conn_state(WX_ST_CLOSE)), "CLOSE");
	CHECK_STR(list_conn_state(IPPROTO_UDP, xdp_conn_state(WX_ST_UDP)), "UDP");
}

TEST(xdpconns_life_follows_the_settings)
{
	struct wx_config c = { .tcp_syn_ms = 1000, .tcp_est_ms = 2000, .tcp_fin_ms = 3000,
			       .udp_ms = 4000 };
	struct wx_config none = { 0 };

	CHECK_EQ(xdp_flow_life_ms(&c, WX_ST_SYN), 1000);
	CHECK_EQ(xdp_flow_life_ms(&c, WX_ST_EST), 2000);
	CHECK_EQ(xdp_flow_life_ms(&c, WX_ST_FIN), 3000);
	CHECK_EQ(xdp_flow_life_ms(&c, WX_ST_CLOSE), 3000);
	CHECK_EQ(xdp_flow_life_ms(&c, WX_ST_UDP), 4000);
	/* unset: the program's defaults, IPVS's */
	CHECK_EQ(xdp_flow_life_ms(&none, WX_ST_EST), 900000);
	CHECK_EQ(xdp_flow_life_ms(&none, WX_ST_FIN), 120000);
	CHECK_EQ(xdp_flow_life_ms(&none, WX_ST_UDP), 300000);
	CHECK_EQ(xdp_flow_life_ms(&none, WX_ST_SYN), 60000);
}
