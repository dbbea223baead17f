/**
 * \file
 * Replace a file atomically and safely: the writer behind the published RPZ
 * zone file and the state file (state.c).
 *
 * What it is for: a reader (Unbound loading its rpz zonefile, Knot DNS
 * reloading the published zone, a crash and restart) sees the old file or
 * the new one, never a mix, and a symlink planted at the temporary name
 * cannot redirect the write. Steps: PATH.tmp is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (a stale one from a crash, or anything planted
 * there, is unlinked first: unlink() removes a symlink, never its target),
 * the caller fills it, every write is checked (fflush/ferror), the file is
 * fsync()ed, renamed over PATH, and the directory fsync()ed.
 *
 * Cost: the caller's writes plus two fsync()s: milliseconds on a disk. Call
 * from the module's own thread or init(), never from a worker.
 * Thread safety: none needed beyond one writer per path at a time.
 * Errors: -1 with a sentence naming the path and the reason in err; PATH is
 * then untouched and PATH.tmp removed.
 */
#ifndef DW_SAFEFILE_H
#define DW_SAFEFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/** Write path through fill(arg, f) (which returns 0, or -1 to abandon the
 *  write), with mode (e.g. 0644) for the new file. 0, or -1 with err. */
int dw_safefile_write(const char *path, mode_t mode, int (*fill)(void *arg, FILE *f), void *arg,
                      char *err, size_t errlen);

#endif
