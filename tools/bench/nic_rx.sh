#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest's half of make bench-nic (scripts/bench-nic.sh): the same
# iperf3 traffic through the vmxnet3 pair (scripts/vm.sh --nic vmxnet3
# --iommu MODE --iotlb-trace) for each provider of the receiver's queues,
# one after the other in one boot. The sender's DMA bypasses the IOMMU
# (identity domain), so that what the IOMMU maps and QEMU's IOTLB trace
# counts for the receiver's source id is the receiver's alone.
#
# For each MODE: the pair, XDP_PASS on the receiver (its rx rings fill from
# page pools that DMA-map), WARM seconds of traffic (pools fill, huge pages
# are reserved and mapped), then SECS seconds measured: DMA-API map and
# unmap calls for the receiver (dma:dma_map_page, dma:dma_unmap_page with
# a device filter), IOMMU map and unmap calls (iommu:map, iommu:unmap)
# and bytes received. Around the measured window it creates
# OUT/marks/MODE.start and MODE.end, for the host to cut QEMU's IOTLB
# trace at. One line per mode goes to OUT/nic_rx.txt:
#   mode=M bytes=B secs=S dma_map=N dma_unmap=N iommu_map=N iommu_unmap=N sid=0x..
#
# usage: nic_rx.sh OUT MODE...   MODE: none lifo percpu budget cap
set -uo pipefail
HP_TOP=${HP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HP_TOP/tools/selftests/lib.sh"
. "$HP_TOP/tools/selftests/nic_lib.sh"

OUT=$1
shift
NET=10.87.0
WARM=${HP_NIC_WARM:-6}
SECS=${HP_NIC_SECS:-20}
STREAMS=2
TR=/sys/kernel/tracing/instances/hp-bench-nic-$$

iperf() {
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B "$NET.2"
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -t "$1" -P $STREAMS -J > "$HP_TMP/iperf.json" 2>&1
	/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' \
		"$HP_TMP/iperf.json" 2>/dev/null || echo 0
}

# count EVENT: its events in the instance's buffer
count() { grep -c " $1:" "$TR/trace" || true; }

measure() {
	local mode=$1 bytes
	hp_mode_default "$mode" || return 1
	hp_nic_pair $NET || { echo "nic_rx.sh: no pair" >&2; return 1; }
	hp_nic_xdp on || { echo "nic_rx.sh: no XDP" >&2; return 1; }
	iperf "$WARM" > /dev/null
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	echo > "$TR/trace"
	echo "device == \"$HP_NIC_RX\"" > "$TR/events/dma/dma_map_page/filter"
	echo "device == \"$HP_NIC_RX\"" > "$TR/events/dma/dma_unmap_page/filter"
	echo 1 > "$TR/tracing_on"
	touch "$OUT/marks/$mode.start"
	bytes=$(iperf "$SECS")
	touch "$OUT/marks/$mode.end"
	echo 0 > "$TR/tracing_on"
	echo "mode=$mode bytes=$bytes secs=$SECS dma_map=$(count dma_map_page)" \
		"dma_unmap=$(count dma_unmap_page) iommu_map=$(count map)" \
		"iommu_unmap=$(count unmap) sid=$(hp_nic_sid "$HP_NIC_RX")" >> "$OUT/nic_rx.txt"
	if [[ $mode != none ]]; then
		hp_bindings | grep ' dev=nicb ' > "$OUT/bindings-$mode.txt"
		grep ' dev=nicb ' "$HP_CAP_DEBUGFS/bindings" >> "$OUT/bindings-$mode.txt" 2>/dev/null
	fi
	hp_nic_del
}

main() {
	local m bdfs rc=0
	hp_require_root
	mkdir -p "$OUT/marks"
	mapfile -t bdfs < <(hp_nic_bdfs)
	[[ ${#bdfs[@]} -ge 2 ]] || { echo "nic_rx.sh: needs two vmxnet3 NICs" >&2; exit 1; }
	hp_nic_identity "${bdfs[0]}" || { echo "nic_rx.sh: sender not in identity domain" >&2; exit 1; }
	mkdir "$TR" || exit 1
	hp_cleanup_add tr "rmdir $TR"
	echo 0 > "$TR/tracing_on"
	echo 16384 > "$TR/buffer_size_kb"
	for e in dma/dma_map_page dma/dma_unmap_page iommu/map iommu/unmap; do
		echo 1 > "$TR/events/$e/enable" || { echo "nic_rx.sh: no event $e" >&2; exit 1; }
	done
	: > "$OUT/nic_rx.txt"
	for m in "$@"; do
		measure "$m" || rc=1
	done
	hp_cleanup
	exit $rc
}

main "$@"
