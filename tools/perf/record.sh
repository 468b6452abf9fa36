#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Record call stacks on the page pool refill path with perf record -g and
# fold them (tools/perf/stackfold.py) for a flame graph, machine-wide for
# SECONDS (default 10) or while COMMAND runs. Two recipes:
#   events  the stack of every refill a provider served (the events
#           mp_huge:mp_huge_refill and mp_cap:mp_cap_refill): who refills,
#           from which driver path, how often; one stack per refill
#   cpu     CPU time sampled at 999 Hz (cpu-clock, which works in a VM;
#           not while idle: no idle stack goes through page_pool), keeping
#           the stacks through page_pool's allocation entry points
#           (page_pool_alloc_netmems(), or page_pool_alloc_pages() into
#           which it may be inlined): where allocating, refills included,
#           spends its time, provider or page allocator
# Writes DIR/perf.data, DIR/perf.script and DIR/refill.folded ("stack
# count" lines, heaviest first), and prints the folded stacks. DIR must be
# a local file system (perf mmaps its output; 9p will not do); by default
# a new directory under /tmp. The window is perf's workload, a sleep or
# COMMAND, which perf starts once its events are enabled: killing that
# sleep (SIGTERM) ends the recording early and keeps it.
#
# usage: tools/perf/record.sh [-o DIR] [-t SECONDS] [-F HZ] events|cpu [-- COMMAND [ARGS...]]
#   -F HZ   cpu: samples per second and CPU (default 999)
# exit: 0; 1 if perf failed or no stack was recorded; 2 on a usage error
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '3,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# record MODE DIR HZ COMMAND...: perf record into DIR/perf.data while
# COMMAND runs
record() {
	local how
	case $1 in
	events) how=(-e mp_huge:mp_huge_refill -e mp_cap:mp_cap_refill) ;;
	cpu) how=(-e cpu-clock:I -F "$3") ;;
	esac
	# perf returns its workload's status: 143 is a sleep ended early
	perf record -q -a -g "${how[@]}" -o "$2/perf.data" -- "${@:4}" || (($? == 143))
}

# fold MODE DIR: perf script, folded, heaviest first
fold() {
	local grep=()
	[[ $1 != cpu ]] || grep=(--grep '^page_pool_alloc_(netmems|pages|frag_netmem|frag)$')
	perf script -i "$2/perf.data" > "$2/perf.script" 2>/dev/null
	"$HERE/stackfold.py" "${grep[@]}" < "$2/perf.script" > "$2/refill.folded"
}

main() {
	local dir="" cmd=(sleep 10) hz=999 mode
	while [[ $# -gt 0 ]]; do
		case $1 in
		-o) dir=${2:-}; [[ -n $dir ]] || usage; shift 2 ;;
		-t) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; cmd=(sleep "$2"); shift 2 ;;
		-F) hz=${2:-}; [[ $hz =~ ^[0-9]+$ ]] || usage; shift 2 ;;
		events|cpu) mode=$1; shift ;;
		--) shift; [[ $# -gt 0 ]] || usage; cmd=("$@"); break ;;
		*) usage ;;
		esac
	done
	[[ -n ${mode:-} ]] || usage
	[[ -n $dir ]] || dir=$(mktemp -d /tmp/refill-stacks.XXXXXX)
	mkdir -p "$dir"
	record "$mode" "$dir" "$hz" "${cmd[@]}" || { echo "record.sh: perf record failed" >&2; exit 1; }
	fold "$mode" "$dir" || { echo "record.sh: no stack in $dir/perf.data" >&2; exit 1; }
	echo "# $mode: $(awk '{ n += $NF } END { print n + 0 }' "$dir/refill.folded") samples in $(wc -l < "$dir/refill.folded") stacks; $dir/refill.folded"
	cat "$dir/refill.folded"
}

main "$@"
