/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the hugepage provider's data path and lifetime (mp_huge.c) and
 * its netlink side (mp_huge_user.c), as page_pool_priv.h is for page_pool.
 */
#ifndef _NET_CORE_MP_HUGE_PRIV_H
#define _NET_CORE_MP_HUGE_PRIV_H

#include "mp_core.h"

struct mp_binding;
struct net_device;
struct netlink_ext_ack;
struct nlattr;
struct sk_buff;

extern const struct mp_type mp_huge_type;

struct mp_binding *mp_huge_nl_create(struct net_device *dev,
				     const struct nlattr *nest,
				     struct netlink_ext_ack *extack);
int mp_huge_nl_set(struct mp_binding *mb, const struct nlattr *nest,
		   bool trim, struct netlink_ext_ack *extack);
int mp_huge_nl_fill_binding(struct mp_binding *mb, struct sk_buff *rsp);

#endif /* _NET_CORE_MP_HUGE_PRIV_H */
