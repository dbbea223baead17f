/**
 * \file
 * Benchmark of the upstream observation path (not a unit test): worker
 * threads hand upstream events to the real engine at a fixed rate, the
 * module's own thread feeds them to the real whitelist, and the program
 * prints how many were pushed, learned and dropped, and the cost of one
 * push. Prints key=value lines; exits 1 when any event was dropped (so a
 * test or CI can hold it to "0 drops").
 *
 * The events are what a resolver with a cold cache produces: per upstream
 * query one DW_UP_QUERY event (server, zone: as unbound_upstream.c sends it,
 * through dw_engine_upstream_query()), and for every fourth one a referral
 * response (2 NS records and their glue, through dw_engine_upstream()),
 * over 50,000 zones and 1,000 servers, so the whitelist keeps inserting,
 * refreshing and evicting.
 *
 * Usage: bench-upstream [RATE [SECONDS [THREADS]]]
 *   RATE     events a second over all threads (default 60000; 0 = as fast
 *            as the threads can push: the queue's capacity)
 *   SECONDS  how long the producers run (default 3)
 *   THREADS  producer threads, like Unbound's num-threads (default 4)
 */
#include "conf.h"
#include "engine.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long rate = 60000, seconds = 3, nthreads = 4;
static struct dw_engine *eng;
static atomic_ulong pushed, push_ns;

/** A log sink that keeps the engine's lines off the benchmark's output
 *  except upstream_dropped, which is the point. */
static void log_sink(void *arg, int prio, const char *line)
{
	(void)arg, (void)prio;
	if (strstr(line, "event=upstream_dropped"))
		fprintf(stderr, "%s\n", line);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** The i-th server address: 1,000 of them in 198.51.100.0/22 style. */
static void server_of(uint64_t i, struct dw_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->b[0] = 198;
	a->b[1] = 51;
	a->b[2] = (uint8_t)(100 + (i % 1000) / 250);
	a->b[3] = (uint8_t)(i % 250 + 1);
}

/** One producer: paced pushes until the time is up. */
static void *producer(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg, n = 0, t0 = now_ns(), end, spent = 0;
	uint64_t per_thread = rate / nthreads, x = 88172645463325252ull ^ id;
	struct dw_upstream *u = calloc(1, sizeof(*u)); /* 8.9 KB: off the stack */
	char zone[64];
	end = t0 + seconds * 1000000000ull;
	if (!u)
		return NULL;
	for (;;) {
		uint64_t t = now_ns(), zi, a;
		struct dw_addr server;
		if (t >= end)
			break;
		if (per_thread && n * 1000000000ull / per_thread > t - t0) {
			struct timespec ts = {0, 50000}; /* ahead of schedule: 50 µs */
			nanosleep(&ts, NULL);
			continue;
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		zi = x % 50000;
		server_of(x >> 20, &server);
		snprintf(zone, sizeof(zone), "zone%llu.bench.test.", (unsigned long long)zi);
		a = now_ns();
		if (n % 4 != 3) {
			dw_engine_upstream_query(eng, &server, zone);
		} else {
			unsigned k;
			u->kind = DW_UP_RESPONSE;
			u->server = server;
			u->zone[0] = '\0';
			u->nrr = 4;
			for (k = 0; k < 2; k++) {
				struct dw_up_rr *ns = &u->rr[k], *glue = &u->rr[2 + k];
				ns->type = 2;
				ns->ttl = 3600;
				snprintf(ns->owner, sizeof(ns->owner), "%s", zone);
				snprintf(ns->nsname, sizeof(ns->nsname), "ns%u.%s", k, zone);
				glue->type = 1;
				glue->ttl = 3600;
				snprintf(glue->owner, sizeof(glue->owner), "ns%u.%s", k, zone);
				server_of(zi * 2 + k, &glue->addr);
			}
			dw_engine_upstream(eng, u);
		}
		spent += now_ns() - a;
		n++;
	}
	atomic_fetch_add(&pushed, n);
	atomic_fetch_add(&push_ns, spent);
	free(u);
	return NULL;
}

int main(int argc, char **argv)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *conf;
	pthread_t th[64];
	uint64_t learned = 0, dropped = 0, t0, t1, deadline;
	unsigned long i;

	if (argc > 1)
		rate = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		seconds = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		nthreads = strtoul(argv[3], NULL, 10);
	if (seconds == 0 || seconds > 600 || nthreads == 0 || nthreads > 64) {
		fprintf(stderr, "usage: bench-upstream [RATE [SECONDS(1-600) [THREADS(1-64)]]]\n");
		return 2;
	}
	conf = dw_conf_defaults();
	if (!conf) {
		fprintf(stderr, "bench-upstream: out of memory\n");
		return 1;
	}
	free(conf->state_file); /* touch none of the resolver's files */
	conf->state_file = NULL;
	free(conf->control_socket);
	conf->control_socket = NULL;
	eng = dw_engine_new(conf, log_sink, NULL, err, sizeof(err));
	if (!eng || dw_engine_start(eng, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-upstream: %s\n", err);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, producer, (void *)(uintptr_t)(i + 1));
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	t1 = now_ns();
	deadline = t1 + 5000000000ull; /* let the module's thread catch up */
	do {
		struct timespec ts = {0, 10000000};
		dw_engine_upstream_counts(eng, &learned, &dropped);
		if (learned + dropped >= atomic_load(&pushed))
			break;
		nanosleep(&ts, NULL);
	} while (now_ns() < deadline);
	printf("upstream_threads=%lu\n", nthreads);
	printf("upstream_target_rate=%lu\n", rate);
	printf("upstream_pushed=%lu\n", atomic_load(&pushed));
	printf("upstream_rate=%.0f\n", (double)atomic_load(&pushed) * 1e9 / (double)(t1 - t0));
	printf("upstream_learned=%llu\n", (unsigned long long)learned);
	printf("upstream_dropped=%llu\n", (unsigned long long)dropped);
	printf("upstream_push_ns=%.0f\n",
	       atomic_load(&pushed) ? (double)atomic_load(&push_ns) / (double)atomic_load(&pushed)
	                            : 0.0);
	printf("upstream_drain_ms=%.0f\n", (double)(now_ns() - t1) / 1e6);
	dw_engine_free(eng);
	dw_conf_free(conf);
	return dropped ? 1 : 0;
}
