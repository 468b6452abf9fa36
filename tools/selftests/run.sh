#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run hugepool selftests one after the other, as the kernel's kselftest
# runner does: each test's KTAP output, indented, becomes a subtest whose
# own result line says how the test ended ("not ok ... # exit=N" for any
# status but 0 and 4, "# SKIP" for 4), so a test that exits non-zero with
# every case ok, or dies before its plan is done, still fails. So does a
# test that printed no KTAP plan, or fewer results than its plan, whatever
# its exit status. Each test's wrapped output goes to
# RESULTS/<name>[-<arg>].ktap and to stdout. A test is <name>.sh, or
# <name>.py, beside this script.
#
# usage: run.sh [--until UPTIME] RESULTS test[:arg][@seconds] [...]
#   e.g. run.sh /tmp/r veth_xdp:lifo@300 nsim_hold
#   @seconds: what that test may take (default HP_TEST_TIMEOUT, 1500); a
#   minute before, what the test's processes are doing and the kernel's
#   blocked tasks (sysrq-w) are reported, so that a hang says where it is
#   --until UPTIME: no test runs past this many seconds of the guest's
#   uptime (the boot's deadline less its closing work): a test's limit is
#   cut to fit, and a test with less than a minute left does not start
# exit: 0 if every test passed or skipped, 1 otherwise
set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${HP_TEST_TIMEOUT:-1500}
# a Python test's lines as they come, not in one block at its end (lost
# when it is killed)
export PYTHONUNBUFFERED=1

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

# hang_report TEST: every user process with its state, what it waits in
# and its kernel stack, then the kernel's blocked tasks into the kernel
# log, as diagnostics of the subtest. Each read is time-limited: a task
# stuck with its mm's lock held would block a plain ps.
hang_report() {
	local p
	echo "# $1 still running after $2 s: its processes"
	timeout 10 ps -N --ppid 2 -p 2 -o pid,ppid,stat,etimes,wchan:32,args
	for p in $(timeout 10 ps -N --ppid 2 -p 2 -o pid=); do
		[[ $p != "$BASHPID" ]] || continue
		echo "# kernel stack of $p ($(cat "/proc/$p/comm" 2>/dev/null)):"
		timeout 5 cat "/proc/$p/stack"
	done
	echo "# blocked tasks: sysrq-w in the kernel log"
	echo w > /proc/sysrq-trigger
}

# watchdog TEST OUT: a hang report a minute before the test's time is up
watchdog() {
	local s after=$((TIMEOUT > 120 ? TIMEOUT - 60 : TIMEOUT / 2))
	sleep $after &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s
	hang_report "$1" $after 2>&1 | sed 's/^#* \{0,1\}/    # /' | tee -a "$2"
}

# plan_kept OUT: the test's own KTAP (the subtest lines of OUT) has a plan
# and as many results as it; prints what is wrong otherwise
plan_kept() {
	awk '
		/^    KTAP version/ { ktap = 1 }
		/^    1\.\.[0-9]+/ { if (!plan++) n = substr($1, 4) + 0 }
		/^    (not )?ok [0-9]+/ { res++ }
		END {
			if (!ktap) { print "no KTAP header"; exit 1 }
			if (!plan) { print "no KTAP plan"; exit 1 }
			if (res != n) { print res + 0 " of " n " planned results"; exit 1 }
		}' "$1"
}

# uptime: whole seconds since the guest booted
uptime_s() { local u; read -r u _ < /proc/uptime; echo "${u%.*}"; }

# limit SECONDS: SECONDS, cut to what is left before UNTIL
limit() {
	local left
	[[ -n $UNTIL ]] || { echo "$1"; return; }
	left=$((UNTIL - $(uptime_s)))
	echo $((left < $1 ? left : $1))
}

# one TEST[:ARG] OUT SECONDS: run it, wrapped; returns its kselftest status
one() {
	local t=$1 out=$2 name=${1%%:*} arg=() st wd start=$SECONDS why
	local TIMEOUT=$3
	[[ $t != *:* ]] || arg=("${t#*:}")
	printf 'KTAP version 1\n1..1\n' | tee "$out"
	if ((TIMEOUT < 60)); then
		echo "not ok 1 $t # not run: ${TIMEOUT}s left of the boot's deadline" | tee -a "$out"
		return 124
	fi
	watchdog "$t" "$out" &
	wd=$!
	timeout -k 10 "$TIMEOUT" "$(program "$name")" "${arg[@]}" 2>&1 | subtest "$t" |
		tee -a "$out"
	st=${PIPESTATUS[0]}
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	if [[ $st == 0 || $st == 4 ]] && ! why=$(plan_kept "$out"); then
		st=1
	fi
	case $st in
	0) echo "ok 1 $t" ;;
	4) echo "ok 1 $t # SKIP" ;;
	124) echo "not ok 1 $t # exit=124: timed out after ${TIMEOUT}s" ;;
	*) echo "not ok 1 $t # exit=$st${why:+: $why}" ;;
	esac | tee -a "$out"
	echo "# $t: $((SECONDS - start)) s (limit $TIMEOUT s)" | tee -a "$out"
	return "$st"
}

UNTIL=

main() {
	local results t name arg rc=0 st secs
	if [[ ${1:-} == --until ]]; then
		UNTIL=$2
		shift 2
	fi
	results=${1:-}
	[[ -n $results && $# -ge 2 ]] || usage
	shift
	mkdir -p "$results"
	for t in "$@"; do
		secs=$TIMEOUT
		if [[ $t == *@* ]]; then
			secs=${t##*@}
			t=${t%@*}
		fi
		name=${t%%:*} arg=
		[[ $t != *:* ]] || arg=${t#*:}
		if ! program "$name" >/dev/null; then
			echo "# no test $name"
			rc=1
			continue
		fi
		echo "# running $name $arg"
		st=0
		one "$t" "$results/$name${arg:+-$arg}.ktap" "$(limit "$secs")" || st=$?
		[[ $st == 0 || $st == 4 ]] || rc=1
	done
	exit $rc
}

main "$@"
