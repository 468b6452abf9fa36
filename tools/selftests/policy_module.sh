#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A recycling policy built as a module (pp_policy_budget in the guest
# kernel): naming it loads it, it serves rx queues, it refuses to unload
# while a binding uses it, and unloads once none does. A live binding's
# policy is retuned through debugfs, and bad input there is refused.
#
# usage: policy_module.sh          (run as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

MOD=pp_policy_budget

refcnt() { cat /sys/module/$MOD/refcnt 2>/dev/null || echo gone; }

setup() {
	ip netns add hpm1 && hp_cleanup_add "ip netns del hpm1"
	ip netns add hpm2 && hp_cleanup_add "ip netns del hpm2"
	ip link add name pma numrxqueues 2 numtxqueues 2 netns hpm1 type veth \
		peer name pmb numrxqueues 2 numtxqueues 2 netns hpm2
	ip -n hpm1 addr add 10.98.0.1/24 dev pma
	ip -n hpm2 addr add 10.98.0.2/24 dev pmb
	ip -n hpm1 link set pma up
	ip -n hpm2 link set pmb up
	ip -n hpm2 link set dev pmb xdpdrv obj "$(hp_xdp_obj)" sec xdp
}

params() { echo "$1" > "$HP_DEBUGFS/policy_params" 2>/dev/null; }

main() {
	local id
	hp_require_root
	if [[ -d /sys/module/$MOD && ! -e /sys/module/$MOD/refcnt ]]; then
		hp_skip "$MOD" "built in, not a module"
		hp_done
	fi
	# an earlier test may have used it: its bindings go when their pools do
	if [[ -d /sys/module/$MOD ]]; then
		hp_wait 60 sh -c "[ \$(cat /sys/module/$MOD/refcnt) = 0 ]"
		rmmod $MOD
	fi
	hp_check "$MOD not loaded before use" test ! -d /sys/module/$MOD
	hp_cleanup_add "rmmod $MOD"
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=1 \
		net.core.mp_huge_max_blocks=2 net.core.pp_policy_default=lifo
	hp_check "naming the policy loads its module" \
		sysctl -qw net.core.pp_policy_default=budget
	hp_check "the policy is available" \
		sh -c "sysctl -n net.core.pp_policy_available | grep -qw budget"

	setup
	hp_expect "both rx queues bound with the budget policy" \
		"$(hp_bindings | grep ' dev=pmb ' | grep -c ' policy=budget ')" -eq 2
	sysctl -qw net.core.pp_policy_default=lifo
	hp_expect "bindings hold the module" "$(refcnt)" -ge 2
	hp_check "rmmod refused while bound" sh -c "! rmmod $MOD 2>/dev/null"
	hp_check "traffic through the budget bindings" \
		ip netns exec hpm1 ping -c 20 -i 0.05 -q 10.98.0.2

	id=$(hp_bindings | awk '/ dev=pmb / { sub("id=", "", $1); print $1; exit }')
	hp_check "debugfs: budget of binding $id changed live" params "$id budget=0"
	hp_check "debugfs: unknown binding refused" sh -c "! echo '99999 budget=1' > $HP_DEBUGFS/policy_params"
	hp_check "debugfs: bad syntax refused" sh -c "! echo '$id budget' > $HP_DEBUGFS/policy_params"
	hp_check "debugfs: unknown key refused" sh -c "! echo '$id colour=1' > $HP_DEBUGFS/policy_params"
	hp_check "debugfs: magazine is not a budget knob" \
		sh -c "echo '$id magazine=8' > $HP_DEBUGFS/policy_params"

	ip netns del hpm1
	ip netns del hpm2
	hp_check "bindings gone with the device" hp_wait 30 hp_no_blocks
	hp_check "module unused once unbound" hp_wait 10 sh -c "[ \$(cat /sys/module/$MOD/refcnt) = 0 ]"
	hp_check "rmmod succeeds" rmmod $MOD
	hp_done
}

main "$@"
