/**
 * \file
 * The keyed hash of a client key (the aggregated address as one 64-bit
 * integer and its family), shared by the client table (clients.c) and the
 * suspect store (suspects.c) so that the engine hashes a client once per
 * query for both.
 *
 * The function: multiply-add-shift (Dietzfelbinger 1996; Thorup, "High
 * Speed Hashing for Integers and Strings", 2015), h(x) = ((a x + b) mod
 * 2^128) >> 64 with a and b drawn at random per table start, b one per
 * family. For a 64-bit x and 128-bit a, b this family is strongly universal
 * onto 64 bits: for two different keys x != y the pair (h(x), h(y)) is
 * uniform over all pairs of 64-bit values, so every subset of the output
 * bits (the bucket bits 0..15 or 0..31, the shard bits 32..) is too, and two
 * clients share a bucket or a shard with probability exactly 2^-bits. Keys
 * of the two families use independent b's, so they are independent as well.
 * A fixed bijection (xorshift, odd multiply, xorshift) follows: it keeps
 * the pairs uniform, and without it consecutive addresses, an arithmetic
 * progression, land on a lattice in the low bits under any one key (twice
 * a random function's bucket collisions for a quarter of the keys:
 * t/unit/test_clienthash.c).
 *
 * Why not SipHash (which the tables used before): the key is a fixed-size
 * integer, not a message, and a client never sees a hash value (nothing the
 * resolver answers depends on it; only the operator's listings show table
 * order). What a table needs is that sources picked without knowing the key
 * spread like random ones: expected chain length <= 1 + load and clients
 * per shard binomial around max / shards; universality gives exactly that.
 * An attacker who could measure single chain collisions through the
 * resolver's answer times could still only lengthen one chain of one
 * shard's index (a shard holds at most its share of clients, so a chain is
 * bounded by that share); SipHash would not change this either. The gain:
 * about 15 instructions a hash instead of 86 (callgrind, the per-query
 * path).
 *
 * Cost: three multiplications, a 128-bit add, two shifts; no memory beyond the 48-byte
 * key. Thread safety: pure functions over a key that is written once before
 * use. Errors: none (dw_chash_derive() cannot fail; the 128 random bits it
 * expands come from dw_siphash_key(), which can).
 */
#ifndef DW_CLIENTHASH_H
#define DW_CLIENTHASH_H

#include <stdint.h>

#include "siphash.h"

/** The random parameters of one table's client hash: a (128 bits) and one
 *  b (128 bits) per family (index 0: IPv4, 1: IPv6). */
struct dw_chash {
	uint64_t a_lo, a_hi;
	uint64_t b_lo[2], b_hi[2];
};

/** Expand 128 secret random bits into the hash's parameters
 *  (SipHash-1-3 of a counter under that key: pseudorandom, and the same
 *  for the same bits, so two tables given one secret hash alike). O(1). */
static inline void dw_chash_derive(struct dw_chash *h, uint64_t k0, uint64_t k1)
{
	uint64_t w[6];

	for (unsigned i = 0; i < 6; i++)
		w[i] = dw_siphash_u64(k0, k1, i, 0xc4);
	h->a_lo = w[0];
	h->a_hi = w[1];
	h->b_lo[0] = w[2];
	h->b_hi[0] = w[3];
	h->b_lo[1] = w[4];
	h->b_hi[1] = w[5];
}

/** The hash of client key m (IPv4: the address; IPv6: the prefix bits, as a
 *  big-endian integer) of family 4 or 6 (any other value hashes as 4). */
static inline uint64_t dw_chash(const struct dw_chash *h, uint64_t m, uint8_t family)
{
	unsigned f = family == 6;
	unsigned __int128 a = (unsigned __int128)h->a_hi << 64 | h->a_lo;
	unsigned __int128 b = (unsigned __int128)h->b_hi[f] << 64 | h->b_lo[f];

	uint64_t v = (uint64_t)((a * m + b) >> 64);

	/* a fixed bijection keeps the pairs uniform; it breaks up the lattice
	 * an arithmetic progression of keys (consecutive addresses) makes of
	 * the linear part's low bits under one key */
	v ^= v >> 32;
	v *= 0xd6e8feb86659fd93ULL;
	return v ^ v >> 32;
}

#endif
