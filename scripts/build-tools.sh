#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace pieces: the XDP program the selftests load, and
# hugepool, the operator's tool (build/tools/hugepool), on the YNL C
# library of the kernel tree build/linux, whose netdev family it speaks.
#
# usage: scripts/build-tools.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The part of the kernel tree that YNL's Makefiles build from, at the same
# relative paths; they write next to their sources, so not in build/linux.
YNL_TREE=$BUILD/tools/ynl

build_xdp_pass() {
	local obj=$BUILD/tools/xdp_pass.o src=$TOP/tools/xdp/xdp_pass.c

	if [[ ! -f $obj || $src -nt $obj ]]; then
		clang -O2 -g -Wall -target bpf -I/usr/include/"$(gcc -dumpmachine)" \
			-c "$src" -o "$obj"
	fi
}

# Copy in what YNL needs, only files whose content changed, so that make
# redoes only what a change touches: the C library and the code generator,
# the netdev spec alone (generated/ builds every spec it finds) with the
# schemas that check it, and the uAPI header the code is compiled against.
ynl_tree() {
	local ynl=$KSRC/tools/net/ynl

	[[ -f $KSRC/Documentation/netlink/specs/netdev.yaml ]] ||
		die "no $KSRC: run scripts/prepare.sh"
	mkdir -p "$YNL_TREE/tools/net/ynl/lib" "$YNL_TREE/tools/net/ynl/generated" \
		"$YNL_TREE/Documentation/netlink/specs" "$YNL_TREE/include/uapi/linux"
	rsync -c "$ynl/Makefile.deps" "$ynl/ynl-gen-c.py" "$YNL_TREE/tools/net/ynl/"
	rsync -c "$ynl/lib/Makefile" "$ynl"/lib/*.[ch] "$ynl"/lib/*.py \
		"$YNL_TREE/tools/net/ynl/lib/"
	rsync -c "$ynl/generated/Makefile" "$YNL_TREE/tools/net/ynl/generated/"
	rsync -c "$KSRC"/Documentation/netlink/*.yaml "$YNL_TREE/Documentation/netlink/"
	rsync -c "$KSRC/Documentation/netlink/specs/netdev.yaml" \
		"$YNL_TREE/Documentation/netlink/specs/"
	rsync -c "$KSRC/include/uapi/linux/netdev.h" "$YNL_TREE/include/uapi/linux/"
	# ynl-gen-c.py finds the top of the tree by its MAINTAINERS file
	[[ -f $YNL_TREE/MAINTAINERS ]] || : > "$YNL_TREE/MAINTAINERS"
}

# lib/ynl.a and generated/protos.a (netdev-user.[ch]), as the tree's
# samples link them. The generator runs on Debian's python3, which has
# the yaml and jsonschema modules of scripts/deps.sh.
ynl_libs() {
	make -s -C "$YNL_TREE/tools/net/ynl/lib" SHELL=/bin/bash
	make -s -C "$YNL_TREE/tools/net/ynl/generated" SHELL=/bin/bash \
		TOOL="/usr/bin/python3 ../ynl-gen-c.py"
}

build_hugepool() {
	make -s -C "$TOP/tools/hugepool" YNL="$YNL_TREE/tools/net/ynl" \
		OUTPUT="$BUILD/tools/"
}

main() {
	mkdir -p "$BUILD/tools"
	build_xdp_pass
	ynl_tree
	ynl_libs
	build_hugepool
}

main "$@"
