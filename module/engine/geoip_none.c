/**
 * \file
 * GeoIP for a build without libmaxminddb (configure --without-maxminddb, or
 * the library not found): nothing is ever known about an address, and a
 * configured database is an error, so that a geoip: section is never ignored
 * in silence. The contract is geoip.h's.
 */
#include "geoip.h"

#include <stdio.h>
#include <stdlib.h>

/** The handle of a build without databases: it knows nothing. */
struct dw_geoip {
	int unused;
};

struct dw_geoip *dw_geoip_open(const char *country_db, const char *asn_db, char *err, size_t errlen)
{
	struct dw_geoip *g;

	if (errlen > 0)
		err[0] = '\0';
	if (country_db != NULL || asn_db != NULL) {
		snprintf(err, errlen,
		         "%s: %s: this dnswarden was built without libmaxminddb and reads no "
		         "GeoIP database: remove the geoip: section, or install libmaxminddb "
		         "(Debian: libmaxminddb-dev) and rebuild with configure --with-maxminddb",
		         country_db != NULL ? "geoip.country_db" : "geoip.asn_db",
		         country_db != NULL ? country_db : asn_db);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		snprintf(err, errlen, "geoip: out of memory");
	return g;
}

void dw_geoip_close(struct dw_geoip *g)
{
	free(g);
}

int dw_geoip_lookup(const struct dw_geoip *g, const struct dw_addr *a, struct dw_geo *out)
{
	(void)g;
	(void)a;
	out->country[0] = '\0';
	out->asn = 0;
	out->as_org[0] = '\0';
	return 0;
}
