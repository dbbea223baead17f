/**
 * \file
 * What the whitelist's files share and nobody else sees: the store's types
 * and the store operations that learning (whitelist_learn.c) and the saved
 * lines (whitelist_save.c) build on. Defined in whitelist.c.
 *
 * Cost, thread safety, errors: as whitelist.h (the module's thread only).
 */
#ifndef DW_WHITELIST_INT_H
#define DW_WHITELIST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "whitelist.h"

#define NOHEAP SIZE_MAX
/* Name strings may take this many bytes per max_entries (at least
 * NAME_BUDGET_MIN): hostile zones with long unique names cost evictions,
 * not memory. */
#define NAME_BUDGET_PER_ENTRY 128u
#define NAME_BUDGET_MIN (1u << 20)

/* ------------------------------------------------------------------------ */
/* Types */

/** What both heaps order by. */
struct wl_item {
	time_t expires; /* the latest expiry of its zone links */
	time_t last;    /* last learned: the tie-break, and last_seen */
	size_t hidx;    /* position in its heap, NOHEAP when not in one */
};

/** An interned name; refs counts every pointer held to it. */
struct wl_name {
	struct wl_name *hnext;
	struct wl_ns *ns; /* its nameserver-map record, when it is an NS name */
	uint64_t hash;
	uint32_t refs;
	uint16_t len;
	char s[];
};

/** A zone link with its expiry. */
struct wl_zref {
	struct wl_name *zone;
	time_t expires;
};

/** The nameserver map's record of one NS name: the zones it serves. */
struct wl_ns {
	struct wl_item it;
	struct wl_name *name; /* holds a reference */
	uint8_t nzones;
	struct wl_zref zones[DW_WL_MAX_ZONES];
};

/** One address. */
struct wl_entry {
	struct wl_item it;
	struct wl_entry *hnext;
	uint64_t hash;
	struct dw_addr addr;
	uint8_t src; /* DW_WL_SRC_* */
	uint8_t nnames, nzones;
	time_t first_seen;                      /* 0 = never learned (static) */
	struct wl_name *names[DW_WL_MAX_NAMES]; /* most recent first */
	struct wl_zref zones[DW_WL_MAX_ZONES];
};

struct wl_heap {
	struct wl_item **a;
	size_t n, cap;
};

struct dw_whitelist {
	uint64_t k0, k1; /* SipHash key */
	uint32_t min_ttl, max_ttl, max_entries;
	time_t now; /* the latest now seen: what save() calls "expired" */

	struct wl_entry **ebuckets;
	size_t nebuckets, nentries;
	struct wl_name **nbuckets;
	size_t nnbuckets, nnames;

	struct wl_heap eheap; /* learned entries */
	struct wl_heap nheap; /* NS names of the nameserver map */
	size_t learned, statics, nsnames;

	size_t name_bytes, name_budget; /* interned strings, with their headers */

	struct dw_wl_stats st;
	size_t mem;
};

/* Usable as a nameserver address: IPv4 or IPv6, not unspecified. */
bool dw_wl_addr_usable(const struct dw_addr *a);

/* (see whitelist.c) */
time_t dw_wl_clamp_ttl(const struct dw_whitelist *wl, int64_t ttl);

/* What a query (no TTL in sight) keeps a link alive for. */
time_t dw_wl_query_ttl(const struct dw_whitelist *wl);

/*
 * Normalise a name from a fixed-size buffer (not trusted to be terminated):
 * lower case; labels of [a-z0-9_-] and \DDD escapes (DDD <= 255), each
 * non-empty; a final dot; "." for the root; at most DW_WL_NAME_MAX bytes.
 * Returns the length written to out (>= DW_WL_NAME_MAX + 1 bytes), or -1.
 */
int dw_wl_name_norm(const char *in, size_t cap, char *out);

/* (see whitelist.c) */
struct wl_entry *dw_wl_entry_find(const struct dw_whitelist *wl, const struct dw_addr *a);

/* (see whitelist.c) */
struct wl_name *dw_wl_name_find(const struct dw_whitelist *wl, const char *s, size_t len);

/* The interned name s, with a reference for the caller (release it with
 * name_unref()). NULL on ENOMEM. */
struct wl_name *dw_wl_name_get(struct dw_whitelist *wl, const char *s, size_t len);

/* (see whitelist.c) */
void dw_wl_name_ref(struct wl_name *n);

/* (see whitelist.c) */
void dw_wl_name_unref(struct dw_whitelist *wl, struct wl_name *n);

/* Put a name first in a most-recent-first list (the oldest falls off).
 * 2 when the list changed its members, 1 when it only moved, 0 otherwise. */
int dw_wl_names_put(struct dw_whitelist *wl, struct wl_name **names, uint8_t *nn,
                    struct wl_name *n);

/*
 * The core of learning: address a serves zone (until exp), named nsname
 * (may be NULL), learned as src at now. Returns 2/1/0 as learn(), -1 on
 * ENOMEM.
 */
int dw_wl_entry_learn(struct dw_whitelist *wl, const struct dw_addr *a, struct wl_name *zone,
                      time_t exp, struct wl_name *nsname, unsigned src, time_t now);

/* name is an NS name of zone until exp. 2/1/0, -1 on ENOMEM. */
int dw_wl_ns_learn(struct dw_whitelist *wl, struct wl_name *name, struct wl_name *zone, time_t exp,
                   time_t now);

/* Keep the name strings within their budget: drop whatever expires first,
 * an address or an NS name, until they fit (or nothing learned is left). */
void dw_wl_enforce_budget(struct dw_whitelist *wl);

/* Entries known at now, sorted by address; *n their count. NULL with *n 0
 * when there are none; NULL with *n == SIZE_MAX when malloc failed. */
struct wl_entry **dw_wl_sorted_entries(const struct dw_whitelist *wl, time_t now, size_t *n);

/* Drop the links that expired at now (keeps the order of the others). */
void dw_wl_zones_prune(struct dw_whitelist *wl, struct wl_zref *z, uint8_t *nz, time_t now);
#endif
