/* fuzz_ctl.c - libFuzzer driver for the admin protocol's parsing: request
 * lines are split and parsed as weirctl commands (ipvsadm syntax), edits are
 * applied to a config. Then the property -S/-R rely on: saving the config
 * and replaying the saved rules gives back the same saved text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "ctl/list.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs every line of <text> against <cfg>; returns how many were edits. */
static int replay(struct weir_config *cfg, char *text)
{
	char *save = NULL, err[CTL_ERR_MAX];
	int edits = 0;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *words[CTL_MAX_WORDS];
		struct ctl_cmd cmd;
		int n = ctl_split(line, words, CTL_MAX_WORDS);

		if (n <= 0 || ctl_parse(n, words, &cmd, err) != 0 || !ctl_is_change(cmd.op))
			continue;
		if (ctl_apply_change(cfg, &cmd, err) == 0)
			edits++;
	}
	return edits;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weir_config cfg, again;
	struct buf saved = { 0 }, saved2 = { 0 };
	char *text;

	weir_register();
	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	spec_init(&cfg);
	replay(&cfg, text);
	ctl_save(&cfg, false, false, &saved);
	buf_append(&saved, "", 1);
	spec_init(&again);
	{
		char *copy = strdup(buf_head(&saved));

		replay(&again, copy);
		free(copy);
	}
	ctl_save(&again, false, false, &saved2);
	buf_append(&saved2, "", 1);
	if (strcmp(buf_head(&saved), buf_head(&saved2)) != 0) {
		fprintf(stderr, "save/restore differ:\n%s\n---\n%s\n", buf_head(&saved),
			buf_head(&saved2));
		abort();
	}
	buf_free(&saved);
	buf_free(&saved2);
	spec_free(&cfg);
	spec_free(&again);
	free(text);
	return 0;
}
