#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The hugepage provider under real traffic, every recycling policy in one
# run: a veth pair across two network namespaces, a native XDP_PASS
# program on the receiver (veth then copies TCP skbs into its rx queues'
# page pool pages), an rx queue per policy. The first policy's queue gets
# its binding from the namespace's defaults (net.core.mp_default=huge,
# the policy as net.core.pp_policy_default), the others are bound over
# netlink (hugepool bind) before XDP makes their pools.
# Checks that each queue's binding uses its policy, that the receiver's
# pools draw from the provider (page-pool-get over netlink, and debugfs),
# that huge pages were reserved; then, for each policy in turn, TCP is
# steered to its queue alone (XPS on the sender: every CPU sends on that
# queue), XDP is detached and re-attached under it once data arrives;
# traffic arrived, most of it through that queue, and that queue's
# binding took the destroyed pool's pages back, served the new pool and
# lost none. After teardown every huge page is back and MemAvailable
# recovered.
#
# usage: veth_xdp.sh [POLICY...]   (run as root on a hugepool kernel;
#                                  default: lifo percpu budget, a queue each)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

POLICIES=("$@")
[[ ${#POLICIES[@]} -gt 0 ]] || POLICIES=(lifo percpu budget)
QUEUES=${#POLICIES[@]}
BLOCKS=8
SECS=${HP_TRAFFIC_SECS:-6}
STREAMS=2
PORT=5201
HUGEPOOL=$HP_BUILD/tools/hugepool
RESULTS_POLICY=8	# results of each policy's turn

xdp_attach() { ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp; }
xdp_detach() { ip -n "$HP_NSB" link set dev vb xdpdrv off; }

# qval QUEUE KEY: KEY of the binding that serves vb's rx queue QUEUE alone
qval() {
	hp_bindings | awk -v q="queues=$1" -v key="$2" '
		/ dev=vb / {
			for (i = 1; i <= NF; i++)
				if ($i == q)
					for (j = 1; j <= NF; j++) {
						split($j, kv, "=")
						if (kv[1] == key)
							print kv[2]
					}
		}'
}

# every rx queue's binding holds the BLOCKS huge pages it reserves
blocks_reserved() {
	local q
	for ((q = 0; q < QUEUES; q++)); do
		[[ $(qval "$q" blocks) -ge $BLOCKS ]] || return 1
	done
}

# rx queues 1.. bound over netlink with their policy; queue 0 is left to
# the namespace's defaults
bind_queues() {
	local q id
	for ((q = 1; q < QUEUES; q++)); do
		id=$(ip netns exec "$HP_NSB" "$HUGEPOOL" bind vb "$q" huge blocks $BLOCKS \
			max 16 policy "${POLICIES[q]}" 2>&1) || { hp_log "bind vb $q: $id"; return 1; }
	done
}

# steer Q: the sender's TCP goes out on its tx queue Q, and so reaches
# the receiver's rx queue Q (veth: the peer's rx queue of the tx queue):
# every CPU's XPS map names Q alone. Connections made from now on.
steer() {
	local q=$1 i all
	printf -v all '%x' $(((1 << $(nproc)) - 1))
	for ((i = 0; i < QUEUES; i++)); do
		ip netns exec "$HP_NSA" sh -c "echo 0 > /sys/class/net/va/queues/tx-$i/xps_cpus" ||
			return 1
	done
	ip netns exec "$HP_NSA" sh -c "echo $all > /sys/class/net/va/queues/tx-$q/xps_cpus"
}

# ended PID: the process has ended
ended() { ! hp_running "$1"; }

# rxq_bytes: the bytes each of vb's rx queues took in through its NAPI
# with XDP on (every packet the program ran on), space-separated
rxq_bytes() {
	ip netns exec "$HP_NSB" ethtool -S vb |
		awk -v n="$QUEUES" '$1 ~ /^rx_queue_[0-9]+_xdp_bytes:$/ {
			split($1, a, "_"); b[a[3]] = $2 }
			END { for (i = 0; i < n; i++) printf "%d ", b[i] }'
}

# iperf3 through the pair, steered to rx queue Q; XDP detached and
# re-attached once data arrives. Four results.
traffic() {
	local p=$1 q=$2 out=$HP_TMP/iperf.json log=$HP_TMP/server.log bytes client server i
	local -a b0 b1
	local mine=0 all=0
	steer "$q" || hp_log "$p: no XPS map for tx queue $q"
	ip netns exec "$HP_NSB" iperf3 -s -1 -B 10.99.0.2 -p $PORT -i 0.5 --forceflush \
		> "$log" 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$server" $PORT ||
		hp_log "$p: the receiver does not listen"
	read -ra b0 <<< "$(rxq_bytes)"
	ip netns exec "$HP_NSA" iperf3 -c 10.99.0.2 -p $PORT -t "$SECS" -P $STREAMS -J > "$out" &
	client=$!
	hp_until $((SECONDS + 30)) hp_iperf_flowing "$log" || hp_log "$p: no data reached the receiver"
	hp_check "$p: XDP detached under traffic" xdp_detach
	hp_check "$p: XDP re-attached under traffic" xdp_attach
	# under TCG the detach and attach can outlast the stream: a burst of
	# pings (steered to the queue too) makes sure the new pool refills
	ip netns exec "$HP_NSA" ping -q -c 20 -i 0.05 10.99.0.2 > /dev/null ||
		hp_log "$p: no ping through the new pool"
	wait $client
	hp_until $((SECONDS + 10)) ended "$server" || kill -9 "$server"
	wait "$server" 2>/dev/null
	hp_cleanup_drop server
	read -ra b1 <<< "$(rxq_bytes)"
	for ((i = 0; i < QUEUES; i++)); do
		all=$((all + ${b1[i]:-0} - ${b0[i]:-0}))
	done
	mine=$((${b1[q]:-0} - ${b0[q]:-0}))
	bytes=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$out" 2>/dev/null || echo 0)
	hp_log "$p: iperf3: $((bytes / 1048576)) MiB received in ${SECS}s; XDP saw $((all >> 10)) KiB, $((mine >> 10)) KiB of it on rx queue $q"
	hp_expect "$p: TCP traffic arrived" "$bytes" -gt $((1 << 20))
	# XDP is off for a while (seconds under TCG): what it saw went
	# through the steered queue, not to the others
	hp_expect "$p: XDP saw traffic, most of it on rx queue $q (KiB)" \
		$((mine >> 10)) -gt $((all >> 11))
}

# The turn of policy P, on rx queue Q: eight results. Its binding's store
# takes back the pages of the pool XDP's detach destroys and serves the
# pool its re-attach makes: the policy's own put and get ran.
turn() {
	local p=$1 q=$2 r0 l0
	hp_expect "$p: the binding of rx queue $q has policy $p" \
		"$(qval "$q" policy | grep -cx "$p")" -eq 1 || hp_bindings | hp_dump -
	r0=$(qval "$q" refills) l0=$(qval "$q" releases)
	traffic "$p" "$q"
	hp_bindings | grep " dev=vb queues=$q " | hp_dump -
	hp_expect "$p: pages released to the binding this turn" \
		$(($(qval "$q" releases) - ${l0:-0})) -gt 0
	hp_expect "$p: refills served by the binding this turn" \
		$(($(qval "$q" refills) - ${r0:-0})) -gt 0
	hp_expect "$p: no page lost to another holder" "$(qval "$q" pages-lost)" -eq 0
}

main() {
	local mem0 mem1 mem2 counts q
	hp_require_root
	[[ -x $HUGEPOOL ]] || hp_skip_all "no $HUGEPOOL: run scripts/build-tools.sh"
	hp_plan $((9 + QUEUES * RESULTS_POLICY))
	hp_kmemleak_clear
	mem0=$(hp_mem_available)
	# naming each policy loads its module, if it is one; the first is the
	# default
	for ((q = QUEUES - 1; q >= 0; q--)); do
		hp_sysctl_default net.core.pp_policy_default="${POLICIES[q]}"
	done
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=$BLOCKS \
		net.core.mp_huge_max_blocks=16
	hp_log "policies ${POLICIES[*]} on rx queues 0-$((QUEUES - 1)); rx queue 0 by default"

	hp_veth_pair 10.99.0 "$QUEUES"
	bind_queues || hp_log "not every rx queue bound over netlink"
	hp_check "native XDP attached to the receiving veth" xdp_attach
	hp_expect "one binding per receiver rx queue" "$(hp_binding_count vb)" -eq "$QUEUES" ||
		hp_bindings | hp_dump -
	hp_check "huge pages reserved by the worker, $BLOCKS a queue" \
		hp_until $((SECONDS + 30)) blocks_reserved || hp_bindings | hp_dump -
	mem1=$(hp_mem_available)
	hp_expect "MemAvailable fell by the reservation (KiB)" $((mem0 - mem1)) -ge $((QUEUES * BLOCKS * 2048 * 3 / 4))

	counts=$(hp_pp_mp_huge "$HP_NSB" "$(hp_ifindex "$HP_NSB" vb)")
	hp_log "page-pool-get: pools with mp-huge / pools of vb: ${counts% *} / ${counts#* }"
	hp_expect "page-pool-get: every pool of vb draws from mp-huge" "${counts% *}" -eq "${counts#* }"
	hp_expect "page-pool-get: vb has a pool per rx queue" "${counts#* }" -ge "$QUEUES"

	for ((q = 0; q < QUEUES; q++)); do
		turn "${POLICIES[q]}" "$q"
	done

	hp_veth_del
	hp_cleanup
	hp_check "every huge page back after teardown" hp_until $((SECONDS + 30)) hp_no_blocks ||
		hp_bindings | hp_dump -
	mem2=$(hp_mem_available)
	hp_log "MemAvailable: before $((mem0 / 1024)) MiB, reserved $((mem1 / 1024)) MiB, after $((mem2 / 1024)) MiB"
	# slab freed under KASAN waits in its quarantine: allow for it
	hp_expect "MemAvailable recovered within 16 MiB" "$mem2" -ge $((mem0 - 16384))
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
