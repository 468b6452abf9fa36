#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace pieces the selftests load: the XDP program.
#
# usage: scripts/build-tools.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$BUILD/tools"
obj=$BUILD/tools/xdp_pass.o
src=$TOP/tools/xdp/xdp_pass.c
if [[ ! -f $obj || $src -nt $obj ]]; then
	clang -O2 -g -Wall -target bpf -I/usr/include/"$(gcc -dumpmachine)" \
		-c "$src" -o "$obj"
fi
