# SPDX-License-Identifier: GPL-2.0
# Shared by the harness scripts: paths and small helpers. Sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC=${KSRC:-$BUILD/linux}
UML_OUT=$BUILD/uml
X86_OUT=${X86_OUT:-$BUILD/x86}
VM_OUT=${VM_OUT:-$BUILD/vm}
LOGS=$BUILD/logs
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/hugepool-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Hash paths relative to the checkout, so a fresh clone elsewhere (CI) hits
# what another clone cached; the kernel does not care about the directory
# recorded in debug info.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
# Debian's source package this series is written against; deps.sh falls
# back to the newest 6.12 with a warning when apt does not serve it.
KVER_PIN=6.12.118-1~deb12u1

# For what only reads the kernel tree (the VM, the tools built against it):
# with no tree in BUILD, the one X86_OUT was built from, so a checkout can
# run the guest of another's build. Never for what writes the tree.
ksrc_for_guest() {
	if [[ ! -d $KSRC && -d $X86_OUT/source ]]; then
		KSRC=$(cd "$X86_OUT/source" && pwd -P)
	fi
	export KSRC
}

# vm_timeout SECONDS: SECONDS, cut to what is left before HP_DEADLINE
vm_timeout() {
	local left
	[[ -n ${HP_DEADLINE:-} ]] || { echo "$1"; return; }
	left=$((HP_DEADLINE - $(date +%s)))
	echo $((left < $1 ? left : $1))
}

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { log "error: $*"; exit 1; }
RESULTS=${RESULTS:-$BUILD/results}
