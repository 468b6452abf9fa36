// SPDX-License-Identifier: GPL-2.0
/*
 * Hugepage memory provider for page pools.
 *
 * A binding reserves 2 MiB huge pages ("blocks") and carves each into
 * PAGE_SIZE netmem for the page pools of the rx queues it is bound to: one
 * queue, or several queues of one device sharing one reservation. A block
 * is allocated without __GFP_COMP and split_page()d, so every page of it is
 * an ordinary order-0 page that page_pool, the stack and put_page() handle
 * as any other; a block goes back to the page allocator as its 512 pages,
 * freed one by one, which the buddy allocator merges again.
 *
 * Where a free page is:
 *  - in the policy's store: released by a pool and kept by the binding's
 *    recycling policy (include/net/page_pool/pp_policy.h), which decides
 *    what goes out next;
 *  - in the reserve: a bit in its block's reserve_map. Freshly carved pages
 *    and pages the policy declined wait there. Refills draw from the store
 *    first, then from the reserve.
 * Only block pages ever enter the store, so it never holds more than the
 * blocks' pages, whatever the policy. A block whose pages are all home
 * (store or reserve), bar those lost, can be given back whole: when a park
 * makes every page of a block above the reservation parked, the trim
 * worker gives it back without touching the store, once the binding has
 * not grown for mp_huge_trim_hold (so that traffic which comes and goes
 * does not cycle blocks between trim and growth); an operator's trim
 * (mp_huge_trim()) drains the store to find every such block, the
 * reservation's included.
 * A page that comes back still referenced elsewhere (splice, zerocopy) is
 * lost to its block for good: page_pool drops its reference, but the
 * binding keeps one until the block goes back, so that the page cannot
 * return to the page allocator while the block's DMA mapping covers it, nor
 * come back to us as an order-0 fallback page inside a block we hold.
 *
 * The pages a pool holds are the pool's until they come back through
 * release_netmem(): the driver's, the stack's and an application's
 * references are returned by their owners (a crashed application's sockets
 * are reaped by the stack), never taken back here. page_pool destroys a
 * pool only once all its pages are home and each pool holds a binding
 * reference, so a binding outlives every page it handed out; it holds no
 * netdev reference, so pages in sockets never block unregister.
 *
 * DMA: each block is mapped once per (device, direction) that a pool of
 * the binding maps for ("map slot"), as one 2 MiB mapping. Where the device
 * cannot map 2 MiB at once (swiotlb: confidential guests, swiotlb=force),
 * a slot maps each page as it is handed out and unmaps it as it comes
 * back, as page_pool does, so that bounce buffer is held only for pages in
 * flight. A page handed out gets the address for its pool's slot, so a
 * page that comes back after its mapping died gets a fresh one. A slot is
 * unmapped when the last pool using it is scrubbed: page_pool has stopped
 * syncing for that pool and
 * waited for running syncs (memory_provider_ops.scrub). Order-0 fallback
 * pages are mapped one by one and tracked per slot, so that scrub unmaps
 * those still in flight as page_pool does for its own pages.
 *
 * Locking, outermost first:
 *   RTNL			binding <-> queue links (rxq->mp_params and
 *				the binding's queues: mp_core.c), pool init
 *   binding->lock (mutex)	blocks list and count, map slots, a grown
 *				block's mapping, trim, params writers;
 *				process context only. Never held across
 *				the page allocator's huge page allocation
 *				(compaction), and not taken by the
 *				netlink dumps (params_seq): RTNL holders
 *				(pool init) never wait for either.
 *   binding->reserve_lock	reserve (BH; taken alone, never nested)
 *   the policy's own locks	the store (BH; taken alone, never nested)
 * reserve_lock also covers each block's lost pages (lost_map, nr_lost), so
 * that a trim counting a block home sees its parked and lost pages at once.
 * Nothing allocates under a spinlock. alloc_netmems and release_netmem(s) take
 * no mutex: they run in softirq, and in process context with BH enabled,
 * for several pools of one binding at once.
 */

#define pr_fmt(fmt) "mp_huge: " fmt

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/error-injection.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/netlink.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_huge.h>
#include <trace/events/page_pool.h>
#include <uapi/linux/netdev.h>

#define CREATE_TRACE_POINTS
#include <trace/events/mp_huge.h>

#include "mp_core.h"
#include "mp_dma.h"
#include "mp_huge_priv.h"
#include "mp_kunit.h"
#include "page_pool_priv.h"

/* After a failed huge page allocation, refills wait this long before they
 * ask the worker for another.
 */
#define MP_HUGE_GROW_BACKOFF	HZ
/* Trims that releases ask for run this long after the first of them, which
 * coalesces a burst of releases into one trim.
 */
#define MP_HUGE_TRIM_DELAY	(HZ / 10)
/* Blocks grown above the reservation stay at least this long after the
 * binding last grew: traffic that comes and goes would otherwise cycle
 * them between trim and growth (an order-9 allocation, a 2 MiB map and
 * unmap and, with a strict IOMMU, an IOTLB flush each) with every burst.
 * A grow-trim cycle of a binding takes this long at least. KUnit shortens
 * it.
 */
VISIBLE_IF_KUNIT unsigned long mp_huge_trim_hold = 5 * HZ;
EXPORT_SYMBOL_IF_KUNIT(mp_huge_trim_hold);

struct mp_huge_block {
	struct page *page;		/* first of MP_HUGE_PAGES pages */
	struct list_head node;		/* binding->blocks, binding->lock */
	struct list_head reserve_node;	/* binding->reserve, reserve_lock */
	unsigned int reserved;		/* bits set in reserve_map */
	unsigned long reserve_map[BITS_TO_LONGS(MP_HUGE_PAGES)];
	unsigned int nr_lost;		/* bits set in lost_map, reserve_lock */
	unsigned long lost_map[BITS_TO_LONGS(MP_HUGE_PAGES)]; /* reserve_lock */
	unsigned int home;		/* trim scratch, binding->lock */
	bool returning;			/* trim scratch, binding->lock */
	dma_addr_t dma[MP_DMA_SLOTS];	/* 2 MiB mapping per slot, or 0 */
};

/* Per-CPU counters, summed by mp_huge_binding_stats(): all u64. */
struct mp_huge_pcpu_stats {
	u64 alloc;		/* pages handed out */
	u64 release;		/* pages back through release_netmem */
	u64 refill;
	u64 fallback;
	u64 lost;
	u64 carved;
	u64 returned;		/* blocks */
	u64 grow_fail;
	u64 limit_hits;
	u64 trims;
	u64 block_maps;		/* 2 MiB DMA mappings made */
	u64 page_maps;		/* single-page DMA mappings made */
	u64 parks;		/* releases the policy declined */
};

#define MP_HUGE_PCPU_NUM	(sizeof(struct mp_huge_pcpu_stats) / sizeof(u64))

struct mp_huge_binding {
	struct mp_binding mb;	/* first: the queues' and pools' mp_priv */
	int nid;
	struct mp_huge_params params;		/* max_blocks, policy_params:
						 * lock and params_seq;
						 * READ_ONCE outside
						 */
	seqcount_mutex_t params_seq;		/* params, for readers that
						 * must not wait for lock
						 */
	u32 capacity_blocks;			/* max_blocks at creation */
	const struct pp_policy_ops *policy;
	void *store;
	bool over_max;				/* lock; READ_ONCE outside:
						 * see mp_huge_over_max()
						 */

	struct mutex lock;			/* see the locking above */
	struct list_head blocks;		/* lock */
	unsigned int nr_blocks;			/* lock; READ_ONCE outside */
	unsigned int want_blocks;		/* READ_ONCE/WRITE_ONCE */
	unsigned long grown_at;			/* jiffies of the last
						 * growth; lock
						 */
	unsigned long grow_after;		/* jiffies; READ/WRITE_ONCE */
	struct xarray block_index;		/* pfn >> MP_HUGE_ORDER -> block */
	struct mp_dma dma;			/* slots: lock; see mp_dma.h */
	bool per_page[MP_DMA_SLOTS];		/* lock; pages mapped at hand-out */
	unsigned int per_page_slots;		/* lock; READ_ONCE outside */
	netmem_ref *scratch;			/* lock; trim */
	unsigned long capacity;			/* netmem the store can hold */

	spinlock_t reserve_lock;		/* the reserve, BH */
	struct list_head reserve;		/* reserve_lock */
	unsigned long reserve_pages;		/* reserve_lock */

	/* order-0 fallback pages handed out and not yet back: while there
	 * are none, a release needs no block lookup to know it is a block's
	 */
	atomic_long_t fallback_out;

	struct work_struct work;		/* grow */
	struct delayed_work trim_work;
	struct mp_huge_pcpu_stats __percpu *stats;
};

static const struct memory_provider_ops mp_huge_ops;
static void mp_huge_kick_grow(struct mp_huge_binding *b);
static void mp_huge_kick_trim(struct mp_huge_binding *b);

/* The binding holds more blocks than its maximum (lowered live): pages
 * coming home are parked, not offered to the policy, so that the blocks
 * over it become whole and go back (mp_huge_trim_work()). One flag beside
 * the store pointer, which every release reads anyway. Any context.
 */
static bool mp_huge_over_max(const struct mp_huge_binding *b)
{
	return READ_ONCE(b->over_max);
}

/* Blocks went back, or the maximum changed. Caller holds the lock. */
static void mp_huge_note_max(struct mp_huge_binding *b)
{
	lockdep_assert_held(&b->lock);
	WRITE_ONCE(b->over_max, b->nr_blocks > b->params.max_blocks);
}

static struct mp_huge_binding *mp_huge_mb(struct mp_binding *mb)
{
	return container_of(mb, struct mp_huge_binding, mb);
}

/**
 * mp_huge_binding_of() - the hugepage binding behind a binding
 * @mb: a binding
 *
 * Return: the hugepage binding, or NULL if @mb is of another provider.
 */
struct mp_huge_binding *mp_huge_binding_of(struct mp_binding *mb)
{
	return mb && mb->type == &mp_huge_type ? mp_huge_mb(mb) : NULL;
}

/* Huge pages all bindings hold (or are reserving), and the most they may
 * hold together: net.core.mp_huge_limit_mb, in blocks. Past it a binding
 * serves order-0 fallback pages and counts limit-hits; it never fails a
 * pool.
 */
static atomic_long_t mp_huge_nr_blocks;
static unsigned long mp_huge_limit = ULONG_MAX;

static bool mp_huge_limit_reserve(unsigned int n)
{
	if (atomic_long_add_return(n, &mp_huge_nr_blocks) <=
	    READ_ONCE(mp_huge_limit))
		return true;
	atomic_long_sub(n, &mp_huge_nr_blocks);
	return false;
}

static void mp_huge_limit_unreserve(unsigned int n)
{
	atomic_long_sub(n, &mp_huge_nr_blocks);
}

/**
 * mp_huge_set_limit() - bound the huge pages all bindings may hold
 * @blocks: the bound, in 2 MiB blocks
 *
 * Blocks held above a lowered bound stay until they are given back.
 */
void mp_huge_set_limit(unsigned long blocks)
{
	WRITE_ONCE(mp_huge_limit, blocks);
}

/**
 * mp_huge_limit_room() - whether @blocks more huge pages fit the limit now
 * @blocks: huge pages a binding asks to reserve
 *
 * Return: true if they would fit; a concurrent reservation may still win.
 */
bool mp_huge_limit_room(unsigned long blocks)
{
	return atomic_long_read(&mp_huge_nr_blocks) + blocks <=
	       READ_ONCE(mp_huge_limit);
}

/* the debugfs view's names: netlink's */
static const char * const mp_huge_stat_names[MP_HUGE_STAT_NUM] = {
	[MP_HUGE_STAT_BLOCKS]		= "blocks",
	[MP_HUGE_STAT_BLOCKS_MAX]	= "blocks-max",
	[MP_HUGE_STAT_PAGES_CARVED]	= "pages-carved",
	[MP_HUGE_STAT_PAGES_FREE]	= "pages-free",
	[MP_HUGE_STAT_PAGES_PARKED]	= "pages-parked",
	[MP_HUGE_STAT_PAGES_INFLIGHT]	= "pages-inflight",
	[MP_HUGE_STAT_PAGES_LOST]	= "pages-lost",
	[MP_HUGE_STAT_REFILLS]		= "refills",
	[MP_HUGE_STAT_FALLBACKS]	= "fallbacks",
	[MP_HUGE_STAT_BLOCKS_RETURNED]	= "blocks-returned",
	[MP_HUGE_STAT_GROW_FAILURES]	= "grow-failures",
	[MP_HUGE_STAT_LIMIT_HITS]	= "limit-hits",
	[MP_HUGE_STAT_TRIMS]		= "trims",
	[MP_HUGE_STAT_DMA_BLOCK_MAPS]	= "dma-block-maps",
	[MP_HUGE_STAT_DMA_PAGE_MAPS]	= "dma-page-maps",
	[MP_HUGE_STAT_RELEASES]		= "releases",
	[MP_HUGE_STAT_PARKS]		= "parks",
};

/*** statistics ***/

#define mp_huge_stat_add(b, field, n)	this_cpu_add((b)->stats->field, (n))

/**
 * mp_huge_binding_stats() - read a binding's counters
 * @binding: the binding
 * @stats: MP_HUGE_STAT_NUM values, indexed by enum mp_huge_stat
 *
 * Lockless; counters that several CPUs update may be a few pages apart
 * while traffic runs.
 */
void mp_huge_binding_stats(struct mp_huge_binding *binding, u64 *stats)
{
	union {
		struct mp_huge_pcpu_stats s;
		u64 v[MP_HUGE_PCPU_NUM];
	} sum = {};
	unsigned long reserve;
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		const u64 *v = (const u64 *)per_cpu_ptr(binding->stats, cpu);

		for (i = 0; i < MP_HUGE_PCPU_NUM; i++)
			sum.v[i] += READ_ONCE(v[i]);
	}
	/* a statistic: a value a few pages off is fine */
	reserve = data_race(READ_ONCE(binding->reserve_pages));

	stats[MP_HUGE_STAT_BLOCKS] = READ_ONCE(binding->nr_blocks);
	stats[MP_HUGE_STAT_BLOCKS_MAX] = READ_ONCE(binding->params.max_blocks);
	stats[MP_HUGE_STAT_PAGES_CARVED] = sum.s.carved;
	stats[MP_HUGE_STAT_PAGES_FREE] = binding->policy->count(binding->store) +
					 reserve;
	stats[MP_HUGE_STAT_PAGES_PARKED] = reserve;
	stats[MP_HUGE_STAT_PAGES_INFLIGHT] = sum.s.alloc - sum.s.release;
	stats[MP_HUGE_STAT_PAGES_LOST] = sum.s.lost;
	stats[MP_HUGE_STAT_REFILLS] = sum.s.refill;
	stats[MP_HUGE_STAT_FALLBACKS] = sum.s.fallback;
	stats[MP_HUGE_STAT_BLOCKS_RETURNED] = sum.s.returned;
	stats[MP_HUGE_STAT_GROW_FAILURES] = sum.s.grow_fail;
	stats[MP_HUGE_STAT_LIMIT_HITS] = sum.s.limit_hits;
	stats[MP_HUGE_STAT_TRIMS] = sum.s.trims;
	stats[MP_HUGE_STAT_DMA_BLOCK_MAPS] = sum.s.block_maps;
	stats[MP_HUGE_STAT_DMA_PAGE_MAPS] = sum.s.page_maps;
	stats[MP_HUGE_STAT_RELEASES] = sum.s.release;
	stats[MP_HUGE_STAT_PARKS] = sum.s.parks;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_stats);

/**
 * mp_huge_binding_id() - the id netlink and debugfs show for a binding
 * @binding: the binding
 *
 * Return: the id, unique among live bindings.
 */
u32 mp_huge_binding_id(const struct mp_huge_binding *binding)
{
	return binding->mb.id;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_id);

/**
 * mp_huge_binding_policy() - name of a binding's recycling policy
 * @binding: the binding
 *
 * Return: the name; valid as long as the binding.
 */
const char *mp_huge_binding_policy(const struct mp_huge_binding *binding)
{
	return binding->policy->name;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_policy);

/**
 * mp_huge_blocks_held() - huge pages held by all bindings
 *
 * Return: the number of 2 MiB blocks not yet given back, including those
 * of bindings being torn down.
 */
unsigned long mp_huge_blocks_held(void)
{
	return atomic_long_read(&mp_huge_nr_blocks);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_blocks_held);

/*** blocks ***/

static struct page *mp_huge_block_page(const struct mp_huge_block *blk,
				       unsigned int i)
{
	return nth_page(blk->page, i);
}

static unsigned int mp_huge_page_idx(const struct mp_huge_block *blk,
				     netmem_ref netmem)
{
	return page_to_pfn(netmem_to_page(netmem)) - page_to_pfn(blk->page);
}

/* The block @netmem was carved from, or NULL for an order-0 fallback page.
 * Any context: blocks are erased from the index before their pages are
 * freed, so a page the page allocator hands out again is never found here.
 */
static struct mp_huge_block *mp_huge_block_of(struct mp_huge_binding *b,
					      netmem_ref netmem)
{
	return xa_load(&b->block_index,
		       page_to_pfn(netmem_to_page(netmem)) >> MP_HUGE_ORDER);
}

/* The one place a huge page comes from. /sys/kernel/debug/mp_huge/fail_block
 * (fault injection) makes it fail, as do fail_function and fail_page_alloc.
 */
#ifdef CONFIG_FAULT_INJECTION
VISIBLE_IF_KUNIT DECLARE_FAULT_ATTR(mp_huge_fail_block);
EXPORT_SYMBOL_IF_KUNIT(mp_huge_fail_block);
#endif

VISIBLE_IF_KUNIT noinline struct page *mp_huge_alloc_block(int nid, gfp_t gfp)
{
	KUNIT_STATIC_STUB_REDIRECT(mp_huge_alloc_block, nid, gfp);
#ifdef CONFIG_FAULT_INJECTION
	if (should_fail(&mp_huge_fail_block, SZ_2M))
		return NULL;
#endif
	/* Node-local only: page_pool waives every page of another node
	 * (page_pool_refill_alloc_cache()), so a remote block would churn
	 * through release_netmem page by page. Without one, the binding
	 * serves node-local order-0 pages and counts a grow failure.
	 */
	if (nid != NUMA_NO_NODE)
		gfp |= __GFP_THISNODE;
	return alloc_pages_node(nid, (gfp | __GFP_NOWARN) & ~__GFP_COMP,
				MP_HUGE_ORDER);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_alloc_block);
ALLOW_ERROR_INJECTION(mp_huge_alloc_block, NULL);

/* Every page of a block that is ours: home in the reserve (a trim set the
 * bits of those it found in the store), or lost to another holder, for
 * which we kept a reference (mp_huge_release_slow()).
 */
static void mp_huge_free_pages_of(struct mp_huge_block *blk)
{
	unsigned int i;

	for_each_set_bit(i, blk->reserve_map, MP_HUGE_PAGES)
		put_page(mp_huge_block_page(blk, i));
	for_each_set_bit(i, blk->lost_map, MP_HUGE_PAGES)
		put_page(mp_huge_block_page(blk, i));
}

static void mp_huge_block_unmap(struct mp_huge_binding *b,
				struct mp_huge_block *blk, int slot,
				struct device *dev)
{
	if (!blk->dma[slot])
		return;
	dma_unmap_page_attrs(dev, blk->dma[slot], SZ_2M, b->dma.slot[slot].dir,
			     MP_DMA_ATTRS);
	blk->dma[slot] = 0;
}

/* One mapping for the whole huge page. Slots whose device cannot map 2 MiB
 * at once (swiotlb) map page by page at hand-out instead, and map nothing
 * here.
 */
static noinline int mp_huge_block_map(struct mp_huge_binding *b,
				      struct mp_huge_block *blk, int slot,
				      struct device *dev)
{
	dma_addr_t dma;

	if (b->per_page[slot])
		return 0;
	dma = dma_map_page_attrs(dev, blk->page, 0, SZ_2M,
				 b->dma.slot[slot].dir, MP_DMA_ATTRS);
	if (dma_mapping_error(dev, dma))
		return -ENOMEM;
	blk->dma[slot] = dma;
	mp_huge_stat_add(b, block_maps, 1);
	return 0;
}
ALLOW_ERROR_INJECTION(mp_huge_block_map, ERRNO);

/* Unmap @blk for every live slot. */
static void mp_huge_block_unmap_all(struct mp_huge_binding *b,
				    struct mp_huge_block *blk)
{
	int slot;

	for (slot = 0; slot < MP_DMA_SLOTS; slot++)
		mp_huge_block_unmap(b, blk, slot, b->dma.slot[slot].dev);
}

static noinline int mp_huge_block_index(struct mp_huge_binding *b,
					struct mp_huge_block *blk)
{
	return xa_err(xa_store(&b->block_index,
			       page_to_pfn(blk->page) >> MP_HUGE_ORDER, blk,
			       GFP_KERNEL));
}
ALLOW_ERROR_INJECTION(mp_huge_block_index, ERRNO);

/* Unmapped first: a lost page may outlive the block in another holder's
 * hands, and must not stay reachable by the device.
 */
static void mp_huge_block_free(struct mp_huge_binding *b,
			       struct mp_huge_block *blk,
			       enum mp_huge_block_reason reason)
{
	lockdep_assert_held(&b->lock);

	mp_huge_block_unmap_all(b, blk);
	xa_erase(&b->block_index, page_to_pfn(blk->page) >> MP_HUGE_ORDER);
	list_del(&blk->node);
	WRITE_ONCE(b->nr_blocks, b->nr_blocks - 1);
	mp_huge_limit_unreserve(1);
	trace_mp_huge_block(b->mb.id, page_to_pfn(blk->page), false, reason,
			    b->nr_blocks);

	mp_huge_free_pages_of(blk);
	kfree(blk);
}

/* A huge page, carved into order-0 pages, for mp_huge_block_attach(). No
 * lock held: the allocation may compact and reclaim for a long time, and
 * nothing may wait for it (RTNL holders creating pools take the binding's
 * mutex).
 */
static struct mp_huge_block *mp_huge_block_new(int nid, gfp_t gfp)
{
	struct mp_huge_block *blk;
	struct page *page;
	unsigned int i;

	blk = kzalloc_node(sizeof(*blk), GFP_KERNEL, nid);
	if (!blk)
		return NULL;
	page = mp_huge_alloc_block(nid, gfp);
	if (!page) {
		kfree(blk);
		return NULL;
	}
	split_page(page, MP_HUGE_ORDER);
	blk->page = page;
	INIT_LIST_HEAD(&blk->reserve_node);
	bitmap_fill(blk->reserve_map, MP_HUGE_PAGES);

	/* split_page() leaves list pointers or LIST_POISON1 in the pages'
	 * lru, which page_pool_set_pp_info() would OR PP_SIGNATURE into.
	 */
	for (i = 0; i < MP_HUGE_PAGES; i++) {
		page = mp_huge_block_page(blk, i);
		page->pp_magic = 0;
		page->pp = NULL;
		page->dma_addr = 0;
	}
	return blk;
}

/* A block that was never mapped nor indexed goes back whole. */
static void mp_huge_block_discard(struct mp_huge_block *blk)
{
	mp_huge_free_pages_of(blk);
	kfree(blk);
}

/* Map @blk for every live slot and put it in the reserve; on error it is
 * discarded.
 */
static int mp_huge_block_attach(struct mp_huge_binding *b,
				struct mp_huge_block *blk,
				enum mp_huge_block_reason reason)
{
	int slot, err;

	lockdep_assert_held(&b->lock);

	for (slot = 0; slot < MP_DMA_SLOTS; slot++) {
		if (!b->dma.slot[slot].users)
			continue;
		err = mp_huge_block_map(b, blk, slot, b->dma.slot[slot].dev);
		if (err)
			goto unmap;
	}

	err = mp_huge_block_index(b, blk);
	if (err)
		goto unmap;

	list_add_tail(&blk->node, &b->blocks);
	WRITE_ONCE(b->nr_blocks, b->nr_blocks + 1);
	b->grown_at = jiffies;
	mp_huge_stat_add(b, carved, MP_HUGE_PAGES);
	trace_mp_huge_block(b->mb.id, page_to_pfn(blk->page), true, reason,
			    b->nr_blocks);

	spin_lock_bh(&b->reserve_lock);
	blk->reserved = MP_HUGE_PAGES;
	list_add_tail(&blk->reserve_node, &b->reserve);
	b->reserve_pages += MP_HUGE_PAGES;
	spin_unlock_bh(&b->reserve_lock);
	return 0;

unmap:
	mp_huge_block_unmap_all(b, blk);
	mp_huge_block_discard(blk);
	return err;
}

/* The blocks a grow to @target still lacks, and why the next one is
 * wanted. Caller holds the lock.
 */
static unsigned int mp_huge_grow_lacks(struct mp_huge_binding *b,
				       unsigned int target,
				       enum mp_huge_block_reason *reason)
{
	lockdep_assert_held(&b->lock);

	target = min(target, b->params.max_blocks);
	*reason = b->nr_blocks < b->params.blocks ? MP_HUGE_BLOCK_RESERVED :
						    MP_HUGE_BLOCK_GROWN;
	return b->nr_blocks < target ? target - b->nr_blocks : 0;
}

/* Grow to @target blocks (at most the maximum, which may come down
 * meanwhile). Process context, may sleep; called without the binding's
 * lock, which is taken only around each block's mapping: the page
 * allocator is called with no lock held. One grower at a time: the
 * worker, or the creator before the binding is published.
 */
static int mp_huge_grow(struct mp_huge_binding *b, unsigned int target,
			gfp_t gfp)
{
	enum mp_huge_block_reason reason;
	struct mp_huge_block *blk;
	unsigned int lacks;
	int err;

	for (;;) {
		mutex_lock(&b->lock);
		lacks = mp_huge_grow_lacks(b, target, &reason);
		mutex_unlock(&b->lock);
		if (!lacks)
			return 0;

		err = -ENOSPC;
		if (!mp_huge_limit_reserve(1))
			break;
		err = -ENOMEM;
		blk = mp_huge_block_new(b->nid, gfp);
		if (!blk) {
			mp_huge_limit_unreserve(1);
			break;
		}

		mutex_lock(&b->lock);
		lacks = mp_huge_grow_lacks(b, target, &reason);
		if (lacks)
			err = mp_huge_block_attach(b, blk, reason);
		else	/* the maximum came down meanwhile */
			mp_huge_block_discard(blk);
		mutex_unlock(&b->lock);
		if (!lacks) {
			mp_huge_limit_unreserve(1);
			return 0;
		}
		if (err) {
			mp_huge_limit_unreserve(1);
			break;
		}
	}

	if (err == -ENOSPC)
		mp_huge_stat_add(b, limit_hits, 1);
	else
		mp_huge_stat_add(b, grow_fail, 1);
	trace_mp_huge_grow_fail(b->mb.id, READ_ONCE(b->nr_blocks),
				err == -ENOSPC ? MP_HUGE_GROW_LIMIT :
						 MP_HUGE_GROW_NOMEM);
	return err;
}

/*** the reserve ***/

/* Take up to @n pages out of the reserve, block by block. Any context. */
static unsigned int mp_huge_reserve_take(struct mp_huge_binding *b,
					 netmem_ref *out, unsigned int n)
{
	unsigned int i, taken, got = 0;
	struct mp_huge_block *blk;

	spin_lock_bh(&b->reserve_lock);
	while (got < n) {
		blk = list_first_entry_or_null(&b->reserve,
					       struct mp_huge_block,
					       reserve_node);
		if (!blk)
			break;
		taken = 0;
		for_each_set_bit(i, blk->reserve_map, MP_HUGE_PAGES) {
			__clear_bit(i, blk->reserve_map);
			out[got++] = page_to_netmem(mp_huge_block_page(blk, i));
			taken++;
			if (got == n)
				break;
		}
		blk->reserved -= taken;
		if (!blk->reserved)
			list_del_init(&blk->reserve_node);
	}
	b->reserve_pages -= got;
	spin_unlock_bh(&b->reserve_lock);
	return got;
}

/* Park a page the policy declined in its block. With @kick, have the
 * worker give the block back once every page of it is parked (or lost):
 * only then can it go back without looking into the policy's store, so
 * parks that leave pages of the block elsewhere ask for nothing. Any
 * context.
 */
static void mp_huge_reserve_park(struct mp_huge_binding *b,
				 struct mp_huge_block *blk, netmem_ref netmem,
				 bool kick)
{
	unsigned int i = mp_huge_page_idx(blk, netmem);
	bool whole;

	spin_lock_bh(&b->reserve_lock);
	__set_bit(i, blk->reserve_map);
	if (!blk->reserved++)
		list_add_tail(&blk->reserve_node, &b->reserve);
	b->reserve_pages++;
	whole = blk->reserved + blk->nr_lost == MP_HUGE_PAGES;
	spin_unlock_bh(&b->reserve_lock);

	/* the reservation stays (up to the maximum): only a block above it
	 * is worth a trim
	 */
	if (kick && whole &&
	    READ_ONCE(b->nr_blocks) > min(b->params.blocks,
					  READ_ONCE(b->params.max_blocks)))
		mp_huge_kick_trim(b);
}

/*** DMA: a slot per (device, direction), see mp_dma.h ***/

/* A pool that maps starts using its slot; a new slot maps every block. */
static int mp_huge_map_get(struct mp_huge_binding *b, struct device *dev,
			   enum dma_data_direction dir)
{
	struct mp_huge_block *blk;
	bool created;
	int slot, err;

	lockdep_assert_held(&b->lock);

	slot = mp_dma_slot_get(&b->dma, dev, dir, &created);
	if (slot < 0 || !created)
		return slot < 0 ? slot : 0;

	/* swiotlb (confidential guests, swiotlb=force) bounces mappings
	 * through a small buffer: 2 MiB mappings of every block, held for
	 * the binding's life, would pin it for nothing. Such slots map each
	 * page as it is handed out and unmap it as it comes back, as
	 * page_pool does for its own pages.
	 */
	b->per_page[slot] = dma_max_mapping_size(dev) < SZ_2M;
	list_for_each_entry(blk, &b->blocks, node) {
		err = mp_huge_block_map(b, blk, slot, dev);
		if (err)
			goto unmap;
	}
	if (b->per_page[slot])
		WRITE_ONCE(b->per_page_slots, b->per_page_slots + 1);
	mp_dma_slot_publish(&b->dma, slot, dev);
	return 0;

unmap:
	list_for_each_entry(blk, &b->blocks, node)
		mp_huge_block_unmap(b, blk, slot, dev);
	mp_dma_slot_put(&b->dma, slot);
	return err;
}

/* The pool stopped syncing for the device (page_pool_scrub) or never
 * allocated: the last pool of a slot unmaps every block.
 */
static void mp_huge_map_put(struct mp_huge_binding *b,
			    const struct page_pool *pool)
{
	struct mp_huge_block *blk;
	struct device *dev;
	int slot;

	lockdep_assert_held(&b->lock);

	slot = mp_dma_slot_find(&b->dma, pool);
	if (WARN_ON_ONCE(slot < 0))
		return;
	dev = mp_dma_slot_put(&b->dma, slot);
	if (!dev)
		return;
	list_for_each_entry(blk, &b->blocks, node)
		mp_huge_block_unmap(b, blk, slot, dev);
	if (b->per_page[slot])
		WRITE_ONCE(b->per_page_slots, b->per_page_slots - 1);
	put_device(dev);
}

/*** hand-out and release: the provider ops on the data path ***/

static void mp_huge_reverse(netmem_ref *a, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n / 2; i++)
		swap(a[i], a[n - 1 - i]);
}

/* Move the first @k of @n to the end, keeping both runs' order. */
static void mp_huge_rotate(netmem_ref *a, unsigned int n, unsigned int k)
{
	mp_huge_reverse(a, k);
	mp_huge_reverse(a + k, n - k);
	mp_huge_reverse(a, n);
}

/* Order-0 pages from the page allocator, while no huge page is free. */
static noinline unsigned int mp_huge_fallback(struct page_pool *pool,
					      netmem_ref *out, unsigned int n,
					      gfp_t gfp)
{
	memset(out, 0, n * sizeof(*out));
	return alloc_pages_bulk_array_node(gfp | __GFP_NOWARN, pool->p.nid, n,
					   (struct page **)out);
}
ALLOW_ERROR_INJECTION(mp_huge_fallback, NULL);

/* Set the DMA address of @netmem for @pool's slot: its block's mapping;
 * its own, made now, for an order-0 fallback page or where the slot maps
 * page by page.
 */
static bool mp_huge_dma_prep(struct mp_huge_binding *b, struct page_pool *pool,
			     int slot, netmem_ref netmem)
{
	struct page *page = netmem_to_page(netmem);
	struct mp_huge_block *blk;

	blk = mp_huge_block_of(b, netmem);
	if (!blk || b->per_page[slot]) {
		if (!mp_dma_map_page(&b->dma, slot, pool, page))
			return false;
		mp_huge_stat_add(b, page_maps, 1);
		return true;
	}
	return mp_dma_set(pool, page, blk->dma[slot] +
				      mp_huge_page_idx(blk, netmem) * PAGE_SIZE);
}

/* A netmem we could not hand out goes back where it came from. */
static void mp_huge_undo(struct mp_huge_binding *b, netmem_ref netmem)
{
	struct mp_huge_block *blk = mp_huge_block_of(b, netmem);

	if (blk) {
		mp_huge_reserve_park(b, blk, netmem, false);
	} else {
		put_page(netmem_to_page(netmem));
		atomic_long_dec(&b->fallback_out);
	}
}

static void mp_huge_want_more(struct mp_huge_binding *b)
{
	unsigned int nr = READ_ONCE(b->nr_blocks);

	if (nr >= READ_ONCE(b->params.max_blocks) ||
	    time_before(jiffies, READ_ONCE(b->grow_after)))
		return;
	if (READ_ONCE(b->want_blocks) <= nr)
		WRITE_ONCE(b->want_blocks, nr + 1);
	mp_huge_kick_grow(b);
}

/* Refill @pool's empty alloc cache with a batch: from the policy's store,
 * then the reserve, and order-0 pages from the page allocator only when
 * there is nothing else, so a pool never fails for want of a huge page.
 * Huge pages are reserved by the worker; nothing here sleeps.
 * Caller must provide appropriate safe context, e.g. NAPI.
 */
static netmem_ref mp_huge_alloc_netmems(struct page_pool *pool, gfp_t gfp)
{
	const unsigned int want = PP_ALLOC_CACHE_REFILL;
	struct mp_huge_binding *b = pool->mp_priv;
	unsigned int store, reserve, fallback = 0;
	netmem_ref *cache = pool->alloc.cache;
	unsigned int i, n, got;
	netmem_ref netmem;
	int slot = -1;
	u64 t0 = 0;

	if (WARN_ON_ONCE(pool->alloc.count))
		return pool->alloc.cache[--pool->alloc.count];

	if (trace_mp_huge_refill_enabled())
		t0 = local_clock();
	store = b->policy->get(b->store, cache, want);
	reserve = 0;
	if (store < want) {
		reserve = mp_huge_reserve_take(b, cache + store, want - store);
		/* the store's pages are the hot ones: hand them out first */
		if (store && reserve)
			mp_huge_rotate(cache, store + reserve, store);
	}
	n = store + reserve;
	if (n < want) {
		mp_huge_want_more(b);
		if (!n) {
			fallback = mp_huge_fallback(pool, cache, want, gfp);
			/* before any of them can come back */
			atomic_long_add(fallback, &b->fallback_out);
			n = fallback;
		}
	}

	if (pool->dma_map)
		slot = mp_dma_slot_find(&b->dma, pool);

	for (i = 0, got = 0; i < n; i++) {
		netmem = cache[i];
		if (slot >= 0 && unlikely(!mp_huge_dma_prep(b, pool, slot,
							    netmem))) {
			mp_huge_undo(b, netmem);
			continue;
		}
		page_pool_set_pp_info(pool, netmem);
		pool->pages_state_hold_cnt++;
		trace_page_pool_state_hold(pool, netmem,
					   pool->pages_state_hold_cnt);
		cache[got++] = netmem;
	}

	mp_huge_stat_add(b, alloc, got);
	mp_huge_stat_add(b, refill, 1);
	if (fallback)
		mp_huge_stat_add(b, fallback, fallback);
	trace_mp_huge_refill(b->mb.id, pool, store, reserve, fallback, got,
			     t0 ? local_clock() - t0 : 0);

	if (unlikely(!got))
		return 0;
	pool->alloc.count = got - 1;
	return cache[got - 1];
}

/* Unmap what was mapped for @netmem alone at hand-out: a fallback page, or
 * a block page of a slot that maps page by page.
 */
static void mp_huge_dma_release(struct mp_huge_binding *b,
				struct page_pool *pool,
				struct mp_huge_block *blk, netmem_ref netmem)
{
	int slot = mp_dma_slot_find(&b->dma, pool);

	if (slot >= 0 && (!blk || b->per_page[slot]))
		mp_dma_unmap_page(&b->dma, pool, netmem_to_page(netmem));
	page_pool_set_dma_addr_netmem(netmem, 0);
}

/* An order-0 fallback page leaves: page_pool puts it. */
static bool mp_huge_give_back(struct mp_huge_binding *b,
			      struct page_pool *pool, netmem_ref netmem)
{
	if (pool->dma_map)
		mp_huge_dma_release(b, pool, NULL, netmem);
	atomic_long_dec(&b->fallback_out);
	trace_mp_huge_release(b->mb.id, pool, netmem, MP_HUGE_RELEASE_GIVEN_BACK);
	return true;
}

/* Still referenced elsewhere (splice, zerocopy), or a pfmemalloc fallback
 * page: it leaves, and page_pool puts our reference. A block page is lost
 * to its block for good, but we keep a reference of our own until the
 * block goes back (mp_huge_free_pages_of()): freed by its other holder
 * meanwhile, it would return to the page allocator while the block's
 * mapping still covers it, and could come back to us as a fallback page
 * inside a block we hold.
 */
static noinline bool mp_huge_release_slow(struct mp_huge_binding *b,
					  struct page_pool *pool,
					  netmem_ref netmem)
{
	struct mp_huge_block *blk = mp_huge_block_of(b, netmem);

	if (!blk)
		return mp_huge_give_back(b, pool, netmem);

	if (pool->dma_map)
		mp_huge_dma_release(b, pool, blk, netmem);
	get_page(netmem_to_page(netmem));
	spin_lock_bh(&b->reserve_lock);
	__set_bit(mp_huge_page_idx(blk, netmem), blk->lost_map);
	blk->nr_lost++;
	spin_unlock_bh(&b->reserve_lock);
	mp_huge_stat_add(b, lost, 1);
	trace_mp_huge_release(b->mb.id, pool, netmem, MP_HUGE_RELEASE_LOST);
	return true;
}

/* Take back a netmem leaving @pool: ring overflow, refcount != 1, NUMA
 * waive or pool destroy. Softirq, or process context with BH enabled.
 * Return true when page_pool should put it (it is not ours any more).
 *
 * Only block pages enter the policy's store, so the store never holds more
 * than the blocks' pages (its capacity), whatever the policy. Whether
 * @netmem is a block's needs the block index only while fallback pages are
 * out: @netmem's own hand-out, if it was one, counted it before it could
 * reach us, and only its own give-back uncounts it.
 */
static bool mp_huge_release_prep(struct mp_huge_binding *b,
				 struct page_pool *pool, netmem_ref netmem,
				 bool *put)
{
	struct mp_huge_block *blk = NULL;

	if (unlikely(netmem_ref_count(netmem) != 1 ||
		     netmem_is_pfmemalloc(netmem))) {
		*put = mp_huge_release_slow(b, pool, netmem);
		return false;
	}

	if (unlikely(atomic_long_read(&b->fallback_out))) {
		blk = mp_huge_block_of(b, netmem);
		if (!blk) {
			*put = mp_huge_give_back(b, pool, netmem);
			return false;
		}
	}
	if (pool->dma_map && unlikely(READ_ONCE(b->per_page_slots))) {
		blk = blk ?: mp_huge_block_of(b, netmem);
		mp_huge_dma_release(b, pool, blk, netmem);
	}

	/* page_pool clears pp info only for netmem it puts */
	page_pool_clear_pp_info(netmem);
	return true;
}

/* A block page the policy declined: back in its huge page */
static void mp_huge_release_park(struct mp_huge_binding *b,
				 struct page_pool *pool, netmem_ref netmem)
{
	mp_huge_reserve_park(b, mp_huge_block_of(b, netmem), netmem, true);
	mp_huge_stat_add(b, parks, 1);
	trace_mp_huge_release(b->mb.id, pool, netmem, MP_HUGE_RELEASE_PARKED);
}

static bool mp_huge_release_netmem(struct page_pool *pool, netmem_ref netmem)
{
	struct mp_huge_binding *b = pool->mp_priv;
	bool put;

	mp_huge_stat_add(b, release, 1);
	if (!mp_huge_release_prep(b, pool, netmem, &put))
		return put;

	if (likely(!mp_huge_over_max(b) && b->policy->put(b->store, netmem))) {
		trace_mp_huge_release(b->mb.id, pool, netmem, MP_HUGE_RELEASE_KEPT);
		return false;
	}
	mp_huge_release_park(b, pool, netmem);
	return false;
}

#define MP_HUGE_RELEASE_BATCH	32

/* Offer @n block pages to the store at once; park what it declines. */
static void mp_huge_release_store(struct mp_huge_binding *b,
				  struct page_pool *pool, netmem_ref *netmems,
				  unsigned int n)
{
	unsigned int i, kept;

	kept = unlikely(mp_huge_over_max(b)) ? 0 :
		pp_policy_put_bulk(b->policy, b->store, netmems, n);
	if (trace_mp_huge_release_enabled())
		for (i = 0; i < kept; i++)
			trace_mp_huge_release(b->mb.id, pool, netmems[i],
					      MP_HUGE_RELEASE_KEPT);
	for (i = kept; i < n; i++)
		mp_huge_release_park(b, pool, netmems[i]);
}

/* A burst of releases (ptr_ring overflow of page_pool_put_page_bulk(),
 * pool destroy): each page as mp_huge_release_netmem() takes it, the
 * store's lock taken once per MP_HUGE_RELEASE_BATCH pages. The pages
 * page_pool is to put go to the front of @netmems: never past the page
 * being looked at, so none is overwritten before it is.
 */
static unsigned int mp_huge_release_netmems(struct page_pool *pool,
					    netmem_ref *netmems,
					    unsigned int count)
{
	struct mp_huge_binding *b = pool->mp_priv;
	netmem_ref store[MP_HUGE_RELEASE_BATCH];
	unsigned int i, n = 0, nput = 0;
	netmem_ref netmem;
	bool put;

	mp_huge_stat_add(b, release, count);
	for (i = 0; i < count; i++) {
		netmem = netmems[i];
		if (!mp_huge_release_prep(b, pool, netmem, &put)) {
			if (put)
				netmems[nput++] = netmem;
			continue;
		}
		store[n++] = netmem;
		if (n == ARRAY_SIZE(store)) {
			mp_huge_release_store(b, pool, store, n);
			n = 0;
		}
	}
	if (n)
		mp_huge_release_store(b, pool, store, n);
	return nput;
}

/* RTNL held when the pool was created for a queue.
 *
 * The pool's pages live on the binding's node: a pool left to prefer the
 * node its NAPI runs on would waive every page coming back through its
 * ring (page_pool_refill_alloc_cache()), and the provider would see every
 * page twice. The driver may still move it (page_pool_update_nid()).
 */
static noinline int mp_huge_pool_init(struct page_pool *pool)
{
	struct mp_huge_binding *b = pool->mp_priv;
	int err = 0;

	if (pool->dma_map) {
		mutex_lock(&b->lock);
		err = mp_huge_map_get(b, pool->p.dev, pool->p.dma_dir);
		mutex_unlock(&b->lock);
		if (err)
			return err;
	}
	pool->p.nid = b->nid;
	mp_binding_get(&b->mb);
	mp_binding_pool_init(&b->mb, pool);
	return 0;
}
ALLOW_ERROR_INJECTION(mp_huge_pool_init, ERRNO);

static void mp_huge_pool_unmap(struct page_pool *pool)
{
	struct mp_huge_binding *b = pool->mp_priv;

	mutex_lock(&b->lock);
	mp_huge_map_put(b, pool);
	mutex_unlock(&b->lock);
}

/* Nothing of @pool is in flight. Process context: page_pool_destroy() or
 * page_pool's release worker, possibly without RTNL.
 */
static void mp_huge_pool_destroy(struct page_pool *pool)
{
	/* page_pool_scrub() did not run if the pool failed to list */
	if (pool->dma_map && !pool->destroy_cnt)
		mp_huge_pool_unmap(pool);
	mp_huge_binding_put(pool->mp_priv);
}

static int mp_huge_nl_fill(void *mp_priv, struct sk_buff *rsp,
			   struct netdev_rx_queue *rxq)
{
	return mp_binding_nl_fill(mp_priv, rsp, rxq);
}

static void mp_huge_uninstall(void *mp_priv, struct netdev_rx_queue *rxq)
{
	mp_binding_uninstall(mp_priv, rxq);
}

/*** growth and trim, from the worker ***/

/* The caller holds a reference; queued work holds its own. Any context. */
static void mp_huge_kick_grow(struct mp_huge_binding *b)
{
	mp_binding_get(&b->mb);
	if (!queue_work(mp_wq, &b->work))
		mp_huge_binding_put(b);
}

static void mp_huge_kick_trim(struct mp_huge_binding *b)
{
	mp_binding_get(&b->mb);
	if (!queue_delayed_work(mp_wq, &b->trim_work, MP_HUGE_TRIM_DELAY))
		mp_huge_binding_put(b);
}

/* Free the blocks marked returning; the maximum flag and the growth
 * target follow. Every trim ends here.
 */
static unsigned int mp_huge_free_returning(struct mp_huge_binding *b,
					   enum mp_huge_block_reason reason)
{
	struct mp_huge_block *blk, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(blk, tmp, &b->blocks, node) {
		if (!blk->returning)
			continue;
		mp_huge_block_free(b, blk, reason);
		n++;
	}
	mp_huge_stat_add(b, returned, n);
	mp_huge_note_max(b);
	/* the growth target comes down with what is kept, so the next
	 * growth is a block at a time again; a trim that gave nothing back
	 * leaves a growth asked for meanwhile alone
	 */
	if (n && READ_ONCE(b->want_blocks) > b->nr_blocks)
		WRITE_ONCE(b->want_blocks, b->nr_blocks);
	return n;
}

/* Mark @blk returning if every page of it is home (@home of them in the
 * store, the rest parked or lost) and *@excess allows one more, and take
 * it out of the reserve. Caller holds reserve_lock.
 */
static void mp_huge_mark_whole(struct mp_huge_binding *b,
			       struct mp_huge_block *blk, unsigned int home,
			       unsigned int *excess)
{
	lockdep_assert_held(&b->reserve_lock);

	blk->returning = *excess &&
			 home + blk->reserved + blk->nr_lost == MP_HUGE_PAGES;
	if (!blk->returning)
		return;
	(*excess)--;
	if (!blk->reserved)
		return;
	list_del_init(&blk->reserve_node);
	b->reserve_pages -= blk->reserved;
	blk->reserved = 0;
}

/* The blocks a trim may give back to leave @keep: all above it. */
static unsigned int mp_huge_excess(struct mp_huge_binding *b,
				   unsigned int keep)
{
	lockdep_assert_held(&b->lock);

	return b->nr_blocks > keep ? b->nr_blocks - keep : 0;
}

/* What a park asked for: give back the blocks whose pages are all parked
 * or lost, as long as more than @keep blocks remain. The store is not
 * touched, so this costs the data path nothing.
 */
static void mp_huge_trim_parked(struct mp_huge_binding *b,
				enum mp_huge_block_reason reason,
				unsigned int keep)
{
	unsigned int excess = mp_huge_excess(b, keep);
	struct mp_huge_block *blk;

	lockdep_assert_held(&b->lock);

	spin_lock_bh(&b->reserve_lock);
	list_for_each_entry(blk, &b->blocks, node)
		mp_huge_mark_whole(b, blk, 0, &excess);
	spin_unlock_bh(&b->reserve_lock);
	mp_huge_free_returning(b, reason);
}

/* Give back the blocks whose pages are all home, wherever they are, as
 * long as more than @keep remain. The store is drained so that its pages
 * can be counted; those of blocks that stay go back in, or, while the
 * binding holds more blocks than its maximum, to the reserve: parked,
 * they make their blocks whole as the pages out come home (see
 * mp_huge_over_max()). Only block pages are ever in the store, so one
 * drain of its capacity empties it.
 */
static void mp_huge_do_trim(struct mp_huge_binding *b, unsigned int keep)
{
	unsigned int excess = mp_huge_excess(b, keep);
	struct mp_huge_block *blk;
	netmem_ref netmem;
	unsigned int i, n, stay;
	bool over;

	lockdep_assert_held(&b->lock);

	n = b->policy->drain(b->store, b->scratch, b->capacity);
	list_for_each_entry(blk, &b->blocks, node)
		blk->home = 0;
	for (i = 0; i < n; i++) {
		blk = mp_huge_block_of(b, b->scratch[i]);
		if (!WARN_ON_ONCE(!blk))
			blk->home++;
	}

	stay = b->nr_blocks;
	spin_lock_bh(&b->reserve_lock);
	list_for_each_entry(blk, &b->blocks, node) {
		mp_huge_mark_whole(b, blk, blk->home, &excess);
		stay -= blk->returning;
	}
	spin_unlock_bh(&b->reserve_lock);
	over = stay > READ_ONCE(b->params.max_blocks);

	for (i = 0; i < n; i++) {
		netmem = b->scratch[i];
		blk = mp_huge_block_of(b, netmem);
		if (!blk)
			continue;
		if (blk->returning)
			__set_bit(mp_huge_page_idx(blk, netmem), blk->reserve_map);
		else if (over || !b->policy->put(b->store, netmem))
			mp_huge_reserve_park(b, blk, netmem, false);
	}
	mp_huge_free_returning(b, MP_HUGE_BLOCK_TRIMMED);
}

static void mp_huge_grow_work(struct work_struct *work)
{
	struct mp_huge_binding *b = container_of(work, struct mp_huge_binding,
						 work);

	if (mp_huge_grow(b, READ_ONCE(b->want_blocks),
			 GFP_KERNEL | __GFP_NORETRY))
		WRITE_ONCE(b->grow_after, jiffies + MP_HUGE_GROW_BACKOFF);
	mp_huge_binding_put(b);
}

/* What releases asked for: the blocks the policy let go are given back,
 * down to the reservation and only once the binding has not grown for
 * mp_huge_trim_hold; or, over the maximum (lowered live), down to it at
 * once. The growth target comes down with what is kept, so the next
 * growth is a block at a time again.
 */
static void mp_huge_trim_work(struct work_struct *work)
{
	struct mp_huge_binding *b = container_of(to_delayed_work(work),
						 struct mp_huge_binding,
						 trim_work);
	unsigned long hold_end, now;
	unsigned int keep;

	mutex_lock(&b->lock);
	now = jiffies;		/* once: hold_end - now must not wrap */
	if (mp_huge_over_max(b)) {
		keep = READ_ONCE(b->params.max_blocks);
	} else {
		keep = b->params.blocks;
		if (b->nr_blocks <= keep)
			goto unlock;
		hold_end = b->grown_at + READ_ONCE(mp_huge_trim_hold);
		if (time_before(now, hold_end)) {
			/* again when the hold ends, unless this work holds
			 * the last reference: the teardown gives all back
			 */
			if (refcount_read(&b->mb.ref) > 1) {
				mp_binding_get(&b->mb);
				if (!queue_delayed_work(mp_wq, &b->trim_work,
							hold_end - now))
					mp_huge_binding_put(b);
			}
			goto unlock;
		}
	}
	mp_huge_stat_add(b, trims, 1);
	mp_huge_trim_parked(b, MP_HUGE_BLOCK_PARKED_WHOLE, keep);
unlock:
	mutex_unlock(&b->lock);
	mp_huge_binding_put(b);
}

/**
 * mp_huge_trim() - give back the huge pages a binding does not use
 * @binding: the binding
 *
 * Every huge page whose pages are all home, in the policy's store or not,
 * is unmapped and freed, the reservation's included, at once. What an
 * operator asks for; the data path only ever asks for blocks above the
 * reservation whose pages are all parked, and waits for mp_huge_trim_hold
 * after growth. Process context.
 *
 * Return: how many huge pages went back.
 */
unsigned int mp_huge_trim(struct mp_huge_binding *binding)
{
	unsigned int before;

	mutex_lock(&binding->lock);
	before = binding->nr_blocks;
	mp_huge_stat_add(binding, trims, 1);
	mp_huge_do_trim(binding, 0);
	before -= binding->nr_blocks;
	mutex_unlock(&binding->lock);
	return before;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_trim);

/**
 * mp_huge_flush() - run queued growth, trims and teardowns, and wait
 *
 * Trims wait a little to coalesce releases: they are run now.
 */
void mp_huge_flush(void)
{
	struct mp_huge_binding *b;
	struct mp_binding *mb;
	unsigned long id = 0;

	for (; (mb = mp_binding_next(&id)); id++) {
		b = mp_huge_binding_of(mb);
		if (b)
			flush_delayed_work(&b->trim_work);
		mp_binding_put(mb);
	}
	mp_binding_flush();
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_flush);

/*** binding lifetime ***/

/* The last pool is gone: empty the store whatever it holds, then give
 * back every block.
 */
static void mp_huge_teardown_store(struct mp_huge_binding *b)
{
	struct mp_huge_block *blk;
	unsigned int i, n;

	lockdep_assert_held(&b->lock);

	while ((n = b->policy->drain(b->store, b->scratch, b->capacity))) {
		for (i = 0; i < n; i++) {
			blk = mp_huge_block_of(b, b->scratch[i]);
			if (WARN_ON_ONCE(!blk))
				put_page(netmem_to_page(b->scratch[i]));
			else
				mp_huge_reserve_park(b, blk, b->scratch[i],
						     false);
		}
	}
	WARN_ON_ONCE(b->policy->count(b->store));
	mp_huge_trim_parked(b, MP_HUGE_BLOCK_TEARDOWN, 0);
}

/* Nothing refers to @b any more: no queue, no pool, no work. Process
 * context.
 */
static void mp_huge_binding_free(struct mp_huge_binding *b)
{
	int slot;

	mp_binding_fini(&b->mb);

	/* No pool is left, so nothing is in flight: every block is home. */
	mutex_lock(&b->lock);
	if (b->store && b->scratch)
		mp_huge_teardown_store(b);
	WARN(b->nr_blocks, "mp_huge: binding %u: %u huge pages not home at teardown\n",
	     b->mb.id, b->nr_blocks);
	WARN(atomic_long_read(&b->fallback_out),
	     "mp_huge: binding %u: %ld fallback pages not back at teardown\n",
	     b->mb.id, atomic_long_read(&b->fallback_out));
	for (slot = 0; slot < MP_DMA_SLOTS; slot++)
		WARN_ON(b->dma.slot[slot].users);
	mutex_unlock(&b->lock);

	if (b->store)
		b->policy->destroy(b->store);
	if (b->policy)
		pp_policy_put(b->policy);
	kvfree(b->scratch);
	free_percpu(b->stats);
	xa_destroy(&b->block_index);
	mutex_destroy(&b->lock);
	kfree_rcu(b, mb.rcu);
}

static void mp_huge_type_free(struct mp_binding *mb)
{
	mp_huge_binding_free(mp_huge_mb(mb));
}

/**
 * mp_huge_binding_put() - drop a reference to a binding
 * @binding: the binding
 *
 * The last reference queues the teardown, which gives every huge page
 * back. Any context.
 */
void mp_huge_binding_put(struct mp_huge_binding *binding)
{
	mp_binding_put(&binding->mb);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_put);

static int mp_huge_params_check(const struct mp_huge_params *p,
				struct netlink_ext_ack *extack)
{
	if (!p->max_blocks || p->max_blocks > MP_HUGE_MAX_BLOCKS) {
		NL_SET_ERR_MSG_FMT(extack, "max blocks must be 1 to %u",
				   MP_HUGE_MAX_BLOCKS);
		return -EINVAL;
	}
	if (p->blocks > p->max_blocks) {
		NL_SET_ERR_MSG(extack, "reserved blocks exceed max blocks");
		return -EINVAL;
	}
	if (p->nid != NUMA_NO_NODE &&
	    (p->nid < 0 || p->nid >= MAX_NUMNODES || !node_online(p->nid))) {
		NL_SET_ERR_MSG(extack, "NUMA node is not online");
		return -EINVAL;
	}
	return 0;
}

static noinline struct mp_huge_pcpu_stats __percpu *mp_huge_alloc_stats(void)
{
	return alloc_percpu(struct mp_huge_pcpu_stats);
}
ALLOW_ERROR_INJECTION(mp_huge_alloc_stats, NULL);

static int mp_huge_binding_init(struct mp_huge_binding *b,
				struct netlink_ext_ack *extack)
{
	const struct mp_huge_params *p = &b->params;
	int err;

	b->policy = p->policy[0] ? pp_policy_get(p->policy) :
				   pp_policy_get_default();
	if (!b->policy) {
		NL_SET_ERR_MSG(extack, "unknown recycling policy");
		return -ENOENT;
	}
	err = pp_policy_check_params(b->policy, &p->policy_params, extack);
	if (err)
		return err;

	b->capacity = (unsigned long)p->max_blocks * MP_HUGE_PAGES;
	b->store = b->policy->create(&p->policy_params, b->nid, b->capacity);
	b->scratch = kvmalloc_array(b->capacity, sizeof(*b->scratch),
				    GFP_KERNEL);
	b->stats = mp_huge_alloc_stats();
	if (!b->store || !b->scratch || !b->stats)
		return -ENOMEM;
	return 0;
}

/**
 * mp_huge_binding_create() - reserve huge pages for rx queues
 * @p: what to reserve and how to recycle
 * @reserve_now: reserve @p->blocks before returning (may sleep for long);
 *	otherwise a worker reserves them and refills are served from the page
 *	allocator meanwhile
 * @extack: where to say what was wrong
 *
 * The binding is bound to nothing yet: see mp_huge_bind_queue(). Process
 * context.
 *
 * Return: the binding, holding one reference for the caller, or an
 * ERR_PTR: -EINVAL for bad parameters, -ENOENT for an unknown policy,
 * -ENOSPC when reserving now would pass net.core.mp_huge_limit_mb,
 * -ENOMEM.
 */
struct mp_huge_binding *mp_huge_binding_create(const struct mp_huge_params *p,
					       bool reserve_now,
					       struct netlink_ext_ack *extack)
{
	struct mp_huge_binding *b;
	int err;

	err = mp_huge_params_check(p, extack);
	if (err)
		return ERR_PTR(err);

	b = kzalloc_node(sizeof(*b), GFP_KERNEL,
			 p->nid == NUMA_NO_NODE ? NUMA_NO_NODE : p->nid);
	if (!b)
		return ERR_PTR(-ENOMEM);

	b->params = *p;
	b->capacity_blocks = p->max_blocks;
	b->nid = p->nid == NUMA_NO_NODE ? numa_mem_id() : p->nid;
	mutex_init(&b->lock);
	seqcount_mutex_init(&b->params_seq, &b->lock);
	INIT_LIST_HEAD(&b->blocks);
	INIT_LIST_HEAD(&b->reserve);
	spin_lock_init(&b->reserve_lock);
	xa_init(&b->block_index);
	INIT_WORK(&b->work, mp_huge_grow_work);
	INIT_DELAYED_WORK(&b->trim_work, mp_huge_trim_work);
	b->want_blocks = p->blocks;

	err = mp_binding_init(&b->mb, &mp_huge_type);
	if (!err)
		err = mp_huge_binding_init(b, extack);
	if (err)
		goto free;

	if (reserve_now) {
		err = mp_huge_grow(b, p->blocks,
				   GFP_KERNEL | __GFP_RETRY_MAYFAIL);
		if (err == -ENOSPC)
			NL_SET_ERR_MSG(extack,
				       "reserving the huge pages would pass net.core.mp_huge_limit_mb");
		else if (err)
			NL_SET_ERR_MSG(extack, "cannot reserve the huge pages");
		if (err)
			goto free;
	}
	mp_binding_publish(&b->mb);
	if (!reserve_now && p->blocks)
		mp_huge_kick_grow(b);
	return b;

free:
	mp_huge_binding_free(b);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_create);

/**
 * mp_huge_binding_params() - what a binding is now
 * @binding: the binding
 * @p: its parameters: blocks as asked at creation, max_blocks, policy and
 *	its parameters as they are now, and the node of its huge pages
 */
void mp_huge_binding_params(struct mp_huge_binding *binding,
			    struct mp_huge_params *p)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&binding->params_seq);
		*p = binding->params;
	} while (read_seqcount_retry(&binding->params_seq, seq));
	strscpy(p->policy, binding->policy->name, sizeof(p->policy));
	p->nid = binding->nid;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_params);

/**
 * mp_huge_binding_set_policy_params() - retune a live binding's policy
 * @binding: the binding
 * @params: parameters to change (those set in @params->set); they apply
 *	from the next release on
 * @extack: where to say what was wrong
 *
 * Return: 0; -EINVAL for a parameter the policy does not take or a bad
 * value, -EOPNOTSUPP for one it cannot change live. Nothing changes on
 * error.
 */
int mp_huge_binding_set_policy_params(struct mp_huge_binding *binding,
				      const struct pp_policy_params *params,
				      struct netlink_ext_ack *extack)
{
	return mp_huge_binding_set(binding, 0, params, extack);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_set_policy_params);

/* Fold the set fields of @src into @dst. */
static void mp_huge_params_merge(struct pp_policy_params *dst,
				 const struct pp_policy_params *src)
{
	if (src->set & PP_POLICY_BUDGET)
		dst->budget = src->budget;
	if (src->set & PP_POLICY_MAGAZINE)
		dst->magazine = src->magazine;
	if (src->set & PP_POLICY_DEPOT)
		dst->depot = src->depot;
	dst->set |= src->set;
}

/**
 * mp_huge_binding_set() - change a live binding
 * @binding: the binding
 * @max_blocks: the huge pages it may grow to, up to what it was created
 *	with; 0 leaves it. Blocks above a lower bound go back as their pages
 *	come home.
 * @params: policy parameters to change (those set in @params->set), or
 *	NULL; they apply from the next release on
 * @extack: where to say what was wrong
 *
 * Return: 0; -EINVAL for a value refused, -EOPNOTSUPP for a policy
 * parameter that cannot change live. Nothing changes on error.
 */
int mp_huge_binding_set(struct mp_huge_binding *binding, u32 max_blocks,
			const struct pp_policy_params *params,
			struct netlink_ext_ack *extack)
{
	const struct pp_policy_ops *policy = binding->policy;
	int err = 0;

	if (max_blocks > binding->capacity_blocks) {
		NL_SET_ERR_MSG_FMT(extack,
				   "max blocks can be raised up to %u, the binding's capacity",
				   binding->capacity_blocks);
		return -EINVAL;
	}
	if (params && params->set) {
		err = pp_policy_check_params(policy, params, extack);
		if (err)
			return err;
		if (!policy->update) {
			NL_SET_ERR_MSG_FMT(extack, "policy %s has nothing to change",
					   policy->name);
			return -EOPNOTSUPP;
		}
	}

	mutex_lock(&binding->lock);
	if (params && params->set) {
		err = policy->update(binding->store, params);
		if (err) {
			NL_SET_ERR_MSG(extack, "the policy cannot change this live");
			goto unlock;
		}
		write_seqcount_begin(&binding->params_seq);
		mp_huge_params_merge(&binding->params.policy_params, params);
		write_seqcount_end(&binding->params_seq);
	}
	if (max_blocks) {
		write_seqcount_begin(&binding->params_seq);
		WRITE_ONCE(binding->params.max_blocks, max_blocks);
		write_seqcount_end(&binding->params_seq);
		if (binding->want_blocks > max_blocks)
			WRITE_ONCE(binding->want_blocks, max_blocks);
		if (binding->nr_blocks > max_blocks)
			mp_huge_do_trim(binding, max_blocks);
		mp_huge_note_max(binding);
	}
unlock:
	mutex_unlock(&binding->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_set);

/*** binding <-> rx queue ***/

/**
 * mp_huge_bind_queue() - make a binding supply an rx queue's page pools
 * @binding: the binding; the queue takes its own reference
 * @dev: the device; a binding serves the queues of one device
 * @rxq_idx: the queue
 * @extack: where to say what was wrong
 *
 * Pools created for the queue from now on draw from the binding; drivers
 * without queue management ops (veth) create them at the next link up,
 * XDP attach or channel change. Caller holds RTNL. Netlink's mp-bind also
 * restarts the queues of drivers with queue management ops.
 *
 * Return: 0, -ERANGE, -EINVAL (another device), -EBUSY (the queue has a
 * provider) or -ENOMEM.
 */
int mp_huge_bind_queue(struct mp_huge_binding *binding, struct net_device *dev,
		       unsigned int rxq_idx, struct netlink_ext_ack *extack)
{
	int err;

	err = mp_binding_check_queue(dev, rxq_idx, false, extack);
	if (!err)
		err = mp_binding_bind_queue(&binding->mb, dev, rxq_idx, extack);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_bind_queue);

/**
 * mp_huge_rxq_binding() - the hugepage binding of an rx queue
 * @rxq: the queue
 *
 * Caller holds RTNL.
 *
 * Return: the binding, or NULL if the queue has none (or another provider).
 */
struct mp_huge_binding *mp_huge_rxq_binding(struct netdev_rx_queue *rxq)
{
	return mp_huge_binding_of(mp_binding_rxq(rxq));
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_rxq_binding);

/**
 * mp_huge_unbind_queue() - stop a binding supplying an rx queue
 * @rxq: the queue, bound to a hugepage binding
 *
 * Pools already created keep drawing from the binding until they are
 * destroyed; the binding lives until the last of them and their pages are
 * gone. Caller holds RTNL.
 */
void mp_huge_unbind_queue(struct netdev_rx_queue *rxq)
{
	if (!WARN_ON_ONCE(!mp_huge_rxq_binding(rxq)))
		mp_binding_unbind_queue(rxq);
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_unbind_queue);

/**
 * mp_huge_binding_default_gen() - which namespace defaults made a binding
 * @binding: the binding
 *
 * Return: the generation of the net.core.mp_* defaults it was made from,
 * 0 if it was bound explicitly.
 */
u32 mp_huge_binding_default_gen(const struct mp_huge_binding *binding)
{
	return binding->mb.default_gen;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_binding_default_gen);

/*** debugfs: a read-only view ***/

static void mp_huge_show_one(struct seq_file *m, struct mp_huge_binding *b)
{
	struct netdev_rx_queue *rxq;
	u64 stats[MP_HUGE_STAT_NUM];
	unsigned long idx;
	const char *sep = "";
	int i;

	seq_printf(m, "id=%u dev=%s queues=", b->mb.id,
		   b->mb.dev ? netdev_name(b->mb.dev) : "-");
	xa_for_each(&b->mb.queues, idx, rxq) {
		seq_printf(m, "%s%lu", sep, idx);
		sep = ",";
	}
	seq_printf(m, "%s policy=%s default=%u", *sep ? "" : "-",
		   b->policy->name, b->mb.default_gen);

	mp_huge_binding_stats(b, stats);
	for (i = 0; i < MP_HUGE_STAT_NUM; i++)
		seq_printf(m, " %s=%llu", mp_huge_stat_names[i], stats[i]);
	seq_putc(m, '\n');
}

/* One line per binding, then the huge pages held, and the limit. */
static int mp_huge_bindings_show(struct seq_file *m, void *v)
{
	struct mp_huge_binding *b;
	struct mp_binding *mb;
	unsigned long id = 0;

	rtnl_lock();
	for (; (mb = mp_binding_next(&id)); id++) {
		b = mp_huge_binding_of(mb);
		if (b)
			mp_huge_show_one(m, b);
		mp_binding_put(mb);
	}
	rtnl_unlock();

	seq_printf(m, "total blocks=%lu\n", mp_huge_blocks_held());
	seq_printf(m, "limit blocks=%lu\n", READ_ONCE(mp_huge_limit));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mp_huge_bindings);

static int __init mp_huge_init(void)
{
	struct dentry *dir;

	BUILD_BUG_ON(MP_HUGE_ORDER > MAX_PAGE_ORDER);
	BUILD_BUG_ON(SZ_2M != (PAGE_SIZE << MP_HUGE_ORDER));
	BUILD_BUG_ON(offsetof(struct mp_huge_binding, mb));

	mp_type_register(&mp_huge_type);
	dir = debugfs_create_dir("mp_huge", NULL);
	debugfs_create_file("bindings", 0444, dir, NULL, &mp_huge_bindings_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail_block", dir, &mp_huge_fail_block);
#endif
	return 0;
}
device_initcall(mp_huge_init);

static const struct memory_provider_ops mp_huge_ops = {
	.alloc_netmems	= mp_huge_alloc_netmems,
	.release_netmem	= mp_huge_release_netmem,
	.release_netmems = mp_huge_release_netmems,
	.init		= mp_huge_pool_init,
	.destroy	= mp_huge_pool_destroy,
	.nl_fill	= mp_huge_nl_fill,
	.uninstall	= mp_huge_uninstall,
	.scrub		= mp_huge_pool_unmap,
};

const struct mp_type mp_huge_type = {
	.name		= "huge",
	.type		= NETDEV_MP_TYPE_HUGE,
	.nest		= NETDEV_A_MP_BINDING_HUGE,
	.mp_ops		= &mp_huge_ops,
	.create		= mp_huge_nl_create,
	.set		= mp_huge_nl_set,
	.fill		= mp_huge_nl_fill_binding,
	.free		= mp_huge_type_free,
};
