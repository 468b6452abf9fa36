#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The operator's guide, run for real: the two deployments of
# Documentation/networking/page_pool_providers_guide.rst, each command
# printed as "# command" before what it printed. The guide's listings come
# from this script's output (build/results/guide.txt):
#
#   scripts/vm.sh -o build/vm/guide -- tools/guide.sh > build/results/guide.txt
#
# A veth pair across two network namespaces stands in for the host's NIC:
# native XDP on the receiver (vb) makes veth receive into page pool pages,
# four rx queues. Needs root and the hugepool kernel (the guest of
# scripts/vm.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/selftests/lib.sh"
SECS=${1:-5}
HP_NSB=rx		# short names for the listings
HP_NSA=tx
TOOL=$HP_BUILD/tools/hugepool
NETDEV_YAML=$HP_KSRC/Documentation/netlink/specs/netdev.yaml

# the command line as one would type it: words with shell characters quoted
typed() {
	local a out=()
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./=:,+-]+$ ]]; then
			out+=("$a")
		else
			out+=("'$a'")
		fi
	done
	echo "${out[*]}"
}

# The operator works in the receiver's namespace: every command runs there
# (hugepool and cli.py name devices of their namespace) and is shown as
# typed there: "hugepool" is build/tools/hugepool, "ynl" YNL's cli.py.
run() {
	local shown
	shown=$(typed "$@")
	shown=${shown//$HP_BUILD\/tools\//}
	[[ $1 != ynl ]] ||
		shown="tools/net/ynl/cli.py --spec Documentation/netlink/specs/netdev.yaml $(typed "${@:2}")"
	printf '# %s\n' "$shown"
	case $1 in
	hugepool) set -- "$TOOL" "${@:2}" ;;
	ynl) set -- /usr/bin/python3 "$HP_KSRC/tools/net/ynl/cli.py" \
		--spec "$NETDEV_YAML" --no-schema "${@:2}" ;;
	esac
	ip netns exec rx "$@" 2>&1
}

# the same in the initial namespace: settings of the whole machine
run_init() {
	printf '# %s\n' "$(typed "$@")"
	"$@" 2>&1
}

section() { printf '\n## %s\n\n' "$*"; }

traffic() {
	local server
	ip netns exec rx iperf3 -s -1 -B 10.98.0.2 >/dev/null 2>&1 &
	server=$!
	sleep 1
	ip netns exec tx iperf3 -c 10.98.0.2 -t "$1" -P 4 -J > "$HP_TMP/iperf.json" 2>&1
	wait $server
	/usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]
print("iperf3: %.1f Mbit/s received, 4 streams" % (e["sum_received"]["bits_per_second"] / 1e6))' \
		"$HP_TMP/iperf.json"
}

# a receiver that stops reading for a while: its sockets hold pages
stalled_traffic() {
	local server client
	ip netns exec rx iperf3 -s -1 -B 10.98.0.2 >/dev/null 2>&1 &
	server=$!
	sleep 1
	ip netns exec tx iperf3 -c 10.98.0.2 -t "$1" -P 4 >/dev/null 2>&1 &
	client=$!
	sleep 1
	kill -STOP $server
	sleep $(($1 / 2))
	kill -CONT $server
	wait $client $server
}

host() {
	local id
	section "1. A cloud host: huge pages for the busy queues"
	run_init sysctl net.core.mp_huge_limit_mb net.core.pp_policy_available \
		net.core.pp_policy_default
	run_init grep -E '^(HugePages_Free|Hugepagesize)' /proc/meminfo
	run hugepool queues vb
	printf '# %s\n' "hugepool bind vb 0-3 huge blocks 4 max 16 policy percpu magazine=64"
	id=$(ip netns exec rx "$TOOL" bind vb 0-3 huge blocks 4 max 16 policy percpu \
		magazine=64 2>"$HP_TMP/err")
	echo "$id"
	cat "$HP_TMP/err"
	# veth has no queue restart: the binding waits for the next page
	# pools, which XDP attach creates
	run hugepool queues vb
	run ip -n rx link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	run hugepool queues vb
	traffic "$SECS"
	run hugepool show vb
	run hugepool pools vb
	run ynl --do mp-binding-get --json "{\"id\": $id}"
	section "1b. Live changes: a smaller cap on growth, give back what is idle"
	run hugepool set "$id" max 8 trim
	run hugepool show vb
	section "1c. Unbind: the pools keep their pages until they go"
	run hugepool unbind "$id"
	run ip -n rx link set dev vb xdpdrv off
	hp_flush_defer_lists
	sleep 2
	run hugepool show vb
	# (debugfs is not mounted in "ip netns exec"'s view of /sys)
	run_init grep total /sys/kernel/debug/mp_huge/bindings
}

small_vm() {
	local id
	section "2. A small VM: a hard cap on what the receive path holds"
	run sysctl -w net.core.mp_default=cap net.core.mp_cap_pages=256
	run ip -n rx link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	run hugepool queues vb
	stalled_traffic "$SECS"
	run hugepool show vb
	section "2b. An operator's own binding replaces the default, with a device budget"
	run ip -n rx link set dev vb xdpdrv off
	run sysctl -w net.core.mp_default=none
	printf '# %s\n' "hugepool bind vb 0-3 cap 128 device-budget 384"
	id=$(ip netns exec rx "$TOOL" bind vb 0-3 cap 128 device-budget 384 2>"$HP_TMP/err")
	echo "$id"
	cat "$HP_TMP/err"
	run ip -n rx link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	stalled_traffic "$SECS"
	run hugepool set "$id" cap 96
	run hugepool show vb
	run hugepool bind vb 9 cap 64
	run ip -n rx link set dev vb xdpdrv off
	run hugepool unbind "$id"
}

main() {
	local monitor

	hp_require_root >/dev/null
	hp_netns_add tx && hp_netns_add rx || exit 1
	ip link add name va numtxqueues 4 numrxqueues 4 netns tx type veth \
		peer name vb numtxqueues 4 numrxqueues 4 netns rx || exit 1
	ip -n tx addr add 10.98.0.1/24 dev va
	ip -n rx addr add 10.98.0.2/24 dev vb
	ip -n tx link set va up
	ip -n rx link set vb up
	ip netns exec rx "$TOOL" monitor > "$HP_TMP/monitor" 2>&1 &
	monitor=$!
	host
	small_vm
	section "Notifications seen meanwhile (hugepool monitor)"
	kill $monitor 2>/dev/null
	wait $monitor 2>/dev/null
	cat "$HP_TMP/monitor"
	hp_cleanup
}

main "$@"
