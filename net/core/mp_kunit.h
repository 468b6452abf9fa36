/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the page pool memory providers that their KUnit suites
 * reach (VISIBLE_IF_KUNIT): sysctl handlers and tables, and the fault
 * injection point.
 */
#ifndef _NET_CORE_MP_KUNIT_H
#define _NET_CORE_MP_KUNIT_H

#include <linux/types.h>

#if IS_ENABLED(CONFIG_KUNIT)
struct ctl_table;
struct fault_attr;

int pp_policy_default_sysctl(const struct ctl_table *table, int write,
			     void *buffer, size_t *lenp, loff_t *ppos);
int mp_default_provider_sysctl(const struct ctl_table *table, int write,
			       void *buffer, size_t *lenp, loff_t *ppos);
int mp_default_u32_sysctl(const struct ctl_table *table, int write,
			  void *buffer, size_t *lenp, loff_t *ppos);
extern const struct ctl_table mp_default_sysctl_table[];
struct net;
const struct ctl_table *mp_default_table(struct net *net);
#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr mp_huge_fail_block;
#endif
struct page;
struct page *mp_huge_alloc_block(int nid, gfp_t gfp);
extern unsigned long mp_huge_trim_hold;
#endif

#endif /* _NET_CORE_MP_KUNIT_H */
