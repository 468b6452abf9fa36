#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real NIC doing real DMA: two vmxnet3 NICs of QEMU joined by a hub
# (scripts/vm.sh --nic vmxnet3, with --iommu strict|lazy behind the
# emulated Intel IOMMU), the receiver in its own netns with XDP_PASS, so
# that its rx rings fill from page pools that DMA-map (PP_FLAG_DMA_MAP).
# For one provider of the receiver's queues - the page allocator (none),
# the hugepage provider with a policy, or the memory cap:
#  - the queues are served by it, TCP flows, and the rx buffers are mapped
#    as it maps them (one mapping per page, or per 2 MiB huge page);
#  - the PCI driver is unbound while a frozen receiver's sockets hold
#    pages: nothing of the device stays DMA-mapped, the pages stay out
#    until the receiver is killed and then all come home, and so does
#    whatever the provider held;
#  - the driver binds again and traffic flows as before; after teardown
#    every page is home;
#  - DMA-API debugging reported no error and the IOMMU no DMA fault.
# page_pool's own page_pool_release event counts the pages out of each
# pool, whatever serves it and whether the driver names its device.
# The harness scans the console log for splats.
#
# usage: vmxnet3_rx.sh [none|lifo|percpu|budget|cap]   (default none)
#        (root, hugepool kernel, a guest of scripts/vm.sh --nic vmxnet3)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

MODE=${1:-none}
NET=10.88.0
SECS=${HP_TRAFFIC_SECS:-6}
STREAMS=2
HUGEPOOL=$HP_BUILD/tools/hugepool
QUEUES=0	# the receiver's rx queues, once it is up

usage() {
	sed -n '3,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# the provider defaults of the mode; the receiver's netns gets them
provider() {
	case $MODE in
	none)
		hp_sysctl_default net.core.mp_default=none ;;
	lifo | percpu | budget)
		hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=2 \
			net.core.mp_huge_max_blocks=8 net.core.pp_policy_default="$MODE" ;;
	cap)
		hp_sysctl_default net.core.mp_default=cap net.core.mp_cap_pages=2048 ;;
	*)
		usage ;;
	esac
}

huge_bindings() { hp_bindings | grep " dev=nicb " | grep -c " policy=$MODE " || true; }
cap_bindings() { grep -c " dev=nicb " "$HP_CAP_DEBUGFS/bindings" || true; }
any_bindings() { cat "$HP_DEBUGFS/bindings" "$HP_CAP_DEBUGFS/bindings" | grep -c '^id=' || true; }
cap_none_held() { grep -q '^total pages-held=0$' "$HP_CAP_DEBUGFS/bindings"; }

# (the glob inside the netns: sysfs shows a netns its own devices only)
rx_queues() {
	ip netns exec "$HP_NSB" sh -c 'ls -d /sys/class/net/nicb/queues/rx-*' | wc -l
}

# WHEN: the receiver's queues are served by the mode's provider
served() {
	local when=$1 n
	case $MODE in
	none)
		hp_expect "$when: page allocator: no binding for the receiver" \
			"$(hp_binding_count nicb)" -eq 0
		return ;;
	cap)
		n=$(cap_bindings) ;;
	*)
		n=$(huge_bindings) ;;
	esac
	hp_expect "$when: a $MODE binding per rx queue of the receiver" "$n" -eq "$QUEUES" && return
	hp_log "no binding: do vmxnet3's page pools name their rx queue (PP_FLAG_RX_QUEUE)?"
	hp_bindings | hp_dump -
	hp_dump "$HP_CAP_DEBUGFS/bindings"
	ip netns exec "$HP_NSB" "$HUGEPOOL" queues nicb 2>&1 | hp_dump -
}

# WHEN: the receiver's rx buffers are DMA-mapped as the provider maps
# them, in the pools' direction (XDP: bidirectional): a page each, or a
# huge page each
mapped() {
	local when=$1 pages huge
	pages=$(hp_dma_mappings "$HP_NIC_RX" DMA_BIDIRECTIONAL 4096)
	huge=$(hp_dma_mappings "$HP_NIC_RX" DMA_BIDIRECTIONAL $((2 << 20)))
	hp_log "$when: receiver's bidirectional DMA mappings: $pages of 4 KiB, $huge of 2 MiB"
	case $MODE in
	lifo | percpu | budget)
		hp_expect "$when: rx buffers mapped 2 MiB at a time" "$huge" -gt 0 ;;
	*)
		hp_expect "$when: rx buffers mapped a page at a time" "$pages" -gt 0 ;;
	esac
}

# WHEN: what the provider counted under traffic
counted() {
	local when=$1
	case $MODE in
	none)
		hp_expect "$when: still no binding for the receiver" "$(hp_binding_count nicb)" -eq 0 ;;
	cap)
		hp_expect "$when: the cap provider handed out pages" \
			"$(hp_binding_sum_file "$HP_CAP_DEBUGFS/bindings" nicb pages-peak)" -gt 0 ;;
	*)
		hp_expect "$when: refills served from huge pages" "$(hp_binding_sum nicb refills)" -gt 0 ;;
	esac
}

# WHEN: nothing left of what the provider held
home() {
	local when=$1
	case $MODE in
	none)
		hp_expect "$when: no provider binding anywhere" "$(any_bindings)" -eq 0 ;;
	cap)
		hp_check "$when: every capped page released" hp_wait 30 cap_none_held ||
			hp_dump "$HP_CAP_DEBUGFS/bindings" ;;
	*)
		hp_check "$when: every huge page back" hp_wait 30 hp_no_blocks ||
			hp_bindings | hp_dump - ;;
	esac
}

# WHEN: SECS of iperf3 from the sender to the receiver
traffic() {
	local when=$1 out=$HP_TMP/iperf.json bytes
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B "$NET.2"
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -t "$SECS" -P $STREAMS -J > "$out" 2>&1
	bytes=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$out" 2>/dev/null || echo 0)
	hp_log "$when: iperf3: $((bytes / 1024)) KiB received in ${SECS}s, $STREAMS streams"
	hp_expect "$when: TCP traffic arrived" "$bytes" -gt $((1 << 20))
}

# The receiving application freezes mid-flood: its sockets hold pages of
# the receiver's pools. Sets SERVER and CLIENT.
freeze() {
	ip netns exec "$HP_NSB" iperf3 -s -1 -B "$NET.2" >/dev/null 2>&1 &
	SERVER=$!
	hp_cleanup_add server "kill -9 $SERVER"
	sleep 1
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -t 120 -P $STREAMS >/dev/null 2>&1 &
	CLIENT=$!
	hp_cleanup_add client "kill -9 $CLIENT"
	sleep 4
	kill -STOP "$SERVER"
	sleep 3
}

# Unbind the receiver's driver with pages in the frozen sockets; kill the
# receiver; every page comes home.
unbind() {
	local mark pools at now
	freeze
	mark=$(hp_pp_trace_mark)
	hp_check "driver unbound from the receiver ($HP_NIC_RX) under a frozen receiver" \
		hp_nic_unbind "$HP_NIC_RX"
	read -r pools at now <<< "$(hp_pp_released "$mark")"
	hp_log "unbind: $pools page pools destroyed, $at pages in flight"
	hp_expect "pages in flight as the receiver's pools were destroyed" "$at" -gt 0
	hp_expect "nothing of the unbound receiver is DMA-mapped" \
		"$(hp_dma_mappings "$HP_NIC_RX")" -eq 0 ||
		grep " $HP_NIC_RX " "$HP_DMA_DEBUG/dump" | head -n 20 | hp_dump -
	sleep 2
	read -r pools at now <<< "$(hp_pp_released "$mark")"
	hp_expect "pages still in the frozen sockets after the unbind" "$now" -gt 0

	kill -KILL "$SERVER" "$CLIENT"
	wait "$SERVER" "$CLIENT" 2>/dev/null
	hp_cleanup_drop server
	hp_cleanup_drop client
	hp_flush_defer_lists
	hp_check "killed: every page of the unbound receiver's pools home" \
		hp_wait 30 hp_pp_all_home "$mark" || hp_log "pools, in flight: $(hp_pp_released "$mark")"
	home "unbound"
}

# the receiver's new netdev where the old one was, with XDP
rx_back() { hp_nic_move "$HP_NIC_RX" "$HP_NSB" nicb "$NET.2" && hp_nic_xdp on; }

rebind() {
	if hp_check "driver bound to the receiver again" hp_nic_bind "$HP_NIC_RX"; then
		hp_check "its new netdev in the receiver's netns, XDP on" rx_back
	else
		hp_not_ok "its new netdev in the receiver's netns, XDP on"
	fi
}

main() {
	local errors0 faults0 mark
	[[ $MODE =~ ^(none|lifo|percpu|budget|cap)$ ]] || usage
	hp_require_root
	[[ -x $HUGEPOOL ]] || hp_fail_all "no $HUGEPOOL: run scripts/build-tools.sh"
	[[ $(hp_nic_bdfs | wc -l) -ge 2 ]] ||
		hp_fail_all "needs two vmxnet3 NICs (scripts/vm.sh --nic vmxnet3)"
	[[ $(cat "$HP_DMA_DEBUG/disabled" 2>/dev/null) == N ]] ||
		hp_fail_all "DMA-API debugging is not built in or is off: a clean result would prove nothing"
	hp_plan 22
	hp_kmemleak_clear
	hp_pp_trace_start || hp_fail_all "no tracefs instance for page_pool_release"
	errors0=$(hp_dma_errors)
	faults0=$(dmesg | grep -c 'DMAR: \[DMA' || true)
	provider

	hp_check "vmxnet3 pair: sender and receiver in their netns, reachable" \
		hp_nic_pair $NET || hp_fail_all "no vmxnet3 pair"
	hp_log "mode $MODE; sender $HP_NIC_TX, receiver $HP_NIC_RX (IOMMU domain: $(hp_nic_iommu "$HP_NIC_RX"), sid $(hp_nic_sid "$HP_NIC_RX"))"
	QUEUES=$(rx_queues)
	hp_check "XDP_PASS on the receiver" hp_nic_xdp on
	served "bound"
	traffic "bound"
	mapped "bound"
	counted "bound"

	unbind
	rebind
	served "rebound"
	traffic "rebound"
	mapped "rebound"

	mark=$(hp_pp_trace_mark)
	hp_nic_del
	hp_check "torn down: every page of the receiver's pools home" \
		hp_wait 30 hp_pp_all_home "$mark" || hp_log "pools, in flight: $(hp_pp_released "$mark")"
	home "torn down"

	hp_expect "DMA-API debugging: no new error" "$(hp_dma_errors)" -eq "$errors0" ||
		dmesg | grep 'DMA-API' | tail -n 20 | hp_dump -
	hp_expect "IOMMU: no DMA fault" "$(dmesg | grep -c 'DMAR: \[DMA' || true)" -eq "$faults0"
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
