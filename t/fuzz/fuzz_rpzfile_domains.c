/**
 * \file
 * libFuzzer target: the reader of a peer zone's QNAME triggers
 * (module/engine/rpzfile_domains.c), as a fleet member runs it on the zone
 * file Unbound wrote after a transfer from a peer.
 *
 * Input: a whole zone file, read for zone a.dnswarden.rpz. Invariants on top
 * of ASan/UBSan: the count returned equals the callbacks made; every domain
 * reported is a non-empty name of letters, digits, '-', '_' and '.', lower
 * case, with no final dot, shorter than 254 bytes, no label starting
 * "rpz-" (another trigger kind) and no "*." left; every action is one a
 * QNAME trigger encodes (nxdomain, nodata, drop, tcp-only, sinkhole).
 */
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "fuzz_util.h"
#include "rpzfile_domains.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The callbacks of one read. */
struct seen {
	long n;
};

/** Check one reported domain block. */
static int check_one(void *arg, const char *domain, enum dw_action action)
{
	struct seen *s = arg;
	size_t i, n = strlen(domain);
	const char *p;
	FUZZ_CHECK(n > 0 && n < 254, "domain of length %zu", n);
	FUZZ_CHECK(domain[n - 1] != '.', "final dot in '%s'", domain);
	FUZZ_CHECK(strncmp(domain, "*.", 2) != 0, "wildcard left in '%s'", domain);
	for (i = 0; i < n; i++) {
		char c = domain[i];
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		               c == '_' || c == '.',
		           "byte 0x%02x in '%s'", (unsigned char)c, domain);
	}
	for (p = domain; p; p = strchr(p, '.'), p = p ? p + 1 : NULL)
		FUZZ_CHECK(strncmp(p, "rpz-", 4) != 0, "another trigger kind: '%s'", domain);
	FUZZ_CHECK(action == DW_ACT_NXDOMAIN || action == DW_ACT_NODATA || action == DW_ACT_DROP ||
	               action == DW_ACT_TCP_ONLY || action == DW_ACT_SINKHOLE,
	           "action %d for '%s'", (int)action, domain);
	s->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], err[512];
	struct seen s = {0};
	long n;
	fuzz_path("zone", path, sizeof(path));
	fuzz_write(path, data, size);
	n = dw_rpzfile_read_domains(path, "a.dnswarden.rpz.", check_one, &s, err, sizeof(err));
	FUZZ_CHECK(n == s.n, "returned %ld, reported %ld", n, s.n);
	return 0;
}
