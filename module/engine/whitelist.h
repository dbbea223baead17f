/**
 * \file
 * The nameserver whitelist: which addresses are legitimate authoritative
 * DNS servers, learned from the resolver's own upstream traffic.
 *
 * What it is for: the research (HACKING.md "Where the detectors come from"; Ichise et al.,
 * "NS record history") observes that a resolver learns a server's NS record
 * and glue address before it ever sends that server a query, while bots that
 * talk DNS straight to a C&C address never do. Every address the resolver
 * legitimately uses as an authoritative server is listed here; a campus
 * firewall (export_nft) or an offline check of a border capture (dwpcap)
 * then flags client DNS traffic to any other address.
 *
 * What it learns from (struct dw_upstream, upstream.h, filled by the adapter):
 *   - DW_UP_QUERY "the resolver sent server S a query about zone Z": S is
 *     listed for Z (source "query"). The resolver only does that after it
 *     has S's address from a delegation, so this is the most reliable
 *     source (scrubbing drops out-of-zone glue; the query path does not).
 *     Its TTL is not in the event: the zone link lives max(min_ttl, 1)
 *     seconds from the LAST query, or longer when NS/glue records already
 *     gave it a longer life (a query never shortens an expiry).
 *   - DW_UP_RESPONSE NS records (zone -> nsname, ttl) go to the nameserver
 *     map (nsname -> zones, each with its expiry); A/AAAA records
 *     (host -> address, ttl) whose host is a known NS name list the address
 *     for every live zone of that name, named after the host. Source "glue"
 *     when the NS record naming the host is in the same event (a referral
 *     with glue), "resolved" when it came earlier (the resolver resolving an
 *     out-of-bailiwick nameserver name such as ns.hosting.test itself, or
 *     the glue of a big referral the adapter had to split over events).
 *     A/AAAA records for hosts that are not NS names are ignored: a web
 *     server's address is not a nameserver's.
 *     A response event with a non-empty zone also counts as a query of its
 *     server for that zone.
 *   - whitelist.static (source "static"): never expire, never evicted,
 *     not saved (the config is their source of truth).
 *
 * Expiry: a link from a record is valid for clamp(TTL) seconds where clamp
 * bounds to [whitelist.min_ttl, whitelist.max_ttl]; an address learned from
 * glue gets clamp(min(NS TTL left, A TTL)) (the paper: the entry dies when
 * nsttl or glueAttl does). An entry expires when its last zone link does.
 * With now in unix seconds, a link learned at t with TTL T is valid while
 * now < t + T (at now == t + T it is gone). A static address is always
 * known; its learned zones expire like any other.
 *
 * Bounds: at most whitelist.max_entries learned addresses (statics come on
 * top, bounded by the config) and at most max_entries NS names in the
 * nameserver map; per address at most DW_WL_MAX_NAMES names (most recent
 * kept) and DW_WL_MAX_ZONES zones; per NS name DW_WL_MAX_ZONES zones.
 * Eviction rule: a new address in a full table replaces the learned address
 * that expires first (ties: the least recently seen); if the newcomer itself
 * would expire before that one, the newcomer is dropped instead. So what
 * goes is always what would have gone first anyway, and a static entry is
 * never evicted. The nameserver map is bounded by the same rule. A full zone
 * list replaces its link that expires first (expired ones first). The name
 * string budget (below) evicts by the same rule across both tables.
 *
 * Cost (64-bit): per address 232 bytes of struct (4 name and 8 zone slots
 * inline) + 16 of hash and heap slots; per NS name 168 + 8; per distinct
 * name string 33 + its length; plus malloc's overhead (~16 B a block).
 * Name strings are interned (each stored once, reference counted) and
 * their total is budgeted at max(max_entries × 128 B, 1 MiB): past it, the
 * learned address or NS name that expires first is evicted until they fit,
 * so hostile zones with long unique names cost evictions, not memory.
 * Worst case at the default max_entries 200000: about 100 MB (200000 × 264
 * + 200000 × 184 + 25.6 MB of names); measured: 540 bytes per address with
 * one NS name and two short names (t/unit/test_whitelist.c, flood).
 * dw_whitelist_stats() gives the exact figure. learn() is O(records ×
 * zones + log n) with one SipHash per name and address; check() is O(1);
 * expire() O(expired × log n); foreach/dump/export/save O(n log n) (sorted).
 *
 * Thread safety: NONE. Every call on one struct dw_whitelist must come from
 * one thread at a time (the module's own thread); views and the strings
 * they point to are valid until the next call that changes the whitelist
 * (learn, expire, load, reconf, free).
 *
 * Time: `now` is wall-clock unix seconds (time(NULL)), because expiries are
 * saved to the state file and shown to operators.
 *
 * Errors: dw_whitelist_new() returns NULL with a reason; learn() returns -1
 * when memory ran out (the rest of the event is applied); invalid records
 * (a name that is not presentation form with the final dot made of
 * [a-z0-9_-] labels and \DDD escapes, upper case being folded; an address
 * of the wrong family or unspecified) are skipped and counted in
 * stats.rejected.
 * Loading skips malformed lines and reports the first one.
 */
#ifndef DW_WHITELIST_H
#define DW_WHITELIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "upstream.h"

/** Most nameserver names kept per address (the most recently linked). */
#define DW_WL_MAX_NAMES 4
/** Most zones kept per address and per NS name. */
#define DW_WL_MAX_ZONES 8
/** Longest name accepted, in presentation bytes (dw_upstream's buffers). */
#define DW_WL_NAME_MAX 255
/** Buffer that holds any saved line (dw_whitelist_save()), with the NUL. */
#define DW_WL_LINE_MAX 8192

/** How an address came to be listed (bits of dw_wl_view.src). */
#define DW_WL_SRC_STATIC 0x1u   /**< whitelist.static */
#define DW_WL_SRC_QUERY 0x2u    /**< the resolver sent it a query */
#define DW_WL_SRC_GLUE 0x4u     /**< A/AAAA beside the NS record naming it */
#define DW_WL_SRC_RESOLVED 0x8u /**< A/AAAA for an NS name learned earlier */

/** One address as the whitelist knows it (see thread-safety for lifetimes). */
struct dw_wl_view {
	struct dw_addr addr;
	unsigned src;      /**< DW_WL_SRC_* bits */
	time_t first_seen; /**< first learned; 0 = never (a static not yet seen) */
	time_t last_seen;  /**< last learned or refreshed; 0 = never */
	time_t expires;    /**< when it stops being known; 0 = never (static) */
	unsigned nnames;   /**< nameserver names, most recent first */
	const char *names[DW_WL_MAX_NAMES];
	unsigned nzones; /**< live zones, sorted by name */
	const char *zones[DW_WL_MAX_ZONES];
	time_t zone_expires[DW_WL_MAX_ZONES];
};

/** Counters and sizes (dw_whitelist_stats()). */
struct dw_wl_stats {
	uint64_t entries; /**< addresses held (learned + static), expired not yet swept included */
	uint64_t learned; /**< non-static addresses (<= max_entries) */
	uint64_t statics; /**< static addresses */
	uint64_t nsnames; /**< NS names in the nameserver map (<= max_entries) */
	uint64_t names;   /**< distinct interned name strings */
	uint64_t queries; /**< DW_UP_QUERY events learned */
	uint64_t responses;  /**< DW_UP_RESPONSE events learned */
	uint64_t records;    /**< NS/A/AAAA records looked at */
	uint64_t unlinked;   /**< A/AAAA records whose host is no known NS name */
	uint64_t rejected;   /**< invalid events/records skipped */
	uint64_t added;      /**< addresses added */
	uint64_t expired;    /**< addresses removed by expiry */
	uint64_t evicted;    /**< addresses evicted (or refused) because the table was full */
	uint64_t ns_evicted; /**< NS names evicted (or refused) from the full map */
	size_t name_bytes;   /**< bytes of interned name strings (budgeted) */
	size_t mem_bytes;    /**< heap bytes held (structs, strings, tables) */
};

struct dw_whitelist;

/** An empty whitelist shaped by conf's whitelist.* keys, with the static
 *  addresses already in. conf is read now only (not kept). NULL on ENOMEM
 *  (err says so). */
struct dw_whitelist *dw_whitelist_new(const struct dw_conf *conf, char *err, size_t errlen);

/** Release everything. NULL is fine. */
void dw_whitelist_free(struct dw_whitelist *wl);

/** Take a new config (reload): TTL bounds and max_entries apply from now on
 *  (a smaller max evicts at once by the eviction rule), the static set is
 *  replaced (an address that is no longer static stays only while it has
 *  live learned zones). 0, or -1 on ENOMEM (then the statics may be partial). */
int dw_whitelist_reconf(struct dw_whitelist *wl, const struct dw_conf *conf);

/** Learn from one upstream observation (module's thread). Returns 2 when an
 *  address, zone or name was added (save the state soon), 1 when only
 *  expiries moved (save it some time), 0 when nothing changed, -1 on ENOMEM. */
int dw_whitelist_learn(struct dw_whitelist *wl, const struct dw_upstream *u, time_t now);

/** Remove addresses and NS names whose every zone link expired at now
 *  (expires <= now). Returns the number of addresses removed. */
size_t dw_whitelist_expire(struct dw_whitelist *wl, time_t now);

/** Is addr a known nameserver at now? 1 and *out filled (when out is not
 *  NULL), or 0 (expired entries not yet swept count as unknown). */
int dw_whitelist_check(struct dw_whitelist *wl, const struct dw_addr *addr, time_t now,
                       struct dw_wl_view *out);

/** Call fn for every known address at now, in address order (IPv4 first;
 *  unordered if the sort buffer cannot be allocated). Stops when fn returns
 *  non-zero and returns that value; 0 otherwise. fn must not change wl. */
int dw_whitelist_foreach(struct dw_whitelist *wl, time_t now,
                         int (*fn)(void *arg, const struct dw_wl_view *v), void *arg);

/** export_nft: a file for `nft -f` that (re)declares table inet dnswarden
 *  with sets dnswarden_ns4 (ipv4_addr) and dnswarden_ns6 (ipv6_addr),
 *  flushes both and adds every known address, statics included, in one
 *  atomic transaction. Returns the number of addresses, or -1 on a write
 *  error. */
long dw_whitelist_export_nft(struct dw_whitelist *wl, time_t now, FILE *f);

/** Write the learned state as lines starting "wl " (see whitelist.c for the
 *  format): one "wl addr …" per address with live learned zones, one
 *  "wl ns …" per NS name. Statics are not saved. Expired links are
 *  included up to the last sweep; they are dropped on load's next expire. */
void dw_whitelist_save(struct dw_whitelist *wl, FILE *f);

/** Take one saved line (with or without its newline); lines for other
 *  units must not be passed. 0, or -1 with the reason in err (nothing was
 *  changed by that line). Merges with what is there; bounded like learn().
 *  Call dw_whitelist_expire() after loading to drop what expired meanwhile. */
int dw_whitelist_load_line(struct dw_whitelist *wl, const char *line, char *err, size_t errlen);

/** Read a whole file, taking the lines that start with "wl " and ignoring
 *  every other line (so it can share a file with other units). Returns 0
 *  when every "wl" line was good, -1 when some were skipped or reading
 *  failed (err: the first reason, with its line number, and the count). */
int dw_whitelist_load(struct dw_whitelist *wl, FILE *f, char *err, size_t errlen);

/** The two callbacks of struct dw_state_extra (state.h), arg = the
 *  whitelist, prefix "wl". */
void dw_whitelist_state_save(void *arg, FILE *f);
int dw_whitelist_state_load_line(void *arg, const char *line, char *err, size_t errlen);

/** Counters and sizes. */
void dw_whitelist_stats(const struct dw_whitelist *wl, struct dw_wl_stats *out);

/** Text of a DW_WL_SRC_* bit set, comma-separated ("static,query"), "-"
 *  when none; buf >= 32 bytes. */
const char *dw_whitelist_src_text(unsigned src, char *buf, size_t len);

#endif
