/**
 * \file
 * A domain name as an operator types it: the one check of a name in
 * presentation form that the YAML (conf.c) and the control verbs
 * (commands_incidents.c) share.
 *
 * What it is for: the names a user writes (RPZ zone names, exempt and
 * protected domains, `incidents --domain`) are plain host names: labels of
 * 1..63 letters, digits, '-' or '_', at most 253 bytes, an optional final
 * dot. They are compared in lower case without the final dot.
 *
 * Cost: O(n). Thread safety: a pure function of caller memory.
 * Errors: -1 for anything else (escapes, spaces, empty labels, too long);
 * nothing is read beyond n bytes, nothing written beyond outlen.
 */
#ifndef DW_DOMTEXT_H
#define DW_DOMTEXT_H

#include <stddef.h>

/** Longest name dw_domain_text() accepts, without the final dot. */
#define DW_DOMTEXT_MAX 253

/** Check the n bytes at s as a domain name and write it to out (outlen
 *  bytes) in lower case, without the final dot, NUL-terminated.
 *  \return its number of labels (>= 1), or -1 when s is no such name or
 *  out is too small. */
int dw_domain_text(const char *s, size_t n, char *out, size_t outlen);

#endif
