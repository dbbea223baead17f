/**
 * \file
 * Unit tests of policy.c (block list, ladder, expiry) and state.c (the state
 * file round trip, damaged files).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "exempt.h"
#include "policy.h"
#include "state.h"
#include "tap.h"

static struct dw_addr A(const char *s)
{
	struct dw_addr a;
	if (dw_addr_parse(s, &a) != 0) {
		printf("Bail out! bad address %s\n", s);
		exit(1);
	}
	return a;
}

static int count_cb(void *arg, const struct dw_block *b)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static int expired_n;
static void on_exp(void *arg, const struct dw_block *b)
{
	(void)arg, (void)b;
	expired_n++;
}

/* The sweep's shortcut (it walks only once something is due): a block
 * added, or an unblock made, after a sweep that found the next expiry far
 * away is still swept at its own time, to the second. */
static void test_sweep_shortcut(void)
{
	struct dw_conf *c = dw_conf_defaults();
	struct dw_policy *p = dw_policy_new(c);
	struct dw_addr a1 = A("10.9.0.1"), a2 = A("10.9.0.2"), a3 = A("10.9.0.3");
	int64_t t0 = 1700000000, window = (int64_t)c->policy_ladder_window;
	int n = 0;

	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 3600, DW_DET_MX_WORM, t0, NULL);
	is_int(dw_policy_expire(p, t0 + 1, on_exp, NULL), 0, "shortcut: nothing due 1 s in");
	dw_policy_block(p, &a2, DW_ACT_NXDOMAIN, 60, DW_DET_MX_WORM, t0 + 2, NULL);
	is_int(dw_policy_expire(p, t0 + 61, on_exp, NULL), 0,
	       "shortcut: the new block runs to t+62");
	is_int(dw_policy_expire(p, t0 + 62, on_exp, NULL), 1,
	       "shortcut: a block added after a sweep expires at its own second");
	is_int(dw_policy_expire(p, t0 + 3599, on_exp, NULL), 0, "shortcut: the first one not yet");
	is_int(dw_policy_expire(p, t0 + 3600, on_exp, NULL), 1,
	       "shortcut: the first one at t+3600");
	dw_policy_block(p, &a3, DW_ACT_NXDOMAIN, 0, DW_DET_MX_WORM, t0 + 3700, NULL);
	is_int(dw_policy_expire(p, t0 + 3701, on_exp, NULL), 0, "shortcut: a block without end");
	dw_policy_unblock(p, &a3, NULL);
	dw_policy_expire(p, t0 + 3702, on_exp, NULL);
	dw_policy_foreach(p, count_cb, &n);
	is_int(n, 3, "shortcut: history kept within the ladder window");
	dw_policy_expire(p, t0 + 3700 + window, on_exp, NULL);
	n = 0;
	dw_policy_foreach(p, count_cb, &n);
	is_int(n, 0, "shortcut: an unblocked entry's history ends at its own time too");
	dw_policy_free(p);
	dw_conf_free(c);
}

int main(void)
{
	struct dw_conf *c = dw_conf_defaults();
	struct dw_policy *p;
	struct dw_block b;
	struct dw_addr k, a1 = A("10.1.2.3"), a2 = A("10.1.2.4");
	uint8_t prefix;
	int64_t t0 = 1700000000;
	int n;

	c->policy_max_blocks = 3;
	p = dw_policy_new(c);
	is_int(dw_policy_lookup(p, &a1, t0), DW_ACT_LOG, "empty list: nothing blocked");

	/* first block, lookup, exact expiry */
	ok(dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 600, DW_DET_MX_WORM, t0, &b) == 0 &&
	       b.duration == 600 && b.offences == 1 && b.expires == t0 + 600,
	   "first block: 600 s, offence 1");
	is_int(dw_policy_lookup(p, &a1, t0 + 599), DW_ACT_NXDOMAIN, "in force one second before");
	is_int(dw_policy_lookup(p, &a1, t0 + 600), DW_ACT_LOG, "not in force at expiry");
	is_int(dw_policy_lookup(p, &a2, t0), DW_ACT_LOG, "another client is not blocked");
	is_int(dw_policy_active(p), 1, "one active block");

	/* replacement while active is not a new offence */
	dw_policy_block(p, &a1, DW_ACT_SINKHOLE, 600, DW_DET_MX_WORM, t0 + 10, &b);
	ok(b.offences == 1 && b.duration == 600 && b.action == DW_ACT_SINKHOLE,
	   "replacing an active block keeps the offence count, changes the action");
	is_int(dw_policy_active(p), 1, "still one active block");

	/* expiry, then the ladder */
	expired_n = 0;
	is_int(dw_policy_expire(p, t0 + 610, on_exp, NULL), 1, "sweep expires the block");
	is_int(expired_n, 1, "the callback heard of it");
	is_int(dw_policy_active(p), 0, "no active block");
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 600, DW_DET_MX_WORM, t0 + 1000, &b);
	ok(b.offences == 2 && b.duration == 1200, "second offence within a day: 2 × 600 s");
	dw_policy_unblock(p, &a1, NULL);
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 600, DW_DET_MX_WORM, t0 + 2000, &b);
	ok(b.offences == 3 && b.duration == 2400, "third offence: 4 × 600 s");
	c->policy_max_duration = 3000;
	dw_policy_unblock(p, &a1, NULL);
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 600, DW_DET_MX_WORM, t0 + 3000, &b);
	ok(b.offences == 4 && b.duration == 3000, "fourth: capped at policy.max_duration");
	dw_policy_unblock(p, &a1, NULL);
	dw_policy_block(p, &a1, DW_ACT_NXDOMAIN, 600, DW_DET_MX_WORM, t0 + 3000 + 86400 + 10, &b);
	ok(b.offences == 1 && b.duration == 600, "after the ladder window: back to offence 1");

	/* unblock */
	is_int(dw_policy_unblock(p, &a1, &b), 1, "unblock an active block");
	is_int(dw_policy_unblock(p, &a1, &b), 0, "unblock twice: nothing to do");
	is_int(dw_policy_lookup(p, &a1, t0 + 90000), DW_ACT_LOG, "unblocked client passes");

	/* manual, no expiry */
	dw_policy_block(p, &a2, DW_ACT_DROP, 0, -1, t0, &b);
	ok(b.expires == 0 && dw_policy_lookup(p, &a2, t0 + 10 * 86400) == DW_ACT_DROP,
	   "duration 0: until unblocked");

	/* cap: history is dropped to make room, active blocks are not */
	{
		struct dw_addr a3 = A("10.1.2.5"), a4 = A("10.1.2.6"), a5 = A("10.1.2.7");
		ok(dw_policy_block(p, &a3, DW_ACT_NXDOMAIN, 60, -1, t0 + 90000, NULL) == 0,
		   "third entry fits (cap 3)");
		dw_policy_unblock(p, &a3, NULL);
		ok(dw_policy_block(p, &a4, DW_ACT_NXDOMAIN, 60, -1, t0 + 90000, NULL) == 0,
		   "a fourth fits by dropping history");
		c->policy_max_blocks = 2;
		is_int(dw_policy_block(p, &a5, DW_ACT_NXDOMAIN, 60, -1, t0 + 90000, NULL), -1,
		       "full of active blocks: refused");
		c->policy_max_blocks = 100;
	}

	/* IPv6 aggregation */
	{
		struct dw_addr v6 = A("2001:db8:1:2::99"), v6b = A("2001:db8:1:2:ffff::1");
		dw_policy_key(p, &v6, &k, &prefix);
		dw_policy_block(p, &k, DW_ACT_NXDOMAIN, 60, -1, t0 + 90000, NULL);
		dw_policy_key(p, &v6b, &k, &prefix);
		ok(prefix == 64 && dw_policy_lookup(p, &k, t0 + 90001) == DW_ACT_NXDOMAIN,
		   "IPv6: another address of the same /64 is blocked too");
	}

	/* the state file round trip */
	{
		char path[] = "/tmp/dw-state-XXXXXX", err[256];
		struct dw_exempt *x = dw_exempt_new(c), *x2;
		struct dw_policy *p2 = dw_policy_new(c);
		struct dw_cidr ex;
		struct dw_state_report r;
		int fd = mkstemp(path), m = 0;
		FILE *f;
		close(fd);
		dw_cidr_parse("192.0.2.25/32", &ex);
		dw_exempt_add(x, &ex);
		ok(dw_state_save(path, p, x, NULL, err, sizeof(err)) == 0, "state saved");
		x2 = dw_exempt_new(c);
		ok(dw_state_load(path, p2, x2, NULL, t0 + 90001, &r, err, sizeof(err)) == 0 &&
		       dw_state_dropped(&r) == 0,
		   "state loaded, no bad line");
		n = 0;
		dw_policy_foreach(p, count_cb, &n);
		dw_policy_foreach(p2, count_cb, &m);
		ok(n == m && n > 0, "same number of entries after the round trip (%d)", m);
		ok(dw_policy_lookup(p2, &a2, t0 + 90001) == DW_ACT_DROP, "the manual block is back");
		ok(dw_exempt_match(x2, &ex.addr), "the run-time exemption is back");
		is_int(dw_policy_active(p2), dw_policy_active(p), "same active count");
		dw_policy_free(p2);
		dw_exempt_free(x2);

		/* damaged lines are skipped and counted; foreign files refused */
		f = fopen(path, "a");
		fputs("block 10.0.0.1/32 explode manual 1 1 1 1 1\ngarbage\n", f);
		fclose(f);
		p2 = dw_policy_new(c);
		x2 = dw_exempt_new(c);
		ok(dw_state_load(path, p2, x2, NULL, t0, &r, err, sizeof(err)) == 0 && r.malformed == 2,
		   "two damaged lines skipped and counted");
		ok(strstr(err, ":") != NULL, "the first reason names the line (%s)", err);
		dw_policy_free(p2);
		dw_exempt_free(x2);
		f = fopen(path, "w");
		fputs("hello\n", f);
		fclose(f);
		p2 = dw_policy_new(c);
		x2 = dw_exempt_new(c);
		ok(dw_state_load(path, p2, x2, NULL, t0, &r, err, sizeof(err)) == 0 && r.bad_header &&
		       r.malformed == 1 && r.loaded == 0,
		   "a file without the header: reported, nothing taken from it");
		unlink(path);
		is_int(dw_state_load(path, p2, x2, NULL, t0, &r, err, sizeof(err)), 0,
		       "a missing file is an empty state");
		dw_policy_free(p2);
		dw_exempt_free(x2);
		dw_exempt_free(x);
	}
	dw_policy_free(p);
	dw_conf_free(c);
	test_sweep_shortcut();
	return done_testing();
}
