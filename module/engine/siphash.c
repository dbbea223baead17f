/**
 * \file
 * Keyed hashing for the engine's tables (siphash.h).
 */
#include "siphash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/** A little-endian 8-byte word. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t m;

	memcpy(&m, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m = __builtin_bswap64(m);
#endif
	return m;
}

/** Little-endian 8-byte words, the tail in the last block; with lower, each
 *  word is case-folded whole (fold8) instead of byte by byte. */
uint64_t dw_siphash(uint64_t k0, uint64_t k1, const void *msg, size_t n, bool lower)
{
	const uint8_t *p = msg;
	uint64_t v[4], t = 0;
	size_t i = 0, j;

	dw_sipinit(v, k0, k1);
	for (; i + 8 <= n; i += 8) {
		uint64_t m = load_le64(p + i);

		if (lower)
			m = dw_fold8(m);
		v[3] ^= m;
		dw_sipround(v);
		v[0] ^= m;
	}
	for (j = 0; i + j < n; j++)
		t |= (uint64_t)p[i + j] << (8 * j);
	if (lower)
		t = dw_fold8(t); /* zero bytes stay zero */
	return dw_sipfinish(v, t | (uint64_t)n << 56);
}

/** Read until 16 random bytes are there (getrandom may return short). */
int dw_siphash_key(uint64_t *k0, uint64_t *k1, char *err, size_t errlen)
{
	uint64_t k[2];
	size_t got = 0;
	while (got < sizeof(k)) {
		ssize_t n = getrandom((unsigned char *)k + got, sizeof(k) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (err && errlen)
				snprintf(err, errlen, "getrandom: %s",
				         n < 0 ? strerror(errno) : "no data");
			return -1;
		}
		got += (size_t)n;
	}
	*k0 = k[0];
	*k1 = k[1];
	return 0;
}
