/**
 * \file
 * Unit tests for module/engine/feature.c: the keyword, IPv4-literal, PTR and
 * signature rules (feature.h), the text/wire name helpers, and hostile wire
 * names, including a randomized loop meant to run under ASan/UBSan. Hostile
 * names are copied into exactly-sized heap buffers so that any read past len
 * is caught by ASan.
 */
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "tap.h"

#define T_A 1
#define T_PTR 12
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28

static const char *const default_kw[] = {"mail", "smtp", "mx", "ns", "relay", "gate"};

/** Features of a presentation-format name; exits on a broken fixture. */
static struct dw_features F(const struct dw_feature_set *fs, const char *name, uint16_t qtype) {
	uint8_t wire[DW_NAME_MAXWIRE];
	struct dw_features f;
	int len = dw_name_from_text(name, wire, sizeof(wire));

	if (len < 0) {
		printf("# fixture '%s' is not a name\n", name);
		exit(2);
	}
	if (dw_features_of(fs, wire, (size_t)len, qtype, &f) != 0) {
		printf("# fixture '%s' is malformed\n", name);
		exit(2);
	}
	return f;
}

/** Flags of a name for a qtype. */
static uint32_t
flags(const struct dw_feature_set *fs, const char *name, uint16_t qtype)
{
	return F(fs, name, qtype).flags;
}

/** Check the exact flag set and print both on failure. */
static void is_flags(const struct dw_feature_set *fs, const char *name, uint16_t qtype,
                     uint32_t want, const char *why)
{
	uint32_t got = flags(fs, name, qtype);

	if (!ok(got == want, "%s: %s type %u", why, name, (unsigned)qtype))
		printf("#   got flags 0x%x, want 0x%x\n", (unsigned)got, (unsigned)want);
}

/** Run dw_features_of on an exactly-sized heap copy of wire[0..len). */
static int features_heap(const struct dw_feature_set *fs, const uint8_t *wire, size_t len,
                         uint16_t qtype, struct dw_features *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		exit(2);
	memcpy(copy, wire, len);
	rc = dw_features_of(fs, copy, len, qtype, out);
	free(copy);
	return rc;
}

/** Wire → text into a fresh buffer. */
static const char *txt(const uint8_t *wire, size_t len, char *buf)
{
	dw_name_to_text(wire, len, buf, DW_NAME_TEXT_MAX);
	return buf;
}

static void test_qclass(void)
{
	is_int(dw_qclass_of(1), DW_Q_A, "qtype 1 is A");
	is_int(dw_qclass_of(28), DW_Q_AAAA, "qtype 28 is AAAA");
	is_int(dw_qclass_of(15), DW_Q_MX, "qtype 15 is MX");
	is_int(dw_qclass_of(12), DW_Q_PTR, "qtype 12 is PTR");
	is_int(dw_qclass_of(255), DW_Q_OTHER, "qtype ANY is OTHER");
	is_int(dw_qclass_of(0), DW_Q_OTHER, "qtype 0 is OTHER");
	is_int(dw_qclass_of(65535), DW_Q_OTHER, "qtype 65535 is OTHER");
	ok(strcmp(dw_qclass_name(DW_Q_MX), "mx") == 0 &&
	       strcmp(dw_qclass_name(DW_Q_OTHER), "other") == 0,
	   "class names");
	ok(strcmp(dw_qclass_name((enum dw_qclass)99), "?") == 0, "out-of-range class name");
	ok(strcmp(dw_feature_name(DW_FEAT_IPLIT), "ip_literal") == 0 &&
	       strcmp(dw_feature_name(DW_FEAT_PTR_FORWARD), "ptr_forward") == 0 &&
	       strcmp(dw_feature_name(DW_FEAT_IPLIT | DW_FEAT_KEYWORD), "?") == 0,
	   "feature names");
}

static void test_from_text(void)
{
	uint8_t w[300];
	char s[400];
	int i;

	is_int(dw_name_from_text("a.bc", w, sizeof(w)), 6, "a.bc is 6 bytes");
	ok(memcmp(w, "\1a\2bc\0", 6) == 0, "a.bc wire bytes");
	is_int(dw_name_from_text("a.bc.", w, sizeof(w)), 6, "trailing dot optional");
	is_int(dw_name_from_text(".", w, sizeof(w)), 1, "root is one byte");
	ok(w[0] == 0, "root is the zero label");
	is_int(dw_name_from_text("", w, sizeof(w)), -1, "empty text refused");
	is_int(dw_name_from_text("a..b", w, sizeof(w)), -1, "empty label refused");
	is_int(dw_name_from_text(".a", w, sizeof(w)), -1, "leading dot refused");
	is_int(dw_name_from_text("a..", w, sizeof(w)), -1, "double trailing dot refused");
	is_int(dw_name_from_text("a\\.b", w, sizeof(w)), 5, "escaped dot stays in the label");
	ok(memcmp(w, "\3a.b\0", 5) == 0, "escaped dot bytes");
	is_int(dw_name_from_text("\\065\\000\\255", w, sizeof(w)), 5, "\\DDD escapes");
	ok(memcmp(w, "\3A\0\377\0", 5) == 0, "\\DDD bytes");
	is_int(dw_name_from_text("\\\\", w, sizeof(w)), 3, "escaped backslash");
	is_int(dw_name_from_text("\\256", w, sizeof(w)), -1, "\\256 refused");
	is_int(dw_name_from_text("\\12", w, sizeof(w)), -1, "two-digit escape refused");
	is_int(dw_name_from_text("\\1a2", w, sizeof(w)), -1, "non-digit in escape refused");
	is_int(dw_name_from_text("ab\\", w, sizeof(w)), -1, "trailing backslash refused");
	is_int(dw_name_from_text(NULL, w, sizeof(w)), -1, "NULL refused");

	memset(s, 'a', 63);
	s[63] = '\0';
	is_int(dw_name_from_text(s, w, sizeof(w)), 65, "63-byte label accepted");
	s[63] = 'a';
	s[64] = '\0';
	is_int(dw_name_from_text(s, w, sizeof(w)), -1, "64-byte label refused");
	/* 3 x 63 + 61: 3*64 + 62 + 1 = 255 bytes; one more byte is 256. */
	for (i = 0; i < 3; i++) {
		memset(s + i * 64, 'b', 63);
		s[i * 64 + 63] = '.';
	}
	memset(s + 192, 'c', 61);
	s[253] = '\0';
	is_int(dw_name_from_text(s, w, sizeof(w)), 255, "255-byte name accepted");
	is_int(dw_name_from_text(s, w, 255), 255, "exact capacity suffices");
	is_int(dw_name_from_text(s, w, 254), -1, "capacity one short refused");
	s[253] = 'c';
	s[254] = '\0';
	is_int(dw_name_from_text(s, w, sizeof(w)), -1, "256-byte name refused");
	s[253] = '.';
	is_int(dw_name_from_text(s, w, sizeof(w)), 255, "255-byte name with trailing dot");
	is_int(dw_name_from_text("a", w, 2), -1, "capacity 2 too small for 'a'");
	is_int(dw_name_from_text(".", w, 0), -1, "capacity 0 refused");
}

/** Where in a presentation text a whole character or escape may end. */
static int is_token_boundary(const char *full, size_t at)
{
	size_t i = 0;

	while (i < at) {
		if (full[i] == '\\')
			i += (full[i + 1] >= '0' && full[i + 1] <= '9') ? 4 : 2;
		else
			i++;
	}
	return i == at;
}

static void test_to_text(void)
{
	static const uint8_t hostile[] = "\5a.b\\c\4\0 \x80\xff\3\"$;\0";
	static const uint8_t trunc[] = "\3www\7example\3com\0";
	char buf[DW_NAME_TEXT_MAX], full[DW_NAME_TEXT_MAX], small[64];
	uint8_t w[DW_NAME_MAXWIRE], w2[DW_NAME_MAXWIRE];
	size_t cap, bad = 0;
	int l, l2;

	ok(strcmp(txt((const uint8_t *)"\0", 1, buf), ".") == 0, "root prints as .");
	ok(strcmp(txt(trunc, sizeof(trunc) - 1, buf), "www.example.com.") == 0, "plain name");
	ok(strcmp(txt(hostile, sizeof(hostile) - 1, buf),
	          "a\\.b\\\\c.\\000\\032\\128\\255.\\\"\\$\\;.") == 0,
	   "hostile bytes escaped: %s", buf);
	l = dw_name_from_text(buf, w, sizeof(w));
	ok(l == (int)sizeof(hostile) - 1 && memcmp(w, hostile, (size_t)l) == 0,
	   "escaped text parses back to the same wire");
	ok(strcmp(txt(trunc, 5, buf), "www.<malformed>") == 0, "truncated name: %s", buf);
	ok(strcmp(txt((const uint8_t *)"\100aaaa", 5, buf), "<malformed>") == 0,
	   "label 64 prints <malformed>");
	ok(strcmp(txt(NULL, 3, buf), "<malformed>") == 0, "NULL prints <malformed>");
	ok(strcmp(txt(trunc, 0, buf), "<malformed>") == 0, "len 0 prints <malformed>");

	/* Every capacity: an honest prefix, cut between whole escapes, NUL-terminated. */
	dw_name_to_text(hostile, sizeof(hostile) - 1, full, sizeof(full));
	for (cap = 1; cap <= strlen(full) + 1; cap++) {
		memset(small, 'Z', sizeof(small));
		dw_name_to_text(hostile, sizeof(hostile) - 1, small, cap);
		if (memchr(small, '\0', cap) == NULL || strncmp(small, full, strlen(small)) != 0 ||
		    !is_token_boundary(full, strlen(small)) || strlen(small) + 4 < cap ||
		    small[cap] != 'Z')
			bad++;
	}
	ok(bad == 0, "every capacity 1..%zu truncates at an escape boundary", strlen(full) + 1);
	memset(small, 'Z', sizeof(small));
	dw_name_to_text(hostile, sizeof(hostile) - 1, small, 0);
	ok(small[0] == 'Z', "capacity 0 writes nothing");

	/* Worst case fits DW_NAME_TEXT_MAX: 255 bytes of \DDD escapes. */
	memset(w, 0xff, sizeof(w));
	w[0] = w[64] = w[128] = 63;
	w[192] = 61;
	w[254] = 0;
	dw_name_to_text(w, 255, buf, sizeof(buf));
	ok(strlen(buf) == 4 * 250 + 4 && buf[strlen(buf) - 1] == '.',
	   "worst-case name prints in full (%zu chars)", strlen(buf));
	l2 = dw_name_from_text(buf, w2, sizeof(w2));
	ok(l2 == 255 && memcmp(w, w2, 255) == 0, "worst-case name round-trips");
}

static void test_keywords(void)
{
	static const char *const upper[] = {"MAIL", "Gate"};
	static const char *const bad_chars[] = {"mail", "ma il"};
	static const char *const bad_dot[] = {"mail."};
	static const char *const empty[] = {""};
	static const char *const digits[] = {"1", "x-"};
	const char *many[DW_FEAT_MAX_KEYWORDS + 1];
	char long_kw[80], err[256];
	struct dw_feature_set *fs, *fs2;
	const char *p;
	size_t i;

	fs = dw_feature_set_new(default_kw, 6, NULL, 0, err, sizeof(err));
	ok(fs != NULL, "default keywords build");
	is_flags(fs, "mail.example.com", T_A, DW_FEAT_KEYWORD, "exact keyword");
	is_flags(fs, "mail2.example.com", T_A, DW_FEAT_KEYWORD, "prefix mail2");
	is_flags(fs, "MX1.example.com", T_A, DW_FEAT_KEYWORD, "case-insensitive MX1");
	is_flags(fs, "smtp-out.example.com", T_AAAA, DW_FEAT_KEYWORD, "AAAA smtp-out");
	is_flags(fs, "ns1.example.com", T_A, DW_FEAT_KEYWORD, "ns1");
	is_flags(fs, "nsa.gov", T_A, DW_FEAT_KEYWORD, "nsa (prefix match, documented)");
	is_flags(fs, "RELAY", T_A, DW_FEAT_KEYWORD, "single-label name");
	is_flags(fs, "gateway.example", T_A, DW_FEAT_KEYWORD, "gateway");
	is_flags(fs, "webmail.example.com", T_A, 0, "keyword not at the start");
	is_flags(fs, "www.mail.example.com", T_A, 0, "keyword not in the first label");
	is_flags(fs, "m.example.com", T_A, 0, "label shorter than any keyword");
	is_flags(fs, "mai.example.com", T_A, 0, "label shorter than the keyword");
	is_flags(fs, "mail.example.com", T_MX, 0, "MX query: no keyword flag");
	is_flags(fs, "mail.example.com", T_TXT, 0, "TXT query: no keyword flag");
	is_flags(fs, "mail.example.com", T_PTR, DW_FEAT_PTR_MALFORMED,
	         "PTR query: no keyword flag");
	is_flags(fs, ".", T_A, 0, "root: no keyword");
	is_flags(fs, "ma\\000il.example", T_A, 0, "NUL inside the prefix breaks the match");
	is_flags(fs, "mail\\000.example", T_A, DW_FEAT_KEYWORD,
	         "bytes after the prefix do not matter");
	is_flags(NULL, "mail.example.com", T_A, 0, "no feature set: no keyword");

	fs2 = dw_feature_set_new(upper, 2, NULL, 0, err, sizeof(err));
	ok(fs2 != NULL, "upper-case keywords are folded");
	is_flags(fs2, "mailhost.example", T_A, DW_FEAT_KEYWORD, "folded MAIL matches mailhost");
	is_flags(fs2, "GATE7", T_AAAA, DW_FEAT_KEYWORD, "folded Gate matches GATE7");
	dw_feature_set_free(fs2);
	fs2 = dw_feature_set_new(digits, 2, NULL, 0, err, sizeof(err));
	is_flags(fs2, "1.2.3.4", T_A, DW_FEAT_KEYWORD | DW_FEAT_IPLIT, "digit keyword and literal");
	is_flags(fs2, "x-ray.example", T_A, DW_FEAT_KEYWORD, "hyphen keyword");
	is_flags(fs2, "x.example", T_A, 0, "hyphen keyword needs the hyphen");
	dw_feature_set_free(fs2);
	fs2 = dw_feature_set_new(NULL, 0, NULL, 0, err, sizeof(err));
	is_flags(fs2, "mail.example.com", T_A, 0, "no keywords configured");
	dw_feature_set_free(fs2);

	err[0] = '\0';
	ok(dw_feature_set_new(bad_chars, 2, NULL, 0, err, sizeof(err)) == NULL &&
	       strstr(err, "keyword 2") != NULL && strstr(err, "ma il") != NULL,
	   "space in keyword refused: %s", err);
	ok(dw_feature_set_new(bad_dot, 1, NULL, 0, err, sizeof(err)) == NULL,
	   "dot in keyword refused");
	ok(dw_feature_set_new(empty, 1, NULL, 0, err, sizeof(err)) == NULL &&
	       strstr(err, "empty") != NULL,
	   "empty keyword refused: %s", err);
	memset(long_kw, 'k', 64);
	long_kw[64] = '\0';
	p = long_kw;
	ok(dw_feature_set_new(&p, 1, NULL, 0, err, sizeof(err)) == NULL, "64-char keyword refused");
	long_kw[63] = '\0';
	fs2 = dw_feature_set_new(&p, 1, NULL, 0, err, sizeof(err));
	ok(fs2 != NULL, "63-char keyword accepted");
	dw_feature_set_free(fs2);
	for (i = 0; i < DW_FEAT_MAX_KEYWORDS + 1; i++)
		many[i] = "kw";
	ok(dw_feature_set_new(many, DW_FEAT_MAX_KEYWORDS + 1, NULL, 0, err, sizeof(err)) == NULL,
	   "33 keywords refused: %s", err);
	fs2 = dw_feature_set_new(many, DW_FEAT_MAX_KEYWORDS, NULL, 0, NULL, 0);
	ok(fs2 != NULL, "32 keywords accepted (err may be NULL)");
	dw_feature_set_free(fs2);
	ok(dw_feature_set_new(NULL, 3, NULL, 0, NULL, 0) == NULL,
	   "NULL keyword list with count refused");
	dw_feature_set_free(fs);
}

static void test_literal(void)
{
	struct dw_features f;
	char buf[DW_ADDR_STRLEN];

	f = F(NULL, "192.0.2.1", T_A);
	dw_addr_format(&f.literal, buf, sizeof(buf));
	ok(f.flags == DW_FEAT_IPLIT && strcmp(buf, "192.0.2.1") == 0, "A 192.0.2.1 is a literal");
	is_flags(NULL, "192.0.2.1.", T_A, DW_FEAT_IPLIT, "trailing dot is the same name");
	is_flags(NULL, "0.0.0.0", T_A, DW_FEAT_IPLIT, "0.0.0.0");
	is_flags(NULL, "255.255.255.255", T_A, DW_FEAT_IPLIT, "255.255.255.255");
	f = F(NULL, "010.001.002.00", T_A);
	dw_addr_format(&f.literal, buf, sizeof(buf));
	ok(f.flags == DW_FEAT_IPLIT && strcmp(buf, "10.1.2.0") == 0,
	   "leading zeros accepted, read as decimal: %s", buf);
	is_flags(NULL, "256.1.1.1", T_A, 0, "256 is no octet");
	is_flags(NULL, "1.1.1.256", T_A, 0, "256 in the last label");
	is_flags(NULL, "1.2.3.999", T_A, 0, "999");
	is_flags(NULL, "1.2.3.0004", T_A, 0, "four digits");
	is_flags(NULL, "1.2.3", T_A, 0, "three labels");
	is_flags(NULL, "1.2.3.4.5", T_A, 0, "five labels");
	is_flags(NULL, "1.2.3.4.in-addr.arpa", T_A, 0, "reverse name as A");
	is_flags(NULL, "1a.2.3.4", T_A, 0, "hex digit");
	is_flags(NULL, "-1.2.3.4", T_A, 0, "sign");
	is_flags(NULL, "1.2.3.4x", T_A, 0, "trailing letter");
	is_flags(NULL, "1.2. 3.4", T_A, 0, "space");
	is_flags(NULL, "1.2.3.\\0524", T_A, DW_FEAT_IPLIT,
	         "escaped digit (\\052 is '4') is a digit");
	is_flags(NULL, "1.2.3.\\042", T_A, 0, "escaped non-digit (\\042 is '*')");
	is_flags(NULL, "1\\.2\\.3\\.4", T_A, 0, "one label holding dots");
	is_flags(NULL, "1.2.3.\\000", T_A, 0, "NUL byte label");
	is_flags(NULL, "1.2.3.4", T_AAAA, 0, "AAAA literal not counted (A only)");
	is_flags(NULL, "1.2.3.4", T_MX, 0, "MX literal not counted");
	f = F(NULL, "1.2.3.4", T_AAAA);
	ok(f.literal.family == 0, "no literal address without a flag");
	f = F(NULL, "example.com", T_A);
	ok(f.literal.family == 0 && f.qclass == DW_Q_A, "ordinary name: nothing");
}

/** Reverse name of a.b.c.d in proper order. */
static void rev4(char *s, size_t cap, unsigned a, unsigned b, unsigned c, unsigned d)
{
	snprintf(s, cap, "%u.%u.%u.%u.in-addr.arpa", d, c, b, a);
}

static void test_ptr(void)
{
	char name[128], buf[DW_ADDR_STRLEN];
	struct dw_features f;
	unsigned a, d, m, bad = 0, hits = 0;
	static const char *const nibbles =
	    "b.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";

	is_flags(NULL, "1.2.0.192.in-addr.arpa", T_PTR, 0, "well-formed IPv4 reverse");
	is_flags(NULL, "1.2.0.192.IN-ADDR.ARPA.", T_PTR, 0, "case-insensitive suffix");
	is_flags(NULL, "0.0.0.0.in-addr.arpa", T_PTR, 0, "0.0.0.0 reverse");
	is_flags(NULL, nibbles, T_PTR, 0, "well-formed ip6.arpa");
	is_flags(NULL, "B.A.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA",
	         T_PTR, 0, "upper-case nibbles");
	is_flags(NULL, nibbles + 2, T_PTR, DW_FEAT_PTR_MALFORMED, "31 nibbles");
	is_flags(NULL, "g.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	         T_PTR, DW_FEAT_PTR_MALFORMED, "non-hex nibble");
	is_flags(NULL, "ba.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.0.ip6.arpa",
	         T_PTR, DW_FEAT_PTR_MALFORMED, "two-digit nibble label");
	is_flags(NULL, "2.0.192.in-addr.arpa", T_PTR, DW_FEAT_PTR_MALFORMED, "partial reverse");
	is_flags(NULL, "in-addr.arpa", T_PTR, DW_FEAT_PTR_MALFORMED, "bare in-addr.arpa");
	is_flags(NULL, "1.2.3.4.5.in-addr.arpa", T_PTR, DW_FEAT_PTR_MALFORMED, "five octets");
	is_flags(NULL, "01.2.0.192.in-addr.arpa", T_PTR, DW_FEAT_PTR_MALFORMED, "leading zero");
	is_flags(NULL, "256.2.0.192.in-addr.arpa", T_PTR, DW_FEAT_PTR_MALFORMED, "octet 256");
	is_flags(NULL, "1.2.0.192.in-addr.arpa.example", T_PTR, DW_FEAT_PTR_MALFORMED,
	         "suffix not at the end");
	is_flags(NULL, "1.2.0.192.in-addr.arp", T_PTR, DW_FEAT_PTR_MALFORMED, "misspelt suffix");
	is_flags(NULL, "www.example.com", T_PTR, DW_FEAT_PTR_MALFORMED, "forward name as PTR");
	is_flags(NULL, ".", T_PTR, DW_FEAT_PTR_MALFORMED, "root as PTR");
	is_flags(NULL, "b._dns-sd._udp.0.0.168.192.in-addr.arpa", T_PTR, 0, "DNS-SD browse domain");
	is_flags(NULL, "lb._dns-sd._udp.example.edu", T_PTR, 0, "DNS-SD legacy browse");
	is_flags(NULL, "_http._tcp.example.edu", T_PTR, 0, "DNS-SD service type");
	is_flags(NULL, "_services._dns-sd._udp.example.edu", T_PTR, 0, "DNS-SD enumeration");
	is_flags(NULL, "1.2.0.192.in-addr.arpa", T_A, 0, "reverse name as A: no PTR flags");

	/* rule (a): bare literal */
	f = F(NULL, "192.0.2.1", T_PTR);
	dw_addr_format(&f.literal, buf, sizeof(buf));
	ok(f.flags == (DW_FEAT_PTR_FORWARD | DW_FEAT_PTR_MALFORMED) &&
	       strcmp(buf, "192.0.2.1") == 0,
	   "PTR for bare 192.0.2.1: forward + malformed, literal %s", buf);
	is_flags(NULL, "10.1.2.3", T_PTR, DW_FEAT_PTR_FORWARD | DW_FEAT_PTR_MALFORMED,
	         "PTR for bare private literal");
	is_flags(NULL, "1.2.3", T_PTR, DW_FEAT_PTR_MALFORMED, "three bare octets: malformed only");

	/* rule (b): forward order inside in-addr.arpa */
	f = F(NULL, "10.1.2.254.in-addr.arpa", T_PTR);
	dw_addr_format(&f.literal, buf, sizeof(buf));
	ok(f.flags == DW_FEAT_PTR_FORWARD && strcmp(buf, "10.1.2.254") == 0,
	   "10.1.2.254.in-addr.arpa is forward order: %s", buf);
	is_flags(NULL, "133.95.1.240.in-addr.arpa", T_PTR, DW_FEAT_PTR_FORWARD, "host .240");
	is_flags(NULL, "223.0.0.250.in-addr.arpa", T_PTR, DW_FEAT_PTR_FORWARD, "first octet 223");
	is_flags(NULL, "10.1.2.239.in-addr.arpa", T_PTR, 0, "reversal is multicast: not flagged");
	is_flags(NULL, "10.1.2.255.in-addr.arpa", T_PTR, 0, "255: broadcast/netmask, not flagged");
	is_flags(NULL, "10.1.2.0.in-addr.arpa", T_PTR, 0, "0: not flagged");
	is_flags(NULL, "127.0.0.250.in-addr.arpa", T_PTR, 0, "forward reading loopback");
	is_flags(NULL, "224.0.0.250.in-addr.arpa", T_PTR, 0, "forward reading multicast");
	is_flags(NULL, "0.1.2.250.in-addr.arpa", T_PTR, 0, "forward reading 0/8");
	is_flags(NULL, "192.0.2.1.in-addr.arpa", T_PTR, 0,
	         "forward order whose reversal is ordinary: undetectable, not flagged");
	for (d = 240; d <= 254; d++) {
		snprintf(name, sizeof(name), "192.168.7.%u.in-addr.arpa", d);
		hits += flags(NULL, name, T_PTR) == DW_FEAT_PTR_FORWARD;
	}
	is_int(hits, 15, "a forward-order /24 sweep trips rule (b) 15 times");

	/* No benign reverse lookup trips it: every first octet 0..239 with
	 * assorted host parts, every contiguous netmask, broadcast addresses. */
	for (a = 0; a <= 239; a++)
		for (d = 0; d <= 255; d += 3) {
			rev4(name, sizeof(name), a, d, 255 - d, d);
			bad += flags(NULL, name, T_PTR) != 0;
			rev4(name, sizeof(name), a, 255, 255, 255);
			bad += flags(NULL, name, T_PTR) != 0;
		}
	for (m = 0; m <= 32; m++) {
		uint32_t mask = m == 0 ? 0 : 0xffffffffu << (32 - m);

		rev4(name, sizeof(name), mask >> 24, (mask >> 16) & 255, (mask >> 8) & 255,
		     mask & 255);
		bad += flags(NULL, name, T_PTR) != 0;
	}
	is_int(bad, 0,
	       "no proper reverse lookup of 0-239.x.x.x, a netmask or a broadcast is flagged");
}

static void test_signatures(void)
{
	static const char *const sigs[] = {"A.ROOT-SERVERS.NET", "b.root-servers.net.",
	                                   "evil\\.label.example", "a.root-servers.net", "."};
	static const char *const bad_sig[] = {"ok.example", "a..b"};
	static const char *const null_sig[] = {NULL};
	char err[300], name[64];
	struct dw_feature_set *fs, *big;
	const char **many;
	size_t i, misses = 0, false_hits = 0;
	uint8_t w[8] = {1, 'x', 0};

	fs = dw_feature_set_new(default_kw, 6, sigs, 5, err, sizeof(err));
	ok(fs != NULL, "signature set builds");
	is_flags(fs, "a.root-servers.net", T_A, DW_FEAT_SIGNATURE, "exact signature");
	is_flags(fs, "A.Root-Servers.Net.", T_MX, DW_FEAT_SIGNATURE, "case-insensitive, any qtype");
	is_flags(fs, "B.ROOT-SERVERS.NET", T_TXT, DW_FEAT_SIGNATURE, "trailing-dot signature");
	is_flags(fs, "c.root-servers.net", T_A, 0, "not listed");
	is_flags(fs, "root-servers.net", T_A, 0, "parent not listed");
	is_flags(fs, "x.a.root-servers.net", T_A, 0, "child not listed");
	is_flags(fs, "a.root-servers.net.x", T_A, 0, "longer name not listed");
	is_flags(fs, "EVIL\\.label.example", T_A, DW_FEAT_SIGNATURE, "escaped dot in a signature");
	is_flags(fs, "evil.label.example", T_A, 0, "dot byte differs from a label boundary");
	is_flags(fs, ".", T_A, DW_FEAT_SIGNATURE, "root as a signature");
	is_flags(fs, "mail.root-servers.net", T_A, DW_FEAT_KEYWORD, "keyword, not signature");
	dw_feature_set_free(fs);

	ok(dw_feature_set_new(NULL, 0, bad_sig, 2, err, sizeof(err)) == NULL &&
	       strstr(err, "signature 2") != NULL && strstr(err, "a..b") != NULL,
	   "bad signature refused: %s", err);
	ok(dw_feature_set_new(NULL, 0, null_sig, 1, err, sizeof(err)) == NULL,
	   "NULL signature refused: %s", err);
	ok(dw_feature_set_new(NULL, 0, NULL, 5, err, sizeof(err)) == NULL, "NULL list refused");

	/* A long list: every member found, near misses not. */
	many = calloc(20000, sizeof(*many));
	for (i = 0; i < 20000; i++) {
		char *s = malloc(32);

		snprintf(s, 32, "w%zu.Sig.Example", i);
		many[i] = s;
	}
	big = dw_feature_set_new(NULL, 0, many, 20000, err, sizeof(err));
	ok(big != NULL, "20000 signatures build");
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "W%zu.sig.example", i);
		misses += flags(big, name, T_A) != DW_FEAT_SIGNATURE;
		snprintf(name, sizeof(name), "w%zu.sig.example", i + 20000);
		false_hits += flags(big, name, T_A) != 0;
	}
	is_int(misses, 0, "every listed name found");
	is_int(false_hits, 0, "no unlisted name found");
	ok(features_heap(big, w, 3, T_A, &(struct dw_features){0}) == 0, "lookup of a short name");
	dw_feature_set_free(big);
	for (i = 0; i < 20000; i++)
		free((char *)many[i]);
	free(many);
	dw_feature_set_free(NULL); /* must not crash (ASan build) */
}

static void test_hostile(void)
{
	static const uint8_t good[] = "\4mail\7example\3com\0";
	uint8_t w[300];
	struct dw_features f;
	struct dw_feature_set *fs = dw_feature_set_new(default_kw, 6, NULL, 0, NULL, 0);
	size_t k, bad = 0;

	ok(features_heap(fs, good, sizeof(good) - 1, T_A, &f) == 0 && f.flags == DW_FEAT_KEYWORD,
	   "the untruncated name is fine");
	for (k = 0; k < sizeof(good) - 1; k++) {
		memset(&f, 0xaa, sizeof(f));
		if (features_heap(fs, good, k, T_A, &f) != -1 || f.flags != 0 || f.qclass != DW_Q_A)
			bad++;
	}
	is_int(bad, 0, "every truncation of a valid name is refused, qclass set, flags 0");

	memcpy(w, good, sizeof(good) - 1);
	w[sizeof(good) - 1] = 'x';
	ok(features_heap(fs, w, sizeof(good), T_A, &f) == -1, "bytes after the terminator refused");
	ok(features_heap(fs, (const uint8_t *)"\4mail\7example\3com\3", 18, T_A, &f) == -1,
	   "missing terminator refused");
	ok(features_heap(fs, (const uint8_t *)"\4mail\7exa", 10, T_A, &f) == -1,
	   "label running past len refused");
	ok(features_heap(fs, (const uint8_t *)"\4mail\300\014", 7, T_A, &f) == -1,
	   "compression pointer refused");
	memset(w, 'a', sizeof(w));
	w[0] = 64;
	w[65] = 0;
	ok(features_heap(fs, w, 66, T_A, &f) == -1, "label length 64 refused");
	w[0] = 63;
	w[64] = 0;
	ok(features_heap(fs, w, 65, T_A, &f) == 0, "label length 63 accepted");
	/* 255 bytes: 3 x 63 + 61; then the same bytes claimed as 256 */
	memset(w, 'a', sizeof(w));
	w[0] = w[64] = w[128] = 63;
	w[192] = 61;
	w[254] = 0;
	ok(features_heap(fs, w, 255, T_A, &f) == 0, "255-byte name accepted");
	ok(features_heap(fs, w, 256, T_A, &f) == -1, "len 256 refused");
	w[192] = 62;
	w[255] = 0;
	ok(features_heap(fs, w, 256, T_A, &f) == -1, "256-byte well-formed-looking name refused");
	ok(features_heap(fs, w, 0, T_A, &f) == -1, "len 0 refused");
	ok(dw_features_of(fs, NULL, 5, T_PTR, &f) == -1 && f.qclass == DW_Q_PTR && f.flags == 0,
	   "NULL qname refused, qclass still set");
	ok(dw_features_of(fs, good, sizeof(good) - 1, T_A, NULL) == -1, "NULL out refused");
	ok(features_heap(fs, (const uint8_t *)"\4ma\0l\0", 6, T_A, &f) == 0 && f.flags == 0,
	   "embedded NUL inside a label is just a byte");
	ok(features_heap(fs, (const uint8_t *)"\6mail.x\0", 8, T_A, &f) == 0 &&
	       f.flags == DW_FEAT_KEYWORD,
	   "embedded '.' inside a label is just a byte");
	ok(features_heap(fs, (const uint8_t *)"\4\200\377MX\0", 6, T_A, &f) == 0 && f.flags == 0,
	   "0x80+ bytes accepted");
	ok(features_heap(fs, (const uint8_t *)"\0", 1, T_MX, &f) == 0 && f.flags == 0,
	   "root name is valid");
	dw_feature_set_free(fs);
}

/** xorshift64*: reproducible randomness without libc state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/** A random wire name: noise, a mutated interesting name, or labels drawn
 *  from digits, dots, NUL, 0x80+ and letters, so every rule is reached; then
 *  maybe mutated or given a wrong length. Returns its length (<= cap). */
static size_t random_wire(uint64_t *seed, uint8_t *w, size_t cap)
{
	static const uint8_t alpha[] = "0123456789.\\aAiImMnN-_\0\200\377";
	static const char *const seeds[] = {
	    "1.2.3.4",
	    "10.1.2.250.in-addr.arpa",
	    "A.root-servers.net",
	    "mail.example",
	    "b.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    "b._dns-sd._udp.0.0.168.192.in-addr.arpa",
	    "2.0.192.in-addr.arpa"};
	size_t pos = 0, i, mode = rnd(seed) % 4;

	if (mode == 0) { /* pure noise */
		size_t n = rnd(seed) % (cap + 1);

		for (i = 0; i < n; i++)
			w[i] = (uint8_t)rnd(seed);
		return n;
	}
	if (mode == 1) { /* an interesting name */
		int l = dw_name_from_text(seeds[rnd(seed) % 7], w, cap);

		pos = l > 0 ? (size_t)l : 0;
	} else { /* random labels */
		size_t labels = rnd(seed) % 40;

		for (i = 0; i < labels; i++) {
			size_t l = 1 + rnd(seed) % (rnd(seed) % 8 == 0 ? 64 : 4), j;

			if (pos + 1 + l + 1 > cap)
				break;
			w[pos++] = (uint8_t)l;
			for (j = 0; j < l; j++)
				w[pos++] = alpha[rnd(seed) % (sizeof(alpha) - 1)];
		}
		w[pos++] = 0;
	}
	if (pos > 0 && rnd(seed) % 3 == 0) /* mutate one byte */
		w[rnd(seed) % pos] = (uint8_t)rnd(seed);
	if (rnd(seed) % 5 == 0) /* lie about the length */
		pos = rnd(seed) % (pos + 2);
	return pos > cap ? cap : pos;
}

static void test_random(void)
{
	static const uint16_t types[] = {T_A, T_AAAA, T_PTR, T_MX, T_TXT, 0, 65535};
	static const char *const sigs[] = {"1.2.3.4", "a.root-servers.net", "mail.example"};
	struct dw_feature_set *fs = dw_feature_set_new(default_kw, 6, sigs, 3, NULL, 0);
	uint64_t seed = 0x243f6a8885a308d3ull;
	size_t iter, valid = 0, roundtrip_bad = 0, text_bad = 0, possible_bad = 0, skipped = 0;
	uint32_t seen = 0;

	for (iter = 0; iter < 200000; iter++) {
		uint8_t tmp[300] = {0}, *w;
		char text[DW_NAME_TEXT_MAX], *small;
		size_t len = random_wire(&seed, tmp, 260), cap = rnd(&seed) % 40;
		struct dw_features f;
		int rc;

		w = malloc(len ? len : 1);
		small = malloc(cap ? cap : 1);
		if (w == NULL || small == NULL)
			exit(2);
		memcpy(w, tmp, len);
		uint16_t qt = types[rnd(&seed) % 7];
		rc = dw_features_of(fs, w, len, qt, &f);
		/* the pre-check may only say "no flags" when there are none */
		if (!dw_features_possible(fs, w, len, qt)) {
			skipped++;
			possible_bad += f.flags != 0 || f.literal.family != 0;
		}
		dw_name_to_text(w, len, text, sizeof(text));
		dw_name_to_text(w, len, small, cap);
		if (cap > 0 && (strlen(small) >= cap || strncmp(small, text, strlen(small)) != 0))
			text_bad++;
		if (rc == 0) {
			uint8_t back[DW_NAME_MAXWIRE];
			int l = dw_name_from_text(text, back, sizeof(back));

			valid++;
			seen |= f.flags;
			if (l != (int)len || memcmp(back, w, len) != 0)
				roundtrip_bad++;
		} else if (f.flags != 0 || strstr(text, "<malformed>") == NULL) {
			text_bad++;
		}
		free(w);
		free(small);
	}
	ok(possible_bad == 0 && skipped > 0,
	   "dw_features_possible() never hides a flag (%zu of %zu names skipped the parse)",
	   skipped, (size_t)200000);
	ok(roundtrip_bad == 0,
	   "200000 random wire names: every valid one (%zu) prints and parses back", valid);
	ok(text_bad == 0,
	   "printing is a NUL-terminated prefix at any capacity; malformed is marked");
	ok(seen == (DW_FEAT_KEYWORD | DW_FEAT_IPLIT | DW_FEAT_PTR_MALFORMED | DW_FEAT_PTR_FORWARD |
	            DW_FEAT_SIGNATURE),
	   "the random names reached every feature (seen 0x%x)", (unsigned)seen);
	dw_feature_set_free(fs);
}

/** Hostile presentation text: every accepted name prints and parses back to
 *  the same wire bytes. */
static void test_random_text(void)
{
	static const char alpha[] = "..\\\\0123456789aZ-\377 ";
	uint64_t seed = 0x13198a2e03707344ull;
	size_t iter, accepted = 0, bad = 0;

	for (iter = 0; iter < 200000; iter++) {
		char s[300], text[DW_NAME_TEXT_MAX];
		uint8_t w[DW_NAME_MAXWIRE], w2[DW_NAME_MAXWIRE];
		size_t n = rnd(&seed) % sizeof(s), i;
		int l, l2;

		for (i = 0; i < n; i++)
			s[i] = alpha[rnd(&seed) % (sizeof(alpha) - 1)];
		s[n] = '\0';
		l = dw_name_from_text(s, w, rnd(&seed) % 2 ? sizeof(w) : rnd(&seed) % 300);
		if (l < 0)
			continue;
		accepted++;
		dw_name_to_text(w, (size_t)l, text, sizeof(text));
		l2 = dw_name_from_text(text, w2, sizeof(w2));
		if (l2 != l || memcmp(w, w2, (size_t)l) != 0)
			bad++;
	}
	ok(bad == 0, "200000 random texts: every accepted name (%zu) round-trips", accepted);
}

/* dw_features.name_hash is dw_name_hash() of the wire name with the set's
 * key (the fused fold-and-hash loop keeps in step with it for every length
 * class: < 8, = 8, a multiple of 8, other), blind to case; name_upper says
 * whether a capital is in it. */
static void test_name_hash(void)
{
	struct dw_feature_set *fs = dw_feature_set_new(default_kw, 6, NULL, 0, NULL, 0);
	static const char *const names[] = {
	    "a",
	    "ab.c",
	    "abcdef",
	    "abcdefg.h",
	    "mail.campus.test",
	    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
	    "x1234567890123456789012345678901234567890.example.org"};
	uint64_t k0, k1;
	int good = 1;

	dw_feature_set_name_key(fs, &k0, &k1);
	ok(k0 != 0 || k1 != 0, "a feature set has a random name key");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char up[128];
		uint8_t w[DW_NAME_MAXWIRE], wu[DW_NAME_MAXWIRE], u = 9;
		int len = dw_name_from_text(names[i], w, sizeof(w)), lu;
		struct dw_features f, g;

		/* every third letter a capital */
		for (size_t j = 0; names[i][j] != '\0'; j++) {
			char c = names[i][j];

			up[j] = j % 3 == 0 && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		}
		up[strlen(names[i])] = '\0';
		lu = dw_name_from_text(up, wu, sizeof(wu));
		if (len < 0 || lu != len || dw_features_of(fs, w, (size_t)len, 1, &f) != 0 ||
		    dw_features_of(fs, wu, (size_t)lu, 28, &g) != 0) {
			good = 0;
			printf("# %s: not read\n", names[i]);
			continue;
		}
		if (f.name_hash != dw_name_hash(k0, k1, w, (size_t)len, &u) || u != 0 ||
		    f.name_upper != 0 || g.name_hash != f.name_hash || g.name_upper != 1) {
			good = 0;
			printf(
			    "# %s (%d bytes): hash %08x, dw_name_hash %08x, %s %08x upper %u/%u\n",
			    names[i], len, f.name_hash, dw_name_hash(k0, k1, w, (size_t)len, NULL),
			    up, g.name_hash, f.name_upper, g.name_upper);
		}
	}
	ok(good, "name_hash is dw_name_hash() with the set's key, case-blind; name_upper is right");
	dw_feature_set_free(fs);
}

int main(void)
{
	test_qclass();
	test_from_text();
	test_to_text();
	test_keywords();
	test_literal();
	test_ptr();
	test_signatures();
	test_hostile();
	test_random();
	test_random_text();
	test_name_hash();
	return done_testing();
}
