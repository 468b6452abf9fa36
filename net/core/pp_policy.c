// SPDX-License-Identifier: GPL-2.0
/*
 * Registry of recycling policies for page pool memory providers.
 *
 * Policies register an ops table by name, as TCP congestion control
 * algorithms do (net/ipv4/tcp_cong.c): lookup by name loads
 * "pp-policy-<name>" on demand, every store a policy creates pins its
 * module, and net.core.pp_policy_default names the policy new bindings
 * get unless they ask for another. net.core.pp_policy_available lists
 * what is registered.
 *
 * Locking: pp_policy_list_lock serialises writers of pp_policy_list;
 * readers walk it under RCU. The default is an RCU-managed pointer that
 * holds a module reference, swapped under pp_policy_list_lock.
 */

#define pr_fmt(fmt) "pp_policy: " fmt

#include <kunit/visibility.h>
#include <linux/error-injection.h>
#include <linux/kmod.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/page_pool/pp_policy.h>

#include "mp_kunit.h"

static DEFINE_SPINLOCK(pp_policy_list_lock);
static LIST_HEAD(pp_policy_list);
static const struct pp_policy_ops __rcu *pp_policy_default;

/* Caller holds rcu_read_lock() or pp_policy_list_lock. */
static struct pp_policy_ops *pp_policy_find(const char *name)
{
	struct pp_policy_ops *ops;

	list_for_each_entry_rcu(ops, &pp_policy_list, list,
				lockdep_is_held(&pp_policy_list_lock)) {
		if (!strcmp(ops->name, name))
			return ops;
	}
	return NULL;
}

static bool pp_policy_ops_valid(const struct pp_policy_ops *ops)
{
	return ops->name[0] && ops->create && ops->destroy && ops->get &&
	       ops->put && ops->drain && ops->count;
}

/**
 * pp_policy_register() - make a recycling policy selectable
 * @ops: the policy; its name must be unique
 *
 * Return: 0, -EINVAL if @ops lacks a required op, -EEXIST if the name is
 * taken.
 */
int pp_policy_register(struct pp_policy_ops *ops)
{
	int err = 0;

	if (!pp_policy_ops_valid(ops)) {
		pr_err("%s does not implement the required ops\n", ops->name);
		return -EINVAL;
	}

	spin_lock(&pp_policy_list_lock);
	if (pp_policy_find(ops->name))
		err = -EEXIST;
	else
		list_add_tail_rcu(&ops->list, &pp_policy_list);
	spin_unlock(&pp_policy_list_lock);

	if (err)
		pr_notice("%s already registered\n", ops->name);
	return err;
}
EXPORT_SYMBOL_GPL(pp_policy_register);

/**
 * pp_policy_unregister() - remove a recycling policy from the registry
 * @ops: the policy
 *
 * Called from the policy module's exit. Stores pin the module, so none
 * exists any more; lookups that raced with the removal fail to take the
 * module reference.
 */
void pp_policy_unregister(struct pp_policy_ops *ops)
{
	spin_lock(&pp_policy_list_lock);
	list_del_rcu(&ops->list);
	spin_unlock(&pp_policy_list_lock);

	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(pp_policy_unregister);

static const char * const pp_policy_param_names[] = {
	"budget", "magazine", "depot",
};

/**
 * pp_policy_check_params() - refuse parameters a policy does not take
 * @ops: the policy
 * @params: parameters for a new or a live store
 * @extack: where to say which one is wrong
 *
 * Return: 0, or -EINVAL for a parameter the policy does not take or a
 * value it refuses.
 */
int pp_policy_check_params(const struct pp_policy_ops *ops,
			   const struct pp_policy_params *params,
			   struct netlink_ext_ack *extack)
{
	u32 extra = params->set & ~ops->params;

	BUILD_BUG_ON(ARRAY_SIZE(pp_policy_param_names) !=
		     ilog2(PP_POLICY_DEPOT) + 1);
	if (extra) {
		if (extra & ~(PP_POLICY_DEPOT * 2 - 1))
			NL_SET_ERR_MSG(extack, "unknown policy parameter");
		else
			NL_SET_ERR_MSG_FMT(extack, "policy %s does not take parameter %s",
					   ops->name,
					   pp_policy_param_names[__ffs(extra)]);
		return -EINVAL;
	}
	return ops->validate ? ops->validate(params, extack) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_check_params);

/* Look @name up, loading its module if needed; takes a module reference. */
static const struct pp_policy_ops *pp_policy_lookup(const char *name,
						    bool autoload)
{
	struct pp_policy_ops *ops;

	rcu_read_lock();
	ops = pp_policy_find(name);
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	rcu_read_unlock();

	if (ops || !autoload || !IS_ENABLED(CONFIG_MODULES))
		return ops;

	request_module("pp-policy-%s", name);
	return pp_policy_lookup(name, false);
}

/**
 * pp_policy_get() - find a recycling policy by name
 * @name: policy name
 *
 * Loads module "pp-policy-@name" if no such policy is registered. Process
 * context.
 *
 * Return: the policy with its module pinned (release with pp_policy_put()),
 * or NULL if there is none.
 */
const struct pp_policy_ops *pp_policy_get(const char *name)
{
	if (strnlen(name, PP_POLICY_NAME_MAX) == PP_POLICY_NAME_MAX)
		return NULL;
	return pp_policy_lookup(name, true);
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_get);

/**
 * pp_policy_get_default() - the policy new bindings get by default
 *
 * Return: the policy named by net.core.pp_policy_default with its module
 * pinned, or NULL if no policy is registered.
 */
const struct pp_policy_ops *pp_policy_get_default(void)
{
	const struct pp_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(pp_policy_default);
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	rcu_read_unlock();
	return ops;
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_get_default);

/**
 * pp_policy_put() - release a policy obtained with pp_policy_get()
 * @ops: the policy
 */
void pp_policy_put(const struct pp_policy_ops *ops)
{
	module_put(ops->owner);
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_put);

/**
 * pp_policy_get_available() - names of the registered policies
 * @buf: output, space separated
 * @maxlen: size of @buf
 */
void pp_policy_get_available(char *buf, size_t maxlen)
{
	struct pp_policy_ops *ops;
	size_t offs = 0;

	buf[0] = '\0';
	rcu_read_lock();
	list_for_each_entry_rcu(ops, &pp_policy_list, list) {
		offs += snprintf(buf + offs, maxlen - offs, "%s%s",
				 offs ? " " : "", ops->name);
		if (WARN_ON_ONCE(offs >= maxlen))
			break;
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_get_available);

static int pp_policy_set_default(const char *name)
{
	const struct pp_policy_ops *ops, *prev;

	ops = pp_policy_get(name);
	if (!ops)
		return -ENOENT;

	spin_lock(&pp_policy_list_lock);
	prev = rcu_replace_pointer(pp_policy_default, ops,
				   lockdep_is_held(&pp_policy_list_lock));
	spin_unlock(&pp_policy_list_lock);

	if (prev)
		pp_policy_put(prev);
	return 0;
}

/**
 * pp_netmem_stack_init() - allocate the slots of a netmem stack
 * @s: the stack
 * @size: slots
 * @nid: NUMA node for the slot array
 *
 * Return: 0 or -ENOMEM.
 */
int pp_netmem_stack_init(struct pp_netmem_stack *s, unsigned int size, int nid)
{
	s->slots = kvmalloc_node(array_size(size, sizeof(*s->slots)),
				 GFP_KERNEL, nid);
	if (!s->slots)
		return -ENOMEM;
	s->size = size;
	s->count = 0;
	return 0;
}
EXPORT_SYMBOL_GPL(pp_netmem_stack_init);
ALLOW_ERROR_INJECTION(pp_netmem_stack_init, ERRNO);

/**
 * pp_netmem_stack_free() - free the slots of an empty netmem stack
 * @s: the stack
 */
void pp_netmem_stack_free(struct pp_netmem_stack *s)
{
	WARN_ON_ONCE(s->count);
	kvfree(s->slots);
	s->slots = NULL;
	s->size = 0;
}
EXPORT_SYMBOL_GPL(pp_netmem_stack_free);

/* Room for names too long to be valid, so that they are refused rather
 * than silently truncated into another name.
 */
#define PP_POLICY_SYSCTL_MAX	64

VISIBLE_IF_KUNIT int pp_policy_default_sysctl(const struct ctl_table *table,
					      int write, void *buffer,
					      size_t *lenp, loff_t *ppos)
{
	char name[PP_POLICY_SYSCTL_MAX] = "";
	struct ctl_table tbl = {
		.data = name,
		.maxlen = sizeof(name),
	};
	const struct pp_policy_ops *ops;
	int err;

	/* a write continuing at an offset would name half a policy, and a
	 * NUL would hide the rest of what was written
	 */
	if (write && (*ppos || memchr(buffer, '\0', *lenp)))
		return -EINVAL;
	ops = pp_policy_get_default();
	if (ops) {
		strscpy(name, ops->name, sizeof(name));
		pp_policy_put(ops);
	}

	err = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (write && !err)
		err = pp_policy_set_default(name);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(pp_policy_default_sysctl);

static int pp_policy_available_sysctl(const struct ctl_table *table, int write,
				      void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ctl_table tbl = { .maxlen = PP_POLICY_NAME_MAX * 16, };
	int err;

	tbl.data = kmalloc(tbl.maxlen, GFP_KERNEL);
	if (!tbl.data)
		return -ENOMEM;
	pp_policy_get_available(tbl.data, tbl.maxlen);
	err = proc_dostring(&tbl, write, buffer, lenp, ppos);
	kfree(tbl.data);
	return err;
}

static struct ctl_table pp_policy_sysctl_table[] = {
	{
		.procname	= "pp_policy_default",
		.mode		= 0644,
		.maxlen		= PP_POLICY_SYSCTL_MAX,
		.proc_handler	= pp_policy_default_sysctl,
	},
	{
		.procname	= "pp_policy_available",
		.mode		= 0444,
		.maxlen		= PP_POLICY_NAME_MAX * 16,
		.proc_handler	= pp_policy_available_sysctl,
	},
};

/* Policies register at module_init (device_initcall for built-ins); the
 * default is resolved after them.
 */
static int __init pp_policy_init(void)
{
	if (pp_policy_set_default(CONFIG_PP_POLICY_DEFAULT))
		pr_warn("default policy %s is not available\n",
			CONFIG_PP_POLICY_DEFAULT);

	if (!register_net_sysctl(&init_net, "net/core", pp_policy_sysctl_table))
		return -ENOMEM;
	return 0;
}
late_initcall(pp_policy_init);
