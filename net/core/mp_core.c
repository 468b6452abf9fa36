// SPDX-License-Identifier: GPL-2.0
/*
 * What the page pool memory providers of readable pages share: the
 * binding object netlink names by id, its rx queues, its lifetime, and the
 * providers' workqueue.
 *
 * Every provider's binding starts with a struct mp_binding, and that is
 * the mp_priv of the rx queues bound to it and of the page pools drawing
 * from it. Bindings are registered by id from creation to teardown, so
 * netlink finds them by id and dumps them; lookups take a reference with
 * refcount_inc_not_zero() under RCU, and providers free bindings after a
 * grace period.
 *
 * A binding serves one or several rx queues of one device. A queue is
 * "pending" until a page pool created for it draws from the binding
 * (drivers with queue management ops restart the queue at once; others
 * create pools at their next link up, XDP attach or channel change), and
 * "active" from then on.
 *
 * Locking: RTNL for the queue links (rxq->mp_params, mb->queues, mb->dev,
 * mb->net); the registry's xarray lock for the registry; nothing else.
 */

#define pr_fmt(fmt) "mp_core: " fmt

#include <linux/error-injection.h>
#include <linux/init.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/netlink.h>
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/types.h>
#include <net/xdp_sock_drv.h>
#include <uapi/linux/netdev.h>

#include "mp_core.h"

struct workqueue_struct *mp_wq;

static DEFINE_XARRAY_ALLOC1(mp_bindings);
static u32 mp_bindings_next;

/* The providers, for telling our queues from devmem's. */
static const struct mp_type *mp_types[4];

static void mp_binding_free_work(struct work_struct *work)
{
	struct mp_binding *mb = container_of(work, struct mp_binding,
					     free_work);

	mb->type->free(mb);
}

/* The id, reserved until mp_binding_publish(): what may fail. */
static noinline int mp_binding_alloc_id(struct mp_binding *mb)
{
	int err;

	err = xa_alloc_cyclic(&mp_bindings, &mb->id, NULL, xa_limit_31b,
			      &mp_bindings_next, GFP_KERNEL);
	return err < 0 ? err : 0;
}
ALLOW_ERROR_INJECTION(mp_binding_alloc_id, ERRNO);

/**
 * mp_binding_init() - start a provider's binding
 * @mb: the binding's common part, zeroed
 * @type: its provider
 *
 * Reserves an id; the binding is found by id only once
 * mp_binding_publish() says it is complete. mp_binding_fini() undoes it,
 * failed or not. Process context.
 *
 * Return: 0 or -ENOMEM, -EBUSY when ids are exhausted.
 */
int mp_binding_init(struct mp_binding *mb, const struct mp_type *type)
{
	refcount_set(&mb->ref, 1);
	mb->type = type;
	xa_init(&mb->queues);
	INIT_WORK(&mb->free_work, mp_binding_free_work);
	return mp_binding_alloc_id(mb);
}

/**
 * mp_binding_publish() - make a complete binding findable by id
 * @mb: the binding
 */
void mp_binding_publish(struct mp_binding *mb)
{
	xa_store(&mp_bindings, mb->id, mb, GFP_KERNEL);
}

/**
 * mp_binding_fini() - end a binding's common part
 * @mb: the binding, unbound from every queue
 *
 * The provider frees the binding after an RCU grace period: lookups may
 * still see it until then, and fail to take a reference.
 */
void mp_binding_fini(struct mp_binding *mb)
{
	if (mb->id)
		xa_erase(&mp_bindings, mb->id);
	WARN_ON_ONCE(!xa_empty(&mb->queues));
	xa_destroy(&mb->queues);
}

/**
 * mp_binding_get() - take a reference to a binding one already holds
 * @mb: the binding
 */
void mp_binding_get(struct mp_binding *mb)
{
	refcount_inc(&mb->ref);
}

/**
 * mp_binding_put() - drop a reference
 * @mb: the binding
 *
 * The last one queues the provider's teardown. Any context.
 */
void mp_binding_put(struct mp_binding *mb)
{
	if (refcount_dec_and_test(&mb->ref))
		queue_work(mp_wq, &mb->free_work);
}

/**
 * mp_binding_lookup() - find a live binding by id
 * @id: its id
 *
 * Return: the binding with a reference for the caller, or NULL.
 */
struct mp_binding *mp_binding_lookup(u32 id)
{
	struct mp_binding *mb;

	rcu_read_lock();
	mb = xa_load(&mp_bindings, id);
	if (mb && !refcount_inc_not_zero(&mb->ref))
		mb = NULL;
	rcu_read_unlock();
	return mb;
}

/**
 * mp_binding_next() - walk the live bindings in id order
 * @id: in: the id to start from; out: the id found
 *
 * Return: the binding with a reference for the caller, or NULL at the end.
 */
struct mp_binding *mp_binding_next(unsigned long *id)
{
	struct mp_binding *mb;

	rcu_read_lock();
	for (;;) {
		mb = xa_find(&mp_bindings, id, ULONG_MAX, XA_PRESENT);
		if (!mb || refcount_inc_not_zero(&mb->ref))
			break;
		(*id)++;
	}
	rcu_read_unlock();
	return mb;
}

/**
 * mp_type_register() - let the core recognise a provider's queues
 * @type: the provider
 */
void mp_type_register(const struct mp_type *type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mp_types); i++) {
		if (!mp_types[i]) {
			mp_types[i] = type;
			return;
		}
	}
	WARN_ON_ONCE(1);
}

/**
 * mp_type_find() - a provider by its NETDEV_MP_TYPE_* value
 * @type: the value
 *
 * Return: the provider, or NULL if it is not built.
 */
const struct mp_type *mp_type_find(u32 type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mp_types); i++)
		if (mp_types[i] && mp_types[i]->type == type)
			return mp_types[i];
	return NULL;
}

static const struct mp_type *mp_type_of_ops(const struct memory_provider_ops *ops)
{
	unsigned int i;

	for (i = 0; ops && i < ARRAY_SIZE(mp_types); i++)
		if (mp_types[i] && mp_types[i]->mp_ops == ops)
			return mp_types[i];
	return NULL;
}

/**
 * mp_binding_rxq() - the binding of an rx queue
 * @rxq: the queue
 *
 * Caller holds RTNL.
 *
 * Return: the binding, or NULL if the queue has none of ours.
 */
struct mp_binding *mp_binding_rxq(struct netdev_rx_queue *rxq)
{
	ASSERT_RTNL();
	return mp_type_of_ops(rxq->mp_params.mp_ops) ? rxq->mp_params.mp_priv :
						      NULL;
}

/**
 * mp_binding_check_queue() - may a binding take this rx queue?
 * @dev: the device
 * @idx: the rx queue
 * @config: an operator's binding (netlink): the queue must be configured
 *	(below real_num_rx_queues), and a binding made by the namespace's
 *	defaults gives way to it; otherwise any allocated queue, and none
 *	with a provider
 * @extack: where to say why not
 *
 * Caller holds RTNL.
 *
 * Return: 0, or -ERANGE, -EBUSY (the queue has a binding or another
 * provider, or an AF_XDP socket).
 */
int mp_binding_check_queue(struct net_device *dev, unsigned int idx,
			   bool config, struct netlink_ext_ack *extack)
{
	struct netdev_rx_queue *rxq;
	struct mp_binding *mb;

	ASSERT_RTNL();

	if (idx >= (config ? dev->real_num_rx_queues : dev->num_rx_queues)) {
		NL_SET_ERR_MSG_FMT(extack, "rx queue %u out of range (%u rx queues)",
				   idx, config ? dev->real_num_rx_queues :
						 dev->num_rx_queues);
		return -ERANGE;
	}
	rxq = __netif_get_rx_queue(dev, idx);
	if (rxq->mp_params.mp_ops) {
		mb = mp_binding_rxq(rxq);
		if (!mb) {
			NL_SET_ERR_MSG_FMT(extack, "rx queue %u has another memory provider",
					   idx);
			return -EBUSY;
		}
		if (!config || !mb->default_gen) {
			NL_SET_ERR_MSG_FMT(extack, "rx queue %u is bound already (binding %u)",
					   idx, mb->id);
			return -EBUSY;
		}
	}
#ifdef CONFIG_XDP_SOCKETS
	if (rxq->pool) {
		NL_SET_ERR_MSG_FMT(extack, "rx queue %u has an AF_XDP socket bound",
				   idx);
		return -EBUSY;
	}
#endif
	return 0;
}

/**
 * mp_binding_bind_queue() - make a binding supply an rx queue's page pools
 * @mb: the binding; the queue takes its own reference
 * @dev: the device; a binding serves the queues of one device
 * @idx: the rx queue, free of providers (mp_binding_check_queue())
 * @extack: where to say what was wrong
 *
 * Page pools created for the queue from now on draw from @mb. Caller holds
 * RTNL.
 *
 * Return: 0, -EINVAL (another device), -EEXIST (bound to @mb already) or
 * -ENOMEM.
 */
int mp_binding_bind_queue(struct mp_binding *mb, struct net_device *dev,
			  unsigned int idx, struct netlink_ext_ack *extack)
{
	struct netdev_rx_queue *rxq = __netif_get_rx_queue(dev, idx);
	int err;

	ASSERT_RTNL();

	if (mb->dev && mb->dev != dev) {
		NL_SET_ERR_MSG(extack, "a binding serves the queues of one device");
		return -EINVAL;
	}
	if (WARN_ON_ONCE(rxq->mp_params.mp_ops))
		return -EBUSY;
	err = xa_insert(&mb->queues, idx, rxq, GFP_KERNEL);
	if (err) {
		if (err == -EBUSY) {
			NL_SET_ERR_MSG_FMT(extack, "rx queue %u listed twice", idx);
			err = -EEXIST;
		}
		return err;
	}
	mp_binding_get(mb);
	/* read locklessly by the memory cap's per-pool share */
	WRITE_ONCE(mb->nr_queues, mb->nr_queues + 1);
	mb->dev = dev;
	mb->net = dev_net(dev);
	rxq->mp_params.mp_priv = mb;
	rxq->mp_params.mp_ops = mb->type->mp_ops;
	return 0;
}

/**
 * mp_binding_unbind_queue() - stop a binding supplying an rx queue
 * @rxq: the queue, bound to one of our bindings
 *
 * Pools already created keep drawing from the binding until they are
 * destroyed. Caller holds RTNL.
 */
void mp_binding_unbind_queue(struct netdev_rx_queue *rxq)
{
	struct mp_binding *mb = mp_binding_rxq(rxq);

	if (WARN_ON_ONCE(!mb))
		return;
	xa_erase(&mb->queues, get_netdev_rx_queue_index(rxq));
	rxq->mp_params.mp_priv = NULL;
	rxq->mp_params.mp_ops = NULL;
	WRITE_ONCE(mb->nr_queues, mb->nr_queues - 1);
	if (!mb->nr_queues) {
		mb->dev = NULL;
		mb->net = NULL;
	}
	mp_binding_put(mb);
}

/**
 * mp_binding_pool_init() - a page pool starts drawing from a binding
 * @mb: the binding
 * @pool: the pool, in its provider's init()
 *
 * Its queue is active from now on. RTNL held for pools created for a
 * queue.
 */
void mp_binding_pool_init(struct mp_binding *mb, struct page_pool *pool)
{
	if (!(pool->slow.flags & PP_FLAG_RX_QUEUE) ||
	    pool->slow.netdev != mb->dev)
		return;
	ASSERT_RTNL();
	xa_set_mark(&mb->queues, pool->slow.queue_idx, MP_QUEUE_ACTIVE);
}

/**
 * mp_binding_nl_fill() - the binding's id in a queue or page-pool message
 * @mb: the binding
 * @rsp: the message
 * @rxq: the queue, or NULL for a page pool
 *
 * A queue also says whether the binding is still pending.
 *
 * Return: 0 or -EMSGSIZE.
 */
int mp_binding_nl_fill(struct mp_binding *mb, struct sk_buff *rsp,
		       struct netdev_rx_queue *rxq)
{
	struct nlattr *nest;

	nest = nla_nest_start(rsp, rxq ? NETDEV_A_QUEUE_MP_BINDING :
					 NETDEV_A_PAGE_POOL_MP_BINDING);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(rsp, NETDEV_A_MP_BINDING_INFO_ID, mb->id) ||
	    nla_put_u32(rsp, NETDEV_A_MP_BINDING_INFO_TYPE, mb->type->type) ||
	    (rxq && !xa_get_mark(&mb->queues, get_netdev_rx_queue_index(rxq),
				 MP_QUEUE_ACTIVE) &&
	     nla_put_flag(rsp, NETDEV_A_MP_BINDING_INFO_PENDING))) {
		nla_nest_cancel(rsp, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(rsp, nest);
	return 0;
}

/**
 * mp_binding_uninstall() - a queue's device is unregistering
 * @mb: the queue's binding
 * @rxq: the queue
 *
 * The binding lets go of the queue; once it has none, it is no longer
 * configuration, and listeners hear that it went. RTNL held.
 */
void mp_binding_uninstall(struct mp_binding *mb, struct netdev_rx_queue *rxq)
{
	ASSERT_RTNL();
	if (mb->nr_queues == 1)
		mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_DEL_NTF);
	mp_binding_unbind_queue(rxq);
}

/**
 * mp_binding_put_stats() - counters as uint attributes
 * @rsp: the message
 * @attrs: attribute type of each counter; 0 for one not reported
 * @stats: the counters
 * @n: how many
 *
 * Return: 0 or -EMSGSIZE.
 */
int mp_binding_put_stats(struct sk_buff *rsp, const u16 *attrs,
			 const u64 *stats, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (attrs[i] && nla_put_uint(rsp, attrs[i], stats[i]))
			return -EMSGSIZE;
	return 0;
}

/**
 * mp_binding_flush() - run queued provider work, teardowns included
 *
 * A teardown queues after the work that dropped the last reference, hence
 * the second flush.
 */
void mp_binding_flush(void)
{
	flush_workqueue(mp_wq);
	flush_workqueue(mp_wq);
}

/* A device moved to another namespace is registered again there: its
 * bindings are seen there from now on, except those its old namespace's
 * defaults made, which let go of its queues: the new namespace's defaults
 * decide at the queues' next pool creation (a namespace starts with none),
 * and a binding nobody made outlives neither the namespace whose defaults
 * made it nor the device's stay there (a PCI device returns to the initial
 * namespace when its namespace goes). Pools created meanwhile keep their
 * binding until they go. Bindings made over netlink stay bound.
 */
static int mp_core_netdev_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct netdev_rx_queue *rxq;
	struct mp_binding *mb;
	unsigned long id = 0;
	unsigned int i;

	if (event != NETDEV_REGISTER)
		return NOTIFY_DONE;
	ASSERT_RTNL();
	for (i = 0; i < dev->num_rx_queues; i++) {
		rxq = __netif_get_rx_queue(dev, i);
		mb = rxq->mp_params.mp_ops ? mp_binding_rxq(rxq) : NULL;
		if (mb && mb->default_gen)
			mp_binding_uninstall(mb, rxq);
	}
	for (; (mb = mp_binding_next(&id)); id++) {
		if (mb->dev == dev)
			mb->net = dev_net(dev);
		mp_binding_put(mb);
	}
	return NOTIFY_DONE;
}

static struct notifier_block mp_core_netdev_nb = {
	.notifier_call = mp_core_netdev_event,
};

static int __init mp_core_init(void)
{
	mp_wq = alloc_workqueue("mp_wq", WQ_UNBOUND, 0);
	return mp_wq ? 0 : -ENOMEM;
}
subsys_initcall(mp_core_init);

static int __init mp_core_notifier_init(void)
{
	return register_netdevice_notifier(&mp_core_netdev_nb);
}
device_initcall(mp_core_notifier_init);
