/**
 * \file
 * Where the engine's log lines go: the one callback type every unit that
 * logs takes (engine, control socket, events, incidents), so that none of
 * them needs engine.h for it.
 *
 * Cost, thread safety, errors: as the callback's own contract below.
 */
#ifndef DW_LOGFN_H
#define DW_LOGFN_H

/** Where the engine's log lines go: one complete line ("dnswarden: ..."),
 *  without a newline. prio is a <syslog.h> priority (LOG_NOTICE …). Called
 *  from the module's own thread for events, and from a worker thread only for
 *  the debug.log_queries lines. Must be thread-safe. */
typedef void (*dw_log_fn)(void *arg, int prio, const char *line);

#endif
