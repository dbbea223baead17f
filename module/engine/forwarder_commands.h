/**
 * \file
 * Pooled clients (forwarders: in dnswarden.yaml, detect.h) at the control
 * socket: the `forwarders` verb, the forwarder line of show_client and the
 * forwarder lines of metrics.
 *
 * Cost: `forwarders` walks the client table once, O(tracked × prefixes),
 * and copies at most DW_FWD_LIST_MAX forwarder clients out of the shard
 * locks before printing them; the others are O(prefixes).
 * Thread safety: the module's own thread only (as every verb).
 * Errors: none; a client that is not a forwarder prints forwarder=no.
 */
#ifndef DW_FORWARDER_COMMANDS_H
#define DW_FORWARDER_COMMANDS_H

#include "addr.h"
#include "control.h"

/** Most forwarder clients the `forwarders` verb lists (it says how many
 *  more there were). */
#define DW_FWD_LIST_MAX 1024

struct dw_engine;

/** forwarders: the factor, the configured prefixes and every tracked
 *  client inside them with its queries, counts and fired detectors; arg is
 *  the engine (a struct dw_command handler). */
void dw_cmd_forwarders(void *arg, int argc, char **argv, struct dw_out *out);

/** show_client's "forwarder=yes|no" field for the aggregated key. */
void dw_fwd_show_client(struct dw_engine *e, const struct dw_addr *key, struct dw_out *out);

/** Append the forwarder lines to a metrics answer. */
void dw_fwd_metrics(struct dw_engine *e, struct dw_out *out);

#endif
