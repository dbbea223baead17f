/**
 * \file
 * The Unbound adapter: dnswarden as an Unbound dynlib module.
 *
 * What it is for: the six entry points Unbound's dynlib module looks up
 * (init, deinit, operate, inform_super, clear, get_mem) and the inplace reply
 * callbacks that see every answered client query — resolved, cache hit,
 * local data and SERVFAIL — translated into the engine's struct dw_query.
 * This is the only file that includes Unbound headers.
 *
 * Facts it relies on (HACKING.md, "Unbound facts the adapter relies on"):
 * - init() runs at start and again on every `unbound-control reload`, after a
 *   deinit() that dlclose()s this library. We pin the library in memory with
 *   RTLD_NODELETE so that the last good config survives a reload: a bad file
 *   at start stops Unbound, a bad file on reload keeps the running config.
 * - the reply callbacks' return value is ignored; qstate is NULL for cache
 *   and local answers, qinfo NULL for CHAOS; on cache hits rep is shared and
 *   read-locked: read only.
 */
#include "config.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "dynlibmod/dynlibmod.h"
#include "util/config_file.h"
#include "util/data/msgreply.h"
#include "util/log.h"
#include "util/module.h"
#include "util/net_help.h"
#include "util/netevent.h"

#include "backend.h"
#include "commands.h"
#include "unbound_rpz_domains.h"
#include "confcheck.h"
#include "engine.h"
#include "engine_api.h"
#include "unbound_fleet.h"
#include "unbound_hook.h"
#include "unbound_rpz.h"
#include "unbound_upstream.h"

#define DW_EXPORT __attribute__((visibility("default")))

/* Survives reloads thanks to RTLD_NODELETE (see pin_library): the config the
 * module runs with, kept when a reload brings a broken file. */
static struct dw_conf *running_conf;

/* The reply callback lists we register on, and the answer source of each. */
static const struct {
	enum inplace_cb_list_type type;
	enum dw_source source;
} reply_lists[] = {
    {inplace_cb_reply, DW_SRC_RESOLVED},
    {inplace_cb_reply_cache, DW_SRC_CACHE},
    {inplace_cb_reply_local, DW_SRC_LOCAL},
    {inplace_cb_reply_servfail, DW_SRC_SERVFAIL},
};

/* Per-instance state, hung on the dynlib env's dyn_env. */
struct dw_unbound {
	struct dw_engine *engine;
	struct dw_backend backend; /* rpz or hook; name NULL until chosen */
	int hook;                  /* the pre-cache hook counts and enforces */
	struct dw_domain_backend dom; /* domain blocks as RPZ QNAME triggers (ctx NULL: none) */
	int use_syslog; /* Unbound logs to syslog: so do we, with our facility */
	int facility;
};

/** Log sink for the engine: Unbound's log file, or syslog with the
 *  configured facility when Unbound logs to syslog (never openlog(): that
 *  would rename Unbound's ident). */
static void log_line(void *arg, int prio, const char *line)
{
	const struct dw_unbound *u = arg;
	if (u->use_syslog) {
		syslog(u->facility | prio, "%s", line);
	} else if (prio <= LOG_ERR) {
		log_err("%s", line);
	} else if (prio == LOG_WARNING) {
		log_warn("%s", line);
	} else {
		log_info("%s", line);
	}
}

/** Keep this library mapped after dynlib's dlclose() so the running config
 *  survives `unbound-control reload`. */
static void pin_library(void)
{
	Dl_info info;
	if (dladdr((void *)&pin_library, &info) && info.dli_fname) {
		/* The handle is deliberately never closed. */
		if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
			log_warn("dnswarden: could not pin %s: %s", info.dli_fname, dlerror());
	}
}

/** The client's address of a reply: IPv4 (most clients) written out here,
 *  the rest through dw_addr_from_sockaddr(). 0, or -1 for another family. */
static inline int client_of(const struct comm_reply *r, struct dw_addr *out)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&r->client_addr;
	if (sin->sin_family == AF_INET && r->client_addrlen >= (socklen_t)sizeof(*sin)) {
		memset(out, 0, sizeof(*out));
		out->family = 4;
		memcpy(out->b, &sin->sin_addr, 4);
		return 0;
	}
	return dw_addr_from_sockaddr((const struct sockaddr *)&r->client_addr, r->client_addrlen,
	                             out);
}

/** Translate one Unbound reply into a dw_query and hand it to the engine.
 *  With the hook backend the query was counted on arrival: only an NXDOMAIN
 *  answer is handed on (dga, dw_engine_observe_nxdomain()). Inlined into
 *  each reply callback: it runs on every answer. */
static inline __attribute__((always_inline)) void
observe(struct dw_unbound *u, enum dw_source source, const struct query_info *qinfo,
        const struct reply_info *rep, int rcode, const struct comm_reply *repinfo)
{
	struct dw_query q;
	if (!u || !u->engine || !repinfo)
		return; /* internal query (prefetch, …): no client */
	if (source == DW_SRC_SERVFAIL)
		q.rcode = LDNS_RCODE_SERVFAIL;
	else if (rep)
		q.rcode = FLAGS_GET_RCODE(rep->flags);
	else
		q.rcode = rcode & 0xf; /* local answers may carry flag bits */
	if (u->hook && q.rcode != LDNS_RCODE_NXDOMAIN)
		return; /* the hook counted it */
	if (client_of(repinfo, &q.client) != 0)
		return;
	q.qname = qinfo ? qinfo->qname : NULL;
	q.qname_len = qinfo ? qinfo->qname_len : 0;
	q.qtype = qinfo ? qinfo->qtype : 0;
	q.source = source;
	if (u->hook)
		dw_engine_observe_nxdomain(u->engine, &q);
	else
		dw_engine_observe(u->engine, &q);
}

/* One callback per answer path, so the engine knows where the answer came from. */
#define DW_REPLY_CB(fname, src)                                                                    \
	static int fname(struct query_info *qinfo, struct module_qstate *qstate,                   \
	                 struct reply_info *rep, int rcode, struct edns_data *edns,                \
	                 struct edns_option **opt_list_out, struct comm_reply *repinfo,            \
	                 struct regional *region, struct timeval *start_time, int id, void *arg)   \
	{                                                                                          \
		(void)qstate, (void)edns, (void)opt_list_out, (void)region, (void)start_time,      \
		    (void)id;                                                                      \
		observe(arg, src, qinfo, rep, rcode, repinfo);                                     \
		return 0;                                                                          \
	}
DW_REPLY_CB(on_reply_resolved, DW_SRC_RESOLVED)
DW_REPLY_CB(on_reply_cache, DW_SRC_CACHE)
DW_REPLY_CB(on_reply_local, DW_SRC_LOCAL)
DW_REPLY_CB(on_reply_servfail, DW_SRC_SERVFAIL)

/** The callback function for a reply list type. */
static void *reply_cb_for(enum dw_source s)
{
	switch (s) {
	case DW_SRC_RESOLVED:
		return (void *)&on_reply_resolved;
	case DW_SRC_CACHE:
		return (void *)&on_reply_cache;
	case DW_SRC_LOCAL:
		return (void *)&on_reply_local;
	default:
		return (void *)&on_reply_servfail;
	}
}

/** Does any detector want REFUSED (only the hook backend can answer it)? */
static int wants_refuse(const struct dw_conf *conf)
{
	int i;
	for (i = 0; i < DW_DET_COUNT; i++)
		if (conf->det[i].enabled && conf->det[i].action == DW_ACT_REFUSE)
			return 1;
	return 0;
}

/** Pick and start the enforcement backend: the hook when this Unbound has it
 *  (auto) or when asked for (hook), else the RPZ zone. 0, or -1 with err. */
static int start_backend(struct dw_unbound *u, struct module_env *env, const struct dw_conf *conf,
			 char *err, size_t errlen)
{
	if (conf->enforcement == DW_ENF_HOOK ||
	    (conf->enforcement == DW_ENF_AUTO && dw_hook_available())) {
		if (dw_hook_backend_init(&u->backend, u->engine, conf, err, errlen) != 0)
			return -1;
		u->hook = 1;
	} else {
		if (wants_refuse(conf)) {
			snprintf(err, errlen,
			         "a detector's action is refuse, which needs the hook backend, and "
			         "this Unbound has no pre-cache hook (tools/dev/build-unbound "
			         "--patched); "
			         "use nxdomain, nodata, sinkhole, drop or tcp-only");
			return -1;
		}
		if (dw_rpz_backend_init(&u->backend, env, conf, err, errlen) != 0)
			return -1;
	}
	dw_engine_set_backend(u->engine, &u->backend);
	return 0;
}

/** Undo start_backend(): the hook first (it calls into the engine). */
static void stop_hook(struct dw_unbound *u)
{
	if (u->hook) {
		dw_hook_backend_free(&u->backend);
		u->hook = 0;
		u->backend.name = NULL;
	}
}

/** Warnings of the fleet set-up, into the log. */
static void warn_line(void *arg, const char *line)
{
	log_line(arg, LOG_WARNING, line);
}

/** A path as the module sees it after Unbound's chroot: like Unbound does
 *  for its own files, a path that starts with the chroot directory loses
 *  that prefix (so the YAML may name files as seen from outside, which is
 *  what dnswarden-control needs); any other path is taken as seen inside.
 *  Rewrites path in place. */
static void strip_chroot(const char *chroot, char *path)
{
	size_t n;
	if (!chroot || !path)
		return;
	n = strlen(chroot);
	while (n > 1 && chroot[n - 1] == '/')
		n--;
	if (n <= 1 || strncmp(path, chroot, n) != 0 || path[n] != '/')
		return;
	memmove(path, path + n, strlen(path + n) + 1);
}

/** Every file name of conf as seen inside Unbound's chroot (if any). */
static void in_chroot(const struct module_env *env, struct dw_conf *conf)
{
	const char *root = env && env->cfg ? env->cfg->chrootdir : NULL;
	if (!root || !root[0])
		return;
	strip_chroot(root, conf->state_file);
	strip_chroot(root, conf->control_socket);
	strip_chroot(root, conf->geoip_country_db);
	strip_chroot(root, conf->geoip_asn_db);
	strip_chroot(root, conf->incidents_database);
	strip_chroot(root, conf->publish_zonefile);
}

/** Everything a start with conf can refuse, checked before anything is
 *  touched: the engine's part (confcheck.h) and the backend's. Also the
 *  control socket's `reload` verb (dw_engine_set_conf_check). */
static int check_conf(void *arg, struct dw_conf *conf, char *err, size_t errlen)
{
	struct module_env *env = arg;
	in_chroot(env, conf);
	if (dw_conf_check(conf, err, errlen) != 0)
		return -1;
	if (conf->tunnel_domain_action != DW_ACT_LOG) {
		/* domain blocks need the rpz: clause under either backend: the
		 * same check (and message) as start_domains(); no side effect */
		struct dw_domain_backend db;
		if (dw_rpz_domains_init(&db, env, conf, err, errlen) != 0)
			return -1;
		dw_rpz_domains_free(&db);
	}
	if (conf->enforcement == DW_ENF_HOOK ||
	    (conf->enforcement == DW_ENF_AUTO && dw_hook_available())) {
		if (!dw_hook_available()) {
			snprintf(
			    err, errlen,
			    "enforcement: hook, but this Unbound has no pre-cache hook (build it "
			    "with tools/dev/build-unbound --patched, or use enforcement: rpz)");
			return -1;
		}
		return 0;
	}
	if (wants_refuse(conf)) {
		snprintf(err, errlen,
		         "a detector's action is refuse, which needs the hook backend, and "
		         "this Unbound has no pre-cache hook (tools/dev/build-unbound --patched); "
		         "use nxdomain, nodata, sinkhole, drop or tcp-only");
		return -1;
	}
	{ /* the rpz backend's own checks (unbound.conf's rpz: clause); no side effect */
		struct dw_backend b;
		if (dw_rpz_backend_init(&b, env, conf, err, errlen) != 0)
			return -1;
		dw_rpz_backend_free(&b);
	}
	return 0;
}

/** Read and check the file init() should run with: the new one when it is
 *  good, else (on a reload) the running one, with the reason logged. NULL
 *  only at the first start, when nothing can run. */
static struct dw_conf *next_config(struct module_env *env)
{
	char err[1024], path[DW_CONF_MAX_PATH + 1];
	struct dw_conf *c;
	snprintf(path, sizeof(path), "%s", dw_conf_path());
	if (env->cfg->chrootdir)
		strip_chroot(env->cfg->chrootdir, path);
	c = dw_conf_load(path, err, sizeof(err));
	if (c && check_conf(env, c, err, sizeof(err)) != 0) {
		dw_conf_free(c);
		c = NULL;
	}
	if (c)
		return c;
	if (running_conf) {
		log_err("dnswarden: event=config_error file=%s keeping=%s error=\"%s\"", path,
		        running_conf->path, err);
		return running_conf;
	}
	log_err("dnswarden: event=config_error file=%s error=\"%s\"", path, err);
	log_err("dnswarden: cannot start: %s", err);
	return NULL;
}

/** Domain blocks (domain_blocks.h) through the RPZ zone, under either
 *  backend, and the unbound.conf zones they must not touch. Without an
 *  rpz: clause domain blocks stay in the state only, unless
 *  detectors.dns_tunnel.domain_action asks for them: then -1 with err. */
static int start_domains(struct dw_unbound *u, struct module_env *env, const struct dw_conf *conf,
                         char *err, size_t errlen)
{
	if (dw_rpz_domains_init(&u->dom, env, conf, err, errlen) == 0)
		dw_engine_set_domain_backend(u->engine, &u->dom);
	else if (conf->tunnel_domain_action != DW_ACT_LOG)
		return -1;
	if (dw_rpz_domains_protect(u->engine, env) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/** Build the engine and the backend with conf and hook into Unbound. 0, or
 *  -1 with err (the caller undoes a half start with teardown()). */
static int start(struct module_env *env, int id, const struct dw_conf *conf, char *err,
		 size_t errlen)
{
	struct dynlibmod_env *de = env->modinfo[id];
	struct dw_unbound *u;
	size_t i;

	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->use_syslog = env->cfg->use_syslog;
	u->facility = conf->syslog_facility;
	u->engine = dw_engine_new(conf, log_line, u, err, errlen);
	if (!u->engine) {
		free(u);
		return -1;
	}
	de->dyn_env = u;
	dw_engine_set_conf_check(u->engine, check_conf, env);
	{
		size_t ncmds;
		const struct dw_command *cmds = dw_commands(&ncmds);
		if (dw_engine_open_control(u->engine, cmds, ncmds, err, errlen) != 0)
			return -1;
	}
	if (start_backend(u, env, conf, err, errlen) != 0)
		return -1;
	if (start_domains(u, env, conf, err, errlen) != 0)
		return -1;
	/* the RPZ zone file before Unbound loads its auth zones (after init) */
	if (dw_unbound_fleet_setup(u->engine, env, conf, !u->hook, warn_line, u, err, errlen) != 0)
		log_err("dnswarden: event=publish_error error=\"%s\"", err);
	if (dw_engine_start(u->engine, err, errlen) != 0)
		return -1;
	/* with the pre-cache hook every query is counted there; only the dga
	 * detector still needs the resolved and cached answers (NXDOMAIN) */
	for (i = 0; i < sizeof(reply_lists) / sizeof(reply_lists[0]); i++) {
		if (u->hook &&
		    !(conf->det[DW_DET_DGA].enabled && reply_lists[i].source <= DW_SRC_CACHE))
			continue;
		if (!de->inplace_cb_register_wrapped(reply_cb_for(reply_lists[i].source),
		                                     reply_lists[i].type, u, env, id)) {
			snprintf(err, errlen, "cannot register an inplace reply callback");
			return -1;
		}
	}
	if (dw_upstream_register(env, id, de, u->engine) != 0) {
		snprintf(err, errlen, "cannot register the upstream callbacks");
		return -1;
	}
	{
		char line[1200];
		snprintf(line, sizeof(line),
		         "dnswarden: event=loaded version=%s config=%s mode=%s backend=%s threads=%d",
		         DW_VERSION, conf->path,
		         conf->mode == DW_MODE_ENFORCE ? "enforce" : "observe",
		         u->backend.name ? u->backend.name : "none", env->cfg->num_threads);
		log_line(u, LOG_NOTICE, line);
	}
	return 0;
}

/** Undo start() (also a half-done one): callbacks off, engine and backend
 *  freed. */
static void teardown(struct module_env *env, int id)
{
	struct dynlibmod_env *de = env->modinfo[id];
	size_t i;
	if (!de)
		return;
	for (i = 0; i < sizeof(reply_lists) / sizeof(reply_lists[0]); i++)
		de->inplace_cb_delete_wrapped(env, reply_lists[i].type, id);
	dw_upstream_unregister(env, id, de);
	if (de->dyn_env) {
		struct dw_unbound *u = de->dyn_env;
		stop_hook(u);
		dw_engine_free(u->engine); /* joins the module's thread */
		if (u->backend.name)
			dw_rpz_backend_free(&u->backend);
		dw_rpz_domains_free(&u->dom);
		free(u);
		de->dyn_env = NULL;
	}
}

/** dynlib entry point: build the engine and register the reply callbacks.
 *  A config that cannot start stops Unbound only at its first start; on a
 *  reload the module comes back with the last good config and says why. */
DW_EXPORT int init(struct module_env *env, int id);
DW_EXPORT int init(struct module_env *env, int id)
{
	struct dw_conf *conf;
	char err[1024];

	pin_library();
	conf = next_config(env);
	if (!conf)
		return 0;
	if (start(env, id, conf, err, sizeof(err)) == 0) {
		if (conf != running_conf) {
			dw_conf_free(running_conf);
			running_conf = conf;
		}
		return 1;
	}
	teardown(env, id);
	if (conf == running_conf || !running_conf) {
		log_err("dnswarden: event=config_error file=%s error=\"%s\"", conf->path, err);
		log_err("dnswarden: cannot start: %s", err);
		if (conf != running_conf)
			dw_conf_free(conf);
		return 0;
	}
	log_err("dnswarden: event=config_error file=%s keeping=%s error=\"%s\"", conf->path,
	        running_conf->path, err);
	dw_conf_free(conf);
	if (start(env, id, running_conf, err, sizeof(err)) != 0) {
		teardown(env, id);
		log_err("dnswarden: cannot start again with the last good configuration: %s", err);
		return 0;
	}
	return 1;
}

/** dynlib entry point: unregister the callbacks, stop and free the engine. */
DW_EXPORT void deinit(struct module_env *env, int id);
DW_EXPORT void deinit(struct module_env *env, int id)
{
	teardown(env, id);
}

/** dynlib entry point: dnswarden decides nothing in the module chain (it
 *  observes through the reply callbacks), so queries pass straight on. */
DW_EXPORT void operate(struct module_qstate *qstate, enum module_ev event, int id,
                       struct outbound_entry *entry);
DW_EXPORT void operate(struct module_qstate *qstate, enum module_ev event, int id,
                       struct outbound_entry *entry)
{
	(void)entry;
	if (event == module_event_new || event == module_event_pass)
		qstate->ext_state[id] = module_wait_module;
	else if (event == module_event_moddone)
		qstate->ext_state[id] = module_finished;
	else
		qstate->ext_state[id] = module_error;
}

/** dynlib entry point: no sub-queries are ever attached by this module. */
DW_EXPORT void inform_super(struct module_qstate *qstate, int id, struct module_qstate *super);
DW_EXPORT void inform_super(struct module_qstate *qstate, int id, struct module_qstate *super)
{
	(void)qstate, (void)id, (void)super;
}

/** dynlib entry point: no per-query state to clear. */
DW_EXPORT void clear(struct module_qstate *qstate, int id);
DW_EXPORT void clear(struct module_qstate *qstate, int id)
{
	(void)qstate, (void)id;
}

/** dynlib entry point: memory for `unbound-control stats` with
 *  extended-statistics (mem.mod.dynlibmod; Unbound adds its dynlib glue). */
DW_EXPORT size_t get_mem(struct module_env *env, int id);
DW_EXPORT size_t get_mem(struct module_env *env, int id)
{
	/* called on the worker that serves unbound-control (extended-statistics):
	 * the engine's sum is a relaxed atomic, no lock, no walk */
	struct dynlibmod_env *de = env ? env->modinfo[id] : NULL;
	const struct dw_unbound *u = de ? de->dyn_env : NULL;
	if (!u || !u->engine)
		return 0;
	return sizeof(*u) + dw_engine_mem(u->engine);
}
