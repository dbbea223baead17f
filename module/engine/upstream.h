/**
 * \file
 * The upstream observation: what the adapter saw of the resolver's own
 * queries to authoritative servers and their answers, handed to the engine
 * (dw_engine_upstream(), engine.h), queued (upqueue.h) and learned from by
 * the whitelist (whitelist.h).
 *
 * Cost: a struct dw_upstream is about 8.9 KB (fixed arrays, no pointers).
 * Thread safety: plain data. Errors: none; the whitelist checks every field.
 */
#ifndef DW_UPSTREAM_H
#define DW_UPSTREAM_H

#include <stdint.h>

#include "addr.h"

/** One thing the resolver learned from its own upstream traffic (whitelist
 *  issue): filled by the adapter on a worker thread, queued to the module's
 *  thread. Names are lower-case presentation form with the final dot. */
#define DW_UP_MAX_RR 16
enum dw_up_kind {
	DW_UP_QUERY = 0, /**< the resolver sent a query to server for zone */
	DW_UP_RESPONSE   /**< server answered; rr[] holds NS and A/AAAA records */
};
struct dw_up_rr {
	uint16_t type; /**< 2 (NS), 1 (A) or 28 (AAAA) */
	uint32_t ttl;
	char owner[256];     /**< NS: the zone; A/AAAA: the host name */
	char nsname[256];    /**< NS only: the nameserver's name */
	struct dw_addr addr; /**< A/AAAA only */
};
struct dw_upstream {
	uint8_t kind;          /**< enum dw_up_kind */
	struct dw_addr server; /**< the authoritative server queried / answering */
	char zone[256];        /**< the zone (delegation point) it was asked about */
	uint8_t nrr;
	struct dw_up_rr rr[DW_UP_MAX_RR];
};

#endif
