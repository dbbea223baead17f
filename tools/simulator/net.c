/**
 * \file
 * dwsim's networking (sim.h): the queries in flight (a pool hashed on
 * source and DNS ID), one connected UDP socket per source address, epoll,
 * matching answers and the send/receive loop (dwsim_run()).
 */
#include "sim.h"

/* ------------------------------------------------------------------------ */
/* Queries in flight */

/** Hash bucket of (source, id). */
static uint32_t slot_hash(const struct sim *s, uint32_t src, uint16_t id)
{
	uint64_t k = ((uint64_t)src << 16 | id) * 0x9e3779b97f4a7c15u;

	return (uint32_t)(k >> 32) & s->bmask;
}

/** The slot of the query in flight with this source and ID, or NIL. */
static uint32_t slot_find(const struct sim *s, uint32_t src, uint16_t id)
{
	uint32_t i = s->bucket[slot_hash(s, src, id)];

	while (i != NIL && (s->slots[i].src != src || s->slots[i].id != id))
		i = s->slots[i].hnext;
	return i;
}

/** Take a free slot, fill it, hash it, append it to the send-order list. */
static void slot_add(struct sim *s, uint32_t src, uint16_t id, const struct name_item *q,
                     uint64_t deadline)
{
	uint32_t i = s->freelist, h = slot_hash(s, src, id);
	struct slot *sl = &s->slots[i];

	s->freelist = sl->next;
	sl->src = src;
	sl->id = id;
	sl->qtype = q->qtype;
	sl->qlen = q->qlen;
	memcpy(sl->qname, q->qname, q->qlen);
	sl->deadline = deadline;
	sl->hnext = s->bucket[h];
	s->bucket[h] = i;
	sl->next = NIL;
	sl->prev = s->tail;
	if (s->tail != NIL)
		s->slots[s->tail].next = i;
	else
		s->head = i;
	s->tail = i;
	s->inflight++;
	s->src[src].inflight++;
}

/** Unhash slot i, unlink it from the send-order list, return it to the free list. */
static void slot_del(struct sim *s, uint32_t i)
{
	struct slot *sl = &s->slots[i];
	uint32_t *pp = &s->bucket[slot_hash(s, sl->src, sl->id)];

	while (*pp != i)
		pp = &s->slots[*pp].hnext;
	*pp = sl->hnext;
	if (sl->prev != NIL)
		s->slots[sl->prev].next = sl->next;
	else
		s->head = sl->next;
	if (sl->next != NIL)
		s->slots[sl->next].prev = sl->prev;
	else
		s->tail = sl->prev;
	s->inflight--;
	s->src[sl->src].inflight--;
	sl->next = s->freelist;
	s->freelist = i;
}

/** With -v: one line for a query that was answered (rcode) or timed out (-1). */
static void print_result(const struct sim *s, const struct slot *sl, int rcode, const char *answer)
{
	char name[TEXT_MAX], tbuf[12], rbuf[16];
	size_t n;

	/* dwsim prints names without the final dot; the root stays "." */
	dw_name_to_text(sl->qname, sl->qlen, name, sizeof(name));
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	printf("client=%s qtype=%s qname=%s rcode=%s answer=%s\n", s->src[sl->src].text,
	       dwsim_type_to_text(sl->qtype, tbuf), name,
	       rcode < 0 ? "TIMEOUT" : dwsim_rcode_to_text((unsigned)rcode, rbuf), answer);
}

/** Time out every query whose deadline has passed (all of them if all != 0). */
static void expire(struct sim *s, uint64_t now, int all)
{
	while (s->head != NIL && (all || s->slots[s->head].deadline <= now)) {
		if (s->verbose)
			print_result(s, &s->slots[s->head], -1, "");
		s->c.timeout++;
		slot_del(s, s->head);
	}
}

/**
 * Handle one datagram that arrived on source si's socket: match it to a
 * query in flight (ID, QR, question), count its rcode, print it with -v.
 * Anything else (short, not a response, unknown ID, other question) is
 * counted as ignored and changes nothing.
 */
static void handle_answer(struct sim *s, uint32_t si, const uint8_t *msg, size_t len, uint64_t now)
{
	uint32_t i;
	struct slot *sl;
	unsigned flags, rcode, qd;
	size_t pos = 12;
	char answer[16] = "";

	if (len < 12) {
		s->c.ignored++;
		return;
	}
	flags = dwsim_get16(msg + 2);
	i = slot_find(s, si, (uint16_t)dwsim_get16(msg));
	if (!(flags & 0x8000) || i == NIL) {
		s->c.ignored++;
		return;
	}
	sl = &s->slots[i];
	rcode = flags & 0xF;
	qd = dwsim_get16(msg + 4);
	if (qd == 1) {
		uint8_t name[WIRE_MAX];
		size_t nlen;

		if (dwsim_read_name(msg, len, &pos, name, &nlen) < 0 || pos + 4 > len ||
		    !dwsim_wire_equal(name, nlen, sl->qname, sl->qlen) ||
		    dwsim_get16(msg + pos) != sl->qtype || dwsim_get16(msg + pos + 2) != 1) {
			s->c.ignored++;
			return;
		}
		pos += 4;
		dwsim_scan_sections(msg, len, pos, answer, &rcode);
	} else if (qd != 0 || rcode == 0) {
		/* only an error (FORMERR, NOTIMP ...) may come without the question */
		s->c.ignored++;
		return;
	}
	s->c.answered++;
	s->tlast = now;
	switch (rcode) {
	case 0:
		s->c.noerror++;
		break;
	case 2:
		s->c.servfail++;
		break;
	case 3:
		s->c.nxdomain++;
		break;
	case 5:
		s->c.refused++;
		break;
	default:
		s->c.other++;
		break;
	}
	if (s->verbose)
		print_result(s, sl, (int)rcode, answer);
	slot_del(s, i);
}

/* ------------------------------------------------------------------------ */
/* Sockets */

/** Send results. */
enum { SEND_OK, SEND_BLOCKED, SEND_AGAIN, SEND_FATAL };

/**
 * Send the next query (number s->c.sent) from its source, if that source and
 * the pool have room.
 * \return SEND_OK; SEND_BLOCKED when too many are in flight; SEND_AGAIN when
 *         the socket buffer is full; SEND_FATAL on a socket error (reported)
 */
static int send_next(struct sim *s, uint64_t now)
{
	uint32_t si = (uint32_t)(s->c.sent % s->nsrc);
	struct source *src = &s->src[si];
	uint8_t buf[12 + WIRE_MAX + 4 + 11];
	uint16_t id;
	size_t len;
	int tries;

	if (src->inflight >= s->per_src || s->freelist == NIL)
		return SEND_BLOCKED;
	if (!s->pending) {
		if (dwsim_gen_next(s, si, s->c.sent) < 0) {
			dwsim_msg("internal error: generated name does not encode");
			return SEND_FATAL;
		}
		s->pending = 1;
	}
	do
		id = (uint16_t)dwsim_rng_next(&s->idrng);
	while (slot_find(s, si, id) != NIL);
	len = dwsim_build_query(s, buf, id, &s->pq);
	for (tries = 0;; tries++) {
		if (send(src->fd, buf, len, 0) == (ssize_t)len)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return SEND_AGAIN;
		if (errno == EINTR || (errno == ECONNREFUSED && tries < 3)) {
			/* ECONNREFUSED reports an earlier ICMP error; the send itself may pass */
			if (errno == ECONNREFUSED)
				s->c.icmp++;
			continue;
		}
		if (errno == ECONNREFUSED)
			return SEND_AGAIN;
		dwsim_msg("send from %s to %s: %s", src->text, s->servertext, strerror(errno));
		return SEND_FATAL;
	}
	slot_add(s, si, id, &s->pq, now + s->timeout);
	s->pending = 0;
	s->c.sent++;
	return SEND_OK;
}

/**
 * Read every datagram waiting on source si's socket and handle it.
 * \return 0, or -1 on a socket error (reported)
 */
static int drain(struct sim *s, uint32_t si, uint64_t now)
{
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	int fd = s->src[si].fd, i;

	for (i = 0; i < RECV_BATCH; i++) {
		iov[i].iov_base = s->rbuf + (size_t)i * RECV_BUFSZ;
		iov[i].iov_len = RECV_BUFSZ;
		memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				/* ICMP port unreachable: the server is not (yet) there */
				s->c.icmp++;
				continue;
			}
			dwsim_msg("receive on %s: %s", s->src[si].text, strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++)
			handle_answer(s, si, iov[i].iov_base, mm[i].msg_len, now);
		if (n < RECV_BATCH)
			return 0;
	}
}

/** Is this server address on loopback? */
int dwsim_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/**
 * Parse -s SERVER[:PORT] ("127.0.0.1", "127.0.0.1:53", "::1", "[::1]:53").
 * \param port  in: port from -p or 0; out: the port to use
 * \return 0, or -1 with a message in err
 */
int dwsim_parse_server(const char *arg, struct sockaddr_storage *ss, socklen_t *len, unsigned *port,
                       char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *ps = NULL;
	const char *colon = strchr(arg, ':');

	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || (size_t)(rb - arg - 1) >= sizeof host)
			goto bad;
		memcpy(host, arg + 1, (size_t)(rb - arg - 1));
		host[rb - arg - 1] = '\0';
		if (rb[1] == ':')
			ps = rb + 2;
		else if (rb[1])
			goto bad;
	} else if (colon && !strchr(colon + 1, ':')) {
		/* exactly one colon: IPv4 with a port */
		if ((size_t)(colon - arg) >= sizeof host)
			goto bad;
		memcpy(host, arg, (size_t)(colon - arg));
		host[colon - arg] = '\0';
		ps = colon + 1;
	} else {
		if (strlen(arg) >= sizeof host)
			goto bad;
		memcpy(host, arg, strlen(arg) + 1);
	}
	if (ps) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(ps, &end, 10);
		if (errno || !isdigit((unsigned char)*ps) || *end || v == 0 || v > 65535)
			goto bad;
		if (*port && *port != v) {
			snprintf(err, errlen, "-s %s and -p %u name different ports", arg, *port);
			return -1;
		}
		*port = (unsigned)v;
	}
	if (!*port)
		*port = 53;
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)*port);
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)*port);
		*len = sizeof *sin6;
		return 0;
	}
bad:
	snprintf(err, errlen, "bad server '%s' (want ADDRESS, ADDRESS:PORT or [IPV6]:PORT)", arg);
	return -1;
}

/** Append one source address to s->src (grown as needed). \return 0 or -1 (too many). */
static int add_source(struct sim *s, uint32_t *cap, int family, const void *addr)
{
	struct source *src;

	if (s->nsrc >= MAX_SOURCES)
		return -1;
	if (s->nsrc == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		struct source *n = realloc(s->src, ncap * sizeof *n);

		if (!n) {
			dwsim_msg("out of memory");
			exit(1);
		}
		s->src = n;
		*cap = ncap;
	}
	src = &s->src[s->nsrc++];
	memset(src, 0, sizeof *src);
	src->fd = -1;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&src->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		src->sslen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&src->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		src->sslen = sizeof *sin6;
	}
	inet_ntop(family, addr, src->text, sizeof src->text);
	return 0;
}

/**
 * Parse -S: comma-separated addresses of the server's family; IPv4 items may
 * be ranges FIRST-LAST or FIRST-LASTOCTET.
 * \return 0, or -1 with a message in err
 */
int dwsim_parse_sources(struct sim *s, const char *arg, int family, char *err, size_t errlen)
{
	char *copy = strdup(arg), *save = NULL, *item;
	uint32_t cap = 0;
	int rc = -1;

	if (!copy) {
		dwsim_msg("out of memory");
		exit(1);
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		struct in_addr a, b;
		struct in6_addr a6;

		if (family == AF_INET6) {
			if (dash || inet_pton(AF_INET6, item, &a6) != 1) {
				snprintf(err, errlen, "bad IPv6 source '%s' (no ranges for IPv6)",
				         item);
				goto out;
			}
			if (add_source(s, &cap, AF_INET6, &a6) < 0)
				goto toomany;
			continue;
		}
		if (dash)
			*dash = '\0';
		if (inet_pton(AF_INET, item, &a) != 1) {
			snprintf(err, errlen, "bad IPv4 source '%s' (the server is IPv4)", item);
			goto out;
		}
		b = a;
		if (dash) {
			const char *last = dash + 1;

			if (!strchr(last, '.')) {
				/* FIRST-N: N replaces the last octet */
				char *end;
				unsigned long v;

				errno = 0;
				v = strtoul(last, &end, 10);
				if (errno || !isdigit((unsigned char)*last) || *end || v > 255)
					goto badrange;
				b.s_addr = htonl((ntohl(a.s_addr) & 0xFFFFFF00u) | (uint32_t)v);
			} else if (inet_pton(AF_INET, last, &b) != 1) {
				goto badrange;
			}
			if (ntohl(b.s_addr) < ntohl(a.s_addr))
				goto badrange;
			if (ntohl(b.s_addr) - ntohl(a.s_addr) >= MAX_SOURCES)
				goto toomany;
		}
		for (uint32_t h = ntohl(a.s_addr);; h++) {
			uint32_t n = htonl(h);

			if (add_source(s, &cap, AF_INET, &n) < 0)
				goto toomany;
			if (h == ntohl(b.s_addr))
				break;
		}
		continue;
	badrange:
		snprintf(err, errlen, "bad source range '%s-%s'", item, dash + 1);
		goto out;
	}
	if (s->nsrc == 0) {
		snprintf(err, errlen, "no source address in '%s'", arg);
		goto out;
	}
	rc = 0;
	goto out;
toomany:
	snprintf(err, errlen, "more than %d source addresses", MAX_SOURCES);
out:
	free(copy);
	return rc;
}

/** Raise the open-file limit to fit n sockets. \return 0, or -1 (reported). */
static int fit_fd_limit(uint32_t n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		dwsim_msg("%u sources need %lu open files; the hard limit is %lu", (unsigned)n,
		          (unsigned long)need, (unsigned long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		dwsim_msg("cannot raise the open-file limit to %lu: %s", (unsigned long)need,
		          strerror(errno));
		return -1;
	}
	return 0;
}

/**
 * Create, bind and connect one socket per source and register it with epoll.
 * \return 0, or -1 on an error that names the address (reported)
 */
int dwsim_open_sockets(struct sim *s)
{
	uint32_t i;
	int bufsz = 1 << 20;

	if (fit_fd_limit(s->nsrc) < 0)
		return -1;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		dwsim_msg("epoll_create1: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < s->nsrc; i++) {
		struct source *src = &s->src[i];
		struct epoll_event ev;

		src->fd = socket(s->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (src->fd < 0) {
			dwsim_msg("socket for source %s: %s", src->text, strerror(errno));
			return -1;
		}
		/* best effort: bigger buffers absorb bursts at high rates */
		(void)setsockopt(src->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
		(void)setsockopt(src->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
		if (bind(src->fd, (struct sockaddr *)&src->ss, src->sslen) < 0) {
			dwsim_msg("cannot bind source address %s: %s", src->text, strerror(errno));
			return -1;
		}
		if (connect(src->fd, (struct sockaddr *)&s->server, s->serverlen) < 0) {
			dwsim_msg("cannot connect from %s to %s: %s", src->text, s->servertext,
			          strerror(errno));
			return -1;
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, src->fd, &ev) < 0) {
			dwsim_msg("epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/**
 * Wait for readiness at most wait ns (UINT64_MAX: forever), with nanosecond
 * precision where the kernel has epoll_pwait2().
 * \return number of events, 0 on timeout or signal, -1 on error
 */
static int wait_events(struct sim *s, struct epoll_event *ev, int nev, uint64_t wait)
{
	static int no_pwait2;
	int n;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
	if (!no_pwait2) {
		struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};

		n = epoll_pwait2(s->ep, ev, nev, wait == UINT64_MAX ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n < 0 && errno == EINTR ? 0 : n;
		no_pwait2 = 1;
	}
#else
	no_pwait2 = 1;
#endif
	n = epoll_wait(s->ep, ev, nev,
	               wait == UINT64_MAX      ? -1
	               : wait > 3600000000000u ? 3600000
	                                       : (int)((wait + 999999) / 1000000));
	return n < 0 && errno == EINTR ? 0 : n;
}

/** Smaller of two. */
static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/** When query number i is due (ns, absolute) at the set rate. */
uint64_t dwsim_due_of(const struct sim *s, uint64_t i)
{
	return s->t0 + (uint64_t)((double)i * 1e9 / s->rate);
}

/**
 * May the next query go out (count, -d), leaving the rate aside? At a set
 * rate a query belongs to the run when it is due before the end of -d, so
 * that -r R -d D sends exactly R*D queries.
 */
static int more_to_send(const struct sim *s, uint64_t now, uint64_t send_end)
{
	if (s->c.sent >= s->count)
		return 0;
	if (s->rate > 0)
		return dwsim_due_of(s, s->c.sent) < send_end;
	return now < send_end;
}

/**
 * The main loop: send on schedule, read answers, time out the rest, until
 * everything sent has been answered or timed out.
 * \return 0, or 1 on a socket error
 */
int dwsim_run(struct sim *s)
{
	struct epoll_event ev[256];
	uint64_t send_end;

	s->t0 = dwsim_now_ns();
	send_end = s->duration ? s->t0 + s->duration : UINT64_MAX;
	for (;;) {
		uint64_t now = dwsim_now_ns(), wait = UINT64_MAX, next_due = 0;
		int more, blocked = 0, again = 0, n, i, b;

		if (dwsim_got_signal) {
			expire(s, now, 1);
			break;
		}
		expire(s, now, 0);
		for (b = 0; b < SEND_BATCH && more_to_send(s, now, send_end); b++) {
			int r;

			if (s->rate > 0 && dwsim_due_of(s, s->c.sent) > now) {
				next_due = dwsim_due_of(s, s->c.sent);
				break;
			}
			r = send_next(s, now);
			if (r == SEND_BLOCKED) {
				blocked = 1;
				break;
			}
			if (r == SEND_AGAIN) {
				again = 1;
				break;
			}
			if (r == SEND_FATAL)
				return 1;
		}
		more = more_to_send(s, now, send_end);
		if (!more && s->inflight == 0)
			break;
		if (s->head != NIL)
			wait =
			    s->slots[s->head].deadline > now ? s->slots[s->head].deadline - now : 0;
		if (more) {
			if (again)
				wait = min64(wait, 200000); /* socket buffer full: retry soon */
			else if (next_due)
				wait = min64(wait, next_due - now);
			else if (!blocked)
				wait = 0; /* batch done, more due: just look at the sockets */
			if (s->rate <= 0 && send_end != UINT64_MAX)
				wait = min64(wait, send_end - now);
		}
		n = wait_events(s, ev, (int)(sizeof ev / sizeof ev[0]), wait);
		if (n < 0) {
			dwsim_msg("epoll: %s", strerror(errno));
			return 1;
		}
		now = dwsim_now_ns();
		for (i = 0; i < n; i++)
			if (drain(s, ev[i].data.u32, now) < 0)
				return 1;
	}
	s->tend = dwsim_now_ns();
	return 0;
}
