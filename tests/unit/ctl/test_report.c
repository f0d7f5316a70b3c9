/* test_report.c - the numbers for programs: report_json and
 * report_status_json are valid JSON (RFC 8259, UTF-8) with the table's
 * values in place; report_metrics follows the Prometheus text format 0.0.4
 * (families declared once with HELP and TYPE before their samples, counters
 * named _total, label values escaped). */
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "ctl/report.h"
#include "health/state.h"
#include "json_valid.h"
#include "unit.h"

/* --- a Prometheus text format validator ----------------------------------------- */

struct pfam {
	char name[128];
	char type[16];
	bool help, sampled;
};

struct pcheck {
	struct pfam fam[128];
	int nfam;
	int cur;              /* the family samples may belong to; -1 none */
	char (*seen)[512];    /* samples (name + labels) already given */
	int nseen;
	int nsamples;
	int line;             /* of the text */
	int at;               /* of the test */
	bool failed;
};

static void p_fail(struct pcheck *c, const char *what, const char *text)
{
	if (!c->failed && c->at) /* at 0: quiet */
		unit_fail(__FILE__, c->at, "metrics line %d: %s: %.*s", c->line, what,
			  (int)MIN(strcspn(text, "\n"), 120), text);
	c->failed = true;
}

static bool metric_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static int fam_find(struct pcheck *c, const char *name, size_t n)
{
	for (int i = 0; i < c->nfam; i++)
		if (strlen(c->fam[i].name) == n && memcmp(c->fam[i].name, name, n) == 0)
			return i;
	return -1;
}

static bool ends_with(const char *s, size_t n, const char *sfx)
{
	size_t k = strlen(sfx);

	return n >= k && memcmp(s + n - k, sfx, k) == 0;
}

/* "# HELP name text" / "# TYPE name type" */
static void p_comment(struct pcheck *c, const char *l, size_t n)
{
	bool help = n > 7 && memcmp(l, "# HELP ", 7) == 0;
	bool type = n > 7 && memcmp(l, "# TYPE ", 7) == 0;
	const char *name = l + 7, *sp;
	size_t nlen;
	int f;

	if (!help && !type)
		return; /* another comment */
	sp = memchr(name, ' ', n - 7);
	nlen = sp ? (size_t)(sp - name) : n - 7;
	if (!metric_name_ok(name, nlen))
		return p_fail(c, "bad metric name", l);
	f = fam_find(c, name, nlen);
	if (f < 0) {
		if (c->nfam == 128)
			return p_fail(c, "too many families for the test", l);
		f = c->nfam++;
		memcpy(c->fam[f].name, name, nlen);
		c->fam[f].name[nlen] = '\0';
	} else if (c->fam[f].sampled || f != c->cur) {
		return p_fail(c, "family declared again, or after its samples", l);
	}
	c->cur = f;
	if (help) {
		if (c->fam[f].help)
			return p_fail(c, "second HELP", l);
		if (!sp || sp + 1 >= l + n)
			return p_fail(c, "HELP without text", l);
		c->fam[f].help = true;
		return;
	}
	if (c->fam[f].type[0])
		return p_fail(c, "second TYPE", l);
	if (!sp)
		return p_fail(c, "TYPE without a type", l);
	{
		size_t tl = (size_t)(l + n - sp - 1);
		static const char *const types[] = { "counter", "gauge", "summary", "histogram",
						     "untyped" };
		bool known = false;

		for (size_t i = 0; i < 5; i++)
			known |= strlen(types[i]) == tl && memcmp(sp + 1, types[i], tl) == 0;
		if (!known || tl >= sizeof(c->fam[f].type))
			return p_fail(c, "unknown type", l);
		memcpy(c->fam[f].type, sp + 1, tl);
		c->fam[f].type[tl] = '\0';
	}
	if (strcmp(c->fam[f].type, "counter") == 0 && !ends_with(name, nlen, "_total"))
		p_fail(c, "counter not named _total", l);
}

/* {name="value",...}: label names and the escapes \\ \" \n. Returns the
 * bytes taken, 0 on error; sets *quantile when a quantile label is there. */
static size_t p_labels(struct pcheck *c, const char *l, size_t n, bool *quantile)
{
	char names[16][64];
	int nnames = 0;
	size_t i = 1;

	*quantile = false;
	if (n < 2 || l[0] != '{')
		return 0;
	if (l[1] == '}')
		return 2;
	for (;;) {
		size_t start = i;

		while (i < n && (isalnum((unsigned char)l[i]) || l[i] == '_'))
			i++;
		if (i == start || isdigit((unsigned char)l[start]) || i - start >= 64 ||
		    i + 1 >= n || l[i] != '=' || l[i + 1] != '"') {
			p_fail(c, "bad label name", l);
			return 0;
		}
		for (int k = 0; k < nnames; k++)
			if (strlen(names[k]) == i - start && memcmp(names[k], l + start, i - start) == 0) {
				p_fail(c, "label given twice", l);
				return 0;
			}
		if (nnames < 16) {
			memcpy(names[nnames], l + start, i - start);
			names[nnames++][i - start] = '\0';
		}
		*quantile |= i - start == 8 && memcmp(l + start, "quantile", 8) == 0;
		for (i += 2; i < n && l[i] != '"'; i++) {
			if (l[i] == '\\') {
				if (i + 1 >= n || !strchr("\\\"n", l[i + 1]) || !l[i + 1]) {
					p_fail(c, "bad escape in a label value", l);
					return 0;
				}
				i++;
			} else if (l[i] == '\n') {
				p_fail(c, "raw newline in a label value", l);
				return 0;
			}
		}
		if (i >= n) {
			p_fail(c, "unterminated label value", l);
			return 0;
		}
		i++;
		if (i < n && l[i] == ',') {
			i++;
			if (i < n && l[i] == '}')
				return i + 1;
			continue;
		}
		if (i < n && l[i] == '}')
			return i + 1;
		p_fail(c, "',' or '}' expected after a label", l);
		return 0;
	}
}

static void p_sample(struct pcheck *c, const char *l, size_t n)
{
	size_t nlen = 0, lab = 0;
	bool quantile = false;
	int f;
	char value[64], *end;

	while (nlen < n && l[nlen] != '{' && l[nlen] != ' ')
		nlen++;
	if (!metric_name_ok(l, nlen))
		return p_fail(c, "bad sample name", l);
	if (nlen < n && l[nlen] == '{' && !(lab = p_labels(c, l + nlen, n - nlen, &quantile)))
		return;
	/* the family: the name, or a summary's _sum/_count */
	f = fam_find(c, l, nlen);
	if (f < 0 && (ends_with(l, nlen, "_sum") || ends_with(l, nlen, "_count"))) {
		size_t base = nlen - (ends_with(l, nlen, "_sum") ? 4 : 6);

		f = fam_find(c, l, base);
		if (f >= 0 && strcmp(c->fam[f].type, "summary") != 0 &&
		    strcmp(c->fam[f].type, "histogram") != 0)
			f = -1;
		if (f >= 0 && quantile)
			return p_fail(c, "quantile label on _sum/_count", l);
	} else if (f >= 0 && strcmp(c->fam[f].type, "summary") == 0 && !quantile) {
		return p_fail(c, "summary sample without a quantile", l);
	}
	if (f < 0)
		return p_fail(c, "sample of an undeclared family", l);
	if (f != c->cur)
		return p_fail(c, "samples of a family are not together", l);
	if (!c->fam[f].help || !c->fam[f].type[0])
		return p_fail(c, "sample before its HELP and TYPE", l);
	c->fam[f].sampled = true;
	/* one blank, then the value (no timestamp here) */
	{
		size_t v = nlen + lab;

		if (v >= n || l[v] != ' ' || n - v - 1 == 0 || n - v - 1 >= sizeof(value))
			return p_fail(c, "bad value", l);
		memcpy(value, l + v + 1, n - v - 1);
		value[n - v - 1] = '\0';
		if (strtod(value, &end), end == value || *end)
			return p_fail(c, "bad value", l);
		if (strcmp(c->fam[f].type, "counter") == 0 && strtod(value, NULL) < 0)
			return p_fail(c, "negative counter", l);
	}
	/* the same series twice */
	if (nlen + lab < 512) {
		for (int i = 0; i < c->nseen; i++)
			if (strlen(c->seen[i]) == nlen + lab && memcmp(c->seen[i], l, nlen + lab) == 0)
				return p_fail(c, "the same series twice", l);
		memcpy(c->seen[c->nseen], l, nlen + lab);
		c->seen[c->nseen++][nlen + lab] = '\0';
	}
	c->nsamples++;
}

/* Checks the whole text; returns the number of samples, -1 if invalid
 * (reported as a failure at line <at> of this file, unless <at> is 0). */
static int prom_valid(const char *text, size_t len, int at)
{
	struct pcheck *c = calloc(1, sizeof(*c));
	int n;

	if (!c)
		return -1;
	c->seen = calloc(len / 8 + 16, sizeof(*c->seen));
	c->cur = -1;
	c->at = at;
	if (!c->seen) {
		free(c);
		return -1;
	}
	if (len && text[len - 1] != '\n')
		p_fail(c, "no newline at the end", "");
	for (size_t i = 0; i < len && !c->failed;) {
		const char *e = memchr(text + i, '\n', len - i);
		size_t n_ = e ? (size_t)(e - (text + i)) : len - i;

		c->line++;
		if (n_ == 0)
			;
		else if (text[i] == '#')
			p_comment(c, text + i, n_);
		else
			p_sample(c, text + i, n_);
		i += n_ + 1;
	}
	for (int f = 0; f < c->nfam && !c->failed; f++)
		if (!c->fam[f].help || !c->fam[f].type[0])
			p_fail(c, "family without HELP or TYPE", c->fam[f].name);
	n = c->failed ? -1 : c->nsamples;
	free(c->seen);
	free(c);
	return n;
}

/* --- the table ------------------------------------------------------------------ */

static const char report_conf[] =
	"service tcp 192.0.2.1:80 {\n"
	"    scheduler wrr;\n"
	"    check http path /health expect 200-299 body \"say \\\"hi\\\"\";\n"
	"    server 10.0.0.1 weight 3;\n"
	"    server 10.0.0.2 weight 1 state drain;\n"
	"    server 10.0.0.3 weight 0;\n"
	"    server 10.0.0.4 state maint;\n"
	"}\n"
	"service udp [2001:db8::1]:53 {\n"
	"    server [2001:db8::5]:53;\n"
	"}\n"
	"service tcp 127.0.0.1:18080 {\n"
	"    proxy http;\n"
	"    outlier errors 1;\n"
	"    server 127.0.0.1:9001;\n"
	"    server 127.0.0.1:9005;\n"
	"    pool \"we\\\"ird\\\\pool\\nname\" { server 127.0.0.1:9002; }\n"
	"    pool api { scheduler lc; server 127.0.0.1:9003; server 127.0.0.1:9004; }\n"
	"    route { path_prefix /api; pool api; }\n"
	"}\n";

#define WEIRD_POOL "we\"ird\\pool\nname"

struct rp_fx {
	struct vs_table t;
	struct buf out;
	struct virtual_service *pkt, *udp, *http;
	enum log_level saved_log;
};

static void rp_close(struct rp_fx *f)
{
	buf_free(&f->out);
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

/* The table; on failure nothing is left open. */
static bool rp_open(struct rp_fx *f, const char *conf)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	table_init(&f->t, 2);
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR;
	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, __LINE__, "config: %s", err);
		rp_close(f);
		return false;
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc) {
		unit_fail(__FILE__, __LINE__, "table_apply: %s", err);
		rp_close(f);
		return false;
	}
	f->pkt = f->t.head;
	f->udp = f->pkt ? f->pkt->next : NULL;
	f->http = f->udp ? f->udp->next : NULL;
	if (!conf[0] || (f->http && f->http->npools == 2 && f->pkt->nservers == 4))
		return true;
	unit_fail(__FILE__, __LINE__, "not the table the tests expect");
	rp_close(f);
	return false;
}

/* The output so far as a NUL-terminated string (not counted in len). */
static const char *rp_text(struct rp_fx *f)
{
	buf_append(&f->out, "", 1);
	f->out.len--;
	return buf_head(&f->out);
}

static void counts_on(struct vs_stats *s, int k, uint64_t n)
{
	struct vs_counters *c = &s->pt[k];

	counter_add(&c->conns, n);
	counter_add(&c->inpkts, 2 * n);
	counter_add(&c->outpkts, 3 * n);
	counter_add(&c->inbytes, 100 * n);
	counter_add(&c->outbytes, 1000 * n);
	counter_add(&c->requests, n);
	counter_add(&c->resp[2], n);
	counter_add(&c->resp[5], 1);
	counter_add(&c->retries, 1);
	counter_add(&c->evictions, 2);
	counter_add(&c->drops, 3);
	counter_add(&c->timeouts, 4);
	stats_observe_rt(c, 1500);
}

/* Some traffic, an agent answer, an ejection. */
static void rp_busy(struct rp_fx *f)
{
	struct real_server *rs = f->http->servers[0];

	table_tick(&f->t, 2000); /* the response-time window starts */
	counts_on(&f->pkt->stats, 0, 7);
	counts_on(&f->pkt->stats, 1, 3);
	counts_on(&f->pkt->servers[0]->stats, 1, 10);
	counts_on(&f->http->stats, 0, 5);
	counts_on(&f->http->own, 1, 1);      /* the http service's own servers' share */
	counts_on(&f->http->pools[1]->stats, 0, 4);
	counts_on(&f->http->pools[1]->servers[0]->stats, 0, 4);
	table_tick(&f->t, 4000);
	table_tick(&f->t, 6000);
	health_passive(rs, false); /* outlier errors 1: ejected */
	{
		struct agent_answer a = { AGENT_UP, 50, -1, -1 };

		health_agent_done(f->pkt->servers[0], true, &a, "up 50%");
	}
	health_rs(f->pkt->servers[0])->h.check_ms = 1700000000123ull; /* a check ended */
}

static void check_has(const char *text, const char *want, int line)
{
	if (!strstr(text, want))
		unit_fail(__FILE__, line, "no \"%s\" in the output", want);
}
#define CHECK_HAS(text, want) check_has(text, want, __LINE__)

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* --- JSON --------------------------------------------------------------------------- */

TEST(report_json_empty_table)
{
	struct rp_fx f;

	REQUIRE(rp_open(&f, ""));
	report_json(&f.t, NULL, &f.out);
	CHECK_STR(rp_text(&f), "{\"services\":[]}\n");
	rp_close(&f);
}

TEST(report_json_valid_with_values)
{
	struct rp_fx f;
	const char *s;

	REQUIRE(rp_open(&f, report_conf));
	rp_busy(&f);
	report_json(&f.t, NULL, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	/* three services, ten servers, two pools and the default one */
	CHECK_EQ(count_of(s, "\"proto\":"), 3);
	CHECK_EQ(count_of(s, "\"effective_weight\":"), 10);
	CHECK_EQ(count_of(s, "\"name\":"), 3);
	{
		static const char start[] = "{\"services\":[{\"proto\":\"TCP\",\"address\":"
					    "\"192.0.2.1:80\",\"proxy\":\"none\",\"scheduler\":\"wrr\","
					    "\"persistent\":0,";

		CHECK(strncmp(s, start, sizeof(start) - 1) == 0);
	}
	CHECK_HAS(s, "\"proto\":\"UDP\",\"address\":\"[2001:db8::1]:53\"");
	CHECK_HAS(s, "\"proto\":\"TCP\",\"address\":\"127.0.0.1:18080\",\"proxy\":\"http\"");
	/* the packet service's counters: both threads summed */
	CHECK_HAS(s, "\"persistent\":0,\"active_conns\":0,\"inactive_conns\":0,\"stats\":{"
		  "\"conns\":10,\"inpkts\":20,\"outpkts\":30,\"inbytes\":1000,\"outbytes\":10000,"
		  "\"requests\":10,\"responses\":{\"1xx\":0,\"2xx\":10,\"3xx\":0,\"4xx\":0,"
		  "\"5xx\":2},\"retries\":2,\"evictions\":4,\"dropped\":6,\"timeouts\":8,"
		  "\"response_ms\":{\"mean\":1.500,");
	/* servers: configured and effective weight, state, admin, health */
	CHECK_HAS(s, "{\"address\":\"10.0.0.1:80\",\"pool\":\"default\",\"forward\":\"Route\","
		  "\"weight\":3,\"effective_weight\":2,\"state\":\"up\",\"admin\":\"ready\"");
	CHECK_HAS(s, "{\"address\":\"10.0.0.2:80\",\"pool\":\"default\",\"forward\":\"Route\","
		  "\"weight\":1,\"effective_weight\":1,\"state\":\"drain\",\"admin\":\"drain\"");
	CHECK_HAS(s, "\"address\":\"10.0.0.3:80\",\"pool\":\"default\",\"forward\":\"Route\","
		  "\"weight\":0,\"effective_weight\":0,\"state\":\"quiesced\"");
	CHECK_HAS(s, "\"state\":\"maint\",\"admin\":\"maint\"");
	CHECK_HAS(s, "\"address\":\"127.0.0.1:9001\",\"pool\":\"default\",\"forward\":\"Proxy\"");
	CHECK_HAS(s, "\"state\":\"ejected\"");
	CHECK_HAS(s, "\"ejections\":1,");
	CHECK_HAS(s, "\"agent\":\"up 50%\"");
	/* the last check's time: ms for programs, ISO for people; none yet: 0 */
	CHECK_HAS(s, ",\"last_check_ms\":1700000000123,\"checked\":\"2023-11-14T22:13:20Z\",");
	CHECK_HAS(s, ",\"last_check_ms\":0,\"checked\":\"\",");
	CHECK_HAS(s, "\"check\":\"http path /health expect 200-299 body \\\"say \\\\\\\"hi\\\\\\\"\\\"\"");
	/* the service's whole numbers, then its pools: "default" (its own
	 * servers' share) first, the odd name escaped */
	CHECK_HAS(s, "\"inactive_conns\":0,\"stats\":{\"conns\":5,\"inpkts\":10,");
	CHECK_HAS(s, "\"pools\":[{\"name\":\"default\",\"scheduler\":\"wlc\",\"stats\":{"
		  "\"conns\":1,\"inpkts\":2,");
	CHECK_HAS(s, "},{\"name\":\"we\\\"ird\\\\pool\\u000aname\",\"scheduler\":\"wlc\"");
	CHECK_HAS(s, "{\"name\":\"api\",\"scheduler\":\"lc\",\"stats\":{\"conns\":4,");
	CHECK_HAS(s, "\"address\":\"127.0.0.1:9003\",\"pool\":\"api\"");
	CHECK_HAS(s, "\"pool\":\"we\\\"ird\\\\pool\\u000aname\"");
	rp_close(&f);
}

TEST(report_json_one_service)
{
	struct rp_fx f;
	const char *s;

	REQUIRE(rp_open(&f, report_conf));
	report_json(&f.t, f.udp, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_EQ(count_of(s, "\"proto\":"), 1);
	CHECK_HAS(s, "\"address\":\"[2001:db8::5]:53\"");
	CHECK(!strstr(s, "192.0.2.1"));
	buf_reset(&f.out);
	report_json(&f.t, f.http, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_EQ(count_of(s, "\"proto\":"), 1);
	CHECK_EQ(count_of(s, "\"effective_weight\":"), 5); /* its pools' servers too */
	rp_close(&f);
}

/* Text from the servers' health (reasons, check and agent answers) with
 * quotes, backslashes and control characters stays valid JSON. */
TEST(report_json_escapes_health_text)
{
	struct rp_fx f;
	struct real_server *rs;
	const char *s;

	REQUIRE(rp_open(&f, report_conf));
	rs = f.pkt->servers[0];
	pthread_mutex_lock(&f.pkt->lock);
	snprintf(health_rs(rs)->h.reason, sizeof(health_rs(rs)->h.reason), "a \"quoted\" \\ reason\twith\x01\x1f\x7f");
	snprintf(health_rs(rs)->h.check_last, sizeof(health_rs(rs)->h.check_last), "HTTP 503 \"\r\n\"");
	pthread_mutex_unlock(&f.pkt->lock);
	health_agent_done(rs, false, NULL, "unreadable: unknown word 'x\"y\\z'");
	report_json(&f.t, NULL, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_HAS(s, "\"reason\":\"a \\\"quoted\\\" \\\\ reason\\u0009with\\u0001\\u001f\\u007f\"");
	CHECK_HAS(s, "\"last\":\"HTTP 503 \\\"\\u000d\\u000a\\\"\"");
	CHECK_HAS(s, "\"agent\":\"unreadable: unknown word 'x\\\"y\\\\z'\"");
	rp_close(&f);
}

/* An agent answering bytes that are not UTF-8 is logged as unreadable
 * (check.c: "unreadable: <why>"); the JSON must stay UTF-8 (RFC 8259). */
TEST(report_json_stays_utf8_after_an_unreadable_agent)
{
	static const char line[] = "up \xff\xfe";
	struct rp_fx f;
	struct agent_answer a;
	char why[128], msg[64];
	const char *s;

	REQUIRE(rp_open(&f, report_conf));
	CHECK(agent_parse(line, sizeof(line) - 1, &a, why) != 0);
	snprintf(msg, sizeof(msg), "unreadable: %s", why); /* as check.c does */
	health_agent_done(f.pkt->servers[0], false, NULL, msg);
	report_json(&f.t, NULL, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	rp_close(&f);
}

TEST(report_status_json_counts)
{
	struct rp_fx f;
	struct report_info info = { "0.1.0", "/etc/weir \"test\".conf", 12345, 4 };
	struct report_counts c;
	const char *s;

	REQUIRE(rp_open(&f, report_conf));
	rp_busy(&f);
	report_counts(&f.t, &c);
	CHECK_EQ(c.services, 3);
	CHECK_EQ(c.proxies, 1);
	CHECK_EQ(c.servers, 10);
	CHECK_EQ(c.up, 6);
	CHECK_EQ(c.down, 0);
	CHECK_EQ(c.drain, 1);
	CHECK_EQ(c.maint, 1);
	CHECK_EQ(c.ejected, 1);
	CHECK_EQ(c.quiesced, 1);
	CHECK_EQ(c.active, 0);
	report_status_json(&f.t, &info, &f.out);
	s = rp_text(&f);
	CHECK(json_valid(s, f.out.len, __LINE__));
	CHECK_STR(s, "{\"version\":\"0.1.0\",\"uptime_s\":12,\"config\":\"/etc/weir \\\"test\\\".conf\","
		  "\"workers\":4,\"services\":3,\"proxy_services\":1,\"servers\":10,"
		  "\"servers_by_state\":{\"up\":6,\"down\":0,\"drain\":1,\"maint\":1,\"ejected\":1,"
		  "\"quiesced\":1},\"active_conns\":0,\"inactive_conns\":0}\n");
	rp_close(&f);
}

/* --- Prometheus ----------------------------------------------------------------------- */

TEST(report_metrics_empty_table)
{
	struct rp_fx f;
	struct report_info info = { "0.1.0", NULL, 1500, 2 };
	const char *s;

	REQUIRE(rp_open(&f, ""));
	report_metrics(&f.t, &info, &f.out);
	s = rp_text(&f);
	CHECK_EQ(prom_valid(s, f.out.len, __LINE__), 4);
	CHECK_HAS(s, "# HELP weir_info weir's version.\n# TYPE weir_info gauge\n"
		  "weir_info{version=\"0.1.0\"} 1\n");
	CHECK_HAS(s, "\nweir_uptime_seconds 1.500\n");
	CHECK_HAS(s, "\nweir_workers 2\n");
	CHECK_HAS(s, "\nweir_services 0\n");
	CHECK_HAS(s, "# TYPE weir_server_state gauge\n");
	rp_close(&f);
}

TEST(report_metrics_format_and_values)
{
	struct rp_fx f;
	struct report_info info = { "0.1.0", NULL, 1000, 2 };
	const char *s;
	int n;

	REQUIRE(rp_open(&f, report_conf));
	rp_busy(&f);
	report_metrics(&f.t, &info, &f.out);
	s = rp_text(&f);
	n = prom_valid(s, f.out.len, __LINE__);
	/* 4 daemon samples; 5 services and pools x (19 families + 5 classes +
	 * 3 summary); 10 servers x (24 families + 5 + 3 + 6 states) */
	CHECK_EQ(n, 4 + 5 * (19 + 5 + 3) + 10 * (24 + 5 + 3 + 7));
	CHECK_HAS(s, "\nweir_service_connections_total{service=\"TCP 192.0.2.1:80\",pool=\"default\"} 10\n");
	CHECK_HAS(s, "\nweir_service_bytes_out_total{service=\"TCP 192.0.2.1:80\",pool=\"default\"} 10000\n");
	CHECK_HAS(s, "\nweir_service_evictions_total{service=\"TCP 192.0.2.1:80\",pool=\"default\"} 4\n");
	CHECK_HAS(s, "\nweir_service_dropped_total{service=\"TCP 192.0.2.1:80\",pool=\"default\"} 6\n");
	CHECK_HAS(s, "\nweir_service_timeouts_total{service=\"TCP 192.0.2.1:80\",pool=\"default\"} 8\n");
	CHECK_HAS(s, "\nweir_service_responses_total{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "class=\"5xx\"} 2\n");
	CHECK_HAS(s, "\nweir_service_response_seconds{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "quantile=\"0.99\"} 0.001536\n");
	CHECK_HAS(s, "\nweir_service_response_seconds_sum{service=\"TCP 192.0.2.1:80\","
		  "pool=\"default\"} 0.003\n");
	CHECK_HAS(s, "\nweir_service_response_seconds_count{service=\"TCP 192.0.2.1:80\","
		  "pool=\"default\"} 2\n");
	CHECK_HAS(s, "\nweir_service_connections_total{service=\"UDP [2001:db8::1]:53\",pool=\"default\"} 0\n");
	/* a service with pools: "default" is its own servers' share */
	CHECK_HAS(s, "\nweir_service_connections_total{service=\"TCP 127.0.0.1:18080\",pool=\"default\"} 1\n");
	CHECK_HAS(s, "\nweir_service_requests_total{service=\"TCP 127.0.0.1:18080\",pool=\"default\"} 1\n");
	/* pools are labelled with their service and their (escaped) name */
	CHECK_HAS(s, "\nweir_service_connections_total{service=\"TCP 127.0.0.1:18080\",pool=\"api\"} 4\n");
	CHECK_HAS(s, "\nweir_service_connections_total{service=\"TCP 127.0.0.1:18080\","
		  "pool=\"we\\\"ird\\\\pool\\nname\"} 0\n");
	CHECK_HAS(s, "\nweir_server_connections_total{service=\"TCP 127.0.0.1:18080\",pool=\"api\","
		  "server=\"127.0.0.1:9003\"} 4\n");
	/* servers */
	CHECK_HAS(s, "\nweir_server_up{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.1:80\"} 1\n");
	CHECK_HAS(s, "\nweir_server_up{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.2:80\"} 0\n");
	CHECK_HAS(s, "\nweir_server_weight{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.1:80\"} 3\n");
	CHECK_HAS(s, "\nweir_server_effective_weight{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.1:80\"} 2\n");
	CHECK_HAS(s, "\nweir_server_state{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.2:80\",state=\"drain\"} 1\n");
	CHECK_HAS(s, "\nweir_server_state{service=\"TCP 192.0.2.1:80\",pool=\"default\","
		  "server=\"10.0.0.2:80\",state=\"up\"} 0\n");
	CHECK_HAS(s, "\nweir_server_state{service=\"TCP 127.0.0.1:18080\",pool=\"default\","
		  "server=\"127.0.0.1:9001\",state=\"ejected\"} 1\n");
	CHECK_HAS(s, "\nweir_server_up{service=\"UDP [2001:db8::1]:53\",pool=\"default\","
		  "server=\"[2001:db8::5]:53\"} 1\n");
	CHECK_HAS(s, "\nweir_server_last_check_timestamp_seconds{service=\"TCP 192.0.2.1:80\","
		  "pool=\"default\",server=\"10.0.0.1:80\"} 1700000000\n");
	CHECK_HAS(s, "\nweir_server_last_check_timestamp_seconds{service=\"TCP 192.0.2.1:80\","
		  "pool=\"default\",server=\"10.0.0.2:80\"} 0\n");
	CHECK_EQ(count_of(s, "state=\"maint\"} 1\n"), 1);
	CHECK_EQ(count_of(s, "state=\"quiesced\"} 1\n"), 1);
	rp_close(&f);
}

/* The validator itself refuses what the format forbids. */
TEST(report_metrics_validator_refuses)
{
	static const char *const bad[] = {
		"x 1\n",                                                    /* no HELP/TYPE */
		"# HELP x h\n# TYPE x counter\nx 1\n",                      /* counter not _total */
		"# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"\\q\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\nx 2\n",
		"# HELP x h\n# TYPE x gauge\nx one\n",
		"# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",
		"# HELP x h\n# TYPE x gauge\nx 1",
		"# HELP x h\n# TYPE x summary\nx 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"\"\"} 1\n",
	};
	static const char good[] =
		"# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"q\\\"\\\\\\n\",b=\"\"} 1\n"
		"# HELP s h\n# TYPE s summary\ns{quantile=\"0.99\"} 0.5\ns_sum 1\ns_count 2\n";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (prom_valid(bad[i], strlen(bad[i]), 0) >= 0)
			unit_fail(__FILE__, __LINE__, "bad case %zu accepted", i);
	CHECK_EQ(prom_valid(good, strlen(good), __LINE__), 4);
	{
		static const char *const bad_json[] = {
			"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "\"\x01\"", "\"\\x\"", "01",
			"1.", "{\"a\":1}x", "\"\xc3\"", "\"\xff\"", "\"\xed\xa0\x80\"", "tru",
		};

		for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
			if (json_valid(bad_json[i], strlen(bad_json[i]), 0))
				unit_fail(__FILE__, __LINE__, "bad JSON %zu accepted", i);
		CHECK(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\xc3\xa9\"],\"b\":{}}",
				 strlen("{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\xc3\xa9\"],\"b\":{}}"),
				 __LINE__));
	}
}

/* Every label value is escaped, the version's too. */
TEST(report_metrics_escapes_every_label_value)
{
	struct rp_fx f;
	struct report_info info = { "1.0 \"beta\" \\2", NULL, 0, 1 };
	const char *s;

	REQUIRE(rp_open(&f, ""));
	report_metrics(&f.t, &info, &f.out);
	s = rp_text(&f);
	CHECK(prom_valid(s, f.out.len, __LINE__) >= 0);
	CHECK_HAS(s, "weir_info{version=\"1.0 \\\"beta\\\" \\\\2\"} 1\n");
	rp_close(&f);
}
