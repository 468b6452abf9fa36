// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the hugepage provider's DMA mapping, on the guest's PCI
 * devices: CONFIG_DMA_API_DEBUG tracks devices on the PCI bus, so every
 * sync is checked against a live mapping. Mappings are counted through the
 * dma_map_page and dma_unmap_page tracepoints, so that "one mapping per
 * huge page" and "nothing left mapped" are counted, not inferred from
 * addresses (which match without an IOMMU anyway). The devices never see
 * these mappings: nothing is handed to them.
 *
 * make check boots the x86_64 guest twice for mp_huge_dma: as is, where
 * dma-direct maps a 2 MiB block in one go, and with swiotlb=force, where
 * dma_max_mapping_size() is 256 KiB and the provider maps each page as it
 * is handed out.
 */

#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/mp_huge.h>

#include "mp_test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

struct mp_dma_ctx {
	struct mp_test_ctx t;		/* first: mp_test_init() */
	struct net_device *dev;
	struct device *dma_dev;
	struct mp_test_dma_count count;
	unsigned long blocks_before;
};

static int mp_dma_test_init(struct kunit *test)
{
	struct mp_dma_ctx *ctx;

	if (!IS_ENABLED(CONFIG_HAS_DMA) || !IS_ENABLED(CONFIG_PCI))
		kunit_skip(test, "no DMA on this architecture");

	mp_test_init(test, sizeof(*ctx));
	ctx = test->priv;
	ctx->dev = ctx->t.dev;
	ctx->blocks_before = ctx->t.blocks_before;
	ctx->dma_dev = mp_test_dma_device(test, 0);
	mp_test_dma_count_start(test, &ctx->count, ctx->dma_dev);
	return 0;
}

static struct page_pool *__mp_dma_pool(struct kunit *test,
				       struct mp_dma_ctx *ctx,
				       unsigned int queue,
				       struct device *dma_dev,
				       enum dma_data_direction dir,
				       unsigned int flags)
{
	struct page_pool_params pp = {
		.pool_size	= 1,
		.nid		= NUMA_NO_NODE,
		.dev		= dma_dev,
		.dma_dir	= dir,
		.max_len	= PAGE_SIZE,
		.netdev		= ctx->dev,
		.queue_idx	= queue,
		.flags		= PP_FLAG_RX_QUEUE | PP_FLAG_DMA_MAP | flags,
	};
	struct page_pool *pool;

	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	if (!IS_ERR(pool))
		mp_test_own_pool(test, pool);
	return pool;
}

static struct page_pool *mp_dma_pool(struct kunit *test, struct mp_dma_ctx *ctx,
				     unsigned int queue, struct device *dma_dev,
				     enum dma_data_direction dir)
{
	return __mp_dma_pool(test, ctx, queue, dma_dev, dir,
			     PP_FLAG_DMA_SYNC_DEV);
}

/* Every page of a block gets base + i * PAGE_SIZE of one 2 MiB mapping, or
 * its own mapping where the device cannot map 2 MiB at once.
 */
static void mp_huge_dma_test_addresses(struct kunit *test)
{
	struct mp_dma_ctx *ctx = test->priv;
	bool per_page = dma_max_mapping_size(ctx->dma_dev) < SZ_2M;
	unsigned long base_pfn = ULONG_MAX;
	struct mp_huge_binding *b;
	dma_addr_t base = 0, dma;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i, j;

	kunit_info(test, "dma_max_mapping_size %zu: %s mappings\n",
		   dma_max_mapping_size(ctx->dma_dev),
		   per_page ? "per-page" : "2 MiB");
	pages = kunit_kcalloc(test, MP_HUGE_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);

	for (i = 0; i < MP_HUGE_PAGES; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		dma = page_pool_get_dma_addr(pages[i]);
		KUNIT_EXPECT_NE(test, dma, 0);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(ctx->dma_dev, dma));
		if (page_to_pfn(pages[i]) < base_pfn) {
			base_pfn = page_to_pfn(pages[i]);
			base = dma;
		}
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);

	for (i = 0; i < MP_HUGE_PAGES; i++) {
		dma = page_pool_get_dma_addr(pages[i]);
		if (!per_page) {
			KUNIT_EXPECT_EQ(test, dma, base +
					(page_to_pfn(pages[i]) - base_pfn) * PAGE_SIZE);
			continue;
		}
		for (j = 0; j < i; j++)
			if (page_pool_get_dma_addr(pages[j]) == dma)
				break;
		KUNIT_EXPECT_EQ_MSG(test, j, i, "page %u shares page %u's DMA address", i, j);
	}

	for (i = 0; i < MP_HUGE_PAGES; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Mappings are per (device, direction): bnxt switches a queue's pools to
 * DMA_BIDIRECTIONAL for XDP. A binding maps for two at most. The pools do
 * not sync: without an IOMMU both mappings share addresses, which
 * DMA_API_DEBUG cannot tell apart on a partial sync (see mp_huge.c).
 */
static void mp_huge_dma_test_directions(struct kunit *test)
{
	struct mp_dma_ctx *ctx = test->priv;
	struct device *other = mp_test_dma_device(test, 1);
	struct page_pool *rx, *bidi, *third;
	struct mp_huge_binding *b;
	struct page *p, *q;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	mp_test_bind(test, b, ctx->dev, 1);
	mp_test_bind(test, b, ctx->dev, 2);
	rx = __mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE, 0);
	bidi = __mp_dma_pool(test, ctx, 1, ctx->dma_dev, DMA_BIDIRECTIONAL, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rx);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bidi);
	third = __mp_dma_pool(test, ctx, 2, other, DMA_FROM_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(third), -EBUSY);

	p = mp_test_alloc(rx);
	q = mp_test_alloc(bidi);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_NE(test, page_pool_get_dma_addr(p), 0);
	KUNIT_EXPECT_NE(test, page_pool_get_dma_addr(q), 0);

	mp_test_free(rx, p);
	mp_test_free(bidi, q);
	mp_test_pool_destroy(test, rx);
	mp_test_pool_destroy(test, bidi);

	/* both slots are free again: another device can map */
	third = mp_dma_pool(test, ctx, 2, other, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, third);
	p = mp_test_alloc(third);
	KUNIT_EXPECT_NOT_NULL(test, p);
	mp_test_free(third, p);
	mp_test_pool_destroy(test, third);

	mp_test_unbind(test, ctx->dev, 0);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_unbind(test, ctx->dev, 2);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* A page that comes back after its pool's mapping died is mapped afresh
 * when another pool hands it out (DMA_API_DEBUG checks the syncs).
 */
static void mp_huge_dma_test_remap(struct kunit *test)
{
	struct mp_dma_ctx *ctx = test->priv;
	struct page_pool *old, *new;
	struct mp_huge_binding *b;
	struct page *held, *page;
	unsigned int i;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	old = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, old);
	held = mp_test_alloc(old);
	KUNIT_ASSERT_NOT_NULL(test, held);
	mp_test_pool_destroy(test, old);		/* scrub: the only user unmaps */

	new = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, new);
	mp_test_free(old, held);	/* back through old's release worker */
	KUNIT_ASSERT_TRUE(test, mp_test_wait_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT, 0));
	for (i = 0; i < 2 * PP_ALLOC_CACHE_REFILL; i++) {
		page = mp_test_alloc(new);
		KUNIT_ASSERT_NOT_NULL(test, page);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(ctx->dma_dev,
							   page_pool_get_dma_addr(page)));
		mp_test_free(new, page);
	}
	mp_test_pool_destroy(test, new);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->count.mapped_bytes), 0);
}

/* Order-0 fallback pages are mapped one by one and unmapped when they go
 * back (DMA_API_DEBUG reports leaks when the test device goes away).
 */
static void mp_huge_dma_test_fallback(struct kunit *test)
{
	struct mp_dma_ctx *ctx = test->priv;
	struct page *pages[2 * PP_ALLOC_CACHE_REFILL];
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned int i;

	mp_test_fail_huge_pages(test);
	b = mp_test_binding(test, 0, 2, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_EXPECT_NE(test, page_pool_get_dma_addr(pages[i]), 0);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS),
			ARRAY_SIZE(pages));
	/* half come back before the pool goes, half after its scrub */
	for (i = 0; i < ARRAY_SIZE(pages) / 2; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);
	for (; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->count.maps), ARRAY_SIZE(pages));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->count.mapped_bytes), 0);
}

/* One mapping per huge page, made when the block is carved (or when the
 * first pool of a slot arrives) and kept while pages come and go; none is
 * left once the binding is gone. Where the device cannot map 2 MiB at once
 * (swiotlb), each page is mapped as it is handed out and unmapped as it
 * comes back, so that bounce buffer is held for pages in flight only.
 */
static void mp_huge_dma_test_map_count(struct kunit *test)
{
	const unsigned int n = MP_HUGE_PAGES + PP_ALLOC_CACHE_REFILL;
	struct mp_dma_ctx *ctx = test->priv;
	bool per_page = dma_max_mapping_size(ctx->dma_dev) < SZ_2M;
	struct mp_test_dma_count *c = &ctx->count;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i, round;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_test_binding(test, 2, 2, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->maps), per_page ? 0 : 2);

	for (round = 0; round < 3; round++) {
		for (i = 0; i < n; i++) {
			pages[i] = mp_test_alloc(pool);
			KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		}
		/* what is mapped is what is out: handed out, or waiting in
		 * the pool's alloc cache and ring
		 */
		if (per_page)
			KUNIT_EXPECT_EQ(test, atomic_long_read(&c->mapped_bytes),
					(long)mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT) *
					PAGE_SIZE);
		for (i = 0; i < n; i++)
			mp_test_free(pool, pages[i]);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
	if (per_page) {
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_DMA_BLOCK_MAPS), 0);
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_DMA_PAGE_MAPS),
				atomic_read(&c->maps));
		/* the pool's ring and alloc cache hold a few, still mapped */
		KUNIT_EXPECT_EQ(test, atomic_long_read(&c->mapped_bytes),
				(long)mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT) *
				PAGE_SIZE);
		KUNIT_EXPECT_LE(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
				1 + PP_ALLOC_CACHE_REFILL);
	} else {
		KUNIT_EXPECT_EQ(test, atomic_read(&c->maps), 2);
		KUNIT_EXPECT_EQ(test, atomic_read(&c->unmaps), 0);
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_DMA_BLOCK_MAPS), 2);
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_DMA_PAGE_MAPS), 0);
	}

	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, atomic_read(&c->unmaps), atomic_read(&c->maps));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->mapped_bytes), 0);
}

/* A page lost to another holder is unmapped as it leaves when it had a
 * mapping of its own, and its block's mapping goes before the page can
 * return to the page allocator.
 */
static void mp_huge_dma_test_lost(struct kunit *test)
{
	struct mp_dma_ctx *ctx = test->priv;
	struct mp_test_dma_count *c = &ctx->count;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page *page;

	b = mp_test_binding(test, 1, 1, "lifo");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_dma_pool(test, ctx, 0, ctx->dma_dev, DMA_FROM_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	page = mp_test_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);
	mp_test_free(pool, page);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 1);
	KUNIT_EXPECT_EQ(test, page_pool_get_dma_addr(page), 0);
	put_page(page);			/* still ours: the block is mapped */
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);

	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->mapped_bytes), 0);
}

static struct kunit_case mp_huge_dma_test_cases[] = {
	KUNIT_CASE(mp_huge_dma_test_addresses),
	KUNIT_CASE(mp_huge_dma_test_directions),
	KUNIT_CASE_SLOW(mp_huge_dma_test_remap),
	KUNIT_CASE_SLOW(mp_huge_dma_test_fallback),
	KUNIT_CASE(mp_huge_dma_test_map_count),
	KUNIT_CASE(mp_huge_dma_test_lost),
	{}
};

static struct kunit_suite mp_huge_dma_test_suite = {
	.name = "mp_huge_dma",
	.init = mp_dma_test_init,
	.exit = mp_test_exit,
	.test_cases = mp_huge_dma_test_cases,
};

kunit_test_suite(mp_huge_dma_test_suite);

MODULE_DESCRIPTION("KUnit tests of the hugepage provider's DMA mapping");
MODULE_LICENSE("GPL");
