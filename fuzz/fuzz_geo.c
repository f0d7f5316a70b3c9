/* fuzz_geo.c - libFuzzer driver for the location rules' text (dns/geo.c):
 * any lines either add or are refused with a message, and the map built
 * from what was added answers every lookup with a list and a scope no
 * longer than the address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct geo_map *m, int fam, const uint8_t *a, unsigned source)
{
	struct geo_answer ans;
	unsigned width = fam == AF_INET ? 32 : 128;

	if (geo_lookup(m, fam, a, source, &ans) != 0 || !ans.list || ans.scope > width ||
	    ans.list != geo_list_get(m, ans.list_id) || ans.list->n > GEO_LIST_MAX) {
		fprintf(stderr, "bad answer\n");
		abort();
	}
	for (unsigned i = 0; i < ans.list->n; i++)
		if (!geo_loc_name(m, ans.list->loc[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_map *m;
	char line[512], err[GEO_ERR_MAX];
	uint8_t a[16] = { 0 };
	size_t off = 0;

	if (size > 8192)
		return 0;
	m = geo_map_new();
	if (!m)
		return 0;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = (nl ? (size_t)(nl - data) : size) - off;

		if (len < sizeof(line)) {
			memcpy(line, data + off, len);
			line[len] = '\0';
			err[0] = '\0';
			if (geo_map_add_line(m, line, err) != 0 && !err[0])
				abort(); /* a refusal always says why */
		}
		off += len + 1;
	}
	if (geo_map_finish(m) == 0) {
		memcpy(a, data, size < 16 ? size : 16);
		for (unsigned s = 0; s <= 128; s += 7) {
			check(m, AF_INET, a, s);
			check(m, AF_INET6, a, s);
		}
		check(m, AF_INET6, a, 128);
	}
	geo_map_free(m);
	return 0;
}
