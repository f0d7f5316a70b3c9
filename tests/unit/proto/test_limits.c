/* test_limits.c - the limits the config takes are the parsers' own: the
 * core states them without including proto/ (layering), so they are
 * compared here, where both are visible. */
#include "core/spec.h"
#include "proto/http.h"
#include "unit.h"

_Static_assert(SPEC_MAX_BODY == HTTP_MAX_BODY,
	       "the body limit a service may set is the HTTP parser's limit");

TEST(limits_body_is_the_parsers)
{
	CHECK_EQ(SPEC_MAX_BODY, HTTP_MAX_BODY);
}
