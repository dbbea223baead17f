/**
 * \file
 * Domain blocks as RPZ QNAME triggers (unbound_rpz_domains.h).
 *
 * Facts about Unbound 1.17.1 it relies on (services/rpz.c, checked against
 * the source):
 * - A QNAME trigger lives in r->local_zones as a local zone named after the
 *   trigger's owner without the RPZ zone's name ("evil.example" and
 *   "*.evil.example"), typed after its action (always_nxdomain,
 *   always_nodata, always_deny for drop, always_transparent with local data
 *   for a sinkhole). rpz_insert_rr() adds one at run time.
 * - Workers look qname triggers up in rpz_callback_from_worker_request()
 *   and the iterator's CNAME callbacks holding the auth zone's lock (read)
 *   and r->local_zones' lock: holding the zone's write lock excludes them.
 * - rpz_insert_rr() skips a trigger whose local zone exists already (no
 *   replacement), and rpz_remove_rr() removes one only when the action it is
 *   given matches: we remove the local zones ourselves
 *   (local_zones_del_zone(), which frees them) before inserting.
 * - A zonefile reload (unbound-control reload, auth_zone_reload) calls
 *   rpz_clear(), which rebuilds r->local_zones from the file: the file
 *   holds our triggers (engine_fleet.c writes them), so nothing is lost.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/authzone.h"
#include "services/localzone.h"
#include "services/rpz.h"
#include "sldns/rrdef.h"
#include "sldns/str2wire.h"
#include "util/config_file.h"
#include "util/data/dname.h"
#include "util/locks.h"
#include "util/module.h"

#include "engine.h"
#include "unbound_rpz_domains.h"
#include "unbound_rpz.h"

/** Longest RR in wire format we build. */
#define RR_MAX 600
/** TTL of the triggers' records (as the zone file's). */
#define TTL 60

/** The adapter's state (b->ctx). Module thread only. */
struct dw_rpz_domains {
	struct auth_zones *az;
	uint8_t zname[LDNS_MAX_DOMAINLEN + 1];
	size_t znamelen;
	char ztext[DW_CONF_MAX_NAME + 2];
};

/** Find the zone and write-lock it (az->lock read too); NULL when not
 *  loaded. */
static struct auth_zone *zone_lock(const struct dw_rpz_domains *p)
{
	struct auth_zone *z;
	lock_rw_rdlock(&p->az->lock);
	z = auth_zone_find(p->az, (uint8_t *)p->zname, p->znamelen, LDNS_RR_CLASS_IN);
	if (z) {
		lock_rw_wrlock(&z->lock);
		if (z->rpz && z->rpz->local_zones && !z->zone_deleted)
			return z;
		lock_rw_unlock(&z->lock);
	}
	lock_rw_unlock(&p->az->lock);
	return NULL;
}

static void zone_unlock(const struct dw_rpz_domains *p, struct auth_zone *z)
{
	lock_rw_unlock(&z->lock);
	lock_rw_unlock(&p->az->lock);
}

/** The local zone of a trigger name (text, relative to nothing: "x.example"
 *  or "*.x.example") in lz, or NULL. Caller holds lz's lock. */
static struct local_zone *lz_find(struct local_zones *lz, const char *name)
{
	uint8_t wire[LDNS_MAX_DOMAINLEN + 1];
	size_t len = sizeof(wire);
	char abs[LDNS_MAX_DOMAINLEN + 2];
	snprintf(abs, sizeof(abs), "%s.", name);
	if (sldns_str2wire_dname_buf(abs, wire, &len) != 0)
		return NULL;
	return local_zones_find(lz, wire, len, dname_count_labels(wire), LDNS_RR_CLASS_IN);
}

/** Remove the triggers of domain (both names); zone write-locked. */
static void remove_triggers(struct rpz *r, const char *domain)
{
	char wc[LDNS_MAX_DOMAINLEN + 3];
	const char *names[2];
	int i;
	snprintf(wc, sizeof(wc), "*.%s", domain);
	names[0] = domain;
	names[1] = wc;
	lock_rw_wrlock(&r->local_zones->lock);
	for (i = 0; i < 2; i++) {
		struct local_zone *z = lz_find(r->local_zones, names[i]);
		if (z)
			local_zones_del_zone(r->local_zones, z);
	}
	lock_rw_unlock(&r->local_zones->lock);
}

/** Insert one RR given as text; 0 or -1. Zone write-locked. */
static int insert_rr(const struct dw_rpz_domains *p, struct rpz *r, const char *text)
{
	uint8_t rr[RR_MAX];
	size_t len = sizeof(rr), dl = 0;
	if (sldns_str2wire_rr_buf(text, rr, &len, &dl, TTL, NULL, 0, NULL, 0) != 0)
		return -1;
	return rpz_insert_rr(r, (uint8_t *)p->zname, p->znamelen, rr, dl,
	                     sldns_wirerr_get_type(rr, len, dl),
	                     sldns_wirerr_get_class(rr, len, dl), sldns_wirerr_get_ttl(rr, len, dl),
	                     sldns_wirerr_get_rdatawl(rr, len, dl),
	                     sldns_wirerr_get_rdatalen(rr, len, dl) + 2, rr, len)
	           ? 0
	           : -1;
}

static int op_set(void *ctx, const char *domain, enum dw_action action, const struct dw_conf *conf,
                  char *err, size_t errlen)
{
	struct dw_rpz_domains *p = ctx;
	struct auth_zone *z;
	const char *cname = NULL;
	char text[2 * LDNS_MAX_DOMAINLEN + 128], a4[64] = "", a6[64] = "";
	int w, bad = 0, found;

	switch (action) {
	case DW_ACT_NXDOMAIN:
		cname = ".";
		break;
	case DW_ACT_NODATA:
		cname = "*.";
		break;
	case DW_ACT_DROP:
		cname = "rpz-drop.";
		break;
	case DW_ACT_SINKHOLE:
		if (conf && conf->sinkhole_v4.family == 4)
			dw_addr_format(&conf->sinkhole_v4, a4, sizeof(a4));
		if (conf && conf->sinkhole_v6.family == 6)
			dw_addr_format(&conf->sinkhole_v6, a6, sizeof(a6));
		if (!a4[0] && !a6[0]) {
			snprintf(err, errlen, "sinkhole needs sinkhole.ipv4 or sinkhole.ipv6");
			return -1;
		}
		break;
	default:
		snprintf(err, errlen, "no QNAME trigger for action %d", (int)action);
		return -1;
	}
	z = zone_lock(p);
	if (!z) {
		snprintf(err, errlen, "RPZ zone %s is not loaded", p->ztext);
		return DW_DOMAIN_NOT_READY;
	}
	remove_triggers(z->rpz, domain);
	for (w = 0; w < 2 && !bad; w++) {
		const char *pre = w ? "*." : "";
		if (cname) {
			snprintf(text, sizeof(text), "%s%s.%s %d IN CNAME %s", pre, domain,
			         p->ztext, TTL, cname);
			bad |= insert_rr(p, z->rpz, text) != 0;
			continue;
		}
		if (a4[0]) {
			snprintf(text, sizeof(text), "%s%s.%s %d IN A %s", pre, domain, p->ztext,
			         TTL, a4);
			bad |= insert_rr(p, z->rpz, text) != 0;
		}
		if (a6[0]) {
			snprintf(text, sizeof(text), "%s%s.%s %d IN AAAA %s", pre, domain, p->ztext,
			         TTL, a6);
			bad |= insert_rr(p, z->rpz, text) != 0;
		}
	}
	lock_rw_rdlock(&z->rpz->local_zones->lock);
	found = lz_find(z->rpz->local_zones, domain) != NULL;
	lock_rw_unlock(&z->rpz->local_zones->lock);
	if (bad || !found)
		remove_triggers(z->rpz, domain);
	zone_unlock(p, z);
	if (bad || !found) {
		snprintf(err, errlen, "Unbound did not take the QNAME trigger for %s in %s", domain,
		         p->ztext);
		return -1;
	}
	return 0;
}

static int op_clear(void *ctx, const char *domain, char *err, size_t errlen)
{
	struct dw_rpz_domains *p = ctx;
	struct auth_zone *z = zone_lock(p);
	(void)err, (void)errlen;
	if (!z)
		return 0; /* no zone, nothing enforces it */
	remove_triggers(z->rpz, domain);
	zone_unlock(p, z);
	return 0;
}

int dw_rpz_domains_init(struct dw_domain_backend *b, struct module_env *env,
                        const struct dw_conf *conf, char *err, size_t errlen)
{
	struct dw_rpz_domains *p;
	struct config_auth *a;

	memset(b, 0, sizeof(*b));
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->znamelen = sizeof(p->zname);
	if (dw_unbound_rpz_find(env, conf, p->ztext, sizeof(p->ztext), p->zname, &p->znamelen, &a,
	                        "", err, errlen) != 0) {
		free(p);
		return -1;
	}
	if (!a || !a->isrpz) {
		snprintf(err, errlen,
		         "detectors.dns_tunnel.domain_action needs 'rpz: name: %s' in unbound.conf "
		         "(and respip in module-config): domain blocks are RPZ QNAME triggers",
		         p->ztext);
		free(p);
		return -1;
	}
	p->az = env->auth_zones;
	b->ctx = p;
	b->set = op_set;
	b->clear = op_clear;
	return 0;
}

void dw_rpz_domains_free(struct dw_domain_backend *b)
{
	if (!b)
		return;
	free(b->ctx);
	memset(b, 0, sizeof(*b));
}

/** Add name to the list unless it is the root (a root forward-zone is not
 *  a zone of ours). */
static int add_name(const char ***list, size_t *n, size_t *cap, const char *name)
{
	if (!name || !name[0] || strcmp(name, ".") == 0)
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		const char **nl = realloc(*list, nc * sizeof(*nl));
		if (!nl)
			return -1;
		*list = nl;
		*cap = nc;
	}
	(*list)[(*n)++] = name;
	return 0;
}

int dw_rpz_domains_protect(struct dw_engine *e, struct module_env *env)
{
	const char **list = NULL;
	size_t n = 0, cap = 0;
	struct config_stub *s;
	struct config_auth *a;
	int rc = 0;
	if (!env || !env->cfg)
		return 0;
	for (s = env->cfg->stubs; s && rc == 0; s = s->next)
		rc = add_name(&list, &n, &cap, s->name);
	for (s = env->cfg->forwards; s && rc == 0; s = s->next)
		rc = add_name(&list, &n, &cap, s->name);
	for (a = env->cfg->auths; a && rc == 0; a = a->next)
		if (!a->isrpz)
			rc = add_name(&list, &n, &cap, a->name);
	if (rc == 0)
		rc = dw_engine_protect_domains(e, list, n);
	free(list);
	return rc;
}
