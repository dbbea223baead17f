/**
 * \file
 * dwsim's clients (sim.h): the time and random streams, and what each
 * scenario asks next (dwsim_gen_next()).
 */
#include "sim.h"

/* ------------------------------------------------------------------------ */
/* Time and randomness */

/** Monotonic clock in nanoseconds. */
uint64_t dwsim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** splitmix64 step: expands a seed into well-mixed state words. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/** Seed r from seed. */
void dwsim_rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

/** Rotate left. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** Next 64 random bits (xoshiro256**). */
uint64_t dwsim_rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/** Uniform-enough random number in [0, n) (n > 0). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((dwsim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ------------------------------------------------------------------------ */
/* Scenarios */

/*
 * Keyword variants Mytob-like bots put in front of a victim domain. From
 * seed 000 (ADPS, Figure 4): mail, smtp, mx1, mx0, mx., relay, mx2, mx01,
 * gate, mail2, mails, mail-, smtp1, smtp-, mail0 ... all starting with one of
 * the six keywords mail, smtp, mx, ns, relay, gate.
 */
static const char *const mytob_prefixes[] = {
    "mail",  "mail1",    "mail2", "mail0", "mails",  "mail-in", "smtp",    "smtp1",
    "smtp2", "smtp-out", "mx",    "mx0",   "mx1",    "mx2",     "mx3",     "mx01",
    "ns",    "ns1",      "ns2",   "relay", "relay1", "gate",    "gateway",
};

/*
 * Host names Mydoom.A puts in front of a harvested domain (seed 003, 3.1:
 * "mx.", "mail.", "smtp.", "mx1.", "mxs.", "mail1.", "relay.", "ns.", "gate.").
 */
static const char *const mydoom_prefixes[] = {"mx",    "mail",  "smtp", "mx1", "mxs",
                                              "mail1", "relay", "ns",   "gate"};

/** A benign name: a host label in the campus domain (rel) or an absolute name. */
struct bname {
	const char *name;
	int rel; /**< 1: name + "." + campus domain ("" = the domain itself) */
};

/* What a campus PC looks up: popular names, no keyword first labels. */
static const struct bname benign_names[] = {
    {"www", 1}, {"www", 1}, {"www", 1}, {"portal", 1}, {"lib", 1}, {"www.shop.test", 0},
};

/* Behind a NAT many users: more names, some of them missing (NXDOMAIN). */
static const struct bname nat_names[] = {
    {"www", 1},           {"www", 1},       {"portal", 1},
    {"lib", 1},           {"", 1},          {"wiki", 1},
    {"moodle", 1},        {"printer", 1},   {"www.shop.test", 0},
    {"www.shop.test", 0}, {"shop.test", 0}, {"cdn.shop.test", 0},
    {"www.corp.lab", 0},  {"corp.lab", 0},  {"wiki.intranet.lan", 0},
};

/** Write a benign name from list into name. */
static void benign_name(const struct sim *s, const struct bname *b, char *name, size_t cap)
{
	if (!b->rel)
		snprintf(name, cap, "%s", b->name);
	else if (b->name[0])
		snprintf(name, cap, "%s.%s", b->name, s->domain);
	else
		snprintf(name, cap, "%s", s->domain);
}

/** The benign mix shared by benign_pc and nat_gateway. */
static uint16_t gen_benign(const struct sim *s, struct gen *g, const struct bname *list, size_t n,
                           unsigned ptr_pct, char *name, size_t cap)
{
	uint32_t r = rng_below(&g->rng, 100);

	if (r < ptr_pct) {
		snprintf(name, cap, "%u.2.0.192.in-addr.arpa", 1 + rng_below(&g->rng, 254));
		return T_PTR;
	}
	benign_name(s, &list[rng_below(&g->rng, (uint32_t)n)], name, cap);
	r = rng_below(&g->rng, 100);
	if (r < 55)
		return T_A;
	if (r < 85)
		return T_AAAA;
	return T_HTTPS;
}

/** A fresh victim domain number (dN.VICTIM), 1..999999. */
static uint32_t new_domain(struct gen *g)
{
	return 1 + rng_below(&g->rng, 999999);
}

/**
 * Start the next "mail" of a mail-like scenario: fill g->plan.
 *
 * mail_server (seed 003, 3.2: an MTA asks PTR + A for the connecting client
 * and MX + A for the recipient's domain): every other mail is an inbound one
 * (PTR + forward A), every mail is delivered (MX + A of the exchange).
 * spam_relay (seed 003: 2922 MX, 6755 A, 139 PTR a day): MX + A of the exchange
 * + half the time A of the domain; a PTR + A of a client every 16th mail,
 * the first one included, so even a short run shows its PTR.
 * mydoom (seed 003, 3.1: 807 MX, 4823 A): MX of the domain, then six A
 * queries for consecutive keyword prefixes in front of it.
 */
static void plan_mail(const struct sim *s, struct gen *g)
{
	int n = 0;

	g->dom = new_domain(g);
	g->client = 1 + rng_below(&g->rng, 254);
	switch (s->scn->id) {
	case SCN_MAIL_SERVER:
		if (g->msg % 2 == 0) {
			g->plan[n++] = (struct step){K_PTR_CLIENT, 0};
			g->plan[n++] = (struct step){K_A_CLIENTHOST, 0};
		}
		g->plan[n++] = (struct step){K_MX_DOM, 0};
		g->plan[n++] = (struct step){K_A_MXHOST, 0};
		break;
	case SCN_SPAM_RELAY:
		if (g->msg % 16 == 0) {
			g->plan[n++] = (struct step){K_PTR_CLIENT, 0};
			g->plan[n++] = (struct step){K_A_CLIENTHOST, 0};
		}
		g->plan[n++] = (struct step){K_MX_DOM, 0};
		g->plan[n++] = (struct step){K_A_MXHOST, 0};
		if (rng_below(&g->rng, 2))
			g->plan[n++] = (struct step){K_A_DOM, 0};
		break;
	default: { /* SCN_MYDOOM */
		uint32_t first = rng_below(&g->rng, 9);

		g->plan[n++] = (struct step){K_MX_DOM, 0};
		for (int i = 0; i < 6; i++)
			g->plan[n++] = (struct step){K_A_PFX, (uint8_t)((first + (uint32_t)i) % 9)};
		break;
	}
	}
	g->nplan = (uint8_t)n;
	g->iplan = 0;
	g->msg++;
}

/** Next query of a mail-like scenario. */
static uint16_t gen_mail(const struct sim *s, struct gen *g, char *name, size_t cap)
{
	struct step st;

	if (g->iplan >= g->nplan)
		plan_mail(s, g);
	st = g->plan[g->iplan++];
	switch (st.kind) {
	case K_MX_DOM:
		snprintf(name, cap, "d%u.%s", g->dom, s->victim);
		return T_MX;
	case K_A_DOM:
		snprintf(name, cap, "d%u.%s", g->dom, s->victim);
		return T_A;
	case K_A_MXHOST:
		snprintf(name, cap, "mx.%s", s->victim);
		return T_A;
	case K_A_PFX:
		snprintf(name, cap, "%s.d%u.%s", mydoom_prefixes[st.arg % 9], g->dom, s->victim);
		return T_A;
	case K_PTR_CLIENT:
		snprintf(name, cap, "%u.2.0.192.in-addr.arpa", g->client);
		return T_PTR;
	default: /* K_A_CLIENTHOST */
		snprintf(name, cap, "host%u.%s", g->client, s->domain);
		return T_A;
	}
}

/** A random public-looking IPv4 address (no private, loopback, multicast). */
static void public_ipv4(struct gen *g, char *name, size_t cap)
{
	uint32_t a, b;

	for (;;) {
		a = 1 + rng_below(&g->rng, 223);
		b = rng_below(&g->rng, 256);
		if (a == 10 || a == 127 || (a == 100 && b >= 64 && b < 128) ||
		    (a == 169 && b == 254) || (a == 172 && b >= 16 && b < 32) ||
		    (a == 192 && b == 168))
			continue;
		break;
	}
	snprintf(name, cap, "%u.%u.%u.%u", a, b, rng_below(&g->rng, 256),
	         1 + rng_below(&g->rng, 254));
}

/**
 * Generate source si's next query into s->pq.
 * \return 0, or -1 if the name does not encode (cannot happen for the
 *         built-in scenarios once the domains are validated)
 */
int dwsim_gen_next(struct sim *s, uint32_t si, uint64_t seq)
{
	struct gen *g = &s->src[si].gen;
	char name[TEXT_MAX];
	uint16_t qtype = T_A;
	int len;

	switch (s->scn->id) {
	case SCN_NAMES:
		/* global order: line seq mod lines, whatever the source */
		s->pq = s->names[seq % s->nnames];
		g->k++;
		return 0;
	case SCN_BENIGN_PC:
		qtype = gen_benign(s, g, benign_names, sizeof benign_names / sizeof benign_names[0],
		                   5, name, sizeof name);
		break;
	case SCN_NAT_GATEWAY:
		qtype = gen_benign(s, g, nat_names, sizeof nat_names / sizeof nat_names[0], 5, name,
		                   sizeof name);
		break;
	case SCN_MAIL_SERVER:
	case SCN_SPAM_RELAY:
	case SCN_MYDOOM:
		qtype = gen_mail(s, g, name, sizeof name);
		break;
	case SCN_SOBIG:
		/*
		 * Seed 003, 3.1: Sobig's traffic is MX-dominated (190 MX, 36 A a
		 * day) and its log starts with "A.ROOT-SERVERS.NET" twice,
		 * "B.ROOT-SERVERS.NET" twice ... (Sobig.F and .C together). So:
		 * every 6th query an A for the next root-server name (each
		 * twice, A..M), the others MX for fresh victim domains.
		 */
		if (g->k % 6 == 0) {
			snprintf(name, sizeof name, "%c.ROOT-SERVERS.NET",
			         (char)('A' + (g->k / 12) % 13));
			qtype = T_A;
		} else {
			snprintf(name, sizeof name, "d%u.%s", new_domain(g), s->victim);
			qtype = T_MX;
		}
		break;
	case SCN_MYTOB:
		snprintf(name, sizeof name, "%s.d%u.%s",
		         mytob_prefixes[rng_below(&g->rng, sizeof mytob_prefixes /
		                                               sizeof mytob_prefixes[0])],
		         new_domain(g), s->victim);
		qtype = T_A;
		break;
	case SCN_IPLIT:
		/* seed 000, 3.1: A queries for "A.B.C.D" literals */
		if (rng_below(&g->rng, 2))
			snprintf(name, sizeof name, "192.0.2.%u", 1 + rng_below(&g->rng, 254));
		else
			public_ipv4(g, name, sizeof name);
		qtype = T_A;
		break;
	case SCN_PTR_FLOOD:
		/* seed 000 (PTRDPS): many PTR queries, here a scan of a /24 */
		if (g->k == 0)
			g->scan = rng_below(&g->rng, 256);
		snprintf(name, sizeof name, "%u.2.0.192.in-addr.arpa",
		         (unsigned)((g->scan + g->k) % 256));
		qtype = T_PTR;
		break;
	case SCN_PTR_FWD: {
		/*
		 * Seed 000, 4: "an IP address representation was found in
		 * several PTR based DNS query packets ... usually A.B.C.D should
		 * be described as D.C.B.A.in-addr.arpa". Half forward-order
		 * in-addr.arpa names, half bare literals.
		 */
		static const char *const nets[] = {"192.0.2", "192.0.2", "192.0.2", "198.51.100",
		                                   "203.0.113"};
		const char *net = nets[rng_below(&g->rng, 5)];
		unsigned host = 1 + rng_below(&g->rng, 254);

		if (rng_below(&g->rng, 2))
			snprintf(name, sizeof name, "%s.%u.in-addr.arpa", net, host);
		else
			snprintf(name, sizeof name, "%s.%u", net, host);
		qtype = T_PTR;
		break;
	}
	}
	g->k++;
	len = dw_name_from_text(name, s->pq.qname, WIRE_MAX);
	if (len < 0)
		return -1;
	s->pq.qlen = (uint8_t)len;
	s->pq.qtype = qtype;
	return 0;
}
