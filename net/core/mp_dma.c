// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping for page pool memory providers of readable pages: slots per
 * (device, direction), and pages mapped one by one, tracked so that the
 * last pool of a slot can unmap those still in flight. See mp_dma.h.
 */

#include <linux/error-injection.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>

#include "mp_dma.h"
#include "page_pool_priv.h"

/**
 * mp_dma_slot_find() - the slot a pool maps through
 * @d: the provider's slots
 * @pool: a pool that maps, between its init and its scrub
 *
 * Return: the slot index, or -1 if @pool has none (it was scrubbed).
 */
int mp_dma_slot_find(const struct mp_dma *d, const struct page_pool *pool)
{
	int i;

	for (i = 0; i < MP_DMA_SLOTS; i++) {
		/* pairs with mp_dma_slot_publish(): dir is set before dev */
		if (smp_load_acquire(&d->slot[i].dev) == pool->p.dev &&
		    d->slot[i].dir == pool->p.dma_dir)
			return i;
	}
	return -1;
}

/**
 * mp_dma_slot_get() - a pool starts mapping for (@dev, @dir)
 * @d: the provider's slots
 * @dev: the pool's device
 * @dir: the pool's direction
 * @created: set when the slot is new: the caller maps what it maps in
 *	bulk, then calls mp_dma_slot_publish() (or mp_dma_slot_put())
 *
 * Caller holds the binding mutex.
 *
 * Return: the slot index, or -EBUSY when all slots map for others.
 */
int mp_dma_slot_get(struct mp_dma *d, struct device *dev,
		    enum dma_data_direction dir, bool *created)
{
	struct mp_dma_slot *s;
	int i, free = -1;

	for (i = 0; i < MP_DMA_SLOTS; i++) {
		s = &d->slot[i];
		if (s->users && s->dev == dev && s->dir == dir) {
			s->users++;
			*created = false;
			return i;
		}
		if (!s->users && free < 0)
			free = i;
	}
	if (free < 0)
		return -EBUSY;

	s = &d->slot[free];
	s->dir = dir;
	s->users = 1;
	xa_init(&s->pages);
	*created = true;
	return free;
}

/**
 * mp_dma_slot_publish() - make a new slot visible to its pools
 * @d: the provider's slots
 * @slot: from mp_dma_slot_get()
 * @dev: its device, referenced until the slot dies
 */
void mp_dma_slot_publish(struct mp_dma *d, int slot, struct device *dev)
{
	get_device(dev);
	/* dir and the caller's mappings before the device that finds them */
	smp_store_release(&d->slot[slot].dev, dev);
}

/**
 * mp_dma_slot_put() - a pool stops mapping through a slot
 * @d: the provider's slots
 * @slot: the pool's slot
 *
 * The last pool's put unmaps the pages mapped one by one that are still in
 * flight. Caller holds the binding mutex; page_pool has stopped syncing
 * for the pool (scrub), or the pool never allocated.
 *
 * Return: the slot's device if the slot died (NULL if it was never
 * published): the caller unmaps its bulk mappings, then put_device()s it;
 * NULL while other pools use the slot.
 */
struct device *mp_dma_slot_put(struct mp_dma *d, int slot)
{
	struct mp_dma_slot *s = &d->slot[slot];
	struct device *dev = s->dev;
	unsigned long pfn;
	void *entry;

	if (--s->users)
		return NULL;

	WRITE_ONCE(s->dev, NULL);
	xa_for_each(&s->pages, pfn, entry) {
		/* a release may race us to it: whoever erases it unmaps */
		if (xa_erase_bh(&s->pages, pfn) == entry)
			dma_unmap_page_attrs(dev, xa_to_value(entry), PAGE_SIZE,
					     s->dir, MP_DMA_ATTRS);
	}
	xa_destroy(&s->pages);
	return dev;
}

/**
 * mp_dma_set() - give a page handed to @pool its DMA address
 * @pool: the pool
 * @page: the page
 * @dma: its address for @pool's slot
 *
 * Syncs it for the device as page_pool's own allocation path does.
 *
 * Return: false if the address does not fit the page (32-bit).
 */
bool mp_dma_set(struct page_pool *pool, struct page *page, dma_addr_t dma)
{
	if (WARN_ONCE(page_pool_set_dma_addr(page, dma),
		      "unexpected DMA address, please report to netdev@"))
		return false;
	if (pool->dma_sync)
		dma_sync_single_for_device(pool->p.dev, dma + pool->p.offset,
					   pool->p.max_len, pool->p.dma_dir);
	return true;
}

/* Remember a page mapped on its own, for the slot's last scrub. */
static noinline int mp_dma_track(struct mp_dma_slot *s, struct page *page,
				 dma_addr_t dma)
{
	return xa_insert_bh(&s->pages, page_to_pfn(page), xa_mk_value(dma),
			    GFP_ATOMIC);
}
ALLOW_ERROR_INJECTION(mp_dma_track, ERRNO);

/**
 * mp_dma_map_page() - map a page on its own for @pool
 * @d: the provider's slots
 * @slot: @pool's slot
 * @pool: the pool it is handed to
 * @page: the page
 *
 * Any context (GFP_ATOMIC tracking).
 *
 * Return: true if mapped, tracked and its address set.
 */
bool mp_dma_map_page(struct mp_dma *d, int slot, struct page_pool *pool,
		     struct page *page)
{
	struct mp_dma_slot *s = &d->slot[slot];
	dma_addr_t dma;

	dma = dma_map_page_attrs(pool->p.dev, page, 0, PAGE_SIZE,
				 pool->p.dma_dir, MP_DMA_ATTRS);
	if (dma_mapping_error(pool->p.dev, dma))
		return false;
	if (WARN_ON_ONCE(dma > LONG_MAX >> 1) ||
	    mp_dma_track(s, page, dma))
		goto unmap;
	if (mp_dma_set(pool, page, dma))
		return true;
	xa_erase_bh(&s->pages, page_to_pfn(page));
unmap:
	dma_unmap_page_attrs(pool->p.dev, dma, PAGE_SIZE, pool->p.dma_dir,
			     MP_DMA_ATTRS);
	return false;
}

/**
 * mp_dma_unmap_page() - unmap a page mapped on its own as it leaves @pool
 * @d: the provider's slots
 * @pool: the pool
 * @page: the page
 *
 * Nothing to do if @pool's slot died meanwhile: its last scrub unmapped
 * the page. Any context.
 */
void mp_dma_unmap_page(struct mp_dma *d, struct page_pool *pool,
		       struct page *page)
{
	int slot = mp_dma_slot_find(d, pool);
	void *entry;

	if (slot >= 0) {
		entry = xa_erase_bh(&d->slot[slot].pages, page_to_pfn(page));
		if (entry)
			dma_unmap_page_attrs(pool->p.dev, xa_to_value(entry),
					     PAGE_SIZE, pool->p.dma_dir,
					     MP_DMA_ATTRS);
	}
	page_pool_set_dma_addr(page, 0);
}
