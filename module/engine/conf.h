/**
 * \file
 * dnswarden's configuration: the YAML file (dnswarden.yaml(5)) read into one
 * plain struct.
 *
 * What it is for: every tunable of the engine in one place, validated once,
 * so the rest of the code never sees an unchecked value.
 *
 * Cost: one parse per init()/reload (libyaml); a few KiB of heap per config.
 * Thread safety: a struct dw_conf is immutable after dw_conf_load() returns;
 * share it read-only between threads; free it only when nobody uses it.
 * Errors: dw_conf_load() returns NULL and writes one human-readable line to
 * err: "FILE:LINE:COL: what is wrong, got 'VALUE'" (or "FILE: reason" for
 * a file that cannot be opened or read). Unknown keys are errors.
 */
#ifndef DW_CONF_H
#define DW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** Where the config lives unless $DNSWARDEN_CONF names another file. */
#ifndef DW_CONF_DEFAULT_PATH /* configure: $(sysconfdir)/unbound/dnswarden.yaml */
#define DW_CONF_DEFAULT_PATH "/etc/unbound/dnswarden.yaml"
#endif

/** Detectors, in the order of dnswarden.yaml(5) (also array indices). */
enum dw_detector {
	DW_DET_MX_WORM = 0,
	DW_DET_SPAM_RELAY,
	DW_DET_MX_KEYWORD_SCAN,
	DW_DET_IP_LITERAL,
	DW_DET_PTR_FLOOD,
	DW_DET_PTR_FORWARD_IP,
	DW_DET_SIGNATURE_NAMES,
	DW_DET_DNS_TUNNEL, /**< namestate.h, not a client-table counter */
	DW_DET_DGA,        /**< namestate.h, not a client-table counter */
	DW_DET_COUNT
};

/** What the policy does to a flagged client. */
enum dw_action {
	DW_ACT_LOG = 0, /**< log only, never block */
	DW_ACT_REFUSE,
	DW_ACT_NXDOMAIN,
	DW_ACT_NODATA,
	DW_ACT_SINKHOLE,
	DW_ACT_DROP,
	DW_ACT_TCP_ONLY,
	DW_ACT_COUNT
};

enum dw_mode { DW_MODE_OBSERVE = 0, DW_MODE_ENFORCE };
enum dw_enforcement { DW_ENF_AUTO = 0, DW_ENF_RPZ, DW_ENF_HOOK };

/** Longest keyword / signature name / path accepted. */
#define DW_CONF_MAX_KEYWORD 63
#define DW_CONF_MAX_KEYWORDS 32
#define DW_CONF_MAX_NAME 255
#define DW_CONF_MAX_PATH 4096

/* Additions (conf.c): bounds on input and a sufficient error buffer. */
/** Largest config file accepted, in bytes; larger files are refused unread. */
#define DW_CONF_MAX_FILE 1048576
/** Most entries of exempt, whitelist.static and signature_names.names. */
#define DW_CONF_MAX_LIST 65536
/** An err buffer this size holds any message dw_conf_load() writes, unless
 *  the file's path alone is longer than about 500 bytes (then it is cut). */
#define DW_CONF_ERRLEN 1024

/** One detector's settings (detectors.NAME in YAML). */
struct dw_detector_conf {
	bool enabled;
	uint32_t threshold; /**< >= 1 */
	uint32_t window;    /**< seconds, 1 .. 86400 */
	enum dw_action action;
	uint32_t duration; /**< seconds a block lasts, 1 .. 30 days */
	/** re-arm level, 1 .. threshold; 0 = half the threshold rounded up
	 *  (detect.h: hysteresis) */
	uint32_t rearm;
};

/** The whole configuration. Strings are NUL-terminated, owned by the struct. */
struct dw_conf {
	char *path;                      /**< the file this was read from */
	enum dw_mode mode;               /**< default observe */
	enum dw_enforcement enforcement; /**< default auto */
	char *rpz_zone;                  /**< default "dnswarden.rpz." */
	char *state_file;                /**< default /var/lib/unbound/dnswarden.state */

	char *control_socket; /**< default /run/unbound/dnswarden.ctl */
	char *control_group;  /**< default "unbound"; NULL/"" = root only */

	int syslog_facility;  /**< LOG_DAEMON etc. (<syslog.h> value); default LOG_DAEMON */
	uint32_t syslog_rate; /**< max alert lines per second, default 100 */

	uint32_t clients_max; /**< default 1000000, 1 .. 100000000 */
	uint8_t ipv6_prefix;  /**< default 64, 32 .. 64 */

	struct dw_cidr *exempt; /**< exempt: list */
	size_t exempt_count;

	struct dw_addr sinkhole_v4; /**< default 192.0.2.66 */
	struct dw_addr sinkhole_v6; /**< default 2001:db8::66 */

	struct dw_detector_conf det[DW_DET_COUNT];
	/** mx_keyword_scan.keywords, lower case; default mail smtp mx ns relay gate */
	char *keywords[DW_CONF_MAX_KEYWORDS];
	size_t keyword_count;
	/** signature_names.names: lower-case presentation names, no trailing dot */
	char **signatures;
	size_t signature_count;

	char *geoip_country_db; /**< NULL when not configured */
	char *geoip_asn_db;     /**< NULL when not configured */

	uint32_t wl_min_ttl;       /**< default 60 */
	uint32_t wl_max_ttl;       /**< default 86400 */
	uint32_t wl_max_entries;   /**< default 200000 */
	struct dw_addr *wl_static; /**< whitelist.static */
	size_t wl_static_count;

	/* policy: repeat offenders get longer blocks */
	uint32_t policy_ladder_factor; /**< each repeat within the window multiplies the duration, default 2 */
	uint32_t policy_ladder_window; /**< seconds a past block counts as a prior offence, default 1d */
	uint32_t policy_max_duration;  /**< cap of a laddered block, default 7d */
	uint32_t policy_max_blocks;    /**< block list cap, default 100000 */

	bool debug_log_queries; /**< debug.log_queries: one log line per query */

	/* incidents: the incident history (incidents.h) */
	char *incidents_database; /**< default /var/lib/unbound/dnswarden-incidents.db; NULL = off */
	uint32_t incidents_keep;  /**< seconds rows are kept, default 180d */
	/* mail-server watch (mailwatch.h, dnswarden-mailwatch(8)) */
	struct dw_cidr *mail_servers; /**< mail_servers: list; exempt from the MX detectors */
	size_t mail_server_count;     /**< <= DW_CONF_MAX_MAIL_SERVERS */
	uint32_t mw_resolution;       /**< mail_watch.resolution, seconds, default 60, >= 10 */
	uint32_t mw_keep;             /**< mail_watch.keep, seconds, default 2d */
	int mw_facility;              /**< mail_watch.facility (dnswarden-mailwatch), default LOG_MAIL */
	uint32_t mw_baseline;         /**< mail_watch.baseline: learning period, default 1d */
	uint32_t mw_mee_floor;        /**< mail_watch.mee_floor, percent; 0 = half the baseline's MEE */
	uint32_t mw_dq_factor;        /**< mail_watch.dq_factor, percent of expected D_q, default 150 */
	uint32_t mw_min_dq;           /**< mail_watch.min_dq: smaller D_q is never flagged, default 20 */
	/* the fleet (fleet.h) */
	char *publish_command;  /**< publish.command: absolute command line run by /bin/sh
	                             after the zone file changed; NULL = none */
	char *publish_zonefile; /**< publish.zonefile: where to publish when Unbound's rpz
	                             clause has no zonefile (hook backend); NULL = none */
	char **fleet_peers;     /**< fleet.peers: peers' zone names, lower case, no final dot */
	size_t fleet_peer_count;
	/* dns_tunnel (tunnel.h) */
	char **tunnel_exempt; /**< detectors.dns_tunnel.exempt_domains, lower case, no final dot */
	size_t tunnel_exempt_count; /**< added to the built-in list of names.h */
	/* registrable domains (regdomain.h) */
	char **public_suffixes; /**< public_suffixes: extra suffixes, lower case, no final dot */
	size_t public_suffix_count; /**< <= DW_REGDOMAIN_MAX_EXTRA (256) */
	/* pooled clients (forwarders:, detect.h): own thresholds, never blocked */
	struct dw_cidr *forwarders; /**< forwarders.prefixes */
	size_t forwarder_count;     /**< <= DW_CONF_MAX_FORWARDERS */
	uint32_t forwarder_factor;  /**< forwarders.threshold_factor, default 10 */
	/* dns_tunnel's domain action (domain_blocks.h): the C2 domain blocked
	 * for every client through an RPZ QNAME trigger */
	enum dw_action tunnel_domain_action; /**< DW_ACT_LOG = none (default) */
	uint32_t tunnel_domain_duration;     /**< seconds, default 1d */
	uint32_t tunnel_domain_rate;         /**< new automatic domain blocks an hour, default 5 */
	char **domain_never_block; /**< dns_tunnel.never_block, lower case, no final dot */
	size_t domain_never_block_count;
};

/** Most forwarders.prefixes entries. */
#define DW_CONF_MAX_FORWARDERS 1024

/** Most mail_servers entries, and most intervals a server's series keeps. */
#define DW_CONF_MAX_MAIL_SERVERS 64
#define DW_CONF_MAX_MAIL_INTERVALS 262144

/** Read and validate the YAML file at path (NULL: dw_conf_path()). NULL on
 *  error (see err). An empty or comment-only file means all defaults; YAML
 *  anchors, aliases and tags are refused; c->path is a copy of path. */
struct dw_conf *dw_conf_load(const char *path, char *err, size_t errlen);

/** A config with every default (used by tests and tools); its path is NULL.
 *  NULL on ENOMEM. */
struct dw_conf *dw_conf_defaults(void);

/** Release a config (NULL is fine). */
void dw_conf_free(struct dw_conf *c);

/** The path to read: $DNSWARDEN_CONF when set and non-empty, else the default. */
const char *dw_conf_path(void);

/** Detector name ("mx_worm") for an id, and the reverse (-1 when unknown). */
const char *dw_detector_name(enum dw_detector d);
int dw_detector_from_name(const char *name);

/** Action name ("sinkhole") for an id, and the reverse (-1 when unknown). */
const char *dw_action_name(enum dw_action a);
int dw_action_from_name(const char *name);

/** Parse "90", "90s", "10m", "1h", "2d" into seconds; -1 on error or overflow. */
long dw_parse_duration(const char *s);

#endif
