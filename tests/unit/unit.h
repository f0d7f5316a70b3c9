/*
 * unit.h - the unit-test harness. A test is a function declared with
 * TEST(name); it registers itself at load time. CHECK() records a failure
 * and goes on; REQUIRE() records it and leaves the test. The runner
 * (tests/unit/main.c) runs every test, or those whose name contains argv[1],
 * and ends with the line "N passed, N failed".
 */
#ifndef WEIR_UNIT_H
#define WEIR_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	const char *file;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern int unit_failed_now; /* set by unit_fail during the running test */

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	static struct unit_test unit_t_##name = { #name, __FILE__,         \
						  test_##name, NULL };     \
	__attribute__((constructor)) static void unit_reg_##name(void)    \
	{ unit_register(&unit_t_##name); }                                 \
	static void test_##name(void)

#define CHECK(cond)                                                        \
	do { if (!(cond)) unit_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define REQUIRE(cond)                                                      \
	do { if (!(cond)) { unit_fail(__FILE__, __LINE__, "%s", #cond); return; } } while (0)
#define CHECK_EQ(a, b)                                                     \
	do { long long a_ = (long long)(a), b_ = (long long)(b);           \
	     if (a_ != b_) unit_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
				     #a, #b, a_, b_); } while (0)
#define CHECK_STR(a, b)                                                    \
	do { const char *a_ = (a), *b_ = (b);                              \
	     if (!a_ || !b_ || strcmp(a_, b_) != 0)                         \
		unit_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", \
			  #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

#endif
