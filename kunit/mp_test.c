// SPDX-License-Identifier: GPL-2.0
/*
 * Fixtures shared by the memory provider KUnit suites: a registered test
 * netdev with MP_TEST_QUEUES rx queues, page pools created for its queues
 * as a driver creates them, bindings, and the checks that everything came
 * home. Pools, bindings and queue bindings made here are KUnit resources:
 * a test that stops at a failed assertion still destroys, unbinds and puts
 * them, in reverse order, and mp_test_exit() then checks that no huge page
 * and no capped page was left behind.
 */

#include <kunit/resource.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/fault-inject.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <linux/sysctl.h>
#include <linux/tracepoint.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_cap.h>
#include <net/page_pool/mp_huge.h>
#include <trace/events/dma.h>

#include "mp_test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static netdev_tx_t mp_test_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops mp_test_netdev_ops = {
	.ndo_start_xmit = mp_test_xmit,
};

static void mp_test_netdev_free(void *data)
{
	struct net_device *dev = data;

	rtnl_lock();
	if (dev->reg_state == NETREG_REGISTERED)
		unregister_netdevice(dev);
	rtnl_unlock();
	free_netdev(dev);
}

struct net_device *mp_test_netdev(struct kunit *test)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev_mqs(0, "mptest%d", NET_NAME_ENUM, ether_setup,
			       1, MP_TEST_QUEUES);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->netdev_ops = &mp_test_netdev_ops;
	eth_hw_addr_random(dev);

	rtnl_lock();
	err = register_netdevice(dev);
	rtnl_unlock();
	if (err)
		free_netdev(dev);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mp_test_netdev_free,
							dev), 0);
	return dev;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_netdev);

static void mp_test_pool_action(void *pool)
{
	page_pool_destroy(pool);
}

/**
 * mp_test_own_pool() - destroy @pool when the test ends, if it has not
 * @test: the test
 * @pool: a page pool the test made
 */
void mp_test_own_pool(struct kunit *test, struct page_pool *pool)
{
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_pool_action,
							pool), 0);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_own_pool);

/* A pool for rx queue @queue of @dev, as a driver creates it: pool_size 1,
 * so that nearly every free overflows the ring to the provider.
 */
struct page_pool *mp_test_pool(struct kunit *test, struct net_device *dev,
			       unsigned int queue, unsigned int flags,
			       struct device *dma_dev)
{
	struct page_pool_params pp = {
		.order		= 0,
		.pool_size	= 1,
		.nid		= NUMA_NO_NODE,
		.dev		= dma_dev ?: &dev->dev,
		.dma_dir	= DMA_FROM_DEVICE,
		.max_len	= PAGE_SIZE,
		.netdev		= dev,
		.queue_idx	= queue,
		.flags		= PP_FLAG_RX_QUEUE | flags,
	};
	struct page_pool *pool;

	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	mp_test_own_pool(test, pool);
	return pool;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_pool);

/**
 * mp_test_pool_destroy() - destroy a pool the test owns, now
 * @test: the test
 * @pool: from mp_test_pool() or mp_test_own_pool()
 */
void mp_test_pool_destroy(struct kunit *test, struct page_pool *pool)
{
	kunit_release_action(test, mp_test_pool_action, pool);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_pool_destroy);

static void mp_test_put_action(void *b)
{
	mp_huge_binding_put(b);
}

/**
 * mp_test_own_binding() - put the test's reference to @b when it ends
 * @test: the test
 * @b: a binding the test made, holding a reference for it
 */
void mp_test_own_binding(struct kunit *test, struct mp_huge_binding *b)
{
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_put_action,
							b), 0);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_own_binding);

struct mp_huge_binding *mp_test_binding(struct kunit *test, u32 blocks,
					u32 max_blocks, const char *policy)
{
	struct mp_huge_params p = {
		.blocks		= blocks,
		.max_blocks	= max_blocks,
		.nid		= NUMA_NO_NODE,
	};
	struct mp_huge_binding *b;

	if (policy)
		strscpy(p.policy, policy, sizeof(p.policy));
	b = mp_huge_binding_create(&p, true, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	mp_test_own_binding(test, b);
	return b;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_binding);

/**
 * mp_test_put() - put the test's reference to a binding, now
 * @test: the test
 * @b: from mp_test_binding() or mp_test_own_binding()
 */
void mp_test_put(struct kunit *test, struct mp_huge_binding *b)
{
	kunit_release_action(test, mp_test_put_action, b);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_put);

static void mp_test_unbind_action(void *rxq)
{
	rtnl_lock();
	/* unregistering the device may have unbound it already */
	if (mp_huge_rxq_binding(rxq))
		mp_huge_unbind_queue(rxq);
	rtnl_unlock();
}

/* The queue is unbound when the test ends, if it is still bound. The
 * device must be the test's from before the binding, so that it goes
 * after.
 */
void mp_test_bind(struct kunit *test, struct mp_huge_binding *b,
		  struct net_device *dev, unsigned int queue)
{
	int err;

	rtnl_lock();
	err = mp_huge_bind_queue(b, dev, queue, NULL);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_unbind_action,
							__netif_get_rx_queue(dev, queue)),
			0);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_bind);

void mp_test_unbind(struct kunit *test, struct net_device *dev,
		    unsigned int queue)
{
	kunit_release_action(test, mp_test_unbind_action,
			     __netif_get_rx_queue(dev, queue));
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_unbind);

u64 mp_test_stat(struct mp_huge_binding *b, enum mp_huge_stat stat)
{
	u64 stats[MP_HUGE_STAT_NUM];

	mp_huge_binding_stats(b, stats);
	return stats[stat];
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_stat);

/* Allocate in the context page_pool expects: BH off, as in NAPI. */
struct page *mp_test_alloc(struct page_pool *pool)
{
	struct page *page;

	local_bh_disable();
	page = page_pool_alloc_pages(pool, GFP_ATOMIC);
	local_bh_enable();
	return page;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_alloc);

void mp_test_free(struct page_pool *pool, struct page *page)
{
	local_bh_disable();
	page_pool_put_full_page(pool, page, false);
	local_bh_enable();
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_free);

/**
 * mp_test_free_bulk() - put @n pages of @pool at once, as XDP completions
 * do (page_pool_put_page_bulk(): what the ptr_ring cannot take reaches the
 * provider in one burst)
 * @pool: their pool
 * @pages: the pages; @n at most MP_TEST_BULK
 * @n: how many
 */
void mp_test_free_bulk(struct page_pool *pool, struct page **pages,
		       unsigned int n)
{
	void *data[MP_TEST_BULK];
	unsigned int i;

	if (WARN_ON_ONCE(n > MP_TEST_BULK))
		n = MP_TEST_BULK;
	for (i = 0; i < n; i++)
		data[i] = page_address(pages[i]);
	local_bh_disable();
	page_pool_put_page_bulk(pool, data, n);
	local_bh_enable();
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_free_bulk);

/* Return the pages of @pool's alloc cache to the provider, last first. */
void mp_test_flush_cache(struct page_pool *pool)
{
	local_bh_disable();
	page_pool_update_nid(pool, pool->p.nid);
	local_bh_enable();
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_flush_cache);

/* Wait until every binding made since @blocks_before was read is gone and
 * its huge pages are back: page_pool's release worker retries a destroyed
 * pool every second.
 */
bool mp_test_wait_home(unsigned long blocks_before)
{
	int i;

	for (i = 0; i < 100; i++) {
		mp_huge_flush();
		if (mp_huge_blocks_held() == blocks_before)
			return true;
		msleep(100);
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_wait_home);

/* Wait for a counter to reach @val, for the same reason. */
bool mp_test_wait_stat(struct mp_huge_binding *b, enum mp_huge_stat stat,
		       u64 val)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (mp_test_stat(b, stat) == val)
			return true;
		msleep(100);
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_wait_stat);

#ifdef CONFIG_FAULT_INJECTION
static void mp_test_fail_huge_pages_off(void *data)
{
	mp_huge_fail_block.probability = 0;
	atomic_set(&mp_huge_fail_block.times, 1);
}

/* Every huge page allocation fails, the worker's included, until the test
 * ends.
 */
void mp_test_fail_huge_pages(struct kunit *test)
{
	mp_huge_fail_block.probability = 100;
	mp_huge_fail_block.interval = 1;
	mp_huge_fail_block.verbose = 0;
	atomic_set(&mp_huge_fail_block.times, -1);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_fail_huge_pages_off,
							NULL), 0);
}
#else
void mp_test_fail_huge_pages(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif
EXPORT_SYMBOL_IF_KUNIT(mp_test_fail_huge_pages);

int mp_test_sysctl(const struct ctl_table *table, const char *val)
{
	char buf[64];
	size_t len = strscpy(buf, val, sizeof(buf));
	loff_t pos = 0;

	return table->proc_handler(table, 1, buf, &len, &pos);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_sysctl);

void mp_test_sysctl_read(const struct ctl_table *table, char *buf,
			 size_t size)
{
	size_t len = size;
	loff_t pos = 0;

	memset(buf, 0, size);
	table->proc_handler(table, 0, buf, &len, &pos);
	strim(buf);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_sysctl_read);

void mp_test_expect_sysctl(struct kunit *test, const struct ctl_table *table,
			   const char *want)
{
	char buf[64];

	mp_test_sysctl_read(table, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf, want);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_expect_sysctl);

/*** DMA: mappings counted on a device DMA-API debugging tracks ***/

#if IS_ENABLED(CONFIG_PCI) && IS_ENABLED(CONFIG_HAS_DMA)
static void mp_test_dma_count_map(void *data, struct device *dev, phys_addr_t phys,
				  dma_addr_t dma, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	struct mp_test_dma_count *c = data;

	if (dev != c->dev)
		return;
	atomic_inc(&c->maps);
	atomic_long_add(size, &c->mapped_bytes);
}

static void mp_test_dma_count_unmap(void *data, struct device *dev, dma_addr_t dma,
				    size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct mp_test_dma_count *c = data;

	if (dev != c->dev)
		return;
	atomic_inc(&c->unmaps);
	atomic_long_sub(size, &c->mapped_bytes);
}

static void mp_test_dma_count_stop(void *data)
{
	unregister_trace_dma_unmap_page(mp_test_dma_count_unmap, data);
	unregister_trace_dma_map_page(mp_test_dma_count_map, data);
	tracepoint_synchronize_unregister();
}

void mp_test_dma_count_start(struct kunit *test, struct mp_test_dma_count *c,
			     struct device *dev)
{
	c->dev = dev;
	KUNIT_ASSERT_EQ(test, register_trace_dma_map_page(mp_test_dma_count_map, c), 0);
	KUNIT_ASSERT_EQ(test, register_trace_dma_unmap_page(mp_test_dma_count_unmap,
							    c), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_dma_count_stop,
							c), 0);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_dma_count_start);

static void mp_test_dma_pci_put(void *data)
{
	pci_dev_put(data);
}

/* The @nth PCI device of the guest (virtio-9p carries its root): a device
 * DMA-API debugging tracks. It is given none of the mappings made for it.
 */
struct device *mp_test_dma_device(struct kunit *test, unsigned int nth)
{
	struct pci_dev *pdev = NULL;

	while ((pdev = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, pdev))) {
		if (pdev->dev.dma_mask && *pdev->dev.dma_mask && !nth--)
			break;
	}
	/* UML's virtual PCI bus has no device */
	if (!pdev)
		kunit_skip(test, "no PCI device to map for");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mp_test_dma_pci_put,
							pdev), 0);
	return &pdev->dev;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_dma_device);

#endif

/**
 * mp_test_init() - the fixture every provider suite starts with
 * @test: the test
 * @size: of the suite's context, which starts with a struct mp_test_ctx
 *
 * Return: 0; the context is test->priv.
 */
int mp_test_init(struct kunit *test, size_t size)
{
	struct mp_test_ctx *ctx;

	ctx = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	mp_huge_flush();
	ctx->blocks_before = mp_huge_blocks_held();
	ctx->cap_before = mp_cap_pages_held();
	ctx->dev = mp_test_netdev(test);
	test->priv = ctx;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_init);

static bool mp_test_wait_cap(unsigned long held_before)
{
	int i;

	for (i = 0; i < 100; i++) {
		mp_cap_flush();
		if (mp_cap_pages_held() == held_before)
			return true;
		msleep(100);
	}
	return false;
}

/**
 * mp_test_exit() - the leak check every provider suite ends with
 * @test: the test, passed or failed
 *
 * Destroys, unbinds and puts what the test left (its KUnit resources),
 * then checks that every huge page and every capped page came home.
 */
void mp_test_exit(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	unsigned long blocks, held;

	if (!ctx)
		return;
	blocks = ctx->blocks_before;
	held = ctx->cap_before;
	kunit_cleanup(test);
	test->priv = NULL;
	KUNIT_EXPECT_TRUE_MSG(test, mp_test_wait_home(blocks),
			      "huge pages left behind: %lu, %lu before",
			      mp_huge_blocks_held(), blocks);
	KUNIT_EXPECT_TRUE_MSG(test, mp_test_wait_cap(held),
			      "capped pages left behind: %lu, %lu before",
			      mp_cap_pages_held(), held);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_exit);

/*** a store for test policies ***/

void *mp_test_store_create(const struct pp_policy_params *params, int nid,
			   unsigned long capacity)
{
	struct mp_test_store *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return NULL;
	spin_lock_init(&st->lock);
	if (pp_netmem_stack_init(&st->stack, capacity, nid)) {
		kfree(st);
		return NULL;
	}
	return st;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_store_create);

void mp_test_store_destroy(void *store)
{
	struct mp_test_store *st = store;

	pp_netmem_stack_free(&st->stack);
	kfree(st);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_store_destroy);

unsigned int mp_test_store_get(void *store, netmem_ref *netmems,
			       unsigned int n)
{
	struct mp_test_store *st = store;

	spin_lock_bh(&st->lock);
	n = pp_netmem_stack_pop_bulk(&st->stack, netmems, n);
	spin_unlock_bh(&st->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_store_get);

unsigned long mp_test_store_count(void *store)
{
	return READ_ONCE(((struct mp_test_store *)store)->stack.count);
}
EXPORT_SYMBOL_IF_KUNIT(mp_test_store_count);
