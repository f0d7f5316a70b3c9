/* util.c - number and duration parsing shared by config and weirctl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

int parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const char units[] = "kmg";
	size_t n = strspn(s, "0123456789");
	unsigned long long v = 0;
	unsigned shift = 0;

	if (n == 0 || n > 19)
		return n ? -ERANGE : -EINVAL;
	if (s[n]) {
		const char *u = strchr(units, s[n] | 0x20);

		if (!u || s[n + 1])
			return -EINVAL;
		shift = 10u * (unsigned)(u - units + 1);
	}
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (v > (max >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_duration_ms(const char *s, uint32_t unit_ms, uint32_t *out)
{
	static const struct { const char *sfx; uint32_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	char num[24];
	size_t n = strspn(s, "0123456789");
	uint32_t v, mul = unit_ms;
	int rc;

	if (n == 0 || n >= sizeof(num))
		return n ? -ERANGE : -EINVAL;
	if (s[n]) {
		mul = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(s + n, units[i].sfx) == 0)
				mul = units[i].ms;
		if (!mul)
			return -EINVAL;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	rc = parse_u32(num, UINT32_MAX, &v);
	if (rc)
		return rc;
	if ((uint64_t)v * mul > UINT32_MAX)
		return -ERANGE;
	*out = v * mul;
	return 0;
}
