#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Defaults are per network namespace, and all hugepage bindings together
# are bounded by net.core.mp_huge_limit_mb:
#  - with the host's default set to huge, a new namespace starts with
#    none: a veth pair of 64 rx queues a side made there, GRO on (which
#    makes veth create its page pools), pins nothing;
#  - once that namespace's own default says huge, the same pair pins no
#    more than the machine-wide limit, and the bindings past it serve
#    order-0 pages and count limit-hits; deleting the namespace gives
#    everything back;
#  - a device that moves to another namespace leaves the bindings its old
#    namespace's defaults made behind: the new namespace (default none)
#    sees none, and its pools there get none;
#  - a namespace of another user namespace sees the defaults read-only
#    (a write is refused with EACCES and changes nothing);
#  - the limit exists in the initial namespace only, takes at most the
#    machine's memory and refuses a MiB more with EINVAL.
#
# usage: netns_limit.sh            (as root on a hugepool kernel)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

NS=hpc-$HP_NAME-$$
NS2=hpd-$HP_NAME-$$
Q=64
LIMIT_MB=64		# 32 huge pages

in_ns() { ip netns exec "$NS" "$@"; }

pair_with_pools() {
	in_ns ip link add va numrxqueues $Q numtxqueues $Q type veth \
		peer vb numrxqueues $Q numtxqueues $Q || return 1
	in_ns ip link set va up && in_ns ip link set vb up &&
		in_ns ethtool -K va gro on > /dev/null && in_ns ethtool -K vb gro on > /dev/null
}

pools_of() {
	hp_ynl "$NS" --dump page-pool-get |
		/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# bindings_in_ns [NS]: bindings a namespace sees
bindings_in_ns() {
	hp_ynl "${1:-$NS}" --dump mp-binding-get |
		/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# the worker reserved what the limit lets it, and a binding wanted more:
# limit hits counted (sets BLOCKS and HITS)
limit_reached() {
	BLOCKS=$(hp_total_blocks)
	HITS=$(($(hp_binding_sum va limit-hits) + $(hp_binding_sum vb limit-hits)))
	((BLOCKS >= LIMIT_MB / 2 && HITS > 0))
}

# write PATH VALUE: write VALUE to a sysctl file in one write(); prints
# "ok" or the errno's name, then what the file reads after
WRITE_PY='
import errno, sys
try:
    with open(sys.argv[1], "w") as f:
        f.write(sys.argv[2] + "\n")
    r = "ok"
except OSError as e:
    r = errno.errorcode[e.errno]
with open(sys.argv[1]) as f:
    print(r, f.read().strip())
'
write() { /usr/bin/python3 -c "$WRITE_PY" "$@" 2>&1; }

# in a network namespace of a new user namespace (root there, with
# CAP_NET_ADMIN over its netns), the default is read-only: the write is
# refused for permission and the default stays none
userns_read_only() {
	local out
	out=$(unshare -U -r -n /usr/bin/python3 -c "$WRITE_PY" \
		/proc/sys/net/core/mp_default huge 2>&1)
	hp_log "user namespace: write of huge to mp_default: ${out:-nothing}"
	[[ $out == "EACCES none" ]]
}

# there, the defaults exist and the machine-wide limit does not
userns_no_limit() {
	local out
	out=$(unshare -U -r -n sh -c 'test -e /proc/sys/net/core/mp_default &&
		! test -e /proc/sys/net/core/mp_huge_limit_mb && echo defaults-only' 2>&1)
	hp_log "user namespace: $out"
	[[ $out == defaults-only ]]
}

# The limit takes all of the machine's memory (MemTotal: the pages the
# kernel counts, in MiB) and refuses one MiB more, keeping what it had;
# then LIMIT_MB again
limit_bounded() {
	local ram all more
	ram=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
	all=$(write /proc/sys/net/core/mp_huge_limit_mb "$ram")
	more=$(write /proc/sys/net/core/mp_huge_limit_mb $((ram + 1)))
	write /proc/sys/net/core/mp_huge_limit_mb $LIMIT_MB > /dev/null
	hp_log "limit of $ram MiB (all of it): $all; of $((ram + 1)) MiB: $more"
	[[ $all == "ok $ram" && $more == "EINVAL $ram" ]]
}

main() {
	hp_require_root
	hp_plan 15
	hp_sysctl_default net.core.mp_default=huge net.core.mp_huge_blocks=4 \
		net.core.mp_huge_max_blocks=8
	# not hp_netns_add, which hands the host's defaults down to the tests'
	# namespaces: this one must start with its own
	ip netns add "$NS" || hp_fail_all "no namespace"
	hp_cleanup_add "netns $NS" "ip netns del $NS"

	hp_check "a new namespace's default is none (the host's is huge)" \
		test "$(in_ns sysctl -n net.core.mp_default)" == none
	hp_check "a veth pair with $Q rx queues a side, GRO on" pair_with_pools
	hp_expect "its page pools exist" "$(pools_of)" -ge $((2 * Q))
	hp_expect "no binding in the namespace" "$(bindings_in_ns)" -eq 0
	hp_expect "no huge page pinned" "$(hp_total_blocks)" -eq 0

	hp_sysctl_default net.core.mp_huge_limit_mb=$LIMIT_MB
	in_ns sysctl -qw net.core.mp_default=huge net.core.mp_huge_blocks=4 \
		net.core.mp_huge_max_blocks=8 || hp_fail_all "the namespace's defaults"
	# new pools: their queues get the namespace's default
	in_ns ethtool -K va gro off > /dev/null; in_ns ethtool -K vb gro off > /dev/null
	in_ns ethtool -K va gro on > /dev/null; in_ns ethtool -K vb gro on > /dev/null
	hp_expect "its own default huge: a binding per rx queue" \
		"$(bindings_in_ns)" -eq $((2 * Q))
	hp_until $((SECONDS + 60)) limit_reached
	hp_log "$((2 * Q)) queues asking for 4 huge pages each: $BLOCKS held, limit $((LIMIT_MB / 2)), $HITS limit hits"
	hp_expect "no more huge pages than the limit" "$BLOCKS" -le $((LIMIT_MB / 2))
	hp_expect "the bindings past it counted limit hits" "$HITS" -gt 0

	# vb's pools go (GRO off), then vb moves to a namespace of its own
	ip netns add "$NS2" || hp_fail_all "no second namespace"
	hp_cleanup_add "netns $NS2" "ip netns del $NS2"
	in_ns ethtool -K vb gro off > /dev/null
	in_ns ip link set vb netns "$NS2" || hp_fail_all "vb did not move"
	hp_expect "moved: the namespace that made vb's bindings keeps va's only" \
		"$(bindings_in_ns)" -eq $Q
	hp_expect "moved: the new namespace (default none) sees no binding" \
		"$(bindings_in_ns "$NS2")" -eq 0
	ip -n "$NS2" link set vb up
	ip netns exec "$NS2" ethtool -K vb gro on > /dev/null
	hp_expect "moved: vb's new pools got no binding there" \
		"$(bindings_in_ns "$NS2")" -eq 0
	ip netns del "$NS2"
	hp_cleanup_drop "netns $NS2"

	hp_check "a namespace of another user namespace: defaults read-only (EACCES)" \
		userns_read_only
	hp_check "... and no machine-wide limit there" userns_no_limit
	hp_check "the limit takes the machine's memory, and refuses a MiB more (EINVAL)" \
		limit_bounded

	ip netns del "$NS"
	hp_cleanup_drop "netns $NS"
	hp_flush_defer_lists
	hp_check "deleting the namespace gives every huge page back" \
		hp_until $((SECONDS + 60)) hp_no_blocks
	hp_done
}

main "$@"
