/**
 * \file
 * The Unbound adapter's upstream side: what the resolver itself sends to and
 * hears from authoritative servers, turned into struct dw_upstream events
 * for the engine's nameserver whitelist (whitelist.h).
 *
 * What it registers (through the dynlib env's wrapped inplace callbacks):
 *   - inplace_cb_query: fires for every query Unbound sends upstream
 *     (services/outside_network.c, serviced query), with the server's
 *     sockaddr and the delegation point's name (the zone the server was
 *     chosen for). Becomes one DW_UP_QUERY {server, zone}.
 *   - inplace_cb_query_response: fires in the iterator for every upstream
 *     answer, with the scrubbed struct dns_msg (NULL on timeout: nothing is
 *     sent then); the answering server is qstate->reply->remote_addr
 *     (struct comm_reply, 1.17.1). Becomes DW_UP_RESPONSE events with the
 *     NS records of the answer and authority sections and the A/AAAA
 *     records of the additional and answer sections (class IN), in that
 *     order, DW_UP_MAX_RR a record, at most DW_UPSTREAM_MAX_EVENTS records
 *     per response (a .com referral, 13 NS + 26 glue, takes three). The
 *     zone of a response event is left empty (the query event already said
 *     which zone that server serves).
 * Names are lower-cased presentation form with the final dot; bytes other
 * than [a-z0-9_-] in a label are written \DDD; a name that does not fit
 * (more than 255 characters once escaped) or is malformed drops its record.
 *
 * Cost on the worker thread: per upstream query, the server and the zone's
 * text on the stack (under 300 bytes) and dw_engine_upstream_query(); per
 * response, one struct dw_upstream on the stack (about 8.7 KB, only the
 * records used are written), O(records × name length) work, then
 * dw_engine_upstream(). Either copies only the bytes used into this
 * thread's ring (upqueue.h: its own, uncontended lock; no global lock).
 * No allocation, no I/O, no logging.
 *
 * Thread safety: the callbacks run on every worker at once; they touch only
 * their stack and the engine's upstream queue. register/unregister run from the
 * module's init()/deinit() only.
 *
 * Caveat: Unbound's inplace_cb_delete_wrapped() removes every callback of a
 * list registered under this module id, so dw_upstream_unregister() also
 * removes any other inplace_cb_query / inplace_cb_query_response callback
 * the module registered itself.
 */
#ifndef DW_UNBOUND_UPSTREAM_H
#define DW_UNBOUND_UPSTREAM_H

struct module_env;
struct dynlibmod_env;
struct dw_engine;

/** Most DW_UP_RESPONSE events one upstream response turns into. */
#define DW_UPSTREAM_MAX_EVENTS 4

/** Register both upstream callbacks for module id, handing events to e
 *  (which must outlive the registration). 0 on success; -1 on failure, with
 *  nothing left registered and the reason logged with log_err(). */
int dw_upstream_register(struct module_env *env, int id, struct dynlibmod_env *de,
                         struct dw_engine *e);

/** Remove both callbacks (safe when they were never registered). Call before
 *  freeing the engine. */
void dw_upstream_unregister(struct module_env *env, int id, struct dynlibmod_env *de);

#endif
