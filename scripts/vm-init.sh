#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test VM (scripts/vm.sh): the host's root is mounted read-only
# over 9p; make the writable places (keeping the checkout, build tree and
# modules visible wherever they are), run the command the host left in the
# output share, record its exit status there, and power off.
# The kernel passes hp_out, hp_top, hp_build, hp_ksrc and hp_modroot from
# its command line (scripts/vm.sh) in the environment.

# shellcheck disable=SC2154	# hp_* come from the kernel command line
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8

# Made writable with a tmpfs each.
WRITABLE=(/tmp /run /var/tmp /var/log /var/lib /root /home /mnt /srv)
# Host paths kept visible over those tmpfs mounts (see hold).
HELD=()

setup() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev 2>/dev/null
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	ln -sf /proc/self/fd /dev/fd
	hold "$hp_top" "$hp_build" "$hp_ksrc" "$hp_modroot"
	local d
	for d in "${WRITABLE[@]}"; do
		mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	unhold
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t bpf bpffs /sys/fs/bpf 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	# after the tmpfs mounts: a mount point under one of them is made
	# in the tmpfs (one in a held checkout exists already)
	mkdir -p "$hp_out"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "$hp_out" ||
		echo "hugepool-vm: cannot mount the output share on $hp_out"
	modules
	export HP_TOP=$hp_top HP_BUILD=$hp_build HP_KSRC=$hp_ksrc
	hostname hugepool-vm
	ip link set lo up
	sysctl -qw kernel.panic_on_warn=0 kernel.printk="7 4 1 7" 2>/dev/null
}

# under PATH DIR: PATH is DIR or below it
under() { [[ $1 == "$2" || $1 == "$2"/* ]]; }

# hidden PATH: a tmpfs mount of setup would hide PATH
hidden() {
	local d
	for d in "${WRITABLE[@]}"; do
		under "$1" "$d" && return 0
	done
	return 1
}

# hold PATH...: a checkout, build tree or module root that lives where a
# tmpfs goes (a clone in /tmp or /root) is bind-mounted to a holding place
# under /dev, outermost first and none inside another, so that unhold can
# put it back at its path once the tmpfs is mounted.
hold() {
	local p q
	mkdir -p /dev/hp_hold
	while IFS= read -r p; do
		[[ -n $p && -d $p ]] || continue
		hidden "$p" || continue
		for q in "${HELD[@]}"; do
			under "$p" "$q" && continue 2
		done
		mkdir -p "/dev/hp_hold/${#HELD[@]}"
		if mount --bind "$p" "/dev/hp_hold/${#HELD[@]}"; then
			HELD+=("$p")
		else
			echo "hugepool-vm: cannot hold $p"
		fi
	done < <(printf '%s\n' "$@" | awk '{ print length($0) "\t" $0 }' | sort -n | cut -f2-)
}

unhold() {
	local i
	for i in "${!HELD[@]}"; do
		if ! mkdir -p "${HELD[$i]}" ||
		   ! mount --move "/dev/hp_hold/$i" "${HELD[$i]}"; then
			echo "hugepool-vm: cannot put ${HELD[$i]} back"
		fi
	done
}

# The guest kernel's modules live in <x86 build>/modroot (hp_modroot), not
# in the host's read-only /lib/modules: modprobe, and the kernel's module
# autoload, are pointed there by a wrapper.
modules() {
	[[ -d $hp_modroot/lib/modules/$(uname -r) ]] || return 0
	echo "$hp_top/scripts/vm-modprobe.sh" > /proc/sys/kernel/modprobe
	export HP_MODROOT=$hp_modroot
}

# pools_in_flight: how many page pools are destroyed but still wait for
# pages (page-pool-get lists them with a detach-time until the last page
# is home); fails if netlink cannot tell. build/tools/hugepool (YNL C)
# where make built it: YNL's cli.py costs the debug guest ~20 s a call.
pools_in_flight() {
	local out
	if [[ -x $hp_build/tools/hugepool ]]; then
		out=$("$hp_build/tools/hugepool" pools 2>/dev/null) || return 1
		awk 'NR > 1 && $NF == "detached" { n++ } END { print n + 0 }' <<< "$out"
		return
	fi
	/usr/bin/python3 "$hp_ksrc/tools/net/ynl/cli.py" --no-schema --output-json \
		--spec "$hp_ksrc/Documentation/netlink/specs/netdev.yaml" \
		--dump page-pool-get 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys
print(sum(1 for p in json.load(sys.stdin) if "detach-time" in p))'
}

# What the last test left must show in this log before it ends: a page pool
# still waiting for pages warns after 60 s ("stalled pool shutdown"), a
# netdev reference held warns after 10 s ("unregister_netdevice: waiting"),
# and kmemleak reports only when asked (no automatic scan). So wait until
# no pool is in flight, for at most 70 s, and at least 12 s after the
# command; then have kmemleak scan once (it reports objects unreferenced
# and older than 5 s: the floor makes every object of the command old
# enough) and print what it found.
closing() {
	local end=$((SECONDS + 70)) floor=$((SECONDS + 12)) n
	while n=$(pools_in_flight) && [[ $n != 0 ]] && ((SECONDS < end)); do
		sleep 2
	done
	echo "hugepool-vm: page pools in flight at the end: ${n:-unknown}"
	while ((SECONDS < floor)); do sleep 1; done
	if [[ -w /sys/kernel/debug/kmemleak ]]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo "hugepool-vm: kmemleak scanned"
		cat /sys/kernel/debug/kmemleak
	fi
}

finish() {
	echo "$1" > "$hp_out/rc"
	sync
	echo o > /proc/sysrq-trigger
	sleep 10
}

setup
cd "$hp_top" || finish 1
rc=0
bash "$hp_out/cmd.sh" || rc=$?
echo "hugepool-vm: command exited with $rc"
closing
finish "$rc"
