/**
 * \file
 * Publishing and peers' zones found in unbound.conf (unbound_fleet.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <stdlib.h>

#include "services/authzone.h"
#include "services/rpz.h"
#include "sldns/rrdef.h"
#include "sldns/str2wire.h"
#include "util/config_file.h"
#include "util/locks.h"
#include "util/module.h"
#include "util/rbtree.h"
#include "util/storage/dnstree.h"

#include "fleet.h"
#include "unbound_fleet.h"

/** The rpz: or auth-zone: clause named zone (final dot optional), or NULL. */
static struct config_auth *find_clause(struct config_file *cfg, const char *zone)
{
	struct config_auth *a;
	size_t zl = strlen(zone);
	if (zl && zone[zl - 1] == '.')
		zl--;
	for (a = cfg->auths; a; a = a->next) {
		size_t al;
		if (!a->name)
			continue;
		al = strlen(a->name);
		if (al && a->name[al - 1] == '.')
			al--;
		if (al == zl && strncasecmp(a->name, zone, zl) == 0)
			return a;
	}
	return NULL;
}

/** The clause's zonefile as Unbound opens it (chroot prefix removed), or NULL. */
static const char *zonefile_of(const struct config_file *cfg, const struct config_auth *a)
{
	const char *z = a ? a->zonefile : NULL;
	if (!z || !z[0])
		return NULL;
	if (cfg->chrootdir && cfg->chrootdir[0] &&
	    strncmp(z, cfg->chrootdir, strlen(cfg->chrootdir)) == 0)
		z += strlen(cfg->chrootdir);
	return z;
}

/** The prefix an address-tree node stands for. 0, or -1 for another family. */
static int node_cidr(const struct addr_tree_node *n, struct dw_cidr *c)
{
	memset(c, 0, sizeof(*c));
	if (n->addr.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&n->addr;
		c->addr.family = 4;
		memcpy(c->addr.b, &in->sin_addr, 4);
	} else if (n->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&n->addr;
		c->addr.family = 6;
		memcpy(c->addr.b, &in6->sin6_addr, 16);
	} else {
		return -1;
	}
	c->len = (uint8_t)n->net;
	return 0;
}

/**
 * After a peer's zone file changed (module's thread): drop from Unbound's
 * trigger tree of that zone the client-ip triggers the new version withdrew.
 * Unbound 1.17's rpz_remove_rr() ignores client-ip triggers, so an IXFR that
 * deletes one changes the zone data (and the file Unbound writes) but leaves
 * the trigger enforced. Locks as the rpz backend takes
 * them: auth zones (read), the zone (write), its client set (write). The
 * removed nodes' memory stays in the set's region until Unbound replaces
 * the set (a reload or a full transfer).
 */
static void prune_peer(void *arg, const struct dw_peer_view *v)
{
	struct auth_zones *az = arg;
	uint8_t nm[LDNS_MAX_DOMAINLEN + 1];
	size_t nmlen = sizeof(nm), n = 0, cap = 0, i;
	struct auth_zone *z;
	struct clientip_synthesized_rrset *set;
	struct addr_tree_node *node, **gone = NULL;
	if (!az || sldns_str2wire_dname_buf(v->zone, nm, &nmlen) != 0)
		return;
	lock_rw_rdlock(&az->lock);
	z = auth_zone_find(az, nm, nmlen, LDNS_RR_CLASS_IN);
	if (!z) {
		lock_rw_unlock(&az->lock);
		return;
	}
	lock_rw_wrlock(&z->lock);
	if (z->rpz && z->rpz->client_set && !z->zone_deleted) {
		set = z->rpz->client_set;
		lock_rw_wrlock(&set->lock);
		RBTREE_FOR(node, struct addr_tree_node *, &set->entries)
		{
			struct dw_cidr c;
			if (node_cidr(node, &c) != 0 || !v->withdrawn(v->ctx, &c))
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct addr_tree_node **g = realloc(gone, ncap * sizeof(*g));
				if (!g)
					break;
				gone = g;
				cap = ncap;
			}
			gone[n++] = node;
		}
		for (i = 0; i < n; i++) {
			struct clientip_synthesized_rr *r = (struct clientip_synthesized_rr *)gone[i];
			(void)rbtree_delete(&set->entries, gone[i]->node.key);
			lock_rw_destroy(&r->lock);
		}
		if (n)
			addr_tree_init_parents(&set->entries);
		lock_rw_unlock(&set->lock);
	}
	lock_rw_unlock(&z->lock);
	lock_rw_unlock(&az->lock);
	free(gone);
}

int dw_unbound_fleet_setup(struct dw_engine *e, struct module_env *env, const struct dw_conf *conf,
                           int rpz_backend, void (*warn)(void *arg, const char *line), void *arg,
                           char *err, size_t errlen)
{
	const char *zone = conf->rpz_zone && conf->rpz_zone[0] ? conf->rpz_zone : "dnswarden.rpz.";
	struct config_auth *own = find_clause(env->cfg, zone);
	const char *own_file = own && own->isrpz ? zonefile_of(env->cfg, own) : NULL;
	const char *pub = conf->publish_zonefile;
	char line[1200];
	size_t i;
	int rc = 0;

	if (rpz_backend && own_file) {
		/* Unbound loads this file: every active block before the first query */
		rc = dw_engine_publish(e, zone, own_file, 1, err, errlen);
	} else {
		/* the hook enforces: Unbound must find its file, with no triggers
		 * that would outlive an unblock */
		if (own_file && (!pub || strcmp(own_file, pub) != 0))
			rc = dw_engine_publish(e, zone, own_file, 0, err, errlen);
		if (rc == 0 && pub && pub[0])
			rc = dw_engine_publish(e, zone, pub, 1, err, errlen);
	}
	if (conf->fleet_peer_count)
		dw_engine_on_peer_read(e, prune_peer, env->auth_zones);
	for (i = 0; i < conf->fleet_peer_count; i++) {
		char name[300];
		struct config_auth *a;
		const char *file;
		snprintf(name, sizeof(name), "%s.", conf->fleet_peers[i]);
		a = find_clause(env->cfg, name);
		file = zonefile_of(env->cfg, a);
		if (!a || !a->isrpz || !file) {
			snprintf(line, sizeof(line),
			         "dnswarden: event=config_warning key=fleet.peers zone=%s error=\"%s\"",
			         name,
			         !a || !a->isrpz ? "no 'rpz:' clause of that name in unbound.conf"
			                         : "its rpz: clause has no zonefile: (Unbound keeps "
			                           "the transferred zone there)");
			warn(arg, line);
			continue;
		}
		if (find_clause(env->cfg, zone) == a) {
			snprintf(line, sizeof(line),
			         "dnswarden: event=config_warning key=fleet.peers zone=%s error=\"that "
			         "is this resolver's own rpz_zone\"",
			         name);
			warn(arg, line);
			continue;
		}
		if (dw_engine_add_peer(e, name, file, err, errlen) != 0)
			return -1;
	}
	return rc;
}
