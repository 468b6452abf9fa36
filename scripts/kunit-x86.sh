#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# KUnit on x86_64 in QEMU, from the VM kernel (tests are built in and run
# only when booted with kunit.enable=1): every suite with 2 CPUs,
# then the DMA suite again with swiotlb=force, which makes the provider map
# page by page. Logs: build/results/kunit-x86*.log.
#
# usage: scripts/kunit-x86.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

boot() {
	local name=$1 glob=$2 extra=$3 rc=0
	log "x86_64 KUnit: $name ($glob${extra:+, $extra})"
	"$TOP/scripts/vm.sh" -t 1200 -o "$VM_OUT/$name" \
		-a "kunit.enable=1 kunit.filter_glob=$glob $extra" -- true || rc=$?
	cp "$VM_OUT/$name/console.log" "$RESULTS/$name.log"
	return $rc
}

main() {
	local rc=0
	mkdir -p "$RESULTS"
	boot kunit-x86 '*' '' || rc=1
	boot kunit-x86-swiotlb 'mp_huge_dma' 'swiotlb=force' || rc=1
	return $rc
}

main "$@"
