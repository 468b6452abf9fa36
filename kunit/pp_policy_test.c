// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the recycling policies: the registry, one contract run
 * over every registered policy (KUNIT_ARRAY_PARAM), and what is particular
 * to the budget and per-CPU policies. The pp_policy_smp suite needs two
 * CPUs: it runs in the x86_64 guest and is skipped under UML.
 *
 * The contract is checked on real page pools drawing from a binding, pages
 * coming back through the ring overflow of pool_size 1.
 */

#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/workqueue.h>
#include <linux/netdevice.h>
#include <linux/prandom.h>
#include <linux/sort.h>
#include <net/netlink.h>
#include <linux/sysctl.h>
#include <linux/xarray.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/pp_policy.h>

#include "mp_test.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static const char * const pp_test_policies[] = { "lifo", "percpu", "budget" };

static void pp_test_policy_desc(const char * const *name, char *desc)
{
	strscpy(desc, *name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(pp_test_policy, pp_test_policies, pp_test_policy_desc);

/* The policy of this case; the case is skipped if the policy is not
 * registered (a module not loaded: the suites run at boot, before any
 * module can be).
 */
static const char *pp_test_policy_name(struct kunit *test)
{
	const char *name = *(const char * const *)test->param_value;
	char avail[128], *list = avail, *tok;

	pp_policy_get_available(avail, sizeof(avail));
	while ((tok = strsep(&list, " ")))
		if (!strcmp(tok, name))
			return name;
	kunit_skip(test, "policy %s is not registered", name);
	return NULL;
}

static int pp_test_init(struct kunit *test)
{
	return mp_test_init(test, sizeof(struct mp_test_ctx));
}

static void pp_test_teardown(struct kunit *test, struct mp_huge_binding *b,
			     struct page_pool *pool, unsigned int queue)
{
	struct mp_test_ctx *ctx = test->priv;

	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	mp_test_unbind(test, ctx->dev, queue);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/*** the registry ***/

static int pp_test_sysctl_default(const char *val)
{
	struct ctl_table table = { .maxlen = 64 };
	char buf[64];
	size_t len = strscpy(buf, val, sizeof(buf));
	loff_t pos = 0;

	return pp_policy_default_sysctl(&table, 1, buf, &len, &pos);
}

static void pp_test_expect_default(struct kunit *test, const char *want)
{
	const struct pp_policy_ops *ops = pp_policy_get_default();

	KUNIT_ASSERT_NOT_NULL(test, ops);
	KUNIT_EXPECT_STREQ(test, ops->name, want);
	pp_policy_put(ops);
}

/* Unknown names are refused everywhere and change nothing. */
static void pp_test_registry_unknown(struct kunit *test)
{
	struct mp_huge_params p = { .max_blocks = 1, .nid = NUMA_NO_NODE };
	struct mp_huge_binding *b;

	KUNIT_EXPECT_NULL(test, pp_policy_get("no-such-policy"));
	KUNIT_EXPECT_NULL(test, pp_policy_get("lifo-but-much-too-long-a-name"));

	pp_test_expect_default(test, CONFIG_PP_POLICY_DEFAULT);
	KUNIT_EXPECT_EQ(test, pp_test_sysctl_default("no-such-policy"), -ENOENT);
	KUNIT_EXPECT_EQ(test, pp_test_sysctl_default("lifoooooooooooooooooooo"),
			-ENOENT);
	pp_test_expect_default(test, CONFIG_PP_POLICY_DEFAULT);

	strscpy(p.policy, "no-such-policy", sizeof(p.policy));
	b = mp_huge_binding_create(&p, true, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(b), -ENOENT);
}

/* The default names the policy of bindings that do not name one. */
static void pp_test_registry_default(struct kunit *test)
{
	struct mp_huge_binding *b;
	char avail[128];

	pp_policy_get_available(avail, sizeof(avail));
	kunit_info(test, "available: %s\n", avail);
	KUNIT_EXPECT_NOT_NULL(test, strstr(avail, "lifo"));

	KUNIT_ASSERT_EQ(test, pp_test_sysctl_default("percpu\n"), 0);
	pp_test_expect_default(test, "percpu");
	b = mp_test_binding(test, 0, 1, NULL);
	KUNIT_EXPECT_STREQ(test, mp_huge_binding_policy(b), "percpu");
	mp_test_put(test, b);

	KUNIT_ASSERT_EQ(test, pp_test_sysctl_default(CONFIG_PP_POLICY_DEFAULT), 0);
	b = mp_test_binding(test, 0, 1, NULL);
	KUNIT_EXPECT_STREQ(test, mp_huge_binding_policy(b),
			   CONFIG_PP_POLICY_DEFAULT);
	mp_test_put(test, b);
	mp_huge_flush();
}

static unsigned int pp_test_get(void *s, netmem_ref *n, unsigned int k)
{
	return 0;
}

/* Incomplete ops and taken names are refused. */
static void pp_test_registry_register(struct kunit *test)
{
	struct pp_policy_ops bad = { .name = "kunit-bad", .get = pp_test_get };
	struct pp_policy_ops dup;
	const struct pp_policy_ops *lifo = pp_policy_get("lifo");

	KUNIT_ASSERT_NOT_NULL(test, lifo);
	dup = *lifo;
	pp_policy_put(lifo);
	INIT_LIST_HEAD(&dup.list);

	KUNIT_EXPECT_EQ(test, pp_policy_register(&bad), -EINVAL);
	KUNIT_EXPECT_EQ(test, pp_policy_register(&dup), -EEXIST);
}

/* Each policy takes its own parameters and refuses the others, and bad
 * values, so that a request that would be silently ignored fails instead;
 * a refused binding is not made.
 */
static void pp_test_registry_params(struct kunit *test)
{
	static const struct {
		const char *policy;
		struct pp_policy_params p;
		int err;
	} cases[] = {
		{ "lifo", { .set = 0 }, 0 },
		{ "lifo", { .set = PP_POLICY_BUDGET, .budget = 1 }, -EINVAL },
		{ "budget", { .set = PP_POLICY_BUDGET, .budget = 0 }, 0 },
		{ "budget", { .set = PP_POLICY_MAGAZINE, .magazine = 8 }, -EINVAL },
		{ "budget", { .set = PP_POLICY_DEPOT, .depot = 3 }, -EINVAL },
		{ "percpu", { .set = PP_POLICY_MAGAZINE | PP_POLICY_DEPOT,
			      .magazine = 8, .depot = 3 }, 0 },
		{ "percpu", { .set = PP_POLICY_BUDGET, .budget = 1 }, -EINVAL },
		{ "percpu", { .set = PP_POLICY_MAGAZINE, .magazine = 0 }, -EINVAL },
		{ "percpu", { .set = PP_POLICY_MAGAZINE, .magazine = 4096 }, -EINVAL },
		{ "percpu", { .set = PP_POLICY_DEPOT, .depot = 1 << 20 }, -EINVAL },
		{ "percpu", { .set = BIT(7) }, -EINVAL },
	};
	struct netlink_ext_ack extack = {};
	const struct pp_policy_ops *ops;
	struct mp_huge_binding *b;
	struct mp_huge_params p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ops = pp_policy_get(cases[i].policy);
		if (!ops) {
			kunit_info(test, "policy %s not registered: case %u not run\n",
				   cases[i].policy, i);
			continue;
		}
		memset(&extack, 0, sizeof(extack));
		KUNIT_EXPECT_EQ_MSG(test, pp_policy_check_params(ops, &cases[i].p,
								 &extack),
				    cases[i].err, "case %u (%s)", i, cases[i].policy);
		if (cases[i].err)
			KUNIT_EXPECT_NOT_NULL_MSG(test, extack._msg, "case %u", i);
		pp_policy_put(ops);

		p = (struct mp_huge_params){ .max_blocks = 1,
					     .nid = NUMA_NO_NODE,
					     .policy_params = cases[i].p };
		strscpy(p.policy, cases[i].policy, sizeof(p.policy));
		b = mp_huge_binding_create(&p, false, NULL);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(b), cases[i].err,
				    "binding for case %u", i);
		if (!IS_ERR(b))
			mp_huge_binding_put(b);
	}
}

static struct kunit_case pp_policy_registry_cases[] = {
	KUNIT_CASE(pp_test_registry_unknown),
	KUNIT_CASE(pp_test_registry_default),
	KUNIT_CASE(pp_test_registry_register),
	KUNIT_CASE(pp_test_registry_params),
	{}
};

static struct kunit_suite pp_policy_registry_suite = {
	.name = "pp_policy_registry",
	.init = pp_test_init,
	.exit = mp_test_exit,
	.test_cases = pp_policy_registry_cases,
};

/*** the contract, for every policy ***/

struct pp_test_pages {
	unsigned long base_pfn;
	unsigned long *held;		/* bitmap over the binding's block */
	struct page **pages;
	unsigned int n;
};

/* Every free page is handed out exactly once until it comes back: all the
 * pages of a block, once each, then again once each after their return.
 */
static void pp_test_contract_once_by(struct kunit *test, bool bulk)
{
	const char *policy = pp_test_policy_name(test);
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned long *seen, base = 0;
	struct page **pages;
	unsigned int round, i, idx;

	pages = kunit_kcalloc(test, MP_HUGE_PAGES, sizeof(*pages), GFP_KERNEL);
	seen = kunit_kcalloc(test, BITS_TO_LONGS(MP_HUGE_PAGES),
			     sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, seen);

	b = mp_test_binding(test, 1, 1, policy);
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (round = 0; round < 3; round++) {
		bitmap_zero(seen, MP_HUGE_PAGES);
		for (i = 0; i < MP_HUGE_PAGES; i++) {
			pages[i] = mp_test_alloc(pool);
			KUNIT_ASSERT_NOT_NULL(test, pages[i]);
			if (!base)
				base = ALIGN_DOWN(page_to_pfn(pages[i]),
						  MP_HUGE_PAGES);
			idx = page_to_pfn(pages[i]) - base;
			KUNIT_ASSERT_LT(test, idx, MP_HUGE_PAGES);
			KUNIT_ASSERT_FALSE_MSG(test, test_bit(idx, seen),
					       "page %u handed out twice", idx);
			__set_bit(idx, seen);
		}
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT),
				MP_HUGE_PAGES);
		if (bulk)
			for (i = 0; i < MP_HUGE_PAGES; i += MP_TEST_BULK)
				mp_test_free_bulk(pool, &pages[i],
						  min(MP_TEST_BULK, MP_HUGE_PAGES - i));
		else
			for (i = 0; i < MP_HUGE_PAGES; i++)
				mp_test_free(pool, pages[i]);
		mp_test_flush_cache(pool);
		mp_huge_flush();
		/* every page home but the one in the pool's ring */
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 1);
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_RELEASES),
				(round + 1) * (MP_HUGE_PAGES - 1));
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
	pp_test_teardown(test, b, pool, 0);
}

static void pp_test_contract_once(struct kunit *test)
{
	pp_test_contract_once_by(test, false);
}

/* The same through bursts (page_pool_put_page_bulk(): the pages the ring
 * cannot take reach the provider together, and the policy's put_bulk()).
 */
static void pp_test_contract_once_bulk(struct kunit *test)
{
	pp_test_contract_once_by(test, true);
}

/* Long random sequences of refills and releases on two pools of one
 * binding: no page is handed out while out, none is lost, counters match.
 */
static void pp_test_contract_random(struct kunit *test)
{
	const char *policy = pp_test_policy_name(test);
	const unsigned int max_held = 3 * MP_HUGE_PAGES;
	struct mp_test_ctx *ctx = test->priv;
	struct page_pool *pools[2];
	struct mp_huge_binding *b;
	struct rnd_state rnd;
	struct xarray out;	/* pfn of every page out */
	unsigned int n = 0, i, k, op;
	struct page **held;
	struct page *page;
	u8 *owner;

	held = kunit_kcalloc(test, max_held, sizeof(*held), GFP_KERNEL);
	owner = kunit_kcalloc(test, max_held, sizeof(*owner), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	KUNIT_ASSERT_NOT_NULL(test, owner);
	prandom_seed_state(&rnd, 42);
	xa_init(&out);

	b = mp_test_binding(test, 1, 2, policy);
	mp_test_bind(test, b, ctx->dev, 0);
	mp_test_bind(test, b, ctx->dev, 1);
	pools[0] = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	pools[1] = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	for (op = 0; op < 20000; op++) {
		k = prandom_u32_state(&rnd) % 16;
		if (k < 7 && n < max_held) {		/* refill side */
			i = prandom_u32_state(&rnd) & 1;
			page = mp_test_alloc(pools[i]);
			KUNIT_ASSERT_NOT_NULL(test, page);
			KUNIT_ASSERT_EQ(test, page_ref_count(page), 1);
			KUNIT_ASSERT_EQ_MSG(test, xa_insert(&out, page_to_pfn(page),
							    page, GFP_KERNEL), 0,
					    "page handed out while out");
			owner[n] = i;
			held[n++] = page;
		} else if (k < 15 && n) {		/* release */
			i = prandom_u32_state(&rnd) % n;
			xa_erase(&out, page_to_pfn(held[i]));
			mp_test_free(pools[owner[i]], held[i]);
			held[i] = held[--n];
			owner[i] = owner[n];
		} else {
			mp_test_flush_cache(pools[prandom_u32_state(&rnd) & 1]);
		}
		if (!(op % 1024))
			mp_huge_flush();
	}

	while (n--)
		mp_test_free(pools[owner[n]], held[n]);
	xa_destroy(&out);
	mp_test_pool_destroy(test, pools[1]);
	mp_test_unbind(test, ctx->dev, 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 0);
	pp_test_teardown(test, b, pools[0], 0);
}

/* Unbinding drains every page, wherever the policy keeps it; the counters
 * add up on the way.
 */
static void pp_test_contract_drain(struct kunit *test)
{
	const char *policy = pp_test_policy_name(test);
	struct mp_test_ctx *ctx = test->priv;
	const unsigned int n = 4 * PP_ALLOC_CACHE_REFILL;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	u64 free, parked;
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_test_binding(test, 2, 2, policy);
	mp_test_bind(test, b, ctx->dev, 2);
	pool = mp_test_pool(test, ctx->dev, 2, 0, NULL);
	for (i = 0; i < n; i++)
		pages[i] = mp_test_alloc(pool);
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);

	free = mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE);
	parked = mp_test_stat(b, MP_HUGE_STAT_PAGES_PARKED);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, free + mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST),
			mp_test_stat(b, MP_HUGE_STAT_BLOCKS) * MP_HUGE_PAGES);
	KUNIT_EXPECT_LE(test, parked, free);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_REFILLS),
			n / PP_ALLOC_CACHE_REFILL);

	mp_test_unbind(test, ctx->dev, 2);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Only pages of the binding's blocks enter the policy's store: a pool
 * without DMA that frees more order-0 fallback pages than the binding has
 * block pages leaves exactly the block's pages home, the fallback pages
 * go back to the page allocator, and the store stays within its capacity.
 */
static void pp_test_contract_fallback(struct kunit *test)
{
	const unsigned int n = MP_HUGE_PAGES + 3 * PP_ALLOC_CACHE_REFILL;
	const char *policy = pp_test_policy_name(test);
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = mp_test_binding(test, 1, 2, policy);
	mp_test_fail_huge_pages(test);	/* no growth: fallback after the block */
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	for (i = 0; i < n; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS),
			n - MP_HUGE_PAGES);
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_test_pool_destroy(test, pool);

	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			MP_HUGE_PAGES);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static int pp_test_netmem_cmp(const void *a, const void *b)
{
	unsigned long x = (__force unsigned long)*(const netmem_ref *)a;
	unsigned long y = (__force unsigned long)*(const netmem_ref *)b;

	return x < y ? -1 : x > y;
}

/* A store takes its capacity in netmem whatever happens between puts
 * (here every CPU cache is flushed after each one), and one drain of its
 * capacity gives every netmem back, once. Policies never look at the
 * netmem they store: fake ones will do.
 */
static void pp_test_contract_store_bound(struct kunit *test)
{
	const char *name = pp_test_policy_name(test);
	const unsigned long cap = MP_HUGE_PAGES;
	struct pp_policy_params params = {};
	const struct pp_policy_ops *ops;
	netmem_ref *out;
	unsigned long i;
	void *store;

	out = kunit_kcalloc(test, cap + 1, sizeof(*out), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out);
	ops = pp_policy_get(name);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	if (ops->params & PP_POLICY_BUDGET) {
		params.set = PP_POLICY_BUDGET;
		params.budget = cap;
	}
	store = ops->create(&params, NUMA_NO_NODE, cap);
	KUNIT_ASSERT_NOT_NULL(test, store);

	for (i = 0; i < cap; i++) {
		KUNIT_ASSERT_TRUE_MSG(test, ops->put(store, (__force netmem_ref)
						     ((i + 1) << PAGE_SHIFT)),
				      "put %lu of %lu refused", i, cap);
		KUNIT_ASSERT_EQ(test, ops->drain(store, out, 0), 0);
	}
	KUNIT_EXPECT_EQ(test, ops->count(store), cap);
	KUNIT_EXPECT_EQ(test, ops->drain(store, out, cap + 1), cap);
	KUNIT_EXPECT_EQ(test, ops->count(store), 0);
	sort(out, cap, sizeof(*out), pp_test_netmem_cmp, NULL);
	for (i = 0; i < cap; i++)
		KUNIT_EXPECT_EQ(test, (__force unsigned long)out[i],
				(i + 1) << PAGE_SHIFT);
	ops->destroy(store);
	pp_policy_put(ops);
}

static struct kunit_case pp_policy_contract_cases[] = {
	KUNIT_CASE_PARAM(pp_test_contract_once, pp_test_policy_gen_params),
	KUNIT_CASE_PARAM(pp_test_contract_once_bulk, pp_test_policy_gen_params),
	KUNIT_CASE_PARAM_ATTR(pp_test_contract_random, pp_test_policy_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM(pp_test_contract_drain, pp_test_policy_gen_params),
	KUNIT_CASE_PARAM(pp_test_contract_fallback, pp_test_policy_gen_params),
	KUNIT_CASE_PARAM(pp_test_contract_store_bound, pp_test_policy_gen_params),
	{}
};

static struct kunit_suite pp_policy_contract_suite = {
	.name = "pp_policy_contract",
	.init = pp_test_init,
	.exit = mp_test_exit,
	.test_cases = pp_policy_contract_cases,
};

/*** the budget policy ***/

static struct mp_huge_binding *pp_test_budget_binding(struct kunit *test,
						      u32 blocks, u32 max_blocks,
						      u32 budget)
{
	struct mp_huge_params p = {
		.blocks		= blocks,
		.max_blocks	= max_blocks,
		.policy		= "budget",
		.policy_params	= { .set = PP_POLICY_BUDGET, .budget = budget },
		.nid		= NUMA_NO_NODE,
	};
	struct mp_huge_binding *b = mp_huge_binding_create(&p, true, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	mp_test_own_binding(test, b);
	return b;
}

static u64 pp_test_kept(struct mp_huge_binding *b)
{
	return mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE) -
	       mp_test_stat(b, MP_HUGE_STAT_PAGES_PARKED);
}

static void pp_test_hold_restore(void *hold)
{
	mp_huge_trim_hold = (unsigned long)hold;
}

/* Trims that releases ask for wait for @hold after growth, for this test. */
static void pp_test_trim_hold(struct kunit *test, unsigned long hold)
{
	void *was = (void *)mp_huge_trim_hold;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pp_test_hold_restore,
							was), 0);
	mp_huge_trim_hold = hold;
}

/* The store never holds more than the budget; huge pages above the
 * reservation whose pages are all home go back whole, and an operator's
 * trim leaves nothing but pages in flight held.
 */
static void pp_test_budget_bound(struct kunit *test)
{
	const unsigned int budget = 100, want = MP_HUGE_PAGES + 200;
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pp_test_policy_name(test);
	pp_test_trim_hold(test, 0);
	pages = kunit_kcalloc(test, want, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = pp_test_budget_binding(test, 1, 2, budget);
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (i = 0; i < want; i++) {
		pages[i] = mp_test_alloc(pool);
		if (!pool->alloc.count)
			mp_huge_flush();	/* let the worker grow */
	}
	KUNIT_ASSERT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 2);
	for (i = 0; i < want; i++) {
		mp_test_free(pool, pages[i]);
		KUNIT_ASSERT_LE(test, pp_test_kept(b), budget);
	}
	mp_test_flush_cache(pool);
	KUNIT_EXPECT_LE(test, pp_test_kept(b), budget);

	/* releases asked for a trim: the block above the reservation goes
	 * back, the reserved one stays
	 */
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 1);

	mp_test_pool_destroy(test, pool);
	mp_huge_trim(b);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 2);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE), 0);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* The budget changes on a live binding from the next release on. */
static void pp_test_budget_live(struct kunit *test)
{
	struct pp_policy_params none = { .set = PP_POLICY_BUDGET, .budget = 0 };
	struct pp_policy_params more = { .set = PP_POLICY_BUDGET, .budget = 300 };
	struct mp_test_ctx *ctx = test->priv;
	struct page *pages[2 * PP_ALLOC_CACHE_REFILL];
	struct mp_huge_binding *b;
	struct page_pool *pool;
	unsigned int i;

	pp_test_policy_name(test);
	b = pp_test_budget_binding(test, 1, 1, 1000);
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = mp_test_alloc(pool);

	KUNIT_ASSERT_EQ(test, mp_huge_binding_set_policy_params(b, &none, NULL), 0);
	for (i = 0; i < PP_ALLOC_CACHE_REFILL; i++)
		mp_test_free(pool, pages[i]);
	KUNIT_EXPECT_EQ(test, pp_test_kept(b), 0);

	KUNIT_ASSERT_EQ(test, mp_huge_binding_set_policy_params(b, &more, NULL), 0);
	for (; i < ARRAY_SIZE(pages); i++)
		mp_test_free(pool, pages[i]);
	/* the ring kept the first page of all: these all reached the policy */
	KUNIT_EXPECT_EQ(test, pp_test_kept(b), PP_ALLOC_CACHE_REFILL);

	pp_test_teardown(test, b, pool, 0);
}

static const char * const pp_test_budget_only[] = { "budget" };
KUNIT_ARRAY_PARAM(pp_test_budget, pp_test_budget_only, pp_test_policy_desc);

/* Traffic that comes and goes: each burst takes the binding from its
 * reservation (one block) to three, then every page comes home and the
 * policy parks all but its budget. The blocks grown stay while bursts keep
 * coming within mp_huge_trim_hold of the last growth: each burst after the
 * first is served by what the binding holds, with no growth and no trim.
 * Once the bursts stop, the blocks above the reservation go back when the
 * hold ends, with no release to ask for it, and the reservation stays.
 */
static void pp_test_budget_churn(struct kunit *test)
{
	const unsigned int want = 3 * MP_HUGE_PAGES;
	const unsigned long hold = 4 * HZ;
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int burst, i;
	unsigned long grown;

	pp_test_policy_name(test);
	pp_test_trim_hold(test, hold);
	pages = kunit_kcalloc(test, want, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	b = pp_test_budget_binding(test, 1, 3, 16);
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);

	for (burst = 0; burst < 4; burst++) {
		if (burst == 1)
			grown = jiffies;
		for (i = 0; i < want; i++) {
			pages[i] = mp_test_alloc(pool);
			KUNIT_ASSERT_NOT_NULL(test, pages[i]);
			if (!pool->alloc.count)
				mp_huge_flush();	/* let the worker grow */
		}
		for (i = 0; i < want; i++)
			mp_test_free(pool, pages[i]);
		mp_test_flush_cache(pool);
		mp_huge_flush();	/* the trims the parks asked for */
		KUNIT_EXPECT_EQ_MSG(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 3,
				    "burst %u", burst);
	}
	KUNIT_ASSERT_LT_MSG(test, jiffies - grown, hold,
			    "the bursts outlasted the hold: too slow a machine for this test");
	/* grown once: one reserved and two grown blocks carved, none back */
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_CARVED),
			3 * MP_HUGE_PAGES);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 0);

	/* the hold ends: the grown blocks go back by themselves */
	KUNIT_EXPECT_TRUE(test, mp_test_wait_stat(b, MP_HUGE_STAT_BLOCKS, 1));
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS_RETURNED), 2);

	mp_test_pool_destroy(test, pool);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static struct kunit_case pp_policy_budget_cases[] = {
	KUNIT_CASE_PARAM(pp_test_budget_bound, pp_test_budget_gen_params),
	KUNIT_CASE_PARAM(pp_test_budget_live, pp_test_budget_gen_params),
	KUNIT_CASE_PARAM_ATTR(pp_test_budget_churn, pp_test_budget_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite pp_policy_budget_suite = {
	.name = "pp_policy_budget",
	.init = pp_test_init,
	.exit = mp_test_exit,
	.test_cases = pp_policy_budget_cases,
};

/*** trims ***/

/* A policy that keeps every other netmem it is offered and counts the
 * drains: what trims cost the store.
 */
static atomic_t pp_test_half_drains;

static bool pp_test_half_put(void *store, netmem_ref netmem)
{
	struct mp_test_store *h = store;
	bool kept = false;

	spin_lock_bh(&h->lock);
	if (h->puts++ & 1)
		kept = pp_netmem_stack_push(&h->stack, netmem);
	spin_unlock_bh(&h->lock);
	return kept;
}

static unsigned int pp_test_half_drain(void *store, netmem_ref *netmems,
				       unsigned int n)
{
	atomic_inc(&pp_test_half_drains);
	return mp_test_store_get(store, netmems, n);
}

static struct pp_policy_ops pp_test_half_ops = {
	.name		= "kunit-half",
	.owner		= THIS_MODULE,
	.create		= mp_test_store_create,
	.destroy	= mp_test_store_destroy,
	.get		= mp_test_store_get,
	.put		= pp_test_half_put,
	.drain		= pp_test_half_drain,
	.count		= mp_test_store_count,
};

static void pp_test_half_unregister(void *data)
{
	pp_policy_unregister(&pp_test_half_ops);
}

/* Releases ask for a trim only when a huge page's pages are all parked:
 * a policy that keeps half of what comes back never makes a block whole
 * in the reserve, so traffic through it costs its store no drain, however
 * many pages the store holds. An operator's trim does drain it, and gives
 * back every block whose pages are all home.
 */
static void pp_test_trim_only_whole(struct kunit *test)
{
	const unsigned int n = 2 * MP_HUGE_PAGES;
	struct mp_test_ctx *ctx = test->priv;
	struct mp_huge_binding *b;
	struct page_pool *pool;
	struct page **pages;
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_EQ(test, pp_policy_register(&pp_test_half_ops), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pp_test_half_unregister,
							NULL), 0);
	atomic_set(&pp_test_half_drains, 0);

	b = mp_test_binding(test, 2, 2, "kunit-half");
	mp_test_bind(test, b, ctx->dev, 0);
	pool = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	for (i = 0; i < n; i++) {
		pages[i] = mp_test_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	for (i = 0; i < n; i++)
		mp_test_free(pool, pages[i]);
	mp_huge_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&pp_test_half_drains), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_TRIMS), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 2);

	mp_test_pool_destroy(test, pool);
	KUNIT_EXPECT_EQ(test, mp_huge_trim(b), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&pp_test_half_drains), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_TRIMS), 1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_BLOCKS), 0);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static struct kunit_case pp_policy_trim_cases[] = {
	KUNIT_CASE(pp_test_trim_only_whole),
	{}
};

static struct kunit_suite pp_policy_trim_suite = {
	.name = "pp_policy_trim",
	.init = pp_test_init,
	.exit = mp_test_exit,
	.test_cases = pp_policy_trim_cases,
};

/*** several CPUs (x86_64 guest; skipped on one CPU) ***/

#define PP_SMP_ROUNDS	2000

struct pp_smp_worker {
	struct page_pool *pool;
	struct completion *start;
	struct completion done;
	unsigned int failures;
};

/* Refill and release as fast as possible: with pool_size 1 nearly every
 * release reaches the policy.
 */
static int pp_smp_worker_fn(void *arg)
{
	struct page *pages[PP_ALLOC_CACHE_REFILL];
	struct pp_smp_worker *w = arg;
	unsigned int r, i;

	wait_for_completion(w->start);
	for (r = 0; r < PP_SMP_ROUNDS; r++) {
		for (i = 0; i < ARRAY_SIZE(pages); i++) {
			pages[i] = mp_test_alloc(w->pool);
			if (!pages[i])
				w->failures++;
		}
		for (i = 0; i < ARRAY_SIZE(pages); i++)
			if (pages[i])
				mp_test_free(w->pool, pages[i]);
		mp_test_flush_cache(w->pool);
		cond_resched();
	}
	complete(&w->done);
	return 0;
}

static int pp_smp_init(struct kunit *test)
{
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	return pp_test_init(test);
}

/* Two pools of one binding, refilling and releasing on two CPUs at once. */
static void pp_test_smp_two_pools(struct kunit *test)
{
	const char *policy = pp_test_policy_name(test);
	struct mp_test_ctx *ctx = test->priv;
	struct pp_smp_worker w[2] = {};
	DECLARE_COMPLETION_ONSTACK(start);
	struct mp_huge_binding *b;
	struct task_struct *t;
	unsigned int i;

	b = mp_test_binding(test, 1, 2, policy);
	for (i = 0; i < 2; i++) {
		mp_test_bind(test, b, ctx->dev, i);
		w[i].pool = mp_test_pool(test, ctx->dev, i, 0, NULL);
		w[i].start = &start;
		init_completion(&w[i].done);
		t = kthread_create(pp_smp_worker_fn, &w[i], "pp_smp/%u", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
		kthread_bind(t, cpumask_nth(i, cpu_online_mask));
		wake_up_process(t);
	}
	complete_all(&start);
	for (i = 0; i < 2; i++)
		wait_for_completion(&w[i].done);

	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, w[i].failures, 0);
		mp_test_pool_destroy(test, w[i].pool);
	}
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_LOST), 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE),
			mp_test_stat(b, MP_HUGE_STAT_BLOCKS) * MP_HUGE_PAGES);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

struct pp_on_cpu {
	struct page_pool *pool;
	struct page *page;	/* in: to free; out: allocated */
	struct page *filler;	/* freed first, to fill the pool's ring */
};

static long pp_alloc_on_cpu(void *arg)
{
	struct pp_on_cpu *c = arg;

	c->page = mp_test_alloc(c->pool);
	return 0;
}

/* Free so that the page reaches the policy on this CPU: the ring of
 * pool_size 1 takes the filler, the page overflows it.
 */
static long pp_free_on_cpu(void *arg)
{
	struct pp_on_cpu *c = arg;

	if (c->filler)
		mp_test_free(c->pool, c->filler);
	mp_test_free(c->pool, c->page);
	return 0;
}

static struct page *pp_alloc_on(unsigned int cpu, struct page_pool *pool)
{
	struct pp_on_cpu c = { .pool = pool };

	work_on_cpu(cpu, pp_alloc_on_cpu, &c);
	return c.page;
}

static long pp_flush_on_cpu(void *arg)
{
	mp_test_flush_cache(arg);
	return 0;
}

static void pp_free_on(unsigned int cpu, struct page_pool *pool,
		       struct page *page, struct page *filler)
{
	struct pp_on_cpu c = { .pool = pool, .page = page, .filler = filler };

	work_on_cpu(cpu, pp_free_on_cpu, &c);
}

/* A page released on a CPU goes out next on that CPU: from the pool that
 * refills there, not from the pool that allocated it on another CPU.
 */
static void pp_test_percpu_locality(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *a, *q, *got, **held;
	struct page_pool *p0, *p1;
	struct mp_huge_binding *b;
	unsigned int cpu0, cpu1, i;

	pp_test_policy_name(test);
	held = kunit_kcalloc(test, 2 * PP_ALLOC_CACHE_REFILL, sizeof(*held),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	cpu0 = cpumask_nth(0, cpu_online_mask);
	cpu1 = cpumask_nth(1, cpu_online_mask);
	b = mp_test_binding(test, 1, 1, "percpu");
	mp_test_bind(test, b, ctx->dev, 0);
	mp_test_bind(test, b, ctx->dev, 1);
	p0 = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	p1 = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	/* a page allocated on CPU0, released on CPU1 */
	a = pp_alloc_on(cpu0, p0);
	q = pp_alloc_on(cpu0, p0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, q);
	pp_free_on(cpu1, p0, a, q);

	/* CPU0 refills from its own magazines and the reserve: not a */
	work_on_cpu(cpu0, pp_flush_on_cpu, p0);
	for (i = 0; i < 2 * PP_ALLOC_CACHE_REFILL; i++) {
		held[i] = pp_alloc_on(cpu0, p0);
		KUNIT_ASSERT_NOT_NULL(test, held[i]);
		KUNIT_EXPECT_PTR_NE(test, held[i], a);
	}
	/* CPU1's pool gets it first */
	got = pp_alloc_on(cpu1, p1);
	KUNIT_EXPECT_PTR_EQ(test, got, a);

	mp_test_free(p1, got);
	for (i = 0; i < 2 * PP_ALLOC_CACHE_REFILL; i++)
		mp_test_free(p0, held[i]);
	mp_test_pool_destroy(test, p0);
	mp_test_pool_destroy(test, p1);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

/* Taking a CPU offline moves its magazines to the depot: nothing is lost,
 * and the other CPUs get the pages.
 */
static void pp_test_percpu_hotplug(struct kunit *test)
{
	struct mp_test_ctx *ctx = test->priv;
	struct page *a, *q, **held;
	struct page_pool *p0, *p1;
	struct mp_huge_binding *b;
	unsigned int cpu0, cpu1, i, n;
	bool seen = false;
	u64 free;
	int err;

	pp_test_policy_name(test);
	held = kunit_kcalloc(test, MP_HUGE_PAGES, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	cpu0 = cpumask_nth(0, cpu_online_mask);
	cpu1 = cpumask_nth(1, cpu_online_mask);
	if (!cpu_is_hotpluggable(cpu1))
		kunit_skip(test, "CPU %u cannot go offline", cpu1);
	b = mp_test_binding(test, 1, 1, "percpu");
	mp_test_bind(test, b, ctx->dev, 0);
	mp_test_bind(test, b, ctx->dev, 1);
	p0 = mp_test_pool(test, ctx->dev, 0, 0, NULL);
	p1 = mp_test_pool(test, ctx->dev, 1, 0, NULL);

	a = pp_alloc_on(cpu1, p1);
	q = pp_alloc_on(cpu1, p1);
	pp_free_on(cpu1, p1, a, q);	/* a sits in CPU1's magazine */
	free = mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE);

	err = remove_cpu(cpu1);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_PAGES_FREE), free);
	for (n = 0; n < MP_HUGE_PAGES && !seen; n++) {
		held[n] = pp_alloc_on(cpu0, p0);
		KUNIT_ASSERT_NOT_NULL(test, held[n]);
		seen = held[n] == a;
	}
	KUNIT_EXPECT_TRUE_MSG(test, seen, "CPU1's page is not reachable");
	KUNIT_EXPECT_EQ(test, add_cpu(cpu1), 0);
	for (i = 0; i < n; i++)
		mp_test_free(p0, held[i]);

	mp_test_pool_destroy(test, p0);
	mp_test_pool_destroy(test, p1);
	mp_test_unbind(test, ctx->dev, 0);
	mp_test_unbind(test, ctx->dev, 1);
	mp_test_put(test, b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static const char * const pp_test_percpu_only[] = { "percpu" };
KUNIT_ARRAY_PARAM(pp_test_percpu, pp_test_percpu_only, pp_test_policy_desc);

/*** stress: everything at once, on every CPU ***/

#define PP_STRESS_POOLS		4
#define PP_STRESS_HELD		(2 * PP_ALLOC_CACHE_REFILL)

struct pp_stress {
	struct mp_huge_binding *b;
	struct page_pool *pools[PP_STRESS_POOLS];
	atomic_t stop;
	atomic_t failures;
	atomic_long_t ops;
};

struct pp_stress_worker {
	struct pp_stress *st;
	unsigned int idx;
	struct completion done;
};

/* Refill and release at random, holding up to PP_STRESS_HELD pages, and
 * now and then flush the alloc cache back to the provider.
 */
static int pp_stress_worker_fn(void *arg)
{
	struct pp_stress_worker *w = arg;
	struct page_pool *pool = w->st->pools[w->idx];
	struct page *held[PP_STRESS_HELD];
	struct rnd_state rnd;
	unsigned int n = 0, k;

	prandom_seed_state(&rnd, w->idx + 1);
	while (!atomic_read(&w->st->stop)) {
		k = prandom_u32_state(&rnd) % 8;
		if (k < 4 && n < PP_STRESS_HELD) {
			held[n] = mp_test_alloc(pool);
			if (held[n])
				n++;
			else
				atomic_inc(&w->st->failures);
		} else if (k < 7 && n) {
			k = prandom_u32_state(&rnd) % n;
			mp_test_free(pool, held[k]);
			held[k] = held[--n];
		} else {
			mp_test_flush_cache(pool);
		}
		atomic_long_inc(&w->st->ops);
		cond_resched();
	}
	while (n)
		mp_test_free(pool, held[--n]);
	mp_test_flush_cache(pool);
	complete(&w->done);
	return 0;
}

/* Several pools of one binding refill and release on every CPU while trims,
 * growth, live parameter changes, a queue unbound and bound again and a
 * CPU going offline and back run beside them. At the end the counters
 * balance and every page and huge page is home.
 */
static void pp_test_smp_stress(struct kunit *test)
{
	const char *policy = pp_test_policy_name(test);
	struct pp_stress_worker w[PP_STRESS_POOLS] = {};
	struct mp_test_ctx *ctx = test->priv;
	struct pp_policy_params params = {};
	unsigned int i, round, cpu;
	struct task_struct *t;
	struct pp_stress *st;
	u64 free, lost;
	int err;

	/* the CPU going offline and back is part of what this case shows */
	cpu = cpumask_nth(1, cpu_online_mask);
	if (!cpu_is_hotpluggable(cpu))
		kunit_skip(test, "CPU %u cannot go offline", cpu);
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->b = mp_test_binding(test, 1, 4, policy);
	for (i = 0; i < PP_STRESS_POOLS; i++) {
		mp_test_bind(test, st->b, ctx->dev, i);
		st->pools[i] = mp_test_pool(test, ctx->dev, i, 0, NULL);
	}
	for (i = 0; i < PP_STRESS_POOLS; i++) {
		w[i].st = st;
		w[i].idx = i;
		init_completion(&w[i].done);
		t = kthread_create(pp_stress_worker_fn, &w[i], "pp_stress/%u", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
		kthread_bind(t, cpumask_nth(i % num_online_cpus(), cpu_online_mask));
		wake_up_process(t);
	}

	for (round = 0; round < 40; round++) {
		switch (round % 5) {
		case 0:
			mp_huge_trim(st->b);
			break;
		case 1:
			/* shrink, then let it grow again */
			KUNIT_EXPECT_EQ(test, mp_huge_binding_set(st->b, 1 + round % 4,
								  NULL, NULL), 0);
			break;
		case 2:
			if (!strcmp(policy, "budget")) {
				params.set = PP_POLICY_BUDGET;
				params.budget = (round * 37) % 600;
			} else if (!strcmp(policy, "percpu")) {
				params.set = PP_POLICY_DEPOT;
				params.depot = round % 8;
			} else {
				params.set = 0;
			}
			if (params.set) {
				err = mp_huge_binding_set_policy_params(st->b, &params, NULL);
				KUNIT_EXPECT_EQ(test, err, 0);
			}
			break;
		case 3:
			/* unbound, the queue's pool keeps drawing; bound again */
			mp_test_unbind(test, ctx->dev, PP_STRESS_POOLS - 1);
			mp_test_bind(test, st->b, ctx->dev, PP_STRESS_POOLS - 1);
			break;
		case 4:
			err = remove_cpu(cpu);
			KUNIT_EXPECT_EQ_MSG(test, err, 0,
					    "CPU %u did not go offline", cpu);
			if (!err) {
				msleep(20);
				KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
			}
			break;
		}
		msleep(25);
	}
	atomic_set(&st->stop, 1);
	for (i = 0; i < PP_STRESS_POOLS; i++)
		wait_for_completion(&w[i].done);
	kunit_info(test, "%s: %ld operations, %d refills failed\n", policy,
		   atomic_long_read(&st->ops), atomic_read(&st->failures));
	KUNIT_EXPECT_EQ(test, atomic_read(&st->failures), 0);

	for (i = 0; i < PP_STRESS_POOLS; i++)
		mp_test_pool_destroy(test, st->pools[i]);
	mp_huge_flush();
	free = mp_test_stat(st->b, MP_HUGE_STAT_PAGES_FREE);
	lost = mp_test_stat(st->b, MP_HUGE_STAT_PAGES_LOST);
	KUNIT_EXPECT_EQ(test, mp_test_stat(st->b, MP_HUGE_STAT_PAGES_INFLIGHT), 0);
	KUNIT_EXPECT_EQ(test, lost, 0);
	KUNIT_EXPECT_EQ(test, free,
			mp_test_stat(st->b, MP_HUGE_STAT_BLOCKS) * MP_HUGE_PAGES);
	for (i = 0; i < PP_STRESS_POOLS; i++)
		mp_test_unbind(test, ctx->dev, i);
	mp_test_put(test, st->b);
	KUNIT_EXPECT_TRUE(test, mp_test_wait_home(ctx->blocks_before));
}

static struct kunit_case pp_policy_smp_cases[] = {
	KUNIT_CASE_PARAM_ATTR(pp_test_smp_two_pools, pp_test_policy_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM(pp_test_percpu_locality, pp_test_percpu_gen_params),
	KUNIT_CASE_PARAM(pp_test_percpu_hotplug, pp_test_percpu_gen_params),
	KUNIT_CASE_PARAM_ATTR(pp_test_smp_stress, pp_test_policy_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite pp_policy_smp_suite = {
	.name = "pp_policy_smp",
	.init = pp_smp_init,
	.exit = mp_test_exit,
	.test_cases = pp_policy_smp_cases,
};

kunit_test_suites(&pp_policy_registry_suite, &pp_policy_contract_suite,
		  &pp_policy_budget_suite, &pp_policy_trim_suite,
		  &pp_policy_smp_suite);

MODULE_DESCRIPTION("KUnit tests of the page pool recycling policies");
MODULE_LICENSE("GPL");
