#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Who returns an application's pages when it crashes: a TCP receiver stops
# reading in the middle of a flood, so its sockets hold page pool pages of
# the receiving veth (native XDP: every skb lives in a provider page). The
# device is then deleted under it - its pools are destroyed and its
# bindings uninstalled while pages are still in the sockets - and only then
# is the receiver killed. The kernel reaps its sockets, the pages come home
# to a provider whose device is gone, and the last one frees what the
# bindings held: every huge page back, every capped page released, nothing
# leaked, no stalled pool (the log scan fails the run on one).
#
# Once for the hugepage provider, once for the memory-cap provider.
#
# usage: app_crash.sh        (root, hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

QUEUES=4

# Pages a provider handed out that are not home yet, over its bindings
inflight() {
	awk '/^id=/ { for (i = 1; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == "pages-inflight") s += kv[2] } }
		END { print s + 0 }' "$1"
}

huge_inflight() { inflight "$HP_DEBUGFS/bindings"; }
cap_inflight() { inflight "$HP_CAP_DEBUGFS/bindings"; }

cap_none_held() { grep -q '^total pages-held=0$' "$HP_CAP_DEBUGFS/bindings"; }

# One run: flood, freeze the receiver, delete the device, kill the
# receiver. Three results.
crash() {
	local name=$1 inflight=$2 server client held
	hp_veth_pair 10.96.0 $QUEUES xdp || hp_fail_all "no veth pair"
	ip netns exec "$HP_NSB" iperf3 -s -1 -B 10.96.0.2 >/dev/null 2>&1 &
	server=$!
	hp_cleanup_add "server $name" "kill -9 $server"
	sleep 1
	ip netns exec "$HP_NSA" iperf3 -c 10.96.0.2 -t 30 -P $QUEUES >/dev/null 2>&1 &
	client=$!
	hp_cleanup_add "client $name" "kill -9 $client"
	sleep 3
	kill -STOP $server		# the application hangs: its sockets fill
	sleep 3
	held=$($inflight)
	hp_expect "$name: the frozen receiver's sockets hold provider pages" "$held" -gt 0

	hp_check "$name: device deleted under the frozen receiver" \
		ip -n "$HP_NSB" link del vb
	sleep 1
	held=$($inflight)
	hp_expect "$name: pages still in the sockets after the device went" "$held" -gt 0

	kill -KILL $server		# the application crashes
	kill -KILL $client
	wait $server $client 2>/dev/null
	hp_cleanup_drop "server $name"
	hp_cleanup_drop "client $name"
	hp_veth_del gone
}

main() {
	hp_require_root
	hp_plan 11
	hp_kmemleak_clear

	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=2
	crash "mp-huge" huge_inflight
	hp_check "mp-huge: every huge page back once the sockets are reaped" \
		hp_wait 30 hp_no_blocks || hp_bindings | hp_dump -
	hp_expect "mp-huge: no page in flight left" "$(huge_inflight)" -eq 0

	hp_sysctl_default net.core.mp_default=cap
	crash "mp-cap" cap_inflight
	hp_check "mp-cap: every page released once the sockets are reaped" \
		hp_wait 30 cap_none_held || hp_dump "$HP_CAP_DEBUGFS/bindings"
	hp_expect "mp-cap: no page in flight left" "$(cap_inflight)" -eq 0

	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
