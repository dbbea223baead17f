/**
 * \file
 * Unit tests of clienthash.h, the client tables' keyed hash: source sets a
 * spoofer can send without knowing the key (consecutive addresses, one
 * varying byte, /64 prefixes of one /48) spread over shards and buckets like
 * random keys; IPv4 and IPv6 keys are hashed apart; a set that collides in
 * one table's buckets does not collide in another's (each table draws its
 * own key); the client table and the suspect store agree.
 */
#include "clienthash.h"
#include "clients.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 65536u    /* keys per set */
#define SHARDS 256u /* the client table's shards at large clients.max */
#define BUCKETS N   /* load 1, as a full shard index */

/* Keys of a set of sources: consecutive IPv4, one byte varying at each of
 * the four positions (with the rest fixed), IPv6 /64 prefixes inside one
 * /48 (the prefix bits 48..63 varying). */
static uint64_t set_key(unsigned set, uint32_t i, uint8_t *family)
{
	*family = 4;
	switch (set) {
	case 0:
		return 0x0a000000u + i; /* 10.0.0.0/16 */
	case 1:
		return (uint64_t)(i & 0xff) << 24 | (i >> 8) << 0 | 0x00c00000u;
	case 2:
		return (uint64_t)(i & 0xff) << 16 | (i >> 8) << 24 | 0x22u;
	case 3:
		return (uint64_t)(i & 0xffff) << 8 | 0x0au << 24;
	default:
		*family = 6;
		return 0x20010db800000000ULL | (uint64_t)i; /* 2001:db8:0:i::/64 */
	}
}

/* Pairs of keys that share a bucket, for n keys in m buckets: a random
 * function gives n (n - 1) / (2 m) on average (about 32,768 here, standard
 * deviation about 181); the bound allows 10 %. */
static uint64_t colliding_pairs(const uint32_t *count, uint32_t m)
{
	uint64_t pairs = 0;

	for (uint32_t b = 0; b < m; b++)
		pairs += (uint64_t)count[b] * (count[b] - (count[b] != 0)) / 2;
	return pairs;
}

/* Every set, under several fixed keys: clients per shard within 6 standard
 * deviations of the mean, bucket collisions as a random function's. */
static void test_spread(void)
{
	static uint32_t bucket[BUCKETS];
	uint32_t shard[SHARDS];
	const double mean = (double)N / SHARDS, sd = 16; /* sqrt(mean) */
	const double want_pairs = (double)N * (N - 1) / 2 / BUCKETS;

	for (unsigned key = 0; key < 3; key++) {
		struct dw_chash h;

		dw_chash_derive(&h, 0x0123456789abcdefULL * (key + 1), 0xfedcba9876543210ULL ^ key);
		for (unsigned set = 0; set < 5; set++) {
			uint32_t lo = UINT32_MAX, hi = 0;

			memset(bucket, 0, sizeof(bucket));
			memset(shard, 0, sizeof(shard));
			for (uint32_t i = 0; i < N; i++) {
				uint8_t fam;
				uint64_t x = set_key(set, i, &fam);
				uint64_t v = dw_chash(&h, x, fam);

				bucket[(uint16_t)v]++;
				shard[(uint32_t)(v >> 32) % SHARDS]++;
			}
			for (unsigned s = 0; s < SHARDS; s++) {
				lo = shard[s] < lo ? shard[s] : lo;
				hi = shard[s] > hi ? shard[s] : hi;
			}
			ok(lo >= mean - 6 * sd && hi <= mean + 6 * sd,
			   "key %u, set %u: %u..%u clients a shard (mean %.0f)", key, set, lo, hi,
			   mean);
			uint64_t pairs = colliding_pairs(bucket, BUCKETS);
			ok(pairs <= 1.1 * want_pairs && pairs >= 0.9 * want_pairs,
			   "key %u, set %u: %llu colliding bucket pairs (random: %.0f)", key, set,
			   (unsigned long long)pairs, want_pairs);
		}
	}
}

/* The same integer as an IPv4 and as an IPv6 key: hashed apart. */
static void test_families(void)
{
	struct dw_chash h;
	unsigned same = 0;

	dw_chash_derive(&h, 1, 2);
	for (uint64_t x = 0; x < 10000; x++)
		same += (uint16_t)dw_chash(&h, x, 4) == (uint16_t)dw_chash(&h, x, 6);
	ok(same < 10, "IPv4 and IPv6 keys of the same value share a bucket %u times in 10000",
	   same);
	ok(dw_chash(&h, 7, 4) == dw_chash(&h, 7, 4), "the hash is a function of key and family");
}

static struct dw_clients *table(void)
{
	struct dw_clients_conf c;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.max = 1000;
	c.ipv6_prefix = 64;
	c.ncounters = 1;
	c.window[0] = 60;
	return dw_clients_new(&c, err, sizeof(err));
}

static struct dw_addr v4(uint32_t x)
{
	struct dw_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.b[0] = (uint8_t)(x >> 24);
	a.b[1] = (uint8_t)(x >> 16);
	a.b[2] = (uint8_t)(x >> 8);
	a.b[3] = (uint8_t)x;
	return a;
}

/* Addresses found to share one bucket of one table, as an
 * attacker who learned one start's key might send them, spread over the
 * buckets of another table: each table draws its own key. */
static void test_tables_differ(void)
{
	struct dw_clients *a = table(), *b = table();
	uint32_t found[64];
	unsigned n = 0;

	ok(a != NULL && b != NULL, "two tables");
	if (a == NULL || b == NULL)
		return;
	uint64_t h0 = dw_clients_hash(a, &(struct dw_addr){.family = 4});
	for (uint32_t x = 1; x < (1u << 26) && n < 64; x++) {
		struct dw_addr ad = v4(x);
		uint64_t h = dw_clients_hash(a, &ad);

		if ((uint16_t)h == (uint16_t)h0)
			found[n++] = x;
	}
	ok(n == 64, "64 addresses sharing one bucket of table A (found %u)", n);
	unsigned distinct = 0;
	for (unsigned i = 0; i < n; i++) {
		struct dw_addr ai = v4(found[i]);
		uint64_t hi = dw_clients_hash(b, &ai);
		unsigned j;

		for (j = 0; j < i; j++) {
			struct dw_addr aj = v4(found[j]);

			if ((uint16_t)dw_clients_hash(b, &aj) == (uint16_t)hi)
				break;
		}
		distinct += j == i;
	}
	ok(distinct >= 60, "in table B they fall into %u distinct buckets of 65536", distinct);
	dw_clients_free(a);
	dw_clients_free(b);
}

int main(void)
{
	test_spread();
	test_families();
	test_tables_differ();
	return done_testing();
}
