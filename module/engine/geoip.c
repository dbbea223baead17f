/**
 * \file
 * GeoIP evidence from MaxMind DB files through libmaxminddb (see geoip.h for
 * the contract).
 *
 * libmaxminddb checks a file's metadata and search-tree bounds at open and
 * every data offset on lookup, so a corrupt database fails MMDB_open() or
 * reads as "no data"; what it cannot check is what the strings mean. A
 * database is a file anyone with write access to /var/lib/GeoIP can replace,
 * and its strings end up in log lines that other programs parse, so every
 * value is checked or sanitised here before it leaves this file.
 */
#include "geoip.h"
#include "errbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/** Longest excerpt of a database_type quoted in an error message. */
#define TYPE_QUOTE_MAX 48

/** The open databases; a flag says which of the two structs is valid. */
struct dw_geoip {
	MMDB_s country;
	MMDB_s asn;
	bool has_country;
	bool has_asn;
};

/** What one configured database must be. */
struct db_kind {
	const char *key;          /**< config key, for messages */
	const char *what;         /**< "a Country or City", for messages */
	const char *const *types; /**< database_type must contain one of these */
};

static const char *const country_types[] = {"Country", "City", "Enterprise", NULL};
static const char *const asn_types[] = {"ASN", "ISP", NULL};
static const struct db_kind country_kind = {"geoip.country_db", "a Country or City", country_types};
static const struct db_kind asn_kind = {"geoip.asn_db", "an ASN", asn_types};

static const char *const country_path[] = {"country", "iso_code", NULL};
static const char *const registered_path[] = {"registered_country", "iso_code", NULL};
static const char *const asn_path[] = {"autonomous_system_number", NULL};
static const char *const org_path[] = {"autonomous_system_organization", NULL};


/** True for the bytes a sanitised value may keep (see struct dw_geo). */
static bool token_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '`' && c != '\\' && c != '=';
}

/**
 * Reduce untrusted bytes to one key=value token: runs of other bytes become
 * one '_', no '_' is added at either end, the result is cut to fit.
 * \param s the bytes (not NUL-terminated).
 * \param n their number.
 * \param out receives the token, NUL-terminated; "" when nothing is left.
 * \param outlen size of out (> 0).
 */
static void sanitise(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	bool gap = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!token_byte(c)) {
			gap = o > 0;
			continue;
		}
		/* The '_' only goes in together with the byte after it. */
		if (o + 1 + gap >= outlen)
			break;
		if (gap)
			out[o++] = '_';
		gap = false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

/**
 * Check a database's type against what its config key wants.
 * \return true when database_type contains one of kind->types.
 */
static bool type_ok(const MMDB_s *db, const struct db_kind *kind)
{
	const char *t = db->metadata.database_type;

	if (t == NULL)
		return false;
	for (const char *const *w = kind->types; *w != NULL; w++)
		if (strstr(t, *w) != NULL)
			return true;
	return false;
}

/**
 * Open one database and check its type.
 * \param db the struct to fill.
 * \param kind which key this is and what it must hold.
 * \param path the configured path.
 * \param err, errlen the caller's error buffer.
 * \return 0 with db open, or -1 with err filled and nothing open.
 */
static int open_one(MMDB_s *db, const struct db_kind *kind, const char *path, char *err,
                    size_t errlen)
{
	struct stat st;
	int status, e;

	/* libmaxminddb would report these two as a failed mmap() (ENODEV, EINVAL). */
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: %s: not a regular file", kind->key, path);
			return -1;
		}
		if (st.st_size == 0) {
			snprintf(err, errlen, "%s: %s: empty file, not a MaxMind DB", kind->key,
			         path);
			return -1;
		}
	}
	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, db);
	e = errno;
	if (status != MMDB_SUCCESS) {
		if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && e != 0) {
			char ebuf[128];

			snprintf(err, errlen, "%s: %s: %s (%s)", kind->key, path,
			         MMDB_strerror(status), dw_strerror(e, ebuf, sizeof(ebuf)));
		} else {
			snprintf(err, errlen, "%s: %s: %s", kind->key, path, MMDB_strerror(status));
		}
		return -1;
	}
	if (!type_ok(db, kind)) {
		const char *t = db->metadata.database_type;
		char tbuf[TYPE_QUOTE_MAX];

		sanitise(t != NULL ? t : "", t != NULL ? strlen(t) : 0, tbuf, sizeof(tbuf));
		snprintf(err, errlen, "%s: %s: database type '%s' is not %s database", kind->key,
		         path, tbuf, kind->what);
		MMDB_close(db);
		return -1;
	}
	return 0;
}

struct dw_geoip *dw_geoip_open(const char *country_db, const char *asn_db, char *err, size_t errlen)
{
	struct dw_geoip *g = calloc(1, sizeof(*g));

	if (errlen > 0)
		err[0] = '\0';
	if (g == NULL) {
		snprintf(err, errlen, "geoip: out of memory");
		return NULL;
	}
	if (country_db != NULL) {
		if (open_one(&g->country, &country_kind, country_db, err, errlen) != 0) {
			free(g);
			return NULL;
		}
		g->has_country = true;
	}
	if (asn_db != NULL) {
		if (open_one(&g->asn, &asn_kind, asn_db, err, errlen) != 0) {
			dw_geoip_close(g);
			return NULL;
		}
		g->has_asn = true;
	}
	return g;
}

void dw_geoip_close(struct dw_geoip *g)
{
	if (g == NULL)
		return;
	if (g->has_country)
		MMDB_close(&g->country);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

/**
 * Find an address's record in one database.
 * \param db the database.
 * \param sa the address as a sockaddr_in or sockaddr_in6.
 * \param entry receives the record.
 * \return true when the address has a record.
 */
static bool find(const MMDB_s *db, const struct sockaddr *sa, MMDB_entry_s *entry)
{
	int mmdb_err = MMDB_SUCCESS;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, sa, &mmdb_err);

	/* An IPv6 address in an IPv4-only database is an error here: unknown. */
	if (mmdb_err != MMDB_SUCCESS || !r.found_entry)
		return false;
	*entry = r.entry;
	return true;
}

/**
 * Read a two-letter country code at path.
 * \return true with out set when the value is exactly two ASCII capitals.
 */
static bool get_country(MMDB_entry_s *entry, const char *const *path, char out[3])
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return false;
	for (int i = 0; i < 2; i++)
		if (d.utf8_string[i] < 'A' || d.utf8_string[i] > 'Z')
			return false;
	memcpy(out, d.utf8_string, 2);
	out[2] = '\0';
	return true;
}

/** Read the AS number (any unsigned type, or a positive int32); 0 if none. */
static uint32_t get_asn(MMDB_entry_s *entry)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(entry, &d, asn_path) != MMDB_SUCCESS || !d.has_data)
		return 0;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		return d.uint16;
	case MMDB_DATA_TYPE_UINT32:
		return d.uint32;
	case MMDB_DATA_TYPE_UINT64:
		return d.uint64 <= UINT32_MAX ? (uint32_t)d.uint64 : 0;
	case MMDB_DATA_TYPE_INT32:
		return d.int32 > 0 ? (uint32_t)d.int32 : 0;
	default:
		return 0;
	}
}

/** Read and sanitise the AS organisation into out ("" if none). */
static void get_org(MMDB_entry_s *entry, char *out, size_t outlen)
{
	MMDB_entry_data_s d;

	out[0] = '\0';
	if (MMDB_aget_value(entry, &d, org_path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	sanitise(d.utf8_string, d.data_size, out, outlen);
}

int dw_geoip_lookup(const struct dw_geoip *g, const struct dw_addr *a, struct dw_geo *out)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	MMDB_entry_s entry;

	memset(out, 0, sizeof(*out));
	if (g == NULL || !dw_addr_is_public(a))
		return 0;
	if (a->family == 4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->b, 4);
		sa = (const struct sockaddr *)&sin;
	} else if (a->family == 6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->b, 16);
		sa = (const struct sockaddr *)&sin6;
	} else {
		return 0;
	}
	if (g->has_country && find(&g->country, sa, &entry)) {
		if (!get_country(&entry, country_path, out->country))
			(void)get_country(&entry, registered_path, out->country);
	}
	if (g->has_asn && find(&g->asn, sa, &entry)) {
		out->asn = get_asn(&entry);
		get_org(&entry, out->as_org, sizeof(out->as_org));
	}
	return out->country[0] != '\0' || out->asn != 0 || out->as_org[0] != '\0';
}
