/**
 * \file
 * Per-thread counter slots: statistics that every query bumps are kept in
 * one cache line per thread and summed when read, so that no cache line is
 * written by every query of every worker thread.
 *
 * What it is for: the engine counts each query (by answer path); with one
 * shared atomic, two workers bouncing its line cost more than the counter
 * is worth. A counter array is declared as DW_TSLOTS cache-line-aligned
 * copies; a thread bumps the copy dw_tslot() names and a reader adds them
 * all up.
 *
 * Cost: dw_tslot() is inline: one thread-local load after the thread's
 * first call (which takes a slot with one atomic increment). In the module
 * (a dlopen()ed library) that load goes through a TLS descriptor when the
 * compiler offers them (configure: -mtls-dialect=gnu2, about 4 instructions
 * in all), else through __tls_get_addr() (about 20). DW_TSLOTS × 64 bytes
 * per array.
 * Thread safety: any thread. Threads beyond DW_TSLOTS share slots (in turn),
 * so increments stay atomic (relaxed): correct always, contention-free for
 * up to DW_TSLOTS threads. A sum read while threads count is a value the
 * counter had at some moment of the read or later, never torn.
 * Errors: none.
 */
#ifndef DW_TSLOT_H
#define DW_TSLOT_H

/** Slots per counter array (threads before sharing begins). */
#define DW_TSLOTS 64

/** This thread's slot + 1; 0 until the thread's first dw_tslot(). */
extern _Thread_local unsigned dw_tslot_plus1;

/** dw_tslot()'s first call in a thread: take the next slot in turn. */
unsigned dw_tslot_take(void);

/** This thread's slot, 0 .. DW_TSLOTS-1, fixed for the thread's life. */
static inline unsigned dw_tslot(void)
{
	unsigned s = dw_tslot_plus1;

	return s != 0 ? s - 1 : dw_tslot_take();
}

#endif
