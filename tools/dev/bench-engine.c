/**
 * \file
 * Benchmark of the engine's per-query entry point, dw_engine_observe() (not a
 * test): nanoseconds per query for a realistic query mix, over 1,000 hot
 * clients and over 1,000,000 clients, with one and with two threads. Prints
 * key=value lines.
 *
 * The engine is the real one: dw_conf_defaults() (every detector on, 1,000,000
 * tracked clients, 16,384 suspects, observe mode) without state file and
 * control socket, its own thread running, and a log sink that only counts
 * lines. Queries are made on the fly from a 1,000-entry mix (see build_mix())
 * and a client number, so the harness touches no large array of its own; its
 * cost (an xorshift and a table read, a few ns) is measured separately and
 * printed as harness_ns_per_query. Each figure is the median of 3 passes. The
 * engine's clock is the real one: a run spans seconds, so windows hardly move
 * and thresholds cross once per client and detector (the verdicts go through
 * the ring and the module's thread to the sink, as in Unbound).
 *
 * --callgrind N runs exactly N queries over the hot clients (or the 1,000,000
 * with "1m"), after an uninstrumented warm-up, between
 * CALLGRIND_START_INSTRUMENTATION and CALLGRIND_STOP_INSTRUMENTATION when
 * <valgrind/callgrind.h> exists:
 *   valgrind --tool=callgrind --instr-atstart=no \
 *            --toggle-collect=dw_engine_observe tools/dev/bench-engine --callgrind N
 * then the total Ir divided by N is the instructions per dw_engine_observe().
 *
 * Build: make (tools/dev/bench-engine, with bench-common.c, against the
 * engine library).
 * Usage: bench-engine [queries]         (per pass; default 2000000)
 *        bench-engine --callgrind N [hot|1m]
 * Run time at the default: about 15 seconds; peak RSS about 200 MB.
 */
#include "bench-common.h"
#include "conf.h"
#include "engine.h"
#include "feature.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* callgrind's client requests when valgrind's header is there (gcc and
 * clang know __has_include in C11 mode; other checkers see the fallback) */
#if defined(__GNUC__) && defined(__has_include)
#if __has_include("valgrind/callgrind.h")
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND_H 1
#endif
#endif
#ifndef HAVE_CALLGRIND_H
#define CALLGRIND_START_INSTRUMENTATION                                                            \
	do {                                                                                       \
	} while (0)
#define CALLGRIND_STOP_INSTRUMENTATION                                                             \
	do {                                                                                       \
	} while (0)
#endif

/** Entries of the query mix; per-mille weights below add up to it. */
#define MIX 1000u
/** Hot clients of the "hot" population. */
#define HOT 1000u
/** Clients of the large population: the default clients.max. */
#define BIG 1000000u
/** Longest wire name the mix holds. */
#define WIRE_MAX DW_NAME_MAXWIRE

/** One query of the mix, in wire form as the Unbound adapter hands it in. */
struct mixq {
	uint8_t wire[WIRE_MAX];
	uint8_t len; /* including the final zero byte */
	uint16_t qtype;
};

/** Shared by the workers: the engine, the mix and the client population. */
struct bench {
	struct dw_engine *e;
	struct mixq mix[MIX];
	uint32_t clients; /* queries go to clients 0 .. clients-1 */
};

/** How a measurement spreads its queries. */
enum how {
	HARNESS = 0, /**< the harness alone, no engine call */
	SHARED,      /**< every thread asks for any client of the population */
	SPLIT        /**< each thread has its own part of the population */
};

/** One measuring thread. */
struct worker {
	const struct bench *b;
	uint64_t queries, seed;
	uint32_t base, span; /* clients base .. base+span-1 */
	int observe;         /* 0: the harness alone (no engine call) */
	double secs;
	uint64_t sink; /* keeps the harness-only loop from being optimised away */
};

/** The engine's log sink: count the line in *arg (an atomic_ulong), write
 *  nothing. Thread-safe. */
static void log_sink(void *arg, int prio, const char *line)
{
	(void)prio, (void)line;
	atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
}

/**
 * Presentation name to uncompressed wire form (feature.h), or exit.
 * \param text "www.campus.test" (no final dot).
 * \param q receives wire and len.
 */
static void set_name(const char *text, struct mixq *q)
{
	int n = dw_name_from_text(text, q->wire, sizeof(q->wire));

	if (n < 0) {
		fprintf(stderr, "bench-engine: bad mix name %s\n", text);
		exit(1);
	}
	q->len = (uint8_t)n;
}

/**
 * The query mix, per mille: a campus client's ordinary lookups with a little of
 * everything the detectors count.
 *   560 A and 250 AAAA for ordinary names (campus hosts, CDN/web names of
 *       2..4 labels), 40 HTTPS (type 65) for the same names;
 *    50 MX dN.victim.lab, 60 PTR N.2.0.192.in-addr.arpa (a well-formed host
 *       reverse name), 30 A for keyword names (mail7.campus.test, smtp…,
 *       mx…, ns…, relay…, gate…), 10 A for IPv4 literals (192.0.2.N).
 * \param mix filled with MIX entries in a shuffled order.
 */
static void build_mix(struct mixq *mix)
{
	static const char *const plain[] = {
	    "www.campus.test",  "portal.campus.test", "lib.campus.test",   "www.shop.test",
	    "www.corp.lab",     "api.example.com",    "www.example.org",   "static.example.net",
	    "img.news.example", "cdn.video.example",  "login.sso.example", "time.example.com",
	};
	static const char *const kw[] = {"mail", "smtp", "mx", "ns", "relay", "gate"};
	char name[128];
	uint64_t s = 0x2545f4914f6cdd1dULL;
	unsigned i = 0, k;

	for (k = 0; k < 850; k++, i++) { /* A, AAAA, HTTPS over ordinary names */
		unsigned v = (unsigned)(bench_xorshift(&s) % 64);

		if (k % 3 == 0)
			snprintf(name, sizeof(name), "%s", plain[v % 12]);
		else
			snprintf(name, sizeof(name), "www%u.site%u.example.com", v, k % 97);
		set_name(name, &mix[i]);
		mix[i].qtype = k < 560 ? 1 : k < 810 ? 28 : 65;
	}
	for (k = 0; k < 50; k++, i++) {
		snprintf(name, sizeof(name), "d%u.victim.lab", k);
		set_name(name, &mix[i]);
		mix[i].qtype = 15;
	}
	for (k = 0; k < 60; k++, i++) {
		snprintf(name, sizeof(name), "%u.2.0.192.in-addr.arpa", k * 4);
		set_name(name, &mix[i]);
		mix[i].qtype = 12;
	}
	for (k = 0; k < 30; k++, i++) {
		snprintf(name, sizeof(name), "%s%u.campus.test", kw[k % 6], k);
		set_name(name, &mix[i]);
		mix[i].qtype = 1;
	}
	for (k = 0; k < 10; k++, i++) {
		snprintf(name, sizeof(name), "192.0.2.%u", 10 + k);
		set_name(name, &mix[i]);
		mix[i].qtype = 1;
	}
	/* shuffle, so that consecutive mix indices are not of one kind */
	for (k = MIX - 1; k > 0; k--) {
		unsigned j = (unsigned)(bench_xorshift(&s) % (k + 1));
		struct mixq t = mix[k];

		mix[k] = mix[j];
		mix[j] = t;
	}
}

/**
 * One random query of the mix from one random client of a range.
 * \param b the bench.
 * \param r a fresh random number.
 * \param base first client number of the range.
 * \param span clients in the range (>= 1).
 * \param q filled (client, qname, qtype; NOERROR from the cache).
 */
static inline void make_query(const struct bench *b, uint64_t r, uint32_t base, uint32_t span,
                              struct dw_query *q)
{
	const struct mixq *m = &b->mix[(uint32_t)(r >> 40) % MIX];

	bench_source(base + (uint32_t)((r & 0xffffffffu) % span), &q->client);
	q->qname = m->wire;
	q->qname_len = m->len;
	q->qtype = m->qtype;
	q->rcode = 0;
	q->source = DW_SRC_CACHE;
}

/** Worker thread: w->queries random queries, timed. */
static void *work(void *arg)
{
	struct worker *w = arg;
	const struct bench *b = w->b;
	uint64_t s = w->seed, sink = 0;
	struct dw_query q;
	double t0 = bench_now();

	if (w->observe) {
		for (uint64_t i = 0; i < w->queries; i++) {
			make_query(b, bench_xorshift(&s), w->base, w->span, &q);
			dw_engine_observe(b->e, &q);
		}
	} else {
		for (uint64_t i = 0; i < w->queries; i++) {
			make_query(b, bench_xorshift(&s), w->base, w->span, &q);
			/* an opaque use of q, so the loop does what the other does */
			__asm__ __volatile__("" : : "r"(&q) : "memory");
			sink += q.qname_len;
		}
	}
	w->secs = bench_now() - t0;
	w->sink = sink;
	return NULL;
}

/** Repetitions of each measurement; the median is printed. */
#define REPS 3

/** Median of REPS values (sorts them). */
static double median(double *v)
{
	for (int i = 1; i < REPS; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[REPS / 2];
}

/**
 * One timed pass: `queries` queries spread over n threads.
 * \param b the bench (engine and population).
 * \param n threads, 1 or 2.
 * \param queries total over all threads.
 * \param how HARNESS, SHARED or SPLIT.
 * \param rep repetition number (varies the random stream).
 * \param lat receives the mean ns per call as the threads saw it.
 * \return wall-clock ns per query over all threads.
 */
static double pass(const struct bench *b, int n, uint64_t queries, enum how how, int rep,
                   double *lat)
{
	pthread_t th[2];
	struct worker w[2];
	double sum = 0, t0 = bench_now();

	for (int i = 0; i < n; i++) {
		w[i].b = b;
		w[i].queries = queries / (uint64_t)n;
		w[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1 + 2 * rep) + b->clients;
		w[i].base = how == SPLIT ? b->clients / (uint32_t)n * (uint32_t)i : 0;
		w[i].span = how == SPLIT ? b->clients / (uint32_t)n : b->clients;
		w[i].observe = how != HARNESS;
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
			fprintf(stderr, "bench-engine: pthread_create failed\n");
			exit(1);
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		sum += w[i].secs / (double)w[i].queries;
	}
	*lat = sum / n * 1e9;
	return (bench_now() - t0) / (double)queries * 1e9;
}

/**
 * Measure REPS passes and print the medians as key=value lines:
 * engine_ns_per_query_NAME (ns per call as a thread sees it) and, for two
 * threads, the aggregate engine_throughput_ns_per_query_NAME and qps.
 * \param b the bench.
 * \param n threads, 1 or 2.
 * \param queries per pass, over all threads.
 * \param how HARNESS, SHARED or SPLIT.
 * \param name key suffix ("1thread_hot").
 * \return the median wall-clock ns per query.
 */
static double run(const struct bench *b, int n, uint64_t queries, enum how how, const char *name)
{
	double lat[REPS], wall[REPS];

	for (int r = 0; r < REPS; r++)
		wall[r] = pass(b, n, queries, how, r, &lat[r]);
	double l = median(lat), t = median(wall);

	if (how == HARNESS) {
		printf("harness_ns_per_query=%.1f\n", l);
	} else {
		printf("engine_ns_per_query_%s=%.1f\n", name, l);
		if (n > 1) {
			printf("engine_throughput_ns_per_query_%s=%.1f\n", name, t);
			printf("engine_qps_%s=%.0f\n", name, 1e9 / t);
		}
	}
	return t;
}

/**
 * An engine with the default configuration and the counting log sink.
 * \param conf receives the config (free after the engine).
 * \param lines the sink's line counter.
 * \return the engine; exits on failure.
 */
static struct dw_engine *make_engine(struct dw_conf **conf, atomic_ulong *lines)
{
	char err[DW_CONF_ERRLEN];
	struct dw_engine *e;

	*conf = dw_conf_defaults();
	if (*conf == NULL) {
		fprintf(stderr, "bench-engine: dw_conf_defaults: out of memory\n");
		exit(1);
	}
	/* a benchmark touches none of the resolver's files: no state file
	 * (default /var/lib/unbound/dnswarden.state), no control socket */
	free((*conf)->state_file);
	(*conf)->state_file = NULL;
	free((*conf)->control_socket);
	(*conf)->control_socket = NULL;
	/* the incident history only where told: DW_BENCH_INCIDENTS=FILE */
	free((*conf)->incidents_database);
	(*conf)->incidents_database =
		getenv("DW_BENCH_INCIDENTS") ? strdup(getenv("DW_BENCH_INCIDENTS")) : NULL;
	e = dw_engine_new(*conf, log_sink, lines, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "bench-engine: dw_engine_new: %s\n", err);
		exit(1);
	}
	if (dw_engine_start(e, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-engine: dw_engine_start: %s\n", err);
		exit(1);
	}
	return e;
}

/**
 * Bring every client of the population into the engine: one query each, in
 * order (a first query is an insert), then `extra` random ones.
 * \param b the bench.
 * \param extra random queries after the inserts.
 * \return seconds the inserts took.
 */
static double warm(const struct bench *b, uint64_t extra)
{
	struct dw_query q;
	uint64_t s = 0x853c49e6748fea9bULL;
	double t0 = bench_now(), secs;

	for (uint32_t n = 0; n < b->clients; n++) {
		make_query(b, bench_xorshift(&s), n, 1, &q);
		dw_engine_observe(b->e, &q);
	}
	secs = bench_now() - t0;
	for (uint64_t i = 0; i < extra; i++) {
		make_query(b, bench_xorshift(&s), 0, b->clients, &q);
		dw_engine_observe(b->e, &q);
	}
	return secs;
}

/**
 * The --callgrind mode: exactly n measured queries after a warm-up.
 * \param b the bench (engine made, clients set).
 * \param n queries between START and STOP.
 */
static void callgrind_run(const struct bench *b, uint64_t n)
{
	struct dw_query q;
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	warm(b, 50000);
	CALLGRIND_START_INSTRUMENTATION;
	for (uint64_t i = 0; i < n; i++) {
		make_query(b, bench_xorshift(&s), 0, b->clients, &q);
		dw_engine_observe(b->e, &q);
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("callgrind_queries=%llu\n", (unsigned long long)n);
	printf("callgrind_clients=%u\n", b->clients);
#ifdef HAVE_CALLGRIND_H
	printf("callgrind_macros=1\n"); /* run valgrind with --instr-atstart=no */
#else
	printf("callgrind_macros=0\n"); /* subtract a run with N=0 */
#endif
}

/** Print the usage line and return the usage exit status. */
static int usage(void)
{
	fprintf(stderr, "usage: bench-engine [queries >= 2]\n"
	                "       bench-engine --callgrind N [hot|1m]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct bench b; /* the mix is 256 KB: not on the stack */
	struct dw_conf *conf;
	atomic_ulong lines = 0; /* log lines the engines produced (verdicts, notes) */
	uint64_t queries = 2000000;
	char *end;

	build_mix(b.mix);
	if (argc > 1 && strcmp(argv[1], "--callgrind") == 0) {
		if (argc < 3 || argc > 4)
			return usage();
		uint64_t n = strtoull(argv[2], &end, 10);

		if (*end != '\0' ||
		    (argc == 4 && strcmp(argv[3], "hot") != 0 && strcmp(argv[3], "1m") != 0))
			return usage();
		b.clients = argc == 4 && strcmp(argv[3], "1m") == 0 ? BIG : HOT;
		b.e = make_engine(&conf, &lines);
		callgrind_run(&b, n);
		dw_engine_free(b.e);
		dw_conf_free(conf);
		return 0;
	}
	if (argc > 2)
		return usage();
	if (argc == 2) {
		queries = strtoull(argv[1], &end, 10);
		if (*end != '\0' || queries < 2)
			return usage();
	}
	printf("engine_mix=A:560,AAAA:250,HTTPS:40,MX:50,PTR:60,keyword_A:30,literal_A:10\n");
	printf("engine_queries_per_pass=%llu\n", (unsigned long long)queries);

	/* (a) 1,000 hot clients: all in the CPU caches, the steady state */
	b.clients = HOT;
	b.e = make_engine(&conf, &lines);
	run(&b, 1, queries, HARNESS, "harness");
	warm(&b, 100000);
	double one = run(&b, 1, queries, SHARED, "1thread_hot");
	double two = run(&b, 2, queries, SHARED, "2threads_hot");

	printf("engine_scaling_2threads_hot=%.2f\n", one / two);
	/* the same with each thread on its own 500 clients: what sharing costs */
	two = run(&b, 2, queries, SPLIT, "2threads_hot_split");
	printf("engine_scaling_2threads_hot_split=%.2f\n", one / two);
	dw_engine_free(b.e);
	dw_conf_free(conf);

	/* (b) 1,000,000 clients: a full table, nearly every lookup misses the caches */
	long long rss0 = bench_rss_bytes();

	b.clients = BIG;
	b.e = make_engine(&conf, &lines);
	double fill = warm(&b, 0);

	printf("engine_ns_per_insert_1m=%.1f\n", fill / BIG * 1e9);
	one = run(&b, 1, queries, SHARED, "1thread_1m");
	two = run(&b, 2, queries, SHARED, "2threads_1m");
	printf("engine_scaling_2threads_1m=%.2f\n", one / two);
	printf("engine_rss_delta_1m_bytes=%lld\n", bench_rss_bytes() - rss0);
	dw_engine_free(b.e);
	dw_conf_free(conf);
	printf("engine_log_lines=%lu\n", atomic_load(&lines));
	return 0;
}
