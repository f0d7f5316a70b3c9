/* test_dash.c - the dashboard's JSON and control (ctl/dash.c): valid JSON
 * whatever the names and texts hold, the history after a given time, the
 * query decoding, the token compare, and POST /api/server refused without
 * the config's token and carried out with it. */
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "ctl/dash.h"
#include "ctl/exec.h"
#include "ctl/metrics_http.h"
#include "health/state.h"
#include "json_valid.h"
#include "unit.h"

#define HOSTILE "</script><img src=x onerror=alert(1)> \"q\" \\ \x01\n\xff end"

struct dash_fx {
	struct vs_table t;
	struct ctl_ctx ctx;
	struct buf out;
	enum log_level saved_log;
	char token_path[64];
};

static const char dash_conf[] =
	"service tcp 192.0.2.1:80 { scheduler rr; server 10.0.0.1:80; server 10.0.0.2:80; }\n";

static void fx_close(struct dash_fx *f)
{
	buf_free(&f->out);
	table_fini(&f->t);
	if (f->token_path[0])
		unlink(f->token_path);
	log_threshold = f->saved_log;
}

/* A packet-mode table (no socket opened); <token>: the metrics_token file's
 * text, NULL for none. */
static bool fx_open(struct dash_fx *f, const char *token)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	dash_forget(); /* a new table may take the address of the last test's */
	table_init(&f->t, 2);
	f->ctx.table = &f->t;
	f->ctx.nworkers = 2;
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR;
	if (config_parse("t.conf", dash_conf, strlen(dash_conf), &c, err) != 0) {
		unit_fail(__FILE__, __LINE__, "config: %s", err);
		fx_close(f);
		return false;
	}
	if (token) {
		FILE *fp;

		snprintf(f->token_path, sizeof(f->token_path), "/tmp/weir-dash-token.%d", getpid());
		fp = fopen(f->token_path, "w");
		if (fp) {
			fputs(token, fp);
			fclose(fp);
		}
		snprintf(c.metrics_token, sizeof(c.metrics_token), "%s", f->token_path);
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc) {
		unit_fail(__FILE__, __LINE__, "table_apply: %s", err);
		fx_close(f);
		return false;
	}
	return true;
}

static const char *fx_text(struct dash_fx *f)
{
	buf_append(&f->out, "", 1);
	f->out.len--;
	return buf_head(&f->out);
}

#define CHECK_HAS(s, want) \
	do { if (!strstr((s), (want))) unit_fail(__FILE__, __LINE__, "missing %s", (want)); } while (0)

TEST(dash_json_escapes_names_and_texts)
{
	struct dash_fx f;
	struct route_spec *r;
	struct real_server *rs;
	const char *s;

	REQUIRE(fx_open(&f, NULL));
	/* a route of the config (the table's copy) with hostile strings */
	r = calloc(1, sizeof(*r));
	REQUIRE(r);
	snprintf(r->pool, sizeof(r->pool), "%s", "p\"o</script>");
	snprintf(r->host, sizeof(r->host), "%s", HOSTILE);
	snprintf(r->header_regex, sizeof(r->header_regex), "%s", "^a\\d+\"$");
	f.t.cfg.services[0].routes = r;
	f.t.cfg.services[0].nroutes = 1;
	rs = f.t.head->servers[0];
	pthread_mutex_lock(&f.t.head->lock);
	snprintf(health_rs(rs)->h.reason, sizeof(health_rs(rs)->h.reason), "%s", HOSTILE);
	pthread_mutex_unlock(&f.t.head->lock);
	dash_json(&f.ctx, &f.out);
	s = fx_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_HAS(s, "\"control\":false");
	CHECK_HAS(s, "\"host\":\"</script><img src=x onerror=alert(1)> \\\"q\\\" \\\\ \\u0001\\u000a\\ufffd end\"");
	CHECK_HAS(s, "\"pool\":\"p\\\"o</script>\"");
	CHECK_HAS(s, "\"header_regex\":\"^a\\\\d+\\\"$\"");
	CHECK_HAS(s, "\"reason\":\"</script><img");
	CHECK_HAS(s, "\"service\":\"TCP 192.0.2.1:80\"");
	CHECK_HAS(s, "\"servers_by_state\"");
	CHECK_HAS(s, "\"p50\":");
	fx_close(&f);
}

TEST(dash_history_json_after_since)
{
	struct dash_fx f;
	struct virtual_service *svc;
	const char *s;

	REQUIRE(fx_open(&f, NULL));
	svc = f.t.head;
	dash_history_json(&f.t, 0, &f.out);
	s = fx_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_HAS(s, "\"server\":\"\",\"t\":[],\"rps\":[]"); /* no tick yet */
	CHECK_HAS(s, "\"server\":\"10.0.0.2:80\"");
	/* three ticks 2 s apart, 40 requests to server 1 in the second */
	for (int k = 0; k < 3; k++) {
		if (k == 2) {
			counter_add(&svc->stats.pt[0].requests, 40);
			counter_add(&svc->servers[0]->stats.pt[1].requests, 40);
		}
		stats_record(&svc->stats, 2, 2000 * (k + 1), 1000000 + 2000 * k, 0);
		stats_record(&svc->servers[0]->stats, 2, 2000 * (k + 1), 1000000 + 2000 * k, 3);
	}
	buf_reset(&f.out);
	dash_history_json(&f.t, 0, &f.out);
	s = fx_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_HAS(s, "\"server\":\"\",\"t\":[1002.000,1004.000],\"rps\":[0,20]");
	CHECK_HAS(s, "\"server\":\"10.0.0.1:80\",\"t\":[1002.000,1004.000],\"rps\":[0,20]");
	CHECK_HAS(s, "\"active\":[3,3]");
	/* since the first sample: only the second */
	buf_reset(&f.out);
	dash_history_json(&f.t, 1002000, &f.out);
	s = fx_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_HAS(s, "\"server\":\"10.0.0.1:80\",\"t\":[1004.000],\"rps\":[20]");
	fx_close(&f);
}

TEST(dash_query_get_decodes)
{
	char v[16];

	CHECK(dash_query_get("a=1&vip=%5B%3A%3A1%5D%3A80&b", "vip", v, sizeof(v)));
	CHECK_STR(v, "[::1]:80");
	CHECK(dash_query_get("xvip=1&vip=2", "vip", v, sizeof(v)));
	CHECK_STR(v, "2");
	CHECK(dash_query_get("vip=&x=1", "vip", v, sizeof(v)));
	CHECK_STR(v, "");
	CHECK(dash_query_get("w=a+b", "w", v, sizeof(v)));
	CHECK_STR(v, "a b");
	CHECK(!dash_query_get("vip", "vip", v, sizeof(v)));
	CHECK(!dash_query_get("", "vip", v, sizeof(v)));
	CHECK(!dash_query_get("vip=%zz", "vip", v, sizeof(v)));
	CHECK(!dash_query_get("vip=%4", "vip", v, sizeof(v)));
	CHECK(!dash_query_get("vip=a%00b", "vip", v, sizeof(v)));
	CHECK(!dash_query_get("vip=0123456789abcdef", "vip", v, sizeof(v)));
}

TEST(dash_token_equal_compares_whole)
{
	CHECK(dash_token_equal("s3cret", "s3cret"));
	CHECK(!dash_token_equal("s3cre", "s3cret"));
	CHECK(!dash_token_equal("s3crett", "s3cret"));
	CHECK(!dash_token_equal("s3creT", "s3cret"));
	CHECK(!dash_token_equal("", "s3cret"));
	CHECK(!dash_token_equal("", "")); /* an empty secret lets nobody in */
}

static int control(struct dash_fx *f, const char *query, const char *token)
{
	buf_reset(&f->out);
	return dash_control(&f->ctx, query, token, &f->out);
}

TEST(dash_control_needs_the_token)
{
	struct dash_fx f;
	struct real_server *rs;
	const char *q = "proto=tcp&vip=192.0.2.1%3A80&server=10.0.0.1%3A80&action=drain";

	REQUIRE(fx_open(&f, NULL));
	CHECK_EQ(control(&f, q, "anything"), 403); /* off without metrics_token */
	CHECK_HAS(fx_text(&f), "off");
	fx_close(&f);

	REQUIRE(fx_open(&f, "s3cret\n"));
	rs = f.t.head->servers[0];
	CHECK_EQ(control(&f, q, ""), 403);
	CHECK_EQ(control(&f, q, "s3cre"), 403);
	CHECK_STR(rs_state_name(rs), "up");
	CHECK_EQ(control(&f, q, "s3cret"), 200);
	CHECK(json_valid(fx_text(&f), f.out.len, __LINE__));
	CHECK_STR(rs_state_name(f.t.head->servers[0]), "drain");
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.1:80&action=weight&weight=7",
			 "s3cret"), 200);
	CHECK_EQ(health_rs(f.t.head->servers[0])->h.weight, 7);
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.1:80&action=ready", "s3cret"), 200);
	CHECK_STR(rs_state_name(f.t.head->servers[0]), "up");
	/* refused: unknown server, words smuggled into an address, bad action */
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.9:80&action=drain", "s3cret"), 400);
	CHECK(json_valid(fx_text(&f), f.out.len, __LINE__));
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.1:80%0Aflush&action=drain",
			 "s3cret"), 400);
	CHECK_EQ(control(&f, "vip=192.0.2.1:80%20-C&server=10.0.0.1:80&action=drain", "s3cret"),
		 400);
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.1:80&action=delete", "s3cret"), 400);
	CHECK_EQ(control(&f, "vip=192.0.2.1:80&server=10.0.0.1:80&action=weight&weight=-1",
			 "s3cret"), 400);
	CHECK_EQ(f.t.head->nservers, 2);
	/* a token file gone lets nobody in */
	unlink(f.token_path);
	CHECK_EQ(control(&f, q, "s3cret"), 403);
	fx_close(&f);
}

/* The listener's head reading keeps what the dashboard needs: the query,
 * the token header, POST (still 405 for the generic verdict), a body. */
TEST(dash_mhttp_parse_keeps_query_and_token)
{
	static const char post[] = "POST /api/server?vip=1.2.3.4%3A80&action=drain HTTP/1.1\r\n"
				   "Host: x\r\nx-weir-token:  s3cret \r\nContent-Length: 0\r\n\r\n";
	static const char body[] = "POST /api/server HTTP/1.1\r\nHost: x\r\n"
				   "Content-Length: 3\r\n\r\n";
	struct mhttp_req r;

	mhttp_parse(post, strlen(post), &r);
	CHECK_EQ(r.status, 405);
	CHECK(r.post && !r.body);
	CHECK_STR(r.path, "/api/server");
	CHECK_STR(r.query, "vip=1.2.3.4%3A80&action=drain");
	CHECK_STR(r.token, "s3cret");
	mhttp_parse(body, strlen(body), &r);
	CHECK(r.post && r.body);
	CHECK_STR(r.token, "");
}

/* /api/dash is built a few times a second at most, whoever asks. */
TEST(dash_json_reused_for_a_moment)
{
	struct dash_fx f;
	struct buf again = { 0 };

	REQUIRE(fx_open(&f, NULL));
	dash_json(&f.ctx, &f.out);
	counter_add(&f.t.head->stats.pt[0].conns, 5);
	dash_json(&f.ctx, &again);
	CHECK_EQ(again.len, f.out.len);
	CHECK(memcmp(buf_head(&again), buf_head(&f.out), f.out.len) == 0);
	dash_forget();
	buf_reset(&again);
	dash_json(&f.ctx, &again);
	buf_append(&again, "", 1);
	CHECK(strstr(buf_head(&again), "\"conns\":5,") != NULL);
	buf_free(&again);
	fx_close(&f);
}

/* metrics_token in the config: read, written back, refused when too long. */
TEST(dash_config_metrics_token)
{
	static const char conf[] = "metrics 127.0.0.1:9100;\nmetrics_token \"/etc/weir/dash token\";\n";
	struct weir_config c;
	struct buf w = { 0 };
	char err[CONFIG_ERR_MAX], longer[400];

	REQUIRE(config_parse("t.conf", conf, strlen(conf), &c, err) == 0);
	CHECK_STR(c.metrics_token, "/etc/weir/dash token");
	config_write(&c, &w);
	buf_append(&w, "", 1);
	CHECK(strstr(buf_head(&w), "metrics_token \"/etc/weir/dash token\";") != NULL);
	spec_free(&c);
	buf_free(&w);
	REQUIRE(config_parse("t.conf", "metrics_token off;", 18, &c, err) == 0);
	CHECK_STR(c.metrics_token, "");
	spec_free(&c);
	memset(longer, 0, sizeof(longer));
	memcpy(longer, "metrics_token ", 14);
	memset(longer + 14, 'a', 300);
	strcat(longer, ";");
	CHECK(config_parse("t.conf", longer, strlen(longer), &c, err) != 0);
	CHECK(strstr(err, "metrics_token") != NULL);
}
