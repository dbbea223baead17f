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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addr.h"
#include "conf.h"
#include "control_client.h"

/** Seconds the whole exchange (connect, send, read) may take. */
#define TIMEOUT_S 30

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
     9,
     {ARG_INCIDENT_OPTS},
     "incidents [--client ADDR|CIDR] [--detector NAME] [--domain NAME] [--since DURATION] [N]",
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

/** Check incidents' options: --client CIDR, --detector NAME, --domain NAME
 *  (the module checks the name), --since DURATION, a count; exits with a
 *  usage error when one is wrong. */
static void check_incident_args(const struct verb *v, int n, char **a)
{
	int i;
	for (i = 0; i < n; i++) {
		check_arg(v, ARG_NONE, a[i]);
		if (strcmp(a[i], "--client") == 0 || strcmp(a[i], "--detector") == 0 ||
		    strcmp(a[i], "--domain") == 0 || strcmp(a[i], "--since") == 0) {
			if (i + 1 >= n)
				bad_usage("%s: %s needs a value; usage: %s", v->name, a[i], v->usage);
			check_arg(v, a[i][2] == 'c' ? ARG_CIDR : ARG_NONE, a[i + 1]);
			if (a[i][3] == 'e' && dw_detector_from_name(a[i + 1]) < 0)
				bad_usage("%s: '%s' is not a detector", v->name, a[i + 1]);
			if (a[i][2] == 's' && dw_parse_duration(a[i + 1]) <= 0)
				bad_usage("%s: '%s' is not a duration (30m, 24h, 7d)", v->name,
				          a[i + 1]);
			i++;
		} else {
			char *end;
			unsigned long c = strtoul(a[i], &end, 10);
			if (a[i][0] < '0' || a[i][0] > '9' || *end != '\0' || c == 0 || c > 100000)
				bad_usage(
				    "%s: '%s': expected --client, --detector, --domain, --since "
				    "or a count (1 .. 100000)",
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

/** Print the answer: the body on stdout, an error message on stderr;
 *  returns the exit status. */
static int print_answer(const struct dw_control_reply *r)
{
	if (r->status != 0) {
		fprintf(stderr, "%s: %.*s\n", progname, (int)r->body_len, r->body);
		return r->status;
	}
	if (r->body_len > 0 && fwrite(r->body, 1, r->body_len, stdout) != r->body_len) {
		say("writing the output: %s", strerror(errno));
		return 1;
	}
	if (fflush(stdout) != 0) {
		say("writing the output: %s", strerror(errno));
		return 1;
	}
	return 0;
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
	char cerr[DW_CONF_MAX_PATH + 256];
	struct dw_control_reply reply;
	size_t rl;
	int json = 0, opt, i, rc;

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

	rc = dw_control_call(path, req, TIMEOUT_S, DW_CONTROL_MAX_ANSWER, &reply, cerr,
	                     sizeof(cerr));
	if (rc == DW_CTLCALL_CONNECT && reply.errnum == ENOENT && config != NULL)
		say("cannot connect to %s: %s (is unbound running with dnswarden? the path is "
		    "control.socket in %s)",
		    path, strerror(ENOENT), config);
	else if (rc != DW_CTLCALL_OK)
		say("%s", cerr);
	rc = rc == DW_CTLCALL_OK ? print_answer(&reply) : 1;
	dw_control_reply_free(&reply);
	return rc;
}
