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
 *
 * This file: options, set-up and the summary. The scenarios are in
 * simulator/scenario.c, the wire format in simulator/wire.c, the sockets and
 * the loop in simulator/net.c (shared state: simulator/sim.h).
 */
#include "simulator/sim.h"

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

volatile sig_atomic_t dwsim_got_signal;

/** Signal handler: remember the signal; the main loop winds down. */
static void on_signal(int sig)
{
	dwsim_got_signal = sig;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/** Print "dwsim: message" to stderr. */
void dwsim_msg(const char *fmt, ...)
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
		t = type ? dwsim_text_to_type(type) : T_A;
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
		len = dw_name_from_text(name, s->names[s->nnames].qname, WIRE_MAX);
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
	if (n == 0 || n > 200 || dw_name_from_text(arg, wire, sizeof(wire)) < 0)
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
		dwsim_msg("out of memory");
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
	uint64_t slot_end = s->rate > 0 ? dwsim_due_of(s, s->c.sent) : 0;
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
	if (dwsim_parse_server(server, &s->server, &s->serverlen, &port, err, sizeof err) < 0)
		usage_error("%s", err);
	if (!remote && !dwsim_is_loopback(&s->server))
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
	if (dwsim_parse_sources(s, sources, s->server.ss_family, err, sizeof err) < 0)
		usage_error("-S: %s", err);

	if (!have_seed) {
		if (getrandom(&s->seed, sizeof s->seed, 0) != sizeof s->seed)
			s->seed = (uint64_t)dwsim_now_ns() ^ (uint64_t)getpid() << 32;
	}
	for (si = 0; si < s->nsrc; si++)
		dwsim_rng_seed(&s->src[si].gen.rng, s->seed ^ (0x9e3779b97f4a7c15u * (si + 1u)));
	{
		uint64_t idseed;

		if (getrandom(&idseed, sizeof idseed, 0) != sizeof idseed)
			idseed = dwsim_now_ns() ^ s->seed;
		dwsim_rng_seed(&s->idrng, idseed);
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

	if (dwsim_open_sockets(s) < 0) {
		cleanup(s);
		return 1;
	}
	rc = dwsim_run(s);
	if (rc == 0) {
		print_summary(s);
		if (!s->quiet && s->c.ignored)
			dwsim_msg("note: ignored %" PRIu64
			          " datagrams (late, unknown ID, other question or malformed)",
			          s->c.ignored);
		if (!s->quiet && s->c.icmp)
			dwsim_msg("note: %" PRIu64 " ICMP errors from %s (is it listening?)",
			          s->c.icmp, s->servertext);
	}
	fflush(stdout);
	cleanup(s);
	if (rc == 0 && dwsim_got_signal)
		return 128 + dwsim_got_signal;
	return rc;
}
