/**
 * \file
 * The `hook` enforcement backend: dnswarden on the pre-cache hook of an
 * Unbound built with tools/patches/unbound-precache-hook.patch
 * (tools/dev/build-unbound --patched).
 *
 * What it is for: enforcement (HACKING.md, "Data flow of one query"). The patched worker calls one
 * function of ours for every parsed client query, before CHAOS, local zones,
 * RPZ, auth zones and the cache. That function asks the engine
 * (dw_engine_decide(), which also counts the query) and, for a blocked
 * client, writes the policy answer itself with Unbound's encoders: REFUSED,
 * NXDOMAIN, NODATA (NOERROR, no answer), TC over UDP for tcp-only (TCP goes
 * on normally), a synthesized A/AAAA for sinkhole (TTL 60; NODATA for other
 * qtypes), no reply at all for drop. Local-data names are covered too, and
 * no mesh state is ever shared between a blocked and a normal client.
 *
 * Because the hook sees every query, the adapter must not also count through
 * the inplace reply callbacks while it is installed (they would count each
 * query twice).
 *
 * Cost per query: one dw_engine_decide() (engine.h) plus, for a blocked
 * client only, one answer encoding into the worker's buffer; no allocation
 * beyond the worker's scratch region, no lock of Unbound's.
 * Thread safety: the hook runs on every worker thread at once. Install and
 * uninstall only from the module's init()/deinit(): Unbound runs those with
 * its workers stopped, which is what makes the lock-free hook pointer safe.
 * Errors: init returns -1 with a sentence in err.
 */
#ifndef DW_UNBOUND_HOOK_H
#define DW_UNBOUND_HOOK_H

#include <stddef.h>

#include "backend.h"
#include "conf.h"

struct dw_engine;

/** Does the running Unbound have the pre-cache hook? (dlsym of
 *  "worker_precache_hook" in the process.) For `enforcement: auto`. */
int dw_hook_available(void);

/** Install the pre-cache hook for engine e and fill b with the hook backend
 *  (ready() always 1; set()/clear() have nothing to push: the hook asks the
 *  engine's block list on every query). Call from init() only, with the
 *  engine built and before returning to Unbound. -1 with err "this Unbound
 *  has no pre-cache hook" when absent, or when another module holds it. */
int dw_hook_backend_init(struct dw_backend *b, struct dw_engine *e, const struct dw_conf *conf,
                         char *err, size_t errlen);

/** Uninstall the hook (if it is ours) and release b's state. Call from
 *  deinit() BEFORE freeing the engine. NULL or an unfilled b is fine. */
void dw_hook_backend_free(struct dw_backend *b);

#endif
