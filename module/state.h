/**
 * \file
 * The state file: what must survive a restart, a reload and a kill -9 —
 * blocks (with their ladder history), run-time exemption changes and, through
 * a callback, the learned nameserver whitelist.
 *
 * Format: text, one record a line, the first word saying which unit owns it
 * ("block …", "exempt …", "wl …"), after a "# dnswarden state v1" header.
 * Written whole to PATH.tmp, fsync()ed and renamed over PATH, so a reader or a
 * crash sees the old file or the new one, never a mix. The engine writes at
 * most once a second while something changed, so a kill -9 loses at most the
 * last second of changes.
 *
 * Cost: O(entries) per save, on the module's own thread only.
 * Errors: save returns -1 with err (the engine logs it and retries); load
 * treats a missing file as empty, skips and counts malformed lines, and fails
 * only when the file cannot be read or is not a dnswarden state file.
 */
#ifndef DW_STATE_H
#define DW_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exempt.h"
#include "policy.h"

/** Extra records (the whitelist): write lines / take one line of yours. */
struct dw_state_extra {
	const char *prefix; /**< first word of its lines, e.g. "wl" */
	void (*save)(void *arg, FILE *f);
	int (*load_line)(void *arg, const char *line, char *err, size_t errlen);
	void *arg;
};

/** Write the state; 0 or -1 with err. extra may be NULL. */
int dw_state_save(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, char *err, size_t errlen);

/** Read the state into the (empty) units; *bad counts skipped lines (the
 *  first reason is in err). 0, or -1 with err when unreadable. */
int dw_state_load(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, int64_t now, size_t *bad, char *err,
		  size_t errlen);

#endif
