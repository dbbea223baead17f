/**
 * \file
 * The `rpz` enforcement backend (see unbound_rpz.h): client-ip triggers of
 * Unbound's RPZ zone kept equal to dnswarden's block list.
 *
 * Facts about Unbound 1.17.1 it relies on (services/rpz.c, services/authzone.c,
 * checked against the source; see also HACKING.md, "Unbound facts the adapter relies on"):
 * - A worker reads a zone's client-ip triggers only inside
 *   rpz_callback_from_worker_request(), holding az->rpz_lock and the zone's
 *   lock (read) from the lookup of r->client_set until the answer is encoded.
 *   Holding the zone's write lock therefore excludes every reader of
 *   r->client_set and of its nodes; nothing else reads client_set.
 * - rpz_insert_rr() accepts run-time insertions (it takes the set's and the
 *   node's locks itself); for a client-ip trigger it touches nothing of the
 *   struct rpz but r->client_set. Its return value does not say whether the
 *   client-ip trigger went in, so we look the node up afterwards.
 * - rpz_remove_rr() ignores client-ip triggers: we unlink the node from
 *   r->client_set->entries ourselves. Its memory lives in the set's region,
 *   which never frees: it is reclaimed only by replacing the whole set.
 * - Inserting onto an existing node overwrites the action but prepends
 *   local data (A/AAAA) to what is there: always remove first.
 * - addr_tree_lookup() climbs parent pointers only when the closest smaller
 *   node does not contain the client; with one prefix length per family (the
 *   block list's /32 and /ipv6_prefix keys) no node contains another, so
 *   parents are never climbed. When lengths are mixed we re-init the parents
 *   after each change (rpz_finish_config(), O(triggers)).
 * - A zonefile reload (unbound-control reload with a zonefile,
 *   auth_zone_reload, a zone transfer) calls rpz_clear(), which frees
 *   r->client_set and puts a new one in its place: our triggers are gone.
 *   Without a zonefile, `unbound-control reload` keeps the zone and its
 *   run-time triggers (auth_zone_read_zonefile() returns early). We notice a
 *   replaced set and put our triggers back.
 * - Lock order: az->rpz_lock, az->lock, zone lock, set lock, node lock. We take
 *   az->lock (read) for the whole operation so the zone cannot be deleted
 *   under us, then the zone's lock.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/authzone.h"
#include "services/rpz.h"
#include "sldns/rrdef.h"
#include "sldns/str2wire.h"
#include "util/config_file.h"
#include "util/data/dname.h"
#include "util/locks.h"
#include "util/module.h"
#include "util/rbtree.h"
#include "util/regional.h"
#include "util/storage/dnstree.h"

#include "rpzfile.h"
#include "unbound_rpz.h"

/** Rebuild the client set inline once the removed triggers outnumber both
 *  this and the live ones: a rebuild costs O(live), so each change pays O(1)
 *  for it, and the waste stays below max(this, live) triggers. (A build may
 *  raise it to see the waste without reclaim.) */
#ifndef DW_RPZ_COMPACT_AT
#define DW_RPZ_COMPACT_AT 4096
#endif
/** maintain() rebuilds when the waste reaches 1/this of the live triggers. */
#define MAINTAIN_FRACTION 8
/** TTL of sinkhole answers: short, so stubs forget them soon after an unblock. */
#define SINKHOLE_TTL 60
/** Longest RR in wire format we build: owner (<= 255) + fixed part + rdata. */
#define RR_MAX 600

/** One entry of the backend's table: what we have set for a client. */
struct entry {
	struct dw_cidr key;
	uint8_t action; /**< enum dw_action; DW_ACT_LOG marks a free slot */
};

/** The backend's state (b->ctx). Touched by the module's thread only. */
struct dw_rpz {
	struct auth_zones *az;
	uint8_t zname[LDNS_MAX_DOMAINLEN + 1]; /**< zone name, wire format */
	size_t znamelen;
	char ztext[DW_CONF_MAX_NAME + 2]; /**< zone name, text with the final dot */

	/* open addressing, linear probing, backward-shift deletion */
	struct entry *tab;
	size_t cap; /**< power of two, 0 before the first set */
	size_t count;

	struct dw_addr sink4, sink6; /**< sinkhole answers (latest config) */
	uint8_t v6len;               /**< the IPv6 key length we expect */
	int mixed;                   /**< a trigger of another length was set */

	uintptr_t seen_set;   /**< the client set we last wrote to (its address) */
	size_t left_count;    /**< its number of triggers when we left it */
	struct dw_cidr probe; /**< a client we set, to tell a replaced set */
	int have_probe;
	size_t orphaned; /**< removed nodes still in seen_set's region */

	uint64_t sets, clears, rebuilds, restores;
};

/** The RRs of one trigger in wire format. */
struct trigger {
	int n;
	struct {
		uint8_t rr[RR_MAX];
		size_t len, dname_len;
	} rr[2];
};

/* ------------------------------------------------------------------------ */
/* The backend's table                                                      */

/** FNV-1a of a prefix key. */
static size_t key_hash(const struct dw_cidr *k)
{
	uint64_t h = 1469598103934665603ull;
	size_t i, n = k->addr.family == 4 ? 4 : 16;
	h = (h ^ k->addr.family) * 1099511628211ull;
	h = (h ^ k->len) * 1099511628211ull;
	for (i = 0; i < n; i++)
		h = (h ^ k->addr.b[i]) * 1099511628211ull;
	return (size_t)h;
}

static int key_equal(const struct dw_cidr *a, const struct dw_cidr *b)
{
	return a->len == b->len && dw_addr_equal(&a->addr, &b->addr);
}

/** The slot of k, or of the free slot where it would go. cap must be > 0. */
static size_t slot_of(const struct dw_rpz *p, const struct dw_cidr *k)
{
	size_t i = key_hash(k) & (p->cap - 1);
	while (p->tab[i].action != DW_ACT_LOG && !key_equal(&p->tab[i].key, k))
		i = (i + 1) & (p->cap - 1);
	return i;
}

/** Grow to twice the size (or 64). -1 on ENOMEM. */
static int shadow_grow(struct dw_rpz *p)
{
	size_t i, ncap = p->cap ? p->cap * 2 : 64;
	struct entry *old = p->tab;
	size_t ocap = p->cap;
	struct entry *nt = calloc(ncap, sizeof(*nt)); /* action 0 = DW_ACT_LOG = free */
	if (!nt)
		return -1;
	p->tab = nt;
	p->cap = ncap;
	for (i = 0; i < ocap; i++)
		if (old[i].action != DW_ACT_LOG)
			p->tab[slot_of(p, &old[i].key)] = old[i];
	free(old);
	return 0;
}

/** Insert or replace. -1 on ENOMEM. */
static int shadow_put(struct dw_rpz *p, const struct dw_cidr *k, enum dw_action a)
{
	size_t i;
	if ((p->count + 1) * 10 > p->cap * 7 && shadow_grow(p) != 0)
		return -1;
	i = slot_of(p, k);
	if (p->tab[i].action == DW_ACT_LOG)
		p->count++;
	p->tab[i].key = *k;
	p->tab[i].action = (uint8_t)a;
	return 0;
}

/** Remove k if present (backward-shift deletion keeps probe chains intact). */
static void shadow_del(struct dw_rpz *p, const struct dw_cidr *k)
{
	size_t i, j;
	if (p->cap == 0)
		return;
	i = slot_of(p, k);
	if (p->tab[i].action == DW_ACT_LOG)
		return;
	p->tab[i].action = DW_ACT_LOG;
	p->count--;
	for (j = (i + 1) & (p->cap - 1); p->tab[j].action != DW_ACT_LOG;
	     j = (j + 1) & (p->cap - 1)) {
		size_t h = key_hash(&p->tab[j].key) & (p->cap - 1);
		/* move j back into the hole at i unless its home lies in (i, j] */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			p->tab[i] = p->tab[j];
			p->tab[j].action = DW_ACT_LOG;
			i = j;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Triggers in RPZ form                                                     */

/**
 * The client-ip trigger label of a prefix, as rpz.c's netblockdnametoaddr()
 * parses it: "32.3.2.1.10" for 10.1.2.3/32, "64.zz.2.1.db8.2001" for
 * 2001:db8:1:2::/64 (hextets in reverse order, the longest run of zero hextets
 * written "zz").
 * \return 0, or -1 for a prefix no trigger can express.
 */
static int trigger_label(const struct dw_cidr *c, char *buf, size_t len)
{
	return dw_rpz_label(c, buf, len); /* the zone file writes the same labels */
}

/** One RR from text into t's next slot. */
static int add_rr(struct trigger *t, const char *text)
{
	size_t len = sizeof(t->rr[0].rr), dlen = 0;
	if (t->n >= 2)
		return -1;
	if (sldns_str2wire_rr_buf(text, t->rr[t->n].rr, &len, &dlen, SINKHOLE_TTL, NULL, 0, NULL,
	                          0) != 0)
		return -1;
	t->rr[t->n].len = len;
	t->rr[t->n].dname_len = dlen;
	t->n++;
	return 0;
}

/** The RRs that make Unbound do action to client. 0, or -1 with err
 *  (DW_BACKEND_PERMANENT when no retry can succeed). */
static int build_trigger(const struct dw_rpz *p, const struct dw_cidr *client,
                         enum dw_action action, struct trigger *t, char *err, size_t errlen)
{
	char label[64], owner[64 + sizeof(p->ztext) + 16], text[sizeof(owner) + 128];
	char addr[DW_ADDR_STRLEN];
	const char *cname = NULL;

	t->n = 0;
	if (trigger_label(client, label, sizeof(label)) != 0) {
		snprintf(err, errlen, "rpz backend: cannot express client prefix (family %u, /%u)",
		         client->addr.family, client->len);
		return DW_BACKEND_PERMANENT;
	}
	snprintf(owner, sizeof(owner), "%s.rpz-client-ip.%s", label, p->ztext);
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
	case DW_ACT_TCP_ONLY:
		cname = "rpz-tcp-only.";
		break;
	case DW_ACT_SINKHOLE:
		if (p->sink4.family == 4) {
			dw_addr_format(&p->sink4, addr, sizeof(addr));
			snprintf(text, sizeof(text), "%s %d IN A %s", owner, SINKHOLE_TTL, addr);
			if (add_rr(t, text) != 0)
				goto bad;
		}
		if (p->sink6.family == 6) {
			dw_addr_format(&p->sink6, addr, sizeof(addr));
			snprintf(text, sizeof(text), "%s %d IN AAAA %s", owner, SINKHOLE_TTL, addr);
			if (add_rr(t, text) != 0)
				goto bad;
		}
		if (t->n == 0) {
			snprintf(err, errlen,
			         "rpz backend: sinkhole needs sinkhole.ipv4 or sinkhole.ipv6");
			return DW_BACKEND_PERMANENT;
		}
		return 0;
	case DW_ACT_REFUSE:
		snprintf(
		    err, errlen,
		    "the rpz backend cannot answer REFUSED (RPZ has no such action): use "
		    "nxdomain, nodata, sinkhole, drop or tcp-only, or the hook backend "
		    "(enforcement: hook, an Unbound built with tools/dev/build-unbound --patched)");
		return DW_BACKEND_PERMANENT;
	default:
		snprintf(err, errlen, "rpz backend: no trigger for action %d", (int)action);
		return DW_BACKEND_PERMANENT;
	}
	snprintf(text, sizeof(text), "%s 3600 IN CNAME %s", owner, cname);
	if (add_rr(t, text) == 0)
		return 0;
bad:
	snprintf(err, errlen, "rpz backend: cannot build the trigger for %s", owner);
	return -1;
}

/** The sockaddr Unbound's address tree keys a prefix with. */
static socklen_t to_sockaddr(const struct dw_cidr *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->addr.family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->addr.b, 4);
		return (socklen_t)sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->addr.b, 16);
		return (socklen_t)sizeof(*s6);
	}
}

/** The trigger node of c in set, or NULL. Caller holds the zone's lock. */
static struct clientip_synthesized_rr *node_find(struct clientip_synthesized_rrset *set,
                                                 const struct dw_cidr *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(c, &ss);
	return (struct clientip_synthesized_rr *)addr_tree_find(&set->entries, &ss, sl, c->len);
}

/** Unlink c's trigger from set; 1 when there was one. Caller holds the
 *  zone's write lock, so no worker holds the node; its memory stays in the
 *  region until the set is replaced. */
static int node_remove(struct clientip_synthesized_rrset *set, const struct dw_cidr *c)
{
	struct clientip_synthesized_rr *node;
	lock_rw_wrlock(&set->lock);
	node = node_find(set, c);
	if (node)
		(void)rbtree_delete(&set->entries, node->node.node.key);
	lock_rw_unlock(&set->lock);
	if (!node)
		return 0;
	lock_rw_destroy(&node->lock);
	return 1;
}

/** Insert t into r (r->client_set, or a private set for a rebuild). */
static void insert_trigger(const struct dw_rpz *p, struct rpz *r, struct trigger *t)
{
	int i;
	for (i = 0; i < t->n; i++) {
		uint8_t *rr = t->rr[i].rr;
		size_t len = t->rr[i].len, dl = t->rr[i].dname_len;
		(void)rpz_insert_rr(
		    r, (uint8_t *)p->zname, p->znamelen, rr, dl, sldns_wirerr_get_type(rr, len, dl),
		    sldns_wirerr_get_class(rr, len, dl), sldns_wirerr_get_ttl(rr, len, dl),
		    sldns_wirerr_get_rdatawl(rr, len, dl),
		    sldns_wirerr_get_rdatalen(rr, len, dl) + 2, rr, len);
	}
}

/** The rpz action a trigger for action must carry. */
static enum rpz_action rpz_action_of(enum dw_action a)
{
	switch (a) {
	case DW_ACT_NXDOMAIN:
		return RPZ_NXDOMAIN_ACTION;
	case DW_ACT_NODATA:
		return RPZ_NODATA_ACTION;
	case DW_ACT_DROP:
		return RPZ_DROP_ACTION;
	case DW_ACT_TCP_ONLY:
		return RPZ_TCP_ONLY_ACTION;
	case DW_ACT_SINKHOLE:
		return RPZ_LOCAL_DATA_ACTION;
	default:
		return RPZ_INVALID_ACTION;
	}
}

/** Did the trigger for c go in with action (and, for local data, its RRs)? */
static int node_is(struct clientip_synthesized_rrset *set, const struct dw_cidr *c,
                   enum dw_action action, int nrr)
{
	struct clientip_synthesized_rr *node = node_find(set, c);
	const struct local_rrset *d;
	int n = 0;
	if (!node || node->action != rpz_action_of(action))
		return 0;
	for (d = node->data; d; d = d->next)
		n++;
	return action == DW_ACT_SINKHOLE ? n == nrr : 1;
}

/* ------------------------------------------------------------------------ */
/* The zone                                                                 */

/** Find the zone and lock it (write or read), az->lock held (read) too.
 *  NULL when the zone is not there (not loaded yet, or removed). */
static struct auth_zone *zone_lock(const struct dw_rpz *p, int write)
{
	struct auth_zone *z;
	lock_rw_rdlock(&p->az->lock);
	z = auth_zone_find(p->az, (uint8_t *)p->zname, p->znamelen, LDNS_RR_CLASS_IN);
	if (z) {
		if (write)
			lock_rw_wrlock(&z->lock);
		else
			lock_rw_rdlock(&z->lock);
		if (z->rpz && z->rpz->client_set && !z->zone_deleted)
			return z;
		lock_rw_unlock(&z->lock);
	}
	lock_rw_unlock(&p->az->lock);
	return NULL;
}

static void zone_unlock(const struct dw_rpz *p, struct auth_zone *z)
{
	lock_rw_unlock(&z->lock);
	lock_rw_unlock(&p->az->lock);
}

/** Has Unbound replaced the client set we wrote to (zone reloaded)? Caller
 *  holds the zone's lock. rpz_clear() frees the old set and callocs the new
 *  one at once, so the new one often has the old one's address: the number
 *  of triggers and a client we set are checked too. */
static int was_wiped(const struct dw_rpz *p, struct rpz *r)
{
	int gone;
	if (!p->seen_set)
		return 0; /* never wrote: nothing of ours to lose */
	if ((uintptr_t)r->client_set != p->seen_set)
		return 1;
	lock_rw_rdlock(&r->client_set->lock);
	gone = r->client_set->entries.count != p->left_count ||
	       (p->have_probe && node_find(r->client_set, &p->probe) == NULL);
	lock_rw_unlock(&r->client_set->lock);
	return gone;
}

/** Does the set hold a trigger of another length than the block list's
 *  (one that may contain another)? One walk, O(triggers). */
static int set_has_odd_length(const struct dw_rpz *p, struct clientip_synthesized_rrset *set)
{
	struct addr_tree_node *n;
	int odd = 0;
	lock_rw_rdlock(&set->lock);
	RBTREE_FOR(n, struct addr_tree_node *, &set->entries)
	{
		int v6 = n->addr.ss_family == AF_INET6;
		if (n->net != (v6 ? p->v6len : 32)) {
			odd = 1;
			break;
		}
	}
	lock_rw_unlock(&set->lock);
	return odd;
}

/** Before the first change to a set we have not written yet (Unbound loaded
 *  the zone file, or a new instance after a reload finds the previous one's
 *  triggers): when its nodes may nest, parents are kept right until the next
 *  rebuild. The zone file holds only the block list's lengths, so usually
 *  they cannot. Zone write-locked. */
static void first_contact(struct dw_rpz *p, struct rpz *r)
{
	if (p->seen_set != (uintptr_t)r->client_set && r->client_set->entries.count > 0 &&
	    set_has_odd_length(p, r->client_set))
		p->mixed = 1;
}

/** Remember the set as we leave it. Zone write-locked. */
static void leave(struct dw_rpz *p, struct rpz *r)
{
	p->seen_set = (uintptr_t)r->client_set;
	p->left_count = r->client_set->entries.count;
}

/** Re-link parent pointers when prefixes of different lengths may nest.
 *  Caller holds the zone's write lock. */
static void fix_parents(const struct dw_rpz *p, struct rpz *r)
{
	if (p->mixed)
		rpz_finish_config(r);
}

/** Free a client set no worker can reach any more (same steps as rpz.c's
 *  static rpz_clientip_synthesized_set_delete()). */
static void node_lock_destroy(rbnode_type *n, void *arg)
{
	struct clientip_synthesized_rr *node = (struct clientip_synthesized_rr *)n->key;
	(void)arg;
	lock_rw_destroy(&node->lock);
}

static void set_delete(struct clientip_synthesized_rrset *set)
{
	if (!set)
		return;
	lock_rw_destroy(&set->lock);
	traverse_postorder(&set->entries, node_lock_destroy, NULL);
	regional_destroy(set->region);
	free(set);
}

/**
 * Replace the zone's client set by a fresh one holding exactly our table:
 * reclaims removed triggers' memory, drops triggers we did not set, and puts
 * ours back after Unbound wiped them. The new set is filled off-lock (through
 * rpz_insert_rr() on a private struct rpz whose only member in use is
 * client_set); the zone's write lock is held only for the pointer swap.
 * \return 0, or -1 with err (the zone keeps its old set).
 */
static int rebuild(struct dw_rpz *p, char *err, size_t errlen)
{
	struct clientip_synthesized_rrset *set, *old = NULL;
	struct rpz scratch;
	struct auth_zone *z;
	size_t i, failed = 0;
	struct trigger t;
	char e2[256];

	set = calloc(1, sizeof(*set));
	if (!set || !(set->region = regional_create())) {
		free(set);
		snprintf(err, errlen, "rpz backend: out of memory");
		return -1;
	}
	addr_tree_init(&set->entries);
	lock_rw_init(&set->lock);
	memset(&scratch, 0, sizeof(scratch));
	scratch.client_set = set;
	for (i = 0; i < p->cap; i++) {
		const struct entry *en = &p->tab[i];
		if (en->action == DW_ACT_LOG)
			continue;
		if (build_trigger(p, &en->key, (enum dw_action)en->action, &t, e2, sizeof(e2)) !=
		    0) {
			failed++;
			continue;
		}
		insert_trigger(p, &scratch, &t);
		if (!node_is(set, &en->key, (enum dw_action)en->action, t.n))
			failed++;
	}
	addr_tree_init_parents(&set->entries);
	if (failed) {
		set_delete(set);
		snprintf(err, errlen, "rpz backend: %zu triggers could not be rebuilt", failed);
		return -1;
	}
	z = zone_lock(p, 1);
	if (!z) {
		set_delete(set);
		snprintf(err, errlen, "RPZ zone %s is not loaded", p->ztext);
		return -1;
	}
	old = z->rpz->client_set;
	z->rpz->client_set = set;
	leave(p, z->rpz);
	zone_unlock(p, z);
	/* no worker can reach old now: they find client_set under the zone's lock */
	set_delete(old);
	p->orphaned = 0;
	p->mixed = 0;
	p->rebuilds++;
	for (i = 0; i < p->cap; i++)
		if (p->tab[i].action != DW_ACT_LOG &&
		    p->tab[i].key.len != (p->tab[i].key.addr.family == 4 ? 32 : p->v6len))
			p->mixed = 1;
	return 0;
}

/** A prefix of the length the block list uses for its family? */
static int usual_length(const struct dw_rpz *p, const struct dw_cidr *c)
{
	return c->len == (c->addr.family == 4 ? 32 : p->v6len);
}

/** Remember c as the probe for was_wiped() (it is in the set now). */
static void set_probe(struct dw_rpz *p, const struct dw_cidr *c)
{
	p->probe = *c;
	p->have_probe = 1;
}

/** After c left the table: forget it as the probe (the next set() gives a
 *  new one; meanwhile the set's address and size still tell a wipe). */
static void reprobe(struct dw_rpz *p, const struct dw_cidr *c)
{
	if (p->have_probe && key_equal(&p->probe, c))
		p->have_probe = 0;
}

/** Time for an inline rebuild (see DW_RPZ_COMPACT_AT)? */
static int too_much_waste(const struct dw_rpz *p)
{
	return p->orphaned >= DW_RPZ_COMPACT_AT && p->orphaned >= p->count;
}

/* ------------------------------------------------------------------------ */
/* The backend ops                                                          */

/** ready(): the zone is loaded; puts our triggers back if Unbound wiped them. */
static int op_ready(void *ctx)
{
	struct dw_rpz *p = ctx;
	struct auth_zone *z = zone_lock(p, 0);
	int wiped;
	if (!z)
		return 0;
	wiped = was_wiped(p, z->rpz);
	zone_unlock(p, z);
	if (wiped) {
		char err[256];
		p->restores++;
		if (rebuild(p, err, sizeof(err)) != 0)
			return 0; /* the engine retries, and re-applies when we answer 1 */
	}
	return 1;
}

static int op_set(void *ctx, const struct dw_cidr *client, enum dw_action action,
                  const struct dw_conf *conf, char *err, size_t errlen)
{
	struct dw_rpz *p = ctx;
	struct auth_zone *z;
	struct rpz *r;
	struct trigger t;
	int ok;

	if (conf) {
		p->sink4 = conf->sinkhole_v4;
		p->sink6 = conf->sinkhole_v6;
		p->v6len = conf->ipv6_prefix;
	}
	if ((ok = build_trigger(p, client, action, &t, err, errlen)) != 0)
		return ok; /* -1, or DW_BACKEND_PERMANENT */
	if (shadow_put(p, client, action) != 0) {
		snprintf(err, errlen, "rpz backend: out of memory");
		return -1;
	}
	if (!usual_length(p, client))
		p->mixed = 1;
	z = zone_lock(p, 1);
	if (!z) {
		shadow_del(p, client);
		reprobe(p, client);
		snprintf(err, errlen, "RPZ zone %s is not loaded", p->ztext);
		return -1;
	}
	r = z->rpz;
	if (was_wiped(p, r)) {
		/* the zone was reloaded: all our triggers are gone, this one is in
		 * the table already; put them all back at once */
		zone_unlock(p, z);
		p->restores++;
		if (rebuild(p, err, errlen) != 0)
			return -1;
		p->sets++;
		set_probe(p, client);
		return 0;
	}
	first_contact(p, r);
	if (action != DW_ACT_SINKHOLE && node_is(r->client_set, client, action, t.n)) {
		/* already there (loaded from the zone file): nothing to change */
		leave(p, r);
		zone_unlock(p, z);
		p->sets++;
		set_probe(p, client);
		return 0;
	}
	if (node_remove(r->client_set, client))
		p->orphaned++;
	insert_trigger(p, r, &t);
	ok = node_is(r->client_set, client, action, t.n);
	if (!ok && node_remove(r->client_set, client))
		p->orphaned++;
	fix_parents(p, r);
	leave(p, r);
	zone_unlock(p, z);
	if (!ok) {
		shadow_del(p, client);
		reprobe(p, client);
		snprintf(err, errlen, "Unbound did not take the client-ip trigger for /%u in %s",
		         client->len, p->ztext);
		return -1;
	}
	p->sets++;
	set_probe(p, client);
	if (too_much_waste(p))
		(void)rebuild(p, err, errlen); /* on failure maintain() tries again */
	return 0;
}

static int op_clear(void *ctx, const struct dw_cidr *client, char *err, size_t errlen)
{
	struct dw_rpz *p = ctx;
	struct auth_zone *z;
	struct rpz *r;

	shadow_del(p, client);
	reprobe(p, client);
	z = zone_lock(p, 1);
	if (!z)
		return 0; /* nothing enforces without the zone; the table is right */
	r = z->rpz;
	if (was_wiped(p, r)) {
		zone_unlock(p, z);
		p->restores++;
		p->clears++;
		return rebuild(p, err, errlen);
	}
	first_contact(p, r);
	if (node_remove(r->client_set, client)) {
		p->orphaned++;
		fix_parents(p, r);
	}
	leave(p, r);
	zone_unlock(p, z);
	p->clears++;
	if (too_much_waste(p))
		(void)rebuild(p, err, errlen);
	return 0;
}

/** maintain(): reclaim removed triggers' memory, drop triggers that are not
 *  ours (a previous instance's, a zonefile's). */
static void op_maintain(void *ctx, const struct dw_conf *conf)
{
	struct dw_rpz *p = ctx;
	struct auth_zone *z;
	size_t in_zone;
	(void)conf;
	z = zone_lock(p, 0);
	if (!z)
		return;
	lock_rw_rdlock(&z->rpz->client_set->lock);
	in_zone = z->rpz->client_set->entries.count;
	lock_rw_unlock(&z->rpz->client_set->lock);
	zone_unlock(p, z);
	if (in_zone != p->count ||
	    (p->orphaned > 0 && p->orphaned * MAINTAIN_FRACTION >= p->count)) {
		char err[256];
		(void)rebuild(p, err, sizeof(err));
	}
}

/* ------------------------------------------------------------------------ */

/** The auth-zone or rpz clause of unbound.conf named zname, or NULL. */
static struct config_auth *find_clause(struct config_file *cfg, const uint8_t *zname,
                                       size_t znamelen)
{
	struct config_auth *a;
	for (a = cfg->auths; a; a = a->next) {
		uint8_t nm[LDNS_MAX_DOMAINLEN + 1];
		size_t nmlen = sizeof(nm);
		if (!a->name || sldns_str2wire_dname_buf(a->name, nm, &nmlen) != 0)
			continue;
		if (nmlen == znamelen && query_dname_compare(nm, (uint8_t *)zname) == 0)
			return a;
	}
	return NULL;
}

/** See unbound_rpz.h: Unbound's auth zones, the zone's names, its clause. */
int dw_unbound_rpz_find(struct module_env *env, const struct dw_conf *conf, char *ztext,
                        size_t tlen, uint8_t *zname, size_t *znamelen, struct config_auth **clause,
                        const char *who, char *err, size_t errlen)
{
	const char *zone = conf->rpz_zone && conf->rpz_zone[0] ? conf->rpz_zone : "dnswarden.rpz.";
	size_t zl = strlen(zone);
	if (!env || !env->auth_zones || !env->cfg) {
		snprintf(err, errlen, "%sUnbound gave no auth zones", who);
		return -1;
	}
	snprintf(ztext, tlen, "%s%s", zone, zl && zone[zl - 1] == '.' ? "" : ".");
	if (sldns_str2wire_dname_buf(ztext, zname, znamelen) != 0) {
		snprintf(err, errlen, "rpz_zone: '%s' is not a domain name", zone);
		return -1;
	}
	*clause = find_clause(env->cfg, zname, *znamelen);
	return 0;
}

int dw_rpz_backend_init(struct dw_backend *b, struct module_env *env, const struct dw_conf *conf,
                        char *err, size_t errlen)
{
	struct dw_rpz *p;
	struct config_auth *a;
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < DW_DET_COUNT; i++) {
		if (conf->det[i].enabled && conf->det[i].action == DW_ACT_REFUSE) {
			snprintf(
			    err, errlen,
			    "detectors.%s.action: refuse needs the hook backend (an Unbound built "
			    "with tools/dev/build-unbound --patched); the rpz backend answers "
			    "nxdomain, nodata, sinkhole, drop or tcp-only",
			    dw_detector_name((enum dw_detector)i));
			return -1;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "rpz backend: out of memory");
		return -1;
	}
	p->znamelen = sizeof(p->zname);
	if (dw_unbound_rpz_find(env, conf, p->ztext, sizeof(p->ztext), p->zname, &p->znamelen, &a,
	                        "rpz backend: ", err, errlen) != 0) {
		free(p);
		return -1;
	}
	if (!a || !a->isrpz) {
		snprintf(err, errlen,
		         "enforcement: rpz needs 'rpz: name: %s' in unbound.conf (and respip in "
		         "module-config)%s",
		         p->ztext, a ? ": it is declared as an auth-zone, not an rpz" : "");
		free(p);
		return -1;
	}
	if (a->rpz_action_override) {
		snprintf(err, errlen,
		         "the rpz: clause of %s sets rpz-action-override, which would replace "
		         "dnswarden's actions: remove it",
		         p->ztext);
		free(p);
		return -1;
	}
	if (a->masters || a->urls) {
		snprintf(err, errlen,
		         "the rpz: clause of %s has primary/url: a zone transfer would replace "
		         "dnswarden's triggers; the zone must be dnswarden's own",
		         p->ztext);
		free(p);
		return -1;
	}
	p->az = env->auth_zones;
	p->sink4 = conf->sinkhole_v4;
	p->sink6 = conf->sinkhole_v6;
	p->v6len = conf->ipv6_prefix;
	b->name = "rpz";
	b->ctx = p;
	b->ready = op_ready;
	b->set = op_set;
	b->clear = op_clear;
	b->maintain = op_maintain;
	return 0;
}

void dw_rpz_backend_free(struct dw_backend *b)
{
	struct dw_rpz *p;
	if (!b || b->set != op_set)
		return;
	p = b->ctx;
	if (p)
		free(p->tab);
	free(p);
	b->ctx = NULL;
}

int dw_rpz_backend_stats(const struct dw_backend *b, struct dw_rpz_stats *out)
{
	const struct dw_rpz *p;
	struct auth_zone *z;
	if (!b || b->set != op_set || !b->ctx)
		return -1;
	p = b->ctx;
	memset(out, 0, sizeof(*out));
	out->triggers = p->count;
	out->orphaned = p->orphaned;
	out->sets = p->sets;
	out->clears = p->clears;
	out->rebuilds = p->rebuilds;
	out->restores = p->restores;
	z = zone_lock(p, 0);
	if (z) {
		struct clientip_synthesized_rrset *set = z->rpz->client_set;
		out->ready = 1;
		lock_rw_rdlock(&set->lock);
		out->zone_triggers = set->entries.count;
		out->region_bytes = regional_get_mem(set->region);
		lock_rw_unlock(&set->lock);
		zone_unlock(p, z);
	}
	return 0;
}
