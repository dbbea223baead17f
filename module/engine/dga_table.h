/**
 * \file
 * The generated table of the DGA character model (module/dga_table.c, made
 * at build time by tools/dga-gen from a word list). Internal to dga.c.
 *
 * dw_dga_tri[a][b][c]: cost of symbol c after symbols a, b in 1/16 bit
 * (-log2 P(c | a b) * 16, clamped to 255); symbol 0 is the word boundary,
 * 1..26 the letters a..z. Read-only, shared by all threads.
 */
#ifndef DW_DGA_TABLE_H
#define DW_DGA_TABLE_H
#include <stdint.h>

extern const uint8_t dw_dga_tri[27][27][27];
#endif
