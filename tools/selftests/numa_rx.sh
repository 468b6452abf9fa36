#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# NUMA: a hugepage binding's pages live on the binding's node, and the
# page pools drawing from it must prefer that node. A pool left to prefer
# the node its NAPI runs on would waive every page of the binding that
# comes back through its ptr_ring (page_pool_refill_alloc_cache() hands a
# page of another node back to the provider instead of reusing it), so
# the provider would see every page twice and ring recycling would be
# lost.
#
# In a guest with two nodes (scripts/vm.sh --numa: CPU 0 on node 0, CPU 1
# on node 1), the receiver's queues are bound to huge pages of one node
# while traffic runs on the CPU of the other (veth's NAPI runs on the
# sender's CPU), and then of the same node. page_pool's own counters
# (page-pool-stats-get) must show ring recycling and no waive, and the
# provider must not see the ring's pages come back.
#
# usage: numa_rx.sh       (root, hugepool kernel, a guest with 2 NUMA nodes)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HUGEPOOL=$HP_BUILD/tools/hugepool
SECS=${HP_TRAFFIC_SECS:-6}

hp() { ip netns exec "$HP_NSB" "$HUGEPOOL" "$@"; }

# the page_pool counters of vb's pools, summed: "alloc-waive recycle-ring
# alloc-slow"
pp_stats() {
	hp_ynl "$HP_NSB" --dump page-pool-stats-get | /usr/bin/python3 -c '
import json, sys
ifindex = int(sys.argv[1])
s = [p for p in json.load(sys.stdin) if p.get("info", {}).get("ifindex") == ifindex]
print(sum(p.get("alloc-waive", 0) for p in s), sum(p.get("recycle-ring", 0) for p in s),
      sum(p.get("alloc-slow", 0) for p in s), len(s))' "$(hp_ifindex "$HP_NSB" vb)"
}

# traffic on CPU $1: the sender, and so veth's NAPI of the receiver, and
# the receiving application
traffic() {
	local server
	ip netns exec "$HP_NSB" taskset -c "$1" iperf3 -s -1 -B 10.93.0.2 >/dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	sleep 1
	ip netns exec "$HP_NSA" taskset -c "$1" iperf3 -c 10.93.0.2 -t "$SECS" -P 4 \
		>/dev/null 2>&1
	wait $server
	hp_cleanup_drop server
}

# one case: huge pages on node $1, traffic on CPU $2
run_case() {
	local nid=$1 cpu=$2 id what w0 r0 s0 n w1 r1 s1 rel0 rel1
	what="binding on node $nid, NAPI on CPU $cpu (node $(cpu_node "$cpu"))"
	id=$(hp bind vb 0-3 huge blocks 4 max 8 nid "$nid" 2>/dev/null)
	if [[ -z $id ]]; then
		hp_not_ok "$what: bound, pages on node $nid"
		hp_not_ok "$what: pages recycled through the ring"
		hp_not_ok "$what: none waived for its node"
		return
	fi
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	hp_expect "$what: bound, pages on node $nid" \
		"$(hp show vb | awk '$1 == "nid" { print $2 }')" == "$nid"
	read -r w0 r0 s0 n <<< "$(pp_stats)"
	rel0=$(hp show vb | awk '$1 == "releases" { print $2 }')
	traffic "$cpu"
	read -r w1 r1 s1 n <<< "$(pp_stats)"
	rel1=$(hp show vb | awk '$1 == "releases" { print $2 }')
	hp_log "$what: $n pools; ring recycled $((r1 - r0)), waived $((w1 - w0)), slow allocs $((s1 - s0)); provider releases $((rel1 - rel0))"
	hp_expect "$what: pages recycled through the ring" $((r1 - r0)) -gt 1000
	hp_expect "$what: none waived for its node" $((w1 - w0)) -eq 0
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	hp_flush_defer_lists
	hp unbind "$id" >/dev/null 2>&1
}

cpu_node() {
	local d
	for d in /sys/devices/system/cpu/cpu"$1"/node*; do
		[[ -e $d ]] && { basename "$d" | tr -dc 0-9; return; }
	done
	echo "?"
}

main() {
	hp_require_root
	[[ -x $HUGEPOOL ]] || hp_fail_all "no $HUGEPOOL: run scripts/build-tools.sh"
	[[ -d /sys/devices/system/node/node1 && $(cpu_node 1) == 1 && $(cpu_node 0) == 0 ]] ||
		hp_fail_all "needs two NUMA nodes, CPU 0 on node 0 and CPU 1 on node 1 (scripts/vm.sh --numa)"
	hp_plan 8
	hp_kmemleak_clear
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair 10.93.0 4 || hp_fail_all "no veth pair"
	run_case 0 1
	run_case 1 1
	hp_veth_del
	hp_check "every huge page back" hp_wait 60 hp_no_blocks
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
