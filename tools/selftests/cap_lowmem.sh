#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The low-memory guest (make check boots it with 256 MiB): a veth pair with
# four rx queues and a native XDP program on the receiver, a bounded TCP
# flood, and a receiver that stops reading for a while, so that its sockets
# hold pages: without the cap, until they hold twice what the cap would
# let them; with it, as long as that took and until the cap stopped the
# bindings (cap hits). Run once with the page allocator and once with the
# memory-cap provider: with the cap, what each of the receiver's bindings
# ever held (pages-peak in debugfs: the provider counts every page out,
# wherever it is) stays at or under its cap, the guest stays up and
# traffic still flows; the footprint of the receiver's pools (inflight-mem
# over netlink, sampled) is smaller than without the cap. Both footprints
# are printed.
#
# usage: cap_lowmem.sh [cap pages per queue]   (root, hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nic_lib.sh"

QUEUES=4
CAP=${1:-64}
SECS=${HP_TRAFFIC_SECS:-14}
PORT=5201
CAP_BINDINGS=$HP_CAP_DEBUGFS/bindings

# The receiver's sockets hold twice what the cap run's bindings may
# (QUEUES x CAP pages): their receive memory (ss's skmem r, truesize)
sockets_over_cap() {
	local r
	r=$(ip netns exec "$HP_NSB" ss -Htm state established '( sport = :5201 )' |
		grep -o 'skmem:(r[0-9]*' | tr -dc '0-9\n' | awk '{ s += $1 } END { print s + 0 }')
	((${r:-0} > 2 * QUEUES * CAP * 4096))
}

# The cap run's receiver stays stopped as long as the run without the cap
# needed to hold twice the cap's worth (NOCAP_STALLED s: the same pressure
# on the footprints compared), and until the cap stopped vb's bindings
# (cap hits counted). flood's $stopped: when the receiver stopped.
cap_stall() {
	((SECONDS - stopped >= NOCAP_STALLED)) &&
		(($(hp_binding_sum_file "$CAP_BINDINGS" vb cap-hits) > 0))
}

# One run NAME STALL_UNTIL: flood, the receiver stops reading once data
# arrives and stays stopped until the command STALL_UNTIL
# succeeds, at most until 4 s before the sender stops (how much the
# stopped sockets come to hold, and how fast, depends on the guest's
# speed); then it resumes. Sets BYTES, PEAK and STALLED (seconds stopped).
flood() {
	local sampler server sampling client start stopped met=true log=$HP_TMP/server.log
	sampler=$HP_TMP/sample.out
	ip netns exec "$HP_NSB" iperf3 -s -1 -B 10.97.0.2 -p $PORT -i 0.5 --forceflush \
		> "$log" 2>&1 &
	server=$!
	hp_cleanup_add server "kill -9 $server"
	hp_until $((SECONDS + 30)) hp_tcp_listening "$server" $PORT ||
		hp_log "$1: the receiver does not listen"
	ip netns exec "$HP_NSB" "$(dirname "$0")/pp_sample.py" vb $((SECS + 2)) > "$sampler" &
	sampling=$!
	ip netns exec "$HP_NSA" iperf3 -c 10.97.0.2 -p $PORT -t "$SECS" -P $QUEUES \
		-J > "$HP_TMP/flood.json" &
	client=$!
	hp_cleanup_add client "kill -9 $client"
	start=$SECONDS
	hp_until $((SECONDS + 10)) hp_iperf_flowing "$log" ||
		hp_log "$1: no data reached the receiver"
	kill -STOP $server		# the receiver stops reading
	stopped=$SECONDS
	hp_until $((start + SECS - 4)) "$2" || met='still false'
	STALLED=$((SECONDS - stopped))
	hp_log "$1: receiver stopped for $STALLED s, until $2: $met"
	kill -CONT $server
	wait $client
	wait $sampling
	wait $server 2>/dev/null
	hp_cleanup_drop server
	hp_cleanup_drop client
	BYTES=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$HP_TMP/flood.json" 2>/dev/null || echo 0)
	PEAK=$(cat "$sampler")
	hp_log "$1: $((BYTES / 1024)) KiB received; $PEAK"
}

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<< "$2"; }

# The receiver's sockets start with 1 MiB of receive buffer each: what
# they hold while the receiver stops must not depend on how far TCP's
# autotuning grew them, which it does only while the guest is fast (a
# loaded run held 256 pages in all, the cap's worth, and the footprints
# compared equal)
receiver_buffers() {
	ip netns exec "$HP_NSB" sysctl -qw net.ipv4.tcp_rmem="4096 1048576 4194304"
}

# bindings of vb with cap CAP
capped() { grep ' dev=vb ' "$CAP_BINDINGS" | grep -c " cap=$CAP " || true; }

# Every binding of vb held at most its own cap at any time: the provider
# counts every page it handed out and has not had back, wherever it is,
# and keeps the peak.
peak_within_cap() {
	awk '/ dev=vb / {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		b++
		if (v["pages-peak"] + 0 > v["cap"] + 0) { n++; print "# over: " $0 }
	} END { exit !b || n > 0 }' "$CAP_BINDINGS"
}

main() {
	local nocap_mem cap_mem
	hp_require_root
	hp_plan 9
	hp_log "guest memory: $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB, $(nproc) CPUs; cap $CAP pages per queue"
	hp_sysctl_default net.core.mp_default=none net.core.mp_cap_pages="$CAP"

	hp_veth_pair 10.97.0 $QUEUES xdp || hp_fail_all "no veth pair"
	receiver_buffers
	# without the cap, until the sockets hold more than the cap would let
	# them (under load a fixed stall held less than the cap's worth)
	SECS=$((SECS + 10)) flood "page allocator" sockets_over_cap
	NOCAP_STALLED=$STALLED
	nocap_mem=$(field peak-inflight-mem "$PEAK")
	hp_expect "traffic without the cap" "$BYTES" -gt 0
	hp_veth_del

	hp_sysctl_default net.core.mp_default=cap
	hp_veth_pair 10.97.0 $QUEUES xdp || hp_fail_all "no veth pair"
	receiver_buffers
	hp_expect "a cap binding per receiver queue" \
		"$(grep -c ' dev=vb ' "$CAP_BINDINGS")" -eq $QUEUES
	hp_expect "every binding of vb capped at $CAP pages" "$(capped)" -eq $QUEUES
	flood "memory-cap provider" cap_stall
	cap_mem=$(field peak-inflight-mem "$PEAK")
	hp_expect "traffic still flows under the cap" "$BYTES" -gt 0
	grep ' dev=vb ' "$CAP_BINDINGS" | hp_dump -
	hp_check "every binding's pages-peak within its cap" peak_within_cap
	hp_expect "the bindings held pages (sum of pages-peak)" \
		"$(hp_binding_sum_file "$CAP_BINDINGS" vb pages-peak)" -gt 0
	hp_expect "cap hits counted" \
		"$(hp_binding_sum_file "$CAP_BINDINGS" vb cap-hits)" -gt 0
	hp_veth_del

	echo "# footprint of vb's page pools, peak while the receiver stopped reading:"
	echo "#   page allocator:       $((nocap_mem / 1024)) KiB"
	echo "#   memory-cap provider:  $((cap_mem / 1024)) KiB (cap $((QUEUES * CAP * 4)) KiB)"
	hp_expect "the cap shrinks the footprint (KiB)" $((nocap_mem / 1024)) -gt $((cap_mem / 1024))
	hp_check "guest alive, every cap binding gone" hp_until $((SECONDS + 90)) \
		grep -q 'total pages-held=0' "$CAP_BINDINGS" ||
		hp_dump "$CAP_BINDINGS"
	hp_done
}

main "$@"
