/**
 * \file
 * The engine as the control verbs see it (engine_api.h): every read of the
 * engine's insides a verb needs, in one place.
 */
#include "engine_api.h"

#include <string.h>

#include "confcheck.h"
#include "engine_int.h"

/** See engine_api.h: the socket is the engine's (served in its thread's
 *  poll loop), the verbs are the caller's. */
int dw_engine_open_control(struct dw_engine *e, const struct dw_command *cmds, size_t n, char *err,
                           size_t errlen)
{
	const struct dw_conf *conf = e->conf;
	char cerr[512];
	if (!conf->control_socket || !conf->control_socket[0] || e->control)
		return 0;
	e->control = dw_control_new(conf->control_socket, conf->control_group, cmds, n, e, e->log,
	                            e->log_arg, cerr, sizeof(cerr));
	if (!e->control) {
		snprintf(err, errlen, "control.socket: %s", cerr);
		return -1;
	}
	return 0;
}

/** See engine_api.h. */
void dw_engine_count_request(struct dw_engine *e)
{
	e->control_requests++;
}

/** The counters now (since the start). */
static void read_counters(struct dw_engine *e, struct dw_counters *c, uint64_t evictions)
{
	unsigned i;
	memset(c, 0, sizeof(*c));
	for (i = 0; i < DW_SRC_COUNT; i++)
		c->queries[i] = dw_engine_queries(e, i);
	for (i = 0; i < DW_DET_COUNT; i++)
		c->verdicts[i] = atomic_load_explicit(&e->verdicts_total[i], memory_order_relaxed);
	for (i = 0; i < DW_ACT_COUNT; i++)
		c->blocks[i] = e->blocks[i];
	c->unblocks = e->unblocks;
	c->expiries = e->expiries;
	c->evictions = evictions;
	c->suppressed = dw_events_suppressed(e->events);
	c->verdicts_dropped = dw_ring_dropped(e->verdicts);
	c->backend_errors = e->backend_errors;
	c->control_requests = e->control_requests;
	dw_engine_upstream_counts(e, &c->upstream_events, &c->upstream_dropped);
	if (e->incidents) {
		struct dw_inc_stats s;
		dw_incidents_stats(e->incidents, &s);
		c->incidents_written = s.written;
		c->incidents_dropped = s.dropped;
		c->incidents_errors = s.errors;
	}
}

/** See engine_api.h. */
void dw_engine_stats(struct dw_engine *e, struct dw_engine_stats *s)
{
	struct dw_clients_stats cs;
	struct dw_suspects_stats ss;
	struct dw_wl_stats ws;
	memset(s, 0, sizeof(*s));
	dw_clients_stats(e->clients, &cs);
	read_counters(e, &s->c, cs.evictions);
	dw_suspects_stats(e->suspects, &ss);
	dw_whitelist_stats(e->wl, &ws);
	s->evictions_per_s = e->evictions_per_s;
	s->clients_tracked = cs.tracked;
	s->clients_capacity = cs.capacity;
	s->clients_bytes = cs.bytes;
	s->suspects_tracked = ss.tracked;
	s->suspects_capacity = ss.capacity;
	s->suspects_bytes = ss.bytes;
	s->names_bytes = e->namestate ? dw_namestate_bytes(e->namestate) : 0;
	s->blocks_active = dw_policy_active(e->policy);
	s->memory_bytes = dw_engine_mem(e);
	s->wl_entries = ws.entries;
	s->wl_evicted = ws.evicted;
	s->forwarder_verdicts = e->forwarder_verdicts;
	s->started = (int64_t)e->start_wall;
}

/** See engine_api.h. */
void dw_engine_stats_base(struct dw_engine *e, struct dw_counters *base,
                          const struct dw_counters *reset)
{
	*base = e->stats_base;
	if (reset)
		e->stats_base = *reset;
}

/** See engine_api.h. */
const char *dw_engine_backend_name(const struct dw_engine *e)
{
	return e->backend ? e->backend->name : "none";
}

/** See engine_api.h. */
int dw_engine_backend_ready(const struct dw_engine *e)
{
	return e->backend && e->backend->ready(e->backend->ctx);
}

/** See engine_api.h. */
void dw_engine_counter_label(const struct dw_engine *e, unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "%s_%us", dw_counter_name((enum dw_counter_kind)e->detect.kind[i]),
	         e->detect.window[i]);
}

/** dw_suspects_foreach callback, under a suspects shard lock: copy the
 *  fields and nothing else (no other unit's lock, no output buffer: lock
 *  order, HACKING.md). */
struct suspects_copy {
	struct dw_suspect_copy *v;
	size_t n, cap;
};
static int suspect_copy_one(void *arg, const struct dw_suspect_view *sv)
{
	struct suspects_copy *c = arg;
	struct dw_suspect_copy *d;
	if (c->n == c->cap)
		return 1;
	d = &c->v[c->n++];
	d->addr = sv->addr;
	d->now = sv->now;
	d->first_seen = sv->first_seen;
	d->last_suspicious = sv->last_suspicious;
	memcpy(d->qclass, sv->qclass, sizeof(d->qclass));
	memcpy(d->feature, sv->feature, sizeof(d->feature));
	return 0;
}

/** See engine_api.h. */
size_t dw_engine_suspects_copy(struct dw_engine *e, uint32_t now, struct dw_suspect_copy *v,
                               size_t cap)
{
	struct suspects_copy c = {v, 0, cap};
	dw_suspects_foreach(e->suspects, now, suspect_copy_one, &c);
	return c.n;
}

/** See engine_api.h. */
int dw_engine_client(struct dw_engine *e, const struct dw_addr *a, uint32_t now,
                     struct dw_client_view *cv)
{
	return dw_clients_get(e->clients, a, now, cv) == 1;
}

/** See engine_api.h. */
int dw_engine_suspect(struct dw_engine *e, const struct dw_addr *key, uint32_t now,
                      struct dw_suspect_view *sv)
{
	return dw_suspects_get(e->suspects, key, now, sv) == 1;
}

/** See engine_api.h. */
void dw_engine_clients_foreach(struct dw_engine *e, uint32_t now,
                               int (*fn)(void *arg, const struct dw_client_view *v), void *arg)
{
	dw_clients_foreach(e->clients, now, fn, arg);
}

/** See engine_api.h. */
void dw_engine_block_key(const struct dw_engine *e, const struct dw_addr *a, struct dw_addr *key,
                         uint8_t *prefix)
{
	dw_policy_key(e->policy, a, key, prefix);
}

/** See engine_api.h. */
enum dw_action dw_engine_block_action(struct dw_engine *e, const struct dw_addr *key)
{
	return dw_policy_lookup(e->policy, key, dw_block_clock(e));
}

/** See engine_api.h. */
void dw_engine_blocks_foreach(struct dw_engine *e, int (*fn)(void *arg, const struct dw_block *b),
                              void *arg)
{
	dw_policy_foreach(e->policy, fn, arg);
}

/** dw_policy_foreach callback of dw_engine_block_find. */
struct find_block {
	const struct dw_addr *key;
	struct dw_block *b;
	int found;
};
static int find_one(void *arg, const struct dw_block *b)
{
	struct find_block *f = arg;
	if (!dw_addr_equal(&b->client, f->key))
		return 0;
	*f->b = *b;
	f->found = 1;
	return 1;
}

/** See engine_api.h. */
int dw_engine_block_find(struct dw_engine *e, const struct dw_addr *key, struct dw_block *b)
{
	struct find_block f = {key, b, 0};
	dw_policy_foreach(e->policy, find_one, &f);
	return f.found;
}

/** See engine_api.h. */
int dw_engine_block(struct dw_engine *e, const struct dw_addr *a, uint32_t duration,
                    enum dw_action action, const char *by, struct dw_block *out, char *err,
                    size_t errlen)
{
	return dw_enforce_block(e, a, duration, action, by, out, err, errlen);
}

/** See engine_api.h. */
int dw_engine_unblock(struct dw_engine *e, const struct dw_addr *a, const char *by,
                      struct dw_block *out)
{
	return dw_enforce_unblock(e, a, by, out);
}

/** See engine_api.h: a host exemption (or an IPv6 one at least as long as
 *  the block prefix) lifts that client's block; the state is saved. */
int dw_engine_exempt_add(struct dw_engine *e, const struct dw_cidr *c, unsigned uid)
{
	int rc = dw_exempt_add(e->exempt, c);
	if (rc < 0)
		return rc;
	if (c->len == (c->addr.family == 4 ? 32 : e->conf->ipv6_prefix) ||
	    (c->addr.family == 6 && c->len > e->conf->ipv6_prefix))
		dw_enforce_unblock(e, &c->addr, "exempt_add", NULL);
	e->dirty = 1;
	dw_incident_exempt(e, c, 1, uid, rc ? "added" : "already-exempt");
	return rc;
}

/** See engine_api.h. */
int dw_engine_exempt_remove(struct dw_engine *e, const struct dw_cidr *c, unsigned uid)
{
	if (!dw_exempt_remove(e->exempt, c))
		return 0;
	e->dirty = 1;
	dw_incident_exempt(e, c, 0, uid, "removed");
	return 1;
}

/** See engine_api.h. */
int dw_engine_exempt_match(struct dw_engine *e, const struct dw_addr *a)
{
	return dw_exempt_match(e->exempt, a);
}

/** See engine_api.h. */
void dw_engine_exempt_foreach(struct dw_engine *e,
                              void (*fn)(void *arg, const struct dw_cidr *c, const char *origin),
                              void *arg)
{
	dw_exempt_foreach(e->exempt, fn, arg);
}

/** See engine_api.h. */
int dw_engine_geo(const struct dw_engine *e, const struct dw_addr *a, struct dw_geo *g)
{
	return dw_geoip_lookup(e->geoip, a, g);
}

/** See engine_api.h: the adapter's check when it set one (it also knows
 *  Unbound's side), else the engine's own. */
int dw_engine_reload(struct dw_engine *e, const char **path, char *err, size_t errlen)
{
	const char *p = e->conf->path ? e->conf->path : dw_conf_path();
	struct dw_conf *c = dw_conf_load(p, err, errlen);
	if (c && (e->conf_check ? e->conf_check(e->conf_check_arg, c, err, errlen)
	                        : dw_conf_check(c, err, errlen)) != 0) {
		dw_conf_free(c);
		c = NULL;
	}
	if (!c)
		return -1;
	dw_conf_free(c);
	dw_enforce_flush(e, dw_mono_ms());
	e->reload_at_ms = dw_mono_ms() + 200; /* after this answer has been written */
	*path = p;
	return 0;
}

/** See engine_api.h. */
struct dw_whitelist *dw_engine_whitelist(struct dw_engine *e)
{
	return e->wl;
}

/** See engine_api.h. */
struct dw_incidents *dw_engine_incidents(struct dw_engine *e)
{
	return e->incidents;
}

/** See engine_api.h. */
struct dw_mailwatch *dw_engine_mailwatch(struct dw_engine *e)
{
	return e->mail;
}

/** See engine_api.h. */
struct dw_domains *dw_engine_domains(struct dw_engine *e)
{
	return e->domains;
}

/** See engine_api.h. */
int dw_engine_domains_live(const struct dw_engine *e)
{
	return e->dom_backend != NULL;
}
