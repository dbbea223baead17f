/**
 * \file
 * Query features: validation of hostile wire names, the keyword / IPv4
 * literal / reverse-name rules and the signature hash set (see feature.h for
 * the rules and the seeds they come from).
 *
 * The per-query path (dw_features_of) validates the name once, makes one
 * lower-cased copy on the stack and runs every rule on that copy; it never
 * allocates, locks or logs.
 */
#include "feature.h"
#include "siphash.h" /* dw_fold8() */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** DNS query types the detectors distinguish (RFC 1035, RFC 3596). */
#define QTYPE_A 1
#define QTYPE_PTR 12
#define QTYPE_MX 15
#define QTYPE_AAAA 28

/** Most labels a 255-byte name can hold (each takes >= 2 bytes). */
#define MAX_LABELS 128
_Static_assert(MAX_LABELS >= DW_NAME_MAXWIRE / 2, "scan_name() does not count labels");

/** A validated wire name, lower-cased, with the offset of each label. */
struct name {
	uint8_t lc[DW_NAME_MAXWIRE]; /**< the wire name, A-Z folded to a-z */
	size_t len;                  /**< wire length, final 0 included */
	uint8_t off[MAX_LABELS];     /**< offset of each label's length byte */
	size_t n;                    /**< labels, the root not counted */
	uint32_t hash;               /**< dw_name_hash() with the set's name key */
	uint8_t upper;               /**< the name holds a letter A-Z */
};

/** One keyword, lower case. */
struct keyword {
	uint8_t len;
	uint8_t s[DW_FEAT_MAX_KEYWORD_LEN];
	uint64_t w8, m8; /**< len <= 8: its bytes as one word, and the mask of them */
};

/** A signature hash-table slot; off 0 marks an empty slot. */
struct sig_slot {
	uint32_t hash;
	uint32_t off; /**< index in blob of [len][wire name] */
};

struct dw_feature_set {
	size_t nkw;
	/** Bit i set in kw_first[c] when keyword i starts with byte c. */
	uint32_t kw_first[256];
	struct keyword kw[DW_FEAT_MAX_KEYWORDS];
	size_t nsig;            /**< distinct signatures stored */
	size_t sig_mask;        /**< table size - 1 (table size a power of 2) */
	struct sig_slot *slots; /**< NULL when there are no signatures */
	uint8_t *blob;          /**< records [len][lower-cased wire name] */
	uint64_t sig_len[4];    /**< bit l: some signature is l bytes long (wire) */
	uint64_t nk0, nk1;      /**< random name key (dw_name_hash()) */
};

/** ASCII-only case folding: DNS names compare case-insensitively on A-Z
 *  only (RFC 4343), whatever the C locale says. */
static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/**
 * Walk a wire name without trusting it. Records label offsets even when the
 * name turns out malformed, so that dw_name_to_text() can print what was
 * readable.
 * \param wire the name.
 * \param len bytes available at wire.
 * \param off receives up to MAX_LABELS label offsets.
 * \param n receives how many labels were read before the end or the error.
 * \return 0 for a valid name ending exactly at len, else -1.
 */
static int scan_name(const uint8_t *wire, size_t len, uint8_t *off, size_t *n)
{
	size_t lim = len, pos = 0, k = 0;
	int rc = -1;

	if (lim > DW_NAME_MAXWIRE)
		lim = DW_NAME_MAXWIRE;
	/* no label count check: a label takes >= 2 of the < 255 bytes before
	 * the terminator, so there are at most 127 (MAX_LABELS is 128) */
	while (pos < lim) {
		uint8_t l = wire[pos];

		if (l == 0) {
			rc = pos + 1 == len ? 0 : -1; /* trailing bytes are an error */
			break;
		}
		if (l > 63 || pos + 1 + l >= lim)
			break; /* also: no room left for the terminator */
		off[k++] = (uint8_t)pos;
		pos += 1 + (size_t)l;
	}
	*n = k;
	return rc;
}

/** Validate and lower-case a query name into nm, hashing it on the way
 *  (the words of dw_name_hash(), which this loop must keep in step with);
 *  -1 when malformed. */
static int load_name(struct name *nm, const uint8_t *wire, size_t len, uint64_t k0, uint64_t k1)
{
	uint64_t h = dw_name_hash_start(k0, len), m, f, up = 0;
	size_t i;

	if (scan_name(wire, len, nm->off, &nm->n) != 0)
		return -1;
	nm->len = len;
	/* 8 bytes at a time (length bytes are <= 63, never A-Z); the tail as
	 * the last 8 bytes again, or byte by byte in a name shorter than 8 */
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, wire + i, 8);
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
		memcpy(nm->lc + i, &f, 8);
	}
	if (i < len && len >= 8) {
		memcpy(&m, wire + len - 8, 8);
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
		memcpy(nm->lc + len - 8, &f, 8);
	} else if (i < len) {
		m = 0;
		for (; i < len; i++) {
			nm->lc[i] = lower(wire[i]);
			m |= (uint64_t)wire[i] << (8 * i);
		}
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
	}
	nm->hash = dw_name_hash_end(h, k1);
	nm->upper = up != 0;
	return 0;
}

/** Label i's bytes and length. */
static const uint8_t *label(const struct name *nm, size_t i, size_t *l)
{
	*l = nm->lc[nm->off[i]];
	return nm->lc + nm->off[i] + 1;
}

/** True when label i equals the lower-case text s. */
static bool label_is(const struct name *nm, size_t i, const char *s)
{
	size_t l, sl = strlen(s);
	const uint8_t *p = label(nm, i, &l);

	return l == sl && memcmp(p, s, l) == 0;
}

/**
 * Read an IPv4 octet label.
 * \param canonical refuse leading zeros (reverse names must be canonical to
 *        exist; literals need not be, see feature.h).
 * \return 0..255, or -1.
 */
static int octet(const uint8_t *p, size_t l, bool canonical)
{
	int v = 0;
	size_t i;

	if (l < 1 || l > 3 || (canonical && l > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < l; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 255 ? v : -1;
}

/**
 * Read labels first..first+3 as four octets, in name order.
 * \return true when all four are octets.
 */
static bool four_octets(const struct name *nm, size_t first, bool canonical, uint8_t o[4])
{
	size_t i, l;

	for (i = 0; i < 4; i++) {
		const uint8_t *p = label(nm, first + i, &l);
		int v = octet(p, l, canonical);

		if (v < 0)
			return false;
		o[i] = (uint8_t)v;
	}
	return true;
}

/** An IPv4 address as a dw_addr. */
static struct dw_addr v4(const uint8_t o[4])
{
	struct dw_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	memcpy(a.b, o, 4);
	return a;
}

/** True for a 32-nibble ip6.arpa host name. */
static bool is_ip6_reverse(const struct name *nm)
{
	size_t i, l;

	if (nm->n != 34 || !label_is(nm, 32, "ip6") || !label_is(nm, 33, "arpa"))
		return false;
	for (i = 0; i < 32; i++) {
		const uint8_t *p = label(nm, i, &l);

		if (l != 1 || !((p[0] >= '0' && p[0] <= '9') || (p[0] >= 'a' && p[0] <= 'f')))
			return false;
	}
	return true;
}

/** True for RFC 6763 service discovery, which sends benign PTR queries for
 *  names that are not host reverse names (see feature.h). */
static bool is_dns_sd(const struct name *nm)
{
	size_t l;

	if (nm->n >= 1 && label(nm, 0, &l)[0] == '_')
		return true;
	return nm->n >= 2 && label_is(nm, 1, "_dns-sd");
}

/**
 * The PTR rules of feature.h: malformed reverse names and forward-order
 * addresses (rule (a), the bare literal, is handled by the caller).
 */
static void ptr_features(const struct name *nm, struct dw_features *out)
{
	uint8_t o[4];

	if (nm->n == 6 && label_is(nm, 4, "in-addr") && label_is(nm, 5, "arpa") &&
	    four_octets(nm, 0, true, o)) {
		/* o is A.B.C.D in name order; the address looked up is D.C.B.A. */
		if (o[3] >= 240 && o[3] <= 254 && o[0] >= 1 && o[0] <= 223 && o[0] != 127) {
			out->flags |= DW_FEAT_PTR_FORWARD;
			out->literal = v4(o);
		}
		return;
	}
	if (is_ip6_reverse(nm) || is_dns_sd(nm))
		return;
	out->flags |= DW_FEAT_PTR_MALFORMED;
}

/** Prefix match of the first label against the keyword list (feature.h). */
static bool has_keyword(const struct dw_feature_set *fs, const struct name *nm)
{
	size_t l;
	const uint8_t *p;
	uint32_t cand;

	if (fs == NULL || fs->nkw == 0 || nm->n == 0)
		return false;
	p = label(nm, 0, &l);
	for (cand = fs->kw_first[p[0]]; cand != 0; cand &= cand - 1) {
		const struct keyword *k = &fs->kw[__builtin_ctz(cand)];
		size_t j = 1; /* the first byte picked the candidate */

		if (k->len > l)
			continue;
		if (k->len <= 8 && nm->len >= 9) { /* lc[1..8] is the name's: one compare */
			uint64_t w;

			memcpy(&w, p, 8);
			if ((w & k->m8) == k->w8)
				return true;
			continue;
		}
		while (j < k->len && p[j] == k->s[j]) /* a few bytes: no memcmp() call */
			j++;
		if (j == k->len)
			return true;
	}
	return false;
}

/** Look a lower-cased wire name up in the signature set. */
static bool sig_find(const struct dw_feature_set *fs, const uint8_t *p, size_t len, uint32_t h)
{
	size_t i = h & fs->sig_mask;

	while (fs->slots[i].off != 0) {
		const uint8_t *rec = fs->blob + fs->slots[i].off;

		if (fs->slots[i].hash == h && rec[0] == len && memcmp(rec + 1, p, len) == 0)
			return true;
		i = (i + 1) & fs->sig_mask;
	}
	return false;
}

/** Only the four types the seeds reason about get a class; the rest is
 *  counted but never judged on its own. */
enum dw_qclass dw_qclass_of(uint16_t qtype)
{
	switch (qtype) {
	case QTYPE_A:
		return DW_Q_A;
	case QTYPE_AAAA:
		return DW_Q_AAAA;
	case QTYPE_MX:
		return DW_Q_MX;
	case QTYPE_PTR:
		return DW_Q_PTR;
	default:
		return DW_Q_OTHER;
	}
}

/** Names match the key=value fields of the verdict log line (mx=57 a=12). */
const char *dw_qclass_name(enum dw_qclass c)
{
	static const char *const names[DW_Q_COUNT] = {"a", "aaaa", "mx", "ptr", "other"};

	return (unsigned)c < DW_Q_COUNT ? names[c] : "?";
}

/** Stable names for logs and the control socket; one bit at a time. */
const char *dw_feature_name(uint32_t flag)
{
	switch (flag) {
	case DW_FEAT_KEYWORD:
		return "keyword";
	case DW_FEAT_IPLIT:
		return "ip_literal";
	case DW_FEAT_PTR_MALFORMED:
		return "ptr_malformed";
	case DW_FEAT_PTR_FORWARD:
		return "ptr_forward";
	case DW_FEAT_SIGNATURE:
		return "signature";
	default:
		return "?";
	}
}

/** The hot path: validate once, fold case once, then each rule is a few
 *  comparisons on the folded copy (see feature.h for the rules). */
int dw_features_of(const struct dw_feature_set *fs, const uint8_t *qname, size_t len,
                   uint16_t qtype, struct dw_features *out)
{
	struct name nm;
	uint8_t o[4];
	bool literal;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->qclass = dw_qclass_of(qtype);
	if (qname == NULL ||
	    load_name(&nm, qname, len, fs != NULL ? fs->nk0 : 0, fs != NULL ? fs->nk1 : 0) != 0)
		return -1;
	out->name_hash = nm.hash;
	out->name_upper = nm.upper;

	/* a name of a length no signature has is not looked up at all; the
	 * table is keyed with the name hash (dw_name_hash(), the set's key) */
	if (fs != NULL && fs->nsig != 0 && (fs->sig_len[nm.len >> 6] >> (nm.len & 63) & 1) &&
	    sig_find(fs, nm.lc, nm.len, nm.hash))
		out->flags |= DW_FEAT_SIGNATURE;

	if ((out->qclass == DW_Q_A || out->qclass == DW_Q_AAAA) && has_keyword(fs, &nm))
		out->flags |= DW_FEAT_KEYWORD;

	literal = nm.n == 4 && four_octets(&nm, 0, false, o);
	if (out->qclass == DW_Q_A && literal) {
		out->flags |= DW_FEAT_IPLIT;
		out->literal = v4(o);
	} else if (out->qclass == DW_Q_PTR && literal) {
		/* rule (a): a bare literal, no in-addr.arpa at all */
		out->flags |= DW_FEAT_PTR_FORWARD | DW_FEAT_PTR_MALFORMED;
		out->literal = v4(o);
	} else if (out->qclass == DW_Q_PTR) {
		ptr_features(&nm, out);
	}
	return 0;
}

/** The cheap pre-check of the query path (feature.h): looks at the qtype,
 *  the name's length and the first byte of its first label only. */
int dw_features_possible(const struct dw_feature_set *fs, const uint8_t *qname, size_t len,
                         uint16_t qtype)
{
	if (qtype == QTYPE_PTR)
		return 1; /* reverse names: the full parse decides */
	if (qname == NULL || len < 1 || len > DW_NAME_MAXWIRE)
		return 0; /* dw_features_of() would fail: no flags */
	if (fs != NULL && fs->nsig != 0 && (fs->sig_len[len >> 6] >> (len & 63) & 1))
		return 1;
	if (qtype != QTYPE_A && qtype != QTYPE_AAAA)
		return 0;
	if (len < 3 || qname[0] == 0 || qname[0] > 63)
		return 0; /* the root, or malformed */
	uint8_t c = lower(qname[1]);
	if (qtype == QTYPE_A && c >= '0' && c <= '9')
		return 1; /* maybe an IPv4 literal */
	return fs != NULL && fs->nkw != 0 && fs->kw_first[c] != 0;
}

/** Write a formatted line into a caller's error buffer, if there is one. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/**
 * Check and store one keyword; config text, so errors say what and where.
 * \return 0, or -1 with err filled.
 */
static int add_keyword(struct dw_feature_set *fs, size_t idx, const char *kw, char *err,
                       size_t errlen)
{
	struct keyword k;
	size_t i, l;

	if (kw == NULL || kw[0] == '\0') {
		set_err(err, errlen, "keyword %zu is empty", idx + 1);
		return -1;
	}
	l = strnlen(kw, DW_FEAT_MAX_KEYWORD_LEN + 1);
	if (l > DW_FEAT_MAX_KEYWORD_LEN) {
		set_err(err, errlen, "keyword %zu is longer than %d characters, got '%.40s...'",
		        idx + 1, DW_FEAT_MAX_KEYWORD_LEN, kw);
		return -1;
	}
	memset(&k, 0, sizeof(k));
	for (i = 0; i < l; i++) {
		uint8_t c = lower((uint8_t)kw[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			set_err(err, errlen,
			        "keyword %zu may only hold letters, digits and '-', got '%.63s'",
			        idx + 1, kw);
			return -1;
		}
		k.s[i] = c;
	}
	k.len = (uint8_t)l;
	if (l <= 8) {
		uint8_t ones[8] = {0};

		memset(ones, 0xff, l);
		memcpy(&k.m8, ones, 8);
		memcpy(&k.w8, k.s, 8); /* zero after the keyword: k was cleared */
	}
	fs->kw[fs->nkw] = k;
	fs->kw_first[k.s[0]] |= 1u << fs->nkw;
	fs->nkw++;
	return 0;
}

/**
 * Build the signature hash set: every name is converted, lower-cased and
 * copied into one blob, so lookups touch one table and one record.
 * \return 0, or -1 with err filled.
 */
static int build_signatures(struct dw_feature_set *fs, const char *const *sigs, size_t nsig,
                            char *err, size_t errlen)
{
	uint8_t wire[DW_NAME_MAXWIRE];
	size_t i, j, size = 8, blob_len = 1, used = 1;

	if (nsig == 0)
		return 0;
	if (sigs == NULL || nsig > DW_FEAT_MAX_SIGNATURES) {
		set_err(err, errlen, "signature list: at most %d names, got %zu",
		        DW_FEAT_MAX_SIGNATURES, nsig);
		return -1;
	}
	for (i = 0; i < nsig; i++) {
		int l = sigs[i] != NULL ? dw_name_from_text(sigs[i], wire, sizeof(wire)) : -1;

		if (l < 0) {
			set_err(err, errlen,
			        "signature %zu is not a valid domain name, got '%.255s'", i + 1,
			        sigs[i] != NULL ? sigs[i] : "(null)");
			return -1;
		}
		blob_len += 1 + (size_t)l;
	}
	while (size < 2 * nsig)
		size *= 2;
	fs->slots = calloc(size, sizeof(*fs->slots));
	fs->blob = malloc(blob_len);
	if (fs->slots == NULL || fs->blob == NULL) {
		set_err(err, errlen, "signature list: out of memory");
		return -1;
	}
	fs->sig_mask = size - 1;
	for (i = 0; i < nsig; i++) {
		int rc = dw_name_from_text(sigs[i], wire, sizeof(wire));
		size_t l = rc > 0 ? (size_t)rc : 0; /* checked in the first pass */
		uint32_t h;

		if (l == 0)
			return -1;
		for (j = 0; j < l; j++)
			wire[j] = lower(wire[j]);
		h = dw_name_hash(fs->nk0, fs->nk1, wire, l, NULL);
		if (sig_find(fs, wire, l, h))
			continue; /* duplicate */
		for (j = h & fs->sig_mask; fs->slots[j].off != 0; j = (j + 1) & fs->sig_mask)
			;
		fs->blob[used] = (uint8_t)l;
		memcpy(fs->blob + used + 1, wire, l);
		fs->slots[j].hash = h;
		fs->slots[j].off = (uint32_t)used;
		fs->sig_len[l >> 6] |= 1ull << (l & 63);
		used += 1 + l;
		fs->nsig++;
	}
	return 0;
}

/** All checking happens here, at load time, so that the query path can
 *  trust every byte of the set. */
struct dw_feature_set *dw_feature_set_new(const char *const *keywords, size_t nkw,
                                          const char *const *signatures, size_t nsig, char *err,
                                          size_t errlen)
{
	struct dw_feature_set *fs;
	size_t i;

	if (nkw > DW_FEAT_MAX_KEYWORDS || (nkw > 0 && keywords == NULL)) {
		set_err(err, errlen, "keywords: at most %d, got %zu", DW_FEAT_MAX_KEYWORDS, nkw);
		return NULL;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		set_err(err, errlen, "feature set: out of memory");
		return NULL;
	}
	if (dw_siphash_key(&fs->nk0, &fs->nk1, err, errlen) != 0) {
		free(fs);
		return NULL;
	}
	for (i = 0; i < nkw; i++) {
		if (add_keyword(fs, i, keywords[i], err, errlen) != 0) {
			dw_feature_set_free(fs);
			return NULL;
		}
	}
	if (build_signatures(fs, signatures, nsig, err, errlen) != 0) {
		dw_feature_set_free(fs);
		return NULL;
	}
	return fs;
}

/** The key the query path hashes names with (feature.h). */
void dw_feature_set_name_key(const struct dw_feature_set *fs, uint64_t *k0, uint64_t *k1)
{
	*k0 = fs != NULL ? fs->nk0 : 0;
	*k1 = fs != NULL ? fs->nk1 : 0;
}

/** The set owns two heap blocks besides itself. */
void dw_feature_set_free(struct dw_feature_set *fs)
{
	if (fs == NULL)
		return;
	free(fs->slots);
	free(fs->blob);
	free(fs);
}

/** Builds into a local 255-byte buffer first so that a long or bad name
 *  never leaves a half-written result in the caller's buffer. */
int dw_name_from_text(const char *text, uint8_t *wire, size_t cap)
{
	uint8_t out[DW_NAME_MAXWIRE];
	size_t pos = 0;
	const char *p = text;

	if (text == NULL || wire == NULL || text[0] == '\0')
		return -1;
	if (strcmp(text, ".") == 0) {
		if (cap < 1)
			return -1;
		wire[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		size_t l = 0, lenpos = pos++;

		while (*p != '\0' && *p != '.') {
			uint8_t c;

			if (*p == '\\') {
				p++;
				if (*p >= '0' && *p <= '9') {
					int v;

					if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
						return -1;
					v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
					if (v > 255)
						return -1;
					c = (uint8_t)v;
					p += 3;
				} else if (*p == '\0') {
					return -1;
				} else {
					c = (uint8_t)*p++;
				}
			} else {
				c = (uint8_t)*p++;
			}
			/* room for this byte and, later, the root label */
			if (l == 63 || pos + 1 >= sizeof(out))
				return -1;
			out[pos++] = c;
			l++;
		}
		if (l == 0)
			return -1; /* empty label: "a..b", ".a" */
		out[lenpos] = (uint8_t)l;
		if (*p == '.')
			p++;
	}
	out[pos++] = 0;
	if (pos > cap)
		return -1;
	memcpy(wire, out, pos);
	return (int)pos;
}

/**
 * How dw_name_to_text() prints each byte inside a label: 1 for itself, 2 for
 * "\X" (the zone-file specials . \ " ; ( ) @ $), 4 for "\DDD" (outside
 * '!'..'~', space included). One table lookup per byte instead of a strchr()
 * over the specials and a strlen() of the token.
 */
static const uint8_t text_width[256] = {
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x00 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x10 */
    4, 1, 2, 1, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, /* 0x30 */
    2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, /* 0x70 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xa0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xb0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xc0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xd0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xe0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xf0 */
};

/** Reuses scan_name() so that printing never trusts a length byte the
 *  feature code would have refused. Once a token (a character, an escape,
 *  a label's dot or "<malformed>") does not fit with the NUL, nothing more is
 *  written, so the text is an honest prefix cut between whole tokens. */
void dw_name_to_text(const uint8_t *wire, size_t len, char *buf, size_t cap)
{
	static const char malformed[] = "<malformed>";
	uint8_t off[MAX_LABELS];
	size_t n = 0, i, j, at = 0;
	int rc;

	if (buf == NULL || cap == 0)
		return;
	buf[0] = '\0';
	rc = wire != NULL ? scan_name(wire, len, off, &n) : -1;
	if (rc == 0 && n == 0) {
		if (cap > 1)
			memcpy(buf, ".", 2);
		return;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = wire + off[i] + 1;
		size_t l = wire[off[i]];

		for (j = 0; j < l; j++) {
			uint8_t c = p[j];
			unsigned w = text_width[c];

			if (at + w >= cap)
				goto done;
			if (w == 1) {
				buf[at] = (char)c;
			} else if (w == 2) {
				buf[at] = '\\';
				buf[at + 1] = (char)c;
			} else {
				buf[at] = '\\';
				buf[at + 1] = (char)('0' + c / 100);
				buf[at + 2] = (char)('0' + c / 10 % 10);
				buf[at + 3] = (char)('0' + c % 10);
			}
			at += w;
		}
		if (at + 1 >= cap)
			goto done;
		buf[at++] = '.';
	}
	if (rc != 0 && at + sizeof(malformed) - 1 < cap) {
		memcpy(buf + at, malformed, sizeof(malformed));
		return;
	}
done:
	buf[at] = '\0';
}
