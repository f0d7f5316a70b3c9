/* dns_opts.c - the DNS service's block of option rows (see dns_opts.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "dns/dns_opts.h"
#include "proto/dns.h"

static void dns_defaults(void *base)
{
	struct dns_opts *d = base;

	memset(d, 0, sizeof(*d));
	d->ttl_ms = 30000;
	d->xdp = true;
	snprintf(d->geo_field, sizeof(d->geo_field), "country iso_code");
}

/* <in> as a name to keep: lowercase, no final dot, a valid DNS name of
 * letters, digits, '-', '_' and dots. */
static int clean_name(const char *in, char *out, size_t size, char *why)
{
	uint8_t wire[DNS_NAME_MAX];
	size_t n = strlen(in);

	if (n && in[n - 1] == '.')
		n--;
	if (!n || n >= size)
		return opt_fail(why, "'%s' is not a DNS name", in);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return opt_fail(why, "'%s' is not a DNS name (letters, digits, '-', '_' "
					"and dots)", in);
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	if (dns_name_from_text(out, wire) < 0 || strstr(out, "..") || out[0] == '.')
		return opt_fail(why, "'%s' is not a DNS name", in);
	return 0;
}

/* Appends <w> to the blank-separated list <list> unless it is there. */
static int list_add(char *list, size_t size, const char *w, char *why)
{
	size_t n = strlen(list), k = strlen(w);

	for (const char *p = list; *p;) {
		size_t l = strcspn(p, " ");

		if (l == k && strncmp(p, w, k) == 0)
			return 0;
		p += l + (p[l] == ' ');
	}
	if (n + (n ? 1 : 0) + k >= size)
		return opt_fail(why, "too many names (%zu bytes at most)", size - 1);
	if (n)
		list[n++] = ' ';
	memcpy(list + n, w, k + 1);
	return 0;
}

/* `name NAME...`: a repeated directive (or --name) adds to the list. */
static int parse_names(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	char *list = (char *)base + o->off, name[DNS_OPT_NAME];

	for (int i = 0; i < n; i++)
		if (clean_name(w[i], name, sizeof(name), why) != 0 ||
		    list_add(list, o->size, name, why) != 0)
			return -EINVAL;
	return 0;
}

static int parse_ns(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	char *list = (char *)base + o->off;

	list[0] = '\0';
	return parse_names(o, w, n, base, why);
}

static void format_names(const struct opt_row *o, const void *base, char *out, size_t len)
{
	snprintf(out, len, "%s", (const char *)base + o->off);
}

/* Words joined by one blank (a MaxMind DB field path: country iso_code). */
static int parse_words(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	char *f = (char *)base + o->off;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		size_t k = strlen(w[i]);

		if (len + k + 1 >= o->size)
			return opt_fail(why, "longer than %zu bytes", o->size - 1);
		for (const char *p = w[i]; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
				return opt_fail(why, "'%s' is not a field name", w[i]);
	}
	memset(f, 0, o->size);
	for (int i = 0; i < n; i++) {
		size_t k = strlen(w[i]);

		if (i)
			f[len++] = ' ';
		memcpy(f + len, w[i], k);
		len += k;
	}
	return 0;
}

static int parse_zone(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	struct dns_opts *d = base;

	return clean_name(w[0], d->zone, sizeof(d->zone), why);
}

#define D struct dns_opts

static const struct opt_row dns_rows[] = {
	{ .key = "name", .flag = "name", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .flags = OPT_F_REPEAT, .min_args = 1,
	  .max_args = -1, OPT_FIELD(D, names), .parse = parse_names, .format = format_names,
	  .metavar = "NAME", .example = "www.example.test api.example.test", .def = "none",
	  .help = "weir: DNS: a name answered with the service's servers (repeat for more)" },
	{ .key = "zone", .flag = "zone", .type = OPT_CUSTOM, .scope = OPT_SVC, .min_args = 1,
	  .max_args = 1, OPT_FIELD(D, zone), .parse = parse_zone, .format = format_names,
	  .metavar = "NAME", .example = "example.test", .def = "the first name's parent",
	  .help = "weir: DNS: the zone owned (SOA, NS, NXDOMAIN below it, REFUSED outside)" },
	{ .key = "ns", .flag = "ns", .type = OPT_CUSTOM, .scope = OPT_SVC, .min_args = 1,
	  .max_args = -1, OPT_FIELD(D, ns), .parse = parse_ns, .format = format_names,
	  .metavar = "NAME", .example = "ns1.example.test", .def = "ns.ZONE",
	  .help = "weir: DNS: the zone's name servers (NS records, SOA MNAME)" },
	{ .key = "ttl", .flag = "ttl", .type = OPT_DURATION, .scope = OPT_SVC,
	  OPT_FIELD(D, ttl_ms), .metavar = "T", .example = "5s", .def = "30s",
	  .help = "weir: DNS: the TTL of answers" },
	{ .key = "ttl_down", .flag = "ttl-down", .type = OPT_DURATION, .scope = OPT_SVC,
	  .flags = OPT_F_OFF, OPT_FIELD(D, ttl_down_ms), .metavar = "T", .example = "2s",
	  .def = "off",
	  .help = "weir: DNS: the TTL while a server of the service is down, draining or in "
		  "maintenance, so caches ask again soon and see it come back" },
	{ .key = "answers", .flag = "answers", .type = OPT_U32, .scope = OPT_SVC,
	  OPT_FIELD(D, answers), .max = 64, .metavar = "N", .example = "2", .def = "0",
	  .help = "weir: DNS: addresses per answer (0 = every available one, rotated)" },
	{ .key = "geo_map", .flag = "geo-map", .type = OPT_STRING, .scope = OPT_SVC,
	  .flags = OPT_F_OFF, OPT_FIELD(D, geo_map), .max = 108, .metavar = "FILE",
	  .example = "/etc/weir/geo.map", .def = "off",
	  .help = "weir: DNS: location rules, one a line: 'NETWORK|KEY|default -> LOC, LOC'" },
	{ .key = "geo_db", .flag = "geo-db", .type = OPT_STRING, .scope = OPT_SVC,
	  .flags = OPT_F_OFF, OPT_FIELD(D, geo_db), .max = 108, .metavar = "FILE",
	  .example = "/var/lib/GeoIP/GeoLite2-Country.mmdb", .def = "off",
	  .help = "weir: DNS: a MaxMind DB giving a client's key for the rules" },
	{ .key = "geo_field", .flag = "geo-field", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = -1, OPT_FIELD(D, geo_field), .parse = parse_words,
	  .format = format_names, .metavar = "WORDS",
	  .example = "continent code", .def = "country iso_code",
	  .help = "weir: DNS: the MaxMind DB field giving the key" },
	{ .key = "xdp", .flag = "xdp", .type = OPT_BOOL, .scope = OPT_SVC,
	  OPT_FIELD(D, xdp), .metavar = "on|off", .example = "off", .def = "on",
	  .help = "weir: DNS: answer A/AAAA queries in the XDP data path when an xdp block "
		  "is configured" },
};

#undef D

struct opt_block dns_opt_block = {
	.name = "dns", .scope = OPT_SVC,
	.size = sizeof(struct dns_opts), .align = _Alignof(struct dns_opts),
	.defaults = dns_defaults,
	.rows = dns_rows, .nrows = ARRAY_SIZE(dns_rows),
};
