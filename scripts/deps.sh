#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs on Debian 12, as root. Idempotent: does
# nothing when everything is there.
#
# usage: scripts/deps.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	build-essential gcc make flex bison bc libelf-dev libssl-dev
	dwarves ccache rsync git python3 python3-yaml python3-jsonschema
	qemu-system-x86 clang llvm libbpf-dev bpftool bpftrace linux-perf
	iperf3 iproute2 ethtool iputils-ping procps kmod psmisc libhugetlbfs-bin
	sparse python3-ply python3-sphinx python3-sphinx-rtd-theme
)

missing() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

# The kernel source this series is written against, or the newest 6.12
# with a warning when Debian no longer carries that exact version.
kernel_source() {
	local have
	have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
	[[ $have == "$KVER_PIN" ]] && return
	if apt-cache madison linux-source-6.12 | grep -qF "| $KVER_PIN |"; then
		log "installing linux-source-6.12=$KVER_PIN"
		apt-get install -y -qq --allow-downgrades "linux-source-6.12=$KVER_PIN" >/dev/null
	elif [[ -n $have ]]; then
		log "WARNING: linux-source-6.12 $KVER_PIN is gone from apt; using the installed $have"
	else
		log "WARNING: linux-source-6.12 $KVER_PIN is gone from apt; installing the newest"
		apt-get install -y -qq linux-source-6.12 >/dev/null
	fi
}

main() {
	local need
	[[ $(id -u) == 0 ]] || die "run as root (apt-get install)"
	export DEBIAN_FRONTEND=noninteractive
	need=$(missing)
	if [[ -n $need ]] || ! dpkg-query -W linux-source-6.12 >/dev/null 2>&1; then
		log "apt-get install:" $need
		apt-get update -qq
		# shellcheck disable=SC2086
		[[ -z $need ]] || apt-get install -y -qq --no-install-recommends $need >/dev/null
	fi
	kernel_source
}

main "$@"
