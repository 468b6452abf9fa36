// SPDX-License-Identifier: GPL-2.0
/*
 * LIFO recycling policy: one stack per binding, the most recently released
 * netmem goes out first, while it is still hot in the CPU caches.
 *
 * Locking: lifo->lock protects the stack, taken with BH disabled
 * (pp_policy_lock()). get() and put() run in softirq and in process context
 * with BH enabled, for every pool of the binding on any CPU; nothing
 * allocates under the lock.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <net/page_pool/pp_policy.h>

struct pp_lifo {
	spinlock_t lock;			/* the stack; pp_policy_lock() */
	struct pp_netmem_stack stack;	/* protected by lock */
};

static void *pp_lifo_create(const struct pp_policy_params *params, int nid,
			    unsigned long capacity)
{
	struct pp_lifo *lifo;

	lifo = kzalloc_node(sizeof(*lifo), GFP_KERNEL, nid);
	if (!lifo)
		return NULL;

	spin_lock_init(&lifo->lock);
	if (pp_netmem_stack_init(&lifo->stack, capacity, nid)) {
		kfree(lifo);
		return NULL;
	}
	return lifo;
}

static void pp_lifo_destroy(void *store)
{
	struct pp_lifo *lifo = store;

	pp_netmem_stack_free(&lifo->stack);
	kfree(lifo);
}

static unsigned int pp_lifo_get(void *store, netmem_ref *netmems,
				unsigned int n)
{
	struct pp_lifo *lifo = store;
	bool bh = pp_policy_lock(&lifo->lock);

	n = pp_netmem_stack_pop_bulk(&lifo->stack, netmems, n);
	pp_policy_unlock(&lifo->lock, bh);
	return n;
}

static bool pp_lifo_put(void *store, netmem_ref netmem)
{
	struct pp_lifo *lifo = store;
	bool bh = pp_policy_lock(&lifo->lock);
	bool kept;

	kept = pp_netmem_stack_push(&lifo->stack, netmem);
	pp_policy_unlock(&lifo->lock, bh);
	return kept;
}

static unsigned int pp_lifo_put_bulk(void *store, const netmem_ref *netmems,
				     unsigned int n)
{
	struct pp_lifo *lifo = store;
	bool bh = pp_policy_lock(&lifo->lock);

	n = pp_netmem_stack_push_bulk(&lifo->stack, netmems, n);
	pp_policy_unlock(&lifo->lock, bh);
	return n;
}

static unsigned int pp_lifo_drain(void *store, netmem_ref *netmems,
				  unsigned int n)
{
	return pp_lifo_get(store, netmems, n);
}

static unsigned long pp_lifo_count(void *store)
{
	struct pp_lifo *lifo = store;

	return READ_ONCE(lifo->stack.count);
}

static struct pp_policy_ops pp_lifo_ops = {
	.name		= "lifo",
	.owner		= THIS_MODULE,
	.create		= pp_lifo_create,
	.destroy	= pp_lifo_destroy,
	.get		= pp_lifo_get,
	.put		= pp_lifo_put,
	.put_bulk	= pp_lifo_put_bulk,
	.drain		= pp_lifo_drain,
	.count		= pp_lifo_count,
};

static int __init pp_lifo_init(void)
{
	return pp_policy_register(&pp_lifo_ops);
}

static void __exit pp_lifo_exit(void)
{
	pp_policy_unregister(&pp_lifo_ops);
}

module_init(pp_lifo_init);
module_exit(pp_lifo_exit);
MODULE_ALIAS("pp-policy-lifo");
MODULE_DESCRIPTION("LIFO recycling policy for page pool memory providers");
MODULE_LICENSE("GPL");
