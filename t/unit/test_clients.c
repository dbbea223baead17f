/**
 * \file
 * Unit tests of clients.c: configuration checks, insert/get, IPv6
 * aggregation, LRU eviction at the cap (including one client per shard),
 * judge flags, foreach, stats, time going backwards, and exact totals when
 * 2 and 4 threads hammer the same clients (run it under -fsanitize=thread).
 */
#include "clients.h"
#include "window.h"
#include "tap.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Build addresses without addr.c (being written concurrently). */
static struct dw_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct dw_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.b[0] = a;
	x.b[1] = b;
	x.b[2] = c;
	x.b[3] = d;
	return x;
}

/* An IPv6 address from its eight 16-bit groups. */
static struct dw_addr v6(const uint16_t g[8])
{
	struct dw_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 6;
	for (int i = 0; i < 8; i++) {
		x.b[2 * i] = (uint8_t)(g[i] >> 8);
		x.b[2 * i + 1] = (uint8_t)g[i];
	}
	return x;
}

/* The n-th of many distinct IPv4 clients. */
static struct dw_addr nth(uint32_t n)
{
	return v4(10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n);
}

static struct dw_clients_conf conf_of(uint32_t max, uint32_t shards)
{
	struct dw_clients_conf c;

	memset(&c, 0, sizeof(c));
	c.max = max;
	c.shards = shards;
	c.ipv6_prefix = 64;
	c.ncounters = 3;
	c.window[0] = 600;
	c.window[1] = 10;
	c.window[2] = 86400;
	return c;
}

static void test_conf(void)
{
	char err[160];
	struct dw_clients_conf c;
	struct dw_clients *t;

	c = conf_of(0, 0);
	err[0] = 0;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "clients.max"),
	   "max 0 refused: %s", err);
	c = conf_of(100, 0);
	c.ipv6_prefix = 65;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "ipv6_prefix"),
	   "prefix 65 refused: %s", err);
	c.ipv6_prefix = 31;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL, "prefix 31 refused");
	c = conf_of(100, 0);
	c.ncounters = 0;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "counters"),
	   "0 counters refused: %s", err);
	c.ncounters = DW_CLIENTS_MAX_COUNTERS + 1;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL, "9 counters refused");
	c = conf_of(100, 0);
	c.window[1] = 0;
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "counter 1"),
	   "window 0 refused: %s", err);
	c = conf_of(100, 3);
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "power of two"),
	   "3 shards refused: %s", err);
	c = conf_of(4, 8);
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL, "more shards than clients refused");
	c = conf_of(200000, 2);
	ok(dw_clients_new(&c, err, sizeof(err)) == NULL && strstr(err, "exceed"),
	   "shards above 65535 clients refused: %s", err);
	c = conf_of(DW_CLIENTS_MAX, 0);
	t = dw_clients_new(&c, err, sizeof(err));
	if (ok(t != NULL, "the largest table is created (lazily)")) {
		struct dw_clients_stats st;

		dw_clients_stats(t, &st);
		ok(st.shards >= 2048 && st.capacity == DW_CLIENTS_MAX && st.tracked == 0,
		   "it has %u shards, nothing tracked", st.shards);
		dw_clients_free(t);
	}
	dw_clients_free(NULL);
}

/* Judge that records what it saw and sets bit 0 once counter 0 reaches 3,
 * clearing it below (the detectors' "fire once per crossing"). */
struct seen {
	struct dw_client_view v;
	int calls, fired;
};

static uint16_t judge_cross(void *arg, const struct dw_client_view *v)
{
	struct seen *s = arg;
	uint16_t f = v->flags;

	s->v = *v;
	s->calls++;
	if (v->counts[0] >= 3 && !(f & 1)) {
		s->fired++;
		f |= 1;
	} else if (v->counts[0] < 3) {
		f &= (uint16_t)~1u;
	}
	return (uint16_t)(f | 0x8000); /* a bit nobody else touches */
}

static void test_basic(void)
{
	struct dw_clients_conf c = conf_of(1000, 0);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	struct dw_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
	struct dw_client_view v;
	struct seen s;
	const uint16_t inc[3] = {1, 2, 3};

	memset(&s, 0, sizeof(s));
	ok(dw_clients_get(t, &a, 100, &v) == 0, "unknown client not found");
	is_int(dw_clients_update(t, &a, 100, inc, judge_cross, &s), DW_CLIENTS_NEW,
	       "first update: new");
	ok(s.calls == 1 && s.v.counts[0] == 1 && s.v.counts[1] == 2 && s.v.counts[2] == 3,
	   "judge saw the increments");
	ok(s.v.flags == 0 && s.v.first_seen == 100 && s.v.now == 100 && s.v.ncounters == 3,
	   "new client: flags 0, first_seen = now");
	ok(s.v.addr.family == 4 && memcmp(s.v.addr.b, a.b, 16) == 0, "view has the address");
	is_int(dw_clients_update(t, &a, 101, inc, judge_cross, &s), 0, "second update: known");
	is_int(s.v.flags, 0x8000, "judge sees the flags it returned");
	is_int(dw_clients_update(t, &a, 102, inc, judge_cross, &s), 0, "third update");
	ok(s.fired == 1 && s.v.counts[0] == 3, "crossing 3 fires once");
	dw_clients_update(t, &a, 103, inc, judge_cross, &s);
	dw_clients_update(t, &a, 104, NULL, judge_cross, &s);
	is_int(s.fired, 1, "staying above does not fire again");
	is_int(s.v.counts[0], 4, "NULL inc only touches");
	ok(dw_clients_get(t, &a, 104, &v) == 1 && v.flags == 0x8001 && v.counts[1] == 8 &&
	       v.counts[2] == 12 && v.first_seen == 100 && v.last_seen == 104,
	   "get shows flags 0x8001 and counts");
	ok(dw_clients_get(t, &b, 104, &v) == 0, "another client is separate");

	/* counter 1 is 10 s wide: g = 2, k = 5; events at 100..104 */
	ok(dw_clients_get(t, &a, 109, &v) == 1 && v.counts[1] == 8, "10 s window at 109: all");
	ok(dw_clients_get(t, &a, 110, &v) == 1 && v.counts[1] == 4 && v.counts[0] == 4,
	   "10 s window at 110: slot of 100-101 gone, 600 s window intact");
	ok(dw_clients_get(t, &a, 114, &v) == 1 && v.counts[1] == 0 && v.now == 114,
	   "10 s window at 114: empty");
	ok(dw_clients_get(t, &a, 100, &v) == 1 && v.now == 104 && v.counts[0] == 4,
	   "get in the past reads at last_seen");
	/* expiry re-arms the judge */
	dw_clients_update(t, &a, 100000, NULL, judge_cross, &s);
	ok(s.v.counts[0] == 0 && s.v.counts[2] == 0 && s.v.flags == 0x8001,
	   "all expired a day later");
	dw_clients_get(t, &a, 100000, &v);
	is_int(v.flags, 0x8000, "judge cleared its bit below the threshold");
	for (int i = 0; i < 3; i++)
		dw_clients_update(t, &a, 100001, inc, judge_cross, &s);
	is_int(s.fired, 2, "next crossing fires again");

	/* time going backwards through the table */
	dw_clients_update(t, &b, 5000, inc, NULL, NULL);
	is_int(dw_clients_update(t, &b, 10, inc, judge_cross, &s), 0, "update in the past");
	ok(s.v.now == 5000 && s.v.counts[0] == 2 && s.v.counts[1] == 4, "counted at last (5000)");
	ok(dw_clients_get(t, &b, 5009, &v) == 1 && v.counts[1] == 4 && v.first_seen == 5000,
	   "the 10 s counter still holds both at 5009");
	ok(dw_clients_get(t, &b, 5010, &v) == 1 && v.counts[1] == 0,
	   "and is empty at 5010: both expire on the edge of 5000");

	struct dw_addr bad = a;

	bad.family = 5;
	is_int(dw_clients_update(t, &bad, 1, inc, NULL, NULL), DW_CLIENTS_EINVAL,
	       "family 5 refused");
	is_int(dw_clients_get(t, &bad, 1, &v), DW_CLIENTS_EINVAL, "get of family 5 refused");
	dw_clients_free(t);
}

static void test_ipv6(void)
{
	struct dw_clients_conf c = conf_of(1000, 0);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	const uint16_t one[3] = {1, 1, 1};
	const uint16_t g1[8] = {0x2001, 0xdb8, 1, 2, 0, 0, 0, 1};
	const uint16_t g2[8] = {0x2001, 0xdb8, 1, 2, 0xffff, 0x1234, 5, 6};
	const uint16_t g3[8] = {0x2001, 0xdb8, 1, 3, 0, 0, 0, 1};
	const uint16_t gz[8] = {0};
	struct dw_addr a1 = v6(g1), a2 = v6(g2), a3 = v6(g3), z6 = v6(gz), z4 = v4(0, 0, 0, 0);
	struct dw_client_view v;
	struct dw_clients_stats st;

	ok(dw_clients_update(t, &a1, 1, one, NULL, NULL) == DW_CLIENTS_NEW, "2001:db8:1:2::1 new");
	ok(dw_clients_update(t, &a2, 1, one, NULL, NULL) == 0,
	   "2001:db8:1:2:ffff:1234:5:6 same /64");
	ok(dw_clients_update(t, &a3, 1, one, NULL, NULL) == DW_CLIENTS_NEW, "2001:db8:1:3::1 new");
	ok(dw_clients_get(t, &a2, 1, &v) == 1 && v.counts[0] == 2, "the /64 counted 2");
	ok(v.addr.family == 6 && v.addr.b[7] == 2 && v.addr.b[8] == 0 && v.addr.b[15] == 0,
	   "view shows the /64 with host bits zero");
	ok(dw_clients_update(t, &z6, 1, one, NULL, NULL) == DW_CLIENTS_NEW &&
	       dw_clients_update(t, &z4, 1, one, NULL, NULL) == DW_CLIENTS_NEW,
	   ":: and 0.0.0.0 are two clients");
	dw_clients_stats(t, &st);
	is_int(st.tracked, 4, "four clients");
	dw_clients_free(t);

	c.ipv6_prefix = 48;
	t = dw_clients_new(&c, NULL, 0);
	dw_clients_update(t, &a1, 1, one, NULL, NULL);
	ok(dw_clients_update(t, &a3, 1, one, NULL, NULL) == 0, "with /48, 1:2:: and 1:3:: are one");
	ok(dw_clients_get(t, &a1, 1, &v) == 1 && v.counts[0] == 2 && v.addr.b[5] == 1 &&
	       v.addr.b[6] == 0 && v.addr.b[7] == 0,
	   "and the view is 2001:db8:1::/48");
	dw_clients_free(t);

	c.ipv6_prefix = 33;
	t = dw_clients_new(&c, NULL, 0);
	const uint16_t h1[8] = {0x2001, 0x0db8, 0x7fff, 0, 0, 0, 0, 1};
	const uint16_t h2[8] = {0x2001, 0x0db8, 0x8000, 0, 0, 0, 0, 1};
	struct dw_addr b1 = v6(h1), b2 = v6(h2);

	dw_clients_update(t, &b1, 1, one, NULL, NULL);
	ok(dw_clients_update(t, &b2, 1, one, NULL, NULL) == DW_CLIENTS_NEW,
	   "odd prefix /33 splits on bit 33");
	dw_clients_free(t);
}

/* LRU with one shard: touch order decides the victim. */
static void test_eviction(void)
{
	struct dw_clients_conf c = conf_of(3, 1);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	struct dw_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2), cc = v4(10, 0, 0, 3),
	               d = v4(10, 0, 0, 4);
	const uint16_t one[3] = {1, 0, 0};
	struct dw_client_view v;
	struct dw_clients_stats st;

	dw_clients_update(t, &a, 1, one, NULL, NULL);
	dw_clients_update(t, &b, 2, one, NULL, NULL);
	dw_clients_update(t, &cc, 3, one, NULL, NULL);
	dw_clients_update(t, &a, 4, one, NULL, NULL); /* a is now the most recent */
	is_int(dw_clients_update(t, &d, 5, one, NULL, NULL), DW_CLIENTS_NEW | DW_CLIENTS_EVICTED,
	       "a fourth client evicts");
	ok(dw_clients_get(t, &b, 5, &v) == 0, "the least recently seen (b) went");
	ok(dw_clients_get(t, &a, 5, &v) == 1 && v.counts[0] == 2, "a kept its counts");
	ok(dw_clients_get(t, &cc, 5, &v) == 1 && dw_clients_get(t, &d, 5, &v) == 1, "c, d stay");
	dw_clients_get(t, &cc, 6, &v); /* a read does not refresh c */
	dw_clients_update(t, &b, 6, one, NULL, NULL);
	ok(dw_clients_get(t, &cc, 6, &v) == 0, "get does not count as seen: c went next");
	ok(dw_clients_get(t, &b, 6, &v) == 1 && v.counts[0] == 1 && v.first_seen == 6,
	   "b came back as a new client");
	dw_clients_stats(t, &st);
	ok(st.tracked == 3 && st.inserts == 5 && st.evictions == 2 && st.capacity == 3,
	   "stats: tracked %llu inserts %llu evictions %llu", (unsigned long long)st.tracked,
	   (unsigned long long)st.inserts, (unsigned long long)st.evictions);
	dw_clients_free(t);

	/* LRU at the clock's resolution: within one second, order of entry */
	/* (plain queries: no counts, so nobody is protected) */
	t = dw_clients_new(&c, NULL, 0);
	dw_clients_touch(t, &a, 10, NULL);
	dw_clients_touch(t, &b, 10, NULL);
	dw_clients_touch(t, &cc, 10, NULL);
	dw_clients_touch(t, &a, 10, NULL); /* same second: a stays oldest */
	dw_clients_touch(t, &d, 10, NULL);
	ok(dw_clients_get(t, &a, 10, &v) == 0 && dw_clients_get(t, &b, 10, &v) == 1,
	   "same second: the client that entered the second first goes");
	dw_clients_touch(t, &b, 11, NULL); /* new second: b moves to front */
	dw_clients_touch(t, &a, 11, NULL);
	ok(dw_clients_get(t, &cc, 11, &v) == 0 && dw_clients_get(t, &b, 11, &v) == 1 &&
	       dw_clients_get(t, &d, 11, &v) == 1,
	   "next second: the oldest last-seen second (c) goes");
	dw_clients_free(t);

	/* one client per shard, and a one-client table */
	uint32_t caps[][2] = {{1, 0}, {1, 1}, {4, 4}, {256, 256}};

	for (size_t n = 0; n < sizeof(caps) / sizeof(caps[0]); n++) {
		c = conf_of(caps[n][0], caps[n][1]);
		t = dw_clients_new(&c, NULL, 0);
		int good = t != NULL;

		for (uint32_t i = 0; i < 5000 && good; i++) {
			struct dw_addr x = nth(i);
			int r = dw_clients_update(t, &x, i, one, NULL, NULL);

			good = r == DW_CLIENTS_NEW || r == (DW_CLIENTS_NEW | DW_CLIENTS_EVICTED);
			good = good && dw_clients_get(t, &x, i, &v) == 1 && v.counts[0] == 1;
		}
		dw_clients_stats(t, &st);
		good = good && st.tracked == caps[n][0] && st.inserts == 5000 &&
		       st.evictions == 5000 - caps[n][0];
		ok(good,
		   "max %u, shards %u: never more than max, newest always present, %llu evicted",
		   caps[n][0], st.shards, (unsigned long long)st.evictions);
		dw_clients_free(t);
	}

	/* many clients through an auto-sharded table */
	c = conf_of(1000, 0);
	t = dw_clients_new(&c, NULL, 0);
	for (uint32_t i = 0; i < 10000; i++) {
		struct dw_addr x = nth(i);

		dw_clients_update(t, &x, 1000 + i, one, NULL, NULL);
	}
	dw_clients_stats(t, &st);
	ok(st.tracked == 1000 && st.evictions == 9000 && st.inserts == 10000,
	   "10000 sources into 1000: tracked stays 1000 (%u shards)", st.shards);
	ok(st.bytes >= 1000ull * st.entry_bytes && st.entry_bytes == 40 + 16 * 3,
	   "bytes %llu, entry %u", (unsigned long long)st.bytes, st.entry_bytes);
	dw_clients_free(t);
}

struct walk {
	uint64_t clients, sum;
	int stop_after;
};

static int visit(void *arg, const struct dw_client_view *v)
{
	struct walk *w = arg;

	w->clients++;
	w->sum += v->counts[0];
	return w->stop_after && (int)w->clients >= w->stop_after ? 7 : 0;
}

static void test_foreach(void)
{
	struct dw_clients_conf c = conf_of(5000, 0);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	struct walk w;

	for (uint32_t i = 0; i < 3000; i++) {
		struct dw_addr x = nth(i);
		const uint16_t inc[3] = {(uint16_t)(i % 5), 0, 0};

		dw_clients_update(t, &x, 50, inc, NULL, NULL);
	}
	memset(&w, 0, sizeof(w));
	is_int(dw_clients_foreach(t, 50, visit, &w), 0, "foreach returns 0");
	ok(w.clients == 3000 && w.sum == 600 * (0 + 1 + 2 + 3 + 4),
	   "visits all 3000 once, sum %llu", (unsigned long long)w.sum);
	memset(&w, 0, sizeof(w));
	w.stop_after = 10;
	is_int(dw_clients_foreach(t, 50, visit, &w), 7, "a nonzero return stops the walk");
	is_int(w.clients, 10, "after 10 visits");
	dw_clients_free(t);
}

/* Threads hammering the same clients: every increment must land. */
struct hammer {
	struct dw_clients *t;
	int rounds;
	uint32_t now;
};

static uint16_t judge_count(void *arg, const struct dw_client_view *v)
{
	(void)arg;
	return (uint16_t)(v->flags + 1); /* counts judge calls per client, mod 65536 */
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	const uint16_t inc[3] = {1, 2, 3};

	for (int r = 0; r < h->rounds; r++)
		for (uint32_t i = 0; i < 100; i++) {
			/* each thread walks the clients from a different start */
			struct dw_addr x = nth((i + (uint32_t)r * 7) % 100);

			dw_clients_update(h->t, &x, h->now + (uint32_t)(r & 1), inc, judge_count,
			                  NULL);
			/* and a plain query: counted in the total only */
			dw_clients_touch(h->t, &x, h->now + (uint32_t)(r & 1), NULL);
		}
	return NULL;
}

static void test_threads(int nthreads)
{
	/* 4 shards of 256: room for all 100 however they hash, and contention */
	struct dw_clients_conf c = conf_of(1024, 4);
	pthread_t th[4];
	struct hammer h;
	const int rounds = 2000;
	int good = 1;

	c.window[0] = c.window[1] = c.window[2] = 86400;
	h.t = dw_clients_new(&c, NULL, 0);
	h.rounds = rounds;
	h.now = 864000;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, hammer_main, &h);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	uint32_t want = (uint32_t)(nthreads * rounds);

	for (uint32_t i = 0; i < 100 && good; i++) {
		struct dw_addr x = nth(i);
		struct dw_client_view v;

		if (dw_clients_get(h.t, &x, h.now + 1, &v) != 1) {
			printf("# client %u lost\n", i);
			good = 0;
			break;
		}
		good = v.counts[0] == want && v.counts[1] == 2 * want && v.counts[2] == 3 * want &&
		       v.flags == (uint16_t)want && v.total == 2 * want;
		if (!good)
			printf("# client %u: %u %u %u flags %u, want %u\n", i, v.counts[0],
			       v.counts[1], v.counts[2], v.flags, want);
	}
	ok(good, "%d threads × %d rounds × 100 clients: every count, total and judge call exact",
	   nthreads,
	   rounds);
	struct dw_clients_stats st;

	dw_clients_stats(h.t, &st);
	ok(st.tracked == 100 && st.evictions == 0 && st.inserts == 100, "%d threads: 100 clients",
	   nthreads);
	dw_clients_free(h.t);
}

/* Threads flooding distinct sources into a small table: cap holds. */
struct flood {
	struct dw_clients *t;
	uint32_t from, n;
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	const uint16_t inc[3] = {1, 0, 0};

	for (uint32_t i = f->from; i < f->from + f->n; i++) {
		struct dw_addr x = nth(i);

		dw_clients_update(f->t, &x, i, inc, NULL, NULL);
	}
	return NULL;
}

static void test_flood_threads(void)
{
	struct dw_clients_conf c = conf_of(2000, 0);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	pthread_t th[4];
	struct flood f[4];
	struct dw_clients_stats st;

	for (int i = 0; i < 4; i++) {
		f[i].t = t;
		f[i].from = (uint32_t)i * 20000;
		f[i].n = 20000;
		pthread_create(&th[i], NULL, flood_main, &f[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	dw_clients_stats(t, &st);
	ok(st.tracked == 2000 && st.inserts == 80000 && st.evictions == 78000,
	   "4 threads × 20000 new sources: tracked %llu, evictions %llu",
	   (unsigned long long)st.tracked, (unsigned long long)st.evictions);
	dw_clients_free(t);
}

/* A judge that keeps a copy of the view it was shown. */
static uint16_t judge_copy(void *arg, const struct dw_client_view *v)
{
	*(struct dw_client_view *)arg = *v;
	return v->flags;
}

/* dw_clients_update_need_h(): the judge sees the counters in need, the
 * others read 0 in its view while they keep counting. */
static void test_need(void)
{
	struct dw_clients_conf c = conf_of(100, 1);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	struct dw_addr a = v4(192, 0, 2, 7);
	struct dw_client_view v, got;
	const uint16_t all[3] = {1, 1, 1}, first[3] = {1, 0, 0}, third[3] = {0, 0, 1};

	dw_clients_update(t, &a, 1000, all, NULL, NULL);
	dw_clients_update(t, &a, 1000, all, NULL, NULL);
	memset(&v, 0xff, sizeof(v));
	dw_clients_update_need_h(t, &a, dw_clients_hash(t, &a), 1000, first, 1u << 0, judge_copy,
	                         &v);
	ok(v.counts[0] == 3 && v.counts[1] == 0 && v.counts[2] == 0,
	   "same second, need {0}: the judge sees 3, 0, 0 (got %u %u %u)", v.counts[0], v.counts[1],
	   v.counts[2]);
	dw_clients_update_need_h(t, &a, dw_clients_hash(t, &a), 1000, third, 1u << 2 | 1u << 1,
	                         judge_copy, &v);
	ok(v.counts[0] == 0 && v.counts[1] == 2 && v.counts[2] == 3,
	   "same second, need {1,2}: the judge sees 0, 2, 3 (got %u %u %u)", v.counts[0],
	   v.counts[1], v.counts[2]);
	dw_clients_update_need_h(t, &a, dw_clients_hash(t, &a), 1001, first, 1u << 0, judge_copy,
	                         &v);
	ok(v.counts[0] == 4 && v.counts[1] == 0 && v.counts[2] == 0,
	   "next second, need {0}: the judge sees 4, 0, 0 (got %u %u %u)", v.counts[0], v.counts[1],
	   v.counts[2]);
	memset(&got, 0, sizeof(got));
	is_int(dw_clients_get(t, &a, 1001, &got), 1, "the client is there");
	ok(got.counts[0] == 4 && got.counts[1] == 2 && got.counts[2] == 3,
	   "the counters the judge did not read kept counting: 4, 2, 3 (got %u %u %u)",
	   got.counts[0], got.counts[1], got.counts[2]);
	dw_clients_free(t);
}

/* Flood-proof eviction: who is protected, the fallback, pins, narrow slots. */
static void test_protection(void)
{
	struct dw_clients_conf c = conf_of(8, 1);
	struct dw_clients *t = dw_clients_new(&c, NULL, 0);
	const uint16_t mx[3] = {1, 0, 0};
	struct dw_addr worm = v4(10, 9, 9, 9), pc = v4(10, 9, 9, 8), p = v4(10, 9, 9, 7);
	struct dw_client_view v;
	struct dw_clients_stats st;
	int kept = 1;

	dw_clients_update(t, &worm, 100, mx, NULL, NULL);
	dw_clients_touch(t, &pc, 100, NULL);
	is_int(dw_clients_touch(t, &worm, 100, NULL), DW_CLIENTS_ACTIVE,
	       "touch: a client with counts is active");
	is_int(dw_clients_touch(t, &pc, 100, NULL), 0, "touch: a plain client is not");
	/* a flood of 1000 plain sources a second into 8 places, while the worm
	 * keeps counting one MX a second */
	for (uint32_t s = 0; s < 20 && kept; s++) {
		for (uint32_t i = 0; i < 1000; i++) {
			struct dw_addr x = nth(s * 1000 + i);

			dw_clients_touch(t, &x, 101 + s, NULL);
		}
		dw_clients_update(t, &worm, 101 + s, mx, NULL, NULL);
		kept = dw_clients_get(t, &worm, 101 + s, &v) == 1 && v.counts[0] == s + 2;
	}
	ok(kept && v.first_seen == 100, "a worm with counts survives 20000 flood sources (mx=%u)",
	   v.counts[0]);
	ok(dw_clients_get(t, &pc, 121, &v) == 0, "the plain client was evicted by the flood");
	dw_clients_stats(t, &st);
	ok(st.spared > 0 && st.forced == 0, "stats: spared %llu, forced %llu",
	   (unsigned long long)st.spared, (unsigned long long)st.forced);
	/* once its counts left every window (600 s, 10 s, 86400 s), it is fair game */
	for (uint32_t i = 0; i < 100; i++) {
		struct dw_addr x = nth(50000 + i);

		dw_clients_touch(t, &x, 120 + 86400 + 700, NULL);
	}
	ok(dw_clients_get(t, &worm, 120 + 86400 + 700, &v) == 0,
	   "without counts in any window the worm can be evicted");
	dw_clients_free(t);

	/* all protected: the flood's one-query sources go, not the busy one */
	t = dw_clients_new(&c, NULL, 0);
	for (int i = 0; i < 5; i++)
		dw_clients_update(t, &worm, 200, mx, NULL, NULL);
	for (uint32_t i = 0; i < 5000; i++) {
		struct dw_addr x = nth(i);

		dw_clients_update(t, &x, 200 + i / 100, mx, NULL, NULL);
	}
	ok(dw_clients_get(t, &worm, 250, &v) == 1 && v.counts[0] == 5,
	   "a flood of counted queries evicts its own sources, not the busy client");
	dw_clients_stats(t, &st);
	ok(st.forced > 0 && st.tracked == 8, "stats: forced %llu", (unsigned long long)st.forced);
	dw_clients_free(t);

	/* a pinned (blocked) client stays while pinned */
	t = dw_clients_new(&c, NULL, 0);
	ok(dw_clients_pin(t, &p, 300, 400) == DW_CLIENTS_NEW, "pin inserts");
	for (uint32_t i = 0; i < 1000; i++) {
		struct dw_addr x = nth(i);

		dw_clients_touch(t, &x, 300 + i / 100, NULL);
	}
	ok(dw_clients_get(t, &p, 310, &v) == 1, "a pinned client survives a flood");
	for (uint32_t i = 0; i < 100; i++) {
		struct dw_addr x = nth(9000 + i);

		dw_clients_touch(t, &x, 401, NULL);
	}
	ok(dw_clients_get(t, &p, 401, &v) == 0, "after the pin, it can go");
	dw_clients_free(t);

	/* narrow (8-bit) counters: 8 bytes, saturate at 255 a slot */
	c = conf_of(8, 1);
	c.narrow[0] = 1;
	c.narrow[2] = 1;
	t = dw_clients_new(&c, NULL, 0);
	const uint16_t all[3] = {1, 1, 1};
	uint32_t crossed_at = 0;

	for (uint32_t i = 1; i <= 300; i++) {
		dw_clients_update(t, &worm, 500, all, NULL, NULL);
		dw_clients_get(t, &worm, 500, &v);
		if (crossed_at == 0 && v.counts[0] >= 255)
			crossed_at = i;
	}
	ok(v.counts[0] == 255 && v.counts[1] == 300 && v.counts[2] == 255 && crossed_at == 255,
	   "narrow counters saturate at 255 a slot (exact below: crossed at %u), wide at 300",
	   crossed_at);
	dw_clients_update(t, &worm, 600, all, NULL, NULL);
	dw_clients_get(t, &worm, 600, &v);
	ok(v.counts[0] == 256 && v.counts[1] == 1 && v.counts[2] == 255,
	   "a new slot counts on (600 s: %u, 10 s: %u), a saturated one does not (86400 s)",
	   v.counts[0], v.counts[1]);
	/* same second, only counter 1 bumped: the others are read in place */
	const uint16_t mid[3] = {0, 1, 0};
	struct dw_client_view seen;

	dw_clients_update(t, &worm, 600, mid, judge_copy, &seen);
	ok(seen.counts[0] == 256 && seen.counts[1] == 2 && seen.counts[2] == 255,
	   "the judge sees unbumped counters read in place (%u %u %u)", seen.counts[0],
	   seen.counts[1], seen.counts[2]);
	dw_clients_stats(t, &st);
	is_int((int)st.entry_bytes, 40 + 16 + 8 + 8, "entry: 40 + one wide + two narrow counters");
	dw_clients_free(t);

	/* the same for wide counters (600 s: 8 slots, summed in place) */
	c = conf_of(8, 1);
	t = dw_clients_new(&c, NULL, 0);
	const uint16_t big[3] = {300, 0, 0};

	for (int i = 0; i < 300; i++)
		dw_clients_update(t, &worm, 1000 + (uint32_t)i * 2, big, NULL, NULL);
	dw_clients_update(t, &worm, 1598, mid, judge_copy, &seen);
	dw_clients_get(t, &worm, 1598, &v);
	/* counted: t >= 1050 (slot 14 of 75 s onwards at slot 21): i >= 25 */
	ok(seen.counts[0] == 275 * 300 && v.counts[0] == 275 * 300 && seen.counts[1] == 1,
	   "wide counters read in place: %u, as get: %u", seen.counts[0], v.counts[0]);
	dw_clients_free(t);
}

int main(void)
{
	test_conf();
	test_basic();
	test_ipv6();
	test_eviction();
	test_foreach();
	test_protection();
	test_need();
	test_threads(2);
	test_threads(4);
	test_flood_threads();
	return done_testing();
}
