/**
 * \file
 * The engine's front door: what a resolver adapter hands in for every
 * answered client query, and what the engine owns (config, client table,
 * detectors, events).
 *
 * What it is for: the only interface between a resolver (Unbound today,
 * through unbound_module.c) and dnswarden's logic. It speaks in small plain
 * structs; it never sees a resolver header.
 *
 * Cost: dw_engine_observe() is on the resolver's per-query path: O(qname
 * length) feature extraction plus one client-table update under one shard
 * lock; no allocation, no I/O (except the debug.log_queries line, which is
 * off by default and documented as a debugging aid). A query no enabled
 * detector counts only touches its client; a counted one also notes the
 * suspect and judges only the detectors its increments can change.
 * Measured (tools/dev/bench, whole-process callgrind, 1 thread, cache
 * hits, Ir a query added by the module): about 550 for a plain A query
 * (was 730..790), of which about 115 are glibc's cancellation points in
 * recvfrom/sendto (taken because the module's thread makes Unbound
 * multi-threaded; an Unbound with num-threads >= 2 pays them anyway),
 * about 45 Unbound's dynlib callback chain, 15..25 the module's thread
 * (its ticks spread over the queries; more under load), and about 370 the
 * module's own code: adapter 55, observe_at 100, feature check 56, client
 * hash 27, table touch 94, clock 19, thread slot 4; about 1,700 for a query
 * with a counted feature (a keyword).
 * Thread safety: dw_engine_observe() may be called from any number of threads
 * at once. dw_engine_new()/dw_engine_free() are not concurrent with anything.
 * Errors: constructors return NULL and fill err with a line a person can act on.
 */
#ifndef DW_ENGINE_H
#define DW_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "logfn.h"    /* dw_log_fn */
#include "upstream.h" /* struct dw_upstream */

/** Version string logged at load and shown by the CLI. */
#define DW_VERSION "0.1.0"

/** Which of the resolver's answer paths produced the answer. */
enum dw_source {
	DW_SRC_RESOLVED = 0, /**< cache miss, resolved upstream */
	DW_SRC_CACHE,        /**< message cache hit */
	DW_SRC_LOCAL,        /**< local-data / local-zone / RPZ / CHAOS */
	DW_SRC_SERVFAIL,     /**< SERVFAIL answer */
	DW_SRC_QUERY,        /**< seen on arrival by the pre-cache hook (hook backend) */
	DW_SRC_COUNT
};

/** One answered client query, as the adapter sees it. */
struct dw_query {
	struct dw_addr client; /**< who asked (not yet aggregated) */
	const uint8_t *qname;  /**< wire format, uncompressed; NULL when absent */
	size_t qname_len;      /**< including the final zero byte */
	uint16_t qtype;
	uint8_t rcode;  /**< the answer's rcode (0..15) */
	uint8_t source; /**< enum dw_source */
};

/** What the resolver must do with one query (hook backend). */
struct dw_decision {
	uint8_t action;         /**< enum dw_action; DW_ACT_LOG means "answer normally" */
	struct dw_addr sinkhole; /**< for DW_ACT_SINKHOLE: the address to answer (family 4/6) */
};

struct dw_engine;

/** Build an engine from a loaded config. The engine borrows conf: it must
 *  outlive the engine. NULL on error, with the reason in err. */
struct dw_engine *dw_engine_new(const struct dw_conf *conf, dw_log_fn log, void *log_arg, char *err,
                                size_t errlen);

/** Start the module's own thread (verdict lines, blocks, expiry, the state
 *  file, the control socket). Call once, after dw_engine_set_backend().
 *  0, or -1 with err. */
int dw_engine_start(struct dw_engine *e, char *err, size_t errlen);

/** Stop the engine's thread (if any) and release everything. NULL is fine. */
void dw_engine_free(struct dw_engine *e);

/** Count one answered query: the per-query entry point. */
void dw_engine_observe(struct dw_engine *e, const struct dw_query *q);

/** The same at engine second now (monotonic, never 0, never going back):
 *  the offline scanner's entry (engine_offline.c), with time taken from the
 *  records it reads. Same cost and thread rules as dw_engine_observe(). */
void dw_engine_observe_at(struct dw_engine *e, const struct dw_query *q, uint32_t now);

/** Offline: anchor the engine's clock, so that engine second mono reads as
 *  unix time wall in the lines (before the first dw_engine_observe_at()). */
void dw_engine_set_clock(struct dw_engine *e, int64_t wall, uint32_t mono);

/** Offline: do the module thread's verdict work synchronously at engine
 *  second now, for an engine whose thread was never started: write the
 *  queued verdicts' lines (through syslog.rate on the virtual clock) and
 *  keep their clients; nothing is blocked, no backend, no state file.
 *  Returns how many verdicts it took. Not with dw_engine_start(). */
unsigned dw_engine_run_verdicts(struct dw_engine *e, uint32_t now);

/** The hook backend's per-query question: what to do with this client's
 *  query, before local zones, RPZ and the cache. Counts the query too
 *  (the hook replaces the reply callbacks' counting). Any thread; no
 *  allocation, no I/O; one shard lock at most. */
void dw_engine_decide(struct dw_engine *e, const struct dw_query *q, struct dw_decision *out);

/** With the hook backend a query is counted on arrival, before its answer
 *  exists: the reply callbacks hand NXDOMAIN answers here, and only the dga
 *  detector (names.h) looks at them. Any thread; O(1) unless q->rcode is 3. */
void dw_engine_observe_nxdomain(struct dw_engine *e, const struct dw_query *q);

/** Hand an upstream observation to the module's thread (any thread; only
 *  its used bytes are copied into this thread's ring, upqueue.h; dropped and
 *  counted when the ring is full; the first one after a drain wakes the
 *  module's thread). No allocation, no global lock. */
void dw_engine_upstream(struct dw_engine *e, const struct dw_upstream *u);

/** The same for a DW_UP_QUERY event (server, zone), without building the
 *  8.9 KB struct dw_upstream: the per-upstream-query call. */
void dw_engine_upstream_query(struct dw_engine *e, const struct dw_addr *server, const char *zone);

/** Observations the whitelist learned from, and observations dropped
 *  because the queue was full, since the engine was built (any thread). */
void dw_engine_upstream_counts(struct dw_engine *e, uint64_t *learned, uint64_t *dropped);

struct dw_backend;
/** Attach the enforcement backend (before dw_engine_start(); borrowed). */
void dw_engine_set_backend(struct dw_engine *e, const struct dw_backend *b);

/** How domain blocks are enforced (NULL: only in the zone file), and the
 *  zones of the resolver's own configuration no domain block may touch
 *  (domain_blocks.h). Before dw_engine_start(); protect returns -1 on
 *  ENOMEM. */
struct dw_domain_backend;
void dw_engine_set_domain_backend(struct dw_engine *e, const struct dw_domain_backend *b);
int dw_engine_protect_domains(struct dw_engine *e, const char *const *names, size_t n);

/** A check of a new config beyond the engine's own (the adapter's: paths
 *  as Unbound sees them inside its chroot, which it may rewrite in c, and
 *  the backend): 0, or -1 with the reason in err. */
typedef int (*dw_conf_check_fn)(void *arg, struct dw_conf *c, char *err, size_t errlen);
/** Set the check the `reload` verb runs on the file (before
 *  dw_engine_start(); NULL: dw_conf_check() of confcheck.h alone). */
void dw_engine_set_conf_check(struct dw_engine *e, dw_conf_check_fn fn, void *arg);

/** Heap bytes the engine holds (its units, refreshed about once a second by
 *  the module's thread): what `unbound-control stats` shows as
 *  mem.mod.dynlibmod. Any thread, no lock. */
size_t dw_engine_mem(const struct dw_engine *e);

/** The config the engine runs with (read-only). */
const struct dw_conf *dw_engine_conf(const struct dw_engine *e);

/** Text name of an answer source ("cache"). */
const char *dw_source_name(enum dw_source s);

#endif
