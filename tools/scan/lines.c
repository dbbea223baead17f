/**
 * \file
 * The text readers of dnswarden-scan (records.h): Zeek dns.log (TSV and
 * JSON lines) and Unbound's log-queries / log-replies lines. Every byte is
 * hostile: fields are copied into bounded buffers before they are parsed.
 */
#include "records.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feature.h"

#define FIELD_MAX 1024 /* longest field kept (a name escaped byte by byte is 1020) */

/** Copy [s, s+n) into buf as a C string; -1 when it does not fit. */
static int copy_field(const char *s, size_t n, char *buf, size_t cap)
{
	if (n >= cap)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/** An unsigned decimal in [s, s+n) up to max; -1 when it is none. */
static long long number(const char *s, size_t n, long long max)
{
	long long v = 0;
	size_t i;
	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/** Seconds of a "1700000000.123" stamp (the fraction dropped); -1 if bad. */
static int64_t epoch_stamp(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] != '.')
		i++;
	if (i < n) { /* the fraction must be digits too */
		size_t k;
		for (k = i + 1; k < n; k++)
			if (s[k] < '0' || s[k] > '9')
				return -1;
	}
	return number(s, i, 253402300799LL); /* up to the year 9999 */
}

/** ISO 8601 "2026-12-02T05:30:00[.fff][Z|+hh:mm|-hh:mm]" as unix seconds;
 *  -1 if bad. *used: how many bytes it took. */
static int64_t iso_stamp(const char *s, size_t n, size_t *used)
{
	struct tm tm;
	size_t i = 19;
	int64_t t, off = 0;
	long long y, mo, d, h, mi, se;
	if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if ((y = number(s, 4, 9999)) < 1970 || (mo = number(s + 5, 2, 12)) < 1 ||
	    (d = number(s + 8, 2, 31)) < 1 || (h = number(s + 11, 2, 23)) < 0 ||
	    (mi = number(s + 14, 2, 59)) < 0 || (se = number(s + 17, 2, 60)) < 0)
		return -1;
	if (i < n && (s[i] == '.' || s[i] == ',')) {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		long long oh = number(s + i + 1, 2, 23), om = number(s + i + 4, 2, 59);
		if (oh < 0 || om < 0)
			return -1;
		off = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
		i += 6;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)se;
	t = (int64_t)timegm(&tm);
	*used = i;
	return t - off;
}

/** A name as Zeek or Unbound print it, to wire format. Zeek escapes bytes
 *  as \xHH; zone-file escapes (\DDD, \X) are taken as well. 0 or -1. */
static int name_wire(const char *s, size_t n, uint8_t *wire, size_t *wlen)
{
	char text[FIELD_MAX * 2];
	size_t i, k = 0;
	int len;
	if (n == 0 || n >= FIELD_MAX)
		return -1;
	for (i = 0; i < n; i++) { /* \xHH -> \DDD, the rest as is */
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
		    isxdigit((unsigned char)s[i + 2]) && isxdigit((unsigned char)s[i + 3])) {
			char hex[3] = {s[i + 2], s[i + 3], 0};
			k += (size_t)snprintf(text + k, sizeof(text) - k, "\\%03u",
			                      (unsigned)strtoul(hex, NULL, 16));
			i += 3;
		} else {
			if (s[i] == '\0')
				return -1;
			text[k++] = s[i];
		}
		if (k + 5 >= sizeof(text))
			return -1;
	}
	text[k] = '\0';
	len = dw_name_from_text(text, wire, 256);
	if (len < 0)
		return -1;
	*wlen = (size_t)len;
	return 0;
}

/** Mnemonic tables: qtypes seen in logs, and rcodes. */
static const struct {
	const char *n;
	uint16_t v;
} qtypes[] = {
    {"A", 1},       {"NS", 2},      {"CNAME", 5},  {"SOA", 6},    {"NULL", 10},  {"WKS", 11},
    {"PTR", 12},    {"HINFO", 13},  {"MX", 15},    {"TXT", 16},   {"RP", 17},    {"AFSDB", 18},
    {"SIG", 24},    {"KEY", 25},    {"AAAA", 28},  {"LOC", 29},   {"SRV", 33},   {"NAPTR", 35},
    {"CERT", 37},   {"DNAME", 39},  {"OPT", 41},   {"DS", 43},    {"SSHFP", 44}, {"RRSIG", 46},
    {"NSEC", 47},   {"DNSKEY", 48}, {"NSEC3", 50}, {"TLSA", 52},  {"CDS", 59},   {"SVCB", 64},
    {"HTTPS", 65},  {"SPF", 99},    {"TKEY", 249}, {"TSIG", 250}, {"IXFR", 251}, {"AXFR", 252},
    {"MAILB", 253}, {"MAILA", 254}, {"ANY", 255},  {"URI", 256},  {"CAA", 257}};
static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                     "NOTIMPL", "REFUSED", "YXDOMAIN", "YXRRSET",
                                     "NXRRSET", "NOTAUTH", "NOTZONE"};

/** Whether [s, s+n) equals the C string w, ignoring case. */
static int word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/** A qtype mnemonic or TYPEnnn. */
int dw_scan_qtype(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++)
		if (word_is(s, n, qtypes[i].n))
			return qtypes[i].v;
	if (n > 4 && strncasecmp(s, "TYPE", 4) == 0)
		return (int)number(s + 4, n - 4, 65535);
	return -1;
}

/** An rcode mnemonic or RCODEnn (NOTIMP too, as Zeek spells it). */
int dw_scan_rcode(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		if (word_is(s, n, rcodes[i]))
			return (int)i;
	if (word_is(s, n, "NOTIMP"))
		return 4;
	if (n > 5 && strncasecmp(s, "RCODE", 5) == 0)
		return (int)number(s + 5, n - 5, 15);
	return -1;
}

/** Address text in [s, s+n) (Zeek may add %scope: refused). */
static int addr_field(const char *s, size_t n, struct dw_addr *a)
{
	char buf[64];
	if (copy_field(s, n, buf, sizeof(buf)) != 0 || dw_addr_parse(buf, a) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Zeek TSV */

void dw_scan_zeek_init(struct dw_scan_zeek *z)
{
	memset(z, 0, sizeof(*z));
	z->sep = '\t';
	z->f_ts = z->f_orig_h = z->f_orig_p = z->f_resp_h = z->f_trans_id = -1;
	z->f_query = z->f_qtype = z->f_rcode = -1;
}

/** The idx-th field of a line split at sep. 0 or -1 (no such field). */
static int nth(const char *line, size_t len, char sep, int idx, const char **f, size_t *n)
{
	size_t i = 0, start = 0;
	int k = 0;
	for (;; i++) {
		if (i == len || line[i] == sep) {
			if (k == idx) {
				*f = line + start;
				*n = i - start;
				return 0;
			}
			if (i == len)
				return -1;
			k++;
			start = i + 1;
		}
	}
}

/** A header line: #separator and #fields matter. */
static void zeek_header(struct dw_scan_zeek *z, const char *line, size_t len)
{
	if (len >= 11 && memcmp(line, "#separator ", 11) == 0) {
		const char *v = line + 11;
		size_t n = len - 11;
		if (n == 4 && v[0] == '\\' && v[1] == 'x' && isxdigit((unsigned char)v[2]) &&
		    isxdigit((unsigned char)v[3])) {
			char hex[3] = {v[2], v[3], 0};
			z->sep = (char)strtoul(hex, NULL, 16);
		} else if (n == 1) {
			z->sep = v[0];
		}
	} else if (len >= 7 && memcmp(line, "#fields", 7) == 0 && len > 8) {
		const char *f;
		size_t n;
		int i;
		z->f_ts = z->f_orig_h = z->f_orig_p = z->f_resp_h = z->f_trans_id = -1;
		z->f_query = z->f_qtype = z->f_rcode = -1;
		for (i = 0; nth(line + 8, len - 8, z->sep, i, &f, &n) == 0 && i < 10000; i++) {
			if (word_is(f, n, "ts"))
				z->f_ts = i;
			else if (word_is(f, n, "id.orig_h"))
				z->f_orig_h = i;
			else if (word_is(f, n, "id.orig_p"))
				z->f_orig_p = i;
			else if (word_is(f, n, "id.resp_h"))
				z->f_resp_h = i;
			else if (word_is(f, n, "trans_id"))
				z->f_trans_id = i;
			else if (word_is(f, n, "query"))
				z->f_query = i;
			else if (word_is(f, n, "qtype"))
				z->f_qtype = i;
			else if (word_is(f, n, "rcode"))
				z->f_rcode = i;
		}
		z->have_fields = 1;
	}
}

/** Zeek's unset and empty markers. */
static int unset(const char *f, size_t n)
{
	return word_is(f, n, "-") || word_is(f, n, "(empty)");
}

int dw_scan_zeek_line(struct dw_scan_zeek *z, const char *line, size_t len, struct dw_scan_rec *r)
{
	const char *f;
	size_t n;
	long long v;
	if (len > 0 && line[0] == '#') {
		zeek_header(z, line, len);
		return 0;
	}
	if (len == 0)
		return 0;
	if (!z->have_fields || z->f_ts < 0 || z->f_orig_h < 0 || z->f_query < 0 || z->f_qtype < 0)
		return -1;
	memset(r, 0, sizeof(*r));
	r->kind = DW_SCAN_PAIR;
	r->rcode = -1;
	if (nth(line, len, z->sep, z->f_ts, &f, &n) != 0 || (r->t = epoch_stamp(f, n)) < 0)
		return -1;
	if (nth(line, len, z->sep, z->f_orig_h, &f, &n) != 0 || addr_field(f, n, &r->client) != 0)
		return -1;
	if (z->f_resp_h >= 0 && nth(line, len, z->sep, z->f_resp_h, &f, &n) == 0 && !unset(f, n) &&
	    addr_field(f, n, &r->server) != 0)
		return -1;
	if (z->f_orig_p >= 0 && nth(line, len, z->sep, z->f_orig_p, &f, &n) == 0 && !unset(f, n) &&
	    (v = number(f, n, 65535)) >= 0)
		r->cport = (uint16_t)v;
	if (z->f_trans_id >= 0 && nth(line, len, z->sep, z->f_trans_id, &f, &n) == 0 &&
	    !unset(f, n) && (v = number(f, n, 65535)) >= 0)
		r->id = (uint16_t)v;
	if (nth(line, len, z->sep, z->f_query, &f, &n) != 0)
		return -1;
	if (!unset(f, n) && name_wire(f, n, r->qname, &r->qname_len) != 0)
		return -1;
	if (nth(line, len, z->sep, z->f_qtype, &f, &n) != 0)
		return -1;
	if (unset(f, n))
		r->qtype = 0;
	else if ((v = number(f, n, 65535)) < 0)
		return -1;
	else
		r->qtype = (uint16_t)v;
	if (z->f_rcode >= 0 && nth(line, len, z->sep, z->f_rcode, &f, &n) == 0 && !unset(f, n)) {
		if ((v = number(f, n, 4095)) < 0)
			return -1;
		r->rcode = (int)(v & 15);
	}
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Zeek JSON lines: a flat object; nested values are skipped */

struct json {
	const char *s;
	size_t n, i;
};

static void json_ws(struct json *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\r'))
		j->i++;
}

/** A string value into buf (escapes decoded; \u above 0x7f becomes '?'). */
static int json_string(struct json *j, char *buf, size_t cap)
{
	size_t k = 0;
	if (j->i >= j->n || j->s[j->i] != '"')
		return -1;
	j->i++;
	while (j->i < j->n && j->s[j->i] != '"') {
		char c = j->s[j->i++];
		if (c == '\\') {
			if (j->i >= j->n)
				return -1;
			c = j->s[j->i++];
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u': {
				char hex[5];
				unsigned long u;
				size_t h;
				if (j->i + 4 > j->n)
					return -1;
				for (h = 0; h < 4; h++)
					if (!isxdigit((unsigned char)j->s[j->i + h]))
						return -1;
				memcpy(hex, j->s + j->i, 4);
				hex[4] = 0;
				u = strtoul(hex, NULL, 16);
				c = u > 0 && u < 0x80 ? (char)u : '?';
				j->i += 4;
				break;
			}
			case '"':
			case '\\':
			case '/':
				break;
			default:
				return -1;
			}
		}
		if (k + 1 >= cap)
			return -1;
		buf[k++] = c;
	}
	if (j->i >= j->n)
		return -1;
	j->i++;
	buf[k] = '\0';
	return 0;
}

/** Skip any value (strings, numbers, literals, nested arrays and objects),
 *  keeping a number's or literal's text in buf. */
static int json_skip(struct json *j, char *buf, size_t cap)
{
	int depth = 0;
	size_t start = j->i;
	buf[0] = '\0';
	if (j->i >= j->n)
		return -1;
	if (j->s[j->i] == '"')
		return json_string(j, buf, cap);
	do {
		char c;
		if (j->i >= j->n)
			return -1;
		c = j->s[j->i];
		if (c == '"') {
			char tmp[FIELD_MAX];
			if (json_string(j, tmp, sizeof(tmp)) != 0)
				return -1;
			continue;
		}
		if (c == '[' || c == '{') {
			if (++depth > 64)
				return -1;
		} else if (c == ']' || c == '}') {
			if (depth == 0)
				break;
			depth--;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t')) {
			break;
		}
		j->i++;
	} while (depth > 0 || j->i < j->n);
	if (depth != 0)
		return -1;
	if (j->s[start] != '[' && j->s[start] != '{' &&
	    copy_field(j->s + start, j->i - start, buf, cap) != 0)
		return -1;
	return 0;
}

int dw_scan_zeek_json(const char *line, size_t len, struct dw_scan_rec *r)
{
	struct json j = {line, len, 0};
	char key[64], val[FIELD_MAX];
	int have_ts = 0, have_client = 0, have_query = 0;
	long long v;
	json_ws(&j);
	if (j.i == j.n)
		return 0;
	if (line[j.i] != '{')
		return -1;
	j.i++;
	memset(r, 0, sizeof(*r));
	r->kind = DW_SCAN_PAIR;
	r->rcode = -1;
	for (;;) {
		json_ws(&j);
		if (j.i < j.n && line[j.i] == '}')
			break;
		if (json_string(&j, key, sizeof(key)) != 0)
			return -1;
		json_ws(&j);
		if (j.i >= j.n || line[j.i] != ':')
			return -1;
		j.i++;
		json_ws(&j);
		if (json_skip(&j, val, sizeof(val)) != 0)
			return -1;
		if (strcmp(key, "ts") == 0) {
			size_t used;
			r->t = epoch_stamp(val, strlen(val));
			if (r->t < 0 && (r->t = iso_stamp(val, strlen(val), &used)) >= 0 &&
			    used != strlen(val))
				r->t = -1;
			if (r->t < 0)
				return -1;
			have_ts = 1;
		} else if (strcmp(key, "id.orig_h") == 0) {
			if (dw_addr_parse(val, &r->client) != 0)
				return -1;
			have_client = 1;
		} else if (strcmp(key, "id.resp_h") == 0) {
			if (dw_addr_parse(val, &r->server) != 0)
				return -1;
		} else if (strcmp(key, "id.orig_p") == 0) {
			if ((v = number(val, strlen(val), 65535)) >= 0)
				r->cport = (uint16_t)v;
		} else if (strcmp(key, "trans_id") == 0) {
			if ((v = number(val, strlen(val), 65535)) >= 0)
				r->id = (uint16_t)v;
		} else if (strcmp(key, "query") == 0) {
			if (name_wire(val, strlen(val), r->qname, &r->qname_len) != 0)
				return -1;
			have_query = 1;
		} else if (strcmp(key, "qtype") == 0) {
			if ((v = number(val, strlen(val), 65535)) < 0)
				return -1;
			r->qtype = (uint16_t)v;
		} else if (strcmp(key, "rcode") == 0) {
			if ((v = number(val, strlen(val), 4095)) < 0)
				return -1;
			r->rcode = (int)(v & 15);
		}
		json_ws(&j);
		if (j.i < j.n && line[j.i] == ',') {
			j.i++;
			continue;
		}
		if (j.i < j.n && line[j.i] == '}')
			break;
		return -1;
	}
	j.i++;
	json_ws(&j);
	if (j.i != j.n || !have_ts || !have_client)
		return -1;
	(void)have_query; /* Zeek logs queries without a question too */
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Unbound */

/** The stamp at the start of an Unbound line; -1 when there is none. *used:
 *  the bytes it took. */
static int64_t unbound_stamp(const char *s, size_t n, int year, size_t *used)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t t;
	if (n > 2 && s[0] == '[') { /* [1700000000] */
		size_t i = 1;
		while (i < n && s[i] != ']')
			i++;
		if (i == n || (t = number(s + 1, i - 1, 253402300799LL)) < 0)
			return -1;
		*used = i + 1;
		return t;
	}
	if (n >= 19 && s[4] == '-')
		return iso_stamp(s, n, used);
	if (n >= 15 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':') {
		struct tm tm;
		const char *m = strstr(mon, (char[4]){s[0], s[1], s[2], 0});
		long long d = number(s + 4 + (s[4] == ' '), s[4] == ' ' ? 1 : 2, 31);
		long long h = number(s + 7, 2, 23), mi = number(s + 10, 2, 59),
		          se = number(s + 13, 2, 60);
		if (!m || (m - mon) % 3 || d < 1 || h < 0 || mi < 0 || se < 0)
			return -1;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = year - 1900;
		tm.tm_mon = (int)((m - mon) / 3);
		tm.tm_mday = (int)d;
		tm.tm_hour = (int)h;
		tm.tm_min = (int)mi;
		tm.tm_sec = (int)se;
		tm.tm_isdst = -1;
		*used = 15;
		return (int64_t)mktime(&tm); /* Unbound writes local time */
	}
	return -1;
}

/** Split [s, s+n) at spaces into at most max tokens; returns the count
 *  (max + 1 when there are more). */
static int tokens(const char *s, size_t n, const char **tok, size_t *tlen, int max)
{
	size_t i = 0;
	int k = 0;
	while (i < n) {
		size_t start;
		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			break;
		if (k == max)
			return max + 1;
		start = i;
		while (i < n && s[i] != ' ')
			i++;
		tok[k] = s + start;
		tlen[k++] = i - start;
	}
	return k;
}

/** Find needle in [s, s+n). */
static const char *find(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle));
}

int dw_scan_unbound_line(const char *line, size_t len, int year, struct dw_scan_rec *r)
{
	const char *markers[] = {" info: ", " query: ", " reply: "};
	const char *tok[9], *m = NULL;
	size_t tlen[9], used = 0;
	int64_t t;
	int nt, qt, rc = -1;
	unsigned i;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	for (i = 0; i < 3 && !m; i++)
		if ((m = find(line, len, markers[i])) != NULL)
			m += strlen(markers[i]);
	if (!m)
		return 0;
	nt = tokens(m, len - (size_t)(m - line), tok, tlen, 8);
	if (nt != 4 && nt != 8)
		return 0; /* some other message */
	memset(r, 0, sizeof(*r));
	if (addr_field(tok[0], tlen[0], &r->client) != 0)
		return 0; /* "info: start of service" and the like */
	if (word_is(tok[1], tlen[1], "-"))
		return 0; /* a FORMERR reply: no question to count */
	if ((t = unbound_stamp(line, len, year, &used)) < 0)
		return -1;
	(void)used;
	r->t = t;
	if ((qt = dw_scan_qtype(tok[2], tlen[2])) < 0)
		return -1;
	r->qtype = (uint16_t)qt;
	if (word_is(tok[1], tlen[1], ".")) {
		r->qname[0] = 0;
		r->qname_len = 1;
	} else if (!word_is(tok[1], tlen[1], "null") &&
	           name_wire(tok[1], tlen[1], r->qname, &r->qname_len) != 0) {
		return -1;
	}
	if (nt == 8) {
		if ((rc = dw_scan_rcode(tok[4], tlen[4])) < 0)
			return -1;
		r->kind = DW_SCAN_REPLY;
	} else {
		r->kind = DW_SCAN_QUERY;
	}
	r->rcode = rc;
	return 1;
}
