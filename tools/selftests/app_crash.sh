#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Who returns an application's pages when it crashes: a TCP receiver stops
# reading in the middle of a flood, so its sockets hold page pool pages of
# the receiving veth (native XDP: every skb lives in a provider page). The
# device is then deleted under it - its pools are destroyed and its
# bindings uninstalled while pages are still in the sockets - and only then
# is the receiver killed. The kernel reaps its sockets, the pages come home
# to a provider whose device is gone, and the last one frees what the
# bindings held: every huge page back, every capped page released, nothing
# leaked, no stalled pool (the log scan fails the run on one).
#
# While the device is gone and the sockets hold its pages, the provider's
# own count of pages in flight (its bindings live until the last page is
# home) must be page_pool's: what page_pool_release counts out of the
# destroyed pools. After the kill, page_pool must count every page home.
#
# Once for the hugepage provider, once for the memory-cap provider.
#
# usage: app_crash.sh        (root, hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

QUEUES=4
HUGEPOOL=$HP_BUILD/tools/hugepool
PORT=5201
HOLD=$((64 << 10))	# what the frozen sockets must hold, bytes

# bindings_of FILE DEV: the ids of DEV's bindings in a provider's debugfs
bindings_of() {
	awk -v dev="dev=$2" '$0 ~ "(^| )" dev "( |$)" { sub("id=", "", $1); print $1 }' "$1"
}

# inflight FILE IDS...: the pages those bindings handed out and have not
# had back. A binding that is gone has none: it is freed with the last of
# its pools, which page_pool destroys only once none of its pages is out.
inflight() {
	local f=$1
	shift
	awk -v ids=" $* " '
		/^id=/ {
			id = $1; sub("id=", "", id)
			if (index(ids, " " id " ") == 0)
				next
			for (i = 2; i <= NF; i++) {
				split($i, kv, "="); if (kv[1] == "pages-inflight") s += kv[2] }
		}
		END { print s + 0 }' "$f"
}

# in_sync FILE IDS...: page_pool has counted the destroyed pools again
# since they were destroyed, and the bindings count what it counts; sets
# PP_NOW and MP_NOW
in_sync() {
	local f=$1
	shift
	hp_pp_retried "$MARK" || return 1
	read -r _ _ PP_NOW <<< "$(hp_pp_released "$MARK")"
	MP_NOW=$(inflight "$f" "$@")
	[[ $MP_NOW == "$PP_NOW" ]]
}

# setpriv's arguments for a user without capabilities (nobody)
NOBODY=(--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)

# shown_ids [setpriv ARGS]: the binding ids mp-binding-get lists in the
# initial netns (hugepool show), as root or as setpriv makes the caller
shown_ids() {
	${1:+setpriv "$@"} "$HUGEPOOL" show 2>&1 | sed -n 's/^binding \([0-9]*\):.*/\1/p' | tr '\n' ' '
}

# orphans_listed IDS...: bindings whose device is gone (their pages in
# the frozen sockets) belong to no namespace: the initial one lists them
# to CAP_NET_ADMIN only (their counters say what another namespace's
# application received). Of IDS, those with no page out are gone already;
# root must see the others, and there must be some.
orphans_listed() {
	local root user id seen=0
	root=$(shown_ids)
	user=$(shown_ids "${NOBODY[@]}")
	hp_log "of bindings $*: listed as root: ${root:-none};" \
		"as nobody without capabilities: ${user:-none}"
	for id; do
		[[ " $user " != *" $id "* ]] || return 1
		[[ " $root " != *" $id "* ]] || seen=$((seen + 1))
	done
	((seen > 0))
}

# orphans_unannounced IDS...: root changes the orphaned bindings of IDS
# (a trim, or a cap); a listener of the mgmt group without CAP_NET_ADMIN
# in the initial namespace must hear nothing of them. Then a binding of
# a netdevsim device there, which it must hear: its add notification
# comes after the changes', so once it is printed the changes would have
# been too.
orphans_unannounced() {
	local out=$HP_TMP/monitor.out err=$HP_TMP/monitor.err nsim=$((5000 + $$ % 1000))
	local mon id dev cid changed=() heard rc=0
	setpriv "${NOBODY[@]}" "$HUGEPOOL" monitor > "$out" 2> "$err" &
	mon=$!
	hp_cleanup_add monitor "kill $mon"
	hp_until $((SECONDS + 30)) grep -q 'waiting for binding notifications' "$err" ||
		{ hp_log "the monitor did not start: $(< "$err")"; rc=1; }
	for id; do
		"$HUGEPOOL" set "$id" trim > /dev/null 2>&1 ||
			"$HUGEPOOL" set "$id" cap 4096 > /dev/null 2>&1 || continue
		changed+=("$id")
	done
	echo "$nsim 1 1" > /sys/bus/netdevsim/new_device
	hp_cleanup_add "nsim $nsim" "echo $nsim > /sys/bus/netdevsim/del_device"
	hp_until $((SECONDS + 10)) test -d "/sys/bus/netdevsim/devices/netdevsim$nsim/net"
	dev=$(ls "/sys/bus/netdevsim/devices/netdevsim$nsim/net" 2>/dev/null)
	cid=$("$HUGEPOOL" bind "${dev:-none}" 0 cap 64 2>/dev/null)
	hp_until $((SECONDS + 30)) grep -q "^add binding ${cid:-none} " "$out" ||
		{ hp_log "the monitor did not hear binding ${cid:-none} of ${dev:-no device}"; rc=1; }
	kill "$mon"
	wait "$mon" 2>/dev/null
	hp_cleanup_drop monitor
	[[ -z $cid ]] || "$HUGEPOOL" unbind "$cid" > /dev/null
	echo "$nsim" > /sys/bus/netdevsim/del_device
	hp_cleanup_drop "nsim $nsim"
	heard=$(grep -v " binding ${cid:-none} " "$out" | tr '\n' ';')
	hp_log "orphaned bindings changed by root: ${changed[*]:-none}; heard by nobody besides" \
		"binding ${cid:-none}: ${heard:-nothing}"
	for id in "${changed[@]}"; do
		! grep -q " binding $id " "$out" || rc=1
	done
	((${#changed[@]} > 0 && rc == 0))
}

# The receiver listens, then is flooded with QUEUES streams until data
# arrives; sets SERVER and CLIENT. The server runs iperf3 itself (ip netns
# exec execs it).
flood() {
	local name=$1 log=$HP_TMP/server.log
	ip netns exec "$HP_NSB" iperf3 -s -1 -B 10.96.0.2 -p $PORT -i 0.5 --forceflush \
		> "$log" 2>&1 &
	SERVER=$!
	hp_cleanup_add "server $name" "kill -9 $SERVER"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$SERVER" $PORT ||
		hp_log "$name: the receiver does not listen"
	ip netns exec "$HP_NSA" iperf3 -c 10.96.0.2 -p $PORT -t 60 -P $QUEUES >/dev/null 2>&1 &
	CLIENT=$!
	hp_cleanup_add "client $name" "kill -9 $CLIENT"
	hp_until $((SECONDS + 30)) hp_iperf_flowing "$log" ||
		hp_log "$name: no data reached the receiver"
}

# The receiver's sockets start with 1 MiB of receive buffer each: what a
# frozen receiver's sockets hold stays in the skbs veth made, page pool
# pages, rather than being collapsed into copies once a small buffer is
# full
receiver_buffers() {
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 1048576 4194304"
}

# One run: flood, freeze the receiver, delete the device, kill the
# receiver. Five results; the bindings of vb in IDS.
crash() {
	local name=$1 file=$2 ids
	hp_veth_pair 10.96.0 $QUEUES xdp || hp_fail_all "no veth pair"
	receiver_buffers
	flood "$name"
	kill -STOP "$SERVER"		# the application hangs: its sockets fill
	hp_until $((SECONDS + 30)) hp_tcp_holding "$SERVER" $PORT $HOLD
	hp_expect "$name: the frozen receiver's sockets hold data (KiB)" \
		$((HP_TCP_RXQ >> 10)) -ge $((HOLD >> 10))
	mapfile -t ids < <(bindings_of "$file" vb)
	hp_log "$name: bindings of vb: ${ids[*]}; pages in flight: $(inflight "$file" "${ids[@]}")"

	MARK=$(hp_pp_trace_mark) PP_NOW=none MP_NOW=none
	hp_check "$name: device deleted under the frozen receiver" \
		ip -n "$HP_NSB" link del vb
	# read while the bindings live: the sockets keep them
	hp_until $((SECONDS + 20)) in_sync "$file" "${ids[@]}"
	hp_log "$name: pages in flight: page_pool $PP_NOW, the provider's bindings $MP_NOW" \
		"(of ${ids[*]}, those left: $(bindings_of "$file" - | tr '\n' ' '))"
	hp_expect "$name: page_pool: pages still in the sockets after the device went" \
		"$PP_NOW" -gt 0
	hp_expect "$name: the provider counts in flight what page_pool counts" \
		"$MP_NOW" -eq "$PP_NOW" || hp_dump "$file"
	hp_check "$name: the orphaned bindings: listed to CAP_NET_ADMIN, not to a user without it" \
		orphans_listed "${ids[@]}"
	hp_check "$name: a change to an orphaned binding: announced to no listener" \
		orphans_unannounced "${ids[@]}"

	kill -KILL "$SERVER"		# the application crashes
	kill -KILL "$CLIENT"
	wait "$SERVER" "$CLIENT" 2>/dev/null
	hp_cleanup_drop "server $name"
	hp_cleanup_drop "client $name"
	hp_veth_del gone
	hp_check "$name: page_pool: every page of vb's pools home once the sockets are reaped" \
		hp_until $((SECONDS + 30)) hp_pp_all_home "$MARK" ||
		hp_log "pools, at destroy, in flight: $(hp_pp_released "$MARK")"
}

main() {
	hp_require_root
	hp_plan 17
	hp_kmemleak_clear
	hp_pp_trace_start || hp_fail_all "no tracefs instance for page_pool_release"

	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=2
	crash "mp-huge" "$HP_DEBUGFS/bindings"
	hp_check "mp-huge: every huge page back" hp_until $((SECONDS + 30)) hp_no_blocks ||
		hp_bindings | hp_dump -

	hp_sysctl_default net.core.mp_default=cap
	crash "mp-cap" "$HP_CAP_DEBUGFS/bindings"
	hp_check "mp-cap: every page released" \
		hp_until $((SECONDS + 30)) grep -q '^total pages-held=0$' "$HP_CAP_DEBUGFS/bindings" ||
		hp_dump "$HP_CAP_DEBUGFS/bindings"

	hp_check "kmemleak: nothing new" hp_kmemleak_none
	hp_done
}

main "$@"
