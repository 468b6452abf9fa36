#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the page_pool microbenchmark (kunit/pp_bench.c). Single-CPU
# paths under UML, which runs kernel code natively, built without the
# debugging options; the two-CPU shared-binding figure in the x86_64 guest
# (multi-threaded TCG for real parallelism; emulated, so only ratios
# between policies mean anything). Table: build/results/bench.md.
#
# usage: scripts/bench.sh [--no-smp]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

OUT=$RESULTS/bench.md

uml() {
	log "bench: UML build (build/uml-bench) and run"
	(cd "$KSRC" && ./tools/testing/kunit/kunit.py run \
		--kunitconfig="$TOP/kunit/bench.kunitconfig" \
		--build_dir="$BUILD/uml-bench" --jobs="$JOBS" \
		--make_options CC="ccache gcc" --kernel_args pp_bench.run=1 \
		--timeout=1800 'pp_bench.pp_bench_paths_test' >/dev/null) || true
	cp "$BUILD/uml-bench/test.log" "$RESULTS/bench-uml.log"
}

smp() {
	log "bench: x86_64 guest, 2 CPUs, multi-threaded TCG"
	"$TOP/scripts/build-x86.sh"
	"$TOP/scripts/vm.sh" --mt -t 1800 -o "$VM_OUT/bench" \
		-a "kunit.enable=1 kunit.filter_glob=pp_bench.pp_bench_smp_test pp_bench.run=1" \
		-- true || true
	cp "$VM_OUT/bench/console.log" "$RESULTS/bench-x86.log"
}

table() {
	sed -n 's/.*pp_bench: //p' "$1" | grep -v '^$'
}

main() {
	mkdir -p "$RESULTS"
	uml
	[[ ${1:-} == --no-smp ]] || smp
	{
		echo "# page_pool microbenchmark"
		echo
		echo "$(date -u +%Y-%m-%d), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
		echo "Reproduce: make bench (scripts/bench.sh). What each row times: kunit/pp_bench.c."
		echo "Ratios are against the page allocator (buddy) column, same run."
		echo
		table "$RESULTS/bench-uml.log"
		if [[ -f $RESULTS/bench-x86.log ]]; then
			echo
			table "$RESULTS/bench-x86.log"
		fi
	} > "$OUT"
	cat "$OUT"
}

main "$@"
