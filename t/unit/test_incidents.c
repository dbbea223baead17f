/* Unit tests of the incident store (incidents.h) on real SQLite files:
 * batches, queries by prefix/detector/time, history, the bounded queue while
 * the database cannot be opened, retention, a damaged file, a schema from
 * the future. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "incidents.h"
#include "tap.h"

static char dir[] = "/tmp/dw-test-incidents-XXXXXX";
static char lines[8192];

/** Collect the store's log lines. */
static void logger(void *arg, int prio, const char *line)
{
	(void)arg, (void)prio;
	strncat(lines, line, sizeof(lines) - strlen(lines) - 2);
	strcat(lines, "\n");
}

/** A row of event ev for client a (text) and detector det. */
static void row(struct dw_incident *r, enum dw_inc_event ev, const char *a, int det, int64_t t,
		uint32_t step)
{
	memset(r, 0, sizeof(*r));
	r->time = t;
	r->event = (uint8_t)ev;
	dw_addr_parse(a, &r->client);
	r->prefix = r->client.family == 4 ? 32 : 64;
	r->detector = (int8_t)det;
	r->action = det >= 0 ? DW_ACT_NXDOMAIN : -1;
	r->step = step;
	r->uid = -1;
	snprintf(r->backend, sizeof(r->backend), "rpz");
	snprintf(r->evidence, sizeof(r->evidence), "{\"names\":[\"a.example.\",\"b.example.\"]}");
}

struct collect {
	int n;
	char first[256];
};

static int collect_fn(void *arg, const struct dw_inc_row *r)
{
	struct collect *c = arg;
	if (c->n++ == 0)
		snprintf(c->first, sizeof(c->first), "%s %s/%u %s %s %lld", r->event, r->client, r->prefix,
			 r->detector, r->names, (long long)r->blocked_before);
	return 0;
}

static int count(struct dw_incidents *s, const char *cidr, int det, int64_t since, struct collect *c)
{
	struct dw_inc_filter f;
	char err[256];
	memset(&f, 0, sizeof(f));
	memset(c, 0, sizeof(*c));
	if (cidr) {
		f.has_cidr = 1;
		dw_cidr_parse(cidr, &f.cidr);
	}
	f.detector = det;
	f.since = since;
	f.limit = 1000;
	if (dw_incidents_query(s, &f, collect_fn, c, err, sizeof(err)) != 0)
		return -1;
	return c->n;
}

int main(void)
{
	char path[256], err[256], cmd[512];
	struct dw_incidents *s;
	struct dw_incident r;
	struct dw_inc_stats st;
	struct dw_inc_history h;
	struct collect c;
	struct dw_addr a;
	int64_t now = (int64_t)time(NULL);
	int i;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/inc.db", dir);

	/* rows in, one batch, queries */
	s = dw_incidents_new(path, 3600, logger, NULL, err, sizeof(err));
	ok(s != NULL, "a store");
	row(&r, DW_INC_VERDICT, "10.1.2.3", DW_DET_MX_WORM, now - 10, 0);
	dw_incidents_add(s, &r);
	row(&r, DW_INC_BLOCK, "10.1.2.3", DW_DET_MX_WORM, now - 10, 1);
	dw_incidents_add(s, &r);
	row(&r, DW_INC_BLOCK, "10.1.2.3", -1, now - 5, 2);
	dw_incidents_add(s, &r);
	row(&r, DW_INC_VERDICT, "10.1.9.9", DW_DET_IP_LITERAL, now - 4, 0);
	dw_incidents_add(s, &r);
	row(&r, DW_INC_VERDICT, "2001:db8:1::", DW_DET_PTR_FLOOD, now - 3, 0);
	dw_incidents_add(s, &r);
	row(&r, DW_INC_VERDICT, "10.2.0.1", DW_DET_MX_WORM, now - 7200, 0); /* older than keep */
	dw_incidents_add(s, &r);
	dw_incidents_stats(s, &st);
	is_int((int)st.queued, 6, "six rows queued");
	dw_incidents_tick(s, 5000);
	dw_incidents_stats(s, &st);
	is_int((int)st.written, 6, "written in one batch");
	is_int((int)st.batches, 1, "one transaction");
	is_int((int)st.queued, 0, "nothing queued");
	is_int(count(s, NULL, -1, 0, &c), 5, "retention pruned the row older than keep");
	is_int(count(s, "10.1.0.0/16", -1, 0, &c), 4, "10.1.0.0/16: four rows");
	ok(strcmp(c.first, "verdict 10.1.9.9/32 ip_literal a.example. b.example. 0") == 0,
	   "newest first, names joined: '%s'", c.first);
	is_int(count(s, "10.1.2.3", -1, 0, &c), 3, "one address");
	ok(strcmp(c.first, "block 10.1.2.3/32  a.example. b.example. 1") == 0,
	   "a manual block after one block: blocked_before=1 ('%s')", c.first);
	is_int(count(s, "2001:db8::/32", -1, 0, &c), 1, "an IPv6 prefix");
	is_int(count(s, "0.0.0.0/0", -1, 0, &c), 4, "0.0.0.0/0: every IPv4 row, no IPv6");
	is_int(count(s, NULL, DW_DET_MX_WORM, 0, &c), 2, "by detector");
	is_int(count(s, NULL, -1, now - 4, &c), 2, "by time");
	dw_addr_parse("10.1.2.3", &a);
	ok(dw_incidents_history(s, &a, &h, err, sizeof(err)) == 0, "history");
	ok(h.incidents == 3 && h.verdicts == 1 && h.blocks == 2 && h.repeat_offences == 1 &&
		   strcmp(h.detectors, "mx_worm") == 0 && h.first_seen == now - 10,
	   "history: 3 incidents, 1 verdict, 2 blocks, 1 repeat, mx_worm");
	/* domain rows: the filter matches the whole domain, ASCII case ignored
	 * (a refused verdict's domain keeps the case the client asked in) */
	row(&r, DW_INC_DOMAIN_REFUSED, "10.1.2.4", DW_DET_DNS_TUNNEL, now - 2, 0);
	snprintf(r.domain, sizeof(r.domain), "Tun.EXAMPLE");
	dw_incidents_add(s, &r);
	row(&r, DW_INC_BLOCK_DOMAIN, "10.1.2.5", DW_DET_DNS_TUNNEL, now - 1, 0);
	snprintf(r.domain, sizeof(r.domain), "x.tun.example");
	dw_incidents_add(s, &r);
	{
		struct dw_inc_filter f;
		memset(&f, 0, sizeof(f));
		memset(&c, 0, sizeof(c));
		f.detector = -1;
		f.limit = 1000;
		f.domain = "tun.example";
		ok(dw_incidents_query(s, &f, collect_fn, &c, err, sizeof(err)) == 0 && c.n == 1 &&
		       strncmp(c.first, "domain_block_refused 10.1.2.4/32", 32) == 0,
		   "by domain: Tun.EXAMPLE's row only, not a subdomain's ('%s')", c.first);
		f.domain = "example";
		memset(&c, 0, sizeof(c));
		ok(dw_incidents_query(s, &f, collect_fn, &c, err, sizeof(err)) == 0 && c.n == 0,
		   "by domain: no parent matches");
	}
	dw_incidents_free(s);

	/* a directory that does not exist: rows wait, the queue is bounded */
	lines[0] = '\0';
	snprintf(path, sizeof(path), "%s/missing/inc.db", dir);
	s = dw_incidents_new(path, 0, logger, NULL, err, sizeof(err));
	for (i = 0; i < DW_INC_QUEUE + 10; i++) {
		row(&r, DW_INC_VERDICT, "10.3.0.1", DW_DET_MX_WORM, now, 0);
		dw_incidents_add(s, &r);
	}
	dw_incidents_tick(s, 1000);
	dw_incidents_stats(s, &st);
	ok(st.queued == DW_INC_QUEUE && st.dropped == 10 && st.written == 0 && !st.ok,
	   "missing directory: %d queued, 10 dropped and counted", DW_INC_QUEUE);
	ok(strstr(lines, "event=incidents_error") && strstr(lines, "op=open"), "logged: %s", lines);
	snprintf(cmd, sizeof(cmd), "%s/missing", dir);
	mkdir(cmd, 0700);
	dw_incidents_tick(s, 1500); /* before the retry time: nothing */
	dw_incidents_stats(s, &st);
	is_int((int)st.written, 0, "no retry before its time");
	dw_incidents_tick(s, 1000 + DW_INC_RETRY_MS);
	dw_incidents_stats(s, &st);
	ok(st.written == DW_INC_QUEUE && st.queued == 0 && st.ok, "the directory is there: caught up");
	ok(strstr(lines, "event=incidents_resumed") && strstr(lines, "written=1024 dropped=10\n"),
	   "resumed, with the drops: %s", lines);
	dw_incidents_free(s);

	/* a damaged file: moved aside, a new one started */
	lines[0] = '\0';
	snprintf(path, sizeof(path), "%s/damaged.db", dir);
	snprintf(cmd, sizeof(cmd), "head -c 65536 /dev/urandom > %s", path);
	ok(system(cmd) == 0, "a file of random bytes");
	s = dw_incidents_new(path, 0, logger, NULL, err, sizeof(err));
	row(&r, DW_INC_BLOCK, "10.4.0.1", -1, now, 1);
	dw_incidents_add(s, &r);
	dw_incidents_tick(s, 5000);
	dw_incidents_stats(s, &st);
	ok(st.written == 1, "written to a new file");
	ok(strstr(lines, "event=incidents_new_file") && strstr(lines, ".damaged-"), "said so: %s",
	   lines);
	dw_incidents_free(s);

	/* a schema from the future: left alone */
	lines[0] = '\0';
	snprintf(path, sizeof(path), "%s/future.db", dir);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s 'PRAGMA user_version = %d; CREATE TABLE x (y)'", path,
		 DW_INC_SCHEMA + 1);
	ok(system(cmd) == 0, "a database of schema %d", DW_INC_SCHEMA + 1);
	s = dw_incidents_new(path, 0, logger, NULL, err, sizeof(err));
	dw_incidents_add(s, &r);
	dw_incidents_tick(s, 5000);
	dw_incidents_stats(s, &st);
	ok(st.written == 0 && st.queued == 1, "nothing written to it");
	ok(strstr(lines, "is newer than this module's") != NULL, "said why: %s", lines);
	dw_incidents_free(s);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
