#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The observability tools against real traffic: every bpftrace tool of
# tools/bpftrace and both perf recipes of tools/perf, run in the guest while
# iperf3 floods a veth pair (native XDP on the receiver vb, so that its rx
# queues use page pools), and what they print checked against the
# bindings' own counters (mp-binding-get, through build/tools/hugepool
# show). Each bpftrace tool is started once and stays attached through
# three windows of traffic; the perf recipes run in the first two:
#
#  1. no provider: the page allocator refills every pool. At its end each
#     bpftrace tool prints its maps so far (SIGUSR1): this window's output
#     is what the tools print without a provider;
#  2. rx queues 0-1 of vb bound to a hugepage binding (policy budget, 1
#     block, max 8, the machine-wide limit 2 blocks; its first allocation
#     of a block is failed through mp_huge/fail_block), queues 2-3 left on
#     the page allocator. The receiver stops reading until the binding
#     failed to grow for want of memory and for the limit (its sockets
#     hold pages, the pools refill from the provider, it grows, fails and
#     falls back), then drains; a receiver splices into a pipe (its pages
#     come back to page_pool still referenced: lost); the pools are
#     destroyed, every page comes home and the binding is trimmed;
#  3. a memory-cap binding (512 pages) of every queue, the receiver stopped
#     until the cap is hit; the pools made anew (the binding resumes) and
#     destroyed, the cap lowered and the cache shrunk.
#
# Then Ctrl-C. Every check of what a tool printed runs twice: on what the
# tools printed in windows 2 and 3, where it must pass (histograms with
# the expected keys; refills, releases, parks, lost pages and their
# stacks, blocks added and returned, grow failures of each reason,
# fallback pages, cap hits, crossings and pages shrunk equal to the
# counters' change; perf stat's counts too; perf record's stacks one a
# refill, through page_pool_alloc_netmems() into the provider), and on
# what they printed in window 1, against the same counters, where it must
# fail: a check that passes on that would pass for a tool blind to the
# provider. A comparison needs the counters to have moved: two zeros
# compare nothing.
#
# usage: trace_tools.sh [long]      (root, hugepool kernel, bpftrace, perf)
#   long: every tool's and recipe's whole output as diagnostics (make
#         check-long)
#   HP_TRACE_KEEP=DIR: the tools' outputs are copied to DIR at the end
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flood_lib.sh"

BT=$HP_TOP/tools/bpftrace
PERF=$HP_TOP/tools/perf
FAIL_BLOCK=$HP_DEBUGFS/fail_block
NET=10.96.0
# counts may differ by this much (per cent, rounded down): events at the
# edges of a window
TOL=5
CAP=512
# shellcheck disable=SC2034 # read by flood_lib.sh
FLOOD_STREAMS=8
TOOLS=(refill-latency refill-latency-queue release blocks refill-cost cap)
RECIPES=(perf-stat perf-events perf-cpu)
LONG=0
declare -A BT_PID=() BT_LINES=() BT_SIGNALLED=() PERF_PID=() D=()

# delta WINDOW ID KEY: REPLY = the change of a counter over a window
# (snapshots WINDOW-before, taken before the binding was made, and
# WINDOW-after: the binding's whole life until then, as the tools saw it)
delta() { cdelta "$1-before" "$1-after" "$2" "$3"; }

# grew_since WINDOW ID KEY...: each counter grew since WINDOW-before (a
# snapshot "now" is taken)
grew_since() {
	local k a
	snapshot now
	for k in "${@:3}"; do
		ctr "$1-before" "$2" "$k"
		a=$REPLY
		ctr now "$2" "$k"
		((REPLY > a)) || return 1
	done
}

# counter_is ID KEY VALUE: a counter of binding ID is VALUE now
counter_is() {
	snapshot now
	ctr now "$1" "$2"
	[[ $REPLY == "$3" ]]
}

# has FILE TEXT: a line of FILE holds TEXT (bash builtins)
has() {
	local l
	while IFS= read -r l; do
		[[ $l == *"$2"* ]] && return 0
	done < "$1"
	return 1
}

# bt_start NAME: tools/bpftrace/NAME.bt in the background (NAME-queue:
# refill-latency.bt queue), its output in $HP_TMP/NAME.out
bt_start() {
	local name=$1 arg=()
	[[ $name != *-queue ]] || arg=(queue)
	bpftrace "$BT/${name%-queue}.bt" "${arg[@]}" > "$HP_TMP/$name.out" 2>&1 &
	BT_PID[$name]=$!
	hp_cleanup_add "bt $name" "kill -9 $!"
}

# every tool printed its banner (bpftrace prints it from BEGIN, once every
# probe is attached); bt_settled: or ended
bt_ready() {
	local t
	for t in "${TOOLS[@]}"; do
		has "$HP_TMP/$t.out" "Hit Ctrl-C" || return 1
	done
}

bt_settled() {
	local t
	for t in "${TOOLS[@]}"; do
		has "$HP_TMP/$t.out" "Hit Ctrl-C" || gone "${BT_PID[$t]}" || return 1
	done
}

# Every tool attached within 10 minutes (under TCG one takes 15-30 s of
# the guest's CPU to attach, and they attach side by side)
bt_attach() {
	local t
	for t in "${TOOLS[@]}"; do
		bt_start "$t"
	done
	hp_until $((SECONDS + 600)) bt_settled
	hp_log "bpftrace: attached at ${SECONDS}s"
	bt_ready && return 0
	for t in "${TOOLS[@]}"; do
		hp_dump "$HP_TMP/$t.out"
	done
	return 1
}

# idle PID: bpftrace waits for events (in epoll_wait, where a signal
# reaches it at once: bpftrace 0.17 acts on one that comes at another time
# only once an event wakes it, see hp_interrupted)
idle() {
	local w
	read -r w < "/proc/$1/wchan" 2>/dev/null
	[[ $w == *epoll* ]]
}

# lines FILE: REPLY = its number of lines (bash builtins)
lines() {
	local -a l
	mapfile -t l < "$1"
	REPLY=${#l[@]}
}

# Every tool waits for events again and its output stopped growing, and
# those that always print maps (blocks, cap: their per-second sums, 0
# without a provider) printed them
bt_quiet() {
	local t
	for t in "${TOOLS[@]}"; do
		idle "${BT_PID[$t]}" || return 1
		lines "$HP_TMP/$t.out"
		[[ $REPLY == "${BT_LINES[$t]}" ]] || { BT_LINES[$t]=$REPLY; return 1; }
		[[ $t != blocks && $t != cap ]] || ((REPLY > BT_SIGNALLED[$t])) || return 1
	done
}

# The end of window 1: each tool prints its maps so far (SIGUSR1), sent
# while it waits for events (none come without a provider: every tool
# prints from its probes only what a provider does). Once all are quiet
# again, what each printed so far is window 1's output (n/TOOL.out); the
# rest, at Ctrl-C, will be windows 2 and 3's (p/TOOL.out).
bt_window_end() {
	local t
	hp_until $((SECONDS + 30)) bt_all_idle || return 1
	for t in "${TOOLS[@]}"; do
		lines "$HP_TMP/$t.out"
		BT_LINES[$t]=$REPLY BT_SIGNALLED[$t]=$REPLY
		kill -USR1 "${BT_PID[$t]}"
	done
	sleep 1
	hp_until $((SECONDS + 60)) bt_quiet || return 1
	for t in "${TOOLS[@]}"; do
		split_output "$t" n
	done
}

bt_all_idle() {
	local t
	for t in "${TOOLS[@]}"; do
		idle "${BT_PID[$t]}" || return 1
	done
}

# split_output TOOL n|p: the lines of TOOL's output up to BT_LINES (n) or
# after them (p) as VIEW/TOOL.out
split_output() {
	local -a l
	mapfile -t l < "$HP_TMP/$1.out"
	if [[ $2 == n ]]; then
		BT_LINES[$1]=${#l[@]}
		printf '%s\n' "${l[@]}" > "$HP_TMP/n/$1.out"
	else
		printf '%s\n' "${l[@]:${BT_LINES[$1]:-0}}" > "$HP_TMP/p/$1.out"
	fi
}

# bt_stop: Ctrl-C, as a user would: the tools print their maps and end. A
# tool that missed it gets another every 10 s (hp_interrupted); one still
# running 120 s (wall clock) after the first fails the check, with what it
# was doing, and is killed.
bt_stop() {
	local t p rc=0 end=$((SECONDS + 120))
	for t in "${TOOLS[@]}"; do
		kill -INT "${BT_PID[$t]}"
	done
	for t in "${TOOLS[@]}"; do
		p=${BT_PID[$t]}
		if ! hp_interrupted "$p" "$end"; then
			hp_log "bpftrace $t (pid $p) still running 120 s after Ctrl-C:" \
				"wchan $(< "/proc/$p/wchan")"
			hp_dump "/proc/$p/stack" 2>/dev/null
			kill -9 "$p"
			rc=1
		fi
		wait "$p" || rc=1
		hp_cleanup_drop "bt $t"
		split_output "$t" p
	done
	return $rc
}

# perf_start VIEW: the perf recipes in the background, their outputs in
# $HP_TMP/VIEW (RECIPE.out, and record.sh's directories). The window of
# each is its workload, which perf starts once its events are enabled:
# a shell that says so (RECIPE.on) and waits for a line on RECIPE.fifo.
# perf_ready VIEW waits until the three windows are open.
perf_start() {
	local v=$HP_TMP/$1 r cmd
	for r in "${RECIPES[@]}"; do
		mkfifo "$v/$r.fifo"
		case $r in
		perf-stat) cmd=("$PERF/stat.sh") ;;
		perf-events) cmd=("$PERF/record.sh" -o "$v/$r" events) ;;
		perf-cpu) cmd=("$PERF/record.sh" -o "$v/$r" -F 499 cpu) ;;
		esac
		# shellcheck disable=SC2016	# the workload's shell expands them
		"${cmd[@]}" -- bash -c ': > "$0.on"; read -r _ < "$0.fifo"' "$v/$r" \
			> "$v/$r.out" 2>&1 &
		PERF_PID[$1 $r]=$!
		hp_cleanup_add "$1 $r" "perf_end $v/$r.fifo; kill -9 $!"
	done
}

perf_ready() {
	hp_until $((SECONDS + 180)) perf_open "$1" ||
		{ hp_log "perf: a recipe's window did not open in 180 s"; return 1; }
	hp_log "perf: the recipes' windows open at ${SECONDS}s"
}

perf_open() {
	local r
	for r in "${RECIPES[@]}"; do
		[[ -e $HP_TMP/$1/$r.on ]] || return 1
	done
}

# perf_close VIEW RECIPE...: their windows closed (a line to the fifo,
# opened read-write so that no write waits for a reader gone); they fold
# their stacks in the background, perf_wait waits for them
perf_close() {
	local r
	for r in "${@:2}"; do
		perf_end "$HP_TMP/$1/$r.fifo"
	done
}

perf_end() {
	local fd
	exec {fd}<> "$1"
	echo >&"$fd"
	exec {fd}>&-
}

# The recipes ended within 10 minutes (they fold their stacks once their
# window closed); one still running then is killed
perf_wait() {
	local k end=$((SECONDS + 600)) rc=0
	for k in "${!PERF_PID[@]}"; do
		hp_until "$end" gone "${PERF_PID[$k]}" || { kill -9 "${PERF_PID[$k]}"; rc=1; }
		wait "${PERF_PID[$k]}"
		hp_cleanup_drop "$k"
	done
	# (no fifo in what HP_TRACE_KEEP copies)
	rm -f "$HP_TMP"/[np]/*.fifo
	hp_log "perf: the recipes ended at ${SECONDS}s"
	return $rc
}

# Window 1, no provider: traffic under the perf recipes, then each tool's
# maps so far
bare_window() {
	xdp_on || hp_fail_all "no XDP on vb"
	perf_start n
	perf_ready n
	STOP=2 hp_check "no provider: traffic through vb" flood
	perf_close n "${RECIPES[@]}"
	xdp_off
	# window 2's recipes start meanwhile: nothing happens until its
	# binding is made
	perf_start p
	hp_check "bpftrace: every tool printed its maps so far (SIGUSR1)" bt_window_end
}

# mp_huge/fail_block fails the binding's next allocation of a huge page
# (its next growth), once
fail_next_block() {
	[[ -w $FAIL_BLOCK/times ]] || { hp_log "no $FAIL_BLOCK"; return 1; }
	hp_cleanup_add fail_block "echo 0 > $FAIL_BLOCK/probability"
	echo 0 > "$FAIL_BLOCK/verbose"
	echo 1 > "$FAIL_BLOCK/interval"
	echo 1 > "$FAIL_BLOCK/times"
	echo 100 > "$FAIL_BLOCK/probability"
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
	hp_until $((SECONDS + 30)) listening 5202 || hp_log "splice receiver not listening"
	ip netns exec "$HP_NSA" /usr/bin/python3 "$HP_TOP/tools/selftests/splice_hold.py" \
		send $NET.2 5202 $((4 << 20)) || rc=1
	# a sender that never connected leaves the receiver in accept()
	hp_until $((SECONDS + 70)) gone $server || kill -9 $server
	wait $server
	hp_cleanup_drop splice
	xps 0 || rc=1
	hp_cleanup_drop xps
	hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
	hp_log "splice receiver:"
	hp_dump "$out"
	((rc == 0)) && grep -Eq '^spliced [1-9][0-9]* read [0-9]+$' "$out"
}

# xps VALUE: the CPUs (hex mask, 0 for none) that send on va's tx queue 0,
# so vb's rx queue 0 (veth receives on the queue its peer sent on)
xps() {
	ip netns exec "$HP_NSA" sh -c "echo $1 > /sys/class/net/va/queues/tx-0/xps_cpus"
}

# The pools of vb destroyed, every page they held home (the provider's
# in-flight count 0), then an operator's trim gives back every huge page:
# no page of the binding can move once the window closes
huge_settle() {
	xdp_off || return 1
	hp_until $((SECONDS + 60)) counter_is "$HUGE" pages-inflight 0 ||
		{ hp_log "pages of binding $HUGE still in flight"; return 1; }
	hpool set "$HUGE" trim > /dev/null || return 1
	hp_until $((SECONDS + 30)) counter_is "$HUGE" blocks 0 ||
		{ hp_log "binding $HUGE still holds huge pages after a trim"; return 1; }
}

# Window 2: a hugepage binding of queues 0-1 under the perf recipes
huge_window() {
	hp_sysctl_default net.core.mp_huge_limit_mb=4
	# before the binding is made, as the tools see it: no counter yet
	snapshot huge-before
	HUGE=$(hpool bind vb 0-1 huge blocks 1 max 8 policy budget budget=64 2>/dev/null) ||
		hp_fail_all "hugepool bind vb 0-1 huge refused"
	hp_log "hugepage binding $HUGE on vb rx queues 0-1 (policy budget, 64 pages)"
	xdp_on || hp_fail_all "no XDP on vb"
	perf_ready p
	fail_next_block || hp_log "no grow failure for want of memory"
	FLOOD_UNTIL="grew_since huge $HUGE grow-failures limit-hits" \
		hp_check "traffic through vb (receiver stopped until growth failed for memory and the limit)" flood
	# CPU samples of the flood only: what perf script then reads grows
	# with the window
	perf_close p perf-cpu
	echo 0 > "$FAIL_BLOCK/probability"
	hp_cleanup_drop fail_block
	hp_check "a receiver spliced into a pipe on rx queue 0" splice_lost
	hp_check "binding $HUGE: the pools gone, every page home, trimmed to no huge page" huge_settle
	snapshot huge-after
	perf_close p perf-stat perf-events
	hpool show vb | hp_dump -
	hpool unbind "$HUGE" > /dev/null || hp_fail_all "hugepool unbind $HUGE refused"
}

# the pools made anew refill with every page home (the binding resumes),
# answer pings and go (their pages, a refill's 64 or more, come home to
# the binding's cache); a lower cap and low watermark give back what the
# cache holds above the watermark (16), the shrinker the rest
cap_resume_shrink() {
	xdp_off && xdp_on || return 1
	ip netns exec "$HP_NSA" ping -q -c 50 -i 0.02 $NET.2 > /dev/null || return 1
	xdp_off || return 1
	hpool set "$CAPID" cap 256 low 16 > /dev/null || return 1
	echo 2 > /proc/sys/vm/drop_caches
}

# Window 3: a memory-cap binding of every queue
cap_window() {
	snapshot cap-before
	CAPID=$(hpool bind vb 0-3 cap $CAP 2>/dev/null) || hp_fail_all "hugepool bind vb 0-3 cap refused"
	hp_log "memory-cap binding $CAPID on vb rx queues 0-3"
	xdp_on || hp_fail_all "no XDP on vb"
	FLOOD_UNTIL="grew_since cap $CAPID cap-hits" \
		hp_check "traffic under the cap (receiver stopped until the cap is hit)" flood
	hp_check "cap: pools made anew, pinged and gone; cap lowered, caches dropped" cap_resume_shrink
	snapshot cap-after
	hpool show vb | hp_dump -
	hpool unbind "$CAPID" > /dev/null || hp_fail_all "hugepool unbind $CAPID refused"
}

# What the tools printed, digested by one awk (each fork costs the guest
# most of a second) into D["VIEW TOOL KIND NAME KEY"] = VALUE: KIND m a
# map's value (KEY without blanks, "-" for none), h the number of values
# in a histogram, s the count of a stack map entry whose stack has a
# page_pool frame, t a timeline line of blocks.bt (NAME: event, KEY:
# binding,reason; the number of such lines), l per-second lines of
# release.bt; perf stat's counts as maps of TOOL perf-stat; the folded
# stacks of perf record as f entries: lines, samples, malformed lines,
# and the samples of the stacks through page_pool_alloc_* into the
# provider's refill (mp_huge_alloc_netmems) and into the page
# allocator's (__page_pool_alloc_pages_slow).
digest() {
	local v t f n k val files=() prog
	for v in n p; do
		for t in "${TOOLS[@]}" perf-stat; do
			f=$HP_TMP/$v/$t.out
			: >> "$f"
			files+=("$f")
		done
		for t in perf-events perf-cpu; do
			f=$HP_TMP/$v/$t/refill.folded
			mkdir -p "${f%/*}"
			: >> "$f"
			files+=("$f")
		done
	done
	IFS= read -r -d '' prog <<'AWK'
function emit(kind, name, key, val) { print view, tool, kind, name, key, val }
function flush() {
	if (hname != "") emit("h", hname, hkey, hn)
	hname = ""
}
FNR == 1 {
	flush()
	n = split(FILENAME, p, "/")
	if (p[n] == "refill.folded") { view = p[n - 2]; tool = p[n - 1] }
	else { view = p[n - 1]; tool = p[n]; sub(/\.out$/, "", tool) }
	stack = ""
}
tool ~ /^perf-(events|cpu)$/ {
	emit("f", "lines", "-", 1)
	if ($0 !~ /^[^ ]+(;[^ ;]+)* [0-9]+$/) { emit("f", "malformed", "-", 1); next }
	emit("f", "samples", "-", $NF)
	if ($0 ~ /;page_pool_alloc_(netmems|pages|frag_netmem|frag)(;[^ ]*)?;mp_huge_alloc_netmems[; ]/)
		emit("f", "provider", "-", $NF)
	if ($0 ~ /;page_pool_alloc_(netmems|pages|frag_netmem|frag)(;[^ ]*)?;__page_pool_alloc_pages_slow[; ]/)
		emit("f", "allocator", "-", $NF)
	next
}
tool == "perf-stat" {
	if (NF >= 2 && $1 ~ /^[0-9,]+$/ && $2 ~ /:/) {
		gsub(",", "", $1)
		emit("m", $2, "-", $1)
	}
	next
}
stack != "" {
	if ($0 ~ /page_pool/) pp = 1
	if ($0 ~ /^\]: [0-9]+$/) {
		if (pp) emit("s", stack, skey, $2)
		stack = ""
	}
	next
}
/^\[|^\(/ && hname != "" {
	# "[8K, 16K)   5 |@@@|": the count before the bar
	split($0, a, "|")
	k = split(a[1], w, " ")
	hn += w[k]
	next
}
{ flush() }
/^@[a-z_0-9]*(\[.*\])?: / || /^@[a-z_0-9]*(\[.*\])?:$/ {
	name = substr($0, 2, index($0, ":") - 2)
	key = "-"
	if (i = index(name, "[")) {
		key = substr(name, i + 1, length(name) - i - 1)
		name = substr(name, 1, i - 1)
		gsub(/ /, "", key)
	}
	if (name == "") name = "_"
	rest = substr($0, index($0, ":") + 1)
	gsub(/ /, "", rest)
	if (rest == "") { hname = name; hkey = key; hn = 0 }
	else emit("m", name, key, rest)
	next
}
/^@[a-z_0-9]*\[[^]]*, *$/ {
	# a map keyed by a stack: "@lost[1," then frames, then "]: N"
	stack = substr($0, 2, index($0, "[") - 2)
	skey = substr($0, index($0, "[") + 1)
	gsub(/[ ,]/, "", skey)
	pp = 0
	next
}
tool == "blocks" && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {
	emit("t", $3, $2 "," $4, 1)
	next
}
tool == "release" && /releases in the last second:$/ { emit("l", "seconds", "-", 1) }
END { flush() }
AWK
	awk "$prog" "${files[@]}" > "$HP_TMP/digest"
	while read -r v t f n k val; do
		D["$v $t $f $n $k"]=$((${D["$v $t $f $n $k"]:-0} + val))
	done < "$HP_TMP/digest"
}

# The view the checks read: p (windows 2 and 3) or n (window 1)
V=p
declare -A WINDOWS=([n]="window 1 (no provider)" [p]="windows 2-3 (hugepage, memory-cap)")

# dget TOOL KIND NAME KEY: REPLY = a digest entry of view V, 0 if none
dget() { REPLY=${D["$V $1 $2 $3 $4"]:-0}; }

# dsum TOOL KIND NAME KEYS: REPLY = the sum of the entries whose key
# matches the pattern KEYS; DKEYS = those keys
dsum() {
	local k pre="$V $1 $2 $3 "
	REPLY=0 DKEYS=" "
	for k in "${!D[@]}"; do
		[[ $k == "$pre"$4 ]] || continue
		REPLY=$((REPLY + D[$k]))
		DKEYS+="${k#"$pre"} "
	done
}

# same A B [WHAT]: A (the tool's) equals B (the counters' change, or
# WHAT) within TOL per cent; B must not be 0: two zeros compare nothing
same() {
	local a=$1 b=$2 d
	hp_log "$CHECK: tool $a, ${3:-counters} $b"
	[[ $a =~ ^-?[0-9]+$ && $b =~ ^-?[0-9]+$ ]] || return 1
	((b != 0)) || { hp_log "$CHECK: ${3:-the counters} did not move: nothing to compare"; return 1; }
	d=$((a > b ? a - b : b - a))
	((d <= (b < 0 ? -b : b) * TOL / 100))
}

# positive WHAT VALUE...: each VALUE is over 0
positive() {
	hp_log "$CHECK: $1"
	shift
	local x
	for x in "$@"; do
		((x > 0)) || return 1
	done
}

# two FORMAT TOOL KIND NAME:KEY NAME:KEY: both entries over 0 (FORMAT
# says what they are, printf-style)
two() {
	local a b
	dget "$2" "$3" "${4%%:*}" "${4#*:}"
	a=$REPLY
	dget "$2" "$3" "${5%%:*}" "${5#*:}"
	b=$REPLY
	# shellcheck disable=SC2059	# the format is the caller's
	printf -v REPLY "$1" "$a" "$b"
	positive "$REPLY" "$a" "$b"
}

# the tool's sum against a counter of window 2's binding: tool_vs_huge
# COUNTER TOOL KIND NAME KEYS
tool_vs_huge() {
	local t
	dsum "${@:2}"
	t=$REPLY
	delta huge "$HUGE" "$1"
	same "$t" "$REPLY"
}

tool_vs_cap() {
	local t
	dsum "${@:2}"
	t=$REPLY
	delta cap "$CAPID" "$1"
	same "$t" "$REPLY"
}

# refill-latency.bt
rl_hist() {
	dsum refill-latency h refill_ns "$HUGE,*"
	positive "$REPLY values in the histograms of [$HUGE, *]:$DKEYS" "$REPLY"
}

rl_hist_all() {
	local h
	dsum refill-latency h refill_ns "$HUGE,*"
	h=$REPLY
	dsum refill-latency m refills "$HUGE,*"
	same "$h" "$REPLY" "refills it counted"
}

rl_refills() { tool_vs_huge refills refill-latency m refills "$HUGE,*"; }

rl_sources() {
	dsum refill-latency m refills "$HUGE,*"
	local s=${DKEYS//" $HUGE,"/ }
	hp_log "$CHECK: sources of binding $HUGE:$s"
	[[ $s =~ ^\ ((store|reserve|fallback|empty)\ )+$ && $s == *" reserve "* &&
		$s == *" fallback "* ]]
}

rlq_refills() { tool_vs_huge refills refill-latency-queue m refills_queue "$IFINDEX,*"; }

rlq_queues() {
	dsum refill-latency-queue h refill_ns_queue "*"
	hp_log "$CHECK: histograms of [ifindex, queue, source]:$DKEYS"
	[[ $DKEYS =~ ^\ ($IFINDEX,[01],[a-z]+\ )+$ ]]
}

# release.bt
rel_releases() { tool_vs_huge releases release m total "$HUGE,*"; }

rel_parked() { tool_vs_huge parks release m total "$HUGE,parked"; }

rel_lost() { tool_vs_huge pages-lost release m total "$HUGE,lost"; }

rel_stacks() {
	dsum release s lost "$HUGE"
	positive "$REPLY lost pages of binding $HUGE in stacks through page_pool" "$REPLY"
}

rel_seconds() {
	local n
	dget release l seconds -
	n=$REPLY
	dsum release m _ "$HUGE,*"
	positive "$n per-second reports, $REPLY releases of binding $HUGE in them" "$n" "$REPLY"
}

# blocks.bt
blk_timeline() {
	local g f l
	dget blocks t add "$HUGE,grown"
	g=$REPLY
	dget blocks t grow-fail "$HUGE,nomem"
	f=$REPLY
	dget blocks t grow-fail "$HUGE,limit"
	l=$REPLY
	positive "timeline of binding $HUGE: $g grown, $f grow failures for memory, $l for the limit" \
		"$g" "$f" "$l"
}

blk_added() {
	local t c
	dsum blocks m blocks "$HUGE,add,*"
	t=$REPLY
	delta huge "$HUGE" blocks
	c=$REPLY
	delta huge "$HUGE" blocks-returned
	same "$t" $((c + REPLY)) "counters (blocks' change + blocks returned)"
}

blk_returned() { tool_vs_huge blocks-returned blocks m blocks "$HUGE,return,*"; }

blk_limit() { tool_vs_huge limit-hits blocks m grow_fail "$HUGE,limit"; }

blk_nomem() { tool_vs_huge grow-failures blocks m grow_fail "$HUGE,nomem"; }

blk_fallback() { tool_vs_huge fallbacks blocks m fallback_pages "$HUGE"; }

# refill-cost.bt
rc_sides() {
	two "ns per page: %s refills of the page allocator, %s of mp_huge" refill-cost h \
		ns_per_page_page_allocator:- ns_per_page_mp_huge:-
}

rc_refills() { tool_vs_huge refills refill-cost m refills_mp_huge -; }

# cap.bt
cap_hits() { tool_vs_cap cap-hits cap m cap_hits "$CAPID"; }

cap_crossings() {
	two "binding $CAPID throttled %s times, resumed %s" cap m \
		"crossings:$CAPID,binding,throttled" "crossings:$CAPID,binding,resumed"
}

cap_shrunk() { tool_vs_cap shrinker-pages cap m shrunk "$CAPID,*"; }

cap_reasons() {
	two "pages shrunk: %s under pressure, %s for a lower cap" cap m \
		"shrunk:$CAPID,pressure" "shrunk:$CAPID,cap_lowered"
}

# perf stat: every provider and page_pool event listed, and the hugepage
# provider's and page_pool's page events counted
ps_events() {
	local ev missing="" zero=""
	for ev in mp_huge:mp_huge_refill mp_huge:mp_huge_release mp_huge:mp_huge_block \
		mp_huge:mp_huge_grow_fail mp_cap:mp_cap_refill mp_cap:mp_cap_throttle \
		mp_cap:mp_cap_shrink page_pool:page_pool_state_hold \
		page_pool:page_pool_state_release page_pool:page_pool_mp_bypass; do
		[[ -v D["$V perf-stat m $ev -"] ]] || missing+=" $ev"
		[[ $ev == mp_cap:* || $ev == *mp_bypass ]] || ((${D["$V perf-stat m $ev -"]:-0} > 0)) ||
			zero+=" $ev"
	done
	hp_log "$CHECK: not listed:${missing:- none}; not counted:${zero:- none}"
	[[ -z $missing$zero ]]
}

ps_refill() { tool_vs_huge refills perf-stat m mp_huge:mp_huge_refill -; }

ps_release() { tool_vs_huge releases perf-stat m mp_huge:mp_huge_release -; }

# perf record: folded stacks ("frame;frame... count" lines)
folded() {
	local l m s p a
	dget "$1" f lines -
	l=$REPLY
	dget "$1" f malformed -
	m=$REPLY
	dget "$1" f samples -
	s=$REPLY
	dget "$1" f provider -
	p=$REPLY
	dget "$1" f allocator -
	a=$REPLY
	hp_log "$CHECK: $l stacks ($m malformed), $s samples: $p through" \
		"page_pool_alloc_* into mp_huge_alloc_netmems, $a into __page_pool_alloc_pages_slow"
	FOLDED=("$l" "$m" "$s" "$p" "$a")
}

pe_folded() { folded perf-events && ((FOLDED[0] > 0 && FOLDED[1] == 0)); }

pe_count() { tool_vs_huge refills perf-events f samples -; }

# every refill's stack is the provider's, through page_pool's allocation
# entry (page_pool_alloc_netmems, which the compiler may have folded into
# page_pool_alloc_pages and page_pool_alloc_frag_netmem)
pe_through() { folded perf-events && ((FOLDED[2] > 0 && FOLDED[3] == FOLDED[2])); }

# CPU samples through page_pool_alloc_*: the provider's refill among them,
# and the page allocator's (queues 2-3)
pc_sides() {
	folded perf-cpu && ((FOLDED[0] > 0 && FOLDED[1] == 0 && FOLDED[3] > 0 && FOLDED[4] > 0))
}

# The checks of what the tools printed: "function description"
checks_list() {
	CHECKS=(
		"rl_hist refill-latency: a histogram of binding $HUGE's refills, with values"
		"rl_hist_all refill-latency: the histograms hold every refill"
		"rl_refills refill-latency: refills = refills counter"
		"rl_sources refill-latency: known sources, reserve and fallback among them"
		"rlq_refills refill-latency queue: refills of vb = refills counter"
		"rlq_queues refill-latency queue: only the bound rx queues 0-1"
		"rel_releases release: releases = releases counter"
		"rel_parked release: parked = parks counter"
		"rel_lost release: lost = pages-lost counter"
		"rel_stacks release: the stacks that gave lost pages back, through page_pool"
		"rel_seconds release: per-second outcomes of binding $HUGE"
		"blk_timeline blocks: the timeline shows a block grown and grow failures (nomem, limit)"
		"blk_added blocks: added = change of blocks + blocks-returned counter"
		"blk_returned blocks: returned = blocks-returned counter"
		"blk_limit blocks: grow failures (limit) = limit-hits counter"
		"blk_nomem blocks: grow failures (nomem) = grow-failures counter"
		"blk_fallback blocks: fallback pages = fallbacks counter"
		"rc_sides refill-cost: page allocator and mp_huge side by side"
		"rc_refills refill-cost: mp_huge refills = refills counter"
		"cap_hits cap: cap hits = cap-hits counter"
		"cap_crossings cap: binding $CAPID throttled and resumed"
		"cap_shrunk cap: pages shrunk = shrinker-pages counter"
		"cap_reasons cap: shrunk under pressure and for a lower cap"
		"ps_events perf stat: every provider and page_pool event listed, mp_huge's and page holds counted"
		"ps_refill perf stat: mp_huge_refill = refills counter"
		"ps_release perf stat: mp_huge_release = releases counter"
		"pe_folded perf record events: folded stacks"
		"pe_count perf record events: one stack per refill"
		"pe_through perf record events: every stack through page_pool_alloc_* into the provider"
		"pc_sides perf record cpu: stacks through page_pool_alloc_* into the provider and the page allocator"
	)
}

not() { ! "$@"; }

# run_checks p|n: every check on windows 2 and 3's output, where it must
# pass, or on window 1's, where it must fail
run_checks() {
	local c
	V=$1
	for c in "${CHECKS[@]}"; do
		CHECK=${c#* }
		if [[ $V == p ]]; then
			hp_check "$CHECK" "${c%% *}"
		else
			CHECK="no provider: $CHECK"
			hp_check "$CHECK: fails" not "${c%% *}"
		fi
	done
}

# dump FILE [MAX]: FILE's non-empty lines as diagnostics, at most MAX
# (bash builtins)
dump() {
	local -a l
	local x n=0
	mapfile -t l < "$1"
	for x in "${l[@]}"; do
		[[ -n $x ]] || continue
		if ((${2:-0} && n++ == ${2:-0})); then
			printf '# [... %s lines in all]\n' "${#l[@]}"
			break
		fi
		printf '# %s\n' "$x"
	done
}

# What each tool printed in each window (the first 60 lines of each, all
# of it in long mode); the recipes' folded stacks: the first 10 (all)
show_outputs() {
	local v t max=60 stacks=10
	((!LONG)) || max=0 stacks=0
	for v in n p; do
		for t in "${TOOLS[@]}"; do
			hp_log "--- $t, ${WINDOWS[$v]}"
			dump "$HP_TMP/$v/$t.out" $max
		done
		for t in "${RECIPES[@]}"; do
			hp_log "--- $t, ${WINDOWS[$v]}"
			if [[ $t == perf-stat ]]; then
				dump "$HP_TMP/$v/$t.out"
			else
				dump "$HP_TMP/$v/$t.out" $((stacks ? stacks + 1 : 0))
			fi
		done
	done
}

main() {
	case ${1:-} in
	"") ;;
	long) LONG=1 ;;
	*) echo "usage: trace_tools.sh [long]" >&2; exit 2 ;;
	esac
	hp_require_root
	command -v bpftrace > /dev/null || hp_skip_all "no bpftrace"
	command -v perf > /dev/null || hp_skip_all "no perf"
	[[ -x $HP ]] || hp_skip_all "no $HP: scripts/build-tools.sh"
	[[ -w $FAIL_BLOCK/times ]] ||
		hp_skip_all "no $FAIL_BLOCK: a kernel without CONFIG_FAULT_INJECTION_DEBUG_FS"
	HUGE=id CAPID=id checks_list
	hp_plan $((11 + 2 * ${#CHECKS[@]}))
	hp_sysctl_default net.core.mp_default=none
	flood_pair || hp_fail_all "no veth pair"
	mkdir -p "$HP_TMP/n" "$HP_TMP/p"
	[[ -z ${HP_TRACE_KEEP:-} ]] || hp_cleanup_add keep "cp -r $HP_TMP/. $HP_TRACE_KEEP/"
	IFINDEX=$(hp_ifindex "$HP_NSB" vb)
	hp_check "bpftrace: ${TOOLS[*]} attached" bt_attach ||
		hp_fail_all "bpftrace did not attach"
	bare_window
	huge_window
	cap_window
	hp_check "bpftrace: the tools ended on Ctrl-C" bt_stop
	hp_check "perf: the recipes folded their stacks and ended" perf_wait
	hp_log "the windows done at ${SECONDS}s"
	show_outputs
	digest
	checks_list
	V=n
	dget perf-stat m page_pool:page_pool_state_hold -
	hp_expect "no provider: perf stat counts page holds (the page allocator refilled)" "$REPLY" -gt 0
	run_checks p
	run_checks n
	anchors_stop
	hp_veth_del
	hp_log "$HP_NAME: done at ${SECONDS}s"
	hp_done
}

main "$@"
