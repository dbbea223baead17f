/**
 * \file
 * dwsim — dnswarden's DNS traffic simulator and load generator.
 *
 * What it is for: playing named client behaviours (a benign PC, an authorised
 * mail server, a NAT gateway, Sobig/Mydoom/Mytob-like worms, an IP-literal
 * scanner, a spam relay, PTR floods, forward-order PTRs, or a file of names)
 * against a DNS resolver over UDP, from chosen source addresses, at a chosen
 * rate, and counting what came back. The integration tests use it to make
 * infected clients on loopback; benchmarks use it as a load generator.
 *
 * How it works: one thread; one non-blocking, connected UDP socket per source
 * address (the kernel then only hands us datagrams from the server); epoll for
 * readiness; every query in flight sits in a pool slot that is hashed on
 * (source, DNS ID) to match answers and linked in send order so that
 * timeouts are found at the head of one list. Query i goes to source
 * i mod #sources (round robin); each source has its own generator state and
 * random stream, so what a source asks depends only on --seed and the
 * source's position, not on timing. DNS IDs come from a separate stream.
 * Answers must come from the server's address (the sockets are connected).
 * Rate: query i is due at start + i/QPS; the loop sleeps in epoll_pwait2()
 * (nanoseconds) until then and catches up in bursts of at most SEND_BATCH
 * if it fell behind, so the average rate is exact.
 *
 * Cost: about 300 bytes per query in flight; at most 65536 in flight
 * (-w per source, times the number of sources, capped), so at most ~20 MB.
 * Answers are parsed with bounds checks everywhere: a garbled or hostile
 * datagram is ignored, never trusted.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Limits and defaults. */
#define MAX_SOURCES 65536   /**< distinct source addresses */
#define MAX_INFLIGHT 65536  /**< pool size cap over all sources */
#define MAX_PER_SOURCE 4096 /**< -w cap (IDs are 16 bits per socket) */
#define DEF_PER_SOURCE 256  /**< -w default */
#define DEF_TIMEOUT_MS 2000 /**< -t default */
#define SEND_BATCH 64       /**< sends between two looks at the sockets */
#define RECV_BATCH 32       /**< datagrams per recvmmsg() */
#define RECV_BUFSZ 4096     /**< bytes kept of one answer (rest truncated) */
#define EDNS_BUFSZ 1232     /**< advertised EDNS0 UDP payload size */
#define NIL UINT32_MAX      /**< "no slot" in the pool's links */
#define WIRE_MAX 255        /**< longest domain name in wire form */
#define TEXT_MAX 1024       /**< longest name in presentation form, escaped */

/* DNS types and rcodes used here. */
enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_OPT = 41,
	T_HTTPS = 65,
};

/** Scenario identifiers; the names are fixed (tests and scripts use them). */
enum scn {
	SCN_BENIGN_PC,
	SCN_MAIL_SERVER,
	SCN_NAT_GATEWAY,
	SCN_SOBIG,
	SCN_MYDOOM,
	SCN_MYTOB,
	SCN_IPLIT,
	SCN_SPAM_RELAY,
	SCN_PTR_FLOOD,
	SCN_PTR_FWD,
	SCN_NAMES,
};

/** A scenario's name and one-line description for -h. */
struct scenario {
	const char *name;
	enum scn id;
	const char *desc;
};

static const struct scenario scenarios[] = {
    {"benign_pc", SCN_BENIGN_PC, "A/AAAA/HTTPS for a few popular names, rare PTR; no MX"},
    {"mail_server", SCN_MAIL_SERVER, "MTA: MX dN.VICTIM + A of the MX host, PTR + A of clients"},
    {"nat_gateway", SCN_NAT_GATEWAY, "many users' benign mix from one address, more names"},
    {"sobig", SCN_SOBIG, "MX burst for many dN.VICTIM, every 6th an X.ROOT-SERVERS.NET A"},
    {"mydoom", SCN_MYDOOM, "per victim domain: MX, then A mx./mail./smtp./... + domain"},
    {"mytob_keywords", SCN_MYTOB, "A for mail*/smtp*/mx*/ns*/relay*/gate* + dN.VICTIM"},
    {"ip_literal_scanner", SCN_IPLIT, "A queries whose qname is an IPv4 literal"},
    {"spam_relay", SCN_SPAM_RELAY, "MX + A with a few PTR (hijacked UNIX box relaying spam)"},
    {"ptr_flood", SCN_PTR_FLOOD, "PTR N.2.0.192.in-addr.arpa for N scanning 0..255"},
    {"ptr_forward_ip", SCN_PTR_FWD, "PTR for forward-order A.B.C.D[.in-addr.arpa]"},
    {"names", SCN_NAMES, "FILE: replay \"qname [qtype]\" lines, cyclically"},
};

/** Small, fast PRNG (xoshiro256**); one per source plus one for DNS IDs. */
struct rng {
	uint64_t s[4];
};

/** Kinds of query in a mail-like plan (mail_server, spam_relay, mydoom). */
enum kind {
	K_MX_DOM,      /**< MX dN.VICTIM */
	K_A_DOM,       /**< A dN.VICTIM */
	K_A_MXHOST,    /**< A mx.VICTIM (the exchange the world's MX names) */
	K_A_PFX,       /**< A <mydoom prefix>.dN.VICTIM */
	K_PTR_CLIENT,  /**< PTR c.2.0.192.in-addr.arpa (connecting SMTP client) */
	K_A_CLIENTHOST /**< A hostc.DOMAIN (forward-confirming the PTR) */
};

/** One step of a plan: a kind and its argument (prefix index). */
struct step {
	uint8_t kind;
	uint8_t arg;
};

/** Per-source generator state: what this client asks next. */
struct gen {
	struct rng rng;
	uint64_t k;      /**< queries generated so far */
	uint64_t msg;    /**< mails (plans) started so far */
	uint32_t dom;    /**< current victim domain number N of dN.VICTIM */
	uint32_t client; /**< current SMTP client's last octet */
	uint32_t scan;   /**< ptr_flood: first octet of the scan */
	uint8_t nplan;   /**< steps in plan */
	uint8_t iplan;   /**< next step */
	struct step plan[12];
};

/** One source address: its socket, its name and its generator. */
struct source {
	int fd;
	unsigned inflight;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char text[INET6_ADDRSTRLEN];
	struct gen gen;
};

/** A query in flight. */
struct slot {
	uint32_t prev, next; /**< send-order list (oldest at s->head) or free list */
	uint32_t hnext;      /**< hash chain */
	uint32_t src;        /**< index into s->src */
	uint64_t deadline;   /**< CLOCK_MONOTONIC ns at which it times out */
	uint16_t id;
	uint16_t qtype;
	uint8_t qlen; /**< bytes used in qname (wire form) */
	uint8_t qname[WIRE_MAX];
};

/** One line of a names file, encoded. */
struct name_item {
	uint16_t qtype;
	uint8_t qlen;
	uint8_t qname[WIRE_MAX];
};

/** Counters reported in the summary line. */
struct counts {
	uint64_t sent, answered, noerror, nxdomain, servfail, refused, other, timeout;
	uint64_t ignored; /**< datagrams not matching any query in flight */
	uint64_t icmp;    /**< ICMP errors (port unreachable) seen on a socket */
};

/** The whole simulator. */
struct sim {
	/* configuration */
	const struct scenario *scn;
	uint64_t count;    /**< queries to send; UINT64_MAX: until -d ends */
	double rate;       /**< queries per second overall; 0: as fast as allowed */
	uint64_t duration; /**< ns; 0: no limit */
	uint64_t timeout;  /**< ns */
	unsigned per_src;  /**< in flight per source */
	uint64_t seed;
	int verbose, quiet, edns;
	char domain[256]; /**< campus domain, no trailing dot */
	char victim[256]; /**< victim domain, no trailing dot */
	struct name_item *names;
	size_t nnames;
	/* network */
	struct sockaddr_storage server;
	socklen_t serverlen;
	char servertext[INET6_ADDRSTRLEN + 8];
	struct source *src;
	uint32_t nsrc;
	int ep;
	/* queries in flight */
	struct slot *slots;
	uint32_t nslots, freelist, head, tail, inflight;
	uint32_t *bucket;
	uint32_t bmask;
	struct rng idrng;
	/* the next query, generated but not sent yet (socket was full) */
	int pending;
	struct name_item pq;
	/* receive buffers */
	uint8_t *rbuf;
	/* results */
	struct counts c;
	uint64_t t0, tend; /**< start and end of the run */
	uint64_t tlast;    /**< when the last answer came */
};

static volatile sig_atomic_t got_signal;

/** Signal handler: remember the signal; the main loop winds down. */
static void on_signal(int sig)
{
	got_signal = sig;
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/** Print "dwsim: message" to stderr. */
static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("dwsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/** Report a usage error and exit with status 2. */
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dwsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(dwsim -h for help)\n", stderr);
	exit(2);
}

/** Print the help text to f. */
static void usage(FILE *f)
{
	size_t i;

	fputs("usage: dwsim -s SERVER[:PORT] [-p PORT] [-S SOURCES] (-n COUNT | -d SECONDS)\n"
	      "             [-r QPS] [-t TIMEOUT_MS] [-w INFLIGHT] [--seed N] [-v] [-q]\n"
	      "             [--domain D] [--victim-domain D] [--no-edns] [--remote]\n"
	      "             SCENARIO [FILE]\n"
	      "\n"
	      "Plays a client scenario against a DNS server over UDP and prints one summary\n"
	      "line. Only loopback servers (127.0.0.0/8, ::1) unless --remote is given.\n"
	      "\n"
	      "  -s SERVER[:PORT]  server address: 127.0.0.1, 127.0.0.1:5353, [::1]:5353\n"
	      "  -p PORT           server port (default 53)\n"
	      "  -S SOURCES        source addresses, comma separated; an IPv4 item may be a\n"
	      "                    range FIRST-LAST (127.0.20.1-127.0.20.50 or 127.0.20.1-50);\n"
	      "                    queries go round robin over them (default 127.0.0.1 or ::1)\n"
	      "  -n COUNT          queries to send over all sources (names: default the file)\n"
	      "  -d SECONDS        stop sending after this long (with or without -n); with\n"
	      "                    -r exactly QPS*SECONDS queries\n"
	      "  -r QPS            overall rate, fractions allowed; 0 = as fast as the\n"
	      "                    in-flight limit allows (default 0)\n"
	      "  -t TIMEOUT_MS     an unanswered query times out after this (default 2000)\n"
	      "  -w INFLIGHT       queries in flight per source, 1..4096 (default 256; at most\n"
	      "                    65536 over all sources)\n"
	      "  --seed N          what each source asks is a function of N and its position\n"
	      "                    in SOURCES (default: random, printed with -v)\n"
	      "  --domain D        campus domain (default campus.test)\n"
	      "  --victim-domain D domain whose dN.D names worms mail to (default victim.lab)\n"
	      "  --no-edns         send no EDNS0 OPT record (default: OPT, 1232 bytes)\n"
	      "  --remote          allow a server outside loopback\n"
	      "  -v                one line per query on stdout when it is answered or times\n"
	      "                    out: client=ADDR qtype=T qname=N rcode=R answer=FIRST-A\n"
	      "                    (rcode=TIMEOUT for a timeout; answer empty when no A);\n"
	      "                    the first line is '# dwsim scenario=S seed=N ...'\n"
	      "  -q                no notes on stderr (ignored datagrams, ICMP errors)\n"
	      "  -h                this help\n"
	      "\n"
	      "Scenarios:\n",
	      f);
	for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		fprintf(f, "  %-19s %s\n", scenarios[i].name, scenarios[i].desc);
	fputs("\n"
	      "Summary (stdout, last line):\n"
	      "  scenario=S sent=N answered=N noerror=N nxdomain=N servfail=N refused=N\n"
	      "  other=N timeout=N elapsed_ms=N qps=N\n"
	      "  elapsed: from the first send until the last query was answered or timed\n"
	      "  out (at least COUNT/QPS with -r); qps: answers per second, counted until\n"
	      "  the last answer (so waiting out timeouts at the end does not dilute it)\n"
	      "\n"
	      "Exit status: 0 when it ran (timeouts included), 1 on socket errors (e.g. a\n"
	      "source address that cannot be bound), 2 on usage errors, 128+N when\n"
	      "stopped by signal N (summary still printed).\n",
	      f);
}

/* ------------------------------------------------------------------------ */
/* Time and randomness */

/** Monotonic clock in nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** splitmix64 step: expands a seed into well-mixed state words. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/** Seed r from seed. */
static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

/** Rotate left. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** Next 64 random bits (xoshiro256**). */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/** Uniform-enough random number in [0, n) (n > 0). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ------------------------------------------------------------------------ */
/* Names: presentation <-> wire */

/**
 * Encode a presentation-form name ("www.campus.test", trailing dot optional,
 * escapes \. \\ \DDD) into wire form.
 * \param text  NUL-terminated name; "." or "" is the root
 * \param wire  output, WIRE_MAX bytes
 * \return length in bytes of the wire form, or -1 if the name is invalid
 */
static int name_to_wire(const char *text, uint8_t *wire)
{
	size_t o = 0, lab = 0; /* o: bytes written; lab: current label's length byte */
	int inlabel = 0;
	const char *p = text;

	if (p[0] == '.' && p[1] == '\0')
		p++;
	while (*p) {
		int c = (unsigned char)*p++;

		if (c == '.') {
			if (!inlabel)
				return -1; /* empty label: leading dot or ".." */
			inlabel = 0;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
			    isdigit((unsigned char)p[2])) {
				c = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
				if (c > 255)
					return -1;
				p += 3;
			} else if (*p) {
				c = (unsigned char)*p++;
			} else {
				return -1;
			}
		}
		if (!inlabel) {
			lab = o;
			wire[o++] = 0;
			inlabel = 1;
		}
		/* room for this byte and the final root label */
		if (wire[lab] == 63 || o + 1 >= WIRE_MAX)
			return -1;
		wire[o++] = (uint8_t)c;
		wire[lab]++;
	}
	wire[o++] = 0;
	return (int)o;
}

/**
 * Print a wire-form name in presentation form (no trailing dot; "." for the
 * root), escaping dots, backslashes and unprintable bytes.
 * \param wire  name as stored in a slot (known to be well formed)
 * \param len   its length
 * \param out   buffer of TEXT_MAX bytes
 */
static void wire_to_text(const uint8_t *wire, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len && wire[i] != 0 && o + 5 < TEXT_MAX) {
		size_t n = wire[i++], j;

		if (o > 0)
			out[o++] = '.';
		for (j = 0; j < n && i < len && o + 5 < TEXT_MAX; j++, i++) {
			unsigned char c = wire[i];

			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')')
				o += (size_t)snprintf(out + o, TEXT_MAX - o, "\\%c", c);
			else if (c <= ' ' || c >= 0x7f)
				o += (size_t)snprintf(out + o, TEXT_MAX - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
}

/** Mnemonics of the types dwsim knows by name. */
static const struct {
	const char *name;
	uint16_t type;
} type_names[] = {
    {"A", T_A},     {"NS", T_NS},       {"CNAME", T_CNAME}, {"SOA", T_SOA},
    {"PTR", T_PTR}, {"MX", T_MX},       {"TXT", T_TXT},     {"AAAA", T_AAAA},
    {"SRV", T_SRV}, {"NAPTR", 35},      {"DS", 43},         {"DNSKEY", 48},
    {"SVCB", 64},   {"HTTPS", T_HTTPS}, {"CAA", 257},       {"ANY", 255},
};

/** Name of a qtype: its mnemonic or TYPEnnn (into buf, 12 bytes). */
static const char *type_to_text(uint16_t t, char *buf)
{
	size_t i;

	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	snprintf(buf, 12, "TYPE%u", (unsigned)t);
	return buf;
}

/** Parse a qtype: mnemonic (any case), TYPEnnn or a number. -1 if bad. */
static int text_to_type(const char *s)
{
	size_t i;
	char *end;
	unsigned long v;

	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcasecmp(s, type_names[i].name) == 0)
			return type_names[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0)
		s += 4;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	return (int)v;
}

/** Name of an rcode. */
static const char *rcode_to_text(unsigned rc, char *buf)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	                                    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	                                    "NXRRSET", "NOTAUTH", "NOTZONE"};

	if (rc < sizeof names / sizeof names[0])
		return names[rc];
	snprintf(buf, 16, "RCODE%u", rc);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Scenarios */

/*
 * Keyword variants Mytob-like bots put in front of a victim domain. From
 * seed 000 (ADPS, Figure 4): mail, smtp, mx1, mx0, mx., relay, mx2, mx01,
 * gate, mail2, mails, mail-, smtp1, smtp-, mail0 ... all starting with one of
 * the six keywords mail, smtp, mx, ns, relay, gate.
 */
static const char *const mytob_prefixes[] = {
    "mail",  "mail1",    "mail2", "mail0", "mails",  "mail-in", "smtp",    "smtp1",
    "smtp2", "smtp-out", "mx",    "mx0",   "mx1",    "mx2",     "mx3",     "mx01",
    "ns",    "ns1",      "ns2",   "relay", "relay1", "gate",    "gateway",
};

/*
 * Host names Mydoom.A puts in front of a harvested domain (seed 003, 3.1:
 * "mx.", "mail.", "smtp.", "mx1.", "mxs.", "mail1.", "relay.", "ns.", "gate.").
 */
static const char *const mydoom_prefixes[] = {"mx",    "mail",  "smtp", "mx1", "mxs",
                                              "mail1", "relay", "ns",   "gate"};

/** A benign name: a host label in the campus domain (rel) or an absolute name. */
struct bname {
	const char *name;
	int rel; /**< 1: name + "." + campus domain ("" = the domain itself) */
};

/* What a campus PC looks up: popular names, no keyword first labels. */
static const struct bname benign_names[] = {
    {"www", 1}, {"www", 1}, {"www", 1}, {"portal", 1}, {"lib", 1}, {"www.shop.test", 0},
};

/* Behind a NAT many users: more names, some of them missing (NXDOMAIN). */
static const struct bname nat_names[] = {
    {"www", 1},           {"www", 1},       {"portal", 1},
    {"lib", 1},           {"", 1},          {"wiki", 1},
    {"moodle", 1},        {"printer", 1},   {"www.shop.test", 0},
    {"www.shop.test", 0}, {"shop.test", 0}, {"cdn.shop.test", 0},
    {"www.corp.lab", 0},  {"corp.lab", 0},  {"wiki.intranet.lan", 0},
};

/** Write a benign name from list into name. */
static void benign_name(const struct sim *s, const struct bname *b, char *name, size_t cap)
{
	if (!b->rel)
		snprintf(name, cap, "%s", b->name);
	else if (b->name[0])
		snprintf(name, cap, "%s.%s", b->name, s->domain);
	else
		snprintf(name, cap, "%s", s->domain);
}

/** The benign mix shared by benign_pc and nat_gateway. */
static uint16_t gen_benign(const struct sim *s, struct gen *g, const struct bname *list, size_t n,
                           unsigned ptr_pct, char *name, size_t cap)
{
	uint32_t r = rng_below(&g->rng, 100);

	if (r < ptr_pct) {
		snprintf(name, cap, "%u.2.0.192.in-addr.arpa", 1 + rng_below(&g->rng, 254));
		return T_PTR;
	}
	benign_name(s, &list[rng_below(&g->rng, (uint32_t)n)], name, cap);
	r = rng_below(&g->rng, 100);
	if (r < 55)
		return T_A;
	if (r < 85)
		return T_AAAA;
	return T_HTTPS;
}

/** A fresh victim domain number (dN.VICTIM), 1..999999. */
static uint32_t new_domain(struct gen *g)
{
	return 1 + rng_below(&g->rng, 999999);
}

/**
 * Start the next "mail" of a mail-like scenario: fill g->plan.
 *
 * mail_server (seed 003, 3.2: an MTA asks PTR + A for the connecting client
 * and MX + A for the recipient's domain): every other mail is an inbound one
 * (PTR + forward A), every mail is delivered (MX + A of the exchange).
 * spam_relay (seed 003: 2922 MX, 6755 A, 139 PTR a day): MX + A of the exchange
 * + half the time A of the domain; a PTR + A of a client every 16th mail,
 * the first one included, so even a short run shows its PTR.
 * mydoom (seed 003, 3.1: 807 MX, 4823 A): MX of the domain, then six A
 * queries for consecutive keyword prefixes in front of it.
 */
static void plan_mail(const struct sim *s, struct gen *g)
{
	int n = 0;

	g->dom = new_domain(g);
	g->client = 1 + rng_below(&g->rng, 254);
	switch (s->scn->id) {
	case SCN_MAIL_SERVER:
		if (g->msg % 2 == 0) {
			g->plan[n++] = (struct step){K_PTR_CLIENT, 0};
			g->plan[n++] = (struct step){K_A_CLIENTHOST, 0};
		}
		g->plan[n++] = (struct step){K_MX_DOM, 0};
		g->plan[n++] = (struct step){K_A_MXHOST, 0};
		break;
	case SCN_SPAM_RELAY:
		if (g->msg % 16 == 0) {
			g->plan[n++] = (struct step){K_PTR_CLIENT, 0};
			g->plan[n++] = (struct step){K_A_CLIENTHOST, 0};
		}
		g->plan[n++] = (struct step){K_MX_DOM, 0};
		g->plan[n++] = (struct step){K_A_MXHOST, 0};
		if (rng_below(&g->rng, 2))
			g->plan[n++] = (struct step){K_A_DOM, 0};
		break;
	default: { /* SCN_MYDOOM */
		uint32_t first = rng_below(&g->rng, 9);

		g->plan[n++] = (struct step){K_MX_DOM, 0};
		for (int i = 0; i < 6; i++)
			g->plan[n++] = (struct step){K_A_PFX, (uint8_t)((first + (uint32_t)i) % 9)};
		break;
	}
	}
	g->nplan = (uint8_t)n;
	g->iplan = 0;
	g->msg++;
}

/** Next query of a mail-like scenario. */
static uint16_t gen_mail(const struct sim *s, struct gen *g, char *name, size_t cap)
{
	struct step st;

	if (g->iplan >= g->nplan)
		plan_mail(s, g);
	st = g->plan[g->iplan++];
	switch (st.kind) {
	case K_MX_DOM:
		snprintf(name, cap, "d%u.%s", g->dom, s->victim);
		return T_MX;
	case K_A_DOM:
		snprintf(name, cap, "d%u.%s", g->dom, s->victim);
		return T_A;
	case K_A_MXHOST:
		snprintf(name, cap, "mx.%s", s->victim);
		return T_A;
	case K_A_PFX:
		snprintf(name, cap, "%s.d%u.%s", mydoom_prefixes[st.arg % 9], g->dom, s->victim);
		return T_A;
	case K_PTR_CLIENT:
		snprintf(name, cap, "%u.2.0.192.in-addr.arpa", g->client);
		return T_PTR;
	default: /* K_A_CLIENTHOST */
		snprintf(name, cap, "host%u.%s", g->client, s->domain);
		return T_A;
	}
}

/** A random public-looking IPv4 address (no private, loopback, multicast). */
static void public_ipv4(struct gen *g, char *name, size_t cap)
{
	uint32_t a, b;

	for (;;) {
		a = 1 + rng_below(&g->rng, 223);
		b = rng_below(&g->rng, 256);
		if (a == 10 || a == 127 || (a == 100 && b >= 64 && b < 128) ||
		    (a == 169 && b == 254) || (a == 172 && b >= 16 && b < 32) ||
		    (a == 192 && b == 168))
			continue;
		break;
	}
	snprintf(name, cap, "%u.%u.%u.%u", a, b, rng_below(&g->rng, 256),
	         1 + rng_below(&g->rng, 254));
}

/**
 * Generate source si's next query into s->pq.
 * \return 0, or -1 if the name does not encode (cannot happen for the
 *         built-in scenarios once the domains are validated)
 */
static int gen_next(struct sim *s, uint32_t si, uint64_t seq)
{
	struct gen *g = &s->src[si].gen;
	char name[TEXT_MAX];
	uint16_t qtype = T_A;
	int len;

	switch (s->scn->id) {
	case SCN_NAMES:
		/* global order: line seq mod lines, whatever the source */
		s->pq = s->names[seq % s->nnames];
		g->k++;
		return 0;
	case SCN_BENIGN_PC:
		qtype = gen_benign(s, g, benign_names, sizeof benign_names / sizeof benign_names[0],
		                   5, name, sizeof name);
		break;
	case SCN_NAT_GATEWAY:
		qtype = gen_benign(s, g, nat_names, sizeof nat_names / sizeof nat_names[0], 5, name,
		                   sizeof name);
		break;
	case SCN_MAIL_SERVER:
	case SCN_SPAM_RELAY:
	case SCN_MYDOOM:
		qtype = gen_mail(s, g, name, sizeof name);
		break;
	case SCN_SOBIG:
		/*
		 * Seed 003, 3.1: Sobig's traffic is MX-dominated (190 MX, 36 A a
		 * day) and its log starts with "A.ROOT-SERVERS.NET" twice,
		 * "B.ROOT-SERVERS.NET" twice ... (Sobig.F and .C together). So:
		 * every 6th query an A for the next root-server name (each
		 * twice, A..M), the others MX for fresh victim domains.
		 */
		if (g->k % 6 == 0) {
			snprintf(name, sizeof name, "%c.ROOT-SERVERS.NET",
			         (char)('A' + (g->k / 12) % 13));
			qtype = T_A;
		} else {
			snprintf(name, sizeof name, "d%u.%s", new_domain(g), s->victim);
			qtype = T_MX;
		}
		break;
	case SCN_MYTOB:
		snprintf(name, sizeof name, "%s.d%u.%s",
		         mytob_prefixes[rng_below(&g->rng, sizeof mytob_prefixes /
		                                               sizeof mytob_prefixes[0])],
		         new_domain(g), s->victim);
		qtype = T_A;
		break;
	case SCN_IPLIT:
		/* seed 000, 3.1: A queries for "A.B.C.D" literals */
		if (rng_below(&g->rng, 2))
			snprintf(name, sizeof name, "192.0.2.%u", 1 + rng_below(&g->rng, 254));
		else
			public_ipv4(g, name, sizeof name);
		qtype = T_A;
		break;
	case SCN_PTR_FLOOD:
		/* seed 000 (PTRDPS): many PTR queries, here a scan of a /24 */
		if (g->k == 0)
			g->scan = rng_below(&g->rng, 256);
		snprintf(name, sizeof name, "%u.2.0.192.in-addr.arpa",
		         (unsigned)((g->scan + g->k) % 256));
		qtype = T_PTR;
		break;
	case SCN_PTR_FWD: {
		/*
		 * Seed 000, 4: "an IP address representation was found in
		 * several PTR based DNS query packets ... usually A.B.C.D should
		 * be described as D.C.B.A.in-addr.arpa". Half forward-order
		 * in-addr.arpa names, half bare literals.
		 */
		static const char *const nets[] = {"192.0.2", "192.0.2", "192.0.2", "198.51.100",
		                                   "203.0.113"};
		const char *net = nets[rng_below(&g->rng, 5)];
		unsigned host = 1 + rng_below(&g->rng, 254);

		if (rng_below(&g->rng, 2))
			snprintf(name, sizeof name, "%s.%u.in-addr.arpa", net, host);
		else
			snprintf(name, sizeof name, "%s.%u", net, host);
		qtype = T_PTR;
		break;
	}
	}
	g->k++;
	len = name_to_wire(name, s->pq.qname);
	if (len < 0)
		return -1;
	s->pq.qlen = (uint8_t)len;
	s->pq.qtype = qtype;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Queries in flight */

/** Hash bucket of (source, id). */
static uint32_t slot_hash(const struct sim *s, uint32_t src, uint16_t id)
{
	uint64_t k = ((uint64_t)src << 16 | id) * 0x9e3779b97f4a7c15u;

	return (uint32_t)(k >> 32) & s->bmask;
}

/** The slot of the query in flight with this source and ID, or NIL. */
static uint32_t slot_find(const struct sim *s, uint32_t src, uint16_t id)
{
	uint32_t i = s->bucket[slot_hash(s, src, id)];

	while (i != NIL && (s->slots[i].src != src || s->slots[i].id != id))
		i = s->slots[i].hnext;
	return i;
}

/** Take a free slot, fill it, hash it, append it to the send-order list. */
static void slot_add(struct sim *s, uint32_t src, uint16_t id, const struct name_item *q,
                     uint64_t deadline)
{
	uint32_t i = s->freelist, h = slot_hash(s, src, id);
	struct slot *sl = &s->slots[i];

	s->freelist = sl->next;
	sl->src = src;
	sl->id = id;
	sl->qtype = q->qtype;
	sl->qlen = q->qlen;
	memcpy(sl->qname, q->qname, q->qlen);
	sl->deadline = deadline;
	sl->hnext = s->bucket[h];
	s->bucket[h] = i;
	sl->next = NIL;
	sl->prev = s->tail;
	if (s->tail != NIL)
		s->slots[s->tail].next = i;
	else
		s->head = i;
	s->tail = i;
	s->inflight++;
	s->src[src].inflight++;
}

/** Unhash slot i, unlink it from the send-order list, return it to the free list. */
static void slot_del(struct sim *s, uint32_t i)
{
	struct slot *sl = &s->slots[i];
	uint32_t *pp = &s->bucket[slot_hash(s, sl->src, sl->id)];

	while (*pp != i)
		pp = &s->slots[*pp].hnext;
	*pp = sl->hnext;
	if (sl->prev != NIL)
		s->slots[sl->prev].next = sl->next;
	else
		s->head = sl->next;
	if (sl->next != NIL)
		s->slots[sl->next].prev = sl->prev;
	else
		s->tail = sl->prev;
	s->inflight--;
	s->src[sl->src].inflight--;
	sl->next = s->freelist;
	s->freelist = i;
}

/** With -v: one line for a query that was answered (rcode) or timed out (-1). */
static void print_result(const struct sim *s, const struct slot *sl, int rcode, const char *answer)
{
	char name[TEXT_MAX], tbuf[12], rbuf[16];

	wire_to_text(sl->qname, sl->qlen, name);
	printf("client=%s qtype=%s qname=%s rcode=%s answer=%s\n", s->src[sl->src].text,
	       type_to_text(sl->qtype, tbuf), name,
	       rcode < 0 ? "TIMEOUT" : rcode_to_text((unsigned)rcode, rbuf), answer);
}

/** Time out every query whose deadline has passed (all of them if all != 0). */
static void expire(struct sim *s, uint64_t now, int all)
{
	while (s->head != NIL && (all || s->slots[s->head].deadline <= now)) {
		if (s->verbose)
			print_result(s, &s->slots[s->head], -1, "");
		s->c.timeout++;
		slot_del(s, s->head);
	}
}

/* ------------------------------------------------------------------------ */
/* Wire: queries out, answers in */

/** Put a 16-bit value in network order. */
static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** Read a 16-bit value in network order. */
static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/**
 * Build a query (RD set, one question, EDNS0 OPT unless --no-edns).
 * \return its length (buf holds at least 12 + 255 + 4 + 11 bytes)
 */
static size_t build_query(const struct sim *s, uint8_t *buf, uint16_t id, const struct name_item *q)
{
	size_t n = 12;

	put16(buf, id);
	put16(buf + 2, 0x0100); /* RD */
	put16(buf + 4, 1);
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, s->edns ? 1 : 0);
	memcpy(buf + n, q->qname, q->qlen);
	n += q->qlen;
	put16(buf + n, q->qtype);
	put16(buf + n + 2, 1); /* IN */
	n += 4;
	if (s->edns) {
		buf[n] = 0; /* root owner */
		put16(buf + n + 1, T_OPT);
		put16(buf + n + 3, EDNS_BUFSZ);
		memset(buf + n + 5, 0, 6); /* ext-rcode, version, flags, rdlen */
		n += 11;
	}
	return n;
}

/**
 * Read a name at *pos of msg (compression allowed) into out in wire form.
 * Pointers must point backwards and at most 127 are followed, so a hostile
 * packet cannot loop; the result is at most 255 bytes.
 * \return 0 with *pos past the name, or -1 if malformed
 */
static int read_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen)
{
	size_t p = *pos, o = 0, end = 0;
	int jumped = 0, hops = 0;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xC0) == 0xC0) {
			size_t ptr;

			if (p + 1 >= len)
				return -1;
			ptr = (size_t)(c & 0x3F) << 8 | msg[p + 1];
			if (!jumped)
				end = p + 2;
			jumped = 1;
			if (ptr >= p || ++hops > 127)
				return -1;
			p = ptr;
			continue;
		}
		if (c & 0xC0)
			return -1; /* extended label types: not in a question */
		if (o + c + 1 > WIRE_MAX || p + 1 + c > len)
			return -1;
		memcpy(out + o, msg + p, c + 1);
		o += c + 1;
		p += c + 1;
		if (c == 0)
			break;
	}
	*outlen = o;
	*pos = jumped ? end : p;
	return 0;
}

/** Skip a (possibly compressed) name at *pos. \return 0, or -1 if malformed. */
static int skip_name(const uint8_t *msg, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xC0) == 0xC0) {
			p += 2;
			break;
		}
		if (c & 0xC0)
			return -1;
		p += c + 1;
		if (c == 0)
			break;
	}
	if (p > len)
		return -1;
	*pos = p;
	return 0;
}

/** Compare two wire names, ASCII case-insensitively. \return 1 if equal. */
static int wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		unsigned x = a[i], y = b[i];

		/* length bytes are <= 63, below 'A', so folding them is harmless */
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

/**
 * Walk the answer, authority and additional sections after the question:
 * find the first A record in the answer section and the extended rcode bits
 * of an OPT record. Stops quietly at the first malformed record.
 * \param answer  out: first A as dotted quad, or "" (16 bytes)
 * \param rcode   in/out: header rcode, widened by an OPT record's bits
 */
static void scan_sections(const uint8_t *msg, size_t len, size_t pos, char *answer, unsigned *rcode)
{
	unsigned sec;
	const unsigned counts[3] = {get16(msg + 6), get16(msg + 8), get16(msg + 10)};

	answer[0] = '\0';
	for (sec = 0; sec < 3; sec++) {
		unsigned i;

		for (i = 0; i < counts[sec]; i++) {
			unsigned type, class, rdlen;

			if (skip_name(msg, len, &pos) < 0 || pos + 10 > len)
				return;
			type = get16(msg + pos);
			class = get16(msg + pos + 2);
			rdlen = get16(msg + pos + 8);
			pos += 10;
			if (pos + rdlen > len)
				return;
			if (sec == 0 && type == T_A && class == 1 && rdlen == 4 && !answer[0])
				snprintf(answer, 16, "%u.%u.%u.%u", msg[pos], msg[pos + 1],
				         msg[pos + 2], msg[pos + 3]);
			if (sec == 2 && type == T_OPT)
				*rcode |= (unsigned)msg[pos - 6] << 4; /* TTL's top byte */
			pos += rdlen;
		}
	}
}

/**
 * Handle one datagram that arrived on source si's socket: match it to a
 * query in flight (ID, QR, question), count its rcode, print it with -v.
 * Anything else (short, not a response, unknown ID, other question) is
 * counted as ignored and changes nothing.
 */
static void handle_answer(struct sim *s, uint32_t si, const uint8_t *msg, size_t len, uint64_t now)
{
	uint32_t i;
	struct slot *sl;
	unsigned flags, rcode, qd;
	size_t pos = 12;
	char answer[16] = "";

	if (len < 12) {
		s->c.ignored++;
		return;
	}
	flags = get16(msg + 2);
	i = slot_find(s, si, (uint16_t)get16(msg));
	if (!(flags & 0x8000) || i == NIL) {
		s->c.ignored++;
		return;
	}
	sl = &s->slots[i];
	rcode = flags & 0xF;
	qd = get16(msg + 4);
	if (qd == 1) {
		uint8_t name[WIRE_MAX];
		size_t nlen;

		if (read_name(msg, len, &pos, name, &nlen) < 0 || pos + 4 > len ||
		    !wire_equal(name, nlen, sl->qname, sl->qlen) || get16(msg + pos) != sl->qtype ||
		    get16(msg + pos + 2) != 1) {
			s->c.ignored++;
			return;
		}
		pos += 4;
		scan_sections(msg, len, pos, answer, &rcode);
	} else if (qd != 0 || rcode == 0) {
		/* only an error (FORMERR, NOTIMP ...) may come without the question */
		s->c.ignored++;
		return;
	}
	s->c.answered++;
	s->tlast = now;
	switch (rcode) {
	case 0:
		s->c.noerror++;
		break;
	case 2:
		s->c.servfail++;
		break;
	case 3:
		s->c.nxdomain++;
		break;
	case 5:
		s->c.refused++;
		break;
	default:
		s->c.other++;
		break;
	}
	if (s->verbose)
		print_result(s, sl, (int)rcode, answer);
	slot_del(s, i);
}

/* ------------------------------------------------------------------------ */
/* Sockets */

/** Send results. */
enum { SEND_OK, SEND_BLOCKED, SEND_AGAIN, SEND_FATAL };

/**
 * Send the next query (number s->c.sent) from its source, if that source and
 * the pool have room.
 * \return SEND_OK; SEND_BLOCKED when too many are in flight; SEND_AGAIN when
 *         the socket buffer is full; SEND_FATAL on a socket error (reported)
 */
static int send_next(struct sim *s, uint64_t now)
{
	uint32_t si = (uint32_t)(s->c.sent % s->nsrc);
	struct source *src = &s->src[si];
	uint8_t buf[12 + WIRE_MAX + 4 + 11];
	uint16_t id;
	size_t len;
	int tries;

	if (src->inflight >= s->per_src || s->freelist == NIL)
		return SEND_BLOCKED;
	if (!s->pending) {
		if (gen_next(s, si, s->c.sent) < 0) {
			msg("internal error: generated name does not encode");
			return SEND_FATAL;
		}
		s->pending = 1;
	}
	do
		id = (uint16_t)rng_next(&s->idrng);
	while (slot_find(s, si, id) != NIL);
	len = build_query(s, buf, id, &s->pq);
	for (tries = 0;; tries++) {
		if (send(src->fd, buf, len, 0) == (ssize_t)len)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return SEND_AGAIN;
		if (errno == EINTR || (errno == ECONNREFUSED && tries < 3)) {
			/* ECONNREFUSED reports an earlier ICMP error; the send itself may pass */
			if (errno == ECONNREFUSED)
				s->c.icmp++;
			continue;
		}
		if (errno == ECONNREFUSED)
			return SEND_AGAIN;
		msg("send from %s to %s: %s", src->text, s->servertext, strerror(errno));
		return SEND_FATAL;
	}
	slot_add(s, si, id, &s->pq, now + s->timeout);
	s->pending = 0;
	s->c.sent++;
	return SEND_OK;
}

/**
 * Read every datagram waiting on source si's socket and handle it.
 * \return 0, or -1 on a socket error (reported)
 */
static int drain(struct sim *s, uint32_t si, uint64_t now)
{
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	int fd = s->src[si].fd, i;

	for (i = 0; i < RECV_BATCH; i++) {
		iov[i].iov_base = s->rbuf + (size_t)i * RECV_BUFSZ;
		iov[i].iov_len = RECV_BUFSZ;
		memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				/* ICMP port unreachable: the server is not (yet) there */
				s->c.icmp++;
				continue;
			}
			msg("receive on %s: %s", s->src[si].text, strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++)
			handle_answer(s, si, iov[i].iov_base, mm[i].msg_len, now);
		if (n < RECV_BATCH)
			return 0;
	}
}

/** Is this server address on loopback? */
static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/**
 * Parse -s SERVER[:PORT] ("127.0.0.1", "127.0.0.1:53", "::1", "[::1]:53").
 * \param port  in: port from -p or 0; out: the port to use
 * \return 0, or -1 with a message in err
 */
static int parse_server(const char *arg, struct sockaddr_storage *ss, socklen_t *len,
                        unsigned *port, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *ps = NULL;
	const char *colon = strchr(arg, ':');

	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || (size_t)(rb - arg - 1) >= sizeof host)
			goto bad;
		memcpy(host, arg + 1, (size_t)(rb - arg - 1));
		host[rb - arg - 1] = '\0';
		if (rb[1] == ':')
			ps = rb + 2;
		else if (rb[1])
			goto bad;
	} else if (colon && !strchr(colon + 1, ':')) {
		/* exactly one colon: IPv4 with a port */
		if ((size_t)(colon - arg) >= sizeof host)
			goto bad;
		memcpy(host, arg, (size_t)(colon - arg));
		host[colon - arg] = '\0';
		ps = colon + 1;
	} else {
		if (strlen(arg) >= sizeof host)
			goto bad;
		memcpy(host, arg, strlen(arg) + 1);
	}
	if (ps) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(ps, &end, 10);
		if (errno || !isdigit((unsigned char)*ps) || *end || v == 0 || v > 65535)
			goto bad;
		if (*port && *port != v) {
			snprintf(err, errlen, "-s %s and -p %u name different ports", arg, *port);
			return -1;
		}
		*port = (unsigned)v;
	}
	if (!*port)
		*port = 53;
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)*port);
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)*port);
		*len = sizeof *sin6;
		return 0;
	}
bad:
	snprintf(err, errlen, "bad server '%s' (want ADDRESS, ADDRESS:PORT or [IPV6]:PORT)", arg);
	return -1;
}

/** Append one source address to s->src (grown as needed). \return 0 or -1 (too many). */
static int add_source(struct sim *s, uint32_t *cap, int family, const void *addr)
{
	struct source *src;

	if (s->nsrc >= MAX_SOURCES)
		return -1;
	if (s->nsrc == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		struct source *n = realloc(s->src, ncap * sizeof *n);

		if (!n) {
			msg("out of memory");
			exit(1);
		}
		s->src = n;
		*cap = ncap;
	}
	src = &s->src[s->nsrc++];
	memset(src, 0, sizeof *src);
	src->fd = -1;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&src->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		src->sslen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&src->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		src->sslen = sizeof *sin6;
	}
	inet_ntop(family, addr, src->text, sizeof src->text);
	return 0;
}

/**
 * Parse -S: comma-separated addresses of the server's family; IPv4 items may
 * be ranges FIRST-LAST or FIRST-LASTOCTET.
 * \return 0, or -1 with a message in err
 */
static int parse_sources(struct sim *s, const char *arg, int family, char *err, size_t errlen)
{
	char *copy = strdup(arg), *save = NULL, *item;
	uint32_t cap = 0;
	int rc = -1;

	if (!copy) {
		msg("out of memory");
		exit(1);
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		struct in_addr a, b;
		struct in6_addr a6;

		if (family == AF_INET6) {
			if (dash || inet_pton(AF_INET6, item, &a6) != 1) {
				snprintf(err, errlen, "bad IPv6 source '%s' (no ranges for IPv6)",
				         item);
				goto out;
			}
			if (add_source(s, &cap, AF_INET6, &a6) < 0)
				goto toomany;
			continue;
		}
		if (dash)
			*dash = '\0';
		if (inet_pton(AF_INET, item, &a) != 1) {
			snprintf(err, errlen, "bad IPv4 source '%s' (the server is IPv4)", item);
			goto out;
		}
		b = a;
		if (dash) {
			const char *last = dash + 1;

			if (!strchr(last, '.')) {
				/* FIRST-N: N replaces the last octet */
				char *end;
				unsigned long v;

				errno = 0;
				v = strtoul(last, &end, 10);
				if (errno || !isdigit((unsigned char)*last) || *end || v > 255)
					goto badrange;
				b.s_addr = htonl((ntohl(a.s_addr) & 0xFFFFFF00u) | (uint32_t)v);
			} else if (inet_pton(AF_INET, last, &b) != 1) {
				goto badrange;
			}
			if (ntohl(b.s_addr) < ntohl(a.s_addr))
				goto badrange;
			if (ntohl(b.s_addr) - ntohl(a.s_addr) >= MAX_SOURCES)
				goto toomany;
		}
		for (uint32_t h = ntohl(a.s_addr);; h++) {
			uint32_t n = htonl(h);

			if (add_source(s, &cap, AF_INET, &n) < 0)
				goto toomany;
			if (h == ntohl(b.s_addr))
				break;
		}
		continue;
	badrange:
		snprintf(err, errlen, "bad source range '%s-%s'", item, dash + 1);
		goto out;
	}
	if (s->nsrc == 0) {
		snprintf(err, errlen, "no source address in '%s'", arg);
		goto out;
	}
	rc = 0;
	goto out;
toomany:
	snprintf(err, errlen, "more than %d source addresses", MAX_SOURCES);
out:
	free(copy);
	return rc;
}

/** Raise the open-file limit to fit n sockets. \return 0, or -1 (reported). */
static int fit_fd_limit(uint32_t n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		msg("%u sources need %lu open files; the hard limit is %lu", (unsigned)n,
		    (unsigned long)need, (unsigned long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		msg("cannot raise the open-file limit to %lu: %s", (unsigned long)need,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * Create, bind and connect one socket per source and register it with epoll.
 * \return 0, or -1 on an error that names the address (reported)
 */
static int open_sockets(struct sim *s)
{
	uint32_t i;
	int bufsz = 1 << 20;

	if (fit_fd_limit(s->nsrc) < 0)
		return -1;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		msg("epoll_create1: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < s->nsrc; i++) {
		struct source *src = &s->src[i];
		struct epoll_event ev;

		src->fd = socket(s->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (src->fd < 0) {
			msg("socket for source %s: %s", src->text, strerror(errno));
			return -1;
		}
		/* best effort: bigger buffers absorb bursts at high rates */
		(void)setsockopt(src->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
		(void)setsockopt(src->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
		if (bind(src->fd, (struct sockaddr *)&src->ss, src->sslen) < 0) {
			msg("cannot bind source address %s: %s", src->text, strerror(errno));
			return -1;
		}
		if (connect(src->fd, (struct sockaddr *)&s->server, s->serverlen) < 0) {
			msg("cannot connect from %s to %s: %s", src->text, s->servertext,
			    strerror(errno));
			return -1;
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, src->fd, &ev) < 0) {
			msg("epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/**
 * Wait for readiness at most wait ns (UINT64_MAX: forever), with nanosecond
 * precision where the kernel has epoll_pwait2().
 * \return number of events, 0 on timeout or signal, -1 on error
 */
static int wait_events(struct sim *s, struct epoll_event *ev, int nev, uint64_t wait)
{
	static int no_pwait2;
	int n;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
	if (!no_pwait2) {
		struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};

		n = epoll_pwait2(s->ep, ev, nev, wait == UINT64_MAX ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n < 0 && errno == EINTR ? 0 : n;
		no_pwait2 = 1;
	}
#else
	no_pwait2 = 1;
#endif
	n = epoll_wait(s->ep, ev, nev,
	               wait == UINT64_MAX      ? -1
	               : wait > 3600000000000u ? 3600000
	                                       : (int)((wait + 999999) / 1000000));
	return n < 0 && errno == EINTR ? 0 : n;
}

/** Smaller of two. */
static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/** When query number i is due (ns, absolute) at the set rate. */
static uint64_t due_of(const struct sim *s, uint64_t i)
{
	return s->t0 + (uint64_t)((double)i * 1e9 / s->rate);
}

/**
 * May the next query go out (count, -d), leaving the rate aside? At a set
 * rate a query belongs to the run when it is due before the end of -d, so
 * that -r R -d D sends exactly R*D queries.
 */
static int more_to_send(const struct sim *s, uint64_t now, uint64_t send_end)
{
	if (s->c.sent >= s->count)
		return 0;
	if (s->rate > 0)
		return due_of(s, s->c.sent) < send_end;
	return now < send_end;
}

/**
 * The main loop: send on schedule, read answers, time out the rest, until
 * everything sent has been answered or timed out.
 * \return 0, or 1 on a socket error
 */
static int run(struct sim *s)
{
	struct epoll_event ev[256];
	uint64_t send_end;

	s->t0 = now_ns();
	send_end = s->duration ? s->t0 + s->duration : UINT64_MAX;
	for (;;) {
		uint64_t now = now_ns(), wait = UINT64_MAX, next_due = 0;
		int more, blocked = 0, again = 0, n, i, b;

		if (got_signal) {
			expire(s, now, 1);
			break;
		}
		expire(s, now, 0);
		for (b = 0; b < SEND_BATCH && more_to_send(s, now, send_end); b++) {
			int r;

			if (s->rate > 0 && due_of(s, s->c.sent) > now) {
				next_due = due_of(s, s->c.sent);
				break;
			}
			r = send_next(s, now);
			if (r == SEND_BLOCKED) {
				blocked = 1;
				break;
			}
			if (r == SEND_AGAIN) {
				again = 1;
				break;
			}
			if (r == SEND_FATAL)
				return 1;
		}
		more = more_to_send(s, now, send_end);
		if (!more && s->inflight == 0)
			break;
		if (s->head != NIL)
			wait =
			    s->slots[s->head].deadline > now ? s->slots[s->head].deadline - now : 0;
		if (more) {
			if (again)
				wait = min64(wait, 200000); /* socket buffer full: retry soon */
			else if (next_due)
				wait = min64(wait, next_due - now);
			else if (!blocked)
				wait = 0; /* batch done, more due: just look at the sockets */
			if (s->rate <= 0 && send_end != UINT64_MAX)
				wait = min64(wait, send_end - now);
		}
		n = wait_events(s, ev, (int)(sizeof ev / sizeof ev[0]), wait);
		if (n < 0) {
			msg("epoll: %s", strerror(errno));
			return 1;
		}
		now = now_ns();
		for (i = 0; i < n; i++)
			if (drain(s, ev[i].data.u32, now) < 0)
				return 1;
	}
	s->tend = now_ns();
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Set-up */

/**
 * Load a names file: lines "qname [qtype]" (qtype default A), '#' comments.
 * \return 0, or -1 with a message in err
 */
static int load_names(struct sim *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[TEXT_MAX + 64];
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open names file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p, *name, *type, *extra, *save = NULL;
		int t, len;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto fail;
		}
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		name = strtok_r(line, " \t\r\n", &save);
		if (!name)
			continue;
		type = strtok_r(NULL, " \t\r\n", &save);
		extra = strtok_r(NULL, " \t\r\n", &save);
		if (extra) {
			snprintf(err, errlen, "%s:%u: want 'qname [qtype]', got more", path,
			         lineno);
			goto fail;
		}
		t = type ? text_to_type(type) : T_A;
		if (t < 0) {
			snprintf(err, errlen, "%s:%u: unknown qtype '%s'", path, lineno, type);
			goto fail;
		}
		if (s->nnames == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct name_item *n = realloc(s->names, ncap * sizeof *n);

			if (!n) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			s->names = n;
			cap = ncap;
		}
		len = name_to_wire(name, s->names[s->nnames].qname);
		if (len < 0) {
			snprintf(err, errlen, "%s:%u: bad domain name '%s'", path, lineno, name);
			goto fail;
		}
		s->names[s->nnames].qlen = (uint8_t)len;
		s->names[s->nnames].qtype = (uint16_t)t;
		s->nnames++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "reading %s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (s->nnames == 0) {
		snprintf(err, errlen, "%s: no names", path);
		return -1;
	}
	return 0;
fail:
	fclose(f);
	return -1;
}

/**
 * Check and normalise a domain option (no trailing dot, short enough that
 * "smtp-out.d999999." + it fits in a DNS name).
 */
static void set_domain(char *dst, const char *arg, const char *opt)
{
	uint8_t wire[WIRE_MAX];
	size_t n = strlen(arg);

	if (n > 0 && arg[n - 1] == '.')
		n--;
	if (n == 0 || n > 200 || name_to_wire(arg, wire) < 0)
		usage_error("%s: bad domain '%s' (at most 200 characters)", opt, arg);
	memcpy(dst, arg, n);
	dst[n] = '\0';
}

/** Parse an unsigned decimal option in [min, max] or exit with a usage error. */
static uint64_t opt_uint(const char *arg, const char *opt, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || !isdigit((unsigned char)*arg) || *end || v < min || v > max)
		usage_error("%s: want an integer %" PRIu64 "..%" PRIu64 ", got '%s'", opt, min, max,
		            arg);
	return v;
}

/** Parse a non-negative decimal number option or exit with a usage error. */
static double opt_double(const char *arg, const char *opt, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0) || v > max)
		usage_error("%s: want a number 0..%g, got '%s'", opt, max, arg);
	return v;
}

/** Allocate the pool of slots and the hash buckets. */
static void alloc_pool(struct sim *s)
{
	uint64_t want = (uint64_t)s->per_src * s->nsrc;
	uint32_t i, nb = 1;

	s->nslots = (uint32_t)(want < MAX_INFLIGHT ? want : MAX_INFLIGHT);
	while (nb < 2 * s->nslots)
		nb <<= 1;
	s->slots = calloc(s->nslots, sizeof *s->slots);
	s->bucket = malloc(nb * sizeof *s->bucket);
	s->rbuf = malloc((size_t)RECV_BATCH * RECV_BUFSZ);
	if (!s->slots || !s->bucket || !s->rbuf) {
		msg("out of memory");
		exit(1);
	}
	s->bmask = nb - 1;
	for (i = 0; i < nb; i++)
		s->bucket[i] = NIL;
	for (i = 0; i < s->nslots; i++)
		s->slots[i].next = i + 1 < s->nslots ? i + 1 : NIL;
	s->freelist = 0;
	s->head = s->tail = NIL;
}

/** Release everything. */
static void cleanup(struct sim *s)
{
	uint32_t i;

	for (i = 0; i < s->nsrc; i++)
		if (s->src[i].fd >= 0)
			close(s->src[i].fd);
	if (s->ep >= 0)
		close(s->ep);
	free(s->src);
	free(s->slots);
	free(s->bucket);
	free(s->rbuf);
	free(s->names);
}

/**
 * Print the summary line. At a set rate the run lasts at least until the
 * time slot of the last query sent ends (N queries at R/s take N/R s); qps
 * counts answers up to the last answer, so that waiting out timeouts at the
 * end does not dilute it.
 */
static void print_summary(const struct sim *s)
{
	uint64_t slot_end = s->rate > 0 ? due_of(s, s->c.sent) : 0;
	uint64_t end = s->tend > slot_end ? s->tend : slot_end;
	uint64_t qend = s->tlast > slot_end ? s->tlast : slot_end;
	uint64_t el = end - s->t0, qel = qend > s->t0 ? qend - s->t0 : 0;

	printf("scenario=%s sent=%" PRIu64 " answered=%" PRIu64 " noerror=%" PRIu64
	       " nxdomain=%" PRIu64 " servfail=%" PRIu64 " refused=%" PRIu64 " other=%" PRIu64
	       " timeout=%" PRIu64 " elapsed_ms=%" PRIu64 " qps=%" PRIu64 "\n",
	       s->scn->name, s->c.sent, s->c.answered, s->c.noerror, s->c.nxdomain, s->c.servfail,
	       s->c.refused, s->c.other, s->c.timeout, el / 1000000u,
	       s->c.answered && qel ? (uint64_t)((double)s->c.answered * 1e9 / (double)qel + 0.5)
	                            : 0);
}

/** Entry point: parse options, set up, run, print the summary. */
int main(int argc, char **argv)
{
	enum { O_SEED = 256, O_DOMAIN, O_VICTIM, O_NOEDNS, O_REMOTE };
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, O_SEED},
	    {"domain", required_argument, NULL, O_DOMAIN},
	    {"victim-domain", required_argument, NULL, O_VICTIM},
	    {"no-edns", no_argument, NULL, O_NOEDNS},
	    {"remote", no_argument, NULL, O_REMOTE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct sim sim;
	struct sim *s = &sim;
	const char *server = NULL, *sources = NULL;
	unsigned port = 0;
	int c, have_seed = 0, have_count = 0, remote = 0, rc;
	char err[512];
	size_t i;
	struct sigaction sa;
	uint32_t si;

	s->ep = -1;
	s->edns = 1;
	s->per_src = DEF_PER_SOURCE;
	s->timeout = (uint64_t)DEF_TIMEOUT_MS * 1000000u;
	snprintf(s->domain, sizeof s->domain, "campus.test");
	snprintf(s->victim, sizeof s->victim, "victim.lab");
	while ((c = getopt_long(argc, argv, "s:p:S:n:r:d:t:w:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'p':
			port = (unsigned)opt_uint(optarg, "-p", 1, 65535);
			break;
		case 'S':
			sources = optarg;
			break;
		case 'n':
			s->count = opt_uint(optarg, "-n", 0, UINT64_MAX - 1);
			have_count = 1;
			break;
		case 'r':
			s->rate = opt_double(optarg, "-r", 1e9);
			break;
		case 'd':
			s->duration = (uint64_t)(opt_double(optarg, "-d", 1e7) * 1e9);
			if (s->duration == 0)
				usage_error("-d: want a duration above 0");
			break;
		case 't':
			s->timeout = opt_uint(optarg, "-t", 1, 3600000) * 1000000u;
			break;
		case 'w':
			s->per_src = (unsigned)opt_uint(optarg, "-w", 1, MAX_PER_SOURCE);
			break;
		case 'v':
			s->verbose = 1;
			break;
		case 'q':
			s->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case O_SEED:
			s->seed = opt_uint(optarg, "--seed", 0, UINT64_MAX);
			have_seed = 1;
			break;
		case O_DOMAIN:
			set_domain(s->domain, optarg, "--domain");
			break;
		case O_VICTIM:
			set_domain(s->victim, optarg, "--victim-domain");
			break;
		case O_NOEDNS:
			s->edns = 0;
			break;
		case O_REMOTE:
			remote = 1;
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (optind >= argc)
		usage_error("no scenario given");
	for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (strcmp(argv[optind], scenarios[i].name) == 0)
			s->scn = &scenarios[i];
	if (!s->scn)
		usage_error("unknown scenario '%s'", argv[optind]);
	optind++;
	if (s->scn->id == SCN_NAMES) {
		if (optind >= argc)
			usage_error("scenario names needs a FILE");
		if (load_names(s, argv[optind], err, sizeof err) < 0)
			usage_error("%s", err);
		optind++;
		if (!have_count && !s->duration) {
			s->count = s->nnames;
			have_count = 1;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!server)
		usage_error("no server (-s)");
	if (!have_count && !s->duration)
		usage_error("give -n COUNT or -d SECONDS");
	if (!have_count)
		s->count = UINT64_MAX;
	if (parse_server(server, &s->server, &s->serverlen, &port, err, sizeof err) < 0)
		usage_error("%s", err);
	if (!remote && !is_loopback(&s->server))
		usage_error("server %s is not on loopback (127.0.0.0/8, ::1); --remote allows it",
		            server);
	{
		char a[INET6_ADDRSTRLEN];
		const void *ap =
		    s->server.ss_family == AF_INET
		        ? (const void *)&((struct sockaddr_in *)&s->server)->sin_addr
		        : (const void *)&((struct sockaddr_in6 *)&s->server)->sin6_addr;

		inet_ntop(s->server.ss_family, ap, a, sizeof a);
		snprintf(s->servertext, sizeof s->servertext,
		         s->server.ss_family == AF_INET ? "%s:%u" : "[%s]:%u", a, port);
	}
	if (!sources)
		sources = s->server.ss_family == AF_INET ? "127.0.0.1" : "::1";
	if (parse_sources(s, sources, s->server.ss_family, err, sizeof err) < 0)
		usage_error("-S: %s", err);

	if (!have_seed) {
		if (getrandom(&s->seed, sizeof s->seed, 0) != sizeof s->seed)
			s->seed = (uint64_t)now_ns() ^ (uint64_t)getpid() << 32;
	}
	for (si = 0; si < s->nsrc; si++)
		rng_seed(&s->src[si].gen.rng, s->seed ^ (0x9e3779b97f4a7c15u * (si + 1u)));
	{
		uint64_t idseed;

		if (getrandom(&idseed, sizeof idseed, 0) != sizeof idseed)
			idseed = now_ns() ^ s->seed;
		rng_seed(&s->idrng, idseed);
	}
	alloc_pool(s);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (s->verbose) {
		/* one big buffer: per-query lines must not cost a write() each */
		static char obuf[1 << 16];

		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
		printf("# dwsim scenario=%s seed=%" PRIu64 " server=%s sources=%u\n", s->scn->name,
		       s->seed, s->servertext, (unsigned)s->nsrc);
	}

	if (open_sockets(s) < 0) {
		cleanup(s);
		return 1;
	}
	rc = run(s);
	if (rc == 0) {
		print_summary(s);
		if (!s->quiet && s->c.ignored)
			msg("note: ignored %" PRIu64
			    " datagrams (late, unknown ID, other question or malformed)",
			    s->c.ignored);
		if (!s->quiet && s->c.icmp)
			msg("note: %" PRIu64 " ICMP errors from %s (is it listening?)", s->c.icmp,
			    s->servertext);
	}
	fflush(stdout);
	cleanup(s);
	if (rc == 0 && got_signal)
		return 128 + got_signal;
	return rc;
}
