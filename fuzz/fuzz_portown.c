/* fuzz_portown.c - libFuzzer driver for the two readers of portown.c: the
 * sock_diag answer (portown_parse_diag) and a weir command line from
 * /proc/PID/cmdline (portown_cmdline_config; any process can rewrite its
 * own). Each gets a buffer of exactly the input's size, so ASan sees any
 * read past it. Besides not crashing, it checks that:
 * - the holders found never exceed the room given, each has the port
 *   asked, and a v4 query never gets a v6-only socket;
 * - a config path found is terminated, not empty, shorter than the room,
 *   and a substring of the command line. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/portown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static void diag(const uint8_t *buf, size_t size, const char *addr)
{
	struct port_holder h[4];
	struct weir_addr a;
	int n = 0, rc;

	if (addr_parse(addr, false, &a) != 0)
		FAIL("bad test address %s", addr);
	rc = portown_parse_diag(buf, size, &a, h, 4, &n);
	if (rc > 1 || n < 0 || n > 4)
		FAIL("rc %d n %d", rc, n);
	for (int i = 0; i < n; i++) {
		if (addr_port(&h[i].addr) != addr_port(&a))
			FAIL("holder on port %u", addr_port(&h[i].addr));
		if (addr_family(&a) == AF_INET && addr_family(&h[i].addr) == AF_INET6 &&
		    h[i].v6only)
			FAIL("a v6-only socket holds a v4 port");
	}
}

static void cmdline(const uint8_t *buf, size_t size)
{
	char out[32];

	memset(out, 'z', sizeof(out));
	if (portown_cmdline_config((const char *)buf, size, out, sizeof(out)) != 0)
		return;
	if (!memchr(out, '\0', sizeof(out)) || out[0] == '\0')
		FAIL("path not terminated or empty");
	if (!memmem(buf, size, out, strlen(out)))
		FAIL("path '%s' not in the command line", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1) {
		cmdline(copy, size - 1);
	} else {
		diag(copy, size - 1, "127.0.0.1:80");
		diag(copy, size - 1, "[::1]:80");
	}
	free(copy);
	return 0;
}
