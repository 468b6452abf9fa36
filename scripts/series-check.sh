#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series-check: the per-patch checks netdev's patchwork runs (NIPA),
# on every patch of `make series`, in order, applied with git am to the
# pristine Debian tree and built with the x86_64 guest configuration
# (tinyconfig + kvm_guest.config + scripts/configs/x86_64-vm.config):
#
#   gcc         W=1 build with gcc (ccache) of what the patch affects: the
#               directories of the C files and Makefiles it touches, the
#               objects that include the headers it touches (from the
#               build's own dependency files), and after a Kconfig change
#               the whole scope (net/, drivers/net/)
#   clang       the same with LLVM=1 (ccache clang)
#   sparse      C=2 on every object the gcc build compiled
#   checkpatch  checkpatch.pl --strict, less the justified exceptions in
#               patches/checkpatch.exceptions
#   kdoc        kernel-doc -none -Wall on the C files it changes, and a
#               kernel-doc comment for every symbol it exports
#   docs        Sphinx (make htmldocs SPHINXDIRS=<dir>) of the
#               documentation directories it changes, netlink specs included
#   ynl         the generated netlink code is what ynl-regen.sh makes of
#               the specs
#   inline      no new "inline" in C files
#
# Compiler, sparse, kernel-doc and Sphinx warnings count when they are new:
# compared, line numbers dropped, with what the pristine tree says of the
# same files (compiler and sparse: a full build of the scope at pristine,
# kept in build/series-check/ until the tree or configuration changes).
#
# Each check says ok, warn (checkpatch CHECKs, new inline), fail, or "-"
# when the patch gives it nothing to look at. Logs and each check's
# findings: build/series-check/logs/. Exits 1 when a check fails or warns.
#
# usage: scripts/series-check.sh [--no-series]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

SC=$BUILD/series-check
WT=$SC/tree
OUT=$BUILD/series
SLOGS=$SC/logs
FRAG=$TOP/scripts/configs/x86_64-vm.config
EXCEPTIONS=$TOP/patches/checkpatch.exceptions
SCOPE=(net/ drivers/net/)
CHECKS=(gcc clang sparse checkpatch kdoc docs ynl inline)
# Debian's python3 (sparse, Sphinx, ply for checkpatch's SPDX check,
# PyYAML for YNL) before any other on PATH
export PATH=/usr/bin:$PATH

declare -A RES		# RES[nnnn.check] = ok | warn | fail | -
declare -A NOTE		# NOTE[nnnn.check] = one line of detail

usage() { echo "usage: $0 [--no-series]" >&2; exit 2; }

kmake() {
	local cc=$1
	local -a a=(-s -C "$WT" O="$SC/$cc" ARCH=x86_64 -j"$JOBS")
	shift
	if [[ $cc == clang ]]; then
		a+=(LLVM=1 CC="ccache clang")
	else
		a+=(CC="ccache gcc")
	fi
	make "${a[@]}" "$@"
}

# --- the tree and its two build directories --------------------------------

tree_reset() {
	if [[ ! -f $WT/.git ]]; then
		rm -rf "$WT"
		git -C "$KSRC" worktree prune
		git -C "$KSRC" worktree add -q --detach "$WT" pristine
		return
	fi
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	git -C "$WT" checkout -q -f --detach pristine
	git -C "$WT" clean -q -fd
}

merge_frag() {
	local cc=$1
	shift
	(cd "$SC/$cc" && "$WT/scripts/kconfig/merge_config.sh" -m -O "$SC/$cc" \
		.config "$@" >/dev/null)
	kmake "$cc" olddefconfig >/dev/null
}

# Configured once per compiler (and again when the fragment, the pristine
# tree or the compiler change); each run starts from the pristine .config.
configure() {
	local cc=$1 out=$SC/$1 sum
	sum=$({ cat "$FRAG" "$WT/kernel/configs/kvm_guest.config"
		git -C "$WT" rev-parse HEAD; "$cc" --version | head -1; } |
		sha256sum | cut -d' ' -f1)
	if [[ -f $out/.config.pristine && $(cat "$out/.sc-stamp" 2>/dev/null) == "$sum" ]]; then
		cmp -s "$out/.config" "$out/.config.pristine" ||
			cp "$out/.config.pristine" "$out/.config"
		return
	fi
	log "configuring $out ($cc: tinyconfig + kvm_guest + x86_64-vm)"
	rm -rf "$out"
	mkdir -p "$out"
	kmake "$cc" tinyconfig >/dev/null
	merge_frag "$cc" "$WT/kernel/configs/kvm_guest.config" "$FRAG"
	cp "$out/.config" "$out/.config.pristine"
	echo "$sum" > "$out/.sc-stamp"
}

# --- warnings ----------------------------------------------------------------

# Diagnostics of a build log, one per line, paths relative to the tree and
# without line numbers or code offsets, so that they compare across patches.
diagnostics() {
	grep -E ': (warning|error): |: Error [0-9]|\*\*\* ' "$1" |
		sed -E -e "s#$WT/##g" -e 's#(\.\./)+tree/##g' \
			-e 's/^([^: ]+):[0-9]+(:[0-9]+)?:/\1:/' \
			-e 's/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?//g' |
		sort -u || true
}

# Lines of $2 that are not in $1 (both sorted, unique).
new_lines() { comm -13 "$1" "$2"; }

errors_in() { grep -E ': error: |: Error [0-9]|\*\*\* ' "$1" || true; }

# --- the pristine baseline ---------------------------------------------------

baseline() {
	local cc=$1 key log=$SLOGS/0000-$1.log
	key=$({ cat "$SC/$cc/.sc-stamp"; sparse --version; } | sha256sum)
	if [[ -f $SC/baseline-$cc.key && $(cat "$SC/baseline-$cc.key") == "$key" ]]; then
		log "pristine $cc build of ${SCOPE[*]} (baseline kept)"
		kmake "$cc" -k W=1 "${SCOPE[@]}" > "$log" 2>&1 ||
			die "the pristine tree does not build with $cc: $log"
		return
	fi
	log "pristine $cc build of ${SCOPE[*]}: the baseline"
	rm -f "$SC/baseline-$cc.key"
	[[ $cc == gcc ]] && rm -f "$SC"/baseline-docs-*.warn
	local d
	for d in "${SCOPE[@]}"; do
		[[ -d $SC/$cc/$d ]] && find "$SC/$cc/$d" -name '*.o' -delete
	done
	kmake "$cc" -k W=1 "${SCOPE[@]}" > "$log" 2>&1 ||
		die "the pristine tree does not build with $cc: $log"
	diagnostics "$log" > "$SC/baseline-$cc.warn"
	if [[ $cc == gcc ]]; then
		log "pristine sparse of ${SCOPE[*]}"
		kmake gcc -k W=1 C=2 "${SCOPE[@]}" > "$SLOGS/0000-sparse.log" 2>&1 || true
		diagnostics "$SLOGS/0000-sparse.log" > "$SC/baseline-sparse.warn"
	fi
	echo "$key" > "$SC/baseline-$cc.key"
}

docs_baseline() {
	local dir=$1 log=$SLOGS/0000-docs-${1//\//_}.log
	[[ -f $SC/baseline-docs-${dir//\//_}.warn ]] && return
	log "pristine htmldocs of Documentation/$dir"
	docs_build "$dir" "$log"
	sphinx_warnings "$log" > "$SC/baseline-docs-${dir//\//_}.warn"
}

# --- one patch ---------------------------------------------------------------

changed() { git -C "$WT" diff --name-only --diff-filter="$1" HEAD~1 HEAD; }

touches_kconfig() { grep -qE '(^|/)Kconfig' <(changed AMD); }

# Objects of this build directory that include the given header, and whose
# source is in the tree and part of the configuration.
includers() {
	local out=$1 h=$2 cmd obj dir
	grep -rlF --include='.*.o.cmd' -- "tree/$h " "$out" 2>/dev/null |
	while read -r cmd; do
		dir=$(dirname "${cmd#"$out"/}")
		obj=$(basename "$cmd" .cmd)
		obj=$dir/${obj#.}
		[[ -f $WT/${obj%.o}.c ]] || continue
		configured "$out" "$obj" && echo "$obj"
	done
}

# Built into its directory's built-in.a or listed as a module.
configured() {
	local out=$1 obj=$2 dir
	dir=$(dirname "$obj")
	{ [[ -f $out/$dir/built-in.a ]] &&
	  grep -qxF -- "$(basename "$obj")" <(ar t "$out/$dir/built-in.a"); } ||
	{ [[ -f $out/$dir/modules.order ]] && grep -qxF -- "$obj" "$out/$dir/modules.order"; }
}

build_targets() {
	local cc=$1 f dirs=() objs=()
	touches_kconfig && dirs+=("${SCOPE[@]}")
	while read -r f; do
		case $f in
		tools/*|scripts/*|Documentation/*|samples/*) continue ;;
		*.c|*/Makefile|*/Kbuild)	dirs+=("$(dirname "$f")/") ;;
		*.h)	mapfile -t -O "${#objs[@]}" objs < <(includers "$SC/$cc" "$f") ;;
		esac
	done < <(changed AMD)
	printf '%s\n' "${dirs[@]}" "${objs[@]}" | grep -v '^$' | sort -u || true
}

check_build() {
	local n=$1 cc=$2 log=$SLOGS/$1-$2.log stamp targets rc=0 new
	targets=$(build_targets "$cc")
	if [[ -z $targets ]]; then
		RES[$n.$cc]=-
		[[ $cc == gcc ]] && RES[$n.sparse]=-
		return 0
	fi
	stamp=$SC/stamp
	touch "$stamp"
	# shellcheck disable=SC2086
	kmake "$cc" -k W=1 $targets > "$log" 2>&1 || rc=$?
	find "$SC/$cc" -name '*.o' -newer "$stamp" ! -path '*/scripts/*' ! -path '*/tools/*' |
		sed "s#^$SC/$cc/##" | while read -r o; do
			[[ -f $WT/${o%.o}.c ]] && echo "$o"
		done | sort > "$SC/$cc.rebuilt"
	new=$SLOGS/$n-$cc.new
	new_lines "$SC/baseline-$cc.warn" <(diagnostics "$log") > "$new"
	verdict "$n.$cc" "$rc" "$new" "$(wc -l < "$SC/$cc.rebuilt") objects"
	[[ $cc == gcc ]] && check_sparse "$n"
	return 0
}

check_sparse() {
	local n=$1 log=$SLOGS/$1-sparse.log rc=0 new=$SLOGS/$1-sparse.new
	if [[ ! -s $SC/gcc.rebuilt ]]; then
		RES[$n.sparse]=-
		return
	fi
	# shellcheck disable=SC2046
	kmake gcc -k W=1 C=2 $(cat "$SC/gcc.rebuilt") > "$log" 2>&1 || rc=$?
	new_lines "$SC/baseline-sparse.warn" <(diagnostics "$log") > "$new"
	verdict "$n.sparse" "$rc" "$new" "$(wc -l < "$SC/gcc.rebuilt") objects"
}

# verdict KEY RC NEWFILE DETAIL: fail on a failed command or new findings
verdict() {
	local key=$1 rc=$2 new=$3 detail=$4
	if [[ $rc != 0 ]] || grep -qE ': error: |\*\*\* ' "$new"; then
		RES[$key]=fail
		NOTE[$key]="exit $rc, $(wc -l < "$new") new: $new"
	elif [[ -s $new ]]; then
		RES[$key]=fail
		NOTE[$key]="$(wc -l < "$new") new: $new"
	else
		RES[$key]=ok
		NOTE[$key]=$detail
	fi
}

# checkpatch's findings as "TYPE|file|message", one per line
checkpatch_findings() {
	awk '
	/^(ERROR|WARNING|CHECK):/ { split($0, a, ":"); type = a[1] ":" a[2];
		msg = $0; sub(/^[A-Z]+:[A-Z0-9_]+: /, "", msg); file = ""; next_file = 1; next }
	next_file && /^#[0-9]+: FILE: / { f = $3; sub(/:[0-9]+:$/, "", f); file = f }
	next_file && /^$/ { if (type != "") print type "|" file "|" msg; type = ""; next_file = 0 }
	END { if (type != "") print type "|" file "|" msg }
	' "$1"
}

# An exception names the patch by subject, the checkpatch type and the file.
excepted() {
	local subject=$1 type=$2 file=$3
	[[ -f $EXCEPTIONS ]] || return 1
	awk -F'|' -v s="$subject" -v t="$type" -v f="$file" '
		/^#/ || NF < 4 { next }
		$1 == s && $2 == t && $3 == f { found = 1 }
		END { exit !found }' "$EXCEPTIONS"
}

check_checkpatch() {
	local n=$1 patch=$2 subject=$3 log=$SLOGS/$1-checkpatch.log
	local new=$SLOGS/$1-checkpatch.new t f m exc=0
	(cd "$WT" && scripts/checkpatch.pl --strict --show-types "$patch") > "$log" 2>&1 || true
	: > "$new"
	while IFS='|' read -r t f m; do
		if excepted "$subject" "$t" "$f"; then
			exc=$((exc + 1))
		else
			echo "$t|$f|$m" >> "$new"
		fi
	done < <(checkpatch_findings "$log")
	if grep -qE '^(ERROR|WARNING):' "$new"; then
		RES[$n.checkpatch]=fail
	elif [[ -s $new ]]; then
		RES[$n.checkpatch]=warn
	else
		RES[$n.checkpatch]=ok
	fi
	NOTE[$n.checkpatch]=$(grep -o 'total: .*checks' "$log" || echo '?')
	[[ $exc == 0 ]] || NOTE[$n.checkpatch]+=", $exc excepted"
	[[ -s $new ]] && NOTE[$n.checkpatch]+=": $new"
	return 0
}

kdoc_of() { (cd "$1" && "$WT/scripts/kernel-doc" -none -Wall "$2") 2>&1 | sed -E 's/:[0-9]+:/:/' | sort -u; }

# Symbols the patch exports (not KUnit-only ones) that have no kernel-doc
# comment in the tree.
undocumented_exports() {
	local sym
	git -C "$WT" diff HEAD~1 HEAD -- '*.c' |
		sed -nE 's/^\+EXPORT_SYMBOL(_GPL|_NS|_NS_GPL)?\(([A-Za-z0-9_]+).*/\2/p' |
	while read -r sym; do
		git -C "$WT" grep -qE "^ \* (struct |enum |union )?$sym(\(\))?( -|:)" -- '*.c' '*.h' ||
			echo "warning: $sym is exported without a kernel-doc comment"
	done
}

check_kdoc() {
	local n=$1 f new=$SLOGS/$1-kdoc.new pristine=$SC/pristine-src cnt=0
	: > "$new"
	while read -r f; do
		case $f in tools/*|scripts/*|Documentation/*|samples/*) continue ;; esac
		[[ $f == *.[ch] ]] || continue
		cnt=$((cnt + 1))
		if git -C "$WT" cat-file -e "pristine:$f" 2>/dev/null; then
			mkdir -p "$pristine/$(dirname "$f")"
			git -C "$WT" show "pristine:$f" > "$pristine/$f"
			new_lines <(kdoc_of "$pristine" "$f") <(kdoc_of "$WT" "$f") >> "$new"
		else
			kdoc_of "$WT" "$f" >> "$new"
		fi
	done < <(changed AM)
	undocumented_exports >> "$new"
	if [[ $cnt == 0 ]]; then
		RES[$n.kdoc]=-
	elif [[ -s $new ]]; then
		RES[$n.kdoc]=fail
		NOTE[$n.kdoc]="$(wc -l < "$new") new: $new"
	else
		RES[$n.kdoc]=ok
		NOTE[$n.kdoc]="$cnt files"
	fi
}

docs_build() {
	local dir=$1 log=$2
	kmake gcc SPHINXDIRS="$dir" htmldocs > "$log" 2>&1 || echo "*** htmldocs failed" >> "$log"
}

sphinx_warnings() {
	grep -E 'WARNING|ERROR|CRITICAL|\*\*\* ' "$1" |
		grep -v 'dot(1) not found' |
		sed -E -e "s#$WT/##g" -e 's/:[0-9]+:/:/' | sort -u || true
}

# Documentation directories that the rst files or netlink specs among the
# given paths render into
doc_dirs() {
	sed -nE -e 's#^Documentation/netlink/specs/.*#networking#p' \
		-e 's#^Documentation/([^/]+)/.*\.rst$#\1#p' | sort -u
}

check_docs() {
	local n=$1 dir new=$SLOGS/$1-docs.new dirs
	dirs=$(changed AMD | doc_dirs)
	if [[ -z $dirs ]]; then
		RES[$n.docs]=-
		return
	fi
	: > "$new"
	for dir in $dirs; do
		new_lines "$SC/baseline-docs-${dir//\//_}.warn" \
			<(docs_build "$dir" "$SLOGS/$n-docs-$dir.log"; sphinx_warnings "$SLOGS/$n-docs-$dir.log") >> "$new"
	done
	if [[ -s $new ]]; then
		RES[$n.docs]=fail
		NOTE[$n.docs]="$(wc -l < "$new") new: $new"
	else
		RES[$n.docs]=ok
		NOTE[$n.docs]=${dirs//$'\n'/ }
	fi
}

check_ynl() {
	local n=$1 log=$SLOGS/$1-ynl.log
	if ! changed AMD | grep -qE '^Documentation/netlink/specs/' &&
	   ! git -C "$WT" diff HEAD~1 HEAD | grep -q '^[ +]/\* YNL-GEN'; then
		RES[$n.ynl]=-
		return
	fi
	if (cd "$WT" && tools/net/ynl/ynl-regen.sh -f) > "$log" 2>&1 &&
	   git -C "$WT" diff --quiet; then
		RES[$n.ynl]=ok
	else
		git -C "$WT" diff --stat >> "$log"
		RES[$n.ynl]=fail
		NOTE[$n.ynl]="generated code differs from the spec: $log"
	fi
	git -C "$WT" checkout -q -f HEAD
}

check_inline() {
	local n=$1 cnt
	if ! grep -q '\.c$' <(changed AM); then
		RES[$n.inline]=-
		return
	fi
	cnt=$(git -C "$WT" diff HEAD~1 HEAD -- '*.c' | grep -cE '^\+.*\binline\b' || true)
	if [[ $cnt == 0 ]]; then
		RES[$n.inline]=ok
	else
		RES[$n.inline]=warn
		NOTE[$n.inline]="$cnt added lines with inline in C files"
	fi
}

# --- the run -----------------------------------------------------------------

report() {
	local p n c line
	printf '%-4s  %-56s' "" "patch"
	printf ' %-10s' "${CHECKS[@]}"
	echo
	for p in "$OUT"/[0-9]*.patch; do
		n=$(basename "$p" | cut -c1-4)
		printf '%-4s  %-56.56s' "$n" "$(subject_of "$p")"
		for c in "${CHECKS[@]}"; do
			printf ' %-10s' "${RES[$n.$c]:-?}"
		done
		echo
	done
	echo
	for p in "$OUT"/[0-9]*.patch; do
		n=$(basename "$p" | cut -c1-4)
		for c in "${CHECKS[@]}"; do
			line=${NOTE[$n.$c]:-}
			[[ -z $line ]] || echo "$n $c: $line"
		done
	done
}

subject_of() {
	sed -n '/^Subject: /{s/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//;N;s/\n / /;s/\n.*//;p;q}' "$1"
}

main() {
	local p n subject cc bad=0 start=$SECONDS
	[[ $# -le 1 ]] || usage
	case ${1:-} in
	--no-series)	;;
	'')		"$TOP/scripts/series.sh" --no-build ;;
	*)		usage ;;
	esac
	[[ -n $(ls "$OUT"/[0-9]*.patch 2>/dev/null) ]] || die "no series in $OUT: run make series"
	mkdir -p "$SC"
	rm -rf "$SLOGS" "$SC/pristine-src"
	mkdir -p "$SLOGS"
	tree_reset
	for cc in gcc clang; do
		configure "$cc"
		baseline "$cc"
	done
	for d in $(for p in "$OUT"/[0-9]*.patch; do git -C "$WT" apply --numstat "$p"; done |
		   cut -f3 | doc_dirs); do
		docs_baseline "$d"
	done

	for p in "$OUT"/[0-9]*.patch; do
		n=$(basename "$p" | cut -c1-4)
		subject=$(subject_of "$p")
		log "$n $subject"
		git -C "$WT" am -q --keep-cr "$p" || die "$p does not apply"
		if touches_kconfig; then
			for cc in gcc clang; do
				merge_frag "$cc" "$FRAG"
			done
		fi
		for cc in gcc clang; do
			check_build "$n" "$cc"
		done
		check_checkpatch "$n" "$p" "$subject"
		check_kdoc "$n"
		check_docs "$n"
		check_ynl "$n"
		check_inline "$n"
	done
	report | tee "$SC/report.txt"
	grep -qE ' (fail|warn) ' <(sed -n '2,/^$/p' "$SC/report.txt") && bad=1
	log "series-check: $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s," \
		"$([[ $bad == 0 ]] && echo clean || echo 'NOT clean'); report in $SC/report.txt"
	return $bad
}

main "$@"
