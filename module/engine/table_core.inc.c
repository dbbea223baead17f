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
 *     parameter named in TC_TABLE_PARAM).
 * The list functions run under the shard's lock (table_core.h).
 */
#ifndef TC_ENT
#error "define TC_ENT(sh, i) and TC_TABLE_PARAM before including table_core.inc.c"
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

#undef TC_ENT
#undef TC_TABLE_PARAM
