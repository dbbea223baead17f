/**
 * \file
 * The upstream queue: what the resolver's workers saw of their own upstream
 * traffic (struct dw_upstream, upstream.h), on its way to the module's thread
 * and the whitelist.
 *
 * What it is for: a resolver with a cold cache sends tens of thousands of
 * upstream queries a second; each becomes an observation on a worker thread.
 * The queue takes them without a global lock, without allocation and without
 * copying more than the bytes an observation uses (a query event is about
 * 40 bytes, not the 8.9 KB of struct dw_upstream), and says when the module's
 * thread must be woken: by the first push after it went idle (armed), or by
 * a ring more than half full (a hurry), never once per event.
 *
 * How: DW_UPQ_RINGS byte rings; a worker thread takes one ring on its first
 * push (threads beyond DW_UPQ_RINGS share, each ring has a producer mutex
 * that is uncontended while every worker has its own ring). Each ring is a
 * single-consumer ring of length-prefixed records: the consumer (the
 * module's thread) never takes a lock. A record that does not fit is
 * dropped and counted.
 *
 * Cost: ring_bytes allocated once by dw_upq_new(). Push: one uncontended
 * mutex, a copy of the used bytes, two atomics. Pop: no lock, a copy.
 * Thread safety: any number of pushers; one popper at a time.
 * Errors: dw_upq_new() returns NULL on ENOMEM or a ring too small for the
 * largest record; a push into a full ring returns -1 and counts a drop.
 */
#ifndef DW_UPQUEUE_H
#define DW_UPQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "upstream.h"

/** Rings in one queue (one per worker thread up to this many). */
#define DW_UPQ_RINGS 16

struct dw_upq;

/** A queue of ring_bytes in total (split over the rings). */
struct dw_upq *dw_upq_new(size_t ring_bytes);

/** Release the queue (queued records are discarded). NULL is fine. */
void dw_upq_free(struct dw_upq *q);

/** Queue one observation (only its used bytes). 1 when queued and the
 *  consumer must be woken (it asked with dw_upq_rearm() and nobody has
 *  woken it since, or this ring is now more than half full and nobody has
 *  said so since the consumer's last drain), 0 when queued, -1 when dropped
 *  (ring full). */
int dw_upq_push(struct dw_upq *q, const struct dw_upstream *u);

/** The query event "sent server a query about zone" without building a
 *  struct dw_upstream: same result as dw_upq_push(). */
int dw_upq_push_query(struct dw_upq *q, const struct dw_addr *server, const char *zone);

/** Consumer: ask to be woken by the next push; call before draining when
 *  the last drain found nothing (the consumer goes idle). */
void dw_upq_rearm(struct dw_upq *q);

/** Consumer: call before draining when the consumer will come back by
 *  itself shortly (a busy queue): only a ring over half full wakes it. */
void dw_upq_busy(struct dw_upq *q);

/** Consumer: take the oldest observation of the next non-empty ring into
 *  *u (names NUL-terminated, unused rr slots untouched). 1, or 0 when every
 *  ring is empty. */
int dw_upq_pop(struct dw_upq *q, struct dw_upstream *u);

/** Bytes the queue holds allocated (for the module's get_mem). */
size_t dw_upq_mem(const struct dw_upq *q);

/** Observations dropped since creation (any thread). */
uint64_t dw_upq_dropped(const struct dw_upq *q);

#endif
