/**
 * \file
 * UTF-8 validity of one sequence (RFC 3629): what the control socket's
 * JSON output keeps as it is and what it replaces with U+FFFD.
 *
 * What it is for: one definition of "valid UTF-8" for the output builder
 * (control_out.c) and for the JSON checks of the tests.
 *
 * Cost: O(1), at most 4 bytes read. Thread safety: a pure function.
 * Errors: none; an invalid sequence has length 0.
 */
#ifndef DW_UTF8_H
#define DW_UTF8_H

#include <stddef.h>

/** Length (2..4) of the valid multi-byte UTF-8 sequence at s, reading at
 *  most n bytes; 0 when it is not one (ASCII, a stray continuation byte,
 *  an overlong form, a surrogate, beyond U+10FFFF, cut short). */
size_t dw_utf8_len(const unsigned char *s, size_t n);

#endif
