/* test_route.c - routing rules (src/proxy/route.c): each condition alone,
 * together, first match wins. */
#include <string.h>
#include <strings.h>

#include "proxy/route.h"
#include "unit.h"

static struct virtual_service *no_pool(void *arg, const char *name)
{
	return NULL;
}

static const char *hdr(void *arg, const char *name, size_t *len)
{
	const char *const *h = arg;

	for (; h[0]; h += 2)
		if (strcasecmp(h[0], name) == 0) {
			*len = strlen(h[1]);
			return h[1];
		}
	return NULL;
}

/* Index of the rule matched, or -1. */
static int which(const struct route_table *t, const char *method, const char *host,
		 const char *path, const char *const *headers)
{
	struct route_req q = {
		.method = method, .method_len = strlen(method),
		.host = host, .host_len = host ? strlen(host) : 0,
		.path = path, .path_len = strlen(path),
		.header = hdr, .arg = (void *)headers,
	};
	const struct route *r = route_match(t, &q);

	return r ? (int)(r - t->r) : -1;
}

TEST(route_conditions)
{
	struct route_spec s[5];
	static const char *const none[] = { NULL };
	static const char *const mobile[] = { "User-Agent", "x Android y", NULL };
	struct route_table *t;

	memset(s, 0, sizeof(s));
	strcpy(s[0].host, "*.example.com");
	strcpy(s[1].host, "exact.org");
	strcpy(s[2].path_prefix, "/static/");
	strcpy(s[2].path_regex, "\\.png$");
	strcpy(s[3].header, "user-agent");
	strcpy(s[3].header_regex, "Android|iPhone");
	strcpy(s[4].method, "POST");
	t = route_table_build(s, 5);
	REQUIRE(t);
	route_table_bind(t, no_pool, NULL);
	CHECK_EQ(which(t, "GET", "a.example.com", "/", none), 0);
	CHECK_EQ(which(t, "GET", "A.B.EXAMPLE.COM:8080", "/", none), 0);
	CHECK_EQ(which(t, "GET", "example.com", "/", none), -1);
	CHECK_EQ(which(t, "GET", "badexample.com", "/", none), -1);
	CHECK_EQ(which(t, "GET", "exact.org", "/", none), 1);
	CHECK_EQ(which(t, "GET", "exact.org:80", "/", none), 1);
	CHECK_EQ(which(t, "GET", "x.exact.org", "/", none), -1);
	CHECK_EQ(which(t, "GET", NULL, "/static/a.png", none), 2);
	CHECK_EQ(which(t, "GET", NULL, "/static/a.css", none), -1);
	CHECK_EQ(which(t, "GET", NULL, "/a.png", none), -1);
	CHECK_EQ(which(t, "GET", NULL, "/", mobile), 3);
	CHECK_EQ(which(t, "POST", NULL, "/", none), 4);
	/* first match wins */
	CHECK_EQ(which(t, "POST", "a.example.com", "/", mobile), 0);
	route_table_put(t);
}

TEST(route_bad_regex)
{
	struct route_spec s;

	memset(&s, 0, sizeof(s));
	strcpy(s.path_regex, "(");
	CHECK(route_table_build(&s, 1) == NULL);
}

static struct virtual_service *note_pool(void *arg, const char *name)
{
	char *seen = arg;

	strcat(seen, name);
	strcat(seen, ",");
	return NULL;
}

/* Built from the config first, bound to the live pools later: each rule
 * asks for the pool it names. */
TEST(route_bind_asks_for_each_pool)
{
	struct route_spec s[3];
	struct route_table *t;
	char seen[128] = "";

	memset(s, 0, sizeof(s));
	strcpy(s[0].pool, "static");
	strcpy(s[1].pool, "default");
	strcpy(s[2].pool, "api");
	t = route_table_build(s, 3);
	REQUIRE(t);
	CHECK(!t->r[0].pool && !t->r[2].pool);
	route_table_bind(t, note_pool, seen);
	CHECK_STR(seen, "static,default,api,");
	route_table_put(t);
}
