#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of scripts/logscan.sh: for every kind of splat it looks for, a
# log with 1, 200, 2000 and 20000 long lines of it among ordinary boot
# lines must be called dirty, with the right count, several runs each, also
# when whoever reads the scanner's report stops after one line (a reader
# that closes the pipe early once turned 2000 WARNINGs into "clean"); a log
# of ordinary lines, including the checkers' own harmless boot messages,
# must be called clean; a known harmless splat is ignored; a missing log is
# a failure. Output is KTAP.
#
# usage: scripts/logscan-test.sh [runs]     (default 3)
# exit: 0 pass, 1 fail (kselftest codes)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"

RUNS=${1:-3}
SIZES=(1 200 2000 20000)
SCAN=${LOGSCAN:-$TOP/scripts/logscan.sh}	# LOGSCAN: another scanner to judge

# One line per kind of splat, as the 6.12 kernel prints it.
SPLATS=(
	'WARNING: CPU: 1 PID: 1234 at net/core/page_pool.c:1105 page_pool_release+0x2a/0x3c0'
	'BUG: KASAN: slab-use-after-free in mp_huge_release+0x1c/0x90'
	'BUG: KFENCE: use-after-free read in mp_huge_refill+0x10/0x20'
	'WARNING: possible circular locking dependency detected'
	'WARNING: inconsistent lock state'
	'WARNING: suspicious RCU usage'
	'[ BUG: Invalid wait context ]'
	'BUG: sleeping function called from invalid context at mm/slub.c:4117'
	'watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [swapper/0:1]'
	'kernel BUG at net/core/mp_huge.c:321!'
	'Oops: general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN'
	'Kernel panic - not syncing: Fatal exception'
	'UBSAN: shift-out-of-bounds in net/core/mp_cap.c:88:10'
	'turning off the locking correctness validator.'
	'unreferenced object 0xffff888004a1c000 (size 4096):'
	'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
	'INFO: trying to register non-static key.'
	'NMI watchdog: Watchdog detected hard LOCKUP on cpu 1'
	'kmemleak: Kernel memory leak detector disabled'
	'kmemleak: Cannot allocate a kmemleak_object structure'
	'kmemleak: Memory pool empty, consider increasing CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE'
	'kmemleak: Kmemleak disabled without freeing internal data. Reclaim the memory with "echo clear > /sys/kernel/debug/kmemleak".'
	'kmemleak: Freeing unknown object at 0xffff888004a1c000'
	'DMA-API: netdevsim netdevsim77: device driver frees DMA memory with wrong function [device address=0x0000000104a1c000] [size=4096 bytes]'
	'DMA-API: debugging out of memory - disabling'
	'DMA-API: debugging out of memory error - disabled'
	'DMA-API: cacheline tracking ENOMEM, dma-debug disabled'
	'DMA-API: dma_debug_add_bus: out of memory'
	'DMA-API: 65536 debug entries requested but only 1024 allocated'
	'iperf3 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0'
	'Out of memory: Killed process 321 (iperf3) total-vm:9876kB, anon-rss:1234kB, file-rss:0kB, shmem-rss:0kB, UID:0'
	'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
	'rcu: INFO: rcu_preempt self-detected stall on CPU'
	'INFO: task kworker/u8:2:77 blocked for more than 122 seconds.'
	'unregister_netdevice: waiting for vb to become free. Usage count = 2'
	'page_pool_release_retry() stalled pool shutdown: id 12, 1 inflight 60 sec'
	'Negative(-1) inflight packet-pages'
	'page_pool_empty_alloc_cache_once() page_pool refcnt 0 violation'
	'list_add corruption. prev->next should be next (ffff888004a1c000), but was 0000000000000000.'
	'refcount_t: underflow; use-after-free.'
	'mp_huge: binding 3: 2 huge pages not home at teardown'
)

# Ordinary lines of a debug kernel's boot and of the selftests, some of
# them the checkers' own, that must not count.
CLEAN=(
	'kmemleak: Kernel memory leak detector initialized (mem pool available: 15791)'
	'kmemleak: Automatic memory scanning thread started'
	'DMA-API: preallocated 65536 debug entries'
	'DMA-API: debugging enabled by kernel config'
	'rcu: Hierarchical RCU implementation.'
	'Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar'
	'kasan: KernelAddressSanitizer initialized (generic)'
	'mp_huge: binding 3 dev=vb queue=0 policy=lifo blocks=8'
	'ok 12 mp_huge_test_trim'
	'# veth_xdp.sh: 14 passed, 0 failed, 0 skipped'
	'virtio_net virtio0: memory usage: warning level is low'
)

# The one harmless splat logscan.sh knows (UML's virtio PCI in KUnit).
KNOWN='WARNING: CPU: 0 PID: 1 at arch/um/drivers/virt-pci.c:701 um_pci_init+0x1a/0x2b0'

WORK=

cleanup() { [[ -z $WORK ]] || rm -rf "$WORK"; }

# mklog FILE SPLAT COUNT: COUNT console lines of at least 170 characters
# carrying SPLAT, each after an ordinary line
mklog() {
	LOG_SPLAT=$2 LOG_CLEAN=$(printf '%s\n' "${CLEAN[@]}") awk -v n="$3" '
		BEGIN {
			nc = split(ENVIRON["LOG_CLEAN"], clean, "\n")
			pad = sprintf("%150s", ""); gsub(/ /, "x", pad)
			for (i = 1; i <= n; i++) {
				t = sprintf("[%5d.%06d] ", i, i * 7 % 1000000)
				print t clean[i % nc + 1]
				line = t ENVIRON["LOG_SPLAT"]
				print substr(line " " pad, 1, length(line) < 170 ? 170 : length(line))
			}
		}' > "$1"
}

# The number the scanner reports for a log, "" if it reports none.
reported() { sed -n 's/^.*: \([0-9]*\) line(s) with a splat.*/\1/p' "$1"; }

# expect_dirty LOG COUNT: dirty, COUNT lines, in RUNS runs; also when the
# reader of its report goes away after the first line while the scanner
# still has much to print
expect_dirty() {
	local log=$1 want=$2 run rc out=$WORK/out
	for ((run = 1; run <= RUNS; run++)); do
		rc=0
		"$SCAN" "$log" > "$out" 2>&1 || rc=$?
		if [[ $rc != 1 || $(reported "$out") != "$want" ]]; then
			ktap_print_msg "run $run: exit $rc, reported '$(reported "$out")', want 1 and $want"
			sed 's/^/# /' "$out" | cut -c1-200 | sed -n 1,5p
			return 1
		fi
		rc=0
		set +e
		LOGSCAN_EXCERPT=1000000 "$SCAN" "$log" 2>&1 | head -n 1 > /dev/null
		rc=${PIPESTATUS[0]}
		set -e
		if [[ $rc == 0 ]]; then
			ktap_print_msg "run $run: clean when the reader stopped early"
			return 1
		fi
	done
}

expect_clean() {
	local log=$1 run rc
	for ((run = 1; run <= RUNS; run++)); do
		rc=0
		"$SCAN" "$log" > "$WORK/out" 2>&1 || rc=$?
		if [[ $rc != 0 ]]; then
			ktap_print_msg "run $run: exit $rc on a clean log"
			sed 's/^/# /' "$WORK/out" | cut -c1-200 | sed -n 1,5p
			return 1
		fi
	done
}

# One case per kind of splat: every size in one case, so a failure names
# the kind and the size.
splat_case() {
	local i=$1 n log=$WORK/splat.log
	for n in "${SIZES[@]}"; do
		mklog "$log" "${SPLATS[$i]}" "$n"
		if ! expect_dirty "$log" "$n"; then
			ktap_print_msg "$n lines of: ${SPLATS[$i]}"
			return 1
		fi
	done
}

clean_case() {
	local n log=$WORK/clean.log
	for n in "${SIZES[@]}"; do
		mklog "$log" 'hugepool-vm: command exited with 0' "$n"
		expect_clean "$log" || { ktap_print_msg "$n ordinary lines"; return 1; }
	done
}

known_case() {
	mklog "$WORK/known.log" "$KNOWN" 2000
	expect_clean "$WORK/known.log"
}

# A splat anywhere in a long log is found: first line, last line
placement_case() {
	local log=$WORK/place.log
	mklog "$log" 'hugepool-vm: command exited with 0' 20000
	{ echo "${SPLATS[0]}"; cat "$log"; } > "$WORK/first.log"
	{ cat "$log"; printf '%s' "${SPLATS[1]}"; } > "$WORK/last.log"	# no newline
	expect_dirty "$WORK/first.log" 1 && expect_dirty "$WORK/last.log" 1
}

missing_case() {
	local rc=0
	"$SCAN" "$WORK/no-such.log" > /dev/null 2>&1 || rc=$?
	[[ $rc == 1 ]]
}

# Two logs, one dirty: dirty, whatever the order
many_logs_case() {
	local rc1=0 rc2=0
	mklog "$WORK/a.log" 'hugepool-vm: command exited with 0' 200
	mklog "$WORK/b.log" "${SPLATS[0]}" 2000
	"$SCAN" "$WORK/a.log" "$WORK/b.log" > /dev/null 2>&1 || rc1=$?
	"$SCAN" "$WORK/b.log" "$WORK/a.log" > /dev/null 2>&1 || rc2=$?
	[[ $rc1 == 1 && $rc2 == 1 ]]
}

# A test name from a log line: no KTAP directive, nothing a shell expands
describe() { tr -c 'A-Za-z0-9:_.,-' ' ' <<< "$1" | cut -c1-60 | sed 's/ *$//'; }

result() {
	local desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

main() {
	local i
	set -f		# ktap_helpers echoes descriptions unquoted
	WORK=$(mktemp -d)
	trap cleanup EXIT
	echo "KTAP version 1"
	ktap_set_plan $((${#SPLATS[@]} + 5))
	for i in "${!SPLATS[@]}"; do
		result "logscan finds $(describe "${SPLATS[$i]}")" splat_case "$i"
	done
	result "logscan calls ordinary logs clean" clean_case
	result "logscan ignores the known harmless splat" known_case
	result "logscan finds a splat on the first and the last line" placement_case
	result "logscan fails on a missing log" missing_case
	result "logscan: one dirty log of two is dirty" many_logs_case
	ktap_finished
}

main "$@"
