#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Memory fragmented for real, then compacted. fragment.py leaves one
# mlocked page in every free 2 MiB block and frees the rest: most of
# memory is free, but in pieces of order 8 and below, and with
# vm.compact_unevictable_allowed=0 compaction cannot move the mlocked pages
# out of the way, so no 2 MiB block can be made. /proc/buddyinfo shows how
# many order-9 blocks are free at each step. A hugepage binding that needs
# to grow meanwhile counts grow failures (its allocations compact, and
# fail) and falls back to the page allocator. Then the operator compacts:
# vm.compact_unevictable_allowed=1 and `echo 1 >
# /proc/sys/vm/compact_memory`. The fragmenter keeps running and keeps its
# pages (compaction moved them: they are all there, still mlocked, many at
# other page frames); free 2 MiB blocks are back all the same, and the
# binding grows again.
#
# Compaction can still make a few 2 MiB blocks of memory that processes
# and the page cache use, moving it into the free pieces (the mlocked
# pages stay), and a few become free now and then (memory given back).
# Left to the binding, they would let it grow a little while fragmented,
# and maybe need no more after compaction. So the test compacts before it
# fragments, and after, until compaction makes no more, and the
# fragmenter takes those too; until the operator compacts, it takes any
# block that becomes free (--hold), as more of the same pressure. The
# kernel's proactive compaction is off (vm.compaction_proactiveness=0)
# until the end: the compaction seen is the allocations' own (the
# provider's, which fails) and the operator's.
#
# The binding: veth rx queues 0-3 of the receiver, 1 block, max 16; the
# receiver stops reading for a while so that its sockets hold more pages
# than one block has. Before the second round the receiver's page pools
# are made anew, so that both rounds draw on the binding from empty pools.
# The fragmenter is killed at the end, and every sysctl (and the
# transparent huge page mode, which fragment.py needs "always") restored.
#
# usage: frag_compact.sh      (root, hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HP=$HP_BUILD/tools/hugepool
FRAG=$(dirname "$0")/fragment.py
SECS=${HP_TRAFFIC_SECS:-12}
STOP=${HP_STOP_SECS:-6}
NET=10.94.0
THP=/sys/kernel/mm/transparent_hugepage/enabled

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

buddy() {
	hp_log "$1 (at ${SECONDS}s): MemFree $(free_mib) MiB, $(free_2m) free 2 MiB blocks; /proc/buddyinfo (orders 0-10):"
	hp_dump /proc/buddyinfo
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

# Fragment every free 2 MiB block; the fragmenter holds its pages until
# killed (FRAG_PID), and fragments the blocks that become free until
# hold_end
fragment() {
	local i
	[[ $(cat $THP) == *"[always]"* ]] || {
		hp_cleanup_add thp "echo $(sed 's/.*\[\(.*\)\].*/\1/' $THP) > $THP"
		echo always > $THP
	}
	"$FRAG" --hold > "$HP_TMP/fragment.out" 2>&1 &
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

no_free_2m() { [[ $(free_2m) == 0 ]]; }

few_free_2m() { [[ $(free_2m) -le 1 ]]; }

# Compaction can still make a few blocks: of memory that processes and the
# page cache use, now that there are free pieces everywhere to move it to
# (the mlocked pages stay). Compact until it makes none; the fragmenter
# takes what it makes.
mop_up() {
	local i n
	for ((i = 1; i <= 5; i++)); do
		echo 1 > /proc/sys/vm/compact_memory
		n=$(free_2m)
		hp_wait 20 no_free_2m
		hp_log "compaction with the mlocked pages pinned made $n 2 MiB blocks; the fragmenter took them: $(free_2m) free"
		[[ $n -gt 0 ]] || break
	done
}

hold_ended() { grep -q '^stopped holding' "$HP_TMP/fragment.out"; }

hold_end() {
	kill -USR1 "$FRAG_PID"
	hp_wait 30 hold_ended
	grep '^stopped holding' "$HP_TMP/fragment.out" | hp_dump -
}

# The operator's compaction, up to three times while fewer than 16 blocks
# are free
compact() {
	local i
	hp_sysctl_default vm.compact_unevictable_allowed=1
	for ((i = 1; i <= 3; i++)); do
		echo 1 > /proc/sys/vm/compact_memory
		hp_log "echo 1 > /proc/sys/vm/compact_memory: $(free_2m) free 2 MiB blocks"
		[[ $(free_2m) -lt 16 ]] || break
	done
}

# where_lines: the fragmenter's "pages: ..." lines so far
where_lines() { grep -c '^pages: ' "$HP_TMP/fragment.out"; }

where_lines_gt() { [[ $(where_lines) -gt $1 ]]; }

# The fragmenter's pages are all still there, still mlocked, and
# compaction moved some: "pages: N kept, N present, N moved, N unevictable"
moved() {
	local n w
	n=$(where_lines)
	kill -USR2 "$FRAG_PID"
	hp_wait 30 where_lines_gt "$n"
	w=$(grep '^pages: ' "$HP_TMP/fragment.out" | tail -n 1)
	hp_log "the fragmenter's $w"
	awk '{ exit !($2 > 0 && $4 == $2 && $6 > 0 && $8 == $2) }' <<< "$w"
}

main() {
	local total fell
	hp_require_root
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	[[ -w $THP && -e /sys/kernel/debug/split_huge_pages ]] ||
		hp_skip_all "no transparent huge pages, or no debugfs split_huge_pages"
	hp_plan 11
	hp_sysctl_default net.core.mp_default=none
	hp_veth_pair $NET 4 || hp_fail_all "no veth pair"
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
	ID=$(hpool bind vb 0-3 huge blocks 1 max 16 2>/dev/null) || hp_fail_all "bind refused"
	ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp ||
		hp_fail_all "no XDP on vb"
	hp_log "hugepage binding $ID on vb rx queues 0-3, blocks 1 max 16"
	buddy "before"

	# what compaction can make of movable memory, made first: the
	# fragmenter takes it too; no proactive compaction in the background
	echo 1 > /proc/sys/vm/compact_memory
	buddy "compacted before"
	hp_sysctl_default vm.compaction_proactiveness=0 vm.compact_unevictable_allowed=0
	hp_check "fragmented: every free 2 MiB block keeps one mlocked page" fragment ||
		hp_fail_all "could not fragment memory"
	mop_up
	# a block that becomes free now and then is the fragmenter's within
	# half a second (--hold)
	hp_wait 10 few_free_2m
	buddy "fragmented"
	hp_expect "fragmented: no free 2 MiB block" "$(free_2m)" -le 1
	total=$(awk '$1 == "MemTotal:" { print int($2 / 1024) }' /proc/meminfo)
	hp_expect "fragmented: yet over half of memory free (MiB)" "$(free_mib)" -ge $((total / 2))
	round "fragmented"
	hp_expect "fragmented: grow failures counted" "$FAILED" -gt 0
	hp_expect "fragmented: the page allocator served the pools (fallback pages)" "$FELL" -gt 0
	fell=$FELL

	hold_end
	compact
	buddy "compacted"
	hp_expect "compacted: free 2 MiB blocks again" "$(free_2m)" -ge 16
	hp_check "compacted: the fragmenter holds all its pages, mlocked; compaction moved them" moved
	fresh_pools "compacted"
	round "compacted"
	hp_expect "compacted: the binding grew again (blocks)" "$GROWN" -gt 0
	hp_expect "compacted: fewer fallback pages than when fragmented" "$FELL" -lt "$fell"
	hpool show vb | hp_dump -
	hp_veth_del
	hp_log "$HP_NAME: done at ${SECONDS}s"
	hp_done
}

main "$@"
