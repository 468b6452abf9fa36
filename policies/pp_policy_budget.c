// SPDX-License-Identifier: GPL-2.0
/*
 * Budget-limited recycling policy: keep at most "budget" free netmem, the
 * most recently released first out (LIFO).
 *
 * A release beyond the budget is declined: the provider parks the page in
 * its huge page, and a huge page all of whose pages are home and free goes
 * back to the page allocator whole (the hugepage provider's trim). So the
 * budget bounds what the binding keeps besides the pages in flight and
 * the huge pages they pin; budget=0 keeps nothing free. The budget can be
 * changed on a live binding and applies from the next release on.
 *
 * Locking: budget->lock protects the stack, taken with BH disabled
 * (pp_policy_lock()); get() and put() run in softirq and in process
 * context with BH enabled, on any CPU.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <net/page_pool/pp_policy.h>

/* 4 MiB of free pages by default */
#define PP_BUDGET_DEFAULT	(SZ_4M / PAGE_SIZE)

struct pp_budget {
	spinlock_t lock;		/* the stack; pp_policy_lock() */
	struct pp_netmem_stack stack;	/* lock */
	unsigned int budget;		/* READ_ONCE; written by update() */
};

static void *pp_budget_create(const struct pp_policy_params *params, int nid,
			      unsigned long capacity)
{
	struct pp_budget *b;

	b = kzalloc_node(sizeof(*b), GFP_KERNEL, nid);
	if (!b)
		return NULL;
	spin_lock_init(&b->lock);
	b->budget = params->set & PP_POLICY_BUDGET ? params->budget :
						     PP_BUDGET_DEFAULT;
	if (pp_netmem_stack_init(&b->stack, capacity, nid)) {
		kfree(b);
		return NULL;
	}
	return b;
}

static void pp_budget_destroy(void *store)
{
	struct pp_budget *b = store;

	pp_netmem_stack_free(&b->stack);
	kfree(b);
}

static unsigned int pp_budget_get(void *store, netmem_ref *netmems,
				  unsigned int n)
{
	struct pp_budget *b = store;
	bool bh = pp_policy_lock(&b->lock);

	n = pp_netmem_stack_pop_bulk(&b->stack, netmems, n);
	pp_policy_unlock(&b->lock, bh);
	return n;
}

static bool pp_budget_put(void *store, netmem_ref netmem)
{
	struct pp_budget *b = store;
	bool bh = pp_policy_lock(&b->lock);
	bool kept = false;

	if (b->stack.count < READ_ONCE(b->budget))
		kept = pp_netmem_stack_push(&b->stack, netmem);
	pp_policy_unlock(&b->lock, bh);
	return kept;
}

static unsigned int pp_budget_put_bulk(void *store, const netmem_ref *netmems,
				       unsigned int n)
{
	struct pp_budget *b = store;
	bool bh = pp_policy_lock(&b->lock);
	unsigned int budget = READ_ONCE(b->budget);

	if (b->stack.count < budget)
		n = pp_netmem_stack_push_bulk(&b->stack, netmems,
					      min(n, budget - b->stack.count));
	else
		n = 0;
	pp_policy_unlock(&b->lock, bh);
	return n;
}

static unsigned int pp_budget_drain(void *store, netmem_ref *netmems,
				    unsigned int n)
{
	return pp_budget_get(store, netmems, n);
}

static unsigned long pp_budget_count(void *store)
{
	struct pp_budget *b = store;

	return READ_ONCE(b->stack.count);
}

/* A lower budget does not evict what is kept: releases are declined until
 * refills bring the store under it.
 */
static int pp_budget_update(void *store, const struct pp_policy_params *params)
{
	struct pp_budget *b = store;

	if (params->set & PP_POLICY_BUDGET)
		WRITE_ONCE(b->budget, params->budget);
	return 0;
}

static struct pp_policy_ops pp_budget_ops = {
	.name		= "budget",
	.owner		= THIS_MODULE,
	.create		= pp_budget_create,
	.destroy	= pp_budget_destroy,
	.get		= pp_budget_get,
	.put		= pp_budget_put,
	.put_bulk	= pp_budget_put_bulk,
	.drain		= pp_budget_drain,
	.count		= pp_budget_count,
	.update		= pp_budget_update,
	.params		= PP_POLICY_BUDGET,
};

static int __init pp_budget_init(void)
{
	return pp_policy_register(&pp_budget_ops);
}

static void __exit pp_budget_exit(void)
{
	pp_policy_unregister(&pp_budget_ops);
}

module_init(pp_budget_init);
module_exit(pp_budget_exit);
MODULE_ALIAS("pp-policy-budget");
MODULE_DESCRIPTION("Budget-limited recycling policy for page pool memory providers");
MODULE_LICENSE("GPL");
