#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run hugepool selftests one after the other, as the kernel's kselftest
# runner does: each test's KTAP output, indented, becomes a subtest whose
# own result line says how the test ended ("not ok ... # exit=N" for any
# status but 0 and 4, "# SKIP" for 4), so a test that exits non-zero with
# every case ok, or dies before its plan is done, still fails. Each test's
# wrapped output goes to RESULTS/<name>[-<arg>].ktap and to stdout. A test
# is <name>.sh, or <name>.py, beside this script.
#
# usage: run.sh RESULTS test[:arg] [test[:arg]...]
#   e.g. run.sh /tmp/r veth_xdp:lifo nsim_hold
#   HP_TEST_TIMEOUT: seconds one test may take (default 1200)
# exit: 0 if every test passed or skipped, 1 otherwise
set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${HP_TEST_TIMEOUT:-1200}

usage() {
	sed -n '3,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 1
}

# subtest NAME: a test's output as the subtest NAME: indented, and named
# after its KTAP header as KUnit names its suites, so that a parser meeting
# the closing line knows the subtest ended there, short of its plan or not
# (line by line in bash: mawk reads its input in blocks, so a test's lines
# reached the console only when the test ended, and were lost if the guest
# died first)
subtest() {
	local name=$1 named=0 line
	while IFS= read -r line || [[ -n $line ]]; do
		printf '    %s\n' "$line"
		if ((!named)) && [[ $line == "KTAP version"* ]]; then
			printf '    # Subtest: %s\n' "$name"
			named=1
		fi
	done
}

# the program of test NAME: NAME.sh, or NAME.py
program() {
	local p
	for p in "$DIR/$1.sh" "$DIR/$1.py"; do
		[[ -x $p ]] && { echo "$p"; return 0; }
	done
	return 1
}

# one TEST[:ARG] OUT: run it, wrapped; returns its kselftest status
one() {
	local t=$1 out=$2 name=${1%%:*} arg=() st
	[[ $t != *:* ]] || arg=("${t#*:}")
	printf 'KTAP version 1\n1..1\n' | tee "$out"
	timeout -k 10 "$TIMEOUT" "$(program "$name")" "${arg[@]}" 2>&1 | subtest "$t" |
		tee -a "$out"
	st=${PIPESTATUS[0]}
	case $st in
	0) echo "ok 1 $t" ;;
	4) echo "ok 1 $t # SKIP" ;;
	124) echo "not ok 1 $t # exit=124: timed out after ${TIMEOUT}s" ;;
	*) echo "not ok 1 $t # exit=$st" ;;
	esac | tee -a "$out"
	return "$st"
}

main() {
	local results=${1:-} t name arg rc=0 st
	[[ -n $results && $# -ge 2 ]] || usage
	shift
	mkdir -p "$results"
	for t in "$@"; do
		name=${t%%:*} arg=
		[[ $t != *:* ]] || arg=${t#*:}
		if ! program "$name" >/dev/null; then
			echo "# no test $name"
			rc=1
			continue
		fi
		echo "# running $name $arg"
		st=0
		one "$t" "$results/$name${arg:+-$arg}.ktap" || st=$?
		[[ $st == 0 || $st == 4 ]] || rc=1
	done
	exit $rc
}

main "$@"
