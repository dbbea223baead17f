/**
 * \file
 * Errors as values (errbuf.h).
 */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/** vsnprintf with the NULL/0 guard every caller would otherwise repeat. */
void dw_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/** GNU strerror_r returns the text; the XSI one fills buf. */
const char *dw_strerror(int e, char *buf, size_t len)
{
#if defined(_GNU_SOURCE)
	return strerror_r(e, buf, len);
#else
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
#endif
}

/** Append printf text at *n, clamping *n to len when the text is cut. */
void dw_appendf(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;
	if (*n >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = (size_t)w >= len - *n ? len : *n + (size_t)w;
}
