/**
 * \file
 * Per-thread counter slots (tslot.h).
 */
#include "tslot.h"

#include <stdatomic.h>

static atomic_uint next_slot;
_Thread_local unsigned dw_tslot_plus1; /* slot + 1; 0 = not taken yet */

/** This thread's slot: taken in turn on the thread's first call. */
unsigned dw_tslot_take(void)
{
	if (dw_tslot_plus1 == 0)
		dw_tslot_plus1 =
		    atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) % DW_TSLOTS + 1;
	return dw_tslot_plus1 - 1;
}
