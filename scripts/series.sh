#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series: the whole work as an upstream-style patch series against
# Debian's pristine linux-source-6.12, in build/series/ (git format-patch;
# new files as file contents). The project's new files land where
# patches/series says "@files", split into one commit per concept, so that
# every commit of the series builds.
#
# Also checks that the series applies with git am to a fresh copy of the
# pristine tree (build/series-check), and builds net/core there.
#
# usage: scripts/series.sh [--no-build]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlock.sh"

WT=$BUILD/series-tree
OUT=$BUILD/series
GIT=(git -C "$WT" -c user.name="hugepool developers" -c user.email=hugepool@localhost
     -c advice.detachedHead=false)

# The new files, by commit: subject, then the project paths it adds.
COMMITS=(
"net: page_pool: add a registry of recycling policies, and LIFO|include/net/page_pool/pp_policy.h net/core/pp_policy.c policies/pp_policy_lifo.c net/core/mp_kunit.h"
"net: page_pool: add per-CPU and budget-limited recycling policies|policies/pp_policy_percpu.c policies/pp_policy_budget.c"
"net: page_pool: add the binding object and DMA helpers of readable providers|net/core/mp_core.h net/core/mp_core.c net/core/mp_dma.h net/core/mp_dma.c"
"net: page_pool: add the hugepage memory provider|include/net/page_pool/mp_huge.h include/net/page_pool/mp_trace.h include/trace/events/mp_huge.h net/core/mp_huge_priv.h net/core/mp_huge.c net/core/mp_huge_user.c"
"net: page_pool: add the memory-cap provider|include/net/page_pool/mp_cap.h include/trace/events/mp_cap.h net/core/mp_cap_priv.h net/core/mp_cap.c net/core/mp_cap_user.c"
"net: page_pool: control provider bindings over netlink, defaults per namespace|net/core/mp_nl.c net/core/mp_default.c"
"net: page_pool: add KUnit tests of the memory providers and a benchmark|kunit/mp_test.h kunit/mp_test.c kunit/mp_huge_test.c kunit/mp_huge_dma_test.c kunit/pp_policy_test.c kunit/mp_cap_test.c kunit/pp_bench.c kunit/mp_pm_test.c"
"Documentation: networking: describe page pool memory providers|Documentation/networking/page_pool_providers.rst Documentation/networking/page_pool_providers_guide.rst Documentation/networking/page_pool_providers_tracing.rst Documentation/networking/page_pool_providers_figures.rst"
)

tree_path() {
	case $1 in
	policies/*|kunit/*)	echo "net/core/${1#*/}" ;;
	*)			echo "$1" ;;
	esac
}

body() {
	case $1 in
	*registry*) cat <<'MSG'
Memory providers that own a reservation of pages need to decide which
free page goes out next and which released page to keep. Make that a
pluggable recycling policy, registered by name like TCP congestion
control: lookup with module autoload ("pp-policy-<name>"), a module
reference held by every store, net.core.pp_policy_default and a
read-only net.core.pp_policy_available. Policies store netmem references
only; page_pool bookkeeping stays in the (built-in) provider. LIFO, the
default, hands out the most recently released page first.
MSG
	;;
	*hugepage*) cat <<'MSG'
Reserve 2 MiB huge pages for rx queues, DMA-map each once per (device,
direction), and carve them into the order-0 pages page pools hand to
drivers. A binding serves one queue or several queues of a device,
outlives the pools created for them, grows from a worker up to a maximum
bounded machine-wide by net.core.mp_huge_limit_mb, and serves order-0
pages from the page allocator while no huge page is free. Only block
pages enter the recycling policy's store. A page still referenced
elsewhere when it comes back is lost to its huge page, but the binding
keeps a reference until the huge page goes back, so that the page never
returns to the page allocator under a live mapping. Whole huge pages go
back when all their pages are parked, or when an operator trims. Where
the device cannot map 2 MiB at once (swiotlb), pages are mapped as they
are handed out. Netlink (mp_huge_user.c) makes, changes and describes
bindings; debugfs has a read-only view.
MSG
	;;
	*netlink*) cat <<'MSG'
mp-bind, mp-binding-set, mp-unbind and mp-binding-get of the netdev
family: bindings for one or more rx queues, restarted at once by drivers
with queue management ops (all or nothing), pending until the next page
pool for the others; notifications on the mgmt group. The defaults a
page pool of an unbound queue gets (net.core.mp_default and the
reservation sizes) become per network namespace, start at none in a new
one, and are read-only in namespaces of other user namespaces. Bad
values are refused and change nothing.
MSG
	;;
	*KUnit*) cat <<'MSG'
On real page pools created for the rx queues of a registered netdev:
carving, batch refill, LIFO order, lost pages, destroy with pages in
flight, growth, fallback under fault injection, shared bindings, the
bypass of pools a provider cannot serve, unregister, trim, sysctl
validation, the default provider; DMA addresses (2 MiB and per-page
under swiotlb), directions, remapping, fallback mapping; the policy
registry, one contract over every policy, the budget, two pools of one
binding on two CPUs, per-CPU locality and hotplug; the memory cap,
its watermarks, device budget, live changes, shrinker and DMA. The
benchmark (pp_bench.run=1) times page_pool's paths for the page
allocator and each policy.
MSG
	;;
	*per-CPU*) cat <<'MSG'
Per-CPU magazines in front of a shared depot, for a binding that serves
queues whose NAPIs run on different CPUs; and a budget-limited LIFO that
declines releases beyond its budget, so that whole huge pages go back.
MSG
	;;
	*binding\ object*) cat <<'MSG'
What the providers of readable pages share: the binding object that
netlink names by id, serving one or several rx queues of a device and
outliving the page pools drawing from it, with its queues' active or
pending state; their workqueue; and DMA: page_pool unmaps only what it
mapped, so providers map per (device, direction) slot and unmap after
the pool's scrub, tracking pages mapped one by one.
MSG
	;;
	*memory-cap*) cat <<'MSG'
Order-0 pages with a hard cap on what a binding's rx queues hold, in
flight and cached together, a low watermark, an optional device budget
and a shrinker for the cached pages: for small or overcommitted VMs.
MSG
	;;
	*Documentation*) cat <<'MSG'
Objects, lifetimes, the per-page contract, who returns a page, DMA,
locking and control of the page pool memory providers, listed in the
networking index; an operator's
guide for a host with huge-page-backed rx queues and for a small VM with
capped rx memory, and a note on tracing the providers with bpftrace and
perf and on huge page scarcity (hugetlb, THP, fragmentation), every
listing from a real run.
MSG
	;;
	esac
}

# A document joins the networking index in the commit that adds it, after
# page_pool and in the order given, so that Sphinx finds it in a toctree
# at every commit. (Only here: the guest's tree does not build the docs,
# and the series is compared with it outside Documentation.)
doc_index() {
	local p idx=$WT/Documentation/networking/index.rst after=page_pool name
	for p in "$@"; do
		[[ $p == Documentation/networking/*.rst ]] || continue
		name=$(basename "$p" .rst)
		grep -qx "   $after" "$idx" || die "no '$after' in $idx"
		sed -i "/^   $after\$/a\   $name" "$idx"
		after=$name
	done
	[[ $after == page_pool ]] || "${GIT[@]}" add -f "$idx"
}

commit_files() {
	local g subject paths p dst
	for g in "${COMMITS[@]}"; do
		subject=${g%%|*}
		paths=${g#*|}
		for p in $paths; do
			dst=$(tree_path "$p")
			mkdir -p "$WT/$(dirname "$dst")"
			cp "$TOP/$p" "$WT/$dst"
			"${GIT[@]}" add -f "$dst"
		done
		# shellcheck disable=SC2086	# $paths: a list, as in the loop above
		doc_index $paths
		"${GIT[@]}" commit -q -F - <<-MSG
		$subject

		$(body "$subject")

		Signed-off-by: hugepool developers <hugepool@localhost>
		MSG
	done
}

check_all_placed() {
	local f
	(cd "$TOP" && git ls-files net include policies kunit Documentation |
		grep -v kunitconfig) |
	while read -r f; do
		grep -qF " $f" <<< " ${COMMITS[*]//|/ } " ||
			die "$f is in no commit of scripts/series.sh"
	done
}

main() {
	local p
	check_all_placed
	rm -rf "$WT" "$OUT"
	git -C "$KSRC" worktree prune
	git -C "$KSRC" worktree add -q --detach "$WT" pristine
	while read -r p; do
		if [[ $p == @files ]]; then
			commit_files
		else
			"${GIT[@]}" am -q --keep-cr "$TOP/patches/$p"
		fi
	done < <(grep -Ev '^(#|$)' "$TOP/patches/series")
	"${GIT[@]}" format-patch -q --zero-commit -o "$OUT" pristine..HEAD
	log "series: $(ls "$OUT" | wc -l) patches in $OUT"

	# the series must apply to the pristine Debian tree, and build
	"${GIT[@]}" checkout -q --detach pristine
	"${GIT[@]}" am -q "$OUT"/*.patch
	[[ -z $("${GIT[@]}" diff HEAD "$(git -C "$KSRC" rev-parse HEAD)" -- net include drivers) ]] ||
		die "the series differs from build/linux"
	log "series applies to pristine with git am and matches build/linux"
	if [[ ${1:-} != --no-build ]]; then
		make -s -C "$WT" O="$BUILD/series-build" ARCH=x86_64 defconfig >/dev/null
		"$WT/scripts/config" --file "$BUILD/series-build/.config" \
			-e PAGE_POOL_MP_HUGE -e PAGE_POOL_MP_CAP -m PP_POLICY_PERCPU \
			-m PP_POLICY_BUDGET -e VETH -e NETDEVSIM
		make -s -C "$WT" O="$BUILD/series-build" ARCH=x86_64 olddefconfig
		make -s -C "$WT" O="$BUILD/series-build" ARCH=x86_64 CC="ccache gcc" \
			-j"$JOBS" net/core/ drivers/net/veth.o drivers/net/netdevsim/
		log "series builds (net/core, veth, netdevsim on x86_64 defconfig)"
	fi
	git -C "$KSRC" worktree remove --force "$WT"
}

main "$@"
