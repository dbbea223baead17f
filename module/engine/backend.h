/**
 * \file
 * How a block decided by the engine is made real by the resolver: the
 * enforcement backend interface.
 *
 * What it is for: one policy, two backends (HACKING.md, "Data flow of one query"). The
 * engine keeps the block list (policy.h) and tells the backend, from the
 * module's own thread only, which clients to act on. The `rpz` backend keeps
 * the client-ip triggers of Unbound's RPZ zone equal to the block list; the
 * `hook` backend needs no push at all (the pre-cache hook asks the engine on
 * every query, see dw_engine_decide()), so its set/clear are no-ops that
 * only count.
 *
 * Thread safety: every op is called from the module's own thread, never from
 * a worker and never inside an Unbound callback (taking the RPZ zone's lock
 * there deadlocks: HACKING.md). Implementations may take Unbound's locks.
 * Errors: ops return 0, or -1 with a sentence in err; the engine logs it and
 * retries a failed set at most once a second (the block list stays the
 * truth). DW_BACKEND_PERMANENT says that no retry can succeed (an action or a
 * prefix the backend cannot express): the engine logs it once and never
 * retries that block.
 */
#ifndef DW_BACKEND_H
#define DW_BACKEND_H

#include <stddef.h>

#include "addr.h"
#include "conf.h"

/** set()'s answer when retrying can never succeed. */
#define DW_BACKEND_PERMANENT (-2)

/** A backend, as the adapter hands it to the engine. */
struct dw_backend {
	const char *name; /**< "rpz" or "hook" (status, logs) */
	void *ctx;        /**< the adapter's state */

	/** Is the backend able to take changes now? The rpz backend answers 0
	 *  until Unbound has loaded the RPZ zone after a start or reload; the
	 *  engine waits and then re-applies the whole block list. */
	int (*ready)(void *ctx);

	/** Make the resolver answer every query of client (a /32 or the IPv6
	 *  aggregation prefix) with action; replaces what was there. sinkhole
	 *  uses the config's sinkhole.ipv4/ipv6. Never called with DW_ACT_LOG;
	 *  the rpz backend never sees DW_ACT_REFUSE (rejected at config load). */
	int (*set)(void *ctx, const struct dw_cidr *client, enum dw_action action,
		   const struct dw_conf *conf, char *err, size_t errlen);

	/** Stop acting on client (no error when nothing was set). */
	int (*clear)(void *ctx, const struct dw_cidr *client, char *err, size_t errlen);

	/** Optional (may be NULL): called once a minute on the module's thread,
	 *  e.g. to reclaim memory of removed RPZ triggers. */
	void (*maintain)(void *ctx, const struct dw_conf *conf);
};

/** dw_domain_backend.set()'s answer before Unbound has loaded the zone. */
#define DW_DOMAIN_NOT_READY 1

/**
 * Domain blocks (domain_blocks.h) as the adapter enforces them: RPZ QNAME
 * triggers DOMAIN and *.DOMAIN in the zone of rpz_zone, under either
 * client backend. Same thread rules and errors as struct dw_backend; a
 * failed set is retried at most once a second.
 */
struct dw_domain_backend {
	void *ctx;
	/** Make every client's query for domain or a name under it get action
	 *  (nxdomain, nodata, sinkhole, drop); replaces what was there.
	 *  DW_DOMAIN_NOT_READY: the zone is not loaded yet (start, reload; the
	 *  zone file holds the block meanwhile): retried without a log line. */
	int (*set)(void *ctx, const char *domain, enum dw_action action, const struct dw_conf *conf,
	           char *err, size_t errlen);
	/** Stop acting on domain (no error when nothing was set). */
	int (*clear)(void *ctx, const char *domain, char *err, size_t errlen);
};

#endif
