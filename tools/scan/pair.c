/**
 * \file
 * Queries waiting for their answers (pair.h): a chained hash for matching
 * and a FIFO in arrival order for the timeout.
 */
#include "pair.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct dw_scan_rec r;
	uint64_t h;
	struct entry *chain;       /* bucket */
	struct entry *prev, *next; /* FIFO, oldest first */
};

struct dw_scan_pair {
	uint32_t timeout;
	size_t max, n, nbuckets;
	struct entry **buckets;
	struct entry *head, *tail;
	dw_scan_emit_fn fn;
	void *arg;
	uint64_t unanswered, orphans;
};

/** FNV-1a over the key's bytes. */
static uint64_t key_hash(const struct dw_scan_rec *r)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
#define MIX(b) (h = (h ^ (uint8_t)(b)) * 1099511628211ULL)
	MIX(r->client.family);
	for (i = 0; i < 16; i++)
		MIX(r->client.b[i]);
	MIX(r->server.family);
	for (i = 0; i < 16; i++)
		MIX(r->server.b[i]);
	MIX(r->cport >> 8);
	MIX(r->cport);
	MIX(r->id >> 8);
	MIX(r->id);
	MIX(r->qtype >> 8);
	MIX(r->qtype);
	for (i = 0; i < r->qname_len; i++) {
		uint8_t c = r->qname[i];
		MIX(c >= 'A' && c <= 'Z' ? c + 32 : c); /* 0x20 randomisation */
	}
#undef MIX
	return h;
}

/** Whether two records have one key. */
static int same_key(const struct dw_scan_rec *a, const struct dw_scan_rec *b)
{
	return a->client.family == b->client.family && memcmp(a->client.b, b->client.b, 16) == 0 &&
	       a->server.family == b->server.family && memcmp(a->server.b, b->server.b, 16) == 0 &&
	       a->cport == b->cport && a->id == b->id && a->qtype == b->qtype &&
	       a->qname_len == b->qname_len &&
	       strncasecmp((const char *)a->qname, (const char *)b->qname, a->qname_len) == 0;
}

struct dw_scan_pair *dw_scan_pair_new(uint32_t timeout, size_t max, dw_scan_emit_fn fn, void *arg)
{
	struct dw_scan_pair *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->timeout = timeout;
	p->max = max ? max : 1;
	p->nbuckets = 65536;
	p->buckets = calloc(p->nbuckets, sizeof(*p->buckets));
	if (!p->buckets) {
		free(p);
		return NULL;
	}
	p->fn = fn;
	p->arg = arg;
	return p;
}

/** Take e out of its bucket and the FIFO, and free it. */
static void unlink_entry(struct dw_scan_pair *p, struct entry *e)
{
	struct entry **pp = &p->buckets[e->h % p->nbuckets];
	while (*pp && *pp != e)
		pp = &(*pp)->chain;
	if (*pp)
		*pp = e->chain;
	if (e->prev)
		e->prev->next = e->next;
	else
		p->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		p->tail = e->prev;
	p->n--;
	free(e);
}

/** The oldest query leaves unanswered at time t. */
static void let_go(struct dw_scan_pair *p, int64_t t)
{
	struct entry *e = p->head;
	struct dw_scan_rec r = e->r;
	if (t > r.t)
		r.t = t;
	r.rcode = -1;
	p->unanswered++;
	unlink_entry(p, e);
	p->fn(p->arg, &r);
}

/** Queries older than the timeout at t leave. */
static void expire(struct dw_scan_pair *p, int64_t t)
{
	while (p->head && p->head->r.t + (int64_t)p->timeout < t)
		let_go(p, p->head->r.t + (int64_t)p->timeout);
}

void dw_scan_pair_query(struct dw_scan_pair *p, const struct dw_scan_rec *r)
{
	struct entry *e;
	expire(p, r->t);
	if (p->n >= p->max)
		let_go(p, r->t);
	e = malloc(sizeof(*e));
	if (!e) {
		struct dw_scan_rec u = *r;
		u.rcode = -1;
		p->unanswered++;
		p->fn(p->arg, &u);
		return;
	}
	e->r = *r;
	e->h = key_hash(r);
	e->chain = p->buckets[e->h % p->nbuckets];
	p->buckets[e->h % p->nbuckets] = e;
	e->next = NULL;
	e->prev = p->tail;
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->n++;
}

void dw_scan_pair_reply(struct dw_scan_pair *p, const struct dw_scan_rec *r)
{
	uint64_t h;
	struct entry *e;
	expire(p, r->t);
	h = key_hash(r);
	for (e = p->buckets[h % p->nbuckets]; e; e = e->chain)
		if (e->h == h && same_key(&e->r, r))
			break;
	if (e) {
		struct dw_scan_rec q = e->r;
		q.t = r->t > q.t ? r->t : q.t;
		q.rcode = r->rcode;
		q.kind = DW_SCAN_PAIR;
		unlink_entry(p, e);
		p->fn(p->arg, &q);
		return;
	}
	p->orphans++;
	p->fn(p->arg, r);
}

void dw_scan_pair_flush(struct dw_scan_pair *p)
{
	while (p->head)
		let_go(p, p->head->r.t + (int64_t)p->timeout);
}

void dw_scan_pair_counts(const struct dw_scan_pair *p, uint64_t *unanswered, uint64_t *orphans)
{
	*unanswered = p->unanswered;
	*orphans = p->orphans;
}

void dw_scan_pair_free(struct dw_scan_pair *p)
{
	if (!p)
		return;
	while (p->head)
		unlink_entry(p, p->head);
	free(p->buckets);
	free(p);
}
