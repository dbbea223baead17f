/**
 * \file
 * Minimal TAP producer for dnswarden's C unit tests (read by prove).
 *
 * Use: ok(cond, fmt, ...), is_int(got, want, name), then return done_testing();
 * Single-threaded use only (call from the main thread after joining workers).
 */
#ifndef DW_TAP_H
#define DW_TAP_H
#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

/** Report one test point; returns cond so callers can chain diagnostics. */
static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

/** Compare two integers and print both on failure. */
#define is_int(got, want, name)                                                                    \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, "%s", name))                                                     \
			printf("#   got %lld, want %lld\n", g_, w_);                               \
	} while (0)

/** Print the plan at the end; exit status says whether everything passed. */
static int done_testing(void) __attribute__((unused));
static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
