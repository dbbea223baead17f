/**
 * \file
 * The mail-server watch: a bounded time series of the DNS queries each of
 * the campus's authorised mail servers (mail_servers: in the YAML) sends to
 * the resolver, at mail_watch.resolution for mail_watch.keep.
 *
 * What it is for: the studies "Statistical Analysis in Logs of DNS Traffic
 * and E-mail Server" (Musashi, Matsuba, Sugitani, IPSJ SIG Notes 2003) and
 * the same authors' slides on DNS and SMTP/POP3 accesses of a campus mail
 * server (2003) found that a mail server's query count D_q follows its SMTP
 * activity (D_q = 8.8 N_c + N_P) and that D_q rising while the Mail
 * Exchanging Efficiency falls, or together with deferred mail, marks a spam
 * run, an SMTP DoS or mass-mailing worms. This unit counts D_q (total and
 * per query class, NXDOMAIN and SERVFAIL answers) per interval; the
 * mail_stats control verb returns it and dnswarden-mailwatch(8) correlates it
 * with the MTA's log.
 *
 * Layout: one ring of buckets per server, preallocated at construction
 * (keep / resolution + 2 buckets of 40 bytes each: keep's worth of complete
 * intervals, the current one and the next, prepared ahead). A bucket carries the
 * interval number it counts (wall-clock seconds / resolution) and relaxed
 * atomic counters. The module's thread prepares the current and the next
 * interval ahead of time (dw_mailwatch_tick); a worker that finds its
 * interval not prepared yet claims and clears the bucket itself with one
 * compare-and-swap, so counting never waits and never allocates.
 *
 * Cost: dw_mailwatch_observe() is on the per-query path when a mail server
 * is configured (the engine tests the config's count before calling): for an IPv4 client, one
 * probe of a hash table of the IPv4 host entries plus a mask-and-compare per
 * IPv4 prefix entry (IPv6 clients: a scan of the IPv6 entries); for a mail
 * server's query a clock read and up to three relaxed atomic increments.
 * No lock, no allocation, no I/O.
 * Thread safety: observe may run on any number of threads at once; tick and
 * the readers run on the module's thread (readers tolerate a bucket being
 * recycled under them: they re-check its interval after reading).
 * Errors: dw_mailwatch_new() returns NULL with the reason in err.
 */
#ifndef DW_MAILWATCH_H
#define DW_MAILWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

/** What a bucket counts, in this order (also the mail_stats field names). */
enum dw_mw_counter {
	DW_MW_TOTAL = 0,
	DW_MW_MX,
	DW_MW_A, /**< A and AAAA */
	DW_MW_PTR,
	DW_MW_TXT,
	DW_MW_OTHER,
	DW_MW_NXDOMAIN, /**< answered NXDOMAIN */
	DW_MW_SERVFAIL, /**< answered SERVFAIL */
	DW_MW_NCOUNT
};

struct dw_mailwatch;

/** Series for every conf->mail_servers entry (none is fine: observe then
 *  returns at once). NULL with err on ENOMEM. */
struct dw_mailwatch *dw_mailwatch_new(const struct dw_conf *conf, char *err, size_t errlen);
void dw_mailwatch_free(struct dw_mailwatch *mw);

/** Index of the mail server holding a, or -1: an IPv4 host entry (found
 *  with one hash probe) before the prefixes, which are tried in order. Any
 *  thread. */
int dw_mailwatch_match(const struct dw_mailwatch *mw, const struct dw_addr *a);

/** The per-query hook: count one answered query of client with qtype and
 *  rcode when client is a mail server. NULL mw is fine. */
void dw_mailwatch_observe(struct dw_mailwatch *mw, const struct dw_addr *client, uint16_t qtype,
                          uint8_t rcode);

/** The same at an explicit wall-clock time (tests and the above). */
void dw_mailwatch_count_at(struct dw_mailwatch *mw, int server, int64_t now, uint16_t qtype,
                           uint8_t rcode);

/** Prepare the buckets of now's interval and the next (module thread). */
void dw_mailwatch_tick(struct dw_mailwatch *mw, int64_t now);

/** Number of servers, the resolution (s) and the number of buckets
 *  (keep / resolution + 2). */
size_t dw_mailwatch_servers(const struct dw_mailwatch *mw);
uint32_t dw_mailwatch_resolution(const struct dw_mailwatch *mw);
uint32_t dw_mailwatch_buckets(const struct dw_mailwatch *mw);
/** The prefix of server i. */
const struct dw_cidr *dw_mailwatch_server(const struct dw_mailwatch *mw, size_t i);

/** Read interval iv (start = iv * resolution) of server i into c[]: 0, or -1
 *  when that interval is not (or no longer) in the series. */
int dw_mailwatch_read(const struct dw_mailwatch *mw, size_t i, int64_t iv,
                      uint64_t c[DW_MW_NCOUNT]);

/** Queries a worker could not count (its bucket was being cleared). */
uint64_t dw_mailwatch_missed(const struct dw_mailwatch *mw);

/** Field name of a counter ("total", "mx", "a", ...). */
const char *dw_mailwatch_counter_name(enum dw_mw_counter c);

#endif
