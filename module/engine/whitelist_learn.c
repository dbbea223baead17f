/**
 * \file
 * The whitelist learns (whitelist.h, dw_whitelist_learn()): a query the
 * resolver sent makes its server known for the zone asked; a response's NS
 * records, their glue and later A/AAAA answers for NS names learned earlier
 * link addresses to zones, for as long as the records' TTLs (clamped) say.
 */
#include "whitelist_int.h"

#include <stdlib.h>
#include <string.h>

static int max_rc(int a, int b)
{
	if (a < 0 || b < 0)
		return -1;
	return a > b ? a : b;
}

/* A server was asked about a zone (a query, or a response naming its zone). */
static int learn_query(struct dw_whitelist *wl, const struct dw_addr *server, const char *zonebuf,
                       size_t cap, time_t now)
{
	char z[DW_WL_NAME_MAX + 1];
	int zl = dw_wl_name_norm(zonebuf, cap, z);
	struct wl_name *zone;
	int rc;

	if (zl < 0 || !dw_wl_addr_usable(server)) {
		wl->st.rejected++;
		return 0;
	}
	zone = dw_wl_name_get(wl, z, (size_t)zl);
	if (zone == NULL)
		return -1;
	rc = dw_wl_entry_learn(wl, server, zone, now + dw_wl_query_ttl(wl), NULL, DW_WL_SRC_QUERY,
	                       now);
	dw_wl_name_unref(wl, zone);
	return rc;
}

static int learn_response(struct dw_whitelist *wl, const struct dw_upstream *u, time_t now)
{
	unsigned n = u->nrr, i, j;
	struct wl_name *nsnames[DW_UP_MAX_RR]; /* the NS names of this event */
	unsigned nns = 0;
	int rc = 0;

	if (n > DW_UP_MAX_RR)
		n = DW_UP_MAX_RR;
	/* NS records first, so that glue in the same event finds its name. */
	for (i = 0; i < n; i++) {
		const struct dw_up_rr *rr = &u->rr[i];
		char zt[DW_WL_NAME_MAX + 1], nt[DW_WL_NAME_MAX + 1];
		int zl, nl;
		struct wl_name *zone, *name;

		if (rr->type != 2)
			continue;
		wl->st.records++;
		zl = dw_wl_name_norm(rr->owner, sizeof(rr->owner), zt);
		nl = dw_wl_name_norm(rr->nsname, sizeof(rr->nsname), nt);
		if (zl < 0 || nl < 0) {
			wl->st.rejected++;
			continue;
		}
		zone = dw_wl_name_get(wl, zt, (size_t)zl);
		name = zone ? dw_wl_name_get(wl, nt, (size_t)nl) : NULL;
		if (name == NULL) {
			dw_wl_name_unref(wl, zone);
			rc = -1;
			continue;
		}
		rc = max_rc(
		    rc, dw_wl_ns_learn(wl, name, zone, now + dw_wl_clamp_ttl(wl, rr->ttl), now));
		dw_wl_name_unref(wl, zone);
		if (name->ns)
			nsnames[nns++] = name; /* its reference is held while this event runs */
		else
			dw_wl_name_unref(wl, name);
	}
	/* Then addresses of NS names. */
	for (i = 0; i < n; i++) {
		const struct dw_up_rr *rr = &u->rr[i];
		char ht[DW_WL_NAME_MAX + 1];
		int hl;
		struct wl_name *host;
		struct wl_zref zones[DW_WL_MAX_ZONES];
		unsigned nz, src = DW_WL_SRC_RESOLVED;
		time_t aexp;

		if (rr->type != 1 && rr->type != 28)
			continue;
		wl->st.records++;
		hl = dw_wl_name_norm(rr->owner, sizeof(rr->owner), ht);
		if (hl < 0 || rr->addr.family != (rr->type == 1 ? 4 : 6) ||
		    !dw_wl_addr_usable(&rr->addr)) {
			wl->st.rejected++;
			continue;
		}
		host = dw_wl_name_find(wl, ht, (size_t)hl);
		if (host == NULL || host->ns == NULL) {
			wl->st.unlinked++;
			continue;
		}
		for (j = 0; j < nns; j++)
			if (nsnames[j] == host)
				src = DW_WL_SRC_GLUE;
		/* A copy: learning may evict this very NS record. */
		dw_wl_zones_prune(wl, host->ns->zones, &host->ns->nzones, now);
		nz = host->ns->nzones;
		memcpy(zones, host->ns->zones, nz * sizeof(zones[0]));
		for (j = 0; j < nz; j++)
			dw_wl_name_ref(zones[j].zone);
		dw_wl_name_ref(host);
		aexp = now + dw_wl_clamp_ttl(wl, rr->ttl);
		for (j = 0; j < nz; j++) {
			time_t exp = zones[j].expires < aexp ? zones[j].expires : aexp;
			exp = now + dw_wl_clamp_ttl(wl, (int64_t)(exp - now));
			rc = max_rc(rc, dw_wl_entry_learn(wl, &rr->addr, zones[j].zone, exp, host,
			                                  src, now));
		}
		for (j = 0; j < nz; j++)
			dw_wl_name_unref(wl, zones[j].zone);
		dw_wl_name_unref(wl, host);
	}
	for (i = 0; i < nns; i++)
		dw_wl_name_unref(wl, nsnames[i]);
	if (u->zone[0] != '\0')
		rc = max_rc(rc, learn_query(wl, &u->server, u->zone, sizeof(u->zone), now));
	return rc;
}

int dw_whitelist_learn(struct dw_whitelist *wl, const struct dw_upstream *u, time_t now)
{
	int rc;

	if (wl == NULL || u == NULL)
		return 0;
	if (now > wl->now)
		wl->now = now;
	if (u->kind == DW_UP_QUERY) {
		wl->st.queries++;
		rc = learn_query(wl, &u->server, u->zone, sizeof(u->zone), now);
	} else if (u->kind == DW_UP_RESPONSE) {
		wl->st.responses++;
		rc = learn_response(wl, u, now);
	} else {
		wl->st.rejected++;
		return 0;
	}
	dw_wl_enforce_budget(wl);
	return rc;
}
