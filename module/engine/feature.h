/**
 * \file
 * What is a query feature: the facts about one client query (its name and
 * type) that the detectors count.
 *
 * What it is for: the adapter hands every query's wire-format qname and qtype
 * to dw_features_of(); the result (a query class and a set of DW_FEAT_* flags)
 * is all the client table and the detectors ever see of the query. Each flag
 * comes from an observation in the studies listed in HACKING.md:
 *
 * - DW_FEAT_KEYWORD (seed 000 ADPS, seed 003 Mydoom.A): an A or AAAA query
 *   whose FIRST label starts with a configured keyword. It is a
 *   case-insensitive PREFIX match, as the researchers counted "head words":
 *   with keywords mail, mx, smtp, ns the labels "mail2", "MX1", "smtp-out",
 *   "ns1" and also "nsa" or "mailbox" match; "webmail" and "xmx" do not.
 * - DW_FEAT_IPLIT (seed 000, clients B and C): an A query (not AAAA: the seed
 *   and its 500/h default were measured on A queries, and a client asking A
 *   and AAAA for each literal would otherwise count twice) whose qname is an
 *   IPv4 literal: exactly four labels, each 1 to 3 ASCII digits with a decimal
 *   value 0..255. Leading zeros are accepted and read as decimal ("010" is
 *   10): a scanner printing "%03d" is still a scanner, and no real host name
 *   consists of four all-digit labels. A single label containing dots, e.g.
 *   the one label "1.2.3.4" (printed 1\.2\.3\.4), is not a literal.
 * - DW_FEAT_PTR_MALFORMED: a PTR query whose name is not a host reverse name,
 *   i.e. neither D.C.B.A.in-addr.arpa (four canonical octet labels: digits,
 *   0..255, no leading zero) nor a 32-nibble ip6.arpa name (32 labels of one
 *   hex digit). Partial reverse names ("2.0.192.in-addr.arpa") and forward
 *   names are malformed: they are not a host lookup. DNS-SD browsing
 *   (RFC 6763), which macOS and Avahi send as PTR queries for forward and
 *   partial reverse names, is NOT flagged: names whose first label starts
 *   with '_' (service types "_http._tcp.example.") or whose second label is
 *   "_dns-sd" ("b._dns-sd._udp.0.0.168.192.in-addr.arpa").
 * - DW_FEAT_PTR_FORWARD (seed 000 section 4: "an IP address representation
 *   was found in several PTR based DNS query packets from the PC clients;
 *   usually, IP address A.B.C.D should be described as D.C.B.A.in-addr.arpa"):
 *   a PTR query carrying an address in forward order. Two rules, both chosen
 *   so that no benign reverse lookup trips them:
 *   (a) the qname is a bare IPv4 literal (the IPLIT syntax above) with no
 *       in-addr.arpa at all, the researchers' observation. No resolver library
 *       builds such a name. Such a query is also PTR_MALFORMED.
 *   (b) the qname is a well-formed A.B.C.D.in-addr.arpa whose proper reading
 *       D.C.B.A lies in 240.0.0.0-254.255.255.255 (class E: reserved, never
 *       assigned, without reverse delegation, so nobody looks it up) while the
 *       forward reading A.B.C.D is a unicast address (A in 1..223, not 127).
 *       A forward-order sweep of a /24 trips it for hosts .240-.254, 15 times
 *       per /24, while benign lookups of multicast (224/4: the forward reading
 *       would end in 224..239), broadcast and netmasks (a 255 or a 0 lands on
 *       the wrong side) never do. The only benign trigger is a network that
 *       uses class E space internally and reverse-resolves it.
 *   A forward-order in-addr.arpa name whose reversal is an ordinary unicast
 *   address ("192.0.2.1.in-addr.arpa" = 1.2.0.192) cannot be told from a real
 *   lookup without knowing the campus prefixes and is not flagged.
 * - DW_FEAT_SIGNATURE (seed 003, W32/Sobig.F asking A.ROOT-SERVERS.NET): the
 *   qname equals, ASCII case-insensitively, a configured signature name; any
 *   query type.
 *
 * When DW_FEAT_IPLIT or DW_FEAT_PTR_FORWARD is set, dw_features.literal holds
 * the forward-order address (for GeoIP evidence); otherwise its family is 0.
 *
 * Cost: dw_features_of() is O(len) (at most 255 bytes), allocation-, lock- and
 * I/O-free, about 450 bytes of stack; one pass of 8-byte words folds the
 * name and computes its keyed dw_name_hash() (the feature set's random
 * key), which the signature set and the suspect store (suspects.h) use;
 * keywords are indexed by first byte, the signature list is an
 * open-addressing hash set on that hash (one probe sequence per query at
 * load <= 1/2; keyed, so no query can be chosen to lengthen it). Measured
 * (tools/dev/bench, callgrind): about 300 instructions for an 18-byte A
 * name with a keyword, the hash included. A feature set costs about 3.8 KiB plus, per
 * signature, its wire length + 1 bytes and 16..32 bytes of hash table.
 * Thread safety: a struct dw_feature_set is immutable once built; any number
 * of threads may call dw_features_of() on it concurrently. Free it only when
 * no thread uses it any more (on reload: build the new one, swap, then free).
 * The text helpers are pure functions of caller memory.
 * Errors: dw_feature_set_new() returns NULL with a one-line reason in err
 * (a bad keyword or name, no memory, no random key from getrandom());
 * dw_features_of() returns -1 for a malformed wire name (hostile input is
 * expected; nothing is logged, nothing is read beyond len).
 */
#ifndef DW_FEATURE_H
#define DW_FEATURE_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "addr.h"
#include "siphash.h" /* dw_fold8() */

/** Query types as the detectors count them. */
enum dw_qclass {
	DW_Q_A = 0, /**< qtype 1 */
	DW_Q_AAAA,  /**< qtype 28 */
	DW_Q_MX,    /**< qtype 15 */
	DW_Q_PTR,   /**< qtype 12 */
	DW_Q_OTHER, /**< everything else */
	DW_Q_COUNT
};

/** Feature flags (see the file comment for the exact rules). */
#define DW_FEAT_KEYWORD (1u << 0)       /**< A/AAAA, first label starts with a keyword */
#define DW_FEAT_IPLIT (1u << 1)         /**< A query for an IPv4 literal A.B.C.D */
#define DW_FEAT_PTR_MALFORMED (1u << 2) /**< PTR for something not a host reverse name */
#define DW_FEAT_PTR_FORWARD (1u << 3)   /**< PTR carrying a forward-order IPv4 address */
#define DW_FEAT_SIGNATURE (1u << 4)     /**< qname is a configured signature name */
#define DW_FEAT_COUNT 5                 /**< number of flags (bits 0 .. COUNT-1) */

/** Limits of a feature set's configuration. */
#define DW_FEAT_MAX_KEYWORDS 32
#define DW_FEAT_MAX_KEYWORD_LEN 63
#define DW_FEAT_MAX_SIGNATURES 1000000

/** Longest wire name (RFC 1035), and a text buffer that holds any wire name
 *  printed by dw_name_to_text() with every byte escaped, plus the NUL. */
#define DW_NAME_MAXWIRE 255
#define DW_NAME_TEXT_MAX 1024

/** What dw_features_of() found in one query. */
struct dw_features {
	enum dw_qclass qclass;  /**< always set, even for a malformed name */
	uint32_t flags;         /**< DW_FEAT_* bits; 0 for a malformed name */
	struct dw_addr literal; /**< forward-order IPv4 for IPLIT/PTR_FORWARD, else family 0 */
	/** valid name: dw_name_hash() of the wire name with the set's name key
	 *  (dw_feature_set_name_key()), computed in the same pass that folds
	 *  it, so the suspect store need not hash it again; 0 otherwise */
	uint32_t name_hash;
	uint8_t name_upper; /**< valid name: 1 when it holds a letter A-Z */
};

/** Multiplier of dw_name_hash() (2^64 / golden ratio, odd). */
#define DW_NAME_HASH_MUL 0x9e3779b97f4a7c15ULL

/** dw_name_hash()'s state before the first word: the key and the length. */
static inline uint64_t dw_name_hash_start(uint64_t k0, size_t n)
{
	return k0 ^ (uint64_t)n * DW_NAME_HASH_MUL;
}

/** dw_name_hash()'s step: one 8-byte word of the case-folded name. */
static inline uint64_t dw_name_hash_word(uint64_t h, uint64_t folded)
{
	h = (h ^ folded) * DW_NAME_HASH_MUL;
	return h ^ h >> 32;
}

/** dw_name_hash()'s final mix with the second key word. */
static inline uint32_t dw_name_hash_end(uint64_t h, uint64_t k1)
{
	h = (h ^ k1) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (uint32_t)(h ^ h >> 32);
}

/**
 * The query path's name hash: keyed (k0, k1), ASCII case-insensitive, over
 * the n bytes at p in 8-byte words (dw_fold8(): the 8-byte words from the
 * start, then the last 8 bytes again when n is not a multiple of 8, or the
 * bytes of a name shorter than 8 as one little-endian word), a
 * multiply-xorshift per word and a final mix: about 40 instructions for an
 * 18-byte name. Not SipHash: it only picks candidates among a few kept
 * names (signatures, a suspect's names); its users say what a collision
 * costs them. *upper (may be NULL) is set to 1 when a byte is in A-Z.
 * Pure; O(n).
 */
static inline uint32_t dw_name_hash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n,
                                    uint8_t *upper)
{
	uint64_t h = dw_name_hash_start(k0, n), m = 0, f, up = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&m, p + i, 8);
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
	}
	if (i < n) {
		if (n >= 8) {
			memcpy(&m, p + n - 8, 8); /* the last 8 bytes, overlapping */
		} else {
			m = 0;
			for (size_t j = 0; j < n; j++)
				m |= (uint64_t)p[j] << (8 * j);
		}
		f = dw_fold8(m);
		up |= f ^ m;
		h = dw_name_hash_word(h, f);
	}
	if (upper != NULL)
		*upper = up != 0;
	return dw_name_hash_end(h, k1);
}

/** The compiled keyword list and signature set (opaque, immutable). */
struct dw_feature_set;

/** Map a qtype to the class the detectors count (unknown types are OTHER). */
enum dw_qclass dw_qclass_of(uint16_t qtype);

/** Lower-case name of a class for key=value output ("a", "aaaa", "mx",
 *  "ptr", "other"); "?" when out of range. */
const char *dw_qclass_name(enum dw_qclass c);

/** Name of one DW_FEAT_* bit for logs ("keyword", "ip_literal",
 *  "ptr_malformed", "ptr_forward", "signature"); "?" for anything else. */
const char *dw_feature_name(uint32_t flag);

/**
 * Build a feature set from the configuration (called at init and reload).
 * \param keywords up to DW_FEAT_MAX_KEYWORDS keywords of 1..63 letters,
 *        digits or '-' (upper case is folded); duplicates are harmless.
 * \param nkw how many (0 disables DW_FEAT_KEYWORD; keywords may then be NULL).
 * \param signatures presentation-format names ("a.root-servers.net",
 *        trailing dot optional, "\." and "\DDD" escapes allowed), at most
 *        DW_FEAT_MAX_SIGNATURES; duplicates are folded.
 * \param nsig how many (0 disables DW_FEAT_SIGNATURE).
 * A struct dw_conf's char ** lists need a cast to const char *const *
 * (C does not add that qualifier implicitly).
 * \param err receives a one-line reason on failure (may be NULL).
 * \param errlen size of err.
 * \return the set, or NULL on a bad keyword/name (err says which) or ENOMEM.
 */
struct dw_feature_set *dw_feature_set_new(const char *const *keywords, size_t nkw,
                                          const char *const *signatures, size_t nsig, char *err,
                                          size_t errlen);

/** Release a feature set (NULL is fine). */
void dw_feature_set_free(struct dw_feature_set *fs);

/** The set's random name key (dw_features.name_hash is dw_name_hash() with
 *  it); (0, 0) for a NULL set. O(1), any thread. */
void dw_feature_set_name_key(const struct dw_feature_set *fs, uint64_t *k0, uint64_t *k1);

/**
 * Extract the features of one query; runs on every query on resolver worker
 * threads.
 * \param fs the feature set; NULL means no keywords and no signatures.
 * \param qname wire-format name, uncompressed, ending in the root label.
 * \param len its length in bytes, the final 0 included (1..255).
 * \param qtype the query type.
 * \param out filled: qclass always, flags and literal when the name is valid.
 * \return 0, or -1 when the name is malformed (label > 63, a label running
 *         past len, no terminator, bytes after it, len 0 or > 255) or a
 *         pointer is NULL; out->flags is then 0.
 */
int dw_features_of(const struct dw_feature_set *fs, const uint8_t *qname, size_t len,
                   uint16_t qtype, struct dw_features *out);

/**
 * The query path's pre-check: 0 when dw_features_of() would certainly set no
 * flag for this query (and no literal), 1 when it might. Looks at the
 * qtype, the length and the first byte of the first label: a name whose
 * length no signature has, that is not a PTR query, and whose first label
 * can start neither a keyword (A/AAAA) nor an IPv4 literal (A) has none.
 * O(1), no writes; same thread safety as dw_features_of().
 */
int dw_features_possible(const struct dw_feature_set *fs, const uint8_t *qname, size_t len,
                         uint16_t qtype);

/**
 * Presentation to wire format, for tests, tools and configuration.
 * Accepts a trailing dot or not; "." is the root; "\." and "\\" and "\DDD"
 * (exactly three digits, <= 255) escape a byte. Empty labels ("a..b", ""),
 * labels over 63 bytes and names over 255 bytes are errors.
 * \param text NUL-terminated name.
 * \param wire output buffer.
 * \param cap its size.
 * \return the wire length (the final 0 included), or -1 on error or when cap
 *         is too small.
 */
int dw_name_from_text(const char *text, uint8_t *wire, size_t cap);

/**
 * Wire to presentation format, safe for hostile names in logs: bytes outside
 * '!'..'~' (space included) become \DDD; '.', '\\', '"', ';', '(', ')', '@'
 * and '$' inside a label become \X, as in zone files. A valid name always
 * ends in '.' (the root is "."); a malformed one prints the labels that could
 * be read followed by "<malformed>" (no final dot). The text is cut only
 * between whole characters or escapes, and is always NUL-terminated when
 * cap > 0; DW_NAME_TEXT_MAX always suffices.
 * \param wire the name (may be NULL: prints "<malformed>").
 * \param len its length in bytes.
 * \param buf output buffer.
 * \param cap its size.
 */
void dw_name_to_text(const uint8_t *wire, size_t len, char *buf, size_t cap);

#endif
