#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A page held across device destruction: netdevsim's pp_hold takes a page
# from its rx queue's pool, which draws from the hugepage provider; the
# device is deleted while the page is out (its queue is unbound at
# unregister, the pool is destroyed with the page in flight), and netdevsim
# puts the page back only after unregister. Every huge page must come back
# once it does, with nothing freed twice and no splat.
#
# usage: nsim_hold.sh              (run as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ID=$$		# a netdevsim id no other run uses
NSIM=/sys/bus/netdevsim

# the netdev of our netdevsim device, if it has one yet
nsim_dev() {
	local d
	for d in "$NSIM/devices/netdevsim$ID/net/"*; do
		[[ -e $d ]] && basename "$d"
		return
	done
}

nsim_has_dev() { [[ -n $(nsim_dev) ]]; }

pool_inflight() {
	hp_ynl - --dump page-pool-get | /usr/bin/python3 -c "$HP_PY_HUGE"'
import json, sys
print(sum(p.get("inflight", 0) for p in json.load(sys.stdin)
          if p.get("ifindex") == int(sys.argv[1]) and huge(p)))' "$1"
}

main() {
	local dev ifindex hold
	hp_require_root
	[[ -d $NSIM ]] || hp_skip_all "no netdevsim"
	hp_plan 8
	hp_kmemleak_clear
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=1 \
		net.core.mp_huge_max_blocks=2

	echo "$ID 1 1" > $NSIM/new_device || hp_fail_all "cannot create netdevsim $ID"
	hp_cleanup_add nsim "echo $ID > $NSIM/del_device"
	hp_until $((SECONDS + 5)) nsim_has_dev
	dev=$(nsim_dev)
	[[ -n $dev ]] || hp_fail_all "netdevsim $ID has no netdev"
	ifindex=$(hp_ifindex - "$dev")
	hp_check "netdevsim $dev up, its pool drawing from the provider" \
		ip link set "$dev" up
	hp_expect "a binding for its rx queue" "$(hp_binding_count "$dev")" -eq 1 ||
		hp_bindings | hp_dump -

	hold=/sys/kernel/debug/netdevsim/netdevsim$ID/ports/0/pp_hold
	hp_check "pp_hold takes a page" sh -c "echo 1 > $hold"
	hp_expect "page-pool-get: the page is in flight" "$(pool_inflight "$ifindex")" -ge 1
	hp_expect "the binding counts it in flight" "$(hp_binding_sum "$dev" pages-inflight)" -ge 1

	hp_check "device deleted with the page held" sh -c "echo $ID > $NSIM/del_device" &&
		hp_cleanup_drop nsim
	hp_check "every huge page back once the page came home" \
		hp_until $((SECONDS + 20)) hp_no_blocks ||
		hp_bindings | hp_dump -
	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
