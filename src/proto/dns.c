/* dns.c - the DNS wire format (see dns.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "proto/dns.h"
#include "proto/dns_bytes.h"

/* --- names -------------------------------------------------------------------- */

int dns_name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end)
{
	size_t pos = off, n = 0, limit = off;
	bool jumped = false;

	for (;;) {
		uint8_t b;

		if (pos >= len)
			return -EBADMSG;
		b = msg[pos];
		if ((b & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len)
				return -EBADMSG;
			to = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
			/* always further back than the last jump: no loop;
			 * never into the header, which holds no name */
			if (to >= limit || to < DNS_HDR_LEN)
				return -EBADMSG;
			if (!jumped && end)
				*end = pos + 2;
			jumped = true;
			pos = limit = to;
			continue;
		}
		if (b & 0xc0) /* 0x40, 0x80: extended and reserved label types */
			return -EBADMSG;
		if (n + 1 + b > DNS_NAME_MAX || pos + 1 + b > len)
			return -EBADMSG;
		if (out)
			memcpy(out + n, msg + pos, 1 + (size_t)b);
		n += 1 + (size_t)b;
		pos += 1 + (size_t)b;
		if (!b)
			break;
	}
	if (!jumped && end)
		*end = pos;
	return (int)n;
}

bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t n = *a;

		if (n != *b)
			return false;
		if (!n)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (lower(a[i]) != lower(b[i]))
				return false;
		a += 1 + n;
		b += 1 + n;
	}
}

bool dns_name_is(const uint8_t *msg, size_t len, size_t off, const uint8_t *name)
{
	uint8_t here[DNS_NAME_MAX];

	return dns_name_read(msg, len, off, here, NULL) > 0 && dns_name_equal(here, name);
}

size_t dns_name_len(const uint8_t *name)
{
	size_t n = 0;

	while (name[n])
		n += 1 + (size_t)name[n];
	return n + 1;
}

/* One byte of a label's text at *p (an escape: \X or \DDD), moving *p on;
 * -EINVAL for a bad escape, a blank or a control character. */
static int text_byte(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (s[0] != '\\') {
		if (s[0] <= ' ' || s[0] >= 0x7f)
			return -EINVAL;
		*p += 1;
		return s[0];
	}
	if (s[1] >= '0' && s[1] <= '9') {
		int v;

		if (!(s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'))
			return -EINVAL;
		v = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		*p += 4;
		return v <= 255 ? v : -EINVAL;
	}
	if (s[1] <= ' ' || s[1] >= 0x7f)
		return -EINVAL;
	*p += 2;
	return s[1];
}

int dns_name_from_text(const char *text, uint8_t *out)
{
	const char *p = text;
	size_t n = 0;

	if (p[0] == '.' && p[1] == '\0') {
		out[0] = 0;
		return 1;
	}
	for (;;) {
		size_t lab = n++, start = n;

		while (*p && *p != '.') {
			int c = text_byte(&p);

			/* room for this byte and the root's after it */
			if (c < 0 || n >= DNS_NAME_MAX - 1)
				return -EINVAL;
			out[n++] = (uint8_t)c;
		}
		if (n == start || n - start > DNS_LABEL_MAX)
			return -EINVAL;
		out[lab] = (uint8_t)(n - start);
		if (*p == '.')
			p++;
		if (!*p)
			break;
	}
	out[n++] = 0;
	return (int)n;
}

int dns_name_to_text(const uint8_t *name, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return -ENOSPC;
	out[0] = '\0';
	if (!name[0])
		return snprintf(out, size, ".") < (int)size ? 1 : -ENOSPC;
	for (const uint8_t *l = name; *l; l += 1 + *l) {
		for (uint8_t i = 0; i <= *l; i++) {
			unsigned c = i ? l[i] : '.';
			int k;

			if (!i && l == name)
				continue;
			if (!i)
				k = snprintf(out + n, size - n, ".");
			else if (c == '.' || c == '\\')
				k = snprintf(out + n, size - n, "\\%c", c);
			else if (c <= ' ' || c >= 0x7f)
				k = snprintf(out + n, size - n, "\\%03u", c);
			else
				k = snprintf(out + n, size - n, "%c", c);
			if ((size_t)k >= size - n) {
				out[n] = '\0';
				return -ENOSPC;
			}
			n += (size_t)k;
		}
	}
	return (int)n;
}

/* --- reading ------------------------------------------------------------------ */

/* Moves past the sections with nothing left to read. */
static void settle(struct dns_reader *r)
{
	while (r->sect < DNS_SECTIONS && !r->left)
		if (++r->sect < DNS_SECTIONS)
			r->left = r->h.count[r->sect];
}

int dns_reader_init(struct dns_reader *r, const void *msg, size_t len)
{
	const uint8_t *m = msg;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	r->msg = m;
	r->len = len;
	r->h.id = get16(m);
	r->h.flags = get16(m + 2);
	for (int s = 0; s < DNS_SECTIONS; s++)
		r->h.count[s] = get16(m + 4 + 2 * s);
	r->pos = DNS_HDR_LEN;
	r->sect = DNS_QD;
	r->left = r->h.count[DNS_QD];
	settle(r);
	return 0;
}

int dns_next_question(struct dns_reader *r, struct dns_question *q)
{
	size_t end;

	settle(r);
	if (r->sect != DNS_QD)
		return 0;
	if (dns_name_read(r->msg, r->len, r->pos, NULL, &end) < 0 || r->len - end < 4)
		return -EBADMSG;
	q->name = r->pos;
	q->type = get16(r->msg + end);
	q->qclass = get16(r->msg + end + 2);
	r->pos = end + 4;
	r->left--;
	return 1;
}

int dns_next_rr(struct dns_reader *r, struct dns_rr *rr)
{
	struct dns_question q;
	const uint8_t *p;
	size_t end;
	int rc;

	while ((rc = dns_next_question(r, &q)) > 0)
		;
	if (rc < 0)
		return rc;
	settle(r);
	if (r->sect >= DNS_SECTIONS)
		return 0;
	if (dns_name_read(r->msg, r->len, r->pos, NULL, &end) < 0 || r->len - end < 10)
		return -EBADMSG;
	p = r->msg + end;
	if ((size_t)get16(p + 8) > r->len - end - 10)
		return -EBADMSG;
	rr->sect = r->sect;
	rr->name = r->pos;
	rr->type = get16(p);
	rr->rclass = get16(p + 2);
	rr->ttl = get32(p + 4);
	rr->rdlen = get16(p + 8);
	rr->rdata = end + 10;
	r->pos = rr->rdata + rr->rdlen;
	r->left--;
	return 1;
}

/* --- writing ------------------------------------------------------------------ */

void dns_writer_init(struct dns_writer *w, void *buf, size_t size, const struct dns_header *h)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->size = size;
	if (size < DNS_HDR_LEN) {
		w->err = -ENOSPC;
		return;
	}
	memset(buf, 0, DNS_HDR_LEN);
	set16(w->buf, h->id);
	set16(w->buf + 2, h->flags);
	w->len = DNS_HDR_LEN;
}

/* Room for <need> more bytes of section <sect>? Sets the error if not. */
static bool room(struct dns_writer *w, enum dns_section sect, size_t need)
{
	if (w->err)
		return false;
	if (sect < w->sect || w->count[sect] == UINT16_MAX)
		w->err = -EINVAL;
	else if (need > w->size - w->len)
		w->err = -ENOSPC;
	return !w->err;
}

static void counted(struct dns_writer *w, enum dns_section sect)
{
	w->sect = (uint8_t)sect;
	set16(w->buf + 4 + 2 * sect, ++w->count[sect]);
}

int dns_put_question(struct dns_writer *w, const uint8_t *name, uint16_t type, uint16_t qclass)
{
	size_t nlen = dns_name_len(name);
	uint8_t *p;

	if (!room(w, DNS_QD, nlen + 4))
		return w->err;
	p = w->buf + w->len;
	memcpy(p, name, nlen);
	set16(p + nlen, type);
	set16(p + nlen + 2, qclass);
	w->len += nlen + 4;
	counted(w, DNS_QD);
	return 0;
}

int dns_put_rr(struct dns_writer *w, enum dns_section sect, const uint8_t *name,
	       uint16_t name_off, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const void *rdata, uint16_t rdlen)
{
	size_t nlen = name ? dns_name_len(name) : 2;
	uint8_t *p;

	if (sect == DNS_QD || (!name && name_off >= 0x4000)) {
		if (!w->err)
			w->err = -EINVAL;
		return w->err;
	}
	if (!room(w, sect, nlen + 10 + rdlen))
		return w->err;
	p = w->buf + w->len;
	if (name)
		memcpy(p, name, nlen);
	else
		set16(p, (uint16_t)(0xc000 | name_off));
	p += nlen;
	set16(p, type);
	set16(p + 2, rclass);
	set16(p + 4, (uint16_t)(ttl >> 16));
	set16(p + 6, (uint16_t)ttl);
	set16(p + 8, rdlen);
	if (rdlen)
		memcpy(p + 10, rdata, rdlen);
	w->len += nlen + 10 + rdlen;
	counted(w, sect);
	return 0;
}

void dns_set_flags(struct dns_writer *w, uint16_t flags)
{
	if (w->size >= DNS_HDR_LEN)
		set16(w->buf + 2, flags);
}

void dns_writer_mark(const struct dns_writer *w, struct dns_mark *m)
{
	m->len = w->len;
	m->sect = w->sect;
	memcpy(m->count, w->count, sizeof(m->count));
}

void dns_writer_rewind(struct dns_writer *w, const struct dns_mark *m)
{
	w->len = m->len;
	w->sect = m->sect;
	w->err = w->size < DNS_HDR_LEN ? -ENOSPC : 0;
	memcpy(w->count, m->count, sizeof(w->count));
	for (int s = 0; s < DNS_SECTIONS && !w->err; s++)
		set16(w->buf + 4 + 2 * s, w->count[s]);
}

int dns_writer_end(const struct dns_writer *w)
{
	return w->err ? w->err : (int)w->len;
}

int dns_query(void *buf, size_t size, uint16_t id, bool rd, const uint8_t *name, uint16_t type)
{
	struct dns_header h = { .id = id, .flags = rd ? DNS_RD : 0 };
	struct dns_writer w;

	dns_writer_init(&w, buf, size, &h);
	dns_put_question(&w, name, type, DNS_C_IN);
	return dns_writer_end(&w);
}

/* --- names of numbers ----------------------------------------------------------- */

static const struct { uint16_t n; const char *name; } types[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
	{ DNS_T_SRV, "SRV" }, { DNS_T_OPT, "OPT" }, { DNS_T_ANY, "ANY" },
};

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

const char *dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].n == type)
			return types[i].name;
	return NULL;
}

/* A decimal number <s> from <lo> to <hi>, or -EINVAL. */
static int number(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	return *end || v < lo || v > hi ? -EINVAL : (int)v;
}

int dns_type_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcasecmp(types[i].name, s) == 0)
			return types[i].n;
	return number(s, 1, 65535);
}

const char *dns_rcode_name(unsigned rcode)
{
	return rcode < ARRAY_SIZE(rcodes) ? rcodes[rcode] : NULL;
}

int dns_rcode_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(rcodes); i++)
		if (strcasecmp(rcodes[i], s) == 0)
			return (int)i;
	return number(s, 0, 15);
}
