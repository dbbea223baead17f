/**
 * \file
 * Atomic, symlink-safe file replacement (safefile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "safefile.h"

/** fsync the directory holding path, so the rename itself is durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;
	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

/** Create PATH.tmp exclusively, never through a symlink. -1 with errno. */
static int create_tmp(const char *tmp, mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST) {
		/* left by a crash, or planted: remove the name (not its target) */
		if (unlink(tmp) != 0)
			return -1;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	return fd;
}

int dw_safefile_write(const char *path, mode_t mode, int (*fill)(void *arg, FILE *f), void *arg,
                      char *err, size_t errlen)
{
	char tmp[4096], eb[128];
	FILE *f;
	int fd, bad;

	if (!path || !path[0] || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "bad file name");
		return -1;
	}
	fd = create_tmp(tmp, mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, dw_strerror(errno, eb, sizeof(eb)));
		return -1;
	}
	(void)fchmod(fd, mode); /* umask may have narrowed it */
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, dw_strerror(errno, eb, sizeof(eb)));
		close(fd);
		unlink(tmp);
		return -1;
	}
	bad = fill(arg, f) != 0;
	if (!bad && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0))
		bad = 1;
	if (bad) {
		int e = errno;
		fclose(f);
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		         e ? dw_strerror(e, eb, sizeof(eb)) : "write abandoned");
		return -1;
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, dw_strerror(errno, eb, sizeof(eb)));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
		         dw_strerror(errno, eb, sizeof(eb)));
		unlink(tmp);
		return -1;
	}
	(void)sync_dir(path); /* the file is complete either way */
	return 0;
}
