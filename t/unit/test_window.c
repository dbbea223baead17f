/**
 * \file
 * Unit tests of window.c: geometry, the exact edge of every configured window
 * length, long gaps, time going backwards, saturation, and a comparison with
 * a brute-force model of the stated semantics over random event streams.
 */
#include "window.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The window lengths the brief and the config defaults care about. */
static const uint32_t lengths[] = {1, 7, 8, 9, 17, 60, 64, 599, 600, 3600, 86400};

/* Geometry as window.h states it. */
static void test_geometry(void)
{
	struct dw_window w;

	ok(dw_window_init(&w, 0) == -1, "a 0 s window is refused");
	ok(dw_window_init(&w, DW_WINDOW_MAX + 1) == -1, "a window above DW_WINDOW_MAX is refused");
	ok(dw_window_init(&w, DW_WINDOW_MAX) == 0, "DW_WINDOW_MAX is accepted");
	for (size_t n = 0; n < sizeof(lengths) / sizeof(lengths[0]); n++) {
		uint32_t W = lengths[n];
		int good = dw_window_init(&w, W) == 0;
		uint32_t g = (W + 7) / 8;

		good = good && w.g == g && w.k == (W + g - 1) / g && w.k >= 1 && w.k <= 8;
		good = good && w.k * w.g >= W && w.k * w.g <= W + w.g - 1;
		ok(good, "W=%u: g=%u k=%u, span %u in [W, W+g-1]", W, w.g, w.k, w.k * w.g);
	}
	dw_window_init(&w, 7);
	ok(w.g == 1 && w.k == 7, "W=7 uses 7 one-second slots");
	dw_window_init(&w, 600);
	ok(w.g == 75 && w.k == 8, "W=600 uses 8 slots of 75 s");
}

/* One event at t; is it counted at `at`, both by a reader (count) and after
 * an update with nothing to add (which clears expired slots)? Returns the
 * count, or -1 when the two paths disagree. */
static long probe(const struct dw_window *w, uint32_t t, uint32_t at)
{
	uint16_t s[DW_WINDOW_SLOTS];

	dw_window_clear(s);
	if (dw_window_update(w, s, t, t, 1) != 1)
		return -2;
	uint32_t read = dw_window_count(w, s, t, at);
	uint32_t upd = dw_window_update(w, s, t, at, 0);

	return read == upd ? (long)read : -1;
}

/* The last second an event counts and the first it does not, for events at
 * the start, the middle and the end of a slot. */
static void test_edges(void)
{
	const uint32_t base = 1000000; /* a multiple of no interesting g, on purpose */

	for (size_t n = 0; n < sizeof(lengths) / sizeof(lengths[0]); n++) {
		struct dw_window w;
		uint32_t W = lengths[n];

		dw_window_init(&w, W);
		uint32_t s0 = (base / w.g + 1) * w.g; /* a slot start */
		const uint32_t ts[3] = {s0, s0 + w.g / 2, s0 + w.g - 1};
		int good = 1;

		for (int j = 0; j < 3; j++) {
			uint32_t t = ts[j];
			uint32_t last = (t / w.g + w.k) * w.g - 1;

			good = good && dw_window_last_counted(&w, t) == last;
			good = good && probe(&w, t, t) == 1 && probe(&w, t, last) == 1 &&
			       probe(&w, t, last + 1) == 0;
			/* the stated bounds, in ages */
			good = good && probe(&w, t, t + w.k * w.g - w.g) == 1;
			good = good && probe(&w, t, t + w.k * w.g) == 0;
			if (w.g == 1)
				good = good && probe(&w, t, t + W - 1) == 1 &&
				       probe(&w, t, t + W) == 0;
		}
		ok(good, "W=%u: counted until (floor(t/g)+k)*g-1, not from (floor(t/g)+k)*g", W);
	}
}

/* Gaps of every size from 0 to beyond the ring, and a very long one. */
static void test_gaps(void)
{
	struct dw_window w;
	uint16_t s[DW_WINDOW_SLOTS];
	int good = 1;

	dw_window_init(&w, 600);
	for (uint32_t gap = 0; gap <= 20; gap++) {
		dw_window_clear(s);
		uint32_t t = 75 * 100;

		for (uint32_t i = 0; i < 8; i++) /* one event in each of 8 slots */
			dw_window_update(&w, s, t + 75 * (i ? i - 1 : 0), t + 75 * i, 1);
		uint32_t last = t + 75 * 7, now = last + 75 * gap;
		uint32_t want = gap >= 8 ? 0 : 8 - gap;

		good = good && dw_window_count(&w, s, last, now) == want;
		good = good && dw_window_update(&w, s, last, now, 0) == want;
	}
	ok(good, "W=600: after a gap of n slots, 8-n of 8 events remain");

	dw_window_clear(s);
	dw_window_update(&w, s, 5, 5, 100);
	ok(dw_window_count(&w, s, 5, 4000000000u) == 0, "nothing survives a gap of 127 years");
	ok(dw_window_update(&w, s, 5, 4000000000u, 3) == 3,
	   "after a long gap only new events count");
	ok(dw_window_count(&w, s, 4000000000u, 4000000000u + 524) == 3, "and they age normally");
	ok(dw_window_count(&w, s, 4000000000u, UINT32_MAX) == 0, "time at UINT32_MAX is fine");
	ok(dw_window_last_counted(&w, UINT32_MAX) == UINT32_MAX, "last_counted saturates");
}

/* now < last must act as now == last. */
static void test_backwards(void)
{
	struct dw_window w;
	uint16_t s[DW_WINDOW_SLOTS], copy[DW_WINDOW_SLOTS];

	dw_window_init(&w, 60);
	dw_window_clear(s);
	dw_window_update(&w, s, 1000, 1000, 1);
	ok(dw_window_update(&w, s, 1000, 500, 1) == 2, "an event from the past counts at last");
	ok(dw_window_count(&w, s, 1000, 0) == 2, "a read at time 0 reads at last");
	memcpy(copy, s, sizeof(s));
	ok(dw_window_update(&w, s, 1000, 999, 0) == 2 && memcmp(copy, s, sizeof(s)) == 0,
	   "going back one second clears nothing");
	uint32_t edge = dw_window_last_counted(&w, 1000);

	ok(dw_window_count(&w, s, 1000, edge) == 2 && dw_window_count(&w, s, 1000, edge + 1) == 0,
	   "both events expire on the edge of time 1000");
}

/* Saturation: never wraps, sum is bounded by 8 × 65535. */
static void test_saturation(void)
{
	struct dw_window w;
	uint16_t s[DW_WINDOW_SLOTS];

	dw_window_init(&w, 8);
	dw_window_clear(s);
	is_int(dw_window_update(&w, s, 0, 0, 65535), 65535, "one slot holds 65535");
	is_int(dw_window_update(&w, s, 0, 0, 1), 65535, "the 65536th event is dropped, no wrap");
	is_int(dw_window_update(&w, s, 0, 0, 65535), 65535, "a large increment saturates too");
	for (uint32_t t = 1; t < 8; t++)
		dw_window_update(&w, s, t - 1, t, 65535);
	is_int(dw_window_count(&w, s, 7, 7), 8u * 65535u, "eight saturated slots count 524280");
	is_int(dw_window_update(&w, s, 7, 8, 2), 7u * 65535u + 2,
	       "the oldest slot expires normally");
}

/* Reference: keep every event's time, count those with
 * floor(now/g) - floor(t/g) < k. Random streams with random gaps, some
 * backwards, must agree at every step for both reader and updater. */
static void test_model(void)
{
	enum { STEPS = 4000 };
	static uint32_t ev_t[STEPS];
	static uint16_t ev_n[STEPS];
	unsigned seed = 12345;

	for (size_t n = 0; n < sizeof(lengths) / sizeof(lengths[0]); n++) {
		struct dw_window w;
		uint16_t s[DW_WINDOW_SLOTS];
		uint32_t W = lengths[n], last = 77777;
		int good = 1;

		dw_window_init(&w, W);
		dw_window_clear(s);
		for (int i = 0; i < STEPS && good; i++) {
			unsigned r = (unsigned)rand_r(&seed);
			uint32_t now;

			switch (r % 8) {
			case 0: /* backwards */
				now = last - (r >> 8) % (2 * w.g + 1);
				break;
			case 1: /* far forward */
				now = last + (r >> 8) % (12 * w.k * w.g + 1);
				break;
			default: /* around one slot */
				now = last + (r >> 8) % (w.g + 2);
			}
			uint16_t inc = (uint16_t)((r >> 4) % 4);

			uint32_t eff = now > last ? now : last;
			uint32_t want = 0;

			ev_t[i] = eff;
			ev_n[i] = inc;
			for (int j = 0; j <= i; j++)
				if (eff / w.g - ev_t[j] / w.g < w.k)
					want += ev_n[j];
			uint32_t peek = dw_window_count(&w, s, last, now);
			uint32_t want_peek = want - inc;
			uint32_t got = dw_window_update(&w, s, last, now, inc);

			good = peek == want_peek && got == want;
			if (!good)
				printf("# W=%u step %d last=%u now=%u: got %u/%u want %u/%u\n", W,
				       i, last, now, peek, got, want_peek, want);
			last = eff;
		}
		ok(good, "W=%u: %d random steps agree with the brute-force model", W, STEPS);
	}
}

int main(void)
{
	test_geometry();
	test_edges();
	test_gaps();
	test_backwards();
	test_saturation();
	test_model();
	return done_testing();
}
