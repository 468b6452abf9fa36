#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM selftests (tools/selftests) in one boot of the x86_64 guest; each
# test's KTAP output lands in build/results/selftest-<name>.ktap.
#
# usage: scripts/selftests.sh [test[:arg]...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEFAULT_TESTS=(veth_xdp:lifo veth_xdp:percpu veth_xdp:budget nsim_hold policy_module)

main() {
	local tests=("$@") out=$VM_OUT/selftests rc=0 f
	[[ ${#tests[@]} -gt 0 ]] || tests=("${DEFAULT_TESTS[@]}")
	mkdir -p "$RESULTS"
	rm -f "$RESULTS"/selftest-*.ktap
	"$TOP/scripts/build-tools.sh"
	log "VM selftests: ${tests[*]}"
	"$TOP/scripts/vm.sh" -t 2400 -o "$out" -- \
		tools/selftests/run.sh "$out/ktap" "${tests[@]}" || rc=$?
	cp "$out/console.log" "$RESULTS/selftests.log"
	for f in "$out"/ktap/*.ktap; do
		[[ -f $f ]] && cp "$f" "$RESULTS/selftest-$(basename "$f")"
	done
	return $rc
}

main "$@"
