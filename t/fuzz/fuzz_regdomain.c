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
 * - differential: both give what reference() computes with libpsl itself
 *   (psl_registrable_domain() on the case-folded text of a name of letters,
 *   digits, '-' and '_'; the last two labels of any other name; the extra
 *   public suffixes; for the TLD test psl_is_public_suffix2() without the
 *   implicit "*" rule), the offset for names under a TLD of the list (under
 *   an unlisted one libpsl's implicit "*" rule answers otherwise than the
 *   documented rule); the same answers again (the name memo's) and for the
 *   name with its letters' case flipped; dw_regdomain_scan() gives both at
 *   once;
 * - dw_tunnel_weight() is 0 exactly when dw_tunnel_name() says no, and at
 *   most DW_TUNNEL_MAX_WEIGHT.
 */
#include <libpsl.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "regdomain.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dw_regdomain *rd;
static psl_ctx_t *psl_own;
static const psl_ctx_t *psl;
static const char *const extra[] = {"victim.lab", "test"};

/** A byte libpsl may see unconverted, folded into *c. */
static int plain(uint8_t b, char *c)
{
	if (b >= 'A' && b <= 'Z')
		b = (uint8_t)(b | 0x20);
	*c = (char)b;
	return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_';
}

/** The answers by libpsl and the extras, byte by byte: the label index of
 *  the registrable domain (-1 malformed) with its offset and the TLD test. */
static int reference(const uint8_t *q, size_t len, size_t *off, int *listed, int *psl_says)
{
	size_t offs[128], p = 0, t = 0, k, e;
	char text[256], tld[64];
	int n = 0, i, all = 1, tldp = 1, dots;
	*psl_says = 0;
	if (len == 0 || len > 255)
		return -1;
	while (p < len && q[p] != 0) {
		if (q[p] > 63 || p + 1 + q[p] >= len || n == 127)
			return -1;
		offs[n++] = p;
		p += 1u + q[p];
	}
	if (p != len - 1)
		return -1;
	if (n == 0) {
		*off = len - 1;
		*listed = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (i)
			text[t++] = '.';
		tldp = 1;
		for (k = 1; k <= q[offs[i]]; k++) {
			int ok = plain(q[offs[i] + k], &text[t++]);
			all &= ok;
			tldp &= ok;
		}
	}
	text[t] = '\0';
	if (all) {
		const char *r = psl_registrable_domain(psl, text), *c;
		dots = 0;
		for (c = text; r && c < r; c++)
			dots += *c == '.';
	} else {
		dots = n >= 2 ? n - 2 : 0;
	}
	for (i = 1; i < n; i++) { /* the first extra suffix from the left */
		char suf[256];
		size_t sl = 0, j;
		for (j = (size_t)i; j < (size_t)n; j++) {
			if (j > (size_t)i)
				suf[sl++] = '.';
			for (k = 1; k <= q[offs[j]]; k++) {
				uint8_t b = q[offs[j] + k];
				suf[sl++] = (char)(b >= 'A' && b <= 'Z' ? b | 0x20 : b);
			}
		}
		suf[sl] = '\0';
		for (e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
			if (strlen(extra[e]) == sl && memcmp(suf, extra[e], sl) == 0)
				break;
		if (e < sizeof(extra) / sizeof(extra[0])) {
			if (i - 1 < dots)
				dots = i - 1;
			break;
		}
	}
	*off = offs[dots];
	p = offs[n - 1];
	for (k = 0; k < q[p]; k++)
		tld[k] = (char)(q[p + 1 + k] >= 'A' && q[p + 1 + k] <= 'Z' ? q[p + 1 + k] | 0x20
		                                                           : q[p + 1 + k]);
	tld[k] = '\0';
	if (!tldp)
		*listed = 0;
	else if (strncmp(tld, "xn--", 4) == 0 || strcmp(tld, "lab") == 0 ||
	         strcmp(tld, "test") == 0)
		*listed = 1;
	else
		*listed =
		    psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) ? 1 : 0;
	*psl_says = tldp && strncmp(tld, "xn--", 4) != 0 &&
	            psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
	return dots;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;
	size_t off = 0, q, roff = 0, soff = 0, off0 = 0;
	int r = -1, t = -1, want, wlisted = -1, k, sl = -1, r0 = -1, psl_says;

	if (!rd) {
		char err[256];
		rd = dw_regdomain_new(extra, 2, err, sizeof(err));
		FUZZ_CHECK(rd != NULL, "%s", err);
		psl_own = psl_latest(NULL);
		psl = psl_own ? psl_own : psl_builtin();
		FUZZ_CHECK(psl != NULL, "no libpsl list");
	}
	p = malloc(size ? size : 1);
	FUZZ_CHECK(p != NULL, "out of memory");
	memcpy(p, data, size);
	want = reference(p, size, &roff, &wlisted, &psl_says);
	for (k = 0; k < 3; k++) { /* again: the name memo's answer; then in other case */
		if (k == 2)
			for (q = 0; q < size; q++)
				if ((p[q] | 0x20) >= 'a' && (p[q] | 0x20) <= 'z')
					p[q] ^= 0x20;
		r = dw_regdomain_of(rd, size ? p : NULL, size, &off);
		t = dw_regdomain_tld_listed(rd, size ? p : NULL, size);
		FUZZ_CHECK((r < 0) == (want < 0), "call %d: dw_regdomain_of %d, reference %d", k, r,
		           want);
		FUZZ_CHECK(t == (want < 0 ? -1 : wlisted), "call %d: tld_listed %d, libpsl %d", k,
		           t, wlisted);
		/* libpsl's own answer under a TLD of the list; under any other TLD
		 * (libpsl's implicit "*" rule) the documented answer differs */
		FUZZ_CHECK(!psl_says || (r == want && off == roff),
		           "call %d: dw_regdomain_of %d (offset %zu), libpsl %d (%zu)", k, r, off,
		           want, roff);
		FUZZ_CHECK(k == 0 || (r == r0 && off == off0),
		           "call %d: %d (%zu), first call %d (%zu)", k, r, off, r0, off0);
		FUZZ_CHECK(dw_regdomain_scan(rd, size ? p : NULL, size, &soff, &sl) == r &&
		               (r < 0 || (soff == off && sl == t)),
		           "call %d: dw_regdomain_scan differs", k);
		if (k == 0) {
			r0 = r;
			off0 = off;
		}
	}
	memcpy(p, data, size);
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
