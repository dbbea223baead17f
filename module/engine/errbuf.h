/**
 * \file
 * Errors as values: a sentence for a person, written into the caller's
 * buffer (HACKING.md). Every engine unit that reports errors uses this.
 */
#ifndef DW_ERRBUF_H
#define DW_ERRBUF_H

#include <stddef.h>

/** printf into err (size errlen); nothing when err is NULL or errlen 0. */
void dw_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Thread-safe strerror() (config loads and reloads run while workers log):
 *  the text for errno value e, in buf or a static string. */
const char *dw_strerror(int e, char *buf, size_t len);

/** Append printf text to buf (size len) at *n, never past the end: *n
 *  becomes len when the text was cut. For log lines and JSON evidence built
 *  piece by piece. */
void dw_appendf(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
