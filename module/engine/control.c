/**
 * \file
 * The control socket's server (control.h): listener, peer check, one
 * request per connection, responses written as the peer reads them. What a
 * request line gets back is control_request.c; the output builder the
 * engine's command handlers fill is control_out.c.
 *
 * Why everything is non-blocking and driven from the engine's poll() loop:
 * the module owns one thread for everything that may wait (HACKING.md), so a
 * client that connects and stays silent, or never reads its answer, must cost
 * a slot and a deadline, never the thread.
 */
#include "control_int.h"

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

/** Connections accepted per dw_control_service() call at most (fairness). */
#define ACCEPT_BURST 64
/** How long the listener rests after accept() ran out of descriptors (ms). */
#define ACCEPT_PAUSE_MS 1000
/** listen() backlog. */
#define BACKLOG 64
/** Bytes of unread input discarded before a close (see drain()). */
#define DRAIN_MAX 16384

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
	line = dw_control_error_line(status, msg, &len);
	conn_respond(k, line, len, now_ms);
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
		if (m->verb == NULL || !dw_out_key_ok(m->verb) || m->fn == NULL ||
		    m->min_args < 0 || m->max_args < m->min_args ||
		    m->max_args > DW_CONTROL_MAX_ARGS) {
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
