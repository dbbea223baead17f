/**
 * \file
 * The exemption list (exempt.h).
 */
#include "exempt.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct item {
	struct dw_cidr c;
	bool runtime; /* added at run time (else from the config) */
};

/** One address range [lo, hi] (network byte order: memcmp is numeric). */
struct range {
	uint8_t lo[16], hi[16];
};

/** The immutable lookup snapshot: per family, disjoint ranges sorted by lo. */
struct snap {
	size_t n[2]; /* [0] IPv4, [1] IPv6 */
	struct range *r[2];
};

struct dw_exempt {
	pthread_mutex_t mu; /* guards the list below (writers, foreach, save) */
	struct item *v;
	size_t n, cap;
	struct dw_cidr *removed; /* config prefixes removed at run time */
	size_t nremoved, capremoved;
	bool unchecked; /* lines loaded without the duplicate check (publish dedupes) */

	/* lookups: no lock (see dw_exempt_match) */
	_Atomic(struct snap *) snap;
	atomic_int stale;          /* the list changed since the snapshot */
	atomic_uint epoch;         /* which reader counter new lookups use */
	atomic_uint readers[2];    /* lookups in flight, per epoch */
};

/** Same prefix, same length. */
static bool cidr_equal(const struct dw_cidr *a, const struct dw_cidr *b)
{
	return a->len == b->len && dw_addr_equal(&a->addr, &b->addr);
}

/** Grow an array of elem-sized items to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;
	size_t ncap;
	if (n < *cap)
		return 0;
	if (n >= DW_EXEMPT_MAX)
		return -1;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

/** Start from the config's list. */
struct dw_exempt *dw_exempt_new(const struct dw_conf *conf)
{
	struct dw_exempt *x = calloc(1, sizeof(*x));
	size_t i;
	if (!x)
		return NULL;
	pthread_mutex_init(&x->mu, NULL);
	for (i = 0; i < conf->exempt_count; i++) {
		if (grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != 0) {
			dw_exempt_free(x);
			return NULL;
		}
		x->v[x->n].c = conf->exempt[i];
		x->v[x->n++].runtime = false;
	}
	atomic_store(&x->stale, 1);
	dw_exempt_publish(x); /* on ENOMEM lookups scan: still right */
	return x;
}

/** Free the list. */
void dw_exempt_free(struct dw_exempt *x)
{
	if (!x)
		return;
	pthread_mutex_destroy(&x->mu);
	free(atomic_load(&x->snap)); /* no lookup runs any more */
	free(x->v);
	free(x->removed);
	free(x);
}

/** Bytes of a family's addresses, and its slot in a snapshot. */
static size_t fam_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/** The range a prefix covers. */
static void to_range(const struct dw_cidr *c, struct range *r)
{
	size_t nb = fam_bytes(c->addr.family), i;
	unsigned len = c->len > nb * 8 ? (unsigned)(nb * 8) : c->len;
	struct dw_addr lo = c->addr;
	dw_addr_mask(&lo, len);
	memset(r, 0, sizeof(*r));
	memcpy(r->lo, lo.b, nb);
	memcpy(r->hi, lo.b, nb);
	for (i = 0; i < nb; i++) {
		unsigned keep = len >= 8 ? 8 : len;
		r->hi[i] |= (uint8_t)(0xffu >> keep);
		len -= keep;
	}
}

/** Ascending lo, then descending hi (a prefix before those inside it),
 *  over n bytes. */
static int range_cmp(const struct range *x, const struct range *y, size_t n)
{
	int c = memcmp(x->lo, y->lo, n);
	return c ? c : memcmp(y->hi, x->hi, n);
}

/** qsort comparators for IPv4 and IPv6 ranges. */
static int cmp4(const void *a, const void *b)
{
	return range_cmp(a, b, 4);
}
static int cmp6(const void *a, const void *b)
{
	return range_cmp(a, b, 16);
}

/** A snapshot of the list (called with the mutex held). NULL on ENOMEM. */
static struct snap *build(const struct dw_exempt *x)
{
	size_t count[2] = {0, 0}, i, f;
	struct snap *s;
	struct range *all;
	for (i = 0; i < x->n; i++)
		count[x->v[i].c.addr.family == 6]++;
	s = malloc(sizeof(*s) + (x->n ? x->n : 1) * sizeof(struct range));
	if (!s)
		return NULL;
	all = (struct range *)(s + 1);
	s->r[0] = all;
	s->r[1] = all + count[0];
	s->n[0] = s->n[1] = 0;
	for (i = 0; i < x->n; i++) {
		f = x->v[i].c.addr.family == 6;
		to_range(&x->v[i].c, &s->r[f][s->n[f]++]);
	}
	for (f = 0; f < 2; f++) {
		size_t nb = f ? 16 : 4, kept = 0;
		qsort(s->r[f], s->n[f], sizeof(struct range), f ? cmp6 : cmp4);
		/* prefixes nest or are disjoint: drop those inside the last kept */
		for (i = 0; i < s->n[f]; i++)
			if (kept == 0 || memcmp(s->r[f][i].hi, s->r[f][kept - 1].hi, nb) > 0)
				s->r[f][kept++] = s->r[f][i];
		s->n[f] = kept;
	}
	return s;
}

/** Items by prefix, a config one before a run-time one. */
static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = x->c.addr.family - y->c.addr.family;
	if (!c)
		c = memcmp(x->c.addr.b, y->c.addr.b, 16);
	if (!c)
		c = x->c.len - y->c.len;
	return c ? c : (int)x->runtime - (int)y->runtime;
}

/** Drop the duplicates that loaded lines may have brought (sorts the list;
 *  mutex held). */
static void dedupe_locked(struct dw_exempt *x)
{
	size_t i, kept = 0;
	qsort(x->v, x->n, sizeof(*x->v), item_cmp);
	for (i = 0; i < x->n; i++)
		if (kept == 0 || !cidr_equal(&x->v[kept - 1].c, &x->v[i].c))
			x->v[kept++] = x->v[i];
	x->n = kept;
	x->unchecked = false;
}

/** Swap in a snapshot of the list (mutex held); the old one is freed when
 *  the lookups that may still read it are done. 0, or -1 on ENOMEM. */
static int publish_locked(struct dw_exempt *x)
{
	struct snap *s, *old;
	unsigned e;
	if (x->unchecked)
		dedupe_locked(x);
	s = build(x);
	if (!s) {
		atomic_store(&x->stale, 1);
		return -1;
	}
	old = atomic_exchange(&x->snap, s);
	atomic_store(&x->stale, 0);
	/* a lookup that can still see old counted itself under the epoch in
	 * force before this flip, and checked it was still in force after
	 * counting (dw_exempt_match): wait for that counter to drain. A lookup
	 * counted under the new epoch loads the snapshot after the flip, so
	 * after the exchange: it sees s. */
	e = atomic_fetch_xor(&x->epoch, 1u) & 1u;
	while (atomic_load(&x->readers[e]) != 0)
		sched_yield();
	free(old);
	return 0;
}

/** After loading lines: build the snapshot. */
int dw_exempt_publish(struct dw_exempt *x)
{
	int rc;
	pthread_mutex_lock(&x->mu);
	rc = publish_locked(x);
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/** Binary search: the last range starting at or below a, then its end. */
static bool snap_match(const struct snap *s, const struct dw_addr *a)
{
	size_t f = a->family == 6, nb = fam_bytes(a->family), lo = 0, hi;
	if (a->family != 4 && a->family != 6)
		return false;
	hi = s->n[f];
	while (lo < hi) { /* first range with lo > a */
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(s->r[f][mid].lo, a->b, nb) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(a->b, s->r[f][lo - 1].hi, nb) <= 0;
}

/** Lock-free lookup in the snapshot; before the first publish after a state
 *  load (or after ENOMEM), the linear scan under the mutex. */
bool dw_exempt_match(struct dw_exempt *x, const struct dw_addr *a)
{
	bool hit = false;
	if (!atomic_load(&x->stale)) {
		unsigned e;
		struct snap *s;
		/* count ourselves under the epoch in force, and make sure it still
		 * is: a writer that flipped it before seeing us would not wait */
		for (;;) {
			e = atomic_load(&x->epoch) & 1u;
			atomic_fetch_add(&x->readers[e], 1u);
			if ((atomic_load(&x->epoch) & 1u) == e)
				break;
			atomic_fetch_sub(&x->readers[e], 1u);
		}
		s = atomic_load(&x->snap);
		if (s)
			hit = snap_match(s, a);
		atomic_fetch_sub(&x->readers[e], 1u);
		if (s)
			return hit;
	}
	{
		size_t i;
		pthread_mutex_lock(&x->mu);
		for (i = 0; i < x->n && !hit; i++)
			hit = dw_cidr_match(&x->v[i].c, a);
		pthread_mutex_unlock(&x->mu);
	}
	return hit;
}

/** Index of c in the list, or -1. */
static long find(const struct dw_exempt *x, const struct dw_cidr *c)
{
	size_t i;
	for (i = 0; i < x->n; i++)
		if (cidr_equal(&x->v[i].c, c))
			return (long)i;
	return -1;
}

/** Add at run time (re-adding a removed config prefix restores it);
 *  publish: swap in a new snapshot, else leave it stale. */
static int add(struct dw_exempt *x, const struct dw_cidr *c, bool publish)
{
	int rc = 1;
	size_t i;
	pthread_mutex_lock(&x->mu);
	if (publish && find(x, c) >= 0) { /* loading: publish dedupes, O(n log n) */
		rc = 0;
	} else if (grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != 0) {
		rc = -1;
	} else {
		bool was_config = false;
		for (i = 0; i < x->nremoved; i++)
			if (cidr_equal(&x->removed[i], c)) {
				x->removed[i] = x->removed[--x->nremoved];
				was_config = true;
				break;
			}
		x->v[x->n].c = *c;
		x->v[x->n++].runtime = !was_config;
		x->unchecked |= !publish;
		atomic_store(&x->stale, 1);
		if (publish)
			publish_locked(x);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/** Add at run time and publish. */
int dw_exempt_add(struct dw_exempt *x, const struct dw_cidr *c)
{
	return add(x, c, true);
}

/** Remove; a config prefix is remembered as removed so the state says so. */
static int remove_one(struct dw_exempt *x, const struct dw_cidr *c, bool publish)
{
	int rc = 0;
	long i;
	pthread_mutex_lock(&x->mu);
	i = find(x, c);
	if (i >= 0) {
		rc = 1;
		if (!x->v[i].runtime &&
		    grow((void **)&x->removed, &x->capremoved, x->nremoved, sizeof(*x->removed)) == 0)
			x->removed[x->nremoved++] = *c;
		x->v[i] = x->v[--x->n];
		atomic_store(&x->stale, 1);
		if (publish)
			publish_locked(x);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/** Remove at run time and publish. */
int dw_exempt_remove(struct dw_exempt *x, const struct dw_cidr *c)
{
	return remove_one(x, c, true);
}

/** Visit every prefix. */
void dw_exempt_foreach(struct dw_exempt *x,
		       void (*fn)(void *arg, const struct dw_cidr *c, const char *origin), void *arg)
{
	size_t i;
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n; i++)
		fn(arg, &x->v[i].c, x->v[i].runtime ? "runtime" : "config");
	pthread_mutex_unlock(&x->mu);
}

/** The run-time delta against the config. */
void dw_exempt_save(struct dw_exempt *x, FILE *f)
{
	char buf[DW_ADDR_STRLEN];
	size_t i;
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n; i++)
		if (x->v[i].runtime) {
			dw_cidr_format(&x->v[i].c, buf, sizeof(buf));
			fprintf(f, "exempt + %s\n", buf);
		}
	for (i = 0; i < x->nremoved; i++) {
		dw_cidr_format(&x->removed[i], buf, sizeof(buf));
		fprintf(f, "exempt - %s\n", buf);
	}
	pthread_mutex_unlock(&x->mu);
}

/** Replay a saved change. */
int dw_exempt_load_line(struct dw_exempt *x, const char *line, char *err, size_t errlen)
{
	char op, text[DW_ADDR_STRLEN + 8];
	struct dw_cidr c;
	if (sscanf(line, "exempt %c %71s", &op, text) != 2 || (op != '+' && op != '-') ||
	    dw_cidr_parse(text, &c) != 0) {
		snprintf(err, errlen, "malformed exempt line");
		return -1;
	}
	if (op == '+')
		return add(x, &c, false) < 0 ? (snprintf(err, errlen, "exempt list full"), -1) : 0;
	remove_one(x, &c, false);
	return 0;
}
