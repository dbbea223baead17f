/**
 * \file
 * Who is never acted on: the exemption list (authorised mail servers …),
 * from the config's exempt: plus what the operator adds or removes at run
 * time (dnswarden-control exempt_add / exempt_remove), which persists in the
 * state file.
 *
 * Cost: 18 bytes per prefix; dw_exempt_match() is a linear scan under one
 * mutex. It is called only when a detector crosses its threshold and before a
 * block, never once per query, so the scan and the lock stay off the hot path.
 * Thread safety: every function may be called from any thread.
 * Errors: add returns -1 when the list is full (DW_EXEMPT_MAX).
 */
#ifndef DW_EXEMPT_H
#define DW_EXEMPT_H

#include <stdbool.h>
#include <stdio.h>

#include "addr.h"
#include "conf.h"

#define DW_EXEMPT_MAX 65536

struct dw_exempt;

/** The list of conf->exempt (copied). NULL on ENOMEM. */
struct dw_exempt *dw_exempt_new(const struct dw_conf *conf);
void dw_exempt_free(struct dw_exempt *x);

/** True when a is inside an exempt prefix. */
bool dw_exempt_match(struct dw_exempt *x, const struct dw_addr *a);

/** Add a prefix at run time: 1 added, 0 already there, -1 full. */
int dw_exempt_add(struct dw_exempt *x, const struct dw_cidr *c);

/** Remove a prefix (from the config or added): 1 removed, 0 not there. */
int dw_exempt_remove(struct dw_exempt *x, const struct dw_cidr *c);

/** Visit every prefix with where it comes from ("config" or "runtime"). */
void dw_exempt_foreach(struct dw_exempt *x,
		       void (*fn)(void *arg, const struct dw_cidr *c, const char *origin), void *arg);

/** Write the run-time changes as "exempt + CIDR" / "exempt - CIDR" lines. */
void dw_exempt_save(struct dw_exempt *x, FILE *f);

/** Replay one such line. 0, or -1 with err. */
int dw_exempt_load_line(struct dw_exempt *x, const char *line, char *err, size_t errlen);

#endif
