/* sha256.h - SHA-256 (FIPS 180-4), small and allocation-free, so that
 * weir-backend can report the digest of a body it read. */
#ifndef WEIR_DEMO_SHA256_H
#define WEIR_DEMO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t len;        /* bytes hashed */
	uint8_t block[64];   /* the partial block, len % 64 bytes */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes the digest to <out>; <s> must be initialised again to reuse it. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* Writes the digest as 64 lowercase hex digits and a NUL to <hex>. */
void sha256_hex(struct sha256 *s, char hex[2 * SHA256_LEN + 1]);

#endif
