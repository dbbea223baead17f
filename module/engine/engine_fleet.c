/**
 * \file
 * The fleet on the module's thread (fleet.h): the published RPZ zone file,
 * the publish command, the peers' zones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "control.h"
#include "domain_blocks.h"
#include "engine_int.h"
#include "fleet.h"
#include "rpzfile.h"
#include "rpzfile_domains.h"
#include "safefile.h"
#include "pubcmd.h"

/** The publish command runs at most this often (ms), and may run this long
 *  before it is killed. */
#define CMD_EVERY_MS 1000
#define CMD_LIMIT_MS 30000
/** A failed zone write is retried this often; errors are logged at most
 *  once a minute. */
#define RETRY_MS 1000
/** Changes are written at most this often (ms): a burst of blocks costs a
 *  few writes, and each change is in the file within this time. */
#define WRITE_EVERY_MS 200
#define ERROR_LOG_MS 60000
/** Peers' files are checked for changes this often (ms). */
#define PEER_CHECK_MS 1000
/** Most blocks read from one peer's zone. */
#define PEER_MAX_BLOCKS 1000000

/** Most domain blocks read from one peer's zone. */
#define PEER_MAX_DOMAINS 100000

/** One domain block (QNAME trigger) read from a peer's zone. */
struct peer_domain {
	char name[DW_DOMAIN_NAME_MAX];
	uint8_t action;
};

/** One block read from a peer's zone. */
struct peer_block {
	struct dw_cidr key;
	uint8_t action;
};

/** A peer's zone as Unbound keeps it. */
struct peer {
	char *zone, *path;
	struct peer_block *b; /* sorted by key */
	size_t n;
	struct peer_domain *d; /* its domain blocks, sorted by name, unique */
	size_t nd;
	uint32_t serial;
	uint8_t lens[129 / 8 + 1]; /* prefix lengths present (bitmap) */
	int have_stat, readable;
	struct stat st;
};

struct dw_fleet {
	/* the published zone */
	char *zone, *path;
	int with_triggers;
	uint32_t serial;
	uint64_t sig;        /* block-list change counters at the last write */
	int need_write;      /* a change (or a failed write) waits */
	int failing;         /* the last write failed */
	uint64_t last_try_ms, last_err_ms;
	uint64_t writes, write_errors;
	size_t published;    /* triggers in the last file written */
	/* the publish command */
	struct dw_spawn cmd;
	int cmd_due;         /* the file changed since the command last started */
	uint64_t cmd_last_ms, cmd_runs, cmd_failures;
	/* the peers */
	void (*on_peer_read)(void *arg, const struct dw_peer_view *v);
	void *on_peer_arg;
	struct peer peers[DW_FLEET_MAX_PEERS];
	size_t npeers;
	uint64_t last_peer_ms;
};

/** The fleet state, created on first use. NULL on ENOMEM. */
static struct dw_fleet *fleet(struct dw_engine *e)
{
	if (!e->fleet)
		e->fleet = calloc(1, sizeof(*e->fleet));
	return e->fleet;
}

/** A number that changes whenever the block list does. */
static uint64_t change_sig(const struct dw_engine *e)
{
	uint64_t s = e->unblocks * 1000003u + e->expiries * 7919u;
	unsigned i;
	for (i = 0; i < DW_ACT_COUNT; i++)
		s += e->blocks[i];
	return s + dw_domains_sig(e->domains) * 104729u;
}

/* ---- the published zone --------------------------------------------------- */

struct collect {
	struct dw_rpz_trigger *t;
	size_t n, cap;
	int64_t now;
	int oom;
};

/** dw_policy_foreach callback: the active blocks, as triggers. */
static int collect_one(void *arg, const struct dw_block *b)
{
	struct collect *c = arg;
	if (!b->active || (b->expires && b->expires <= c->now))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct dw_rpz_trigger *nt = realloc(c->t, ncap * sizeof(*nt));
		if (!nt) {
			c->oom = 1;
			return 1;
		}
		c->t = nt;
		c->cap = ncap;
	}
	c->t[c->n].key.addr = b->client;
	c->t[c->n].key.len = b->prefix;
	c->t[c->n].action = b->action;
	c->t[c->n].detector = b->detector;
	c->t[c->n].offences = b->offences;
	c->t[c->n].expires = b->expires;
	c->n++;
	return 0;
}

/** What fill_zone writes: the client triggers, then the domain blocks. */
struct zone_fill {
	struct dw_engine *e;
	const struct dw_rpz_zone *z;
};

static int fill_zone(void *arg, FILE *f)
{
	struct zone_fill *zf = arg;
	if (dw_rpzfile_format(f, zf->z) != 0)
		return -1;
	return dw_domains_format_zone(zf->e, f, zf->z->zone); /* QNAME triggers */
}

/** Write the zone file now. 0, or -1 with err. */
static int write_zone(struct dw_engine *e, struct dw_fleet *fl, char *err, size_t errlen)
{
	struct collect c = {.now = (int64_t)time(NULL)};
	struct dw_rpz_zone z;
	int rc;
	if (fl->with_triggers && e->conf->mode == DW_MODE_ENFORCE)
		dw_policy_foreach(e->policy, collect_one, &c);
	if (c.oom) {
		free(c.t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&z, 0, sizeof(z));
	z.zone = fl->zone;
	z.serial = dw_rpzfile_next_serial(fl->serial, c.now);
	z.sink4 = e->conf->sinkhole_v4;
	z.sink6 = e->conf->sinkhole_v6;
	z.t = c.t;
	z.n = c.n;
	{
		struct zone_fill zf = {.e = e, .z = &z};
		rc = dw_safefile_write(fl->path, 0644, fill_zone, &zf, err, errlen);
	}
	free(c.t);
	if (rc == 0) {
		fl->serial = z.serial;
		fl->published = z.n;
		fl->writes++;
		fl->cmd_due = 1;
	} else {
		fl->write_errors++;
	}
	return rc;
}

int dw_engine_publish(struct dw_engine *e, const char *zone, const char *path, int with_triggers,
                      char *err, size_t errlen)
{
	struct dw_fleet *fl = fleet(e);
	char werr[512];
	uint32_t old;
	if (!fl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(fl->zone);
	free(fl->path);
	fl->zone = strdup(zone);
	fl->path = strdup(path);
	if (!fl->zone || !fl->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fl->with_triggers = with_triggers;
	if (dw_rpzfile_read_serial(path, zone, &old) == 0)
		fl->serial = old;
	fl->sig = change_sig(e);
	if (write_zone(e, fl, werr, sizeof(werr)) != 0) {
		snprintf(err, errlen, "the RPZ zone file of %s: %s", zone, werr);
		return -1;
	}
	return 0;
}

/** Keep the zone in step and run the publish command. */
static void publish_tick(struct dw_engine *e, struct dw_fleet *fl, uint64_t now_ms)
{
	const char *cmd = e->conf->publish_command;
	uint64_t sig = change_sig(e);
	int st;
	if (fl->path) { /* client triggers, or only domain blocks (hook) */
		if (sig != fl->sig) {
			fl->sig = sig;
			fl->need_write = 1;
		}
		if (fl->need_write &&
		    now_ms - fl->last_try_ms >= (fl->failing ? RETRY_MS : WRITE_EVERY_MS)) {
			char err[512];
			fl->last_try_ms = now_ms;
			fl->failing = write_zone(e, fl, err, sizeof(err)) != 0;
			if (!fl->failing) {
				fl->need_write = 0;
			} else if (!fl->last_err_ms || now_ms - fl->last_err_ms >= ERROR_LOG_MS) {
				fl->last_err_ms = now_ms;
				dw_emit(e, now_ms, LOG_ERR,
				        "dnswarden: event=publish_error zone=%s file=%s error=\"%s\"",
				        fl->zone, fl->path, err);
			}
		}
	}
	switch (dw_spawn_poll(&fl->cmd, now_ms, CMD_LIMIT_MS, &st)) {
	case 1:
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fl->cmd_failures++;
			dw_emit(e, now_ms, LOG_WARNING,
			        "dnswarden: event=publish_error zone=%s command=\"%s\" error=\"%s %d\"",
			        fl->zone ? fl->zone : "-", cmd ? cmd : "-",
			        WIFEXITED(st) ? "exit status" : "killed by signal",
			        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		break;
	case 2:
		fl->cmd_failures++;
		dw_emit(e, now_ms, LOG_WARNING,
		        "dnswarden: event=publish_error zone=%s command=\"%s\" error=\"killed after "
		        "%u s\"",
		        fl->zone ? fl->zone : "-", cmd ? cmd : "-", CMD_LIMIT_MS / 1000);
		break;
	default:
		break;
	}
	if (cmd && cmd[0] && fl->cmd_due && fl->cmd.pid == 0 &&
	    (!fl->cmd_last_ms || now_ms - fl->cmd_last_ms >= CMD_EVERY_MS)) {
		char err[256];
		fl->cmd_due = 0;
		fl->cmd_last_ms = now_ms;
		if (dw_spawn_start(&fl->cmd, cmd, now_ms, err, sizeof(err)) == 0) {
			fl->cmd_runs++;
		} else {
			fl->cmd_failures++;
			dw_emit(e, now_ms, LOG_WARNING,
			        "dnswarden: event=publish_error zone=%s command=\"%s\" error=\"%s\"",
			        fl->zone ? fl->zone : "-", cmd, err);
		}
	}
}

/* ---- the peers ------------------------------------------------------------ */

static int key_cmp(const struct dw_cidr *a, const struct dw_cidr *b)
{
	int c;
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	c = memcmp(a->addr.b, b->addr.b, a->addr.family == 4 ? 4 : 16);
	if (c)
		return c;
	return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}

static int block_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct peer_block *)a)->key, &((const struct peer_block *)b)->key);
}

/** Room for element n of a growable array arr of *cap elements of size
 *  bytes (doubled, first elements at first): the array, moved or not, or
 *  NULL on ENOMEM (arr is then kept as it was). */
static void *grow_one(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap;
	void *p;
	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : first;
	p = realloc(arr, ncap * size);
	if (p)
		*cap = ncap;
	return p;
}

struct reading {
	struct peer_block *b;
	size_t n, cap;
	int oom;
};

static int read_one(void *arg, const struct dw_cidr *key, enum dw_action action)
{
	struct reading *r = arg;
	if (r->n >= PEER_MAX_BLOCKS)
		return 1;
	struct peer_block *nb = grow_one(r->b, &r->cap, r->n, sizeof(*nb), 256);
	if (!nb) {
		r->oom = 1;
		return 1;
	}
	r->b = nb;
	r->b[r->n].key = *key;
	r->b[r->n].action = (uint8_t)action;
	r->n++;
	return 0;
}

/** The keys a new version of a peer's file dropped (sorted). */
struct withdrawn {
	struct peer_block *b;
	size_t n;
};

/** dw_peer_view.withdrawn: exact key among the dropped ones. */
static int is_withdrawn(const void *ctx, const struct dw_cidr *key)
{
	const struct withdrawn *w = ctx;
	struct peer_block k = {.key = *key};
	return w->n && bsearch(&k, w->b, w->n, sizeof(*w->b), block_cmp) != NULL;
}

/** Keys of old[] not in new[] (both sorted) into *w. -1 on ENOMEM. */
static int diff_withdrawn(const struct peer_block *old, size_t nold, const struct peer_block *nw,
                          size_t nnew, struct withdrawn *w)
{
	size_t i = 0, j = 0;
	w->b = NULL;
	w->n = 0;
	if (!nold)
		return 0;
	w->b = malloc(nold * sizeof(*w->b));
	if (!w->b)
		return -1;
	while (i < nold) {
		int c = j < nnew ? block_cmp(&old[i], &nw[j]) : -1;
		if (c < 0)
			w->b[w->n++] = old[i++];
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
	return 0;
}

struct reading_domains {
	struct peer_domain *d;
	size_t n, cap;
	int oom;
};

static int read_domain(void *arg, const char *domain, enum dw_action action)
{
	struct reading_domains *r = arg;
	if (r->n >= PEER_MAX_DOMAINS)
		return 1;
	struct peer_domain *nd = grow_one(r->d, &r->cap, r->n, sizeof(*nd), 16);
	if (!nd) {
		r->oom = 1;
		return 1;
	}
	r->d = nd;
	snprintf(r->d[r->n].name, sizeof(r->d[r->n].name), "%s", domain);
	r->d[r->n].action = (uint8_t)action;
	r->n++;
	return 0;
}

static int domain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct peer_domain *)a)->name, ((const struct peer_domain *)b)->name);
}

/** The peer's domain blocks from its zone file (DOMAIN and *.DOMAIN are
 *  one block): replaces p->d. 0, or -1 with err (p->d kept). */
static int peer_read_domains(struct peer *p, char *err, size_t errlen)
{
	struct reading_domains r = {NULL, 0, 0, 0};
	size_t i, k = 0;
	if (dw_rpzfile_read_domains(p->path, p->zone, read_domain, &r, err, errlen) < 0 || r.oom) {
		if (r.oom)
			snprintf(err, errlen, "out of memory");
		free(r.d);
		return -1;
	}
	if (r.n)
		qsort(r.d, r.n, sizeof(*r.d), domain_cmp);
	for (i = 0; i < r.n; i++)
		if (k == 0 || strcmp(r.d[k - 1].name, r.d[i].name) != 0)
			r.d[k++] = r.d[i];
	free(p->d);
	p->d = r.d;
	p->nd = k;
	return 0;
}

/** Re-read a peer's zone file if it changed (or vanished). */
static void peer_refresh(struct dw_engine *e, struct peer *p, uint64_t now_ms)
{
	struct stat st;
	struct reading r = {NULL, 0, 0, 0};
	struct withdrawn gone = {NULL, 0};
	char err[512];
	uint32_t serial;
	long n;
	size_t i;
	if (stat(p->path, &st) != 0) {
		if (p->readable || !p->have_stat) {
			/* no transfer yet, or removed: nothing known from this peer */
			free(p->b);
			p->b = NULL;
			p->n = 0;
			free(p->d);
			p->d = NULL;
			p->nd = 0;
			p->readable = 0;
			p->have_stat = 1;
			memset(&p->st, 0, sizeof(p->st));
		}
		return;
	}
	if (p->have_stat && p->readable && st.st_ino == p->st.st_ino && st.st_size == p->st.st_size &&
	    st.st_mtim.tv_sec == p->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == p->st.st_mtim.tv_nsec)
		return;
	n = dw_rpzfile_read(p->path, p->zone, read_one, &r, &serial, err, sizeof(err));
	if (n < 0 || r.oom) {
		free(r.b);
		dw_emit(e, now_ms, LOG_WARNING, "dnswarden: event=peer_error zone=%s file=%s error=\"%s\"",
		        p->zone, p->path, r.oom ? "out of memory" : err);
		return; /* keep what we had; try again on the next change */
	}
	if (peer_read_domains(p, err, sizeof(err)) != 0) {
		free(r.b);
		dw_emit(e, now_ms, LOG_WARNING,
		        "dnswarden: event=peer_error zone=%s file=%s error=\"%s\"", p->zone,
		        p->path, err);
		return;
	}
	qsort(r.b, r.n, sizeof(*r.b), block_cmp);
	if (diff_withdrawn(p->b, p->readable ? p->n : 0, r.b, r.n, &gone) != 0)
		gone.n = 0; /* out of memory: Unbound keeps them until its next reload */
	free(p->b);
	p->b = r.b;
	p->n = r.n;
	p->serial = serial;
	p->st = st;
	p->have_stat = p->readable = 1;
	memset(p->lens, 0, sizeof(p->lens));
	for (i = 0; i < p->n; i++)
		p->lens[p->b[i].key.len / 8] |= (uint8_t)(1u << (p->b[i].key.len % 8));
	if (gone.n && e->fleet && e->fleet->on_peer_read) {
		struct dw_peer_view v = {p->zone, is_withdrawn, &gone, gone.n};
		e->fleet->on_peer_read(e->fleet->on_peer_arg, &v);
	}
	free(gone.b);
}

void dw_engine_on_peer_read(struct dw_engine *e, void (*fn)(void *arg, const struct dw_peer_view *v),
                            void *arg)
{
	struct dw_fleet *fl = fleet(e);
	if (!fl)
		return;
	fl->on_peer_read = fn;
	fl->on_peer_arg = arg;
}

int dw_engine_add_peer(struct dw_engine *e, const char *zone, const char *path, char *err,
                       size_t errlen)
{
	struct dw_fleet *fl = fleet(e);
	struct peer *p;
	if (!fl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fl->npeers >= DW_FLEET_MAX_PEERS) {
		snprintf(err, errlen, "fleet.peers: at most %d zones", DW_FLEET_MAX_PEERS);
		return -1;
	}
	p = &fl->peers[fl->npeers];
	memset(p, 0, sizeof(*p));
	p->zone = strdup(zone);
	p->path = strdup(path);
	if (!p->zone || !p->path) {
		free(p->zone);
		free(p->path);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fl->npeers++;
	peer_refresh(e, p, dw_mono_ms());
	return 0;
}

/** The peer block covering a (bsearch per prefix length present), or NULL. */
static const struct peer_block *peer_find(const struct peer *p, const struct dw_addr *a)
{
	unsigned len, max = a->family == 4 ? 32 : 128;
	for (len = 0; len <= max; len++) {
		struct peer_block k;
		const struct peer_block *hit;
		if (!(p->lens[len / 8] & (1u << (len % 8))))
			continue;
		k.key.addr = *a;
		k.key.len = (uint8_t)len;
		dw_addr_mask(&k.key.addr, len);
		hit = bsearch(&k, p->b, p->n, sizeof(*p->b), block_cmp);
		if (hit)
			return hit;
	}
	return NULL;
}

const char *dw_fleet_peer_block(struct dw_engine *e, const struct dw_addr *a,
                                enum dw_action *action)
{
	size_t i;
	if (!e->fleet)
		return NULL;
	for (i = 0; i < e->fleet->npeers; i++) {
		const struct peer_block *b = peer_find(&e->fleet->peers[i], a);
		if (b) {
			if (action)
				*action = (enum dw_action)b->action;
			return e->fleet->peers[i].zone;
		}
	}
	return NULL;
}

/* ---- the engine's hooks ----------------------------------------------------- */

void dw_fleet_tick(struct dw_engine *e, uint64_t now_ms)
{
	struct dw_fleet *fl = e->fleet;
	size_t i;
	if (!fl)
		return;
	publish_tick(e, fl, now_ms);
	if (fl->npeers && now_ms - fl->last_peer_ms >= PEER_CHECK_MS) {
		fl->last_peer_ms = now_ms;
		for (i = 0; i < fl->npeers; i++)
			peer_refresh(e, &fl->peers[i], now_ms);
	}
}

void dw_fleet_verdict(struct dw_engine *e, const struct dw_verdict *v, uint64_t now_ms)
{
	enum dw_action a;
	const char *zone = dw_fleet_peer_block(e, &v->client, &a);
	char client[DW_ADDR_STRLEN];
	if (!zone)
		return;
	dw_addr_format(&v->client, client, sizeof(client));
	dw_emit(e, now_ms, LOG_NOTICE,
	        "dnswarden: event=peer_blocked client=%s detector=%s peer=%s peer_action=%s "
	        "local=%s",
	        client, dw_detector_name((enum dw_detector)v->detector), zone, dw_action_name(a),
	        e->conf->mode == DW_MODE_ENFORCE &&
	                e->conf->det[v->detector].action != DW_ACT_LOG
	            ? "block"
	            : "would_block");
}

void dw_fleet_status(struct dw_engine *e, struct dw_out *out)
{
	const struct dw_fleet *fl = e->fleet;
	size_t i, n = 0;
	if (!fl)
		return;
	if (fl->path) {
		dw_out_kv(out, "publish_zone", "%s", fl->zone);
		dw_out_kv(out, "publish_file", "%s", fl->path);
		dw_out_kv_u64(out, "publish_serial", fl->serial);
		dw_out_kv_u64(out, "publish_triggers", fl->published);
		dw_out_kv_u64(out, "publish_errors", fl->write_errors + fl->cmd_failures);
	}
	if (e->conf->publish_command && e->conf->publish_command[0])
		dw_out_kv_u64(out, "publish_command_runs", fl->cmd_runs);
	for (i = 0; i < fl->npeers; i++)
		n += fl->peers[i].n;
	dw_out_kv_u64(out, "fleet_peers", fl->npeers);
	dw_out_kv_u64(out, "peer_blocks", n);
	for (i = 0, n = 0; i < fl->npeers; i++)
		n += fl->peers[i].nd;
	dw_out_kv_u64(out, "peer_domain_blocks", n);
	for (i = 0; i < fl->npeers; i++) {
		char key[300];
		const struct peer *p = &fl->peers[i];
		snprintf(key, sizeof(key), "peer.%s", p->zone);
		if (p->readable)
			dw_out_kv(out, key, "blocks=%zu domains=%zu serial=%u", p->n, p->nd,
			          p->serial);
		else
			dw_out_kv(out, key, "no zone file yet (%s)", p->path);
	}
}

void dw_fleet_list_blocked(struct dw_engine *e, struct dw_out *out)
{
	const struct dw_fleet *fl = e->fleet;
	size_t i, j;
	if (!fl)
		return;
	for (i = 0; i < fl->npeers; i++) {
		const struct peer *p = &fl->peers[i];
		for (j = 0; j < p->n; j++) {
			char a[DW_ADDR_STRLEN];
			dw_out_item_begin(out);
			dw_addr_format(&p->b[j].key.addr, a, sizeof(a));
			dw_out_kv(out, "client", "%s/%u", a, p->b[j].key.len);
			dw_out_kv(out, "action", "%s", dw_action_name((enum dw_action)p->b[j].action));
			dw_out_kv(out, "reason", "peer");
			dw_out_kv(out, "origin", "%s", p->zone);
			dw_out_item_end(out);
		}
	}
}

void dw_fleet_list_domains(struct dw_engine *e, struct dw_out *out)
{
	const struct dw_fleet *fl = e->fleet;
	size_t i, j;
	if (!fl)
		return;
	for (i = 0; i < fl->npeers; i++) {
		const struct peer *p = &fl->peers[i];
		for (j = 0; j < p->nd; j++) {
			char why[512];
			dw_out_item_begin(out);
			dw_out_kv(out, "domain", "%s", p->d[j].name);
			dw_out_kv(out, "action", "%s",
			          dw_action_name((enum dw_action)p->d[j].action));
			dw_out_kv(out, "reason", "peer");
			dw_out_kv(out, "origin", "%s", p->zone);
			dw_out_kv(out, "enforced", "yes"); /* Unbound enforces the peer's zone */
			/* what this resolver's own guard says (it does not stop the
			 * peer's trigger: the peer's guard decided) */
			if (dw_domains_guard(e, p->d[j].name, why, sizeof(why)) == 0)
				dw_out_kv(out, "local_guard", "ok");
			else
				dw_out_kv(out, "local_guard", "%s", why);
			dw_out_item_end(out);
		}
	}
}

size_t dw_fleet_peer_domains(const struct dw_engine *e)
{
	size_t i, n = 0;
	for (i = 0; e->fleet && i < e->fleet->npeers; i++)
		n += e->fleet->peers[i].nd;
	return n;
}

void dw_fleet_show_client(struct dw_engine *e, const struct dw_addr *a, struct dw_out *out)
{
	size_t i;
	if (!e->fleet)
		return;
	for (i = 0; i < e->fleet->npeers; i++) {
		const struct peer_block *b = peer_find(&e->fleet->peers[i], a);
		char key[300];
		if (!b)
			continue;
		snprintf(key, sizeof(key), "peer_blocked.%s", e->fleet->peers[i].zone);
		dw_out_kv(out, key, "%s", dw_action_name((enum dw_action)b->action));
	}
}

void dw_fleet_free(struct dw_engine *e)
{
	struct dw_fleet *fl = e->fleet;
	size_t i;
	if (!fl)
		return;
	if (fl->path && fl->with_triggers && (fl->need_write || change_sig(e) != fl->sig)) {
		char err[512];
		(void)write_zone(e, fl, err, sizeof(err));
	}
	dw_spawn_stop(&fl->cmd);
	for (i = 0; i < fl->npeers; i++) {
		free(fl->peers[i].zone);
		free(fl->peers[i].path);
		free(fl->peers[i].b);
		free(fl->peers[i].d);
	}
	free(fl->zone);
	free(fl->path);
	free(fl);
	e->fleet = NULL;
}
