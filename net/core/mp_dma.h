/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA mapping for page pool memory providers of readable pages.
 *
 * A provider maps its pages itself for every pool that asks page_pool to
 * map (PP_FLAG_DMA_MAP), and must unmap them once that pool stopped
 * syncing for the device (memory_provider_ops.scrub): page_pool unmaps
 * only the pages it mapped. Mappings are kept per (device, direction), a
 * "slot": pools of a binding that map for the same device and direction
 * share one, and it dies with its last pool.
 *
 * A slot tracks the pages it mapped one by one while they are in flight,
 * so that the last pool's scrub can unmap those still out, as page_pool
 * does for its own; whoever erases a page from the slot unmaps it.
 * Providers that map in bigger units (the hugepage provider's 2 MiB
 * blocks) keep those mappings themselves, per slot index.
 *
 * Locking: slot_get() and slot_put() under the provider's binding mutex;
 * slot_find() and the per-page functions lockless, from any context: a
 * pool holds its slot from init to scrub, and the device is published last
 * and withdrawn first.
 */
#ifndef _NET_CORE_MP_DMA_H
#define _NET_CORE_MP_DMA_H

#include <linux/dma-mapping.h>
#include <linux/xarray.h>

struct page_pool;

/* (device, direction) pairs a binding maps for at once: bnxt switches a
 * queue's pools to DMA_BIDIRECTIONAL when XDP is attached. Without an
 * IOMMU two slots of one device map a page at the same address, and
 * CONFIG_DMA_API_DEBUG cannot tell which mapping a partial sync is for: it
 * reports "tries to sync DMA memory it has not allocated" while both exist.
 */
#define MP_DMA_SLOTS		2

#define MP_DMA_ATTRS		(DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_WEAK_ORDERING)

struct mp_dma_slot {
	struct device *dev;		/* NULL: unused; acquire/release */
	enum dma_data_direction dir;
	unsigned int users;		/* pools; under the binding mutex */
	struct xarray pages;		/* pfn -> page mapped one by one */
};

struct mp_dma {
	struct mp_dma_slot slot[MP_DMA_SLOTS];
};

int mp_dma_slot_find(const struct mp_dma *d, const struct page_pool *pool);
int mp_dma_slot_get(struct mp_dma *d, struct device *dev,
		    enum dma_data_direction dir, bool *created);
void mp_dma_slot_publish(struct mp_dma *d, int slot, struct device *dev);
struct device *mp_dma_slot_put(struct mp_dma *d, int slot);
bool mp_dma_map_page(struct mp_dma *d, int slot, struct page_pool *pool,
		     struct page *page);
void mp_dma_unmap_page(struct mp_dma *d, struct page_pool *pool,
		       struct page *page);
bool mp_dma_set(struct page_pool *pool, struct page *page, dma_addr_t dma);

#endif /* _NET_CORE_MP_DMA_H */
