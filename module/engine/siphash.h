/**
 * \file
 * SipHash-1-3 (Aumasson & Bernstein; the variant Rust and Python use for
 * their hash tables), keyed with 128 random bits per table.
 *
 * What it is for: every table that hashes something a client or a zone
 * owner chooses (client addresses, query names, nameserver names) uses a
 * keyed hash, so nobody can pick inputs that share one chain or one shard.
 *
 * Cost: about 20 ns for a short input; no allocation, no state. In
 * instructions (callgrind): ~90 for a 9-byte key (dw_siphash_u64; client
 * addresses use clienthash.h instead, ~10), ~210 for an 18-byte DNS name
 * case-folded (the fold
 * works on 8 bytes at once; byte by byte it was ~400).
 * Thread safety: pure functions. Errors: only dw_siphash_key() can fail.
 */
#ifndef DW_SIPHASH_H
#define DW_SIPHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** ASCII lower case of the 8 bytes of a word at once (SWAR): a byte is an
 *  upper-case letter when its low 7 bits are >= 'A' and <= 'Z' and its top
 *  bit is clear; the additions stay inside each byte (7-bit values plus at
 *  most 0x3f), so no carry crosses into a neighbour. Zero bytes stay zero. */
static inline uint64_t dw_fold8(uint64_t m)
{
	const uint64_t hi = 0x8080808080808080ULL, lo7 = 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t h = m & lo7;
	uint64_t ge_a = h + ones * (0x80 - 'A'); /* top bit: >= 'A' */
	uint64_t gt_z = h + ones * (0x7f - 'Z'); /* top bit: > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~m & hi;

	return m | upper >> 2; /* 0x80 >> 2 is the 0x20 case bit */
}

/** One SipRound over the state v[0..3]. */
static inline void dw_sipround(uint64_t v[4])
{
#define DW_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
	v[0] += v[1];
	v[1] = DW_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = DW_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = DW_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = DW_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = DW_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = DW_ROTL(v[2], 32);
#undef DW_ROTL
}

/** The keyed initial state. */
static inline void dw_sipinit(uint64_t v[4], uint64_t k0, uint64_t k1)
{
	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
}

/** The last block b (length in the top byte), then finalisation. */
static inline uint64_t dw_sipfinish(uint64_t v[4], uint64_t b)
{
	v[3] ^= b;
	dw_sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	dw_sipround(v);
	dw_sipround(v);
	dw_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/** The 9-byte message "m as little-endian, tag": the client table's key,
 *  inline because it runs on every query. */
static inline uint64_t dw_siphash_u64(uint64_t k0, uint64_t k1, uint64_t m, uint8_t tag)
{
	uint64_t v[4];
	dw_sipinit(v, k0, k1);
	v[3] ^= m;
	dw_sipround(v);
	v[0] ^= m;
	return dw_sipfinish(v, (9ULL << 56) | tag);
}

/** SipHash-1-3 of n bytes; with lower, ASCII letters hash as lower case
 *  (DNS names compare case-insensitively). */
uint64_t dw_siphash(uint64_t k0, uint64_t k1, const void *msg, size_t n, bool lower);

/** 128 fresh random key bits (getrandom()). 0, or -1 with err. */
int dw_siphash_key(uint64_t *k0, uint64_t *k1, char *err, size_t errlen);

#endif
