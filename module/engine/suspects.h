/**
 * \file
 * The suspect store: rich evidence, kept only for the few clients whose
 * queries look suspicious, so that a verdict can say what the client did.
 *
 * What it is for: the client table (clients.h) keeps ~128 compact bytes for
 * every client. A verdict needs more: when the client was first and last
 * seen, how many queries of each class and with each feature flag it sent in
 * the last evidence window, and which names it asked. The engine calls
 * dw_suspects_note() for a suspicious query (an MX or PTR query, or any
 * DW_FEAT_* flag of feature.h), which makes its client a suspect, and
 * dw_suspects_touch_class() for every other query, which counts only when the
 * client already is one (so the A/AAAA counts in the evidence are real). Call
 * exactly one of the two per query, or the query is counted twice. Queries a
 * client sent before its first suspicious one are not in its evidence.
 *
 * Key: the struct dw_addr the caller passes, already aggregated (IPv4 /32,
 * IPv6 prefix with host bits zero, as the client table keys it); all 16
 * address bytes are compared, so an IPv6 prefix of any length works. Bytes
 * 4..15 of an IPv4 address are ignored.
 *
 * Evidence per suspect:
 *   - first_seen (first suspicious query), last_seen (last counted query of
 *     any kind), last_suspicious (last dw_suspects_note());
 *   - 10 counters over ONE window of window_seconds (exact edges and 16-bit
 *     slot saturation as in window.h): queries per class (DW_Q_*) and
 *     suspicious queries per feature flag (a query with two flags counts in
 *     both);
 *   - the last DW_SUSPECTS_NAMES distinct qnames of suspicious queries, most
 *     recent first, each with the class and flags of its latest query. Names
 *     are compared ASCII case-insensitively ("MX1.Example.COM" and
 *     "mx1.example.com" are one name; the latest spelling is kept) and a name
 *     asked again moves to the front instead of appearing twice. They are
 *     stored in presentation form (dw_name_to_text(), so hostile bytes are
 *     escaped), at most DW_SUSPECTS_NAME_MAX bytes: a longer text is cut
 *     between whole characters or escapes and ends in DW_SUSPECTS_CUT
 *     ("..."), which no uncut name ends with (uncut valid names end in one
 *     '.', malformed ones in "<malformed>"); the view also flags cut names.
 *     Two long names that share their first 93 bytes stay distinct (a keyed
 *     32-bit hash of the whole name, dw_name_hash() of feature.h, which
 *     covers its length, is kept with each name). A well-formed query name
 *     without a capital letter whose hash and length equal those of a kept
 *     escape-free, uncut, all-lower-case text is taken for that name
 *     without comparing bytes (the common repeat); every other case is
 *     compared. Collision consequence: a different name of the same length
 *     and hash (probability about 8 × 2^-32 per such query, and the key is
 *     random per store, so names cannot be chosen to collide without
 *     learning it) is filed as the kept one: the evidence list shows the
 *     earlier name with the new query's class and flags. Counts, verdicts
 *     and other suspects are unaffected, a suspect's own names are all it
 *     can collide with, and a client could hide a name from its own list
 *     more simply by asking 8 others.
 *
 * Eviction: at most `max` suspects (max / shards per shard, the remainder
 * spread, so the total is exactly max); a new suspect in a full shard
 * replaces the shard's least recently SUSPICIOUS one, i.e. the one whose last
 * dw_suspects_note() is oldest (by second, ties to the earlier). Benign
 * queries (touch) do not keep a suspect alive: a busy host that once asked
 * one PTR must not keep a slot away from a client that is scanning now.
 *
 * Memory (bounded by max; nothing grows beyond it):
 *   - per suspect: 1024 bytes (56 of key, times, links and name order, 32 of
 *     name hashes, 160 of window slots (10 × 8 × uint16), 776 of names
 *     (8 × 97)), allocated in chunks of 16 (16 KiB) as a shard fills, never
 *     freed before dw_suspects_free(); 0.5 B of chunk pointers;
 *   - allocated up front: the hash index, 2 bytes × (power of two >= 8 × the
 *     shard's share of max), i.e. 16..32 B per suspect of capacity, plus
 *     128 B per shard (64 shards from max 4096 up, fewer below).
 *   At max = 16384: 16.3 MiB when full (1041 B per suspect), 264 KiB when
 *   empty; at DW_SUSPECTS_MAX 16 MiB up front. dw_suspects_stats() reports
 *   the exact figure.
 *
 * Work per call:
 *   - dw_suspects_touch_class() for a client that is not a suspect: one
 *     client hash (clienthash.h) and one relaxed atomic load of its bucket,
 *     no lock (the bucket is empty unless another suspect shares it:
 *     probability <= 1 - e^(-1/8), 12 %, with the store full, ~0 with few
 *     suspects); otherwise one shard lock and an expected O(1) chain walk.
 *     For a suspect: + one window update, all 10 when a new window slot began
 *     (O(8) each, window.h).
 *   - dw_suspects_note(): before the lock, a check of the wire name's labels
 *     and a keyed multiply-xorshift hash of the case-folded wire name, 8
 *     bytes a step (dw_name_hash(); a malformed name is printed and its
 *     text hashed instead); dw_suspects_note_wf() takes both from the
 *     feature pass instead (dw_features.name_hash). Then one shard lock,
 *     the chain walk, one window update per counted counter (all 10 when a
 *     new window slot began; within the slot only the counted counters'
 *     current slot is bumped), <= 8 hash compares; a repeated lower-case
 *     name kept plain needs nothing more (the collision note above); any
 *     other kept escape-free name is confirmed by one memcmp() of its text
 *     with the wire name's plain text (a letter in another case: one pass
 *     over the wire bytes), an escaped or cut one token by token, and
 *     rewritten only when the case of a letter changed; only a name new to
 *     the suspect is printed (dw_name_to_text()) and copied (<= 97 bytes).
 *     Measured (tools/dev/bench, whole-process callgrind, callgrind_annotate
 *     --inclusive=yes): about 220 instructions for a repeated 18-byte
 *     lower-case name through dw_suspects_note_wf(), lock included (was
 *     550 with the hash and the comparison, 820 before that). An
 *     insert may allocate one chunk (warm-up, every 16 new suspects of a
 *     shard, until the shard holds max / shards); an insert into a full
 *     shard also walks the victim's chain. No allocation once full, no I/O.
 *   - get: O(1) + O(10 × 8); foreach O(tracked); stats O(shards).
 *
 * Thread safety: every function may be called from any thread concurrently,
 * except dw_suspects_free() (no call may be running or follow). A suspect's
 * state is read and written under its shard's lock (the sharded-table
 * core's spinlock and lock rules, table_core.h), so no count is lost;
 * the only lock-free access is touch_class's read of a bucket head (written
 * under the lock with atomic stores: a touch that follows a note of the same
 * client always sees it). foreach and stats hold one shard lock at a time.
 * foreach's callback runs under a shard lock: it must be short, must not
 * block, do I/O or call back into the store; the view is valid during the
 * call only.
 *
 * Time: `now` is caller-supplied monotonic seconds, as in window.h. A
 * suspect's clock never moves backwards: a call with now < last_seen counts
 * at last_seen.
 *
 * Errors: dw_suspects_new() returns NULL with a sentence in err. The other
 * calls return DW_SUSPECTS_EINVAL for an address family other than 4 or 6;
 * dw_suspects_note() returns DW_SUSPECTS_ENOMEM only when an empty shard
 * cannot allocate its first chunk (otherwise it evicts); nothing changes in
 * either case. A class outside DW_Q_* counts as DW_Q_OTHER; flag bits above
 * DW_FEAT_COUNT are ignored; a NULL qname records no name, a malformed one
 * is recorded as dw_name_to_text() prints it ("...<malformed>").
 */
#ifndef DW_SUSPECTS_H
#define DW_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "feature.h"

/** Distinct qnames kept per suspect. */
#define DW_SUSPECTS_NAMES 8

/** Longest stored name text in bytes, without the NUL. */
#define DW_SUSPECTS_NAME_MAX 96

/** How a cut name text ends (part of the DW_SUSPECTS_NAME_MAX bytes). */
#define DW_SUSPECTS_CUT "..."

/** Largest max accepted. */
#define DW_SUSPECTS_MAX 1000000u

/** A sensible max for a campus resolver (the configuration's default). */
#define DW_SUSPECTS_DEFAULT_MAX 16384u

/** dw_suspects_note() result bits (>= 0) and errors (< 0). */
enum {
	DW_SUSPECTS_NEW = 1,     /**< the client was not a suspect and now is */
	DW_SUSPECTS_EVICTED = 2, /**< ... in place of its shard's least recently suspicious */
	DW_SUSPECTS_EINVAL = -1, /**< address family is neither 4 nor 6 */
	DW_SUSPECTS_ENOMEM = -2  /**< out of memory with nothing to evict */
};

/** One suspect's evidence as get and foreach return it (a copy). */
struct dw_suspect_view {
	struct dw_addr addr;             /**< the key (IPv4: bytes 4..15 zero) */
	uint32_t now;                    /**< time the counts are for: max(now passed, last_seen) */
	uint32_t first_seen;             /**< first suspicious query (eviction forgets) */
	uint32_t last_seen;              /**< last counted query, suspicious or not */
	uint32_t last_suspicious;        /**< last dw_suspects_note() */
	uint32_t window;                 /**< evidence window in seconds */
	uint32_t qclass[DW_Q_COUNT];     /**< queries per DW_Q_* class in the window */
	uint32_t feature[DW_FEAT_COUNT]; /**< [i]: suspicious queries with flag 1 << i */
	uint8_t nnames;                  /**< valid entries of names, 0..8 */
	uint8_t cut;                     /**< bit i: names[i] was cut */
	uint8_t name_qclass[DW_SUSPECTS_NAMES]; /**< enum dw_qclass of names[i]'s latest query */
	uint8_t name_flags[DW_SUSPECTS_NAMES];  /**< DW_FEAT_* flags of that query */
	char names[DW_SUSPECTS_NAMES][DW_SUSPECTS_NAME_MAX + 1]; /**< most recent first */
};

/** Called by dw_suspects_foreach() under a shard lock; nonzero stops the walk. */
typedef int (*dw_suspects_visit_fn)(void *arg, const struct dw_suspect_view *v);

/** Counters read by dw_suspects_stats(). */
struct dw_suspects_stats {
	uint64_t tracked;     /**< suspects now */
	uint64_t capacity;    /**< max */
	uint64_t inserts;     /**< suspects added since creation */
	uint64_t evictions;   /**< suspects dropped to make room */
	uint64_t bytes;       /**< heap held by the store (entries, index, shards) */
	uint32_t entry_bytes; /**< bytes of one suspect (1024) */
	uint32_t shards;      /**< number of shards */
};

struct dw_suspects;

/**
 * Create a store.
 * \param max suspects kept, 1 .. DW_SUSPECTS_MAX.
 * \param window_seconds the evidence window, 1 .. DW_WINDOW_MAX.
 * \param err receives a one-line reason on failure (may be NULL).
 * \param errlen size of err.
 * \return the store, or NULL (bad argument, ENOMEM, getrandom failure).
 */
struct dw_suspects *dw_suspects_new(uint32_t max, uint32_t window_seconds, char *err,
                                    size_t errlen);

/** Release the store (NULL is fine); no other call may run concurrently. */
void dw_suspects_free(struct dw_suspects *s);

/**
 * A suspicious query: make the client a suspect if it is not, count the
 * query in its class and flag counters, and record its name.
 * \param client aggregated client address.
 * \param now monotonic seconds.
 * \param qc the query's class (dw_features.qclass).
 * \param features its DW_FEAT_* flags (may be 0, e.g. for a plain MX query).
 * \param qname wire-format name, or NULL to record no name.
 * \param qname_len its length, the final zero included.
 * \return 0 for a known suspect, DW_SUSPECTS_NEW or DW_SUSPECTS_NEW |
 *         DW_SUSPECTS_EVICTED for a new one, < 0 on error.
 */
int dw_suspects_note(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                     enum dw_qclass qc, uint32_t features, const uint8_t *qname, size_t qname_len);

/** Any other query: counted in its class when the client is a suspect (and
 *  then last_seen moves, the eviction order does not). Returns 1 when
 *  counted, 0 when the client is not a suspect (no lock taken in the common
 *  case), DW_SUSPECTS_EINVAL for a bad address. */
int dw_suspects_touch_class(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                            enum dw_qclass qc);

/** The client table's address hash, so the engine hashes a client once per
 *  query: after this call the store hashes addresses as a dw_clients table
 *  with hash secret (k0, k1) does (dw_clients_hash()), and the _h calls
 *  below take that hash. Call once, right after dw_suspects_new(), before
 *  any other call (not thread-safe). Without it the store uses its own
 *  random key. */
void dw_suspects_set_client_key(struct dw_suspects *s, uint64_t k0, uint64_t k1);

/** dw_suspects_note() with the client's hash already computed
 *  (dw_clients_hash() of the table whose key was set; a wrong hash only
 *  finds nothing or files the suspect where lookups miss it). */
int dw_suspects_note_h(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                       uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                       size_t qname_len);

/** The key the store hashes names with (dw_name_hash(), feature.h): after
 *  this call a well-formed name's dw_features.name_hash from a feature set
 *  with this key (dw_feature_set_name_key()) may be passed to
 *  dw_suspects_note_wf(). Call once, right after dw_suspects_new(), before
 *  any other call (not thread-safe). Without it the store uses its own
 *  random key. */
void dw_suspects_set_name_key(struct dw_suspects *s, uint64_t k0, uint64_t k1);

/** dw_suspects_note_h() for a name the caller has already checked and
 *  hashed: qname (not NULL) is well formed (dw_features_of() returned 0 for
 *  it), name_hash is dw_name_hash() of it with the store's name key and
 *  name_upper whether it holds a letter A-Z (dw_features.name_hash and
 *  .name_upper, the key set with dw_suspects_set_name_key()). Spares the
 *  store a second pass over the name. A wrong hash files the name as
 *  another one (a wrong evidence list, counts unchanged). */
int dw_suspects_note_wf(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                        uint32_t now, enum dw_qclass qc, uint32_t features, const uint8_t *qname,
                        size_t qname_len, uint32_t name_hash, int name_upper);

/** dw_suspects_touch_class() with the client's hash already computed. */
int dw_suspects_touch_class_h(struct dw_suspects *s, const struct dw_addr *client, uint64_t hash,
                              uint32_t now, enum dw_qclass qc);

/** Read one suspect's evidence at now without changing it: 1 and *out
 *  filled, 0 when the client is not a suspect, DW_SUSPECTS_EINVAL. */
int dw_suspects_get(struct dw_suspects *s, const struct dw_addr *client, uint32_t now,
                    struct dw_suspect_view *out);

/** Visit every suspect with its evidence at now, shard by shard. Returns 0,
 *  or the first nonzero value fn returned (the walk stops there). */
int dw_suspects_foreach(struct dw_suspects *s, uint32_t now, dw_suspects_visit_fn fn, void *arg);

/** Fill *out with the store's counters (summed shard by shard). */
void dw_suspects_stats(struct dw_suspects *s, struct dw_suspects_stats *out);

#endif
