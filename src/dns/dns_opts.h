/*
 * dns_opts.h - the options of a DNS service (--proxy dns): a block of rows
 * (core/option.h) registered by src/register.c, in the service's option
 * area. Names are kept as text, blank-separated, lowercase, without the
 * final dot; the answer sets (answer.h) hold them in wire form.
 */
#ifndef WEIR_DNS_OPTS_H
#define WEIR_DNS_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/option.h"
#include "core/table.h"

#define DNS_OPT_NAMES 192
#define DNS_OPT_NAME 96

/* Plain data (the option area is copied as bytes). */
struct dns_opts {
	char names[DNS_OPT_NAMES];  /* the names answered, blank-separated */
	char zone[DNS_OPT_NAME];    /* the apex owned; "" = the first name's parent */
	char ns[DNS_OPT_NAME];      /* NS names of the zone; "" = ns.ZONE */
	uint32_t ttl_ms;            /* of every answer */
	uint32_t ttl_down_ms;       /* ... while a server cannot take traffic; 0 = ttl */
	uint32_t answers;           /* addresses per answer; 0 = every available one */
	char geo_map[108];          /* a file of location rules (dns/geo.h); "" = none */
	char geo_db[108];           /* a MaxMind DB; "" = none */
	char geo_field[48];         /* its field giving a key: "country iso_code" */
	bool xdp;                   /* answered in the XDP data path when it runs */
};

extern struct opt_block dns_opt_block;

static inline const struct dns_opts *dns_opts_spec(const struct service_spec *s)
{
	return (const struct dns_opts *)(const void *)(s->opts + dns_opt_block.off);
}

#endif
