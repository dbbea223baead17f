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
 * The other parts: learning (whitelist_learn.c), the saved lines
 * (whitelist_save.c), the nftables export (whitelist_nft.c), the control
 * socket's view (whitelist_out.c); what they share: whitelist_int.h.
 */
#include "whitelist_int.h"
#include "errbuf.h"
#include "siphash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 1024u

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
bool dw_wl_addr_usable(const struct dw_addr *a)
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

time_t dw_wl_clamp_ttl(const struct dw_whitelist *wl, int64_t ttl)
{
	if (ttl < (int64_t)wl->min_ttl)
		ttl = wl->min_ttl;
	if (ttl > (int64_t)wl->max_ttl)
		ttl = wl->max_ttl;
	return (time_t)ttl;
}

/* What a query (no TTL in sight) keeps a link alive for. */
time_t dw_wl_query_ttl(const struct dw_whitelist *wl)
{
	return wl->min_ttl > 0 ? (time_t)wl->min_ttl : 1;
}

/*
 * Normalise a name from a fixed-size buffer (not trusted to be terminated):
 * lower case; labels of [a-z0-9_-] and \DDD escapes (DDD <= 255), each
 * non-empty; a final dot; "." for the root; at most DW_WL_NAME_MAX bytes.
 * Returns the length written to out (>= DW_WL_NAME_MAX + 1 bytes), or -1.
 */
int dw_wl_name_norm(const char *in, size_t cap, char *out)
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

struct wl_entry *dw_wl_entry_find(const struct dw_whitelist *wl, const struct dw_addr *a)
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

struct wl_name *dw_wl_name_find(const struct dw_whitelist *wl, const char *s, size_t len)
{
	uint64_t h = siphash(wl, s, len);
	struct wl_name *n;

	for (n = wl->nbuckets[h & (wl->nnbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->len == len && memcmp(n->s, s, len) == 0)
			return n;
	return NULL;
}

/* The interned name s, with a reference for the caller (release it with
 * dw_wl_name_unref()). NULL on ENOMEM. */
struct wl_name *dw_wl_name_get(struct dw_whitelist *wl, const char *s, size_t len)
{
	struct wl_name *n = dw_wl_name_find(wl, s, len);
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

void dw_wl_name_ref(struct wl_name *n)
{
	n->refs++;
}

void dw_wl_name_unref(struct dw_whitelist *wl, struct wl_name *n)
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
		dw_wl_name_unref(wl, z[v].zone);
	}
	dw_wl_name_ref(zone);
	z[v].zone = zone;
	z[v].expires = exp;
	return 2;
}

/* Drop the links that expired at now (keeps the order of the others). */
void dw_wl_zones_prune(struct dw_whitelist *wl, struct wl_zref *z, uint8_t *nz, time_t now)
{
	unsigned i, j = 0;

	for (i = 0; i < *nz; i++) {
		if (z[i].expires <= now)
			dw_wl_name_unref(wl, z[i].zone);
		else
			z[j++] = z[i];
	}
	*nz = (uint8_t)j;
}

/* Put a name first in a most-recent-first list (the oldest falls off).
 * 2 when the list changed its members, 1 when it only moved, 0 otherwise. */
int dw_wl_names_put(struct dw_whitelist *wl, struct wl_name **names, uint8_t *nn, struct wl_name *n)
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
		dw_wl_name_unref(wl, names[--(*nn)]);
	memmove(names + 1, names, *nn * sizeof(*names));
	names[0] = n;
	dw_wl_name_ref(n);
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
		dw_wl_name_unref(wl, e->names[i]);
	for (i = 0; i < e->nzones; i++)
		dw_wl_name_unref(wl, e->zones[i].zone);
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
int dw_wl_entry_learn(struct dw_whitelist *wl, const struct dw_addr *a, struct wl_name *zone,
                      time_t exp, struct wl_name *nsname, unsigned src, time_t now)
{
	struct wl_entry *e = dw_wl_entry_find(wl, a);
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
	dw_wl_zones_prune(wl, e->zones, &e->nzones, now);
	r = zones_put(wl, e->zones, &e->nzones, zone, exp);
	changed = changed > r ? changed : r;
	if (nsname) {
		r = dw_wl_names_put(wl, e->names, &e->nnames, nsname);
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
		dw_wl_name_unref(wl, ns->zones[i].zone);
	ns->name->ns = NULL;
	dw_wl_name_unref(wl, ns->name);
	wl->nsnames--;
	wl_release(wl, ns, sizeof(*ns));
}

/* name is an NS name of zone until exp. 2/1/0, -1 on ENOMEM. */
int dw_wl_ns_learn(struct dw_whitelist *wl, struct wl_name *name, struct wl_name *zone, time_t exp,
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
		dw_wl_name_ref(name);
		name->ns = ns;
		wl->nsnames++;
		changed = 2;
	}
	dw_wl_zones_prune(wl, ns->zones, &ns->nzones, now);
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
void dw_wl_enforce_budget(struct dw_whitelist *wl)
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
		if (!dw_wl_addr_usable(a))
			continue;
		e = dw_wl_entry_find(wl, a);
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
	dw_wl_enforce_budget(wl);
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
	e = dw_wl_entry_find(wl, addr);
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
struct wl_entry **dw_wl_sorted_entries(const struct dw_whitelist *wl, time_t now, size_t *n)
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
	struct wl_entry **v = dw_wl_sorted_entries(wl, now, &n);
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
/* Source text */

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
