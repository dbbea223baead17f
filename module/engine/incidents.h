/**
 * \file
 * The incident history: every verdict, block, unblock, expiry, exemption
 * change and manual action, kept as one row of an SQLite database
 * (`incidents.database`, WAL mode) for `incidents.keep` seconds, so an
 * operator can ask later who was flagged, by what, and whether they came back
 * (dnswarden-control incidents, dnswarden-report(8), sqlite3).
 *
 * What it is for: the memory of the system. The module's thread hands in
 * finished records (struct dw_incident); the store keeps them in a bounded
 * queue allocated once and writes them in batches, one transaction per batch,
 * at most once a second (or when a quarter of the queue is full).
 *
 * Failure never reaches the resolver: a locked, full, read-only or missing
 * database keeps the rows queued and is retried every DW_INC_RETRY_MS; a
 * full queue drops the newest rows and counts them; a damaged database (not
 * a database, or corrupt) is renamed to PATH.damaged-TIME and a new file is
 * started. Each of these is logged once ("event=incidents_error", at most once
 * a minute, then "event=incidents_resumed" with what was written and dropped,
 * or "event=incidents_new_file").
 *
 * Schema (version DW_INC_SCHEMA, PRAGMA user_version; dnswarden.yaml(5)
 * "INCIDENT DATABASE"): table incidents (id, time, event, client, prefix,
 * addr, detector, action, duration, step, mode, backend, uid, country, asn,
 * evidence JSON, domain), table meta (key, value: schema, created, uuid,
 * host). Older schemas are migrated at open, step by step, in one
 * transaction (version 1 -> 2 adds the column domain: the base domain of a
 * domain block's rows, NULL on every other row); a newer one is left
 * untouched and nothing is written to it.
 *
 * Cost: DW_INC_QUEUE × sizeof(struct dw_incident) bytes up front; a batch
 * costs one SQLite transaction (no fsync per batch: synchronous=NORMAL in WAL
 * mode keeps what was committed across a crash of the process). Retention
 * deletes at most DW_INC_PRUNE_ROWS rows per tick.
 * Thread safety: none; one thread (the module's own) calls everything for a
 * store. Worker threads never see it (they queue verdicts, see ring.h).
 * Errors: dw_incidents_new() returns NULL with a reason in err (ENOMEM only:
 * the database itself is opened on the first tick, and problems there are
 * logged, never fatal); queries return -1 with the reason in err.
 */
#ifndef DW_INCIDENTS_H
#define DW_INCIDENTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "logfn.h" /* dw_log_fn */

/** The schema version this module writes (PRAGMA user_version). */
#define DW_INC_SCHEMA 2
/** Rows that may wait for the database; more are dropped and counted. */
#define DW_INC_QUEUE 1024
/** A batch is written at most this often (ms) unless the queue fills. */
#define DW_INC_BATCH_MS 1000
/** A failed database is tried again this often (ms). */
#define DW_INC_RETRY_MS 2000
/** Rows past incidents.keep deleted per tick at most. */
#define DW_INC_PRUNE_ROWS 5000
/** Room for one row's evidence (a JSON object). */
#define DW_INC_EVIDENCE_MAX 2048
/** Room for a domain block's domain (presentation, no final dot, NUL). */
#define DW_INC_DOMAIN_MAX 254

/** What happened (the syslog event name of the row). */
enum dw_inc_event {
	DW_INC_VERDICT = 0,   /**< a detector crossed (log-only action, or enforce mode) */
	DW_INC_WOULD_BLOCK,   /**< a detector crossed in observe mode */
	DW_INC_BLOCK,         /**< a block started (detector or manual) */
	DW_INC_UNBLOCK,       /**< a block lifted by hand (or by exempt_add) */
	DW_INC_EXPIRE,        /**< a block ran out */
	DW_INC_EXEMPT_ADD,    /**< a run-time exemption added */
	DW_INC_EXEMPT_REMOVE, /**< a run-time exemption removed */
	DW_INC_BLOCK_FAILED,  /**< a verdict could not become a block */
	/* domain blocks (domain_blocks.h): the column domain names the domain;
	 * client is the client whose verdict caused the row, or 0.0.0.0/0
	 * (every client) for a row of no verdict (by hand, expiry) */
	DW_INC_BLOCK_DOMAIN,       /**< a domain block started (dns_tunnel or by hand) */
	DW_INC_WOULD_BLOCK_DOMAIN, /**< observe mode: a domain that would be blocked */
	DW_INC_UNBLOCK_DOMAIN,     /**< a domain block lifted by hand */
	DW_INC_EXPIRE_DOMAIN,      /**< a domain block ran out */
	DW_INC_DOMAIN_REFUSED,     /**< a verdict's domain not blocked (guard, rate, full) */
	DW_INC_EVENT_COUNT
};

/** One row, as the module's thread hands it in (copied). */
struct dw_incident {
	int64_t time;          /**< Unix seconds */
	uint8_t event;         /**< enum dw_inc_event */
	uint8_t prefix;        /**< the client's aggregation prefix (32, 64, or the CIDR's) */
	int8_t detector;       /**< enum dw_detector, -1 for none */
	int8_t action;         /**< enum dw_action, -1 for none */
	uint8_t mode;          /**< enum dw_mode */
	struct dw_addr client; /**< the client key (or the exempted prefix) */
	uint32_t duration;     /**< seconds (blocks; a verdict's configured duration) */
	uint32_t step;         /**< ladder step (offences), 0 for none */
	int64_t uid;           /**< the control peer's uid for manual changes, -1 for none */
	uint32_t asn;          /**< 0: unknown */
	char country[3];       /**< "" unknown */
	char backend[12];      /**< "rpz", "hook", "none" */
	char evidence[DW_INC_EVIDENCE_MAX]; /**< a JSON object ("{}" at least) */
	char domain[DW_INC_DOMAIN_MAX];     /**< "" (NULL in the table) but for domain rows */
};

/** What the store did since creation (stats verbs). */
struct dw_inc_stats {
	uint64_t written;  /**< rows committed */
	uint64_t dropped;  /**< rows lost: queue full */
	uint64_t errors;   /**< failed write attempts */
	uint64_t batches;  /**< transactions committed */
	uint64_t queued;   /**< rows waiting now */
	uint64_t write_ns; /**< time spent in committed batches */
	int ok;            /**< the database is open and the last write worked */
};

/** A filter for dw_incidents_query(). */
struct dw_inc_filter {
	int has_cidr;       /**< 1: only clients inside cidr */
	struct dw_cidr cidr;
	int detector;       /**< enum dw_detector, -1 for any */
	int64_t since;      /**< Unix seconds, 0 for all */
	const char *domain; /**< NULL for any, else one domain's rows (ASCII case ignored) */
	unsigned limit;     /**< newest rows at most (>= 1) */
};

/** One row read back (strings valid during the callback only). */
struct dw_inc_row {
	int64_t id, time;
	const char *event, *client, *detector, *action, *mode, *backend, *country, *evidence;
	const char *names; /**< the evidence's names, space-separated ("" if none) */
	const char *domain; /**< a domain block's domain, "" for other rows */
	unsigned prefix;
	int64_t duration, step, uid, asn; /**< -1 when NULL */
	int64_t blocked_before;           /**< block rows of this client before this row */
};

/** One client's history (show_client). */
struct dw_inc_history {
	int64_t first_seen, last_seen; /**< Unix seconds, 0 when no row */
	uint64_t incidents;            /**< rows of any event */
	uint64_t verdicts;             /**< verdict and would_block rows */
	uint64_t blocks;               /**< block rows */
	uint64_t repeat_offences;      /**< blocks at ladder step 2 or more */
	char detectors[160];           /**< "mx_worm,ip_literal" or "" */
};

struct dw_incidents;

/** A store for path keeping rows for keep seconds; log (may be NULL) gets
 *  the store's own lines. Nothing is opened yet (see dw_incidents_tick()).
 *  NULL with err on ENOMEM or a path that is too long. */
struct dw_incidents *dw_incidents_new(const char *path, uint32_t keep, dw_log_fn log,
				      void *log_arg, char *err, size_t errlen);

/** Write what is queued (one attempt), close, free. NULL is fine. */
void dw_incidents_free(struct dw_incidents *s);

/** Queue one row (copied); 0, or -1 when the queue is full (counted). */
int dw_incidents_add(struct dw_incidents *s, const struct dw_incident *row);

/** Periodic work at now_ms (monotonic): open or reopen the database, write
 *  a due batch, prune old rows. Never blocks on a lock. */
void dw_incidents_tick(struct dw_incidents *s, uint64_t now_ms);

/** Write everything queued now (if the database can be written). 0 when
 *  the queue is empty afterwards, -1 otherwise. */
int dw_incidents_flush(struct dw_incidents *s, uint64_t now_ms);

/** Counters and state. */
void dw_incidents_stats(const struct dw_incidents *s, struct dw_inc_stats *out);

/** The database's file name. */
const char *dw_incidents_path(const struct dw_incidents *s);

/** Newest rows first matching f, each handed to fn (nonzero stops). Queued
 *  rows are written first. 0, or -1 with err. */
int dw_incidents_query(struct dw_incidents *s, const struct dw_inc_filter *f,
		       int (*fn)(void *arg, const struct dw_inc_row *row), void *arg, char *err,
		       size_t errlen);

/** The history of one client key (rows whose client is exactly a). 0, or
 *  -1 with err. */
int dw_incidents_history(struct dw_incidents *s, const struct dw_addr *a,
			 struct dw_inc_history *out, char *err, size_t errlen);

/** Event name ("would_block") of an event id. */
const char *dw_inc_event_name(enum dw_inc_event ev);

#endif
