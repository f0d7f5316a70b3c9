/* mode.c - the registry of service modes (see mode.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/mode.h"

static const struct svc_mode *modes[MODE_MAX];
static size_t nmodes;

void mode_register(const struct svc_mode *m)
{
	const struct svc_mode *had = mode_find(m->name);

	if (had == m)
		return;
	if (had)
		fatalx("two modes named '%s'", m->name);
	if (nmodes == MODE_MAX)
		fatalx("more than %d modes: raise MODE_MAX", MODE_MAX);
	modes[nmodes++] = m;
}

const struct svc_mode *mode_find(const char *name)
{
	for (size_t i = 0; i < nmodes; i++)
		if (strcmp(modes[i]->name, name) == 0)
			return modes[i];
	return NULL;
}

const char *mode_name(const struct svc_mode *m)
{
	return m ? m->name : "none";
}

int mode_parse(const char *s, const struct svc_mode **out)
{
	if (strcmp(s, "none") == 0) {
		*out = NULL;
		return 0;
	}
	*out = mode_find(s);
	return *out ? 0 : -ENOENT;
}

void mode_names(char *out, size_t len)
{
	size_t used = (size_t)snprintf(out, len, "none");

	for (size_t i = 0; i < nmodes && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, ", %s", modes[i]->name);
}
