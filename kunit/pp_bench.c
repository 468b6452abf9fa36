// SPDX-License-Identifier: GPL-2.0
/*
 * page_pool microbenchmark: the page allocator path against the hugepage
 * provider under each recycling policy, in the same run, on real page
 * pools. Built as a KUnit suite (CONFIG_PAGE_POOL_BENCH) and run only when
 * booted with pp_bench.run=1 (make bench): under UML, which runs kernel
 * code natively, for the single-CPU figures, and in the x86_64 guest with
 * two CPUs for the shared-binding figure, reported as ratios.
 *
 * What each figure times, in ns per page, median of PP_BENCH_REPS runs:
 *  fast     page_pool_alloc_pages() + page_pool_recycle_direct(): the
 *           alloc cache; neither the page allocator nor a provider is
 *           involved.
 *  ring     page_pool_alloc_pages() + page_pool_put_full_page() not
 *           direct (ptr_ring of 1024, never full): the ring refills the
 *           alloc cache in batches.
 *  refill   PP_BENCH_BATCH allocations from an empty alloc cache and a
 *           ptr_ring holding one page (one page from the ring, then a
 *           refill of PP_ALLOC_CACHE_REFILL from the source: the page
 *           allocator's bulk allocation, or the provider's alloc_netmems),
 *           less as many allocations from a full alloc cache, per refilled
 *           page. (UML's clock ticks every 256 ns: only batches are timed.)
 *  release  a page leaving the pool through page_pool_return_page(): to
 *           the page allocator (put_page), or to the provider's
 *           release_netmem and the policy's store. Releases reach a
 *           provider only when the ptr_ring is full (or on destroy, NUMA
 *           waive, extra references), so the pool has a ptr_ring of one
 *           page, kept full: the figure is the cost of a put that
 *           overflows the ring, less that of a put into a ring with room
 *           (measured alike), i.e. page_pool_return_page() and what it
 *           calls, with its fixed costs (indirect call, atomic release
 *           count, tracepoint).
 *  cycle    refill + release: what a page costs to come from and go back
 *           to its source.
 *  put+get  everything page_pool does for a page in that slow cycle:
 *           allocations and puts of the refill/release loop, per page.
 *  bulk     release in bursts: the same overflowing puts made with
 *           page_pool_put_page_bulk() in bursts of 16 (XDP's bulk queue,
 *           as XDP_REDIRECT and XDP_TX completions free), less bursts into
 *           a ring with room, per page. With the hook series a provider
 *           with release_netmems takes each burst in one call.
 *  bulk, one by one  the same with the provider's release_netmems hidden
 *           from page_pool (a copy of its ops without it), which then
 *           hands each page over alone: the batch op's gain, same run.
 * The shared-binding figure: two pools of one binding, each refilling and
 * releasing as in refill/release on its own CPU (kthreads bound to CPU 0
 * and 1), pages per second of both together.
 *
 * The page allocator column builds on a tree without the hook series as
 * well (scripts/bench.sh adds this file and its Kconfig entry to pristine
 * 6.12): its pools are plain pools, no device, no DMA, the same code in
 * both kernels, so the column measured on both says what the hooks cost
 * the path that has no provider.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sort.h>
#include <net/page_pool/helpers.h>
#ifdef CONFIG_PAGE_POOL_MP_HUGE
#include <net/page_pool/memory_provider.h>
#include <net/page_pool/mp_huge.h>
#include <net/page_pool/pp_policy.h>

#include "mp_test.h"
#endif

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static bool run;
module_param(run, bool, 0444);
MODULE_PARM_DESC(run, "run the page_pool benchmark (pp_bench.run=1)");

#define PP_BENCH_REPS		7
#define PP_BENCH_FAST_OPS	(2 * 1000 * 1000)
#define PP_BENCH_CYCLES		20000
#define PP_BENCH_BATCH		(PP_ALLOC_CACHE_REFILL + 1)
#define PP_BENCH_SMP_CYCLES	4000
#define PP_BENCH_BULK		16	/* XDP_BULK_QUEUE_SIZE */

enum {
	PP_FAST, PP_RING, PP_REFILL, PP_RELEASE, PP_CYCLE, PP_PUTGET, PP_BULK,
	PP_BULK_ONE, PP_NPATHS
};

static const char * const pp_bench_paths[PP_NPATHS] = {
	"fast: alloc cache", "ptr_ring", "refill, per page", "release to source",
	"cycle: refill + release", "put+get in that cycle",
	"release in bursts of 16",
	"bursts, one by one to the provider",
};

/* column 0 is the page allocator, then one per policy */
static const char * const pp_bench_sources[] = {
	"buddy", "lifo", "percpu", "budget",
};

#define PP_NSOURCES ARRAY_SIZE(pp_bench_sources)

struct pp_bench {
	struct kunit *test;
	struct net_device *dev;
	u64 ns[PP_NSOURCES][PP_NPATHS];	/* picoseconds per page, median */
	bool have[PP_NSOURCES];
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *v)
{
	sort(v, PP_BENCH_REPS, sizeof(*v), cmp_u64, NULL);
	return v[PP_BENCH_REPS / 2];
}

static struct page_pool *pp_bench_pool(struct pp_bench *bench,
				       unsigned int pool_size, bool provider)
{
	struct page_pool_params pp = {
		.pool_size	= pool_size,
		.nid		= NUMA_NO_NODE,
	};
	struct page_pool *pool;

#ifdef CONFIG_PAGE_POOL_MP_HUGE
	/* a provider's pool: rx queue 0 of the test device, bound */
	if (provider) {
		pp.dev = &bench->dev->dev;
		pp.netdev = bench->dev;
		pp.queue_idx = 0;
		pp.flags = PP_FLAG_RX_QUEUE;
	}
#endif

	rtnl_lock();
	pool = page_pool_create(&pp);
	rtnl_unlock();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(bench->test, pool);
	return pool;
}

/* picoseconds per op */
static u64 pp_bench_fast(struct page_pool *pool, bool direct)
{
	struct page *page;
	u64 t0, t;
	int i;

	local_bh_disable();
	t0 = ktime_get_ns();
	for (i = 0; i < PP_BENCH_FAST_OPS; i++) {
		page = page_pool_alloc_pages(pool, GFP_ATOMIC);
		if (direct)
			page_pool_recycle_direct(pool, page);
		else
			page_pool_put_full_page(pool, page, false);
	}
	t = ktime_get_ns() - t0;
	local_bh_enable();
	return t * 1000 / PP_BENCH_FAST_OPS;
}

struct pp_bench_slow {
	u64 alloc;	/* ps per PP_BENCH_BATCH allocations */
	u64 overflow;	/* ps per put overflowing the ring */
	u64 all;	/* ps per page for all allocs and puts */
};

/* Every 256 cycles of a loop run with BH off, let the CPU do other work */
static void pp_bench_breathe(unsigned int cycle)
{
	if (cycle & 255)
		return;
	local_bh_enable();
	cond_resched();
	local_bh_disable();
}

/* PP_BENCH_BATCH allocations from an empty cache and a ring of one page
 * (one from the ring, then a refill), then PP_BENCH_BATCH puts (the first
 * fills the ring, the others overflow it).
 */
static void pp_bench_slow(struct page_pool *pool, unsigned int cycles,
			  struct pp_bench_slow *res)
{
	struct page *pages[PP_BENCH_BATCH];
	u64 t0, t3, t4, t5, alloc = 0, over = 0;
	unsigned int c, i;

	local_bh_disable();
	for (c = 0; c < cycles; c++) {
		t0 = ktime_get_ns();
		for (i = 0; i < PP_BENCH_BATCH; i++)
			pages[i] = page_pool_alloc_pages(pool, GFP_ATOMIC);
		t3 = ktime_get_ns();
		page_pool_put_full_page(pool, pages[0], false);
		t4 = ktime_get_ns();
		for (i = 1; i < PP_BENCH_BATCH; i++)
			page_pool_put_full_page(pool, pages[i], false);
		t5 = ktime_get_ns();
		alloc += (t3 - t0) * 1000;
		over += (t5 - t4) * 1000;
		pp_bench_breathe(c);
	}
	local_bh_enable();
	res->alloc = alloc / cycles;
	res->overflow = over / ((u64)cycles * (PP_BENCH_BATCH - 1));
	res->all = (alloc + over) / ((u64)cycles * PP_BENCH_BATCH);
}

/* PP_BENCH_BATCH allocations from a full alloc cache, picoseconds */
static u64 pp_bench_cache_alloc(struct page_pool *pool, unsigned int cycles)
{
	struct page *pages[PP_BENCH_BATCH];
	unsigned int c, i;
	u64 t0, t = 0;

	local_bh_disable();
	for (c = 0; c < cycles; c++) {
		t0 = ktime_get_ns();
		for (i = 0; i < PP_BENCH_BATCH; i++)
			pages[i] = page_pool_alloc_pages(pool, GFP_ATOMIC);
		t += ktime_get_ns() - t0;
		for (i = 0; i < PP_BENCH_BATCH; i++)
			page_pool_recycle_direct(pool, pages[PP_BENCH_BATCH - 1 - i]);
		pp_bench_breathe(c);
	}
	local_bh_enable();
	return t * 1000 / cycles;
}

/* A put into a ptr_ring with room, picoseconds, as timed in pp_bench_slow */
static u64 pp_bench_ring_put(struct page_pool *pool, unsigned int cycles)
{
	struct page *pages[PP_BENCH_BATCH - 1];
	unsigned int c, i;
	u64 t0, t = 0;

	local_bh_disable();
	for (c = 0; c < cycles; c++) {
		for (i = 0; i < ARRAY_SIZE(pages); i++)
			pages[i] = page_pool_alloc_pages(pool, GFP_ATOMIC);
		t0 = ktime_get_ns();
		for (i = 0; i < ARRAY_SIZE(pages); i++)
			page_pool_put_full_page(pool, pages[i], false);
		t += ktime_get_ns() - t0;
		pp_bench_breathe(c);
	}
	local_bh_enable();
	return t * 1000 / ((u64)cycles * ARRAY_SIZE(pages));
}

/* Picoseconds per page put with page_pool_put_page_bulk() in bursts of
 * PP_BENCH_BULK: PP_BENCH_BATCH - 1 pages after a first that fills the
 * ring, if @fill (in a pool of one page, they all overflow it).
 */
static u64 pp_bench_put_bulk(struct page_pool *pool, unsigned int cycles,
			     bool fill)
{
	void *data[PP_BENCH_BATCH - 1];
	struct page *first = NULL;
	unsigned int c, i, k;
	u64 t0, t = 0;

	BUILD_BUG_ON(ARRAY_SIZE(data) % PP_BENCH_BULK);
	local_bh_disable();
	for (c = 0; c < cycles; c++) {
		if (fill)
			first = page_pool_alloc_pages(pool, GFP_ATOMIC);
		for (i = 0; i < ARRAY_SIZE(data); i++)
			data[i] = page_address(page_pool_alloc_pages(pool, GFP_ATOMIC));
		if (first)
			page_pool_put_full_page(pool, first, false);
		t0 = ktime_get_ns();
		for (k = 0; k < ARRAY_SIZE(data); k += PP_BENCH_BULK)
			page_pool_put_page_bulk(pool, data + k, PP_BENCH_BULK);
		t += ktime_get_ns() - t0;
		pp_bench_breathe(c);
	}
	local_bh_enable();
	return t * 1000 / ((u64)cycles * ARRAY_SIZE(data));
}

/* pp_bench_put_bulk() with the pool's provider, if any, taking each page
 * of a burst alone: page_pool sees a copy of the provider's ops without
 * release_netmems. Nothing else compares or keeps the pool's ops pointer.
 */
static u64 pp_bench_put_bulk_one(struct page_pool *pool, unsigned int cycles)
{
#ifdef CONFIG_PAGE_POOL_MP_HUGE
	const struct memory_provider_ops *ops = pool->mp_ops;
	struct memory_provider_ops one;
	u64 t;

	if (!ops)
		return pp_bench_put_bulk(pool, cycles, true);
	one = *ops;
	one.release_netmems = NULL;
	pool->mp_ops = &one;
	pp_bench_put_bulk(pool, 64, true);		/* warm up */
	t = pp_bench_put_bulk(pool, cycles, true);
	pool->mp_ops = ops;
	return t;
#else
	return pp_bench_put_bulk(pool, cycles, true);
#endif
}

static void pp_bench_source(struct pp_bench *bench, unsigned int src)
{
	u64 v[PP_NPATHS][PP_BENCH_REPS], ringput, ringbulk, cached, bulk;
	struct pp_bench_slow slow;
	struct page_pool *pool;
	struct page *warm;
	unsigned int r, p;

	for (r = 0; r < PP_BENCH_REPS; r++) {
		pool = pp_bench_pool(bench, 1024, src);
		warm = page_pool_alloc_pages(pool, GFP_KERNEL);	/* fill cache */
		page_pool_recycle_direct(pool, warm);
		v[PP_FAST][r] = pp_bench_fast(pool, true);
		v[PP_RING][r] = pp_bench_fast(pool, false);
		ringput = pp_bench_ring_put(pool, PP_BENCH_CYCLES);
		ringbulk = pp_bench_put_bulk(pool, PP_BENCH_CYCLES, false);
		cached = pp_bench_cache_alloc(pool, PP_BENCH_CYCLES);
		page_pool_destroy(pool);

		pool = pp_bench_pool(bench, 1, src);
		pp_bench_slow(pool, 64, &slow);		/* warm up */
		pp_bench_slow(pool, PP_BENCH_CYCLES, &slow);
		v[PP_REFILL][r] = slow.alloc > cached ?
				  (slow.alloc - cached) / PP_ALLOC_CACHE_REFILL : 0;
		v[PP_RELEASE][r] = slow.overflow > ringput ?
				   slow.overflow - ringput : 0;
		v[PP_CYCLE][r] = v[PP_REFILL][r] + v[PP_RELEASE][r];
		v[PP_PUTGET][r] = slow.all;
		pp_bench_put_bulk(pool, 64, true);		/* warm up */
		bulk = pp_bench_put_bulk(pool, PP_BENCH_CYCLES, true);
		v[PP_BULK][r] = bulk > ringbulk ? bulk - ringbulk : 0;
		bulk = pp_bench_put_bulk_one(pool, PP_BENCH_CYCLES);
		v[PP_BULK_ONE][r] = bulk > ringbulk ? bulk - ringbulk : 0;
		page_pool_destroy(pool);
	}
	for (p = 0; p < PP_NPATHS; p++)
		bench->ns[src][p] = median(v[p]);
	bench->have[src] = true;
}

#ifdef CONFIG_PAGE_POOL_MP_HUGE
/* Whether @policy is registered now: a policy built as a module is not,
 * when the suites run at boot, before userspace could load it.
 */
static bool pp_bench_registered(const char *policy)
{
	char avail[128], *s = avail, *name;

	pp_policy_get_available(avail, sizeof(avail));
	while ((name = strsep(&s, " ")))
		if (!strcmp(name, policy))
			return true;
	return false;
}

static struct mp_huge_binding *pp_bench_bind(struct pp_bench *bench,
					     const char *policy,
					     unsigned int queues)
{
	struct mp_huge_params p = {
		.blocks		= 8,
		.max_blocks	= 8,
		.nid		= NUMA_NO_NODE,
	};
	struct mp_huge_binding *b;
	unsigned int q;

	/* the budget policy keeps everything here: releases are kept, as
	 * under the other policies (which refuse a budget parameter)
	 */
	if (!strcmp(policy, "budget"))
		p.policy_params = (struct pp_policy_params){
			.set = PP_POLICY_BUDGET, .budget = 8 * MP_HUGE_PAGES };
	strscpy(p.policy, policy, sizeof(p.policy));
	b = mp_huge_binding_create(&p, true, NULL);
	if (IS_ERR(b))
		return NULL;
	for (q = 0; q < queues; q++)
		mp_test_bind(bench->test, b, bench->dev, q);
	return b;
}

static void pp_bench_unbind(struct pp_bench *bench, struct mp_huge_binding *b,
			    unsigned int queues)
{
	unsigned int q;

	for (q = 0; q < queues; q++)
		mp_test_unbind(bench->test, bench->dev, q);
	mp_huge_binding_put(b);
	mp_huge_flush();
}

#endif /* CONFIG_PAGE_POOL_MP_HUGE */

static void pp_bench_print(struct pp_bench *bench)
{
	struct kunit *test = bench->test;
	unsigned int s, p;
	char line[256];
	int n;

	kunit_info(test, "pp_bench: ns per page, median of %u runs (UML, one CPU)%s\n",
		   PP_BENCH_REPS, IS_ENABLED(CONFIG_PAGE_POOL_MP_HUGE) ? "" :
		   ", kernel without the hook series: page allocator only");
	n = scnprintf(line, sizeof(line), "pp_bench: | path |");
	for (s = 0; s < PP_NSOURCES; s++)
		if (bench->have[s])
			n += scnprintf(line + n, sizeof(line) - n, " %s |%s",
				       pp_bench_sources[s], s ? " ratio |" : "");
	kunit_info(test, "%s\n", line);
	n = scnprintf(line, sizeof(line), "pp_bench: |---|");
	for (s = 0; s < PP_NSOURCES; s++)
		if (bench->have[s])
			n += scnprintf(line + n, sizeof(line) - n, "---:|%s",
				       s ? "---:|" : "");
	kunit_info(test, "%s\n", line);

	for (p = 0; p < PP_NPATHS; p++) {
		n = scnprintf(line, sizeof(line), "pp_bench: | %s |",
			      pp_bench_paths[p]);
		for (s = 0; s < PP_NSOURCES; s++) {
			u64 v = bench->ns[s][p], base = bench->ns[0][p];

			if (!bench->have[s])
				continue;
			n += scnprintf(line + n, sizeof(line) - n, " %llu.%02llu |",
				       v / 1000, v % 1000 / 10);
			if (s)
				n += scnprintf(line + n, sizeof(line) - n,
					       " %llu.%02llux |",
					       base ? v / base : 0,
					       base ? v * 100 / base % 100 : 0);
		}
		kunit_info(test, "%s\n", line);
	}
}

/* Single-CPU paths, page allocator against every policy. */
static void pp_bench_paths_test(struct kunit *test)
{
	struct pp_bench *bench;

	if (!run)
		kunit_skip(test, "benchmark: boot with pp_bench.run=1");
	bench = kunit_kzalloc(test, sizeof(*bench), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bench);
	bench->test = test;

	pp_bench_source(bench, 0);
#ifdef CONFIG_PAGE_POOL_MP_HUGE
	bench->dev = mp_test_netdev(test);
	for (unsigned int s = 1; s < PP_NSOURCES; s++) {
		struct mp_huge_binding *b;

		if (!pp_bench_registered(pp_bench_sources[s])) {
			kunit_info(test, "pp_bench: %s not built in\n",
				   pp_bench_sources[s]);
			continue;
		}
		b = pp_bench_bind(bench, pp_bench_sources[s], 1);
		if (!b) {
			KUNIT_FAIL(test, "pp_bench: cannot bind with %s",
				   pp_bench_sources[s]);
			continue;
		}
		pp_bench_source(bench, s);
		KUNIT_EXPECT_EQ(test, mp_test_stat(b, MP_HUGE_STAT_FALLBACKS), 0);
		pp_bench_unbind(bench, b, 1);
	}
#endif
	pp_bench_print(bench);
}

#ifdef CONFIG_PAGE_POOL_MP_HUGE

struct pp_bench_worker {
	struct page_pool *pool;
	struct completion *start;
	struct completion done;
};

static int pp_bench_worker_fn(void *arg)
{
	struct pp_bench_worker *w = arg;
	struct pp_bench_slow slow;

	wait_for_completion(w->start);
	pp_bench_slow(w->pool, PP_BENCH_SMP_CYCLES, &slow);
	complete(&w->done);
	return 0;
}

/* pages per second of two pools of one binding on two CPUs */
static u64 pp_bench_smp_one(struct pp_bench *bench, const char *policy)
{
	struct pp_bench_worker w[2] = {};
	DECLARE_COMPLETION_ONSTACK(start);
	struct mp_huge_binding *b;
	struct task_struct *t;
	u64 t0, ns;
	unsigned int i;

	if (!pp_bench_registered(policy)) {
		kunit_info(bench->test, "pp_bench: %s not built in\n", policy);
		return 0;
	}
	b = pp_bench_bind(bench, policy, 2);
	if (!b) {
		KUNIT_FAIL(bench->test, "pp_bench: cannot bind with %s", policy);
		return 0;
	}
	for (i = 0; i < 2; i++) {
		struct page_pool_params pp = {
			.pool_size = 1, .nid = NUMA_NO_NODE,
			.dev = &bench->dev->dev, .netdev = bench->dev,
			.queue_idx = i, .flags = PP_FLAG_RX_QUEUE,
		};

		rtnl_lock();
		w[i].pool = page_pool_create(&pp);
		rtnl_unlock();
		KUNIT_ASSERT_NOT_ERR_OR_NULL(bench->test, w[i].pool);
		w[i].start = &start;
		init_completion(&w[i].done);
		t = kthread_create(pp_bench_worker_fn, &w[i], "pp_bench/%u", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(bench->test, t);
		kthread_bind(t, cpumask_nth(i, cpu_online_mask));
		wake_up_process(t);
	}
	t0 = ktime_get_ns();
	complete_all(&start);
	for (i = 0; i < 2; i++)
		wait_for_completion(&w[i].done);
	ns = ktime_get_ns() - t0;
	for (i = 0; i < 2; i++)
		page_pool_destroy(w[i].pool);
	pp_bench_unbind(bench, b, 2);
	return 2ULL * PP_BENCH_SMP_CYCLES * PP_BENCH_BATCH * NSEC_PER_SEC / ns;
}

/* Two pools of one binding on two CPUs: ratios between policies. */
static void pp_bench_smp_test(struct kunit *test)
{
	u64 v[PP_NSOURCES][PP_BENCH_REPS], med[PP_NSOURCES];
	struct pp_bench *bench;
	unsigned int s, r;

	if (!run)
		kunit_skip(test, "benchmark: boot with pp_bench.run=1");
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	bench = kunit_kzalloc(test, sizeof(*bench), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bench);
	bench->test = test;
	bench->dev = mp_test_netdev(test);

	for (r = 0; r < PP_BENCH_REPS; r++)
		for (s = 1; s < PP_NSOURCES; s++)
			v[s][r] = pp_bench_smp_one(bench, pp_bench_sources[s]);
	kunit_info(test, "pp_bench: two pools of one binding on two CPUs (refill + release, pool_size 1), median of %u runs\n",
		   PP_BENCH_REPS);
	kunit_info(test, "pp_bench: | policy | pages/s | vs lifo |\n");
	kunit_info(test, "pp_bench: |---|---:|---:|\n");
	for (s = 1; s < PP_NSOURCES; s++)
		med[s] = median(v[s]);
	for (s = 1; s < PP_NSOURCES; s++) {
		if (!med[s])
			continue;
		kunit_info(test, "pp_bench: | %s | %llu | %llu.%02llux |\n",
			   pp_bench_sources[s], med[s], med[s] / med[1],
			   med[s] * 100 / med[1] % 100);
	}
}

#endif /* CONFIG_PAGE_POOL_MP_HUGE */

static struct kunit_case pp_bench_cases[] = {
	KUNIT_CASE_SLOW(pp_bench_paths_test),
#ifdef CONFIG_PAGE_POOL_MP_HUGE
	KUNIT_CASE_SLOW(pp_bench_smp_test),
#endif
	{}
};

static struct kunit_suite pp_bench_suite = {
	.name = "pp_bench",
	.test_cases = pp_bench_cases,
};

kunit_test_suite(pp_bench_suite);

MODULE_DESCRIPTION("page_pool microbenchmark: page allocator and hugepage provider");
MODULE_LICENSE("GPL");
