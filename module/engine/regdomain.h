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
 * reads the packaged list's text (DW_REGDOMAIN_LIST_FILE) into two keyed hash
 * sets of its rules (about 160 KiB). dw_regdomain_of() hashes each suffix of
 * at most (longest rule + 1) labels once (a keyed multiply-xorshift hash) and asks libpsl only
 * about a suffix that a rule could make public (the suffix is a rule or a wildcard rule's base, its
 * parent a wildcard rule's base, it is one label or holds an "xn--" label) and that a 4096-slot
 * memo of libpsl's earlier answers does not hold: a name under a known domain
 * ("mx.example.com") costs three hashes and a memo hit instead of libpsl's ~10,000 instructions.
 * libpsl stays the authority: the sets only say "no rule can reach this suffix". Without the text
 * file every suffix is asked (memoized). No allocation, no lock (the memo is one relaxed atomic
 * word a slot; a lost race only costs a second libpsl call), about 1.5 KiB of
 * stack; run only for queries that carry a feature needing it (MX, an
 * NXDOMAIN answer, a long first label).
 * Thread safety: a built struct dw_regdomain is read-only but for the memo;
 * any number of threads may call dw_regdomain_of() at once. Free it when
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

/**
 * Whether a wire name ends in a real top-level domain: one the Public Suffix
 * List names (its rule, or a wildcard rule's base), or the last label of an
 * extra public suffix (public_suffixes:). A name under any other TLD
 * ("dnscat.6b1c.f3", "pirate.sea", "printer.lan") cannot be registered on
 * the Internet: libpsl's implicit "*" rule would make every such name its
 * own registrable domain, so a tunnel that talks to its server directly
 * without a domain would look like many domains. The detectors group these
 * names under one pseudo base (names.h). An "xn--" TLD counts as listed.
 * Cost: O(len), one keyed hash and two set probes (libpsl once when the list
 * file could not be read); no allocation, any thread.
 * \return 1 listed (or the root name), 0 not, -1 malformed or NULL.
 */
int dw_regdomain_tld_listed(const struct dw_regdomain *rd, const uint8_t *qname, size_t len);

/** A keyed 32-bit hash of a wire name suffix, ASCII case folded: the
 *  identity of a domain in the per-client sets (namestate.h). O(len). */
uint32_t dw_name_hash32(uint64_t key, const uint8_t *wire, size_t len);

#endif
