// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the hugepage memory provider on real page pools, created
 * for the rx queues of a registered test netdev as a driver creates them.
 *
 * Pages reach the provider the ways they do in a driver: a page_pool's
 * alloc cache is refilled by alloc_netmems; pages come back through
 * release_netmem when the ptr_ring overflows (pool_size 1 here), when a
 * page is still referenced elsewhere, when page_pool_update_nid() flushes
 * the alloc cache and when the pool is destroyed.
 *
 * The mp_huge suite runs anywhere (UML included); mp_huge_dma needs a
 * device that does DMA and runs in the x86_64 guest, once as booted and
 * once with swiotlb=force, where dma_max_mapping_size() makes the provider
 * map page by page.
 */

#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/fault-inject.h>
#include <linux/lockdep.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sort.h>
#include <linux/sysctl.h>
#include <linux/trace_events.h>
#include <net/net_namespace.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/mp_trace.h>
#include <trace/events/mp_huge.h>
#include <trace/events/page_pool.h>

#include "mp_test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/*** fixture: a registered netdev with MP_TEST_QUEUES rx queues ***/

static int mp_huge_test_init(struct kunit *test)
{
	return mp_test_init(test, sizeof(struct mp_test_ctx));
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*** the tests ***/

/* One block is 512 distinct order-0 pages, pfn-contiguous and aligned,
 * with nothing but PP_SIGNATURE in pp_magic when handed out.
 */
static void mp_huge_test_carve(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned long *pfns;
	unsigned int i;

	pages = kunit_kcalloc(test, MP_HUGE_PAGES, sizeof(*pages), GFP_KERNEL);
	pfns = kunit_kcalloc(test, MP_HUGE_PAGES, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, pfns);

	b = mp_test_binding(test, 1, 1, "lifo");
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_CARVED),
			MP_HUGE_PAGES);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES);
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	KUNIT_EXPECT_PTR_EQ(test, pool->mp_priv, (void *)b);

	for (i = 0; i < MP_HUGE_PAGES; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_EXPECT_EQ(test, page_ref_count(pages[i]), 1);
		KUNIT_EXPECT_FALSE(test, PageCompound(pages[i]));
		KUNIT_EXPECT_EQ(test, pages[i]->pp_magic, PP_SIGNATURE);
		KUNIT_EXPECT_PTR_EQ(test, pages[i]->pp, pool);
		pfns[i] = page_to_pfn(pages[i]);
	}
	sort(pfns, MP_HUGE_PAGES, sizeof(*pfns), cmp_ulong, NULL);
	KUNIT_EXPECT_EQ(test, pfns[0] % MP_HUGE_PAGES, 0);
	for (i = 1; i < MP_HUGE_PAGES; i++)
		KUNIT_EXPECT_EQ(test, pfns[i], pfns[0] + i);

	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
			MP_HUGE_PAGES);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_REFILLS),
			MP_HUGE_PAGES / PP_ALLOC_CACHE_REFILL);

	for (i = 0; i < MP_HUGE_PAGES; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* A refill fills the pool's alloc cache in one batch. */
static void mp_huge_test_batch_refill(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page *page;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 1);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, pool->alloc.count, PP_ALLOC_CACHE_REFILL - 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_REFILLS), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
			PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, pool->pages_state_hold_cnt,
			PP_ALLOC_CACHE_REFILL);

	mp_test_free(pool, page);
	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* The page the provider got back last is the first the pool hands out. */
static void mp_huge_test_lifo_order(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *pages[PP_ALLOC_CACHE_REFILL];
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned int i;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = mp_test_alloc(pool);
	KUNIT_ASSERT_EQ(test, pool->alloc.count, 0);

	/* recycle into the alloc cache, then flush it to the provider: the
	 * flush takes the cache from the top, so pages[0] is released last
	 */
	local_bh_disable();
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		page_pool_recycle_direct(pool, pages[i]);
	local_bh_enable();
	mp_test_flush_cache(pool);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);

	for (i = 0; i < ARRAY_SIZE(pages); i++)
		KUNIT_EXPECT_PTR_EQ(test, mp_test_alloc(pool), pages[i]);

	for (i = 0; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* A page that comes back with another reference is not kept: it is lost
 * to its huge page, and its block goes back without it.
 */
static void mp_huge_test_extra_ref(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page *page;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);			/* e.g. spliced into a pipe */
	mp_test_free(pool, page);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 1);
	/* the pipe's reference, and the binding's until the block goes */
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_FALSE(test, page_pool_page_is_pp(page));
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES - PP_ALLOC_CACHE_REFILL);

	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES - 1);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	put_page(page);			/* the pipe lets go: back to buddy */
}

/* A page lost to another holder stays ours until its block goes back.
 * When that holder frees it, it must not return to the page allocator: the
 * block's DMA mapping still covers it, and the order-0 fallback could hand
 * it out again, inside a block the binding holds, to be counted home twice.
 */
static void mp_huge_test_lost_home_once(struct kunit *test)
{
	const unsigned int more = 2 * PP_ALLOC_CACHE_REFILL;
	struct mp_test_ctx *ctx = test->priv;
	unsigned long base, pfn;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	struct page *lost;
	unsigned int i, n, inside = 0;

	pages = kunit_kcalloc(test, MP_HUGE_PAGES + more, sizeof(*pages),
			      GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_test_binding(test, 1, 2, "lifo");
	mp_test_fail_huge_pages(test);	/* no growth: fallback after the block */
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	lost = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, lost);
	base = ALIGN_DOWN(page_to_pfn(lost), MP_HUGE_PAGES);
	get_page(lost);			/* e.g. spliced into a pipe */
	mp_test_free(pool, lost);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 1);
	put_page(lost);			/* the pipe lets go */
	KUNIT_EXPECT_EQ_MSG(test, page_ref_count(lost), 1,
			    "a lost page went back to the page allocator while its block is held");

	/* the rest of the block, then fallback pages: none may lie inside */
	for (n = 0; n < MP_HUGE_PAGES - 1 + more; n++) {
		pages[n] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[n]);
		pfn = page_to_pfn(pages[n]);
		if (n >= MP_HUGE_PAGES - 1 && pfn >= base &&
		    pfn < base + MP_HUGE_PAGES)
			inside++;
	}
	KUNIT_EXPECT_EQ_MSG(test, inside, 0,
			    "fallback pages inside the binding's block");
	KUNIT_EXPECT_GT(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);

	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES - 1);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Pool destroyed and queue unbound while an application still holds
 * pages: nothing is freed until they come back, the last one home frees
 * the block, and nothing is freed twice.
 */
static void mp_huge_test_destroy_inflight(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *held[8];
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned int i;

	b = mp_test_binding(test, 2, 2, "lifo");
	mp_test_bind(test, b, ctx->dev, 2);
	pool = mp_test_pool(test, ctx->dev, 2, 0, NULL);
	for (i = 0; i < ARRAY_SIZE(held); i++) {
		held[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, held[i]);
	}

	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 2);
	mp_test_put(test, b);
	mp_huge_flush();
	/* the pool's reference keeps the binding and its blocks */
	KUNIT_EXPECT_EQ(test, mp_huge_blocks_held(), ctx->blocks_before + 2);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
			ARRAY_SIZE(held));

	for (i = 0; i < ARRAY_SIZE(held); i++)
		mp_test_free(pool, held[i]);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* A huge page allocation may compact and reclaim for seconds. Nothing may
 * hold a lock across it: RTNL holders (a driver creating a pool for a
 * queue, which maps under the binding's mutex) would wait behind it. The
 * allocation is stubbed to note how many locks its caller holds, and the
 * binding grown as the worker grows it (mp_huge_grow()).
 */
static int mp_huge_test_alloc_calls, mp_huge_test_alloc_locks;

static struct page *mp_huge_test_alloc_counted(int nid, gfp_t gfp)
{
	mp_huge_test_alloc_calls++;
	mp_huge_test_alloc_locks = max(mp_huge_test_alloc_locks,
				       lockdep_depth(current));
	if (nid != NUMA_NO_NODE)
		gfp |= __GFP_THISNODE;
	return alloc_pages_node(nid, (gfp | __GFP_NOWARN) & ~__GFP_COMP,
				MP_HUGE_ORDER);
}

static void mp_huge_test_grow_unlocked(struct kunit *test)
{
	struct mp_huge_binding *b;

	if (!IS_ENABLED(CONFIG_LOCKDEP))
		kunit_skip(test, "lockdep counts the locks held");
	KUNIT_ASSERT_TRUE_MSG(test, debug_locks,
			      "lockdep is off (an earlier splat)");
	mp_huge_test_alloc_calls = 0;
	mp_huge_test_alloc_locks = 0;
	kunit_activate_static_stub(test, mp_huge_alloc_block,
				   mp_huge_test_alloc_counted);

	b = mp_test_binding(test, 2, 2, "lifo");
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 2);
	KUNIT_EXPECT_EQ(test, mp_huge_test_alloc_calls, 2);
	KUNIT_EXPECT_EQ_MSG(test, mp_huge_test_alloc_locks, 0,
			    "a lock is held across the huge page allocation");
	kunit_deactivate_static_stub(test, mp_huge_alloc_block);
	mp_test_put(test, b);
}

/* Out of free pages, the binding grows by a block at a time up to its
 * maximum, from the worker; refills are served from the page allocator
 * meanwhile and after the maximum.
 */
static void mp_huge_test_growth(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int want = 3 * MP_HUGE_PAGES + PP_ALLOC_CACHE_REFILL;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, want, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	b = mp_test_binding(test, 1, 3, "lifo");
	mp_test_bind(test, b, ctx->dev, 3);
	pool = mp_test_pool(test, ctx->dev, 3, 0, NULL);

	for (i = 0; i < want; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		if (!pool->alloc.count)
			mp_huge_flush();	/* let the worker catch up */
		KUNIT_ASSERT_LE(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 3);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 3);
	KUNIT_EXPECT_GT(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_GROW_FAILURES), 0);

	for (i = 0; i < want; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 3);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* No huge page to be had: every refill is served from the page allocator
 * and the pool never fails.
 */
static void mp_huge_test_fallback(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *pages[3 * PP_ALLOC_CACHE_REFILL];
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned int i;

	mp_test_fail_huge_pages(test);
	b = mp_test_binding(test, 0, 4, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		mp_huge_flush();
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS),
			ARRAY_SIZE(pages));
	KUNIT_EXPECT_GT(test, mp_test_stat(b, MP_HUGE_STAT_GROW_FAILURES), 0);

	for (i = 0; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Two queues of one device share a binding; another device may not. */
static void mp_huge_test_shared(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct net_device *other = mp_test_netdev(test);
	struct page_pool *p0, *p1;
	struct mp_huge_binding *b;
	struct page *a, *c;
	int err;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	mp_test_bind(test, b, ctx->dev, 1);
	rtnl_lock();
	err = mp_huge_bind_queue(b, other, 0, NULL);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	err = mp_huge_bind_queue(b, ctx->dev, 0, NULL);
	KUNIT_EXPECT_EQ(test, err, -EBUSY);
	err = mp_huge_bind_queue(b, ctx->dev, MP_TEST_QUEUES, NULL);
	KUNIT_EXPECT_EQ(test, err, -ERANGE);
	rtnl_unlock();

	p0 = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	p1 = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	a = mp_test_alloc(p0);
	c = mp_test_alloc(p1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, page_to_pfn(a) / MP_HUGE_PAGES,
			page_to_pfn(c) / MP_HUGE_PAGES);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
			2 * PP_ALLOC_CACHE_REFILL);

	mp_test_free(p0, a);
	mp_test_free(p1, c);
	mp_test_pool_destroy(test, p0);
	mp_test_pool_destroy(test, p1);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static void mp_test_count_bypass(void *data, const struct page_pool *pool,
				 const void *mp_priv,
				 enum page_pool_mp_bypass reason)
{
	if (reason == PP_MP_BYPASS_ORDER)
		(*(int *)data)++;
}

/* A pool the provider cannot serve keeps the page allocator, and says why. */
static void mp_huge_test_bypass(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page_pool_params pp = {
		.order		= 1,
		.pool_size	= 16,
		.nid		= NUMA_NO_NODE,
		.dev		= &ctx->dev->dev,
		.netdev		= ctx->dev,
		.queue_idx	= 0,
		.flags		= PP_FLAG_RX_QUEUE,
	};
	struct mp_huge_binding *b;
	struct page_pool *pool;
	int bypassed = 0;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	KUNIT_ASSERT_EQ(test, register_trace_page_pool_mp_bypass(mp_test_count_bypass,
								 &bypassed), 0);
	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	unregister_trace_page_pool_mp_bypass(mp_test_count_bypass, &bypassed);
	tracepoint_synchronize_unregister();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	mp_test_own_pool(test, pool);
	KUNIT_EXPECT_NULL(test, pool->mp_ops);
	KUNIT_EXPECT_EQ(test, bypassed, 1);
	mp_test_pool_destroy(test, pool);

	/* a queue index past the device's queues is refused */
	pp.order = 0;
	pp.queue_idx = MP_TEST_QUEUES;
	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pool), -EINVAL);

	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Unregistering the device unbinds its queues (the uninstall op). */
static void mp_huge_test_unregister(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct net_device *dev = mp_test_netdev(test);
	struct mp_huge_binding *b;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, dev, 0);
	mp_test_bind(test, b, dev, MP_TEST_QUEUES - 1);
	mp_test_put(test, b);

	rtnl_lock();
	unregister_netdevice(dev);
	KUNIT_EXPECT_NULL(test, __netif_get_rx_queue(dev, 0)->mp_params.mp_ops);
	KUNIT_EXPECT_NULL(test, __netif_get_rx_queue(dev, MP_TEST_QUEUES - 1)->mp_params.mp_priv);
	rtnl_unlock();
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Trim gives back whole every block whose pages are all home. */
static void mp_huge_test_trim(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page *page;

	b = mp_test_binding(test, 2, 2, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);

	/* one block has pages in flight, the other is all home */
	mp_huge_trim(b);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 1);
	KUNIT_EXPECT_EQ(test, mp_huge_blocks_held(), ctx->blocks_before + 1);

	/* destroying the pool empties its cache and ring into the binding */
	mp_test_free(pool, page);
	mp_test_pool_destroy(test, pool);
	mp_huge_trim(b);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 2);

	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Lowering max-blocks gives back the excess only, and converges as pages
 * come home: a block over the maximum with pages out goes back once they
 * are all back, whatever the policy (lifo's put never declines a page).
 */
static void mp_huge_test_max_lowered(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int want = MP_HUGE_PAGES + PP_ALLOC_CACHE_REFILL;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, want, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_test_binding(test, 4, 4, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	pages[0] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[0]);

	/* one block has pages out, three are home: two of them are excess */
	KUNIT_EXPECT_EQ(test, mp_huge_binding_set(b, 2, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 2);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_MAX), 2);

	/* pages out of both blocks, then a maximum of one: nothing is whole */
	for (i = 1; i < want; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
	KUNIT_EXPECT_EQ(test, mp_huge_binding_set(b, 1, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 2);

	/* home: the block over the maximum goes back, the other stays */
	for (i = 0; i < want; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 3);
	KUNIT_EXPECT_EQ(test, mp_huge_blocks_held(), ctx->blocks_before + 1);

	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/*** tracepoints: what tools/bpftrace and perf read ***/

/* What the mp_huge tracepoints said during a test, for the first binding
 * they named; @other counts events naming another.
 */
struct mp_huge_trace {
	spinlock_t lock;	/* probes run in the test and in the worker */
	u32 id;
	unsigned int other;
	unsigned int refills, store, reserve, fallback, got, zero_ns;
	u32 refill_pool;
	int refill_ifindex, refill_queue;
	unsigned int release[MP_HUGE_RELEASE_GIVEN_BACK + 1];
	u32 release_pool;
	int release_queue;
	unsigned long release_pfn;
	unsigned int add[MP_HUGE_BLOCK_TEARDOWN + 1];
	unsigned int ret[MP_HUGE_BLOCK_TEARDOWN + 1];
	unsigned int blocks;
	unsigned int grow_fail[MP_HUGE_GROW_LIMIT + 1], grow_fail_blocks;
};

/* Whether an event names the traced binding; the first one seen is. */
static bool mp_huge_trace_ours(struct mp_huge_trace *t, u32 binding)
{
	if (!t->id)
		t->id = binding;
	if (t->id == binding)
		return true;
	t->other++;
	return false;
}

static void mp_huge_trace_refill(void *data, u32 binding,
				 const struct page_pool *pool,
				 unsigned int store, unsigned int reserve,
				 unsigned int fallback, unsigned int got, u64 ns)
{
	struct mp_huge_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_huge_trace_ours(t, binding)) {
		t->refills++;
		t->store += store;
		t->reserve += reserve;
		t->fallback += fallback;
		t->got += got;
		t->zero_ns += !ns;
		t->refill_pool = pool->user.id;
		t->refill_ifindex = mp_trace_pool_ifindex(pool);
		t->refill_queue = mp_trace_pool_queue(pool);
	}
	spin_unlock_bh(&t->lock);
}

static void mp_huge_trace_release(void *data, u32 binding,
				  const struct page_pool *pool,
				  netmem_ref netmem,
				  enum mp_huge_release_outcome outcome)
{
	struct mp_huge_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_huge_trace_ours(t, binding) &&
	    outcome < ARRAY_SIZE(t->release)) {
		t->release[outcome]++;
		t->release_pool = pool->user.id;
		t->release_queue = mp_trace_pool_queue(pool);
		t->release_pfn = page_to_pfn(netmem_to_page(netmem));
	}
	spin_unlock_bh(&t->lock);
}

static void mp_huge_trace_block(void *data, u32 binding, unsigned long pfn,
				bool add, enum mp_huge_block_reason reason,
				unsigned int blocks)
{
	struct mp_huge_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_huge_trace_ours(t, binding) && reason < ARRAY_SIZE(t->add)) {
		if (add)
			t->add[reason]++;
		else
			t->ret[reason]++;
		t->blocks = blocks;
		if (pfn % MP_HUGE_PAGES)
			t->other++;	/* not the head of a huge page */
	}
	spin_unlock_bh(&t->lock);
}

static void mp_huge_trace_grow_fail(void *data, u32 binding,
				    unsigned int blocks,
				    enum mp_huge_grow_fail_reason reason)
{
	struct mp_huge_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_huge_trace_ours(t, binding) &&
	    reason < ARRAY_SIZE(t->grow_fail)) {
		t->grow_fail[reason]++;
		t->grow_fail_blocks = blocks;
	}
	spin_unlock_bh(&t->lock);
}

static void mp_huge_trace_stop(void *data)
{
	unregister_trace_mp_huge_grow_fail(mp_huge_trace_grow_fail, data);
	unregister_trace_mp_huge_block(mp_huge_trace_block, data);
	unregister_trace_mp_huge_release(mp_huge_trace_release, data);
	unregister_trace_mp_huge_refill(mp_huge_trace_refill, data);
	tracepoint_synchronize_unregister();
}

/* A policy that keeps at most mp_trace_keep pages and declines the rest,
 * so that a test decides where a release goes. Built in with the tests:
 * the budget policy may be a module, and these run before there is a
 * userspace to load one.
 */
static unsigned int mp_trace_keep;

static bool mp_trace_store_put(void *store, netmem_ref netmem)
{
	struct mp_test_store *st = store;
	bool kept = false;

	spin_lock_bh(&st->lock);
	if (st->stack.count < READ_ONCE(mp_trace_keep))
		kept = pp_netmem_stack_push(&st->stack, netmem);
	spin_unlock_bh(&st->lock);
	return kept;
}

/* bursts the store was offered, and their pages */
static unsigned int mp_trace_bulk_calls, mp_trace_bulk_pages;

static unsigned int mp_trace_store_put_bulk(void *store,
					    const netmem_ref *netmems,
					    unsigned int n)
{
	unsigned int i;

	WRITE_ONCE(mp_trace_bulk_calls, mp_trace_bulk_calls + 1);
	WRITE_ONCE(mp_trace_bulk_pages, mp_trace_bulk_pages + n);
	for (i = 0; i < n; i++)
		if (!mp_trace_store_put(store, netmems[i]))
			break;
	return i;
}

static struct pp_policy_ops mp_trace_policy = {
	.name		= "kunit-keep",
	.create		= mp_test_store_create,
	.destroy	= mp_test_store_destroy,
	.get		= mp_test_store_get,
	.put		= mp_trace_store_put,
	.put_bulk	= mp_trace_store_put_bulk,
	.drain		= mp_test_store_get,
	.count		= mp_test_store_count,
};

static void mp_trace_policy_unregister(void *data)
{
	pp_policy_unregister(&mp_trace_policy);
}

/* Attach to the four tracepoints, and register kunit-keep, until the test
 * ends.
 */
static struct mp_huge_trace *mp_huge_trace_start(struct kunit *test)
{
	struct mp_huge_trace *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	spin_lock_init(&t->lock);
	KUNIT_ASSERT_EQ(test, register_trace_mp_huge_refill(mp_huge_trace_refill, t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_huge_trace_stop, t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_mp_huge_release(mp_huge_trace_release, t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_mp_huge_block(mp_huge_trace_block, t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_mp_huge_grow_fail(mp_huge_trace_grow_fail, t), 0);
	KUNIT_ASSERT_EQ(test, pp_policy_register(&mp_trace_policy), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_trace_policy_unregister,
							NULL), 0);
	return t;
}

/* Refills name the binding, pool, device and queue and count where the
 * pages came from; every way a page comes back is told apart; the huge
 * page reserved at creation and the one an operator trims are seen.
 */
static void mp_huge_test_trace_pages(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct mp_huge_trace *t;
	struct page_pool *pool;
	struct page *pages[3];
	unsigned int i;

	t = mp_huge_trace_start(test);
	WRITE_ONCE(mp_trace_keep, PP_ALLOC_CACHE_REFILL);
	b = mp_test_binding(test, 1, 1, "kunit-keep");
	KUNIT_EXPECT_EQ(test, t->id, mp_huge_binding_id(b));
	KUNIT_EXPECT_EQ(test, t->add[MP_HUGE_BLOCK_RESERVED], 1);
	KUNIT_EXPECT_EQ(test, t->blocks, 1);

	mp_test_bind(test, b, ctx->dev, 2);
	pool = mp_test_pool(test, ctx->dev, 2, 0, NULL);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_EXPECT_EQ(test, t->refills, 1);
	KUNIT_EXPECT_EQ(test, t->refill_pool, pool->user.id);
	KUNIT_EXPECT_NE(test, t->refill_pool, 0);
	KUNIT_EXPECT_EQ(test, t->refill_ifindex, ctx->dev->ifindex);
	KUNIT_EXPECT_EQ(test, t->refill_queue, 2);
	KUNIT_EXPECT_EQ(test, t->store, 0);
	KUNIT_EXPECT_EQ(test, t->reserve, PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, t->fallback, 0);
	KUNIT_EXPECT_EQ(test, t->got, PP_ALLOC_CACHE_REFILL);
	/* UML's sched_clock() ticks in jiffies */
	if (!IS_ENABLED(CONFIG_UML))
		KUNIT_EXPECT_EQ_MSG(test, t->zero_ns, 0,
				    "a refill traced while enabled was not timed");

	/* the first fills the pool's ring, the others reach the policy */
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_KEPT], 2);
	KUNIT_EXPECT_EQ(test, t->release_pfn, page_to_pfn(pages[2]));
	KUNIT_EXPECT_EQ(test, t->release_pool, pool->user.id);
	KUNIT_EXPECT_EQ(test, t->release_queue, 2);

	/* still referenced elsewhere */
	pages[0] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[0]);
	get_page(pages[0]);
	mp_test_free(pool, pages[0]);
	put_page(pages[0]);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_LOST], 1);

	/* the policy declines: the page is parked */
	WRITE_ONCE(mp_trace_keep, 0);
	pages[0] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[0]);
	mp_test_free(pool, pages[0]);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_PARKED], 1);

	/* the pool's cache and ring come back parked too */
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_PARKED],
			PP_ALLOC_CACHE_REFILL - 3);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_GIVEN_BACK], 0);
	KUNIT_EXPECT_EQ(test, t->refills, 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_RELEASES),
			PP_ALLOC_CACHE_REFILL);

	/* the queue's next pool refills from the store first; its pages come
	 * back as the first pool's did: two kept, the rest parked
	 */
	pool = mp_test_pool(test, ctx->dev, 2, 0, NULL);
	pages[0] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[0]);
	KUNIT_EXPECT_EQ(test, t->refills, 2);
	KUNIT_EXPECT_EQ(test, t->refill_pool, pool->user.id);
	KUNIT_EXPECT_EQ(test, t->store, 2);
	KUNIT_EXPECT_EQ(test, t->reserve, 2 * PP_ALLOC_CACHE_REFILL - 2);
	KUNIT_EXPECT_EQ(test, t->fallback, 0);
	KUNIT_EXPECT_EQ(test, t->got, 2 * PP_ALLOC_CACHE_REFILL);
	WRITE_ONCE(mp_trace_keep, 2);
	mp_test_free(pool, pages[0]);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_KEPT], 4);

	/* two pages in the store keep the block from going back by itself;
	 * an operator's trim takes it
	 */
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, t->ret[MP_HUGE_BLOCK_PARKED_WHOLE], 0);
	KUNIT_EXPECT_EQ(test, mp_huge_trim(b), 1);
	KUNIT_EXPECT_EQ(test, t->ret[MP_HUGE_BLOCK_TRIMMED], 1);
	KUNIT_EXPECT_EQ(test, t->blocks, 0);

	mp_test_unbind(test, ctx->dev, 2);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, t->ret[MP_HUGE_BLOCK_TEARDOWN], 0);
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

/* A burst of releases (the pages of page_pool_put_page_bulk() that its
 * ring cannot take) reaches the provider in one call and the store in one
 * put_bulk(): the pages it keeps and those it declines are traced one by
 * one, a page still referenced elsewhere among them is lost, and page_pool
 * drops its reference to that one only.
 */
static void mp_huge_test_release_bulk(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	unsigned int i, release_cnt, calls, bulk_pages;
	struct page *pages[MP_TEST_BULK + 1];
	struct mp_huge_binding *b;
	struct mp_huge_trace *t;
	struct page_pool *pool;

	t = mp_huge_trace_start(test);
	WRITE_ONCE(mp_trace_keep, 10);
	WRITE_ONCE(mp_trace_bulk_calls, 0);
	WRITE_ONCE(mp_trace_bulk_pages, 0);
	b = mp_test_binding(test, 1, 1, "kunit-keep");
	mp_test_bind(test, b, ctx->dev, 1);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	mp_test_free(pool, pages[0]);		/* fills the ring */
	get_page(pages[1]);			/* e.g. spliced into a pipe */

	release_cnt = atomic_read(&pool->pages_state_release_cnt);
	mp_test_free_bulk(pool, &pages[1], MP_TEST_BULK);
	KUNIT_EXPECT_EQ(test, atomic_read(&pool->pages_state_release_cnt) - release_cnt,
			MP_TEST_BULK);
	calls = READ_ONCE(mp_trace_bulk_calls);
	bulk_pages = READ_ONCE(mp_trace_bulk_pages);
	KUNIT_EXPECT_EQ_MSG(test, calls, 1, "the burst did not reach the store at once");
	KUNIT_EXPECT_EQ(test, bulk_pages, MP_TEST_BULK - 1);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_LOST], 1);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_KEPT], 10);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_PARKED], MP_TEST_BULK - 11);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_RELEASES), MP_TEST_BULK);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PARKS), MP_TEST_BULK - 11);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 1);
	/* the pipe's reference and the binding's: page_pool put its own */
	KUNIT_EXPECT_EQ(test, page_ref_count(pages[1]), 2);
	KUNIT_EXPECT_FALSE(test, page_pool_page_is_pp(pages[1]));
	/* the others are the provider's, untouched by page_pool */
	for (i = 2; i < ARRAY_SIZE(pages); i++)
		KUNIT_EXPECT_EQ(test, page_ref_count(pages[i]), 1);

	/* the pool's alloc cache comes back in one burst too (its ring's
	 * one page alone)
	 */
	mp_test_pool_destroy(test, pool);
	bulk_pages = READ_ONCE(mp_trace_bulk_pages);
	KUNIT_EXPECT_EQ(test, bulk_pages,
			MP_TEST_BULK - 1 + PP_ALLOC_CACHE_REFILL - ARRAY_SIZE(pages));
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_RELEASES),
			PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);

	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, page_ref_count(pages[1]), 1);
	put_page(pages[1]);			/* the pipe lets go */
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

static void mp_huge_trace_release_off(void *data)
{
	trace_set_clr_event("mp_huge", "mp_huge_release", 0);
}

/* A pool's pages may come home after its device and then its namespace
 * are gone: page_pool_unreg_netdev_wipe() poisons slow.netdev. The events
 * (recorded for real, through ftrace, where TP_fast_assign runs) then say
 * ifindex 0 and still name the queue, without touching the device.
 */
static void mp_huge_test_trace_dead_netdev(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct net_device *dev;
	struct page_pool *pool;
	struct page *page;

	if (!IS_ENABLED(CONFIG_EVENT_TRACING))
		kunit_skip(test, "needs CONFIG_EVENT_TRACING");
	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 1);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	KUNIT_EXPECT_EQ(test, mp_trace_pool_ifindex(pool), ctx->dev->ifindex);
	KUNIT_EXPECT_EQ(test, mp_trace_pool_queue(pool), 1);
	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);

	KUNIT_ASSERT_EQ(test, trace_set_clr_event("mp_huge", "mp_huge_release", 1), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_huge_trace_release_off,
							NULL), 0);
	dev = pool->slow.netdev;
	WRITE_ONCE(pool->slow.netdev, NET_PTR_POISON);
	KUNIT_EXPECT_EQ(test, mp_trace_pool_ifindex(pool), 0);
	KUNIT_EXPECT_EQ(test, mp_trace_pool_queue(pool), 1);
	/* still referenced elsewhere: page_pool returns it to the provider,
	 * which traces it lost
	 */
	get_page(page);
	mp_test_free(pool, page);
	put_page(page);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 1);
	WRITE_ONCE(pool->slow.netdev, dev);
	kunit_release_action(test, mp_huge_trace_release_off, NULL);

	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Growth, a failed growth, fallback refills and their pages given back,
 * a block that goes back by itself once all its pages are parked, and
 * teardown.
 */
static void mp_huge_test_trace_growth(struct kunit *test)
{
	const unsigned int want = MP_HUGE_PAGES + PP_ALLOC_CACHE_REFILL;
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct mp_huge_trace *t;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i, n;

	pages = kunit_kcalloc(test, 2 * want, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	t = mp_huge_trace_start(test);
	WRITE_ONCE(mp_trace_keep, 0);
	b = mp_test_binding(test, 1, 3, "kunit-keep");
	mp_test_bind(test, b, ctx->dev, 3);
	pool = mp_test_pool(test, ctx->dev, 3, 0, NULL);

	for (n = 0; n < want; n++) {
		pages[n] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[n]);
		if (!pool->alloc.count)
			mp_huge_flush();
	}
	KUNIT_EXPECT_EQ(test, t->add[MP_HUGE_BLOCK_GROWN], 1);
	KUNIT_EXPECT_EQ(test, t->blocks, 2);

	/* no huge page to be had: the worker says so, refills fall back */
	mp_test_fail_huge_pages(test);
	for (; n < 2 * want; n++) {
		pages[n] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[n]);
		if (!pool->alloc.count)
			mp_huge_flush();
	}
	KUNIT_EXPECT_GT(test, t->grow_fail[MP_HUGE_GROW_NOMEM], 0);
	KUNIT_EXPECT_EQ(test, t->grow_fail[MP_HUGE_GROW_LIMIT], 0);
	KUNIT_EXPECT_EQ(test, t->grow_fail_blocks, 2);
	KUNIT_EXPECT_GT(test, t->fallback, 0);
	KUNIT_EXPECT_EQ(test, t->fallback, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS));
	KUNIT_EXPECT_EQ(test, t->refills, mp_test_stat(b, MP_HUGE_STAT_REFILLS));
	KUNIT_EXPECT_EQ(test, t->got, t->store + t->reserve + t->fallback);

	/* nothing kept: every block page is parked, every fallback page
	 * given back, and both blocks go back by themselves
	 */
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_GIVEN_BACK], t->fallback);
	KUNIT_EXPECT_EQ(test, t->release[MP_HUGE_RELEASE_KEPT] +
			t->release[MP_HUGE_RELEASE_PARKED] +
			t->release[MP_HUGE_RELEASE_GIVEN_BACK], t->got);
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, t->ret[MP_HUGE_BLOCK_PARKED_WHOLE] +
			t->ret[MP_HUGE_BLOCK_TEARDOWN], 2 - mp_test_stat(b, MP_HUGE_STAT_BLOCKS));

	mp_test_unbind(test, ctx->dev, 3);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, t->ret[MP_HUGE_BLOCK_PARKED_WHOLE] +
			t->ret[MP_HUGE_BLOCK_TEARDOWN], 2);
	KUNIT_EXPECT_EQ(test, t->blocks, 0);
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

/*** sysctl defaults ***/

/* Bad values are refused and change nothing; good ones are taken. */
static void mp_huge_test_sysctl(struct kunit *test)
{
	const struct ctl_table *table = mp_default_table(&init_net);
	const struct ctl_table *provider = &table[0];
	const struct ctl_table *blocks = &table[1];
	const struct ctl_table *max = &table[2];
	char old_blocks[16], old_max[16];

	mp_test_sysctl_read(blocks, old_blocks, sizeof(old_blocks));
	mp_test_sysctl_read(max, old_max, sizeof(old_max));
	mp_test_expect_sysctl(test, provider, "none");

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(provider, "hugee"), -EINVAL);
	mp_test_expect_sysctl(test, provider, "none");

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "0"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "513"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "-1"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "abc"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "99999999999"), -EINVAL);
	mp_test_expect_sysctl(test, max, old_max);

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "8"), 0);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(blocks, "9"), -EINVAL);
	mp_test_expect_sysctl(test, blocks, old_blocks);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(blocks, "2"), 0);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, "1"), -EINVAL);
	mp_test_expect_sysctl(test, max, "8");
	mp_test_expect_sysctl(test, blocks, "2");

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(provider, "huge"), 0);
	mp_test_expect_sysctl(test, provider, "huge");
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(provider, "none\n"), 0);
	mp_test_expect_sysctl(test, provider, "none");

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(blocks, old_blocks), 0);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(max, old_max), 0);
}

/* net.core.mp_default gives queues a binding at their next pool creation,
 * reserved by the worker; "none" takes it away again.
 */
static void mp_huge_test_default(struct kunit *test)
{
	const struct ctl_table *table = mp_default_table(&init_net);
	const struct ctl_table *provider = &table[0];
	const struct ctl_table *blocks = &table[1];
	struct mp_test_ctx *ctx = test->priv;
	struct netdev_rx_queue *rxq = __netif_get_rx_queue(ctx->dev, 1);
	struct mp_huge_binding *b, *b2;
	struct page_pool *pool;
	struct page *page;
	char old_blocks[16];

	mp_test_sysctl_read(blocks, old_blocks, sizeof(old_blocks));
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(blocks, "1"), 0);
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(provider, "huge"), 0);

	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	rtnl_lock();
	b = mp_huge_rxq_binding(rxq);
	rtnl_unlock();
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_EQ(test, pool->mp_priv, (void *)b);
	KUNIT_EXPECT_NE(test, mp_huge_binding_default_gen(b), 0);
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 1);
	page = mp_test_alloc(pool);
	KUNIT_EXPECT_NOT_NULL(test, page);
	mp_test_free(pool, page);
	mp_test_pool_destroy(test, pool);

	/* same defaults: the next pool keeps the binding */
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	KUNIT_EXPECT_PTR_EQ(test, pool->mp_priv, (void *)b);
	mp_test_pool_destroy(test, pool);

	/* new defaults: a new binding; "none": no provider */
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(blocks, "0"), 0);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	rtnl_lock();
	b2 = mp_huge_rxq_binding(rxq);
	rtnl_unlock();
	KUNIT_EXPECT_NOT_NULL(test, b2);
	KUNIT_EXPECT_PTR_NE(test, (void *)b2, (void *)b);
	mp_test_pool_destroy(test, pool);

	KUNIT_ASSERT_EQ(test, mp_test_sysctl(provider, "none"), 0);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	KUNIT_EXPECT_NULL(test, pool->mp_ops);
	KUNIT_EXPECT_NULL(test, rxq->mp_params.mp_ops);
	mp_test_pool_destroy(test, pool);

	KUNIT_EXPECT_EQ(test, mp_test_sysctl(blocks, old_blocks), 0);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static struct kunit_case mp_huge_test_cases[] = {
	KUNIT_CASE(mp_huge_test_carve),
	KUNIT_CASE(mp_huge_test_batch_refill),
	KUNIT_CASE(mp_huge_test_lifo_order),
	KUNIT_CASE(mp_huge_test_extra_ref),
	KUNIT_CASE(mp_huge_test_lost_home_once),
	KUNIT_CASE_SLOW(mp_huge_test_destroy_inflight),
	KUNIT_CASE(mp_huge_test_grow_unlocked),
	KUNIT_CASE(mp_huge_test_growth),
	KUNIT_CASE(mp_huge_test_fallback),
	KUNIT_CASE(mp_huge_test_shared),
	KUNIT_CASE(mp_huge_test_bypass),
	KUNIT_CASE(mp_huge_test_unregister),
	KUNIT_CASE(mp_huge_test_trim),
	KUNIT_CASE(mp_huge_test_max_lowered),
	KUNIT_CASE(mp_huge_test_trace_pages),
	KUNIT_CASE(mp_huge_test_release_bulk),
	KUNIT_CASE(mp_huge_test_trace_dead_netdev),
	KUNIT_CASE(mp_huge_test_trace_growth),
	KUNIT_CASE(mp_huge_test_sysctl),
	KUNIT_CASE(mp_huge_test_default),
	{}
};

static struct kunit_suite mp_huge_test_suite = {
	.name = "mp_huge",
	.init = mp_huge_test_init,
	.exit = mp_test_exit,
	.test_cases = mp_huge_test_cases,
};

kunit_test_suite(mp_huge_test_suite);

MODULE_DESCRIPTION("KUnit tests for the hugepage memory provider");
MODULE_LICENSE("GPL");
