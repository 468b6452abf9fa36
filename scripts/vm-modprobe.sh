#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# modprobe for the test VM: the guest kernel's modules are in the x86
# build's modroot (the host's /lib/modules is read-only and the host's),
# wherever X86_OUT put it: HP_MODROOT (scripts/vm-init.sh exports it), or
# hp_modroot= on the kernel command line, which is all the kernel's module
# autoload (/proc/sys/kernel/modprobe) runs it with.
root=${HP_MODROOT:-}
if [ -z "$root" ]; then
	# shellcheck disable=SC2013	# the command line's words
	for arg in $(cat /proc/cmdline); do
		case $arg in
		hp_modroot=*) root=${arg#hp_modroot=} ;;
		esac
	done
fi
exec /sbin/modprobe -d "${root:-$(dirname "$0")/../build/x86/modroot}" "$@"
