/**
 * \file
 * One control request line to its response (control.h,
 * dw_control_request()): byte check, tokens, protocol magic, verb lookup,
 * argument count, then the handler with a fresh output builder. No socket:
 * the server (control.c), the tests and the fuzzer call it alike.
 */
#include "control_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Longest verb quoted back in an "unknown command" message. */
#define VERB_QUOTE_MAX 64

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
	return dw_control_error_line(status, msg, rlen);
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
			    rlen, 2,
			    "bad request: control character or non-ASCII byte at offset %zu", i);
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
			return req_error(
			    rlen, 2, "unsupported protocol version '%.16s' (this server speaks %s)",
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
	dw_out_init(&out, json, uid);
	if (limit != 0 && limit < out.limit)
		out.limit = limit;
	cmd->fn(arg, argc, tok + i, &out);
	resp = dw_out_finish(&out, rlen);
	free(out.buf);
	return resp;
}
