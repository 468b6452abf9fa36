/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory-cap provider for page pools: order-0 pages from the page
 * allocator, with a hard cap on what an rx queue's binding holds. See
 * net/core/mp_cap.c.
 */
#ifndef _NET_PAGE_POOL_MP_CAP_H
#define _NET_PAGE_POOL_MP_CAP_H

#include <linux/types.h>

struct mp_binding;
struct mp_cap_binding;
struct net_device;
struct netdev_rx_queue;
struct netlink_ext_ack;

/* Caps below one refill batch a queue would starve a pool: refused. */
#define MP_CAP_MIN_PAGES	64
#define MP_CAP_MAX_PAGES	(1U << 24)

/**
 * struct mp_cap_params - what a binding is asked to hold at most
 * @cap:	pages the binding may hold: in flight, in the pools' caches and
 *		rings, and in its own cache, together, for all its queues
 * @cap_low:	once the cap stopped allocation, it resumes below this; 0
 *		for the cap less an eighth, which is also the most it may be
 * @device_budget: pages all cap bindings of the device may hold together,
 *		0 for none. Bindings of one device share one budget: the last
 *		one set applies to all of them.
 */
struct mp_cap_params {
	u32 cap;
	u32 cap_low;
	u32 device_budget;
};

/**
 * enum mp_cap_stat - the binding's counters, as users see them
 * @MP_CAP_STAT_CAP:		the cap, in pages
 * @MP_CAP_STAT_CAP_LOW:	allocation resumes below this after a cap hit
 * @MP_CAP_STAT_PAGES_HELD:	pages held: in flight and cached (the capped
 *				quantity)
 * @MP_CAP_STAT_PAGES_INFLIGHT:	pages handed to pools and not back yet
 * @MP_CAP_STAT_PAGES_CACHED:	pages in the binding's own cache
 * @MP_CAP_STAT_PAGES_PEAK:	most pages held at once
 * @MP_CAP_STAT_POOL_CACHE_MAX:	of the pages in flight, how many may sit in
 *				the pools' alloc caches and ptr_rings, which
 *				only the pools can give back (an upper bound)
 * @MP_CAP_STAT_CAP_HITS:	refills refused for the cap (cumulative)
 * @MP_CAP_STAT_SHRINKER_PAGES:	cached pages the shrinker gave back
 *				(cumulative)
 * @MP_CAP_STAT_DEVICE_BUDGET:	the device's shared budget, 0 if none
 * @MP_CAP_STAT_DEVICE_HELD:	pages the device's cap bindings hold
 * @MP_CAP_STAT_PAGES_LOST:	of the pages held, those that came back still
 *				referenced elsewhere, charged until let go
 * @MP_CAP_STAT_NUM:		number of counters
 */
enum mp_cap_stat {
	MP_CAP_STAT_CAP,
	MP_CAP_STAT_CAP_LOW,
	MP_CAP_STAT_PAGES_HELD,
	MP_CAP_STAT_PAGES_INFLIGHT,
	MP_CAP_STAT_PAGES_CACHED,
	MP_CAP_STAT_PAGES_PEAK,
	MP_CAP_STAT_POOL_CACHE_MAX,
	MP_CAP_STAT_CAP_HITS,
	MP_CAP_STAT_SHRINKER_PAGES,
	MP_CAP_STAT_DEVICE_BUDGET,
	MP_CAP_STAT_DEVICE_HELD,
	MP_CAP_STAT_PAGES_LOST,
	MP_CAP_STAT_NUM
};

/**
 * enum mp_cap_shrink_reason - why cached pages were given back
 * @MP_CAP_SHRINK_PRESSURE:	the shrinker, under memory pressure
 * @MP_CAP_SHRINK_CAP_LOWERED:	the cap was lowered below what is held
 */
enum mp_cap_shrink_reason {
	MP_CAP_SHRINK_PRESSURE,
	MP_CAP_SHRINK_CAP_LOWERED,
};

struct mp_cap_binding *mp_cap_binding_create(const struct mp_cap_params *p,
					     struct net_device *dev,
					     struct netlink_ext_ack *extack);
void mp_cap_binding_put(struct mp_cap_binding *binding);
struct mp_cap_binding *mp_cap_binding_of(struct mp_binding *mb);
int mp_cap_bind_queue(struct mp_cap_binding *binding, struct net_device *dev,
		      unsigned int rxq_idx, struct netlink_ext_ack *extack);
void mp_cap_unbind_queue(struct netdev_rx_queue *rxq);
struct mp_cap_binding *mp_cap_rxq_binding(struct netdev_rx_queue *rxq);
int mp_cap_set(struct mp_cap_binding *binding, const struct mp_cap_params *p,
	       struct netlink_ext_ack *extack);
void mp_cap_binding_params(struct mp_cap_binding *binding,
			   struct mp_cap_params *p);
void mp_cap_binding_stats(struct mp_cap_binding *binding, u64 *stats);
u32 mp_cap_binding_id(const struct mp_cap_binding *binding);
u32 mp_cap_binding_default_gen(const struct mp_cap_binding *binding);
unsigned long mp_cap_pages_held(void);
unsigned long mp_cap_share(unsigned long cap, unsigned int queues);
int mp_cap_check_share(u32 cap, unsigned int queues,
		       struct netlink_ext_ack *extack);
unsigned long mp_cap_shrink(unsigned long nr);
void mp_cap_flush(void);

#endif /* _NET_PAGE_POOL_MP_CAP_H */
