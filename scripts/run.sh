#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: boot the x86_64 guest, put the providers on real rx queues,
# push traffic and print what happened (tools/demo.sh).
#
# usage: scripts/run.sh [--long] [seconds of traffic]
#   --long: make run-long, the whole tour (huge page scarcity, defaults)
# exit: the demo's status; 1 if the guest kernel logged a splat
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ksrc_for_guest
"$TOP/scripts/build-tools.sh"
# the guest's limit: the short tour takes about 6 minutes, the long one
# about 12 on a quiet machine; twice that on a loaded one fits
limit=900
[[ ${1:-} != --long ]] || limit=2400
log "booting the guest (software emulation; about a minute), then the tour, each phase timed"
rc=0
"$TOP/scripts/vm.sh" -t "$limit" -o "$VM_OUT/run" -- tools/demo.sh "$@" || rc=$?
# what the demo printed: the console between init and the command's end,
# without kernel messages (showing it decides nothing)
sed -n '/hugepool-vm: command exited/q; /Run .* as init process/,$p' \
	"$VM_OUT/run/console.log" | grep -v 'Run .* as init process' |
	grep -vE '^\[ *[0-9]+\.[0-9]+\] ' || true
"$TOP/scripts/logscan.sh" "$VM_OUT/run/console.log" || {
	log "the guest kernel logged a splat (above)"; exit 1; }
exit "$rc"
