/*
 * check_dns.c - the dns check: one query over UDP (`name NAME`, `type T`,
 * RD if `recurse on`) with a fresh random id each time; the check passes
 * when the reply is a response with that id and question, the rcode
 * expected (NOERROR unless `rcode R`) and, with `answer IP`, an A or AAAA
 * record of that address in its answer section. A reply with another id
 * is not ours (a late one): ignored, the check waits on. TC set fails the
 * check ("truncated"): a health check does not retry over TCP. The wire
 * format is proto/dns.c's; check.c does the socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "health/check_ops.h"
#include "proto/dns.h"

/* A dns check's own settings: its words, in check_spec.own. */
struct dns_check {
	struct dns_qname {
		uint8_t len;                  /* 0 = not said */
		uint8_t wire[DNS_NAME_MAX];
	} name;
	uint16_t type;                        /* DNS_T_A unless said */
	uint8_t rcode;                        /* expected; DNS_R_NOERROR */
	uint8_t recurse;                      /* RD in the query */
	struct dns_addr {
		uint8_t family;               /* 0 (none), AF_INET, AF_INET6 */
		uint8_t a[16];
	} answer;
};

_Static_assert(sizeof(struct dns_check) <= CHECK_OWN_MAX, "dns_check fits check_spec.own");

/* One check: the id of its query. */
struct dns_run {
	uint16_t id;
};

static const struct dns_check *dns_of(const struct check_spec *c)
{
	return (const struct dns_check *)c->own.bytes;
}

/* --- the words ------------------------------------------------------------------ */

static int bad(char *err, const char *key, const char *v, const char *want)
{
	snprintf(err, SPEC_ERR_MAX, "%s: '%s' is not %s", key, v, want);
	return -EINVAL;
}

static int name_parse(const char *v, void *field, char *err)
{
	struct dns_qname *n = field;
	char text[256];
	int len = dns_name_from_text(v, n->wire);

	/* the name must also print back as one config word */
	if (len < 0 || dns_name_to_text(n->wire, text, sizeof(text)) < 0)
		return bad(err, "name", v, "a domain name (labels of 1-63 bytes, 255 in all)");
	n->len = (uint8_t)len;
	return 0;
}

static void name_format(const void *field, char *out, size_t size)
{
	const struct dns_qname *n = field;

	dns_name_to_text(n->wire, out, size);
}

static int type_parse(const char *v, void *field, char *err)
{
	int t = dns_type_parse(v);

	if (t < 0)
		return bad(err, "type", v, "a record type (A, AAAA, NS, SOA, TXT, CNAME, MX, PTR, "
			   "SRV, ANY or a number)");
	*(uint16_t *)field = (uint16_t)t;
	return 0;
}

static void type_format(const void *field, char *out, size_t size)
{
	uint16_t t = *(const uint16_t *)field;
	const char *name = dns_type_name(t);

	if (name)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%u", t);
}

static int rcode_parse(const char *v, void *field, char *err)
{
	int r = dns_rcode_parse(v);

	if (r < 0)
		return bad(err, "rcode", v, "an rcode (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, "
			   "NOTIMP, REFUSED or 0-15)");
	*(uint8_t *)field = (uint8_t)r;
	return 0;
}

/* "NXDOMAIN", or the number. */
static void rcode_text(unsigned r, char *out, size_t size)
{
	const char *name = dns_rcode_name(r);

	if (name)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%u", r);
}

static void rcode_format(const void *field, char *out, size_t size)
{
	rcode_text(*(const uint8_t *)field, out, size);
}

static int recurse_parse(const char *v, void *field, char *err)
{
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return bad(err, "recurse", v, "on or off");
	*(uint8_t *)field = v[1] == 'n';
	return 0;
}

static void recurse_format(const void *field, char *out, size_t size)
{
	snprintf(out, size, "%s", *(const uint8_t *)field ? "on" : "off");
}

static int answer_parse(const char *v, void *field, char *err)
{
	struct dns_addr *a = field;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, v, a->a) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, v, a->a) == 1)
		a->family = AF_INET6;
	else
		return bad(err, "answer", v, "an IPv4 or IPv6 address");
	return 0;
}

static void answer_format(const void *field, char *out, size_t size)
{
	const struct dns_addr *a = field;
	char text[INET6_ADDRSTRLEN];

	snprintf(out, size, "%s", inet_ntop(a->family, a->a, text, sizeof(text)) ? text : "?");
}

static const struct spec_key dns_keys[] = {
	CHECK_OWN_CUSTOM("name", struct dns_check, name, name_parse, name_format),
	CHECK_OWN_CUSTOM("type", struct dns_check, type, type_parse, type_format),
	CHECK_OWN_CUSTOM("rcode", struct dns_check, rcode, rcode_parse, rcode_format),
	CHECK_OWN_CUSTOM("answer", struct dns_check, answer, answer_parse, answer_format),
	CHECK_OWN_CUSTOM("recurse", struct dns_check, recurse, recurse_parse, recurse_format),
};

static void dns_defaults(struct check_spec *c)
{
	((struct dns_check *)c->own.bytes)->type = DNS_T_A;
}

static int dns_validate(const struct check_spec *c, char *err)
{
	const struct dns_check *d = dns_of(c);
	uint16_t want = d->answer.family == AF_INET ? DNS_T_A : DNS_T_AAAA;

	if (!d->name.len) {
		snprintf(err, SPEC_ERR_MAX, "check dns: say the name to ask for (name NAME)");
		return -EINVAL;
	}
	if (d->answer.family && d->type != want && d->type != DNS_T_ANY) {
		snprintf(err, SPEC_ERR_MAX, "check dns: an %s answer comes with type %s (or ANY)",
			 d->answer.family == AF_INET ? "IPv4" : "IPv6", dns_type_name(want));
		return -EINVAL;
	}
	return 0;
}

static const struct check_kind dns_words = {
	.name = "dns",
	.keys = dns_keys,
	.nkeys = ARRAY_SIZE(dns_keys),
	.defaults = dns_defaults,
	.validate = dns_validate,
};

/* --- the check --------------------------------------------------------------- */

static bool dns_want(const struct virtual_service *svc, const struct real_server *rs,
		     struct hc_conf *conf)
{
	return hc_active_want(&dns_words, svc, rs, conf);
}

/* The query with id 0: dns_prepare() gives each check its own. */
static size_t dns_request(const struct hc_conf *conf, const struct weir_addr *to, char *out,
			  size_t size)
{
	const struct dns_check *d = dns_of(hc_spec(conf));
	int n = dns_query(out, size, 0, d->recurse, d->name.wire, d->type);

	return n > 0 ? (size_t)n : 0;
}

static void dns_prepare(void *state, const struct hc_conf *conf, char *req, size_t len,
			uint64_t rnd)
{
	struct dns_run *run = state;

	run->id = (uint16_t)rnd;
	if (len >= 2) {
		req[0] = (char)(run->id >> 8);
		req[1] = (char)run->id;
	}
}

/* Whether the reply asks what we asked. A server may leave the question
 * out of an error (FORMERR, NOTIMP...): that is no mismatch. */
static bool same_question(struct dns_reader *r, const struct dns_check *d)
{
	struct dns_question q;

	if (!r->h.count[DNS_QD] && DNS_RCODE(r->h.flags) != DNS_R_NOERROR)
		return true;
	return r->h.count[DNS_QD] == 1 && dns_next_question(r, &q) == 1 &&
	       q.type == d->type && q.qclass == DNS_C_IN &&
	       dns_name_is(r->msg, r->len, q.name, d->name.wire);
}

/* Whether the answer section holds the address <a>: 1, 0, or -EBADMSG. */
static int has_answer(struct dns_reader *r, const struct dns_addr *a)
{
	uint16_t type = a->family == AF_INET ? DNS_T_A : DNS_T_AAAA;
	size_t alen = a->family == AF_INET ? 4 : 16;
	struct dns_rr rr;
	int rc;

	while ((rc = dns_next_rr(r, &rr)) > 0 && rr.sect == DNS_AN)
		if (rr.type == type && rr.rclass == DNS_C_IN && rr.rdlen == alen &&
		    memcmp(r->msg + rr.rdata, a->a, alen) == 0)
			return 1;
	return rc < 0 ? rc : 0;
}

static int dns_answer(void *state, const struct hc_conf *conf, char *buf, size_t *len,
		      bool eof, char *what)
{
	const struct dns_run *run = state;
	const struct dns_check *d = dns_of(hc_spec(conf));
	struct dns_reader r;
	char rcode[16], addr[INET6_ADDRSTRLEN];
	int rc;

	if (dns_reader_init(&r, buf, *len) != 0)
		return hc_verdict(what, CHECK_FAIL, "malformed reply (%zu bytes)", *len);
	if (r.h.id != run->id)
		return hc_verdict(what, HC_MORE, "id mismatch");
	if (!(r.h.flags & DNS_QR))
		return hc_verdict(what, CHECK_FAIL, "not a reply (QR clear)");
	if (DNS_OPCODE(r.h.flags))
		return hc_verdict(what, CHECK_FAIL, "reply of opcode %u", DNS_OPCODE(r.h.flags));
	if (r.h.flags & DNS_TC)
		return hc_verdict(what, CHECK_FAIL, "truncated");
	if (!same_question(&r, d))
		return hc_verdict(what, CHECK_FAIL, "question mismatch");
	rcode_text(DNS_RCODE(r.h.flags), rcode, sizeof(rcode));
	if (DNS_RCODE(r.h.flags) != d->rcode)
		return hc_verdict(what, CHECK_FAIL, "rcode %s", rcode);
	if (!d->answer.family)
		return hc_verdict(what, CHECK_PASS, "%s, %u answers", rcode, r.h.count[DNS_AN]);
	inet_ntop(d->answer.family, d->answer.a, addr, sizeof(addr));
	if ((rc = has_answer(&r, &d->answer)) < 0)
		return hc_verdict(what, CHECK_FAIL, "malformed reply (%zu bytes)", *len);
	if (!rc)
		return hc_verdict(what, CHECK_FAIL, "no answer %s", addr);
	return hc_verdict(what, CHECK_PASS, "%s, %s", rcode, addr);
}

const struct hc_ops hc_dns = {
	.name = "dns",
	.words = &dns_words,
	.slot = HC_SLOT_ACTIVE,
	.dgram = true,
	.answer_max = HC_ANSWER_MAX,
	.state_size = sizeof(struct dns_run),
	.want = dns_want,
	.request = dns_request,
	.prepare = dns_prepare,
	.answer = dns_answer,
	.done = hc_active_done,
	.forget = hc_active_forget,
};
