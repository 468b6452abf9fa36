#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every allocation site of the providers and policies, failed on demand
# while traffic runs through a veth pair with XDP (veth copies TCP into
# page pool pages):
#  - fail_function on each function marked ALLOW_ERROR_INJECTION: the
#    binding's id, counters and store, the policies' stores, huge page
#    allocation and indexing, the order-0 fallback, a pool's init;
#  - each slab and page allocation of an mp-bind request in turn
#    (fail-nth, alloc_nth.py), for both providers;
#  - fail_page_alloc on refills under traffic (softirq).
# Each must end in a clean error (the request refused with an errno, or
# an XDP attach refused) or in counted fallback, leave no binding and no
# huge page behind, and leak nothing (kmemleak). The harness scans the
# log for splats.
#
# usage: fault_sweep.sh            (as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

FF=/sys/kernel/debug/fail_function
FS=/sys/kernel/debug/failslab
FPA=/sys/kernel/debug/fail_page_alloc
HUGEPOOL=$HP_BUILD/tools/hugepool

hp() { ip netns exec "$HP_NSB" "$HUGEPOOL" "$@"; }

# inject FUNC ERRNO|0: make FUNC fail every time until uninject
inject() {
	echo "$1" > $FF/inject || return 1
	if [[ $2 == 0 ]]; then
		echo 0 > "$FF/$1/retval"
	else
		printf '%#x\n' "$((-$2))" > "$FF/$1/retval"
	fi
	echo 100 > $FF/probability
	echo -1 > $FF/times
	echo 0 > $FF/verbose
	hp_cleanup_add inject "echo > $FF/inject"
}

uninject() {
	echo > $FF/inject
	hp_cleanup_drop inject
}

# the bindings of vb as the tool lists them over netlink; "unknown" (and
# a failure) when the tool fails, so that no comparison of counts passes
bindings_of_vb() {
	local out
	out=$(hp show vb 2>&1) || { echo unknown; return 1; }
	grep -c '^binding ' <<< "$out" || true
}

# no_binding_on_vb: the device still exists, and neither netlink nor
# either provider's debugfs lists a binding of it. Deleting the device
# unbinds whatever is left, so this is asked before.
no_binding_on_vb() {
	local n debugfs
	n=$(bindings_of_vb)
	debugfs=$(cat "$HP_DEBUGFS/bindings" "$HP_CAP_DEBUGFS/bindings" | grep -c ' dev=vb ')
	hp_log "bindings of vb: $n listed by hugepool show, $debugfs in debugfs"
	[[ $n == 0 && $debugfs == 0 ]] && return 0
	hp show vb 2>&1 | hp_dump -
	grep ' dev=vb ' "$HP_DEBUGFS/bindings" "$HP_CAP_DEBUGFS/bindings" | hp_dump -
	return 1
}

# the ids of both providers' bindings, draining ones included
binding_ids() {
	cat "$HP_DEBUGFS/bindings" "$HP_CAP_DEBUGFS/bindings" | sed -n 's/^id=\([0-9]*\) .*/\1/p' |
		sort -n | tr '\n' ' '
}

# no_new_binding: no binding but those there were before the test (which
# a test killed at its time limit may have left)
no_new_binding() {
	local id
	for id in $(binding_ids); do
		[[ " $BEFORE_IDS " == *" $id "* ]] || return 1
	done
}

# blocks_at_most N: the hugepage provider holds N huge pages or fewer
blocks_at_most() { (($(hp_total_blocks) <= $1)); }

# the iperf3 server of traffic() listens on port 5201 (0x1451)
listening() {
	ip netns exec "$HP_NSB" grep -qs ':1451 0\+:0000 0A' /proc/net/tcp /proc/net/tcp6
}

# XDP off on the receiver: its pools go; pages an skb holds on an idle
# CPU's defer list come home once that CPU receives
xdp_off() {
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	hp_flush_defer_lists
}

xdp_on() { ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp; }

# counter NAME: a counter summed over the bindings of vb
counter() { hp_binding_sum vb "$1"; }

traffic() {
	ip netns exec "$HP_NSB" iperf3 -s -1 -D -B 10.94.0.2
	hp_until $((SECONDS + 10)) listening || hp_log "the iperf3 server does not listen"
	ip netns exec "$HP_NSA" iperf3 -c 10.94.0.2 -t "$1" -P 4 > /dev/null 2>&1
}

# refused SITE ERRNO TEXT COMMAND...: with SITE failing, the command fails
# with TEXT and leaves no binding; then it works again
refused() {
	local site=$1 err=$2 text=$3 out rc=0 n0 n1
	shift 3
	n0=$(bindings_of_vb)
	inject "$site" "$err" || { hp_not_ok "$site: injected"; return; }
	out=$("$@" 2>&1) || rc=$?
	uninject
	n1=$(bindings_of_vb)
	hp_log "$site: $out (bindings of vb: $n0 before, $n1 after)"
	if [[ $rc != 0 && $out == *"$text"* && $n1 =~ ^[0-9]+$ && $n1 == "$n0" ]]; then
		hp_ok "$site fails: refused cleanly ($text), nothing bound"
	else
		hp_not_ok "$site fails: refused cleanly ($text), nothing bound (rc $rc)"
	fi
}

sweep_functions() {
	local out id g0 f0
	refused mp_binding_alloc_id 12 "Cannot allocate memory" \
		hp bind vb 0 huge blocks 1
	refused mp_huge_alloc_stats 0 "Cannot allocate memory" \
		hp bind vb 0 huge blocks 1
	refused pp_netmem_stack_init 12 "Cannot allocate memory" \
		hp bind vb 0 huge blocks 1 policy lifo
	refused pp_percpu_create 0 "Cannot allocate memory" \
		hp bind vb 0 huge blocks 1 policy percpu
	refused mp_huge_alloc_block 0 "cannot reserve the huge pages" \
		hp bind vb 0 huge blocks 2
	refused mp_huge_block_index 12 "cannot reserve the huge pages" \
		hp bind vb 0 huge blocks 2

	# pool init failing: the XDP attach that makes the pools is refused
	id=$(hp bind vb 0 huge blocks 1 2>/dev/null) || hp_fail_all "bind"
	xdp_off
	inject mp_huge_pool_init 12
	out=$(xdp_on 2>&1)
	local rc=$?
	uninject
	hp_log "mp_huge_pool_init: $out"
	hp_check "mp_huge_pool_init fails: the XDP attach is refused" test "$rc" != 0
	hp_check "XDP attaches once it does not" xdp_on
	hp unbind "$id"

	# huge pages cannot be had: the binding serves fallback pages, counted
	id=$(hp bind vb 0-3 huge blocks 0 max 2 2>/dev/null) || hp_fail_all "bind"
	xdp_off
	xdp_on
	inject mp_huge_alloc_block 0
	g0=$(counter grow-failures) f0=$(counter fallbacks)
	traffic 4
	hp_expect "mp_huge_alloc_block fails under traffic: grow failures counted" \
		"$(counter grow-failures)" -gt "$g0"
	hp_expect "... and refills served from the page allocator, counted" \
		"$(counter fallbacks)" -gt "$f0"
	# nor order-0 pages: refills come back empty, the driver drops
	inject mp_huge_fallback 0
	traffic 3
	uninject
	hp_check "mp_huge_fallback fails under traffic: traffic recovers after" traffic 3
	xdp_off
	hp unbind "$id"

	# the memory-cap provider's pool init
	id=$(hp bind vb 1 cap 256 2>/dev/null) || hp_fail_all "bind cap"
	inject mp_cap_pool_init 12
	out=$(xdp_on 2>&1)
	rc=$?
	uninject
	hp_check "mp_cap_pool_init fails: the XDP attach is refused" test "$rc" != 0
	hp unbind "$id"
}

# Each allocation of one bind request failed in turn (fail-nth, set by
# alloc_nth.py right before it sends the request): whatever fails, the
# request is refused with ENOMEM or succeeds, and nothing is left bound.
sweep_allocations() {
	local what=$1 spec=$2 out sites refused bad
	hp_cleanup_add nth "echo Y > $FS/ignore-gfp-wait; echo Y > $FPA/ignore-gfp-wait"
	echo N > $FS/ignore-gfp-wait
	echo N > $FPA/ignore-gfp-wait
	out=$(ip netns exec "$HP_NSB" /usr/bin/python3 "$HP_TOP/tools/selftests/alloc_nth.py" \
		"$(hp_ifindex "$HP_NSB" vb)" 0 "$spec" 2>&1)
	echo Y > $FS/ignore-gfp-wait
	echo Y > $FPA/ignore-gfp-wait
	hp_cleanup_drop nth
	grep '^#' <<< "$out" | tail -n 8 | hp_dump -
	read -r sites refused bad <<< "$(tail -n 1 <<< "$out")"
	if ! [[ "$sites $refused $bad" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; then
		# it did not finish: say how it ended
		tail -n 5 <<< "$out" | hp_dump -
		sites=0 refused=0 bad=1
	fi
	hp_log "$what: $sites allocation sites, each failed once: $refused refused"
	hp_expect "$what: each allocation of mp-bind failed: clean refusals, nothing left" \
		"${bad:-1}" -eq 0
	hp_expect "$what: the failures reached the request's path" "${refused:-0}" -gt 0
}

# Page allocation failing under traffic, in softirq: refills fall short.
sweep_refills() {
	local id
	id=$(hp bind vb 0-3 huge blocks 1 max 2 2>/dev/null) || hp_fail_all "bind"
	xdp_off
	xdp_on
	hp_cleanup_add fpa "echo 0 > $FPA/probability"
	echo 0 > $FPA/task-filter
	echo 1 > $FPA/interval
	echo 0 > $FPA/min-order
	# only allocations that cannot sleep, as refills in softirq: the
	# task filter cannot single out softirq, and a 10% failure of every
	# allocation would fail the shell's own forks
	echo Y > $FPA/ignore-gfp-wait
	echo 0 > $FPA/verbose
	echo -1 > $FPA/times
	echo 10 > $FPA/probability
	traffic 4
	echo 0 > $FPA/probability
	hp_cleanup_drop fpa
	hp_check "page allocation failing 10% under traffic: traffic flows after" traffic 3
	xdp_off
	hp unbind "$id"
}

# timed STEP...: run it, and say how long it took
timed() {
	local start=$SECONDS
	"$@"
	hp_log "$1: $((SECONDS - start)) s"
}

main() {
	hp_require_root
	[[ -d $FF && -d $FS && -d $FPA ]] ||
		hp_fail_all "fail_function, failslab or fail_page_alloc missing from debugfs"
	[[ -x $HUGEPOOL ]] || hp_fail_all "no $HUGEPOOL: run scripts/build-tools.sh"
	hp_plan 21
	hp_kmemleak_clear
	hp_sysctl_default net.core.mp_default=none
	BEFORE_IDS=$(binding_ids) HELD=$(hp_total_blocks)
	[[ -z $BEFORE_IDS && $HELD == 0 ]] ||
		hp_log "left by the tests before: bindings ${BEFORE_IDS:-none}, $HELD huge pages"
	hp_veth_pair 10.94.0 4 xdp || hp_fail_all "no veth pair"
	timed sweep_functions
	timed sweep_allocations "hugepage, percpu" '{"type": "huge", "blocks": 1, "policy": "percpu"}'
	timed sweep_allocations "memory cap" '{"type": "cap", "cap": 256}'
	timed sweep_refills
	hp_check "no binding left on vb by the sweeps, with vb still there" no_binding_on_vb
	hp_veth_del
	hp_check "no binding left once vb is gone, draining ones included" \
		hp_until $((SECONDS + 60)) no_new_binding
	hp_check "every huge page back" hp_until $((SECONDS + 60)) blocks_at_most "$HELD"
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
