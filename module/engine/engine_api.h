/**
 * \file
 * The engine as the control verbs see it: a stats snapshot, copy-out and
 * iterator functions for the suspect, client and block listings, and the
 * enforcement calls. commands.c and the other verb files (commands_*.c,
 * forwarder_commands.c, mail_commands.c) use this header and never the
 * engine's insides (engine_int.h), so the engine's struct can change
 * without touching a verb.
 *
 * Layering (HACKING.md): the verbs are a client of the engine, like the
 * adapter; the engine never calls a verb. The adapter hands the verb table
 * (commands.h) to dw_engine_open_control().
 *
 * Thread safety: every call here is for the module's own thread (the
 * control verbs run in its poll loop) unless it says "any thread"; none is
 * for the per-query path. A call takes at most one shard lock at a time
 * and never holds one when it returns or calls back, except where noted.
 * Cost: stated per call; the listings are O(table), the lookups O(1).
 * Errors: as values (0/-1 with err, or a count).
 */
#ifndef DW_ENGINE_API_H
#define DW_ENGINE_API_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "clients.h" /* struct dw_client_view */
#include "conf.h"
#include "control.h" /* struct dw_command */
#include "engine.h"
#include "feature.h"  /* DW_Q_COUNT, DW_FEAT_COUNT */
#include "geoip.h"    /* struct dw_geo */
#include "policy.h"   /* struct dw_block, enum dw_action */
#include "suspects.h" /* struct dw_suspect_view */

struct dw_whitelist;
struct dw_incidents;
struct dw_mailwatch;

/** Counters since the start, as the stats verbs see them. */
struct dw_counters {
	uint64_t queries[DW_SRC_COUNT];
	uint64_t verdicts[DW_DET_COUNT];
	uint64_t blocks[DW_ACT_COUNT];
	uint64_t unblocks, expiries, evictions, suppressed, verdicts_dropped, backend_errors;
	uint64_t control_requests;
	uint64_t upstream_events, upstream_dropped;
	uint64_t incidents_written, incidents_dropped, incidents_errors;
};

/** One snapshot of the counters and gauges (dw_engine_stats). */
struct dw_engine_stats {
	struct dw_counters c;
	uint64_t evictions_per_s; /**< clients evicted in the last whole second */
	uint64_t clients_tracked, clients_capacity, clients_bytes;
	uint64_t suspects_tracked, suspects_capacity, suspects_bytes;
	uint64_t names_bytes; /**< the distinct-name sets (0 when none) */
	uint64_t blocks_active;
	uint64_t memory_bytes; /**< dw_engine_mem() */
	uint64_t wl_entries, wl_evicted;
	uint64_t forwarder_verdicts;
	int64_t started; /**< wall-clock second of the start */
};

/** Open the control socket of conf->control_socket (nothing when it is
 *  empty) answering the verbs cmds[0..n-1] with this engine as their arg.
 *  After dw_engine_new(), before dw_engine_start(). 0, or -1 with err
 *  ("control.socket: ..."). */
int dw_engine_open_control(struct dw_engine *e, const struct dw_command *cmds, size_t n, char *err,
                           size_t errlen);

/** Count one control request (every verb but forwarders calls it once). */
void dw_engine_count_request(struct dw_engine *e);

/** Fill s with the counters and gauges now. Cost: one pass over the
 *  per-thread query slots and each table's shard counters (O(shards)). */
void dw_engine_stats(struct dw_engine *e, struct dw_engine_stats *s);

/** The counters "stats" last reset to (all zero at the start) in *base;
 *  with reset, make now the new base. O(1). */
void dw_engine_stats_base(struct dw_engine *e, struct dw_counters *base,
                          const struct dw_counters *reset);

/** The enforcement backend's name ("none" without one) and whether it is
 *  ready to apply blocks. */
const char *dw_engine_backend_name(const struct dw_engine *e);
int dw_engine_backend_ready(const struct dw_engine *e);

/** The label of the detectors' counter i (< dw_client_view.ncounters), as
 *  "NAME_WINDOWs" (e.g. "mx_60s"), in buf. */
void dw_engine_counter_label(const struct dw_engine *e, unsigned i, char *buf, size_t len);

/** Monotonic seconds (never 0) and milliseconds. Any thread. */
uint32_t dw_mono_now(void);
uint64_t dw_mono_ms(void);
/** UTC text of an engine (monotonic) second (dw_format_wall: wallclock.h). */
void dw_format_mono(const struct dw_engine *e, uint32_t t, char *buf, size_t len);
/** The block list's clock (monotonic seconds anchored at the start's wall
 *  time), its offset to the wall clock now, and a block time as UTC text.
 *  Block times are converted only for the state file and for display. */
int64_t dw_block_clock(const struct dw_engine *e);
int64_t dw_block_wall_offset(const struct dw_engine *e);
void dw_format_block_time(const struct dw_engine *e, int64_t t, char *buf, size_t len);

/* ---- clients and suspects ------------------------------------------------ */

/** What list_suspects prints of one suspect, copied out of the store. */
struct dw_suspect_copy {
	struct dw_addr addr;
	uint32_t now, first_seen, last_suspicious;
	uint32_t qclass[DW_Q_COUNT];
	uint32_t feature[DW_FEAT_COUNT];
};

/** Copy at most cap suspects into v (size it with suspects_capacity of
 *  dw_engine_stats: then none is left out). Returns how many. Cost:
 *  O(suspects), one suspects shard lock at a time, copies only under it. */
size_t dw_engine_suspects_copy(struct dw_engine *e, uint32_t now, struct dw_suspect_copy *v,
                               size_t cap);

/** One client's table entry: 1 and *cv, or 0 when not tracked. One client
 *  shard lock, O(1). */
int dw_engine_client(struct dw_engine *e, const struct dw_addr *a, uint32_t now,
                     struct dw_client_view *cv);

/** One suspect's evidence (key as dw_engine_block_key gives it): 1 and *sv,
 *  or 0. One suspects shard lock, O(1). */
int dw_engine_suspect(struct dw_engine *e, const struct dw_addr *key, uint32_t now,
                      struct dw_suspect_view *sv);

/** Call fn for every tracked client (under its shard lock: fn only copies,
 *  HACKING.md's lock order; nonzero from fn stops). O(clients). */
void dw_engine_clients_foreach(struct dw_engine *e, uint32_t now,
                               int (*fn)(void *arg, const struct dw_client_view *v), void *arg);

/* ---- blocks and exemptions ------------------------------------------------ */

/** The block list's key of a (the address, or its IPv6 prefix) and its
 *  length. O(1). */
void dw_engine_block_key(const struct dw_engine *e, const struct dw_addr *a, struct dw_addr *key,
                         uint8_t *prefix);

/** What the block list does to key now (DW_ACT_LOG: nothing). O(1). */
enum dw_action dw_engine_block_action(struct dw_engine *e, const struct dw_addr *key);

/** Call fn for every entry of the block list (active and history), no lock
 *  held (the module's thread is the list's only writer); nonzero stops. */
void dw_engine_blocks_foreach(struct dw_engine *e, int (*fn)(void *arg, const struct dw_block *b),
                              void *arg);

/** key's block list entry (active or history): 1 and *b, or 0. O(blocks). */
int dw_engine_block_find(struct dw_engine *e, const struct dw_addr *key, struct dw_block *b);

/** Block a by hand for duration seconds (0: until unblocked) with action;
 *  by names who asked (logged, in the incident history). 0 and *out, or -1
 *  with err. Applied through the backend, saved with the next state save. */
int dw_engine_block(struct dw_engine *e, const struct dw_addr *a, uint32_t duration,
                    enum dw_action action, const char *by, struct dw_block *out, char *err,
                    size_t errlen);

/** Lift a's block: 1 and *out (may be NULL) when it was blocked, else 0. */
int dw_engine_unblock(struct dw_engine *e, const struct dw_addr *a, const char *by,
                      struct dw_block *out);

/** Exempt c (and lift the block of the client it names); uid is the
 *  asker's, for the history. 1 added, 0 already there, -1 list full. */
int dw_engine_exempt_add(struct dw_engine *e, const struct dw_cidr *c, unsigned uid);

/** Remove c from the exemptions: 1, or 0 when it was not there. */
int dw_engine_exempt_remove(struct dw_engine *e, const struct dw_cidr *c, unsigned uid);

/** Whether a is exempt. Lock-free, O(log exemptions). */
int dw_engine_exempt_match(struct dw_engine *e, const struct dw_addr *a);

/** Call fn for every exemption with its origin ("config", "control", ...),
 *  under the exemption list's lock (#6 of the lock order). */
void dw_engine_exempt_foreach(struct dw_engine *e,
                              void (*fn)(void *arg, const struct dw_cidr *c, const char *origin),
                              void *arg);

/** GeoIP of a: 1 and *g, or 0 (no database or no data). */
int dw_engine_geo(const struct dw_engine *e, const struct dw_addr *a, struct dw_geo *g);

/* ---- the rest the verbs reach ----------------------------------------------- */

/** Check the YAML at the running config's path (or the default); good:
 *  save the state and make Unbound reload shortly (SIGHUP after the answer
 *  is written), 0 with *path; broken: -1 with err, nothing changes. */
int dw_engine_reload(struct dw_engine *e, const char **path, char *err, size_t errlen);

/** The units the verb files format themselves (module thread; borrowed):
 *  the whitelist, the incident history (NULL when off), the mail watch. */
struct dw_whitelist *dw_engine_whitelist(struct dw_engine *e);
struct dw_incidents *dw_engine_incidents(struct dw_engine *e);
/** The domain-block list (domain_blocks.h) the domain verbs read. */
struct dw_domains *dw_engine_domains(struct dw_engine *e);
/** 1 when a backend applies domain blocks to the running Unbound (else the
 *  zone file holds them until the next start). */
int dw_engine_domains_live(const struct dw_engine *e);
struct dw_mailwatch *dw_engine_mailwatch(struct dw_engine *e);

#endif
