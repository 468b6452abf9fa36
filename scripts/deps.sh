#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs on Debian 12, as root. Idempotent: does
# nothing when everything is there.
#
# The kernel source is chosen once: the pinned point release (KVER_PIN) if
# apt serves it (the package lists are refreshed first when they do not
# list it), else the newest 6.12 with a warning. An installed
# linux-source-6.12 is kept as it is, whatever its version, so a checkout's
# prepared tree never changes under it; HP_KVER=VERSION asks for another
# (then `make distclean` re-prepares from it).
#
# usage: scripts/deps.sh [--series]
#   --series  also what `make series-check` needs (sparse, Sphinx)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	build-essential gcc make flex bison bc libelf-dev libssl-dev
	dwarves ccache rsync git python3 python3-yaml python3-jsonschema
	qemu-system-x86 clang llvm libbpf-dev bpftool bpftrace linux-perf
	iperf3 iproute2 ethtool iputils-ping procps kmod psmisc libhugetlbfs-bin
)
# make series-check only
SERIES_PKGS=(sparse python3-ply python3-sphinx python3-sphinx-rtd-theme)

missing() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

# The kernel source: see the header.
kernel_source() {
	local have want=${HP_KVER:-}
	have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
	if [[ -z $want ]]; then
		[[ -n $have ]] && return
		want=$KVER_PIN
	fi
	[[ $have == "$want" ]] && return
	if ! apt_has "$want"; then
		apt-get update -qq
	fi
	if apt_has "$want"; then
		log "installing linux-source-6.12=$want"
		apt-get install -y -qq --allow-downgrades "linux-source-6.12=$want" >/dev/null
	elif [[ -n ${HP_KVER:-} ]]; then
		die "linux-source-6.12 $want is not in apt (apt-cache madison linux-source-6.12)"
	else
		log "WARNING: linux-source-6.12 $want is not in apt; installing the newest"
		apt-get install -y -qq linux-source-6.12 >/dev/null
	fi
}

# (grep -q would close the pipe early: apt-cache's SIGPIPE fails pipefail)
apt_has() { grep -qF "| $1 |" <<< "$(apt-cache madison linux-source-6.12)"; }

main() {
	local need
	[[ $(id -u) == 0 ]] || die "run as root (apt-get install)"
	export DEBIAN_FRONTEND=noninteractive
	[[ ${1:-} != --series ]] || PKGS+=("${SERIES_PKGS[@]}")
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
