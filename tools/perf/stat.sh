#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Count the memory providers' and page_pool's events machine-wide with
# perf stat, for SECONDS (default 10) or while COMMAND runs: how many
# refills and releases the providers served, huge pages added and grow
# failures, cap refills and crossings, and page_pool's own page holds and
# releases (which count the pools without a provider too). Run it while
# traffic flows; tools/perf/README.md says how to read the counts.
#
# usage: tools/perf/stat.sh [-I MS] [SECONDS | -- COMMAND [ARGS...]]
#   -I MS   print the counts every MS milliseconds as well
# exit: perf stat's status (that of COMMAND with one); 2 on a usage error
set -euo pipefail

EVENTS='mp_huge:*,mp_cap:*,page_pool:*'

usage() {
	sed -n '3,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local interval=() cmd=(sleep 10)
	while [[ $# -gt 0 ]]; do
		case $1 in
		-I) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; interval=(-I "$2"); shift 2 ;;
		--) shift; [[ $# -gt 0 ]] || usage; cmd=("$@"); break ;;
		[0-9]*) [[ $1 =~ ^[0-9]+$ && $# == 1 ]] || usage; cmd=(sleep "$1"); shift ;;
		*) usage ;;
		esac
	done
	exec perf stat -a -e "$EVENTS" "${interval[@]}" -- "${cmd[@]}"
}

main "$@"
