/**
 * \file
 * What the control socket accepts: the verbs of dnswarden-control(8),
 * answered from the engine's state on the module's own thread (control.h
 * runs them inside that thread's poll loop, so they may take the table's
 * shard locks one at a time, but never hold one long).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "confcheck.h"
#include "commands_incidents.h"
#include "fleet.h"
#include "control.h"
#include "detect.h" /* DW_DETECT_FLAGS_FIRED */
#include "engine_api.h"
#include "domain_commands.h"
#include "forwarder_commands.h"
#include "incidents.h"
#include "mail_commands.h"
#include "wallclock.h"
#include "whitelist.h"
#include "whitelist_out.h"

/** Records list_suspects prints unless told otherwise. */
#define DEFAULT_LIST 1000

/* ---- helpers ------------------------------------------------------------ */

/** Every handler starts here: the engine, with the request counted. */
static struct dw_engine *req(void *arg)
{
	struct dw_engine *e = arg;
	dw_engine_count_request(e);
	return e;
}

/** Parse a client address argument or answer a usage error. */
static int arg_addr(struct dw_out *out, const char *s, struct dw_addr *a)
{
	if (dw_addr_parse(s, a) == 0)
		return 0;
	dw_out_error(out, 2, "'%s' is not an IPv4 or IPv6 address", s);
	return -1;
}

/** Parse a CIDR argument or answer a usage error. */
static int arg_cidr(struct dw_out *out, const char *s, struct dw_cidr *c)
{
	if (dw_cidr_parse(s, c) == 0)
		return 0;
	dw_out_error(out, 2, "'%s' is not an address or prefix (e.g. 192.0.2.0/24)", s);
	return -1;
}

/** The detectors whose bits are set, as "a,b" ("-" for none). */
static void flag_names(uint16_t flags, char *buf, size_t len)
{
	size_t n = 0;
	unsigned d;
	buf[0] = '\0';
	for (d = 0; d < DW_DET_COUNT && n < len; d++)
		if (flags & (1u << d)) {
			int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					 dw_detector_name((enum dw_detector)d));
			n += w > 0 ? (size_t)w : 0;
		}
	if (!buf[0])
		snprintf(buf, len, "-");
}

/** See commands.h. */
void dw_cmd_out_span(const struct dw_engine *e, struct dw_out *out, int64_t created,
                     int64_t expires)
{
	char t[32];
	dw_format_block_time(e, created, t, sizeof(t));
	dw_out_kv(out, "since", "%s", t);
	if (expires)
		dw_format_block_time(e, expires, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "never");
	dw_out_kv(out, "expires", "%s", t);
}

/** The fields of one block entry. */
static void out_block(const struct dw_engine *e, struct dw_out *out, const struct dw_block *b)
{
	char a[DW_ADDR_STRLEN];
	dw_addr_format(&b->client, a, sizeof(a));
	dw_out_kv(out, "client", "%s/%u", a, b->prefix);
	dw_out_kv(out, "action", "%s", dw_action_name((enum dw_action)b->action));
	dw_out_kv(out, "reason", "%s",
		  b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector) : "manual");
	dw_out_kv_u64(out, "duration", b->duration);
	dw_cmd_out_span(e, out, b->created, b->expires);
	dw_out_kv_u64(out, "offences", b->offences);
	dw_out_kv_bool(out, "applied", b->applied == DW_APPLIED_YES);
}

/* ---- status and statistics ---------------------------------------------- */

/** status: what runs, how, since when. */
static void cmd_status(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	const struct dw_conf *conf = dw_engine_conf(e);
	struct dw_engine_stats s;
	char t[32];
	(void)argc, (void)argv;
	dw_engine_stats(e, &s);
	dw_out_kv(out, "version", "%s", DW_VERSION);
	dw_out_kv(out, "mode", "%s", conf->mode == DW_MODE_ENFORCE ? "enforce" : "observe");
	dw_out_kv(out, "backend", "%s", dw_engine_backend_name(e));
	dw_out_kv_bool(out, "backend_ready", dw_engine_backend_ready(e));
	dw_out_kv(out, "config", "%s", conf->path ? conf->path : "-");
	dw_format_wall(s.started, t, sizeof(t));
	dw_out_kv(out, "started", "%s", t);
	dw_out_kv_u64(out, "uptime", (uint64_t)(time(NULL) - s.started));
	dw_out_kv_u64(out, "clients_tracked", s.clients_tracked);
	dw_out_kv_u64(out, "clients_max", s.clients_capacity);
	dw_out_kv_u64(out, "suspects", s.suspects_tracked);
	dw_out_kv_u64(out, "blocks_active", s.blocks_active);
	dw_out_kv_u64(out, "whitelist_entries", s.wl_entries);
	dw_out_kv(out, "state_file", "%s", conf->state_file ? conf->state_file : "-");
	dw_domains_status(e, out);
	dw_fleet_status(e, out);
}

/** stats and stats_noreset: counters since the last reset, gauges now. */
static void print_stats(struct dw_engine *e, struct dw_out *out, int reset)
{
	struct dw_engine_stats st;
	struct dw_counters now, base_copy, *base = &base_copy;
	uint64_t total = 0;
	char key[64];
	unsigned i;

	dw_engine_stats(e, &st);
	now = st.c;
	dw_engine_stats_base(e, base, reset ? &now : NULL);
	for (i = 0; i < DW_SRC_COUNT; i++) {
		snprintf(key, sizeof(key), "queries.%s", dw_source_name((enum dw_source)i));
		dw_out_kv_u64(out, key, now.queries[i] - base->queries[i]);
		total += now.queries[i] - base->queries[i];
	}
	dw_out_kv_u64(out, "queries.total", total);
	for (i = 0; i < DW_DET_COUNT; i++) {
		snprintf(key, sizeof(key), "verdicts.%s", dw_detector_name((enum dw_detector)i));
		dw_out_kv_u64(out, key, now.verdicts[i] - base->verdicts[i]);
	}
	for (i = 1; i < DW_ACT_COUNT; i++) {
		snprintf(key, sizeof(key), "blocks.%s", dw_action_name((enum dw_action)i));
		dw_out_kv_u64(out, key, now.blocks[i] - base->blocks[i]);
	}
	dw_out_kv_u64(out, "unblocks", now.unblocks - base->unblocks);
	dw_out_kv_u64(out, "expiries", now.expiries - base->expiries);
	dw_out_kv_u64(out, "clients.evictions", now.evictions - base->evictions);
	dw_out_kv_u64(out, "clients.evictions_per_s", st.evictions_per_s);
	dw_out_kv_u64(out, "events.suppressed", now.suppressed - base->suppressed);
	dw_out_kv_u64(out, "verdicts.dropped", now.verdicts_dropped - base->verdicts_dropped);
	dw_out_kv_u64(out, "backend.errors", now.backend_errors - base->backend_errors);
	dw_out_kv_u64(out, "control.requests", now.control_requests - base->control_requests);
	dw_out_kv_u64(out, "upstream.events", now.upstream_events - base->upstream_events);
	dw_out_kv_u64(out, "upstream.dropped", now.upstream_dropped - base->upstream_dropped);
	dw_out_kv_u64(out, "incidents.written", now.incidents_written - base->incidents_written);
	dw_out_kv_u64(out, "incidents.dropped", now.incidents_dropped - base->incidents_dropped);
	dw_out_kv_u64(out, "incidents.errors", now.incidents_errors - base->incidents_errors);
	dw_cmd_incident_gauges(e, out);
	dw_out_kv_u64(out, "clients.tracked", st.clients_tracked);
	dw_out_kv_u64(out, "clients.bytes", st.clients_bytes);
	dw_out_kv_u64(out, "suspects.tracked", st.suspects_tracked);
	dw_out_kv_u64(out, "suspects.bytes", st.suspects_bytes);
	/* the distinct-name sets (namestate.h), allocated at engine build */
	dw_out_kv_u64(out, "names.bytes", st.names_bytes);
	dw_out_kv_u64(out, "blocks.active", st.blocks_active);
	dw_out_kv_u64(out, "memory.bytes", st.memory_bytes);
	dw_domains_stats(e, out);
}

/** stats: counters since the last reset, then reset (unbound-control style). */
static void cmd_stats(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)argc, (void)argv;
	print_stats(req(arg), out, 1);
}

/** stats_noreset: the same without resetting. */
static void cmd_stats_noreset(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)argc, (void)argv;
	print_stats(req(arg), out, 0);
}

/** One Prometheus metric family with a single sample. */
static void metric(struct dw_out *out, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	dw_out_textf(out, "# HELP dnswarden_%s %s\n# TYPE dnswarden_%s %s\ndnswarden_%s %llu\n",
		     name, help, name, type, name, (unsigned long long)v);
}

/** metrics: Prometheus text exposition format 0.0.4 (never reset). */
static void cmd_metrics(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_engine_stats s;
	const struct dw_counters *cn = &s.c;
	unsigned i;
	(void)argc, (void)argv;
	dw_engine_stats(e, &s);
	dw_out_text(out, "# HELP dnswarden_queries_total Answered client queries seen, by answer path.\n"
			 "# TYPE dnswarden_queries_total counter\n");
	for (i = 0; i < DW_SRC_COUNT; i++)
		dw_out_textf(out, "dnswarden_queries_total{source=\"%s\"} %llu\n",
		             dw_source_name((enum dw_source)i), (unsigned long long)cn->queries[i]);
	dw_out_text(out, "# HELP dnswarden_verdicts_total Detector crossings, by detector.\n"
			 "# TYPE dnswarden_verdicts_total counter\n");
	for (i = 0; i < DW_DET_COUNT; i++)
		dw_out_textf(out, "dnswarden_verdicts_total{detector=\"%s\"} %llu\n",
		             dw_detector_name((enum dw_detector)i),
		             (unsigned long long)cn->verdicts[i]);
	dw_out_text(out, "# HELP dnswarden_blocks_total Blocks started, by action.\n"
			 "# TYPE dnswarden_blocks_total counter\n");
	for (i = 1; i < DW_ACT_COUNT; i++)
		dw_out_textf(out, "dnswarden_blocks_total{action=\"%s\"} %llu\n",
		             dw_action_name((enum dw_action)i), (unsigned long long)cn->blocks[i]);
	metric(out, "blocks_active", "gauge", "Blocks in force.", s.blocks_active);
	metric(out, "unblocks_total", "counter", "Blocks lifted by hand.", cn->unblocks);
	metric(out, "expiries_total", "counter", "Blocks that ran out.", cn->expiries);
	metric(out, "clients_tracked", "gauge", "Clients in the table.", s.clients_tracked);
	metric(out, "clients_capacity", "gauge", "Cap of the client table (clients.max).",
	       s.clients_capacity);
	metric(out, "clients_evictions_total", "counter",
	       "Clients dropped to make room for new ones.", cn->evictions);
	metric(out, "clients_evictions_per_second", "gauge",
	       "Clients evicted in the last whole second.", s.evictions_per_s);
	metric(out, "clients_bytes", "gauge", "Heap held by the client table.", s.clients_bytes);
	metric(out, "suspects_tracked", "gauge", "Clients with evidence kept.", s.suspects_tracked);
	metric(out, "events_suppressed_total", "counter", "Log lines held back by syslog.rate.",
	       cn->suppressed);
	metric(out, "verdicts_dropped_total", "counter",
	       "Verdicts lost because the module's thread fell behind.", cn->verdicts_dropped);
	metric(out, "backend_errors_total", "counter", "Failed backend operations.",
	       cn->backend_errors);
	metric(out, "control_requests_total", "counter", "Control socket requests.",
	       cn->control_requests);
	metric(out, "upstream_events_total", "counter",
	       "Upstream observations the whitelist learned from.", cn->upstream_events);
	metric(out, "upstream_dropped_total", "counter",
	       "Upstream observations lost because the module's thread fell behind.",
	       cn->upstream_dropped);
	metric(out, "whitelist_entries", "gauge", "Addresses known to be nameservers.",
	       s.wl_entries);
	metric(out, "whitelist_evicted_total", "counter",
	       "Whitelist addresses evicted because it was full.", s.wl_evicted);
	metric(out, "incidents_written_total", "counter", "Incident rows written to the database.",
	       cn->incidents_written);
	metric(out, "incidents_dropped_total", "counter",
	       "Incident rows lost because the database fell behind.", cn->incidents_dropped);
	metric(out, "incidents_errors_total", "counter", "Failed incident database writes.",
	       cn->incidents_errors);
	metric(out, "uptime_seconds", "gauge", "Seconds since the module was loaded.",
	       (uint64_t)(time(NULL) - s.started));
	dw_mail_metrics(e, out);
	dw_fwd_metrics(e, out);
	dw_domains_metrics(e, out);
}

/* ---- clients -------------------------------------------------------------- */

struct suspects_walk {
	struct dw_engine *e;
	struct dw_out *out;
	int all;
	unsigned left;
};

/** One suspect record, formatted after the walk (no lock held): flagged now
 *  (or every suspect with "all"). 1 when the count is reached. */
static int suspect_one(struct suspects_walk *w, const struct dw_suspect_copy *sv)
{
	struct dw_client_view cv;
	char a[DW_ADDR_STRLEN], t[32], flags[160];
	uint16_t f = 0;
	struct dw_addr key;
	uint8_t prefix;
	enum dw_action act;
	unsigned i;

	if (dw_engine_client(w->e, &sv->addr, sv->now, &cv))
		f = cv.flags & DW_DETECT_FLAGS_FIRED; /* not the forwarder bit */
	dw_engine_block_key(w->e, &sv->addr, &key, &prefix);
	act = dw_engine_block_action(w->e, &key);
	if (!w->all && !f && act == DW_ACT_LOG)
		return 0;
	if (w->left == 0)
		return 1;
	w->left--;
	dw_out_item_begin(w->out);
	dw_addr_format(&sv->addr, a, sizeof(a));
	dw_out_kv(w->out, "client", "%s", a);
	flag_names(f, flags, sizeof(flags));
	dw_out_kv(w->out, "flagged", "%s", flags);
	dw_out_kv(w->out, "blocked", "%s", act == DW_ACT_LOG ? "no" : dw_action_name(act));
	dw_format_mono(w->e, sv->first_seen, t, sizeof(t));
	dw_out_kv(w->out, "first_seen", "%s", t);
	dw_format_mono(w->e, sv->last_suspicious, t, sizeof(t));
	dw_out_kv(w->out, "last_suspicious", "%s", t);
	for (i = 0; i < DW_Q_COUNT; i++)
		dw_out_kv_u64(w->out, dw_qclass_name((enum dw_qclass)i), sv->qclass[i]);
	for (i = 0; i < DW_FEAT_COUNT; i++)
		dw_out_kv_u64(w->out, dw_feature_name(1u << i), sv->feature[i]);
	dw_out_item_end(w->out);
	return 0;
}

/** list_suspects [all] [N]: clients a detector flags now, or blocked; with
 *  "all" every client with evidence. */
static void cmd_list_suspects(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct suspects_walk w = {.e = req(arg), .out = out, .left = DEFAULT_LIST};
	int i;
	for (i = 0; i < argc; i++) {
		char *end;
		unsigned long n;
		if (strcmp(argv[i], "all") == 0) {
			w.all = 1;
			continue;
		}
		n = strtoul(argv[i], &end, 10);
		if (*end || end == argv[i] || n == 0 || n > 10000000) {
			dw_out_error(out, 2, "'%s': expected 'all' or a count", argv[i]);
			return;
		}
		w.left = (unsigned)n;
	}
	{
		struct dw_engine_stats st;
		struct dw_suspect_copy *v;
		size_t k, n, cap;
		dw_engine_stats(w.e, &st);
		cap = st.suspects_capacity ? st.suspects_capacity : 1;
		v = malloc(cap * sizeof(*v));
		if (!v) {
			dw_out_error(out, 1, "out of memory for %zu suspects", cap);
			return;
		}
		n = dw_engine_suspects_copy(w.e, dw_mono_now(), v, cap);
		dw_out_list_begin(out, "suspects");
		for (k = 0; k < n; k++)
			if (suspect_one(&w, &v[k]))
				break;
		dw_out_list_end(out);
		free(v);
	}
}

/** dw_policy_foreach callback for list_blocked. */
struct blocked_ctx {
	const struct dw_engine *e;
	struct dw_out *out;
	int64_t now;
};
static int blocked_one(void *arg, const struct dw_block *b)
{
	const struct blocked_ctx *bc = arg;
	struct dw_out *out = bc->out;
	if (!b->active || (b->expires && b->expires <= bc->now))
		return 0;
	dw_out_item_begin(out);
	out_block(bc->e, out, b);
	dw_out_item_end(out);
	return 0;
}

/** list_blocked: every block in force. */
static void cmd_list_blocked(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	(void)argc, (void)argv;
	struct blocked_ctx bc = {e, out, dw_block_clock(e)};
	dw_out_list_begin(out, "blocked");
	dw_engine_blocks_foreach(e, blocked_one, &bc);
	dw_fleet_list_blocked(e, out);
	dw_out_list_end(out);
}

/** show_client ADDR: everything known about one client. */
static void cmd_show_client(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_addr a;
	struct dw_client_view cv;
	struct dw_suspect_view sv;
	struct dw_block fb;
	struct dw_addr fkey;
	struct dw_geo geo;
	uint8_t prefix;
	char buf[DW_ADDR_STRLEN], t[32], key[64];
	uint32_t now = dw_mono_now();
	unsigned i;
	int tracked, found;
	(void)argc;

	if (arg_addr(out, argv[0], &a) != 0)
		return;
	memset(&fb, 0, sizeof(fb));
	dw_engine_block_key(e, &a, &fkey, &prefix);
	dw_addr_format(&fkey, buf, sizeof(buf));
	dw_out_kv(out, "client", "%s", buf);
	dw_out_kv_u64(out, "prefix", prefix);
	dw_out_kv_bool(out, "exempt", dw_engine_exempt_match(e, &fkey));
	dw_fwd_show_client(e, &fkey, out);
	tracked = dw_engine_client(e, &a, now, &cv);
	dw_out_kv_bool(out, "tracked", tracked);
	if (tracked) {
		char flags[160];
		dw_format_mono(e, cv.first_seen, t, sizeof(t));
		dw_out_kv(out, "first_seen", "%s", t);
		dw_format_mono(e, cv.last_seen, t, sizeof(t));
		dw_out_kv(out, "last_seen", "%s", t);
		dw_out_kv_u64(out, "queries", cv.total);
		flag_names(cv.flags, flags, sizeof(flags));
		dw_out_kv(out, "flagged", "%s", flags);
		for (i = 0; i < cv.ncounters; i++) {
			dw_engine_counter_label(e, i, key, sizeof(key));
			dw_out_kv_u64(out, key, cv.counts[i]);
		}
	}
	if (dw_engine_suspect(e, &fkey, now, &sv)) {
		dw_out_kv_u64(out, "evidence_window", sv.window);
		for (i = 0; i < DW_Q_COUNT; i++) {
			snprintf(key, sizeof(key), "evidence.%s", dw_qclass_name((enum dw_qclass)i));
			dw_out_kv_u64(out, key, sv.qclass[i]);
		}
		for (i = 0; i < DW_FEAT_COUNT; i++) {
			snprintf(key, sizeof(key), "evidence.%s", dw_feature_name(1u << i));
			dw_out_kv_u64(out, key, sv.feature[i]);
		}
		for (i = 0; i < sv.nnames; i++) {
			snprintf(key, sizeof(key), "recent.%u", i + 1);
			dw_out_kv(out, key, "%s", sv.names[i]);
		}
	}
	found = dw_engine_block_find(e, &fkey, &fb);
	if (found && fb.active && (!fb.expires || fb.expires > dw_block_clock(e))) {
		dw_out_kv(out, "blocked", "%s", dw_action_name((enum dw_action)fb.action));
		dw_out_kv(out, "block_reason", "%s",
		          fb.detector >= 0 ? dw_detector_name((enum dw_detector)fb.detector)
		                           : "manual");
		if (fb.expires)
			dw_format_block_time(e, fb.expires, t, sizeof(t));
		else
			snprintf(t, sizeof(t), "never");
		dw_out_kv(out, "block_expires", "%s", t);
		dw_out_kv_u64(out, "offences", fb.offences);
	} else {
		dw_out_kv(out, "blocked", "no");
		if (found)
			dw_out_kv_u64(out, "offences", fb.offences);
	}
	dw_fleet_show_client(e, &fkey, out);
	if (dw_engine_geo(e, &fkey, &geo)) {
		if (geo.country[0])
			dw_out_kv(out, "geo.country", "%s", geo.country);
		if (geo.asn)
			dw_out_kv_u64(out, "geo.asn", geo.asn);
		if (geo.as_org[0])
			dw_out_kv(out, "geo.as_org", "%s", geo.as_org);
	}
	dw_cmd_client_history(e, &fkey, out);
}

/* ---- acting ----------------------------------------------------------------- */

/** block ADDR [DURATION] [ACTION]: 1h and nxdomain by default; "0" or
 *  "forever" as DURATION = until unblocked. */
static void cmd_block(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_addr a;
	struct dw_block b;
	char err[256], by[32];
	long duration = 3600;
	int action = DW_ACT_NXDOMAIN;

	if (arg_addr(out, argv[0], &a) != 0)
		return;
	if (argc > 1) {
		if (strcmp(argv[1], "forever") == 0)
			duration = 0;
		else if ((duration = dw_parse_duration(argv[1])) < 0 ||
		         duration > (long)dw_engine_conf(e)->policy_max_duration) {
			dw_out_error(out, 2,
			             "'%s' is not a duration (e.g. 30m, 2h, 1d; at most %us)",
			             argv[1], dw_engine_conf(e)->policy_max_duration);
			return;
		}
	}
	if (argc > 2 && ((action = dw_action_from_name(argv[2])) < 0 || action == DW_ACT_LOG)) {
		dw_out_error(out, 2,
			     "'%s' is not an action (refuse, nxdomain, nodata, sinkhole, drop, "
			     "tcp-only)",
			     argv[2]);
		return;
	}
	snprintf(by, sizeof(by), "control:uid=%u", dw_out_peer_uid(out));
	if (dw_engine_block(e, &a, (uint32_t)duration, (enum dw_action)action, by, &b, err,
	                    sizeof(err)) != 0) {
		dw_out_error(out, 1, "%s", err);
		return;
	}
	out_block(e, out, &b);
}

/** unblock ADDR. */
static void cmd_unblock(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_addr a;
	struct dw_block b;
	char by[32];
	(void)argc;
	if (arg_addr(out, argv[0], &a) != 0)
		return;
	snprintf(by, sizeof(by), "control:uid=%u", dw_out_peer_uid(out));
	if (!dw_engine_unblock(e, &a, by, &b)) {
		dw_out_error(out, 1, "%s is not blocked", argv[0]);
		return;
	}
	out_block(e, out, &b);
}

/** exempt_add CIDR (also lifts blocks of clients inside it). */
static void cmd_exempt_add(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_cidr c;
	char buf[DW_ADDR_STRLEN];
	int rc;
	(void)argc;
	if (arg_cidr(out, argv[0], &c) != 0)
		return;
	rc = dw_engine_exempt_add(e, &c, dw_out_peer_uid(out));
	if (rc < 0) {
		dw_out_error(out, 1, "the exemption list is full");
		return;
	}
	dw_cidr_format(&c, buf, sizeof(buf));
	dw_out_kv(out, "exempt", "%s", buf);
	dw_out_kv(out, "result", "%s", rc ? "added" : "already-exempt");
}

/** exempt_remove CIDR. */
static void cmd_exempt_remove(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_cidr c;
	char buf[DW_ADDR_STRLEN];
	(void)argc;
	if (arg_cidr(out, argv[0], &c) != 0)
		return;
	dw_cidr_format(&c, buf, sizeof(buf));
	if (!dw_engine_exempt_remove(e, &c, dw_out_peer_uid(out))) {
		dw_out_error(out, 1, "%s is not on the exemption list", buf);
		return;
	}
	dw_out_kv(out, "exempt", "%s", buf);
	dw_out_kv(out, "result", "removed");
}

/** dw_exempt_foreach callback for list_exempt. */
static void exempt_one(void *arg, const struct dw_cidr *c, const char *origin)
{
	struct dw_out *out = arg;
	char buf[DW_ADDR_STRLEN];
	dw_cidr_format(c, buf, sizeof(buf));
	dw_out_item_begin(out);
	dw_out_kv(out, "exempt", "%s", buf);
	dw_out_kv(out, "origin", "%s", origin);
	dw_out_item_end(out);
}

/** list_exempt. */
static void cmd_list_exempt(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	(void)argc, (void)argv;
	dw_out_list_begin(out, "exempt");
	dw_engine_exempt_foreach(e, exempt_one, out);
	dw_out_list_end(out);
}

/** reload: check the YAML first; a broken file keeps everything running and
 *  says where it is broken; a good one makes Unbound reload (SIGHUP), which
 *  re-initialises the module with it (blocks come back from the state file;
 *  Unbound's cache and the detectors' counters start afresh). */
static void cmd_reload(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	char err[1024];
	const char *path = NULL;
	(void)argc, (void)argv;
	if (dw_engine_reload(e, &path, err, sizeof(err)) != 0) {
		dw_out_error(out, 1, "%s (the running configuration is kept)", err);
		return;
	}
	dw_out_kv(out, "reload", "%s", path);
	dw_out_kv(out, "result", "ok: Unbound reloads (its cache is flushed)");
}

/** dump_whitelist: every address known to be a nameserver now. */
static void cmd_dump_whitelist(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	(void)argc, (void)argv;
	dw_whitelist_out_dump(out, dw_engine_whitelist(e), time(NULL));
}

/** check_ns ADDR: known or not, as what, for which zones, until when. */
static void cmd_check_ns(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	struct dw_addr a;
	(void)argc;
	if (arg_addr(out, argv[0], &a) != 0)
		return;
	dw_whitelist_out_check(out, dw_engine_whitelist(e), &a, time(NULL));
}

/** export_nft: a file for `nft -f` with the sets dnswarden_ns4/ns6. */
static void cmd_export_nft(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = req(arg);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	(void)argc, (void)argv;
	if (!f) {
		dw_out_error(out, 1, "out of memory");
		return;
	}
	if (dw_whitelist_export_nft(dw_engine_whitelist(e), time(NULL), f) < 0) {
		fclose(f);
		free(text);
		dw_out_error(out, 1, "cannot write the nftables set");
		return;
	}
	fclose(f);
	dw_out_text(out, text ? text : "");
	free(text);
}

static const struct dw_command commands[] = {
    {"status", 0, 0, "status", cmd_status},
    {"stats", 0, 0, "stats", cmd_stats},
    {"stats_noreset", 0, 0, "stats_noreset", cmd_stats_noreset},
    {"list_suspects", 0, 2, "list_suspects [all] [COUNT]", cmd_list_suspects},
    {"list_blocked", 0, 0, "list_blocked", cmd_list_blocked},
    {"show_client", 1, 1, "show_client ADDR", cmd_show_client},
    {"block", 1, 3, "block ADDR [DURATION|forever] [ACTION]", cmd_block},
    {"unblock", 1, 1, "unblock ADDR", cmd_unblock},
    {"exempt_add", 1, 1, "exempt_add CIDR", cmd_exempt_add},
    {"exempt_remove", 1, 1, "exempt_remove CIDR", cmd_exempt_remove},
    {"list_exempt", 0, 0, "list_exempt", cmd_list_exempt},
    {"dump_whitelist", 0, 0, "dump_whitelist", cmd_dump_whitelist},
    {"check_ns", 1, 1, "check_ns ADDR", cmd_check_ns},
    {"export_nft", 0, 0, "export_nft", cmd_export_nft},
    {"metrics", 0, 0, "metrics", cmd_metrics},
    {"reload", 0, 0, "reload", cmd_reload},
    {"incidents", 0, 9, DW_CMD_INCIDENTS_USAGE, dw_cmd_incidents},
    {"mail_stats", 0, 2, "mail_stats [ADDR] [SINCE]", dw_cmd_mail_stats},
    {"forwarders", 0, 0, "forwarders", dw_cmd_forwarders},
    {"list_domains", 0, 0, "list_domains", dw_cmd_list_domains},
    {"block_domain", 1, 3, "block_domain DOMAIN [DURATION|forever] [ACTION]", dw_cmd_block_domain},
    {"unblock_domain", 1, 1, "unblock_domain DOMAIN", dw_cmd_unblock_domain},
};

/** The verb table for dw_control_new(). */
const struct dw_command *dw_commands(size_t *n)
{
	*n = sizeof(commands) / sizeof(commands[0]);
	return commands;
}
