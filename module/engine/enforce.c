/**
 * \file
 * What happens to a blocked client, on the module's own thread: a verdict in
 * enforce mode (or a manual block) goes on the block list (policy.h), the
 * backend is told (backend.h), the block expires by itself, and the list is
 * saved to the state file at most once a second while it changes.
 *
 * The block list is the truth; the backend is brought back in step with it
 * whenever it becomes ready (after every start and reload the rpz backend is
 * not ready until Unbound has loaded the RPZ zone) and after any failed call.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "engine_int.h"
#include "state.h"

/** How often blocks are checked for expiry, the state saved, the backend
 *  maintained (ms). */
#define EXPIRE_MS 1000
#define SAVE_MS 1000
#define MAINTAIN_MS 60000
/** Whitelist refreshes that only move expiry times are saved this often. */
#define LAZY_SAVE_MS 60000
/** A backend call that failed for a transient reason is retried this often. */
#define SYNC_RETRY_MS 1000

/** Unix seconds now. */
static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/** Read the state file; a damaged file is reported, never fatal, and never
 *  saved over: what loads is taken, the file is set aside as
 *  PATH.bad.TIMESTAMP first and the loaded part saved soon after. */
void dw_enforce_load(struct dw_engine *e)
{
	char err[512] = "", aerr[512], aside[DW_CONF_MAX_PATH + 64];
	struct dw_state_report r;
	uint64_t now_ms = dw_mono_ms();
	const char *path = e->conf->state_file;
	if (!path || !path[0])
		return;
	dw_policy_set_wall_offset(e->policy, dw_block_wall_offset(e));
	if (dw_state_load(path, e->policy, e->exempt, &e->wl_state, dw_block_clock(e), &r, err,
			  sizeof(err)) != 0) {
		/* it exists and cannot be read: not ours to replace */
		e->state_hold = 1;
		dw_emit(e, now_ms, LOG_ERR,
			"dnswarden: event=state_error file=%s saving=no error=\"%s\"", path, err);
	} else if (dw_state_dropped(&r)) {
		if (dw_state_set_aside(path, wall_now(), aside, sizeof(aside), aerr,
				       sizeof(aerr)) != 0) {
			e->state_hold = 1;
			snprintf(aside, sizeof(aside), "none (%s; saving=no)", aerr);
		} else {
			e->dirty = 1; /* write the loaded part back soon */
		}
		if (!err[0])
			snprintf(err, sizeof(err), "more blocks than policy.max_blocks (%u)",
				 e->conf->policy_max_blocks);
		dw_emit(e, now_ms, LOG_ERR,
			"dnswarden: event=state_error file=%s set_aside=%s loaded=%zu dropped=%zu "
			"malformed=%zu over_max_blocks=%zu incomplete=%zu bad_header=%s "
			"error=\"%s\"",
			path, aside, r.loaded, dw_state_dropped(&r), r.malformed, r.full,
			r.truncated, r.bad_header ? "yes" : "no", err);
	}
	dw_exempt_publish(e->exempt); /* the lines loaded: lock-free lookups again */
	e->need_sync = dw_policy_active(e->policy) > 0;
	dw_whitelist_expire(e->wl, (time_t)wall_now());
}

/** The backend can take changes now. */
static int backend_ready(struct dw_engine *e)
{
	return e->backend && e->backend->ready(e->backend->ctx);
}

/** Report a backend failure, at most once a minute. */
static void backend_failed(struct dw_engine *e, const char *what, const char *client,
			   const char *err)
{
	uint64_t now_ms = dw_mono_ms();
	e->backend_errors++;
	if (e->last_error_ms && now_ms - e->last_error_ms < 60000)
		return;
	e->last_error_ms = now_ms;
	dw_emit(e, now_ms, LOG_ERR,
		"dnswarden: event=backend_error backend=%s op=%s client=%s error=\"%s\"",
		e->backend->name, what, client, err);
}

/** The closest action the backend has to action: RPZ cannot answer
 *  REFUSED, so a refuse block (saved under the hook backend) becomes
 *  nxdomain there. */
static enum dw_action closest_action(const struct dw_engine *e, enum dw_action action)
{
	if (action == DW_ACT_REFUSE && strcmp(e->backend->name, "hook") != 0)
		return DW_ACT_NXDOMAIN;
	return action;
}

/** Rewrite a block the backend cannot apply to the closest action it has,
 *  on the list (and so in the state file and list_blocked) and in the log:
 *  once per block, since the list then holds the new action. */
static void map_action(struct dw_engine *e, struct dw_block *b)
{
	enum dw_action to = closest_action(e, (enum dw_action)b->action);
	char client[DW_ADDR_STRLEN];
	if (to == (enum dw_action)b->action)
		return;
	dw_addr_format(&b->client, client, sizeof(client));
	dw_emit(e, dw_mono_ms(), LOG_WARNING,
		"dnswarden: event=block_mapped client=%s/%u from=%s to=%s backend=%s", client,
		b->prefix, dw_action_name((enum dw_action)b->action), dw_action_name(to),
		e->backend->name);
	dw_policy_set_action(e->policy, &b->client, to);
	b->action = (uint8_t)to;
	e->dirty = 1;
}

/** Put one active block into the backend. A transient failure is retried
 *  by the next sync (at most once a second); a permanent one never.
 *  Returns where the backend stands with it (enum dw_applied). */
static int apply(struct dw_engine *e, const struct dw_block *blk)
{
	char err[256], client[DW_ADDR_STRLEN];
	struct dw_block b = *blk;
	struct dw_cidr c = {.addr = b.client, .len = b.prefix};
	int rc;
	if (!backend_ready(e)) {
		e->need_sync = 1;
		return DW_APPLIED_NO;
	}
	map_action(e, &b);
	rc = e->backend->set(e->backend->ctx, &c, (enum dw_action)b.action, e->conf, err,
			     sizeof(err));
	if (rc != 0) {
		dw_addr_format(&b.client, client, sizeof(client));
		backend_failed(e, "set", client, err);
		if (rc == DW_BACKEND_PERMANENT) {
			dw_policy_set_applied(e->policy, &b.client, DW_APPLIED_NEVER);
			return DW_APPLIED_NEVER;
		}
		e->need_sync = 1;
		e->sync_after_ms = dw_mono_ms() + SYNC_RETRY_MS;
		return DW_APPLIED_NO;
	}
	dw_policy_set_applied(e->policy, &b.client, DW_APPLIED_YES);
	return DW_APPLIED_YES;
}

/** Take one block out of the backend. */
static void withdraw(struct dw_engine *e, const struct dw_block *b)
{
	char err[256], client[DW_ADDR_STRLEN];
	struct dw_cidr c = {.addr = b->client, .len = b->prefix};
	if (!e->backend || b->applied != DW_APPLIED_YES)
		return;
	dw_policy_set_applied(e->policy, &b->client, DW_APPLIED_NO);
	if (e->backend->clear(e->backend->ctx, &c, err, sizeof(err)) != 0) {
		dw_addr_format(&b->client, client, sizeof(client));
		backend_failed(e, "clear", client, err);
	}
}

/** dw_policy_foreach callback: apply what the backend does not have yet. */
static int sync_one(void *arg, const struct dw_block *b)
{
	struct dw_engine *e = arg;
	if (b->active && b->applied == DW_APPLIED_NO)
		apply(e, b);
	return 0;
}

/** A detector's verdict is a new offence (detect.h: one per offence), except
 *  against a block in force from before this engine started: the client
 *  table starts empty at every start and reload, so a client still at it
 *  crosses again without having re-armed; that renews its block. */
static int is_offence(struct dw_engine *e, const struct dw_addr *key, int detector)
{
	struct dw_block old;
	if (detector < 0)
		return 0;
	return !(dw_policy_get(e->policy, key, &old) && old.active &&
	         old.created < (int64_t)e->start_wall);
}

/** Block on the list, in the backend, in the log. */
int dw_enforce_block(struct dw_engine *e, const struct dw_addr *a, uint32_t duration,
		     enum dw_action action, const char *by, struct dw_block *out, char *err,
		     size_t errlen)
{
	struct dw_addr key;
	struct dw_block b;
	uint8_t prefix;
	char client[DW_ADDR_STRLEN], until[32];
	int detector = -1;

	if (action == DW_ACT_LOG || action >= DW_ACT_COUNT) {
		snprintf(err, errlen, "'%s' is not a blocking action", dw_action_name(action));
		return -1;
	}
	if (action == DW_ACT_REFUSE && e->backend && strcmp(e->backend->name, "rpz") == 0) {
		snprintf(err, errlen,
			 "refuse needs the hook backend; with rpz use nxdomain, nodata, sinkhole, "
			 "drop or tcp-only");
		return -1;
	}
	dw_policy_key(e->policy, a, &key, &prefix);
	dw_addr_format(&key, client, sizeof(client));
	if (dw_exempt_match(e->exempt, &key)) {
		snprintf(err, errlen, "%s is exempt (exempt_remove it first)", client);
		return -1;
	}
	if (by && strncmp(by, "detector:", 9) == 0)
		detector = dw_detector_from_name(by + 9);
	if ((is_offence(e, &key, detector) ? dw_policy_offence : dw_policy_block)(
	        e->policy, &key, action, duration, detector, dw_block_clock(e), &b) != 0) {
		snprintf(err, errlen, "the block list is full (policy.max_blocks)");
		return -1;
	}
	e->blocks[action]++;
	e->dirty = 1;
	if (b.expires)
		dw_format_block_time(e, b.expires, until, sizeof(until));
	else
		snprintf(until, sizeof(until), "never");
	{
		/* a detector's block goes through the alert rate limit; a person's
		 * (control socket) is an audit line and is never held back */
		char line[1024];
		snprintf(line, sizeof(line),
			 "dnswarden: event=block client=%s/%u action=%s duration=%u expires=%s "
			 "reason=%s offences=%u backend=%s",
			 client, b.prefix, dw_action_name(action), b.duration, until,
			 by ? by : "manual", b.offences, e->backend ? e->backend->name : "none");
		if (detector >= 0)
			dw_emit(e, dw_mono_ms(), LOG_NOTICE, "%s", line);
		else
			dw_emit_audit(e, LOG_NOTICE, "%s", line);
	}
	b.applied = (uint8_t)apply(e, &b);
	dw_incident_block(e, &b, by);
	if (out)
		*out = b;
	return 0;
}

/** The block of b ended (expiry or unblock): its client's detectors re-arm
 *  (detect.h), so the next crossing is a new offence. */
static void rearm_client(struct dw_engine *e, const struct dw_block *b)
{
	struct dw_client_view v;
	if (dw_clients_get(e->clients, &b->client, dw_mono_now(), &v) == 1 &&
	    (v.flags & DW_DETECT_FLAGS_FIRED))
		dw_clients_update(e->clients, &b->client, dw_mono_now(), NULL, dw_detect_rearm_all,
		                  NULL);
}

/** Lift a block by hand. */
int dw_enforce_unblock(struct dw_engine *e, const struct dw_addr *a, const char *by,
		       struct dw_block *out)
{
	struct dw_addr key;
	struct dw_block b;
	uint8_t prefix;
	char client[DW_ADDR_STRLEN];
	dw_policy_key(e->policy, a, &key, &prefix);
	if (!dw_policy_unblock(e->policy, &key, &b))
		return 0;
	withdraw(e, &b);
	rearm_client(e, &b);
	e->unblocks++;
	e->dirty = 1;
	dw_addr_format(&key, client, sizeof(client));
	dw_emit_audit(e, LOG_NOTICE, "dnswarden: event=unblock client=%s/%u by=%s", client,
		      b.prefix, by ? by : "manual");
	dw_incident_unblock(e, &b, by, 0);
	if (out)
		*out = b;
	return 1;
}

/** A verdict's consequence in enforce mode. */
void dw_enforce_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms)
{
	const struct dw_detector_conf *dc = &e->conf->det[v->detector];
	char by[64], err[256], client[DW_ADDR_STRLEN];
	if (e->conf->mode != DW_MODE_ENFORCE || dc->action == DW_ACT_LOG || v->forwarder)
		return; /* a forwarder (forwarders:) is never blocked automatically */
	snprintf(by, sizeof(by), "detector:%s", dw_detector_name((enum dw_detector)v->detector));
	if (dw_enforce_block(e, &v->client, dc->duration, dc->action, by, NULL, err, sizeof(err)) !=
	    0) {
		dw_addr_format(&v->client, client, sizeof(client));
		dw_emit(e, now_ms, LOG_WARNING,
			"dnswarden: event=block_failed client=%s detector=%s error=\"%s\"", client,
			dw_detector_name((enum dw_detector)v->detector), err);
		dw_incident_block_failed(e, v, err);
	}
}

/** dw_policy_expire callback: out of the backend, into the log. */
static void on_expired(void *arg, const struct dw_block *b)
{
	struct dw_engine *e = arg;
	char client[DW_ADDR_STRLEN];
	withdraw(e, b);
	rearm_client(e, b);
	e->expiries++;
	e->dirty = 1;
	dw_addr_format(&b->client, client, sizeof(client));
	dw_emit(e, dw_mono_ms(), LOG_NOTICE,
		"dnswarden: event=expire client=%s/%u action=%s duration=%u reason=%s", client,
		b->prefix, dw_action_name((enum dw_action)b->action), b->duration,
		b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector) : "manual");
	dw_incident_unblock(e, b, NULL, 1);
}

/** Save if dirty, whatever the period (shutdown, tests). */
void dw_enforce_flush(struct dw_engine *e, uint64_t now_ms)
{
	char err[512];
	if ((!e->dirty && !e->lazy_dirty) || !e->conf->state_file || e->state_hold)
		return;
	e->last_save_ms = now_ms;
	dw_policy_set_wall_offset(e->policy, dw_block_wall_offset(e));
	if (dw_state_save(e->conf->state_file, e->policy, e->exempt, &e->wl_state, err,
			  sizeof(err)) == 0) {
		e->dirty = e->lazy_dirty = 0;
		return;
	}
	if (!e->last_error_ms || now_ms - e->last_error_ms >= 60000) {
		e->last_error_ms = now_ms;
		dw_emit(e, now_ms, LOG_ERR, "dnswarden: event=state_error file=%s error=\"%s\"",
			e->conf->state_file, err);
	}
}

/** Backend sync, expiry, persistence, maintenance. */
void dw_enforce_tick(struct dw_engine *e, uint64_t now_ms)
{
	int ready = backend_ready(e);
	if (ready && !e->backend_was_ready)
		e->need_sync = 1; /* (re)loaded zone: put everything back */
	e->backend_was_ready = ready;
	if (ready && e->need_sync && now_ms >= e->sync_after_ms) {
		e->need_sync = 0;
		dw_policy_foreach(e->policy, sync_one, e);
	}
	if (now_ms - e->last_expire_ms >= EXPIRE_MS) {
		e->last_expire_ms = now_ms;
		dw_policy_expire(e->policy, dw_block_clock(e), on_expired, e);
		if (dw_whitelist_expire(e->wl, time(NULL)))
			e->dirty = 1;
	}
	if ((e->dirty && now_ms - e->last_save_ms >= SAVE_MS) ||
	    (e->lazy_dirty && now_ms - e->last_save_ms >= LAZY_SAVE_MS))
		dw_enforce_flush(e, now_ms);
	if (ready && e->backend->maintain && now_ms - e->last_maintain_ms >= MAINTAIN_MS) {
		e->last_maintain_ms = now_ms;
		e->backend->maintain(e->backend->ctx, e->conf);
	}
}
