/**
 * \file
 * The control socket: what dnswarden-control(8) talks to.
 *
 * What it is for: a Unix-domain stream socket (mode 0660, group
 * control.group) on which root and members of the group run one command per
 * connection. This unit owns the socket, the connections, the peer check,
 * the wire protocol (control.c, control_request.c); the engine owns the
 * verbs (a table of struct dw_command) and fills the answers through the
 * output builder of control_out.h.
 *
 * Wire protocol, version 1 (see dnswarden-control(8)):
 *   request   "DWCTL1 [--json] VERB [ARG ...]\n"   one line, at most
 *             DW_CONTROL_MAX_LINE bytes with its newline; tokens of printable
 *             ASCII separated by single spaces; at most DW_CONTROL_MAX_ARGS
 *             arguments; sent within DW_CONTROL_READ_MS of the connect.
 *   response  "ok\n" BODY, or "error STATUS MESSAGE\n" (STATUS 1: refused or
 *             failed, 2: usage), then the server closes the connection.
 *             BODY is plain text (key=value lines, one record per line, or
 *             raw text) or, with --json, one JSON document and a newline.
 *
 * Peers (SO_PEERCRED at accept): uid 0, the process's own user, a peer
 * whose gid is the group's, or one holding the group among its
 * supplementary groups: the kernel's list for the connecting process
 * (SO_PEERGROUPS, the same credentials the file mode was checked against),
 * or on kernels older than 4.13 getpwuid() + getgrouplist(), which may ask
 * NSS. Anyone else gets "error 1 permission denied ..." and is logged.
 *
 * Plain values: written bare when they are non-empty printable ASCII without
 * space, '"' or '\'; otherwise in double quotes with C escapes (\" \\ \n \r
 * \t, \xHH for any other byte below 0x20 or above 0x7e). So a line always
 * splits on spaces outside quotes, and k=v splits at the first '='.
 *
 * Cost: one listening fd and at most DW_CONTROL_MAX_CONNS connections, each
 * a 4 KiB request buffer plus its response (capped at
 * DW_CONTROL_MAX_RESPONSE; all responses not yet read at about
 * DW_CONTROL_MAX_HELD together: a response built while slow readers hold
 * the rest is answered "error 1 busy ..."). dw_control_service() never blocks: accept, read
 * and write are non-blocking; a handler runs synchronously inside it.
 * Thread safety: none. One thread (the module's own) calls everything for a
 * given struct dw_control; handlers and the log function run on that thread.
 * A handler must not free the control that called it.
 * Errors: dw_control_new() returns NULL and writes one line a person can act
 * on to err. Run-time problems are answered to the client ("error ...") and,
 * for refused peers, logged as "dnswarden: event=control_denied ..."
 * (LOG_WARNING, at most DW_CONTROL_DENIED_RATE lines a second; the next line
 * after a suppression carries suppressed=N).
 */
#ifndef DW_CONTROL_H
#define DW_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "control_out.h" /* struct dw_out and the dw_out_*() calls for handlers */
#include "logfn.h"       /* dw_log_fn */

/** First token of every request: protocol name and version. */
#define DW_CONTROL_MAGIC "DWCTL1"
/** Longest request line, newline included. */
#define DW_CONTROL_MAX_LINE 4096
/** Most arguments after the verb. */
#define DW_CONTROL_MAX_ARGS 16
/** Milliseconds a client has from connect to a complete request line. */
#define DW_CONTROL_READ_MS 5000
/** Milliseconds a client has to read the whole response. */
#define DW_CONTROL_WRITE_MS 30000
/** Connections served at once; more are answered "error 1 ..." and closed. */
#define DW_CONTROL_MAX_CONNS 32
/** Largest response body; a larger one becomes "error 1 response too large". */
#define DW_CONTROL_MAX_RESPONSE ((size_t)64 << 20)
/** Response bytes all connections together may hold unsent (slow readers);
 *  past it a response is cut to what is left, but never below
 *  DW_CONTROL_MIN_RESPONSE, so the total held is at most
 *  DW_CONTROL_MAX_HELD + DW_CONTROL_MAX_CONNS × DW_CONTROL_MIN_RESPONSE. */
#define DW_CONTROL_MAX_HELD ((size_t)64 << 20)
/** A response every connection may have whatever the others hold. */
#define DW_CONTROL_MIN_RESPONSE ((size_t)64 << 10)
/** Room dw_control_pollfds() may need: the listener and every connection. */
#define DW_CONTROL_MAX_POLLFDS (1 + DW_CONTROL_MAX_CONNS)
/** control_denied lines logged per second at most. */
#define DW_CONTROL_DENIED_RATE 10

/** One verb of the command table. */
struct dw_command {
	const char *verb;       /**< "block" */
	int min_args, max_args; /**< arguments after the verb (max <= DW_CONTROL_MAX_ARGS) */
	const char *usage;      /**< "block ADDR [DURATION] [ACTION]", sent with usage errors */
	/** Answer the request: argv[0..argc-1] are the arguments after the verb
	 *  (argv[argc] is NULL; each is printable ASCII, non-empty), already
	 *  counted against min_args/max_args but otherwise unchecked. */
	void (*fn)(void *arg, int argc, char **argv, struct dw_out *out);
};

struct dw_control;

/**
 * Create the listening socket at path.
 * A socket file nobody listens on (left by a crash) is replaced; a live one
 * is an error, and so is any other kind of file there. The socket gets mode
 * 0660 and the group group (getgrnam(), or a number); NULL or "" leaves the
 * group alone and admits root only.
 * \param path   the socket's file name (shorter than 108 bytes)
 * \param group  who besides root may connect
 * \param cmds   the command table (borrowed; must outlive the control)
 * \param ncmds  its length
 * \param arg    passed to every handler
 * \param log    where control_denied lines go (NULL: nowhere)
 * \param log_arg passed to log
 * \param err    receives the reason on failure
 * \param errlen its size
 * \return the control, or NULL with the reason in err.
 */
struct dw_control *dw_control_new(const char *path, const char *group,
                                  const struct dw_command *cmds, size_t ncmds, void *arg,
                                  dw_log_fn log, void *log_arg, char *err, size_t errlen);

/** Close every connection (pending responses are dropped), close the
 *  listener and unlink the socket file if it is still ours. NULL is fine. */
void dw_control_free(struct dw_control *c);

/** Response bytes the connections hold now (not yet read by their peers). */
size_t dw_control_held(const struct dw_control *c);

/** Fill fds (room for max; DW_CONTROL_MAX_POLLFDS is always enough) with
 *  what to poll() for; returns how many were filled. */
size_t dw_control_pollfds(struct dw_control *c, struct pollfd *fds, size_t max);

/** Milliseconds until the earliest connection deadline (0 if past), or -1
 *  when there is none; a poll() timeout no longer than this keeps the
 *  per-connection time limits exact. */
int dw_control_timeout(const struct dw_control *c, uint64_t now_ms);

/** Act on what poll() reported in fds[0..n-1] (as filled by
 *  dw_control_pollfds(), revents set): accept, check peers, read, run
 *  handlers, write, and expire connections past their deadline at now_ms
 *  (monotonic milliseconds). Never blocks (handlers aside). */
void dw_control_service(struct dw_control *c, const struct pollfd *fds, size_t n, uint64_t now_ms);

/**
 * Answer one request line without a socket: what a connection gets for it.
 * Checks the bytes, splits the tokens, finds the verb, counts the arguments
 * and runs the handler with arg (as dw_control_service() does; used by it,
 * by tests and by the fuzzer t/fuzz/fuzz_control.c).
 * \param cmds, ncmds the command table
 * \param arg    passed to the handler
 * \param uid    the peer's user id, as dw_out_peer_uid() reports it
 * \param line   the request without its newline, NUL-terminated at linelen;
 *               modified (split into tokens)
 * \param linelen its length
 * \param limit  the most bytes the response may take (0: the built-in cap);
 *               a longer one is cut with an error line
 * \param rlen   receives the response's length
 * \return the response ("ok\n" BODY or "error STATUS MESSAGE\n"), malloc'ed,
 *         for the caller to free; NULL when out of memory.
 */
char *dw_control_request(const struct dw_command *cmds, size_t ncmds, void *arg, unsigned uid,
                         char *line, size_t linelen, size_t limit, size_t *rlen);

#endif
