/* test_healthspec.c - the health-check words: check, agent and outlier
 * specs parsed with their defaults, the exact message of each mistake, and
 * formatting that parses back to the same spec (from weirctl's words and
 * from a config file). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/healthspec.h"
#include "ctl/exec.h"
#include "health/check_http.h"
#include "unit.h"

/* The kinds are health/'s, registered at start-up (tests/unit/main.c). */
#define KIND(name) ((unsigned)check_kind_find(name))
/* an http check's own settings */
#define H(c) ((struct http_check *)(c).own.bytes)

/* --- helpers ---------------------------------------------------------------- */

/* Splits <text> as weirctl does (blanks, "quotes" with \" and \\). */
static int split(const char *text, char *buf, size_t size, char **w)
{
	snprintf(buf, size, "%s", text);
	return ctl_split(buf, w, 64);
}

static int check_parse_text(const char *text, struct check_spec *c, char *err)
{
	char buf[2048], *w[64];
	int n = split(text, buf, sizeof(buf), w);

	err[0] = '\0';
	if (n < 0) {
		snprintf(err, SPEC_ERR_MAX, "(the test's words do not split)");
		return -1000;
	}
	return check_spec_parse(w, n, c, err);
}

static int agent_parse_text(const char *text, struct agent_spec *a, char *err)
{
	char buf[2048], *w[64];
	int n = split(text, buf, sizeof(buf), w);

	err[0] = '\0';
	if (n < 0) {
		snprintf(err, SPEC_ERR_MAX, "(the test's words do not split)");
		return -1000;
	}
	return agent_spec_parse(w, n, a, err);
}

static int outlier_parse_text(const char *text, struct outlier_spec *o, char *err)
{
	char buf[2048], *w[64];
	int n = split(text, buf, sizeof(buf), w);

	err[0] = '\0';
	if (n < 0) {
		snprintf(err, SPEC_ERR_MAX, "(the test's words do not split)");
		return -1000;
	}
	return outlier_spec_parse(w, n, o, err);
}

/* Field by field: struct copies need not copy padding. */
static bool same_check(const struct check_spec *a, const struct check_spec *b)
{
	if (a->kind != b->kind || a->rise != b->rise || a->fall != b->fall ||
	    a->jitter_pct != b->jitter_pct || a->port != b->port ||
	    a->interval_ms != b->interval_ms || a->fast_interval_ms != b->fast_interval_ms ||
	    a->timeout_ms != b->timeout_ms || H(*a)->expect.n != H(*b)->expect.n)
		return false;
	if (strcmp(H(*a)->method, H(*b)->method) != 0 || strcmp(H(*a)->path, H(*b)->path) != 0 ||
	    strcmp(H(*a)->host, H(*b)->host) != 0 || strcmp(H(*a)->body, H(*b)->body) != 0)
		return false;
	for (int i = 0; i < HTTP_CHECK_MAX_EXPECT; i++)
		if (H(*a)->expect.r[i].lo != H(*b)->expect.r[i].lo ||
		    H(*a)->expect.r[i].hi != H(*b)->expect.r[i].hi)
			return false;
	return true;
}

static bool same_agent(const struct agent_spec *a, const struct agent_spec *b)
{
	return a->port == b->port && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && strcmp(a->send, b->send) == 0;
}

static bool same_outlier(const struct outlier_spec *a, const struct outlier_spec *b)
{
	return a->errors == b->errors && a->eject_ms == b->eject_ms &&
	       a->max_eject_ms == b->max_eject_ms && a->max_pct == b->max_pct;
}

/* <c> formatted, then parsed from weirctl's words and from a config file,
 * gives <c> again; formatting that gives the same text. Returns the text
 * in <out> (1024 bytes). */
static bool check_round_trip(const struct check_spec *c, char *out, int line)
{
	struct check_spec again;
	struct weir_config cfg;
	char err[CONFIG_ERR_MAX], text[1024], conf[1400];

	check_spec_format(c, out, 1024);
	if (strlen(out) >= 1023) {
		unit_fail(__FILE__, line, "format filled its buffer: %s", out);
		return false;
	}
	if (check_parse_text(out, &again, err) != 0) {
		unit_fail(__FILE__, line, "'%s' does not parse: %s", out, err);
		return false;
	}
	if (!same_check(c, &again)) {
		unit_fail(__FILE__, line, "'%s' parses to another spec", out);
		return false;
	}
	check_spec_format(&again, text, sizeof(text));
	if (strcmp(text, out) != 0) {
		unit_fail(__FILE__, line, "formatted again: '%s', first '%s'", text, out);
		return false;
	}
	snprintf(conf, sizeof(conf), "service tcp 192.0.2.1:80 {\n    check %s;\n}\n", out);
	if (config_parse("t.conf", conf, strlen(conf), &cfg, err) != 0) {
		unit_fail(__FILE__, line, "config 'check %s;' refused: %s", out, err);
		return false;
	}
	if (!same_check(c, &cfg.services[0].check)) {
		unit_fail(__FILE__, line, "config 'check %s;' gives another spec", out);
		spec_free(&cfg);
		return false;
	}
	spec_free(&cfg);
	return true;
}

/* Parses <text>, formats it as <want> (NULL: not checked), round trip. */
static void check_text_round_trip(const char *text, const char *want, int line)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX], out[1024];

	if (check_parse_text(text, &c, err) != 0) {
		unit_fail(__FILE__, line, "'%s' refused: %s", text, err);
		return;
	}
	if (!check_round_trip(&c, out, line))
		return;
	if (want && strcmp(out, want) != 0)
		unit_fail(__FILE__, line, "'%s' formats as '%s', want '%s'", text, out, want);
}
#define CHECK_TEXT_ROUND_TRIP(text, want) check_text_round_trip(text, want, __LINE__)

static void agent_round_trip(const struct agent_spec *a, const char *want, int line)
{
	struct agent_spec again;
	struct weir_config cfg;
	char err[CONFIG_ERR_MAX], out[1024], conf[1400];

	agent_spec_format(a, out, sizeof(out));
	if (want && strcmp(out, want) != 0)
		unit_fail(__FILE__, line, "formats as '%s', want '%s'", out, want);
	if (agent_parse_text(out, &again, err) != 0) {
		unit_fail(__FILE__, line, "'%s' does not parse: %s", out, err);
		return;
	}
	if (!same_agent(a, &again))
		unit_fail(__FILE__, line, "'%s' parses to another spec", out);
	snprintf(conf, sizeof(conf), "service tcp 192.0.2.1:80 {\n    agent %s;\n}\n", out);
	if (config_parse("t.conf", conf, strlen(conf), &cfg, err) != 0) {
		unit_fail(__FILE__, line, "config 'agent %s;' refused: %s", out, err);
		return;
	}
	if (!same_agent(a, &cfg.services[0].agent))
		unit_fail(__FILE__, line, "config 'agent %s;' gives another spec", out);
	spec_free(&cfg);
}

static void outlier_round_trip(const struct outlier_spec *o, const char *want, int line)
{
	struct outlier_spec again;
	char err[SPEC_ERR_MAX], out[1024];

	outlier_spec_format(o, out, sizeof(out));
	if (want && strcmp(out, want) != 0)
		unit_fail(__FILE__, line, "formats as '%s', want '%s'", out, want);
	if (outlier_parse_text(out, &again, err) != 0) {
		unit_fail(__FILE__, line, "'%s' does not parse: %s", out, err);
		return;
	}
	if (!same_outlier(o, &again))
		unit_fail(__FILE__, line, "'%s' parses to another spec", out);
}

/* Parsing <text> fails with exactly <want> and leaves the output alone. */
static void check_bad(const char *text, const char *want, int line)
{
	struct check_spec c, untouched;
	char err[SPEC_ERR_MAX];
	int rc;

	memset(&c, 0x5a, sizeof(c));
	untouched = c;
	rc = check_parse_text(text, &c, err);
	if (rc != -EINVAL)
		unit_fail(__FILE__, line, "check '%s': rc %d, want -EINVAL", text, rc);
	else if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "check '%s': \"%s\", want \"%s\"", text, err, want);
	if (memcmp(&c, &untouched, sizeof(c)) != 0)
		unit_fail(__FILE__, line, "check '%s': output written on error", text);
}
#define CHECK_BAD(text, want) check_bad(text, want, __LINE__)

static void agent_bad(const char *text, const char *want, int line)
{
	struct agent_spec a, untouched;
	char err[SPEC_ERR_MAX];
	int rc;

	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	rc = agent_parse_text(text, &a, err);
	if (rc != -EINVAL)
		unit_fail(__FILE__, line, "agent '%s': rc %d, want -EINVAL", text, rc);
	else if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "agent '%s': \"%s\", want \"%s\"", text, err, want);
	if (memcmp(&a, &untouched, sizeof(a)) != 0)
		unit_fail(__FILE__, line, "agent '%s': output written on error", text);
}
#define AGENT_BAD(text, want) agent_bad(text, want, __LINE__)

static void outlier_bad(const char *text, const char *want, int line)
{
	struct outlier_spec o, untouched;
	char err[SPEC_ERR_MAX];
	int rc;

	memset(&o, 0x5a, sizeof(o));
	untouched = o;
	rc = outlier_parse_text(text, &o, err);
	if (rc != -EINVAL)
		unit_fail(__FILE__, line, "outlier '%s': rc %d, want -EINVAL", text, rc);
	else if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "outlier '%s': \"%s\", want \"%s\"", text, err, want);
	if (memcmp(&o, &untouched, sizeof(o)) != 0)
		unit_fail(__FILE__, line, "outlier '%s': output written on error", text);
}
#define OUTLIER_BAD(text, want) outlier_bad(text, want, __LINE__)

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + rnd(hi - lo + 1);
}

/* A duration in [lo, hi] ms, often a whole number of seconds. */
static uint32_t rnd_duration(uint32_t lo, uint32_t hi)
{
	uint32_t v = rnd_range(lo, hi);

	if (rnd(2) && v >= 1000 && (v / 1000) * 1000 >= lo)
		v = v / 1000 * 1000;
	return v;
}

/* Printable text of up to <max> bytes: blanks, quotes, backslashes, the
 * config's special characters and bytes above 0x7f included. */
static void rnd_text(char *out, size_t max, bool no_blanks)
{
	static const char special[] = " \"\\;{}#'\t";
	size_t n = rnd((uint32_t)max + 1);

	for (size_t i = 0; i < n; i++) {
		uint32_t k = rnd(10);
		char c;

		if (k < 3)
			c = special[rnd(sizeof(special) - 2)]; /* no tab: a control char */
		else if (k < 4)
			c = (char)rnd_range(0x80, 0xff);
		else
			c = (char)rnd_range(0x21, 0x7e);
		if (no_blanks && c == ' ')
			c = '_';
		out[i] = c;
	}
	out[n] = '\0';
}

/* --- check: defaults and parsing ----------------------------------------------- */

TEST(healthspec_check_tcp_defaults)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];

	REQUIRE(check_parse_text("tcp", &c, err) == 0);
	CHECK_EQ(c.kind, KIND("tcp"));
	CHECK_EQ(c.rise, 2);
	CHECK_EQ(c.fall, 3);
	CHECK_EQ(c.jitter_pct, 10);
	CHECK_EQ(c.port, 0);
	CHECK_EQ(c.interval_ms, 2000);
	CHECK_EQ(c.fast_interval_ms, 500);
	CHECK_EQ(c.timeout_ms, 1000);
	/* tcp has no settings of its own */
	for (size_t i = 0; i < sizeof(c.own.bytes); i++)
		if (c.own.bytes[i])
			unit_fail(__FILE__, __LINE__, "tcp's own byte %zu is %u", i, c.own.bytes[i]);
	REQUIRE(check_parse_text("http", &c, err) == 0);
	CHECK_STR(H(c)->method, "GET");
	CHECK_STR(H(c)->path, "/");
	CHECK_STR(H(c)->host, "");
	CHECK_STR(H(c)->body, "");
	CHECK_EQ(H(c)->expect.n, 0);
}

TEST(healthspec_check_off_and_none)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];

	REQUIRE(check_parse_text("off", &c, err) == 0);
	CHECK_EQ(c.kind, CHECK_NONE);
	CHECK_EQ(c.interval_ms, 2000);
	REQUIRE(check_parse_text("none", &c, err) == 0);
	CHECK_EQ(c.kind, CHECK_NONE);
}

TEST(healthspec_check_http_every_key)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];

	REQUIRE(check_parse_text("http path /health expect 200-299,404 interval 2s rise 2 "
				 "fall 3 jitter 10% body \"ok\"", &c, err) == 0);
	CHECK_EQ(c.kind, KIND("http"));
	CHECK_STR(H(c)->path, "/health");
	CHECK_EQ(H(c)->expect.n, 2);
	CHECK_EQ(H(c)->expect.r[0].lo, 200);
	CHECK_EQ(H(c)->expect.r[0].hi, 299);
	CHECK_EQ(H(c)->expect.r[1].lo, 404);
	CHECK_EQ(H(c)->expect.r[1].hi, 404);
	CHECK_EQ(c.interval_ms, 2000);
	CHECK_EQ(c.rise, 2);
	CHECK_EQ(c.fall, 3);
	CHECK_EQ(c.jitter_pct, 10);
	CHECK_STR(H(c)->body, "ok");

	REQUIRE(check_parse_text("http port 8081 interval 5 fast_interval 250ms timeout 1500ms "
				 "rise 1 fall 100 jitter 0% method HEAD path /a/b?c=d "
				 "host \"api.example.com:8443\" expect 100-599 body \"a b\"",
				 &c, err) == 0);
	CHECK_EQ(c.port, 8081);
	CHECK_EQ(c.interval_ms, 5000); /* a bare number is seconds */
	CHECK_EQ(c.fast_interval_ms, 250);
	CHECK_EQ(c.timeout_ms, 1500);
	CHECK_EQ(c.rise, 1);
	CHECK_EQ(c.fall, 100);
	CHECK_EQ(c.jitter_pct, 0);
	CHECK_STR(H(c)->method, "HEAD");
	CHECK_STR(H(c)->path, "/a/b?c=d");
	CHECK_STR(H(c)->host, "api.example.com:8443");
	CHECK_EQ(H(c)->expect.n, 1);
	CHECK_EQ(H(c)->expect.r[0].lo, 100);
	CHECK_EQ(H(c)->expect.r[0].hi, 599);
	CHECK_STR(H(c)->body, "a b");
}

TEST(healthspec_check_limits_accepted)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];

	REQUIRE(check_parse_text("tcp port 65535 interval 1h timeout 1h rise 100 fall 1 "
				 "jitter 50% fast_interval 10ms", &c, err) == 0);
	CHECK_EQ(c.port, 65535);
	CHECK_EQ(c.interval_ms, 3600000);
	CHECK_EQ(c.timeout_ms, 3600000);
	CHECK_EQ(c.fast_interval_ms, 10);
	CHECK_EQ(c.jitter_pct, 50);
	REQUIRE(check_parse_text("tcp interval 10ms", &c, err) == 0);
	CHECK_EQ(c.interval_ms, 10);
	/* eight ranges is the most */
	REQUIRE(check_parse_text("http expect 200,201,202,203,204,205,206,300-399", &c, err) == 0);
	CHECK_EQ(H(c)->expect.n, 8);
	CHECK_EQ(H(c)->expect.r[7].lo, 300);
	CHECK_EQ(H(c)->expect.r[7].hi, 399);
}

/* The timeout defaults to min(1s, interval); said, it is kept. */
TEST(healthspec_check_timeout_default_follows_interval)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];

	REQUIRE(check_parse_text("tcp interval 500ms", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 500);
	REQUIRE(check_parse_text("tcp interval 1s", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 1000);
	REQUIRE(check_parse_text("tcp interval 30s", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 1000);
	REQUIRE(check_parse_text("http interval 20ms", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 20);
	REQUIRE(check_parse_text("tcp interval 500ms timeout 200ms", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 200);
	REQUIRE(check_parse_text("tcp timeout 500ms interval 500ms", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 500);
	REQUIRE(check_parse_text("tcp interval 10s timeout 5s", &c, err) == 0);
	CHECK_EQ(c.timeout_ms, 5000);
}

TEST(healthspec_check_errors)
{
	static const char tcp_keys[] = "port, interval, fast_interval, timeout, rise, fall, jitter";

	CHECK_BAD("", "check: say off, tcp, http, udp or dns");
	CHECK_BAD("smtp", "check: unknown kind 'smtp' (off, tcp, http, udp or dns)");
	CHECK_BAD("TCP", "check: unknown kind 'TCP' (off, tcp, http, udp or dns)");
	CHECK_BAD("off interval 1s", "check off takes no options");
	CHECK_BAD("none rise 2", "check off takes no options");
	/* keys */
	{
		char want[SPEC_ERR_MAX];

		snprintf(want, sizeof(want), "check: unknown option 'bogus' (%s)", tcp_keys);
		CHECK_BAD("tcp bogus 1", want);
		snprintf(want, sizeof(want), "check: unknown option 'path' (%s)", tcp_keys);
		CHECK_BAD("tcp path /health", want); /* http only */
		snprintf(want, sizeof(want), "check: unknown option 'Rise' (%s)", tcp_keys);
		CHECK_BAD("tcp Rise 2", want);
		snprintf(want, sizeof(want), "check: unknown option 'bogus' (%s, method, path, host, "
			 "expect, body)", tcp_keys);
		CHECK_BAD("http bogus 1", want);
	}
	CHECK_BAD("tcp rise 2 rise 3", "check: 'rise' given twice");
	CHECK_BAD("http path /a port 1 path /b", "check: 'path' given twice");
	CHECK_BAD("tcp rise", "check: 'rise' needs a value");
	CHECK_BAD("http rise 2 body", "check: 'body' needs a value");
	/* numbers */
	CHECK_BAD("tcp rise 0", "rise: '0' is not a number from 1 to 100");
	CHECK_BAD("tcp rise 101", "rise: '101' is not a number from 1 to 100");
	CHECK_BAD("tcp fall -1", "fall: '-1' is not a number from 1 to 100");
	CHECK_BAD("tcp fall 2x", "fall: '2x' is not a number from 1 to 100");
	CHECK_BAD("tcp fall \"\"", "fall: '' is not a number from 1 to 100");
	CHECK_BAD("tcp port 0", "port: '0' is not a number from 1 to 65535");
	CHECK_BAD("tcp port 65536", "port: '65536' is not a number from 1 to 65535");
	CHECK_BAD("tcp port 99999999999999999999",
		  "port: '99999999999999999999' is not a number from 1 to 65535");
	/* durations */
	CHECK_BAD("tcp interval 5ms", "interval: '5ms' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp interval 2h", "interval: '2h' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp interval 2d", "interval: '2d' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp interval s", "interval: 's' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp interval 1.5s", "interval: '1.5s' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp timeout 0", "timeout: '0' is not a duration from 10ms to 3600s");
	CHECK_BAD("tcp fast_interval 99999999999ms",
		  "fast_interval: '99999999999ms' is not a duration from 10ms to 3600s");
	/* percentages */
	CHECK_BAD("tcp jitter 10", "jitter: '10' is not a percentage such as 10%");
	CHECK_BAD("tcp jitter 51%", "jitter: '51%' is not a percentage from 0% to 50%");
	CHECK_BAD("tcp jitter %", "jitter: '%' is not a percentage from 0% to 50%");
	CHECK_BAD("tcp jitter x%", "jitter: 'x%' is not a percentage from 0% to 50%");
	CHECK_BAD("tcp jitter 10%%", "jitter: '10%%' is not a percentage from 0% to 50%");
	CHECK_BAD("tcp jitter 12345678901234567%",
		  "jitter: '12345678901234567%' is not a percentage such as 10%");
	/* expect */
	CHECK_BAD("http expect 99", "expect: '99' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 600", "expect: '600' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 200-600",
		  "expect: '200-600' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 300-200",
		  "expect: '300-200' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 200-", "expect: '200-' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 200,,300",
		  "expect: '200,,300' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 2xx", "expect: '2xx' is not a status list such as 200-399,404");
	CHECK_BAD("http expect \"\"", "expect: '' is not a status list such as 200-399,404");
	CHECK_BAD("http expect 200,201,202,203,204,205,206,207,208",
		  "expect: at most 8 status ranges");
	/* whole-spec rules */
	CHECK_BAD("tcp interval 500ms timeout 1s",
		  "check: timeout (1000ms) is longer than the interval (500ms)");
	CHECK_BAD("tcp timeout 3s", "check: timeout (3000ms) is longer than the interval (2000ms)");
	CHECK_BAD("http path health", "check: path must start with / and have no blanks");
	CHECK_BAD("http path \"/a b\"", "check: path must start with / and have no blanks");
	CHECK_BAD("http path \"\"", "check: path must start with / and have no blanks");
	CHECK_BAD("http method \"GE T\"", "check: method must be one word");
	CHECK_BAD("http method \"\"", "check: method must be one word");
	/* strings */
	CHECK_BAD("http method ABCDEFGHIJKLMNOP", "method: longer than 15 characters");
	CHECK_BAD("http body 0123456789012345678901234567890123456789012345678901234567890123",
		  "body: longer than 63 characters");
	{
		char text[64];

		snprintf(text, sizeof(text), "http host \"a%cb\"", 0x01);
		CHECK_BAD(text, "host: control characters are not allowed");
		snprintf(text, sizeof(text), "http body \"a%cb\"", 0x7f);
		CHECK_BAD(text, "body: control characters are not allowed");
		snprintf(text, sizeof(text), "http body \"a\tb\"");
		CHECK_BAD(text, "body: control characters are not allowed");
	}
}

/* --- formatting ----------------------------------------------------------------- */

TEST(healthspec_check_format_writes_what_differs)
{
	CHECK_TEXT_ROUND_TRIP("tcp", "tcp");
	CHECK_TEXT_ROUND_TRIP("http", "http");
	CHECK_TEXT_ROUND_TRIP("off", "off");
	CHECK_TEXT_ROUND_TRIP("none", "off");
	CHECK_TEXT_ROUND_TRIP("http path /health expect 200-299,404 interval 2s rise 2 fall 3 "
			      "jitter 10% body \"ok\"", "http path /health expect 200-299,404 body ok");
	CHECK_TEXT_ROUND_TRIP("tcp port 8081 interval 500ms",
			      "tcp port 8081 interval 500ms timeout 500ms");
	CHECK_TEXT_ROUND_TRIP("tcp interval 1500ms fast_interval 100ms timeout 1200ms rise 1 "
			      "fall 10 jitter 0%",
			      "tcp interval 1500ms fast_interval 100ms timeout 1200ms rise 1 fall 10 "
			      "jitter 0%");
	CHECK_TEXT_ROUND_TRIP("tcp interval 3", "tcp interval 3s");
	CHECK_TEXT_ROUND_TRIP("tcp interval 1h timeout 1h", "tcp interval 3600s timeout 3600s");
	CHECK_TEXT_ROUND_TRIP("tcp interval 1m timeout 60000ms", "tcp interval 60s timeout 60s");
	CHECK_TEXT_ROUND_TRIP("http expect 200-200", "http expect 200");
	CHECK_TEXT_ROUND_TRIP("http expect 200-399", "http expect 200-399");
	CHECK_TEXT_ROUND_TRIP("http expect 100,200-201,300-302,404,500-501,502,503,599",
			      "http expect 100,200-201,300-302,404,500-501,502,503,599");
	CHECK_TEXT_ROUND_TRIP("http method HEAD host example.com path /a?b=c",
			      "http method HEAD path /a?b=c host example.com");
}

/* Strings that need quotes: blanks, double quotes, backslashes and the
 * characters the config file gives a meaning to. */
TEST(healthspec_check_format_quotes_strings)
{
	CHECK_TEXT_ROUND_TRIP("http host \"my host\"", "http host \"my host\"");
	CHECK_TEXT_ROUND_TRIP("http body \"say \\\"hi\\\"\"", "http body \"say \\\"hi\\\"\"");
	CHECK_TEXT_ROUND_TRIP("http body \"back\\\\slash\"", "http body \"back\\\\slash\"");
	CHECK_TEXT_ROUND_TRIP("http body \"\\\\\"", "http body \"\\\\\"");
	CHECK_TEXT_ROUND_TRIP("http body \"\\\"\"", "http body \"\\\"\"");
	CHECK_TEXT_ROUND_TRIP("http body \"a;b\"", "http body \"a;b\"");
	CHECK_TEXT_ROUND_TRIP("http body \"{x}\"", "http body \"{x}\"");
	CHECK_TEXT_ROUND_TRIP("http body \"#1\"", "http body \"#1\"");
	CHECK_TEXT_ROUND_TRIP("http body \"it's\"", "http body \"it's\"");
	CHECK_TEXT_ROUND_TRIP("http body \" lead\"", "http body \" lead\"");
	CHECK_TEXT_ROUND_TRIP("http body \"trail \"", "http body \"trail \"");
	CHECK_TEXT_ROUND_TRIP("http body \"\\\\n\"", "http body \"\\\\n\"");
	CHECK_TEXT_ROUND_TRIP("http path /\\\"q\\\\ method M\\\"", NULL);
	CHECK_TEXT_ROUND_TRIP("http body \"\xc3\xa9t\xc3\xa9\"", "http body \xc3\xa9t\xc3\xa9");
	CHECK_TEXT_ROUND_TRIP("http body \"\\\" \\\\ ; { } # ' end\"",
			      "http body \"\\\" \\\\ ; { } # ' end\"");
}

/* Every field at its longest, every string character needing escapes:
 * nothing is cut. */
TEST(healthspec_check_format_longest)
{
	struct check_spec c;
	char out[1024];

	check_spec_defaults(&c, KIND("http"));
	c.port = 65535;
	c.interval_ms = 3599999;
	c.fast_interval_ms = 3599999;
	c.timeout_ms = 3599999;
	c.rise = 100;
	c.fall = 100;
	c.jitter_pct = 50;
	memset(H(c)->method, '"', sizeof(H(c)->method) - 1);
	H(c)->method[sizeof(H(c)->method) - 1] = '\0';
	H(c)->path[0] = '/';
	memset(H(c)->path + 1, '\\', sizeof(H(c)->path) - 2);
	H(c)->path[sizeof(H(c)->path) - 1] = '\0';
	memset(H(c)->host, '"', sizeof(H(c)->host) - 1);
	H(c)->host[sizeof(H(c)->host) - 1] = '\0';
	memset(H(c)->body, '\\', sizeof(H(c)->body) - 1);
	H(c)->body[sizeof(H(c)->body) - 1] = '\0';
	H(c)->expect.n = HTTP_CHECK_MAX_EXPECT;
	for (int i = 0; i < HTTP_CHECK_MAX_EXPECT; i++) {
		H(c)->expect.r[i].lo = 100;
		H(c)->expect.r[i].hi = 599;
	}
	CHECK(check_round_trip(&c, out, __LINE__));
}

/* Many specs, each field drawn at random within its range. */
TEST(healthspec_check_format_round_trips_random_specs)
{
	int bad = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 3000 && bad < 5; i++) {
		struct check_spec c;
		char out[1024];
		uint32_t kind = rnd(5);

		check_spec_defaults(&c, kind == 0 ? CHECK_NONE : kind < 3 ? KIND("tcp") : KIND("http"));
		if (kind != 0) {
			if (rnd(2))
				c.port = (uint16_t)rnd_range(1, 65535);
			if (rnd(2))
				c.interval_ms = rnd_duration(10, 3600000);
			if (rnd(2))
				c.fast_interval_ms = rnd_duration(10, 3600000);
			c.timeout_ms = rnd(2) ? rnd_duration(10, c.interval_ms) :
				       MIN(1000u, c.interval_ms);
			if (rnd(2))
				c.rise = (uint8_t)rnd_range(1, 100);
			if (rnd(2))
				c.fall = (uint8_t)rnd_range(1, 100);
			if (rnd(2))
				c.jitter_pct = (uint8_t)rnd_range(0, 50);
		}
		if (kind >= 3) {
			if (rnd(2)) {
				rnd_text(H(c)->method, sizeof(H(c)->method) - 1, true);
				if (!H(c)->method[0] || strchr(H(c)->method, ' '))
					snprintf(H(c)->method, sizeof(H(c)->method), "PUT");
			}
			if (rnd(2)) {
				H(c)->path[0] = '/';
				rnd_text(H(c)->path + 1, sizeof(H(c)->path) - 2, true);
			}
			if (rnd(2))
				rnd_text(H(c)->host, sizeof(H(c)->host) - 1, false);
			if (rnd(2))
				rnd_text(H(c)->body, sizeof(H(c)->body) - 1, false);
			if (rnd(2)) {
				H(c)->expect.n = (uint8_t)rnd_range(1, HTTP_CHECK_MAX_EXPECT);
				for (int k = 0; k < H(c)->expect.n; k++) {
					H(c)->expect.r[k].lo = (uint16_t)rnd_range(100, 599);
					H(c)->expect.r[k].hi = (uint16_t)rnd_range(H(c)->expect.r[k].lo, 599);
				}
			}
		}
		if (!check_round_trip(&c, out, __LINE__))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* --- agent ------------------------------------------------------------------------ */

TEST(healthspec_agent_parse)
{
	struct agent_spec a;
	char err[SPEC_ERR_MAX];

	REQUIRE(agent_parse_text("off", &a, err) == 0);
	CHECK_EQ(a.port, 0);
	CHECK_EQ(a.interval_ms, 2000);
	CHECK_EQ(a.timeout_ms, 1000);
	REQUIRE(agent_parse_text("port 9999", &a, err) == 0);
	CHECK_EQ(a.port, 9999);
	CHECK_EQ(a.interval_ms, 2000);
	CHECK_EQ(a.timeout_ms, 1000);
	CHECK_STR(a.send, "");
	REQUIRE(agent_parse_text("port 1 interval 500ms", &a, err) == 0);
	CHECK_EQ(a.timeout_ms, 500); /* min(1s, interval) */
	REQUIRE(agent_parse_text("interval 5s timeout 2s port 65535 send \"PING\\\\n\"", &a,
				 err) == 0);
	CHECK_EQ(a.port, 65535);
	CHECK_EQ(a.interval_ms, 5000);
	CHECK_EQ(a.timeout_ms, 2000);
	CHECK_STR(a.send, "PING\n"); /* \n is a newline, from weirctl as from a file */
}

TEST(healthspec_agent_errors)
{
	AGENT_BAD("", "agent: say 'port N' (or 'off')");
	AGENT_BAD("interval 1s", "agent: say 'port N' (or 'off')");
	AGENT_BAD("port 0", "port: '0' is not a number from 1 to 65535");
	AGENT_BAD("port 65536", "port: '65536' is not a number from 1 to 65535");
	AGENT_BAD("off port 1", "agent: unknown option 'off' (port, interval, timeout, send)");
	AGENT_BAD("port 1 rise 2", "agent: unknown option 'rise' (port, interval, timeout, send)");
	AGENT_BAD("port 1 port 2", "agent: 'port' given twice");
	AGENT_BAD("port", "agent: 'port' needs a value");
	AGENT_BAD("port 1 interval 500ms timeout 1s",
		  "agent: timeout (1000ms) is longer than the interval (500ms)");
	AGENT_BAD("port 1 interval 1ms", "interval: '1ms' is not a duration from 10ms to 3600s");
	AGENT_BAD("port 1 send 0123456789012345678901234567890123456789012345678901234567890123",
		  "send: longer than 63 characters");
}

TEST(healthspec_agent_format_round_trips)
{
	struct agent_spec a;
	char err[SPEC_ERR_MAX];
	int bad = 0;

	agent_spec_defaults(&a);
	agent_round_trip(&a, "off", __LINE__);
	REQUIRE(agent_parse_text("port 9999", &a, err) == 0);
	agent_round_trip(&a, "port 9999", __LINE__);
	REQUIRE(agent_parse_text("port 9999 interval 500ms", &a, err) == 0);
	agent_round_trip(&a, "port 9999 interval 500ms timeout 500ms", __LINE__);
	REQUIRE(agent_parse_text("port 9999 interval 5s timeout 2s send \"a \\\"b\\\" c\\\\n\"",
				 &a, err) == 0);
	agent_round_trip(&a, "port 9999 interval 5s timeout 2s send \"a \\\"b\\\" c\\\\n\"",
			 __LINE__);
	rng_state = 0x243f6a8885a308d3ULL;
	for (int i = 0; i < 1000 && bad < 5; i++) {
		char out[1024];
		struct agent_spec again;

		agent_spec_defaults(&a);
		a.port = (uint16_t)rnd_range(1, 65535);
		if (rnd(2))
			a.interval_ms = rnd_duration(10, 3600000);
		a.timeout_ms = rnd(2) ? rnd_duration(10, a.interval_ms) : MIN(1000u, a.interval_ms);
		if (rnd(2))
			rnd_text(a.send, sizeof(a.send) - 1, false);
		agent_spec_format(&a, out, sizeof(out));
		if (agent_parse_text(out, &again, err) != 0 || !same_agent(&a, &again)) {
			unit_fail(__FILE__, __LINE__, "'%s' does not round trip (%s)", out, err);
			bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

/* docs/config.md: "agent ... [send TEXT]: ... sending TEXT first, `\n` =
 * newline", and a config file's quoted strings take \n escapes: the
 * documented way to send a line must be accepted. */
TEST(healthspec_agent_send_newline_in_config)
{
	static const char text[] =
		"service tcp 192.0.2.1:80 {\n"
		"    agent port 9999 send \"HELLO\\n\";\n"
		"}\n";
	struct weir_config cfg;
	char err[CONFIG_ERR_MAX] = "";

	if (config_parse("t.conf", text, strlen(text), &cfg, err) != 0) {
		unit_fail(__FILE__, __LINE__, "refused: %s", err);
		return;
	}
	CHECK_STR(cfg.services[0].agent.send, "HELLO\n");
	spec_free(&cfg);
}

/* --- outlier ---------------------------------------------------------------------- */

TEST(healthspec_outlier_parse)
{
	struct outlier_spec o;
	char err[SPEC_ERR_MAX];

	REQUIRE(outlier_parse_text("off", &o, err) == 0);
	CHECK_EQ(o.errors, 0);
	CHECK_EQ(o.eject_ms, 30000);
	CHECK_EQ(o.max_eject_ms, 300000);
	CHECK_EQ(o.max_pct, 50);
	REQUIRE(outlier_parse_text("errors 5", &o, err) == 0);
	CHECK_EQ(o.errors, 5);
	CHECK_EQ(o.eject_ms, 30000);
	CHECK_EQ(o.max_eject_ms, 300000);
	CHECK_EQ(o.max_pct, 50);
	REQUIRE(outlier_parse_text("max_ejected 100% max_eject 1h eject 100ms errors 1000", &o,
				   err) == 0);
	CHECK_EQ(o.errors, 1000);
	CHECK_EQ(o.eject_ms, 100);
	CHECK_EQ(o.max_eject_ms, 3600000);
	CHECK_EQ(o.max_pct, 100);
	REQUIRE(outlier_parse_text("errors 1 eject 5m max_eject 5m", &o, err) == 0);
	CHECK_EQ(o.eject_ms, 300000);
	CHECK_EQ(o.max_eject_ms, 300000);
}

TEST(healthspec_outlier_errors)
{
	OUTLIER_BAD("", "outlier: say 'errors N' (or 'off')");
	OUTLIER_BAD("eject 1s", "outlier: say 'errors N' (or 'off')");
	OUTLIER_BAD("errors 0", "errors: '0' is not a number from 1 to 1000");
	OUTLIER_BAD("errors 1001", "errors: '1001' is not a number from 1 to 1000");
	OUTLIER_BAD("errors 5 errors 6", "outlier: 'errors' given twice");
	OUTLIER_BAD("errors", "outlier: 'errors' needs a value");
	OUTLIER_BAD("off errors 5",
		    "outlier: unknown option 'off' (errors, eject, max_eject, max_ejected)");
	OUTLIER_BAD("errors 5 eject 10m", "outlier: max_eject is shorter than eject");
	OUTLIER_BAD("errors 5 eject 2s max_eject 1s", "outlier: max_eject is shorter than eject");
	OUTLIER_BAD("errors 5 eject 50ms", "eject: '50ms' is not a duration from 100ms to 86400s");
	OUTLIER_BAD("errors 5 max_eject 25h",
		    "max_eject: '25h' is not a duration from 100ms to 86400s");
	OUTLIER_BAD("errors 5 max_ejected 0%",
		    "max_ejected: '0%' is not a percentage from 1% to 100%");
	OUTLIER_BAD("errors 5 max_ejected 101%",
		    "max_ejected: '101%' is not a percentage from 1% to 100%");
	OUTLIER_BAD("errors 5 max_ejected 50",
		    "max_ejected: '50' is not a percentage such as 10%");
}

TEST(healthspec_outlier_format_round_trips)
{
	struct outlier_spec o;
	char err[SPEC_ERR_MAX];
	int bad = 0;

	outlier_spec_defaults(&o);
	outlier_round_trip(&o, "off", __LINE__);
	REQUIRE(outlier_parse_text("errors 5", &o, err) == 0);
	outlier_round_trip(&o, "errors 5", __LINE__);
	REQUIRE(outlier_parse_text("errors 5 eject 1500ms max_eject 1h max_ejected 25%", &o,
				   err) == 0);
	outlier_round_trip(&o, "errors 5 eject 1500ms max_eject 3600s max_ejected 25%", __LINE__);
	rng_state = 0x13198a2e03707344ULL;
	for (int i = 0; i < 1000 && bad < 5; i++) {
		char out[256];
		struct outlier_spec again;

		outlier_spec_defaults(&o);
		o.errors = rnd_range(1, 1000);
		if (rnd(2))
			o.eject_ms = rnd_duration(100, 300000);
		if (rnd(2))
			o.max_eject_ms = rnd_duration(o.eject_ms, 86400000);
		if (rnd(2))
			o.max_pct = (uint8_t)rnd_range(1, 100);
		outlier_spec_format(&o, out, sizeof(out));
		if (outlier_parse_text(out, &again, err) != 0 || !same_outlier(&o, &again)) {
			unit_fail(__FILE__, __LINE__, "'%s' does not round trip (%s)", out, err);
			bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

/* --- names ------------------------------------------------------------------------- */

TEST(healthspec_admin_state_and_kind_names)
{
	enum admin_state s = ADMIN_UNSET;

	CHECK_EQ(admin_state_parse("ready", &s), 0);
	CHECK_EQ(s, ADMIN_READY);
	CHECK_EQ(admin_state_parse("drain", &s), 0);
	CHECK_EQ(s, ADMIN_DRAIN);
	CHECK_EQ(admin_state_parse("maint", &s), 0);
	CHECK_EQ(s, ADMIN_MAINT);
	s = ADMIN_UNSET;
	CHECK_EQ(admin_state_parse("maintenance", &s), 0);
	CHECK_EQ(s, ADMIN_MAINT);
	s = ADMIN_DRAIN;
	CHECK_EQ(admin_state_parse("", &s), -EINVAL);
	CHECK_EQ(admin_state_parse("Ready", &s), -EINVAL);
	CHECK_EQ(admin_state_parse("up", &s), -EINVAL);
	CHECK_EQ(admin_state_parse("drained", &s), -EINVAL);
	CHECK_EQ(s, ADMIN_DRAIN); /* untouched on error */
	CHECK_STR(admin_state_name(ADMIN_UNSET), "");
	CHECK_STR(admin_state_name(ADMIN_READY), "ready");
	CHECK_STR(admin_state_name(ADMIN_DRAIN), "drain");
	CHECK_STR(admin_state_name(ADMIN_MAINT), "maint");
	CHECK_STR(admin_state_name((enum admin_state)4), "?");
	CHECK_STR(check_kind_name(KIND("tcp")), "tcp");
	CHECK_STR(check_kind_name(KIND("http")), "http");
	CHECK_STR(check_kind_name(CHECK_NONE), "off");
	CHECK_STR(check_kind_name(CHECK_INHERIT), "inherit");
	/* every name parses back to its state */
	for (int i = ADMIN_READY; i <= ADMIN_MAINT; i++) {
		CHECK_EQ(admin_state_parse(admin_state_name((enum admin_state)i), &s), 0);
		CHECK_EQ(s, i);
	}
}
