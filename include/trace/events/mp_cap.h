/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the memory-cap provider (net/core/mp_cap.c). Names and
 * TP_printk formats are stable (tools/bpftrace/cap.bt reads them); the
 * binding is named by the id netlink shows (mp-binding-get), a refill's
 * pool by its page-pool-get id, its device's ifindex and its rx queue.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mp_cap

#if !defined(_TRACE_MP_CAP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MP_CAP_H

#include <linux/tracepoint.h>
#include <net/page_pool/mp_cap.h>
#include <net/page_pool/mp_trace.h>
#include <net/page_pool/types.h>

TRACE_DEFINE_ENUM(MP_CAP_SHRINK_PRESSURE);
TRACE_DEFINE_ENUM(MP_CAP_SHRINK_CAP_LOWERED);

/*
 * A refill: @cached pages from the binding's cache, @fresh from the page
 * allocator; @refused the pages the cap (or the device budget) kept it
 * from taking; @held what the binding holds after it.
 */
TRACE_EVENT(mp_cap_refill,

	TP_PROTO(u32 binding, const struct page_pool *pool, unsigned int cached,
		 unsigned int fresh, unsigned int refused, long held),

	TP_ARGS(binding, pool, cached, fresh, refused, held),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(u32,		pool_id)
		__field(int,		ifindex)
		__field(int,		queue)
		__field(unsigned int,	cached)
		__field(unsigned int,	fresh)
		__field(unsigned int,	refused)
		__field(long,		held)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pool_id	= pool->user.id;
		__entry->ifindex	= mp_trace_pool_ifindex(pool);
		__entry->queue		= mp_trace_pool_queue(pool);
		__entry->cached		= cached;
		__entry->fresh		= fresh;
		__entry->refused	= refused;
		__entry->held		= held;
	),

	TP_printk("binding=%u pool=%u ifindex=%d queue=%d cached=%u fresh=%u refused=%u held=%ld",
		  __entry->binding, __entry->pool_id, __entry->ifindex,
		  __entry->queue, __entry->cached, __entry->fresh,
		  __entry->refused, __entry->held)
);

/*
 * A watermark crossed: the binding (or, @device, its device's budget)
 * reached its cap and allocation stops (@throttled), or fell under the
 * low watermark and allocation resumes.
 */
TRACE_EVENT(mp_cap_throttle,

	TP_PROTO(u32 binding, bool device, bool throttled, long held,
		 unsigned long cap, unsigned long low),

	TP_ARGS(binding, device, throttled, held, cap, low),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(bool,		device)
		__field(bool,		throttled)
		__field(long,		held)
		__field(unsigned long,	cap)
		__field(unsigned long,	low)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->device		= device;
		__entry->throttled	= throttled;
		__entry->held		= held;
		__entry->cap		= cap;
		__entry->low		= low;
	),

	TP_printk("binding=%u %s %s held=%ld cap=%lu low=%lu",
		  __entry->binding, __entry->device ? "device" : "binding",
		  __entry->throttled ? "throttled" : "resumed",
		  __entry->held, __entry->cap, __entry->low)
);

/* Cached pages given back: under memory pressure, or as a cap was lowered. */
TRACE_EVENT(mp_cap_shrink,

	TP_PROTO(u32 binding, unsigned long pages, enum mp_cap_shrink_reason reason),

	TP_ARGS(binding, pages, reason),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(unsigned long,	pages)
		__field(int,		reason)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pages		= pages;
		__entry->reason		= reason;
	),

	TP_printk("binding=%u pages=%lu reason=%s", __entry->binding,
		  __entry->pages,
		  __print_symbolic(__entry->reason,
				   { MP_CAP_SHRINK_PRESSURE,	"pressure" },
				   { MP_CAP_SHRINK_CAP_LOWERED,	"cap_lowered" }))
);

#endif /* _TRACE_MP_CAP_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
