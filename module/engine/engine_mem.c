/**
 * \file
 * The module's memory as Unbound's `stats` shows it (mem.mod.dynlibmod):
 * the heap bytes of the engine's units, summed on the module's own thread
 * about once a second and read by any thread without a lock.
 */
#include <stdatomic.h>

#include "control.h"
#include "engine_int.h"
#include "upqueue.h"

/** How often the sum is refreshed (ms). */
#define MEM_MS 1000
/** Policy bytes per entry and up front (policy.h's figures). */
#define POLICY_ENTRY_BYTES 120u
#define POLICY_FIXED_BYTES (64u * (256u * sizeof(void *) + 64u))

/** dw_policy_foreach callback: count entries. */
static int count_one(void *arg, const struct dw_block *b)
{
	(void)b;
	(*(size_t *)arg)++;
	return 0;
}

/** Sum every unit's heap bytes now (module thread: takes the units' locks). */
static size_t mem_now(struct dw_engine *e)
{
	struct dw_clients_stats cs;
	struct dw_suspects_stats ss;
	struct dw_wl_stats ws;
	size_t n = sizeof(*e), entries = 0;

	dw_clients_stats(e->clients, &cs);
	dw_suspects_stats(e->suspects, &ss);
	dw_whitelist_stats(e->wl, &ws);
	dw_policy_foreach(e->policy, count_one, &entries);
	n += (size_t)cs.bytes + (size_t)ss.bytes + ws.mem_bytes;
	n += POLICY_FIXED_BYTES + entries * POLICY_ENTRY_BYTES;
	n += dw_ring_mem(e->verdicts) + dw_upq_mem(e->upstream);
	if (e->namestate) /* the distinct-name sets of dns_tunnel, dga, mx_worm */
		n += dw_namestate_bytes(e->namestate);
	if (e->control)
		n += dw_control_held(e->control);
	return n;
}

/** Refresh the sum when it is due (module thread; also at construction). */
void dw_engine_mem_tick(struct dw_engine *e, uint64_t now_ms)
{
	if (e->last_mem_ms && now_ms - e->last_mem_ms < MEM_MS)
		return;
	e->last_mem_ms = now_ms ? now_ms : 1;
	atomic_store_explicit(&e->mem_bytes, mem_now(e), memory_order_relaxed);
}

/** See engine.h. */
size_t dw_engine_mem(const struct dw_engine *e)
{
	return atomic_load_explicit(&((struct dw_engine *)e)->mem_bytes, memory_order_relaxed);
}
