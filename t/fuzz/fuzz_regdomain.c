/**
 * \file
 * libFuzzer target: the registrable-domain lookups (module/engine/regdomain.c)
 * and the tunnel payload weight (module/engine/tunnel.c), which run on names a
 * client chose (MX, NXDOMAIN and long-label queries).
 *
 * Input: the bytes of a wire-format name (any bytes, any length), each call on
 * an exactly-sized heap copy so that a read past len is caught.
 * Invariants checked on top of ASan/UBSan:
 * - dw_regdomain_of() returns -1 or a label count, and then an offset inside
 *   the name that starts a label of it;
 * - dw_regdomain_tld_listed() returns -1, 0 or 1, and never -1 for a name
 *   dw_regdomain_of() accepted;
 * - dw_tunnel_weight() is 0 exactly when dw_tunnel_name() says no, and at
 *   most DW_TUNNEL_MAX_WEIGHT.
 */
#include <stdint.h>

#include "fuzz_util.h"
#include "regdomain.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dw_regdomain *rd;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const extra[] = {"victim.lab", "test"};
	uint8_t *p;
	size_t off = 0, q;
	int r, t;

	if (!rd) {
		char err[256];
		rd = dw_regdomain_new(extra, 2, err, sizeof(err));
		FUZZ_CHECK(rd != NULL, "%s", err);
	}
	p = malloc(size ? size : 1);
	FUZZ_CHECK(p != NULL, "out of memory");
	memcpy(p, data, size);
	r = dw_regdomain_of(rd, size ? p : NULL, size, &off);
	t = dw_regdomain_tld_listed(rd, size ? p : NULL, size);
	FUZZ_CHECK(t >= -1 && t <= 1, "tld_listed returned %d", t);
	if (r >= 0) {
		FUZZ_CHECK(off < size, "offset %zu outside a name of %zu bytes", off, size);
		for (q = 0; q < off; q += 1u + p[q]) /* off is on a label boundary */
			FUZZ_CHECK(p[q] != 0, "offset %zu past the root label", off);
		FUZZ_CHECK(q == off, "offset %zu is not a label start", off);
		FUZZ_CHECK(t != -1, "a name regdomain_of accepted is malformed to tld_listed");
		{
			unsigned w = dw_tunnel_weight(p, off);
			int n = dw_tunnel_name(p, off);
			FUZZ_CHECK(w <= DW_TUNNEL_MAX_WEIGHT, "weight %u", w);
			FUZZ_CHECK((w == 0) == (n == 0), "weight %u but tunnel_name %d", w, n);
		}
	}
	free(p);
	return 0;
}
