/*
 * geo.h - locations for the DNS mode: which ordered list of weir
 * locations a client network prefers, and for how wide a network that
 * answer holds (the EDNS Client Subnet scope, RFC 7871).
 *
 * A map is built on the control thread from rules, one per line of text:
 *
 *     10.0.0.0/8      -> fra, ams     a client network (IPv4 or IPv6 CIDR)
 *     2001:db8::/32   -> ams
 *     DE              -> fra, ams     a MaxMind DB key (the value of the
 *     EU              -> ams          configured field, e.g. a country code)
 *     default         -> fra          everything else
 *
 * and optionally a MaxMind DB file (geo_map_set_mmdb()). A client network
 * rule wins over the MaxMind DB, which wins over the default; without a
 * default, an unmatched client gets the empty list (no preference). A
 * location list is at most GEO_LIST_MAX names; equal lists share one id,
 * so a caller can precompute one answer per list id.
 *
 * Ownership and threads: the map owns its strings, lists and the open
 * MaxMind DB. Until geo_map_finish() it belongs to the thread building it;
 * after, it is read-only and geo_lookup() may run on any number of threads
 * at once with no lock. Reloading is building a new map (which reopens
 * the file) and swapping it in; geo_map_free() once no thread reads the
 * old one.
 */
#ifndef WEIR_DNS_GEO_H
#define WEIR_DNS_GEO_H

#include <stddef.h>
#include <stdint.h>

#define GEO_ERR_MAX  256  /* bytes of an error message, as SPEC_ERR_MAX */
#define GEO_LIST_MAX 16   /* locations in one preference list */
#define GEO_NAME_MAX 32   /* bytes of a location name, its '\0' included */
#define GEO_KEY_MAX  64   /* bytes of a MaxMind DB key, its '\0' included */

struct geo_map;

/* An ordered preference list: loc[0] first; ids index geo_loc_name(). */
struct geo_list {
	uint8_t n;
	uint16_t loc[GEO_LIST_MAX];
};

struct geo_answer {
	const struct geo_list *list; /* never NULL; n == 0: no preference */
	uint32_t list_id;            /* 0 is the empty list */
	uint8_t scope;               /* the ECS SCOPE PREFIX-LENGTH */
};

/* An empty map (every client: the empty list, scope 0), or NULL. */
struct geo_map *geo_map_new(void);
void geo_map_free(struct geo_map *m);

/* Adds the rule "<match> -> <locs>": <match> is a CIDR ("10.0.0.0/8",
 * "2001:db8::/32"; no bits set past the prefix), "default", or a MaxMind
 * DB key (any other word or words, e.g. "DE", "North America");
 * <locs> is "fra, ams" (names of [A-Za-z0-9_.-], commas and spaces
 * between). Before geo_map_finish() only. Returns 0, or -EINVAL with the
 * reason in <err> (GEO_ERR_MAX), -EEXIST for a second rule for the same
 * match, -ENOMEM. */
int geo_map_add(struct geo_map *m, const char *match, const char *locs, char *err);
/* The same from one line "MATCH -> LOCS"; a blank line or one starting
 * with '#' adds nothing. */
int geo_map_add_line(struct geo_map *m, const char *line, char *err);

/* Opens the MaxMind DB at <path> as the second source: a client's record
 * there gives a key, the value at <field> (words naming the path into the
 * record: "country iso_code", "continent code", "city names en"), and the
 * key's rule its list. Before geo_map_finish() only; a second call replaces
 * the first. Returns 0, or an error with "PATH: reason" in <err>
 * (a file that is missing, unreadable or not a MaxMind DB). */
int geo_map_set_mmdb(struct geo_map *m, const char *path, const char *field, char *err);

/* Builds the lookup tables; the map is read-only after. Returns 0 or
 * -ENOMEM. */
int geo_map_finish(struct geo_map *m);

/* Looks up the client network <addr> (4 bytes for AF_INET, 16 for
 * AF_INET6, network order) of which the first <source> bits are known
 * (the ECS SOURCE PREFIX-LENGTH; 32 or 128 for a resolver's own
 * address); bits past <source> are taken as 0. Fills <out>. Returns 0,
 * -EAFNOSUPPORT, or -EINVAL before geo_map_finish(). Any thread, no
 * lock, no allocation; geo.c says how the scope is chosen. */
int geo_lookup(const struct geo_map *m, int family, const uint8_t *addr,
	       unsigned source, struct geo_answer *out);

/* The location names: ids 0 .. geo_loc_count() - 1. */
size_t geo_loc_count(const struct geo_map *m);
const char *geo_loc_name(const struct geo_map *m, uint16_t id);
/* The id of location <name>, or -ENOENT. */
int geo_loc_find(const struct geo_map *m, const char *name);
/* The distinct lists: ids 0 (the empty list) .. geo_list_count() - 1. */
size_t geo_list_count(const struct geo_map *m);
const struct geo_list *geo_list_get(const struct geo_map *m, uint32_t id);

#endif
