/* test_list.c - weirctl's listings against ipvsadm 1.31's formats: -L and
 * its views on a live table, and -S, whose output -R replays exactly. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "ctl/list.h"
#include "ctl/names.h"
#include "fixture.h"

/* --- -S ----------------------------------------------------------------------- */

/* Added out of order, so that sorting shows. */
static const char *const save_setup[] = {
	"-A -t [2001:db8::1]:443 -s wlc -p 60 -M 64",
	"-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 2",
	"-A -u 192.0.2.1:53 -s rr",
	"-a -u 192.0.2.1:53 -r 10.0.0.6:53 -m",
	"-a -u 192.0.2.1:53 -r 10.0.0.5:53 -g -w 0",
	"-A -t 192.0.2.1:80 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0",
	"-a -t 192.0.2.1:80 -r 10.0.0.2:80 -i -w 1",
	"-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3 -x 100 -y 50",
	"-A -t 192.0.2.1:8080 --proxy tcp --connect-timeout 1500ms --idle-timeout 1m "
		"--max-conn 10 --retries 0",
	"-a -t 192.0.2.1:8080 -r 10.0.0.9:9000",
	"-A -t 192.0.2.0:8080 -s wrr -p 300 -M 255.255.255.255",
	"-A -u 192.0.2.0:53 -s mh -b mh-port",
	"-A -u 192.0.2.1:5353 --proxy udp -s rr -o --responses 1 --requests off "
		"--send-proxy v2 --max-conn 100",
	NULL,
};

static const char save_want[] =
	"-A -t 192.0.2.0:8080 -s wrr -p 300\n"
	"-A -t 192.0.2.1:80 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port\n"
	"-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3 -x 100 -y 50\n"
	"-a -t 192.0.2.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type ipip\n"
	"-A -t 192.0.2.1:8080 -s wlc --proxy tcp --connect-timeout 1500ms "
		"--idle-timeout 60000ms --max-conn 10 --retries 0\n"
	"-a -t 192.0.2.1:8080 -r 10.0.0.9:9000 -g -w 1\n"
	"-A -u 192.0.2.0:53 -s mh -b mh-port\n"
	"-A -u 192.0.2.1:53 -s rr\n"
	"-a -u 192.0.2.1:53 -r 10.0.0.5:53 -g -w 0\n"
	"-a -u 192.0.2.1:53 -r 10.0.0.6:53 -m -w 1\n"
	"-A -u 192.0.2.1:5353 -s rr -o --proxy udp --max-conn 100 --send-proxy v2 "
		"--responses 1\n"
	"-A -t [2001:db8::1]:443 -s wlc -p 60 -M 64\n"
	"-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 2\n";

/* ctl_save's output as a string the caller frees. */
static char *save_str(const struct weir_config *c, bool nosort)
{
	struct buf b = { 0 };

	ctl_save(c, nosort, false, &b);
	buf_append(&b, "", 1);
	return b.data;
}

TEST(ctllist_save_format)
{
	struct weir_config c;
	char *s;

	REQUIRE(fx_build(&c, save_setup));
	s = save_str(&c, false);
	CHECK_STR(s, save_want);
	free(s);
	spec_free(&c);
}

TEST(ctllist_save_empty)
{
	struct weir_config c;
	char *s;

	spec_init(&c);
	s = save_str(&c, false);
	CHECK_STR(s, "");
	free(s);
	spec_free(&c);
}

TEST(ctllist_save_nosort_keeps_insertion_order)
{
	static const char *const setup[] = {
		"-A -u 192.0.2.1:53 -s rr",
		"-a -u 192.0.2.1:53 -r 10.0.0.6:53 -m",
		"-a -u 192.0.2.1:53 -r 10.0.0.5:53 -m",
		"-A -t 192.0.2.1:80 -s rr",
		NULL,
	};
	struct weir_config c;
	char *s;

	REQUIRE(fx_build(&c, setup));
	s = save_str(&c, true);
	CHECK_STR(s, "-A -u 192.0.2.1:53 -s rr\n"
		  "-a -u 192.0.2.1:53 -r 10.0.0.6:53 -m -w 1\n"
		  "-a -u 192.0.2.1:53 -r 10.0.0.5:53 -m -w 1\n"
		  "-A -t 192.0.2.1:80 -s rr\n");
	free(s);
	/* sorting works on copies: the config keeps its order */
	s = save_str(&c, false);
	CHECK_STR(fx_addr(&c.services[0].servers[0].addr), "10.0.0.6:53");
	CHECK_EQ(c.services[0].proto, IPPROTO_UDP);
	free(s);
	spec_free(&c);
}

/* -S | -R rebuilds <c>: the replayed config saves to the same text, and
 * has the same services and servers. */
static void check_round_trip(const struct weir_config *c, int at)
{
	struct weir_config d;
	char err[CTL_ERR_MAX] = "";
	char *first = save_str(c, false), *second;

	if (!fx_replay(first, &d, err)) {
		unit_fail(__FILE__, at, "replaying -S output failed: %s\n%s", err, first);
		spec_free(&d);
		free(first);
		return;
	}
	second = save_str(&d, false);
	if (strcmp(first, second) != 0)
		unit_fail(__FILE__, at, "saves differ:\n%s---\n%s", first, second);
	if (d.nservices != c->nservices)
		unit_fail(__FILE__, at, "%zu services, want %zu", d.nservices, c->nservices);
	for (size_t i = 0; i < c->nservices && i < d.nservices; i++) {
		const struct service_spec *x = &c->services[i];
		const struct service_spec *y = spec_find_service(&d, x->proto, &x->addr);

		for (size_t k = 0; y && k < x->npools; k++) {
			const struct pool_spec *px = &x->pools[k];
			const struct pool_spec *py = k < y->npools ? &y->pools[k] : NULL;

			if (!py || strcmp(px->name, py->name) != 0 ||
			    strcmp(px->s.sched, py->s.sched) != 0 ||
			    px->s.nservers != py->s.nservers ||
			    memcmp(&px->s.check, &py->s.check, sizeof(px->s.check)) != 0)
				unit_fail(__FILE__, at, "pool %s of %s differs after -S | -R",
					  px->name, fx_addr(&x->addr));
		}
		if (y && y->npools != x->npools)
			unit_fail(__FILE__, at, "%zu pools, want %zu", y->npools, x->npools);

		if (!y || y->nservers != x->nservers || strcmp(x->sched, y->sched) != 0 ||
		    x->sched_flags != y->sched_flags || x->persist_s != y->persist_s ||
		    x->proxy != y->proxy || x->connect_timeout_ms != y->connect_timeout_ms ||
		    x->idle_timeout_ms != y->idle_timeout_ms || x->maxconn != y->maxconn ||
		    x->retries != y->retries) {
			unit_fail(__FILE__, at, "service %s differs after -S | -R",
				  fx_addr(&x->addr));
			continue;
		}
		for (size_t k = 0; k < x->nservers; k++) {
			struct service_spec *ym = (struct service_spec *)y;
			const struct server_spec *r = &x->servers[k];
			const struct server_spec *q = spec_find_server(ym, &r->addr);

			if (!q || q->weight != r->weight || q->fwd != r->fwd ||
			    q->upper != r->upper || q->lower != r->lower)
				unit_fail(__FILE__, at, "server %s of %s differs after -S | -R",
					  fx_addr(&r->addr), fx_addr(&x->addr));
		}
	}
	free(first);
	free(second);
	spec_free(&d);
}

TEST(ctllist_save_replays_to_the_same_config)
{
	struct weir_config c;

	REQUIRE(fx_build(&c, save_setup));
	check_round_trip(&c, __LINE__);
	spec_free(&c);
}

/* The parts of the save (and ctl_split quoting) a replay must survive. */
TEST(ctllist_save_replays_edge_values)
{
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80 -p 2678400 --connect-timeout 0 --idle-timeout 4294967295ms "
			"--max-conn 4294967295 --retries 100",
		"-a -t 192.0.2.1:80 -r 10.0.0.1 -w 65535 -x 2147483647 -y 2147483647",
		"-a -t 192.0.2.1:80 -r 10.0.0.2 -w 0",
		"-A -u [::1]:1 -s sh -b sh-port -p 1 -M 128",
		"-A -u [::2]:65535 -s sh -b sh-fallback -p 1 -M 1",
		"-A -t 0.0.0.0:1 -s mh -b mh-fallback,mh-port -p 1 -M 128.0.0.0",
		NULL,
	};
	struct weir_config c;

	REQUIRE(fx_build(&c, setup));
	check_round_trip(&c, __LINE__);
	spec_free(&c);
}

/* docs/weirctl.md: "-S | -R recreates exactly the same table", also for a
 * table loaded from a config file. */
static void check_config_round_trip(const char *text, int at)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	if (config_parse("t.conf", text, strlen(text), &c, err) != 0) {
		unit_fail(__FILE__, at, "config refused: %s", err);
		return;
	}
	check_round_trip(&c, at);
	spec_free(&c);
}

TEST(ctllist_save_of_a_config_file_replays)
{
	check_config_round_trip(
		"service tcp 192.0.2.1:80 {\n"
		"    scheduler sh sh-fallback sh-port;\n"
		"    persistent 10m;\n"
		"    netmask 24;\n"
		"    server 10.0.0.1:8080 weight 3 upper 100 lower 50 forward masq;\n"
		"    server 10.0.0.2 forward tunnel;\n"
		"    server 10.0.0.3 { weight 0; forward route; }\n"
		"}\n"
		"service tcp 192.0.2.1:443 {\n"
		"    proxy tcp;\n"
		"    scheduler wrr;\n"
		"    persistent;\n"
		"    connect_timeout 250ms;\n"
		"    idle_timeout 1h;\n"
		"    max_conn 5;\n"
		"    retries 0;\n"
		"    server 10.0.0.4:8443 forward masq;\n"
		"    server [2001:db8::4]:8443;\n"
		"}\n"
		"service udp [2001:db8::1]:53 {\n"
		"    scheduler mh mh-port;\n"
		"    persistent 1s;\n"
		"    netmask 48;\n"
		"    server [2001:db8::5]:53;\n"
		"}\n", __LINE__);
}

/* Pools and their servers: "-A VIP --pool NAME" with the pool's scheduler
 * and health options, then "-a ... --pool NAME" for each server, after the
 * service's own; -R rebuilds them (routes exist only in the file). */
static const char pools_conf[] =
	"service tcp 192.0.2.1:80 {\n"
	"    proxy http;\n"
	"    scheduler rr;\n"
	"    check tcp;\n"
	"    server 10.0.0.2:80;\n"
	"    pool api { scheduler wrr; server 10.0.0.9:80 weight 3; server 10.0.0.8:80; }\n"
	"    pool \"odd name\" { check off; server 10.0.0.7:80 state drain; }\n"
	"}\n";

TEST(ctllist_save_pools)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	char *s;

	REQUIRE(config_parse("t.conf", pools_conf, strlen(pools_conf), &c, err) == 0);
	s = save_str(&c, false);
	CHECK_STR(s,
		  "-A -t 192.0.2.1:80 -s rr --proxy http --check \"tcp\"\n"
		  "-a -t 192.0.2.1:80 -r 10.0.0.2:80 -g -w 1\n"
		  "-A -t 192.0.2.1:80 --pool api -s wrr\n"
		  "-a -t 192.0.2.1:80 -r 10.0.0.8:80 -g -w 1 --pool api\n"
		  "-a -t 192.0.2.1:80 -r 10.0.0.9:80 -g -w 3 --pool api\n"
		  "-A -t 192.0.2.1:80 --pool \"odd name\" -s rr --check \"off\"\n"
		  "-a -t 192.0.2.1:80 -r 10.0.0.7:80 -g -w 1 --state drain --pool \"odd name\"\n");
	free(s);
	spec_free(&c);
	check_config_round_trip(pools_conf, __LINE__);
}

TEST(ctllist_pool_commands)
{
	struct weir_config c;
	char err[CTL_ERR_MAX];
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80 --proxy http -s rr",
		"-A -t 192.0.2.1:80 --pool api -s wrr",
		"-a -t 192.0.2.1:80 -r 10.0.0.9:80 -w 2 --pool api",
		"-A -t 192.0.2.2:80 -s rr",
		NULL,
	};

	REQUIRE(fx_build(&c, setup));
	REQUIRE(c.services[0].npools == 1);
	CHECK_EQ(c.services[0].pools[0].s.nservers, 1);
	CHECK_EQ(c.services[0].nservers, 0);
	CHECK_EQ(fx_apply(&c, "-e -t 192.0.2.1:80 -r 10.0.0.9:80 -w 5 --pool api", err), 0);
	CHECK_EQ(c.services[0].pools[0].s.servers[0].weight, 5);
	/* refused: a pool twice, of a packet service, of a missing service;
	 * "default" is the service's own; a pool option beyond the pool's */
	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.1:80 --pool api -s rr", err), -EEXIST);
	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.2:80 --pool api", err), -EINVAL);
	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.9:80 --pool api", err), -ESRCH);
	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.1:80 --pool default", err), -EINVAL);
	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.1:80 --pool x -p 30", err), -EINVAL);
	CHECK_EQ(fx_apply(&c, "-a -t 192.0.2.1:80 -r 10.0.0.1:80 --pool nope", err), -ESRCH);
	CHECK(strstr(err, "No such pool") != NULL);
	/* --pool default: the service's own servers */
	CHECK_EQ(fx_apply(&c, "-a -t 192.0.2.1:80 -r 10.0.0.1:80 --pool default", err), 0);
	CHECK_EQ(c.services[0].nservers, 1);
	CHECK_EQ(fx_apply(&c, "-d -t 192.0.2.1:80 -r 10.0.0.9:80 --pool api", err), 0);
	CHECK_EQ(c.services[0].pools[0].s.nservers, 0);
	CHECK_EQ(fx_apply(&c, "-D -t 192.0.2.1:80 --pool api", err), 0);
	CHECK_EQ(c.services[0].npools, 0);
	CHECK_EQ(fx_apply(&c, "-D -t 192.0.2.1:80 --pool api", err), -ENOENT);
	spec_free(&c);
}

/* What -R would refuse the config refuses too, so -S | -R always replays:
 * scheduler flags on a scheduler other than sh/mh, and persistence past
 * ipvsadm's 31 days. */
TEST(ctllist_config_refuses_what_restore_would)
{
	static const char *const bad[] = {
		"service tcp 192.0.2.1:80 {\n    scheduler rr sh-port;\n}\n",
		"service tcp 192.0.2.1:80 {\n    persistent 1000h;\n}\n",
	};
	static const char *const why[] = {
		"t.conf:1: service tcp 192.0.2.1:80: incompatible scheduler flag",
		"t.conf:2: persistent: timeout must be 1s to 31 days",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct weir_config c;
		char err[CONFIG_ERR_MAX] = "";

		CHECK(config_parse("t.conf", bad[i], strlen(bad[i]), &c, err) != 0);
		CHECK(strncmp(err, why[i], strlen(why[i])) == 0);
	}
	check_config_round_trip("service tcp 192.0.2.1:80 {\n"
				"    scheduler sh sh-port sh-fallback;\n    persistent 744h;\n"
				"}\n", __LINE__);
}

/* --- -L on a live table ------------------------------------------------------ */

struct list_fx {
	struct vs_table t;
	struct buf out;
	enum log_level saved_log;
};

static const char *const list_setup[] = {
	"-A -t [2001:db8::1]:443 -s wlc -p 60 -M 64",
	"-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 2",
	"-A -u 192.0.2.1:53 -s rr",
	"-a -u 192.0.2.1:53 -r 10.0.0.5:53 -g -w 0",
	"-A -t 192.0.2.1:80 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0",
	"-a -t 192.0.2.1:80 -r 10.0.0.2:80 -i -w 1",
	"-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3 -x 100 -y 50",
	"-A -t 192.0.2.0:8080 -s wrr -p 300 -M 255.255.255.255",
	NULL,
};

/* Builds a live table from weirctl <lines> (packet-mode only: no socket). */
static bool list_open(struct list_fx *f, const char *const *lines)
{
	struct weir_config c;
	char err[SPEC_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	table_init(&f->t, 1);
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR; /* packet-mode services warn they carry no traffic */
	if (!fx_build(&c, lines)) {
		spec_free(&c);
		return false;
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc) {
		unit_fail(__FILE__, __LINE__, "table_apply: %s", err);
		return false;
	}
	return true;
}

static void list_close(struct list_fx *f)
{
	buf_free(&f->out);
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

static struct virtual_service *svc_at(struct list_fx *f, int proto, const char *vip)
{
	struct weir_addr a;

	if (addr_parse(vip, false, &a) != 0)
		return NULL;
	return table_find(&f->t, proto, &a);
}

static struct real_server *rs_at(struct virtual_service *svc, const char *rip)
{
	struct weir_addr a;

	if (!svc || addr_parse(rip, false, &a) != 0)
		return NULL;
	for (size_t i = 0; i < svc->nservers; i++)
		if (addr_equal(&svc->servers[i]->addr, &a))
			return svc->servers[i];
	return NULL;
}

static const char *list(struct list_fx *f, const struct list_opts *o)
{
	buf_reset(&f->out);
	ctl_list(&f->t, o, &f->out);
	buf_append(&f->out, "", 1);
	f->out.len--;
	return buf_head(&f->out);
}

#define HEADER "IP Virtual Server version 1.2.1 (size=4096)\n"
#define TITLE "Prot LocalAddress:Port Scheduler Flags\n" \
	"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"

TEST(ctllist_list_format)
{
	struct list_fx f;
	struct list_opts o = { 0 };
	struct real_server *rs;

	REQUIRE(list_open(&f, list_setup));
	rs = rs_at(svc_at(&f, IPPROTO_TCP, "192.0.2.1:80"), "10.0.0.1:8080");
	REQUIRE(rs != NULL);
	rs->ss.active = 12;
	rs->ss.inactive = 3;
	CHECK_STR(list(&f, &o),
		  HEADER TITLE
		  "TCP  192.0.2.0:8080 wrr persistent 300\n"
		  "TCP  192.0.2.1:80 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n"
		  "  -> 10.0.0.1:8080                Masq    3      12         3         \n"
		  "  -> 10.0.0.2:80                  Tunnel  1      0          0         \n"
		  "UDP  192.0.2.1:53 rr\n"
		  "  -> 10.0.0.5:53                  Route   0      0          0         \n"
		  "TCP  [2001:db8::1]:443 wlc persistent 60 mask 64\n"
		  "  -> [2001:db8::10]:443           Route   2      0          0         \n");
	list_close(&f);
}

TEST(ctllist_list_nosort)
{
	struct list_fx f;
	struct list_opts o = { .nosort = true };

	REQUIRE(list_open(&f, list_setup));
	CHECK_STR(list(&f, &o),
		  HEADER TITLE
		  "TCP  [2001:db8::1]:443 wlc persistent 60 mask 64\n"
		  "  -> [2001:db8::10]:443           Route   2      0          0         \n"
		  "UDP  192.0.2.1:53 rr\n"
		  "  -> 10.0.0.5:53                  Route   0      0          0         \n"
		  "TCP  192.0.2.1:80 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n"
		  "  -> 10.0.0.2:80                  Tunnel  1      0          0         \n"
		  "  -> 10.0.0.1:8080                Masq    3      0          0         \n"
		  "TCP  192.0.2.0:8080 wrr persistent 300\n");
	list_close(&f);
}

TEST(ctllist_list_one_service_has_no_header)
{
	struct list_fx f;
	struct list_opts o = { 0 };

	REQUIRE(list_open(&f, list_setup));
	o.only = svc_at(&f, IPPROTO_UDP, "192.0.2.1:53");
	REQUIRE(o.only != NULL);
	CHECK_STR(list(&f, &o),
		  TITLE
		  "UDP  192.0.2.1:53 rr\n"
		  "  -> 10.0.0.5:53                  Route   0      0          0         \n");
	list_close(&f);
}

TEST(ctllist_list_empty_table)
{
	struct list_fx f;
	struct list_opts o = { 0 };
	static const char *const none[] = { NULL };

	REQUIRE(list_open(&f, none));
	CHECK_STR(list(&f, &o), HEADER TITLE);
	list_close(&f);
}

#define STATS_TITLE "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" \
	"  -> RemoteAddress:Port\n"

static void set_counters(struct vs_stats *s, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			 uint64_t e)
{
	s->pt[0].conns = a;
	s->pt[0].inpkts = b;
	s->pt[0].outpkts = c;
	s->pt[0].inbytes = d;
	s->pt[0].outbytes = e;
}

/* print_largenum: under 10^8 plain in 9 columns; then K, M from 10^9,
 * G from 10^11, T from 10^14. */
TEST(ctllist_stats_abbreviations)
{
	struct list_fx f;
	struct list_opts o = { .stats = true };
	struct virtual_service *svc;

	REQUIRE(list_open(&f, list_setup));
	svc = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	REQUIRE(svc != NULL && rs_at(svc, "10.0.0.1:8080") != NULL);
	set_counters(&svc->stats, 99999999ull, 100000000ull, 1000000000ull, 100000000000ull,
		     100000000000000ull);
	set_counters(&rs_at(svc, "10.0.0.1:8080")->stats, 999999999ull, 99999999999ull,
		     99999999999999ull, 0, 12345);
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  STATS_TITLE
		  "TCP  192.0.2.1:80                 99999999  100000K    1000M     100G     100T\n"
		  "  -> 10.0.0.1:8080                 999999K   99999M   99999G        0    12345\n"
		  "  -> 10.0.0.2:80                         0        0        0        0        0\n");
	o.exact = true;
	CHECK_STR(list(&f, &o),
		  STATS_TITLE
		  "TCP  192.0.2.1:80                 99999999 100000000 1000000000 100000000000 "
		  "100000000000000\n"
		  "  -> 10.0.0.1:8080                999999999 99999999999 99999999999999        0"
		  "    12345\n"
		  "  -> 10.0.0.2:80                         0        0        0        0        0\n");
	list_close(&f);
}

/* weirctl -L --udp: sessions, open, evicted, dropped, timed out, rates. */
TEST(ctllist_udp_view)
{
	struct list_fx f;
	struct list_opts o = { .udp = true, .exact = true };
	struct virtual_service *svc;
	struct real_server *rs;

	REQUIRE(list_open(&f, list_setup));
	svc = svc_at(&f, IPPROTO_UDP, "192.0.2.1:53");
	rs = rs_at(svc, "10.0.0.5:53");
	REQUIRE(svc != NULL && rs != NULL);
	counter_add(&svc->stats.pt[0].conns, 40);
	counter_add(&svc->stats.pt[0].evictions, 7);
	counter_add(&svc->stats.pt[0].drops, 3);
	counter_add(&svc->stats.pt[0].timeouts, 2);
	counter_add(&rs->stats.pt[0].conns, 40);
	counter_add(&rs->stats.pt[0].evictions, 7);
	rs->ss.inactive = 5;
	atomic_store(&svc->active, 5);
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  "Prot LocalAddress:Port            Sessions     Open  Evicted  Dropped TimedOut"
		  "    InPPS   OutPPS\n"
		  "  -> RemoteAddress:Port\n"
		  "UDP  192.0.2.1:53                       40        5        7        3        2"
		  "        0        0\n"
		  "  -> 10.0.0.5:53                        40        5        7        0        0"
		  "        0        0\n");
	atomic_store(&svc->active, 0);
	list_close(&f);
}

TEST(ctllist_stats_full_listing_has_the_header)
{
	struct list_fx f;
	struct list_opts o = { .stats = true };
	static const char *const one[] = {
		"-A -u 192.0.2.1:53 -s rr", "-a -u 192.0.2.1:53 -r 10.0.0.5", NULL,
	};

	REQUIRE(list_open(&f, one));
	CHECK_STR(list(&f, &o),
		  HEADER STATS_TITLE
		  "UDP  192.0.2.1:53                        0        0        0        0        0\n"
		  "  -> 10.0.0.5:53                         0        0        0        0        0\n");
	list_close(&f);
}

/* An HTTP service's pools follow its own servers in every view: "  pool
 * NAME SCHED", or with --stats/--rate the pool's numbers in the service
 * columns; then the pool's servers. */
TEST(ctllist_pools_in_every_view)
{
	struct list_fx f;
	struct list_opts o = { .stats = true };
	struct virtual_service *svc;
	static const char *const lines[] = {
		"-A -t 127.0.0.1:18090 --proxy http -s rr",
		"-a -t 127.0.0.1:18090 -r 127.0.0.1:9001",
		"-A -t 127.0.0.1:18090 --pool api -s wrr",
		"-a -t 127.0.0.1:18090 -r 127.0.0.1:9003 -w 2 --pool api",
		NULL,
	};

	REQUIRE(list_open(&f, lines));
	svc = svc_at(&f, IPPROTO_TCP, "127.0.0.1:18090");
	REQUIRE(svc != NULL && svc->npools == 1);
	set_counters(&svc->stats, 8, 8, 16, 632, 1512);
	set_counters(&svc->servers[0]->stats, 3, 3, 6, 237, 567);
	set_counters(&svc->pools[0]->stats, 5, 5, 10, 395, 945);
	set_counters(&svc->pools[0]->servers[0]->stats, 5, 5, 10, 395, 945);
	CHECK_STR(list(&f, &o),
		  HEADER STATS_TITLE
		  "TCP  127.0.0.1:18090                     8        8       16      632     1512\n"
		  "  -> 127.0.0.1:9001                      3        3        6      237      567\n"
		  "  pool api                               5        5       10      395      945\n"
		  "  -> 127.0.0.1:9003                      5        5       10      395      945\n");
	o = (struct list_opts){ 0 };
	CHECK_STR(list(&f, &o),
		  HEADER TITLE
		  "TCP  127.0.0.1:18090 rr\n"
		  "  -> 127.0.0.1:9001               Proxy   1      0          0         \n"
		  "  pool api wrr\n"
		  "  -> 127.0.0.1:9003               Proxy   2      0          0         \n");
	o = (struct list_opts){ .rate = true, .only = svc };
	CHECK(strstr(list(&f, &o), "\n  pool api                               0        0") != NULL);
	list_close(&f);
}

/* -Z: counters restart from zero; rates forget their history. */
TEST(ctllist_zero_counters)
{
	struct list_fx f;
	struct list_opts o = { .stats = true };
	static const char *const one[] = {
		"-A -u 192.0.2.1:53 -s rr", "-a -u 192.0.2.1:53 -r 10.0.0.5", NULL,
	};
	struct virtual_service *svc;
	struct real_server *rs;

	REQUIRE(list_open(&f, one));
	svc = svc_at(&f, IPPROTO_UDP, "192.0.2.1:53");
	rs = rs_at(svc, "10.0.0.5:53");
	REQUIRE(rs != NULL);
	set_counters(&svc->stats, 10, 20, 30, 40, 50);
	set_counters(&rs->stats, 1, 2, 3, 4, 5);
	svc->stats.est.cps = 7 << 10;
	table_zero(&f.t, NULL);
	set_counters(&svc->stats, 11, 22, 33, 44, 55);
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  STATS_TITLE
		  "UDP  192.0.2.1:53                        1        2        3        4        5\n"
		  "  -> 10.0.0.5:53                         0        0        0        0        0\n");
	CHECK_EQ(svc->stats.est.cps, 0);
	list_close(&f);
}

#define RATE_TITLE "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" \
	"  -> RemoteAddress:Port\n"

TEST(ctllist_rate_format)
{
	struct list_fx f;
	struct list_opts o = { .rate = true };
	struct virtual_service *svc;
	struct real_server *rs;

	REQUIRE(list_open(&f, list_setup));
	svc = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	rs = rs_at(svc, "10.0.0.1:8080");
	REQUIRE(rs != NULL);
	svc->stats.est.cps = 5ull << 10;
	svc->stats.est.inpps = 1000ull << 10;
	svc->stats.est.outpps = 999ull << 10;
	svc->stats.est.inbps = 123456789ull << 5;
	svc->stats.est.outbps = 99999999ull << 5;
	/* a server's CPS and PPS columns are plain %8llu, as ipvsadm's */
	rs->stats.est.cps = 7ull << 10;
	rs->stats.est.outpps = 123456789ull << 10;
	rs->stats.est.inbps = 1000000000ull << 5;
	rs->stats.est.outbps = 5ull << 5;
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  RATE_TITLE
		  "TCP  192.0.2.1:80                        5     1000      999  123456K 99999999\n"
		  "  -> 10.0.0.1:8080                       7        0 123456789    1000M        5\n"
		  "  -> 10.0.0.2:80                         0        0        0        0        0\n");
	list_close(&f);
}

TEST(ctllist_thresholds_format)
{
	struct list_fx f;
	struct list_opts o = { .thresholds = true };
	struct virtual_service *svc;
	struct real_server *rs;

	REQUIRE(list_open(&f, list_setup));
	svc = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	rs = rs_at(svc, "10.0.0.1:8080");
	REQUIRE(rs != NULL);
	rs->ss.active = 12;
	rs->ss.inactive = 3;
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
		  "  -> RemoteAddress:Port\n"
		  "TCP  192.0.2.1:80 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n"
		  "  -> 10.0.0.1:8080                100        50         12         3         \n"
		  "  -> 10.0.0.2:80                  0          0          0          0         \n");
	list_close(&f);
}

TEST(ctllist_persistent_conn_format)
{
	struct list_fx f;
	struct list_opts o = { .pconn = true };
	struct virtual_service *svc;
	struct real_server *rs;

	REQUIRE(list_open(&f, list_setup));
	svc = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	rs = rs_at(svc, "10.0.0.1:8080");
	REQUIRE(rs != NULL);
	rs->ss.active = 12;
	rs->ss.inactive = 3;
	o.only = svc;
	CHECK_STR(list(&f, &o),
		  "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
		  "  -> RemoteAddress:Port\n"
		  "TCP  192.0.2.1:80 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n"
		  "  -> 10.0.0.1:8080                3         0           12         3         \n"
		  "  -> 10.0.0.2:80                  1         0           0          0         \n");
	list_close(&f);
}

/* ipvsadm prints " mask %s" whenever the netmask is not 255.255.255.255:
 * -M 0.0.0.0 (every client shares one template) is shown. */
TEST(ctllist_list_mask_all_zero)
{
	struct list_fx f;
	struct list_opts o = { 0 };
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80 -p -M 0.0.0.0", NULL,
	};

	REQUIRE(list_open(&f, setup));
	o.only = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	REQUIRE(o.only != NULL);
	CHECK_STR(list(&f, &o), TITLE "TCP  192.0.2.1:80 wlc persistent 300 mask 0.0.0.0\n");
	list_close(&f);
}

TEST(ctllist_list_after_an_edit)
{
	struct list_fx f;
	struct list_opts o = { 0 };
	struct weir_config c;
	char err[CTL_ERR_MAX];

	REQUIRE(list_open(&f, list_setup));
	REQUIRE(spec_dup(&c, &f.t.cfg) == 0);
	CHECK_EQ(fx_apply(&c, "-E -t 192.0.2.1:80 -s rr", err), 0);
	CHECK_EQ(fx_apply(&c, "-e -t 192.0.2.1:80 -r 10.0.0.2 -w 9 -i", err), 0);
	CHECK_EQ(fx_apply(&c, "-d -t 192.0.2.1:80 -r 10.0.0.1:8080", err), 0);
	CHECK_EQ(table_apply(&f.t, &c, err), 0);
	spec_free(&c);
	o.only = svc_at(&f, IPPROTO_TCP, "192.0.2.1:80");
	REQUIRE(o.only != NULL);
	CHECK_STR(list(&f, &o),
		  TITLE
		  "TCP  192.0.2.1:80 rr\n"
		  "  -> 10.0.0.2:80                  Tunnel  9      0          0         \n");
	list_close(&f);
}

/* A backup server: "backup" after ipvsadm's columns (a service without
 * backups lists as ipvsadm), "standby" in --health while a primary
 * serves, --backup in -S, which -R reads back; a config file's
 * "backup;" and "backup off" read the same. */
TEST(ctllist_backup_server)
{
	static const char *const setup[] = {
		"-A -t 192.0.2.7:80 -s rr",
		"-a -t 192.0.2.7:80 -r 10.0.0.1:80 -w 2",
		"-a -t 192.0.2.7:80 -r 10.0.0.2:80 --backup",
		NULL,
	};
	struct list_fx f;
	struct list_opts o = { 0 }, h = { .health = true };
	struct weir_config c;
	char *saved;

	REQUIRE(list_open(&f, setup));
	CHECK_STR(list(&f, &o),
		  HEADER TITLE
		  "TCP  192.0.2.7:80 rr\n"
		  "  -> 10.0.0.1:80                  Route   2      0          0         \n"
		  "  -> 10.0.0.2:80                  Route   1      0          0          backup\n");
	CHECK(strstr(list(&f, &h), "  -> 10.0.0.2:80                  standby ") != NULL);
	CHECK(strstr(list(&f, &h), "  -> 10.0.0.1:80                  up ") != NULL);
	list_close(&f);

	REQUIRE(fx_build(&c, setup));
	saved = save_str(&c, false);
	CHECK_STR(saved, "-A -t 192.0.2.7:80 -s rr\n"
		  "-a -t 192.0.2.7:80 -r 10.0.0.1:80 -g -w 2\n"
		  "-a -t 192.0.2.7:80 -r 10.0.0.2:80 -g -w 1 --backup\n");
	free(saved);
	check_round_trip(&c, __LINE__);
	spec_free(&c);
	{
		static const char text[] = "service tcp 192.0.2.1:80 {\n"
			"    server 10.0.0.1:80 backup weight 2;\n"
			"    server 10.0.0.2:80 weight 2 backup;\n"
			"    server 10.0.0.3:80 backup off;\n"
			"    server 10.0.0.4:80 { backup; }\n"
			"}\n";
		static const char bad[] = "service tcp 192.0.2.1:80 {\n"
			"    server 10.0.0.5:80 backup bogus;\n"
			"}\n";
		char err[CONFIG_ERR_MAX];
		struct buf b = { 0 };

		/* "bogus" is not a keyword: it is read as backup's value */
		CHECK(config_parse("t.conf", bad, strlen(bad), &c, err) != 0);
		CHECK_STR(err, "t.conf:2: backup: 'bogus' is not on or off");
		REQUIRE(config_parse("t.conf", text, strlen(text), &c, err) == 0);
		REQUIRE(c.nservices == 1 && c.services[0].nservers == 4);
		CHECK(c.services[0].servers[0].backup && c.services[0].servers[1].backup);
		CHECK_EQ(c.services[0].servers[0].weight, 2);
		CHECK_EQ(c.services[0].servers[1].weight, 2);
		CHECK(!c.services[0].servers[2].backup && c.services[0].servers[3].backup);
		config_write(&c, &b);
		buf_append(&b, "", 1);
		CHECK(strstr(buf_head(&b), "server 10.0.0.1:80 weight 2 backup;\n") != NULL);
		buf_free(&b);
		spec_free(&c);
	}
	check_config_round_trip("service tcp 192.0.2.1:80 {\n"
				"    server 10.0.0.1:80 backup weight 2;\n"
				"    server 10.0.0.2:80 weight 2 backup;\n"
				"    server 10.0.0.3:80 backup off;\n"
				"    server 10.0.0.4:80 { backup; }\n"
				"}\n", __LINE__);
}

/* --- names (ctl/names.h): marks filled with no names give the numbers -------- */

static int no_addr(const char *name, struct in_addr *out) { return -1; }
static int no_port(const char *name, int proto) { return -1; }
static int no_host(int af, const void *addr, char *out, size_t len) { return -1; }
static int no_serv(uint16_t port, int proto, char *out, size_t len) { return -1; }
static const struct names_ops no_names = { no_addr, no_port, no_host, no_serv };

/* <marked> filled without names is <plain>. */
static void check_marks_fill_to(const char *marked, size_t len, const char *plain, int at)
{
	struct buf b = { 0 };

	names_fill(&no_names, marked, len, &b);
	buf_append(&b, "", 1);
	if (strcmp(buf_head(&b), plain) != 0)
		unit_fail(__FILE__, at, "filled marks differ:\n%s\n---\n%s", buf_head(&b), plain);
	if (!memchr(marked, LIST_MARK_START, len))
		unit_fail(__FILE__, at, "no marks in:\n%s", marked);
	buf_free(&b);
}

TEST(ctllist_every_view_marks_its_addresses)
{
	static const struct list_opts views[] = {
		{ 0 }, { .stats = true }, { .rate = true }, { .thresholds = true },
		{ .pconn = true }, { .http = true }, { .udp = true }, { .health = true },
		{ .tuninfo = true },
	};
	struct list_fx f;
	char *plain, *saved, *marked;
	struct weir_config c;
	struct buf b = { 0 };

	REQUIRE(list_open(&f, list_setup));
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		struct list_opts o = views[i];

		plain = strdup(list(&f, &o));
		o.names = true;
		list(&f, &o);
		check_marks_fill_to(buf_head(&f.out), f.out.len, plain, __LINE__);
		free(plain);
	}
	list_close(&f);
	REQUIRE(fx_build(&c, save_setup));
	saved = save_str(&c, false);
	ctl_save(&c, false, true, &b);
	buf_append(&b, "", 1);
	marked = b.data;
	check_marks_fill_to(marked, strlen(marked), saved, __LINE__);
	free(saved);
	free(marked);
	spec_free(&c);
}
