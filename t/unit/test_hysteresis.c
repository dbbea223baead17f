/**
 * \file
 * Unit tests of the detectors' hysteresis (detect.h): one verdict per
 * offence, re-arming below the re-arm level or at the end of a block,
 * forwarders judged with their factor; and the ladder's new offence while
 * blocked (policy.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "detect.h"
#include "policy.h"
#include "tap.h"

static struct dw_conf *conf;
static struct dw_detect det;

/** Only ptr_flood on, with threshold and re-arm level (0 = default). */
static void build(uint32_t threshold, uint32_t rearm)
{
	char err[256];
	unsigned i;
	for (i = 0; i < DW_DET_COUNT; i++)
		conf->det[i].enabled = false;
	conf->det[DW_DET_PTR_FLOOD].enabled = true;
	conf->det[DW_DET_PTR_FLOOD].threshold = threshold;
	conf->det[DW_DET_PTR_FLOOD].window = 60;
	conf->det[DW_DET_PTR_FLOOD].rearm = rearm;
	if (dw_detect_init(&det, conf, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "dw_detect_init: %s\n", err);
		exit(1);
	}
}

/** The shipped detectors. */
static void build_defaults(void)
{
	struct dw_conf *d = dw_conf_defaults();
	char err[256];
	memcpy(conf->det, d->det, sizeof(conf->det));
	dw_conf_free(d);
	if (dw_detect_init(&det, conf, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "dw_detect_init: %s\n", err);
		exit(1);
	}
}

/** One client, as the table keeps it between queries. */
struct client {
	struct dw_client_view v;
};

/** One counted query (inc 1) or one uncounted judge (inc 0) that leaves the
 *  ptr_flood count at count; returns whether it fired, *fwd its forwarder
 *  mark, *thr the verdict's threshold. */
static int step(struct client *c, uint32_t count, uint16_t inc, int *fwd, uint32_t *thr)
{
	struct dw_judgement j;
	uint16_t incs[DW_CLIENTS_MAX_COUNTERS] = {0};
	struct dw_verdict out[DW_DET_COUNT];
	memset(&j, 0, sizeof(j));
	j.d = &det;
	incs[det.main[DW_DET_PTR_FLOOD]] = inc;
	j.inc = incs;
	c->v.ncounters = det.ncounters;
	c->v.counts[det.main[DW_DET_PTR_FLOOD]] = count;
	c->v.flags = dw_detect_judge(&j, &c->v);
	if (j.fired && dw_detect_verdicts(&j, out) == 1) {
		if (fwd)
			*fwd = out[0].forwarder;
		if (thr)
			*thr = out[0].threshold;
	}
	return j.fired != 0;
}

/** A fresh client at addr. */
static void client(struct client *c, const char *addr)
{
	memset(c, 0, sizeof(*c));
	dw_addr_parse(addr, &c->v.addr);
}

static void hovering(void)
{
	struct client c;
	unsigned i, fired = 0;
	build(10, 0);
	is_int(det.rearm[DW_DET_PTR_FLOOD], 5, "default re-arm level: half the threshold");
	client(&c, "192.0.2.1");
	for (i = 1; i <= 10; i++)
		fired += (unsigned)step(&c, i, 1, NULL, NULL);
	is_int(fired, 1, "rising to the threshold: one verdict");
	/* hover: a window slot drops some, new queries bring it back, many times */
	fired = 0;
	for (i = 0; i < 50; i++) {
		fired += (unsigned)step(&c, 7 + i % 3, 1, NULL, NULL); /* before: 6 7 8 */
		fired += (unsigned)step(&c, 10, 1, NULL, NULL);
	}
	is_int(fired, 0, "hovering between 6 and 10 for 50 slots: no second verdict");
	/* the counted query that takes it from 5 (before) to 6 does not re-arm */
	fired = (unsigned)step(&c, 6, 1, NULL, NULL);
	fired += (unsigned)step(&c, 10, 1, NULL, NULL);
	is_int(fired, 0, "a count of 5 before the query is not below the re-arm level 5");
	/* below the re-arm level (4 before the query), then crossing again */
	fired = (unsigned)step(&c, 5, 1, NULL, NULL);
	is_int(fired, 0, "falling to 4 re-arms without a verdict");
	for (i = 6; i <= 10; i++)
		fired += (unsigned)step(&c, i, 1, NULL, NULL);
	is_int(fired, 1, "the next crossing after re-arming: a second verdict");
	/* an uncounted judge with the count decayed to 3 re-arms too */
	ok(!step(&c, 3, 0, NULL, NULL), "decayed to 3: no verdict");
	ok(step(&c, 10, 1, NULL, NULL), "and a jump back over the threshold is a third");
}

static void explicit_levels(void)
{
	struct client c;
	unsigned i, fired = 0;
	build(10, 10); /* re-arm level = threshold: every dip re-arms */
	client(&c, "192.0.2.2");
	for (i = 0; i < 5; i++) {
		fired += (unsigned)step(&c, 10, 1, NULL, NULL);
		fired += (unsigned)step(&c, 9, 0, NULL, NULL);
	}
	is_int(fired, 5, "rearm: 10 with threshold 10: each dip to 9 re-arms");
	build(1, 0);
	is_int(det.rearm[DW_DET_PTR_FLOOD], 1, "threshold 1: re-arm level 1 (count back to 0)");
	client(&c, "192.0.2.3");
	ok(step(&c, 1, 1, NULL, NULL), "threshold 1: the first query fires");
	ok(!step(&c, 2, 1, NULL, NULL), "a second query: quiet");
	ok(!step(&c, 1, 0, NULL, NULL), "decayed to 1: quiet");
	ok(step(&c, 1, 1, NULL, NULL),
	   "after the window emptied (0 before the query): fires again");
}

static void block_end(void)
{
	struct client c;
	build(10, 0);
	client(&c, "192.0.2.4");
	ok(step(&c, 10, 1, NULL, NULL), "crossing: verdict");
	ok(!step(&c, 11, 1, NULL, NULL), "above the threshold: quiet");
	c.v.flags = dw_detect_rearm_all(NULL, &c.v);
	is_int(c.v.flags & DW_DETECT_FLAGS_FIRED, 0, "the end of the block re-arms every detector");
	ok(step(&c, 12, 1, NULL, NULL), "still above the threshold after the block: a new offence");
}

static void forwarders(void)
{
	struct dw_cidr fwd[1];
	struct dw_clients_conf cc;
	struct client c, plain;
	uint32_t thr = 0;
	unsigned i, fired = 0;
	int isfwd = -1;
	dw_cidr_parse("198.51.100.0/24", &fwd[0]);
	conf->forwarders = fwd;
	conf->forwarder_count = 1;
	conf->forwarder_factor = 3;
	build(10, 0);
	client(&c, "198.51.100.7");
	client(&plain, "192.0.2.5");
	for (i = 1; i < 30; i++)
		fired += (unsigned)step(&c, i, 1, NULL, NULL);
	is_int(fired, 0, "a forwarder below 3 x 10: no verdict");
	ok(c.v.flags & DW_DETECT_FLAG_FORWARDER, "and it is known as a forwarder now");
	ok(step(&c, 30, 1, &isfwd, &thr), "a forwarder at 3 x 10: a verdict");
	is_int(isfwd, 1, "marked forwarder=1");
	is_int(thr, 30, "with the forwarder's threshold");
	ok(!step(&c, 16, 1, NULL, NULL) && !step(&c, 30, 1, NULL, NULL),
	   "15 before the query is not below its re-arm level 3 x 5");
	ok(!step(&c, 15, 1, NULL, NULL), "14 before the query re-arms it");
	ok(step(&c, 30, 1, NULL, NULL), "and the next crossing of 30 is a new verdict");
	isfwd = -1;
	ok(step(&plain, 10, 1, &isfwd, &thr), "a plain client at 10: a verdict");
	is_int(isfwd, 0, "not marked forwarder");
	is_int(thr, 10, "with the plain threshold");
	/* a forwarder's counters must count to factor x threshold exactly */
	conf->det[DW_DET_PTR_FLOOD].threshold = 100;
	build(100, 0);
	dw_detect_clients_conf(&det, &cc);
	ok(!cc.narrow[det.main[DW_DET_PTR_FLOOD]], "threshold 100 x 3 needs wide slots");
	conf->forwarders = NULL;
	conf->forwarder_count = 0;
	build(100, 0);
	dw_detect_clients_conf(&det, &cc);
	ok(cc.narrow[det.main[DW_DET_PTR_FLOOD]], "without forwarders 100 fits narrow slots");
}

/** Bytes of one client entry with the default detectors. */
static uint32_t entry_bytes(void)
{
	struct dw_clients_conf cc = {.max = 64, .ipv6_prefix = 64};
	struct dw_clients_stats st;
	struct dw_clients *t;
	char err[256];
	build_defaults();
	dw_detect_clients_conf(&det, &cc);
	t = dw_clients_new(&cc, err, sizeof(err));
	if (!t)
		return 0;
	dw_clients_stats(t, &st);
	dw_clients_free(t);
	return st.entry_bytes;
}

static void budget(void)
{
	struct dw_cidr fwd[1];
	is_int(entry_bytes(), 120, "default detectors: 120 B a client");
	dw_cidr_parse("198.51.100.0/24", &fwd[0]);
	conf->forwarders = fwd;
	conf->forwarder_count = 1;
	conf->forwarder_factor = 10;
	is_int(entry_bytes(), 128, "with forwarders (factor 10): 128 B, the MX counter is wide");
	conf->forwarders = NULL;
	conf->forwarder_count = 0;
}

static void ladder(void)
{
	struct dw_policy *p = dw_policy_new(conf);
	struct dw_addr a;
	struct dw_block b;
	dw_addr_parse("192.0.2.9", &a);
	conf->policy_ladder_factor = 2;
	dw_policy_offence(p, &a, DW_ACT_NXDOMAIN, 60, DW_DET_PTR_FLOOD, 1000, &b);
	is_int(b.offences, 1, "first offence");
	is_int(b.duration, 60, "first block: the detector's duration");
	dw_policy_offence(p, &a, DW_ACT_NXDOMAIN, 60, DW_DET_PTR_FLOOD, 1010, &b);
	is_int(b.offences, 2, "a new offence while blocked climbs the ladder");
	is_int(b.duration, 120, "and doubles the duration");
	is_int(b.expires, 1130, "from now");
	is_int(dw_policy_active(p), 1, "still one active block");
	dw_policy_block(p, &a, DW_ACT_NXDOMAIN, 60, -1, 1020, &b);
	is_int(b.offences, 2, "a replacement (manual block) while blocked is not an offence");
	memset(&b, 0, sizeof(b));
	ok(dw_policy_get(p, &a, &b) == 1 && b.active && b.created == 1020,
	   "dw_policy_get: the entry in force");
	dw_addr_parse("192.0.2.10", &a);
	ok(dw_policy_get(p, &a, &b) == 0, "dw_policy_get: none for another client");
	dw_policy_free(p);
}

/** Load yaml from a temporary file; NULL with err filled on error. */
static struct dw_conf *load(const char *yaml, char *err, size_t errlen)
{
	char path[] = "/tmp/dwhyst-XXXXXX";
	struct dw_conf *c;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "cannot write %s", path);
		return NULL;
	}
	fputs(yaml, f);
	fclose(f);
	c = dw_conf_load(path, err, errlen);
	unlink(path);
	return c;
}

static void settings(void)
{
	char err[DW_CONF_ERRLEN];
	struct dw_conf *c = load("detectors: {mx_worm: {threshold: 40, rearm: 30}}\n"
	                         "forwarders: {prefixes: [10.1.0.53/32, 2001:db8::/48], "
	                         "threshold_factor: 25}\n",
	                         err, sizeof(err));
	if (!ok(c != NULL, "rearm and forwarders load"))
		printf("# %s\n", err);
	if (c) {
		is_int(c->det[DW_DET_MX_WORM].rearm, 30, "detectors.mx_worm.rearm");
		is_int(dw_detect_rearm_level(&c->det[DW_DET_SPAM_RELAY]), 25,
		       "spam_relay's default re-arm level: 50 / 2");
		is_int(c->forwarder_count, 2, "forwarders.prefixes: two");
		is_int(c->forwarder_factor, 25, "forwarders.threshold_factor");
		dw_conf_free(c);
	}
	c = load("", err, sizeof(err));
	ok(c && c->forwarder_factor == 10 && c->forwarder_count == 0,
	   "defaults: no forwarders, factor 10");
	dw_conf_free(c);
	c = load("detectors: {ptr_flood: {threshold: 10, rearm: 11}}\n", err, sizeof(err));
	if (!ok(!c && strstr(err, "detectors.ptr_flood.rearm (11) must not be larger than its "
	                          "threshold (10)"),
	        "rearm above the threshold is refused"))
		printf("# %s\n", err);
	dw_conf_free(c);
	c = load("forwarders: {threshold_factor: 0}\n", err, sizeof(err));
	if (!ok(!c && strstr(err, "threshold_factor"), "threshold_factor 0 is refused"))
		printf("# %s\n", err);
	dw_conf_free(c);
	c = load("forwarders: {prefixes: [not-an-address]}\n", err, sizeof(err));
	if (!ok(!c, "a bad forwarder prefix is refused"))
		printf("# %s\n", err);
	dw_conf_free(c);
}

int main(void)
{
	conf = dw_conf_defaults();
	if (!conf)
		return 1;
	hovering();
	explicit_levels();
	block_end();
	forwarders();
	ladder();
	settings();
	budget();
	dw_conf_free(conf);
	return done_testing();
}
