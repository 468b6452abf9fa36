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
. "$(dirname "$0")/flood_lib.sh"

# shellcheck disable=SC2034 # read by flood_lib.sh
NET=10.94.0

buddy() {
	hp_log "$1 (at ${SECONDS}s): MemFree $(free_mib) MiB, $(free_2m) free 2 MiB blocks; /proc/buddyinfo (orders 0-10):"
	hp_dump /proc/buddyinfo
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
		hp_until $((SECONDS + 20)) no_free_2m
		hp_log "compaction with the mlocked pages pinned made $n 2 MiB blocks; the fragmenter took them: $(free_2m) free"
		[[ $n -gt 0 ]] || break
	done
}

hold_ended() { grep -q '^stopped holding' "$HP_TMP/fragment.out"; }

hold_end() {
	kill -USR1 "$FRAG_PID"
	hp_until $((SECONDS + 30)) hold_ended
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
	hp_until $((SECONDS + 30)) where_lines_gt "$n"
	w=$(grep '^pages: ' "$HP_TMP/fragment.out" | tail -n 1)
	hp_log "the fragmenter's $w"
	awk '{ exit !($2 > 0 && $4 == $2 && $6 > 0 && $8 == $2) }' <<< "$w"
}

main() {
	local total fell
	hp_require_root
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	frag_possible
	hp_plan 11
	hp_sysctl_default net.core.mp_default=none
	flood_binding
	buddy "before"

	# what compaction can make of movable memory, made first: the
	# fragmenter takes it too; no proactive compaction in the background
	echo 1 > /proc/sys/vm/compact_memory
	buddy "compacted before"
	hp_sysctl_default vm.compaction_proactiveness=0 vm.compact_unevictable_allowed=0
	hp_check "fragmented: every free 2 MiB block keeps one mlocked page" fragment --hold ||
		hp_fail_all "could not fragment memory"
	mop_up
	# a block that becomes free now and then is the fragmenter's within
	# half a second (--hold)
	hp_until $((SECONDS + 10)) few_free_2m
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
	fresh_pools "compacted" || hp_fail_all "the receiver's page pools not made anew"
	round "compacted"
	hp_expect "compacted: the binding grew again (blocks)" "$GROWN" -gt 0
	hp_expect "compacted: fewer fallback pages than when fragmented" "$FELL" -lt "$fell"
	hpool show vb | hp_dump -
	anchors_stop
	hp_veth_del
	hp_log "$HP_NAME: done at ${SECONDS}s"
	hp_done
}

main "$@"
