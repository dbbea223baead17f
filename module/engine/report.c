/**
 * \file
 * How dnswarden's lines read: names of qtypes, rcodes and answer sources,
 * times, and the verdict line with its evidence (counts per window, the
 * suspect's recent names, GeoIP). Everything here runs on the module's own
 * thread except the name helpers, which are pure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "engine_int.h"
#include "errbuf.h"
#include "names.h"

/** Monotonic seconds (coarse clock: a few ns through the vDSO), never 0. */
uint32_t dw_mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec + 1;
}

/** Monotonic milliseconds, for rates and periods. */
uint64_t dw_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** Unix seconds as UTC text (2026-11-22T04:05:06Z). */
void dw_format_wall(int64_t t, char *buf, size_t len)
{
	time_t wall = (time_t)t;
	struct tm tm;
	gmtime_r(&wall, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/** Engine seconds as UTC text. */
void dw_format_mono(const struct dw_engine *e, uint32_t t, char *buf, size_t len)
{
	dw_format_wall((int64_t)e->start_wall + (int64_t)t - (int64_t)e->start_mono, buf, len);
}

/** The clock of the block list: seconds on the monotonic clock, anchored at
 *  the wall time the engine started (so they read like unix seconds); a
 *  step of the wall clock moves no expiry. */
int64_t dw_block_clock(const struct dw_engine *e)
{
	return (int64_t)e->start_wall + ((int64_t)dw_mono_now() - (int64_t)e->start_mono);
}

/** Wall seconds minus block-clock seconds now: what converts a block time
 *  for the state file and for display. */
int64_t dw_block_wall_offset(const struct dw_engine *e)
{
	return (int64_t)time(NULL) - dw_block_clock(e);
}

/** A block-clock time as UTC text of the wall clock now. */
void dw_format_block_time(const struct dw_engine *e, int64_t t, char *buf, size_t len)
{
	dw_format_wall(t + dw_block_wall_offset(e), buf, len);
}

/** vsnprintf into a line and hand it to the rate limiter. */
void dw_emit(struct dw_engine *e, uint64_t now_ms, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dw_events_emit(e->events, now_ms, prio, line);
}

/** Format and write one audit line (a manual block or unblock) straight to
 *  the log: never held back by syslog.rate, never counted as suppressed. */
void dw_emit_audit(struct dw_engine *e, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	e->log(e->log_arg, prio, line);
}

static const char *const source_names[DW_SRC_COUNT] = {"resolved", "cache", "local", "servfail", "query"};

/** Text name of an answer source. */
const char *dw_source_name(enum dw_source s)
{
	return (unsigned)s < DW_SRC_COUNT ? source_names[s] : "?";
}

/** Mnemonic of a qtype for log lines (TYPEnnn for the rest, RFC 3597). */
const char *dw_qtype_name(uint16_t t, char *buf, size_t len)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {{1, "A"},     {2, "NS"},    {5, "CNAME"}, {6, "SOA"},   {12, "PTR"},
		     {15, "MX"},   {16, "TXT"},  {28, "AAAA"}, {33, "SRV"},  {35, "NAPTR"},
		     {43, "DS"},   {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {255, "ANY"}};
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].n;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/** Mnemonic of an rcode (RCODEnn for the rest). */
const char *dw_rcode_name(unsigned r, char *buf, size_t len)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					    "NXRRSET", "NOTAUTH", "NOTZONE"};
	if (r < sizeof(names) / sizeof(names[0]))
		return names[r];
	snprintf(buf, len, "RCODE%u", r);
	return buf;
}

/** What a verdict does in the current mode: the event name of its line. */
static const char *verdict_event(const struct dw_engine *e, enum dw_detector det)
{
	if (e->conf->det[det].action == DW_ACT_LOG)
		return "verdict";
	return e->conf->mode == DW_MODE_OBSERVE ? "would_block" : "verdict";
}

/** The evidence of a verdict: the suspect's per-class counts and recent
 *  distinct names, GeoIP of the client and of the IPv4 literals it asked
 *  for. Runs on the module's thread only (GeoIP lookups are never made on a
 *  worker). Returns the bytes written. */
static size_t append_evidence(struct dw_engine *e, const struct dw_verdict *v, char *buf,
			      size_t len)
{
	struct dw_suspect_view sv;
	struct dw_geo geo;
	size_t n = 0;
	unsigned i;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (dw_suspects_get(e->suspects, &v->client, v->when, &sv) == 1) {
		for (i = 0; i < DW_Q_COUNT; i++)
			dw_appendf(buf, len, &n, " %s=%u", dw_qclass_name((enum dw_qclass)i),
			       sv.qclass[i]);
		dw_appendf(buf, len, &n, " evidence_window=%u names=\"", sv.window);
		for (i = 0; i < sv.nnames; i++)
			dw_appendf(buf, len, &n, "%s%s", i ? " " : "", sv.names[i]);
		dw_appendf(buf, len, &n, "\"");
		if (v->detector == DW_DET_MX_WORM || v->detector == DW_DET_SPAM_RELAY)
			dw_names_domains(e, &sv, buf, len, &n);
		if (e->geoip) {
			int nlit = 0;
			for (i = 0; i < sv.nnames; i++) {
				struct dw_addr lit;
				char host[DW_SUSPECTS_NAME_MAX + 1];
				size_t hl;
				if (!(sv.name_flags[i] & DW_FEAT_IPLIT))
					continue;
				snprintf(host, sizeof(host), "%s", sv.names[i]);
				hl = strlen(host);
				if (hl && host[hl - 1] == '.')
					host[hl - 1] = '\0';
				if (dw_addr_parse(host, &lit) != 0 || !dw_geoip_lookup(e->geoip, &lit, &geo))
					continue;
				char asn[16] = "-";
				if (geo.asn)
					snprintf(asn, sizeof(asn), "AS%u", geo.asn);
				dw_appendf(buf, len, &n, "%s%s:%s:%s", nlit++ ? " " : " literal_geo=\"",
				       host, geo.country[0] ? geo.country : "-", asn);
			}
			if (nlit)
				dw_appendf(buf, len, &n, "\"");
		}
	}
	if (e->geoip && n < len && dw_geoip_lookup(e->geoip, &v->client, &geo))
		n += dw_geoip_format(&geo, "client", buf + n, len - n);
	return n < len ? n : len - 1;
}

/** Compose and emit one verdict line (module's thread). */
void dw_report_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms)
{
	const struct dw_detector_conf *dc = &e->conf->det[v->detector];
	char line[2048], client[DW_ADDR_STRLEN], first[32], last[32];
	size_t n;
	unsigned i;
	int w;

	dw_addr_format(&v->client, client, sizeof(client));
	dw_format_mono(e, v->first_seen, first, sizeof(first));
	dw_format_mono(e, v->when, last, sizeof(last));
	w = snprintf(line, sizeof(line),
	             "dnswarden: event=%s client=%s detector=%s action=%s duration=%u count=%u "
	             "threshold=%u window=%u",
	             v->forwarder ? "verdict" : verdict_event(e, (enum dw_detector)v->detector),
	             client, dw_detector_name((enum dw_detector)v->detector),
	             dw_action_name(v->forwarder ? DW_ACT_LOG : dc->action), dc->duration, v->count,
	             v->threshold ? v->threshold : dc->threshold, dc->window);
	n = w < 0 ? 0 : (size_t)w;
	if (v->forwarder)
		e->forwarder_verdicts++;
	if (v->forwarder &&
	    n < sizeof(line)) { /* forwarders: judged with the factor, never blocked */
		w = snprintf(line + n, sizeof(line) - n, " forwarder=1");
		n += w < 0 ? 0 : (size_t)w;
	}
	/* every counter of the client, named kind_window */
	for (i = 0; i < v->ncounters && n < sizeof(line); i++) {
		w = snprintf(line + n, sizeof(line) - n, " %s_%us=%u",
			     dw_counter_name((enum dw_counter_kind)e->detect.kind[i]),
			     e->detect.window[i], v->counts[i]);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (v->name[0] && n < sizeof(line)) { /* dns_tunnel: its domain; dga: an example */
		w = snprintf(line + n, sizeof(line) - n, " %s=%s",
		             v->detector == DW_DET_DNS_TUNNEL ? "domain" : "name", v->name);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < sizeof(line)) {
		w = snprintf(line + n, sizeof(line) - n, " first_seen=%s time=%s", first, last);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < sizeof(line))
		n += append_evidence(e, v, line + n, sizeof(line) - n);
	dw_events_emit(e->events, now_ms, LOG_NOTICE, line);
	dw_incident_verdict(
	    e, v, dc->action != DW_ACT_LOG && e->conf->mode == DW_MODE_OBSERVE && !v->forwarder);
}

