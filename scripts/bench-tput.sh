#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench-tput: TCP throughput into veth (native XDP) and vmxnet3 rx
# queues fed by each provider and policy, against the page allocator, in
# one boot of the guest kernel built without the debugging options
# (scripts/build-x86.sh --fast, build/x86-fast; built here on first use,
# ~10 min cold). tools/bench/tput.sh runs the traffic: ROUNDS rounds, each
# mode once per round in a rotating order. Table: build/results/bench-tput.md
# with the median and the spread over the rounds, and the ratio of the
# medians against the page allocator.
#
# Under TCG the absolute figures are those of an emulator on this host:
# only ratios within one run say something, and the per-round spread says
# how much.
#
# usage: scripts/bench-tput.sh [--iommu strict|lazy|off] [--rounds N] [MODE...]
#   MODE: none lifo percpu budget cap (default: all; none is always in)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=strict
ROUNDS=3
while [[ $# -gt 0 ]]; do
	case $1 in
	--iommu) IOMMU=${2:-}; shift 2 ;;
	--rounds) ROUNDS=${2:-}; shift 2 ;;
	-*) die "usage: $0 [--iommu strict|lazy|off] [--rounds N] [MODE...]" ;;
	*) break ;;
	esac
done
[[ $IOMMU =~ ^(strict|lazy|off)$ ]] || die "--iommu: strict, lazy or off, not '$IOMMU'"
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "--rounds: 1 to 99, not '$ROUNDS'"
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=(none lifo percpu budget cap)
for m in "${MODES[@]}"; do
	[[ $m =~ ^(none|lifo|percpu|budget|cap)$ ]] || die "no mode '$m' (none lifo percpu budget cap)"
done
[[ " ${MODES[*]} " == *" none "* ]] || MODES=(none "${MODES[@]}")
FAST=$BUILD/x86-fast
OUT=$VM_OUT/bench-tput
TABLE=$RESULTS/bench-tput.md

table() {
	local cpu
	cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
	echo "# make bench-tput"
	echo
	echo "$(date +%F), host $cpu; guest: kernel without debugging options (build/x86-fast),"
	echo "TCG single-threaded, 2 vCPUs, vmxnet3 IOMMU $IOMMU; $ROUNDS rounds of ${HP_TPUT_SECS:-10} s,"
	echo "${HP_TPUT_STREAMS:-4} iperf3 streams. Reproduce: make bench-tput (scripts/bench-tput.sh"
	echo "--iommu $IOMMU --rounds $ROUNDS). Mbit/s: median over the rounds [min-max]; ratio: median"
	echo "against the page allocator's (none) median, [min-max] of the same-round ratios."
	echo
	echo "| receiver | provider | Mbit/s | ratio | retransmits (median) |"
	echo "|---|---|---:|---:|---:|"
	awk '
		function med(s,   a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function lo(s,   a, n, i, m) { n = split(s, a, " "); m = a[1]
			for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
		function hi(s,   a, n, i, m) { n = split(s, a, " "); m = a[1]
			for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
		{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			d = f["dev"]; m = f["mode"]; k = d SUBSEP m
			mb = f["bytes"] * 8 / f["secs"] / 1e6
			tp[k] = tp[k] " " mb; rt[k] = rt[k] " " f["retrans"]
			at[d SUBSEP f["round"] SUBSEP m] = mb
			if (!(d in seen)) { seen[d] = 1; devs[++nd] = d }
			if (!(k in seenm)) { seenm[k] = 1; modes[d SUBSEP (++nm[d])] = m }
			if (f["round"] > rounds) rounds = f["round"]
		}
		END {
			for (i = 1; i <= nd; i++) {
				d = devs[i]; base = med(tp[d SUBSEP "none"])
				for (j = 1; j <= nm[d]; j++) {
					m = modes[d SUBSEP j]; k = d SUBSEP m; rr = ""
					for (r = 1; r <= rounds; r++) {
						a = d SUBSEP r SUBSEP m; b = d SUBSEP r SUBSEP "none"
						if ((a in at) && (b in at) && at[b] > 0)
							rr = rr " " at[a] / at[b]
					}
					name = (m == "none") ? "page allocator" : m
					ratio = "-"
					if (base > 0 && rr != "")
						ratio = sprintf("%.2fx [%.2f-%.2f]", med(tp[k]) / base, lo(rr), hi(rr))
					printf "| %s | %s | %.0f [%.0f-%.0f] | %s | %d |\n", d, name,
						med(tp[k]), lo(tp[k]), hi(tp[k]), ratio, med(rt[k])
				}
			}
		}' "$OUT/tput.txt"
}

main() {
	local rc=0 nic=()
	mkdir -p "$RESULTS"
	"$TOP/scripts/build-x86.sh" --fast
	"$TOP/scripts/build-tools.sh"
	case $IOMMU in
	off) nic=(--nic vmxnet3) ;;
	*) nic=(--nic vmxnet3 --iommu "$IOMMU") ;;
	esac
	rm -rf "$OUT"
	log "bench-tput: one boot of $FAST, $ROUNDS rounds, providers: ${MODES[*]}"
	# a round of every mode on both receivers takes about 4 min
	X86_OUT=$FAST "$TOP/scripts/vm.sh" "${nic[@]}" -t $((600 + ROUNDS * 600)) -o "$OUT" -- \
		tools/bench/tput.sh "$OUT" "$ROUNDS" "${MODES[@]}" || rc=$?
	cp "$OUT/console.log" "$RESULTS/bench-tput.log" 2>/dev/null || true
	if [[ $rc != 0 || ! -s $OUT/tput.txt ]]; then
		log "bench-tput: the guest failed (exit $rc, log $RESULTS/bench-tput.log)"
		return 1
	fi
	table > "$TABLE"
	# as the figures report has it: pasted, not rewritten
	awk -f "$TOP/scripts/rst-tables.awk" "$TABLE" | tee "${TABLE%.md}.rst"
}

main "$@"
