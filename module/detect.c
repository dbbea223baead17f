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
	}
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
		if (d->main[i] >= 0 && d->threshold[i] > need[d->main[i]])
			need[d->main[i]] = d->threshold[i];
		if (d->ptr[i] >= 0 && need[d->ptr[i]] < 1)
			need[d->ptr[i]] = 1;
	}
	for (i = 0; i < DW_CLIENTS_MAX_COUNTERS; i++)
		cc->narrow[i] = i < d->ncounters && need[i] <= DW_WINDOW_SLOT8_MAX;
}

/** Whether a query with features f counts towards a counter of kind k. */
static int counts_towards(enum dw_counter_kind k, const struct dw_features *f)
{
	switch (k) {
	case DW_CK_MX:
		return f->qclass == DW_Q_MX;
	case DW_CK_PTR:
		return f->qclass == DW_Q_PTR;
	case DW_CK_KEYWORD:
		return (f->flags & DW_FEAT_KEYWORD) != 0;
	case DW_CK_IPLIT:
		return (f->flags & DW_FEAT_IPLIT) != 0;
	case DW_CK_PTR_FWD:
		return (f->flags & DW_FEAT_PTR_FORWARD) != 0;
	case DW_CK_SIGNATURE:
		return (f->flags & DW_FEAT_SIGNATURE) != 0;
	default:
		return 0;
	}
}

/** One increment per counter whose feature the query has. */
unsigned dw_detect_increments(const struct dw_detect *d, const struct dw_features *f,
			      uint16_t inc[DW_CLIENTS_MAX_COUNTERS])
{
	unsigned i, n = 0;
	for (i = 0; i < d->ncounters; i++) {
		inc[i] = (uint16_t)counts_towards((enum dw_counter_kind)d->kind[i], f);
		n += inc[i];
	}
	return n;
}

/** A detector's condition on the current counts. */
static int condition(const struct dw_detect *d, unsigned det, const struct dw_client_view *v)
{
	if (v->counts[d->main[det]] < d->threshold[det])
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

/** Fire on a rising edge of each condition; flags bit = "condition held at
 *  the last query". Exempt clients get their bit set (so the exemption list
 *  is scanned once per crossing, not once per query) but no verdict. */
uint16_t dw_detect_judge(void *arg, const struct dw_client_view *v)
{
	struct dw_judgement *j = arg;
	const struct dw_detect *d = j->d;
	uint16_t flags = v->flags;
	int exempt = -1; /* unknown until needed */
	unsigned det;

	j->total = v->total;
	for (det = 0; det < DW_DET_COUNT; det++) {
		uint16_t bit = (uint16_t)(1u << det);
		if (!d->enabled[det])
			continue;
		if (!condition(d, det, v)) {
			flags &= (uint16_t)~bit;
			continue;
		}
		if (flags & bit)
			continue; /* already fired for this crossing */
		flags |= bit;
		if (exempt < 0)
			exempt = d->exempt && dw_exempt_match(d->exempt, &v->addr);
		if (!exempt && !mail_server_exempt(d, det, v))
			j->fired |= bit;
	}
	if (j->fired)
		j->view = *v;
	return flags;
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
		n++;
	}
	return n;
}
