/**
 * \file
 * The sharded-table core's per-entry-type part (table_core.h): the LRU list
 * over 16-bit links, instantiated by including this file once in each table
 * (as Knot Resolver instantiates kru.inc.c), so each copy is compiled for
 * one entry type and inlined like hand-written code.
 *
 * Before including, the table defines:
 *   - struct ent with uint16_t prev, next (the list links);
 *   - struct shard with uint16_t head, tail (the list ends), and its
 *     entries in chunks: `chunks` (an array of chunk pointers) and `alloc`
 *     (entries in the allocated chunks), CHUNK entries a chunk;
 *   - TC_TABLE_PARAM: the leading parameter(s) the table's entry lookup
 *     needs, with a trailing comma (e.g. `const struct dw_clients *t,`), or
 *     nothing;
 *   - TC_ENT(sh, i): the struct ent * of index i in shard sh (may use the
 *     parameter named in TC_TABLE_PARAM);
 *   - TC_ENT_BYTES: bytes of one entry (may use that parameter);
 *   - TC_INDEX_BYTES(sh): bytes of shard sh's hash index;
 *   - struct shard also has: atomic_uint mu (the lock), buckets (the index,
 *     freed with the shard), used, cap, inserts, evictions.
 * The list, growth and sums functions run under the shard's lock
 * (table_core.h); shards_init()/shards_free() run alone.
 */
#if !defined(TC_ENT) || !defined(TC_ENT_BYTES) || !defined(TC_INDEX_BYTES)
#error "define TC_ENT, TC_ENT_BYTES, TC_INDEX_BYTES, TC_TABLE_PARAM first"
#endif

/* Take entry i out of the LRU list. O(1). */
static void lru_unlink(TC_TABLE_PARAM struct shard *sh, uint16_t i)
{
	struct ent *e = TC_ENT(sh, i);

	if (e->prev != DW_TC_NIL)
		TC_ENT(sh, e->prev)->next = e->next;
	else
		sh->head = e->next;
	if (e->next != DW_TC_NIL)
		TC_ENT(sh, e->next)->prev = e->prev;
	else
		sh->tail = e->prev;
}

/* Put entry i (not in the list) at its head, the most recently used. O(1). */
static void lru_push_head(TC_TABLE_PARAM struct shard *sh, uint16_t i)
{
	struct ent *e = TC_ENT(sh, i);

	e->prev = DW_TC_NIL;
	e->next = sh->head;
	if (sh->head != DW_TC_NIL)
		TC_ENT(sh, sh->head)->prev = i;
	else
		sh->tail = i;
	sh->head = i;
}

/* Free a shard's chunks and their pointer array (the table's free; no call
 * may be running). */
static void free_chunks(struct shard *sh)
{
	for (uint32_t c = 0; c * CHUNK < sh->alloc; c++)
		free(sh->chunks[c]);
	free(sh->chunks);
}

/* Add one chunk of entries, up to the shard's cap (the last chunk holds
 * what is left of it); on failure nothing changes and the caller evicts
 * instead. Under the shard's lock; allocates (warm-up only). */
static void grow_chunks(TC_TABLE_PARAM struct shard *sh)
{
	if (sh->alloc >= sh->cap)
		return;
	if (sh->chunks == NULL) {
		sh->chunks = calloc((sh->cap + CHUNK - 1) / CHUNK, sizeof(*sh->chunks));
		if (sh->chunks == NULL)
			return;
	}
	uint32_t c = sh->alloc / CHUNK, left = sh->cap - sh->alloc;
	uint32_t n = left < CHUNK ? left : CHUNK;
	void *p = malloc((size_t)n * TC_ENT_BYTES);

	if (p == NULL)
		return;
	sh->chunks[c] = p;
	sh->alloc += n;
}

/* What the stats of a table add up over its shards. */
struct tc_sums {
	uint64_t tracked, inserts, evictions, bytes;
};

/* Add shard sh's entries, counters and heap (entries, chunk pointers, index)
 * to o. Under the shard's lock. */
static void shard_sums(TC_TABLE_PARAM const struct shard *sh, struct tc_sums *o)
{
	o->tracked += sh->used;
	o->inserts += sh->inserts;
	o->evictions += sh->evictions;
	o->bytes += (uint64_t)sh->alloc * TC_ENT_BYTES + TC_INDEX_BYTES(sh);
	if (sh->chunks != NULL)
		o->bytes += (sh->cap + CHUNK - 1) / CHUNK * sizeof(*sh->chunks);
}

/* Empty shards for a table of max entries over n shards: unlocked, empty
 * list, no memory yet, each with its share of max (dw_tc_shard_cap()). */
static void shards_init(struct shard *shards, uint32_t n, uint32_t max)
{
	for (uint32_t i = 0; i < n; i++) {
		struct shard *sh = &shards[i];

		memset(sh, 0, sizeof(*sh));
		atomic_init(&sh->mu, 0u);
		sh->cap = dw_tc_shard_cap(max, n, i);
		sh->head = sh->tail = DW_TC_NIL;
	}
}

/* Free the first n shards' chunks and indexes (not the array). */
static void shards_free(struct shard *shards, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free_chunks(&shards[i]);
		free((void *)shards[i].buckets);
	}
}

#undef TC_ENT
#undef TC_TABLE_PARAM
#undef TC_ENT_BYTES
#undef TC_INDEX_BYTES
