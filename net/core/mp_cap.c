// SPDX-License-Identifier: GPL-2.0
/*
 * Memory-cap provider for page pools.
 *
 * A guest with many rx queues fills queues x ring size x 4 KiB with rx
 * buffers, plus what sockets hold in flight: more than a small or
 * overcommitted VM can spare. A cap binding serves the page pools of one
 * rx queue with order-0 pages from the page allocator and caps what it
 * holds: pages in flight (handed to its pools and not back yet, wherever
 * they are: driver ring, pool cache and ring, sockets) and pages in its own
 * cache, together. Every page of a provider pool leaves through
 * release_netmem, so the count is exact: a page that comes back still
 * referenced elsewhere (a pipe after splice, TCP zerocopy) stays charged,
 * with a reference of ours, until its other holders let go (pages-lost; a
 * worker looks every second). Optionally the cap bindings of a device also
 * share a device budget.
 *
 * At the cap (or the budget), alloc_netmems hands out nothing: the driver
 * counts an allocation failure and drops, as it does under memory pressure
 * today. Allocation resumes once use is below the low watermark, so that it
 * does not flap at the boundary. Pages released while the binding is above
 * its low watermark go straight back to the page allocator; below, they
 * are cached, and a shrinker gives cached pages back under memory pressure.
 *
 * What the provider cannot take back: pages a pool keeps in its alloc cache
 * (up to 128) and ptr_ring (veth 256, default 1024) are in flight from the
 * provider's view and only the pool returns them. They count against the
 * cap, which therefore bounds them too; their possible share is reported
 * (pool-cache-max), not pretended away.
 *
 * Lowering the cap on a live binding never frees a page in flight: it
 * stops new allocations until use falls below it, and gives back cached
 * pages above it. Bindings take no netdev reference.
 *
 * Locking, outermost first:
 *   RTNL			binding <-> queue links, pool init
 *   binding->mlock (mutex)	DMA slots, pool accounting
 *   mp_cap_lock (mutex)	mp_cap_list and mp_cap_devs writers
 *   binding->lock		the cache (BH; taken alone; trylock in the
 *				shrinker, which walks mp_cap_list under RCU)
 *   binding->lost's xa_lock	lost pages (BH; taken alone)
 * held, out and the device's held are atomics. Nothing allocates under a
 * spinlock: ring fills allocate with GFP_KERNEL and can enter reclaim,
 * whose shrinker wants the cache lock.
 */

#define pr_fmt(fmt) "mp_cap: " fmt

#include <kunit/visibility.h>
#include <linux/error-injection.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/netdev_rx_queue.h>
#include <net/netlink.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_cap.h>
#include <net/page_pool/pp_policy.h>
#include <trace/events/page_pool.h>
#include <uapi/linux/netdev.h>

#define CREATE_TRACE_POINTS
#include <trace/events/mp_cap.h>

#include "mp_cap_priv.h"
#include "mp_core.h"
#include "mp_dma.h"
#include "page_pool_priv.h"

/* Pages the binding's own cache holds at most. */
#define MP_CAP_CACHE		1024
/* The shrinker frees this many at a time, outside the cache lock. */
#define MP_CAP_SHRINK_BATCH	64

/* a device's shared budget */
struct mp_cap_dev {
	refcount_t ref;			/* bindings */
	struct net_device *dev;		/* key, mp_cap_lock; no reference:
					 * cleared at unregister, before the
					 * pointer can name another device
					 */
	u32 budget;			/* READ_ONCE */
	bool throttled;			/* READ_ONCE/WRITE_ONCE */
	atomic_long_t held;
	struct list_head node;		/* mp_cap_devs, mp_cap_lock */
};

struct mp_cap_binding {
	struct mp_binding mb;		/* first: the queues' and pools' mp_priv */
	u32 cap;			/* READ_ONCE: changes live */
	u32 cap_low;			/* READ_ONCE; 0: the cap less an eighth */
	bool throttled;			/* READ_ONCE/WRITE_ONCE */
	atomic_long_t held;		/* out + cached: the capped quantity */
	atomic_long_t out;
	unsigned long peak;		/* READ_ONCE/WRITE_ONCE */
	atomic_long_t cap_hits;
	atomic_long_t shrunk;
	struct mp_cap_dev *cdev;	/* shared budget, or NULL */

	/* pages that came back still referenced elsewhere: pfn -> page, with
	 * a reference of ours, held (charged) until only ours is left
	 */
	struct xarray lost;		/* XA_FLAGS_LOCK_BH */
	atomic_long_t nr_lost;
	unsigned long lost_armed;	/* bit 0: lost_work queued, with a
					 * binding reference
					 */
	struct delayed_work lost_work;

	spinlock_t lock;		/* the cache, BH */
	struct pp_netmem_stack cache;	/* lock */

	struct mutex mlock;		/* DMA slots, pool_cache_max */
	struct mp_dma dma;		/* slots: mlock */
	unsigned long pool_cache_max;	/* mlock */

	struct list_head node;		/* mp_cap_list: mp_cap_lock, RCU */
};

static const struct memory_provider_ops mp_cap_ops;

static struct mp_cap_binding *mp_cap_mb(struct mp_binding *mb)
{
	return container_of(mb, struct mp_cap_binding, mb);
}

/**
 * mp_cap_binding_of() - the memory-cap binding behind a binding
 * @mb: a binding
 *
 * Return: the memory-cap binding, or NULL if @mb is of another provider.
 */
struct mp_cap_binding *mp_cap_binding_of(struct mp_binding *mb)
{
	return mb && mb->type == &mp_cap_type ? mp_cap_mb(mb) : NULL;
}

static DEFINE_MUTEX(mp_cap_lock);
static LIST_HEAD(mp_cap_list);
static LIST_HEAD(mp_cap_devs);
static atomic_long_t mp_cap_held;	/* every binding's, for tests */

/* the debugfs view's names: netlink's */
static const char * const mp_cap_stat_names[MP_CAP_STAT_NUM] = {
	[MP_CAP_STAT_CAP]		= "cap",
	[MP_CAP_STAT_CAP_LOW]		= "cap-low",
	[MP_CAP_STAT_PAGES_HELD]	= "pages-held",
	[MP_CAP_STAT_PAGES_INFLIGHT]	= "pages-inflight",
	[MP_CAP_STAT_PAGES_CACHED]	= "pages-cached",
	[MP_CAP_STAT_PAGES_PEAK]	= "pages-peak",
	[MP_CAP_STAT_POOL_CACHE_MAX]	= "pool-cache-max",
	[MP_CAP_STAT_CAP_HITS]		= "cap-hits",
	[MP_CAP_STAT_SHRINKER_PAGES]	= "shrinker-pages",
	[MP_CAP_STAT_DEVICE_BUDGET]	= "device-budget",
	[MP_CAP_STAT_DEVICE_HELD]	= "device-held",
	[MP_CAP_STAT_PAGES_LOST]	= "pages-lost",
};

/* Allocation resumes below this after the cap stopped it. */
static unsigned long mp_cap_low(unsigned long cap)
{
	return cap - max(cap / 8, 1UL);
}

static unsigned long mp_cap_binding_low(const struct mp_cap_binding *b)
{
	return READ_ONCE(b->cap_low) ?: mp_cap_low(READ_ONCE(b->cap));
}

/*** accounting ***/

/* Whether a counter may allocate; a throttled one resumes (the throttle
 * cleared, traced) once @held is below the low watermark.
 * @force: below the cap is enough while throttled (a pool below its
 * share, see mp_cap_pool_room()); the counter resumes below the low
 * watermark either way.
 */
static bool mp_cap_below(struct mp_cap_binding *b, bool device, bool *throttled,
			 long held, unsigned long cap, unsigned long low,
			 bool force)
{
	if (!READ_ONCE(*throttled))
		return held < cap;
	if (held >= low)
		return force && held < cap;
	WRITE_ONCE(*throttled, false);
	trace_mp_cap_throttle(b->mb.id, device, false, held, cap, low);
	return true;
}

/* Reserve up to @want pages of @held under @cap; throttles at the cap.
 * @device: @held is the device's, for the tracepoint.
 */
static long mp_cap_reserve_one(struct mp_cap_binding *b, bool device,
			       atomic_long_t *held, bool *throttled,
			       unsigned long cap, unsigned long low, long want,
			       bool force)
{
	long now, excess;

	if (!mp_cap_below(b, device, throttled, atomic_long_read(held), cap,
			  low, force))
		return 0;
	now = atomic_long_add_return(want, held);
	excess = now - (long)cap;
	if (excess >= 0) {
		excess = min(excess, want);
		now = atomic_long_sub_return(excess, held);
		want -= excess;
		/* @now is what this reservation left, the cap when alone */
		if (!READ_ONCE(*throttled))
			trace_mp_cap_throttle(b->mb.id, device, true, now, cap,
					      low);
		WRITE_ONCE(*throttled, true);
	}
	return want;
}

static void mp_cap_unhold(struct mp_cap_binding *b, long n)
{
	atomic_long_sub(n, &b->held);
	if (b->cdev)
		atomic_long_sub(n, &b->cdev->held);
	atomic_long_sub(n, &mp_cap_held);
}

/* Reserve up to @want new pages under the binding's cap and the device's
 * budget. A binding of several queues lets a pool below its share take
 * pages as long as the binding is below the cap: the other pools sit at
 * their shares and give nothing back, so waiting for the low watermark
 * would starve it. Any context.
 */
static long mp_cap_reserve(struct mp_cap_binding *b, long want)
{
	bool shared = READ_ONCE(b->mb.nr_queues) > 1;
	struct mp_cap_dev *cdev = b->cdev;
	long got, budget;

	got = mp_cap_reserve_one(b, false, &b->held, &b->throttled,
				 READ_ONCE(b->cap), mp_cap_binding_low(b), want,
				 shared);
	budget = cdev ? READ_ONCE(cdev->budget) : 0;
	if (got && budget) {
		long dev_got = mp_cap_reserve_one(b, true, &cdev->held,
						  &cdev->throttled, budget,
						  mp_cap_low(budget), got, false);

		atomic_long_sub(got - dev_got, &b->held);
		got = dev_got;
	} else if (got && cdev) {
		atomic_long_add(got, &cdev->held);
	}
	atomic_long_add(got, &mp_cap_held);
	return got;
}

static void mp_cap_peak(struct mp_cap_binding *b)
{
	unsigned long held = atomic_long_read(&b->held);

	if (held > READ_ONCE(b->peak))
		WRITE_ONCE(b->peak, held);
}

/* Above the low watermark, released pages go back to the page allocator. */
static bool mp_cap_keep(struct mp_cap_binding *b)
{
	struct mp_cap_dev *cdev = b->cdev;
	u32 budget;

	if (READ_ONCE(b->throttled) ||
	    atomic_long_read(&b->held) > mp_cap_binding_low(b))
		return false;
	if (!cdev)
		return true;
	budget = READ_ONCE(cdev->budget);
	return !budget || (!READ_ONCE(cdev->throttled) &&
			   atomic_long_read(&cdev->held) <= mp_cap_low(budget));
}

/**
 * mp_cap_binding_stats() - read a binding's counters
 * @binding: the binding
 * @stats: MP_CAP_STAT_NUM values, indexed by enum mp_cap_stat
 */
void mp_cap_binding_stats(struct mp_cap_binding *binding, u64 *stats)
{
	struct mp_cap_dev *cdev = binding->cdev;
	u32 cap = READ_ONCE(binding->cap);

	stats[MP_CAP_STAT_CAP] = cap;
	stats[MP_CAP_STAT_CAP_LOW] = mp_cap_binding_low(binding);
	stats[MP_CAP_STAT_PAGES_HELD] = atomic_long_read(&binding->held);
	stats[MP_CAP_STAT_PAGES_INFLIGHT] = atomic_long_read(&binding->out);
	/* statistics, read without the locks that order them */
	stats[MP_CAP_STAT_PAGES_CACHED] = data_race(READ_ONCE(binding->cache.count));
	stats[MP_CAP_STAT_PAGES_PEAK] = READ_ONCE(binding->peak);
	/* an upper bound, updated under pool creation; a statistic */
	stats[MP_CAP_STAT_POOL_CACHE_MAX] = data_race(READ_ONCE(binding->pool_cache_max));
	stats[MP_CAP_STAT_CAP_HITS] = atomic_long_read(&binding->cap_hits);
	stats[MP_CAP_STAT_SHRINKER_PAGES] = atomic_long_read(&binding->shrunk);
	stats[MP_CAP_STAT_DEVICE_BUDGET] = cdev ? READ_ONCE(cdev->budget) : 0;
	stats[MP_CAP_STAT_DEVICE_HELD] = cdev ? atomic_long_read(&cdev->held) : 0;
	stats[MP_CAP_STAT_PAGES_LOST] = atomic_long_read(&binding->nr_lost);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_stats);

/**
 * mp_cap_binding_id() - the id netlink and debugfs show for a binding
 * @binding: the binding
 *
 * Return: the id, unique among live cap bindings.
 */
u32 mp_cap_binding_id(const struct mp_cap_binding *binding)
{
	return binding->mb.id;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_id);

/**
 * mp_cap_pages_held() - pages all cap bindings hold
 *
 * Return: the total, bindings being torn down included.
 */
unsigned long mp_cap_pages_held(void)
{
	return atomic_long_read(&mp_cap_held);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_pages_held);

/*** hand-out and release ***/

/**
 * mp_cap_share() - what one pool of a binding may hold at most
 * @cap: the binding's cap
 * @queues: the rx queues it serves
 *
 * A pool keeps what it was handed recycling in its own alloc cache and
 * ptr_ring, out of the provider's reach: without a share, the first busy
 * pool of a binding over several queues takes the whole cap and the others
 * starve. Each pool may hold the cap divided by the queues.
 *
 * Return: the share, in pages.
 */
unsigned long mp_cap_share(unsigned long cap, unsigned int queues)
{
	return cap / max(queues, 1U);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_share);

/* What @pool may still take: its share less what it holds (handed to it
 * and not back: page_pool's own inflight count). NAPI or the pool's
 * process-context refill, the only writers of the hold count.
 */
static unsigned int mp_cap_pool_room(struct mp_cap_binding *b,
				     struct page_pool *pool)
{
	long held = (s32)(pool->pages_state_hold_cnt -
			  atomic_read(&pool->pages_state_release_cnt));
	long share = mp_cap_share(READ_ONCE(b->cap), READ_ONCE(b->mb.nr_queues));

	return clamp(share - held, 0L, (long)PP_ALLOC_CACHE_REFILL);
}

/* Refill @pool's empty alloc cache: cached pages first, then new ones
 * from the page allocator as far as the cap allows. At the cap, nothing:
 * the driver sees an allocation failure. Caller provides safe context,
 * e.g. NAPI.
 */
static netmem_ref mp_cap_alloc_netmems(struct page_pool *pool, gfp_t gfp)
{
	struct mp_cap_binding *b = pool->mp_priv;
	unsigned int i, n, got, cached, refused;
	netmem_ref *cache = pool->alloc.cache;
	bool bh, capped = false;
	unsigned int want;
	int slot = -1;
	long k;

	want = mp_cap_pool_room(b, pool);
	refused = PP_ALLOC_CACHE_REFILL - want;
	capped = refused > 0;
	bh = pp_policy_lock(&b->lock);
	n = pp_netmem_stack_pop_bulk(&b->cache, cache, want);
	pp_policy_unlock(&b->lock, bh);
	cached = n;

	if (n < want) {
		k = mp_cap_reserve(b, want - n);
		capped |= k < want - n;
		refused += want - n - k;
		if (k) {
			memset(cache + n, 0, k * sizeof(*cache));
			got = alloc_pages_bulk_array_node(gfp | __GFP_NOWARN,
							  pool->p.nid, k,
							  (struct page **)(cache + n));
			if (got < k)
				mp_cap_unhold(b, k - got);
			n += got;
		}
	}
	trace_mp_cap_refill(b->mb.id, pool, cached, n - cached, refused,
			    atomic_long_read(&b->held));
	if (!n) {
		if (capped)
			atomic_long_inc(&b->cap_hits);
		return 0;
	}

	if (pool->dma_map)
		slot = mp_dma_slot_find(&b->dma, pool);
	for (i = 0, got = 0; i < n; i++) {
		struct page *page = netmem_to_page(cache[i]);

		if (slot >= 0 && !mp_dma_map_page(&b->dma, slot, pool, page)) {
			put_page(page);
			mp_cap_unhold(b, 1);
			continue;
		}
		page_pool_set_pp_info(pool, cache[i]);
		pool->pages_state_hold_cnt++;
		trace_page_pool_state_hold(pool, cache[i],
					   pool->pages_state_hold_cnt);
		cache[got++] = cache[i];
	}
	atomic_long_add(got, &b->out);
	mp_cap_peak(b);
	if (!got)
		return 0;
	pool->alloc.count = got - 1;
	return cache[got - 1];
}

/*** pages lost to another holder ***/

/* Give back the lost pages whose other holders let go: ours is the only
 * reference left. Process context (mp_wq), or teardown with @all.
 */
static void mp_cap_lost_scan(struct mp_cap_binding *b, bool all)
{
	struct page *page;
	unsigned long pfn;

	xa_for_each(&b->lost, pfn, page) {
		if (!all && page_ref_count(page) != 1)
			continue;
		xa_erase_bh(&b->lost, pfn);
		put_page(page);
		atomic_long_dec(&b->nr_lost);
		mp_cap_unhold(b, 1);
	}
}

/* Every second while pages are lost; holds a binding reference while it
 * is queued (lost_armed).
 */
static void mp_cap_lost_work(struct work_struct *work)
{
	struct mp_cap_binding *b = container_of(to_delayed_work(work),
						struct mp_cap_binding,
						lost_work);

	mp_cap_lost_scan(b, false);
	if (xa_empty(&b->lost)) {
		clear_bit(0, &b->lost_armed);
		/* the clear before the second look, against the loser's store
		 * before its test_and_set_bit(): a page lost meanwhile armed
		 * nothing (it saw the bit set), and is seen here
		 */
		smp_mb__after_atomic();
		if (xa_empty(&b->lost) || test_and_set_bit(0, &b->lost_armed)) {
			mp_cap_binding_put(b);
			return;
		}
	}
	queue_delayed_work(mp_wq, &b->lost_work, HZ);
}

/* @netmem came back still referenced elsewhere (a pipe after splice, TCP
 * zerocopy): keep a reference and keep it charged until the other holders
 * let go, so that the cap stays exact. Softirq, or process context with
 * BH enabled. False if it cannot be tracked (no memory): it is then
 * uncharged and let go, as before.
 */
static bool mp_cap_hold_lost(struct mp_cap_binding *b, netmem_ref netmem)
{
	struct page *page = netmem_to_page(netmem);

	get_page(page);
	if (xa_err(xa_store_bh(&b->lost, page_to_pfn(page), page,
			       GFP_ATOMIC | __GFP_NOWARN))) {
		put_page(page);
		return false;
	}
	atomic_long_inc(&b->nr_lost);
	if (!test_and_set_bit(0, &b->lost_armed)) {
		mp_binding_get(&b->mb);
		queue_delayed_work(mp_wq, &b->lost_work, HZ);
	}
	return true;
}

/* A page leaves @pool. Softirq, or process context with BH enabled. Return
 * true when page_pool should put it: it goes back to the page allocator,
 * or, lost to another holder, stays with the reference we took.
 */
static bool mp_cap_release_netmem(struct page_pool *pool, netmem_ref netmem)
{
	struct mp_cap_binding *b = pool->mp_priv;
	bool kept = false, bh;

	atomic_long_dec(&b->out);
	if (pool->dma_map)
		mp_dma_unmap_page(&b->dma, pool, netmem_to_page(netmem));

	if (unlikely(netmem_ref_count(netmem) != 1)) {
		if (mp_cap_hold_lost(b, netmem))
			return true;
	} else if (likely(!netmem_is_pfmemalloc(netmem) && mp_cap_keep(b))) {
		page_pool_clear_pp_info(netmem);
		bh = pp_policy_lock(&b->lock);
		kept = pp_netmem_stack_push(&b->cache, netmem);
		pp_policy_unlock(&b->lock, bh);
	}
	if (!kept)
		mp_cap_unhold(b, 1);
	return !kept;
}

/*** shrinker ***/

/* Give back up to @nr cached pages of @b; false if its lock was taken. */
static bool mp_cap_shrink_one(struct mp_cap_binding *b, unsigned long nr,
			      unsigned long *freed,
			      enum mp_cap_shrink_reason reason)
{
	netmem_ref batch[MP_CAP_SHRINK_BATCH];
	unsigned int i, n;

	while (*freed < nr) {
		if (!spin_trylock_bh(&b->lock))
			return false;
		n = pp_netmem_stack_pop_bulk(&b->cache, batch,
					     min(nr - *freed,
						 (unsigned long)MP_CAP_SHRINK_BATCH));
		spin_unlock_bh(&b->lock);
		if (!n)
			break;
		for (i = 0; i < n; i++)
			put_page(netmem_to_page(batch[i]));
		mp_cap_unhold(b, n);
		atomic_long_add(n, &b->shrunk);
		trace_mp_cap_shrink(b->mb.id, n, reason);
		*freed += n;
	}
	return true;
}

/**
 * mp_cap_shrink() - give back cached pages of every cap binding
 * @nr: pages to give back at most
 *
 * What the shrinker does under memory pressure. Any context but hardirq.
 *
 * Return: pages given back, or SHRINK_STOP if a cache was busy and none
 * could be.
 */
unsigned long mp_cap_shrink(unsigned long nr)
{
	struct mp_cap_binding *b;
	unsigned long freed = 0;
	bool busy = false;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &mp_cap_list, node) {
		if (freed >= nr)
			break;
		if (!refcount_inc_not_zero(&b->mb.ref))
			continue;
		rcu_read_unlock();
		if (!mp_cap_shrink_one(b, nr, &freed, MP_CAP_SHRINK_PRESSURE))
			busy = true;
		rcu_read_lock();
		/* the last reference frees b after a grace period */
		mp_cap_binding_put(b);
	}
	rcu_read_unlock();
	return freed || !busy ? freed : SHRINK_STOP;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_shrink);

static unsigned long mp_cap_shrinker_count(struct shrinker *s,
					   struct shrink_control *sc)
{
	struct mp_cap_binding *b;
	unsigned long n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(b, &mp_cap_list, node)
		/* unlocked: an estimate is what a shrinker count is */
		n += data_race(READ_ONCE(b->cache.count));
	rcu_read_unlock();
	return n ?: SHRINK_EMPTY;
}

static unsigned long mp_cap_shrinker_scan(struct shrinker *s,
					  struct shrink_control *sc)
{
	return mp_cap_shrink(sc->nr_to_scan);
}

/*** pool ops ***/

static noinline int mp_cap_pool_init(struct page_pool *pool)
{
	struct mp_cap_binding *b = pool->mp_priv;
	bool created;
	int slot = 0;

	mutex_lock(&b->mlock);
	if (pool->dma_map) {
		slot = mp_dma_slot_get(&b->dma, pool->p.dev, pool->p.dma_dir,
				       &created);
		if (slot >= 0 && created)
			mp_dma_slot_publish(&b->dma, slot, pool->p.dev);
	}
	if (slot >= 0)
		b->pool_cache_max += PP_ALLOC_CACHE_SIZE + pool->ring.size;
	mutex_unlock(&b->mlock);
	if (slot < 0)
		return slot;
	mp_binding_get(&b->mb);
	mp_binding_pool_init(&b->mb, pool);
	return 0;
}
ALLOW_ERROR_INJECTION(mp_cap_pool_init, ERRNO);

static void mp_cap_pool_unmap(struct page_pool *pool)
{
	struct mp_cap_binding *b = pool->mp_priv;
	struct device *dev;
	int slot;

	mutex_lock(&b->mlock);
	slot = mp_dma_slot_find(&b->dma, pool);
	dev = WARN_ON_ONCE(slot < 0) ? NULL : mp_dma_slot_put(&b->dma, slot);
	mutex_unlock(&b->mlock);
	if (dev)
		put_device(dev);
}

static void mp_cap_pool_destroy(struct page_pool *pool)
{
	struct mp_cap_binding *b = pool->mp_priv;

	if (pool->dma_map && !pool->destroy_cnt)
		mp_cap_pool_unmap(pool);
	mutex_lock(&b->mlock);
	b->pool_cache_max -= PP_ALLOC_CACHE_SIZE + pool->ring.size;
	mutex_unlock(&b->mlock);
	mp_cap_binding_put(b);
}

static int mp_cap_nl_fill(void *mp_priv, struct sk_buff *rsp,
			  struct netdev_rx_queue *rxq)
{
	return mp_binding_nl_fill(mp_priv, rsp, rxq);
}

static void mp_cap_uninstall(void *mp_priv, struct netdev_rx_queue *rxq)
{
	mp_binding_uninstall(mp_priv, rxq);
}

/*** binding lifetime ***/

static void mp_cap_dev_put(struct mp_cap_dev *cdev)
{
	if (!cdev || !refcount_dec_and_mutex_lock(&cdev->ref, &mp_cap_lock))
		return;
	list_del(&cdev->node);
	mutex_unlock(&mp_cap_lock);
	kfree(cdev);
}

/* The device's budget, shared with its other cap bindings. Caller holds
 * mp_cap_lock.
 */
static int mp_cap_dev_join(struct mp_cap_binding *b, struct net_device *dev,
			   u32 budget)
{
	struct mp_cap_dev *cdev;

	lockdep_assert_held(&mp_cap_lock);
	list_for_each_entry(cdev, &mp_cap_devs, node) {
		if (cdev->dev == dev) {
			refcount_inc(&cdev->ref);
			if (budget)
				WRITE_ONCE(cdev->budget, budget);
			b->cdev = cdev;
			return 0;
		}
	}
	if (!budget)
		return 0;
	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev)
		return -ENOMEM;
	refcount_set(&cdev->ref, 1);
	cdev->dev = dev;
	cdev->budget = budget;
	list_add(&cdev->node, &mp_cap_devs);
	b->cdev = cdev;
	return 0;
}

static void mp_cap_binding_free(struct mp_cap_binding *b)
{
	netmem_ref netmem;
	int slot;

	mp_binding_fini(&b->mb);
	mutex_lock(&mp_cap_lock);
	list_del_rcu(&b->node);
	mutex_unlock(&mp_cap_lock);

	/* no pool is left: what the binding holds is its cache, and lost
	 * pages only if the binding goes before they came home (an unbound
	 * binding waits for them: lost_work holds a reference)
	 */
	cancel_delayed_work_sync(&b->lost_work);
	mp_cap_lost_scan(b, true);
	xa_destroy(&b->lost);
	while (pp_netmem_stack_pop_bulk(&b->cache, &netmem, 1)) {
		put_page(netmem_to_page(netmem));
		mp_cap_unhold(b, 1);
	}
	WARN(atomic_long_read(&b->held) || atomic_long_read(&b->out),
	     "mp_cap: binding %u: %ld pages held, %ld in flight at teardown\n",
	     b->mb.id, atomic_long_read(&b->held), atomic_long_read(&b->out));
	for (slot = 0; slot < MP_DMA_SLOTS; slot++)
		WARN_ON(b->dma.slot[slot].users);

	mp_cap_dev_put(b->cdev);
	pp_netmem_stack_free(&b->cache);
	mutex_destroy(&b->mlock);
	kfree_rcu(b, mb.rcu);
}

static void mp_cap_type_free(struct mp_binding *mb)
{
	mp_cap_binding_free(mp_cap_mb(mb));
}

/**
 * mp_cap_binding_put() - drop a reference to a cap binding
 * @binding: the binding
 *
 * The last reference queues the teardown. Any context.
 */
void mp_cap_binding_put(struct mp_cap_binding *binding)
{
	mp_binding_put(&binding->mb);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_put);

/**
 * mp_cap_flush() - wait for queued teardowns
 */
void mp_cap_flush(void)
{
	mp_binding_flush();
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_flush);

static int mp_cap_check(const struct mp_cap_params *p,
			struct netlink_ext_ack *extack)
{
	if (p->cap < MP_CAP_MIN_PAGES || p->cap > MP_CAP_MAX_PAGES) {
		NL_SET_ERR_MSG_FMT(extack, "cap must be %u to %u pages",
				   MP_CAP_MIN_PAGES, MP_CAP_MAX_PAGES);
		return -EINVAL;
	}
	if (p->cap_low && p->cap_low > mp_cap_low(p->cap)) {
		NL_SET_ERR_MSG_FMT(extack, "cap-low must be 1 to %lu, below the cap",
				   mp_cap_low(p->cap));
		return -EINVAL;
	}
	if (p->device_budget && (p->device_budget < MP_CAP_MIN_PAGES ||
				 p->device_budget > MP_CAP_MAX_PAGES)) {
		NL_SET_ERR_MSG_FMT(extack, "device budget must be 0 (none) or %u to %u pages",
				   MP_CAP_MIN_PAGES, MP_CAP_MAX_PAGES);
		return -EINVAL;
	}
	return 0;
}

/**
 * mp_cap_check_share() - whether a cap leaves each queue enough
 * @cap: the cap, in pages
 * @queues: the rx queues the binding serves
 * @extack: where to say the least cap that does
 *
 * Each of a binding's pools may hold its share of the cap (mp_cap_share());
 * a share below one refill batch would starve the pool.
 *
 * Return: 0, or -EINVAL.
 */
int mp_cap_check_share(u32 cap, unsigned int queues,
		       struct netlink_ext_ack *extack)
{
	u64 least = (u64)MP_CAP_MIN_PAGES * max(queues, 1U);

	if (cap >= least)
		return 0;
	NL_SET_ERR_MSG_FMT(extack,
			   "a cap of %u pages is too small for %u rx queues: at least %llu (%u a queue)",
			   cap, queues, least, MP_CAP_MIN_PAGES);
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_check_share);

static int mp_cap_check_queues(struct mp_binding *mb, unsigned int n,
			       struct netlink_ext_ack *extack)
{
	return mp_cap_check_share(READ_ONCE(mp_cap_mb(mb)->cap), n, extack);
}

/**
 * mp_cap_binding_create() - a cap binding for rx queues of @dev
 * @p: the cap, its low watermark and the device budget
 * @dev: the device whose queues it will serve (no reference is taken)
 * @extack: where to say what was wrong
 *
 * Process context.
 *
 * Return: the binding with a reference for the caller, or an ERR_PTR
 * (-EINVAL, -ENOMEM).
 */
struct mp_cap_binding *mp_cap_binding_create(const struct mp_cap_params *p,
					     struct net_device *dev,
					     struct netlink_ext_ack *extack)
{
	struct mp_cap_binding *b;
	int err;

	err = mp_cap_check(p, extack);
	if (err)
		return ERR_PTR(err);

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->cap = p->cap;
	b->cap_low = p->cap_low;
	spin_lock_init(&b->lock);
	mutex_init(&b->mlock);
	INIT_LIST_HEAD(&b->node);
	xa_init_flags(&b->lost, XA_FLAGS_LOCK_BH);
	INIT_DELAYED_WORK(&b->lost_work, mp_cap_lost_work);

	err = mp_binding_init(&b->mb, &mp_cap_type);
	if (err)
		goto free;
	err = pp_netmem_stack_init(&b->cache, min(p->cap, MP_CAP_CACHE),
				   dev_to_node(&dev->dev));
	if (err)
		goto free;

	mutex_lock(&mp_cap_lock);
	err = mp_cap_dev_join(b, dev, p->device_budget);
	if (!err)
		list_add_tail_rcu(&b->node, &mp_cap_list);
	mutex_unlock(&mp_cap_lock);
	if (err)
		goto free;
	mp_binding_publish(&b->mb);
	return b;

free:
	mp_cap_binding_free(b);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_create);

/**
 * mp_cap_set() - change a live binding's cap and its device's budget
 * @binding: the binding
 * @p: the new cap and low watermark (0: the cap less an eighth), and the
 *	device's new budget (0 leaves it as it is)
 * @extack: where to say what was wrong
 *
 * A lower cap never frees a page in flight: new allocations stop until use
 * is below it; cached pages above it are given back now. Process context.
 *
 * Return: 0, or -EINVAL (nothing changed).
 */
int mp_cap_set(struct mp_cap_binding *binding, const struct mp_cap_params *p,
	       struct netlink_ext_ack *extack)
{
	unsigned long freed = 0;
	long excess;
	int err;

	err = mp_cap_check(p, extack);
	if (err)
		return err;
	err = mp_cap_check_share(p->cap, binding->mb.nr_queues, extack);
	if (err)
		return err;
	if (p->device_budget && !binding->cdev) {
		NL_SET_ERR_MSG(extack, "the binding's device has no budget");
		return -EINVAL;
	}
	WRITE_ONCE(binding->cap_low, p->cap_low);
	WRITE_ONCE(binding->cap, p->cap);
	if (p->device_budget)
		WRITE_ONCE(binding->cdev->budget, p->device_budget);

	excess = atomic_long_read(&binding->held) -
		 (long)mp_cap_binding_low(binding);
	if (excess > 0)
		mp_cap_shrink_one(binding, excess, &freed,
				  MP_CAP_SHRINK_CAP_LOWERED);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_set);

/**
 * mp_cap_binding_params() - what a binding is now
 * @binding: the binding
 * @p: its cap, low watermark (0 if derived from the cap) and device budget
 */
void mp_cap_binding_params(struct mp_cap_binding *binding,
			   struct mp_cap_params *p)
{
	p->cap = READ_ONCE(binding->cap);
	p->cap_low = READ_ONCE(binding->cap_low);
	p->device_budget = binding->cdev ? READ_ONCE(binding->cdev->budget) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_params);

/*** binding <-> rx queue ***/

/**
 * mp_cap_bind_queue() - make a cap binding supply an rx queue's page pools
 * @binding: the binding; the queue takes its own reference
 * @dev: the device
 * @rxq_idx: the queue
 * @extack: where to say what was wrong
 *
 * A binding's cap is what all its queues hold together. Pools created from
 * now on draw from it. Caller holds RTNL.
 *
 * Return: 0, -ERANGE, -EINVAL (another device) or -EBUSY (the queue has a
 * provider).
 */
int mp_cap_bind_queue(struct mp_cap_binding *binding, struct net_device *dev,
		      unsigned int rxq_idx, struct netlink_ext_ack *extack)
{
	int err;

	err = mp_binding_check_queue(dev, rxq_idx, false, extack);
	if (!err)
		err = mp_binding_bind_queue(&binding->mb, dev, rxq_idx, extack);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_bind_queue);

/**
 * mp_cap_rxq_binding() - the cap binding of an rx queue
 * @rxq: the queue
 *
 * Caller holds RTNL.
 *
 * Return: the binding, or NULL.
 */
struct mp_cap_binding *mp_cap_rxq_binding(struct netdev_rx_queue *rxq)
{
	return mp_cap_binding_of(mp_binding_rxq(rxq));
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_rxq_binding);

/**
 * mp_cap_unbind_queue() - stop a cap binding supplying an rx queue
 * @rxq: the queue
 *
 * Pools already created keep the binding until they are gone. Caller
 * holds RTNL.
 */
void mp_cap_unbind_queue(struct netdev_rx_queue *rxq)
{
	if (!WARN_ON_ONCE(!mp_cap_rxq_binding(rxq)))
		mp_binding_unbind_queue(rxq);
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_unbind_queue);

/**
 * mp_cap_binding_default_gen() - which namespace defaults made a binding
 * @binding: the binding
 *
 * Return: the generation of the defaults, 0 if it was bound explicitly.
 */
u32 mp_cap_binding_default_gen(const struct mp_cap_binding *binding)
{
	return binding->mb.default_gen;
}
EXPORT_SYMBOL_IF_KUNIT(mp_cap_binding_default_gen);

/*** debugfs: a read-only view ***/

static int mp_cap_bindings_show(struct seq_file *m, void *v)
{
	u64 stats[MP_CAP_STAT_NUM];
	struct mp_cap_binding *b;
	struct mp_binding *mb;
	unsigned long id = 0;
	int i;

	rtnl_lock();
	for (; (mb = mp_binding_next(&id)); id++) {
		b = mp_cap_binding_of(mb);
		if (b) {
			seq_printf(m, "id=%u dev=%s default=%u", mb->id,
				   mb->dev ? netdev_name(mb->dev) : "-",
				   mb->default_gen);
			mp_cap_binding_stats(b, stats);
			for (i = 0; i < MP_CAP_STAT_NUM; i++)
				seq_printf(m, " %s=%llu", mp_cap_stat_names[i],
					   stats[i]);
			seq_putc(m, '\n');
		}
		mp_binding_put(mb);
	}
	rtnl_unlock();
	seq_printf(m, "total pages-held=%lu\n", mp_cap_pages_held());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mp_cap_bindings);

/* A device's budget must not outlive the device under its pointer: a
 * device allocated later at the same address would join it.
 */
static int mp_cap_netdev_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct mp_cap_dev *cdev;

	/* not a move to another namespace: the device itself goes */
	if (event != NETDEV_UNREGISTER || dev->reg_state == NETREG_REGISTERED)
		return NOTIFY_DONE;
	mutex_lock(&mp_cap_lock);
	list_for_each_entry(cdev, &mp_cap_devs, node)
		if (cdev->dev == dev)
			cdev->dev = NULL;
	mutex_unlock(&mp_cap_lock);
	return NOTIFY_DONE;
}

static struct notifier_block mp_cap_netdev_nb = {
	.notifier_call = mp_cap_netdev_event,
};

static int __init mp_cap_init(void)
{
	struct shrinker *shrinker;
	struct dentry *dir;

	shrinker = shrinker_alloc(0, "mp_cap");
	if (!shrinker)
		return -ENOMEM;
	shrinker->count_objects = mp_cap_shrinker_count;
	shrinker->scan_objects = mp_cap_shrinker_scan;
	shrinker->batch = MP_CAP_SHRINK_BATCH;
	shrinker_register(shrinker);
	if (register_netdevice_notifier(&mp_cap_netdev_nb))
		pr_warn("no netdevice notifier: device budgets may outlive devices\n");

	mp_type_register(&mp_cap_type);
	dir = debugfs_create_dir("mp_cap", NULL);
	debugfs_create_file("bindings", 0444, dir, NULL, &mp_cap_bindings_fops);
	return 0;
}
device_initcall(mp_cap_init);

static const struct memory_provider_ops mp_cap_ops = {
	.alloc_netmems	= mp_cap_alloc_netmems,
	.release_netmem	= mp_cap_release_netmem,
	.init		= mp_cap_pool_init,
	.destroy	= mp_cap_pool_destroy,
	.nl_fill	= mp_cap_nl_fill,
	.uninstall	= mp_cap_uninstall,
	.scrub		= mp_cap_pool_unmap,
};

const struct mp_type mp_cap_type = {
	.name		= "cap",
	.type		= NETDEV_MP_TYPE_CAP,
	.nest		= NETDEV_A_MP_BINDING_CAP,
	.mp_ops		= &mp_cap_ops,
	.create		= mp_cap_nl_create,
	.set		= mp_cap_nl_set,
	.check_queues	= mp_cap_check_queues,
	.fill		= mp_cap_nl_fill_binding,
	.free		= mp_cap_type_free,
};
