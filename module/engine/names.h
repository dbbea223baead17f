/**
 * \file
 * The engine's distinct-name detectors: dns_tunnel, dga, and the
 * distinct-domain rule of mx_worm / spam_relay (namestate.h counts,
 * regdomain.h names the domains, tunnel.h and dga.h judge one name).
 *
 * What it is for: the per-query path calls dw_names_possible() (O(1): the
 * qtype class, the rcode and one length byte) and, only when it says yes,
 * dw_names_observe(), which computes the registrable domain once and does
 * every set update of the query under one lock. A plain NOERROR A query for
 * an ordinary name costs the pre-check only.
 *
 * Names under no real top-level domain (dw_regdomain_tld_listed(): "dnscat.
 * 6b1c.f3", a tunnel that talks to its server directly) have no registrable
 * domain: for dns_tunnel and the MX rule they all share one pseudo base,
 * the root, shown as DW_NAMES_NO_SUFFIX in verdicts, so such a tunnel is one
 * domain (not a worm's many) and MX queries under it count as one mail
 * domain. dga ignores them: no generated domain can be registered under
 * a TLD that does not exist, and their NXDOMAIN ("wpad.home", a tunnel's
 * "dnscat.<hex>.<hex>") comes from the root.
 *
 * dns_tunnel verdicts name the base (registrable) domain; the domains in
 * DW_NAMES_BENIGN (antivirus cloud lookups, DNSBLs with hashed names, the
 * video CDNs whose host names are long hashes) and in
 * detectors.dns_tunnel.exempt_domains (and their subdomains) never give one.
 * dga verdicts name the NXDOMAIN name that made the count reach the
 * threshold (the suspect evidence lists more). Only NXDOMAIN answers that
 * were resolved or came from the cache count: local data and RPZ answers
 * (a client blocked with nxdomain gets nothing else) are policy, not the
 * world's answer.
 *
 * Cost: see namestate.h and regdomain.h; a crossing also formats one name
 * (O(255)) and scans the exempt domains (O(list)) on the worker thread.
 * Thread safety: as the engine's per-query path. Errors: dw_names_init()
 * returns -1 with err (no Public Suffix List, no memory).
 */
#ifndef DW_NAMES_H
#define DW_NAMES_H

#include "engine_int.h"
#include "tunnel.h"

#define DW_NAMES_MX 1u     /**< mx_worm or spam_relay counts distinct domains */
#define DW_NAMES_TUNNEL 2u /**< dns_tunnel enabled */
#define DW_NAMES_DGA 4u    /**< dga enabled */

/** How a verdict names the pseudo base of names under no real TLD (not a
 *  domain name, so no action can take it for one). */
#define DW_NAMES_NO_SUFFIX "(no-public-suffix)"

/** Registrable domains whose long random names are known benign. */
#define DW_NAMES_BENIGN                                                                            \
	"sophosxl.net", "mcafee.com", "trendmicro.com", "e5.sk", "eset.com", "avast.com",          \
	    "avcdn.net", "spamhaus.net", "spamhaus.org", "surbl.org", "uribl.com",                 \
	    "googlevideo.com", "akamaiedge.net", "cloudfront.net"

/** Build what the enabled detectors need (engine build). 0, or -1 with err. */
int dw_names_init(struct dw_engine *e, char *err, size_t errlen);

/** Release it (engine free). */
void dw_names_free(struct dw_engine *e);

/** O(1): might this query carry a distinct-name feature? */
static inline int dw_names_possible(const struct dw_engine *e, const struct dw_query *q,
                                    enum dw_qclass qc)
{
	unsigned n = e->names_need;
	return n && (((n & DW_NAMES_MX) && qc == DW_Q_MX) ||
	             ((n & DW_NAMES_DGA) && q->rcode == 3 && q->source <= DW_SRC_CACHE) ||
	             ((n & DW_NAMES_TUNNEL) && dw_tunnel_possible(q->qname, q->qname_len)));
}

/**
 * Count one query in the distinct-name sets of its client and queue the
 * dns_tunnel / dga verdicts it causes.
 * \param h the client's keyed hash (dw_clients_hash()).
 * \param inc the client table's increments for this query: an MX query
 *        whose registrable domain the client asked within the window gets
 *        its MX increments set to 0; when counted is 0, inc is zeroed first.
 * \param incmask the bits of inc's nonzero increments
 *        (dw_detect_increments_mask()), kept equal to inc.
 * \param counted whether inc already holds a counted query.
 * \param run (may be NULL) receives the name's hash from the registrable
 *        domain's scan (regdomain.h), valid when the scan ran on a well
 *        formed name: the suspect store's name hash without a second pass.
 * \return 1 when the query is now a counted one (counted before, or a tunnel
 *         name or DGA NXDOMAIN: the caller notes it as evidence), else 0.
 */
int dw_names_observe(struct dw_engine *e, const struct dw_query *q, uint64_t h, uint32_t now,
                     enum dw_qclass qc, uint16_t inc[DW_CLIENTS_MAX_COUNTERS], uint32_t *incmask,
                     int counted, struct dw_name_run *run);

/** The registrable domains of an evidence list of MX names, for a verdict
 *  line: appends ' domains="a.com b.org"' (module thread). */
void dw_names_domains(struct dw_engine *e, const struct dw_suspect_view *sv, char *buf, size_t len,
                      size_t *n);

#endif
