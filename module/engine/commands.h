/**
 * \file
 * The control verbs (commands.c): the table the control socket dispatches on.
 * Every handler runs on the module's own thread.
 */
#ifndef DW_COMMANDS_H
#define DW_COMMANDS_H

#include <stddef.h>

#include "control.h"

/** The verb table (static; n receives its length). Handlers take the engine
 *  as their arg. */
const struct dw_command *dw_commands(size_t *n);

#endif
