/* fuzz_config.c - libFuzzer driver for the config file parser (conf.c,
 * config.c and every option row's parser). Any input must parse or fail
 * with "FILE:LINE: reason", never crash, hang or leak. And the property
 * `weirctl -S --config` relies on: a config that parses, written by the
 * config writer, parses again and writes the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_text(const struct weir_config *cfg, struct buf *out)
{
	config_write(cfg, out);
	buf_append(out, "", 1);
}

/* <cfg> written, read back and written again gives the same text. */
static void check_rewrite(const struct weir_config *cfg)
{
	struct buf first = { 0 }, second = { 0 };
	struct weir_config again;
	char err[CONFIG_ERR_MAX];

	write_text(cfg, &first);
	if (config_parse("written.conf", buf_head(&first), first.len - 1, &again, err) != 0) {
		fprintf(stderr, "the written config is refused: %s\n%s\n", err, buf_head(&first));
		abort();
	}
	write_text(&again, &second);
	if (strcmp(buf_head(&first), buf_head(&second)) != 0) {
		fprintf(stderr, "written twice differently:\n%s\n---\n%s\n", buf_head(&first),
			buf_head(&second));
		abort();
	}
	spec_free(&again);
	buf_free(&first);
	buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weir_config cfg;
	char err[CONFIG_ERR_MAX];

	weir_register();
	err[0] = '\0';
	if (config_parse("fuzz.conf", (const char *)data, size, &cfg, err) == 0) {
		check_rewrite(&cfg);
		spec_free(&cfg);
		return 0;
	}
	if (strncmp(err, "fuzz.conf:", 10) != 0) {
		fprintf(stderr, "error without FILE:LINE: %s\n", err);
		abort();
	}
	return 0;
}
