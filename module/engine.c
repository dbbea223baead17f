/**
 * \file
 * The engine (engine.h): one query in, features out, client counters bumped,
 * detectors judged; verdicts handed to the module's own thread, which
 * writes them to the log at a bounded rate.
 */
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"
#include "detect.h"
#include "events.h"
#include "feature.h"
#include "geoip.h"
#include "ring.h"
#include "suspects.h"

/** Verdicts that may wait for the module's thread before new ones are dropped. */
#define DW_VERDICT_QUEUE 4096
/** How often the module's thread wakes without being asked (ms). */
#define DW_TICK_MS 200

struct dw_engine {
	const struct dw_conf *conf;
	struct dw_feature_set *features;
	struct dw_detect detect;
	struct dw_clients *clients;
	struct dw_suspects *suspects;
	struct dw_geoip *geoip;
	struct dw_ring *verdicts;
	struct dw_events *events;
	dw_log_fn log;
	void *log_arg;

	/* time: engine seconds are monotonic seconds; wall = start_wall + (t - start_mono) */
	time_t start_wall;
	uint32_t start_mono;

	/* the module's own thread */
	pthread_t thread;
	int thread_running;
	int wake_fd;
	atomic_int stop;

	/* statistics (relaxed atomics: no lock on the query path) */
	atomic_uint_fast64_t queries[DW_SRC_COUNT];
	atomic_uint_fast64_t verdicts_total[DW_DET_COUNT];
};

/** Monotonic seconds (coarse clock: a few ns through the vDSO). */
static uint32_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec + 1; /* never 0 */
}

/** Monotonic milliseconds, for the rate limiter. */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** Engine seconds as UTC text (2026-11-22T04:05:06Z). */
static void format_time(const struct dw_engine *e, uint32_t t, char *buf, size_t len)
{
	time_t wall = e->start_wall + (time_t)t - (time_t)e->start_mono;
	struct tm tm;
	gmtime_r(&wall, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *const source_names[DW_SRC_COUNT] = {"resolved", "cache", "local", "servfail"};

/** Text name of an answer source. */
const char *dw_source_name(enum dw_source s)
{
	return (unsigned)s < DW_SRC_COUNT ? source_names[s] : "?";
}

/** Mnemonic of a qtype for log lines (TYPEnnn for the rest, RFC 3597). */
static const char *qtype_name(uint16_t t, char *buf, size_t len)
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
static const char *rcode_name(unsigned r, char *buf, size_t len)
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

/** Append " key=value" text to buf (size len) at *n, never past the end. */
static void append(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;
	if (*n >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = (size_t)w >= len - *n ? len : *n + (size_t)w;
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
			append(buf, len, &n, " %s=%u", dw_qclass_name((enum dw_qclass)i),
			       sv.qclass[i]);
		append(buf, len, &n, " evidence_window=%u names=\"", sv.window);
		for (i = 0; i < sv.nnames; i++)
			append(buf, len, &n, "%s%s", i ? " " : "", sv.names[i]);
		append(buf, len, &n, "\"");
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
				append(buf, len, &n, "%s%s:%s:%s", nlit++ ? " " : " literal_geo=\"",
				       host, geo.country[0] ? geo.country : "-", asn);
			}
			if (nlit)
				append(buf, len, &n, "\"");
		}
	}
	if (e->geoip && n < len && dw_geoip_lookup(e->geoip, &v->client, &geo))
		n += dw_geoip_format(&geo, "client", buf + n, len - n);
	return n < len ? n : len - 1;
}

/** Compose and emit one verdict line (module's thread). */
static void report_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms)
{
	const struct dw_detector_conf *dc = &e->conf->det[v->detector];
	char line[2048], client[DW_ADDR_STRLEN], first[32], last[32];
	size_t n;
	unsigned i;
	int w;

	dw_addr_format(&v->client, client, sizeof(client));
	format_time(e, v->first_seen, first, sizeof(first));
	format_time(e, v->when, last, sizeof(last));
	w = snprintf(line, sizeof(line),
		     "dnswarden: event=%s client=%s detector=%s action=%s duration=%u count=%u "
		     "threshold=%u window=%u",
		     verdict_event(e, (enum dw_detector)v->detector), client,
		     dw_detector_name((enum dw_detector)v->detector), dw_action_name(dc->action),
		     dc->duration, v->count, dc->threshold, dc->window);
	n = w < 0 ? 0 : (size_t)w;
	/* every counter of the client, named kind_window */
	for (i = 0; i < v->ncounters && n < sizeof(line); i++) {
		w = snprintf(line + n, sizeof(line) - n, " %s_%us=%u",
			     dw_counter_name((enum dw_counter_kind)e->detect.kind[i]),
			     e->detect.window[i], v->counts[i]);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < sizeof(line)) {
		w = snprintf(line + n, sizeof(line) - n, " first_seen=%s time=%s", first, last);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < sizeof(line))
		n += append_evidence(e, v, line + n, sizeof(line) - n);
	dw_events_emit(e->events, now_ms, LOG_NOTICE, line);
}

/** The module's own thread: everything that may block or write lives here. */
static void *engine_thread(void *arg)
{
	struct dw_engine *e = arg;
	struct dw_verdict v;
	while (!atomic_load(&e->stop)) {
		struct pollfd pfd = {.fd = e->wake_fd, .events = POLLIN};
		uint64_t now_ms;
		if (poll(&pfd, 1, DW_TICK_MS) > 0 && (pfd.revents & POLLIN)) {
			uint64_t x;
			if (read(e->wake_fd, &x, sizeof(x)) < 0 && errno != EAGAIN)
				break;
		}
		now_ms = mono_ms();
		while (dw_ring_pop(e->verdicts, &v))
			report_verdict(e, &v, now_ms);
		dw_events_tick(e->events, now_ms);
	}
	return NULL;
}

/** The evidence window: the longest window of an enabled detector, so a
 *  verdict's evidence covers at least its own window. */
static uint32_t evidence_window(const struct dw_conf *conf)
{
	uint32_t w = 60;
	unsigned i;
	for (i = 0; i < DW_DET_COUNT; i++)
		if (conf->det[i].enabled && conf->det[i].window > w)
			w = conf->det[i].window;
	return w;
}

/** Build features, detectors, table, queues and start the module's thread. */
struct dw_engine *dw_engine_new(const struct dw_conf *conf, dw_log_fn log, void *log_arg, char *err,
				size_t errlen)
{
	struct dw_engine *e = calloc(1, sizeof(*e));
	struct dw_clients_conf cc;
	struct timespec ts;
	int rc;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->conf = conf;
	e->log = log;
	e->log_arg = log_arg;
	e->wake_fd = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	e->start_wall = ts.tv_sec;
	e->start_mono = mono_now();

	e->features = dw_feature_set_new((const char *const *)conf->keywords, conf->keyword_count,
					 (const char *const *)conf->signatures,
					 conf->signature_count, err, errlen);
	if (!e->features)
		goto fail;
	if (dw_detect_init(&e->detect, conf, err, errlen) != 0)
		goto fail;
	memset(&cc, 0, sizeof(cc));
	cc.max = conf->clients_max;
	cc.ipv6_prefix = conf->ipv6_prefix;
	cc.ncounters = e->detect.ncounters;
	dw_detect_windows(&e->detect, cc.window);
	e->clients = dw_clients_new(&cc, err, errlen);
	if (!e->clients)
		goto fail;
	e->suspects = dw_suspects_new(conf->clients_max < DW_SUSPECTS_DEFAULT_MAX
					      ? conf->clients_max
					      : DW_SUSPECTS_DEFAULT_MAX,
				      evidence_window(conf), err, errlen);
	if (!e->suspects)
		goto fail;
	e->geoip = dw_geoip_open(conf->geoip_country_db, conf->geoip_asn_db, err, errlen);
	if (!e->geoip)
		goto fail;
	e->verdicts = dw_ring_new(DW_VERDICT_QUEUE, sizeof(struct dw_verdict));
	e->events = dw_events_new(conf->syslog_rate, log, log_arg);
	if (!e->verdicts || !e->events) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = pthread_create(&e->thread, NULL, engine_thread, e);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the module's thread: %s", strerror(rc));
		goto fail;
	}
	e->thread_running = 1;
	return e;
fail:
	dw_engine_free(e);
	return NULL;
}

/** Stop the thread first (it reads everything else), then free. */
void dw_engine_free(struct dw_engine *e)
{
	if (!e)
		return;
	if (e->thread_running) {
		uint64_t one = 1;
		atomic_store(&e->stop, 1);
		if (write(e->wake_fd, &one, sizeof(one)) < 0) {
			/* the thread wakes by itself within DW_TICK_MS */
		}
		pthread_join(e->thread, NULL);
	}
	if (e->verdicts && e->events) { /* report what is still queued */
		struct dw_verdict v;
		while (dw_ring_pop(e->verdicts, &v))
			report_verdict(e, &v, mono_ms());
	}
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	dw_events_free(e->events);
	dw_ring_free(e->verdicts);
	dw_geoip_close(e->geoip);
	dw_suspects_free(e->suspects);
	dw_clients_free(e->clients);
	dw_feature_set_free(e->features);
	free(e);
}

/** The config in use. */
const struct dw_conf *dw_engine_conf(const struct dw_engine *e)
{
	return e->conf;
}

/** Debugging aid (debug.log_queries): one line per query, written on the
 *  worker thread itself. Off by default; never on in production. */
static void log_query(struct dw_engine *e, const struct dw_query *q, uint32_t total)
{
	char line[1536], client[DW_ADDR_STRLEN], name[DW_NAME_TEXT_MAX], tb[16], rb[16];
	dw_addr_format(&q->client, client, sizeof(client));
	if (q->qname)
		dw_name_to_text(q->qname, q->qname_len, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "-");
	snprintf(line, sizeof(line),
		 "dnswarden: event=query client=%s qname=%s qtype=%s rcode=%s source=%s count=%u",
		 client, name, qtype_name(q->qtype, tb, sizeof(tb)),
		 rcode_name(q->rcode, rb, sizeof(rb)), dw_source_name((enum dw_source)q->source),
		 total);
	e->log(e->log_arg, LOG_DEBUG, line);
}

/** The per-query path: no allocation, no I/O, one shard lock. */
void dw_engine_observe(struct dw_engine *e, const struct dw_query *q)
{
	struct dw_features f;
	struct dw_judgement j;
	uint16_t inc[DW_CLIENTS_MAX_COUNTERS];
	struct dw_addr key;
	uint32_t now = mono_now();

	if (q->source < DW_SRC_COUNT)
		atomic_fetch_add_explicit(&e->queries[q->source], 1, memory_order_relaxed);
	if (!q->qname || dw_features_of(e->features, q->qname, q->qname_len, q->qtype, &f) != 0) {
		memset(&f, 0, sizeof(f));
		f.qclass = dw_qclass_of(q->qtype);
	}
	/* evidence first, so a verdict on this query already sees its name */
	key = q->client;
	if (key.family == 6)
		dw_addr_mask(&key, e->conf->ipv6_prefix);
	if (f.flags || f.qclass == DW_Q_MX || f.qclass == DW_Q_PTR)
		dw_suspects_note(e->suspects, &key, now, f.qclass, f.flags, q->qname,
				 q->qname ? q->qname_len : 0);
	else
		dw_suspects_touch_class(e->suspects, &key, now, f.qclass);
	dw_detect_increments(&e->detect, &f, inc);
	memset(&j, 0, sizeof(j));
	j.d = &e->detect;
	if (dw_clients_update(e->clients, &q->client, now, inc, dw_detect_judge, &j) < 0)
		return;
	if (j.fired) {
		struct dw_verdict v[DW_DET_COUNT];
		unsigned i, n = dw_detect_verdicts(&j, v);
		uint64_t one = 1;
		for (i = 0; i < n; i++) {
			atomic_fetch_add_explicit(&e->verdicts_total[v[i].detector], 1,
						  memory_order_relaxed);
			dw_ring_push(e->verdicts, &v[i]);
		}
		if (write(e->wake_fd, &one, sizeof(one)) < 0) {
			/* full counter or closing: the thread's tick picks it up */
		}
	}
	if (e->conf->debug_log_queries)
		log_query(e, q, j.total);
}
