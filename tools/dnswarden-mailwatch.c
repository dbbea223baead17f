/**
 * \file
 * dnswarden-mailwatch(8): follow a mail server's MTA log, count its SMTP
 * activity per interval, read the DNS queries the resolver saw from it
 * (D_q, from dnswarden's control socket: mail_stats), and flag intervals
 * whose DNS load is out of proportion with the mail exchanged.
 *
 * The method is that of "Statistical Analysis in Logs of DNS Traffic and
 * E-mail Server" (Musashi, Matsuba, Sugitani, IPSJ SIG Notes 2003) and the
 * same authors' slides on DNS and SMTP/POP3 accesses of a campus mail server
 * (2003); mailwatch/log.h says what is counted, mailwatch/model.h how the
 * expected D_q and the flags are computed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "control_client.h"
#include "mailwatch/log.h"
#include "mailwatch/model.h"

extern char **environ;

static const char *progname = "dnswarden-mailwatch";
static volatile sig_atomic_t stopping;

/** Clients remembered per interval; more are counted as "(others)". */
#define CLIENT_SLOTS 4096
/** Seconds after an interval's end before it is judged (late log lines). */
#define GRACE 2
/** Intervals kept for the report. */
#define REPORT_MAX 100000
/** Longest log line read; longer ones are skipped. */
#define LINE_MAX_LEN 65536

struct client {
	char addr[64];
	uint32_t nc, rej[MWL_NREASONS];
};

/** One interval being counted. */
struct interval {
	int64_t start;
	struct mwm_counts c;
	uint64_t rej[MWL_NREASONS];
	uint32_t nclients, others_nc;
	struct client *clients; /* CLIENT_SLOTS, open addressing */
};

struct row { /* what the report keeps of a judged interval */
	int64_t start;
	struct mwm_counts c;
	struct mwm_result r;
};

struct dq_cache { /* the module's series as last fetched */
	int64_t *start;
	uint64_t *total;
	size_t n, cap;
	int64_t complete_until; /* records cover [.., complete_until) */
};

static struct {
	struct dw_conf *conf;
	char server[DW_ADDR_STRLEN];
	uint32_t interval, baseline, res;
	int once, json;
	const char *access_map, *report, *log;
	struct mwm_model model;
	struct mwm_opts opts;
	int64_t first_start, next_start;
	int64_t base_start; /* the first interval with a connection: learning starts */
	struct interval cur[64];
	size_t ncur;
	uint64_t late;
	struct dq_cache dq;
	int warned_socket;
	char **blocked;
	size_t nblocked;
	struct row *rows;
	size_t nrows;
} g;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [-c CONFIG] [--server ADDR] [--interval DURATION]\n"
	        "       [--baseline DURATION] [--once] [--json] [--access-map FILE]\n"
	        "       [--report DIR] [LOGFILE | -]\n"
	        "Correlates a mail server's MTA log with the DNS queries dnswarden counted\n"
	        "from it (mail_servers:, mail_watch: in dnswarden.yaml); see "
	        "dnswarden-mailwatch(8).\n",
	        progname);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ---- D_q from the module ------------------------------------------------ */

/** One request on the control socket; the answer body (malloc'ed) or NULL. */
static char *control_request(const char *req)
{
	const char *path = g.conf->control_socket;
	struct dw_control_reply r;
	char err[512], *body;
	int rc = dw_control_call(path, req, 10, DW_CONTROL_MAX_ANSWER, &r, err, sizeof(err));

	if (rc != DW_CTLCALL_OK) {
		if (!g.warned_socket++)
			say("cannot ask dnswarden at %s: %s (D_q unknown until it answers)",
			    path ? path : "", r.errnum ? strerror(r.errnum) : err);
		return NULL;
	}
	if (r.status != 0) {
		if (!g.warned_socket++)
			say("dnswarden at %s answered: %.200s", path, r.buf);
		dw_control_reply_free(&r);
		return NULL;
	}
	body = strndup(r.body, r.body_len);
	dw_control_reply_free(&r);
	return body;
}

/** The value of " key=" in a plain record line, or NULL. */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key);
	const char *p = line;
	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[k] == '=') {
			size_t n = strcspn(p + k + 1, " \n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p + k + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p += k;
	}
	return NULL;
}

/** Fetch the server's complete intervals from since on into the cache. */
static void dq_fetch(int64_t since)
{
	char req[256], v[64], *body, *line, *save = NULL;
	snprintf(req, sizeof(req), "DWCTL1 mail_stats %s %lld\n", g.server, (long long)since);
	g.dq.n = 0;
	g.dq.complete_until = since;
	if (!(body = control_request(req)))
		return;
	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int64_t st;
		if (!field(line, "start", v, sizeof(v)))
			continue;
		st = strtoll(v, NULL, 10);
		if (!field(line, "complete", v, sizeof(v)) || strcmp(v, "yes") != 0)
			continue;
		if (g.dq.n == g.dq.cap) {
			size_t nc = g.dq.cap ? g.dq.cap * 2 : 1024;
			int64_t *s = realloc(g.dq.start, nc * sizeof(*s));
			uint64_t *t;
			if (!s)
				break;
			g.dq.start = s;
			if (!(t = realloc(g.dq.total, nc * sizeof(*t))))
				break;
			g.dq.total = t;
			g.dq.cap = nc;
		}
		g.dq.start[g.dq.n] = st;
		g.dq.total[g.dq.n] = field(line, "total", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
		g.dq.n++;
		if (st + g.res > g.dq.complete_until)
			g.dq.complete_until = st + g.res;
	}
	free(body);
}

/** D_q of [start, start + interval): the sum of the module's intervals, or
 *  -1 when one of them is missing. */
static int64_t dq_of(int64_t start)
{
	int64_t end = start + g.interval, t, sum = 0;
	if (end > g.dq.complete_until || g.dq.n == 0 || start < g.dq.start[0])
		dq_fetch(start);
	for (t = start; t < end; t += g.res) {
		size_t lo = 0, hi = g.dq.n;
		while (lo < hi) { /* records are sorted by start */
			size_t mid = (lo + hi) / 2;
			if (g.dq.start[mid] < t)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= g.dq.n || g.dq.start[lo] != t)
			return -1;
		sum += (int64_t)g.dq.total[lo];
	}
	return sum;
}

/* ---- intervals ------------------------------------------------------------ */

static struct client *client_slot(struct interval *iv, const char *addr)
{
	uint32_t h = 2166136261u;
	const char *p;
	size_t i;
	if (!iv->clients && !(iv->clients = calloc(CLIENT_SLOTS, sizeof(struct client))))
		return NULL;
	for (p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = 0; i < CLIENT_SLOTS; i++) {
		struct client *c = &iv->clients[(h + i) % CLIENT_SLOTS];
		if (c->addr[0] == '\0') {
			if (iv->nclients >= CLIENT_SLOTS * 3 / 4)
				return NULL;
			snprintf(c->addr, sizeof(c->addr), "%s", addr);
			iv->nclients++;
			return c;
		}
		if (strcmp(c->addr, addr) == 0)
			return c;
	}
	return NULL;
}

/** The open interval that counts second t, or NULL (closed already). */
static struct interval *interval_at(int64_t t)
{
	int64_t start = t - ((t % g.interval) + g.interval) % g.interval;
	size_t i;
	if (g.next_start == INT64_MIN)
		g.next_start = g.first_start = start;
	if (start < g.next_start) {
		g.late++;
		return NULL;
	}
	for (i = 0; i < g.ncur; i++)
		if (g.cur[i].start == start)
			return &g.cur[i];
	if (g.ncur == sizeof(g.cur) / sizeof(g.cur[0]))
		return NULL; /* a time stamp far ahead: ignore rather than grow */
	memset(&g.cur[g.ncur], 0, sizeof(g.cur[0]));
	g.cur[g.ncur].start = start;
	return &g.cur[g.ncur++];
}

static void count_line(const char *line)
{
	struct mwl_line l;
	struct interval *iv;
	struct client *c;
	if (mwl_parse(line, time(NULL), &l) < 0 || !(iv = interval_at(l.when)))
		return;
	switch (l.kind) {
	case MWL_CONNECT:
		iv->c.nc++;
		if ((c = client_slot(iv, l.client)))
			c->nc++;
		else
			iv->others_nc++;
		break;
	case MWL_FROM:
		iv->c.nf++;
		break;
	case MWL_TO:
		iv->c.nto++;
		if (l.status == MWL_DEFERRED)
			iv->c.deferred++;
		else if (l.status == MWL_BOUNCED)
			iv->c.bounced++;
		break;
	case MWL_REJECT:
		iv->rej[l.reason]++;
		if ((c = client_slot(iv, l.client)))
			c->rej[l.reason]++;
		break;
	case MWL_LOGIN:
		iv->c.np++;
		break;
	}
}

/* ---- output --------------------------------------------------------------- */

static void iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/** The access map: every client flagged so far, written whole (temp file +
 *  rename) so that postmap never reads half a file. */
static void write_access_map(void)
{
	char tmp[DW_CONF_MAX_PATH + 16];
	FILE *f;
	size_t i;
	snprintf(tmp, sizeof(tmp), "%s.tmp", g.access_map);
	if (!(f = fopen(tmp, "w"))) {
		say("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "# Postfix check_client_access map written by dnswarden-mailwatch.\n"
	           "# Not applied by itself: review, then postmap this file and list it in\n"
	           "# smtpd_client_restrictions (see dnswarden-mailwatch(8)).\n");
	for (i = 0; i < g.nblocked; i++)
		fprintf(f, "%s\n", g.blocked[i]);
	if (fclose(f) != 0 || rename(tmp, g.access_map) != 0)
		say("cannot write %s: %s", g.access_map, strerror(errno));
}

static void add_to_access_map(const char *client, int64_t start, double share, const char *reason)
{
	char line[256], when[32];
	struct dw_addr a;
	size_t i, n = strlen(client);
	char **nb;
	if (dw_addr_parse(client, &a) != 0)
		return;
	for (i = 0; i < g.nblocked; i++)
		if (strncmp(g.blocked[i], client, n) == 0 && g.blocked[i][n] == ' ')
			return;
	iso_time(start, when, sizeof(when));
	snprintf(line, sizeof(line),
	         "%s REJECT mail_anomaly at %s: %.0f%% of connections, %s (dnswarden-mailwatch)",
	         client, when, share * 100, reason);
	if (!(nb = realloc(g.blocked, (g.nblocked + 1) * sizeof(*nb))) ||
	    !(nb[g.nblocked] = strdup(line))) {
		if (nb)
			g.blocked = nb;
		return;
	}
	g.blocked = nb;
	g.nblocked++;
	write_access_map();
}

/** CSV, gnuplot script and plot (SVG) of everything judged so far. */
static void write_report(void)
{
	char path[DW_CONF_MAX_PATH + 64];
	FILE *f;
	size_t i;
	pid_t pid;
	int st;
	if (!g.report || g.nrows == 0)
		return;
	snprintf(path, sizeof(path), "%s/mailwatch.csv", g.report);
	if (!(f = fopen(path, "w"))) {
		say("cannot write %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "start,nc,nf,nto,deferred,bounced,np,mee,dq,dq_expected,ratio,flagged,why\n");
	for (i = 0; i < g.nrows; i++) {
		const struct row *r = &g.rows[i];
		fprintf(f, "%lld,%llu,%llu,%llu,%llu,%llu,%llu,", (long long)r->start,
		        (unsigned long long)r->c.nc, (unsigned long long)r->c.nf,
		        (unsigned long long)r->c.nto, (unsigned long long)r->c.deferred,
		        (unsigned long long)r->c.bounced, (unsigned long long)r->c.np);
		if (r->r.mee >= 0)
			fprintf(f, "%.4f", r->r.mee);
		fputc(',', f);
		if (r->c.dq >= 0)
			fprintf(f, "%lld", (long long)r->c.dq);
		fprintf(f, ",%.2f,", r->r.expected);
		if (r->r.ratio >= 0)
			fprintf(f, "%.3f", r->r.ratio);
		fprintf(f, ",%d,%s\n", r->r.flagged, r->r.why);
	}
	if (fclose(f) != 0) {
		say("cannot write %s: %s", path, strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/mailwatch.gp", g.report);
	if (!(f = fopen(path, "w")))
		return;
	fprintf(f,
	        "# gnuplot script written by dnswarden-mailwatch: D_q, expected D_q, N_c, N_f\n"
	        "# and MEE over time; flagged intervals marked.\n"
	        "set datafile separator ','\n"
	        "set datafile missing ''\n"
	        "set terminal svg size 1000,700 dynamic noenhanced background '#ffffff'\n"
	        "set output '%s/mailwatch.svg'\n"
	        "set xdata time\nset timefmt '%%s'\nset format x '%%H:%%M:%%S'\n"
	        "set multiplot layout 2,1 title 'mail server %s: DNS queries and SMTP log "
	        "(%us intervals)'\n"
	        "set key top left\nset ylabel 'per interval'\nset grid\n"
	        "plot '%s/mailwatch.csv' every ::1 using 1:9 with linespoints title 'D_q', \\\n"
	        "     '' every ::1 using 1:10 with lines dashtype 2 title 'expected D_q', \\\n"
	        "     '' every ::1 using 1:2 with linespoints title 'N_c', \\\n"
	        "     '' every ::1 using 1:3 with linespoints title 'N_f', \\\n"
	        "     '' every ::1 using 1:($12 > 0 ? $9 : 1/0) with points pt 7 ps 1.5 lc "
	        "rgb 'red' title 'flagged'\n"
	        "set ylabel 'MEE = N_f / N_c'\nset yrange [0:*]\n"
	        "plot '%s/mailwatch.csv' every ::1 using 1:8 with linespoints title 'MEE', \\\n"
	        "     '' every ::1 using 1:($12 > 0 ? $8 : 1/0) with points pt 7 ps 1.5 lc rgb "
	        "'red' title 'flagged'\n"
	        "unset multiplot\n",
	        g.report, g.server, g.interval, g.report, g.report);
	if (fclose(f) != 0)
		return;
	{
		char *argv[] = {"gnuplot", path, NULL};
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		if (posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ) != 0) {
			static int warned;
			if (!warned++)
				say("gnuplot not found: %s/mailwatch.csv and mailwatch.gp written, "
				    "no plot (apt-get install gnuplot-nox)",
				    g.report);
		} else if (waitpid(pid, &st, 0) == pid && (!WIFEXITED(st) || WEXITSTATUS(st)))
			say("gnuplot %s failed", path);
		posix_spawn_file_actions_destroy(&fa);
	}
}

static void print_num(FILE *f, const char *key, double v, int known)
{
	if (known)
		fprintf(f, g.json ? ",\"%s\":%.4g" : " %s=%.4g", key, v);
	else
		fprintf(f, g.json ? ",\"%s\":null" : " %s=-", key);
}

/** Judge a closed interval: model, flags, output, syslog, access map. */
static void judge(struct interval *iv)
{
	struct mwm_result r;
	int in_baseline;
	const struct client *top = NULL;
	uint64_t rej[MWL_NREASONS];
	unsigned k, best = MWL_NREASONS;
	double share = 0;
	const char *reason = "none";
	char when[32];
	size_t i;

	iv->c.dq = dq_of(iv->start);
	/* an idle start (the MTA's own start-up lines) teaches nothing: the
	 * baseline begins with the first SMTP connection */
	if (g.base_start == INT64_MIN && iv->c.nc > 0)
		g.base_start = iv->start;
	in_baseline = g.base_start == INT64_MIN || iv->start < g.base_start + (int64_t)g.baseline;
	if (!in_baseline && !g.model.fitted && g.model.n > 0) {
		mwm_fit(&g.model);
		say("model fitted over %u baseline intervals: D_q = %.3f N_c + %.3f N_P, "
		    "N_f = %.3f N_c (the studies: 8.8, 1, 0.95); baseline MEE %.3f",
		    g.model.n, g.model.a, g.model.b, g.model.c, g.model.base_mee);
	}
	mwm_judge(&g.model, &g.opts, &iv->c, !in_baseline, &r);
	for (i = 0; iv->clients && i < CLIENT_SLOTS; i++)
		if (iv->clients[i].addr[0] && (!top || iv->clients[i].nc > top->nc))
			top = &iv->clients[i];
	if (top && top->nc == 0)
		top = NULL;
	if (top && iv->c.nc)
		share = (double)top->nc / (double)iv->c.nc;
	memcpy(rej, iv->rej, sizeof(rej));
	if (top) /* the top client's own dominant reason, if it was rejected */
		for (k = 0; k < MWL_NREASONS; k++)
			if (top->rej[k] && (best == MWL_NREASONS || top->rej[k] > top->rej[best]))
				best = k;
	for (k = 0; best == MWL_NREASONS && k < MWL_NREASONS; k++)
		if (rej[k] && (best == MWL_NREASONS || rej[k] > rej[best]))
			best = k;
	if (best < MWL_NREASONS)
		reason = mwl_reason_name((enum mwl_reason)best);
	else if (strstr(r.why, "deferred"))
		reason = "deferred";

	if (g.json) {
		printf("{\"start\":%lld,\"length\":%u,\"server\":\"%s\",\"nc\":%llu,\"nf\":%llu,"
		       "\"nto\":%llu,\"deferred\":%llu,\"bounced\":%llu,\"np\":%llu",
		       (long long)iv->start, g.interval, g.server, (unsigned long long)iv->c.nc,
		       (unsigned long long)iv->c.nf, (unsigned long long)iv->c.nto,
		       (unsigned long long)iv->c.deferred, (unsigned long long)iv->c.bounced,
		       (unsigned long long)iv->c.np);
		printf(",\"rejects\":{");
		for (k = 0; k < MWL_NREASONS; k++)
			printf("%s\"%s\":%llu", k ? "," : "", mwl_reason_name((enum mwl_reason)k),
			       (unsigned long long)rej[k]);
		printf("}");
		print_num(stdout, "mee", r.mee, r.mee >= 0);
		if (iv->c.dq >= 0)
			printf(",\"dq\":%lld", (long long)iv->c.dq);
		else
			printf(",\"dq\":null");
		print_num(stdout, "dq_expected", r.expected, 1);
		print_num(stdout, "ratio", r.ratio, r.ratio >= 0);
		printf(",\"baseline\":%s,\"flagged\":%s,\"why\":\"%s\",\"reason\":\"%s\"",
		       in_baseline ? "true" : "false", r.flagged ? "true" : "false", r.why, reason);
		if (top)
			printf(",\"top_client\":\"%s\"", top->addr);
		else
			printf(",\"top_client\":null");
		printf(",\"top_share\":%.3f,\"model_a\":%.4g,\"model_b\":%.4g,\"model_c\":%.4g,"
		       "\"baseline_mee\":%.4g}\n",
		       share, g.model.a, g.model.b, g.model.c, g.model.base_mee);
	} else {
		iso_time(iv->start, when, sizeof(when));
		printf("%s server=%s nc=%llu nf=%llu deferred=%llu np=%llu", when, g.server,
		       (unsigned long long)iv->c.nc, (unsigned long long)iv->c.nf,
		       (unsigned long long)iv->c.deferred, (unsigned long long)iv->c.np);
		print_num(stdout, "mee", r.mee, r.mee >= 0);
		if (iv->c.dq >= 0)
			printf(" dq=%lld", (long long)iv->c.dq);
		else
			printf(" dq=-");
		print_num(stdout, "dq_expected", r.expected, 1);
		print_num(stdout, "ratio", r.ratio, r.ratio >= 0);
		printf(" flagged=%s why=%s top_client=%s top_share=%.2f reason=%s%s\n",
		       r.flagged ? "yes" : "no", r.why[0] ? r.why : "-", top ? top->addr : "-",
		       share, reason, in_baseline ? " (baseline)" : "");
	}
	fflush(stdout);
	if (r.flagged) {
		syslog(LOG_WARNING,
		       "dnswarden: event=mail_anomaly server=%s interval=%lld length=%u mee=%.3f "
		       "dq=%lld dq_expected=%.1f nc=%llu nf=%llu deferred=%llu top_client=%s "
		       "top_share=%.2f reason=%s why=%s",
		       g.server, (long long)iv->start, g.interval, r.mee < 0 ? 0 : r.mee,
		       (long long)iv->c.dq, r.expected, (unsigned long long)iv->c.nc,
		       (unsigned long long)iv->c.nf, (unsigned long long)iv->c.deferred,
		       top ? top->addr : "-", share, reason, r.why);
		if (g.access_map && top && share >= 0.5)
			add_to_access_map(top->addr, iv->start, share, reason);
	}
	if (in_baseline && g.base_start != INT64_MIN)
		mwm_learn(&g.model, &iv->c);
	if (g.report) {
		if (g.nrows == REPORT_MAX) {
			memmove(g.rows, g.rows + 1, (REPORT_MAX - 1) * sizeof(*g.rows));
			g.nrows--;
		}
		if (g.rows || (g.rows = calloc(REPORT_MAX, sizeof(*g.rows)))) {
			g.rows[g.nrows].start = iv->start;
			g.rows[g.nrows].c = iv->c;
			g.rows[g.nrows].r = r;
			g.nrows++;
		}
	}
}

/** Judge every interval that ended before until (and the empty ones
 *  between), oldest first. */
static void close_until(int64_t until)
{
	int judged = 0;
	if (g.next_start == INT64_MIN)
		return;
	while (g.next_start + (int64_t)g.interval <= until) {
		struct interval empty, *iv = NULL;
		size_t i;
		for (i = 0; i < g.ncur; i++)
			if (g.cur[i].start == g.next_start)
				iv = &g.cur[i];
		if (!iv) {
			memset(&empty, 0, sizeof(empty));
			empty.start = g.next_start;
			iv = &empty;
		}
		judge(iv);
		judged = 1;
		free(iv->clients);
		if (iv != &empty)
			*iv = g.cur[--g.ncur];
		g.next_start += g.interval;
	}
	if (judged)
		write_report();
}

/* ---- reading the log ------------------------------------------------------ */

struct reader {
	int fd;
	const char *path; /* NULL: standard input */
	dev_t dev;
	ino_t ino;
	off_t off;
	char buf[LINE_MAX_LEN + 1];
	size_t n;
	int skipping; /* inside a line longer than LINE_MAX_LEN */
};

static int reader_open(struct reader *r)
{
	struct stat st;
	if (!r->path) {
		r->fd = 0;
		return 0;
	}
	if ((r->fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(r->fd, &st) == 0) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	r->off = 0;
	return 0;
}

/** Count the complete lines in the buffer. */
static void reader_lines(struct reader *r)
{
	char *p = r->buf, *nl;
	r->buf[r->n] = '\0';
	while ((nl = memchr(p, '\n', r->n - (size_t)(p - r->buf))) != NULL) {
		*nl = '\0';
		if (!r->skipping)
			count_line(p);
		r->skipping = 0;
		p = nl + 1;
	}
	r->n -= (size_t)(p - r->buf);
	memmove(r->buf, p, r->n);
	if (r->n == LINE_MAX_LEN) { /* too long: drop it up to its newline */
		r->n = 0;
		r->skipping = 1;
	}
}

/** Read what is there: 1 data read, 0 at the end for now, -1 for good. */
static int reader_read(struct reader *r)
{
	ssize_t k = read(r->fd, r->buf + r->n, LINE_MAX_LEN - r->n);
	if (k > 0) {
		r->n += (size_t)k;
		r->off += k;
		reader_lines(r);
		return 1;
	}
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (!r->path)
		return -1; /* standard input closed */
	return 0;
}

/** tail -F: the file was replaced (rotation) or truncated: start over. */
static void reader_check_rotation(struct reader *r)
{
	struct stat st;
	if (!r->path || stat(r->path, &st) != 0)
		return; /* gone for now: keep the old one until a new one appears */
	if (st.st_dev != r->dev || st.st_ino != r->ino) {
		while (reader_read(r) > 0) /* the rest of the old file first */
			;
		close(r->fd);
		if (reader_open(r) < 0)
			say("cannot open %s: %s", r->path, strerror(errno));
	} else if (st.st_size < r->off) {
		lseek(r->fd, 0, SEEK_SET);
		r->off = 0;
	}
}

static int run(void)
{
	static struct reader r;
	r.path = strcmp(g.log, "-") == 0 ? NULL : g.log;
	if (reader_open(&r) < 0) {
		say("cannot open %s: %s", g.log, strerror(errno));
		return 1;
	}
	while (!stopping) {
		int rc = reader_read(&r);
		if (rc > 0)
			continue;
		if (rc < 0 || g.once)
			break;
		/* at the end for now: judge what has ended, wait, look again */
		if (g.next_start == INT64_MIN) {
			int64_t now = (int64_t)time(NULL);
			g.next_start = g.first_start = now - now % g.interval;
		}
		close_until((int64_t)time(NULL) - GRACE);
		if (r.path) {
			reader_check_rotation(&r);
			poll(NULL, 0, 250);
		} else {
			struct pollfd p = {.fd = 0, .events = POLLIN};
			poll(&p, 1, 250);
		}
	}
	/* --once, end of input or a signal: judge every complete interval */
	close_until((int64_t)time(NULL) - GRACE);
	if (g.late)
		say("%llu log lines came after their interval was judged and were not counted",
		    (unsigned long long)g.late);
	write_report();
	return 0;
}

/** --server, or the only mail_servers entry when it is one address. */
static int pick_server(const char *arg)
{
	struct dw_addr a;
	if (arg) {
		if (dw_addr_parse(arg, &a) != 0) {
			say("--server: '%s' is not an IPv4 or IPv6 address", arg);
			return -1;
		}
		dw_addr_format(&a, g.server, sizeof(g.server));
		return 0;
	}
	if (g.conf->mail_server_count == 1 &&
	    g.conf->mail_servers[0].len == (g.conf->mail_servers[0].addr.family == 4 ? 32 : 128)) {
		dw_addr_format(&g.conf->mail_servers[0].addr, g.server, sizeof(g.server));
		return 0;
	}
	say("%s: name the mail server with --server ADDR (mail_servers: has %zu entries%s)",
	    g.conf->path ? g.conf->path : "config", g.conf->mail_server_count,
	    g.conf->mail_server_count == 1 ? ", a prefix" : "");
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"server", required_argument, NULL, 's'},
	                                     {"interval", required_argument, NULL, 'i'},
	                                     {"baseline", required_argument, NULL, 'b'},
	                                     {"once", no_argument, NULL, 'o'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"access-map", required_argument, NULL, 'a'},
	                                     {"report", required_argument, NULL, 'r'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = NULL, *server = NULL, *interval = NULL, *baseline = NULL;
	char err[DW_CONF_ERRLEN];
	struct sigaction sa;
	struct stat st;
	int c;
	long d;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'i':
			interval = optarg;
			break;
		case 'b':
			baseline = optarg;
			break;
		case 'o':
			g.once = 1;
			break;
		case 'j':
			g.json = 1;
			break;
		case 'a':
			g.access_map = optarg;
			break;
		case 'r':
			g.report = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	g.log = optind < argc ? argv[optind] : "-";
	if (!(g.conf = dw_conf_load(config, err, sizeof(err)))) {
		say("%s", err);
		return 1;
	}
	if (pick_server(server) < 0)
		return 2;
	g.res = g.conf->mw_resolution;
	g.interval = g.res;
	g.baseline = g.conf->mw_baseline;
	if (interval) {
		d = dw_parse_duration(interval);
		if (d < (long)g.res || d % g.res != 0 || d > 86400) {
			say("--interval: '%s' must be a duration that is a multiple of "
			    "mail_watch.resolution (%us), at most 1d",
			    interval, g.res);
			return 2;
		}
		g.interval = (uint32_t)d;
	}
	if (baseline) {
		d = dw_parse_duration(baseline);
		if (d < 0 || d > 31536000) {
			say("--baseline: '%s' is not a duration (90s, 10m, 1h, 1d)", baseline);
			return 2;
		}
		g.baseline = (uint32_t)d;
	}
	if (g.report && (stat(g.report, &st) != 0 || !S_ISDIR(st.st_mode))) {
		say("--report: %s is not a directory", g.report);
		return 2;
	}
	mwm_init(&g.model);
	g.opts.mee_floor = g.conf->mw_mee_floor / 100.0;
	g.opts.dq_factor = g.conf->mw_dq_factor / 100.0;
	g.opts.min_dq = g.conf->mw_min_dq;
	g.next_start = INT64_MIN;
	g.base_start = INT64_MIN;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	openlog("dnswarden-mailwatch", LOG_PID, g.conf->mw_facility);
	c = run();
	closelog();
	dw_conf_free(g.conf);
	return c;
}
