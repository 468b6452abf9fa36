// SPDX-License-Identifier: GPL-2.0
/*
 * hugepool: bind rx queues to the hugepage or the memory-cap provider,
 * change and unbind those bindings, and show them with their queues and
 * page pools, over the netdev netlink family: mp-bind, mp-binding-set,
 * mp-unbind, mp-binding-get, queue-get, page-pool-get and the binding
 * notifications of the mgmt group (Documentation/netlink/specs/netdev.yaml).
 *
 * Built on the kernel tree's YNL C library (tools/net/ynl) and the code it
 * generates from that spec, as tools/net/ynl/samples are.
 *
 * Exit status: 0 done; 1 the kernel refused, or something else failed;
 * 2 usage error, and then nothing was sent.
 */
#define _GNU_SOURCE	/* ppoll() */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ynl.h>

#include <net/if.h>

#include "netdev-user.h"

enum { HP_OK, HP_ERR, HP_USAGE };

/* A queue nests in 20 bytes of request; YNL's buffer holds 128 KiB. */
#define HP_MAX_QUEUES	4096

static const char * const usage_lines[] = {
	"bind DEV QUEUES huge [blocks N] [max N] [policy NAME [k=v ...]] [nid N]",
	"bind DEV QUEUES cap PAGES [low N] [device-budget N]",
	"set ID [max N] [budget=N] [magazine=N] [depot=N] [trim]",
	"set ID [cap N] [low N] [device-budget N]",
	"unbind ID",
	"show [DEV]",
	"queues DEV",
	"pools [DEV]",
	"monitor",
};

/* The usage lines of @verb, or all of them when it is NULL. */
static void usage(FILE *f, const char *verb)
{
	size_t len = verb ? strlen(verb) : 0;
	unsigned int i, n = 0;

	for (i = 0; i < YNL_ARRAY_SIZE(usage_lines); i++) {
		if (verb && (strncmp(usage_lines[i], verb, len) ||
			     (usage_lines[i][len] && usage_lines[i][len] != ' ')))
			continue;
		fprintf(f, "%s hugepool %s\n", n++ ? "      " : "usage:",
			usage_lines[i]);
	}
	if (verb)
		return;
	fputs("DEV: a device's name or ifindex. QUEUES: rx queues, like 0-3 or 0,2,5.\n", f);
	fputs("k=v: recycling policy parameters, budget=N, magazine=N, depot=N.\n", f);
}

static int __attribute__((format(printf, 2, 3)))
usage_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hugepool: %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr, verb);
	return HP_USAGE;
}

static int oom(void)
{
	fprintf(stderr, "hugepool: %s\n", strerror(ENOMEM));
	return HP_ERR;
}

/* A decimal number up to @max, and nothing else. */
static bool parse_num(const char *s, __u64 max, __u64 *v)
{
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > max)
		return false;
	*v = n;
	return true;
}

/*
 * The number after the keyword at argv[*i], moving *i to it. @seen: the
 * keyword came before, which is refused.
 */
static int key_num(const char *verb, int argc, char **argv, int *i,
		   bool seen, __u64 max, __u64 *v)
{
	const char *key = argv[*i];

	if (seen)
		return usage_err(verb, "%s given twice", key);
	if (++*i >= argc)
		return usage_err(verb, "%s: missing N", key);
	if (!parse_num(argv[*i], max, v))
		return usage_err(verb, "%s: bad number '%s'", key, argv[*i]);
	return 0;
}

/*
 * A recycling policy parameter, budget=N, magazine=N or depot=N, into @p.
 * -1 when @kv is no k=v word at all.
 */
static int parse_policy_param(const char *verb, const char *kv,
			      struct netdev_pp_policy_params *p)
{
	const char *eq = strchr(kv, '=');
	__u64 v = 0;
	__u32 *dst;
	int len;

	if (!eq)
		return -1;
	len = eq - kv;
	if (len == 6 && !strncmp(kv, "budget", len) && !p->_present.budget) {
		p->_present.budget = 1;
		dst = &p->budget;
	} else if (len == 8 && !strncmp(kv, "magazine", len) &&
		   !p->_present.magazine) {
		p->_present.magazine = 1;
		dst = &p->magazine;
	} else if (len == 5 && !strncmp(kv, "depot", len) &&
		   !p->_present.depot) {
		p->_present.depot = 1;
		dst = &p->depot;
	} else {
		return usage_err(verb, "unknown or repeated policy parameter '%.*s'",
				 len, kv);
	}
	if (!parse_num(eq + 1, UINT32_MAX, &v))
		return usage_err(verb, "%.*s: bad number '%s'", len, kv, eq + 1);
	*dst = v;
	return 0;
}

/* QUEUES, like 0-3, 0,2,5 or 0-1,4, as rx queue ids. */
static int parse_queues(const char *verb, const char *s,
			struct netdev_queue_id **queues, unsigned int *n)
{
	char *list, *rest, *tok, *dash;
	struct netdev_queue_id *q;
	__u64 lo, hi, id;
	int ret = 0;

	*n = 0;
	q = calloc(HP_MAX_QUEUES, sizeof(*q));
	list = strdup(s);
	if (!q || !list) {
		ret = oom();
		goto out;
	}
	rest = list;
	while ((tok = strsep(&rest, ","))) {
		dash = strchr(tok, '-');
		if (dash)
			*dash++ = '\0';
		if (!parse_num(tok, UINT32_MAX, &lo) ||
		    !parse_num(dash ?: tok, UINT32_MAX, &hi) || hi < lo) {
			ret = usage_err(verb, "bad QUEUES '%s'", s);
			break;
		}
		if (hi - lo >= HP_MAX_QUEUES - *n) {
			ret = usage_err(verb, "more than %u queues", HP_MAX_QUEUES);
			break;
		}
		for (id = lo; id <= hi; id++) {
			q[*n]._present.id = 1;
			q[*n]._present.type = 1;
			q[*n].id = id;
			q[*n].type = NETDEV_QUEUE_TYPE_RX;
			(*n)++;
		}
	}
out:
	free(list);
	if (ret) {
		free(q);
		q = NULL;
	}
	*queues = q;
	return ret;
}

/* A device by name, or by ifindex when no device has that name. */
static int parse_dev(const char *s, __u32 *ifindex)
{
	__u64 v;

	*ifindex = if_nametoindex(s);
	if (*ifindex)
		return 0;
	if (parse_num(s, UINT32_MAX, &v) && v) {
		*ifindex = v;
		return 0;
	}
	fprintf(stderr, "hugepool: %s: %s\n", s, strerror(ENODEV));
	return HP_ERR;
}

/* "vb" if the device is in this namespace, else "ifindex 5". */
static const char *dev_name(__u32 ifindex, char *buf, size_t size)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(ifindex, name))
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "ifindex %u", ifindex);
	return buf;
}

/*
 * YNL keeps what the kernel said about the last request in ys->err.msg,
 * worded "Kernel error: 'MSG' (bad attribute: .huge.policy)" or "Kernel
 * warning: 'MSG'", and strerror() or its own message when the kernel said
 * nothing. Strip the wording in place and return what the kernel said,
 * or NULL.
 */
static const char *extack(struct ynl_sock *ys)
{
	static const char * const prefix[] = {
		"Kernel error: ", "Kernel warning: ",
	};
	char *msg = NULL, *quote;
	unsigned int i;

	for (i = 0; i < YNL_ARRAY_SIZE(prefix) && !msg; i++)
		if (!strncmp(ys->err.msg, prefix[i], strlen(prefix[i])))
			msg = ys->err.msg + strlen(prefix[i]);
	if (!msg || *msg != '\'')
		return msg;
	/* what YNL appends after the closing quote holds no quote */
	quote = strrchr(msg, '\'');
	if (quote != msg)
		memmove(quote, quote + 1, strlen(quote));
	return msg[1] ? msg + 1 : NULL;
}

/* Say why @op failed, "hugepool: OP: strerror: extack"; the exit status. */
static int nl_err(struct ynl_sock *ys, const char *op)
{
	const char *msg;

	if (!ys->err.code || ys->err.code >= __YNL_ERRNO_END) {
		fprintf(stderr, "hugepool: %s: %s\n", op, ys->err.msg);
		return HP_ERR;
	}
	msg = extack(ys);
	fprintf(stderr, "hugepool: %s: %s%s%s\n", op, strerror(ys->err.code),
		msg ? ": " : "", msg ?: "");
	return HP_ERR;
}

static struct ynl_sock *hp_open(void)
{
	struct ynl_error yerr;
	struct ynl_sock *ys;

	ys = ynl_sock_create(&ynl_netdev_family, &yerr);
	if (!ys)
		fprintf(stderr, "hugepool: netdev family: %s\n", yerr.msg);
	return ys;
}

/* "0-3,5": the ids of @n queues, as ranges where they follow each other. */
static void print_queue_ids(const struct netdev_queue_id *q, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && q[j].id == q[j - 1].id + 1; j++)
			;
		printf("%s%u", i ? "," : "", q[i].id);
		if (j - i > 1)
			printf("-%u", q[j - 1].id);
	}
}

static const char *mp_type_name(bool present, enum netdev_mp_type type)
{
	const char *name = present ? netdev_mp_type_str(type) : NULL;

	return name ?: "-";
}

static void field(const char *name, bool present, __u64 v)
{
	if (present)
		printf("  %-16s %12llu\n", name, (unsigned long long)v);
}

static void show_huge(const struct netdev_mp_huge *h)
{
	const struct netdev_pp_policy_params *p = &h->policy_params;

	if (h->_present.policy_len)
		printf("  %-16s %12s\n", "policy", h->policy);
	field("budget", p->_present.budget, p->budget);
	field("magazine", p->_present.magazine, p->magazine);
	field("depot", p->_present.depot, p->depot);
	field("nid", h->_present.nid, h->nid);
	field("blocks", h->_present.blocks, h->blocks);
	field("max-blocks", h->_present.max_blocks, h->max_blocks);
	field("pages-carved", h->_present.pages_carved, h->pages_carved);
	field("pages-free", h->_present.pages_free, h->pages_free);
	field("pages-parked", h->_present.pages_parked, h->pages_parked);
	field("pages-inflight", h->_present.pages_inflight, h->pages_inflight);
	field("pages-lost", h->_present.pages_lost, h->pages_lost);
	field("refills", h->_present.refills, h->refills);
	field("fallbacks", h->_present.fallbacks, h->fallbacks);
	field("blocks-returned", h->_present.blocks_returned,
	      h->blocks_returned);
	field("grow-failures", h->_present.grow_failures, h->grow_failures);
	field("limit-hits", h->_present.limit_hits, h->limit_hits);
	field("trims", h->_present.trims, h->trims);
	field("dma-block-maps", h->_present.dma_block_maps, h->dma_block_maps);
	field("dma-page-maps", h->_present.dma_page_maps, h->dma_page_maps);
	field("releases", h->_present.releases, h->releases);
	field("parks", h->_present.parks, h->parks);
}

static void show_cap(const struct netdev_mp_cap *c)
{
	field("cap", c->_present.cap, c->cap);
	field("cap-low", c->_present.cap_low, c->cap_low);
	field("device-budget", c->_present.device_budget, c->device_budget);
	field("pages-held", c->_present.pages_held, c->pages_held);
	field("pages-inflight", c->_present.pages_inflight, c->pages_inflight);
	field("pages-cached", c->_present.pages_cached, c->pages_cached);
	field("pages-peak", c->_present.pages_peak, c->pages_peak);
	field("pool-cache-max", c->_present.pool_cache_max, c->pool_cache_max);
	field("cap-hits", c->_present.cap_hits, c->cap_hits);
	field("shrinker-pages", c->_present.shrinker_pages, c->shrinker_pages);
	field("device-held", c->_present.device_held, c->device_held);
	field("pages-lost", c->_present.pages_lost, c->pages_lost);
}

/*
 * Whether rx queue @id of binding @mb draws from it yet, as queue-get
 * says: "pending" until the queue's next page pool, then "active".
 */
static const char *queue_state(const struct netdev_mp_binding_get_rsp *mb,
			       struct netdev_queue_get_list *queues, __u32 id)
{
	ynl_dump_foreach(queues, q) {
		if (q->ifindex != mb->ifindex || q->id != id ||
		    q->type != NETDEV_QUEUE_TYPE_RX)
			continue;
		if (!q->_present.mp_binding || q->mp_binding.id != mb->id)
			return "unbound";
		return q->mp_binding._present.pending ? "pending" : "active";
	}
	return "-";
}

static void show_binding(const struct netdev_mp_binding_get_rsp *mb,
			 struct netdev_queue_get_list *queues)
{
	char buf[IF_NAMESIZE + 16];
	unsigned int i;

	printf("binding %u: %s", mb->id,
	       mp_type_name(mb->_present.type, mb->type));
	if (mb->_present.ifindex)
		printf(", %s (ifindex %u)",
		       dev_name(mb->ifindex, buf, sizeof(buf)), mb->ifindex);
	else
		printf(", device gone");
	if (mb->n_queues) {
		printf(", rx queues ");
		print_queue_ids(mb->queues, mb->n_queues);
	}
	printf("\n");
	if (mb->_present.default_gen)
		printf("  made by net.core.mp_default, generation %u\n",
		       mb->default_gen);
	for (i = 0; mb->_present.ifindex && i < mb->n_queues; i++) {
		snprintf(buf, sizeof(buf), "rx-queue %u", mb->queues[i].id);
		printf("  %-16s %12s\n", buf,
		       queue_state(mb, queues, mb->queues[i].id));
	}
	if (mb->_present.huge)
		show_huge(&mb->huge);
	if (mb->_present.cap)
		show_cap(&mb->cap);
}

static void print_param(bool present, const char *name, __u64 v)
{
	if (present)
		printf(" %s %llu", name, (unsigned long long)v);
}

/* One line: what a notification says about a binding. */
static void print_ntf(const char *event,
		      const struct netdev_mp_binding_get_rsp *mb)
{
	const struct netdev_mp_huge *h = &mb->huge;
	const struct netdev_mp_cap *c = &mb->cap;
	char dev[IF_NAMESIZE + 16];

	printf("%s binding %u %s", event, mb->id,
	       mp_type_name(mb->_present.type, mb->type));
	if (mb->_present.ifindex)
		printf(" dev %s", dev_name(mb->ifindex, dev, sizeof(dev)));
	if (mb->n_queues) {
		printf(" queues ");
		print_queue_ids(mb->queues, mb->n_queues);
	}
	print_param(mb->_present.default_gen, "default-gen", mb->default_gen);
	if (mb->_present.huge && h->_present.policy_len)
		printf(" policy %s", h->policy);
	print_param(mb->_present.huge && h->_present.blocks, "blocks",
		    h->blocks);
	print_param(mb->_present.huge && h->_present.max_blocks, "max-blocks",
		    h->max_blocks);
	print_param(mb->_present.cap && c->_present.cap, "cap", c->cap);
	print_param(mb->_present.cap && c->_present.cap_low, "cap-low",
		    c->cap_low);
	print_param(mb->_present.cap && c->_present.device_budget,
		    "device-budget", c->device_budget);
	printf("\n");
	fflush(stdout);
}

/* bind DEV QUEUES huge [blocks N] [max N] [policy NAME [k=v ...]] [nid N] */
static int parse_bind_huge(int argc, char **argv, struct netdev_mp_huge *h)
{
	int i, ret = 0;
	__u64 v = 0;

	for (i = 0; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "blocks")) {
			ret = key_num("bind", argc, argv, &i, h->_present.blocks,
				      UINT64_MAX, &h->blocks);
			h->_present.blocks = 1;
		} else if (!strcmp(argv[i], "max")) {
			ret = key_num("bind", argc, argv, &i,
				      h->_present.max_blocks, UINT64_MAX,
				      &h->max_blocks);
			h->_present.max_blocks = 1;
		} else if (!strcmp(argv[i], "nid")) {
			ret = key_num("bind", argc, argv, &i, h->_present.nid,
				      UINT32_MAX, &v);
			h->_present.nid = 1;
			h->nid = v;
		} else if (!strcmp(argv[i], "policy")) {
			if (h->policy)
				return usage_err("bind", "policy given twice");
			if (++i >= argc)
				return usage_err("bind", "policy: missing NAME");
			h->policy = strdup(argv[i]);
			if (!h->policy)
				return oom();
			h->_present.policy_len = strlen(h->policy);
			while (!ret && i + 1 < argc && strchr(argv[i + 1], '=')) {
				ret = parse_policy_param("bind", argv[++i],
							 &h->policy_params);
				h->_present.policy_params = 1;
			}
		} else if (strchr(argv[i], '=')) {
			ret = usage_err("bind", "%s: policy parameters follow policy NAME",
					argv[i]);
		} else {
			ret = usage_err("bind", "unknown word '%s'", argv[i]);
		}
	}
	return ret;
}

/* bind DEV QUEUES cap PAGES [low N] [device-budget N] */
static int parse_bind_cap(int argc, char **argv, struct netdev_mp_cap *c)
{
	int i, ret = 0;

	if (!argc)
		return usage_err("bind", "cap: missing PAGES");
	if (!parse_num(argv[0], UINT64_MAX, &c->cap))
		return usage_err("bind", "cap: bad number '%s'", argv[0]);
	c->_present.cap = 1;
	for (i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "low")) {
			ret = key_num("bind", argc, argv, &i, c->_present.cap_low,
				      UINT64_MAX, &c->cap_low);
			c->_present.cap_low = 1;
		} else if (!strcmp(argv[i], "device-budget")) {
			ret = key_num("bind", argc, argv, &i,
				      c->_present.device_budget, UINT64_MAX,
				      &c->device_budget);
			c->_present.device_budget = 1;
		} else {
			ret = usage_err("bind", "unknown word '%s'", argv[i]);
		}
	}
	return ret;
}

static int bind_parse(int argc, char **argv, struct netdev_mp_bind_req *req)
{
	struct netdev_queue_id *queues;
	unsigned int n;
	int ret;

	if (argc < 3)
		return usage_err("bind", "missing %s",
				 argc < 1 ? "DEV" : argc < 2 ? "QUEUES" :
				 "provider, huge or cap");
	ret = parse_queues("bind", argv[1], &queues, &n);
	if (ret)
		return ret;
	__netdev_mp_bind_req_set_queues(req, queues, n);
	if (!strcmp(argv[2], "huge")) {
		netdev_mp_bind_req_set_type(req, NETDEV_MP_TYPE_HUGE);
		req->_present.huge = 1;
		return parse_bind_huge(argc - 3, argv + 3, &req->huge);
	}
	if (!strcmp(argv[2], "cap")) {
		netdev_mp_bind_req_set_type(req, NETDEV_MP_TYPE_CAP);
		req->_present.cap = 1;
		return parse_bind_cap(argc - 3, argv + 3, &req->cap);
	}
	return usage_err("bind", "unknown provider '%s', not huge or cap",
			 argv[2]);
}

static int do_bind(int argc, char **argv)
{
	struct netdev_mp_bind_req *req;
	struct netdev_mp_bind_rsp *rsp;
	struct ynl_sock *ys;
	const char *warning;
	__u32 ifindex;
	int ret;

	req = netdev_mp_bind_req_alloc();
	if (!req)
		return oom();
	ret = bind_parse(argc, argv, req);
	if (!ret)
		ret = parse_dev(argv[0], &ifindex);
	if (ret)
		goto free_req;
	netdev_mp_bind_req_set_ifindex(req, ifindex);

	ret = HP_ERR;
	ys = hp_open();
	if (!ys)
		goto free_req;
	rsp = netdev_mp_bind(ys, req);
	if (!rsp) {
		nl_err(ys, "mp-bind");
		goto close;
	}
	if (rsp->_present.id) {
		printf("%u\n", rsp->id);
		ret = HP_OK;
	} else {
		fprintf(stderr, "hugepool: mp-bind: no id in the reply\n");
	}
	/* the ACK after the reply carries the kernel's warning, "pending: ..." */
	warning = extack(ys);
	if (warning)
		fprintf(stderr, "hugepool: mp-bind: %s\n", warning);
	netdev_mp_bind_rsp_free(rsp);
close:
	ynl_sock_destroy(ys);
free_req:
	netdev_mp_bind_req_free(req);
	return ret;
}

/*
 * set ID [max N] [budget=N] [magazine=N] [depot=N] [trim]
 * set ID [cap N] [low N] [device-budget N]
 */
static int set_parse(int argc, char **argv,
		     struct netdev_mp_binding_set_req *req)
{
	struct netdev_mp_huge *h = &req->huge;
	struct netdev_mp_cap *c = &req->cap;
	int i, ret = 0;
	__u64 id;

	if (!argc)
		return usage_err("set", "missing ID");
	if (!parse_num(argv[0], UINT32_MAX, &id))
		return usage_err("set", "bad ID '%s'", argv[0]);
	netdev_mp_binding_set_req_set_id(req, id);
	for (i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "max")) {
			ret = key_num("set", argc, argv, &i,
				      h->_present.max_blocks, UINT64_MAX,
				      &h->max_blocks);
			h->_present.max_blocks = 1;
		} else if (!strcmp(argv[i], "trim")) {
			if (req->_present.trim)
				ret = usage_err("set", "trim given twice");
			netdev_mp_binding_set_req_set_trim(req);
		} else if (!strcmp(argv[i], "cap")) {
			ret = key_num("set", argc, argv, &i, c->_present.cap,
				      UINT64_MAX, &c->cap);
			c->_present.cap = 1;
		} else if (!strcmp(argv[i], "low")) {
			ret = key_num("set", argc, argv, &i, c->_present.cap_low,
				      UINT64_MAX, &c->cap_low);
			c->_present.cap_low = 1;
		} else if (!strcmp(argv[i], "device-budget")) {
			ret = key_num("set", argc, argv, &i,
				      c->_present.device_budget, UINT64_MAX,
				      &c->device_budget);
			c->_present.device_budget = 1;
		} else {
			ret = parse_policy_param("set", argv[i],
						 &h->policy_params);
			if (ret < 0)
				ret = usage_err("set", "unknown word '%s'",
						argv[i]);
			h->_present.policy_params = 1;
		}
	}
	if (ret)
		return ret;
	req->_present.huge = h->_present.max_blocks ||
			     h->_present.policy_params;
	req->_present.cap = c->_present.cap || c->_present.cap_low ||
			    c->_present.device_budget;
	if ((req->_present.huge || req->_present.trim) && req->_present.cap)
		return usage_err("set", "hugepage and memory-cap parameters together");
	if (!req->_present.huge && !req->_present.cap && !req->_present.trim)
		return usage_err("set", "nothing to change");
	return 0;
}

static int do_set(int argc, char **argv)
{
	struct netdev_mp_binding_set_req *req;
	struct ynl_sock *ys;
	int ret;

	req = netdev_mp_binding_set_req_alloc();
	if (!req)
		return oom();
	ret = set_parse(argc, argv, req);
	if (ret)
		goto free_req;

	ret = HP_ERR;
	ys = hp_open();
	if (!ys)
		goto free_req;
	if (netdev_mp_binding_set(ys, req))
		nl_err(ys, "mp-binding-set");
	else
		ret = HP_OK;
	ynl_sock_destroy(ys);
free_req:
	netdev_mp_binding_set_req_free(req);
	return ret;
}

static int do_unbind(int argc, char **argv)
{
	struct netdev_mp_unbind_req *req;
	struct ynl_sock *ys;
	int ret = HP_ERR;
	__u64 id;

	if (argc != 1)
		return usage_err("unbind", argc ? "one ID only" : "missing ID");
	if (!parse_num(argv[0], UINT32_MAX, &id))
		return usage_err("unbind", "bad ID '%s'", argv[0]);

	req = netdev_mp_unbind_req_alloc();
	if (!req)
		return oom();
	netdev_mp_unbind_req_set_id(req, id);
	ys = hp_open();
	if (ys) {
		if (netdev_mp_unbind(ys, req))
			nl_err(ys, "mp-unbind");
		else
			ret = HP_OK;
		ynl_sock_destroy(ys);
	}
	netdev_mp_unbind_req_free(req);
	return ret;
}

/* The queues of device @ifindex, of every device when it is 0. */
static struct netdev_queue_get_list *queue_dump(struct ynl_sock *ys,
						__u32 ifindex)
{
	struct netdev_queue_get_req_dump *req;
	struct netdev_queue_get_list *queues;

	req = netdev_queue_get_req_dump_alloc();
	if (!req)
		return NULL;
	if (ifindex)
		netdev_queue_get_req_dump_set_ifindex(req, ifindex);
	queues = netdev_queue_get_dump(ys, req);
	netdev_queue_get_req_dump_free(req);
	return queues;
}

static int do_show(int argc, char **argv)
{
	struct netdev_mp_binding_get_req_dump *req;
	struct netdev_mp_binding_get_list *mbs;
	struct netdev_queue_get_list *queues;
	struct ynl_sock *ys;
	__u32 ifindex = 0;
	int ret = HP_ERR;

	if (argc > 1)
		return usage_err("show", "one DEV at most");
	if (argc && parse_dev(argv[0], &ifindex))
		return HP_ERR;

	req = netdev_mp_binding_get_req_dump_alloc();
	if (!req)
		return oom();
	if (ifindex)
		netdev_mp_binding_get_req_dump_set_ifindex(req, ifindex);
	ys = hp_open();
	if (!ys)
		goto free_req;
	mbs = netdev_mp_binding_get_dump(ys, req);
	if (!mbs) {
		nl_err(ys, "mp-binding-get");
		goto close;
	}
	if (ynl_dump_empty(mbs)) {
		printf("no bindings\n");
		ret = HP_OK;
		goto free_mbs;
	}
	queues = queue_dump(ys, ifindex);
	if (!queues) {
		nl_err(ys, "queue-get");
		goto free_mbs;
	}
	ynl_dump_foreach(mbs, mb)
		show_binding(mb, queues);
	netdev_queue_get_list_free(queues);
	ret = HP_OK;
free_mbs:
	netdev_mp_binding_get_list_free(mbs);
close:
	ynl_sock_destroy(ys);
free_req:
	netdev_mp_binding_get_req_dump_free(req);
	return ret;
}

static int do_queues(int argc, char **argv)
{
	struct netdev_queue_get_list *queues;
	struct ynl_sock *ys;
	__u32 ifindex;
	char napi[16];

	if (argc != 1)
		return usage_err("queues", argc ? "one DEV only" : "missing DEV");
	if (parse_dev(argv[0], &ifindex))
		return HP_ERR;

	ys = hp_open();
	if (!ys)
		return HP_ERR;
	queues = queue_dump(ys, ifindex);
	if (!queues) {
		nl_err(ys, "queue-get");
		ynl_sock_destroy(ys);
		return HP_ERR;
	}
	printf("%8s %8s %8s %-8s %s\n", "rx-queue", "napi", "binding",
	       "provider", "pending");
	ynl_dump_foreach(queues, q) {
		const struct netdev_mp_binding_info *mp = &q->mp_binding;

		if (q->type != NETDEV_QUEUE_TYPE_RX)
			continue;
		snprintf(napi, sizeof(napi), "%u", q->napi_id);
		printf("%8u %8s ", q->id, q->_present.napi_id ? napi : "-");
		if (q->_present.mp_binding && mp->_present.id)
			printf("%8u %-8s %s\n", mp->id,
			       mp_type_name(mp->_present.type, mp->type),
			       mp->_present.pending ? "yes" : "no");
		else
			printf("%8s %-8s %s\n", "-", "-", "-");
	}
	netdev_queue_get_list_free(queues);
	ynl_sock_destroy(ys);
	return HP_OK;
}

static int do_pools(int argc, char **argv)
{
	struct netdev_page_pool_get_list *pools;
	struct ynl_sock *ys;
	__u32 ifindex = 0;
	char napi[24];

	if (argc > 1)
		return usage_err("pools", "one DEV only");
	if (argc && parse_dev(argv[0], &ifindex))
		return HP_ERR;

	ys = hp_open();
	if (!ys)
		return HP_ERR;
	pools = netdev_page_pool_get_dump(ys);
	if (!pools) {
		nl_err(ys, "page-pool-get");
		ynl_sock_destroy(ys);
		return HP_ERR;
	}
	printf("%8s %8s %8s %12s %8s %-8s %s\n", "pool", "napi", "inflight",
	       "inflight-mem", "binding", "provider", "state");
	ynl_dump_foreach(pools, pp) {
		const struct netdev_mp_binding_info *mp = &pp->mp_binding;

		/* without DEV every pool, those of devices gone included */
		if (ifindex && (!pp->_present.ifindex || pp->ifindex != ifindex))
			continue;
		snprintf(napi, sizeof(napi), "%llu",
			 (unsigned long long)pp->napi_id);
		printf("%8llu %8s %8llu %12llu ", (unsigned long long)pp->id,
		       pp->_present.napi_id ? napi : "-",
		       (unsigned long long)pp->inflight,
		       (unsigned long long)pp->inflight_mem);
		if (pp->_present.mp_binding && mp->_present.id)
			printf("%8u %-8s ", mp->id,
			       mp_type_name(mp->_present.type, mp->type));
		else
			printf("%8s %-8s ", "-", "-");
		printf("%s\n", pp->_present.detach_time ? "detached" : "live");
	}
	netdev_page_pool_get_list_free(pools);
	ynl_sock_destroy(ys);
	return HP_OK;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void monitor_ntf(struct ynl_ntf_base_type *ntf)
{
	struct netdev_mp_binding_get_ntf *n = (void *)ntf;

	switch (ntf->cmd) {
	case NETDEV_CMD_MP_BINDING_ADD_NTF:
		print_ntf("add", &n->obj);
		break;
	case NETDEV_CMD_MP_BINDING_DEL_NTF:
		print_ntf("del", &n->obj);
		break;
	case NETDEV_CMD_MP_BINDING_CHANGE_NTF:
		print_ntf("change", &n->obj);
		break;
	default:	/* the mgmt group's device notifications */
		break;
	}
	ynl_ntf_free(ntf);
}

/* Print binding notifications until SIGINT or SIGTERM. */
static int monitor_loop(struct ynl_sock *ys)
{
	struct pollfd pfd = { .fd = ynl_socket_get_fd(ys), .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	struct ynl_ntf_base_type *ntf;
	sigset_t block, orig;

	/* the signals are let in only while waiting, in ppoll() */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fprintf(stderr, "hugepool: monitor: waiting for binding notifications\n");
	while (!stop) {
		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			perror("hugepool: monitor");
			return HP_ERR;
		}
		if (ynl_ntf_check(ys) < 0) {
			if (errno != ENOBUFS)
				return nl_err(ys, "monitor");
			fprintf(stderr, "hugepool: monitor: notifications lost: %s\n",
				strerror(ENOBUFS));
		}
		while ((ntf = ynl_ntf_dequeue(ys)))
			monitor_ntf(ntf);
	}
	return HP_OK;
}

static int do_monitor(int argc, char **argv)
{
	struct netdev_mp_binding_get_req_dump *req;
	struct netdev_mp_binding_get_list *mbs;
	struct ynl_sock *ys;
	int ret = HP_ERR;

	if (argc)
		return usage_err("monitor", "unknown word '%s'", argv[0]);

	req = netdev_mp_binding_get_req_dump_alloc();
	if (!req)
		return oom();
	ys = hp_open();
	if (!ys)
		goto free_req;
	if (ynl_subscribe(ys, NETDEV_MCGRP_MGMT)) {
		nl_err(ys, "monitor");
		goto close;
	}
	/* a kernel without the operations would never notify: say so */
	mbs = netdev_mp_binding_get_dump(ys, req);
	if (!mbs) {
		nl_err(ys, "mp-binding-get");
		goto close;
	}
	netdev_mp_binding_get_list_free(mbs);
	ret = monitor_loop(ys);
close:
	ynl_sock_destroy(ys);
free_req:
	netdev_mp_binding_get_req_dump_free(req);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} verbs[] = {
	{ "bind",	do_bind },
	{ "set",	do_set },
	{ "unbind",	do_unbind },
	{ "show",	do_show },
	{ "queues",	do_queues },
	{ "pools",	do_pools },
	{ "monitor",	do_monitor },
};

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2) {
		usage(stderr, NULL);
		return HP_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		usage(stdout, NULL);
		return HP_OK;
	}
	for (i = 0; i < YNL_ARRAY_SIZE(verbs); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "hugepool: unknown command '%s'\n", argv[1]);
	usage(stderr, NULL);
	return HP_USAGE;
}
