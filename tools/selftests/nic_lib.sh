# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for traffic through the two vmxnet3 NICs of a guest booted with
# scripts/vm.sh --nic vmxnet3 (QEMU joins them with a hub: a wire), for the
# selftests and tools/bench/nic_rx.sh (make bench-nic). Sourced after
# lib.sh.
#
# The NIC at the lower PCI address sends, the other receives: hp_nic_pair
# moves them into HP_NSA (as nica, NET.1) and HP_NSB (as nicb, NET.2).
# vmxnet3 fills its rx rings from a page pool (PP_FLAG_DMA_MAP) only while
# an XDP program is attached; hp_nic_xdp on attaches XDP_PASS to nicb.
# A netns that goes returns its NICs to the initial one, where they are
# found again by PCI address: their names follow them, the driver's
# unbind and bind give them new ones.
#
# Also here, for any test with a receiver (app_crash, cap_lowmem, numa_rx
# and veth_xdp source this file too): page_pool's own view of destroyed
# pools (hp_pp_*), and an iperf3 server's TCP sockets, read from /proc
# with bash builtins only (hp_tcp_*: polled, and a fork costs the debug
# guest under TCG most of a second). Every wait is bounded by wall-clock
# time.

HP_NIC_VENDOR=0x15ad	# VMware
HP_NIC_DEVICE=0x07b0	# vmxnet3
HP_NIC_DRIVER=/sys/bus/pci/drivers/vmxnet3
HP_NIC_TX=""		# PCI address of the sender, set by hp_nic_pair
HP_NIC_RX=""		# and of the receiver
HP_NIC_NET=""		# their /24

# PCI addresses of the vmxnet3 NICs, lowest first
hp_nic_bdfs() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[[ $(cat "$d/vendor") == "$HP_NIC_VENDOR" &&
		   $(cat "$d/device") == "$HP_NIC_DEVICE" ]] && basename "$d"
	done | sort
}

# hp_nic_netdev NS|- BDF: the netdev of a NIC as netns NS sees it (sysfs
# shows a netns its own devices only), empty if it has none there
hp_nic_netdev() {
	local run=()
	[[ $1 == - ]] || run=(ip netns exec "$1")
	"${run[@]}" ls "/sys/bus/pci/devices/$2/net" 2>/dev/null | head -n 1
}

hp_nic_has_netdev() { [[ -n $(hp_nic_netdev "$1" "$2") ]]; }

# hp_nic_iommu BDF: the IOMMU domain type of the NIC's group (DMA, DMA-FQ
# or identity), "none" without an IOMMU
hp_nic_iommu() {
	local g=/sys/bus/pci/devices/$1/iommu_group
	if [[ -e $g ]]; then
		cat "$g/type"
	else
		echo none
	fi
}

# hp_nic_sid BDF: the PCI source id an IOMMU (and QEMU's trace) names the
# NIC by, bus << 8 | devfn, as QEMU prints it
hp_nic_sid() {
	local bus=$((16#$(cut -d: -f2 <<< "$1"))) slot fn
	slot=$((16#$(cut -d: -f3 <<< "$1" | cut -d. -f1)))
	fn=$(cut -d. -f2 <<< "$1")
	printf '0x%x\n' $(((bus << 8) | (slot << 3) | fn))
}

hp_nic_unbind() { echo "$1" > "$HP_NIC_DRIVER/unbind"; }

# the driver binds again; the NIC gets a netdev in the initial netns
hp_nic_bind() {
	echo "$1" > "$HP_NIC_DRIVER/bind" || return 1
	hp_until $((SECONDS + 30)) hp_nic_has_netdev - "$1"
}

# hp_nic_identity BDF: the NIC's DMA bypasses the IOMMU (identity domain),
# so that what the IOMMU counts is the other NIC's. Rebinds the driver.
hp_nic_identity() {
	local g=/sys/bus/pci/devices/$1/iommu_group
	[[ -e $g ]] || return 0
	[[ $(cat "$g/type") != identity ]] || return 0
	hp_nic_unbind "$1" || return 1
	echo identity > "$g/type" || { hp_nic_bind "$1"; return 1; }
	hp_nic_bind "$1"
}

# hp_nic_carrier NS DEV: the link is up, with carrier
hp_nic_carrier() {
	[[ $(ip netns exec "$1" cat "/sys/class/net/$2/carrier" 2>/dev/null) == 1 ]]
}

# hp_nic_move BDF NS NAME ADDR: the NIC's netdev, wherever the initial
# netns has it, into NS as NAME with ADDR/24, up
hp_nic_move() {
	local bdf=$1 ns=$2 name=$3 addr=$4 dev
	hp_until $((SECONDS + 30)) hp_nic_has_netdev - "$bdf" ||
		{ hp_log "$bdf: no netdev"; return 1; }
	dev=$(hp_nic_netdev - "$bdf")
	ip link set dev "$dev" netns "$ns" || return 1
	[[ $dev == "$name" ]] || ip -n "$ns" link set dev "$dev" name "$name" || return 1
	ip -n "$ns" addr add "$addr/24" dev "$name" || return 1
	ip -n "$ns" link set dev "$name" up || return 1
	hp_until $((SECONDS + 30)) hp_nic_carrier "$ns" "$name"
}

# the sender reaches the receiver (after a link change: carrier and ARP)
hp_nic_reachable() {
	hp_until $((SECONDS + 30)) \
		ip netns exec "$HP_NSA" ping -q -c 1 -W 1 "$HP_NIC_NET.2" >/dev/null 2>&1
}

# hp_nic_pair NET: the sender in HP_NSA (nica, NET.1), the receiver in
# HP_NSB (nicb, NET.2), both up. The sender's netns gets no provider
# default: its pools never fill (no XDP) and are not measured.
hp_nic_pair() {
	local bdfs
	mapfile -t bdfs < <(hp_nic_bdfs)
	if [[ ${#bdfs[@]} -lt 2 ]]; then
		hp_log "${#bdfs[@]} vmxnet3 NICs, need 2 (scripts/vm.sh --nic vmxnet3)"
		return 1
	fi
	HP_NIC_TX=${bdfs[0]} HP_NIC_RX=${bdfs[1]} HP_NIC_NET=$1
	hp_netns_add "$HP_NSA" || return 1
	hp_netns_add "$HP_NSB" || return 1
	ip netns exec "$HP_NSA" sysctl -qw net.core.mp_default=none 2>/dev/null
	hp_nic_move "$HP_NIC_TX" "$HP_NSA" nica "$1.1" || return 1
	hp_nic_move "$HP_NIC_RX" "$HP_NSB" nicb "$1.2" || return 1
	hp_nic_reachable
}

# hp_nic_xdp on|off: XDP_PASS on the receiver, or none. vmxnet3 restarts
# the device for either (its rx queues get new page pools); on waits until
# the sender reaches it again.
hp_nic_xdp() {
	if [[ $1 == on ]]; then
		ip -n "$HP_NSB" link set dev nicb xdpdrv obj "$(hp_xdp_obj)" sec xdp || return 1
	else
		ip -n "$HP_NSB" link set dev nicb xdpdrv off || return 1
	fi
	hp_until $((SECONDS + 30)) hp_nic_carrier "$HP_NSB" nicb && hp_nic_reachable
}

# Take the pair down the way that leaves no page behind (as hp_veth_del):
# TCP settled, XDP off, the namespaces gone (the NICs back in the initial
# netns), every CPU's defer list flushed. "gone": the receiver has no
# netdev any more (unbound), there is nothing to settle or detach.
# shellcheck disable=SC2120	# callers without "gone" are the common case
hp_nic_del() {
	if [[ ${1:-} != gone ]]; then
		hp_wait_tcp_settled "$HP_NSA" "$HP_NSB"
		ip -n "$HP_NSB" link set dev nicb xdpdrv off 2>/dev/null
	fi
	hp_netns_del "$HP_NSA"
	hp_netns_del "$HP_NSB"
	hp_until $((SECONDS + 30)) hp_nic_has_netdev - "$HP_NIC_TX"
	hp_flush_defer_lists
}

# Page pools as page_pool itself sees them, whatever serves them and
# whether or not the driver names their device: page_pool_release fires
# as a pool is destroyed and at each retry while pages are in flight, with
# the count. A tracefs instance of this test records it.
HP_PP_TRACE=/sys/kernel/tracing/instances/hp-$HP_NAME-$$

hp_pp_trace_start() {
	mkdir "$HP_PP_TRACE" || return 1
	hp_cleanup_add pp_trace "rmdir $HP_PP_TRACE"
	echo 1 > "$HP_PP_TRACE/events/page_pool/page_pool_release/enable"
}

# a mark to count from: the number of page_pool_release events so far
hp_pp_trace_mark() { grep -c 'page_pool_release:' "$HP_PP_TRACE/trace" || true; }

# hp_pp_released [MARK]: for the pools destroyed after MARK, "pools
# inflight-at-destroy inflight-now" (now: the last count of each)
hp_pp_released() {
	awk -v mark="${1:-0}" '
		/page_pool_release:/ {
			n++
			match($0, /page_pool=[0-9a-fx]+/); p = substr($0, RSTART, RLENGTH)
			match($0, /inflight=-?[0-9]+/); f = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (n > mark && !(p in first)) { first[p] = f; order[++k] = p }
			last[p] = f
		}
		END {
			for (i = 1; i <= k; i++) { a += first[order[i]]; b += last[order[i]] }
			print k + 0, a + 0, b + 0
		}' "$HP_PP_TRACE/trace"
}

# hp_pp_all_home [MARK]: every pool destroyed after MARK has no page out
hp_pp_all_home() {
	local pools now
	read -r pools _ now <<< "$(hp_pp_released "${1:-0}")"
	[[ $pools -gt 0 && $now == 0 ]]
}

# hp_pp_retried MARK: pools were destroyed after MARK, and each has been
# counted again since (page_pool_release_retry, every second while pages
# are out) or is gone: the last count of each is no older than a second
hp_pp_retried() {
	awk -v mark="$1" '
		/page_pool_release:/ {
			if (++n <= mark)
				next
			match($0, /page_pool=[0-9a-fx]+/); p = substr($0, RSTART, RLENGTH)
			match($0, /inflight=-?[0-9]+/); f = substr($0, RSTART + 9, RLENGTH - 9) + 0
			seen[p]++
			done[p] = f == 0
		}
		END {
			for (p in seen) {
				k++
				if (seen[p] < 2 && !done[p])
					exit 1
			}
			exit k == 0
		}' "$HP_PP_TRACE/trace"
}

HP_DMA_DEBUG=/sys/kernel/debug/dma-api

# DMA-API debugging's error count (every error it reported, machine-wide)
hp_dma_errors() { cat "$HP_DMA_DEBUG/error_count"; }

# hp_dma_mappings BDF [DIR [BYTES]]: what DMA-API debugging tracks for the
# device: without DIR every entry, the driver's coherent allocations (its
# rings, which an up device keeps) included; with DIR (DMA_BIDIRECTIONAL,
# ...) the streaming mappings (dma_map_*: rx buffers) of that direction,
# and of size BYTES
hp_dma_mappings() {
	awk -v dev="$1" -v dir="${2:-}" -v len="${3:+$(printf 'L=%x' "$3")}" '
		$2 == dev && (dir == "" || ($3 != "coherent" && $0 ~ " " dir " ")) &&
		(len == "" || $0 ~ " " len " ") { n++ }
		END { print n + 0 }' "$HP_DMA_DEBUG/dump"
}

# hp_tcp_scan PID PORT: the TCP sockets of local port PORT in the netns of
# process PID (an iperf3 server), from /proc/PID/net/tcp: HP_TCP_LISTEN
# listening, HP_TCP_EST established, HP_TCP_RXQ the bytes those hold
# received and not read. Bash builtins only.
hp_tcp_scan() {
	local port f q
	printf -v port '%04X' "$2"
	HP_TCP_LISTEN=0 HP_TCP_EST=0 HP_TCP_RXQ=0
	[[ -r /proc/$1/net/tcp ]] || return 0
	while read -r -a f; do
		[[ ${f[1]#*:} == "$port" ]] || continue
		case ${f[3]} in
		0A) HP_TCP_LISTEN=$((HP_TCP_LISTEN + 1)) ;;
		01) q=${f[4]#*:}
		    HP_TCP_EST=$((HP_TCP_EST + 1)) HP_TCP_RXQ=$((HP_TCP_RXQ + 16#$q)) ;;
		esac
	done < "/proc/$1/net/tcp"
}

# hp_tcp_listening PID PORT: process PID's netns listens on PORT
hp_tcp_listening() { hp_tcp_scan "$1" "$2"; ((HP_TCP_LISTEN > 0)); }

# hp_tcp_holding PID PORT BYTES: the connections to PORT hold at least
# BYTES received and not read
hp_tcp_holding() { hp_tcp_scan "$1" "$2"; ((HP_TCP_RXQ >= $3)); }

# hp_iperf_flowing LOG: the iperf3 server writing LOG (-i with
# --forceflush) reported data received: its streams carry the test, not
# only connected (a server stopped before it started the test would hold
# nothing). Bash builtins only.
hp_iperf_flowing() {
	local line
	[[ -r $1 ]] || return 1
	while IFS= read -r line; do
		[[ $line == *" sec "*Bytes* ]] && return 0
	done < "$1"
	return 1
}
