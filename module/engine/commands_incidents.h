/**
 * \file
 * The control verbs of the incident history (commands_incidents.c):
 * `incidents`, the history at the end of `show_client`, and the store's
 * counters in `stats` and `metrics`. Module's own thread only; each answer
 * reads the database with a bounded query (incidents.h).
 */
#ifndef DW_COMMANDS_INCIDENTS_H
#define DW_COMMANDS_INCIDENTS_H

#include "control.h"

struct dw_engine;
struct dw_addr;

/** Usage line of the incidents verb. */
#define DW_CMD_INCIDENTS_USAGE                                                                     \
	"incidents [--client ADDR|CIDR] [--detector NAME] [--domain NAME] [--since DURATION] [N]"

/** incidents [--client ADDR|CIDR] [--detector NAME] [--domain NAME]
 *  [--since DURATION] [N]: the newest N rows (default 100) matching, newest
 *  first; --domain keeps the rows of one domain block's domain. */
void dw_cmd_incidents(void *arg, int argc, char **argv, struct dw_out *out);

/** show_client's closing fields: history.first_seen, .incidents, .blocks,
 *  .repeat_offences, ... for the client key (nothing when the store is off). */
void dw_cmd_client_history(struct dw_engine *e, const struct dw_addr *key, struct dw_out *out);

/** stats' gauges of the store: incidents.queued, incidents.ok. */
void dw_cmd_incident_gauges(struct dw_engine *e, struct dw_out *out);

#endif
