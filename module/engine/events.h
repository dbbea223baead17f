/**
 * \file
 * Alert lines out to the log at a bounded rate.
 *
 * What it is for: no traffic pattern may turn into a syslog storm. Every
 * event line (verdict, would_block, later block/unblock/expire) passes a
 * token bucket of `syslog.rate` lines per second (burst = one second's
 * worth); lines over the rate are not written but counted, and reported once
 * per second as one "dnswarden: event=suppressed lines=N" line.
 *
 * Cost: a few doubles; no allocation after dw_events_new().
 * Thread safety: one thread only (the module's own thread) emits; worker
 * threads never write log lines (they queue records, see ring.h).
 * Errors: dw_events_new() returns NULL on ENOMEM.
 */
#ifndef DW_EVENTS_H
#define DW_EVENTS_H

#include <stdint.h>

#include "logfn.h"

struct dw_events;

/** A limiter of rate lines per second writing through log. */
struct dw_events *dw_events_new(uint32_t rate, dw_log_fn log, void *log_arg);

/** Release the limiter (reports what it suppressed last). NULL is fine. */
void dw_events_free(struct dw_events *ev);

/** Write one line if the rate allows at now_ms (monotonic ms); 1 written,
 *  0 suppressed (counted). */
int dw_events_emit(struct dw_events *ev, uint64_t now_ms, int prio, const char *line);

/** Report suppressed lines, at most once a second; call a few times a second. */
void dw_events_tick(struct dw_events *ev, uint64_t now_ms);

/** Lines suppressed since creation. */
uint64_t dw_events_suppressed(const struct dw_events *ev);

#endif
