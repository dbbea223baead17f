/**
 * \file
 * The publish command, started with posix_spawn and reaped without waiting
 * (pubcmd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "pubcmd.h"

extern char **environ;

int dw_spawn_start(struct dw_spawn *s, const char *cmd, uint64_t now_ms, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	char eb[128];
	pid_t pid;
	int rc;

	if (s->pid > 0) {
		snprintf(err, errlen, "the previous publish command is still running");
		return -1;
	}
	if (posix_spawn_file_actions_init(&fa) != 0 || posix_spawnattr_init(&at) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* the child starts with default signal handling and nothing blocked
	 * (Unbound blocks and handles signals in its threads) */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                  POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(err, errlen, "cannot run /bin/sh: %s", dw_strerror(rc, eb, sizeof(eb)));
		return -1;
	}
	s->pid = pid;
	s->started_ms = now_ms;
	return 0;
}

int dw_spawn_poll(struct dw_spawn *s, uint64_t now_ms, uint64_t limit_ms, int *status)
{
	pid_t r;
	if (s->pid <= 0)
		return -1;
	r = waitpid(s->pid, status, WNOHANG);
	if (r == s->pid || (r < 0 && errno == ECHILD)) {
		if (r < 0)
			*status = 0; /* reaped by someone else: assume it ran */
		s->pid = 0;
		return 1;
	}
	if (now_ms - s->started_ms < limit_ms)
		return 0;
	/* its own process group: the shell and what it started */
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
	(void)waitpid(s->pid, status, 0); /* SIGKILL: returns at once */
	s->pid = 0;
	return 2;
}

void dw_spawn_stop(struct dw_spawn *s)
{
	int st;
	if (s->pid <= 0)
		return;
	if (waitpid(s->pid, &st, WNOHANG) != s->pid) {
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
		(void)waitpid(s->pid, &st, 0);
	}
	s->pid = 0;
}
