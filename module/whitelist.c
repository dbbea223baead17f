/**
 * \file
 * The nameserver whitelist (contract in whitelist.h): addresses and NS names
 * in keyed hash tables, each with a min-heap by expiry for sweeping and for
 * the eviction rule, and every name string interned once.
 *
 * Why interning: a campus resolver's whitelist is mostly a few zones ("com.",
 * "net.", a provider's zone) shared by many addresses, and a few NS names
 * shared by many zones; storing each string once with a reference count
 * keeps an address at a few pointers instead of kilobytes of names.
 *
 * Why a heap: "the entry that expires first" is both what expire() removes
 * and what eviction drops, so one min-heap (key: expiry, then last_seen)
 * serves both in O(log n). Static addresses are never in it.
 *
 * Why SipHash: names and addresses come from upstream answers, which anyone
 * who owns a domain can shape; a keyed hash (seeded from getrandom()) keeps
 * them from being chosen to share one hash chain.
 *
 * Saved line format (the state file; one line each, fields separated by one
 * space, lists by commas, "-" for an empty list; names never contain ' ',
 * ',', '@' or '=' because learn() accepts only [a-z0-9_-], '.' and \DDD):
 *
 *   wl addr ADDR first=UNIX last=UNIX src=query,glue,resolved ns=N1,N2 zones=Z1@UNIX,Z2@UNIX
 *   wl ns NSNAME last=UNIX zones=Z1@UNIX,Z2@UNIX
 *
 * (zone expiries are absolute unix seconds). Unknown key=value fields are
 * ignored, so later versions can add some; an unknown record kind after
 * "wl " is an error for that line only.
 */
#include "whitelist.h"
#include "errbuf.h"
#include "siphash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NOHEAP SIZE_MAX
#define INITIAL_BUCKETS 1024u
#define NFT_CHUNK 256 /* elements per "add element" statement */
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

/* ------------------------------------------------------------------------ */
/* Small helpers */


/* SipHash-1-3 of len bytes (as clients.c, for any length). */
static uint64_t siphash(const struct dw_whitelist *wl, const void *msg, size_t len)
{
	return dw_siphash(wl->k0, wl->k1, msg, len, false);
}

/* The 17 significant bytes of an address (IPv4: 4, the rest zero). */
static uint64_t addr_hash(const struct dw_whitelist *wl, const struct dw_addr *a)
{
	uint8_t k[17];

	memset(k, 0, sizeof(k));
	k[0] = a->family;
	memcpy(k + 1, a->b, a->family == 4 ? 4 : 16);
	return siphash(wl, k, sizeof(k));
}

static bool addr_same(const struct dw_addr *a, const struct dw_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/* Usable as a nameserver address: IPv4 or IPv6, not unspecified. */
static bool addr_usable(const struct dw_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == 4)
		return memcmp(a->b, zero, 4) != 0;
	if (a->family == 6)
		return memcmp(a->b, zero, 16) != 0;
	return false;
}

/* A canonical copy of an address (bytes past an IPv4 address zeroed). */
static struct dw_addr addr_canon(const struct dw_addr *a)
{
	struct dw_addr c;

	memset(&c, 0, sizeof(c));
	c.family = a->family;
	memcpy(c.b, a->b, a->family == 4 ? 4 : 16);
	return c;
}

static time_t clamp_ttl(const struct dw_whitelist *wl, int64_t ttl)
{
	if (ttl < (int64_t)wl->min_ttl)
		ttl = wl->min_ttl;
	if (ttl > (int64_t)wl->max_ttl)
		ttl = wl->max_ttl;
	return (time_t)ttl;
}

/* What a query (no TTL in sight) keeps a link alive for. */
static time_t query_ttl(const struct dw_whitelist *wl)
{
	return wl->min_ttl > 0 ? (time_t)wl->min_ttl : 1;
}

/*
 * Normalise a name from a fixed-size buffer (not trusted to be terminated):
 * lower case; labels of [a-z0-9_-] and \DDD escapes (DDD <= 255), each
 * non-empty; a final dot; "." for the root; at most DW_WL_NAME_MAX bytes.
 * Returns the length written to out (>= DW_WL_NAME_MAX + 1 bytes), or -1.
 */
static int name_norm(const char *in, size_t cap, char *out)
{
	const char *end = memchr(in, '\0', cap);
	size_t n, i, label = 0;

	if (end == NULL)
		return -1;
	n = (size_t)(end - in);
	if (n == 0 || n > DW_WL_NAME_MAX || in[n - 1] != '.')
		return -1;
	if (n == 1) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	for (i = 0; i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (c == '\\') {
			if (i + 3 >= n || in[i + 1] < '0' || in[i + 1] > '2' || in[i + 2] < '0' ||
			    in[i + 2] > '9' || in[i + 3] < '0' || in[i + 3] > '9' ||
			    (in[i + 1] - '0') * 100 + (in[i + 2] - '0') * 10 + (in[i + 3] - '0') >
			        255)
				return -1;
			memcpy(out + i, in + i, 4);
			i += 3;
			label++;
			continue;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		             c == '_')) {
			return -1;
		} else {
			label++;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return (int)n;
}

/* ------------------------------------------------------------------------ */
/* Memory accounting */

static void *wl_alloc(struct dw_whitelist *wl, size_t n)
{
	void *p = calloc(1, n);
	if (p)
		wl->mem += n;
	return p;
}

static void wl_release(struct dw_whitelist *wl, void *p, size_t n)
{
	if (p) {
		wl->mem -= n;
		free(p);
	}
}

/* ------------------------------------------------------------------------ */
/* Heaps */

static bool item_before(const struct wl_item *a, const struct wl_item *b)
{
	return a->expires < b->expires || (a->expires == b->expires && a->last < b->last);
}

static void heap_set(struct wl_heap *h, size_t i, struct wl_item *it)
{
	h->a[i] = it;
	it->hidx = i;
}

static void heap_up(struct wl_heap *h, size_t i)
{
	struct wl_item *it = h->a[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!item_before(it, h->a[p]))
			break;
		heap_set(h, i, h->a[p]);
		i = p;
	}
	heap_set(h, i, it);
}

static void heap_down(struct wl_heap *h, size_t i)
{
	struct wl_item *it = h->a[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct wl_item *best = it;
		if (l < h->n && item_before(h->a[l], best)) {
			m = l;
			best = h->a[l];
		}
		if (r < h->n && item_before(h->a[r], best))
			m = r;
		if (m == i)
			break;
		heap_set(h, i, h->a[m]);
		i = m;
	}
	heap_set(h, i, it);
}

static int heap_push(struct dw_whitelist *wl, struct wl_heap *h, struct wl_item *it)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct wl_item **a = realloc(h->a, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		wl->mem += (cap - h->cap) * sizeof(*a);
		h->a = a;
		h->cap = cap;
	}
	h->a[h->n] = it;
	it->hidx = h->n++;
	heap_up(h, it->hidx);
	return 0;
}

static void heap_remove(struct wl_heap *h, struct wl_item *it)
{
	size_t i = it->hidx;

	if (i == NOHEAP || i >= h->n || h->a[i] != it)
		return;
	it->hidx = NOHEAP;
	if (--h->n == i)
		return;
	heap_set(h, i, h->a[h->n]);
	heap_up(h, i);
	heap_down(h, h->a[i]->hidx);
}

/* The key of an item in the heap changed. */
static void heap_fix(struct wl_heap *h, struct wl_item *it)
{
	if (it->hidx == NOHEAP)
		return;
	heap_up(h, it->hidx);
	heap_down(h, it->hidx);
}

static struct wl_item *heap_top(const struct wl_heap *h)
{
	return h->n ? h->a[0] : NULL;
}

/* Take the top item out of the heap (NULL when empty). */
static struct wl_item *heap_pop(struct wl_heap *h)
{
	struct wl_item *it;

	if (h->n == 0)
		return NULL;
	it = h->a[0];
	it->hidx = NOHEAP;
	h->a[0] = h->a[--h->n];
	if (h->n > 0) {
		h->a[0]->hidx = 0;
		heap_down(h, 0);
	}
	return it;
}

/* ------------------------------------------------------------------------ */
/* Hash tables */

/* Double a bucket array when it holds more than one element per bucket; a
 * failure just leaves the chains longer. */
static void grow_entries(struct dw_whitelist *wl)
{
	size_t nb = wl->nebuckets * 2, i;
	struct wl_entry **b;

	if (wl->nentries <= wl->nebuckets || nb < wl->nebuckets)
		return;
	b = wl_alloc(wl, nb * sizeof(*b));
	if (b == NULL)
		return;
	for (i = 0; i < wl->nebuckets; i++) {
		struct wl_entry *e = wl->ebuckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	wl_release(wl, wl->ebuckets, wl->nebuckets * sizeof(*b));
	wl->ebuckets = b;
	wl->nebuckets = nb;
}

static void grow_names(struct dw_whitelist *wl)
{
	size_t nb = wl->nnbuckets * 2, i;
	struct wl_name **b;

	if (wl->nnames <= wl->nnbuckets || nb < wl->nnbuckets)
		return;
	b = wl_alloc(wl, nb * sizeof(*b));
	if (b == NULL)
		return;
	for (i = 0; i < wl->nnbuckets; i++) {
		struct wl_name *n = wl->nbuckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	wl_release(wl, wl->nbuckets, wl->nnbuckets * sizeof(*b));
	wl->nbuckets = b;
	wl->nnbuckets = nb;
}

static struct wl_entry *entry_find(const struct dw_whitelist *wl, const struct dw_addr *a)
{
	uint64_t h;
	struct wl_entry *e;

	if (a->family != 4 && a->family != 6)
		return NULL;
	h = addr_hash(wl, a);
	for (e = wl->ebuckets[h & (wl->nebuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && addr_same(&e->addr, a))
			return e;
	return NULL;
}

static struct wl_name *name_find(const struct dw_whitelist *wl, const char *s, size_t len)
{
	uint64_t h = siphash(wl, s, len);
	struct wl_name *n;

	for (n = wl->nbuckets[h & (wl->nnbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->len == len && memcmp(n->s, s, len) == 0)
			return n;
	return NULL;
}

/* The interned name s, with a reference for the caller (release it with
 * name_unref()). NULL on ENOMEM. */
static struct wl_name *name_get(struct dw_whitelist *wl, const char *s, size_t len)
{
	struct wl_name *n = name_find(wl, s, len);
	size_t b;

	if (n) {
		n->refs++;
		return n;
	}
	n = wl_alloc(wl, sizeof(*n) + len + 1);
	if (n == NULL)
		return NULL;
	n->hash = siphash(wl, s, len);
	n->len = (uint16_t)len;
	n->refs = 1;
	wl->name_bytes += sizeof(*n) + len + 1;
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	b = n->hash & (wl->nnbuckets - 1);
	n->hnext = wl->nbuckets[b];
	wl->nbuckets[b] = n;
	wl->nnames++;
	grow_names(wl);
	return n;
}

/* Free a name nobody refers to. */
static void name_drop_unused(struct dw_whitelist *wl, struct wl_name *n)
{
	struct wl_name **p;

	if (n == NULL || n->refs > 0)
		return;
	for (p = &wl->nbuckets[n->hash & (wl->nnbuckets - 1)]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	wl->nnames--;
	wl->name_bytes -= sizeof(*n) + n->len + 1;
	wl_release(wl, n, sizeof(*n) + n->len + 1);
}

static void name_ref(struct wl_name *n)
{
	n->refs++;
}

static void name_unref(struct dw_whitelist *wl, struct wl_name *n)
{
	if (n && n->refs > 0 && --n->refs == 0)
		name_drop_unused(wl, n);
}

/* ------------------------------------------------------------------------ */
/* Zone lists and name lists */

static time_t zones_max(const struct wl_zref *z, unsigned n)
{
	time_t m = 0;

	for (unsigned i = 0; i < n; i++)
		if (z[i].expires > m)
			m = z[i].expires;
	return m;
}

/* Add or extend a link; a full list gives up its link that expires first.
 * 2 added, 1 extended, 0 unchanged. */
static int zones_put(struct dw_whitelist *wl, struct wl_zref *z, uint8_t *nz, struct wl_name *zone,
                     time_t exp)
{
	unsigned i, v = 0;

	for (i = 0; i < *nz; i++)
		if (z[i].zone == zone) {
			if (exp <= z[i].expires)
				return 0;
			z[i].expires = exp;
			return 1;
		}
	if (*nz < DW_WL_MAX_ZONES) {
		v = (*nz)++;
	} else {
		for (i = 1; i < *nz; i++)
			if (z[i].expires < z[v].expires)
				v = i;
		name_unref(wl, z[v].zone);
	}
	name_ref(zone);
	z[v].zone = zone;
	z[v].expires = exp;
	return 2;
}

/* Drop the links that expired at now (keeps the order of the others). */
static void zones_prune(struct dw_whitelist *wl, struct wl_zref *z, uint8_t *nz, time_t now)
{
	unsigned i, j = 0;

	for (i = 0; i < *nz; i++) {
		if (z[i].expires <= now)
			name_unref(wl, z[i].zone);
		else
			z[j++] = z[i];
	}
	*nz = (uint8_t)j;
}

/* Put a name first in a most-recent-first list (the oldest falls off).
 * 2 when the list changed its members, 1 when it only moved, 0 otherwise. */
static int names_put(struct dw_whitelist *wl, struct wl_name **names, uint8_t *nn,
                     struct wl_name *n)
{
	unsigned i;

	for (i = 0; i < *nn; i++)
		if (names[i] == n)
			break;
	if (i == 0 && *nn > 0)
		return 0;
	if (i < *nn) { /* move to the front */
		memmove(names + 1, names, i * sizeof(*names));
		names[0] = n;
		return 1;
	}
	if (*nn == DW_WL_MAX_NAMES)
		name_unref(wl, names[--(*nn)]);
	memmove(names + 1, names, *nn * sizeof(*names));
	names[0] = n;
	name_ref(n);
	(*nn)++;
	return 2;
}

/* ------------------------------------------------------------------------ */
/* Address entries */

static void entry_unlink(struct dw_whitelist *wl, struct wl_entry *e)
{
	struct wl_entry **p;

	for (p = &wl->ebuckets[e->hash & (wl->nebuckets - 1)]; *p; p = &(*p)->hnext)
		if (*p == e) {
			*p = e->hnext;
			break;
		}
	wl->nentries--;
}

static void entry_free(struct dw_whitelist *wl, struct wl_entry *e)
{
	unsigned i;

	heap_remove(&wl->eheap, &e->it);
	entry_unlink(wl, e);
	for (i = 0; i < e->nnames; i++)
		name_unref(wl, e->names[i]);
	for (i = 0; i < e->nzones; i++)
		name_unref(wl, e->zones[i].zone);
	if (e->src & DW_WL_SRC_STATIC)
		wl->statics--;
	else
		wl->learned--;
	wl_release(wl, e, sizeof(*e));
}

/* A new, empty entry in the hash (not yet in a heap). */
static struct wl_entry *entry_new(struct dw_whitelist *wl, const struct dw_addr *a)
{
	struct wl_entry *e = wl_alloc(wl, sizeof(*e));
	size_t b;

	if (e == NULL)
		return NULL;
	e->addr = addr_canon(a);
	e->hash = addr_hash(wl, &e->addr);
	e->it.hidx = NOHEAP;
	b = e->hash & (wl->nebuckets - 1);
	e->hnext = wl->ebuckets[b];
	wl->ebuckets[b] = e;
	wl->nentries++;
	grow_entries(wl);
	return e;
}

/* Room for one more learned entry that would expire at exp: evicts by the
 * rule of whitelist.h. false when the newcomer is the one to drop. */
static bool make_room(struct dw_whitelist *wl, time_t exp, time_t now)
{
	while (wl->learned >= wl->max_entries) {
		struct wl_item *top = heap_top(&wl->eheap);
		struct wl_item mine = {.expires = exp, .last = now, .hidx = NOHEAP};
		if (top == NULL || item_before(&mine, top)) {
			wl->st.evicted++;
			return false;
		}
		entry_free(wl, (struct wl_entry *)(void *)heap_pop(&wl->eheap));
		wl->st.evicted++;
	}
	return true;
}

/*
 * The core of learning: address a serves zone (until exp), named nsname
 * (may be NULL), learned as src at now. Returns 2/1/0 as learn(), -1 on
 * ENOMEM.
 */
static int entry_learn(struct dw_whitelist *wl, const struct dw_addr *a, struct wl_name *zone,
                       time_t exp, struct wl_name *nsname, unsigned src, time_t now)
{
	struct wl_entry *e = entry_find(wl, a);
	int changed = 0, r;

	if (e == NULL) {
		if (!make_room(wl, exp, now))
			return 0;
		e = entry_new(wl, a);
		if (e == NULL)
			return -1;
		if (heap_push(wl, &wl->eheap, &e->it) != 0) {
			entry_unlink(wl, e);
			wl_release(wl, e, sizeof(*e));
			return -1;
		}
		wl->learned++;
		wl->st.added++;
		changed = 2;
	}
	zones_prune(wl, e->zones, &e->nzones, now);
	r = zones_put(wl, e->zones, &e->nzones, zone, exp);
	changed = changed > r ? changed : r;
	if (nsname) {
		r = names_put(wl, e->names, &e->nnames, nsname);
		changed = changed > r ? changed : r;
	}
	if ((e->src & src) != src) {
		e->src = (uint8_t)(e->src | src);
		changed = 2;
	}
	if (e->first_seen == 0 || e->first_seen > now)
		e->first_seen = now;
	if (now > e->it.last)
		e->it.last = now;
	e->it.expires = zones_max(e->zones, e->nzones);
	heap_fix(&wl->eheap, &e->it);
	return changed;
}

/* ------------------------------------------------------------------------ */
/* The nameserver map */

static void ns_free(struct dw_whitelist *wl, struct wl_ns *ns)
{
	unsigned i;

	heap_remove(&wl->nheap, &ns->it);
	for (i = 0; i < ns->nzones; i++)
		name_unref(wl, ns->zones[i].zone);
	ns->name->ns = NULL;
	name_unref(wl, ns->name);
	wl->nsnames--;
	wl_release(wl, ns, sizeof(*ns));
}

/* name is an NS name of zone until exp. 2/1/0, -1 on ENOMEM. */
static int ns_learn(struct dw_whitelist *wl, struct wl_name *name, struct wl_name *zone, time_t exp,
                    time_t now)
{
	struct wl_ns *ns = name->ns;
	int changed = 0, r;

	if (ns == NULL) {
		while (wl->nsnames >= wl->max_entries) {
			struct wl_item *top = heap_top(&wl->nheap);
			struct wl_item mine = {.expires = exp, .last = now, .hidx = NOHEAP};
			wl->st.ns_evicted++;
			if (top == NULL || item_before(&mine, top))
				return 0;
			ns_free(wl, (struct wl_ns *)(void *)heap_pop(&wl->nheap));
		}
		ns = wl_alloc(wl, sizeof(*ns));
		if (ns == NULL)
			return -1;
		ns->it.hidx = NOHEAP;
		if (heap_push(wl, &wl->nheap, &ns->it) != 0) {
			wl_release(wl, ns, sizeof(*ns));
			return -1;
		}
		ns->name = name;
		name_ref(name);
		name->ns = ns;
		wl->nsnames++;
		changed = 2;
	}
	zones_prune(wl, ns->zones, &ns->nzones, now);
	r = zones_put(wl, ns->zones, &ns->nzones, zone, exp);
	changed = changed > r ? changed : r;
	if (now > ns->it.last)
		ns->it.last = now;
	ns->it.expires = zones_max(ns->zones, ns->nzones);
	heap_fix(&wl->nheap, &ns->it);
	return changed;
}

/* Keep the name strings within their budget: drop whatever expires first,
 * an address or an NS name, until they fit (or nothing learned is left). */
static void enforce_budget(struct dw_whitelist *wl)
{
	while (wl->name_bytes > wl->name_budget) {
		struct wl_item *e = heap_top(&wl->eheap), *n = heap_top(&wl->nheap);
		if (e == NULL && n == NULL)
			return;
		if (n == NULL || (e != NULL && item_before(e, n))) {
			entry_free(wl, (struct wl_entry *)(void *)heap_pop(&wl->eheap));
			wl->st.evicted++;
		} else {
			ns_free(wl, (struct wl_ns *)(void *)heap_pop(&wl->nheap));
			wl->st.ns_evicted++;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Construction, configuration */

static int seed(struct dw_whitelist *wl, char *err, size_t errlen)
{
	return dw_siphash_key(&wl->k0, &wl->k1, err, errlen);
}

/* Make exactly the addresses of conf static. */
static int set_statics(struct dw_whitelist *wl, const struct dw_conf *conf)
{
	size_t i;
	int rc = 0;

	/* Clear every static mark, then mark the configured ones. */
	for (i = 0; i < wl->nebuckets; i++)
		for (struct wl_entry *e = wl->ebuckets[i]; e; e = e->hnext)
			if (e->src & DW_WL_SRC_STATIC)
				e->src |= 0x80; /* "was static": decided below */
	for (i = 0; conf && i < conf->wl_static_count; i++) {
		const struct dw_addr *a = &conf->wl_static[i];
		struct wl_entry *e;
		if (!addr_usable(a))
			continue;
		e = entry_find(wl, a);
		if (e == NULL) {
			e = entry_new(wl, a);
			if (e == NULL) {
				rc = -1;
				break;
			}
			e->src = DW_WL_SRC_STATIC;
			wl->statics++;
			continue;
		}
		if (e->src & 0x80) {
			e->src &= (uint8_t)~0x80;
			continue;
		}
		if (!(e->src & DW_WL_SRC_STATIC)) { /* learned, now static */
			heap_remove(&wl->eheap, &e->it);
			wl->learned--;
			wl->statics++;
			e->src |= DW_WL_SRC_STATIC;
		}
	}
	/* Addresses no longer static: learned ones if they have live zones. */
	for (i = 0; i < wl->nebuckets; i++) {
		struct wl_entry *e = wl->ebuckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			if (!(e->src & 0x80))
				continue;
			e->src &= (uint8_t) ~(0x80 | DW_WL_SRC_STATIC);
			wl->statics--;
			wl->learned++;
			e->it.expires = zones_max(e->zones, e->nzones);
			if (e->nzones == 0 || e->it.expires <= wl->now ||
			    heap_push(wl, &wl->eheap, &e->it) != 0)
				entry_free(wl, e);
		}
	}
	while (wl->learned > wl->max_entries && heap_top(&wl->eheap)) {
		entry_free(wl, (struct wl_entry *)(void *)heap_pop(&wl->eheap));
		wl->st.evicted++;
	}
	enforce_budget(wl);
	return rc;
}

struct dw_whitelist *dw_whitelist_new(const struct dw_conf *conf, char *err, size_t errlen)
{
	struct dw_whitelist *wl = calloc(1, sizeof(*wl));

	if (wl == NULL) {
		dw_set_err(err, errlen, "whitelist: out of memory");
		return NULL;
	}
	wl->mem = sizeof(*wl);
	if (seed(wl, err, errlen) != 0) {
		free(wl);
		return NULL;
	}
	wl->nebuckets = wl->nnbuckets = INITIAL_BUCKETS;
	wl->ebuckets = wl_alloc(wl, wl->nebuckets * sizeof(*wl->ebuckets));
	wl->nbuckets = wl_alloc(wl, wl->nnbuckets * sizeof(*wl->nbuckets));
	if (wl->ebuckets == NULL || wl->nbuckets == NULL || dw_whitelist_reconf(wl, conf) != 0) {
		dw_whitelist_free(wl);
		dw_set_err(err, errlen, "whitelist: out of memory");
		return NULL;
	}
	return wl;
}

void dw_whitelist_free(struct dw_whitelist *wl)
{
	size_t i;

	if (wl == NULL)
		return;
	for (i = 0; wl->ebuckets && i < wl->nebuckets; i++) {
		struct wl_entry *e = wl->ebuckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			free(e);
		}
	}
	for (i = 0; i < wl->nheap.n; i++)
		free(wl->nheap.a[i]); /* every NS record is in the heap */
	for (i = 0; wl->nbuckets && i < wl->nnbuckets; i++) {
		struct wl_name *n = wl->nbuckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			free(n);
		}
	}
	free(wl->ebuckets);
	free(wl->nbuckets);
	free(wl->eheap.a);
	free(wl->nheap.a);
	free(wl);
}

int dw_whitelist_reconf(struct dw_whitelist *wl, const struct dw_conf *conf)
{
	wl->min_ttl = conf ? conf->wl_min_ttl : 60;
	wl->max_ttl = conf ? conf->wl_max_ttl : 86400;
	wl->max_entries = conf ? conf->wl_max_entries : 200000;
	if (wl->max_ttl < wl->min_ttl)
		wl->max_ttl = wl->min_ttl;
	if (wl->max_entries == 0)
		wl->max_entries = 1;
	wl->name_budget = (size_t)wl->max_entries * NAME_BUDGET_PER_ENTRY;
	if (wl->name_budget < NAME_BUDGET_MIN)
		wl->name_budget = NAME_BUDGET_MIN;
	while (wl->learned > wl->max_entries && heap_top(&wl->eheap)) {
		entry_free(wl, (struct wl_entry *)(void *)heap_pop(&wl->eheap));
		wl->st.evicted++;
	}
	while (wl->nsnames > wl->max_entries && heap_top(&wl->nheap)) {
		ns_free(wl, (struct wl_ns *)(void *)heap_pop(&wl->nheap));
		wl->st.ns_evicted++;
	}
	return set_statics(wl, conf);
}

/* ------------------------------------------------------------------------ */
/* Learning */

static int max_rc(int a, int b)
{
	if (a < 0 || b < 0)
		return -1;
	return a > b ? a : b;
}

/* A server was asked about a zone (a query, or a response naming its zone). */
static int learn_query(struct dw_whitelist *wl, const struct dw_addr *server, const char *zonebuf,
                       size_t cap, time_t now)
{
	char z[DW_WL_NAME_MAX + 1];
	int zl = name_norm(zonebuf, cap, z);
	struct wl_name *zone;
	int rc;

	if (zl < 0 || !addr_usable(server)) {
		wl->st.rejected++;
		return 0;
	}
	zone = name_get(wl, z, (size_t)zl);
	if (zone == NULL)
		return -1;
	rc = entry_learn(wl, server, zone, now + query_ttl(wl), NULL, DW_WL_SRC_QUERY, now);
	name_unref(wl, zone);
	return rc;
}

static int learn_response(struct dw_whitelist *wl, const struct dw_upstream *u, time_t now)
{
	unsigned n = u->nrr, i, j;
	struct wl_name *nsnames[DW_UP_MAX_RR]; /* the NS names of this event */
	unsigned nns = 0;
	int rc = 0;

	if (n > DW_UP_MAX_RR)
		n = DW_UP_MAX_RR;
	/* NS records first, so that glue in the same event finds its name. */
	for (i = 0; i < n; i++) {
		const struct dw_up_rr *rr = &u->rr[i];
		char zt[DW_WL_NAME_MAX + 1], nt[DW_WL_NAME_MAX + 1];
		int zl, nl;
		struct wl_name *zone, *name;

		if (rr->type != 2)
			continue;
		wl->st.records++;
		zl = name_norm(rr->owner, sizeof(rr->owner), zt);
		nl = name_norm(rr->nsname, sizeof(rr->nsname), nt);
		if (zl < 0 || nl < 0) {
			wl->st.rejected++;
			continue;
		}
		zone = name_get(wl, zt, (size_t)zl);
		name = zone ? name_get(wl, nt, (size_t)nl) : NULL;
		if (name == NULL) {
			name_unref(wl, zone);
			rc = -1;
			continue;
		}
		rc = max_rc(rc, ns_learn(wl, name, zone, now + clamp_ttl(wl, rr->ttl), now));
		name_unref(wl, zone);
		if (name->ns)
			nsnames[nns++] = name; /* its reference is held while this event runs */
		else
			name_unref(wl, name);
	}
	/* Then addresses of NS names. */
	for (i = 0; i < n; i++) {
		const struct dw_up_rr *rr = &u->rr[i];
		char ht[DW_WL_NAME_MAX + 1];
		int hl;
		struct wl_name *host;
		struct wl_zref zones[DW_WL_MAX_ZONES];
		unsigned nz, src = DW_WL_SRC_RESOLVED;
		time_t aexp;

		if (rr->type != 1 && rr->type != 28)
			continue;
		wl->st.records++;
		hl = name_norm(rr->owner, sizeof(rr->owner), ht);
		if (hl < 0 || rr->addr.family != (rr->type == 1 ? 4 : 6) ||
		    !addr_usable(&rr->addr)) {
			wl->st.rejected++;
			continue;
		}
		host = name_find(wl, ht, (size_t)hl);
		if (host == NULL || host->ns == NULL) {
			wl->st.unlinked++;
			continue;
		}
		for (j = 0; j < nns; j++)
			if (nsnames[j] == host)
				src = DW_WL_SRC_GLUE;
		/* A copy: learning may evict this very NS record. */
		zones_prune(wl, host->ns->zones, &host->ns->nzones, now);
		nz = host->ns->nzones;
		memcpy(zones, host->ns->zones, nz * sizeof(zones[0]));
		for (j = 0; j < nz; j++)
			name_ref(zones[j].zone);
		name_ref(host);
		aexp = now + clamp_ttl(wl, rr->ttl);
		for (j = 0; j < nz; j++) {
			time_t exp = zones[j].expires < aexp ? zones[j].expires : aexp;
			exp = now + clamp_ttl(wl, (int64_t)(exp - now));
			rc = max_rc(rc,
			            entry_learn(wl, &rr->addr, zones[j].zone, exp, host, src, now));
		}
		for (j = 0; j < nz; j++)
			name_unref(wl, zones[j].zone);
		name_unref(wl, host);
	}
	for (i = 0; i < nns; i++)
		name_unref(wl, nsnames[i]);
	if (u->zone[0] != '\0')
		rc = max_rc(rc, learn_query(wl, &u->server, u->zone, sizeof(u->zone), now));
	return rc;
}

int dw_whitelist_learn(struct dw_whitelist *wl, const struct dw_upstream *u, time_t now)
{
	int rc;

	if (wl == NULL || u == NULL)
		return 0;
	if (now > wl->now)
		wl->now = now;
	if (u->kind == DW_UP_QUERY) {
		wl->st.queries++;
		rc = learn_query(wl, &u->server, u->zone, sizeof(u->zone), now);
	} else if (u->kind == DW_UP_RESPONSE) {
		wl->st.responses++;
		rc = learn_response(wl, u, now);
	} else {
		wl->st.rejected++;
		return 0;
	}
	enforce_budget(wl);
	return rc;
}

size_t dw_whitelist_expire(struct dw_whitelist *wl, time_t now)
{
	size_t n = 0;
	struct wl_item *top;

	if (now > wl->now)
		wl->now = now;
	while ((top = heap_top(&wl->eheap)) != NULL && top->expires <= now) {
		entry_free(wl, (struct wl_entry *)(void *)heap_pop(&wl->eheap));
		n++;
	}
	while ((top = heap_top(&wl->nheap)) != NULL && top->expires <= now)
		ns_free(wl, (struct wl_ns *)(void *)heap_pop(&wl->nheap));
	wl->st.expired += n;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Views */

static bool entry_known(const struct wl_entry *e, time_t now)
{
	return (e->src & DW_WL_SRC_STATIC) || e->it.expires > now;
}

static void view_of(const struct wl_entry *e, time_t now, struct dw_wl_view *v)
{
	unsigned i, j;

	memset(v, 0, sizeof(*v));
	v->addr = e->addr;
	v->src = e->src & 0x0f;
	v->first_seen = e->first_seen;
	v->last_seen = e->first_seen ? e->it.last : 0;
	v->expires = (e->src & DW_WL_SRC_STATIC) ? 0 : e->it.expires;
	for (i = 0; i < e->nnames; i++)
		v->names[v->nnames++] = e->names[i]->s;
	for (i = 0; i < e->nzones; i++) {
		if (e->zones[i].expires <= now)
			continue;
		/* insertion sort by name */
		for (j = v->nzones; j > 0 && strcmp(v->zones[j - 1], e->zones[i].zone->s) > 0;
		     j--) {
			v->zones[j] = v->zones[j - 1];
			v->zone_expires[j] = v->zone_expires[j - 1];
		}
		v->zones[j] = e->zones[i].zone->s;
		v->zone_expires[j] = e->zones[i].expires;
		v->nzones++;
	}
}

int dw_whitelist_check(struct dw_whitelist *wl, const struct dw_addr *addr, time_t now,
                       struct dw_wl_view *out)
{
	struct wl_entry *e;

	if (wl == NULL || addr == NULL)
		return 0;
	e = entry_find(wl, addr);
	if (e == NULL || !entry_known(e, now))
		return 0;
	if (out)
		view_of(e, now, out);
	return 1;
}

static int addr_cmp(const struct dw_addr *a, const struct dw_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, a->family == 4 ? 4 : 16);
}

static int entry_ptr_cmp(const void *x, const void *y)
{
	const struct wl_entry *a = *(const struct wl_entry *const *)x;
	const struct wl_entry *b = *(const struct wl_entry *const *)y;
	return addr_cmp(&a->addr, &b->addr);
}

/* Entries known at now, sorted by address; *n their count. NULL with *n 0
 * when there are none; NULL with *n == SIZE_MAX when malloc failed. */
static struct wl_entry **sorted_entries(const struct dw_whitelist *wl, time_t now, size_t *n)
{
	struct wl_entry **v;
	size_t i, k = 0;

	*n = 0;
	if (wl->nentries == 0)
		return NULL;
	v = malloc(wl->nentries * sizeof(*v));
	if (v == NULL) {
		*n = SIZE_MAX;
		return NULL;
	}
	for (i = 0; i < wl->nebuckets; i++)
		for (struct wl_entry *e = wl->ebuckets[i]; e; e = e->hnext)
			if (entry_known(e, now))
				v[k++] = e;
	qsort(v, k, sizeof(*v), entry_ptr_cmp);
	*n = k;
	return v;
}

int dw_whitelist_foreach(struct dw_whitelist *wl, time_t now,
                         int (*fn)(void *arg, const struct dw_wl_view *v), void *arg)
{
	size_t n, i;
	struct wl_entry **v = sorted_entries(wl, now, &n);
	struct dw_wl_view view;
	int rc = 0;

	if (v == NULL && n == SIZE_MAX) { /* no memory to sort: hash order */
		for (i = 0; i < wl->nebuckets && rc == 0; i++)
			for (struct wl_entry *e = wl->ebuckets[i]; e && rc == 0; e = e->hnext)
				if (entry_known(e, now)) {
					view_of(e, now, &view);
					rc = fn(arg, &view);
				}
		return rc;
	}
	for (i = 0; v != NULL && i < n && rc == 0; i++) {
		view_of(v[i], now, &view);
		rc = fn(arg, &view);
	}
	free(v);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Formatting */

/* A bounded string builder: writes what fits, always terminated. */
struct sb {
	char *buf;
	size_t len, n;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (b->len == 0 || b->n >= b->len - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(b->buf + b->n, b->len - b->n, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	b->n += (size_t)w;
	if (b->n > b->len - 1)
		b->n = b->len - 1;
}

/* A JSON string (names hold only [a-z0-9_-.\\]; escape anyway). */
static void sb_json_str(struct sb *b, const char *s)
{
	sb_add(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_add(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_add(b, "\\u%04x", c);
		else
			sb_add(b, "%c", c);
	}
	sb_add(b, "\"");
}

static void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, (int64_t)t);
}

/* A time as text: "-" for 0 (never seen), "never" with never_zero. */
static const char *time_text(time_t t, bool never_zero, char *buf, size_t len)
{
	if (t == 0)
		return never_zero ? "never" : "-";
	fmt_time(t, buf, len);
	return buf;
}

static const char *const src_names[] = {"static", "query", "glue", "resolved"};

const char *dw_whitelist_src_text(unsigned src, char *buf, size_t len)
{
	struct sb b = {buf, len, 0};
	unsigned i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < 4; i++)
		if (src & (1u << i))
			sb_add(&b, "%s%s", b.n ? "," : "", src_names[i]);
	if (b.n == 0)
		sb_add(&b, "-");
	return buf;
}

static void sb_list(struct sb *b, const char *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sb_add(b, "%s%s", i ? "," : "", items[i]);
	if (n == 0)
		sb_add(b, "-");
}

size_t dw_whitelist_format(const struct dw_wl_view *v, const struct dw_addr *addr,
                           enum dw_wl_format fmt, int check, char *buf, size_t len)
{
	struct sb b = {buf, len, 0};
	char a[DW_ADDR_STRLEN], t1[40], t2[40], t3[40], src[48];
	unsigned i;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (v == NULL && addr == NULL)
		return 0;
	dw_addr_format(v ? &v->addr : addr, a, sizeof(a));
	if (v == NULL) {
		if (fmt == DW_WL_FMT_JSON)
			sb_add(&b, "{\"addr\":\"%s\",\"known\":false}", a);
		else
			sb_add(&b, "addr=%s known=no", a);
		return b.n;
	}
	if (fmt == DW_WL_FMT_JSON) {
		unsigned k = 0;
		sb_add(&b, "{\"addr\":\"%s\",%s\"static\":%s,\"src\":[", a,
		       check ? "\"known\":true," : "",
		       (v->src & DW_WL_SRC_STATIC) ? "true" : "false");
		for (i = 0; i < 4; i++)
			if (v->src & (1u << i))
				sb_add(&b, "%s\"%s\"", k++ ? "," : "", src_names[i]);
		sb_add(&b, "],\"ns\":[");
		for (i = 0; i < v->nnames; i++) {
			sb_add(&b, "%s", i ? "," : "");
			sb_json_str(&b, v->names[i]);
		}
		sb_add(&b, "],\"zones\":[");
		for (i = 0; i < v->nzones; i++) {
			sb_add(&b, "%s{\"zone\":", i ? "," : "");
			sb_json_str(&b, v->zones[i]);
			fmt_time(v->zone_expires[i], t1, sizeof(t1));
			sb_add(&b, ",\"expires\":\"%s\"}", t1);
		}
		sb_add(&b, "]");
		if (v->first_seen) {
			fmt_time(v->first_seen, t1, sizeof(t1));
			fmt_time(v->last_seen, t2, sizeof(t2));
			sb_add(&b, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\"", t1, t2);
		} else {
			sb_add(&b, ",\"first_seen\":null,\"last_seen\":null");
		}
		if (v->expires) {
			fmt_time(v->expires, t1, sizeof(t1));
			sb_add(&b, ",\"expires\":\"%s\"}", t1);
		} else {
			sb_add(&b, ",\"expires\":null}");
		}
		return b.n;
	}
	sb_add(&b, "addr=%s%s src=%s ns=", a, fmt == DW_WL_FMT_CHECK ? " known=yes" : "",
	       dw_whitelist_src_text(v->src, src, sizeof(src)));
	sb_list(&b, v->names, v->nnames);
	sb_add(&b, " zones=");
	if (fmt == DW_WL_FMT_CHECK) {
		for (i = 0; i < v->nzones; i++) {
			fmt_time(v->zone_expires[i], t1, sizeof(t1));
			sb_add(&b, "%s%s@%s", i ? "," : "", v->zones[i], t1);
		}
		if (v->nzones == 0)
			sb_add(&b, "-");
	} else {
		sb_list(&b, v->zones, v->nzones);
	}
	sb_add(&b, " first_seen=%s last_seen=%s expires=%s",
	       time_text(v->first_seen, false, t1, sizeof(t1)),
	       time_text(v->last_seen, false, t2, sizeof(t2)),
	       time_text(v->expires, true, t3, sizeof(t3)));
	return b.n;
}

struct dump_ctx {
	FILE *f;
	int json;
	long n;
	int err;
};

static int dump_one(void *arg, const struct dw_wl_view *v)
{
	struct dump_ctx *d = arg;
	char line[DW_WL_LINE_MAX];

	dw_whitelist_format(v, NULL, d->json ? DW_WL_FMT_JSON : DW_WL_FMT_DUMP, 0, line,
	                    sizeof(line));
	if (fprintf(d->f, "%s%s%s", d->json && d->n ? ",\n" : "", line, d->json ? "" : "\n") < 0)
		d->err = 1;
	d->n++;
	return 0;
}

long dw_whitelist_dump(struct dw_whitelist *wl, time_t now, FILE *f, int json)
{
	struct dump_ctx d = {f, json, 0, 0};

	if (json && fputs("{\"entries\":[\n", f) < 0)
		d.err = 1;
	dw_whitelist_foreach(wl, now, dump_one, &d);
	if (json && fprintf(f, "%s],\"count\":%ld}\n", d.n ? "\n" : "", d.n) < 0)
		d.err = 1;
	if (fflush(f) != 0 || ferror(f))
		d.err = 1;
	return d.err ? -1 : d.n;
}

/* ------------------------------------------------------------------------ */
/* nftables export */

struct nft_ctx {
	FILE *f;
	int family; /* which set this pass writes */
	long n, inset;
};

static int nft_one(void *arg, const struct dw_wl_view *v)
{
	struct nft_ctx *c = arg;
	char a[DW_ADDR_STRLEN];

	if (v->addr.family != c->family)
		return 0;
	dw_addr_format(&v->addr, a, sizeof(a));
	if (c->inset == 0)
		fprintf(c->f, "add element inet dnswarden dnswarden_ns%d { %s", c->family, a);
	else
		fprintf(c->f, ", %s", a);
	c->n++;
	if (++c->inset == NFT_CHUNK) {
		fprintf(c->f, " }\n");
		c->inset = 0;
	}
	return 0;
}

static int count_family(void *arg, const struct dw_wl_view *v)
{
	long *n = arg;
	n[v->addr.family == 4 ? 0 : 1]++;
	return 0;
}

long dw_whitelist_export_nft(struct dw_whitelist *wl, time_t now, FILE *f)
{
	struct nft_ctx c = {f, 4, 0, 0};
	long count[2] = {0, 0};
	char t[40];

	dw_whitelist_foreach(wl, now, count_family, count);
	fmt_time(now, t, sizeof(t));
	fprintf(f,
	        "# dnswarden export_nft %s: %ld IPv4 and %ld IPv6 nameserver addresses.\n"
	        "# Load with `nft -f FILE`: one transaction declares the table and sets (a no-op\n"
	        "# when they exist, as in etc/nftables-dnswarden.nft), empties both sets and\n"
	        "# fills them, so the sets are replaced atomically.\n"
	        "table inet dnswarden {\n"
	        "\tset dnswarden_ns4 {\n"
	        "\t\ttype ipv4_addr\n"
	        "\t}\n"
	        "\tset dnswarden_ns6 {\n"
	        "\t\ttype ipv6_addr\n"
	        "\t}\n"
	        "}\n"
	        "flush set inet dnswarden dnswarden_ns4\n"
	        "flush set inet dnswarden dnswarden_ns6\n",
	        t, count[0], count[1]);
	dw_whitelist_foreach(wl, now, nft_one, &c);
	if (c.inset)
		fprintf(f, " }\n");
	c.family = 6;
	c.inset = 0;
	dw_whitelist_foreach(wl, now, nft_one, &c);
	if (c.inset)
		fprintf(f, " }\n");
	if (fflush(f) != 0 || ferror(f))
		return -1;
	return c.n;
}

/* ------------------------------------------------------------------------ */
/* Save and load */

static void save_zones(FILE *f, const struct wl_zref *z, unsigned n, time_t now)
{
	unsigned i, k = 0;

	fputs(" zones=", f);
	for (i = 0; i < n; i++) {
		if (z[i].expires <= now)
			continue;
		fprintf(f, "%s%s@%" PRId64, k++ ? "," : "", z[i].zone->s, (int64_t)z[i].expires);
	}
	if (k == 0)
		fputc('-', f);
}

static bool zones_live(const struct wl_zref *z, unsigned n, time_t now)
{
	for (unsigned i = 0; i < n; i++)
		if (z[i].expires > now)
			return true;
	return false;
}

static void save_entry(const struct dw_whitelist *wl, const struct wl_entry *e, FILE *f)
{
	char a[DW_ADDR_STRLEN], src[48];
	unsigned j;

	if (!zones_live(e->zones, e->nzones, wl->now))
		return; /* a static never learned, or nothing left */
	dw_addr_format(&e->addr, a, sizeof(a));
	fprintf(f, "wl addr %s first=%" PRId64 " last=%" PRId64 " src=%s ns=", a,
	        (int64_t)e->first_seen, (int64_t)e->it.last,
	        dw_whitelist_src_text(e->src & 0x0eu, src, sizeof(src)));
	for (j = 0; j < e->nnames; j++)
		fprintf(f, "%s%s", j ? "," : "", e->names[j]->s);
	if (e->nnames == 0)
		fputc('-', f);
	save_zones(f, e->zones, e->nzones, wl->now);
	fputc('\n', f);
}

static int ns_ptr_cmp(const void *x, const void *y)
{
	const struct wl_ns *a = *(const struct wl_ns *const *)x;
	const struct wl_ns *b = *(const struct wl_ns *const *)y;
	return strcmp(a->name->s, b->name->s);
}

void dw_whitelist_save(struct dw_whitelist *wl, FILE *f)
{
	size_t n, i;
	struct wl_entry **v = sorted_entries(wl, wl->now, &n);
	struct wl_item **nv;

	if (v == NULL && n == SIZE_MAX) { /* no memory to sort: hash order */
		for (i = 0; i < wl->nebuckets; i++)
			for (const struct wl_entry *e = wl->ebuckets[i]; e; e = e->hnext)
				save_entry(wl, e, f);
	}
	for (i = 0; v && i < n; i++)
		save_entry(wl, v[i], f);
	free(v);
	/* the nameserver map, by name (heap order when there is no memory) */
	n = wl->nheap.n;
	nv = n ? malloc(n * sizeof(*nv)) : NULL;
	if (nv) {
		memcpy(nv, wl->nheap.a, n * sizeof(*nv));
		qsort(nv, n, sizeof(*nv), ns_ptr_cmp);
	}
	for (i = 0; i < n; i++) {
		const struct wl_ns *ns =
		    (const struct wl_ns *)(const void *)(nv ? nv : wl->nheap.a)[i];
		if (!zones_live(ns->zones, ns->nzones, wl->now))
			continue;
		fprintf(f, "wl ns %s last=%" PRId64, ns->name->s, (int64_t)ns->it.last);
		save_zones(f, ns->zones, ns->nzones, wl->now);
		fputc('\n', f);
	}
	free(nv);
}

void dw_whitelist_state_save(void *arg, FILE *f)
{
	dw_whitelist_save(arg, f);
}

/* One parsed saved line, names pointing into a private copy of it. */
struct parsed {
	int kind; /* 1 addr, 2 ns */
	struct dw_addr addr;
	char *nsname; /* kind 2 */
	int64_t first, last;
	unsigned src;
	unsigned nnames;
	char *names[DW_WL_MAX_NAMES];
	unsigned nzones;
	char *zones[DW_WL_MAX_ZONES];
	int64_t zexp[DW_WL_MAX_ZONES];
};

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* A name token, normalised in place (same length or shorter). */
static int parse_name(char *s)
{
	char tmp[DW_WL_NAME_MAX + 1];
	size_t n = strlen(s);
	int l;

	if (n > DW_WL_NAME_MAX)
		return -1;
	l = name_norm(s, n + 1, tmp);
	if (l < 0)
		return -1;
	memcpy(s, tmp, (size_t)l + 1);
	return 0;
}

static int parse_zones(char *val, struct parsed *p, char *err, size_t errlen)
{
	char *save = NULL, *tok;

	if (strcmp(val, "-") == 0)
		return 0;
	for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strrchr(tok, '@');
		if (at == NULL || p->nzones == DW_WL_MAX_ZONES) {
			dw_set_err(err, errlen, "bad zones list near '%.40s'", tok);
			return -1;
		}
		*at = '\0';
		if (parse_name(tok) != 0 || parse_i64(at + 1, &p->zexp[p->nzones]) != 0) {
			dw_set_err(err, errlen, "bad zone '%.40s'", tok);
			return -1;
		}
		p->zones[p->nzones++] = tok;
	}
	return 0;
}

/* src=query,glue,resolved ("static" is accepted and ignored). */
static int parse_src(char *val, unsigned *src)
{
	char *save = NULL, *w;

	if (strcmp(val, "-") == 0)
		return 0;
	for (w = strtok_r(val, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "query") == 0)
			*src |= DW_WL_SRC_QUERY;
		else if (strcmp(w, "glue") == 0)
			*src |= DW_WL_SRC_GLUE;
		else if (strcmp(w, "resolved") == 0)
			*src |= DW_WL_SRC_RESOLVED;
		else if (strcmp(w, "static") != 0)
			return -1;
	}
	return 0;
}

/* ns=N1,N2 */
static int parse_names(char *val, struct parsed *p)
{
	char *save = NULL, *w;

	if (strcmp(val, "-") == 0)
		return 0;
	for (w = strtok_r(val, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (p->nnames == DW_WL_MAX_NAMES || parse_name(w) != 0)
			return -1;
		p->names[p->nnames++] = w;
	}
	return 0;
}

/* One key=value field of a saved line: 0, or -1 with err. */
static int parse_field(char *tok, struct parsed *p, char *err, size_t errlen)
{
	char *eq = strchr(tok, '=');
	char *val;
	int rc = 0;

	if (eq == NULL) {
		dw_set_err(err, errlen, "field without '=': '%.40s'", tok);
		return -1;
	}
	*eq = '\0';
	val = eq + 1;
	if (strcmp(tok, "first") == 0 && p->kind == 1)
		rc = parse_i64(val, &p->first);
	else if (strcmp(tok, "last") == 0)
		rc = parse_i64(val, &p->last);
	else if (strcmp(tok, "src") == 0 && p->kind == 1)
		rc = parse_src(val, &p->src);
	else if (strcmp(tok, "ns") == 0 && p->kind == 1)
		rc = parse_names(val, p);
	else if (strcmp(tok, "zones") == 0)
		return parse_zones(val, p, err, errlen);
	/* anything else: a field of a later version, ignored */
	if (rc != 0)
		dw_set_err(err, errlen, "bad %s field", tok);
	return rc;
}

static int parse_line(char *line, struct parsed *p, char *err, size_t errlen)
{
	char *save = NULL, *tok, *kind;
	size_t n = strlen(line);

	memset(p, 0, sizeof(*p));
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	tok = strtok_r(line, " ", &save);
	kind = strtok_r(NULL, " ", &save);
	if (tok == NULL || strcmp(tok, "wl") != 0 || kind == NULL) {
		dw_set_err(err, errlen, "not a whitelist line");
		return -1;
	}
	tok = strtok_r(NULL, " ", &save);
	if (tok == NULL) {
		dw_set_err(err, errlen, "whitelist line without a key");
		return -1;
	}
	if (strcmp(kind, "addr") == 0) {
		p->kind = 1;
		if (dw_addr_parse(tok, &p->addr) != 0 || !addr_usable(&p->addr)) {
			dw_set_err(err, errlen, "bad address '%.64s'", tok);
			return -1;
		}
	} else if (strcmp(kind, "ns") == 0) {
		p->kind = 2;
		if (parse_name(tok) != 0) {
			dw_set_err(err, errlen, "bad NS name '%.64s'", tok);
			return -1;
		}
		p->nsname = tok;
	} else {
		dw_set_err(err, errlen, "unknown whitelist record '%.20s'", kind);
		return -1;
	}
	while ((tok = strtok_r(NULL, " ", &save)) != NULL)
		if (parse_field(tok, p, err, errlen) != 0)
			return -1;
	if (p->last <= 0) {
		dw_set_err(err, errlen, "whitelist line without last=");
		return -1;
	}
	if (p->first <= 0 || p->first > p->last)
		p->first = p->last;
	if (p->nzones == 0) {
		dw_set_err(err, errlen, "whitelist line without zones");
		return -1;
	}
	return 0;
}

/* Learn each zone of a parsed line (as of its last= time): for the NS name
 * nsname ("wl ns"), or for the line's address when nsname is NULL. A zone
 * that had expired by the latest time loaded so far (wl->now) is dead and
 * skipped: learning it would let the order of the lines decide what is kept
 * (each learn prunes at its own time), and a save would not load back the
 * same (found by t/fuzz/fuzz_state.c). */
static int apply_zones(struct dw_whitelist *wl, const struct parsed *p, struct wl_name *nsname)
{
	int rc = 0;

	for (unsigned i = 0; i < p->nzones && rc >= 0; i++) {
		if ((time_t)p->zexp[i] <= wl->now)
			continue;
		struct wl_name *z = name_get(wl, p->zones[i], strlen(p->zones[i]));
		if (z == NULL)
			return -1;
		if (nsname != NULL)
			rc = ns_learn(wl, nsname, z, (time_t)p->zexp[i], (time_t)p->last);
		else
			rc = entry_learn(wl, &p->addr, z, (time_t)p->zexp[i], NULL, p->src,
			                 (time_t)p->last);
		name_unref(wl, z);
	}
	return rc;
}

/* Apply a parsed line: as learning would have, at the line's last= time. */
static int apply_line(struct dw_whitelist *wl, const struct parsed *p, char *err, size_t errlen)
{
	struct wl_name *name;
	struct wl_entry *e;
	int rc;

	if (p->kind == 2) {
		name = name_get(wl, p->nsname, strlen(p->nsname));
		if (name == NULL)
			goto nomem;
		rc = apply_zones(wl, p, name);
		name_unref(wl, name);
		if (rc < 0)
			goto nomem;
		return 0;
	}
	if (apply_zones(wl, p, NULL) < 0)
		goto nomem;
	e = entry_find(wl, &p->addr);
	if (e == NULL)
		return 0; /* refused: the table is full of longer-lived entries */
	for (unsigned i = p->nnames; i-- > 0;) { /* the first saved ends up first */
		name = name_get(wl, p->names[i], strlen(p->names[i]));
		if (name == NULL)
			goto nomem;
		names_put(wl, e->names, &e->nnames, name);
		name_unref(wl, name);
	}
	if (e->first_seen == 0 || p->first < e->first_seen)
		e->first_seen = (time_t)p->first;
	return 0;
nomem:
	dw_set_err(err, errlen, "out of memory");
	return -1;
}

int dw_whitelist_load_line(struct dw_whitelist *wl, const char *line, char *err, size_t errlen)
{
	char buf[DW_WL_LINE_MAX];
	struct parsed p;
	size_t n = strlen(line);
	int rc;

	if (n >= sizeof(buf)) {
		dw_set_err(err, errlen, "whitelist line too long");
		return -1;
	}
	memcpy(buf, line, n + 1);
	if (parse_line(buf, &p, err, errlen) != 0)
		return -1;
	if ((time_t)p.last > wl->now) /* as learning at that time would */
		wl->now = (time_t)p.last;
	rc = apply_line(wl, &p, err, errlen);
	enforce_budget(wl);
	return rc;
}

int dw_whitelist_state_load_line(void *arg, const char *line, char *err, size_t errlen)
{
	return dw_whitelist_load_line(arg, line, err, errlen);
}

int dw_whitelist_load(struct dw_whitelist *wl, FILE *f, char *err, size_t errlen)
{
	char line[DW_WL_LINE_MAX], why[256];
	unsigned long lineno = 0, bad = 0, first_bad = 0;
	char first_why[256] = "";
	bool skipping = false;

	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		bool whole = n && line[n - 1] == '\n';
		if (!skipping)
			lineno++;
		if (skipping) { /* rest of an over-long line */
			skipping = !whole && !feof(f);
			continue;
		}
		if (!whole && !feof(f)) {
			skipping = true;
			if (strncmp(line, "wl ", 3) == 0 && bad++ == 0) {
				first_bad = lineno;
				snprintf(first_why, sizeof(first_why), "line too long");
			}
			continue;
		}
		if (strncmp(line, "wl ", 3) != 0)
			continue;
		if (dw_whitelist_load_line(wl, line, why, sizeof(why)) != 0 && bad++ == 0) {
			first_bad = lineno;
			snprintf(first_why, sizeof(first_why), "%s", why);
		}
	}
	if (ferror(f)) {
		dw_set_err(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	if (bad) {
		dw_set_err(err, errlen, "line %lu: %s (%lu bad whitelist line%s skipped)", first_bad,
		        first_why, bad, bad == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */

void dw_whitelist_stats(const struct dw_whitelist *wl, struct dw_wl_stats *out)
{
	*out = wl->st;
	out->entries = wl->nentries;
	out->learned = wl->learned;
	out->statics = wl->statics;
	out->nsnames = wl->nsnames;
	out->names = wl->nnames;
	out->name_bytes = wl->name_bytes;
	out->mem_bytes = wl->mem;
}
