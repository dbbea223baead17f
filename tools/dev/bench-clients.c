/**
 * \file
 * Benchmark of the client table (not a test): memory per tracked client at
 * campus scale, cost of one dw_clients_update(), and memory under a flood of
 * spoofed sources. Prints key=value lines.
 *
 * Each phase runs in a forked child so that its RSS delta (VmRSS of
 * /proc/self/status) is not blurred by what the allocator kept from the
 * previous phase. Peak RSS is about 150 MB; run time about 15 seconds.
 *
 * Build: make (tools/dev/bench-clients, with bench-common.c, against the
 * engine library).
 * Usage: bench-clients [clients] [updates]   (defaults 1000000, 10000000)
 */
#include "bench-common.h"
#include "clients.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The six counters of the default detectors: MX, keyword A, IPv4 literal,
 * PTR, forward PTR, signature hits, with their default windows. */
static const uint32_t windows[6] = {600, 3600, 3600, 60, 600, 86400};

struct bench {
	uint32_t clients;
	uint64_t updates;
	struct dw_addr *addrs; /* the tracked population */
	struct dw_clients *tbl;
};

/* A judge as cheap as the real detectors: thresholds, once per crossing. */
static uint16_t judge(void *arg, const struct dw_client_view *v)
{
	static const uint32_t thr[6] = {50, 500, 500, 1000, 100, 1};
	uint16_t f = v->flags;
	unsigned *fired = arg;

	for (unsigned i = 0; i < 6; i++) {
		uint16_t bit = (uint16_t)(1u << i);

		if (v->counts[i] >= thr[i] && !(f & bit)) {
			f |= bit;
			(*fired)++;
		} else if (v->counts[i] < thr[i]) {
			f &= (uint16_t)~bit;
		}
	}
	return f;
}

static struct dw_clients *make_table(uint32_t max)
{
	struct dw_clients_conf c;
	char err[200];

	memset(&c, 0, sizeof(c));
	c.max = max;
	c.ipv6_prefix = 64;
	c.ncounters = 6;
	memcpy(c.window, windows, sizeof(windows));
	struct dw_clients *t = dw_clients_new(&c, err, sizeof(err));

	if (t == NULL) {
		fprintf(stderr, "bench-clients: %s\n", err);
		exit(1);
	}
	return t;
}

/* Worker: `updates` updates of random tracked clients; one query type per
 * update like real traffic (mostly nothing counted, sometimes one counter). */
struct worker {
	const struct bench *b;
	uint64_t updates, seed;
	uint32_t hot; /* 0: whole population, else only the first `hot` clients */
	double secs;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct bench *b = w->b;
	uint64_t s = w->seed;
	unsigned fired = 0;
	uint32_t pop = w->hot ? w->hot : b->clients;
	double t0 = bench_now();

	for (uint64_t i = 0; i < w->updates; i++) {
		uint64_t r = bench_xorshift(&s);
		uint16_t inc[6] = {0};

		inc[(r >> 40) % 8 < 6 ? (r >> 40) % 8 : 0] = (uint16_t)((r >> 48) % 8 == 0);
		dw_clients_update(b->tbl, &b->addrs[(r >> 8) % pop], 1000000 + (uint32_t)(i >> 20),
		                  inc, judge, &fired);
	}
	w->secs = bench_now() - t0;
	return NULL;
}

/* ns per update with n threads sharing the work. Prints per-call latency seen
 * by each thread and the aggregate throughput. */
static void run_threads(const struct bench *b, int n, uint32_t hot, const char *name)
{
	pthread_t th[8];
	struct worker w[8];
	double t0 = bench_now();

	for (int i = 0; i < n; i++) {
		w[i].b = b;
		w[i].updates = b->updates / (uint64_t)n;
		w[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		w[i].hot = hot;
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	double lat = 0;

	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		lat += w[i].secs / (double)w[i].updates;
	}
	double wall = bench_now() - t0;

	printf("%s_ns=%.1f\n", name, lat / n * 1e9);
	printf("%s_throughput_ns=%.1f\n", name, wall / (double)b->updates * 1e9);
}

/* Collect the tracked clients as the update phase's population. */
struct collect {
	struct dw_addr *addrs;
	uint32_t n, max;
};

static int collect(void *arg, const struct dw_client_view *v)
{
	struct collect *c = arg;

	if (c->n < c->max)
		c->addrs[c->n++] = v->addr;
	return 0;
}

/* Phase 1: fill a table to exactly its cap, account memory, time updates. */
static void phase_fill(uint32_t clients, uint64_t updates)
{
	struct bench b;
	struct dw_clients_stats st;
	struct dw_addr a;
	uint32_t n = 0;

	b.updates = updates;
	b.addrs = malloc((size_t)clients * sizeof(*b.addrs));
	if (b.addrs == NULL) {
		perror("bench-clients");
		exit(1);
	}
	/* fault the population array in before the baseline */
	memset(b.addrs, 0, (size_t)clients * sizeof(*b.addrs));
	long long rss0 = bench_rss_bytes();
	double t0 = bench_now();

	b.tbl = make_table(clients);
	/* shards fill unevenly: keep adding new sources until every shard is
	 * full, so the figures are for exactly `clients` tracked */
	do {
		for (uint32_t end = n + (n < clients ? clients : 10000); n < end; n++) {
			bench_source(n, &a);
			dw_clients_update(b.tbl, &a, 1000000, NULL, NULL, NULL);
		}
		dw_clients_stats(b.tbl, &st);
	} while (st.tracked < clients);
	double fill = bench_now() - t0;
	long long rss1 = bench_rss_bytes();

	printf("clients=%llu\n", (unsigned long long)st.tracked);
	printf("fill_sources=%u\n", n);
	printf("counters=6\n");
	printf("shards=%u\n", st.shards);
	printf("entry_bytes=%u\n", st.entry_bytes);
	printf("table_bytes=%llu\n", (unsigned long long)st.bytes);
	printf("bytes_per_client_table=%.1f\n", (double)st.bytes / (double)st.tracked);
	printf("rss_delta_bytes=%lld\n", rss1 - rss0);
	printf("bytes_per_client_rss=%.1f\n", (double)(rss1 - rss0) / (double)st.tracked);
	printf("insert_ns=%.1f\n", fill / n * 1e9);

	struct collect c = {b.addrs, 0, clients};

	dw_clients_foreach(b.tbl, 1000000, collect, &c);
	b.clients = c.n;
	run_threads(&b, 1, 0, "update_1thread");
	run_threads(&b, 2, 0, "update_2threads");
	run_threads(&b, 1, 1000, "update_hot1000_1thread");
	run_threads(&b, 2, 1000, "update_hot1000_2threads");
	dw_clients_free(b.tbl);
	free(b.addrs);
}

/* Phase 2: 2 × cap distinct spoofed sources; memory must stop at the cap. */
static void phase_flood(uint32_t cap)
{
	struct dw_clients_stats st;
	struct dw_addr a;
	const uint16_t inc[6] = {1, 0, 0, 0, 0, 0};
	long long rss0 = bench_rss_bytes(), rss_cap = 0;
	struct dw_clients *t = make_table(cap);
	double t0 = bench_now();

	for (uint32_t i = 0; i < 2 * cap; i++) {
		bench_source(i, &a);
		dw_clients_update(t, &a, 2000000 + i / 100000, inc, NULL, NULL);
		if (i + 1 == cap)
			rss_cap = bench_rss_bytes();
	}
	double secs = bench_now() - t0;
	long long rss1 = bench_rss_bytes();

	dw_clients_stats(t, &st);
	printf("flood_sources=%u\n", 2 * cap);
	printf("flood_tracked=%llu\n", (unsigned long long)st.tracked);
	printf("flood_evictions=%llu\n", (unsigned long long)st.evictions);
	printf("flood_table_bytes=%llu\n", (unsigned long long)st.bytes);
	printf("flood_rss_delta_at_cap_bytes=%lld\n", rss_cap - rss0);
	printf("flood_rss_delta_after_bytes=%lld\n", rss1 - rss0);
	printf("flood_rss_bytes=%lld\n", rss1);
	printf("flood_insert_evict_ns=%.1f\n", secs / (2.0 * cap) * 1e9);
	dw_clients_free(t);
}

/* Run one phase in a child so each starts from a fresh heap. */
static int in_child(void (*fn)(uint32_t, uint64_t), uint32_t a, uint64_t b)
{
	int status;

	fflush(stdout);
	pid_t pid = fork();

	if (pid < 0) {
		perror("bench-clients: fork");
		return -1;
	}
	if (pid == 0) {
		fn(a, b);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

static void flood_adapter(uint32_t cap, uint64_t unused)
{
	(void)unused;
	phase_flood(cap);
}

int main(int argc, char **argv)
{
	uint32_t clients = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	uint64_t updates = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;

	if (clients < 1 || clients > DW_CLIENTS_MAX || updates < 2) {
		fprintf(stderr, "usage: bench-clients [clients 1..%u] [updates >= 2]\n",
		        DW_CLIENTS_MAX);
		return 2;
	}
	printf("rss_start_bytes=%lld\n", bench_rss_bytes());
	if (in_child(phase_fill, clients, updates) != 0 || in_child(flood_adapter, clients, 0) != 0)
		return 1;
	return 0;
}
