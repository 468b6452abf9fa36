# SPDX-License-Identifier: GPL-2.0
# Sourced by the scripts that build a kernel: one kernel build at a time on
# this machine (2 cores), whichever checkout asks. The lock is held until
# the script exits; scripts it runs inherit it.
if [[ -z ${HP_BUILD_LOCKED:-} ]]; then
	exec 9>"${HP_BUILD_LOCK:-/tmp/hugepool-build.lock}"
	if ! flock -n 9; then
		echo "waiting for another kernel build (${HP_BUILD_LOCK:-/tmp/hugepool-build.lock})" >&2
		flock 9
	fi
	export HP_BUILD_LOCKED=1
fi
