// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the memory-cap provider on real page pools: the cap is
 * never exceeded, allocation stops exactly at it and resumes below the low
 * watermark, a device budget is shared, the cap changes live both ways,
 * the shrinker gives cached pages back, DMA mappings come and go with the
 * pages, and nothing leaks when pools go with pages in flight.
 *
 * Pools have a ptr_ring of one page: a put fills it if it is empty, and
 * reaches the provider otherwise; an allocation takes the ring's page
 * before it asks the provider.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/netdevice.h>
#include <linux/prandom.h>
#include <linux/rtnetlink.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/mp_cap.h>
#include <trace/events/mp_cap.h>

#include "mp_test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static int mp_cap_test_init(struct kunit *test)
{
	return mp_test_init(test, sizeof(struct mp_test_ctx));
}

static u64 mp_cap_stat(struct mp_cap_binding *b, enum mp_cap_stat stat)
{
	u64 stats[MP_CAP_STAT_NUM];

	mp_cap_binding_stats(b, stats);
	return stats[stat];
}

static void mp_cap_unbind_action(void *rxq)
{
	rtnl_lock();
	if (mp_cap_rxq_binding(rxq))
		mp_cap_unbind_queue(rxq);
	rtnl_unlock();
}

static struct mp_cap_binding *mp_cap_test_bind(struct kunit *test, u32 cap,
					       u32 budget, unsigned int queue)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_cap_params p = { .cap = cap, .device_budget = budget };
	struct mp_cap_binding *b;
	int err;

	b = mp_cap_binding_create(&p, ctx->dev, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	rtnl_lock();
	err = mp_cap_bind_queue(b, ctx->dev, queue, NULL);
	rtnl_unlock();
	mp_cap_binding_put(b);		/* the queue holds it */
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_cap_unbind_action,
							__netif_get_rx_queue(ctx->dev, queue)),
			0);
	return b;
}

static void mp_cap_test_unbind(struct kunit *test, unsigned int queue)
{
	struct mp_test_ctx *ctx = test->priv;

	kunit_release_action(test, mp_cap_unbind_action,
			     __netif_get_rx_queue(ctx->dev, queue));
}

static bool mp_cap_wait_home(unsigned long held)
{
	int i;

	for (i = 0; i < 100; i++) {
		mp_cap_flush();
		if (mp_cap_pages_held() == held)
			return true;
		msleep(100);
	}
	return false;
}

static void mp_cap_test_done(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;

	KUNIT_EXPECT_TRUE(test, mp_cap_wait_home(ctx->cap_before));
}

static int mp_cap_test_set(struct mp_cap_binding *b, u32 cap, u32 budget)
{
	struct mp_cap_params p = { .cap = cap, .device_budget = budget };

	return mp_cap_set(b, &p, NULL);
}

/* Allocate until the pool fails; returns how many succeeded. */
static unsigned int mp_cap_fill(struct page_pool *pool, struct page **pages,
				unsigned int max)
{
	unsigned int n = 0;

	while (n < max && (pages[n] = mp_test_alloc(pool)))
		n++;
	return n;
}

/* Random refills and releases never take the binding over its cap. */
static void mp_cap_test_never_exceeded(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 256;
	struct mp_cap_binding *b;
	struct page_pool *pool;
	struct rnd_state rnd;
	struct page **held;
	unsigned int n = 0, op, i;
	struct page *page;

	held = kunit_kcalloc(test, cap, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	prandom_seed_state(&rnd, 7);
	b = mp_cap_test_bind(test, cap, 0, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (op = 0; op < 20000; op++) {
		if (prandom_u32_state(&rnd) % 2 && n < cap) {
			page = mp_test_alloc(pool);
			if (page)
				held[n++] = page;
		} else if (n) {
			i = prandom_u32_state(&rnd) % n;
			mp_test_free(pool, held[i]);
			held[i] = held[--n];
		}
		KUNIT_ASSERT_LE(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), cap);
	}
	KUNIT_EXPECT_LE(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_PEAK), cap);
	KUNIT_EXPECT_GT(test, mp_cap_stat(b, MP_CAP_STAT_CAP_HITS), 0);
	while (n--)
		mp_test_free(pool, held[n]);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_INFLIGHT), 0);
	mp_cap_test_unbind(test, 0);
	mp_cap_test_done(test);
}

/* Refills fail exactly at the cap, and resume only below the low
 * watermark.
 */
static void mp_cap_test_watermarks(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 2 * PP_ALLOC_CACHE_REFILL;
	unsigned int low, n, i;
	struct mp_cap_binding *b;
	struct page_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 2 * cap, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, cap, 0, 1);
	low = mp_cap_stat(b, MP_CAP_STAT_CAP_LOW);
	KUNIT_ASSERT_LT(test, low, cap);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	n = mp_cap_fill(pool, pages, 2 * cap);
	KUNIT_EXPECT_EQ(test, n, cap);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), cap);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_CAP_HITS), 1);

	/* give back cap - low pages: one waits in the ring, the others go
	 * back to the page allocator; held is low, not below it
	 */
	for (i = 0; i < cap - low + 1; i++)
		mp_test_free(pool, pages[--n]);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), low);
	pages[n] = mp_test_alloc(pool);		/* the ring's page */
	KUNIT_ASSERT_NOT_NULL(test, pages[n]);
	n++;
	KUNIT_EXPECT_NULL(test, mp_test_alloc(pool));

	/* one more below the watermark: allocation resumes */
	mp_test_free(pool, pages[--n]);		/* to the ring */
	mp_test_free(pool, pages[--n]);		/* back: held = low - 1 */
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), low - 1);
	pages[n++] = mp_test_alloc(pool);	/* the ring's page */
	pages[n] = mp_test_alloc(pool);
	KUNIT_EXPECT_NOT_NULL(test, pages[n]);
	if (pages[n])
		n++;
	KUNIT_EXPECT_LE(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), cap);

	while (n--)
		mp_test_free(pool, pages[n]);
	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 1);
	mp_cap_test_done(test);
}

/* One binding over two queues: each pool holds at most half the cap, so
 * a busy pool cannot starve the other; a cap below 64 pages a queue is
 * refused, at mp-bind as at mp-binding-set.
 */
static void mp_cap_test_shares(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 4 * PP_ALLOC_CACHE_REFILL;
	struct mp_cap_params p = { .cap = cap };
	struct page_pool *pool[2];
	struct mp_cap_binding *b;
	struct page **pages[2];
	unsigned int n[2], q;
	int err = 0;

	KUNIT_EXPECT_EQ(test, mp_cap_share(cap, 2), cap / 2);
	KUNIT_EXPECT_EQ(test, mp_cap_share(cap, 0), cap);
	KUNIT_EXPECT_EQ(test, mp_cap_check_share(2 * MP_CAP_MIN_PAGES - 1, 2, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, mp_cap_check_share(2 * MP_CAP_MIN_PAGES, 2, NULL), 0);

	b = mp_cap_binding_create(&p, ctx->dev, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	rtnl_lock();
	for (q = 0; q < 2 && !err; q++)
		err = mp_cap_bind_queue(b, ctx->dev, q, NULL);
	rtnl_unlock();
	mp_cap_binding_put(b);		/* the queues hold it */
	for (q = 0; q < 2; q++)
		KUNIT_ASSERT_EQ(test,
				kunit_add_action_or_reset(test, mp_cap_unbind_action,
							  __netif_get_rx_queue(ctx->dev, q)),
				0);
	KUNIT_ASSERT_EQ(test, err, 0);

	rtnl_lock();
	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, 2 * MP_CAP_MIN_PAGES - 1, 0), -EINVAL);
	rtnl_unlock();
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_CAP), cap);

	for (q = 0; q < 2; q++) {
		pages[q] = kunit_kcalloc(test, cap, sizeof(**pages), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[q]);
		pool[q] = mp_test_pool(test, ctx->dev, q, 0, NULL);
	}
	/* the first pool alone stops at its share, with the cap not reached */
	n[0] = mp_cap_fill(pool[0], pages[0], cap);
	KUNIT_EXPECT_EQ(test, n[0], cap / 2);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), cap / 2);
	KUNIT_EXPECT_GE(test, mp_cap_stat(b, MP_CAP_STAT_CAP_HITS), 1);
	/* the second gets its whole share */
	n[1] = mp_cap_fill(pool[1], pages[1], cap);
	KUNIT_EXPECT_EQ(test, n[1], cap / 2);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), cap);

	for (q = 0; q < 2; q++) {
		while (n[q]--)
			mp_test_free(pool[q], pages[q][n[q]]);
		mp_test_pool_destroy(test, pool[q]);
	}
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD), 0);

	/* Home below the low watermark, the binding resumes: a new pool's
	 * refill lifts the throttle, so what comes back is cached again. A
	 * pool below its share may refill while the binding is throttled,
	 * which must not keep the binding throttled for good.
	 */
	pool[0] = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	pages[0][0] = mp_test_alloc(pool[0]);
	KUNIT_ASSERT_NOT_NULL(test, pages[0][0]);
	mp_test_free(pool[0], pages[0][0]);
	mp_test_pool_destroy(test, pool[0]);
	KUNIT_EXPECT_GT(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED), 0);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED),
			mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD));

	for (q = 0; q < 2; q++)
		mp_cap_test_unbind(test, q);
	mp_cap_test_done(test);
}

/* A page that comes back still referenced elsewhere (a pipe after
 * splice) stays charged, with the binding's own reference, until the
 * other holder lets go: the cap stays exact.
 */
static void mp_cap_test_lost(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_cap_binding *b;
	struct page_pool *pool;
	struct page *page;
	int i;

	b = mp_cap_test_bind(test, MP_CAP_MIN_PAGES, 0, 1);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);				/* another holder */
	mp_test_free(pool, page);		/* refcount 2: released */
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_LOST), 1);
	/* the pool's alloc cache still holds the rest of the refill: in
	 * flight; the lost page is not, but still held
	 */
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_INFLIGHT),
			PP_ALLOC_CACHE_REFILL - 1);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD),
			PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);	/* ours and its */
	KUNIT_EXPECT_FALSE(test, page_pool_page_is_pp(page));

	put_page(page);				/* the other holder lets go */
	for (i = 0; i < 30 && mp_cap_stat(b, MP_CAP_STAT_PAGES_LOST); i++)
		msleep(100);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_LOST), 0);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD),
			PP_ALLOC_CACHE_REFILL - 1);

	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 1);
	mp_cap_test_done(test);
}

/* Two queues of a device share its budget. */
static void mp_cap_test_device_budget(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 4 * PP_ALLOC_CACHE_REFILL;
	const unsigned int budget = 3 * PP_ALLOC_CACHE_REFILL;
	struct mp_cap_binding *b1;
	struct page_pool *p0, *p1;
	struct page **pages;
	unsigned int n0, n1, i;

	pages = kunit_kcalloc(test, 2 * cap, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	mp_cap_test_bind(test, cap, budget, 0);
	b1 = mp_cap_test_bind(test, cap, 0, 1);	/* joins the device's */
	p0 = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	p1 = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	n0 = mp_cap_fill(p0, pages, cap);
	n1 = mp_cap_fill(p1, pages + n0, cap);
	KUNIT_EXPECT_EQ(test, n0 + n1, budget);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b1, MP_CAP_STAT_DEVICE_HELD), budget);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b1, MP_CAP_STAT_DEVICE_BUDGET), budget);

	for (i = 0; i < n0; i++)
		mp_test_free(p0, pages[i]);
	for (i = 0; i < n1; i++)
		mp_test_free(p1, pages[n0 + i]);
	mp_test_pool_destroy(test, p0);
	mp_test_pool_destroy(test, p1);
	mp_cap_test_unbind(test, 0);
	mp_cap_test_unbind(test, 1);
	mp_cap_test_done(test);
}

/* Lowering the cap frees nothing in flight and stops allocation; raising
 * it lets allocation go on.
 */
static void mp_cap_test_live(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 4 * PP_ALLOC_CACHE_REFILL;
	struct mp_cap_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int n, i;

	pages = kunit_kcalloc(test, 4 * cap, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, cap, 0, 2);
	pool = mp_test_pool(test, ctx->dev, 2, 0, NULL);
	for (n = 0; n < 3 * PP_ALLOC_CACHE_REFILL; n++)
		pages[n] = mp_test_alloc(pool);

	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, cap / 2, 0), 0);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_INFLIGHT),
			3 * PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_NULL(test, mp_test_alloc(pool));
	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, 10, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, cap, cap), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_CAP), cap / 2);

	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, 4 * cap, 0), 0);
	n += mp_cap_fill(pool, pages + n, 4 * cap - n);
	KUNIT_EXPECT_EQ(test, n, 4 * cap);

	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 2);
	mp_cap_test_done(test);
}

/* Cached pages go back under memory pressure. */
static void mp_cap_test_shrinker(struct kunit *test)
{
	const unsigned int n = 4 * PP_ALLOC_CACHE_REFILL;
	struct mp_test_ctx *ctx = test->priv;
	struct mp_cap_binding *b;
	struct page_pool *pool;
	unsigned long cached;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, 1024, 0, 3);
	pool = mp_test_pool(test, ctx->dev, 3, 0, NULL);
	for (i = 0; i < n; i++)
		pages[i] = mp_test_alloc(pool);
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_flush_cache(pool);
	cached = mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED);
	KUNIT_EXPECT_GT(test, cached, 0);

	KUNIT_EXPECT_EQ(test, mp_cap_shrink(ULONG_MAX), cached);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED), 0);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_SHRINKER_PAGES), cached);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD),
			mp_cap_stat(b, MP_CAP_STAT_PAGES_INFLIGHT));

	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 3);
	mp_cap_test_done(test);
}

/* Pool destroyed and queue unbound with pages in flight: the binding
 * stays until they are back, and nothing leaks.
 */
static void mp_cap_test_inflight(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct mp_cap_binding *b;
	struct page *held[8];
	struct page_pool *pool;
	unsigned int i;

	b = mp_cap_test_bind(test, 256, 0, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	for (i = 0; i < ARRAY_SIZE(held); i++)
		held[i] = mp_test_alloc(pool);
	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 0);
	mp_cap_flush();
	/* the destroyed pool's reference keeps the binding */
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_INFLIGHT),
			ARRAY_SIZE(held));
	KUNIT_EXPECT_GE(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD),
			ARRAY_SIZE(held));
	for (i = 0; i < ARRAY_SIZE(held); i++)
		mp_test_free(pool, held[i]);
	mp_cap_test_done(test);
}

/* Pages are mapped for the pool's device as they go out and unmapped as
 * they come back (DMA_API_DEBUG reports leaks and bad syncs).
 */
static void mp_cap_test_dma(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *pages[2 * PP_ALLOC_CACHE_REFILL];
	struct page_pool_params pp = {
		.pool_size = 1, .nid = NUMA_NO_NODE, .dma_dir = DMA_FROM_DEVICE,
		.max_len = PAGE_SIZE, .netdev = ctx->dev, .queue_idx = 0,
		.flags = PP_FLAG_RX_QUEUE | PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
	};
	struct mp_test_dma_count *c;
	struct page_pool *pool;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_HAS_DMA) || !IS_ENABLED(CONFIG_PCI))
		kunit_skip(test, "no DMA on this architecture");
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	pp.dev = mp_test_dma_device(test, 0);
	mp_test_dma_count_start(test, c, pp.dev);

	mp_cap_test_bind(test, 1024, 0, 0);
	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	mp_test_own_pool(test, pool);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_EXPECT_NE(test, page_pool_get_dma_addr(pages[i]), 0);
	}
	for (i = 0; i < ARRAY_SIZE(pages) / 2; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);	/* the rest come back after its scrub */
	for (; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	mp_cap_test_unbind(test, 0);
	mp_cap_test_done(test);
	/* a mapping per page handed out, and each undone */
	KUNIT_EXPECT_EQ(test, atomic_read(&c->maps), ARRAY_SIZE(pages));
	KUNIT_EXPECT_EQ(test, atomic_read(&c->unmaps), atomic_read(&c->maps));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->mapped_bytes), 0);
}

/* net.core.mp_default=cap gives queues a cap binding; bad values are
 * refused and change nothing.
 */
static void mp_cap_test_default(struct kunit *test)
{
	const struct ctl_table *table = mp_default_table(&init_net);
	const struct ctl_table *provider = &table[0];
	const struct ctl_table *pages = &table[3];
	const struct ctl_table *device = &table[4];
	struct mp_test_ctx *ctx = test->priv;
	struct netdev_rx_queue *rxq = __netif_get_rx_queue(ctx->dev, 1);
	struct mp_cap_binding *b;
	struct page_pool *pool;

	KUNIT_ASSERT_STREQ(test, pages->procname, "mp_cap_pages");
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(pages, "63"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(pages, "16777217"), -EINVAL);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(device, "63"), -EINVAL);
	mp_test_expect_sysctl(test, pages, "1024");
	mp_test_expect_sysctl(test, device, "0");
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(pages, "512"), 0);
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(device, "2048"), 0);
	KUNIT_ASSERT_EQ(test, mp_test_sysctl(provider, "cap"), 0);

	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	rtnl_lock();
	b = mp_cap_rxq_binding(rxq);
	rtnl_unlock();
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_CAP), 512);
	KUNIT_EXPECT_EQ(test, mp_cap_stat(b, MP_CAP_STAT_DEVICE_BUDGET), 2048);
	mp_test_pool_destroy(test, pool);

	KUNIT_ASSERT_EQ(test, mp_test_sysctl(provider, "none"), 0);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);
	KUNIT_EXPECT_NULL(test, pool->mp_ops);
	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(device, "0"), 0);
	KUNIT_EXPECT_EQ(test, mp_test_sysctl(pages, "1024"), 0);
	mp_cap_test_done(test);
}

/*** tracepoints: what tools/bpftrace reads ***/

/* What the mp_cap tracepoints said during a test about one binding. */
struct mp_cap_trace {
	spinlock_t lock;	/* probes may run on any CPU */
	u32 id;
	unsigned int other;
	unsigned int refills, cached, fresh, refused;
	long held;
	u32 refill_pool;
	unsigned int throttled[2], resumed[2];
	long throttle_held, resume_held;
	unsigned long throttle_cap, throttle_low;
	unsigned long shrunk[MP_CAP_SHRINK_CAP_LOWERED + 1];
};

static bool mp_cap_trace_ours(struct mp_cap_trace *t, u32 binding)
{
	if (t->id == binding)
		return true;
	t->other++;
	return false;
}

static void mp_cap_trace_refill(void *data, u32 binding,
				const struct page_pool *pool,
				unsigned int cached, unsigned int fresh,
				unsigned int refused, long held)
{
	struct mp_cap_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_cap_trace_ours(t, binding)) {
		t->refills++;
		t->cached += cached;
		t->fresh += fresh;
		t->refused += refused;
		t->held = held;
		t->refill_pool = pool->user.id;
	}
	spin_unlock_bh(&t->lock);
}

static void mp_cap_trace_throttle(void *data, u32 binding, bool device,
				  bool throttled, long held, unsigned long cap,
				  unsigned long low)
{
	struct mp_cap_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_cap_trace_ours(t, binding)) {
		if (throttled) {
			t->throttled[device]++;
			t->throttle_held = held;
		} else {
			t->resumed[device]++;
			t->resume_held = held;
		}
		t->throttle_cap = cap;
		t->throttle_low = low;
	}
	spin_unlock_bh(&t->lock);
}

static void mp_cap_trace_shrink(void *data, u32 binding, unsigned long pages,
				enum mp_cap_shrink_reason reason)
{
	struct mp_cap_trace *t = data;

	spin_lock_bh(&t->lock);
	if (mp_cap_trace_ours(t, binding) && reason < ARRAY_SIZE(t->shrunk))
		t->shrunk[reason] += pages;
	spin_unlock_bh(&t->lock);
}

static void mp_cap_trace_stop(void *data)
{
	unregister_trace_mp_cap_shrink(mp_cap_trace_shrink, data);
	unregister_trace_mp_cap_throttle(mp_cap_trace_throttle, data);
	unregister_trace_mp_cap_refill(mp_cap_trace_refill, data);
	tracepoint_synchronize_unregister();
}

static struct mp_cap_trace *mp_cap_trace_start(struct kunit *test,
					       struct mp_cap_binding *b)
{
	struct mp_cap_trace *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	spin_lock_init(&t->lock);
	t->id = mp_cap_binding_id(b);
	KUNIT_ASSERT_EQ(test, register_trace_mp_cap_refill(mp_cap_trace_refill, t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_cap_trace_stop, t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_mp_cap_throttle(mp_cap_trace_throttle, t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_mp_cap_shrink(mp_cap_trace_shrink, t), 0);
	return t;
}

/* Refills count fresh and refused pages; the cap and the low watermark
 * are seen crossed.
 */
static void mp_cap_test_trace(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int cap = 2 * PP_ALLOC_CACHE_REFILL;
	unsigned int low, n;
	struct mp_cap_binding *b;
	struct mp_cap_trace *t;
	struct page_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 2 * cap, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, cap, 0, 1);
	t = mp_cap_trace_start(test, b);
	low = mp_cap_stat(b, MP_CAP_STAT_CAP_LOW);
	pool = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	/* two fresh batches, then one the cap refuses whole */
	n = mp_cap_fill(pool, pages, 2 * cap);
	KUNIT_EXPECT_EQ(test, n, cap);
	KUNIT_EXPECT_EQ(test, t->refills, 3);
	KUNIT_EXPECT_EQ(test, t->fresh, cap);
	KUNIT_EXPECT_EQ(test, t->cached, 0);
	KUNIT_EXPECT_EQ(test, t->refused, PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, t->held, cap);
	KUNIT_EXPECT_EQ(test, t->refill_pool, pool->user.id);
	KUNIT_EXPECT_EQ(test, t->throttled[false], 1);
	KUNIT_EXPECT_EQ(test, t->throttle_held, cap);
	KUNIT_EXPECT_EQ(test, t->throttle_cap, cap);
	KUNIT_EXPECT_EQ(test, t->throttle_low, low);
	KUNIT_EXPECT_EQ(test, t->resumed[false], 0);

	/* under the low watermark allocation resumes, and says so */
	while (n > low - 2)
		mp_test_free(pool, pages[--n]);
	pages[n] = mp_test_alloc(pool);		/* the ring's page */
	KUNIT_ASSERT_NOT_NULL(test, pages[n]);
	n++;
	pages[n] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[n]);
	n++;
	KUNIT_EXPECT_EQ(test, t->resumed[false], 1);
	KUNIT_EXPECT_EQ(test, t->resume_held, low - 1);
	/* the batch took it back to the cap */
	KUNIT_EXPECT_EQ(test, t->throttled[false], 2);
	KUNIT_EXPECT_EQ(test, t->throttle_held, cap);
	KUNIT_EXPECT_EQ(test, t->throttled[true] + t->resumed[true], 0);

	while (n)
		mp_test_free(pool, pages[--n]);
	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 1);
	mp_cap_test_done(test);
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

/* A device's budget crossed is told apart from a binding's cap. */
static void mp_cap_test_trace_device(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int budget = 2 * PP_ALLOC_CACHE_REFILL;
	struct mp_cap_binding *b;
	struct mp_cap_trace *t;
	struct page_pool *pool;
	struct page **pages;
	unsigned int n;

	pages = kunit_kcalloc(test, 4 * budget, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, 4 * budget, budget, 0);
	t = mp_cap_trace_start(test, b);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	n = mp_cap_fill(pool, pages, 4 * budget);
	KUNIT_EXPECT_EQ(test, n, budget);
	KUNIT_EXPECT_EQ(test, t->throttled[true], 1);
	KUNIT_EXPECT_EQ(test, t->throttled[false], 0);
	KUNIT_EXPECT_EQ(test, t->throttle_cap, budget);

	while (n)
		mp_test_free(pool, pages[--n]);
	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 0);
	mp_cap_test_done(test);
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

/* Cached pages given back say why: a cap lowered under them, or memory
 * pressure; refills say how many came from the cache.
 */
static void mp_cap_test_trace_shrink(struct kunit *test)
{
	const unsigned int n = 4 * PP_ALLOC_CACHE_REFILL;
	struct mp_test_ctx *ctx = test->priv;
	unsigned long held, low, cached;
	struct mp_cap_binding *b;
	struct mp_cap_trace *t;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_cap_test_bind(test, 1024, 0, 3);
	t = mp_cap_trace_start(test, b);
	pool = mp_test_pool(test, ctx->dev, 3, 0, NULL);
	for (i = 0; i < n; i++)
		pages[i] = mp_test_alloc(pool);
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_flush_cache(pool);
	KUNIT_ASSERT_GT(test, mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED), 0);

	/* the ring's page, then a refill from the cache */
	pages[0] = mp_test_alloc(pool);
	pages[1] = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, pages[1]);
	KUNIT_EXPECT_EQ(test, t->cached, PP_ALLOC_CACHE_REFILL);
	KUNIT_EXPECT_EQ(test, t->fresh, n);
	mp_test_free(pool, pages[0]);
	mp_test_free(pool, pages[1]);
	mp_test_flush_cache(pool);

	held = mp_cap_stat(b, MP_CAP_STAT_PAGES_HELD);
	KUNIT_EXPECT_EQ(test, mp_cap_test_set(b, 2 * PP_ALLOC_CACHE_REFILL, 0), 0);
	low = mp_cap_stat(b, MP_CAP_STAT_CAP_LOW);
	KUNIT_ASSERT_GT(test, held, low);
	KUNIT_EXPECT_EQ(test, t->shrunk[MP_CAP_SHRINK_CAP_LOWERED], held - low);
	KUNIT_EXPECT_EQ(test, t->shrunk[MP_CAP_SHRINK_PRESSURE], 0);

	cached = mp_cap_stat(b, MP_CAP_STAT_PAGES_CACHED);
	KUNIT_ASSERT_GT(test, cached, 0);
	KUNIT_EXPECT_EQ(test, mp_cap_shrink(ULONG_MAX), cached);
	KUNIT_EXPECT_EQ(test, t->shrunk[MP_CAP_SHRINK_PRESSURE], cached);
	KUNIT_EXPECT_EQ(test, t->shrunk[MP_CAP_SHRINK_CAP_LOWERED] +
			t->shrunk[MP_CAP_SHRINK_PRESSURE],
			mp_cap_stat(b, MP_CAP_STAT_SHRINKER_PAGES));

	mp_test_pool_destroy(test, pool);
	mp_cap_test_unbind(test, 3);
	mp_cap_test_done(test);
	KUNIT_EXPECT_EQ(test, t->other, 0);
}

static struct kunit_case mp_cap_test_cases[] = {
	KUNIT_CASE_SLOW(mp_cap_test_never_exceeded),
	KUNIT_CASE(mp_cap_test_watermarks),
	KUNIT_CASE(mp_cap_test_shares),
	KUNIT_CASE_SLOW(mp_cap_test_lost),
	KUNIT_CASE(mp_cap_test_device_budget),
	KUNIT_CASE(mp_cap_test_live),
	KUNIT_CASE(mp_cap_test_shrinker),
	KUNIT_CASE_SLOW(mp_cap_test_inflight),
	KUNIT_CASE_SLOW(mp_cap_test_dma),
	KUNIT_CASE(mp_cap_test_default),
	KUNIT_CASE(mp_cap_test_trace),
	KUNIT_CASE(mp_cap_test_trace_device),
	KUNIT_CASE(mp_cap_test_trace_shrink),
	{}
};

static struct kunit_suite mp_cap_test_suite = {
	.name = "mp_cap",
	.init = mp_cap_test_init,
	.exit = mp_test_exit,
	.test_cases = mp_cap_test_cases,
};

kunit_test_suite(mp_cap_test_suite);

MODULE_DESCRIPTION("KUnit tests of the memory-cap provider");
MODULE_LICENSE("GPL");
