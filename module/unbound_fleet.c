/**
 * \file
 * Publishing and peers' zones found in unbound.conf (unbound_fleet.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/config_file.h"
#include "util/module.h"

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
