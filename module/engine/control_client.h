/**
 * \file
 * The client side of the control socket's protocol (control.h): one
 * request line out, the whole answer in, its first line read.
 *
 * What it is for: the programs that talk to a running dnswarden
 * (dnswarden-control, dnswarden-mailwatch, dwpcap -s) share one client, so
 * they time out, cap the answer and read "ok" / "error N ..." the same way.
 * The module itself never calls it.
 *
 * Cost: one connection and one malloc'ed buffer of at most max bytes; the
 * whole exchange (connect, send, read) is bounded by timeout_s seconds.
 * Thread safety: none needed (no state but the caller's). Errors: returned
 * as a DW_CTLCALL_* value with one line for a person in err.
 */
#ifndef DW_CONTROL_CLIENT_H
#define DW_CONTROL_CLIENT_H

#include <stddef.h>

#include "control.h"

/** Largest answer worth reading: the server's body cap plus its first line. */
#define DW_CONTROL_MAX_ANSWER (DW_CONTROL_MAX_RESPONSE + 1024)

/** Why dw_control_call() read no answer (0: it did). */
enum dw_ctlcall_fail {
	DW_CTLCALL_OK = 0,
	DW_CTLCALL_PATH,    /**< the path is empty or too long for a socket */
	DW_CTLCALL_CONNECT, /**< cannot connect (errnum says why) */
	DW_CTLCALL_IO,      /**< sending or reading failed (errnum) */
	DW_CTLCALL_TIMEOUT, /**< no complete answer within the time */
	DW_CTLCALL_TOOBIG,  /**< the answer is larger than max */
	DW_CTLCALL_NOMEM,   /**< out of memory */
	DW_CTLCALL_ANSWER   /**< an answer that is neither "ok" nor "error N ..." */
};

/** An answer read by dw_control_call(). */
struct dw_control_reply {
	char *buf;        /**< the whole answer, NUL-terminated (free with _free) */
	size_t len;       /**< its length */
	int status;       /**< 0 "ok"; 1 or 2 "error STATUS MESSAGE" */
	const char *body; /**< status 0: the body; else the message (no newline) */
	size_t body_len;  /**< bytes at body */
	int errnum;       /**< the errno of a failed step, else 0 */
};

/**
 * Send one request to the control socket at path and read the answer to
 * the server's close.
 * \param request the whole request line, newline included
 *        ("DWCTL1 dump_whitelist\n").
 * \param timeout_s seconds for the whole exchange.
 * \param max most answer bytes accepted (DW_CONTROL_MAX_ANSWER).
 * \param r filled; on success r->buf is the caller's to free
 *        (dw_control_reply_free()), on failure it is NULL.
 * \param err receives what went wrong, naming path ("cannot connect to
 *        /run/x.ctl: No such file or directory (is unbound running with
 *        dnswarden?)").
 * \return DW_CTLCALL_OK, or the failure.
 */
int dw_control_call(const char *path, const char *request, int timeout_s, size_t max,
                    struct dw_control_reply *r, char *err, size_t errlen);

/** Release an answer (a zeroed or failed one is fine). */
void dw_control_reply_free(struct dw_control_reply *r);

#endif
