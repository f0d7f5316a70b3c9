/* main.c - runs the registered unit tests; see unit.h. */
#include <stdarg.h>
#include <stdlib.h>

#include "register.h"
#include "unit.h"

static struct unit_test *head, **tail = &head;
int unit_failed_now;

void unit_register(struct unit_test *t)
{
	*tail = t;
	tail = &t->next;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	unit_failed_now = 1;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	/* the tests' packet-mode services must never attach the data path to
	 * this machine's interfaces (src/xdp/attach.c) */
	setenv("WEIR_XDP_AUTO", "off", 1);
	weir_register();

	for (struct unit_test *t = head; t; t = t->next) {
		if (filter && !strstr(t->name, filter) && !strstr(t->file, filter))
			continue;
		unit_failed_now = 0;
		t->fn();
		if (unit_failed_now) {
			fprintf(stderr, "FAIL %s (%s)\n", t->name, t->file);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
