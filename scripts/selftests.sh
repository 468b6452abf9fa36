#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM selftests (tools/selftests) in one boot of the x86_64 guest; each
# test's KTAP output lands in build/results/selftest-<name>[-<arg>].ktap.
# A test that left no output (the VM died or timed out before it ran)
# gets a result file that says so, which counts as failed.
#
# usage: scripts/selftests.sh [test[:arg]...]   (HP_VM_MEM=MiB, HP_VM_OPTS="--numa"
#                                               for those)
#        scripts/selftests.sh --list            the result files of a full run
#        scripts/selftests.sh --unlisted        committed tests no list runs
# exit: 0 if every test passed or skipped, 1 otherwise
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# one boot with 2 GiB for these, one with 256 MiB for the low-memory guest,
# one with two NUMA nodes, one with 2 GiB for the tracing tools and huge
# page scarcity (bpftrace's and perf's memory, hugetlb and fragmentation
# must not leak into the tests above), one with two vmxnet3 NICs behind the
# emulated Intel IOMMU in strict mode (a real driver's DMA)
DEFAULT_TESTS=(veth_xdp:lifo veth_xdp:percpu veth_xdp:budget nsim_hold app_crash policy_module
	hugepool_cli mp_netlink sysctl_input nl_fuzz netns_limit fault_sweep)
LOWMEM_TESTS=(cap_lowmem)
NUMA_TESTS=(numa_rx)
TRACE_TESTS=(trace_tools hugeadm_scarcity frag_compact)
NIC_TESTS=(vmxnet3_rx:none vmxnet3_rx:lifo vmxnet3_rx:percpu vmxnet3_rx:budget vmxnet3_rx:cap)
# what else tools/selftests holds: no test of its own
HELPERS=(lib.sh nic_lib.sh run.sh pp_sample.py nlfuzz.py alloc_nth.py fragment.py splice_hold.py)

# result file of test[:arg], as tools/selftests/run.sh names it
result() {
	local name=${1%%:*} arg=
	[[ $1 != *:* ]] || arg=${1#*:}
	echo "selftest-$name${arg:+-$arg}.ktap"
}

# boot NAME MiB "VM OPTIONS" TEST...
boot() {
	local name=$1 mem=$2 out=$VM_OUT/$1 rc=0 f t opts
	read -ra opts <<< "$3"
	shift 3
	log "VM selftests ($mem MiB${opts[*]:+ ${opts[*]}}): $*"
	for t in "$@"; do rm -f "$RESULTS/$(result "$t")"; done
	"$TOP/scripts/vm.sh" -m "$mem" "${opts[@]}" -t 2400 -o "$out" -- \
		tools/selftests/run.sh "$out/ktap" "$@" || rc=$?
	cp "$out/console.log" "$RESULTS/$name.log" || rc=1
	for f in "$out"/ktap/*.ktap; do
		[[ -f $f ]] && cp "$f" "$RESULTS/selftest-$(basename "$f")"
	done
	for t in "$@"; do
		f=$RESULTS/$(result "$t")
		[[ -f $f ]] && continue
		log "$t left no results (VM exit $rc)"
		printf 'KTAP version 1\n1..1\nnot ok 1 %s # no output: the VM exited with %s before it ran\n' \
			"$t" "$rc" > "$f"
		rc=1
	done
	return $rc
}

# Test programs committed to tools/selftests that no list above runs: a
# test make check never runs passes unseen.
unlisted() {
	local f name
	local listed=" ${DEFAULT_TESTS[*]%%:*} ${LOWMEM_TESTS[*]%%:*} ${NUMA_TESTS[*]} ${TRACE_TESTS[*]} ${NIC_TESTS[*]%%:*} ${HELPERS[*]} "
	git -C "$TOP" ls-files -- tools/selftests | while read -r f; do
		name=$(basename "$f")
		[[ $name == *.sh || $name == *.py ]] || continue
		[[ $listed == *" $name "* || $listed == *" ${name%.*} "* ]] && continue
		echo "$f"
	done
}

main() {
	local rc=0 t
	case ${1:-} in
	--list)
		for t in "${DEFAULT_TESTS[@]}" "${LOWMEM_TESTS[@]}" "${NUMA_TESTS[@]}" \
			"${TRACE_TESTS[@]}" "${NIC_TESTS[@]}"; do
			result "$t"
		done
		return 0 ;;
	--unlisted)
		unlisted
		return 0 ;;
	esac
	mkdir -p "$RESULTS"
	ksrc_for_guest
	"$TOP/scripts/build-tools.sh"
	if [[ $# -gt 0 ]]; then
		boot selftests "${HP_VM_MEM:-2048}" "${HP_VM_OPTS:-}" "$@" || rc=1
		return $rc
	fi
	boot selftests 2048 "" "${DEFAULT_TESTS[@]}" || rc=1
	boot selftests-lowmem 256 "" "${LOWMEM_TESTS[@]}" || rc=1
	boot selftests-numa 2048 --numa "${NUMA_TESTS[@]}" || rc=1
	boot selftests-trace 2048 "" "${TRACE_TESTS[@]}" || rc=1
	boot selftests-nic 2048 "--nic vmxnet3 --iommu strict" "${NIC_TESTS[@]}" || rc=1
	return $rc
}

main "$@"
