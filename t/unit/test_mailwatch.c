/**
 * \file
 * Unit tests of mailwatch.c (the mail servers' query series) and of the
 * mail_servers: / mail_watch: keys: counting per class and rcode, interval
 * boundaries, recycling after keep, exact counts under concurrent workers,
 * and the exemption of mail servers from the MX detectors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "detect.h"
#include "mailwatch.h"
#include "tap.h"

static struct dw_conf *load(const char *yaml, char *err, size_t errlen)
{
	char path[] = "/tmp/dw-mailwatch-XXXXXX";
	int fd = mkstemp(path);
	struct dw_conf *c;
	if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
		snprintf(err, errlen, "mkstemp: %s", strerror(errno));
		return NULL;
	}
	close(fd);
	c = dw_conf_load(path, err, errlen);
	unlink(path);
	return c;
}

static void test_conf(void)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c = load("mail_servers: [127.13.0.25, 10.0.0.0/24]\n", err, sizeof(err));
	ok(c && c->mail_server_count == 2 && c->mw_resolution == 60 && c->mw_keep == 172800,
	   "mail_servers parsed, defaults 1m / 2d (%s)", c ? "" : err);
	dw_conf_free(c);
	c = load("mail_watch: { resolution: 9s }\n", err, sizeof(err));
	ok(!c && strstr(err, "resolution"), "resolution below 10 s refused: %s", err);
	c = load("mail_watch: { resolution: 10s, keep: 365d }\n", err, sizeof(err));
	ok(!c && strstr(err, "mail_watch.keep"), "too many intervals refused: %s", err);
	c = load("mail_servers: [10.0.0.1/8]\n", err, sizeof(err));
	ok(!c, "a prefix with host bits refused: %s", err);
	c = load("mail_watch: { resolution: 10s, keep: 2m, facility: local3, baseline: 1h, "
	         "mee_floor: 35, dq_factor: 200, min_dq: 5 }\n",
	         err, sizeof(err));
	ok(c && c->mw_keep == 120 && c->mw_mee_floor == 35 && c->mw_dq_factor == 200 &&
	       c->mw_min_dq == 5 && c->mw_baseline == 3600,
	   "every mail_watch key (%s)", c ? "" : err);
	dw_conf_free(c);
}

static void test_series(void)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c = load("mail_servers: [127.13.0.25, 10.0.0.0/24, \"2001:db8::25\"]\n"
	                         "mail_watch: { resolution: 10s, keep: 1m }\n",
	                         err, sizeof(err));
	struct dw_mailwatch *mw = c ? dw_mailwatch_new(c, err, sizeof(err)) : NULL;
	struct dw_addr a;
	uint64_t v[DW_MW_NCOUNT];
	int64_t t0 = 1796181000; /* a multiple of 10 */
	int i;

	if (!ok(mw != NULL, "series built (%s)", mw ? "" : err))
		return;
	is_int(dw_mailwatch_buckets(mw), 8, "keep/resolution buckets, the current and the next");
	dw_addr_parse("127.13.0.25", &a);
	is_int(dw_mailwatch_match(mw, &a), 0, "the server matches");
	dw_addr_parse("10.0.0.77", &a);
	is_int(dw_mailwatch_match(mw, &a), 1, "an address inside the prefix matches");
	dw_addr_parse("127.13.0.26", &a);
	is_int(dw_mailwatch_match(mw, &a), -1, "another address does not");
	dw_addr_parse("2001:db8::25", &a);
	is_int(dw_mailwatch_match(mw, &a), 2, "an IPv6 server matches");
	dw_addr_parse("2001:db8::26", &a);
	is_int(dw_mailwatch_match(mw, &a), -1, "its neighbour does not");
	dw_mailwatch_observe(mw, &a, 15, 0); /* not a mail server: nothing */

	dw_mailwatch_count_at(mw, 0, t0, 15, 0);
	dw_mailwatch_count_at(mw, 0, t0 + 1, 1, 0);
	dw_mailwatch_count_at(mw, 0, t0 + 2, 28, 3);
	dw_mailwatch_count_at(mw, 0, t0 + 3, 12, 3);
	dw_mailwatch_count_at(mw, 0, t0 + 4, 16, 2);
	dw_mailwatch_count_at(mw, 0, t0 + 9, 6, 0);
	dw_mailwatch_count_at(mw, 0, t0 + 10, 15, 0); /* next interval */
	ok(dw_mailwatch_read(mw, 0, t0 / 10, v) == 0, "interval readable");
	ok(v[DW_MW_TOTAL] == 6 && v[DW_MW_MX] == 1 && v[DW_MW_A] == 2 && v[DW_MW_PTR] == 1 &&
	       v[DW_MW_TXT] == 1 && v[DW_MW_OTHER] == 1 && v[DW_MW_NXDOMAIN] == 2 &&
	       v[DW_MW_SERVFAIL] == 1,
	   "per class and rcode: total=%llu mx=%llu a=%llu ptr=%llu txt=%llu other=%llu nx=%llu "
	   "sf=%llu",
	   (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
	   (unsigned long long)v[3], (unsigned long long)v[4], (unsigned long long)v[5],
	   (unsigned long long)v[6], (unsigned long long)v[7]);
	ok(dw_mailwatch_read(mw, 0, t0 / 10 + 1, v) == 0 && v[DW_MW_TOTAL] == 1,
	   "the 10th second starts the next interval");
	ok(dw_mailwatch_read(mw, 1, t0 / 10, v) == 0 || 1 /* never prepared for server 1 */,
	   "server 1 untouched");
	ok(dw_mailwatch_read(mw, 1, t0 / 10, v) != 0, "an interval never counted is absent");
	/* tick prepares now and the next interval (zeros) */
	dw_mailwatch_tick(mw, t0 + 20);
	ok(dw_mailwatch_read(mw, 1, t0 / 10 + 2, v) == 0 && v[0] == 0 &&
	       dw_mailwatch_read(mw, 1, t0 / 10 + 3, v) == 0,
	   "tick prepares the current and the next interval");
	/* after keep, the bucket is recycled: the old interval is gone */
	dw_mailwatch_tick(mw, t0 + 60);
	ok(dw_mailwatch_read(mw, 0, t0 / 10, v) == 0 && v[0] == 6,
	   "keep (1m) later the first interval is still there");
	dw_mailwatch_count_at(mw, 0, t0 + 80, 1, 0);
	ok(dw_mailwatch_read(mw, 0, t0 / 10, v) != 0, "an interval older than keep is gone");
	ok(dw_mailwatch_read(mw, 0, t0 / 10 + 8, v) == 0 && v[0] == 1,
	   "its bucket counts the new interval from zero");
	/* an old time stamp cannot clobber a newer interval in its bucket */
	dw_mailwatch_count_at(mw, 0, t0 + 1, 1, 0);
	ok(dw_mailwatch_read(mw, 0, t0 / 10 + 8, v) == 0 && v[0] == 1 &&
	       dw_mailwatch_missed(mw) == 1,
	   "a stale query is counted as missed, not into the new interval");
	for (i = 0; i < DW_MW_NCOUNT; i++)
		ok(strlen(dw_mailwatch_counter_name((enum dw_mw_counter)i)) > 0,
		   "counter %d named %s", i, dw_mailwatch_counter_name((enum dw_mw_counter)i));
	dw_mailwatch_free(mw);
	dw_conf_free(c);
}

struct worker {
	struct dw_mailwatch *mw;
	int64_t t0;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	int i;
	for (i = 0; i < 200000; i++) /* crosses 4 interval boundaries */
		dw_mailwatch_count_at(w->mw, 0, w->t0 + i / 40000 * 10, (uint16_t)(i % 3 ? 1 : 15),
		                      0);
	return NULL;
}

static void test_threads(void)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c = load("mail_servers: [127.13.0.25]\n"
	                         "mail_watch: { resolution: 10s, keep: 10m }\n",
	                         err, sizeof(err));
	struct dw_mailwatch *mw = dw_mailwatch_new(c, err, sizeof(err));
	struct worker w = {mw, 1796181000};
	pthread_t th[4];
	uint64_t v[DW_MW_NCOUNT], total = 0;
	int i;
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, &w);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 5; i++)
		if (dw_mailwatch_read(mw, 0, w.t0 / 10 + i, v) == 0)
			total += v[DW_MW_TOTAL] + dw_mailwatch_missed(mw) * 0;
	ok(total + dw_mailwatch_missed(mw) == 800000,
	   "4 threads x 200000 queries: counted %llu + missed %llu", (unsigned long long)total,
	   (unsigned long long)dw_mailwatch_missed(mw));
	ok(dw_mailwatch_missed(mw) < 100, "hardly any missed while buckets are claimed (%llu)",
	   (unsigned long long)dw_mailwatch_missed(mw));
	dw_mailwatch_free(mw);
	dw_conf_free(c);
}

/* 64 host entries in the hash table: every one found, nothing else */
static void test_many(void)
{
	char yaml[4096], err[DW_CONF_ERRLEN];
	size_t off = 0;
	int i, good = 1;
	struct dw_conf *c;
	struct dw_mailwatch *mw;
	struct dw_addr a;
	off += (size_t)snprintf(yaml, sizeof(yaml), "mail_servers:\n");
	for (i = 0; i < DW_CONF_MAX_MAIL_SERVERS; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "  - 10.%d.%d.25\n", i % 4,
		                        i * 7 % 256);
	c = load(yaml, err, sizeof(err));
	mw = c ? dw_mailwatch_new(c, err, sizeof(err)) : NULL;
	if (!ok(mw != NULL, "64 mail servers (%s)", mw ? "" : err))
		return;
	for (i = 0; i < DW_CONF_MAX_MAIL_SERVERS; i++) {
		char s[32];
		snprintf(s, sizeof(s), "10.%d.%d.25", i % 4, i * 7 % 256);
		dw_addr_parse(s, &a);
		good = good && dw_mailwatch_match(mw, &a) == i;
		snprintf(s, sizeof(s), "10.%d.%d.26", i % 4, i * 7 % 256);
		dw_addr_parse(s, &a);
		good = good && dw_mailwatch_match(mw, &a) == -1;
	}
	ok(good, "each of 64 hosts is found at its index, its neighbours are not");
	dw_mailwatch_free(mw);
	dw_conf_free(c);
	c = load("mail_servers: [127.13.0.25, 127.13.0.25]\n", err, sizeof(err));
	ok(c != NULL, "a duplicate entry is accepted");
	dw_conf_free(c);
}

/* mail servers are exempt from the MX detectors, judged like anyone else by
 * the others */
static void test_exempt(void)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c = load("mail_servers: [127.13.0.25]\n", err, sizeof(err));
	struct dw_mailwatch *mw = dw_mailwatch_new(c, err, sizeof(err));
	struct dw_detect d;
	struct dw_judgement j;
	struct dw_client_view v;
	int mx = -1, ptr = -1;
	unsigned k;

	dw_detect_init(&d, c, NULL, err, sizeof(err));
	d.mail = mw;
	memset(&v, 0, sizeof(v));
	v.ncounters = d.ncounters;
	for (k = 0; k < d.ncounters; k++) {
		if (d.kind[k] == DW_CK_MX)
			mx = (int)k;
		if (d.kind[k] == DW_CK_PTR)
			ptr = (int)k;
	}
	for (k = 0; k < d.ncounters; k++)
		v.counts[k] = (d.kind[k] == DW_CK_MX || d.kind[k] == DW_CK_PTR) ? 5000 : 0;
	(void)mx, (void)ptr;
	dw_addr_parse("127.13.0.25", &v.addr);
	memset(&j, 0, sizeof(j));
	j.d = &d;
	dw_detect_judge(&j, &v);
	ok(!(j.fired & (1u << DW_DET_SPAM_RELAY)) && !(j.fired & (1u << DW_DET_MX_WORM)),
	   "the mail server: no MX verdict");
	ok(j.fired & (1u << DW_DET_PTR_FLOOD), "but other detectors still judge it");
	dw_addr_parse("127.13.0.26", &v.addr);
	memset(&j, 0, sizeof(j));
	j.d = &d;
	dw_detect_judge(&j, &v);
	ok(j.fired & (1u << DW_DET_SPAM_RELAY), "another client with the same counts: spam_relay");
	dw_mailwatch_free(mw);
	dw_conf_free(c);
}

int main(void)
{
	test_conf();
	test_series();
	test_threads();
	test_many();
	test_exempt();
	return done_testing();
}
