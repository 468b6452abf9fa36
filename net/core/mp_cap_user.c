// SPDX-License-Identifier: GPL-2.0
/*
 * The memory-cap provider over netlink: memory-cap bindings made, changed
 * and described for mp-bind, mp-binding-set and mp-binding-get of the
 * netdev family (Documentation/netlink/specs/netdev.yaml). The operations
 * themselves are in mp_nl.c.
 *
 * Every refusal says which attribute it is about, and comes before
 * anything changes.
 */

#include <linux/netdevice.h>
#include <net/netlink.h>
#include <net/page_pool/mp_cap.h>
#include <uapi/linux/netdev.h>

#include "mp_cap_priv.h"
#include "mp_core.h"
#include "netdev-genl-gen.h"

/* One attribute per counter of enum mp_cap_stat. */
static const u16 mp_cap_stat_attrs[MP_CAP_STAT_NUM] = {
	[MP_CAP_STAT_CAP]		= NETDEV_A_MP_CAP_CAP,
	[MP_CAP_STAT_CAP_LOW]		= NETDEV_A_MP_CAP_CAP_LOW,
	[MP_CAP_STAT_PAGES_HELD]	= NETDEV_A_MP_CAP_PAGES_HELD,
	[MP_CAP_STAT_PAGES_INFLIGHT]	= NETDEV_A_MP_CAP_PAGES_INFLIGHT,
	[MP_CAP_STAT_PAGES_CACHED]	= NETDEV_A_MP_CAP_PAGES_CACHED,
	[MP_CAP_STAT_PAGES_PEAK]	= NETDEV_A_MP_CAP_PAGES_PEAK,
	[MP_CAP_STAT_POOL_CACHE_MAX]	= NETDEV_A_MP_CAP_POOL_CACHE_MAX,
	[MP_CAP_STAT_CAP_HITS]		= NETDEV_A_MP_CAP_CAP_HITS,
	[MP_CAP_STAT_SHRINKER_PAGES]	= NETDEV_A_MP_CAP_SHRINKER_PAGES,
	[MP_CAP_STAT_DEVICE_BUDGET]	= NETDEV_A_MP_CAP_DEVICE_BUDGET,
	[MP_CAP_STAT_DEVICE_HELD]	= NETDEV_A_MP_CAP_DEVICE_HELD,
	[MP_CAP_STAT_PAGES_LOST]	= NETDEV_A_MP_CAP_PAGES_LOST,
};

/* Parse a request's mp-cap nest over @p; counters are never asked for. */
static int mp_cap_nl_parse(const struct nlattr *nest, struct mp_cap_params *p,
			   struct nlattr **tb, struct netlink_ext_ack *extack)
{
	unsigned int i;
	int err;

	err = nla_parse_nested(tb, NETDEV_A_MP_CAP_MAX, nest,
			       netdev_mp_cap_nl_policy, extack);
	if (err)
		return err;
	for (i = NETDEV_A_MP_CAP_PAGES_HELD; i <= NETDEV_A_MP_CAP_MAX; i++) {
		if (tb[i]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[i],
					    "a counter, not a parameter");
			return -EINVAL;
		}
	}
	if (tb[NETDEV_A_MP_CAP_CAP]) {
		p->cap = nla_get_uint(tb[NETDEV_A_MP_CAP_CAP]);
		p->cap_low = 0;
	}
	if (tb[NETDEV_A_MP_CAP_CAP_LOW]) {
		u32 most = p->cap - max(p->cap / 8, 1U);

		p->cap_low = nla_get_uint(tb[NETDEV_A_MP_CAP_CAP_LOW]);
		if (p->cap_low > most) {
			NL_SET_ERR_MSG_ATTR_FMT(extack, tb[NETDEV_A_MP_CAP_CAP_LOW],
						"cap-low must be at most %u, the cap less an eighth",
						most);
			return -EINVAL;
		}
	}
	if (tb[NETDEV_A_MP_CAP_DEVICE_BUDGET]) {
		p->device_budget = nla_get_uint(tb[NETDEV_A_MP_CAP_DEVICE_BUDGET]);
		if (p->device_budget && p->device_budget < MP_CAP_MIN_PAGES) {
			NL_SET_ERR_MSG_ATTR_FMT(extack, tb[NETDEV_A_MP_CAP_DEVICE_BUDGET],
						"device-budget must be 0 (none) or at least %u pages",
						MP_CAP_MIN_PAGES);
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * mp_cap_nl_create() - a memory-cap binding for rx queues of @dev
 * @dev: the device
 * @nest: the request's mp-cap nest, or NULL: the namespace's defaults
 * @extack: where to say what was wrong
 *
 * Return: the binding with a reference for the caller, or an ERR_PTR.
 */
struct mp_binding *mp_cap_nl_create(struct net_device *dev,
				    const struct nlattr *nest,
				    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NETDEV_A_MP_CAP_MAX + 1] = {};
	struct mp_cap_binding *b;
	struct mp_cap_params p;
	struct mp_defaults d;
	int err;

	mp_defaults_get(dev_net(dev), &d);
	p.cap = d.cap_pages;
	p.cap_low = 0;
	p.device_budget = d.cap_device_pages;
	if (nest) {
		err = mp_cap_nl_parse(nest, &p, tb, extack);
		if (err)
			return ERR_PTR(err);
	}
	b = mp_cap_binding_create(&p, dev, extack);
	if (IS_ERR(b)) {
		if (nest && extack && !extack->bad_attr)
			NL_SET_BAD_ATTR(extack, nest);
		return ERR_CAST(b);
	}
	/* the binding starts with its struct mp_binding (mp_cap_init()) */
	return (struct mp_binding *)b;
}

/**
 * mp_cap_nl_set() - change a live memory-cap binding
 * @mb: the binding
 * @nest: the request's mp-cap nest
 * @trim: not for memory-cap bindings
 * @extack: where to say what was wrong
 *
 * Return: 0, or an error with nothing changed.
 */
int mp_cap_nl_set(struct mp_binding *mb, const struct nlattr *nest,
		  bool trim, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NETDEV_A_MP_CAP_MAX + 1] = {};
	struct mp_cap_binding *b = mp_cap_binding_of(mb);
	struct mp_cap_params p;
	u32 had_budget;
	int err;

	if (trim) {
		NL_SET_ERR_MSG(extack, "trim is for hugepage bindings");
		return -EINVAL;
	}
	mp_cap_binding_params(b, &p);
	had_budget = p.device_budget;
	p.device_budget = 0;		/* unless asked: leave it */
	err = mp_cap_nl_parse(nest, &p, tb, extack);
	if (err)
		return err;
	/* a device's pages are counted against its budget from the first
	 * binding that gives one: a budget cannot start half-way
	 */
	if (p.device_budget && !had_budget) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NETDEV_A_MP_CAP_DEVICE_BUDGET],
				    "the binding's device has no budget: give one at mp-bind");
		return -EINVAL;
	}
	err = mp_cap_set(b, &p, extack);
	if (err && extack && !extack->bad_attr)
		NL_SET_BAD_ATTR(extack, nest);
	return err;
}

/**
 * mp_cap_nl_fill_binding() - a memory-cap binding's mp-cap nest
 * @mb: the binding
 * @rsp: the message
 *
 * Return: 0 or -EMSGSIZE.
 */
int mp_cap_nl_fill_binding(struct mp_binding *mb, struct sk_buff *rsp)
{
	struct mp_cap_binding *b = mp_cap_binding_of(mb);
	u64 stats[MP_CAP_STAT_NUM];
	struct nlattr *nest;

	mp_cap_binding_stats(b, stats);
	nest = nla_nest_start(rsp, NETDEV_A_MP_BINDING_CAP);
	if (!nest)
		return -EMSGSIZE;
	if (mp_binding_put_stats(rsp, mp_cap_stat_attrs, stats,
				 MP_CAP_STAT_NUM)) {
		nla_nest_cancel(rsp, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(rsp, nest);
	return 0;
}
