/**
 * \file
 * Per-thread counter slots (tslot.h).
 */
#include "tslot.h"

#include <stdatomic.h>

static atomic_uint next_slot;
static _Thread_local unsigned my_slot; /* slot + 1; 0 = not taken yet */

/** This thread's slot: taken in turn on the thread's first call. */
unsigned dw_tslot(void)
{
	if (my_slot == 0)
		my_slot = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) % DW_TSLOTS + 1;
	return my_slot - 1;
}
