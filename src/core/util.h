/* util.h - small helpers every module uses. */
#ifndef WEIR_UTIL_H
#define WEIR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CACHELINE 64

/* Monotonic milliseconds; the clock every timer and timeout uses. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counters written by one thread and read by others: a plain add that is
 * not torn (no lock prefix), and a relaxed read. */
static inline void counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Parses a decimal unsigned integer in [0, max] from the whole of <s>.
 * Returns 0 or -EINVAL / -ERANGE. */
int parse_u32(const char *s, uint32_t max, uint32_t *out);
/* Parses a duration "250ms", "2s", "5m", "1h", bare number = <unit_ms>.
 * Returns 0 or -EINVAL / -ERANGE. */
int parse_duration_ms(const char *s, uint32_t unit_ms, uint32_t *out);
/* Parses a size "512", "16k", "10m", "1g" (powers of 1024) up to <max>.
 * Returns 0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t max, uint64_t *out);

#endif
