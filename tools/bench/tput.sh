#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest's half of make bench-tput (scripts/bench-tput.sh): TCP
# throughput into a receiver whose rx queues are fed by each provider and
# policy, against the page allocator, in one boot of the kernel without
# the debugging options (scripts/build-x86.sh --fast).
#
# Two receivers: veth with native XDP (XDP_PASS on vb, 4 queues: veth
# copies each packet into a page pool page) and, when the guest has two
# vmxnet3 NICs (scripts/vm.sh --nic vmxnet3), a vmxnet3 NIC with XDP_PASS
# (its rx rings fill from page pools that DMA-map). For every ROUND, every
# MODE in turn (the order rotates from round to round, so that drift over
# the boot falls on every mode alike): the pair made afresh with the
# provider as its namespace's default, WARM seconds of traffic, then SECS
# seconds of iperf3 with STREAMS streams measured, the pair taken down.
# One line per measurement to OUT/tput.txt:
#   dev=veth|vmxnet3 round=R mode=M bytes=B secs=S retrans=N
# and the receiver's bindings after each to OUT/bindings-DEV-R-MODE.txt.
# HP_TPUT_DEVS="veth": those receivers only.
#
# usage: tput.sh OUT ROUNDS MODE...   MODE: none lifo percpu budget cap
set -uo pipefail
HP_TOP=${HP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HP_TOP/tools/selftests/lib.sh"
. "$HP_TOP/tools/selftests/nic_lib.sh"

OUT=$1
ROUNDS=$2
shift 2
MODES=("$@")
WARM=${HP_TPUT_WARM:-3}
SECS=${HP_TPUT_SECS:-10}
STREAMS=${HP_TPUT_STREAMS:-4}
VETH_NET=10.86.0
NIC_NET=10.87.0

# iperf SECS ADDR: iperf3 into ADDR; prints "bytes retransmits"
iperf() {
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B "$2"
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c "$2" -t "$1" -P "$STREAMS" -J > "$HP_TMP/iperf.json" 2>&1
	/usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
print(int(e["sum_received"]["bytes"]), int(e["sum_sent"].get("retransmits", 0)))' \
		"$HP_TMP/iperf.json" 2>/dev/null || echo "0 0"
}

# the receiver's bindings draw from the provider the mode names
provider_on() {
	local dev=$1 mode=$2
	case $mode in
	none) [[ $(hp_binding_count "$dev") == 0 ]] ;;
	cap) grep -q " dev=$dev " "$HP_CAP_DEBUGFS/bindings" 2>/dev/null ;;
	*) hp_bindings | grep " dev=$dev " | grep -q "policy=$mode" ;;
	esac
}

up() {
	case $1 in
	veth) hp_veth_pair $VETH_NET 4 xdp ;;
	vmxnet3) hp_nic_pair $NIC_NET && hp_nic_xdp on ;;
	esac
}

down() {
	case $1 in
	veth) hp_veth_del ;;
	vmxnet3) hp_nic_del ;;
	esac
}

measure() {
	local dev=$1 round=$2 mode=$3 addr rx bytes retrans
	case $dev in
	veth) addr=$VETH_NET.2 rx=vb ;;
	vmxnet3) addr=$NIC_NET.2 rx=nicb ;;
	esac
	hp_mode_default "$mode" || return 1
	up "$dev" || { echo "tput.sh: no $dev pair" >&2; down "$dev"; return 1; }
	iperf "$WARM" "$addr" > /dev/null
	if ! provider_on "$rx" "$mode"; then
		echo "tput.sh: $dev: the receiver is not fed by $mode" >&2
		down "$dev"
		return 1
	fi
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	read -r bytes retrans <<< "$(iperf "$SECS" "$addr")"
	echo "dev=$dev round=$round mode=$mode bytes=$bytes secs=$SECS retrans=$retrans" |
		tee -a "$OUT/tput.txt"
	{ hp_bindings; cat "$HP_CAP_DEBUGFS/bindings" 2>/dev/null; } | grep " dev=$rx " \
		> "$OUT/bindings-$dev-$round-$mode.txt"
	down "$dev"
}

main() {
	local devs=(veth) dev r i n=${#MODES[@]} rc=0
	hp_require_root
	[[ $(hp_nic_bdfs | wc -l) -ge 2 ]] && devs+=(vmxnet3)
	[[ -z ${HP_TPUT_DEVS:-} ]] || read -ra devs <<< "$HP_TPUT_DEVS"
	: > "$OUT/tput.txt"
	for dev in "${devs[@]}"; do
		for ((r = 1; r <= ROUNDS; r++)); do
			for ((i = 0; i < n; i++)); do
				measure "$dev" "$r" "${MODES[(i + r - 1) % n]}" || rc=1
			done
		done
	done
	hp_cleanup
	exit $rc
}

main "$@"
