/**
 * \file
 * The control socket's output builder (control_out.h): one set of calls
 * that command handlers fill, written as plain key=value lines or as one
 * JSON document, bounded by the response cap.
 */
#include "control_int.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Record the first error; the body is dropped at once (it may be large). */
static void out_vfail(struct dw_out *out, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void out_vfail(struct dw_out *out, int status, const char *fmt, va_list ap)
{
	if (out->status)
		return;
	out->status = status == 2 ? 2 : 1;
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	free(out->buf);
	out->buf = NULL;
	out->len = out->cap = 0;
}

/** out_vfail() with arguments. */
static void out_fail(struct dw_out *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void out_fail(struct dw_out *out, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	out_vfail(out, status, fmt, ap);
	va_end(ap);
}

/** A handler used the builder the wrong way: that is our bug, say so. */
#define misuse(out, what) out_fail((out), 1, "internal error: %s", (what))

/** Append n bytes; 0, or -1 once the response is in error. */
static int put(struct dw_out *out, const char *s, size_t n)
{
	if (out->status)
		return -1;
	if (n > out->limit - out->len) {
		if (out->limit < sizeof(OK_LINE) - 1 + DW_CONTROL_MAX_RESPONSE)
			out_fail(out, 1,
			         "busy: slow clients hold %zu MiB of responses not yet read; "
			         "try again",
			         DW_CONTROL_MAX_HELD >> 20);
		else
			out_fail(out, 1, "response too large (more than %zu MiB)",
			         DW_CONTROL_MAX_RESPONSE >> 20);
		return -1;
	}
	if (out->len + n > out->cap) {
		size_t cap = out->cap < 4096 ? 4096 : out->cap * 2;
		char *nb;
		if (cap < out->len + n)
			cap = out->len + n;
		if (cap > out->limit)
			cap = out->limit;
		nb = realloc(out->buf, cap);
		if (nb == NULL) {
			out_fail(out, 1, "out of memory building the response");
			return -1;
		}
		out->buf = nb;
		out->cap = cap;
	}
	memcpy(out->buf + out->len, s, n);
	out->len += n;
	return 0;
}

/** Append a NUL-terminated string. */
static int puts_(struct dw_out *out, const char *s)
{
	return put(out, s, strlen(s));
}

/** Append the inside of a JSON string (no quotes): escapes what JSON needs,
 *  keeps valid UTF-8, turns invalid bytes into U+FFFD. */
static int put_json_chars(struct dw_out *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char esc[8];

	while (i < n) {
		unsigned char c = p[i];
		const char *rep = NULL;
		size_t u;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (u = dw_utf8_len(p + i, n - i)) > 0) {
			i += u;
			continue;
		}
		if (put(out, s + run, i - run) < 0)
			return -1;
		switch (c) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		default:
			if (c >= 0x80)
				rep = "\\ufffd";
			else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				rep = esc;
			}
		}
		if (puts_(out, rep) < 0)
			return -1;
		i++;
		run = i;
	}
	return put(out, s + run, n - run);
}

/** Append a quoted JSON string. */
static int put_json_str(struct dw_out *out, const char *s, size_t n)
{
	if (put(out, "\"", 1) < 0 || put_json_chars(out, s, n) < 0)
		return -1;
	return put(out, "\"", 1);
}

/** Can a plain value go out without quotes? */
static int plain_bare(const char *s, size_t n)
{
	size_t i;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/** Append a plain value, quoted and escaped when it must be (control.h). */
static int put_plain_value(struct dw_out *out, const char *s, size_t n)
{
	size_t i, run = 0;
	char esc[8];

	if (plain_bare(s, n))
		return put(out, s, n);
	if (put(out, "\"", 1) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			continue;
		if (put(out, s + run, i - run) < 0)
			return -1;
		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			rep = esc;
		}
		if (puts_(out, rep) < 0)
			return -1;
		run = i + 1;
	}
	if (put(out, s + run, n - run) < 0)
		return -1;
	return put(out, "\"", 1);
}

/** Keys and list names are [A-Za-z0-9_.-]+: nothing to escape, ever. */
int dw_out_key_ok(const char *k)
{
	const char *p;
	if (k == NULL || *k == '\0')
		return 0;
	for (p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/** Close the JSON "text" member if it is open. */
static void text_close(struct dw_out *out)
{
	if (out->json && out->text_open) {
		put(out, "\"", 1);
		out->text_open = 0;
		out->text_done = 1;
	}
}

/** Plain mode: start a new line unless the body is at one already. */
static void plain_newline(struct dw_out *out)
{
	if (!out->json && out->len > sizeof(OK_LINE) - 1 && out->buf[out->len - 1] != '\n')
		put(out, "\n", 1);
}

/** Write what comes before a field's value; -1 when nothing may be written. */
static int field_begin(struct dw_out *out, const char *key)
{
	if (out->status)
		return -1;
	if (!dw_out_key_ok(key)) {
		misuse(out, "field name is empty or not [A-Za-z0-9_.-]");
		return -1;
	}
	if (out->frame == FR_LIST) {
		misuse(out, "field outside an item of a list");
		return -1;
	}
	text_close(out);
	if (out->json) {
		size_t *n = out->frame == FR_TOP ? &out->top_n : &out->fields_n;
		if (*n > 0 && put(out, ",", 1) < 0)
			return -1;
		(*n)++;
		if (put_json_str(out, key, strlen(key)) < 0)
			return -1;
		return put(out, ":", 1);
	}
	if (out->frame == FR_TOP)
		plain_newline(out);
	else if (out->fields_n++ > 0 && put(out, " ", 1) < 0)
		return -1;
	if (puts_(out, key) < 0)
		return -1;
	return put(out, "=", 1);
}

/** Finish a field: a top-level plain field is a line of its own. */
static void field_end(struct dw_out *out)
{
	if (!out->json && out->frame == FR_TOP)
		put(out, "\n", 1);
}

/** Write a string field. */
static void kv_str(struct dw_out *out, const char *key, const char *v, size_t n)
{
	if (field_begin(out, key) < 0)
		return;
	if (out->json)
		put_json_str(out, v, n);
	else
		put_plain_value(out, v, n);
	field_end(out);
}

/** printf into small (size cap), or into a malloc()ed buffer when it does not
 *  fit: the text (free() it when it is not small) and its length, or NULL
 *  after the problem was put into the answer. */
static char *vformat(struct dw_out *out, char *small, size_t cap, size_t *len, const char *fmt,
                     va_list ap)
{
	va_list again;
	char *big;
	int n;

	va_copy(again, ap);
	n = vsnprintf(small, cap, fmt, ap);
	if (n < 0 || (size_t)n < cap) {
		va_end(again);
		if (n < 0) {
			misuse(out, "bad format");
			return NULL;
		}
		*len = (size_t)n;
		return small;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		va_end(again);
		out_fail(out, 1, "out of memory building the response");
		return NULL;
	}
	vsnprintf(big, (size_t)n + 1, fmt, again);
	va_end(again);
	*len = (size_t)n;
	return big;
}

static void text_put(struct dw_out *out, const char *s, size_t n);

/** The one formatting preamble of dw_out_kv and dw_out_textf: format fmt
 *  (on the stack when it fits, else on the heap) and write it as the value
 *  of key, or as free text when key is NULL. Nothing after a failure. */
static void vformat_put(struct dw_out *out, const char *key, const char *fmt, va_list ap)
{
	char small[512], *text;
	size_t len = 0;

	if (out->status)
		return;
	text = vformat(out, small, sizeof(small), &len, fmt, ap);
	if (text == NULL)
		return;
	if (key)
		kv_str(out, key, text, len);
	else
		text_put(out, text, len);
	if (text != small)
		free(text);
}

/** See control.h. */
void dw_out_kv(struct dw_out *out, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vformat_put(out, key, fmt, ap);
	va_end(ap);
}

/** Write a field whose value is a bare token in both formats. */
static void kv_raw(struct dw_out *out, const char *key, const char *v)
{
	if (field_begin(out, key) < 0)
		return;
	puts_(out, v);
	field_end(out);
}

/** See control.h. */
void dw_out_kv_u64(struct dw_out *out, const char *key, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	kv_raw(out, key, b);
}

/** See control.h. */
void dw_out_kv_i64(struct dw_out *out, const char *key, int64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	kv_raw(out, key, b);
}

/** See control.h. */
void dw_out_kv_json(struct dw_out *out, const char *key, const char *json)
{
	if (out->json)
		kv_raw(out, key, json);
	else
		kv_str(out, key, json, strlen(json));
}

/** See control.h. */
void dw_out_kv_bool(struct dw_out *out, const char *key, int v)
{
	kv_raw(out, key, out->json ? (v ? "true" : "false") : (v ? "yes" : "no"));
}

/** See control.h. */
void dw_out_list_begin(struct dw_out *out, const char *name)
{
	if (out->status)
		return;
	if (!dw_out_key_ok(name)) {
		misuse(out, "list name is empty or not [A-Za-z0-9_.-]");
		return;
	}
	if (out->frame != FR_TOP) {
		misuse(out, "list inside a list");
		return;
	}
	text_close(out);
	out->frame = FR_LIST;
	out->items_n = 0;
	if (!out->json) {
		plain_newline(out);
		return;
	}
	if (out->top_n++ > 0)
		put(out, ",", 1);
	put_json_str(out, name, strlen(name));
	put(out, ":[", 2);
}

/** See control.h. */
void dw_out_item_begin(struct dw_out *out)
{
	if (out->status)
		return;
	if (out->frame != FR_LIST) {
		misuse(out, "item outside a list");
		return;
	}
	out->frame = FR_ITEM;
	out->fields_n = 0;
	if (out->json)
		put(out, out->items_n > 0 ? ",{" : "{", out->items_n > 0 ? 2 : 1);
	out->items_n++;
}

/** See control.h. */
void dw_out_item_end(struct dw_out *out)
{
	if (out->status)
		return;
	if (out->frame != FR_ITEM) {
		misuse(out, "item end without an item");
		return;
	}
	out->frame = FR_LIST;
	if (out->json)
		put(out, "}", 1);
	else if (out->fields_n > 0)
		put(out, "\n", 1);
}

/** See control.h. */
void dw_out_list_end(struct dw_out *out)
{
	if (out->status)
		return;
	if (out->frame != FR_LIST) {
		misuse(out, out->frame == FR_ITEM ? "list end inside an item"
		                                  : "list end without a list");
		return;
	}
	out->frame = FR_TOP;
	if (out->json)
		put(out, "]", 1);
}

/** Append n bytes of text (see dw_out_text()). */
static void text_put(struct dw_out *out, const char *s, size_t n)
{
	if (out->status)
		return;
	if (out->frame != FR_TOP) {
		misuse(out, "text inside a list");
		return;
	}
	if (!out->json) {
		put(out, s, n);
		return;
	}
	if (!out->text_open) {
		if (out->text_done) {
			misuse(out, "text after other output that followed text");
			return;
		}
		if (out->top_n++ > 0)
			put(out, ",", 1);
		put(out, "\"text\":\"", 8);
		out->text_open = 1;
	}
	put_json_chars(out, s, n);
}

/** See control.h. */
void dw_out_text(struct dw_out *out, const char *s)
{
	text_put(out, s ? s : "", s ? strlen(s) : 0);
}

/** See control.h. */
void dw_out_textf(struct dw_out *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vformat_put(out, NULL, fmt, ap);
	va_end(ap);
}

/** See control.h. */
void dw_out_error(struct dw_out *out, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	out_vfail(out, status, fmt, ap);
	va_end(ap);
}

/** See control.h. */
int dw_out_is_json(const struct dw_out *out)
{
	return out->json;
}

/** See control.h. */
unsigned dw_out_peer_uid(const struct dw_out *out)
{
	return out->uid;
}

/** Start a response: OK_LINE, and "{" for JSON. */
void dw_out_init(struct dw_out *out, int json, unsigned uid)
{
	memset(out, 0, sizeof(*out));
	out->json = json;
	out->uid = uid;
	out->limit = sizeof(OK_LINE) - 1 + DW_CONTROL_MAX_RESPONSE;
	puts_(out, OK_LINE);
	if (json)
		put(out, "{", 1);
}

/** Build the "error STATUS MESSAGE\n" line into a new buffer; the message
 *  is cut at MSG_MAX and bytes that would break the line become '?'. */
char *dw_control_error_line(int status, const char *msg, size_t *len)
{
	char *b = malloc(MSG_MAX + 16);
	int n;
	char *p;

	if (b == NULL)
		return NULL;
	n = snprintf(b, MSG_MAX + 16, "error %d %s", status == 2 ? 2 : 1, msg);
	if (n < 0)
		n = 0;
	if ((size_t)n > MSG_MAX + 14)
		n = MSG_MAX + 14;
	for (p = b + 8; p < b + n; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	b[n++] = '\n';
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

/** Close the body and hand over the response buffer (NULL on ENOMEM). */
char *dw_out_finish(struct dw_out *out, size_t *len)
{
	char *b;

	if (!out->status && out->frame != FR_TOP)
		misuse(out, out->frame == FR_LIST ? "list not ended" : "item not ended");
	if (!out->status) {
		text_close(out);
		if (out->json)
			put(out, "}\n", 2);
	}
	if (out->status)
		return dw_control_error_line(out->status, out->msg, len);
	b = out->buf;
	*len = out->len;
	out->buf = NULL;
	return b;
}
