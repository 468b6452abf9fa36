#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A recycling policy built as a module (pp_policy_budget in the guest
# kernel): naming it loads it, it serves rx queues, the kernel refuses to
# unload it while a binding uses it (delete_module: EWOULDBLOCK, asked
# directly: rmmod refuses by itself when it reads a reference count), and
# it unloads once none does. A live binding's policy is retuned over
# netlink (mp-binding-set), and bad requests are refused with the right
# error and reason, including a key of another policy.
#
# usage: policy_module.sh          (run as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

MOD=pp_policy_budget

refcnt() { cat /sys/module/$MOD/refcnt 2>/dev/null || echo gone; }

unused() { [[ $(refcnt) == 0 ]]; }

# a veth pair with two rx queues, XDP on the receiver pmb
setup() {
	hp_netns_add "$HP_NSA" || return 1
	hp_netns_add "$HP_NSB" || return 1
	ip link add name pma numrxqueues 2 numtxqueues 2 netns "$HP_NSA" type veth \
		peer name pmb numrxqueues 2 numtxqueues 2 netns "$HP_NSB" || return 1
	ip -n "$HP_NSA" addr add 10.98.0.1/24 dev pma
	ip -n "$HP_NSB" addr add 10.98.0.2/24 dev pmb
	ip -n "$HP_NSA" link set pma up
	ip -n "$HP_NSB" link set pmb up
	ip -n "$HP_NSB" link set dev pmb xdpdrv obj "$(hp_xdp_obj)" sec xdp
}

# set JSON: mp-binding-set over netlink, from the receiver's namespace;
# prints what the kernel said
set_() { hp_ynl "$HP_NSB" --do mp-binding-set --json "$1" 2>&1; }

# changed ID BUDGET: the budget of binding ID set live, and read back
changed() {
	local out
	if ! out=$(set_ "{\"id\": $1, \"huge\": {\"policy-params\": {\"budget\": $2}}}"); then
		hp_dump - <<< "$out"
		return 1
	fi
	out=$(hp_ynl "$HP_NSB" --do mp-binding-get --json "{\"id\": $1}" |
		/usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["huge"].get("policy-params", {}).get("budget", "none"))')
	hp_log "budget of binding $1 read back: $out"
	[[ $out == "$2" ]]
}

# refused ERROR MSG JSON: the kernel refused the change with ERROR
# (strerror) and said MSG (extack), not for another reason (no such
# operation, a malformed request)
refused() {
	local out
	if out=$(set_ "$3"); then
		hp_log "accepted: $3"
		return 1
	fi
	grep -q "Netlink error: $1" <<< "$out" && grep -qF "'msg': '$2'" <<< "$out" && return 0
	hp_dump - <<< "$out"
	return 1
}

# The kernel's answer to unloading the module now, as rmmod would ask
# (O_NONBLOCK) but without rmmod's own look at the reference count first:
# "ok" or the errno's name. delete_module is syscall 176 on x86_64.
unload() {
	/usr/bin/python3 -c '
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(176, sys.argv[1].encode(), os.O_NONBLOCK)
print("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])' "$MOD"
}

# in use: the kernel refuses to unload it (EWOULDBLOCK), and it stays
unload_refused() {
	local out
	out=$(unload)
	hp_log "delete_module($MOD): $out; refcnt $(refcnt)"
	[[ $out == EAGAIN && -d /sys/module/$MOD ]]
}

main() {
	local id
	hp_require_root
	if [[ -d /sys/module/$MOD && ! -e /sys/module/$MOD/refcnt ]]; then
		hp_skip_all "$MOD built in, not a module"
	fi
	hp_plan 15
	# an earlier test may have used it: its bindings go when their pools do
	if [[ -d /sys/module/$MOD ]]; then
		hp_until $((SECONDS + 60)) unused
		rmmod $MOD
	fi
	hp_check "$MOD not loaded before use" test ! -d /sys/module/$MOD
	hp_cleanup_add rmmod "rmmod $MOD"
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=1 \
		net.core.mp_huge_max_blocks=2 net.core.pp_policy_default=lifo
	hp_check "naming the policy loads its module" \
		sysctl -qw net.core.pp_policy_default=budget
	hp_check "the policy is available" \
		sh -c "sysctl -n net.core.pp_policy_available | grep -qw budget"

	setup || hp_fail_all "no veth pair"
	hp_expect "both rx queues bound with the budget policy" \
		"$(hp_bindings | grep ' dev=pmb ' | grep -c ' policy=budget ')" -eq 2 ||
		hp_bindings | hp_dump -
	hp_sysctl_default net.core.pp_policy_default=lifo
	hp_expect "bindings hold the module" "$(refcnt)" -ge 2
	hp_check "the kernel refuses to unload it while bound (EWOULDBLOCK)" unload_refused
	hp_check "traffic through the budget bindings" \
		ip netns exec "$HP_NSA" ping -c 20 -i 0.05 -q 10.98.0.2

	id=$(hp_bindings | awk '/ dev=pmb / { sub("id=", "", $1); print $1; exit }')
	hp_check "netlink: budget of binding $id changed live" changed "$id" 0
	hp_check "netlink: unknown binding refused (ENOENT)" refused "No such file or directory" \
		"no such binding" '{"id": 99999, "huge": {"policy-params": {"budget": 1}}}'
	hp_check "netlink: a change of nothing refused (EINVAL)" refused "Invalid argument" \
		"nothing to change" "{\"id\": $id}"
	hp_check "netlink: cap parameters for a hugepage binding refused (EINVAL)" \
		refused "Invalid argument" "parameters of another provider" \
		"{\"id\": $id, \"cap\": {\"cap\": 64}}"
	# magazine is a key the percpu policy takes: budget must say it does
	# not, not accept it and ignore it
	hp_check "netlink: budget refuses magazine, another policy's key (EINVAL)" \
		refused "Invalid argument" "policy budget does not take parameter magazine" \
		"{\"id\": $id, \"huge\": {\"policy-params\": {\"magazine\": 8}}}"

	ip -n "$HP_NSB" link set dev pmb xdpdrv off
	hp_netns_del "$HP_NSA"
	hp_netns_del "$HP_NSB"
	hp_flush_defer_lists
	hp_check "bindings gone with the device" hp_until $((SECONDS + 30)) hp_no_blocks ||
		hp_bindings | hp_dump -
	hp_check "module unused once unbound" hp_until $((SECONDS + 10)) unused
	hp_check "rmmod succeeds" rmmod $MOD && hp_cleanup_drop rmmod
	hp_done
}

main "$@"
