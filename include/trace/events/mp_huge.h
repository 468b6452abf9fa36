/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the hugepage memory provider (net/core/mp_huge.c). Their
 * names and TP_printk formats are stable: tools/bpftrace and tools/perf
 * read them, and Documentation/networking/page_pool_providers.rst says what
 * each field means. Every event names its binding by the id netlink shows
 * (mp-binding-get); refills and releases name the page pool by its netlink
 * id (page-pool-get, 0 for a pool not listed), its device's ifindex and
 * the rx queue it serves (include/net/page_pool/mp_trace.h).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mp_huge

#if !defined(_TRACE_MP_HUGE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MP_HUGE_H

#include <linux/netdevice.h>
#include <linux/tracepoint.h>
#include <net/netmem.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/mp_trace.h>
#include <net/page_pool/types.h>

TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_KEPT);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_PARKED);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_LOST);
TRACE_DEFINE_ENUM(MP_HUGE_RELEASE_GIVEN_BACK);

TRACE_DEFINE_ENUM(MP_HUGE_BLOCK_RESERVED);
TRACE_DEFINE_ENUM(MP_HUGE_BLOCK_GROWN);
TRACE_DEFINE_ENUM(MP_HUGE_BLOCK_PARKED_WHOLE);
TRACE_DEFINE_ENUM(MP_HUGE_BLOCK_TRIMMED);
TRACE_DEFINE_ENUM(MP_HUGE_BLOCK_TEARDOWN);

TRACE_DEFINE_ENUM(MP_HUGE_GROW_NOMEM);
TRACE_DEFINE_ENUM(MP_HUGE_GROW_LIMIT);

#define mp_huge_show_release(o)						\
	__print_symbolic(o,						\
			 { MP_HUGE_RELEASE_KEPT,	"kept" },		\
			 { MP_HUGE_RELEASE_PARKED,	"parked" },		\
			 { MP_HUGE_RELEASE_LOST,	"lost" },		\
			 { MP_HUGE_RELEASE_GIVEN_BACK,	"given_back" })

#define mp_huge_show_block(r)						\
	__print_symbolic(r,						\
			 { MP_HUGE_BLOCK_RESERVED,	"reserved" },		\
			 { MP_HUGE_BLOCK_GROWN,		"grown" },		\
			 { MP_HUGE_BLOCK_PARKED_WHOLE,	"parked_whole" },	\
			 { MP_HUGE_BLOCK_TRIMMED,	"trimmed" },		\
			 { MP_HUGE_BLOCK_TEARDOWN,	"teardown" })

/*
 * A refill of a pool's alloc cache: @store netmem from the policy's store,
 * @reserve from huge pages' parked or never used pages, @fallback from the
 * page allocator; @got handed out (fewer than those when a DMA mapping
 * failed); @ns how long it took, measured only while the event is enabled.
 */
TRACE_EVENT(mp_huge_refill,

	TP_PROTO(u32 binding, const struct page_pool *pool, unsigned int store,
		 unsigned int reserve, unsigned int fallback, unsigned int got,
		 u64 ns),

	TP_ARGS(binding, pool, store, reserve, fallback, got, ns),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(u32,		pool_id)
		__field(int,		ifindex)
		__field(int,		queue)
		__field(unsigned int,	store)
		__field(unsigned int,	reserve)
		__field(unsigned int,	fallback)
		__field(unsigned int,	got)
		__field(u64,		ns)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pool_id	= pool->user.id;
		__entry->ifindex	= mp_trace_pool_ifindex(pool);
		__entry->queue		= mp_trace_pool_queue(pool);
		__entry->store		= store;
		__entry->reserve	= reserve;
		__entry->fallback	= fallback;
		__entry->got		= got;
		__entry->ns		= ns;
	),

	TP_printk("binding=%u pool=%u ifindex=%d queue=%d store=%u reserve=%u fallback=%u got=%u ns=%llu",
		  __entry->binding, __entry->pool_id, __entry->ifindex,
		  __entry->queue, __entry->store, __entry->reserve,
		  __entry->fallback, __entry->got, __entry->ns)
);

/* A netmem back from a pool, and what became of it. */
TRACE_EVENT(mp_huge_release,

	TP_PROTO(u32 binding, const struct page_pool *pool, netmem_ref netmem,
		 enum mp_huge_release_outcome outcome),

	TP_ARGS(binding, pool, netmem, outcome),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(u32,		pool_id)
		__field(int,		ifindex)
		__field(int,		queue)
		__field(unsigned long,	pfn)
		__field(int,		outcome)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pool_id	= pool->user.id;
		__entry->ifindex	= mp_trace_pool_ifindex(pool);
		__entry->queue		= mp_trace_pool_queue(pool);
		__entry->pfn		= netmem_pfn_trace(netmem);
		__entry->outcome	= outcome;
	),

	TP_printk("binding=%u pool=%u ifindex=%d queue=%d pfn=0x%lx outcome=%s",
		  __entry->binding, __entry->pool_id, __entry->ifindex,
		  __entry->queue, __entry->pfn,
		  mp_huge_show_release(__entry->outcome))
);

/*
 * A huge page joined the binding (@add: reserved when it was made, or grown
 * into) or left it (parked whole, trimmed by an operator or a lower
 * max-blocks, or at teardown); the binding now holds @blocks.
 */
TRACE_EVENT(mp_huge_block,

	TP_PROTO(u32 binding, unsigned long pfn, bool add,
		 enum mp_huge_block_reason reason, unsigned int blocks),

	TP_ARGS(binding, pfn, add, reason, blocks),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(unsigned long,	pfn)
		__field(bool,		add)
		__field(int,		reason)
		__field(unsigned int,	blocks)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->pfn		= pfn;
		__entry->add		= add;
		__entry->reason		= reason;
		__entry->blocks		= blocks;
	),

	TP_printk("binding=%u pfn=0x%lx %s reason=%s blocks=%u",
		  __entry->binding, __entry->pfn,
		  __entry->add ? "add" : "return",
		  mp_huge_show_block(__entry->reason), __entry->blocks)
);

/* A huge page could not be had: no memory, or the machine-wide limit. */
TRACE_EVENT(mp_huge_grow_fail,

	TP_PROTO(u32 binding, unsigned int blocks,
		 enum mp_huge_grow_fail_reason reason),

	TP_ARGS(binding, blocks, reason),

	TP_STRUCT__entry(
		__field(u32,		binding)
		__field(unsigned int,	blocks)
		__field(int,		reason)
	),

	TP_fast_assign(
		__entry->binding	= binding;
		__entry->blocks		= blocks;
		__entry->reason		= reason;
	),

	TP_printk("binding=%u blocks=%u reason=%s", __entry->binding,
		  __entry->blocks,
		  __print_symbolic(__entry->reason,
				   { MP_HUGE_GROW_NOMEM,	"nomem" },
				   { MP_HUGE_GROW_LIMIT,	"limit" }))
);

#endif /* _TRACE_MP_HUGE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
