/**
 * \file
 * Wall-clock times as the log lines and the control socket print them.
 *
 * Cost: one gmtime_r() and strftime(). Thread safety: safe on any thread.
 * Errors: none; buf (>= 21 bytes for the full text) is always terminated.
 */
#ifndef DW_WALLCLOCK_H
#define DW_WALLCLOCK_H

#include <stddef.h>
#include <stdint.h>

/** Unix seconds t as UTC text, "2026-11-22T04:05:06Z" (report.c). */
void dw_format_wall(int64_t t, char *buf, size_t len);

#endif
