/**
 * \file
 * libFuzzer target: address and prefix parsing (module/engine/addr.c).
 *
 * The input is one text. Invariants checked on top of ASan/UBSan:
 * - dw_addr_parse() accepts exactly what inet_pton() accepts (for the family
 *   the text's ':' selects), with the same bytes;
 * - an accepted address printed by dw_addr_format() parses back to itself and
 *   prints the same text again (the canonical form is a fixed point);
 * - an accepted prefix has no host bits set, a length within its family, and
 *   dw_cidr_format() output parses back to the same prefix, which matches
 *   its own address;
 * - dw_addr_from_sockaddr() on the raw bytes never reads past the length.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "addr.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Check one text through the address parser. */
static void check_addr(const char *s)
{
	struct dw_addr a, b;
	uint8_t ref[16];
	char t1[DW_ADDR_STRLEN], t2[DW_ADDR_STRLEN];
	int v6 = strchr(s, ':') != NULL;
	int want = inet_pton(v6 ? AF_INET6 : AF_INET, s, ref) == 1;
	int got = dw_addr_parse(s, &a) == 0;

	FUZZ_CHECK(got == want, "dw_addr_parse('%s') = %d, inet_pton says %d", s, got, want);
	if (!got)
		return;
	FUZZ_CHECK(a.family == (v6 ? 6 : 4) && memcmp(a.b, ref, v6 ? 16 : 4) == 0,
	           "dw_addr_parse('%s'): wrong bytes", s);
	dw_addr_format(&a, t1, sizeof(t1));
	FUZZ_CHECK(dw_addr_parse(t1, &b) == 0 && dw_addr_equal(&a, &b),
	           "'%s' printed as '%s' does not parse back", s, t1);
	dw_addr_format(&b, t2, sizeof(t2));
	FUZZ_CHECK(strcmp(t1, t2) == 0, "'%s' prints '%s' then '%s'", s, t1, t2);
	(void)dw_addr_is_public(&a);
	for (unsigned p = 0; p <= 129; p += 7) {
		struct dw_addr m = a;
		dw_addr_mask(&m, p);
	}
}

/** Check one text through the prefix parser. */
static void check_cidr(const char *s)
{
	struct dw_cidr c, d, m;
	char t[DW_ADDR_STRLEN];

	if (dw_cidr_parse(s, &c) != 0)
		return;
	FUZZ_CHECK((c.addr.family == 4 && c.len <= 32) || (c.addr.family == 6 && c.len <= 128),
	           "'%s': family %u length %u", s, c.addr.family, c.len);
	m = c;
	dw_addr_mask(&m.addr, c.len);
	FUZZ_CHECK(dw_addr_equal(&m.addr, &c.addr), "'%s': host bits set after parsing", s);
	FUZZ_CHECK(dw_cidr_match(&c, &c.addr), "'%s' does not match its own address", s);
	dw_cidr_format(&c, t, sizeof(t));
	FUZZ_CHECK(dw_cidr_parse(t, &d) == 0 && d.len == c.len && dw_addr_equal(&d.addr, &c.addr),
	           "'%s' printed as '%s' does not parse back", s, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256];
	struct dw_addr a;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_addr(s);
	check_cidr(s);

	/* the raw bytes as a sockaddr of exactly size bytes (copied: no overread) */
	if (size <= sizeof(struct sockaddr_in6) + 4) {
		uint8_t *exact = malloc(size ? size : 1);
		memcpy(exact, data, size);
		if (size >= sizeof(sa_family_t))
			(void)dw_addr_from_sockaddr((const struct sockaddr *)(void *)exact,
			                            (socklen_t)size, &a);
		free(exact);
	}
	return 0;
}
