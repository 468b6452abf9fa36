// SPDX-License-Identifier: GPL-2.0
/*
 * Memory provider bindings over netlink: mp-bind, mp-binding-set,
 * mp-unbind and mp-binding-get of the netdev family, and their
 * notifications (Documentation/netlink/specs/netdev.yaml).
 *
 * Binding rx queues is all or nothing. The queues are checked, the
 * binding made (its huge pages reserved, without RTNL), then bound; a
 * driver with queue management ops restarts each queue so that it draws
 * from the binding at once, and if one restart fails, every queue gets
 * back what it had (restarted again) and the error is returned. Drivers
 * without queue management ops create their page pools at link up, XDP
 * attach or a channel change: the binding is pending there until then.
 * mp-unbind works the same way backwards.
 *
 * A queue that a namespace's net.core.mp_default bound gives way to an
 * operator's binding; if binding fails, it gets its default binding back.
 *
 * Bindings are visible in the namespace of their device; those whose
 * device is gone (waiting for pages still in sockets) in the initial one.
 *
 * Locking: RTNL around everything that reads or changes queues.
 */

#define pr_fmt(fmt) "mp_nl: " fmt

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <uapi/linux/netdev.h>

#include "mp_core.h"
#include "netdev-genl-gen.h"

/* What mp-bind does to one queue, to undo it. */
struct mp_nl_queue {
	u32 idx;
	struct mp_binding *old;		/* a default binding taken over */
	bool restarted;
};

/* A binding is visible in its device's namespace. One whose device is
 * gone (orphaned: its pages still out) belongs to no namespace: the
 * initial one lists it, to CAP_NET_ADMIN only (@admin), since its policy
 * and counters say what another namespace's application received.
 */
static bool mp_nl_visible(const struct mp_binding *mb, const struct net *net,
			  bool admin)
{
	return mb->net ? net_eq(mb->net, net) :
			 admin && net_eq(net, &init_net);
}

static int mp_nl_fill(struct sk_buff *rsp, struct mp_binding *mb, u32 portid,
		      u32 seq, int flags, u8 cmd)
{
	struct netdev_rx_queue *rxq;
	struct nlattr *nest;
	unsigned long idx;
	void *hdr;

	hdr = genlmsg_put(rsp, portid, seq, &netdev_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(rsp, NETDEV_A_MP_BINDING_ID, mb->id) ||
	    nla_put_u32(rsp, NETDEV_A_MP_BINDING_TYPE, mb->type->type) ||
	    (mb->dev &&
	     nla_put_u32(rsp, NETDEV_A_MP_BINDING_IFINDEX, mb->dev->ifindex)) ||
	    (mb->default_gen &&
	     nla_put_u32(rsp, NETDEV_A_MP_BINDING_DEFAULT_GEN, mb->default_gen)))
		goto cancel;
	xa_for_each(&mb->queues, idx, rxq) {
		nest = nla_nest_start(rsp, NETDEV_A_MP_BINDING_QUEUES);
		if (!nest ||
		    nla_put_u32(rsp, NETDEV_A_QUEUE_ID, idx) ||
		    nla_put_u32(rsp, NETDEV_A_QUEUE_TYPE, NETDEV_QUEUE_TYPE_RX))
			goto cancel;
		nla_nest_end(rsp, nest);
	}
	if (mb->type->fill(mb, rsp))
		goto cancel;
	genlmsg_end(rsp, hdr);
	return 0;

cancel:
	genlmsg_cancel(rsp, hdr);
	return -EMSGSIZE;
}

/**
 * mp_nl_notify() - tell the mgmt group about a binding
 * @mb: the binding
 * @cmd: NETDEV_CMD_MP_BINDING_{ADD,DEL,CHANGE}_NTF
 *
 * RTNL held.
 */
void mp_nl_notify(struct mp_binding *mb, u32 cmd)
{
	struct net *net = mb->net;
	struct sk_buff *ntf;

	ASSERT_RTNL();
	/* An orphaned binding (its namespace gone) is listed in the initial
	 * namespace to CAP_NET_ADMIN only (mp_nl_visible()); the mgmt group
	 * takes any listener, so it is not announced there.
	 */
	if (!net)
		return;
	if (!genl_has_listeners(&netdev_nl_family, net, NETDEV_NLGRP_MGMT))
		return;
	ntf = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!ntf)
		return;
	if (mp_nl_fill(ntf, mb, 0, 0, 0, cmd)) {
		nlmsg_free(ntf);
		return;
	}
	genlmsg_multicast_netns(&netdev_nl_family, net, ntf, 0,
				NETDEV_NLGRP_MGMT, GFP_KERNEL);
}

/* The binding of @id, if the caller may see it (mp_nl_visible()). */
static struct mp_binding *mp_nl_lookup(struct sk_buff *skb,
				       struct genl_info *info)
{
	struct mp_binding *mb;
	u32 id;

	if (GENL_REQ_ATTR_CHECK(info, NETDEV_A_MP_BINDING_ID))
		return ERR_PTR(-EINVAL);
	id = nla_get_u32(info->attrs[NETDEV_A_MP_BINDING_ID]);
	mb = mp_binding_lookup(id);
	if (mb && !mp_nl_visible(mb, genl_info_net(info),
				 netlink_capable(skb, CAP_NET_ADMIN))) {
		mp_binding_put(mb);
		mb = NULL;
	}
	if (!mb) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[NETDEV_A_MP_BINDING_ID],
				    "no such binding");
		return ERR_PTR(-ENOENT);
	}
	return mb;
}

int netdev_nl_mp_binding_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mp_binding *mb;
	struct sk_buff *rsp;
	int err;

	mb = mp_nl_lookup(skb, info);
	if (IS_ERR(mb))
		return PTR_ERR(mb);
	rsp = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!rsp) {
		err = -ENOMEM;
		goto put;
	}
	rtnl_lock();
	err = mp_nl_fill(rsp, mb, info->snd_portid, info->snd_seq, 0,
			 info->genlhdr->cmd);
	rtnl_unlock();
	if (err) {
		nlmsg_free(rsp);
		goto put;
	}
	err = genlmsg_reply(rsp, info);
put:
	mp_binding_put(mb);
	return err;
}

struct mp_nl_dump_ctx {
	unsigned long id;
};

int netdev_nl_mp_binding_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct mp_nl_dump_ctx *ctx = (void *)cb->ctx;
	const struct genl_info *info = genl_info_dump(cb);
	bool admin = netlink_capable(cb->skb, CAP_NET_ADMIN);
	struct net *net = sock_net(skb->sk);
	struct mp_binding *mb;
	u32 ifindex = 0;
	int err = 0;

	if (info->attrs[NETDEV_A_MP_BINDING_IFINDEX])
		ifindex = nla_get_u32(info->attrs[NETDEV_A_MP_BINDING_IFINDEX]);

	rtnl_lock();
	for (; (mb = mp_binding_next(&ctx->id)); ctx->id++) {
		if (mp_nl_visible(mb, net, admin) &&
		    (!ifindex || (mb->dev && mb->dev->ifindex == ifindex)))
			err = mp_nl_fill(skb, mb, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI,
					 info->genlhdr->cmd);
		mp_binding_put(mb);
		if (err)
			break;
	}
	rtnl_unlock();
	return err;
}

/* Restart @idx if the driver can, so that it draws from what is bound
 * now. Returns whether it restarted, or an error.
 */
static int mp_nl_restart(struct net_device *dev, u32 idx)
{
	int err;

	/* A queue past the channel count (ethtool -L shrank it while bound)
	 * has no ring to restart: it takes the binding when it comes back.
	 */
	if (!netif_running(dev) || !dev->queue_mgmt_ops ||
	    idx >= dev->real_num_rx_queues)
		return 0;
	err = netdev_rx_queue_restart(dev, idx);
	return err ?: 1;
}

/* Give each queue of @q back what it had before mp-bind, restarting those
 * that were restarted. Undoing cannot be refused: a restart failing here
 * leaves the queue as the driver left it, and says so.
 */
static void mp_nl_unbind_queues(struct mp_binding *mb, struct net_device *dev,
				struct mp_nl_queue *q, unsigned int n)
{
	struct netdev_rx_queue *rxq;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rxq = __netif_get_rx_queue(dev, q[i].idx);
		if (rxq->mp_params.mp_priv == mb)
			mp_binding_unbind_queue(rxq);
		if (q[i].old && !rxq->mp_params.mp_ops)
			mp_binding_bind_queue(q[i].old, dev, q[i].idx, NULL);
		if (q[i].restarted && mp_nl_restart(dev, q[i].idx) < 0)
			netdev_warn(dev, "rx queue %u: restart failed undoing a binding\n",
				    q[i].idx);
	}
}

/* Check the requested queues, and note what they have now. */
static int mp_nl_parse_queues(struct net_device *dev, struct genl_info *info,
			      struct mp_nl_queue *q, unsigned int *n)
{
	struct nlattr *tb[NETDEV_A_QUEUE_TYPE + 1];
	struct netlink_ext_ack *extack = info->extack;
	struct netdev_rx_queue *rxq;
	struct nlattr *attr;
	unsigned int i;
	int rem, err;

	*n = 0;
	nla_for_each_attr_type(attr, NETDEV_A_MP_BINDING_QUEUES,
			       genlmsg_data(info->genlhdr),
			       genlmsg_len(info->genlhdr), rem) {
		err = nla_parse_nested(tb, ARRAY_SIZE(tb) - 1, attr,
				       netdev_queue_id_nl_policy, extack);
		if (err)
			return err;
		if (NL_REQ_ATTR_CHECK(extack, attr, tb, NETDEV_A_QUEUE_ID) ||
		    NL_REQ_ATTR_CHECK(extack, attr, tb, NETDEV_A_QUEUE_TYPE))
			return -EINVAL;
		if (nla_get_u32(tb[NETDEV_A_QUEUE_TYPE]) != NETDEV_QUEUE_TYPE_RX) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_QUEUE_TYPE],
					    "only rx queues take a memory provider");
			return -EINVAL;
		}
		if (*n == dev->real_num_rx_queues) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "more queues than the device has");
			return -EINVAL;
		}
		q[*n].idx = nla_get_u32(tb[NETDEV_A_QUEUE_ID]);
		err = mp_binding_check_queue(dev, q[*n].idx, true, extack);
		if (err) {
			NL_SET_BAD_ATTR(extack, tb[NETDEV_A_QUEUE_ID]);
			return err;
		}
		for (i = 0; i < *n; i++) {
			if (q[i].idx == q[*n].idx) {
				NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_QUEUE_ID],
						    "rx queue listed twice");
				return -EINVAL;
			}
		}
		rxq = __netif_get_rx_queue(dev, q[*n].idx);
		q[*n].old = mp_binding_rxq(rxq);
		q[*n].restarted = false;
		(*n)++;
	}
	if (!*n) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[NETDEV_A_MP_BINDING_QUEUES],
				    "no rx queue");
		return -EINVAL;
	}
	return 0;
}

/* The queues of a bind request, checked, with what each has now, in a new
 * array @q of @n (kfree() it, also on error). The device must still be
 * registered in the request's namespace: a binding is made with that
 * namespace's defaults and seen there. RTNL held.
 */
static int mp_nl_queues(struct net_device *dev, struct genl_info *info,
			struct mp_nl_queue **q, unsigned int *n)
{
	struct nlattr *ifindex = info->attrs[NETDEV_A_MP_BINDING_IFINDEX];
	int err;

	ASSERT_RTNL();
	*n = 0;
	*q = NULL;
	if (dev->reg_state != NETREG_REGISTERED) {
		NL_SET_ERR_MSG_ATTR(info->extack, ifindex, "the device is going away");
		return -ENODEV;
	}
	if (!net_eq(dev_net(dev), genl_info_net(info))) {
		NL_SET_ERR_MSG_ATTR(info->extack, ifindex,
				    "the device moved to another namespace");
		return -ENODEV;
	}
	*q = kcalloc(dev->real_num_rx_queues, sizeof(**q), GFP_KERNEL);
	if (!*q)
		return -ENOMEM;
	err = mp_nl_parse_queues(dev, info, *q, n);
	if (err)
		*n = 0;
	return err;
}

/* Bind the checked queues of @q to @mb and restart them: all or none. */
static int mp_nl_bind_queues(struct mp_binding *mb, struct net_device *dev,
			     struct mp_nl_queue *q, unsigned int n,
			     struct netlink_ext_ack *extack)
{
	struct netdev_rx_queue *rxq;
	unsigned int i;
	int err;

	/* held until the caller's mp_nl_put_old(), to be given back */
	for (i = 0; i < n; i++)
		if (q[i].old)
			mp_binding_get(q[i].old);
	for (i = 0; i < n; i++) {
		rxq = __netif_get_rx_queue(dev, q[i].idx);
		if (q[i].old)
			mp_binding_unbind_queue(rxq);
		err = mp_binding_bind_queue(mb, dev, q[i].idx, extack);
		if (err)
			goto undo;
	}
	for (i = 0; i < n; i++) {
		err = mp_nl_restart(dev, q[i].idx);
		if (err < 0) {
			NL_SET_ERR_MSG_FMT(extack,
					   "restarting rx queue %u failed; every queue keeps what it had",
					   q[i].idx);
			goto undo;
		}
		q[i].restarted = err;
	}
	return 0;

undo:
	mp_nl_unbind_queues(mb, dev, q, n);
	return err;
}

static void mp_nl_put_old(struct mp_nl_queue *q, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (q[i].old)
			mp_binding_put(q[i].old);
}

int netdev_nl_mp_bind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	const struct mp_type *type;
	struct mp_binding *mb = NULL;
	struct mp_nl_queue *q = NULL;
	netdevice_tracker tracker;
	struct net_device *dev;
	unsigned int n = 0;
	struct sk_buff *rsp;
	u32 ifindex;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, NETDEV_A_MP_BINDING_IFINDEX) ||
	    GENL_REQ_ATTR_CHECK(info, NETDEV_A_MP_BINDING_TYPE) ||
	    GENL_REQ_ATTR_CHECK(info, NETDEV_A_MP_BINDING_QUEUES))
		return -EINVAL;
	type = mp_type_find(nla_get_u32(info->attrs[NETDEV_A_MP_BINDING_TYPE]));
	if (!type) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[NETDEV_A_MP_BINDING_TYPE],
				    "this provider is not built in");
		return -EOPNOTSUPP;
	}
	for (err = NETDEV_A_MP_BINDING_HUGE; err <= NETDEV_A_MP_BINDING_CAP; err++) {
		if (err != type->nest && info->attrs[err]) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[err],
					    "parameters of another provider");
			return -EINVAL;
		}
	}

	ifindex = nla_get_u32(info->attrs[NETDEV_A_MP_BINDING_IFINDEX]);
	dev = netdev_get_by_index(genl_info_net(info), ifindex, &tracker,
				  GFP_KERNEL);
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[NETDEV_A_MP_BINDING_IFINDEX],
				    "no such device");
		return -ENODEV;
	}
	rsp = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!rsp) {
		err = -ENOMEM;
		goto put_dev;
	}
	hdr = genlmsg_iput(rsp, info);
	if (!hdr) {
		err = -EMSGSIZE;
		goto free_rsp;
	}

	/* Refuse bad queues before reserving anything: a refused request
	 * must not have pinned and given back up to 1 GiB on the way.
	 */
	rtnl_lock();
	err = mp_nl_queues(dev, info, &q, &n);
	rtnl_unlock();
	kfree(q);
	q = NULL;
	n = 0;
	if (err)
		goto free_rsp;

	/* The huge pages are reserved here, outside RTNL: that may take long. */
	mb = type->create(dev, info->attrs[type->nest], extack);
	if (IS_ERR(mb)) {
		err = PTR_ERR(mb);
		mb = NULL;
		goto free_rsp;
	}

	/* The device may have changed meanwhile: check it all again. */
	rtnl_lock();
	err = mp_nl_queues(dev, info, &q, &n);
	if (!err && mb->type->check_queues) {
		err = mb->type->check_queues(mb, n, extack);
		if (err)
			NL_SET_BAD_ATTR(extack, info->attrs[type->nest]);
	}
	if (err) {
		n = 0;
		goto unlock;
	}
	err = mp_nl_bind_queues(mb, dev, q, n, extack);
	if (err)
		goto put_old;
	if (!q[0].restarted)
		NL_SET_ERR_MSG(extack,
			       "pending: the queues take the binding at their next page pool (link up, XDP attach, channel change)");
	mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_ADD_NTF);
	if (nla_put_u32(rsp, NETDEV_A_MP_BINDING_ID, mb->id)) {
		err = -EMSGSIZE;
		goto put_old;
	}
	genlmsg_end(rsp, hdr);
	mp_nl_put_old(q, n);
	rtnl_unlock();
	kfree(q);
	mp_binding_put(mb);
	netdev_put(dev, &tracker);
	return genlmsg_reply(rsp, info);

put_old:
	mp_nl_put_old(q, n);
unlock:
	rtnl_unlock();
	kfree(q);
	mp_binding_put(mb);
free_rsp:
	nlmsg_free(rsp);
put_dev:
	netdev_put(dev, &tracker);
	return err;
}

int netdev_nl_mp_binding_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct mp_binding *mb;
	bool trim;
	int err, i;

	mb = mp_nl_lookup(skb, info);
	if (IS_ERR(mb))
		return PTR_ERR(mb);
	err = -EINVAL;
	for (i = NETDEV_A_MP_BINDING_HUGE; i <= NETDEV_A_MP_BINDING_CAP; i++) {
		if (i != mb->type->nest && info->attrs[i]) {
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[i],
					    "parameters of another provider");
			goto put;
		}
	}
	trim = nla_get_flag(info->attrs[NETDEV_A_MP_BINDING_TRIM]);
	if (!info->attrs[mb->type->nest] && !trim) {
		NL_SET_ERR_MSG(extack, "nothing to change");
		goto put;
	}
	rtnl_lock();
	err = mb->type->set(mb, info->attrs[mb->type->nest], trim, extack);
	if (!err)
		mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_CHANGE_NTF);
	rtnl_unlock();
put:
	mp_binding_put(mb);
	return err;
}

int netdev_nl_mp_unbind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct netdev_rx_queue *rxq;
	struct mp_nl_queue *q = NULL;
	struct net_device *dev;
	struct mp_binding *mb;
	unsigned int i, n = 0;
	unsigned long idx;
	int err = 0;

	mb = mp_nl_lookup(skb, info);
	if (IS_ERR(mb))
		return PTR_ERR(mb);
	rtnl_lock();
	dev = mb->dev;
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[NETDEV_A_MP_BINDING_ID],
				    "the binding has no queue left");
		err = -ENOENT;
		goto unlock;
	}
	q = kcalloc(mb->nr_queues, sizeof(*q), GFP_KERNEL);
	if (!q) {
		err = -ENOMEM;
		goto unlock;
	}
	mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_DEL_NTF);
	xa_for_each(&mb->queues, idx, rxq)
		q[n++].idx = idx;
	for (i = 0; i < n; i++)
		mp_binding_unbind_queue(__netif_get_rx_queue(dev, q[i].idx));
	for (i = 0; i < n; i++) {
		err = mp_nl_restart(dev, q[i].idx);
		if (err < 0)
			break;
		q[i].restarted = err;
		err = 0;
	}
	if (err < 0) {
		NL_SET_ERR_MSG_FMT(extack, "restarting rx queue %u failed; the binding stays",
				   q[i].idx);
		/* bind again, and restart back those already restarted */
		for (i = 0; i < n; i++) {
			mp_binding_bind_queue(mb, dev, q[i].idx, NULL);
			if (q[i].restarted && mp_nl_restart(dev, q[i].idx) < 0)
				netdev_warn(dev, "rx queue %u: restart failed undoing an unbind\n",
					    q[i].idx);
		}
		mp_nl_notify(mb, NETDEV_CMD_MP_BINDING_ADD_NTF);
	}
unlock:
	rtnl_unlock();
	kfree(q);
	mp_binding_put(mb);
	return err;
}
