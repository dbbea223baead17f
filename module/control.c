/**
 * \file
 * The control socket (control.h): listener, peer check, one request per
 * connection, responses written as the peer reads them, and the output
 * builder the engine's command handlers fill.
 *
 * Why everything is non-blocking and driven from the engine's poll() loop:
 * the module owns one thread for everything that may wait (HACKING.md), so a
 * client that connects and stays silent, or never reads its answer, must cost
 * a slot and a deadline, never the thread.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

/** The first line of a successful response. */
#define OK_LINE "ok\n"
/** Longest error message sent (longer ones are cut). */
#define MSG_MAX 512
/** Connections accepted per dw_control_service() call at most (fairness). */
#define ACCEPT_BURST 64
/** How long the listener rests after accept() ran out of descriptors (ms). */
#define ACCEPT_PAUSE_MS 1000
/** listen() backlog. */
#define BACKLOG 64
/** Longest verb quoted back in an "unknown command" message. */
#define VERB_QUOTE_MAX 64
/** Bytes of unread input discarded before a close (see drain()). */
#define DRAIN_MAX 16384

/* ------------------------------------------------------------------------ */
/* Output builder                                                           */

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

/** Length of the valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* beyond U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
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
		if (c >= 0x80 && (u = utf8_len(p + i, n - i)) > 0) {
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
static int key_ok(const char *k)
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
	if (!key_ok(key)) {
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

/** See control.h. */
void dw_out_kv(struct dw_out *out, const char *key, const char *fmt, ...)
{
	char small[256], *text;
	size_t len = 0;
	va_list ap;

	if (out->status)
		return;
	va_start(ap, fmt);
	text = vformat(out, small, sizeof(small), &len, fmt, ap);
	va_end(ap);
	if (text == NULL)
		return;
	kv_str(out, key, text, len);
	if (text != small)
		free(text);
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
	if (!key_ok(name)) {
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
	char small[512], *text;
	size_t len = 0;
	va_list ap;

	if (out->status)
		return;
	va_start(ap, fmt);
	text = vformat(out, small, sizeof(small), &len, fmt, ap);
	va_end(ap);
	if (text == NULL)
		return;
	text_put(out, text, len);
	if (text != small)
		free(text);
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
static void out_init(struct dw_out *out, int json, unsigned uid)
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
static char *error_line(int status, const char *msg, size_t *len)
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
static char *out_finish(struct dw_out *out, size_t *len)
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
		return error_line(out->status, out->msg, len);
	b = out->buf;
	*len = out->len;
	out->buf = NULL;
	return b;
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */

/** One client connection. fd < 0: the slot is free. */
struct conn {
	int fd;
	int writing; /**< 0: reading the request; 1: writing the response */
	uint64_t deadline;
	struct ucred cred;
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	char in[DW_CONTROL_MAX_LINE];
};

struct dw_control {
	int lfd;
	char *path;
	dev_t dev; /**< the socket file we bound, to unlink only our own */
	ino_t ino;
	int has_group;
	gid_t gid;
	char *group;
	const struct dw_command *cmds;
	size_t ncmds;
	void *arg;
	dw_log_fn log;
	void *log_arg;
	int paused; /**< listener rests until pause_until (EMFILE) */
	uint64_t pause_until;
	uint64_t denied_window; /**< start of the current second of denials */
	unsigned denied_n;
	unsigned long denied_suppressed;
	struct conn conns[DW_CONTROL_MAX_CONNS];
};

/** See control.h: the responses still allocated on connections. */
size_t dw_control_held(const struct dw_control *c)
{
	size_t i, n = 0;
	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].out)
			n += c->conns[i].outlen;
	return n;
}

/** Read and discard what the peer sent and we will not read: closing a Unix
 *  socket with unread input makes the peer's next read fail ECONNRESET. */
static void drain(int fd)
{
	char scratch[4096];
	size_t total = 0;
	while (total < DRAIN_MAX) {
		ssize_t r = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (r <= 0)
			break;
		total += (size_t)r;
	}
}

/** Best-effort answer on a fresh connection, then close it. A short line
 *  always fits the empty send buffer, so one non-blocking send suffices. */
static void reply_and_close(int fd, const char *line)
{
	ssize_t r = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)r;
	drain(fd);
	close(fd);
}

/** Free a connection's slot. */
static void conn_close(struct conn *k)
{
	if (k->fd >= 0) {
		drain(k->fd);
		close(k->fd);
	}
	free(k->out);
	k->out = NULL;
	k->fd = -1;
	k->writing = 0;
	k->inlen = 0;
	k->outlen = k->outoff = 0;
}

/** Send as much of the response as the peer takes now; close when done. */
static void conn_write(struct conn *k)
{
	while (k->outoff < k->outlen) {
		ssize_t w = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			break; /* EPIPE, ECONNRESET: the peer is gone */
		}
		k->outoff += (size_t)w;
	}
	conn_close(k);
}

/** Switch a connection to writing resp (taken over; NULL = out of memory). */
static void conn_respond(struct conn *k, char *resp, size_t len, uint64_t now_ms)
{
	if (resp == NULL) {
		reply_and_close(k->fd, "error 1 out of memory\n");
		k->fd = -1;
		conn_close(k);
		return;
	}
	k->out = resp;
	k->outlen = len;
	k->outoff = 0;
	k->writing = 1;
	k->deadline = now_ms + DW_CONTROL_WRITE_MS;
	conn_write(k);
}

/** Answer "error STATUS ..." on a connection. */
static void conn_error(struct conn *k, int status, uint64_t now_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void conn_error(struct conn *k, int status, uint64_t now_ms, const char *fmt, ...)
{
	char msg[MSG_MAX];
	size_t len = 0;
	char *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = error_line(status, msg, &len);
	conn_respond(k, line, len, now_ms);
}

/** The verbs, comma-separated, for "unknown command" messages. */
static void verb_list(const struct dw_command *cmds, size_t ncmds, char *buf, size_t len)
{
	size_t i, n = 0;
	buf[0] = '\0';
	for (i = 0; i < ncmds && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", cmds[i].verb);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/** An "error STATUS ..." response built from a format (NULL on ENOMEM). */
static char *req_error(size_t *rlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *req_error(size_t *rlen, int status, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_line(status, msg, rlen);
}

/** Parse one request line, run its handler, return the whole response. */
char *dw_control_request(const struct dw_command *cmds, size_t ncmds, void *arg, unsigned uid,
                         char *line, size_t linelen, size_t limit, size_t *rlen)
{
	char *tok[DW_CONTROL_MAX_ARGS + 4];
	size_t ntok = 0, i;
	char *p = line, *verb;
	const struct dw_command *cmd = NULL;
	int json = 0, argc;
	struct dw_out out;
	char *resp;

	*rlen = 0;
	for (i = 0; i < linelen; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch < 0x20 || ch >= 0x7f)
			return req_error(
			    rlen, 2, "bad request: control character or non-ASCII byte at offset %zu",
			    i);
	}
	for (;;) {
		char *sp = strchr(p, ' ');
		if (*p == '\0' || sp == p)
			return req_error(
			    rlen, 2,
			    "bad request: empty token (tokens are separated by single spaces)");
		if (ntok == sizeof(tok) / sizeof(tok[0]))
			return req_error(rlen, 2, "too many arguments (at most %d)",
			                 DW_CONTROL_MAX_ARGS);
		tok[ntok++] = p;
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	if (strcmp(tok[0], DW_CONTROL_MAGIC) != 0) {
		if (strncmp(tok[0], "DWCTL", 5) == 0)
			return req_error(rlen, 2,
			                 "unsupported protocol version '%.16s' (this server speaks %s)",
			                 tok[0], DW_CONTROL_MAGIC);
		return req_error(rlen, 2, "bad request: expected '%s [--json] COMMAND [ARGS...]'",
		                 DW_CONTROL_MAGIC);
	}
	i = 1;
	if (i < ntok && strcmp(tok[i], "--json") == 0) {
		json = 1;
		i++;
	}
	if (i >= ntok)
		return req_error(rlen, 2, "bad request: no command");
	verb = tok[i++];
	argc = (int)(ntok - i);
	if (argc > DW_CONTROL_MAX_ARGS)
		return req_error(rlen, 2, "too many arguments (at most %d)", DW_CONTROL_MAX_ARGS);
	for (size_t j = 0; j < ncmds; j++)
		if (strcmp(cmds[j].verb, verb) == 0) {
			cmd = &cmds[j];
			break;
		}
	if (cmd == NULL) {
		char verbs[MSG_MAX];
		verb_list(cmds, ncmds, verbs, sizeof(verbs));
		return req_error(rlen, 2, "unknown command '%.*s'; commands: %s", VERB_QUOTE_MAX,
		                 verb, verbs);
	}
	if (argc < cmd->min_args || argc > cmd->max_args)
		return req_error(rlen, 2, "usage: %s", cmd->usage ? cmd->usage : cmd->verb);
	tok[ntok] = NULL; /* room: ntok <= DW_CONTROL_MAX_ARGS + 3 here */
	out_init(&out, json, uid);
	if (limit != 0 && limit < out.limit)
		out.limit = limit;
	cmd->fn(arg, argc, tok + i, &out);
	resp = out_finish(&out, rlen);
	free(out.buf);
	return resp;
}

/** Answer the request line in k->in (NUL-terminated, no newline). */
static void dispatch(struct dw_control *c, struct conn *k, size_t linelen, uint64_t now_ms)
{
	size_t rlen = 0, held = dw_control_held(c), room;
	char *resp;

	/* what slow readers hold counts against every new response */
	room = held < DW_CONTROL_MAX_HELD ? DW_CONTROL_MAX_HELD - held : 0;
	if (room < DW_CONTROL_MIN_RESPONSE)
		room = DW_CONTROL_MIN_RESPONSE;
	room += sizeof(OK_LINE) - 1;
	resp = dw_control_request(c->cmds, c->ncmds, c->arg, (unsigned)k->cred.uid, k->in, linelen,
	                          room, &rlen);
	conn_respond(k, resp, rlen, now_ms);
}

/** Read what the peer sent; dispatch once the line is complete. */
static void conn_read(struct dw_control *c, struct conn *k, uint64_t now_ms)
{
	for (;;) {
		ssize_t r = recv(k->fd, k->in + k->inlen, sizeof(k->in) - k->inlen, MSG_DONTWAIT);
		char *nl;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(k);
			return;
		}
		if (r == 0) {
			if (k->inlen == 0)
				conn_close(k); /* connected and left: nothing to say */
			else
				conn_error(
				    k, 2, now_ms,
				    "incomplete request: the connection ended before a newline");
			return;
		}
		nl = memchr(k->in + k->inlen, '\n', (size_t)r);
		k->inlen += (size_t)r;
		if (nl != NULL) {
			*nl = '\0';
			dispatch(c, k, (size_t)(nl - k->in), now_ms);
			return;
		}
		if (k->inlen == sizeof(k->in)) {
			conn_error(k, 2, now_ms, "request line too long (more than %d bytes)",
			           DW_CONTROL_MAX_LINE);
			return;
		}
	}
}

/** Is gid among the peer's supplementary groups? The kernel's view of the
 *  connecting process (SO_PEERGROUPS) is the same one the socket file's
 *  mode was checked against at connect(); kernels before 4.13 lack it, and
 *  then the group database (getgrouplist()) answers instead. */
static int peer_in_group(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	size_t n, i;
	int found = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
		if (errno == ERANGE && len > sizeof(small)) {
			g = malloc(len);
			if (g == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
				free(g);
				return 0;
			}
		} else if (errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
			/* old kernel: ask the group database about the user */
			struct passwd pw, *res = NULL;
			char pwbuf[4096];
			int ng = (int)(sizeof(small) / sizeof(small[0]));
			if (getpwuid_r(cr->uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 ||
			    res == NULL)
				return 0;
			if (getgrouplist(pw.pw_name, pw.pw_gid, small, &ng) < 0) {
				g = malloc((size_t)ng * sizeof(gid_t));
				if (g == NULL || getgrouplist(pw.pw_name, pw.pw_gid, g, &ng) < 0) {
					free(g);
					return 0;
				}
			}
			len = (socklen_t)((size_t)ng * sizeof(gid_t));
		} else
			return 0;
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n; i++)
		if (g[i] == gid)
			found = 1;
	if (g != small)
		free(g);
	return found;
}

/** Root, our own user, the group's members (primary or supplementary). */
static int peer_allowed(const struct dw_control *c, int fd, const struct ucred *cr)
{
	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (!c->has_group)
		return 0;
	if (cr->gid == c->gid)
		return 1;
	return peer_in_group(fd, cr, c->gid);
}

/** Log a refused peer, at most DW_CONTROL_DENIED_RATE lines a second. */
static void log_denied(struct dw_control *c, const struct ucred *cr, uint64_t now_ms)
{
	char line[160];
	int n;

	if (c->log == NULL)
		return;
	if (now_ms - c->denied_window >= 1000 || now_ms < c->denied_window) {
		c->denied_window = now_ms;
		c->denied_n = 0;
	}
	if (c->denied_n >= DW_CONTROL_DENIED_RATE) {
		c->denied_suppressed++;
		return;
	}
	c->denied_n++;
	n = snprintf(line, sizeof(line), "dnswarden: event=control_denied uid=%u gid=%u pid=%ld",
	             (unsigned)cr->uid, (unsigned)cr->gid, (long)cr->pid);
	if (c->denied_suppressed > 0 && n > 0 && (size_t)n < sizeof(line)) {
		snprintf(line + n, sizeof(line) - (size_t)n, " suppressed=%lu",
		         c->denied_suppressed);
		c->denied_suppressed = 0;
	}
	c->log(c->log_arg, LOG_WARNING, line);
}

/** Accept what is waiting (a bounded burst), check each peer, give it a slot. */
static void accept_some(struct dw_control *c, uint64_t now_ms)
{
	int i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct conn *k = NULL;
		size_t j;
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* EMFILE and the like: rest instead of spinning on a
				 * listener that stays readable */
				c->paused = 1;
				c->pause_until = now_ms + ACCEPT_PAUSE_MS;
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
			close(fd);
			continue;
		}
		if (!peer_allowed(c, fd, &cr)) {
			char msg[160];
			log_denied(c, &cr, now_ms);
			if (c->has_group)
				snprintf(
				    msg, sizeof(msg),
				    "error 1 permission denied: only root and members of group "
				    "'%s' may use this socket\n",
				    c->group);
			else
				snprintf(
				    msg, sizeof(msg),
				    "error 1 permission denied: only root may use this socket\n");
			reply_and_close(fd, msg);
			continue;
		}
		for (j = 0; j < DW_CONTROL_MAX_CONNS; j++)
			if (c->conns[j].fd < 0) {
				k = &c->conns[j];
				break;
			}
		if (k == NULL) {
			char msg[128];
			snprintf(msg, sizeof(msg),
			         "error 1 too many control connections (at most %d at once); try "
			         "again\n",
			         DW_CONTROL_MAX_CONNS);
			reply_and_close(fd, msg);
			continue;
		}
		k->fd = fd;
		k->cred = cr;
		k->writing = 0;
		k->inlen = 0;
		k->deadline = now_ms + DW_CONTROL_READ_MS;
	}
}

/** See control.h. */
size_t dw_control_pollfds(struct dw_control *c, struct pollfd *fds, size_t max)
{
	size_t n = 0, i;

	if (n < max && !c->paused) {
		fds[n].fd = c->lfd;
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	for (i = 0; i < DW_CONTROL_MAX_CONNS && n < max; i++) {
		if (c->conns[i].fd < 0)
			continue;
		fds[n].fd = c->conns[i].fd;
		fds[n].events = c->conns[i].writing ? POLLOUT : POLLIN;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

/** See control.h. */
int dw_control_timeout(const struct dw_control *c, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	if (c->paused)
		next = c->pause_until;
	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].deadline < next)
			next = c->conns[i].deadline;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now_ms)
		return 0;
	return next - now_ms > INT_MAX ? INT_MAX : (int)(next - now_ms);
}

/** See control.h. */
void dw_control_service(struct dw_control *c, const struct pollfd *fds, size_t n, uint64_t now_ms)
{
	size_t i, j;
	int listener_ready = 0;

	if (c->paused && now_ms >= c->pause_until)
		c->paused = 0;
	/* connections first, the listener last: a slot closed and re-used in
	 * this call can then never be matched with a stale pollfd */
	for (i = 0; i < n; i++) {
		if (fds[i].revents == 0 || fds[i].fd < 0)
			continue;
		if (fds[i].fd == c->lfd) {
			listener_ready = 1;
			continue;
		}
		for (j = 0; j < DW_CONTROL_MAX_CONNS; j++) {
			struct conn *k = &c->conns[j];
			if (k->fd != fds[i].fd)
				continue;
			if (k->writing)
				conn_write(k);
			else
				conn_read(c, k, now_ms);
			break;
		}
	}
	for (j = 0; j < DW_CONTROL_MAX_CONNS; j++) {
		struct conn *k = &c->conns[j];
		if (k->fd < 0 || now_ms < k->deadline)
			continue;
		if (!k->writing) {
			char msg[96];
			snprintf(msg, sizeof(msg),
			         "error 2 timed out waiting for the request (%d s)\n",
			         DW_CONTROL_READ_MS / 1000);
			reply_and_close(k->fd, msg);
			k->fd = -1;
		}
		conn_close(k);
	}
	if (listener_ready && !c->paused)
		accept_some(c, now_ms);
}

/** Resolve a group name (or number) to its gid; -1 when unknown. */
static int group_gid(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[16384];
	char *end;
	unsigned long v;

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
		*gid = res->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 &&
	    v < (unsigned long)(gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	return -1;
}

/** Deal with whatever is already at path: nothing, a stale socket (removed),
 *  a live socket or another kind of file (errors). 0 or -1 with err. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket; not replacing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen,
		         "%s: another process is listening (is another unbound running?)", path);
		return -1;
	}
	if (e == ENOENT)
		return 0;
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot tell whether the socket is in use: %s", path,
		         strerror(e));
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove the stale socket: %s", path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/** Check the command table once, so dispatch() can trust it. */
static int table_ok(const struct dw_command *cmds, size_t ncmds, char *err, size_t errlen)
{
	size_t i;
	for (i = 0; i < ncmds; i++) {
		const struct dw_command *m = &cmds[i];
		if (m->verb == NULL || !key_ok(m->verb) || m->fn == NULL || m->min_args < 0 ||
		    m->max_args < m->min_args || m->max_args > DW_CONTROL_MAX_ARGS) {
			snprintf(err, errlen,
			         "internal error: control command %zu ('%s') is malformed", i,
			         m->verb ? m->verb : "(null)");
			return -1;
		}
	}
	return 0;
}

/** See control.h. */
struct dw_control *dw_control_new(const char *path, const char *group,
                                  const struct dw_command *cmds, size_t ncmds, void *arg,
                                  dw_log_fn log, void *log_arg, char *err, size_t errlen)
{
	struct dw_control *c;
	struct sockaddr_un sa;
	struct stat st;
	size_t i;
	int bound = 0;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is empty or longer than %zu bytes",
		         path ? path : "", sizeof(sa.sun_path) - 1);
		return NULL;
	}
	if (table_ok(cmds, ncmds, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->lfd = -1;
	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
	c->cmds = cmds;
	c->ncmds = ncmds;
	c->arg = arg;
	c->log = log;
	c->log_arg = log_arg;
	c->path = strdup(path);
	if (c->path == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (group != NULL && group[0] != '\0') {
		c->group = strdup(group);
		if (c->group == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (group_gid(group, &c->gid) < 0) {
			snprintf(err, errlen, "control.group '%s': no such group", group);
			goto fail;
		}
		c->has_group = 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (clear_stale(&sa, err, errlen) < 0)
		goto fail;

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		goto fail;
	}
	/* The socket file gets its final mode at bind(): Linux creates it with
	 * the socket inode's mode less the umask. No chmod by path afterwards:
	 * glibc's fchmodat(AT_SYMLINK_NOFOLLOW) goes through /proc, which
	 * Unbound's chroot does not have, and a plain chmod would follow a link.
	 * Until the lchown() below the group is the resolver's own; peers are
	 * checked with SO_PEERCRED on every connection anyway. */
	{
		mode_t mode = c->has_group ? 0660 : 0600, old;
		int rc, e;
		(void)fchmod(c->lfd, mode);
		old = umask(0777 & ~mode); /* init() runs before Unbound's threads */
		rc = bind(c->lfd, (const struct sockaddr *)&sa, sizeof(sa));
		e = errno;
		umask(old);
		errno = e;
		if (rc != 0) {
			if (errno == EADDRINUSE)
				snprintf(err, errlen,
				         "%s: another process is listening (is another unbound "
				         "running?)",
				         path);
			else
				snprintf(err, errlen, "%s: cannot bind: %s", path, strerror(errno));
			goto fail;
		}
	}
	bound = 1;
	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: the socket file vanished after bind", path);
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (c->has_group && lchown(path, (uid_t)-1, c->gid) != 0) {
		snprintf(err, errlen,
		         "%s: cannot give the socket to group '%s': %s (is the resolver's user a "
		         "member of it?)",
		         path, c->group, strerror(errno));
		goto fail;
	}
	if ((st.st_mode & 0777) != (c->has_group ? 0660u : 0600u)) {
		snprintf(err, errlen, "%s: the socket was created with mode %o", path,
		         (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (listen(c->lfd, BACKLOG) != 0) {
		snprintf(err, errlen, "%s: listen: %s", path, strerror(errno));
		goto fail;
	}
	return c;
fail:
	if (bound)
		unlink(path);
	if (c->lfd >= 0)
		close(c->lfd);
	free(c->path);
	free(c->group);
	free(c);
	return NULL;
}

/** See control.h. */
void dw_control_free(struct dw_control *c)
{
	struct stat st;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		conn_close(&c->conns[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	/* unlink only the file we made: a newer instance may own the path now */
	if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c->group);
	free(c);
}
