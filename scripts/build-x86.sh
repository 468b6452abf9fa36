#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the x86_64 guest kernel (bzImage + modules) in build/x86 with ccache.
# One build serves the VM selftests, x86_64 KUnit and the two-CPU benchmark.
# --fast: the same tree without the debugging options (x86_64-fast.config
# over x86_64-vm.config) in build/x86-fast, for throughput figures only.
#
# usage: scripts/build-x86.sh [--fast]
set -euo pipefail
FRAGS=(x86_64-vm.config)
case ${1:-} in
--fast) FRAGS+=(x86_64-fast.config); X86_OUT=${X86_OUT:-${BUILD:-$(dirname "$0")/../build}/x86-fast} ;;
"") ;;
*) echo "usage: $0 [--fast]" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"
X86_OUT=$(mkdir -p "$X86_OUT" && cd "$X86_OUT" && pwd)

# The fragments as one: the last assignment of each symbol wins.
fragment() {
	local f
	for f in "${FRAGS[@]}"; do cat "$TOP/scripts/configs/$f"; done |
		awk '{
			if (match($0, /^CONFIG_[A-Z0-9_]+=/)) sym = substr($0, 1, RLENGTH - 1)
			else if (match($0, /^# CONFIG_[A-Z0-9_]+ is not set/)) sym = $2
			else next
			if (!(sym in val)) order[n++] = sym
			# an int unset: not mentioned (kconfig has no "not set" for it)
			if ($0 ~ /is not set/ && val[sym] ~ /=[0-9]/) { val[sym] = ""; next }
			val[sym] = $0
		} END { for (i = 0; i < n; i++) if (val[order[i]] != "") print val[order[i]] }'
}

configure() {
	local frag=$X86_OUT/hugepool.config stamp=$X86_OUT/.frag.sha
	local sum
	mkdir -p "$X86_OUT"
	fragment > "$frag"
	sum=$(cat "${FRAGS[@]/#/$TOP/scripts/configs/}" "$KSRC/kernel/configs/kvm_guest.config" |
		sha256sum | cut -d' ' -f1)
	if [[ ! -f $X86_OUT/.config || ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
		log "configuring $X86_OUT (tinyconfig + kvm_guest + ${FRAGS[*]})"
		mkdir -p "$X86_OUT"
		make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 tinyconfig
		merge "$KSRC/kernel/configs/kvm_guest.config" "$frag"
		echo "$sum" > "$stamp"
	elif ! config_has "$frag"; then
		# The series added symbols since the last configure: merge again
		# on top of the current .config so only their users rebuild.
		log "merging ${FRAGS[*]} again (new symbols)"
		merge "$frag"
	else
		make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 olddefconfig
	fi
	config_has "$frag" || config_report "$frag"
}

merge() {
	(cd "$X86_OUT" && "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$X86_OUT" \
		.config "$@" >/dev/null)
	make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 olddefconfig
}

wanted() { grep -E '^CONFIG_[A-Z0-9_]+=[ym0-9]' "$1"; }

# Every option the fragment asks for must have survived olddefconfig.
config_has() {
	local want
	while read -r want; do
		grep -qx -- "$want" "$X86_OUT/.config" || return 1
	done < <(wanted "$1")
}

config_report() {
	local want
	while read -r want; do
		grep -qx -- "$want" "$X86_OUT/.config" && continue
		log "warning: config wants '$want', got: $(grep -- "${want%%=*}[= ]" "$X86_OUT/.config" || echo unset)"
	done < <(wanted "$1")
}

build() {
	log "building x86_64 bzImage + modules (ccache, -j$JOBS)"
	make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
		bzImage modules
	rm -rf "$X86_OUT/modroot"
	make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 INSTALL_MOD_PATH="$X86_OUT/modroot" \
		INSTALL_MOD_STRIP=1 modules_install >/dev/null
}

configure
build
log "x86_64 kernel: $X86_OUT/arch/x86/boot/bzImage"
