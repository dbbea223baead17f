/**
 * \file
 * Distinct names per client (namestate.h).
 */
#include "namestate.h"

#include "table_core.h" /* dw_tc_lock() */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define LOCKS 64

struct tun_slot {
	uint32_t base;
	uint8_t fired;
	uint8_t hi; /**< slots [0, hi) were ever used (set_add_at()) */
	uint32_t fp[DW_NS_TUN_CAP];
	uint32_t t[DW_NS_TUN_CAP];
	uint8_t w[DW_NS_TUN_CAP]; /**< payload units of each name (tunnel.h) */
};

struct ns_entry {
	struct dw_addr addr;
	uint8_t used, dga_fired;
	uint8_t mx_hi, dga_hi; /**< the sets' used slots: [0, hi) */
	uint32_t last;
	uint32_t mx_fp[DW_NS_MX_CAP];
	uint32_t mx_t[DW_NS_MX_CAP];
	uint32_t dga_fp[DW_NS_DGA_CAP];
	uint32_t dga_t[DW_NS_DGA_CAP];
	struct tun_slot tun[DW_NS_TUN_SLOTS];
};

/** A bucket stripe's lock (table_core.h's spin lock: the sections are a
 *  4-way bucket and bounded set updates), one cache line each. */
struct ns_lock {
	_Alignas(64) atomic_uint mu;
};

struct dw_namestate {
	size_t nbuckets; /**< power of two */
	struct ns_entry *e;
	struct ns_lock lock[LOCKS];
};

/** Allocate the buckets up front (calloc: pages appear as clients do). */
struct dw_namestate *dw_namestate_new(uint32_t max, char *err, size_t errlen)
{
	/* sizeof is a multiple of the alignment (the locks' cache lines) */
	struct dw_namestate *ns = aligned_alloc(_Alignof(struct dw_namestate), sizeof(*ns));
	size_t nb = 1;
	while (nb * WAYS < max)
		nb <<= 1;
	if (ns)
		memset(ns, 0, sizeof(*ns));
	if (!ns || !(ns->e = calloc(nb * WAYS, sizeof(struct ns_entry)))) {
		free(ns);
		snprintf(err, errlen, "out of memory for the distinct-name table (%zu clients)",
		         nb * WAYS);
		return NULL;
	}
	ns->nbuckets = nb;
	return ns;
}

/** Release the table. */
void dw_namestate_free(struct dw_namestate *ns)
{
	if (!ns)
		return;
	free(ns->e);
	free(ns);
}

/** Bytes held. */
size_t dw_namestate_bytes(const struct dw_namestate *ns)
{
	return ns ? sizeof(*ns) + ns->nbuckets * WAYS * sizeof(struct ns_entry) : 0;
}

/** Whether a member seen at t is in the window at now. */
static int live(uint32_t t, uint32_t now, uint32_t window)
{
	return t != 0 && (now < t || now - t < window);
}

/** Add fp; 1 when it was not in the window (new), 0 when it was; *at (when
 *  not NULL) receives its place. Only the slots [0, *hi) were ever used (a
 *  new member takes the first free slot, so the rest are empty): the walks
 *  stop there, and a client with a few names pays for a few, not for cap.
 *  The same answers as walking all cap slots. */
static int set_add_at(uint32_t *fp, uint32_t *t, uint8_t *hi, unsigned cap, uint32_t x,
                      uint32_t now, uint32_t window, unsigned *at)
{
	unsigned i, victim = 0, n = *hi;
	for (i = 0; i < n; i++)
		if (t[i] != 0 && fp[i] == x) {
			int was = live(t[i], now, window);
			t[i] = now;
			if (at)
				*at = i;
			return !was;
		}
	for (i = 0; i < n; i++) {
		if (!live(t[i], now, window)) {
			victim = i;
			break;
		}
		if (t[i] < t[victim])
			victim = i;
	}
	if (i == n && n < cap) { /* every used slot is live: the next free one */
		victim = n;
		*hi = (uint8_t)(n + 1);
	}
	fp[victim] = x;
	t[victim] = now;
	if (at)
		*at = victim;
	return 1;
}

/** set_add_at() without the place. */
static int set_add(uint32_t *fp, uint32_t *t, uint8_t *hi, unsigned cap, uint32_t x, uint32_t now,
                   uint32_t window)
{
	return set_add_at(fp, t, hi, cap, x, now, window, NULL);
}

/** Payload units of the tunnel names in the window (each at least 1). */
static uint32_t tun_units(const struct tun_slot *s, uint32_t now, uint32_t window)
{
	uint32_t n = 0;
	unsigned i;
	for (i = 0; i < s->hi; i++)
		if (live(s->t[i], now, window))
			n += s->w[i] ? s->w[i] : 1u;
	return n;
}

/** Members in the window (among the used slots [0, hi)). */
static uint32_t set_count(const uint32_t *t, unsigned hi, uint32_t now, uint32_t window)
{
	uint32_t n = 0;
	unsigned i;
	for (i = 0; i < hi; i++)
		n += (uint32_t)live(t[i], now, window);
	return n;
}

/** dw_addr_equal() inlined: one family, its 4 or 16 bytes equal. */
static inline int same_addr(const struct dw_addr *a, const struct dw_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == 4)
		return memcmp(a->b, b->b, 4) == 0;
	return a->family == 6 && memcmp(a->b, b->b, 16) == 0;
}

/** The client's entry in its bucket, or the way it replaces. */
static struct ns_entry *find(struct dw_namestate *ns, size_t b, const struct dw_addr *key)
{
	struct ns_entry *w = &ns->e[b * WAYS], *victim = w;
	unsigned i;
	for (i = 0; i < WAYS; i++) {
		if (w[i].used && same_addr(&w[i].addr, key))
			return &w[i];
		if (!w[i].used ? victim->used : (victim->used && w[i].last < victim->last))
			victim = &w[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->addr = *key;
	return victim;
}

/** Rising edge of count >= threshold on a fired flag. */
static uint8_t edge(uint8_t *fired, uint32_t count, uint32_t threshold)
{
	if (count < threshold) {
		*fired = 0;
		return 0;
	}
	if (*fired)
		return 0;
	*fired = 1;
	return 1;
}

/** The tunnel slot for base: its own, else the one with the fewest live
 *  names (cleared for base). */
static struct tun_slot *tun_slot(struct ns_entry *c, uint32_t base, uint32_t now, uint32_t window)
{
	struct tun_slot *best = NULL;
	uint32_t best_n = UINT32_MAX;
	unsigned i;
	for (i = 0; i < DW_NS_TUN_SLOTS; i++) {
		uint32_t n;
		n = set_count(c->tun[i].t, c->tun[i].hi, now, window);
		if (c->tun[i].base == base && n)
			return &c->tun[i];
		if (n < best_n) {
			best_n = n;
			best = &c->tun[i];
		}
	}
	memset(best, 0, sizeof(*best));
	best->base = base;
	return best;
}

/** One query's set work under the bucket's lock. */
int dw_namestate_update(struct dw_namestate *ns, const struct dw_addr *key, uint64_t h,
                        uint32_t now, struct dw_ns_op *op)
{
	size_t b;
	atomic_uint *m;
	struct ns_entry *c;
	if (!ns || !key || !op)
		return -1;
	b = (size_t)(h >> 20) & (ns->nbuckets - 1);
	m = &ns->lock[b % LOCKS].mu;
	dw_tc_lock(m);
	c = find(ns, b, key);
	c->last = now;
	if (op->mx)
		op->mx_new = (uint8_t)set_add(c->mx_fp, c->mx_t, &c->mx_hi, DW_NS_MX_CAP,
		                              op->mx_hash, now, op->mx_window);
	if (op->tun) {
		struct tun_slot *s = tun_slot(c, op->tun_base, now, op->tun_window);
		unsigned at = 0;
		set_add_at(s->fp, s->t, &s->hi, DW_NS_TUN_CAP, op->tun_name, now, op->tun_window,
		           &at);
		s->w[at] = (uint8_t)(op->tun_weight ? op->tun_weight : 1u);
		op->tun_count = tun_units(s, now, op->tun_window);
		op->tun_fired = edge(&s->fired, op->tun_count, op->tun_threshold);
	}
	if (op->dga) {
		set_add(c->dga_fp, c->dga_t, &c->dga_hi, DW_NS_DGA_CAP, op->dga_hash, now,
		        op->dga_window);
		op->dga_count = set_count(c->dga_t, c->dga_hi, now, op->dga_window);
		op->dga_fired = edge(&c->dga_fired, op->dga_count, op->dga_threshold);
	}
	dw_tc_unlock(m);
	return 0;
}
