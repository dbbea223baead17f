/**
 * \file
 * The publish command: a program the module's thread runs after it rewrote
 * the RPZ zone file (`publish.command`, e.g. `knotc zone-reload ZONE`), for
 * machines without a systemd .path unit.
 *
 * What it is for: telling the authoritative server that serves the zone to
 * the fleet that the file changed. The command runs through /bin/sh -c with
 * stdin, stdout and stderr on /dev/null, started with posix_spawn() (no fork
 * of Unbound's address space) and reaped without waiting. At most one runs
 * at a time; one that outlives its time limit is killed (SIGKILL) and
 * reaped, so the module's thread is never held by it.
 *
 * Cost: one posix_spawn per run; polling is one waitpid(WNOHANG).
 * Thread safety: the module's own thread only (never a worker).
 * Errors: start returns -1 with a sentence in err.
 */
#ifndef DW_PUBCMD_H
#define DW_PUBCMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** A command that may be running. Zero-initialise. */
struct dw_spawn {
	pid_t pid;          /**< 0 when none runs */
	uint64_t started_ms; /**< monotonic ms at start */
};

/** Start cmd through /bin/sh -c. 0, or -1 with err (nothing runs). */
int dw_spawn_start(struct dw_spawn *s, const char *cmd, uint64_t now_ms, char *err, size_t errlen);

/** Has it finished? 1 with *status (a waitpid status) when it has and was
 *  reaped, 2 when it ran past limit_ms and was killed and reaped, 0 while
 *  it runs, -1 when none was running. */
int dw_spawn_poll(struct dw_spawn *s, uint64_t now_ms, uint64_t limit_ms, int *status);

/** Kill and reap a running command (shutdown). */
void dw_spawn_stop(struct dw_spawn *s);

#endif
