/**
 * \file
 * The `rpz` enforcement backend: dnswarden's block list projected onto the
 * rpz-client-ip triggers of one RPZ zone of a stock (dynlib-enabled) Unbound.
 *
 * What it is for: enforcement (HACKING.md, "Data flow of one query"). The zone named by rpz_zone must be
 * declared in unbound.conf (`rpz: name: dnswarden.rpz.`, module-config with
 * respip). Its `zonefile:`, when set, is kept in step with the block list by
 * the module's thread (fleet.h), so Unbound loads every active block before
 * its first answer; triggers already there with the right action are left
 * alone by set(). The backend inserts and removes client-ip
 * triggers at run time, so a blocked client gets the policy answer on every
 * path RPZ covers (cache hits included, local-data names not), while other
 * clients asking the same name get the real answer.
 *
 * The zone is dnswarden's own: its client-ip triggers are exactly the
 * backend's table. Client-ip triggers that the backend did not set (left in
 * the zone by a previous instance across `unbound-control reload`, or written
 * in a zonefile) are dropped at the next maintain(); qname triggers of a
 * zonefile are left alone.
 *
 * Actions: nxdomain = CNAME ., nodata = CNAME *., drop = CNAME rpz-drop.,
 * tcp-only = CNAME rpz-tcp-only., sinkhole = local data A sinkhole.ipv4 +
 * AAAA sinkhole.ipv6 (TTL 60; other qtypes get NODATA). RPZ has no REFUSED:
 * dw_rpz_backend_init() rejects a config whose detectors use `refuse`, and
 * set() rejects a manual refuse block, both with a message naming the
 * alternatives.
 *
 * Memory: Unbound allocates triggers in a region that never frees, so a
 * removed trigger's memory stays until the zone's client set is rebuilt.
 * The backend rebuilds it (a fresh set filled from its table off-lock, swapped
 * in under the zone's write lock, the old one freed) when the removed
 * triggers outnumber both 4096 and the live ones, and at maintain() when
 * they reach 1/8 of the live ones. Measured (1.17.1, x86-64): 273 bytes in
 * Unbound per nxdomain/nodata/drop/tcp-only trigger, about 820 for sinkhole
 * (A + AAAA), plus about 40 bytes per block in the backend's own table.
 * Waste between rebuilds: at most max(4096, live) removed triggers (1.1 MiB
 * for CNAME actions, 3.3 MiB for sinkhole); a rebuild briefly holds a second
 * copy of the live set. 100,000 block/unblock changes grew Unbound's resident
 * memory by 2.1 MB with reclaim, 22 MB without.
 *
 * Work: set()/clear() take the auth-zones read lock, the zone's write lock
 * (every query waits for it while it is held: a few microseconds; 3-5 us per
 * op measured with 10,000-100,000 triggers) and the client set's lock; a
 * rebuild costs about 4-5 us per live trigger off-lock (0.5 s for 100,000)
 * plus a pointer swap under the lock.
 *
 * Thread safety: every op runs on the module's own thread (backend.h), never
 * in a worker or inside an Unbound callback. Unbound's own writers of the
 * zone (reload, zone transfer) serialise with it through the same locks.
 * Errors: ops return -1 with a sentence in err; nothing is logged here.
 */
#ifndef DW_UNBOUND_RPZ_H
#define DW_UNBOUND_RPZ_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "conf.h"

struct module_env;

/** Fill b with the rpz backend for the zone conf->rpz_zone of env's
 *  auth zones. Checks unbound.conf (env->cfg) for the rpz: clause and for
 *  options that would defeat it, and the config for `refuse` actions.
 *  b->ctx is allocated; release with dw_rpz_backend_free(). 0, or -1 with
 *  err. May run in init(), before Unbound has loaded its auth zones. */
int dw_rpz_backend_init(struct dw_backend *b, struct module_env *env, const struct dw_conf *conf,
                        char *err, size_t errlen);

/** Release the backend's table (the triggers stay in the zone; a later
 *  instance takes them over). NULL or an unfilled b is fine. */
void dw_rpz_backend_free(struct dw_backend *b);

/** What the backend holds, for status lines and tests. */
struct dw_rpz_stats {
	int ready;             /**< the zone is loaded */
	size_t triggers;       /**< client-ip triggers the backend set */
	size_t zone_triggers;  /**< client-ip triggers in the zone (all owners) */
	size_t orphaned;       /**< removed triggers whose memory is not reclaimed yet */
	size_t region_bytes;   /**< Unbound's memory for the zone's client set */
	uint64_t sets, clears; /**< successful ops */
	uint64_t rebuilds;     /**< client-set rebuilds (reclaim, restore, cleanup) */
	uint64_t restores;     /**< times Unbound had wiped the triggers (zone reloaded) */
};

/** Fill out from the backend (module's thread). 0, or -1 when b is not an
 *  rpz backend. */
int dw_rpz_backend_stats(const struct dw_backend *b, struct dw_rpz_stats *out);

struct config_auth;
/** What both RPZ users (the client-ip backend, the domain blocks) look up at
 *  start: Unbound's auth zones must exist (else "WHO Unbound gave no auth
 *  zones"); the zone's name (rpz_zone, default dnswarden.rpz.) as text with
 *  the final dot into ztext and as a wire name into zname (*znamelen: its
 *  room in, its length out); *clause receives unbound.conf's auth-zone or
 *  rpz clause of that name, or NULL. 0, or -1 with err. */
int dw_unbound_rpz_find(struct module_env *env, const struct dw_conf *conf, char *ztext,
                        size_t tlen, uint8_t *zname, size_t *znamelen, struct config_auth **clause,
                        const char *who, char *err, size_t errlen);

#endif
