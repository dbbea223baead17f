/**
 * \file
 * The client table: per-client sliding-window counters for every client the
 * resolver serves, bounded in memory, sharded for Unbound's worker threads.
 *
 * What it is for: each query becomes one dw_clients_update() that bumps a few
 * counters of its client ("MX queries", "PTR queries", …, each over its own
 * window, see window.h) and hands the client's current counts to a judge (the
 * detectors) while the client is locked, so that "fire once per crossing" is
 * decided exactly even when several threads serve the same client.
 *
 * Key: IPv4 clients by their full /32; IPv6 clients aggregated to the
 * configured prefix (32..64 bits), since one host owns a whole /64. The view
 * shows the aggregated address (host bits zero).
 *
 * Memory (all bounded by conf.max, nothing grows beyond it):
 *   - per tracked client: 40 + 16 × wide + 8 × narrow counters bytes
 *     (rounded up to 4): key, first/last seen, window clock, query total,
 *     protection time, judge flags, 16-bit LRU and hash links, then the
 *     counters' window slots. The layout follows the config: only the
 *     counters the enabled detectors need exist (detect.c: one per
 *     distinct kind and window), and a counter whose every threshold is
 *     <= 255 has 8-bit slots (conf.narrow). The default detectors use 7
 *     counters, 3 wide (keyword A 3600 s, IPv4 literal 3600 s, PTR 60 s:
 *     thresholds 500, 500, 1000) and 4 narrow (MX 600 s, PTR 600 s,
 *     forward PTR 600 s, signature 3600 s: thresholds 50, 1, 20, 1): 120 B;
 *   - hash index: 2 bytes × (power of two >= entries allocated in the
 *     shard), i.e. 2..4 B per client; chunk pointers 0.125 B per client;
 *   - 128 bytes per shard (allocated up front) and ~200 bytes per table.
 *   Full at max = 1,000,000 with the default detectors (tools/dev/bench-bytes):
 *   about 122 B per client by the table's own accounting and by the RSS
 *   growth; dw_clients_stats() gives the exact figure at run time. Entries
 *   are allocated in chunks of 64 as a shard
 *   fills and the index doubles with them, up to the shard's cap: a campus
 *   that sees 20k clients does not pay for a million. Nothing shrinks or
 *   moves until dw_clients_free().
 * Eviction: each shard holds at most its share of max (max / shards, the
 * remainder spread, so the total is exactly max); a new client in a full
 * shard replaces an unprotected client, the least recently seen one among
 * the EVICT_SCAN (8) at the LRU end. A client is protected while it has
 * counts in any window (hot: the last counted query plus the longest
 * window's span), while pinned (dw_clients_pin(): a blocked client), and
 * while a detector's condition held at its last counted query; a protected
 * client found at the LRU end is moved to the front (second chance). Only
 * when all 8 are protected does one of them go: the one with the fewest
 * queries (stats: forced). A flood of spoofed sources sending plain queries
 * therefore cycles through the unprotected part of the table at constant
 * memory and never evicts a worm whose queries are being counted; a flood
 * of counted queries evicts its own one-query sources first. LRU order is
 * by last-seen second per shard (a client moves to the front when first
 * seen in a new second) and approximate across shards.
 * Hashing: a strongly universal multiply-add-shift hash of the 9-byte key
 * with parameters drawn per table from 128 random bits (getrandom();
 * clienthash.h): sources picked without the key spread like random ones
 * over shards and chains, and no client ever sees a hash value; why that
 * suffices where SipHash was used before is argued in clienthash.h.
 *
 * Work per call: dw_clients_update(), dw_clients_touch() and
 * dw_clients_get() take one shard lock once: one hash, an expected O(1)
 * chain walk (load <= 1); update adds O(8) per counter (window.h; a counter
 * without increment in the second of the client's last counted update is
 * only read) and one judge call; touch adds nothing. An insert into a full
 * shard looks at <= 8 clients and walks the victim's chain. A growth step allocates one chunk
 * (every 64 new clients of a shard) and, about log2(cap) times in a shard's life, rebuilds its
 * index in O(entries); that is the only time the query path calls malloc(). foreach is O(tracked),
 * stats O(shards). dw_clients_update_need_h() touches, within the second of
 * the last counted update, only the counters its judge reads. Measured
 * (tools/dev/bench, whole-process callgrind, cache hits): a plain query's
 * dw_clients_hash() and dw_clients_touch_h() together about 120
 * instructions, the hash 27 of them with its call (250 and 103 with
 * SipHash and the touch through the generic find-or-insert); a keyword query's
 * dw_clients_update_need_h() about 380, its judge included (was 740 when
 * every counter was summed and every detector judged).
 *
 * Thread safety and lock rules: every function may be called from any thread
 * concurrently, except dw_clients_free() (no call may be running or follow).
 * All state of a client is read and written under its shard's lock, so no
 * increment is ever lost. Lock rules:
 *   - one lock per shard (a spinlock that yields after 64 failed looks:
 *     every critical section is short and bounded); no global lock; these
 *     are the sharded-table core's rules (table_core.h), which the suspect
 *     store (suspects.h) follows too;
 *   - a call holds at most ONE shard lock at a time and never takes another
 *     lock (of this table or anything else) while holding it, except what
 *     the judge takes (the exemption check, exempt.h, which must not call
 *     back into this table); so the table cannot take part in a deadlock;
 *   - the hash (dw_clients_hash) and address aggregation run before the lock;
 *   - dw_clients_foreach() and dw_clients_stats() hold one shard lock at a
 *     time, so they see each shard consistently but not the table as one
 *     instant;
 *   - callbacks (judge, visit) run under the shard lock: they must be short,
 *     must not block, do I/O, or call back into this table (deadlock); they
 *     receive a view valid only during the call;
 *   - the bucket-head prefetch before the lock reads two fields with relaxed
 *     atomics and only prefetches (never dereferences) what it read.
 *
 * Time: `now` is caller-supplied monotonic seconds, as in window.h. A client's
 * `last` never moves backwards: an update with now < last counts at last.
 *
 * Errors: dw_clients_new() returns NULL with a sentence in err. Update/get
 * return DW_CLIENTS_EINVAL for an address of unknown family and
 * dw_clients_update() returns DW_CLIENTS_ENOMEM only when an empty shard
 * cannot allocate its first entries (a full or non-empty shard evicts instead
 * of failing); nothing is changed in either case.
 */
#ifndef DW_CLIENTS_H
#define DW_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** Most counters a client can have: one per detector and a PTR counter each
 *  for mx_worm and spam_relay, so that every window dnswarden.yaml(5)
 *  allows fits (detect.c asserts it). A table only pays for the counters
 *  its config uses. */
#define DW_CLIENTS_MAX_COUNTERS 9

/** Largest conf.max accepted (as dnswarden.yaml's clients.max). */
#define DW_CLIENTS_MAX 100000000u

/** Most clients one shard holds (16-bit links; one value means "none"). */
#define DW_CLIENTS_SHARD_MAX 65535u

/** dw_clients_update() result bits (>= 0) and errors (< 0). */
enum {
	DW_CLIENTS_NEW = 1,     /**< the client was not tracked and now is */
	DW_CLIENTS_EVICTED = 2, /**< ... and took the place of an evicted client */
	DW_CLIENTS_ACTIVE = 4,  /**< dw_clients_touch(): the client is protected (has counts) */
	DW_CLIENTS_EINVAL = -1, /**< address family is neither 4 nor 6 */
	DW_CLIENTS_ENOMEM = -2  /**< out of memory with nothing to evict */
};

/** Table shape; copied by dw_clients_new(), not referenced afterwards. */
struct dw_clients_conf {
	uint32_t max;        /**< tracked clients cap, 1 .. DW_CLIENTS_MAX */
	uint8_t ipv6_prefix; /**< IPv6 aggregation, 32 .. 64 bits */
	uint8_t ncounters;   /**< counters per client, 1 .. DW_CLIENTS_MAX_COUNTERS */
	uint32_t window[DW_CLIENTS_MAX_COUNTERS]; /**< seconds per counter, 1 .. DW_WINDOW_MAX */
	/** nonzero: counter i has 8-bit slots (window.h's narrow variant: 8
	 *  bytes instead of 16, counts exact up to 255 a slot); set it when
	 *  every threshold compared with the counter is <= 255. */
	uint8_t narrow[DW_CLIENTS_MAX_COUNTERS];
	/** 0 picks automatically (up to 256, at least 64 clients each where max
	 *  allows; more when max / 256 > DW_CLIENTS_SHARD_MAX). Otherwise a power
	 *  of two <= max with max / shards <= DW_CLIENTS_SHARD_MAX (tests use it). */
	uint32_t shards;
};

/** One client as the judge, get and foreach see it (a copy; caller's memory). */
struct dw_client_view {
	struct dw_addr addr; /**< aggregated key: IPv4 /32 or IPv6 prefix, host bits 0 */
	uint32_t now;        /**< time the counts are for: max(now passed, last_seen before) */
	uint32_t first_seen; /**< when the client entered the table (eviction forgets) */
	uint32_t last_seen;  /**< last update (== now inside the judge) */
	uint32_t total;      /**< updates (queries) since first_seen, saturating */
	uint16_t flags;      /**< owned by the judge; 0 for a new client */
	uint8_t ncounters;   /**< valid entries of counts */
	uint32_t counts[DW_CLIENTS_MAX_COUNTERS]; /**< events in each counter's window at now */
};

/** Called by dw_clients_update() under the shard lock with the client's
 *  counts after the increments; returns the client's new flags (the usual
 *  use: one "already fired" bit per detector, set on crossing a threshold,
 *  cleared when the count falls back). Findings go into arg (caller-owned). */
typedef uint16_t (*dw_clients_judge_fn)(void *arg, const struct dw_client_view *v);

/** Called by dw_clients_foreach() under a shard lock; nonzero stops the walk. */
typedef int (*dw_clients_visit_fn)(void *arg, const struct dw_client_view *v);

/** Counters read by dw_clients_stats(). */
struct dw_clients_stats {
	uint64_t tracked;     /**< clients in the table now */
	uint64_t capacity;    /**< conf.max */
	uint64_t inserts;     /**< clients added since creation */
	uint64_t evictions;   /**< clients dropped to make room */
	uint64_t spared;      /**< protected clients eviction passed over */
	uint64_t forced;      /**< protected clients evicted (all candidates were) */
	uint64_t bytes;       /**< heap held by the table (entries, index, shards) */
	uint32_t entry_bytes; /**< bytes of one client entry (40 + 16 × wide + 8 × narrow) */
	uint32_t shards;      /**< number of shards */
};

struct dw_clients;

/** Create a table; NULL with a reason in err (bad conf, ENOMEM, getrandom). */
struct dw_clients *dw_clients_new(const struct dw_clients_conf *conf, char *err, size_t errlen);

/** Release the table (NULL is fine); no other call may run concurrently. */
void dw_clients_free(struct dw_clients *tbl);

/** The per-query call: find or insert the client, advance its windows to now,
 *  add inc[i] to counter i (inc may be NULL: touch only), then let judge
 *  (may be NULL: flags unchanged) set the client's flags from its counts.
 *  Returns 0 for a known client, DW_CLIENTS_NEW or
 *  DW_CLIENTS_NEW | DW_CLIENTS_EVICTED for a new one, < 0 on error. */
int dw_clients_update(struct dw_clients *tbl, const struct dw_addr *client, uint32_t now,
                      const uint16_t *inc, dw_clients_judge_fn judge, void *judge_arg);

/** The per-query call for a query no counter counts: find or insert the
 *  client, count the query in its total (stored in *total when not NULL),
 *  move it in the LRU order; no window is touched, no judge runs (a
 *  detector's condition only changes with a counted query). Returns
 *  dw_clients_update()'s bits, | DW_CLIENTS_ACTIVE when the client has
 *  counts in a window (or is pinned), < 0 on error. */
int dw_clients_touch(struct dw_clients *tbl, const struct dw_addr *client, uint32_t now,
                     uint32_t *total);

/** The client's keyed hash (clienthash.h, of its aggregated key), to be
 *  computed once per query and passed to the _h calls (and to the suspect
 *  store, suspects.h); 0 for a bad address (the _h call then fails). No
 *  lock; O(1). */
uint64_t dw_clients_hash(const struct dw_clients *tbl, const struct dw_addr *client);

/** The 128 secret bits the table's hash derives from (for
 *  dw_suspects_set_client_key(), which derives the same hash). */
void dw_clients_hash_key(const struct dw_clients *tbl, uint64_t *k0, uint64_t *k1);

/** dw_clients_update() / dw_clients_touch() with hash = dw_clients_hash(). */
int dw_clients_update_h(struct dw_clients *tbl, const struct dw_addr *client, uint64_t hash,
                        uint32_t now, const uint16_t *inc, dw_clients_judge_fn judge,
                        void *judge_arg);
int dw_clients_touch_h(struct dw_clients *tbl, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, uint32_t *total);

/** dw_clients_update_h() for a judge that reads only some counters: bit c
 *  of need set = counter c is incremented (inc[c] may be nonzero only for
 *  those) or read by the judge. A counter not in need reads as 0 in the
 *  judge's view (its window still moves on); within the second of the
 *  client's last counted update it is not touched at all. need =
 *  UINT32_MAX is dw_clients_update_h(). */
int dw_clients_update_need_h(struct dw_clients *tbl, const struct dw_addr *client, uint64_t hash,
                             uint32_t now, const uint16_t *inc, uint32_t need,
                             dw_clients_judge_fn judge, void *judge_arg);

/** Protect a client from eviction until `until` (e.g. while it is blocked),
 *  inserting it when it is not tracked. For the module's thread; >= 0 as
 *  dw_clients_update(), < 0 on error. */
int dw_clients_pin(struct dw_clients *tbl, const struct dw_addr *client, uint32_t now,
                   uint32_t until);

/** Read one client's counts at now without touching it (no LRU move, no
 *  flag change): 1 and *out filled when tracked, 0 when not,
 *  DW_CLIENTS_EINVAL for a bad address. */
int dw_clients_get(struct dw_clients *tbl, const struct dw_addr *client, uint32_t now,
                   struct dw_client_view *out);

/** Visit every tracked client with its counts at now, shard by shard.
 *  Returns 0, or the first nonzero value fn returned (the walk stops). */
int dw_clients_foreach(struct dw_clients *tbl, uint32_t now, dw_clients_visit_fn fn, void *arg);

/** Fill *out with the table's counters (summed shard by shard). */
void dw_clients_stats(struct dw_clients *tbl, struct dw_clients_stats *out);

#endif
