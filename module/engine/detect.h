/**
 * \file
 * Which rule fired: the research detectors as predicates over a client's
 * sliding-window counters.
 *
 * What it is for: the config names detectors (mx_worm, spam_relay,
 * mx_keyword_scan, ip_literal, ptr_flood, ptr_forward_ip, signature_names),
 * each with a threshold and a window. This unit turns them into the few
 * counters a client carries (one per distinct feature × window, shared
 * between detectors that need the same one), says which counters a query
 * bumps, and judges a client's counts: a detector fires once per offence
 * (hysteresis, below).
 *
 * The rules (the studies listed in HACKING.md):
 *  - mx_worm (seed 003, MXRPDS): >= T MX queries in W and no PTR query in
 *    W — a PC that is not a mail server looking up mail exchangers is a
 *    mass-mailing worm (Sobig.F);
 *  - spam_relay (seed 003): >= T MX queries in W and at least one PTR in W
 *    — the MX+A+PTR mix of a hijacked UNIX box relaying spam;
 *  - mx_keyword_scan (seed 000, ADPS; seed 003, Mydoom.A): >= T A/AAAA
 *    queries whose first label starts with a mail-host keyword;
 *  - ip_literal (seed 000): >= T A queries for IPv4 literals "A.B.C.D";
 *  - ptr_flood (seed 000, PTRDPS): >= T PTR queries in W;
 *  - ptr_forward_ip (seed 000): >= T PTR queries carrying a forward-order
 *    address (feature.h says exactly which);
 *  - signature_names (seed 003: Sobig asked root-server names): >= T
 *    queries for a configured signature name.
 * Exempt clients (exempt: CIDRs) are counted like everyone but never judged
 * guilty.
 *
 * Hysteresis (one verdict per offence): a detector that fired stays quiet
 * for the client until the client's count, as it stood before a query that
 * increments one of the detector's counters (dw_detect_plan()), has fallen
 * below the detector's re-arm level (detectors.NAME.rearm,
 * default half the threshold rounded up), or until the client's block ends
 * (dw_detect_rearm_all(), run by the module's thread on expiry and unblock).
 * The next crossing after that is a new offence: a new verdict, and in
 * enforce mode a new step on the block ladder (policy.h), even while the
 * previous block is still in force. The state is one bit per detector in
 * the client's 16-bit judge flags (clients.h): no byte more per client.
 *
 * Pooled clients (forwarders: in the YAML, forwarders.h): an internal
 * resolver or NAT gateway is judged with every threshold and re-arm level
 * multiplied by forwarders.threshold_factor; its verdicts carry forwarder=1
 * and never block (enforce.c). Whether a client is a forwarder is looked up
 * only when it crosses a plain threshold, and a forwarder's answer is cached
 * in the flags bit DW_DETECT_FLAG_FORWARDER (kept for the table's life: the
 * table is rebuilt with every config).
 *
 * Cost: struct dw_detect is a few hundred bytes, built once per config.
 * dw_detect_increments() is O(counters); dw_detect_judge() is O(detectors)
 * plus, only when a detector crosses, one exemption check (exempt.h).
 * Thread safety: a built struct dw_detect is read-only; the judge runs under
 * the client table's shard lock and writes only to its own judgement.
 * Errors: dw_detect_init() fails only when the enabled detectors need more
 * counters than a client can carry (cannot happen with the built-in set).
 */
#ifndef DW_DETECT_H
#define DW_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clients.h"
#include "conf.h"
#include "exempt.h"
#include "feature.h"
#include "mailwatch.h"

/** What a counter counts. */
enum dw_counter_kind {
	DW_CK_MX = 0,    /**< MX queries */
	DW_CK_PTR,       /**< PTR queries */
	DW_CK_KEYWORD,   /**< A/AAAA with a keyword first label */
	DW_CK_IPLIT,     /**< A queries for IPv4 literals */
	DW_CK_PTR_FWD,   /**< PTR queries with a forward-order address */
	DW_CK_SIGNATURE, /**< queries for signature names */
	DW_CK_COUNT
};

/** The detectors of one config, compiled. */
struct dw_detect {
	uint8_t ncounters;
	uint8_t kind[DW_CLIENTS_MAX_COUNTERS];
	uint32_t window[DW_CLIENTS_MAX_COUNTERS];
	bool enabled[DW_DET_COUNT];
	uint32_t threshold[DW_DET_COUNT];
	int8_t main[DW_DET_COUNT]; /**< counter compared with the threshold, -1 if disabled */
	int8_t ptr[DW_DET_COUNT];  /**< mx_worm/spam_relay: PTR counter over the same window */
	struct dw_exempt *exempt; /**< borrowed; NULL = nobody is exempt */
	uint8_t count_classes;    /**< bit per enum dw_qclass some counter counts */
	uint32_t count_flags;     /**< DW_FEAT_* bits some counter counts */
	/** borrowed; NULL = none. mail_servers: never judged by the MX detectors
	 *  (mx_worm, spam_relay, mx_keyword_scan); checked only on a crossing */
	const struct dw_mailwatch *mail;
	/** re-arm level per detector: a fired detector re-arms once the count
	 *  before a counted query is below it (1 .. threshold) */
	uint32_t rearm[DW_DET_COUNT];
	/** forwarders: prefixes (borrowed from the conf), count, threshold factor */
	const struct dw_cidr *fwd;
	size_t fwd_count;
	uint32_t fwd_factor;
	/** per bit of dw_detect_word(): the counters that count it */
	uint16_t ctr_of_bit[32];
	/** per counter: the detectors whose condition reads it */
	uint16_t dets_of[DW_CLIENTS_MAX_COUNTERS];
	/** per detector: the counters its condition reads (bit per counter) */
	uint16_t reads[DW_DET_COUNT];
	/** ctr_of_bit folded per query class and per flag set (O(1) increments) */
	uint16_t ctr_of_qc[DW_Q_COUNT];
	uint16_t ctr_of_flags[1u << DW_FEAT_COUNT];
	/** per counter: dw_detect_plan()'s need for a query that increments
	 *  only that counter (the common case, no loop) */
	uint16_t need_of[DW_CLIENTS_MAX_COUNTERS];
};

/** Flags bit (the client's judge flags): the client is a forwarder. The
 *  detectors own bits 0 .. DW_DET_COUNT-1. */
#define DW_DETECT_FLAG_FORWARDER ((uint16_t)0x8000u)
/** Every detector's "fired, not re-armed" bit. */
#define DW_DETECT_FLAGS_FIRED ((uint16_t)((1u << DW_DET_COUNT) - 1u))
/** A bit of struct dw_judgement's `only` that is no detector: "the set is
 *  given" even when it holds no detector. */
#define DW_DETECT_JUDGE_SOME ((uint16_t)0x4000u)

/** Whether any counter counts a query of class qc with flags: O(1), the
 *  query path's test before dw_detect_increments(). */
static inline int dw_detect_counts(const struct dw_detect *d, enum dw_qclass qc, uint32_t flags)
{
	return ((d->count_classes >> qc) & 1) || (flags & d->count_flags) != 0;
}

/** Room for a verdict's name (a presentation name of up to 255 bytes). */
#define DW_VERDICT_NAME_MAX 256

/** One detector crossing, as queued for the module's thread to report. */
struct dw_verdict {
	uint8_t detector;      /**< enum dw_detector */
	uint8_t ncounters;
	struct dw_addr client; /**< aggregated client */
	uint32_t when;         /**< engine seconds */
	uint32_t first_seen;   /**< engine seconds */
	uint32_t count;        /**< the detector's own count in its window */
	uint32_t ptr;          /**< PTR count in the window (mx_worm, spam_relay) */
	uint32_t counts[DW_CLIENTS_MAX_COUNTERS];
	/** dns_tunnel: the base domain; dga: one generated name (names.h);
	 *  presentation form, cut to fit; "" for the other detectors */
	char name[DW_VERDICT_NAME_MAX];
	uint8_t forwarder;  /**< 1: a forwarder (forwarders:), judged with the factor */
	uint32_t threshold; /**< the threshold it crossed (× the factor for a forwarder) */
};

/** What the judge found for one query (caller's stack). */
struct dw_judgement {
	const struct dw_detect *d;
	uint16_t fired;              /**< bit per detector that crossed now */
	uint32_t total;              /**< the client's queries so far (for debug lines) */
	struct dw_client_view view;  /**< copy of the client, valid when fired */
	/** the query's increments (dw_detect_increments()); NULL = none: the
	 *  re-arm test then uses the counts as they are */
	const uint16_t *inc;
	uint8_t forwarder; /**< the client is a forwarder (valid when fired) */
	/** detectors to judge (dw_detect_plan()); 0 = every enabled one */
	uint16_t only;
};

/** The re-arm level of a detector's settings: rearm when set, else half
 *  the threshold rounded up (so a threshold of 1 re-arms at 0). O(1). */
static inline uint32_t dw_detect_rearm_level(const struct dw_detector_conf *dc)
{
	if (dc->rearm && dc->rearm <= dc->threshold)
		return dc->rearm;
	return dc->threshold / 2 + dc->threshold % 2;
}

/** x, times the forwarder factor when fwd (saturating). O(1). */
static inline uint32_t dw_detect_scaled(const struct dw_detect *d, uint32_t x, int fwd)
{
	uint64_t y = fwd ? (uint64_t)x * d->fwd_factor : x;
	return y > UINT32_MAX ? UINT32_MAX : (uint32_t)y;
}

/** Compile the detectors of conf; exempt (may be NULL) is borrowed and
 *  consulted on crossings. 0, or -1 with err. */
int dw_detect_init(struct dw_detect *d, const struct dw_conf *conf, struct dw_exempt *exempt,
		   char *err, size_t errlen);

/** The counter windows for the client table (d->ncounters entries). */
void dw_detect_windows(const struct dw_detect *d, uint32_t window[DW_CLIENTS_MAX_COUNTERS]);

/** dw_detect_clients_conf() exists (tools/dev/bench-bytes.c builds against older trees too). */
#define DW_CLIENTS_HAS_LAYOUT 1

/** The client table's counter layout for these detectors: ncounters,
 *  windows, and narrow (8-bit slots) for every counter whose thresholds are
 *  all <= 255 (mx_worm/spam_relay's PTR counter only needs "at least 1").
 *  Leaves max, ipv6_prefix and shards alone. */
void dw_detect_clients_conf(const struct dw_detect *d, struct dw_clients_conf *cc);

/** A query's class and flags as one word: bit qclass, flags from bit 8.
 *  A counter counts the query when its counts_word shares a bit. O(1). */
static inline uint32_t dw_detect_word(enum dw_qclass qc, uint32_t flags)
{
	return (1u << qc) | (flags << 8);
}

/** Fill inc[] (all DW_CLIENTS_MAX_COUNTERS entries, 0 or 1) for one query;
 *  returns how many are nonzero. O(1): a lookup per bit of the query. */
unsigned dw_detect_increments(const struct dw_detect *d, const struct dw_features *f,
			      uint16_t inc[DW_CLIENTS_MAX_COUNTERS]);

/** dw_detect_increments() returning the incremented counters, a bit each. */
uint32_t dw_detect_increments_mask(const struct dw_detect *d, const struct dw_features *f,
                                   uint16_t inc[DW_CLIENTS_MAX_COUNTERS]);

/** The counters with a nonzero inc[], a bit each. O(counters). */
uint32_t dw_detect_inc_mask(const struct dw_detect *d, const uint16_t inc[DW_CLIENTS_MAX_COUNTERS]);

/** Which detectors a query that increments the counters of incmask can
 *  change (a crossing needs a counter of the detector to grow; a re-arm is
 *  only looked at on such a query, see dw_detect_judge()): their bits, plus
 *  DW_DETECT_JUDGE_SOME so that the set is never 0 (= all, in
 *  struct dw_judgement). *need receives the counters those detectors read,
 *  and incmask (dw_clients_update_need_h()). O(bits set). */
uint16_t dw_detect_plan(const struct dw_detect *d, uint32_t incmask, uint32_t *need);

/** dw_clients_judge_fn: arg is a struct dw_judgement. Judges the detectors
 *  in j->only (all when 0); the others' flag bits are left as they are. */
uint16_t dw_detect_judge(void *arg, const struct dw_client_view *v);

/** dw_clients_judge_fn for the end of a client's block: re-arms every
 *  detector (clears their bits, keeps the rest); arg is unused. */
uint16_t dw_detect_rearm_all(void *arg, const struct dw_client_view *v);

/** Fill the verdicts for every bit of j->fired; returns how many (<= DW_DET_COUNT). */
unsigned dw_detect_verdicts(const struct dw_judgement *j, struct dw_verdict out[DW_DET_COUNT]);

/** Name of a counter kind ("mx", "ptr", "keyword", "ip_literal", "ptr_forward", "signature"). */
const char *dw_counter_name(enum dw_counter_kind k);

#endif
