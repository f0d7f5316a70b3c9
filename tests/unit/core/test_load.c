/* test_load.c - the load weir sees elsewhere (core/load.c): a service of a
 * load_elsewhere mode gets, for each server, the active connections of
 * the VIP at its address (IP:port, else every VIP on that IP), else of
 * that real server in other services, else its agent's report; and its
 * wlc scheduler picks by it. */
#include <netinet/in.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "unit.h"

static int no_prepare(struct virtual_service *svc, char *err)
{
	return 0;
}

static void no_op(struct virtual_service *svc)
{
}

/* A mode like DNS: its own connections are not its servers' load. Never
 * registered (other tests list the modes): set on a parsed service. */
static const struct svc_mode load_test_mode = {
	.name = "loadtest", .proto = IPPROTO_UDP, .load_elsewhere = true,
	.prepare = no_prepare, .start = no_op, .stop = no_op,
};

static const char conf[] =
	"service tcp 192.0.2.10:80 {\n"
	"    server 10.0.0.1:80;\n    server 10.0.0.2:80;\n}\n"
	"service tcp 192.0.2.11:443 {\n    server 10.0.0.3:80 forward masq;\n}\n"
	"service tcp 192.0.2.12:80 {\n    server 10.0.0.3:80;\n}\n"
	/* given load_test_mode below; masq keeps the servers' ports */
	"service udp 192.0.2.53:53 {\n    scheduler wlc;\n"
	"    server 192.0.2.10:80 forward masq;\n    server 192.0.2.11;\n"
	"    server 10.0.0.3:80 forward masq;\n    server 10.0.0.9:80 forward masq;\n}\n";

static struct virtual_service *svc_at(struct vs_table *t, int proto, const char *vip)
{
	struct weir_addr a;

	addr_parse(vip, false, &a);
	return table_find(t, proto, &a);
}

static struct real_server *rs_at(struct virtual_service *svc, const char *rip)
{
	struct weir_addr a;

	addr_parse(rip, false, &a);
	for (size_t i = 0; svc && i < svc->nservers; i++)
		if (addr_equal(&svc->servers[i]->addr, &a))
			return svc->servers[i];
	return NULL;
}

TEST(load_elsewhere_by_vip_real_server_and_agent)
{
	enum log_level saved = log_threshold;
	struct weir_config c;
	struct vs_table t;
	char err[CONFIG_ERR_MAX];
	struct virtual_service *dns, *a, *b, *d;
	struct sched_req req = { .now_ms = 1 };

	log_threshold = LOG_ERR; /* packet-mode services warn they carry no traffic */
	table_init(&t, 1);
	REQUIRE(config_parse("t.conf", conf, strlen(conf), &c, err) == 0);
	/* not registered: other tests list the registered modes */
	c.services[3].proxy = &load_test_mode;
	REQUIRE(table_apply(&t, &c, err) == 0);
	spec_free(&c);
	dns = svc_at(&t, IPPROTO_UDP, "192.0.2.53:53");
	a = svc_at(&t, IPPROTO_TCP, "192.0.2.10:80");
	b = svc_at(&t, IPPROTO_TCP, "192.0.2.11:443");
	d = svc_at(&t, IPPROTO_TCP, "192.0.2.12:80");
	REQUIRE(dns && a && b && d);
	rs_at(a, "10.0.0.1:80")->ss.active = 5;
	rs_at(a, "10.0.0.2:80")->ss.active = 6;
	rs_at(b, "10.0.0.3:80")->ss.active = 2;
	rs_at(d, "10.0.0.3:80")->ss.active = 1;
	rs_at(dns, "10.0.0.9:80")->load_reported = 7;
	table_tick(&t, 2000);
	/* the VIP IP:port: its servers' sum */
	CHECK_EQ(rs_at(dns, "192.0.2.10:80")->ss.ext_active, 11);
	/* no VIP 192.0.2.11:53, one on that IP */
	CHECK_EQ(rs_at(dns, "192.0.2.11:53")->ss.ext_active, 2);
	/* a real server of two services: the sum */
	CHECK_EQ(rs_at(dns, "10.0.0.3:80")->ss.ext_active, 3);
	/* nothing of weir's: the agent */
	CHECK_EQ(rs_at(dns, "10.0.0.9:80")->ss.ext_active, 7);
	/* wlc orders by it: the agent's 2 is below every other */
	rs_at(dns, "10.0.0.9:80")->load_reported = 2;
	table_tick(&t, 4000);
	pthread_mutex_lock(&dns->lock);
	CHECK(dns->servers[sched_pick(dns->sched, &req)] == rs_at(dns, "192.0.2.11:53"));
	pthread_mutex_unlock(&dns->lock);
	/* the loads move: the next tick follows */
	rs_at(b, "10.0.0.3:80")->ss.active = 40;
	rs_at(a, "10.0.0.1:80")->ss.active = 0;
	rs_at(a, "10.0.0.2:80")->ss.active = 0;
	table_tick(&t, 6000);
	CHECK_EQ(rs_at(dns, "192.0.2.10:80")->ss.ext_active, 0);
	pthread_mutex_lock(&dns->lock);
	CHECK(dns->servers[sched_pick(dns->sched, &req)] == rs_at(dns, "192.0.2.10:80"));
	pthread_mutex_unlock(&dns->lock);
	/* the other services' own servers get no load of elsewhere */
	CHECK_EQ(rs_at(a, "10.0.0.1:80")->ss.ext_active, 0);
	for (size_t i = 0; i < a->nservers; i++)
		a->servers[i]->ss.active = 0;
	for (size_t i = 0; i < b->nservers; i++)
		b->servers[i]->ss.active = 0;
	for (size_t i = 0; i < d->nservers; i++)
		d->servers[i]->ss.active = 0;
	table_fini(&t);
	log_threshold = saved;
}
