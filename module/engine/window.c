/**
 * \file
 * Sliding-window event counters: a ring of eight saturating 16-bit slots.
 * The contract (geometry, exact edge semantics, saturation, time model) is in
 * window.h; this file only implements it.
 *
 * Ring invariant, given the owner's `last` time with slot index L = last / g:
 * position p holds the events of the one slot index i with i mod 8 == p and
 * L - 8 < i <= L. Positions of indices above L hold stale data of index i - 8
 * until dw_window_update() clears them; dw_window_count() skips them instead.
 */
#include "window.h"

#include <string.h>

#define RING_MASK (DW_WINDOW_SLOTS - 1)

int dw_window_init(struct dw_window *w, uint32_t seconds)
{
	if (seconds == 0 || seconds > DW_WINDOW_MAX)
		return -1;
	w->seconds = seconds;
	/* ceil without overflow: the slot width that makes 8 slots cover W */
	w->g = seconds / DW_WINDOW_SLOTS + (seconds % DW_WINDOW_SLOTS != 0);
	/* only as many slots as needed to reach W, so the span k*g stays < W + g */
	w->k = seconds / w->g + (seconds % w->g != 0);
	return 0;
}

void dw_window_clear(uint16_t slots[DW_WINDOW_SLOTS])
{
	memset(slots, 0, DW_WINDOW_SLOTS * sizeof(slots[0]));
}

/* Sum the k slots ending at index `top` (indices top-k+1 .. top); the caller
 * guarantees all of them are valid under the ring invariant. */
static uint32_t sum_back(const uint16_t *slots, uint32_t top, uint32_t k)
{
	uint32_t sum = 0;

	if (k == DW_WINDOW_SLOTS) {
		/* the common case (W >= 8 and W a multiple of g): no index math */
		for (unsigned i = 0; i < DW_WINDOW_SLOTS; i++)
			sum += slots[i];
		return sum;
	}
	for (uint32_t j = 0; j < k; j++)
		sum += slots[(top - j) & RING_MASK];
	return sum;
}

uint32_t dw_window_update(const struct dw_window *w, uint16_t slots[DW_WINDOW_SLOTS], uint32_t last,
                          uint32_t now, uint16_t inc)
{
	/* time going backwards is "no time passed", never a corruption */
	if (now < last)
		now = last;
	uint32_t L = last / w->g, C = now / w->g;
	uint32_t gap = C - L;
	/* Sum the surviving slots before storing anything: reading the ring
	 * right after a narrow store into it stalls store forwarding, which
	 * used to cost more than the rest of the call. */
	uint32_t sum = gap >= w->k ? 0 : sum_back(slots, L, w->k - gap);

	if (gap >= DW_WINDOW_SLOTS) {
		dw_window_clear(slots);
	} else {
		for (uint32_t i = 1; i <= gap; i++)
			slots[(L + i) & RING_MASK] = 0;
	}
	uint16_t *cur = &slots[C & RING_MASK];
	uint16_t old = *cur; /* 0 when just cleared; else already in sum */
	uint16_t sat = (uint16_t)(old > DW_WINDOW_SLOT_MAX - inc ? DW_WINDOW_SLOT_MAX : old + inc);

	*cur = sat;
	return sum + sat - old;
}

uint32_t dw_window_count(const struct dw_window *w, const uint16_t slots[DW_WINDOW_SLOTS],
                         uint32_t last, uint32_t now)
{
	if (now < last)
		now = last;
	uint32_t L = last / w->g, C = now / w->g;
	uint32_t gap = C - L;

	/* indices L+1 .. C are empty; the window (C-k, C] keeps k - gap of the
	 * stored ones, all > L - 8 because k <= 8 */
	if (gap >= w->k)
		return 0;
	return sum_back(slots, L, w->k - gap);
}

/* The same ring with 8-bit slots (dw_window_update8() etc., window.h):
 * identical index arithmetic, saturation at DW_WINDOW_SLOT8_MAX. */
static uint32_t sum_back8(const uint8_t *slots, uint32_t top, uint32_t k)
{
	uint32_t sum = 0;

	if (k == DW_WINDOW_SLOTS) {
		for (unsigned i = 0; i < DW_WINDOW_SLOTS; i++)
			sum += slots[i];
		return sum;
	}
	for (uint32_t j = 0; j < k; j++)
		sum += slots[(top - j) & RING_MASK];
	return sum;
}

uint32_t dw_window_update8(const struct dw_window *w, uint8_t slots[DW_WINDOW_SLOTS], uint32_t last,
                           uint32_t now, uint16_t inc)
{
	if (now < last)
		now = last;
	uint32_t L = last / w->g, C = now / w->g;
	uint32_t gap = C - L;
	uint32_t sum = gap >= w->k ? 0 : sum_back8(slots, L, w->k - gap);

	if (gap >= DW_WINDOW_SLOTS) {
		memset(slots, 0, DW_WINDOW_SLOTS);
	} else {
		for (uint32_t i = 1; i <= gap; i++)
			slots[(L + i) & RING_MASK] = 0;
	}
	uint8_t *cur = &slots[C & RING_MASK];
	uint8_t old = *cur;
	uint8_t sat = (uint8_t)(inc > DW_WINDOW_SLOT8_MAX - old ? DW_WINDOW_SLOT8_MAX : old + inc);

	*cur = sat;
	return sum + sat - old;
}

uint32_t dw_window_count8(const struct dw_window *w, const uint8_t slots[DW_WINDOW_SLOTS],
                          uint32_t last, uint32_t now)
{
	if (now < last)
		now = last;
	uint32_t L = last / w->g, C = now / w->g;
	uint32_t gap = C - L;

	if (gap >= w->k)
		return 0;
	return sum_back8(slots, L, w->k - gap);
}

uint32_t dw_window_last_counted(const struct dw_window *w, uint32_t t)
{
	uint64_t edge = ((uint64_t)(t / w->g) + w->k) * w->g - 1;

	return edge > UINT32_MAX ? UINT32_MAX : (uint32_t)edge;
}
