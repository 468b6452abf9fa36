#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Suspend and resume of a NIC whose rx queues a provider serves: the
# receiving vmxnet3 NIC (scripts/vm.sh --nic vmxnet3) with XDP_PASS, its
# queues bound to the hugepage provider, goes through its system-sleep
# callbacks (the PCI bus's suspend and resume, run by the mp_pm_test
# module with the device lock held and without RTNL, as the PM core runs
# them; a whole-system cycle would reset the guest's 9p root, whose virtio
# driver cannot restore). vmxnet3 re-creates its page pools on resume; a
# pool for a named queue consults the queue's provider under RTNL, so the
# driver must hold it there (it did not: "RTNL: assertion failed", queue
# links changed unlocked). After resume the pools are served by the
# binding again, traffic flows, and teardown brings every huge page home.
#
# usage: nic_suspend.sh   (root, hugepool kernel, scripts/vm.sh --nic vmxnet3)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

NET=10.89.0
PM_TEST=/sys/kernel/debug/mp_pm_test/suspend_resume

# kernel log lines since MARK lines (dmesg reads the whole ring: one fork)
log_since() { dmesg | tail -n +"$(($1 + 1))"; }

bound_pools() { hp_pp_mp_huge "$HP_NSB" "$(hp_ifindex "$HP_NSB" nicb)" | cut -d' ' -f1; }

suspend_resume() { echo "$HP_NIC_RX" > $PM_TEST; }

main() {
	local mark before after
	hp_require_root
	"$HP_TOP/scripts/vm-modprobe.sh" mp_pm_test || hp_fail_all "modprobe mp_pm_test (CONFIG_PAGE_POOL_MP_PM_TEST)"
	hp_cleanup_add module "rmmod mp_pm_test"
	hp_plan 7
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=1 \
		net.core.mp_huge_max_blocks=2
	hp_nic_pair "$NET" || hp_fail_all "no vmxnet3 pair"
	hp_nic_xdp on || hp_fail_all "XDP on the receiver"
	before=$(bound_pools)
	hp_expect "the receiver's pools draw from the hugepage provider" "$before" -ge 1

	mark=$(dmesg | wc -l)
	hp_check "the receiver's suspend and resume callbacks" suspend_resume
	hp_until $((SECONDS + 30)) hp_nic_carrier "$HP_NSB" nicb
	log_since "$mark" | grep -E 'vmxnet3|PM:|RTNL|WARNING' | hp_dump -
	hp_expect "no RTNL assertion or WARNING across resume" \
		"$(log_since "$mark" | grep -cE 'RTNL: assertion failed|WARNING:')" -eq 0
	after=$(bound_pools)
	hp_expect "after resume the pools draw from the provider again" "$after" -ge "$before"
	hp_check "traffic flows after resume" hp_nic_reachable
	hp_check "ping 200 packets across" ip netns exec "$HP_NSA" \
		ping -q -f -c 200 -W 2 "$NET.2"

	hp_nic_del
	hp_check "every huge page back after teardown" hp_wait 60 hp_no_blocks ||
		hp_bindings | hp_dump -
	hp_done
}

main "$@"
