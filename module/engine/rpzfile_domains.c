/**
 * \file
 * The QNAME triggers of an RPZ zone file (rpzfile_domains.h).
 */
#include "rpzfile_domains.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"

/** Longest line read; longer ones are skipped. */
#define LINE_MAX_LEN 4096
/** Longest domain (presentation, no final dot) plus its NUL. */
#define NAME_MAX_LEN 254

/** Split line into blank-separated words (comments cut); the count. */
static size_t split(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line, *c = strchr(line, ';');
	if (c)
		*c = '\0';
	while (*p && n < max) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		w[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/** A class or TTL word (between owner and type)? */
static int class_or_ttl(const char *w)
{
	if (!strcasecmp(w, "IN") || !strcasecmp(w, "CH") || !strcasecmp(w, "HS"))
		return 1;
	for (; *w; w++)
		if (!isdigit((unsigned char)*w) && !strchr("smhdwSMHDW", *w))
			return 0;
	return 1;
}

/** The domain of a QNAME trigger owner into out (lower case, no "*.", no
 *  zone): 0, or -1 when owner is the apex, outside zone, another trigger
 *  kind or not a host name. */
static int domain_of(const char *owner, const char *zone, char *out, size_t len)
{
	size_t n = strlen(owner), zl = strlen(zone), i;
	const char *p = owner;
	if (!strcmp(owner, "@"))
		return -1;
	if (n && owner[n - 1] == '.') {
		if (n <= zl + 1 || strcasecmp(owner + n - zl, zone) != 0 ||
		    owner[n - zl - 1] != '.')
			return -1;
		n -= zl + 1;
	}
	if (n >= 2 && p[0] == '*' && p[1] == '.')
		p += 2, n -= 2;
	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)p[i]);
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	if (out[0] == '.' || out[n - 1] == '.' || strstr(out, "..")) /* an empty label */
		return -1;
	/* another kind of trigger: a label rpz-client-ip, rpz-ip, rpz-nsdname, ... */
	for (p = out; p; p = strchr(p, '.'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "rpz-", 4))
			return -1;
	return 0;
}

long dw_rpzfile_read_domains(const char *path, const char *zone, dw_rpz_domain_fn fn, void *arg,
                             char *err, size_t errlen)
{
	char line[LINE_MAX_LEN], eb[128], owner[300] = "", dom[NAME_MAX_LEN];
	FILE *f = fopen(path, "re");
	long count = 0;
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		         dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[12];
		size_t n, i = 1;
		int continued = line[0] == ' ' || line[0] == '\t';
		enum dw_action action;
		const char *type, *rdata;
		if (!strchr(line, '\n') && !feof(f)) {
			int c; /* too long: skip the rest */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (line[0] == '$')
			continue;
		n = split(line, w, sizeof(w) / sizeof(w[0]));
		if (n == 0)
			continue;
		if (continued)
			i = 0;
		else
			snprintf(owner, sizeof(owner), "%s", w[0]);
		while (i < n && class_or_ttl(w[i]))
			i++;
		if (i + 1 >= n)
			continue;
		type = w[i];
		rdata = w[i + 1];
		if (!strcasecmp(type, "CNAME")) {
			if (!strcmp(rdata, "."))
				action = DW_ACT_NXDOMAIN;
			else if (!strcmp(rdata, "*."))
				action = DW_ACT_NODATA;
			else if (!strcasecmp(rdata, "rpz-drop."))
				action = DW_ACT_DROP;
			else if (!strcasecmp(rdata, "rpz-tcp-only."))
				action = DW_ACT_TCP_ONLY;
			else
				continue; /* passthru, or a rewrite we do not model */
		} else if (!strcasecmp(type, "A") || !strcasecmp(type, "AAAA")) {
			action = DW_ACT_SINKHOLE;
		} else {
			continue;
		}
		if (domain_of(owner, zone, dom, sizeof(dom)) != 0)
			continue;
		count++;
		if (fn && fn(arg, dom, action) != 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return count;
}
