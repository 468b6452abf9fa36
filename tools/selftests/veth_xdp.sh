#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The hugepage provider under real traffic: a veth pair across two network
# namespaces, a native XDP_PASS program on the receiver (veth then copies
# TCP skbs into its rx queues' page pool pages), net.core.mp_default=huge.
# Checks that the receiver's bindings use the policy asked for, that its
# pools draw from the provider (page-pool-get over netlink, and debugfs),
# that huge pages were carved, that traffic arrived while XDP was detached
# and re-attached under it, and that after teardown every huge page is
# back and MemAvailable recovered.
#
# usage: veth_xdp.sh [policy]      (run as root on a hugepool kernel;
#                                  default: the current default policy)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

POLICY=${1:-}
QUEUES=4
BLOCKS=8
SECS=${HP_TRAFFIC_SECS:-6}

xdp_attach() { ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp; }
xdp_detach() { ip -n "$HP_NSB" link set dev vb xdpdrv off; }

blocks_reserved() { [[ $(hp_binding_sum vb blocks) -ge $((QUEUES * BLOCKS)) ]]; }

# bindings of vb whose policy is the one asked for
bound_with_policy() { hp_bindings | grep " dev=vb " | grep -c " policy=$POLICY " || true; }

# iperf3 through the pair, XDP detached and re-attached halfway through
traffic() {
	local out rc bytes client
	out=$HP_TMP/iperf.json
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B 10.99.0.2 --logfile "$HP_TMP/iperf-s.log"
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c 10.99.0.2 -t "$SECS" -P $QUEUES -J > "$out" &
	client=$!
	sleep $((SECS / 2))
	hp_check "XDP detached under traffic" xdp_detach
	hp_check "XDP re-attached under traffic" xdp_attach
	wait $client
	rc=$?
	bytes=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$out" 2>/dev/null || echo 0)
	hp_log "iperf3: rc $rc, $((bytes / 1048576)) MiB received in ${SECS}s"
	hp_expect "TCP traffic arrived" "$bytes" -gt $((1 << 20))
}

main() {
	local mem0 mem1 mem2 counts
	hp_require_root
	hp_plan 16
	hp_kmemleak_clear
	mem0=$(hp_mem_available)
	[[ -n $POLICY ]] || POLICY=$(sysctl -n net.core.pp_policy_default)
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=$BLOCKS \
		net.core.mp_huge_max_blocks=16 net.core.pp_policy_default="$POLICY"
	hp_log "policy: $(sysctl -n net.core.pp_policy_default)"

	hp_veth_pair 10.99.0 $QUEUES
	hp_check "native XDP attached to the receiving veth" xdp_attach
	hp_expect "one binding per receiver rx queue" "$(hp_binding_count vb)" -eq $QUEUES
	hp_expect "every binding of vb has policy $POLICY" "$(bound_with_policy)" -eq $QUEUES ||
		hp_bindings | hp_dump -
	hp_check "huge pages reserved by the worker" hp_wait 30 blocks_reserved
	mem1=$(hp_mem_available)
	hp_expect "MemAvailable fell by the reservation (KiB)" $((mem0 - mem1)) -ge $((QUEUES * BLOCKS * 2048 * 3 / 4))

	counts=$(hp_pp_mp_huge "$HP_NSB" "$(hp_ifindex "$HP_NSB" vb)")
	hp_log "page-pool-get: pools with mp-huge / pools of vb: ${counts% *} / ${counts#* }"
	hp_expect "page-pool-get: every pool of vb draws from mp-huge" "${counts% *}" -eq "${counts#* }"
	hp_expect "page-pool-get: vb has a pool per rx queue" "${counts#* }" -ge $QUEUES

	traffic
	hp_bindings | grep " dev=vb " | hp_dump -
	hp_expect "pages carved for the receiver" "$(hp_binding_sum vb pages-carved)" -gt 0
	hp_expect "refills served by the provider" "$(hp_binding_sum vb refills)" -gt 0
	hp_expect "no page lost to another holder" "$(hp_binding_sum vb pages-lost)" -eq 0

	hp_veth_del
	hp_cleanup
	hp_check "every huge page back after teardown" hp_wait 30 hp_no_blocks ||
		hp_bindings | hp_dump -
	sleep 1
	mem2=$(hp_mem_available)
	hp_log "MemAvailable: before $((mem0 / 1024)) MiB, reserved $((mem1 / 1024)) MiB, after $((mem2 / 1024)) MiB"
	# slab freed under KASAN waits in its quarantine: allow for it
	hp_expect "MemAvailable recovered within 16 MiB" "$mem2" -ge $((mem0 - 16384))
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
