/**
 * \file
 * Unit tests of the upstream queue (upqueue.c): an observation comes out as
 * it went in (only its used bytes travel), a full ring drops and counts, the
 * first push after the consumer went idle asks for a wake-up and the next
 * ones do not, and four producers racing one consumer lose nothing and keep
 * each producer's order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "upqueue.h"

static struct dw_addr addr4(uint32_t v)
{
	struct dw_addr a;
	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.b[0] = (uint8_t)(v >> 24);
	a.b[1] = (uint8_t)(v >> 16);
	a.b[2] = (uint8_t)(v >> 8);
	a.b[3] = (uint8_t)v;
	return a;
}

static uint32_t val4(const struct dw_addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

enum { PRODUCERS = 4, PER = 50000 };
static struct dw_upq *shared_q;
static int produced[PRODUCERS], refused[PRODUCERS];

/** A producer: PER query events whose server encodes (producer, sequence). */
static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg, i;
	for (i = 0; i < PER; i++) {
		struct dw_addr s = addr4((uint32_t)id << 24 | (uint32_t)i);
		while (dw_upq_push_query(shared_q, &s, "zone.test.") < 0)
			refused[id]++; /* full: the consumer is behind, try again */
		produced[id]++;
	}
	return NULL;
}

int main(void)
{
	struct dw_upstream *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	struct dw_upq *q = dw_upq_new(16 * 20000);
	struct dw_addr s = addr4(0xc0000201);
	int i, pushed, dropped, popped;

	ok(dw_upq_new(1000) == NULL, "a queue too small for the largest record is refused");
	ok(q != NULL, "a queue of 16 rings of 20000 bytes");

	/* round trip: a response with NS and glue, a query */
	in->kind = DW_UP_RESPONSE;
	in->server = addr4(0xc6336401);
	strcpy(in->zone, "lab.");
	in->nrr = 3;
	in->rr[0].type = 2;
	in->rr[0].ttl = 3600;
	strcpy(in->rr[0].owner, "lab.");
	strcpy(in->rr[0].nsname, "ns1.lab.");
	in->rr[1].type = 1;
	in->rr[1].ttl = 60;
	strcpy(in->rr[1].owner, "ns1.lab.");
	in->rr[1].addr = addr4(0x7f003501);
	in->rr[2].type = 28;
	in->rr[2].ttl = 4294967295u;
	memset(in->rr[2].owner, 'a', 255); /* the longest name */
	in->rr[2].owner[255] = '\0';
	in->rr[2].addr.family = 6;
	memset(in->rr[2].addr.b, 0xfe, 16);
	is_int(dw_upq_push(q, in), 1,
	       "the first push asks for a wake-up (the consumer starts idle)");
	is_int(dw_upq_push_query(q, &s, "campus.test."), 0, "the second does not");
	memset(out, 0x55, sizeof(*out));
	ok(dw_upq_pop(q, out) == 1 && out->kind == DW_UP_RESPONSE && out->nrr == 3 &&
	       memcmp(&out->server, &in->server, sizeof(in->server)) == 0 &&
	       strcmp(out->zone, "lab.") == 0,
	   "the response comes out: kind, server, zone, count");
	ok(out->rr[0].type == 2 && out->rr[0].ttl == 3600 &&
	       strcmp(out->rr[0].owner, "lab.") == 0 && strcmp(out->rr[0].nsname, "ns1.lab.") == 0,
	   "its NS record");
	ok(out->rr[1].type == 1 && out->rr[1].ttl == 60 &&
	       strcmp(out->rr[1].owner, "ns1.lab.") == 0 &&
	       memcmp(&out->rr[1].addr, &in->rr[1].addr, sizeof(in->rr[1].addr)) == 0 &&
	       out->rr[1].nsname[0] == '\0',
	   "its A record");
	ok(out->rr[2].type == 28 && out->rr[2].ttl == 4294967295u &&
	       strcmp(out->rr[2].owner, in->rr[2].owner) == 0 &&
	       memcmp(&out->rr[2].addr, &in->rr[2].addr, sizeof(in->rr[2].addr)) == 0,
	   "its AAAA record with a 255-byte owner");
	ok(dw_upq_pop(q, out) == 1 && out->kind == DW_UP_QUERY && out->nrr == 0 &&
	       val4(&out->server) == 0xc0000201 && strcmp(out->zone, "campus.test.") == 0,
	   "then the query event");
	is_int(dw_upq_pop(q, out), 0, "then nothing");

	/* the wake-up protocol */
	dw_upq_rearm(q);
	is_int(dw_upq_push_query(q, &s, "a."), 1, "after rearm: the next push wakes");
	is_int(dw_upq_push_query(q, &s, "b."), 0, "once");
	dw_upq_busy(q);
	is_int(dw_upq_push_query(q, &s, "c."), 0, "a busy consumer is not woken by a push");
	{
		int wakes = 0, n;
		for (n = 0; n < 300; n++) /* ~47 bytes each: past half of 20000 */
			wakes +=
			    dw_upq_push_query(q, &s, "a-zone-name-of-some-length.example.") == 1;
		is_int(wakes, 1, "but once by its ring passing half full");
	}
	while (dw_upq_pop(q, out))
		;

	/* full: drops are counted, nothing else is lost */
	pushed = dropped = 0;
	for (i = 0; i < 2000; i++) {
		struct dw_addr a = addr4((uint32_t)i);
		int rc = dw_upq_push_query(q, &a, "a-zone-name-of-some-length.example.");
		if (rc < 0)
			dropped++;
		else
			pushed++;
	}
	ok(dropped > 0 && pushed > 0, "one thread's ring fills up: %d queued, %d dropped", pushed,
	   dropped);
	is_int(dw_upq_dropped(q), dropped, "every drop is counted");
	popped = 0;
	while (dw_upq_pop(q, out)) {
		if (val4(&out->server) != (uint32_t)popped)
			break;
		popped++;
	}
	is_int(popped, pushed, "every queued one comes out, in order");
	dw_upq_free(q);

	/* four producers, one consumer */
	shared_q = dw_upq_new(16 * 20000);
	{
		pthread_t th[PRODUCERS];
		int next[PRODUCERS] = {0}, got = 0, order_ok = 1;
		for (i = 0; i < PRODUCERS; i++)
			pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i);
		while (got < PRODUCERS * PER) {
			if (dw_upq_pop(shared_q, out)) {
				uint32_t v = val4(&out->server);
				int id = (int)(v >> 24);
				if (id >= PRODUCERS || (int)(v & 0xffffff) != next[id]) {
					order_ok = 0;
					break;
				}
				next[id]++;
				got++;
			}
		}
		for (i = 0; i < PRODUCERS; i++)
			pthread_join(th[i], NULL);
		is_int(got, PRODUCERS * PER, "4 producers x 50000 events: all consumed");
		ok(order_ok, "each producer's events in its order");
		is_int(dw_upq_dropped(shared_q),
		       (long long)refused[0] + refused[1] + refused[2] + refused[3],
		       "every refused push counted as a drop, nothing else");
	}
	dw_upq_free(shared_q);
	free(in);
	free(out);
	return done_testing();
}
