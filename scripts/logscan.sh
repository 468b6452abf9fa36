#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Look for splats in kernel logs: WARN, BUG, oops, KASAN, lockdep, UBSAN,
# kmemleak, DMA-API debug errors, RCU stalls, hung tasks, stalled page pool
# shutdowns. Prints each finding with its file and line.
#
# usage: scripts/logscan.sh LOG...
# exit: 0 clean, 1 if anything was found
set -euo pipefail

PATTERNS=(
	'WARNING: '
	'BUG: '
	'kernel BUG at'
	'Oops'
	'general protection fault'
	'Kernel panic'
	'UBSAN: '
	'unreferenced object 0x'
	'DMA-API: .*(device driver|leak|failed|error)'
	'rcu: INFO: .*detected stall'
	'INFO: task .* blocked for more than'
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

main() {
	local re known found=0 f
	re=$(IFS='|'; echo "${PATTERNS[*]}")
	known=$(IFS='|'; echo "${KNOWN[*]}")
	for f in "$@"; do
		[[ -f $f ]] || continue
		if grep -nE "$re" "$f" | grep -vE "$known" | sed "s|^|$f:|" | head -20 | grep .; then
			found=1
		fi
	done
	return $found
}

main "$@"
