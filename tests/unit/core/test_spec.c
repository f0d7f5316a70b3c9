/* test_spec.c - the pure edits of the desired configuration, with
 * ipvsadm's messages. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/spec.h"
#include "unit.h"

/* A mode of UDP services, as the UDP proxy will register one. */
static const struct svc_mode udp_test_mode = { .name = "udptest", .proto = IPPROTO_UDP };

static struct weir_addr A(const char *s)
{
	struct weir_addr a;

	if (addr_parse(s, true, &a) != 0) {
		unit_fail(__FILE__, __LINE__, "addr_parse(\"%s\") failed", s);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

static const char *astr(const struct weir_addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int k;

	return addr_str(a, buf[k++ & 3]);
}

static struct service_spec svc_of(int proto, const char *vip, const struct svc_mode *proxy)
{
	struct service_spec s;

	spec_service_defaults(&s);
	s.proto = proto;
	s.addr = A(vip);
	s.proxy = proxy;
	return s;
}

static struct server_spec srv_of(const char *rip, enum fwd_method fwd, uint32_t weight)
{
	struct server_spec r;

	spec_server_defaults(&r);
	r.addr = A(rip);
	r.fwd = fwd;
	r.weight = weight;
	return r;
}

/* A config with TCP 192.0.2.1:80 (packet mode) holding 10.0.0.1 and
 * 10.0.0.2 (DR). */
static void two_servers(struct weir_config *c)
{
	struct service_spec s = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	struct server_spec r1 = srv_of("10.0.0.1", FWD_ROUTE, 1);
	struct server_spec r2 = srv_of("10.0.0.2", FWD_ROUTE, 2);
	char err[SPEC_ERR_MAX];

	spec_init(c);
	if (spec_add_service(c, &s, err) != 0 ||
	    spec_add_server(c, IPPROTO_TCP, &s.addr, NULL, &r1, err) != 0 ||
	    spec_add_server(c, IPPROTO_TCP, &s.addr, NULL, &r2, err) != 0)
		unit_fail(__FILE__, __LINE__, "setup: %s", err);
}

TEST(spec_defaults)
{
	struct weir_config c;
	struct service_spec s;
	struct server_spec r;

	spec_init(&c);
	CHECK_EQ(c.grace_ms, DEFAULT_GRACE_MS);
	CHECK_EQ(c.nservices, 0);
	CHECK(c.socket_path == NULL);
	spec_service_defaults(&s);
	CHECK_EQ(s.proto, IPPROTO_TCP);
	CHECK_STR(s.sched, "wlc");
	CHECK_EQ(s.proxy, NULL);
	CHECK_EQ(s.persist_s, 0);
	CHECK_EQ(s.connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
	CHECK_EQ(s.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS);
	CHECK_EQ(s.retries, 3);
	CHECK_EQ(s.nservers, 0);
	spec_server_defaults(&r);
	CHECK_EQ(r.weight, 1);
	CHECK_EQ(r.fwd, FWD_ROUTE);
	CHECK_EQ(r.upper, 0);
	CHECK_EQ(r.lower, 0);
	spec_free(&c);
}

TEST(spec_add_find_service)
{
	struct weir_config c;
	struct service_spec t = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	struct service_spec u = svc_of(IPPROTO_UDP, "192.0.2.1:80", NULL);
	char err[SPEC_ERR_MAX] = "";
	struct weir_addr other = A("192.0.2.1:81");

	spec_init(&c);
	CHECK_EQ(spec_add_service(&c, &t, err), 0);
	CHECK_EQ(spec_add_service(&c, &u, err), 0); /* same VIP, other protocol */
	CHECK_EQ(c.nservices, 2);
	CHECK(spec_find_service(&c, IPPROTO_TCP, &t.addr) == &c.services[0]);
	CHECK(spec_find_service(&c, IPPROTO_UDP, &t.addr) == &c.services[1]);
	CHECK(spec_find_service(&c, IPPROTO_TCP, &other) == NULL);
	CHECK_EQ(spec_add_service(&c, &t, err), -EEXIST);
	CHECK_STR(err, "Service already exists");
	CHECK_EQ(c.nservices, 2);
	spec_free(&c);
}

TEST(spec_add_service_checks)
{
	struct weir_config c;
	struct service_spec s = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	char err[SPEC_ERR_MAX];

	spec_init(&c);
	snprintf(s.sched, sizeof(s.sched), "nosuch");
	CHECK_EQ(spec_add_service(&c, &s, err), -EINVAL);
	CHECK_STR(err, "unknown scheduler 'nosuch'");
	s = svc_of(IPPROTO_TCP, "192.0.2.1", NULL);
	CHECK_EQ(spec_add_service(&c, &s, err), -EINVAL);
	CHECK_STR(err, "service 192.0.2.1:0 needs a port (port 0 only with -p)");
	s = svc_of(IPPROTO_TCP, "192.0.2.1:53", &udp_test_mode);
	CHECK_EQ(spec_add_service(&c, &s, err), -EINVAL);
	CHECK_STR(err, "--proxy udptest needs a UDP service (-u)");
	s = svc_of(IPPROTO_UDP, "192.0.2.1:80", mode_find("tcp"));
	CHECK_EQ(spec_add_service(&c, &s, err), -EINVAL);
	CHECK_STR(err, "--proxy tcp needs a TCP service (-t)");
	s = svc_of(IPPROTO_UDP, "192.0.2.1:80", mode_find("http"));
	CHECK_EQ(spec_add_service(&c, &s, err), -EINVAL);
	CHECK_STR(err, "--proxy http needs a TCP service (-t)");
	CHECK_EQ(c.nservices, 0);
	s = svc_of(IPPROTO_UDP, "192.0.2.1:53", &udp_test_mode);
	CHECK_EQ(spec_add_service(&c, &s, err), 0);
	spec_free(&c);
}

TEST(spec_del_service)
{
	struct weir_config c;
	struct service_spec s;
	char err[SPEC_ERR_MAX];
	struct weir_addr a1 = A("192.0.2.1:80"), a3 = A("192.0.2.3:80");

	spec_init(&c);
	for (int i = 1; i <= 3; i++) {
		char vip[32];

		snprintf(vip, sizeof(vip), "192.0.2.%d:80", i);
		s = svc_of(IPPROTO_TCP, vip, NULL);
		REQUIRE(spec_add_service(&c, &s, err) == 0);
	}
	CHECK_EQ(spec_del_service(&c, IPPROTO_UDP, &a1, err), -ESRCH);
	CHECK_STR(err, "No such service");
	s = svc_of(IPPROTO_TCP, "192.0.2.2:80", NULL);
	CHECK_EQ(spec_del_service(&c, IPPROTO_TCP, &s.addr, err), 0);
	REQUIRE(c.nservices == 2);
	CHECK(addr_equal(&c.services[0].addr, &a1));
	CHECK(addr_equal(&c.services[1].addr, &a3));
	CHECK_EQ(spec_del_service(&c, IPPROTO_TCP, &s.addr, err), -ESRCH);
	CHECK_EQ(spec_del_service(&c, IPPROTO_TCP, &a3, err), 0);
	CHECK_EQ(spec_del_service(&c, IPPROTO_TCP, &a1, err), 0);
	CHECK_EQ(c.nservices, 0);
	spec_free(&c);
}

TEST(spec_server_edits_need_the_service)
{
	struct weir_config c;
	struct weir_addr vip = A("192.0.2.9:80");
	struct server_spec r = srv_of("10.0.0.1:80", FWD_ROUTE, 1);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ESRCH);
	CHECK_STR(err, "Service not defined");
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ESRCH);
	CHECK_STR(err, "Service not defined");
	CHECK_EQ(spec_del_server(&c, IPPROTO_TCP, &vip, NULL, &r.addr, err), -ESRCH);
	CHECK_STR(err, "Service not defined");
	vip = A("192.0.2.1:80"); /* right address, wrong protocol */
	CHECK_EQ(spec_add_server(&c, IPPROTO_UDP, &vip, NULL, &r, err), -ESRCH);
	spec_free(&c);
}

TEST(spec_add_server_duplicate)
{
	struct weir_config c;
	struct weir_addr vip = A("192.0.2.1:80");
	struct server_spec r = srv_of("10.0.0.1:80", FWD_ROUTE, 5);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -EEXIST);
	CHECK_STR(err, "Destination already exists");
	CHECK_EQ(c.services[0].nservers, 2);
	CHECK_EQ(c.services[0].servers[0].weight, 1); /* unchanged */
	spec_free(&c);
}

TEST(spec_edit_and_del_missing_server)
{
	struct weir_config c;
	struct weir_addr vip = A("192.0.2.1:80");
	struct server_spec r = srv_of("10.0.0.9:80", FWD_ROUTE, 5);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ENOENT);
	CHECK_STR(err, "No such destination");
	CHECK_EQ(spec_del_server(&c, IPPROTO_TCP, &vip, NULL, &r.addr, err), -ENOENT);
	CHECK_STR(err, "No such destination");
	CHECK_EQ(c.services[0].nservers, 2);
	spec_free(&c);
}

TEST(spec_edit_and_del_server)
{
	struct weir_config c;
	struct weir_addr vip = A("192.0.2.1:80"), rip = A("10.0.0.1");
	struct server_spec r = srv_of("10.0.0.2:80", FWD_TUNNEL, 7);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	r.upper = 10;
	r.lower = 5;
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), 0);
	REQUIRE(c.services[0].nservers == 2);
	CHECK_EQ(c.services[0].servers[1].weight, 7);
	CHECK_EQ(c.services[0].servers[1].fwd, FWD_TUNNEL);
	CHECK_EQ(c.services[0].servers[1].upper, 10);
	CHECK_EQ(c.services[0].servers[1].lower, 5);
	/* a server address without a port is at the service's port */
	CHECK_EQ(spec_del_server(&c, IPPROTO_TCP, &vip, NULL, &rip, err), 0);
	REQUIRE(c.services[0].nservers == 1);
	CHECK_STR(astr(&c.services[0].servers[0].addr), "10.0.0.2:80");
	spec_free(&c);
}

TEST(spec_thresholds_lower_above_upper)
{
	struct weir_config c;
	struct weir_addr vip = A("192.0.2.1:80");
	struct server_spec r = srv_of("10.0.0.3:80", FWD_ROUTE, 1);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	r.upper = 5;
	r.lower = 6;
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ERANGE);
	CHECK(strncmp(err, "Numerical result out of range", 29) == 0);
	CHECK_EQ(c.services[0].nservers, 2);
	r.upper = 0; /* no upper: any lower is still above it (IPVS) */
	r.lower = 1;
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ERANGE);
	r = srv_of("10.0.0.1:80", FWD_ROUTE, 1);
	r.upper = 3;
	r.lower = 4;
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ERANGE);
	CHECK_EQ(c.services[0].servers[0].upper, 0);
	r.lower = 3; /* equal is fine */
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), 0);
	r.weight = 65536;
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &vip, NULL, &r, err), -ERANGE);
	spec_free(&c);
}

/* IPVS: DR and TUN servers of a packet-mode service use the service's
 * port; NAT rewrites ports and keeps its own; a proxy keeps its own. */
TEST(spec_server_ports_by_forwarding_method)
{
	struct weir_config c;
	struct service_spec p = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	struct service_spec x = svc_of(IPPROTO_TCP, "192.0.2.2:80", mode_find("tcp"));
	struct server_spec dr = srv_of("10.0.0.1:8080", FWD_ROUTE, 1);
	struct server_spec tun = srv_of("10.0.0.2:8080", FWD_TUNNEL, 1);
	struct server_spec nat = srv_of("10.0.0.3:8080", FWD_MASQ, 1);
	struct server_spec nat0 = srv_of("10.0.0.4", FWD_MASQ, 1);
	struct weir_addr a;
	char err[SPEC_ERR_MAX];

	spec_init(&c);
	REQUIRE(spec_add_service(&c, &p, err) == 0);
	REQUIRE(spec_add_service(&c, &x, err) == 0);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &dr, err), 0);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &tun, err), 0);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &nat, err), 0);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &nat0, err), 0);
	REQUIRE(c.services[0].nservers == 4);
	CHECK_STR(astr(&c.services[0].servers[0].addr), "10.0.0.1:80");
	CHECK_STR(astr(&c.services[0].servers[1].addr), "10.0.0.2:80");
	CHECK_STR(astr(&c.services[0].servers[2].addr), "10.0.0.3:8080");
	CHECK_STR(astr(&c.services[0].servers[3].addr), "10.0.0.4:80");
	/* the same DR server at another port is the same server */
	dr = srv_of("10.0.0.1:9090", FWD_ROUTE, 1);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &dr, err), -EEXIST);
	/* ... and it is found for -e and -d at any port */
	dr.weight = 9;
	CHECK_EQ(spec_edit_server(&c, IPPROTO_TCP, &p.addr, NULL, &dr, err), 0);
	CHECK_EQ(c.services[0].servers[0].weight, 9);
	a = A("10.0.0.3:8080");
	CHECK_EQ(spec_del_server(&c, IPPROTO_TCP, &p.addr, NULL, &a, err), 0);
	CHECK_EQ(c.services[0].nservers, 3);

	dr = srv_of("10.0.0.1:8080", FWD_ROUTE, 1);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &x.addr, NULL, &dr, err), 0);
	REQUIRE(c.services[1].nservers == 1);
	CHECK_STR(astr(&c.services[1].servers[0].addr), "10.0.0.1:8080");
	spec_free(&c);
}

TEST(spec_packet_servers_share_the_family)
{
	struct weir_config c;
	struct service_spec p = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	struct service_spec x = svc_of(IPPROTO_TCP, "192.0.2.2:80", mode_find("tcp"));
	struct server_spec r6 = srv_of("[2001:db8::1]:80", FWD_MASQ, 1);
	char err[SPEC_ERR_MAX];

	spec_init(&c);
	REQUIRE(spec_add_service(&c, &p, err) == 0);
	REQUIRE(spec_add_service(&c, &x, err) == 0);
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &p.addr, NULL, &r6, err), -EINVAL);
	CHECK_STR(err, "real server [2001:db8::1]:80 is not of the service's address family");
	/* a proxy connects to any family */
	CHECK_EQ(spec_add_server(&c, IPPROTO_TCP, &x.addr, NULL, &r6, err), 0);
	spec_free(&c);
}

TEST(spec_edit_service_keeps_servers)
{
	struct weir_config c;
	struct service_spec s = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	snprintf(s.sched, sizeof(s.sched), "rr");
	s.persist_s = 60;
	s.line = 42;
	CHECK_EQ(spec_edit_service(&c, &s, err), 0);
	REQUIRE(c.nservices == 1);
	CHECK_STR(c.services[0].sched, "rr");
	CHECK_EQ(c.services[0].persist_s, 60);
	REQUIRE(c.services[0].nservers == 2);
	CHECK_STR(astr(&c.services[0].servers[0].addr), "10.0.0.1:80");
	CHECK_EQ(c.services[0].servers[1].weight, 2);
	spec_free(&c);
}

TEST(spec_edit_service_errors_change_nothing)
{
	struct weir_config c;
	struct service_spec s = svc_of(IPPROTO_TCP, "192.0.2.7:80", NULL);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	CHECK_EQ(spec_edit_service(&c, &s, err), -ESRCH);
	CHECK_STR(err, "No such service");
	s = svc_of(IPPROTO_TCP, "192.0.2.1:80", NULL);
	snprintf(s.sched, sizeof(s.sched), "nosuch");
	CHECK_EQ(spec_edit_service(&c, &s, err), -EINVAL);
	CHECK_STR(c.services[0].sched, "wlc");
	CHECK_EQ(c.services[0].nservers, 2);
	spec_free(&c);
}

/* Turning a proxy service into a packet-mode one moves its DR servers to
 * the service's port; two that then collide make the edit fail whole. */
TEST(spec_edit_service_mode_change_renormalises_servers)
{
	struct weir_config c;
	struct service_spec x = svc_of(IPPROTO_TCP, "192.0.2.2:80", mode_find("tcp"));
	struct server_spec a = srv_of("10.0.0.1:8080", FWD_ROUTE, 1);
	struct server_spec b = srv_of("10.0.0.1:8081", FWD_ROUTE, 1);
	struct server_spec m = srv_of("10.0.0.2:8082", FWD_MASQ, 1);
	char err[SPEC_ERR_MAX];

	spec_init(&c);
	REQUIRE(spec_add_service(&c, &x, err) == 0);
	REQUIRE(spec_add_server(&c, IPPROTO_TCP, &x.addr, NULL, &a, err) == 0);
	REQUIRE(spec_add_server(&c, IPPROTO_TCP, &x.addr, NULL, &m, err) == 0);
	x.proxy = NULL;
	CHECK_EQ(spec_edit_service(&c, &x, err), 0);
	REQUIRE(c.services[0].nservers == 2);
	CHECK_STR(astr(&c.services[0].servers[0].addr), "10.0.0.1:80");
	CHECK_STR(astr(&c.services[0].servers[1].addr), "10.0.0.2:8082");
	CHECK_EQ(c.services[0].proxy, NULL);

	x.proxy = mode_find("tcp");
	REQUIRE(spec_edit_service(&c, &x, err) == 0);
	REQUIRE(spec_add_server(&c, IPPROTO_TCP, &x.addr, NULL, &b, err) == 0);
	x.proxy = NULL;
	CHECK_EQ(spec_edit_service(&c, &x, err), -EEXIST);
	CHECK_STR(err, "Destination already exists");
	CHECK_EQ(c.services[0].proxy, mode_find("tcp"));
	REQUIRE(c.services[0].nservers == 3);
	CHECK_STR(astr(&c.services[0].servers[2].addr), "10.0.0.1:8081");
	spec_free(&c);
}

TEST(spec_dup_is_deep)
{
	struct weir_config c, d;
	struct server_spec r = srv_of("10.0.0.3:80", FWD_ROUTE, 1);
	char err[SPEC_ERR_MAX];

	two_servers(&c);
	c.socket_path = strdup("/run/weir.sock");
	c.workers = 3;
	REQUIRE(spec_dup(&d, &c) == 0);
	CHECK_EQ(d.workers, 3);
	CHECK_STR(d.socket_path, "/run/weir.sock");
	CHECK(d.socket_path != c.socket_path);
	REQUIRE(d.nservices == 1);
	CHECK(d.services != c.services);
	CHECK(d.services[0].servers != c.services[0].servers);
	/* edits of the copy do not reach the original */
	d.services[0].servers[0].weight = 99;
	snprintf(d.services[0].sched, sizeof(d.services[0].sched), "rr");
	CHECK_EQ(spec_add_server(&d, IPPROTO_TCP, &c.services[0].addr, NULL, &r, err), 0);
	d.socket_path[1] = 'X';
	CHECK_EQ(c.services[0].servers[0].weight, 1);
	CHECK_STR(c.services[0].sched, "wlc");
	CHECK_EQ(c.services[0].nservers, 2);
	CHECK_STR(c.socket_path, "/run/weir.sock");
	/* ... nor the other way */
	spec_clear(&c);
	CHECK_EQ(c.nservices, 0);
	CHECK_EQ(d.nservices, 1);
	CHECK_EQ(d.services[0].nservers, 3);
	spec_free(&c);
	spec_free(&d);
}

TEST(spec_dup_empty)
{
	struct weir_config c, d;

	spec_init(&c);
	REQUIRE(spec_dup(&d, &c) == 0);
	CHECK_EQ(d.nservices, 0);
	CHECK(d.services == NULL);
	CHECK(d.socket_path == NULL);
	spec_free(&d);
	spec_free(&c);
}

TEST(spec_names)
{
	const struct svc_mode *k = NULL;
	char names[128];

	CHECK_STR(proto_name(IPPROTO_TCP), "TCP");
	CHECK_STR(proto_name(IPPROTO_UDP), "UDP");
	CHECK_STR(fwd_name(FWD_ROUTE), "Route");
	CHECK_STR(fwd_name(FWD_TUNNEL), "Tunnel");
	CHECK_STR(fwd_name(FWD_MASQ), "Masq");
	CHECK_STR(mode_name(NULL), "none");
	CHECK_STR(mode_name(mode_find("http")), "http");
	CHECK_EQ(mode_parse("redirect", &k), 0);
	CHECK(k == mode_find("redirect") && k);
	CHECK_EQ(mode_parse("tcp", &k), 0);
	CHECK(k == mode_find("tcp") && k);
	CHECK_EQ(mode_parse("none", &k), 0);
	CHECK(k == NULL);
	CHECK_EQ(mode_parse("TCP", &k), -ENOENT);
	CHECK_EQ(mode_parse("", &k), -ENOENT);
	CHECK_EQ(mode_parse("udptest", &k), -ENOENT); /* not registered */
	mode_names(names, sizeof(names));
	CHECK_STR(names, "none, tcp, http, redirect, udp, dns");
}
