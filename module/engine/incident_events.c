/**
 * \file
 * What goes into the incident history (incidents.h) at each event the
 * module's thread emits: verdicts with their evidence (counts per class in
 * the evidence window, the last distinct names, GeoIP), blocks with their
 * ladder step, unblocks, expiries, exemption changes, and who acted for
 * manual changes. Everything here runs on the module's own thread; the
 * workers only ever pushed the verdict into the verdict ring.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "errbuf.h"
#include "incident_events.h"

/** Append s as a JSON string (quoted, escaped). */
static void put_str(char *buf, size_t len, size_t *n, const char *s)
{
	dw_appendf(buf, len, n, "\"");
	for (; *s && *n < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			dw_appendf(buf, len, n, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			dw_appendf(buf, len, n, "\\u%04x", c);
		else
			dw_appendf(buf, len, n, "%c", c);
	}
	dw_appendf(buf, len, n, "\"");
}

/** Close the object; a buffer that ran full is replaced by a marker object
 *  (the row is kept, its evidence says it was too long). */
static void finish(char *buf, size_t len, size_t *n)
{
	dw_appendf(buf, len, n, "}");
	if (*n >= len - 1)
		snprintf(buf, len, "{\"truncated\":true}");
}

/** The fields every row shares: time, mode, backend, the client's GeoIP. */
static void base(struct dw_engine *e, struct dw_incident *r, enum dw_inc_event ev,
		 const struct dw_addr *client, unsigned prefix)
{
	struct dw_geo geo;
	memset(r, 0, offsetof(struct dw_incident, evidence));
	r->evidence[0] = '\0';
	r->domain[0] = '\0';
	r->time = (int64_t)time(NULL);
	r->event = (uint8_t)ev;
	r->client = *client;
	r->prefix = (uint8_t)prefix;
	r->detector = -1;
	r->action = -1;
	r->uid = -1;
	r->mode = (uint8_t)e->conf->mode;
	snprintf(r->backend, sizeof(r->backend), "%s", e->backend ? e->backend->name : "none");
	if (e->geoip && dw_geoip_lookup(e->geoip, client, &geo)) {
		memcpy(r->country, geo.country, sizeof(r->country));
		r->country[sizeof(r->country) - 1] = '\0';
		r->asn = geo.asn;
	}
}

/** The control peer's uid from a "control:uid=N" actor, or -1. */
static int64_t uid_of(const char *by)
{
	const char *p = by ? strstr(by, "uid=") : NULL;
	return p ? strtoll(p + 4, NULL, 10) : -1;
}

/** The policy's aggregation prefix of a client key. */
static unsigned key_prefix(const struct dw_engine *e, const struct dw_addr *a)
{
	return a->family == 4 ? 32u : e->conf->ipv6_prefix;
}

/** The GeoIP of the IPv4 literals among the names, as
 *  ,"literal_geo":[{"ip":..,"country":..,"asn":..}] (nothing without GeoIP). */
static void put_literal_geo(struct dw_engine *e, const struct dw_suspect_view *sv, char *b,
			    size_t len, size_t *n)
{
	unsigned i, k = 0;
	if (!e->geoip)
		return;
	for (i = 0; i < sv->nnames; i++) {
		char host[DW_SUSPECTS_NAME_MAX + 1];
		struct dw_addr lit;
		struct dw_geo geo;
		size_t hl;
		if (!(sv->name_flags[i] & DW_FEAT_IPLIT))
			continue;
		snprintf(host, sizeof(host), "%s", sv->names[i]);
		hl = strlen(host);
		if (hl && host[hl - 1] == '.')
			host[hl - 1] = '\0';
		if (dw_addr_parse(host, &lit) != 0 || !dw_geoip_lookup(e->geoip, &lit, &geo))
			continue;
		dw_appendf(b, len, n, "%s{\"ip\":", k++ ? "," : ",\"literal_geo\":[");
		put_str(b, len, n, host);
		dw_appendf(b, len, n, ",\"country\":");
		put_str(b, len, n, geo.country);
		dw_appendf(b, len, n, ",\"asn\":%u}", geo.asn);
	}
	if (k)
		dw_appendf(b, len, n, "]");
}

/** A verdict (verdict or would_block) with its evidence. */
void dw_incident_verdict(struct dw_engine *e, const struct dw_verdict *v, int observe)
{
	const struct dw_detector_conf *dc = &e->conf->det[v->detector];
	struct dw_incident *r = &e->incident_buf;
	struct dw_suspect_view *sv = &e->incident_sv;
	char *b = r->evidence, t[32];
	size_t len = sizeof(r->evidence), n = 0;
	unsigned i;

	if (!e->incidents)
		return;
	base(e, r, observe ? DW_INC_WOULD_BLOCK : DW_INC_VERDICT, &v->client,
	     key_prefix(e, &v->client));
	r->detector = (int8_t)v->detector;
	/* what was done: a forwarder is never blocked, its row says log as
	 * its log line does */
	r->action = (int8_t)(v->forwarder ? DW_ACT_LOG : dc->action);
	r->duration = dc->duration;
	dw_format_mono(e, v->first_seen, t, sizeof(t));
	dw_appendf(b, len, &n, "{\"count\":%u,\"threshold\":%u,\"window\":%u,\"first_seen\":\"%s\"",
	    v->count, dc->threshold, dc->window, t);
	dw_appendf(b, len, &n, ",\"counters\":{");
	for (i = 0; i < v->ncounters; i++)
		dw_appendf(b, len, &n, "%s\"%s_%us\":%u", i ? "," : "",
		    dw_counter_name((enum dw_counter_kind)e->detect.kind[i]), e->detect.window[i],
		    v->counts[i]);
	dw_appendf(b, len, &n, "}");
	if (dw_suspects_get(e->suspects, &v->client, v->when, sv) == 1) {
		dw_appendf(b, len, &n, ",\"evidence_window\":%u,\"classes\":{", sv->window);
		for (i = 0; i < DW_Q_COUNT; i++)
			dw_appendf(b, len, &n, "%s\"%s\":%u", i ? "," : "",
			    dw_qclass_name((enum dw_qclass)i), sv->qclass[i]);
		dw_appendf(b, len, &n, "},\"names\":[");
		for (i = 0; i < sv->nnames; i++) {
			dw_appendf(b, len, &n, "%s", i ? "," : "");
			put_str(b, len, &n, sv->names[i]);
		}
		dw_appendf(b, len, &n, "]");
		put_literal_geo(e, sv, b, len, &n);
	}
	if (r->country[0] || r->asn) {
		dw_appendf(b, len, &n, ",\"geo\":{\"country\":");
		put_str(b, len, &n, r->country);
		dw_appendf(b, len, &n, ",\"asn\":%u}", r->asn);
	}
	finish(b, len, &n);
	dw_incidents_add(e->incidents, r);
}

/** A block started (by a detector or by hand). */
void dw_incident_block(struct dw_engine *e, const struct dw_block *bl, const char *by)
{
	struct dw_incident *r = &e->incident_buf;
	char *b = r->evidence, t[32];
	size_t len = sizeof(r->evidence), n = 0;
	if (!e->incidents)
		return;
	base(e, r, DW_INC_BLOCK, &bl->client, bl->prefix);
	r->detector = bl->detector;
	r->action = (int8_t)bl->action;
	r->duration = bl->duration;
	r->step = bl->offences;
	r->uid = uid_of(by);
	if (bl->expires)
		dw_format_wall(bl->expires, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "never");
	dw_appendf(b, len, &n, "{\"by\":");
	put_str(b, len, &n, by ? by : "manual");
	dw_appendf(b, len, &n, ",\"offences\":%u,\"expires\":\"%s\"", bl->offences, t);
	finish(b, len, &n);
	dw_incidents_add(e->incidents, r);
}

/** A block lifted by hand, or run out (expired = 1). */
void dw_incident_unblock(struct dw_engine *e, const struct dw_block *bl, const char *by,
			 int expired)
{
	struct dw_incident *r = &e->incident_buf;
	char *b = r->evidence, t[32];
	size_t len = sizeof(r->evidence), n = 0;
	if (!e->incidents)
		return;
	base(e, r, expired ? DW_INC_EXPIRE : DW_INC_UNBLOCK, &bl->client, bl->prefix);
	r->detector = bl->detector;
	r->action = (int8_t)bl->action;
	r->duration = bl->duration;
	r->step = bl->offences;
	r->uid = expired ? -1 : uid_of(by);
	dw_format_wall(bl->created, t, sizeof(t));
	dw_appendf(b, len, &n, "{\"by\":");
	put_str(b, len, &n, expired ? "expiry" : by ? by : "manual");
	dw_appendf(b, len, &n, ",\"since\":\"%s\",\"reason\":\"%s\"}", t,
	    bl->detector >= 0 ? dw_detector_name((enum dw_detector)bl->detector) : "manual");
	dw_incidents_add(e->incidents, r);
}

/** A verdict that could not become a block (full list, exempt, ...). */
void dw_incident_block_failed(struct dw_engine *e, const struct dw_verdict *v, const char *err)
{
	struct dw_incident *r = &e->incident_buf;
	char *b = r->evidence;
	size_t len = sizeof(r->evidence), n = 0;
	if (!e->incidents)
		return;
	base(e, r, DW_INC_BLOCK_FAILED, &v->client, key_prefix(e, &v->client));
	r->detector = (int8_t)v->detector;
	r->action = (int8_t)e->conf->det[v->detector].action;
	r->duration = e->conf->det[v->detector].duration;
	dw_appendf(b, len, &n, "{\"error\":");
	put_str(b, len, &n, err);
	finish(b, len, &n);
	dw_incidents_add(e->incidents, r);
}

/** A run-time exemption added or removed by a control peer. */
void dw_incident_exempt(struct dw_engine *e, const struct dw_cidr *c, int added, unsigned uid,
			const char *result)
{
	struct dw_incident *r = &e->incident_buf;
	char *b = r->evidence, p[DW_ADDR_STRLEN + 8];
	size_t len = sizeof(r->evidence), n = 0;
	if (!e->incidents)
		return;
	base(e, r, added ? DW_INC_EXEMPT_ADD : DW_INC_EXEMPT_REMOVE, &c->addr, c->len);
	r->uid = uid;
	dw_cidr_format(c, p, sizeof(p));
	dw_appendf(b, len, &n, "{\"prefix\":");
	put_str(b, len, &n, p);
	dw_appendf(b, len, &n, ",\"by\":\"control:uid=%u\",\"result\":", uid);
	put_str(b, len, &n, result);
	finish(b, len, &n);
	dw_incidents_add(e->incidents, r);
}

/** A domain block's event (domain_blocks.h): the domain in its own column,
 *  the verdict's client or 0.0.0.0/0 (every client) as the client. */
void dw_incident_domain(struct dw_engine *e, enum dw_inc_event ev, const char *domain,
                        const struct dw_addr *client, const struct dw_inc_domain_info *d)
{
	struct dw_incident *r = &e->incident_buf;
	struct dw_addr every;
	char *b = r->evidence, t[32];
	size_t len = sizeof(r->evidence), n = 0;
	if (!e->incidents)
		return;
	memset(&every, 0, sizeof(every));
	every.family = 4;
	base(e, r, ev, client ? client : &every, client ? key_prefix(e, client) : 0);
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	snprintf(r->backend, sizeof(r->backend), "%s", e->dom_backend ? "rpz" : "zonefile");
	r->detector = (int8_t)d->detector;
	r->action = (int8_t)d->action;
	r->duration = d->duration;
	r->uid = uid_of(d->by);
	dw_appendf(b, len, &n, "{\"by\":");
	put_str(b, len, &n, d->by ? d->by : "manual");
	if (d->expires > 0) {
		dw_format_wall(d->expires, t, sizeof(t));
		dw_appendf(b, len, &n, ",\"expires\":\"%s\"", t);
	} else if (ev == DW_INC_BLOCK_DOMAIN) {
		dw_appendf(b, len, &n, ",\"expires\":\"never\"");
	}
	if (d->since > 0) {
		dw_format_wall(d->since, t, sizeof(t));
		dw_appendf(b, len, &n, ",\"since\":\"%s\"", t);
	}
	if (d->error) {
		dw_appendf(b, len, &n, ",\"error\":");
		put_str(b, len, &n, d->error);
	}
	finish(b, len, &n);
	dw_incidents_add(e->incidents, r);
}

/** The store's own log lines go through the engine's rate limiter. */
static void store_log(void *arg, int prio, const char *line)
{
	struct dw_engine *e = arg;
	dw_events_emit(e->events, dw_mono_ms(), prio, line);
}

/** Create the store when incidents.database is set (nothing opened yet). */
int dw_incident_open(struct dw_engine *e, char *err, size_t errlen)
{
	char why[256];
	if (!e->conf->incidents_database || !e->conf->incidents_database[0])
		return 0;
	e->incidents = dw_incidents_new(e->conf->incidents_database, e->conf->incidents_keep,
					store_log, e, why, sizeof(why));
	if (!e->incidents) {
		snprintf(err, errlen, "incidents: %s", why);
		return -1;
	}
	return 0;
}
