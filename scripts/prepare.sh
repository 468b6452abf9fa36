#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prepare build/linux: Debian's pristine 6.12 source as a git repo (tag
# "pristine"), each patch of patches/series as its own commit (tag
# "patched"), then the project's new files in one commit on top.
#
# Idempotent and incremental: an unchanged series is not re-applied, and
# only project files whose content changed are rewritten, so make rebuilds
# only what they touch. A changed series re-prepares from pristine.
#
# usage: scripts/prepare.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TARBALL=/usr/src/linux-source-6.12.tar.xz
GIT=(git -C "$KSRC" -c user.name=hugepool -c user.email=hugepool@localhost
     -c advice.detachedHead=false)

src_version() { dpkg-query -W -f='${Version}' linux-source-6.12; }

# Map a project file to its place in the kernel tree.
tree_path() {
	case $1 in
	policies/*.c|kunit/*.c|kunit/*.h)	echo "net/core/${1#*/}" ;;
	*)			echo "$1" ;;
	esac
}

project_files() {
	(cd "$TOP" && git ls-files --cached --others --exclude-standard \
		net include policies kunit Documentation 2>/dev/null |
		grep -Ev '(\.kunitconfig|\.md)$' | while read -r f; do
			[[ -f $f ]] && echo "$f"
		done)
}

pristine() {
	local ver tmp have
	ver=$(src_version)
	have=$(cat "$KSRC/.git/hugepool-source" 2>/dev/null || true)
	[[ $have == "$ver" ]] && return
	# A prepared tree stays what it is: another checkout (or apt) may have
	# changed /usr/src since, and a silent switch rebuilds every kernel.
	if [[ -n $have && -z ${HP_REPREPARE:-} ]]; then
		log "WARNING: keeping $KSRC at $have (installed: $ver);" \
			"HP_REPREPARE=1 switches to the installed one"
		return
	fi
	[[ -f $TARBALL ]] || die "$TARBALL missing: run scripts/deps.sh"
	log "unpacking linux-source-6.12 $ver into $KSRC"
	rm -rf "$KSRC" "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	tar -C "$KSRC.tmp" -xJf "$TARBALL"
	tmp=$(echo "$KSRC.tmp"/linux-source-*)
	mv "$tmp" "$KSRC"
	rmdir "$KSRC.tmp"
	"${GIT[@]}" init -q
	# Debian's .gitignore ignores the whole top level: add by force.
	"${GIT[@]}" add -f -A
	"${GIT[@]}" commit -q -m "Linux $(make -s -C "$KSRC" kernelversion) (Debian linux-source-6.12 $ver)"
	"${GIT[@]}" tag -f pristine >/dev/null
	echo "$ver" > "$KSRC/.git/hugepool-source"
	rm -f "$KSRC/.git/hugepool-series"
}

series_patches() { grep -Ev '^(#|@|$)' "$TOP/patches/series"; }

series_sum() {
	(cd "$TOP/patches" && cat series $(series_patches)) | sha256sum | cut -d' ' -f1
}

apply_series() {
	local sum p
	sum=$(series_sum)
	[[ $(cat "$KSRC/.git/hugepool-series" 2>/dev/null) == "$sum" ]] && return
	log "applying patches/series to pristine"
	"${GIT[@]}" checkout -q -f -B hugepool pristine
	"${GIT[@]}" clean -q -fdx
	while read -r p; do
		"${GIT[@]}" am -q --keep-cr "$TOP/patches/$p" ||
			{ "${GIT[@]}" am --abort; die "patch $p does not apply"; }
	done < <(series_patches)
	"${GIT[@]}" tag -f patched >/dev/null
	echo "$sum" > "$KSRC/.git/hugepool-series"
	: > "$KSRC/.git/hugepool-files"
}

# Copy changed project files in (rsync -c keeps untouched files' mtimes),
# remove the ones that left the project, and fold them into one commit.
place_files() {
	local f dst old new
	old=$KSRC/.git/hugepool-files
	new=$(mktemp)
	project_files | while read -r f; do
		dst=$(tree_path "$f")
		mkdir -p "$KSRC/$(dirname "$dst")"
		rsync -c "$TOP/$f" "$KSRC/$dst"
		echo "$dst"
	done | sort > "$new"
	touch "$old"
	comm -23 "$old" "$new" | while read -r dst; do
		rm -f "$KSRC/$dst"
	done
	mv "$new" "$old"

	"${GIT[@]}" add -f -A -- $(cat "$old") >/dev/null 2>&1 || true
	"${GIT[@]}" add -u
	[[ -n $("${GIT[@]}" status --porcelain --untracked-files=no) ]] || return 0
	if [[ $("${GIT[@]}" rev-parse HEAD) == $("${GIT[@]}" rev-parse patched) ]]; then
		"${GIT[@]}" commit -q -m "hugepool: add the project's new files"
	else
		"${GIT[@]}" commit -q --amend --no-edit
	fi
}

pristine
apply_series
place_files
log "prepared $KSRC (Linux $(make -s -C "$KSRC" kernelversion), Debian $(cat "$KSRC/.git/hugepool-source"), $(series_patches | wc -l) patches)"
