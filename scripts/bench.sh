#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the page_pool microbenchmark (kunit/pp_bench.c). Single-CPU
# paths under UML, which runs kernel code natively, built without the
# debugging options; the two-CPU shared-binding figure in the x86_64 guest
# (multi-threaded TCG for real parallelism; emulated, so only ratios
# between policies mean anything). Table: build/results/bench.md, and
# bench.rst as the figures report has it (printed).
#
# The page allocator column is also measured on the pristine tree (tag
# "pristine" of build/linux: Debian's 6.12 without the hook series), with
# the same benchmark code added to it (kunit/pp_bench.c and its Kconfig
# entry, nothing of page_pool touched), in a worktree build/linux-pristine
# and build dir build/uml-bench-pristine, back to back with the patched
# run: what the hooks cost the path without a provider. ROUNDS (default 5)
# rounds of the two, which runs first alternating; the main table is the
# last patched run.
#
# usage: scripts/bench.sh [--no-smp]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

OUT=$RESULTS/bench.md
ROUNDS=${ROUNDS:-5}
[[ $ROUNDS =~ ^[1-9]$ ]] || die "ROUNDS: 1 to 9, not '$ROUNDS'"

# bench_uml TREE KUNITCONFIG BUILD_DIR LOG: the single-CPU benchmark
# built from TREE under UML, its log copied to LOG
bench_uml() {
	(cd "$1" && ./tools/testing/kunit/kunit.py run --kunitconfig="$2" \
		--build_dir="$3" --jobs="$JOBS" \
		--make_options CC="ccache gcc" --kernel_args pp_bench.run=1 \
		--timeout=1800 'pp_bench.pp_bench_paths_test' >/dev/null) || true
	cp "$3/test.log" "$4"
}

uml() {
	log "bench: UML build (build/uml-bench) and run"
	bench_uml "$KSRC" "$TOP/kunit/bench.kunitconfig" "$BUILD/uml-bench" \
		"$RESULTS/bench-uml.log"
}

PRISTINE=$BUILD/linux-pristine

# build/linux-pristine: the pristine tree with pp_bench.c and its Kconfig
# entry, nothing else
pristine_tree() {
	if ! git -C "$PRISTINE" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
	   [[ $(git -C "$PRISTINE" rev-parse HEAD) != $(git -C "$KSRC" rev-parse pristine) ]]; then
		rm -rf "$PRISTINE"
		git -C "$KSRC" worktree prune
		git -C "$KSRC" worktree add -q --detach -f "$PRISTINE" pristine
	fi
	rsync -c "$TOP/kunit/pp_bench.c" "$PRISTINE/net/core/pp_bench.c"
	grep -q PAGE_POOL_BENCH "$PRISTINE/net/Kconfig" || cat >> "$PRISTINE/net/Kconfig" <<-'EOF'

		config PAGE_POOL_BENCH
		    bool "page_pool microbenchmark (page allocator column only)"
		    depends on NET && KUNIT
		    select PAGE_POOL
	EOF
	# shellcheck disable=SC2016	# make's $(...), not the shell's
	grep -q pp_bench "$PRISTINE/net/core/Makefile" ||
		echo 'obj-$(CONFIG_PAGE_POOL_BENCH) += pp_bench.o' >> "$PRISTINE/net/core/Makefile"
}

uml_pristine() {
	log "bench: UML build of the pristine tree (build/uml-bench-pristine) and run $1"
	pristine_tree
	bench_uml "$PRISTINE" "$TOP/kunit/bench-pristine.kunitconfig" \
		"$BUILD/uml-bench-pristine" "$RESULTS/bench-uml-pristine-$1.log"
}

# The page allocator column of both kernels over the rounds: path,
# pristine and patched median [min-max], ratio of the medians
hook_cost() {
	echo "The page allocator column on the kernel without the hook series"
	echo "(pristine) and with it (patched), same benchmark code, $ROUNDS rounds"
	echo "of both back to back; ns per page, median of the rounds [min-max]:"
	echo
	echo "| path | pristine | patched | patched / pristine |"
	echo "|---|---:|---:|---:|"
	awk -F'|' '
		function sorted(s, a,   n, i, j, t) {
			n = split(s, a, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n
		}
		function med(s,   a, n) {
			n = sorted(s, a)
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function span(s,   a, n) {
			n = sorted(s, a)
			return sprintf("[%.2f-%.2f]", a[1], a[n])
		}
		FNR == 1 { pristine = FILENAME ~ /pristine/ }
		/pp_bench: [|] [a-z]/ && $3 ~ /[0-9]/ {
			path = $2; gsub(/^ +| +$/, "", path)
			if (!(path in seen)) { seen[path] = 1; order[++n] = path }
			if (pristine) p[path] = p[path] " " ($3 + 0)
			else q[path] = q[path] " " ($3 + 0)
		}
		END {
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (!(k in p) || !(k in q)) continue
				a = med(p[k]); b = med(q[k]); r = "-"
				if (a > 0) r = sprintf("%.2fx", b / a)
				printf "| %s | %.2f %s | %.2f %s | %s |\n", k, a, span(p[k]), b, span(q[k]), r
			}
		}' "$RESULTS"/bench-uml-pristine-*.log "$RESULTS"/bench-uml-patched-*.log
}

smp() {
	log "bench: x86_64 guest, 2 CPUs, multi-threaded TCG"
	"$TOP/scripts/build-x86.sh"
	"$TOP/scripts/vm.sh" --mt -t 1800 -o "$VM_OUT/bench" \
		-a "kunit.enable=1 kunit.filter_glob=pp_bench.pp_bench_smp_test pp_bench.run=1" \
		-- true || true
	cp "$VM_OUT/bench/console.log" "$RESULTS/bench-x86.log"
}

# the benchmark's lines of a log, each once ("budget not built in" comes
# once per round)
table() {
	sed -n 's/.*pp_bench: //p' "$1" | grep -v '^$' | awk '!seen[$0]++'
}

main() {
	local r
	mkdir -p "$RESULTS"
	rm -f "$RESULTS"/bench-uml-pristine-*.log "$RESULTS"/bench-uml-patched-*.log
	# which kernel runs first alternates: drift falls on both alike
	for ((r = 1; r <= ROUNDS; r++)); do
		((r % 2 == 0)) || uml_pristine "$r"
		uml
		cp "$RESULTS/bench-uml.log" "$RESULTS/bench-uml-patched-$r.log"
		((r % 2 == 1)) || uml_pristine "$r"
	done
	[[ ${1:-} == --no-smp ]] || smp
	{
		echo "# page_pool microbenchmark"
		echo
		echo "$(date -u +%Y-%m-%d), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
		echo "Reproduce: make bench (scripts/bench.sh). What each row times: kunit/pp_bench.c."
		echo "Ratios are against the page allocator (buddy) column, same run."
		echo
		table "$RESULTS/bench-uml.log"
		echo
		hook_cost
		if [[ -f $RESULTS/bench-x86.log ]]; then
			echo
			table "$RESULTS/bench-x86.log"
		fi
	} > "$OUT"
	# as the figures report has it: pasted, not rewritten
	awk -f "$TOP/scripts/rst-tables.awk" "$OUT" | tee "${OUT%.md}.rst"
}

main "$@"
