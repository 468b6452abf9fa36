/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mp_huge

#if !defined(_TRACE_MP_HUGE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MP_HUGE_H

#include <linux/tracepoint.h>
#include <net/netmem.h>
#include <net/page_pool/mp_huge.h>

struct page_pool;

TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_KEPT);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_PARKED);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_LOST);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_GIVEN_BACK);

/*
 * A refill: @store netmem came from the policy's store, @reserve from huge
 * pages' parked or never used pages, @fallback from the page allocator.
 */
TRACE_EVENT(mp_huge_refill,

	TP_PROTO(u32 binding, const struct page_pool *pool, unsigned int store,
		 unsigned int reserve, unsigned int fallback),

	TP_ARGS(binding, pool, store, reserve, fallback),

	TP_STRUCT__entry(
		__field(u32,				binding)
		__field(const struct page_pool *,	pool)
		__field(unsigned int,			store)
		__field(unsigned int,			reserve)
		__field(unsigned int,			fallback)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pool		= pool;
		__entry->store		= store;
		__entry->reserve	= reserve;
		__entry->fallback	= fallback;
	),

	TP_printk("binding=%u page_pool=%p store=%u reserve=%u fallback=%u",
		  __entry->binding, __entry->pool, __entry->store,
		  __entry->reserve, __entry->fallback)
);

TRACE_EVENT(mp_huge_release,

	TP_PROTO(u32 binding, const struct page_pool *pool, netmem_ref netmem,
		 enum mp_huge_release_outcome outcome),

	TP_ARGS(binding, pool, netmem, outcome),

	TP_STRUCT__entry(
		__field(u32,				binding)
		__field(const struct page_pool *,	pool)
		__field(unsigned long,			pfn)
		__field(int,				outcome)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pool		= pool;
		__entry->pfn		= netmem_pfn_trace(netmem);
		__entry->outcome	= outcome;
	),

	TP_printk("binding=%u page_pool=%p pfn=0x%lx outcome=%s",
		  __entry->binding, __entry->pool, __entry->pfn,
		  __print_symbolic(__entry->outcome,
				   { MP_HUGE_RELEASE_KEPT,	"kept" },
				   { MP_HUGE_RELEASE_PARKED,	"parked" },
				   { MP_HUGE_RELEASE_LOST,	"lost" },
				   { MP_HUGE_RELEASE_GIVEN_BACK, "given_back" }))
);

/* A huge page joined (@reserve) or left the binding, which now holds @blocks. */
TRACE_EVENT(mp_huge_block,

	TP_PROTO(u32 binding, unsigned long pfn, bool reserve,
		 unsigned int blocks),

	TP_ARGS(binding, pfn, reserve, blocks),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(unsigned long,	pfn)
		__field(bool,		reserve)
		__field(unsigned int,	blocks)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pfn		= pfn;
		__entry->reserve	= reserve;
		__entry->blocks		= blocks;
	),

	TP_printk("binding=%u pfn=0x%lx %s blocks=%u", __entry->binding,
		  __entry->pfn, __entry->reserve ? "reserve" : "return",
		  __entry->blocks)
);

TRACE_EVENT(mp_huge_grow_fail,

	TP_PROTO(u32 binding, unsigned int blocks),

	TP_ARGS(binding, blocks),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(unsigned int,	blocks)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->blocks		= blocks;
	),

	TP_printk("binding=%u blocks=%u", __entry->binding, __entry->blocks)
);

#endif /* _TRACE_MP_HUGE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
