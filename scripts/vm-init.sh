#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test VM (scripts/vm.sh): the host's root is mounted read-only
# over 9p; make the writable places, run the command the host left in the
# output share, record its exit status there, and power off.
# The kernel passes hp_out=<dir> from the command line in the environment.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8

setup() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev 2>/dev/null
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	ln -sf /proc/self/fd /dev/fd
	local d
	for d in /tmp /run /var/tmp /var/log /var/lib /root /home /mnt /srv; do
		mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t bpf bpffs /sys/fs/bpf 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "$hp_out"
	modules
	hostname hugepool-vm
	ip link set lo up
	sysctl -qw kernel.panic_on_warn=0 kernel.printk="7 4 1 7" 2>/dev/null
}

# The guest kernel's modules live in build/x86/modroot, not in the host's
# read-only /lib/modules: modprobe, and the kernel's module autoload, are
# pointed there by a wrapper.
modules() {
	[[ -d $hp_modroot/lib/modules/$(uname -r) ]] || return 0
	echo "$hp_top/scripts/vm-modprobe.sh" > /proc/sys/kernel/modprobe
	export HP_MODROOT=$hp_modroot
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
finish "$rc"
