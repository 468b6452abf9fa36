#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# KUnit on x86_64 in QEMU, from the VM kernel (tests run only when booted
# with kunit.enable=1): every built-in suite with 2 CPUs, then, in the same
# boot, the suites built as modules (the policy suites, after the budget
# policy module they also test, so that none of its cases skips); then the
# DMA suite again with swiotlb=force, which makes the provider map page by
# page. Logs: build/results/kunit-x86*.log, one KTAP document per load.
#
# usage: scripts/kunit-x86.sh
# exit: 0 if every boot ran its command; the results are counted by
# scripts/ktap.py (make check)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Modules to load after boot, in order: a policy, then the KUnit suites
# that test it. Each one's suites run at load.
MODULES=(pp_policy_budget pp_policy_test)

# boot NAME GLOB "kernel args" COMMAND...
boot() {
	local name=$1 glob=$2 extra=$3 rc=0
	shift 3
	log "x86_64 KUnit: $name ($glob${extra:+, $extra})"
	"$TOP/scripts/vm.sh" -t 600 -o "$VM_OUT/$name" \
		-a "kunit.enable=1 kunit.filter_glob=$glob $extra" -- "$@" || rc=$?
	cp "$VM_OUT/$name/console.log" "$RESULTS/$name.log" || rc=1
	return $rc
}

# The guest command that loads MODULES, stopping at the first that fails.
load_modules() {
	local m cmd=
	for m in "${MODULES[@]}"; do
		cmd+="scripts/vm-modprobe.sh $m && "
	done
	echo "${cmd}true"
}

main() {
	local rc=0
	mkdir -p "$RESULTS"
	boot kunit-x86 '*' '' bash -c "$(load_modules)" || rc=1
	boot kunit-x86-swiotlb 'mp_huge_dma' 'swiotlb=force' true || rc=1
	return $rc
}

main "$@"
