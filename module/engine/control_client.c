/**
 * \file
 * The control socket's client (control_client.h): connect, send one line,
 * read to the server's close, split the first line.
 */
#include "control_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"

/** Milliseconds left until deadline (monotonic), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/** Connect within timeout_s; the fd, or -1 with err and r->errnum. */
static int connect_to(const char *path, int timeout_s, struct dw_control_reply *r, char *err,
                      size_t errlen)
{
	struct sockaddr_un sa;
	struct timeval tv = {.tv_sec = timeout_s};
	char eb[128];
	const char *hint = "";
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked by the caller */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r->errnum = errno;
		dw_set_err(err, errlen, "socket: %s", dw_strerror(r->errnum, eb, sizeof(eb)));
		return -1;
	}
	/* a full backlog makes connect() wait; this bounds the wait */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	r->errnum = errno;
	close(fd);
	switch (r->errnum) {
	case ENOENT:
		hint = " (is unbound running with dnswarden?)";
		break;
	case ECONNREFUSED:
		hint = " (nothing listens there: is unbound running?)";
		break;
	case EACCES:
	case EPERM:
		hint = " (only root and members of control.group may use it)";
		break;
	case EAGAIN:
	case EINPROGRESS:
	case ETIMEDOUT:
		dw_set_err(err, errlen,
		           "cannot connect to %s: timed out after %d s (the resolver is busy)",
		           path, timeout_s);
		return -1;
	default:
		break;
	}
	dw_set_err(err, errlen, "cannot connect to %s: %s%s", path,
	           dw_strerror(r->errnum, eb, sizeof(eb)), hint);
	return -1;
}

/** Send the request and read until the server closes; DW_CTLCALL_*. */
static int exchange(int fd, const char *path, const char *req, int timeout_s, size_t max,
                    struct dw_control_reply *r, char *err, size_t errlen)
{
	struct timespec deadline;
	size_t cap = 65536, n = 0, off = 0, reqlen = strlen(req);
	char eb[128];
	char *b;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	while (off < reqlen) {
		ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* the server may have answered and closed already (refused
			 * peer, too many connections): read what it said */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			r->errnum = errno;
			dw_set_err(err, errlen, "%s: cannot send the request: %s", path,
			           dw_strerror(r->errnum, eb, sizeof(eb)));
			return DW_CTLCALL_IO;
		}
		off += (size_t)w;
	}
	if (cap > max)
		cap = max;
	b = malloc(cap + 1);
	if (b == NULL) {
		dw_set_err(err, errlen, "out of memory");
		return DW_CTLCALL_NOMEM;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;
		int pr = poll(&p, 1, ms_left(&deadline));

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			dw_set_err(err, errlen, "%s: no complete answer within %d s", path,
			           timeout_s);
			free(b);
			return DW_CTLCALL_TIMEOUT;
		}
		if (n == cap) {
			char *nb;
			if (cap >= max) {
				dw_set_err(err, errlen, "%s: the answer is larger than %zu bytes",
				           path, max);
				free(b);
				return DW_CTLCALL_TOOBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(b, cap + 1);
			if (nb == NULL) {
				dw_set_err(err, errlen, "out of memory");
				free(b);
				return DW_CTLCALL_NOMEM;
			}
			b = nb;
		}
		got = recv(fd, b + n, cap - n, MSG_DONTWAIT);
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			/* the server closed with our unread request in its
			 * queue: what it sent before is complete */
			if (errno == ECONNRESET && memchr(b, '\n', n) != NULL)
				break;
			r->errnum = errno;
			dw_set_err(err, errlen, "%s: reading the answer: %s", path,
			           dw_strerror(r->errnum, eb, sizeof(eb)));
			free(b);
			return DW_CTLCALL_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	b[n] = '\0';
	r->buf = b;
	r->len = n;
	return DW_CTLCALL_OK;
}

/** Split the first line: "ok" or "error 1|2 MESSAGE"; DW_CTLCALL_*. */
static int first_line(const char *path, struct dw_control_reply *r, char *err, size_t errlen)
{
	const char *b = r->buf, *nl = memchr(b, '\n', r->len);
	size_t first;

	if (nl == NULL) {
		if (r->len == 0)
			dw_set_err(err, errlen, "%s closed the connection without an answer", path);
		else
			dw_set_err(err, errlen, "%s: unexpected answer (no complete first line)",
			           path);
		return DW_CTLCALL_ANSWER;
	}
	first = (size_t)(nl - b);
	if (first == 2 && memcmp(b, "ok", 2) == 0) {
		r->status = 0;
		r->body = nl + 1;
		r->body_len = r->len - first - 1;
		return DW_CTLCALL_OK;
	}
	if (first >= 8 && memcmp(b, "error ", 6) == 0 && (b[6] == '1' || b[6] == '2') &&
	    b[7] == ' ') {
		r->status = b[6] - '0';
		r->body = b + 8;
		r->body_len = first - 8;
		return DW_CTLCALL_OK;
	}
	dw_set_err(err, errlen, "%s: unexpected answer '%.*s'", path,
	           (int)(first > 80 ? 80 : first), b);
	return DW_CTLCALL_ANSWER;
}

/** Checks the path, then connect, exchange and first line in turn. */
int dw_control_call(const char *path, const char *request, int timeout_s, size_t max,
                    struct dw_control_reply *r, char *err, size_t errlen)
{
	int fd, rc;

	memset(r, 0, sizeof(*r));
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		dw_set_err(err, errlen, "socket path '%s' is empty or longer than %zu bytes",
		           path ? path : "", sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return DW_CTLCALL_PATH;
	}
	fd = connect_to(path, timeout_s, r, err, errlen);
	if (fd < 0)
		return DW_CTLCALL_CONNECT;
	rc = exchange(fd, path, request, timeout_s, max, r, err, errlen);
	close(fd);
	if (rc == DW_CTLCALL_OK)
		rc = first_line(path, r, err, errlen);
	if (rc != DW_CTLCALL_OK)
		dw_control_reply_free(r);
	return rc;
}

/** free() of the buffer; the struct is zeroed again. */
void dw_control_reply_free(struct dw_control_reply *r)
{
	int e = r->errnum;

	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->errnum = e;
}
