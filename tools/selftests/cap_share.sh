#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One memory-cap binding over four rx queues, four TCP streams, one a
# queue: every stream and queue gets at least half its fair share, and
# the cap holds. The receiver's sockets hold less than a queue's share
# (tcp_rmem), as the operator's guide says a capped receiver must. A capped pool keeps what it was handed recycling in its own
# alloc cache and ptr_ring, out of the provider's reach: without a share
# per queue one pool took the whole cap and the other three were refused
# for good (their streams stalled). The provider now lets each pool hold
# at most the cap divided by the binding's queues, and refuses a cap below
# 64 pages a queue with an extack that says the minimum.
#
# The sender's egress steers each stream to its queue (tc flower on the
# destination port, skbedit queue_mapping); veth receives a packet on the
# peer's rx queue of the sender's tx queue; XDP_PASS on the receiver makes
# veth copy every packet into page pool pages.
#
# usage: cap_share.sh      (run as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

NET=10.95.0
QUEUES=4
CAP=256			# 64 a queue: the least the provider takes
SECS=${HP_TRAFFIC_SECS:-10}
PORT0=5301

# steer: stream q (port PORT0+q) leaves va on tx queue q, so vb gets it on
# rx queue q
steer() {
	local q
	tc -n "$HP_NSA" qdisc add dev va clsact || return 1
	for ((q = 0; q < QUEUES; q++)); do
		tc -n "$HP_NSA" filter add dev va egress protocol ip prio 1 flower \
			ip_proto tcp dst_port $((PORT0 + q)) \
			action skbedit queue_mapping "$q" || return 1
	done
}

# bind JSON-QUEUES CAP: mp-bind of a cap binding; prints the reply
bind() {
	hp_ynl "$HP_NSB" --do mp-bind --json "{\"ifindex\": $IFINDEX, \"type\": \"cap\",
		\"queues\": $1, \"cap\": {\"cap\": $2}}" 2>&1
}

queues_json() {
	local q out=
	for ((q = 0; q < QUEUES; q++)); do
		out+="${out:+, }{\"id\": $q, \"type\": \"rx\"}"
	done
	echo "[$out]"
}

# rx_packets Q: packets vb's rx queue Q received (ethtool -S of veth)
rx_packets() {
	ip netns exec "$HP_NSB" ethtool -S vb |
		awk -v k="rx_queue_$1_xdp_packets:" '$1 == k { print $2 }'
}

# streams: one iperf3 a queue for SECS seconds, 2-second intervals, JSON
streams() {
	local q pids=()
	for ((q = 0; q < QUEUES; q++)); do
		ip netns exec "$HP_NSB" iperf3 -s -1 -p $((PORT0 + q)) -B "$NET.2" \
			--logfile "$HP_TMP/s$q.log" -D || return 1
	done
	hp_wait 20 all_listening || { hp_log "iperf3 servers not listening"; return 1; }
	for ((q = 0; q < QUEUES; q++)); do
		ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -p $((PORT0 + q)) -t "$SECS" \
			-i 2 -J --connect-timeout 5000 > "$HP_TMP/c$q.json" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

all_listening() {
	local q
	for ((q = 0; q < QUEUES; q++)); do
		ip netns exec "$HP_NSB" ss -Htln "sport = :$((PORT0 + q))" | grep -q . || return 1
	done
}

# intervals Q: the bytes of each 2-second interval of stream Q, one a line
intervals() {
	/usr/bin/python3 -c 'import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("unreadable:", e, file=sys.stderr); sys.exit(1)
for i in r.get("intervals", []):
    print(int(i["sum"]["bytes"]))' "$HP_TMP/c$1.json"
}

# summary Q: how stream Q ended, as iperf3 says
summary() {
	/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
s = r.get("end", {}).get("sum_sent", {})
print("error:", r.get("error", "none"), "seconds:", s.get("seconds"),
      "bytes:", s.get("bytes"))' "$HP_TMP/c$1.json" 2>&1 | head -n 3
}

# every stream, and every queue, had at least half its fair share: of the
# bytes iperf3 sent (its intervals summed: a stream that ends in an error
# reports no total) and of the packets XDP saw on the queue. Starved
# queues (one pool holding the whole cap) got nothing. Every 2-second
# interval is logged, not judged: under TCG iperf3 reports 2 or 3 of the
# 5 intervals of 10 s, and a retransmit timeout after a drop at the cap
# can outlast one.
progress() {
	local q tb=0 tp=0 bad=0
	local -a b p
	for ((q = 0; q < QUEUES; q++)); do
		b[q]=$(intervals "$q" | awk '{ s += $1 } END { print s + 0 }')
		p[q]=$(rx_packets "$q")
		tb=$((tb + b[q])) tp=$((tp + ${p[q]:-0}))
	done
	for ((q = 0; q < QUEUES; q++)); do
		hp_log "stream $q (queue $q): ${b[q]} bytes, ${p[q]:-?} packets through XDP;" \
			"intervals $(intervals "$q" | tr '\n' ' '); $(summary "$q")"
		((b[q] > 0 && 2 * QUEUES * b[q] >= tb && 2 * QUEUES * ${p[q]:-0} >= tp)) || bad=1
	done
	hp_log "in all: $tb bytes, $tp packets; half a fair share: $((tb / (2 * QUEUES))) bytes," \
		"$((tp / (2 * QUEUES))) packets"
	return $bad
}

main() {
	local out id q peak
	hp_require_root
	command -v tc > /dev/null || hp_skip_all "no tc"
	hp_plan 8
	hp_veth_pair "$NET" "$QUEUES" xdp || hp_fail_all "veth pair"
	# A socket may hold no more than a queue's share (64 pages, 256 KiB of
	# truesize): else its out-of-order segments can hold every page of
	# the share while the retransmit that would release them finds none,
	# and the stream stops for good (seen: one of four streams, 0 bytes
	# for 8 of 10 s, with tcp_rmem's default 6 MiB)
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 131072 131072"
	IFINDEX=$(hp_ifindex "$HP_NSB" vb)
	hp_check "streams steered one a queue (tc flower, skbedit)" steer ||
		hp_fail_all "no steering"

	out=$(bind "$(queues_json)" $((64 * QUEUES - 1)))
	hp_log "cap $((64 * QUEUES - 1)) over $QUEUES queues: $out"
	hp_check "a cap below 64 pages a queue is refused, saying the minimum" \
		grep -q "at least $((64 * QUEUES))" <<< "$out"

	out=$(bind "$(queues_json)" "$CAP")
	id=$(grep '^{' <<< "$out" | tail -n 1 |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
	hp_log "bound: $out"
	[[ -n $id ]] || hp_fail_all "mp-bind of cap $CAP over $QUEUES queues failed"
	# the pools take the binding at their next creation: XDP again
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp

	hp_check "four streams ran" streams
	hp_check "every stream and every queue had half its fair share or more" progress
	peak=$(hp_binding_values "$HP_CAP_DEBUGFS/bindings" vb pages-peak)
	hp_expect "the cap held: pages-peak <= cap" "${peak:-x}" -le "$CAP"
	# the streams ran at the cap: every pool at its share. (cap-hits, a
	# refill that got nothing, stays 0 once no socket can hold a share.)
	hp_expect "the cap was reached: pages-peak = cap" "${peak:-x}" -eq "$CAP"

	hp_ynl "$HP_NSB" --do mp-unbind --json "{\"id\": $id}" > /dev/null
	hp_veth_del
	hp_check "every capped page released after teardown" hp_wait 60 \
		grep -q '^total pages-held=0$' "$HP_CAP_DEBUGFS/bindings" ||
		hp_dump "$HP_CAP_DEBUGFS/bindings"
	hp_expect "no cap binding left" \
		"$(grep -c '^id=' "$HP_CAP_DEBUGFS/bindings")" -eq 0
	hp_done
}

main "$@"
