/**
 * \file
 * GeoIP evidence: the country and the autonomous system of an address, read
 * from MaxMind DB files (libmaxminddb), for verdict lines.
 *
 * What it is for: a verdict names where the flagged client itself is (when
 * its address is public) and where the IPv4 literals it asked for are, as
 * " client_cc=SE client_asn=64500 client_as_org=Example_Org" fields.
 *
 * Cost: each configured database is mmap()ed read-only (the file's size in
 * address space, paged in on use; about 8 MiB for GeoLite2-Country or -ASN).
 * A lookup walks at most 128 tree nodes and decodes two or three values: a
 * few microseconds, no allocation. struct dw_geo is 72 bytes.
 * Thread safety: dw_geoip_open()/dw_geoip_close() are not concurrent with
 * anything on the same handle; between them dw_geoip_lookup() is safe from any
 * number of threads. The module calls it only from its own thread, when a
 * verdict line is composed, never from Unbound's worker threads. Database
 * files must be replaced by rename() (as geoipupdate does), never rewritten in
 * place: a file truncated under the mapping kills the process with SIGBUS.
 * Errors: dw_geoip_open() returns NULL and writes one line to err,
 * "geoip.country_db: PATH: reason", for a database that is missing,
 * unreadable, corrupt or of the wrong type. In a build without libmaxminddb
 * (geoip_none.c) every configured database is such an error and lookups find
 * nothing. Lookups never fail: a damaged
 * record, a value of the wrong type or a malformed string reads as unknown.
 * Hostile data: everything read from a database is sanitised before it is
 * stored in struct dw_geo (see there), so its fields can be printed unquoted.
 */
#ifndef DW_GEOIP_H
#define DW_GEOIP_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** An err buffer this size holds any message dw_geoip_open() writes, unless
 *  the database's path alone is longer than about 800 bytes (then it is cut). */
#define DW_GEOIP_ERRLEN 1024

/** Longest as_org kept, with the NUL; longer names are cut. */
#define DW_GEOIP_ORG_LEN 64

/** Open databases; opaque. */
struct dw_geoip;

/**
 * What is known about one address; "" and 0 when unknown.
 * country: ISO 3166-1 alpha-2, exactly two upper-case letters ("SE"); the
 *   record's country, else its registered_country; any other value is dropped.
 * asn: autonomous_system_number, 1 .. 2^32-1.
 * as_org: autonomous_system_organization, reduced to the bytes 0x21..0x7e
 *   other than " ' ` \ and =: every run of other bytes (spaces, controls,
 *   UTF-8 sequences, quotes) between two kept bytes becomes one '_', runs at
 *   either end are dropped, and the result is cut to at most
 *   DW_GEOIP_ORG_LEN - 1 bytes ("AT&T Services" -> "AT&T_Services",
 *   "Telefónica" -> "Telef_nica", "Hurricane Electric, Inc." ->
 *   "Hurricane_Electric,_Inc.").
 *   So a value is one token of a key=value line and needs no quoting.
 */
struct dw_geo {
	char country[3];
	uint32_t asn;
	char as_org[DW_GEOIP_ORG_LEN];
};

/**
 * Open the configured databases (geoip.country_db and geoip.asn_db).
 * \param country_db path of a Country or City database (its metadata's
 *   database_type contains "Country", "City" or "Enterprise"), or NULL.
 * \param asn_db path of an ASN database (database_type contains "ASN" or
 *   "ISP"), or NULL.
 * \param err receives the reason on failure, e.g.
 *   "geoip.asn_db: /var/lib/GeoIP/x.mmdb: The MaxMind DB file contains
 *   invalid metadata" (libmaxminddb's words, with strerror() for open errors)
 *   or "geoip.asn_db: PATH: database type 'GeoLite2-Country' is not an ASN
 *   database".
 * \param errlen size of err; DW_GEOIP_ERRLEN is enough unless the path is very
 *   long (a message that does not fit is cut, still NUL-terminated).
 * \return a handle (also when both paths are NULL: it then knows nothing), or
 *   NULL with err filled. Nothing stays open on failure.
 */
struct dw_geoip *dw_geoip_open(const char *country_db, const char *asn_db, char *err,
                               size_t errlen);

/** Unmap the databases and free the handle; NULL is a no-op. */
void dw_geoip_close(struct dw_geoip *g);

/**
 * Look an address up in both databases.
 * Only public addresses (dw_addr_is_public()) are looked up: private,
 * loopback, documentation … addresses say nothing about a location and read
 * as unknown without touching the databases.
 * \param g the handle, or NULL (nothing configured).
 * \param a the address.
 * \param out always filled; unknown fields are "" / 0.
 * \return 1 when anything was found, else 0.
 */
int dw_geoip_lookup(const struct dw_geoip *g, const struct dw_addr *a, struct dw_geo *out);

/**
 * Write the known fields of geo as " PREFIX_cc=SE PREFIX_asn=64500
 * PREFIX_as_org=Example_Org" (each field with its leading space; unknown
 * fields left out; with prefix NULL or "" the keys are plain cc, asn, as_org).
 * Meant for appending to a line: pass the free tail of the line buffer.
 * \param geo what dw_geoip_lookup() found.
 * \param prefix key prefix such as "client" or "target"; the caller's
 *   constant, printed as is.
 * \param buf receives the text, always NUL-terminated when len > 0.
 * \param len size of buf. A field that does not fit whole is left out (and so
 *   are the fields after it): a line never carries a cut value.
 * \return the number of bytes written, without the NUL (0 when nothing is
 *   known or nothing fits).
 */
size_t dw_geoip_format(const struct dw_geo *geo, const char *prefix, char *buf, size_t len);

#endif
