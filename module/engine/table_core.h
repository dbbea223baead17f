/**
 * \file
 * The sharded-table core shared by the client table (clients.c) and the
 * suspect store (suspects.c): what both are made of, and the rules their
 * locks follow. The per-entry-type parts (the LRU list over an entry type's
 * links) are in table_core.inc.c, included by each table after it has
 * defined its entry and shard types, so the compiler sees one concrete type
 * and no call through a pointer or a size variable is added.
 *
 * Shape of a table built on the core:
 *   - shards: a power of two, picked by hash bits 32..; a shard is a struct
 *     aligned to 64 bytes (no two shard locks share a cache line) holding a
 *     lock, a chained hash index (bucket = low hash bits), an LRU list and
 *     chunks of fixed-size entries, allocated as the shard fills and never
 *     moved or freed before the table;
 *   - keyed hashing: clients by clienthash.h's multiply-add-shift hash,
 *     random per table, the client table's shared with the suspect store
 *     so the engine hashes a client once; names by SipHash-1-3 (siphash.h);
 *   - 16-bit entry indices (DW_TC_NIL = none) for every link: at most
 *     DW_TC_SHARD_MAX entries a shard;
 *   - the LRU list: head is the most recently used, tail the eviction end;
 *     lru_unlink() and lru_push_head() (table_core.inc.c) keep it;
 *   - stats and iteration: shard by shard, one shard lock at a time.
 *
 * Lock rules (both tables):
 *   - every access to a shard's entries, index, list or counters is under
 *     that shard's lock (dw_tc_lock()), except lock-free reads a table
 *     documents itself (the suspect store's bucket heads, atomic);
 *   - a thread holds at most ONE shard lock, of at most one table: no lock
 *     order exists between shards or tables, so none can be violated; the
 *     engine calls the client table and the suspect store one after the
 *     other, never nested. The only lock taken under a shard lock is one of
 *     a unit that never calls into a table (the judge's exemption check,
 *     exempt.h), so no cycle can form;
 *   - a critical section is short and bounded: a chain walk, a bounded
 *     number of eviction candidates, the window counters, one judge call; no
 *     I/O, no sleeping; the only allocation is a chunk while a shard grows
 *     (warm-up), never once the shard holds its share;
 *   - a callback run under the lock (judge, foreach visitors) obeys the same
 *     rules and must not call back into any table.
 *
 * The lock: a test-and-test-and-set spinlock on one atomic_uint, which
 * yields the CPU after DW_TC_SPIN_YIELD failed looks (so a holder that was
 * descheduled gets to run). Uncontended it costs one atomic exchange and one
 * release store: about a third of a pthread mutex's instructions.
 *
 * Thread safety: dw_tc_lock()/dw_tc_unlock() from any thread. Errors: none.
 */
#ifndef DW_TABLE_CORE_H
#define DW_TABLE_CORE_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

/** "No entry" in every 16-bit link. */
#define DW_TC_NIL UINT16_MAX

/** Most entries in one shard (16-bit indices, DW_TC_NIL excluded). */
#define DW_TC_SHARD_MAX 65535u

/** Failed looks at a held lock before sched_yield(). */
#define DW_TC_SPIN_YIELD 64u

/** Take a shard lock (0 free, 1 held); spins, then yields. */
static inline void dw_tc_lock(atomic_uint *mu)
{
	unsigned spins = 0;

	while (atomic_exchange_explicit(mu, 1, memory_order_acquire) != 0) {
		while (atomic_load_explicit(mu, memory_order_relaxed) != 0) {
			if (++spins >= DW_TC_SPIN_YIELD) {
				spins = 0;
				sched_yield();
			}
		}
	}
}

/** Release a shard lock taken by dw_tc_lock(). */
static inline void dw_tc_unlock(atomic_uint *mu)
{
	atomic_store_explicit(mu, 0, memory_order_release);
}

/** Shards for a table of max entries: a power of two, `want` unless that
 *  leaves fewer than min_per_shard entries a shard (fewer shards keep the
 *  LRU order closer to global), more if a shard would exceed shard_max.
 *  want and shard_max > 0; O(log). */
static inline uint32_t dw_tc_auto_shards(uint32_t max, uint32_t want, uint32_t min_per_shard,
                                         uint32_t shard_max)
{
	uint32_t n = want;

	while (n > 1 && max / n < min_per_shard)
		n >>= 1;
	while ((max + n - 1) / n > shard_max)
		n <<= 1;
	return n;
}

/** Shard i's share of max over n shards: the remainder spread over the
 *  first shards, so the caps add up to max exactly. */
static inline uint32_t dw_tc_shard_cap(uint32_t max, uint32_t n, uint32_t i)
{
	return max / n + (i < max % n);
}

#endif
