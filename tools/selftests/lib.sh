# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for the hugepool VM selftests. Sourced; the tests run as root in
# the guest that scripts/vm.sh boots (or on any machine running the
# hugepool kernel). Results are KTAP lines after "KTAP version 1": "ok N
# desc", "not ok N desc", "ok N desc # SKIP why"; hp_done prints the totals
# and sets the exit code the kselftest way (0 pass, 1 fail, 4 skip).

HP_TOP=${HP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HP_KSRC=${HP_KSRC:-$HP_TOP/build/linux}
HP_DEBUGFS=/sys/kernel/debug/mp_huge
HP_N=0
HP_FAILED=0
HP_SKIPPED=0
HP_CLEANUPS=()

hp_log() { echo "# $*"; }

hp_ok() {
	HP_N=$((HP_N + 1))
	echo "ok $HP_N $1"
}

hp_not_ok() {
	HP_N=$((HP_N + 1))
	HP_FAILED=$((HP_FAILED + 1))
	echo "not ok $HP_N $1"
}

hp_skip() {
	HP_N=$((HP_N + 1))
	HP_SKIPPED=$((HP_SKIPPED + 1))
	echo "ok $HP_N $1 # SKIP $2"
}

# hp_check "description" command [args...]: one test case
hp_check() {
	local desc=$1
	shift
	if "$@"; then
		hp_ok "$desc"
	else
		hp_not_ok "$desc"
	fi
}

# hp_expect "description" "$a" op "$b": compare integers, log both
hp_expect() {
	local desc=$1 a=$2 op=$3 b=$4
	hp_log "$desc: $a $op $b"
	if test "$a" "$op" "$b"; then
		hp_ok "$desc"
	else
		hp_not_ok "$desc"
	fi
}

hp_cleanup_add() { HP_CLEANUPS+=("$*"); }

hp_cleanup() {
	local i
	for ((i = ${#HP_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${HP_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	HP_CLEANUPS=()
}

hp_done() {
	hp_cleanup
	hp_log "$(basename "$0"): $((HP_N - HP_FAILED - HP_SKIPPED)) passed, $HP_FAILED failed, $HP_SKIPPED skipped"
	[[ $HP_FAILED == 0 ]] || exit 1
	[[ $HP_N -gt $HP_SKIPPED ]] || exit 4
	exit 0
}

# hp_wait seconds command...: poll until the command succeeds
hp_wait() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
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
			{ hp_log "TCP of $ns not settled:"; ip netns exec "$ns" ss -tan | sed 's/^/# /'; }
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

# hp_veth_pair NET QUEUES [xdp]: veth va in netns hpa (NET.1/24) and vb in
# netns hpb (NET.2/24), QUEUES queues each, up; with "xdp", the native
# XDP_PASS program on vb. The namespaces go at hp_veth_del or hp_cleanup.
hp_veth_pair() {
	local net=$1 q=$2
	ip netns add hpa && hp_cleanup_add "ip netns del hpa"
	ip netns add hpb && hp_cleanup_add "ip netns del hpb"
	ip link add name va numtxqueues "$q" numrxqueues "$q" netns hpa type veth \
		peer name vb numtxqueues "$q" numrxqueues "$q" netns hpb
	ip -n hpa addr add "$net.1/24" dev va
	ip -n hpb addr add "$net.2/24" dev vb
	ip -n hpa link set lo up
	ip -n hpb link set lo up
	ip -n hpa link set va up
	ip -n hpb link set vb up
	[[ ${3:-} != xdp ]] || ip -n hpb link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
}

# Delete the pair's namespaces the way that leaves no page behind: TCP
# settled, XDP detached, then every CPU's defer list flushed. Drops their
# two hp_cleanup entries (the last ones added). "gone": the device was
# deleted already, there is no TCP left to settle.
hp_veth_del() {
	[[ ${1:-} == gone ]] || hp_wait_tcp_settled hpa hpb
	ip -n hpb link set dev vb xdpdrv off 2>/dev/null
	ip netns del hpa
	ip netns del hpb
	hp_flush_defer_lists
	HP_CLEANUPS=("${HP_CLEANUPS[@]:0:${#HP_CLEANUPS[@]}-2}")
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

hp_total_blocks() { hp_bindings | awk -F'blocks=' '/^total/ { print $2 }'; }

hp_no_blocks() { [[ $(hp_total_blocks) == 0 ]]; }

# hp_binding_sum dev key: sum of a counter over the bindings of a device
hp_binding_sum() {
	hp_bindings | awk -v dev="dev=$1" -v key="$2" '
		$0 ~ "(^| )" dev "( |$)" {
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key)
					sum += kv[2]
			}
		}
		END { print sum + 0 }'
}

# hp_binding_sum_file file dev key: the same for another provider's file
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

# hp_pp_mp_huge netns ifindex: page pools of a device that report an mp-huge
# binding, from the page-pool-get dump
hp_pp_mp_huge() {
	hp_ynl "$1" --dump page-pool-get | /usr/bin/python3 -c '
import json, sys
pools = [p for p in json.load(sys.stdin) if p.get("ifindex") == int(sys.argv[1])]
print(sum(1 for p in pools if "mp-huge" in p), len(pools))' "$2"
}

hp_ifindex() {
	if [[ $1 == - ]]; then
		cat "/sys/class/net/$2/ifindex"
	else
		ip netns exec "$1" cat "/sys/class/net/$2/ifindex"
	fi
}

hp_xdp_obj() { echo "$HP_TOP/build/tools/xdp_pass.o"; }

hp_kmemleak_clear() {
	[[ -w /sys/kernel/debug/kmemleak ]] && echo clear > /sys/kernel/debug/kmemleak
	return 0
}

# Leaks reported since the last clear; prints them.
hp_kmemleak_none() {
	local f=/sys/kernel/debug/kmemleak
	[[ -w $f ]] || return 0
	echo scan > $f
	sleep 1
	echo scan > $f
	if [[ -s $f ]]; then
		sed 's/^/# /' $f | head -40
		return 1
	fi
}

# Starts the KTAP output; skips the whole test where it cannot run.
hp_require_root() {
	echo "KTAP version 1"
	if [[ $(id -u) != 0 ]]; then
		hp_skip "$(basename "$0")" "needs root"
		exit 4
	fi
	if [[ ! -r $HP_DEBUGFS/bindings ]]; then
		hp_skip "$(basename "$0")" "no hugepool kernel (debugfs mounted?)"
		exit 4
	fi
}

# Sets the defaults for pools created from now on; restored by hp_done.
hp_sysctl_default() {
	local k v
	for kv in "$@"; do
		k=${kv%%=*}
		v=$(sysctl -n "$k")
		hp_cleanup_add "sysctl -qw $k=$v"
		sysctl -qw "$kv"
	done
}
