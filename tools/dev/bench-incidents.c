/**
 * \file
 * bench-incidents: what one incident row costs the module's thread, written
 * to a real SQLite database in WAL mode (incidents.h): queueing a row, and
 * writing it in batches of 256 (a burst) and of 1 (one row per tick, the
 * worst case). Prints key=value lines for tools/dev/bench. The workers never
 * pay any of it: they only push the verdict into the verdict ring.
 *
 * Usage: bench-incidents [DIR]   (the database goes to DIR, default /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "incidents.h"

/** Monotonic nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** A verdict row with evidence of a realistic size (about 600 bytes). */
static void make_row(struct dw_incident *r, unsigned i)
{
	memset(r, 0, sizeof(*r));
	r->time = (int64_t)time(NULL);
	r->event = DW_INC_VERDICT;
	r->client.family = 4;
	r->client.b[0] = 10;
	r->client.b[1] = (uint8_t)(i >> 16);
	r->client.b[2] = (uint8_t)(i >> 8);
	r->client.b[3] = (uint8_t)i;
	r->prefix = 32;
	r->detector = DW_DET_MX_WORM;
	r->action = DW_ACT_NXDOMAIN;
	r->mode = DW_MODE_ENFORCE;
	r->duration = 3600;
	r->uid = -1;
	snprintf(r->backend, sizeof(r->backend), "rpz");
	snprintf(r->evidence, sizeof(r->evidence),
		 "{\"count\":20,\"threshold\":20,\"window\":600,\"first_seen\":\"2026-12-02T03:00:00Z\","
		 "\"counters\":{\"mx_600s\":20,\"ptr_600s\":0,\"keyword_3600s\":0,"
		 "\"ip_literal_3600s\":0},\"evidence_window\":3600,\"classes\":{\"a\":4,\"aaaa\":0,"
		 "\"mx\":20,\"ptr\":0,\"other\":0},\"names\":[\"d%u.victim.example.\","
		 "\"d17.victim.example.\",\"d2041.victim.example.\",\"d9931.victim.example.\","
		 "\"mx.victim.example.\",\"smtp.victim.example.\",\"d77.victim.example.\","
		 "\"b.root-servers.net.\"]}",
		 i);
}

/** Write n rows in batches of batch; ns per row of the store's own timing. */
static double run(const char *path, unsigned n, unsigned batch, double *add_ns)
{
	char err[256];
	struct dw_incident *row = malloc(sizeof(*row));
	struct dw_incidents *s = dw_incidents_new(path, 0, NULL, NULL, err, sizeof(err));
	struct dw_inc_stats st;
	uint64_t t_add = 0, t0;
	unsigned i;
	if (!s || !row) {
		fprintf(stderr, "bench-incidents: %s\n", s ? "out of memory" : err);
		exit(1);
	}
	dw_incidents_tick(s, 1); /* open, schema */
	for (i = 0; i < n; i++) {
		make_row(row, i);
		t0 = now_ns();
		dw_incidents_add(s, row);
		t_add += now_ns() - t0;
		if ((i + 1) % batch == 0 && dw_incidents_flush(s, 1) != 0) {
			fprintf(stderr, "bench-incidents: write failed\n");
			exit(1);
		}
	}
	dw_incidents_flush(s, 1);
	dw_incidents_stats(s, &st);
	dw_incidents_free(s);
	free(row);
	*add_ns = (double)t_add / n;
	return st.written ? (double)st.write_ns / (double)st.written : 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	double add_ns, ns;
	snprintf(path, sizeof(path), "%s/bench-incidents-%d.db", dir, (int)getpid());
	ns = run(path, 50000, 256, &add_ns);
	printf("incidents_queue_ns_per_row=%.0f\n", add_ns);
	printf("incidents_write_ns_per_row_batch256=%.0f\n", ns);
	printf("incidents_rows_per_second_batch256=%.0f\n", ns > 0 ? 1e9 / ns : 0);
	ns = run(path, 2000, 1, &add_ns);
	printf("incidents_write_ns_per_row_batch1=%.0f\n", ns);
	{
		char p[4200];
		unlink(path);
		snprintf(p, sizeof(p), "%s-wal", path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", path);
		unlink(p);
	}
	return 0;
}
