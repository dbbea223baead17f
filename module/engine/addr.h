/**
 * \file
 * Client addresses and CIDR prefixes as the engine sees them.
 *
 * What it is for: one small plain type for "who asked" that the adapter fills
 * from a sockaddr and that the client table, the exemption list and the
 * control socket compare, hash and print.
 *
 * Cost: struct dw_addr is 17 bytes; every function is O(1) and allocation-free.
 * Thread safety: pure functions on caller-owned memory; safe from any thread.
 * Errors: parsers return 0 on success and -1 on a malformed input (they never
 * read beyond the NUL terminator and accept no trailing garbage).
 */
#ifndef DW_ADDR_H
#define DW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Longest text dw_addr_format() / dw_cidr_format() write, with the NUL. */
#define DW_ADDR_STRLEN 64

/** An IPv4 or IPv6 address. IPv4 uses b[0..3]; the rest is zero. */
struct dw_addr {
	uint8_t family; /**< 4 or 6 */
	uint8_t b[16];  /**< network byte order */
};

/** An address prefix such as 192.0.2.0/24 or 2001:db8::/32. */
struct dw_cidr {
	struct dw_addr addr; /**< host bits already cleared */
	uint8_t len;         /**< 0..32 for IPv4, 0..128 for IPv6 */
};

/** Parse "192.0.2.1" or "2001:db8::1" (no brackets, no port, no scope). */
int dw_addr_parse(const char *s, struct dw_addr *out);

/** Print an address in its canonical text form into buf (>= DW_ADDR_STRLEN). */
void dw_addr_format(const struct dw_addr *a, char *buf, size_t len);

/** Fill an address from a sockaddr (AF_INET, AF_INET6; v4-mapped v6 becomes v4). */
int dw_addr_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct dw_addr *out);

/** Clear every bit after the first prefix bits (prefix clamped to the family). */
void dw_addr_mask(struct dw_addr *a, unsigned prefix);

/** True when both addresses are of one family and equal. */
bool dw_addr_equal(const struct dw_addr *a, const struct dw_addr *b);

/** True for addresses routed on the Internet (not private, loopback, link-local,
 *  documentation, CGNAT, multicast, unique-local …); used to decide GeoIP lookups. */
bool dw_addr_is_public(const struct dw_addr *a);

/** Parse "10.0.0.0/8", "2001:db8::/32" or a bare address (a host prefix).
 *  Host bits set beyond the prefix are an error ("10.0.0.1/8"). */
int dw_cidr_parse(const char *s, struct dw_cidr *out);

/** Print a prefix as "addr/len" into buf (>= DW_ADDR_STRLEN). */
void dw_cidr_format(const struct dw_cidr *c, char *buf, size_t len);

/** True when a lies inside c (same family). */
bool dw_cidr_match(const struct dw_cidr *c, const struct dw_addr *a);

/** True when a lies inside any of the n prefixes of list (O(n)). */
bool dw_cidr_list_match(const struct dw_cidr *list, size_t n, const struct dw_addr *a);

#endif
