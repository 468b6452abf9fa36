#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What make run shows, in the guest: the hugepage provider on real rx
# queues with real traffic. A veth pair across two network namespaces,
# four queues each, a native XDP program on the receiver so veth copies
# TCP traffic into page pool pages; net.core.mp_default=huge gives every
# receiver queue a binding. iperf3 pushes traffic, then the provider's
# counters are read over netlink and debugfs, and teardown shows every
# huge page going back.
#
# usage: tools/demo.sh [seconds of traffic]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/selftests/lib.sh"
SECS=${1:-8}
# the operator's tool (tools/hugepool, built by scripts/build-tools.sh),
# in the receiver's namespace: it names devices there
hp() { ip netns exec "$HP_NSB" "$HP_BUILD/tools/hugepool" "$@"; }

# what the provider's debugfs says of every binding
bindings() { hp_bindings; }

reserved() { [[ $(hp_binding_sum vb blocks) -ge 16 ]]; }

title() { printf '\n=== %s\n' "$*"; }

main() {
	local mem0
	mem0=$(hp_mem_available)
	title "defaults: provider for new rx queue pools, and its reservation"
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=4 \
		net.core.mp_huge_max_blocks=16
	sysctl net.core.mp_default net.core.mp_huge_blocks net.core.mp_huge_max_blocks \
		net.core.pp_policy_default net.core.pp_policy_available

	title "veth pair in two netns, XDP_PASS on the receiver (vb)"
	hp_veth_pair 10.99.0 4 xdp
	ip -n "$HP_NSB" -d link show vb | grep -E 'vb:|prog/xdp'
	hp_wait 30 reserved
	bindings

	title "iperf3, ${SECS}s, 4 streams"
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B 10.99.0.2
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c 10.99.0.2 -t "$SECS" -P 4 | grep -E 'SUM.*(sender|receiver)'

	title "page pools of vb (netlink page-pool-get)"
	hp pools vb
	title "rx queues of vb (netlink queue-get)"
	hp queues vb
	title "bindings of vb (netlink mp-binding-get)"
	hp show vb
	title "bindings (debugfs)"
	bindings

	title "teardown: delete the namespaces"
	hp_veth_del
	hp_sysctl_default net.core.mp_default=none
	hp_wait 30 hp_no_blocks
	bindings
	echo "MemAvailable: $((mem0 / 1024)) MiB before, $(($(hp_mem_available) / 1024)) MiB after"

	title "memory-cap provider: a TCP flood whose receiver stops reading, without and with a cap of 64 pages per queue"
	"$top/tools/selftests/cap_lowmem.sh" 64 | grep -E '^# (page allocator|memory-cap|footprint|  )|^not ok'
	cat "$HP_CAP_DEBUGFS/bindings"
}

main "$@"
