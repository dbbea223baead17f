/**
 * \file
 * libFuzzer target: dnswarden-scan's line parsers (tools/scan/lines.c):
 * Zeek dns.log TSV (with its header lines), Zeek JSON lines and Unbound
 * log-queries / log-replies lines.
 *
 * The first byte picks the reader, the rest is split into lines (a TSV run
 * keeps its #separator/#fields state across lines, as the scanner does).
 * Invariants checked on top of ASan/UBSan: a record has a client of family
 * 4 or 6, a kind the scanner knows, an rcode in -1..15, and a qname that is
 * either absent or a well-formed wire name of at most 255 bytes that prints
 * and parses back to the same length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "fuzz_util.h"
#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The invariants of one record. */
static void check_rec(const struct dw_scan_rec *r)
{
	FUZZ_CHECK(r->client.family == 4 || r->client.family == 6, "client family %u",
	           r->client.family);
	FUZZ_CHECK(r->server.family == 0 || r->server.family == 4 || r->server.family == 6,
	           "server family %u", r->server.family);
	FUZZ_CHECK(r->kind <= DW_SCAN_PAIR, "kind %u", r->kind);
	FUZZ_CHECK(r->rcode >= -1 && r->rcode <= 15, "rcode %d", r->rcode);
	FUZZ_CHECK(r->t >= 0, "time %lld", (long long)r->t);
	FUZZ_CHECK(r->qname_len <= 255, "qname_len %zu", r->qname_len);
	if (r->qname_len) {
		char text[DW_NAME_TEXT_MAX];
		uint8_t wire[256];
		int n;
		dw_name_to_text(r->qname, r->qname_len, text, sizeof(text));
		/* a malformed wire name prints with "<malformed>" at its END; a name
		 * may hold those characters itself ("www.<malformed>x.org.") */
		FUZZ_CHECK(strlen(text) < 11 ||
		               strcmp(text + strlen(text) - 11, "<malformed>") != 0,
		           "malformed qname '%s'", text);
		n = dw_name_from_text(text, wire, sizeof(wire));
		FUZZ_CHECK(n == (int)r->qname_len, "'%s' parses back to %d bytes, not %zu", text, n,
		           r->qname_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dw_scan_zeek z;
	struct dw_scan_rec r;
	const char *s, *end;
	char *copy;
	int mode;
	if (size < 1)
		return 0;
	mode = data[0] % 3;
	copy = malloc(size); /* lines without the mode byte, not NUL-terminated */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	dw_scan_zeek_init(&z);
	s = copy;
	end = copy + size - 1;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		int k;
		memset(&r, 0xa5, sizeof(r));
		if (mode == 0)
			k = dw_scan_zeek_line(&z, s, len, &r);
		else if (mode == 1)
			k = dw_scan_zeek_json(s, len, &r);
		else
			k = dw_scan_unbound_line(s, len, 2026, &r);
		FUZZ_CHECK(k >= -1 && k <= 1, "reader returned %d", k);
		if (k == 1)
			check_rec(&r);
		s += len + 1;
	}
	(void)dw_scan_qtype((const char *)data, size > 16 ? 16 : size);
	(void)dw_scan_rcode((const char *)data, size > 16 ? 16 : size);
	free(copy);
	return 0;
}
