/**
 * \file
 * dnswarden.yaml(5) reader: libyaml's event stream checked against one table
 * of keys (see conf.h for the contract).
 *
 * Why the event API rather than libyaml's document loader: the loader keeps
 * every node in memory and resolves aliases silently, so an alias bomb would
 * have to be detected after the fact. Reading events we reject anchors,
 * aliases and tags where they appear (a bomb costs one event), stop at the
 * first error with its exact mark, and hold one event at a time. Every error
 * is fatal, so nothing ever needs skipping.
 *
 * The schema is data: the struct key tables below say, for each key, its type,
 * where it lands in struct dw_conf and its range. One walker (parse_map /
 * parse_value) interprets them.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, strerror_r, O_CLOEXEC without GNU */
#endif
#include "conf.h"
#include "domtext.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <yaml.h>

/** Most keys one mapping level may have (size of the duplicate-key memory). */
#define MAX_KEYS 32
/** Longest dotted key name we print ("detectors.mx_keyword_scan.keywords"). */
#define WHAT_LEN 160
/** Longest excerpt of an offending value quoted in a message. */
#define QUOTE_MAX 48
/** Longest group name (Linux's own limit). */
#define GROUP_MAX 32
/** Room of sockaddr_un.sun_path minus the NUL: longer socket paths cannot bind. */
#define SOCKET_PATH_MAX 107
/** Scalar values longer than this are refused whatever the key. */
#define SCALAR_MAX (DW_CONF_MAX_PATH - 1)

/** How a key's value is read and where it is stored. */
enum ktype {
	K_MAP,      /**< nested mapping, described by sub */
	K_BOOL,     /**< bool */
	K_U32,      /**< uint32_t in [min, max] */
	K_U8,       /**< uint8_t in [min, max] */
	K_DURATION, /**< uint32_t seconds in [min, max] */
	K_ENUM,     /**< an int-sized enum (or int) from names */
	K_PATH,     /**< char *, absolute path of at most max bytes */
	K_GROUP,    /**< char *, group name or number; empty = NULL */
	K_ZONE,     /**< char *, domain name stored lower case with the final dot */
	K_ADDR,     /**< struct dw_addr of family min (4 or 6) */
	K_CIDRS,    /**< struct dw_cidr * at off, size_t count at coff */
	K_ADDRS,    /**< struct dw_addr * at off, size_t count at coff */
	K_KEYWORDS, /**< char *[DW_CONF_MAX_KEYWORDS] at off, size_t count at coff */
	K_NAMES,    /**< char ** at off, size_t count at coff */
};

/** off (and coff) count from struct dw_conf, not from the enclosing section. */
#define F_ROOT 1u
/** A null or empty value leaves the string unset (NULL). */
#define F_OPT 2u

/** One name of an enumerated value. Tables end with a NULL name. */
struct name_val {
	const char *name;
	int val;
};

/** One key of the schema. Tables end with a NULL name. */
struct key {
	const char *name;
	enum ktype type;
	unsigned flags;
	size_t off;  /**< where the value lives, from the section base */
	size_t coff; /**< where the list length lives (list types) */
	uint32_t min, max;
	const struct key *sub;        /**< K_MAP */
	const struct name_val *names; /**< K_ENUM */
};

static const struct name_val mode_names[] = {
    {"observe", DW_MODE_OBSERVE}, {"enforce", DW_MODE_ENFORCE}, {NULL, 0}};

static const struct name_val enforcement_names[] = {
    {"auto", DW_ENF_AUTO}, {"rpz", DW_ENF_RPZ}, {"hook", DW_ENF_HOOK}, {NULL, 0}};

/* Order must follow enum dw_action: dw_action_name() indexes it. */
static const struct name_val action_names[] = {
    {"log", DW_ACT_LOG},           {"refuse", DW_ACT_REFUSE},
    {"nxdomain", DW_ACT_NXDOMAIN}, {"nodata", DW_ACT_NODATA},
    {"sinkhole", DW_ACT_SINKHOLE}, {"drop", DW_ACT_DROP},
    {"tcp-only", DW_ACT_TCP_ONLY}, {NULL, 0}};

/* detectors.dns_tunnel.domain_action: what a domain block does (none: no
 * domain block; refuse and tcp-only have no QNAME encoding worth having) */
static const struct name_val domain_action_names[] = {
    {"none", DW_ACT_LOG},          {"nxdomain", DW_ACT_NXDOMAIN}, {"nodata", DW_ACT_NODATA},
    {"sinkhole", DW_ACT_SINKHOLE}, {"drop", DW_ACT_DROP},         {NULL, 0}};

/* Facilities a daemon may log to; kern and the like are not ours to use. */
static const struct name_val facility_names[] = {{"daemon", LOG_DAEMON}, {"user", LOG_USER},
                                                 {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV},
                                                 {"mail", LOG_MAIL},     {"local0", LOG_LOCAL0},
                                                 {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
                                                 {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
                                                 {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
                                                 {"local7", LOG_LOCAL7}, {NULL, 0}};

/* Order must follow enum dw_detector: dw_detector_name() indexes it. */
static const char *const detector_names[DW_DET_COUNT] = {
    "mx_worm",        "spam_relay",      "mx_keyword_scan", "ip_literal", "ptr_flood",
    "ptr_forward_ip", "signature_names", "dns_tunnel",      "dga"};

_Static_assert(sizeof(enum dw_mode) == sizeof(int), "K_ENUM stores an int");
_Static_assert(sizeof(enum dw_enforcement) == sizeof(int), "K_ENUM stores an int");
_Static_assert(sizeof(enum dw_action) == sizeof(int), "K_ENUM stores an int");
_Static_assert(sizeof(action_names) / sizeof(action_names[0]) == DW_ACT_COUNT + 1,
               "one name per action");

/**
 * Defaults of every detector (man/dnswarden.yaml.5 and etc/dnswarden.yaml).
 * ptr_forward_ip and signature_names only log by default: their evidence is
 * strong but their false-positive rate on a campus is not measured yet.
 */
static const struct dw_detector_conf detector_defaults[DW_DET_COUNT] = {
    [DW_DET_MX_WORM] = {true, 50, 600, DW_ACT_SINKHOLE, 3600, 0},
    [DW_DET_SPAM_RELAY] = {true, 50, 600, DW_ACT_NXDOMAIN, 3600, 0},
    [DW_DET_MX_KEYWORD_SCAN] = {true, 500, 3600, DW_ACT_NXDOMAIN, 3600, 0},
    [DW_DET_IP_LITERAL] = {true, 500, 3600, DW_ACT_NXDOMAIN, 3600, 0},
    [DW_DET_PTR_FLOOD] = {true, 1000, 60, DW_ACT_DROP, 600, 0},
    [DW_DET_PTR_FORWARD_IP] = {true, 20, 600, DW_ACT_LOG, 3600, 0},
    [DW_DET_SIGNATURE_NAMES] = {true, 1, 3600, DW_ACT_LOG, 3600, 0},
    /* distinct names, not queries (namestate.h); log only until measured on
     * a campus: a wrong block of a busy client hurts more than a late one */
    [DW_DET_DNS_TUNNEL] = {true, 40, 600, DW_ACT_LOG, 3600, 0},
    [DW_DET_DGA] = {true, 20, 600, DW_ACT_LOG, 3600, 0},
};

/** Host-name keywords W32/Mydoom.A prefixed to victim domains (Musashi et al., "Indirect Detection of Mass Mailing Worm-Infected PC terminals", 2004, 3.1). */
static const char *const keyword_defaults[] = {"mail", "smtp", "mx", "ns", "relay", "gate"};

/**
 * Names a PC has no reason to ask for: W32/Sobig.F asked its resolver for the
 * root servers' names (Musashi et al. 2004, 3.1: "A.ROOT-SERVERS.NET",
 * "B.ROOT-SERVERS.NET", ...). A resolver asks for them itself; a client does not.
 */
static const char *const signature_defaults[] = {
    "a.root-servers.net", "b.root-servers.net", "c.root-servers.net", "d.root-servers.net",
    "e.root-servers.net", "f.root-servers.net", "g.root-servers.net", "h.root-servers.net",
    "i.root-servers.net", "j.root-servers.net", "k.root-servers.net", "l.root-servers.net",
    "m.root-servers.net"};

#define OFF(f) offsetof(struct dw_conf, f)
#define DOFF(f) offsetof(struct dw_detector_conf, f)
#define DET_OFF(i) (OFF(det) + (size_t)(i) * sizeof(struct dw_detector_conf))
#define NKEYS(t) (sizeof(t) / sizeof((t)[0]) - 1)

/** The keys every detector has; the extra key of some follows them. */
/* clang-format off */
#define DETECTOR_KEYS \
	{.name = "enabled", .type = K_BOOL, .off = DOFF(enabled)}, \
	{.name = "threshold", .type = K_U32, .off = DOFF(threshold), .min = 1, .max = UINT32_MAX}, \
	{.name = "window", .type = K_DURATION, .off = DOFF(window), .min = 1, .max = 86400}, \
	{.name = "action", .type = K_ENUM, .off = DOFF(action), .names = action_names}, \
	{.name = "duration", .type = K_DURATION, .off = DOFF(duration), .min = 1, .max = 30 * 86400}, \
	{.name = "rearm", .type = K_U32, .off = DOFF(rearm), .min = 1, .max = UINT32_MAX}
/* clang-format on */

static const struct key det_keys[] = {DETECTOR_KEYS, {.name = NULL}};

static const struct key det_keyword_keys[] = {DETECTOR_KEYS,
                                              {.name = "keywords",
                                               .type = K_KEYWORDS,
                                               .flags = F_ROOT,
                                               .off = OFF(keywords),
                                               .coff = OFF(keyword_count)},
                                              {.name = NULL}};

static const struct key det_signature_keys[] = {DETECTOR_KEYS,
                                                {.name = "names",
                                                 .type = K_NAMES,
                                                 .flags = F_ROOT,
                                                 .off = OFF(signatures),
                                                 .coff = OFF(signature_count)},
                                                {.name = NULL}};

/* dns_tunnel and dga count distinct names in per-client sets of 64
 * (namestate.h): a larger threshold could never be reached */
/* clang-format off */
#define DISTINCT_KEYS \
	{.name = "enabled", .type = K_BOOL, .off = DOFF(enabled)}, \
	{.name = "threshold", .type = K_U32, .off = DOFF(threshold), .min = 1, .max = 64}, \
	{.name = "window", .type = K_DURATION, .off = DOFF(window), .min = 1, .max = 86400}, \
	{.name = "action", .type = K_ENUM, .off = DOFF(action), .names = action_names}, \
	{.name = "duration", .type = K_DURATION, .off = DOFF(duration), .min = 1, .max = 30 * 86400}
/* clang-format on */

static const struct key det_tunnel_keys[] = {DISTINCT_KEYS,
                                             {.name = "exempt_domains",
                                              .type = K_NAMES,
                                              .flags = F_ROOT,
                                              .off = OFF(tunnel_exempt),
                                              .coff = OFF(tunnel_exempt_count)},
                                             {.name = "domain_action",
                                              .type = K_ENUM,
                                              .flags = F_ROOT,
                                              .off = OFF(tunnel_domain_action),
                                              .names = domain_action_names},
                                             {.name = "domain_duration",
                                              .type = K_DURATION,
                                              .flags = F_ROOT,
                                              .off = OFF(tunnel_domain_duration),
                                              .min = 1,
                                              .max = 30 * 86400},
                                             {.name = "domain_rate",
                                              .type = K_U32,
                                              .flags = F_ROOT,
                                              .off = OFF(tunnel_domain_rate),
                                              .min = 0,
                                              .max = 1000},
                                             {.name = "never_block",
                                              .type = K_NAMES,
                                              .flags = F_ROOT,
                                              .off = OFF(domain_never_block),
                                              .coff = OFF(domain_never_block_count)},
                                             {.name = NULL}};

static const struct key det_dga_keys[] = {DISTINCT_KEYS, {.name = NULL}};

static const struct key detectors_keys[] = {
    {.name = "mx_worm", .type = K_MAP, .off = DET_OFF(DW_DET_MX_WORM), .sub = det_keys},
    {.name = "spam_relay", .type = K_MAP, .off = DET_OFF(DW_DET_SPAM_RELAY), .sub = det_keys},
    {.name = "mx_keyword_scan",
     .type = K_MAP,
     .off = DET_OFF(DW_DET_MX_KEYWORD_SCAN),
     .sub = det_keyword_keys},
    {.name = "ip_literal", .type = K_MAP, .off = DET_OFF(DW_DET_IP_LITERAL), .sub = det_keys},
    {.name = "ptr_flood", .type = K_MAP, .off = DET_OFF(DW_DET_PTR_FLOOD), .sub = det_keys},
    {.name = "ptr_forward_ip",
     .type = K_MAP,
     .off = DET_OFF(DW_DET_PTR_FORWARD_IP),
     .sub = det_keys},
    {.name = "signature_names",
     .type = K_MAP,
     .off = DET_OFF(DW_DET_SIGNATURE_NAMES),
     .sub = det_signature_keys},
    {.name = "dns_tunnel",
     .type = K_MAP,
     .off = DET_OFF(DW_DET_DNS_TUNNEL),
     .sub = det_tunnel_keys},
    {.name = "dga", .type = K_MAP, .off = DET_OFF(DW_DET_DGA), .sub = det_dga_keys},
    {.name = NULL}};

static const struct key control_keys[] = {
    {.name = "socket", .type = K_PATH, .off = OFF(control_socket), .max = SOCKET_PATH_MAX},
    {.name = "group", .type = K_GROUP, .flags = F_OPT, .off = OFF(control_group)},
    {.name = NULL}};

static const struct key syslog_keys[] = {
    {.name = "facility", .type = K_ENUM, .off = OFF(syslog_facility), .names = facility_names},
    {.name = "rate", .type = K_U32, .off = OFF(syslog_rate), .min = 1, .max = 1000000},
    {.name = NULL}};

static const struct key clients_keys[] = {
    {.name = "max", .type = K_U32, .off = OFF(clients_max), .min = 1, .max = 100000000},
    {.name = "ipv6_prefix", .type = K_U8, .off = OFF(ipv6_prefix), .min = 32, .max = 64},
    {.name = NULL}};

static const struct key sinkhole_keys[] = {
    {.name = "ipv4", .type = K_ADDR, .off = OFF(sinkhole_v4), .min = 4},
    {.name = "ipv6", .type = K_ADDR, .off = OFF(sinkhole_v6), .min = 6},
    {.name = NULL}};

static const struct key geoip_keys[] = {
    {.name = "country_db",
     .type = K_PATH,
     .flags = F_OPT,
     .off = OFF(geoip_country_db),
     .max = SCALAR_MAX},
    {.name = "asn_db", .type = K_PATH, .flags = F_OPT, .off = OFF(geoip_asn_db), .max = SCALAR_MAX},
    {.name = NULL}};

static const struct key whitelist_keys[] = {
    {.name = "min_ttl", .type = K_DURATION, .off = OFF(wl_min_ttl), .min = 0, .max = 604800},
    {.name = "max_ttl", .type = K_DURATION, .off = OFF(wl_max_ttl), .min = 1, .max = 604800},
    {.name = "max_entries", .type = K_U32, .off = OFF(wl_max_entries), .min = 1, .max = 10000000},
    {.name = "static", .type = K_ADDRS, .off = OFF(wl_static), .coff = OFF(wl_static_count)},
    {.name = NULL}};

static const struct key policy_keys[] = {
    {.name = "ladder_factor", .type = K_U32, .off = OFF(policy_ladder_factor), .min = 1, .max = 100},
    {.name = "ladder_window", .type = K_DURATION, .off = OFF(policy_ladder_window), .min = 1, .max = 2592000},
    {.name = "max_duration", .type = K_DURATION, .off = OFF(policy_max_duration), .min = 1, .max = 31536000},
    {.name = "max_blocks", .type = K_U32, .off = OFF(policy_max_blocks), .min = 1, .max = 10000000},
    {.name = NULL}};

static const struct key incidents_keys[] = {
    {.name = "database", .type = K_PATH, .flags = F_OPT, .off = OFF(incidents_database), .max = SCALAR_MAX},
    {.name = "keep", .type = K_DURATION, .off = OFF(incidents_keep), .min = 3600, .max = 3650u * 86400},
    {.name = NULL}};

static const struct key debug_keys[] = {
    {.name = "log_queries", .type = K_BOOL, .off = OFF(debug_log_queries)}, {.name = NULL}};

static const struct key mail_watch_keys[] = {
    {.name = "resolution", .type = K_DURATION, .off = OFF(mw_resolution), .min = 10, .max = 86400},
    {.name = "keep", .type = K_DURATION, .off = OFF(mw_keep), .min = 60, .max = 31536000},
    {.name = "facility", .type = K_ENUM, .off = OFF(mw_facility), .names = facility_names},
    {.name = "baseline", .type = K_DURATION, .off = OFF(mw_baseline), .min = 10, .max = 31536000},
    {.name = "mee_floor", .type = K_U32, .off = OFF(mw_mee_floor), .min = 0, .max = 100},
    {.name = "dq_factor", .type = K_U32, .off = OFF(mw_dq_factor), .min = 100, .max = 100000},
    {.name = "min_dq", .type = K_U32, .off = OFF(mw_min_dq), .min = 0, .max = 100000000},
    {.name = NULL}};

static const struct key publish_keys[] = {
    {.name = "command", .type = K_PATH, .flags = F_OPT, .off = OFF(publish_command), .max = SCALAR_MAX},
    {.name = "zonefile", .type = K_PATH, .flags = F_OPT, .off = OFF(publish_zonefile), .max = SCALAR_MAX},
    {.name = NULL}};

static const struct key fleet_keys[] = {
    {.name = "peers", .type = K_NAMES, .off = OFF(fleet_peers), .coff = OFF(fleet_peer_count)},
    {.name = NULL}};

static const struct key forwarders_keys[] = {
    {.name = "prefixes", .type = K_CIDRS, .off = OFF(forwarders), .coff = OFF(forwarder_count)},
    {.name = "threshold_factor",
     .type = K_U32,
     .off = OFF(forwarder_factor),
     .min = 1,
     .max = 10000},
    {.name = NULL}};

static const struct key root_keys[] = {
    {.name = "mode", .type = K_ENUM, .off = OFF(mode), .names = mode_names},
    {.name = "enforcement", .type = K_ENUM, .off = OFF(enforcement), .names = enforcement_names},
    {.name = "rpz_zone", .type = K_ZONE, .off = OFF(rpz_zone)},
    {.name = "state_file", .type = K_PATH, .off = OFF(state_file), .max = SCALAR_MAX},
    {.name = "control", .type = K_MAP, .sub = control_keys},
    {.name = "syslog", .type = K_MAP, .sub = syslog_keys},
    {.name = "clients", .type = K_MAP, .sub = clients_keys},
    {.name = "exempt", .type = K_CIDRS, .off = OFF(exempt), .coff = OFF(exempt_count)},
    {.name = "sinkhole", .type = K_MAP, .sub = sinkhole_keys},
    {.name = "detectors", .type = K_MAP, .sub = detectors_keys},
    {.name = "geoip", .type = K_MAP, .sub = geoip_keys},
    {.name = "whitelist", .type = K_MAP, .sub = whitelist_keys},
    {.name = "policy", .type = K_MAP, .sub = policy_keys},
    {.name = "debug", .type = K_MAP, .sub = debug_keys},
    {.name = "incidents", .type = K_MAP, .sub = incidents_keys},
    {.name = "mail_servers",
     .type = K_CIDRS,
     .off = OFF(mail_servers),
     .coff = OFF(mail_server_count)},
    {.name = "mail_watch", .type = K_MAP, .sub = mail_watch_keys},
    {.name = "publish", .type = K_MAP, .sub = publish_keys},
    {.name = "fleet", .type = K_MAP, .sub = fleet_keys},
    {.name = "public_suffixes",
     .type = K_NAMES,
     .off = OFF(public_suffixes),
     .coff = OFF(public_suffix_count)},
    {.name = "forwarders", .type = K_MAP, .sub = forwarders_keys},
    {.name = NULL}};

_Static_assert(NKEYS(root_keys) <= MAX_KEYS, "root table fits the duplicate memory");
_Static_assert(NKEYS(detectors_keys) <= MAX_KEYS, "detector table fits");
_Static_assert(NKEYS(det_keyword_keys) <= MAX_KEYS, "detector keys fit");
_Static_assert(NKEYS(det_signature_keys) <= MAX_KEYS, "detector keys fit");
_Static_assert(sizeof(detector_names) / sizeof(detector_names[0]) == DW_DET_COUNT,
               "one name per detector");

/** Where a scalar setting came from, for checks that relate two settings. */
struct origin {
	size_t off; /**< offset of the field in struct dw_conf */
	yaml_mark_t mark;
};

/** Everything one load needs; lives on dw_conf_load()'s stack. */
struct ctx {
	yaml_parser_t parser;
	yaml_event_t ev; /**< the current event, valid when have_ev */
	bool have_ev;
	const char *path;
	const unsigned char *buf; /**< the file, for reader-error positions */
	size_t len;
	char *err;
	size_t errlen;
	struct dw_conf *c;
	struct origin origins[64]; /**< every scalar key set, in file order */
	size_t norigins;
};

/**
 * Write "PATH:LINE:COL: message" into the caller's buffer. Every error goes
 * through here so the format cannot drift.
 * \param x the load; \param line, col 1-based position; \param fmt printf format.
 * \return -1, so callers can `return fail_at(...)`.
 */
static int fail_at(struct ctx *x, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct ctx *x, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err == NULL || x->errlen == 0)
		return -1;
	n = snprintf(x->err, x->errlen, "%s:%zu:%zu: ", x->path, line, col);
	if (n < 0 || (size_t)n >= x->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/** libyaml marks are 0-based; people count from 1. */
#define AT(m) (m).line + 1, (m).column + 1

/**
 * Copy at most QUOTE_MAX bytes of a value into buf for a message, escaping
 * what would garble a log line or a terminal (controls, quotes, backslash).
 * \param s, len the value; \param buf at least QUOTE_MAX * 4 + 4 bytes.
 * \return buf.
 */
static const char *quote(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < QUOTE_MAX && o + 5 < buflen; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || ch == '\'' || ch == '"' || ch == '\\')
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	if (i < len && o + 4 < buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/** Buffer size that quote() never overflows. */
#define QBUF (QUOTE_MAX * 4 + 8)

/** Name the kind of a non-scalar event for "got a ..." messages. */
static const char *event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SCALAR_EVENT:
		return "a scalar";
	default:
		return "nothing";
	}
}


/**
 * Report libyaml's own complaint with its position. Reader errors (bad
 * UTF-8, control characters) carry a byte offset instead of a mark, so the
 * line and column are counted from the buffer.
 */
static int syntax_error(struct ctx *x)
{
	const yaml_parser_t *p = &x->parser;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_MEMORY_ERROR)
		return fail_at(x, 1, 1, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		size_t i, line = 1, col = 1;
		for (i = 0; i < p->problem_offset && i < x->len; i++) {
			if (x->buf[i] == '\n') {
				line++;
				col = 1;
			} else if ((x->buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
		if (p->problem_value >= 0)
			return fail_at(x, line, col, "invalid input: %s (#x%x)", problem,
			               (unsigned)p->problem_value);
		return fail_at(x, line, col, "invalid input: %s", problem);
	}
	if (p->context)
		return fail_at(x, AT(p->problem_mark),
		               "YAML syntax error: %s (%s at line %zu, column %zu)", problem,
		               p->context, AT(p->context_mark));
	return fail_at(x, AT(p->problem_mark), "YAML syntax error: %s", problem);
}

/**
 * Advance to the next event. Anchors, aliases and explicit tags are refused
 * here, at the event that carries them: dnswarden.yaml has no use for them and
 * refusing them makes "billion laughs" documents cost nothing.
 * \return 0, or -1 with the error written.
 */
static int next(struct ctx *x)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char q[QBUF];

	if (x->have_ev)
		yaml_event_delete(&x->ev);
	x->have_ev = false;
	if (!yaml_parser_parse(&x->parser, &x->ev))
		return syntax_error(x);
	x->have_ev = true;
	switch (x->ev.type) {
	case YAML_ALIAS_EVENT:
		anchor = x->ev.data.alias.anchor;
		return fail_at(
		    x, AT(x->ev.start_mark), "YAML aliases are not supported, got '*%s'",
		    quote((const char *)anchor, strlen((const char *)anchor), q, sizeof(q)));
	case YAML_SCALAR_EVENT:
		anchor = x->ev.data.scalar.anchor;
		tag = x->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = x->ev.data.sequence_start.anchor;
		tag = x->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = x->ev.data.mapping_start.anchor;
		tag = x->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return fail_at(
		    x, AT(x->ev.start_mark), "YAML anchors are not supported, got '&%s'",
		    quote((const char *)anchor, strlen((const char *)anchor), q, sizeof(q)));
	if (tag)
		return fail_at(x, AT(x->ev.start_mark), "YAML tags are not supported, got '%s'",
		               quote((const char *)tag, strlen((const char *)tag), q, sizeof(q)));
	return 0;
}

/** True for a plain scalar YAML reads as null: "", "~", "null". */
static bool is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
	        (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/** Remember where a scalar setting came from (see struct origin). */
static void note_origin(struct ctx *x, const void *field)
{
	if (x->norigins < sizeof(x->origins) / sizeof(x->origins[0])) {
		x->origins[x->norigins].off = (size_t)((const char *)field - (const char *)x->c);
		x->origins[x->norigins].mark = x->ev.start_mark;
		x->norigins++;
	}
}

/** Where the file set the field at offset off; NULL when it kept its default. */
static const yaml_mark_t *origin_of(const struct ctx *x, size_t off)
{
	size_t i;

	for (i = 0; i < x->norigins; i++)
		if (x->origins[i].off == off)
			return &x->origins[i].mark;
	return NULL;
}

/** Render a number of seconds in the largest unit that divides it ("10m"). */
static void fmt_duration(uint32_t s, char *buf, size_t len)
{
	if (s != 0 && s % 86400 == 0)
		snprintf(buf, len, "%ud", s / 86400);
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, len, "%uh", s / 3600);
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, len, "%um", s / 60);
	else
		snprintf(buf, len, "%us", s);
}

/**
 * Say in words what a key accepts, for "KEY must be ..., got ..." messages;
 * the same text serves a wrong type and a wrong value.
 */
static void describe(const struct key *k, char *buf, size_t len)
{
	char a[24], b[24];
	size_t o;
	const struct name_val *n;

	switch (k->type) {
	case K_MAP:
		snprintf(buf, len, "a mapping");
		break;
	case K_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case K_U32:
	case K_U8:
		if (k->min == 1 && k->max == UINT32_MAX)
			snprintf(buf, len, "a positive integer");
		else
			snprintf(buf, len, "an integer from %u to %u", k->min, k->max);
		break;
	case K_DURATION:
		fmt_duration(k->min, a, sizeof(a));
		fmt_duration(k->max, b, sizeof(b));
		snprintf(buf, len,
		         "a duration from %s to %s (seconds, or a number with s, m, h or d)", a, b);
		break;
	case K_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (n = k->names; n->name && o < len; n++)
			o += (size_t)snprintf(buf + o, len - o, "%s %s", n == k->names ? "" : ",",
			                      n->name);
		break;
	case K_PATH:
		if (k->max < SCALAR_MAX)
			snprintf(buf, len, "an absolute path of at most %u bytes", k->max);
		else
			snprintf(buf, len, "an absolute path");
		break;
	case K_GROUP:
		snprintf(buf, len, "a group name or number (letters, digits, '_', '.', '-')");
		break;
	case K_ZONE:
		snprintf(buf, len, "a domain name");
		break;
	case K_ADDR:
		snprintf(buf, len, "an IPv%u address", k->min);
		break;
	case K_CIDRS:
		snprintf(buf, len, "an address or CIDR prefix with no host bits set");
		break;
	case K_ADDRS:
		snprintf(buf, len, "an IPv4 or IPv6 address");
		break;
	case K_KEYWORDS:
		snprintf(buf, len, "1 to %d characters of a-z, 0-9 and '-'", DW_CONF_MAX_KEYWORD);
		break;
	case K_NAMES:
		snprintf(buf, len, "a domain name");
		break;
	}
}

/** "KEY must be WHAT, got 'VALUE'" (or "got a list") at the current event. */
static int fail_value(struct ctx *x, const struct key *k, const char *what, bool item)
{
	char d[256];
	const yaml_event_t *ev = &x->ev;

	describe(k, d, sizeof(d));
	if (ev->type == YAML_SCALAR_EVENT) {
		char q[QBUF];
		return fail_at(x, AT(ev->start_mark), "%s%s must be %s, got '%s'",
		               item ? "each entry of " : "", what, d,
		               quote((const char *)ev->data.scalar.value, ev->data.scalar.length, q,
		                     sizeof(q)));
	}
	return fail_at(x, AT(ev->start_mark), "%s%s must be %s, got %s",
	               item ? "each entry of " : "", what, d, event_kind(ev));
}

/**
 * Parse unsigned decimal digits. Leading zeros are refused: YAML 1.1 reads
 * "010" as octal 8, and guessing which one the operator meant is worse.
 * \return 0 with *out set, -1 on anything else or above max.
 */
static int parse_uint(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (unsigned long long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/** Duration text of known length: digits then at most one of s, m, h, d. */
static long duration_n(const char *s, size_t n)
{
	unsigned long long v, mult = 1;

	if (n > 0) {
		switch (s[n - 1]) {
		case 's':
			n--;
			break;
		case 'm':
			mult = 60;
			n--;
			break;
		case 'h':
			mult = 3600;
			n--;
			break;
		case 'd':
			mult = 86400;
			n--;
			break;
		default:
			break;
		}
	}
	if (parse_uint(s, n, (unsigned long long)LONG_MAX / mult, &v) < 0)
		return -1;
	return (long)(v * mult);
}

/** See conf.h. */
long dw_parse_duration(const char *s)
{
	if (s == NULL)
		return -1;
	return duration_n(s, strlen(s));
}

/** A domain name in presentation form (domtext.h), lower case and without
 *  the final dot in out (>= n + 1 bytes). 0 or -1. */
static int check_name(const char *s, size_t n, char *out)
{
	return dw_domain_text(s, n, out, n + 1) < 0 ? -1 : 0;
}

/** A detector keyword: [a-z0-9-]{1,63}, matched against a query's first label. */
static bool keyword_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > DW_CONF_MAX_KEYWORD)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/** A group name (or number) as getgrnam()/getgrgid() will later take it. */
static bool group_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > GROUP_MAX || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/** Refuse scalars that are too long for any key or hold control characters. */
static int check_scalar(struct ctx *x, const char *what, size_t limit, bool item)
{
	const char *v = (const char *)x->ev.data.scalar.value;
	size_t i, n = x->ev.data.scalar.length;
	char q[QBUF];

	if (n > limit)
		return fail_at(x, AT(x->ev.start_mark), "%s%s is too long (%zu bytes, at most %zu)",
		               item ? "an entry of " : "", what, n, limit);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return fail_at(x, AT(x->ev.start_mark),
			               "%s%s must not contain control characters, got '%s'",
			               item ? "an entry of " : "", what, quote(v, n, q, sizeof(q)));
	return 0;
}

/** Replace a string field, freeing the default it held. */
static int set_string(struct ctx *x, void *field, const char *v, size_t n)
{
	char **p = field;
	char *s = NULL;

	if (v != NULL) {
		s = malloc(n + 1);
		if (s == NULL)
			return fail_at(x, AT(x->ev.start_mark), "out of memory");
		memcpy(s, v, n);
		s[n] = '\0';
	}
	free(*p);
	*p = s;
	return 0;
}

/**
 * Store one scalar value of a scalar-typed key.
 * \param field where it goes; \param what the dotted key name for messages.
 */
static int parse_scalar(struct ctx *x, const struct key *k, void *field, const char *what)
{
	const char *v = (const char *)x->ev.data.scalar.value;
	size_t n = x->ev.data.scalar.length;
	unsigned long long u;
	long d;
	char name[256];
	const struct name_val *nv;

	if (x->ev.type != YAML_SCALAR_EVENT)
		return fail_value(x, k, what, false);
	if (check_scalar(x, what, k->type == K_PATH ? k->max : SCALAR_MAX, false) < 0)
		return -1;
	note_origin(x, field);
	switch (k->type) {
	case K_BOOL:
		if ((n == 4 && !strncasecmp(v, "true", 4)) ||
		    (n == 3 && !strncasecmp(v, "yes", 3)) || (n == 2 && !strncasecmp(v, "on", 2)))
			*(bool *)field = true;
		else if ((n == 5 && !strncasecmp(v, "false", 5)) ||
		         (n == 2 && !strncasecmp(v, "no", 2)) ||
		         (n == 3 && !strncasecmp(v, "off", 3)))
			*(bool *)field = false;
		else
			return fail_value(x, k, what, false);
		return 0;
	case K_U32:
	case K_U8:
		if (parse_uint(v, n, k->max, &u) < 0 || u < k->min)
			return fail_value(x, k, what, false);
		if (k->type == K_U8)
			*(uint8_t *)field = (uint8_t)u;
		else
			*(uint32_t *)field = (uint32_t)u;
		return 0;
	case K_DURATION:
		d = duration_n(v, n);
		if (d < 0 || (unsigned long)d < k->min || (unsigned long)d > k->max)
			return fail_value(x, k, what, false);
		*(uint32_t *)field = (uint32_t)d;
		return 0;
	case K_ENUM:
		for (nv = k->names; nv->name; nv++)
			if (strlen(nv->name) == n && !memcmp(nv->name, v, n)) {
				memcpy(field, &nv->val, sizeof(int));
				return 0;
			}
		return fail_value(x, k, what, false);
	case K_PATH:
		if ((k->flags & F_OPT) && (is_null(&x->ev) || n == 0))
			return set_string(x, field, NULL, 0);
		if (n == 0 || v[0] != '/' || is_null(&x->ev))
			return fail_value(x, k, what, false);
		return set_string(x, field, v, n);
	case K_GROUP:
		if (is_null(&x->ev) || n == 0)
			return set_string(x, field, NULL, 0);
		if (!group_ok(v, n))
			return fail_value(x, k, what, false);
		return set_string(x, field, v, n);
	case K_ZONE:
		if (n >= sizeof(name) - 1 || check_name(v, n, name) < 0)
			return fail_value(x, k, what, false);
		n = strlen(name); /* check_name() left room: n < sizeof(name) - 1 */
		name[n++] = '.';
		return set_string(x, field, name, n);
	case K_ADDR: {
		struct dw_addr a;
		if (dw_addr_parse(v, &a) < 0 || a.family != k->min)
			return fail_value(x, k, what, false);
		memcpy(field, &a, sizeof(a));
		return 0;
	}
	default:
		return fail_at(x, AT(x->ev.start_mark), "%s: internal error: bad key type", what);
	}
}

/** A list being collected; installed into the config only when complete. */
struct list {
	void *v;
	size_t n, cap, size;
};

/** Make room for one more element (doubling, capped by the caller). */
static int list_grow(struct ctx *x, struct list *l)
{
	void *nv;
	size_t cap;

	if (l->n < l->cap)
		return 0;
	cap = l->cap ? l->cap * 2 : 8;
	nv = realloc(l->v, cap * l->size);
	if (nv == NULL)
		return fail_at(x, AT(x->ev.start_mark), "out of memory");
	l->v = nv;
	l->cap = cap;
	return 0;
}

/** Free a list of strings (K_KEYWORDS, K_NAMES) or of plain structs. */
static void list_free(struct list *l, bool strings)
{
	if (strings)
		for (size_t i = 0; i < l->n; i++)
			free(((char **)l->v)[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/** Parse the current scalar as the next element of a list key. */
static int parse_item(struct ctx *x, const struct key *k, struct list *l, const char *what)
{
	const char *v = (const char *)x->ev.data.scalar.value;
	size_t i, n = x->ev.data.scalar.length;
	char name[256], q[QBUF];
	char *s;

	if (x->ev.type != YAML_SCALAR_EVENT)
		return fail_value(x, k, what, true);
	if (check_scalar(x, what, SCALAR_MAX, true) < 0)
		return -1;
	if (l->n >= (k->type == K_KEYWORDS ? DW_CONF_MAX_KEYWORDS : DW_CONF_MAX_LIST))
		return fail_at(x, AT(x->ev.start_mark), "%s has more than %d entries", what,
		               k->type == K_KEYWORDS ? DW_CONF_MAX_KEYWORDS : DW_CONF_MAX_LIST);
	if (list_grow(x, l) < 0)
		return -1;
	switch (k->type) {
	case K_CIDRS:
		if (dw_cidr_parse(v, (struct dw_cidr *)l->v + l->n) < 0)
			return fail_value(x, k, what, true);
		break;
	case K_ADDRS:
		if (dw_addr_parse(v, (struct dw_addr *)l->v + l->n) < 0)
			return fail_value(x, k, what, true);
		break;
	case K_KEYWORDS:
		if (!keyword_ok(v, n))
			return fail_value(x, k, what, true);
		for (i = 0; i < l->n; i++)
			if (!strcmp(((char **)l->v)[i], v))
				return fail_at(x, AT(x->ev.start_mark), "%s lists '%s' twice", what,
				               quote(v, n, q, sizeof(q)));
		if ((s = strdup(v)) == NULL)
			return fail_at(x, AT(x->ev.start_mark), "out of memory");
		((char **)l->v)[l->n] = s;
		break;
	case K_NAMES:
		if (n >= sizeof(name) || check_name(v, n, name) < 0)
			return fail_value(x, k, what, true);
		if ((s = strdup(name)) == NULL)
			return fail_at(x, AT(x->ev.start_mark), "out of memory");
		((char **)l->v)[l->n] = s;
		break;
	default:
		return fail_at(x, AT(x->ev.start_mark), "%s: internal error: bad list type", what);
	}
	l->n++;
	return 0;
}

/** Put a complete list where the key says, freeing what was there. */
static void list_install(const struct key *k, char *base, struct list *l)
{
	size_t i, *count = (size_t *)(void *)(base + k->coff);

	switch (k->type) {
	case K_CIDRS: {
		struct dw_cidr **p = (struct dw_cidr **)(void *)(base + k->off);
		free(*p);
		*p = l->v;
		break;
	}
	case K_ADDRS: {
		struct dw_addr **p = (struct dw_addr **)(void *)(base + k->off);
		free(*p);
		*p = l->v;
		break;
	}
	case K_KEYWORDS: {
		char **p = (char **)(void *)(base + k->off);
		for (i = 0; i < *count; i++)
			free(p[i]);
		for (i = 0; i < DW_CONF_MAX_KEYWORDS; i++)
			p[i] = i < l->n ? ((char **)l->v)[i] : NULL;
		free(l->v);
		break;
	}
	case K_NAMES: {
		char ***p = (char ***)(void *)(base + k->off);
		for (i = 0; i < *count; i++)
			free((*p)[i]);
		free(*p);
		*p = l->v;
		break;
	}
	default:
		break;
	}
	*count = l->n;
	l->v = NULL;
	l->n = l->cap = 0;
}

/** Read a list key: a YAML sequence of scalars, or null for an empty list. */
static int parse_list(struct ctx *x, const struct key *k, char *base, const char *what)
{
	struct list l = {NULL, 0, 0, 0};
	bool strings = k->type == K_KEYWORDS || k->type == K_NAMES;

	l.size = k->type == K_CIDRS   ? sizeof(struct dw_cidr)
	         : k->type == K_ADDRS ? sizeof(struct dw_addr)
	                              : sizeof(char *);
	if (is_null(&x->ev)) {
		list_install(k, base, &l);
		return 0;
	}
	if (x->ev.type != YAML_SEQUENCE_START_EVENT) {
		char d[256];
		describe(k, d, sizeof(d));
		return fail_at(x, AT(x->ev.start_mark), "%s must be a list, each entry %s, got %s",
		               what, d, event_kind(&x->ev));
	}
	for (;;) {
		if (next(x) < 0)
			goto fail;
		if (x->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (parse_item(x, k, &l, what) < 0)
			goto fail;
	}
	list_install(k, base, &l);
	return 0;
fail:
	list_free(&l, strings);
	return -1;
}

static int parse_map(struct ctx *x, const struct key *tab, char *base, const char *where);

/**
 * Read the value of key k (the current event is its first event) into the
 * section at base.
 */
static int parse_value(struct ctx *x, const struct key *k, char *base, const char *what)
{
	char *root = (char *)x->c;
	char *b = (k->flags & F_ROOT) ? root : base;

	switch (k->type) {
	case K_MAP:
		if (is_null(&x->ev))
			return 0; /* "control:" with nothing under it keeps the defaults */
		if (x->ev.type != YAML_MAPPING_START_EVENT)
			return fail_value(x, k, what, false);
		return parse_map(x, k->sub, b + k->off, what);
	case K_CIDRS:
	case K_ADDRS:
	case K_KEYWORDS:
	case K_NAMES:
		return parse_list(x, k, b, what);
	default:
		return parse_scalar(x, k, b + k->off, what);
	}
}

/** List a table's key names for the "unknown key" message. */
static void key_list(const struct key *tab, char *buf, size_t len)
{
	size_t o = 0;
	const struct key *k;

	buf[0] = '\0';
	for (k = tab; k->name && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", k == tab ? "" : ", ", k->name);
}

/**
 * Read a mapping (the current event is its MAPPING-START) against a key table.
 * \param where dotted name of the mapping ("" at the top).
 */
static int parse_map(struct ctx *x, const struct key *tab, char *base, const char *where)
{
	yaml_mark_t first[MAX_KEYS];
	bool seen[MAX_KEYS] = {false};
	char what[WHAT_LEN], q[QBUF], names[512];
	const struct key *k;
	size_t i;

	for (;;) {
		const char *v;
		size_t n;

		if (next(x) < 0)
			return -1;
		if (x->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (x->ev.type != YAML_SCALAR_EVENT)
			return fail_at(x, AT(x->ev.start_mark),
			               "%s%skeys must be plain words, got %s", where,
			               *where ? ": " : "", event_kind(&x->ev));
		v = (const char *)x->ev.data.scalar.value;
		n = x->ev.data.scalar.length;
		for (k = tab, i = 0; k->name; k++, i++)
			if (strlen(k->name) == n && !memcmp(k->name, v, n))
				break;
		if (k->name == NULL) {
			key_list(tab, names, sizeof(names));
			return fail_at(x, AT(x->ev.start_mark),
			               "unknown key '%s%s%s' (expected one of: %s)", where,
			               *where ? "." : "", quote(v, n, q, sizeof(q)), names);
		}
		snprintf(what, sizeof(what), "%s%s%s", where, *where ? "." : "", k->name);
		if (seen[i])
			return fail_at(x, AT(x->ev.start_mark),
			               "duplicate key '%s' (first at line %zu, column %zu)", what,
			               AT(first[i]));
		seen[i] = true;
		first[i] = x->ev.start_mark;
		if (next(x) < 0 || parse_value(x, k, base, what) < 0)
			return -1;
	}
}

/** Checks that relate two settings, after everything is read. */
/** mail_servers / mail_watch: bounded so the series can be preallocated. */
static int mail_watch_check(struct ctx *x)
{
	const struct dw_conf *c = x->c;
	const yaml_mark_t *m;
	yaml_mark_t none = {0, 0, 0};

	if (c->mail_server_count > DW_CONF_MAX_MAIL_SERVERS) {
		m = origin_of(x, OFF(mail_servers));
		return fail_at(x, AT(m ? *m : none), "mail_servers: at most %d entries, got %zu",
			       DW_CONF_MAX_MAIL_SERVERS, c->mail_server_count);
	}
	if (c->mw_keep / c->mw_resolution > DW_CONF_MAX_MAIL_INTERVALS ||
	    c->mw_keep < c->mw_resolution) {
		m = origin_of(x, OFF(mw_keep));
		if (m == NULL)
			m = origin_of(x, OFF(mw_resolution));
		return fail_at(x, AT(m ? *m : none),
			       "mail_watch.keep (%us) must hold between 1 and %d intervals of "
			       "mail_watch.resolution (%us)",
			       c->mw_keep, DW_CONF_MAX_MAIL_INTERVALS, c->mw_resolution);
	}
	return 0;
}

/** forwarders: bounded (the judge scans them once per crossing); every
 *  detectors.NAME.rearm at most its threshold. */
static int hysteresis_check(struct ctx *x)
{
	const struct dw_conf *c = x->c;
	const yaml_mark_t *m;
	yaml_mark_t none = {0, 0, 0};
	int i;

	if (c->forwarder_count > DW_CONF_MAX_FORWARDERS) {
		m = origin_of(x, OFF(forwarders));
		return fail_at(x, AT(m ? *m : none),
		               "forwarders.prefixes: at most %d entries, got %zu",
		               DW_CONF_MAX_FORWARDERS, c->forwarder_count);
	}
	for (i = 0; i < DW_DET_COUNT; i++) {
		if (c->det[i].rearm <= c->det[i].threshold)
			continue;
		m = origin_of(x, DET_OFF(i) + DOFF(rearm));
		return fail_at(x, AT(m ? *m : none),
		               "detectors.%s.rearm (%u) must not be larger than its threshold (%u)",
		               detector_names[i], c->det[i].rearm, c->det[i].threshold);
	}
	return 0;
}

static int cross_check(struct ctx *x)
{
	const struct dw_conf *c = x->c;
	const yaml_mark_t *m;
	yaml_mark_t none = {0, 0, 0};
	int i;

	for (i = 0; i < DW_DET_COUNT; i++) {
		if (c->det[i].action != DW_ACT_REFUSE || c->enforcement != DW_ENF_RPZ)
			continue;
		m = origin_of(x, DET_OFF(i) + DOFF(action));
		if (m == NULL)
			m = origin_of(x, OFF(enforcement));
		if (m == NULL)
			m = &none;
		return fail_at(
		    x, AT(*m),
		    "detectors.%s.action: refuse is not possible with enforcement: rpz "
		    "(an RPZ cannot answer REFUSED); use nxdomain, nodata, sinkhole, drop "
		    "or tcp-only, or set enforcement: hook",
		    detector_names[i]);
	}
	if (c->wl_min_ttl > c->wl_max_ttl) {
		m = origin_of(x, OFF(wl_min_ttl));
		if (m == NULL)
			m = origin_of(x, OFF(wl_max_ttl));
		if (m == NULL)
			m = &none;
		return fail_at(
		    x, AT(*m),
		    "whitelist.min_ttl (%us) must not be larger than whitelist.max_ttl (%us)",
		    c->wl_min_ttl, c->wl_max_ttl);
	}
	if (hysteresis_check(x) != 0)
		return -1;
	return mail_watch_check(x);
}

/**
 * Walk the whole stream: nothing (defaults), or one document whose top is a
 * mapping (or null, also defaults).
 */
static int parse_stream(struct ctx *x)
{
	if (next(x) < 0) /* STREAM-START */
		return -1;
	if (next(x) < 0)
		return -1;
	if (x->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty or comments only: all defaults */
	if (next(x) < 0)  /* the document's root node */
		return -1;
	if (x->ev.type == YAML_MAPPING_START_EVENT) {
		if (parse_map(x, root_keys, (char *)x->c, "") < 0)
			return -1;
	} else if (!is_null(&x->ev)) {
		return fail_at(
		    x, AT(x->ev.start_mark),
		    "the top level must be a mapping of keys (mode: observe ...), got %s",
		    event_kind(&x->ev));
	}
	if (next(x) < 0) /* DOCUMENT-END */
		return -1;
	if (next(x) < 0)
		return -1;
	if (x->ev.type != YAML_STREAM_END_EVENT)
		return fail_at(x, AT(x->ev.start_mark), "only one YAML document is allowed");
	return cross_check(x);
}

/**
 * Read the whole file into memory, refusing anything but a regular file of at
 * most DW_CONF_MAX_FILE bytes (a FIFO would block Unbound's start).
 * \return the buffer (caller frees) with *len set, or NULL with err written.
 */
static unsigned char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf = NULL, *nb;
	size_t cap, n = 0;
	ssize_t r;
	char eb[128];
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, dw_strerror(e, eb, sizeof(eb)));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, dw_strerror(e, eb, sizeof(eb)));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot open: not a regular file", path);
		goto fail;
	}
	if (st.st_size > DW_CONF_MAX_FILE)
		goto too_big;
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto nomem;
	for (;;) {
		if (n == cap) { /* the file grew while we read it */
			if (cap > DW_CONF_MAX_FILE)
				goto too_big;
			cap = cap * 2 > DW_CONF_MAX_FILE + 1 ? DW_CONF_MAX_FILE + 1 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				goto nomem;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			snprintf(err, errlen, "%s: cannot read: %s", path,
			         dw_strerror(e, eb, sizeof(eb)));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > DW_CONF_MAX_FILE)
		goto too_big;
	close(fd);
	*len = n;
	return buf;
too_big:
	snprintf(err, errlen, "%s: file is larger than %d bytes", path, DW_CONF_MAX_FILE);
	goto fail;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(buf);
	close(fd);
	return NULL;
}

/** See conf.h. */
struct dw_conf *dw_conf_load(const char *path, char *err, size_t errlen)
{
	struct ctx x;
	struct dw_conf *c;
	unsigned char *buf;
	size_t len = 0;
	char dummy[1];
	int rc;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (path == NULL)
		path = dw_conf_path();
	if ((buf = slurp(path, &len, err, errlen)) == NULL)
		return NULL;
	c = dw_conf_defaults();
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		dw_conf_free(c);
		free(buf);
		return NULL;
	}
	memset(&x, 0, sizeof(x));
	x.path = path;
	x.buf = buf;
	x.len = len;
	x.err = err;
	x.errlen = errlen;
	x.c = c;
	if (!yaml_parser_initialize(&x.parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		dw_conf_free(c);
		free(buf);
		return NULL;
	}
	yaml_parser_set_input_string(&x.parser, buf, len);
	rc = parse_stream(&x);
	if (x.have_ev)
		yaml_event_delete(&x.ev);
	yaml_parser_delete(&x.parser);
	free(buf);
	if (rc < 0) {
		dw_conf_free(c);
		return NULL;
	}
	return c;
}

/** strdup() a list of constant strings into a fresh array slot by slot. */
static int dup_all(char **dst, const char *const *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((dst[i] = strdup(src[i])) == NULL)
			return -1;
	return 0;
}

/** See conf.h. */
struct dw_conf *dw_conf_defaults(void)
{
	struct dw_conf *c = calloc(1, sizeof(*c));
	size_t nsig = sizeof(signature_defaults) / sizeof(signature_defaults[0]);
	size_t nkw = sizeof(keyword_defaults) / sizeof(keyword_defaults[0]);

	if (c == NULL)
		return NULL;
	c->mode = DW_MODE_OBSERVE;
	c->enforcement = DW_ENF_AUTO;
	c->syslog_facility = LOG_DAEMON;
	c->syslog_rate = 100;
	c->clients_max = 1000000;
	c->ipv6_prefix = 64;
	c->wl_min_ttl = 60;
	c->wl_max_ttl = 86400;
	c->wl_max_entries = 200000;
	c->policy_ladder_factor = 2;
	c->policy_ladder_window = 86400;
	c->policy_max_duration = 7 * 86400;
	c->policy_max_blocks = 100000;
	c->forwarder_factor = 10;
	c->tunnel_domain_action = DW_ACT_LOG;
	c->tunnel_domain_duration = 86400;
	c->tunnel_domain_rate = 5;
	c->debug_log_queries = false;
	c->incidents_database = strdup("/var/lib/unbound/dnswarden-incidents.db");
	c->incidents_keep = 180 * 86400;
	c->mw_resolution = 60;
	c->mw_keep = 2 * 86400;
	c->mw_facility = LOG_MAIL;
	c->mw_baseline = 86400;
	c->mw_mee_floor = 0;
	c->mw_dq_factor = 150;
	c->mw_min_dq = 20;
	memcpy(c->det, detector_defaults, sizeof(c->det));
	c->rpz_zone = strdup("dnswarden.rpz.");
	c->state_file = strdup("/var/lib/unbound/dnswarden.state");
	c->control_socket = strdup("/run/unbound/dnswarden.ctl");
	c->control_group = strdup("unbound");
	c->signatures = calloc(nsig, sizeof(char *));
	c->signature_count = c->signatures ? nsig : 0;
	c->keyword_count = nkw;
	if (dw_addr_parse("192.0.2.66", &c->sinkhole_v4) < 0 ||
	    dw_addr_parse("2001:db8::66", &c->sinkhole_v6) < 0 || !c->rpz_zone || !c->state_file ||
	    !c->control_socket || !c->control_group || !c->signatures || !c->incidents_database ||
	    dup_all(c->signatures, signature_defaults, nsig) < 0 ||
	    dup_all(c->keywords, keyword_defaults, nkw) < 0) {
		dw_conf_free(c);
		return NULL;
	}
	return c;
}

/** See conf.h. */
void dw_conf_free(struct dw_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->rpz_zone);
	free(c->state_file);
	free(c->control_socket);
	free(c->control_group);
	free(c->exempt);
	free(c->forwarders);
	for (i = 0; i < c->keyword_count && i < DW_CONF_MAX_KEYWORDS; i++)
		free(c->keywords[i]);
	for (i = 0; c->signatures && i < c->signature_count; i++)
		free(c->signatures[i]);
	free(c->signatures);
	free(c->geoip_country_db);
	free(c->geoip_asn_db);
	free(c->wl_static);
	free(c->incidents_database);
	free(c->mail_servers);
	free(c->publish_command);
	free(c->publish_zonefile);
	for (i = 0; c->fleet_peers && i < c->fleet_peer_count; i++)
		free(c->fleet_peers[i]);
	free(c->fleet_peers);
	for (i = 0; c->tunnel_exempt && i < c->tunnel_exempt_count; i++)
		free(c->tunnel_exempt[i]);
	free(c->tunnel_exempt);
	for (i = 0; c->domain_never_block && i < c->domain_never_block_count; i++)
		free(c->domain_never_block[i]);
	free(c->domain_never_block);
	for (i = 0; c->public_suffixes && i < c->public_suffix_count; i++)
		free(c->public_suffixes[i]);
	free(c->public_suffixes);
	free(c);
}

/** See conf.h. */
const char *dw_conf_path(void)
{
	const char *p = getenv("DNSWARDEN_CONF");

	return (p && *p) ? p : DW_CONF_DEFAULT_PATH;
}

/** See conf.h. */
const char *dw_detector_name(enum dw_detector d)
{
	return (unsigned)d < DW_DET_COUNT ? detector_names[d] : NULL;
}

/** See conf.h. */
int dw_detector_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < DW_DET_COUNT; i++)
		if (!strcmp(detector_names[i], name))
			return i;
	return -1;
}

/** See conf.h. */
const char *dw_action_name(enum dw_action a)
{
	return (unsigned)a < DW_ACT_COUNT ? action_names[a].name : NULL;
}

/** See conf.h. */
int dw_action_from_name(const char *name)
{
	const struct name_val *n;

	for (n = action_names; name && n->name; n++)
		if (!strcmp(n->name, name))
			return n->val;
	return -1;
}
