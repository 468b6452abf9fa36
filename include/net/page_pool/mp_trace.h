/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the providers' tracepoints (include/trace/events/mp_huge.h and
 * mp_cap.h) say of a page pool: the device and rx queue it serves, as
 * netlink names them.
 */
#ifndef _NET_PAGE_POOL_MP_TRACE_H
#define _NET_PAGE_POOL_MP_TRACE_H

#include <linux/netdevice.h>
#include <linux/poison.h>
#include <net/page_pool/types.h>

/* The rx queue @pool serves, or -1 for a pool that does not name one. */
static inline int mp_trace_pool_queue(const struct page_pool *pool)
{
	return pool->slow.flags & PP_FLAG_RX_QUEUE ? (int)pool->slow.queue_idx : -1;
}

/* The ifindex of @pool's device, or 0 for a pool without one. A pool that
 * outlived its device names loopback's (page_pool_unreg_netdev()), and
 * none once the namespace went too (NET_PTR_POISON): a destroyed pool's
 * pages may come home after both, a lost page held by a pipe say.
 */
static inline int mp_trace_pool_ifindex(const struct page_pool *pool)
{
	struct net_device *dev = READ_ONCE(pool->slow.netdev);

	return dev && dev != NET_PTR_POISON ? dev->ifindex : 0;
}

#endif /* _NET_PAGE_POOL_MP_TRACE_H */
