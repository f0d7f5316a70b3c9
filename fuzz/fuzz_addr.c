/* fuzz_addr.c - libFuzzer driver for address parsing: whatever parses
 * prints back to text that parses to the same address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[128], out[ADDR_STRLEN];
	struct weir_addr a, b;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	for (int opt = 0; opt < 2; opt++) {
		if (addr_parse(in, opt, &a) != 0)
			continue;
		addr_str(&a, out);
		if (addr_parse(out, false, &b) != 0 || !addr_equal(&a, &b)) {
			fprintf(stderr, "round trip failed: '%s' -> '%s'\n", in, out);
			abort();
		}
	}
	return 0;
}
