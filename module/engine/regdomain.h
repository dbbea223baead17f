/**
 * \file
 * Registrable domains: the eTLD+1 of a wire-format query name, from the
 * Public Suffix List (libpsl with the list Debian packages).
 *
 * What it is for: a mass-mailing worm asks MX of many DIFFERENT domains, a
 * DNS tunnel asks many names under ONE domain, a DGA bot asks names of many
 * different newly generated domains. All three detectors need "which domain
 * could somebody register here": "a.b.example.co.uk" -> "example.co.uk",
 * "x.github.io" -> "x.github.io" (github.io is a public suffix, private
 * section included), "host.example.com" -> "example.com".
 *
 * Rules: the name is read as lower-case ASCII. A name whose labels hold only
 * letters, digits, '-' and '_' goes to psl_registrable_domain(); a name that
 * IS a public suffix, or has a single label, is its own registrable domain.
 * A name with any other byte (non-ASCII, dots or spaces inside a label:
 * hostile or IDN in raw UTF-8, which resolvers never send) is never passed to
 * libpsl (its IDNA conversion allocates): its registrable domain is its last
 * two labels (or its only one). The root name has none (dw_regdomain_of()
 * returns 0 with off = len - 1, the root label).
 *
 * Cost: dw_regdomain_new() loads the newest list once (psl_latest(): the
 * packaged list file when it is newer than the one built into libpsl; a few
 * hundred KiB, allocated once, on the module's thread at engine build) and
 * reads the packaged list's text (DW_REGDOMAIN_LIST_FILE) into one keyed
 * hash set of its rules' wire forms (exact rules and wildcard bases, about
 * 160 KiB). dw_regdomain_scan() (dw_regdomain_of() and
 * dw_regdomain_tld_listed() are it with one answer) first looks the whole
 * name up in a 4096-slot memo of earlier answers (a keyed hash of the name,
 * then a walk over its labels that checks the answer fits them): a name
 * asked before costs about 130 to 240 instructions (2 to 4 labels; the
 * bench's MX and NXDOMAIN queries, and a loop over one name). Otherwise it makes one pass
 * over the wire labels from the TLD leftwards: 8 bytes at a time it checks
 * that they are letters, digits, '-' or '_' and hashes each suffix of at
 * most (longest rule + 1) labels (a keyed multiply-xorshift hash, no text
 * copy), probes the set once per suffix, and asks libpsl (on a folded text
 * copy made only then) only about a suffix that a rule could make public
 * (the suffix is a rule or a wildcard rule's base, its parent a wildcard
 * rule's base, or it holds an "xn--" label) and that a 4096-slot memo of
 * libpsl's earlier answers does not hold; the TLD's own probe answers
 * dw_regdomain_tld_listed(). Measured with callgrind per call, memo miss
 * (distinct names d<N>.example.com): about 930 instructions (the two calls
 * this replaced: about 1,370); a name under a known domain never reaches
 * libpsl's ~10,000. libpsl stays the authority: the set only says "no rule
 * can reach this suffix". Without the text file every suffix is asked
 * (memoized) and the name memo is not used. No allocation, no lock (each
 * memo slot is one relaxed atomic word; a lost race only costs a second
 * computation), about 1.5 KiB of stack; run only for queries that carry a
 * feature needing it (MX, an NXDOMAIN answer, a long first label).
 * Thread safety: a built struct dw_regdomain is read-only but for the memos;
 * any number of threads may call dw_regdomain_scan() at once. Free it when
 * nobody uses it.
 * Errors: dw_regdomain_new() returns NULL with a reason (no list could be
 * loaded); dw_regdomain_of() returns -1 for a malformed wire name.
 */
#ifndef DW_REGDOMAIN_H
#define DW_REGDOMAIN_H

#include <stddef.h>
#include <stdint.h>

/** The loaded Public Suffix List (opaque, immutable). */
struct dw_regdomain;

/** The packaged list's text (Debian package publicsuffix), read once to rule
 *  most suffixes out without asking libpsl. */
#ifndef DW_REGDOMAIN_LIST_FILE
#define DW_REGDOMAIN_LIST_FILE "/usr/share/publicsuffix/public_suffix_list.dat"
#endif

/** Most extra public suffixes (public_suffixes: in the YAML). */
#define DW_REGDOMAIN_MAX_EXTRA 256

/** Load the list (psl_latest(), else the built-in one), plus extra public
 *  suffixes: presentation names (lower case, no final dot) under which every
 *  child is its own registrable domain, as if the list had them (a campus's
 *  "users.campus.example" whose subdomains belong to different people; the
 *  test world's victim.lab). The longest matching suffix wins, list or
 *  extra. At most DW_REGDOMAIN_MAX_EXTRA. NULL with err. */
struct dw_regdomain *dw_regdomain_new(const char *const *extra, size_t nextra, char *err,
                                      size_t errlen);

/** Release it (NULL is fine). */
void dw_regdomain_free(struct dw_regdomain *rd);

/**
 * Where the registrable domain of a wire name starts.
 * \param rd the list.
 * \param qname wire-format name ending in the root label.
 * \param len its length, the final 0 included (1..255).
 * \param off receives the offset in qname of the registrable domain's first
 *        length byte (0 when the whole name is registrable, len - 1 for the
 *        root name).
 * \return the number of labels before it (0 when none), or -1 for a
 *         malformed name or a NULL pointer.
 */
int dw_regdomain_of(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off);

/**
 * dw_regdomain_of() and dw_regdomain_tld_listed() in one pass: the
 * registrable domain's offset in *off (the return value as
 * dw_regdomain_of()'s) and, when listed is not NULL, the TLD test's 1 or 0
 * in *listed (untouched on -1). The per-query path calls this once per
 * query that needs either.
 */
int dw_regdomain_scan(const struct dw_regdomain *rd, const uint8_t *qname, size_t len, size_t *off,
                      int *listed);

/** A wire name's keyed hash as dw_name_hash() (feature.h) computes it,
 *  before its final mix: with the key given to dw_regdomain_set_name_key(),
 *  dw_name_hash_end(h, k1) is dw_name_hash(k0, k1, name) (the suspect
 *  store's hash), so a query that scans its name need not hash it again. */
struct dw_name_run {
	uint64_t h;
	int upper; /**< the name holds a letter A-Z */
	int valid; /**< h and upper are set (the name is well formed) */
};

/** dw_regdomain_scan() that also fills run (may be NULL) with the name's
 *  hash, which its name memo computes anyway. */
int dw_regdomain_scan_run(const struct dw_regdomain *rd, const uint8_t *qname, size_t len,
                          size_t *off, int *listed, struct dw_name_run *run);

/** The start key k0 of dw_name_hash() the name memo uses from now on (the
 *  feature set's, dw_feature_set_name_key()); empties the name memo. Module
 *  thread, before any query (not thread-safe against dw_regdomain_scan()). */
void dw_regdomain_set_name_key(struct dw_regdomain *rd, uint64_t k0);

/**
 * Whether a wire name ends in a real top-level domain: one the Public Suffix
 * List names (its rule, or a wildcard rule's base), or the last label of an
 * extra public suffix (public_suffixes:). A name under any other TLD
 * ("dnscat.6b1c.f3", "pirate.sea", "printer.lan") cannot be registered on
 * the Internet: libpsl's implicit "*" rule would make every such name its
 * own registrable domain, so a tunnel that talks to its server directly
 * without a domain would look like many domains. The detectors group these
 * names under one pseudo base (names.h). An "xn--" TLD counts as listed.
 * Cost: dw_regdomain_scan()'s; no allocation, any thread.
 * \return 1 listed (or the root name), 0 not, -1 malformed or NULL.
 */
int dw_regdomain_tld_listed(const struct dw_regdomain *rd, const uint8_t *qname, size_t len);

/** A keyed 32-bit hash of a wire name suffix, ASCII case folded: the
 *  identity of a domain in the per-client sets (namestate.h), where a
 *  collision only makes two names count once. dw_name_hash() (feature.h)
 *  with key; O(len), about 40 instructions for 18 bytes. */
uint32_t dw_name_hash32(uint64_t key, const uint8_t *wire, size_t len);

#endif
