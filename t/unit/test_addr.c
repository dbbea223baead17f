/**
 * \file
 * Unit tests for module/engine/addr.c: parsing, printing, masking, CIDR matching and
 * the public-address test, plus a randomized round-trip loop over hostile
 * strings (run it under ASan/UBSan).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "tap.h"

/** Parse s or fail the test run loudly (the fixture itself is wrong). */
static struct dw_addr A(const char *s) {
	struct dw_addr a;

	if (dw_addr_parse(s, &a) != 0) {
		printf("# fixture %s does not parse\n", s);
		exit(2);
	}
	return a;
}

/** A parsed address as a pointer, for one-line checks. */
#define PA(s) (&(struct dw_addr[1]){A(s)}[0])

/** True when s parses and prints back as want. */
static int
parse_prints(const char *s, const char *want)
{
	struct dw_addr a;
	char buf[DW_ADDR_STRLEN];

	if (dw_addr_parse(s, &a) != 0)
		return 0;
	dw_addr_format(&a, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		printf("#   '%s' printed as '%s', want '%s'\n", s, buf, want);
		return 0;
	}
	return 1;
}

static void test_parse(void)
{
	static const char *const bad[] = {
	    "",           "1.2.3",     "1.2.3.4.5", "256.1.1.1",         "01.2.3.4",
	    " 1.2.3.4",   "1.2.3.4 ",  "1.2.3.4/8", "1.2.3.-4",          "0x1.2.3.4",
	    "::1%eth0",   "[::1]",     "::g",       "1:2:3:4:5:6:7:8:9", ":::",
	    "1::2::3",    "abc",       "1.2.3.4\n", "2001:db8::1/64",    "::ffff:1.2.3.256",
	    "1.2.3.4:53", "localhost", "\xff\xfe",
	};
	struct dw_addr a;
	size_t i;
	char big[4096];

	ok(parse_prints("192.0.2.1", "192.0.2.1"), "parse/format IPv4");
	ok(parse_prints("0.0.0.0", "0.0.0.0"), "parse/format 0.0.0.0");
	ok(parse_prints("255.255.255.255", "255.255.255.255"), "parse/format broadcast");
	ok(parse_prints("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), "IPv6 printed in RFC 5952 form");
	ok(parse_prints("::", "::"), "parse/format ::");
	ok(parse_prints("::1", "::1"), "parse/format ::1");
	ok(parse_prints("::ffff:192.0.2.1", "::ffff:192.0.2.1"), "v4-mapped text stays IPv6");
	ok(dw_addr_parse("::ffff:192.0.2.1", &a) == 0 && a.family == 6,
	   "dw_addr_parse does not unmap v4-mapped addresses");
	ok(dw_addr_parse("10.1.2.3", &a) == 0 && a.family == 4 && a.b[0] == 10 && a.b[3] == 3 &&
	       a.b[4] == 0 && a.b[15] == 0,
	   "IPv4 bytes in order, rest zero");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0xaa, sizeof(a));
		ok(dw_addr_parse(bad[i], &a) == -1 && a.family == 0xaa,
		   "reject bad address #%zu, out untouched", i);
	}
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(dw_addr_parse(big, &a) == -1, "reject 4095 digits");
	ok(dw_addr_parse(NULL, &a) == -1, "reject NULL text");
	ok(dw_addr_parse("1.2.3.4", NULL) == -1, "reject NULL out");
}

static void test_format(void)
{
	struct dw_addr a = A("2001:db8:1234:5678:9abc:def0:1234:5678");
	char buf[DW_ADDR_STRLEN], small[8];

	dw_addr_format(&a, buf, sizeof(buf));
	ok(strcmp(buf, "2001:db8:1234:5678:9abc:def0:1234:5678") == 0, "format long IPv6");
	memset(small, 'x', sizeof(small));
	dw_addr_format(&a, small, sizeof(small));
	ok(strcmp(small, "2001:db") == 0, "small buffer: truncated and NUL-terminated");
	memset(small, 'x', sizeof(small));
	dw_addr_format(&a, small, 0);
	ok(small[0] == 'x', "len 0 writes nothing");
	memset(&a, 0, sizeof(a));
	dw_addr_format(&a, buf, sizeof(buf));
	ok(strcmp(buf, "?") == 0, "unknown family prints ?");
	dw_addr_format(NULL, buf, sizeof(buf));
	ok(strcmp(buf, "?") == 0, "NULL prints ?");
}

static void test_sockaddr(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct dw_addr a;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a010203);
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &a) == 0 &&
	       dw_addr_equal(&a, &(struct dw_addr){4, {10, 1, 2, 3}}),
	   "sockaddr_in");
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin) - 1, &a) == -1,
	   "short sockaddr_in refused");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, A("2001:db8::7").b, 16);
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &a) == 0 &&
	       a.family == 6 && dw_addr_equal(&a, PA("2001:db8::7")),
	   "sockaddr_in6");
	memcpy(&sin6.sin6_addr, A("::ffff:192.0.2.9").b, 16);
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &a) == 0 &&
	       dw_addr_equal(&a, PA("192.0.2.9")) && a.b[4] == 0,
	   "v4-mapped sockaddr_in6 becomes IPv4");
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sin6, sizeof(struct sockaddr_in), &a) == -1,
	   "short sockaddr_in6 refused");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ok(dw_addr_from_sockaddr((struct sockaddr *)&sun, sizeof(sun), &a) == -1,
	   "AF_UNIX refused");
	ok(dw_addr_from_sockaddr(NULL, 0, &a) == -1, "NULL sockaddr refused");
}

/** Mask text s to p bits and compare with want. */
static int masks_to(const char *s, unsigned p, const char *want)
{
	struct dw_addr a = A(s), w = A(want);

	dw_addr_mask(&a, p);
	return dw_addr_equal(&a, &w);
}

static void test_mask_equal(void)
{
	struct dw_addr a, b;

	ok(masks_to("192.0.2.255", 0, "0.0.0.0"), "mask /0");
	ok(masks_to("192.0.2.255", 7, "192.0.0.0"), "mask /7");
	ok(masks_to("192.0.2.255", 25, "192.0.2.128"), "mask /25");
	ok(masks_to("192.0.2.255", 32, "192.0.2.255"), "mask /32 keeps all");
	ok(masks_to("192.0.2.255", 200, "192.0.2.255"), "mask clamps to /32");
	ok(masks_to("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"), "mask v6 /64");
	ok(masks_to("2001:db8:1:2:3:4:5:ffff", 127, "2001:db8:1:2:3:4:5:fffe"), "mask v6 /127");
	ok(masks_to("ffff::1", 1, "8000::"), "mask v6 /1");
	ok(masks_to("ffff::1", 128, "ffff::1"), "mask v6 /128 keeps all");
	ok(masks_to("ffff::1", 0, "::"), "mask v6 /0");
	a = A("10.0.0.1");
	b = a;
	b.b[7] = 1; /* garbage after an IPv4 address */
	ok(dw_addr_equal(&a, &b), "equal ignores bytes past an IPv4 address");
	ok(!dw_addr_equal(&a, PA("::a00:1")), "different families differ");
	memset(&a, 0, sizeof(a));
	ok(!dw_addr_equal(&a, &a), "unknown family is never equal");
	ok(!dw_addr_equal(NULL, &a), "NULL is never equal");
}

static void test_public(void)
{
	static const char *const private[] = {
	    "0.0.0.0",
	    "0.255.255.255",
	    "10.0.0.0",
	    "10.255.255.255",
	    "100.64.0.0",
	    "100.127.255.255",
	    "127.0.0.1",
	    "169.254.0.1",
	    "172.16.0.0",
	    "172.31.255.255",
	    "192.0.0.8",
	    "192.0.2.1",
	    "192.168.1.1",
	    "198.18.0.0",
	    "198.19.255.255",
	    "198.51.100.7",
	    "203.0.113.200",
	    "224.0.0.251",
	    "239.255.255.250",
	    "240.0.0.1",
	    "255.255.255.255",
	    "::",
	    "::1",
	    "fc00::1",
	    "fdff:ffff::1",
	    "fe80::1",
	    "febf::1",
	    "ff02::1",
	    "2001:db8::1",
	    "2001:db8:ffff::",
	    "64:ff9b::808:808",
	    "::ffff:10.0.0.1",
	    "::ffff:127.0.0.1",
	    "100::1",
	    "::808:808",
	    "3fff::1",
	};
	static const char *const public[] = {
	    "1.1.1.1",         "8.8.8.8",         "9.255.255.255",   "11.0.0.0",
	    "100.63.255.255",  "100.128.0.0",     "126.255.255.255", "128.0.0.0",
	    "169.253.255.255", "172.15.255.255",  "172.32.0.0",      "192.0.1.255",
	    "192.0.3.0",       "192.167.255.255", "198.17.255.255",  "198.20.0.0",
	    "198.51.99.255",   "203.0.112.255",   "223.255.255.255", "2001:4860:4860::8888",
	    "2a00:1450::1",    "2001:db9::1",     "3ffe::1",         "::ffff:8.8.8.8",
	};
	struct dw_addr a;
	size_t i;

	for (i = 0; i < sizeof(private) / sizeof(private[0]); i++)
		ok(!dw_addr_is_public(PA(private[i])), "not public: %s", private[i]);
	for (i = 0; i < sizeof(public) / sizeof(public[0]); i++)
		ok(dw_addr_is_public(PA(public[i])), "public: %s", public[i]);
	memset(&a, 0, sizeof(a));
	ok(!dw_addr_is_public(&a) && !dw_addr_is_public(NULL), "unknown family / NULL not public");
}

/** True when s parses as a prefix that prints as want. */
static int cidr_prints(const char *s, const char *want)
{
	struct dw_cidr c;
	char buf[DW_ADDR_STRLEN];

	if (dw_cidr_parse(s, &c) != 0) {
		printf("#   '%s' did not parse\n", s);
		return 0;
	}
	dw_cidr_format(&c, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		printf("#   '%s' printed as '%s', want '%s'\n", s, buf, want);
		return 0;
	}
	return 1;
}

static void test_cidr(void)
{
	static const char *const bad[] = {
	    "10.0.0.1/8",
	    "1.2.3.4/0",
	    "10.0.0.0/33",
	    "::/129",
	    "10.0.0.0/",
	    "/8",
	    "10.0.0.0/08",
	    "10.0.0.0/-1",
	    "10.0.0.0/+8",
	    "10.0.0.0/8/8",
	    "10.0.0.0/ 8",
	    "10.0.0.0/8 ",
	    "10.0.0.0 /8",
	    "2001:db8::1/32",
	    "10.0.0.0/1000",
	    "",
	    "/",
	    "abc/8",
	    "2001:db8::/0032",
	    "10.0.0.0/8x",
	};
	struct dw_cidr c;
	char big[300];
	size_t i;

	ok(cidr_prints("0.0.0.0/0", "0.0.0.0/0"), "cidr /0 IPv4");
	ok(cidr_prints("::/0", "::/0"), "cidr /0 IPv6");
	ok(cidr_prints("10.0.0.0/8", "10.0.0.0/8"), "cidr /8");
	ok(cidr_prints("128.0.0.0/1", "128.0.0.0/1"), "cidr /1");
	ok(cidr_prints("192.0.2.1/32", "192.0.2.1/32"), "cidr /32");
	ok(cidr_prints("192.0.2.1", "192.0.2.1/32"), "bare IPv4 is a /32");
	ok(cidr_prints("2001:DB8::/32", "2001:db8::/32"), "cidr IPv6 /32");
	ok(cidr_prints("2001:db8::1/128", "2001:db8::1/128"), "cidr /128");
	ok(cidr_prints("2001:db8::1", "2001:db8::1/128"), "bare IPv6 is a /128");
	ok(cidr_prints("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"), "cidr v4-mapped");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xaa, sizeof(c));
		ok(dw_cidr_parse(bad[i], &c) == -1 && c.len == 0xaa, "reject bad prefix '%s'",
		   bad[i]);
	}
	memset(big, '1', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "/8", 3);
	ok(dw_cidr_parse(big, &c) == -1, "reject a 297-byte address part");
	ok(dw_cidr_parse(NULL, &c) == -1, "reject NULL");

	dw_cidr_parse("10.0.0.0/8", &c);
	ok(dw_cidr_match(&c, PA("10.0.0.0")), "10/8 holds 10.0.0.0");
	ok(dw_cidr_match(&c, PA("10.255.255.255")), "10/8 holds 10.255.255.255");
	ok(!dw_cidr_match(&c, PA("11.0.0.0")), "10/8 lacks 11.0.0.0");
	ok(!dw_cidr_match(&c, PA("9.255.255.255")), "10/8 lacks 9.255.255.255");
	ok(!dw_cidr_match(&c, PA("::ffff:10.0.0.1")), "10/8 lacks v6 forms");
	dw_cidr_parse("0.0.0.0/0", &c);
	ok(dw_cidr_match(&c, PA("255.255.255.255")), "/0 holds every IPv4");
	ok(!dw_cidr_match(&c, PA("::")), "IPv4 /0 holds no IPv6");
	dw_cidr_parse("::/0", &c);
	ok(dw_cidr_match(&c, PA("ffff::1")), "::/0 holds every IPv6");
	ok(!dw_cidr_match(&c, PA("1.2.3.4")), "::/0 holds no IPv4");
	dw_cidr_parse("192.0.2.1/32", &c);
	ok(dw_cidr_match(&c, PA("192.0.2.1")) && !dw_cidr_match(&c, PA("192.0.2.0")),
	   "/32 holds exactly one address");
	dw_cidr_parse("2001:db8::1/128", &c);
	ok(dw_cidr_match(&c, PA("2001:db8::1")) && !dw_cidr_match(&c, PA("2001:db8::")),
	   "/128 holds exactly one address");
	dw_cidr_parse("2001:db8::/33", &c);
	ok(dw_cidr_match(&c, PA("2001:db8:7fff::1")) && !dw_cidr_match(&c, PA("2001:db8:8000::")),
	   "/33 boundary");
	ok(!dw_cidr_match(NULL, PA("1.2.3.4")), "NULL prefix matches nothing");
}

/** xorshift64*: reproducible randomness without libc state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/** Hostile strings from an alphabet that reaches every parser branch; every
 *  accepted input must print and re-parse to the same value. */
static void test_random(void)
{
	static const char alpha[] = "0123456789abcdefABCDEF:./%x -+\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t iter, bad_rt = 0, accepted = 0, cidr_ok = 0;

	for (iter = 0; iter < 200000; iter++) {
		char s[80], buf[DW_ADDR_STRLEN];
		size_t n = rnd(&seed) % sizeof(s), i;
		struct dw_addr a, b;
		struct dw_cidr c, d;

		for (i = 0; i < n; i++)
			s[i] = alpha[rnd(&seed) % (sizeof(alpha) - 1)];
		s[n] = '\0';
		if (iter % 4 == 0 && n > 8) /* bias towards plausible shapes */
			snprintf(s, sizeof(s), "%u.%u.%u.%u/%u", (unsigned)(rnd(&seed) % 300),
			         (unsigned)(rnd(&seed) % 300), (unsigned)(rnd(&seed) % 300),
			         (unsigned)(rnd(&seed) % 300), (unsigned)(rnd(&seed) % 40));
		if (dw_addr_parse(s, &a) == 0) {
			accepted++;
			dw_addr_format(&a, buf, sizeof(buf));
			if (dw_addr_parse(buf, &b) != 0 || !dw_addr_equal(&a, &b))
				bad_rt++;
		}
		if (dw_cidr_parse(s, &c) == 0) {
			cidr_ok++;
			dw_cidr_format(&c, buf, sizeof(buf));
			if (dw_cidr_parse(buf, &d) != 0 || d.len != c.len ||
			    !dw_addr_equal(&c.addr, &d.addr) || !dw_cidr_match(&c, &c.addr))
				bad_rt++;
		}
		(void)dw_addr_is_public(&a);
	}
	ok(bad_rt == 0,
	   "200000 random strings: every accepted address/prefix round-trips "
	   "(%zu addresses, %zu prefixes accepted)",
	   accepted, cidr_ok);
}

int main(void)
{
	test_parse();
	test_format();
	test_sockaddr();
	test_mask_equal();
	test_public();
	test_cidr();
	test_random();
	return done_testing();
}
