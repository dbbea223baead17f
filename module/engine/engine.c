/**
 * \file
 * The engine (engine.h): one query in, features out, client counters bumped,
 * detectors judged; verdicts handed to the module's own thread, which
 * writes them to the log at a bounded rate.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>

#include "control.h"
#include "domain_blocks.h"
#include "engine_int.h"
#include "fleet.h"
#include "names.h"

/** Verdicts that may wait for the module's thread before new ones are dropped. */
#define DW_VERDICT_QUEUE 4096
/** How often the module's thread wakes without being asked (ms). */
#define DW_TICK_MS 200
/** Bytes of upstream observations that may wait for the module's thread
 *  (upqueue.h: 16 rings of 512 KiB, about 10,000 query events each); the
 *  first push after a drain wakes the thread. */
#define DW_UPSTREAM_QUEUE (8u << 20)
/** Observations learned per pass of the module's thread before it looks at
 *  the control socket and the log again (then it comes straight back). */
#define DW_UPSTREAM_BATCH 4096
/** While observations keep coming, the module's thread drains them this
 *  often (ms) instead of being woken for each one. */
#define DW_UPSTREAM_BUSY_MS 10
/** At most one upstream_dropped line this often (ms). */
#define DW_DROP_LOG_MS 10000

/** Feed what the workers saw upstream to the whitelist, bounded per pass so
 *  the control socket and the log stay responsive. idle: the last pass found
 *  nothing, so the next push must wake us. Returns how long the thread may
 *  sleep before the next pass (ms; -1 = until woken or its tick). */
static int learn_upstream(struct dw_engine *e, int *idle)
{
	struct dw_upstream *u = &e->upstream_buf;
	time_t now = time(NULL);
	int n, was_idle = *idle;
	if (was_idle)
		dw_upq_rearm(e->upstream); /* a push from now on wakes us */
	else
		dw_upq_busy(e->upstream); /* we come back in DW_UPSTREAM_BUSY_MS */
	for (n = 0; n < DW_UPSTREAM_BATCH && dw_upq_pop(e->upstream, u); n++) {
		int rc = dw_whitelist_learn(e->wl, u, now);
		atomic_fetch_add_explicit(&e->upstream_seen, 1, memory_order_relaxed);
		if (rc == 2)
			e->dirty = 1;
		else if (rc == 1)
			e->lazy_dirty = 1;
	}
	*idle = n == 0;
	if (n == DW_UPSTREAM_BATCH || (n == 0 && !was_idle))
		return 0; /* more waiting, or go idle (armed) right away */
	return n > 0 ? DW_UPSTREAM_BUSY_MS : -1;
}

/** Say that upstream observations were dropped, at most every DW_DROP_LOG_MS. */
static void log_upstream_drops(struct dw_engine *e, uint64_t now_ms)
{
	uint64_t d = dw_upq_dropped(e->upstream);
	if (d == e->upstream_drops_logged ||
	    (e->last_drop_log_ms && now_ms - e->last_drop_log_ms < DW_DROP_LOG_MS))
		return;
	e->last_drop_log_ms = now_ms;
	dw_emit(e, now_ms, LOG_WARNING,
		"dnswarden: event=upstream_dropped count=%llu total=%llu "
		"reason=\"the module's thread fell behind; the whitelist misses them\"",
		(unsigned long long)(d - e->upstream_drops_logged), (unsigned long long)d);
	e->upstream_drops_logged = d;
}

/** Keep a client that got a verdict in the table while its block (the
 *  detector's duration) lasts, so no flood evicts it meanwhile. */
static void pin_verdict(struct dw_engine *e, const struct dw_verdict *v)
{
	uint32_t now = dw_mono_now(), d = e->conf->det[v->detector].duration;
	(void)dw_clients_pin(e->clients, &v->client, now, now + d);
}

/** Once a second: evictions in the last second (stats, metrics), and a
 *  warning, at most once a minute, when the last minute evicted more
 *  clients than the table holds (a flood of new sources). */
static void watch_evictions(struct dw_engine *e, uint64_t now_ms)
{
	struct dw_clients_stats cs;
	uint64_t sum = 0;
	unsigned i;
	if (e->evict_sample_ms && now_ms < e->evict_sample_ms + 1000)
		return;
	dw_clients_stats(e->clients, &cs);
	if (e->evict_sample_ms == 0) {
		e->evict_sample_ms = now_ms;
		e->evict_last = cs.evictions;
		return;
	}
	e->evictions_per_s = (cs.evictions - e->evict_last) * 1000 / (now_ms - e->evict_sample_ms);
	e->evict_sec[e->evict_pos] = (uint32_t)(cs.evictions - e->evict_last);
	e->evict_pos = (e->evict_pos + 1) % 60;
	e->evict_last = cs.evictions;
	e->evict_sample_ms = now_ms;
	for (i = 0; i < 60; i++)
		sum += e->evict_sec[i];
	if (sum > cs.capacity && (e->evict_storm_ms == 0 || now_ms >= e->evict_storm_ms + 60000)) {
		e->evict_storm_ms = now_ms;
		dw_emit(e, now_ms, LOG_WARNING,
			"dnswarden: event=eviction_storm evictions_60s=%llu capacity=%llu "
			"evictions_per_s=%llu protected_spared=%llu protected_evicted=%llu",
			(unsigned long long)sum, (unsigned long long)cs.capacity,
			(unsigned long long)e->evictions_per_s, (unsigned long long)cs.spared,
			(unsigned long long)cs.forced);
	}
}

/** The module's own thread: everything that may block or write lives here:
 *  verdict lines, blocks, the backend, expiry, the state file. */
static void *engine_thread(void *arg)
{
	struct dw_engine *e = arg;
	struct dw_verdict v;
	int up_idle = 1, up_wait = -1; /* the upstream queue (learn_upstream) */
	while (!atomic_load(&e->stop)) {
		struct pollfd pfd[1 + DW_CONTROL_MAX_POLLFDS];
		size_t n = 1;
		int timeout = up_wait >= 0 && up_wait < DW_TICK_MS ? up_wait : DW_TICK_MS;
		uint64_t now_ms = dw_mono_ms();
		pfd[0].fd = e->wake_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (e->control) {
			int t = dw_control_timeout(e->control, now_ms);
			n += dw_control_pollfds(e->control, pfd + 1, DW_CONTROL_MAX_POLLFDS);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		if (poll(pfd, n, timeout) > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t x;
			if (read(e->wake_fd, &x, sizeof(x)) < 0 && errno != EAGAIN)
				break;
		}
		now_ms = dw_mono_ms();
		while (dw_ring_pop(e->verdicts, &v)) {
			dw_report_verdict(e, &v, now_ms);
			dw_enforce_verdict(e, &v, now_ms);
			dw_domains_verdict(e, &v, now_ms);
			pin_verdict(e, &v);
			dw_fleet_verdict(e, &v, now_ms);
		}
		up_wait = learn_upstream(e, &up_idle);
		log_upstream_drops(e, now_ms);
		watch_evictions(e, now_ms);
		if (e->control)
			dw_control_service(e->control, pfd + 1, n - 1, now_ms);
		dw_enforce_tick(e, now_ms);
		dw_domains_tick(e, now_ms);
		if (e->incidents)
			dw_incidents_tick(e->incidents, now_ms);
		dw_fleet_tick(e, now_ms);
		dw_events_tick(e->events, now_ms);
		dw_engine_mem_tick(e, now_ms);
		dw_mailwatch_tick(e->mail, (int64_t)time(NULL));
		if (e->reload_at_ms && now_ms >= e->reload_at_ms) {
			/* Unbound reloads on SIGHUP: deinit() stops this thread, init()
			 * reads the (already checked) YAML */
			e->reload_at_ms = 0;
			kill(getpid(), SIGHUP);
		}
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
	/* aligned: the per-thread counter lines are 64-byte aligned members */
	struct dw_engine *e = aligned_alloc(_Alignof(struct dw_engine), sizeof(*e));
	struct dw_clients_conf cc;
	struct timespec ts;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->conf = conf;
	e->log = log;
	e->log_arg = log_arg;
	e->wake_fd = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	e->start_wall = ts.tv_sec;
	e->start_mono = dw_mono_now();

	e->features = dw_feature_set_new((const char *const *)conf->keywords, conf->keyword_count,
					 (const char *const *)conf->signatures,
					 conf->signature_count, err, errlen);
	if (!e->features)
		goto fail;
	e->exempt = dw_exempt_new(conf);
	e->policy = dw_policy_new(conf);
	if (!e->exempt || !e->policy) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (dw_detect_init(&e->detect, conf, e->exempt, err, errlen) != 0)
		goto fail;
	if (dw_names_init(e, err, errlen) != 0)
		goto fail;
	if (!(e->mail = dw_mailwatch_new(conf, err, errlen)))
		goto fail;
	e->detect.mail = e->mail; /* mail servers: exempt from the MX detectors */
	dw_mailwatch_tick(e->mail, (int64_t)time(NULL));
	memset(&cc, 0, sizeof(cc));
	cc.max = conf->clients_max;
	cc.ipv6_prefix = conf->ipv6_prefix;
	dw_detect_clients_conf(&e->detect, &cc);
	e->clients = dw_clients_new(&cc, err, errlen);
	if (!e->clients)
		goto fail;
	e->suspects = dw_suspects_new(conf->clients_max < DW_SUSPECTS_DEFAULT_MAX
					      ? conf->clients_max
					      : DW_SUSPECTS_DEFAULT_MAX,
				      evidence_window(conf), err, errlen);
	if (!e->suspects)
		goto fail;
	{ /* one client hash per query serves both tables */
		uint64_t k0, k1;
		dw_clients_hash_key(e->clients, &k0, &k1);
		dw_suspects_set_client_key(e->suspects, k0, k1);
		/* and one name hash (the feature pass's) serves the store too */
		dw_feature_set_name_key(e->features, &k0, &k1);
		dw_suspects_set_name_key(e->suspects, k0, k1);
		/* and the registrable-domain scan's name memo (regdomain.h) */
		dw_regdomain_set_name_key(e->regdom, k0);
		e->name_k1 = k1;
	}
	e->geoip = dw_geoip_open(conf->geoip_country_db, conf->geoip_asn_db, err, errlen);
	if (!e->geoip)
		goto fail;
	e->verdicts = dw_ring_new(DW_VERDICT_QUEUE, sizeof(struct dw_verdict));
	e->events = dw_events_new(conf->syslog_rate, log, log_arg);
	if (!e->verdicts || !e->events) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->wl = dw_whitelist_new(conf, err, errlen);
	e->upstream = dw_upq_new(DW_UPSTREAM_QUEUE);
	if (!e->wl || !e->upstream) {
		if (e->upstream)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->wl_state.prefix = "wl";
	e->wl_state.save = dw_whitelist_state_save;
	e->wl_state.load_line = dw_whitelist_state_load_line;
	e->wl_state.arg = e->wl;
	e->domains = dw_domains_new(); /* domain blocks (domain_blocks.h) */
	if (!e->domains) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->dom_state.prefix = "domain";
	e->dom_state.save = dw_domains_state_save;
	e->dom_state.load_line = dw_domains_state_load_line;
	e->dom_state.arg = e;
	e->wl_state.next = &e->dom_state;
	if (dw_incident_open(e, err, errlen) != 0)
		goto fail;
	dw_enforce_load(e);
	/* the control socket: dw_engine_open_control() (engine_api.h), by the caller */
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	dw_engine_mem_tick(e, 0);
	return e;
fail:
	dw_engine_free(e);
	return NULL;
}

/** Start the module's own thread (after dw_engine_set_backend()). */
int dw_engine_start(struct dw_engine *e, char *err, size_t errlen)
{
	int rc = pthread_create(&e->thread, NULL, engine_thread, e);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the module's thread: %s", strerror(rc));
		return -1;
	}
	e->thread_running = 1;
	return 0;
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
	if (e->verdicts && e->events) { /* report what is still queued, save */
		struct dw_verdict v;
		while (dw_ring_pop(e->verdicts, &v)) {
			dw_report_verdict(e, &v, dw_mono_ms());
			dw_enforce_verdict(e, &v, dw_mono_ms());
			dw_domains_verdict(e, &v, dw_mono_ms());
		}
		dw_enforce_flush(e, dw_mono_ms());
	}
	dw_incidents_free(e->incidents); /* writes what is still queued */
	e->incidents = NULL;
	dw_fleet_free(e);
	dw_control_free(e->control);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	dw_events_free(e->events);
	dw_ring_free(e->verdicts);
	dw_upq_free(e->upstream);
	dw_whitelist_free(e->wl);
	dw_domains_free(e->domains);
	dw_geoip_close(e->geoip);
	dw_suspects_free(e->suspects);
	dw_clients_free(e->clients);
	dw_policy_free(e->policy);
	dw_exempt_free(e->exempt);
	dw_mailwatch_free(e->mail);
	dw_feature_set_free(e->features);
	dw_names_free(e);
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
		 client, name, dw_qtype_name(q->qtype, tb, sizeof(tb)),
		 dw_rcode_name(q->rcode, rb, sizeof(rb)), dw_source_name((enum dw_source)q->source),
		 total);
	e->log(e->log_arg, LOG_DEBUG, line);
}

/** Queries seen with answer path src (every thread's slot added up). */
uint64_t dw_engine_queries(struct dw_engine *e, unsigned src)
{
	uint64_t n = 0;
	unsigned i;
	for (i = 0; i < DW_TSLOTS; i++)
		n += atomic_load_explicit(&e->queries[i].n[src], memory_order_relaxed);
	return n;
}

/** The per-query path: no allocation, no I/O, one shard lock. A query no
 *  enabled detector counts (most of them) costs its feature check and one
 *  client-table touch; the suspect store (evidence) is touched only for a
 *  client with counts, and only a counted query is noted as evidence and
 *  judged. */
void dw_engine_observe(struct dw_engine *e, const struct dw_query *q)
{
	dw_engine_observe_at(e, q, dw_mono_now());
}

/** A verdict's view holds the counters the judge read (dw_detect_plan());
 *  the verdict line shows every counter, so read the others (a second
 *  lock, only on a crossing; the counts are those of a moment later). */
static void complete_view(struct dw_engine *e, const struct dw_addr *client, uint32_t now,
                          const uint16_t *inc, uint32_t need, struct dw_client_view *v)
{
	struct dw_client_view full;

	if (dw_clients_get(e->clients, client, now, &full) != 1)
		return;
	for (unsigned c = 0; c < v->ncounters; c++)
		if (!(need >> c & 1) && inc[c] == 0)
			v->counts[c] = full.counts[c];
}

/** dw_engine_observe() at engine second now (the offline scanner's clock). */
void dw_engine_observe_at(struct dw_engine *e, const struct dw_query *q, uint32_t now)
{
	struct dw_features f;
	struct dw_judgement j;
	uint16_t inc[DW_CLIENTS_MAX_COUNTERS];
	struct dw_addr key;
	uint64_t h;
	uint32_t need, incmask;
	int counted;
	struct dw_name_run run;

	if (q->source < DW_SRC_COUNT)
		atomic_fetch_add_explicit(&e->queries[dw_tslot()].n[q->source], 1,
					  memory_order_relaxed);
	if (e->conf->mail_server_count != 0) /* the call only for a campus with some */
		dw_mailwatch_observe(e->mail, &q->client, q->qtype, q->rcode);
	if (dw_features_possible(e->features, q->qname, q->qname_len, q->qtype)) {
		/* a malformed name: no flags, the class still set */
		(void)dw_features_of(e->features, q->qname, q->qname_len, q->qtype, &f);
	} else {
		f.qclass = dw_qclass_of(q->qtype);
		f.flags = 0;
		f.literal.family = 0;
	}
	h = dw_clients_hash(e->clients, &q->client);
	incmask = 0;
	counted = dw_detect_counts(&e->detect, f.qclass, f.flags) &&
	          (incmask = dw_detect_increments_mask(&e->detect, &f, inc)) != 0;
	run.valid = 0;
	if (dw_names_possible(e, q, f.qclass)) /* MX, NXDOMAIN, a long first label */
		counted = dw_names_observe(e, q, h, now, f.qclass, inc, &incmask, counted, &run);
	if (!counted) {
		uint32_t total = 0;
		int rc = dw_clients_touch_h(e->clients, &q->client, h, now, &total);
		if (rc < 0)
			return;
		if (rc & DW_CLIENTS_ACTIVE) { /* a suspect's plain queries are evidence too */
			key = q->client;
			if (key.family == 6)
				dw_addr_mask(&key, e->conf->ipv6_prefix);
			dw_suspects_touch_class_h(e->suspects, &key, h, now, f.qclass);
		}
		if (e->conf->debug_log_queries)
			log_query(e, q, total);
		return;
	}
	/* evidence first, so a verdict on this query already sees its name */
	key = q->client;
	if (key.family == 6)
		dw_addr_mask(&key, e->conf->ipv6_prefix);
	if (f.flags != 0) /* dw_features_of() ran: the name is valid and hashed */
		dw_suspects_note_wf(e->suspects, &key, h, now, f.qclass, f.flags, q->qname,
		                    q->qname_len, f.name_hash, f.name_upper);
	else if (run.valid) /* the registrable-domain scan hashed it (an MX query) */
		dw_suspects_note_wf(e->suspects, &key, h, now, f.qclass, f.flags, q->qname,
		                    q->qname_len, dw_name_hash_end(run.h, e->name_k1), run.upper);
	else
		dw_suspects_note_h(e->suspects, &key, h, now, f.qclass, f.flags, q->qname,
		                   q->qname ? q->qname_len : 0);
	/* no memset: j.view is written by the judge when something fired */
	j.d = &e->detect;
	j.fired = 0;
	j.total = 0;
	j.forwarder = 0;
	j.inc = inc; /* the re-arm test looks at the count before this query */
	j.only = dw_detect_plan(&e->detect, incmask, &need); /* only what inc can change */
	if (dw_clients_update_need_h(e->clients, &q->client, h, now, inc, need, dw_detect_judge,
	                             &j) < 0)
		return;
	if (j.fired) {
		struct dw_verdict v[DW_DET_COUNT];
		unsigned i, n;
		uint64_t one = 1;

		complete_view(e, &q->client, now, inc, need, &j.view);
		n = dw_detect_verdicts(&j, v);
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

/** Count the query like a reply callback would, then look the client up in
 *  the block list: the hook backend's single per-query call. */
void dw_engine_decide(struct dw_engine *e, const struct dw_query *q, struct dw_decision *out)
{
	struct dw_addr key;
	uint8_t prefix;
	memset(out, 0, sizeof(*out));
	dw_engine_observe(e, q);
	dw_policy_key(e->policy, &q->client, &key, &prefix);
	out->action = (uint8_t)dw_policy_lookup(e->policy, &key, dw_block_clock(e));
	if (out->action == DW_ACT_SINKHOLE)
		out->sinkhole = q->qtype == 28 ? e->conf->sinkhole_v6 : e->conf->sinkhole_v4;
}

/** Wake the module's thread (the first observation since it drained). */
static void wake_for_upstream(struct dw_engine *e, int rc)
{
	uint64_t one = 1;
	if (rc == 1 && write(e->wake_fd, &one, sizeof(one)) < 0) {
		/* full counter: the thread is awake anyway */
	}
}

/** Queue an upstream observation (its used bytes); wake the thread when it
 *  waits for one. */
void dw_engine_upstream(struct dw_engine *e, const struct dw_upstream *u)
{
	wake_for_upstream(e, dw_upq_push(e->upstream, u));
}

/** The query event, without a struct dw_upstream. */
void dw_engine_upstream_query(struct dw_engine *e, const struct dw_addr *server, const char *zone)
{
	wake_for_upstream(e, dw_upq_push_query(e->upstream, server, zone));
}

/** Learned and dropped observations (any thread). */
void dw_engine_upstream_counts(struct dw_engine *e, uint64_t *learned, uint64_t *dropped)
{
	*learned = atomic_load_explicit(&e->upstream_seen, memory_order_relaxed);
	*dropped = dw_upq_dropped(e->upstream);
}

/** The adapter tells the engine which backend enforces (before
 *  dw_engine_start(): the thread reads it without a lock). */
void dw_engine_set_backend(struct dw_engine *e, const struct dw_backend *b)
{
	e->backend = b;
	e->need_sync = 1;
}

/** Domain blocks go to b from now on; everything is pushed again. */
void dw_engine_set_domain_backend(struct dw_engine *e, const struct dw_domain_backend *b)
{
	e->dom_backend = b;
	dw_domains_resync(e);
}

/** The resolver's own zones, out of the domain blocks' reach. */
int dw_engine_protect_domains(struct dw_engine *e, const char *const *names, size_t n)
{
	return dw_domains_protect(e->domains, names, n);
}

/** The adapter's check of a new config, run by the reload verb. */
void dw_engine_set_conf_check(struct dw_engine *e, dw_conf_check_fn fn, void *arg)
{
	e->conf_check = fn;
	e->conf_check_arg = arg;
}
