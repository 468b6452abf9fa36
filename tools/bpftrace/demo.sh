#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tracing tools at work, for a newcomer (make trace boots the guest and
# runs this): a veth pair with native XDP on the receiver, rx queues 0-1
# bound to a hugepage binding and queues 2-3 left on the page allocator,
# iperf3 with the receiver stopped for a while; the bpftrace tools, perf
# stat and perf record (the refill stacks, folded) run meanwhile and their
# output is printed. Then refill-cost.bt under steady traffic, and a
# memory-cap binding under cap.bt. (Huge page scarcity made with hugeadm
# is a phase of make run: tools/demo.sh, tools/selftests/hugeadm_scarcity.sh.)
#
# usage: tools/bpftrace/demo.sh [-p PHASE,...] [REPORT]
#   PHASE: hugepage, steady (refill-cost.bt under steady traffic), cap
#          (default: all, in that order)
#   REPORT: where the output goes instead of stdout
# (root, hugepool kernel, build/tools/hugepool)
set -uo pipefail
HP_TOP=${HP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HP_TOP/tools/selftests/lib.sh"

HP=$HP_BUILD/tools/hugepool
BT=$HP_TOP/tools/bpftrace
NET=10.93.0
SECS=12
STOP=5
declare -A PID=()

say() { printf '\n=== %s\n' "$*"; }

hpool() { ip netns exec "$HP_NSB" "$HP" "$@"; }

start() {
	local name=$1
	shift
	bpftrace "$BT/$name.bt" "$@" > "$HP_TMP/$name.out" 2>&1 &
	PID[$name]=$!
	hp_cleanup_add "bt $name" "kill -9 $!"
}

ready() {
	local t
	for t in "$@"; do
		grep -q "Hit Ctrl-C" "$HP_TMP/$t.out" || return 1
	done
}

# stop NAME...: Ctrl-C to the tools, again to one that missed it
# (hp_interrupted), then their output; one still running after two
# minutes is killed
stop() {
	local t end=$((SECONDS + 120))
	for t in "$@"; do
		kill -INT "${PID[$t]}"
	done
	for t in "$@"; do
		hp_interrupted "${PID[$t]}" "$end" || kill -9 "${PID[$t]}"
		wait "${PID[$t]}"
		hp_cleanup_drop "bt $t"
		say "$t.bt"
		grep -v '^$' "$HP_TMP/$t.out"
	done
}

listening() { ip netns exec "$HP_NSB" ss -Hltn | grep -q ':5201 '; }

# process $1 ended (a zombie not yet waited for counts)
gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[[ -z $st || $st == Z* ]]
}

traffic() {
	local server client
	ip netns exec "$HP_NSB" iperf3 -s -1 -B $NET.2 > /dev/null 2>&1 &
	server=$!
	hp_wait 20 listening
	ip netns exec "$HP_NSA" iperf3 -c $NET.2 -t "$SECS" -P 8 > "$HP_TMP/iperf.out" 2>&1 &
	client=$!
	if ((STOP)); then
		sleep 2
		kill -STOP $server
		sleep "$STOP"
		kill -CONT $server
	fi
	wait $client
	grep 'SUM.*receiver' "$HP_TMP/iperf.out"
	hp_wait 10 gone $server || kill -9 $server
	wait $server
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
}

xdp() {
	if [[ $1 == on ]]; then
		ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	else
		ip -n "$HP_NSB" link set dev vb xdpdrv off
		hp_flush_defer_lists
	fi
}

hugepage() {
	local id tools=(refill-latency release blocks refill-cost)
	id=$(hpool bind vb 0-1 huge blocks 1 max 8 2>/dev/null) || return 1
	xdp on
	for t in "${tools[@]}"; do
		start "$t"
	done
	say "waiting for bpftrace to attach (15-30 s a tool under TCG)"
	hp_wait 400 ready "${tools[@]}" || return 1
	# the perf recipes' window is their workload, a sleep, which perf
	# starts once its events are enabled: traffic waits for both, and
	# their sleeps end with it
	"$HP_TOP/tools/perf/stat.sh" 600 > "$HP_TMP/stat.out" 2>&1 &
	local stat=$! record p s
	"$HP_TOP/tools/perf/record.sh" -o "$HP_TMP/record" -t 600 events \
		> "$HP_TMP/record.out" 2>&1 &
	record=$!
	for p in $stat $record; do
		hp_wait 120 hp_sleeper "$p" > /dev/null || echo "demo.sh: perf did not start"
	done
	say "iperf3 -P 8 for ${SECS}s, receiver stopped ${STOP}s; perf stat and perf record meanwhile"
	traffic
	for p in $stat $record; do
		s=$(hp_sleeper "$p") && kill "$s"
		wait "$p"
	done
	say "perf stat -a -e 'mp_huge:*,mp_cap:*,page_pool:*' (tools/perf/stat.sh)"
	# (the workload's "Terminated" is the window closing, not an error)
	grep -v -e '^$' -e 'Terminated$' "$HP_TMP/stat.out"
	say "perf record -g -e mp_huge:mp_huge_refill (tools/perf/record.sh events): the refill stacks, folded, heaviest first (the first 10)"
	grep -v 'Terminated$' "$HP_TMP/record.out" | head -n 11
	xdp off
	hpool set "$id" trim > /dev/null
	sleep 1
	stop "${tools[@]}"
	say "hugepool show vb"
	hpool show vb
	hpool unbind "$id" > /dev/null
}

# refill-cost.bt under steady traffic (the receiver never stops): how
# often each side is asked at all once the pools recycle by themselves
steady() {
	local id
	id=$(hpool bind vb 0-1 huge blocks 4 max 8 policy lifo 2>/dev/null) || return 1
	xdp on
	start refill-cost
	hp_wait 400 ready refill-cost || return 1
	say "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -r):" \
		"binding $id (lifo, 4 huge pages) on vb rx queues 0-1, iperf3 -P 8 for 15 s"
	SECS=15 STOP=0 traffic
	stop refill-cost
	xdp off
	hpool unbind "$id" > /dev/null
}

cap() {
	local id
	id=$(hpool bind vb 0-3 cap 512 2>/dev/null) || return 1
	xdp on
	start cap
	hp_wait 400 ready cap || return 1
	say "cap 512: iperf3 -P 8 for ${SECS}s, receiver stopped ${STOP}s"
	traffic
	say "new pools, a few pings (resumed), pools gone (pages cached), cap 64, drop_caches=2"
	xdp off
	xdp on
	ip netns exec "$HP_NSA" ping -q -c 50 -i 0.02 $NET.2 > /dev/null
	xdp off
	hpool set "$id" cap 64 > /dev/null
	echo 2 > /proc/sys/vm/drop_caches
	sleep 1
	stop cap
	hpool unbind "$id" > /dev/null
}

main() {
	local limit phases="hugepage steady cap" p
	if [[ ${1:-} == -p ]]; then
		phases=${2//,/ }
		shift 2
	fi
	[[ -z ${1:-} ]] || exec > "$1" 2>&1
	[[ $(id -u) == 0 && -x $HP ]] || { echo "demo.sh: run as root, with $HP built"; exit 1; }
	limit=$(sysctl -n net.core.mp_huge_limit_mb)
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair $NET 4 || exit 1
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
	say "veth va (netns $HP_NSA) -> vb (netns $HP_NSB), 4 queues, XDP_PASS on vb"
	for p in $phases; do
		case $p in
		hugepage)
			hp_sysctl_default net.core.mp_huge_limit_mb=4
			hugepage || { echo "demo.sh: the hugepage part failed"; exit 1; }
			hp_sysctl_default net.core.mp_huge_limit_mb="$limit" ;;
		steady) steady || { echo "demo.sh: the steady part failed"; exit 1; } ;;
		cap) cap || { echo "demo.sh: the memory-cap part failed"; exit 1; } ;;
		*) echo "demo.sh: no phase $p"; exit 2 ;;
		esac
	done
	hp_veth_del
	hp_cleanup
}

main "$@"
