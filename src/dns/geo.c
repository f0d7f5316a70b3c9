/*
 * geo.c - the location map of geo.h: client networks and MaxMind DB keys
 * to ordered location lists, with the ECS scope of each answer.
 *
 * While rules are added, the networks go into a plain binary trie per
 * family (one node per prefix bit, a value where a rule ends), so a
 * second rule for the same network is seen at once. geo_map_finish()
 * turns each into a partition trie: every leaf is a prefix in which all
 * addresses get one answer, and it is the widest such prefix, because a
 * node whose two halves are leaves with the same answer is folded into a
 * leaf of its parent's prefix (bottom-up, so by induction a prefix is
 * uniform exactly when its subtree is one leaf). A lookup walks from the
 * root along the address bits to a leaf: the leaf is the answer and its
 * depth the scope. Both come from the one walk; nothing is searched.
 *
 * Complexity: lookup O(W) steps of one array read, W = 32 or 128 at most
 * and in practice the depth of the deepest rule near the address (a few
 * tens of ns); building O(sum of rule prefix lengths) time and nodes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/spec.h"
#include "dns/geo.h"

_Static_assert(GEO_ERR_MAX == SPEC_ERR_MAX, "one error buffer size");

#define LEAF      0x80000000u  /* a trie reference that is a leaf: value below */
#define UNMATCHED 0x7fffffffu  /* leaf value: no network rule, ask the MaxMind DB */
#define NO_VALUE  0xffffffffu  /* build node: no rule ends here */
#define LISTS_MAX (1u << 20)
#define FIELD_WORDS 8

/* A node of the build trie; index 0 of each family is its root. */
struct bnode {
	uint32_t child[2];     /* 0: none (the root is never a child) */
	uint32_t value;        /* list id, or NO_VALUE */
};

/* A trie of one family: the build nodes until finish, then the partition. */
struct trie {
	struct bnode *b;
	size_t nb, capb;
	uint32_t (*node)[2];   /* child refs: a node index, or LEAF | value */
	size_t nn, capn;
	uint32_t root;
};

struct key {
	char s[GEO_KEY_MAX];
	uint32_t list;
};

struct geo_map {
	char (*name)[GEO_NAME_MAX];
	size_t nname, capname;
	struct geo_list *list;
	size_t nlist, caplist;
	struct key *key;
	size_t nkey, capkey;
	struct trie t4, t6;
	uint32_t dflt;
	bool has_dflt, finished, has_mmdb;
	MMDB_s mmdb;
	char field_buf[GEO_KEY_MAX * 2];
	const char *field[FIELD_WORDS + 1]; /* NULL-terminated, into field_buf */
};

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t ncap = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	q = realloc(*p, ncap * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

static int bnode_new(struct trie *t, uint32_t *out)
{
	if (grow(&t->b, &t->capb, t->nb + 1, sizeof(*t->b)))
		return -ENOMEM;
	t->b[t->nb] = (struct bnode){ { 0, 0 }, NO_VALUE };
	*out = (uint32_t)t->nb++;
	return 0;
}

struct geo_map *geo_map_new(void)
{
	struct geo_map *m = calloc(1, sizeof(*m));
	uint32_t root;

	if (!m)
		return NULL;
	/* list 0 is the empty list: the default until one is given */
	if (grow(&m->list, &m->caplist, 1, sizeof(*m->list)) ||
	    bnode_new(&m->t4, &root) || bnode_new(&m->t6, &root)) {
		geo_map_free(m);
		return NULL;
	}
	memset(&m->list[0], 0, sizeof(m->list[0]));
	m->nlist = 1;
	return m;
}

void geo_map_free(struct geo_map *m)
{
	if (!m)
		return;
	if (m->has_mmdb)
		MMDB_close(&m->mmdb);
	free(m->t4.b);
	free(m->t4.node);
	free(m->t6.b);
	free(m->t6.node);
	free(m->name);
	free(m->list);
	free(m->key);
	free(m);
}

/* --- rules -------------------------------------------------------------- */

static int fail(char *err, int rc, const char *fmt, const char *what)
{
	snprintf(err, GEO_ERR_MAX, fmt, what);
	return rc;
}

static int name_id(struct geo_map *m, const char *s, size_t len, uint16_t *id, char *err)
{
	char nm[GEO_NAME_MAX];

	if (len == 0 || len >= GEO_NAME_MAX)
		return fail(err, -EINVAL, "location name '%s': 1 to 31 characters", s);
	memcpy(nm, s, len);
	nm[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)nm[i]) && !strchr("_.-", nm[i]))
			return fail(err, -EINVAL,
				    "location name '%s': letters, digits, '_', '.', '-' only", nm);
	for (size_t i = 0; i < m->nname; i++)
		if (strcmp(m->name[i], nm) == 0) {
			*id = (uint16_t)i;
			return 0;
		}
	if (m->nname > UINT16_MAX)
		return fail(err, -EINVAL, "%s: too many location names", nm);
	if (grow(&m->name, &m->capname, m->nname + 1, sizeof(*m->name)))
		return -ENOMEM;
	memcpy(m->name[m->nname], nm, len + 1);
	*id = (uint16_t)m->nname++;
	return 0;
}

/* Parses "fra, ams" into a list and returns its id in <id> (equal lists
 * share one). */
static int list_id(struct geo_map *m, const char *s, uint32_t *id, char *err)
{
	struct geo_list l = { 0 };
	const char *p = s;

	for (;;) {
		size_t len;
		uint16_t loc;
		int rc;

		p += strspn(p, ", \t");
		if (!*p)
			break;
		len = strcspn(p, ", \t");
		if (l.n == GEO_LIST_MAX)
			return fail(err, -EINVAL, "'%s': more than 16 locations", s);
		rc = name_id(m, p, len, &loc, err);
		if (rc)
			return rc;
		for (unsigned i = 0; i < l.n; i++)
			if (l.loc[i] == loc)
				return fail(err, -EINVAL, "'%s': a location twice", s);
		l.loc[l.n++] = loc;
		p += len;
	}
	if (l.n == 0)
		return fail(err, -EINVAL, "'%s': no location", s);
	for (size_t i = 0; i < m->nlist; i++)
		if (m->list[i].n == l.n && !memcmp(m->list[i].loc, l.loc, l.n * sizeof(l.loc[0]))) {
			*id = (uint32_t)i;
			return 0;
		}
	if (m->nlist >= LISTS_MAX)
		return fail(err, -EINVAL, "%s: too many distinct lists", s);
	if (grow(&m->list, &m->caplist, m->nlist + 1, sizeof(*m->list)))
		return -ENOMEM;
	m->list[m->nlist] = l;
	*id = (uint32_t)m->nlist++;
	return 0;
}

static unsigned bit_at(const uint8_t *a, unsigned i)
{
	return (a[i >> 3] >> (7 - (i & 7))) & 1;
}

/* "A.B.C.D/N", "X::/N", or an address alone (a host). Returns the
 * family, or 0 if <s> is no address, or -EINVAL with the reason. */
static int parse_cidr(const char *s, uint8_t addr[16], unsigned *plen, char *err)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int fam;
	unsigned bits;

	if (len >= sizeof(ip))
		return slash ? fail(err, -EINVAL, "'%s': not a network", s) : 0;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, addr) == 1)
		fam = AF_INET, bits = 32;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		fam = AF_INET6, bits = 128;
	else
		return slash ? fail(err, -EINVAL, "'%s': not a network", s) : 0;
	*plen = bits;
	if (slash) {
		char *end;
		unsigned long n;

		if (!isdigit((unsigned char)slash[1]))
			return fail(err, -EINVAL, "'%s': no prefix length after '/'", s);
		n = strtoul(slash + 1, &end, 10);
		if (*end || n > bits)
			return fail(err, -EINVAL, "'%s': bad prefix length", s);
		*plen = (unsigned)n;
	}
	for (unsigned i = *plen; i < bits; i++)
		if (bit_at(addr, i))
			return fail(err, -EINVAL, "'%s': address bits set past the prefix length", s);
	return fam;
}

static int add_net(struct geo_map *m, int fam, const uint8_t *addr, unsigned plen,
		   uint32_t list, const char *what, char *err)
{
	struct trie *t = fam == AF_INET ? &m->t4 : &m->t6;
	uint32_t n = 0;

	for (unsigned i = 0; i < plen; i++) {
		unsigned b = bit_at(addr, i);
		uint32_t c = t->b[n].child[b];

		if (!c) {
			if (bnode_new(t, &c))
				return -ENOMEM;
			t->b[n].child[b] = c;
		}
		n = c;
	}
	if (t->b[n].value != NO_VALUE)
		return fail(err, -EEXIST, "%s: a second rule for this network", what);
	t->b[n].value = list;
	return 0;
}

static int add_key(struct geo_map *m, const char *s, uint32_t list, char *err)
{
	size_t len = strlen(s);

	if (len >= GEO_KEY_MAX)
		return fail(err, -EINVAL, "'%s': a key is at most 63 bytes", s);
	for (size_t i = 0; i < len; i++)
		if (iscntrl((unsigned char)s[i]) || s[i] == ',')
			return fail(err, -EINVAL, "'%s': not a network, 'default' or a key", s);
	for (size_t i = 0; i < m->nkey; i++)
		if (!strcasecmp(m->key[i].s, s))
			return fail(err, -EEXIST, "%s: a second rule for this key", s);
	if (grow(&m->key, &m->capkey, m->nkey + 1, sizeof(*m->key)))
		return -ENOMEM;
	memcpy(m->key[m->nkey].s, s, len + 1);
	m->key[m->nkey++].list = list;
	return 0;
}

int geo_map_add(struct geo_map *m, const char *match, const char *locs, char *err)
{
	uint8_t addr[16];
	unsigned plen = 0;
	uint32_t list;
	int fam, rc;

	if (m->finished)
		return fail(err, -EINVAL, "%s: the map is already built", match);
	if (!*match)
		return fail(err, -EINVAL, "%snothing to match before '->'", "");
	fam = parse_cidr(match, addr, &plen, err);
	if (fam < 0)
		return fam;
	if (!fam && !strcmp(match, "default") && m->has_dflt)
		return fail(err, -EEXIST, "%s: a second default", match);
	rc = list_id(m, locs, &list, err);
	if (rc)
		return rc;
	if (fam)
		return add_net(m, fam, addr, plen, list, match, err);
	if (!strcmp(match, "default")) {
		m->dflt = list;
		m->has_dflt = true;
		return 0;
	}
	return add_key(m, match, list, err);
}

/* Copies <s> without the blanks at either end into <out> (<cap> bytes). */
static int trim(const char *s, size_t len, char *out, size_t cap)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= cap)
		return -E2BIG;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int geo_map_add_line(struct geo_map *m, const char *line, char *err)
{
	char match[GEO_KEY_MAX + INET6_ADDRSTRLEN], locs[GEO_LIST_MAX * (GEO_NAME_MAX + 2)];
	const char *arrow = strstr(line, "->");
	size_t skip = strspn(line, " \t\r\n");

	if (!line[skip] || line[skip] == '#')
		return 0;
	if (!arrow) {
		snprintf(err, GEO_ERR_MAX, "'%.200s': expected 'NETWORK|KEY|default -> LOC[, LOC...]'",
			 line + skip);
		return -EINVAL;
	}
	if (trim(line, (size_t)(arrow - line), match, sizeof(match)) ||
	    trim(arrow + 2, strlen(arrow + 2), locs, sizeof(locs))) {
		snprintf(err, GEO_ERR_MAX, "'%.200s': too long", line + skip);
		return -EINVAL;
	}
	return geo_map_add(m, match, locs, err);
}

/* --- the MaxMind DB ----------------------------------------------------- */

int geo_map_set_mmdb(struct geo_map *m, const char *path, const char *field, char *err)
{
	char buf[sizeof(m->field_buf)], *w, *save = NULL;
	const char *word[FIELD_WORDS];
	MMDB_s db;
	int status, n = 0;

	if (m->finished)
		return fail(err, -EINVAL, "%s: the map is already built", path);
	if (trim(field, strlen(field), buf, sizeof(buf)) || !buf[0])
		return fail(err, -EINVAL, "%s: give the field as words, e.g. 'country iso_code'",
			    path);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == FIELD_WORDS)
			return fail(err, -EINVAL, "%s: a field of more than 8 words", path);
		word[n++] = w;
	}
	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (status != MMDB_SUCCESS) {
		int e = errno;

		if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && e) {
			snprintf(err, GEO_ERR_MAX, "%s: %s", path, strerror(e));
			return -e;
		}
		snprintf(err, GEO_ERR_MAX, "%s: %s", path, MMDB_strerror(status));
		return status == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -EINVAL;
	}
	if (m->has_mmdb)
		MMDB_close(&m->mmdb);
	m->mmdb = db;
	m->has_mmdb = true;
	memcpy(m->field_buf, buf, sizeof(buf));
	for (int i = 0; i < n; i++)
		m->field[i] = m->field_buf + (word[i] - buf);
	m->field[n] = NULL;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct key *)a)->s, ((const struct key *)b)->s);
}

/* The list of the key at <field> of the record <entry>: the default when
 * the record has no such field, one of a type that is no key, or a key no
 * rule names. */
static uint32_t mmdb_list(const struct geo_map *m, MMDB_entry_s *entry)
{
	MMDB_entry_data_s d;
	struct key k, *hit;
	unsigned long long v;

	if (MMDB_aget_value(entry, &d, m->field) != MMDB_SUCCESS || !d.has_data)
		return m->dflt;
	switch (d.type) {
	case MMDB_DATA_TYPE_UTF8_STRING:
		if (d.data_size >= sizeof(k.s))
			return m->dflt;
		memcpy(k.s, d.utf8_string, d.data_size);
		k.s[d.data_size] = '\0';
		break;
	case MMDB_DATA_TYPE_UINT16: v = d.uint16; goto number;
	case MMDB_DATA_TYPE_UINT32: v = d.uint32; goto number;
	case MMDB_DATA_TYPE_UINT64: v = d.uint64; goto number;
	number:
		snprintf(k.s, sizeof(k.s), "%llu", v);
		break;
	default:
		return m->dflt;
	}
	hit = m->nkey ? bsearch(&k, m->key, m->nkey, sizeof(*m->key), key_cmp) : NULL;
	return hit ? hit->list : m->dflt;
}

/* The list for the client <a> (source bits kept, the rest 0) from the
 * MaxMind DB; <scope> becomes the prefix length of the DB's network
 * holding it (for an IPv4 client of an IPv6 DB, counted from the IPv4
 * subtree at ::/96). */
static uint32_t mmdb_lookup(const struct geo_map *m, int fam, const uint8_t *a,
			    unsigned *scope)
{
	union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } u;
	MMDB_lookup_result_s r;
	int e;

	memset(&u, 0, sizeof(u));
	u.sa.sa_family = (sa_family_t)fam;
	if (fam == AF_INET)
		memcpy(&u.in.sin_addr, a, 4);
	else
		memcpy(&u.in6.sin6_addr, a, 16);
	r = MMDB_lookup_sockaddr(&m->mmdb, &u.sa, &e);
	if (e != MMDB_SUCCESS) {
		*scope = 0; /* an IPv6 client of an IPv4 DB: no answer in all of it */
		return m->dflt;
	}
	*scope = r.netmask;
	if (fam == AF_INET && m->mmdb.metadata.ip_version == 6)
		*scope = r.netmask > 96 ? r.netmask - 96 : 0;
	return r.found_entry ? mmdb_list(m, &r.entry) : m->dflt;
}

/* --- building and looking up -------------------------------------------- */

/* The partition reference for the build subtree at <n>, whose prefix gets
 * <inherited> where no rule inside it says otherwise. Recursion depth is
 * at most the address width. */
static int emit(struct trie *t, uint32_t n, uint32_t inherited, uint32_t *ref)
{
	const struct bnode *b = &t->b[n];
	uint32_t v = b->value != NO_VALUE ? b->value : inherited, r[2];
	int rc;

	for (unsigned i = 0; i < 2; i++) {
		r[i] = LEAF | v;
		if (b->child[i] && (rc = emit(t, b->child[i], v, &r[i])))
			return rc;
	}
	if (r[0] == r[1] && (r[0] & LEAF)) {
		*ref = r[0]; /* both halves answer alike: one leaf for the prefix */
		return 0;
	}
	if (grow(&t->node, &t->capn, t->nn + 1, sizeof(*t->node)))
		return -ENOMEM;
	t->node[t->nn][0] = r[0];
	t->node[t->nn][1] = r[1];
	*ref = (uint32_t)t->nn++;
	return 0;
}

int geo_map_finish(struct geo_map *m)
{
	/* without a MaxMind DB the default is the answer where no network
	 * rule is, so it folds with rules of the same list */
	uint32_t base = m->has_mmdb ? UNMATCHED : m->dflt;
	int rc;

	if (m->finished)
		return -EINVAL;
	if ((rc = emit(&m->t4, 0, base, &m->t4.root)) || (rc = emit(&m->t6, 0, base, &m->t6.root)))
		return rc;
	free(m->t4.b);
	free(m->t6.b);
	m->t4.b = m->t6.b = NULL;
	if (m->nkey)
		qsort(m->key, m->nkey, sizeof(*m->key), key_cmp);
	m->finished = true;
	return 0;
}

/*
 * The scope (RFC 7871 section 7.2.1): the SCOPE PREFIX-LENGTH names the
 * network the answer is intended for, and an authoritative server "MUST
 * NOT overlap prefixes": every address inside the scope must get this same
 * answer, or a cache holding it would hand it to clients it is wrong for.
 * So the scope is the length of the widest prefix around the address in
 * which every address gets the same list: the depth of the partition
 * leaf. It may be shorter than SOURCE PREFIX-LENGTH (the answer suits a
 * broader network, down to 0 for all of the family) or longer: the
 * source prefix was not specific enough to select one answer, and the
 * answer given is the one for the address extended with 0 bits to the
 * scope's length (section 7.2.1 again: "the ADDRESS MUST be extended to
 * SCOPE PREFIX-LENGTH significant bits"), which resolvers then query for
 * with the longer prefix. It is never cut to the source length, which
 * would claim the answer for addresses inside the source network that get
 * another one. For a client no network rule matches and a MaxMind DB is
 * open, the answer holds where both the rule-free prefix and the DB's
 * network of the record hold: the longer of the two.
 */
int geo_lookup(const struct geo_map *m, int family, const uint8_t *addr,
	       unsigned source, struct geo_answer *out)
{
	const struct trie *t;
	uint8_t a[16] = { 0 };
	unsigned width, depth = 0;
	uint32_t ref, v;

	if (!m->finished)
		return -EINVAL;
	if (family == AF_INET)
		t = &m->t4, width = 32;
	else if (family == AF_INET6)
		t = &m->t6, width = 128;
	else
		return -EAFNOSUPPORT;
	if (source > width)
		source = width;
	memcpy(a, addr, (source + 7) / 8);
	if (source & 7)
		a[source / 8] &= (uint8_t)(0xff00 >> (source & 7));
	for (ref = t->root; !(ref & LEAF); depth++)
		ref = t->node[ref][bit_at(a, depth)];
	v = ref & ~LEAF;
	if (v == UNMATCHED) {
		unsigned s;

		v = mmdb_lookup(m, family, a, &s);
		if (s > depth)
			depth = s;
	}
	out->list = &m->list[v];
	out->list_id = v;
	out->scope = (uint8_t)depth;
	return 0;
}

size_t geo_loc_count(const struct geo_map *m)
{
	return m->nname;
}

const char *geo_loc_name(const struct geo_map *m, uint16_t id)
{
	return id < m->nname ? m->name[id] : NULL;
}

int geo_loc_find(const struct geo_map *m, const char *name)
{
	for (size_t i = 0; i < m->nname; i++)
		if (!strcmp(m->name[i], name))
			return (int)i;
	return -ENOENT;
}

size_t geo_list_count(const struct geo_map *m)
{
	return m->nlist;
}

const struct geo_list *geo_list_get(const struct geo_map *m, uint32_t id)
{
	return id < m->nlist ? &m->list[id] : NULL;
}
