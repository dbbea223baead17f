/**
 * \file
 * Alert lines out to the log at a bounded rate (events.h).
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

struct dw_events {
	uint32_t rate;
	double tokens;
	uint64_t last_ms;        /* last refill */
	uint64_t last_report_ms; /* last "suppressed" line */
	uint64_t pending;        /* suppressed, not yet reported */
	uint64_t total;          /* suppressed since creation */
	dw_log_fn log;
	void *log_arg;
};

/** A full bucket to start with: the first second's burst passes. */
struct dw_events *dw_events_new(uint32_t rate, dw_log_fn log, void *log_arg)
{
	struct dw_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->rate = rate ? rate : 1;
	ev->tokens = ev->rate;
	ev->log = log;
	ev->log_arg = log_arg;
	return ev;
}

/** Say what was held back before going away. */
void dw_events_free(struct dw_events *ev)
{
	if (!ev)
		return;
	dw_events_tick(ev, UINT64_MAX);
	free(ev);
}

/** Refill the bucket for the time passed since the last call. */
static void refill(struct dw_events *ev, uint64_t now_ms)
{
	if (now_ms > ev->last_ms) {
		ev->tokens += (double)(now_ms - ev->last_ms) * ev->rate / 1000.0;
		if (ev->tokens > ev->rate)
			ev->tokens = ev->rate;
		ev->last_ms = now_ms;
	}
}

/** Spend a token on the line, or count it. */
int dw_events_emit(struct dw_events *ev, uint64_t now_ms, int prio, const char *line)
{
	refill(ev, now_ms);
	if (ev->tokens < 1.0) {
		ev->pending++;
		ev->total++;
		return 0;
	}
	ev->tokens -= 1.0;
	ev->log(ev->log_arg, prio, line);
	return 1;
}

/** One summary line a second at most for what the bucket held back. */
void dw_events_tick(struct dw_events *ev, uint64_t now_ms)
{
	char line[96];
	if (!ev->pending || now_ms - ev->last_report_ms < 1000)
		return;
	snprintf(line, sizeof(line), "dnswarden: event=suppressed lines=%llu",
		 (unsigned long long)ev->pending);
	ev->log(ev->log_arg, LOG_WARNING, line);
	ev->pending = 0;
	ev->last_report_ms = now_ms;
}

/** Total lines held back. */
uint64_t dw_events_suppressed(const struct dw_events *ev)
{
	return ev->total;
}
