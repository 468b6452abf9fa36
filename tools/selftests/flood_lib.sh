# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# What the huge page pressure tests share (trace_tools, hugeadm_scarcity,
# frag_compact; sourced after lib.sh): a flood through the veth pair of
# hp_veth_pair whose receiver stops reading for a while, the counters of a
# binding of the receiver vb, the receiver's page pools made and destroyed
# (native XDP), and memory fragmented by fragment.py.
#
# The test sets NET (the pair's /24). The
# guest runs under TCG, where a fork costs most of a second: what is polled
# here runs bash builtins or one command a try.

HP=$HP_BUILD/tools/hugepool
# seconds the receiver stops reading in a flood (without FLOOD_UNTIL)
STOP=${HP_STOP_SECS:-6}
FLOOD_FRAG=$(dirname "${BASH_SOURCE[0]}")/fragment.py
FLOOD_THP=/sys/kernel/mm/transparent_hugepage/enabled

# hpool ARGS...: build/tools/hugepool in the receiver's namespace
hpool() { ip netns exec "$HP_NSB" "$HP" "$@"; }

# snapshot NAME: every binding of vb and its counters (mp-binding-get) in
# $HP_TMP/NAME.snap
snapshot() { hpool show vb > "$HP_TMP/$1.snap"; }

# ctr SNAPSHOT ID KEY: REPLY = a counter of binding ID in a snapshot, 0 if
# there is none (bash builtins: this is polled)
ctr() {
	local a b cur=0
	REPLY=0
	while read -r a b _; do
		if [[ $a == binding ]]; then
			[[ $b == "$2:" ]] && cur=1 || cur=0
		elif ((cur)) && [[ $a == "$3" ]]; then
			REPLY=$b
			return
		fi
	done < "$HP_TMP/$1.snap"
}

# cdelta BEFORE AFTER ID KEY: REPLY = the change of a counter of binding
# ID from snapshot BEFORE to AFTER
cdelta() {
	local a
	ctr "$1" "$3" "$4"
	a=$REPLY
	ctr "$2" "$3" "$4"
	REPLY=$((REPLY - a))
}

# The veth pair of hp_veth_pair (4 queues), its receiver's sockets allowed
# to hold several huge pages' worth
flood_pair() {
	hp_veth_pair "$NET" 4 || return 1
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 4194304 8388608"
}

# flood_pair, every rx queue of vb bound to a hugepage binding of 1 block,
# max 16 (ID), its pools made; what cannot be done ends the test
flood_binding() {
	flood_pair || hp_fail_all "no veth pair"
	ID=$(hpool bind vb 0-3 huge blocks 1 max 16 2>/dev/null) || hp_fail_all "bind refused"
	xdp_on || hp_fail_all "no XDP on vb"
	hp_log "hugepage binding $ID on vb rx queues 0-3, blocks 1 max 16"
}

# The receiver's page pools made (native XDP on vb: veth then receives
# into page pool pages) and destroyed; once destroyed, every CPU's defer
# list is flushed so that the pages the pools lent come home.
xdp_on() { ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp; }

xdp_off() {
	ip -n "$HP_NSB" link set dev vb xdpdrv off || return 1
	hp_flush_defer_lists
}

# The pools made anew: the pages they cached in the last round (fallback
# pages among them, which page_pool recycles without the provider) are
# gone, so that the next round draws on the binding as the first did, from
# empty pools.
fresh_pools() {
	xdp_off && xdp_on || return 1
	hp_log "$1 (at ${SECONDS}s): the receiver's page pools made anew (XDP detached, attached)"
}

# gone PID: the process ended (a zombie not yet waited for counts)
gone() { ! hp_running "$1"; }

# What is polled below reads /proc/PID/net of a process in each of the
# pair's namespaces (an anchor: a sleep started there once), with bash
# builtins only: no fork a try.
declare -A FLOOD_ANCHOR=()

# anchor NS: FLOOD_ANCHOR[NS] is the pid of a process in netns NS
anchor() {
	[[ -n ${FLOOD_ANCHOR[$1]:-} ]] && hp_running "${FLOOD_ANCHOR[$1]}" && return
	ip netns exec "$1" sleep 1000000 &
	FLOOD_ANCHOR[$1]=$!
	hp_cleanup_add "anchor $1" "kill ${FLOOD_ANCHOR[$1]}"
}

# The anchors end (before the pair's namespaces go)
anchors_stop() {
	local ns
	for ns in "${!FLOOD_ANCHOR[@]}"; do
		kill "${FLOOD_ANCHOR[$ns]}" 2>/dev/null
		wait "${FLOOD_ANCHOR[$ns]}" 2>/dev/null
		hp_cleanup_drop "anchor $ns"
	done
	FLOOD_ANCHOR=()
}

# tcp_sockets NS: REPLY = the TCP sockets of netns NS as "state:local
# port:unread bytes" words (hex, /proc/net/tcp and tcp6)
tcp_sockets() {
	local f sl laddr st queues
	REPLY=" "
	for f in "/proc/${FLOOD_ANCHOR[$1]}/net/tcp" "/proc/${FLOOD_ANCHOR[$1]}/net/tcp6"; do
		while read -r sl laddr _ st queues _; do
			[[ $sl == sl ]] && continue
			REPLY+="$st:${laddr##*:}:${queues#*:} "
		done < "$f"
	done
}

# listening [PORT]: a server listens on PORT (iperf3's 5201) in the receiver
listening() {
	local port
	printf -v port '%04X' "${1:-5201}"
	tcp_sockets "$HP_NSB"
	[[ $REPLY == *" 0A:$port:"* ]]
}

# drained: the receiver's TCP sockets hold less than 512 KiB unread
drained() {
	local s q=0
	tcp_sockets "$HP_NSB"
	for s in $REPLY; do
		q=$((q + 16#${s##*:}))
	done
	((q < 524288))
}

# tcp_settled NS...: no TCP connection of these namespaces is open or
# closing any more (TIME-WAIT holds no data): what a closing connection
# still queues holds pages
tcp_settled() {
	local ns s
	for ns in "$@"; do
		tcp_sockets "$ns"
		for s in $REPLY; do
			[[ $s == 06:* || $s == 0A:* ]] || return 1
		done
	done
}

# bytes vb received so far: REPLY
rx_bytes() {
	local l rx
	REPLY=0
	while read -r l; do
		[[ $l == vb:* ]] || continue
		read -r rx _ <<< "${l#vb:}"
		REPLY=$rx
		return
	done < "/proc/${FLOOD_ANCHOR[$HP_NSB]}/net/dev"
}

# flowing RX0: vb received 4 MiB since it had RX0 bytes: the data streams
# run (iperf3's control connection exchanges far less), and the receiver
# read enough for TCP to open its windows wide (they bound what its
# sockets hold once it stops reading)
flowing() { rx_bytes; ((REPLY - $1 >= 4 << 20)); }

# flood: iperf3 -P $FLOOD_STREAMS (default 4) from va to vb. Once 4 MiB
# flowed the receiver stops reading, so that its sockets hold pages and the
# pools refill: for $STOP s, or, with FLOOD_UNTIL (a command and its
# arguments, split at blanks), until that succeeds (FLOOD_MET=1), for at
# most $FLOOD_STALL s (default 60; wall
# clock). Then it reads again until its sockets are drained (the pages
# they held come back in a burst), and the sender stops. The connections
# end and settle before it returns. It flowed if vb received over 1 MiB
# (its interface counter: iperf3's own figure needs the end of test
# exchange, which a slow guest may miss).
flood() {
	local server client rx0 start=$SECONDS stopped until
	FLOOD_MET=0
	read -ra until <<< "${FLOOD_UNTIL:-}"
	anchor "$HP_NSA"
	anchor "$HP_NSB"
	rx_bytes
	rx0=$REPLY
	ip netns exec "$HP_NSB" iperf3 -s -1 -B "$NET.2" > /dev/null 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_until $((SECONDS + 20)) listening || hp_log "iperf3 server not listening"
	ip netns exec "$HP_NSA" iperf3 -c "$NET.2" -t 600 -P "${FLOOD_STREAMS:-4}" \
		> "$HP_TMP/iperf.out" 2>&1 &
	client=$!
	hp_cleanup_add client "kill -9 $client"
	hp_until $((SECONDS + 60)) flowing "$rx0" || hp_log "flood: not 4 MiB after 60 s"
	kill -STOP $server
	stopped=$SECONDS
	hp_log "flood: 4 MiB flowed after $((stopped - start)) s; the receiver stops reading"
	if ((${#until[@]})); then
		hp_until $((SECONDS + ${FLOOD_STALL:-60})) "${until[@]}" && FLOOD_MET=1
		hp_log "flood: receiver stopped for $((SECONDS - stopped)) s:" \
			"$FLOOD_UNTIL $( ((FLOOD_MET)) && echo true || echo 'still false')"
	else
		sleep "$STOP"
	fi
	kill -CONT $server
	stopped=$SECONDS
	hp_until $((SECONDS + 60)) drained || hp_log "flood: the receiver's sockets still hold data"
	hp_log "flood: the receiver read for $((SECONDS - stopped)) s; the sender stops"
	# the sender ends the test (and the one-off server with it) on SIGINT
	kill -INT $client
	hp_until $((SECONDS + 30)) gone $client || kill -9 $client
	wait $client
	hp_until $((SECONDS + 30)) gone $server || kill -9 $server
	wait $server
	hp_cleanup_drop server
	hp_cleanup_drop client
	stopped=$SECONDS
	hp_until $((SECONDS + 60)) tcp_settled "$HP_NSA" "$HP_NSB" ||
		hp_log "flood: TCP not settled: $REPLY"
	hp_log "flood: iperf3 ended, TCP settled in $((SECONDS - stopped)) s"
	rx_bytes
	hp_log "flood: vb received $(((REPLY - rx0) / 1024)) KiB in $((SECONDS - start)) s"
	((REPLY - rx0 > 1 << 20)) || { hp_dump "$HP_TMP/iperf.out"; return 1; }
}

# round STEP: binding ID's counters before and after a flood; sets GROWN
# (blocks the binding took, those it gave back meanwhile included),
# FAILED, FELL
round() {
	local b0 b1
	snapshot round-before
	hp_check "$1: traffic flows" flood
	snapshot round-after
	ctr round-before "$ID" blocks
	b0=$REPLY
	ctr round-after "$ID" blocks
	b1=$REPLY
	cdelta round-before round-after "$ID" blocks-returned
	GROWN=$((b1 - b0 + REPLY))
	cdelta round-before round-after "$ID" grow-failures
	FAILED=$REPLY
	cdelta round-before round-after "$ID" fallbacks
	FELL=$REPLY
	hp_log "$1 (at ${SECONDS}s): blocks $b0 -> $b1 (grew by $GROWN), grow-failures +$FAILED, fallbacks +$FELL pages"
}

# free 2 MiB blocks in the buddy allocator: order 9 and up, all zones
free_2m() {
	awk '{ for (o = 9; o + 5 <= NF; o++) n += $(o + 5) * 2 ^ (o - 9) } END { print n + 0 }' /proc/buddyinfo
}

free_mib() { awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo; }

# what fragment.py needs: transparent huge pages and debugfs's
# split_huge_pages; the test is skipped without them
frag_possible() {
	[[ -w $FLOOD_THP && -e /sys/kernel/debug/split_huge_pages ]] ||
		hp_skip_all "no transparent huge pages, or no debugfs split_huge_pages"
}

frag_ready() { grep -qx ready "$HP_TMP/fragment.out"; }

frag_settled() { frag_ready || gone "$FRAG_PID"; }

# fragment ARGS...: fragment.py ARGS in the background (FRAG_PID, killed at
# cleanup), transparent huge pages "always" meanwhile (restored at
# cleanup); succeeds once it printed "ready" (it holds its pages then),
# within 300 s
fragment() {
	[[ $(< $FLOOD_THP) == *"[always]"* ]] || {
		hp_cleanup_add thp "echo $(sed 's/.*\[\(.*\)\].*/\1/' $FLOOD_THP) > $FLOOD_THP"
		echo always > $FLOOD_THP
	}
	"$FLOOD_FRAG" "$@" > "$HP_TMP/fragment.out" 2>&1 &
	FRAG_PID=$!
	hp_cleanup_add fragment "kill $FRAG_PID; wait $FRAG_PID"
	hp_until $((SECONDS + 300)) frag_settled
	hp_dump "$HP_TMP/fragment.out"
	frag_ready
}

# The fragmenter ended (its pages freed)
unfragment() {
	kill "$FRAG_PID"
	wait "$FRAG_PID"
	hp_cleanup_drop fragment
}
