/**
 * \file
 * The benchmarks' clock and resident-set reading (bench-common.h).
 */
#include "bench-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/** CLOCK_MONOTONIC as a double. */
double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** The kernel's own accounting: the VmRSS line, in kB. */
long long bench_rss_bytes(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtoll(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}
