/* config.h - the config file's meaning: turns the directive tree of conf.c
 * into a `struct weir_config`. The reference is docs/config.md. */
#ifndef WEIR_CONFIG_H
#define WEIR_CONFIG_H

#include <stddef.h>

#include "core/spec.h"

#define CONFIG_ERR_MAX 512
#define CONFIG_MAX_BYTES (16u << 20)

/* Parses config text <text>[0..<len>) named <file> into <out> (initialised
 * here). Returns 0, or -errno with "FILE:LINE: reason" in <err>; then <out>
 * holds nothing to free. */
int config_parse(const char *file, const char *text, size_t len,
		 struct weir_config *out, char *err);
/* Reads and parses <path>. Same contract. */
int config_load(const char *path, struct weir_config *out, char *err);

/* Writes <cfg> as a config file that config_parse() reads back to the same
 * config (config_write.c): the globals and options that differ from their
 * defaults, every service, pool, route and server. */
struct buf;
void config_write(const struct weir_config *cfg, struct buf *out);

/* Parses an ipvsadm -M netmask ("255.255.255.0", or a prefix length for
 * IPv6 "64") into a prefix length. Returns 0 or -EINVAL. */
int netmask_parse(const char *s, int family, uint8_t *prefix);
/* Parses scheduler flags ("sh-fallback,sh-port", ...) into SCHED_F_*. */
int sched_flags_parse(const char *s, uint32_t *flags);
/* <flags> as ipvsadm writes them for scheduler <sched>: "sh-fallback,sh-port". */
void sched_flags_format(uint32_t flags, const char *sched, char *out, size_t len);
/* A persistence prefix as ipvsadm writes it: dotted for IPv4 (255.255.255.0),
 * the length for IPv6. */
void netmask_format(uint8_t prefix, int family, char *out, size_t len);

#endif
