/**
 * \file
 * Unit tests of conf.c: defaults, the shipped etc/dnswarden.yaml, block and
 * flow style, durations, and every class of error with its exact
 * "FILE:LINE:COL:" prefix.
 *
 * Each snippet is written to a temporary file (mkstemp under $TMPDIR or /tmp)
 * that is removed right after dw_conf_load() has read it.
 * The shipped example is found through $DW_SRCDIR, else as ../../etc/ from
 * this binary's directory.
 */
#include "conf.h"
#include "domtext.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/** Path of the last temporary file, for building expected prefixes. */
static char tmp_path[PATH_MAX];
/** Error buffer of the last load. */
static char err[DW_CONF_ERRLEN];

/** Write len bytes to a fresh temp file, load it, remove it. */
static struct dw_conf *load_buf(const char *yaml, size_t len)
{
	const char *dir = getenv("TMPDIR");
	struct dw_conf *c;
	FILE *f;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(tmp_path, sizeof(tmp_path), "%s/dwconf-XXXXXX", dir);
	fd = mkstemp(tmp_path);
	if (fd < 0) {
		printf("# mkstemp %s: %s\n", tmp_path, strerror(errno));
		exit(2);
	}
	f = fdopen(fd, "w");
	if (f == NULL || fwrite(yaml, 1, len, f) != len || fclose(f) != 0) {
		printf("# cannot write %s\n", tmp_path);
		unlink(tmp_path);
		exit(2);
	}
	err[0] = '\0';
	c = dw_conf_load(tmp_path, err, sizeof(err));
	unlink(tmp_path);
	return c;
}

/** Load a NUL-terminated snippet. */
static struct dw_conf *load(const char *yaml)
{
	return load_buf(yaml, strlen(yaml));
}

/** The snippet must load; returns the config (caller frees) or NULL. */
static struct dw_conf *load_ok(const char *yaml, const char *name)
{
	struct dw_conf *c = load(yaml);

	if (!ok(c != NULL, "loads: %s", name))
		printf("#   error: %s\n", err);
	return c;
}

/**
 * The buffer must fail with "TMPFILE:line:col: " followed by a message that
 * contains needle.
 */
static void fails_buf(const char *yaml, size_t len, int line, int col, const char *needle,
                      const char *name)
{
	char want[PATH_MAX + 64];
	struct dw_conf *c = load_buf(yaml, len);
	size_t wl;

	if (c != NULL) {
		ok(0, "%s: rejected", name);
		dw_conf_free(c);
		return;
	}
	snprintf(want, sizeof(want), "%s:%d:%d: ", tmp_path, line, col);
	wl = strlen(want);
	if (!ok(strncmp(err, want, wl) == 0 && strstr(err + wl, needle) != NULL, "%s", name)) {
		printf("#   got:  %s\n", err);
		printf("#   want: %s...%s...\n", want, needle);
	}
}

/** fails_buf() for a NUL-terminated snippet. */
static void fails(const char *yaml, int line, int col, const char *needle, const char *name)
{
	fails_buf(yaml, strlen(yaml), line, col, needle, name);
}

/** Field-by-field equality of two configs (path aside). */
static bool conf_same(const struct dw_conf *a, const struct dw_conf *b)
{
	size_t i;

	if (a->mode != b->mode || a->enforcement != b->enforcement ||
	    strcmp(a->rpz_zone, b->rpz_zone) != 0 || strcmp(a->state_file, b->state_file) != 0 ||
	    strcmp(a->control_socket, b->control_socket) != 0 ||
	    (a->control_group == NULL) != (b->control_group == NULL) ||
	    (a->control_group && strcmp(a->control_group, b->control_group) != 0) ||
	    a->syslog_facility != b->syslog_facility || a->syslog_rate != b->syslog_rate ||
	    a->clients_max != b->clients_max || a->ipv6_prefix != b->ipv6_prefix ||
	    a->exempt_count != b->exempt_count ||
	    !dw_addr_equal(&a->sinkhole_v4, &b->sinkhole_v4) ||
	    !dw_addr_equal(&a->sinkhole_v6, &b->sinkhole_v6) ||
	    a->keyword_count != b->keyword_count || a->signature_count != b->signature_count ||
	    (a->geoip_country_db == NULL) != (b->geoip_country_db == NULL) ||
	    (a->geoip_asn_db == NULL) != (b->geoip_asn_db == NULL) ||
	    a->wl_min_ttl != b->wl_min_ttl || a->wl_max_ttl != b->wl_max_ttl ||
	    a->wl_max_entries != b->wl_max_entries || a->wl_static_count != b->wl_static_count ||
	    a->debug_log_queries != b->debug_log_queries)
		return false;
	for (i = 0; i < DW_DET_COUNT; i++)
		if (a->det[i].enabled != b->det[i].enabled ||
		    a->det[i].threshold != b->det[i].threshold ||
		    a->det[i].window != b->det[i].window || a->det[i].action != b->det[i].action ||
		    a->det[i].duration != b->det[i].duration)
			return false;
	for (i = 0; i < a->keyword_count; i++)
		if (strcmp(a->keywords[i], b->keywords[i]) != 0)
			return false;
	for (i = 0; i < a->signature_count; i++)
		if (strcmp(a->signatures[i], b->signatures[i]) != 0)
			return false;
	for (i = 0; i < a->exempt_count; i++)
		if (a->exempt[i].len != b->exempt[i].len ||
		    !dw_addr_equal(&a->exempt[i].addr, &b->exempt[i].addr))
			return false;
	for (i = 0; i < a->wl_static_count; i++)
		if (!dw_addr_equal(&a->wl_static[i], &b->wl_static[i]))
			return false;
	return true;
}

/** Expected detector settings. */
static void is_det(const struct dw_conf *c, enum dw_detector d, bool en, uint32_t thr, uint32_t win,
                   enum dw_action act, uint32_t dur)
{
	const struct dw_detector_conf *x = &c->det[d];

	if (!ok(x->enabled == en && x->threshold == thr && x->window == win && x->action == act &&
	            x->duration == dur,
	        "default of %s", dw_detector_name(d)))
		printf("#   got %d %u %u %s %u\n", x->enabled, x->threshold, x->window,
		       dw_action_name(x->action), x->duration);
}

/** dw_conf_defaults(): every default named in dnswarden.yaml(5) and conf.h. */
static void test_defaults(void)
{
	struct dw_conf *c = dw_conf_defaults();
	char buf[DW_ADDR_STRLEN];

	if (!ok(c != NULL, "dw_conf_defaults"))
		return;
	is_int(c->mode, DW_MODE_OBSERVE, "mode observe");
	is_int(c->enforcement, DW_ENF_AUTO, "enforcement auto");
	ok(!strcmp(c->rpz_zone, "dnswarden.rpz."), "rpz_zone");
	ok(!strcmp(c->state_file, "/var/lib/unbound/dnswarden.state"), "state_file");
	ok(!strcmp(c->control_socket, "/run/unbound/dnswarden.ctl"), "control.socket");
	ok(c->control_group && !strcmp(c->control_group, "unbound"), "control.group");
	is_int(c->syslog_facility, LOG_DAEMON, "syslog.facility daemon");
	is_int(c->syslog_rate, 100, "syslog.rate");
	is_int(c->clients_max, 1000000, "clients.max");
	is_int(c->ipv6_prefix, 64, "clients.ipv6_prefix");
	is_int(c->exempt_count, 0, "no exemptions");
	dw_addr_format(&c->sinkhole_v4, buf, sizeof(buf));
	ok(!strcmp(buf, "192.0.2.66"), "sinkhole.ipv4 %s", buf);
	dw_addr_format(&c->sinkhole_v6, buf, sizeof(buf));
	ok(!strcmp(buf, "2001:db8::66"), "sinkhole.ipv6 %s", buf);
	is_det(c, DW_DET_MX_WORM, true, 50, 600, DW_ACT_SINKHOLE, 3600);
	is_det(c, DW_DET_SPAM_RELAY, true, 50, 600, DW_ACT_NXDOMAIN, 3600);
	is_det(c, DW_DET_MX_KEYWORD_SCAN, true, 500, 3600, DW_ACT_NXDOMAIN, 3600);
	is_det(c, DW_DET_IP_LITERAL, true, 500, 3600, DW_ACT_NXDOMAIN, 3600);
	is_det(c, DW_DET_PTR_FLOOD, true, 1000, 60, DW_ACT_DROP, 600);
	is_det(c, DW_DET_PTR_FORWARD_IP, true, 20, 600, DW_ACT_LOG, 3600);
	is_det(c, DW_DET_SIGNATURE_NAMES, true, 1, 3600, DW_ACT_LOG, 3600);
	is_int(c->keyword_count, 6, "six keywords");
	ok(c->keyword_count == 6 && !strcmp(c->keywords[0], "mail") &&
	       !strcmp(c->keywords[5], "gate"),
	   "keywords mail .. gate");
	is_int(c->signature_count, 13, "13 root-server names");
	ok(c->signature_count == 13 && !strcmp(c->signatures[0], "a.root-servers.net") &&
	       !strcmp(c->signatures[12], "m.root-servers.net"),
	   "signatures a. .. m.root-servers.net");
	ok(c->geoip_country_db == NULL && c->geoip_asn_db == NULL, "no geoip");
	is_int(c->wl_min_ttl, 60, "whitelist.min_ttl");
	is_int(c->wl_max_ttl, 86400, "whitelist.max_ttl");
	is_int(c->wl_max_entries, 200000, "whitelist.max_entries");
	is_int(c->wl_static_count, 0, "no static whitelist");
	ok(!c->debug_log_queries, "debug.log_queries false");
	dw_conf_free(c);
	dw_conf_free(NULL);
}

/** Files that say nothing mean the defaults. */
static void test_empty(void)
{
	static const char *const docs[] = {"", "# only a comment\n\n   # another\n", "---\n",
	                                   "---\n...\n", "\n\n"};
	struct dw_conf *d = dw_conf_defaults(), *c;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		c = load_ok(docs[i], "empty document");
		ok(c && conf_same(c, d), "empty document %zu gives the defaults", i);
		ok(c && c->path && !strcmp(c->path, tmp_path), "path recorded");
		dw_conf_free(c);
	}
	c = load_ok("control:\ndetectors:\n  mx_worm:\ngeoip: ~\nexempt: null\n", "null sections");
	ok(c && conf_same(c, d), "null sections keep their defaults");
	dw_conf_free(c);
	dw_conf_free(d);
}

/** The shipped example must load and spell out exactly the defaults. */
static void test_example(const char *argv0)
{
	char path[PATH_MAX + 64];
	const char *src = getenv("DW_SRCDIR");
	struct dw_conf *c, *d = dw_conf_defaults();

	if (src && *src) {
		snprintf(path, sizeof(path), "%s/etc/dnswarden.yaml", src);
	} else {
		char dir[PATH_MAX], *slash;
		snprintf(dir, sizeof(dir), "%s", argv0);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		snprintf(path, sizeof(path), "%s/../../etc/dnswarden.yaml", dir);
	}
	c = dw_conf_load(path, err, sizeof(err));
	if (!ok(c != NULL, "etc/dnswarden.yaml loads (%s)", path))
		printf("#   error: %s\n", err);
	ok(c && conf_same(c, d), "etc/dnswarden.yaml spells out the defaults");
	dw_conf_free(c);
	dw_conf_free(d);
}

/** the design's example, verbatim: flow mappings inside block style. */
static const char design_example[] =
    "mode: observe                 # observe | enforce\n"
    "enforcement: auto             # auto | rpz | hook\n"
    "rpz_zone: dnswarden.rpz.      # the rpz: zone declared in unbound.conf\n"
    "state_file: /var/lib/unbound/dnswarden.state\n"
    "control:\n"
    "  socket: /run/unbound/dnswarden.ctl\n"
    "  group: unbound\n"
    "syslog:\n"
    "  facility: daemon            # never openlog(); priority carries the facility\n"
    "clients:\n"
    "  max: 1000000                # cap of tracked clients; least recently seen evicted\n"
    "  ipv6_prefix: 64             # IPv6 clients aggregated to this prefix\n"
    "exempt:                       # never acted on (authorised mail servers, ...)\n"
    "  - 192.0.2.25/32\n"
    "sinkhole:\n"
    "  ipv4: 192.0.2.66\n"
    "  ipv6: \"2001:db8::66\"\n"
    "detectors:\n"
    "  mx_worm:         { enabled: true, threshold: 50,  window: 10m, action: sinkhole, "
    "duration: 1h }\n"
    "  spam_relay:      { enabled: true, threshold: 50,  window: 10m, action: nxdomain, "
    "duration: 1h }\n"
    "  mx_keyword_scan: { enabled: true, threshold: 500, window: 1h,  action: nxdomain, "
    "duration: 1h,\n"
    "                     keywords: [mail, smtp, mx, ns, relay, gate] }\n"
    "  ip_literal:      { enabled: true, threshold: 500, window: 1h,  action: nxdomain, "
    "duration: 1h }\n"
    "  ptr_flood:       { enabled: true, threshold: 1000, window: 1m, action: drop,    "
    "duration: 10m }\n"
    "geoip:\n"
    "  country_db: /usr/share/GeoIP/GeoLite2-Country.mmdb   # optional\n"
    "  asn_db: /usr/share/GeoIP/GeoLite2-ASN.mmdb           # optional\n"
    "whitelist:\n"
    "  min_ttl: 60\n"
    "  max_ttl: 86400\n"
    "  max_entries: 200000\n"
    "  static: [ 8.8.4.4 ]\n";

/** Block style, flow style, partial detectors, every key given. */
static void test_styles(void)
{
	struct dw_conf *c, *d = dw_conf_defaults();

	c = load_ok(design_example, "design example");
	if (c) {
		char buf[DW_ADDR_STRLEN];
		is_int(c->exempt_count, 1, "one exemption");
		dw_cidr_format(&c->exempt[0], buf, sizeof(buf));
		ok(!strcmp(buf, "192.0.2.25/32"), "exempt %s", buf);
		is_int(c->wl_static_count, 1, "one static whitelist entry");
		dw_addr_format(&c->wl_static[0], buf, sizeof(buf));
		ok(!strcmp(buf, "8.8.4.4"), "static %s", buf);
		ok(c->geoip_country_db &&
		       !strcmp(c->geoip_country_db, "/usr/share/GeoIP/GeoLite2-Country.mmdb"),
		   "geoip.country_db");
		ok(c->geoip_asn_db &&
		       !strcmp(c->geoip_asn_db, "/usr/share/GeoIP/GeoLite2-ASN.mmdb"),
		   "geoip.asn_db");
		is_det(c, DW_DET_PTR_FLOOD, true, 1000, 60, DW_ACT_DROP, 600);
		is_det(c, DW_DET_SIGNATURE_NAMES, true, 1, 3600, DW_ACT_LOG, 3600);
		is_int(c->keyword_count, 6, "keywords from the example");
	}
	dw_conf_free(c);

	c = load_ok("{mode: enforce, enforcement: hook, syslog: {facility: local3, rate: 7},"
	            " clients: {max: 5, ipv6_prefix: 48}, exempt: [10.0.0.0/8, '2001:db8::/32'],"
	            " detectors: {mx_worm: {threshold: 7}, signature_names: {names: [Evil.Example.,"
	            " x.test]}, mx_keyword_scan: {keywords: []}}, debug: {log_queries: yes},"
	            " control: {group: ''}, rpz_zone: Block.Example}",
	            "whole document in flow style");
	if (c) {
		is_int(c->mode, DW_MODE_ENFORCE, "flow: mode");
		is_int(c->enforcement, DW_ENF_HOOK, "flow: enforcement");
		is_int(c->syslog_facility, LOG_LOCAL3, "flow: facility local3");
		is_int(c->syslog_rate, 7, "flow: rate");
		is_int(c->clients_max, 5, "flow: clients.max");
		is_int(c->ipv6_prefix, 48, "flow: ipv6_prefix");
		is_int(c->exempt_count, 2, "flow: two exemptions");
		is_int(c->exempt_count == 2 ? c->exempt[1].len : 0, 32, "flow: v6 prefix length");
		is_det(c, DW_DET_MX_WORM, true, 7, 600, DW_ACT_SINKHOLE, 3600);
		is_int(c->signature_count, 2, "flow: two names");
		ok(c->signature_count == 2 && !strcmp(c->signatures[0], "evil.example") &&
		       !strcmp(c->signatures[1], "x.test"),
		   "names lower case without final dot");
		is_int(c->keyword_count, 0, "flow: empty keyword list");
		ok(c->debug_log_queries, "flow: log_queries yes");
		ok(c->control_group == NULL, "empty group means root only");
		ok(!strcmp(c->rpz_zone, "block.example."), "rpz_zone lower case with dot");
		is_det(c, DW_DET_SPAM_RELAY, true, 50, 600, DW_ACT_NXDOMAIN, 3600);
	}
	dw_conf_free(c);

	c = load_ok("detectors:\n"
	            "  mx_worm:\n"
	            "    threshold: 7\n"
	            "    action: log\n"
	            "  ptr_forward_ip:\n"
	            "    enabled: false\n"
	            "  signature_names:\n"
	            "    names:\n"
	            "      - sobig.example\n",
	            "partial detectors");
	if (c) {
		is_det(c, DW_DET_MX_WORM, true, 7, 600, DW_ACT_LOG, 3600);
		is_det(c, DW_DET_PTR_FORWARD_IP, false, 20, 600, DW_ACT_LOG, 3600);
		is_det(c, DW_DET_SPAM_RELAY, true, 50, 600, DW_ACT_NXDOMAIN, 3600);
		is_int(c->keyword_count, 6, "keywords untouched");
		is_int(c->signature_count, 1, "names replaced, not appended");
	}
	dw_conf_free(c);

	c = load_ok(
	    "whitelist:\n  min_ttl: 0\n  max_ttl: 7d\n  static: ['2001:db8::53', 192.0.2.53]\n"
	    "geoip:\n  country_db: ''\n  asn_db: /x.mmdb\n"
	    "control:\n  group: wheel\n  socket: /run/x.sock\n"
	    "detectors:\n  ip_literal: {threshold: \"4294967295\", enabled: off}\n",
	    "edges of ranges");
	if (c) {
		is_int(c->wl_min_ttl, 0, "min_ttl 0");
		is_int(c->wl_max_ttl, 7 * 86400, "max_ttl 7d");
		is_int(c->wl_static_count, 2, "two static addresses");
		ok(c->geoip_country_db == NULL, "empty country_db is unset");
		ok(c->geoip_asn_db && !strcmp(c->geoip_asn_db, "/x.mmdb"), "asn_db set");
		ok(c->control_group && !strcmp(c->control_group, "wheel"), "group wheel");
		is_det(c, DW_DET_IP_LITERAL, false, 4294967295u, 3600, DW_ACT_NXDOMAIN, 3600);
	}
	dw_conf_free(c);
	dw_conf_free(d);
}

/** dw_parse_duration() and durations inside the file. */
static void test_durations(void)
{
	static const struct {
		const char *s;
		long want;
	} cases[] = {
	    {"90", 90},
	    {"90s", 90},
	    {"10m", 600},
	    {"1h", 3600},
	    {"2d", 172800},
	    {"0", 0},
	    {"0s", 0},
	    {"9223372036854775807", 9223372036854775807L},
	    {"9223372036854775808", -1},
	    {"106751991167300d", 106751991167300L * 86400},
	    {"106751991167301d", -1},
	    {"99999999999999999999d", -1},
	    {"", -1},
	    {"s", -1},
	    {"m", -1},
	    {"1.5h", -1},
	    {"-5m", -1},
	    {"+5m", -1},
	    {"1h30m", -1},
	    {"10M", -1},
	    {"10ms", -1},
	    {"1w", -1},
	    {" 10", -1},
	    {"10 ", -1},
	    {"010", -1},
	    {"0x10", -1},
	};
	struct dw_conf *c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = dw_parse_duration(cases[i].s);
		if (!ok(got == cases[i].want, "duration '%s'", cases[i].s))
			printf("#   got %ld, want %ld\n", got, cases[i].want);
	}
	is_int(dw_parse_duration(NULL), -1, "duration NULL");

	c = load_ok("detectors:\n  mx_worm: {window: 1d, duration: 30d}\n  ptr_flood:\n"
	            "    window: 90\n    duration: 45s\n",
	            "durations at their limits");
	if (c) {
		is_det(c, DW_DET_MX_WORM, true, 50, 86400, DW_ACT_SINKHOLE, 30 * 86400);
		is_det(c, DW_DET_PTR_FLOOD, true, 1000, 90, DW_ACT_DROP, 45);
	}
	dw_conf_free(c);
	fails("detectors:\n  mx_worm:\n    window: 10x\n", 3, 13,
	      "detectors.mx_worm.window must be a duration from 1s to 1d (seconds, or a number "
	      "with s, m, h or d), got '10x'",
	      "bad duration suffix");
	fails("detectors:\n  mx_worm:\n    window: 2d\n", 3, 13,
	      "from 1s to 1d (seconds, or a number with s, m, h or d), got '2d'",
	      "window above one day");
	fails("detectors:\n  mx_worm:\n    window: 0\n", 3, 13, "got '0'", "zero window");
	fails("detectors:\n  mx_worm:\n    duration: 31d\n", 3, 15,
	      "from 1s to 30d (seconds, or a number with s, m, h or d), got '31d'",
	      "duration above 30 days");
	fails("detectors:\n  mx_worm:\n    duration: 99999999999999999999999h\n", 3, 15,
	      "got '99999999999999999999999h'", "overflowing duration");
	fails("detectors:\n  mx_worm:\n    duration: 1h30m\n", 3, 15, "got '1h30m'",
	      "compound duration");
	fails("whitelist:\n  max_ttl: -1\n", 2, 12, "whitelist.max_ttl must be a duration",
	      "negative ttl");
}

/** Errors in values, each with its exact position. */
static void test_value_errors(void)
{
	char *big;
	size_t n;

	fails("detectors:\n  mx_worm:\n    threshold: lots\n", 3, 16,
	      "detectors.mx_worm.threshold must be a positive integer, got 'lots'",
	      "threshold not a number (the message style of HACKING.md)");
	fails("detectors:\n  mx_worm:\n    threshold: 0\n", 3, 16,
	      "must be a positive integer, got '0'", "threshold zero");
	fails("detectors:\n  mx_worm:\n    threshold: 4294967296\n", 3, 16, "got '4294967296'",
	      "threshold above 32 bits");
	fails("detectors:\n  mx_worm:\n    threshold: -5\n", 3, 16, "got '-5'",
	      "negative threshold");
	fails("detectors:\n  mx_worm:\n    threshold: 5.0\n", 3, 16, "got '5.0'",
	      "fractional threshold");
	fails("detectors:\n  mx_worm:\n    threshold: 010\n", 3, 16, "got '010'",
	      "leading zero (YAML 1.1 octal) refused");
	fails("clients:\n  max: 0\n", 2, 8,
	      "clients.max must be an integer from 1 to 100000000, got '0'", "clients.max zero");
	fails("clients:\n  ipv6_prefix: 65\n", 2, 16,
	      "clients.ipv6_prefix must be an integer from 32 to 64, got '65'",
	      "ipv6_prefix too long");
	fails("syslog:\n  rate: 0\n", 2, 9, "syslog.rate must be an integer from 1 to 1000000",
	      "syslog.rate zero");
	fails("debug:\n  log_queries: maybe\n", 2, 16,
	      "debug.log_queries must be true or false, got 'maybe'", "bad boolean");
	fails("mode: enforcing\n", 1, 7, "mode must be one of observe, enforce, got 'enforcing'",
	      "bad mode");
	fails("enforcement: magic\n", 1, 14,
	      "enforcement must be one of auto, rpz, hook, got 'magic'", "bad enforcement");
	fails("syslog:\n  facility: kern\n", 2, 13,
	      "syslog.facility must be one of daemon, user, auth, authpriv, mail, local0",
	      "bad facility");
	fails("detectors:\n  ptr_flood: {action: block}\n", 2, 23,
	      "detectors.ptr_flood.action must be one of log, refuse, nxdomain, nodata, sinkhole, "
	      "drop, tcp-only, got 'block'",
	      "bad action");
	fails("sinkhole:\n  ipv4: 300.1.2.3\n", 2, 9,
	      "sinkhole.ipv4 must be an IPv4 address, got "
	      "'300.1.2.3'",
	      "bad IPv4 address");
	fails("sinkhole:\n  ipv4: \"2001:db8::1\"\n", 2, 9, "must be an IPv4 address",
	      "IPv6 where IPv4 is wanted");
	fails("sinkhole:\n  ipv6: 192.0.2.1\n", 2, 9, "sinkhole.ipv6 must be an IPv6 address",
	      "IPv4 where IPv6 is wanted");
	fails("exempt:\n  - 192.0.2.0/24\n  - 10.0.0.1/8\n", 3, 5,
	      "each entry of exempt must be an address or CIDR prefix with no host bits set, got "
	      "'10.0.0.1/8'",
	      "CIDR with host bits");
	fails("exempt: [192.0.2.0/24, 10.0.0.0/33]\n", 1, 24, "got '10.0.0.0/33'",
	      "CIDR prefix too long (flow)");
	fails("exempt: [example.com]\n", 1, 10, "got 'example.com'", "name instead of CIDR");
	fails("whitelist:\n  static: [8.8.4.4, bogus]\n", 2, 21,
	      "each entry of whitelist.static must be an IPv4 or IPv6 address, got 'bogus'",
	      "bad static address");
	fails("detectors:\n  mx_keyword_scan:\n    keywords: [mail, Smtp]\n", 3, 22,
	      "each entry of detectors.mx_keyword_scan.keywords must be 1 to 63 characters of a-z, "
	      "0-9 and '-', got 'Smtp'",
	      "upper-case keyword");
	fails("detectors:\n  mx_keyword_scan:\n    keywords: [mail_x]\n", 3, 16, "got 'mail_x'",
	      "underscore in keyword");
	fails("detectors:\n  mx_keyword_scan:\n    keywords: ['']\n", 3, 16, "got ''",
	      "empty keyword");
	fails("detectors:\n  mx_keyword_scan:\n    keywords: [mail, smtp, mail]\n", 3, 28,
	      "detectors.mx_keyword_scan.keywords lists 'mail' twice", "duplicate keyword");
	fails("detectors:\n  mx_keyword_scan:\n    keywords:\n"
	      "      - "
	      "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd\n",
	      4, 9, "got 'abcdefghij", "64-character keyword");
	{
		struct dw_conf *c =
		    load_ok("detectors:\n  mx_keyword_scan:\n    keywords:\n      - "
		            "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc\n",
		            "63-character keyword");
		dw_conf_free(c);
	}
	{
		char doc[1024] = "detectors: {mx_keyword_scan: {keywords: [";
		int i;
		for (i = 0; i < 33; i++)
			snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "%sk%d",
			         i ? ", " : "", i);
		strcat(doc, "]}}\n");
		fails(doc, 1, 192,
		      "detectors.mx_keyword_scan.keywords has more than 32 "
		      "entries",
		      "33 keywords");
	}
	fails("detectors:\n  signature_names:\n    names: [a.example, 'a..b']\n", 3, 24,
	      "each entry of detectors.signature_names.names must be a domain name, got 'a..b'",
	      "empty label in a signature name");
	fails("detectors:\n  signature_names:\n    names: [\"a b.example\"]\n", 3, 13,
	      "got 'a b.example'", "space in a signature name");
	fails("detectors:\n  signature_names:\n    names: "
	      "[x.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd.example]\n",
	      3, 13, "must be a domain name", "64-character label");
	fails("rpz_zone: 'bad zone.'\n", 1, 11, "rpz_zone must be a domain name, got 'bad zone.'",
	      "bad rpz_zone");
	fails("rpz_zone:\n", 1, 10, "rpz_zone must be a domain name, got ''", "empty rpz_zone");
	fails("state_file: var/lib/x\n", 1, 13,
	      "state_file must be an absolute path, got 'var/lib/x'", "relative state_file");
	fails("state_file:\n", 1, 12, "state_file must be an absolute path, got ''",
	      "empty state_file");
	fails("geoip:\n  asn_db: GeoLite2-ASN.mmdb\n", 2, 11,
	      "geoip.asn_db must be an absolute path", "relative geoip path");
	fails("control:\n  group: 'no group'\n", 2, 10,
	      "control.group must be a group name or number", "bad group name");
	fails("control:\n  group: -x\n", 2, 10, "got '-x'", "group name starting with '-'");
	fails("state_file: \"/var/lib/a\\tb\"\n", 1, 13,
	      "state_file must not contain control characters, got '/var/lib/a\\x09b'",
	      "control character in a path");
	fails("state_file: \"/var/lib/a\\0b\"\n", 1, 13, "must not contain control characters",
	      "NUL in a path");

	/* Over-long strings: the socket's own limit, then the limit of every scalar. */
	n = 8192;
	big = malloc(n);
	if (big == NULL)
		exit(2);
	memcpy(big, "control:\n  socket: /", 20);
	memset(big + 20, 'a', 200);
	strcpy(big + 220, "\n");
	fails(big, 2, 11, "control.socket is too long (201 bytes, at most 107)",
	      "socket path > 107");
	memcpy(big, "rpz_zone: ", 10);
	memset(big + 10, 'a', 5000);
	strcpy(big + 5010, "\n");
	fails(big, 1, 11, "rpz_zone is too long (5000 bytes, at most 4095)", "5000-byte scalar");
	memcpy(big, "exempt: [", 9);
	memset(big + 9, '1', 5000);
	strcpy(big + 5009, "]\n");
	fails(big, 1, 10, "an entry of exempt is too long (5000 bytes, at most 4095)",
	      "5000-byte list entry");
	free(big);
}

/** Structural errors: unknown and duplicate keys, wrong node types. */
static void test_structure_errors(void)
{
	char *big;
	size_t n;

	fails("mode: observe\nfoo: 1\n", 2, 1,
	      "unknown key 'foo' (expected one of: mode, enforcement,", "unknown top-level key");
	fails("detectors:\n  mx_keyword_scan:\n    enabled: true\n    keywordz: [mail]\n", 4, 5,
	      "unknown key 'detectors.mx_keyword_scan.keywordz' (expected one of: enabled, "
	      "threshold, window, action, duration, rearm, keywords)",
	      "unknown key nested deep");
	fails("detectors: {mx_worm: {treshold: 5}}\n", 1, 23,
	      "unknown key 'detectors.mx_worm.treshold'", "unknown key in flow style");
	fails("detectors:\n  mx_wrm: {}\n", 2, 3,
	      "unknown key 'detectors.mx_wrm' (expected one of: "
	      "mx_worm, spam_relay,",
	      "unknown detector");
	fails("detectors:\n  mx_worm:\n    names: [x.example]\n", 3, 5,
	      "unknown key 'detectors.mx_worm.names'", "names only belong to signature_names");
	fails("whitelist:\n  static: []\n  Static: []\n", 3, 3, "unknown key 'whitelist.Static'",
	      "keys are case-sensitive");
	fails("mode: observe\nmode: enforce\n", 2, 1,
	      "duplicate key 'mode' (first at line 1, column 1)", "duplicate top-level key");
	fails("detectors: {mx_worm: {threshold: 5, threshold: 6}}\n", 1, 37,
	      "duplicate key 'detectors.mx_worm.threshold' (first at line 1, column 23)",
	      "duplicate key in flow style");
	fails("detectors:\n  mx_worm: {}\n  mx_worm: {}\n", 3, 3,
	      "duplicate key 'detectors.mx_worm'", "duplicate detector");
	fails("mode: [observe]\n", 1, 7, "mode must be one of observe, enforce, got a list",
	      "list where a scalar is expected");
	fails("clients:\n  max:\n    a: 1\n", 3, 5,
	      "clients.max must be an integer from 1 to 100000000, got a mapping",
	      "mapping where a scalar is expected");
	fails("control: yes\n", 1, 10, "control must be a mapping, got 'yes'",
	      "scalar where a mapping is expected");
	fails("detectors:\n  - mx_worm\n", 2, 3, "detectors must be a mapping, got a list",
	      "list where a mapping is expected");
	fails("exempt: 10.0.0.0/8\n", 1, 9, "exempt must be a list",
	      "scalar where a list is expected");
	fails("exempt:\n  - [10.0.0.0/8]\n", 2, 5,
	      "each entry of exempt must be an address or CIDR "
	      "prefix with no host bits set, got a list",
	      "nested list");
	fails("[a]: 1\n", 1, 1, "keys must be plain words, got a list", "non-scalar key");
	fails("- mode\n- observe\n", 1, 1, "the top level must be a mapping",
	      "top level is a list");
	fails("just words\n", 1, 1, "the top level must be a mapping", "top level is a scalar");
	fails("mode: observe\n---\nmode: enforce\n", 2, 1, "only one YAML document is allowed",
	      "two documents");

	fails("mode: enforce\r\nfoo: 1\r\n", 2, 1, "unknown key 'foo'",
	      "CRLF line ends count lines");

	/* Lists are capped: 65536 entries load, one more is refused at its line. */
	big = malloc(16 + 10 * ((size_t)DW_CONF_MAX_LIST + 1) + 1);
	if (big == NULL)
		exit(2);
	strcpy(big, "exempt:\n");
	n = strlen(big);
	for (int i = 0; i < DW_CONF_MAX_LIST; i++, n += 10)
		memcpy(big + n, "- 1.2.3.4\n", 10);
	big[n] = '\0';
	{
		struct dw_conf *c = load_ok(big, "65536 exemptions");
		is_int(c ? c->exempt_count : 0, DW_CONF_MAX_LIST, "all of them kept");
		dw_conf_free(c);
	}
	strcpy(big + n, "- 192.0.2.1\n");
	fails(big, DW_CONF_MAX_LIST + 2, 3, "exempt has more than 65536 entries",
	      "65537 exemptions");
	free(big);

	/* Deep nesting stops at the first level the schema does not allow. */
	n = 500000;
	big = malloc(n + 16);
	if (big == NULL)
		exit(2);
	memcpy(big, "exempt: ", 8);
	memset(big + 8, '[', n);
	fails_buf(big, 8 + n, 1, 10, "got a list", "half a million nested lists");
	memset(big, '[', n);
	fails_buf(big, n, 1, 1, "the top level must be a mapping", "nested lists at the top");
	free(big);
}

/** YAML-level problems: syntax, encoding, anchors, aliases, tags. */
static void test_yaml_errors(void)
{
	struct timespec t0, t1;
	char bomb[4096];
	int i, j;
	double secs;

	fails("exempt: [10.0.0.0/8\n", 2, 1,
	      "YAML syntax error: did not find expected ',' or ']' (while "
	      "parsing a flow sequence at line 1, column 9)",
	      "unclosed flow sequence");
	fails("control:\n\tsocket: /x\n", 2, 1,
	      "YAML syntax error: found character that cannot start any token", "tab indentation");
	fails("control:\n  socket: /x\n group: x\n", 3, 2, "YAML syntax error:", "bad indentation");
	fails("mode: \"observe\n", 2, 1, "YAML syntax error: found unexpected end of stream",
	      "unterminated quote");
	fails("mode: observe\nrpz_zone: \xff\n", 2, 11,
	      "invalid input: invalid leading UTF-8 octet", "invalid UTF-8");
	fails_buf("mode: observe\n\0", 15, 2, 1,
	          "invalid input: control characters are not allowed", "NUL byte in the file");
	fails("mode: &m observe\n", 1, 7, "YAML anchors are not supported, got '&m'", "anchor");
	fails("mode: *m\n", 1, 7, "YAML aliases are not supported, got '*m'", "alias");
	fails("mode: !!str observe\n", 1, 7, "YAML tags are not supported", "tag");
	fails("control: !!map {socket: /x}\n", 1, 10, "YAML tags are not supported",
	      "tag on a mapping");

	/* Billion laughs: nine levels of ten aliases each. */
	snprintf(bomb, sizeof(bomb),
	         "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (i = 1; i < 10; i++) {
		snprintf(bomb + strlen(bomb), sizeof(bomb) - strlen(bomb), "lol%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			snprintf(bomb + strlen(bomb), sizeof(bomb) - strlen(bomb), "%s*a%d",
			         j ? ", " : "", i - 1);
		snprintf(bomb + strlen(bomb), sizeof(bomb) - strlen(bomb), "]\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fails(bomb, 1, 1, "unknown key 'lol0'", "billion laughs: unknown key first");
	memcpy(bomb, "mode", 4); /* same bomb under a known key: the anchor is refused */
	fails(bomb, 1, 7, "YAML anchors are not supported, got '&a0'",
	      "billion laughs under 'mode'");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(secs < 1.0, "alias bomb rejected in %.3fs", secs);
}

/** Settings that are valid alone but not together. */
static void test_cross_checks(void)
{
	struct dw_conf *c;

	fails("enforcement: rpz\ndetectors:\n  mx_worm: {action: refuse}\n", 3, 21,
	      "detectors.mx_worm.action: refuse is not possible with enforcement: rpz (an RPZ "
	      "cannot answer REFUSED); use nxdomain, nodata, sinkhole, drop or tcp-only, or set "
	      "enforcement: hook",
	      "refuse with enforcement: rpz");
	fails("detectors:\n  ptr_flood:\n    action: refuse\nenforcement: rpz\n", 3, 13,
	      "detectors.ptr_flood.action: refuse is not possible with enforcement: rpz",
	      "refuse before enforcement: rpz");
	fails("enforcement: rpz\ndetectors:\n  ip_literal: {enabled: false, action: refuse}\n", 3,
	      40, "ip_literal.action: refuse", "refuse on a disabled detector too");
	c = load_ok("enforcement: hook\ndetectors:\n  mx_worm: {action: refuse}\n",
	            "refuse with hook");
	ok(c && c->det[DW_DET_MX_WORM].action == DW_ACT_REFUSE, "refuse stored");
	dw_conf_free(c);
	c = load_ok("detectors:\n  mx_worm: {action: refuse}\n", "refuse with auto");
	dw_conf_free(c);
	c = load_ok("enforcement: rpz\ndetectors:\n  mx_worm: {action: tcp-only}\n",
	            "tcp-only with rpz");
	ok(c && c->det[DW_DET_MX_WORM].action == DW_ACT_TCP_ONLY, "tcp-only stored");
	dw_conf_free(c);
	fails("whitelist:\n  min_ttl: 2h\n  max_ttl: 1h\n", 2, 12,
	      "whitelist.min_ttl (7200s) must not be larger than whitelist.max_ttl (3600s)",
	      "min_ttl above max_ttl");
	fails("whitelist:\n  max_ttl: 30\n", 2, 12, "must not be larger",
	      "max_ttl below default min_ttl");
}

/** The file itself: missing, not regular, too large; and the error buffer. */
static void test_files(void)
{
	char want[PATH_MAX + 128], small[8];
	struct dw_conf *c;
	char *big;
	size_t n = DW_CONF_MAX_FILE, i;

	c = dw_conf_load("/nonexistent/dnswarden.yaml", err, sizeof(err));
	ok(c == NULL && !strcmp(err, "/nonexistent/dnswarden.yaml: cannot open: No such file or "
	                             "directory"),
	   "missing file: %s", err);
	c = dw_conf_load("/", err, sizeof(err));
	ok(c == NULL && !strcmp(err, "/: cannot open: not a regular file"), "directory: %s", err);

	big = malloc(n + 2);
	if (big == NULL)
		exit(2);
	for (i = 0; i < n; i += 64) {
		memset(big + i, ' ', 64);
		big[i] = '#';
		big[i + 63] = '\n';
	}
	memcpy(big, "mode: enforce\n", 14);
	c = load_buf(big, n);
	if (!ok(c != NULL, "a file of exactly 1 MiB loads"))
		printf("#   error: %s\n", err);
	ok(c && c->mode == DW_MODE_ENFORCE, "and is read");
	dw_conf_free(c);
	big[n] = '\n';
	c = load_buf(big, n + 1);
	snprintf(want, sizeof(want), "%s: file is larger than 1048576 bytes", tmp_path);
	ok(c == NULL && !strcmp(err, want), "a file of 1 MiB + 1 byte is refused: %s", err);
	dw_conf_free(c);
	free(big);

	/* The error buffer: tiny, zero-sized or absent never overflows. */
	c = dw_conf_load("/nonexistent/x", small, sizeof(small));
	ok(c == NULL && strlen(small) == sizeof(small) - 1, "error cut to a tiny buffer");
	c = dw_conf_load("/nonexistent/x", NULL, 0);
	ok(c == NULL, "no error buffer");
	c = dw_conf_load("/nonexistent/x", small, 0);
	ok(c == NULL, "zero-length error buffer");
}

/** Name tables and $DNSWARDEN_CONF. */
static void test_names(void)
{
	int i;

	for (i = 0; i < DW_DET_COUNT; i++)
		ok(dw_detector_from_name(dw_detector_name((enum dw_detector)i)) == i,
		   "detector %s round-trips", dw_detector_name((enum dw_detector)i));
	for (i = 0; i < DW_ACT_COUNT; i++)
		ok(dw_action_from_name(dw_action_name((enum dw_action)i)) == i,
		   "action %s round-trips", dw_action_name((enum dw_action)i));
	ok(!strcmp(dw_action_name(DW_ACT_TCP_ONLY), "tcp-only"), "tcp-only spelled with a dash");
	is_int(dw_detector_from_name("nope"), -1, "unknown detector");
	is_int(dw_action_from_name("block"), -1, "unknown action");
	is_int(dw_action_from_name(NULL), -1, "NULL action");
	ok(dw_detector_name(DW_DET_COUNT) == NULL, "detector out of range");
	ok(dw_action_name(DW_ACT_COUNT) == NULL, "action out of range");

	unsetenv("DNSWARDEN_CONF");
	ok(!strcmp(dw_conf_path(), DW_CONF_DEFAULT_PATH), "default path");
	setenv("DNSWARDEN_CONF", "", 1);
	ok(!strcmp(dw_conf_path(), DW_CONF_DEFAULT_PATH), "empty DNSWARDEN_CONF ignored");
	setenv("DNSWARDEN_CONF", "/etc/x.yaml", 1);
	ok(!strcmp(dw_conf_path(), "/etc/x.yaml"), "DNSWARDEN_CONF honoured");
	unsetenv("DNSWARDEN_CONF");
}

/* dw_domain_text(): the one check of a typed domain name (YAML names,
 * incidents --domain). */
static void test_domain_text(void)
{
	char out[256], small[4], l63[80], n253[260];
	size_t i;

	is_int(dw_domain_text("Example.COM.", 12, out, sizeof(out)), 2, "two labels");
	ok(!strcmp(out, "example.com"), "lower case, final dot cut: %s", out);
	is_int(dw_domain_text("_dmarc.x-y.org", 14, out, sizeof(out)), 3, "'_' and '-' allowed");
	is_int(dw_domain_text("a..b", 4, out, sizeof(out)), -1, "empty label refused");
	is_int(dw_domain_text("a..", 3, out, sizeof(out)), -1, "two final dots refused");
	is_int(dw_domain_text(".", 1, out, sizeof(out)), -1, "the root alone refused");
	is_int(dw_domain_text("", 0, out, sizeof(out)), -1, "empty refused");
	is_int(dw_domain_text("a b.c", 5, out, sizeof(out)), -1, "space refused");
	is_int(dw_domain_text("a\\046b.c", 8, out, sizeof(out)), -1, "escape refused");
	is_int(dw_domain_text("abcd.e", 6, small, sizeof(small)), -1, "out too small refused");
	memset(l63, 'a', 64);
	memcpy(l63 + 64, ".com", 5);
	is_int(dw_domain_text(l63, 68, out, sizeof(out)), -1, "a 64-byte label refused");
	is_int(dw_domain_text(l63 + 1, 67, out, sizeof(out)), 2, "a 63-byte label taken");
	for (i = 0; i < 253; i++)
		n253[i] = (i % 2) ? '.' : 'a';
	n253[252] = 'a';
	is_int(dw_domain_text(n253, 253, out, sizeof(out)), 127, "253 bytes taken");
	n253[253] = '.';
	n253[254] = 'a';
	is_int(dw_domain_text(n253, 255, out, sizeof(out)), -1, "255 bytes refused");
}

int main(int argc, char **argv)
{
	(void)argc;
	test_defaults();
	test_empty();
	test_example(argv[0]);
	test_styles();
	test_durations();
	test_value_errors();
	test_structure_errors();
	test_yaml_errors();
	test_cross_checks();
	test_files();
	test_names();
	test_domain_text();
	return done_testing();
}
