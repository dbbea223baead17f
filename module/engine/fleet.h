/**
 * \file
 * The fleet: dnswarden's block list published as an RPZ zone file for the
 * other resolvers of a campus, and the peers' zones read back.
 *
 * What it is for: the module's thread keeps the zone file named by the
 * `rpz:` clause of unbound.conf (or `publish.zonefile`) equal to the active
 * block list — rewritten atomically (safefile.h) with an increasing SOA
 * serial within a second of any change, and once in init() before Unbound
 * loads its auth zones, so a restarted Unbound enforces every block from its
 * first query. An authoritative server (Knot DNS: etc/knot-dnswarden.conf)
 * serves the file to the fleet with NOTIFY and IXFR; `publish.command`
 * (pubcmd.h) tells it the file changed, at most once a second. In observe mode
 * the zone is published without triggers.
 *
 * The peers' zones (`fleet.peers`, each an `rpz:` clause with `primary:` and
 * `zonefile:` in unbound.conf, so Unbound itself transfers and enforces them)
 * are re-read from the zone files Unbound keeps whenever those change, so
 * `status`, `list_blocked` and `show_client` show peer blocks with their
 * origin, and a verdict on a client a peer already blocks is logged with
 * `event=peer_blocked`.
 *
 * Cost: a zone write is O(active blocks) on the module's thread (about 10 ms
 * for 10,000 blocks); peers' files are stat()ed once a second and parsed when
 * they change, O(file); a peer lookup is a binary search per prefix length.
 * Thread safety: everything here runs on the module's thread, or in init()
 * before it starts; nothing on a worker.
 * Errors: setup returns -1 with err; run-time write errors are logged
 * (event=publish_error, at most once a minute) and retried.
 */
#ifndef DW_FLEET_H
#define DW_FLEET_H

#include <stddef.h>

#include "addr.h"
#include "conf.h"

struct dw_engine;
struct dw_out;
struct dw_verdict;

/** Most peers' zones followed. */
#define DW_FLEET_MAX_PEERS 16

/** Publish the block list as zone (final dot) in the file at path: written
 *  now (before Unbound loads its auth zones), then kept in step by the
 *  module's thread. with_triggers 0 writes the zone empty and never again
 *  (a hook-backend Unbound must not enforce stale triggers of its own
 *  zone). Before dw_engine_start(). 0, or -1 with err. */
int dw_engine_publish(struct dw_engine *e, const char *zone, const char *path, int with_triggers,
                      char *err, size_t errlen);

/** Follow a peer's zone kept by Unbound at path (read at once, then when
 *  it changes). Before dw_engine_start(). 0, or -1 with err. */
int dw_engine_add_peer(struct dw_engine *e, const char *zone, const char *path, char *err,
                       size_t errlen);

/** What the adapter is shown after a peer's zone file changed. */
struct dw_peer_view {
	const char *zone; /**< with the final dot */
	/** Did the new version of the file drop the trigger for exactly key
	 *  (it was in the previous version)? */
	int (*withdrawn)(const void *ctx, const struct dw_cidr *key);
	const void *ctx;
	size_t nwithdrawn; /**< how many were dropped (0: nothing to do) */
};

/** fn(arg, view) runs on the module's thread after a peer's zone file
 *  changed: the adapter drops from Unbound's trigger tree of that zone the
 *  triggers the new version withdrew (Unbound 1.17 applies an IXFR's
 *  deletion of a client-ip trigger to the zone data it writes to the file,
 *  not to the triggers it enforces). Only withdrawals are acted on, so a
 *  transfer applied after the file was written is never undone.
 *  Before dw_engine_start(). */
void dw_engine_on_peer_read(struct dw_engine *e, void (*fn)(void *arg, const struct dw_peer_view *v),
                            void *arg);

/* ---- for the engine's own files (engine.c, commands.c) ------------------- */

/** Module's thread: rewrite the zone if the block list changed, run or reap
 *  the publish command, re-read changed peer zones. */
void dw_fleet_tick(struct dw_engine *e, uint64_t now_ms);

/** Module's thread: log event=peer_blocked when a peer blocks v's client. */
void dw_fleet_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms);

/** The peer blocking key (an aggregated client), or NULL; *action gets its
 *  action. Module's thread. */
const char *dw_fleet_peer_block(struct dw_engine *e, const struct dw_addr *a,
                                enum dw_action *action);

/** Control output: status fields, the peers' blocks as list items (inside
 *  the caller's list), one client's peer blocks. Module's thread. */
void dw_fleet_status(struct dw_engine *e, struct dw_out *out);
void dw_fleet_list_blocked(struct dw_engine *e, struct dw_out *out);
void dw_fleet_show_client(struct dw_engine *e, const struct dw_addr *a, struct dw_out *out);

/** Control output: the peers' domain blocks (QNAME triggers of their
 *  zones) as list items inside the caller's list, with the peer as origin
 *  and what this resolver's own guard says of each; and how many there
 *  are. Module's thread. */
void dw_fleet_list_domains(struct dw_engine *e, struct dw_out *out);
size_t dw_fleet_peer_domains(const struct dw_engine *e);

/** Shutdown: write a pending change, stop the publish command, free. */
void dw_fleet_free(struct dw_engine *e);

#endif
