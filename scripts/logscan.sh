#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Look for splats in kernel logs: WARN, BUG, oops, KASAN, lockdep, UBSAN,
# kmemleak (leaks, and kmemleak giving up), DMA-API debug errors (and
# DMA-API debugging giving up), OOM, RCU stalls, hung tasks, netdev
# refcount waits, stalled page pool shutdowns. Prints, per log with a
# finding, how many lines matched and the first of them with file and line.
#
# The verdict is a count taken by one process over the whole log, never the
# status of a pipeline whose reader may stop early: printing the excerpt is
# a separate step that cannot change it.
#
# usage: scripts/logscan.sh LOG...
# exit: 0 clean, 1 if anything was found or a log is missing or unreadable
set -euo pipefail

# Extended regular expressions (awk), one per kind of splat. What each
# covers, with the kernel's own strings (6.12):
PATTERNS=(
	# WARN*(), and lockdep's reports: "WARNING: possible circular locking
	# dependency detected", "WARNING: inconsistent lock state", "WARNING:
	# suspicious RCU usage"; DMA-API errors are WARNs too
	'WARNING: '
	# BUG(), "BUG: KASAN: slab-use-after-free in ...", "BUG: KFENCE: ...",
	# "BUG: sleeping function called from invalid context", "[ BUG:
	# Invalid wait context ]", "watchdog: BUG: soft lockup"
	'BUG: '
	'kernel BUG at'
	'Oops'
	'general protection fault'
	'Kernel panic'
	'UBSAN: '
	# lockdep switched off for a reason other than an earlier splat
	'turning off the locking correctness validator'
	# kmemleak: a leak, or kmemleak no longer tracking (it disables itself
	# on an internal error: "kmemleak: Kernel memory leak detector
	# disabled", "kmemleak: Cannot allocate a kmemleak_object structure",
	# "kmemleak: Memory pool empty, ...", "kmemleak: Kmemleak disabled
	# without freeing internal data")
	'unreferenced object 0x'
	# what a scan prints when it finds leaks (make check's guests scan at
	# the end of every boot: scripts/vm-init.sh)
	'new suspected memory leak'
	'kmemleak: .*(disabl|Cannot |Memory pool empty|unknown object|by alias|larger than object)'
	# DMA-API debugging: errors, and giving up ("DMA-API: debugging out of
	# memory - disabling", "DMA-API: debugging out of memory error -
	# disabled", "DMA-API: cacheline tracking ENOMEM, dma-debug disabled",
	# "DMA-API: dma_debug_add_bus: out of memory", "DMA-API: debugging
	# disabled on kernel command line", "DMA-API: N debug entries
	# requested but only M allocated")
	'DMA-API: .*(device driver|leak|failed|error)'
	'DMA-API: .*(out of memory|disabl|ENOMEM|requested but only)'
	'dma-debug disabled'
	# the OOM killer: "... invoked oom-killer: gfp_mask=...", "Out of
	# memory: Killed process ...", "Out of memory and no killable processes"
	'invoked oom-killer'
	'Out of memory'
	'rcu: INFO: .*detected stall'
	# lockdep reports that print a stack without a "WARNING:" line
	'INFO: trying to register non-static key'
	'detected hard LOCKUP'
	'INFO: task .* blocked for more than'
	'unregister_netdevice: waiting for'
	'stalled pool shutdown'
	'Negative\([0-9-]+\) inflight'
	'page_pool refcnt .* violation'
	'list_(add|del) corruption'
	'refcount_t: '
	'mp_huge: binding .* not home'
)

# Not ours and harmless: UML's virtio PCI emulation has no device in KUnit.
KNOWN=(
	'arch/um/drivers/virt-pci.c'
)

# How many matching lines to print per log.
EXCERPT=${LOGSCAN_EXCERPT:-20}

usage() {
	sed -n '3,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 1
}

# awk over one log with the patterns in the environment (no escape
# processing, unlike awk -v). The program sees re, known and max.
scan_awk() {
	local log=$1 prog=$2
	LOGSCAN_RE=$(IFS='|'; echo "${PATTERNS[*]}") \
	LOGSCAN_KNOWN=$(IFS='|'; echo "${KNOWN[*]}") \
	LOGSCAN_MAX=$EXCERPT LOGSCAN_FILE=$log \
	LC_ALL=C awk '
		BEGIN {
			re = ENVIRON["LOGSCAN_RE"]; known = ENVIRON["LOGSCAN_KNOWN"]
			max = ENVIRON["LOGSCAN_MAX"] + 0; file = ENVIRON["LOGSCAN_FILE"]
		}
		function splat() { return $0 ~ re && !(known != "" && $0 ~ known) }
		'"$prog" "$log"
}

# count LOG: prints the number of splat lines in it
count() { scan_awk "$1" 'splat() { n++ } END { print n + 0 }'; }

# excerpt LOG: prints the first $EXCERPT splat lines as file:line: text
excerpt() {
	scan_awk "$1" 'splat() { print file ":" FNR ": " $0; if (++k >= max) exit }'
}

# scan LOG: 0 if clean; 1 with a report otherwise
scan() {
	local log=$1 n
	if [[ ! -f $log || ! -r $log ]]; then
		echo "$log: no such log (or unreadable)"
		return 1
	fi
	if ! n=$(count "$log") || [[ ! $n =~ ^[0-9]+$ ]]; then
		echo "$log: scan failed (awk: '$n')"
		return 1
	fi
	[[ $n != 0 ]] || return 0
	echo "$log: $n line(s) with a splat; the first:"
	excerpt "$log" || true
	return 1
}

main() {
	local log found=0
	[[ $# -gt 0 ]] || usage
	for log in "$@"; do
		scan "$log" || found=1
	done
	return $found
}

main "$@"
