/**
 * \file
 * The generated table of the DGA character model (module/dga_table.c, made
 * at build time by tools/dga-gen from a word list). Internal to dga.c.
 *
 * dw_dga_tri[a][b][c]: cost of symbol c after symbols a, b in 1/16 bit
 * (-log2 P(c | a b) * 16, clamped to 255); symbol 0 is the word boundary,
 * 1..26 the letters a..z.
 *
 * dw_dga_dict[]: the dictionary of the word segmentation, lower-case words
 * of 3..24 letters as a minimal acyclic automaton: a state is a run of
 * edges, one uint32_t each: bits 0-4 the letter (1..26), bit 5 "a word ends
 * after this letter", bit 6 "last edge of the run", bits 7-31 the index of
 * the target state's first edge (0: none). The root's run starts at index 1.
 * Read-only, shared by all threads.
 */
#ifndef DW_DGA_TABLE_H
#define DW_DGA_TABLE_H
#include <stdint.h>

extern const uint8_t dw_dga_tri[27][27][27];
extern const uint32_t dw_dga_dict[];
extern const uint32_t dw_dga_dict_len;
#endif
