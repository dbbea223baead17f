/**
 * \file
 * libFuzzer target: the query feature extractor (module/engine/feature.c), which
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
 *   is accepted by dw_features_of() as well;
 * - the KEYWORD, IPLIT and SIGNATURE flags agree with small reference models
 *   of feature.h's rules written here; PTR flags only on PTR queries, and a
 *   bare IPv4 literal asked as PTR is PTR_FORWARD and PTR_MALFORMED.
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

/** Labels of a valid wire name: offsets and lengths (at most 128). */
struct labels {
	size_t n, off[128], len[128];
};

/** Split a name dw_features_of() accepted. */
static void split(const uint8_t *name, struct labels *l)
{
	size_t p = 0;
	l->n = 0;
	while (name[p] != 0 && l->n < 128) {
		l->off[l->n] = p + 1;
		l->len[l->n++] = name[p];
		p += 1u + name[p];
	}
}

/** ASCII lower case. */
static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/** Reference model of KEYWORD: the first label starts with a keyword. */
static int want_keyword(const uint8_t *name, const struct labels *l)
{
	if (l->n == 0)
		return 0;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		size_t kl = strlen(keywords[k]), i;
		if (kl > l->len[0])
			continue;
		for (i = 0; i < kl && lc(name[l->off[0] + i]) == keywords[k][i]; i++)
			;
		if (i == kl)
			return 1;
	}
	return 0;
}

/** Reference model of the IPv4 literal: four labels of 1..3 digits <= 255. */
static int want_literal(const uint8_t *name, const struct labels *l, uint8_t o[4])
{
	if (l->n != 4)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		unsigned v = 0;
		if (l->len[i] < 1 || l->len[i] > 3)
			return 0;
		for (size_t j = 0; j < l->len[i]; j++) {
			uint8_t c = name[l->off[i] + j];
			if (c < '0' || c > '9')
				return 0;
			v = v * 10 + (c - '0');
		}
		if (v > 255)
			return 0;
		o[i] = (uint8_t)v;
	}
	return 1;
}

/** Reference model of SIGNATURE: equal, ASCII case-insensitively, to one. */
static int want_signature(const uint8_t *name, size_t len)
{
	static uint8_t sig[sizeof(signatures) / sizeof(signatures[0])][DW_NAME_MAXWIRE];
	static int sl[sizeof(signatures) / sizeof(signatures[0])];
	size_t k, i;

	for (k = 0; k < sizeof(signatures) / sizeof(signatures[0]); k++) {
		if (sl[k] == 0)
			sl[k] = dw_name_from_text(signatures[k], sig[k], sizeof(sig[k]));
		if ((size_t)sl[k] != len)
			continue;
		for (i = 0; i < len && lc(sig[k][i]) == lc(name[i]); i++)
			;
		if (i == len)
			return 1;
	}
	return 0;
}

/** Compare the flags with the reference models of the simple rules. */
static void check_model(const uint8_t *name, size_t len, uint16_t qtype,
                        const struct dw_features *f)
{
	struct labels l;
	uint8_t o[4];
	int lit, aq = qtype == 1, a4 = qtype == 1 || qtype == 28;

	split(name, &l);
	lit = want_literal(name, &l, o);
	FUZZ_CHECK(!!(f->flags & DW_FEAT_KEYWORD) == (a4 && want_keyword(name, &l)),
	           "keyword flag %#x for qtype %u", f->flags, qtype);
	FUZZ_CHECK(!!(f->flags & DW_FEAT_IPLIT) == (aq && lit), "ip literal flag %#x for qtype %u",
	           f->flags, qtype);
	FUZZ_CHECK(!!(f->flags & DW_FEAT_SIGNATURE) == want_signature(name, len),
	           "signature flag %#x", f->flags);
	if (qtype != 12)
		FUZZ_CHECK(!(f->flags & (DW_FEAT_PTR_MALFORMED | DW_FEAT_PTR_FORWARD)),
		           "PTR flags %#x on qtype %u", f->flags, qtype);
	if (qtype == 12 && lit)
		FUZZ_CHECK((f->flags & (DW_FEAT_PTR_MALFORMED | DW_FEAT_PTR_FORWARD)) ==
		               (DW_FEAT_PTR_MALFORMED | DW_FEAT_PTR_FORWARD),
		           "bare literal PTR flags %#x", f->flags);
	if (f->flags & DW_FEAT_IPLIT)
		FUZZ_CHECK(f->literal.family == 4 && memcmp(f->literal.b, o, 4) == 0,
		           "literal bytes differ from the name");
}

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
	check_model(name, len, qtype, &f);
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
