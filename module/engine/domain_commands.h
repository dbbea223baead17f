/**
 * \file
 * Domain blocks (domain_blocks.h) at the control socket: the verbs
 * list_domains, block_domain and unblock_domain, and their lines of
 * status, stats and metrics.
 *
 * Cost: O(domain blocks) per verb. Thread safety: the module's own thread
 * only (as every verb). Errors: a usage error answers status 2, a refused
 * block (guard, full list, observe mode) status 1 with the reason.
 */
#ifndef DW_DOMAIN_COMMANDS_H
#define DW_DOMAIN_COMMANDS_H

#include "control.h"

struct dw_engine;

/** list_domains: every domain block with action, reason, expiry. */
void dw_cmd_list_domains(void *arg, int argc, char **argv, struct dw_out *out);
/** block_domain DOMAIN [DURATION|forever] [ACTION]. */
void dw_cmd_block_domain(void *arg, int argc, char **argv, struct dw_out *out);
/** unblock_domain DOMAIN. */
void dw_cmd_unblock_domain(void *arg, int argc, char **argv, struct dw_out *out);

/** status's domain_blocks_active line. */
void dw_domains_status(struct dw_engine *e, struct dw_out *out);
/** stats' domain_blocks.* lines (counters since start, never reset). */
void dw_domains_stats(struct dw_engine *e, struct dw_out *out);
/** metrics' dnswarden_domain_blocks_* families. */
void dw_domains_metrics(struct dw_engine *e, struct dw_out *out);

#endif
