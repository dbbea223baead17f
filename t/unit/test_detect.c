/**
 * \file
 * Unit tests of detect.c: each detector on a synthetic timeline, through the
 * real feature extraction and client table (no resolver).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "conf.h"
#include "detect.h"
#include "feature.h"
#include "tap.h"

enum { T_A = 1, T_PTR = 12, T_MX = 15, T_AAAA = 28 };

static struct dw_conf *conf;
static struct dw_feature_set *fs;
static struct dw_detect det;
static struct dw_clients *tbl;
static struct dw_clients *twin; /* the same queries, judged by every detector */
static int plan_differs;        /* queries where the two judged differently */
static int asked;
static struct dw_exempt *exempt;

/** Set one detector's threshold and window. */
static void tune(enum dw_detector d, uint32_t threshold, uint32_t window)
{
	conf->det[d].enabled = true;
	conf->det[d].threshold = threshold;
	conf->det[d].window = window;
}

/** (Re)build features, detectors and table from conf. */
static void build(void)
{
	struct dw_clients_conf cc;
	char err[256];
	dw_feature_set_free(fs);
	dw_clients_free(tbl);
	fs = dw_feature_set_new((const char *const *)conf->keywords, conf->keyword_count,
				(const char *const *)conf->signatures, conf->signature_count, err,
				sizeof(err));
	dw_exempt_free(exempt);
	exempt = dw_exempt_new(conf);
	if (!fs || !exempt || dw_detect_init(&det, conf, exempt, err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	memset(&cc, 0, sizeof(cc));
	cc.max = 1000;
	cc.ipv6_prefix = 64;
	cc.ncounters = det.ncounters;
	dw_detect_windows(&det, cc.window);
	tbl = dw_clients_new(&cc, err, sizeof(err));
	dw_clients_free(twin);
	twin = dw_clients_new(&cc, err, sizeof(err));
	if (!tbl || !twin) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
}

/** One query from client at time t; returns the detectors that fired. */
static uint16_t ask(const char *client, const char *name, uint16_t qtype, uint32_t t)
{
	struct dw_addr a;
	struct dw_features f;
	struct dw_judgement j;
	uint8_t wire[256];
	uint16_t inc[DW_CLIENTS_MAX_COUNTERS];
	int len = dw_name_from_text(name, wire, sizeof(wire));
	if (dw_addr_parse(client, &a) != 0 || len < 0 ||
	    dw_features_of(fs, wire, (size_t)len, qtype, &f) != 0) {
		printf("Bail out! bad test input %s %s\n", client, name);
		exit(1);
	}
	struct dw_judgement full;
	uint32_t need, incmask = dw_detect_increments_mask(&det, &f, inc);
	/* as the engine: only the detectors the increments can change */
	memset(&j, 0, sizeof(j));
	j.d = &det;
	j.inc = inc;
	j.only = dw_detect_plan(&det, incmask, &need);
	dw_clients_update_need_h(tbl, &a, dw_clients_hash(tbl, &a), t, inc, need, dw_detect_judge,
	                         &j);
	/* every detector on every query, as before the plan */
	memset(&full, 0, sizeof(full));
	full.d = &det;
	full.inc = inc;
	dw_clients_update(twin, &a, t, inc, dw_detect_judge, &full);
	plan_differs += j.fired != full.fired;
	asked++;
	return j.fired;
}

/** n MX queries for distinct victim domains; returns the OR of what fired. */
static uint16_t mx_burst(const char *client, int n, uint32_t t)
{
	uint16_t fired = 0;
	char name[64];
	int i;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d.victim.lab", i);
		fired |= ask(client, name, T_MX, t);
	}
	return fired;
}

#define BIT(d) ((uint16_t)(1u << (d)))

int main(void)
{
	struct dw_cidr ex;
	struct dw_verdict v[DW_DET_COUNT];
	struct dw_judgement j;
	uint16_t f;
	int i;

	conf = dw_conf_defaults();
	tune(DW_DET_MX_WORM, 5, 60);
	tune(DW_DET_SPAM_RELAY, 5, 60);
	tune(DW_DET_MX_KEYWORD_SCAN, 4, 3600);
	tune(DW_DET_IP_LITERAL, 3, 3600);
	tune(DW_DET_PTR_FLOOD, 10, 8);
	tune(DW_DET_PTR_FORWARD_IP, 2, 600);
	tune(DW_DET_SIGNATURE_NAMES, 1, 3600);
	dw_cidr_parse("127.0.25.0/24", &ex);
	conf->exempt = &ex;
	conf->exempt_count = 1;
	build();

	/* counters are shared between detectors that need the same one */
	is_int(det.ncounters, 7, "mx and ptr at 60 s shared by mx_worm and spam_relay: 7 counters, not 9");

	/* mx_worm: just under, at, and past the threshold */
	is_int(mx_burst("10.0.0.1", 4, 100), 0, "mx_worm: 4 MX (threshold 5) fire nothing");
	is_int(ask("10.0.0.1", "d99.victim.lab", T_MX, 101), BIT(DW_DET_MX_WORM),
	       "mx_worm: the 5th MX fires mx_worm alone");
	is_int(mx_burst("10.0.0.1", 20, 102), 0, "mx_worm fires once per crossing");
	/* window 60 = 8 slots of 8 s: all gone once 64 s have passed */
	is_int(ask("10.0.0.1", "d1.victim.lab", T_MX, 200), 0,
	       "after the window, one MX is under the threshold (re-armed)");
	is_int(mx_burst("10.0.0.1", 4, 201), BIT(DW_DET_MX_WORM),
	       "a new crossing after falling back fires again");

	/* exempt: counted, never judged */
	is_int(mx_burst("127.0.25.25", 50, 100), 0, "exempt mail server: 50 MX fire nothing");
	{
		struct dw_addr a;
		struct dw_client_view cv;
		dw_addr_parse("127.0.25.25", &a);
		ok(dw_clients_get(tbl, &a, 100, &cv) == 1 && cv.counts[det.main[DW_DET_MX_WORM]] == 50,
		   "exempt client is still counted (50 MX)");
	}

	/* spam relay: MX with PTR */
	is_int(ask("10.0.0.2", "7.2.0.192.in-addr.arpa", T_PTR, 100), 0, "one PTR fires nothing");
	is_int(mx_burst("10.0.0.2", 5, 101), BIT(DW_DET_SPAM_RELAY),
	       "PTR + 5 MX: spam_relay, not mx_worm");
	/* reclassification: a worm that starts asking PTR becomes a relay */
	is_int(mx_burst("10.0.0.3", 5, 100), BIT(DW_DET_MX_WORM), "5 MX, no PTR: mx_worm");
	is_int(ask("10.0.0.3", "8.2.0.192.in-addr.arpa", T_PTR, 101), BIT(DW_DET_SPAM_RELAY),
	       "then a PTR: spam_relay fires");

	/* mx_keyword_scan: A/AAAA whose first label starts with a keyword */
	f = 0;
	f |= ask("10.0.0.4", "mail.d1.victim.lab", T_A, 100);
	f |= ask("10.0.0.4", "smtp-out.d2.victim.lab", T_A, 100);
	f |= ask("10.0.0.4", "mx1.d3.victim.lab", T_AAAA, 100);
	f |= ask("10.0.0.4", "www.d3.victim.lab", T_A, 100);
	f |= ask("10.0.0.4", "webmail.d3.victim.lab", T_A, 100);
	is_int(f, 0, "3 keyword queries (threshold 4), www and webmail do not count");
	is_int(ask("10.0.0.4", "relay.d4.victim.lab", T_A, 100), BIT(DW_DET_MX_KEYWORD_SCAN),
	       "4th keyword query fires mx_keyword_scan");

	/* ip_literal: A queries for IPv4 literals */
	f = ask("10.0.0.5", "192.0.2.1", T_A, 100) | ask("10.0.0.5", "192.0.2.2", T_A, 100) |
	    ask("10.0.0.5", "192.0.2.3", T_AAAA, 100) | ask("10.0.0.5", "192.0.2.256", T_A, 100);
	is_int(f, 0, "2 literals (AAAA and 192.0.2.256 do not count): nothing");
	is_int(ask("10.0.0.5", "198.51.100.7", T_A, 100), BIT(DW_DET_IP_LITERAL),
	       "3rd literal fires ip_literal");

	/* ptr_flood over an 8 s window (exact sliding window, 1 s slots) */
	f = 0;
	for (i = 0; i < 9; i++) {
		char n[64];
		snprintf(n, sizeof(n), "%d.2.0.192.in-addr.arpa", i);
		f |= ask("10.0.0.6", n, T_PTR, 100 + (uint32_t)i);
	}
	is_int(f, 0, "9 PTR in 9 s (threshold 10 in 8 s): nothing");
	is_int(ask("10.0.0.6", "9.2.0.192.in-addr.arpa", T_PTR, 108) & BIT(DW_DET_PTR_FLOOD), 0,
	       "the 10th PTR at t=108: the one from t=100 has left the 8 s window");
	f = 0;
	for (i = 0; i < 10; i++)
		f |= ask("10.0.0.7", "1.2.0.192.in-addr.arpa", T_PTR, 300);
	ok((f & BIT(DW_DET_PTR_FLOOD)) != 0, "10 PTR in one second fire ptr_flood");

	/* ptr_forward_ip */
	is_int(ask("10.0.0.8", "192.0.2.10", T_PTR, 100) & BIT(DW_DET_PTR_FORWARD_IP), 0,
	       "one forward-order PTR: nothing");
	ok(ask("10.0.0.8", "192.0.2.11", T_PTR, 100) & BIT(DW_DET_PTR_FORWARD_IP),
	   "second forward-order PTR fires ptr_forward_ip");

	/* signature_names: threshold 1 */
	is_int(ask("10.0.0.9", "A.ROOT-SERVERS.NET", T_A, 100), BIT(DW_DET_SIGNATURE_NAMES),
	       "a root-server name asked by a PC fires signature_names (case-insensitive)");
	is_int(ask("10.0.0.9", "b.root-servers.net", T_A, 101), 0, "and only once per crossing");

	/* verdict records */
	memset(&j, 0, sizeof(j));
	j.d = &det;
	{
		struct dw_addr a;
		uint16_t inc[DW_CLIENTS_MAX_COUNTERS] = {0};
		dw_addr_parse("10.0.0.10", &a);
		inc[det.main[DW_DET_MX_WORM]] = 7;
		dw_clients_update(tbl, &a, 500, inc, dw_detect_judge, &j);
	}
	is_int(dw_detect_verdicts(&j, v), 1, "one verdict record");
	is_int(v[0].detector, DW_DET_MX_WORM, "verdict: detector");
	is_int(v[0].count, 7, "verdict: the detector's count");
	is_int(v[0].ptr, 0, "verdict: PTR count");
	is_int(v[0].first_seen, 500, "verdict: first seen");

	/* a disabled detector never fires */
	conf->det[DW_DET_MX_WORM].enabled = false;
	build();
	is_int(mx_burst("10.0.0.1", 50, 100), 0, "mx_worm disabled: 50 MX fire nothing");
	is_int(det.main[DW_DET_MX_WORM], -1, "disabled detector has no counter");

	dw_clients_free(tbl);
	dw_feature_set_free(fs);
	/* run-time exemption changes */
	dw_exempt_free(exempt);
	exempt = dw_exempt_new(conf);
	{
		struct dw_cidr c;
		struct dw_addr a;
		dw_cidr_parse("10.9.0.0/16", &c);
		dw_addr_parse("10.9.1.2", &a);
		ok(!dw_exempt_match(exempt, &a) && dw_exempt_add(exempt, &c) == 1 &&
		       dw_exempt_match(exempt, &a),
		   "exempt_add at run time covers the prefix");
		is_int(dw_exempt_add(exempt, &c), 0, "adding twice is a no-op");
		ok(dw_exempt_remove(exempt, &ex) == 1 && !dw_exempt_match(exempt, &ex.addr),
		   "a config prefix can be removed at run time");
	}
	dw_exempt_free(exempt);
	ok(asked > 100 && plan_differs == 0,
	   "judging only the planned detectors fired as judging all of them on all %d queries "
	   "(%d differed)",
	   asked, plan_differs);
	conf->exempt = NULL;
	conf->exempt_count = 0;
	dw_conf_free(conf);
	return done_testing();
}
