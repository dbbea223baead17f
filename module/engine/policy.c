/**
 * \file
 * The block list (policy.h).
 */
#include "policy.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"

#define SHARDS 64u
#define BUCKETS 256u

struct ent {
	struct dw_block b;
	struct ent *next;
};

struct shard {
	pthread_mutex_t mu; /* guards the chains; writers are the module's thread only */
	struct ent *bucket[BUCKETS];
};

struct dw_policy {
	const struct dw_conf *conf;
	uint64_t k0, k1;      /* the hash key, random per list */
	atomic_size_t active; /* lookups skip everything while 0 */
	int64_t wall_off;     /* state file time = list time + wall_off (module's thread) */
	size_t entries;       /* active + history (module's thread) */
	/* the sweep's shortcut (module's thread): no entry expires or leaves
	 * the history before next_due, as of the sweep that saw `swept`
	 * changes; any change since (block, unblock, load) makes it walk */
	int64_t next_due;
	uint64_t changes, swept;
	struct shard shard[SHARDS];
};

/** SipHash of the key under the list's random key: the hook backend looks
 *  the list up on every query, and IPv6 clients choose their /64s freely, so
 *  nobody must be able to pick keys that share one chain. */
static uint32_t hash_key(const struct dw_policy *p, const struct dw_addr *k)
{
	uint8_t m[17];
	m[0] = k->family;
	memcpy(m + 1, k->b, 16);
	return (uint32_t)dw_siphash(p->k0, p->k1, m, k->family == 4 ? 5 : 17, false);
}

/** A fresh, empty list. */
struct dw_policy *dw_policy_new(const struct dw_conf *conf)
{
	struct dw_policy *p = calloc(1, sizeof(*p));
	unsigned i;
	if (!p)
		return NULL;
	if (dw_siphash_key(&p->k0, &p->k1, NULL, 0) != 0) {
		free(p);
		return NULL;
	}
	p->conf = conf;
	for (i = 0; i < SHARDS; i++)
		pthread_mutex_init(&p->shard[i].mu, NULL);
	return p;
}

/** Free every entry and the list. */
void dw_policy_free(struct dw_policy *p)
{
	unsigned i, j;
	if (!p)
		return;
	for (i = 0; i < SHARDS; i++) {
		for (j = 0; j < BUCKETS; j++) {
			struct ent *e = p->shard[i].bucket[j], *n;
			for (; e; e = n) {
				n = e->next;
				free(e);
			}
		}
		pthread_mutex_destroy(&p->shard[i].mu);
	}
	free(p);
}

/** IPv4 stays a /32; IPv6 is masked to the aggregation prefix. */
void dw_policy_key(const struct dw_policy *p, const struct dw_addr *a, struct dw_addr *key,
		   uint8_t *prefix)
{
	*key = *a;
	if (a->family == 6) {
		dw_addr_mask(key, p->conf->ipv6_prefix);
		*prefix = p->conf->ipv6_prefix;
	} else {
		*prefix = 32;
	}
}

/** The chain slot of a key: where it is, or where it would go. Readers other
 *  than the module's thread must hold the shard's lock; the module's thread,
 *  the only writer, may walk without it. */
static struct ent **slot(struct dw_policy *p, const struct dw_addr *key, struct shard **sh)
{
	uint32_t h = hash_key(p, key);
	struct ent **pe;
	*sh = &p->shard[h % SHARDS];
	pe = &(*sh)->bucket[(h / SHARDS) % BUCKETS];
	while (*pe && !dw_addr_equal(&(*pe)->b.client, key))
		pe = &(*pe)->next;
	return pe;
}

/** Active and not past its expiry. */
static int in_force(const struct dw_block *b, int64_t now)
{
	return b->active && (b->expires == 0 || b->expires > now);
}

/** The query-path read: nothing at all when the list has no active block. */
enum dw_action dw_policy_lookup(struct dw_policy *p, const struct dw_addr *key, int64_t now)
{
	struct shard *sh;
	struct ent **pe;
	enum dw_action a = DW_ACT_LOG;
	if (atomic_load_explicit(&p->active, memory_order_relaxed) == 0)
		return DW_ACT_LOG;
	sh = &p->shard[hash_key(p, key) % SHARDS];
	pthread_mutex_lock(&sh->mu); /* the module's thread may be changing the chain */
	pe = slot(p, key, &sh);
	if (*pe && in_force(&(*pe)->b, now))
		a = (enum dw_action)(*pe)->b.action;
	pthread_mutex_unlock(&sh->mu);
	return a;
}

/** Drop the oldest inactive entry to make room; 0 when there is none. */
static int drop_history(struct dw_policy *p)
{
	struct ent **oldest = NULL;
	struct shard *osh = NULL;
	unsigned i, j;
	for (i = 0; i < SHARDS; i++)
		for (j = 0; j < BUCKETS; j++) {
			struct ent **pe;
			for (pe = &p->shard[i].bucket[j]; *pe; pe = &(*pe)->next)
				if (!(*pe)->b.active &&
				    (!oldest || (*pe)->b.created < (*oldest)->b.created)) {
					oldest = pe;
					osh = &p->shard[i];
				}
		}
	if (!oldest)
		return 0;
	pthread_mutex_lock(&osh->mu);
	{
		struct ent *e = *oldest;
		*oldest = e->next;
		free(e);
	}
	pthread_mutex_unlock(&osh->mu);
	p->entries--;
	return 1;
}

/** The ladder: duration × factor^(offences-1), capped. */
static uint32_t laddered(const struct dw_conf *c, uint32_t duration, uint32_t offences)
{
	uint64_t d = duration;
	uint32_t i;
	if (duration == 0)
		return 0;
	for (i = 1; i < offences && d < c->policy_max_duration; i++)
		d *= c->policy_ladder_factor;
	return d > c->policy_max_duration ? c->policy_max_duration : (uint32_t)d;
}

/** New block, or replacement; history within the window makes it a repeat,
 *  and so does an active block when offence is set. */
static int block_entry(struct dw_policy *p, const struct dw_addr *key, enum dw_action action,
                       uint32_t duration, int detector, int64_t now, int offence,
                       struct dw_block *out)
{
	struct shard *sh;
	struct ent **pe = slot(p, key, &sh);
	struct ent *e = *pe;
	uint32_t offences = 1;
	int was_active = e && e->b.active; /* counted in p->active already */

	if (e) {
		int recent = now - e->b.created < (int64_t)p->conf->policy_ladder_window;
		if (in_force(&e->b, now) && !offence)
			offences = e->b.offences; /* a replacement, not a new offence */
		else if (in_force(&e->b, now))
			offences = e->b.offences + 1; /* a new offence while blocked */
		else if (recent)
			offences = e->b.offences + 1;
	} else {
		while (p->entries >= p->conf->policy_max_blocks)
			if (!drop_history(p))
				return -1;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -1;
		pe = slot(p, key, &sh); /* drop_history may have changed the chain */
	}
	pthread_mutex_lock(&sh->mu);
	if (!*pe) {
		e->b.client = *key;
		e->b.prefix = key->family == 6 ? p->conf->ipv6_prefix : 32;
		*pe = e;
		p->entries++;
	}
	if (!was_active) /* expired but not yet swept is still counted once */
		atomic_fetch_add(&p->active, 1);
	e->b.action = (uint8_t)action;
	e->b.detector = (int8_t)detector;
	e->b.active = 1;
	e->b.applied = 0;
	e->b.offences = offences;
	e->b.duration = laddered(p->conf, duration, offences);
	e->b.created = now;
	e->b.expires = e->b.duration ? now + e->b.duration : 0;
	pthread_mutex_unlock(&sh->mu);
	p->changes++; /* the next sweep walks */
	if (out)
		*out = e->b;
	return 0;
}

/** A block that replaces an active one (same offence). */
int dw_policy_block(struct dw_policy *p, const struct dw_addr *key, enum dw_action action,
                    uint32_t duration, int detector, int64_t now, struct dw_block *out)
{
	return block_entry(p, key, action, duration, detector, now, 0, out);
}

/** A new offence: one step up the ladder even while blocked. */
int dw_policy_offence(struct dw_policy *p, const struct dw_addr *key, enum dw_action action,
                      uint32_t duration, int detector, int64_t now, struct dw_block *out)
{
	return block_entry(p, key, action, duration, detector, now, 1, out);
}

/** The entry of key (module's thread: the only writer walks unlocked). */
int dw_policy_get(struct dw_policy *p, const struct dw_addr *key, struct dw_block *out)
{
	struct shard *sh;
	struct ent **pe = slot(p, key, &sh);
	if (!*pe)
		return 0;
	*out = (*pe)->b;
	return 1;
}

/** Make an active entry history; the ladder remembers it. */
static void deactivate(struct dw_policy *p, struct shard *sh, struct ent *e)
{
	pthread_mutex_lock(&sh->mu);
	e->b.active = 0;
	pthread_mutex_unlock(&sh->mu);
	atomic_fetch_sub(&p->active, 1);
	p->changes++; /* due when its history ends: the next sweep walks */
}

/** Lift a block by hand. */
int dw_policy_unblock(struct dw_policy *p, const struct dw_addr *key, struct dw_block *out)
{
	struct shard *sh;
	struct ent **pe = slot(p, key, &sh);
	if (!*pe || !(*pe)->b.active)
		return 0;
	deactivate(p, sh, *pe);
	if (out)
		*out = (*pe)->b;
	return 1;
}

/** Bookkeeping for the engine's backend sync. */
void dw_policy_set_applied(struct dw_policy *p, const struct dw_addr *key, int applied)
{
	struct shard *sh;
	struct ent **pe = slot(p, key, &sh);
	if (*pe)
		(*pe)->b.applied = (uint8_t)applied;
}

/** Map an entry's action in place, under its shard lock (lookups read it). */
int dw_policy_set_action(struct dw_policy *p, const struct dw_addr *key, enum dw_action action)
{
	struct shard *sh;
	struct ent **pe = slot(p, key, &sh);
	if (!*pe)
		return 0;
	pthread_mutex_lock(&sh->mu);
	(*pe)->b.action = (uint8_t)action;
	pthread_mutex_unlock(&sh->mu);
	return 1;
}

/** Sweep: expire what is due, forget old history. */
size_t dw_policy_expire(struct dw_policy *p, int64_t now,
			void (*fn)(void *arg, const struct dw_block *b), void *arg)
{
	size_t n = 0;
	unsigned i, j;
	int64_t due = INT64_MAX; /* the earliest time an entry left is due */
	uint64_t changes = p->changes;
	if (p->entries == 0 || (p->swept == changes && now < p->next_due))
		return 0; /* nothing due: spare the SHARDS x BUCKETS walk every tick */
	for (i = 0; i < SHARDS; i++) {
		struct shard *sh = &p->shard[i];
		for (j = 0; j < BUCKETS; j++) {
			struct ent **pe = &sh->bucket[j];
			while (*pe) {
				struct ent *e = *pe;
				if (e->b.active && e->b.expires && e->b.expires <= now) {
					deactivate(p, sh, e);
					n++;
					if (fn)
						fn(arg, &e->b);
				}
				if (!e->b.active &&
				    now - e->b.created >= (int64_t)p->conf->policy_ladder_window) {
					pthread_mutex_lock(&sh->mu);
					*pe = e->next;
					pthread_mutex_unlock(&sh->mu);
					free(e);
					p->entries--;
					continue;
				}
				int64_t d =
				    e->b.active
				        ? (e->b.expires ? e->b.expires : INT64_MAX)
				        : e->b.created + (int64_t)p->conf->policy_ladder_window;
				if (d < due)
					due = d;
				pe = &e->next;
			}
		}
	}
	if (p->changes == changes + n) { /* only our own deactivations */
		p->next_due = due;
		p->swept = p->changes;
	}
	return n;
}

/** Visit every entry. */
int dw_policy_foreach(struct dw_policy *p, int (*fn)(void *arg, const struct dw_block *b),
		      void *arg)
{
	unsigned i, j;
	if (p->entries == 0)
		return 0; /* empty: spare the SHARDS x BUCKETS walk */
	for (i = 0; i < SHARDS; i++)
		for (j = 0; j < BUCKETS; j++) {
			const struct ent *e;
			for (e = p->shard[i].bucket[j]; e; e = e->next) {
				int rc = fn(arg, &e->b);
				if (rc)
					return rc;
			}
		}
	return 0;
}

/** Active blocks. */
size_t dw_policy_active(const struct dw_policy *p)
{
	return atomic_load(&((struct dw_policy *)p)->active);
}

/** One line per entry:
 *  "block ADDR/PREFIX ACTION DETECTOR|manual ACTIVE OFFENCES DURATION CREATED EXPIRES" */
struct save_ctx {
	FILE *f;
	int64_t off;
};
static int save_one(void *arg, const struct dw_block *b)
{
	const struct save_ctx *s = arg;
	char a[DW_ADDR_STRLEN];
	dw_addr_format(&b->client, a, sizeof(a));
	fprintf(s->f, "block %s/%u %s %s %u %u %u %" PRId64 " %" PRId64 "\n", a, b->prefix,
		dw_action_name((enum dw_action)b->action),
		b->detector >= 0 ? dw_detector_name((enum dw_detector)b->detector) : "manual",
		b->active, b->offences, b->duration, b->created + s->off,
		b->expires ? b->expires + s->off : 0);
	return 0;
}

/** Write the whole list (times on the wall clock). */
void dw_policy_save(struct dw_policy *p, FILE *f)
{
	struct save_ctx s = {f, p->wall_off};
	dw_policy_foreach(p, save_one, &s);
}

/** Offset of the state file's (wall) times to the list's. */
void dw_policy_set_wall_offset(struct dw_policy *p, int64_t off)
{
	p->wall_off = off;
}

/** Parse one saved line; hostile input (a hand-edited file) is checked. */
int dw_policy_load_line(struct dw_policy *p, const char *line, int64_t now, char *err,
			size_t errlen)
{
	char cidr[DW_ADDR_STRLEN + 8], act[16], det[32];
	unsigned active, offences, duration;
	int64_t created, expires;
	struct dw_cidr c;
	struct dw_addr key;
	uint8_t prefix;
	int a, d = -1;
	struct shard *sh;
	struct ent **pe, *e;

	if (sscanf(line, "block %71s %15s %31s %u %u %u %" SCNd64 " %" SCNd64, cidr, act, det,
		   &active, &offences, &duration, &created, &expires) != 8 ||
	    dw_cidr_parse(cidr, &c) != 0 || (a = dw_action_from_name(act)) < 0 ||
	    a == DW_ACT_LOG || active > 1 || offences == 0 || created < 0 || expires < 0) {
		snprintf(err, errlen, "malformed block line");
		return -1;
	}
	if (strcmp(det, "manual") != 0 && (d = dw_detector_from_name(det)) < 0) {
		snprintf(err, errlen, "unknown detector '%s'", det);
		return -1;
	}
	dw_policy_key(p, &c.addr, &key, &prefix);
	pe = slot(p, &key, &sh);
	if (*pe)
		return 0; /* duplicate: first one wins */
	if (p->entries >= p->conf->policy_max_blocks)
		return 1; /* full: left out, counted by the caller */
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->b.client = key;
	e->b.prefix = prefix;
	e->b.action = (uint8_t)a;
	e->b.detector = (int8_t)d;
	e->b.offences = offences;
	e->b.duration = duration;
	e->b.created = created - p->wall_off;
	e->b.expires = expires ? expires - p->wall_off : 0;
	if (expires && e->b.expires <= 0)
		e->b.expires = 1; /* long past; 0 would mean "until unblocked" */
	e->b.active = (uint8_t)(active && (e->b.expires == 0 || e->b.expires > now));
	pthread_mutex_lock(&sh->mu);
	*pe = e;
	pthread_mutex_unlock(&sh->mu);
	p->entries++;
	p->changes++;
	if (e->b.active)
		atomic_fetch_add(&p->active, 1);
	return 0;
}
