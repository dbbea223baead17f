/**
 * \file
 * libFuzzer target: the query feature extractor (module/feature.c), which
 * runs on every client query with a name the client chose.
 *
 * Input: two bytes of qtype (network order), then the wire-format qname.
 * Invariants checked on top of ASan/UBSan:
 * - dw_features_of() returns 0 or -1; on -1 the flags are 0; qclass is
 *   always the class of the qtype; a literal is present exactly when
 *   IPLIT or PTR_FORWARD is set;
 * - a name it accepts prints with dw_name_to_text() as text that
 *   dw_name_from_text() turns back into exactly the same bytes (the log shows
 *   the very name that was asked);
 * - the input read as presentation text: a name dw_name_from_text() accepts
 *   is accepted by dw_features_of() as well.
 */
#include <stdint.h>

#include "feature.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The default keywords of dnswarden.yaml(5) and a few signature names. */
static const char *const keywords[] = {"mail", "smtp", "mx", "ns", "relay", "gate"};
static const char *const signatures[] = {"a.root-servers.net", "wpad.example", "x\\.y.test",
                                         "\\000.odd"};
static struct dw_feature_set *fs;

/** Run the extractor on one wire name and check what it says. */
static int check_wire(const uint8_t *name, size_t len, uint16_t qtype)
{
	struct dw_features f;
	int rc = dw_features_of(fs, name, len, qtype, &f);

	FUZZ_CHECK(rc == 0 || rc == -1, "dw_features_of returned %d", rc);
	FUZZ_CHECK(f.qclass == dw_qclass_of(qtype), "qclass %d for qtype %u", (int)f.qclass, qtype);
	FUZZ_CHECK(f.flags < (1u << DW_FEAT_COUNT), "unknown flag bits %#x", f.flags);
	if (rc != 0) {
		FUZZ_CHECK(f.flags == 0, "flags %#x on a malformed name", f.flags);
		return rc;
	}
	FUZZ_CHECK((f.literal.family != 0) ==
	               ((f.flags & (DW_FEAT_IPLIT | DW_FEAT_PTR_FORWARD)) != 0),
	           "literal family %u with flags %#x", f.literal.family, f.flags);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[DW_NAME_TEXT_MAX], in[DW_NAME_TEXT_MAX];
	uint8_t wire[DW_NAME_MAXWIRE + 1];
	uint16_t qtype;
	const uint8_t *name;
	size_t len;
	int n;

	if (fs == NULL) {
		char err[256];
		fs = dw_feature_set_new(keywords, sizeof(keywords) / sizeof(keywords[0]),
		                        signatures, sizeof(signatures) / sizeof(signatures[0]), err,
		                        sizeof(err));
		FUZZ_CHECK(fs != NULL, "feature set: %s", err);
	}
	if (size < 2)
		return 0;
	qtype = (uint16_t)(data[0] << 8 | data[1]);
	name = data + 2;
	len = size - 2;

	/* a private copy of exactly len bytes: an overread is an ASan report */
	{
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, name, len);
		n = check_wire(copy, len, qtype);
		dw_name_to_text(copy, len, text, sizeof(text));
		FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL, "text not terminated");
		if (n == 0) {
			int w = dw_name_from_text(text, wire, sizeof(wire));
			FUZZ_CHECK(w >= 0 && (size_t)w == len && memcmp(wire, copy, len) == 0,
			           "name printed as '%s' reads back as %d bytes, not the %zu asked",
			           text, w, len);
		}
		free(copy);
	}

	/* the same bytes as presentation text */
	if (len < sizeof(in)) {
		memcpy(in, name, len);
		in[len] = '\0';
		n = dw_name_from_text(in, wire, sizeof(wire));
		if (n > 0)
			FUZZ_CHECK(check_wire(wire, (size_t)n, qtype) == 0,
			           "'%s' is a valid name but dw_features_of refuses it", in);
	}
	return 0;
}
