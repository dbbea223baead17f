/**
 * \file
 * Unit tests of suspects.c: argument checks, evidence of one suspect, the
 * ring of distinct names (dedupe, order, case, cutting a long escaped
 * hostile name), windowed counts at the window's edge and against a model,
 * touch_class as a no-op for non-suspects, eviction at the cap by last
 * suspicious query, and exact totals when 2 and 4 threads note the same
 * clients (run it under -fsanitize=thread too).
 */
#include "suspects.h"
#include "clients.h"
#include "feature.h"
#include "window.h"
#include "tap.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dw_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct dw_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.b[0] = a;
	x.b[1] = b;
	x.b[2] = c;
	x.b[3] = d;
	return x;
}

/* The n-th of many distinct IPv4 clients. */
static struct dw_addr nth(uint32_t n)
{
	return v4(10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n);
}

/* A wire name from text (the test's own names are always valid). */
struct wire {
	uint8_t b[DW_NAME_MAXWIRE];
	size_t len;
};

static struct wire wire_of(const char *text)
{
	struct wire w;
	int n = dw_name_from_text(text, w.b, sizeof(w.b));

	if (n < 0) {
		printf("Bail out! bad test name %s\n", text);
		exit(2);
	}
	w.len = (size_t)n;
	return w;
}

/* Note a suspicious query for a name given as text. */
static int note(struct dw_suspects *s, const struct dw_addr *a, uint32_t now, enum dw_qclass qc,
                uint32_t f, const char *name)
{
	struct wire w = wire_of(name);

	return dw_suspects_note(s, a, now, qc, f, w.b, w.len);
}

static void test_new(void)
{
	char err[160];
	struct dw_suspects *s;
	struct dw_suspects_stats st;

	err[0] = 0;
	ok(dw_suspects_new(0, 600, err, sizeof(err)) == NULL && strstr(err, "suspects.max"),
	   "max 0 refused: %s", err);
	ok(dw_suspects_new(DW_SUSPECTS_MAX + 1, 600, err, sizeof(err)) == NULL,
	   "max above DW_SUSPECTS_MAX refused");
	ok(dw_suspects_new(100, 0, err, sizeof(err)) == NULL && strstr(err, "window"),
	   "window 0 refused: %s", err);
	ok(dw_suspects_new(100, DW_WINDOW_MAX + 1, err, sizeof(err)) == NULL,
	   "window above DW_WINDOW_MAX refused");
	ok(dw_suspects_new(0, 600, NULL, 0) == NULL, "NULL err is fine");
	s = dw_suspects_new(DW_SUSPECTS_MAX, DW_WINDOW_MAX, err, sizeof(err));
	if (ok(s != NULL, "the largest store is created")) {
		dw_suspects_stats(s, &st);
		ok(st.capacity == DW_SUSPECTS_MAX && st.tracked == 0 && st.entry_bytes == 1024 &&
		       st.shards == 64,
		   "empty, 1 KiB entries, %u shards, %llu bytes up front", st.shards,
		   (unsigned long long)st.bytes);
		ok(st.bytes < 40u * DW_SUSPECTS_MAX, "up front: < 40 B per suspect of capacity");
		dw_suspects_free(s);
	}
	s = dw_suspects_new(DW_SUSPECTS_DEFAULT_MAX, 600, err, sizeof(err));
	dw_suspects_stats(s, &st);
	ok(st.shards == 64 && st.bytes < 300000, "default max: 64 shards, %llu bytes empty",
	   (unsigned long long)st.bytes);
	dw_suspects_free(s);
	s = dw_suspects_new(1, 1, err, sizeof(err));
	dw_suspects_stats(s, &st);
	ok(st.shards == 1 && st.capacity == 1, "max 1: one shard");
	dw_suspects_free(s);
	dw_suspects_free(NULL);
}

static void test_basic(void)
{
	struct dw_suspects *s = dw_suspects_new(100, 600, NULL, 0);
	struct dw_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2), bad = a, junk = a;
	struct dw_suspect_view v;
	struct dw_suspects_stats st;

	ok(dw_suspects_get(s, &a, 100, &v) == 0, "unknown client is not a suspect");
	is_int(note(s, &a, 100, DW_Q_MX, 0, "MX1.Example.com"), DW_SUSPECTS_NEW, "first note: new");
	is_int(note(s, &a, 100, DW_Q_MX, 0, "mx2.example.com"), 0, "second note: known");
	ok(dw_suspects_get(s, &a, 100, &v) == 1, "the client is a suspect");
	ok(v.addr.family == 4 && memcmp(v.addr.b, a.b, 16) == 0, "view has the address");
	ok(v.first_seen == 100 && v.last_seen == 100 && v.last_suspicious == 100 && v.now == 100 &&
	       v.window == 600,
	   "times and window");
	ok(v.qclass[DW_Q_MX] == 2 && v.qclass[DW_Q_A] == 0 && v.feature[0] == 0,
	   "2 MX, no A, no flags");
	ok(v.nnames == 2 && strcmp(v.names[0], "mx2.example.com.") == 0 &&
	       strcmp(v.names[1], "MX1.Example.com.") == 0 && v.name_qclass[0] == DW_Q_MX &&
	       v.cut == 0,
	   "names most recent first, spelling kept: %s %s", v.names[0], v.names[1]);
	ok(v.names[2][0] == 0 && v.name_flags[2] == 0, "unused name slots are empty");

	is_int(dw_suspects_touch_class(s, &a, 105, DW_Q_A), 1, "touch of a suspect counts");
	is_int(dw_suspects_touch_class(s, &a, 105, DW_Q_AAAA), 1, "touch AAAA");
	dw_suspects_get(s, &a, 105, &v);
	ok(v.qclass[DW_Q_A] == 1 && v.qclass[DW_Q_AAAA] == 1 && v.last_seen == 105 &&
	       v.last_suspicious == 100 && v.nnames == 2,
	   "touch: counted, last_seen 105, last_suspicious 100, no name");

	note(s, &a, 106, DW_Q_A, DW_FEAT_KEYWORD | DW_FEAT_SIGNATURE | 0xffff00u,
	     "smtp.example.org");
	dw_suspects_get(s, &a, 106, &v);
	ok(v.feature[0] == 1 && v.feature[4] == 1 && v.feature[1] == 0 && v.feature[2] == 0 &&
	       v.feature[3] == 0 && v.qclass[DW_Q_A] == 2,
	   "two flags count in both, bits above DW_FEAT_COUNT ignored");
	ok(v.name_qclass[0] == DW_Q_A && v.name_flags[0] == (DW_FEAT_KEYWORD | DW_FEAT_SIGNATURE),
	   "the name carries its class and flags");
	dw_suspects_note(s, &a, 107, (enum dw_qclass)9, DW_FEAT_IPLIT, NULL, 0);
	dw_suspects_touch_class(s, &a, 107, (enum dw_qclass)200);
	dw_suspects_get(s, &a, 107, &v);
	ok(v.qclass[DW_Q_OTHER] == 2 && v.feature[1] == 1 && v.nnames == 3,
	   "out-of-range class counts as OTHER; NULL qname records no name");

	/* time going backwards counts at last_seen */
	note(s, &a, 50, DW_Q_PTR, DW_FEAT_PTR_MALFORMED, "x.example");
	dw_suspects_get(s, &a, 10, &v);
	ok(v.now == 107 && v.last_seen == 107 && v.last_suspicious == 107 &&
	       v.qclass[DW_Q_PTR] == 1,
	   "a note in the past counts at last_seen (107)");

	is_int(dw_suspects_touch_class(s, &b, 108, DW_Q_A), 0, "touch of a non-suspect: 0");
	ok(dw_suspects_get(s, &b, 108, &v) == 0, "... and it does not become one");
	dw_suspects_stats(s, &st);
	ok(st.tracked == 1 && st.inserts == 1 && st.evictions == 0, "one suspect tracked");

	bad.family = 5;
	is_int(note(s, &bad, 1, DW_Q_MX, 0, "a"), DW_SUSPECTS_EINVAL, "note of family 5 refused");
	is_int(dw_suspects_touch_class(s, &bad, 1, DW_Q_A), DW_SUSPECTS_EINVAL,
	       "touch of family 5 refused");
	is_int(dw_suspects_get(s, &bad, 1, &v), DW_SUSPECTS_EINVAL, "get of family 5 refused");

	junk.b[9] = 0xab; /* bytes beyond an IPv4 address are not part of the key */
	ok(dw_suspects_get(s, &junk, 108, &v) == 1 && v.addr.b[9] == 0,
	   "IPv4 key ignores bytes 4..15");

	struct dw_addr p6, q6;

	dw_addr_parse("2001:db8:0:1::", &p6);
	dw_addr_parse("2001:db8:0:2::", &q6);
	is_int(note(s, &p6, 110, DW_Q_MX, 0, "a"), DW_SUSPECTS_NEW, "IPv6 prefix is a suspect");
	is_int(dw_suspects_touch_class(s, &q6, 110, DW_Q_A), 0, "another IPv6 prefix is not");
	ok(dw_suspects_get(s, &p6, 110, &v) == 1 && v.addr.family == 6 &&
	       memcmp(v.addr.b, p6.b, 16) == 0,
	   "IPv6 view has the prefix");
	dw_suspects_free(s);
}

/* Is view name i equal to text? */
static int name_is(const struct dw_suspect_view *v, unsigned i, const char *text)
{
	return i < v->nnames && strcmp(v->names[i], text) == 0;
}

static void test_names(void)
{
	struct dw_suspects *s = dw_suspects_new(100, 600, NULL, 0);
	struct dw_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2), c = v4(192, 0, 2, 3);
	struct dw_suspect_view v;
	char name[64];

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		note(s, &a, 100, DW_Q_MX, 0, name);
	}
	dw_suspects_get(s, &a, 100, &v);
	ok(v.nnames == 8 && name_is(&v, 0, "n9.example.com.") && name_is(&v, 7, "n2.example.com."),
	   "10 names: the 8 most recent, newest first");
	note(s, &a, 101, DW_Q_PTR, DW_FEAT_PTR_MALFORMED, "N5.EXAMPLE.COM.");
	dw_suspects_get(s, &a, 101, &v);
	{
		static const char *const want[8] = {
		    "N5.EXAMPLE.COM.", "n9.example.com.", "n8.example.com.", "n7.example.com.",
		    "n6.example.com.", "n4.example.com.", "n3.example.com.", "n2.example.com."};
		int same = v.nnames == 8;

		for (unsigned i = 0; i < 8 && same; i++)
			same = name_is(&v, i, want[i]);
		ok(same, "a name asked again (other case) moves to the front, latest spelling, "
		         "no duplicate");
		ok(v.name_qclass[0] == DW_Q_PTR && v.name_flags[0] == DW_FEAT_PTR_MALFORMED &&
		       v.name_qclass[1] == DW_Q_MX,
		   "... with its latest class and flags");
	}
	note(s, &a, 102, DW_Q_MX, 0, "n0.example.com");
	dw_suspects_get(s, &a, 102, &v);
	ok(v.nnames == 8 && name_is(&v, 0, "n0.example.com.") &&
	       name_is(&v, 1, "N5.EXAMPLE.COM.") && name_is(&v, 7, "n3.example.com."),
	   "a name that fell out comes back at the front, the oldest (n2) goes");
	note(s, &a, 103, DW_Q_MX, 0, "n3.example.com");
	dw_suspects_get(s, &a, 103, &v);
	ok(name_is(&v, 0, "n3.example.com.") && name_is(&v, 7, "n4.example.com.") && v.nnames == 8,
	   "the oldest asked again moves from the back to the front");

	/* dedupe while the ring is not full */
	note(s, &b, 100, DW_Q_MX, 0, "a.example");
	note(s, &b, 100, DW_Q_MX, 0, "b.example");
	note(s, &b, 100, DW_Q_MX, 0, "a.example");
	dw_suspects_get(s, &b, 100, &v);
	ok(v.nnames == 2 && name_is(&v, 0, "a.example.") && name_is(&v, 1, "b.example."),
	   "a, b, a: two names, a first");
	note(s, &b, 100, DW_Q_MX, 0, "b.example");
	note(s, &b, 100, DW_Q_MX, 0, "b.example");
	dw_suspects_get(s, &b, 100, &v);
	ok(v.nnames == 2 && name_is(&v, 0, "b.example.") && name_is(&v, 1, "a.example."),
	   "b again: b first; b at the front again: unchanged");
	ok(v.qclass[DW_Q_MX] == 5, "every query is counted, repeated names or not");

	/* 96 bytes of text are kept whole, 97 are cut to 93 + "..." */
	char t96[128], t97[128];

	memset(t96, 'a', sizeof(t96));
	t96[63] = '.';
	t96[95] = '.';
	t96[96] = 0; /* 63 a . 31 a . */
	memcpy(t97, t96, sizeof(t97));
	t97[95] = 'a';
	t97[96] = '.';
	t97[97] = 0; /* 63 a . 32 a . */
	note(s, &c, 100, DW_Q_MX, 0, t96);
	note(s, &c, 100, DW_Q_MX, 0, t97);
	dw_suspects_get(s, &c, 100, &v);
	ok(v.nnames == 2 && name_is(&v, 1, t96) && !(v.cut & 2), "a 96-byte text is kept whole");
	ok(strlen(v.names[0]) == 96 && strncmp(v.names[0], t97, 93) == 0 &&
	       strcmp(v.names[0] + 93, "...") == 0 && (v.cut & 1),
	   "a 97-byte text is cut to 93 bytes and the marker");

	/* a malformed name is recorded as printed */
	const uint8_t broken[] = {5, 'a', 'b'};

	dw_suspects_note(s, &c, 101, DW_Q_PTR, 0, broken, sizeof(broken));
	dw_suspects_get(s, &c, 101, &v);
	ok(v.nnames == 3 && strstr(v.names[0], "<malformed>") != NULL && !(v.cut & 1),
	   "malformed name recorded: %s", v.names[0]);
	dw_suspects_free(s);
}

/* Walk the tokens of a dw_name_to_text() text ("\DDD", "\X" or one char)
 * and say whether len bytes end exactly on a token boundary. */
static int token_boundary(const char *text, size_t len)
{
	size_t at = 0;

	while (at < len && text[at] != 0) {
		if (text[at] == '\\')
			at += text[at + 1] >= '0' && text[at + 1] <= '9' ? 4 : 2;
		else
			at++;
	}
	return at == len;
}

static void test_hostile(void)
{
	struct dw_suspects *s = dw_suspects_new(100, 600, NULL, 0);
	struct dw_addr a = v4(198, 51, 100, 7);
	struct dw_suspect_view v;
	uint8_t w[DW_NAME_MAXWIRE];
	size_t len = 0;
	char full[DW_NAME_TEXT_MAX];

	/* 3 labels of 63 bytes cycling through bytes that all need escaping,
	 * then "evil": every byte costs 2 or 4 bytes of text */
	static const uint8_t nasty[] = {0, '.', '\\', ' ', 0xff, '"', ';', '(', 0x7f, '$', '\n'};
	for (int l = 0; l < 3; l++) {
		w[len++] = 63;
		for (int i = 0; i < 63; i++)
			w[len++] = nasty[(l * 63 + i) % sizeof(nasty)];
	}
	w[len++] = 4;
	memcpy(w + len, "evil", 4);
	len += 4;
	w[len++] = 0;
	dw_name_to_text(w, len, full, sizeof(full));
	is_int(dw_suspects_note(s, &a, 100, DW_Q_A, DW_FEAT_SIGNATURE, w, len), DW_SUSPECTS_NEW,
	       "hostile name noted");
	dw_suspects_get(s, &a, 100, &v);

	size_t n = strlen(v.names[0]), keep = n - 3;

	ok(v.nnames == 1 && (v.cut & 1) && n <= DW_SUSPECTS_NAME_MAX && n >= 90 &&
	       strcmp(v.names[0] + keep, DW_SUSPECTS_CUT) == 0,
	   "cut to %zu bytes (of %zu), ending in the marker", n, strlen(full));
	ok(strncmp(v.names[0], full, keep) == 0 && token_boundary(full, keep),
	   "the kept part is a prefix of the full text, cut between whole escapes");
	{
		int clean = 1;

		for (size_t i = 0; i < n; i++)
			clean &= v.names[0][i] >= '!' && v.names[0][i] <= '~';
		ok(clean, "only printable ASCII, no space, no control byte");
	}

	/* two long names equal in their first 93 bytes of text are distinct */
	uint8_t w2[DW_NAME_MAXWIRE];

	memcpy(w2, w, len);
	w2[len - 2] = 'L'; /* "evil" -> "eviL": differs only past the cut */
	dw_suspects_note(s, &a, 101, DW_Q_A, 0, w2, len);
	dw_suspects_get(s, &a, 101, &v);
	ok(v.nnames == 1 && (v.cut & 1), "the same name in another case is the same name");
	w2[len - 2] = 'x';
	dw_suspects_note(s, &a, 102, DW_Q_A, 0, w2, len);
	dw_suspects_note(s, &a, 103, DW_Q_A, 0, w, len);
	dw_suspects_get(s, &a, 103, &v);
	ok(v.nnames == 2 && v.cut == 3 && strcmp(v.names[0], v.names[1]) == 0,
	   "a long name differing past the cut is a second name (same text shown)");
	dw_suspects_note(s, &a, 104, DW_Q_A, 0, w, len);
	dw_suspects_get(s, &a, 104, &v);
	is_int(v.nnames, 2, "the first one asked again is not added twice");
	dw_suspects_free(s);
}

#define FEAT_ALL ((1u << DW_FEAT_COUNT) - 1)

/* One client's events, replayed against the window.h rule. */
struct event {
	uint32_t at; /* time it was counted: max(now, last) */
	uint32_t bits;
};

/* A kept name asked again, through the one-pass compare of escape-free texts
 * (plain_is_wire in suspects.c): the same name in any case is one name with
 * its latest spelling, up to the longest uncut text; a name that differs in
 * one byte, or only where the other has an escaped dot, is another name. */
static void test_plain_names(void)
{
	struct dw_suspects *s = dw_suspects_new(16, 600, NULL, 0);
	struct dw_suspect_view v;
	struct dw_addr a = v4(10, 9, 9, 1), b = v4(10, 9, 9, 2), c = v4(10, 9, 9, 3);
	char longest[DW_SUSPECTS_NAME_MAX + 1], upper[sizeof(longest)],
	    cut[DW_SUSPECTS_NAME_MAX + 2];

	if (s == NULL) {
		ok(0, "store for plain names");
		return;
	}
	note(s, &a, 100, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.test");
	note(s, &a, 100, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.test");
	note(s, &a, 101, DW_Q_A, DW_FEAT_KEYWORD, "MAIL.Campus.test");
	ok(dw_suspects_get(s, &a, 101, &v) == 1 && v.nnames == 1 &&
	       strcmp(v.names[0], "MAIL.Campus.test.") == 0,
	   "a name asked again in another case is one name, latest spelling: %s", v.names[0]);
	note(s, &a, 102, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.test");
	ok(dw_suspects_get(s, &a, 102, &v) == 1 && v.nnames == 1 &&
	       strcmp(v.names[0], "mail.campus.test.") == 0,
	   "... and spelled back: %s", v.names[0]);
	note(s, &a, 103, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.tesu");
	note(s, &a, 103, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.test");
	note(s, &a, 103, DW_Q_A, DW_FEAT_KEYWORD, "mail\\.campus.test");
	note(s, &a, 103, DW_Q_A, DW_FEAT_KEYWORD, "mail.campus.test");
	ok(dw_suspects_get(s, &a, 103, &v) == 1 && v.nnames == 3 &&
	       name_is(&v, 0, "mail.campus.test.") && name_is(&v, 1, "mail\\.campus.test.") &&
	       name_is(&v, 2, "mail.campus.tesu."),
	   "one byte or an escaped dot apart are other names: %s | %s | %s", v.names[0], v.names[1],
	   v.names[2]);

	/* 63 + 1 + 31 + 1 = 96 bytes of text, the longest kept uncut (97 wire) */
	memset(longest, 'a', 63);
	longest[63] = '.';
	memset(longest + 64, 'b', 31);
	longest[95] = '.';
	longest[96] = '\0';
	memcpy(upper, longest, sizeof(longest));
	upper[0] = 'A';
	upper[94] = 'B';
	note(s, &b, 100, DW_Q_A, DW_FEAT_KEYWORD, longest);
	note(s, &b, 100, DW_Q_A, DW_FEAT_KEYWORD, upper);
	ok(dw_suspects_get(s, &b, 100, &v) == 1 && v.nnames == 1 && v.cut == 0 &&
	       strcmp(v.names[0], upper) == 0,
	   "the longest uncut name asked again in another case: one name, respelled");

	/* one byte more is cut; asked again it is still one name */
	memcpy(cut, longest, 95);
	cut[95] = 'b';
	cut[96] = '.';
	cut[97] = '\0';
	note(s, &c, 100, DW_Q_A, DW_FEAT_KEYWORD, cut);
	note(s, &c, 100, DW_Q_A, DW_FEAT_KEYWORD, cut);
	ok(dw_suspects_get(s, &c, 100, &v) == 1 && v.nnames == 1 && v.cut == 1,
	   "a name one byte too long is cut, and one name when asked again");
	dw_suspects_free(s);
}

/* Brute-force count of counter c at now: counted iff
 * floor(now/g) - floor(at/g) < k (window.h). */
static uint32_t model(const struct dw_window *w, const struct event *ev, size_t n, unsigned c,
                      uint32_t now)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++)
		if ((ev[i].bits >> c & 1u) && now / w->g - ev[i].at / w->g < w->k)
			sum++;
	return sum;
}

static void test_window(void)
{
	struct dw_window w;
	struct dw_suspects *s = dw_suspects_new(100, 600, NULL, 0);
	struct dw_addr a = v4(203, 0, 113, 9);
	struct dw_suspect_view v;

	/* W = 600: g = 75, k = 8. Events: MX at 1000 (slot 13), A at 1049
	 * (still slot 13: only the A counter is advanced), MX+keyword at 1050
	 * (slot 14: all ten are). */
	dw_window_init(&w, 600);
	note(s, &a, 1000, DW_Q_MX, 0, "a");
	dw_suspects_touch_class(s, &a, 1049, DW_Q_A);
	note(s, &a, 1050, DW_Q_MX, DW_FEAT_KEYWORD, "b");
	uint32_t e1 = dw_window_last_counted(&w, 1000), e2 = dw_window_last_counted(&w, 1050);

	is_int(e1, 1574, "an event at 1000 counts until 1574");
	dw_suspects_get(s, &a, e1, &v);
	ok(v.qclass[DW_Q_MX] == 2 && v.qclass[DW_Q_A] == 1 && v.feature[0] == 1,
	   "at 1574: 2 MX, 1 A, 1 keyword");
	dw_suspects_get(s, &a, e1 + 1, &v);
	ok(v.qclass[DW_Q_MX] == 1 && v.qclass[DW_Q_A] == 0 && v.feature[0] == 1,
	   "at 1575: the events of slot 13 are gone");
	dw_suspects_get(s, &a, e2, &v);
	ok(v.qclass[DW_Q_MX] == 1 && v.feature[0] == 1, "at %u: the 1050 event still counts", e2);
	dw_suspects_get(s, &a, e2 + 1, &v);
	ok(v.qclass[DW_Q_MX] == 0 && v.feature[0] == 0 && v.nnames == 2 && v.first_seen == 1000,
	   "at %u: nothing counts; names and first_seen stay", e2 + 1);
	note(s, &a, e2 + 1, DW_Q_PTR, 0, "c");
	dw_suspects_get(s, &a, e2 + 1, &v);
	ok(v.qclass[DW_Q_PTR] == 1 && v.qclass[DW_Q_MX] == 0, "a later note starts afresh");
	dw_suspects_free(s);

	/* W = 5: g = 1, a true sliding window: counted iff age < 5 */
	s = dw_suspects_new(100, 5, NULL, 0);
	note(s, &a, 10, DW_Q_PTR, DW_FEAT_PTR_FORWARD, "d");
	dw_suspects_get(s, &a, 14, &v);
	ok(v.qclass[DW_Q_PTR] == 1 && v.feature[3] == 1, "W = 5: counted at age 4");
	dw_suspects_get(s, &a, 15, &v);
	ok(v.qclass[DW_Q_PTR] == 0 && v.feature[3] == 0 && v.window == 5, "W = 5: gone at age 5");
	dw_suspects_free(s);

	/* random notes and touches against the model, for several geometries
	 * (lazy advance within a slot, time going backwards, long gaps) */
	static const uint32_t widths[] = {1, 5, 9, 60, 600, 86400};
	uint32_t rng = 12345;
	int bad = 0;
	static struct event ev[3000];

	for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
		size_t n = 0;
		uint32_t now = 1000, last = 0;

		dw_window_init(&w, widths[wi]);
		s = dw_suspects_new(10, widths[wi], NULL, 0);
		for (int step = 0; step < 3000 && !bad; step++) {
			rng = rng * 1103515245u + 12345u;
			uint32_t r = rng >> 8;
			uint32_t t;

			if (r % 97 == 0)
				now += widths[wi] * 3; /* a long gap */
			else
				now += r % 4 == 0 ? (r >> 4) % (w.g + 2) : 0;
			t = now;
			if (r % 13 == 0 && now > 3)
				t = now - 3; /* a thread that read the clock earlier */
			enum dw_qclass qc = (enum dw_qclass)((r >> 5) % DW_Q_COUNT);
			uint32_t f = (r >> 9) & FEAT_ALL;
			uint32_t bits;

			if (n == 0 || (r >> 14) % 3 == 0) {
				note(s, &a, t, qc, f, "x");
				bits = (1u << qc) | (f << DW_Q_COUNT);
			} else {
				dw_suspects_touch_class(s, &a, t, qc);
				bits = 1u << qc;
			}
			last = t > last ? t : last;
			ev[n].at = last;
			ev[n++].bits = bits;
			uint32_t q = last + (r >> 20) % (2 * widths[wi] + 2);

			dw_suspects_get(s, &a, q, &v);
			for (unsigned c = 0; c < DW_Q_COUNT + DW_FEAT_COUNT; c++) {
				uint32_t got =
				    c < DW_Q_COUNT ? v.qclass[c] : v.feature[c - DW_Q_COUNT];

				if (got != model(&w, ev, n, c, q)) {
					printf("# W=%u step %d counter %u at %u: got %u want %u\n",
					       widths[wi], step, c, q, got, model(&w, ev, n, c, q));
					bad = 1;
					break;
				}
			}
		}
		dw_suspects_free(s);
	}
	ok(!bad, "3000 random notes and touches match the window model for 6 widths");
}

static void test_touch_only(void)
{
	struct dw_suspects *s = dw_suspects_new(1000, 600, NULL, 0);
	struct dw_suspects_stats st;
	struct dw_suspect_view v;
	int counted = 0, found = 0;

	for (uint32_t i = 0; i < 5000; i++) {
		struct dw_addr x = nth(i);

		counted +=
		    dw_suspects_touch_class(s, &x, 100 + i, (enum dw_qclass)(i % DW_Q_COUNT));
	}
	for (uint32_t i = 0; i < 5000; i++) {
		struct dw_addr x = nth(i);

		found += dw_suspects_get(s, &x, 6000, &v);
	}
	dw_suspects_stats(s, &st);
	ok(counted == 0 && found == 0 && st.tracked == 0 && st.inserts == 0,
	   "5000 touches of non-suspects: nothing counted, nothing created");
	/* with suspects around, touches of others are still no-ops */
	for (uint32_t i = 0; i < 500; i++) {
		struct dw_addr x = nth(i);

		note(s, &x, 7000, DW_Q_MX, 0, "m");
	}
	for (uint32_t i = 500; i < 5000; i++) {
		struct dw_addr x = nth(i);

		counted += dw_suspects_touch_class(s, &x, 7001, DW_Q_A);
	}
	for (uint32_t i = 0; i < 500; i++) {
		struct dw_addr x = nth(i);

		counted += dw_suspects_touch_class(s, &x, 7001, DW_Q_A);
	}
	dw_suspects_stats(s, &st);
	ok(counted == 500 && st.tracked == 500,
	   "with 500 suspects: exactly their 500 touches count");
	dw_suspects_free(s);
}

struct walk {
	int visits, stop_at;
	uint32_t mx;
};

static int visit(void *arg, const struct dw_suspect_view *v)
{
	struct walk *w = arg;

	w->visits++;
	w->mx += v->qclass[DW_Q_MX];
	return w->visits == w->stop_at ? 42 : 0;
}

static void test_evict(void)
{
	struct dw_suspects *s = dw_suspects_new(8, 600, NULL, 0);
	struct dw_suspects_stats st;
	struct dw_suspect_view v;
	struct dw_addr x[12];
	int r;

	for (uint32_t i = 0; i < 12; i++)
		x[i] = nth(i);
	for (uint32_t i = 0; i < 8; i++)
		note(s, &x[i], 1 + i, DW_Q_MX, 0, "a");
	dw_suspects_stats(s, &st);
	ok(st.shards == 1 && st.tracked == 8 && st.evictions == 0, "8 suspects fill max 8");
	is_int(note(s, &x[8], 10, DW_Q_MX, 0, "a"), DW_SUSPECTS_NEW | DW_SUSPECTS_EVICTED,
	       "a ninth evicts");
	ok(dw_suspects_get(s, &x[0], 10, &v) == 0 && dw_suspects_get(s, &x[1], 10, &v) == 1,
	   "the least recently noted (client 0) went");
	is_int(dw_suspects_touch_class(s, &x[1], 20, DW_Q_A), 1, "client 1 touched at 20");
	note(s, &x[2], 21, DW_Q_MX, 0, "b");
	note(s, &x[9], 22, DW_Q_MX, 0, "a");
	ok(dw_suspects_get(s, &x[1], 22, &v) == 0 && dw_suspects_get(s, &x[2], 22, &v) == 1 &&
	       dw_suspects_get(s, &x[3], 22, &v) == 1,
	   "a touch does not keep client 1; a note keeps client 2");
	note(s, &x[10], 23, DW_Q_MX, 0, "a");
	ok(dw_suspects_get(s, &x[3], 23, &v) == 0 && dw_suspects_get(s, &x[2], 23, &v) == 1,
	   "next victim is client 3, not the re-noted client 2");
	r = note(s, &x[0], 24, DW_Q_PTR, 0, "back.example");
	dw_suspects_get(s, &x[0], 24, &v);
	ok(r == (DW_SUSPECTS_NEW | DW_SUSPECTS_EVICTED) && v.first_seen == 24 &&
	       v.qclass[DW_Q_MX] == 0 && v.qclass[DW_Q_PTR] == 1 && v.nnames == 1 &&
	       name_is(&v, 0, "back.example.") && v.cut == 0,
	   "an evicted client comes back with fresh evidence");
	dw_suspects_stats(s, &st);
	ok(st.tracked == 8 && st.inserts == 12 && st.evictions == 4,
	   "tracked 8, inserts 12, evictions 4");
	dw_suspects_free(s);

	/* ties within one second go to the one noted first */
	s = dw_suspects_new(4, 600, NULL, 0);
	for (uint32_t i = 0; i < 4; i++)
		note(s, &x[i], 5, DW_Q_MX, 0, "a");
	note(s, &x[0], 5, DW_Q_MX, 0, "a"); /* same second: no move */
	note(s, &x[4], 5, DW_Q_MX, 0, "a");
	ok(dw_suspects_get(s, &x[0], 5, &v) == 0 && dw_suspects_get(s, &x[1], 5, &v) == 1,
	   "same second: the first noted is evicted");
	dw_suspects_free(s);

	/* a big store with many shards holds exactly max: 32768 clients, so
	 * every shard of 256 is overfilled whatever the random hash key (with
	 * 20000, a shard got fewer than 256 in about one run of 20) */
	s = dw_suspects_new(DW_SUSPECTS_DEFAULT_MAX, 600, NULL, 0);
	for (uint32_t i = 0; i < 32768; i++) {
		struct dw_addr y = nth(i);

		note(s, &y, 100 + i / 1000, DW_Q_MX, 0, "mail.example");
	}
	dw_suspects_stats(s, &st);
	ok(st.tracked == DW_SUSPECTS_DEFAULT_MAX &&
	       st.evictions == 32768 - DW_SUSPECTS_DEFAULT_MAX && st.shards == 64,
	   "32768 clients into max 16384: %llu tracked, %llu evicted",
	   (unsigned long long)st.tracked, (unsigned long long)st.evictions);
	ok(st.bytes >= (uint64_t)DW_SUSPECTS_DEFAULT_MAX * 1024 &&
	       st.bytes < (uint64_t)DW_SUSPECTS_DEFAULT_MAX * 1050,
	   "full: %llu bytes (%.1f per suspect)", (unsigned long long)st.bytes,
	   (double)st.bytes / DW_SUSPECTS_DEFAULT_MAX);
	{
		int fresh = 0;

		for (uint32_t i = 32768 - 1000; i < 32768; i++) {
			struct dw_addr y = nth(i);

			fresh += dw_suspects_get(s, &y, 200, &v);
		}
		ok(fresh == 1000, "the 1000 most recent are all there (got %d)", fresh);
	}
	struct walk wk = {0, 0, 0};

	is_int(dw_suspects_foreach(s, 200, visit, &wk), 0, "foreach walks to the end");
	ok(wk.visits == (int)DW_SUSPECTS_DEFAULT_MAX && wk.mx == DW_SUSPECTS_DEFAULT_MAX,
	   "foreach visits every suspect once");
	wk.visits = 0;
	wk.stop_at = 5;
	is_int(dw_suspects_foreach(s, 200, visit, &wk), 42, "foreach returns the stop value");
	is_int(wk.visits, 5, "... after 5 visits");
	dw_suspects_free(s);
}

/* Threads noting and touching the same clients. */
#define T_CLIENTS 64
#define T_ROUNDS 1500

struct job {
	struct dw_suspects *s;
	int id;
};

static void *hammer(void *arg)
{
	const struct job *j = arg;
	char name[32];

	for (uint32_t r = 0; r < T_ROUNDS; r++) {
		snprintf(name, sizeof(name), "h%u.example", (r + (uint32_t)j->id) % 11);
		struct wire w = wire_of(name);

		for (uint32_t c = 0; c < T_CLIENTS; c++) {
			struct dw_addr a = nth(c),
			               other = nth(100000 + c + 1000u * (uint32_t)j->id);
			/* clocks read at slightly different times by each thread */
			uint32_t now = 1000 + r / 50 + (uint32_t)(j->id & 1);

			dw_suspects_note(j->s, &a, now, DW_Q_MX, DW_FEAT_KEYWORD, w.b, w.len);
			dw_suspects_touch_class(j->s, &a, now, DW_Q_A);
			dw_suspects_touch_class(j->s, &other, now, DW_Q_A);
		}
	}
	return NULL;
}

static void run_threads(int n)
{
	struct dw_suspects *s = dw_suspects_new(1024, 86400, NULL, 0);
	pthread_t th[4];
	struct job jobs[4];
	struct dw_suspects_stats st;
	int exact = 1, distinct = 1;

	for (int i = 0; i < n; i++) {
		jobs[i].s = s;
		jobs[i].id = i;
		pthread_create(&th[i], NULL, hammer, &jobs[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (uint32_t c = 0; c < T_CLIENTS; c++) {
		struct dw_addr a = nth(c);
		struct dw_suspect_view v;

		if (dw_suspects_get(s, &a, 5000, &v) != 1 ||
		    v.qclass[DW_Q_MX] != (uint32_t)n * T_ROUNDS ||
		    v.qclass[DW_Q_A] != (uint32_t)n * T_ROUNDS ||
		    v.feature[0] != (uint32_t)n * T_ROUNDS) {
			exact = 0;
			printf("# client %u: MX %u A %u keyword %u\n", c, v.qclass[DW_Q_MX],
			       v.qclass[DW_Q_A], v.feature[0]);
		}
		for (unsigned i = 0; i < v.nnames; i++)
			for (unsigned k = i + 1; k < v.nnames; k++)
				distinct &= strcmp(v.names[i], v.names[k]) != 0;
		distinct &= v.nnames == 8;
	}
	dw_suspects_stats(s, &st);
	ok(exact, "%d threads x %d rounds: exact MX, A and keyword counts for %d clients", n,
	   T_ROUNDS, T_CLIENTS);
	ok(distinct, "%d threads: every ring holds 8 distinct names", n);
	ok(st.tracked == T_CLIENTS && st.inserts == T_CLIENTS,
	   "%d threads: touches of others created nothing", n);
	dw_suspects_free(s);
}

/* Lock-free touches racing with inserts and evictions (for TSan). */
static void *churn(void *arg)
{
	struct dw_suspects *s = arg;

	for (uint32_t i = 0; i < 20000; i++) {
		struct dw_addr a = nth(i % 300);

		note(s, &a, 100 + i / 100, DW_Q_PTR, DW_FEAT_PTR_MALFORMED, "z.example");
	}
	return NULL;
}

static void *peek(void *arg)
{
	struct dw_suspects *s = arg;
	struct dw_suspect_view v;

	for (uint32_t i = 0; i < 20000; i++) {
		struct dw_addr a = nth(i % 300);

		dw_suspects_touch_class(s, &a, 100 + i / 100, DW_Q_AAAA);
		if (i % 64 == 0)
			dw_suspects_get(s, &a, 100 + i / 100, &v);
	}
	return NULL;
}

static void test_churn(void)
{
	struct dw_suspects *s = dw_suspects_new(64, 600, NULL, 0);
	pthread_t a, b;
	struct dw_suspects_stats st;

	pthread_create(&a, NULL, churn, s);
	pthread_create(&b, NULL, peek, s);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	dw_suspects_stats(s, &st);
	ok(st.tracked == 64 && st.evictions == st.inserts - 64,
	   "touches racing with evictions: table consistent (%llu evictions)",
	   (unsigned long long)st.evictions);
	dw_suspects_free(s);
}

/* One hash per query: with the client table's key, the hash the engine
 * computes once (dw_clients_hash) files a suspect where every lookup finds
 * it, for IPv4 and an aggregated IPv6 prefix. */
static void test_shared_hash(void)
{
	struct dw_clients_conf cc;
	struct dw_clients *t;
	struct dw_suspects *s = dw_suspects_new(4096, 600, NULL, 0);
	struct dw_suspect_view v;
	uint64_t k0, k1;
	int good = 1;

	memset(&cc, 0, sizeof(cc));
	cc.max = 1000;
	cc.ipv6_prefix = 64;
	cc.ncounters = 1;
	cc.window[0] = 600;
	t = dw_clients_new(&cc, NULL, 0);
	dw_clients_hash_key(t, &k0, &k1);
	dw_suspects_set_client_key(s, k0, k1);
	for (unsigned i = 0; i < 2000 && good; i++) {
		struct dw_addr a;

		memset(&a, 0, sizeof(a));
		a.family = i % 2 ? 6 : 4;
		a.b[0] = a.family == 4 ? 10 : 0x20;
		a.b[1] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		a.b[7] = (uint8_t)(i * 7);
		uint64_t h = dw_clients_hash(t, &a);

		good = dw_suspects_note_h(s, &a, h, 100, DW_Q_MX, 0, NULL, 0) >= 0 &&
		       dw_suspects_touch_class_h(s, &a, h, 100, DW_Q_A) == 1 &&
		       dw_suspects_touch_class(s, &a, 100, DW_Q_A) == 1 &&
		       dw_suspects_get(s, &a, 100, &v) == 1 && v.qclass[DW_Q_MX] == 1 &&
		       v.qclass[DW_Q_A] == 2;
		if (!good)
			printf("# client %u not found by its shared hash\n", i);
	}
	ok(good, "a suspect noted with the client table's hash is found by every call");
	dw_suspects_free(s);
	dw_clients_free(t);
}

/* The feature pass's name hash (dw_features.name_hash, the feature set's
 * key given to the store) files a name where the store's own hash does:
 * dw_suspects_note_wf() and dw_suspects_note() see one name; the fast
 * repeat of a lower-case name never keeps a stale spelling. */
static void test_feature_hash(void)
{
	struct dw_feature_set *fs = dw_feature_set_new(NULL, 0, NULL, 0, NULL, 0);
	struct dw_suspects *s = dw_suspects_new(100, 600, NULL, 0);
	struct dw_addr a = v4(192, 0, 2, 77);
	struct dw_suspect_view v;
	static const char *const spell[] = {
	    "mail.example.com", "MAIL.Example.COM", "mail.example.com",
	    "mail.example.com", "Mail.example.com", "mail.example.com",
	    "an-eight.x",       "AN-EIGHT.x",       "an-eight.x",
	};
	struct dw_clients_conf cc;
	struct dw_clients *t;
	uint64_t k0, k1;
	int same = 1;

	memset(&cc, 0, sizeof(cc));
	cc.max = 1000;
	cc.ipv6_prefix = 64;
	cc.ncounters = 1;
	cc.window[0] = 600;
	t = dw_clients_new(&cc, NULL, 0);
	dw_clients_hash_key(t, &k0, &k1);
	dw_suspects_set_client_key(s, k0, k1);
	dw_feature_set_name_key(fs, &k0, &k1);
	dw_suspects_set_name_key(s, k0, k1);
	for (size_t i = 0; i < sizeof(spell) / sizeof(spell[0]); i++) {
		struct wire w = wire_of(spell[i]);
		struct dw_features f;
		char want[128];

		if (dw_features_of(fs, w.b, w.len, 1, &f) != 0) {
			same = 0;
			break;
		}
		/* alternate the two entries: both must agree on every name */
		if (i % 2)
			note(s, &a, 100, DW_Q_A, DW_FEAT_KEYWORD, spell[i]);
		else
			dw_suspects_note_wf(s, &a, dw_clients_hash(t, &a), 100, DW_Q_A,
			                    DW_FEAT_KEYWORD, w.b, w.len, f.name_hash, f.name_upper);
		snprintf(want, sizeof(want), "%s.", spell[i]);
		if (dw_suspects_get(s, &a, 100, &v) != 1 || !name_is(&v, 0, want)) {
			printf("# after %s: %u names, front %s\n", spell[i], v.nnames,
			       v.nnames ? v.names[0] : "-");
			same = 0;
		}
	}
	ok(same, "note_wf (the feature pass's hash) and note see one name; the latest spelling "
	         "is kept through the fast repeat");
	ok(dw_suspects_get(s, &a, 100, &v) == 1 && v.nnames == 2 &&
	       name_is(&v, 1, "mail.example.com."),
	   "two distinct names kept, got %u", v.nnames);
	ok(v.qclass[DW_Q_A] == 9 && v.feature[0] == 9, "every note counted (a=%u keyword=%u)",
	   v.qclass[DW_Q_A], v.feature[0]);
	dw_suspects_free(s);
	dw_clients_free(t);
	dw_feature_set_free(fs);
}

int main(void)
{
	test_new();
	test_basic();
	test_names();
	test_hostile();
	test_plain_names();
	test_window();
	test_touch_only();
	test_evict();
	run_threads(2);
	run_threads(4);
	test_churn();
	test_shared_hash();
	test_feature_hash();
	return done_testing();
}
