/**
 * \file
 * dwpcap — the offline check of the NS-history research: which clients sent
 * DNS queries straight to addresses that are not known nameservers?
 *
 * What it is for: Ichise et al. (2015, HACKING.md) capture DNS at
 * the campus border and flag every query whose destination is not in the
 * NS/glue history (Table II: a public resolver that is not listed is
 * flagged; a listed static resolver and a learned authoritative server
 * pass). dwpcap does that for a pcap file against dnswarden's whitelist,
 * given as the text of `dnswarden-control dump_whitelist` (or its --json),
 * as a file of plain addresses or prefixes, one a line, as dnswarden's
 * state file (its "wl addr ADDR …" lines), or read from the control socket
 * ("DWCTL1 dump_whitelist", through the engine's control client).
 *
 * Output: one line per (client, server, qname, qtype) of flagged queries,
 * sorted, "client=… server=… qname=… qtype=… count=N"; a summary on stderr.
 * Exit status: 0 nothing flagged, 1 something flagged, 2 usage or input
 * error.
 *
 * What counts as a DNS query: UDP or TCP to port 53, IPv4 or IPv6 (extension
 * headers walked; non-first fragments skipped), QR bit clear. Link types:
 * Ethernet (with up to two VLAN tags), Linux cooked v1/v2, raw IP, BSD
 * loopback (DLT_NULL, either byte order) and OpenBSD loopback (DLT_LOOP).
 * TCP is not reassembled: each segment to port 53 is read as a sequence of
 * length-prefixed messages, and a segment that does not parse as one (a
 * continuation) is skipped and counted. Queries from or to a --resolver
 * address are never flagged (the resolver's own iteration, and clients
 * using the campus resolver). DNS over TLS (853) is encrypted and not
 * looked at.
 *
 * Robustness: every read of packet bytes is bounds-checked against the
 * captured length; names are read without following compression pointers
 * (a question has nothing before it to point to), limited to 255 bytes and
 * printed as dnswarden prints names (dw_name_to_text(): a byte outside
 * '!'..'~' as \DDD, the zone-file specials . \ " ; ( ) @ $ inside a label
 * as \X), upper case folded, so 0x20-randomised names aggregate. Memory: one row per distinct
 * flagged (client, server, qname, qtype), at most --max-rows (default
 * 1000000, about 150 MB); further distinct rows are counted, not kept.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "control_client.h"
#include "feature.h"
#include "pcapdns.h"
#include "siphash.h"

#define DEF_MAX_ROWS 1000000u
#define MAX_LINE 65536                /* a whitelist line (JSON dumps may be long) */
#define NAME_TEXT_MAX DW_NAME_TEXT_MAX /* 255 wire bytes, each at most \DDD */

/* ------------------------------------------------------------------------ */
/* Addresses (addr.h) and hashing (siphash.h, keyed from getrandom: the
 * qnames in a capture are anyone's) */

static uint64_t hk0, hk1;

/** An IPv6 address ::ffff:a.b.c.d becomes the IPv4 a.b.c.d, as the module
 *  sees such a client (dw_addr_from_sockaddr()). */
static void unmap(struct dw_addr *a)
{
	struct sockaddr_in6 sa;

	if (a->family != 6)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	memcpy(&sa.sin6_addr, a->b, 16);
	(void)dw_addr_from_sockaddr((const struct sockaddr *)&sa, sizeof(sa), a);
}

/** An address or prefix of a whitelist or --resolver ("192.0.2.1",
 *  "2001:db8::/32"; host bits must be zero). 0, or -1. */
static int prefix_parse(const char *s, struct dw_cidr *p)
{
	if (dw_cidr_parse(s, p) != 0)
		return -1;
	if (p->len == 128)
		unmap(&p->addr);
	if (p->addr.family == 4 && p->len > 32)
		p->len = 32;
	return 0;
}

/** Order of addresses: family, then bytes. */
static int addr_cmp(const struct dw_addr *x, const struct dw_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->b, y->b, 16);
}

/* ------------------------------------------------------------------------ */
/* The whitelist: a set of addresses, plus a list of prefixes */

struct aset {
	struct dw_addr *slots; /* family 0 = empty */
	size_t cap, n;
	struct dw_cidr *pfx;
	size_t npfx, pfxcap;
};

static uint64_t addr_hash(const struct dw_addr *a)
{
	return dw_siphash(hk0, hk1, a, sizeof(*a), false);
}

static int aset_add_addr(struct aset *s, const struct dw_addr *a)
{
	size_t i;

	if (s->n * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct dw_addr *n = calloc(cap, sizeof(*n));
		if (n == NULL)
			return -1;
		for (i = 0; i < s->cap; i++) {
			if (s->slots[i].family == 0)
				continue;
			size_t j = addr_hash(&s->slots[i]) & (cap - 1);
			while (n[j].family)
				j = (j + 1) & (cap - 1);
			n[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = n;
		s->cap = cap;
	}
	for (i = addr_hash(a) & (s->cap - 1); s->slots[i].family; i = (i + 1) & (s->cap - 1))
		if (addr_cmp(&s->slots[i], a) == 0)
			return 0;
	s->slots[i] = *a;
	s->n++;
	return 0;
}

static int aset_add(struct aset *s, const struct dw_cidr *p)
{
	if (p->len == (p->addr.family == 4 ? 32u : 128u))
		return aset_add_addr(s, &p->addr);
	if (s->npfx == s->pfxcap) {
		size_t cap = s->pfxcap ? s->pfxcap * 2 : 16;
		struct dw_cidr *n = realloc(s->pfx, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		s->pfx = n;
		s->pfxcap = cap;
	}
	s->pfx[s->npfx++] = *p;
	return 0;
}

static bool aset_has(const struct aset *s, const struct dw_addr *a)
{
	size_t i;

	if (s->cap)
		for (i = addr_hash(a) & (s->cap - 1); s->slots[i].family;
		     i = (i + 1) & (s->cap - 1))
			if (addr_cmp(&s->slots[i], a) == 0)
				return true;
	for (i = 0; i < s->npfx; i++)
		if (dw_cidr_match(&s->pfx[i], a))
			return true;
	return false;
}

static void aset_free(struct aset *s)
{
	free(s->slots);
	free(s->pfx);
}

/* ------------------------------------------------------------------------ */
/* Reading whitelist text */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("dwpcap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Copy the token at s (up to whitespace, '"' or ',') into buf. */
static const char *token(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	while (*s && *s != ' ' && *s != '\t' && *s != '"' && *s != ',' && *s != '\r' &&
	       *s != '\n') {
		if (n + 1 < len)
			buf[n++] = *s;
		s++;
	}
	buf[n] = '\0';
	return s;
}

/*
 * One line of whitelist text: a dump_whitelist line ("addr=… …"; check_ns
 * lines with known=no are skipped), JSON ("addr":"…" anywhere, as many as
 * there are), a state line ("wl addr ADDR …"; "wl ns" lines are skipped),
 * or a plain address or prefix (anything after it is ignored). Blank lines,
 * '#' comments, and JSON punctuation lines are skipped; in a dnswarden state
 * file (state set), every line but "wl addr" is. Returns the number of
 * addresses taken, or -1 when the line is none of these.
 */
static int whitelist_line(struct aset *s, const char *line, bool state)
{
	char tok[128];
	struct dw_cidr p;
	const char *q;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '\n' || *line == '\r' || *line == '#')
		return 0;
	if (state && strncmp(line, "wl addr ", 8) != 0)
		return 0;
	if (strstr(line, "\"addr\":\"")) {
		int n = 0;
		for (q = line; (q = strstr(q, "\"addr\":\"")) != NULL;) {
			q = token(q + 8, tok, sizeof(tok));
			if (prefix_parse(tok, &p) != 0 || aset_add(s, &p) != 0)
				return -1;
			n++;
		}
		return n;
	}
	if (strchr("{}[],", *line))
		return 0;
	q = strncmp(line, "addr=", 5) == 0 ? line : strstr(line, " addr=");
	if (q != NULL) {
		if (strstr(line, "known=no"))
			return 0;
		token(q == line ? q + 5 : q + 6, tok, sizeof(tok));
	} else if (strncmp(line, "wl ", 3) == 0) {
		if (strncmp(line, "wl addr ", 8) != 0)
			return 0;
		token(line + 8, tok, sizeof(tok));
	} else {
		token(line, tok, sizeof(tok));
	}
	if (prefix_parse(tok, &p) != 0 || aset_add(s, &p) != 0)
		return -1;
	return 1;
}

/* Feed whitelist text from a stream; name is for messages. */
static size_t whitelist_read(struct aset *s, FILE *f, const char *name)
{
	char *line = malloc(MAX_LINE);
	unsigned long lineno = 0;
	size_t total = 0;
	bool state = false;

	if (line == NULL)
		die("out of memory");
	while (fgets(line, MAX_LINE, f)) {
		size_t len = strlen(line);
		int n;
		lineno++;
		if (len == MAX_LINE - 1 && line[len - 1] != '\n')
			die("%s:%lu: line too long", name, lineno);
		if (lineno == 1 && strncmp(line, "# dnswarden state", 17) == 0)
			state = true; /* the module's state file: only its "wl addr" lines */
		n = whitelist_line(s, line, state);
		if (n < 0) {
			line[strcspn(line, "\r\n")] = '\0';
			die("%s:%lu: not a whitelist line (want a dump_whitelist line, an "
			    "address or a prefix): '%.60s'",
			    name, lineno, line);
		}
		total += (size_t)n;
	}
	if (ferror(f))
		die("%s: read error: %s", name, strerror(errno));
	free(line);
	return total;
}

/* dump_whitelist over the control socket (control_client.h). */
static size_t whitelist_from_socket(struct aset *s, const char *path)
{
	static const char cmd[] = DW_CONTROL_MAGIC " dump_whitelist\n";
	struct dw_control_reply r;
	char err[512];
	size_t total;
	FILE *f;

	if (dw_control_call(path, cmd, 10, DW_CONTROL_MAX_ANSWER, &r, err, sizeof(err)) != 0)
		die("%s", err);
	if (r.status != 0)
		die("%s: dump_whitelist failed: error %d %.*s", path, r.status,
		    (int)(r.body_len > 200 ? 200 : r.body_len), r.body);
	f = fmemopen((void *)r.body, r.body_len ? r.body_len : 1, "r");
	if (f == NULL)
		die("fmemopen: %s", strerror(errno));
	if (r.body_len == 0)
		fgetc(f); /* empty body: an empty whitelist */
	total = whitelist_read(s, f, path);
	fclose(f);
	dw_control_reply_free(&r);
	return total;
}

/* ------------------------------------------------------------------------ */
/* Flagged queries, aggregated */

struct row {
	struct dw_addr client, server;
	uint16_t qtype; /* 0 when there was no (readable) question */
	uint64_t hash;
	uint64_t count;
	char *qname; /* NULL = empty slot */
};

struct rows {
	struct row *slots;
	size_t cap, n, max;
	uint64_t dropped; /* flagged queries of rows beyond max */
};

/** The keyed hash of a row's key: the two addresses, the type, the name. */
static uint64_t row_hash(const struct dw_addr *c, const struct dw_addr *s, const char *qname,
                         unsigned qtype)
{
	uint8_t key[2 * sizeof(struct dw_addr) + 2 + NAME_TEXT_MAX];
	size_t n = strlen(qname) < NAME_TEXT_MAX ? strlen(qname) : NAME_TEXT_MAX;

	memcpy(key, c, sizeof(*c));
	memcpy(key + sizeof(*c), s, sizeof(*s));
	key[2 * sizeof(*c)] = (uint8_t)(qtype >> 8);
	key[2 * sizeof(*c) + 1] = (uint8_t)qtype;
	memcpy(key + 2 * sizeof(*c) + 2, qname, n);
	return dw_siphash(hk0, hk1, key, 2 * sizeof(*c) + 2 + n, false);
}

static void rows_count(struct rows *r, const struct dw_addr *c, const struct dw_addr *s,
                       const char *qname, unsigned qtype)
{
	uint64_t h = row_hash(c, s, qname, qtype);
	size_t i;

	if (r->n * 2 >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct row *n = calloc(cap, sizeof(*n));
		if (n == NULL)
			die("out of memory");
		for (i = 0; i < r->cap; i++) {
			if (r->slots[i].qname == NULL)
				continue;
			size_t j = r->slots[i].hash & (cap - 1);
			while (n[j].qname)
				j = (j + 1) & (cap - 1);
			n[j] = r->slots[i];
		}
		free(r->slots);
		r->slots = n;
		r->cap = cap;
	}
	for (i = h & (r->cap - 1); r->slots[i].qname; i = (i + 1) & (r->cap - 1)) {
		struct row *x = &r->slots[i];
		if (x->hash == h && x->qtype == qtype && addr_cmp(&x->client, c) == 0 &&
		    addr_cmp(&x->server, s) == 0 && strcmp(x->qname, qname) == 0) {
			x->count++;
			return;
		}
	}
	if (r->n >= r->max) {
		r->dropped++;
		return;
	}
	r->slots[i].client = *c;
	r->slots[i].server = *s;
	r->slots[i].qtype = (uint16_t)qtype;
	r->slots[i].hash = h;
	r->slots[i].count = 1;
	r->slots[i].qname = strdup(qname);
	if (r->slots[i].qname == NULL)
		die("out of memory");
	r->n++;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = addr_cmp(&a->client, &b->client);

	if (c == 0)
		c = addr_cmp(&a->server, &b->server);
	if (c == 0)
		c = strcmp(a->qname, b->qname);
	if (c == 0)
		c = (a->qtype > b->qtype) - (a->qtype < b->qtype);
	return c;
}

static const char *qtype_text(unsigned t, const char *qname, char *buf, size_t len)
{
	static const struct {
		unsigned t;
		const char *s;
	} names[] = {{1, "A"},       {2, "NS"},     {5, "CNAME"}, {6, "SOA"},    {10, "NULL"},
	             {12, "PTR"},    {13, "HINFO"}, {15, "MX"},   {16, "TXT"},   {28, "AAAA"},
	             {33, "SRV"},    {35, "NAPTR"}, {43, "DS"},   {46, "RRSIG"}, {47, "NSEC"},
	             {48, "DNSKEY"}, {52, "TLSA"},  {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},
	             {251, "IXFR"},  {252, "AXFR"}, {255, "ANY"}, {257, "CAA"}};

	if (qname[0] == '-' || qname[0] == '<')
		return "-"; /* no question, or an unreadable one */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].s;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Packets */

struct stats {
	uint64_t queries, to_resolver, from_resolver, listed, flagged;
	uint64_t malformed; /* names; headers are counted in struct dw_pcapdns_stats */
};

struct ctx {
	const struct aset *wl, *resolvers;
	struct rows rows;
	struct stats st;
	struct dw_pcapdns_stats pk; /* the packet walk's counts */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The first question's name as text (dw_name_to_text(), lower case) and its
 * type. -1 when malformed. */
static int question_text(const uint8_t *msg, size_t len, char *out, size_t cap, unsigned *qtype)
{
	uint8_t wire[DW_PCAPDNS_NAME_MAX];
	uint16_t t;
	int wl = dw_pcapdns_question(msg, len, wire, &t);

	if (wl < 0)
		return -1;
	for (int i = 0; i < wl; i++) /* length bytes are <= 63, below 'A' */
		if (wire[i] >= 'A' && wire[i] <= 'Z')
			wire[i] = (uint8_t)(wire[i] + 32);
	dw_name_to_text(wire, (size_t)wl, out, cap);
	*qtype = t;
	return 0;
}

/* One DNS message from client to server. tcp: be strict (a segment may be
 * the middle of a stream). Returns 0, or -1 when it is no DNS query. */
static int dns_message(struct ctx *c, const struct dw_addr *client, const struct dw_addr *server,
                       const uint8_t *msg, size_t len, bool tcp)
{
	char qname[NAME_TEXT_MAX];
	unsigned qtype = 0;

	if (len < 12)
		return -1;
	if (msg[2] & 0x80)
		return 0; /* a response (to a client's server on port 53): not a query */
	if (get16(msg + 4) == 0) {
		if (tcp)
			return -1;
		strcpy(qname, "-");
	} else if (question_text(msg, len, qname, sizeof(qname), &qtype) != 0) {
		if (tcp)
			return -1;
		c->st.malformed++;
		strcpy(qname, "<malformed>");
	}
	c->st.queries++;
	if (aset_has(c->resolvers, server)) {
		c->st.to_resolver++;
		return 0;
	}
	if (aset_has(c->resolvers, client)) {
		c->st.from_resolver++;
		return 0;
	}
	if (aset_has(c->wl, server)) {
		c->st.listed++;
		return 0;
	}
	c->st.flagged++;
	rows_count(&c->rows, client, server, qname, qtype);
	return 0;
}

/* A DNS message from the packet walk (pcapdns.h): only those sent to port 53. */
static int on_message(void *arg, const struct dw_pcapdns_msg *m)
{
	struct dw_addr src, dst;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.family = dst.family = (uint8_t)m->family;
	memcpy(src.b, m->src, m->family == 4 ? 4 : 16);
	memcpy(dst.b, m->dst, m->family == 4 ? 4 : 16);
	unmap(&src);
	unmap(&dst);
	return dns_message(arg, &src, &dst, m->msg, m->len, m->tcp != 0);
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: dwpcap [-w WHITELIST]... [-s SOCKET] [--resolver ADDR]... [-q]\n"
	      "              [--max-rows N] [-r] FILE.pcap\n"
	      "  -w FILE        whitelist: dump_whitelist output (plain or --json), state\n"
	      "                 lines (wl addr …) or one address or prefix a line; '-' = stdin\n"
	      "  -s SOCKET      read the whitelist from dnswarden's control socket\n"
	      "  --resolver A   a campus resolver (address or prefix): never flagged\n"
	      "  -r FILE        the capture (as tcpdump -r); a bare FILE works too\n"
	      "  --max-rows N   distinct output rows kept (default 1000000)\n"
	      "  -q             no summary on stderr\n"
	      "Prints client=… server=… qname=… qtype=… count=N for DNS queries sent to\n"
	      "addresses not in the whitelist. Exit: 0 none, 1 some, 2 error.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"resolver", required_argument, NULL, 'R'},
	                                         {"max-rows", required_argument, NULL, 'M'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	struct aset wl = {0}, resolvers = {0};
	struct ctx c;
	const char *file = NULL, *sock = NULL;
	const char *wfiles[64];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	size_t nw = 0, listed = 0, i, k;
	bool quiet = false, have_wl = false;
	pcap_t *pc;
	int opt, dlt, rc;

	memset(&c, 0, sizeof(c));
	c.rows.max = DEF_MAX_ROWS;
	if (dw_siphash_key(&hk0, &hk1, errbuf, sizeof(errbuf)) != 0)
		die("%s", errbuf);
	while ((opt = getopt_long(argc, argv, "w:s:r:qh", longopts, NULL)) != -1) {
		struct dw_cidr p;
		char *end;
		unsigned long v;
		switch (opt) {
		case 'w':
			if (nw == sizeof(wfiles) / sizeof(wfiles[0]))
				die("too many -w files");
			wfiles[nw++] = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'r':
			file = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'R':
			if (prefix_parse(optarg, &p) != 0)
				die("--resolver: not an address or prefix: '%s'", optarg);
			if (aset_add(&resolvers, &p) != 0)
				die("out of memory");
			break;
		case 'M':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > 100000000)
				die("--max-rows: want 1..100000000, got '%s'", optarg);
			c.rows.max = v;
			break;
		case 'h':
			usage(stdout);
			aset_free(&resolvers);
			return 0;
		default:
			usage(stderr);
			aset_free(&resolvers);
			return 2;
		}
	}
	if (file == NULL && optind < argc)
		file = argv[optind++];
	if (file == NULL || optind != argc) {
		usage(stderr);
		aset_free(&resolvers);
		return 2;
	}
	for (i = 0; i < nw; i++) {
		FILE *f = strcmp(wfiles[i], "-") == 0 ? stdin : fopen(wfiles[i], "r");
		if (f == NULL)
			die("%s: %s", wfiles[i], strerror(errno));
		listed += whitelist_read(&wl, f, wfiles[i]);
		if (f != stdin)
			fclose(f);
		have_wl = true;
	}
	if (sock) {
		listed += whitelist_from_socket(&wl, sock);
		have_wl = true;
	}
	if (!have_wl)
		die("no whitelist: give -w FILE or -s SOCKET (an empty file means 'flag "
		    "everything')");

	pc = pcap_open_offline(file, errbuf);
	if (pc == NULL)
		die("%s: %s", file, errbuf);
	dlt = pcap_datalink(pc);
	c.wl = &wl;
	c.resolvers = &resolvers;
	while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1)
		dw_pcapdns_packet(dlt, data, hdr->caplen, 53, DW_PCAPDNS_TO53, on_message, &c,
		                  &c.pk);
	if (rc == PCAP_ERROR)
		fprintf(stderr, "dwpcap: %s: %s (results up to here)\n", file, pcap_geterr(pc));
	pcap_close(pc);

	/* print, sorted */
	for (i = 0, k = 0; i < c.rows.cap; i++)
		if (c.rows.slots[i].qname)
			c.rows.slots[k++] = c.rows.slots[i];
	if (k > 1)
		qsort(c.rows.slots, k, sizeof(*c.rows.slots), row_cmp);
	for (i = 0; i < k; i++) {
		const struct row *r = &c.rows.slots[i];
		char a[DW_ADDR_STRLEN], b[DW_ADDR_STRLEN], t[16];
		dw_addr_format(&r->client, a, sizeof(a));
		dw_addr_format(&r->server, b, sizeof(b));
		printf("client=%s server=%s qname=%s qtype=%s count=%" PRIu64 "\n", a, b, r->qname,
		       qtype_text(r->qtype, r->qname, t, sizeof(t)), r->count);
		free(r->qname);
	}
	if (fflush(stdout) != 0)
		die("stdout: %s", strerror(errno));
	if (!quiet)
		fprintf(stderr,
		        "dwpcap: file=%s link=%s whitelist=%zu packets=%" PRIu64 " queries=%" PRIu64
		        " to_resolver=%" PRIu64 " from_resolver=%" PRIu64 " listed=%" PRIu64
		        " flagged=%" PRIu64 " rows=%zu rows_dropped=%" PRIu64 " malformed=%" PRIu64
		        " tcp_skipped=%" PRIu64 " other=%" PRIu64 "\n",
		        file, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?",
		        listed, c.pk.packets, c.st.queries, c.st.to_resolver, c.st.from_resolver,
		        c.st.listed, c.st.flagged, k, c.rows.dropped,
		        c.st.malformed + c.pk.malformed, c.pk.tcp_skipped, c.pk.skipped);
	free(c.rows.slots);
	aset_free(&wl);
	aset_free(&resolvers);
	return c.st.flagged ? 1 : 0;
}
