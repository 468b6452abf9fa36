// SPDX-License-Identifier: GPL-2.0
/*
 * Native XDP program for the selftests: pass every packet, counting them.
 *
 * Attached in driver mode to a veth, it makes veth copy every skb it
 * cannot hand to XDP as is (shared, cloned, nonlinear or short of
 * headroom: TCP traffic) into pages of its rx queues' page pools, which
 * is what puts a memory provider to work on a software device.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdp_pass_count SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&xdp_pass_count, &key);

	if (n)
		(*n)++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
