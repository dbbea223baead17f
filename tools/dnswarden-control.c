/**
 * \file
 * dnswarden-control(8): the command-line client of dnswarden's control
 * socket, in the style of unbound-control.
 *
 * It finds the socket (-s, or control.socket in the YAML of -c /
 * $DNSWARDEN_CONF / /etc/unbound/dnswarden.yaml), checks the command and its
 * arguments itself (a typo never reaches the resolver, and is a usage error
 * even when the resolver is down), sends one request line (control.h), and
 * prints the answer: the body on stdout, an error on stderr.
 *
 * Exit status: 0 success; 1 refused or failed (including: cannot connect,
 * timed out); 2 usage error, whether found here or by the server.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "control.h"

/** Seconds the whole exchange (connect, send, read) may take. */
#define TIMEOUT_S 30
/** Largest answer accepted: the server's body cap plus its first line. */
#define MAX_ANSWER (DW_CONTROL_MAX_RESPONSE + 1024)

static const char *progname = "dnswarden-control";

/** How an argument is checked before anything is sent. */
enum argkind {
	ARG_NONE = 0,
	ARG_ADDR,
	ARG_CIDR,
	ARG_DURATION,
	ARG_ACTION,
	ARG_ALL_OR_COUNT,
	ARG_INCIDENT_OPTS /* the whole list: incidents' options (check_incident_args) */
};

/** One verb the server knows. */
struct verb {
	const char *name;
	int min, max;
	enum argkind kind[3];
	const char *usage;
	const char *help;
};

static const struct verb verbs[] = {
    {"status", 0, 0, {0}, "status", "is the module running; version, mode, backend, counts"},
    {"stats", 0, 0, {0}, "stats", "counters since the last 'stats', then reset them"},
    {"stats_noreset", 0, 0, {0}, "stats_noreset", "the same counters, not reset"},
    {"list_suspects",
     0,
     2,
     {ARG_ALL_OR_COUNT, ARG_ALL_OR_COUNT},
     "list_suspects [all] [COUNT]",
     "clients with evidence against them (the worst COUNT; all: also the quiet ones)"},
    {"list_blocked", 0, 0, {0}, "list_blocked", "blocked clients: action, reason, expiry"},
    {"show_client", 1, 1, {ARG_ADDR}, "show_client ADDR", "everything known about one client"},
    {"block",
     1,
     3,
     {ARG_ADDR, ARG_DURATION, ARG_ACTION},
     "block ADDR [DURATION|forever] [ACTION]",
     "block a client by hand (default 1h, nxdomain)"},
    {"unblock", 1, 1, {ARG_ADDR}, "unblock ADDR", "lift a client's block"},
    {"exempt_add", 1, 1, {ARG_CIDR}, "exempt_add CIDR", "never act on these clients"},
    {"exempt_remove", 1, 1, {ARG_CIDR}, "exempt_remove CIDR", "remove a run-time exemption"},
    {"list_exempt", 0, 0, {0}, "list_exempt", "exempt prefixes (configured and run-time)"},
    {"dump_whitelist", 0, 0, {0}, "dump_whitelist", "the learnt nameserver whitelist"},
    {"check_ns", 1, 1, {ARG_ADDR}, "check_ns ADDR", "is ADDR a known nameserver, of which zones"},
    {"export_nft", 0, 0, {0}, "export_nft", "the whitelist as nftables sets"},
    {"metrics", 0, 0, {0}, "metrics", "Prometheus text format 0.0.4"},
    {"reload", 0, 0, {0}, "reload", "re-read dnswarden.yaml (a bad file changes nothing)"},
    {"incidents",
     0,
     7,
     {ARG_INCIDENT_OPTS},
     "incidents [--client ADDR|CIDR] [--detector NAME] [--since DURATION] [N]",
     "the incident history, newest first (default 100 rows)"},
    {"mail_stats",
     0,
     2,
     {ARG_NONE, ARG_NONE},
     "mail_stats [ADDR] [SINCE]",
     "a mail server's queries per interval (SINCE: Unix seconds or a duration ago)"},
    {"forwarders",
     0,
     0,
     {0},
     "forwarders",
     "pooled clients (forwarders:): factor, prefixes, tracked forwarders and their counts"},
    {"list_domains", 0, 0, {0}, "list_domains", "domains blocked for every client (RPZ QNAME)"},
    {"block_domain",
     1,
     3,
     {ARG_NONE, ARG_DURATION, ARG_ACTION},
     "block_domain DOMAIN [DURATION|forever] [ACTION]",
     "block a domain and its subdomains for every client (default domain_duration, nxdomain)"},
    {"unblock_domain", 1, 1, {ARG_NONE}, "unblock_domain DOMAIN", "lift a domain block"},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/** Print a message to stderr with the program's name and a newline. */
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

/** The full help text. */
static void usage(FILE *f)
{
	size_t i;
	fprintf(f,
	        "usage: %s [-c CONFIG | -s SOCKET] [--json] COMMAND [ARGS]\n"
	        "  -c CONFIG   read control.socket from this dnswarden.yaml\n"
	        "              (default: $DNSWARDEN_CONF, else %s)\n"
	        "  -s SOCKET   talk to this socket; the config is not read\n"
	        "  -j, --json  answer as one JSON document\n"
	        "  -h, --help  this text\n"
	        "commands:\n",
	        progname, DW_CONF_DEFAULT_PATH);
	for (i = 0; i < NVERBS; i++)
		fprintf(f, "  %-32s %s\n", verbs[i].usage, verbs[i].help);
	fprintf(f,
	        "DURATION: seconds or a number with s, m, h, d (90, 10m, 1h, 2d); 0 or forever;\n"
	        "ACTION: refuse, nxdomain, nodata, sinkhole, drop, tcp-only.\n"
	        "Exit status: 0 success, 1 refused or failed, 2 usage error.\n");
}

/** A usage error: one line saying what is wrong, a pointer to -h, exit 2. */
static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(%s -h lists the commands)\n", progname);
	exit(2);
}

/** Check one argument of verb v; exits with a usage error when it is wrong. */
static void check_arg(const struct verb *v, enum argkind kind, const char *a)
{
	struct dw_addr addr;
	struct dw_cidr cidr;
	long d;
	const char *p;

	for (p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			bad_usage("%s: arguments may not hold spaces or control characters",
			          v->name);
	if (*a == '\0')
		bad_usage("%s: empty argument; usage: %s", v->name, v->usage);
	switch (kind) {
	case ARG_ADDR:
		if (dw_addr_parse(a, &addr) != 0)
			bad_usage("%s: '%s' is not an IPv4 or IPv6 address", v->name, a);
		break;
	case ARG_CIDR:
		if (dw_cidr_parse(a, &cidr) != 0)
			bad_usage("%s: '%s' is not an address or a prefix such as 10.1.0.0/16 "
			          "(host bits must be zero)",
			          v->name, a);
		break;
	case ARG_DURATION:
		/* 0 and forever: until unblocked */
		d = strcmp(a, "forever") == 0 ? 0 : dw_parse_duration(a);
		if (d < 0)
			bad_usage("%s: '%s' is not a duration (seconds, or a number with s, m, h "
			          "or d: 90, 10m, 1h, 2d; or forever)",
			          v->name, a);
		break;
	case ARG_ACTION:
		/* log is an action for detectors, not for a block */
		d = dw_action_from_name(a);
		if (d < 0 || d == DW_ACT_LOG)
			bad_usage("%s: '%s' is not an action (refuse, nxdomain, nodata, sinkhole, "
			          "drop, tcp-only)",
			          v->name, a);
		break;
	case ARG_ALL_OR_COUNT:
		if (strcmp(a, "all") != 0) {
			char *end;
			unsigned long n = strtoul(a, &end, 10);
			if (a[0] < '0' || a[0] > '9' || *end != '\0' || n == 0 || n > 10000000)
				bad_usage("%s: '%s': expected 'all' or a count (1 .. 10000000)",
				          v->name, a);
		}
		break;
	case ARG_NONE:
	case ARG_INCIDENT_OPTS:
		break;
	}
}

/** Check incidents' options: --client CIDR, --detector NAME, --since
 *  DURATION, a count; exits with a usage error when one is wrong. */
static void check_incident_args(const struct verb *v, int n, char **a)
{
	int i;
	for (i = 0; i < n; i++) {
		check_arg(v, ARG_NONE, a[i]);
		if (strcmp(a[i], "--client") == 0 || strcmp(a[i], "--detector") == 0 ||
		    strcmp(a[i], "--since") == 0) {
			if (i + 1 >= n)
				bad_usage("%s: %s needs a value; usage: %s", v->name, a[i], v->usage);
			check_arg(v, a[i][2] == 'c' ? ARG_CIDR : ARG_NONE, a[i + 1]);
			if (a[i][2] == 'd' && dw_detector_from_name(a[i + 1]) < 0)
				bad_usage("%s: '%s' is not a detector", v->name, a[i + 1]);
			if (a[i][2] == 's' && dw_parse_duration(a[i + 1]) <= 0)
				bad_usage("%s: '%s' is not a duration (30m, 24h, 7d)", v->name,
				          a[i + 1]);
			i++;
		} else {
			char *end;
			unsigned long c = strtoul(a[i], &end, 10);
			if (a[i][0] < '0' || a[i][0] > '9' || *end != '\0' || c == 0 || c > 100000)
				bad_usage("%s: '%s': expected --client, --detector, --since or a "
				          "count (1 .. 100000)",
				          v->name, a[i]);
		}
	}
}

/** Find and check the command; returns its entry or exits 2. */
static const struct verb *check_command(int argc, char **argv)
{
	const struct verb *v = NULL;
	size_t i;
	int n = argc - 1;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, argv[0]) == 0)
			v = &verbs[i];
	if (v == NULL)
		bad_usage("unknown command '%s'", argv[0]);
	if (n < v->min || n > v->max)
		bad_usage("usage: %s %s", progname, v->usage);
	if (v->kind[0] == ARG_INCIDENT_OPTS) {
		check_incident_args(v, n, argv + 1);
		return v;
	}
	for (i = 0; i < (size_t)n; i++)
		check_arg(v, v->kind[i], argv[i + 1]);
	return v;
}

/** Milliseconds left until deadline (monotonic seconds/ms), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/** Connect to path within the timeout; the fd, or -1 after saying why. */
static int connect_to(const char *path, const char *conf_hint)
{
	struct sockaddr_un sa;
	struct timeval tv = {.tv_sec = TIMEOUT_S};
	int fd, e;
	const char *hint = "";
	char hintbuf[DW_CONF_MAX_PATH + 128];

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked by the caller */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("socket: %s", strerror(errno));
		return -1;
	}
	/* a full backlog makes connect() wait; this bounds the wait */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	switch (e) {
	case ENOENT:
		if (conf_hint) {
			snprintf(hintbuf, sizeof(hintbuf),
			         " (is unbound running with dnswarden? the path is control.socket "
			         "in %s)",
			         conf_hint);
			hint = hintbuf;
		} else
			hint = " (is unbound running with dnswarden?)";
		break;
	case ECONNREFUSED:
		hint = " (nothing listens there: is unbound running?)";
		break;
	case EACCES:
	case EPERM:
		hint = " (only root and members of control.group may use it)";
		break;
	case EAGAIN:
	case EINPROGRESS:
	case ETIMEDOUT:
		say("cannot connect to %s: timed out after %d s (the resolver is busy)", path,
		    TIMEOUT_S);
		return -1;
	default:
		break;
	}
	say("cannot connect to %s: %s%s", path, strerror(e), hint);
	return -1;
}

/** Send the request and read the whole answer; 0, or -1 after saying why.
 *  *buf is malloc'ed and NUL-terminated. */
static int exchange(int fd, const char *path, const char *req, char **buf, size_t *len)
{
	struct timespec deadline;
	size_t cap = 65536, n = 0, off = 0, reqlen = strlen(req);
	char *b;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += TIMEOUT_S;
	while (off < reqlen) {
		ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* the server may have answered and closed already (refused
			 * peer, too many connections): read what it said */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			say("%s: cannot send the request: %s", path, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	b = malloc(cap + 1);
	if (b == NULL) {
		say("out of memory");
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;
		int left = ms_left(&deadline), pr;

		pr = poll(&p, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			say("%s: no complete answer within %d s", path, TIMEOUT_S);
			free(b);
			return -1;
		}
		if (n == cap) {
			char *nb;
			if (cap >= MAX_ANSWER) {
				say("%s: the answer is larger than %zu bytes", path,
				    (size_t)MAX_ANSWER);
				free(b);
				return -1;
			}
			cap = cap * 2 > MAX_ANSWER ? MAX_ANSWER : cap * 2;
			nb = realloc(b, cap + 1);
			if (nb == NULL) {
				say("out of memory");
				free(b);
				return -1;
			}
			b = nb;
		}
		r = recv(fd, b + n, cap - n, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			/* the server closed with our unread request in its
			 * queue: what it sent before is complete */
			if (errno == ECONNRESET && memchr(b, '\n', n) != NULL)
				break;
			say("%s: reading the answer: %s", path, strerror(errno));
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/** Act on the answer: print it, return the exit status. */
static int answer(const char *path, const char *b, size_t n)
{
	const char *nl = memchr(b, '\n', n);
	size_t first;

	if (nl == NULL) {
		if (n == 0)
			say("%s closed the connection without an answer", path);
		else
			say("%s: unexpected answer (no complete first line)", path);
		return 1;
	}
	first = (size_t)(nl - b);
	if (first == 2 && memcmp(b, "ok", 2) == 0) {
		size_t body = n - first - 1;
		if (body > 0 && fwrite(nl + 1, 1, body, stdout) != body) {
			say("writing the output: %s", strerror(errno));
			return 1;
		}
		if (fflush(stdout) != 0) {
			say("writing the output: %s", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (first >= 8 && memcmp(b, "error ", 6) == 0 && (b[6] == '1' || b[6] == '2') &&
	    b[7] == ' ') {
		fprintf(stderr, "%s: %.*s\n", progname, (int)(first - 8), b + 8);
		return b[6] - '0';
	}
	say("%s: unexpected answer '%.*s'", path, (int)(first > 80 ? 80 : first), b);
	return 1;
}

/** Parse the options and the command, find the socket, run the exchange. */
int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"config", required_argument, NULL, 'c'},
	                                         {"socket", required_argument, NULL, 's'},
	                                         {NULL, 0, NULL, 0}};
	const char *config = NULL, *sockpath = NULL;
	const struct verb *v;
	struct dw_conf *conf = NULL;
	char req[DW_CONTROL_MAX_LINE];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *buf = NULL;
	size_t len = 0, rl;
	int json = 0, opt, fd, i, rc;

	while ((opt = getopt_long(argc, argv, "+c:s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "(%s -h lists the options and commands)\n", progname);
			return 2;
		}
	}
	if (config && sockpath)
		bad_usage("-c and -s exclude each other");
	if (optind >= argc)
		bad_usage("no command given");
	v = check_command(argc - optind, argv + optind);

	if (sockpath == NULL) {
		char err[DW_CONF_ERRLEN];
		if (config == NULL)
			config = dw_conf_path();
		conf = dw_conf_load(config, err, sizeof(err));
		if (conf == NULL) {
			say("%s (to reach the socket anyway: -s SOCKET)", err);
			return 1;
		}
		sockpath = conf->control_socket;
	}
	if (sockpath[0] == '\0' || strlen(sockpath) >= sizeof(path))
		bad_usage("socket path '%s' is empty or longer than %zu bytes", sockpath,
		          sizeof(path) - 1);
	memcpy(path, sockpath, strlen(sockpath) + 1);
	dw_conf_free(conf);

	rl = (size_t)snprintf(req, sizeof(req), "%s%s %s", DW_CONTROL_MAGIC, json ? " --json" : "",
	                      v->name);
	for (i = optind + 1; i < argc && rl < sizeof(req); i++)
		rl += (size_t)snprintf(req + rl, sizeof(req) - rl, " %s", argv[i]);
	if (rl + 1 >= sizeof(req))
		bad_usage("the command line is too long");
	req[rl++] = '\n';
	req[rl] = '\0';

	fd = connect_to(path, config);
	if (fd < 0)
		return 1;
	rc = exchange(fd, path, req, &buf, &len);
	close(fd);
	if (rc == 0)
		rc = answer(path, buf, len);
	else
		rc = 1;
	free(buf);
	return rc;
}
