#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Reproducer for a pre-existing 6.12 veth issue (no hugepool code needed;
# it reproduces on the pristine Debian 6.12.117 kernel with the same
# config): a veth pair with four queues and a native XDP program on the
# receiver, an iperf3 flood whose receiver is stopped for 7 s, and the
# namespaces deleted at once, XDP still attached. After a few rounds one
# page of a receiver page pool stays in flight for good, with no socket
# left in either namespace, and page_pool_release_retry() reports
# "stalled pool shutdown: id N, 1 inflight" every minute from then on.
# Detaching XDP and letting TCP settle before deleting the namespaces (as
# the selftests do) avoids it.
#
# Not a leak: after a stall, running NET_RX once on each CPU (a loopback
# ping pinned with taskset to each) brought the page home - no stall
# message in the next 130 s. The page sat in an skb on an idle CPU's skb
# defer list (skb_attempt_defer_free() queues it to the CPU that allocated
# it, which frees it at its next net_rx_action, or when the list is half
# full): with no more traffic on that CPU, it stays there.
#
# usage, in a guest:  tools/repro/veth_xdp_teardown_stall.sh [rounds]
# from the host:      scripts/vm.sh -m 256 -- tools/repro/veth_xdp_teardown_stall.sh
#   (X86_OUT=<another O= dir> scripts/vm.sh ... boots another kernel build)
# exit: 1 when the stall was reported, 0 otherwise
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
XDP=$top/build/tools/xdp_pass.o
rounds=${1:-3}

for ((round = 1; round <= rounds; round++)); do
	ip netns add hpa
	ip netns add hpb
	ip link add name va numtxqueues 4 numrxqueues 4 netns hpa type veth \
		peer name vb numtxqueues 4 numrxqueues 4 netns hpb
	ip -n hpa addr add 10.97.0.1/24 dev va
	ip -n hpb addr add 10.97.0.2/24 dev vb
	ip -n hpa link set va up
	ip -n hpb link set vb up
	ip -n hpb link set dev vb xdpdrv obj "$XDP" sec xdp
	ip netns exec hpb iperf3 -s -1 -B 10.97.0.2 >/dev/null 2>&1 &
	server=$!
	sleep 1
	ip netns exec hpa iperf3 -c 10.97.0.2 -t 14 -P 4 >/dev/null 2>&1 &
	client=$!
	sleep 2
	kill -STOP $server
	sleep 7
	kill -CONT $server
	wait $client
	wait $server
	echo "round $round: sockets left in hpb: $(ip netns exec hpb ss -Htan | grep -vc TIME-WAIT)"
	ip netns del hpa
	ip netns del hpb
	sleep 2
done
echo "waiting 75 s for page_pool_release_retry()"
sleep 75
if dmesg | grep -E "stalled pool shutdown"; then
	exit 1
fi
echo "no stall reported"
