// SPDX-License-Identifier: GPL-2.0
/*
 * The hugepage provider over netlink: hugepage bindings made, changed and
 * described for mp-bind, mp-binding-set and mp-binding-get of the netdev
 * family (Documentation/netlink/specs/netdev.yaml), as page_pool_user.c
 * is page_pool's. The operations themselves are in mp_nl.c.
 *
 * Every refusal says which attribute it is about, and comes before
 * anything changes.
 */

#include <linux/netdevice.h>
#include <net/netlink.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/pp_policy.h>
#include <uapi/linux/netdev.h>

#include "mp_core.h"
#include "mp_huge_priv.h"
#include "netdev-genl-gen.h"

/* One attribute per counter of enum mp_huge_stat. */
static const u16 mp_huge_stat_attrs[MP_HUGE_STAT_NUM] = {
	[MP_HUGE_STAT_BLOCKS]		= NETDEV_A_MP_HUGE_BLOCKS,
	[MP_HUGE_STAT_BLOCKS_MAX]	= NETDEV_A_MP_HUGE_MAX_BLOCKS,
	[MP_HUGE_STAT_PAGES_CARVED]	= NETDEV_A_MP_HUGE_PAGES_CARVED,
	[MP_HUGE_STAT_PAGES_FREE]	= NETDEV_A_MP_HUGE_PAGES_FREE,
	[MP_HUGE_STAT_PAGES_PARKED]	= NETDEV_A_MP_HUGE_PAGES_PARKED,
	[MP_HUGE_STAT_PAGES_INFLIGHT]	= NETDEV_A_MP_HUGE_PAGES_INFLIGHT,
	[MP_HUGE_STAT_PAGES_LOST]	= NETDEV_A_MP_HUGE_PAGES_LOST,
	[MP_HUGE_STAT_REFILLS]		= NETDEV_A_MP_HUGE_REFILLS,
	[MP_HUGE_STAT_FALLBACKS]	= NETDEV_A_MP_HUGE_FALLBACKS,
	[MP_HUGE_STAT_BLOCKS_RETURNED]	= NETDEV_A_MP_HUGE_BLOCKS_RETURNED,
	[MP_HUGE_STAT_GROW_FAILURES]	= NETDEV_A_MP_HUGE_GROW_FAILURES,
	[MP_HUGE_STAT_LIMIT_HITS]	= NETDEV_A_MP_HUGE_LIMIT_HITS,
	[MP_HUGE_STAT_TRIMS]		= NETDEV_A_MP_HUGE_TRIMS,
	[MP_HUGE_STAT_DMA_BLOCK_MAPS]	= NETDEV_A_MP_HUGE_DMA_BLOCK_MAPS,
	[MP_HUGE_STAT_DMA_PAGE_MAPS]	= NETDEV_A_MP_HUGE_DMA_PAGE_MAPS,
	[MP_HUGE_STAT_RELEASES]		= NETDEV_A_MP_HUGE_RELEASES,
	[MP_HUGE_STAT_PARKS]		= NETDEV_A_MP_HUGE_PARKS,
};

static const struct {
	u16 attr;
	u32 bit;
	size_t offset;
} mp_huge_nl_params[] = {
	{ NETDEV_A_PP_POLICY_PARAMS_BUDGET, PP_POLICY_BUDGET,
	  offsetof(struct pp_policy_params, budget) },
	{ NETDEV_A_PP_POLICY_PARAMS_MAGAZINE, PP_POLICY_MAGAZINE,
	  offsetof(struct pp_policy_params, magazine) },
	{ NETDEV_A_PP_POLICY_PARAMS_DEPOT, PP_POLICY_DEPOT,
	  offsetof(struct pp_policy_params, depot) },
};

static int mp_huge_nl_policy_params(const struct nlattr *nest,
				    struct pp_policy_params *p,
				    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NETDEV_A_PP_POLICY_PARAMS_MAX + 1];
	unsigned int i;
	int err;

	memset(p, 0, sizeof(*p));
	if (!nest)
		return 0;
	err = nla_parse_nested(tb, NETDEV_A_PP_POLICY_PARAMS_MAX, nest,
			       netdev_pp_policy_params_nl_policy, extack);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(mp_huge_nl_params); i++) {
		if (!tb[mp_huge_nl_params[i].attr])
			continue;
		p->set |= mp_huge_nl_params[i].bit;
		*(u32 *)((char *)p + mp_huge_nl_params[i].offset) =
			nla_get_u32(tb[mp_huge_nl_params[i].attr]);
	}
	return 0;
}

/* Parse a request's mp-huge nest; counters are reported, never asked for. */
static int mp_huge_nl_parse(const struct nlattr *nest, struct nlattr **tb,
			    struct netlink_ext_ack *extack)
{
	unsigned int i;
	int err;

	err = nla_parse_nested(tb, NETDEV_A_MP_HUGE_MAX, nest,
			       netdev_mp_huge_nl_policy, extack);
	if (err)
		return err;
	for (i = NETDEV_A_MP_HUGE_PAGES_CARVED; i <= NETDEV_A_MP_HUGE_MAX; i++) {
		if (tb[i]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[i],
					    "a counter, not a parameter");
			return -EINVAL;
		}
	}
	return 0;
}

/* The policy named (or the default) must exist and take these parameters. */
static int mp_huge_nl_check_policy(struct mp_huge_params *p, struct nlattr **tb,
				   struct netlink_ext_ack *extack)
{
	const struct pp_policy_ops *ops;
	int err;

	ops = p->policy[0] ? pp_policy_get(p->policy) : pp_policy_get_default();
	if (!ops) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_HUGE_POLICY],
				    "unknown recycling policy");
		return -ENOENT;
	}
	err = pp_policy_check_params(ops, &p->policy_params, extack);
	if (err)
		NL_SET_BAD_ATTR(extack, tb[NETDEV_A_MP_HUGE_POLICY_PARAMS]);
	pp_policy_put(ops);
	return err;
}

/**
 * mp_huge_nl_create() - a hugepage binding for rx queues of @dev
 * @dev: the device
 * @nest: the request's mp-huge nest, or NULL: the namespace's defaults
 * @extack: where to say what was wrong
 *
 * From a request, the huge pages are reserved before this returns
 * (without RTNL: the caller takes it after); from the defaults, a worker
 * reserves them, and pools are served from the page allocator meanwhile.
 *
 * Return: the binding with a reference for the caller, or an ERR_PTR.
 */
struct mp_binding *mp_huge_nl_create(struct net_device *dev,
				     const struct nlattr *nest,
				     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NETDEV_A_MP_HUGE_MAX + 1] = {};
	struct mp_huge_params p = { .nid = dev_to_node(&dev->dev) };
	struct mp_huge_binding *b;
	struct mp_defaults d;
	u32 nid;
	int err;

	mp_defaults_get(dev_net(dev), &d);
	p.blocks = d.huge_blocks;
	p.max_blocks = d.huge_max_blocks;
	if (nest) {
		err = mp_huge_nl_parse(nest, tb, extack);
		if (err)
			return ERR_PTR(err);
		if (tb[NETDEV_A_MP_HUGE_BLOCKS]) {
			p.blocks = nla_get_uint(tb[NETDEV_A_MP_HUGE_BLOCKS]);
			p.max_blocks = max(p.max_blocks, p.blocks);
		}
		if (tb[NETDEV_A_MP_HUGE_MAX_BLOCKS])
			p.max_blocks = nla_get_uint(tb[NETDEV_A_MP_HUGE_MAX_BLOCKS]);
		if (p.blocks > p.max_blocks) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_HUGE_BLOCKS],
					    "blocks exceed max-blocks");
			return ERR_PTR(-EINVAL);
		}
		if (tb[NETDEV_A_MP_HUGE_POLICY])
			nla_strscpy(p.policy, tb[NETDEV_A_MP_HUGE_POLICY],
				    sizeof(p.policy));
		err = mp_huge_nl_policy_params(tb[NETDEV_A_MP_HUGE_POLICY_PARAMS],
					       &p.policy_params, extack);
		if (err)
			return ERR_PTR(err);
		if (tb[NETDEV_A_MP_HUGE_NID]) {
			/* unsigned: a node id is never negative */
			nid = nla_get_u32(tb[NETDEV_A_MP_HUGE_NID]);
			if (nid >= nr_node_ids || !node_online(nid)) {
				NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_HUGE_NID],
						    "NUMA node is not online");
				return ERR_PTR(-EINVAL);
			}
			p.nid = nid;
		}
		if (!mp_huge_limit_room(p.blocks)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_HUGE_BLOCKS] ?: nest,
					    "the huge pages would pass the machine-wide limit, net.core.mp_huge_limit_mb");
			return ERR_PTR(-ENOSPC);
		}
	}
	err = mp_huge_nl_check_policy(&p, tb, extack);
	if (err)
		return ERR_PTR(err);

	b = mp_huge_binding_create(&p, !!nest, extack);
	if (IS_ERR(b)) {
		if (nest && extack && !extack->bad_attr)
			NL_SET_BAD_ATTR(extack, nest);
		return ERR_CAST(b);
	}
	/* the binding starts with its struct mp_binding (mp_huge_init()) */
	return (struct mp_binding *)b;
}

/**
 * mp_huge_nl_set() - change a live hugepage binding
 * @mb: the binding
 * @nest: the request's mp-huge nest, or NULL
 * @trim: give back every huge page whose pages are all home, now
 * @extack: where to say what was wrong
 *
 * Return: 0, or an error with nothing changed.
 */
int mp_huge_nl_set(struct mp_binding *mb, const struct nlattr *nest,
		   bool trim, struct netlink_ext_ack *extack)
{
	static const u16 fixed[] = {
		NETDEV_A_MP_HUGE_BLOCKS, NETDEV_A_MP_HUGE_POLICY,
		NETDEV_A_MP_HUGE_NID,
	};
	struct nlattr *tb[NETDEV_A_MP_HUGE_MAX + 1] = {};
	struct mp_huge_binding *b = mp_huge_binding_of(mb);
	struct pp_policy_params params = {};
	struct mp_huge_params now;
	u32 max_blocks = 0;
	unsigned int i;
	int err;

	if (nest) {
		err = mp_huge_nl_parse(nest, tb, extack);
		if (err)
			return err;
		for (i = 0; i < ARRAY_SIZE(fixed); i++) {
			if (tb[fixed[i]]) {
				NL_SET_ERR_MSG_ATTR(extack, tb[fixed[i]],
						    "set when the binding is made; unbind and bind again");
				return -EINVAL;
			}
		}
		err = mp_huge_nl_policy_params(tb[NETDEV_A_MP_HUGE_POLICY_PARAMS],
					       &params, extack);
		if (err)
			return err;
		if (tb[NETDEV_A_MP_HUGE_MAX_BLOCKS]) {
			max_blocks = nla_get_uint(tb[NETDEV_A_MP_HUGE_MAX_BLOCKS]);
			mp_huge_binding_params(b, &now);
			if (max_blocks < now.blocks) {
				NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_HUGE_MAX_BLOCKS],
						    "max-blocks below the blocks reserved at bind");
				return -EINVAL;
			}
		}
		err = mp_huge_binding_set(b, max_blocks, &params, extack);
		if (err) {
			if (extack && !extack->bad_attr)
				NL_SET_BAD_ATTR(extack, params.set ?
						tb[NETDEV_A_MP_HUGE_POLICY_PARAMS] :
						tb[NETDEV_A_MP_HUGE_MAX_BLOCKS]);
			return err;
		}
	}
	if (trim)
		mp_huge_trim(b);
	return 0;
}

/**
 * mp_huge_nl_fill_binding() - a hugepage binding's mp-huge nest
 * @mb: the binding
 * @rsp: the message
 *
 * Return: 0 or -EMSGSIZE.
 */
int mp_huge_nl_fill_binding(struct mp_binding *mb, struct sk_buff *rsp)
{
	struct mp_huge_binding *b = mp_huge_binding_of(mb);
	struct nlattr *nest, *pnest;
	u64 stats[MP_HUGE_STAT_NUM];
	struct mp_huge_params p;
	unsigned int i;

	mp_huge_binding_params(b, &p);
	mp_huge_binding_stats(b, stats);
	nest = nla_nest_start(rsp, NETDEV_A_MP_BINDING_HUGE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(rsp, NETDEV_A_MP_HUGE_POLICY, p.policy) ||
	    (p.nid != NUMA_NO_NODE && nla_put_u32(rsp, NETDEV_A_MP_HUGE_NID, p.nid)))
		goto cancel;
	if (p.policy_params.set) {
		pnest = nla_nest_start(rsp, NETDEV_A_MP_HUGE_POLICY_PARAMS);
		if (!pnest)
			goto cancel;
		for (i = 0; i < ARRAY_SIZE(mp_huge_nl_params); i++) {
			if (!(p.policy_params.set & mp_huge_nl_params[i].bit))
				continue;
			if (nla_put_u32(rsp, mp_huge_nl_params[i].attr,
					*(u32 *)((char *)&p.policy_params +
						 mp_huge_nl_params[i].offset)))
				goto cancel;
		}
		nla_nest_end(rsp, pnest);
	}
	if (mp_binding_put_stats(rsp, mp_huge_stat_attrs, stats,
				 MP_HUGE_STAT_NUM))
		goto cancel;
	nla_nest_end(rsp, nest);
	return 0;

cancel:
	nla_nest_cancel(rsp, nest);
	return -EMSGSIZE;
}
