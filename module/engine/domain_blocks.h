/**
 * \file
 * Domain blocks: a DNS tunnel's base domain (the C2 domain) blocked for
 * every client through an RPZ QNAME trigger (`DOMAIN` and `*.DOMAIN`), with
 * its own duration, on the module's own thread.
 *
 * What it is for: a dns_tunnel verdict names the registrable domain the
 * tunnel runs under. Blocking the client stops one infected host; blocking
 * the domain stops every host on campus that talks to the same C2 server.
 * detectors.dns_tunnel.domain_action (default none) turns it on; the
 * control verbs block_domain / unblock_domain / list_domains do it by hand.
 *
 * The guard (what a hostile client can make us block): a client can make
 * tunnel-looking queries under ANY domain, so a verdict alone never blocks a
 * domain the campus needs. dw_domains_guard() refuses a domain that is
 *   - not a host name (letters, digits, '-', '_'), a single label, or a
 *     public suffix (Public Suffix List, public_suffixes:);
 *   - on, under or above an entry of the built-in never-block list
 *     (DW_DOMAINS_NEVER_BLOCK: the large platforms and CDNs a campus cannot
 *     live without), of detectors.dns_tunnel.never_block, of
 *     detectors.dns_tunnel.exempt_domains and the built-in benign list
 *     (names.h), of the RPZ zone itself, or of a zone the resolver serves or
 *     forwards itself (auth-zone, stub-zone, forward-zone, local-zone of
 *     unbound.conf, handed over by the adapter);
 *   - the home of a nameserver the NS/glue whitelist knows for a zone
 *     outside it (e.g. hosting.example whose ns1 serves other customers'
 *     zones): blocking it would cut those zones' names for clients.
 * On top, a verdict adds at most detectors.dns_tunnel.domain_rate new
 * domain blocks an hour (a token bucket); what is over the rate is logged
 * (event=domain_block_refused reason=rate) and not blocked. A block by hand
 * passes the same guard but no rate.
 *
 * Enforcement: both backends through Unbound's RPZ (the zone of `rpz_zone`
 * must be declared with `rpz:` in unbound.conf): the triggers are written
 * to the zone file (engine_fleet.c), so they hold from the first answer
 * after a start, and pushed at run time through struct dw_domain_backend
 * (backend.h). The per-query path of the engine pays nothing: Unbound looks
 * qname triggers up in its RPZ for every query anyway.
 *
 * Persistence: "domain NAME action=A detector=D created=T expires=T" lines
 * in the state file (state.h, format v2; v1 files load).
 *
 * Cost: at most DW_DOMAINS_MAX entries, every operation O(entries) on the
 * module's thread; the guard also walks the whitelist once (O(addresses)).
 * Thread safety: module thread only.
 * Errors: -1 with a sentence in err.
 */
#ifndef DW_DOMAIN_BLOCKS_H
#define DW_DOMAIN_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "detect.h"

/** Most domain blocks at once. */
#define DW_DOMAINS_MAX 1024
/** Longest domain (presentation, no final dot) plus its NUL. */
#define DW_DOMAIN_NAME_MAX 254

/** Domains no domain block may touch, nor their parents or subdomains. */
#define DW_DOMAINS_NEVER_BLOCK                                                                     \
	"google.com", "googleapis.com", "gstatic.com", "youtube.com", "microsoft.com",             \
	    "windows.com", "windowsupdate.com", "office.com", "office365.com", "live.com",         \
	    "outlook.com", "azure.com", "apple.com", "icloud.com", "amazon.com", "amazonaws.com",  \
	    "cloudflare.com", "cloudflare.net", "akamai.net", "akamaized.net", "akadns.net",       \
	    "facebook.com", "fbcdn.net", "github.com", "wikipedia.org", "root-servers.net",        \
	    "gtld-servers.net", "arpa"

struct dw_engine;
struct dw_out;

/** One domain block as listed. */
struct dw_domain_block {
	char name[DW_DOMAIN_NAME_MAX]; /**< lower case, no final dot */
	uint8_t action;                /**< enum dw_action, never DW_ACT_LOG */
	int8_t detector;               /**< enum dw_detector; -1 by hand */
	uint8_t applied;               /**< in the backend */
	int64_t created, expires;      /**< block clock (engine_int.h); expires 0 = never */
};

/** The set (opaque). */
struct dw_domains;

/** An empty set; NULL on ENOMEM. */
struct dw_domains *dw_domains_new(void);
void dw_domains_free(struct dw_domains *d);

/** Names the resolver depends on (the adapter's unbound.conf zones):
 *  copied; replaces what was there. 0, or -1 on ENOMEM. */
int dw_domains_protect(struct dw_domains *d, const char *const *names, size_t n);

/** May name be blocked? 0, or -1 with the reason in err. name must be
 *  lower case with no final dot. */
int dw_domains_guard(struct dw_engine *e, const char *name, char *err, size_t errlen);

/** Block name for duration seconds (0 = until unblocked) with action;
 *  detector < 0 = by hand (by names who). Replaces an existing block of
 *  the same name. 0, or -1 with err (guard, rate, full list, mode). */
int dw_domains_block(struct dw_engine *e, const char *name, uint32_t duration,
                     enum dw_action action, int detector, const char *by,
                     struct dw_domain_block *out, char *err, size_t errlen);

/** Lift the block of name; 1 when there was one, 0 when not. */
int dw_domains_unblock(struct dw_engine *e, const char *name, const char *by);

/** A verdict's domain consequence: dns_tunnel with domain_action set
 *  blocks v->name in enforce mode, logs what it would block in observe
 *  mode. */
void dw_domains_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms);

/** Once a tick: expiry, and pushing what the backend does not have yet. */
void dw_domains_tick(struct dw_engine *e, uint64_t now_ms);

/** Mark every block as not in the backend (the zone was reloaded). */
void dw_domains_resync(struct dw_engine *e);

/** Active blocks, and the counters (blocks made, refused by the guard or
 *  the rate, expired, lifted by hand). */
size_t dw_domains_count(const struct dw_domains *d);
void dw_domains_counters(const struct dw_domains *d, uint64_t *blocked, uint64_t *refused,
                         uint64_t *expired, uint64_t *unblocked);

/** A number that changes whenever the set does (the zone file's writer). */
uint64_t dw_domains_sig(const struct dw_domains *d);

/** Copy block i (0 .. count-1) out; 0, or -1 past the end. */
int dw_domains_get(const struct dw_domains *d, size_t i, struct dw_domain_block *out);

/** Write the QNAME triggers of every active block to a zone file of zone
 *  (with its final dot). 0, or -1 when a write failed. */
int dw_domains_format_zone(struct dw_engine *e, FILE *f, const char *zone);

/** State file lines (struct dw_state_extra: arg is the engine). */
void dw_domains_state_save(void *arg, FILE *f);
int dw_domains_state_load_line(void *arg, const char *line, char *err, size_t errlen);

#endif
