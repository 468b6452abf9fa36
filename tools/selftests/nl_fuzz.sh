#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The netlink fuzzers against a veth pair and a netdevsim device:
#  1. nlfuzz.py, with two bindings of the operator's, made before the
#     fuzzing, that it names by id in changes and unbinds it must see
#     refused: random requests to the binding operations, then each kept
#     binding's whole state as it was and every other binding from before
#     too;
#  2. nlspec_fuzz.py: requests built from the YNL spec's grammar (valid
#     nests with values at the edges of the spec's checks, attributes
#     missing or twice), the devices changing between them (channel count,
#     down and up, a move to another namespace and back, netdevsim made
#     anew): every refusal says why (extended ack) and changes no binding;
# then every huge page the fuzzing reserved given back, no page pool left
# in flight, and nothing leaked. The harness scans the kernel log for
# splats.
#
# The seed changes from run to run and is printed; HP_SEED=N runs the same
# requests again (in the guest: scripts/vm.sh -- env HP_SEED=N
# tools/selftests/run.sh OUT nl_fuzz).
#
# usage: nl_fuzz.sh [long|REQUESTS]   (as root on a hugepool kernel; long:
#                                      make check-long's many more requests)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# make check's count: about 10 s of requests in the debug guest (1500 took 4 s),
# the whole test about a minute with its devices, teardown and kmemleak scan
N=3000
# the grammar's requests: each refusal costs a dump, each device change
# forks (a second under TCG)
NSPEC=800
[[ ${1:-} != long ]] || { N=50000; NSPEC=20000; }
[[ ! ${1:-} =~ ^[0-9]+$ ]] || { N=$1; NSPEC=$1; }
HP_NSC=hpc-$HP_NAME-$$
# the clock's microseconds, without a fork
SEED=${HP_SEED:-$((${EPOCHREALTIME/./} % 4294967296))}
NSIM_ID=$((4000 + $$ % 1000))

# the bindings the fuzzing must leave alone: a memory cap on the veth's
# queue 3, a hugepage binding with the budget policy on netdevsim's
kept_bindings() {
	local nsim=$1 cap huge
	cap=$(ip netns exec "$HP_NSB" "$HP_BUILD/tools/hugepool" bind vb 3 cap 512 2>/dev/null) ||
		return 1
	huge=$(ip netns exec "$HP_NSB" "$HP_BUILD/tools/hugepool" bind "$nsim" 3 huge \
		blocks 1 max 2 policy budget budget=64 2>/dev/null) || return 1
	echo "$cap $huge"
}

# blocks_at_most N: the hugepage provider holds N huge pages or fewer
blocks_at_most() { (($(hp_total_blocks) <= $1)); }

# kept_there CAP_ID HUGE_ID: both still listed by their providers
kept_there() {
	grep -q "^id=$1 " "$HP_CAP_DEBUGFS/bindings" && grep -q "^id=$2 " "$HP_DEBUGFS/bindings"
}

main() {
	local keep vb nsim held rc=0
	hp_require_root
	hp_plan 6
	hp_kmemleak_clear
	hp_veth_pair 10.95.0 4 xdp || hp_fail_all "no veth pair"
	echo "$NSIM_ID 1 4" > /sys/bus/netdevsim/new_device ||
		hp_fail_all "no netdevsim device"
	hp_cleanup_add nsim "echo $NSIM_ID > /sys/bus/netdevsim/del_device"
	hp_until $((SECONDS + 10)) test -d "/sys/bus/netdevsim/devices/netdevsim$NSIM_ID/net" ||
		hp_fail_all "netdevsim$NSIM_ID has no net device"
	nsim=$(ls "/sys/bus/netdevsim/devices/netdevsim$NSIM_ID/net")
	ip link set "$nsim" netns "$HP_NSB" && ip -n "$HP_NSB" link set "$nsim" up
	vb=$(hp_ifindex "$HP_NSB" vb)
	# what the tests before left (a test killed at its time limit
	# leaves its bindings): this one's go back to that
	held=$(hp_total_blocks)
	read -ra keep <<< "$(kept_bindings "$nsim")"
	[[ ${#keep[@]} == 2 ]] || hp_fail_all "the bindings to keep"
	hp_log "kept bindings ${keep[*]}; fuzzing with $N requests, seed $SEED" \
		"(HP_SEED=$SEED runs the same requests)"
	# the fuzzer's KTAP goes in as diagnostics; its verdict is one case
	ip netns exec "$HP_NSB" /usr/bin/python3 "$HP_TOP/tools/selftests/nlfuzz.py" -n "$N" \
		-s "$SEED" --ifindex "$vb" --ifindex "$(hp_ifindex "$HP_NSB" "$nsim")" --ifindex 1 \
		--keep "${keep[0]}" --keep "${keep[1]}" > "$HP_TMP/fuzz" 2>&1 || rc=$?
	hp_dump "$HP_TMP/fuzz"
	hp_expect "nlfuzz.py: kept bindings and state as they were after $N random requests" \
		"$rc" -eq 0
	hp_check "the kept bindings are still there" kept_there "${keep[@]}"

	hp_netns_add "$HP_NSC" || hp_fail_all "no third namespace"
	rc=0
	ip netns exec "$HP_NSB" /usr/bin/python3 "$HP_TOP/tools/selftests/nlspec_fuzz.py" \
		--spec "$HP_KSRC/Documentation/netlink/specs/netdev.yaml" -n "$NSPEC" -s "$SEED" \
		--dev vb --dev "$nsim" --nsim "$NSIM_ID:$nsim" --ns "$HP_NSB" \
		--other-ns "$HP_NSC" > "$HP_TMP/spec" 2>&1 || rc=$?
	hp_dump "$HP_TMP/spec"
	hp_expect "nlspec_fuzz.py: $NSPEC requests of the spec's grammar, devices changing: every refusal with an extended ack, changing nothing" \
		"$rc" -eq 0
	hp_netns_del "$HP_NSC"
	echo "$NSIM_ID" > /sys/bus/netdevsim/del_device
	hp_cleanup_drop nsim
	hp_veth_del
	hp_check "every huge page the fuzzing and the kept binding reserved back (held before: $held)" \
		hp_until $((SECONDS + 60)) blocks_at_most "$held"
	hp_check "no page pool left in flight" hp_until $((SECONDS + 60)) hp_no_pools_in_flight
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
