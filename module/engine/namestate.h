/**
 * \file
 * Distinct names per client: the small per-client sets behind the
 * detectors that count DIFFERENT domains or names, not queries.
 *
 * What it is for: three rules need "how many different ... in the window":
 *  - mx_worm / spam_relay count distinct registrable domains asked for MX
 *    (a worm mails many domains; a tunnel over MX asks one). The engine asks
 *    here whether an MX query's registrable domain is NEW for its client (not
 *    asked within the MX window) and bumps the client table's MX counter
 *    (clients.h, exact window edges) only then;
 *  - dns_tunnel counts, per client and registrable domain, distinct
 *    tunnel-looking names (tunnel.h) in its window, each weighted by its
 *    payload units (dw_tunnel_weight(): 1 per started 63 characters), for
 *    the (at most DW_NS_TUN_SLOTS) domains the client asks most such names
 *    under;
 *  - dga counts distinct registrable domains whose NXDOMAIN answers carried
 *    a machine-generated-looking label (dga.h) in its window.
 *
 * Sets: each set holds up to CAP (32-bit fingerprint, last-seen second)
 * pairs. A member is in the window while now - last_seen < window; adding a
 * member refreshes its time; a new member takes an empty or expired place,
 * else the oldest one. Error bounds:
 *  - a fingerprint collision (2^-32 per pair of members: under 3 in 10^7
 *    for the 50 domains of a worm reaching the default threshold through a
 *    32-member set, where 16-bit fingerprints made it about 1.7 %)
 *    makes a new member look old: counts are at most that much low;
 *  - the dns_tunnel and dga counts are exact otherwise up to CAP: they
 *    saturate at DW_NS_TUN_CAP names (at least that many units) /
 *    DW_NS_DGA_CAP, so their thresholds are bounded by that (conf.c refuses
 *    larger ones);
 *  - the MX set only decides "new or not": a domain pushed out by
 *    DW_NS_MX_CAP newer distinct ones counts again when asked again (a
 *    client asking MX of more than 32 other domains within the window is
 *    counted up, never down).
 * Firing: dns_tunnel and dga fire once when their count reaches the
 * threshold and again only after it fell below it (like detect.h).
 *
 * Table: at most `max` clients (4-way set-associative buckets, the least
 * recently used way of a full bucket is replaced); only queries that carry
 * such a feature (MX, a tunnel-looking name, a DGA-looking NXDOMAIN) enter,
 * so a flood of plain queries never evicts anybody here. Memory: max x
 * sizeof(struct) (about 1.8 KiB per client), allocated at build, pages
 * touched as clients arrive.
 *
 * Cost: dw_namestate_update() takes one of 64 bucket-group mutexes and does
 * O(CAP) work per set it touches (at most 32 + 64 + 2 x 64 compares); no
 * allocation, no I/O. Thread safety: any thread, concurrently; free only
 * when no call runs. Errors: dw_namestate_new() returns NULL with a reason;
 * update returns -1 for a NULL argument.
 */
#ifndef DW_NAMESTATE_H
#define DW_NAMESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DW_NS_MX_CAP 32   /**< distinct MX domains remembered per client */
#define DW_NS_DGA_CAP 64  /**< largest dga threshold */
#define DW_NS_TUN_CAP 64  /**< largest dns_tunnel threshold */
#define DW_NS_TUN_SLOTS 2 /**< domains per client watched for tunnels */

struct dw_namestate;

/** One query's work; fill the inputs of the parts that apply, zero the rest. */
struct dw_ns_op {
	/* MX: is this registrable domain new for the client? */
	uint8_t mx;
	uint32_t mx_hash, mx_window;
	uint8_t mx_new; /**< out */
	/* dns_tunnel: one tunnel-looking name under a registrable domain */
	uint8_t tun;
	uint32_t tun_base, tun_name, tun_window, tun_threshold;
	uint8_t tun_weight; /**< payload units of the name (tunnel.h), 0 = 1 */
	uint8_t tun_fired;  /**< out: the count reached the threshold now */
	uint32_t tun_count; /**< out */
	/* dga: one NXDOMAIN of a generated-looking registrable domain */
	uint8_t dga;
	uint32_t dga_hash, dga_window, dga_threshold;
	uint8_t dga_fired;  /**< out */
	uint32_t dga_count; /**< out */
};

/** Table for up to max clients (max >= 4). NULL with err. */
struct dw_namestate *dw_namestate_new(uint32_t max, char *err, size_t errlen);

/** Release (NULL is fine). */
void dw_namestate_free(struct dw_namestate *ns);

/** Apply op to the client key (aggregated address; h its keyed hash).
 *  0, or -1 on a NULL argument. */
int dw_namestate_update(struct dw_namestate *ns, const struct dw_addr *key, uint64_t h,
                        uint32_t now, struct dw_ns_op *op);

/** Bytes allocated (for the memory report). */
size_t dw_namestate_bytes(const struct dw_namestate *ns);

#endif
