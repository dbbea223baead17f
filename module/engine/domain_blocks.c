/**
 * \file
 * Domain blocks on the module's thread (domain_blocks.h).
 */
#include "domain_blocks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "engine_int.h"
#include "feature.h"
#include "names.h"
#include "rpzfile.h"

/** A failed backend push is retried this often (ms). */
#define RETRY_MS 1000
/** The rate's bucket: domain_rate tokens an hour. */
#define RATE_PERIOD_S 3600

struct dw_domains {
	struct dw_domain_block b[DW_DOMAINS_MAX];
	size_t n;
	char **protect; /* the resolver's own zones (adapter) */
	size_t nprotect;
	uint64_t blocked, refused, expired, unblocked, changes;
	/* the rate: tokens (scaled by RATE_PERIOD_S) refilled with time */
	uint64_t tokens;
	int64_t tokens_at;
	int rate_init;
	int need_push;
	uint64_t retry_at_ms;
	uint64_t last_expire_ms;
	uint64_t last_err_ms; /* backend errors are logged once a minute */
};

static const char *const never_block[] = {DW_DOMAINS_NEVER_BLOCK};
static const char *const benign[] = {DW_NAMES_BENIGN};

struct dw_domains *dw_domains_new(void)
{
	return calloc(1, sizeof(struct dw_domains));
}

/** Free the protected names. */
static void protect_free(struct dw_domains *d)
{
	size_t i;
	for (i = 0; i < d->nprotect; i++)
		free(d->protect[i]);
	free(d->protect);
	d->protect = NULL;
	d->nprotect = 0;
}

void dw_domains_free(struct dw_domains *d)
{
	if (!d)
		return;
	protect_free(d);
	free(d);
}

int dw_domains_protect(struct dw_domains *d, const char *const *names, size_t n)
{
	size_t i;
	protect_free(d);
	if (n == 0)
		return 0;
	d->protect = calloc(n, sizeof(char *));
	if (!d->protect)
		return -1;
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		char *s = strdup(names[i]);
		if (!s)
			return -1;
		if (l > 1 && s[l - 1] == '.')
			s[l - 1] = '\0';
		for (l = 0; s[l]; l++)
			if (s[l] >= 'A' && s[l] <= 'Z')
				s[l] = (char)(s[l] | 0x20);
		d->protect[d->nprotect++] = s;
	}
	return 0;
}

/** Is a equal to b or under it ("x.b")? Both lower case, no final dot. */
static int at_or_under(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (bl == 0 || strcmp(b, ".") == 0)
		return 1; /* the root holds everything */
	if (bl > al || strcmp(a + al - bl, b) != 0)
		return 0;
	return al == bl || a[al - bl - 1] == '.';
}

/** Would blocking name touch p (equal, a parent or a subdomain of it)? */
static int touches(const char *name, const char *p)
{
	return at_or_under(name, p) || at_or_under(p, name);
}

/** A host name of at least two labels (letters, digits, '-', '_')? */
static int host_name(const char *s)
{
	size_t i, lab = 0, labels = 1;
	if (!s[0] || strlen(s) >= DW_DOMAIN_NAME_MAX)
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			labels++;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && labels >= 2;
}

/** Is name a public suffix (the registrable domain of "x.NAME" is all of
 *  it)? Without the list (no detector needs it) only single labels are. */
static int public_suffix(const struct dw_engine *e, const char *name)
{
	char x[DW_DOMAIN_NAME_MAX + 4];
	uint8_t wire[300];
	size_t off = 0;
	int len, labels;
	if (!e->regdom)
		return 0;
	snprintf(x, sizeof(x), "x.%s", name);
	len = dw_name_from_text(x, wire, sizeof(wire));
	if (len < 0)
		return 1;
	labels = dw_regdomain_of(e->regdom, wire, (size_t)len, &off);
	return labels <= 0;
}

/** dw_whitelist_foreach state: a nameserver under the domain that serves a
 *  zone outside it. */
struct ns_walk {
	const char *name;
	char ns[DW_DOMAIN_NAME_MAX], zone[DW_DOMAIN_NAME_MAX];
};

/** Copy a whitelist name (maybe with a final dot) lower case, no dot. */
static void plain(const char *in, char *out, size_t len)
{
	size_t i;
	snprintf(out, len, "%s", in);
	for (i = 0; out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] | 0x20);
	if (i > 1 && out[i - 1] == '.')
		out[i - 1] = '\0';
}

static int ns_one(void *arg, const struct dw_wl_view *v)
{
	struct ns_walk *w = arg;
	unsigned i, k;
	char ns[DW_DOMAIN_NAME_MAX], zone[DW_DOMAIN_NAME_MAX];
	for (i = 0; i < v->nnames; i++) {
		plain(v->names[i], ns, sizeof(ns));
		if (!at_or_under(ns, w->name))
			continue;
		for (k = 0; k < v->nzones; k++) {
			plain(v->zones[k], zone, sizeof(zone));
			if (!at_or_under(zone, w->name)) {
				snprintf(w->ns, sizeof(w->ns), "%s", ns);
				snprintf(w->zone, sizeof(w->zone), "%s", zone[0] ? zone : ".");
				return 1;
			}
		}
	}
	return 0;
}

/** First entry of list that blocking name touches, or NULL. */
static const char *touched(const char *name, const char *const *list, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (touches(name, list[i]))
			return list[i];
	return NULL;
}

int dw_domains_guard(struct dw_engine *e, const char *name, char *err, size_t errlen)
{
	const struct dw_conf *c = e->conf;
	const char *hit;
	char zone[DW_CONF_MAX_NAME + 2];
	struct ns_walk w;

	if (!host_name(name)) {
		snprintf(err, errlen,
		         "'%s' is not a domain of two or more labels of letters, digits, '-', '_'",
		         name);
		return -1;
	}
	if (public_suffix(e, name)) {
		snprintf(err, errlen,
		         "%s is a public suffix (Public Suffix List, public_suffixes:)", name);
		return -1;
	}
	if ((hit = touched(name, never_block, sizeof(never_block) / sizeof(never_block[0])))) {
		snprintf(err, errlen,
		         "%s is, holds or is under %s, on the built-in never-block list", name,
		         hit);
		return -1;
	}
	if ((hit = touched(name, (const char *const *)c->domain_never_block,
	                   c->domain_never_block_count))) {
		snprintf(err, errlen,
		         "%s is, holds or is under %s (detectors.dns_tunnel.never_block)", name,
		         hit);
		return -1;
	}
	if ((hit = touched(name, (const char *const *)c->tunnel_exempt, c->tunnel_exempt_count)) ||
	    (hit = touched(name, benign, sizeof(benign) / sizeof(benign[0])))) {
		snprintf(err, errlen,
		         "%s is, holds or is under %s, exempt from dns_tunnel (exempt_domains)",
		         name, hit);
		return -1;
	}
	plain(c->rpz_zone && c->rpz_zone[0] ? c->rpz_zone : "dnswarden.rpz.", zone, sizeof(zone));
	if (touches(name, zone)) {
		snprintf(err, errlen, "%s is, holds or is under the RPZ zone %s", name, zone);
		return -1;
	}
	if (e->domains &&
	    (hit = touched(name, (const char *const *)e->domains->protect, e->domains->nprotect))) {
		snprintf(err, errlen,
		         "%s is, holds or is under %s, a zone of the resolver's own configuration "
		         "(unbound.conf)",
		         name, hit);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.name = name;
	if (e->wl && dw_whitelist_foreach(e->wl, time(NULL), ns_one, &w)) {
		snprintf(err, errlen,
		         "%s holds nameserver %s of zone %s (NS/glue whitelist): blocking it would "
		         "cut that zone",
		         name, w.ns, w.zone);
		return -1;
	}
	return 0;
}

/** Index of name, or -1. */
static long find(const struct dw_domains *d, const char *name)
{
	size_t i;
	for (i = 0; i < d->n; i++)
		if (strcmp(d->b[i].name, name) == 0)
			return (long)i;
	return -1;
}

/** Take one token of the rate (domain_rate an hour, a burst of as many);
 *  1 when there was one. */
static int take_token(struct dw_engine *e, int64_t now)
{
	struct dw_domains *d = e->domains;
	uint64_t cap = (uint64_t)e->conf->tunnel_domain_rate * RATE_PERIOD_S;
	if (!d->rate_init) {
		d->rate_init = 1;
		d->tokens = cap;
		d->tokens_at = now;
	}
	if (now > d->tokens_at) {
		d->tokens += (uint64_t)(now - d->tokens_at) * e->conf->tunnel_domain_rate;
		if (d->tokens > cap)
			d->tokens = cap;
		d->tokens_at = now;
	}
	if (d->tokens < RATE_PERIOD_S)
		return 0;
	d->tokens -= RATE_PERIOD_S;
	return 1;
}

/** Push one block into the backend; 0, or -1 (retried by the tick). */
static int push(struct dw_engine *e, struct dw_domain_block *b)
{
	char err[256];
	const struct dw_domain_backend *db = e->dom_backend;
	int rc;
	if (!db) {
		b->applied = 0;
		return 0; /* only in the zone file */
	}
	rc = db->set(db->ctx, b->name, (enum dw_action)b->action, e->conf, err, sizeof(err));
	if (rc != 0) {
		e->domains->need_push = 1;
		e->domains->retry_at_ms = dw_mono_ms() + RETRY_MS;
		if (rc == DW_DOMAIN_NOT_READY)
			return -1; /* the zone file holds it until Unbound loads the zone */
		e->backend_errors++;
		if (e->domains->last_err_ms && dw_mono_ms() - e->domains->last_err_ms < 60000)
			return -1;
		e->domains->last_err_ms = dw_mono_ms();
		dw_emit(e, dw_mono_ms(), LOG_ERR,
		        "dnswarden: event=backend_error backend=rpz op=set_domain domain=%s "
		        "error=\"%s\"",
		        b->name, err);
		return -1;
	}
	b->applied = 1;
	return 0;
}

/** Take one block out of the backend. */
static void withdraw(struct dw_engine *e, const struct dw_domain_block *b)
{
	char err[256];
	const struct dw_domain_backend *db = e->dom_backend;
	if (!db)
		return;
	if (db->clear(db->ctx, b->name, err, sizeof(err)) != 0) {
		e->backend_errors++;
		dw_emit(e, dw_mono_ms(), LOG_ERR,
		        "dnswarden: event=backend_error backend=rpz op=clear_domain domain=%s "
		        "error=\"%s\"",
		        b->name, err);
	}
}

/** The incident row of a domain block's event (incident_events.h). */
static void row(struct dw_engine *e, enum dw_inc_event ev, const struct dw_domain_block *b,
                const struct dw_addr *client, const char *by)
{
	int64_t off = dw_block_wall_offset(e);
	struct dw_inc_domain_info d = {
	    .detector = b->detector,
	    .action = b->action,
	    .duration = b->expires ? (uint32_t)(b->expires - b->created) : 0,
	    .expires = b->expires ? b->expires + off : 0,
	    .since = ev == DW_INC_BLOCK_DOMAIN ? 0 : b->created + off,
	    .by = by,
	};
	dw_incident_domain(e, ev, b->name, client, &d);
}

/** Remove entry i (order kept: list_domains shows creation order). */
static void drop_at(struct dw_domains *d, size_t i)
{
	memmove(&d->b[i], &d->b[i + 1], (d->n - i - 1) * sizeof(d->b[0]));
	d->n--;
	d->changes++;
}

/** dw_domains_block() for the verdict of client (NULL: by hand). */
static int block_for(struct dw_engine *e, const char *name, uint32_t duration,
                     enum dw_action action, int detector, const char *by,
                     const struct dw_addr *client, struct dw_domain_block *out, char *err,
                     size_t errlen)
{
	struct dw_domains *d = e->domains;
	struct dw_domain_block *b;
	int64_t now = dw_block_clock(e);
	char until[32];
	long i;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (action == DW_ACT_LOG || action == DW_ACT_REFUSE || action == DW_ACT_TCP_ONLY ||
	    action >= DW_ACT_COUNT) {
		snprintf(err, errlen, "a domain block is nxdomain, nodata, sinkhole or drop");
		return -1;
	}
	if (e->conf->mode != DW_MODE_ENFORCE) {
		snprintf(err, errlen, "mode is observe: nothing is blocked (mode: enforce)");
		return -1;
	}
	if (dw_domains_guard(e, name, err, errlen) != 0)
		return -1;
	i = find(d, name);
	if (i < 0) {
		if (d->n == DW_DOMAINS_MAX) {
			snprintf(err, errlen, "the domain block list is full (%u)", DW_DOMAINS_MAX);
			return -1;
		}
		if (detector >= 0 && !take_token(e, now)) {
			snprintf(err, errlen,
			         "more than %u new domain blocks this hour "
			         "(detectors.dns_tunnel.domain_rate)",
			         e->conf->tunnel_domain_rate);
			return -1;
		}
		i = (long)d->n++;
		memset(&d->b[i], 0, sizeof(d->b[i]));
		snprintf(d->b[i].name, sizeof(d->b[i].name), "%s", name);
		d->b[i].created = now;
	} else if (d->b[i].applied && d->b[i].action != (uint8_t)action) {
		withdraw(e, &d->b[i]);
		d->b[i].applied = 0;
	}
	b = &d->b[i];
	b->action = (uint8_t)action;
	b->detector = (int8_t)detector;
	b->expires = duration ? now + duration : 0;
	d->blocked++;
	d->changes++;
	e->dirty = 1;
	if (b->expires)
		dw_format_block_time(e, b->expires, until, sizeof(until));
	else
		snprintf(until, sizeof(until), "never");
	{
		char line[768];
		snprintf(line, sizeof(line),
		         "dnswarden: event=block_domain domain=%s action=%s duration=%u expires=%s "
		         "reason=%s backend=%s",
		         b->name, dw_action_name(action), duration, until, by ? by : "manual",
		         e->dom_backend ? "rpz" : "zonefile");
		if (detector >= 0)
			dw_emit(e, dw_mono_ms(), LOG_NOTICE, "%s", line);
		else
			dw_emit_audit(e, LOG_NOTICE, "%s", line);
	}
	{
		struct dw_domain_block r = *b;
		r.created = now; /* a renewed block: its duration counts from now */
		row(e, DW_INC_BLOCK_DOMAIN, &r, client, by ? by : "manual");
	}
	push(e, b);
	if (out)
		*out = *b;
	return 0;
}

int dw_domains_block(struct dw_engine *e, const char *name, uint32_t duration,
                     enum dw_action action, int detector, const char *by,
                     struct dw_domain_block *out, char *err, size_t errlen)
{
	return block_for(e, name, duration, action, detector, by, NULL, out, err, errlen);
}

int dw_domains_unblock(struct dw_engine *e, const char *name, const char *by)
{
	struct dw_domains *d = e->domains;
	long i = d ? find(d, name) : -1;
	if (i < 0)
		return 0;
	row(e, DW_INC_UNBLOCK_DOMAIN, &d->b[i], NULL, by ? by : "manual");
	withdraw(e, &d->b[i]);
	drop_at(d, (size_t)i);
	d->unblocked++;
	e->dirty = 1;
	dw_emit_audit(e, LOG_NOTICE, "dnswarden: event=unblock_domain domain=%s by=%s", name,
	              by ? by : "manual");
	return 1;
}

void dw_domains_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms)
{
	const struct dw_conf *c = e->conf;
	enum dw_action a = c->tunnel_domain_action;
	char err[512], client[DW_ADDR_STRLEN];
	struct dw_inc_domain_info info = {.detector = DW_DET_DNS_TUNNEL,
	                                  .action = (int)a,
	                                  .duration = c->tunnel_domain_duration,
	                                  .by = "detector:dns_tunnel"};
	if (v->detector != DW_DET_DNS_TUNNEL || a == DW_ACT_LOG || !v->name[0] || !e->domains)
		return;
	dw_addr_format(&v->client, client, sizeof(client));
	if (c->mode != DW_MODE_ENFORCE) {
		/* observe: what would be blocked, if the guard lets it */
		if (dw_domains_guard(e, v->name, err, sizeof(err)) != 0) {
			e->domains->refused++;
			dw_emit(e, now_ms, LOG_NOTICE,
			        "dnswarden: event=domain_block_refused domain=%s client=%s "
			        "detector=dns_tunnel mode=observe error=\"%s\"",
			        v->name, client, err);
			info.error = err;
			dw_incident_domain(e, DW_INC_DOMAIN_REFUSED, v->name, &v->client, &info);
			return;
		}
		dw_emit(e, now_ms, LOG_NOTICE,
		        "dnswarden: event=would_block_domain domain=%s action=%s duration=%u "
		        "client=%s detector=dns_tunnel",
		        v->name, dw_action_name(a), c->tunnel_domain_duration, client);
		dw_incident_domain(e, DW_INC_WOULD_BLOCK_DOMAIN, v->name, &v->client, &info);
		return;
	}
	if (find(e->domains, v->name) >= 0)
		return; /* already blocked: another client of the same C2 */
	if (block_for(e, v->name, c->tunnel_domain_duration, a, DW_DET_DNS_TUNNEL,
	              "detector:dns_tunnel", &v->client, NULL, err, sizeof(err)) != 0) {
		e->domains->refused++;
		dw_emit(
		    e, now_ms, LOG_WARNING,
		    "dnswarden: event=domain_block_refused domain=%s client=%s detector=dns_tunnel "
		    "error=\"%s\"",
		    v->name, client, err);
		info.error = err;
		dw_incident_domain(e, DW_INC_DOMAIN_REFUSED, v->name, &v->client, &info);
	}
}

void dw_domains_resync(struct dw_engine *e)
{
	size_t i;
	if (!e->domains)
		return;
	for (i = 0; i < e->domains->n; i++)
		e->domains->b[i].applied = 0;
	e->domains->need_push = e->domains->n > 0;
}

void dw_domains_tick(struct dw_engine *e, uint64_t now_ms)
{
	struct dw_domains *d = e->domains;
	size_t i;
	if (!d)
		return;
	if (now_ms - d->last_expire_ms >= 1000) {
		int64_t now = dw_block_clock(e);
		d->last_expire_ms = now_ms;
		for (i = 0; i < d->n;) {
			struct dw_domain_block b = d->b[i];
			if (!b.expires || b.expires > now) {
				i++;
				continue;
			}
			row(e, DW_INC_EXPIRE_DOMAIN, &b, NULL, "expiry");
			withdraw(e, &b);
			drop_at(d, i);
			d->expired++;
			e->dirty = 1;
			dw_emit(e, now_ms, LOG_NOTICE,
			        "dnswarden: event=expire_domain domain=%s action=%s reason=%s",
			        b.name, dw_action_name((enum dw_action)b.action),
			        b.detector >= 0 ? dw_detector_name((enum dw_detector)b.detector)
			                        : "manual");
		}
	}
	if (d->need_push && now_ms >= d->retry_at_ms) {
		d->need_push = 0;
		for (i = 0; i < d->n; i++)
			if (!d->b[i].applied && push(e, &d->b[i]) != 0)
				break;
	}
}

size_t dw_domains_count(const struct dw_domains *d)
{
	return d ? d->n : 0;
}

void dw_domains_counters(const struct dw_domains *d, uint64_t *blocked, uint64_t *refused,
                         uint64_t *expired, uint64_t *unblocked)
{
	*blocked = d ? d->blocked : 0;
	*refused = d ? d->refused : 0;
	*expired = d ? d->expired : 0;
	*unblocked = d ? d->unblocked : 0;
}

uint64_t dw_domains_sig(const struct dw_domains *d)
{
	return d ? d->changes : 0;
}

int dw_domains_get(const struct dw_domains *d, size_t i, struct dw_domain_block *out)
{
	if (!d || i >= d->n)
		return -1;
	*out = d->b[i];
	return 0;
}

int dw_domains_format_zone(struct dw_engine *e, FILE *f, const char *zone)
{
	struct dw_domains *d = e->domains;
	size_t i;
	int w;
	if (!d || e->conf->mode != DW_MODE_ENFORCE)
		return 0;
	for (i = 0; i < d->n; i++) {
		const struct dw_domain_block *b = &d->b[i];
		const char *cname = dw_rpz_cname_of((enum dw_action)b->action);
		char until[32], a[DW_ADDR_STRLEN];
		if (b->expires)
			dw_format_block_time(e, b->expires, until, sizeof(until));
		else
			snprintf(until, sizeof(until), "never");
		fprintf(f, "; domain=%s action=%s detector=%s expires=%s\n", b->name,
		        dw_action_name((enum dw_action)b->action),
		        b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector)
		                         : "manual",
		        until);
		for (w = 0; w < 2; w++) {
			const char *pre = w ? "*." : "";
			if (cname) {
				fprintf(f, "%s%s.%s 60 IN CNAME %s\n", pre, b->name, zone, cname);
				continue;
			}
			if (e->conf->sinkhole_v4.family == 4) {
				dw_addr_format(&e->conf->sinkhole_v4, a, sizeof(a));
				fprintf(f, "%s%s.%s 60 IN A %s\n", pre, b->name, zone, a);
			}
			if (e->conf->sinkhole_v6.family == 6) {
				dw_addr_format(&e->conf->sinkhole_v6, a, sizeof(a));
				fprintf(f, "%s%s.%s 60 IN AAAA %s\n", pre, b->name, zone, a);
			}
		}
	}
	return ferror(f) ? -1 : 0;
}

void dw_domains_state_save(void *arg, FILE *f)
{
	struct dw_engine *e = arg;
	struct dw_domains *d = e->domains;
	int64_t off = dw_block_wall_offset(e);
	size_t i;
	for (i = 0; d && i < d->n; i++) {
		const struct dw_domain_block *b = &d->b[i];
		fprintf(
		    f, "domain %s action=%s detector=%s created=%" PRId64 " expires=%" PRId64 "\n",
		    b->name, dw_action_name((enum dw_action)b->action),
		    b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector) : "manual",
		    b->created + off, b->expires ? b->expires + off : 0);
	}
}

int dw_domains_state_load_line(void *arg, const char *line, char *err, size_t errlen)
{
	struct dw_engine *e = arg;
	struct dw_domains *d = e->domains;
	char name[DW_DOMAIN_NAME_MAX], act[16], det[32];
	long long created, expires;
	int64_t off = dw_block_wall_offset(e), now = dw_block_clock(e);
	int action, detector = -1;
	struct dw_domain_block *b;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sscanf(line, "domain %253s action=%15s detector=%31s created=%lld expires=%lld", name,
	           act, det, &created, &expires) != 5 ||
	    !host_name(name)) {
		snprintf(err, errlen, "bad domain line");
		return -1;
	}
	action = dw_action_from_name(act);
	if (action != DW_ACT_NXDOMAIN && action != DW_ACT_NODATA && action != DW_ACT_SINKHOLE &&
	    action != DW_ACT_DROP) {
		snprintf(err, errlen, "bad domain action '%s'", act);
		return -1;
	}
	if (strcmp(det, "manual") != 0 && (detector = dw_detector_from_name(det)) < 0) {
		snprintf(err, errlen, "bad domain detector '%s'", det);
		return -1;
	}
	if (expires && expires - off <= now)
		return 0; /* ran out while we were down */
	if (find(d, name) >= 0)
		return 0;
	if (d->n == DW_DOMAINS_MAX)
		return 1;
	b = &d->b[d->n++];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->action = (uint8_t)action;
	b->detector = (int8_t)detector;
	b->created = (int64_t)created - off;
	b->expires = expires ? (int64_t)expires - off : 0;
	d->changes++;
	d->need_push = 1;
	return 0;
}
