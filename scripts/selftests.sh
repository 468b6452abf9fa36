#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM selftests (tools/selftests) in boots of the x86_64 guest; each
# test's KTAP output lands in build/results/selftest-<name>[-<arg>].ktap
# (RESULTS), the boot's console in selftests-<boot>.log.
# A test that left no output (the VM died or timed out before it ran)
# gets a result file that says so, which counts as failed.
#
# usage: scripts/selftests.sh [--long] [--boot NAME | test[:arg][@secs]...]
#          (no test: every boot in turn; tests: one boot with HP_VM_MEM=MiB
#          and HP_VM_OPTS="--numa"...; --long: with make check-long's tests)
#        scripts/selftests.sh --list [--long]   the result files of a full run
#        scripts/selftests.sh --boots           the boots' names
#        scripts/selftests.sh --unlisted        committed tests no list runs
# exit: 0 if every test passed or skipped, 1 otherwise
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The boots, each a fresh guest: NAME, memory (MiB), vm.sh options, and
# its tests as test[:arg]@seconds, the seconds being what the test may take
# (about 3x what it takes on the 2-core machines). The default boot holds
# most tests; the low-memory guest has 256 MiB; the NUMA guest two nodes;
# the trace guest keeps bpftrace's and perf's memory, hugetlb and
# fragmentation away from the tests of the default boot; the NIC guest two
# vmxnet3 NICs behind the emulated Intel IOMMU in strict mode (a real
# driver's DMA). make check runs them in two lanes (scripts/check.sh).
BOOTS=(default lowmem numa trace nic)
declare -A MEM=([default]=2048 [lowmem]=256 [numa]=2048 [trace]=2048 [nic]=2048)
declare -A OPTS=([default]="" [lowmem]="" [numa]="--numa" [trace]=""
	[nic]="--nic vmxnet3 --iommu strict")
declare -A TESTS=(
	[default]="veth_xdp@500 nsim_hold@300 app_crash@360 policy_module@300 hugepool_cli@360
		sysctl_input@120 nl_fuzz@360 netns_limit@360 mp_edges@120 cap_share@600"
	[lowmem]="cap_lowmem@600"
	[numa]="numa_rx@600"
	[trace]="trace_tools@1800 hugeadm_scarcity@900 frag_compact@600"
	[nic]="vmxnet3_rx:providers@2400 nic_suspend@300"
)
# make check-long: on top of the boots above, what repeats for confidence
# or sweeps: the netlink API through YNL's Python CLI (each call costs the
# debug guest ~10 s; tools/hugepool covers the ops in make check), the
# fault-injection sweep of every allocation, and vmxnet3 on the page
# allocator (the control of its provider modes)
declare -A LONG_TESTS=(
	[default]="mp_netlink@1500 fault_sweep@900"
	[nic]="vmxnet3_rx:none@900"
)
# what else tools/selftests holds: no test of its own
HELPERS=(lib.sh nic_lib.sh flood_lib.sh run.sh pp_sample.py nlfuzz.py nlspec_fuzz.py alloc_nth.py fragment.py splice_hold.py)
# the seconds of a test named without @seconds (make selftests TESTS=...)
DEFAULT_LIMIT=1500

# result file of test[:arg][@seconds], as tools/selftests/run.sh names it
result() {
	local t=${1%@*} name arg=
	name=${t%%:*}
	[[ $t != *:* ]] || arg=${t#*:}
	echo "selftest-$name${arg:+-$arg}.ktap"
}

# limit test[:arg][@seconds]: its seconds
limit() { [[ $1 == *@* ]] && echo "${1##*@}" || echo "$DEFAULT_LIMIT"; }

# boot NAME MiB "VM OPTIONS" TEST...: one guest runs the tests; the guest
# may take their limits together and the time to boot and to close (see
# scripts/vm-init.sh), and no test runs past what is left of that
boot() {
	local name=$1 mem=$2 out=$VM_OUT/selftests${1:+-$1} rc=0 f t opts secs=240
	read -ra opts <<< "$3"
	shift 3
	for t in "$@"; do
		rm -f "$RESULTS/$(result "$t")"
		secs=$((secs + $(limit "$t")))
	done
	secs=$(vm_timeout "$secs")
	log "VM ${name:-selftests} ($mem MiB${opts[*]:+ ${opts[*]}}, ${secs}s at most):" \
		"$(printf '%s\n' "$@" | sed 's/@.*//' | tr '\n' ' ')"
	"$TOP/scripts/vm.sh" -m "$mem" "${opts[@]}" -t "$secs" -o "$out" -- \
		tools/selftests/run.sh --until $((secs - 150)) "$out/ktap" "$@" || rc=$?
	cp "$out/console.log" "$RESULTS/selftests${name:+-$name}.log" || rc=1
	for f in "$out"/ktap/*.ktap; do
		[[ -f $f ]] && cp "$f" "$RESULTS/selftest-$(basename "$f")"
	done
	for t in "$@"; do
		f=$RESULTS/$(result "$t")
		[[ -f $f ]] && continue
		log "${t%@*} left no results (VM exit $rc)"
		printf 'KTAP version 1\n1..1\nnot ok 1 %s # no output: the VM exited with %s before it ran\n' \
			"${t%@*}" "$rc" > "$f"
		rc=1
	done
	return $rc
}

# run_boot NAME: the boot of that name
run_boot() {
	local -a tests
	# the lists span lines: split on any white space, no glob expanded
	# (read's status is 1 at the end of its input)
	read -r -d '' -a tests <<< "${TESTS[$1]} ${LONG:+${LONG_TESTS[$1]:-}}" || true
	boot "$1" "${MEM[$1]}" "${OPTS[$1]}" "${tests[@]}"
}

# Test programs committed to tools/selftests that no list above runs: a
# test make check never runs passes unseen.
unlisted() {
	local f name b listed=" ${HELPERS[*]} "
	for b in "${BOOTS[@]}"; do
		for f in ${TESTS[$b]} ${LONG_TESTS[$b]:-}; do
			listed+=" ${f%%[:@]*} "
		done
	done
	git -C "$TOP" ls-files -- tools/selftests | while read -r f; do
		name=$(basename "$f")
		[[ $name == *.sh || $name == *.py ]] || continue
		[[ $listed == *" $name "* || $listed == *" ${name%.*} "* ]] && continue
		echo "$f"
	done
}

usage() {
	sed -n '3,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local rc=0 t b
	LONG=
	case ${1:-} in
	--list)
		for b in "${BOOTS[@]}"; do
			for t in ${TESTS[$b]}; do result "$t"; done
			[[ ${2:-} != --long ]] || for t in ${LONG_TESTS[$b]:-}; do result "$t"; done
		done
		return 0 ;;
	--boots) echo "${BOOTS[*]}"; return 0 ;;
	--unlisted) unlisted; return 0 ;;
	--long) LONG=1; shift ;;
	--boot) ;;
	-*) usage ;;
	esac
	mkdir -p "$RESULTS"
	ksrc_for_guest
	"$TOP/scripts/build-tools.sh"
	if [[ ${1:-} == --boot ]]; then
		[[ -v MEM[${2:-}] ]] || usage
		run_boot "$2"
		return
	fi
	if [[ $# -gt 0 ]]; then
		boot "" "${HP_VM_MEM:-2048}" "${HP_VM_OPTS:-}" "$@" || rc=1
		return $rc
	fi
	for b in "${BOOTS[@]}"; do
		run_boot "$b" || rc=1
	done
	return $rc
}

main "$@"
