/**
 * \file
 * The QNAME triggers of an RPZ zone file: the domain blocks (domain_blocks.h)
 * a peer publishes, read back from the zone file Unbound keeps after a
 * transfer (fleet.h).
 *
 * What it is for: a peer's zone carries client-ip triggers (rpzfile.h) and
 * QNAME triggers DOMAIN.ZONE and *.DOMAIN.ZONE; Unbound enforces both by
 * itself, and this reader lets list_domains and status show the domains with
 * the peer as their origin.
 *
 * Read: owners under zone (absolute, or relative to it) whose labels are no
 * other RPZ trigger kind (rpz-client-ip, rpz-ip, rpz-nsdname, rpz-nsip);
 * "*.DOMAIN" and "DOMAIN" are the same domain (reported for each record:
 * the caller merges). Actions: CNAME . nxdomain, CNAME *. nodata,
 * rpz-drop. drop, rpz-tcp-only. tcp-only, A/AAAA sinkhole; passthru and
 * rewrites to other names are skipped.
 *
 * Cost: O(file), no allocation. Thread safety: pure (the caller's data).
 * Errors: -1 with a sentence in err when the file cannot be read.
 */
#ifndef DW_RPZFILE_DOMAINS_H
#define DW_RPZFILE_DOMAINS_H

#include <stddef.h>

#include "conf.h"

/** Callback per QNAME trigger: domain lower case, no final dot; nonzero
 *  stops. */
typedef int (*dw_rpz_domain_fn)(void *arg, const char *domain, enum dw_action action);

/** Read the QNAME triggers of zone (with its final dot) in the file at
 *  path. The records reported, or -1 with err. */
long dw_rpzfile_read_domains(const char *path, const char *zone, dw_rpz_domain_fn fn, void *arg,
                             char *err, size_t errlen);

#endif
