/**
 * \file
 * Who is never acted on: the exemption list (authorised mail servers …),
 * from the config's exempt: plus what the operator adds or removes at run
 * time (dnswarden-control exempt_add / exempt_remove), which persists in the
 * state file.
 *
 * Cost: 18 bytes per prefix in the list, plus 36 per prefix in the lookup
 * snapshot: an immutable sorted array of disjoint address ranges (a prefix
 * inside another is left out). dw_exempt_match() is a binary search of the
 * snapshot, O(log n) (17 steps at DW_EXEMPT_MAX), without a lock: it runs on
 * worker threads under a client shard lock (the detectors' judge). A change
 * (add, remove, dw_exempt_publish()) builds a new snapshot, O(n log n), and
 * swaps it in atomically; the old one is freed once no lookup can still be
 * reading it (two reader counters, RCU-like).
 * Thread safety: dw_exempt_match() from any thread at any time; the other
 * functions from one thread at a time (the module's own thread; the list's
 * mutex keeps foreach and save consistent with a change).
 * Errors: add returns -1 when the list is full (DW_EXEMPT_MAX). When no
 * memory is left for a new snapshot, lookups scan the list under its mutex
 * until the next change succeeds (slower, still right).
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

/** Replay one such line. 0, or -1 with err. Lines change the list without
 *  building a snapshot (a state file may hold 65,536 of them): until
 *  dw_exempt_publish(), dw_exempt_match() scans the list under its mutex. */
int dw_exempt_load_line(struct dw_exempt *x, const char *line, char *err, size_t errlen);

/** Build and swap in the lookup snapshot after dw_exempt_load_line() calls.
 *  0, or -1 on ENOMEM (lookups keep scanning the list: slower, still right). */
int dw_exempt_publish(struct dw_exempt *x);

#endif
