/* test_limits.c - the limits the config takes are the parsers' own: the
 * HTTP body limit a service may set (its option row) is the HTTP parser's
 * limit. */
#include "core/option.h"
#include "proto/http.h"
#include "unit.h"

TEST(limits_body_is_the_parsers)
{
	const struct opt_ref *r = opt_find_key(OPT_SVC, "max_body_size");

	REQUIRE(r != NULL);
	CHECK_EQ(r->row->max, HTTP_MAX_BODY);
}
