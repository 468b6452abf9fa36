#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# KUnit under UML: build build/uml from build/linux with kunit/.kunitconfig
# and run it. The raw kernel log is left in build/results/kunit-uml.log.
#
# usage: scripts/kunit-uml.sh [kunit.py run options, e.g. a filter glob]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

mkdir -p "$RESULTS"
cd "$KSRC"
rc=0
./tools/testing/kunit/kunit.py run --kunitconfig="$TOP/kunit/.kunitconfig" \
	--build_dir="$UML_OUT" --jobs="$JOBS" --make_options CC="ccache gcc" \
	--timeout=900 "$@" || rc=$?
cp "$UML_OUT/test.log" "$RESULTS/kunit-uml.log" 2>/dev/null || true
exit $rc
