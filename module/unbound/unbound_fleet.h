/**
 * \file
 * The adapter's side of the fleet (fleet.h): where, according to
 * unbound.conf, the module publishes its RPZ zone and where Unbound keeps
 * the peers' zones.
 *
 * What it is for: the zone file to keep in step is the `zonefile:` of the
 * `rpz:` clause named by rpz_zone (so Unbound loads every active block
 * before it answers), or publish.zonefile; each fleet.peers zone must be an
 * `rpz:` clause with a `zonefile:` (Unbound writes it after each transfer).
 * Paths are taken as Unbound takes them: a chroot prefix is removed, a
 * relative path is relative to Unbound's `directory:` (its working
 * directory).
 *
 * Thread safety: init() only, before the module's thread starts.
 * Errors: -1 with a sentence in err (init() logs it; Unbound keeps running).
 * Peers that are not declared are skipped with a warning through log().
 */
#ifndef DW_UNBOUND_FLEET_H
#define DW_UNBOUND_FLEET_H

#include <stddef.h>

#include "conf.h"

struct dw_engine;
struct module_env;

/** Set up publishing and peers for engine e. rpz_backend: the rpz backend
 *  runs (else the hook). warn(arg, line) reports skipped peers. */
int dw_unbound_fleet_setup(struct dw_engine *e, struct module_env *env, const struct dw_conf *conf,
                           int rpz_backend, void (*warn)(void *arg, const char *line), void *arg,
                           char *err, size_t errlen);

#endif
