/**
 * \file
 * The whitelist's answers on the control socket: dump_whitelist and
 * check_ns, as dnswarden-control(8) documents them.
 *
 * Cost: one dw_whitelist_foreach() walk (dump) or one lookup (check), each
 * address formatted into the response. Thread safety: as the whitelist's
 * (whitelist.h): the module's thread only. Errors: none returned; an
 * allocation failure shows in the response (control_out.h).
 */
#ifndef DW_WHITELIST_OUT_H
#define DW_WHITELIST_OUT_H

#include <time.h>

#include "addr.h"
#include "control_out.h"
#include "whitelist.h"

/** The list "whitelist": one item per address known at now, in address
 *  order, with the fields addr src ns zones [first_seen last_seen] expires. */
void dw_whitelist_out_dump(struct dw_out *out, struct dw_whitelist *wl, time_t now);

/** check_ns: addr and known=no for an address unknown at now; the fields
 *  of dw_whitelist_out_dump() and known=yes for a known one. */
void dw_whitelist_out_check(struct dw_out *out, struct dw_whitelist *wl, const struct dw_addr *a,
                            time_t now);

#endif
