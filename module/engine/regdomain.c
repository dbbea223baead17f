/**
 * \file
 * Registrable domains (regdomain.h).
 */
#include "regdomain.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>

#include "feature.h"

#include <string.h>

struct dw_regdomain {
	const psl_ctx_t *psl;
	psl_ctx_t *owned; /**< psl_latest()'s copy, freed with the struct */
	size_t nextra;
	uint8_t extra_len[DW_REGDOMAIN_MAX_EXTRA];
	uint8_t extra[DW_REGDOMAIN_MAX_EXTRA][DW_NAME_MAXWIRE]; /**< wire, lower case */
};

/** Load the newest list once. */
struct dw_regdomain *dw_regdomain_new(const char *const *extra, size_t nextra, char *err,
				      size_t errlen)
{
	struct dw_regdomain *rd = calloc(1, sizeof(*rd));
	size_t i, k;
	if (!rd) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (nextra > DW_REGDOMAIN_MAX_EXTRA) {
		snprintf(err, errlen, "public_suffixes: at most %d entries, got %zu",
			 DW_REGDOMAIN_MAX_EXTRA, nextra);
		free(rd);
		return NULL;
	}
	for (i = 0; i < nextra; i++) {
		int l = dw_name_from_text(extra[i], rd->extra[i], DW_NAME_MAXWIRE);
		if (l < 2) {
			snprintf(err, errlen, "public_suffixes: '%s' is not a domain name", extra[i]);
			free(rd);
			return NULL;
		}
		for (k = 0; k < (size_t)l; k++)
			if (rd->extra[i][k] >= 'A' && rd->extra[i][k] <= 'Z')
				rd->extra[i][k] |= 0x20;
		rd->extra_len[i] = (uint8_t)l;
	}
	rd->nextra = nextra;
	rd->owned = psl_latest(NULL);
	rd->psl = rd->owned ? rd->owned : psl_builtin();
	if (!rd->psl) {
		snprintf(err, errlen,
			 "no Public Suffix List: install the Debian package publicsuffix "
			 "(libpsl found neither its file nor a built-in list)");
		free(rd);
		return NULL;
	}
	return rd;
}

/** Release the list. */
void dw_regdomain_free(struct dw_regdomain *rd)
{
	if (!rd)
		return;
	if (rd->owned)
		psl_free(rd->owned);
	free(rd);
}

/** A byte libpsl may see without converting (LDH plus '_'), folded. */
static int plain_byte(uint8_t c, char *out)
{
	if (c >= 'A' && c <= 'Z')
		c = (uint8_t)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
		*out = (char)c;
		return 1;
	}
	return 0;
}

/** Label offsets of a wire name; returns their count, -1 if malformed. */
static int split(const uint8_t *q, size_t len, uint8_t offs[128])
{
	size_t p = 0;
	int n = 0;
	if (!q || len == 0 || len > 255)
		return -1;
	while (p < len && q[p] != 0) {
		if (q[p] > 63 || p + 1 + q[p] >= len || n == 127)
			return -1;
		offs[n++] = (uint8_t)p;
		p += 1u + q[p];
	}
	return p == len - 1 ? n : -1;
}

/** The first label i >= 1 whose suffix is an extra public suffix: the
 *  registrable domain is then label i - 1; -1 when none matches. */
static int extra_match(const struct dw_regdomain *rd, const uint8_t *q, size_t len,
		       const uint8_t *offs, int n)
{
	int i;
	size_t k, j;
	for (i = 1; i < n && rd->nextra; i++) {
		size_t sl = len - offs[i];
		for (k = 0; k < rd->nextra; k++) {
			if (rd->extra_len[k] != sl)
				continue;
			for (j = 0; j < sl; j++) {
				uint8_t c = q[offs[i] + j];
				if (c >= 'A' && c <= 'Z')
					c |= 0x20;
				if (c != rd->extra[k][j])
					break;
			}
			if (j == sl)
				return i - 1;
		}
	}
	return -1;
}

/** The registrable domain's offset: libpsl on a folded text copy for plain
 *  names, the last two labels for the rest. */
int dw_regdomain_of(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off)
{
	uint8_t offs[128];
	char text[256];
	size_t t = 0;
	int n = split(qname, len, offs), i, plain = 1, dots;
	const char *r;
	if (n < 0 || !rd || !off)
		return -1;
	if (n == 0) {
		*off = len - 1;
		return 0;
	}
	for (i = 0; i < n && plain; i++) {
		unsigned k, l = qname[offs[i]];
		if (i)
			text[t++] = '.';
		for (k = 0; k < l && plain; k++)
			plain = plain_byte(qname[offs[i] + 1 + k], &text[t++]);
	}
	if (!plain) {
		dots = n >= 2 ? n - 2 : 0;
	} else {
		text[t] = '\0';
		r = psl_registrable_domain(rd->psl, text);
		dots = 0; /* NULL: a public suffix itself, or one label: its own domain */
		for (t = 0; r && text + t < r; t++)
			dots += text[t] == '.';
	}
	i = extra_match(rd, qname, len, offs, n);
	if (i >= 0 && i < dots)
		dots = i;
	*off = offs[dots];
	return dots;
}

/** FNV-1a over the folded bytes, seeded by the key, finished with a mix. */
uint32_t dw_name_hash32(uint64_t key, const uint8_t *wire, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ key;
	size_t i;
	for (i = 0; i < len; i++) {
		uint8_t c = wire[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c | 0x20);
		h = (h ^ c) * 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}
