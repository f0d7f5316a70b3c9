/* test_udp.c - the UDP proxy's per-worker pieces (src/proxy/udp_pool.c):
 * server slots (a slot is never shared by two live sessions to one server;
 * clean slots come back at once, others after a quarantine, early when
 * crowded or out of budget), the session tables under growth and removal,
 * and the UDP option rows. The proxy end to end: tests/integration/
 * test_udp_proxy.py. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/option.h"
#include "proxy/udp_int.h"
#include "proxy/udp_opts.h"
#include "unit.h"

static struct udp_worker *fake_worker(uint32_t budget)
{
	struct udp_worker *uw = calloc(1, sizeof(*uw));

	if (uw) {
		uw->seed = 0x1234567890abcdefull;
		uw->budget = budget;
	}
	return uw;
}

static void free_worker(struct udp_worker *uw)
{
	for (uint32_t i = 0; uw->dests && i <= uw->dmask; i++)
		for (struct udp_dest *d = uw->dests[i], *next; d; d = next) {
			next = d->next;
			free(d->clean);
			free(d->q);
			free(d);
		}
	free(uw->dests);
	free(uw->flows.b);
	free(uw->upt.b);
	free(uw);
}

static struct weir_addr A(const char *s)
{
	struct weir_addr a;

	memset(&a, 0, sizeof(a));
	addr_parse(s, false, &a);
	return a;
}

TEST(udp_slots_clean_reuse_and_quarantine)
{
	struct udp_worker *uw = fake_worker(1000);
	struct weir_addr s1 = A("10.0.0.1:53"), s2 = A("[2001:db8::1]:53");
	struct udp_dest *d, *d6;
	uint32_t a, b, c, x;

	REQUIRE(uw != NULL);
	d = udp_dest_get(uw, &s1);
	REQUIRE(d != NULL);
	CHECK(udp_dest_get(uw, &s1) == d);     /* one per address */
	d6 = udp_dest_get(uw, &s2);
	REQUIRE(d6 != NULL && d6 != d);
	CHECK_EQ(d->fam, 0);
	CHECK_EQ(d6->fam, 1);
	udp_dest_take(uw, d, 1000, &a);
	udp_dest_take(uw, d, 1000, &b);
	udp_dest_take(uw, d, 1000, &c);
	CHECK(a != b && b != c && a != c);
	CHECK_EQ(d->inuse, 3);
	/* another server's slots are its own: slot 0 again */
	udp_dest_take(uw, d6, 1000, &x);
	CHECK_EQ(x, 0);
	/* a clean end: the same slot at once */
	udp_dest_give(d, b, true, 1000);
	udp_dest_take(uw, d, 1000, &x);
	CHECK_EQ(x, b);
	/* an early end: quarantined, a fresh slot meanwhile */
	udp_dest_give(d, a, false, 1000);
	udp_dest_take(uw, d, 1000 + UDP_QUARANTINE_MS - 1, &x);
	CHECK(x != a && x != b && x != c);
	udp_dest_give(d, x, true, 2000);
	udp_dest_take(uw, d, 2000, &x);         /* the clean one first */
	CHECK(x != a);
	udp_dest_take(uw, d, 1000 + UDP_QUARANTINE_MS, &x);
	CHECK_EQ(x, a);                         /* its time is up */
	free_worker(uw);
}

TEST(udp_slots_bounded_under_a_flood_of_evictions)
{
	struct udp_worker *uw = fake_worker(100000);
	struct weir_addr s1 = A("10.0.0.1:53");
	struct udp_dest *d = udp_dest_get(uw, &s1);
	uint32_t idx, most = 0;

	REQUIRE(d != NULL);
	/* 10 live sessions; 10,000 more come, each evicting one (early end)
	 * within the quarantine: the slots stay a few dozen, not 10,000 */
	uint32_t live[10];

	for (int i = 0; i < 10; i++)
		udp_dest_take(uw, d, 0, &live[i]);
	for (int i = 0; i < 10000; i++) {
		udp_dest_give(d, live[i % 10], false, 5);
		udp_dest_take(uw, d, 5, &live[i % 10]);
		most = live[i % 10] > most ? live[i % 10] : most;
	}
	CHECK(most < 64 + 10 + 1);
	CHECK_EQ(d->inuse, 10);
	/* no live session shares a slot */
	for (int i = 0; i < 10; i++)
		for (int j = i + 1; j < 10; j++)
			CHECK(live[i] != live[j]);
	/* out of the socket budget: the oldest quarantined slot is taken */
	uw->nsocks = uw->budget;
	udp_dest_give(d, live[0], false, 5);
	udp_dest_take(uw, d, 5, &idx);
	CHECK(idx <= most);
	free_worker(uw);
}

static struct udp_sess *sess_at(struct udp_lst *lst, int i)
{
	struct udp_sess *s = calloc(1, sizeof(*s));
	char buf[64];

	if (!s)
		return NULL;
	snprintf(buf, sizeof(buf), "127.0.%d.%d:%d", (i >> 8) & 255, i & 255, 1024 + i);
	s->client = A(buf);
	s->local = A("127.0.0.1:53");
	s->lst = lst;
	return s;
}

TEST(udp_flow_table_grows_and_forgets)
{
	struct udp_worker *uw = fake_worker(1000);
	struct udp_lst lst1, lst2;
	struct udp_sess *ss[3000];
	int found = 0, gone = 0, strangers = 0;

	REQUIRE(uw != NULL);
	memset(&lst1, 0, sizeof(lst1));
	memset(&lst2, 0, sizeof(lst2));
	for (int i = 0; i < 3000; i++) {
		ss[i] = sess_at(&lst1, i);
		REQUIRE(ss[i] != NULL);
		ss[i]->fhash = udp_flow_hash(uw, &lst1, &ss[i]->client, &ss[i]->local);
		REQUIRE(udp_htab_add(&uw->flows, ss[i], ss[i]->fhash, FLOWS) == 0);
	}
	CHECK_EQ(uw->flows.n, 3000);
	CHECK(uw->flows.mask + 1 >= 2048);      /* grew from 256 */
	for (int i = 0; i < 3000; i += 2)
		udp_htab_del(&uw->flows, ss[i], ss[i]->fhash, FLOWS);
	for (int i = 0; i < 3000; i++) {
		struct dgram_msg m = { .peer = ss[i]->client, .local = ss[i]->local };
		struct udp_sess *s = udp_flow_find(uw, &lst1, &m,
						   udp_flow_hash(uw, &lst1, &m.peer, &m.local));

		if (i % 2)
			found += s == ss[i];
		else
			gone += s == NULL;
		/* the same flow on another listener (service) is another flow */
		strangers += udp_flow_find(uw, &lst2, &m,
					   udp_flow_hash(uw, &lst2, &m.peer, &m.local)) != NULL;
	}
	CHECK_EQ(found, 1500);
	CHECK_EQ(gone, 1500);
	CHECK_EQ(strangers, 0);
	CHECK_EQ(uw->flows.n, 1500);
	/* the local address is part of the flow */
	{
		struct dgram_msg m = { .peer = ss[1]->client, .local = A("127.0.0.2:53") };

		CHECK(udp_flow_find(uw, &lst1, &m,
				    udp_flow_hash(uw, &lst1, &m.peer, &m.local)) == NULL);
	}
	for (int i = 0; i < 3000; i++)
		free(ss[i]);
	free_worker(uw);
}

TEST(udp_option_rows)
{
	struct service_spec s;
	const struct opt_ref *resp = opt_find_key(OPT_SVC, "responses");
	const struct opt_ref *req = opt_find_key(OPT_SVC, "requests");
	char why[SPEC_ERR_MAX], out[64];
	char *off[] = { "off" }, *zero[] = { "0" }, *one[] = { "1" }, *bad[] = { "many" };

	REQUIRE(resp != NULL && req != NULL);
	spec_service_defaults(&s);
	CHECK_EQ(udp_opts_spec(&s)->responses, UDP_UNLIMITED);
	CHECK_EQ(udp_opts_spec(&s)->requests, UDP_UNLIMITED);
	CHECK_EQ(opt_parse(resp, zero, 1, &s, why), 0);
	CHECK_EQ(udp_opts_spec(&s)->responses, 0);   /* none expected */
	opt_format(resp, &s, out, sizeof(out));
	CHECK_STR(out, "0");
	CHECK_EQ(opt_parse(req, zero, 1, &s, why), 0);
	CHECK_EQ(udp_opts_spec(&s)->requests, UDP_UNLIMITED); /* 0 = no limit */
	opt_format(req, &s, out, sizeof(out));
	CHECK_STR(out, "off");
	CHECK_EQ(opt_parse(req, one, 1, &s, why), 0);
	CHECK_EQ(udp_opts_spec(&s)->requests, 1);
	CHECK_EQ(opt_parse(resp, off, 1, &s, why), 0);
	CHECK_EQ(udp_opts_spec(&s)->responses, UDP_UNLIMITED);
	CHECK_EQ(opt_parse(resp, bad, 1, &s, why), -EINVAL);
	CHECK_STR(why, "'many' is not off or a number 0..1000000");
}
