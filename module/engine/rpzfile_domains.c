/**
 * \file
 * The QNAME triggers of an RPZ zone file (rpzfile_domains.h).
 */
#include "rpzfile_domains.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "rpzfile.h"

/** Longest domain (presentation, no final dot) plus its NUL. */
#define NAME_MAX_LEN 254

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

/** dw_rpzfile_read_domains()'s state between records. */
struct domains_state {
	const char *zone;
	dw_rpz_domain_fn fn;
	void *arg;
	long count;
};

/** dw_rpzfile_read_domains()'s record callback: one QNAME trigger. */
static int domain_record(void *arg, const char *owner, char *const *w, size_t n, size_t i)
{
	struct domains_state *st = arg;
	char dom[NAME_MAX_LEN];
	enum dw_action action;
	(void)n;
	if (dw_rpz_action_of(w[i], w[i + 1], &action) != 0 ||
	    domain_of(owner, st->zone, dom, sizeof(dom)) != 0)
		return 0;
	st->count++;
	return st->fn && st->fn(st->arg, dom, action) != 0;
}

long dw_rpzfile_read_domains(const char *path, const char *zone, dw_rpz_domain_fn fn, void *arg,
                             char *err, size_t errlen)
{
	struct domains_state st = {zone, fn, arg, 0};
	if (dw_rpzfile_records(path, domain_record, &st, err, errlen) < 0)
		return -1;
	return st.count;
}
