/**
 * \file
 * Everything the engine would refuse in a configuration, checked without
 * starting anything: the one validation behind a start, an
 * `unbound-control reload` and the control socket's `reload` verb.
 *
 * What it is for: dw_conf_load() checks the YAML's syntax and ranges; this
 * checks what only the running system can tell — that the detectors' windows
 * fit the client table, that the keyword and signature lists build, that the
 * GeoIP databases open, that the control socket's directory exists and can
 * take a socket, that the state file can be read and saved. A config that
 * passes here is one dw_engine_new() accepts (barring a lack of memory or a
 * socket taken between the check and the start); the adapter adds its own
 * backend check (unbound_module.c).
 *
 * Cost: opens and closes the GeoIP databases (an mmap each) and builds one
 * keyword set; a few stat()/access() calls. Any thread; no shared state.
 * Errors: -1 with one sentence in err naming the key and the path.
 */
#ifndef DW_CONFCHECK_H
#define DW_CONFCHECK_H

#include <stddef.h>

#include "conf.h"

/** 0 when the engine can start with c; -1 with the reason in err. */
int dw_conf_check(const struct dw_conf *c, char *err, size_t errlen);

/** The directory part of path ("." when it has none) into buf; -1 when it
 *  does not fit. */
int dw_conf_dirname(const char *path, char *buf, size_t len);

#endif
