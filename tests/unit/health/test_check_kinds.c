/* test_check_kinds.c - the kinds of checks behind struct hc_ops: which kind
 * a server's check is (its own check_spec, or its service's), exactly one
 * per slot, with the settings it runs with; the agent's reading of its
 * line; tcp reading nothing. The http check's answers: test_check_http.c. */
#include <errno.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "health/check_http.h"
#include "unit.h"

static const struct hc_ops *const all_kinds[] = { &hc_tcp, &hc_http, &hc_agent };

struct kfx {
	struct vs_table t;
	enum log_level saved_log;
};

static bool kfx_open(struct kfx *f, const char *conf, int line)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	table_init(&f->t, 1);
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR;
	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, line, "config refused: %s", err);
		rc = -1;
	} else {
		rc = table_apply(&f->t, &c, err);
		spec_free(&c);
		if (rc)
			unit_fail(__FILE__, line, "table_apply: %s", err);
	}
	if (rc || !f->t.head) {
		table_fini(&f->t);
		log_threshold = f->saved_log;
		return false;
	}
	return true;
}

static void kfx_close(struct kfx *f)
{
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

/* The kind that wants <slot> of server <i> of the first service, with its
 * conf; NULL if none. Fails the test if two kinds want it. */
static const struct hc_ops *kind_of(struct kfx *f, size_t i, unsigned slot,
				    struct hc_conf *conf, int line)
{
	struct virtual_service *svc = f->t.head;
	const struct hc_ops *found = NULL;

	for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
		struct hc_conf c;

		memset(&c, 0, sizeof(c));
		if (all_kinds[k]->slot != slot || !all_kinds[k]->want(svc, svc->servers[i], &c))
			continue;
		if (found)
			unit_fail(__FILE__, line, "%s and %s both want slot %u", found->name,
				  all_kinds[k]->name, slot);
		found = all_kinds[k];
		*conf = c;
	}
	return found;
}

TEST(check_kinds_chosen_by_spec)
{
	struct kfx f;
	struct hc_conf conf;
	const struct hc_ops *k;

	REQUIRE(kfx_open(&f, "service tcp 192.0.2.1:80 {\n"
			 "  check http path /health interval 3s timeout 500ms jitter 5% body ok;\n"
			 "  agent port 9999 interval 4s timeout 300ms send hello;\n"
			 "  server 10.0.0.1:80;\n"
			 "  server 10.0.0.2:80 { check tcp port 8080 interval 1s; }\n"
			 "  server 10.0.0.3:80 { check off; }\n"
			 "}\n", __LINE__));
	/* the service's http check */
	k = kind_of(&f, 0, HC_SLOT_ACTIVE, &conf, __LINE__);
	CHECK(k == &hc_http);
	CHECK_EQ(conf.port, 0);
	CHECK_EQ(conf.interval_ms, 3000);
	CHECK_EQ(conf.timeout_ms, 500);
	CHECK_EQ(conf.jitter_pct, 5);
	if (k == &hc_http) {
		CHECK_STR(http_check_of(hc_spec(&conf))->path, "/health");
		CHECK_STR(http_check_of(hc_spec(&conf))->body, "ok");
	}
	/* the server's own tcp check */
	k = kind_of(&f, 1, HC_SLOT_ACTIVE, &conf, __LINE__);
	CHECK(k == &hc_tcp);
	CHECK_EQ(conf.port, 8080);
	CHECK_EQ(conf.interval_ms, 1000);
	/* none */
	CHECK(kind_of(&f, 2, HC_SLOT_ACTIVE, &conf, __LINE__) == NULL);
	/* every server has the service's agent */
	for (size_t i = 0; i < 3; i++) {
		k = kind_of(&f, i, HC_SLOT_AGENT, &conf, __LINE__);
		CHECK(k == &hc_agent);
		CHECK_EQ(conf.port, 9999);
		CHECK_EQ(conf.interval_ms, 4000);
		CHECK_EQ(conf.timeout_ms, 300);
		CHECK_EQ(conf.jitter_pct, 10);
	}
	kfx_close(&f);

	REQUIRE(kfx_open(&f, "service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80;\n}\n",
			 __LINE__));
	CHECK(kind_of(&f, 0, HC_SLOT_ACTIVE, &conf, __LINE__) == NULL);
	CHECK(kind_of(&f, 0, HC_SLOT_AGENT, &conf, __LINE__) == NULL);
	kfx_close(&f);
}

/* Two servers with the same check compare equal (a running check is kept
 * on reload); another setting makes another conf (it is replaced). */
TEST(check_kinds_conf_compares_whole)
{
	struct kfx f;
	struct hc_conf a, b, c;

	REQUIRE(kfx_open(&f, "service tcp 192.0.2.1:80 {\n  check http path /h;\n"
			 "  server 10.0.0.1:80;\n  server 10.0.0.2:80;\n"
			 "  server 10.0.0.3:80 { check http path /other; }\n}\n", __LINE__));
	REQUIRE(kind_of(&f, 0, HC_SLOT_ACTIVE, &a, __LINE__) == &hc_http);
	REQUIRE(kind_of(&f, 1, HC_SLOT_ACTIVE, &b, __LINE__) == &hc_http);
	REQUIRE(kind_of(&f, 2, HC_SLOT_ACTIVE, &c, __LINE__) == &hc_http);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(memcmp(&a, &c, sizeof(a)) != 0);
	kfx_close(&f);
}

TEST(check_kinds_tcp_reads_nothing)
{
	CHECK(hc_tcp.answer == NULL);
	CHECK(hc_tcp.request == NULL);
	CHECK_STR(check_kind_name((unsigned)check_kind_find("tcp")), "tcp");
	CHECK_STR(check_kind_name((unsigned)check_kind_find("http")), "http");
	/* the agent is an option of its own, not a `check` kind */
	CHECK_EQ(check_kind_find("agent"), -ENOENT);
}

/* The agent's answer: <in> then (if <close>) the close. */
static int agent_answer(const char *in, size_t n, bool close, char *what)
{
	char buf[HC_ANSWER_MAX + 1];
	size_t len = MIN(n, hc_agent.answer_max);
	int r;

	memcpy(buf, in, len);
	buf[len] = '\0';
	what[0] = '\0';
	r = hc_agent.answer(NULL, NULL, buf, &len, false, what);
	if (r == HC_MORE && close)
		r = hc_agent.answer(NULL, NULL, buf, &len, true, what);
	return r;
}

TEST(check_kinds_agent_lines)
{
	char what[HC_WHAT_MAX], line[400];

	CHECK_EQ(agent_answer("up 75%\n", 7, false, what), CHECK_PASS);
	CHECK_STR(what, "up 75%");
	CHECK_EQ(agent_answer("drain\r\nmore\n", 12, false, what), CHECK_PASS);
	CHECK_STR(what, "drain");
	/* no newline yet: wait; the close ends the line */
	CHECK_EQ(agent_answer("weight 40", 9, false, what), HC_MORE);
	CHECK_EQ(agent_answer("weight 40", 9, true, what), CHECK_PASS);
	CHECK_STR(what, "weight 40");
	CHECK_EQ(agent_answer("", 0, true, what), CHECK_FAIL);
	CHECK_STR(what, "closed without answering");
	CHECK_EQ(agent_answer("\r\n", 2, false, what), CHECK_FAIL);
	CHECK_STR(what, "closed without answering");
	/* words it does not know: a failed answer that says why */
	CHECK_EQ(agent_answer("sleepy\n", 7, false, what), CHECK_FAIL);
	CHECK(strncmp(what, "unreadable: ", 12) == 0);
	CHECK_EQ(agent_answer("up\0x\n", 5, false, what), CHECK_FAIL);
	CHECK(strncmp(what, "unreadable: ", 12) == 0);
	/* a line as long as the buffer is taken as it is */
	memset(line, '5', sizeof(line));
	CHECK_EQ(agent_answer(line, sizeof(line), false, what), CHECK_FAIL);
	CHECK(strncmp(what, "unreadable: ", 12) == 0);
}

TEST(check_kinds_agent_sends_its_text)
{
	struct hc_conf conf;
	struct agent_spec *a = (struct agent_spec *)conf.own.bytes;
	char out[512];

	memset(&conf, 0, sizeof(conf));
	snprintf(a->send, sizeof(a->send), "status\n");
	CHECK_EQ(hc_agent.request(&conf, NULL, out, sizeof(out)), 7);
	CHECK_STR(out, "status\n");
	a->send[0] = '\0';
	CHECK_EQ(hc_agent.request(&conf, NULL, out, sizeof(out)), 0);
}
