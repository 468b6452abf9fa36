/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hugepage memory provider for page pools.
 *
 * A binding reserves 2 MiB huge pages, DMA-maps each once per (device,
 * direction) and carves them into PAGE_SIZE netmem for the page pools of
 * one or several rx queues of a device. See net/core/mp_huge.c.
 */
#ifndef _NET_PAGE_POOL_MP_HUGE_H
#define _NET_PAGE_POOL_MP_HUGE_H

#include <linux/sizes.h>
#include <linux/types.h>
#include <net/page_pool/pp_policy.h>

struct mp_binding;
struct mp_huge_binding;
struct net_device;
struct netdev_rx_queue;
struct netlink_ext_ack;
struct seq_file;

/* One block is one 2 MiB huge page: order 9 with 4 KiB pages. */
#define MP_HUGE_SHIFT		21
#define MP_HUGE_ORDER		(MP_HUGE_SHIFT - PAGE_SHIFT)
#define MP_HUGE_PAGES		(1U << MP_HUGE_ORDER)

/* Blocks one binding may hold: 1 GiB. */
#define MP_HUGE_MAX_BLOCKS	512

/**
 * struct mp_huge_params - what a binding is asked to be
 * @blocks:	huge pages reserved when the binding is created
 * @max_blocks:	huge pages it may grow to when the reservation runs dry
 * @policy:	recycling policy name; empty for net.core.pp_policy_default
 * @policy_params: the policy's parameters
 * @nid:	NUMA node of the huge pages (NUMA_NO_NODE: the local node)
 */
struct mp_huge_params {
	u32 blocks;
	u32 max_blocks;
	char policy[PP_POLICY_NAME_MAX];
	struct pp_policy_params policy_params;
	int nid;
};

/**
 * enum mp_huge_stat - the binding's counters, as users see them
 * @MP_HUGE_STAT_BLOCKS:	huge pages held now
 * @MP_HUGE_STAT_BLOCKS_MAX:	huge pages the binding may grow to
 * @MP_HUGE_STAT_PAGES_CARVED:	pages carved out of huge pages (cumulative)
 * @MP_HUGE_STAT_PAGES_FREE:	pages held and free: in the policy's store or
 *				parked in their huge page
 * @MP_HUGE_STAT_PAGES_PARKED:	of those, pages parked in their huge page: not
 *				yet handed out, or declined by the policy
 * @MP_HUGE_STAT_PAGES_INFLIGHT: pages handed to page pools and not back yet;
 *				includes pages sitting in a pool's alloc cache
 *				and ptr_ring, which only the pool can recycle
 * @MP_HUGE_STAT_PAGES_LOST:	pages that came back still referenced elsewhere
 *				(splice, zerocopy) and left their huge page for
 *				good (cumulative)
 * @MP_HUGE_STAT_REFILLS:	batches handed to page pools (cumulative)
 * @MP_HUGE_STAT_FALLBACKS:	order-0 pages from the page allocator served
 *				while no huge page was free (cumulative)
 * @MP_HUGE_STAT_BLOCKS_RETURNED: huge pages given back whole (cumulative)
 * @MP_HUGE_STAT_GROW_FAILURES:	huge page allocations that failed (cumulative)
 * @MP_HUGE_STAT_LIMIT_HITS:	huge pages not reserved because all bindings
 *				together hold net.core.mp_huge_limit_mb
 *				(cumulative)
 * @MP_HUGE_STAT_TRIMS:		trims run: by the worker when a huge page's
 *				pages were all parked, or asked for (cumulative)
 * @MP_HUGE_STAT_DMA_BLOCK_MAPS: 2 MiB DMA mappings made (cumulative)
 * @MP_HUGE_STAT_DMA_PAGE_MAPS:	single-page DMA mappings made: fallback pages,
 *				and every page where the device cannot map
 *				2 MiB at once (swiotlb) (cumulative)
 * @MP_HUGE_STAT_RELEASES:	pages back from pools through release_netmem
 *				(cumulative)
 * @MP_HUGE_STAT_PARKS:		of those, pages the policy declined, parked in
 *				their huge page (cumulative)
 * @MP_HUGE_STAT_NUM:		number of counters
 *
 * One definition for netlink, debugfs and the tests: mp_huge_binding_stats()
 * reads them, the debugfs view names them as netlink does.
 */
enum mp_huge_stat {
	MP_HUGE_STAT_BLOCKS,
	MP_HUGE_STAT_BLOCKS_MAX,
	MP_HUGE_STAT_PAGES_CARVED,
	MP_HUGE_STAT_PAGES_FREE,
	MP_HUGE_STAT_PAGES_PARKED,
	MP_HUGE_STAT_PAGES_INFLIGHT,
	MP_HUGE_STAT_PAGES_LOST,
	MP_HUGE_STAT_REFILLS,
	MP_HUGE_STAT_FALLBACKS,
	MP_HUGE_STAT_BLOCKS_RETURNED,
	MP_HUGE_STAT_GROW_FAILURES,
	MP_HUGE_STAT_LIMIT_HITS,
	MP_HUGE_STAT_TRIMS,
	MP_HUGE_STAT_DMA_BLOCK_MAPS,
	MP_HUGE_STAT_DMA_PAGE_MAPS,
	MP_HUGE_STAT_RELEASES,
	MP_HUGE_STAT_PARKS,
	MP_HUGE_STAT_NUM
};

/**
 * enum mp_huge_release_outcome - what became of a netmem leaving a pool
 * @MP_HUGE_RELEASE_KEPT:	the policy keeps it for the next refill
 * @MP_HUGE_RELEASE_PARKED:	the policy declined it; it waits in its huge
 *				page, which goes back whole once all of it is home
 * @MP_HUGE_RELEASE_LOST:	still referenced elsewhere: page_pool puts our
 *				reference and the page leaves its huge page
 * @MP_HUGE_RELEASE_GIVEN_BACK:	an order-0 fallback page, freed to the page
 *				allocator
 */
enum mp_huge_release_outcome {
	MP_HUGE_RELEASE_KEPT,
	MP_HUGE_RELEASE_PARKED,
	MP_HUGE_RELEASE_LOST,
	MP_HUGE_RELEASE_GIVEN_BACK,
};

/**
 * enum mp_huge_block_reason - why a huge page joined or left a binding
 * @MP_HUGE_BLOCK_RESERVED:	reserved as the binding was made
 * @MP_HUGE_BLOCK_GROWN:	grown into when the reserve ran dry
 * @MP_HUGE_BLOCK_PARKED_WHOLE:	every page of it was parked (or lost)
 * @MP_HUGE_BLOCK_TRIMMED:	an operator's trim, or a lower max-blocks
 * @MP_HUGE_BLOCK_TEARDOWN:	the binding went
 */
enum mp_huge_block_reason {
	MP_HUGE_BLOCK_RESERVED,
	MP_HUGE_BLOCK_GROWN,
	MP_HUGE_BLOCK_PARKED_WHOLE,
	MP_HUGE_BLOCK_TRIMMED,
	MP_HUGE_BLOCK_TEARDOWN,
};

/**
 * enum mp_huge_grow_fail_reason - why a huge page could not be had
 * @MP_HUGE_GROW_NOMEM:	the page allocator had no free 2 MiB block
 * @MP_HUGE_GROW_LIMIT:	all bindings hold net.core.mp_huge_limit_mb
 */
enum mp_huge_grow_fail_reason {
	MP_HUGE_GROW_NOMEM,
	MP_HUGE_GROW_LIMIT,
};

struct mp_huge_binding *mp_huge_binding_create(const struct mp_huge_params *p,
					       bool reserve_now,
					       struct netlink_ext_ack *extack);
void mp_huge_binding_put(struct mp_huge_binding *binding);
struct mp_huge_binding *mp_huge_binding_of(struct mp_binding *mb);
int mp_huge_bind_queue(struct mp_huge_binding *binding, struct net_device *dev,
		       unsigned int rxq_idx, struct netlink_ext_ack *extack);
void mp_huge_unbind_queue(struct netdev_rx_queue *rxq);
struct mp_huge_binding *mp_huge_rxq_binding(struct netdev_rx_queue *rxq);

void mp_huge_binding_stats(struct mp_huge_binding *binding, u64 *stats);
u32 mp_huge_binding_id(const struct mp_huge_binding *binding);
const char *mp_huge_binding_policy(const struct mp_huge_binding *binding);
void mp_huge_binding_params(struct mp_huge_binding *binding,
			    struct mp_huge_params *p);
int mp_huge_binding_set(struct mp_huge_binding *binding, u32 max_blocks,
			const struct pp_policy_params *params,
			struct netlink_ext_ack *extack);
int mp_huge_binding_set_policy_params(struct mp_huge_binding *binding,
				      const struct pp_policy_params *params,
				      struct netlink_ext_ack *extack);
unsigned int mp_huge_trim(struct mp_huge_binding *binding);
u32 mp_huge_binding_default_gen(const struct mp_huge_binding *binding);
void mp_huge_flush(void);
unsigned long mp_huge_blocks_held(void);
void mp_huge_set_limit(unsigned long blocks);
bool mp_huge_limit_room(unsigned long blocks);

#endif /* _NET_PAGE_POOL_MP_HUGE_H */
