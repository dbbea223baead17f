/**
 * \file
 * Errors as values (errbuf.h).
 */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

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
