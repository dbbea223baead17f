/**
 * \file
 * What the parts of dwsim share: its limits, the simulator's state (struct
 * sim) and the calls one part makes into another. tools/dwsim.c: options,
 * set-up and summary; scenario.c: the clients' behaviours; wire.c: names
 * and DNS messages; net.c: sockets, queries in flight, the loop.
 *
 * Thread safety: none (dwsim runs one thread). Errors: as each call says.
 */
#ifndef DWSIM_SIM_H
#define DWSIM_SIM_H

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "feature.h" /* dw_name_from_text(), dw_name_to_text() */

/* Limits and defaults. */
#define MAX_SOURCES 65536   /**< distinct source addresses */
#define MAX_INFLIGHT 65536  /**< pool size cap over all sources */
#define MAX_PER_SOURCE 4096 /**< -w cap (IDs are 16 bits per socket) */
#define DEF_PER_SOURCE 256  /**< -w default */
#define DEF_TIMEOUT_MS 2000 /**< -t default */
#define SEND_BATCH 64       /**< sends between two looks at the sockets */
#define RECV_BATCH 32       /**< datagrams per recvmmsg() */
#define RECV_BUFSZ 4096     /**< bytes kept of one answer (rest truncated) */
#define EDNS_BUFSZ 1232     /**< advertised EDNS0 UDP payload size */
#define NIL UINT32_MAX      /**< "no slot" in the pool's links */
#define WIRE_MAX 255        /**< longest domain name in wire form */
#define TEXT_MAX 1024       /**< longest name in presentation form, escaped */

/* DNS types and rcodes used here. */
enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_OPT = 41,
	T_HTTPS = 65,
};

/** Scenario identifiers; the names are fixed (tests and scripts use them). */
enum scn {
	SCN_BENIGN_PC,
	SCN_MAIL_SERVER,
	SCN_NAT_GATEWAY,
	SCN_SOBIG,
	SCN_MYDOOM,
	SCN_MYTOB,
	SCN_IPLIT,
	SCN_SPAM_RELAY,
	SCN_PTR_FLOOD,
	SCN_PTR_FWD,
	SCN_NAMES,
};

/** A scenario's name and one-line description for -h. */
struct scenario {
	const char *name;
	enum scn id;
	const char *desc;
};

/** Small, fast PRNG (xoshiro256**); one per source plus one for DNS IDs. */
struct rng {
	uint64_t s[4];
};

/** Kinds of query in a mail-like plan (mail_server, spam_relay, mydoom). */
enum kind {
	K_MX_DOM,      /**< MX dN.VICTIM */
	K_A_DOM,       /**< A dN.VICTIM */
	K_A_MXHOST,    /**< A mx.VICTIM (the exchange the world's MX names) */
	K_A_PFX,       /**< A <mydoom prefix>.dN.VICTIM */
	K_PTR_CLIENT,  /**< PTR c.2.0.192.in-addr.arpa (connecting SMTP client) */
	K_A_CLIENTHOST /**< A hostc.DOMAIN (forward-confirming the PTR) */
};

/** One step of a plan: a kind and its argument (prefix index). */
struct step {
	uint8_t kind;
	uint8_t arg;
};

/** Per-source generator state: what this client asks next. */
struct gen {
	struct rng rng;
	uint64_t k;      /**< queries generated so far */
	uint64_t msg;    /**< mails (plans) started so far */
	uint32_t dom;    /**< current victim domain number N of dN.VICTIM */
	uint32_t client; /**< current SMTP client's last octet */
	uint32_t scan;   /**< ptr_flood: first octet of the scan */
	uint8_t nplan;   /**< steps in plan */
	uint8_t iplan;   /**< next step */
	struct step plan[12];
};

/** One source address: its socket, its name and its generator. */
struct source {
	int fd;
	unsigned inflight;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char text[INET6_ADDRSTRLEN];
	struct gen gen;
};

/** A query in flight. */
struct slot {
	uint32_t prev, next; /**< send-order list (oldest at s->head) or free list */
	uint32_t hnext;      /**< hash chain */
	uint32_t src;        /**< index into s->src */
	uint64_t deadline;   /**< CLOCK_MONOTONIC ns at which it times out */
	uint16_t id;
	uint16_t qtype;
	uint8_t qlen; /**< bytes used in qname (wire form) */
	uint8_t qname[WIRE_MAX];
};

/** One line of a names file, encoded. */
struct name_item {
	uint16_t qtype;
	uint8_t qlen;
	uint8_t qname[WIRE_MAX];
};

/** Counters reported in the summary line. */
struct counts {
	uint64_t sent, answered, noerror, nxdomain, servfail, refused, other, timeout;
	uint64_t ignored; /**< datagrams not matching any query in flight */
	uint64_t icmp;    /**< ICMP errors (port unreachable) seen on a socket */
};

/** The whole simulator. */
struct sim {
	/* configuration */
	const struct scenario *scn;
	uint64_t count;    /**< queries to send; UINT64_MAX: until -d ends */
	double rate;       /**< queries per second overall; 0: as fast as allowed */
	uint64_t duration; /**< ns; 0: no limit */
	uint64_t timeout;  /**< ns */
	unsigned per_src;  /**< in flight per source */
	uint64_t seed;
	int verbose, quiet, edns;
	char domain[256]; /**< campus domain, no trailing dot */
	char victim[256]; /**< victim domain, no trailing dot */
	struct name_item *names;
	size_t nnames;
	/* network */
	struct sockaddr_storage server;
	socklen_t serverlen;
	char servertext[INET6_ADDRSTRLEN + 8];
	struct source *src;
	uint32_t nsrc;
	int ep;
	/* queries in flight */
	struct slot *slots;
	uint32_t nslots, freelist, head, tail, inflight;
	uint32_t *bucket;
	uint32_t bmask;
	struct rng idrng;
	/* the next query, generated but not sent yet (socket was full) */
	int pending;
	struct name_item pq;
	/* receive buffers */
	uint8_t *rbuf;
	/* results */
	struct counts c;
	uint64_t t0, tend; /**< start and end of the run */
	uint64_t tlast;    /**< when the last answer came */
};

/** The signal that asks the run to end (0: none); set by the handler. */
extern volatile sig_atomic_t dwsim_got_signal;

/** Print "dwsim: message" to stderr. */
void dwsim_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Monotonic clock in nanoseconds. */
uint64_t dwsim_now_ns(void);

/** Seed r from seed. */
void dwsim_rng_seed(struct rng *r, uint64_t seed);

/** Next 64 random bits (xoshiro256**). */
uint64_t dwsim_rng_next(struct rng *r);

/** Name of a qtype: its mnemonic or TYPEnnn (into buf, 12 bytes). */
const char *dwsim_type_to_text(uint16_t t, char *buf);

/** Parse a qtype: mnemonic (any case), TYPEnnn or a number. -1 if bad. */
int dwsim_text_to_type(const char *s);

/** Name of an rcode. */
const char *dwsim_rcode_to_text(unsigned rc, char *buf);

/**
 * Generate source si's next query into s->pq.
 * \return 0, or -1 if the name does not encode (cannot happen for the
 *         built-in scenarios once the domains are validated)
 */
int dwsim_gen_next(struct sim *s, uint32_t si, uint64_t seq);

/** Read a 16-bit value in network order. */
unsigned dwsim_get16(const uint8_t *p);

/**
 * Build a query (RD set, one question, EDNS0 OPT unless --no-edns).
 * \return its length (buf holds at least 12 + 255 + 4 + 11 bytes)
 */
size_t dwsim_build_query(const struct sim *s, uint8_t *buf, uint16_t id, const struct name_item *q);

/**
 * Read a name at *pos of msg (compression allowed) into out in wire form.
 * Pointers must point backwards and at most 127 are followed, so a hostile
 * packet cannot loop; the result is at most 255 bytes.
 * \return 0 with *pos past the name, or -1 if malformed
 */
int dwsim_read_name(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen);

/** Compare two wire names, ASCII case-insensitively. \return 1 if equal. */
int dwsim_wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/**
 * Walk the answer, authority and additional sections after the question:
 * find the first A record in the answer section and the extended rcode bits
 * of an OPT record. Stops quietly at the first malformed record.
 * \param answer  out: first A as dotted quad, or "" (16 bytes)
 * \param rcode   in/out: header rcode, widened by an OPT record's bits
 */
void dwsim_scan_sections(const uint8_t *msg, size_t len, size_t pos, char *answer, unsigned *rcode);

/** Is this server address on loopback? */
int dwsim_is_loopback(const struct sockaddr_storage *ss);

/**
 * Parse -s SERVER[:PORT] ("127.0.0.1", "127.0.0.1:53", "::1", "[::1]:53").
 * \param port  in: port from -p or 0; out: the port to use
 * \return 0, or -1 with a message in err
 */
int dwsim_parse_server(const char *arg, struct sockaddr_storage *ss, socklen_t *len, unsigned *port,
                       char *err, size_t errlen);

/**
 * Parse -S: comma-separated addresses of the server's family; IPv4 items may
 * be ranges FIRST-LAST or FIRST-LASTOCTET.
 * \return 0, or -1 with a message in err
 */
int dwsim_parse_sources(struct sim *s, const char *arg, int family, char *err, size_t errlen);

/**
 * Create, bind and connect one socket per source and register it with epoll.
 * \return 0, or -1 on an error that names the address (reported)
 */
int dwsim_open_sockets(struct sim *s);

/** When query number i is due (ns, absolute) at the set rate. */
uint64_t dwsim_due_of(const struct sim *s, uint64_t i);

/**
 * The main loop: send on schedule, read answers, time out the rest, until
 * everything sent has been answered or timed out.
 * \return 0, or 1 on a socket error
 */
int dwsim_run(struct sim *s);

#endif
