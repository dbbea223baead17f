/**
 * \file
 * Unit tests of geoip.c against MaxMind's own test databases
 * (GeoIP2-Country-Test, GeoIP2-City-Test, GeoLite2-ASN-Test, GeoIP2-ISP-Test),
 * found in the directory $DW_GEOIP_TESTDATA (t/geoip.t fetches them with
 * t/lib/geoip-testdata). What each address holds is in the libmaxminddb
 * source, t/maxmind-db/source-data/ (one JSON file per database).
 *
 * Hostile and broken databases are made from copies in a temporary directory
 * (mkdtemp under $TMPDIR or /tmp, removed at the end): strings patched in
 * place, truncated files, random bytes, and a few hundred copies with
 * random bytes flipped (deterministic seeds), which must open with an error
 * or look up without a crash and with sanitised output.
 */
#include "geoip.h"
#include "tap.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** The test databases' directory and our scratch directory. */
static const char *data_dir;
static char tmp_dir[PATH_MAX];
/** Error buffer of the last open. */
static char err[DW_GEOIP_ERRLEN];

/** Paths built by path_in(); a result lives for the next 15 calls. */
static char paths[16][PATH_MAX];
static int path_next;

/** Join a directory and a file name into one of the rotating buffers. */
static const char *path_in(const char *dir, const char *name)
{
	char *p = paths[path_next++ % 16];

	int n = snprintf(p, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX) {
		printf("Bail out! path too long: %s/%s\n", dir, name);
		exit(1);
	}
	return p;
}

/** A test database by file name. */
static const char *db(const char *name)
{
	return path_in(data_dir, name);
}

/** Parse an address the test knows is valid. */
static struct dw_addr A(const char *s) {
	struct dw_addr a;

	if (dw_addr_parse(s, &a) != 0) {
		printf("Bail out! bad address in test: %s\n", s);
		exit(1);
	}
	return a;
}

/** Read a whole file into a malloc()ed buffer; exits on failure. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/** Write len bytes to a file in the scratch directory; returns its path. */
static const char *spill(const char *name, const void *buf, size_t len)
{
	const char *p = path_in(tmp_dir, name);
	FILE *f = fopen(p, "wb");

	if (f == NULL || (len > 0 && fwrite(buf, 1, len, f) != len) || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", p);
		exit(1);
	}
	return p;
}

/**
 * Copy a database with the bytes `from` replaced by `to` (same length,
 * occurring exactly once) to a scratch file; returns the copy's path.
 */
static const char *patched(const char *src, const char *name, const void *from, const void *to,
                           size_t n)
{
	size_t len, hits = 0, at = 0;
	unsigned char *buf = slurp(src, &len);
	const char *p;

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, from, n) == 0) {
			hits++;
			at = i;
		}
	if (hits != 1) {
		printf("Bail out! %s holds the patched bytes %zu times, want once\n", src, hits);
		exit(1);
	}
	memcpy(buf + at, to, n);
	p = spill(name, buf, len);
	free(buf);
	return p;
}

/** True when every field of geo is what geoip.h promises for hostile data. */
static bool geo_sane(const struct dw_geo *g)
{
	size_t n = strnlen(g->as_org, sizeof(g->as_org));

	if (n >= sizeof(g->as_org))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)g->as_org[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"'`\\=", c) != NULL)
			return false;
	}
	if (g->country[0] == '\0')
		return g->country[1] == '\0';
	return g->country[0] >= 'A' && g->country[0] <= 'Z' && g->country[1] >= 'A' &&
	       g->country[1] <= 'Z' && g->country[2] == '\0';
}

/** Look s up and compare with the expected country, ASN and organisation. */
static void expect(const struct dw_geoip *g, const char *s, int ret, const char *cc, uint32_t asn,
                   const char *org)
{
	struct dw_addr a = A(s);
	struct dw_geo geo;
	int r = dw_geoip_lookup(g, &a, &geo);
	bool good = r == ret && strcmp(geo.country, cc) == 0 && geo.asn == asn &&
	            strcmp(geo.as_org, org) == 0;

	if (!ok(good, "%s -> %d cc='%s' asn=%u org='%s'", s, ret, cc, (unsigned)asn, org))
		printf("#   got %d cc='%s' asn=%u org='%s'\n", r, geo.country, (unsigned)geo.asn,
		       geo.as_org);
}

/** Open and expect failure with exactly the message want. */
static void open_fails(const char *country, const char *asn, const char *want, const char *name)
{
	struct dw_geoip *g = dw_geoip_open(country, asn, err, sizeof(err));

	if (!ok(g == NULL && strcmp(err, want) == 0, "%s", name))
		printf("#   got %s '%s'\n#  want NULL '%s'\n", g ? "a handle" : "NULL", err, want);
	dw_geoip_close(g);
}

static void test_lookups(void)
{
	struct dw_geoip *g = dw_geoip_open(db("GeoIP2-Country-Test.mmdb"),
	                                   db("GeoLite2-ASN-Test.mmdb"), err, sizeof(err));

	if (!ok(g != NULL, "open Country-Test + ASN-Test")) {
		printf("#   %s\n", err);
		return;
	}
	ok(err[0] == '\0', "no error text on success");
	/* Country only. */
	expect(g, "89.160.20.112", 1, "SE", 0, "");
	expect(g, "81.2.69.160", 1, "GB", 0, "");
	expect(g, "2a02:d040::1", 1, "SE", 0, "");
	/* An anonymous proxy still has its country. */
	expect(g, "67.43.156.1", 1, "BT", 0, "");
	/* ASN only; organisations sanitised for a key=value line. */
	expect(g, "1.128.0.1", 1, "", 1221, "Telstra_Pty_Ltd");
	expect(g, "12.81.92.1", 1, "", 7018, "AT&T_Services");
	expect(g, "12.81.96.1", 1, "", 7018, "");
	expect(g, "2600:7000::1", 1, "", 6939, "Hurricane_Electric,_Inc.");
	expect(g, "2600:6000::1", 1, "", 237, "Merit_Network_Inc.");
	/* In the country database but with no country at all (continent only). */
	expect(g, "2a02:d500::1", 0, "", 0, "");
	/* Public but in neither database. */
	expect(g, "1.1.1.1", 0, "", 0, "");
	expect(g, "2001:4860::8888", 0, "", 0, "");
	/* Not public: never looked up. */
	expect(g, "10.0.0.1", 0, "", 0, "");
	expect(g, "192.168.1.1", 0, "", 0, "");
	expect(g, "127.0.0.1", 0, "", 0, "");
	expect(g, "100.64.0.1", 0, "", 0, "");
	expect(g, "198.51.100.7", 0, "", 0, "");
	expect(g, "::1", 0, "", 0, "");
	expect(g, "fe80::1", 0, "", 0, "");
	expect(g, "fd00::1", 0, "", 0, "");
	expect(g, "2001:db8::1", 0, "", 0, "");
	dw_geoip_close(g);
}

static void test_partial_handles(void)
{
	struct dw_geoip *g;
	struct dw_addr a = A("89.160.20.112");
	struct dw_geo geo;

	memset(&geo, 0x55, sizeof(geo));
	is_int(dw_geoip_lookup(NULL, &a, &geo), 0, "NULL handle: nothing found");
	ok(geo.country[0] == '\0' && geo.asn == 0 && geo.as_org[0] == '\0',
	   "NULL handle: out cleared");

	g = dw_geoip_open(NULL, NULL, err, sizeof(err));
	ok(g != NULL, "open with nothing configured gives a handle");
	expect(g, "89.160.20.112", 0, "", 0, "");
	dw_geoip_close(g);
	dw_geoip_close(NULL); /* must not crash (ASan build) */

	g = dw_geoip_open(db("GeoIP2-Country-Test.mmdb"), NULL, err, sizeof(err));
	ok(g != NULL, "country database alone");
	expect(g, "89.160.20.112", 1, "SE", 0, "");
	expect(g, "1.128.0.1", 0, "", 0, "");
	dw_geoip_close(g);

	g = dw_geoip_open(NULL, db("GeoLite2-ASN-Test.mmdb"), err, sizeof(err));
	ok(g != NULL, "ASN database alone");
	expect(g, "89.160.20.112", 0, "", 0, "");
	expect(g, "1.128.0.1", 1, "", 1221, "Telstra_Pty_Ltd");
	dw_geoip_close(g);

	/* A City database serves as country_db, an ISP database as asn_db. */
	g = dw_geoip_open(db("GeoIP2-City-Test.mmdb"), db("GeoIP2-ISP-Test.mmdb"), err,
	                  sizeof(err));
	if (ok(g != NULL, "City-Test as country_db, ISP-Test as asn_db")) {
		expect(g, "81.2.69.160", 1, "GB", 0, "");
		expect(g, "2001:4540::1", 1, "", 9924,
		       "Taiwan_Fixed_Network,_Telco_and_Network_Service_Provider.");
	} else {
		printf("#   %s\n", err);
	}
	dw_geoip_close(g);
}

static void test_open_errors(void)
{
	char want[2 * PATH_MAX], country[PATH_MAX];
	const char *p;
	unsigned char *buf;
	size_t len;

	snprintf(country, sizeof(country), "%s", db("GeoIP2-Country-Test.mmdb"));
	p = path_in(tmp_dir, "missing.mmdb");
	snprintf(want, sizeof(want),
	         "geoip.country_db: %s: Error opening the specified MaxMind DB file (No such "
	         "file or directory)",
	         p);
	open_fails(p, NULL, want, "missing country_db");
	snprintf(want, sizeof(want),
	         "geoip.asn_db: %s: Error opening the specified MaxMind DB file (No such file "
	         "or directory)",
	         p);
	open_fails(country, p, want, "missing asn_db after a good country_db");

	if (getuid() != 0) {
		p = spill("unreadable.mmdb", "x", 1);
		chmod(p, 0);
		snprintf(want, sizeof(want),
		         "geoip.country_db: %s: Error opening the specified MaxMind DB file "
		         "(Permission denied)",
		         p);
		open_fails(p, NULL, want, "unreadable country_db");
	}
	/* as root every file is readable: that case cannot be produced here */

	snprintf(want, sizeof(want), "geoip.asn_db: %s: not a regular file", tmp_dir);
	open_fails(NULL, tmp_dir, want, "a directory as asn_db");

	p = spill("empty.mmdb", "", 0);
	snprintf(want, sizeof(want), "geoip.country_db: %s: empty file, not a MaxMind DB", p);
	open_fails(p, NULL, want, "empty file");

	buf = slurp(country, &len);
	p = spill("truncated.mmdb", buf, len / 2);
	snprintf(want, sizeof(want),
	         "geoip.country_db: %s: The MaxMind DB file contains invalid metadata", p);
	open_fails(p, NULL, want, "truncated copy (first half)");
	/* Cut inside the metadata: the marker is there, the map is not whole.
	 * libmaxminddb words this one as it likes; the prefix is ours. */
	p = spill("cut-metadata.mmdb", buf, len - 40);
	snprintf(want, sizeof(want), "geoip.country_db: %s: ", p);
	{
		struct dw_geoip *g = dw_geoip_open(p, NULL, err, sizeof(err));

		if (!ok(g == NULL && strncmp(err, want, strlen(want)) == 0 &&
		            strlen(err) > strlen(want) + 10,
		        "truncated inside the metadata"))
			printf("#   got '%s'\n", err);
		dw_geoip_close(g);
	}
	srand(42);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(rand() >> 7);
	p = spill("random.mmdb", buf, len);
	snprintf(want, sizeof(want),
	         "geoip.asn_db: %s: The MaxMind DB file contains invalid metadata", p);
	open_fails(NULL, p, want, "random bytes");
	free(buf);

	p = db("GeoIP2-City-Test-Invalid-Node-Count.mmdb");
	snprintf(want, sizeof(want),
	         "geoip.country_db: %s: The MaxMind DB file contains invalid metadata", p);
	open_fails(p, NULL, want, "MaxMind's invalid-node-count database");

	/* Wrong database types. */
	snprintf(want, sizeof(want),
	         "geoip.asn_db: %s: database type 'GeoIP2-Country' is not an ASN database",
	         country);
	open_fails(NULL, country, want, "Country database as asn_db");
	p = db("GeoLite2-ASN-Test.mmdb");
	snprintf(want, sizeof(want),
	         "geoip.country_db: %s: database type 'GeoLite2-ASN' is not a Country or City "
	         "database",
	         p);
	open_fails(p, NULL, want, "ASN database as country_db");
	p = db("GeoIP2-Anonymous-IP-Test.mmdb");
	snprintf(want, sizeof(want),
	         "geoip.asn_db: %s: database type 'GeoIP2-Anonymous-IP' is not an ASN database", p);
	open_fails(NULL, p, want, "Anonymous-IP database as asn_db");
	p = db("MaxMind-DB-test-decoder.mmdb");
	snprintf(want, sizeof(want),
	         "geoip.country_db: %s: database type 'MaxMind_DB_Decoder_Test' is not a "
	         "Country or City database",
	         p);
	open_fails(p, NULL, want, "database type sanitised in the message");

	/* A tiny buffer still gets a NUL-terminated prefix of the message. */
	{
		char small[16];
		struct dw_geoip *g = dw_geoip_open(db("nope.mmdb"), NULL, small, sizeof(small));

		ok(g == NULL && strlen(small) == sizeof(small) - 1 &&
		       strncmp(small, "geoip.country_db", sizeof(small) - 1) == 0,
		   "error cut to a small buffer");
	}
}

/** Databases whose strings were edited: what a hostile file can do. */
static void test_hostile_strings(void)
{
	struct dw_geoip *g;
	const char *asn, *country, *isp;
	struct dw_addr a;
	struct dw_geo geo;

	asn = patched(db("GeoLite2-ASN-Test.mmdb"), "asn-hostile1.mmdb", "Telstra Pty Ltd",
	              "Tel\"st\001a=P\377y\\td", 15);
	asn = patched(asn, "asn-hostile.mmdb", "AT&T Services", "\tT&T Service ", 13);
	/* "SE" is stored once; a lower-case code is not a country code. */
	country =
	    patched(db("GeoIP2-Country-Test.mmdb"), "country-hostile.mmdb", "\x42SE", "\x42se", 3);
	g = dw_geoip_open(country, asn, err, sizeof(err));
	if (!ok(g != NULL, "patched databases open")) {
		printf("#   %s\n", err);
		return;
	}
	expect(g, "1.128.0.1", 1, "", 1221, "Tel_st_a_P_y_td");
	expect(g, "12.81.92.1", 1, "", 7018, "T&T_Service");
	/* country "se" is refused; registered_country DE is used instead. */
	expect(g, "89.160.20.112", 1, "DE", 0, "");
	/* 2a02:d040::/29 has SE for both: nothing is left. */
	expect(g, "2a02:d040::1", 0, "", 0, "");
	expect(g, "81.2.69.160", 1, "GB", 0, "");
	dw_geoip_close(g);

	/* A 57-byte string whose length says 77: the 20 data bytes after it are
	 * read as text, sanitised and cut to DW_GEOIP_ORG_LEN - 1. */
	isp = patched(db("GeoIP2-ISP-Test.mmdb"), "isp-long.mmdb", "\x5d\x1cTaiwan",
	              "\x5d\x30Taiwan", 8);
	g = dw_geoip_open(NULL, isp, err, sizeof(err));
	if (ok(g != NULL, "ISP database with a lengthened string opens")) {
		a = A("2001:4540::1");
		dw_geoip_lookup(g, &a, &geo);
		ok(geo.asn == 9924 && strlen(geo.as_org) == DW_GEOIP_ORG_LEN - 1 &&
		       strncmp(geo.as_org,
		               "Taiwan_Fixed_Network,_Telco_and_Network_Service_Provider._",
		               58) == 0 &&
		       geo_sane(&geo),
		   "long organisation cut to %d bytes", DW_GEOIP_ORG_LEN - 1);
		printf("#   as_org='%s'\n", geo.as_org);
	}
	dw_geoip_close(g);
}

/** Small deterministic generator (xorshift32) for the corruption rounds. */
static uint32_t rng_state;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/**
 * Flip random bytes of a database, many times over: every copy must either
 * be refused with a "KEY: PATH: " message or answer lookups with sane fields.
 */
static void corrupt_rounds(const char *name, bool as_asn, int rounds)
{
	static const char *const probes[] = {"1.128.0.1",    "12.81.92.1",    "12.81.96.1",
	                                     "2600:7000::1", "89.160.20.112", "81.2.69.160",
	                                     "2a02:d040::1", "67.43.156.1",   "1.1.1.1",
	                                     "2001:4540::1", "216.160.83.56", "202.196.224.1"};
	size_t len, prefix_len;
	unsigned char *orig = slurp(db(name), &len), *buf = malloc(len);
	int opened = 0, refused = 0, insane = 0, badmsg = 0;
	char prefix[PATH_MAX + 32], p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path_in(tmp_dir, "corrupt.mmdb"));
	snprintf(prefix, sizeof(prefix), "%s: %s: ", as_asn ? "geoip.asn_db" : "geoip.country_db",
	         p);
	prefix_len = strlen(prefix);
	rng_state = 2463534242u;
	for (int r = 0; r < rounds; r++) {
		struct dw_geoip *g;
		int flips = 1 + (int)(rng() % 16);

		memcpy(buf, orig, len);
		for (int i = 0; i < flips; i++)
			buf[rng() % len] ^= (unsigned char)(1 + rng() % 255);
		spill("corrupt.mmdb", buf, len);
		g = as_asn ? dw_geoip_open(NULL, p, err, sizeof(err))
		           : dw_geoip_open(p, NULL, err, sizeof(err));
		if (g == NULL) {
			refused++;
			if (strncmp(err, prefix, prefix_len) != 0 && badmsg++ == 0)
				printf("#   round %d: message '%s'\n", r, err);
			continue;
		}
		opened++;
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			struct dw_addr a = A(probes[i]);
			struct dw_geo geo;

			dw_geoip_lookup(g, &a, &geo);
			if (!geo_sane(&geo) && insane++ == 0)
				printf("#   round %d %s: cc='%s' org='%s'\n", r, probes[i],
				       geo.country, geo.as_org);
		}
		dw_geoip_close(g);
	}
	ok(insane == 0 && badmsg == 0,
	   "%s: %d corrupted copies, %d opened and looked up sanely, %d refused with KEY: PATH:",
	   name, rounds, opened, refused);
	free(orig);
	free(buf);
}

static void test_format(void)
{
	struct dw_geo full = {"SE", 1221, "Telstra_Pty_Ltd"}, none = {"", 0, ""};
	struct dw_geo asn_only = {"", 7018, ""};
	const char *want = " client_cc=SE client_asn=1221 client_as_org=Telstra_Pty_Ltd";
	char buf[128];
	size_t n, wl = strlen(want);

	n = dw_geoip_format(&full, "client", buf, sizeof(buf));
	ok(n == wl && strcmp(buf, want) == 0, "all three fields with a prefix");
	n = dw_geoip_format(&full, "", buf, sizeof(buf));
	ok(strcmp(buf, " cc=SE asn=1221 as_org=Telstra_Pty_Ltd") == 0 && n == strlen(buf),
	   "empty prefix: bare keys");
	n = dw_geoip_format(&full, NULL, buf, sizeof(buf));
	ok(strcmp(buf, " cc=SE asn=1221 as_org=Telstra_Pty_Ltd") == 0 && n == strlen(buf),
	   "NULL prefix: bare keys");
	n = dw_geoip_format(&asn_only, "target", buf, sizeof(buf));
	ok(strcmp(buf, " target_asn=7018") == 0 && n == 16, "only the known field");
	buf[0] = 'x';
	n = dw_geoip_format(&none, "client", buf, sizeof(buf));
	ok(n == 0 && buf[0] == '\0', "nothing known: nothing written");
	n = dw_geoip_format(NULL, "client", buf, sizeof(buf));
	ok(n == 0 && buf[0] == '\0', "NULL geo: nothing written");

	n = dw_geoip_format(&full, "client", buf, wl + 1);
	ok(n == wl && strcmp(buf, want) == 0, "exact fit");
	n = dw_geoip_format(&full, "client", buf, wl);
	ok(n == strlen(" client_cc=SE client_asn=1221") &&
	       strcmp(buf, " client_cc=SE client_asn=1221") == 0,
	   "one byte short: the last field is left out whole");
	n = dw_geoip_format(&full, "client", buf, 14);
	ok(n == 13 && strcmp(buf, " client_cc=SE") == 0, "room for the first field only");
	n = dw_geoip_format(&full, "client", buf, 13);
	ok(n == 0 && buf[0] == '\0', "room for nothing whole");
	buf[0] = 'x';
	n = dw_geoip_format(&full, "client", buf, 0);
	ok(n == 0 && buf[0] == 'x', "len 0: buffer untouched");
	/* The fields are meant to be appended: compose a line. */
	{
		char line[64];
		size_t pos = (size_t)snprintf(line, sizeof(line), "verdict client=192.0.2.1");

		pos += dw_geoip_format(&asn_only, "client", line + pos, sizeof(line) - pos);
		ok(strcmp(line, "verdict client=192.0.2.1 client_asn=7018") == 0 &&
		       pos == strlen(line),
		   "appended to a line");
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	data_dir = getenv("DW_GEOIP_TESTDATA");
	if (data_dir == NULL || *data_dir == '\0') {
		printf("Bail out! DW_GEOIP_TESTDATA is not set (run t/geoip.t, which sets it)\n");
		return 1;
	}
	if (access(db("GeoIP2-Country-Test.mmdb"), R_OK) != 0) {
		printf("Bail out! no GeoIP2-Country-Test.mmdb in %s\n", data_dir);
		return 1;
	}
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/dwgeoip-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(tmp_dir) == NULL) {
		printf("Bail out! mkdtemp %s failed\n", tmp_dir);
		return 1;
	}

	test_lookups();
	test_partial_handles();
	test_open_errors();
	test_hostile_strings();
	corrupt_rounds("GeoLite2-ASN-Test.mmdb", true, 400);
	corrupt_rounds("GeoIP2-Country-Test.mmdb", false, 400);
	corrupt_rounds("GeoIP2-ISP-Test.mmdb", true, 200);
	test_format();

	{
		static const char *const files[] = {"unreadable.mmdb",  "empty.mmdb",
		                                    "truncated.mmdb",   "cut-metadata.mmdb",
		                                    "random.mmdb",      "asn-hostile1.mmdb",
		                                    "asn-hostile.mmdb", "country-hostile.mmdb",
		                                    "isp-long.mmdb",    "corrupt.mmdb"};

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			unlink(path_in(tmp_dir, files[i]));
		rmdir(tmp_dir);
	}
	return done_testing();
}
