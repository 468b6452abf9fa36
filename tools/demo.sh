#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What make run shows, in the guest: the providers on real rx queues with
# real traffic. A veth pair across two network namespaces, four queues
# each, a native XDP program on the receiver (vb) so veth copies TCP
# traffic into page pool pages. The short tour (make run) is phases 1 and
# 4; --long (make run-long) all four. Each phase prints its time.
#  1. traffic on the page allocator; then tools/hugepool binds vb's rx
#     queues to a hugepage binding (netlink mp-bind; veth has no queue
#     management ops, so the binding is pending until XDP attach makes new
#     pools), traffic again and the binding's counters; unbind, and the
#     queues are back on the page allocator;
#  2. huge page scarcity made with hugeadm (libhugetlbfs): free memory
#     fragmented but for 32 free 2 MiB blocks (tools/selftests/fragment.py),
#     then hugeadm takes every 2 MiB block the kernel can still make into
#     the hugetlb pool; the binding falls back to the page allocator with
#     traffic flowing, then grows again once hugeadm releases them
#     (tools/selftests/hugeadm_scarcity.sh, its results and diagnostics,
#     hugeadm --pool-list and /proc/buddyinfo before and after);
#  3. the namespace's defaults (net.core.mp_default) instead of a bind;
#  4. the memory-cap provider against a flood whose receiver stops
#     reading (tools/selftests/cap_lowmem.sh).
#
# usage: tools/demo.sh [--long] [seconds of traffic]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/selftests/lib.sh"
LONG=0
[[ ${1:-} != --long ]] || { LONG=1; shift; }
SECS=${1:-8}
NET=10.99.0
# the operator's tool (tools/hugepool, built by scripts/build-tools.sh),
# in the receiver's namespace: it names devices there
hp() { ip netns exec "$HP_NSB" "$HP_BUILD/tools/hugepool" "$@"; }

title() { printf '\n=== %s\n' "$*"; }

# phase NAME COMMAND...: a phase of the tour, and the time it took
phase() {
	local t0=$SECONDS rc=0
	printf '\n##### %s\n' "$1"
	"${@:2}" || rc=$?
	printf '##### %s: %d s%s\n' "$1" $((SECONDS - t0)) "$([[ $rc == 0 ]] || echo ", FAILED")"
	return $rc
}

scarcity() {
	title "huge page scarcity: memory fragmented, hugeadm takes every 2 MiB block left, then gives them back"
	"$top/tools/selftests/hugeadm_scarcity.sh" | digest
}

cap() {
	title "memory-cap provider: a TCP flood whose receiver stops reading, without and with a cap of 64 pages per queue"
	"$top/tools/selftests/cap_lowmem.sh" 64 | grep -E '^# (page allocator|memory-cap|footprint|  )|^not ok'
	local rc=${PIPESTATUS[0]}
	cat "$HP_CAP_DEBUGFS/bindings"
	return "$rc"
}

# show a command as an operator would type it, then run it
run() {
	local shown=("$@")
	[[ $1 != hp ]] || shown[0]=hugepool
	echo "# ${shown[*]}"
	"$@"
}

traffic() {
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B $NET.2
	sleep 0.5
	ip netns exec "$HP_NSA" iperf3 -c $NET.2 -t "$SECS" -P 4 | grep -E 'SUM.*(sender|receiver)'
}

# veth makes its page pools when XDP is attached
xdp_again() {
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
}

# vb's bindings hold at least $1 huge pages
reserved() { [[ $(hp_binding_sum vb blocks) -ge $1 ]]; }

# lines of a selftest's output worth showing: its diagnostics and results
digest() { grep -E '^# |^(not )?ok ' | grep -v '^# Totals'; }

per_queue() {
	local id
	title "veth pair in two netns, XDP_PASS on the receiver (vb); no provider"
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair $NET 4 xdp
	run hp queues vb
	title "iperf3 on the page allocator, ${SECS}s, 4 streams"
	traffic

	title "bind vb's rx queues to 4 huge pages (growing to 16), per-CPU policy"
	echo "# hugepool bind vb 0-3 huge blocks 4 max 16 policy percpu"
	id=$(hp bind vb 0-3 huge blocks 4 max 16 policy percpu) || return 1
	echo "$id"
	run hp queues vb
	title "XDP attached again: veth makes new page pools, drawn from binding $id"
	xdp_again
	hp_wait 30 reserved 4
	run hp queues vb
	title "iperf3 on the hugepage provider, ${SECS}s, 4 streams"
	traffic
	run hp pools vb
	run hp show vb

	title "unbind; the next pools are the page allocator's again"
	run hp unbind "$id"
	xdp_again
	run hp queues vb
	traffic
	hp_veth_del
	hp_wait 30 hp_no_blocks
	echo "huge pages held by any binding: $(hp_total_blocks)"
}

defaults() {
	title "defaults instead: net.core.mp_default=huge gives every new rx queue pool of this namespace a binding"
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=4 \
		net.core.mp_huge_max_blocks=16
	sysctl net.core.mp_default net.core.mp_huge_blocks net.core.mp_huge_max_blocks \
		net.core.pp_policy_default net.core.pp_policy_available
	hp_veth_pair $NET 4 xdp
	hp_wait 30 reserved 16
	traffic
	title "bindings (debugfs, read-only)"
	hp_bindings
	title "teardown: delete the namespaces; every huge page goes back"
	hp_veth_del
	hp_sysctl_default net.core.mp_default=none
	hp_wait 30 hp_no_blocks
	hp_bindings
}

main() {
	local mem0 rc=0
	mem0=$(hp_mem_available)
	phase "1. a hugepage binding on veth's rx queues" per_queue || rc=1
	if ((LONG)); then
		phase "2. huge page scarcity (hugeadm)" scarcity || rc=1
		phase "3. the namespace's defaults" defaults || rc=1
	fi
	echo "MemAvailable: $((mem0 / 1024)) MiB before, $(($(hp_mem_available) / 1024)) MiB after"
	phase "4. the memory cap under a stalled receiver" cap || rc=1
	((LONG)) || echo "(make run-long adds huge page scarcity and the namespace's defaults)"
	return $rc
}

main "$@"
