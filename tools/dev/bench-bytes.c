/**
 * \file
 * bench-bytes — bytes per tracked client at the default configuration (not
 * a test): the client table laid out exactly as the engine lays it out for
 * the default detectors (dw_detect_init() on dw_conf_defaults()), filled
 * with N distinct clients that each sent one counted query (an MX query), so
 * every entry holds counts. Prints key=value lines:
 *   bytes_per_client_table  the table's own accounting (dw_clients_stats)
 *   bytes_per_client_rss    growth of the process RSS / N
 *   entry_bytes, counters   the layout
 *
 * Usage: bench-bytes [clients]   (default 1000000 = clients.max's default)
 */
#include "bench-common.h"
#include "clients.h"
#include "conf.h"
#include "detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fill the table as the engine would for n MX queries from n clients. */
int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
	struct dw_conf *conf = dw_conf_defaults();
	struct dw_detect d;
	struct dw_clients_conf cc;
	struct dw_features f;
	uint16_t inc[DW_CLIENTS_MAX_COUNTERS];
	char err[256];

	if (conf == NULL || n == 0 || n > conf->clients_max) {
		fprintf(stderr, "bench-bytes: usage: bench-bytes [1..clients.max]\n");
		return 1;
	}
	if (dw_detect_init(&d, conf, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-bytes: %s\n", err);
		return 1;
	}
	memset(&cc, 0, sizeof(cc));
	cc.max = conf->clients_max;
	cc.ipv6_prefix = conf->ipv6_prefix;
#ifdef DW_CLIENTS_HAS_LAYOUT
	dw_detect_clients_conf(&d, &cc);
#else
	cc.ncounters = d.ncounters;
	dw_detect_windows(&d, cc.window);
#endif
	memset(&f, 0, sizeof(f));
	f.qclass = DW_Q_MX;
	dw_detect_increments(&d, &f, inc);

	long long rss0 = bench_rss_bytes();
	struct dw_clients *t = dw_clients_new(&cc, err, sizeof(err));

	if (t == NULL) {
		fprintf(stderr, "bench-bytes: %s\n", err);
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct dw_addr a;

		memset(&a, 0, sizeof(a));
		a.family = 4;
		a.b[0] = 10;
		a.b[1] = (uint8_t)(i >> 16);
		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		if (dw_clients_update(t, &a, 1000, inc, NULL, NULL) < 0) {
			fprintf(stderr, "bench-bytes: update failed\n");
			return 1;
		}
	}
	long long rss1 = bench_rss_bytes();
	struct dw_clients_stats st;

	dw_clients_stats(t, &st);
	printf("bytes_clients=%u\n", n);
	printf("bytes_counters=%u\n", (unsigned)d.ncounters);
	printf("bytes_entry_bytes=%u\n", st.entry_bytes);
	printf("bytes_tracked=%llu\n", (unsigned long long)st.tracked);
	printf("bytes_per_client_table=%.1f\n", (double)st.bytes / (double)n);
	printf("bytes_per_client_rss=%.1f\n", (double)(rss1 - rss0) / (double)n);
	dw_clients_free(t);
	dw_conf_free(conf);
	return 0;
}
