/**
 * \file
 * What happens to a blocked client: the block list, the source of truth of
 * enforcement.
 *
 * What it is for: a verdict in enforce mode, or a manual `block`, puts a
 * client on the list with an action and an expiry; the backend (backend.h)
 * is a projection of this list, the state file a copy of it. Repeat
 * offenders climb a ladder: the n-th block of a client within
 * policy.ladder_window lasts duration × ladder_factor^(n-1), capped at
 * policy.max_duration. Expired blocks stay on the list, inactive, as the
 * history the ladder needs, until they are older than the ladder window.
 *
 * Keys: the aggregated client (IPv4 /32, IPv6 /clients.ipv6_prefix), the same
 * key the client table uses.
 *
 * Cost: about 120 bytes per entry (active or history), at most
 * policy.max_blocks entries; 64 shards of 256 chain heads allocated up front
 * (~130 KiB). dw_policy_lookup() is one atomic load when nothing is blocked,
 * else one keyed hash (SipHash, random key per list: no client can choose
 * keys that share a chain), one shard mutex and a short chain walk.
 * Invariant: dw_policy_active() equals the entries whose active flag is set
 * (an expired block not yet swept is still one of them).
 * Thread safety: dw_policy_lookup() from any thread; every other call from
 * one thread at a time (the module's own thread).
 * Errors: dw_policy_block() returns -1 when the list is full of active blocks
 * (history is dropped first to make room); loading reports the bad line.
 */
#ifndef DW_POLICY_H
#define DW_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "conf.h"

/** One entry of the block list (a copy: callers' memory). */
struct dw_block {
	struct dw_addr client; /**< aggregated key */
	uint8_t prefix;        /**< 32, or the IPv6 aggregation prefix */
	uint8_t action;        /**< enum dw_action */
	int8_t detector;       /**< enum dw_detector, or -1 for a manual block */
	uint8_t active;        /**< 1 while enforced; 0 = kept as ladder history */
	uint8_t applied;       /**< enum dw_applied (module's thread bookkeeping) */
	uint32_t offences;     /**< blocks within the ladder window, this one included */
	uint32_t duration;     /**< seconds this block lasts (after the ladder) */
	int64_t created;       /**< seconds on the caller's clock (the engine's is monotonic) */
	int64_t expires;       /**< seconds on that clock; 0 = until unblocked */
};

/** Where an active block stands with the backend. */
enum dw_applied {
	DW_APPLIED_NO = 0,   /**< not in the backend yet: (re)tried */
	DW_APPLIED_YES = 1,  /**< the backend has it */
	DW_APPLIED_NEVER = 2 /**< the backend refused it for good: never retried */
};

struct dw_policy;

/** An empty list shaped by conf (which must outlive it), hashed with a fresh
 *  random SipHash key. NULL on ENOMEM or when getrandom() gives no key. */
struct dw_policy *dw_policy_new(const struct dw_conf *conf);

/** Release the list. NULL is fine. */
void dw_policy_free(struct dw_policy *p);

/** The aggregated key of a client address (what every call below expects). */
void dw_policy_key(const struct dw_policy *p, const struct dw_addr *a, struct dw_addr *key,
		   uint8_t *prefix);

/** Any thread: the action in force for the (aggregated) client at now, or
 *  DW_ACT_LOG when none. An expired block not yet swept counts as none. */
enum dw_action dw_policy_lookup(struct dw_policy *p, const struct dw_addr *key, int64_t now);

/** Block a client: a new block, or a replacement of an active one (the
 *  ladder counts it as a new offence only when the old one was inactive).
 *  duration 0 = until unblocked (manual only). *out receives the entry.
 *  0 on success, -1 when the list is full. */
int dw_policy_block(struct dw_policy *p, const struct dw_addr *key, enum dw_action action,
		    uint32_t duration, int detector, int64_t now, struct dw_block *out);

/** dw_policy_block() for a new offence (a detector's verdict, one per
 *  offence, detect.h): counted on the ladder even when the client's block
 *  is still in force, which it then replaces with the longer one. */
int dw_policy_offence(struct dw_policy *p, const struct dw_addr *key, enum dw_action action,
                      uint32_t duration, int detector, int64_t now, struct dw_block *out);

/** The entry of an aggregated key (active or history): 1 and *out filled,
 *  0 when there is none. Module's thread; O(chain). */
int dw_policy_get(struct dw_policy *p, const struct dw_addr *key, struct dw_block *out);

/** Lift an active block; 1 and *out filled when there was one, 0 if not. */
int dw_policy_unblock(struct dw_policy *p, const struct dw_addr *key, struct dw_block *out);

/** Record where the backend stands with the entry (enum dw_applied;
 *  module's thread). */
void dw_policy_set_applied(struct dw_policy *p, const struct dw_addr *key, int applied);

/** Change the action of an existing entry in place (a block the backend
 *  cannot apply, mapped to the closest action it has). Module's thread.
 *  1 when the entry exists, 0 if not. */
int dw_policy_set_action(struct dw_policy *p, const struct dw_addr *key, enum dw_action action);

/** Deactivate blocks whose expiry has passed (fn is told of each), and
 *  forget history older than the ladder window. Returns blocks expired.
 *  O(1) before the earliest expiry or history end the last walk found
 *  (unless a block, unblock or load came since); then one walk of every
 *  chain, O(64 × 256 + entries). Module's thread. */
size_t dw_policy_expire(struct dw_policy *p, int64_t now,
			void (*fn)(void *arg, const struct dw_block *b), void *arg);

/** Visit every entry (active first is not guaranteed); nonzero stops. */
int dw_policy_foreach(struct dw_policy *p, int (*fn)(void *arg, const struct dw_block *b),
		      void *arg);

/** Active blocks now on the list. */
size_t dw_policy_active(const struct dw_policy *p);

/** The state file keeps wall-clock times; the list keeps the caller's
 *  clock (the engine's is monotonic, so a wall-clock step moves no expiry).
 *  off = wall now - list clock now: added to times by dw_policy_save(),
 *  taken off by dw_policy_load_line(). 0 by default. */
void dw_policy_set_wall_offset(struct dw_policy *p, int64_t off);

/** Write every entry as one "block ..." line (state file). */
void dw_policy_save(struct dw_policy *p, FILE *f);

/** Read one "block ..." line written by dw_policy_save(); entries that have
 *  expired by now come back as history. 0 (taken, or a duplicate), 1 when
 *  left out because the list holds policy.max_blocks, or -1 with err. */
int dw_policy_load_line(struct dw_policy *p, const char *line, int64_t now, char *err,
			size_t errlen);

#endif
