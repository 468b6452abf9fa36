#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test of the project, from a fresh clone if need be.
# Installs what is missing (apt), prepares build/linux, runs KUnit under UML,
# builds the x86_64 guest kernel, runs KUnit in it (SMP, DMA, swiotlb) and
# the VM selftests, scans every kernel log for splats, and ends with one
# line: "N passed, N failed" over every KUnit case and selftest check.
#
# usage: scripts/check.sh
# exit: 0 if nothing failed and no kernel log has a splat, 1 otherwise
set -uo pipefail
. "$(dirname "$0")/lib.sh"

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

count() {
	local f passed=0 failed=0 skipped=0 p q s out
	for f in "$RESULTS"/kunit-uml.log "$RESULTS"/kunit-x86.log \
		 "$RESULTS"/kunit-x86-swiotlb.log "$RESULTS"/selftest-*.ktap; do
		if [[ ! -f $f ]]; then
			log "missing results: $f"
			failed=$((failed + 1))
			continue
		fi
		out=$(timeout 60 /usr/bin/python3 "$TOP/scripts/ktap.py" "$f") ||
			out="0 1 0"
		grep '^# FAILED' <<< "$out" | sed "s|^|$(basename "$f"): |" >&2 || true
		read -r p q s < <(tail -n1 <<< "$out")
		log "$(basename "$f"): $p passed, $q failed, $s skipped"
		passed=$((passed + p)) failed=$((failed + q)) skipped=$((skipped + s))
	done
	if ! "$TOP/scripts/logscan.sh" "$RESULTS"/*.log >&2; then
		log "a kernel log has a splat (above)"
		failed=$((failed + 1))
	fi
	failed=$((failed + ${#FAILED_STEPS[@]}))
	[[ ${#FAILED_STEPS[@]} == 0 ]] || log "failed steps: ${FAILED_STEPS[*]}"
	[[ $skipped == 0 ]] || log "$skipped skipped"
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}

main() {
	local t0=$SECONDS
	rm -rf "$RESULTS"
	mkdir -p "$RESULTS"
	step deps "$TOP/scripts/deps.sh" || true
	step prepare "$TOP/scripts/prepare.sh"
	step kunit-uml "$TOP/scripts/kunit-uml.sh"
	step build-x86 "$TOP/scripts/build-x86.sh"
	step kunit-x86 "$TOP/scripts/kunit-x86.sh"
	step selftests "$TOP/scripts/selftests.sh"
	log "make check took $((SECONDS - t0))s"
	count
}

main "$@"
