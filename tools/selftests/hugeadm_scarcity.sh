#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Huge page scarcity made with the operator's tool: hugeadm (libhugetlbfs)
# takes every 2 MiB block the kernel can still make into the hugetlb pool,
# so that a hugepage binding that needs to grow finds none. With traffic
# flowing, its grow failures and fallbacks count up; the hugetlb pool
# released, the same traffic makes it grow again.
#
# Taking only the free 2 MiB blocks is not scarcity: the provider grows with
# __GFP_NORETRY, which still compacts, and the kernel compacts and reclaims
# a block of its own out of memory that processes and the page cache use.
# Asking hugeadm for every block of memory is no better: it gets nearly
# all of them (the kernel migrates what is movable out of the way) and
# nothing is left for processes (a 2 GiB guest ran out of memory). So
# first the free memory is fragmented (fragment.py): every free 2 MiB block
# but LEAVE keeps one mlocked page and is otherwise free, in pieces that
# cannot merge; with vm.compact_unevictable_allowed=0 compaction cannot
# move those pages, so no block can be made of these. Then hugeadm asks
# for as many 2 MiB pages as memory has: it gets the LEAVE free blocks and
# whatever compaction can still make, and fails for the rest, as the
# provider does after it. Most of memory is still free for processes.
# The fragmenter keeps its pages until the end: what the binding grows
# into after the release is what hugeadm gave back.
#
# The binding: veth rx queues 0-3 of the receiver, 1 block, max 16; the
# receiver stops reading for a while so that its sockets hold more pages
# than one block has. Before the second round the receiver's page pools
# are made anew, so that both rounds draw on the binding from empty pools.
# /proc/buddyinfo and hugeadm --pool-list are printed before and after.
# hugeadm's warnings are printed as "hugeadm: warning:" (the console's log
# scan takes "WARNING:" for the kernel's). At the end the hugetlb pool is
# empty and its bounds are as they were, the fragmenter is gone and every
# sysctl (and the transparent huge page mode, which fragment.py needs
# "always") is restored.
#
# usage: hugeadm_scarcity.sh      (root, hugepool kernel, hugeadm)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HP=$HP_BUILD/tools/hugepool
FRAG=$(dirname "$0")/fragment.py
SECS=${HP_TRAFFIC_SECS:-12}
STOP=${HP_STOP_SECS:-6}
NET=10.95.0
# free 2 MiB blocks the fragmenter leaves to hugeadm: more than the
# binding can grow by (max 16), so that the release is seen
LEAVE=32
THP=/sys/kernel/mm/transparent_hugepage/enabled
HUGETLB=/proc/sys/vm/nr_hugepages
OVERCOMMIT=/proc/sys/vm/nr_overcommit_hugepages

hpool() { ip netns exec "$HP_NSB" "$HP" "$@"; }

# counter KEY: a counter of the binding (mp-binding-get)
counter() {
	hpool show vb | awk -v id="$ID:" -v key="$1" '
		$1 == "binding" { cur = ($2 == id) }
		cur && $1 == key { print $2; exit }'
}

# free 2 MiB blocks in the buddy allocator: order 9 and up, all zones
free_2m() {
	awk '{ for (o = 9; o + 5 <= NF; o++) n += $(o + 5) * 2 ^ (o - 9) } END { print n + 0 }' /proc/buddyinfo
}

free_mib() { awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo; }

# hugeadm ARGS...: hugeadm, its output as diagnostics; its advice to add
# swap dropped, its warnings not spelled as the kernel's
hugeadm_do() {
	hp_log "hugeadm $*"
	hugeadm "$@" 2>&1 | grep -v 'no swap space\|add-temp-swap' |
		sed 's/^hugeadm:WARNING:/hugeadm: warning:/' | hp_dump -
}

pools() {
	hp_log "$1 (at ${SECONDS}s): MemFree $(free_mib) MiB, $(free_2m) free 2 MiB blocks, hugetlb pool $(cat $HUGETLB); /proc/buddyinfo (orders 0-10), hugeadm --pool-list:"
	hp_dump /proc/buddyinfo
	hugeadm --pool-list 2>&1 | hp_dump -
}

listening() { ip netns exec "$HP_NSB" ss -Hltn | grep -q ':5201 '; }

# process $1 ended (a zombie not yet waited for counts)
gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[[ -z $st || $st == Z* ]]
}

# bytes vb received so far
rx_bytes() { ip netns exec "$HP_NSB" cat /sys/class/net/vb/statistics/rx_bytes; }

# What iperf3's JSON says the server received, or why it does not say
iperf_received() {
	/usr/bin/python3 - "$HP_TMP/iperf.json" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        r = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(print(f'no JSON: {e}'))
try:
    print(f"{r['end']['sum_received']['bytes'] // 1024} KiB received")
except (KeyError, TypeError):
    print(f"no figure: {r.get('error', 'no end of test')}")
PY
}

# A TCP flood of $SECS s whose receiver stops reading for $STOP s. It
# flowed if vb received over 1 MiB (its interface counter: iperf3's own
# figure needs the end of test exchange, which a slow guest may miss).
traffic() {
	local server client rx0 rx
	rx0=$(rx_bytes)
	ip netns exec "$HP_NSB" iperf3 -s -1 -B $NET.2 > /dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_wait 20 listening || hp_log "iperf3 server not listening"
	ip netns exec "$HP_NSA" iperf3 -c $NET.2 -t "$SECS" -P 4 -J > "$HP_TMP/iperf.json" 2>&1 &
	client=$!
	hp_cleanup_add client "kill -9 $client"
	sleep 2
	kill -STOP $server
	sleep "$STOP"
	kill -CONT $server
	wait $client
	# a client that never connected leaves the server waiting
	hp_wait 10 gone $server || kill -9 $server
	wait $server
	hp_cleanup_drop server
	hp_cleanup_drop client
	rx=$(($(rx_bytes) - rx0))
	hp_log "vb received $((rx / 1024)) KiB; iperf3 (${SECS}s): $(iperf_received)"
	[[ $rx -gt $((1 << 20)) ]]
}

# The receiver's page pools made anew (XDP detached and attached again):
# the pages they cached in the last round (fallback pages among them, which
# page_pool recycles without the provider) are gone, so that the next
# round draws on the binding as the first did, from empty pools.
fresh_pools() {
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	hp_flush_defer_lists
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	hp_log "$1 (at ${SECONDS}s): the receiver's page pools made anew (XDP detached, attached)"
}

# STEP: counters before and after a round of traffic; sets GROWN (blocks
# the binding took, those it gave back meanwhile included), FAILED, FELL
round() {
	local b0 r0 g0 f0 b1
	b0=$(counter blocks) r0=$(counter blocks-returned)
	g0=$(counter grow-failures) f0=$(counter fallbacks)
	hp_check "$1: traffic flows" traffic
	b1=$(counter blocks)
	GROWN=$((b1 - b0 + $(counter blocks-returned) - r0))
	FAILED=$(($(counter grow-failures) - g0)) FELL=$(($(counter fallbacks) - f0))
	hp_log "$1 (at ${SECONDS}s): blocks $b0 -> $b1 (grew by $GROWN), grow-failures +$FAILED, fallbacks +$FELL pages"
}

fragment_ready() { grep -qx ready "$HP_TMP/fragment.out"; }

# Fragment free memory, leaving $LEAVE free 2 MiB blocks; the fragmenter
# holds its pages until killed (FRAG_PID)
fragment() {
	local i
	[[ $(cat $THP) == *"[always]"* ]] || {
		hp_cleanup_add thp "echo $(sed 's/.*\[\(.*\)\].*/\1/' $THP) > $THP"
		echo always > $THP
	}
	"$FRAG" --leave "$LEAVE" > "$HP_TMP/fragment.out" 2>&1 &
	FRAG_PID=$!
	hp_cleanup_add fragment "kill $FRAG_PID; wait $FRAG_PID"
	for ((i = 0; i < 300; i++)); do
		fragment_ready && break
		kill -0 $FRAG_PID 2>/dev/null || break
		sleep 1
	done
	hp_dump "$HP_TMP/fragment.out"
	fragment_ready
}

# Every 2 MiB page the kernel can still make, as many as memory has.
# hugeadm raises the pool's maximum with its minimum (the kernel's
# nr_overcommit_hugepages: maximum - minimum), and keeps it raised when
# the kernel gives it fewer: release() puts it back.
scarce() {
	hp_cleanup_add hugetlb "echo 0 > $HUGETLB; echo $OC0 > $OVERCOMMIT"
	hugeadm_do --pool-pages-min "2MB:$(awk '$1 == "MemTotal:" { print int($2 / 2048) }' /proc/meminfo)"
}

release() {
	hugeadm_do --pool-pages-min 2MB:0
	hugeadm_do --pool-pages-max "2MB:$OC0"
	hp_cleanup_drop hugetlb
}

# no hugetlb page left, the pool's bounds as they were
pool_as_before() {
	local total
	total=$(awk '$1 == "HugePages_Total:" { print $2 }' /proc/meminfo)
	hp_log "HugePages_Total $total, nr_hugepages $(cat $HUGETLB), nr_overcommit_hugepages $(cat $OVERCOMMIT) (was $OC0)"
	[[ $total == 0 && $(cat $HUGETLB) == 0 && $(cat $OVERCOMMIT) == "$OC0" ]]
}

main() {
	local n fell
	hp_require_root
	command -v hugeadm > /dev/null || hp_skip_all "no hugeadm (libhugetlbfs-bin)"
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	[[ -w $THP && -e /sys/kernel/debug/split_huge_pages ]] ||
		hp_skip_all "no transparent huge pages, or no debugfs split_huge_pages"
	[[ $(cat $HUGETLB) == 0 ]] || hp_skip_all "the hugetlb pool is in use ($(cat $HUGETLB) pages)"
	OC0=$(cat $OVERCOMMIT)
	hp_plan 12
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair $NET 4 || hp_fail_all "no veth pair"
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
	ID=$(hpool bind vb 0-3 huge blocks 1 max 16 2>/dev/null) || hp_fail_all "bind refused"
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp ||
		hp_fail_all "no XDP on vb"
	hp_log "hugepage binding $ID on vb rx queues 0-3, blocks 1 max 16"
	pools "before"

	hp_sysctl_default vm.compact_unevictable_allowed=0
	hp_check "fragmented: every free 2 MiB block but $LEAVE keeps one mlocked page" fragment ||
		hp_fail_all "could not fragment memory"
	scarce
	pools "scarce"
	hp_expect "scarce: no free 2 MiB block left" "$(free_2m)" -le 1
	hp_expect "scarce: the hugetlb pool took the blocks left free" "$(cat $HUGETLB)" -ge 16
	hp_expect "scarce: memory is still free for processes (MiB)" "$(free_mib)" -ge 512
	round "scarce"
	hp_expect "scarce: grow failures counted" "$FAILED" -gt 0
	hp_expect "scarce: the page allocator served the pools (fallback pages)" "$FELL" -gt 0
	fell=$FELL

	n=$(cat $HUGETLB)
	release
	pools "released ($n 2 MiB pages)"
	hp_expect "released: free 2 MiB blocks back" "$(free_2m)" -ge 16
	fresh_pools "released"
	round "released"
	hp_expect "released: the binding grew again (blocks)" "$GROWN" -gt 0
	hp_expect "released: fewer fallback pages than when scarce" "$FELL" -lt "$fell"
	hpool show vb | hp_dump -
	hp_veth_del
	kill "$FRAG_PID"
	wait "$FRAG_PID"
	hp_cleanup_drop fragment
	hp_check "end: no hugetlb page left, the pool's maximum as it was" pool_as_before
	hp_log "$HP_NAME: done at ${SECONDS}s"
	hp_done
}

main "$@"
