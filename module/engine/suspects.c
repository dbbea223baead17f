/**
 * \file
 * The suspect store (contract in suspects.h): built on the sharded-table
 * core (table_core.h: shards with a spinlock each, keyed hashing, 16-bit
 * links, the LRU list of table_core.inc.c), with a chained hash index
 * preallocated for the shard's cap, an LRU list ordered by last suspicious
 * query, and fixed 1 KiB entries in chunks (the client table's layout,
 * clients.c).
 *
 * Why the index is preallocated and its heads atomic: touch_class runs on
 * every query the resolver answers, and almost always for a client that is
 * not a suspect. Reading the client's bucket head without the lock answers
 * "not a suspect" for the price of the hash. That read is only safe if the
 * array never moves, so it is sized once, for the cap (8 buckets per entry
 * keeps most buckets empty even when the store is full); the heads are
 * written under the lock with relaxed atomic stores, so a reader sees a
 * bucket non-empty from the moment a note of that client has happened
 * before it.
 *
 * Why a name's order is a byte array: moving a name to the front rotates up
 * to 8 one-byte slot numbers instead of up to 8 × 97 bytes of text.
 *
 * Why a name is hashed as wire: most suspicious queries of a suspect repeat
 * one of its 8 kept names, and printing a name costs more than the rest of
 * a note. A well-formed name is hashed in wire form (case-folded) before the
 * lock and, under the lock, compared with the kept texts of the same hash
 * byte by byte without printing it (and respelled in place, only letters can
 * differ); it is printed only when new. Malformed names, rare, are printed
 * and hashed as text before the lock as they always were.
 *
 * Why the window clock is advanced lazily: the 10 counters share one `last`
 * (window.h). While `now` stays in the slot of `last` (floor(t / g) equal,
 * the documented geometry) no slot expires, so only the incremented counters
 * are touched; a new slot advances all ten.
 */
#include "suspects.h"
#include "errbuf.h"
#include "clienthash.h"
#include "siphash.h"
#include "table_core.h"
#include "window.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL DW_TC_NIL /* "no entry" in every 16-bit link */
#define CHUNK_SHIFT 4u /* entries come in chunks of 16 (16 KiB) */
#define CHUNK (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK - 1)
#define SHARD_MAX DW_TC_SHARD_MAX /* 16-bit indices, NIL excluded */
#define AUTO_SHARDS 64u        /* shards when max is large enough */
#define AUTO_MIN_PER_SHARD 64u /* fewer shards below this, for LRU fidelity */
#define BUCKETS_PER_ENTRY 8u   /* index load <= 1/8: touch mostly skips the lock */
#define NCOUNTERS (DW_Q_COUNT + DW_FEAT_COUNT)
#define FEAT_MASK ((1u << DW_FEAT_COUNT) - 1)
#define NAMES DW_SUSPECTS_NAMES
#define TEXT (DW_SUSPECTS_NAME_MAX + 1)
#define INFO_QC_SHIFT 5 /* name info byte: flags in bits 0..4, class in 5..7 */

_Static_assert(DW_FEAT_COUNT <= INFO_QC_SHIFT && DW_Q_COUNT <= 8, "name info byte layout");
_Static_assert(NAMES <= 8, "the cut mask is one byte");

/* One suspect. */
struct ent {
	uint8_t addr[16];     /* key; IPv4 in bytes 0..3, rest zero */
	uint32_t first;       /* first note */
	uint32_t last;        /* last counted query; the windows' shared clock */
	uint32_t noted;       /* last note; the LRU order */
	uint16_t prev, next;  /* LRU list; head is the most recently noted */
	uint16_t hnext;       /* hash chain */
	uint8_t family;       /* 4 or 6 */
	uint8_t nnames;       /* used name slots, 0..NAMES */
	uint8_t order[NAMES]; /* name slots, most recent first */
	uint8_t info[NAMES];  /* per slot: latest flags | qclass << INFO_QC_SHIFT */
	uint8_t cut;          /* per slot: the text was cut */
	uint8_t plain;        /* per slot: the text has no escape and is not cut (plain_is_wire) */
	uint8_t lower;        /* per slot: the text holds no letter A-Z (the fast repeat) */
	uint8_t spare;
	uint32_t nhash[NAMES]; /* per slot: keyed hash of the case-folded name (prepare_name) */
	uint16_t slots[NCOUNTERS][DW_WINDOW_SLOTS]; /* classes, then flags */
	char names[NAMES][TEXT];                    /* per slot, NUL-terminated */
};
_Static_assert(sizeof(struct ent) == 1024, "a suspect must stay 1 KiB");

/* A shard; aligned so two shards' locks never share a cache line. */
struct shard {
	_Alignas(64) atomic_uint mu; /* dw_tc_lock(): 0 free, 1 held (table_core.h) */
	_Atomic uint16_t *buckets; /* nbuckets chain heads, NIL when empty; never moves */
	struct ent **chunks;       /* ceil(cap / CHUNK) pointers once the shard is used */
	uint32_t bmask;            /* nbuckets - 1 */
	uint32_t used;             /* entries 0 .. used-1 are live */
	uint32_t alloc;            /* entries in the allocated chunks */
	uint32_t cap;              /* this shard's share of max */
	uint16_t head, tail;       /* LRU ends */
	uint64_t inserts, evictions;
};

struct dw_suspects {
	struct shard *shards;
	uint32_t nshards, shard_mask;
	uint32_t max;
	uint64_t k0, k1;    /* random key: names (dw_name_hash()), clients unless set_client_key */
	struct dw_chash ch; /* client address hash (clienthash.h) */
	struct dw_window win;
};

/* A client key as stored. */
struct key {
	uint8_t b[16];
	uint8_t family;
};

/* A name made ready outside the lock: a well-formed wire name is hashed and
 * kept as wire (text is printed only if it turns out to be new); a malformed
 * one is printed and hashed as text right away. */
struct name {
	const uint8_t *wire; /* the query's name when wf */
	uint32_t hash;       /* wf: of the case-folded wire name; else of the folded text */
	bool wf;             /* the wire name is well formed */
	bool upper;          /* wf: the name holds a letter A-Z */
	bool have_text;      /* text and cut are set */
	bool cut;
	char text[TEXT];
};


static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* A name's hash: dw_name_hash() (feature.h) with the store's name key, so
 * that the feature pass's hash of a query (dw_features.name_hash, with the
 * same key: dw_suspects_set_name_key()) can be passed in instead. It picks
 * which of a suspect's 8 kept names is the query's (see remember(): a kept
 * plain lower-case name whose hash matches is taken as the same name
 * without a comparison); SipHash's guarantee against chosen collisions
 * guards chains and shards, which names never form. */
static uint32_t name_hash(const struct dw_suspects *s, const uint8_t *p, size_t n, bool *upper)
{
	uint8_t up;
	uint32_t h = dw_name_hash(s->k0, s->k1, p, n, &up);

	*upper = up != 0;
	return h;
}

/* The stored key of an address; -1 for an unknown family. */
static int make_key(const struct dw_addr *a, struct key *out)
{
	uint64_t lo = 0, hi = 0;

	if (a->family == 4) {
		uint32_t w;

		memcpy(&w, a->b, 4);
		memcpy(&lo, &w, 4); /* bytes 0..3, the rest zero, in either byte order */
	} else if (a->family == 6) {
		memcpy(&lo, a->b, 8);
		memcpy(&hi, a->b + 8, 8);
	} else {
		return -1;
	}
	memcpy(out->b, &lo, 8);
	memcpy(out->b + 8, &hi, 8);
	out->family = a->family;
	return 0;
}

/* Hash of a key: the client table's hash (clienthash.h) of the first 8
 * address bytes (IPv4: 4) as a big-endian integer and the family, so that
 * the engine can hash a client once for both tables.
 * Bytes 8..15 are compared, not hashed (the engine aggregates IPv6 to <= 64
 * bits, so they are zero). */
static uint64_t key_hash(const struct dw_suspects *s, const struct key *key)
{
	uint64_t k = 0;
	int n = key->family == 4 ? 4 : 8;

	for (int i = 0; i < n; i++)
		k = k << 8 | key->b[i];
	return dw_chash(&s->ch, k, key->family);
}

/* The shard (hash bits 32..) and bucket (bits 0..31) of a key's hash. */
static struct shard *locate_h(const struct dw_suspects *s, uint64_t h, uint32_t *bucket)
{
	struct shard *sh = &s->shards[(uint32_t)(h >> 32) & s->shard_mask];

	*bucket = (uint32_t)h & sh->bmask;
	return sh;
}

/* The key's shard and bucket. */
static struct shard *locate(const struct dw_suspects *s, const struct key *key, uint32_t *bucket)
{
	return locate_h(s, key_hash(s, key), bucket);
}

void dw_suspects_set_client_key(struct dw_suspects *s, uint64_t k0, uint64_t k1)
{
	dw_chash_derive(&s->ch, k0, k1);
}

void dw_suspects_set_name_key(struct dw_suspects *s, uint64_t k0, uint64_t k1)
{
	s->k0 = k0;
	s->k1 = k1;
}

static inline struct ent *ent_at(const struct shard *sh, uint32_t i)
{
	return &sh->chunks[i >> CHUNK_SHIFT][i & CHUNK_MASK];
}

static inline uint16_t head_of(const struct shard *sh, uint32_t bucket)
{
	return atomic_load_explicit(&sh->buckets[bucket], memory_order_relaxed);
}

static inline void set_head(struct shard *sh, uint32_t bucket, uint16_t i)
{
	atomic_store_explicit(&sh->buckets[bucket], i, memory_order_relaxed);
}

/* Two 16-byte keys are equal: two 8-byte compares, no call. */
static inline bool addr_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Chain walk; NIL when the client is not in this shard. Under the lock. */
static uint16_t find(const struct shard *sh, uint32_t bucket, const struct key *key)
{
	uint16_t i = head_of(sh, bucket);

	while (i != NIL) {
		const struct ent *e = ent_at(sh, i);

		if (e->family == key->family && addr_eq(e->addr, key->b))
			return i;
		i = e->hnext;
	}
	return NIL;
}

/* The LRU list (table_core.inc.c), for this entry type. */
#define TC_TABLE_PARAM
#define TC_ENT(sh, i) ent_at((sh), (i))
#define TC_ENT_BYTES sizeof(struct ent)
#define TC_INDEX_BYTES(sh) (((uint64_t)(sh)->bmask + 1) * sizeof(*(sh)->buckets))
#include "table_core.inc.c"

/* Remove entry i from its chain; its bucket comes from rehashing its key
 * (only on eviction, so entries need not carry 4 more bytes of hash). */
static void hash_unlink(const struct dw_suspects *s, struct shard *sh, uint16_t i)
{
	const struct ent *e = ent_at(sh, i);
	struct key key;
	uint32_t bucket;

	memcpy(key.b, e->addr, 16);
	key.family = e->family;
	(void)locate(s, &key, &bucket);
	uint16_t at = head_of(sh, bucket);

	if (at == i) {
		set_head(sh, bucket, e->hnext);
		return;
	}
	while (ent_at(sh, at)->hnext != i)
		at = ent_at(sh, at)->hnext;
	ent_at(sh, at)->hnext = e->hnext;
}

/* An entry for a new suspect: a fresh one, else the least recently noted one,
 * unlinked from list and chain. NIL only for an empty shard without memory. */
static uint16_t take_entry(const struct dw_suspects *s, struct shard *sh, int *ret)
{
	if (sh->used == sh->alloc)
		grow_chunks(sh);
	if (sh->used < sh->alloc)
		return (uint16_t)sh->used++;
	uint16_t victim = sh->tail;

	if (victim == NIL)
		return NIL;
	lru_unlink(sh, victim);
	hash_unlink(s, sh, victim);
	sh->evictions++;
	*ret |= DW_SUSPECTS_EVICTED;
	return victim;
}

/* count() when a new window slot began: every counter moves. */
static void count_slow(const struct dw_suspects *s, struct ent *e, uint32_t at, uint32_t inc)
{
	for (unsigned c = 0; c < NCOUNTERS; c++)
		(void)dw_window_update(&s->win, e->slots[c], e->last, at,
		                       (uint16_t)((inc >> c) & 1u));
	e->last = at;
}

/* Move e's windows to `at` (>= e->last) and add one to every counter whose
 * bit is set in inc. Within the slot of e->last nothing expires, so only the
 * incremented counters need the call (see the file comment); that common
 * case is inline. */
static inline void count(const struct dw_suspects *s, struct ent *e, uint32_t at, uint32_t inc)
{
	uint32_t slot = at / s->win.g;

	if (at != e->last && slot != e->last / s->win.g) {
		count_slow(s, e, at, inc);
		return;
	}
	/* dw_window_update() within the slot of last: nothing expires, the
	 * current slot grows by one (saturating); no sum needed */
	for (; inc != 0; inc &= inc - 1) { /* the set bits only */
		uint16_t *cur = &e->slots[__builtin_ctz(inc)][slot % DW_WINDOW_SLOTS];

		if (*cur != DW_WINDOW_SLOT_MAX)
			++*cur;
	}
	e->last = at;
}

/* Counter bits of a query: its class, then its flags. */
static uint32_t counter_bits(enum dw_qclass qc, uint32_t features)
{
	unsigned c = (unsigned)qc < DW_Q_COUNT ? (unsigned)qc : (unsigned)DW_Q_OTHER;

	return (1u << c) | ((features & FEAT_MASK) << DW_Q_COUNT);
}

/* ASCII case-insensitive equality of two NUL-terminated texts. */
static bool text_equal(const char *a, const char *b)
{
	for (; *a != '\0' && fold((uint8_t)*a) == fold((uint8_t)*b); a++, b++)
		;
	return *a == *b;
}

/* A wire name as dw_name_to_text() accepts it as valid: labels of 1..63
 * bytes, the zero byte exactly at the end, at most DW_NAME_MAXWIRE bytes. */
static bool wire_ok(const uint8_t *w, size_t len)
{
	size_t pos = 0;

	if (len == 0 || len > DW_NAME_MAXWIRE)
		return false;
	while (w[pos] != 0) {
		if (w[pos] > 63 || pos + 1 + w[pos] >= len)
			return false;
		pos += 1 + (size_t)w[pos];
	}
	return pos + 1 == len;
}

/* Print the name (it is new to the entry, or malformed), cut it to
 * DW_SUSPECTS_NAME_MAX bytes (whole characters and escapes only;
 * dw_name_to_text() guarantees that when asked for a shorter text), and for
 * a malformed name hash the whole text. */
static void name_text(const struct dw_suspects *s, const uint8_t *qname, size_t len,
                      struct name *nm)
{
	char full[DW_NAME_TEXT_MAX];
	size_t n;

	dw_name_to_text(qname, len, full, sizeof(full));
	n = strlen(full);
	if (!nm->wf)
		nm->hash = name_hash(s, (const uint8_t *)full, n, &nm->upper);
	nm->have_text = true;
	nm->cut = n > DW_SUSPECTS_NAME_MAX;
	if (!nm->cut) {
		memcpy(nm->text, full, n + 1);
		return;
	}
	dw_name_to_text(qname, len, nm->text, TEXT - (sizeof(DW_SUSPECTS_CUT) - 1));
	n = strlen(nm->text);
	memcpy(nm->text + n, DW_SUSPECTS_CUT, sizeof(DW_SUSPECTS_CUT));
}

/* Before the lock: hash a well-formed name as wire (the common case costs no
 * printing); print and hash a malformed one. The text of a well-formed name
 * is a one-to-one function of its case-folded wire form (escapes are
 * unambiguous), so both hashes tell the same names apart; a well-formed and a
 * malformed name never compare equal as text (one ends in '.', the other in
 * "<malformed>"). */
static void prepare_name(const struct dw_suspects *s, const uint8_t *qname, size_t len,
                         struct name *nm)
{
	nm->have_text = false;
	nm->wf = wire_ok(qname, len);
	if (nm->wf) {
		nm->wire = qname;
		nm->hash = name_hash(s, qname, len, &nm->upper);
	} else {
		nm->wire = NULL;
		name_text(s, qname, len, nm);
	}
}

/* Bytes of text a wire byte prints as in a label (feature.h: 4 for \DDD
 * outside '!'..'~', 2 for the escaped specials . \ " ; ( ) @ $, else 1). */
static inline unsigned esc_width(uint8_t c)
{
	if (c < '!' || c > '~')
		return 4;
	switch (c) {
	case '.':
	case '\\':
	case '"':
	case ';':
	case '(':
	case ')':
	case '@':
	case '$':
		return 2;
	default:
		return 1;
	}
}

/* Whether stored text t (cut when `cut`) is the text of the well-formed wire
 * name w, ASCII case-insensitively, without printing w: token by token over
 * the stored bytes; for a cut text, the stored prefix must match and w's
 * whole text must be long enough to be cut (the keyed hash vouches for the
 * rest, as it does for cut texts). With respell, the match is known and w's
 * spelling (only letters can differ) is written over t instead. */
static int wire_is_text(char *t, bool cut, const uint8_t *w, bool respell)
{
	bool exact = true; /* no letter differs in case */
	size_t tlen = strlen(t), plen = cut ? tlen - (sizeof(DW_SUSPECTS_CUT) - 1) : tlen;
	size_t at = 0, pos = 0;

	if (w[0] == 0)
		return !cut && tlen == 1 && t[0] == '.';
	for (; w[pos] != 0; pos += 1 + (size_t)w[pos]) {
		for (size_t j = 1; j <= w[pos]; j++) {
			uint8_t c = w[pos + j];
			unsigned wd = esc_width(c);

			if (at + wd > plen) {
				if (!cut || at < plen)
					return false; /* a token across the end of the text */
				at += wd; /* past the stored prefix: only the length counts */
				continue;
			}
			if (wd == 1) {
				if (respell)
					t[at] = (char)c;
				else if ((uint8_t)t[at] != c) {
					if (fold((uint8_t)t[at]) != fold(c))
						return false;
					exact = false;
				}
			} else if (!respell) {
				if (t[at] != '\\')
					return false;
				if (wd == 2 ? t[at + 1] != (char)c
				            : (t[at + 1] != '0' + c / 100 ||
				               t[at + 2] != '0' + c / 10 % 10 ||
				               t[at + 3] != '0' + c % 10))
					return false;
			}
			at += wd;
		}
		if (at + 1 > plen) {
			if (!cut || at < plen)
				return false;
		} else if (!respell && t[at] != '.') {
			return false;
		}
		at++;
	}
	if (!(cut ? at > DW_SUSPECTS_NAME_MAX : at == tlen))
		return 0;
	return exact ? 2 : 1;
}

/* Whether stored text t, known plain (every byte as in the wire name, the
 * length bytes printed as '.', not cut), is the text of the well-formed wire
 * name w of len bytes: the common repeat of a kept name, compared in one pass
 * with none of wire_is_text()'s escape bookkeeping. 2 same spelling, 1 equal
 * but a letter differs in case, 0 another name. A wire byte '.' or 0 inside a
 * label would print escaped, so it never matches a plain text. */
static int plain_is_wire(const char *t, const uint8_t *w, size_t len)
{
	bool exact = true;
	size_t k = 0, pos = 0;

	if (len < 2 || len - 1 > DW_SUSPECTS_NAME_MAX)
		return 0; /* a plain text is <= DW_SUSPECTS_NAME_MAX bytes: k stays in t */
	for (size_t n; (n = w[pos]) != 0; pos += 1 + n) {
		const uint8_t *lab = w + pos + 1, *tt = (const uint8_t *)t + k;

		for (size_t j = 0; j < n; j++) {
			uint8_t c = lab[j], d = tt[j];

			if (c != d) {
				if (fold(c) != fold(d))
					return 0;
				exact = false;
			} else if (d == '.' || d == 0) {
				return 0;
			}
		}
		k += n;
		if (t[k++] != '.')
			return 0;
	}
	if (t[k] != '\0')
		return 0;
	return exact ? 2 : 1;
}

/* The plain text of the well-formed wire name w of len bytes (each label's
 * bytes, a '.' after each) into out (TEXT bytes), for the common repeat of
 * a kept plain name: one memcmp() instead of plain_is_wire()'s byte loop.
 * False when w has no plain text (a label holds a '.' or a 0, which print
 * escaped; also, harmlessly, a 46-byte label) or it would be cut. */
static bool plain_text_of(const uint8_t *w, size_t len, char *out)
{
	if (len < 2 || len - 1 > DW_SUSPECTS_NAME_MAX || memchr(w + 1, '.', len - 1) != NULL ||
	    memchr(w + 1, 0, len - 2) != NULL)
		return false;
	memcpy(out, w + 1, len - 1);
	for (size_t pos = w[0] + 1u; pos < len; pos += 1u + w[pos])
		out[pos - 1] = '.';
	out[len - 1] = '\0';
	return true;
}

/* A kept name's info byte: the flags and class of its latest query. */
static inline uint8_t name_info(enum dw_qclass qc, uint32_t features)
{
	unsigned c = (unsigned)qc < DW_Q_COUNT ? (unsigned)qc : (unsigned)DW_Q_OTHER;

	return (uint8_t)((features & FEAT_MASK) | c << INFO_QC_SHIFT);
}

/* Whether a text holds a letter A-Z (only when a kept text changes). */
static bool text_upper(const char *t)
{
	for (; *t != '\0'; t++)
		if (*t >= 'A' && *t <= 'Z')
			return true;
	return false;
}

/* Set or clear slot's bit in e->lower. */
static inline void set_lower(struct ent *e, unsigned slot, bool lower)
{
	if (lower)
		e->lower |= (uint8_t)(1u << slot);
	else
		e->lower &= (uint8_t) ~(1u << slot);
}

/* Record a name in e: to the front if already there, else in a free slot or
 * in place of the oldest. A well-formed name already there is compared and
 * respelled in place; only a new one is printed (here, under the lock). */
static void remember(const struct dw_suspects *s, struct ent *e, struct name *nm,
                     const uint8_t *qname, size_t len, enum dw_qclass qc, uint32_t features)
{
	unsigned pos, slot;
	int match = 0; /* wire_is_text(): 2 when the stored spelling is the same */
	int plain = -1; /* dot holds the plain text of the wire name: unknown yet */
	char dot[TEXT];

	for (pos = 0; pos < e->nnames; pos++) {
		slot = e->order[pos];
		if (e->nhash[slot] != nm->hash)
			continue;
		if (nm->wf && !nm->upper && (e->plain & e->lower & (1u << slot))) {
			/* the common repeat: a lower-case name, kept plain in lower
			 * case, with its hash (which covers the length): the same
			 * name, spelled the same (the header's collision note) */
			match = 2;
			break;
		}
		if (nm->have_text)
			match = text_equal(e->names[slot], nm->text);
		else if (e->plain & (1u << slot)) {
			if (plain < 0)
				plain = plain_text_of(nm->wire, len, dot);
			if (plain && memcmp(e->names[slot], dot, len) == 0)
				match = 2; /* the same spelling */
			else
				match = plain_is_wire(e->names[slot], nm->wire, len);
		} else
			match =
			    wire_is_text(e->names[slot], e->cut & (1u << slot), nm->wire, false);
		if (match != 0)
			break;
	}
	if (pos == e->nnames) {
		if (e->nnames < NAMES)
			e->order[e->nnames++] = (uint8_t)pos;
		else
			pos = NAMES - 1; /* the oldest makes room */
		if (!nm->have_text)
			name_text(s, qname, len, nm);
	}
	slot = e->order[pos];
	if (pos != 0) {
		memmove(&e->order[1], &e->order[0], pos);
		e->order[0] = (uint8_t)slot;
	}
	/* the latest spelling, class and flags */
	if (nm->have_text) {
		size_t n = strlen(nm->text);

		memcpy(e->names[slot], nm->text, n + 1);
		/* one text byte per wire byte but the first: no escape */
		if (nm->wf && !nm->cut && len >= 2 && n == len - 1)
			e->plain |= (uint8_t)(1u << slot);
		else
			e->plain &= (uint8_t) ~(1u << slot);
		set_lower(e, slot, !text_upper(nm->text));
	} else if (match != 2) { /* respell only when a letter's case differs */
		(void)wire_is_text(e->names[slot], e->cut & (1u << slot), nm->wire, true);
		set_lower(e, slot, !text_upper(e->names[slot]));
	}
	e->nhash[slot] = nm->hash;
	e->info[slot] = name_info(qc, features);
	if (!nm->have_text)
		return; /* same name, same cut */
	if (nm->cut)
		e->cut |= (uint8_t)(1u << slot);
	else
		e->cut &= (uint8_t) ~(1u << slot);
}

/* Fill a new entry for key at now (the caller links it). */
static void init_ent(struct ent *e, const struct key *key, uint32_t now)
{
	memset(e, 0, offsetof(struct ent, names));
	memcpy(e->addr, key->b, 16);
	e->family = key->family;
	e->first = e->last = e->noted = now;
}

static inline int note(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                       size_t qname_len, struct name *nm) __attribute__((always_inline));

int dw_suspects_note(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                     enum dw_qclass qc, uint32_t features, const uint8_t *qname, size_t qname_len)
{
	struct key key;

	if (make_key(client, &key) != 0)
		return DW_SUSPECTS_EINVAL;
	return dw_suspects_note_h(s, client, key_hash(s, &key), now, qc, features, qname,
	                          qname_len);
}

int dw_suspects_note_h(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                       size_t qname_len)
{
	struct name nm;

	if (qname != NULL)
		prepare_name(s, qname, qname_len, &nm);
	return note(s, client, hash, now, qc, features, qname, qname_len, &nm);
}

int dw_suspects_note_wf(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                        uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                        size_t qname_len, uint32_t name_hash, int name_upper)
{
	struct name nm;

	nm.have_text = false;
	nm.wf = true;
	nm.wire = qname;
	nm.hash = name_hash;
	nm.upper = name_upper != 0;
	return note(s, client, hash, now, qc, features, qname, qname_len, &nm);
}

/* The note itself, the name prepared (nm, unused when qname is NULL);
 * inlined into both callers (one call less on the query path). */
static inline int note(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                       size_t qname_len, struct name *nm)
{
	struct key key;
	uint32_t bucket;
	int ret = 0;

	if (make_key(client, &key) != 0)
		return DW_SUSPECTS_EINVAL;
	struct shard *sh = locate_h(s, hash, &bucket);

	dw_tc_lock(&sh->mu);
	uint16_t i = find(sh, bucket, &key);
	struct ent *e;

	if (i == NIL) {
		i = take_entry(s, sh, &ret);
		if (i == NIL) {
			dw_tc_unlock(&sh->mu);
			return DW_SUSPECTS_ENOMEM;
		}
		e = ent_at(sh, i);
		init_ent(e, &key, now);
		e->hnext = head_of(sh, bucket);
		set_head(sh, bucket, i);
		lru_push_head(sh, i);
		sh->inserts++;
		ret |= DW_SUSPECTS_NEW;
	} else {
		e = ent_at(sh, i);
		/* move only on a new second: the list stays ordered by second */
		if (now > e->noted && sh->head != i) {
			lru_unlink(sh, i);
			lru_push_head(sh, i);
		}
	}
	uint32_t at = now > e->last ? now : e->last;

	count(s, e, at, counter_bits(qc, features));
	e->noted = at;
	if (qname != NULL) {
		unsigned f = e->order[0];

		/* the most common repeat, inline: the front name again (as in
		 * remember()'s fast test); only its class and flags change */
		if (e->nnames != 0 && e->nhash[f] == nm->hash && nm->wf && !nm->upper &&
		    (e->plain & e->lower & (1u << f)))
			e->info[f] = name_info(qc, features);
		else
			remember(s, e, nm, qname, qname_len, qc, features);
	}
	dw_tc_unlock(&sh->mu);
	return ret;
}

int dw_suspects_touch_class(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                            enum dw_qclass qc)
{
	struct key key;

	if (make_key(client, &key) != 0)
		return DW_SUSPECTS_EINVAL;
	return dw_suspects_touch_class_h(s, client, key_hash(s, &key), now, qc);
}

int dw_suspects_touch_class_h(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                              uint32_t now, enum dw_qclass qc)
{
	struct key key;
	uint32_t bucket;
	int found = 0;

	if (make_key(client, &key) != 0)
		return DW_SUSPECTS_EINVAL;
	struct shard *sh = locate_h(s, hash, &bucket);

	/* the common case: nobody in the bucket, so not a suspect; no lock */
	if (head_of(sh, bucket) == NIL)
		return 0;
	dw_tc_lock(&sh->mu);
	uint16_t i = find(sh, bucket, &key);

	if (i != NIL) {
		struct ent *e = ent_at(sh, i);

		count(s, e, now > e->last ? now : e->last, counter_bits(qc, 0));
		found = 1;
	}
	dw_tc_unlock(&sh->mu);
	return found;
}

/* Fill a view of entry e at now without modifying it. */
static void read_view(const struct dw_suspects *s, const struct ent *e, uint32_t now,
                      struct dw_suspect_view *v)
{
	uint32_t at = now > e->last ? now : e->last;

	memset(&v->addr, 0, sizeof(v->addr));
	v->addr.family = e->family;
	memcpy(v->addr.b, e->addr, 16);
	v->now = at;
	v->first_seen = e->first;
	v->last_seen = e->last;
	v->last_suspicious = e->noted;
	v->window = s->win.seconds;
	for (unsigned c = 0; c < DW_Q_COUNT; c++)
		v->qclass[c] = dw_window_count(&s->win, e->slots[c], e->last, at);
	for (unsigned f = 0; f < DW_FEAT_COUNT; f++)
		v->feature[f] = dw_window_count(&s->win, e->slots[DW_Q_COUNT + f], e->last, at);
	v->nnames = e->nnames;
	v->cut = 0;
	for (unsigned p = 0; p < NAMES; p++) {
		if (p >= e->nnames) {
			v->name_qclass[p] = v->name_flags[p] = 0;
			v->names[p][0] = '\0';
			continue;
		}
		unsigned slot = e->order[p];

		v->name_qclass[p] = (uint8_t)(e->info[slot] >> INFO_QC_SHIFT);
		v->name_flags[p] = (uint8_t)(e->info[slot] & FEAT_MASK);
		if (e->cut & (1u << slot))
			v->cut |= (uint8_t)(1u << p);
		memcpy(v->names[p], e->names[slot], strlen(e->names[slot]) + 1);
	}
}

int dw_suspects_get(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                    struct dw_suspect_view *out)
{
	struct key key;
	uint32_t bucket;
	int found = 0;

	if (make_key(client, &key) != 0)
		return DW_SUSPECTS_EINVAL;
	struct shard *sh = locate(s, &key, &bucket);

	dw_tc_lock(&sh->mu);
	uint16_t i = find(sh, bucket, &key);

	if (i != NIL) {
		read_view(s, ent_at(sh, i), now, out);
		found = 1;
	}
	dw_tc_unlock(&sh->mu);
	return found;
}

int dw_suspects_foreach(struct dw_suspects *s, uint32_t now, dw_suspects_visit_fn fn, void *arg)
{
	struct dw_suspect_view v;

	for (uint32_t n = 0; n < s->nshards; n++) {
		struct shard *sh = &s->shards[n];
		int rc = 0;

		dw_tc_lock(&sh->mu);
		for (uint32_t i = 0; i < sh->used && rc == 0; i++) {
			read_view(s, ent_at(sh, i), now, &v);
			rc = fn(arg, &v);
		}
		dw_tc_unlock(&sh->mu);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void dw_suspects_stats(struct dw_suspects *s, struct dw_suspects_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = s->max;
	out->entry_bytes = (uint32_t)sizeof(struct ent);
	out->shards = s->nshards;
	struct tc_sums sum = {0, 0, 0, sizeof(*s) + (uint64_t)s->nshards * sizeof(struct shard)};

	for (uint32_t n = 0; n < s->nshards; n++) {
		struct shard *sh = &s->shards[n];

		dw_tc_lock(&sh->mu);
		shard_sums(sh, &sum);
		dw_tc_unlock(&sh->mu);
	}
	out->tracked = sum.tracked;
	out->inserts = sum.inserts;
	out->evictions = sum.evictions;
	out->bytes = sum.bytes;
}

/* Shards for max suspects: a power of two, AUTO_SHARDS unless that leaves
 * fewer than AUTO_MIN_PER_SHARD per shard, more if a shard would exceed
 * SHARD_MAX. */
static uint32_t auto_shards(uint32_t max)
{
	return dw_tc_auto_shards(max, AUTO_SHARDS, AUTO_MIN_PER_SHARD, SHARD_MAX);
}

/* 128 unpredictable bits for the hash key. */
static int seed(struct dw_suspects *s, char *err, size_t errlen)
{
	if (dw_siphash_key(&s->k0, &s->k1, err, errlen) != 0)
		return -1;
	dw_chash_derive(&s->ch, s->k0, s->k1);
	return 0;
}

struct dw_suspects *dw_suspects_new(uint32_t max, uint32_t window_seconds, char *err, size_t errlen)
{
	struct dw_window win;

	if (max < 1 || max > DW_SUSPECTS_MAX) {
		dw_set_err(err, errlen, "suspects.max must be 1..%u, got %u", DW_SUSPECTS_MAX, max);
		return NULL;
	}
	if (dw_window_init(&win, window_seconds) != 0) {
		dw_set_err(err, errlen, "suspects.window must be 1..%u seconds, got %u", DW_WINDOW_MAX,
		        window_seconds);
		return NULL;
	}
	struct dw_suspects *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		dw_set_err(err, errlen, "suspect store: out of memory");
		return NULL;
	}
	s->max = max;
	s->win = win;
	if (seed(s, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	s->nshards = auto_shards(max);
	s->shard_mask = s->nshards - 1;
	s->shards = aligned_alloc(_Alignof(struct shard), s->nshards * sizeof(struct shard));
	if (s->shards == NULL) {
		dw_set_err(err, errlen, "suspect store: out of memory for %u shards", s->nshards);
		free(s);
		return NULL;
	}
	shards_init(s->shards, s->nshards, max);
	for (uint32_t n = 0; n < s->nshards; n++) {
		struct shard *sh = &s->shards[n];
		uint32_t nb = 1;

		while (nb < BUCKETS_PER_ENTRY * sh->cap)
			nb <<= 1;
		sh->bmask = nb - 1;
		sh->buckets = malloc(nb * sizeof(*sh->buckets));
		if (sh->buckets == NULL) {
			dw_set_err(err, errlen, "suspect store: out of memory for the index of %u",
			        max);
			dw_suspects_free(s); /* the shards after n hold nothing yet */
			return NULL;
		}
		for (uint32_t b = 0; b < nb; b++)
			atomic_init(&sh->buckets[b], NIL);
	}
	return s;
}

void dw_suspects_free(struct dw_suspects *s)
{
	if (s == NULL)
		return;
	shards_free(s->shards, s->nshards);
	free(s->shards);
	free(s);
}
