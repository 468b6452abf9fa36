#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the x86_64 guest kernel (bzImage + modules) in build/x86 with ccache.
# One build serves the VM selftests, x86_64 KUnit and the two-CPU benchmark.
#
# usage: scripts/build-x86.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

configure() {
	local frag=$TOP/scripts/configs/x86_64-vm.config stamp=$X86_OUT/.frag.sha
	local sum
	sum=$(cat "$frag" "$KSRC/kernel/configs/kvm_guest.config" | sha256sum | cut -d' ' -f1)
	if [[ ! -f $X86_OUT/.config || ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
		log "configuring $X86_OUT (tinyconfig + kvm_guest + x86_64-vm)"
		mkdir -p "$X86_OUT"
		make -s -C "$KSRC" O="$X86_OUT" ARCH=x86_64 tinyconfig
		merge "$KSRC/kernel/configs/kvm_guest.config" "$frag"
		echo "$sum" > "$stamp"
	elif ! config_has "$frag"; then
		# The series added symbols since the last configure: merge again
		# on top of the current .config so only their users rebuild.
		log "merging x86_64-vm.config again (new symbols)"
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
