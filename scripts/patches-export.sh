#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# For developers: write the commits of a work tree's branch (on top of the
# "pristine" tag of build/linux) back into patches/, keeping patches/series.
# Edit the hook series in a worktree (git -C build/linux worktree add
# ../patchdev -b hooks patched), commit or fixup+autosquash, then run this.
#
# usage: scripts/patches-export.sh WORKTREE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

wt=${1:?usage: $0 WORKTREE}
tmp=$(mktemp -d)
git -C "$wt" format-patch -q --zero-commit --no-signature -o "$tmp" pristine..HEAD
rm -f "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch
mv "$tmp"/*.patch "$TOP/patches/"
rmdir "$tmp"
missing=0
for p in "$TOP"/patches/[0-9]*.patch; do
	grep -qxF "$(basename "$p")" "$TOP/patches/series" ||
		{ log "not in patches/series: $(basename "$p")"; missing=1; }
done
exit $missing
