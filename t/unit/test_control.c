/**
 * \file
 * Tests of module/control*.c and tools/dnswarden-control: a server with a fake
 * command table runs in a thread of this process (as the engine's thread
 * would drive it) on a socket under $TMPDIR, and is exercised with raw
 * sockets (protocol, limits, time-outs, concurrency) and with the real CLI
 * binary ($DW_BUILDDIR/tools/dnswarden-control; default: two directories
 * above this program), including peer checks through setpriv(1) as user
 * 65534. Needs root for the peer checks (skipped otherwise).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "control_client.h"
#include "utf8.h"
#include "tap.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */

/** Monotonic milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** Sleep ms milliseconds. */
static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/** Does s start with prefix? */
static int starts(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/** Compare a got string with the wanted one, printing both on failure. */
static void is_str(const char *got, const char *want, const char *name)
{
	if (!ok(got != NULL && strcmp(got, want) == 0, "%s", name)) {
		printf("#   got:  '%s'\n", got ? got : "(null)");
		printf("#   want: '%s'\n", want);
	}
}

/** s without its newlines, for a TAP description (static buffer). */
static const char *one_line(const char *s)
{
	static char b[512];
	size_t i;
	snprintf(b, sizeof(b), "%s", s ? s : "");
	for (i = 0; b[i]; i++)
		if (b[i] == '\n')
			b[i] = ' ';
	return b;
}

/** Read a whole file into a NUL-terminated malloc'ed buffer. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t r;
		if (cap - n < 65536) {
			char *nb = realloc(b, cap ? cap * 2 : 65536);
			if (nb == NULL)
				break;
			b = nb;
			cap = cap ? cap * 2 : 65536;
		}
		r = fread(b + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	if (b == NULL)
		b = calloc(1, 1);
	if (b != NULL)
		b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

/* ------------------------------------------------------------------------ */
/* a tiny strict JSON validator (RFC 8259)                                  */

struct jp {
	const unsigned char *p, *end;
	int depth;
};

static int jvalue(struct jp *j);

/** Skip JSON whitespace. */
static void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/** A string. */
static int jstring(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return 0;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			int i;
			if (++j->p >= j->end)
				return 0;
			switch (*j->p) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				j->p++;
				break;
			case 'u':
				for (i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !strchr("0123456789abcdefABCDEF", j->p[i]) ||
					    j->p[i] == 0)
						return 0;
				j->p += 5;
				break;
			default:
				return 0;
			}
			continue;
		}
		if (c >= 0x80) {
			size_t u = dw_utf8_len(j->p, (size_t)(j->end - j->p));
			if (u == 0)
				return 0;
			j->p += u;
			continue;
		}
		j->p++;
	}
	return 0;
}

/** Digits: at least one. */
static int jdigits(struct jp *j)
{
	const unsigned char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

/** A number. */
static int jnumber(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jdigits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jdigits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jdigits(j))
			return 0;
	}
	return 1;
}

/** A literal word. */
static int jword(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

/** An object or array (open is '{' or '['). */
static int jcompound(struct jp *j, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';
	if (++j->depth > 64)
		return 0;
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 1;
	}
	for (;;) {
		if (open == '{') {
			jws(j);
			if (!jstring(j))
				return 0;
			jws(j);
			if (j->p >= j->end || *j->p != ':')
				return 0;
			j->p++;
		}
		if (!jvalue(j))
			return 0;
		jws(j);
		if (j->p >= j->end)
			return 0;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 1;
		}
		return 0;
	}
}

/** Any value. */
static int jvalue(struct jp *j)
{
	jws(j);
	if (j->p >= j->end)
		return 0;
	switch (*j->p) {
	case '{':
	case '[':
		return jcompound(j, *j->p);
	case '"':
		return jstring(j);
	case 't':
		return jword(j, "true");
	case 'f':
		return jword(j, "false");
	case 'n':
		return jword(j, "null");
	default:
		return jnumber(j);
	}
}

/** Is s[0..n) exactly one JSON document (with surrounding whitespace)? */
static int json_valid(const char *s, size_t n)
{
	struct jp j = {(const unsigned char *)s, (const unsigned char *)s + n, 0};
	if (!jvalue(&j))
		return 0;
	jws(&j);
	return j.p == j.end;
}

/* ------------------------------------------------------------------------ */
/* the fake command table                                                   */

/** A value with everything that needs escaping: quotes, newline, tab,
 *  backslash, valid UTF-8 (e-acute), a control byte and an invalid byte. */
#define NOTE "say \"hi\"\n\t\\\xc3\xa9\x01\xff"

#define METRICS                                                                                    \
	"# HELP dnswarden_queries_total Client queries seen.\n"                                    \
	"# TYPE dnswarden_queries_total counter\n"                                                 \
	"dnswarden_queries_total{source=\"cache\"} 5\n"

/** What the fake handlers share with the tests. */
struct fake {
	const char *big; /**< export_nft's answer */
	atomic_int calls;
};

static void h_status(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct fake *f = arg;
	(void)argc;
	(void)argv;
	atomic_fetch_add(&f->calls, 1);
	dw_out_kv(out, "version", "%s", "0.1.0");
	dw_out_kv_u64(out, "uptime", 42);
	dw_out_kv(out, "mode", "observe");
	dw_out_kv_bool(out, "running", 1);
	dw_out_kv_i64(out, "delta", -5);
	dw_out_kv(out, "empty", "%s", "");
	dw_out_kv(out, "note", "%s", NOTE);
}

static void h_suspects(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	dw_out_list_begin(out, "suspects");
	dw_out_item_begin(out);
	dw_out_kv(out, "client", "10.1.2.3");
	dw_out_kv(out, "detector", "mx_worm");
	dw_out_kv_u64(out, "mx", 57);
	dw_out_item_end(out);
	dw_out_item_begin(out);
	dw_out_kv(out, "client", "2001:db8::1");
	dw_out_kv(out, "detector", "ip_literal");
	dw_out_kv_u64(out, "a", 500);
	dw_out_item_end(out);
	dw_out_list_end(out);
	dw_out_kv_u64(out, "count", 2);
}

static void h_blocked(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	dw_out_list_begin(out, "blocked");
	dw_out_list_end(out);
}

static void h_show(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	dw_out_kv(out, "client", "%s", argv[0]);
	dw_out_kv_u64(out, "queries", 7);
}

static void h_block(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	dw_out_kv(out, "client", "%s", argv[0]);
	dw_out_kv(out, "duration", "%s", argc > 1 ? argv[1] : "default");
	dw_out_kv(out, "action", "%s", argc > 2 ? argv[2] : "default");
	dw_out_kv_u64(out, "uid", dw_out_peer_uid(out));
}

static void h_unblock(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	dw_out_kv(out, "ignored", "x");
	dw_out_error(out, 1, "%s is not blocked", argv[0]);
}

static void h_exempt_add(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	if (strcmp(argv[0], "0.0.0.0/0") == 0)
		dw_out_error(out, 2, "refusing to exempt every IPv4 client");
	else
		dw_out_kv(out, "exempt", "%s", argv[0]);
}

static void h_metrics(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	dw_out_text(out, METRICS);
}

static void h_nft(void *arg, int argc, char **argv, struct dw_out *out)
{
	struct fake *f = arg;
	(void)argc;
	(void)argv;
	dw_out_text(out, f->big);
}

static void h_reload(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	if (dw_out_is_json(out))
		dw_out_kv_bool(out, "reloaded", 1);
	else
		dw_out_textf(out, "reloaded %s\n", "ok");
}

static void h_echo(void *arg, int argc, char **argv, struct dw_out *out)
{
	int i;
	(void)arg;
	dw_out_list_begin(out, "args");
	for (i = 0; i < argc; i++) {
		dw_out_item_begin(out);
		dw_out_kv_i64(out, "i", i);
		dw_out_kv(out, "arg", "%s", argv[i]);
		dw_out_item_end(out);
	}
	dw_out_list_end(out);
	dw_out_kv_bool(out, "null_terminated", argv[argc] == NULL);
}

static void h_huge(void *arg, int argc, char **argv, struct dw_out *out)
{
	static char chunk[1 << 20];
	size_t i;
	(void)arg;
	(void)argc;
	(void)argv;
	memset(chunk, 'x', sizeof(chunk) - 1);
	for (i = 0; i <= (DW_CONTROL_MAX_RESPONSE >> 20); i++)
		dw_out_text(out, chunk);
}

static void h_misuse(void *arg, int argc, char **argv, struct dw_out *out)
{
	const char *m = argv[0];
	(void)arg;
	(void)argc;
	if (strcmp(m, "field_in_list") == 0) {
		dw_out_list_begin(out, "l");
		dw_out_kv(out, "k", "v");
	} else if (strcmp(m, "item_outside") == 0) {
		dw_out_item_begin(out);
	} else if (strcmp(m, "unclosed") == 0) {
		dw_out_list_begin(out, "l");
		dw_out_item_begin(out);
	} else if (strcmp(m, "badkey") == 0) {
		dw_out_kv(out, "bad key", "v");
	} else if (strcmp(m, "nested") == 0) {
		dw_out_list_begin(out, "l");
		dw_out_item_begin(out);
		dw_out_list_begin(out, "m");
	} else if (strcmp(m, "text_in_item") == 0) {
		dw_out_list_begin(out, "l");
		dw_out_item_begin(out);
		dw_out_text(out, "x");
	} else if (strcmp(m, "twoerr") == 0) {
		dw_out_error(out, 1, "first");
		dw_out_error(out, 2, "second");
	} else if (strcmp(m, "status7") == 0) {
		dw_out_error(out, 7, "odd status");
	}
}

static void h_mixed(void *arg, int argc, char **argv, struct dw_out *out)
{
	(void)arg;
	(void)argc;
	(void)argv;
	dw_out_text(out, "no newline");
	dw_out_kv(out, "after", "text");
	dw_out_textf(out, "%s=%d\n", "more", 1);
}

static const struct dw_command cmds[] = {
    {"status", 0, 0, "status", h_status},
    {"list_suspects", 0, 2, "list_suspects [all] [COUNT]", h_suspects},
    {"list_blocked", 0, 0, "list_blocked", h_blocked},
    {"show_client", 1, 1, "show_client ADDR", h_show},
    {"block", 1, 3, "block ADDR [DURATION] [ACTION]", h_block},
    {"unblock", 1, 1, "unblock ADDR", h_unblock},
    {"exempt_add", 1, 1, "exempt_add CIDR", h_exempt_add},
    {"metrics", 0, 0, "metrics", h_metrics},
    {"export_nft", 0, 0, "export_nft", h_nft},
    {"reload", 0, 0, "reload", h_reload},
    {"echo", 0, DW_CONTROL_MAX_ARGS, "echo [ARG...]", h_echo},
    {"huge", 0, 0, "huge", h_huge},
    {"misuse", 1, 1, "misuse HOW", h_misuse},
    {"mixed", 0, 0, "mixed", h_mixed},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* ------------------------------------------------------------------------ */
/* log capture                                                              */

#define MAX_LOG 256
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[MAX_LOG];
static int log_prio[MAX_LOG];
static int log_n;

/** The server's log function: keep every line. */
static void capture_log(void *arg, int prio, const char *line)
{
	(void)arg;
	pthread_mutex_lock(&log_mu);
	if (log_n < MAX_LOG) {
		log_prio[log_n] = prio;
		log_lines[log_n++] = strdup(line);
	}
	pthread_mutex_unlock(&log_mu);
}

/** Number of captured lines. */
static int log_count(void)
{
	int n;
	pthread_mutex_lock(&log_mu);
	n = log_n;
	pthread_mutex_unlock(&log_mu);
	return n;
}

/** Forget captured lines. */
static void log_clear(void)
{
	int i;
	pthread_mutex_lock(&log_mu);
	for (i = 0; i < log_n; i++)
		free(log_lines[i]);
	log_n = 0;
	pthread_mutex_unlock(&log_mu);
}

/* ------------------------------------------------------------------------ */
/* the server, driven from a thread like the engine's                       */

struct srv {
	struct dw_control *c;
	pthread_t th;
	atomic_int stop;
	char path[108];
};

/** The loop the engine's thread runs around the control. */
static void *srv_loop(void *p)
{
	struct srv *s = p;
	struct pollfd fds[DW_CONTROL_MAX_POLLFDS];

	while (!atomic_load(&s->stop)) {
		size_t n = dw_control_pollfds(s->c, fds, DW_CONTROL_MAX_POLLFDS);
		int t = dw_control_timeout(s->c, now_ms());
		if (t < 0 || t > 50)
			t = 50;
		if (poll(fds, n, t) < 0 && errno != EINTR)
			break;
		dw_control_service(s->c, fds, n, now_ms());
	}
	return NULL;
}

static struct fake fake;

/** Create a control at path and serve it from a thread; 0 or -1 (err). */
static int srv_start(struct srv *s, const char *path, const char *group, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->c = dw_control_new(path, group, cmds, NCMDS, &fake, capture_log, NULL, err, errlen);
	if (s->c == NULL)
		return -1;
	atomic_store(&s->stop, 0);
	if (pthread_create(&s->th, NULL, srv_loop, s) != 0) {
		dw_control_free(s->c);
		return -1;
	}
	return 0;
}

/** Stop the thread and free the control. */
static void srv_stop(struct srv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	dw_control_free(s->c);
	s->c = NULL;
}

/* ------------------------------------------------------------------------ */
/* raw clients                                                              */

/** Fill a Unix socket address (the test's paths are short). */
static void set_sun(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path))
		n = sizeof(sa->sun_path) - 1;
	memcpy(sa->sun_path, path, n);
}

/** Connect to path; fd or -1. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	set_sun(&sa, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/** Send everything (ignoring EPIPE: the server may have answered already). */
static void raw_send(int fd, const char *data, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/** Read until EOF or timeout_ms; malloc'ed NUL-terminated text (what came),
 *  *timed_out set when the deadline passed first. */
static char *raw_read_all(int fd, int timeout_ms, size_t *len, int *timed_out)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t cap = 65536, n = 0;
	char *b = malloc(cap + 1);

	*timed_out = 0;
	if (b == NULL)
		return NULL;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t r;
		if (now >= deadline) {
			*timed_out = 1;
			break;
		}
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		if (n == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (nb == NULL)
				break;
			b = nb;
			cap *= 2;
		}
		r = recv(fd, b + n, cap - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

/** One request/response exchange on a new connection (10 s limit). */
static char *raw_req(const char *path, const char *data, size_t n, size_t *len)
{
	int fd = raw_connect(path), to;
	char *r;
	if (fd < 0)
		return NULL;
	raw_send(fd, data, n);
	r = raw_read_all(fd, 10000, len, &to);
	close(fd);
	return r;
}

/** raw_req() of a NUL-terminated request. */
static char *raw(const char *path, const char *req)
{
	return raw_req(path, req, strlen(req), NULL);
}

/* ------------------------------------------------------------------------ */
/* running programs                                                         */

static char tmpdir[96]; /* $TMPDIR (<= 60 bytes) + /dwctl-XXXXXX */
static char cli[PATH_MAX];

/** A finished program: exit status (128+signal when killed), its outputs. */
struct run {
	int status;
	pid_t pid;
	char *out, *err;
	size_t outlen;
};

/** Start argv with stdout/stderr into tmpdir/out.TAG, err.TAG; env NULL =
 *  ours. Only async-signal-safe calls between fork and exec (we have
 *  threads). */
static pid_t spawn(char *const argv[], char *const envp[], int tag)
{
	char outp[PATH_MAX + 32], errp[PATH_MAX + 32];
	pid_t pid;

	snprintf(outp, sizeof(outp), "%s/out.%d", tmpdir, tag);
	snprintf(errp, sizeof(errp), "%s/err.%d", tmpdir, tag);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || n < 0)
			_exit(126);
		dup2(n, 0);
		dup2(o, 1);
		dup2(e, 2);
		execve(argv[0], argv, envp ? envp : environ);
		_exit(127);
	}
	return pid;
}

/** Wait for a spawned program and collect what it wrote. */
static void collect(pid_t pid, int tag, struct run *r)
{
	char outp[PATH_MAX + 32], errp[PATH_MAX + 32];
	int st = 0;

	snprintf(outp, sizeof(outp), "%s/out.%d", tmpdir, tag);
	snprintf(errp, sizeof(errp), "%s/err.%d", tmpdir, tag);
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		r->status = -1;
	else
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp(outp, &r->outlen);
	r->err = slurp(errp, NULL);
	if (r->out == NULL)
		r->out = calloc(1, 1);
	if (r->err == NULL)
		r->err = calloc(1, 1);
	unlink(outp);
	unlink(errp);
}

/** Run a program to its end. */
static void run(char *const argv[], char *const envp[], struct run *r)
{
	collect(spawn(argv, envp, 0), 0, r);
}

/** Free a run's outputs. */
static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/** Run the CLI with up to 6 arguments (NULL-terminated list). */
static void run_cli(struct run *r, const char *a1, const char *a2, const char *a3, const char *a4,
                    const char *a5, const char *a6)
{
	char *argv[8] = {cli,        (char *)a1, (char *)a2, (char *)a3,
	                 (char *)a4, (char *)a5, (char *)a6, NULL};
	run(argv, NULL, r);
}

/** Does the file at path exist and run? */
static int executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/** rm -r of our scratch directory (flat: files and sockets only). */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char p[PATH_MAX + 300];
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* ------------------------------------------------------------------------ */
/* the tests                                                                */

static const char *const STATUS_PLAIN = "ok\n"
                                        "version=0.1.0\n"
                                        "uptime=42\n"
                                        "mode=observe\n"
                                        "running=yes\n"
                                        "delta=-5\n"
                                        "empty=\"\"\n"
                                        "note=\"say \\\"hi\\\"\\n\\t\\\\\\xc3\\xa9\\x01\\xff\"\n";
static const char *const STATUS_JSON =
    "{\"version\":\"0.1.0\",\"uptime\":42,\"mode\":\"observe\",\"running\":true,\"delta\":-5,"
    "\"empty\":\"\",\"note\":\"say \\\"hi\\\"\\n\\t\\\\\xc3\xa9\\u0001\\ufffd\"}\n";
static const char *const SUSPECTS_PLAIN = "client=10.1.2.3 detector=mx_worm mx=57\n"
                                          "client=2001:db8::1 detector=ip_literal a=500\n"
                                          "count=2\n";
static const char *const SUSPECTS_JSON =
    "{\"suspects\":[{\"client\":\"10.1.2.3\",\"detector\":\"mx_worm\",\"mx\":57},"
    "{\"client\":\"2001:db8::1\",\"detector\":\"ip_literal\",\"a\":500}],\"count\":2}\n";

/** The validator itself must accept and refuse the right things. */
static void test_validator(void)
{
	static const char *const good[] = {"{}",
	                                   "[]",
	                                   "{\"a\":[1,-2.5e3,true,false,null]}",
	                                   " \"\\u00e9\\n\" ",
	                                   "0",
	                                   "{\"a\":{\"b\":[]}}"};
	static const char *const bad[] = {"{",     "{\"a\":}", "[1,]",      "\"\x01\"",
	                                  "01",    "{a:1}",    "\"\\x41\"", "\"\xff\"",
	                                  "[] []", "tru",      "{\"a\" 1}", ""};
	size_t i;
	int all = 1;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!json_valid(good[i], strlen(good[i]))) {
			printf("# validator refused %s\n", good[i]);
			all = 0;
		}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (json_valid(bad[i], strlen(bad[i]))) {
			printf("# validator accepted %s\n", bad[i]);
			all = 0;
		}
	ok(all, "the test's JSON validator works");
}

/** dw_utf8_len(): what the JSON output keeps and what it replaces. */
static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n, want;
	} cases[] = {{"\xc3\xa9", 2, 2},
	             {"\xe2\x82\xac", 3, 3},
	             {"\xf0\x9f\x98\x80", 4, 4},
	             {"\xf4\x8f\xbf\xbf", 4, 4},
	             {"A", 1, 0},
	             {"\x80", 1, 0},
	             {"\xc0\x80", 2, 0},
	             {"\xc1\xbf", 2, 0},
	             {"\xe0\x80\x80", 3, 0},
	             {"\xe0\x9f\xbf", 3, 0},
	             {"\xed\xa0\x80", 3, 0},
	             {"\xf0\x80\x80\x80", 4, 0},
	             {"\xf4\x90\x80\x80", 4, 0},
	             {"\xf5\x80\x80\x80", 4, 0},
	             {"\xc3", 1, 0},
	             {"\xe2\x82\xac", 2, 0},
	             {"\xe2\x28\xac", 3, 0},
	             {"\xed\x9f\xbf", 3, 3}};
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = dw_utf8_len((const unsigned char *)cases[i].s, cases[i].n);
		if (got != cases[i].want) {
			printf("# case %zu: got %zu, want %zu\n", i, got, cases[i].want);
			all = 0;
		}
	}
	ok(all, "dw_utf8_len: 2-4 byte sequences; overlong, surrogate, > U+10FFFF, cut: 0");
	ok(dw_utf8_len(NULL, 4) == 0 && dw_utf8_len((const unsigned char *)"\xc3\xa9", 0) == 0,
	   "dw_utf8_len: nothing to read is invalid");
}

/** The client the tools share (control_client.h), against the real server. */
static void test_client(const char *path)
{
	struct dw_control_reply r;
	char err[512], longpath[200];
	int rc;

	rc = dw_control_call(path, "DWCTL1 status\n", 10, DW_CONTROL_MAX_ANSWER, &r, err,
	                     sizeof(err));
	ok(rc == DW_CTLCALL_OK && r.status == 0 && r.len == strlen(STATUS_PLAIN) &&
	       strcmp(r.buf, STATUS_PLAIN) == 0 && r.body == r.buf + 3 && r.body_len == r.len - 3,
	   "client: ok, the whole answer and its body");
	dw_control_reply_free(&r);
	ok(r.buf == NULL && r.len == 0, "client: the answer is freed");
	rc = dw_control_call(path, "DWCTL1 unblock 10.9.9.9\n", 10, DW_CONTROL_MAX_ANSWER, &r, err,
	                     sizeof(err));
	ok(rc == DW_CTLCALL_OK && r.status == 1 &&
	       r.body_len == strlen("10.9.9.9 is not blocked") &&
	       memcmp(r.body, "10.9.9.9 is not blocked", r.body_len) == 0,
	   "client: error 1 and its message, without the newline");
	dw_control_reply_free(&r);
	rc = dw_control_call(path, "DWCTL1 nosuchverb\n", 10, DW_CONTROL_MAX_ANSWER, &r, err,
	                     sizeof(err));
	ok(rc == DW_CTLCALL_OK && r.status == 2, "client: error 2 (usage) for an unknown verb");
	dw_control_reply_free(&r);
	rc = dw_control_call(path, "DWCTL1 status\n", 10, 16, &r, err, sizeof(err));
	ok(rc == DW_CTLCALL_TOOBIG && r.buf == NULL && strstr(err, "larger than 16 bytes"),
	   "client: an answer over max is refused: %s", err);
	snprintf(longpath, sizeof(longpath), "%s/no-such.sock", tmpdir);
	rc = dw_control_call(longpath, "DWCTL1 status\n", 10, DW_CONTROL_MAX_ANSWER, &r, err,
	                     sizeof(err));
	ok(rc == DW_CTLCALL_CONNECT && r.errnum == ENOENT && strstr(err, longpath) &&
	       strstr(err, "is unbound running with dnswarden?"),
	   "client: no socket: connect fails, says where and why: %s", err);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	rc = dw_control_call(longpath, "DWCTL1 status\n", 10, DW_CONTROL_MAX_ANSWER, &r, err,
	                     sizeof(err));
	ok(rc == DW_CTLCALL_PATH && strstr(err, "longer than"), "client: a path too long: %s", err);
}

/** Creation: mode, group, errors for bad input. */
static void test_create(const char *dir)
{
	char path[200], err[512];
	struct dw_control *c;
	struct stat st;
	struct group *nog = getgrnam("nogroup");
	int fd;

	snprintf(path, sizeof(path), "%s/create.sock", dir);
	c = dw_control_new(path, "nogroup", cmds, NCMDS, &fake, capture_log, NULL, err,
	                   sizeof(err));
	ok(c != NULL, "created with group nogroup (%s)", c ? "ok" : err);
	ok(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "a socket file exists");
	is_int(st.st_mode & 07777, 0660, "mode 0660");
	ok(nog != NULL && st.st_gid == nog->gr_gid, "group is nogroup");
	dw_control_free(c);
	ok(lstat(path, &st) != 0 && errno == ENOENT, "dw_control_free() removes the socket file");

	c = dw_control_new(path, NULL, cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	ok(c != NULL && lstat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "no group: root only, mode 0600");
	/* someone replaced the file: free must leave theirs alone */
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	dw_control_free(c);
	ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "free leaves a file that is not ours");

	err[0] = '\0';
	c = dw_control_new(path, NULL, cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	ok(c == NULL && strstr(err, "exists and is not a socket") != NULL,
	   "a regular file at the path is an error: %s", err);
	ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "and the file is left alone");
	unlink(path);

	c = dw_control_new(path, "no-such-group-dw", cmds, NCMDS, &fake, NULL, NULL, err,
	                   sizeof(err));
	ok(c == NULL && strstr(err, "no-such-group-dw") && strstr(err, "no such group"),
	   "unknown group is an error: %s", err);
	ok(lstat(path, &st) != 0, "and leaves no file behind");

	c = dw_control_new(path, "65534", cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	ok(c != NULL && lstat(path, &st) == 0 && st.st_gid == 65534, "group given as a number");
	dw_control_free(c);

	{
		char longp[300];
		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		c = dw_control_new(longp, NULL, cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
		ok(c == NULL && strstr(err, "longer than 107"), "too long a path: %s", err);
	}
	{
		static const struct dw_command badt[] = {{"x", 2, 1, "x", h_status}};
		c = dw_control_new(path, NULL, badt, 1, &fake, NULL, NULL, err, sizeof(err));
		ok(c == NULL && strstr(err, "malformed"), "a malformed command table: %s", err);
	}
	snprintf(path, sizeof(path), "%s/no/such/dir.sock", dir);
	c = dw_control_new(path, NULL, cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	ok(c == NULL && strstr(err, "cannot bind"), "missing directory: %s", err);
}

/** Stale sockets are replaced, live ones refused. */
static void test_stale_live(const char *dir)
{
	char path[200], err[512];
	struct sockaddr_un sa;
	struct srv s;
	struct dw_control *c2;
	char *r;
	int fd;

	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	/* a crash leaves the socket file behind: bind, close, no unlink */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	set_sun(&sa, path);
	ok(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "made a stale socket file");
	close(fd);
	err[0] = '\0';
	ok(srv_start(&s, path, "nogroup", err, sizeof(err)) == 0, "stale socket replaced %s", err);
	r = raw(path, "DWCTL1 status\n");
	is_str(r, STATUS_PLAIN, "and the new server answers");
	free(r);

	c2 = dw_control_new(path, "nogroup", cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	ok(c2 == NULL, "a second server on a live socket is refused");
	ok(strstr(err, "another process is listening (is another unbound running?)") != NULL &&
	       strstr(err, path) != NULL,
	   "with a message naming the path: %s", err);
	r = raw(path, "DWCTL1 status\n");
	is_str(r, STATUS_PLAIN, "the first server still answers after the probe");
	free(r);
	srv_stop(&s);
}

/** Drive a control by hand with a fake clock: deadlines and the poll API. */
static void test_manual_clock(const char *dir)
{
	char path[200], err[512];
	struct dw_control *c;
	struct pollfd fds[DW_CONTROL_MAX_POLLFDS];
	size_t n;
	int fd, to;

	snprintf(path, sizeof(path), "%s/manual.sock", dir);
	c = dw_control_new(path, NULL, cmds, NCMDS, &fake, NULL, NULL, err, sizeof(err));
	if (!ok(c != NULL, "manual control created"))
		return;
	is_int(dw_control_timeout(c, 1000), -1, "idle: no deadline");
	is_int(dw_control_pollfds(c, fds, 0), 0, "pollfds respects max = 0");
	n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
	is_int(n, 1, "idle: only the listener is polled");
	fd = raw_connect(path); /* completes into the backlog */
	ok(poll(fds, n, 2000) == 1, "the listener becomes readable");
	dw_control_service(c, fds, n, 1000);
	is_int(dw_control_timeout(c, 1000), DW_CONTROL_READ_MS, "a connection: read deadline");
	n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
	ok(n == 2 && fds[1].events == POLLIN, "the connection is polled for input");
	dw_control_service(c, fds, 0, 1000 + DW_CONTROL_READ_MS - 1);
	is_int(dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS), 2, "not yet expired");
	dw_control_service(c, fds, 0, 1000 + DW_CONTROL_READ_MS);
	is_int(dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS), 1, "expired at the deadline");
	{
		int t;
		char *r = raw_read_all(fd, 2000, NULL, &t);
		is_str(r, "error 2 timed out waiting for the request (5 s)\n",
		       "the silent client is told why");
		free(r);
	}
	close(fd);
	to = dw_control_timeout(c, 99999);
	is_int(to, -1, "no deadline left");

	/* a reader too slow for its 8 MiB: cut off at the write deadline */
	fd = raw_connect(path);
	raw_send(fd, "DWCTL1 export_nft\n", 18);
	n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
	poll(fds, n, 2000);
	dw_control_service(c, fds, n, 20000); /* accept */
	n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
	poll(fds, n, 2000);
	dw_control_service(c, fds, n, 20000); /* read, run, write what fits */
	n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
	ok(n == 2 && fds[1].events == POLLOUT, "a big answer waits for the reader (POLLOUT)");
	is_int(dw_control_timeout(c, 20000), DW_CONTROL_WRITE_MS, "write deadline");
	dw_control_service(c, fds, 0, 20000 + DW_CONTROL_WRITE_MS);
	is_int(dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS), 1,
	       "the connection is dropped at the write deadline");
	{
		int t;
		size_t len = 0;
		char *r = raw_read_all(fd, 2000, &len, &t);
		ok(r && !t && len > 0 && len < strlen(fake.big),
		   "the reader sees a cut answer and end of file (%zu bytes)", len);
		free(r);
	}
	close(fd);

	/* slow readers together hold at most DW_CONTROL_MAX_HELD (+ a small
	 * answer each): 12 of them asking for 8 MiB, none reading */
	{
		int slow[12], busy = 0, served = 0, round;
		size_t k, held, most = 0;
		for (k = 0; k < 12; k++) {
			slow[k] = raw_connect(path);
			raw_send(slow[k], "DWCTL1 export_nft\n", 18);
		}
		for (round = 0; round < 40; round++) {
			n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
			poll(fds, n, 50);
			dw_control_service(c, fds, n, 40000);
			held = dw_control_held(c);
			if (held > most)
				most = held;
		}
		ok(most <= DW_CONTROL_MAX_HELD + DW_CONTROL_MAX_CONNS * DW_CONTROL_MIN_RESPONSE,
		   "slow readers hold %zu MiB at most (bound %zu MiB)", most >> 20,
		   DW_CONTROL_MAX_HELD >> 20);
		for (k = 0; k < 12; k++) {
			char head[64] = "";
			ssize_t got = recv(slow[k], head, sizeof(head) - 1, MSG_DONTWAIT);
			head[got > 0 ? got : 0] = '\0';
			if (starts(head, "error 1 busy: "))
				busy++;
			else if (starts(head, "ok\n"))
				served++;
			close(slow[k]);
		}
		ok(served == 7 && busy == 5,
		   "7 (56 MiB + 7 status lines) are served, the others told the socket is busy (%d served, %d busy)", served,
		   busy);
		dw_control_service(c, fds, 0, 40000 + DW_CONTROL_WRITE_MS);
		is_int(dw_control_held(c), 0, "nothing held once they are gone");
	}

	/* out of descriptors: the listener rests instead of spinning */
	{
		struct rlimit old, low;
		int probe;
		fd = raw_connect(path);
		probe = dup(0);
		close(probe);
		getrlimit(RLIMIT_NOFILE, &old);
		low = old;
		low.rlim_cur = (rlim_t)probe; /* the next accept() gets EMFILE */
		setrlimit(RLIMIT_NOFILE, &low);
		n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
		poll(fds, n, 2000);
		dw_control_service(c, fds, n, 50000);
		setrlimit(RLIMIT_NOFILE, &old);
		is_int(dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS), 0,
		       "EMFILE: the listener is not polled for a while");
		is_int(dw_control_timeout(c, 50000), 1000, "and a wake-up is due in 1 s");
		dw_control_service(c, fds, 0, 51000);
		n = dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS);
		ok(n == 1 && fds[0].events == POLLIN, "then it listens again");
		poll(fds, n, 2000);
		dw_control_service(c, fds, n, 51000);
		is_int(dw_control_pollfds(c, fds, DW_CONTROL_MAX_POLLFDS), 2,
		       "and the waiting client is accepted");
		close(fd);
	}
	dw_control_free(c);
}

/** The protocol over raw sockets. */
static void test_protocol(const char *path)
{
	char *r;
	size_t len = 0;
	char line[DW_CONTROL_MAX_LINE + 64];
	uint64_t t0;

	r = raw(path, "DWCTL1 status\n");
	is_str(r, STATUS_PLAIN, "plain status: key=value lines, quoted and escaped values");
	free(r);
	r = raw(path, "DWCTL1 --json status\n");
	ok(starts(r, "ok\n") && json_valid(r + 3, strlen(r + 3)), "JSON status is valid JSON");
	ok(starts(r, "ok\n") && strcmp(r + 3, STATUS_JSON) == 0, "JSON status: exact");
	if (r && strcmp(r + 3, STATUS_JSON) != 0)
		printf("#   got %s", r + 3);
	free(r);
	r = raw(path, "DWCTL1 list_suspects\n");
	ok(starts(r, "ok\n") && strcmp(r + 3, SUSPECTS_PLAIN) == 0,
	   "plain list: one record a line");
	free(r);
	r = raw(path, "DWCTL1 --json list_suspects\n");
	ok(starts(r, "ok\n") && strcmp(r + 3, SUSPECTS_JSON) == 0 &&
	       json_valid(r + 3, strlen(r + 3)),
	   "JSON list: {\"name\":[{...},...]}");
	free(r);
	r = raw(path, "DWCTL1 list_blocked\n");
	is_str(r, "ok\n", "empty list, plain: no lines");
	free(r);
	r = raw(path, "DWCTL1 --json list_blocked\n");
	is_str(r, "ok\n{\"blocked\":[]}\n", "empty list, JSON: []");
	free(r);
	r = raw(path, "DWCTL1 metrics\n");
	is_str(r, "ok\n" METRICS, "text, plain: as is");
	free(r);
	r = raw(path, "DWCTL1 --json metrics\n");
	ok(starts(r, "ok\n{\"text\":\"# HELP dnswarden_queries_total") &&
	       strstr(r, "{source=\\\"cache\\\"} 5\\n\"}\n") && json_valid(r + 3, strlen(r + 3)),
	   "text, JSON: one string member 'text'");
	free(r);
	r = raw(path, "DWCTL1 --json reload\n");
	is_str(r, "ok\n{\"reloaded\":true}\n", "handlers can tell JSON from plain");
	free(r);
	r = raw(path, "DWCTL1 mixed\n");
	is_str(r, "ok\nno newline\nafter=text\nmore=1\n", "plain fields start on a fresh line");
	free(r);
	r = raw(path, "DWCTL1 --json mixed\n");
	ok(starts(r, "error 1 internal error: text after other output"),
	   "JSON: text, field, text is refused as misuse");
	free(r);
	r = raw(path, "DWCTL1 echo a b c\n");
	is_str(r, "ok\ni=0 arg=a\ni=1 arg=b\ni=2 arg=c\nnull_terminated=yes\n",
	       "arguments reach the handler, argv[argc] == NULL");
	free(r);
	r = raw(path, "DWCTL1 --json echo\n");
	is_str(r, "ok\n{\"args\":[],\"null_terminated\":true}\n", "no arguments");
	free(r);
	r = raw(path, "DWCTL1 block 10.1.2.3 1h sinkhole\n");
	{
		char want[128];

		snprintf(want, sizeof(want),
		         "ok\nclient=10.1.2.3\nduration=1h\naction=sinkhole\nuid=%u\n",
		         (unsigned)geteuid());
		is_str(r, want, "block with all arguments; peer uid visible to the handler");
	}
	free(r);

	/* errors from handlers */
	r = raw(path, "DWCTL1 unblock 10.9.9.9\n");
	is_str(r, "error 1 10.9.9.9 is not blocked\n", "handler error: status 1, body dropped");
	free(r);
	r = raw(path, "DWCTL1 --json exempt_add 0.0.0.0/0\n");
	is_str(r, "error 2 refusing to exempt every IPv4 client\n", "handler error with status 2");
	free(r);
	r = raw(path, "DWCTL1 misuse twoerr\n");
	is_str(r, "error 1 first\n", "the first error wins");
	free(r);
	r = raw(path, "DWCTL1 misuse status7\n");
	is_str(r, "error 1 odd status\n", "statuses other than 1 and 2 become 1");
	free(r);
	{
		static const char *const how[] = {"field_in_list", "item_outside", "unclosed",
		                                  "badkey",        "nested",       "text_in_item"};
		size_t i;
		int all = 1;
		for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
			char req[64];
			snprintf(req, sizeof(req), "DWCTL1 misuse %s\n", how[i]);
			r = raw(path, req);
			if (!starts(r, "error 1 internal error: ")) {
				printf("#   %s: %s", how[i], r ? r : "(null)\n");
				all = 0;
			}
			free(r);
			snprintf(req, sizeof(req), "DWCTL1 --json misuse %s\n", how[i]);
			r = raw(path, req);
			if (!starts(r, "error 1 internal error: ")) {
				printf("#   json %s: %s", how[i], r ? r : "(null)\n");
				all = 0;
			}
			free(r);
		}
		ok(all, "builder misuse becomes 'error 1 internal error: ...' in both formats");
	}
	t0 = now_ms();
	r = raw_req(path, "DWCTL1 huge\n", 12, &len);
	ok(r && strcmp(r, "error 1 response too large (more than 64 MiB)\n") == 0,
	   "a response over the cap becomes an error (%llu ms)",
	   (unsigned long long)(now_ms() - t0));
	free(r);

	/* bad requests */
	r = raw(path, "hello world\n");
	ok(starts(r, "error 2 bad request: expected 'DWCTL1 [--json] COMMAND"), "garbage line");
	free(r);
	r = raw_req(path, "\x00\x01\xfe\xff garbage\n", 14, NULL);
	ok(starts(r, "error 2 bad request: control character or non-ASCII byte at offset 0"),
	   "binary garbage");
	free(r);
	r = raw(path, "DWCTL1 status\r\n");
	ok(starts(r, "error 2 bad request: control character"), "CR before the newline");
	free(r);
	r = raw(path, "DWCTL2 status\n");
	ok(starts(r, "error 2 unsupported protocol version 'DWCTL2'"), "other protocol version");
	free(r);
	r = raw(path, "DWCTL1  status\n");
	ok(starts(r, "error 2 bad request: empty token"), "double space");
	free(r);
	r = raw(path, "DWCTL1 status \n");
	ok(starts(r, "error 2 bad request: empty token"), "trailing space");
	free(r);
	r = raw(path, "\n");
	ok(starts(r, "error 2 bad request: empty token"), "empty line");
	free(r);
	r = raw(path, "DWCTL1\n");
	is_str(r, "error 2 bad request: no command\n", "no command");
	free(r);
	r = raw(path, "DWCTL1 --json\n");
	is_str(r, "error 2 bad request: no command\n", "--json and no command");
	free(r);
	r = raw(path, "DWCTL1 frobnicate now\n");
	ok(starts(r, "error 2 unknown command 'frobnicate'; commands: status, list_suspects,"),
	   "unknown verb, with the list of verbs");
	free(r);
	r = raw(path, "DWCTL1 show_client\n");
	is_str(r, "error 2 usage: show_client ADDR\n", "missing argument: usage");
	free(r);
	r = raw(path, "DWCTL1 block 1 2 3 4\n");
	is_str(r, "error 2 usage: block ADDR [DURATION] [ACTION]\n", "extra argument: usage");
	free(r);
	r = raw(path, "DWCTL1 echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	ok(starts(r, "ok\n") && strstr(r, "arg=16"), "16 arguments are fine");
	free(r);
	r = raw(path, "DWCTL1 echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n");
	is_str(r, "error 2 too many arguments (at most 16)\n", "17 are not");
	free(r);
	r = raw(path, "DWCTL1 --json echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\n");
	is_str(r, "error 2 too many arguments (at most 16)\n", "nor are 21");
	free(r);

	/* the line length limit, at its edge */
	snprintf(line, sizeof(line), "DWCTL1 echo ");
	memset(line + 12, 'x', DW_CONTROL_MAX_LINE - 13);
	line[DW_CONTROL_MAX_LINE - 1] = '\n';
	line[DW_CONTROL_MAX_LINE] = '\0';
	r = raw_req(path, line, DW_CONTROL_MAX_LINE, NULL);
	ok(starts(r, "ok\n"), "a request line of exactly 4096 bytes is served");
	free(r);
	line[DW_CONTROL_MAX_LINE - 1] = 'x';
	line[DW_CONTROL_MAX_LINE] = '\n';
	r = raw_req(path, line, DW_CONTROL_MAX_LINE + 1, NULL);
	is_str(r, "error 2 request line too long (more than 4096 bytes)\n", "4097 bytes are not");
	free(r);
	{
		char *big = malloc(100000);
		memset(big, 'A', 100000);
		t0 = now_ms();
		r = raw_req(path, big, 100000, NULL);
		ok(r && strcmp(r, "error 2 request line too long (more than 4096 bytes)\n") == 0 &&
		       now_ms() - t0 < 2000,
		   "100 kB without a newline: refused at once");
		free(r);
		free(big);
	}

	/* half a request, then end of input */
	{
		int fd = raw_connect(path), to;
		raw_send(fd, "DWCTL1 stat", 11);
		shutdown(fd, SHUT_WR);
		r = raw_read_all(fd, 3000, NULL, &to);
		is_str(r, "error 2 incomplete request: the connection ended before a newline\n",
		       "end of input before the newline");
		free(r);
		close(fd);
	}
	/* connect and leave */
	{
		int fd = raw_connect(path);
		close(fd);
		r = raw(path, "DWCTL1 status\n");
		is_str(r, STATUS_PLAIN, "a client that connects and leaves harms nobody");
		free(r);
	}
	/* bytes after the newline are ignored */
	r = raw(path, "DWCTL1 status\nDWCTL1 metrics\n");
	is_str(r, STATUS_PLAIN, "one request per connection: the rest is ignored");
	free(r);
}

/** Slow and silent clients time out while others are served. */
static void test_timeouts(const char *path)
{
	int half = raw_connect(path), silent = raw_connect(path), nonreader, to1, to2;
	uint64_t t0 = now_ms(), t1;
	char *r, *r1, *r2;

	raw_send(half, "DWCTL1 sta", 10);
	/* a client that asks for 8 MiB and never reads it */
	nonreader = raw_connect(path);
	raw_send(nonreader, "DWCTL1 export_nft\n", 18);
	sleep_ms(300);
	t1 = now_ms();
	r = raw(path, "DWCTL1 status\n");
	ok(r && strcmp(r, STATUS_PLAIN) == 0 && now_ms() - t1 < 1000,
	   "meanwhile another client is served at once (%llu ms)",
	   (unsigned long long)(now_ms() - t1));
	free(r);
	r1 = raw_read_all(half, 10000, NULL, &to1);
	r2 = raw_read_all(silent, 10000, NULL, &to2);
	t1 = now_ms() - t0;
	is_str(r1, "error 2 timed out waiting for the request (5 s)\n",
	       "half-sent request times out");
	is_str(r2, "error 2 timed out waiting for the request (5 s)\n",
	       "a client that never writes times out");
	ok(t1 >= 4500 && t1 < 8000, "after about 5 s (%llu ms)", (unsigned long long)t1);
	free(r1);
	free(r2);
	close(half);
	close(silent);
	{
		size_t len = 0;
		r = raw_read_all(nonreader, 10000, &len, &to1);
		ok(r && len == 3 + strlen(fake.big) && starts(r, "ok\n") &&
		       memcmp(r + 3, fake.big, len - 3) == 0,
		   "the slow reader still gets all of its 8 MiB when it reads");
		free(r);
	}
	close(nonreader);
}

/** State of one of the concurrent raw clients. */
struct conc {
	const char *path;
	pthread_barrier_t *bar;
	int result; /**< 1 ok, 2 busy, 0 anything else */
};

/** One concurrent client: wait for the others, then ask. */
static void *conc_client(void *p)
{
	struct conc *k = p;
	char *r;
	pthread_barrier_wait(k->bar);
	r = raw(k->path, "DWCTL1 list_suspects\n");
	if (r && strcmp(r + (starts(r, "ok\n") ? 3 : 0), SUSPECTS_PLAIN) == 0)
		k->result = 1;
	else if (starts(r, "error 1 too many control connections (at most 32 at once); try again"))
		k->result = 2;
	else
		k->result = 0;
	free(r);
	return NULL;
}

/** The connection cap, and many clients at once. */
static void test_concurrency(const char *path)
{
	int idle[DW_CONTROL_MAX_CONNS];
	int i, okn = 0, busy = 0, other = 0;
	char *r;
	enum { N = 40 };
	pthread_t th[N];
	struct conc k[N];
	pthread_barrier_t bar;
	pid_t pids[N];
	char *argv[] = {cli, "-s", (char *)path, "list_suspects", NULL};

	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		idle[i] = raw_connect(path);
	sleep_ms(300); /* let the server accept them all */
	r = raw(path, "DWCTL1 status\n");
	is_str(r, "error 1 too many control connections (at most 32 at once); try again\n",
	       "33rd connection while 32 are open: refused with an error");
	free(r);
	for (i = 0; i < DW_CONTROL_MAX_CONNS; i++)
		close(idle[i]);
	sleep_ms(200);
	r = raw(path, "DWCTL1 status\n");
	is_str(r, STATUS_PLAIN, "served again once they are gone");
	free(r);

	pthread_barrier_init(&bar, NULL, N);
	for (i = 0; i < N; i++) {
		k[i].path = path;
		k[i].bar = &bar;
		k[i].result = 0;
		pthread_create(&th[i], NULL, conc_client, &k[i]);
	}
	for (i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		okn += k[i].result == 1;
		busy += k[i].result == 2;
	}
	pthread_barrier_destroy(&bar);
	ok(okn + busy == N && okn >= DW_CONTROL_MAX_CONNS,
	   "40 concurrent raw clients: %d served, %d told to retry", okn, busy);

	if (!executable(cli))
		return;
	okn = busy = 0;
	for (i = 0; i < N; i++)
		pids[i] = spawn(argv, NULL, 100 + i);
	for (i = 0; i < N; i++) {
		struct run rr;
		collect(pids[i], 100 + i, &rr);
		if (rr.status == 0 && rr.out && strcmp(rr.out, SUSPECTS_PLAIN) == 0)
			okn++;
		else if (rr.status == 1 && strstr(rr.err, "too many control connections"))
			busy++;
		else {
			other++;
			printf("#   client %d: status %d out '%s' err '%s'\n", i, rr.status,
			       rr.out ? rr.out : "", rr.err ? rr.err : "");
		}
		run_free(&rr);
	}
	ok(other == 0 && okn >= DW_CONTROL_MAX_CONNS,
	   "40 concurrent CLI processes: %d served, %d told to retry", okn, busy);
}

/** The CLI against the server. */
static void test_cli(const char *path)
{
	struct run r;
	char conf[PATH_MAX + 32], stale[PATH_MAX + 32];
	FILE *f;

	run_cli(&r, "-s", path, "status", NULL, NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, STATUS_PLAIN + 3) == 0 && r.err[0] == '\0',
	   "CLI status: body on stdout, exit 0");
	run_free(&r);
	run_cli(&r, "-s", path, "--json", "status", NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, STATUS_JSON) == 0 && json_valid(r.out, r.outlen),
	   "CLI --json status: one valid JSON document");
	run_free(&r);
	run_cli(&r, "--json", "-s", path, "list_suspects", NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, SUSPECTS_JSON) == 0, "CLI --json list_suspects");
	if (executable("/usr/bin/jq")) {
		char cmd[PATH_MAX * 2 + 64];
		snprintf(cmd, sizeof(cmd), "%s/jq.json", tmpdir);
		f = fopen(cmd, "w");
		fputs(r.out, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
		         "/usr/bin/jq -e '.suspects[1].a == 500 and .count == 2' %s/jq.json "
		         ">/dev/null",
		         tmpdir);
		ok(system(cmd) == 0, "jq reads it");
	}
	run_free(&r);
	run_cli(&r, "-s", path, "list_suspects", NULL, NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, SUSPECTS_PLAIN) == 0,
	   "CLI list_suspects: a record a line");
	run_free(&r);
	run_cli(&r, "-s", path, "show_client", "2001:db8::7", NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, "client=2001:db8::7\nqueries=7\n") == 0,
	   "CLI show_client ADDR");
	run_free(&r);
	run_cli(&r, "-s", path, "block", "10.1.2.3", "90m", "tcp-only");
	{
		char want[128];

		snprintf(want, sizeof(want),
		         "client=10.1.2.3\nduration=90m\naction=tcp-only\nuid=%u\n",
		         (unsigned)geteuid());
		ok(r.status == 0 && strcmp(r.out, want) == 0, "CLI block ADDR DURATION ACTION");
	}
	run_free(&r);
	run_cli(&r, "-s", path, "block", "10.1.2.3", NULL, NULL);
	ok(r.status == 0 && strstr(r.out, "duration=default\naction=default\n"), "CLI block ADDR");
	run_free(&r);
	run_cli(&r, "-s", path, "block", "2001:db8::9", "forever", NULL);
	ok(r.status == 0 && strstr(r.out, "duration=forever\n"), "CLI block ADDR forever");
	run_free(&r);
	run_cli(&r, "-s", path, "list_suspects", "all", "25", NULL);
	ok(r.status == 0 && strcmp(r.out, SUSPECTS_PLAIN) == 0, "CLI list_suspects all 25");
	run_free(&r);
	run_cli(&r, "-s", path, "metrics", NULL, NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, METRICS) == 0, "CLI metrics: text as is");
	run_free(&r);
	run_cli(&r, "-s", path, "export_nft", NULL, NULL, NULL);
	ok(r.status == 0 && r.outlen == strlen(fake.big) && memcmp(r.out, fake.big, r.outlen) == 0,
	   "CLI export_nft: 8 MiB intact");
	run_free(&r);
	run_cli(&r, "-s", path, "unblock", "10.9.9.9", NULL, NULL);
	ok(r.status == 1 && r.out[0] == '\0' &&
	       strcmp(r.err, "dnswarden-control: 10.9.9.9 is not blocked\n") == 0,
	   "refused command: message on stderr, exit 1");
	run_free(&r);
	run_cli(&r, "-s", path, "exempt_add", "0.0.0.0/0", NULL, NULL);
	ok(r.status == 2 && strstr(r.err, "refusing to exempt"), "server usage error: exit 2");
	run_free(&r);

	/* usage errors, found before any connection (-s points nowhere) */
	{
		static const char *const cases[][4] = {
		    {"frobnicate", NULL, NULL, NULL},
		    {"show_client", NULL, NULL, NULL},
		    {"show_client", "10.1.2", NULL, NULL},
		    {"show_client", "10.1.2.3", "x", NULL},
		    {"block", "10.1.2.3", "soon", NULL},
		    {"block", "10.1.2.3", "-5", NULL},
		    {"block", "10.1.2.3", "1h", "explode"},
		    {"block", "10.1.2.3", "1h", "log"},
		    {"list_suspects", "some", NULL, NULL},
		    {"list_suspects", "0", NULL, NULL},
		    {"list_suspects", "all", "10", "x"},
		    {"exempt_add", "10.0.0.1/8", NULL, NULL},
		    {"exempt_remove", "fe80::1%eth0", NULL, NULL},
		    {"check_ns", "ns1.example.", NULL, NULL},
		    {"status", "now", NULL, NULL},
		};
		size_t i;
		int all = 1;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			run_cli(&r, "-s", "/nonexistent/dw.sock", cases[i][0], cases[i][1],
			        cases[i][2], cases[i][3]);
			if (r.status != 2 || strstr(r.err, "cannot connect") ||
			    !starts(r.err, "dnswarden-control: ")) {
				printf("#   %s %s: status %d, err '%s'\n", cases[i][0],
				       cases[i][1] ? cases[i][1] : "", r.status, one_line(r.err));
				all = 0;
			}
			run_free(&r);
		}
		ok(all,
		   "bad verbs, addresses, prefixes, durations, actions: exit 2, no connection");
	}
	run_cli(&r, NULL, NULL, NULL, NULL, NULL, NULL);
	ok(r.status == 2 && strstr(r.err, "no command"), "no command: exit 2");
	run_free(&r);
	run_cli(&r, "-x", "status", NULL, NULL, NULL, NULL);
	ok(r.status == 2, "unknown option: exit 2");
	run_free(&r);
	run_cli(&r, "-c", "/x.yaml", "-s", path, "status", NULL);
	ok(r.status == 2 && strstr(r.err, "exclude"), "-c with -s: exit 2");
	run_free(&r);
	run_cli(&r, "-h", NULL, NULL, NULL, NULL, NULL);
	ok(r.status == 0 && starts(r.out, "usage: dnswarden-control") &&
	       strstr(r.out, "block ADDR [DURATION|forever] [ACTION]") &&
	       strstr(r.out, "metrics") && strstr(r.out, "export_nft") && strstr(r.out, "reload"),
	   "-h: usage on stdout, exit 0");
	run_free(&r);

	/* cannot connect */
	run_cli(&r, "-s", "/nonexistent/dw.sock", "status", NULL, NULL, NULL);
	ok(r.status == 1 && strstr(r.err, "cannot connect to /nonexistent/dw.sock"),
	   "no socket: exit 1 naming it: %s", one_line(r.err));
	run_free(&r);
	snprintf(stale, sizeof(stale), "%s/cli-stale.sock", tmpdir);
	{
		struct sockaddr_un sa;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		set_sun(&sa, stale);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			printf("# bind %s: %s\n", stale, strerror(errno));
		close(fd);
	}
	run_cli(&r, "-s", stale, "status", NULL, NULL, NULL);
	ok(r.status == 1 && strstr(r.err, "Connection refused"), "nobody listening: exit 1: %s",
	   one_line(r.err));
	run_free(&r);
	unlink(stale);

	/* the socket from the YAML */
	snprintf(conf, sizeof(conf), "%s/dnswarden.yaml", tmpdir);
	f = fopen(conf, "w");
	fprintf(f, "mode: observe\ncontrol:\n  socket: %s\n  group: nogroup\n", path);
	fclose(f);
	run_cli(&r, "-c", conf, "status", NULL, NULL, NULL);
	ok(r.status == 0 && strcmp(r.out, STATUS_PLAIN + 3) == 0,
	   "-c CONFIG: socket from the YAML");
	run_free(&r);
	{
		char env[PATH_MAX + 64];
		char *argv[] = {cli, "status", NULL};
		char *envp[] = {env, NULL};
		snprintf(env, sizeof(env), "DNSWARDEN_CONF=%s", conf);
		run(argv, envp, &r);
		ok(r.status == 0 && strcmp(r.out, STATUS_PLAIN + 3) == 0,
		   "$DNSWARDEN_CONF names the default config");
		run_free(&r);
	}
	f = fopen(conf, "w");
	fprintf(f, "control:\n  socket: relative.sock\n");
	fclose(f);
	run_cli(&r, "-c", conf, "status", NULL, NULL, NULL);
	ok(r.status == 1 && strstr(r.err, "dnswarden.yaml:2:") && strstr(r.err, "-s SOCKET"),
	   "a broken config: exit 1 with the YAML error and a hint: %s", one_line(r.err));
	run_free(&r);
}

/** Peer checks: root, group members, everybody else. */
static void test_peers(const char *dir)
{
	char path[200], err[512];
	struct srv s;
	struct run r;
	const char *setpriv = "/usr/bin/setpriv";

	if (geteuid() != 0) { /* make check as another user: said, not hidden */
		printf("ok %d # skip peer checks need root (they run the CLI as other users)\n",
		       ++tap_n);
		return;
	}
	if (!executable(setpriv) || !executable(cli) || !getgrnam("nogroup")) {
		/* the suite runs as root (the test world binds port 53): a missing
		 * prerequisite is a failure, not a silent skip */
		ok(0, "peer checks need root, setpriv, the CLI and group nogroup");
		return;
	}
	snprintf(path, sizeof(path), "%s/peer.sock", dir);
	if (!ok(srv_start(&s, path, "nogroup", err, sizeof(err)) == 0, "server for group nogroup"))
		return;
	{
		char *argv[] = {(char *)setpriv,
		                "--reuid=65534",
		                "--regid=65534",
		                "--init-groups",
		                cli,
		                "-s",
		                path,
		                "status",
		                NULL};
		run(argv, NULL, &r);
		ok(r.status == 0 && strcmp(r.out, STATUS_PLAIN + 3) == 0,
		   "uid 65534 in group nogroup (primary) is served: %s", one_line(r.err));
		run_free(&r);
	}
	{
		char *argv[] = {(char *)setpriv,
		                "--reuid=65534",
		                "--regid=1",
		                "--groups=65534",
		                cli,
		                "-s",
		                path,
		                "status",
		                NULL};
		run(argv, NULL, &r);
		ok(r.status == 0, "uid 65534 with nogroup as a supplementary group is served: %s",
		   one_line(r.err));
		run_free(&r);
	}
	log_clear();
	{
		char *argv[] = {(char *)setpriv,
		                "--reuid=65534",
		                "--regid=1",
		                "--clear-groups",
		                cli,
		                "-s",
		                path,
		                "status",
		                NULL};
		run(argv, NULL, &r);
		ok(r.status == 1 && strstr(r.err, "Permission denied") && strstr(r.err, path),
		   "not in the group: the socket's mode already refuses: %s", one_line(r.err));
		run_free(&r);
		is_int(log_count(), 0, "(the server never saw it)");

		/* open the file up, as a careless admin might: the server still checks */
		chmod(path, 0666);
		run(argv, NULL, &r);
		ok(r.status == 1 &&
		       strstr(r.err, "permission denied: only root and members of group 'nogroup'"),
		   "mode 0666: the peer check refuses uid 65534 gid 1: %s", one_line(r.err));
		sleep_ms(50);
		pthread_mutex_lock(&log_mu);
		{
			char want[128];
			snprintf(want, sizeof(want),
			         "dnswarden: event=control_denied uid=65534 gid=1 pid=%ld",
			         (long)r.pid);
			ok(log_n == 1 && strcmp(log_lines[0], want) == 0 &&
			       log_prio[0] == LOG_WARNING,
			   "logged: %s", log_n ? log_lines[0] : "(nothing)");
		}
		pthread_mutex_unlock(&log_mu);
		run_free(&r);
	}
	srv_stop(&s);

	/* root only (no group), socket opened up; the user of the lead's example */
	log_clear();
	snprintf(path, sizeof(path), "%s/rootonly.sock", dir);
	if (!ok(srv_start(&s, path, "", err, sizeof(err)) == 0, "root-only server"))
		return;
	chmod(path, 0666);
	{
		char *argv[] = {(char *)setpriv,
		                "--reuid=65534",
		                "--regid=65534",
		                "--clear-groups",
		                cli,
		                "-s",
		                path,
		                "status",
		                NULL};
		run(argv, NULL, &r);
		ok(r.status == 1 &&
		       strstr(r.err, "permission denied: only root may use this socket"),
		   "root only: uid 65534 refused: %s", one_line(r.err));
		sleep_ms(50);
		pthread_mutex_lock(&log_mu);
		{
			char want[128];
			snprintf(want, sizeof(want),
			         "dnswarden: event=control_denied uid=65534 gid=65534 pid=%ld",
			         (long)r.pid);
			ok(log_n == 1 && strcmp(log_lines[0], want) == 0, "logged: %s",
			   log_n ? log_lines[0] : "(nothing)");
		}
		pthread_mutex_unlock(&log_mu);
		run_free(&r);
	}
	run_cli(&r, "-s", path, "status", NULL, NULL, NULL);
	ok(r.status == 0, "root is served");
	run_free(&r);

	/* a storm of refused peers: the log is rate-limited, nothing is lost */
	log_clear();
	{
		enum { N = 40 };
		pid_t pids[N];
		int i, good = 0, lines;
		long sum = 0;
		uint64_t storm0 = now_ms(), seconds;
		for (i = 0; i < N; i++) {
			fflush(stdout);
			pids[i] = fork();
			if (pids[i] == 0) {
				/* raw syscalls: credentials of this (only) thread */
				char buf[256];
				ssize_t n;
				int fd;
				if (syscall(SYS_setgroups, 0, NULL) != 0 ||
				    syscall(SYS_setresgid, 65534, 65534, 65534) != 0 ||
				    syscall(SYS_setresuid, 65534, 65534, 65534) != 0)
					_exit(3);
				fd = raw_connect(path);
				if (fd < 0)
					_exit(4);
				n = recv(fd, buf, sizeof(buf) - 1, 0);
				_exit(n > 0 && strncmp(buf, "error 1 permission denied", 25) == 0
				          ? 0
				          : 5);
			}
		}
		for (i = 0; i < N; i++) {
			int st;
			waitpid(pids[i], &st, 0);
			good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
		}
		is_int(good, N, "40 refused raw peers all got the error");
		sleep_ms(100);
		lines = log_count();
		/* at most the rate in every second the storm touched (a loaded
		 * machine spreads 40 forks over several seconds), plus the current
		 * second's line or two from above */
		seconds = (now_ms() - storm0) / 1000 + 2;
		ok(lines > 0 && (uint64_t)lines <= seconds * DW_CONTROL_DENIED_RATE &&
		       (lines < N || seconds * DW_CONTROL_DENIED_RATE >= (uint64_t)N),
		   "control_denied lines rate-limited: %d lines for %d refusals in %llu s", lines,
		   N, (unsigned long long)seconds);
		sleep_ms(1100);
		run_cli(&r, "-s", path, "status", NULL, NULL, NULL); /* root: not logged */
		run_free(&r);
		{
			char *argv[] = {(char *)setpriv,
			                "--reuid=65534",
			                "--regid=65534",
			                "--clear-groups",
			                cli,
			                "-s",
			                path,
			                "status",
			                NULL};
			run(argv, NULL, &r);
			run_free(&r);
		}
		sleep_ms(50);
		pthread_mutex_lock(&log_mu);
		for (i = 0; i < log_n; i++) {
			const char *p = strstr(log_lines[i], " suppressed=");
			sum += 1 + (p ? atol(p + 12) : 0);
		}
		ok(log_n == lines + 1 && sum == N + 1,
		   "the next line reports what was suppressed (%d lines, %ld refusals)", log_n,
		   sum);
		pthread_mutex_unlock(&log_mu);
	}
	srv_stop(&s);
	log_clear();
}

/** Where the CLI is: $DW_BUILDDIR/tools, else two levels above us. */
static void find_cli(void)
{
	const char *b = getenv("DW_BUILDDIR");
	char self[PATH_MAX - 64];
	ssize_t n;

	if (b && *b && strlen(b) < sizeof(cli) - 32) {
		snprintf(cli, sizeof(cli), "%s/tools/dnswarden-control", b);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(cli, sizeof(cli), "tools/dnswarden-control");
		return;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(cli, sizeof(cli), "%s/../../tools/dnswarden-control", self);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char path[200], err[512];
	struct srv s;
	char *big;
	size_t i, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	find_cli();
	if (t == NULL || *t == '\0' || strlen(t) > 60)
		t = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/dwctl-XXXXXX", t);
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	chmod(tmpdir, 0755); /* user 65534 must reach the sockets */

	/* export_nft's 8 MiB answer */
	n = 8u << 20;
	big = malloc(n + 1);
	for (i = 0; i < n; i++)
		big[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	big[n] = '\0';
	fake.big = big;

	test_validator();
	test_utf8();
	test_create(tmpdir);
	test_stale_live(tmpdir);
	test_manual_clock(tmpdir);

	snprintf(path, sizeof(path), "%s/main.sock", tmpdir);
	if (srv_start(&s, path, "nogroup", err, sizeof(err)) != 0) {
		printf("Bail out! cannot start the server: %s\n", err);
		remove_tmpdir();
		return 1;
	}
	test_protocol(path);
	test_client(path);
	if (!ok(executable(cli), "the CLI is built: %s", cli))
		printf("#   build it, or set DW_BUILDDIR\n");
	else
		test_cli(path);
	test_timeouts(path);
	test_concurrency(path);
	srv_stop(&s);
	ok(access(path, F_OK) != 0, "the socket file is gone after free");

	test_peers(tmpdir);

	log_clear();
	free(big);
	remove_tmpdir();
	return done_testing();
}
