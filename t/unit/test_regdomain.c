/**
 * \file
 * Unit tests of regdomain.c (registrable domains with libpsl, extra public
 * suffixes, no allocation per call), tunnel.c (the per-name test) and
 * namestate.c (distinct counting: new or not, windows, thresholds, slots,
 * saturation, eviction).
 */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <libpsl.h>
#include <string.h>

#include "feature.h"
#include "namestate.h"
#include "regdomain.h"
#include "tap.h"
#include "tunnel.h"

/* Count the allocations libpsl makes (not under ASan, which owns malloc). */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static long allocs;
void *malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	allocs++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}
#endif

static struct dw_regdomain *rd;

/** The registrable domain of text as text ("" on error). */
static const char *reg(const char *text)
{
	static char out[DW_NAME_TEXT_MAX];
	uint8_t wire[DW_NAME_MAXWIRE];
	int l = dw_name_from_text(text, wire, sizeof(wire));
	size_t off;
	if (l < 0 || dw_regdomain_of(rd, wire, (size_t)l, &off) < 0)
		return "";
	dw_name_to_text(wire + off, (size_t)l - off, out, sizeof(out));
	return out;
}

static void test_regdomain(void)
{
	static const char *const cases[][2] = {
	    {"www.example.com", "example.com."},
	    {"example.com", "example.com."},
	    {"a.b.c.example.co.uk", "example.co.uk."},
	    {"WWW.Example.COM", "Example.COM."},
	    {"x.y.github.io", "y.github.io."}, /* private section of the list */
	    {"com", "com."},                   /* a public suffix is its own */
	    {"co.uk", "co.uk."},
	    {"localhost", "localhost."},
	    {"a.b.campus.test", "campus.test."}, /* unlisted TLD: one label + it */
	    {"d5.victim.lab", "d5.victim.lab."}, /* extra suffix victim.lab */
	    {"mx.d5.Victim.LAB", "d5.Victim.LAB."},
	    {"victim.lab", "victim.lab."},
	    {"x.a\\032b.example.com", "example.com."}, /* odd byte: last two labels */
	    {"x.y.a\\200.co.uk", "co.uk."},
	};
	uint8_t wire[DW_NAME_MAXWIRE];
	size_t i, off = 7;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = reg(cases[i][0]);
		if (!ok(strcmp(got, cases[i][1]) == 0, "registrable domain of %s is %s",
		        cases[i][0], cases[i][1]))
			printf("#   got '%s'\n", got);
	}
	is_int(dw_regdomain_of(rd, (const uint8_t *)"", 1, &off), 0, "root: no label before");
	is_int(off, 0, "root: the root label");
	memcpy(wire, "\003www\007example", 12); /* no terminator */
	is_int(dw_regdomain_of(rd, wire, 12, &off), -1, "malformed: no root label");
	memcpy(wire, "\077abc\000", 5);
	is_int(dw_regdomain_of(rd, wire, 5, &off), -1, "malformed: label runs past the end");
	is_int(dw_regdomain_of(NULL, wire, 5, &off), -1, "NULL list");
	{
		int l = dw_name_from_text("a.b.example.co.uk", wire, sizeof(wire));
		is_int(dw_regdomain_of(rd, wire, (size_t)l, &off), 2,
		       "two labels before example.co.uk");
		is_int(off, 4, "at wire offset 4");
	}
#ifdef COUNT_ALLOCS
	{
		long before;
		int l = dw_name_from_text("deep.sub.www.example.co.uk", wire, sizeof(wire));
		before = allocs;
		for (i = 0; i < 1000; i++)
			(void)dw_regdomain_of(rd, wire, (size_t)l, &off);
		l = dw_name_from_text("x.y.github.io", wire, sizeof(wire));
		for (i = 0; i < 1000; i++)
			(void)dw_regdomain_of(rd, wire, (size_t)l, &off);
		is_int(allocs - before, 0, "2000 lookups: no allocation (libpsl's ASCII path)");
	}
#endif
	{
		const char *bad[] = {"not a name..", "x"};
		char err[256];
		struct dw_regdomain *r2 = dw_regdomain_new(bad, 1, err, sizeof(err));
		ok(!r2 && strstr(err, "public_suffixes") != NULL,
		   "a bad extra suffix is refused: %s", err);
	}
}

/** The label index libpsl's own psl_registrable_domain() gives for text
 *  (lower case), 0 when it returns NULL: what dw_regdomain_of() must match. */
static int psl_index(const psl_ctx_t *psl, const char *text)
{
	const char *r = psl_registrable_domain(psl, text), *p;
	int dots = 0;
	for (p = text; r && p < r; p++)
		dots += *p == '.';
	return dots;
}

/** One name: dw_regdomain_of() (twice: the memo's answer too) against libpsl. */
static int same_as_libpsl(struct dw_regdomain *plain, const psl_ctx_t *psl, const char *text)
{
	uint8_t wire[DW_NAME_MAXWIRE];
	size_t off;
	int l = dw_name_from_text(text, wire, sizeof(wire)), want = psl_index(psl, text), k;
	if (l < 0)
		return 1; /* not a name we can ask about */
	for (k = 0; k < 2; k++)
		if (dw_regdomain_of(plain, wire, (size_t)l, &off) != want) {
			printf("#   %s: libpsl says label %d, dw_regdomain_of() %d\n", text, want,
			       dw_regdomain_of(plain, wire, (size_t)l, &off));
			return 0;
		}
	return 1;
}

/** Every rule of the packaged list, its children and grandchildren, its
 *  exceptions and deep names: the rule sets and the memo give libpsl's answer. */
static void test_same_as_libpsl(void)
{
	char err[256], line[512], name[600];
	struct dw_regdomain *plain = dw_regdomain_new(NULL, 0, err, sizeof(err));
	psl_ctx_t *own = psl_latest(NULL);
	const psl_ctx_t *psl = own ? own : psl_builtin();
	FILE *f = fopen(DW_REGDOMAIN_LIST_FILE, "r");
	long names = 0, bad = 0;
	if (!ok(plain && psl && f, "list, libpsl and %s", DW_REGDOMAIN_LIST_FILE)) {
		if (f)
			fclose(f);
		dw_regdomain_free(plain);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *r = line, *e, *base;
		static const char *const pre[] = {"", "a.", "x.a.", "mx.d5.q.",
		                                  "a.b.c.d.e.f.g.h.i.j."};
		size_t i;
		int ascii = 1;
		if (r[0] == '/' || r[0] == '\n' || r[0] == ' ' || !r[0])
			continue;
		for (e = r; *e && *e != '\n' && *e != ' ' && *e != '\r'; e++) {
			ascii &= (unsigned char)*e < 0x80;
			*e = (char)tolower((unsigned char)*e);
		}
		*e = '\0';
		if (!ascii)
			continue; /* IDN rules: libpsl knows them as xn--; covered below */
		base = r[0] == '!' ? r + 1 : (r[0] == '*' && r[1] == '.') ? r + 2 : r;
		for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
			snprintf(name, sizeof(name), "%s%s", pre[i], base);
			names++;
			bad += !same_as_libpsl(plain, psl, name);
		}
	}
	fclose(f);
	{
		static const char *const more[] = {"xn--55qx5d.cn",
		                                   "www.xn--55qx5d.cn",
		                                   "a.b.xn--p1ai",
		                                   "x.xn--80aswg.xn--p1ai",
		                                   "com",
		                                   "lab",
		                                   "a.lab",
		                                   "b.a.lab",
		                                   "k9qz2.example.org"};
		size_t i;
		for (i = 0; i < sizeof(more) / sizeof(more[0]); i++, names++)
			bad += !same_as_libpsl(plain, psl, more[i]);
	}
	ok(bad == 0 && names > 40000, "%ld names from the packaged list: %ld differ from libpsl",
	   names, bad);
	if (own)
		psl_free(own);
	dw_regdomain_free(plain);
}

/** Whether text's labels before its registrable domain look like a tunnel. */
static int tunnel(const char *text)
{
	uint8_t wire[DW_NAME_MAXWIRE];
	int l = dw_name_from_text(text, wire, sizeof(wire));
	size_t off;
	if (l < 0 || dw_regdomain_of(rd, wire, (size_t)l, &off) < 0)
		return -1;
	return dw_tunnel_possible(wire, (size_t)l) && dw_tunnel_name(wire, off);
}

static void test_tunnel(void)
{
	dw_tunnel_init();
	is_int(tunnel("6b1c0e9a44d2f3a1c0de5566778899aabbccddee.c2.example.com"), 1, "hex payload");
	is_int(tunnel("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpj2gk3tvmvxgc.t.example.net"), 1,
	       "base32 payload (iodine)");
	is_int(tunnel("0123456789abcdef0123.4567890abcdef.example.org"), 1,
	       "payload over two labels");
	is_int(tunnel("www.example.com"), 0, "www: short");
	is_int(tunnel("autodiscover.campus.example.edu"), 0, "autodiscover: first label short");
	is_int(tunnel("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com"), 0,
	       "long but one letter: no entropy");
	is_int(tunnel("1.2.3.4.5.6.7.8.9.10.11.12.13.zen.spamhaus.org"), 0, "DNSBL digits");
	is_int(tunnel("c0ffee00c0ffee00c0ffee.example.com"), 0, "22 characters: too short");
	{
		uint8_t w[DW_NAME_MAXWIRE];
		unsigned n = 0;
		int l = dw_name_from_text("0123456789abcdef.x", w, sizeof(w));
		unsigned h = dw_tunnel_entropy(w, (size_t)l - 3, &n);
		is_int(n, 16, "16 distinct characters counted");
		is_int(h, 4000, "16 distinct of 16: exactly 4 bits each");
	}
}

/** dw_regdomain_tld_listed() of a presentation name. */
static int listed(const char *text)
{
	uint8_t wire[DW_NAME_MAXWIRE];
	int l = dw_name_from_text(text, wire, sizeof(wire));
	return l < 0 ? -2 : dw_regdomain_tld_listed(rd, wire, (size_t)l);
}

/** Real TLDs, TLDs nobody lists, the extra suffixes' TLD, payload weights. */
static void test_tld_listed(void)
{
	uint8_t bad[] = {5, 'a', 'b', 0};
	is_int(listed("www.example.com"), 1, "com is a TLD");
	is_int(listed("x.y.ck"), 1, "ck (wildcard rule *.ck) is a TLD");
	is_int(listed("EXAMPLE.DE"), 1, "upper case folded");
	is_int(listed("dnscat.6b1c0e9a44d2.f3a1c0de"), 0, "a hex chunk is no TLD");
	is_int(listed("vaaaakardli.pirate.sea"), 0, "sea is no TLD");
	is_int(listed("printer.lan"), 0, "lan is no TLD");
	is_int(listed("wpad"), 0, "a single label nobody lists");
	is_int(listed("d1.victim.lab"), 1, "lab: the TLD of an extra public suffix");
	is_int(listed("x.xn--p1ai"), 1, "an xn-- TLD counts as listed");
	is_int(listed("."), 1, "the root: nothing to judge");
	is_int(dw_regdomain_tld_listed(rd, bad, sizeof(bad)), -1, "malformed: -1");
	is_int(dw_regdomain_tld_listed(NULL, bad, sizeof(bad)), -1, "NULL list: -1");
}

/** dw_regdomain_scan() of a presentation name: the registrable domain as
 *  text and *lst the TLD test ("" on error). */
static const char *scan(const char *text, int *lst)
{
	static char out[DW_NAME_TEXT_MAX];
	uint8_t wire[DW_NAME_MAXWIRE];
	int l = dw_name_from_text(text, wire, sizeof(wire));
	size_t off;
	*lst = -2;
	if (l < 0 || dw_regdomain_scan(rd, wire, (size_t)l, &off, lst) < 0)
		return "";
	dw_name_to_text(wire + off, (size_t)l - off, out, sizeof(out));
	return out;
}

/** The one-pass scan: both answers at once; the same again from the name
 *  memo and in another case; labels of every length around the 8-byte
 *  words it reads (a last word from past the label's end, from before its
 *  start, or byte by byte in a name shorter than 8), with an odd byte at
 *  every place in them and right outside them. */
static void test_scan(void)
{
	static const char *const cases[][3] = {
	    /* name, registrable domain, TLD listed */
	    {"www.example.com", "example.com.", "1"},
	    {"WWW.EXAMPLE.COM", "EXAMPLE.COM.", "1"}, /* the memo's entry, other case */
	    {"a.b.c.example.co.uk", "example.co.uk.", "1"},
	    {"x.y.github.io", "y.github.io.", "1"},
	    {"mx.d5.Victim.LAB", "d5.Victim.LAB.", "1"},
	    {"a.b.campus.test", "campus.test.", "0"},
	    {"co.uk", "co.uk.", "1"},
	    {"a.co", "a.co.", "1"},
	    {"a.b", "a.b.", "0"}, /* 4 bytes: byte by byte */
	    {"abcdefg.com", "abcdefg.com.", "1"},
	    {"abcdefgh.com", "abcdefgh.com.", "1"},
	    {"x.abcdefghijklmno.com", "abcdefghijklmno.com.", "1"},
	    {"x.abcdefghijklmnop.com", "abcdefghijklmnop.com.", "1"},
	    {"x.a\\032b.example.com", "example.com.", "1"},
	    {"x.abcdef\\032.co.uk", "co.uk.", "1"},      /* odd last byte of a 7-byte label */
	    {"x.abcdefg\\032.co.uk", "co.uk.", "1"},     /* ... of an 8-byte one */
	    {"x.\\032bcdefgh.co.uk", "co.uk.", "1"},     /* odd first byte */
	    {"x.abcdefgh.co.u\\032", "co.u\\032.", "0"}, /* odd byte in the TLD */
	    {"\\032.a.example.com", "example.com.", "1"},
	    {"a.b.xn--p1ai", "b.xn--p1ai.", "1"},
	};
	size_t i;
	int k;
	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int lst;
			const char *got = scan(cases[i][0], &lst);
			ok(strcmp(got, cases[i][1]) == 0 && lst == atoi(cases[i][2]) &&
			       strcmp(got, reg(cases[i][0])) == 0 && lst == listed(cases[i][0]),
			   "%s scan %s: %s listed %d (want %s, %s)", k ? "again:" : "", cases[i][0],
			   got, lst, cases[i][1], cases[i][2]);
		}
}

/** The name hash the scan hands out is the suspect store's dw_name_hash()
 *  under the key it was given, for hits of the name memo and misses. */
static void test_scan_run(void)
{
	static const char *const names[] = {"campus.test", "Mail.Example.COM", "a.b",
	                                    "x.abcdefghijklmnop.co.uk", "nosuch.campus.test"};
	const uint64_t k0 = 0x0123456789abcdefULL, k1 = 0xfedcba9876543210ULL;
	size_t i, off;
	int k, bad = 0;
	dw_regdomain_set_name_key(rd, k0);
	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			uint8_t wire[DW_NAME_MAXWIRE], up;
			struct dw_name_run run;
			int l = dw_name_from_text(names[i], wire, sizeof(wire)), lst;
			uint32_t want = dw_name_hash(k0, k1, wire, (size_t)l, &up);
			if (dw_regdomain_scan_run(rd, wire, (size_t)l, &off, &lst, &run) < 0 ||
			    !run.valid || dw_name_hash_end(run.h, k1) != want ||
			    run.upper != (up != 0)) {
				printf("#   %s: run %d hash %08x upper %d, want %08x %d\n",
				       names[i], run.valid, dw_name_hash_end(run.h, k1), run.upper,
				       want, up);
				bad++;
			}
		}
	{
		uint8_t badname[] = {5, 'a', 'b', 0};
		struct dw_name_run run;
		int lst;
		run.valid = 1;
		is_int(dw_regdomain_scan_run(rd, badname, sizeof(badname), &off, &lst, &run), -1,
		       "malformed: -1");
		is_int(run.valid, 0, "malformed: no name hash");
	}
	is_int(bad, 0, "the scan's name hash is dw_name_hash() (memo misses and hits)");
}

/** Payload units of tunnel names (the labels before the registrable domain). */
static void test_tunnel_weight(void)
{
	uint8_t w[DW_NAME_MAXWIRE];
	int l;
	l = dw_name_from_text("6b1c0e9a44d2f3a1c0de5566778899aabbccddee.c2.example.com", w,
	                      sizeof(w));
	is_int(l > 0 ? (int)dw_tunnel_weight(w, 41) : -1, 1, "40 hex characters: 1 unit");
	l = dw_name_from_text("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde."
	                      "f0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc."
	                      "def0123456789abcdef.c2.example.com",
	                      w, sizeof(w));
	is_int(l > 0 ? (int)dw_tunnel_weight(w, 64 + 64 + 20) : -1, 3,
	       "145 hex characters over 3 labels: 3 units");
	is_int((int)dw_tunnel_weight(w, 10), 0, "too short: 0 units");
}

static struct dw_addr client(int n)
{
	struct dw_addr a;
	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.b[0] = 10;
	a.b[3] = (uint8_t)n;
	return a;
}

static void test_namestate(void)
{
	char err[256];
	struct dw_namestate *ns = dw_namestate_new(64, err, sizeof(err));
	struct dw_addr a = client(1), b = client(2);
	struct dw_ns_op op;
	uint32_t i, fired = 0, at = 0;

	ok(ns != NULL, "table built");
	/* MX: new, again, again after the window */
	memset(&op, 0, sizeof(op));
	op.mx = 1, op.mx_hash = 77, op.mx_window = 600;
	dw_namestate_update(ns, &a, 1, 1000, &op);
	is_int(op.mx_new, 1, "MX: a first domain is new");
	dw_namestate_update(ns, &a, 1, 1300, &op);
	is_int(op.mx_new, 0, "MX: the same domain 5 min later is not");
	dw_namestate_update(ns, &b, 2, 1301, &op);
	is_int(op.mx_new, 1, "MX: new for another client");
	dw_namestate_update(ns, &a, 1, 1899, &op);
	is_int(op.mx_new, 0, "MX: asked again 599 s after the last ask: not new");
	dw_namestate_update(ns, &a, 1, 2499, &op);
	is_int(op.mx_new, 1, "MX: 600 s after the last ask: new again");

	/* tunnel: distinct names under one base fire once at the threshold */
	for (i = 0; i < 30; i++) {
		memset(&op, 0, sizeof(op));
		op.tun = 1, op.tun_base = 5, op.tun_name = 100 + i % 25, op.tun_window = 600,
		op.tun_threshold = 20;
		dw_namestate_update(ns, &a, 1, 3000 + i, &op);
		if (op.tun_fired && !fired++)
			at = i + 1;
	}
	is_int(fired, 1, "tunnel: one crossing");
	is_int(at, 20, "tunnel: at the 20th distinct name");
	is_int(op.tun_count, 25, "tunnel: 25 distinct names (repeats not counted)");
	/* other bases in between do not steal the busy slot */
	for (i = 0; i < 10; i++) {
		memset(&op, 0, sizeof(op));
		op.tun = 1, op.tun_base = 900 + i, op.tun_name = i, op.tun_window = 600,
		op.tun_threshold = 20;
		dw_namestate_update(ns, &a, 1, 3100, &op);
	}
	memset(&op, 0, sizeof(op));
	op.tun = 1, op.tun_base = 5, op.tun_name = 200, op.tun_window = 600, op.tun_threshold = 20;
	dw_namestate_update(ns, &a, 1, 3101, &op);
	is_int(op.tun_count, 26, "tunnel: the busy base keeps its slot while others come and go");
	is_int(op.tun_fired, 0, "tunnel: still above: no second verdict");
	/* the window empties: re-armed, a new crossing fires again */
	fired = 0;
	for (i = 0; i < 20; i++) {
		memset(&op, 0, sizeof(op));
		op.tun = 1, op.tun_base = 5, op.tun_name = 1000 + i, op.tun_window = 600,
		op.tun_threshold = 20;
		dw_namestate_update(ns, &a, 1, 5000 + i, &op);
		fired += op.tun_fired;
	}
	is_int(op.tun_count, 20, "tunnel: only names of the new window count");
	is_int(fired, 1, "tunnel: a new crossing after falling below fires again");

	/* dga: saturates at its cap */
	for (i = 0; i < 100; i++) {
		memset(&op, 0, sizeof(op));
		op.dga = 1, op.dga_hash = 7000 + i, op.dga_window = 600, op.dga_threshold = 64;
		dw_namestate_update(ns, &b, 2, 6000, &op);
		fired += op.dga_fired;
	}
	is_int(op.dga_count, DW_NS_DGA_CAP, "dga: the count saturates at the set size");

	/* the sets walk only their used slots: expired slots are reused first,
	 * a full set replaces its oldest member */
	{
		struct dw_addr d = client(3);
		uint32_t n;
		for (i = 0; i < 10; i++) {
			memset(&op, 0, sizeof(op));
			op.dga = 1, op.dga_hash = 500 + i, op.dga_window = 600,
			op.dga_threshold = 64;
			dw_namestate_update(ns, &d, 3, 100 + i, &op);
		}
		is_int(op.dga_count, 10, "dga: 10 distinct names");
		for (i = 0; i < 3; i++) {
			memset(&op, 0, sizeof(op));
			op.dga = 1, op.dga_hash = 600 + i, op.dga_window = 600,
			op.dga_threshold = 64;
			dw_namestate_update(ns, &d, 3, 800 + i, &op);
		}
		is_int(op.dga_count, 3, "dga: after the window only the 3 new names count");
		memset(&op, 0, sizeof(op));
		op.dga = 1, op.dga_hash = 500, op.dga_window = 600, op.dga_threshold = 64;
		dw_namestate_update(ns, &d, 3, 803, &op);
		is_int(op.dga_count, 4, "dga: an old name asked again counts again");
		for (i = 0, n = 0; i < DW_NS_MX_CAP + 1; i++) {
			memset(&op, 0, sizeof(op));
			op.mx = 1, op.mx_hash = 900 + i, op.mx_window = 600;
			dw_namestate_update(ns, &d, 3, 900 + i, &op);
			n += op.mx_new;
		}
		is_int(n, DW_NS_MX_CAP + 1, "MX: cap + 1 distinct domains are all new");
		memset(&op, 0, sizeof(op));
		op.mx = 1, op.mx_hash = 900, op.mx_window = 600;
		dw_namestate_update(ns, &d, 3, 950, &op);
		is_int(op.mx_new, 1,
		       "MX: the oldest was replaced when the set was full: new again");
		memset(&op, 0, sizeof(op));
		op.mx = 1, op.mx_hash = 905, op.mx_window = 600;
		dw_namestate_update(ns, &d, 3, 951, &op);
		is_int(op.mx_new, 0, "MX: a domain still in the full set is not new");
	}

	/* eviction: 64 places; 300 other clients push a out, it starts afresh */
	for (i = 0; i < 300; i++) {
		struct dw_addr c = client((int)(10 + i));
		c.b[2] = (uint8_t)(i >> 8);
		memset(&op, 0, sizeof(op));
		op.mx = 1, op.mx_hash = 1, op.mx_window = 600;
		dw_namestate_update(ns, &c, (uint64_t)i * 0x9e3779b97f4a7c15ull, 7000, &op);
	}
	ok(dw_namestate_bytes(ns) > 64 * 1000, "bytes reported: %zu", dw_namestate_bytes(ns));
	is_int(dw_namestate_update(NULL, &a, 1, 1, &op), -1, "NULL table");
	dw_namestate_free(ns);
}

int main(void)
{
	char err[256];
	const char *extra[] = {"victim.lab"};
	rd = dw_regdomain_new(extra, 1, err, sizeof(err));
	if (!ok(rd != NULL, "list loaded"))
		printf("#   %s\n", err);
	test_regdomain();
	test_same_as_libpsl();
	test_tunnel();
	test_tld_listed();
	test_scan();
	test_scan_run();
	test_tunnel_weight();
	test_namestate();
	dw_regdomain_free(rd);
	return done_testing();
}
