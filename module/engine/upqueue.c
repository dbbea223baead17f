/**
 * \file
 * The upstream queue (upqueue.h): per-thread single-consumer byte rings of
 * compact, length-prefixed observation records.
 *
 * Record: u32 length, then kind u8, nrr u8, server (family u8, 16 bytes),
 * zone (u8 length, bytes), then per record type u16, ttl u32, owner (u8
 * length, bytes), and the NS name (u8 length, bytes) or the address (family,
 * 16 bytes). Records never wrap: a record that does not fit before the end
 * of the buffer is preceded by a PAD marker (or by fewer than 4 spare bytes)
 * and starts again at offset 0.
 */
#include "upqueue.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PAD 0xffffffffu
/** The largest record: header, zone and DW_UP_MAX_RR records of two names. */
#define REC_MAX (4 + 2 + 17 + 256 + DW_UP_MAX_RR * (6 + 256 + 256))

struct ring {
	alignas(64) atomic_uint_fast64_t head; /* bytes consumed (consumer writes) */
	alignas(64) atomic_uint_fast64_t tail; /* bytes produced (producers write) */
	pthread_mutex_t push_mu;               /* producers sharing this ring */
	atomic_uint_fast64_t dropped;
	unsigned char *buf;
	size_t cap;
};

struct dw_upq {
	struct ring ring[DW_UPQ_RINGS];
	atomic_int armed;  /* the consumer waits for a wake-up */
	atomic_int hurry;  /* a ring passed half full since the last drain */
	unsigned next_pop; /* round robin of the consumer */
};

/** Which ring this thread pushes to (0 = not chosen yet, else index + 1):
 *  a plain index, valid for every queue. */
static _Thread_local unsigned my_ring;
static atomic_uint rings_taken;

/** Allocate every ring once. */
struct dw_upq *dw_upq_new(size_t ring_bytes)
{
	struct dw_upq *q;
	size_t per = ring_bytes / DW_UPQ_RINGS;
	unsigned i;
	if (per < 2 * REC_MAX)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	for (i = 0; i < DW_UPQ_RINGS; i++) {
		struct ring *r = &q->ring[i];
		r->buf = malloc(per);
		r->cap = per;
		pthread_mutex_init(&r->push_mu, NULL);
		if (!r->buf) {
			dw_upq_free(q);
			return NULL;
		}
	}
	atomic_store(&q->armed, 1);
	return q;
}

/** Free the rings and the queue. */
void dw_upq_free(struct dw_upq *q)
{
	unsigned i;
	if (!q)
		return;
	for (i = 0; i < DW_UPQ_RINGS; i++) {
		free(q->ring[i].buf);
		pthread_mutex_destroy(&q->ring[i].push_mu);
	}
	free(q);
}

/** Append n bytes at *p. */
static unsigned char *put(unsigned char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

/** A name as u8 length and bytes (at most 255). */
static unsigned char *put_name(unsigned char *p, const char *s)
{
	size_t n = strnlen(s, 255);
	*p++ = (uint8_t)n;
	return put(p, s, n);
}

/** An address as family and 16 bytes. */
static unsigned char *put_addr(unsigned char *p, const struct dw_addr *a)
{
	*p++ = a->family;
	return put(p, a->b, 16);
}

/** Encode u (or the query event server/zone when u is NULL) into rec;
 *  returns its length. rec holds REC_MAX bytes. */
static size_t encode(unsigned char *rec, const struct dw_upstream *u, const struct dw_addr *server,
                     const char *zone)
{
	unsigned char *p = rec;
	unsigned i, nrr = u ? (u->nrr > DW_UP_MAX_RR ? DW_UP_MAX_RR : u->nrr) : 0;
	*p++ = u ? u->kind : DW_UP_QUERY;
	*p++ = (uint8_t)nrr;
	p = put_addr(p, u ? &u->server : server);
	p = put_name(p, u ? u->zone : zone);
	for (i = 0; i < nrr; i++) {
		const struct dw_up_rr *rr = &u->rr[i];
		p = put(p, &rr->type, 2);
		p = put(p, &rr->ttl, 4);
		p = put_name(p, rr->owner);
		if (rr->type == 2)
			p = put_name(p, rr->nsname);
		else
			p = put_addr(p, &rr->addr);
	}
	return (size_t)(p - rec);
}

/** The ring of the calling thread. */
static struct ring *ring_of_thread(struct dw_upq *q)
{
	if (my_ring == 0)
		my_ring = atomic_fetch_add(&rings_taken, 1) % DW_UPQ_RINGS + 1;
	return &q->ring[my_ring - 1];
}

/** Copy one encoded record into the thread's ring; the wake-up protocol. */
static int push_rec(struct dw_upq *q, const unsigned char *rec, size_t len)
{
	struct ring *r = ring_of_thread(q);
	uint32_t l32 = (uint32_t)len;
	size_t need = 4 + len, used = 0;
	int rc = 0;

	pthread_mutex_lock(&r->push_mu);
	{
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
		size_t off = (size_t)(tail % r->cap), to_end = r->cap - off;
		size_t skip = need <= to_end ? 0 : to_end;
		if (r->cap - (size_t)(tail - head) < skip + need) {
			rc = -1;
		} else {
			if (skip >= 4) {
				uint32_t pad = PAD;
				memcpy(r->buf + off, &pad, 4);
			}
			off = (size_t)((tail + skip) % r->cap);
			memcpy(r->buf + off, &l32, 4);
			memcpy(r->buf + off + 4, rec, len);
			atomic_store_explicit(&r->tail, tail + skip + need, memory_order_release);
			used = (size_t)(tail + skip + need - head);
		}
	}
	pthread_mutex_unlock(&r->push_mu);
	if (rc < 0) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return -1;
	}
	if (atomic_load_explicit(&q->armed, memory_order_relaxed) &&
	    atomic_exchange_explicit(&q->armed, 0, memory_order_acq_rel))
		return 1;
	if (used > r->cap / 2 && !atomic_load_explicit(&q->hurry, memory_order_relaxed) &&
	    !atomic_exchange_explicit(&q->hurry, 1, memory_order_acq_rel))
		return 1;
	return 0;
}

/** Encode on the stack, then copy into the ring. */
int dw_upq_push(struct dw_upq *q, const struct dw_upstream *u)
{
	unsigned char rec[REC_MAX];
	return push_rec(q, rec, encode(rec, u, NULL, NULL));
}

/** The small path of every upstream query. */
int dw_upq_push_query(struct dw_upq *q, const struct dw_addr *server, const char *zone)
{
	unsigned char rec[4 + 2 + 17 + 256];
	return push_rec(q, rec, encode(rec, NULL, server, zone));
}

/** The consumer wants a wake-up from the next push. */
void dw_upq_rearm(struct dw_upq *q)
{
	atomic_store_explicit(&q->hurry, 0, memory_order_release);
	atomic_store_explicit(&q->armed, 1, memory_order_release);
}

/** The consumer comes back by itself: only a hurry wakes it. */
void dw_upq_busy(struct dw_upq *q)
{
	atomic_store_explicit(&q->hurry, 0, memory_order_release);
}

/** Read a u8-length name into out (cap 256) from p..end; NULL if short. */
static const unsigned char *get_name(const unsigned char *p, const unsigned char *end, char *out)
{
	size_t n;
	if (p >= end || (size_t)(end - p) < 1u + *p)
		return NULL;
	n = *p++;
	memcpy(out, p, n);
	out[n] = '\0';
	return p + n;
}

/** Read family and 16 bytes. */
static const unsigned char *get_addr(const unsigned char *p, const unsigned char *end,
                                     struct dw_addr *a)
{
	if ((size_t)(end - p) < 17)
		return NULL;
	a->family = *p++;
	memcpy(a->b, p, 16);
	return p + 16;
}

/** Decode one record; 0, or -1 when it is damaged (never: we wrote it). */
static int decode(const unsigned char *p, size_t len, struct dw_upstream *u)
{
	const unsigned char *end = p + len;
	unsigned i;
	if (len < 2)
		return -1;
	u->kind = *p++;
	u->nrr = *p++;
	if (u->nrr > DW_UP_MAX_RR || !(p = get_addr(p, end, &u->server)) ||
	    !(p = get_name(p, end, u->zone)))
		return -1;
	for (i = 0; i < u->nrr; i++) {
		struct dw_up_rr *rr = &u->rr[i];
		if ((size_t)(end - p) < 6)
			return -1;
		memcpy(&rr->type, p, 2);
		memcpy(&rr->ttl, p + 2, 4);
		p += 6;
		if (!(p = get_name(p, end, rr->owner)))
			return -1;
		if (rr->type == 2) {
			memset(&rr->addr, 0, sizeof(rr->addr));
			p = get_name(p, end, rr->nsname);
		} else {
			rr->nsname[0] = '\0';
			p = get_addr(p, end, &rr->addr);
		}
		if (!p)
			return -1;
	}
	return 0;
}

/** Pop from one ring; 1 when a record was there. */
static int pop_ring(struct ring *r, struct dw_upstream *u)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		size_t off, to_end;
		uint32_t len;
		int bad;
		if (head == tail)
			return 0;
		off = (size_t)(head % r->cap);
		to_end = r->cap - off;
		if (to_end < 4) {
			head += to_end;
			atomic_store_explicit(&r->head, head, memory_order_release);
			continue;
		}
		memcpy(&len, r->buf + off, 4);
		if (len == PAD) {
			head += to_end;
			atomic_store_explicit(&r->head, head, memory_order_release);
			continue;
		}
		bad = len > to_end - 4 || decode(r->buf + off + 4, len, u) != 0;
		head += 4 + (bad ? 0 : len);
		if (bad) /* cannot happen; start over rather than read garbage */
			head = tail;
		atomic_store_explicit(&r->head, head, memory_order_release);
		if (!bad)
			return 1;
	}
}

/** Round robin over the rings, so one busy worker cannot starve the rest. */
int dw_upq_pop(struct dw_upq *q, struct dw_upstream *u)
{
	unsigned i;
	for (i = 0; i < DW_UPQ_RINGS; i++) {
		struct ring *r = &q->ring[(q->next_pop + i) % DW_UPQ_RINGS];
		if (pop_ring(r, u)) {
			q->next_pop = (q->next_pop + i + 1) % DW_UPQ_RINGS;
			return 1;
		}
	}
	return 0;
}

/** Sum of the rings' drops. */
uint64_t dw_upq_dropped(const struct dw_upq *q)
{
	uint64_t n = 0;
	unsigned i;
	for (i = 0; i < DW_UPQ_RINGS; i++)
		n += atomic_load_explicit(&((struct dw_upq *)q)->ring[i].dropped,
		                          memory_order_relaxed);
	return n;
}

/** Bytes the queue holds allocated: the struct and every ring's buffer. */
size_t dw_upq_mem(const struct dw_upq *q)
{
	size_t n, i;
	if (!q)
		return 0;
	n = sizeof(*q);
	for (i = 0; i < DW_UPQ_RINGS; i++)
		n += q->ring[i].cap;
	return n;
}
