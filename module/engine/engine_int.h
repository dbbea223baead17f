/**
 * \file
 * The engine's insides, shared by the files that make up the engine
 * (engine.c: construction and the per-query path; engine_*.c; report.c: how
 * lines read; enforce.c: blocks on the module's thread; incident_events.c:
 * rows of the incident history; names.h). The control verbs (commands*.c,
 * forwarder_commands.c, mail_commands.c) never include it: they use
 * engine_api.h, which engine_api.c implements from these fields.
 *
 * Thread rules: fields marked "module thread" are touched only by the
 * module's own thread; the per-query path reads conf, features, detect,
 * clients, suspects, policy (dw_policy_lookup) and bumps the atomics.
 */
#ifndef DW_ENGINE_INT_H
#define DW_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "backend.h"
#include "clients.h"
#include "detect.h"
#include "engine.h"
#include "engine_api.h" /* struct dw_counters, the clocks */
#include "events.h"
#include "exempt.h"
#include "feature.h"
#include "geoip.h"
#include "incident_events.h"
#include "incidents.h"
#include "mailwatch.h"
#include "namestate.h"
#include "policy.h"
#include "regdomain.h"
#include "ring.h"
#include "state.h"
#include "suspects.h"
#include "upqueue.h"
#include "wallclock.h"
#include "tslot.h"
#include "whitelist.h"

struct dw_control;
struct dw_fleet;

struct dw_engine {
	const struct dw_conf *conf;
	struct dw_feature_set *features;
	struct dw_exempt *exempt;
	struct dw_detect detect;
	struct dw_clients *clients;
	struct dw_suspects *suspects;
	struct dw_geoip *geoip;
	struct dw_policy *policy;
	const struct dw_backend *backend; /* NULL: nothing enforces */
	struct dw_ring *verdicts;
	struct dw_upq *upstream;         /* struct dw_upstream from workers (upqueue.h) */
	struct dw_whitelist *wl;         /* module thread */
	struct dw_state_extra wl_state;  /* the whitelist's lines in the state file */
	struct dw_events *events;
	struct dw_mailwatch *mail; /* mail_servers' query series (mailwatch.h) */
	dw_log_fn log;
	void *log_arg;

	/* time: engine seconds are monotonic; wall = start_wall + (t - start_mono) */
	time_t start_wall;
	uint32_t start_mono;

	/* the module's own thread */
	pthread_t thread;
	int thread_running;
	int wake_fd;
	atomic_int stop;

	/* module thread */
	int need_sync;       /* an active block may not be in the backend yet */
	int backend_was_ready;
	uint64_t sync_after_ms; /* no backend retry before then (after a failed set) */
	int dirty;           /* state changed since the last save */
	int lazy_dirty;      /* only expiry times moved: save within a minute */
	int state_hold;      /* the state file did not load and could not be set aside:
			      * never saved over */
	atomic_uint_fast64_t upstream_seen; /* observations learned from */
	uint64_t upstream_drops_logged, last_drop_log_ms; /* the upstream_dropped line */
	struct dw_upstream upstream_buf; /* one popped observation (9 KiB, off the stack) */
	uint64_t last_save_ms, last_expire_ms, last_maintain_ms, last_error_ms;
	uint64_t blocks[DW_ACT_COUNT], unblocks, expiries, backend_errors;
	struct dw_control *control; /* NULL when control.socket is off */
	uint64_t control_requests;
	struct dw_counters stats_base; /* what "stats" last reset to */
	uint64_t reload_at_ms;         /* send SIGHUP to ourselves then (reload verb) */
	uint64_t last_mem_ms;          /* engine_mem.c */
	atomic_size_t mem_bytes;       /* heap bytes of the units, for get_mem (any thread) */
	dw_conf_check_fn conf_check;   /* the adapter's check of a new config (reload verb) */
	void *conf_check_arg;

	/* module thread: the incident history (NULL when incidents.database is off)
	 * and the scratch space its rows are built in (off the stack) */
	struct dw_incidents *incidents;
	struct dw_incident incident_buf;
	struct dw_suspect_view incident_sv;
	struct dw_fleet *fleet;        /* published zone, peers' zones (engine_fleet.c) */
	/* module thread: domain blocks (domain_blocks.h), how they are enforced
	 * (NULL: only in the zone file) and their lines of the state file */
	struct dw_domains *domains;
	const struct dw_domain_backend *dom_backend;
	struct dw_state_extra dom_state;

	/* distinct names (names.c): registrable domains, per-client sets; NULL
	 * when no detector needs them. names_need: DW_NAMES_* bits (names.h) */
	struct dw_regdomain *regdom;
	struct dw_namestate *namestate;
	uint64_t name_key;
	unsigned names_need;
	/* the MX counters of e->detect (bit per counter) and their longest
	 * window (at least 1): what the distinct-domain rule reads per MX
	 * query, folded at build (dw_names_init()) */
	uint32_t names_mx_ctrs, names_mx_window;
	/* the feature pass's name key k1: dw_name_hash_end() of the scan's
	 * dw_name_run gives the suspect store's name hash */
	uint64_t name_k1;

	/* statistics (relaxed atomics: no lock on the query path) */
	atomic_uint_fast64_t verdicts_total[DW_DET_COUNT];

	/* module thread: the client table's evictions, sampled once a second */
	uint64_t evict_last, evict_sample_ms, evict_storm_ms;
	uint64_t evictions_per_s;         /* in the last whole second */
	uint64_t forwarder_verdicts; /* module thread: verdicts on forwarders (never blocked) */
	uint32_t evict_sec[60];           /* evictions per second, the last minute */
	unsigned evict_pos;

	/* queries by answer path, one cache line per worker thread (tslot.h);
	 * dw_engine_queries() sums them */
	struct {
		_Alignas(64) atomic_uint_fast64_t n[DW_SRC_COUNT];
	} queries[DW_TSLOTS];
};

/** Refresh the memory sum for dw_engine_mem() once a second (module thread). */
void dw_engine_mem_tick(struct dw_engine *e, uint64_t now_ms);
/** Queries seen with answer path src, summed over the threads' slots. */
uint64_t dw_engine_queries(struct dw_engine *e, unsigned src);

/* dw_mono_now/ms, dw_format_mono, dw_block_clock, dw_format_block_time: engine_api.h */

/** Mnemonics for log lines (buf holds TYPEnnn / RCODEnn for the rest). */
const char *dw_qtype_name(uint16_t t, char *buf, size_t len);
const char *dw_rcode_name(unsigned r, char *buf, size_t len);

/** Format and write one event line through the rate limiter (module thread). */
void dw_emit(struct dw_engine *e, uint64_t now_ms, int prio, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** Write one audit line (manual block/unblock) past the rate limiter: such
 *  lines are never suppressed (module thread). */
void dw_emit_audit(struct dw_engine *e, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Write one verdict line with its evidence (module thread). */
void dw_report_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms);

/** Load the state file into the policy and exemptions (at construction). */
void dw_enforce_load(struct dw_engine *e);
/** A verdict in enforce mode becomes a block (module thread). */
void dw_enforce_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms);
/** Periodic work: backend sync, expiry, persistence, maintenance (module thread). */
void dw_enforce_tick(struct dw_engine *e, uint64_t now_ms);
/** Save now if anything changed (module thread, also at shutdown). */
void dw_enforce_flush(struct dw_engine *e, uint64_t now_ms);
/** Manual block/unblock (module thread: control verbs). 0, or -1 with err. */
int dw_enforce_block(struct dw_engine *e, const struct dw_addr *a, uint32_t duration,
		     enum dw_action action, const char *by, struct dw_block *out, char *err,
		     size_t errlen);
int dw_enforce_unblock(struct dw_engine *e, const struct dw_addr *a, const char *by,
		       struct dw_block *out);

#endif
