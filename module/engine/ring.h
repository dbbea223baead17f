/**
 * \file
 * A bounded queue of fixed-size records from any thread to the module's own
 * thread.
 *
 * What it is for: worker threads hand work (verdicts, later block changes)
 * to the module's thread without ever blocking on I/O or allocating: a
 * record is copied into a ring allocated once; when the ring is full the
 * record is dropped and counted, so a burst can cost memory only up front.
 *
 * Cost: capacity × record_size bytes, allocated by dw_ring_new(). Push and
 * pop are one memcpy under one mutex, taken only when there is a record to
 * move (never once per query).
 * Thread safety: any number of pushers and poppers.
 * Errors: dw_ring_new() returns NULL on ENOMEM or a zero size; dw_ring_push()
 * returns -1 when full (and counts the drop).
 */
#ifndef DW_RING_H
#define DW_RING_H

#include <stddef.h>
#include <stdint.h>

struct dw_ring;

/** A ring of capacity records of record_size bytes. */
struct dw_ring *dw_ring_new(size_t capacity, size_t record_size);

/** Release the ring (records still queued are discarded). NULL is fine. */
void dw_ring_free(struct dw_ring *r);

/** Copy one record in; 0, or -1 when the ring is full (counted as dropped). */
int dw_ring_push(struct dw_ring *r, const void *record);

/** Copy the oldest record out; 1 when there was one, 0 when empty. */
int dw_ring_pop(struct dw_ring *r, void *record);

/** Heap bytes the ring holds (fixed at creation). NULL is 0. */
size_t dw_ring_mem(const struct dw_ring *r);

/** Records dropped because the ring was full, since creation. */
uint64_t dw_ring_dropped(struct dw_ring *r);

#endif
