#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test of the project, from a fresh clone if need be.
# Installs what is missing (apt), prepares build/linux, builds the x86_64
# guest kernel, then runs two lanes side by side, each guest a single TCG
# thread on one of the two cores:
#   lane A: guest boots
#   lane B: KUnit under UML (its build on one core), the harness's own
#           self-tests (the log scanner, the KTAP counter), then guest boots
# The boots (KUnit in the guest: SMP, DMA, swiotlb; the selftests' default,
# trace, NIC, low-memory and NUMA guests) are taken longest first by
# whichever lane is free.
# It makes sure both kernels carry the checkers the verdict relies on,
# scans every kernel log for splats, prints each step's and each test's
# time against its limit, and ends with one line: "N passed, N failed, N
# skipped" over every KUnit case and selftest check.
#
# The run has one budget (HP_BUDGET seconds, default 80 minutes: CI's
# limit is 90; a cold run took 66 on AMD EPYC, 40 of them building, the
# UML KUnit build on one core beside a guest): every
# guest ends by then (HP_DEADLINE, scripts/vm.sh) and a test is cut to what
# is left, so a hang ends in a named failure, never in CI's kill.
#
# A skip is a failure unless this configuration is known to skip that case
# (EXPECTED_SKIPS below, with the reason); every unexpected skip is named.
# So is a KUnit suite that should have run and did not (EXPECTED_SUITES).
#
# usage: scripts/check.sh [--long | --count]
#   --long   make check-long: also the repetitions (soaks, every policy on
#            every NIC), with a budget of HP_BUDGET or 90 minutes
#   --count  only count the results build/results holds (of the last run)
# exit: 0 if nothing failed and no kernel log has a splat, 1 otherwise
set -uo pipefail
. "$(dirname "$0")/lib.sh"
export HP_KSRC=$KSRC

# Skips that are expected, as "<result file>: <suite>.<case>[.<param>]"
# globs, each with the reason. Anything else that skips fails the run.
EXPECTED_SKIPS=(
	'kunit-uml.log: pp_policy_smp.*|UML is uniprocessor (NR_CPUS=1): the SMP suite needs two CPUs'
	'kunit-uml.log: mp_huge_dma.*|UML'"'"'s virtual PCI bus has no device to map for (the guest runs the suite, also with swiotlb)'
	'kunit-uml.log: mp_cap.mp_cap_test_dma|UML'"'"'s virtual PCI bus has no device to map for (the guest runs it)'
	'kunit-x86*.log: pp_bench.*|the benchmark runs only with pp_bench.run=1 (make bench)'
)
# KUnit suites each log must show: a suite gone (a config change, a module
# that did not load) would otherwise leave nothing to count and pass.
POLICY_SUITES="pp_policy_registry pp_policy_contract pp_policy_budget pp_policy_trim pp_policy_smp"
EXPECTED_SUITES=(
	"kunit-uml.log: mp_huge mp_huge_dma mp_cap $POLICY_SUITES"
	"kunit-x86.log: mp_huge mp_huge_dma mp_cap pp_bench $POLICY_SUITES"
	"kunit-x86-swiotlb.log: mp_huge_dma"
)

# Options without which a clean log proves nothing, per kernel build.
X86_CHECKERS=(KASAN PROVE_LOCKING DEBUG_KMEMLEAK DMA_API_DEBUG UBSAN UBSAN_BOUNDS
	UBSAN_SHIFT DETECT_HUNG_TASK SOFTLOCKUP_DETECTOR)
UML_CHECKERS=(KASAN PROVE_LOCKING)

# steps.tsv: a line per step: lane, name, seconds, ok|FAILED
STEPS=$RESULTS/steps.tsv
LANE=-

step() {
	local name=$1 t0=$SECONDS st=ok
	shift
	log "== $name"
	if "$@"; then
		log "== $name: done in $((SECONDS - t0))s"
	else
		log "== $name: FAILED after $((SECONDS - t0))s"
		st=FAILED
	fi
	printf '%s\t%s\t%s\t%s\n' "$LANE" "$name" $((SECONDS - t0)) "$st" >> "$STEPS"
}

# harness NAME SCRIPT: a self-test of the harness, its KTAP kept as a result
harness() {
	local rc=0
	"$TOP/scripts/$2" > "$RESULTS/harness-$1.ktap" 2>&1 || rc=$?
	grep -E '^not ok|^# (got|run)' "$RESULTS/harness-$1.ktap" >&2 || true
	return $rc
}

# checkers CONFIG OPTION...: every option is =y in the kernel's .config
checkers() {
	local config=$1 opt rc=0
	shift
	if [[ ! -f $config ]]; then
		log "no $config: cannot tell whether its kernel has the checkers"
		return 1
	fi
	for opt in "$@"; do
		grep -qx "CONFIG_$opt=y" "$config" && continue
		log "$config: CONFIG_$opt is not y: $(grep -E "^(# )?CONFIG_${opt}[= ]" "$config" || echo unset)"
		rc=1
	done
	if grep -qx 'CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF=y' "$config"; then
		log "$config: kmemleak is built but off by default"
		rc=1
	fi
	return $rc
}

# Every committed selftest is one that make check runs.
selftests_listed() {
	local f rc=0
	while read -r f; do
		log "$f is a test no list of scripts/selftests.sh runs (add it, or to HELPERS if it is none)"
		rc=1
	done < <("$TOP/scripts/selftests.sh" --unlisted)
	return $rc
}


# expected_skip NAME: prints the reason if NAME may skip here
expected_skip() {
	local e
	for e in "${EXPECTED_SKIPS[@]}"; do
		# shellcheck disable=SC2053	# the left side is a glob
		if [[ $1 == ${e%%|*} ]]; then
			echo "${e#*|}"
			return 0
		fi
	done
	return 1
}

# Every result file a complete run leaves, and any other one it did leave.
result_files() {
	local f
	{
		printf '%s\n' "$RESULTS"/kunit-uml.log "$RESULTS"/kunit-x86.log \
			"$RESULTS"/kunit-x86-swiotlb.log \
			"$RESULTS"/harness-logscan.ktap "$RESULTS"/harness-ktap.ktap
		"$TOP/scripts/selftests.sh" --list $LONG | sed "s|^|$RESULTS/|"
		for f in "$RESULTS"/*.ktap; do
			[[ -f $f ]] && echo "$f"
		done
	} | awk '!seen[$0]++'
}

# Sets PASSED FAILED SKIPPED over every result file.
count_results() {
	local f out line p q s name why
	while read -r f; do
		if [[ ! -f $f ]]; then
			log "missing results: $(basename "$f")"
			FAILED=$((FAILED + 1))
			continue
		fi
		if ! out=$(timeout 120 /usr/bin/python3 "$TOP/scripts/ktap.py" "$f") ||
		   ! read -r p q s <<< "$(tail -n1 <<< "$out")" || [[ ! $p$q$s =~ ^[0-9]+$ ]]; then
			log "$(basename "$f"): ktap.py failed: $(tail -n1 <<< "$out")"
			out="" p=0 q=1 s=0
		fi
		while read -r line; do
			case $line in
			'# SKIPPED '*)
				name=${line#'# SKIPPED '}
				if why=$(expected_skip "$name"); then
					log "expected skip: $name ($why)"
				else
					log "UNEXPECTED SKIP (counted as failed): $name"
					s=$((s - 1)) q=$((q + 1))
				fi ;;
			'# '*)
				log "${line#'# '}" ;;
			esac
		done <<< "$out"
		log "$(basename "$f"): $p passed, $q failed, $s skipped"
		PASSED=$((PASSED + p)) FAILED=$((FAILED + q)) SKIPPED=$((SKIPPED + s))
	done < <(result_files)
}

# Adds a failure per expected KUnit suite a log does not show.
count_suites() {
	local e log suite
	for e in "${EXPECTED_SUITES[@]}"; do
		log=$RESULTS/${e%%:*}
		[[ -f $log ]] || continue	# counted missing already
		for suite in ${e#*:}; do
			grep -qE "# Subtest: $suite"$'\r'"?\$" "$log" && continue
			log "$(basename "$log"): KUnit suite $suite did not run"
			FAILED=$((FAILED + 1))
		done
	done
}

count() {
	local failed_steps
	PASSED=0 FAILED=0 SKIPPED=0
	count_results
	count_suites
	if ! "$TOP/scripts/logscan.sh" "$RESULTS"/*.log >&2; then
		log "a kernel log has a splat (above)"
		FAILED=$((FAILED + 1))
	fi
	failed_steps=$(awk -F'\t' '$4 != "ok" { printf "%s ", $2 }' "$STEPS" 2>/dev/null)
	if [[ -n $failed_steps ]]; then
		log "failed steps: $failed_steps"
		FAILED=$((FAILED + $(wc -w <<< "$failed_steps")))
	fi
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[[ $FAILED == 0 ]]
}

# The time of every step and of every selftest, against its limit.
times() {
	local f
	{
		printf 'lane\tstep or test\tseconds\tlimit\tresult\n'
		awk -F'\t' '{ print $1 "\t" $2 "\t" $3 "\t-\t" $4 }' "$STEPS"
		for f in "$RESULTS"/selftest-*.ktap; do
			[[ -f $f ]] || continue
			awk -v t="${f##*/selftest-}" '
				/^(not )?ok 1 / { r = ($1 == "ok") ? "ok" : "FAILED"; if ($0 ~ /# SKIP/) r = "skip" }
				/^# .*: [0-9]+ s( \(limit [0-9]+ s\))?$/ { s = $(NF - (/limit/ ? 4 : 1)); l = /limit/ ? $(NF - 1) : "-" }
				END { sub(/\.ktap$/, "", t); print "  \t  " t "\t" (s == "" ? "-" : s) "\t" l "\t" r }' "$f"
		done
	} | column -t -s $'\t' >&2
}

# The guest boots, longest first: each lane takes the next one when it is
# free (lane B after KUnit under UML, which costs minutes when cold and
# seconds when warm), so the two lanes end close together either way.
BOOT_QUEUE=(trace default nic kunit-x86 lowmem numa)

# next_boot: pops the next boot of the queue file; fails when it is empty
next_boot() {
	local b
	exec 8>>"$RESULTS/boots.lock"
	flock 8
	b=$(head -n 1 "$RESULTS/boots.todo")
	sed -i 1d "$RESULTS/boots.todo"
	flock -u 8
	[[ -n $b ]] && echo "$b"
}

run_boot() {
	case $1 in
	kunit-x86) step kunit-x86 "$TOP/scripts/kunit-x86.sh" ;;
	*) step "selftests-$1" "$TOP/scripts/selftests.sh" $LONG --boot "$1" ;;
	esac
}

boots() {
	local b
	while b=$(next_boot); do
		run_boot "$b"
	done
}

lane_a() { boots; }

lane_b() {
	JOBS=1 step kunit-uml "$TOP/scripts/kunit-uml.sh"
	step checkers-uml checkers "$UML_OUT/.config" "${UML_CHECKERS[@]}"
	step logscan-test harness logscan logscan-test.sh
	step ktap-test harness ktap ktap-test.sh
	boots
}

# lane NAME FUNCTION: the lane, its log lines marked with its name
lane() {
	LANE=$1 "$2" 2>&1 | sed -u "s/^/[$1] /" >&2
}

main() {
	local t0=$SECONDS budget=${HP_BUDGET:-4800}
	LONG=
	case ${1:-} in
	--count) count; return ;;
	--long) LONG=--long budget=${HP_BUDGET:-5400} ;;
	'') ;;
	*) sed -n '3,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2; return 1 ;;
	esac
	export HP_DEADLINE=$(($(date +%s) + budget))
	rm -rf "$RESULTS"
	mkdir -p "$RESULTS"
	step deps "$TOP/scripts/deps.sh" || true
	step prepare "$TOP/scripts/prepare.sh"
	log "kernel: Linux $(make -s -C "$KSRC" kernelversion) from Debian linux-source-6.12" \
		"$(cat "$KSRC/.git/hugepool-source" 2>/dev/null); budget ${budget}s"
	step build-x86 "$TOP/scripts/build-x86.sh"
	step checkers-x86 checkers "$X86_OUT/.config" "${X86_CHECKERS[@]}"
	step selftests-listed selftests_listed
	"$TOP/scripts/build-tools.sh" >&2 || log "build-tools failed (the selftests will say)"
	printf '%s\n' "${BOOT_QUEUE[@]}" > "$RESULTS/boots.todo"
	lane A lane_a &
	lane B lane_b &
	wait
	log "make check took $((SECONDS - t0))s"
	times
	count
}

main "$@"
