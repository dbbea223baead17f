/**
 * \file
 * How machine-generated one DNS label looks: the character model of the
 * `dga` detector.
 *
 * Model: a letter-trigram language model of English words, built at build
 * time by tools/dga-gen from Debian's wamerican word list (no hand-copied
 * data): the cost of each letter given the two before it, in bits. A label
 * is split into runs of letters; each run is scored as a word (with its
 * start and end), digits and other bytes add a fixed cost. The score is the
 * mean cost per symbol, scaled to 0..DW_DGA_SCORE_MAX. Names people choose
 * are made of pronounceable pieces of words and cost few bits per letter;
 * random letters (most DGA families) cost many.
 *
 * Cost: O(len), no allocation, no I/O; the table is 19,683 bytes of
 * read-only data. Thread safety: pure function, any thread.
 */
#ifndef DW_DGA_H
#define DW_DGA_H
#include <stddef.h>
#include <stdint.h>

/** The highest score dw_dga_score() returns. */
#define DW_DGA_SCORE_MAX 1000u

/** Default threshold: a label scoring above it is called generated. */
#define DW_DGA_THRESHOLD 580u

/* How machine-generated one DNS label looks: 0..DW_DGA_SCORE_MAX. Pure, O(len),
 * thread-safe, no allocation. label = the label's bytes (no length byte), len 1..63.
 * Upper case is folded; a NULL label or a len of 0 or above 63 scores 0. */
unsigned dw_dga_score(const uint8_t *label, size_t len);
#endif
