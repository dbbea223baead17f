/**
 * \file
 * The Unbound adapter's upstream callbacks (contract in unbound_upstream.h):
 * Unbound's upstream query and response, converted into the engine's plain
 * struct dw_upstream on the worker thread and queued for the module's
 * thread, where the whitelist learns from them.
 *
 * Facts relied on (Unbound 1.17.1 source):
 * - inplace_cb_query_call() (util/data/msgreply.c) is made by
 *   outnet_serviced_query() for each query sent upstream; zone/zonelen is
 *   the delegation point name the iterator chose the server for.
 * - inplace_cb_query_response_call() is made first thing in the iterator's
 *   processQueryResponse() with iq->response, which dns_alloc_msg() built
 *   from the scrubbed packet: TTLs are still relative (not yet made
 *   absolute by the cache), rdata is uncompressed wire format with a 2-byte
 *   rdlength in front, rrsets[] holds answer, authority, additional in
 *   that order. It is NULL after a timeout, and qstate->reply is NULL then.
 * - Both callbacks' return values are ignored by Unbound.
 */
#include "config.h"

#include <string.h>

#include "dynlibmod/dynlibmod.h"
#include "services/cache/dns.h"
#include "sldns/rrdef.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/log.h"
#include "util/module.h"
#include "util/netevent.h"

#include "engine.h"
#include "unbound_upstream.h"

/*
 * Wire name to lower-case presentation text with the final dot, as the
 * whitelist wants it: [a-z0-9_-] kept, every other byte \DDD. -1 when the
 * name is malformed (compression pointer, bad length) or the text would
 * not fit into cap bytes with its NUL.
 */
static int name_text(const uint8_t *wire, size_t len, char *out, size_t cap)
{
	size_t i = 0, n = 0;
	int ended = 0;

	if (wire == NULL || len == 0 || len > 255 || cap < 2)
		return -1;
	while (i < len) {
		uint8_t lab = wire[i++];
		if (lab == 0) {
			ended = 1;
			break;
		}
		if (lab > 63 || i + lab > len)
			return -1;
		for (uint8_t k = 0; k < lab; k++) {
			uint8_t c = wire[i++];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_') {
				if (n + 1 >= cap)
					return -1;
				out[n++] = (char)c;
			} else {
				if (n + 4 >= cap)
					return -1;
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			}
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = '.';
	}
	if (!ended)
		return -1; /* ran out of bytes before the root label */
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return (int)n;
}

/** inplace_cb_query: Unbound is about to send qinfo to addr, chosen for zone. */
static int on_upstream_query(struct query_info *qinfo, uint16_t flags, struct module_qstate *qstate,
                             struct sockaddr_storage *addr, socklen_t addrlen, uint8_t *zone,
                             size_t zonelen, struct regional *region, int id, void *arg)
{
	struct dw_engine *e = arg;
	struct dw_addr server;
	char ztext[256];

	(void)qinfo, (void)flags, (void)qstate, (void)region, (void)id;
	if (e == NULL || addr == NULL)
		return 0;
	if (dw_addr_from_sockaddr((const struct sockaddr *)addr, addrlen, &server) != 0 ||
	    name_text(zone, zonelen, ztext, sizeof(ztext)) < 0)
		return 0;
	dw_engine_upstream_query(e, &server, ztext);
	return 0;
}

/* Building response events: a full event is handed over and a new one begun. */
struct resp_ctx {
	struct dw_engine *e;
	struct dw_upstream u;
	unsigned events; /* events handed over so far */
};

/* Room for one more record; false when this response used its budget. */
static int resp_room(struct resp_ctx *c)
{
	if (c->u.nrr < DW_UP_MAX_RR)
		return 1;
	dw_engine_upstream(c->e, &c->u);
	c->u.nrr = 0;
	return ++c->events < DW_UPSTREAM_MAX_EVENTS;
}

/* Add the records of one rrset of the wanted type (NS, or A/AAAA). */
static int resp_add_rrset(struct resp_ctx *c, const struct ub_packed_rrset_key *rrset, int ns)
{
	const struct packed_rrset_data *d = (const struct packed_rrset_data *)rrset->entry.data;
	uint16_t type = ntohs(rrset->rk.type);
	char owner[sizeof(c->u.rr[0].owner)];
	size_t i;

	if (d == NULL || ntohs(rrset->rk.rrset_class) != LDNS_RR_CLASS_IN)
		return 1;
	if (ns ? type != LDNS_RR_TYPE_NS : (type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA))
		return 1;
	if (name_text(rrset->rk.dname, rrset->rk.dname_len, owner, sizeof(owner)) < 0)
		return 1;
	for (i = 0; i < d->count; i++) {
		const uint8_t *rd = d->rr_data[i];
		size_t rl = d->rr_len[i];
		struct dw_up_rr *rr;
		time_t ttl = d->rr_ttl[i];

		if (rd == NULL || rl < 2)
			continue;
		if (!resp_room(c))
			return 0;
		rr = &c->u.rr[c->u.nrr];
		rr->type = type;
		rr->ttl = ttl < 0 ? 0 : ttl > (time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
		if (type == LDNS_RR_TYPE_NS) {
			if (name_text(rd + 2, rl - 2, rr->nsname, sizeof(rr->nsname)) < 0)
				continue;
			rr->nsname[sizeof(rr->nsname) - 1] = '\0';
			memset(&rr->addr, 0, sizeof(rr->addr));
		} else {
			size_t alen = type == LDNS_RR_TYPE_A ? 4 : 16;
			if (rl != 2 + alen)
				continue;
			memset(&rr->addr, 0, sizeof(rr->addr));
			rr->addr.family = type == LDNS_RR_TYPE_A ? 4 : 6;
			memcpy(rr->addr.b, rd + 2, alen);
			rr->nsname[0] = '\0';
		}
		memcpy(rr->owner, owner, strlen(owner) + 1);
		c->u.nrr++;
	}
	return 1;
}

/** inplace_cb_query_response: the scrubbed answer of an upstream server. */
static int on_upstream_response(struct module_qstate *qstate, struct dns_msg *response, int id,
                                void *arg)
{
	struct resp_ctx c;
	const struct reply_info *rep;
	size_t an, ns, ar, i;

	(void)id;
	if (arg == NULL || response == NULL || response->rep == NULL)
		return 0; /* timeout: nothing learned */
	rep = response->rep;
	an = rep->an_numrrsets;
	ns = rep->ns_numrrsets;
	ar = rep->ar_numrrsets;
	if (rep->rrsets == NULL || an + ns + ar > rep->rrset_count)
		return 0;
	c.e = arg;
	c.events = 0;
	c.u.kind = DW_UP_RESPONSE;
	c.u.zone[0] = '\0';
	c.u.nrr = 0;
	if (qstate == NULL || qstate->reply == NULL ||
	    dw_addr_from_sockaddr((const struct sockaddr *)&qstate->reply->remote_addr,
	                          qstate->reply->remote_addrlen, &c.u.server) != 0)
		memset(&c.u.server, 0, sizeof(c.u.server));
	/* NS first (answer, authority), so the glue after them finds its name */
	for (i = 0; i < an + ns; i++)
		if (!resp_add_rrset(&c, rep->rrsets[i], 1))
			return 0;
	for (i = an + ns; i < an + ns + ar; i++) /* additional: glue */
		if (!resp_add_rrset(&c, rep->rrsets[i], 0))
			return 0;
	for (i = 0; i < an; i++) /* answer: the resolver resolving an NS name */
		if (!resp_add_rrset(&c, rep->rrsets[i], 0))
			return 0;
	if (c.u.nrr > 0)
		dw_engine_upstream(c.e, &c.u);
	return 0;
}

int dw_upstream_register(struct module_env *env, int id, struct dynlibmod_env *de,
                         struct dw_engine *e)
{
	if (env == NULL || de == NULL || e == NULL)
		return -1;
	if (!de->inplace_cb_register_wrapped((void *)&on_upstream_query, inplace_cb_query, e, env,
	                                     id)) {
		log_err("dnswarden: cannot register the upstream query callback");
		return -1;
	}
	if (!de->inplace_cb_register_wrapped((void *)&on_upstream_response,
	                                     inplace_cb_query_response, e, env, id)) {
		log_err("dnswarden: cannot register the upstream response callback");
		de->inplace_cb_delete_wrapped(env, inplace_cb_query, id);
		return -1;
	}
	return 0;
}

void dw_upstream_unregister(struct module_env *env, int id, struct dynlibmod_env *de)
{
	if (env == NULL || de == NULL)
		return;
	de->inplace_cb_delete_wrapped(env, inplace_cb_query, id);
	de->inplace_cb_delete_wrapped(env, inplace_cb_query_response, id);
}
