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

#include "commands.h"
#include "control.h"
#include "engine_int.h"
#include "fleet.h"

/** Verdicts that may wait for the module's thread before new ones are dropped. */
#define DW_VERDICT_QUEUE 4096
/** How often the module's thread wakes without being asked (ms). */
#define DW_TICK_MS 200
/** Upstream observations that may wait for the module's thread (9 KiB each:
 *  9 MiB; at one pass per tick that is ~5000 observations a second before
 *  any is dropped and counted). */
#define DW_UPSTREAM_QUEUE 1024

/** Feed what the workers saw upstream to the whitelist (bounded per pass so
 *  the control socket and the log stay responsive). */
static void learn_upstream(struct dw_engine *e)
{
	struct dw_upstream *u = &e->upstream_buf;
	time_t now = time(NULL);
	int n;
	for (n = 0; n < 4096 && dw_ring_pop(e->upstream, u); n++) {
		int rc = dw_whitelist_learn(e->wl, u, now);
		e->upstream_seen++;
		if (rc == 2)
			e->dirty = 1;
		else if (rc == 1)
			e->lazy_dirty = 1;
	}
}

/** The module's own thread: everything that may block or write lives here:
 *  verdict lines, blocks, the backend, expiry, the state file. */
static void *engine_thread(void *arg)
{
	struct dw_engine *e = arg;
	struct dw_verdict v;
	while (!atomic_load(&e->stop)) {
		struct pollfd pfd[1 + DW_CONTROL_MAX_POLLFDS];
		size_t n = 1;
		int timeout = DW_TICK_MS;
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
			dw_fleet_verdict(e, &v, now_ms);
		}
		learn_upstream(e);
		if (e->control)
			dw_control_service(e->control, pfd + 1, n - 1, now_ms);
		dw_enforce_tick(e, now_ms);
		dw_fleet_tick(e, now_ms);
		dw_events_tick(e->events, now_ms);
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
	struct dw_engine *e = calloc(1, sizeof(*e));
	struct dw_clients_conf cc;
	struct timespec ts;

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
	e->wl = dw_whitelist_new(conf, err, errlen);
	e->upstream = dw_ring_new(DW_UPSTREAM_QUEUE, sizeof(struct dw_upstream));
	if (!e->wl || !e->upstream) {
		if (e->upstream)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->wl_state.prefix = "wl";
	e->wl_state.save = dw_whitelist_state_save;
	e->wl_state.load_line = dw_whitelist_state_load_line;
	e->wl_state.arg = e->wl;
	dw_enforce_load(e);
	if (conf->control_socket && conf->control_socket[0]) {
		size_t ncmds;
		const struct dw_command *cmds = dw_commands(&ncmds);
		char cerr[512];
		e->control = dw_control_new(conf->control_socket, conf->control_group, cmds, ncmds,
					    e, log, log_arg, cerr, sizeof(cerr));
		if (!e->control) {
			snprintf(err, errlen, "control.socket: %s", cerr);
			goto fail;
		}
	}
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
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
		}
		dw_enforce_flush(e, dw_mono_ms());
	}
	dw_fleet_free(e);
	dw_control_free(e->control);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	dw_events_free(e->events);
	dw_ring_free(e->verdicts);
	dw_ring_free(e->upstream);
	dw_whitelist_free(e->wl);
	dw_geoip_close(e->geoip);
	dw_suspects_free(e->suspects);
	dw_clients_free(e->clients);
	dw_policy_free(e->policy);
	dw_exempt_free(e->exempt);
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
		 client, name, dw_qtype_name(q->qtype, tb, sizeof(tb)),
		 dw_rcode_name(q->rcode, rb, sizeof(rb)), dw_source_name((enum dw_source)q->source),
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
	uint32_t now = dw_mono_now();

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

/** Count the query like a reply callback would, then look the client up in
 *  the block list: the hook backend's single per-query call. */
void dw_engine_decide(struct dw_engine *e, const struct dw_query *q, struct dw_decision *out)
{
	struct dw_addr key;
	uint8_t prefix;
	memset(out, 0, sizeof(*out));
	dw_engine_observe(e, q);
	dw_policy_key(e->policy, &q->client, &key, &prefix);
	out->action = (uint8_t)dw_policy_lookup(e->policy, &key, (int64_t)time(NULL));
	if (out->action == DW_ACT_SINKHOLE)
		out->sinkhole = q->qtype == 28 ? e->conf->sinkhole_v6 : e->conf->sinkhole_v4;
}

/** Queue an upstream observation; the module's thread learns from it on its
 *  next pass (no wake-up: at most DW_TICK_MS later). */
void dw_engine_upstream(struct dw_engine *e, const struct dw_upstream *u)
{
	dw_ring_push(e->upstream, u);
}

/** The adapter tells the engine which backend enforces (before
 *  dw_engine_start(): the thread reads it without a lock). */
void dw_engine_set_backend(struct dw_engine *e, const struct dw_backend *b)
{
	e->backend = b;
	e->need_sync = 1;
}
