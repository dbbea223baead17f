/**
 * \file
 * The client table (contract in clients.h), built on the sharded-table core
 * (table_core.h): lock-striped shards, each a spinlock, a chained hash
 * index, an LRU list (table_core.inc.c) and an array of variable-size
 * entries addressed by 16-bit indices.
 *
 * Why indices and not pointers: a shard holds at most 65535 clients, so every
 * link (LRU prev/next, hash chain, bucket head) is 2 bytes instead of 8, which
 * is what keeps a client at 32 + 16 × ncounters bytes (144 at the default
 * 7 counters).
 *
 * Why grow instead of preallocating: a table configured for a million clients
 * on a campus that sees twenty thousand should cost twenty thousand entries.
 * A shard's entries live in fixed chunks of CHUNK entries (9 KiB at 7
 * counters), allocated as the shard fills and never moved or freed before
 * the table: no copy under the lock, no heap fragmentation (so RSS tracks
 * the table's own accounting), at most one partly used chunk per shard. The
 * hash index doubles with the chunks (rebuilt from the 16 hash bits each
 * entry keeps, O(entries) about log2(cap) times in a shard's life). A failed
 * allocation falls back to eviction (or, for the index, to a fuller index),
 * so the query path never fails for lack of memory once a shard holds
 * anything.
 *
 * Why the LRU moves only on a new second: the table's clock is in seconds,
 * so "least recently seen" is decided at that resolution. Moving a client to
 * the front the first time it is seen in a second (not on every query)
 * keeps the list ordered by last-seen second, and spares a busy client the
 * writes to two random neighbours on most of its queries.
 */
#include "clients.h"
#include "clienthash.h"
#include "errbuf.h"
#include "siphash.h"
#include "table_core.h"
#include "window.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL DW_TC_NIL /* "no entry" in every 16-bit link */
#define CHUNK_SHIFT 6u /* entries come in chunks of 64 */
#define CHUNK (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK - 1)
#define AUTO_SHARDS 256u       /* shards when max is large enough */
#define AUTO_MIN_PER_SHARD 64u /* fewer shards below this, for LRU fidelity */
#define MAX_SHARDS 65536u
#define EVICT_SCAN 8u /* clients eviction looks at, from the LRU end */

/* One client. The counters' window slots follow the header: wide (uint16)
 * counters first, then narrow (uint8) ones, at t->off[c]. */
struct ent {
	uint32_t khi, klo;   /* key: IPv6 prefix bits 0..63, or 0 and the IPv4 address */
	uint32_t last;       /* time of the last counted update; the windows' shared clock */
	uint32_t seen;       /* time of the last query of any kind; the LRU order */
	uint32_t first;      /* time of insertion */
	uint32_t total;      /* queries since insertion (saturating) */
	uint32_t hot;        /* protected from eviction while hot > now (counts, pin) */
	uint16_t prev, next; /* LRU list; head is the most recently seen */
	uint16_t hnext;      /* hash chain */
	uint16_t flags;      /* the judge's */
	uint16_t hash16;     /* low hash bits: bucket = hash16 & mask, no rehash to move */
	uint8_t family;      /* 4 or 6 */
	uint8_t spare;
	unsigned char slots[];
};
_Static_assert(sizeof(struct ent) == 40, "client entry header must stay 40 bytes");

/* A shard; aligned so two shards' locks never share a cache line. */
struct shard {
	_Alignas(64) atomic_uint mu; /* shard_lock(): 0 free, 1 held */
	unsigned char **chunks; /* ceil(cap / CHUNK) pointers once the shard is used */
	uint16_t *buckets;      /* nbuckets chain heads, NIL when empty */
	uint32_t nbuckets;      /* power of two >= alloc when memory allowed; 0 = none yet */
	uint32_t used;          /* entries 0 .. used-1 are live */
	uint32_t alloc;         /* entries in the allocated chunks */
	uint32_t cap;           /* this shard's share of max */
	uint16_t head, tail;    /* LRU ends */
	uint64_t inserts, evictions;
	uint64_t spared;    /* protected clients passed over by eviction */
	uint64_t forced;    /* protected clients evicted (every candidate was protected) */
};

/* The shard lock (table_core.h: a spinlock, and the rules every critical
 * section follows). */
static inline void shard_lock(struct shard *sh)
{
	dw_tc_lock(&sh->mu);
}

static inline void shard_unlock(struct shard *sh)
{
	dw_tc_unlock(&sh->mu);
}

struct dw_clients {
	struct shard *shards;
	uint32_t nshards, shard_mask;
	uint32_t stride; /* bytes per entry */
	uint32_t max;
	uint32_t span;   /* seconds the longest window counts an event: protection */
	uint8_t ncounters, ipv6_prefix;
	uint8_t narrow[DW_CLIENTS_MAX_COUNTERS]; /* counter c has 8-bit slots */
	uint16_t off[DW_CLIENTS_MAX_COUNTERS];   /* byte offset of counter c's slots */
	uint64_t k0, k1;                         /* the secret the hash derives from */
	struct dw_chash ch;                      /* the client hash (clienthash.h) */
	struct dw_window win[DW_CLIENTS_MAX_COUNTERS];
};

/* The aggregated key of a client. */
struct key {
	uint64_t k;
	uint8_t family;
};

/* The keyed hash of a key (clienthash.h: strongly universal, random per
 * table): spoofed sources cannot be picked to share a chain or a shard. */
static inline uint64_t key_hash(const struct dw_clients *t, const struct key *key)
{
	return dw_chash(&t->ch, key->k, key->family);
}

/* The first n (4 or 8) bytes of p as a big-endian integer: one load and a
 * byte swap, not a loop (make_key runs twice on every query). */
static inline uint64_t load_be(const uint8_t *p, unsigned n)
{
	uint64_t x;

	if (n == 4) {
		uint32_t w;

		memcpy(&w, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = __builtin_bswap32(w);
#endif
		return w;
	}
	memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* Aggregate an address into its key (IPv6 masked to the table's prefix).
 * Done here rather than with addr.c so the table needs only the struct. */
static int make_key(const struct dw_clients *t, const struct dw_addr *a, struct key *out)
{
	uint64_t k = 0;

	if (a->family == 4) {
		k = load_be(a->b, 4);
	} else if (a->family == 6) {
		k = load_be(a->b, 8);
		/* prefix is 32..64, so the shift is 0..32 */
		k &= ~0ULL << (64 - t->ipv6_prefix);
	} else {
		return -1;
	}
	out->k = k;
	out->family = a->family;
	return 0;
}

/* The address a key stands for, for views. */
static void key_addr(const struct key *key, struct dw_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = key->family;
	if (key->family == 4) {
		for (int i = 0; i < 4; i++)
			out->b[i] = (uint8_t)(key->k >> (24 - 8 * i));
	} else {
		for (int i = 0; i < 8; i++)
			out->b[i] = (uint8_t)(key->k >> (56 - 8 * i));
	}
}

static inline struct ent *ent_at(const struct dw_clients *t, const struct shard *sh, uint32_t i)
{
	return (struct ent *)(void *)(sh->chunks[i >> CHUNK_SHIFT] +
	                              (size_t)(i & CHUNK_MASK) * t->stride);
}

/* The LRU list (table_core.inc.c), for this entry type. */
#define TC_TABLE_PARAM const struct dw_clients *t,
#define TC_ENT(sh, i) ent_at(t, (sh), (i))
#define TC_ENT_BYTES t->stride
#define TC_INDEX_BYTES(sh) ((uint64_t)(sh)->nbuckets * sizeof(uint16_t))
#include "table_core.inc.c"

static inline bool ent_is(const struct ent *e, const struct key *key)
{
	return e->klo == (uint32_t)key->k && e->khi == (uint32_t)(key->k >> 32) &&
	       e->family == key->family;
}

static inline struct key ent_key(const struct ent *e)
{
	struct key key = {((uint64_t)e->khi << 32) | e->klo, e->family};

	return key;
}

/* Chain walk; NIL when the client is not in this shard. */
static uint16_t find(const struct dw_clients *t, const struct shard *sh, uint16_t hash16,
                     const struct key *key)
{
	if (sh->nbuckets == 0)
		return NIL;
	uint16_t i = sh->buckets[hash16 & (sh->nbuckets - 1)];

	while (i != NIL) {
		const struct ent *e = ent_at(t, sh, i);

		if (ent_is(e, key))
			return i;
		i = e->hnext;
	}
	return NIL;
}

static void hash_unlink(const struct dw_clients *t, struct shard *sh, uint16_t i)
{
	const struct ent *e = ent_at(t, sh, i);
	uint16_t *link = &sh->buckets[e->hash16 & (sh->nbuckets - 1)];

	while (*link != i)
		link = &ent_at(t, sh, *link)->hnext;
	*link = e->hnext;
}

/* Rebuild the index with a power of two >= alloc buckets (load <= 1); on
 * failure the old, fuller index stays valid. */
static void grow_index(const struct dw_clients *t, struct shard *sh)
{
	uint32_t n = 1;

	while (n < sh->alloc)
		n <<= 1;
	uint16_t *b = malloc(n * sizeof(*b));

	if (b == NULL)
		return;
	memset(b, 0xff, n * sizeof(*b)); /* NIL is all ones */
	for (uint32_t i = 0; i < sh->used; i++) {
		struct ent *e = ent_at(t, sh, i);
		uint16_t *head = &b[e->hash16 & (n - 1)];

		e->hnext = *head;
		*head = (uint16_t)i;
	}
	free(sh->buckets);
	/* atomic stores only for prefetch_head(), which reads them unlocked */
	__atomic_store_n(&sh->buckets, b, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->nbuckets, n, __ATOMIC_RELAXED);
}

/* Whether eviction must pass over a client: it has counts in some window
 * (or was pinned) until `hot`, or a detector's condition held at its last
 * counted query. */
static inline bool is_protected(const struct ent *e, uint32_t now)
{
	return e->hot > now || e->flags != 0;
}

/* The victim in a full shard: the least recently seen client that is not
 * protected, looking at most SCAN clients from the LRU end; a protected one
 * on the way gets a second chance (moved to the front). When all SCAN are
 * protected, the one with the fewest queries among them goes (a flood of
 * one-query sources loses to a worm that has queried before). */
static uint16_t pick_victim(const struct dw_clients *t, struct shard *sh, uint32_t now)
{
	uint16_t best = NIL;
	uint32_t best_total = UINT32_MAX;

	for (unsigned n = 0; n < EVICT_SCAN && sh->tail != NIL; n++) {
		uint16_t v = sh->tail;
		const struct ent *e = ent_at(t, sh, v);

		if (!is_protected(e, now))
			return v;
		if (e->total < best_total) {
			best = v;
			best_total = e->total;
		}
		if (sh->head == v)
			break; /* a one-entry list: nothing to rotate */
		lru_unlink(t, sh, v);
		lru_push_head(t, sh, v);
		sh->spared++;
	}
	if (best != NIL)
		sh->forced++;
	return best;
}

/* An entry for a new client: a fresh one, else pick_victim()'s, unlinked
 * from list and chain. NIL only for an empty shard without memory. */
static uint16_t take_entry(const struct dw_clients *t, struct shard *sh, uint32_t now, int *ret)
{
	if (sh->used == sh->alloc)
		grow_chunks(t, sh);
	if (sh->nbuckets < sh->alloc)
		grow_index(t, sh);
	if (sh->used < sh->alloc && sh->nbuckets > 0)
		return (uint16_t)sh->used++;
	uint16_t victim = pick_victim(t, sh, now);

	if (victim == NIL)
		return NIL;
	lru_unlink(t, sh, victim);
	hash_unlink(t, sh, victim);
	sh->evictions++;
	*ret |= DW_CLIENTS_EVICTED;
	return victim;
}

/* The client's shard (hash bits 32..) and its 16 bucket bits (bits 0..15). */
static struct shard *locate(const struct dw_clients *t, const struct key *key, uint16_t *hash16)
{
	uint64_t h = key_hash(t, key);

	*hash16 = (uint16_t)h;
	return &t->shards[(uint32_t)(h >> 32) & t->shard_mask];
}

/* Start loading the client's bucket head before the lock is taken, so that
 * the miss (the index of a large table is megabytes) overlaps the lock's
 * atomic operation. Reads the two fields grow_index() may be changing with
 * relaxed atomic loads; a stale or mismatched pair only prefetches a useless
 * (possibly freed) address, which a prefetch never faults on. */
static inline void prefetch_head(const struct shard *sh, uint16_t hash16)
{
	uint16_t *b = __atomic_load_n(&sh->buckets, __ATOMIC_RELAXED);
	uint32_t n = __atomic_load_n(&sh->nbuckets, __ATOMIC_RELAXED);

	if (n != 0)
		__builtin_prefetch(&b[hash16 & (n - 1)]);
}

/* A known client's query at now: the first one in a new second moves it
 * to the front of the LRU list. Under the shard's lock. */
static inline void seen_at(const struct dw_clients *t, struct shard *sh, uint16_t i, uint32_t now)
{
	struct ent *e = ent_at(t, sh, i);

	if (now > e->seen) {
		e->seen = now;
		if (sh->head != i) {
			lru_unlink(t, sh, i);
			lru_push_head(t, sh, i);
		}
	}
}

/* Insert a client that find() did not find into its (locked) shard; NIL on
 * ENOMEM. */
static uint16_t insert(const struct dw_clients *t, struct shard *sh, uint16_t hash16,
                       const struct key *key, uint32_t now, int *ret)
{
	uint16_t i = take_entry(t, sh, now, ret);

	if (i == NIL)
		return NIL;
	struct ent *e = ent_at(t, sh, i);

	e->khi = (uint32_t)(key->k >> 32);
	e->klo = (uint32_t)key->k;
	e->family = key->family;
	e->spare = 0;
	e->last = e->seen = e->first = now;
	e->total = 0;
	e->hot = 0;
	e->flags = 0;
	e->hash16 = hash16;
	uint16_t *head = &sh->buckets[hash16 & (sh->nbuckets - 1)];

	e->hnext = *head;
	*head = i;
	memset(e->slots, 0, t->stride - sizeof(struct ent));
	lru_push_head(t, sh, i);
	sh->inserts++;
	*ret |= DW_CLIENTS_NEW;
	return i;
}

/* Find the client in its (locked) shard, or insert it; NIL on ENOMEM. A
 * known client seen in a new second moves to the front of the LRU list. */
static uint16_t find_or_insert(const struct dw_clients *t, struct shard *sh, uint16_t hash16,
                               const struct key *key, uint32_t now, int *ret)
{
	uint16_t i = find(t, sh, hash16, key);

	if (i != NIL) {
		seen_at(t, sh, i, now);
		return i;
	}
	return insert(t, sh, hash16, key, now, ret);
}

/* Counter c of entry e: advance from e->last to at, add inc, return the count. */
static inline uint32_t counter_update(const struct dw_clients *t, struct ent *e, unsigned c,
                                      uint32_t at, uint16_t inc)
{
	unsigned char *p = e->slots + t->off[c];

	if (t->narrow[c])
		return dw_window_update8(&t->win[c], p, e->last, at, inc);
	return dw_window_update(&t->win[c], (uint16_t *)(void *)p, e->last, at, inc);
}

/* The sum of all 8 slots of counter c: what a read returns in the second of
 * the last counted update when the window counts 8 slots (k = 8: every
 * window of >= 8 s that is a multiple of its slot width, as all defaults).
 * Summed in 64-bit lanes: no division, no loop, no store. */
static inline uint32_t counter_sum8(const struct dw_clients *t, const struct ent *e, unsigned c)
{
	const unsigned char *p = e->slots + t->off[c];
	uint64_t x, y;

	if (t->narrow[c]) {
		memcpy(&x, p, 8);
		/* 8 bytes -> 4 lanes of 16 bits (<= 510 each) -> one sum <= 2040 */
		x = (x & 0x00ff00ff00ff00ffULL) + ((x >> 8) & 0x00ff00ff00ff00ffULL);
		return (uint32_t)((x * 0x0001000100010001ULL) >> 48);
	}
	memcpy(&x, p, 8);
	memcpy(&y, p + 8, 8);
	/* 2 × 4 lanes of 16 bits -> 2 lanes of 32 bits each, added */
	x = (x & 0x0000ffff0000ffffULL) + ((x >> 16) & 0x0000ffff0000ffffULL) +
	    (y & 0x0000ffff0000ffffULL) + ((y >> 16) & 0x0000ffff0000ffffULL);
	return (uint32_t)x + (uint32_t)(x >> 32);
}

/* Counter c of entry e in the second of its last counted update (at ==
 * e->last) of a window that counts all 8 slots: nothing expires, so add inc
 * to the current slot (saturating, as dw_window_update()) and return the
 * sum. Sums before the store, as dw_window_update() does (a read right
 * after a narrow store into the ring stalls store forwarding); no call, no
 * loop. */
static inline uint32_t counter_bump8(const struct dw_clients *t, struct ent *e, unsigned c,
                                     uint32_t at, uint16_t inc)
{
	unsigned char *p = e->slots + t->off[c];
	uint32_t sum = counter_sum8(t, e, c), pos = (at / t->win[c].g) % DW_WINDOW_SLOTS;

	if (t->narrow[c]) {
		uint8_t old = p[pos];
		uint8_t sat =
		    (uint8_t)(inc > DW_WINDOW_SLOT8_MAX - old ? DW_WINDOW_SLOT8_MAX : old + inc);

		p[pos] = sat;
		return sum + sat - old;
	}
	uint16_t old, sat;

	memcpy(&old, p + 2 * pos, 2);
	sat = (uint16_t)(old > DW_WINDOW_SLOT_MAX - inc ? DW_WINDOW_SLOT_MAX : old + inc);
	memcpy(p + 2 * pos, &sat, 2);
	return sum + sat - old;
}

/* Counter c of entry e at `at` >= e->last, read only. */
static inline uint32_t counter_read(const struct dw_clients *t, const struct ent *e, unsigned c,
                                    uint32_t at)
{
	const unsigned char *p = e->slots + t->off[c];

	if (t->narrow[c])
		return dw_window_count8(&t->win[c], p, e->last, at);
	return dw_window_count(&t->win[c], (const uint16_t *)(const void *)p, e->last, at);
}

uint64_t dw_clients_hash(const struct dw_clients *t, const struct dw_addr *client)
{
	struct key key;

	if (make_key(t, client, &key) != 0)
		return 0;
	return key_hash(t, &key);
}

void dw_clients_hash_key(const struct dw_clients *t, uint64_t *k0, uint64_t *k1)
{
	*k0 = t->k0;
	*k1 = t->k1;
}

/* The shard of a hash (bits 32..) and its 16 bucket bits (bits 0..15). */
static inline struct shard *locate_h(const struct dw_clients *t, uint64_t h, uint16_t *hash16)
{
	*hash16 = (uint16_t)h;
	return &t->shards[(uint32_t)(h >> 32) & t->shard_mask];
}

int dw_clients_update(struct dw_clients *t, const struct dw_addr *client, uint32_t now,
                      const uint16_t *inc, dw_clients_judge_fn judge, void *judge_arg)
{
	return dw_clients_update_h(t, client, dw_clients_hash(t, client), now, inc, judge,
	                           judge_arg);
}

int dw_clients_update_h(struct dw_clients *t, const struct dw_addr *client, uint64_t hash,
                        uint32_t now, const uint16_t *inc, dw_clients_judge_fn judge,
                        void *judge_arg)
{
	return dw_clients_update_need_h(t, client, hash, now, inc, UINT32_MAX, judge, judge_arg);
}

int dw_clients_update_need_h(struct dw_clients *t, const struct dw_addr *client, uint64_t hash,
                             uint32_t now, const uint16_t *inc, uint32_t need,
                             dw_clients_judge_fn judge, void *judge_arg)
{
	struct key key;
	struct dw_client_view v;
	uint16_t hash16;
	int ret = 0;

	if (make_key(t, client, &key) != 0)
		return DW_CLIENTS_EINVAL;
	struct shard *sh = locate_h(t, hash, &hash16);
	/* the view's address is known before locking: keep it out of the lock */
	prefetch_head(sh, hash16);
	key_addr(&key, &v.addr);
	v.ncounters = t->ncounters;

	shard_lock(sh);
	uint16_t i = find_or_insert(t, sh, hash16, &key, now, &ret);

	if (i == NIL) {
		shard_unlock(sh);
		return DW_CLIENTS_ENOMEM;
	}
	struct ent *e = ent_at(t, sh, i);
	uint32_t at = now > e->last ? now : e->last;
	bool counted = false, same = at == e->last;

	if (same) {
		/* the same second as the last counted update: no slot of any
		 * counter expires, so a counter without increment is only read,
		 * and one that is not needed is not even read */
		memset(v.counts, 0, sizeof(v.counts));
		for (uint32_t m = need & ((1u << t->ncounters) - 1); m != 0; m &= m - 1) {
			unsigned c = (unsigned)__builtin_ctz(m);

			if (inc != NULL && inc[c] != 0) {
				v.counts[c] = t->win[c].k == DW_WINDOW_SLOTS
				                  ? counter_bump8(t, e, c, at, inc[c])
				                  : counter_update(t, e, c, at, inc[c]);
				counted = true;
			} else if (t->win[c].k == DW_WINDOW_SLOTS) {
				v.counts[c] = counter_sum8(t, e, c);
			} else {
				v.counts[c] = counter_read(t, e, c, at);
			}
		}
	} else {
		for (unsigned c = 0; c < t->ncounters; c++) {
			uint16_t n = inc ? inc[c] : 0;
			uint32_t x = counter_update(t, e, c, at, n);

			v.counts[c] = need >> c & 1 ? x : 0; /* as in the same second */
			counted |= n != 0;
		}
		e->last = at;
	}
	if (counted && e->hot < at + t->span)
		e->hot = at + t->span;
	if (e->total != UINT32_MAX)
		e->total++;
	if (at > e->seen)
		e->seen = at;
	if (judge != NULL) {
		for (unsigned c = t->ncounters; !same && c < DW_CLIENTS_MAX_COUNTERS; c++)
			v.counts[c] = 0;
		v.now = v.last_seen = at;
		v.first_seen = e->first;
		v.total = e->total;
		v.flags = e->flags;
		e->flags = judge(judge_arg, &v);
	}
	shard_unlock(sh);
	return ret;
}

int dw_clients_touch(struct dw_clients *t, const struct dw_addr *client, uint32_t now,
                     uint32_t *total)
{
	return dw_clients_touch_h(t, client, dw_clients_hash(t, client), now, total);
}

int dw_clients_touch_h(struct dw_clients *t, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, uint32_t *total)
{
	struct key key;
	uint16_t hash16;
	int ret = 0;

	if (make_key(t, client, &key) != 0)
		return DW_CLIENTS_EINVAL;
	struct shard *sh = locate_h(t, hash, &hash16);

	prefetch_head(sh, hash16);
	shard_lock(sh);
	/* find() and seen_at() written out: this is most queries' only table
	 * work, and a known client seen this second is its common case */
	uint16_t i = NIL;
	struct ent *e = NULL;

	if (sh->nbuckets != 0)
		for (i = sh->buckets[hash16 & (sh->nbuckets - 1)]; i != NIL; i = e->hnext) {
			e = ent_at(t, sh, i);
			if (ent_is(e, &key))
				break;
		}
	if (i != NIL) {
		if (now > e->seen)
			seen_at(t, sh, i, now);
	} else {
		i = insert(t, sh, hash16, &key, now, &ret);
		if (i == NIL) {
			shard_unlock(sh);
			return DW_CLIENTS_ENOMEM;
		}
		e = ent_at(t, sh, i);
	}
	if (e->total != UINT32_MAX)
		e->total++;
	if (e->hot > now)
		ret |= DW_CLIENTS_ACTIVE;
	if (total != NULL)
		*total = e->total;
	shard_unlock(sh);
	return ret;
}

int dw_clients_pin(struct dw_clients *t, const struct dw_addr *client, uint32_t now,
                   uint32_t until)
{
	struct key key;
	uint16_t hash16;
	int ret = 0;

	if (make_key(t, client, &key) != 0)
		return DW_CLIENTS_EINVAL;
	struct shard *sh = locate(t, &key, &hash16);

	shard_lock(sh);
	uint16_t i = find_or_insert(t, sh, hash16, &key, now, &ret);

	if (i == NIL) {
		shard_unlock(sh);
		return DW_CLIENTS_ENOMEM;
	}
	struct ent *e = ent_at(t, sh, i);

	if (e->hot < until)
		e->hot = until;
	shard_unlock(sh);
	return ret;
}

/* Fill a view of entry e at now without modifying it. */
static void read_view(const struct dw_clients *t, const struct ent *e, uint32_t now,
                      struct dw_client_view *v)
{
	struct key key = ent_key(e);
	uint32_t at = now > e->last ? now : e->last;

	key_addr(&key, &v->addr);
	v->first_seen = e->first;
	v->total = e->total;
	v->last_seen = e->seen > e->last ? e->seen : e->last;
	v->now = at > v->last_seen ? at : v->last_seen;
	v->flags = e->flags;
	v->ncounters = t->ncounters;
	for (unsigned c = 0; c < t->ncounters; c++)
		v->counts[c] = counter_read(t, e, c, v->now);
	for (unsigned c = t->ncounters; c < DW_CLIENTS_MAX_COUNTERS; c++)
		v->counts[c] = 0;
}

int dw_clients_get(struct dw_clients *t, const struct dw_addr *client, uint32_t now,
                   struct dw_client_view *out)
{
	struct key key;
	uint16_t hash16;
	int found = 0;

	if (make_key(t, client, &key) != 0)
		return DW_CLIENTS_EINVAL;
	struct shard *sh = locate(t, &key, &hash16);

	shard_lock(sh);
	uint16_t i = find(t, sh, hash16, &key);

	if (i != NIL) {
		read_view(t, ent_at(t, sh, i), now, out);
		found = 1;
	}
	shard_unlock(sh);
	return found;
}

int dw_clients_foreach(struct dw_clients *t, uint32_t now, dw_clients_visit_fn fn, void *arg)
{
	struct dw_client_view v;

	for (uint32_t s = 0; s < t->nshards; s++) {
		struct shard *sh = &t->shards[s];
		int rc = 0;

		shard_lock(sh);
		/* array order: every live entry once, sequential memory */
		for (uint32_t i = 0; i < sh->used && rc == 0; i++) {
			read_view(t, ent_at(t, sh, i), now, &v);
			rc = fn(arg, &v);
		}
		shard_unlock(sh);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void dw_clients_stats(struct dw_clients *t, struct dw_clients_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = t->max;
	out->entry_bytes = t->stride;
	out->shards = t->nshards;
	struct tc_sums sum = {0, 0, 0, sizeof(*t) + (uint64_t)t->nshards * sizeof(struct shard)};

	for (uint32_t s = 0; s < t->nshards; s++) {
		struct shard *sh = &t->shards[s];

		shard_lock(sh);
		shard_sums(t, sh, &sum);
		out->spared += sh->spared;
		out->forced += sh->forced;
		shard_unlock(sh);
	}
	out->tracked = sum.tracked;
	out->inserts = sum.inserts;
	out->evictions = sum.evictions;
	out->bytes = sum.bytes;
}

/* Shards for a table of max clients: a power of two, enough that no shard
 * exceeds DW_CLIENTS_SHARD_MAX, otherwise AUTO_SHARDS unless that would leave
 * fewer than AUTO_MIN_PER_SHARD clients per shard. */
static uint32_t auto_shards(uint32_t max)
{
	return dw_tc_auto_shards(max, AUTO_SHARDS, AUTO_MIN_PER_SHARD, DW_CLIENTS_SHARD_MAX);
}

/* Check a configuration; 0, or -1 with the reason in err. */
static int check_conf(const struct dw_clients_conf *c, char *err, size_t errlen)
{
	if (c->max < 1 || c->max > DW_CLIENTS_MAX) {
		dw_set_err(err, errlen, "clients.max must be 1..%u, got %u", DW_CLIENTS_MAX, c->max);
		return -1;
	}
	if (c->ipv6_prefix < 32 || c->ipv6_prefix > 64) {
		dw_set_err(err, errlen, "clients.ipv6_prefix must be 32..64, got %u",
		        (unsigned)c->ipv6_prefix);
		return -1;
	}
	if (c->ncounters < 1 || c->ncounters > DW_CLIENTS_MAX_COUNTERS) {
		dw_set_err(err, errlen, "client counters must be 1..%d, got %u",
		        DW_CLIENTS_MAX_COUNTERS, (unsigned)c->ncounters);
		return -1;
	}
	for (unsigned i = 0; i < c->ncounters; i++) {
		if (c->window[i] < 1 || c->window[i] > DW_WINDOW_MAX) {
			dw_set_err(err, errlen, "window of counter %u must be 1..%u seconds, got %u",
			        i, DW_WINDOW_MAX, c->window[i]);
			return -1;
		}
	}
	if (c->shards != 0) {
		if ((c->shards & (c->shards - 1)) != 0 || c->shards > MAX_SHARDS ||
		    c->shards > c->max) {
			dw_set_err(err, errlen, "shards must be a power of two <= max (%u), got %u",
			        c->max, c->shards);
			return -1;
		}
		if ((c->max + c->shards - 1) / c->shards > DW_CLIENTS_SHARD_MAX) {
			dw_set_err(err, errlen, "%u shards for %u clients exceed %u clients a shard",
			        c->shards, c->max, DW_CLIENTS_SHARD_MAX);
			return -1;
		}
	}
	return 0;
}

/* 128 unpredictable bits for the hash key. */
static int seed(struct dw_clients *t, char *err, size_t errlen)
{
	if (dw_siphash_key(&t->k0, &t->k1, err, errlen) != 0)
		return -1;
	dw_chash_derive(&t->ch, t->k0, t->k1);
	return 0;
}

struct dw_clients *dw_clients_new(const struct dw_clients_conf *conf, char *err, size_t errlen)
{
	if (check_conf(conf, err, errlen) != 0)
		return NULL;
	struct dw_clients *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		dw_set_err(err, errlen, "client table: out of memory");
		return NULL;
	}
	t->max = conf->max;
	t->ncounters = conf->ncounters;
	t->ipv6_prefix = conf->ipv6_prefix;
	/* wide counters first (2-byte aligned after the 40-byte header), then
	 * narrow ones; the stride is rounded up to the header's alignment */
	uint32_t off = 0;

	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < conf->ncounters; i++) {
			if ((conf->narrow[i] != 0) != (pass == 1))
				continue;
			t->narrow[i] = pass == 1;
			t->off[i] = (uint16_t)off;
			off += DW_WINDOW_SLOTS * (pass == 1 ? 1u : 2u);
		}
	t->stride = (uint32_t)((sizeof(struct ent) + off + _Alignof(struct ent) - 1) /
	                       _Alignof(struct ent) * _Alignof(struct ent));
	for (unsigned i = 0; i < conf->ncounters; i++) {
		(void)dw_window_init(&t->win[i], conf->window[i]); /* checked above */
		if (t->win[i].k * t->win[i].g > t->span)
			t->span = t->win[i].k * t->win[i].g;
	}
	if (seed(t, err, errlen) != 0) {
		free(t);
		return NULL;
	}

	t->nshards = conf->shards ? conf->shards : auto_shards(conf->max);
	t->shard_mask = t->nshards - 1;
	t->shards = aligned_alloc(_Alignof(struct shard), t->nshards * sizeof(struct shard));
	if (t->shards == NULL) {
		dw_set_err(err, errlen, "client table: out of memory for %u shards", t->nshards);
		free(t);
		return NULL;
	}
	shards_init(t->shards, t->nshards, conf->max);
	return t;
}

void dw_clients_free(struct dw_clients *t)
{
	if (t == NULL)
		return;
	shards_free(t->shards, t->nshards);
	free(t->shards);
	free(t);
}
