/*
 * check_udp.c - the udp check: one datagram to the server (`send TEXT` or
 * `send_hex HEX`), and a reply within the timeout that contains `expect
 * TEXT`, or matches the POSIX extended regex `expect_regex RE`, or, with
 * neither, any reply. check.c does the socket (connected, so replies from
 * elsewhere never arrive; an ICMP port unreachable fails it, "refused").
 *
 * The regex is compiled once per check object (setup), not per check, and
 * matched against the whole reply, NUL bytes included (REG_STARTEND).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "health/check_ops.h"

#define UDP_HEX_MAX 119

/* A udp check's own settings: its words, in check_spec.own. */
struct udp_check {
	char send[64];                /* text ("\n" escapes) */
	struct udp_bytes {
		uint8_t len;
		uint8_t b[UDP_HEX_MAX];
	} send_hex;                   /* or bytes */
	char expect[64];              /* "" = any reply (or the regex) */
	char regex[128];              /* "" = none */
};

_Static_assert(sizeof(struct udp_check) <= CHECK_OWN_MAX, "udp_check fits check_spec.own");

/* Kept for the life of a check object: the compiled regex. */
struct udp_run {
	regex_t re;
	bool has_re;
};

static const struct udp_check *udp_of(const struct check_spec *c)
{
	return (const struct udp_check *)c->own.bytes;
}

/* --- the words ------------------------------------------------------------------ */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0a1B..." (blanks ignored, "0x" before it allowed) into bytes. */
static int hex_parse(const char *v, void *field, char *err)
{
	struct udp_bytes *b = field;
	const char *p = v;
	int hi = -1;

	b->len = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		int d = hex_digit(*p);

		if (*p == ' ' || *p == ':')
			continue;
		if (d < 0) {
			snprintf(err, SPEC_ERR_MAX, "send_hex: '%c' is not a hex digit", *p);
			return -EINVAL;
		}
		if (hi < 0) {
			hi = d;
			continue;
		}
		if (b->len == UDP_HEX_MAX) {
			snprintf(err, SPEC_ERR_MAX, "send_hex: more than %d bytes", UDP_HEX_MAX);
			return -EINVAL;
		}
		b->b[b->len++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	if (hi >= 0 || !b->len) {
		snprintf(err, SPEC_ERR_MAX, "send_hex: '%s' is not whole bytes in hex (\"0a1b\")", v);
		return -EINVAL;
	}
	return 0;
}

static void hex_format(const void *field, char *out, size_t size)
{
	const struct udp_bytes *b = field;
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < b->len && n + 3 <= size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", b->b[i]);
}

static const struct spec_key udp_keys[] = {
	CHECK_OWN_KEY("send", KEY_TEXT, struct udp_check, send, 0, 0),
	CHECK_OWN_CUSTOM("send_hex", struct udp_check, send_hex, hex_parse, hex_format),
	CHECK_OWN_KEY("expect", KEY_TEXT, struct udp_check, expect, 0, 0),
	CHECK_OWN_KEY("expect_regex", KEY_STRING, struct udp_check, regex, 0, 0),
};

static int udp_validate(const struct check_spec *c, char *err)
{
	const struct udp_check *u = udp_of(c);
	regex_t re;
	int rc;

	if (!u->send[0] == !u->send_hex.len) {
		snprintf(err, SPEC_ERR_MAX, "check udp: say what to send: send TEXT or send_hex HEX%s",
			 u->send[0] ? ", not both" : "");
		return -EINVAL;
	}
	if (u->expect[0] && u->regex[0]) {
		snprintf(err, SPEC_ERR_MAX, "check udp: expect or expect_regex, not both");
		return -EINVAL;
	}
	if (!u->regex[0])
		return 0;
	if ((rc = regcomp(&re, u->regex, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[96];

		regerror(rc, &re, why, sizeof(why));
		snprintf(err, SPEC_ERR_MAX, "expect_regex: %s", why);
		return -EINVAL;
	}
	regfree(&re);
	return 0;
}

static const struct check_kind udp_words = {
	.name = "udp",
	.keys = udp_keys,
	.nkeys = ARRAY_SIZE(udp_keys),
	.validate = udp_validate,
};

/* --- the check --------------------------------------------------------------- */

static bool udp_want(const struct virtual_service *svc, const struct real_server *rs,
		     struct hc_conf *conf)
{
	return hc_active_want(&udp_words, svc, rs, conf);
}

static size_t udp_request(const struct hc_conf *conf, const struct weir_addr *to, char *out,
			  size_t size)
{
	const struct udp_check *u = udp_of(hc_spec(conf));
	size_t n = u->send_hex.len ? u->send_hex.len : strlen(u->send);

	if (n > size)
		return 0;
	memcpy(out, u->send_hex.len ? (const char *)u->send_hex.b : u->send, n);
	return n;
}

static int udp_setup(void *state, const struct hc_conf *conf)
{
	struct udp_run *run = state;
	const struct udp_check *u = udp_of(hc_spec(conf));

	if (!u->regex[0])
		return 0;
	if (regcomp(&run->re, u->regex, REG_EXTENDED | REG_NOSUB) != 0)
		return -ENOMEM; /* it compiled when the words were read */
	run->has_re = true;
	return 0;
}

static void udp_teardown(void *state)
{
	struct udp_run *run = state;

	if (run->has_re)
		regfree(&run->re);
}

/* The reply's first bytes as text, for the listing: "pong". */
static void shown(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = MIN(len, size - 1);

	for (size_t i = 0; i < n; i++)
		out[i] = buf[i] >= ' ' && buf[i] < 0x7f ? buf[i] : '.';
	out[n] = '\0';
}

static int udp_answer(void *state, const struct hc_conf *conf, char *buf, size_t *len,
		      bool eof, char *what)
{
	struct udp_run *run = state;
	const struct udp_check *u = udp_of(hc_spec(conf));
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)*len };
	char text[33];

	shown(buf, *len, text, sizeof(text));
	if (run->has_re && regexec(&run->re, buf, 1, &m, REG_STARTEND) != 0)
		return hc_verdict(what, CHECK_FAIL, "reply \"%s\" not matching %s", text, u->regex);
	if (!run->has_re && u->expect[0] && !memmem(buf, *len, u->expect, strlen(u->expect)))
		return hc_verdict(what, CHECK_FAIL, "reply \"%s\" without \"%s\"", text, u->expect);
	return hc_verdict(what, CHECK_PASS, "reply \"%s\"", text);
}

const struct hc_ops hc_udp = {
	.name = "udp",
	.words = &udp_words,
	.slot = HC_SLOT_ACTIVE,
	.dgram = true,
	.answer_max = HC_ANSWER_MAX,
	.state_size = sizeof(struct udp_run),
	.keep_size = sizeof(struct udp_run),
	.want = udp_want,
	.request = udp_request,
	.setup = udp_setup,
	.teardown = udp_teardown,
	.answer = udp_answer,
	.done = hc_active_done,
	.forget = hc_active_forget,
};
