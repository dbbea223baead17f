/**
 * \file
 * What the engine benchmarks (bench-bytes, bench-clients, bench-engine)
 * share: the clock, the resident set, the harness's random numbers and the
 * client population they make addresses from.
 *
 * Cost: bench_source() and bench_xorshift() are a few instructions, inline
 * because they run in the measured loops (bench-engine prints their cost
 * alone as harness_ns_per_query); bench_rss_bytes() reads
 * /proc/self/status. Thread safety: pure functions but for the caller's
 * random state. Errors: bench_rss_bytes() returns -1 when it cannot tell.
 */
#ifndef DW_BENCH_COMMON_H
#define DW_BENCH_COMMON_H

#include <stdint.h>
#include <string.h>

#include "addr.h"

/** Monotonic time in seconds. */
double bench_now(void);

/** Resident set in bytes (VmRSS of /proc/self/status), -1 when unknown. */
long long bench_rss_bytes(void);

/** xorshift64: the harness's random numbers (state must not be 0). */
static inline uint64_t bench_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/**
 * Client number n as an address: three of four IPv4 (10.0.0.0 upwards,
 * then beyond), the rest distinct IPv6 /64s with host bits set (so the
 * engine's aggregation runs). Distinct for n < 2^30.
 */
static inline void bench_source(uint32_t n, struct dw_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (n % 4 != 3) {
		uint32_t v = 0x0a000000u + n;

		a->family = 4;
		a->b[0] = (uint8_t)(v >> 24);
		a->b[1] = (uint8_t)(v >> 16);
		a->b[2] = (uint8_t)(v >> 8);
		a->b[3] = (uint8_t)v;
	} else {
		a->family = 6;
		a->b[0] = 0x20;
		a->b[1] = 0x01;
		a->b[2] = 0x0d;
		a->b[3] = 0xb8;
		a->b[4] = (uint8_t)(n >> 24);
		a->b[5] = (uint8_t)(n >> 16);
		a->b[6] = (uint8_t)(n >> 8);
		a->b[7] = (uint8_t)n;
		a->b[15] = (uint8_t)(n * 7 + 1);
	}
}

#endif
