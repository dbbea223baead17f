/**
 * \file
 * How machine-generated one DNS label looks: the character model of the
 * `dga` detector.
 *
 * Model: a letter-trigram language model of words people write, built at
 * build time by tools/dga-gen from Debian's wamerican word list (no
 * hand-copied data): the cost, in bits, of each letter given the two before
 * it, mixed with a word break so that words run together ("stackoverflow")
 * stay cheap. A label is split into runs of letters (case folded); each run
 * is scored as a word with its start and end; a digit or any byte other
 * than a letter or '-' costs 5 bits; '-' only ends a run. The score is the
 * label's total cost minus 3.5 bits per symbol, i.e. how many more bits the
 * label costs under the word model than under a random one: a sum, not a
 * mean, so that length counts (a short odd abbreviation is weak evidence, a
 * long random label strong), mapped linearly to 0..DW_DGA_SCORE_MAX (-30
 * bits or less scores 0, +70 or more scores DW_DGA_SCORE_MAX). An IDN
 * A-label ("xn--...") is scored on its basic letters only: its encoded part
 * looks random by design.
 *
 * Why: random-letter and hex-like DGA families (most of them) cost 6 to 9
 * bits per letter under the word model, names people choose 2 to 4. It
 * cannot see dictionary DGAs (several real words run together, e.g.
 * "transitionaccountseparate") and misses part of the pronounceable ones
 * ("goxuseb"); its false positives are mostly acronym-heavy or non-English
 * labels ("ufscnet", "szivderito"). On nDPI's DGA lists (tools/dev/eval-dga,
 * threshold tuned on one half, measured on the other): precision 0.95,
 * recall 0.68 per label.
 *
 * Per client, the detector's real question (tools/dev/eval-dga --clients:
 * the held-out halves as a Zeek log through dnswarden-scan with the shipped
 * etc/dnswarden.yaml, 20 generated-looking NXDOMAIN domains in 10 minutes,
 * seed 1): 100 bots asking 687 names in 6 minutes (the rate of the real bot
 * of issue 16), names drawn at random from the DGA list, all answered
 * NXDOMAIN: 100 caught, after a median of 29 queries (at most 41). One bot
 * per "shape" of the list (suffix, character classes, length band: a
 * stand-in for one family; 84 % of the names): 48 of 54 caught (median 20
 * queries, at most 102); the 6 missed are the dictionary families
 * ("associatemodelloanpicture"). 100 benign clients per rate, names drawn
 * from the benign list for one hour, EVERY answer NXDOMAIN (the worst
 * case): none flagged at 1 or 6 names a minute, 12 at 30 a minute, all at
 * 60 (3.4 % of held-out benign labels score above the threshold: about 600
 * distinct NXDOMAIN domains in 10 minutes make 20).
 *
 * Ceiling per label on those lists (33,746 DGA names): 3,172 (9.4 %) are
 * made only of English words of wamerican ("coupleshootclueinterview"), as
 * are 30 % of the benign labels; 531 (1.6 %) are hosts of dynamic-DNS
 * providers the Public Suffix List does not list, so the label scored is
 * the provider's ("dynserv", "mooo", "yi"); 769 more are 6 letters or
 * fewer. No character model of one label separates these (13 % of the DGA
 * list) from chosen names. Tried (held-out P / R on the even lines, fitted
 * on the odd ones): letter trigrams of 11 Debian word lists mixed (German,
 * French, Spanish, Polish, ...: the false positives are mostly non-English)
 * plus length, digit ratio, vowel ratio, consonant runs, hex-likeness and
 * character variety in a logistic model 0.951 / 0.710; adding trigram
 * log-ratios fitted on nDPI's own lists 0.946 / 0.796, which learns those
 * lists' families rather than machine-made names in general. A model of
 * CHOSEN names instead of words (the same trigrams, fitted on 28,000
 * registrable labels of sites Debian ships: webext-ublock-origin's
 * cosmetic-filter sites, spamassassin's rules, privoxy's actions, the PSL;
 * names of the test lists removed) 0.951 / 0.713 at its own tuned
 * threshold (this model: 0.949 / 0.683 at its tuned 546); mixed with the
 * words (interpolated or the lower cost) no better; a ratio against a
 * second model of ad-network and badware names from the same package
 * 0.951 / 0.693 at best. Not shipped: 3 points of recall per label, but no
 * separation of the per-client misses: it calls 4.6 % of the held-out
 * dictionary-DGA labels generated (this model 1.1 %), about as many as the
 * benign labels it calls generated (3.6 %; this model 3.4 %), so a
 * dictionary bot would be caught only the way an all-NXDOMAIN benign
 * client at 60 names a minute is; and the build would depend on a 14 MB
 * browser-extension package whose lists change with every update.
 *
 * Cost: O(len), one table read per byte, no allocation, no I/O; the table
 * is 19,683 bytes of read-only data; 346 instructions a call on nDPI's
 * labels (12.4 bytes on average; callgrind, -O2). Thread safety: pure function, any
 * thread. Errors: none; hostile bytes are just costly symbols.
 */
#ifndef DW_DGA_H
#define DW_DGA_H
#include <stddef.h>
#include <stdint.h>

/** The highest score dw_dga_score() returns. */
#define DW_DGA_SCORE_MAX 1000u

/** Default threshold: a label scoring above it is called generated (the
 * lowest threshold with precision >= 0.95 on half of nDPI's lists). */
#define DW_DGA_THRESHOLD 550u

/* How machine-generated one DNS label looks: 0..DW_DGA_SCORE_MAX. Pure, O(len),
 * thread-safe, no allocation. label = the label's bytes (no length byte), len 1..63.
 * Upper case is folded; a NULL label or a len of 0 or above 63 scores 0. */
unsigned dw_dga_score(const uint8_t *label, size_t len);
#endif
