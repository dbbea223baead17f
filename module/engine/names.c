/**
 * \file
 * The engine's distinct-name detectors (names.h).
 */
#include "names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "dga.h"
#include "errbuf.h"

/** Clients the distinct-name table holds at most (4-way buckets). */
#define DW_NAMES_CLIENTS 4096u

static const char *const benign[] = {DW_NAMES_BENIGN};

/** Build the list and the table when a detector needs them. */
int dw_names_init(struct dw_engine *e, char *err, size_t errlen)
{
	const struct dw_conf *c = e->conf;
	uint32_t max = c->clients_max < DW_NAMES_CLIENTS ? c->clients_max : DW_NAMES_CLIENTS;
	unsigned need = 0, i;
	if (c->det[DW_DET_MX_WORM].enabled || c->det[DW_DET_SPAM_RELAY].enabled)
		need |= DW_NAMES_MX;
	if (c->det[DW_DET_DNS_TUNNEL].enabled)
		need |= DW_NAMES_TUNNEL;
	if (c->det[DW_DET_DGA].enabled)
		need |= DW_NAMES_DGA;
	if (!need)
		return 0;
	e->names_mx_ctrs = 0;
	e->names_mx_window = 1; /* the longest window of the MX counters */
	for (i = 0; i < e->detect.ncounters; i++)
		if (e->detect.kind[i] == DW_CK_MX) {
			e->names_mx_ctrs |= 1u << i;
			if (e->detect.window[i] > e->names_mx_window)
				e->names_mx_window = e->detect.window[i];
		}
	dw_tunnel_init();
	if (getrandom(&e->name_key, sizeof(e->name_key), 0) != (ssize_t)sizeof(e->name_key))
		e->name_key = (uint64_t)dw_mono_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	e->regdom = dw_regdomain_new((const char *const *)c->public_suffixes,
	                             c->public_suffix_count, err, errlen);
	if (!e->regdom)
		return -1;
	e->namestate = dw_namestate_new(max < 4 ? 4 : max, err, errlen);
	if (!e->namestate)
		return -1;
	e->names_need = need;
	return 0;
}

/** Release the list and the table. */
void dw_names_free(struct dw_engine *e)
{
	dw_namestate_free(e->namestate);
	dw_regdomain_free(e->regdom);
	e->namestate = NULL;
	e->regdom = NULL;
	e->names_need = 0;
}

/** Whether text (a registrable domain, no final dot) is d or under d. */
static int under(const char *text, size_t tl, const char *d)
{
	size_t dl = strlen(d);
	if (dl > tl || strcasecmp(text + tl - dl, d) != 0)
		return 0;
	return dl == tl || text[tl - dl - 1] == '.';
}

/** A base domain no dns_tunnel verdict names (built-in or configured). */
static int tunnel_exempt(const struct dw_engine *e, const char *text)
{
	size_t tl = strlen(text), i;
	for (i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		if (under(text, tl, benign[i]))
			return 1;
	for (i = 0; i < e->conf->tunnel_exempt_count; i++)
		if (under(text, tl, e->conf->tunnel_exempt[i]))
			return 1;
	return 0;
}

/** Queue one verdict and wake the module's thread. */
static void push(struct dw_engine *e, struct dw_verdict *v)
{
	uint64_t one = 1;
	atomic_fetch_add_explicit(&e->verdicts_total[v->detector], 1, memory_order_relaxed);
	dw_ring_push(e->verdicts, v);
	if (write(e->wake_fd, &one, sizeof(one)) < 0) {
		/* full counter or closing: the thread's tick picks it up */
	}
}

/** A verdict of det for key, naming text (presentation, final dot cut). */
static void verdict(struct dw_engine *e, enum dw_detector det, const struct dw_addr *key,
                    uint32_t now, uint32_t count, const uint8_t *wire, size_t wlen)
{
	struct dw_verdict v;
	size_t l;
	memset(&v, 0, sizeof(v));
	v.detector = (uint8_t)det;
	v.client = *key;
	v.when = v.first_seen = now;
	v.count = count;
	if (wlen == 1) /* the pseudo base of names under no real TLD */
		snprintf(v.name, sizeof(v.name), "%s", DW_NAMES_NO_SUFFIX);
	else
		dw_name_to_text(wire, wlen, v.name, sizeof(v.name));
	l = strlen(v.name);
	if (l > 1 && v.name[l - 1] == '.')
		v.name[l - 1] = '\0';
	if (det == DW_DET_DNS_TUNNEL && tunnel_exempt(e, v.name))
		return;
	if (dw_exempt_match(e->exempt, key))
		return;
	push(e, &v);
}

/** Set every MX counter's increment to 0 (a domain asked again). */
static void no_mx(const struct dw_engine *e, uint16_t *inc)
{
	for (uint32_t m = e->names_mx_ctrs; m != 0; m &= m - 1)
		inc[__builtin_ctz(m)] = 0;
}

/** One query's distinct-name work for the detectors in need. */
static int observe(struct dw_engine *e, unsigned need, const struct dw_query *q, uint64_t h,
                   uint32_t now, enum dw_qclass qc, uint16_t inc[DW_CLIENTS_MAX_COUNTERS],
                   uint32_t *incmask, int counted, struct dw_name_run *run)
{
	const struct dw_conf *c = e->conf;
	struct dw_ns_op op;
	struct dw_addr key;
	size_t off, roff;
	int feature = 0;
	unsigned weight;
	int listed = 1; /* 0: a name under no real TLD */
	int mx = (need & DW_NAMES_MX) && qc == DW_Q_MX && counted;
	int tun = (need & DW_NAMES_TUNNEL) && dw_tunnel_possible(q->qname, q->qname_len);

	if (!counted) {
		memset(inc, 0, sizeof(uint16_t) * DW_CLIENTS_MAX_COUNTERS);
		*incmask = 0;
	}
	/* one pass: the registrable domain and whether the TLD is listed */
	if (!q->qname ||
	    dw_regdomain_scan_run(e->regdom, q->qname, q->qname_len, &off, &listed, run) < 0 ||
	    off + 1 >= q->qname_len)
		return counted; /* malformed or the root: nothing to count */
	roff = off;
	if ((mx || tun) && !listed)
		off = q->qname_len - 1; /* no real TLD: one pseudo base, the root */
	memset(&op, 0, sizeof(op));
	if (mx) {
		op.mx = 1;
		op.mx_hash = dw_name_hash32(e->name_key, q->qname + off, q->qname_len - off);
		op.mx_window = e->names_mx_window;
	}
	if (tun && off > 0 && (weight = dw_tunnel_weight(q->qname, off)) > 0) {
		op.tun = 1;
		op.tun_weight = (uint8_t)weight;
		op.tun_base = dw_name_hash32(e->name_key, q->qname + off, q->qname_len - off);
		op.tun_name = dw_name_hash32(e->name_key ^ 1, q->qname, off);
		op.tun_window = c->det[DW_DET_DNS_TUNNEL].window;
		op.tun_threshold = c->det[DW_DET_DNS_TUNNEL].threshold;
	}
	/* the cheap tests first, the score only under a real TLD */
	if ((need & DW_NAMES_DGA) && q->rcode == 3 && q->source <= DW_SRC_CACHE && listed &&
	    dw_dga_score(q->qname + roff + 1, q->qname[roff]) > DW_DGA_THRESHOLD) {
		op.dga = 1;
		op.dga_hash = dw_name_hash32(e->name_key, q->qname + roff, q->qname_len - roff);
		op.dga_window = c->det[DW_DET_DGA].window;
		op.dga_threshold = c->det[DW_DET_DGA].threshold;
	}
	if (!op.mx && !op.tun && !op.dga)
		return counted;
	key = q->client;
	if (key.family == 6)
		dw_addr_mask(&key, c->ipv6_prefix);
	if (dw_namestate_update(e->namestate, &key, h, now, &op) < 0)
		return counted;
	if (op.mx && !op.mx_new) {
		no_mx(e, inc);
		*incmask &= ~e->names_mx_ctrs;
	}
	if (op.tun_fired)
		verdict(e, DW_DET_DNS_TUNNEL, &key, now, op.tun_count, q->qname + off,
		        q->qname_len - off);
	if (op.dga_fired)
		verdict(e, DW_DET_DGA, &key, now, op.dga_count, q->qname, q->qname_len);
	feature = op.tun || op.dga;
	return counted || feature;
}

/** One query's distinct-name work (names.h). */
int dw_names_observe(struct dw_engine *e, const struct dw_query *q, uint64_t h, uint32_t now,
                     enum dw_qclass qc, uint16_t inc[DW_CLIENTS_MAX_COUNTERS], uint32_t *incmask,
                     int counted, struct dw_name_run *run)
{
	return observe(e, e->names_need, q, h, now, qc, inc, incmask, counted, run);
}

/** The hook backend's NXDOMAIN answers: dga only (engine.h). */
void dw_engine_observe_nxdomain(struct dw_engine *e, const struct dw_query *q)
{
	uint16_t inc[DW_CLIENTS_MAX_COUNTERS];
	uint32_t incmask = 0;
	if (!e || !q || q->rcode != 3 || !q->qname || !(e->names_need & DW_NAMES_DGA))
		return;
	(void)observe(e, DW_NAMES_DGA, q, dw_clients_hash(e->clients, &q->client), dw_mono_now(),
	              dw_qclass_of(q->qtype), inc, &incmask, 0, NULL);
}

/** The registrable domains among the evidence names of MX queries. */
void dw_names_domains(struct dw_engine *e, const struct dw_suspect_view *sv, char *buf, size_t len,
                      size_t *n)
{
	unsigned i, k = 0;
	if (!e->regdom)
		return;
	for (i = 0; i < sv->nnames; i++) {
		uint8_t wire[DW_NAME_MAXWIRE];
		char text[DW_NAME_TEXT_MAX];
		size_t off, l;
		int wl;
		if (sv->name_qclass[i] != DW_Q_MX || (sv->cut & (1u << i)))
			continue;
		wl = dw_name_from_text(sv->names[i], wire, sizeof(wire));
		if (wl < 2 || dw_regdomain_of(e->regdom, wire, (size_t)wl, &off) < 0)
			continue;
		dw_name_to_text(wire + off, (size_t)wl - off, text, sizeof(text));
		l = strlen(text);
		if (l > 1 && text[l - 1] == '.')
			text[l - 1] = '\0';
		dw_appendf(buf, len, n, "%s%s", k++ ? " " : " domains=\"", text);
	}
	if (k)
		dw_appendf(buf, len, n, "\"");
}
