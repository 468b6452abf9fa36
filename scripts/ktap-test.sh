#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of scripts/ktap.py on hand-made KTAP: a run that delivers less
# than its plan, a test that exits non-zero with every case ok, a log cut
# off inside a subtest (the VM died), results beyond the plan, wrong
# numbers, a log without results and a selftest without a plan (silent, or
# cut short before it knew its end) must count as failed; skips are
# counted and named; a clean run passes. The KTAP shapes are those of
# KUnit's console output (a module's suites after the built-in ones
# included) and of tools/selftests/run.sh. Then the same
# through the real thing: stand-in tests on tools/selftests/lib.sh, run by
# tools/selftests/run.sh, that die half-way in several ways. Output is
# KTAP.
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
	local desc=$1 want=$2 got f=$WORK/t.ktap
	# a selftest's results are named as run.sh names them
	[[ $desc != selftest:* ]] || f=$WORK/selftest-t.ktap
	printf '%b' "$3" > "$f"
	got=$(HP_KSRC=$KSRC /usr/bin/python3 "$TOP/scripts/ktap.py" "$f" | tail -n1)
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
	printf '%b\n' "$3" | sed 's/^/    /; 1a\    # Subtest: '"$1"
	echo "$2 1 $1"
}

# A stand-in selftest on lib.sh with a plan of 3: "stop" says where and
# how it ends (ok: all three and hp_done).
# shellcheck disable=SC2016	# expanded by the stand-in, not here
STANDIN='#!/bin/bash
set -uo pipefail
. "$(dirname "$0")/lib.sh"
echo "KTAP version 1"
case $1 in skip) hp_skip_all "nothing to run here" ;; esac
case $1 in
silent) trap - EXIT; exit 0 ;;
noplan) hp_cleanup_add marker "touch $(dirname "$0")/cleaned-$1"
	hp_check "one" true; hp_check "two" true; hp_done ;;
esac
hp_plan 3
hp_cleanup_add marker "touch $(dirname "$0")/cleaned-$1"
hp_check "one" true
case $1 in
exit0) exit 0 ;;
unbound) echo "$no_such_variable" ;;
term) kill -TERM $$ ;;
fail) hp_fail_all "cannot go on" ;;
esac
hp_check "two" true
hp_check "three" true
case $1 in exit3) hp_cleanup; exit 3 ;; esac
hp_done'

# wrapped STOP "passed failed skipped": the stand-in test ending with STOP,
# run by run.sh, counts that; and its cleanup ran
wrapped() {
	local stop=$1 want=$2 got dir=$WORK/selftests
	mkdir -p "$dir"
	cp "$TOP/tools/selftests/run.sh" "$TOP/tools/selftests/lib.sh" "$dir"
	printf '%s\n' "$STANDIN" > "$dir/standin.sh"
	chmod +x "$dir/standin.sh"
	HP_KSRC=$KSRC "$dir/run.sh" "$dir/r" "standin:$stop" > "$dir/out" 2>&1 || true
	got=$(HP_KSRC=$KSRC /usr/bin/python3 "$TOP/scripts/ktap.py" "$dir/r/standin-$stop.ktap" | tail -n1)
	if [[ $got == "$want" && ( $stop == skip || $stop == silent || -e $dir/cleaned-$stop ) ]]; then
		ktap_test_pass "run.sh + lib.sh: a test ending with '$stop' counts $want"
	else
		ktap_print_msg "got '$got', want '$want'; cleanup ran: $([[ -e $dir/cleaned-$stop ]] && echo yes || echo no)"
		sed 's/^/# /' "$dir/r/standin-$stop.ktap"
		ktap_test_fail "run.sh + lib.sh: a test ending with '$stop' counts $want"
	fi
}

main() {
	set -f		# ktap_helpers echoes descriptions unquoted
	WORK=$(mktemp -d)
	trap cleanup EXIT
	echo "KTAP version 1"
	ktap_set_plan 26
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
	case_ "selftest: died half-way, closing line, fails" "1 2 0" \
		"$(nest t 'not ok' 'KTAP version 1\n1..3\nok 1 a')"
	case_ "selftest: skipped whole is one skip" "0 0 1" \
		"$(nest t 'ok' 'KTAP version 1\n1..0 # SKIP needs root') # SKIP"
	case_ "selftest: a skipped case is a skip" "1 0 1" \
		"$(nest t ok 'KTAP version 1\n1..2\nok 1 a # SKIP why\nok 2 b')"
	case_ "KUnit: suites, a param case skipped, timestamps" "2 0 1" \
		'[    1.0] KTAP version 1\n[    1.1] 1..1\n[    1.2]     KTAP version 1\n[    1.3]     # Subtest: pp\n[    1.4]     1..2\n[    1.5]         KTAP version 1\n[    1.6]         # Subtest: contract\n[    1.7]         ok 1 lifo\n[    1.8]         ok 2 budget # SKIP not registered\n[    1.9]     ok 1 contract\n[    2.0]     ok 2 other\n[    2.1] ok 1 pp\n'
	case_ "KUnit: a module's suites after the built-in ones are counted" "2 1 0" \
		'[    1.0] KTAP version 1\n[    1.1] 1..1\n[    1.2] ok 1 a\n[    9.0] boot messages\n[   20.0] KTAP version 1\n[   20.1] 1..2\n[   20.2] ok 1 b\n[   20.3] not ok 2 c\n'
	case_ "selftest: no KTAP at all, closing ok, fails" "0 1 0" \
		"$(nest t ok "# nothing")"
	case_ "selftest: no plan, every case ok, closing ok, fails" "2 1 0" \
		"$(nest t ok 'KTAP version 1\nok 1 a\nok 2 b')"
	case_ "KUnit: a module's document cut short fails" "2 1 0" \
		'KTAP version 1\n1..1\nok 1 a\nKTAP version 1\n1..2\nok 1 b\n'
	wrapped ok "3 0 0"
	wrapped exit0 "1 2 0"
	wrapped unbound "1 2 0"
	wrapped term "1 2 0"
	wrapped fail "1 2 0"
	wrapped exit3 "3 1 0"
	wrapped skip "0 0 1"
	wrapped silent "0 1 0"
	wrapped noplan "2 1 0"
	ktap_finished
}

main "$@"
