/**
 * \file
 * The mail-server watch's control verb and metrics (mail_commands.c):
 * mail_stats [ADDR] [SINCE], and the mail lines of metrics.
 * Both run on the module's own thread, reading mailwatch.h's series.
 */
#ifndef DW_MAIL_COMMANDS_H
#define DW_MAIL_COMMANDS_H

#include "control.h"

/** mail_stats [ADDR] [SINCE]: the series of one or every mail server; arg
 *  is the engine (a struct dw_command handler). */
void dw_cmd_mail_stats(void *arg, int argc, char **argv, struct dw_out *out);

struct dw_engine;
/** Append the mail servers' current query rates to a metrics answer. */
void dw_mail_metrics(struct dw_engine *e, struct dw_out *out);

#endif
