/**
 * \file
 * The RPZ zone file: dnswarden's block list in the standard Response Policy
 * Zone format, and the reading of such a file (a peer's zone as Unbound keeps
 * it after a zone transfer).
 *
 * What it is for: (1) the zone file named by the `rpz:` clause of
 * unbound.conf is kept in step with the block list, so Unbound loads every
 * active block before it answers anything after a start, kill -9 or reload;
 * (2) the same file is what an authoritative server (Knot DNS) serves to the
 * other resolvers of a fleet, which consume it with `rpz-client-ip`
 * triggers; (3) peers' zones are read back to show their blocks.
 *
 * Format written: an SOA (serial increasing on every write) and an NS at the
 * apex, then per active block a comment "; client=… action=… detector=…
 * expires=… offences=…" and its trigger, owner
 * LABEL.rpz-client-ip.ZONE, with the RPZ encoding of its action:
 * nxdomain CNAME ., nodata CNAME *., drop CNAME rpz-drop., tcp-only
 * CNAME rpz-tcp-only., sinkhole A + AAAA (local data); refuse has no RPZ
 * encoding and is published as nxdomain (the comment says so). A TXT record
 * is not used for detector and expiry: at a trigger's owner RPZ consumers
 * would take it as local data and change the action.
 *
 * Cost: O(blocks) text per write (about 120 bytes per block); reading is
 * O(file) with no allocation beyond the caller's callback.
 * Thread safety: pure functions on the caller's data.
 * Errors: -1 with a sentence in err.
 */
#ifndef DW_RPZFILE_H
#define DW_RPZFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "conf.h"

/** Longest trigger label ("128.ffff.….ffff" for IPv6). */
#define DW_RPZ_LABEL_MAX 64

/** The rpz-client-ip label of a prefix, as Unbound and BIND parse it:
 *  "32.3.2.1.10" for 10.1.2.3/32, "64.zz.2.1.db8.2001" for 2001:db8:1:2::/64
 *  (hextets reversed, the longest run of zero hextets as "zz"). Host bits
 *  are cleared. 0, or -1 when buf is too small or the prefix is invalid. */
int dw_rpz_label(const struct dw_cidr *c, char *buf, size_t len);

/** The reverse: a label (n bytes, no trailing dot) into a prefix. 0 or -1. */
int dw_rpz_label_parse(const char *s, size_t n, struct dw_cidr *out);

/** One trigger to write. */
struct dw_rpz_trigger {
	struct dw_cidr key;
	uint8_t action;   /**< enum dw_action (not DW_ACT_LOG) */
	int8_t detector;  /**< enum dw_detector, -1 manual */
	uint32_t offences;
	int64_t expires;  /**< unix seconds, 0 = until unblocked */
};

/** A whole zone to write. */
struct dw_rpz_zone {
	const char *zone; /**< with the final dot, e.g. "a.dnswarden.rpz." */
	uint32_t serial;
	struct dw_addr sink4, sink6; /**< sinkhole answers */
	const struct dw_rpz_trigger *t;
	size_t n;
};

/** Write the zone as text to f. 0, or -1 when a write failed (ferror). */
int dw_rpzfile_format(FILE *f, const struct dw_rpz_zone *z);

/** The serial after last at unix time now: now when that is larger (in
 *  RFC 1982 order), else last + 1. Never 0. */
uint32_t dw_rpzfile_next_serial(uint32_t last, int64_t now);

/** The SOA serial of zone in the file at path. 0 and *serial, or -1 (no
 *  file, no SOA). */
int dw_rpzfile_read_serial(const char *path, const char *zone, uint32_t *serial);

/** Callback for each client-ip trigger read: nonzero stops. */
typedef int (*dw_rpz_trigger_fn)(void *arg, const struct dw_cidr *key, enum dw_action action);

/**
 * Read the client-ip triggers of zone from a zone file: one written here, or
 * one Unbound wrote after a transfer (full owner names, tabs). Owners may be
 * absolute or relative to zone. Actions: CNAME . nxdomain, CNAME *. nodata,
 * rpz-drop. drop, rpz-tcp-only. tcp-only, A/AAAA sinkhole; passthru and
 * other records are skipped. A prefix with A and AAAA is reported once.
 * *serial gets the SOA serial (0 if none). Lines past max_lines are not read.
 * \return triggers reported, or -1 with err when the file cannot be read.
 */
long dw_rpzfile_read(const char *path, const char *zone, dw_rpz_trigger_fn fn, void *arg,
                     uint32_t *serial, char *err, size_t errlen);

/** Callback for each record of a zone file (dw_rpzfile_records()): owner
 *  as written (a continuation line's is the previous line's), w[i] the type
 *  and w[i + 1] the first rdata word of the n words; nonzero stops. */
typedef int (*dw_rpz_record_fn)(void *arg, const char *owner, char *const *w, size_t n, size_t i);

/**
 * The zone-file reader both trigger readers share: each record line of the
 * file at path ($ directives, comments, blank and over-long lines skipped,
 * class and TTL words skipped) with a type and some rdata, to fn.
 * Cost: O(file), no allocation. \return 0, or -1 with err when the file
 * cannot be read.
 */
int dw_rpzfile_records(const char *path, dw_rpz_record_fn fn, void *arg, char *err, size_t errlen);

/** The action a trigger's record says (CNAME . nxdomain, CNAME *. nodata,
 *  rpz-drop. drop, rpz-tcp-only. tcp-only, A/AAAA sinkhole): 0, or -1 for
 *  passthru, a rewrite not modelled or another type. */
int dw_rpz_action_of(const char *type, const char *rdata, enum dw_action *out);

/** The RPZ encoding of an action as a CNAME target ("." nxdomain, "*."
 *  nodata, "rpz-drop.", "rpz-tcp-only."), or NULL for local data (sinkhole);
 *  refuse, which RPZ cannot say, gets nxdomain's. Client-ip and QNAME
 *  triggers use the same encoding. */
const char *dw_rpz_cname_of(enum dw_action a);

#endif
