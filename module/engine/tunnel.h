/**
 * \file
 * What a tunnel's query name looks like: the per-name test of the
 * dns_tunnel detector.
 *
 * What it is for: DNS tunnels (iodine, dnscat2, RogueRobin, Saitama,
 * Symbiote, exfiltration kits) carry data in the labels in front of ONE
 * domain they control: "6b1c0e9a...f3.c2.example.com". One such name proves
 * nothing (a CDN or an antivirus cloud lookup looks the same); the detector
 * (namestate.h) counts how many DISTINCT such names one client asks under one
 * registrable domain in its window. This unit says whether one name is such
 * a name:
 *   - its subdomain part (every label in front of the registrable domain,
 *     regdomain.h) holds at least DW_TUNNEL_MIN_CHARS characters, and
 *   - their Shannon entropy over the byte histogram is at least
 *     DW_TUNNEL_MIN_ENTROPY_MILLIBITS / 1000 bits per character.
 * Hex (dnscat2: up to 4 bits), base32 (iodine, up to 5) and base64/128
 * payloads of 24 or more characters are far above 3.2 bits; ordinary host
 * names ("www", "mail", "login.live") are too short, long readable ones
 * ("autodiscover.mail.campus") are below. Short labels of DNSBL queries
 * ("4.3.2.1.zen.spamhaus.org") are mostly digits and dots: low entropy.
 * A tunnel name weighs its payload (dw_tunnel_weight()): the detector counts
 * distinct names, each as 1 unit per started 63 characters of subdomain.
 *
 * The query path's pre-check is dw_tunnel_possible(): O(1), the first
 * label's length byte and the name's length; only names whose first label
 * has at least DW_TUNNEL_MIN_FIRST_LABEL bytes (most tunnel tools put their
 * longest label first) or that are DW_TUNNEL_MIN_NAME wire bytes or longer
 * (dnscat2 without a domain leads with "dnscat") are looked at further.
 *
 * Cost: dw_tunnel_name() is O(len), no allocation, 1 KiB of stack (a byte
 * histogram); the entropy uses a table of n*log2(n) built by
 * dw_tunnel_init(). Thread safety: pure after dw_tunnel_init(), which must
 * run once before any worker calls dw_tunnel_name() (engine build does).
 * Errors: none; a malformed name is not a tunnel name.
 */
#ifndef DW_TUNNEL_H
#define DW_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

/** Shortest first label the pre-check passes. */
#define DW_TUNNEL_MIN_FIRST_LABEL 16
/** Fewest subdomain characters (dots not counted) of a tunnel name. */
#define DW_TUNNEL_MIN_CHARS 24
/** Least entropy of a tunnel name's subdomain, millibits per character. */
#define DW_TUNNEL_MIN_ENTROPY_MILLIBITS 3200
/** Characters of one payload unit: a tunnel name counts one unit per started
 *  DW_TUNNEL_UNIT_CHARS subdomain characters (a full label's worth). */
#define DW_TUNNEL_UNIT_CHARS 63
/** Most units one name counts. */
#define DW_TUNNEL_MAX_WEIGHT 8

/** Build the entropy table (idempotent; call before the workers start). */
void dw_tunnel_init(void);

/** Shortest wire name the pre-check passes whatever its first label: a
 *  tunnel may lead with a short fixed label ("dnscat.<hex>.<hex>"). */
#define DW_TUNNEL_MIN_NAME 64

/** O(1): 0 when the name certainly is no tunnel name (first label and the
 *  whole name short). */
static inline int dw_tunnel_possible(const uint8_t *qname, size_t len)
{
	return qname && len > DW_TUNNEL_MIN_FIRST_LABEL && qname[0] <= 63 &&
	       (qname[0] >= DW_TUNNEL_MIN_FIRST_LABEL || len >= DW_TUNNEL_MIN_NAME);
}

/** Entropy of the subdomain part qname[0 .. sub_len) (wire labels, length
 *  bytes skipped), in millibits per character; 0 when empty or malformed. */
unsigned dw_tunnel_entropy(const uint8_t *qname, size_t sub_len, unsigned *nchars);

/** 1 when qname[0 .. sub_len) (the labels before the registrable domain)
 *  looks like tunnel payload (the rules above), else 0. */
int dw_tunnel_name(const uint8_t *qname, size_t sub_len);

/** How much payload a tunnel name carries: 0 when dw_tunnel_name() says no,
 *  else 1 unit per started DW_TUNNEL_UNIT_CHARS subdomain characters, at
 *  most DW_TUNNEL_MAX_WEIGHT. The detector counts these units, so a tool
 *  that packs 200 bytes into one name (iodine's NULL queries) reaches the
 *  threshold with fewer names than one sending 40 (dnscat2), while names of
 *  one label or less (antivirus and DNSBL hash lookups) count 1 each as
 *  before. Same cost as dw_tunnel_name(). */
unsigned dw_tunnel_weight(const uint8_t *qname, size_t sub_len);

#endif
