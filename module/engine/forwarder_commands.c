/**
 * \file
 * Pooled clients at the control socket (forwarder_commands.h).
 */
#include "forwarder_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_api.h"

/** The tracked forwarder clients, copied out of the shard locks. */
struct fwd_walk {
	const struct dw_conf *conf;
	struct dw_client_view *v; /* DW_FWD_LIST_MAX entries */
	size_t n, more;
};

/** dw_clients_foreach callback: keep the clients inside a forwarder prefix. */
static int fwd_one(void *arg, const struct dw_client_view *v)
{
	struct fwd_walk *w = arg;
	if (!dw_cidr_list_match(w->conf->forwarders, w->conf->forwarder_count, &v->addr))
		return 0;
	if (w->n < DW_FWD_LIST_MAX)
		w->v[w->n++] = *v;
	else
		w->more++;
	return 0;
}

/** The detectors whose fired bit is set, "a,b" or "-". */
static void fired_names(uint16_t flags, char *buf, size_t len)
{
	size_t n = 0;
	unsigned d;
	snprintf(buf, len, "-");
	for (d = 0; d < DW_DET_COUNT && n < len; d++)
		if (flags & (1u << d)) {
			int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			                 dw_detector_name((enum dw_detector)d));
			n += w > 0 ? (size_t)w : 0;
		}
}

/** forwarders: settings, prefixes, tracked forwarder clients. */
void dw_cmd_forwarders(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_engine *e = arg;
	const struct dw_conf *c = dw_engine_conf(e);
	struct dw_engine_stats st;
	struct fwd_walk w = {c, NULL, 0, 0};
	char buf[DW_ADDR_STRLEN + 8], key[64], fired[256];
	size_t i;
	unsigned k;
	(void)argc, (void)argv;

	dw_out_kv_u64(out, "threshold_factor", c->forwarder_factor);
	dw_out_kv_u64(out, "prefix_count", c->forwarder_count);
	dw_engine_stats(e, &st);
	dw_out_kv_u64(out, "verdicts", st.forwarder_verdicts);
	if (c->forwarder_count) {
		w.v = malloc(DW_FWD_LIST_MAX * sizeof(*w.v));
		if (!w.v) {
			dw_out_error(out, 1, "out of memory");
			return;
		}
		dw_engine_clients_foreach(e, dw_mono_now(), fwd_one, &w);
	}
	dw_out_kv_u64(out, "tracked", w.n + w.more);
	dw_out_list_begin(out, "prefixes");
	for (i = 0; i < c->forwarder_count; i++) {
		dw_cidr_format(&c->forwarders[i], buf, sizeof(buf));
		dw_out_item_begin(out);
		dw_out_kv(out, "prefix", "%s", buf);
		dw_out_item_end(out);
	}
	dw_out_list_end(out);
	dw_out_list_begin(out, "clients");
	for (i = 0; i < w.n; i++) {
		const struct dw_client_view *v = &w.v[i];
		dw_addr_format(&v->addr, buf, sizeof(buf));
		dw_out_item_begin(out);
		dw_out_kv(out, "client", "%s", buf);
		dw_out_kv_u64(out, "queries", v->total);
		fired_names(v->flags, fired, sizeof(fired));
		dw_out_kv(out, "fired", "%s", fired);
		for (k = 0; k < v->ncounters; k++) {
			dw_engine_counter_label(e, k, key, sizeof(key));
			dw_out_kv_u64(out, key, v->counts[k]);
		}
		dw_out_item_end(out);
	}
	dw_out_list_end(out);
	free(w.v);
}

/** show_client: whether the client is judged as a forwarder. */
void dw_fwd_show_client(struct dw_engine *e, const struct dw_addr *key, struct dw_out *out)
{
	dw_out_kv_bool(out, "forwarder",
	               dw_cidr_list_match(dw_engine_conf(e)->forwarders,
	                                  dw_engine_conf(e)->forwarder_count, key));
}

/** metrics: configured prefixes and verdicts on forwarders. */
void dw_fwd_metrics(struct dw_engine *e, struct dw_out *out)
{
	struct dw_engine_stats st;
	dw_engine_stats(e, &st);
	dw_out_textf(
	    out,
	    "# HELP dnswarden_forwarder_prefixes Configured forwarders (forwarders.prefixes).\n"
	    "# TYPE dnswarden_forwarder_prefixes gauge\n"
	    "dnswarden_forwarder_prefixes %zu\n"
	    "# HELP dnswarden_forwarder_verdicts_total Verdicts on forwarders (logged, never "
	    "blocked).\n"
	    "# TYPE dnswarden_forwarder_verdicts_total counter\n"
	    "dnswarden_forwarder_verdicts_total %llu\n",
	    dw_engine_conf(e)->forwarder_count, (unsigned long long)st.forwarder_verdicts);
}
