/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the page pool memory providers of readable pages share (the
 * hugepage and memory-cap providers): the binding object that netlink
 * names by id, the rx queues it is bound to, its lifetime, and their
 * workqueue. See net/core/mp_core.c.
 */
#ifndef _NET_CORE_MP_CORE_H
#define _NET_CORE_MP_CORE_H

#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct genl_info;
struct memory_provider_ops;
struct mp_binding;
struct net;
struct net_device;
struct netdev_rx_queue;
struct netlink_ext_ack;
struct nlattr;
struct page_pool;
struct sk_buff;

/* Growth, trims and binding teardowns of every provider. Not
 * WQ_MEM_RECLAIM: nothing here frees memory that reclaim waits for.
 */
extern struct workqueue_struct *mp_wq;

/**
 * struct mp_type - a kind of binding (a provider), as netlink sees it
 * @name:	what users call it ("huge", "cap")
 * @type:	its NETDEV_MP_TYPE_* value
 * @nest:	the NETDEV_A_MP_BINDING_* nest of its parameters and counters
 * @mp_ops:	the memory provider ops it installs on rx queues
 * @create:	a binding for rx queues of @dev from the @nest of a bind
 *		request (NULL: defaults); RTNL held. Returns it with one
 *		reference for the caller, or an ERR_PTR with @extack set.
 * @set:	change a live binding from the @nest of a set request, and
 *		give back what it can when @trim; RTNL held. Nothing changes
 *		on error.
 * @check_queues: optional; whether the binding can serve @n rx queues
 *		(mp-bind, before they are bound); RTNL held. Sets @extack.
 * @fill:	add the @nest of parameters and counters to a message
 * @free:	the last reference is gone: give everything back; process
 *		context (mp_wq)
 */
struct mp_type {
	const char *name;
	u32 type;
	u16 nest;
	const struct memory_provider_ops *mp_ops;
	struct mp_binding *(*create)(struct net_device *dev,
				     const struct nlattr *nest,
				     struct netlink_ext_ack *extack);
	int (*set)(struct mp_binding *mb, const struct nlattr *nest,
		   bool trim, struct netlink_ext_ack *extack);
	int (*check_queues)(struct mp_binding *mb, unsigned int n,
			    struct netlink_ext_ack *extack);
	int (*fill)(struct mp_binding *mb, struct sk_buff *rsp);
	void (*free)(struct mp_binding *mb);
};

/**
 * struct mp_binding - what every provider's binding starts with
 * @ref:	references: the rx queues bound to it, the page pools drawing
 *		from it, work queued for it, and whoever looked it up
 * @id:		what netlink names it by, unique among live bindings
 * @type:	its provider
 * @dev:	the device of its queues; RTNL, no reference: cleared when
 *		its last queue is unbound, at the latest when the device
 *		unregisters
 * @net:	@dev's namespace while it has one, for dumps and
 *		notifications; RTNL, no reference, never dereferenced
 * @queues:	rx queue index -> its struct netdev_rx_queue; marked
 *		MP_QUEUE_ACTIVE once a page pool of the queue draws from the
 *		binding; RTNL
 * @nr_queues:	entries in @queues; RTNL
 * @default_gen: non-zero for a binding made by a namespace's
 *		net.core.mp_default, the generation of those defaults
 * @free_work:	runs @type->free once the last reference is gone
 * @rcu:	providers free bindings after a grace period (lookups)
 *
 * A binding is operator configuration: it lives until it is unbound or
 * its device goes away, not as long as the socket that asked for it, and
 * after that as long as page pools hold pages of it.
 */
struct mp_binding {
	refcount_t ref;
	u32 id;
	const struct mp_type *type;
	struct net_device *dev;
	struct net *net;
	struct xarray queues;
	unsigned int nr_queues;
	u32 default_gen;
	struct work_struct free_work;
	struct rcu_head rcu;
};

#define MP_QUEUE_ACTIVE		XA_MARK_1

/**
 * struct mp_defaults - a network namespace's net.core.mp_* defaults
 * @provider:	NETDEV_MP_TYPE_* of net.core.mp_default, 0 for none
 * @huge_blocks: net.core.mp_huge_blocks
 * @huge_max_blocks: net.core.mp_huge_max_blocks
 * @cap_pages:	net.core.mp_cap_pages
 * @cap_device_pages: net.core.mp_cap_device_pages
 * @gen:	generation, bumped by every write; never 0
 */
struct mp_defaults {
	u32 provider;
	u32 huge_blocks;
	u32 huge_max_blocks;
	u32 cap_pages;
	u32 cap_device_pages;
	u32 gen;
};

void mp_defaults_get(const struct net *net, struct mp_defaults *d);

void mp_type_register(const struct mp_type *type);
const struct mp_type *mp_type_find(u32 type);

int mp_binding_init(struct mp_binding *mb, const struct mp_type *type);
void mp_binding_publish(struct mp_binding *mb);
void mp_binding_fini(struct mp_binding *mb);
void mp_binding_get(struct mp_binding *mb);
void mp_binding_put(struct mp_binding *mb);
struct mp_binding *mp_binding_lookup(u32 id);
struct mp_binding *mp_binding_next(unsigned long *id);
struct mp_binding *mp_binding_rxq(struct netdev_rx_queue *rxq);

int mp_binding_check_queue(struct net_device *dev, unsigned int idx,
			   bool config, struct netlink_ext_ack *extack);
int mp_binding_bind_queue(struct mp_binding *mb, struct net_device *dev,
			  unsigned int idx, struct netlink_ext_ack *extack);
void mp_binding_unbind_queue(struct netdev_rx_queue *rxq);
void mp_binding_pool_init(struct mp_binding *mb, struct page_pool *pool);
int mp_binding_nl_fill(struct mp_binding *mb, struct sk_buff *rsp,
		       struct netdev_rx_queue *rxq);
void mp_binding_uninstall(struct mp_binding *mb, struct netdev_rx_queue *rxq);
int mp_binding_put_stats(struct sk_buff *rsp, const u16 *attrs,
			 const u64 *stats, unsigned int n);

void mp_binding_flush(void);

/* mp_nl.c: the netlink side */
void mp_nl_notify(struct mp_binding *mb, u32 cmd);

#endif /* _NET_CORE_MP_CORE_H */
