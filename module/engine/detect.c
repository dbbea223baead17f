/**
 * \file
 * Which rule fired (detect.h).
 */
#include "detect.h"

#include "window.h"

#include <stdio.h>
#include <string.h>

/* Every detector its own window, mx_worm and spam_relay a PTR counter too:
 * the client table must hold that many, or a window the man page allows
 * would be refused. */
_Static_assert(DW_CLIENTS_MAX_COUNTERS >= DW_DET_SIGNATURE_NAMES + 1 + 2,
               "the client table cannot hold a counter per detector window");
/* One fired bit per detector below the forwarder bit of the judge flags. */
_Static_assert(DW_DET_COUNT <= 14, "the judge flags: a bit per detector, JUDGE_SOME, forwarder");

/** The feature each detector counts. */
static const enum dw_counter_kind detector_kind[DW_DET_COUNT] = {
	[DW_DET_MX_WORM] = DW_CK_MX,
	[DW_DET_SPAM_RELAY] = DW_CK_MX,
	[DW_DET_MX_KEYWORD_SCAN] = DW_CK_KEYWORD,
	[DW_DET_IP_LITERAL] = DW_CK_IPLIT,
	[DW_DET_PTR_FLOOD] = DW_CK_PTR,
	[DW_DET_PTR_FORWARD_IP] = DW_CK_PTR_FWD,
	[DW_DET_SIGNATURE_NAMES] = DW_CK_SIGNATURE,
};

static const char *const counter_names[DW_CK_COUNT] = {
	"mx", "ptr", "keyword", "ip_literal", "ptr_forward", "signature",
};

/** Name of a counter kind. */
const char *dw_counter_name(enum dw_counter_kind k)
{
	return (unsigned)k < DW_CK_COUNT ? counter_names[k] : "?";
}

/** The counter for (kind, window), shared when it exists; -1 when full. */
static int counter_for(struct dw_detect *d, enum dw_counter_kind kind, uint32_t window)
{
	unsigned i;
	for (i = 0; i < d->ncounters; i++)
		if (d->kind[i] == kind && d->window[i] == window)
			return (int)i;
	if (d->ncounters == DW_CLIENTS_MAX_COUNTERS)
		return -1;
	d->kind[d->ncounters] = (uint8_t)kind;
	d->window[d->ncounters] = window;
	return d->ncounters++;
}

/** Which counters each enabled detector reads and, per counter, which
 *  detectors read it (dw_detect_plan()). */
static void plan_init(struct dw_detect *d)
{
	unsigned det;
	for (det = 0; det < DW_DET_COUNT; det++) {
		if (!d->enabled[det] || d->main[det] < 0)
			continue;
		d->reads[det] = (uint16_t)(1u << d->main[det]);
		if (d->ptr[det] >= 0)
			d->reads[det] |= (uint16_t)(1u << d->ptr[det]);
		d->dets_of[d->main[det]] |= (uint16_t)(1u << det);
		if (d->ptr[det] >= 0)
			d->dets_of[d->ptr[det]] |= (uint16_t)(1u << det);
	}
	for (unsigned c = 0; c < DW_CLIENTS_MAX_COUNTERS; c++) {
		uint32_t rd = 1u << c;

		for (det = 0; det < DW_DET_COUNT; det++)
			if (d->dets_of[c] >> det & 1)
				rd |= d->reads[det];
		d->need_of[c] = (uint16_t)rd;
	}
	for (unsigned q = 0; q < DW_Q_COUNT; q++)
		d->ctr_of_qc[q] = d->ctr_of_bit[q];
	for (unsigned f = 0; f < (1u << DW_FEAT_COUNT); f++)
		for (unsigned b = 0; b < DW_FEAT_COUNT; b++)
			if (f >> b & 1)
				d->ctr_of_flags[f] |= d->ctr_of_bit[8 + b];
}

/** Lay out the counters the enabled detectors need. */
int dw_detect_init(struct dw_detect *d, const struct dw_conf *conf, struct dw_exempt *exempt,
		   char *err, size_t errlen)
{
	unsigned i;
	memset(d, 0, sizeof(*d));
	d->exempt = exempt;
	for (i = 0; i < DW_DET_COUNT; i++) {
		const struct dw_detector_conf *dc = &conf->det[i];
		int m, p = -1;
		d->main[i] = d->ptr[i] = -1;
		if (i > DW_DET_SIGNATURE_NAMES)
			continue; /* dns_tunnel, dga: distinct names (names.h), no counter */
		d->enabled[i] = dc->enabled;
		d->threshold[i] = dc->threshold;
		d->rearm[i] = dw_detect_rearm_level(dc);
		if (!dc->enabled)
			continue;
		m = counter_for(d, detector_kind[i], dc->window);
		if (i == DW_DET_MX_WORM || i == DW_DET_SPAM_RELAY)
			p = counter_for(d, DW_CK_PTR, dc->window);
		if (m < 0 || ((i == DW_DET_MX_WORM || i == DW_DET_SPAM_RELAY) && p < 0)) {
			snprintf(err, errlen, "too many distinct detector windows (at most %d counters)",
				 DW_CLIENTS_MAX_COUNTERS);
			return -1;
		}
		d->main[i] = (int8_t)m;
		d->ptr[i] = (int8_t)p;
	}
	d->fwd = conf->forwarders;
	d->fwd_count = conf->forwarder_count;
	d->fwd_factor = conf->forwarder_factor ? conf->forwarder_factor : 1;
	if (d->ncounters == 0) /* every detector off: still track clients */
		counter_for(d, DW_CK_MX, 60);
	for (i = 0; i < d->ncounters; i++) {
		static const uint32_t flag_of[DW_CK_COUNT] = {
			[DW_CK_KEYWORD] = DW_FEAT_KEYWORD, [DW_CK_IPLIT] = DW_FEAT_IPLIT,
			[DW_CK_PTR_FWD] = DW_FEAT_PTR_FORWARD, [DW_CK_SIGNATURE] = DW_FEAT_SIGNATURE};
		if (d->kind[i] == DW_CK_MX)
			d->count_classes |= 1u << DW_Q_MX;
		else if (d->kind[i] == DW_CK_PTR)
			d->count_classes |= 1u << DW_Q_PTR;
		else
			d->count_flags |= flag_of[d->kind[i]];
		uint32_t w;
		if (d->kind[i] == DW_CK_MX)
			w = dw_detect_word(DW_Q_MX, 0);
		else if (d->kind[i] == DW_CK_PTR)
			w = dw_detect_word(DW_Q_PTR, 0);
		else
			w = dw_detect_word(DW_Q_A, flag_of[d->kind[i]]) & ~1u;
		d->ctr_of_bit[__builtin_ctz(w)] |= (uint16_t)(1u << i);
	}
	plan_init(d);
	return 0;
}

/** Copy the counter windows out for the client table's conf. */
void dw_detect_windows(const struct dw_detect *d, uint32_t window[DW_CLIENTS_MAX_COUNTERS])
{
	memcpy(window, d->window, sizeof(d->window));
}

/** The table layout: windows, and 8-bit slots where no threshold needs more. */
void dw_detect_clients_conf(const struct dw_detect *d, struct dw_clients_conf *cc)
{
	uint32_t need[DW_CLIENTS_MAX_COUNTERS] = {0};
	unsigned i;
	cc->ncounters = d->ncounters;
	dw_detect_windows(d, cc->window);
	for (i = 0; i < DW_DET_COUNT; i++) {
		if (!d->enabled[i])
			continue;
		if (d->main[i] >= 0 &&
		    dw_detect_scaled(d, d->threshold[i], d->fwd_count > 0) > need[d->main[i]])
			need[d->main[i]] = dw_detect_scaled(d, d->threshold[i], d->fwd_count > 0);
		if (d->ptr[i] >= 0 && need[d->ptr[i]] < 1)
			need[d->ptr[i]] = 1;
	}
	for (i = 0; i < DW_CLIENTS_MAX_COUNTERS; i++)
		cc->narrow[i] = i < d->ncounters && need[i] <= DW_WINDOW_SLOT8_MAX;
}

/** One increment per counter whose feature the query has: MX and PTR
 *  counters count their class, the others their DW_FEAT_* flag (the bits
 *  of dw_detect_word(); d->ctr_of_bit[b]: the counters that count bit b).
 *  Returns the counters incremented, a bit each. */
uint32_t dw_detect_increments_mask(const struct dw_detect *d, const struct dw_features *f,
                                   uint16_t inc[DW_CLIENTS_MAX_COUNTERS])
{
	/* the bits of dw_detect_word(), folded at init: two lookups */
	uint32_t m = d->ctr_of_flags[f->flags & ((1u << DW_FEAT_COUNT) - 1)];

	if ((unsigned)f->qclass < DW_Q_COUNT)
		m |= d->ctr_of_qc[f->qclass];
	memset(inc, 0, DW_CLIENTS_MAX_COUNTERS * sizeof(inc[0]));
	for (uint32_t b = m; b != 0; b &= b - 1)
		inc[__builtin_ctz(b)] = 1;
	return m;
}

/** dw_detect_increments_mask(), counted. */
unsigned dw_detect_increments(const struct dw_detect *d, const struct dw_features *f,
			      uint16_t inc[DW_CLIENTS_MAX_COUNTERS])
{
	return (unsigned)__builtin_popcount(dw_detect_increments_mask(d, f, inc));
}

/** The counters with a nonzero increment, a bit each. O(counters). */
uint32_t dw_detect_inc_mask(const struct dw_detect *d, const uint16_t inc[DW_CLIENTS_MAX_COUNTERS])
{
	uint32_t m = 0;
	unsigned i;
	for (i = 0; i < d->ncounters; i++)
		if (inc[i] != 0)
			m |= 1u << i;
	return m;
}

/** The detectors the increments can change, and the counters they read. */
uint16_t dw_detect_plan(const struct dw_detect *d, uint32_t incmask, uint32_t *need)
{
	uint16_t dets = 0;
	uint32_t rd = 0;
	if (incmask != 0 && (incmask & (incmask - 1)) == 0 &&
	    incmask < (1u << DW_CLIENTS_MAX_COUNTERS)) { /* one counter: the table */
		unsigned c = (unsigned)__builtin_ctz(incmask);
		*need = d->need_of[c];
		return (uint16_t)(d->dets_of[c] | DW_DETECT_JUDGE_SOME);
	}
	for (uint32_t m = incmask; m != 0; m &= m - 1)
		dets |= d->dets_of[__builtin_ctz(m)];
	for (uint16_t m = dets; m != 0; m &= (uint16_t)(m - 1))
		rd |= d->reads[__builtin_ctz(m)];
	*need = rd | incmask;
	return dets | DW_DETECT_JUDGE_SOME;
}

/** A detector's condition on the current counts, with threshold thr. */
static int condition(const struct dw_detect *d, unsigned det, const struct dw_client_view *v,
                     uint32_t thr)
{
	if (v->counts[d->main[det]] < thr)
		return 0;
	if (det == DW_DET_MX_WORM) /* MX without any PTR: worm, not relay */
		return v->counts[d->ptr[det]] == 0;
	if (det == DW_DET_SPAM_RELAY)
		return v->counts[d->ptr[det]] >= 1;
	return 1;
}

/** An authorised mail server (mail_servers:) looks up mail exchangers for a
 *  living: the MX detectors never judge it. */
static int mail_server_exempt(const struct dw_detect *d, unsigned det,
			      const struct dw_client_view *v)
{
	if (det != DW_DET_MX_WORM && det != DW_DET_SPAM_RELAY && det != DW_DET_MX_KEYWORD_SCAN)
		return 0;
	return d->mail && dw_mailwatch_match(d->mail, &v->addr) >= 0;
}

/** Fire once per offence (detect.h, hysteresis): flags bit = "fired and not
 *  re-armed yet". Exempt clients get their bit set (so the exemption list
 *  is scanned once per crossing, not once per query) but no verdict. */
uint16_t dw_detect_judge(void *arg, const struct dw_client_view *v)
{
	struct dw_judgement *j = arg;
	const struct dw_detect *d = j->d;
	uint16_t flags = v->flags;
	int exempt = -1; /* unknown until needed */
	unsigned det;

	uint16_t todo =
	    j->only ? (uint16_t)(j->only & DW_DETECT_FLAGS_FIRED) : DW_DETECT_FLAGS_FIRED;

	j->total = v->total;
	for (; todo != 0; todo &= (uint16_t)(todo - 1)) {
		uint16_t bit = (uint16_t)(todo & -todo);
		int fwd = (flags & DW_DETECT_FLAG_FORWARDER) != 0;
		uint32_t count, before;
		det = (unsigned)__builtin_ctz(todo);
		if (!d->enabled[det])
			continue;
		count = v->counts[d->main[det]];
		before =
		    count - (j->inc && j->inc[d->main[det]] <= count ? j->inc[d->main[det]] : 0);
		if ((flags & bit) && before < dw_detect_scaled(d, d->rearm[det], fwd))
			flags &= (uint16_t)~bit; /* fell below the re-arm level: armed again */
		if ((flags & bit) || !condition(d, det, v, d->threshold[det]))
			continue;
		/* linear: once per crossing of a plain threshold, then in the flags */
		if (!fwd && d->fwd_count && dw_cidr_list_match(d->fwd, d->fwd_count, &v->addr)) {
			flags |= DW_DETECT_FLAG_FORWARDER;
			fwd = 1;
		}
		if (fwd && !condition(d, det, v, dw_detect_scaled(d, d->threshold[det], 1)))
			continue; /* a forwarder's own, higher threshold */
		flags |= bit;
		if (exempt < 0)
			exempt = d->exempt && dw_exempt_match(d->exempt, &v->addr);
		if (!exempt && !mail_server_exempt(d, det, v)) {
			j->fired |= bit;
			j->forwarder = (uint8_t)fwd;
		}
	}
	if (j->fired)
		j->view = *v;
	return flags;
}

/** The block ended: every detector re-arms; the forwarder bit stays. */
uint16_t dw_detect_rearm_all(void *arg, const struct dw_client_view *v)
{
	(void)arg;
	return (uint16_t)(v->flags & ~DW_DETECT_FLAGS_FIRED);
}

/** One verdict record per detector that fired. */
unsigned dw_detect_verdicts(const struct dw_judgement *j, struct dw_verdict out[DW_DET_COUNT])
{
	const struct dw_detect *d = j->d;
	unsigned det, n = 0;
	for (det = 0; det < DW_DET_COUNT; det++) {
		struct dw_verdict *v = &out[n];
		if (!(j->fired & (1u << det)))
			continue;
		memset(v, 0, sizeof(*v));
		v->detector = (uint8_t)det;
		v->client = j->view.addr;
		v->when = j->view.now;
		v->first_seen = j->view.first_seen;
		v->count = j->view.counts[d->main[det]];
		v->ptr = d->ptr[det] >= 0 ? j->view.counts[d->ptr[det]] : 0;
		v->ncounters = j->view.ncounters;
		memcpy(v->counts, j->view.counts, sizeof(v->counts));
		v->forwarder = j->forwarder;
		v->threshold = dw_detect_scaled(d, d->threshold[det], j->forwarder);
		n++;
	}
	return n;
}
