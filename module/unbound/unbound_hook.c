/**
 * \file
 * The `hook` enforcement backend (see unbound_hook.h): the function the
 * patched Unbound calls for every parsed client query, and the policy answers
 * it writes.
 *
 * The hook's ABI is the one tools/patches/unbound-precache-hook.patch adds to
 * daemon/worker.h; it is mirrored here (precache_fn, PRECACHE_*) so that the
 * module also builds against an unpatched tree and finds the hook at run time
 * with dlsym(). The patch changes no struct, so one module binary serves the
 * patched and the unpatched Unbound of one configure run.
 *
 * Answers are built like Unbound's own local-zone answers
 * (services/localzone.c): error_encode() for rcode-only answers, one
 * synthesized RRset through reply_info_answer_encode() for the sinkhole, the
 * flags of RPZ's answers (AA on NXDOMAIN/NODATA/TC/sinkhole; REFUSED without
 * AA, as access-control's refuse). The inplace reply callbacks are not
 * called for these answers: dw_engine_decide() has counted the query.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/worker.h"
#include "sldns/rrdef.h"
#include "sldns/sbuffer.h"
#include "util/data/msgencode.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/net_help.h"
#include "util/netevent.h"
#include "util/regional.h"

#include "engine.h"
#include "unbound_hook.h"

/** The patch's enum worker_precache_result. */
enum { PRECACHE_CONTINUE = 0, PRECACHE_ANSWERED = 1, PRECACHE_DROP = 2 };

/** The patch's worker_precache_hook_type (its enum return is an int). */
typedef int (*precache_fn)(struct worker *worker, struct comm_reply *repinfo,
                           struct query_info *qinfo, struct edns_data *edns,
                           struct sldns_buffer *pkt, void *arg);

/** The patch's symbols. */
#define HOOK_SYMBOL "worker_precache_hook"
#define HOOK_ARG_SYMBOL "worker_precache_hook_arg"

/** TTL of synthesized sinkhole answers (same as the rpz backend's). */
#define SINKHOLE_TTL 60

/** The backend's state (b->ctx). */
struct dw_hook {
	struct dw_engine *engine;
	precache_fn *hookp; /**< &worker_precache_hook in the Unbound binary */
	void **argp;        /**< &worker_precache_hook_arg */
};

/** Find the hook's variables in the process. 0, or -1 when absent. */
static int find_hook(precache_fn **hookp, void ***argp)
{
	*hookp = (precache_fn *)dlsym(RTLD_DEFAULT, HOOK_SYMBOL);
	*argp = (void **)dlsym(RTLD_DEFAULT, HOOK_ARG_SYMBOL);
	return *hookp && *argp ? 0 : -1;
}

int dw_hook_available(void)
{
	precache_fn *h;
	void **a;
	return find_hook(&h, &a) == 0;
}

/** Is the query on UDP? (TC only makes sense there.) */
static int is_udp(const struct comm_reply *repinfo)
{
	return repinfo->c && repinfo->c->type == comm_udp;
}

/** An answer with rcode (and flag bits) and no records, as Unbound's
 *  error_encode() writes it; EDNS is echoed when the query had it. */
static void answer_rcode(struct query_info *qinfo, struct edns_data *edns, sldns_buffer *pkt,
                         int rcode_flags)
{
	uint16_t qid, qflags = sldns_buffer_read_u16_at(pkt, 2);
	/* wire order, as Unbound keeps it; the buffer may be unaligned */
	memcpy(&qid, sldns_buffer_begin(pkt), sizeof(qid));
	edns->opt_list_out = NULL;
	edns->opt_list_inplace_cb_out = NULL;
	error_encode(pkt, rcode_flags, qinfo, qid, qflags, edns);
}

/** A sinkhole answer: one A (or AAAA) record for the qname with address a,
 *  encoded like services/localzone.c's local_encode(). NODATA when the
 *  qtype/class has no sinkhole record. */
static void answer_sinkhole(struct worker *w, struct query_info *qinfo, struct edns_data *edns,
                            sldns_buffer *pkt, const struct dw_addr *a)
{
	struct ub_packed_rrset_key key, *rrsets[1];
	struct packed_rrset_data d;
	struct reply_info rep;
	uint8_t rdata[2 + 16];
	uint8_t *rdp = rdata;
	size_t rr_len, alen;
	time_t ttl = SINKHOLE_TTL;
	uint16_t qid;
	uint16_t qflags = sldns_buffer_read_u16_at(pkt, 2);
	uint16_t udpsize = edns->udp_size;

	memcpy(&qid, sldns_buffer_begin(pkt), sizeof(qid)); /* may be unaligned */
	if (qinfo->qclass != LDNS_RR_CLASS_IN ||
	    !((qinfo->qtype == LDNS_RR_TYPE_A && a->family == 4) ||
	      (qinfo->qtype == LDNS_RR_TYPE_AAAA && a->family == 6))) {
		answer_rcode(qinfo, edns, pkt, LDNS_RCODE_NOERROR | BIT_AA);
		return;
	}
	alen = a->family == 4 ? 4 : 16;
	sldns_write_uint16(rdata, (uint16_t)alen);
	memcpy(rdata + 2, a->b, alen);
	rr_len = 2 + alen;

	memset(&key, 0, sizeof(key));
	memset(&d, 0, sizeof(d));
	key.entry.key = &key;
	key.entry.data = &d;
	key.rk.dname = qinfo->qname;
	key.rk.dname_len = qinfo->qname_len;
	key.rk.type = htons(qinfo->qtype);
	key.rk.rrset_class = htons(qinfo->qclass);
	d.ttl = ttl;
	d.count = 1;
	d.rr_len = &rr_len;
	d.rr_data = &rdp;
	d.rr_ttl = &ttl;
	d.trust = rrset_trust_prim_noglue;
	d.security = sec_status_insecure;

	memset(&rep, 0, sizeof(rep));
	rep.flags = (uint16_t)(BIT_QR | BIT_AA | BIT_RA | LDNS_RCODE_NOERROR);
	rep.qdcount = 1;
	rep.ttl = ttl;
	rep.security = sec_status_insecure;
	rep.an_numrrsets = 1;
	rep.rrset_count = 1;
	rrsets[0] = &key;
	rep.rrsets = rrsets;

	edns->edns_version = EDNS_ADVERTISED_VERSION;
	edns->udp_size = EDNS_ADVERTISED_SIZE;
	edns->ext_rcode = 0;
	edns->bits &= EDNS_DO;
	edns->opt_list_out = NULL;
	edns->opt_list_inplace_cb_out = NULL;
	if (!reply_info_answer_encode(qinfo, &rep, qid, qflags, pkt, 0, 0, w->scratchpad, udpsize,
	                              edns, (int)(edns->bits & EDNS_DO), 0))
		error_encode(pkt, LDNS_RCODE_SERVFAIL | BIT_AA, qinfo, qid, qflags, edns);
}

/**
 * The pre-cache hook: count the query, and answer it when its client is
 * blocked.
 * \param w the worker handling the query (its scratchpad is ours until the reply).
 * \param repinfo the client and transport.
 * \param qinfo the parsed question (qname points into pkt).
 * \param edns the query's EDNS; changed only when we answer.
 * \param pkt the query; the reply when we return PRECACHE_ANSWERED.
 * \param arg our struct dw_hook.
 * \return PRECACHE_CONTINUE, PRECACHE_ANSWERED or PRECACHE_DROP.
 */
static int precache_hook(struct worker *w, struct comm_reply *repinfo, struct query_info *qinfo,
                         struct edns_data *edns, struct sldns_buffer *pkt, void *arg)
{
	const struct dw_hook *h = arg;
	struct dw_query q;
	struct dw_decision d;

	if (dw_addr_from_sockaddr((const struct sockaddr *)&repinfo->client_addr,
	                          repinfo->client_addrlen, &q.client) != 0)
		return PRECACHE_CONTINUE;
	q.qname = qinfo->qname;
	q.qname_len = qinfo->qname_len;
	q.qtype = qinfo->qtype;
	q.rcode = 0;
	q.source = DW_SRC_QUERY; /* asked before any answer path */
	dw_engine_decide(h->engine, &q, &d);

	switch (d.action) {
	case DW_ACT_REFUSE:
		answer_rcode(qinfo, edns, pkt, LDNS_RCODE_REFUSED);
		return PRECACHE_ANSWERED;
	case DW_ACT_NXDOMAIN:
		answer_rcode(qinfo, edns, pkt, LDNS_RCODE_NXDOMAIN | BIT_AA);
		return PRECACHE_ANSWERED;
	case DW_ACT_NODATA:
		answer_rcode(qinfo, edns, pkt, LDNS_RCODE_NOERROR | BIT_AA);
		return PRECACHE_ANSWERED;
	case DW_ACT_SINKHOLE:
		answer_sinkhole(w, qinfo, edns, pkt, &d.sinkhole);
		return PRECACHE_ANSWERED;
	case DW_ACT_DROP:
		return PRECACHE_DROP;
	case DW_ACT_TCP_ONLY:
		if (!is_udp(repinfo))
			return PRECACHE_CONTINUE;
		answer_rcode(qinfo, edns, pkt, LDNS_RCODE_NOERROR | BIT_AA | BIT_TC);
		return PRECACHE_ANSWERED;
	default:
		return PRECACHE_CONTINUE;
	}
}

/** ready(): the hook reads the block list itself; always ready. */
static int op_ready(void *ctx)
{
	(void)ctx;
	return 1;
}

/** set(): nothing to push (the next query of client asks the engine). */
static int op_set(void *ctx, const struct dw_cidr *client, enum dw_action action,
                  const struct dw_conf *conf, char *err, size_t errlen)
{
	(void)ctx, (void)client, (void)action, (void)conf, (void)err, (void)errlen;
	return 0;
}

/** clear(): nothing to take back. */
static int op_clear(void *ctx, const struct dw_cidr *client, char *err, size_t errlen)
{
	(void)ctx, (void)client, (void)err, (void)errlen;
	return 0;
}

int dw_hook_backend_init(struct dw_backend *b, struct dw_engine *e, const struct dw_conf *conf,
                         char *err, size_t errlen)
{
	struct dw_hook *h;
	precache_fn *hookp;
	void **argp;

	(void)conf;
	memset(b, 0, sizeof(*b));
	if (find_hook(&hookp, &argp) != 0) {
		snprintf(
		    err, errlen,
		    "this Unbound has no pre-cache hook (build it with tools/dev/build-unbound "
		    "--patched, or use enforcement: rpz)");
		return -1;
	}
	if (*hookp && *hookp != precache_hook) {
		snprintf(err, errlen,
		         "the pre-cache hook of this Unbound is taken by another module");
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "hook backend: out of memory");
		return -1;
	}
	h->engine = e;
	h->hookp = hookp;
	h->argp = argp;
	/* workers are stopped while init() runs: plain stores are enough */
	*argp = h;
	*hookp = precache_hook;
	b->name = "hook";
	b->ctx = h;
	b->ready = op_ready;
	b->set = op_set;
	b->clear = op_clear;
	b->maintain = NULL;
	return 0;
}

void dw_hook_backend_free(struct dw_backend *b)
{
	struct dw_hook *h;
	if (!b || b->set != op_set || !b->ctx)
		return;
	h = b->ctx;
	if (*h->hookp == precache_hook && *h->argp == h) {
		*h->hookp = NULL;
		*h->argp = NULL;
	}
	free(h);
	b->ctx = NULL;
}
