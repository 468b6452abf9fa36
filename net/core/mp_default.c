// SPDX-License-Identifier: GPL-2.0
/*
 * Default memory provider for rx queues, per network namespace, by sysctl.
 *
 * net.core.mp_default names the provider that a page pool created for an
 * rx queue (PP_FLAG_RX_QUEUE) gets when nothing is bound to the queue:
 * "none" (the page allocator), "huge" (net.core.mp_huge_blocks and
 * mp_huge_max_blocks per queue; a worker reserves the huge pages, and the
 * pool is served from the page allocator until they are there) or "cap"
 * (net.core.mp_cap_pages per queue, mp_cap_device_pages shared by the
 * queues of a device, 0 for no device budget). The same values are what
 * mp-bind requests leave out. The queue's binding is made when its first
 * such pool is created, under RTNL.
 *
 * Each network namespace has its own defaults, and a new one starts with
 * "none": a container that makes devices pins nothing unless its own
 * defaults say so. Only CAP_NET_ADMIN in the initial user namespace may
 * change them (pinning memory is the host's decision): a namespace owned
 * by another user namespace sees them read-only. What all hugepage
 * bindings together may reserve is bounded machine-wide by
 * net.core.mp_huge_limit_mb, in the initial namespace only.
 *
 * Every write of a default starts a new generation. A queue whose default
 * binding is of an older generation gets a new one (or none) at its next
 * pool creation; pools already created keep theirs until they are
 * destroyed. Bindings made over netlink are never replaced.
 *
 * Bad values are refused with -EINVAL and change nothing: a number is
 * one whole u32 in one write, and a write that does not start at offset
 * 0 (the rest of a value, or a second one on the same open file) is
 * refused.
 *
 * Locking: writers hold RTNL and bump a seqcount around the change;
 * readers (pool creation under RTNL, mp-bind without it) retry on it, so
 * they see one generation's values, never a mix of two.
 */

#define pr_fmt(fmt) "mp_default: " fmt

#include <kunit/visibility.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netdev_rx_queue.h>
#include <net/netns/generic.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_cap.h>
#include <net/page_pool/mp_huge.h>
#include <uapi/linux/netdev.h>

#include "mp_core.h"
#include "mp_kunit.h"

struct mp_default_net {
	seqcount_t seq;			/* writers: RTNL, preemption off */
	struct mp_defaults d;
	struct ctl_table_header *hdr;
};

static unsigned int mp_default_net_id;

/* What net.core.mp_default says, and the provider it names. */
static const struct {
	const char *name;
	u32 provider;
} mp_default_names[] = {
	{ "none", 0 },
	{ "huge", NETDEV_MP_TYPE_HUGE },
	{ "cap", NETDEV_MP_TYPE_CAP },
};

static const struct mp_defaults mp_defaults_initial = {
	.provider	  = 0,
	.huge_blocks	  = 4,
	.huge_max_blocks  = 16,
	.cap_pages	  = 1024,
	.cap_device_pages = 0,
	.gen		  = 1,
};

/* net.core.mp_huge_limit_mb, in MiB; set at boot to an eighth of RAM */
static u32 mp_huge_limit_mb;

static struct mp_default_net *mp_default_net(const struct net *net)
{
	return net_generic(net, mp_default_net_id);
}

/**
 * mp_defaults_get() - a namespace's defaults
 * @net: the namespace
 * @d: its defaults, all of one generation
 *
 * Any context that may sleep; RTNL or not.
 */
void mp_defaults_get(const struct net *net, struct mp_defaults *d)
{
	struct mp_default_net *dn = mp_default_net(net);
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&dn->seq);
		*d = dn->d;
	} while (read_seqcount_retry(&dn->seq, seq));
}

/**
 * mp_default_install() - give an rx queue its namespace's default provider
 * @rxq: the queue a page pool is being created for
 *
 * Called by page_pool_init() for pools with PP_FLAG_RX_QUEUE that a
 * provider could serve, before it looks at the queue's provider. Failure
 * leaves the queue without a provider: the pool uses the page allocator.
 * Caller holds RTNL.
 */
void mp_default_install(struct netdev_rx_queue *rxq)
{
	unsigned int idx = get_netdev_rx_queue_index(rxq);
	const struct mp_type *type;
	struct mp_binding *mb;
	struct mp_defaults d;
	int err;

	ASSERT_RTNL();
	mp_defaults_get(dev_net(rxq->dev), &d);

	if (rxq->mp_params.mp_ops) {
		mb = mp_binding_rxq(rxq);
		/* another provider, a binding made over netlink, or current */
		if (!mb || !mb->default_gen || mb->default_gen == d.gen)
			return;
		if (mb->nr_queues == 1)
			mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_DEL_NTF);
		mp_binding_unbind_queue(rxq);
	}

	type = mp_type_find(d.provider);
	if (!type)
		return;
	mb = type->create(rxq->dev, NULL, NULL);
	if (IS_ERR(mb)) {
		err = PTR_ERR(mb);
		goto warn;
	}
	mb->default_gen = d.gen;
	err = mp_binding_bind_queue(mb, rxq->dev, idx, NULL);
	if (!err)
		mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_ADD_NTF);
	mp_binding_put(mb);
	if (!err)
		return;
warn:
	pr_warn_ratelimited("%s: rx queue %u keeps the page allocator: %d\n",
			    netdev_name(rxq->dev), idx, err);
}

/* Publish @d as the next generation. Caller holds RTNL. */
static void mp_default_commit(struct mp_default_net *dn,
			      const struct mp_defaults *d)
{
	ASSERT_RTNL();
	preempt_disable();
	write_seqcount_begin(&dn->seq);
	dn->d = *d;
	dn->d.gen = d->gen + 1 ?: 1;
	write_seqcount_end(&dn->seq);
	preempt_enable();
}

/* A reservation the machine can never grant is a mistake, not a wish. */
static bool mp_default_blocks_fit(u32 blocks)
{
	return (u64)blocks << MP_HUGE_SHIFT <=
	       ((u64)totalram_pages() << PAGE_SHIFT) / 2;
}

static int mp_default_check(const struct mp_defaults *d)
{
	if (d->provider && !mp_type_find(d->provider))
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

static const char *mp_default_name(u32 provider)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mp_default_names); i++)
		if (mp_default_names[i].provider == provider)
			return mp_default_names[i].name;
	return "?";
}

/* One provider name in one write, an optional newline after it, nothing
 * else (no NUL, no second word).
 */
static int mp_default_parse_provider(const char *buffer, size_t len,
				     u32 *provider)
{
	unsigned int i;

	if (len && buffer[len - 1] == '\n')
		len--;
	for (i = 0; i < ARRAY_SIZE(mp_default_names); i++) {
		if (len == strlen(mp_default_names[i].name) &&
		    !memcmp(buffer, mp_default_names[i].name, len)) {
			*provider = mp_default_names[i].provider;
			return 0;
		}
	}
	return -EINVAL;
}

VISIBLE_IF_KUNIT int mp_default_provider_sysctl(const struct ctl_table *table,
						int write, void *buffer,
						size_t *lenp, loff_t *ppos)
{
	struct mp_default_net *dn = table->data;
	char name[32];
	struct ctl_table tbl = { .data = name, .maxlen = sizeof(name) };
	struct mp_defaults d;
	int err;

	/* a write continuing at an offset would apply half a value */
	if (write && *ppos)
		return -EINVAL;
	rtnl_lock();
	d = dn->d;
	if (!write) {
		strscpy(name, mp_default_name(d.provider), sizeof(name));
		err = proc_dostring(&tbl, write, buffer, lenp, ppos);
		goto out;
	}
	err = mp_default_parse_provider(buffer, *lenp, &d.provider) ?:
	      mp_default_check(&d);
	if (!err) {
		mp_default_commit(dn, &d);
		*ppos += *lenp;
	}
out:
	rtnl_unlock();
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_default_provider_sysctl);

/* A whole u32 in one write: no sign, no trailing junk, no second value
 * ("1 2"), and, since the file position moves past what was written, no
 * second write on the same open file ("1" then "6" is not 16, nor 6).
 */
static int mp_default_parse_u32(void *buffer, size_t len, u32 *val)
{
	char buf[24];

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, buffer, len);
	buf[len] = '\0';
	return kstrtou32(strim(buf), 0, val) ? -EINVAL : 0;
}

/* The u32 fields of struct mp_defaults, validated as a whole. */
VISIBLE_IF_KUNIT int mp_default_u32_sysctl(const struct ctl_table *table,
					   int write, void *buffer,
					   size_t *lenp, loff_t *ppos)
{
	size_t offset = (uintptr_t)table->extra1;
	struct mp_default_net *dn = table->data;
	struct ctl_table tbl = *table;
	struct mp_defaults d;
	u32 *val;
	int err;

	if (write && *ppos)
		return -EINVAL;
	rtnl_lock();
	d = dn->d;
	val = (u32 *)((char *)&d + offset);
	if (!write) {
		tbl.data = val;
		tbl.extra1 = NULL;
		tbl.extra2 = NULL;
		err = proc_douintvec(&tbl, write, buffer, lenp, ppos);
		goto out;
	}
	err = mp_default_parse_u32(buffer, *lenp, val) ?: mp_default_check(&d);
	if (!err) {
		mp_default_commit(dn, &d);
		*ppos += *lenp;
	}
out:
	rtnl_unlock();
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mp_default_u32_sysctl);

/* net.core.mp_huge_limit_mb: at most all of RAM. */
static int mp_default_limit_sysctl(const struct ctl_table *table, int write,
				   void *buffer, size_t *lenp, loff_t *ppos)
{
	u32 ram_mb = totalram_pages() >> (20 - PAGE_SHIFT);
	struct ctl_table tbl = *table;
	u32 val;
	int err;

	if (write && *ppos)
		return -EINVAL;
	rtnl_lock();
	val = mp_huge_limit_mb;
	if (!write) {
		tbl.data = &val;
		err = proc_douintvec(&tbl, write, buffer, lenp, ppos);
		goto out;
	}
	err = mp_default_parse_u32(buffer, *lenp, &val);
	if (!err && val > ram_mb)
		err = -EINVAL;
	if (!err) {
		mp_huge_limit_mb = val;
		if (IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE))
			mp_huge_set_limit(val / (SZ_2M >> 20));
		*ppos += *lenp;
	}
out:
	rtnl_unlock();
	return err;
}

#define MP_DEFAULT_U32(_name, _field) {				\
	.procname	= _name,					\
	.mode		= 0644,						\
	.maxlen		= sizeof(u32),					\
	.proc_handler	= mp_default_u32_sysctl,			\
	.extra1		= (void *)offsetof(struct mp_defaults, _field),	\
}

/* Every namespace's; the last entry is the initial namespace's only. */
VISIBLE_IF_KUNIT const struct ctl_table mp_default_sysctl_table[] = {
	{
		.procname	= "mp_default",
		.mode		= 0644,
		.maxlen		= 32,
		.proc_handler	= mp_default_provider_sysctl,
	},
	MP_DEFAULT_U32("mp_huge_blocks", huge_blocks),
	MP_DEFAULT_U32("mp_huge_max_blocks", huge_max_blocks),
	MP_DEFAULT_U32("mp_cap_pages", cap_pages),
	MP_DEFAULT_U32("mp_cap_device_pages", cap_device_pages),
	{
		.procname	= "mp_huge_limit_mb",
		.mode		= 0644,
		.maxlen		= sizeof(u32),
		.proc_handler	= mp_default_limit_sysctl,
	},
};
EXPORT_SYMBOL_IF_KUNIT(mp_default_sysctl_table);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * mp_default_table() - a namespace's registered sysctl table
 * @net: the namespace
 *
 * Return: its table, whose handlers act on @net's defaults (for KUnit;
 * nothing else uses it, so a kernel without KUnit has none).
 */
const struct ctl_table *mp_default_table(struct net *net)
{
	return mp_default_net(net)->hdr->ctl_table_arg;
}
EXPORT_SYMBOL_IF_KUNIT(mp_default_table);
#endif

static int __net_init mp_default_net_init(struct net *net)
{
	struct mp_default_net *dn = mp_default_net(net);
	size_t n = ARRAY_SIZE(mp_default_sysctl_table);
	struct ctl_table *tbl;
	unsigned int i;

	seqcount_init(&dn->seq);
	dn->d = mp_defaults_initial;

	tbl = kmemdup(mp_default_sysctl_table, sizeof(mp_default_sysctl_table),
		      GFP_KERNEL);
	if (!tbl)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		tbl[i].data = dn;
		/* pinning memory is the host's decision */
		if (net->user_ns != &init_user_ns)
			tbl[i].mode = 0444;
	}
	if (!net_eq(net, &init_net))
		n--;	/* the machine-wide limit */
	dn->hdr = register_net_sysctl_sz(net, "net/core", tbl, n);
	if (!dn->hdr) {
		kfree(tbl);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit mp_default_net_exit(struct net *net)
{
	struct mp_default_net *dn = mp_default_net(net);
	const struct ctl_table *tbl = dn->hdr->ctl_table_arg;

	unregister_net_sysctl_table(dn->hdr);
	kfree(tbl);
}

static struct pernet_operations mp_default_net_ops = {
	.init	= mp_default_net_init,
	.exit	= mp_default_net_exit,
	.id	= &mp_default_net_id,
	.size	= sizeof(struct mp_default_net),
};

static int __init mp_default_init(void)
{
	mp_huge_limit_mb = (totalram_pages() >> (20 - PAGE_SHIFT)) / 8;
	if (IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE))
		mp_huge_set_limit(mp_huge_limit_mb / (SZ_2M >> 20));
	return register_pernet_subsys(&mp_default_net_ops);
}
device_initcall(mp_default_init);
