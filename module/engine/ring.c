/**
 * \file
 * A bounded queue of fixed-size records (ring.h).
 */
#include "ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dw_ring {
	pthread_mutex_t lock; /* guards everything below */
	unsigned char *buf;
	size_t cap, size, head, count;
	uint64_t dropped;
};

/** Allocate the ring once; nothing is allocated afterwards. */
struct dw_ring *dw_ring_new(size_t capacity, size_t record_size)
{
	struct dw_ring *r;
	if (!capacity || !record_size || capacity > SIZE_MAX / record_size)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->buf = malloc(capacity * record_size);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->cap = capacity;
	r->size = record_size;
	return r;
}

/** Free the ring and whatever is still in it. */
void dw_ring_free(struct dw_ring *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	free(r);
}

/** Copy a record in at the tail, or count it as dropped. */
int dw_ring_push(struct dw_ring *r, const void *record)
{
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	if (r->count == r->cap) {
		r->dropped++;
		rc = -1;
	} else {
		memcpy(r->buf + ((r->head + r->count) % r->cap) * r->size, record, r->size);
		r->count++;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/** Copy the record at the head out. */
int dw_ring_pop(struct dw_ring *r, void *record)
{
	int got = 0;
	pthread_mutex_lock(&r->lock);
	if (r->count) {
		memcpy(record, r->buf + r->head * r->size, r->size);
		r->head = (r->head + 1) % r->cap;
		r->count--;
		got = 1;
	}
	pthread_mutex_unlock(&r->lock);
	return got;
}

/** Total records dropped. */
uint64_t dw_ring_dropped(struct dw_ring *r)
{
	uint64_t n;
	pthread_mutex_lock(&r->lock);
	n = r->dropped;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/** The ring's allocation: its records and itself. */
size_t dw_ring_mem(const struct dw_ring *r)
{
	return r ? sizeof(*r) + r->cap * r->size : 0;
}
