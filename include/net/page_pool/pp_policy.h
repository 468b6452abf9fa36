/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recycling policies for page pool memory providers.
 *
 * A memory provider that owns a reservation of pages (the hugepage
 * provider) keeps its free pages in a store that a policy implements: the
 * policy decides which free netmem goes out next and which released netmem
 * is kept. Policies are chosen per binding (per rx queue, hence per page
 * pool) by name and registered like TCP congestion control
 * (net/ipv4/tcp_cong.c).
 *
 * A policy stores netmem references and nothing else. It never touches
 * page_pool state (pp info, hold counts, DMA addresses): the provider does,
 * which is why policies can be modules while providers are built in.
 *
 * Contexts: get() and put() run in NAPI (softirq) context, in process
 * context with BH enabled (ring fill, recvmsg freeing an skb, page_pool's
 * release worker) and concurrently for several pools of one binding; never
 * in hardirq. drain() and count() run in process context; create() and
 * destroy() in process context and may sleep.
 */
#ifndef _NET_PAGE_POOL_PP_POLICY_H
#define _NET_PAGE_POOL_PP_POLICY_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/netmem.h>

#define PP_POLICY_NAME_MAX	16

struct netlink_ext_ack;

/* Which fields of struct pp_policy_params are set */
#define PP_POLICY_BUDGET	BIT(0)
#define PP_POLICY_MAGAZINE	BIT(1)
#define PP_POLICY_DEPOT		BIT(2)

/**
 * struct pp_policy_params - what an administrator may tune per binding
 * @set:	PP_POLICY_* bits of the fields that are set; the others keep
 *		the policy's default (a zeroed struct asks for defaults)
 * @budget:	budget policy: free pages kept at most (0: none)
 * @magazine:	per-CPU policy: netmem per per-CPU magazine
 * @depot:	per-CPU policy: full magazines kept in the shared depot
 *
 * A policy reads the fields it knows and ignores the others.
 */
struct pp_policy_params {
	u32 set;
	u32 budget;
	u32 magazine;
	u32 depot;
};

/**
 * struct pp_policy_ops - a recycling policy
 * @list:	registry linkage, owned by the registry
 * @name:	what users select it by (sysctl, netlink, debugfs)
 * @owner:	module that implements it, pinned while a store exists
 * @create:	allocate a store for a binding whose pages sit on @nid;
 *		@capacity is the most distinct netmem the provider will
 *		ever have in the store at once: the store takes that many
 *		without allocating, and holds no more
 * @destroy:	free an empty store
 * @get:	take up to @n free netmem out of the store into @netmems, the
 *		one to hand out first last; returns how many. Hot path.
 * @put:	offer a released netmem (refcount 1, pp info clear); return
 *		false to give it back to the provider. Hot path.
 * @put_bulk:	offer @n released netmem at once (optional; the provider
 *		calls put() for each otherwise); keep them in order while
 *		there is room and return how many were kept: the provider
 *		takes back the rest, @netmems[ret..n-1]
 * @drain:	take up to @n netmem out, wherever in the store they sit
 *		(per-CPU caches included); process context. Used to tear
 *		down a binding and to find huge pages whose pages are all home.
 *		Draining @capacity empties the store.
 * @count:	free netmem in the store, for statistics (may be approximate
 *		while get() and put() run)
 * @update:	apply the set fields of new parameters to a live store
 *		(optional); takes effect at the next put()
 * @params:	the PP_POLICY_* parameters it takes; others are refused
 * @validate:	check the values of parameters (optional); called before
 *		create() and update(), which may then not fail for them
 *
 * get() and put() must be safe against each other on any CPU and against
 * drain(); policies keep their own locking and document it at the top of
 * their file.
 */
struct pp_policy_ops {
	struct list_head list;
	char name[PP_POLICY_NAME_MAX];
	struct module *owner;

	void *(*create)(const struct pp_policy_params *params, int nid,
			unsigned long capacity);
	void (*destroy)(void *store);
	unsigned int (*get)(void *store, netmem_ref *netmems, unsigned int n);
	bool (*put)(void *store, netmem_ref netmem);
	unsigned int (*put_bulk)(void *store, const netmem_ref *netmems,
				 unsigned int n);
	unsigned int (*drain)(void *store, netmem_ref *netmems,
			      unsigned int n);
	unsigned long (*count)(void *store);
	int (*update)(void *store, const struct pp_policy_params *params);
	u32 params;
	int (*validate)(const struct pp_policy_params *params,
			struct netlink_ext_ack *extack);
};

/* Offer @n netmem to @ops' store: its put_bulk() or a put() each; returns
 * how many it kept, the first ones.
 */
static inline unsigned int pp_policy_put_bulk(const struct pp_policy_ops *ops,
					      void *store,
					      const netmem_ref *netmems,
					      unsigned int n)
{
	unsigned int i;

	if (ops->put_bulk)
		return ops->put_bulk(store, netmems, n);
	for (i = 0; i < n; i++)
		if (!ops->put(store, netmems[i]))
			break;
	return i;
}

int pp_policy_register(struct pp_policy_ops *ops);
void pp_policy_unregister(struct pp_policy_ops *ops);
const struct pp_policy_ops *pp_policy_get(const char *name);
const struct pp_policy_ops *pp_policy_get_default(void);
void pp_policy_put(const struct pp_policy_ops *ops);
void pp_policy_get_available(char *buf, size_t maxlen);
int pp_policy_check_params(const struct pp_policy_ops *ops,
			   const struct pp_policy_params *params,
			   struct netlink_ext_ack *extack);

/**
 * struct pp_netmem_stack - the store building block shared by policies
 * @count:	netmem on the stack
 * @size:	slots in @slots
 * @slots:	netmem references, most recent last
 *
 * A bounded LIFO array of netmem references with bulk push and pop. It
 * does no locking of its own: the policy that embeds it says what
 * protects it.
 */
struct pp_netmem_stack {
	unsigned int count;
	unsigned int size;
	netmem_ref *slots;
};

int pp_netmem_stack_init(struct pp_netmem_stack *s, unsigned int size,
			 int nid);
void pp_netmem_stack_free(struct pp_netmem_stack *s);

static inline bool pp_netmem_stack_push(struct pp_netmem_stack *s,
					netmem_ref netmem)
{
	if (unlikely(s->count == s->size))
		return false;
	s->slots[s->count++] = netmem;
	return true;
}

/* Pop the top @n (at most) into @out, in stack order: the most recently
 * pushed ends up last, where page_pool's alloc cache hands out first.
 */
static inline unsigned int pp_netmem_stack_pop_bulk(struct pp_netmem_stack *s,
						    netmem_ref *out,
						    unsigned int n)
{
	n = min(n, s->count);
	s->count -= n;
	memcpy(out, &s->slots[s->count], n * sizeof(*out));
	return n;
}

/* Push up to @n from @in, in order, while there is room; returns how many. */
static inline unsigned int pp_netmem_stack_push_bulk(struct pp_netmem_stack *s,
						     const netmem_ref *in,
						     unsigned int n)
{
	n = min(n, s->size - s->count);
	memcpy(&s->slots[s->count], in, n * sizeof(*in));
	s->count += n;
	return n;
}

/*
 * A store lock taken from get() and put(): in softirq (NAPI, the common
 * case) BH is already off, so only process context pays for disabling it,
 * as page_pool's ptr_ring producer lock does. Returns whether BH was
 * disabled, for pp_policy_unlock().
 */
static inline bool pp_policy_lock(spinlock_t *lock)
	__acquires(lock)
{
	bool bh = !in_softirq();

	if (bh)
		spin_lock_bh(lock);
	else
		spin_lock(lock);
	return bh;
}

static inline void pp_policy_unlock(spinlock_t *lock, bool bh)
	__releases(lock)
{
	if (bh)
		spin_unlock_bh(lock);
	else
		spin_unlock(lock);
}

#endif /* _NET_PAGE_POOL_PP_POLICY_H */
