/**
 * \file
 * Domain blocks at the control socket (domain_commands.h).
 */
#include "domain_commands.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "domain_blocks.h"
#include "engine.h"
#include "engine_api.h"
#include "fleet.h"

/** The argument as a domain: lower case, final dot cut. 0, or answers a
 *  usage error and returns -1. */
static int arg_domain(struct dw_out *out, const char *s, char *buf, size_t len)
{
	size_t i, n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= len) {
		dw_out_error(out, 2, "'%s' is not a domain name", s);
		return -1;
	}
	for (i = 0; i < n; i++)
		buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
	buf[n] = '\0';
	return 0;
}

/** One domain block's fields. */
static void out_domain(struct dw_engine *e, struct dw_out *out, const struct dw_domain_block *b)
{
	dw_out_kv(out, "domain", "%s", b->name);
	dw_out_kv(out, "action", "%s", dw_action_name((enum dw_action)b->action));
	dw_out_kv(out, "reason", "%s",
	          b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector) : "manual");
	dw_cmd_out_span(e, out, b->created, b->expires);
	dw_out_kv(out, "enforced", "%s",
	          dw_engine_conf(e)->mode != DW_MODE_ENFORCE ? "no"
	          : !dw_engine_domains_live(e)               ? "zonefile"
	          : b->applied                               ? "yes"
	                                                     : "pending");
}

void dw_cmd_list_domains(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	struct dw_domain_block b;
	size_t i;
	(void)argc, (void)argv;
	dw_engine_count_request(e);
	dw_out_list_begin(out, "domains");
	for (i = 0; dw_domains_get(dw_engine_domains(e), i, &b) == 0; i++) {
		dw_out_item_begin(out);
		out_domain(e, out, &b);
		dw_out_item_end(out);
	}
	dw_fleet_list_domains(e, out); /* the peers' (fleet.h) */
	dw_out_list_end(out);
	dw_out_kv_u64(out, "domain_blocks_active", dw_domains_count(dw_engine_domains(e)));
	dw_out_kv_u64(out, "peer_domain_blocks", dw_fleet_peer_domains(e));
}

void dw_cmd_block_domain(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	struct dw_domain_block b;
	char name[DW_DOMAIN_NAME_MAX], err[512], by[32];
	long duration = dw_engine_conf(e)->tunnel_domain_duration;
	int action = dw_engine_conf(e)->tunnel_domain_action != DW_ACT_LOG
	                 ? (int)dw_engine_conf(e)->tunnel_domain_action
	                 : DW_ACT_NXDOMAIN;
	dw_engine_count_request(e);
	if (arg_domain(out, argv[0], name, sizeof(name)) != 0)
		return;
	if (argc > 1) {
		if (strcmp(argv[1], "forever") == 0)
			duration = 0;
		else if ((duration = dw_parse_duration(argv[1])) <= 0 || duration > 30 * 86400) {
			dw_out_error(out, 2,
			             "'%s' is not a duration (e.g. 30m, 2h, 1d; at most 30d)",
			             argv[1]);
			return;
		}
	}
	if (argc > 2 &&
	    ((action = dw_action_from_name(argv[2])) != DW_ACT_NXDOMAIN &&
	     action != DW_ACT_NODATA && action != DW_ACT_SINKHOLE && action != DW_ACT_DROP)) {
		dw_out_error(out, 2,
		             "'%s' is not a domain action (nxdomain, nodata, sinkhole, drop)",
		             argv[2]);
		return;
	}
	snprintf(by, sizeof(by), "control:uid=%u", dw_out_peer_uid(out));
	if (dw_domains_block(e, name, (uint32_t)duration, (enum dw_action)action, -1, by, &b, err,
	                     sizeof(err)) != 0) {
		dw_out_error(out, 1, "%s", err);
		return;
	}
	out_domain(e, out, &b);
}

void dw_cmd_unblock_domain(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	char name[DW_DOMAIN_NAME_MAX], by[32];
	(void)argc;
	dw_engine_count_request(e);
	if (arg_domain(out, argv[0], name, sizeof(name)) != 0)
		return;
	snprintf(by, sizeof(by), "control:uid=%u", dw_out_peer_uid(out));
	if (!dw_domains_unblock(e, name, by)) {
		dw_out_error(out, 1, "%s is not blocked", name);
		return;
	}
	dw_out_kv(out, "domain", "%s", name);
	dw_out_kv(out, "result", "unblocked");
}

void dw_domains_status(struct dw_engine *e, struct dw_out *out)
{
	dw_out_kv_u64(out, "domain_blocks_active", dw_domains_count(dw_engine_domains(e)));
}

void dw_domains_stats(struct dw_engine *e, struct dw_out *out)
{
	uint64_t blocked, refused, expired, unblocked;
	dw_domains_counters(dw_engine_domains(e), &blocked, &refused, &expired, &unblocked);
	dw_out_kv_u64(out, "domain_blocks.active", dw_domains_count(dw_engine_domains(e)));
	dw_out_kv_u64(out, "domain_blocks.blocked", blocked);
	dw_out_kv_u64(out, "domain_blocks.refused", refused);
	dw_out_kv_u64(out, "domain_blocks.expired", expired);
	dw_out_kv_u64(out, "domain_blocks.unblocked", unblocked);
}

void dw_domains_metrics(struct dw_engine *e, struct dw_out *out)
{
	uint64_t blocked, refused, expired, unblocked;
	dw_domains_counters(dw_engine_domains(e), &blocked, &refused, &expired, &unblocked);
	dw_out_textf(out,
	             "# HELP dnswarden_domain_blocks_active Domains blocked for every client.\n"
	             "# TYPE dnswarden_domain_blocks_active gauge\n"
	             "dnswarden_domain_blocks_active %zu\n"
	             "# HELP dnswarden_domain_blocks_total Domain blocks started, refused by the "
	             "guard or the rate, expired, lifted by hand.\n"
	             "# TYPE dnswarden_domain_blocks_total counter\n"
	             "dnswarden_domain_blocks_total{event=\"blocked\"} %llu\n"
	             "dnswarden_domain_blocks_total{event=\"refused\"} %llu\n"
	             "dnswarden_domain_blocks_total{event=\"expired\"} %llu\n"
	             "dnswarden_domain_blocks_total{event=\"unblocked\"} %llu\n",
	             dw_domains_count(dw_engine_domains(e)), (unsigned long long)blocked,
	             (unsigned long long)refused, (unsigned long long)expired,
	             (unsigned long long)unblocked);
}
