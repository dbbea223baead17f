/**
 * \file
 * dnswarden-scan(8): the live module's engine run offline over a capture
 * (pcap/pcapng), a Zeek dns.log (TSV or JSON lines) or an Unbound query log,
 * with the operator's YAML, in virtual time taken from the records. Prints
 * the verdict lines the module would have logged, then a summary per client.
 *
 * Exit status: 0 no verdict, 1 at least one verdict, 2 usage, config or
 * input error (nothing or only part was read).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "feature.h"
#include "pcapdns.h"
#include "scan/pair.h"
#include "scan/records.h"

#define MAX_SERVERS 256
#define MAX_LINE (1u << 20)

enum fmt { F_AUTO, F_PCAP, F_ZEEK, F_ZEEK_JSON, F_UNBOUND };
static const char *const fmt_names[] = {"auto", "pcap", "zeek", "zeek-json", "unbound"};

/** What the scan knows about one client (the engine's key: IPv6 /prefix). */
struct client {
	struct dw_addr a;
	uint64_t queries, nxdomain;
	uint64_t qclass[DW_Q_COUNT];
	uint64_t feat[DW_FEAT_COUNT];
	uint32_t verdicts[DW_DET_COUNT];
};

struct scan {
	struct dw_conf *conf;
	struct dw_engine *e;
	struct dw_feature_set *fs;
	struct dw_scan_pair *pair;
	struct dw_cidr servers[MAX_SERVERS];
	size_t nservers;
	int quiet;
	uint16_t port; /* the DNS server's port in captures */
	/* virtual time */
	int started;
	int64_t t0;
	uint32_t now;
	int64_t first, last;
	/* counts */
	uint64_t records, queries, not_to_server, from_server, malformed, ignored, verdicts;
	struct dw_pcapdns_stats pk;
	/* clients: open addressing */
	struct client *tab;
	size_t cap, n;
	uint64_t clients_dropped;
};

/** Print usage. */
static void usage(FILE *f)
{
	fputs("usage: dnswarden-scan [-c FILE] [-f FORMAT] [-s ADDR[/LEN]]... [-p PORT] [-q]\n"
	      "                      [--no-summary]\n"
	      "                      [--timeout SECONDS] [--year YEAR] FILE\n"
	      "  -c FILE        dnswarden's YAML (default: the built-in defaults)\n"
	      "  -f FORMAT      auto (default), pcap, zeek, zeek-json or unbound\n"
	      "  -s ADDR[/LEN]  the resolver: only queries sent to it count (pcap, zeek)\n"
	      "  -p PORT        the DNS server port in captures (default 53)\n"
	      "  -q             no verdict lines, only the summary\n"
	      "  --no-summary   no summary, only the verdict lines\n"
	      "  --timeout S    seconds a query waits for its answer (default 5)\n"
	      "  --year Y       year of Unbound's log-time-ascii stamps (default: this year)\n"
	      "Exit: 0 no verdict, 1 verdicts, 2 usage, config or input error.\n",
	      f);
}

/** Hash of a client address. */
static size_t addr_slot(const struct dw_addr *a, size_t cap)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
	h = (h ^ a->family) * 1099511628211ULL;
	for (i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/** The client's row (created); NULL when the table cannot grow. */
static struct client *client_row(struct scan *s, const struct dw_addr *a0)
{
	struct dw_addr a = *a0;
	size_t i;
	if (a.family == 6)
		dw_addr_mask(&a, s->conf->ipv6_prefix);
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024, k;
		struct client *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return NULL;
		for (k = 0; k < s->cap; k++) {
			if (!s->tab[k].a.family)
				continue;
			i = addr_slot(&s->tab[k].a, ncap);
			while (nt[i].a.family)
				i = (i + 1) & (ncap - 1);
			nt[i] = s->tab[k];
		}
		free(s->tab);
		s->tab = nt;
		s->cap = ncap;
	}
	i = addr_slot(&a, s->cap);
	while (s->tab[i].a.family && !dw_addr_equal(&s->tab[i].a, &a))
		i = (i + 1) & (s->cap - 1);
	if (!s->tab[i].a.family) {
		memset(&s->tab[i], 0, sizeof(s->tab[i]));
		s->tab[i].a = a;
		s->n++;
	}
	return &s->tab[i];
}

/** The engine's log: lines go to stdout; verdicts are counted per client. */
static void on_log(void *arg, int prio, const char *line)
{
	struct scan *s = arg;
	const char *c, *d;
	(void)prio;
	if (!s->quiet)
		printf("%s\n", line);
	if (!strstr(line, " event=verdict ") && !strstr(line, " event=would_block "))
		return;
	c = strstr(line, " client=");
	d = strstr(line, " detector=");
	if (c && d) {
		char ab[DW_ADDR_STRLEN], db[64];
		struct dw_addr a;
		int det;
		if (sscanf(c + 8, "%63s", ab) == 1 && sscanf(d + 10, "%63s", db) == 1 &&
		    dw_addr_parse(ab, &a) == 0 && (det = dw_detector_from_name(db)) >= 0) {
			struct client *cl = client_row(s, &a);
			if (cl)
				cl->verdicts[det]++;
		}
	}
	s->verdicts++;
}

/** Whether a lies in the resolver list. */
static int is_server(const struct scan *s, const struct dw_addr *a)
{
	size_t i;
	for (i = 0; i < s->nservers; i++)
		if (dw_cidr_match(&s->servers[i], a))
			return 1;
	return 0;
}

/** One query with its answer (or none) into the engine, in virtual time. */
static void feed(void *arg, const struct dw_scan_rec *r)
{
	struct scan *s = arg;
	struct dw_query q;
	struct dw_features f;
	struct client *cl;
	if (!s->started) {
		s->started = 1;
		s->t0 = r->t;
		s->first = r->t;
		s->now = 1;
		dw_engine_set_clock(s->e, s->t0, 1);
	}
	if (r->t > s->t0 + (int64_t)s->now - 1) { /* time never goes back */
		int64_t d = r->t - s->t0 + 1;
		s->now = d > (int64_t)UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)d;
		s->last = r->t;
	}
	memset(&q, 0, sizeof(q));
	q.client = r->client;
	q.qname = r->qname_len ? r->qname : NULL;
	q.qname_len = r->qname_len;
	q.qtype = r->qtype;
	q.rcode = r->rcode < 0 ? 0 : (uint8_t)r->rcode;
	q.source = DW_SRC_RESOLVED;
	s->queries++;
	dw_engine_observe_at(s->e, &q, s->now);
	dw_engine_run_verdicts(s->e, s->now);
	cl = client_row(s, &r->client);
	if (!cl) {
		s->clients_dropped++;
		return;
	}
	cl->queries++;
	if (r->rcode == 3)
		cl->nxdomain++;
	memset(&f, 0, sizeof(f));
	f.qclass = dw_qclass_of(r->qtype);
	if (q.qname && dw_features_of(s->fs, q.qname, q.qname_len, q.qtype, &f) != 0)
		f.flags = 0;
	cl->qclass[f.qclass < DW_Q_COUNT ? f.qclass : DW_Q_OTHER]++;
	for (unsigned i = 0; i < DW_FEAT_COUNT; i++)
		if (f.flags & (1u << i))
			cl->feat[i]++;
}

/** A record from any reader: filtered by the resolver list, then paired or fed. */
static void take(struct scan *s, const struct dw_scan_rec *r)
{
	s->records++;
	if (s->nservers) {
		if (is_server(s, &r->client)) {
			s->from_server++; /* the resolver's own iteration */
			return;
		}
		if (r->server.family && !is_server(s, &r->server)) {
			s->not_to_server++;
			return;
		}
	}
	if (r->kind == DW_SCAN_QUERY)
		dw_scan_pair_query(s->pair, r);
	else if (r->kind == DW_SCAN_REPLY)
		dw_scan_pair_reply(s->pair, r);
	else
		feed(s, r);
}

/* ------------------------------------------------------------------------ */
/* pcap */

/** The question of a DNS message (pcapdns.h): name and type into r. 0, or
 *  -1 when malformed. */
static int question(const uint8_t *m, size_t len, struct dw_scan_rec *r)
{
	int wl = dw_pcapdns_question(m, len, r->qname, &r->qtype);

	if (wl < 0)
		return -1;
	r->qname_len = (size_t)wl;
	return 0;
}

struct pcap_ctx {
	struct scan *s;
	int64_t t;
};

/** A DNS message from the packet walk: queries to port 53, answers from it. */
static int on_message(void *arg, const struct dw_pcapdns_msg *m)
{
	struct pcap_ctx *pc = arg;
	struct dw_scan_rec r;
	struct dw_addr src, dst;
	int qr;
	if (m->len < 12)
		return -1;
	qr = (m->msg[2] & 0x80) != 0;
	if (qr ? m->sport != pc->s->port : m->dport != pc->s->port)
		return 0; /* a query from the server's port, an answer to it: not a client's */
	memset(&r, 0, sizeof(r));
	src.family = dst.family = (uint8_t)m->family;
	memset(src.b, 0, 16);
	memset(dst.b, 0, 16);
	memcpy(src.b, m->src, m->family == 4 ? 4 : 16);
	memcpy(dst.b, m->dst, m->family == 4 ? 4 : 16);
	r.t = pc->t;
	r.id = (uint16_t)(m->msg[0] << 8 | m->msg[1]);
	if ((m->msg[4] | m->msg[5]) == 0) {
		if (m->tcp)
			return -1;
		if (qr)
			return 0; /* an answer without a question matches nothing */
	} else if (question(m->msg, m->len, &r) != 0) {
		if (m->tcp)
			return -1;
		pc->s->malformed++;
		return 0;
	}
	if (qr) {
		r.kind = DW_SCAN_REPLY;
		r.client = dst;
		r.server = src;
		r.cport = m->dport;
		r.rcode = m->msg[3] & 15;
	} else {
		r.kind = DW_SCAN_QUERY;
		r.client = src;
		r.server = dst;
		r.cport = m->sport;
		r.rcode = -1;
	}
	take(pc->s, &r);
	return 0;
}

/** Read a capture. 0, or -1 when it cannot be read at all; a capture cut
 *  short is read up to there (warning). */
static int read_pcap(struct scan *s, const char *file)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pcap_ctx pc = {s, 0};
	pcap_t *p = pcap_open_offline(file, eb);
	int dlt, rc;
	if (!p) {
		fprintf(stderr, "dnswarden-scan: %s: %s\n", file, eb);
		return -1;
	}
	dlt = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pc.t = (int64_t)h->ts.tv_sec;
		dw_pcapdns_packet(dlt, data, h->caplen, s->port,
		                  DW_PCAPDNS_TO53 | DW_PCAPDNS_FROM53, on_message, &pc, &s->pk);
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "dnswarden-scan: %s: %s (results up to here)\n", file,
		        pcap_geterr(p));
	pcap_close(p);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* text formats */

/** Read lines of a text format. 0, or -1 on a read error. */
static int read_text(struct scan *s, FILE *f, const char *file, enum fmt fmt, int year)
{
	struct dw_scan_zeek z;
	char *line = malloc(MAX_LINE);
	int rc = 0;
	if (!line) {
		fprintf(stderr, "dnswarden-scan: out of memory\n");
		return -1;
	}
	dw_scan_zeek_init(&z);
	while (fgets(line, MAX_LINE, f)) {
		struct dw_scan_rec r;
		size_t len = strlen(line);
		int k;
		if (len == MAX_LINE - 1 && line[len - 1] != '\n') { /* overlong: skip it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			s->malformed++;
			continue;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (fmt == F_ZEEK)
			k = dw_scan_zeek_line(&z, line, len, &r);
		else if (fmt == F_ZEEK_JSON)
			k = dw_scan_zeek_json(line, len, &r);
		else
			k = dw_scan_unbound_line(line, len, year, &r);
		if (k < 0)
			s->malformed++;
		else if (k == 0)
			s->ignored++;
		else
			take(s, &r);
	}
	if (ferror(f)) {
		fprintf(stderr, "dnswarden-scan: %s: %s\n", file, strerror(errno));
		rc = -1;
	}
	free(line);
	return rc;
}

/** The format of a file from its first bytes. */
static enum fmt sniff(const char *file)
{
	unsigned char b[16];
	size_t n;
	FILE *f = fopen(file, "rb");
	enum fmt r = F_UNBOUND;
	if (!f)
		return F_AUTO;
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	if (n >= 4) {
		uint32_t m =
		    (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 ||
		    m == 0x0a0d0d0a)
			return F_PCAP;
	}
	if (n >= 1 && b[0] == '#')
		r = F_ZEEK;
	else if (n >= 1 && b[0] == '{')
		r = F_ZEEK_JSON;
	return r;
}

/* ------------------------------------------------------------------------ */

/** Rows with verdicts first, then by queries, then by address. */
static int row_cmp(const void *x, const void *y)
{
	const struct client *a = x, *b = y;
	uint64_t va = 0, vb = 0;
	unsigned i;
	for (i = 0; i < DW_DET_COUNT; i++) {
		va += a->verdicts[i];
		vb += b->verdicts[i];
	}
	if (va != vb)
		return va > vb ? -1 : 1;
	if (a->queries != b->queries)
		return a->queries > b->queries ? -1 : 1;
	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	return memcmp(a->a.b, b->a.b, 16);
}

/** The summary: one line for the input, one per client. */
static void summary(struct scan *s, const char *file, enum fmt fmt)
{
	uint64_t unanswered, orphans;
	char first[32] = "-", last[32] = "-";
	size_t i, k = 0;
	dw_scan_pair_counts(s->pair, &unanswered, &orphans);
	if (s->started) {
		time_t a = (time_t)s->first, b = (time_t)(s->last ? s->last : s->first);
		struct tm tm;
		strftime(first, sizeof(first), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a, &tm));
		strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
	}
	printf("summary: file=%s format=%s records=%" PRIu64 " queries=%" PRIu64
	       " clients=%zu verdicts=%" PRIu64 " unanswered=%" PRIu64
	       " answers_without_query=%" PRIu64 " not_to_resolver=%" PRIu64
	       " from_resolver=%" PRIu64 " malformed=%" PRIu64 " ignored_lines=%" PRIu64
	       " packets=%" PRIu64 " bad_packets=%" PRIu64 " tcp_skipped=%" PRIu64
	       " first=%s last=%s\n",
	       file, fmt_names[fmt], s->records, s->queries, s->n, s->verdicts, unanswered, orphans,
	       s->not_to_server, s->from_server, s->malformed, s->ignored, s->pk.packets,
	       s->pk.malformed, s->pk.tcp_skipped, first, last);
	for (i = 0; i < s->cap; i++)
		if (s->tab[i].a.family)
			s->tab[k++] = s->tab[i];
	qsort(s->tab, k, sizeof(*s->tab), row_cmp);
	for (i = 0; i < k; i++) {
		const struct client *c = &s->tab[i];
		char ab[DW_ADDR_STRLEN];
		unsigned j;
		int any = 0;
		dw_addr_format(&c->a, ab, sizeof(ab));
		printf("client=%s queries=%" PRIu64, ab, c->queries);
		for (j = 0; j < DW_Q_COUNT; j++)
			printf(" %s=%" PRIu64, dw_qclass_name((enum dw_qclass)j), c->qclass[j]);
		printf(" nxdomain=%" PRIu64, c->nxdomain);
		for (j = 0; j < DW_FEAT_COUNT; j++)
			printf(" %s=%" PRIu64, dw_feature_name(1u << j), c->feat[j]);
		printf(" verdicts=");
		for (j = 0; j < DW_DET_COUNT; j++)
			if (c->verdicts[j]) {
				printf("%s%s:%u", any ? "," : "",
				       dw_detector_name((enum dw_detector)j), c->verdicts[j]);
				any = 1;
			}
		printf("%s\n", any ? "" : "-");
	}
}

/** Drop what would act outside this process: the control socket, the
 *  state file, the incident database, the fleet's publishing. */
static void offline_conf(struct dw_conf *c)
{
	free(c->state_file);
	c->state_file = NULL;
	free(c->control_socket);
	c->control_socket = NULL;
	free(c->incidents_database);
	c->incidents_database = NULL;
	free(c->publish_command);
	c->publish_command = NULL;
	free(c->publish_zonefile);
	c->publish_zonefile = NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"no-summary", no_argument, NULL, 'N'},
	                                         {"timeout", required_argument, NULL, 'T'},
	                                         {"year", required_argument, NULL, 'Y'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	static struct scan s;
	const char *conf_path = NULL, *file;
	char err[1024];
	enum fmt fmt = F_AUTO;
	int opt, no_summary = 0, rc = 0, year;
	unsigned long timeout = 5;
	time_t now = time(NULL);
	struct tm tm;
	char *end;

	gmtime_r(&now, &tm);
	year = tm.tm_year + 1900;
	s.port = 53;
	while ((opt = getopt_long(argc, argv, "c:f:s:p:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'f': {
			int i, found = 0;
			for (i = 0; i < 5; i++)
				if (strcmp(optarg, fmt_names[i]) == 0) {
					fmt = (enum fmt)i;
					found = 1;
				}
			if (!found) {
				fprintf(stderr,
				        "dnswarden-scan: -f: want auto, pcap, zeek, zeek-json or "
				        "unbound, got '%s'\n",
				        optarg);
				return 2;
			}
			break;
		}
		case 's':
			if (s.nservers == MAX_SERVERS ||
			    dw_cidr_parse(optarg, &s.servers[s.nservers]) != 0) {
				fprintf(stderr,
				        "dnswarden-scan: -s: not an address or prefix (or more "
				        "than %d): '%s'\n",
				        MAX_SERVERS, optarg);
				return 2;
			}
			s.nservers++;
			break;
		case 'p': {
			unsigned long port;
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || *end || port == 0 || port > 65535) {
				fprintf(stderr,
				        "dnswarden-scan: -p: want a port 1..65535, got '%s'\n",
				        optarg);
				return 2;
			}
			s.port = (uint16_t)port;
			break;
		}
		case 'q':
			s.quiet = 1;
			break;
		case 'N':
			no_summary = 1;
			break;
		case 'T':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (errno || *end || timeout > 3600) {
				fprintf(
				    stderr,
				    "dnswarden-scan: --timeout: want 0..3600 seconds, got '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'Y':
			errno = 0;
			year = (int)strtol(optarg, &end, 10);
			if (errno || *end || year < 1970 || year > 9999) {
				fprintf(stderr,
				        "dnswarden-scan: --year: want 1970..9999, got '%s'\n",
				        optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	file = argv[optind];
	if (fmt == F_AUTO && strcmp(file, "-") == 0) {
		fprintf(stderr, "dnswarden-scan: reading standard input needs -f FORMAT\n");
		return 2;
	}
	if (fmt == F_AUTO && (fmt = sniff(file)) == F_AUTO) {
		fprintf(stderr, "dnswarden-scan: %s: %s\n", file, strerror(errno));
		return 2;
	}
	s.conf = conf_path ? dw_conf_load(conf_path, err, sizeof(err)) : dw_conf_defaults();
	if (!s.conf) {
		fprintf(stderr, "dnswarden-scan: %s\n", conf_path ? err : "out of memory");
		return 2;
	}
	offline_conf(s.conf);
	s.e = dw_engine_new(s.conf, on_log, &s, err, sizeof(err));
	if (!s.e) {
		fprintf(stderr, "dnswarden-scan: %s\n", err);
		dw_conf_free(s.conf);
		return 2;
	}
	s.fs = dw_feature_set_new((const char *const *)s.conf->keywords, s.conf->keyword_count,
	                          (const char *const *)s.conf->signatures, s.conf->signature_count,
	                          err, sizeof(err));
	s.pair = dw_scan_pair_new((uint32_t)timeout, 1000000, feed, &s);
	if (!s.fs || !s.pair) {
		fprintf(stderr, "dnswarden-scan: %s\n", s.fs ? "out of memory" : err);
		rc = 2;
		goto out;
	}
	if (fmt == F_PCAP) {
		if (read_pcap(&s, file) != 0)
			rc = 2;
	} else {
		FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		if (!f) {
			fprintf(stderr, "dnswarden-scan: %s: %s\n", file, strerror(errno));
			rc = 2;
		} else {
			if (read_text(&s, f, file, fmt, year) != 0)
				rc = 2;
			if (f != stdin)
				fclose(f);
		}
	}
	dw_scan_pair_flush(s.pair);
	if (s.started)
		dw_engine_run_verdicts(s.e, s.now);
	fflush(stdout);
	if (!no_summary && rc == 0)
		summary(&s, file, fmt);
	if (rc == 0 && s.verdicts)
		rc = 1;
	if (fflush(stdout) != 0) {
		fprintf(stderr, "dnswarden-scan: stdout: %s\n", strerror(errno));
		rc = 2;
	}
out:
	dw_scan_pair_free(s.pair);
	dw_feature_set_free(s.fs);
	dw_engine_free(s.e);
	dw_conf_free(s.conf);
	free(s.tab);
	return rc;
}
