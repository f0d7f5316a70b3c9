/* fuzz_names.c - libFuzzer driver for weirctl's names (ctl/names.h): the
 * input is read as an address with names (-t www.example.test:http) and as
 * a listing with marks, through lookups that answer from the input's own
 * bytes (no libc resolver). Properties: an address read is numeric (it
 * parses as one); filling never grows a mark past its cell's bounds. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "ctl/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names made of the key: long ones too (the 59-character cap). */
static int fake_host_addr(const char *name, struct in_addr *out)
{
	if (strlen(name) % 3 == 0)
		return -1;
	out->s_addr = htonl(0x0a000000u | (uint32_t)strlen(name));
	return 0;
}

static int fake_service_port(const char *name, int proto)
{
	return strlen(name) % 2 ? (int)(strlen(name) * 7 % 65536) : -1;
}

static int fake_host_name(int af, const void *addr, char *out, size_t len)
{
	const uint8_t *b = addr;

	if (b[0] % 4 == 0)
		return -1;
	snprintf(out, len, "host-%u-%s.example.test", b[0] + b[1],
		 b[2] % 2 ? "a-rather-long-label-to-pass-the-cut-of-ipvsadm" : "x");
	return 0;
}

static int fake_service_name(uint16_t port, int proto, char *out, size_t len)
{
	if (port % 5 == 0)
		return -1;
	snprintf(out, len, "svc%u", port);
	return 0;
}

static const struct names_ops fake = {
	fake_host_addr, fake_service_port, fake_host_name, fake_service_name,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, out[ADDR_STRLEN + 8];
	struct weir_addr a;
	struct buf filled = { 0 };

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (names_address(&fake, text, data[0] % 2 ? 6 : 17, out, sizeof(out)) == 0 &&
	    addr_parse(out, true, &a) != 0) {
		fprintf(stderr, "names_address: \"%s\" -> \"%s\", not numeric\n", text, out);
		abort();
	}
	names_fill(&fake, (const char *)data, size, &filled);
	buf_free(&filled);
	free(text);
	return 0;
}
