/**
 * \file
 * mail_stats and the mail metrics (mail_commands.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_api.h"
#include "mailwatch.h"
#include "mail_commands.h"

/** A server's name in answers: its address, or its prefix when it has one. */
static void server_text(const struct dw_mailwatch *mw, size_t i, char *buf, size_t len)
{
	const struct dw_cidr *c = dw_mailwatch_server(mw, i);
	if (c->len == (c->addr.family == 4 ? 32 : 128))
		dw_addr_format(&c->addr, buf, len);
	else
		dw_cidr_format(c, buf, len);
}

/** "1764640000" (Unix seconds) or a duration ago ("10m"); -1 if neither. */
static int64_t parse_since(const char *s, int64_t now)
{
	const char *p;
	long d;
	for (p = s; *p && isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0' && p != s && p - s <= 12)
		return (int64_t)strtoll(s, NULL, 10);
	d = dw_parse_duration(s);
	return d < 0 ? -1 : now - d;
}

/** mail_stats [ADDR] [SINCE]: one record per server and interval, oldest
 *  first, from SINCE (default: everything kept) to the current interval
 *  (complete=no). */
void dw_cmd_mail_stats(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	struct dw_mailwatch *mw = dw_engine_mailwatch(e);
	int64_t now = (int64_t)time(NULL), since = -1, cur, first, iv;
	int only = -1, i;
	size_t s, n = dw_mailwatch_servers(mw);
	uint32_t res;
	char buf[DW_ADDR_STRLEN];

	dw_engine_count_request(e);
	if (n == 0) {
		dw_out_error(out, 1, "no mail servers configured (mail_servers: in %s)",
		             dw_engine_conf(e)->path ? dw_engine_conf(e)->path : "the YAML");
		return;
	}
	for (i = 0; i < argc; i++) {
		struct dw_addr a;
		if (only < 0 && dw_addr_parse(argv[i], &a) == 0) {
			if ((only = dw_mailwatch_match(mw, &a)) < 0) {
				dw_out_error(out, 1, "%s is not in mail_servers:", argv[i]);
				return;
			}
		} else if (since < 0 && (since = parse_since(argv[i], now)) >= 0) {
			continue;
		} else {
			dw_out_error(out, 2,
			             "'%s' is neither a mail server's address nor a time "
			             "(Unix seconds or a duration such as 10m)",
			             argv[i]);
			return;
		}
	}
	res = dw_mailwatch_resolution(mw);
	cur = now / res;
	first = cur - (int64_t)dw_mailwatch_buckets(mw) + 2; /* the oldest may be recycled soon */
	if (since >= 0 && since / res > first)
		first = since / res;
	if (first < 0)
		first = 0;
	dw_out_kv_u64(out, "resolution", res);
	dw_out_kv_u64(out, "keep", (uint64_t)(dw_mailwatch_buckets(mw) - 2) * res);
	dw_out_kv_i64(out, "now", now);
	dw_out_kv_u64(out, "missed", dw_mailwatch_missed(mw));
	dw_out_list_begin(out, "intervals");
	for (s = 0; s < n; s++) {
		if (only >= 0 && (size_t)only != s)
			continue;
		server_text(mw, s, buf, sizeof(buf));
		for (iv = first; iv <= cur; iv++) {
			uint64_t c[DW_MW_NCOUNT];
			unsigned k;
			if (dw_mailwatch_read(mw, s, iv, c) != 0)
				continue;
			dw_out_item_begin(out);
			dw_out_kv(out, "server", "%s", buf);
			dw_out_kv_i64(out, "start", iv * res);
			for (k = 0; k < DW_MW_NCOUNT; k++)
				dw_out_kv_u64(out, dw_mailwatch_counter_name((enum dw_mw_counter)k),
				              c[k]);
			dw_out_kv_bool(out, "complete", iv < cur);
			dw_out_item_end(out);
		}
	}
	dw_out_list_end(out);
}

/** Rates of the last complete interval, per server and query class. */
void dw_mail_metrics(struct dw_engine *e, struct dw_out *out)
{
	struct dw_mailwatch *mw = dw_engine_mailwatch(e);
	size_t s, n = dw_mailwatch_servers(mw);
	int64_t last;
	uint32_t res;
	char buf[DW_ADDR_STRLEN];

	if (n == 0)
		return;
	res = dw_mailwatch_resolution(mw);
	last = (int64_t)time(NULL) / res - 1;
	dw_out_text(out, "# HELP dnswarden_mail_query_rate Queries per second of a mail server "
	                 "(mail_servers:) over the last complete mail_watch interval, by class.\n"
	                 "# TYPE dnswarden_mail_query_rate gauge\n");
	for (s = 0; s < n; s++) {
		uint64_t c[DW_MW_NCOUNT];
		unsigned k;
		if (dw_mailwatch_read(mw, s, last, c) != 0)
			memset(c, 0, sizeof(c));
		server_text(mw, s, buf, sizeof(buf));
		for (k = 0; k < DW_MW_NCOUNT; k++)
			dw_out_textf(out,
			             "dnswarden_mail_query_rate{server=\"%s\",class=\"%s\"} %.3f\n",
			             buf, dw_mailwatch_counter_name((enum dw_mw_counter)k),
			             (double)c[k] / res);
	}
	dw_out_textf(out,
	             "# HELP dnswarden_mail_missed_total Mail-server queries not counted "
	             "(bucket being recycled).\n# TYPE dnswarden_mail_missed_total counter\n"
	             "dnswarden_mail_missed_total %llu\n",
	             (unsigned long long)dw_mailwatch_missed(mw));
}
