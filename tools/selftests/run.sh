#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run hugepool selftests one after the other, each one's KTAP output to
# RESULTS/<name>.ktap as well as stdout.
#
# usage: run.sh RESULTS test[:arg] [test[:arg]...]
#   e.g. run.sh /tmp/r veth_xdp:lifo nsim_hold
# exit: 0 if every test passed or skipped, 1 otherwise
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
results=$1
shift
mkdir -p "$results"
rc=0
for t in "$@"; do
	name=${t%%:*}
	arg=
	[[ $t == *:* ]] && arg=${t#*:}
	out=$results/${name}${arg:+-$arg}.ktap
	echo "# running $name $arg"
	"$dir/$name.sh" $arg 2>&1 | tee "$out"
	st=${PIPESTATUS[0]}
	[[ $st == 0 || $st == 4 ]] || rc=1
done
exit $rc
