/* fuzz_config.c - libFuzzer driver for the config file parser (conf.c and
 * config.c). Any input must parse or fail with "FILE:LINE: reason", never
 * crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weir_config cfg;
	char err[CONFIG_ERR_MAX];

	weir_register();
	err[0] = '\0';
	if (config_parse("fuzz.conf", (const char *)data, size, &cfg, err) == 0) {
		spec_free(&cfg);
		return 0;
	}
	if (strncmp(err, "fuzz.conf:", 10) != 0) {
		fprintf(stderr, "error without FILE:LINE: %s\n", err);
		abort();
	}
	return 0;
}
