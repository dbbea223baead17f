/**
 * \file
 * How a window counts: one event counter over a sliding time window, kept as
 * a ring of eight saturating 16-bit sub-buckets.
 *
 * What it is for: the client table keeps a few of these per client ("MX
 * queries in the last 10 minutes") and asks, on every query, how many events
 * the window holds now. It must be small (a million clients × several
 * counters), O(1) per call, and exact at its edges so that tests and
 * operators can say precisely what "50 MX in 10 minutes" means.
 *
 * Memory: DW_WINDOW_SLOTS × 2 = 16 bytes per counter (8 with the narrow
 * 8-bit variant below) (the caller owns the
 * array), plus 12 bytes of parameters per distinct window length
 * (struct dw_window, shared by every client). A counter stores no
 * timestamp: its owner keeps ONE `last` time (uint32 seconds) for all its
 * counters, the time of the previous dw_window_update() on them.
 *
 * Geometry: a window of W seconds (1 <= W <= DW_WINDOW_MAX) uses slots of
 * g = ceil(W / 8) seconds and counts the k = ceil(W / g) most recent of them
 * (k <= 8; k = W when W <= 8, k = 8 when W is a multiple of 8). Slot index of
 * time t is floor(t / g); the ring position is that index mod 8.
 *
 * Semantics (exact, no estimate): an event recorded at time t is counted at
 * time now >= t iff  floor(now / g) - floor(t / g) < k.  Hence, with
 * age = now - t:
 *   - every event with age <= k*g - g is counted  (k*g - g >= W - g),
 *   - no event with age >= k*g is counted          (k*g <= W + g - 1),
 *   - in between it depends on where t fell in its slot.
 * The last second an event at t counts is (floor(t/g) + k) * g - 1, the first
 * second it no longer counts is (floor(t/g) + k) * g. With g = 1 (W <= 8)
 * this is a true sliding window: counted iff age < W. Examples: W = 600 →
 * g = 75, k = 8: events younger than 526 s always count, none of 600 s or
 * older; W = 60 → g = 8, k = 8: always < 57 s, never >= 64 s.
 * (Choosing k = ceil(W/g) rather than always 8 keeps the span k*g within
 * [W, W + g - 1]; with k = 8 a 9 s window would have spanned 16 s.)
 *
 * Saturation: each slot holds at most DW_WINDOW_SLOT_MAX (65535) events;
 * further increments in the same slot are dropped, never wrapped. A count is
 * therefore exact unless a slot in the window saturated, in which case it is
 * a lower bound >= 65535. Consequence: "count >= T" is decided exactly for any
 * threshold T <= 65535. The largest count is 8 × 65535 = 524280.
 *
 * Time model: `now` and `last` are caller-supplied monotonic seconds (e.g.
 * CLOCK_MONOTONIC), uint32, assumed not to wrap (136 years). Time going
 * backwards (now < last, e.g. two threads that read the clock in one order
 * and took the lock in the other) never corrupts anything: it is treated as
 * now = last, so the event lands in the newest slot. Any gap forward,
 * however long, is O(1) (at most 8 slots are cleared).
 *
 * Work per call: O(8) — two integer divisions, at most 8 slots cleared and
 * 8 summed; no allocation, no locks.
 * Thread safety: none inside; the slots belong to the caller, who serialises
 * access (the client table holds its shard lock). struct dw_window is
 * read-only after dw_window_init() and may be shared freely.
 * Errors: dw_window_init() returns -1 for a length outside 1..DW_WINDOW_MAX;
 * every other function is total.
 */
#ifndef DW_WINDOW_H
#define DW_WINDOW_H

#include <stdint.h>

/** Sub-buckets per counter (the ring size). */
#define DW_WINDOW_SLOTS 8

/** Largest value one sub-bucket holds (saturation limit). */
#define DW_WINDOW_SLOT_MAX UINT16_MAX

/** Longest window accepted: 31 days (config allows up to 1 day today). */
#define DW_WINDOW_MAX (31u * 86400u)

/** Parameters of one window length; computed once, shared by all clients. */
struct dw_window {
	uint32_t seconds; /**< W as configured */
	uint32_t g;       /**< slot width in seconds, ceil(W / 8) */
	uint32_t k;       /**< slots counted, ceil(W / g), 1..8 */
};

/** Compute slot width and slot count for a window of `seconds`; 0, or -1
 *  when seconds is 0 or above DW_WINDOW_MAX. */
int dw_window_init(struct dw_window *w, uint32_t seconds);

/** Empty a counter (a new client starts with all zero slots). */
void dw_window_clear(uint16_t slots[DW_WINDOW_SLOTS]);

/** The hot call: move the counter from `last` to `now` (expiring slots that
 *  fell out), add `inc` at `now` (saturating), and return the count at `now`.
 *  The caller then sets its shared `last` to max(last, now). */
uint32_t dw_window_update(const struct dw_window *w, uint16_t slots[DW_WINDOW_SLOTS], uint32_t last,
                          uint32_t now, uint16_t inc);

/** Count at `now` of a counter last updated at `last`, without modifying it
 *  (for readers such as show_client that must not disturb the client). */
uint32_t dw_window_count(const struct dw_window *w, const uint16_t slots[DW_WINDOW_SLOTS],
                         uint32_t last, uint32_t now);

/** Largest value one 8-bit sub-bucket holds (narrow counters). */
#define DW_WINDOW_SLOT8_MAX UINT8_MAX

/** The same counter with 8-bit slots (8 bytes instead of 16): identical
 *  geometry and edges; each slot saturates at DW_WINDOW_SLOT8_MAX, so a
 *  count is exact unless a slot in the window saturated (then a lower bound
 *  >= 255) and "count >= T" is decided exactly for any T <= 255. The client
 *  table uses it for counters whose every threshold is <= 255. */
uint32_t dw_window_update8(const struct dw_window *w, uint8_t slots[DW_WINDOW_SLOTS], uint32_t last,
                           uint32_t now, uint16_t inc);

/** dw_window_count() for 8-bit slots. */
uint32_t dw_window_count8(const struct dw_window *w, const uint8_t slots[DW_WINDOW_SLOTS],
                          uint32_t last, uint32_t now);

/** Last second at which an event recorded at `t` is still counted
 *  (the window's exact edge; used by tests and to explain verdicts). */
uint32_t dw_window_last_counted(const struct dw_window *w, uint32_t t);

#endif
