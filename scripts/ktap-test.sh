#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of scripts/ktap.py on hand-made KTAP: a run that delivers less
# than its plan, a test that exits non-zero with every case ok, a log cut
# off inside a subtest (the VM died), results beyond the plan, wrong
# numbers and a log without results must count as failed; skips are
# counted and named; a clean run passes. The KTAP shapes are those of
# KUnit's console output and of tools/selftests/run.sh. Output is KTAP.
#
# usage: scripts/ktap-test.sh
# exit: 0 pass, 1 fail (kselftest codes)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. "$KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"

WORK=

cleanup() { [[ -z $WORK ]] || rm -rf "$WORK"; }

# case DESC "passed failed skipped" KTAP-TEXT: ktap.py counts that
case_() {
	local desc=$1 want=$2 got
	printf '%b' "$3" > "$WORK/t.ktap"
	got=$(HP_KSRC=$KSRC /usr/bin/python3 "$TOP/scripts/ktap.py" "$WORK/t.ktap" | tail -n1)
	if [[ $got == "$want" ]]; then
		ktap_test_pass "$desc"
	else
		ktap_print_msg "got '$got', want '$want'"
		ktap_test_fail "$desc"
	fi
}

# nest NAME RESULT LINES: a test's output wrapped as tools/selftests/run.sh
# wraps it
nest() {
	echo "KTAP version 1"
	echo "1..1"
	printf '%b\n' "$3" | sed 's/^/    /'
	echo "$2 1 $1"
}

main() {
	set -f		# ktap_helpers echoes descriptions unquoted
	WORK=$(mktemp -d)
	trap cleanup EXIT
	echo "KTAP version 1"
	ktap_set_plan 12
	case_ "a full run passes" "3 0 0" \
		'KTAP version 1\n1..3\nok 1 a\nok 2 b\nok 3 c\n'
	case_ "fewer results than the plan fail" "2 2 0" \
		'KTAP version 1\n1..4\nok 1 a\nok 2 b\n'
	case_ "results beyond the plan fail" "2 1 0" \
		'KTAP version 1\n1..2\nok 1 a\nok 2 b\nnot ok 3 c\n'
	case_ "wrong numbering fails" "3 1 0" \
		'KTAP version 1\n1..3\nok 1 a\nok 3 c\nok 4 d\n'
	case_ "a log without results fails" "0 1 0" \
		'Kernel panic - not syncing: VFS\n'
	case_ "a plan of 0 without a skip fails" "0 1 0" \
		'KTAP version 1\n1..0\n'
	case_ "selftest: ok everywhere passes" "2 0 0" \
		"$(nest t ok 'KTAP version 1\n1..2\nok 1 a\nok 2 b')"
	case_ "selftest: exit non-zero with every case ok fails" "2 1 0" \
		"$(nest t 'not ok' 'KTAP version 1\n1..2\nok 1 a\nok 2 b\n# Totals: pass:2')"
	case_ "selftest: died half-way, no closing line, fails" "1 2 0" \
		'KTAP version 1\n1..1\n    KTAP version 1\n    1..3\n    ok 1 a\n'
	case_ "selftest: skipped whole is one skip" "0 0 1" \
		"$(nest t 'ok' 'KTAP version 1\n1..0 # SKIP needs root') # SKIP"
	case_ "selftest: a skipped case is a skip" "1 0 1" \
		"$(nest t ok 'KTAP version 1\n1..2\nok 1 a # SKIP why\nok 2 b')"
	case_ "KUnit: suites, a param case skipped, timestamps" "2 0 1" \
		'[    1.0] KTAP version 1\n[    1.1] 1..1\n[    1.2]     KTAP version 1\n[    1.3]     # Subtest: pp\n[    1.4]     1..2\n[    1.5]         KTAP version 1\n[    1.6]         # Subtest: contract\n[    1.7]         ok 1 lifo\n[    1.8]         ok 2 budget # SKIP not registered\n[    1.9]     ok 1 contract\n[    2.0]     ok 2 other\n[    2.1] ok 1 pp\n'
	ktap_finished
}

main "$@"
