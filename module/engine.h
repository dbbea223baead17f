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
 * off by default and documented as a debugging aid).
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

/** Version string logged at load and shown by the CLI. */
#define DW_VERSION "0.1.0"

/** Which of the resolver's answer paths produced the answer. */
enum dw_source {
	DW_SRC_RESOLVED = 0, /**< cache miss, resolved upstream */
	DW_SRC_CACHE,        /**< message cache hit */
	DW_SRC_LOCAL,        /**< local-data / local-zone / RPZ / CHAOS */
	DW_SRC_SERVFAIL,     /**< SERVFAIL answer */
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

/** Where the engine's log lines go: one complete line ("dnswarden: ..."),
 *  without a newline. prio is a <syslog.h> priority (LOG_NOTICE …). Called
 *  from the module's own thread for events, and from a worker thread only for
 *  the debug.log_queries lines. Must be thread-safe. */
typedef void (*dw_log_fn)(void *arg, int prio, const char *line);

struct dw_engine;

/** Build an engine from a loaded config. The engine borrows conf: it must
 *  outlive the engine. NULL on error, with the reason in err. */
struct dw_engine *dw_engine_new(const struct dw_conf *conf, dw_log_fn log, void *log_arg, char *err,
                                size_t errlen);

/** Stop the engine's thread (if any) and release everything. NULL is fine. */
void dw_engine_free(struct dw_engine *e);

/** Count one answered query: the per-query entry point. */
void dw_engine_observe(struct dw_engine *e, const struct dw_query *q);

/** The config the engine runs with (read-only). */
const struct dw_conf *dw_engine_conf(const struct dw_engine *e);

/** Text name of an answer source ("cache"). */
const char *dw_source_name(enum dw_source s);

#endif
