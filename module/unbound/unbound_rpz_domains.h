/**
 * \file
 * Domain blocks in Unbound's RPZ (backend.h, struct dw_domain_backend):
 * QNAME triggers DOMAIN.ZONE and *.DOMAIN.ZONE inserted into and removed
 * from the running zone of `rpz_zone`, under either client backend (rpz or
 * hook), plus the names of the zones unbound.conf itself serves or forwards,
 * which no domain block may touch.
 *
 * Cost: O(log zones) per change under the zone's write lock, on the
 * module's thread; nothing per query (Unbound looks qname triggers up for
 * every query anyway).
 * Thread safety: module thread only, never inside an Unbound callback
 * (HACKING.md: the zone's lock).
 * Errors: init returns -1 with err when unbound.conf has no rpz: clause for
 * the zone; set/clear return -1 with err (the engine retries a set).
 */
#ifndef DW_UNBOUND_RPZ_DOMAINS_H
#define DW_UNBOUND_RPZ_DOMAINS_H

#include <stddef.h>

#include "backend.h"

struct module_env;
struct dw_engine;

/** Fill b for the zone of conf->rpz_zone. 0, or -1 with err. */
int dw_rpz_domains_init(struct dw_domain_backend *b, struct module_env *env,
                        const struct dw_conf *conf, char *err, size_t errlen);
void dw_rpz_domains_free(struct dw_domain_backend *b);

/** Hand the engine the names of unbound.conf's auth-zone, stub-zone,
 *  forward-zone and local-zone clauses (domain_blocks.h: the guard).
 *  0, or -1 on ENOMEM. */
int dw_rpz_domains_protect(struct dw_engine *e, struct module_env *env);

#endif
