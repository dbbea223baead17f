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
/** Memo of whole names' answers (dw_regdomain_scan()): slots, one word each. */
#define NAME_SLOTS 4096u

struct dw_regdomain {
	const psl_ctx_t *psl;
	psl_ctx_t *owned; /**< psl_latest()'s copy, freed with the struct */
	uint64_t k0, k1;  /**< random key of the suffix hash: the rule set and the memo */
	uint64_t nk0;     /**< start key of name_hash64() (dw_regdomain_set_name_key()) */
	/* The packaged list's rules as keyed hashes of their wire form (open
	 * addressing, 0 = empty), one set: an entry is (hash & ~3) | kind, kind
	 * RULE_EXACT for a rule, RULE_WILD for the base B of a wildcard rule
	 * "*.B" (both bits when B is both). A suffix S can be public only when S
	 * is a rule or a wildcard base (libpsl counts B itself public), parent(S)
	 * is a wildcard base, S is one label or S holds an "xn--" label (IDN
	 * rules are UTF-8 in the file); every other suffix is not, without asking
	 * libpsl. NULL: no file, every suffix is asked. */
	uint64_t *rules;
	uint32_t rules_mask;
	int max_labels; /**< most labels of a rule ("*" counted); longer suffixes are never public
	                 */
	_Atomic uint64_t memo[MEMO_SLOTS]; /**< (hash & ~1) | answer; 0 = empty */
	/** a name's answer by its hash (name_hash64()): bits 63..24 the hash's,
	 *  23..16 the name's length, 15..8 the offset, 7 listed, 6..0 the labels
	 *  before the offset; 0 = empty (a length is never 0) */
	_Atomic uint64_t names[NAME_SLOTS];
	size_t nextra;
	uint8_t extra_len[DW_REGDOMAIN_MAX_EXTRA];
	uint8_t extra[DW_REGDOMAIN_MAX_EXTRA][DW_NAME_MAXWIRE]; /**< wire, lower case */
};

/** The kinds of a rule set entry (its two low bits). */
#define RULE_EXACT 1u
#define RULE_WILD 2u

/** Add kind to hash h's entry of the rule set (never full: sized 2x). */
static void set_add(uint64_t *set, uint32_t mask, uint64_t h, unsigned kind)
{
	uint32_t i = (uint32_t)h & mask;
	h &= ~(uint64_t)3;
	while (set[i] && (set[i] & ~(uint64_t)3) != h)
		i = (i + 1) & mask;
	set[i] |= h | kind;
}

/** The kinds (RULE_EXACT | RULE_WILD) of hash h in the rule set, 0 when
 *  absent. A false hit (two hashes equal but for their low two bits) only
 *  sends one more suffix to libpsl, which has the last word. */
static inline unsigned set_kind(const uint64_t *set, uint32_t mask, uint64_t h)
{
	uint32_t i = (uint32_t)h & mask;
	h &= ~(uint64_t)3;
	while (set[i]) {
		if ((set[i] & ~(uint64_t)3) == h)
			return (unsigned)(set[i] & 3);
		i = (i + 1) & mask;
	}
	return 0;
}

/** Eight bytes at p as a little-endian word (the same on any host). */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t m;
	memcpy(&m, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m = __builtin_bswap64(m);
#endif
	return m;
}

/** The low r bytes (1..8) of a word. */
static inline uint64_t low_bytes(unsigned r)
{
	return ~(uint64_t)0 >> (64 - 8 * r);
}

/** The bytes of m that libpsl may not see unconverted (anything but
 *  letters, digits, '-' and '_'): 0x80 in each such byte, 0 elsewhere.
 *  Range tests on 8 bytes at once (top bit of x + (0x80 - c): x >= c, for
 *  x <= 0x7f, no carry between bytes); bytes >= 0x80 are never plain. */
static inline uint64_t not_plain8(uint64_t m)
{
	const uint64_t hi = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	uint64_t x = dw_fold8(m) & ~hi, ok;
#define GE(c) (x + ones * (0x80u - (c)))
#define GT(c) (x + ones * (0x7fu - (c)))
	ok = (GE('a') & ~GT('z')) | (GE('0') & ~GT('9')) | (GE('-') & ~GT('-')) |
	     (GE('_') & ~GT('_'));
#undef GE
#undef GT
	return ~(ok & ~m) & hi;
}

/** Absorb one wire label (its length byte lab[0] and its bytes, ASCII case
 *  folded) into the running suffix hash h: dw_name_hash()'s
 *  multiply-xorshift step per 8-byte word, the last word zero-padded; the
 *  length byte (1..63) is never in 'A'..'Z', so dw_fold8() leaves it alone,
 *  and it keeps label boundaries apart ("ab.c" and "a.bc" absorb different
 *  words). The bytes are read 8 at a time: a last partial word from past
 *  the label's end when avail (readable bytes from lab) allows, else from
 *  before it when before (readable bytes before lab) allows, masked or
 *  shifted to the label's own bytes. *bad gets the not_plain8() bits of the
 *  label's bytes (not its length byte). */
static inline uint64_t absorb_label(uint64_t h, const uint8_t *lab, size_t before, size_t avail,
                                    uint64_t *bad) __attribute__((always_inline));
static inline uint64_t absorb_label(uint64_t h, const uint8_t *lab, size_t before, size_t avail,
                                    uint64_t *bad)
{
	size_t nb = (size_t)lab[0] + 1, k = 0, r, j;
	uint64_t m, skip = 0x80; /* the length byte's bit in the first word */
	for (; k + 8 <= nb; k += 8, skip = 0) {
		m = load_le64(lab + k);
		*bad |= not_plain8(m) & ~skip;
		h = dw_name_hash_word(h, dw_fold8(m));
	}
	if (k < nb) {
		r = nb - k; /* 1..7 */
		if (k + 8 <= avail) {
			m = load_le64(lab + k) & low_bytes((unsigned)r);
		} else if (before + k + r >= 8) {
			m = load_le64(lab + k + r - 8) >> (8 * (8 - r));
		} else {
			m = 0;
			for (j = 0; j < r; j++)
				m |= (uint64_t)lab[k + j] << (8 * j);
		}
		*bad |= not_plain8(m) & low_bytes((unsigned)r) & ~skip;
		h = dw_name_hash_word(h, dw_fold8(m));
	}
	return h;
}

/** The keyed 64-bit hash of a suffix from its running hash (its labels
 *  absorbed from the TLD leftwards, starting at rd->k0): the final mix.
 *  Not SipHash: the set holds only the packaged list's rules, and a
 *  collision a client cannot aim for without the key would make one
 *  suffix's memoised answer another one's, i.e. one name's registrable
 *  domain wrong, no worse. */
static inline uint64_t suffix_final(const struct dw_regdomain *rd, uint64_t h)
{
	h = (h ^ rd->k1) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 29;
}

/** The suffix hash of a rule's text (n bytes, lower case, no final dot),
 *  as the scan computes it for a name's suffix with the same labels; 0 for
 *  a rule that is not a valid name (never matched then). */
static uint64_t rule_hash(const struct dw_regdomain *rd, const char *s, size_t n)
{
	uint8_t wire[DW_NAME_MAXWIRE + 8];
	uint16_t starts[128];
	size_t w = 0, i = 0;
	int nl = 0;
	uint64_t h = rd->k0, bad = 0;
	memset(wire, 0, sizeof(wire));
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != '.')
			e++;
		if (e == i || e - i > 63 || w + 1 + (e - i) + 1 > DW_NAME_MAXWIRE || nl == 128)
			return 0;
		starts[nl++] = (uint16_t)w;
		wire[w++] = (uint8_t)(e - i);
		memcpy(wire + w, s + i, e - i);
		w += e - i;
		i = e + 1;
	}
	while (nl > 0) {
		nl--;
		h = absorb_label(h, wire + starts[nl], starts[nl], sizeof(wire) - starts[nl], &bad);
	}
	return suffix_final(rd, h);
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
	for (cap = 64; cap < 2 * (ne + nw + 1); cap *= 2)
		;
	rd->rules = calloc(cap, sizeof(uint64_t));
	rd->rules_mask = (uint32_t)cap - 1;
	if (!rd->rules || ne + nw > 1000000) {
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
			set_add(rd->rules, rd->rules_mask, rule_hash(rd, r + 2, strlen(r + 2)),
			        RULE_WILD);
		else
			set_add(rd->rules, rd->rules_mask, rule_hash(rd, r, strlen(r)), RULE_EXACT);
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
	rd->nk0 = rd->k0; /* until dw_regdomain_set_name_key() */
	if (load_rules(rd, DW_REGDOMAIN_LIST_FILE) < 0) {
		free(rd->rules);
		rd->rules = NULL;
	}
	rd->owned = psl_latest(NULL);
	rd->psl = rd->owned ? rd->owned : psl_builtin();
	if (!rd->psl) {
		free(rd->rules);
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
	free(rd->rules);
	free(rd);
}

/** What split() learns of a name besides its labels. */
struct shape {
	int plain;     /**< every byte is one libpsl may see unconverted (not_plain8()) */
	int tld_plain; /**< the same for the last label alone (1 for the root) */
	int xn;        /**< the index of the last label that starts with "xn--", else -1 */
};

/** Label offsets of a wire name and where an "xn--" label is (its plainness
 *  comes with the hashing); returns the label count, -1 if malformed. */
static int split(const uint8_t *q, size_t len, uint8_t offs[128], struct shape *sh)
{
	size_t p = 0, l;
	int n = 0;
	if (!q || len == 0 || len > 255)
		return -1;
	sh->xn = -1;
	while (p < len && q[p] != 0) {
		l = q[p];
		if (l > 63 || p + 1 + l >= len || n == 127)
			return -1;
		if (l >= 4 && (q[p + 1] | 0x20) == 'x' && (q[p + 2] | 0x20) == 'n' &&
		    q[p + 3] == '-' && q[p + 4] == '-')
			sh->xn = n;
		offs[n++] = (uint8_t)p;
		p += 1 + l;
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

/** Whether the last label (wire, at lab) is the last label of an extra
 *  public suffix, ASCII case folded. */
static int extra_tld(const struct dw_regdomain *rd, const uint8_t *lab)
{
	size_t i, q, el, k;
	for (i = 0; i < rd->nextra; i++) {
		for (q = 0, el = 0; rd->extra[i][q] != 0; q += 1u + rd->extra[i][q])
			el = q; /* the extra suffix's last label */
		if (rd->extra[i][el] != lab[0])
			continue;
		for (k = 1; k <= lab[0]; k++) {
			uint8_t c = lab[k];
			if (c >= 'A' && c <= 'Z')
				c |= 0x20;
			if (c != rd->extra[i][el + k])
				break;
		}
		if (k > lab[0])
			return 1;
	}
	return 0;
}

/** The folded presentation text of a plain name's n labels (no final dot)
 *  and where each label starts in it: what libpsl is asked about, built only
 *  when it is asked. */
static void make_text(const uint8_t *q, const uint8_t *offs, int n, char text[256],
                      uint16_t start[128])
{
	size_t t = 0, k, l;
	int i;
	for (i = 0; i < n; i++) {
		if (i)
			text[t++] = '.';
		start[i] = (uint16_t)t;
		l = q[offs[i]];
		for (k = 1; k <= l; k++) {
			uint8_t c = q[offs[i] + k];
			text[t++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
		}
	}
	text[t] = '\0';
}

/** libpsl's answer for the suffix s (folded text, labels >= 1), asked once
 *  and remembered under its hash h (0: not hashed, not remembered). */
static int psl_memo(const struct dw_regdomain *rd, const char *s, uint64_t h)
{
	struct dw_regdomain *w = (struct dw_regdomain *)rd; /* the memo only */
	uint64_t tag = h & ~(uint64_t)1, m;
	_Atomic uint64_t *slot = &w->memo[(h >> 40) & (MEMO_SLOTS - 1)];
	int res;
	m = atomic_load_explicit(slot, memory_order_relaxed);
	if (tag && m && (m & ~(uint64_t)1) == tag)
		return (int)(m & 1);
	res = psl_is_public_suffix2(rd->psl, s, 0) ? 1 : 0;
	if (tag)
		atomic_store_explicit(slot, tag | (uint64_t)res, memory_order_relaxed);
	return res;
}

/** Most suffixes the walk looks at (libpsl's limit: 9 labels from the right). */
#define WALK 9

/** The full scan (below dw_regdomain_scan()): split and shape, the suffix hashes from the TLD
 *  leftwards (only the suffixes a rule can reach), one rule-set probe each,
 *  then libpsl's psl_registrable_domain() walk over them: from the left
 *  (at most WALK labels from the right) the first suffix that is public
 *  ends it, the label before it starts the domain. The TLD's own answer
 *  never matters to the walk (it ends there either way), so it is never
 *  asked; the same probe answers whether the TLD is listed. */
static int scan_full(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off,
                     int *listed)
{
	uint8_t offs[128];
	uint16_t start[128];
	char text[256];
	uint64_t hs[WALK], h, bad = 0;
	unsigned kinds[WALK];
	struct shape sh;
	int n, i, r, nh, first, dots, have_text = 0, labels;
	if (!rd || !off || (n = split(qname, len, offs, &sh)) < 0)
		return -1;
	if (n == 0) {
		*off = len - 1;
		if (listed)
			*listed = 1; /* the root: no TLD to judge */
		return 0;
	}
	first = n > WALK ? n - WALK : 0;
	/* only suffixes a rule can reach are kept (every one without the file) */
	nh = rd->rules && rd->max_labels + 1 < n - first ? rd->max_labels + 1 : n - first;
	/* every label from the TLD leftwards: plain or not, the running hash */
	h = rd->k0;
	for (r = 0; r < n; r++) {
		i = n - 1 - r;
		h = absorb_label(h, qname + offs[i], offs[i], len - offs[i], &bad);
		if (r == 0)
			sh.tld_plain = bad == 0;
		if (r < nh) {
			hs[r] = suffix_final(rd, h);
			kinds[r] = rd->rules && r < rd->max_labels
			               ? set_kind(rd->rules, rd->rules_mask, hs[r])
			               : 0;
		}
	}
	sh.plain = bad == 0;
	if (sh.plain) {
		dots = -1;
		for (i = first; i < n - 1; i++) {
			r = n - 1 - i;
			labels = r + 1;
			if (!rd->rules || sh.xn >= i ||
			    (labels <= rd->max_labels &&
			     (kinds[r] || (kinds[r - 1] & RULE_WILD)))) {
				if (!have_text) {
					make_text(qname, offs, n, text, start);
					have_text = 1;
				}
				if (psl_memo(rd, text + start[i], r < nh ? hs[r] : 0))
					break;
			}
			dots = i;
		}
		if (dots < 0)
			dots = 0;
	} else {
		dots = n >= 2 ? n - 2 : 0;
	}
	i = extra_match(rd, qname, len, offs, n);
	if (i >= 0 && i < dots)
		dots = i;
	*off = offs[dots];
	if (listed) {
		const uint8_t *tld = qname + offs[n - 1];
		if (!sh.tld_plain)
			*listed = 0;
		else if (sh.xn == n - 1 || extra_tld(rd, tld))
			*listed = 1;
		else if (rd->rules)
			*listed = kinds[0] != 0;
		else {
			char t[64];
			size_t k;
			for (k = 0; k < tld[0]; k++)
				t[k] = (char)(tld[1 + k] >= 'A' && tld[1 + k] <= 'Z'
				                  ? tld[1 + k] | 0x20
				                  : tld[1 + k]);
			t[k] = '\0';
			*listed =
			    psl_is_public_suffix2(rd->psl, t, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)
			        ? 1
			        : 0;
		}
	}
	return dots;
}

/** The keyed 64-bit hash of a whole wire name (n bytes, ASCII case folded):
 *  dw_name_hash()'s words (the last 8 bytes again when n is not a multiple
 *  of 8) and suffix_final()'s mix; the name memo's key. */
static inline uint64_t name_hash64(const struct dw_regdomain *rd, const uint8_t *p, size_t n,
                                   struct dw_name_run *run)
{
	uint64_t h = dw_name_hash_start(rd->nk0, n), m, f, up = 0;
	size_t i = 0, j;
	for (; i + 8 <= n; i += 8) {
		m = load_le64(p + i);
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
	}
	if (i < n) {
		if (n >= 8) {
			m = load_le64(p + n - 8);
		} else {
			m = 0;
			for (j = 0; j < n; j++)
				m |= (uint64_t)p[j] << (8 * j);
		}
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
	}
	run->h = h;
	run->upper = up != 0;
	return suffix_final(rd, h);
}

/** The name memo's key shares the feature pass's start key (regdomain.h). */
void dw_regdomain_set_name_key(struct dw_regdomain *rd, uint64_t k0)
{
	size_t i;
	if (!rd)
		return;
	rd->nk0 = k0;
	for (i = 0; i < NAME_SLOTS; i++) /* answers filed under the old key */
		atomic_store_explicit(&rd->names[i], 0, memory_order_relaxed);
}

/** 0 when q (len bytes) is a well-formed wire name (split()'s rules) in
 *  which off starts label number dots (or is the root label of the root
 *  name, dots 0): what a name memo answer must be to be used. O(labels). */
static int memo_fits(const uint8_t *q, size_t len, size_t off, int dots)
{
	size_t p = 0, l;
	int n = 0, found = 0;
	while (p < len && q[p] != 0) {
		l = q[p];
		if (l > 63 || p + 1 + l >= len || n == 127)
			return -1;
		if (p == off)
			found = n == dots;
		n++;
		p += 1 + l;
	}
	if (p != len - 1)
		return -1;
	if (p == off)
		found = n == 0 && dots == 0;
	return found ? 0 : -1;
}

/** One pass (regdomain.h), and for a name asked before (the common case: a
 *  mail server's MX queries, the same NXDOMAIN again) not even that: the
 *  name's keyed hash finds its answer in a memo of NAME_SLOTS words, used
 *  once the name's labels are checked to fit it (so a colliding hash can
 *  give a wrong domain, never an offset that is no label of the name). The
 *  memo only holds answers made with the rule set, which the scan finds
 *  without libpsl almost always; a name memo answer is the full scan's,
 *  since that depends only on the case-folded bytes. */
int dw_regdomain_scan_run(const struct dw_regdomain *rd, const uint8_t *qname, size_t len,
                          size_t *off, int *listed, struct dw_name_run *run)
{
	struct dw_regdomain *w = (struct dw_regdomain *)rd; /* the memo only */
	struct dw_name_run own;
	_Atomic uint64_t *slot;
	uint64_t h, m, tag;
	size_t o;
	int dots, l = 1;
	if (!run)
		run = &own;
	run->valid = 0;
	if (!rd || !off || !qname || len == 0 || len > 255)
		return -1;
	h = name_hash64(rd, qname, len, run);
	if (!rd->rules) {
		dots = scan_full(rd, qname, len, off, listed);
		run->valid = dots >= 0;
		return dots;
	}
	slot = &w->names[h & (NAME_SLOTS - 1)];
	tag = h & ~(uint64_t)0xffffff;
	m = atomic_load_explicit(slot, memory_order_relaxed);
	if ((m & ~(uint64_t)0xffffff) == tag && (m >> 16 & 0xff) == len) {
		o = (size_t)(m >> 8 & 0xff);
		dots = (int)(m & 0x7f);
		if (memo_fits(qname, len, o, dots) == 0) {
			*off = o;
			if (listed)
				*listed = (int)(m >> 7 & 1);
			run->valid = 1;
			return dots;
		}
	}
	dots = scan_full(rd, qname, len, &o, &l);
	if (dots < 0)
		return -1;
	atomic_store_explicit(slot,
	                      tag | (uint64_t)len << 16 | (uint64_t)o << 8 |
	                          (uint64_t)(l != 0) << 7 | (uint64_t)dots,
	                      memory_order_relaxed);
	*off = o;
	if (listed)
		*listed = l;
	run->valid = 1;
	return dots;
}

/** dw_regdomain_scan_run() without the name's hash. */
int dw_regdomain_scan(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off,
                      int *listed)
{
	return dw_regdomain_scan_run(rd, qname, len, off, listed, NULL);
}

/** The registrable domain's offset alone. */
int dw_regdomain_of(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off)
{
	return dw_regdomain_scan(rd, qname, len, off, NULL);
}

/** Whether the last label is a TLD of the list (its exact or wildcard rule,
 *  else libpsl without the implicit "*" rule) or the last label of an extra
 *  public suffix; "xn--" TLDs count as listed (the file spells IDN rules in
 *  UTF-8). */
int dw_regdomain_tld_listed(const struct dw_regdomain *rd, const uint8_t *qname, size_t len)
{
	size_t off;
	int listed = -1;
	if (dw_regdomain_scan(rd, qname, len, &off, &listed) < 0)
		return -1;
	return listed;
}

/** dw_name_hash() (feature.h: 8-byte words, case folded) with key and a
 *  second key word derived from it: about 40 instructions for an 18-byte
 *  domain, where a byte-at-a-time hash took 230. */
uint32_t dw_name_hash32(uint64_t key, const uint8_t *wire, size_t len)
{
	return dw_name_hash(key, (key ^ 0x6a09e667f3bcc909ull) * DW_NAME_HASH_MUL, wire, len, NULL);
}
