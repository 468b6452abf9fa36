# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for the hugepool VM selftests. Sourced; the tests run as root in
# the guest that scripts/vm.sh boots (or on any machine running the
# hugepool kernel).
#
# Output is KTAP through the kernel's own kselftest helpers
# (tools/testing/selftests/kselftest/ktap_helpers.sh of the prepared tree,
# HP_KSRC): hp_require_root prints the header, hp_plan the plan (each test
# knows its number of cases up front), hp_ok/hp_not_ok/hp_skip a result,
# hp_done the totals and the kselftest exit code (0 pass, 1 fail, 4 skip).
# A test that ends with fewer results than its plan fails, however it
# ended; its cleanups run whatever way it exits (trap on EXIT).
#
# Cleanups are named: hp_cleanup_add NAME COMMAND registers one, a later
# add of the same name replaces it, hp_cleanup_drop NAME forgets it (the
# test undid it itself), hp_cleanup runs what is left, newest first.
# Namespaces are named after the test and its PID (HP_NSA, HP_NSB), so a
# test never meets another's leftovers.

HP_TOP=${HP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HP_BUILD=${HP_BUILD:-$HP_TOP/build}
HP_KSRC=${HP_KSRC:-$HP_BUILD/linux}
HP_DEBUGFS=/sys/kernel/debug/mp_huge
# shellcheck disable=SC2034	# the tests' and tools/demo.sh's
HP_CAP_DEBUGFS=/sys/kernel/debug/mp_cap
HP_NAME=$(basename "$0" .sh)
HP_NSA=hpa-$HP_NAME-$$
HP_NSB=hpb-$HP_NAME-$$
HP_PLANNED=0
declare -A HP_CLEANUP=()
HP_CLEANUP_ORDER=()

if [[ ! -r $HP_KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh ]]; then
	echo "KTAP version 1"
	echo "1..0 # SKIP no kselftest/ktap_helpers.sh under HP_KSRC=$HP_KSRC"
	exit 4
fi
# shellcheck source=/dev/null
. "$HP_KSRC/tools/testing/selftests/kselftest/ktap_helpers.sh"

# ktap_helpers echoes its arguments unquoted: no globbing of descriptions
hp_log() { local -; set -f; ktap_print_msg "$*"; }

# hp_dump FILE|-: a file (or stdin) as KTAP diagnostic lines
hp_dump() { sed 's/^/# /' "$1"; }

hp_ok() { local -; set -f; ktap_test_pass "$1"; }

hp_not_ok() { local -; set -f; ktap_test_fail "$1"; }

# hp_skip "description" "why"
hp_skip() {
	local -
	set -f
	ktap_print_msg "$1: skipped: $2"
	ktap_test_skip "$1"
}

# hp_check "description" command [args...]: one test case; returns the
# command's status, so "hp_check ... || diagnostics" runs them on failure
hp_check() {
	local desc=$1 rc=0
	shift
	"$@" || rc=$?
	if [[ $rc == 0 ]]; then
		hp_ok "$desc"
	else
		hp_not_ok "$desc"
	fi
	return $rc
}

# hp_expect "description" "$a" op "$b": compare integers, log both; returns
# 0 if the comparison holds. A value that is not an integer fails.
hp_expect() {
	local desc=$1 a=$2 op=$3 b=$4
	hp_log "$desc: $a $op $b"
	if [[ $a =~ ^-?[0-9]+$ && $b =~ ^-?[0-9]+$ ]] && test "$a" "$op" "$b"; then
		hp_ok "$desc"
	else
		hp_not_ok "$desc"
		return 1
	fi
}

# hp_cleanup_add NAME COMMAND...: run COMMAND at cleanup, unless dropped
hp_cleanup_add() {
	local name=$1
	shift
	hp_cleanup_drop "$name"
	HP_CLEANUP[$name]="$*"
	HP_CLEANUP_ORDER+=("$name")
}

hp_cleanup_drop() {
	local n keep=()
	[[ -v HP_CLEANUP[$1] ]] || return 0
	unset "HP_CLEANUP[$1]"
	for n in "${HP_CLEANUP_ORDER[@]}"; do
		[[ $n == "$1" ]] || keep+=("$n")
	done
	HP_CLEANUP_ORDER=("${keep[@]}")
}

hp_cleanup() {
	local i name
	for ((i = ${#HP_CLEANUP_ORDER[@]} - 1; i >= 0; i--)); do
		name=${HP_CLEANUP_ORDER[$i]}
		eval "${HP_CLEANUP[$name]}" >/dev/null 2>&1 || true
	done
	HP_CLEANUP=()
	HP_CLEANUP_ORDER=()
}

# On any exit: clean up; a planned test that did not deliver its plan
# fails, whatever its exit status said.
hp_exit() {
	local rc=$? ran=$((KTAP_TESTNO - 1))
	trap - EXIT
	hp_cleanup
	[[ -z ${HP_TMP:-} ]] || rm -rf "$HP_TMP"
	if [[ $HP_PLANNED == 1 && $ran != "$KSFT_NUM_TESTS" ]]; then
		echo "# $HP_NAME: $ran of $KSFT_NUM_TESTS results, exit status $rc"
		[[ $rc != 0 && $rc != 4 ]] || rc=1
	fi
	exit "$rc"
}
trap hp_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# a scratch directory of this test, removed at exit
HP_TMP=$(mktemp -d "/tmp/hp-$HP_NAME.XXXXXX")

# hp_plan N: the number of results this test will print
hp_plan() {
	ktap_set_plan "$1"
	HP_PLANNED=1
}

# hp_skip_all "why": the whole test cannot run here (before hp_plan)
hp_skip_all() {
	ktap_skip_all "$1"
	exit "$KSFT_SKIP"
}

# hp_fail_all "why": the test cannot go on; what is not reported fails
hp_fail_all() {
	hp_log "$HP_NAME: giving up: $1"
	ktap_print_totals
	exit "$KSFT_FAIL"
}

hp_done() {
	hp_cleanup
	ktap_finished
}

# hp_wait SECONDS command...: poll until the command succeeds, for at most
# SECONDS of wall clock (not a count of tries: under TCG a command that
# forks costs the debug guest most of a second a try); the command is
# tried once more at the end, so a slow try cannot lose a late success
hp_wait() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || { "$@"; return; }
		sleep 0.1
	done
}

# hp_running PID: alive, not a zombie waiting to be reaped (bash builtins
# only: it is polled, and a fork costs the debug guest under TCG most of a
# second)
hp_running() {
	local st
	read -r _ _ st _ 2>/dev/null < "/proc/$1/stat" || return 1
	[[ $st != Z ]]
}

# hp_interrupted PID END: wait until PID, sent a SIGINT, has ended, and
# send it another every 10 s meanwhile, as a user presses Ctrl-C again:
# bpftrace 0.17 can miss a SIGINT that arrives outside epoll_wait(), and
# then waits for an event that never comes once traffic has stopped.
# Returns 1 if PID still runs when $SECONDS reaches END (wall clock).
hp_interrupted() {
	local p=$1 end=$2 again=$((SECONDS + 10))
	while hp_running "$p" && ((SECONDS < end)); do
		if ((SECONDS >= again)); then
			hp_log "$(< "/proc/$p/comm") (pid $p) still running after Ctrl-C," \
				"wchan $(< "/proc/$p/wchan"): Ctrl-C again"
			kill -INT "$p"
			again=$((SECONDS + 10))
		fi
		sleep 0.2
	done
	! hp_running "$p"
}

# hp_until END COMMAND...: poll COMMAND every 0.5 s until it succeeds or
# $SECONDS reaches END. Wall clock, not a count of tries as hp_wait: a
# COMMAND that forks costs the debug guest most of a second a try.
hp_until() {
	local end=$1
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.5
	done
}

# hp_sleeper PID: print the pid of the sleep that PID (a perf recipe, whose
# workload is a sleep) or a descendant of it runs; fails while there is
# none. perf starts its workload once its events are enabled.
hp_sleeper() {
	local p
	for p in $(pgrep -P "$1"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && { echo "$p"; return 0; }
		hp_sleeper "$p" && return 0
	done
	return 1
}

# No TCP connection of netns $1 is open or closing any more (TIME-WAIT
# holds no data): what a closing connection still queues holds pages.
hp_tcp_settled() {
	! ip netns exec "$1" ss -Htan 2>/dev/null |
		grep -vE '^(TIME-WAIT|LISTEN)' | grep -q .
}

hp_wait_tcp_settled() {
	local ns
	for ns in "$@"; do
		hp_wait 60 hp_tcp_settled "$ns" ||
			{ hp_log "TCP of $ns not settled:"; ip netns exec "$ns" ss -tan | hp_dump -; }
	done
}

# Free the skbs parked on every CPU's skb defer list. A receiver frees an
# skb on the CPU that allocated it: skb_attempt_defer_free() queues it
# there until that CPU's next net_rx_action, so after the last packet a
# page pool page can wait on an idle CPU indefinitely. A loopback ping on
# each CPU runs net_rx_action there.
hp_flush_defer_lists() {
	local cpu
	ip link set lo up 2>/dev/null
	for ((cpu = 0; cpu < $(getconf _NPROCESSORS_ONLN); cpu++)); do
		taskset -c "$cpu" ping -q -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
	done
	return 0
}

# hp_netns_add NS: a network namespace with lo up and the defaults of
# hp_sysctl_default, deleted at cleanup (after killing what still runs in
# it) unless hp_netns_del deletes it
hp_netns_add() {
	ip netns add "$1" || return 1
	hp_cleanup_add "netns $1" "ip netns pids $1 | xargs -r kill -9; ip netns del $1"
	hp_netns_defaults "$1"
	ip -n "$1" link set lo up
}

hp_netns_del() {
	ip netns pids "$1" | xargs -r kill -9
	ip netns del "$1"
	hp_cleanup_drop "netns $1"
}

# hp_veth_pair NET QUEUES [xdp]: veth va in netns HP_NSA (NET.1/24) and vb
# in netns HP_NSB (NET.2/24), QUEUES queues each, up; with "xdp", the
# native XDP_PASS program on vb. The namespaces go at hp_veth_del or at
# cleanup.
hp_veth_pair() {
	local net=$1 q=$2
	hp_netns_add "$HP_NSA" || return 1
	hp_netns_add "$HP_NSB" || return 1
	ip link add name va numtxqueues "$q" numrxqueues "$q" netns "$HP_NSA" type veth \
		peer name vb numtxqueues "$q" numrxqueues "$q" netns "$HP_NSB" || return 1
	ip -n "$HP_NSA" addr add "$net.1/24" dev va
	ip -n "$HP_NSB" addr add "$net.2/24" dev vb
	ip -n "$HP_NSA" link set va up
	ip -n "$HP_NSB" link set vb up
	[[ ${3:-} != xdp ]] || ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
}

# Delete the pair's namespaces the way that leaves no page behind: TCP
# settled, XDP detached, then every CPU's defer list flushed. Drops their
# cleanups. "gone": the device was deleted already, there is no TCP left
# to settle.
# shellcheck disable=SC2120	# callers without "gone" are the common case
hp_veth_del() {
	[[ ${1:-} == gone ]] || hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	ip -n "$HP_NSB" link set dev vb xdpdrv off 2>/dev/null
	hp_netns_del "$HP_NSA"
	hp_netns_del "$HP_NSB"
	hp_flush_defer_lists
}

# MemAvailable in KiB, page cache dropped and the page allocator's per-CPU
# lists drained (free pages merge back into huge pages in the buddy lists)
hp_mem_available() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	echo 1 > /proc/sys/vm/compact_memory 2>/dev/null
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# The provider's debugfs view: one line per binding of key=value pairs.
hp_bindings() { cat "$HP_DEBUGFS/bindings"; }

# the blocks= value of the "total" line (which may carry other keys)
hp_total_blocks() {
	hp_bindings | awk '$1 == "total" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "blocks") print kv[2] } }'
}

hp_no_blocks() { [[ $(hp_total_blocks) == 0 ]]; }

# no page pool of this namespace is destroyed and still waits for pages
# (hugepool pools: "detached"); fails if netlink cannot tell
hp_no_pools_in_flight() {
	local out
	out=$("$HP_BUILD/tools/hugepool" pools 2>/dev/null) || return 1
	awk 'NR > 1 && $NF == "detached" { n++ } END { exit n > 0 }' <<< "$out"
}

# hp_binding_sum_file file dev key: sum of a counter over the bindings of
# a device in a provider's debugfs file
hp_binding_sum_file() {
	awk -v dev="dev=$2" -v key="$3" '
		$0 ~ "(^| )" dev "( |$)" {
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key)
					sum += kv[2]
			}
		}
		END { print sum + 0 }' "$1"
}

# hp_binding_sum dev key: the same over the hugepage provider's bindings
hp_binding_sum() { hp_binding_sum_file "$HP_DEBUGFS/bindings" "$@"; }

# hp_binding_values file dev key: the value of key of every binding of dev
hp_binding_values() {
	awk -v dev="dev=$2" -v key="$3" '
		$0 ~ "(^| )" dev "( |$)" {
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key)
					print kv[2]
			}
		}' "$1"
}

hp_binding_count() { hp_bindings | grep -c " dev=$1 " || true; }

# hp_ynl netns args...: tools/net/ynl/cli.py on the netdev family
hp_ynl() {
	local ns=$1 run=(ip netns exec "$1")
	shift
	[[ $ns != - ]] || run=()
	"${run[@]}" /usr/bin/python3 "$HP_KSRC/tools/net/ynl/cli.py" \
		--spec "$HP_KSRC/Documentation/netlink/specs/netdev.yaml" \
		--no-schema --output-json "$@"
}

# Python: a page-pool-get entry of a pool that draws from a hugepage
# binding. The netdev spec says so with an mp-binding nest of type huge
# (before it had one, with an mp-huge nest).
HP_PY_HUGE='
def huge(p):
    return "mp-huge" in p or p.get("mp-binding", {}).get("type") == "huge"
'

# hp_pp_mp_huge netns ifindex: page pools of a device that draw from a
# hugepage binding, and all its page pools, from the page-pool-get dump
hp_pp_mp_huge() {
	hp_ynl "$1" --dump page-pool-get | /usr/bin/python3 -c "$HP_PY_HUGE"'
import json, sys
pools = [p for p in json.load(sys.stdin) if p.get("ifindex") == int(sys.argv[1])]
print(sum(1 for p in pools if huge(p)), len(pools))' "$2"
}

hp_ifindex() {
	if [[ $1 == - ]]; then
		cat "/sys/class/net/$2/ifindex"
	else
		ip netns exec "$1" cat "/sys/class/net/$2/ifindex"
	fi
}

hp_xdp_obj() { echo "$HP_BUILD/tools/xdp_pass.o"; }

HP_KMEMLEAK=/sys/kernel/debug/kmemleak

hp_kmemleak_clear() {
	[[ -w $HP_KMEMLEAK ]] && echo clear > $HP_KMEMLEAK
	return 0
}

# Leaks reported since the last clear; prints them. No kmemleak is a
# failure: the guest kernel of make check has it, and a check that cannot
# see a leak must not pass.
hp_kmemleak_none() {
	if [[ ! -w $HP_KMEMLEAK ]]; then
		hp_log "no $HP_KMEMLEAK: kmemleak not built in, off, or debugfs not mounted"
		return 1
	fi
	# one scan: it reports what is unreferenced and older than 5 s (a
	# second finds nothing the first did not; what the last 5 s leaked,
	# the boot's closing scan reports); each costs the debug guest ~15 s
	echo scan > $HP_KMEMLEAK
	if [[ -s $HP_KMEMLEAK ]]; then
		head -n 40 $HP_KMEMLEAK | hp_dump -
		return 1
	fi
}

# Starts the KTAP output. Not root, or not a hugepool kernel: the whole
# test is skipped (make check counts that as a failure). A hugepool
# kernel without its debugfs: the test fails.
hp_require_root() {
	echo "KTAP version 1"
	[[ $(id -u) == 0 ]] || hp_skip_all "$HP_NAME needs root"
	[[ -e /proc/sys/net/core/mp_default ]] ||
		hp_skip_all "not a hugepool kernel (no net.core.mp_default)"
	[[ -r $HP_DEBUGFS/bindings ]] ||
		hp_fail_all "a hugepool kernel without $HP_DEBUGFS/bindings: debugfs not mounted?"
}

# hp_sysctl_default key=value...: sets defaults for pools created from now
# on; the first value each key had is restored at cleanup. A value the
# kernel refuses ends the test as failed: what follows would test
# something else than it says.
#
# The provider defaults (net.core.mp_*) are per network namespace, and a
# new namespace starts with none: every namespace hp_netns_add makes from
# now on gets the values set here too (hp_netns_defaults).
declare -A HP_SYSCTL=()
HP_SYSCTL_ORDER=()
hp_sysctl_default() {
	local kv k v
	for kv in "$@"; do
		k=${kv%%=*}
		if [[ ! -v HP_CLEANUP["sysctl $k"] ]]; then
			v=$(sysctl -n "$k") || hp_fail_all "cannot read $k"
			hp_cleanup_add "sysctl $k" "sysctl -qw $k=$v"
		fi
		sysctl -qw "$kv" || hp_fail_all "sysctl -w $kv refused"
		[[ -v HP_SYSCTL[$k] ]] || HP_SYSCTL_ORDER+=("$k")
		HP_SYSCTL[$k]=${kv#*=}
	done
}

# hp_mode_default MODE: the provider a benchmark's MODE names, as the
# default of the namespaces made from now on: none (the page allocator),
# lifo, percpu or budget (the hugepage provider, 4 huge pages growing to
# 16, with that policy), cap (the memory cap, 4096 pages)
hp_mode_default() {
	case $1 in
	none) hp_sysctl_default net.core.mp_default=none ;;
	lifo | percpu | budget)
		hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=4 \
			net.core.mp_huge_max_blocks=16 net.core.pp_policy_default="$1" ;;
	cap) hp_sysctl_default net.core.mp_default=cap net.core.mp_cap_pages=4096 ;;
	*) echo "$HP_NAME: no mode $1 (none lifo percpu budget cap)" >&2; return 2 ;;
	esac
}

# hp_netns_defaults NS: the values hp_sysctl_default set, in NS too where
# NS has a key of its own (a kernel with per-namespace defaults), in the
# order they were first set. Values that depend on each other (blocks <=
# max blocks) may be refused in that order against the namespace's own
# starting values: what was refused is tried once more after the rest.
hp_netns_defaults() {
	local k again=() pass
	for pass in 1 2; do
		for k in "${HP_SYSCTL_ORDER[@]}"; do
			[[ $pass == 1 ]] || [[ " ${again[*]} " == *" $k "* ]] || continue
			ip netns exec "$1" test -e "/proc/sys/${k//.//}" || continue
			ip netns exec "$1" sysctl -qw "$k=${HP_SYSCTL[$k]}" 2>/dev/null && continue
			[[ $pass == 1 ]] || hp_fail_all "sysctl -w $k=${HP_SYSCTL[$k]} refused in $1"
			again+=("$k")
		done
	done
}
