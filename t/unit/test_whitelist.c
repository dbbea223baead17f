/**
 * \file
 * Unit tests of the whitelist (whitelist*.c) from synthetic upstream events: learning from
 * queries, referrals with glue and the out-of-bailiwick NS case (the
 * resolver resolving ns.hosting.test itself), A records of non-nameservers
 * ignored, TTL clamping and expiry at the exact boundary, statics that
 * never expire, the bounds (zones, names, max_entries under a flood of
 * 100,000 new servers, the eviction rule), save/load round trip in a shared
 * file, the dump_whitelist/check_ns answers (plain and JSON, through
 * the control request parser), reconf, hostile input, and export_nft
 * accepted by `nft -c -f` (as root; else `unshare -rn nft -c -f`; a missing
 * nft fails the test).
 */
#include "whitelist.h"
#include "control.h"
#include "tap.h"
#include "whitelist_out.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

static struct dw_addr ip(const char *s)
{
	struct dw_addr a;

	if (dw_addr_parse(s, &a) != 0) {
		printf("Bail out! bad test address %s\n", s);
		exit(2);
	}
	return a;
}

/* A config: min/max TTL, max entries and a NULL-terminated static list. */
static struct dw_conf *conf_of(uint32_t min_ttl, uint32_t max_ttl, uint32_t max,
                               const char *const *statics)
{
	struct dw_conf *c = dw_conf_defaults();
	size_t n = 0;

	if (c == NULL) {
		printf("Bail out! dw_conf_defaults\n");
		exit(2);
	}
	c->wl_min_ttl = min_ttl;
	c->wl_max_ttl = max_ttl;
	c->wl_max_entries = max;
	while (statics && statics[n])
		n++;
	free(c->wl_static);
	c->wl_static = n ? calloc(n, sizeof(*c->wl_static)) : NULL;
	for (size_t i = 0; i < n; i++)
		c->wl_static[i] = ip(statics[i]);
	c->wl_static_count = n;
	return c;
}

static struct dw_whitelist *wl_of(const struct dw_conf *c)
{
	char err[128] = "";
	struct dw_whitelist *wl = dw_whitelist_new(c, err, sizeof(err));

	if (wl == NULL) {
		printf("Bail out! dw_whitelist_new: %s\n", err);
		exit(2);
	}
	return wl;
}

/* Events. */
static struct dw_upstream ev;

static void ev_query(const char *server, const char *zone)
{
	memset(&ev, 0, sizeof(ev));
	ev.kind = DW_UP_QUERY;
	ev.server = ip(server);
	snprintf(ev.zone, sizeof(ev.zone), "%s", zone);
}

static void ev_response(const char *server)
{
	memset(&ev, 0, sizeof(ev));
	ev.kind = DW_UP_RESPONSE;
	if (server)
		ev.server = ip(server);
}

static void ev_ns(const char *zone, const char *nsname, uint32_t ttl)
{
	struct dw_up_rr *rr = &ev.rr[ev.nrr++];

	rr->type = 2;
	rr->ttl = ttl;
	snprintf(rr->owner, sizeof(rr->owner), "%s", zone);
	snprintf(rr->nsname, sizeof(rr->nsname), "%s", nsname);
}

static void ev_a(const char *host, const char *addr, uint32_t ttl)
{
	struct dw_up_rr *rr = &ev.rr[ev.nrr++];

	rr->addr = ip(addr);
	rr->type = rr->addr.family == 4 ? 1 : 28;
	rr->ttl = ttl;
	snprintf(rr->owner, sizeof(rr->owner), "%s", host);
}

/* The control socket's real answers (whitelist_out.c, as commands.c
 * serves them) for the whitelist and time set in ctl. */
static struct {
	struct dw_whitelist *wl;
	time_t now;
} ctl;

static void h_check_ns(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct dw_addr a = ip(argv[0]);

	(void)arg, (void)argc;
	dw_whitelist_out_check(out, ctl.wl, &a, ctl.now);
}

static void h_dump(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg, (void)argc, (void)argv;
	dw_whitelist_out_dump(out, ctl.wl, ctl.now);
}

static const struct dw_command ctl_cmds[] = {
    {"check_ns", 1, 1, "check_ns ADDR", h_check_ns},
    {"dump_whitelist", 0, 0, "dump_whitelist", h_dump},
};

/* The body of the answer to request (after "ok\n"; the whole answer when
 * it is an error), NUL-terminated and malloc'ed for the caller to free. */
static char *answer(struct dw_whitelist *wl, time_t now, const char *request)
{
	char line[256];
	size_t rlen = 0, skip;
	char *r, *body;

	ctl.wl = wl;
	ctl.now = now;
	snprintf(line, sizeof(line), "%s", request);
	r = dw_control_request(ctl_cmds, sizeof(ctl_cmds) / sizeof(ctl_cmds[0]), NULL, 0, line,
	                       strlen(line), 0, &rlen);
	if (r == NULL) {
		printf("Bail out! out of memory\n");
		exit(2);
	}
	skip = rlen >= 3 && strncmp(r, "ok\n", 3) == 0 ? 3 : 0;
	body = malloc(rlen - skip + 1);
	if (body == NULL) {
		printf("Bail out! out of memory\n");
		exit(2);
	}
	memcpy(body, r + skip, rlen - skip);
	body[rlen - skip] = '\0';
	free(r);
	return body;
}

/* s on one line (newlines as spaces) for a test message, in a static buffer. */
static const char *flat(const char *s)
{
	static char line[DW_WL_LINE_MAX];
	size_t i;

	snprintf(line, sizeof(line), "%s", s);
	for (i = 0; line[i]; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	return line;
}

/* What check_ns ADDR answers (plain), in a static buffer. */
static const char *check_line(struct dw_whitelist *wl, const char *addr, time_t now)
{
	static char line[DW_WL_LINE_MAX];
	char req[128];
	char *r;

	snprintf(req, sizeof(req), "DWCTL1 check_ns %s", addr);
	r = answer(wl, now, req);
	snprintf(line, sizeof(line), "%s", r);
	free(r);
	return line;
}

static int known(struct dw_whitelist *wl, const char *addr, time_t now)
{
	struct dw_addr a = ip(addr);

	return dw_whitelist_check(wl, &a, now, NULL);
}

/* What dump_whitelist [--json] answers, as one string (caller frees). */
static char *dump_text(struct dw_whitelist *wl, time_t now, int json)
{
	return answer(wl, now, json ? "DWCTL1 --json dump_whitelist" : "DWCTL1 dump_whitelist");
}

static char *save_text(struct dw_whitelist *wl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	dw_whitelist_save(wl, f);
	fclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_learn_world(void)
{
	const char *statics[] = {"8.8.4.4", NULL};
	struct dw_conf *c = conf_of(60, 86400, 1000, statics);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_view v;
	struct dw_wl_stats st;
	struct dw_addr a;
	const char *l;
	char *d;

	/* the resolver primes: root server asked, answers . NS + glue */
	ev_query("127.0.53.1", ".");
	is_int(dw_whitelist_learn(wl, &ev, T0), 2, "query of a new server: added");
	ev_response("127.0.53.1");
	ev_ns(".", "a.root-servers.test.", 86400);
	ev_a("a.root-servers.test.", "127.0.53.1", 86400);
	dw_whitelist_learn(wl, &ev, T0);
	l = check_line(wl, "127.0.53.1", T0);
	ok(strcmp(l, "addr=127.0.53.1\nsrc=query,glue\nns=a.root-servers.test.\nzones=.\n"
	             "first_seen=2023-11-14T22:13:20Z\nlast_seen=2023-11-14T22:13:20Z\n"
	             "expires=2023-11-15T22:13:20Z\nknown=yes\n") == 0,
	   "root server: query + glue, . until +86400: %s", flat(l));
	a = ip("127.0.53.1");
	ok(dw_whitelist_check(wl, &a, T0, &v) == 1 && v.nzones == 1 &&
	       v.zone_expires[0] == T0 + 86400,
	   "root server: the zone . link ends at +86400");

	/* referral from the root for test. with in-bailiwick glue */
	ev_response("127.0.53.1");
	ev_ns("test.", "ns1.nic.test.", 86400);
	ev_a("ns1.nic.test.", "127.0.53.2", 86400);
	dw_whitelist_learn(wl, &ev, T0);
	ev_query("127.0.53.2", "test.");
	is_int(dw_whitelist_learn(wl, &ev, T0 + 1), 2, "query adds the query source: changed");
	ok(dw_whitelist_check(wl, &(struct dw_addr){0}, T0, &v) == 0, "family 0 is unknown");
	a = ip("127.0.53.2");
	ok(dw_whitelist_check(wl, &a, T0 + 1, &v) == 1 && v.nzones == 1 &&
	       strcmp(v.zones[0], "test.") == 0 && v.nnames == 1 &&
	       strcmp(v.names[0], "ns1.nic.test.") == 0 &&
	       v.src == (DW_WL_SRC_GLUE | DW_WL_SRC_QUERY) && v.first_seen == T0 &&
	       v.last_seen == T0 + 1 && v.expires == T0 + 86400,
	   "TLD server from glue: zone test., name ns1.nic.test., src glue+query");

	/* the out-of-bailiwick case: shop.test NS ns.hosting.test, no glue */
	ev_response("127.0.53.2");
	ev_ns("shop.test.", "ns.hosting.test.", 300);
	is_int(dw_whitelist_learn(wl, &ev, T0 + 2), 2, "NS without glue: map changed");
	ok(!known(wl, "127.0.53.5", T0 + 2), "no address yet for ns.hosting.test");
	/* the resolver resolves hosting.test's server, then ns.hosting.test */
	ev_response("127.0.53.2");
	ev_ns("hosting.test.", "ns1.hosting.test.", 300);
	ev_a("ns1.hosting.test.", "127.0.53.5", 300);
	dw_whitelist_learn(wl, &ev, T0 + 3);
	ev_query("127.0.53.5", "hosting.test.");
	dw_whitelist_learn(wl, &ev, T0 + 3);
	ev_response("127.0.53.5");
	ev_a("ns.hosting.test.", "127.0.53.5", 300);
	ev_ns("hosting.test.", "ns1.hosting.test.", 300); /* authority of the answer */
	is_int(dw_whitelist_learn(wl, &ev, T0 + 4), 2, "A for an NS name learned earlier: changed");
	a = ip("127.0.53.5");
	ok(dw_whitelist_check(wl, &a, T0 + 4, &v) == 1 && v.nzones == 2 &&
	       strcmp(v.zones[0], "hosting.test.") == 0 && strcmp(v.zones[1], "shop.test.") == 0 &&
	       v.nnames == 2 && strcmp(v.names[0], "ns.hosting.test.") == 0 &&
	       strcmp(v.names[1], "ns1.hosting.test.") == 0 && (v.src & DW_WL_SRC_RESOLVED),
	   "out-of-bailiwick NS: 127.0.53.5 linked to shop.test. via ns.hosting.test.: %s",
	   flat(check_line(wl, "127.0.53.5", T0 + 4)));
	/* glue TTL: min(NS left, A ttl): shop.test NS learned at +2 for 300 s */
	ok(v.zone_expires[1] == T0 + 2 + 300, "shop.test. link ends with its NS record (+302)");

	/* an A answer for a host that is no nameserver is not whitelisted */
	ev_response("127.0.53.5");
	ev_a("www.campus.test.", "192.0.2.80", 300);
	ev_a("www.shop.test.", "192.0.2.90", 300);
	is_int(dw_whitelist_learn(wl, &ev, T0 + 5), 0, "A of web servers: nothing changes");
	ok(!known(wl, "192.0.2.80", T0 + 5) && !known(wl, "192.0.2.90", T0 + 5),
	   "web servers' addresses stay unknown");
	l = check_line(wl, "192.0.2.80", T0 + 5);
	ok(strcmp(l, "addr=192.0.2.80\nknown=no\n") == 0, "check_ns of an unknown: %s", flat(l));
	ok(!known(wl, "127.0.53.99", T0 + 5), "an address never involved is unknown");
	ok(known(wl, "8.8.4.4", T0 + 5), "the static resolver is known");
	dw_whitelist_stats(wl, &st);
	is_int(st.unlinked, 2, "stats: two unlinked A records");
	is_int(st.learned, 3, "stats: three learned addresses");
	is_int(st.statics, 1, "stats: one static");
	is_int(st.nsnames, 4, "stats: four NS names");

	d = dump_text(wl, T0 + 5, 0);
	is_int(count_lines(d), 4, "dump: four lines");
	ok(strstr(d, "addr=8.8.4.4 src=static ns=- zones=- expires=never\n") != NULL,
	   "dump: static line");
	ok(strstr(d,
	          "addr=127.0.53.5 src=query,glue,resolved ns=ns.hosting.test.,ns1.hosting.test. "
	          "zones=hosting.test.,shop.test. first_seen=2023-11-14T22:13:23Z "
	          "last_seen=2023-11-14T22:13:24Z expires=2023-11-14T22:18:23Z\n") != NULL,
	   "dump: 127.0.53.5 line (hosting.test. glue at +3 lives longest: +303)");
	ok(strncmp(d, "addr=8.8.4.4 ", 13) == 0 &&
	       strstr(d, "addr=127.0.53.1 ") < strstr(d, "addr=127.0.53.2 ") &&
	       strstr(d, "addr=127.0.53.2 ") < strstr(d, "addr=127.0.53.5 "),
	   "dump: numeric address order 8.8.4.4 < 127.0.53.1 < .2 < .5");
	printf("# dump:\n");
	for (char *p = d, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		printf("# %.*s\n", (int)(nl - p), p);
	}
	free(d);

	/* a response event naming its zone counts as a query for it */
	ev_response("127.0.53.6");
	snprintf(ev.zone, sizeof(ev.zone), "victim.lab.");
	is_int(dw_whitelist_learn(wl, &ev, T0 + 6), 2, "response with a zone: server learned");
	ok(known(wl, "127.0.53.6", T0 + 6), "127.0.53.6 known for victim.lab.");

	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* AAAA glue, IPv6 servers, JSON. */
static void test_ipv6_json(void)
{
	struct dw_conf *c = conf_of(60, 86400, 100, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_view v;
	struct dw_addr a;
	char *d;

	ev_response("2001:db8::1");
	ev_ns("example.", "ns1.example.", 3600);
	ev_a("ns1.example.", "2001:db8::53", 3600);
	ev_a("ns1.example.", "192.0.2.53", 3600);
	dw_whitelist_learn(wl, &ev, T0);
	ok(known(wl, "2001:db8::53", T0) && known(wl, "192.0.2.53", T0),
	   "AAAA and A glue both learned");
	d = answer(wl, T0, "DWCTL1 --json check_ns 2001:db8::53");
	ok(strcmp(d, "{\"addr\":\"2001:db8::53\",\"src\":\"glue\",\"ns\":\"ns1.example.\","
	             "\"zones\":\"example.\",\"first_seen\":\"2023-11-14T22:13:20Z\","
	             "\"last_seen\":\"2023-11-14T22:13:20Z\",\"expires\":\"2023-11-14T23:13:20Z\","
	             "\"known\":true}\n") == 0,
	   "check_ns --json: %s", flat(d));
	free(d);
	a = ip("2001:db8::53");
	ok(dw_whitelist_check(wl, &a, T0, &v) == 1 && v.nzones == 1 &&
	       v.zone_expires[0] == T0 + 3600,
	   "the AAAA glue's link to example. ends at +3600");
	d = answer(wl, T0 + 3600, "DWCTL1 --json check_ns 2001:db8::53");
	ok(strcmp(d, "{\"addr\":\"2001:db8::53\",\"known\":false}\n") == 0, "unknown JSON: %s",
	   flat(d));
	free(d);
	d = dump_text(wl, T0, 1);
	ok(strncmp(d, "{\"whitelist\":[{\"addr\":\"192.0.2.53\"", 33) == 0 &&
	       strstr(d, "\"addr\":\"2001:db8::53\"") != NULL && strstr(d, "}]}\n") != NULL,
	   "dump --json: one document, both addresses, IPv4 first");
	/* validate with a real JSON parser when perl's JSON::PP is there */
	{
		char path[] = "/tmp/dw-wl-json-XXXXXX";
		int fd = mkstemp(path);
		if (fd >= 0 && write(fd, d, strlen(d)) == (ssize_t)strlen(d)) {
			char cmd[256];
			close(fd);
			snprintf(cmd, sizeof(cmd),
			         "perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); "
			         "exit(@{$j->{whitelist}} == 2 ? 0 : 1)' < %s 2>/dev/null",
			         path);
			int rc = system(cmd);
			ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "dump --json parses (JSON::PP)");
		} else {
			ok(0, "temp file for JSON");
		}
		unlink(path);
	}
	free(d);
	d = dump_text(wl, T0 + 3600, 1);
	ok(strcmp(d, "{\"whitelist\":[]}\n") == 0, "empty dump --json: %s", flat(d));
	free(d);
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* TTL clamping and the exact expiry boundary. */
static void test_ttl(void)
{
	struct dw_conf *c = conf_of(60, 3600, 100, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_view v;
	struct dw_addr a;

	ev_response(NULL);
	ev_ns("short.test.", "ns.short.test.", 5);
	ev_a("ns.short.test.", "192.0.2.1", 5);
	ev_ns("long.test.", "ns.long.test.", 1000000);
	ev_a("ns.long.test.", "192.0.2.2", 1000000);
	ev_ns("mixed.test.", "ns.mixed.test.", 3000);
	ev_a("ns.mixed.test.", "192.0.2.3", 120);
	ev_ns("zero.test.", "ns.zero.test.", 0);
	ev_a("ns.zero.test.", "192.0.2.4", 0);
	dw_whitelist_learn(wl, &ev, T0);
	a = ip("192.0.2.1");
	ok(dw_whitelist_check(wl, &a, T0, &v) && v.expires == T0 + 60,
	   "TTL 5 clamped up to min_ttl 60");
	a = ip("192.0.2.2");
	ok(dw_whitelist_check(wl, &a, T0, &v) && v.expires == T0 + 3600,
	   "TTL 1000000 clamped down to max_ttl 3600");
	a = ip("192.0.2.3");
	ok(dw_whitelist_check(wl, &a, T0, &v) && v.expires == T0 + 120,
	   "glue: min(NS 3000, A 120) = 120");
	a = ip("192.0.2.4");
	ok(dw_whitelist_check(wl, &a, T0, &v) && v.expires == T0 + 60, "TTL 0 clamped to 60");

	ok(known(wl, "192.0.2.1", T0 + 59), "short: still known at +59");
	ok(!known(wl, "192.0.2.1", T0 + 60), "short: unknown at +60 (the boundary)");
	is_int(dw_whitelist_expire(wl, T0 + 59), 0, "expire at +59 removes nothing");
	is_int(dw_whitelist_expire(wl, T0 + 60), 2, "expire at +60 removes the two 60 s entries");
	ok(known(wl, "192.0.2.3", T0 + 119) && !known(wl, "192.0.2.3", T0 + 120),
	   "mixed: known at +119, gone at +120");
	is_int(dw_whitelist_expire(wl, T0 + 3599), 1, "expire at +3599 removes mixed (120 s)");
	ok(known(wl, "192.0.2.2", T0 + 3599), "long: known at +3599");
	is_int(dw_whitelist_expire(wl, T0 + 3600), 1, "long: removed at +3600");

	/* queries: min_ttl from the last query, never shortening a longer life */
	ev_query("192.0.2.9", "q.test.");
	dw_whitelist_learn(wl, &ev, T0 + 4000);
	a = ip("192.0.2.9");
	ok(dw_whitelist_check(wl, &a, T0 + 4000, &v) && v.expires == T0 + 4060,
	   "query-only server lives min_ttl (60 s)");
	is_int(dw_whitelist_learn(wl, &ev, T0 + 4030), 1, "a later query only moves the expiry");
	ok(dw_whitelist_check(wl, &a, T0 + 4030, &v) && v.expires == T0 + 4090,
	   "refreshed by the query: +4090");
	ev_response(NULL);
	ev_ns("q.test.", "ns.q.test.", 3000);
	ev_a("ns.q.test.", "192.0.2.9", 3000);
	dw_whitelist_learn(wl, &ev, T0 + 4040);
	ev_query("192.0.2.9", "q.test.");
	is_int(dw_whitelist_learn(wl, &ev, T0 + 4050), 0, "query does not shorten glue's 3000 s");
	ok(dw_whitelist_check(wl, &a, T0 + 4050, &v) && v.expires == T0 + 4040 + 3000,
	   "expiry stays at the glue's");
	ok(!known(wl, "192.0.2.9", T0 + 7040), "and ends there");
	dw_whitelist_free(wl);
	dw_conf_free(c);

	/* min_ttl 0: a TTL-0 record is gone at once; a query still lives 1 s */
	c = conf_of(0, 3600, 100, NULL);
	wl = wl_of(c);
	ev_response(NULL);
	ev_ns("zero.test.", "ns.zero.test.", 0);
	ev_a("ns.zero.test.", "192.0.2.4", 0);
	dw_whitelist_learn(wl, &ev, T0);
	ok(!known(wl, "192.0.2.4", T0), "min_ttl 0: TTL 0 glue never known");
	ev_query("192.0.2.5", "zero.test.");
	dw_whitelist_learn(wl, &ev, T0);
	ok(known(wl, "192.0.2.5", T0) && !known(wl, "192.0.2.5", T0 + 1),
	   "min_ttl 0: a queried server is known for 1 s");
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* Statics: never expire, never evicted, zones learned on them do expire. */
static void test_statics(void)
{
	const char *statics[] = {"8.8.4.4", "2001:4860:4860::8844", "8.8.4.4", "0.0.0.0", NULL};
	struct dw_conf *c = conf_of(60, 600, 10, statics);
	struct dw_conf *c2;
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_view v;
	struct dw_wl_stats st;
	struct dw_addr a = ip("8.8.4.4");
	time_t far = T0 + 10 * 365 * 86400;
	char *s;

	dw_whitelist_stats(wl, &st);
	is_int(st.statics, 2, "two distinct usable statics (duplicate and 0.0.0.0 dropped)");
	ok(known(wl, "8.8.4.4", far) && known(wl, "2001:4860:4860::8844", far),
	   "statics known ten years later");
	is_int(dw_whitelist_expire(wl, far), 0, "expire never removes a static");
	ok(dw_whitelist_check(wl, &a, far, &v) && v.expires == 0 && v.src == DW_WL_SRC_STATIC &&
	       v.first_seen == 0 && v.nzones == 0,
	   "static view: expires 0 (never), never seen, no zones");

	ev_query("8.8.4.4", "google.test.");
	dw_whitelist_learn(wl, &ev, T0);
	ok(dw_whitelist_check(wl, &a, T0, &v) && v.nzones == 1 &&
	       v.src == (DW_WL_SRC_STATIC | DW_WL_SRC_QUERY) && v.first_seen == T0 &&
	       v.expires == 0,
	   "a static learned as a server: zone added, still never expires");
	dw_whitelist_expire(wl, T0 + 1000);
	ok(dw_whitelist_check(wl, &a, T0 + 1000, &v) && v.nzones == 0,
	   "its learned zone expires, the address stays");

	/* flood: statics are not counted in max_entries and never evicted */
	for (int i = 0; i < 100; i++) {
		char s4[32];
		snprintf(s4, sizeof(s4), "10.0.0.%d", i + 1);
		ev_query(s4, "flood.test.");
		dw_whitelist_learn(wl, &ev, T0 + 2000 + i);
	}
	dw_whitelist_stats(wl, &st);
	ok(st.learned == 10 && st.statics == 2 && known(wl, "8.8.4.4", T0 + 2100),
	   "max_entries 10 learned + 2 statics after 100 new servers");

	/* save: statics are not saved */
	s = save_text(wl);
	ok(strstr(s, "8.8.4.4") == NULL, "statics not in the saved state");
	free(s);

	/* reconf: 8.8.4.4 no longer static; 192.0.2.53 becomes static; max 5 */
	{
		const char *st2[] = {"192.0.2.53", "10.0.0.100", NULL};
		c2 = conf_of(60, 600, 5, st2);
	}
	ev_query("8.8.4.4", "google.test.");
	dw_whitelist_learn(wl, &ev, T0 + 2100);
	is_int(dw_whitelist_reconf(wl, c2), 0, "reconf");
	dw_whitelist_stats(wl, &st);
	ok(known(wl, "192.0.2.53", far) && known(wl, "10.0.0.100", far),
	   "new statics known forever (10.0.0.100 was learned, now static)");
	ok(!known(wl, "2001:4860:4860::8844", T0 + 2100),
	   "dropped static without learned zones: gone");
	ok(st.learned <= 5 && st.statics == 2, "max_entries lowered to 5: learned %llu",
	   (unsigned long long)st.learned);
	dw_whitelist_free(wl);
	dw_conf_free(c);
	dw_conf_free(c2);
}

/* Per-address bounds: zones and names. */
static void test_bounds_per_entry(void)
{
	struct dw_conf *c = conf_of(60, 86400, 100, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_view v;
	struct dw_addr a = ip("192.0.2.7");
	char z[64], n[64];

	for (int i = 0; i < 20; i++) {
		snprintf(z, sizeof(z), "zone%02d.test.", i);
		snprintf(n, sizeof(n), "ns%02d.hoster.test.", i);
		ev_response(NULL);
		ev_ns(z, n, 1000 + (uint32_t)i);
		ev_a(n, "192.0.2.7", 100000);
		dw_whitelist_learn(wl, &ev, T0);
	}
	memset(&v, 0, sizeof(v));
	dw_whitelist_check(wl, &a, T0, &v);
	ok(v.nzones == DW_WL_MAX_ZONES && v.nnames == DW_WL_MAX_NAMES,
	   "20 zones and names: %u zones, %u names kept", v.nzones, v.nnames);
	ok(strcmp(v.zones[0], "zone12.test.") == 0 && strcmp(v.zones[7], "zone19.test.") == 0,
	   "the zones that expire last are kept (zone12..zone19)");
	ok(strcmp(v.names[0], "ns19.hoster.test.") == 0 &&
	       strcmp(v.names[3], "ns16.hoster.test.") == 0,
	   "the most recent names are kept, newest first");
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* max_entries under a flood of referrals to 100,000 new servers. */
static void test_flood(void)
{
	struct dw_conf *c = conf_of(60, 86400, 1000, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_stats st;
	size_t max_learned = 0, max_ns = 0, max_mem = 0;
	clock_t t;
	double secs;
	int bad = 0;

	/* a legitimate long-lived server learned first */
	ev_response("127.0.53.1");
	ev_ns("test.", "ns1.nic.test.", 86400);
	ev_a("ns1.nic.test.", "127.0.53.2", 86400);
	dw_whitelist_learn(wl, &ev, T0);

	t = clock();
	for (uint32_t i = 0; i < 100000; i++) {
		char zone[64], ns[64], addr[32];
		snprintf(zone, sizeof(zone), "evil%u.test.", i);
		snprintf(ns, sizeof(ns), "ns.evil%u.test.", i);
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
		         i & 255);
		ev_response("127.0.53.2");
		ev_ns(zone, ns, 300 + i % 3600);
		ev_a(ns, addr, 300 + i % 3600);
		if (dw_whitelist_learn(wl, &ev, T0 + i / 100) < 0)
			bad++;
		ev_query(addr, zone);
		if (dw_whitelist_learn(wl, &ev, T0 + i / 100) < 0)
			bad++;
		if (i % 64 == 0 || i == 99999) {
			dw_whitelist_stats(wl, &st);
			if (st.learned > max_learned)
				max_learned = st.learned;
			if (st.nsnames > max_ns)
				max_ns = st.nsnames;
			if (st.mem_bytes > max_mem)
				max_mem = st.mem_bytes;
		}
	}
	secs = (double)(clock() - t) / CLOCKS_PER_SEC;
	dw_whitelist_stats(wl, &st);
	is_int(bad, 0, "no learn() error during the flood");
	ok(max_learned <= 1000 && st.learned == 1000,
	   "learned addresses never above 1000 (max %zu)", max_learned);
	ok(max_ns <= 1000, "NS map never above 1000 (max %zu)", max_ns);
	ok(st.evicted >= 99000, "evictions counted: %llu", (unsigned long long)st.evicted);
	ok(known(wl, "127.0.53.2", T0 + 1000),
	   "the legitimate 86400 s server outlived the flood (expires last)");
	ok(max_mem < 2 * 1024 * 1024, "memory bounded: at most %zu bytes", max_mem);
	printf("# flood: 200000 events in %.2f s CPU, %llu entries, %llu names, %zu bytes\n", secs,
	       (unsigned long long)st.entries, (unsigned long long)st.names, st.mem_bytes);
	/* after expiry of everything but the long one */
	dw_whitelist_expire(wl, T0 + 999 + 3899);
	dw_whitelist_stats(wl, &st);
	ok(st.learned == 1 && st.nsnames == 1, "flood entries all expire (left: %llu, ns %llu)",
	   (unsigned long long)st.learned, (unsigned long long)st.nsnames);
	ok(st.names <= 4, "interned names released (%llu left)", (unsigned long long)st.names);

	/* hostile: unique 250-byte names, 8 zones per server */
	max_mem = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		char zone[256], ns[256], addr[32], lab[64];
		memset(lab, 'x', 60);
		lab[60] = '\0';
		snprintf(addr, sizeof(addr), "10.9.%u.%u", (i / 8 >> 8) & 255, i / 8 & 255);
		snprintf(zone, sizeof(zone), "z%u.%s.%s.%s.test.", i, lab, lab, lab);
		snprintf(ns, sizeof(ns), "n%u.%s.%s.%s.test.", i, lab, lab, lab);
		ev_response("127.0.53.2");
		ev_ns(zone, ns, 3600);
		ev_a(ns, addr, 3600);
		dw_whitelist_learn(wl, &ev, T0 + 5000 + i / 100);
		dw_whitelist_stats(wl, &st);
		if (st.mem_bytes > max_mem)
			max_mem = st.mem_bytes;
	}
	dw_whitelist_stats(wl, &st);
	ok(st.name_bytes <= 1024 * 1024,
	   "long unique names: name bytes within the 1 MiB budget (%zu)", st.name_bytes);
	ok(max_mem < 2 * 1024 * 1024 && st.learned <= 1000,
	   "long unique names: memory stays under 2 MiB (max %zu), %llu addresses", max_mem,
	   (unsigned long long)st.learned);
	ok(known(wl, "127.0.53.2", T0 + 5200), "the long-lived server still there");
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* The eviction rule: what expires first goes; a newcomer that would expire
 * first is the one dropped. */
static void test_eviction_rule(void)
{
	struct dw_conf *c = conf_of(1, 86400, 3, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_stats st;

	ev_response(NULL);
	ev_ns("a.test.", "ns.a.test.", 100);
	ev_a("ns.a.test.", "192.0.2.1", 100);
	ev_ns("b.test.", "ns.b.test.", 200);
	ev_a("ns.b.test.", "192.0.2.2", 200);
	ev_ns("c.test.", "ns.c.test.", 300);
	ev_a("ns.c.test.", "192.0.2.3", 300);
	dw_whitelist_learn(wl, &ev, T0);
	ev_response(NULL);
	ev_ns("d.test.", "ns.d.test.", 150);
	ev_a("ns.d.test.", "192.0.2.4", 150);
	dw_whitelist_learn(wl, &ev, T0);
	ok(!known(wl, "192.0.2.1", T0) && known(wl, "192.0.2.4", T0),
	   "full: the 100 s entry is evicted for a 150 s one");
	ev_response(NULL);
	ev_ns("e.test.", "ns.e.test.", 50);
	ev_a("ns.e.test.", "192.0.2.5", 50);
	is_int(dw_whitelist_learn(wl, &ev, T0), 0, "full NS map refuses a name expiring first");
	ok(!known(wl, "192.0.2.5", T0), "so its glue is not linked");
	ev_query("192.0.2.6", "f.test."); /* lives min_ttl 1 s: expires first */
	is_int(dw_whitelist_learn(wl, &ev, T0), 0, "full table refuses a server expiring first");
	ok(!known(wl, "192.0.2.6", T0) && known(wl, "192.0.2.4", T0) &&
	       known(wl, "192.0.2.2", T0) && known(wl, "192.0.2.3", T0),
	   "a newcomer expiring before all others is the one dropped");
	dw_whitelist_stats(wl, &st);
	is_int(st.evicted, 2, "address table: one eviction, one refusal");
	is_int(st.ns_evicted, 2, "NS map: one eviction, one refusal");
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* Save and load, in a file shared with other units' lines. */
static void test_save_load(void)
{
	const char *statics[] = {"8.8.4.4", NULL};
	struct dw_conf *c = conf_of(60, 86400, 1000, statics);
	struct dw_whitelist *wl = wl_of(c), *wl2;
	char *s1, *s2, *d1, *d2, *buf = NULL, err[256];
	size_t len = 0;
	FILE *f;

	ev_query("127.0.53.1", ".");
	dw_whitelist_learn(wl, &ev, T0);
	ev_response("127.0.53.1");
	ev_ns("test.", "ns1.nic.test.", 86400);
	ev_a("ns1.nic.test.", "127.0.53.2", 86400);
	ev_ns("lab.", "ns1.nic.lab.", 86400);
	ev_a("ns1.nic.lab.", "127.0.53.3", 86400);
	dw_whitelist_learn(wl, &ev, T0 + 1);
	ev_response("127.0.53.2");
	ev_ns("shop.test.", "ns.hosting.test.", 300);
	ev_ns("hosting.test.", "ns1.hosting.test.", 300);
	ev_ns("hosting.test.", "ns.hosting.test.", 300);
	ev_a("ns1.hosting.test.", "127.0.53.5", 300);
	ev_a("ns1.hosting.test.", "2001:db8::5", 300);
	dw_whitelist_learn(wl, &ev, T0 + 2);
	ev_query("8.8.4.4", "google.test.");
	dw_whitelist_learn(wl, &ev, T0 + 3);
	dw_whitelist_expire(wl, T0 + 60); /* 127.0.53.1 (a query at T0, 60 s) goes */

	s1 = save_text(wl);
	printf("# saved:\n");
	for (char *p = s1, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		printf("# %.*s\n", (int)(nl - p), p);
	}
	ok(strncmp(s1,
	           "wl addr 8.8.4.4 first=1700000003 last=1700000003 src=query ns=- "
	           "zones=google.test.@1700000063\n",
	           89) == 0,
	   "first saved line: a static's learned zone, without the static mark");
	ok(strstr(s1, "wl ns ns.hosting.test. last=1700000002 zones=") != NULL, "NS map saved");
	ok(strstr(s1, "127.0.53.1") == NULL, "expired entries not saved");
	ok(strstr(s1, "wl addr 127.0.53.5 first=1700000002 last=1700000002 src=glue "
	              "ns=ns1.hosting.test. zones=hosting.test.@1700000302\n") != NULL &&
	       strstr(s1, "wl addr 2001:db8::5 ") != NULL,
	   "glue for A and AAAA saved");

	/* a shared state file: other units' lines, comments, junk wl lines */
	f = open_memstream(&buf, &len);
	fprintf(f, "# dnswarden state v1 saved=1\nblock 10.0.0.1/32 nxdomain manual 1 1 0 1 0\n%s",
	        s1);
	fprintf(f, "exempt 192.0.2.25/32\nwl addr 300.1.1.1 last=1 zones=a.@5\n"
	           "wl frob x\nwl addr 192.0.2.1 last=5 zones=BAD,NAME@5\n");
	fclose(f);
	wl2 = wl_of(c);
	f = fmemopen(buf, len, "r");
	err[0] = '\0';
	is_int(dw_whitelist_load(wl2, f, err, sizeof(err)), -1, "load reports bad wl lines");
	ok(strstr(err, "line ") && strstr(err, "bad address") && strstr(err, "3 bad"),
	   "load error: %s", err);
	fclose(f);
	free(buf);
	s2 = save_text(wl2);
	ok(strcmp(s1, s2) == 0, "save -> load -> save gives the same lines");
	d1 = dump_text(wl, T0 + 60, 0);
	d2 = dump_text(wl2, T0 + 60, 0);
	ok(strcmp(d1, d2) == 0, "dump after reload equals dump before");
	if (strcmp(d1, d2) != 0)
		printf("# before:\n# %s# after:\n# %s", d1, d2);
	free(d1);
	free(d2);
	free(s2);

	/* the NS map survived: a later A for ns.hosting.test links shop.test */
	ev_response("127.0.53.5");
	ev_a("ns.hosting.test.", "127.0.53.5", 300);
	dw_whitelist_learn(wl2, &ev, T0 + 110);
	ok(strstr(check_line(wl2, "127.0.53.5", T0 + 110), ",shop.test.\n") != NULL,
	   "reloaded NS map still links ns.hosting.test to shop.test: %s",
	   flat(check_line(wl2, "127.0.53.5", T0 + 110)));

	/* load_line: bad lines change nothing and say why */
	is_int(dw_whitelist_load_line(wl2, "wl addr 192.0.2.1 last=5", err, sizeof(err)), -1,
	       "line without zones refused");
	ok(strstr(err, "zones") != NULL, "reason: %s", err);
	is_int(dw_whitelist_load_line(wl2, "wl addr 192.0.2.1 last=x zones=a.@5", err, sizeof(err)),
	       -1, "bad number refused");
	is_int(dw_whitelist_load_line(wl2, "wl addr 192.0.2.1 zones=a.@5", err, sizeof(err)), -1,
	       "line without last= refused");
	is_int(dw_whitelist_load_line(wl2, "wl addr 192.0.2.1 last=5 zones=a.@5,b@6", err,
	                              sizeof(err)),
	       -1, "zone without final dot refused");
	is_int(dw_whitelist_load_line(wl2, "wl addr 192.0.2.1 last=5 zones=a.@5 future=1\n", err,
	                              sizeof(err)),
	       0, "unknown field of a later version ignored");
	ok(!known(wl2, "192.0.2.1", T0), "expired loaded link: unknown");
	is_int(dw_whitelist_state_load_line(wl2,
	                                    "wl addr 192.0.2.2 first=1700000000 last=1700000001 "
	                                    "src=glue ns=NS.Example. zones=Example.@1800000000",
	                                    err, sizeof(err)),
	       0, "state callback takes a line (names lower-cased)");
	ok(strstr(check_line(wl2, "192.0.2.2", T0), "\nns=ns.example.\nzones=example.\n") != NULL,
	   "loaded line: %s", flat(check_line(wl2, "192.0.2.2", T0)));
	dw_whitelist_free(wl2);
	dw_whitelist_free(wl);
	free(s1);
	dw_conf_free(c);
}

/* Hostile or broken events. */
static void test_hostile(void)
{
	struct dw_conf *c = conf_of(60, 86400, 100, NULL);
	struct dw_whitelist *wl = wl_of(c);
	struct dw_wl_stats st;
	const char *bad_names[] = {"",
	                           "no-dot",
	                           "a..b.",
	                           ".a.",
	                           "sp ace.test.",
	                           "com,ma.test.",
	                           "at@test.",
	                           "eq=test.",
	                           "bad\\99.test.",
	                           "x\\256.test.",
	                           "quote\".test.",
	                           NULL};
	int n = 0;

	for (int i = 0; bad_names[i]; i++) {
		ev_query("192.0.2.1", bad_names[i]);
		dw_whitelist_learn(wl, &ev, T0);
		ev_response(NULL);
		ev_ns(bad_names[i], "ns.ok.test.", 300);
		ev_ns("ok.test.", bad_names[i], 300);
		ev_a(bad_names[i], "192.0.2.2", 300);
		dw_whitelist_learn(wl, &ev, T0);
		n += 4;
	}
	dw_whitelist_stats(wl, &st);
	is_int(st.rejected, n, "every malformed name rejected");
	ok(!known(wl, "192.0.2.1", T0) && !known(wl, "192.0.2.2", T0), "nothing learned from them");

	/* an unterminated 256-byte name */
	ev_query("192.0.2.1", "x.");
	memset(ev.zone, 'a', sizeof(ev.zone));
	dw_whitelist_learn(wl, &ev, T0);
	ok(!known(wl, "192.0.2.1", T0), "unterminated zone rejected");
	/* unspecified and family mismatches */
	ev_query("0.0.0.0", "ok.test.");
	dw_whitelist_learn(wl, &ev, T0);
	ev_query("::", "ok.test.");
	dw_whitelist_learn(wl, &ev, T0);
	ev_response(NULL);
	ev_ns("ok.test.", "ns.ok.test.", 300);
	ev_a("ns.ok.test.", "192.0.2.3", 300);
	ev.rr[1].type = 28; /* AAAA carrying an IPv4 address */
	ev.nrr = 200;       /* more records than the array: capped */
	dw_whitelist_learn(wl, &ev, T0);
	ok(!known(wl, "192.0.2.3", T0), "AAAA with an IPv4 address rejected; nrr capped");
	ev.kind = 9;
	is_int(dw_whitelist_learn(wl, &ev, T0), 0, "unknown event kind ignored");
	/* upper case and escapes are fine */
	ev_response(NULL);
	ev_ns("Ok.TEST.", "NS\\200.ok.test.", 300);
	ev_a("ns\\200.OK.test.", "192.0.2.4", 300);
	dw_whitelist_learn(wl, &ev, T0);
	ok(strstr(check_line(wl, "192.0.2.4", T0),
	          "\nns=\"ns\\\\200.ok.test.\"\nzones=ok.test.\n") != NULL,
	   "upper case lowered, \\DDD kept: %s", flat(check_line(wl, "192.0.2.4", T0)));
	ok(dw_whitelist_learn(NULL, &ev, T0) == 0 && dw_whitelist_learn(wl, NULL, T0) == 0,
	   "NULL arguments");
	dw_whitelist_free(NULL);
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* Run nft -c -f on a file (or, without CAP_NET_ADMIN, in a private user and
 * network namespace); returns its exit status; *how says which mode ran. */
static int nft_check(const char *path, const char **how)
{
	char cmd[512];
	int rc;

	snprintf(cmd, sizeof(cmd), "nft -c -f %s 2>&1", path);
	rc = system(cmd);
	*how = "nft -c -f";
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "unshare -rn nft -c -f %s 2>&1", path);
	if (system(cmd) == 0) {
		*how = "unshare -rn nft -c -f";
		return 0;
	}
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_export_nft(void)
{
	const char *statics[] = {"8.8.4.4", "2001:4860:4860::8844", NULL};
	struct dw_conf *c = conf_of(60, 86400, 1000, statics);
	struct dw_whitelist *wl = wl_of(c);
	char path[] = "/tmp/dw-wl-nft-XXXXXX";
	const char *how = "";
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int fd, rc;

	for (int i = 1; i <= 600; i++) { /* more than one "add element" chunk */
		char a[32];
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		ev_query(a, "many.test.");
		dw_whitelist_learn(wl, &ev, T0);
	}
	ev_query("2001:db8::53", "v6.test.");
	dw_whitelist_learn(wl, &ev, T0);
	ev_query("::ffff:192.0.2.77", "mapped.test."); /* stays IPv6 as given */
	dw_whitelist_learn(wl, &ev, T0);

	f = open_memstream(&buf, &len);
	is_int(dw_whitelist_export_nft(wl, T0, f), 604, "export_nft: 604 addresses");
	fclose(f);
	ok(strstr(buf, "table inet dnswarden {\n\tset dnswarden_ns4 {\n\t\ttype ipv4_addr\n\t}\n"
	               "\tset dnswarden_ns6 {\n\t\ttype ipv6_addr\n\t}\n}\n"
	               "flush set inet dnswarden dnswarden_ns4\n"
	               "flush set inet dnswarden dnswarden_ns6\n"
	               "add element inet dnswarden dnswarden_ns4 { 8.8.4.4, 10.1.0.1, ") != NULL,
	   "export: table, sets, flush, elements");
	ok(strstr(buf, "add element inet dnswarden dnswarden_ns6 { 2001:db8::53, "
	               "2001:4860:4860::8844 }\n") != NULL ||
	       strstr(buf, "dnswarden_ns6 { ") != NULL,
	   "export: IPv6 set filled");
	ok(system("command -v nft >/dev/null 2>&1") == 0,
	   "nft is installed (Debian package nftables; tools/install-deps)");
	fd = mkstemp(path);
	if (fd >= 0 && write(fd, buf, len) == (ssize_t)len) {
		close(fd);
		rc = nft_check(path, &how);
		is_int(rc, 0, "export_nft output accepted by nft -c -f");
		printf("# nft check mode: %s\n", how);
	} else {
		ok(0, "temp file for nft");
	}
	free(buf);

	/* an empty whitelist exports an empty but valid file */
	dw_whitelist_free(wl);
	dw_conf_free(c);
	c = conf_of(60, 86400, 1000, NULL);
	wl = wl_of(c);
	buf = NULL;
	f = open_memstream(&buf, &len);
	is_int(dw_whitelist_export_nft(wl, T0, f), 0, "empty export: 0 addresses");
	fclose(f);
	ok(strstr(buf, "add element") == NULL, "empty export adds nothing");
	f = fopen(path, "w");
	if (f) {
		fputs(buf, f);
		fclose(f);
		rc = nft_check(path, &how);
		is_int(rc, 0, "empty export accepted by nft -c -f");
	}
	unlink(path);
	free(buf);
	dw_whitelist_free(wl);
	dw_conf_free(c);
}

/* A state file whose lines for one nameserver carry zones that expired
 * before a later line's last= time (found by t/fuzz/fuzz_state.c): what
 * loading it keeps, once saved, loads back the same, in any order. */
static void test_load_expired_zones(void)
{
	static const char *const lines[] = {
	    "wl ns ns1.example.test. last=1749999999 zones=a.test.@1750086399",
	    "wl ns ns1.example.test. last=1798919621 zones=a.test.@1750086399",
	    "wl ns ns1.example.test. last=1749999999 zones=b.test.@1750086399",
	    "wl addr 192.0.2.7 last=1749999999 src=query ns=- zones=a.test.@1750086399",
	    "wl addr 192.0.2.7 last=1798919621 src=query ns=- zones=c.test.@1798999999",
	    "wl addr 192.0.2.7 last=1749999999 src=query ns=- zones=b.test.@1750086399"};
	struct dw_conf *c = conf_of(60, 86400, 1000, NULL);
	struct dw_whitelist *wl = wl_of(c), *wl2 = wl_of(c);
	char err[256], *s1, *s2, *s3, *p, *line;
	int bad = 0;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		bad += dw_whitelist_load_line(wl, lines[i], err, sizeof(err)) != 0;
	is_int(bad, 0, "expired zones: every line loads");
	s1 = save_text(wl);
	ok(strstr(s1, "a.test.") == NULL && strstr(s1, "b.test.") == NULL,
	   "zones expired before the latest last= time are not kept");
	ok(strstr(s1, "wl addr 192.0.2.7 ") != NULL && strstr(s1, "c.test.@1798999999") != NULL,
	   "the live zone is kept");
	for (p = s1; (line = strsep(&p, "\n")) != NULL;)
		if (*line)
			bad += dw_whitelist_load_line(wl2, line, err, sizeof(err)) != 0;
	s2 = save_text(wl2);
	s3 = save_text(wl);
	ok(bad == 0 && strcmp(s2, s3) == 0, "saved, loaded and saved again: the same");
	free(s1);
	free(s2);
	free(s3);
	dw_whitelist_free(wl);
	dw_whitelist_free(wl2);
	dw_conf_free(c);
}

int main(void)
{
	test_learn_world();
	test_ipv6_json();
	test_ttl();
	test_statics();
	test_bounds_per_entry();
	test_eviction_rule();
	test_flood();
	test_save_load();
	test_hostile();
	test_export_nft();
	test_load_expired_zones();
	return done_testing();
}
