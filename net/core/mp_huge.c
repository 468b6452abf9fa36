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
 * A block whose pages are all home (store or reserve), bar those lost, can
 * be given back whole; the trim worker finds such blocks (mp_huge_trim()).
 * A page that comes back still referenced elsewhere (splice, zerocopy) is
 * lost to its block for good: page_pool drops our reference and the page
 * returns to the page allocator when its last user puts it.
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
 * the binding maps for ("map slot"), as one 2 MiB mapping, or page by page
 * where dma_max_mapping_size() is smaller (swiotlb). A page handed out gets
 * the address for its pool's slot, so a page that comes back after its
 * mapping died gets a fresh one. A slot is unmapped when the last pool
 * using it is scrubbed: page_pool has stopped syncing for that pool and
 * waited for running syncs (memory_provider_ops.scrub). Order-0 fallback
 * pages are mapped one by one and tracked per slot, so that scrub unmaps
 * those still in flight as page_pool does for its own pages.
 *
 * Locking, outermost first:
 *   RTNL			binding <-> queue links (rxq->mp_params,
 *				binding->rxqs, binding->dev), pool init
 *   binding->lock (mutex)	blocks list and count, map slots, growth,
 *				trim; process context only
 *   binding->reserve_lock	reserve (BH; taken alone, never nested)
 *   the policy's own locks	the store (BH; taken alone, never nested)
 *   mp_huge_list_lock (mutex)	mp_huge_list, for debugfs; taken alone
 * Nothing allocates under a spinlock. alloc_netmems and release_netmem take
 * no mutex: they run in softirq, and in process context with BH enabled,
 * for several pools of one binding at once.
 */

#define pr_fmt(fmt) "mp_huge: " fmt

#include <kunit/visibility.h>
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

#include "mp_dma.h"
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

struct mp_huge_block {
	struct page *page;		/* first of MP_HUGE_PAGES pages */
	struct list_head node;		/* binding->blocks, binding->lock */
	struct list_head reserve_node;	/* binding->reserve, reserve_lock */
	unsigned int reserved;		/* bits set in reserve_map */
	unsigned long reserve_map[BITS_TO_LONGS(MP_HUGE_PAGES)];
	atomic_t lost;			/* pages lost to other holders */
	unsigned int home;		/* trim scratch, binding->lock */
	bool returning;			/* trim scratch, binding->lock */
	dma_addr_t *dma[MP_DMA_SLOTS];	/* per slot: 1 or MP_HUGE_PAGES */
};

struct mp_huge_pcpu_stats {
	u64 alloc;		/* pages handed out */
	u64 release;		/* pages back through release_netmem */
	u64 refill;
	u64 fallback;
	u64 lost;
	u64 carved;
	u64 returned;		/* blocks */
	u64 grow_fail;
};

struct mp_huge_binding {
	refcount_t ref;		/* creator, queues, pools, queued work */
	u32 id;
	int nid;
	struct mp_huge_params params;
	const struct pp_policy_ops *policy;
	void *store;
	u32 default_gen;	/* non-zero: installed by the sysctl default */

	struct net_device *dev;	/* no reference; RTNL */
	struct xarray rxqs;	/* bound queues; RTNL */

	struct mutex lock;			/* see the locking above */
	struct list_head blocks;		/* lock */
	unsigned int nr_blocks;			/* lock; READ_ONCE outside */
	unsigned int want_blocks;		/* READ_ONCE/WRITE_ONCE */
	unsigned long grow_after;		/* jiffies; READ/WRITE_ONCE */
	struct xarray block_index;		/* pfn >> MP_HUGE_ORDER -> block */
	struct mp_dma dma;			/* slots: lock; see mp_dma.h */
	bool per_page[MP_DMA_SLOTS];		/* lock; blocks mapped by page */
	netmem_ref *scratch;			/* lock; trim */
	unsigned long capacity;			/* netmem the store can hold */

	spinlock_t reserve_lock;		/* the reserve, BH */
	struct list_head reserve;		/* reserve_lock */
	unsigned long reserve_pages;		/* reserve_lock */

	struct work_struct work;		/* grow */
	struct delayed_work trim_work;
	struct work_struct free_work;
	struct mp_huge_pcpu_stats __percpu *stats;
	struct list_head list;			/* mp_huge_list */
};

static const struct memory_provider_ops mp_huge_ops;
static void mp_huge_kick_grow(struct mp_huge_binding *b);
static void mp_huge_kick_trim(struct mp_huge_binding *b);

static struct workqueue_struct *mp_huge_wq;
static DEFINE_IDA(mp_huge_ida);
static DEFINE_MUTEX(mp_huge_list_lock);
static LIST_HEAD(mp_huge_list);
static atomic_long_t mp_huge_nr_blocks;

const char * const mp_huge_stat_names[MP_HUGE_STAT_NUM] = {
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
};
EXPORT_SYMBOL_GPL(mp_huge_stat_names);

static const u16 mp_huge_stat_attrs[MP_HUGE_STAT_NUM] = {
	[MP_HUGE_STAT_BLOCKS]		= NETDEV_A_MP_HUGE_BLOCKS,
	[MP_HUGE_STAT_BLOCKS_MAX]	= NETDEV_A_MP_HUGE_BLOCKS_MAX,
	[MP_HUGE_STAT_PAGES_CARVED]	= NETDEV_A_MP_HUGE_PAGES_CARVED,
	[MP_HUGE_STAT_PAGES_FREE]	= NETDEV_A_MP_HUGE_PAGES_FREE,
	[MP_HUGE_STAT_PAGES_PARKED]	= NETDEV_A_MP_HUGE_PAGES_PARKED,
	[MP_HUGE_STAT_PAGES_INFLIGHT]	= NETDEV_A_MP_HUGE_PAGES_INFLIGHT,
	[MP_HUGE_STAT_PAGES_LOST]	= NETDEV_A_MP_HUGE_PAGES_LOST,
	[MP_HUGE_STAT_REFILLS]		= NETDEV_A_MP_HUGE_REFILLS,
	[MP_HUGE_STAT_FALLBACKS]	= NETDEV_A_MP_HUGE_FALLBACKS,
	[MP_HUGE_STAT_BLOCKS_RETURNED]	= NETDEV_A_MP_HUGE_BLOCKS_RETURNED,
	[MP_HUGE_STAT_GROW_FAILURES]	= NETDEV_A_MP_HUGE_GROW_FAILURES,
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
	struct mp_huge_pcpu_stats sum = {};
	unsigned long reserve;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct mp_huge_pcpu_stats *s = per_cpu_ptr(binding->stats, cpu);

		sum.alloc += READ_ONCE(s->alloc);
		sum.release += READ_ONCE(s->release);
		sum.refill += READ_ONCE(s->refill);
		sum.fallback += READ_ONCE(s->fallback);
		sum.lost += READ_ONCE(s->lost);
		sum.carved += READ_ONCE(s->carved);
		sum.returned += READ_ONCE(s->returned);
		sum.grow_fail += READ_ONCE(s->grow_fail);
	}
	/* a statistic: a value a few pages off is fine */
	reserve = data_race(READ_ONCE(binding->reserve_pages));

	stats[MP_HUGE_STAT_BLOCKS] = READ_ONCE(binding->nr_blocks);
	stats[MP_HUGE_STAT_BLOCKS_MAX] = binding->params.max_blocks;
	stats[MP_HUGE_STAT_PAGES_CARVED] = sum.carved;
	stats[MP_HUGE_STAT_PAGES_FREE] = binding->policy->count(binding->store) +
					 reserve;
	stats[MP_HUGE_STAT_PAGES_PARKED] = reserve;
	stats[MP_HUGE_STAT_PAGES_INFLIGHT] = sum.alloc - sum.release;
	stats[MP_HUGE_STAT_PAGES_LOST] = sum.lost;
	stats[MP_HUGE_STAT_REFILLS] = sum.refill;
	stats[MP_HUGE_STAT_FALLBACKS] = sum.fallback;
	stats[MP_HUGE_STAT_BLOCKS_RETURNED] = sum.returned;
	stats[MP_HUGE_STAT_GROW_FAILURES] = sum.grow_fail;
}
EXPORT_SYMBOL_GPL(mp_huge_binding_stats);

/**
 * mp_huge_binding_id() - the id netlink and debugfs show for a binding
 * @binding: the binding
 *
 * Return: the id, unique among live bindings.
 */
u32 mp_huge_binding_id(const struct mp_huge_binding *binding)
{
	return binding->id;
}
EXPORT_SYMBOL_GPL(mp_huge_binding_id);

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
EXPORT_SYMBOL_GPL(mp_huge_binding_policy);

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
EXPORT_SYMBOL_GPL(mp_huge_blocks_held);

/*** blocks ***/

static struct page *mp_huge_block_page(const struct mp_huge_block *blk,
				       unsigned int i)
{
	return nth_page(blk->page, i);
}

static struct mp_huge_block *mp_huge_block_of(struct mp_huge_binding *b,
					      netmem_ref netmem)
{
	return xa_load(&b->block_index,
		       page_to_pfn(netmem_to_page(netmem)) >> MP_HUGE_ORDER);
}

/* The one place a huge page comes from. /sys/kernel/debug/mp_huge/fail_block
 * (fault injection) makes it fail, as the tests do.
 */
#ifdef CONFIG_FAULT_INJECTION
VISIBLE_IF_KUNIT DECLARE_FAULT_ATTR(mp_huge_fail_block);
EXPORT_SYMBOL_IF_KUNIT(mp_huge_fail_block);
#endif

static struct page *mp_huge_alloc_block(int nid, gfp_t gfp)
{
#ifdef CONFIG_FAULT_INJECTION
	if (should_fail(&mp_huge_fail_block, SZ_2M))
		return NULL;
#endif
	return alloc_pages_node(nid, (gfp | __GFP_NOWARN) & ~__GFP_COMP,
				MP_HUGE_ORDER);
}

static void mp_huge_free_pages_of(struct mp_huge_block *blk)
{
	unsigned int i;

	for_each_set_bit(i, blk->reserve_map, MP_HUGE_PAGES)
		put_page(mp_huge_block_page(blk, i));
}

static void mp_huge_block_unmap(struct mp_huge_binding *b,
				struct mp_huge_block *blk, int slot,
				struct device *dev)
{
	enum dma_data_direction dir = b->dma.slot[slot].dir;
	dma_addr_t *dma = blk->dma[slot];
	unsigned int i;

	if (!dma)
		return;

	if (b->per_page[slot]) {
		for (i = 0; i < MP_HUGE_PAGES; i++)
			dma_unmap_page_attrs(dev, dma[i], PAGE_SIZE, dir,
					     MP_DMA_ATTRS);
	} else {
		dma_unmap_page_attrs(dev, dma[0], SZ_2M, dir, MP_DMA_ATTRS);
	}
	kfree(dma);
	blk->dma[slot] = NULL;
}

static int mp_huge_block_map(struct mp_huge_binding *b,
			     struct mp_huge_block *blk, int slot,
			     struct device *dev)
{
	enum dma_data_direction dir = b->dma.slot[slot].dir;
	bool per_page = b->per_page[slot];
	unsigned int i, n = per_page ? MP_HUGE_PAGES : 1;
	dma_addr_t *dma;

	dma = kmalloc_array(n, sizeof(*dma), GFP_KERNEL);
	if (!dma)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		dma[i] = dma_map_page_attrs(dev, mp_huge_block_page(blk, i), 0,
					    per_page ? PAGE_SIZE : SZ_2M, dir,
					    MP_DMA_ATTRS);
		if (dma_mapping_error(dev, dma[i]))
			goto unmap;
	}
	blk->dma[slot] = dma;
	return 0;

unmap:
	while (i--)
		dma_unmap_page_attrs(dev, dma[i], PAGE_SIZE, dir, MP_DMA_ATTRS);
	kfree(dma);
	return -ENOMEM;
}

/* Unmap @blk for every live slot. */
static void mp_huge_block_unmap_all(struct mp_huge_binding *b,
				    struct mp_huge_block *blk)
{
	int slot;

	for (slot = 0; slot < MP_DMA_SLOTS; slot++)
		mp_huge_block_unmap(b, blk, slot, b->dma.slot[slot].dev);
}

static void mp_huge_block_free(struct mp_huge_binding *b,
			       struct mp_huge_block *blk)
{
	lockdep_assert_held(&b->lock);

	mp_huge_block_unmap_all(b, blk);
	xa_erase(&b->block_index, page_to_pfn(blk->page) >> MP_HUGE_ORDER);
	list_del(&blk->node);
	WRITE_ONCE(b->nr_blocks, b->nr_blocks - 1);
	atomic_long_dec(&mp_huge_nr_blocks);
	trace_mp_huge_block(b->id, page_to_pfn(blk->page), false, b->nr_blocks);

	mp_huge_free_pages_of(blk);
	kfree(blk);
}

/* Carve one huge page into the reserve. */
static int mp_huge_block_add(struct mp_huge_binding *b, gfp_t gfp)
{
	struct mp_huge_block *blk;
	struct page *page;
	unsigned int i;
	int slot, err;

	lockdep_assert_held(&b->lock);

	blk = kzalloc_node(sizeof(*blk), GFP_KERNEL, b->nid);
	if (!blk)
		return -ENOMEM;

	page = mp_huge_alloc_block(b->nid, gfp);
	if (!page) {
		kfree(blk);
		return -ENOMEM;
	}
	split_page(page, MP_HUGE_ORDER);
	blk->page = page;
	atomic_set(&blk->lost, 0);
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

	for (slot = 0; slot < MP_DMA_SLOTS; slot++) {
		if (!b->dma.slot[slot].users)
			continue;
		err = mp_huge_block_map(b, blk, slot, b->dma.slot[slot].dev);
		if (err)
			goto unmap;
	}

	err = xa_err(xa_store(&b->block_index,
			      page_to_pfn(blk->page) >> MP_HUGE_ORDER, blk,
			      GFP_KERNEL));
	if (err)
		goto unmap;

	list_add_tail(&blk->node, &b->blocks);
	WRITE_ONCE(b->nr_blocks, b->nr_blocks + 1);
	atomic_long_inc(&mp_huge_nr_blocks);
	mp_huge_stat_add(b, carved, MP_HUGE_PAGES);
	trace_mp_huge_block(b->id, page_to_pfn(blk->page), true, b->nr_blocks);

	spin_lock_bh(&b->reserve_lock);
	blk->reserved = MP_HUGE_PAGES;
	list_add_tail(&blk->reserve_node, &b->reserve);
	b->reserve_pages += MP_HUGE_PAGES;
	spin_unlock_bh(&b->reserve_lock);
	return 0;

unmap:
	mp_huge_block_unmap_all(b, blk);
	mp_huge_free_pages_of(blk);
	kfree(blk);
	return err;
}

/* Grow to @target blocks. Process context, may sleep. */
static int mp_huge_grow(struct mp_huge_binding *b, unsigned int target,
			gfp_t gfp)
{
	int err;

	lockdep_assert_held(&b->lock);

	target = min(target, b->params.max_blocks);
	while (b->nr_blocks < target) {
		err = mp_huge_block_add(b, gfp);
		if (err) {
			mp_huge_stat_add(b, grow_fail, 1);
			trace_mp_huge_grow_fail(b->id, b->nr_blocks);
			return err;
		}
	}
	return 0;
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

/* Park a page the policy declined in its block. With @kick, wake the trim
 * worker when the block may now be home as a whole: all its pages that are
 * not parked could be in the store. Any context.
 */
static void mp_huge_reserve_park(struct mp_huge_binding *b,
				 struct mp_huge_block *blk, netmem_ref netmem,
				 bool kick)
{
	unsigned int i = page_to_pfn(netmem_to_page(netmem)) -
			 page_to_pfn(blk->page);
	bool maybe_home;

	spin_lock_bh(&b->reserve_lock);
	__set_bit(i, blk->reserve_map);
	if (!blk->reserved++)
		list_add_tail(&blk->reserve_node, &b->reserve);
	b->reserve_pages++;
	maybe_home = blk->reserved + b->policy->count(b->store) +
		     atomic_read(&blk->lost) >= MP_HUGE_PAGES;
	spin_unlock_bh(&b->reserve_lock);

	if (kick && maybe_home)
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

	b->per_page[slot] = dma_max_mapping_size(dev) < SZ_2M;
	list_for_each_entry(blk, &b->blocks, node) {
		err = mp_huge_block_map(b, blk, slot, dev);
		if (err)
			goto unmap;
	}
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
static unsigned int mp_huge_fallback(struct page_pool *pool, netmem_ref *out,
				     unsigned int n, gfp_t gfp)
{
	memset(out, 0, n * sizeof(*out));
	return alloc_pages_bulk_array_node(gfp | __GFP_NOWARN, pool->p.nid, n,
					   (struct page **)out);
}

/* Set the DMA address of @netmem for @pool's slot: its block's mapping,
 * or its own for an order-0 fallback page.
 */
static bool mp_huge_dma_prep(struct mp_huge_binding *b, struct page_pool *pool,
			     int slot, netmem_ref netmem)
{
	struct page *page = netmem_to_page(netmem);
	struct mp_huge_block *blk;
	unsigned int i;

	blk = mp_huge_block_of(b, netmem);
	if (!blk)
		return mp_dma_map_page(&b->dma, slot, pool, page);

	i = page_to_pfn(page) - page_to_pfn(blk->page);
	return mp_dma_set(pool, page, b->per_page[slot] ? blk->dma[slot][i] :
				      blk->dma[slot][0] + i * PAGE_SIZE);
}

/* A netmem we could not hand out goes back where it came from. */
static void mp_huge_undo(struct mp_huge_binding *b, netmem_ref netmem)
{
	struct mp_huge_block *blk = mp_huge_block_of(b, netmem);

	if (blk)
		mp_huge_reserve_park(b, blk, netmem, false);
	else
		put_page(netmem_to_page(netmem));
}

static void mp_huge_want_more(struct mp_huge_binding *b)
{
	unsigned int nr = READ_ONCE(b->nr_blocks);

	if (nr >= b->params.max_blocks ||
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

	if (WARN_ON_ONCE(pool->alloc.count))
		return pool->alloc.cache[--pool->alloc.count];

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
	trace_mp_huge_refill(b->id, pool, store, reserve, fallback);

	if (unlikely(!got))
		return 0;
	pool->alloc.count = got - 1;
	return cache[got - 1];
}

/* An order-0 fallback page leaves: unmap it if we mapped it, and let
 * page_pool put it.
 */
static bool mp_huge_give_back(struct mp_huge_binding *b,
			      struct page_pool *pool, netmem_ref netmem)
{
	if (pool->dma_map)
		mp_dma_unmap_page(&b->dma, pool, netmem_to_page(netmem));
	trace_mp_huge_release(b->id, pool, netmem, MP_HUGE_RELEASE_GIVEN_BACK);
	return true;
}

/* Still referenced elsewhere, or a pfmemalloc fallback page: it leaves. */
static noinline bool mp_huge_release_slow(struct mp_huge_binding *b,
					  struct page_pool *pool,
					  netmem_ref netmem)
{
	struct mp_huge_block *blk = mp_huge_block_of(b, netmem);

	if (!blk)
		return mp_huge_give_back(b, pool, netmem);

	atomic_inc(&blk->lost);
	mp_huge_stat_add(b, lost, 1);
	page_pool_set_dma_addr_netmem(netmem, 0);
	trace_mp_huge_release(b->id, pool, netmem, MP_HUGE_RELEASE_LOST);
	return true;
}

/* Take back a netmem leaving @pool: ring overflow, refcount != 1, NUMA
 * waive or pool destroy. Softirq, or process context with BH enabled.
 * Return true when page_pool should put it (it is not ours any more).
 */
static bool mp_huge_release_netmem(struct page_pool *pool, netmem_ref netmem)
{
	struct mp_huge_binding *b = pool->mp_priv;
	struct mp_huge_block *blk = NULL;

	mp_huge_stat_add(b, release, 1);

	if (unlikely(netmem_ref_count(netmem) != 1 ||
		     netmem_is_pfmemalloc(netmem)))
		return mp_huge_release_slow(b, pool, netmem);

	if (pool->dma_map) {
		blk = mp_huge_block_of(b, netmem);
		if (!blk)
			return mp_huge_give_back(b, pool, netmem);
	}

	/* page_pool clears pp info only for netmem it puts */
	page_pool_clear_pp_info(netmem);
	if (likely(b->policy->put(b->store, netmem))) {
		trace_mp_huge_release(b->id, pool, netmem, MP_HUGE_RELEASE_KEPT);
		return false;
	}

	blk = blk ?: mp_huge_block_of(b, netmem);
	if (!blk)
		return mp_huge_give_back(b, pool, netmem);
	mp_huge_reserve_park(b, blk, netmem, true);
	trace_mp_huge_release(b->id, pool, netmem, MP_HUGE_RELEASE_PARKED);
	return false;
}

/* RTNL held when the pool was created for a queue. */
static int mp_huge_pool_init(struct page_pool *pool)
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
	refcount_inc(&b->ref);
	return 0;
}

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
	struct mp_huge_binding *b = mp_priv;
	u64 stats[MP_HUGE_STAT_NUM];
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(rsp, rxq ? NETDEV_A_QUEUE_MP_HUGE :
					 NETDEV_A_PAGE_POOL_MP_HUGE);
	if (!nest)
		return -EMSGSIZE;

	mp_huge_binding_stats(b, stats);
	if (nla_put_u32(rsp, NETDEV_A_MP_HUGE_ID, b->id) ||
	    nla_put_string(rsp, NETDEV_A_MP_HUGE_POLICY, b->policy->name))
		goto cancel;
	for (i = 0; i < MP_HUGE_STAT_NUM; i++)
		if (nla_put_uint(rsp, mp_huge_stat_attrs[i], stats[i]))
			goto cancel;

	nla_nest_end(rsp, nest);
	return 0;

cancel:
	nla_nest_cancel(rsp, nest);
	return -EMSGSIZE;
}

static void mp_huge_uninstall(void *mp_priv, struct netdev_rx_queue *rxq)
{
	mp_huge_unbind_queue(rxq);
}

/*** growth and trim, from the worker ***/

/* The caller holds a reference; queued work holds its own. Any context. */
static void mp_huge_kick_grow(struct mp_huge_binding *b)
{
	refcount_inc(&b->ref);
	if (!queue_work(mp_huge_wq, &b->work))
		mp_huge_binding_put(b);
}

static void mp_huge_kick_trim(struct mp_huge_binding *b)
{
	refcount_inc(&b->ref);
	if (!queue_delayed_work(mp_huge_wq, &b->trim_work, MP_HUGE_TRIM_DELAY))
		mp_huge_binding_put(b);
}

/* Give back every block whose pages are all home. The store is drained
 * so that its pages can be counted; those of blocks that stay go back in.
 */
static void mp_huge_do_trim(struct mp_huge_binding *b)
{
	struct mp_huge_block *blk, *tmp;
	netmem_ref netmem;
	unsigned int i, n;

	lockdep_assert_held(&b->lock);

	n = b->policy->drain(b->store, b->scratch, b->capacity);
	list_for_each_entry(blk, &b->blocks, node) {
		blk->home = 0;
		blk->returning = false;
	}
	for (i = 0; i < n; i++) {
		blk = mp_huge_block_of(b, b->scratch[i]);
		if (blk) {
			blk->home++;
			continue;
		}
		/* an order-0 fallback page a pool without DMA gave us */
		put_page(netmem_to_page(b->scratch[i]));
		b->scratch[i] = 0;
	}

	spin_lock_bh(&b->reserve_lock);
	list_for_each_entry(blk, &b->blocks, node) {
		if (blk->home + blk->reserved + atomic_read(&blk->lost) !=
		    MP_HUGE_PAGES)
			continue;
		blk->returning = true;
		if (blk->reserved) {
			list_del_init(&blk->reserve_node);
			b->reserve_pages -= blk->reserved;
			blk->reserved = 0;
		}
	}
	spin_unlock_bh(&b->reserve_lock);

	for (i = 0; i < n; i++) {
		netmem = b->scratch[i];
		if (!netmem)
			continue;
		blk = mp_huge_block_of(b, netmem);
		if (blk->returning)
			__set_bit(page_to_pfn(netmem_to_page(netmem)) -
				  page_to_pfn(blk->page), blk->reserve_map);
		else if (!b->policy->put(b->store, netmem))
			mp_huge_reserve_park(b, blk, netmem, false);
	}

	list_for_each_entry_safe(blk, tmp, &b->blocks, node) {
		if (!blk->returning)
			continue;
		mp_huge_block_free(b, blk);
		mp_huge_stat_add(b, returned, 1);
	}
}

static void mp_huge_grow_work(struct work_struct *work)
{
	struct mp_huge_binding *b = container_of(work, struct mp_huge_binding,
						 work);

	mutex_lock(&b->lock);
	if (mp_huge_grow(b, READ_ONCE(b->want_blocks),
			 GFP_KERNEL | __GFP_NORETRY))
		WRITE_ONCE(b->grow_after, jiffies + MP_HUGE_GROW_BACKOFF);
	mutex_unlock(&b->lock);
	mp_huge_binding_put(b);
}

static void mp_huge_trim_work(struct work_struct *work)
{
	struct mp_huge_binding *b = container_of(to_delayed_work(work),
						 struct mp_huge_binding,
						 trim_work);

	mp_huge_trim(b);
	mp_huge_binding_put(b);
}

/**
 * mp_huge_trim() - give back the huge pages a binding does not use
 * @binding: the binding
 *
 * Every huge page whose pages are all home is unmapped and freed.
 * Process context.
 */
void mp_huge_trim(struct mp_huge_binding *binding)
{
	mutex_lock(&binding->lock);
	mp_huge_do_trim(binding);
	mutex_unlock(&binding->lock);
}
EXPORT_SYMBOL_GPL(mp_huge_trim);

/**
 * mp_huge_flush() - run queued growth, trims and teardowns, and wait
 *
 * Trims wait a little to coalesce releases: they are run now. Teardowns
 * queue after the work that dropped the last reference, hence the second
 * flush.
 */
void mp_huge_flush(void)
{
	struct mp_huge_binding *b;
	int i;

	/* not under mp_huge_list_lock: a teardown in mp_huge_wq takes it */
	for (i = 0; i < 64; i++) {
		mutex_lock(&mp_huge_list_lock);
		list_for_each_entry(b, &mp_huge_list, list) {
			if (delayed_work_pending(&b->trim_work) &&
			    refcount_inc_not_zero(&b->ref))
				goto flush;
		}
		mutex_unlock(&mp_huge_list_lock);
		break;
flush:
		mutex_unlock(&mp_huge_list_lock);
		flush_delayed_work(&b->trim_work);
		mp_huge_binding_put(b);
	}
	flush_workqueue(mp_huge_wq);
	flush_workqueue(mp_huge_wq);
}
EXPORT_SYMBOL_GPL(mp_huge_flush);

/*** binding lifetime ***/

static void mp_huge_binding_free(struct mp_huge_binding *b)
{
	int slot;

	mutex_lock(&mp_huge_list_lock);
	list_del(&b->list);
	mutex_unlock(&mp_huge_list_lock);

	/* No pool is left, so nothing is in flight: every block is home. */
	mutex_lock(&b->lock);
	if (b->store && b->scratch)
		mp_huge_do_trim(b);
	WARN(b->nr_blocks, "mp_huge: binding %u: %u huge pages not home at teardown\n",
	     b->id, b->nr_blocks);
	for (slot = 0; slot < MP_DMA_SLOTS; slot++)
		WARN_ON(b->dma.slot[slot].users);
	mutex_unlock(&b->lock);

	if (b->store)
		b->policy->destroy(b->store);
	if (b->policy)
		pp_policy_put(b->policy);
	kvfree(b->scratch);
	free_percpu(b->stats);
	if (b->id)
		ida_free(&mp_huge_ida, b->id);
	xa_destroy(&b->block_index);
	xa_destroy(&b->rxqs);
	mutex_destroy(&b->lock);
	kfree(b);
}

static void mp_huge_free_work(struct work_struct *work)
{
	mp_huge_binding_free(container_of(work, struct mp_huge_binding,
					  free_work));
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
	if (refcount_dec_and_test(&binding->ref))
		queue_work(mp_huge_wq, &binding->free_work);
}
EXPORT_SYMBOL_GPL(mp_huge_binding_put);

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

static int mp_huge_binding_init(struct mp_huge_binding *b,
				struct netlink_ext_ack *extack)
{
	const struct mp_huge_params *p = &b->params;
	int id;

	b->policy = p->policy[0] ? pp_policy_get(p->policy) :
				   pp_policy_get_default();
	if (!b->policy) {
		NL_SET_ERR_MSG(extack, "unknown recycling policy");
		return -ENOENT;
	}

	b->capacity = (unsigned long)p->max_blocks * MP_HUGE_PAGES;
	b->store = b->policy->create(&p->policy_params, b->nid, b->capacity);
	b->scratch = kvmalloc_array(b->capacity, sizeof(*b->scratch),
				    GFP_KERNEL);
	b->stats = alloc_percpu(struct mp_huge_pcpu_stats);
	if (!b->store || !b->scratch || !b->stats)
		return -ENOMEM;

	id = ida_alloc_min(&mp_huge_ida, 1, GFP_KERNEL);
	if (id < 0)
		return id;
	b->id = id;
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
	b->nid = p->nid == NUMA_NO_NODE ? numa_mem_id() : p->nid;
	refcount_set(&b->ref, 1);
	mutex_init(&b->lock);
	INIT_LIST_HEAD(&b->blocks);
	INIT_LIST_HEAD(&b->reserve);
	INIT_LIST_HEAD(&b->list);
	spin_lock_init(&b->reserve_lock);
	xa_init(&b->block_index);
	xa_init_flags(&b->rxqs, XA_FLAGS_ALLOC);
	INIT_WORK(&b->work, mp_huge_grow_work);
	INIT_DELAYED_WORK(&b->trim_work, mp_huge_trim_work);
	INIT_WORK(&b->free_work, mp_huge_free_work);
	b->want_blocks = p->blocks;

	err = mp_huge_binding_init(b, extack);
	if (err)
		goto free;

	mutex_lock(&mp_huge_list_lock);
	list_add_tail(&b->list, &mp_huge_list);
	mutex_unlock(&mp_huge_list_lock);

	if (reserve_now) {
		mutex_lock(&b->lock);
		err = mp_huge_grow(b, p->blocks,
				   GFP_KERNEL | __GFP_RETRY_MAYFAIL);
		mutex_unlock(&b->lock);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot reserve the huge pages");
			goto free;
		}
	} else if (p->blocks) {
		mp_huge_kick_grow(b);
	}
	return b;

free:
	mp_huge_binding_free(b);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(mp_huge_binding_create);

/**
 * mp_huge_binding_set_policy_params() - retune a live binding's policy
 * @binding: the binding
 * @params: parameters to change (those set in @params->set); they apply
 *	from the next release on
 *
 * Return: 0, or -EOPNOTSUPP if the policy has nothing to tune.
 */
int mp_huge_binding_set_policy_params(struct mp_huge_binding *binding,
				      const struct pp_policy_params *params)
{
	int err;

	if (!binding->policy->update)
		return -EOPNOTSUPP;

	mutex_lock(&binding->lock);
	err = binding->policy->update(binding->store, params);
	mutex_unlock(&binding->lock);
	return err;
}
EXPORT_SYMBOL_GPL(mp_huge_binding_set_policy_params);

/*** binding <-> rx queue ***/

/**
 * mp_huge_bind_queue() - make a binding supply an rx queue's page pools
 * @binding: the binding; the queue takes its own reference
 * @dev: the device; a binding serves the queues of one device
 * @rxq_idx: the queue
 * @extack: where to say what was wrong
 *
 * Pools created for the queue from now on draw from the binding; drivers
 * without queue management ops (veth, netdevsim) create them at the next
 * link up, XDP attach or channel change. Caller holds RTNL.
 *
 * Return: 0, -ERANGE, -EINVAL (another device), -EEXIST (the queue has a
 * provider) or -ENOMEM.
 */
int mp_huge_bind_queue(struct mp_huge_binding *binding, struct net_device *dev,
		       unsigned int rxq_idx, struct netlink_ext_ack *extack)
{
	struct netdev_rx_queue *rxq;
	u32 xa_idx;
	int err;

	ASSERT_RTNL();

	if (rxq_idx >= dev->num_rx_queues) {
		NL_SET_ERR_MSG(extack, "rx queue index out of range");
		return -ERANGE;
	}
	if (binding->dev && binding->dev != dev) {
		NL_SET_ERR_MSG(extack, "binding serves the queues of another device");
		return -EINVAL;
	}
	rxq = __netif_get_rx_queue(dev, rxq_idx);
	if (rxq->mp_params.mp_ops) {
		NL_SET_ERR_MSG(extack, "rx queue already has a memory provider");
		return -EEXIST;
	}

	err = xa_alloc(&binding->rxqs, &xa_idx, rxq, xa_limit_32b, GFP_KERNEL);
	if (err)
		return err;

	refcount_inc(&binding->ref);
	binding->dev = dev;
	rxq->mp_params.mp_priv = binding;
	rxq->mp_params.mp_ops = &mp_huge_ops;
	return 0;
}
EXPORT_SYMBOL_GPL(mp_huge_bind_queue);

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
	ASSERT_RTNL();
	return rxq->mp_params.mp_ops == &mp_huge_ops ?
	       rxq->mp_params.mp_priv : NULL;
}
EXPORT_SYMBOL_GPL(mp_huge_rxq_binding);

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
	struct mp_huge_binding *b = mp_huge_rxq_binding(rxq);
	struct netdev_rx_queue *bound;
	unsigned long xa_idx;

	if (WARN_ON_ONCE(!b))
		return;

	xa_for_each(&b->rxqs, xa_idx, bound) {
		if (bound == rxq) {
			xa_erase(&b->rxqs, xa_idx);
			break;
		}
	}
	rxq->mp_params.mp_priv = NULL;
	rxq->mp_params.mp_ops = NULL;
	if (xa_empty(&b->rxqs))
		b->dev = NULL;
	mp_huge_binding_put(b);
}
EXPORT_SYMBOL_GPL(mp_huge_unbind_queue);

/**
 * mp_huge_binding_default_gen() - which sysctl default made a binding
 * @binding: the binding
 *
 * Return: the generation of the net.core.mp_* defaults it was made from,
 * 0 if it was bound explicitly.
 */
u32 mp_huge_binding_default_gen(const struct mp_huge_binding *binding)
{
	return binding->default_gen;
}

/**
 * mp_huge_binding_set_default_gen() - mark a binding as made by a default
 * @binding: the binding, not yet bound
 * @gen: generation of the defaults
 */
void mp_huge_binding_set_default_gen(struct mp_huge_binding *binding, u32 gen)
{
	binding->default_gen = gen;
}

/*** debugfs ***/

static void mp_huge_show_one(struct seq_file *m, struct mp_huge_binding *b)
{
	struct netdev_rx_queue *rxq;
	u64 stats[MP_HUGE_STAT_NUM];
	unsigned long xa_idx;
	const char *sep = "";
	int i;

	seq_printf(m, "id=%u dev=%s queues=", b->id,
		   b->dev ? netdev_name(b->dev) : "-");
	xa_for_each(&b->rxqs, xa_idx, rxq) {
		seq_printf(m, "%s%u", sep, get_netdev_rx_queue_index(rxq));
		sep = ",";
	}
	seq_printf(m, "%s policy=%s default=%u", *sep ? "" : "-",
		   b->policy->name, b->default_gen);

	mp_huge_binding_stats(b, stats);
	for (i = 0; i < MP_HUGE_STAT_NUM; i++)
		seq_printf(m, " %s=%llu", mp_huge_stat_names[i], stats[i]);
	seq_putc(m, '\n');
}

/* One line per binding, then the total of huge pages held. */
static int mp_huge_bindings_show(struct seq_file *m, void *v)
{
	struct mp_huge_binding *b;

	rtnl_lock();
	mutex_lock(&mp_huge_list_lock);
	list_for_each_entry(b, &mp_huge_list, list)
		mp_huge_show_one(m, b);
	mutex_unlock(&mp_huge_list_lock);
	rtnl_unlock();

	seq_printf(m, "total blocks=%lu\n", mp_huge_blocks_held());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mp_huge_bindings);

/* Any write trims every binding. */
static ssize_t mp_huge_trim_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct mp_huge_binding *b;

	mutex_lock(&mp_huge_list_lock);
	list_for_each_entry(b, &mp_huge_list, list)
		mp_huge_trim(b);
	mutex_unlock(&mp_huge_list_lock);
	return count;
}

/* "<binding id> budget=<n> depot=<n> ...": retune a live binding's policy */
VISIBLE_IF_KUNIT int mp_huge_parse_policy_params(char *buf, u32 *id,
						 struct pp_policy_params *p)
{
	static const struct {
		const char *key;
		u32 bit;
		size_t offset;
	} keys[] = {
		{ "budget", PP_POLICY_BUDGET,
		  offsetof(struct pp_policy_params, budget) },
		{ "magazine", PP_POLICY_MAGAZINE,
		  offsetof(struct pp_policy_params, magazine) },
		{ "depot", PP_POLICY_DEPOT,
		  offsetof(struct pp_policy_params, depot) },
	};
	char *tok, *val;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	tok = strsep(&buf, " \t\n");
	if (!tok || kstrtou32(tok, 0, id))
		return -EINVAL;
	while ((tok = strsep(&buf, " \t\n"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(tok, keys[i].key))
				break;
		if (i == ARRAY_SIZE(keys) || (p->set & keys[i].bit) ||
		    kstrtou32(val, 0, (u32 *)((char *)p + keys[i].offset)))
			return -EINVAL;
		p->set |= keys[i].bit;
	}
	return p->set ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(mp_huge_parse_policy_params);

static ssize_t mp_huge_policy_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct pp_policy_params params;
	struct mp_huge_binding *b;
	int err = -ENOENT;
	char *buf;
	u32 id;

	buf = memdup_user_nul(ubuf, min_t(size_t, count, 128));
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	err = mp_huge_parse_policy_params(buf, &id, &params);
	kfree(buf);
	if (err)
		return err;

	err = -ENOENT;
	mutex_lock(&mp_huge_list_lock);
	list_for_each_entry(b, &mp_huge_list, list) {
		if (b->id == id) {
			err = mp_huge_binding_set_policy_params(b, &params);
			break;
		}
	}
	mutex_unlock(&mp_huge_list_lock);
	return err ?: count;
}

static const struct file_operations mp_huge_policy_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= mp_huge_policy_write,
	.llseek	= noop_llseek,
};

static const struct file_operations mp_huge_trim_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= mp_huge_trim_write,
	.llseek	= noop_llseek,
};

static int __init mp_huge_init(void)
{
	struct dentry *dir;

	BUILD_BUG_ON(MP_HUGE_ORDER > MAX_PAGE_ORDER);
	BUILD_BUG_ON(SZ_2M != (PAGE_SIZE << MP_HUGE_ORDER));

	mp_huge_wq = alloc_workqueue("mp_huge", WQ_UNBOUND, 0);
	if (!mp_huge_wq)
		return -ENOMEM;

	dir = debugfs_create_dir("mp_huge", NULL);
	debugfs_create_file("bindings", 0444, dir, NULL, &mp_huge_bindings_fops);
	debugfs_create_file("trim", 0200, dir, NULL, &mp_huge_trim_fops);
	debugfs_create_file("policy_params", 0200, dir, NULL,
			    &mp_huge_policy_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail_block", dir, &mp_huge_fail_block);
#endif
	return 0;
}
device_initcall(mp_huge_init);

static const struct memory_provider_ops mp_huge_ops = {
	.alloc_netmems	= mp_huge_alloc_netmems,
	.release_netmem	= mp_huge_release_netmem,
	.init		= mp_huge_pool_init,
	.destroy	= mp_huge_pool_destroy,
	.nl_fill	= mp_huge_nl_fill,
	.uninstall	= mp_huge_uninstall,
	.scrub		= mp_huge_pool_unmap,
};
