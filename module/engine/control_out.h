/**
 * \file
 * The control socket's output builder: what a command handler (struct
 * dw_command of control.h) writes its answer with.
 *
 * Cost: each call appends to one growing buffer, capped at the response
 * limit (control.h); past it the answer becomes an error line.
 * Thread safety: none; a response is built by the one thread running the
 * handler. Errors: none returned; the first dw_out_error() or misuse
 * decides the answer (see below).
 */
#ifndef DW_CONTROL_OUT_H
#define DW_CONTROL_OUT_H

#include <stdint.h>

/** A response being built; handed to command handlers. */
struct dw_out;

/* ---- output builder (for handlers) ----------------------------------------
 * One set of calls produces either format. Keys are [A-Za-z0-9_.-]+.
 *   plain: top-level fields are "key=value" lines; each list item is one line
 *          of space-separated fields; list names are not printed; text is
 *          written as is.
 *   JSON:  one object: fields are members ("key":"value" / "key":123),
 *          a list is "name":[{...},{...}], text is the member "text".
 * Lists hold items, items hold fields; lists are not nested. The first
 * dw_out_error() wins and discards the body; misuse (a field between items,
 * an unclosed list, ...) turns the answer into "error 1 internal error: ...".
 */

/** A string field: value is printf(fmt, ...). */
void dw_out_kv(struct dw_out *out, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** A number field (JSON: unquoted). */
void dw_out_kv_u64(struct dw_out *out, const char *key, uint64_t v);

/** A signed number field (JSON: unquoted). */
void dw_out_kv_i64(struct dw_out *out, const char *key, int64_t v);

/** A field whose value is a JSON text json (JSON: inserted as is, so it must
 *  be valid JSON; plain: written like a string field). */
void dw_out_kv_json(struct dw_out *out, const char *key, const char *json);

/** A yes/no field (plain: yes|no; JSON: true|false). */
void dw_out_kv_bool(struct dw_out *out, const char *key, int v);

/** Start the list name (at the top level only). */
void dw_out_list_begin(struct dw_out *out, const char *name);

/** Start one record of the current list. */
void dw_out_item_begin(struct dw_out *out);

/** End the current record. */
void dw_out_item_end(struct dw_out *out);

/** End the current list. */
void dw_out_list_end(struct dw_out *out);

/** Append raw text (metrics, nft): plain as is; JSON into the one "text"
 *  member (consecutive calls append to it). */
void dw_out_text(struct dw_out *out, const char *s);

/** Like dw_out_text() with printf formatting. */
void dw_out_textf(struct dw_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Answer "error status message" instead of a body; status 2 for usage
 *  errors, 1 for the rest (anything else counts as 1). First call wins. */
void dw_out_error(struct dw_out *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Did the client ask for JSON? */
int dw_out_is_json(const struct dw_out *out);

/** The peer's user id (SO_PEERCRED), e.g. for an audit field in a log line. */
unsigned dw_out_peer_uid(const struct dw_out *out);

#endif
