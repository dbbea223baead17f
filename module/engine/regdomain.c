/**
 * \file
 * Registrable domains (regdomain.h).
 */
#include "regdomain.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>

#include "feature.h"
#include "siphash.h"

#include <ctype.h>
#include <stdatomic.h>
#include <string.h>

/** Memo of libpsl's answers: slots (a power of two), each one word. */
#define MEMO_SLOTS 4096u

struct dw_regdomain {
	const psl_ctx_t *psl;
	psl_ctx_t *owned; /**< psl_latest()'s copy, freed with the struct */
	uint64_t k0, k1;  /**< random key of suffix_hash(): the sets and the memo */
	/* The packaged list's rules as keyed hashes (open addressing, 0 = empty):
	 * exact rules and the bases B of wildcard rules "*.B". A suffix S can be
	 * public only when S is a rule or a wildcard base (libpsl counts B itself
	 * public), parent(S) is a wildcard base, S is one
	 * label or S holds an "xn--" label (IDN rules are UTF-8 in the file);
	 * every other suffix is not, without asking libpsl. NULL: no file, every
	 * suffix is asked. */
	uint64_t *exact, *wild;
	uint32_t exact_mask, wild_mask;
	int max_labels; /**< most labels of a rule ("*" counted); longer suffixes are never public
	                 */
	_Atomic uint64_t memo[MEMO_SLOTS]; /**< (hash & ~1) | answer; 0 = empty */
	size_t nextra;
	uint8_t extra_len[DW_REGDOMAIN_MAX_EXTRA];
	uint8_t extra[DW_REGDOMAIN_MAX_EXTRA][DW_NAME_MAXWIRE]; /**< wire, lower case */
};

/** Insert a hash into an open-addressing set (never full: sized 2x). */
static void set_add(uint64_t *set, uint32_t mask, uint64_t h)
{
	uint32_t i = (uint32_t)h & mask;
	h |= 1; /* never 0, the empty mark */
	while (set[i] && set[i] != h)
		i = (i + 1) & mask;
	set[i] = h;
}

/** Whether a hash is in a set. */
static int set_has(const uint64_t *set, uint32_t mask, uint64_t h)
{
	uint32_t i = (uint32_t)h & mask;
	h |= 1;
	while (set[i]) {
		if (set[i] == h)
			return 1;
		i = (i + 1) & mask;
	}
	return 0;
}

/** The keyed 64-bit hash of a folded suffix's text (n bytes) that the rule
 *  sets and the memo use: dw_name_hash()'s multiply-xorshift words with a
 *  64-bit final mix, about 30 instructions for a short suffix instead of
 *  SipHash's 80 (a name asks for 2 to 4 suffixes). Not SipHash: the sets
 *  hold only the packaged list's rules, and a collision a client cannot
 *  aim for without the key would make one suffix's memoised answer another
 *  one's, i.e. one name's registrable domain wrong, no worse. */
static inline uint64_t suffix_hash(const struct dw_regdomain *rd, const char *s, size_t n)
{
	uint64_t h = dw_name_hash_start(rd->k0, n), m = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&m, s + i, 8);
		h = dw_name_hash_word(h, dw_fold8(m));
	}
	if (i < n) {
		if (n >= 8) {
			memcpy(&m, s + n - 8, 8); /* the last 8 bytes, overlapping */
		} else {
			m = 0;
			for (size_t j = 0; j < n; j++)
				m |= (uint64_t)(uint8_t)s[j] << (8 * j);
		}
		h = dw_name_hash_word(h, dw_fold8(m));
	}
	h = (h ^ rd->k1) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 29;
}

/** Read the packaged list's rules into the two sets (engine build, module
 *  thread). 0, or -1 when the file cannot be used (then every suffix goes to
 *  libpsl, which stays the authority either way). */
static int load_rules(struct dw_regdomain *rd, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t ne = 0, nw = 0, cap;
	uint32_t m;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) { /* first pass: count */
		if (line[0] == '*' && line[1] == '.')
			nw++;
		else if (line[0] && line[0] != '/' && !isspace((unsigned char)line[0]))
			ne++;
	}
	for (cap = 64; cap < 2 * (ne + 1); cap *= 2)
		;
	rd->exact = calloc(cap, sizeof(uint64_t));
	rd->exact_mask = (uint32_t)cap - 1;
	for (cap = 64; cap < 2 * (nw + 1); cap *= 2)
		;
	rd->wild = calloc(cap, sizeof(uint64_t));
	rd->wild_mask = (uint32_t)cap - 1;
	if (!rd->exact || !rd->wild || ne + nw > 1000000) {
		fclose(f);
		return -1;
	}
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char *r = line, *e;
		int labels = 1;
		if (r[0] == '/' || r[0] == '!' || isspace((unsigned char)r[0]) || !r[0])
			continue; /* comments, blank lines; exceptions only make less public */
		for (e = r; *e && !isspace((unsigned char)*e); e++) {
			*e = (char)tolower((unsigned char)*e);
			labels += *e == '.';
		}
		*e = '\0';
		if (labels > rd->max_labels)
			rd->max_labels = labels;
		if (r[0] == '*' && r[1] == '.')
			set_add(rd->wild, rd->wild_mask, suffix_hash(rd, r + 2, strlen(r + 2)));
		else
			set_add(rd->exact, rd->exact_mask, suffix_hash(rd, r, strlen(r)));
	}
	m = ferror(f) ? 1 : 0;
	fclose(f);
	return m || rd->max_labels == 0 ? -1 : 0;
}

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
			snprintf(err, errlen, "public_suffixes: '%s' is not a domain name",
			         extra[i]);
			free(rd);
			return NULL;
		}
		for (k = 0; k < (size_t)l; k++)
			if (rd->extra[i][k] >= 'A' && rd->extra[i][k] <= 'Z')
				rd->extra[i][k] |= 0x20;
		rd->extra_len[i] = (uint8_t)l;
	}
	rd->nextra = nextra;
	if (dw_siphash_key(&rd->k0, &rd->k1, err, errlen) < 0) {
		free(rd);
		return NULL;
	}
	if (load_rules(rd, DW_REGDOMAIN_LIST_FILE) < 0) {
		free(rd->exact);
		free(rd->wild);
		rd->exact = rd->wild = NULL;
	}
	rd->owned = psl_latest(NULL);
	rd->psl = rd->owned ? rd->owned : psl_builtin();
	if (!rd->psl) {
		free(rd->exact);
		free(rd->wild);
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
	free(rd->exact);
	free(rd->wild);
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

/** Whether the suffix at text + start (hash h, parent's hash hp, or 0 for a
 *  TLD) is a public suffix: the rule sets rule most suffixes out; the rest is
 *  asked of libpsl once and remembered. */
static int public_suffix(const struct dw_regdomain *rd, const char *s, int labels, uint64_t h,
                         uint64_t hp)
{
	struct dw_regdomain *w = (struct dw_regdomain *)rd; /* the memo only */
	uint64_t tag = h & ~(uint64_t)1, m;
	_Atomic uint64_t *slot = &w->memo[(h >> 40) & (MEMO_SLOTS - 1)];
	int res;
	if (rd->exact && labels > 1 && !strstr(s, "xn--") &&
	    (labels > rd->max_labels ||
	     (!set_has(rd->exact, rd->exact_mask, h) && !set_has(rd->wild, rd->wild_mask, h) &&
	      !set_has(rd->wild, rd->wild_mask, hp))))
		return 0;
	m = atomic_load_explicit(slot, memory_order_relaxed);
	if (tag && m && (m & ~(uint64_t)1) == tag)
		return (int)(m & 1);
	res = psl_is_public_suffix2(rd->psl, s, 0) ? 1 : 0;
	if (tag)
		atomic_store_explicit(slot, tag | (uint64_t)res, memory_order_relaxed);
	return res;
}

/** libpsl's psl_registrable_domain() over the folded text of n labels (len
 *  bytes), with its answers per suffix from public_suffix(): the index of
 *  the registrable domain's first label, 0 when there is none. The same walk
 *  as libpsl: at most 9 labels from the right, then from the left the first
 *  suffix that is public ends it, the label before it starts the domain. */
static int registrable(const struct dw_regdomain *rd, const char *text, size_t len, int n)
{
	uint16_t start[128];
	uint64_t h[128];
	int i, first = n > 9 ? n - 9 : 0, reg = -1;
	size_t p = 0;
	start[0] = 0;
	for (i = 1; i < n; i++) {
		while (text[p] != '.')
			p++;
		start[i] = (uint16_t)++p;
	}
	for (i = n - 1; i >= first; i--) { /* only suffixes a rule can reach */
		h[i] = n - i <= rd->max_labels + 1 || !rd->exact
		           ? suffix_hash(rd, text + start[i], len - start[i])
		           : 0;
	}
	for (i = first; i < n; i++) {
		if (public_suffix(rd, text + start[i], n - i, h[i], i + 1 < n ? h[i + 1] : 0))
			break;
		if (i == n - 1)
			break;
		reg = i;
	}
	return reg < 0 ? 0 : reg;
}

/** The registrable domain's offset: libpsl on a folded text copy for plain
 *  names, the last two labels for the rest. */
int dw_regdomain_of(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off)
{
	uint8_t offs[128];
	char text[256];
	size_t t = 0;
	int n = split(qname, len, offs), i, plain = 1, dots;
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
		dots = registrable(rd, text, t, n);
	}
	i = extra_match(rd, qname, len, offs, n);
	if (i >= 0 && i < dots)
		dots = i;
	*off = offs[dots];
	return dots;
}

/** Whether the last label is a TLD of the list (its exact or wildcard rule
 *  set, else libpsl without the implicit "*" rule) or the last label of an
 *  extra public suffix; "xn--" TLDs count as listed (the file spells IDN
 *  rules in UTF-8). */
int dw_regdomain_tld_listed(const struct dw_regdomain *rd, const uint8_t *qname, size_t len)
{
	char tld[64];
	size_t p = 0, last = 0, k, i;
	uint64_t h;
	if (!rd || !qname || len < 1)
		return -1;
	while (p < len && qname[p] != 0) {
		if (qname[p] > 63 || p + 1 + qname[p] >= len)
			return -1;
		last = p;
		p += 1u + qname[p];
	}
	if (p != len - 1)
		return -1;
	if (p == 0)
		return 1; /* the root: no TLD to judge */
	for (k = 0; k < qname[last]; k++)
		if (!plain_byte(qname[last + 1 + k], &tld[k]))
			return 0;
	tld[k] = '\0';
	if (k >= 4 && memcmp(tld, "xn--", 4) == 0)
		return 1;
	for (i = 0; i < rd->nextra; i++) {
		size_t q = 0, el = 0;
		while (rd->extra[i][q] != 0) { /* the extra suffix's last label */
			el = q;
			q += 1u + rd->extra[i][q];
		}
		if (rd->extra[i][el] == k && memcmp(rd->extra[i] + el + 1, tld, k) == 0)
			return 1;
	}
	if (!rd->exact)
		return psl_is_public_suffix2(rd->psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)
		           ? 1
		           : 0;
	h = suffix_hash(rd, tld, k);
	return set_has(rd->exact, rd->exact_mask, h) || set_has(rd->wild, rd->wild_mask, h);
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
