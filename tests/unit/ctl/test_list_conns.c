/* test_list_conns.c - weirctl -L -c's format and states, and --set /
 * -L --timeout on a live table. */
#include <netinet/in.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/table.h"
#include "core/util.h"
#include "ctl/list_conns.h"
#include "fixture.h"

static struct weir_addr ad(const char *s)
{
	struct weir_addr a;

	if (addr_parse(s, true, &a) != 0)
		abort();
	return a;
}

static const char *text(struct buf *b)
{
	buf_append(b, "", 1);
	b->len--;
	return buf_head(b);
}

TEST(listconns_header_as_ipvsadm)
{
	struct conn_list l = { 0 };
	struct buf out = { 0 };

	list_conns_write(&l, false, false, &out);
	CHECK_STR(text(&out), "IPVS connection entries\n"
		  "pro expire state       source             virtual            destination\n");
	buf_reset(&out);
	list_conns_write(&l, true, false, &out);
	CHECK_STR(text(&out), "IPVS connection entries\n"
		  "pro expire state       source             virtual            destination"
		  "        pe name          pe_data\n");
	buf_free(&out);
}

TEST(listconns_lines_sorted_and_formatted)
{
	struct conn_list l = { 0 };
	struct buf out = { 0 };
	struct conn_entry e[] = {
		{ IPPROTO_UDP, CONN_UDP, 299, ad("10.0.0.9:5353"), ad("192.0.2.1:53"),
		  ad("10.1.0.1:53") },
		{ IPPROTO_TCP, CONN_ESTABLISHED, 899, ad("10.0.0.2:40000"), ad("192.0.2.1:80"),
		  ad("10.1.0.1:8080") },
		{ IPPROTO_TCP, CONN_FIN_WAIT, 61, ad("10.0.0.1:40001"), ad("192.0.2.1:80"),
		  ad("10.1.0.2:8080") },
		/* a template: port 0, state NONE; a session not connected yet */
		{ IPPROTO_TCP, CONN_NONE, 6000, ad("10.0.0.0"), ad("192.0.2.2:0"), ad("10.1.0.3:0") },
		{ IPPROTO_TCP, CONN_SYN_SENT, 1, ad("[2001:db8::1]:1234"), ad("[2001:db8::80]:443"),
		  { { { 0 } } } },
	};

	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		REQUIRE(conn_list_add(&l, &e[i]) == 0);
	list_conns_write(&l, false, false, &out);
	CHECK_STR(text(&out), "IPVS connection entries\n"
		  "pro expire state       source             virtual            destination\n"
		  "TCP 01:01  FIN_WAIT    10.0.0.1:40001     192.0.2.1:80       10.1.0.2:8080\n"
		  "TCP 14:59  ESTABLISHED 10.0.0.2:40000     192.0.2.1:80       10.1.0.1:8080\n"
		  "TCP 100:00 NONE        10.0.0.0:0         192.0.2.2:0        10.1.0.3:0\n"
		  "TCP 00:01  SYN_SENT    [2001:db8::1]:1234 [2001:db8::80]:443 [::]:0\n"
		  "UDP 04:59  UDP         10.0.0.9:5353      192.0.2.1:53       10.1.0.1:53\n");
	conn_list_free(&l);
	buf_free(&out);
}

TEST(listconns_names_as_marks)
{
	struct conn_list l = { 0 };
	struct buf out = { 0 };
	struct conn_entry e = { IPPROTO_TCP, CONN_ESTABLISHED, 61, ad("10.0.0.1:40001"),
				ad("192.0.2.1:80"), { { { 0 } } } };

	REQUIRE(conn_list_add(&l, &e) == 0);
	list_conns_write(&l, false, true, &out);
	/* weirctl replaces each mark with the names, padded as ipvsadm's columns */
	CHECK_STR(strstr(text(&out), "\nTCP "), "\nTCP 01:01  ESTABLISHED "
		  "\x01" "0 18 6 10.0.0.1:40001\x1f\x02 "
		  "\x01" "0 18 6 192.0.2.1:80\x1f\x02 "
		  "\x01" "0 0 6 0.0.0.0:0\x1f\x02\n");
	conn_list_free(&l);
	buf_free(&out);
}

TEST(listconns_state_names_are_the_kernels)
{
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_NONE), "NONE");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_SYN_SENT), "SYN_SENT");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_SYN_RECV), "SYN_RECV");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_ESTABLISHED), "ESTABLISHED");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_FIN_WAIT), "FIN_WAIT");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_CLOSE), "CLOSE");
	CHECK_STR(list_conn_state(IPPROTO_TCP, CONN_UDP), "ERR!");
	CHECK_STR(list_conn_state(IPPROTO_UDP, CONN_UDP), "UDP");
	CHECK_STR(list_conn_state(IPPROTO_UDP, CONN_NONE), "NONE");
	CHECK_STR(list_conn_state(IPPROTO_UDP, CONN_ESTABLISHED), "ERR!");
	CHECK_STR(list_conn_state(IPPROTO_TCP, 99), "ERR!");
}

TEST(listconns_expire_rounds_down_and_stops_at_zero)
{
	CHECK_EQ(conn_expire_s(1000, 1000, 1000), 0);
	CHECK_EQ(conn_expire_s(2000, 1000, 1000), 0);
	CHECK_EQ(conn_expire_s(1000, 2999, 1000), 1);
	CHECK_EQ(conn_expire_s(0, 900000, 1000), 900);
	CHECK_EQ(conn_expire_s(5, 5 + 3999999999ull, 1000000000u), 3);
}

/* --- --set and -L --timeout through whole requests ------------------------- */

TEST(listconns_set_and_timeout)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-L --timeout"), "OK\nTimeout (tcp tcpfin udp): 900 120 300\n");
	CHECK_STR(exec_run(&f, "--set 60 10 0"), "OK\n");
	CHECK_STR(exec_run(&f, "-L --timeout"), "OK\nTimeout (tcp tcpfin udp): 60 10 300\n");
	CHECK_STR(exec_run(&f, "--set 0 0 5\n-L --timeout"),
		  "OK\nTimeout (tcp tcpfin udp): 60 10 5\n");
	CHECK_EQ(f.t.cfg.timeouts.tcp_ms, 60000);
	CHECK_EQ(f.t.cfg.timeouts.tcp_fin_ms, 10000);
	CHECK_EQ(f.t.cfg.timeouts.udp_ms, 5000);
	/* -C clears the services, not the settings */
	CHECK_STR(exec_run(&f, "-C\n-L --timeout"), "OK\nTimeout (tcp tcpfin udp): 60 10 5\n");
	CHECK_STR(exec_run(&f, "--set 1 2"), "ERR 2 --set option requires 3 timeout values\n");
	exec_close(&f);
}

TEST(listconns_set_reaches_the_services)
{
	struct exec_fx f;
	struct virtual_service *t, *u, *own;
	struct weir_addr a;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80\n-A -u 192.0.2.1:53\n"
			  "-A -t 192.0.2.2:80 --idle-timeout 7s\n--set 60 10 30"), "OK\n");
	t = table_find(&f.t, IPPROTO_TCP, (a = ad("192.0.2.1:80"), &a));
	u = table_find(&f.t, IPPROTO_UDP, (a = ad("192.0.2.1:53"), &a));
	own = table_find(&f.t, IPPROTO_TCP, (a = ad("192.0.2.2:80"), &a));
	REQUIRE(t && u && own);
	/* no idle timeout of its own: the global of its protocol */
	CHECK_EQ(t->rt.idle_timeout_ms, 60000);
	CHECK_EQ(t->rt.fin_timeout_ms, 10000);
	CHECK_EQ(u->rt.idle_timeout_ms, 30000);
	/* its own wins */
	CHECK_EQ(own->rt.idle_timeout_ms, 7000);
	CHECK_STR(exec_run(&f, "--set 90 0 0"), "OK\n");
	CHECK_EQ(t->rt.idle_timeout_ms, 90000);
	CHECK_EQ(own->rt.idle_timeout_ms, 7000);
	exec_close(&f);
}

TEST(listconns_save_config_writes_the_timeouts)
{
	struct exec_fx f;
	const char *s;

	exec_open(&f);
	CHECK(strstr(exec_run(&f, "-S --config"), "timeout") == NULL);
	CHECK_STR(exec_run(&f, "--set 60 0 7"), "OK\n");
	s = exec_run(&f, "-S --config");
	CHECK(strstr(s, "\ntcp_timeout 60s;\n") != NULL);
	CHECK(strstr(s, "tcp_fin_timeout") == NULL);
	CHECK(strstr(s, "\nudp_timeout 7s;\n") != NULL);
	CHECK(strstr(s, "xdp {") == NULL);
	exec_close(&f);
}

TEST(listconns_empty_table)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-L -c -n"), "OK\nIPVS connection entries\n"
		  "pro expire state       source             virtual            destination\n");
	exec_close(&f);
}
