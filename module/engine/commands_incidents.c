/**
 * \file
 * The incident history's control verbs (commands_incidents.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands_incidents.h"
#include "domtext.h"
#include "engine_api.h"
#include "incidents.h"
#include "wallclock.h"

/** Rows `incidents` prints unless told otherwise, and at most. */
#define DEFAULT_ROWS 100
#define MAX_ROWS 100000

/** The value of --domain as the rows hold a domain (domtext.h: lower case,
 *  the final dot cut), in buf (len bytes). 0, or -1 when s is no such name. */
static int domain_arg(const char *s, char *buf, size_t len)
{
	return dw_domain_text(s, strlen(s), buf, len) < 0 ? -1 : 0;
}

/** One row of `incidents`. */
static int row_out(void *arg, const struct dw_inc_row *r)
{
	struct dw_out *out = arg;
	char t[32];
	dw_out_item_begin(out);
	dw_out_kv_i64(out, "id", r->id);
	dw_format_wall(r->time, t, sizeof(t));
	dw_out_kv(out, "time", "%s", t);
	dw_out_kv(out, "event", "%s", r->event);
	dw_out_kv(out, "client", "%s/%u", r->client, r->prefix);
	dw_out_kv(out, "detector", "%s", r->detector[0] ? r->detector : "-");
	dw_out_kv(out, "action", "%s", r->action[0] ? r->action : "-");
	dw_out_kv_i64(out, "duration", r->duration);
	dw_out_kv_i64(out, "step", r->step < 0 ? 0 : r->step);
	dw_out_kv_i64(out, "blocked_before", r->blocked_before);
	dw_out_kv(out, "mode", "%s", r->mode);
	dw_out_kv(out, "backend", "%s", r->backend);
	if (r->uid >= 0)
		dw_out_kv_i64(out, "uid", r->uid);
	else
		dw_out_kv(out, "uid", "-");
	dw_out_kv(out, "country", "%s", r->country[0] ? r->country : "-");
	if (r->asn > 0)
		dw_out_kv(out, "asn", "AS%lld", (long long)r->asn);
	else
		dw_out_kv(out, "asn", "-");
	dw_out_kv(out, "domain", "%s", r->domain[0] ? r->domain : "-");
	dw_out_kv(out, "names", "%s", r->names);
	if (dw_out_is_json(out))
		dw_out_kv_json(out, "evidence", r->evidence);
	dw_out_item_end(out);
	return 0;
}

/** incidents [--client ADDR|CIDR] [--detector NAME] [--domain NAME] [--since DURATION] [N] */
void dw_cmd_incidents(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	struct dw_inc_filter f;
	char err[512], domain[DW_INC_DOMAIN_MAX];
	int i;
	dw_engine_count_request(e);
	memset(&f, 0, sizeof(f));
	f.detector = -1;
	f.limit = DEFAULT_ROWS;
	for (i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--client") == 0 || strcmp(opt, "--detector") == 0 ||
		    strcmp(opt, "--domain") == 0 || strcmp(opt, "--since") == 0) {
			const char *v = i + 1 < argc ? argv[++i] : NULL;
			long d;
			if (!v) {
				dw_out_error(out, 2, "%s needs a value; usage: %s", opt,
					     DW_CMD_INCIDENTS_USAGE);
				return;
			}
			if (opt[2] == 'c') {
				if (dw_cidr_parse(v, &f.cidr) != 0) {
					dw_out_error(out, 2,
						     "'%s' is not an address or prefix (e.g. "
						     "192.0.2.0/24)",
						     v);
					return;
				}
				f.has_cidr = 1;
			} else if (strcmp(opt, "--domain") == 0) {
				if (domain_arg(v, domain, sizeof(domain)) != 0) {
					dw_out_error(
					    out, 2,
					    "'%s' is not a domain name (letters, digits, '-', "
					    "'_'; labels of 1..63, at most %d bytes)",
					    v, DW_INC_DOMAIN_MAX - 1);
					return;
				}
				f.domain = domain;
			} else if (opt[2] == 'd') {
				if ((f.detector = dw_detector_from_name(v)) < 0) {
					dw_out_error(out, 2, "'%s' is not a detector", v);
					return;
				}
			} else {
				if ((d = dw_parse_duration(v)) <= 0) {
					dw_out_error(out, 2, "'%s' is not a duration (e.g. 30m, 24h, 7d)",
						     v);
					return;
				}
				f.since = (int64_t)time(NULL) - d;
			}
		} else {
			char *end;
			unsigned long n = strtoul(opt, &end, 10);
			if (*end || end == opt || opt[0] == '-' || n == 0 || n > MAX_ROWS) {
				dw_out_error(out, 2, "'%s': expected an option or a count (1 .. %u); "
						     "usage: %s",
					     opt, MAX_ROWS, DW_CMD_INCIDENTS_USAGE);
				return;
			}
			f.limit = (unsigned)n;
		}
	}
	if (!dw_engine_incidents(e)) {
		dw_out_error(out, 1, "the incident history is off (incidents.database is empty)");
		return;
	}
	dw_out_list_begin(out, "incidents");
	if (dw_incidents_query(dw_engine_incidents(e), &f, row_out, out, err, sizeof(err)) != 0) {
		dw_out_error(out, 1, "%s", err);
		return;
	}
	dw_out_list_end(out);
}

/** show_client's history fields. */
void dw_cmd_client_history(struct dw_engine *e, const struct dw_addr *key, struct dw_out *out)
{
	struct dw_incidents *inc = dw_engine_incidents(e);
	struct dw_inc_history h;
	char err[512], t[32];
	if (!inc)
		return;
	if (dw_incidents_history(inc, key, &h, err, sizeof(err)) != 0) {
		dw_out_kv(out, "history", "unavailable: %s", err);
		return;
	}
	if (h.first_seen) {
		dw_format_wall(h.first_seen, t, sizeof(t));
		dw_out_kv(out, "history.first_seen", "%s", t);
		dw_format_wall(h.last_seen, t, sizeof(t));
		dw_out_kv(out, "history.last_seen", "%s", t);
	} else {
		dw_out_kv(out, "history.first_seen", "never");
	}
	dw_out_kv_u64(out, "history.incidents", h.incidents);
	dw_out_kv_u64(out, "history.verdicts", h.verdicts);
	dw_out_kv_u64(out, "history.blocks", h.blocks);
	dw_out_kv_u64(out, "history.repeat_offences", h.repeat_offences);
	dw_out_kv(out, "history.detectors", "%s", h.detectors[0] ? h.detectors : "-");
}

/** stats' gauges of the store. */
void dw_cmd_incident_gauges(struct dw_engine *e, struct dw_out *out)
{
	struct dw_incidents *inc = dw_engine_incidents(e);
	struct dw_inc_stats s;
	if (!inc)
		return;
	dw_incidents_stats(inc, &s);
	dw_out_kv_u64(out, "incidents.queued", s.queued);
	dw_out_kv_bool(out, "incidents.ok", s.ok);
	dw_out_kv_u64(out, "incidents.write_ns_per_row",
		      s.written ? s.write_ns / s.written : 0);
}
