#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The netlink fuzzer (nlfuzz.py) against a veth pair and a netdevsim
# device, with one binding of the operator's that it must leave alone:
# thousands of random requests to the binding operations, then the state
# as it was, every huge page the fuzzing reserved given back, and nothing
# leaked. The harness scans the kernel log for splats.
#
# usage: nl_fuzz.sh [requests]     (as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${1:-4000}
NSIM_ID=$((4000 + $$ % 1000))

main() {
	local keep vb nsim held
	hp_require_root
	hp_plan 4
	hp_kmemleak_clear
	hp_veth_pair 10.95.0 4 xdp || hp_fail_all "no veth pair"
	echo "$NSIM_ID 1 4" > /sys/bus/netdevsim/new_device ||
		hp_fail_all "no netdevsim device"
	hp_cleanup_add nsim "echo $NSIM_ID > /sys/bus/netdevsim/del_device"
	hp_wait 5 test -d "/sys/bus/netdevsim/devices/netdevsim$NSIM_ID/net"
	nsim=$(ls "/sys/bus/netdevsim/devices/netdevsim$NSIM_ID/net")
	ip link set "$nsim" netns "$HP_NSB" && ip -n "$HP_NSB" link set "$nsim" up
	vb=$(hp_ifindex "$HP_NSB" vb)
	keep=$(ip netns exec "$HP_NSB" "$HP_BUILD/tools/hugepool" bind vb 3 cap 512 2>/dev/null) ||
		hp_fail_all "the binding to keep"
	hp_log "kept binding $keep; fuzzing with $N requests"
	held=$(hp_total_blocks)
	# the fuzzer's KTAP goes in as diagnostics; its verdict is one case
	ip netns exec "$HP_NSB" /usr/bin/python3 "$HP_TOP/tools/selftests/nlfuzz.py" -n "$N" \
		--ifindex "$vb" --ifindex "$(hp_ifindex "$HP_NSB" "$nsim")" --ifindex 1 \
		--keep "$keep" > "$HP_TMP/fuzz" 2>&1
	local rc=$?
	hp_dump "$HP_TMP/fuzz"
	hp_expect "nlfuzz.py: state as it was after $N random requests" "$rc" -eq 0
	hp_check "the kept binding is still there" \
		grep -q "^id=$keep " "$HP_CAP_DEBUGFS/bindings"
	echo "$NSIM_ID" > /sys/bus/netdevsim/del_device
	hp_cleanup_drop nsim
	hp_veth_del
	hp_check "every huge page the fuzzing reserved back (held before: $held)" \
		hp_wait 60 hp_no_blocks
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
