/**
 * \file
 * DNS messages out of captured packets: the link layers, IPv4/IPv6 and
 * UDP/TCP port 53 walk shared by dwpcap(1) and dnswarden-scan(8).
 *
 * What it is for: one bounds-checked parser of capture bytes, so both tools
 * read the same packets the same way. It hands each DNS message (to or from
 * port 53, as asked) to a callback with its addresses and ports; what the
 * message means is the caller's business.
 *
 * Link types: Ethernet (up to two VLAN tags), Linux cooked v1/v2, raw IP,
 * BSD loopback (DLT_NULL, either byte order), OpenBSD loopback (DLT_LOOP).
 * IPv6 extension headers are walked; non-first fragments are skipped. TCP
 * is not reassembled: a segment is read as length-prefixed messages and one
 * that does not parse as such (a continuation) is skipped and counted.
 *
 * dw_pcapdns_question() reads the question of such a message, the same way
 * for both tools.
 *
 * Cost: O(packet length), no allocation. Thread safety: none needed (no
 * state but the caller's). Errors: counted in struct dw_pcapdns_stats.
 */
#ifndef DW_PCAPDNS_H
#define DW_PCAPDNS_H

#include <stddef.h>
#include <stdint.h>

/** One DNS message found in a packet. */
struct dw_pcapdns_msg {
	int family;               /**< 4 or 6 */
	const uint8_t *src, *dst; /**< 4 or 16 address bytes (network order) */
	uint16_t sport, dport;
	int tcp;            /**< 1 when it came in a TCP segment */
	const uint8_t *msg; /**< the DNS message (no TCP length prefix) */
	size_t len;
};

/** Return 0 when msg was a DNS message (taken or ignored), -1 when it does
 *  not parse as one (a TCP segment is then skipped and counted). */
typedef int (*dw_pcapdns_fn)(void *arg, const struct dw_pcapdns_msg *m);

/** What the walk saw. */
struct dw_pcapdns_stats {
	uint64_t packets;     /**< packets handed in */
	uint64_t malformed;   /**< truncated or inconsistent headers */
	uint64_t skipped;     /**< other link/network protocols, later fragments */
	uint64_t tcp_skipped; /**< TCP segments that are no whole messages */
};

/** Which messages the callback gets: sent to the server's port, sent from it. */
#define DW_PCAPDNS_TO53 1
#define DW_PCAPDNS_FROM53 2

/** Longest wire name of a question (RFC 1035), the final zero included. */
#define DW_PCAPDNS_NAME_MAX 255

/** The first question of the DNS message m (len bytes, header included):
 *  its uncompressed wire name into qname and its type into *qtype. O(name).
 *  Returns the name's length (final zero included), or -1 when there is no
 *  readable question: a short message, a label over 63 bytes (compression
 *  pointers included: a question has nothing before it to point to), a
 *  name past the message or over DW_PCAPDNS_NAME_MAX bytes, no room for the
 *  type and class. The question count is the caller's to check. */
int dw_pcapdns_question(const uint8_t *m, size_t len, uint8_t qname[DW_PCAPDNS_NAME_MAX],
                        uint16_t *qtype);

/** Walk one captured packet of link type dlt (pcap_datalink()), len
 *  captured bytes, calling fn for every DNS message matching dirs, port
 *  being the DNS server's port (53, or a resolver's test port). */
void dw_pcapdns_packet(int dlt, const uint8_t *p, size_t len, uint16_t port, int dirs,
                       dw_pcapdns_fn fn, void *arg, struct dw_pcapdns_stats *st);

#endif
