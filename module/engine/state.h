/**
 * \file
 * The state file: what must survive a restart, a reload and a kill -9 —
 * blocks (with their ladder history), run-time exemption changes and, through
 * a callback, the learned nameserver whitelist.
 *
 * Format: text, one record a line, the first word saying which unit owns it
 * ("block …", "exempt …", "wl …", "domain …"), after a "# dnswarden state v2"
 * header (v2 added "domain …" lines; a v1 file loads as it is).
 * Written whole through safefile.h: PATH.tmp (created O_EXCL|O_NOFOLLOW,
 * mode 0600: a link planted there is removed, never followed), every write
 * checked, fsync()ed, renamed over PATH (a symlink at PATH is replaced, its
 * target untouched) and the directory fsync()ed, so a reader, a full disk or
 * a crash leaves the old file or the new one, never a mix. The engine writes at
 * most once a second while something changed, so a kill -9 loses at most the
 * last second of changes.
 *
 * Cost: O(entries) per save, on the module's own thread only.
 * Errors: save returns -1 with err (the engine logs it and retries); load
 * treats a missing file as empty, takes every line it can, counts the rest
 * by reason, and fails only when the file cannot be read. A file that did
 * not load whole is set aside (PATH.bad.TIMESTAMP) before the next save.
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
	const struct dw_state_extra *next; /**< more records (domain blocks), or NULL */
};

/** Write the state; 0 or -1 with err. extra may be NULL. */
int dw_state_save(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, char *err, size_t errlen);

/** What a load found. Anything dropped means the file did not load whole:
 *  the caller sets it aside (dw_state_set_aside) before any save. */
struct dw_state_report {
	size_t loaded;    /**< lines taken */
	size_t malformed; /**< lines no unit could take (too long, unknown, bad fields) */
	size_t full;      /**< block lines left out at policy.max_blocks */
	size_t truncated; /**< an incomplete last line (no newline) or a read error */
	int bad_header;   /**< the first line is not the dnswarden state header */
};

/** Read the state into the (empty) units, taking every line that loads,
 *  also after a damaged header; *r counts what was left out (err names the
 *  first damage, with its line). 0, or -1 with err when the file exists but
 *  cannot be read. A missing file is an empty state. */
int dw_state_load(const char *path, struct dw_policy *policy, struct dw_exempt *exempt,
		  const struct dw_state_extra *extra, int64_t now, struct dw_state_report *r,
		  char *err, size_t errlen);

/** Lines the load left out (0: the file loaded whole). */
size_t dw_state_dropped(const struct dw_state_report *r);

/** Keep a file that did not load whole as PATH.bad.YYYYmmddTHHMMSSZ (now in
 *  UTC; "-N" appended when taken): hard-linked, so PATH stays until the next
 *  save replaces it, or renamed where links fail. The name goes to aside.
 *  0, or -1 with err (then never save over PATH). */
int dw_state_set_aside(const char *path, int64_t now, char *aside, size_t len, char *err,
		       size_t errlen);

#endif
