/* test_geo.c - the location map: longest-prefix choices, ECS scopes
 * (checked against a brute-force reference on random tables), the rule
 * text, and MaxMind DB input from databases tests/tools/mkmmdb.py writes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"
#include "dns/geo.h"
#include "unit.h"

/* A map from rule lines ("" ends them) and, with <db>, the MaxMind DB
 * <db> read at <field>; NULL (after a failed check) if one does not add. */
static struct geo_map *mmdb_map(const char *db, const char *field, const char *const *lines)
{
	struct geo_map *m = geo_map_new();
	char err[GEO_ERR_MAX];

	if (!m)
		return NULL;
	if (db && geo_map_set_mmdb(m, db, field, err)) {
		unit_fail(__FILE__, __LINE__, "%s", err);
		geo_map_free(m);
		return NULL;
	}
	for (; **lines; lines++)
		if (geo_map_add_line(m, *lines, err)) {
			unit_fail(__FILE__, __LINE__, "'%s': %s", *lines, err);
			geo_map_free(m);
			return NULL;
		}
	if (geo_map_finish(m)) {
		geo_map_free(m);
		return NULL;
	}
	return m;
}

static struct geo_map *map_of(const char *const *lines)
{
	return mmdb_map(NULL, NULL, lines);
}

/* The answer's list as "a,b" in <buf>. */
static const char *names(const struct geo_map *m, const struct geo_list *l, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < l->n && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "",
					geo_loc_name(m, l->loc[i]));
	return buf;
}

/* Looks up text address <ip> with <source> bits; "list/scope" in <buf>. */
static const char *ask(const struct geo_map *m, const char *ip, unsigned source, char *buf)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	struct geo_answer ans;
	char l[128];

	if (inet_pton(fam, ip, a) != 1 || geo_lookup(m, fam, a, source, &ans))
		return "(lookup failed)";
	snprintf(buf, 160, "%s/%u", names(m, ans.list, l, sizeof(l)), ans.scope);
	return buf;
}

#define ASK(m, ip, src, want) do { char ab_[160]; CHECK_STR(ask(m, ip, src, ab_), want); } while (0)

TEST(geo_longest_prefix_wins)
{
	static const char *const rules[] = {
		"10.0.0.0/8 -> fra, ams", "10.1.0.0/16 -> ams", "10.1.2.0/24 -> par",
		"# a comment", "   ", "default -> lon", "",
	};
	struct geo_map *m = map_of(rules);

	REQUIRE(m);
	ASK(m, "10.2.3.4", 32, "fra,ams/15");  /* 10.1/16 is 14 bits away: scope 15 */
	ASK(m, "10.128.0.1", 32, "fra,ams/9"); /* the half of 10/8 with no rule */
	ASK(m, "10.1.9.9", 32, "ams/21");      /* 10.1.2/24 shares 20 bits */
	ASK(m, "10.1.2.3", 32, "par/24");
	ASK(m, "11.1.1.1", 32, "lon/8");       /* 11/8 and 10/8 share 7 bits */
	ASK(m, "200.1.1.1", 32, "lon/1");
	ASK(m, "2001:db8::1", 128, "lon/0");   /* no IPv6 rule: all of IPv6 */
	geo_map_free(m);
}

TEST(geo_ipv6_scopes_and_host_routes)
{
	static const char *const rules[] = {
		"2001:db8::/32 -> ams", "2001:db8:1::/48 -> fra", "2001:db8:1::1/128 -> par",
		"192.0.2.1 -> nyc", "",
	};
	struct geo_map *m = map_of(rules);

	REQUIRE(m);
	ASK(m, "2001:db8:2::1", 128, "ams/47");
	ASK(m, "2001:db8:1:2::", 128, "fra/63");
	ASK(m, "2001:db8:1::1", 128, "par/128");
	ASK(m, "2001:db8:1::", 128, "fra/128");  /* the host route's neighbour */
	ASK(m, "2001:db9::", 128, "/32");        /* outside: no default, no list */
	ASK(m, "192.0.2.1", 32, "nyc/32");
	ASK(m, "192.0.2.0", 32, "/32");
	ASK(m, "192.0.2.128", 32, "/25");
	geo_map_free(m);
}

TEST(geo_default_only_and_slash_zero)
{
	static const char *const dflt[] = { "default -> fra", "" };
	static const char *const zero[] = { "0.0.0.0/0 -> ams", "default -> fra", "" };
	static const char *const none[] = { "" };
	struct geo_map *m = map_of(dflt), *z = map_of(zero), *e = map_of(none);

	REQUIRE(m && z && e);
	ASK(m, "10.2.3.4", 32, "fra/0");
	ASK(m, "2001:db8::1", 56, "fra/0");
	ASK(z, "10.2.3.4", 24, "ams/0");
	ASK(z, "2001:db8::1", 56, "fra/0");
	ASK(e, "10.2.3.4", 24, "/0");
	geo_map_free(m);
	geo_map_free(z);
	geo_map_free(e);
}

/* RFC 7871 7.2.1: a source prefix too short to pick one answer gets the
 * answer of the address extended with zeros and a scope longer than the
 * source; one longer than needed gets a shorter scope. */
TEST(geo_source_prefix_shorter_than_the_rule)
{
	static const char *const rules[] = { "10.0.0.0/8 -> fra", "10.1.0.0/16 -> ams", "" };
	struct geo_map *m = map_of(rules);

	REQUIRE(m);
	ASK(m, "10.0.0.0", 8, "fra/16");
	ASK(m, "10.1.2.3", 12, "fra/16");  /* bits past the source are not looked at */
	ASK(m, "10.1.0.0", 16, "ams/16");
	ASK(m, "10.1.2.0", 24, "ams/16");
	ASK(m, "10.2.0.0", 24, "fra/15");
	ASK(m, "0.0.0.0", 0, "/5");        /* 0/5 holds no rule */
	geo_map_free(m);
}

TEST(geo_equal_answers_fold_into_one_scope)
{
	static const char *const same[] = { "10.0.0.0/8 -> fra", "10.1.0.0/16 -> fra", "" };
	static const char *const dflt[] = { "default -> fra", "10.0.0.0/8 -> fra",
					    "10.1.0.0/16 -> ams", "" };
	struct geo_map *m = map_of(same), *d = map_of(dflt);

	REQUIRE(m && d);
	ASK(m, "10.1.2.3", 32, "fra/8");
	ASK(d, "200.1.1.1", 32, "fra/1");
	ASK(d, "10.2.3.4", 32, "fra/15");
	ASK(d, "11.0.0.1", 32, "fra/8");   /* 10.1/16 is 7 bits away */
	CHECK_EQ(geo_list_count(d), 3);    /* the empty list, fra, ams */
	geo_map_free(m);
	geo_map_free(d);
}

TEST(geo_names_and_lists)
{
	static const char *const rules[] = { "10.0.0.0/8 -> fra, ams", "11.0.0.0/8 -> fra,ams",
					     "12.0.0.0/8 -> ams,fra", "" };
	struct geo_map *m = map_of(rules);
	uint8_t a[4] = { 11, 0, 0, 1 }, b[4] = { 10, 0, 0, 1 };
	struct geo_answer x, y;

	REQUIRE(m);
	CHECK_EQ(geo_loc_count(m), 2);
	CHECK_EQ(geo_loc_find(m, "ams"), 1);
	CHECK_EQ(geo_loc_find(m, "par"), -ENOENT);
	CHECK_STR(geo_loc_name(m, 0), "fra");
	CHECK(geo_loc_name(m, 2) == NULL);
	CHECK_EQ(geo_list_count(m), 3);    /* order matters: fra,ams != ams,fra */
	CHECK_EQ(geo_lookup(m, AF_INET, a, 32, &x), 0);
	CHECK_EQ(geo_lookup(m, AF_INET, b, 32, &y), 0);
	CHECK_EQ(x.list_id, y.list_id);
	CHECK(geo_list_get(m, x.list_id) == x.list);
	CHECK(geo_list_get(m, 3) == NULL);
	CHECK_EQ(geo_lookup(m, AF_UNIX, a, 32, &x), -EAFNOSUPPORT);
	geo_map_free(m);
}

TEST(geo_bad_rules_say_why)
{
	static const struct { const char *line; int rc; const char *says; } bad[] = {
		{ "10.0.0.1/8 -> fra", -EINVAL, "bits set past the prefix" },
		{ "10.0.0.0/33 -> fra", -EINVAL, "bad prefix length" },
		{ "10.0.0.0/ -> fra", -EINVAL, "no prefix length" },
		{ "10.0.0/8 -> fra", -EINVAL, "not a network" },
		{ "10.0.0.0/8 -> ", -EINVAL, "no location" },
		{ "10.0.0.0/8 fra", -EINVAL, "expected" },
		{ "10.0.0.0/8 -> fra, fra", -EINVAL, "a location twice" },
		{ "10.0.0.0/8 -> fr!a", -EINVAL, "letters, digits" },
		{ "-> fra", -EINVAL, "nothing to match" },
		{ "10.0.0.0/8 -> a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", -EINVAL, "more than 16" },
		{ "DE,AT -> fra", -EINVAL, "not a network, 'default' or a key" },
		{ "1.0.0.0/8 -> fra", -EEXIST, "second rule for this network" },
		{ "default -> ams", -EEXIST, "second default" },
		{ "de -> ams", -EEXIST, "second rule for this key" },
	};
	struct geo_map *m = geo_map_new();
	char err[GEO_ERR_MAX];

	REQUIRE(m);
	REQUIRE(geo_map_add_line(m, "1.0.0.0/8 -> fra", err) == 0);
	REQUIRE(geo_map_add_line(m, "default -> fra", err) == 0);
	REQUIRE(geo_map_add_line(m, "DE -> fra", err) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		CHECK_EQ(geo_map_add_line(m, bad[i].line, err), bad[i].rc);
		if (!strstr(err, bad[i].says))
			unit_fail(__FILE__, __LINE__, "'%s': '%s' lacks '%s'", bad[i].line, err,
				  bad[i].says);
	}
	REQUIRE(geo_map_finish(m) == 0);
	CHECK_EQ(geo_map_add_line(m, "2.0.0.0/8 -> fra", err), -EINVAL);
	geo_map_free(m);
}

/* --- random tables against a brute-force reference --------------------- */

typedef unsigned __int128 u128;

struct rrule {
	u128 start, end;  /* in the family's width, right-aligned */
	unsigned plen;
	const char *locs;
};

static u128 rnd_bits(unsigned n)
{
	u128 v = 0;

	for (unsigned i = 0; i < n; i += 16)
		v = (v << 16) | (u128)(rand() & 0xffff);
	return n >= 128 ? v : v & (((u128)1 << n) - 1);
}

static u128 pmask(unsigned plen, unsigned width) /* the host bits of /plen */
{
	return plen >= width ? 0 : width - plen >= 128 ? ~(u128)0 :
	       (((u128)1 << (width - plen)) - 1);
}

/* The reference answer: the longest rule holding <a>, by scanning all. */
static const char *ref_answer(const struct rrule *r, size_t n, u128 a, const char *dflt)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (a >= r[i].start && a <= r[i].end && (best < 0 || r[i].plen > r[best].plen))
			best = (int)i;
	return best < 0 ? dflt : r[best].locs;
}

/* Whether every address of <p>/<plen> gets the answer <want>: the answer
 * only changes where a rule starts or just past where one ends, so those
 * points inside the prefix and its start are all the places to look. */
static bool ref_uniform(const struct rrule *r, size_t n, u128 p, unsigned plen,
			unsigned width, const char *dflt, const char *want)
{
	u128 end = p | pmask(plen, width);

	if (strcmp(ref_answer(r, n, p, dflt), want))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (r[i].start > p && r[i].start <= end &&
		    strcmp(ref_answer(r, n, r[i].start, dflt), want))
			return false;
		if (r[i].end >= p && r[i].end < end &&
		    strcmp(ref_answer(r, n, r[i].end + 1, dflt), want))
			return false;
	}
	return true;
}

static void to_bytes(u128 a, unsigned width, uint8_t *out)
{
	for (unsigned i = 0; i < width / 8; i++)
		out[i] = (uint8_t)(a >> (width - 8 - 8 * i));
}

static void random_table(int fam, unsigned width, unsigned seed)
{
	static const char *const lists[] = { "fra", "ams", "fra,ams", "par" };
	struct rrule r[24];
	u128 base[4];
	size_t n = 0;
	const char *dflt;
	struct geo_map *m = geo_map_new();
	char err[GEO_ERR_MAX], ip[INET6_ADDRSTRLEN], text[160];
	uint8_t bytes[16];

	REQUIRE(m);
	srand(seed);
	dflt = rand() % 2 ? "lon" : "";
	for (int i = 0; i < 4; i++)
		base[i] = rnd_bits(width);
	if (*dflt)
		REQUIRE(geo_map_add(m, "default", dflt, err) == 0);
	for (size_t want = (size_t)(rand() % 24); n < want;) {
		unsigned plen = (unsigned)rand() % (width + 1);
		u128 start = (base[rand() % 4] ^ (rand() % 3 ? 0 : rnd_bits(width))) &
			     ~pmask(plen, width);

		to_bytes(start, width, bytes);
		inet_ntop(fam, bytes, ip, sizeof(ip));
		snprintf(text, sizeof(text), "%s/%u", ip, plen);
		r[n] = (struct rrule){ start, start | pmask(plen, width), plen,
				       lists[rand() % 4] };
		if (geo_map_add(m, text, r[n].locs, err) == 0)
			n++;   /* a second rule for one network is refused: skip it */
	}
	REQUIRE(geo_map_finish(m) == 0);
	for (int q = 0; q < 300; q++) {
		u128 a = q % 3 ? base[rand() % 4] ^ rnd_bits((unsigned)rand() % (width + 1))
			       : rnd_bits(width);
		unsigned source = q % 4 ? width : (unsigned)rand() % (width + 1);
		struct geo_answer ans;
		char got[128];
		const char *want;

		to_bytes(a, width, bytes);
		REQUIRE(geo_lookup(m, fam, bytes, source, &ans) == 0);
		a &= ~pmask(source, width);       /* what the lookup may look at */
		want = ref_answer(r, n, a, dflt);
		names(m, ans.list, got, sizeof(got));
		if (strcmp(got, want) ||
		    !ref_uniform(r, n, a & ~pmask(ans.scope, width), ans.scope, width, dflt, want) ||
		    (ans.scope > 0 && ref_uniform(r, n, a & ~pmask(ans.scope - 1u, width),
						  ans.scope - 1u, width, dflt, want))) {
			inet_ntop(fam, bytes, ip, sizeof(ip));
			unit_fail(__FILE__, __LINE__, "seed %u: %s/%u got %s/%u, want %s", seed,
				  ip, source, got, ans.scope, want);
			break;
		}
	}
	geo_map_free(m);
}

TEST(geo_random_tables_match_the_reference)
{
	for (unsigned seed = 1; seed <= 200; seed++) {
		random_table(AF_INET, 32, seed);
		random_table(AF_INET6, 128, seed + 1000);
		if (unit_failed_now)
			return;
	}
}

/* One lookup of a 10,000-rule table costs well under a microsecond. */
TEST(geo_lookup_is_fast)
{
	struct geo_map *m = geo_map_new();
	char err[GEO_ERR_MAX], text[64];
	uint8_t a[4];
	struct geo_answer ans;
	uint64_t t0, sum = 0;
	const int n = 200000;

	REQUIRE(m);
	srand(7);
	for (int i = 0; i < 10000; i++) {
		unsigned plen = 8 + (unsigned)rand() % 17, v = (unsigned)rand();

		v &= ~0u << (32 - plen);
		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", v >> 24, (v >> 16) & 255,
			 (v >> 8) & 255, v & 255, plen);
		geo_map_add(m, text, i % 2 ? "fra" : "ams", err);
	}
	REQUIRE(geo_map_finish(m) == 0);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i * 2654435761u;

		memcpy(a, &v, 4);
		geo_lookup(m, AF_INET, a, 32, &ans);
		sum += ans.scope;
	}
	t0 = now_ns() - t0;
	CHECK(sum > 0);
	CHECK(t0 / n < 1000); /* ns, even under ASan */
	geo_map_free(m);
}

/* --- MaxMind DB --------------------------------------------------------- */

static const char mmdb_v4[] =
	"[[\"10.0.0.0/8\", {\"country\": {\"iso_code\": \"DE\"}}],"
	" [\"10.1.0.0/16\", {\"country\": {\"iso_code\": \"NL\"}}]]";
static const char mmdb_records[] =
	"[[\"10.0.0.0/8\", {\"country\": {\"iso_code\": \"DE\", \"geoname_id\": 2921044},"
	"  \"continent\": {\"code\": \"EU\"}}],"
	" [\"10.1.0.0/16\", {\"country\": {\"iso_code\": \"NL\"}, \"continent\": {\"code\": \"EU\"}}],"
	" [\"192.0.2.0/24\", {\"country\": {\"iso_code\": \"US\"}, \"continent\": {\"code\": \"NA\"}}],"
	" [\"2001:db8::/32\", {\"country\": {\"iso_code\": \"FR\"}, \"continent\": {\"code\": \"EU\"}}],"
	" [\"2001:db8:1::/48\", {\"continent\": {\"code\": \"AS\"}}],"
	" [\"2001:db8:2::/48\", {\"country\": {\"iso_code\": \"DE\"},"
	"  \"city\": {\"names\": {\"en\": \"Frankfurt am Main\"}}}]]";

/* Writes a MaxMind DB of mmdb_records to <path> with tests/tools/mkmmdb.py
 * (run from the source tree's top, as make runs the unit tests). */
static bool mkmmdb(const char *path, const char *args, const char *records)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "python3 tests/tools/mkmmdb.py %s %s", args, path);
	p = popen(cmd, "w");
	if (!p)
		return false;
	fputs(records, p);
	if (pclose(p) != 0) {
		unit_fail(__FILE__, __LINE__, "'%s' failed (run from the top of the tree)", cmd);
		return false;
	}
	return true;
}

struct tmpdir {
	char dir[32], db[64];
};

static bool tmp_open(struct tmpdir *t)
{
	strcpy(t->dir, "/tmp/weir-geo-XXXXXX");
	if (!mkdtemp(t->dir))
		return false;
	snprintf(t->db, sizeof(t->db), "%s/t.mmdb", t->dir);
	return true;
}

static void tmp_close(struct tmpdir *t)
{
	unlink(t->db);
	rmdir(t->dir);
}

TEST(geo_mmdb_countries_and_scopes)
{
	static const char *const sizes[] = { "--record-size 24", "--record-size 28",
					     "--record-size 32" };
	static const char *const rules[] = { "DE -> fra, ams", "nl -> ams", "US -> nyc",
					     "default -> lon", "" };
	struct tmpdir t;

	REQUIRE(tmp_open(&t));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct geo_map *m;

		if (!mkmmdb(t.db, sizes[i], mmdb_records) || !(m = mmdb_map(t.db, "country iso_code", rules)))
			break;
		ASK(m, "10.2.3.4", 32, "fra,ams/15");   /* the DB's network: 10.2/15 */
		ASK(m, "10.1.2.3", 32, "ams/16");       /* keys match in any case */
		ASK(m, "192.0.2.7", 24, "nyc/24");
		ASK(m, "198.51.100.1", 24, "lon/6");    /* no record in 192/6 minus 192.0.2/24 */
		ASK(m, "10.0.0.0", 8, "fra,ams/16");    /* a short source: scope past it */
		ASK(m, "2001:db8:3::1", 56, "lon/48");  /* FR: no rule, the default */
		ASK(m, "2001:db8:1::5", 56, "lon/48");  /* a record without a country */
		ASK(m, "2001:db8:2::", 48, "fra,ams/48");
		geo_map_free(m);
	}
	tmp_close(&t);
}

TEST(geo_mmdb_fields_networks_and_ipv4_databases)
{
	static const char *const cont[] = { "EU -> ams", "NA -> nyc", "", };
	static const char *const city[] = { "Frankfurt am Main -> fra", "default -> lon", "" };
	static const char *const id[] = { "2921044 -> fra", "" };
	static const char *const nets[] = { "DE -> fra", "10.1.0.0/16 -> par",
					    "10.3.0.0/16 -> fra", "default -> lon", "" };
	struct tmpdir t;
	struct geo_map *m;

	REQUIRE(tmp_open(&t));
	REQUIRE(mkmmdb(t.db, "", mmdb_records));
	if ((m = mmdb_map(t.db, "continent code", cont))) {
		ASK(m, "10.1.2.3", 32, "ams/16");
		ASK(m, "192.0.2.1", 32, "nyc/24");
		ASK(m, "172.16.0.1", 32, "/2");     /* no record, no default: no preference */
		geo_map_free(m);
	}
	if ((m = mmdb_map(t.db, "  city names en ", city))) {
		ASK(m, "2001:db8:2::1", 128, "fra/48");
		ASK(m, "2001:db8::1", 128, "lon/48");
		geo_map_free(m);
	}
	if ((m = mmdb_map(t.db, "country geoname_id", id))) {
		ASK(m, "10.9.0.1", 32, "fra/13");
		geo_map_free(m);
	}
	/* network rules first; where none holds, the longer of the rule-free
	 * prefix and the DB's network */
	if ((m = mmdb_map(t.db, "country iso_code", nets))) {
		ASK(m, "10.1.2.3", 32, "par/16");
		ASK(m, "10.3.2.3", 32, "fra/16");
		ASK(m, "10.2.3.4", 32, "fra/16");   /* the DB says /15, the rules /16 */
		ASK(m, "10.128.0.1", 32, "fra/9");
		geo_map_free(m);
	}
	REQUIRE(mkmmdb(t.db, "--ip-version 4", mmdb_v4));
	if ((m = mmdb_map(t.db, "country iso_code", nets))) {
		ASK(m, "10.2.3.4", 32, "fra/16");
		ASK(m, "2001:db8::1", 128, "lon/0");  /* an IPv4 DB knows no IPv6 */
		geo_map_free(m);
	}
	tmp_close(&t);
}

TEST(geo_mmdb_missing_and_corrupt_files)
{
	struct geo_map *m = geo_map_new();
	char err[GEO_ERR_MAX], bad[96];
	struct tmpdir t;
	FILE *f;
	long size;
	char *buf, *marker;

	REQUIRE(m);
	REQUIRE(tmp_open(&t));
	CHECK(geo_map_set_mmdb(m, "/nonexistent/geo.mmdb", "country iso_code", err) < 0);
	CHECK_STR(err, "/nonexistent/geo.mmdb: No such file or directory");

	f = fopen(t.db, "w");
	REQUIRE(f);
	fputs("this is not a MaxMind DB\n", f);
	fclose(f);
	CHECK(geo_map_set_mmdb(m, t.db, "country iso_code", err) < 0);
	snprintf(bad, sizeof(bad), "%s: ", t.db);
	CHECK(strncmp(err, bad, strlen(bad)) == 0 && strlen(err) > strlen(bad) + 5);

	/* a real DB cut short inside its metadata */
	REQUIRE(mkmmdb(t.db, "", mmdb_records));
	f = fopen(t.db, "r+");
	REQUIRE(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	buf = malloc((size_t)size);
	REQUIRE(buf);
	rewind(f);
	REQUIRE(fread(buf, 1, (size_t)size, f) == (size_t)size);
	fclose(f);
	marker = memmem(buf, (size_t)size, "MaxMind.com", 11);
	REQUIRE(marker);
	REQUIRE(truncate(t.db, (off_t)(marker - buf + 11 + 20)) == 0);
	free(buf);
	CHECK(geo_map_set_mmdb(m, t.db, "country iso_code", err) < 0);
	CHECK(strncmp(err, bad, strlen(bad)) == 0);

	CHECK_EQ(geo_map_set_mmdb(m, t.db, "   ", err), -EINVAL);
	CHECK(strstr(err, "as words") != NULL);

	/* a good file replaces the map's DB; a failed open after leaves it */
	REQUIRE(mkmmdb(t.db, "", mmdb_records));
	CHECK_EQ(geo_map_set_mmdb(m, t.db, "country iso_code", err), 0);
	CHECK_EQ(geo_map_set_mmdb(m, t.db, "continent code", err), 0);
	CHECK(geo_map_set_mmdb(m, "/nonexistent/geo.mmdb", "country iso_code", err) < 0);
	CHECK_EQ(geo_map_add_line(m, "EU -> ams", err), 0);
	REQUIRE(geo_map_finish(m) == 0);
	ASK(m, "10.1.2.3", 32, "ams/16");
	tmp_close(&t);
	geo_map_free(m);
}
