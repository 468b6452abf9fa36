#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench-nic: a real NIC's DMA through the emulated IOMMU, for each
# provider of its rx queues against the page allocator, in one boot of the
# x86_64 guest (two vmxnet3 NICs on a QEMU hub, q35 with the Intel IOMMU,
# QEMU tracing its IOTLB to a file; tools/bench/nic_rx.sh runs the
# traffic). Per GiB received: DMA-API map calls and IOMMU map calls of the
# receiver (guest tracepoints), IOTLB misses (QEMU's vtd_iotlb_page_update
# for the receiver's source id, within the measured window) and throughput,
# each as a ratio against the page allocator of the same run.
# Table: build/results/bench-nic.md, and .rst as the figures report has it.
#
# Emulation counts maps and IOTLB fills as the software does them: those
# counts are properties of the drivers, the IOMMU code and the provider.
# Throughput under TCG with a debug kernel is not a property of hardware;
# only its ratios in the same run say anything, and little.
#
# usage: scripts/bench-nic.sh [--iommu strict|lazy] [MODE...]
#   MODE: none lifo percpu budget cap (default: all, none first)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=strict
if [[ ${1:-} == --iommu ]]; then
	IOMMU=$2
	shift 2
fi
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=(none lifo percpu budget cap)
[[ ${MODES[0]} == none ]] || MODES=(none "${MODES[@]}")
OUT=$VM_OUT/bench-nic
TABLE=$RESULTS/bench-nic.md

# The guest creates marks/MODE.start and .end; note how far QEMU's trace
# log was at each, until the VM is gone.
watch_marks() {
	local vm=$1 m seen=" "
	while kill -0 "$vm" 2>/dev/null; do
		for m in "$OUT"/marks/*; do
			[[ -e $m && $seen != *" ${m##*/} "* ]] || continue
			echo "${m##*/} $(wc -l < "$OUT/qemu-trace.log")" >> "$OUT/marks.log"
			seen+="${m##*/} "
		done
		sleep 0.2
	done
}

# iotlb MODE SID: IOTLB fills for SID between MODE's marks
iotlb() {
	local a b
	a=$(awk -v m="$1.start" '$1 == m { print $2 }' "$OUT/marks.log")
	b=$(awk -v m="$1.end" '$1 == m { print $2 }' "$OUT/marks.log")
	[[ -n $a && -n $b ]] || { echo -1; return; }
	sed -n "$((a + 1)),${b}p" "$OUT/qemu-trace.log" |
		grep -c "vtd_iotlb_page_update .*sid $2 " || true
}

table() {
	local cpu line
	cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
	echo "# make bench-nic"
	echo
	echo "$(date +%F), host $cpu; guest: debug kernel (KASAN, lockdep), TCG, IOMMU $IOMMU"
	echo "Reproduce: make bench-nic (scripts/bench-nic.sh --iommu $IOMMU). Per GiB received in"
	echo "the measured window; ratio: against the page allocator (none), same run."
	echo
	echo "| provider | MiB recv | Mbit/s | DMA maps/GiB | ratio | IOMMU maps/GiB | ratio | IOTLB misses/GiB | ratio | throughput ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	while read -r line; do
		declare -A f=()
		for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
		echo "${f[mode]} ${f[bytes]} ${f[secs]} ${f[dma_map]} ${f[iommu_map]} $(iotlb "${f[mode]}" "${f[sid]}")"
		unset f
	done < "$OUT/nic_rx.txt" | awk '
		function r(x, y) { return y > 0 ? sprintf("%.4fx", x / y) : "-" }
		{
			gib = $2 / 2^30; if (gib <= 0) gib = 1e-12
			dm = $4 / gib; im = $5 / gib; io = $6 / gib; tp = $2 * 8 / $3 / 1e6
			if (NR == 1) { dm0 = dm; im0 = im; io0 = io; tp0 = tp }
			printf "| %s | %.1f | %.2f | %.0f | %s | %.0f | %s | %.0f | %s | %s |\n",
				$1 == "none" ? "page allocator" : $1, $2 / 2^20, tp,
				dm, r(dm, dm0), im, r(im, im0), io, r(io, io0), r(tp, tp0)
		}'
}

main() {
	local vm rc=0
	mkdir -p "$RESULTS"
	"$TOP/scripts/build-x86.sh"
	"$TOP/scripts/build-tools.sh"
	rm -rf "$OUT"
	log "bench-nic: one boot, IOMMU $IOMMU, providers: ${MODES[*]}"
	"$TOP/scripts/vm.sh" --nic vmxnet3 --iommu "$IOMMU" --iotlb-trace -t 2400 -o "$OUT" -- \
		tools/bench/nic_rx.sh "$OUT" "${MODES[@]}" &
	vm=$!
	# vm.sh makes OUT afresh: wait for it
	while kill -0 "$vm" 2>/dev/null && [[ ! -e $OUT/cmd.sh ]]; do sleep 0.2; done
	watch_marks "$vm" &
	wait "$vm" || rc=$?
	wait
	cp "$OUT/console.log" "$RESULTS/bench-nic.log"
	if [[ $rc != 0 || ! -s $OUT/nic_rx.txt ]]; then
		log "bench-nic: the guest failed (exit $rc, log $RESULTS/bench-nic.log)"
		return 1
	fi
	table > "$TABLE"
	# as the figures report has it: pasted, not rewritten
	awk -f "$TOP/scripts/rst-tables.awk" "$TABLE" | tee "${TABLE%.md}.rst"
}

main "$@"
