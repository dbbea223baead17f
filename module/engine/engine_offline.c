/**
 * \file
 * The engine without its thread (engine.h: dw_engine_set_clock,
 * dw_engine_run_verdicts): what dnswarden-scan(8) needs to run the same
 * detectors over a capture or a log in virtual time. The caller owns the
 * clock; nothing here reads the system clock, blocks, or enforces.
 */
#include "engine_int.h"

/** Anchor engine seconds to unix time (report.c formats times through it). */
void dw_engine_set_clock(struct dw_engine *e, int64_t wall, uint32_t mono)
{
	e->start_wall = (time_t)wall;
	e->start_mono = mono;
}

/** The module thread's verdict loop (engine.c) at a virtual second: the
 *  verdict line and the client's pin for the detector's duration. */
unsigned dw_engine_run_verdicts(struct dw_engine *e, uint32_t now)
{
	struct dw_verdict v;
	uint64_t now_ms = (uint64_t)now * 1000u;
	unsigned n = 0;
	while (dw_ring_pop(e->verdicts, &v)) {
		uint32_t d = e->conf->det[v.detector].duration;
		dw_report_verdict(e, &v, now_ms);
		(void)dw_clients_pin(e->clients, &v.client, now, now + d);
		n++;
	}
	dw_events_tick(e->events, now_ms);
	return n;
}
