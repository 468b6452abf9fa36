/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures shared by the memory provider KUnit suites (mp_test.c). Pools,
 * bindings and queue bindings made through them are KUnit resources,
 * released in reverse order when a test ends however it ends; the *_put,
 * *_destroy and *_unbind helpers release one early.
 */
#ifndef _MP_TEST_H
#define _MP_TEST_H

#include <kunit/test.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/pp_policy.h>

#include "mp_kunit.h"

#define MP_TEST_QUEUES	4

struct ctl_table;
struct page_pool;

/**
 * struct mp_test_ctx - what every provider suite's context starts with
 * @dev: a registered netdev with MP_TEST_QUEUES rx queues
 * @blocks_before: huge pages held before the test
 * @cap_before: capped pages held before the test
 */
struct mp_test_ctx {
	struct net_device *dev;
	unsigned long blocks_before;
	unsigned long cap_before;
};

/**
 * struct mp_test_dma_count - DMA mappings of one device, counted through
 * the dma_map_page and dma_unmap_page tracepoints
 * @dev: the device
 * @maps: mappings made
 * @unmaps: mappings undone
 * @mapped_bytes: mapped and not unmapped
 */
struct mp_test_dma_count {
	struct device *dev;
	atomic_t maps;
	atomic_t unmaps;
	atomic_long_t mapped_bytes;
};

struct device *mp_test_dma_device(struct kunit *test, unsigned int nth);
void mp_test_dma_count_start(struct kunit *test, struct mp_test_dma_count *c,
			     struct device *dev);

int mp_test_init(struct kunit *test, size_t size);
void mp_test_exit(struct kunit *test);

struct net_device *mp_test_netdev(struct kunit *test);
struct page_pool *mp_test_pool(struct kunit *test, struct net_device *dev,
			       unsigned int queue, unsigned int flags,
			       struct device *dma_dev);
void mp_test_own_pool(struct kunit *test, struct page_pool *pool);
void mp_test_pool_destroy(struct kunit *test, struct page_pool *pool);
struct mp_huge_binding *mp_test_binding(struct kunit *test, u32 blocks,
					u32 max_blocks, const char *policy);
void mp_test_own_binding(struct kunit *test, struct mp_huge_binding *b);
void mp_test_put(struct kunit *test, struct mp_huge_binding *b);
void mp_test_bind(struct kunit *test, struct mp_huge_binding *b,
		  struct net_device *dev, unsigned int queue);
void mp_test_unbind(struct kunit *test, struct net_device *dev,
		    unsigned int queue);
u64 mp_test_stat(struct mp_huge_binding *b, enum mp_huge_stat stat);
struct page *mp_test_alloc(struct page_pool *pool);
void mp_test_free(struct page_pool *pool, struct page *page);
/* XDP's bulk queue (XDP_BULK_QUEUE_SIZE) */
#define MP_TEST_BULK	16
void mp_test_free_bulk(struct page_pool *pool, struct page **pages,
		       unsigned int n);
void mp_test_flush_cache(struct page_pool *pool);
bool mp_test_wait_home(unsigned long blocks_before);
bool mp_test_wait_stat(struct mp_huge_binding *b, enum mp_huge_stat stat,
		       u64 val);
void mp_test_fail_huge_pages(struct kunit *test);
int mp_test_sysctl(const struct ctl_table *table, const char *val);
void mp_test_sysctl_read(const struct ctl_table *table, char *buf,
			 size_t size);
void mp_test_expect_sysctl(struct kunit *test, const struct ctl_table *table,
			   const char *want);

/*
 * A recycling policy's store for test policies: a stack under a lock. A
 * test policy brings its own put (what it keeps); create, destroy, get,
 * drain and count are these.
 */
struct mp_test_store {
	spinlock_t lock;	/* protects stack and puts */
	struct pp_netmem_stack stack;
	unsigned int puts;
};

void *mp_test_store_create(const struct pp_policy_params *params, int nid,
			   unsigned long capacity);
void mp_test_store_destroy(void *store);
unsigned int mp_test_store_get(void *store, netmem_ref *netmems,
			       unsigned int n);
unsigned long mp_test_store_count(void *store);

#endif /* _MP_TEST_H */
