/**
 * \file
 * The mail-server watch (mailwatch.h): preallocated rings of interval
 * buckets, counted with relaxed atomics on the resolver's worker threads.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailwatch.h"

/** A bucket's interval while one thread clears it; -1: never used. */
#define IV_BUSY ((int64_t)-2)
#define IV_NONE ((int64_t)-1)

struct bucket {
	_Atomic int64_t iv;
	atomic_uint c[DW_MW_NCOUNT];
};

/** Slots of the IPv4 host table (a power of two, > 2 * DW_CONF_MAX_MAIL_SERVERS). */
#define HOST4_SLOTS 256
#define SLOT_EMPTY 0xff

struct dw_mailwatch {
	size_t n;                /* servers */
	struct dw_cidr *servers; /* n prefixes (copied) */
	/* the per-query test: IPv4 /32 entries in a small hash table (one probe
	 * for nearly every client), other IPv4 prefixes as net/mask pairs, IPv6
	 * entries scanned */
	uint32_t host4[HOST4_SLOTS];
	uint8_t host4_idx[HOST4_SLOTS]; /* server index, SLOT_EMPTY */
	uint32_t net4[DW_CONF_MAX_MAIL_SERVERS], mask4[DW_CONF_MAX_MAIL_SERVERS];
	uint8_t net4_idx[DW_CONF_MAX_MAIL_SERVERS], nnet4;
	uint8_t v6_idx[DW_CONF_MAX_MAIL_SERVERS], nv6;
	uint32_t res;     /* seconds per interval */
	uint32_t nb;      /* buckets per server */
	struct bucket *b; /* n * nb */
	atomic_uint_fast64_t missed;
};

static const char *const counter_names[DW_MW_NCOUNT] = {"total", "mx",    "a",        "ptr",
                                                        "txt",   "other", "nxdomain", "servfail"};

/** Field name of a counter. */
const char *dw_mailwatch_counter_name(enum dw_mw_counter c)
{
	return (unsigned)c < DW_MW_NCOUNT ? counter_names[c] : "?";
}

static uint32_t v4_of(const struct dw_addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static unsigned host4_hash(uint32_t v)
{
	return (unsigned)((v * 2654435761u) >> 24) & (HOST4_SLOTS - 1);
}

/** Sort the servers into the per-query lookup structures. */
static void index_servers(struct dw_mailwatch *mw)
{
	size_t i;
	memset(mw->host4_idx, SLOT_EMPTY, sizeof(mw->host4_idx));
	for (i = 0; i < mw->n && i < DW_CONF_MAX_MAIL_SERVERS; i++) {
		const struct dw_cidr *c = &mw->servers[i];
		if (c->addr.family == 4 && c->len == 32) {
			uint32_t v = v4_of(&c->addr);
			unsigned h = host4_hash(v);
			while (mw->host4_idx[h] != SLOT_EMPTY && mw->host4[h] != v)
				h = (h + 1) & (HOST4_SLOTS - 1);
			if (mw->host4_idx[h] == SLOT_EMPTY) { /* a duplicate keeps the first */
				mw->host4[h] = v;
				mw->host4_idx[h] = (uint8_t)i;
			}
		} else if (c->addr.family == 4) {
			mw->mask4[mw->nnet4] = c->len ? ~(uint32_t)0 << (32 - c->len) : 0;
			mw->net4[mw->nnet4] = v4_of(&c->addr) & mw->mask4[mw->nnet4];
			mw->net4_idx[mw->nnet4++] = (uint8_t)i;
		} else
			mw->v6_idx[mw->nv6++] = (uint8_t)i;
	}
}

/** Allocate every bucket now: the per-query path never allocates. */
struct dw_mailwatch *dw_mailwatch_new(const struct dw_conf *conf, char *err, size_t errlen)
{
	struct dw_mailwatch *mw = calloc(1, sizeof(*mw));
	size_t i, total;

	if (!mw)
		goto oom;
	mw->n = conf->mail_server_count;
	mw->res = conf->mw_resolution ? conf->mw_resolution : 60;
	/* keep's worth of complete intervals, plus the current one and the one
	 * prepared ahead */
	mw->nb = conf->mw_keep / mw->res + 2;
	atomic_init(&mw->missed, 0);
	if (mw->n == 0)
		return mw;
	mw->servers = calloc(mw->n, sizeof(*mw->servers));
	total = mw->n * (size_t)mw->nb;
	mw->b = calloc(total, sizeof(*mw->b));
	if (!mw->servers || !mw->b)
		goto oom;
	memcpy(mw->servers, conf->mail_servers, mw->n * sizeof(*mw->servers));
	index_servers(mw);
	for (i = 0; i < total; i++) {
		unsigned k;
		atomic_init(&mw->b[i].iv, IV_NONE);
		for (k = 0; k < DW_MW_NCOUNT; k++)
			atomic_init(&mw->b[i].c[k], 0);
	}
	return mw;
oom:
	snprintf(err, errlen, "mail_watch: out of memory for the mail servers' series");
	dw_mailwatch_free(mw);
	return NULL;
}

/** Release the series (NULL is fine). */
void dw_mailwatch_free(struct dw_mailwatch *mw)
{
	if (!mw)
		return;
	free(mw->servers);
	free(mw->b);
	free(mw);
}

/** An IPv4 host entry first (one hash probe), then the prefixes. */
int dw_mailwatch_match(const struct dw_mailwatch *mw, const struct dw_addr *a)
{
	unsigned i;
	if (!mw || mw->n == 0)
		return -1;
	if (a->family == 4) {
		uint32_t v = v4_of(a);
		unsigned h = host4_hash(v);
		while (mw->host4_idx[h] != SLOT_EMPTY) {
			if (mw->host4[h] == v)
				return mw->host4_idx[h];
			h = (h + 1) & (HOST4_SLOTS - 1);
		}
		for (i = 0; i < mw->nnet4; i++)
			if ((v & mw->mask4[i]) == mw->net4[i])
				return mw->net4_idx[i];
		return -1;
	}
	for (i = 0; i < mw->nv6; i++)
		if (dw_cidr_match(&mw->servers[mw->v6_idx[i]], a))
			return mw->v6_idx[i];
	return -1;
}

/** Floor division: interval number of a wall-clock second. */
static int64_t interval_of(const struct dw_mailwatch *mw, int64_t t)
{
	return t >= 0 ? t / mw->res : -((-t + mw->res - 1) / mw->res);
}

static struct bucket *bucket_of(const struct dw_mailwatch *mw, size_t server, int64_t iv)
{
	return &mw->b[server * mw->nb + (size_t)(iv % mw->nb)];
}

/** Make b count interval iv: 1 when it does, 0 when another thread is
 *  clearing it or it already holds a later interval. */
static int prepare(struct bucket *b, int64_t iv)
{
	int64_t old = atomic_load_explicit(&b->iv, memory_order_acquire);
	unsigned k;
	if (old == iv)
		return 1;
	if (old == IV_BUSY || old > iv)
		return 0;
	if (!atomic_compare_exchange_strong_explicit(&b->iv, &old, IV_BUSY, memory_order_acq_rel,
	                                             memory_order_acquire))
		return old == iv;
	for (k = 0; k < DW_MW_NCOUNT; k++)
		atomic_store_explicit(&b->c[k], 0, memory_order_relaxed);
	atomic_store_explicit(&b->iv, iv, memory_order_release);
	return 1;
}

/** Count one query of server at wall-clock second now. */
void dw_mailwatch_count_at(struct dw_mailwatch *mw, int server, int64_t now, uint16_t qtype,
                           uint8_t rcode)
{
	int64_t iv;
	struct bucket *b;
	enum dw_mw_counter cls;

	if (now < 0 || server < 0 || (size_t)server >= mw->n)
		return;
	iv = interval_of(mw, now);
	b = bucket_of(mw, (size_t)server, iv);
	if (atomic_load_explicit(&b->iv, memory_order_acquire) != iv && !prepare(b, iv)) {
		atomic_fetch_add_explicit(&mw->missed, 1, memory_order_relaxed);
		return;
	}
	switch (qtype) {
	case 15:
		cls = DW_MW_MX;
		break;
	case 1:
	case 28:
		cls = DW_MW_A;
		break;
	case 12:
		cls = DW_MW_PTR;
		break;
	case 16:
		cls = DW_MW_TXT;
		break;
	default:
		cls = DW_MW_OTHER;
		break;
	}
	atomic_fetch_add_explicit(&b->c[DW_MW_TOTAL], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->c[cls], 1, memory_order_relaxed);
	if (rcode == 3)
		atomic_fetch_add_explicit(&b->c[DW_MW_NXDOMAIN], 1, memory_order_relaxed);
	else if (rcode == 2)
		atomic_fetch_add_explicit(&b->c[DW_MW_SERVFAIL], 1, memory_order_relaxed);
}

/** The per-query hook: everybody but a mail server leaves after one test. */
void dw_mailwatch_observe(struct dw_mailwatch *mw, const struct dw_addr *client, uint16_t qtype,
                          uint8_t rcode)
{
	struct timespec ts;
	int i;
	if (!mw || mw->n == 0)
		return;
	if ((i = dw_mailwatch_match(mw, client)) < 0)
		return;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	dw_mailwatch_count_at(mw, i, (int64_t)ts.tv_sec, qtype, rcode);
}

/** Prepare now's interval and the next for every server. */
void dw_mailwatch_tick(struct dw_mailwatch *mw, int64_t now)
{
	size_t i;
	int64_t iv;
	if (!mw || now < 0)
		return;
	iv = interval_of(mw, now);
	for (i = 0; i < mw->n; i++) {
		prepare(bucket_of(mw, i, iv), iv);
		prepare(bucket_of(mw, i, iv + 1), iv + 1);
	}
}

size_t dw_mailwatch_servers(const struct dw_mailwatch *mw)
{
	return mw ? mw->n : 0;
}

uint32_t dw_mailwatch_resolution(const struct dw_mailwatch *mw)
{
	return mw->res;
}

uint32_t dw_mailwatch_buckets(const struct dw_mailwatch *mw)
{
	return mw->nb;
}

const struct dw_cidr *dw_mailwatch_server(const struct dw_mailwatch *mw, size_t i)
{
	return i < mw->n ? &mw->servers[i] : NULL;
}

/** Copy one interval's counters; -1 unless the bucket holds exactly iv
 *  before and after the copy. */
int dw_mailwatch_read(const struct dw_mailwatch *mw, size_t i, int64_t iv, uint64_t c[DW_MW_NCOUNT])
{
	const struct bucket *b;
	unsigned k;
	if (!mw || i >= mw->n || iv < 0)
		return -1;
	b = bucket_of(mw, i, iv);
	if (atomic_load_explicit(&b->iv, memory_order_acquire) != iv)
		return -1;
	for (k = 0; k < DW_MW_NCOUNT; k++)
		c[k] = atomic_load_explicit(&b->c[k], memory_order_relaxed);
	return atomic_load_explicit(&b->iv, memory_order_acquire) == iv ? 0 : -1;
}

uint64_t dw_mailwatch_missed(const struct dw_mailwatch *mw)
{
	return mw ? atomic_load_explicit(&mw->missed, memory_order_relaxed) : 0;
}
