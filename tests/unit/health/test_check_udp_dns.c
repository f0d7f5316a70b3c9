/* test_check_udp_dns.c - the udp and dns check kinds: their words (every
 * key parsed, printed back and read again from weirctl's words and from a
 * config file; each mistake's message), and real checks run by the check
 * threads (check.c) against a responder on 127.0.0.1 that this test
 * drives: what passes, what fails and the reason the listing shows. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/healthspec.h"
#include "core/log.h"
#include "core/table.h"
#include "ctl/exec.h"
#include "health/check.h"
#include "health/check_ops.h"
#include "health/state.h"
#include "proto/dns.h"
#include "unit.h"

/* --- the words ------------------------------------------------------------------ */

static int parse_words(const char *text, struct check_spec *c, char *err)
{
	char buf[1024], *w[64];
	int n;

	snprintf(buf, sizeof(buf), "%s", text);
	if ((n = ctl_split(buf, w, 64)) < 0) {
		snprintf(err, SPEC_ERR_MAX, "(the test's words do not split)");
		return -1000;
	}
	return check_spec_parse(w, n, c, err);
}

/* <text> parses, prints as <want>, and <want> reads back to the same spec,
 * as weirctl's words and in a config file. */
static void round_trip(const char *text, const char *want, int line)
{
	struct check_spec a, b;
	char err[SPEC_ERR_MAX], out[1024], conf[1200], cerr[CONFIG_ERR_MAX];
	struct weir_config c;

	if (parse_words(text, &a, err) != 0) {
		unit_fail(__FILE__, line, "'%s' refused: %s", text, err);
		return;
	}
	check_spec_format(&a, out, sizeof(out));
	if (strcmp(out, want) != 0)
		unit_fail(__FILE__, line, "'%s' printed as '%s', want '%s'", text, out, want);
	if (parse_words(out, &b, err) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
		unit_fail(__FILE__, line, "'%s' does not read back (%s)", out, err);
	snprintf(conf, sizeof(conf), "service tcp 192.0.2.1:80 {\n  check %s;\n  server 10.0.0.1;\n}\n",
		 out);
	if (config_parse("t.conf", conf, strlen(conf), &c, cerr) != 0) {
		unit_fail(__FILE__, line, "config '%s' refused: %s", out, cerr);
		return;
	}
	if (memcmp(&c.services[0].check, &a, sizeof(a)) != 0)
		unit_fail(__FILE__, line, "config 'check %s' reads another spec", out);
	spec_free(&c);
}
#define ROUND_TRIP(text, want) round_trip(text, want, __LINE__)

static void bad_words(const char *text, const char *want, int line)
{
	struct check_spec c;
	char err[SPEC_ERR_MAX];
	int rc = parse_words(text, &c, err);

	if (rc != -EINVAL)
		unit_fail(__FILE__, line, "'%s': %d, want -EINVAL", text, rc);
	else if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "'%s': \"%s\", want \"%s\"", text, err, want);
}
#define BAD(text, want) bad_words(text, want, __LINE__)

TEST(check_udp_words)
{
	ROUND_TRIP("udp send ping", "udp send ping");
	ROUND_TRIP("udp send ping\\npong", "udp send \"ping\\\\npong\"");
	ROUND_TRIP("udp send \"hello there\" expect \"general kenobi\"",
		   "udp send \"hello there\" expect \"general kenobi\"");
	ROUND_TRIP("udp send_hex 0x0A:1b:FF expect pong port 5353 interval 3s fast_interval 200ms "
		   "timeout 500ms rise 3 fall 4 jitter 20%",
		   "udp port 5353 interval 3s fast_interval 200ms timeout 500ms rise 3 fall 4 "
		   "jitter 20% send_hex 0a1bff expect pong");
	ROUND_TRIP("udp send ping expect_regex ^po+ng$", "udp send ping expect_regex ^po+ng$");
	ROUND_TRIP("udp send ping expect_regex \"a;b|c d\"",
		   "udp send ping expect_regex \"a;b|c d\"");

	BAD("udp", "check udp: say what to send: send TEXT or send_hex HEX");
	BAD("udp expect pong", "check udp: say what to send: send TEXT or send_hex HEX");
	BAD("udp send a send_hex 00",
	    "check udp: say what to send: send TEXT or send_hex HEX, not both");
	BAD("udp send a expect b expect_regex c", "check udp: expect or expect_regex, not both");
	BAD("udp send a expect_regex (", "expect_regex: Unmatched ( or \\(");
	BAD("udp send_hex 0g", "send_hex: 'g' is not a hex digit");
	BAD("udp send_hex abc", "send_hex: 'abc' is not whole bytes in hex (\"0a1b\")");
	BAD("udp send_hex 0x", "send_hex: '0x' is not whole bytes in hex (\"0a1b\")");
	{
		char words[300] = "udp send_hex ";

		for (int i = 0; i < 120; i++)
			strcat(words, "ab");
		BAD(words, "send_hex: more than 119 bytes");
		words[strlen(words) - 2] = '\0';
		ROUND_TRIP(words, words);
	}
}

TEST(check_dns_words)
{
	ROUND_TRIP("dns name www.example.test", "dns name www.example.test");
	ROUND_TRIP("dns name WWW.Example.TEST.", "dns name WWW.Example.TEST");
	ROUND_TRIP("dns name www.example.test type A rcode NOERROR recurse off",
		   "dns name www.example.test");
	ROUND_TRIP("dns name www.example.test type aaaa rcode nxdomain answer 2001:db8::1 "
		   "recurse on port 5353 timeout 300ms",
		   "dns port 5353 timeout 300ms name www.example.test type AAAA rcode NXDOMAIN "
		   "answer 2001:db8::1 recurse on");
	ROUND_TRIP("dns name . type NS", "dns name . type NS");
	ROUND_TRIP("dns name x.test type 65 rcode 12", "dns name x.test type 65 rcode 12");
	ROUND_TRIP("dns name x.test type 1 rcode 5 answer 10.0.0.1",
		   "dns name x.test rcode REFUSED answer 10.0.0.1");
	ROUND_TRIP("dns name x.test type ANY answer ::1", "dns name x.test type ANY answer ::1");
	ROUND_TRIP("dns name \"a\\\\.b.test\"", "dns name \"a\\\\.b.test\"");

	BAD("dns", "check dns: say the name to ask for (name NAME)");
	BAD("dns type A", "check dns: say the name to ask for (name NAME)");
	BAD("dns name a..b",
	    "name: 'a..b' is not a domain name (labels of 1-63 bytes, 255 in all)");
	BAD("dns name x type BOGUS", "type: 'BOGUS' is not a record type (A, AAAA, NS, SOA, TXT, "
	    "CNAME, MX, PTR, SRV, ANY or a number)");
	BAD("dns name x rcode 16", "rcode: '16' is not an rcode (NOERROR, FORMERR, SERVFAIL, "
	    "NXDOMAIN, NOTIMP, REFUSED or 0-15)");
	BAD("dns name x recurse yes", "recurse: 'yes' is not on or off");
	BAD("dns name x answer 1.2.3", "answer: '1.2.3' is not an IPv4 or IPv6 address");
	BAD("dns name x type AAAA answer 10.0.0.1",
	    "check dns: an IPv4 answer comes with type A (or ANY)");
	BAD("dns name x answer ::1", "check dns: an IPv6 answer comes with type AAAA (or ANY)");
	BAD("dns name x send ping", "check: unknown option 'send' (port, interval, fast_interval, "
	    "timeout, rise, fall, jitter, name, type, rcode, answer, recurse)");
}

/* --- real checks ------------------------------------------------------------------ */

/* What a reply function may say besides its reply, and keep. */
struct rctx {
	bool other;          /* send it from another socket (another port) */
	bool again;          /* call me again for a second reply to this query */
	int state;           /* the function's own, 0 at the start of a check run */
};

/* How the responder answers a datagram <q>: into <out>, its length (0:
 * nothing). */
typedef size_t (*reply_fn)(const uint8_t *q, size_t qlen, uint8_t *out, size_t size,
			   struct rctx *x);

struct verdict {
	char what[64];
	bool down;
	int asked;           /* datagrams the responder got */
};

/* A table with one server at 127.0.0.1 (a packet-mode service: its port is
 * the service's), checked by `check <words> port <the responder's>`, rise
 * 1 fall 1, every 100 ms, and the check threads
 * running, until the first verdict and <min_asked> datagrams came. */
static bool run_check(const char *words, reply_fn fn, struct verdict *v, int min_asked,
		      int line)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct rctx x = { .state = 0 };
	char conf[512], err[CONFIG_ERR_MAX];
	enum log_level saved = log_threshold;
	struct weir_config c;
	struct vs_table t;
	struct real_server *rs;
	uint64_t deadline = now_ms() + 5000;
	bool ok = false;

	memset(v, 0, sizeof(*v));
	if (fd < 0 || other < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) != 0) {
		unit_fail(__FILE__, line, "responder: %s", strerror(errno));
		goto out_close;
	}
	if (!fn) {              /* nobody there: the port answers ICMP unreachable */
		close(fd);
		fd = -1;
	}
	snprintf(conf, sizeof(conf), "service tcp 192.0.2.1:80 {\n"
		 "  check %s port %u interval 100ms timeout 80ms rise 1 fall 1;\n"
		 "  server 127.0.0.1;\n}\n", words, ntohs(sin.sin_port));
	log_threshold = LOG_ERR;
	table_init(&t, 1);
	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, line, "config refused: %s", err);
		goto out_table;
	}
	if (table_apply(&t, &c, err) != 0) {
		unit_fail(__FILE__, line, "table_apply: %s", err);
		spec_free(&c);
		goto out_table;
	}
	spec_free(&c);
	rs = t.head->servers[0];
	if (health_start(1) != 0) {
		unit_fail(__FILE__, line, "health_start");
		goto out_table;
	}
	health_sync(&t);
	while (!ok && now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t q[4096], out[4096];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);

		if (poll(&p, fd >= 0, 10) == 1) {
			ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
			size_t r;

			x.again = true;
			while (n >= 0 && x.again) {
				x.other = x.again = false;
				if ((r = fn(q, (size_t)n, out, sizeof(out), &x)) > 0)
					sendto(x.other ? other : fd, out, r, 0,
					       (struct sockaddr *)&from, flen);
			}
			v->asked += n >= 0;
		}
		pthread_mutex_lock(&t.head->lock);
		snprintf(v->what, sizeof(v->what), "%s", health_rs(rs)->h.check_last);
		v->down = health_rs(rs)->h.down;
		pthread_mutex_unlock(&t.head->lock);
		ok = v->what[0] != '\0' && v->asked >= min_asked;
	}
	if (!ok)
		unit_fail(__FILE__, line, "'%s': no verdict in 5 s", words);
	health_shutdown();
out_table:
	table_fini(&t);
	log_threshold = saved;
out_close:
	if (fd >= 0)
		close(fd);
	if (other >= 0)
		close(other);
	return ok;
}

static size_t echo_pong(const uint8_t *q, size_t qlen, uint8_t *out, size_t size, struct rctx *x)
{
	memcpy(out, "xx pong\0yy", 10);
	return 10;
}

static size_t echo_back(const uint8_t *q, size_t qlen, uint8_t *out, size_t size, struct rctx *x)
{
	memcpy(out, q, qlen);
	return qlen ? qlen : 1;
}

static size_t silent(const uint8_t *q, size_t qlen, uint8_t *out, size_t size, struct rctx *x)
{
	return 0;
}

static size_t from_elsewhere(const uint8_t *q, size_t qlen, uint8_t *out, size_t size,
			     struct rctx *x)
{
	x->other = true;
	return echo_pong(q, qlen, out, size, x);
}

#define VERDICT(words, fn, v) run_check(words, fn, v, 0, __LINE__)

TEST(check_udp_real)
{
	struct verdict v;

	if (VERDICT("udp send ping expect pong", echo_pong, &v)) {
		CHECK_STR(v.what, "reply \"xx pong.yy\"");
		CHECK(!v.down);
	}
	/* the reply as sent: the bytes of send_hex, text with a newline */
	if (VERDICT("udp send_hex 41427a expect_regex ^ABz$", echo_back, &v))
		CHECK(!v.down);
	if (VERDICT("udp send_hex 00017a expect z", echo_back, &v))
		CHECK_STR(v.what, "reply \"..z\"");
	if (VERDICT("udp send \"a\\nb\" expect \"a\\nb\"", echo_back, &v))
		CHECK(!v.down);
	/* the regex sees the bytes after a NUL too */
	if (VERDICT("udp send ping expect_regex yy$", echo_pong, &v))
		CHECK(!v.down);
	if (VERDICT("udp send ping", echo_pong, &v))
		CHECK(!v.down);
	if (VERDICT("udp send ping expect pang", echo_pong, &v)) {
		CHECK_STR(v.what, "reply \"xx pong.yy\" without \"pang\"");
		CHECK(v.down);
	}
	if (VERDICT("udp send ping expect_regex ^pong", echo_pong, &v)) {
		CHECK_STR(v.what, "reply \"xx pong.yy\" not matching ^pong");
		CHECK(v.down);
	}
	if (VERDICT("udp send ping", silent, &v)) {
		CHECK_STR(v.what, "no reply after 80 ms");
		CHECK(v.down);
		CHECK(v.asked >= 1);
	}
	if (VERDICT("udp send ping", from_elsewhere, &v)) {
		CHECK_STR(v.what, "no reply after 80 ms");
		CHECK(v.down);
	}
	if (VERDICT("udp send ping", NULL, &v)) {
		CHECK_STR(v.what, "refused");
		CHECK(v.down);
	}
}

/* --- a DNS responder ------------------------------------------------------------ */

enum dns_mode { ANSWER, NXDOMAIN, OTHER_ADDR, WRONG_ID_FIRST, WRONG_ID, TRUNCATED, NOT_DNS,
		OTHER_QUESTION };
static enum dns_mode dns_mode;

/* Answers query <q> as dns_mode says: 10.0.0.1 and a CNAME first. */
static size_t dns_reply(const uint8_t *q, size_t qlen, uint8_t *out, size_t size, struct rctx *x)
{
	static const uint8_t a1[4] = { 10, 0, 0, 1 }, a2[4] = { 10, 0, 0, 2 };
	struct dns_header h = { .flags = DNS_QR | DNS_AA };
	uint8_t name[DNS_NAME_MAX];
	struct dns_question qq;
	struct dns_reader r;
	struct dns_writer w;

	if (dns_reader_init(&r, q, qlen) != 0 || dns_next_question(&r, &qq) != 1 ||
	    dns_name_read(q, qlen, qq.name, name, NULL) < 0)
		return 0;
	h.id = r.h.id;
	if (dns_mode == NOT_DNS) {
		memcpy(out, "hello", 5);
		return 5;
	}
	/* WRONG_ID_FIRST: a stale reply, then the right one */
	if (dns_mode == WRONG_ID_FIRST) {
		x->again = !x->state;
		x->state = x->again;
	}
	if (dns_mode == WRONG_ID || x->again)
		h.id ^= 0x5555;
	if (dns_mode == NXDOMAIN)
		h.flags |= DNS_R_NXDOMAIN;
	if (dns_mode == TRUNCATED)
		h.flags |= DNS_TC;
	h.flags |= r.h.flags & DNS_RD;
	dns_writer_init(&w, out, size, &h);
	dns_put_question(&w, dns_mode == OTHER_QUESTION ? (const uint8_t *)"\5other\0" : name,
			 qq.type, qq.qclass);
	if (dns_mode == ANSWER || dns_mode == OTHER_ADDR || dns_mode == WRONG_ID_FIRST) {
		dns_put_rr(&w, DNS_AN, NULL, DNS_HDR_LEN, DNS_T_CNAME, DNS_C_IN, 60,
			   "\3www\300\014", 6);
		dns_put_rr(&w, DNS_AN, (const uint8_t *)"\3www\3www\7example\4test", 0, DNS_T_A,
			   DNS_C_IN, 60, dns_mode == OTHER_ADDR ? a2 : a1, 4);
	}
	return (size_t)dns_writer_end(&w);
}

TEST(check_dns_real)
{
	static const char q[] = "dns name www.example.test";
	char words[128];
	struct verdict v;

	snprintf(words, sizeof(words), "%s answer 10.0.0.1", q);
	dns_mode = ANSWER;
	if (VERDICT(words, dns_reply, &v)) {
		CHECK_STR(v.what, "NOERROR, 10.0.0.1");
		CHECK(!v.down);
	}
	if (VERDICT(q, dns_reply, &v))
		CHECK_STR(v.what, "NOERROR, 2 answers");
	dns_mode = NXDOMAIN;
	if (VERDICT(q, dns_reply, &v)) {
		CHECK_STR(v.what, "rcode NXDOMAIN");
		CHECK(v.down);
	}
	snprintf(words, sizeof(words), "%s rcode nxdomain", q);
	if (VERDICT(words, dns_reply, &v))
		CHECK(!v.down);
	dns_mode = OTHER_ADDR;
	snprintf(words, sizeof(words), "%s answer 10.0.0.1", q);
	if (VERDICT(words, dns_reply, &v)) {
		CHECK_STR(v.what, "no answer 10.0.0.1");
		CHECK(v.down);
	}
	/* a reply to another query is not ours: the check waits for its own */
	dns_mode = WRONG_ID_FIRST;
	if (VERDICT(words, dns_reply, &v)) {
		CHECK_STR(v.what, "NOERROR, 10.0.0.1");
		CHECK(!v.down);
	}
	dns_mode = WRONG_ID;
	if (VERDICT(words, dns_reply, &v)) {
		CHECK_STR(v.what, "no reply after 80 ms (ignored: id mismatch)");
		CHECK(v.down);
	}
	dns_mode = TRUNCATED;
	if (VERDICT(q, dns_reply, &v)) {
		CHECK_STR(v.what, "truncated");
		CHECK(v.down);
	}
	dns_mode = OTHER_QUESTION;
	if (VERDICT(q, dns_reply, &v))
		CHECK_STR(v.what, "question mismatch");
	dns_mode = NOT_DNS;
	if (VERDICT(q, dns_reply, &v))
		CHECK_STR(v.what, "malformed reply (5 bytes)");
	if (VERDICT(q, NULL, &v))
		CHECK_STR(v.what, "refused");
	if (VERDICT(q, silent, &v))
		CHECK_STR(v.what, "no reply after 80 ms");
}

/* Each query has an id of its own, and asks for recursion only when told. */
static uint16_t ids[4];
static uint16_t rd_seen;

static size_t note_ids(const uint8_t *q, size_t qlen, uint8_t *out, size_t size, struct rctx *x)
{
	struct dns_reader r;

	if (dns_reader_init(&r, q, qlen) == 0 && x->state < 4) {
		ids[x->state++] = r.h.id;
		rd_seen |= r.h.flags & DNS_RD;
	}
	return 0;
}

TEST(check_dns_query)
{
	struct verdict v;

	/* four checks of one server, all silent: timeout 80 ms, every 100 ms */
	memset(ids, 0, sizeof(ids));
	rd_seen = 0;
	if (run_check("dns name www.example.test recurse on", note_ids, &v, 4, __LINE__)) {
		CHECK(rd_seen == DNS_RD);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < i; j++)
				CHECK(ids[i] != ids[j]);
	}
	rd_seen = 0;
	if (VERDICT("dns name www.example.test", note_ids, &v))
		CHECK(rd_seen == 0);
}
