#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real NIC doing real DMA: two vmxnet3 NICs of QEMU joined by a hub
# (scripts/vm.sh --nic vmxnet3, with --iommu strict|lazy behind the
# emulated Intel IOMMU), the receiver in its own netns with XDP_PASS, so
# that its rx rings fill from page pools that DMA-map (PP_FLAG_DMA_MAP).
# The pair is set up once; then, for each mode - the page allocator
# (none), the hugepage provider with each policy (lifo, percpu, budget),
# the memory cap (cap) - the receiver's netns defaults name it and XDP
# goes on, which gives the receiver new page pools:
#  - the queues are served by it (a binding each, and pools listed by
#    page-pool-get as drawing from it), TCP flows, and the rx buffers are
#    mapped as it maps them (one mapping per page, or per 2 MiB huge page);
#  - for the first mode of each provider (none, the first policy, cap):
#    the PCI driver is unbound while a frozen receiver's sockets hold
#    pages: nothing of the device stays DMA-mapped, the pages stay out
#    until the receiver is killed and then all come home, and so does
#    whatever the provider held; the driver binds again and traffic flows
#    as before;
#  - XDP off, and the receiver's netdev out of its netns and back (which
#    takes its default bindings away): every page of its pools is home,
#    nothing of them is mapped, and the provider holds nothing.
# At the end, DMA-API debugging reported no error and the IOMMU no DMA
# fault. page_pool's own page_pool_release event counts the pages out of
# each pool, whatever serves it and whether the driver names its device.
# The harness scans the console log for splats.
#
# usage: vmxnet3_rx.sh [all | providers | MODE...]
#        MODE: none lifo percpu budget cap (default all: every mode, in
#        that order; providers: every mode but none, as make check runs
#        it; root, hugepool kernel, a guest of scripts/vm.sh --nic vmxnet3)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

ALL=(none lifo percpu budget cap)
NET=10.88.0
SECS=${HP_TRAFFIC_SECS:-6}
STREAMS=2
PORT=5201
HOLD=$((64 << 10))	# what the frozen receiver's sockets must hold, bytes
HUGEPOOL=$HP_BUILD/tools/hugepool
MODES=()
MODE=""		# the mode of the cycle running
QUEUES=0	# the receiver's rx queues, once it is up
RESULTS_CYCLE=7	# results of a mode's cycle
RESULTS_UNBIND=11	# and of its unbind, for the first mode of a provider

usage() {
	sed -n '3,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# the modes of the command line, in ALL's words
modes() {
	local m
	[[ $# -gt 0 && $1 != all ]] || { MODES=("${ALL[@]}"); return; }
	[[ $* != providers ]] || { MODES=("${ALL[@]:1}"); return; }
	for m in "$@"; do
		[[ " ${ALL[*]} " == *" $m "* ]] || usage
		MODES+=("$m")
	done
}

provider_of() {
	case $1 in
	none | cap) echo "$1" ;;
	*) echo huge ;;
	esac
}

# the modes whose cycle unbinds the driver: the first of each provider
unbind_modes() {
	local m seen=" "
	for m in "${MODES[@]}"; do
		[[ $seen == *" $(provider_of "$m") "* ]] && continue
		seen+="$(provider_of "$m") "
		echo "$m"
	done
}

# MODE's provider defaults in the receiver's netns (it starts with none;
# a write starts a new generation, which the next pools' queues get); the
# policy default is machine-wide, restored at cleanup
defaults() {
	local s=(net.core.mp_default=none)
	case $MODE in
	lifo | percpu | budget)
		hp_sysctl_default net.core.pp_policy_default="$MODE"
		s=(net.core.mp_default=huge net.core.mp_huge_blocks=2 net.core.mp_huge_max_blocks=8) ;;
	cap)
		s=(net.core.mp_default=cap net.core.mp_cap_pages=2048) ;;
	esac
	ip netns exec "$HP_NSB" sysctl -qw "${s[@]}" || hp_fail_all "$MODE: the receiver's defaults"
}

huge_bindings() { hp_bindings | grep " dev=nicb " | grep -c " policy=$MODE " || true; }
cap_bindings() { grep -c " dev=nicb " "$HP_CAP_DEBUGFS/bindings" || true; }
any_bindings() { cat "$HP_DEBUGFS/bindings" "$HP_CAP_DEBUGFS/bindings" | grep -c '^id=' || true; }
cap_none_held() { grep -q '^total pages-held=0$' "$HP_CAP_DEBUGFS/bindings"; }

# (the glob inside the netns: sysfs shows a netns its own devices only)
rx_queues() {
	ip netns exec "$HP_NSB" sh -c 'ls -d /sys/class/net/nicb/queues/rx-*' | wc -l
}

# the receiver's page pools as page-pool-get lists them: "all huge cap",
# those drawing from each provider
pools() {
	hp_ynl "$HP_NSB" --dump page-pool-get | /usr/bin/python3 -c '
import json, sys
pools = [p for p in json.load(sys.stdin) if p.get("ifindex") == int(sys.argv[1])]
def n(t):
    return sum(1 for p in pools if p.get("mp-binding", {}).get("type") == t)
print(len(pools), n("huge"), n("cap"))' "$(hp_ifindex "$HP_NSB" nicb)"
}

# WHEN: every rx queue of the receiver is served by the mode's provider: a
# binding each (none: no binding), and as many pools drawing from it (none:
# as many pools drawing from none)
served() {
	local when=$1 all huge cap n p
	read -r all huge cap <<< "$(pools)"
	case $MODE in
	none) n=$(any_bindings) p=$((all - huge - cap)) ;;
	cap) n=$(cap_bindings) p=$cap ;;
	*) n=$(huge_bindings) p=$huge ;;
	esac
	hp_log "$when: $QUEUES rx queues, $n bindings of nicb ($MODE), $all pools: $huge huge, $cap cap"
	if [[ $MODE == none ]]; then
		[[ $n == 0 && $huge == 0 && $cap == 0 && $all -ge $QUEUES && $QUEUES -gt 0 ]]
	else
		[[ $n == "$QUEUES" && $p == "$all" && $all -ge $QUEUES && $QUEUES -gt 0 ]]
	fi && { hp_ok "$when: every rx queue served by $MODE"; return; }
	hp_not_ok "$when: every rx queue served by $MODE"
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
		hp_check "$when: every capped page released" \
			hp_until $((SECONDS + 30)) cap_none_held || hp_dump "$HP_CAP_DEBUGFS/bindings" ;;
	*)
		hp_check "$when: every huge page back" hp_until $((SECONDS + 30)) hp_no_blocks ||
			hp_bindings | hp_dump - ;;
	esac
}

server_done() { ! hp_running "$1"; }

# WHEN: SECS of iperf3 from the sender to the receiver
traffic() {
	local when=$1 out=$HP_TMP/iperf.json bytes server
	ip netns exec "$HP_NSB" iperf3 -s -1 -B "$NET.2" -p $PORT >/dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$server" $PORT ||
		hp_log "$when: the receiver does not listen"
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -p $PORT -t "$SECS" -P $STREAMS -J > "$out" 2>&1
	hp_until $((SECONDS + 10)) server_done "$server" || kill -9 "$server"
	wait "$server" 2>/dev/null
	hp_cleanup_drop server
	bytes=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$out" 2>/dev/null || echo 0)
	hp_log "$when: iperf3: $((bytes / 1024)) KiB received in ${SECS}s, $STREAMS streams"
	# (under TCG beside another guest: 150-300 KiB/s)
	hp_expect "$when: TCP traffic arrived" "$bytes" -gt $((256 << 10))
}

# The receiving application freezes mid-flood: its sockets hold pages of
# the receiver's pools. Sets SERVER and CLIENT.
freeze() {
	local log=$HP_TMP/server.log
	ip netns exec "$HP_NSB" iperf3 -s -1 -B "$NET.2" -p $PORT -i 0.5 --forceflush \
		> "$log" 2>&1 &
	SERVER=$!
	hp_cleanup_add server "kill -9 $SERVER"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$SERVER" $PORT ||
		hp_log "$MODE: the receiver does not listen"
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -p $PORT -t 120 -P $STREAMS >/dev/null 2>&1 &
	CLIENT=$!
	hp_cleanup_add client "kill -9 $CLIENT"
	hp_until $((SECONDS + 30)) hp_iperf_flowing "$log" ||
		hp_log "$MODE: no data reached the receiver"
	kill -STOP "$SERVER"
	hp_until $((SECONDS + 30)) hp_tcp_holding "$SERVER" $PORT $HOLD
	hp_log "$MODE: the frozen receiver's sockets hold $((HP_TCP_RXQ >> 10)) KiB"
}

# Unbind the receiver's driver with pages in the frozen sockets; kill the
# receiver; every page comes home. Six results.
unbind() {
	local mark pools at now
	freeze
	mark=$(hp_pp_trace_mark)
	hp_check "$MODE: driver unbound from the receiver ($HP_NIC_RX) under a frozen receiver" \
		hp_nic_unbind "$HP_NIC_RX"
	read -r pools at now <<< "$(hp_pp_released "$mark")"
	hp_log "$MODE: unbind: $pools page pools destroyed, $at pages in flight"
	hp_expect "$MODE: pages in flight as the receiver's pools were destroyed" "$at" -gt 0
	hp_expect "$MODE: nothing of the unbound receiver is DMA-mapped" \
		"$(hp_dma_mappings "$HP_NIC_RX")" -eq 0 ||
		grep " $HP_NIC_RX " "$HP_DMA_DEBUG/dump" | head -n 20 | hp_dump -
	# page_pool counts what is out again each second
	hp_until $((SECONDS + 10)) hp_pp_retried "$mark" ||
		hp_log "$MODE: no page_pool_release since the unbind"
	read -r pools at now <<< "$(hp_pp_released "$mark")"
	hp_expect "$MODE: pages still in the frozen sockets after the unbind" "$now" -gt 0

	kill -KILL "$SERVER" "$CLIENT"
	wait "$SERVER" "$CLIENT" 2>/dev/null
	hp_cleanup_drop server
	hp_cleanup_drop client
	hp_flush_defer_lists
	hp_check "$MODE: killed: every page of the unbound receiver's pools home" \
		hp_until $((SECONDS + 30)) hp_pp_all_home "$mark" ||
		hp_log "pools, in flight: $(hp_pp_released "$mark")"
	home "$MODE: unbound"
}

# the receiver's new netdev where the old one was, with XDP
rx_back() { hp_nic_move "$HP_NIC_RX" "$HP_NSB" nicb "$NET.2" && hp_nic_xdp on; }

# Two results.
rebind() {
	if hp_check "$MODE: driver bound to the receiver again" hp_nic_bind "$HP_NIC_RX"; then
		hp_check "$MODE: its new netdev in the receiver's netns, XDP on" rx_back
	else
		hp_not_ok "$MODE: its new netdev in the receiver's netns, XDP on"
	fi
}

# XDP off, and the receiver's netdev out of its netns and back: its pools
# go, and with them (leaving the netns) the bindings the netns defaults
# made. The defaults go to none first: vmxnet3 makes its page pools with
# XDP off too, and the netns's defaults would bind them again on the way
# back (the next mode sets its own).
rx_reset() {
	hp_nic_xdp off || return 1
	ip netns exec "$HP_NSB" sysctl -qw net.core.mp_default=none || return 1
	ip -n "$HP_NSB" link set dev nicb netns 1 || return 1
	hp_nic_move "$HP_NIC_RX" "$HP_NSB" nicb "$NET.2"
}

# MARK: every page of the pools destroyed since is home, and nothing of
# the receiver is mapped for them (XDP off: vmxnet3 maps no page pool)
pools_home() {
	hp_pp_all_home "$1" && [[ $(hp_dma_mappings "$HP_NIC_RX" DMA_BIDIRECTIONAL) == 0 ]]
}

# One mode: served, traffic, then (unbind: the driver unbound and bound
# again under it) everything home once XDP is off.
cycle() {
	local unbind=$1 mark
	MODE=$2
	hp_log "mode $MODE${unbind:+, with the driver unbound and bound again}"
	defaults
	hp_check "$MODE: XDP_PASS on the receiver: new page pools" hp_nic_xdp on
	served "$MODE: bound"
	traffic "$MODE: bound"
	mapped "$MODE: bound"
	counted "$MODE: bound"
	if [[ -n $unbind ]]; then
		unbind
		rebind
		served "$MODE: rebound"
		traffic "$MODE: rebound"
		mapped "$MODE: rebound"
	fi

	mark=$(hp_pp_trace_mark)
	rx_reset || hp_log "$MODE: the receiver did not come back"
	hp_check "$MODE: XDP off: every page of the receiver's pools home, none mapped" \
		hp_until $((SECONDS + 30)) pools_home "$mark" ||
		hp_log "pools, at destroy, in flight: $(hp_pp_released "$mark");" \
			"bidirectional mappings: $(hp_dma_mappings "$HP_NIC_RX" DMA_BIDIRECTIONAL)"
	home "$MODE: out of its netns"
}

main() {
	local errors0 faults0 m unbinds
	modes "$@"
	mapfile -t unbinds < <(unbind_modes)
	hp_require_root
	[[ -x $HUGEPOOL ]] || hp_fail_all "no $HUGEPOOL: run scripts/build-tools.sh"
	[[ $(hp_nic_bdfs | wc -l) -ge 2 ]] ||
		hp_fail_all "needs two vmxnet3 NICs (scripts/vm.sh --nic vmxnet3)"
	[[ $(cat "$HP_DMA_DEBUG/disabled" 2>/dev/null) == N ]] ||
		hp_fail_all "DMA-API debugging is not built in or is off: a clean result would prove nothing"
	hp_plan $((5 + ${#MODES[@]} * RESULTS_CYCLE + ${#unbinds[@]} * RESULTS_UNBIND))
	hp_kmemleak_clear
	hp_pp_trace_start || hp_fail_all "no tracefs instance for page_pool_release"
	errors0=$(hp_dma_errors)
	faults0=$(dmesg | grep -c 'DMAR: \[DMA' || true)
	hp_sysctl_default net.core.mp_default=none

	hp_check "vmxnet3 pair: sender and receiver in their netns, reachable" \
		hp_nic_pair $NET || hp_fail_all "no vmxnet3 pair"
	hp_log "modes ${MODES[*]}; sender $HP_NIC_TX, receiver $HP_NIC_RX (IOMMU domain: $(hp_nic_iommu "$HP_NIC_RX"), sid $(hp_nic_sid "$HP_NIC_RX"))"
	QUEUES=$(rx_queues)
	hp_expect "the receiver has rx queues" "$QUEUES" -gt 0
	for m in "${MODES[@]}"; do
		if [[ " ${unbinds[*]} " == *" $m "* ]]; then
			cycle unbind "$m"
		else
			cycle "" "$m"
		fi
	done
	hp_nic_del

	hp_expect "DMA-API debugging: no new error" "$(hp_dma_errors)" -eq "$errors0" ||
		dmesg | grep 'DMA-API' | tail -n 20 | hp_dump -
	hp_expect "IOMMU: no DMA fault" "$(dmesg | grep -c 'DMAR: \[DMA' || true)" -eq "$faults0"
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
