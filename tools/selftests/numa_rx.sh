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
# sender's CPU), and then of the same node:
#  - every page handed out to the receiver's pools is on the binding's
#    node: page_pool_state_hold names each page's pfn, and /proc/zoneinfo
#    which pfns each node spans (the nid the binding was asked for says
#    nothing: a huge page of another node serves when the node has none);
#  - page_pool's own counters (page-pool-stats-get) show ring recycling
#    and no waive;
#  - the provider did not see the ring's pages come back: every release
#    it counted is one page_pool counted as a ring overflow or a page
#    still held elsewhere;
#  - with every free 2 MiB block of node 0 taken (hugetlb pages of that
#    node), a binding of node 0 under traffic takes no huge page of node 1
#    (page_pool would waive each of its pages): its growth fails and
#    counts it, and its refills are served by order-0 pages.
#
# usage: numa_rx.sh       (root, hugepool kernel, a guest with 2 NUMA nodes)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

HUGEPOOL=$HP_BUILD/tools/hugepool
SECS=${HP_TRAFFIC_SECS:-6}

HOLD_TRACE=/sys/kernel/tracing/instances/hp-$HP_NAME-$$

hp() { ip netns exec "$HP_NSB" "$HUGEPOOL" "$@"; }

# the page_pool counters of vb's pools, summed: "alloc-waive recycle-ring
# alloc-slow recycle-ring-full recycle-released-refcnt pools"
pp_stats() {
	hp_ynl "$HP_NSB" --dump page-pool-stats-get | /usr/bin/python3 -c '
import json, sys
ifindex = int(sys.argv[1])
s = [p for p in json.load(sys.stdin) if p.get("info", {}).get("ifindex") == ifindex]
keys = ("alloc-waive", "recycle-ring", "alloc-slow", "recycle-ring-full",
        "recycle-released-refcnt")
print(*(sum(p.get(k, 0) for p in s) for k in keys), len(s))' "$(hp_ifindex "$HP_NSB" vb)"
}

# the binding's count of releases, as the provider saw them
releases() { hp show vb | awk '$1 == "releases" { print $2 }'; }

# A tracefs instance of this test records page_pool_state_hold: a page
# handed out to a pool, with its pfn (the pools of this test are vb's).
hold_trace_start() {
	mkdir "$HOLD_TRACE" || return 1
	hp_cleanup_add hold_trace "echo 0 > $HOLD_TRACE/tracing_on; rmdir $HOLD_TRACE"
	echo 8192 > "$HOLD_TRACE/buffer_size_kb"
	echo 0 > "$HOLD_TRACE/tracing_on"
	echo 1 > "$HOLD_TRACE/events/page_pool/page_pool_state_hold/enable"
	echo 1 > "$HOLD_TRACE/events/mp_huge/mp_huge_block/enable"
}

hold_trace_on() { echo > "$HOLD_TRACE/trace"; echo 1 > "$HOLD_TRACE/tracing_on"; }

hold_trace_off() { echo 0 > "$HOLD_TRACE/tracing_on"; }

# events the instance's ring buffer dropped since it was cleared
hold_trace_lost() {
	cat "$HOLD_TRACE"/per_cpu/cpu*/stats | awk '$1 == "overrun:" { n += $2 } END { print n + 0 }'
}

# the pfns each node spans, from /proc/zoneinfo: "node first last+1" for
# each populated zone
node_spans() {
	awk '/^Node/ { node = $2 + 0 }
		$1 == "spanned" { spanned = $2 }
		$1 == "start_pfn:" && spanned > 0 { print node, $2, $2 + spanned }' /proc/zoneinfo
}

# NID [EVENT]: the pages handed out since hold_trace_on (EVENT: the huge
# pages the bindings took, mp_huge_block add), "on-NID elsewhere unknown"
# (unknown: a pfn no zone of any node spans, or of two nodes)
pages_by_node() {
	awk -v nid="$1" -v event="${2:-page_pool_state_hold: }" '
		function hex(s,   i, n) {
			s = tolower(s); sub(/^0x/, "", s); n = 0
			for (i = 1; i <= length(s); i++)
				n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return n
		}
		FILENAME == "-" { node[++z] = $1; lo[z] = $2; hi[z] = $3; next }
		index($0, event) && match($0, /pfn=0x[0-9a-f]+/) {
			pfn = hex(substr($0, RSTART + 4, RLENGTH - 4))
			found = ""
			for (i = 1; i <= z; i++)
				if (pfn >= lo[i] && pfn < hi[i])
					found = found == "" || found == node[i] ? node[i] : "two"
			if (found == nid) on++
			else if (found == "" || found == "two") unknown++
			else off++
		}
		END { print on + 0, off + 0, unknown + 0 }' - "$HOLD_TRACE/trace" < <(node_spans)
}

server_done() { ! hp_running "$1"; }

# traffic on CPU $1: the sender, and so veth's NAPI of the receiver, and
# the receiving application
traffic() {
	local server
	ip netns exec "$HP_NSB" taskset -c "$1" iperf3 -s -1 -B 10.93.0.2 >/dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$server" 5201 ||
		hp_log "the receiver does not listen"
	ip netns exec "$HP_NSA" taskset -c "$1" iperf3 -c 10.93.0.2 -t "$SECS" -P 4 \
		>/dev/null 2>&1
	hp_until $((SECONDS + 10)) server_done "$server" || kill -9 "$server"
	wait "$server"
	hp_cleanup_drop server
}

# one case: huge pages on node $1, traffic on CPU $2
run_case() {
	local nid=$1 cpu=$2 id what w0 r0 s0 f0 c0 n w1 r1 s1 f1 c1 rel0 rel1 on off unknown lost
	what="binding on node $nid, NAPI on CPU $cpu (node $(cpu_node "$cpu"))"
	id=$(hp bind vb 0-3 huge blocks 4 max 8 nid "$nid" 2>/dev/null)
	if [[ -z $id ]]; then
		hp_not_ok "$what: every page handed out is on node $nid"
		hp_not_ok "$what: pages recycled through the ring"
		hp_not_ok "$what: none waived for its node"
		hp_not_ok "$what: the provider saw no page of the ring come back"
		return
	fi
	hold_trace_on
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	hp_log "$what: the binding says nid $(hp show vb | awk '$1 == "nid" { print $2 }')"
	read -r w0 r0 s0 f0 c0 n <<< "$(pp_stats)"
	rel0=$(releases)
	traffic "$cpu"
	# the provider's count first: page_pool counts an overflow before it
	# hands the page back
	rel1=$(releases)
	read -r w1 r1 s1 f1 c1 n <<< "$(pp_stats)"
	hold_trace_off
	read -r on off unknown <<< "$(pages_by_node "$nid")"
	lost=$(hold_trace_lost)
	hp_log "$what: $n pools; ring recycled $((r1 - r0)), waived $((w1 - w0)), slow allocs $((s1 - s0)), ring full $((f1 - f0)), held elsewhere $((c1 - c0)); provider releases $((rel1 - rel0))"
	hp_log "$what: pages handed out: $on on node $nid, $off on another node, $unknown on none known; $lost trace events lost"
	hp_expect "$what: every page handed out is on node $nid" \
		$((on > 0 && off == 0 && unknown == 0 && lost == 0)) -eq 1 ||
		node_spans | hp_dump -
	hp_expect "$what: pages recycled through the ring" $((r1 - r0)) -gt 1000
	hp_expect "$what: none waived for its node" $((w1 - w0)) -eq 0
	hp_expect "$what: the provider saw no page of the ring come back" \
		$((rel1 - rel0)) -le $((f1 - f0 + c1 - c0))
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	hp_flush_defer_lists
	hp unbind "$id" >/dev/null 2>&1
}

# free blocks of order 9 or more in node $1's zones, from /proc/buddyinfo
free_2m_node() {
	awk -v node="$1," '$1 == "Node" && $2 == node {
		for (i = 5 + 9; i <= NF; i++) n += $i * 2 ^ (i - 5 - 9) }
		END { print n + 0 }' /proc/buddyinfo
}

NODE0_HUGETLB=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages

# Node 0 without a free 2 MiB block: a binding of node 0 grows from
# nowhere else. Its growth fails, or finds a block compaction made on node
# 0; never one of node 1. Traffic on CPU 0, so that nothing but the
# binding's own choice of node is tested.
scarce_case() {
	local what="node 0 without a free 2 MiB block" id fails falls on off unknown free0 free1
	echo 100000 > "$NODE0_HUGETLB"
	hp_cleanup_add hugetlb "echo 0 > $NODE0_HUGETLB"
	# one reading: the kernel frees and merges blocks meanwhile. One free
	# block on node 0 still leaves the test its power: the binding needs
	# more, and without node-local growth it takes the rest from node 1
	free0=$(free_2m_node 0) free1=$(free_2m_node 1)
	hp_log "$what: node 0 hugetlb pages $(< "$NODE0_HUGETLB"), free 2 MiB blocks: node 0 $free0, node 1 $free1"
	if ((free0 > 1 || free1 == 0)); then
		hp_not_ok "$what: the scarcity (node 0 one free at most, node 1 some)"
		hp_not_ok "$what: no huge page taken from node 1"
		hp_not_ok "$what: growth failed and said so, or compaction made a block of node 0"
	else
		hp_ok "$what: the scarcity (node 0 one free at most, node 1 some)"
		id=$(hp bind vb 0-3 huge blocks 0 max 4 nid 0 2>/dev/null)
		hold_trace_on
		ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
		traffic 0
		hold_trace_off
		read -r on off unknown <<< "$(pages_by_node 0 "mp_huge_block: binding=${id:-x} ")"
		fails=$(hp show vb | awk '$1 == "grow-failures" { print $2 }')
		falls=$(hp show vb | awk '$1 == "fallbacks" { print $2 }')
		hp_log "$what: binding ${id:-none}: huge pages taken: $on of node 0, $off of another node, $unknown of none known; grow-failures ${fails:-?}, fallbacks ${falls:-?}"
		hp_expect "$what: no huge page taken from node 1" \
			$((off == 0 && unknown == 0)) -eq 1
		hp_expect "$what: growth failed and said so, or compaction made a block of node 0" \
			$((${fails:-0} > 0 || on > 0)) -eq 1
		ip -n "$HP_NSB" link set dev vb xdpdrv off
		hp_flush_defer_lists
		[[ -z $id ]] || hp unbind "$id" >/dev/null 2>&1
	fi
	echo 0 > "$NODE0_HUGETLB"
	hp_cleanup_drop hugetlb
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
	hp_plan 13
	hp_kmemleak_clear
	hold_trace_start || hp_fail_all "no tracefs instance for page_pool_state_hold"
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair 10.93.0 4 || hp_fail_all "no veth pair"
	run_case 0 1
	run_case 1 1
	scarce_case
	hp_veth_del
	hp_check "every huge page back" hp_until $((SECONDS + 60)) hp_no_blocks
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
