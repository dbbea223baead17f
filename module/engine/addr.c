/**
 * \file
 * Client addresses and CIDR prefixes: parsing, printing, masking, matching and
 * the "is this address routed on the Internet" test (see addr.h).
 *
 * Everything here is a pure function of caller-owned memory. Text input may be
 * hostile (a control-socket argument, a config value): every parser bounds its
 * reads by the NUL terminator and rejects trailing garbage.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/** Longest address text we hand to inet_pton() (INET6_ADDRSTRLEN plus slack). */
#define ADDR_TEXT_MAX 64

/**
 * Number of address bytes a family uses.
 * \param family 4 or 6.
 * \return 4, 16, or 0 for an unknown family.
 */
static size_t family_bytes(uint8_t family)
{
	if (family == 4)
		return 4;
	if (family == 6)
		return 16;
	return 0;
}

/**
 * Parse a NUL-terminated address text; inet_pton() alone decides the syntax,
 * so we accept exactly what the C library calls an address (no octal, no
 * short forms like "10.1", no scope ids).
 * \param s the text.
 * \param out filled on success.
 * \return 0, or -1 when s is not an IPv4 or IPv6 address.
 */
int dw_addr_parse(const char *s, struct dw_addr *out)
{
	struct dw_addr a;

	if (s == NULL || out == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, a.b) != 1)
			return -1;
		a.family = 4;
	} else {
		if (inet_pton(AF_INET6, s, a.b) != 1)
			return -1;
		a.family = 6;
	}
	*out = a;
	return 0;
}

/**
 * Print an address through inet_ntop() so that IPv6 is in RFC 5952 form;
 * a buffer that is too small gets a truncated, NUL-terminated text.
 * \param a the address (an unknown family prints as "?").
 * \param buf where to write.
 * \param len size of buf; nothing is written when 0.
 */
void dw_addr_format(const struct dw_addr *a, char *buf, size_t len)
{
	char tmp[ADDR_TEXT_MAX];
	const char *r = NULL;

	if (buf == NULL || len == 0)
		return;
	if (a != NULL && a->family == 4)
		r = inet_ntop(AF_INET, a->b, tmp, sizeof(tmp));
	else if (a != NULL && a->family == 6)
		r = inet_ntop(AF_INET6, a->b, tmp, sizeof(tmp));
	snprintf(buf, len, "%s", r != NULL ? tmp : "?");
}

/**
 * Convert the adapter's sockaddr; a v4-mapped IPv6 source becomes IPv4 so that
 * one host on a dual-stack socket is one client, whatever socket it used.
 * \param sa the socket address.
 * \param salen its length as given by the kernel / Unbound.
 * \param out filled on success.
 * \return 0, or -1 for NULL, a short length or another family.
 */
int dw_addr_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct dw_addr *out)
{
	struct dw_addr a;

	if (sa == NULL || out == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin)); /* sa may be unaligned */
		a.family = 4;
		memcpy(a.b, &sin.sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		memcpy(&sin6, sa, sizeof(sin6));
		if (memcmp(&sin6.sin6_addr, mapped, sizeof(mapped)) == 0) {
			a.family = 4;
			memcpy(a.b, (const uint8_t *)&sin6.sin6_addr + 12, 4);
		} else {
			a.family = 6;
			memcpy(a.b, &sin6.sin6_addr, 16);
		}
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

/**
 * Clear the host part so that prefixes compare and hash as plain addresses
 * (IPv6 clients are aggregated to a /64 this way).
 * \param a the address, changed in place; unknown families are left alone.
 * \param prefix bits to keep, clamped to 32 or 128.
 */
void dw_addr_mask(struct dw_addr *a, unsigned prefix)
{
	size_t n, i;

	if (a == NULL)
		return;
	n = family_bytes(a->family);
	if (n == 0)
		return;
	if (prefix > n * 8)
		prefix = (unsigned)(n * 8);
	for (i = 0; i < n; i++) {
		unsigned keep = prefix >= 8 ? 8 : prefix;

		a->b[i] &= (uint8_t)(0xffu << (8 - keep));
		prefix -= keep;
	}
	/* IPv4 keeps the "rest is zero" invariant even if a caller broke it. */
	for (; i < sizeof(a->b); i++)
		a->b[i] = 0;
}

/**
 * Compare only the bytes the family uses, so stray bytes after an IPv4
 * address never make two equal clients differ.
 * \return true when both are of one known family and equal.
 */
bool dw_addr_equal(const struct dw_addr *a, const struct dw_addr *b)
{
	size_t n;

	if (a == NULL || b == NULL || a->family != b->family)
		return false;
	n = family_bytes(a->family);
	return n != 0 && memcmp(a->b, b->b, n) == 0;
}

/** One special-purpose block: first bytes and prefix length in bits. */
struct special {
	uint8_t b[4];
	uint8_t len;
};

/** IPv4 blocks that are never a routed Internet host (RFC 6890 and friends). */
static const struct special v4_special[] = {
    {{0, 0, 0, 0}, 8},       /* "this network" */
    {{10, 0, 0, 0}, 8},      /* RFC 1918 */
    {{100, 64, 0, 0}, 10},   /* CGNAT, RFC 6598 */
    {{127, 0, 0, 0}, 8},     /* loopback */
    {{169, 254, 0, 0}, 16},  /* link-local */
    {{172, 16, 0, 0}, 12},   /* RFC 1918 */
    {{192, 0, 0, 0}, 24},    /* IETF protocol assignments */
    {{192, 0, 2, 0}, 24},    /* TEST-NET-1 */
    {{192, 168, 0, 0}, 16},  /* RFC 1918 */
    {{198, 18, 0, 0}, 15},   /* benchmarking */
    {{198, 51, 100, 0}, 24}, /* TEST-NET-2 */
    {{203, 0, 113, 0}, 24},  /* TEST-NET-3 */
    {{224, 0, 0, 0}, 4},     /* multicast */
    {{240, 0, 0, 0}, 4},     /* reserved, includes 255.255.255.255 */
};

/**
 * True when the first len bits of addr equal those of pfx.
 * \param addr, pfx byte strings of at least (len + 7) / 8 bytes.
 * \param len prefix length in bits.
 */
static bool prefix_eq(const uint8_t *addr, const uint8_t *pfx, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(addr, pfx, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((addr[full] ^ pfx[full]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

/**
 * The IPv4 half of dw_addr_is_public(), shared with v4-mapped IPv6.
 * \param b four address bytes.
 */
static bool v4_is_public(const uint8_t *b)
{
	size_t i;

	for (i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++)
		if (prefix_eq(b, v4_special[i].b, v4_special[i].len))
			return false;
	return true;
}

/**
 * Decide whether a GeoIP lookup makes sense. IPv6 is public only inside
 * 2000::/3 (the only space IANA allocates as global unicast; this excludes
 * ::, ::1, fc00::/7, fe80::/10, ff00::/8, 64:ff9b::/96 and the rest of the
 * reserved space at once) minus the documentation prefixes 2001:db8::/32 and
 * 3fff::/20; ::ffff:0:0/96 is judged by the IPv4 address it carries.
 * \return false for unknown families and NULL.
 */
bool dw_addr_is_public(const struct dw_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t doc1[4] = {0x20, 0x01, 0x0d, 0xb8};
	static const uint8_t doc2[4] = {0x3f, 0xff, 0x00, 0x00};

	if (a == NULL)
		return false;
	if (a->family == 4)
		return v4_is_public(a->b);
	if (a->family != 6)
		return false;
	if (memcmp(a->b, mapped, sizeof(mapped)) == 0)
		return v4_is_public(a->b + 12);
	if ((a->b[0] & 0xe0) != 0x20)
		return false;
	if (prefix_eq(a->b, doc1, 32) || prefix_eq(a->b, doc2, 20))
		return false;
	return true;
}

/**
 * Parse a prefix length: decimal, no sign, no leading zero, no blanks, at most
 * max; strict so that "/08" or "/ 8" in a config is reported, not guessed at.
 * \return the length, or -1.
 */
static int parse_prefix_len(const char *s, unsigned max)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= max ? (int)v : -1;
}

/**
 * Parse "addr/len" or a bare address (a /32 or /128). A prefix with host bits
 * set is refused rather than silently masked: "10.0.0.1/8" in an exemption
 * list is almost always a typo for a /32 or a /24.
 * \return 0, or -1 on any malformed input.
 */
int dw_cidr_parse(const char *s, struct dw_cidr *out)
{
	char text[ADDR_TEXT_MAX];
	const char *slash;
	struct dw_cidr c;
	struct dw_addr masked;
	size_t alen;
	int len;

	if (s == NULL || out == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(text))
		return -1;
	memcpy(text, s, alen);
	text[alen] = '\0';
	if (dw_addr_parse(text, &c.addr) != 0)
		return -1;
	if (slash == NULL) {
		len = (int)family_bytes(c.addr.family) * 8;
	} else {
		len = parse_prefix_len(slash + 1, (unsigned)family_bytes(c.addr.family) * 8);
		if (len < 0)
			return -1;
	}
	c.len = (uint8_t)len;
	masked = c.addr;
	dw_addr_mask(&masked, c.len);
	if (!dw_addr_equal(&masked, &c.addr))
		return -1;
	*out = c;
	return 0;
}

/**
 * Print "addr/len", truncated and NUL-terminated if buf is too small.
 * \param c the prefix.
 * \param buf where to write.
 * \param len size of buf.
 */
void dw_cidr_format(const struct dw_cidr *c, char *buf, size_t len)
{
	char a[ADDR_TEXT_MAX];

	if (buf == NULL || len == 0)
		return;
	if (c == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	dw_addr_format(&c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, (unsigned)c->len);
}

/**
 * Membership test used by the exemption list; compares prefix bits directly
 * so that a prefix whose host bits were not cleared still matches sanely.
 * \return true when a is of c's family and inside it.
 */
bool dw_cidr_match(const struct dw_cidr *c, const struct dw_addr *a)
{
	size_t n;
	unsigned len;

	if (c == NULL || a == NULL || c->addr.family != a->family)
		return false;
	n = family_bytes(a->family);
	if (n == 0)
		return false;
	len = c->len > n * 8 ? (unsigned)(n * 8) : c->len;
	return prefix_eq(a->b, c->addr.b, len);
}

/** See addr.h: the forwarder lists' membership test. */
bool dw_cidr_list_match(const struct dw_cidr *list, size_t n, const struct dw_addr *a)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (dw_cidr_match(&list[i], a))
			return true;
	return false;
}
