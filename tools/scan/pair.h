/**
 * \file
 * dnswarden-scan's pairing of queries with their answers (pcap, Unbound
 * logs with both log-queries and log-replies): a query waits here until
 * its answer gives it an rcode, or until it times out and is counted
 * without one.
 *
 * Key: client, client port, server, DNS id, qtype and qname (the parts a
 * reader knows; the others are 0). Cost: O(1) per record on average; memory
 * about 350 bytes per waiting query, at most max of them (the oldest is let
 * go unanswered when full). Thread safety: one thread. Errors: none; out of
 * memory lets the query go unanswered at once.
 */
#ifndef DW_SCAN_PAIR_H
#define DW_SCAN_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"

/** Where records leave the pairing: the query's record with the answer's
 *  rcode (-1 when none came) at the answer's (or the timeout's) time. */
typedef void (*dw_scan_emit_fn)(void *arg, const struct dw_scan_rec *r);

struct dw_scan_pair;

/** A pairing table; timeout in seconds; NULL when out of memory. */
struct dw_scan_pair *dw_scan_pair_new(uint32_t timeout, size_t max, dw_scan_emit_fn fn, void *arg);

/** A query (kind DW_SCAN_QUERY) waits for its answer. Queries older than
 *  the timeout at r->t leave unanswered first. */
void dw_scan_pair_query(struct dw_scan_pair *p, const struct dw_scan_rec *r);

/** An answer (kind DW_SCAN_REPLY): its query leaves with its rcode; an
 *  answer whose query was not seen leaves by itself. */
void dw_scan_pair_reply(struct dw_scan_pair *p, const struct dw_scan_rec *r);

/** Let every waiting query go unanswered (end of input). */
void dw_scan_pair_flush(struct dw_scan_pair *p);

/** Queries that left without an answer, answers without a query. */
void dw_scan_pair_counts(const struct dw_scan_pair *p, uint64_t *unanswered, uint64_t *orphans);

/** Release it (waiting queries are dropped: flush first). */
void dw_scan_pair_free(struct dw_scan_pair *p);

#endif
