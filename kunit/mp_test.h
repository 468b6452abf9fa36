/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the memory provider KUnit suites (mp_huge_test.c). */
#ifndef _MP_HUGE_TEST_H
#define _MP_HUGE_TEST_H

#include <kunit/test.h>
#include <net/page_pool/mp_huge.h>

#include "mp_kunit.h"

#define MP_TEST_QUEUES	4

struct page_pool;

struct net_device *mp_test_netdev(struct kunit *test);
struct page_pool *mp_test_pool(struct kunit *test, struct net_device *dev,
			       unsigned int queue, unsigned int flags,
			       struct device *dma_dev);
struct mp_huge_binding *mp_test_binding(struct kunit *test, u32 blocks,
					u32 max_blocks, const char *policy);
void mp_test_bind(struct kunit *test, struct mp_huge_binding *b,
		  struct net_device *dev, unsigned int queue);
void mp_test_unbind(struct net_device *dev, unsigned int queue);
u64 mp_test_stat(struct mp_huge_binding *b, enum mp_huge_stat stat);
struct page *mp_test_alloc(struct page_pool *pool);
void mp_test_free(struct page_pool *pool, struct page *page);
void mp_test_flush_cache(struct page_pool *pool);
bool mp_test_wait_home(unsigned long blocks_before);
bool mp_test_wait_stat(struct mp_huge_binding *b, enum mp_huge_stat stat,
		       u64 val);
void mp_test_fail_huge_pages(struct kunit *test);
int mp_test_sysctl(const struct ctl_table *table, const char *val);
void mp_test_expect_sysctl(struct kunit *test, const struct ctl_table *table,
			   const char *want);

#endif
