/**
 * \file
 * RPZ zone files: writing dnswarden's block list, reading a peer's (rpzfile.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "errbuf.h"
#include "rpzfile.h"

/** TTL of every record we write: short, so a sinkhole answer is not kept
 *  long after an unblock. */
#define RPZ_TTL 60
/** Longest line we read from a zone file; longer lines are skipped. */
#define LINE_MAX_LEN 4096

int dw_rpz_label(const struct dw_cidr *c, char *buf, size_t len)
{
	struct dw_addr a = c->addr;
	int n;
	if (a.family == 4 && c->len <= 32) {
		dw_addr_mask(&a, c->len);
		n = snprintf(buf, len, "%u.%u.%u.%u.%u", c->len, a.b[3], a.b[2], a.b[1], a.b[0]);
		return n > 0 && (size_t)n < len ? 0 : -1;
	}
	if (a.family != 6 || c->len > 128)
		return -1;
	{
		unsigned h[8];
		int i, zstart = -1, zlen = 0, runstart = -1, runlen = 0;
		size_t used;
		dw_addr_mask(&a, c->len);
		for (i = 0; i < 8; i++) {
			h[i] = (unsigned)a.b[2 * i] << 8 | a.b[2 * i + 1];
			if (h[i] == 0) {
				if (runlen++ == 0)
					runstart = i;
				if (runlen > zlen) {
					zlen = runlen;
					zstart = runstart;
				}
			} else {
				runlen = 0;
			}
		}
		n = snprintf(buf, len, "%u", c->len);
		if (n < 0 || (size_t)n >= len)
			return -1;
		used = (size_t)n;
		for (i = 7; i >= 0; i--) {
			if (zlen > 0 && i >= zstart && i < zstart + zlen) {
				if (i != zstart + zlen - 1)
					continue; /* one "zz" for the whole run */
				n = snprintf(buf + used, len - used, ".zz");
			} else {
				n = snprintf(buf + used, len - used, ".%x", h[i]);
			}
			if (n < 0 || (size_t)n >= len - used)
				return -1;
			used += (size_t)n;
		}
	}
	return 0;
}

/** A decimal number of at most 3 digits in [0, max]; -1 if not. */
static int small_number(const char *s, size_t n, int max)
{
	int v = 0;
	size_t i;
	if (n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

int dw_rpz_label_parse(const char *s, size_t n, struct dw_cidr *out)
{
	const char *lab[10];
	size_t lablen[10], nl = 0, i, start = 0;
	int plen;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (nl == 10 || i == start)
				return -1;
			lab[nl] = s + start;
			lablen[nl++] = i - start;
			start = i + 1;
		}
	}
	if (nl < 2)
		return -1;
	plen = small_number(lab[0], lablen[0], 128);
	if (plen < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (nl == 5 && plen <= 32) {
		int ok = 1;
		for (i = 0; i < 4; i++) {
			int v = small_number(lab[4 - i], lablen[4 - i], 255);
			if (v < 0)
				ok = 0;
			else
				out->addr.b[i] = (uint8_t)v;
		}
		if (ok) {
			out->addr.family = 4;
			out->len = (uint8_t)plen;
			dw_addr_mask(&out->addr, out->len);
			return 0;
		}
	}
	{
		/* IPv6: hextets from the last label back; "zz" stands for the run of
		 * zero hextets that makes eight */
		unsigned h[8] = {0};
		size_t nh = nl - 1, pos = 0, zz = (size_t)-1;
		if (nh > 8)
			return -1;
		for (i = nl - 1; i >= 1; i--) {
			const char *l = lab[i];
			size_t ll = lablen[i], k;
			unsigned v = 0;
			if (ll == 2 && strncasecmp(l, "zz", 2) == 0) {
				if (zz != (size_t)-1)
					return -1;
				zz = pos;
				pos += 8 - (nh - 1);
				if (nh - 1 > 7)
					return -1;
				continue;
			}
			if (ll > 4)
				return -1;
			for (k = 0; k < ll; k++) {
				if (!isxdigit((unsigned char)l[k]))
					return -1;
				v = v << 4 | (unsigned)(isdigit((unsigned char)l[k])
				                            ? l[k] - '0'
				                            : tolower((unsigned char)l[k]) - 'a' + 10);
			}
			if (pos >= 8)
				return -1;
			h[pos++] = v;
		}
		if (pos != 8)
			return -1;
		for (i = 0; i < 8; i++) {
			out->addr.b[2 * i] = (uint8_t)(h[i] >> 8);
			out->addr.b[2 * i + 1] = (uint8_t)h[i];
		}
		out->addr.family = 6;
		out->len = (uint8_t)plen;
		dw_addr_mask(&out->addr, out->len);
		return 0;
	}
}

/** UTC text of a unix time. */
static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/** See rpzfile.h. */
const char *dw_rpz_cname_of(enum dw_action a)
{
	switch (a) {
	case DW_ACT_NODATA:
		return "*.";
	case DW_ACT_DROP:
		return "rpz-drop.";
	case DW_ACT_TCP_ONLY:
		return "rpz-tcp-only.";
	case DW_ACT_SINKHOLE:
		return NULL;
	default: /* nxdomain; refuse has no RPZ encoding: the closest one */
		return ".";
	}
}

int dw_rpzfile_format(FILE *f, const struct dw_rpz_zone *z)
{
	size_t i;
	fprintf(f, "; dnswarden block list as a Response Policy Zone (rpz-client-ip triggers).\n"
	           "; Written by dnswarden: edits are overwritten at the next change.\n");
	fprintf(f, "%s %u IN SOA localhost. hostmaster.localhost. %u 60 30 604800 %u\n", z->zone,
	        RPZ_TTL, z->serial, RPZ_TTL);
	fprintf(f, "%s %u IN NS localhost.\n", z->zone, RPZ_TTL);
	for (i = 0; i < z->n; i++) {
		const struct dw_rpz_trigger *t = &z->t[i];
		char label[DW_RPZ_LABEL_MAX], client[DW_ADDR_STRLEN + 4], until[40], a[DW_ADDR_STRLEN];
		const char *cname = dw_rpz_cname_of((enum dw_action)t->action);
		if (dw_rpz_label(&t->key, label, sizeof(label)) != 0)
			continue;
		dw_cidr_format(&t->key, client, sizeof(client));
		if (t->expires)
			fmt_time(t->expires, until, sizeof(until));
		else
			snprintf(until, sizeof(until), "never");
		fprintf(f, "; client=%s action=%s%s detector=%s expires=%s offences=%u\n", client,
		        dw_action_name((enum dw_action)t->action),
		        t->action == DW_ACT_REFUSE ? " published=nxdomain" : "",
		        t->detector >= 0 ? dw_detector_name((enum dw_detector)t->detector) : "manual",
		        until, t->offences);
		if (cname) {
			fprintf(f, "%s.rpz-client-ip.%s %u IN CNAME %s\n", label, z->zone, RPZ_TTL,
			        cname);
			continue;
		}
		if (z->sink4.family == 4) {
			dw_addr_format(&z->sink4, a, sizeof(a));
			fprintf(f, "%s.rpz-client-ip.%s %u IN A %s\n", label, z->zone, RPZ_TTL, a);
		}
		if (z->sink6.family == 6) {
			dw_addr_format(&z->sink6, a, sizeof(a));
			fprintf(f, "%s.rpz-client-ip.%s %u IN AAAA %s\n", label, z->zone, RPZ_TTL, a);
		}
	}
	return ferror(f) ? -1 : 0;
}

uint32_t dw_rpzfile_next_serial(uint32_t last, int64_t now)
{
	uint32_t t = (uint32_t)now;
	/* RFC 1982: t is "greater" than last when 0 < t - last < 2^31 */
	uint32_t next = (uint32_t)(t - last) - 1u < 0x7fffffffu ? t : last + 1u;
	return next ? next : 1;
}

/* ---- reading ------------------------------------------------------------- */

/** Split line into at most max whitespace-separated words (comments cut). */
static size_t words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line, *c = strchr(line, ';');
	if (c)
		*c = '\0';
	while (*p && n < max) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/** Does name end with ".rpz-client-ip.ZONE"? Then *lablen is the length
 *  of the trigger label before it. Relative names count from zone. */
static int client_ip_owner(const char *name, const char *zone, size_t *lablen)
{
	static const char mid[] = ".rpz-client-ip.";
	size_t n = strlen(name), zl = strlen(zone), ml = sizeof(mid) - 1;
	if (n > 0 && name[n - 1] == '.') {
		if (n < zl + ml || strcasecmp(name + n - zl, zone) != 0)
			return 0;
		n -= zl;
	} else {
		/* relative: "LABEL.rpz-client-ip" */
		n += 1;
	}
	if (n < ml + 1 || strncasecmp(name + n - ml, mid, ml - 1) != 0)
		return 0;
	*lablen = n - ml;
	return 1;
}

/** Is w a class or TTL word (skipped between owner and type)? */
static int class_or_ttl(const char *w)
{
	if (!strcasecmp(w, "IN") || !strcasecmp(w, "CH") || !strcasecmp(w, "HS"))
		return 1;
	for (; *w; w++)
		if (!isdigit((unsigned char)*w) && !strchr("smhdwSMHDW", *w))
			return 0;
	return 1;
}

/** Was key already reported (sinkhole A then AAAA)? */
static int same_key(const struct dw_cidr *a, const struct dw_cidr *b)
{
	return a->len == b->len && dw_addr_equal(&a->addr, &b->addr);
}

int dw_rpz_action_of(const char *type, const char *rdata, enum dw_action *out)
{
	if (!strcasecmp(type, "CNAME")) {
		if (!strcmp(rdata, "."))
			*out = DW_ACT_NXDOMAIN;
		else if (!strcmp(rdata, "*."))
			*out = DW_ACT_NODATA;
		else if (!strcasecmp(rdata, "rpz-drop."))
			*out = DW_ACT_DROP;
		else if (!strcasecmp(rdata, "rpz-tcp-only."))
			*out = DW_ACT_TCP_ONLY;
		else
			return -1; /* passthru, or a rewrite we do not model */
		return 0;
	}
	if (!strcasecmp(type, "A") || !strcasecmp(type, "AAAA")) {
		*out = DW_ACT_SINKHOLE;
		return 0;
	}
	return -1;
}

int dw_rpzfile_records(const char *path, dw_rpz_record_fn fn, void *arg, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN], eb[128], owner[300] = "";
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[12];
		size_t n, i = 1;
		int continued = line[0] == ' ' || line[0] == '\t';
		if (!strchr(line, '\n') && !feof(f)) {
			int c; /* too long: skip the rest */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (line[0] == '$')
			continue;
		n = words(line, w, sizeof(w) / sizeof(w[0]));
		if (n == 0)
			continue;
		if (continued) {
			i = 0; /* owner as on the previous line */
		} else {
			snprintf(owner, sizeof(owner), "%s", w[0]);
		}
		while (i < n && class_or_ttl(w[i]))
			i++;
		if (i + 1 >= n)
			continue;
		if (fn(arg, owner, w, n, i) != 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/** dw_rpzfile_read()'s state between records. */
struct read_state {
	const char *zone;
	dw_rpz_trigger_fn fn;
	void *arg;
	uint32_t *serial;
	struct dw_cidr last;
	long count;
};

/** dw_rpzfile_read()'s record callback: the SOA serial, client-ip triggers. */
static int read_record(void *arg, const char *owner, char *const *w, size_t n, size_t i)
{
	struct read_state *st = arg;
	struct dw_cidr key;
	enum dw_action action;
	size_t lablen;
	if (!strcasecmp(w[i], "SOA")) {
		if (st->serial && n >= i + 4 &&
		    (!strcmp(owner, "@") || !strcasecmp(owner, st->zone)))
			*st->serial = (uint32_t)strtoul(w[i + 3], NULL, 10);
		return 0;
	}
	if (!client_ip_owner(owner, st->zone, &lablen) ||
	    dw_rpz_label_parse(owner, lablen, &key) != 0 ||
	    dw_rpz_action_of(w[i], w[i + 1], &action) != 0)
		return 0;
	if (action == DW_ACT_SINKHOLE && same_key(&key, &st->last))
		return 0;
	st->last = key;
	st->count++;
	return st->fn && st->fn(st->arg, &key, action) != 0;
}

long dw_rpzfile_read(const char *path, const char *zone, dw_rpz_trigger_fn fn, void *arg,
                     uint32_t *serial, char *err, size_t errlen)
{
	struct read_state st = {zone, fn, arg, serial, {.len = 255}, 0};
	if (serial)
		*serial = 0;
	if (dw_rpzfile_records(path, read_record, &st, err, errlen) < 0)
		return -1;
	return st.count;
}

int dw_rpzfile_read_serial(const char *path, const char *zone, uint32_t *serial)
{
	char err[256];
	return dw_rpzfile_read(path, zone, NULL, NULL, serial, err, sizeof(err)) < 0 || !*serial
	           ? -1
	           : 0;
}
