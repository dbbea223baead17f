/**
 * \file
 * The whitelist's saved lines (whitelist.h, dw_whitelist_save() and
 * dw_whitelist_load*()): what the state file keeps of it across restarts.
 *
 * Saved line format (the state file; one line each, fields separated by one
 * space, lists by commas, "-" for an empty list; names never contain ' ',
 * ',', '@' or '=' because learn() accepts only [a-z0-9_-], '.' and \DDD):
 *
 *   wl addr ADDR first=UNIX last=UNIX src=query,glue,resolved ns=N1,N2 zones=Z1@UNIX,Z2@UNIX
 *   wl ns NSNAME last=UNIX zones=Z1@UNIX,Z2@UNIX
 *
 * (zone expiries are absolute unix seconds). Unknown key=value fields are
 * ignored, so later versions can add some; an unknown record kind after
 * "wl " is an error for that line only.
 */
#include "whitelist_int.h"
#include "errbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void save_zones(FILE *f, const struct wl_zref *z, unsigned n, time_t now)
{
	unsigned i, k = 0;

	fputs(" zones=", f);
	for (i = 0; i < n; i++) {
		if (z[i].expires <= now)
			continue;
		fprintf(f, "%s%s@%" PRId64, k++ ? "," : "", z[i].zone->s, (int64_t)z[i].expires);
	}
	if (k == 0)
		fputc('-', f);
}

static bool zones_live(const struct wl_zref *z, unsigned n, time_t now)
{
	for (unsigned i = 0; i < n; i++)
		if (z[i].expires > now)
			return true;
	return false;
}

static void save_entry(const struct dw_whitelist *wl, const struct wl_entry *e, FILE *f)
{
	char a[DW_ADDR_STRLEN], src[48];
	unsigned j;

	if (!zones_live(e->zones, e->nzones, wl->now))
		return; /* a static never learned, or nothing left */
	dw_addr_format(&e->addr, a, sizeof(a));
	fprintf(f, "wl addr %s first=%" PRId64 " last=%" PRId64 " src=%s ns=", a,
	        (int64_t)e->first_seen, (int64_t)e->it.last,
	        dw_whitelist_src_text(e->src & 0x0eu, src, sizeof(src)));
	for (j = 0; j < e->nnames; j++)
		fprintf(f, "%s%s", j ? "," : "", e->names[j]->s);
	if (e->nnames == 0)
		fputc('-', f);
	save_zones(f, e->zones, e->nzones, wl->now);
	fputc('\n', f);
}

static int ns_ptr_cmp(const void *x, const void *y)
{
	const struct wl_ns *a = *(const struct wl_ns *const *)x;
	const struct wl_ns *b = *(const struct wl_ns *const *)y;
	return strcmp(a->name->s, b->name->s);
}

void dw_whitelist_save(struct dw_whitelist *wl, FILE *f)
{
	size_t n, i;
	struct wl_entry **v = dw_wl_sorted_entries(wl, wl->now, &n);
	struct wl_item **nv;

	if (v == NULL && n == SIZE_MAX) { /* no memory to sort: hash order */
		for (i = 0; i < wl->nebuckets; i++)
			for (const struct wl_entry *e = wl->ebuckets[i]; e; e = e->hnext)
				save_entry(wl, e, f);
	}
	for (i = 0; v && i < n; i++)
		save_entry(wl, v[i], f);
	free(v);
	/* the nameserver map, by name (heap order when there is no memory) */
	n = wl->nheap.n;
	nv = n ? malloc(n * sizeof(*nv)) : NULL;
	if (nv) {
		memcpy(nv, wl->nheap.a, n * sizeof(*nv));
		qsort(nv, n, sizeof(*nv), ns_ptr_cmp);
	}
	for (i = 0; i < n; i++) {
		const struct wl_ns *ns =
		    (const struct wl_ns *)(const void *)(nv ? nv : wl->nheap.a)[i];
		if (!zones_live(ns->zones, ns->nzones, wl->now))
			continue;
		fprintf(f, "wl ns %s last=%" PRId64, ns->name->s, (int64_t)ns->it.last);
		save_zones(f, ns->zones, ns->nzones, wl->now);
		fputc('\n', f);
	}
	free(nv);
}

void dw_whitelist_state_save(void *arg, FILE *f)
{
	dw_whitelist_save(arg, f);
}

/* One parsed saved line, names pointing into a private copy of it. */
struct parsed {
	int kind; /* 1 addr, 2 ns */
	struct dw_addr addr;
	char *nsname; /* kind 2 */
	int64_t first, last;
	unsigned src;
	unsigned nnames;
	char *names[DW_WL_MAX_NAMES];
	unsigned nzones;
	char *zones[DW_WL_MAX_ZONES];
	int64_t zexp[DW_WL_MAX_ZONES];
};

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* A name token, normalised in place (same length or shorter). */
static int parse_name(char *s)
{
	char tmp[DW_WL_NAME_MAX + 1];
	size_t n = strlen(s);
	int l;

	if (n > DW_WL_NAME_MAX)
		return -1;
	l = dw_wl_name_norm(s, n + 1, tmp);
	if (l < 0)
		return -1;
	memcpy(s, tmp, (size_t)l + 1);
	return 0;
}

static int parse_zones(char *val, struct parsed *p, char *err, size_t errlen)
{
	char *save = NULL, *tok;

	if (strcmp(val, "-") == 0)
		return 0;
	for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strrchr(tok, '@');
		if (at == NULL || p->nzones == DW_WL_MAX_ZONES) {
			dw_set_err(err, errlen, "bad zones list near '%.40s'", tok);
			return -1;
		}
		*at = '\0';
		if (parse_name(tok) != 0 || parse_i64(at + 1, &p->zexp[p->nzones]) != 0) {
			dw_set_err(err, errlen, "bad zone '%.40s'", tok);
			return -1;
		}
		p->zones[p->nzones++] = tok;
	}
	return 0;
}

/* src=query,glue,resolved ("static" is accepted and ignored). */
static int parse_src(char *val, unsigned *src)
{
	char *save = NULL, *w;

	if (strcmp(val, "-") == 0)
		return 0;
	for (w = strtok_r(val, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "query") == 0)
			*src |= DW_WL_SRC_QUERY;
		else if (strcmp(w, "glue") == 0)
			*src |= DW_WL_SRC_GLUE;
		else if (strcmp(w, "resolved") == 0)
			*src |= DW_WL_SRC_RESOLVED;
		else if (strcmp(w, "static") != 0)
			return -1;
	}
	return 0;
}

/* ns=N1,N2 */
static int parse_names(char *val, struct parsed *p)
{
	char *save = NULL, *w;

	if (strcmp(val, "-") == 0)
		return 0;
	for (w = strtok_r(val, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (p->nnames == DW_WL_MAX_NAMES || parse_name(w) != 0)
			return -1;
		p->names[p->nnames++] = w;
	}
	return 0;
}

/* One key=value field of a saved line: 0, or -1 with err. */
static int parse_field(char *tok, struct parsed *p, char *err, size_t errlen)
{
	char *eq = strchr(tok, '=');
	char *val;
	int rc = 0;

	if (eq == NULL) {
		dw_set_err(err, errlen, "field without '=': '%.40s'", tok);
		return -1;
	}
	*eq = '\0';
	val = eq + 1;
	if (strcmp(tok, "first") == 0 && p->kind == 1)
		rc = parse_i64(val, &p->first);
	else if (strcmp(tok, "last") == 0)
		rc = parse_i64(val, &p->last);
	else if (strcmp(tok, "src") == 0 && p->kind == 1)
		rc = parse_src(val, &p->src);
	else if (strcmp(tok, "ns") == 0 && p->kind == 1)
		rc = parse_names(val, p);
	else if (strcmp(tok, "zones") == 0)
		return parse_zones(val, p, err, errlen);
	/* anything else: a field of a later version, ignored */
	if (rc != 0)
		dw_set_err(err, errlen, "bad %s field", tok);
	return rc;
}

static int parse_line(char *line, struct parsed *p, char *err, size_t errlen)
{
	char *save = NULL, *tok, *kind;
	size_t n = strlen(line);

	memset(p, 0, sizeof(*p));
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	tok = strtok_r(line, " ", &save);
	kind = strtok_r(NULL, " ", &save);
	if (tok == NULL || strcmp(tok, "wl") != 0 || kind == NULL) {
		dw_set_err(err, errlen, "not a whitelist line");
		return -1;
	}
	tok = strtok_r(NULL, " ", &save);
	if (tok == NULL) {
		dw_set_err(err, errlen, "whitelist line without a key");
		return -1;
	}
	if (strcmp(kind, "addr") == 0) {
		p->kind = 1;
		if (dw_addr_parse(tok, &p->addr) != 0 || !dw_wl_addr_usable(&p->addr)) {
			dw_set_err(err, errlen, "bad address '%.64s'", tok);
			return -1;
		}
	} else if (strcmp(kind, "ns") == 0) {
		p->kind = 2;
		if (parse_name(tok) != 0) {
			dw_set_err(err, errlen, "bad NS name '%.64s'", tok);
			return -1;
		}
		p->nsname = tok;
	} else {
		dw_set_err(err, errlen, "unknown whitelist record '%.20s'", kind);
		return -1;
	}
	while ((tok = strtok_r(NULL, " ", &save)) != NULL)
		if (parse_field(tok, p, err, errlen) != 0)
			return -1;
	if (p->last <= 0) {
		dw_set_err(err, errlen, "whitelist line without last=");
		return -1;
	}
	if (p->first <= 0 || p->first > p->last)
		p->first = p->last;
	if (p->nzones == 0) {
		dw_set_err(err, errlen, "whitelist line without zones");
		return -1;
	}
	return 0;
}

/* Learn each zone of a parsed line (as of its last= time): for the NS name
 * nsname ("wl ns"), or for the line's address when nsname is NULL. A zone
 * that had expired by the latest time loaded so far (wl->now) is dead and
 * skipped: learning it would let the order of the lines decide what is kept
 * (each learn prunes at its own time), and a save would not load back the
 * same (found by t/fuzz/fuzz_state.c). */
static int apply_zones(struct dw_whitelist *wl, const struct parsed *p, struct wl_name *nsname)
{
	int rc = 0;

	for (unsigned i = 0; i < p->nzones && rc >= 0; i++) {
		if ((time_t)p->zexp[i] <= wl->now)
			continue;
		struct wl_name *z = dw_wl_name_get(wl, p->zones[i], strlen(p->zones[i]));
		if (z == NULL)
			return -1;
		if (nsname != NULL)
			rc = dw_wl_ns_learn(wl, nsname, z, (time_t)p->zexp[i], (time_t)p->last);
		else
			rc = dw_wl_entry_learn(wl, &p->addr, z, (time_t)p->zexp[i], NULL, p->src,
			                       (time_t)p->last);
		dw_wl_name_unref(wl, z);
	}
	return rc;
}

/* Apply a parsed line: as learning would have, at the line's last= time. */
static int apply_line(struct dw_whitelist *wl, const struct parsed *p, char *err, size_t errlen)
{
	struct wl_name *name;
	struct wl_entry *e;
	int rc;

	if (p->kind == 2) {
		name = dw_wl_name_get(wl, p->nsname, strlen(p->nsname));
		if (name == NULL)
			goto nomem;
		rc = apply_zones(wl, p, name);
		dw_wl_name_unref(wl, name);
		if (rc < 0)
			goto nomem;
		return 0;
	}
	if (apply_zones(wl, p, NULL) < 0)
		goto nomem;
	e = dw_wl_entry_find(wl, &p->addr);
	if (e == NULL)
		return 0; /* refused: the table is full of longer-lived entries */
	for (unsigned i = p->nnames; i-- > 0;) { /* the first saved ends up first */
		name = dw_wl_name_get(wl, p->names[i], strlen(p->names[i]));
		if (name == NULL)
			goto nomem;
		dw_wl_names_put(wl, e->names, &e->nnames, name);
		dw_wl_name_unref(wl, name);
	}
	if (e->first_seen == 0 || p->first < e->first_seen)
		e->first_seen = (time_t)p->first;
	return 0;
nomem:
	dw_set_err(err, errlen, "out of memory");
	return -1;
}

int dw_whitelist_load_line(struct dw_whitelist *wl, const char *line, char *err, size_t errlen)
{
	char buf[DW_WL_LINE_MAX];
	struct parsed p;
	size_t n = strlen(line);
	int rc;

	if (n >= sizeof(buf)) {
		dw_set_err(err, errlen, "whitelist line too long");
		return -1;
	}
	memcpy(buf, line, n + 1);
	if (parse_line(buf, &p, err, errlen) != 0)
		return -1;
	if ((time_t)p.last > wl->now) /* as learning at that time would */
		wl->now = (time_t)p.last;
	rc = apply_line(wl, &p, err, errlen);
	dw_wl_enforce_budget(wl);
	return rc;
}

int dw_whitelist_state_load_line(void *arg, const char *line, char *err, size_t errlen)
{
	return dw_whitelist_load_line(arg, line, err, errlen);
}

int dw_whitelist_load(struct dw_whitelist *wl, FILE *f, char *err, size_t errlen)
{
	char line[DW_WL_LINE_MAX], why[256];
	unsigned long lineno = 0, bad = 0, first_bad = 0;
	char first_why[256] = "";
	bool skipping = false;

	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		bool whole = n && line[n - 1] == '\n';
		if (!skipping)
			lineno++;
		if (skipping) { /* rest of an over-long line */
			skipping = !whole && !feof(f);
			continue;
		}
		if (!whole && !feof(f)) {
			skipping = true;
			if (strncmp(line, "wl ", 3) == 0 && bad++ == 0) {
				first_bad = lineno;
				snprintf(first_why, sizeof(first_why), "line too long");
			}
			continue;
		}
		if (strncmp(line, "wl ", 3) != 0)
			continue;
		if (dw_whitelist_load_line(wl, line, why, sizeof(why)) != 0 && bad++ == 0) {
			first_bad = lineno;
			snprintf(first_why, sizeof(first_why), "%s", why);
		}
	}
	if (ferror(f)) {
		dw_set_err(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	if (bad) {
		dw_set_err(err, errlen, "line %lu: %s (%lu bad whitelist line%s skipped)",
		           first_bad, first_why, bad, bad == 1 ? "" : "s");
		return -1;
	}
	return 0;
}
