#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test of the project, from a fresh clone if need be.
# Installs what is missing (apt), prepares build/linux, checks the harness
# itself (the log scanner, the KTAP counter), runs KUnit under UML, builds
# the x86_64 guest kernel, makes sure both kernels carry the checkers the
# verdict relies on, runs KUnit in the guest (SMP, DMA, swiotlb) and the VM
# selftests, scans every kernel log for splats, and ends with one line:
# "N passed, N failed, N skipped" over every KUnit case and selftest check.
#
# A skip is a failure unless this configuration is known to skip that case
# (EXPECTED_SKIPS below, with the reason); every unexpected skip is named.
# So is a KUnit suite that should have run and did not (EXPECTED_SUITES).
#
# usage: scripts/check.sh [--count]
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
X86_CHECKERS=(KASAN PROVE_LOCKING DEBUG_KMEMLEAK DMA_API_DEBUG)
UML_CHECKERS=(KASAN PROVE_LOCKING)

FAILED_STEPS=()

step() {
	local name=$1 t0=$SECONDS
	shift
	log "== $name"
	if "$@"; then
		log "== $name: done in $((SECONDS - t0))s"
	else
		log "== $name: FAILED after $((SECONDS - t0))s"
		FAILED_STEPS+=("$name")
	fi
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

check_checkers() {
	local rc=0
	checkers "$X86_OUT/.config" "${X86_CHECKERS[@]}" || rc=1
	checkers "$UML_OUT/.config" "${UML_CHECKERS[@]}" || rc=1
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
		"$TOP/scripts/selftests.sh" --list | sed "s|^|$RESULTS/|"
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
	PASSED=0 FAILED=0 SKIPPED=0
	count_results
	count_suites
	if ! "$TOP/scripts/logscan.sh" "$RESULTS"/*.log >&2; then
		log "a kernel log has a splat (above)"
		FAILED=$((FAILED + 1))
	fi
	FAILED=$((FAILED + ${#FAILED_STEPS[@]}))
	[[ ${#FAILED_STEPS[@]} == 0 ]] || log "failed steps: ${FAILED_STEPS[*]}"
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[[ $FAILED == 0 ]]
}

main() {
	local t0=$SECONDS
	case ${1:-} in
	--count) count; return ;;
	'') ;;
	*) sed -n '3,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2; return 1 ;;
	esac
	rm -rf "$RESULTS"
	mkdir -p "$RESULTS"
	step deps "$TOP/scripts/deps.sh" || true
	step prepare "$TOP/scripts/prepare.sh"
	step logscan-test harness logscan logscan-test.sh
	step ktap-test harness ktap ktap-test.sh
	step kunit-uml "$TOP/scripts/kunit-uml.sh"
	step build-x86 "$TOP/scripts/build-x86.sh"
	step checkers check_checkers
	step kunit-x86 "$TOP/scripts/kunit-x86.sh"
	step selftests-listed selftests_listed
	step selftests "$TOP/scripts/selftests.sh"
	log "make check took $((SECONDS - t0))s"
	count
}

main "$@"
