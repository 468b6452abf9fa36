// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU recycling policy: magazines of free netmem per CPU in front of a
 * shared depot (Bonwick and Adams, "Magazines and Vmem", USENIX 2001; the
 * kernel's kernel/bpf/memalloc.c keeps per-CPU free lists with watermarks
 * the same way).
 *
 * Each CPU holds two magazines, "loaded" and "prev". A release on a CPU
 * goes into its loaded magazine without touching anything another CPU
 * uses; when it is full and prev is empty the two are swapped, otherwise
 * the full one goes to the depot in exchange for an empty one. A refill
 * takes from the loaded magazine, swaps with prev, or exchanges its empty
 * magazine for a full one from the depot: magazines move whole, so the
 * shared lock is taken once per magazine, not once per netmem. A refill
 * asking for a magazine's worth gets a full magazine copied out at once.
 *
 * Where it earns its keep: releases reach a provider only on ring overflow,
 * destroy, NUMA waive and extra references, and page_pool's own ptr_ring
 * absorbs cross-CPU frees. One binding serving several queues whose NAPIs
 * run on different CPUs, and release bursts, contend on a LIFO's single
 * lock; here each CPU works in its own magazines.
 *
 * All magazines are allocated with the store, enough for its capacity, so
 * nothing allocates on the data path. The depot keeps at most "depot" full
 * magazines for puts; beyond that a release is declined (the provider
 * parks the page). Magazines of a CPU that goes offline, and of every CPU
 * when the store is drained, are poured into the depot's one partly filled
 * magazine, so the depot never holds more than one magazine that is not
 * full: the magazines a store needs are bounded by its capacity, however
 * often CPUs are flushed.
 *
 * Locking:
 *   pcpu->lock	local_lock_nested_bh(), taken with BH disabled (already so
 *		in softirq; get() and put() disable it in process context):
 *		the CPU's magazines. local_lock alone would not keep a
 *		same-CPU softirq out of a process-context put.
 *   depot_lock	spin_lock_bh: the full and empty lists. Nests inside
 *		pcpu->lock, never the other way round.
 * A dead CPU's magazines are reached from the hotplug callback, and every
 * CPU's from a work item running on that CPU, so no CPU ever takes another
 * CPU's local lock.
 */

#include <linux/error-injection.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/local_lock.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/netlink.h>
#include <net/page_pool/pp_policy.h>

#define PP_PCPU_MAGAZINE	64
#define PP_PCPU_MAGAZINE_MAX	1024
#define PP_PCPU_DEPOT		64
#define PP_PCPU_DEPOT_MAX	65536

struct pp_magazine {
	struct list_head node;		/* depot list, depot_lock */
	struct pp_netmem_stack stack;
};

struct pp_percpu;

struct pp_pcpu_cache {
	local_lock_t lock;
	struct pp_magazine *loaded;	/* lock */
	struct pp_magazine *prev;	/* lock */
	struct pp_percpu *store;
	struct work_struct flush;
};

struct pp_percpu {
	struct pp_pcpu_cache __percpu *cpu;
	unsigned int magazine;		/* netmem per magazine */
	unsigned int depot_max;		/* READ_ONCE: full magazines kept */

	spinlock_t depot_lock;		/* the lists below, BH */
	struct list_head full;		/* depot_lock; full magazines */
	struct list_head empty;		/* depot_lock */
	struct pp_magazine *partial;	/* depot_lock; partly filled, or NULL */
	unsigned int nr_full;		/* depot_lock */
	unsigned long depot_count;	/* netmem in full and partial */

	struct pp_magazine *mags;	/* all of them, for destroy */
	unsigned int nr_mags;
	struct hlist_node cpuhp;
};

static enum cpuhp_state pp_percpu_cpuhp;

/*** depot ***/

static struct pp_magazine *pp_depot_take_empty(struct pp_percpu *p)
{
	struct pp_magazine *mag;

	lockdep_assert_held(&p->depot_lock);
	mag = list_first_entry_or_null(&p->empty, struct pp_magazine, node);
	if (mag)
		list_del(&mag->node);
	return mag;
}

/* Trade empty @mag for a full magazine, or the partly filled one; NULL if
 * the depot holds nothing.
 */
static struct pp_magazine *pp_depot_get_full(struct pp_percpu *p,
					     struct pp_magazine *mag)
{
	struct pp_magazine *full;

	spin_lock_bh(&p->depot_lock);
	full = list_first_entry_or_null(&p->full, struct pp_magazine, node);
	if (full) {
		list_del(&full->node);
		p->nr_full--;
	} else if (p->partial && p->partial->stack.count) {
		full = p->partial;
		p->partial = NULL;
	}
	if (full) {
		p->depot_count -= full->stack.count;
		list_add(&mag->node, &p->empty);
	}
	spin_unlock_bh(&p->depot_lock);
	return full;
}

/* Trade full @mag for an empty magazine; NULL when the depot is at its
 * bound.
 */
static struct pp_magazine *pp_depot_put_full(struct pp_percpu *p,
					     struct pp_magazine *mag)
{
	struct pp_magazine *empty = NULL;

	spin_lock_bh(&p->depot_lock);
	if (p->nr_full < READ_ONCE(p->depot_max))
		empty = pp_depot_take_empty(p);
	if (empty) {
		list_add_tail(&mag->node, &p->full);
		p->nr_full++;
		p->depot_count += mag->stack.count;
	}
	spin_unlock_bh(&p->depot_lock);
	return empty;
}

/* Pour @mag into the depot's partly filled magazine, moving it to the full
 * ones whenever it fills up. Caller holds depot_lock. The store holds at
 * most its capacity in netmem, so with one partial magazine the depot
 * needs at most capacity / magazine + 1 magazines, which
 * pp_percpu_alloc_mags() provides beside the CPUs' own.
 */
static void pp_depot_pour(struct pp_percpu *p, struct pp_magazine *mag)
{
	struct pp_netmem_stack *from = &mag->stack, *to;
	unsigned int n;

	lockdep_assert_held(&p->depot_lock);
	while (from->count) {
		if (!p->partial) {
			p->partial = pp_depot_take_empty(p);
			if (WARN_ON_ONCE(!p->partial))
				return;
		}
		to = &p->partial->stack;
		n = pp_netmem_stack_pop_bulk(from, &to->slots[to->count],
					     to->size - to->count);
		to->count += n;
		p->depot_count += n;
		if (to->count == to->size) {
			list_add_tail(&p->partial->node, &p->full);
			p->nr_full++;
			p->partial = NULL;
		}
	}
}

/* Hand a CPU's magazines to the depot, whatever they hold. */
static void pp_depot_absorb(struct pp_percpu *p, struct pp_pcpu_cache *c)
{
	spin_lock_bh(&p->depot_lock);
	pp_depot_pour(p, c->loaded);
	pp_depot_pour(p, c->prev);
	spin_unlock_bh(&p->depot_lock);
}

/*** the ops ***/

static unsigned int pp_percpu_get(void *store, netmem_ref *netmems,
				  unsigned int n)
{
	struct pp_percpu *p = store;
	bool bh = !in_softirq();
	struct pp_magazine *full;
	struct pp_pcpu_cache *c;
	unsigned int got = 0;

	if (bh)
		local_bh_disable();
	local_lock_nested_bh(&p->cpu->lock);
	c = this_cpu_ptr(p->cpu);
	while (got < n) {
		if (!c->loaded->stack.count) {
			if (c->prev->stack.count) {
				swap(c->loaded, c->prev);
			} else {
				full = pp_depot_get_full(p, c->loaded);
				if (!full)
					break;
				c->loaded = full;
			}
		}
		got += pp_netmem_stack_pop_bulk(&c->loaded->stack,
						netmems + got, n - got);
	}
	local_unlock_nested_bh(&p->cpu->lock);
	if (bh)
		local_bh_enable();
	return got;
}

/* Room in this CPU's loaded magazine: the empty previous one, or a full
 * one traded in the depot for an empty one. Caller holds the CPU's lock.
 */
static bool pp_percpu_room(struct pp_percpu *p, struct pp_pcpu_cache *c)
{
	struct pp_magazine *empty;

	if (likely(c->loaded->stack.count < c->loaded->stack.size))
		return true;
	if (!c->prev->stack.count) {
		swap(c->loaded, c->prev);
		return true;
	}
	empty = pp_depot_put_full(p, c->loaded);
	if (!empty)
		return false;
	c->loaded = empty;
	return true;
}

static bool pp_percpu_put(void *store, netmem_ref netmem)
{
	struct pp_percpu *p = store;
	bool bh = !in_softirq(), kept;
	struct pp_pcpu_cache *c;

	if (bh)
		local_bh_disable();
	local_lock_nested_bh(&p->cpu->lock);
	c = this_cpu_ptr(p->cpu);
	kept = pp_percpu_room(p, c);
	if (kept)
		pp_netmem_stack_push(&c->loaded->stack, netmem);
	local_unlock_nested_bh(&p->cpu->lock);
	if (bh)
		local_bh_enable();
	return kept;
}

static unsigned int pp_percpu_put_bulk(void *store, const netmem_ref *netmems,
				       unsigned int n)
{
	struct pp_percpu *p = store;
	bool bh = !in_softirq();
	struct pp_pcpu_cache *c;
	unsigned int kept = 0;

	if (bh)
		local_bh_disable();
	local_lock_nested_bh(&p->cpu->lock);
	c = this_cpu_ptr(p->cpu);
	while (kept < n && pp_percpu_room(p, c))
		kept += pp_netmem_stack_push_bulk(&c->loaded->stack,
						  netmems + kept, n - kept);
	local_unlock_nested_bh(&p->cpu->lock);
	if (bh)
		local_bh_enable();
	return kept;
}

static void pp_percpu_flush_fn(struct work_struct *work)
{
	struct pp_pcpu_cache *c = container_of(work, struct pp_pcpu_cache,
					       flush);

	local_bh_disable();
	local_lock_nested_bh(&c->store->cpu->lock);
	pp_depot_absorb(c->store, this_cpu_ptr(c->store->cpu));
	local_unlock_nested_bh(&c->store->cpu->lock);
	local_bh_enable();
}

/* Every online CPU moves its magazines to the depot, in a work item on that
 * CPU; offline CPUs did at hotplug.
 */
static void pp_percpu_flush_all(struct pp_percpu *p)
{
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		queue_work_on(cpu, system_highpri_wq,
			      &per_cpu_ptr(p->cpu, cpu)->flush);
	for_each_online_cpu(cpu)
		flush_work(&per_cpu_ptr(p->cpu, cpu)->flush);
	cpus_read_unlock();
}

static unsigned int pp_percpu_drain(void *store, netmem_ref *netmems,
				    unsigned int n)
{
	struct pp_percpu *p = store;
	struct pp_magazine *mag, *tmp;
	unsigned int got = 0, k;

	pp_percpu_flush_all(p);

	spin_lock_bh(&p->depot_lock);
	list_for_each_entry_safe(mag, tmp, &p->full, node) {
		if (got == n)
			break;
		k = pp_netmem_stack_pop_bulk(&mag->stack, netmems + got,
					     n - got);
		got += k;
		p->depot_count -= k;
		if (!mag->stack.count) {
			list_move(&mag->node, &p->empty);
			p->nr_full--;
		} else {
			/* partly drained: it is the partial one now */
			list_del(&mag->node);
			p->nr_full--;
			pp_depot_pour(p, mag);
			list_add(&mag->node, &p->empty);
		}
	}
	if (got < n && p->partial) {
		k = pp_netmem_stack_pop_bulk(&p->partial->stack, netmems + got,
					     n - got);
		got += k;
		p->depot_count -= k;
	}
	spin_unlock_bh(&p->depot_lock);
	return got;
}

static unsigned long pp_percpu_count(void *store)
{
	struct pp_percpu *p = store;
	/* a statistic, read while CPUs move netmem around */
	unsigned long n = data_race(READ_ONCE(p->depot_count));
	int cpu;

	for_each_possible_cpu(cpu) {
		struct pp_pcpu_cache *c = per_cpu_ptr(p->cpu, cpu);

		/* another CPU's magazines, unlocked: an estimate */
		n += data_race(READ_ONCE(c->loaded->stack.count));
		/* likewise */
		n += data_race(READ_ONCE(c->prev->stack.count));
	}
	return n;
}

static int pp_percpu_validate(const struct pp_policy_params *params,
			      struct netlink_ext_ack *extack)
{
	if ((params->set & PP_POLICY_MAGAZINE) &&
	    (!params->magazine || params->magazine > PP_PCPU_MAGAZINE_MAX)) {
		NL_SET_ERR_MSG_FMT(extack, "magazine must be 1 to %u",
				   PP_PCPU_MAGAZINE_MAX);
		return -EINVAL;
	}
	if ((params->set & PP_POLICY_DEPOT) &&
	    params->depot > PP_PCPU_DEPOT_MAX) {
		NL_SET_ERR_MSG_FMT(extack, "depot must be 0 to %u",
				   PP_PCPU_DEPOT_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Magazines are sized at creation: their size cannot change live. */
static int pp_percpu_update(void *store, const struct pp_policy_params *params)
{
	struct pp_percpu *p = store;

	if ((params->set & PP_POLICY_MAGAZINE) &&
	    params->magazine != p->magazine)
		return -EOPNOTSUPP;
	if (params->set & PP_POLICY_DEPOT)
		WRITE_ONCE(p->depot_max, params->depot);
	return 0;
}

static int pp_percpu_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct pp_percpu *p = hlist_entry(node, struct pp_percpu, cpuhp);

	/* the CPU is gone: nothing runs on its magazines any more */
	pp_depot_absorb(p, per_cpu_ptr(p->cpu, cpu));
	return 0;
}

static void pp_percpu_destroy(void *store)
{
	struct pp_percpu *p = store;
	unsigned int i;

	cpuhp_state_remove_instance_nocalls(pp_percpu_cpuhp, &p->cpuhp);
	for (i = 0; i < p->nr_mags; i++)
		pp_netmem_stack_free(&p->mags[i].stack);
	kvfree(p->mags);
	free_percpu(p->cpu);
	kfree(p);
}

/* Magazines for @capacity netmem: two held by each possible CPU, whatever
 * they hold; in the depot, as many full ones as @capacity fills, the
 * partial one, and one to trade while a full magazine changes hands.
 */
static int pp_percpu_alloc_mags(struct pp_percpu *p, unsigned long capacity,
				int nid)
{
	unsigned int i;

	p->nr_mags = DIV_ROUND_UP(capacity, p->magazine) +
		     2 * num_possible_cpus() + 2;
	p->mags = kvcalloc(p->nr_mags, sizeof(*p->mags), GFP_KERNEL);
	if (!p->mags)
		return -ENOMEM;
	for (i = 0; i < p->nr_mags; i++) {
		if (pp_netmem_stack_init(&p->mags[i].stack, p->magazine, nid))
			return -ENOMEM;
		list_add(&p->mags[i].node, &p->empty);
	}
	return 0;
}

static noinline void *pp_percpu_create(const struct pp_policy_params *params,
				       int nid, unsigned long capacity)
{
	struct pp_pcpu_cache *c;
	struct pp_percpu *p;
	int cpu;

	p = kzalloc_node(sizeof(*p), GFP_KERNEL, nid);
	if (!p)
		return NULL;
	p->magazine = PP_PCPU_MAGAZINE;
	if (params->set & PP_POLICY_MAGAZINE)
		p->magazine = params->magazine;
	p->depot_max = params->set & PP_POLICY_DEPOT ? params->depot :
						       PP_PCPU_DEPOT;
	spin_lock_init(&p->depot_lock);
	INIT_LIST_HEAD(&p->full);
	INIT_LIST_HEAD(&p->empty);
	INIT_HLIST_NODE(&p->cpuhp);

	p->cpu = alloc_percpu(struct pp_pcpu_cache);
	if (!p->cpu || pp_percpu_alloc_mags(p, capacity, nid))
		goto free;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(p->cpu, cpu);
		local_lock_init(&c->lock);
		c->store = p;
		INIT_WORK(&c->flush, pp_percpu_flush_fn);
		c->loaded = list_first_entry(&p->empty, struct pp_magazine, node);
		list_del(&c->loaded->node);
		c->prev = list_first_entry(&p->empty, struct pp_magazine, node);
		list_del(&c->prev->node);
	}
	if (cpuhp_state_add_instance_nocalls(pp_percpu_cpuhp, &p->cpuhp))
		goto free;
	return p;

free:
	if (p->mags) {
		int i;

		for (i = 0; i < p->nr_mags; i++)
			kvfree(p->mags[i].stack.slots);
		kvfree(p->mags);
	}
	free_percpu(p->cpu);
	kfree(p);
	return NULL;
}

ALLOW_ERROR_INJECTION(pp_percpu_create, NULL);

static struct pp_policy_ops pp_percpu_ops = {
	.name		= "percpu",
	.owner		= THIS_MODULE,
	.create		= pp_percpu_create,
	.destroy	= pp_percpu_destroy,
	.get		= pp_percpu_get,
	.put		= pp_percpu_put,
	.put_bulk	= pp_percpu_put_bulk,
	.drain		= pp_percpu_drain,
	.count		= pp_percpu_count,
	.update		= pp_percpu_update,
	.params		= PP_POLICY_MAGAZINE | PP_POLICY_DEPOT,
	.validate	= pp_percpu_validate,
};

static int __init pp_percpu_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN,
				      "net/pp_policy_percpu:dead", NULL,
				      pp_percpu_cpu_dead);
	if (ret < 0)
		return ret;
	pp_percpu_cpuhp = ret;

	ret = pp_policy_register(&pp_percpu_ops);
	if (ret)
		cpuhp_remove_multi_state(pp_percpu_cpuhp);
	return ret;
}

static void __exit pp_percpu_exit(void)
{
	pp_policy_unregister(&pp_percpu_ops);
	cpuhp_remove_multi_state(pp_percpu_cpuhp);
}

module_init(pp_percpu_init);
module_exit(pp_percpu_exit);
MODULE_ALIAS("pp-policy-percpu");
MODULE_DESCRIPTION("Per-CPU magazine recycling policy for page pool memory providers");
MODULE_LICENSE("GPL");
