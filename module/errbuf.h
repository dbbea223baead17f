/**
 * \file
 * Errors as values: a sentence for a person, written into the caller's
 * buffer (STYLE.md). Every engine unit that reports errors uses this.
 */
#ifndef DW_ERRBUF_H
#define DW_ERRBUF_H

#include <stddef.h>

/** printf into err (size errlen); nothing when err is NULL or errlen 0. */
void dw_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
