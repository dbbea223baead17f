/**
 * \file
 * Small helpers shared by the libFuzzer harnesses in t/fuzz/ (header-only:
 * each harness is one program of its own).
 *
 * What it is for: a private scratch directory per fuzzer process, writing an
 * input to a file there (the loaders under test read files), and one way to
 * report a broken invariant (abort(), which libFuzzer records as a crash and
 * saves the input that caused it).
 *
 * Cost: one mkdtemp() per process; one open/write/close per input.
 * Thread safety: none needed (libFuzzer runs one input at a time).
 * Errors: a failure of the scratch directory itself aborts with a message.
 */
#ifndef DW_FUZZ_UTIL_H
#define DW_FUZZ_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Report a broken invariant with the input's context and crash. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant broken (%s:%d): %s: ", __FILE__, __LINE__, \
			        #cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/** The scratch directory of this process (created on first use, removed at exit). */
static char fuzz_dir_path[PATH_MAX];

/** Remove every file of the scratch directory (loaders may leave files aside). */
static __attribute__((unused)) void fuzz_dir_clean(void)
{
	DIR *d = opendir(fuzz_dir_path);
	struct dirent *de;
	char p[PATH_MAX + 256];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir_path, de->d_name);
		unlink(p);
	}
	closedir(d);
}

/** atexit(): leave nothing behind. */
static __attribute__((unused)) void fuzz_dir_remove(void)
{
	fuzz_dir_clean();
	rmdir(fuzz_dir_path);
}

/** The scratch directory, created on the first call under $TMPDIR, else
 *  /dev/shm (a tmpfs: the loaders write and fsync files for every input),
 *  else /tmp. */
static __attribute__((unused)) const char *fuzz_dir(void)
{
	if (fuzz_dir_path[0] == '\0') {
		const char *t = getenv("TMPDIR");
		if (t == NULL || *t == '\0')
			t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/dwfuzz-XXXXXX", t);
		if (mkdtemp(fuzz_dir_path) == NULL) {
			perror(fuzz_dir_path);
			abort();
		}
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir_path;
}

/** A path name inside the scratch directory (static buffer per name slot). */
static __attribute__((unused)) const char *fuzz_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fuzz_dir(), name);
	return buf;
}

/** Write len bytes to path (replacing it); aborts when the disk refuses. */
static __attribute__((unused)) void fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

/** Read a whole file into a NUL-terminated malloc'ed buffer (NULL if absent). */
static __attribute__((unused)) char *fuzz_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb = realloc(b, cap + 65536);
			if (nb == NULL)
				abort();
			b = nb;
			cap += 65536;
		}
		r = fread(b + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	b[n] = '\0';
	*len = n;
	return b;
}

#endif
