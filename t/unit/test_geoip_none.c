/**
 * \file
 * Unit tests of geoip_none.c, the GeoIP of a build without libmaxminddb
 * (configure --without-maxminddb): no geoip: section means no GeoIP, and a
 * configured database is refused with a message that says why and what to
 * do, both by dw_geoip_open() and by the configuration check that
 * dnswarden-control and the module run on a YAML file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confcheck.h"
#include "geoip.h"
#include "tap.h"

/** A YAML file in dir with a geoip: section naming key: PATH; returns its path. */
static const char *write_yaml(const char *dir, const char *key, const char *db)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dnswarden.yaml", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return NULL;
	fprintf(f,
	        "state_file: %s/dnswarden.state\n"
	        "control:\n  socket: %s/dnswarden.ctl\n  group: \"\"\n"
	        "geoip:\n  %s: %s\n",
	        dir, dir, key, db);
	return fclose(f) == 0 ? path : NULL;
}

int main(void)
{
	char dir[] = "/tmp/dw-geoip-none-XXXXXX", db[600], err[DW_GEOIP_ERRLEN];
	struct dw_geoip *g;
	struct dw_conf *c;
	struct dw_addr a;
	struct dw_geo geo;
	const char *yaml;
	FILE *f;
	int rc;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	/* a database file that exists, so only the missing library can be the reason */
	snprintf(db, sizeof(db), "%s/GeoLite2-Country.mmdb", dir);
	f = fopen(db, "w");
	if (f == NULL || fclose(f) != 0) {
		printf("Bail out! %s\n", db);
		return 1;
	}

	g = dw_geoip_open(NULL, NULL, err, sizeof(err));
	ok(g != NULL && err[0] == '\0', "no database configured: a handle, no error");
	dw_addr_parse("8.8.8.8", &a);
	memset(&geo, 'x', sizeof(geo));
	ok(dw_geoip_lookup(g, &a, &geo) == 0 && geo.country[0] == '\0' && geo.asn == 0 &&
	       geo.as_org[0] == '\0',
	   "a lookup finds nothing and leaves every field unknown");
	dw_geoip_close(g);

	g = dw_geoip_open(db, NULL, err, sizeof(err));
	ok(g == NULL, "geoip.country_db set: refused");
	ok(strncmp(err, "geoip.country_db: ", 18) == 0 && strstr(err, db) != NULL &&
	       strstr(err, "built without libmaxminddb") != NULL &&
	       strstr(err, "--with-maxminddb") != NULL,
	   "the message names the key, the file, the reason and the remedy");
	printf("# %s\n", err);
	g = dw_geoip_open(NULL, db, err, sizeof(err));
	ok(g == NULL && strncmp(err, "geoip.asn_db: ", 14) == 0,
	   "geoip.asn_db set: refused, named");

	yaml = write_yaml(dir, "country_db", db);
	c = yaml ? dw_conf_load(yaml, err, sizeof(err)) : NULL;
	if (!ok(c != NULL, "a YAML file with a geoip: section is read"))
		printf("#   %s\n", err);
	rc = c ? dw_conf_check(c, err, sizeof(err)) : 0;
	ok(rc == -1 && strstr(err, "built without libmaxminddb") != NULL,
	   "the configuration check refuses it (a config error, not ignored)");
	dw_conf_free(c);

	unlink(db);
	if (yaml)
		unlink(yaml);
	rmdir(dir);
	return done_testing();
}
