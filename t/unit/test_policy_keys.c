/**
 * \file
 * Unit tests of the block list's keys and counters (policy.c): the `active`
 * counter equals the entries marked active after any sequence of blocks,
 * re-blocks of expired-but-unswept entries, unblocks and sweeps (status
 * shows dw_policy_active()); and IPv6 /64s chosen to share one chain under
 * the old unkeyed hash (FNV-1a) no longer slow lookups down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "policy.h"
#include "tap.h"

/** foreach callback: count entries whose active flag is set. */
static int count_active(void *arg, const struct dw_block *b)
{
	if (b->active)
		(*(size_t *)arg)++;
	return 0;
}

/** The invariant: the counter equals the flags. */
static size_t flagged(struct dw_policy *p)
{
	size_t n = 0;
	dw_policy_foreach(p, count_active, &n);
	return n;
}

static struct dw_addr v4(unsigned i)
{
	struct dw_addr a;
	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.b[0] = 10;
	a.b[1] = (uint8_t)(i >> 16);
	a.b[2] = (uint8_t)(i >> 8);
	a.b[3] = (uint8_t)i;
	return a;
}

/** The hash the block list used before (FNV-1a over family and 16 bytes):
 *  its chain slot was h % (64 shards × 256 buckets). */
static uint32_t old_fnv(const struct dw_addr *k)
{
	uint32_t h = 2166136261u;
	size_t i;
	h = (h ^ k->family) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h;
}

/** n IPv6 /64 keys (low 64 bits zero) that all had old slot `slot`. FNV's
 *  low 14 bits depend only on the low 14 bits of the state, and the eight
 *  zero bytes after byte 7 are a bijection on them, so pick bytes 0..6
 *  until bits 8..13 of the state fit, then byte 7 fixes bits 0..7. */
static void colliding_64s(struct dw_addr *out, size_t n, uint32_t *slot)
{
	const uint32_t P = 16777619u, M = 0x3fffu;
	uint32_t target = 0x1234u, tail = 1;
	uint64_t ctr = 1;
	size_t got = 0;
	int i;
	for (i = 0; i < 9; i++) /* prime^9: byte 7's step and the 8 zero bytes */
		tail *= P;
	while (got < n) {
		struct dw_addr a;
		uint32_t h = 2166136261u, want;
		memset(&a, 0, sizeof(a));
		a.family = 6;
		a.b[0] = 0x20;
		a.b[1] = 0x01;
		for (i = 2; i < 7; i++)
			a.b[i] = (uint8_t)(ctr >> (8 * (6 - i)));
		ctr++;
		h = (h ^ 6) * P;
		for (i = 0; i < 7; i++)
			h = (h ^ a.b[i]) * P;
		/* want (h ^ b7) * tail == target (mod 2^14): tail is odd */
		{
			uint32_t inv = tail, k; /* Newton: inverse of tail mod 2^32 */
			for (k = 0; k < 5; k++)
				inv *= 2 - tail * inv;
			want = (target * inv) & M;
		}
		if (((h ^ want) & M & ~0xffu) != 0)
			continue;
		a.b[7] = (uint8_t)((h ^ want) & 0xff);
		out[got++] = a;
	}
	*slot = old_fnv(&out[0]) & M;
}

/** Mean ns of one dw_policy_lookup() over the keys, repeated rounds times. */
static double mean_lookup_ns(struct dw_policy *p, const struct dw_addr *k, size_t n, int rounds,
                             int64_t now)
{
	struct timespec a, b;
	volatile int sink = 0;
	size_t i;
	int r;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++)
			sink += (int)dw_policy_lookup(p, &k[i], now);
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sink;
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
	       ((double)n * rounds);
}

int main(void)
{
	struct dw_conf *c = dw_conf_defaults();
	struct dw_policy *p;
	struct dw_block b;
	struct dw_addr a1 = v4(1);
	int64_t t0 = 1700000000;
	unsigned i;
	int ok_all = 1;

	c->policy_max_blocks = 20000;
	p = dw_policy_new(c);

	/* the drift: re-blocking an entry that expired but is not yet swept */
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 10, -1, t0, &b);
	is_int(dw_policy_active(p), 1, "one block: active 1");
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 10, -1, t0 + 20, &b);
	is_int(dw_policy_active(p), 1, "re-blocked after expiry, before the sweep: still active 1");
	ok(b.offences == 2, "and it counts as a new offence (%u)", b.offences);
	is_int(dw_policy_lookup(p, &a1, t0 + 25), DW_ACT_NXDOMAIN, "the new block is in force");
	is_int(dw_policy_expire(p, t0 + 100, NULL, NULL), 1, "the sweep expires it once");
	is_int(dw_policy_active(p), 0, "active back to 0 (status: blocks_active=0)");
	is_int(dw_policy_lookup(p, &a1, t0 + 100), DW_ACT_LOG, "nothing in force");

	/* the invariant under a pseudo-random sequence of every kind of change */
	srand(7);
	for (i = 0; i < 20000; i++) {
		struct dw_addr k = v4((unsigned)rand() % 64);
		int64_t now = t0 + 200 + i / 4;
		switch (rand() % 5) {
		case 0:
		case 1:
			dw_policy_block(p, &k, DW_ACT_NXDOMAIN, (uint32_t)(rand() % 8), -1, now,
			                NULL);
			break;
		case 2:
			dw_policy_unblock(p, &k, NULL);
			break;
		case 3:
			if (rand() % 4 == 0)
				dw_policy_expire(p, now, NULL, NULL);
			break;
		default:
			dw_policy_lookup(p, &k, now);
		}
		if (dw_policy_active(p) != flagged(p)) {
			ok_all = 0;
			printf("# step %u: active %zu, flagged %zu\n", i, dw_policy_active(p),
			       flagged(p));
			break;
		}
	}
	ok(ok_all, "active == entries marked active after each of 20000 random changes");
	dw_policy_free(p);

	/* colliding /64s: 4000 blocked, 1000 more looked up (the chain walk of a
	 * miss is the worst case), against 5000 random /64s */
	{
		enum { N = 4000, M = 1000 };
		struct dw_addr *col = calloc(N + M, sizeof(*col)),
		               *rnd = calloc(N + M, sizeof(*rnd));
		uint32_t slot;
		double t_col, t_rnd;
		size_t same = 0;
		struct dw_policy *pc = dw_policy_new(c), *pr = dw_policy_new(c);
		colliding_64s(col, N + M, &slot);
		for (i = 0; i < N + M; i++) {
			same += (old_fnv(&col[i]) & 0x3fffu) == slot;
			rnd[i] = col[i];
			rnd[i].b[2] = (uint8_t)rand();
			rnd[i].b[3] = (uint8_t)rand();
			rnd[i].b[4] = (uint8_t)rand();
			rnd[i].b[5] = (uint8_t)rand();
			rnd[i].b[6] = (uint8_t)rand();
		}
		is_int(same, N + M, "all 5000 /64s share one chain under the old FNV hash");
		for (i = 0; i < N; i++) {
			dw_policy_block(pc, &col[i], DW_ACT_NXDOMAIN, 3600, -1, t0, NULL);
			dw_policy_block(pr, &rnd[i], DW_ACT_NXDOMAIN, 3600, -1, t0, NULL);
		}
		t_rnd = t_col = 1e12; /* the best of 9 (a shared machine is noisy) */
		for (i = 0; i < 9; i++) {
			double r = mean_lookup_ns(pr, rnd + N, M, 3, t0 + 1);
			double q = mean_lookup_ns(pc, col + N, M, 3, t0 + 1);
			t_rnd = r < t_rnd ? r : t_rnd;
			t_col = q < t_col ? q : t_col;
		}
		printf("# lookup of a missing /64: %.0f ns among colliding keys, %.0f ns among "
		       "random keys\n",
		       t_col, t_rnd);
		ok(t_col < 4 * t_rnd + 200,
		   "colliding /64s: lookups as fast as random ones "
		   "(%.0f ns vs %.0f ns)",
		   t_col, t_rnd);
		is_int(dw_policy_lookup(pc, &col[17], t0 + 1), DW_ACT_NXDOMAIN,
		       "a colliding /64 that is blocked is found");
		is_int(dw_policy_lookup(pc, &col[N + 17], t0 + 1), DW_ACT_LOG,
		       "one that is not, is not");
		dw_policy_free(pc);
		dw_policy_free(pr);
		free(col);
		free(rnd);
	}
	dw_conf_free(c);
	return done_testing();
}
