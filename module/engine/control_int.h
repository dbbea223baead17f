/**
 * \file
 * What the control socket's three files share and nobody else sees: the
 * response being built (struct dw_out) and the calls that start and finish
 * one. control_out.c fills it, control_request.c turns a request line into a
 * response with it, control.c (the server) sends error lines built here.
 *
 * Cost: a struct dw_out is about 600 bytes (its buffer is malloc'ed as it
 * grows). Thread safety: none; one response is built by one thread.
 */
#ifndef DW_CONTROL_INT_H
#define DW_CONTROL_INT_H

#include <stddef.h>

#include "control.h"

/** The first line of a successful response. */
#define OK_LINE "ok\n"
/** Longest error message sent (longer ones are cut). */
#define MSG_MAX 512

/** Where the builder is: at the top level, inside a list, inside an item. */
enum frame { FR_TOP = 0, FR_LIST, FR_ITEM };

struct dw_out {
	int json;
	unsigned uid;
	char *buf; /**< the whole response: OK_LINE, then the body */
	size_t len, cap;
	size_t limit; /**< largest len allowed */
	int status;   /**< 0, or the error status once an error is set */
	char msg[MSG_MAX];
	enum frame frame;
	size_t top_n;    /**< members of the top-level object so far */
	size_t items_n;  /**< items of the current list */
	size_t fields_n; /**< fields of the current item */
	int text_open;   /**< JSON: the "text" string is open */
	int text_done;   /**< JSON: the "text" member was closed */
};

/** Start a response: OK_LINE, and "{" for JSON. Cannot fail (an allocation
 *  failure shows later as an error status). */
void dw_out_init(struct dw_out *out, int json, unsigned uid);

/** Close the body and hand over the response buffer (malloc'ed, for the
 *  caller to free; NULL on ENOMEM): the body, or the error line once an
 *  error was set. */
char *dw_out_finish(struct dw_out *out, size_t *len);

/** The "error STATUS MESSAGE\n" line in a new buffer (NULL on ENOMEM); the
 *  message is cut at MSG_MAX and bytes that would break the line become '?'. */
char *dw_control_error_line(int status, const char *msg, size_t *len);

/** Is k a valid field, list or verb name ([A-Za-z0-9_.-]+)? */
int dw_out_key_ok(const char *k);

#endif
