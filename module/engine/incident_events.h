/**
 * \file
 * The engine's side of the incident history (incident_events.c): one call
 * per event the module's thread emits, each building a row (struct
 * dw_incident) with its evidence and queueing it in the store (incidents.h).
 *
 * Cost: a few string appends and one GeoIP lookup per row; no allocation
 * (the row is built in the engine's scratch record).
 * Thread safety: the module's own thread only (or the thread freeing the
 * engine after it stopped).
 * Errors: none reach the caller; a full queue is counted by the store.
 * Every call does nothing when incidents.database is off.
 */
#ifndef DW_INCIDENT_EVENTS_H
#define DW_INCIDENT_EVENTS_H

#include <stddef.h>

#include "addr.h"
#include "incidents.h"

struct dw_engine;
struct dw_verdict;
struct dw_block;

/** Create the store from incidents.database (nothing when it is empty).
 *  0, or -1 with err (out of memory). */
int dw_incident_open(struct dw_engine *e, char *err, size_t errlen);

/** A verdict; observe = 1 when it is a would_block. */
void dw_incident_verdict(struct dw_engine *e, const struct dw_verdict *v, int observe);

/** A block started; by is "detector:NAME" or "control:uid=N". */
void dw_incident_block(struct dw_engine *e, const struct dw_block *b, const char *by);

/** A block lifted by by (expired = 0) or run out (expired = 1). */
void dw_incident_unblock(struct dw_engine *e, const struct dw_block *b, const char *by,
			 int expired);

/** A verdict that could not become a block, with the reason. */
void dw_incident_block_failed(struct dw_engine *e, const struct dw_verdict *v, const char *err);

/** A run-time exemption changed by control peer uid; result as answered. */
void dw_incident_exempt(struct dw_engine *e, const struct dw_cidr *c, int added, unsigned uid,
			const char *result);

/** What a domain block's row says besides its domain and client. */
struct dw_inc_domain_info {
	int detector;      /**< enum dw_detector, -1 by hand */
	int action;        /**< enum dw_action */
	uint32_t duration; /**< seconds, 0 = until unblocked */
	int64_t expires;   /**< Unix seconds, 0 for none */
	int64_t since;     /**< Unix seconds the block started (unblock, expiry), 0 */
	const char *by;    /**< "detector:dns_tunnel", "control:uid=N", "expiry" */
	const char *error; /**< why it was not blocked (refused rows), or NULL */
};

/** A domain block's event ev (DW_INC_BLOCK_DOMAIN .. DW_INC_DOMAIN_REFUSED)
 *  for domain; client is the verdict's client, NULL for none (by hand,
 *  expiry: the row's client is 0.0.0.0/0, every client). */
void dw_incident_domain(struct dw_engine *e, enum dw_inc_event ev, const char *domain,
                        const struct dw_addr *client, const struct dw_inc_domain_info *d);

#endif
