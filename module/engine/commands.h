/**
 * \file
 * The control verbs (commands.c): the table the control socket dispatches on.
 * Every handler runs on the module's own thread.
 */
#ifndef DW_COMMANDS_H
#define DW_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"

/** The verb table (static; n receives its length). Handlers take the engine
 *  as their arg. */
const struct dw_command *dw_commands(size_t *n);

struct dw_engine;
/** A block's "since" and "expires" lines (expires 0: "never"), on the
 *  engine's block clock; shared by the client and the domain listings. */
void dw_cmd_out_span(const struct dw_engine *e, struct dw_out *out, int64_t created,
                     int64_t expires);

#endif
