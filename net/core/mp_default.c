// SPDX-License-Identifier: GPL-2.0
/*
 * Default memory provider for rx queues, chosen by sysctl.
 *
 * net.core.mp_default names the provider that a page pool created for an
 * rx queue (PP_FLAG_RX_QUEUE) gets when nothing is bound to the queue:
 * "none" (the page allocator), "huge" (net.core.mp_huge_blocks and
 * mp_huge_max_blocks per queue; the huge pages are reserved by a worker,
 * and the pool is served from the page allocator until they are there) or
 * "cap" (net.core.mp_cap_pages per queue, and mp_cap_device_pages shared
 * by the queues of a device, 0 for no device budget). The queue's binding
 * is made when its first such pool is created, under RTNL.
 *
 * Every write of a default starts a new generation. A queue whose default
 * binding is of an older generation gets a new one (or none) at its next
 * pool creation; pools already created keep theirs until they are
 * destroyed. Bindings made explicitly are never replaced. veth and
 * netdevsim create pools at link up, XDP attach and channel changes.
 *
 * Bad values are refused with -EINVAL and change nothing.
 *
 * Locking: mp_default_lock serialises writers; pool creation reads the
 * values under RTNL with READ_ONCE(), and sees one generation's values or
 * the next's, never a mix, since the generation is bumped last.
 */

#define pr_fmt(fmt) "mp_default: " fmt

#include <kunit/visibility.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_cap.h>
#include <net/page_pool/mp_huge.h>

#include "mp_kunit.h"

enum mp_default_provider {
	MP_DEFAULT_NONE,
	MP_DEFAULT_HUGE,
	MP_DEFAULT_CAP,
	MP_DEFAULT_NUM
};

static const char * const mp_default_names[MP_DEFAULT_NUM] = {
	[MP_DEFAULT_NONE]	= "none",
	[MP_DEFAULT_HUGE]	= "huge",
	[MP_DEFAULT_CAP]	= "cap",
};

struct mp_default {
	u32 provider;		/* enum mp_default_provider */
	u32 huge_blocks;
	u32 huge_max_blocks;
	u32 cap_pages;
	u32 cap_device_pages;
	u32 gen;		/* bumped by every write; never 0 */
};

static DEFINE_MUTEX(mp_default_lock);
static struct mp_default mp_default = {
	.provider	  = MP_DEFAULT_NONE,
	.huge_blocks	  = 4,
	.huge_max_blocks  = 16,
	.cap_pages	  = 1024,
	.cap_device_pages = 0,
	.gen		  = 1,
};

static bool mp_default_built(u32 provider)
{
	switch (provider) {
	case MP_DEFAULT_HUGE:
		return IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE);
	case MP_DEFAULT_CAP:
		return IS_ENABLED(CONFIG_PAGE_POOL_MP_CAP);
	default:
		return provider == MP_DEFAULT_NONE;
	}
}

static int mp_default_huge(const struct mp_default *d,
			   struct netdev_rx_queue *rxq)
{
	struct mp_huge_params p = {
		.blocks		= d->huge_blocks,
		.max_blocks	= d->huge_max_blocks,
		.nid		= dev_to_node(&rxq->dev->dev),
	};
	struct mp_huge_binding *b;
	int err;

	if (!IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE))
		return -EOPNOTSUPP;
	b = mp_huge_binding_create(&p, false, NULL);
	if (IS_ERR(b))
		return PTR_ERR(b);
	mp_huge_binding_set_default_gen(b, d->gen);
	err = mp_huge_bind_queue(b, rxq->dev, get_netdev_rx_queue_index(rxq),
				 NULL);
	mp_huge_binding_put(b);
	return err;
}

static int mp_default_cap(const struct mp_default *d,
			  struct netdev_rx_queue *rxq)
{
	struct mp_cap_params p = {
		.cap		= d->cap_pages,
		.device_budget	= d->cap_device_pages,
	};
	struct mp_cap_binding *b;
	int err;

	if (!IS_ENABLED(CONFIG_PAGE_POOL_MP_CAP))
		return -EOPNOTSUPP;
	b = mp_cap_binding_create(&p, rxq->dev, NULL);
	if (IS_ERR(b))
		return PTR_ERR(b);
	mp_cap_binding_set_default_gen(b, d->gen);
	err = mp_cap_bind_queue(b, rxq->dev, get_netdev_rx_queue_index(rxq),
				NULL);
	mp_cap_binding_put(b);
	return err;
}

/* The generation of the default binding on @rxq; 0 if it was bound
 * explicitly or by another provider.
 */
static u32 mp_default_gen_of(struct netdev_rx_queue *rxq)
{
	struct mp_huge_binding *hb;
	struct mp_cap_binding *cb;

	if (IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE)) {
		hb = mp_huge_rxq_binding(rxq);
		if (hb)
			return mp_huge_binding_default_gen(hb);
	}
	if (IS_ENABLED(CONFIG_PAGE_POOL_MP_CAP)) {
		cb = mp_cap_rxq_binding(rxq);
		if (cb)
			return mp_cap_binding_default_gen(cb);
	}
	return 0;
}

static void mp_default_uninstall(struct netdev_rx_queue *rxq)
{
	if (IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE) && mp_huge_rxq_binding(rxq))
		mp_huge_unbind_queue(rxq);
	else if (IS_ENABLED(CONFIG_PAGE_POOL_MP_CAP) && mp_cap_rxq_binding(rxq))
		mp_cap_unbind_queue(rxq);
}

/**
 * mp_default_install() - give an rx queue the default provider
 * @rxq: the queue a page pool is being created for
 *
 * Called by page_pool_init() for pools with PP_FLAG_RX_QUEUE that a
 * provider could serve, before it looks at the queue's provider. Failure
 * leaves the queue without a provider: the pool uses the page allocator.
 * Caller holds RTNL.
 */
void mp_default_install(struct netdev_rx_queue *rxq)
{
	struct mp_default d;
	u32 gen;
	int err;

	ASSERT_RTNL();

	d.gen = READ_ONCE(mp_default.gen);
	smp_rmb(); /* pairs with smp_wmb() in mp_default_commit() */
	d.provider = READ_ONCE(mp_default.provider);
	d.huge_blocks = READ_ONCE(mp_default.huge_blocks);
	d.huge_max_blocks = READ_ONCE(mp_default.huge_max_blocks);
	d.cap_pages = READ_ONCE(mp_default.cap_pages);
	d.cap_device_pages = READ_ONCE(mp_default.cap_device_pages);

	if (rxq->mp_params.mp_ops) {
		gen = mp_default_gen_of(rxq);
		if (!gen || gen == d.gen)
			return;
		mp_default_uninstall(rxq);
	}

	switch (d.provider) {
	case MP_DEFAULT_HUGE:
		err = mp_default_huge(&d, rxq);
		break;
	case MP_DEFAULT_CAP:
		err = mp_default_cap(&d, rxq);
		break;
	default:
		return;
	}
	if (err)
		pr_warn_ratelimited("%s: rx queue %u keeps the page allocator: %d\n",
				    netdev_name(rxq->dev),
				    get_netdev_rx_queue_index(rxq), err);
}

/* Publish @d as the next generation. Caller holds mp_default_lock. */
static void mp_default_commit(const struct mp_default *d)
{
	WRITE_ONCE(mp_default.provider, d->provider);
	WRITE_ONCE(mp_default.huge_blocks, d->huge_blocks);
	WRITE_ONCE(mp_default.huge_max_blocks, d->huge_max_blocks);
	WRITE_ONCE(mp_default.cap_pages, d->cap_pages);
	WRITE_ONCE(mp_default.cap_device_pages, d->cap_device_pages);
	smp_wmb(); /* values before the generation that announces them */
	WRITE_ONCE(mp_default.gen, mp_default.gen + 1 ?: 1);
}

/* A reservation the machine can never grant is a mistake, not a wish. */
static bool mp_default_blocks_fit(u32 blocks)
{
	return (u64)blocks << MP_HUGE_SHIFT <=
	       ((u64)totalram_pages() << PAGE_SHIFT) / 2;
}

static int mp_default_check(const struct mp_default *d)
{
	if (d->provider >= MP_DEFAULT_NUM || !mp_default_built(d->provider))
		return -EINVAL;
	if (!d->huge_max_blocks || d->huge_max_blocks > MP_HUGE_MAX_BLOCKS)
		return -EINVAL;
	if (d->huge_blocks > d->huge_max_blocks ||
	    !mp_default_blocks_fit(d->huge_blocks))
		return -EINVAL;
	if (d->cap_pages < MP_CAP_MIN_PAGES || d->cap_pages > MP_CAP_MAX_PAGES)
		return -EINVAL;
	if (d->cap_device_pages && (d->cap_device_pages < MP_CAP_MIN_PAGES ||
				    d->cap_device_pages > MP_CAP_MAX_PAGES))
		return -EINVAL;
	return 0;
}

VISIBLE_IF_KUNIT int mp_default_provider_sysctl(const struct ctl_table *table,
						int write, void *buffer,
						size_t *lenp, loff_t *ppos)
{
	char name[32];
	struct ctl_table tbl = { .data = name, .maxlen = sizeof(name) };
	struct mp_default d;
	int err;

	mutex_lock(&mp_default_lock);
	d = mp_default;
	strscpy(name, mp_default_names[d.provider], sizeof(name));
	err = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (!write || err)
		goto out;

	err = match_string(mp_default_names, MP_DEFAULT_NUM, name);
	if (err < 0) {
		err = -EINVAL;
		goto out;
	}
	d.provider = err;
	err = mp_default_check(&d);
	if (!err)
		mp_default_commit(&d);
out:
	mutex_unlock(&mp_default_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_default_provider_sysctl);

/* The u32 fields of struct mp_default, validated as a whole. */
VISIBLE_IF_KUNIT int mp_default_u32_sysctl(const struct ctl_table *table,
					   int write, void *buffer,
					   size_t *lenp, loff_t *ppos)
{
	size_t offset = (uintptr_t)table->extra1;
	struct ctl_table tbl = *table;
	struct mp_default d;
	u32 *val;
	int err;

	mutex_lock(&mp_default_lock);
	d = mp_default;
	val = (u32 *)((char *)&d + offset);
	tbl.data = val;
	tbl.extra1 = NULL;
	tbl.extra2 = NULL;
	err = proc_douintvec_minmax(&tbl, write, buffer, lenp, ppos);
	if (write && !err) {
		err = mp_default_check(&d);
		if (!err)
			mp_default_commit(&d);
	}
	mutex_unlock(&mp_default_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_default_u32_sysctl);

VISIBLE_IF_KUNIT struct ctl_table mp_default_sysctl_table[] = {
	{
		.procname	= "mp_default",
		.mode		= 0644,
		.maxlen		= 32,
		.proc_handler	= mp_default_provider_sysctl,
	},
	{
		.procname	= "mp_huge_blocks",
		.mode		= 0644,
		.maxlen		= sizeof(u32),
		.proc_handler	= mp_default_u32_sysctl,
		.extra1		= (void *)offsetof(struct mp_default, huge_blocks),
	},
	{
		.procname	= "mp_huge_max_blocks",
		.mode		= 0644,
		.maxlen		= sizeof(u32),
		.proc_handler	= mp_default_u32_sysctl,
		.extra1		= (void *)offsetof(struct mp_default,
						   huge_max_blocks),
	},
	{
		.procname	= "mp_cap_pages",
		.mode		= 0644,
		.maxlen		= sizeof(u32),
		.proc_handler	= mp_default_u32_sysctl,
		.extra1		= (void *)offsetof(struct mp_default, cap_pages),
	},
	{
		.procname	= "mp_cap_device_pages",
		.mode		= 0644,
		.maxlen		= sizeof(u32),
		.proc_handler	= mp_default_u32_sysctl,
		.extra1		= (void *)offsetof(struct mp_default,
						   cap_device_pages),
	},
};
EXPORT_SYMBOL_IF_KUNIT(mp_default_sysctl_table);

static int __init mp_default_init(void)
{
	if (!register_net_sysctl(&init_net, "net/core", mp_default_sysctl_table))
		return -ENOMEM;
	return 0;
}
device_initcall(mp_default_init);
