#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The observability tools against real traffic: every bpftrace tool of
# tools/bpftrace and the perf recipes of tools/perf, run in the guest while
# iperf3 crosses a veth pair (native XDP on the receiver, so its rx queues
# use page pools), and what they print checked against the bindings' own
# counters (mp-binding-get, through build/tools/hugepool show):
#
#  1. rx queues 0-1 of vb bound to a hugepage binding (1 block, max 8, the
#     machine-wide limit 2 blocks), queues 2-3 left on the page allocator;
#     refill-latency.bt, release.bt, blocks.bt and refill-cost.bt at once
#     while the receiver stops reading for a while (its sockets fill, the
#     pools refill from the provider, it grows into the limit and falls
#     back), then resumes; a receiver splices into a pipe (its pages come
#     back to page_pool still referenced: lost); the pools are destroyed
#     and the binding trimmed: histograms with the expected keys, refills,
#     releases, parks, lost pages (and their stacks), blocks added and
#     returned, grow failures and fallbacks equal to the counters' change
#     (within TOL);
#  2. the perf recipes on the same binding: perf stat's counts equal the
#     counters' change, perf record's folded stacks hold one stack per
#     refill, through page_pool_alloc_netmems() into the provider;
#  3. a memory-cap binding (512 pages) under the same traffic, its cap then
#     lowered and its cache shrunk: cap.bt's cap hits, crossings and pages
#     shrunk equal the counters';
#  4. no provider bound: the provider's checks of 1 and 2 must fail on
#     what the tools print then (the page allocator still refills).
#
# usage: trace_tools.sh      (root, hugepool kernel, bpftrace and perf)
#   HP_TRACE_PHASES="bpftrace perf cap negative": only those phases
#   HP_TRACE_KEEP=DIR: the tools' outputs are copied to DIR at the end
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HP=$HP_BUILD/tools/hugepool
BT=$HP_TOP/tools/bpftrace
PERF=$HP_TOP/tools/perf
SECS=${HP_TRAFFIC_SECS:-14}
STOP=${HP_STOP_SECS:-6}
NET=10.96.0
# counts may differ by this much (per cent, at least 2): events at the
# edges of a snapshot
TOL=5
CAP=512
declare -A BT_PID=()

hpool() { ip netns exec "$HP_NSB" "$HP" "$@"; }

# snapshot FILE: every binding of vb and its counters (mp-binding-get)
snapshot() { hpool show vb > "$1"; }

# counter FILE ID KEY: a counter of binding ID in a snapshot
counter() {
	awk -v id="$2:" -v key="$3" '
		$1 == "binding" { cur = ($2 == id) }
		cur && $1 == key { print $2; exit }' "$1"
}

# limit_hit: binding HUGE failed to grow for the machine-wide limit since
# the snapshot before
limit_hit() {
	local now before
	snapshot "$HP_TMP/now"
	now=$(counter "$HP_TMP/now" "$HUGE" limit-hits)
	before=$(counter "$HP_TMP/before" "$HUGE" limit-hits)
	((${now:-0} > ${before:-0}))
}

# stalled UNTIL: traffic for 40 s, its receiver stopped until UNTIL
# succeeds, at most until 4 s before the sender stops; fails if UNTIL
# never did
stalled() {
	local STALL_UNTIL=$1 SECS=40 STALL_MET=0
	traffic && ((STALL_MET))
}

# delta ID KEY: the change of a counter between before and after
delta() {
	local a b
	a=$(counter "$HP_TMP/before" "$1" "$2")
	b=$(counter "$HP_TMP/after" "$1" "$2")
	echo $((${b:-0} - ${a:-0}))
}

# agree DESC A B: A equals B within TOL per cent (at least 2)
agree() {
	local desc=$1 a=$2 b=$3 d tol
	hp_log "$desc: tool $a, counters $b"
	d=$((a > b ? a - b : b - a))
	tol=$(((b < 0 ? -b : b) * TOL / 100))
	((tol >= 2)) || tol=2
	if [[ $a =~ ^-?[0-9]+$ && $b =~ ^-?[0-9]+$ ]] && ((d <= tol)); then
		hp_ok "$desc"
	else
		hp_not_ok "$desc"
		return 1
	fi
}

# bt_start TOOL [ARG]: tools/bpftrace/TOOL.bt in the background, named
# TOOL[-ARG], its output in $HP_TMP/TOOL[-ARG].out
bt_start() {
	local name=$1${2:+-$2}
	bpftrace "$BT/$1.bt" "${@:2}" > "$HP_TMP/$name.out" 2>&1 &
	BT_PID[$name]=$!
	hp_cleanup_add "bt $name" "kill -9 $!"
}

bt_ready() {
	local t
	for t in "$@"; do
		grep -q "Hit Ctrl-C" "$HP_TMP/$t.out" || return 1
	done
}

# bt_attach NAME...: wait until each tool printed its banner (bpftrace
# prints it from BEGIN, once every probe is attached)
bt_attach() {
	local t
	if hp_wait 400 bt_ready "$@"; then
		return 0
	fi
	for t in "$@"; do
		hp_dump "$HP_TMP/$t.out"
	done
	return 1
}

# bt_stop NAME...: Ctrl-C, as a user would: the tools print their maps
# and end. A tool that missed it gets another every 10 s
# (hp_interrupted); one still running 120 s (wall clock) after the first
# fails the check, with what it was doing, and is killed.
bt_stop() {
	local t p rc=0 end=$((SECONDS + 120))
	for t in "$@"; do
		kill -INT "${BT_PID[$t]}"
	done
	for t in "$@"; do
		p=${BT_PID[$t]}
		if ! hp_interrupted "$p" "$end"; then
			hp_log "bpftrace $t (pid $p) still running 120 s after Ctrl-C:" \
				"wchan $(< "/proc/$p/wchan")"
			hp_dump "/proc/$p/stack" 2>/dev/null
			tail -n 5 "$HP_TMP/$t.out" | hp_dump -
			kill -9 "$p"
			rc=1
		fi
		wait "$p" || rc=1
		hp_cleanup_drop "bt $t"
	done
	return $rc
}

# show NAME: a tool's output as diagnostics, without the per-second lines
show() {
	hp_log "--- $1"
	grep -v '^$' "$HP_TMP/$1.out" | head -n 60 | hp_dump -
}

# sum FILE MAP [KEY]: the sum of the values of @MAP[KEY...] (KEY: the
# first key or keys, "1, store"; "-" for a map without keys), as bpftrace
# prints them at exit
sum() {
	awk -v m="$(map_prefix "$2" "${3:-}")" 'index($0, m) == 1 { n += $NF } END { print n + 0 }' "$1"
}

map_prefix() {
	if [[ $2 == - ]]; then
		echo "@$1:"
	else
		echo "@$1[$2"
	fi
}

# hist FILE MAP [KEY]: the number of values in the histograms @MAP[KEY...]
hist() {
	awk -v m="$(map_prefix "$2" "${3:-}")" '
		/^@/ { in_ = index($0, m) == 1; next }
		in_ && /^[[(]/ { split($0, a, "|"); k = split(a[1], w, " "); n += w[k] }
		END { print n + 0 }' "$1"
}

# keys FILE MAP: the keys of @MAP, one a line
keys() {
	sed -n "s/^@$2\[\(.*\)\]:.*/\1/p" "$1" | sort -u
}

# Traffic through the pair for SECS; the receiver stops reading from 2 s in
# for STOP s, so that its sockets hold pages and the pools refill, then
# resumes and the pages come back in a burst. With STALL_UNTIL (a command),
# the receiver stays stopped until that command succeeds (STALL_MET=1), at
# most until 4 s before the sender stops: how much the stopped sockets
# hold depends on the guest's speed.
# The connections end and settle before it returns.
# listening [PORT]: a server listens on PORT (iperf3's 5201) in the receiver
listening() { ip netns exec "$HP_NSB" ss -Hltn | grep -q ":${1:-5201} "; }

# process $1 ended (a zombie not yet waited for counts)
gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[[ -z $st || $st == Z* ]]
}

traffic() {
	local server client bytes
	ip netns exec "$HP_NSB" iperf3 -s -1 -B $NET.2 > /dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_wait 20 listening || hp_log "iperf3 server not listening"
	ip netns exec "$HP_NSA" iperf3 -c $NET.2 -t "$SECS" -P 8 -J > "$HP_TMP/iperf.json" 2>&1 &
	client=$!
	hp_cleanup_add client "kill -9 $client"
	sleep 2
	kill -STOP $server
	sleep "$STOP"
	local stopped=$SECONDS
	if [[ -n ${STALL_UNTIL:-} ]]; then
		hp_until $((SECONDS + SECS - STOP - 6)) "$STALL_UNTIL" && STALL_MET=1
		hp_log "receiver resumed after $((STOP + SECONDS - stopped)) s," \
			"$STALL_UNTIL $( ((STALL_MET)) && echo true || echo 'still false')"
	fi
	kill -CONT $server
	wait $client
	# a client that never connected leaves the server waiting
	hp_wait 10 gone $server || kill -9 $server
	wait $server
	hp_cleanup_drop server
	hp_cleanup_drop client
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	bytes=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$HP_TMP/iperf.json" 2>/dev/null || echo 0)
	hp_log "iperf3: $((bytes / 1024)) KiB received in ${SECS}s"
	[[ $bytes -gt 0 ]]
}

xdp_on() { ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp; }

# xps VALUE: the CPUs (hex mask, 0 for none) that send on va's tx queue 0,
# so vb's rx queue 0 (veth receives on the queue its peer sent on)
xps() {
	ip netns exec "$HP_NSA" sh -c "echo $1 > /sys/class/net/va/queues/tx-0/xps_cpus"
}

# Pages lost: a receiver splices 4 MiB into a pipe (splice_hold.py), on
# vb's bound rx queue 0 (XPS puts every CPU's sends on va's tx queue 0);
# the pipe holds references to pages that page_pool then lets go of.
splice_lost() {
	local server out=$HP_TMP/splice.out rc=0
	xps "$(printf '%x' $(((1 << $(getconf _NPROCESSORS_ONLN)) - 1)))" || return 1
	hp_cleanup_add xps "xps 0"
	ip netns exec "$HP_NSB" /usr/bin/python3 "$HP_TOP/tools/selftests/splice_hold.py" \
		serve 5202 > "$out" 2>&1 &
	server=$!
	hp_cleanup_add splice "kill -9 $server"
	hp_wait 20 listening 5202 || hp_log "splice receiver not listening"
	ip netns exec "$HP_NSA" /usr/bin/python3 "$HP_TOP/tools/selftests/splice_hold.py" \
		send $NET.2 5202 $((4 << 20)) || rc=1
	# a sender that never connected leaves the receiver in accept()
	hp_wait 70 gone $server || kill -9 $server
	wait $server
	hp_cleanup_drop splice
	xps 0
	hp_cleanup_drop xps
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	hp_log "splice receiver:"
	hp_dump "$out"
	((rc == 0)) && grep -Eq '^spliced [1-9][0-9]* read [0-9]+$' "$out"
}

# release.bt's @lost: kernel stacks of binding $1 that gave pages back
# with a reference elsewhere, through page_pool (it is a real stack)
lost_stacks() {
	local f=$HP_TMP/release.out
	awk -v b="@lost[$1," 'index($0, b) == 1 { on = 1 } on { print } /^\]:/ { on = 0 }' \
		"$f" | grep -q page_pool
}

# the pools of vb go, every page they held comes back to its provider
xdp_off() {
	ip -n "$HP_NSB" link set dev vb xdpdrv off
	hp_flush_defer_lists
}

setup() {
	hp_veth_pair $NET 4 || return 1
	# room for several huge pages' worth in the receiver's sockets
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
}

# a histogram for binding $1 in refill-latency's output, with values
refill_hist() { (($(hist "$HP_TMP/refill-latency.out" refill_ns "$1, ") > 0)); }

# the sources refill-latency found are known ones, and reserve and
# fallback are among them (the limit made the provider fall back)
refill_sources() {
	local s
	s=$(keys "$HP_TMP/refill-latency.out" refills | sed "s/^$1, //" | tr '\n' ' ')
	hp_log "refill-latency sources of binding $1: $s"
	[[ $s =~ ^((store|reserve|fallback|empty)\ )+$ && " $s" == *" reserve "* &&
		" $s" == *" fallback "* ]]
}

# refill-latency.bt queue: histograms of vb's queues 0 and 1 only
bound_queues() {
	local q
	q=$(keys "$HP_TMP/refill-latency-queue.out" refill_ns_queue | tr '\n' ' ')
	hp_log "refill-latency queue keys: $q"
	[[ $q =~ ^($1,\ [01],\ [a-z]+\ )+$ ]]
}

# release.bt printed per-second lines with an outcome of binding $1
release_per_second() {
	grep -q "releases in the last second" "$HP_TMP/release.out" &&
		grep -q "^@\[$1, \(kept\|parked\|lost\|given_back\)\]: " "$HP_TMP/release.out"
}

# blocks.bt's timeline: a grown block and a grow failure of binding $1
blocks_timeline() {
	grep -Eq "^[0-9]+ +$1 +add +grown " "$HP_TMP/blocks.out" &&
		grep -Eq "^[0-9]+ +$1 +grow-fail +limit " "$HP_TMP/blocks.out"
}

# refill-cost.bt: both sides have a histogram with values
cost_both_sides() {
	local f=$HP_TMP/refill-cost.out
	(($(hist "$f" ns_per_page_page_allocator -) > 0 &&
		$(hist "$f" ns_per_page_mp_huge -) > 0))
}

# The bpftrace tools on a hugepage binding of queues 0-1
bpftrace_huge() {
	local id tools=(refill-latency release blocks refill-cost) f ifindex
	hp_sysctl_default net.core.mp_huge_limit_mb=4
	id=$(hpool bind vb 0-1 huge blocks 1 max 8 2>/dev/null) ||
		hp_fail_all "hugepool bind vb 0-1 huge refused"
	HUGE=$id
	hp_log "hugepage binding $id on vb rx queues 0-1"
	xdp_on || hp_fail_all "no XDP on vb"
	for f in "${tools[@]}"; do
		bt_start "$f"
	done
	bt_start refill-latency queue
	tools+=(refill-latency-queue)
	hp_check "bpftrace: ${tools[*]} attached" bt_attach "${tools[@]}" ||
		hp_fail_all "bpftrace did not attach"
	snapshot "$HP_TMP/before"
	hp_check "traffic through vb (receiver stopped until the limit is hit)" \
		stalled limit_hit
	hp_check "a receiver spliced into a pipe on rx queue 0" splice_lost
	hp_log "XDP off, a trim, the counters, then Ctrl-C to the tools"
	xdp_off
	hpool set "$id" trim > /dev/null
	sleep 1
	snapshot "$HP_TMP/after"
	hp_check "bpftrace: the tools ended on Ctrl-C" bt_stop "${tools[@]}"
	grep -A30 "^binding $id:" "$HP_TMP/after" | hp_dump -
	for f in "${tools[@]}"; do
		show "$f"
	done

	f=$HP_TMP/refill-latency.out
	hp_check "refill-latency: a histogram for binding $id" refill_hist "$id"
	agree "refill-latency: the histograms hold every refill" \
		"$(hist "$f" refill_ns "$id, ")" "$(sum "$f" refills "$id, ")"
	agree "refill-latency: refills = refills counter" \
		"$(sum "$f" refills "$id, ")" "$(delta "$id" refills)"
	hp_check "refill-latency: known sources, reserve and fallback among them" \
		refill_sources "$id"
	f=$HP_TMP/refill-latency-queue.out
	ifindex=$(hp_ifindex "$HP_NSB" vb)
	agree "refill-latency queue: refills of vb = refills counter" \
		"$(sum "$f" refills_queue "$ifindex, ")" "$(delta "$id" refills)"
	hp_check "refill-latency queue: only the bound rx queues 0-1" bound_queues "$ifindex"

	f=$HP_TMP/release.out
	agree "release: releases = releases counter" \
		"$(sum "$f" total "$id, ")" "$(delta "$id" releases)"
	agree "release: parked = parks counter" \
		"$(sum "$f" total "$id, parked]")" "$(delta "$id" parks)"
	agree "release: lost = pages-lost counter" \
		"$(sum "$f" total "$id, lost]")" "$(delta "$id" pages-lost)"
	hp_expect "release: pages lost to the pipe" "$(delta "$id" pages-lost)" -gt 0
	hp_check "release: the stacks that gave lost pages back" lost_stacks "$id"
	hp_check "release: per-second outcomes of binding $id" release_per_second "$id"

	f=$HP_TMP/blocks.out
	hp_check "blocks: the timeline shows a block grown and a grow failure (limit)" \
		blocks_timeline "$id"
	agree "blocks: added - returned = change of blocks" \
		$(($(sum "$f" blocks "$id, add") - $(sum "$f" blocks "$id, return"))) \
		"$(delta "$id" blocks)"
	agree "blocks: returned = blocks-returned counter" \
		"$(sum "$f" blocks "$id, return")" "$(delta "$id" blocks-returned)"
	agree "blocks: grow failures (limit) = limit-hits counter" \
		"$(sum "$f" grow_fail "$id, limit]")" "$(delta "$id" limit-hits)"
	agree "blocks: grow failures (nomem) = grow-failures counter" \
		"$(sum "$f" grow_fail "$id, nomem]")" "$(delta "$id" grow-failures)"
	agree "blocks: fallback pages = fallbacks counter" \
		"$(sum "$f" fallback_pages "$id]")" "$(delta "$id" fallbacks)"
	hp_expect "blocks: the provider fell back (pages)" "$(delta "$id" fallbacks)" -gt 0

	f=$HP_TMP/refill-cost.out
	hp_check "refill-cost: page allocator and mp_huge side by side" cost_both_sides
	agree "refill-cost: mp_huge refills = refills counter" \
		"$(sum "$f" refills_mp_huge -)" "$(delta "$id" refills)"
}

# perf stat's count of an event
pstat() {
	awk -v ev="$2" '$2 == ev { gsub(",", "", $1); print $1; found = 1 }
		END { if (!found) print "none" }' "$1"
}

# perf stat listed every provider and page_pool event
pstat_keys() {
	local ev
	for ev in mp_huge:mp_huge_refill mp_huge:mp_huge_release mp_huge:mp_huge_block \
		mp_huge:mp_huge_grow_fail mp_cap:mp_cap_refill mp_cap:mp_cap_throttle \
		mp_cap:mp_cap_shrink page_pool:page_pool_state_hold \
		page_pool:page_pool_state_release page_pool:page_pool_mp_bypass; do
		[[ $(pstat "$1" "$ev") =~ ^[0-9]+$ ]] || { hp_log "no $ev"; return 1; }
	done
}

# every folded stack is a refill of the provider through page_pool's
# allocation entry (page_pool_alloc_netmems, which the compiler may have
# folded into page_pool_alloc_pages and page_pool_alloc_frag_netmem)
stacks_through() {
	local n bad
	n=$(wc -l < "$1")
	bad=$(grep -vcE ';page_pool_alloc_(netmems|pages|frag_netmem)(;.*)?;mp_huge_alloc_netmems[; ]' "$1")
	hp_log "$n stacks, $bad not through page_pool_alloc_* into mp_huge_alloc_netmems"
	((n > 0 && bad == 0))
}

# folded stacks: lines of "frame;frame... count"
folded_ok() {
	[[ -s $1 ]] && ! grep -qvE '^[^ ]+(;[^ ;]+)* [0-9]+$' "$1"
}

# with traffic: a perf recipe (RUN...) in the background, its window
# exactly the traffic's. perf enables its events, then starts its workload
# (a sleep): traffic starts once the sleep runs, and the sleep is ended
# once the traffic is done, so no refill falls outside the window however
# slowly perf starts or iperf3 ends under load (CI saw both).
under_traffic() {
	"$@" &
	local pid=$! s
	hp_wait 120 hp_sleeper $pid > /dev/null || hp_log "perf: no workload after 120 s"
	traffic
	s=$(hp_sleeper $pid) && kill "$s"
	wait $pid
}

# The perf recipes on the same binding
perf_huge() {
	local id=$HUGE out=$HP_TMP/perf-stat.out dir=$HP_TMP/perf-events
	xdp_on || hp_fail_all "no XDP on vb"
	snapshot "$HP_TMP/before"
	under_traffic "$PERF/stat.sh" $((SECS + 600)) > "$out" 2>&1
	snapshot "$HP_TMP/after"
	hp_dump "$out"
	hp_check "perf stat: every provider and page_pool event counted" pstat_keys "$out"
	agree "perf stat: mp_huge_refill = refills counter" \
		"$(pstat "$out" mp_huge:mp_huge_refill)" "$(delta "$id" refills)"
	agree "perf stat: mp_huge_release = releases counter" \
		"$(pstat "$out" mp_huge:mp_huge_release)" "$(delta "$id" releases)"
	hp_expect "perf stat: the provider refilled" "$(delta "$id" refills)" -gt 0

	snapshot "$HP_TMP/before"
	under_traffic "$PERF/record.sh" -o "$dir" -t $((SECS + 600)) events > "$HP_TMP/perf-rec.out" 2>&1
	snapshot "$HP_TMP/after"
	head -n 12 "$HP_TMP/perf-rec.out" | hp_dump -
	hp_check "perf record events: folded stacks" folded_ok "$dir/refill.folded"
	agree "perf record events: one stack per refill" \
		"$(awk '{ n += $NF } END { print n + 0 }' "$dir/refill.folded")" \
		"$(delta "$id" refills)"
	hp_check "perf record events: through page_pool_alloc_* into the provider" \
		stacks_through "$dir/refill.folded"

	dir=$HP_TMP/perf-cpu
	under_traffic "$PERF/record.sh" -o "$dir" -t $((SECS + 600)) -F 1999 cpu > "$HP_TMP/perf-cpu.out" 2>&1
	head -n 12 "$HP_TMP/perf-cpu.out" | hp_dump -
	hp_check "perf record cpu: folded stacks of the refill path" folded_ok "$dir/refill.folded"
	hp_check "perf record cpu: every stack through page_pool_alloc_*" \
		sh -c "! grep -vqE ';page_pool_alloc_(netmems|pages|frag_netmem|frag)[; ]' '$dir/refill.folded'"
	xdp_off
	hpool unbind "$id" > /dev/null
}

# cap.bt saw the binding throttled and resumed
cap_crossings() {
	grep -q "^@crossings\[$1, binding, throttled\]: " "$HP_TMP/cap.out" &&
		grep -q "^@crossings\[$1, binding, resumed\]: " "$HP_TMP/cap.out"
}

cap_shrink_reasons() {
	grep -q "^@shrunk\[$1, pressure\]: " "$HP_TMP/cap.out" &&
		grep -q "^@shrunk\[$1, cap_lowered\]: " "$HP_TMP/cap.out"
}

# cap.bt on a memory-cap binding of every queue
bpftrace_cap() {
	local id f=$HP_TMP/cap.out
	id=$(hpool bind vb 0-3 cap $CAP 2>/dev/null) || hp_fail_all "hugepool bind vb 0-3 cap refused"
	hp_log "memory-cap binding $id on vb rx queues 0-3"
	xdp_on || hp_fail_all "no XDP on vb"
	bt_start cap
	hp_check "bpftrace: cap attached" bt_attach cap || hp_fail_all "bpftrace did not attach"
	snapshot "$HP_TMP/before"
	# the receiver's stop takes the binding to its cap: throttled
	traffic || hp_log "no traffic under the cap"
	# pools made anew refill with everything home: resumed; their pages
	# come home to the cache when they go
	xdp_off
	xdp_on || hp_fail_all "no XDP on vb"
	ip netns exec "$HP_NSA" ping -q -c 50 -i 0.02 $NET.2 > /dev/null
	xdp_off
	# a lower cap gives back what the cache holds above it, the shrinker
	# the rest
	hpool set "$id" cap 64 > /dev/null
	echo 2 > /proc/sys/vm/drop_caches
	sleep 1
	snapshot "$HP_TMP/after"
	bt_stop cap
	grep -A20 "^binding $id:" "$HP_TMP/after" | hp_dump -
	show cap
	agree "cap: cap hits = cap-hits counter" \
		"$(sum "$f" cap_hits "$id]")" "$(delta "$id" cap-hits)"
	hp_expect "cap: the cap was hit" "$(delta "$id" cap-hits)" -gt 0
	hp_check "cap: binding $id throttled and resumed" cap_crossings "$id"
	agree "cap: pages shrunk = shrinker-pages counter" \
		"$(sum "$f" shrunk "$id, ")" "$(delta "$id" shrinker-pages)"
	hp_check "cap: shrunk under pressure and for a lower cap" cap_shrink_reasons "$id"
	hpool unbind "$id" > /dev/null
}

not() { ! "$@"; }

# No provider: what the tools print must fail the provider's checks
negative() {
	local out=$HP_TMP/perf-stat.out
	xdp_on || hp_fail_all "no XDP on vb"
	bt_start refill-latency
	bt_attach refill-latency || hp_fail_all "bpftrace did not attach"
	under_traffic "$PERF/stat.sh" $((SECS + 600)) > "$out" 2>&1
	bt_stop refill-latency
	xdp_off
	show refill-latency
	hp_check "no provider: the refill-latency histogram check fails" not refill_hist ""
	hp_expect "no provider: perf stat counts page holds (the page allocator refilled)" \
		"$(pstat "$out" page_pool:page_pool_state_hold)" -gt 0
	hp_expect "no provider: perf stat counts no mp_huge refill" \
		"$(pstat "$out" mp_huge:mp_huge_refill)" -eq 0
}

# the cases of each phase
declare -A PLAN=([bpftrace]=25 [perf]=9 [cap]=6 [negative]=3)

main() {
	local phases=${HP_TRACE_PHASES:-bpftrace perf cap negative} p n=0
	hp_require_root
	command -v bpftrace > /dev/null || hp_skip_all "no bpftrace"
	command -v perf > /dev/null || hp_skip_all "no perf"
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	for p in $phases; do
		n=$((n + PLAN[$p]))
	done
	hp_plan $n
	hp_sysctl_default net.core.mp_default=none
	setup || hp_fail_all "no veth pair"
	[[ -z ${HP_TRACE_KEEP:-} ]] || hp_cleanup_add keep "cp -r $HP_TMP/. $HP_TRACE_KEEP/"
	for p in $phases; do
		case $p in
		bpftrace) bpftrace_huge ;;
		perf) [[ -n ${HUGE:-} ]] || HUGE=$(hpool bind vb 0-1 huge blocks 1 max 8 2>/dev/null)
		      perf_huge ;;
		cap) bpftrace_cap ;;
		negative) negative ;;
		esac
	done
	hp_veth_del
	hp_done
}

main "$@"
