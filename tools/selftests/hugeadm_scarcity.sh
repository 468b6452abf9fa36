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
. "$(dirname "$0")/flood_lib.sh"

# shellcheck disable=SC2034 # read by flood_lib.sh
NET=10.95.0
# free 2 MiB blocks the fragmenter leaves to hugeadm: more than the
# binding can grow by (max 16), so that the release is seen
LEAVE=32
HUGETLB=/proc/sys/vm/nr_hugepages
OVERCOMMIT=/proc/sys/vm/nr_overcommit_hugepages

# hugeadm ARGS...: hugeadm, its output as diagnostics; its advice to add
# swap dropped, its warnings not spelled as the kernel's
hugeadm_do() {
	hp_log "hugeadm $*"
	hugeadm "$@" 2>&1 | grep -v 'no swap space\|add-temp-swap' |
		sed 's/^hugeadm:WARNING:/hugeadm: warning:/' | hp_dump -
}

pools() {
	hp_log "$1 (at ${SECONDS}s): MemFree $(free_mib) MiB, $(free_2m) free 2 MiB blocks, hugetlb pool $(< $HUGETLB); /proc/buddyinfo (orders 0-10), hugeadm --pool-list:"
	hp_dump /proc/buddyinfo
	hugeadm --pool-list 2>&1 | hp_dump -
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
	hp_log "HugePages_Total $total, nr_hugepages $(< $HUGETLB), nr_overcommit_hugepages $(< $OVERCOMMIT) (was $OC0)"
	[[ $total == 0 && $(< $HUGETLB) == 0 && $(< $OVERCOMMIT) == "$OC0" ]]
}

main() {
	local n fell
	hp_require_root
	command -v hugeadm > /dev/null || hp_skip_all "no hugeadm (libhugetlbfs-bin)"
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	frag_possible
	[[ $(< $HUGETLB) == 0 ]] || hp_skip_all "the hugetlb pool is in use ($(< $HUGETLB) pages)"
	OC0=$(< $OVERCOMMIT)
	hp_plan 12
	hp_sysctl_default net.core.mp_default=none
	flood_binding
	pools "before"

	hp_sysctl_default vm.compact_unevictable_allowed=0
	hp_check "fragmented: every free 2 MiB block but $LEAVE keeps one mlocked page" \
		fragment --leave "$LEAVE" ||
		hp_fail_all "could not fragment memory"
	scarce
	pools "scarce"
	hp_expect "scarce: no free 2 MiB block left" "$(free_2m)" -le 1
	hp_expect "scarce: the hugetlb pool took the blocks left free" "$(< $HUGETLB)" -ge 16
	hp_expect "scarce: memory is still free for processes (MiB)" "$(free_mib)" -ge 512
	round "scarce"
	hp_expect "scarce: grow failures counted" "$FAILED" -gt 0
	hp_expect "scarce: the page allocator served the pools (fallback pages)" "$FELL" -gt 0
	fell=$FELL

	n=$(< $HUGETLB)
	release
	pools "released ($n 2 MiB pages)"
	hp_expect "released: free 2 MiB blocks back" "$(free_2m)" -ge 16
	fresh_pools "released" || hp_fail_all "the receiver's page pools not made anew"
	round "released"
	hp_expect "released: the binding grew again (blocks)" "$GROWN" -gt 0
	hp_expect "released: fewer fallback pages than when scarce" "$FELL" -lt "$fell"
	hpool show vb | hp_dump -
	anchors_stop
	hp_veth_del
	unfragment
	hp_check "end: no hugetlb page left, the pool's maximum as it was" pool_as_before
	hp_log "$HP_NAME: done at ${SECONDS}s"
	hp_done
}

main "$@"
